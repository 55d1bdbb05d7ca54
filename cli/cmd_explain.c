// SPDX-License-Identifier: GPL-2.0
/*
 * xlvs explain CLIENT[:PORT] SERVICE: which real a flow goes to and why, by
 * the data path's own steps read from the pinned maps: the service lookup
 * (the port's service, else the VIP's all-ports one), the connection entry
 * (bpf/conntrack.h), the Maglev ring slot from the shared flow hash
 * (include/xlvs/hash.h, bpf/sched.h), a ring-state service's slot with its
 * owner and previous owner (bpf/ring.h, xlvs_ring_prev), the client's
 * persistence template (bpf/persist.h), and the real's weight and health.
 * Without a client port: the share of client ports each real gets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <xlvs/hash.h>

#include "cmd.h"
#include "ringio.h"
#include "schedtab.h"
#include "view.h"
#include "xlvsctl.h"

struct explain_args {
	struct xlvs_endpoint client, svc;
};

const struct xlvs_opt xlvs_opts_explain[] = {
	{ .arg = "CLIENT[:PORT]",
	  .kind = XLVS_OPT_REAL,
	  .flags = XLVS_OPT_POS | XLVS_OPT_REQUIRED,
	  .off = offsetof(struct explain_args, client),
	  .missing = "CLIENT (the client's address)" },
	{ .arg = XLVS_SVC_ARGS,
	  .kind = XLVS_OPT_SERVICE,
	  .flags = XLVS_OPT_POS | XLVS_OPT_REQUIRED,
	  .off = offsetof(struct explain_args, svc),
	  .missing = "SERVICE (VIP:PORT)" },
	{ 0 },
};

/* The service the data path finds for the flow (lookup.h service_lookup), or NULL. */
static const struct xlvs_svc_state *find_service(const struct xlvs_state *st, const struct xlvs_flow *f)
{
	const struct xlvs_svc_state *any = NULL;
	size_t i, len = f->family == XLVS_AF_INET ? 4 : 16;

	for (i = 0; i < st->nr_services; i++) {
		const struct xlvs_svc_key *k = &st->services[i].key;

		if (k->family != f->family || k->proto != f->proto || memcmp(k->addr, f->dst, len))
			continue;
		if (k->port == f->dport)
			return &st->services[i];
		if (!k->port)
			any = &st->services[i];
	}
	return any;
}

/* The real with that id in sv (an ACTIVE real of the service), or NULL. */
static const struct xlvs_real_state *real_of(const struct xlvs_svc_state *sv, uint32_t id)
{
	size_t j;

	for (j = 0; j < sv->nr_reals; j++)
		if (sv->reals[j].id == id)
			return &sv->reals[j];
	return NULL;
}

static const char *real_text(const struct xlvs_real_state *r, char *buf, size_t size)
{
	struct xlvs_addr a;

	xlvs_addr_of(&a, r->real.family, r->real.addr);
	return xlvs_addr_text(&a, buf, size);
}

/* Which flow hash and ring-slot rule the state uses (xlvs_config.flags, include/xlvs/hash.h). */
static uint32_t state_flags(struct xlvs_maps *m)
{
	struct xlvs_config cfg;

	return xlvs_maps_get_config(m, &cfg) ? 0 : cfg.flags;
}

/* A flow's place in its service's ring: its flow hash and the slot the data path reads. */
struct flow_pos {
	uint32_t hash, slot;
};

/*
 * The flow hash as the state's flags say, and the slot as the data path finds it
 * (include/xlvs/hash.h xlvs_ring_index(): maglev by that hash, mh by the client;
 * bpf/sched.h): 0 in an empty ring. Once per flow: the ring state's part and the ring's share it.
 */
static struct flow_pos flow_pos(uint32_t flags, const struct xlvs_service *svc, const struct xlvs_flow *f)
{
	struct flow_pos fp = { .hash = xlvs_flow_hash_cfg(flags, f) };

	if (svc->ring_size)
		fp.slot = xlvs_ring_index(flags, svc->sched, svc->flags, f, fp.hash, svc->ring_size);
	return fp;
}

/*
 * The ring's real at slot (0 .. ring_size - 1), XLVS_REAL_NONE for an empty
 * one; *changed (may be NULL): the slot changed owner (ring state, abi.h
 * XLVS_SLOT_CHANGED; an empty slot counts as changed).
 */
static uint32_t ring_pick(struct xlvs_maps *m, const struct xlvs_service *svc, uint32_t slot, bool *changed)
{
	uint32_t v = XLVS_REAL_NONE;

	if (svc->ring_size && xlvs_ring_get(m->ring, svc->ring_base + slot, &v))
		v = XLVS_REAL_NONE;
	if (changed)
		*changed = v == XLVS_REAL_NONE || (v & XLVS_SLOT_CHANGED);
	return xlvs_slot_real(v);
}

/* What picks a new flow's real under the other schedulers (bpf/sched.h); explain follows Maglev's ring only. */
static const char *sched_table_kind(uint8_t sched)
{
	switch (sched) {
	case XLVS_SCHED_MH:
	case XLVS_SCHED_SH:
		return "a new flow's real comes from the client's address (not shown here)";
	case XLVS_SCHED_DH:
		return "a new flow's real comes from the VIP's address (not shown here)";
	case XLVS_SCHED_RR:
	case XLVS_SCHED_WRR:
		return "a new flow takes the next real of the sequence on its CPU (not shown here)";
	case XLVS_SCHED_LC:
	case XLVS_SCHED_WLC:
	case XLVS_SCHED_SED:
	case XLVS_SCHED_NQ:
		return "a new flow takes the least loaded real by the counts below";
	default:
		return "new flows are dropped (sched_unsupported)";
	}
}

/*
 * lc, wlc, sed, nq, lblc, lblcr: the counts their choice weighs, per real, as
 * the data path keeps them (xlvs_real_load), not a walk of the table.
 */
static void explain_counts(struct xp *p, struct xlvs_maps *m, const struct xlvs_svc_state *sv)
{
	struct xlvs_real_load l;
	char rb[INET6_ADDRSTRLEN];
	size_t j;

	if (!xlvs_sched_counts(sv->svc.sched))
		return;
	xp_text(p, "connections the scheduler weighs (the data path's counts, reconciled by xlvsd):\n");
	xp_arr_open(p, "counts");
	for (j = 0; j < sv->nr_reals; j++) {
		const struct xlvs_real_state *r = &sv->reals[j];

		xp_obj_open(p, NULL);
		xp_str(p, XP_ANY, "real", "  %-40s", real_text(r, rb, sizeof(rb)));
		xp_u64(p, XP_ANY, "weight", " weight %-6" PRIu64, r->real.weight);
		if (!xlvs_real_load_read(m, r->id, &l)) {
			xlvs_fmt_sched_conns(p, &l, " ");
		} else {
			xp_text(p, " scheduler's count unreadable: %s\n", strerror(errno));
			xp_json(p, "sched_conns", json_null());
		}
		xp_obj_close(p);
	}
	xp_arr_close(p);
}

/* The connection entry of the flow: 1 if one is there. */
static int conn_entry(struct xlvs_maps *m, const struct xlvs_flow *f, struct xlvs_conn *conn)
{
	return !bpf_map_lookup_elem(m->conns, f, conn);
}

static const char *const state_names[] = {
	[XLVS_CONN_OPEN] = "open", [XLVS_CONN_CLOSING] = "closing", [XLVS_CONN_SYN] = "syn"
};

/* Seconds before the entry expires, as the data path would judge it now: < 0 expired, INT64_MAX never. */
static int64_t entry_left(struct xlvs_maps *m, const struct xlvs_flow *f, const struct xlvs_real *real,
			  const struct xlvs_conn *conn)
{
	struct xlvs_config cfg;
	struct xlvs_jiffies j;
	int64_t left;

	if (xlvs_maps_get_config(m, &cfg) || xlvs_jiffies_read(&j))
		return INT64_MAX; /* unknown: shown without its expiry */
	left = xlvs_conn_left(&cfg, real, f->proto, conn, j.now);
	return left < 0 || left == INT64_MAX ? left : left / cfg.hz;
}

/* The entry's part: returns true when the entry decides the real (established flow). */
static bool explain_entry(struct xp *p, struct xlvs_maps *m, const struct xlvs_state *st,
			  const struct xlvs_flow *f, bool ring_changed)
{
	const struct xlvs_real_state *r = NULL;
	char rb[INET6_ADDRSTRLEN];
	struct xlvs_conn conn;
	int64_t left;
	size_t i;

	if (!conn_entry(m, f, &conn)) {
		xp_text(p, "connection entry: none%s\n",
			ring_changed ? "" : ": a new flow, scheduled by the ring");
		xp_str(p, XP_JSON, "entry", NULL, "none");
		return false;
	}
	for (i = 0; i < st->nr_services && !r; i++)
		r = real_of(&st->services[i], conn.real_id);
	if (!r || r->real.gen != conn.real_gen) {
		xp_text(p,
			"connection entry: made for a real that is gone (id %u): the next packet is "
			"scheduled afresh (conn_resched)\n",
			conn.real_id);
		xp_str(p, XP_JSON, "entry", NULL, "stale");
		return false;
	}
	left = entry_left(m, f, &r->real, &conn);
	if (left < 0) {
		xp_text(p, "connection entry: expired (idle longer than its lifetime): the next packet is "
			   "scheduled afresh (conn_expired)\n");
		xp_str(p, XP_JSON, "entry", NULL, "expired");
		return false;
	}
	xp_obj_open(p, "entry");
	xp_str(p, XP_ANY, "real", "connection entry: real %s", real_text(r, rb, sizeof(rb)));
	xp_str(p, XP_ANY, "state", ", state %s", conn.state < 3 ? state_names[conn.state] : "?");
	if (left != INT64_MAX)
		xp_i64(p, XP_ANY, "expires_s", ", expires in %" PRId64 " s", left);
	xp_obj_close(p);
	xp_text(p, "\n");
	if (conn.state == XLVS_CONN_CLOSING || !r->real.weight)
		xp_text(p, "  its packets go on to %s; a new SYN is scheduled afresh (%s)\n", rb,
			conn.state == XLVS_CONN_CLOSING ? "the client closed: conn_reused"
							: "its real has weight 0: conn_resched_weight0");
	else
		xp_text(p, "  established flows keep their real whatever the ring says now\n");
	if (ring_changed)
		xp_text(p, "  on a changed slot the entry wins (ring_changed_conn_hit)\n");
	return true;
}

/* Why a template does not apply (bpf/persist.h persist_usable()), or NULL if it does. */
static const char *tpl_unusable(struct xlvs_maps *m, const struct xlvs_svc_state *sv,
				const struct xlvs_persist *t, const struct xlvs_real_state **r, int64_t *left)
{
	struct xlvs_config cfg;
	struct xlvs_jiffies j;

	*r = real_of(sv, t->real_id);
	*left = INT64_MAX;
	if (!xlvs_maps_get_config(m, &cfg) && !xlvs_jiffies_read(&j) && cfg.hz) {
		*left = xlvs_persist_left(&cfg, sv->svc.persist_timeout, t, j.now);
		if (*left < 0)
			return "expired";
		*left = (int64_t)((uint64_t)*left * j.tick_ns / 1000000000ull);
	}
	if (!*r || (*r)->real.gen != t->real_gen)
		return "its real is gone";
	if (!(*r)->real.weight)
		return "its real has weight 0";
	return NULL;
}

/* A persistent service: the client's template decides a new flow's real before the scheduler. */
static void explain_persist(struct xp *p, struct xlvs_maps *m, const struct xlvs_svc_state *sv,
			    const struct xlvs_flow *f)
{
	const struct xlvs_real_state *r;
	struct xlvs_svc_addr_key k;
	char ab[INET6_ADDRSTRLEN], rb[INET6_ADDRSTRLEN];
	struct xlvs_persist t;
	struct xlvs_addr a;
	const char *why;
	int64_t left;

	xlvs_tpl_key(f, &sv->svc, &k);
	xlvs_addr_of(&a, k.family, k.addr);
	xp_obj_open(p, "persistence");
	xp_u64(p, XP_ANY, "timeout", "persistence: %" PRIu64 " s", sv->svc.persist_timeout);
	xp_str(p, XP_ANY, "client", ", template of %s", xlvs_addr_text(&a, ab, sizeof(ab)));
	xp_u64(p, XP_ANY, "prefix_len", "/%" PRIu64 ": ", sv->svc.persist_plen);
	if (bpf_map_lookup_elem(m->persist, &k, &t)) {
		xp_str(p, XP_ANY, "template", "%s", "none");
		xp_text(p, "\n  a new connection is scheduled and makes one (persist_miss)\n");
	} else if ((why = tpl_unusable(m, sv, &t, &r, &left))) {
		xp_str(p, XP_ANY, "template", "%s", why);
		xp_text(p, "\n  a new connection is scheduled afresh and rewrites it (persist_miss)\n");
	} else {
		xp_str(p, XP_JSON, "template", NULL, "follows");
		xp_str(p, XP_ANY, "real", "real %s", real_text(r, rb, sizeof(rb)));
		if (left != INT64_MAX)
			xp_i64(p, XP_ANY, "expires_s", ", expires in %" PRId64 " s", left);
		xp_text(p, "\n  a new connection goes to %s whatever the scheduler says (persist_hit)\n", rb);
	}
	xp_obj_close(p);
}

/* A changed slot's previous owner as the data path judges it (bpf/ring.h prev_owner()), in its order. */
enum prev_state {
	PREV_FOLLOWS,	    /* a packet without an entry may be its flow's */
	PREV_NONE,	    /* until 0: the slot had no owner, or was flagged whole */
	PREV_WINDOW_OVER,   /* until passed: forgotten */
	PREV_IS_OWNER,	    /* the slot changed back to it */
	PREV_INACTIVE,	    /* its id names no active real: removed */
	PREV_GEN_REUSED,    /* its id names another real now */
	PREV_OTHER_SERVICE, /* its real serves another service */
	PREV_NAT,	    /* nat and fullnat flows are never followed */
};

static const char *const prev_state_names[] = {
	[PREV_FOLLOWS] = "follows",
	[PREV_NONE] = "none",
	[PREV_WINDOW_OVER] = "window_over",
	[PREV_IS_OWNER] = "owner",
	[PREV_INACTIVE] = "inactive",
	[PREV_GEN_REUSED] = "gen_reused",
	[PREV_OTHER_SERVICE] = "other_service",
	[PREV_NAT] = "nat",
};

/* A ring-state flow's slot: its owner now and its previous one. */
struct ring_view {
	uint32_t slot, owner; /* slot of the slice; owner XLVS_REAL_NONE: empty */
	bool changed;
	enum prev_state prev_state;
	struct xlvs_slot_prev prev;
	struct xlvs_real prev_real; /* xlvs_reals[prev.real_id] as read (zeroed if unreadable) */
	int64_t window_s;	    /* left (< 0: passed that long ago); INT64_MAX: unknown or none */
};

/* Seconds from now to until (jiffies): rounded up while ahead, down once passed; INT64_MAX unknown. */
static int64_t window_left(uint32_t until)
{
	struct xlvs_jiffies j;
	int64_t d;

	if (xlvs_jiffies_read(&j) || !j.tick_ns)
		return INT64_MAX;
	d = (int32_t)(until - j.now); /* as the data path compares them */
	if (d > 0)
		return (int64_t)(((uint64_t)d * j.tick_ns + 999999999ull) / 1000000000ull);
	return -(int64_t)((uint64_t)-d * j.tick_ns / 1000000000ull);
}

/* The slot's xlvs_ring_prev entry, its real as xlvs_reals has it now, and what the data path makes of them. */
static void read_prev(struct xlvs_maps *m, const struct xlvs_service *svc, struct ring_view *v)
{
	uint32_t key = svc->ring_base + v->slot;

	memset(&v->prev_real, 0, sizeof(v->prev_real));
	v->window_s = INT64_MAX;
	if (bpf_map_lookup_elem(m->ring_prev, &key, &v->prev) || !v->prev.until) {
		v->prev_state = PREV_NONE;
		return;
	}
	if (bpf_map_lookup_elem(m->reals, &v->prev.real_id, &v->prev_real))
		memset(&v->prev_real, 0, sizeof(v->prev_real));
	v->window_s = window_left(v->prev.until);
	if (v->window_s <= 0)
		v->prev_state = PREV_WINDOW_OVER;
	else if (v->prev.real_id == v->owner)
		v->prev_state = PREV_IS_OWNER;
	else if (!(v->prev_real.flags & XLVS_REAL_F_ACTIVE))
		v->prev_state = PREV_INACTIVE;
	else if (v->prev_real.gen != v->prev.real_gen)
		v->prev_state = PREV_GEN_REUSED;
	else if (v->prev_real.svc_id != svc->id)
		v->prev_state = PREV_OTHER_SERVICE;
	else if (xlvs_fwd_is_nat(v->prev_real.fwd))
		v->prev_state = PREV_NAT;
	else
		v->prev_state = PREV_FOLLOWS;
}

/* The previous owner's address: the real its id and generation named, if that one is still there. */
static const char *prev_text(const struct ring_view *v, char *buf, size_t size)
{
	struct xlvs_addr a;

	if (!(v->prev_real.flags & XLVS_REAL_F_ACTIVE) || v->prev_real.gen != v->prev.real_gen)
		return NULL;
	xlvs_addr_of(&a, v->prev_real.family, v->prev_real.addr);
	return xlvs_addr_text(&a, buf, size);
}

/* "previous owner 198.18.1.11, window open for 95 s more", and the same in JSON ring_prev. */
static void explain_prev(struct xp *p, const struct ring_view *v)
{
	char rb[INET6_ADDRSTRLEN];
	const char *addr = prev_text(v, rb, sizeof(rb));

	xp_obj_open(p, "ring_prev");
	xp_str(p, XP_JSON, "state", NULL, prev_state_names[v->prev_state]);
	if (v->prev_state == PREV_NONE) {
		xp_text(p, "no previous owner");
		xp_obj_close(p);
		return;
	}
	xp_u64(p, XP_JSON, "id", NULL, v->prev.real_id);
	xp_u64(p, XP_JSON, "gen", NULL, v->prev.real_gen);
	if (addr)
		xp_str(p, XP_ANY, "real", "previous owner %s", addr);
	else
		xp_text(p, "previous owner id %u generation %u", v->prev.real_id, v->prev.real_gen);
	if (v->window_s != INT64_MAX)
		xp_i64(p, XP_JSON, "window_left_s", NULL, v->window_s);
	switch (v->prev_state) {
	case PREV_FOLLOWS:
		if (v->window_s == INT64_MAX) /* the kernel's clock unreadable: the rest still holds */
			xp_text(p, ", window of unknown length (jiffies unreadable)");
		else
			xp_text(p, ", window open for %" PRId64 " s more", v->window_s);
		break;
	case PREV_WINDOW_OVER:
		xp_text(p, ", window over %" PRId64 " s ago: forgotten", -v->window_s);
		break;
	case PREV_IS_OWNER:
		xp_text(p, ": the owner itself (the slot changed back)");
		break;
	case PREV_INACTIVE:
		xp_text(p, ", gone: removed");
		break;
	case PREV_GEN_REUSED:
		xp_text(p, ", gone: its id names another real now (generation %u)", v->prev_real.gen);
		break;
	case PREV_OTHER_SERVICE:
		xp_text(p, ", of another service: not followed");
		break;
	case PREV_NAT:
		xp_text(p, ", nat: not followed");
		break;
	default:
		break;
	}
	xp_obj_close(p);
}

/*
 * Where a packet that starts a flow goes from a changed slot: the scheduler
 * (bpf/sched.h), which for maglev is the slot's owner and for mh the owner
 * if it takes new flows, else the next bucket with mh-fallback. NULL when
 * explain cannot name a real: *why says where the packet goes (dropped, and why).
 */
static const struct xlvs_real_state *new_flow_real(const struct xlvs_svc_state *sv, const struct ring_view *v,
						   const char **why)
{
	const struct xlvs_real_state *r = v->owner == XLVS_REAL_NONE ? NULL : real_of(sv, v->owner);

	*why = NULL;
	if (v->owner == XLVS_REAL_NONE) {
		*why = "no real: dropped (no_real)";
		return NULL;
	}
	if (!r) {
		*why = "not a real of the service: dropped (bad_real)";
		return NULL;
	}
	if (sv->svc.sched == XLVS_SCHED_MH && !r->real.weight) {
		*why = sv->svc.flags & XLVS_SVC_F_SCHED_FALLBACK
			       ? "the next bucket whose real takes new flows (mh-fallback, not shown)"
			       : "the owner has weight 0: dropped (no_real)";
		return NULL;
	}
	return r;
}

/* JSON only: a real's address under key, null when the packet is dropped or goes where explain cannot say. */
static void json_real_or_null(struct xp *p, const char *key, const char *addr)
{
	if (addr)
		xp_str(p, XP_JSON, key, NULL, addr);
	else
		xp_json(p, key, json_null());
}

/* What a packet without an entry does on the changed slot (bpf/ring.h flow_select()). */
static void explain_ring_next(struct xp *p, const struct xlvs_svc_state *sv, const struct xlvs_flow *f,
			      const struct ring_view *v)
{
	char rb[INET6_ADDRSTRLEN], pb[INET6_ADDRSTRLEN], nb[INET6_ADDRSTRLEN + 16];
	bool tcp = f->proto == IPPROTO_TCP;
	/* not TCP, a packet cannot say it is not new: the previous owner only while it takes new flows */
	bool unweighted = v->prev_state == PREV_FOLLOWS && !tcp && !v->prev_real.weight;
	bool prev = v->prev_state == PREV_FOLLOWS && !unweighted;
	const struct xlvs_real_state *r;
	const char *why, *new_to;

	r = new_flow_real(sv, v, &why);
	if (r)
		snprintf(nb, sizeof(nb), "the owner %s", real_text(r, rb, sizeof(rb)));
	new_to = r ? nb : why;
	prev_text(v, pb, sizeof(pb));
	xp_obj_open(p, "ring_next");
	xp_str(p, XP_JSON, "by", NULL, "ring");
	if (tcp)
		json_real_or_null(p, "syn", r ? rb : NULL);
	json_real_or_null(p, tcp ? "other" : "any", prev ? pb : r ? rb : NULL);
	xp_obj_close(p);
	if (prev && tcp)
		xp_text(p,
			"  without an entry: a packet that is not a SYN began before the change and goes "
			"to the previous owner %s (ring_prev_owner); a SYN goes to %s (ring_new_owner)\n",
			pb, new_to);
	else if (prev)
		xp_text(p,
			"  without an entry: a packet goes to the previous owner %s, which still takes "
			"new flows (ring_prev_owner)\n",
			pb);
	else
		xp_text(p,
			"  without an entry: every packet is scheduled as a new flow: to %s (ring_new_owner)%s\n",
			new_to,
			unweighted
				? "; the previous owner has weight 0, and a packet of this protocol cannot "
				  "say it is not new"
				: "");
}

/*
 * A ring-state service (maglev or mh, bpf/ring.h): a packet on an unchanged slot whose owner
 * can take it goes there with no connection lookup: RS_STABLE, the entry,
 * if any, is not consulted. Otherwise the flow goes the table way, said here;
 * on a changed slot with its owner and previous owner (RS_CHANGED, *v filled).
 */
enum ring_outcome {
	RS_TABLE,
	RS_STABLE,
	RS_CHANGED,
	RS_UNUSABLE
};

static enum ring_outcome explain_ring_state(struct xp *p, struct xlvs_maps *m,
					    const struct xlvs_svc_state *sv, uint32_t slot,
					    struct ring_view *v)
{
	const struct xlvs_real_state *r;
	char rb[INET6_ADDRSTRLEN];

	if (!(sv->svc.flags & XLVS_SVC_F_RING_STATE))
		return RS_TABLE;
	v->slot = slot;
	v->owner = ring_pick(m, &sv->svc, v->slot, &v->changed);
	r = v->owner == XLVS_REAL_NONE ? NULL : real_of(sv, v->owner);
	if (v->changed) {
		read_prev(m, &sv->svc, v);
		xp_str(p, XP_JSON, "ring_slot", NULL, "changed");
		xp_text(p, "ring state: slot %u changed owner: ", v->slot);
		if (r)
			xp_str(p, XP_ANY, "ring_owner", "its owner now %s", real_text(r, rb, sizeof(rb)));
		else
			xp_json(p, "ring_owner", json_null());
		if (!r && v->owner == XLVS_REAL_NONE)
			xp_text(p, "no owner now (an empty slot)");
		else if (!r)
			xp_text(p, "its owner now id %u, not a real of the service", v->owner);
		xp_text(p, "; ");
		explain_prev(p, v);
		xp_text(p, "\n");
		return RS_CHANGED;
	}
	if (!r || !r->real.weight || xlvs_fwd_is_nat(r->real.fwd)) {
		xp_str(p, XP_JSON, "ring_slot", NULL, "owner_unusable");
		xp_text(p,
			"ring state: slot %u unchanged, but its owner cannot take the flow: looked up and "
			"scheduled as in a table service (ring_owner_unusable)\n",
			v->slot);
		return RS_UNUSABLE;
	}
	xp_str(p, XP_JSON, "ring_slot", NULL, "stable");
	xp_text(p, "ring state: slot %u unchanged: the flow goes to its owner %s with no connection lookup\n",
		v->slot, real_text(r, rb, sizeof(rb)));
	return RS_STABLE;
}

/*
 * The ring state's part (the flow at slot), then the entry's unless a stable slot decides,
 * then a changed slot's rules.
 */
static void explain_flow(struct xp *p, struct xlvs_maps *m, const struct xlvs_state *st,
			 const struct xlvs_svc_state *sv, const struct xlvs_flow *f, uint32_t slot)
{
	enum ring_outcome rs;
	struct ring_view v;

	rs = explain_ring_state(p, m, sv, slot, &v);
	if (rs == RS_STABLE)
		return;
	if (explain_entry(p, m, st, f, rs == RS_CHANGED)) {
		if (rs == RS_CHANGED) {
			xp_obj_open(p, "ring_next");
			xp_str(p, XP_JSON, "by", NULL, "entry");
			xp_obj_close(p);
		}
	} else if (rs == RS_CHANGED) {
		explain_ring_next(p, sv, f, &v);
	}
}

/* The ring's part for one client port: the flow at pos. */
static void explain_ring(struct xp *p, struct xlvs_maps *m, const struct xlvs_svc_state *sv,
			 const struct flow_pos *pos)
{
	uint32_t id = ring_pick(m, &sv->svc, pos->slot, NULL);
	const struct xlvs_real_state *r = id == XLVS_REAL_NONE ? NULL : real_of(sv, id);
	char rb[INET6_ADDRSTRLEN];

	xp_u64(p, XP_ANY, "hash", "ring: flow hash %" PRIu64, pos->hash);
	xp_u64(p, XP_ANY, "slot", ", slot %" PRIu64, pos->slot);
	xp_u64(p, XP_ANY, "ring_size", " of %" PRIu64, sv->svc.ring_size);
	if (!r) {
		xp_json(p, "ring_real", json_null());
		xp_text(p,
			": no real\n  no real takes new flows (every weight 0, or none): dropped as no_real\n");
		return;
	}
	xp_str(p, XP_ANY, "ring_real", ": real %s", real_text(r, rb, sizeof(rb)));
	xp_u64(p, XP_ANY, "weight", " (weight %" PRIu64 ")\n", r->real.weight);
}

/* Without a client port: how the client's ports spread over the reals. */
static void explain_ports(struct xp *p, struct xlvs_maps *m, const struct xlvs_svc_state *sv,
			  struct xlvs_flow *f)
{
	uint32_t *count = calloc(sv->nr_reals + 1, sizeof(*count)), port, id, flags = state_flags(m);
	char rb[INET6_ADDRSTRLEN];
	size_t j;

	if (!count)
		return;
	for (port = 1; port <= 65535; port++) {
		f->sport = htons((uint16_t)port);
		id = ring_pick(m, &sv->svc, flow_pos(flags, &sv->svc, f).slot, NULL);
		for (j = 0; j < sv->nr_reals && sv->reals[j].id != id; j++)
			;
		count[j]++; /* nr_reals: no real */
	}
	f->sport = 0;
	xp_text(p, "by client port (1-65535, new flows):\n");
	xp_arr_open(p, "ports");
	for (j = 0; j <= sv->nr_reals; j++) {
		if (j == sv->nr_reals && !count[j])
			break;
		xp_obj_open(p, NULL);
		xp_str(p, XP_ANY, "real", "  %-40s",
		       j < sv->nr_reals ? real_text(&sv->reals[j], rb, sizeof(rb)) : "(none: no_real)");
		xp_u64(p, XP_ANY, "ports", " %6" PRIu64, count[j]);
		xp_dbl(p, XP_TEXT, NULL, " %6.2f%%\n", 100.0 * count[j] / 65535);
		xp_obj_close(p);
	}
	xp_arr_close(p);
	free(count);
}

/* The health xlvsd reports for the real of the service that the flow got; quiet without a daemon. */
static void explain_health(struct xlvs_ctx *c, struct xp *p, const struct xlvs_svc_state *sv)
{
	char derr[256], vip[INET6_ADDRSTRLEN];
	json_t *svcs, *s, *r;
	struct xlvs_addr a;
	size_t i, j;
	int hrc;

	svcs = xlvs_ctl_health(c->sock_path, c->timeout_ms, &hrc, derr, sizeof(derr));
	if (!svcs)
		return;
	xlvs_addr_of(&a, sv->key.family, sv->key.addr);
	xlvs_addr_text(&a, vip, sizeof(vip));
	json_array_foreach (svcs, i, s) {
		if (strcmp(json_string_value(json_object_get(s, "vip")) ?: "", vip) ||
		    json_integer_value(json_object_get(s, "port")) != ntohs(sv->key.port))
			continue;
		xp_text(p, "health (xlvsd):");
		xp_arr_open(p, "health");
		json_array_foreach (json_object_get(s, "reals"), j, r) {
			json_t *h = json_object_get(r, "health");

			xp_obj_open(p, NULL);
			xp_str(p, XP_ANY, "address", " %s",
			       json_string_value(json_object_get(r, "address")) ?: "?");
			xp_str(p, XP_ANY, "state", " %s",
			       json_string_value(json_object_get(h, "state")) ?: "?");
			xp_u64(p, XP_ANY, "effective_weight", " (weight %" PRIu64 ")",
			       (uint64_t)json_integer_value(json_object_get(r, "effective_weight")));
			xp_obj_close(p);
		}
		xp_arr_close(p);
		xp_text(p, "\n");
		break;
	}
	json_decref(svcs);
}

static int explain(struct xlvs_ctx *c, struct xlvs_maps *m, struct explain_args *a)
{
	struct xlvs_flow f = { .proto = a->svc.proto ? a->svc.proto : IPPROTO_TCP,
			       .family = a->svc.addr.family };
	char eb[XLVS_EPSTRLEN + 32], sb[XLVS_EPSTRLEN + 32];
	const struct xlvs_svc_state *sv;
	struct xlvs_state st;
	struct xp p;
	int rc;

	if (a->client.addr.family != a->svc.addr.family)
		return xlvs_usage_error(c, "the client and the VIP are of different families");
	memcpy(f.src, a->client.addr.be, sizeof(f.src));
	memcpy(f.dst, a->svc.addr.be, sizeof(f.dst));
	f.sport = htons(a->client.port);
	f.dport = htons(a->svc.port);
	rc = xlvs_state_read(m, &st);
	if (rc)
		return xlvs_error(c, XLVS_EXIT_RUNTIME, "cannot read the maps: %s", strerror(-rc));
	a->svc.proto = f.proto;
	sv = find_service(&st, &f);
	if (!sv) {
		xlvs_state_free(&st);
		return xlvs_error(c, XLVS_EXIT_RUNTIME,
				  "no service for %s: its packets pass to the kernel "
				  "(pass_no_service)",
				  xlvs_svc_text(&a->svc, eb, sizeof(eb)));
	}
	xlvs_printer(c, &p);
	{
		struct xlvs_endpoint se = { .port = ntohs(sv->key.port), .proto = sv->key.proto };

		xlvs_addr_of(&se.addr, sv->key.family, sv->key.addr);
		xp_str(&p, XP_ANY, "service", "service: %s", xlvs_svc_text(&se, sb, sizeof(sb)));
		xp_text(&p, "%s\n", sv->key.port != f.dport ? " (the VIP's all-ports service)" : "");
	}
	if (sv->svc.sched != XLVS_SCHED_MAGLEV)
		xp_text(&p, "scheduler %s: %s\n", xlvs_sched_name(sv->svc.sched, eb, sizeof(eb)),
			sched_table_kind(sv->svc.sched));
	explain_counts(&p, m, sv);
	if (sv->svc.persist_timeout)
		explain_persist(&p, m, sv, &f);
	if (a->client.have_port) {
		struct flow_pos pos = flow_pos(state_flags(m), &sv->svc, &f);

		explain_flow(&p, m, &st, sv, &f, pos.slot);
		if (sv->svc.sched == XLVS_SCHED_MAGLEV) /* what the ring gives a new flow, in either case */
			explain_ring(&p, m, sv, &pos);
	} else if (sv->svc.sched == XLVS_SCHED_MAGLEV) {
		explain_ports(&p, m, sv, &f);
	}
	explain_health(c, &p, sv);
	xlvs_state_free(&st);
	return xlvs_finish(c, &p);
}

int cmd_explain(struct xlvs_ctx *c, int argc, char **argv)
{
	struct explain_args a = { 0 };
	struct xlvs_maps m;
	int rc;

	rc = xlvs_parse_opts(c, xlvs_opts_explain, argc, argv, &a);
	if (rc)
		return rc;
	rc = xlvs_cli_maps_open(c, &m);
	if (rc)
		return rc;
	rc = explain(c, &m, &a);
	xlvs_maps_close(&m);
	return rc;
}
