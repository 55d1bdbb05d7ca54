#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# Independent reference of xlvs_flow_hash_mix64() and xlvs_hash_range() (include/xlvs/hash.h),
# transcribed from their definitions, for tests/unit/test_golden.c: prints each golden flow's
# hash, GUE source port and slots in rings of 65537 and 251. Words are loaded as a
# little-endian host loads network-order memory.
import ipaddress
M=(1<<64)-1
def words(addr, fam):
    b = ipaddress.ip_address(addr).packed
    b = b + bytes(16-len(b))
    return [int.from_bytes(b[4*i:4*i+4],'little') for i in range(4)]  # __be32 loaded on LE host
def be16(v): return int.from_bytes(v.to_bytes(2,'big'),'little')
def mix64(fam, proto, src, dst, sport, dport):
    famv = fam  # XLVS_AF_INET 4, XLVS_AF_INET6 6 (abi.h)
    s=words(src,fam); d=words(dst,fam)
    ports = (((famv<<8)|proto)<<32) | (be16(sport)<<16) | be16(dport)
    pair=lambda i: ((s[i]<<32)|d[i]) & M
    x = pair(0) ^ ((ports*0xd6e8feb86659fd93)&M) ^ 0x9e3779b97f4a7c15
    if fam==6:
        x ^= ((pair(1)*0xa0761d6478bd642f)&M) ^ ((pair(2)*0xe7037ed1a0b428db)&M) ^ ((pair(3)*0x8ebc6af09c88c6e3)&M)
    x = ((x ^ (x>>30)) * 0xbf58476d1ce4e5b9) & M
    x = ((x ^ (x>>27)) * 0x94d049bb133111eb) & M
    return x>>32
def rng(h,n): return (h*n)>>32
def gue(h): return 0xc000 | (h & 0x3fff)
flows=[(4,6,"198.18.0.1","198.18.0.10",40000,80),(4,17,"198.18.5.7","198.18.0.12",1234,53),
(4,6,"198.19.255.254","198.18.0.11",65535,0),(4,0,"0.0.0.0","0.0.0.0",0,0),
(6,6,"2001:db8::1","2001:db8::12",40000,80),(6,58,"2001:db8:ffff::5","2001:db8::10",77,0),
(4,6,"198.18.100.7","198.18.0.12",40000,80),(6,6,"2001:db8:100::7","2001:db8::12",40000,80)]
for f in flows:
    h=mix64(*f)
    print(f, "0x%08xu"%h, gue(h), rng(h,65537), rng(h,251))
