// SPDX-License-Identifier: GPL-2.0
/*
 * xlvs explain CLIENT[:PORT] SERVICE: which real a flow goes to and why, by
 * the data path's own steps read from the pinned maps: the service lookup
 * (the port's service, else the VIP's all-ports one), the connection entry
 * (bpf/conntrack.h), the Maglev ring slot from the shared flow hash
 * (include/xlvs/hash.h, bpf/sched.h), the client's persistence template
 * (bpf/persist.h), and the real's weight and health.
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

/*
 * The ring's real for hash (sched.h maglev_pick), XLVS_REAL_NONE for an empty
 * slot; *changed (may be NULL): the slot changed owner (ring state, abi.h
 * XLVS_SLOT_CHANGED; an empty slot counts as changed).
 */
static uint32_t ring_pick(struct xlvs_maps *m, const struct xlvs_service *svc, uint32_t hash, uint32_t *slot,
			  bool *changed)
{
	uint32_t v = XLVS_REAL_NONE;

	*slot = hash % (svc->ring_size ? svc->ring_size : 1);
	if (svc->ring_size) {
		uint32_t key = svc->ring_base + *slot;

		if (bpf_map_lookup_elem(m->ring, &key, &v))
			v = XLVS_REAL_NONE;
	}
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
			  const struct xlvs_flow *f)
{
	const struct xlvs_real_state *r = NULL;
	char rb[INET6_ADDRSTRLEN];
	struct xlvs_conn conn;
	int64_t left;
	size_t i;

	if (!conn_entry(m, f, &conn)) {
		xp_text(p, "connection entry: none: a new flow, scheduled by the ring\n");
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
	return true;
}

/* The template key of the flow's client (bpf/persist.h persist_key): its address cut to plen bits. */
static void tpl_key(const struct xlvs_flow *f, const struct xlvs_service *svc, struct xlvs_svc_addr_key *k)
{
	int i, bits;

	memset(k, 0, sizeof(*k));
	for (i = 0; i < 4; i++) {
		bits = svc->persist_plen - 32 * i;
		k->addr[i] = bits >= 32	 ? f->src[i]
			     : bits <= 0 ? 0
					 : f->src[i] & htonl(~(UINT32_MAX >> bits));
	}
	k->svc_id = svc->id;
	k->family = f->family;
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

	tpl_key(f, &sv->svc, &k);
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

/*
 * A ring-state service (maglev or mh, bpf/ring.h): a packet on an unchanged slot whose owner
 * can take it goes there with no connection lookup; true then (the entry, if
 * any, is not consulted). Otherwise the flow goes the table way, said here.
 */
static bool explain_ring_state(struct xp *p, struct xlvs_maps *m, const struct xlvs_svc_state *sv,
			       const struct xlvs_flow *f)
{
	uint32_t slot, id;
	const struct xlvs_real_state *r;
	char rb[INET6_ADDRSTRLEN];
	bool changed;

	if (!(sv->svc.flags & XLVS_SVC_F_RING_STATE))
		return false;
	/* maglev: the flow's hash; mh: the client's (include/xlvs/hash.h) */
	id = ring_pick(m, &sv->svc, xlvs_ring_slot_hash(sv->svc.sched, sv->svc.flags, f, xlvs_flow_hash(f)),
		       &slot, &changed);
	r = id == XLVS_REAL_NONE ? NULL : real_of(sv, id);
	if (changed) {
		xp_str(p, XP_JSON, "ring_slot", NULL, "changed");
		xp_text(p,
			"ring state: slot %u changed owner: the flow's entry decides; without one a TCP "
			"packet that is not a SYN (UDP: any, while that real has weight) goes to the slot's "
			"previous owner within ring_window, others to its owner now\n",
			slot);
		return false;
	}
	if (!r || !r->real.weight || xlvs_fwd_is_nat(r->real.fwd)) {
		xp_str(p, XP_JSON, "ring_slot", NULL, "owner_unusable");
		xp_text(p,
			"ring state: slot %u unchanged, but its owner cannot take the flow: looked up and "
			"scheduled as in a table service (ring_owner_unusable)\n",
			slot);
		return false;
	}
	xp_str(p, XP_JSON, "ring_slot", NULL, "stable");
	xp_text(p, "ring state: slot %u unchanged: the flow goes to its owner %s with no connection lookup\n",
		slot, real_text(r, rb, sizeof(rb)));
	return true;
}

/* The ring's part for one client port. */
static void explain_ring(struct xp *p, struct xlvs_maps *m, const struct xlvs_svc_state *sv,
			 const struct xlvs_flow *f)
{
	uint32_t hash = xlvs_flow_hash(f), slot, id = ring_pick(m, &sv->svc, hash, &slot, NULL);
	const struct xlvs_real_state *r = id == XLVS_REAL_NONE ? NULL : real_of(sv, id);
	char rb[INET6_ADDRSTRLEN];

	xp_u64(p, XP_ANY, "hash", "ring: flow hash %" PRIu64, hash);
	xp_u64(p, XP_ANY, "slot", ", slot %" PRIu64, slot);
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
	uint32_t *count = calloc(sv->nr_reals + 1, sizeof(*count)), port, slot, id;
	char rb[INET6_ADDRSTRLEN];
	size_t j;

	if (!count)
		return;
	for (port = 1; port <= 65535; port++) {
		f->sport = htons((uint16_t)port);
		id = ring_pick(m, &sv->svc, xlvs_flow_hash(f), &slot, NULL);
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
	if (!a->client.have_port && sv->svc.sched == XLVS_SCHED_MAGLEV)
		explain_ports(&p, m, sv, &f);
	else if (a->client.have_port && !explain_ring_state(&p, m, sv, &f))
		explain_entry(&p, m, &st, &f); /* then what the ring gives a new flow, in either case */
	if (a->client.have_port && sv->svc.sched == XLVS_SCHED_MAGLEV)
		explain_ring(&p, m, sv, &f);
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
