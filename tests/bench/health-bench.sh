#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Health-check bench: xlvsd with 1,000 TCP checks at a 1 s interval against
# local listeners, all inside a private network namespace; prints xlvsd's
# CPU use (user + system, % of one core) over a measured window, and the
# checks it ran in that window. Needs root. Not a test: it reports.
#   tests/bench/health-bench.sh [REALS] [SECONDS]     (also run by make bench)
set -eu
# shellcheck source=../pin-dirs.sh
. "$(dirname "$0")/../pin-dirs.sh"
BUILD=${BUILD:-build}
REALS=${1:-1000}
SECS=${2:-20}
NS=xlvs-hcbench-$$
PIN=/sys/fs/bpf/xlvs-hcbench-$$
DIR=$(mktemp -d /tmp/xlvs-hcbench.XXXXXX)
SOCK=$DIR/xlvsd.sock
XLVSD=$(readlink -f "$BUILD/xlvsd")
[ "$(id -u)" = 0 ] || { echo "health-bench: needs root" >&2; exit 1; }
[ -x "$XLVSD" ] || { echo "health-bench: $XLVSD missing (make all)" >&2; exit 1; }

cleanup() {
	[ -n "${DPID:-}" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	[ -n "${LPID:-}" ] && kill "$LPID" 2>/dev/null
	nsenter --net=/run/netns/$NS "$XLVSD" --detach --pin-dir $PIN >/dev/null 2>&1 || true
	ip netns del $NS 2>/dev/null || true
	rm -rf "$DIR" "$PIN"
}
trap cleanup EXIT
pin_dirs_clean health-bench '^xlvs-hcbench-([1-9][0-9]*)$' # what killed runs left

ip netns add $NS
ip -n $NS link set lo up
ip -n $NS link add hb0 type veth peer name hb1
ip -n $NS link set hb0 up
ip -n $NS link set hb1 up
ip -n $NS addr add 198.18.15.1/24 dev hb0
# every address of 198.18.16.0/20 is local: one listener answers for all reals
ip -n $NS route add local 198.18.16.0/20 dev lo

# the listener: accept and close, as fast as it can
nsenter --net=/run/netns/$NS python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 80)); s.listen(4096)
while True:
    c, _ = s.accept(); c.close()
' &
LPID=$!

PER_SVC=100
NSVC=$(( (REALS + PER_SVC - 1) / PER_SVC ))
{
	echo "interface: hb0"
	echo "metrics: off"
	echo "services:"
	n=0
	for s in $(seq 0 $((NSVC - 1))); do
		echo "  - vip: 198.18.14.$((s + 1))"
		echo "    port: 80"
		echo "    protocol: tcp"
		echo "    check: { type: tcp, interval: 1s, timeout: 500ms, rise: 2, fall: 3 }"
		echo "    reals:"
		for r in $(seq 0 $((PER_SVC - 1))); do
			[ $n -lt "$REALS" ] || break
			echo "      - address: 198.18.$((16 + n / 250)).$((n % 250 + 1))"
			n=$((n + 1))
		done
	done
} > "$DIR/xlvs.yaml"

nsenter --net=/run/netns/$NS "$XLVSD" -c "$DIR/xlvs.yaml" --pin-dir $PIN --socket "$SOCK" \
	> "$DIR/xlvsd.log" 2>&1 &
DPID=$!

checks() {
	echo '{"cmd":"health"}' | socat -t 5 - UNIX-CONNECT:"$SOCK" | python3 -c '
import json, sys
r = json.load(sys.stdin)
reals = [x for s in r["services"] for x in s["reals"]]
print(sum(x["health"].get("checks", 0) for x in reals),
      sum(x["health"]["state"] == "up" for x in reals), len(reals))'
}
cpu() { awk '{ print $14 + $15 }' /proc/$DPID/stat; }
ucpu() { awk '{ print $14 }' /proc/$DPID/stat; }

sleep 5	# start-up, first (jittered) round of checks
read -r c0 up0 n0 < <(checks)
t0=$(cpu); u0=$(ucpu); s0=$(date +%s.%N)
sleep "$SECS"
t1=$(cpu); u1=$(ucpu); s1=$(date +%s.%N)
read -r c1 up1 n1 < <(checks)
hz=$(getconf CLK_TCK)
python3 - "$t0" "$t1" "$s0" "$s1" "$hz" "$c0" "$c1" "$up1" "$n1" "$u0" "$u1" <<'PY'
import sys
t0, t1, s0, s1, hz, c0, c1, up, n, u0, u1 = sys.argv[1:]
dt = float(s1) - float(s0)
cpu = (int(t1) - int(t0)) / int(hz) / dt * 100
rate = (int(c1) - int(c0)) / dt
print(f"health-bench: {n} reals checked by tcp every 1 s: {rate:.0f} checks/s, {up}/{n} up, "
      f"xlvsd CPU {cpu:.1f}% of one core over {dt:.0f} s (target < 10%; "
      f"user {(int(u1) - int(u0)) / int(hz) / dt * 100:.1f}%, the rest in the kernel)")
PY
grep -E "error|warn" "$DIR/xlvsd.log" | head -5 || true
