/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stage 4a, persistence (ipvsadm -p/-M, keepalived persistence_timeout and
 * persistence_granularity): a client, or its network masked to the service's
 * persist_plen, keeps its real for new connections while its template lives.
 * As IPVS's ip_vs_sched_persist() (net/netfilter/ipvs/ip_vs_core.c): a new
 * flow of a persistent service first looks for the template of (masked
 * client, service); one that names a real still available is followed
 * without running the scheduler, otherwise the scheduler picks and the
 * template is written anew. IPVS keys templates by (protocol, masked client,
 * VIP, port): the service id says the same, and a port-0 service ("all
 * ports", IPVS's "persistent port zero") gives one template for a client's
 * connections to every port of the VIP, which passive FTP needs.
 *
 * Differences from IPVS, each for a reason:
 * - A template whose real has weight 0 is not followed, as IPVS does only
 *   with the sysctl expire_quiescent_template=1 (ip_vs_conn.c
 *   ip_vs_check_template()): in xlvs weight 0 means "no new connections" for
 *   every scheduler, persistence included.
 * - IPVS keeps a template while connections it controls live (n_control) and
 *   restarts its timer with each new one. Counting controlled connections
 *   would cost an atomic per connection start and end; instead every packet
 *   of an established flow of a persistent service refreshes its template's
 *   last_seen, at most once per second per flow (the second of jiffies
 *   changed since the flow's last packet). So a template lives
 *   persist_timeout past its clients' last packet, where IPVS's lives past
 *   its last connection's end: a connection idle for longer than the timeout
 *   loses its template (its own entry stays; only later connections may be
 *   scheduled elsewhere).
 * - IPVS sends data connections to ports above 1023 to a persistent port-21
 *   service (ip_vs_ctl.c ip_vs_service_find(), "FTP data connections");
 *   xlvs has no port-21 rule: a port-0 service does that job.
 */
#ifndef XLVS_BPF_PERSIST_H
#define XLVS_BPF_PERSIST_H

#include "sched.h"

/*
 * Whether an entry's last_seen (jiffies) is a second old and worth writing:
 * lifetimes are seconds, so an established flow's packets leave its
 * entry's cache line clean in between. hz 0 (no clock from xlvsd): always.
 */
XLVS_INLINE bool stamp_due(__u32 now, __u32 last_seen, const struct xlvs_config *cfg)
{
	return now - last_seen >= cfg->hz;
}

/*
 * Per-CPU LRU lists as xlvs_conns: lookups see every CPU's templates, and
 * making room never takes a cross-CPU lock. Under a SYN flood of spoofed
 * sources templates are written (the SYN guard keeps only xlvs_conns clean,
 * and a template is what keeps the handshake's later packets on the real its
 * SYN got when no entry was inserted), so a flood may evict idle clients'
 * templates: those clients are scheduled afresh on their next connection.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct xlvs_svc_addr_key);
	__type(value, struct xlvs_persist);
	__uint(max_entries, XLVS_PERSIST_DEFAULT);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlvs_persist SEC(".maps");

/* One 32-bit word of an address cut to the bits of a prefix that fall in it (bits <= 0: none). */
XLVS_INLINE __be32 prefix_word(__be32 w, int bits)
{
	if (bits >= 32)
		return w;
	if (bits <= 0)
		return 0;
	return w & bpf_htonl(~0u << (32 - bits));
}

/* The template key: the client's address masked to plen (IPv4 lives in word 0), in the service. */
XLVS_INLINE void persist_key(const struct xlvs_flow *f, __u32 svc_id, __u8 plen, struct xlvs_svc_addr_key *k)
{
	k->addr[0] = prefix_word(f->src[0], plen);
	k->addr[1] = prefix_word(f->src[1], plen - 32);
	k->addr[2] = prefix_word(f->src[2], plen - 64);
	k->addr[3] = prefix_word(f->src[3], plen - 96);
	k->svc_id = svc_id;
	k->family = f->family;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
}

/* Whether a template still applies: young enough, its real serving this service and taking new flows. */
XLVS_INLINE bool persist_usable(const struct xlvs_persist *tpl, const struct xlvs_service *svc,
				const struct xlvs_config *cfg, __u32 now)
{
	struct xlvs_real *r;

	if (cfg->hz && now - tpl->last_seen > svc->persist_timeout * cfg->hz)
		return false;
	r = conn_real_lookup(tpl->real_id, tpl->real_gen);
	return r && r->svc_id == svc->id && r->weight;
}

/* A new template naming real_id as it is now (its generation). */
XLVS_INLINE void persist_write(const struct xlvs_svc_addr_key *k, __u32 real_id, __u32 svc_id, __u32 now)
{
	struct xlvs_real *r = real_lookup(real_id, svc_id);
	struct xlvs_persist v = { .real_id = real_id, .last_seen = now };

	if (!r)
		return; /* conn_new drops it as bad_real */
	v.real_gen = r->gen;
	bpf_map_update_elem(&xlvs_persist, k, &v, BPF_ANY);
}

/*
 * schedule() for a persistent service: the template's real, else the
 * scheduler's pick, remembered. ICMP errors read templates but never write
 * them (they never create a connection either). XLVS_CONT or a drop verdict.
 */
XLVS_INLINE int persist_schedule(const struct pkt *p, const struct xlvs_service *svc,
				 const struct xlvs_config *cfg, __u32 hash, __u32 *real_id)
{
	bool write = !(p->flags & PKT_F_ICMP_ERR);
	struct xlvs_svc_addr_key k;
	struct xlvs_persist *tpl;
	__u32 now = bpf_jiffies64();
	int rc;

	persist_key(&p->flow, svc->id, svc->persist_plen, &k);
	tpl = bpf_map_lookup_elem(&xlvs_persist, &k);
	if (tpl && persist_usable(tpl, svc, cfg, now)) {
		*real_id = tpl->real_id;
		if (write)
			tpl->last_seen = now; /* IPVS restarts a template's timer with each connection */
		count_event(XLVS_EV_PERSIST_HIT);
		return XLVS_CONT;
	}
	count_event(XLVS_EV_PERSIST_MISS);
	rc = schedule(svc, cfg, &p->flow, hash, real_id);
	if (rc == XLVS_CONT && write)
		persist_write(&k, *real_id, svc->id, now);
	return rc;
}

/*
 * An established flow of a persistent service (its real carries
 * XLVS_REAL_F_PERSIST) keeps its client's template alive when its entry's
 * stamp is due (stamp_due(): a second old; called before conn_advance()
 * writes the new one), so busy flows do not write on every packet. A template
 * that names another real (the client was moved: weight 0, expiry) is left
 * alone; a missing one (swept or evicted while this connection lived) is
 * written again for this flow's real, as IPVS keeps a template while it
 * controls connections.
 */
XLVS_INLINE void persist_refresh(const struct pkt *p, const struct xlvs_conn *conn, const struct xlvs_real *real,
				 const struct xlvs_config *cfg, __u32 now)
{
	struct xlvs_persist v = { .real_id = conn->real_id, .real_gen = conn->real_gen, .last_seen = now };
	struct xlvs_svc_addr_key k;
	struct xlvs_service *svc;
	struct xlvs_persist *tpl;

	if (!(real->flags & XLVS_REAL_F_PERSIST) || !cfg->hz || !stamp_due(now, conn->last_seen, cfg))
		return;
	svc = service_lookup(&p->flow); /* for its netmask: once a second per flow */
	if (!svc || svc->id != real->svc_id || !svc->persist_timeout)
		return;
	persist_key(&p->flow, svc->id, svc->persist_plen, &k);
	tpl = bpf_map_lookup_elem(&xlvs_persist, &k);
	if (!tpl) {
		bpf_map_update_elem(&xlvs_persist, &k, &v, BPF_NOEXIST);
		return;
	}
	if (tpl->real_id == conn->real_id && tpl->real_gen == conn->real_gen)
		tpl->last_seen = now;
}

#endif /* XLVS_BPF_PERSIST_H */
