#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""UDP streams a silent client through the director (tests/e2e/nat.sh, s_nat_stream*).

udp-stream.py serve NAME ADDRESS PORT
    Answer every datagram with "NAME PEER-ADDRESS PEER-PORT" (the client as this real saw it: the
    client's own, or a FULLNAT pool address and port). "stream S" also starts a stream of that
    line to the sender, one datagram every 0.1 s for S seconds.
udp-stream.py ask ADDRESS PORT SECONDS
    From one port: "stream SECONDS", silence while the stream comes in, "again" once it has ended.
    Prints "first: ANSWER", "streamed: N" and "again: ANSWER" (an answer of "-" when none came).
"""
import socket
import sys
import threading
import time

INTERVAL = 0.1


def serve(name, addr, port):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((addr, int(port)))

    def stream(peer, line, secs):
        end = time.monotonic() + secs
        while time.monotonic() < end:
            time.sleep(INTERVAL)
            s.sendto(line, peer)

    while True:
        data, peer = s.recvfrom(2048)
        line = ("%s %s %d\n" % (name, peer[0], peer[1])).encode()
        s.sendto(line, peer)
        words = data.split()
        if len(words) == 2 and words[0] == b"stream":
            threading.Thread(target=stream, args=(peer, line, float(words[1])), daemon=True).start()


def answer(s):
    try:
        return s.recv(2048).decode().strip()
    except (socket.timeout, ConnectionRefusedError):
        return "-"


def ask(addr, port, secs):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.connect((addr, int(port)))
    s.settimeout(2)
    s.send(b"stream %s\n" % secs.encode())
    print("first:", answer(s))
    n, end = 0, time.monotonic() + float(secs) + 0.5
    s.settimeout(0.2)
    while time.monotonic() < end:
        n += answer(s) != "-"
    print("streamed:", n)
    s.settimeout(2)
    s.send(b"again\n")
    print("again:", answer(s))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "serve":
        serve(*sys.argv[2:])
    elif len(sys.argv) == 5 and sys.argv[1] == "ask":
        ask(*sys.argv[2:])
    else:
        sys.exit(__doc__)
