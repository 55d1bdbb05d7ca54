/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stage 3, conntrack: established flows keep their real across ring changes.
 * A miss schedules the flow and remembers it, except under a SYN flood: above
 * xlvs_config.syn_guard_rate SYNs without conn entry per second on this CPU,
 * the SYN is still scheduled (Maglev gives later packets the same real) but not
 * inserted, so an attack cannot evict established flows from the LRU. The
 * first non-SYN packet of a completed handshake inserts the flow: only real
 * clients take table space. Only services whose scheduler is a function of
 * the flow (maglev, mh, sh, dh) get this: under rr, wrr or the counting
 * schedulers the handshake's next packet would be scheduled elsewhere, so
 * their SYNs are always inserted. An entry idle past its state's lifetime is
 * expired: its next packet deletes it and is scheduled afresh; xlvsd's sweep
 * (maps/conns.c) deletes the ones no packet comes back for.
 */
#ifndef XLVS_BPF_CONNTRACK_H
#define XLVS_BPF_CONNTRACK_H

#include "persist.h"

#define NSEC_PER_SEC 1000000000ull

/* Where a packet goes; filled by select_real(), consumed by forward(). */
struct target {
	struct xlvs_real *real;
	__u32 real_id;
	__u32 svc_id;
	__u32 hash;
	bool new_flow;
	__u8 snat_idx;		/* fullnat: the flow's source in xlvs_snat_pool ... */
	__be16 snat_port;	/* ... and port (nat.h); 0 otherwise */
};

/* VS-NAT and FULLNAT reals: their flows need a reply entry as well (nat.h). */
XLVS_INLINE bool real_is_nat(const struct xlvs_real *r)
{
	return r->fwd == XLVS_FWD_NAT || r->fwd == XLVS_FWD_FULLNAT;
}

XLVS_INLINE bool syn_guard_tripped(const struct xlvs_config *cfg, __u64 now)
{
	__u32 zero = 0;
	struct xlvs_syn_window *w;

	w = bpf_map_lookup_elem(&xlvs_syn_guard, &zero);
	if (!w)
		return false;
	if (now - w->start_ns >= NSEC_PER_SEC) {
		w->start_ns = now;
		w->count = 0;
	}
	return ++w->count > cfg->syn_guard_rate;
}

XLVS_INLINE __u8 conn_state_of(const struct pkt *p)
{
	if (p->flags & PKT_F_FIN)
		return XLVS_CONN_CLOSING;
	return p->flags & PKT_F_SYN ? XLVS_CONN_SYN : XLVS_CONN_OPEN;
}

XLVS_INLINE void conn_insert(const struct pkt *p, const struct target *t, const struct xlvs_config *cfg,
			     bool stateless)
{
	struct xlvs_conn conn = {
		.real_id = t->real_id, .real_gen = t->real->gen, .hash = t->hash, .last_seen = bpf_jiffies64(),
		.isn = p->tcp_seq, .state = conn_state_of(p), .snat_idx = t->snat_idx, .snat_port = t->snat_port,
	};

	/*
	 * The guard's clock is read only for SYNs while it is on: new flows pay,
	 * established ones never. Only a stateless scheduler can skip the entry:
	 * rr or wlc would send the handshake's next packet elsewhere.
	 */
	if ((p->flags & PKT_F_SYN) && cfg->syn_guard_rate && stateless &&
	    syn_guard_tripped(cfg, bpf_ktime_get_coarse_ns())) {
		count_event(XLVS_EV_SYN_GUARD);
		return;
	}
	/*
	 * An LRU table makes room by evicting, so this fails only when it cannot
	 * (a bucket lock busy, no free node on this CPU). The packet is forwarded
	 * all the same: the ring gives the flow's later packets the same real.
	 */
	if (bpf_map_update_elem(&xlvs_conns, &p->flow, &conn, BPF_ANY)) {
		count_event(XLVS_EV_CONN_INSERT_FAILED);
		return;
	}
	count_event(XLVS_EV_CONN_NEW);
	load_add(t->real, t->real_id, conn_class_active(p->flow.proto, conn.state), 1);
}

/*
 * A SYN that meets an entry is a new connection, to be scheduled afresh, when
 * the entry's connection has ended (CLOSING), when its real takes no new
 * connections (weight 0: quiesced, drained; IPVS ip_vs_in() with
 * expire_nodest_conn), or when the entry never left SYN and this SYN carries
 * another initial sequence number: the real refused the earlier attempt or it
 * was abandoned, and the client tries again on the same ports. A SYN with the
 * recorded ISN is a retransmission of the same attempt and keeps its real.
 */
XLVS_INLINE bool syn_starts_anew(const struct pkt *p, const struct xlvs_conn *conn,
				 const struct xlvs_real *real)
{
	if (conn->state == XLVS_CONN_CLOSING) {
		count_event(XLVS_EV_CONN_REUSED);
		return true;
	}
	if (!real->weight) {
		count_event(XLVS_EV_CONN_NODEST);
		return true;
	}
	if (conn->state == XLVS_CONN_SYN && conn->isn != p->tcp_seq) {
		count_event(XLVS_EV_CONN_SYN_NEW_ISN);
		return true;
	}
	return false;
}

XLVS_INLINE void conn_advance(const struct pkt *p, struct xlvs_conn *conn, const struct xlvs_real *real,
				const struct xlvs_config *cfg, __u32 now)
{
	__u8 was = conn->state;

	if (stamp_due(now, conn->last_seen, cfg))
		conn->last_seen = now;
	if (p->flags & PKT_F_FIN)	/* FIN or RST from the client: the connection ends */
		conn->state = XLVS_CONN_CLOSING;
	else if (conn->state == XLVS_CONN_SYN && !(p->flags & (PKT_F_SYN | PKT_F_ICMP_ERR)))
		conn->state = XLVS_CONN_OPEN;	/* the handshake's ACK or later */
	if (conn->state != was)
		load_move(real, conn->real_id, p->flow.proto, was, conn->state);
}

/* The data path deletes an entry whose real it matched: that real's count drops with it. */
XLVS_INLINE void conn_delete(const struct pkt *p, const struct xlvs_conn *conn, const struct xlvs_real *real)
{
	bool active = conn_class_active(p->flow.proto, conn->state);
	__u32 real_id = conn->real_id;

	if (!bpf_map_delete_elem(&xlvs_conns, &p->flow))
		load_add(real, real_id, active, -1);
}

/*
 * Whether an entry outlived its state's lifetime (abi.h enum xlvs_timeout):
 * its service's, which its real carries, else the global one. One multiply
 * and compare on fields already loaded; hz 0 (not set by xlvsd) never expires.
 */
XLVS_INLINE bool conn_expired(__u8 proto, const struct xlvs_conn *conn,
			      const struct xlvs_real *real, const struct xlvs_config *cfg, __u32 now)
{
	__u32 i = proto == IPPROTO_UDP ? XLVS_TO_UDP : conn->state & (XLVS_TO_MAX - 1);
	__u32 secs = real->timeout[i] ? real->timeout[i] : cfg->timeout[i];

	return cfg->hz && now - conn->last_seen > secs * cfg->hz;
}

/* An established flow whose real still serves its service: fills *t and returns true. */
XLVS_INLINE bool conn_established(const struct pkt *p, const struct xlvs_config *cfg, struct target *t)
{
	struct xlvs_conn *conn = bpf_map_lookup_elem(&xlvs_conns, &p->flow);
	__u32 now;

	if (!conn)
		return false;
	t->real = conn_real_lookup(conn->real_id, conn->real_gen);
	if (!t->real) {
		count_event(XLVS_EV_CONN_RESCHED);	/* its real was removed, or its id reused */
		return false;
	}
	now = bpf_jiffies64();
	if (conn_expired(p->flow.proto, conn, t->real, cfg, now)) {
		/* as IPVS after the connection's timer fired: a new connection, scheduled afresh */
		count_event(XLVS_EV_CONN_EXPIRED);
		conn_delete(p, conn, t->real);
		t->real = NULL;
		return false;
	}
	if ((p->flags & PKT_F_SYN) && syn_starts_anew(p, conn, t->real)) {
		/*
		 * The old entry goes now, or a SYN the guard does not insert would
		 * leave the handshake's next packet to it and its old real.
		 */
		conn_delete(p, conn, t->real);
		t->real = NULL;
		return false;
	}
	if (t->real->fwd == XLVS_FWD_FULLNAT && !conn->snat_port) {
		/* made while its real was not fullnat: without a source, scheduled afresh */
		count_event(XLVS_EV_CONN_RESCHED);
		conn_delete(p, conn, t->real);
		t->real = NULL;
		return false;
	}
	t->real_id = conn->real_id;
	t->svc_id = t->real->svc_id;	/* a real serves one service for its whole generation */
	t->hash = conn->hash;
	t->snat_idx = conn->snat_idx;
	t->snat_port = conn->snat_port;
	persist_refresh(p, conn, t->real, cfg, now); /* before conn_advance: it reads the previous stamp */
	conn_advance(p, conn, t->real, cfg, now);
	count_event(XLVS_EV_CONN_HIT);
	return true;
}

/*
 * Whether a flow's packets find its real again without an entry: the
 * scheduler is a function of the flow, or a persistence template holds the
 * real. Then the SYN guard may leave a SYN's entry out, and a packet of a
 * connection whose entry is gone (expired, evicted, another director's) is
 * scheduled to the real it had.
 */
XLVS_INLINE bool table_guard_ok(const struct xlvs_service *svc)
{
	return sched_is_stateless(svc->sched) || svc->persist_timeout;
}

/*
 * A TCP packet that is not a SYN, of a flow without an entry, to a service
 * whose scheduler picks anew each time (rr, wrr, lc, wlc, ...): scheduling it
 * would send it to a real that never saw the connection (which resets it) and
 * count a connection active there for the established timeout, skewing the
 * least-connection schedulers. As IPVS (sloppy_tcp off), only a SYN starts
 * such a service's connection: the kernel gets the packet.
 */
XLVS_INLINE bool stray_tcp(const struct pkt *p, const struct xlvs_service *svc)
{
	return p->flow.proto == IPPROTO_TCP && !(p->flags & (PKT_F_SYN | PKT_F_ICMP_ERR)) &&
	       !table_guard_ok(svc);
}

/*
 * A flow without a usable entry: schedule it and remember it. XLVS_CONT or a
 * drop verdict. guard_ok: the SYN guard may leave the entry out (the flow's
 * later packets find the same real without it).
 */
XLVS_INLINE int conn_new(const struct pkt *p, const struct xlvs_service *svc,
			 const struct xlvs_config *cfg, struct target *t, bool guard_ok)
{
	int rc;

	if (stray_tcp(p, svc))
		return pass(XLVS_EV_PASS_TCP_NOT_SYN);
	t->svc_id = svc->id;
	t->hash = xlvs_flow_hash_cfg(cfg->flags, &p->flow);
	rc = svc->persist_timeout ? persist_schedule(p, svc, cfg, t->hash, &t->real_id)
				  : schedule(svc, cfg, &p->flow, t->hash, &t->real_id);
	if (rc != XLVS_CONT)
		return rc;
	t->real = real_lookup(t->real_id, svc->id);
	if (!t->real)
		return drop(XLVS_DROP_BAD_REAL);
	/* ICMP errors follow the flow's real but never create one. */
	if (p->flags & PKT_F_ICMP_ERR)
		return XLVS_CONT;
	t->new_flow = true;
	/* nat and fullnat flows are remembered with their reply entry: nat_new() */
	if (real_is_nat(t->real))
		return XLVS_CONT;
	conn_insert(p, t, cfg, guard_ok);
	return XLVS_CONT;
}

#endif /* XLVS_BPF_CONNTRACK_H */
