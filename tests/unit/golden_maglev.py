#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
Independent reference for the golden Maglev rows of tests/unit/test_golden.c.

Written from the definitions, not from maps/maglev.c's code:
  - Maglev (Eisenbud et al., NSDI'16, section 3.4, "Pseudocode 1"): backend i
    has offset_i and skip_i (1 <= skip < M, M prime); its permutation is
    (offset + j * skip) mod M; on each of its turns it claims the first slot of
    its permutation not yet taken, from where its previous claim stopped.
  - xlvs's permutation inputs (maps/maglev.h, maps/plan.c real_key()): the key
    is 19 bytes, family, the address in 16 bytes (IPv4 in the first 4), the
    service port in network order; offset = H(key, seed_offset) mod M,
    skip = H(key, seed_skip) mod (M - 1) + 1, H packing the bytes little-endian
    into 64-bit words, each folded with splitmix64's finalizer over a state
    that starts at mix(seed + len) (seeds "lvs offs" / "lvs skip").
  - xlvs's weights (the comment at the top of maps/maglev.c): backends of equal
    weight form a class whose members take their turns back to back in key
    order; turn k of a class of weight w is in round floor((2k+1)*wmax/(2w));
    classes due in the same round play in the order of their previous turns,
    those that have not played yet first, heaviest first.
Prints the C rows. Run: python3 tests/unit/golden_maglev.py
"""
import ipaddress

M64 = (1 << 64) - 1
SEED_OFFSET = int.from_bytes(b"lvs offs", "big")  # 0x6c7673206f666673
SEED_SKIP = int.from_bytes(b"lvs skip", "big")    # 0x6c767320736b6970


def mix(x):
    x &= M64
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & M64
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def H(key, seed):
    h = mix(seed + len(key))
    for i in range(0, len(key), 8):
        h = mix(h ^ int.from_bytes(key[i:i + 8], "little"))
    return h


def real_key(addr, port):
    a = ipaddress.ip_address(addr)
    fam = 4 if a.version == 4 else 6
    return bytes([fam]) + a.packed.ljust(16, b"\0") + port.to_bytes(2, "big")


def build(m, reals, port):
    """reals: list of (real_id, address, weight). Returns the ring."""
    nodes = []
    for rid, addr, w in reals:
        if w == 0:
            continue
        k = real_key(addr, port)
        nodes.append(dict(id=rid, key=k, w=w, pos=H(k, SEED_OFFSET) % m,
                          skip=H(k, SEED_SKIP) % (m - 1) + 1))
    wmax = max(n["w"] for n in nodes)
    classes = []
    for w in sorted({n["w"] for n in nodes}, reverse=True):
        members = sorted((n for n in nodes if n["w"] == w), key=lambda n: n["key"])
        classes.append(dict(w=w, members=members, k=0, last=-1000 + len(classes)))
    ring = [None] * m
    left, clock, rnd = m, 0, 0
    while left:
        due = [c for c in classes if (2 * c["k"] + 1) * wmax // (2 * c["w"]) == rnd]
        for c in sorted(due, key=lambda c: c["last"]):
            for n in c["members"]:
                if not left:
                    break
                p = n["pos"]
                while ring[p] is not None:
                    p = (p + n["skip"]) % m
                ring[p] = n["id"]
                n["pos"] = (p + n["skip"]) % m
                left -= 1
            c["k"] += 1
            c["last"] = clock
            clock += 1
            if not left:
                break
        rnd += 1
    return ring


def show(name, ring):
    print(f"/* {name} */")
    print("{ " + ", ".join(str(x) for x in ring) + " }")


if __name__ == "__main__":
    M, PORT = 31, 80
    reals = [(10, "198.18.1.11", 3), (11, "198.18.1.12", 2), (12, "198.18.1.13", 1)]
    full = build(M, reals, PORT)
    show("3 reals, weights 3/2/1", full)
    print("shares", {r[0]: full.count(r[0]) for r in reals})
    less = build(M, reals[:1] + reals[2:], PORT)
    show("real 11 removed", less)
    print("changed", [i for i in range(M) if full[i] != less[i]])
    print("11's slots", [i for i in range(M) if full[i] == 11])
    for rid, addr, w in reals:
        k = real_key(addr, PORT)
        print(rid, "offset", H(k, SEED_OFFSET) % M, "skip", H(k, SEED_SKIP) % (M - 1) + 1)
