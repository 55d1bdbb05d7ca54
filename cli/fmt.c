// SPDX-License-Identifier: GPL-2.0
/*
 * Service tables, counters and the connection table: pure functions of a
 * view (struct xlvs_view), printed through the one printer (print.h).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "fmt.h"
#include "schedtab.h"

#define ADDR_COL_MIN 21 /* "VirtualAddress:Port" and a little air */
#define NAMEBUF	     16
#define FMT_HEALTH   (1 << 12) /* internal: a Health column */

static const struct xlvs_counters zero_ctr;

static uint16_t svc_port(const struct xlvs_svc_state *s)
{
	return ntohs(s->key.port);
}

static const char *svc_ep(const struct xlvs_svc_state *s, char *buf, size_t size)
{
	struct xlvs_addr a;

	xlvs_addr_of(&a, s->key.family, s->key.addr);
	return xlvs_ep_text(&a, svc_port(s), buf, size);
}

/* A real shows the service port: DR and tunnels keep the destination port. */
/* A nat/fullnat real's own port, else the service's (the packet's). */
static uint16_t real_port(const struct xlvs_real_state *r, uint16_t svc_port)
{
	return r->real.port ? ntohs(r->real.port) : svc_port;
}

static const char *real_ep(const struct xlvs_real_state *r, uint16_t port, char *buf, size_t size)
{
	struct xlvs_addr a;

	xlvs_addr_of(&a, r->real.family, r->real.addr);
	return xlvs_ep_text(&a, real_port(r, port), buf, size);
}

static int addr_width(const struct xlvs_state *st)
{
	char buf[XLVS_EPSTRLEN];
	int w = ADDR_COL_MIN;
	size_t i, j;

	for (i = 0; i < st->nr_services && st->services; i++) {
		const struct xlvs_svc_state *s = &st->services[i];
		int l = (int)strlen(svc_ep(s, buf, sizeof(buf)));

		w = l > w ? l : w;
		for (j = 0; j < s->nr_reals && s->reals; j++) {
			l = (int)strlen(real_ep(&s->reals[j], svc_port(s), buf, sizeof(buf)));
			w = l > w ? l : w;
		}
	}
	return w;
}

static const struct xlvs_counters *ctr_of(const struct xlvs_counters *arr, size_t n, uint32_t id)
{
	return arr && id < n ? &arr[id] : &zero_ctr;
}

/* JSON identity of a service: id, protocol, vip, port. */
static void svc_ident(struct xp *p, const struct xlvs_svc_state *s)
{
	char nb[NAMEBUF], ab[INET6_ADDRSTRLEN];
	struct xlvs_addr a;

	xlvs_addr_of(&a, s->key.family, s->key.addr);
	xp_u64(p, XP_JSON, "id", NULL, s->svc.id);
	xp_str(p, XP_JSON, "protocol", NULL, xlvs_proto_name(s->key.proto, nb, sizeof(nb)));
	xp_str(p, XP_JSON, "vip", NULL, xlvs_addr_text(&a, ab, sizeof(ab)));
	xp_u64(p, XP_JSON, "port", NULL, svc_port(s));
}

static void real_ident(struct xp *p, const struct xlvs_real_state *r, uint16_t port)
{
	char ab[INET6_ADDRSTRLEN];
	struct xlvs_addr a;

	xlvs_addr_of(&a, r->real.family, r->real.addr);
	xp_u64(p, XP_JSON, "id", NULL, r->id);
	xp_str(p, XP_JSON, "address", NULL, xlvs_addr_text(&a, ab, sizeof(ab)));
	xp_u64(p, XP_JSON, "port", NULL, real_port(r, port));
}

/* echo, then the scheduler's flags by their ipvsadm names (sh-fallback, mh-port). */
static void svc_flags(struct xp *p, uint8_t sched, uint32_t flags)
{
	uint32_t bit, known = XLVS_SVC_F_ECHO | XLVS_SVC_F_RING_STATE; /* the mode: svc_flow_state() */
	const char *name;
	char buf[16];

	xp_arr_open(p, "flags");
	if (flags & XLVS_SVC_F_ECHO)
		xp_str(p, XP_ANY, NULL, " %s", "echo");
	for (bit = XLVS_SVC_F_SCHED_FALLBACK; bit & XLVS_SVC_F_SCHED_MASK; bit <<= 1) {
		name = flags & bit ? xlvs_sched_flag_name(sched, bit) : NULL;
		if (name)
			xp_str(p, XP_ANY, NULL, " %s", name);
		known |= name ? bit : 0;
	}
	if (flags & ~known) {
		snprintf(buf, sizeof(buf), "0x%x", flags & ~known);
		xp_str(p, XP_ANY, NULL, " %s", buf);
	}
	xp_arr_close(p);
}

/*
 * How the data path remembers the service's flows: the planner's
 * XLVS_SVC_F_RING_STATE bit, which is what the data path obeys. JSON
 * "flow_state" always; text "flow-state ring|table" in detail, and in the
 * list one more Flags word, "ring-state", for ring services only (a table
 * service's line stays as ipvsadm's).
 */
static void svc_flow_state(struct xp *p, uint32_t flags, bool detail)
{
	bool ring = flags & XLVS_SVC_F_RING_STATE;

	xp_str(p, detail ? XP_ANY : XP_JSON, "flow_state", "  flow-state %s", ring ? "ring" : "table");
	if (ring && !detail)
		xp_text(p, " ring-state");
}

static double rate(uint64_t now, uint64_t then, double dt)
{
	/* A counter that went back (entry re-created) has no meaningful rate. */
	return now >= then ? (double)(now - then) / dt : 0.0;
}

/*
 * A service's or real's counters: in, what went to the reals (xlvs_svc_stats,
 * xlvs_real_stats); out, the NAT replies that came back through the director
 * (xlvs_svc_out, xlvs_real_out).
 */
struct traffic {
	const struct xlvs_counters *in, *out;
};

static struct traffic svc_traffic(const struct xlvs_view *s, uint32_t id)
{
	return (struct traffic){ ctr_of(s->svc_ctr, s->nr_svc_ctr, id),
				 ctr_of(s->svc_out, s->nr_svc_ctr, id) };
}

static struct traffic real_traffic(const struct xlvs_view *s, uint32_t id)
{
	return (struct traffic){ ctr_of(s->real_ctr, s->nr_real_ctr, id),
				 ctr_of(s->real_out, s->nr_real_ctr, id) };
}

/*
 * Counter columns (and rate columns) for the stats layout, ipvsadm -L --stats's
 * order: Conns InPkts OutPkts InBytes OutBytes. JSON keeps "packets" and
 * "bytes" for the in direction and adds "out_packets", "out_bytes".
 */
static void counter_cols(struct xp *p, struct traffic c, const struct traffic *prev, double dt)
{
	xp_obj_open(p, "stats");
	xp_u64(p, XP_ANY, "conns", " %10" PRIu64, c.in->new_flows);
	xp_u64(p, XP_ANY, "packets", " %12" PRIu64, c.in->packets);
	xp_u64(p, XP_ANY, "out_packets", " %12" PRIu64, c.out->packets);
	xp_u64(p, XP_ANY, "bytes", " %15" PRIu64, c.in->bytes);
	xp_u64(p, XP_ANY, "out_bytes", " %15" PRIu64, c.out->bytes);
	xp_obj_close(p);
	if (dt <= 0 || !prev)
		return;
	xp_obj_open(p, "rate");
	xp_dbl(p, XP_ANY, "cps", " %9.0f", rate(c.in->new_flows, prev->in->new_flows, dt));
	xp_dbl(p, XP_ANY, "pps", " %11.0f", rate(c.in->packets, prev->in->packets, dt));
	xp_dbl(p, XP_ANY, "out_pps", " %11.0f", rate(c.out->packets, prev->out->packets, dt));
	xp_dbl(p, XP_ANY, "bps", " %14.0f", 8 * rate(c.in->bytes, prev->in->bytes, dt));
	xp_dbl(p, XP_ANY, "out_bps", " %14.0f", 8 * rate(c.out->bytes, prev->out->bytes, dt));
	xp_obj_close(p);
}

static void table_header(struct xp *p, int w, int flags)
{
	if (flags & XLVS_FMT_STATS) {
		xp_text(p, "Prot %-*s %10s %12s %12s %15s %15s", w, "VirtualAddress:Port", "Conns", "InPkts",
			"OutPkts", "InBytes", "OutBytes");
		if (flags & XLVS_FMT_RATES)
			xp_text(p, " %9s %11s %11s %14s %14s", "Conn/s", "InPkt/s", "OutPkt/s", "InBit/s",
				"OutBit/s");
		xp_text(p, "\n  -> RealAddress:Port\n");
		return;
	}
	xp_text(p, "Prot %-*s %-10s %s\n", w, "VirtualAddress:Port", "Scheduler", "Flags");
	if (flags & FMT_HEALTH)
		xp_text(p, "  -> %-*s %-7s %-6s %-10s %-9s %s\n", w, "RealAddress:Port", "Forward", "Weight",
			"ActiveConn", "InActConn", "Health");
	else
		xp_text(p, "  -> %-*s %-7s %-6s %-10s %s\n", w, "RealAddress:Port", "Forward", "Weight",
			"ActiveConn", "InActConn");
}

/* xlvsd's health entry of real r of service sv, or NULL; *sorry if r is the service's sorry server. */
static json_t *health_of(const struct xlvs_view *s, const struct xlvs_svc_state *sv,
			 const struct xlvs_real_state *r, bool *sorry)
{
	char vbuf[INET6_ADDRSTRLEN], rbuf[INET6_ADDRSTRLEN], nbuf[NAMEBUF];
	const char *vb, *rb, *nb;
	struct xlvs_addr a;
	json_t *svc, *real, *so;
	size_t i, j;

	*sorry = false;
	xlvs_addr_of(&a, sv->key.family, sv->key.addr);
	vb = xlvs_addr_text(&a, vbuf, sizeof(vbuf));
	xlvs_addr_of(&a, r->real.family, r->real.addr);
	rb = xlvs_addr_text(&a, rbuf, sizeof(rbuf));
	nb = xlvs_proto_name(sv->key.proto, nbuf, sizeof(nbuf));
	json_array_foreach (s->health, i, svc) {
		if (strcmp(json_string_value(json_object_get(svc, "vip")) ?: "", vb) ||
		    json_integer_value(json_object_get(svc, "port")) != svc_port(sv) ||
		    strcmp(json_string_value(json_object_get(svc, "protocol")) ?: "", nb))
			continue;
		json_array_foreach (json_object_get(svc, "reals"), j, real)
			if (!strcmp(json_string_value(json_object_get(real, "address")) ?: "", rb))
				return real;
		so = json_object_get(svc, "sorry");
		*sorry = so && !strcmp(json_string_value(json_object_get(so, "address")) ?: "", rb);
	}
	return NULL;
}

/* The Health column (text) and "health" object (JSON), when xlvsd told. */
static void health_col(struct xp *p, const struct xlvs_view *s, const struct xlvs_svc_state *sv,
		       const struct xlvs_real_state *r)
{
	bool sorry;
	json_t *h = s->health ? health_of(s, sv, r, &sorry) : NULL, *hh;
	const char *state;

	if (!s->health)
		return;
	hh = h ? json_object_get(h, "health") : NULL;
	state = hh ? json_string_value(json_object_get(hh, "state")) : NULL;
	if (!state)
		state = sorry ? "sorry" : "-";
	xp_str(p, XP_TEXT, NULL, " %s", state);
	if (hh)
		xp_json(p, "health", json_incref(hh));
	else if (sorry)
		xp_json(p, "health", json_pack("{s:s}", "state", "sorry"));
}

static void real_row(struct xp *p, const struct xlvs_view *s, const struct xlvs_view *prev,
		     const struct xlvs_svc_state *sv, const struct xlvs_real_state *r, uint16_t port, int w,
		     int flags, double dt)
{
	char eb[XLVS_EPSTRLEN], nb[NAMEBUF];
	const struct xlvs_conn_counts *cc;

	xp_obj_open(p, NULL);
	real_ident(p, r, port);
	xp_text(p, "  -> %-*s", w, real_ep(r, port, eb, sizeof(eb)));
	if (flags & XLVS_FMT_STATS) {
		struct traffic was = prev ? real_traffic(prev, r->id) : (struct traffic){ 0 };

		counter_cols(p, real_traffic(s, r->id), prev ? &was : NULL, dt);
	} else {
		xp_str(p, XP_TEXT, NULL, " %-7s", xlvs_fwd_text(r->real.fwd, nb, sizeof(nb)));
		xp_str(p, XP_JSON, "forward", NULL, xlvs_fwd_name(r->real.fwd, nb, sizeof(nb)));
		xp_u64(p, XP_ANY, "weight", " %-6" PRIu64, r->real.weight);
		cc = s->conns && r->id < s->nr_conns ? &s->conns[r->id] : NULL;
		if (cc) {
			xp_u64(p, XP_ANY, "active_conns", " %-10" PRIu64, cc->active);
			xp_u64(p, XP_ANY, "inactive_conns", s->health ? " %-9" PRIu64 : " %" PRIu64,
			       cc->inactive);
		} else {
			xp_text(p, s->health ? " %-10s %-9s" : " %-10s %s", "-", "-");
		}
		health_col(p, s, sv, r);
	}
	xp_text(p, "\n");
	xp_obj_close(p);
}

static void svc_row(struct xp *p, const struct xlvs_view *cur, const struct xlvs_view *prev,
		    const struct xlvs_svc_state *s, int w, int flags, double dt)
{
	char eb[XLVS_EPSTRLEN], nb[NAMEBUF];

	svc_ident(p, s);
	xp_str(p, XP_TEXT, NULL, "%-4s", xlvs_proto_text(s->key.proto, nb, sizeof(nb)));
	xp_text(p, " %-*s", w, svc_ep(s, eb, sizeof(eb)));
	if (flags & XLVS_FMT_STATS) {
		struct traffic was = prev ? svc_traffic(prev, s->svc.id) : (struct traffic){ 0 };

		counter_cols(p, svc_traffic(cur, s->svc.id), prev ? &was : NULL, dt);
	} else {
		xp_str(p, XP_ANY, "scheduler", " %-10s", xlvs_sched_name(s->svc.sched, nb, sizeof(nb)));
		xp_u64(p, XP_JSON, "ring_size", NULL, s->svc.ring_size);
		xlvs_fmt_svc_timeouts(p, s, false);
		svc_flags(p, s->svc.sched, s->svc.flags);
		svc_flow_state(p, s->svc.flags, false);
		xlvs_fmt_svc_persist(p, s, false);
	}
	xp_text(p, "\n");
}

static double interval(const struct xlvs_view *cur, const struct xlvs_view *prev, int flags)
{
	if (!(flags & XLVS_FMT_RATES) || !prev || cur->time_ns <= prev->time_ns)
		return 0;
	return (double)(cur->time_ns - prev->time_ns) / 1e9;
}

static void services_table(struct xp *p, const struct xlvs_view *s, const struct xlvs_view *prev, int flags)
{
	const struct xlvs_state *st = &s->st;
	double dt = interval(s, prev, flags);
	int w = addr_width(st);
	size_t i, j;

	if (dt <= 0)
		flags &= ~XLVS_FMT_RATES;
	table_header(p, w, flags | (s->health ? FMT_HEALTH : 0));
	xp_arr_open(p, "services");
	for (i = 0; i < st->nr_services && st->services; i++) {
		const struct xlvs_svc_state *sv = &st->services[i];

		xp_obj_open(p, NULL);
		svc_row(p, s, prev, sv, w, flags, dt);
		xp_arr_open(p, "reals");
		for (j = 0; j < sv->nr_reals && sv->reals; j++)
			real_row(p, s, prev, sv, &sv->reals[j], svc_port(sv), w, flags, dt);
		xp_arr_close(p);
		xp_obj_close(p);
	}
	xp_arr_close(p);
}

void xlvs_fmt_services(struct xp *p, const struct xlvs_view *s, int flags)
{
	services_table(p, s, NULL, flags & ~XLVS_FMT_RATES);
}

int xlvs_print_services(FILE *out, const struct xlvs_state *st, const struct xlvs_conn_counts *cc, size_t ncc,
			int flags)
{
	struct xlvs_view s = { .st = *st, .conns = (struct xlvs_conn_counts *)cc, .nr_conns = ncc };
	struct xp p;

	xp_init(&p, out, flags & XLVS_PRINT_JSON, flags & XLVS_PRINT_PRETTY);
	xp_begin(&p);
	xlvs_fmt_services(&p, &s, flags & (XLVS_FMT_STATS | XLVS_FMT_VERBOSE));
	return xp_end(&p);
}

void xlvs_fmt_counters(struct xp *p, const struct xlvs_counters *in, const struct xlvs_counters *out,
		       bool nat, const char *indent)
{
	enum xp_kind kind = nat ? XP_ANY : XP_JSON;

	out = out ? out : &zero_ctr;
	xp_text(p, "%s", indent);
	xp_obj_open(p, "stats");
	xp_u64(p, XP_ANY, "conns", "conns %" PRIu64, in->new_flows);
	xp_u64(p, XP_ANY, "packets", "  packets %" PRIu64, in->packets);
	xp_u64(p, XP_ANY, "bytes", "  bytes %" PRIu64, in->bytes);
	xp_u64(p, kind, "out_packets", "  out-packets %" PRIu64, out->packets);
	xp_u64(p, kind, "out_bytes", "  out-bytes %" PRIu64, out->bytes);
	xp_text(p, "\n");
	xp_obj_close(p);
}

static bool svc_has_nat(const struct xlvs_svc_state *sv)
{
	size_t j;

	for (j = 0; j < sv->nr_reals && sv->reals; j++)
		if (xlvs_fwd_is_nat(sv->reals[j].real.fwd))
			return true;
	return false;
}

/* "INDENTnexthop MAC ifindex N" and a "nexthop" object, if the real's next hop is resolved. */
void xlvs_fmt_nexthop(struct xp *p, const struct xlvs_real *r, const char *indent)
{
	const uint8_t *m = r->nh_mac;
	char mac[18];

	if (!(r->flags & XLVS_REAL_F_NH_VALID))
		return;
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	xp_text(p, "%s", indent);
	xp_obj_open(p, "nexthop");
	xp_str(p, XP_ANY, "mac", "nexthop %s", mac);
	xp_u64(p, XP_ANY, "ifindex", " ifindex %" PRIu64 "\n", r->nh_ifindex);
	xp_obj_close(p);
}

static void detail_nexthop(struct xp *p, const struct xlvs_real *r)
{
	if (r->fwd == XLVS_FWD_GUE && r->gue_port)
		xp_u64(p, XP_ANY, "gue_port", "     gue-port %" PRIu64 "\n", ntohs(r->gue_port));
	xlvs_fmt_nexthop(p, r, "     ");
}

/* "  ring 21845 slots (33.33%)": the share of new flows the ring gives the real. */
static void detail_ring_share(struct xp *p, const struct xlvs_view *s, const struct xlvs_real_state *r,
			      uint32_t ring_size)
{
	uint32_t n;

	if (!s->ring_slots || r->id >= s->nr_ring_slots || !ring_size)
		return;
	n = s->ring_slots[r->id];
	xp_u64(p, XP_ANY, "ring_slots", "  ring %" PRIu64 " slots", n);
	xp_dbl(p, XP_ANY, "ring_share", " (%.2f%%)", 100.0 * n / ring_size);
}

/*
 * "INDENTscheduler's count: active 3  inactive 1": the connections a
 * least-connection scheduler weighs (xlvs_real_load, kept by the data path),
 * not a walk's active/inactive; JSON "sched_conns".
 */
void xlvs_fmt_sched_conns(struct xp *p, const struct xlvs_real_load *l, const char *indent)
{
	xp_text(p, "%s", indent);
	xp_obj_open(p, "sched_conns");
	xp_i64(p, XP_ANY, "active", "scheduler's count: active %" PRId64, l->active);
	xp_i64(p, XP_ANY, "inactive", "  inactive %" PRId64 "\n", l->inactive);
	xp_obj_close(p);
}

const struct xlvs_real_load *xlvs_view_load(const struct xlvs_view *s, const struct xlvs_real_state *r)
{
	if (!(r->real.flags & XLVS_REAL_F_COUNTED) || !s->loads || r->id >= s->nr_loads)
		return NULL;
	return &s->loads[r->id];
}

static void detail_real(struct xp *p, const struct xlvs_view *s, const struct xlvs_real_state *r,
			uint16_t port, uint32_t ring_size)
{
	char eb[XLVS_EPSTRLEN], nb[NAMEBUF];
	const struct xlvs_conn_counts *cc = s->conns && r->id < s->nr_conns ? &s->conns[r->id] : NULL;

	xp_obj_open(p, NULL);
	real_ident(p, r, port);
	xp_text(p, "  -> %s\n", real_ep(r, port, eb, sizeof(eb)));
	xp_u64(p, XP_TEXT, NULL, "     id %" PRIu64, r->id);
	xp_str(p, XP_TEXT, NULL, "  forward %s", xlvs_fwd_text(r->real.fwd, nb, sizeof(nb)));
	xp_str(p, XP_JSON, "forward", NULL, xlvs_fwd_name(r->real.fwd, nb, sizeof(nb)));
	xp_u64(p, XP_ANY, "weight", "  weight %" PRIu64, r->real.weight);
	if (cc) {
		xp_u64(p, XP_ANY, "active_conns", "  active %" PRIu64, cc->active);
		xp_u64(p, XP_ANY, "inactive_conns", "  inactive %" PRIu64, cc->inactive);
	}
	detail_ring_share(p, s, r, ring_size);
	xp_text(p, "\n");
	if (xlvs_view_load(s, r))
		xlvs_fmt_sched_conns(p, xlvs_view_load(s, r), "     ");
	xlvs_fmt_counters(p, ctr_of(s->real_ctr, s->nr_real_ctr, r->id),
			  ctr_of(s->real_out, s->nr_real_ctr, r->id), xlvs_fwd_is_nat(r->real.fwd), "     ");
	detail_nexthop(p, &r->real);
	xp_obj_close(p);
}

static void detail_svc(struct xp *p, const struct xlvs_view *s, const struct xlvs_svc_state *sv)
{
	char eb[XLVS_EPSTRLEN], nb[NAMEBUF];
	size_t j;

	svc_ident(p, sv);
	xp_str(p, XP_TEXT, NULL, "%s", xlvs_proto_text(sv->key.proto, nb, sizeof(nb)));
	xp_text(p, " %s\n", svc_ep(sv, eb, sizeof(eb)));
	xp_u64(p, XP_TEXT, NULL, "  id %" PRIu64, sv->svc.id);
	xp_str(p, XP_ANY, "scheduler", "  scheduler %s", xlvs_sched_name(sv->svc.sched, nb, sizeof(nb)));
	xp_u64(p, XP_ANY, "ring_size", "  ring %" PRIu64, sv->svc.ring_size);
	xp_u64(p, XP_ANY, "ring_base", " slots from %" PRIu64, sv->svc.ring_base);
	svc_flow_state(p, sv->svc.flags, true);
	xp_text(p, "  flags");
	svc_flags(p, sv->svc.sched, sv->svc.flags);
	xp_text(p, "%s\n", sv->svc.flags & ~XLVS_SVC_F_RING_STATE ? "" : " none");
	xlvs_fmt_svc_timeouts(p, sv, true);
	xlvs_fmt_svc_persist(p, sv, true);
	xlvs_fmt_counters(p, ctr_of(s->svc_ctr, s->nr_svc_ctr, sv->svc.id),
			  ctr_of(s->svc_out, s->nr_svc_ctr, sv->svc.id), svc_has_nat(sv), "  ");
	xp_arr_open(p, "reals");
	for (j = 0; j < sv->nr_reals && sv->reals; j++)
		detail_real(p, s, &sv->reals[j], svc_port(sv), sv->svc.ring_size);
	xp_arr_close(p);
}

void xlvs_fmt_service_detail(struct xp *p, const struct xlvs_view *s, const size_t *idx, size_t n)
{
	size_t i, shown = 0;

	xp_arr_open(p, "services");
	for (i = 0; i < n; i++) {
		if (idx[i] >= s->st.nr_services || !s->st.services)
			continue;
		if (shown++)
			xp_text(p, "\n");
		xp_obj_open(p, NULL);
		detail_svc(p, s, &s->st.services[idx[i]]);
		xp_obj_close(p);
	}
	xp_arr_close(p);
}

/* One named counter list (drops or events); zero ones only with -v in text. */
static void named_counters(struct xp *p, const char *title, const char *key, const char *rkey,
			   const char *const *names, const uint64_t *cur, const uint64_t *prev, size_t n,
			   double dt, int flags)
{
	bool any = false;
	size_t i;

	for (i = 0; i < n; i++)
		any |= cur[i] != 0;
	xp_text(p, "%s:%s\n", title, any || (flags & XLVS_FMT_VERBOSE) ? "" : " none");
	xp_obj_open(p, key);
	for (i = 0; i < n; i++) {
		bool shown = cur[i] || (flags & XLVS_FMT_VERBOSE);

		if (shown)
			xp_text(p, "  %-24s", names[i]);
		xp_u64(p, shown ? XP_ANY : XP_JSON, names[i], " %12" PRIu64, cur[i]);
		if (shown && dt > 0)
			xp_text(p, " %11.1f/s", rate(cur[i], prev[i], dt));
		if (shown)
			xp_text(p, "\n");
	}
	xp_obj_close(p);
	if (dt <= 0)
		return;
	xp_obj_open(p, rkey);
	for (i = 0; i < n; i++)
		xp_dbl(p, XP_JSON, names[i], NULL, rate(cur[i], prev[i], dt));
	xp_obj_close(p);
}

/* "Connection table: N of M entries (P%)"; JSON conn_table {entries, capacity}. */
static void conn_table(struct xp *p, const struct xlvs_conn_table *t)
{
	xp_text(p, "\nConnection table:");
	xp_obj_open(p, "conn_table");
	xp_u64(p, XP_ANY, "entries", " %" PRIu64, t->entries);
	xp_u64(p, XP_ANY, "capacity", " of %" PRIu64 " entries", t->capacity);
	if (t->capacity)
		xp_text(p, " (%.1f%%)", 100.0 * (double)t->entries / (double)t->capacity);
	xp_obj_close(p);
	xp_text(p, "\n");
}

void xlvs_fmt_stats(struct xp *p, const struct xlvs_view *cur, const struct xlvs_view *prev, int flags)
{
	double dt = interval(cur, prev, flags);

	if (dt > 0)
		xp_dbl(p, XP_JSON, "interval_s", NULL, dt);
	services_table(p, cur, prev, flags | XLVS_FMT_STATS);
	if (cur->have_table)
		conn_table(p, &cur->table);
	if (!cur->have_drops)
		return;
	xp_text(p, "\n");
	named_counters(p, "Drops", "drops", "drop_rates", xlvs_drop_names, cur->drops,
		       prev ? prev->drops : NULL, XLVS_DROP_MAX, prev && prev->have_drops ? dt : 0, flags);
	named_counters(p, "Events", "events", "event_rates", xlvs_event_names, cur->events,
		       prev ? prev->events : NULL, XLVS_EV_MAX, prev && prev->have_drops ? dt : 0, flags);
}

/* Connection rows. The real's address comes from the state, found by id. */
struct real_ix {
	uint32_t id;
	const struct xlvs_real_state *r;
};

static int real_ix_cmp(const void *a, const void *b)
{
	const struct real_ix *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static struct real_ix *index_reals(const struct xlvs_state *st, size_t *n)
{
	struct real_ix *ix;
	size_t i, j, k = 0, total = 0;

	for (i = 0; i < st->nr_services && st->services; i++)
		total += st->services[i].reals ? st->services[i].nr_reals : 0;
	ix = calloc(total ? total : 1, sizeof(*ix));
	if (!ix)
		return NULL;
	for (i = 0; i < st->nr_services && st->services; i++)
		for (j = 0; j < st->services[i].nr_reals && st->services[i].reals; j++) {
			ix[k].id = st->services[i].reals[j].id;
			ix[k++].r = &st->services[i].reals[j];
		}
	qsort(ix, k, sizeof(*ix), real_ix_cmp);
	*n = k;
	return ix;
}

/* The real a connection entry names, if it still serves it (not an id's later real). */
static const struct xlvs_real_state *find_real(const struct real_ix *ix, size_t n, const struct xlvs_conn *c)
{
	struct real_ix key = { .id = c->real_id }, *hit;

	hit = ix ? bsearch(&key, ix, n, sizeof(*ix), real_ix_cmp) : NULL;
	return hit && xlvs_conn_is_current(c, &hit->r->real) ? hit->r : NULL;
}

/* Unknown value: JSON null, text placeholder. */
static void emit_null(struct xp *p, const char *key, const char *text)
{
	xp_json(p, key, json_null());
	xp_text(p, "%s", text);
}

struct conn_text {
	char client[XLVS_EPSTRLEN], vip[XLVS_EPSTRLEN], real[XLVS_EPSTRLEN], snat[XLVS_EPSTRLEN];
};

#define CONN_COLS 4

static void conn_text(const struct xlvs_conn_row *row, const struct xlvs_real_state *r, struct conn_text *t)
{
	struct xlvs_addr a;

	xlvs_addr_of(&a, row->flow.family, row->flow.src);
	xlvs_ep_text(&a, ntohs(row->flow.sport), t->client, sizeof(t->client));
	xlvs_addr_of(&a, row->flow.family, row->flow.dst);
	xlvs_ep_text(&a, ntohs(row->flow.dport), t->vip, sizeof(t->vip));
	if (r) {
		xlvs_addr_of(&a, r->real.family, r->real.addr);
		if (xlvs_fwd_is_nat(r->real.fwd)) /* the port it is sent to */
			xlvs_ep_text(&a, real_port(r, ntohs(row->flow.dport)), t->real, sizeof(t->real));
		else
			xlvs_addr_text(&a, t->real, sizeof(t->real));
	} else {
		snprintf(t->real, sizeof(t->real), "-");
	}
	if (row->snat.family)
		xlvs_ep_text(&row->snat, ntohs(row->conn.snat_port), t->snat, sizeof(t->snat));
	else
		t->snat[0] = '\0';
}

static int wider(int w, const char *s)
{
	return (int)strlen(s) > w ? (int)strlen(s) : w;
}

/* w[3] stays 0 unless some flow is fullnat: then the Source column is shown. */
static void conn_widths(const struct xlvs_conn_row *rows, size_t n, const struct real_ix *ix, size_t nix,
			int w[CONN_COLS])
{
	struct conn_text t;
	size_t i;

	w[0] = (int)strlen("Client:Port");
	w[1] = (int)strlen("VirtualAddress:Port");
	w[2] = (int)strlen("RealAddress");
	for (i = 0; i < n; i++) {
		conn_text(&rows[i], find_real(ix, nix, &rows[i].conn), &t);
		w[0] = wider(w[0], t.client);
		w[1] = wider(w[1], t.vip);
		w[2] = wider(w[2], t.real);
		if (t.snat[0])
			w[3] = wider(w[3] ? w[3] : (int)strlen("Source:Port"), t.snat);
	}
}

static void conn_row(struct xp *p, const struct xlvs_conn_row *row, const struct xlvs_real_state *r,
		     const int w[CONN_COLS])
{
	char nb[NAMEBUF], ab[INET6_ADDRSTRLEN];
	struct conn_text t;
	struct xlvs_addr a;

	conn_text(row, r, &t);
	xp_obj_open(p, NULL);
	xp_str(p, XP_TEXT, NULL, "%-4s", xlvs_proto_text(row->flow.proto, nb, sizeof(nb)));
	xp_str(p, XP_JSON, "protocol", NULL, xlvs_proto_name(row->flow.proto, nb, sizeof(nb)));
	xp_text(p, " %-*s %-*s %-*s ", w[0], t.client, w[1], t.vip, w[2], t.real);
	if (w[3])
		xp_text(p, "%-*s ", w[3], t.snat[0] ? t.snat : "-");
	xlvs_addr_of(&a, row->flow.family, row->flow.src);
	xp_str(p, XP_JSON, "client", NULL, xlvs_addr_text(&a, ab, sizeof(ab)));
	xp_u64(p, XP_JSON, "client_port", NULL, ntohs(row->flow.sport));
	xlvs_addr_of(&a, row->flow.family, row->flow.dst);
	xp_str(p, XP_JSON, "vip", NULL, xlvs_addr_text(&a, ab, sizeof(ab)));
	xp_u64(p, XP_JSON, "port", NULL, ntohs(row->flow.dport));
	xp_u64(p, XP_JSON, "real_id", NULL, row->conn.real_id);
	if (r) {
		xlvs_addr_of(&a, r->real.family, r->real.addr);
		xp_str(p, XP_JSON, "real", NULL, xlvs_addr_text(&a, ab, sizeof(ab)));
	} else {
		emit_null(p, "real", "");
	}
	if (r && xlvs_fwd_is_nat(r->real.fwd))
		xp_u64(p, XP_JSON, "real_port", NULL, real_port(r, ntohs(row->flow.dport)));
	if (row->snat.family) { /* fullnat: what the real sees as the client */
		xp_str(p, XP_JSON, "source", NULL, xlvs_addr_text(&row->snat, ab, sizeof(ab)));
		xp_u64(p, XP_JSON, "source_port", NULL, ntohs(row->conn.snat_port));
	}
	xp_str(p, XP_ANY, "state", "%-7s ",
	       row->conn.state == XLVS_CONN_CLOSING ? "closing"
	       : row->conn.state == XLVS_CONN_OPEN  ? "open"
	       : row->conn.state == XLVS_CONN_SYN   ? "syn"
						    : "?");
	if (row->idle_ns == XLVS_IDLE_UNKNOWN)
		emit_null(p, "idle_s", "-       ");
	else
		xp_u64(p, XP_ANY, "idle_s", "%-7" PRIu64 " ", row->idle_ns / 1000000000ull);
	if (row->expires_s == XLVS_EXPIRES_UNKNOWN || row->expires_s == XLVS_EXPIRES_NEVER)
		emit_null(p, "expires_s", row->expires_s == XLVS_EXPIRES_NEVER ? "never\n" : "-\n");
	else
		xp_u64(p, XP_ANY, "expires_s", "%" PRIu64 "\n", (uint64_t)row->expires_s);
	xp_obj_close(p);
}

void xlvs_fmt_conns(struct xp *p, const struct xlvs_state *st, const struct xlvs_conn_row *rows, size_t n,
		    size_t matched, size_t expired)
{
	size_t nix = 0, i;
	struct real_ix *ix = index_reals(st, &nix);
	int w[CONN_COLS] = { 0, 0, 0, 0 };

	if (!p->json) /* widths cost a formatting pass over every row */
		conn_widths(rows, n, ix, nix, w);
	xp_text(p, "Prot %-*s %-*s %-*s ", w[0], "Client:Port", w[1], "VirtualAddress:Port", w[2],
		"RealAddress");
	if (w[3])
		xp_text(p, "%-*s ", w[3], "Source:Port");
	xp_text(p, "%-7s %s\n", "State", "Idle(s) Expires(s)");
	xp_arr_open(p, "connections");
	for (i = 0; i < n; i++)
		conn_row(p, &rows[i], find_real(ix, nix, &rows[i].conn), w);
	xp_arr_close(p);
	xp_u64(p, XP_JSON, "matched", NULL, matched);
	xp_u64(p, XP_JSON, "expired", NULL, expired);
	if (matched > n)
		xp_text(p, "(%zu of %zu connections shown; see --limit)\n", n, matched);
	if (expired)
		xp_text(p, "(%zu expired entries left out: the sweep deletes them)\n", expired);
	free(ix);
}

void xlvs_fmt_timeouts(struct xp *p, const struct xlvs_config *cfg)
{
	unsigned int i;

	xp_text(p, "Timeout (tcp tcp_fin tcp_syn udp):");
	xp_obj_open(p, "timeouts");
	for (i = 0; i < XLVS_TO_MAX; i++)
		xp_u64(p, XP_ANY, xlvs_timeout_names[i], " %" PRIu64, cfg->timeout[i]);
	xp_obj_close(p);
	xp_text(p, "%s\n", cfg->hz ? "" : "  (off: xlvsd has not set the kernel's HZ, entries never expire)");
	xp_u64(p, XP_JSON, "hz", NULL, cfg->hz);
}

void xlvs_fmt_svc_timeouts(struct xp *p, const struct xlvs_svc_state *s, bool text)
{
	bool udp = s->key.proto == IPPROTO_UDP, any = false;
	unsigned int i;

	xp_obj_open(p, "timeouts");
	for (i = 0; i < XLVS_TO_MAX; i++) {
		if (udp != (i == XLVS_TO_UDP))
			continue;
		if (!s->svc.timeout[i]) {
			xp_json(p, xlvs_timeout_names[i], json_null());
			continue;
		}
		if (text && !any)
			xp_text(p, "  timeouts");
		any = true;
		xp_u64(p, XP_JSON, xlvs_timeout_names[i], NULL, s->svc.timeout[i]);
		if (text)
			xp_text(p, " %s %us", xlvs_timeout_names[i], s->svc.timeout[i]);
	}
	xp_obj_close(p);
	if (text)
		xp_text(p, "%s\n", any ? " (the others global)" : "  timeouts global");
}

/* "3d 4h 5m 6s", leading zero units left out. */
void xlvs_fmt_duration(long long s, char *buf, size_t size)
{
	long long d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;

	if (d)
		snprintf(buf, size, "%lldd %lldh %lldm %llds", d, h, m, sec);
	else if (h)
		snprintf(buf, size, "%lldh %lldm %llds", h, m, sec);
	else if (m)
		snprintf(buf, size, "%lldm %llds", m, sec);
	else
		snprintf(buf, size, "%llds", sec);
}
