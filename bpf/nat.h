/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VS-NAT and FULLNAT (abi.h XLVS_FWD_NAT, XLVS_FWD_FULLNAT): the tables and
 * the rewrite; forward.h sends the result.
 *   forward  client:cport -> VIP:vport becomes client:cport -> real:rport
 *            (nat) or pool:pport -> real:rport (fullnat), as IPVS's
 *            ip_vs_nat_xmit() does for nat.
 *   reply    real:rport -> client:cport (pool:pport) becomes VIP:vport ->
 *            client:cport, as IPVS's handle_response(): found in xlvs_nat
 *            under the reply's own flow key, written with the forward entry.
 *   errors   an ICMP error about either direction is translated as its
 *            direction's packets are, outer and quoted headers alike (IPVS's
 *            ip_vs_nat_icmp()), so PMTU discovery and port unreachable work
 *            through NAT: see nat_rewrite_icmp().
 * A new flow's forward entry (xlvs_conns) is always inserted, SYN guard or
 * not: its replies need the reverse entry, and a fullnat flow its source.
 * Fullnat sources are picked from the flow hash, XLVS_SNAT_TRIES (address,
 * port) pairs, each claimed by inserting its reverse entry with BPF_NOEXIST
 * (the key is real:rport <- pool:pport, so the map itself is the allocator;
 * after Cilium's bpf/lib/nat.h, which retries a bounded number of ports the
 * same way). A pair held by a connection that has ended is taken over.
 */
#ifndef XLVS_BPF_NAT_H
#define XLVS_BPF_NAT_H

#include "conntrack.h"
#include "csum.h"

/*
 * Offsets into the frame are below a page: the program takes single-buffer
 * frames only (no BPF_F_XDP_HAS_FRAGS), whose data fits in one page.
 */
#define NAT_PKT_OFF_MASK 0xfff
/* Try i of a fullnat allocation mixes this into the flow hash (2^32 / golden ratio). */
#define SNAT_TRY_MIX	0x9e3779b9u

/* What a packet's addresses and ports become. */
struct nat_tuple {
	const __be32 *src;
	const __be32 *dst;
	__be16 sport;
	__be16 dport;
};

XLVS_INLINE bool nat_proto(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

/* The port a nat real listens on: its own, or the one the client asked for (port 0: keep it). */
XLVS_INLINE __be16 nat_rport(const struct xlvs_real *r, const struct pkt *p)
{
	return r->port ? r->port : p->flow.dport;
}

/* A pool address of the packet's family, or NULL (index out of the pool, or another family). */
XLVS_INLINE const struct xlvs_vip_key *snat_addr(__u32 idx, __u8 family)
{
	struct xlvs_vip_key *a = bpf_map_lookup_elem(&xlvs_snat_pool, &idx);

	return a && a->family == family ? a : NULL;
}

/* ---- new flows ------------------------------------------------------------- */

/* The forward direction's translation: destination the real, source the pool's for fullnat. */
XLVS_INLINE int nat_fwd_tuple(const struct pkt *p, const struct target *t, struct nat_tuple *nt)
{
	const struct xlvs_real *r = t->real;
	const struct xlvs_vip_key *a;

	if (r->family != p->flow.family || !nat_proto(p->flow.proto))
		return drop(XLVS_DROP_FWD_UNSUPPORTED);
	nt->src = p->flow.src;
	nt->sport = p->flow.sport;
	nt->dst = r->addr;
	nt->dport = nat_rport(r, p);
	if (r->fwd != XLVS_FWD_FULLNAT)
		return XLVS_CONT;
	a = snat_addr(t->snat_idx, p->flow.family);
	if (!a || !t->snat_port)
		return drop(XLVS_DROP_NAT_FAIL);	/* the pool changed under the flow */
	nt->src = a->addr;
	nt->sport = t->snat_port;
	return XLVS_CONT;
}

/* A reply's key (the real's flow back to dst:dport) and what it turns into. */
XLVS_INLINE void nat_rev_init(const struct pkt *p, const struct xlvs_real *r, __u32 real_id,
			      struct xlvs_flow *key, struct xlvs_nat_rev *rev)
{
	__builtin_memset(key, 0, sizeof(*key));
	__builtin_memcpy(key->src, r->addr, sizeof(key->src));
	__builtin_memcpy(key->dst, p->flow.src, sizeof(key->dst));
	key->sport = nat_rport(r, p);
	key->dport = p->flow.sport;
	key->proto = p->flow.proto;
	key->family = p->flow.family;

	__builtin_memcpy(rev->vaddr, p->flow.dst, sizeof(rev->vaddr));
	__builtin_memcpy(rev->caddr, p->flow.src, sizeof(rev->caddr));
	rev->vport = p->flow.dport;
	rev->cport = p->flow.sport;
	rev->real_id = real_id;
	rev->real_gen = r->gen;
	rev->last_seen = bpf_jiffies64(); /* as the forward entry's: the first reply refreshes nothing */
}

/* The configured pool of a family: [first, first + count) and ports lo .. lo + span - 1. */
struct snat_range {
	__u32 first;
	__u32 count;
	__u32 lo;
	__u32 span;
};

/* False when the family has no pool. Ports unset (0) or reversed: 1024..65535. */
XLVS_INLINE bool snat_range(const struct xlvs_config *cfg, __u8 family, struct snat_range *rg)
{
	__u32 lo = cfg->snat_port_lo, hi = cfg->snat_port_hi;

	rg->first = family == XLVS_AF_INET ? cfg->snat4_first : cfg->snat6_first;
	rg->count = family == XLVS_AF_INET ? cfg->snat4_count : cfg->snat6_count;
	if (!lo || hi < lo) {
		lo = XLVS_SNAT_PORT_LO;
		hi = XLVS_SNAT_PORT_HI;
	}
	rg->lo = lo;
	rg->span = hi - lo + 1;
	return rg->count;
}

/*
 * Whether the connection a reverse entry was made for has ended: its forward
 * entry gone, expired, made for another real or generation, or given another
 * source since (scheduled afresh). Such a pool address and port may be reused.
 */
XLVS_INLINE bool snat_stale(const struct xlvs_nat_rev *old, const struct xlvs_flow *key, __u32 idx,
			    __be16 port, const struct xlvs_config *cfg)
{
	struct xlvs_flow fk;
	struct xlvs_conn *c;
	struct xlvs_real *r;

	xlvs_nat_fwd_key(key, old, &fk);
	c = bpf_map_lookup_elem(&xlvs_conns, &fk);
	if (!c || c->real_id != old->real_id || c->real_gen != old->real_gen || c->snat_idx != idx ||
	    c->snat_port != port)
		return true;
	r = conn_real_lookup(c->real_id, c->real_gen);
	return !r || conn_expired(key->proto, c, r, cfg, bpf_jiffies64());
}

/*
 * Claim one (address, port): insert the reverse entry unless a live
 * connection holds it. Two CPUs taking over the same stale entry at the same
 * moment may both succeed (no compare-and-swap on a hash value); the later
 * write keeps the replies, the other flow's client retries.
 */
XLVS_INLINE bool snat_claim(const struct xlvs_flow *key, const struct xlvs_nat_rev *rev, __u32 idx,
			    __be16 port, const struct xlvs_config *cfg)
{
	struct xlvs_nat_rev *old;

	if (!bpf_map_update_elem(&xlvs_nat, key, rev, BPF_NOEXIST))
		return true;
	old = bpf_map_lookup_elem(&xlvs_nat, key);
	if (old && !snat_stale(old, key, idx, port, cfg))
		return false;
	if (bpf_map_update_elem(&xlvs_nat, key, rev, BPF_ANY))
		return false;
	count_event(XLVS_EV_SNAT_REUSED);
	return true;
}

/*
 * Try i's pool index and port for a flow hash; false when the family has no
 * pool. The range is read again for every try: fewer values live across the
 * map calls, fewer stack slots (see xlvs_nat_new()).
 */
XLVS_INLINE bool snat_pick(const struct xlvs_config *cfg, __u8 family, __u32 hash, __u32 i, __u32 *idx,
			   __be16 *port)
{
	__u32 h = xlvs_hash_final(hash ^ i * SNAT_TRY_MIX);
	struct snat_range rg;

	if (!snat_range(cfg, family, &rg))
		return false;
	*idx = rg.first + (h >> 16) % rg.count;
	*port = bpf_htons(rg.lo + h % rg.span);
	return true;
}

/*
 * A fullnat source for a new flow of this hash, its reverse entry (key,
 * whose destination it fills, and rev) written: XLVS_CONT with *idx and
 * *port set, or a drop verdict.
 */
XLVS_INLINE int snat_alloc(__u32 hash, const struct xlvs_config *cfg, struct xlvs_flow *key,
			   const struct xlvs_nat_rev *rev, __u32 *idx, __be16 *port)
{
	const struct xlvs_vip_key *a;
	__u32 i;

	for (i = 0; i < XLVS_SNAT_TRIES; i++) {
		if (!snat_pick(cfg, key->family, hash, i, idx, port))
			return drop(XLVS_DROP_NO_SNAT_POOL);
		if (i)
			count_event(XLVS_EV_SNAT_RETRY);
		a = snat_addr(*idx, key->family);
		if (!a)
			return drop(XLVS_DROP_NO_SNAT_POOL);	/* the config names entries the pool lacks */
		__builtin_memcpy(key->dst, a->addr, sizeof(key->dst));
		key->dport = *port;
		if (snat_claim(key, rev, *idx, *port, cfg))
			return XLVS_CONT;
	}
	return drop(XLVS_DROP_SNAT_EXHAUSTED);
}

/* xlvs_nat_new()'s result for a fullnat flow: this bit, the pool index << 16, the port (host order). */
#define NAT_NEW_SNAT	(1 << 24)
#define NAT_NEW_IDX_SHIFT 16

/*
 * A new nat or fullnat flow's reverse entry and fullnat source (conn_new()
 * scheduled it to real real_id of service svc_id). A global function: the
 * verifier checks it once, and its locals (two flow keys, a reverse entry)
 * stay off the main program's stack, whose combined depth with the lblcr
 * calls is near the 512-byte limit. It gets scalars and the packet, which
 * it only reads: the verifier forgets what caller stack a global function is
 * given (pointers there become scalars), and not every kernel tracks what it
 * writes there, so the fullnat source comes back in the result.
 * Returns XLVS_CONT (nat), a verdict, or NAT_NEW_SNAT | idx << 16 | port.
 */
__attribute__((noinline)) int xlvs_nat_new(const struct pkt *p, __u32 real_id, __u32 svc_id, __u32 hash)
{
	struct xlvs_real *r = real_lookup(real_id, svc_id);
	struct xlvs_nat_rev rev;
	struct xlvs_config *cfg;
	struct xlvs_flow key;
	__u32 zero = 0, idx;
	__be16 port;
	int rc;

	cfg = bpf_map_lookup_elem(&xlvs_config, &zero);
	if (!p || !r || !cfg)
		return drop(XLVS_DROP_NAT_FAIL);
	if (r->family != p->flow.family || !nat_proto(p->flow.proto))
		return drop(XLVS_DROP_FWD_UNSUPPORTED);
	nat_rev_init(p, r, real_id, &key, &rev);
	if (r->fwd != XLVS_FWD_FULLNAT) {
		/* as conn_insert(): forwarded all the same, its replies pass untranslated */
		if (bpf_map_update_elem(&xlvs_nat, &key, &rev, BPF_ANY))
			count_event(XLVS_EV_CONN_INSERT_FAILED);
		return XLVS_CONT;
	}
	rc = snat_alloc(hash, cfg, &key, &rev, &idx, &port);
	if (rc != XLVS_CONT)
		return rc;
	return NAT_NEW_SNAT | idx << NAT_NEW_IDX_SHIFT | bpf_ntohs(port);
}

/*
 * A new nat or fullnat flow: its reverse entry and fullnat source, then its
 * forward entry, never skipped by the SYN guard (replies need the entry).
 * An ICMP error never gets here (it creates no flow). XLVS_CONT or a verdict.
 */
XLVS_INLINE int nat_new(const struct pkt *p, struct target *t, const struct xlvs_config *cfg)
{
	int rc = xlvs_nat_new(p, t->real_id, t->svc_id, t->hash);

	if (rc != XLVS_CONT && rc < NAT_NEW_SNAT)
		return rc;
	if (rc >= NAT_NEW_SNAT) {
		t->snat_idx = (rc >> NAT_NEW_IDX_SHIFT) & 0xff;
		t->snat_port = bpf_htons(rc & 0xffff);
	}
	conn_insert(p, t, cfg, false);
	return XLVS_CONT;
}

/* ---- replies --------------------------------------------------------------- */

/* Whose reply it is: the real of its xlvs_nat entry and that real's service (out counters). */
struct nat_owner {
	__u32 svc_id;
	__u32 real_id;
};

/*
 * A reply keeps its connection alive, as IPVS restarts a connection's timer
 * on packets of both directions: its forward entry's stamp moves as a client
 * packet's would (conn_advance(), the TCP state left alone), so a flow whose
 * client is silent (a server's UDP stream) keeps its real and fullnat source.
 * At most once per stamp step per flow: the reverse entry's own stamp says
 * when, so other replies pay no xlvs_conns lookup. A forward entry that is
 * gone, expired, or another connection's (real, generation, fullnat source:
 * as xlvsd's sweep judges it, maps/conns.c nat_live()) is left alone: a
 * reply never revives or makes one. ICMP errors refresh nothing: an error is
 * no sign of life.
 */
XLVS_INLINE void nat_refresh(const struct pkt *p, struct xlvs_nat_rev *rev, const struct xlvs_real *r,
			     const struct xlvs_config *cfg)
{
	__u32 now = bpf_jiffies64();
	struct xlvs_flow fk;
	struct xlvs_conn *c;

	if ((p->flags & PKT_F_ICMP_ERR) || !stamp_due(now, rev->last_seen, cfg))
		return;
	rev->last_seen = now;
	xlvs_nat_fwd_key(&p->flow, rev, &fk);
	c = bpf_map_lookup_elem(&xlvs_conns, &fk);
	if (!c || c->real_id != rev->real_id || c->real_gen != rev->real_gen ||
	    p->flow.dport != (c->snat_port ? c->snat_port : rev->cport))
		return;
	if (!conn_expired(p->flow.proto, c, r, cfg, now) && stamp_due(now, c->last_seen, cfg))
		c->last_seen = now;
}

/*
 * A packet from a nat real's address: the reply of a nat flow if xlvs_nat
 * knows its flow and the entry's real still serves (same id and generation,
 * so the real's svc_id is the flow's service, never a later owner's of the id).
 * Its forward entry refreshed (nat_refresh()). XLVS_CONT with *nt and *own
 * filled, or the verdict (untouched, counted).
 */
XLVS_INLINE int nat_reply_tuple(const struct pkt *p, const struct xlvs_config *cfg, struct nat_tuple *nt,
				struct nat_owner *own)
{
	struct xlvs_vip_key src = { .family = p->flow.family };
	struct xlvs_nat_rev *rev;
	struct xlvs_real *r;

	__builtin_memcpy(src.addr, p->flow.src, sizeof(src.addr));
	if (!bpf_map_lookup_elem(&xlvs_nat_srcs, &src))
		return pass(XLVS_EV_PASS_NO_SERVICE);
	rev = bpf_map_lookup_elem(&xlvs_nat, &p->flow);
	r = rev ? conn_real_lookup(rev->real_id, rev->real_gen) : NULL;
	if (!r)
		return pass(XLVS_EV_PASS_NAT_UNKNOWN);
	nat_refresh(p, rev, r, cfg);
	own->real_id = rev->real_id;
	own->svc_id = r->svc_id;
	nt->src = rev->vaddr;
	nt->sport = rev->vport;
	nt->dst = rev->caddr;
	nt->dport = rev->cport;
	return XLVS_CONT;
}

/* ---- the rewrite ----------------------------------------------------------- */

/*
 * An offset into the frame with a bound the verifier keeps: 6.1's verifier
 * loses a compare's bound when clang tests one register copy and adds
 * another to the packet pointer (6.18 does not), and a packet pointer whose
 * offset may reach 0xffff never gets a range. A mask on the register that is
 * added, kept there by the barrier, works on both; it changes no offset of
 * a frame the program can be given (NAT_PKT_OFF_MASK).
 */
XLVS_INLINE __u32 pkt_off(__u32 off)
{
	barrier_var(off);
	return off & NAT_PKT_OFF_MASK;
}

/* The transport header with len bytes checked, or NULL. */
XLVS_INLINE void *l4_header(void *data, void *end, const struct pkt *p, __u32 len)
{
	void *l4 = data + pkt_off(p->l4_off);

	if (l4 + len > end)
		return NULL;
	return l4;
}

/*
 * The IP addresses become nt's; returns what the transport checksum's
 * pseudo header changed by (the IPv4 header checksum is updated here).
 */
XLVS_INLINE int nat_rewrite_ip(void *data, void *end, const struct pkt *p, const struct nat_tuple *nt,
			       __u64 *delta)
{
	__u32 l2 = pkt_l2_len(p);

	if (p->flow.family == XLVS_AF_INET) {
		struct iphdr *ip = data + l2;

		if ((void *)(ip + 1) > end)
			return -1;
		*delta = csum_delta(&ip->saddr, nt->src, 1) + csum_delta(&ip->daddr, nt->dst, 1);
		csum_apply(&ip->check, *delta);
		ip->saddr = nt->src[0];
		ip->daddr = nt->dst[0];
	} else {
		struct ipv6hdr *ip6 = data + l2;

		if ((void *)(ip6 + 1) > end)
			return -1;
		*delta = csum_delta(ip6->saddr.in6_u.u6_addr32, nt->src, IP6_ADDR_WORDS) +
			 csum_delta(ip6->daddr.in6_u.u6_addr32, nt->dst, IP6_ADDR_WORDS);
		__builtin_memcpy(&ip6->saddr, nt->src, IP6_ADDR_LEN);
		__builtin_memcpy(&ip6->daddr, nt->dst, IP6_ADDR_LEN);
	}
	return 0;
}

/* The ports (the transport header's first word) become ports; sum covers them and the pseudo header. */
XLVS_INLINE void nat_rewrite_ports(__be32 *l4, __sum16 *sum, bool zero_is_none, const __be16 *ports,
				   __u64 delta)
{
	if (zero_is_none && !*sum) {
		*l4 = *(const __be32 *)ports;
		return;
	}
	csum_apply(sum, delta + csum_delta(l4, (const __be32 *)ports, 1));
	if (zero_is_none && !*sum)
		*sum = CSUM_MANGLED_0;
	*l4 = *(const __be32 *)ports;
}

/*
 * A TCP or UDP packet's addresses and ports become nt's, checksums updated
 * incrementally (RFC 1624): IPv4 header, TCP, UDP (a zero UDP checksum, "none"
 * over IPv4, stays zero; a result of zero is sent as 0xffff, RFC 768). 0 or -1.
 */
XLVS_INLINE int nat_rewrite(struct xdp_md *ctx, const struct pkt *p, const struct nat_tuple *nt)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__be16 ports[2] = { nt->sport, nt->dport };
	__u64 delta;

	if (p->flow.proto == IPPROTO_TCP) {
		struct tcphdr *th = l4_header(data, end, p, sizeof(*th));

		if (!th || nat_rewrite_ip(data, end, p, nt, &delta))
			return -1;
		nat_rewrite_ports((__be32 *)th, &th->check, false, ports, delta);
	} else {
		struct udphdr *uh = l4_header(data, end, p, sizeof(*uh));

		if (!uh || nat_rewrite_ip(data, end, p, nt, &delta))
			return -1;
		nat_rewrite_ports((__be32 *)uh, &uh->check, true, ports, delta);
	}
	return 0;
}

/* ---- ICMP errors ----------------------------------------------------------- */

/*
 * The quoted packet's ports become ports, and its transport checksum follows
 * them and its addresses (d_addr) when the quote holds it (a router may
 * quote only 8 bytes; a zero UDP checksum stays zero). off is the quoted
 * transport header's offset. Returns what the ICMP checksum changes by.
 */
XLVS_INLINE __u64 nat_quote_l4(void *data, void *end, const struct pkt *p, __u32 off, __u64 d_addr,
			       const __be16 *ports)
{
	bool tcp = p->flow.proto == IPPROTO_TCP;
	__u32 field = tcp ? __builtin_offsetof(struct tcphdr, check) : __builtin_offsetof(struct udphdr, check);
	__be32 *l4 = data + pkt_off(off);
	__sum16 *sum = NULL;
	__u64 d;
	__u16 old;

	if ((void *)(l4 + 1) > end)
		return 0;
	d = csum_delta(l4, (const __be32 *)ports, 1);
	*l4 = *(const __be32 *)ports;
	if (tcp && (void *)l4 + sizeof(struct tcphdr) <= end)
		sum = &((struct tcphdr *)l4)->check;
	else if (!tcp && (void *)l4 + sizeof(struct udphdr) <= end)
		sum = &((struct udphdr *)l4)->check;
	if (!sum || !in_datagram(p, off + field, sizeof(*sum)) || (!tcp && !*sum))
		return d;
	old = *sum;
	csum_apply(sum, d_addr + d);
	if (!tcp && !*sum)
		*sum = CSUM_MANGLED_0;
	return d + (__u16)~old + *sum;
}

/*
 * An ICMP error about a nat flow, translated as a packet of its direction
 * (nt, the packet's flow's translation). The outer destination becomes
 * nt->dst, the source nt->src when outer_src (a reply's error: the VIP, as
 * IPVS; a fullnat forward error: the pool address the real knows). The
 * quoted packet went the other way: its source becomes nt->dst:dport, its
 * destination nt->src:sport. Checksums: outer IPv4 header, quoted IPv4
 * header and transport checksum, ICMP (ICMPv6 with its pseudo header).
 * 0 or -1.
 */
XLVS_INLINE int nat_rewrite_icmp(struct xdp_md *ctx, const struct pkt *p, const struct nat_tuple *nt,
				 bool outer_src)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__be16 ports[2] = { nt->dport, nt->sport };
	__u32 l2 = pkt_l2_len(p), off = p->l4_off;
	struct icmphdr *ic = data + pkt_off(off);
	__u64 d, d_in;

	if ((void *)(ic + 1) > end)
		return -1;
	if (p->flow.family == XLVS_AF_INET) {
		struct iphdr *ip = data + l2, *in = (void *)(ic + 1);
		__u32 ihl;
		__u16 old;

		if ((void *)(ip + 1) > end || (void *)(in + 1) > end)
			return -1;
		d = csum_delta(&ip->daddr, nt->dst, 1) + (outer_src ? csum_delta(&ip->saddr, nt->src, 1) : 0);
		csum_apply(&ip->check, d);
		ip->daddr = nt->dst[0];
		if (outer_src)
			ip->saddr = nt->src[0];
		d_in = csum_delta(&in->saddr, nt->dst, 1) + csum_delta(&in->daddr, nt->src, 1);
		old = in->check;
		csum_apply(&in->check, d_in);
		in->saddr = nt->dst[0];
		in->daddr = nt->src[0];
		ihl = in->ihl * IP4_IHL_UNIT;
		/* no pseudo header: the quote's bytes only */
		d = d_in + (__u16)~old + in->check;
		d += nat_quote_l4(data, end, p, off + sizeof(*ic) + ihl, d_in, ports);
	} else {
		struct ipv6hdr *ip6 = data + l2, *in = (void *)(ic + 1);

		if ((void *)(ip6 + 1) > end || (void *)(in + 1) > end)
			return -1;
		d = csum_delta(ip6->daddr.in6_u.u6_addr32, nt->dst, IP6_ADDR_WORDS);
		if (outer_src)
			d += csum_delta(ip6->saddr.in6_u.u6_addr32, nt->src, IP6_ADDR_WORDS);
		__builtin_memcpy(&ip6->daddr, nt->dst, IP6_ADDR_LEN);
		if (outer_src)
			__builtin_memcpy(&ip6->saddr, nt->src, IP6_ADDR_LEN);
		d_in = csum_delta(in->saddr.in6_u.u6_addr32, nt->dst, IP6_ADDR_WORDS) +
		       csum_delta(in->daddr.in6_u.u6_addr32, nt->src, IP6_ADDR_WORDS);
		__builtin_memcpy(&in->saddr, nt->dst, IP6_ADDR_LEN);
		__builtin_memcpy(&in->daddr, nt->src, IP6_ADDR_LEN);
		/* the outer addresses are in ICMPv6's pseudo header */
		d += d_in + nat_quote_l4(data, end, p, off + sizeof(*ic) + sizeof(*in), d_in, ports);
	}
	csum_apply(&ic->checksum, d);
	return 0;
}

#endif /* XLVS_BPF_NAT_H */
