// SPDX-License-Identifier: GPL-2.0
/*
 * Health actions (loader/health/hceff.c): the effective desired state as a table of
 * up/down patterns, and what one real going down costs in ring slots when
 * the effective state goes through libxlvsmaps' diff-only apply (real maps
 * of the XDP object, loaded but not attached).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <ev.h>
#include <jansson.h>

#include "health/hc.h"
#include "xlvsmaps.h"
#include "helpers.h"
#include "xlvs_lb.skel.h"

/* One service 198.18.0.10:80 with n reals 198.18.1.(11+i), weights w (all 1 if NULL), checked by tcp. */
static void make_spec(struct xlvs_spec *s, size_t n, const uint32_t *w, uint32_t ring)
{
	struct xlvs_svc_spec *v;
	char a[32];
	size_t i;

	memset(s, 0, sizeof(*s));
	s->services = calloc(1, sizeof(*s->services));
	s->nr_services = 1;
	v = &s->services[0];
	v->vip = unit_addr("198.18.0.10");
	v->proto = IPPROTO_TCP;
	v->port = 80;
	v->sched = XLVS_SCHED_MAGLEV;
	v->fwd = XLVS_FWD_DR;
	v->ring_size = ring;
	v->reals = calloc(n, sizeof(*v->reals));
	v->nr_reals = n;
	for (i = 0; i < n; i++) {
		snprintf(a, sizeof(a), "198.18.1.%zu", 11 + i);
		v->reals[i].addr = unit_addr(a);
		v->reals[i].port = 80;
		v->reals[i].weight = w ? w[i] : 1;
		v->reals[i].fwd = XLVS_FWD_DR;
	}
	v->health = calloc(1, sizeof(*v->health));
	v->health->check.type = XLVS_CHECK_TCP;
	v->health->check.rise = v->health->check.fall = 1;
}

/* up pattern: 'U' up, 'D' down, one letter per real */
static bool pattern_up(void *ctx, const struct xlvs_svc_spec *svc, size_t idx)
{
	return ((const char *)ctx)[idx] == 'U';
}

/* "11:1 12:0 ..." of the effective service, "-" when withdrawn. */
static void describe(const struct xlvs_spec *e, char *buf, size_t size)
{
	size_t i, o = 0;

	buf[0] = '\0';
	if (!e->nr_services) {
		snprintf(buf, size, "-");
		return;
	}
	for (i = 0; i < e->services[0].nr_reals; i++) {
		const struct xlvs_real_spec *r = &e->services[0].reals[i];

		o += snprintf(buf + o, size - o, "%s%u:%u", i ? " " : "",
			      (unsigned int)(ntohl(r->addr.be[0]) & 0xff), r->weight);
	}
}

struct eff_row {
	const char *name;
	const char *up; /* per real */
	uint8_t on_down;
	bool sorry;
	uint32_t quorum, hysteresis;
	uint8_t action;
	bool was_lost;
	const char *want;
	bool lost, sorry_active;
};

static const uint32_t w4[] = { 1, 2, 3, 4 };

static const struct eff_row rows[] = {
	{ "all up", "UUUU", 0, false, 0, 0, 0, false, "11:1 12:2 13:3 14:4", false, false },
	{ "one down quiesced", "UDUU", XLVS_ON_DOWN_QUIESCE, false, 0, 0, 0, false, "11:1 12:0 13:3 14:4",
	  false, false },
	{ "one down removed", "UDUU", XLVS_ON_DOWN_REMOVE, false, 0, 0, 0, false, "11:1 13:3 14:4", false,
	  false },
	{ "all down, no sorry server", "DDDD", 0, false, 0, 0, 0, false, "11:0 12:0 13:0 14:0", false,
	  false },
	{ "all down: sorry server", "DDDD", 0, true, 0, 0, 0, false, "11:0 12:0 13:0 14:0 99:1", false,
	  true },
	{ "all down removed: only the sorry server", "DDDD", XLVS_ON_DOWN_REMOVE, true, 0, 0, 0, false,
	  "99:1", false, true },
	{ "one up: no sorry server", "DDUD", 0, true, 0, 0, 0, false, "11:0 12:0 13:3 14:0", false, false },
	{ "quorum 5 met by 1+4", "UDDU", 0, true, 5, 0, XLVS_QUORUM_SORRY, false, "11:1 12:0 13:0 14:4",
	  false, false },
	{ "quorum 5 lost with 4: sorry", "DDDU", 0, true, 5, 0, XLVS_QUORUM_SORRY, false,
	  "11:0 12:0 13:0 14:0 99:1", true, true },
	{ "quorum 5 lost with 4: withdraw", "DDDU", 0, false, 5, 0, XLVS_QUORUM_WITHDRAW, false, "-", true,
	  false },
	{ "hysteresis 1: 4 is not below 5-1", "DDDU", 0, false, 5, 1, XLVS_QUORUM_WITHDRAW, false,
	  "11:0 12:0 13:0 14:4", false, false },
	{ "hysteresis 1: 3 is below 5-1", "DDUD", 0, false, 5, 1, XLVS_QUORUM_WITHDRAW, false, "-", true,
	  false },
	{ "hysteresis 1: lost stays lost at 5", "UDDU", 0, false, 5, 1, XLVS_QUORUM_WITHDRAW, true, "-", true,
	  false },
	{ "hysteresis 1: back at 5+1", "DUDU", 0, false, 5, 1, XLVS_QUORUM_WITHDRAW, true,
	  "11:0 12:2 13:0 14:4", false, false },
};

Test(hc, effective_table)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct eff_row *r = &rows[i];
		struct xlvsd_hc_svc_state st = { .quorum_lost = r->was_lost };
		struct xlvs_spec cfg, eff;
		struct xlvs_svc_health *h;
		char got[128];

		make_spec(&cfg, 4, w4, 251);
		h = cfg.services[0].health;
		h->on_down = r->on_down;
		h->quorum = r->quorum;
		h->quorum_hysteresis = r->hysteresis;
		h->quorum_action = r->action;
		if (r->sorry) {
			h->have_sorry = true;
			h->sorry.addr = unit_addr("198.18.1.99");
			h->sorry.port = 80;
			h->sorry.fwd = XLVS_FWD_DR;
		}
		cr_assert_eq(xlvsd_hc_effective(&cfg, pattern_up, (void *)r->up, &st, &eff), 0);
		describe(&eff, got, sizeof(got));
		cr_expect_str_eq(got, r->want, "row '%s': got %s, want %s", r->name, got, r->want);
		cr_expect_eq(st.quorum_lost, r->lost, "row '%s': quorum lost %d", r->name, st.quorum_lost);
		cr_expect_eq(st.sorry_active, r->sorry_active, "row '%s': sorry %d", r->name,
			     st.sorry_active);
		if (eff.nr_services) {
			cr_expect_null(eff.services[0].health, "the maps get no health block");
			cr_expect_eq(eff.services[0].ring_size, 251);
		}
		xlvs_spec_free(&eff);
		xlvs_spec_free(&cfg);
	}
}

Test(hc, unchecked_reals_and_services)
{
	struct xlvsd_hc_svc_state st[2] = { 0 };
	struct xlvs_spec cfg, eff;
	char got[128];

	make_spec(&cfg, 3, NULL, 251);
	/* real 12 opts out (check: off), so "down" from the pattern does not apply */
	cfg.services[0].reals[1].check = calloc(1, sizeof(struct xlvs_check_spec));
	cr_assert_eq(xlvsd_hc_effective(&cfg, pattern_up, "DDD", st, &eff), 0);
	describe(&eff, got, sizeof(got));
	cr_assert_str_eq(got, "11:0 12:1 13:0");
	cr_assert_null(xlvsd_hc_check_of(&cfg.services[0], 1));
	cr_assert_not_null(xlvsd_hc_check_of(&cfg.services[0], 0));
	xlvs_spec_free(&eff);
	/* a service without health is copied as it is */
	free(cfg.services[0].health);
	cfg.services[0].health = NULL;
	free(cfg.services[0].reals[1].check);
	cfg.services[0].reals[1].check = NULL;
	cr_assert_eq(xlvsd_hc_effective(&cfg, pattern_up, "DDD", st, &eff), 0);
	describe(&eff, got, sizeof(got));
	cr_assert_str_eq(got, "11:1 12:1 13:1");
	xlvs_spec_free(&eff);
	xlvs_spec_free(&cfg);
}

/*
 * flow_state auto is decided on the configured service: a nat sorry server keeps it in table
 * state whether or not it is in use (the effective service has no health block to show it), and
 * a dr sorry server leaves auto to the planner (ring for this maglev tcp service).
 */
Test(hc, auto_flow_state_sees_the_sorry_server)
{
	static const struct {
		const char *up;
		uint8_t sorry_fwd;
		uint8_t want;
	} rows[] = {
		{ "UU", XLVS_FWD_NAT, XLVS_FLOW_STATE_TABLE },	   /* sorry server unused */
		{ "DD", XLVS_FWD_NAT, XLVS_FLOW_STATE_TABLE },	   /* sorry server in use */
		{ "UU", XLVS_FWD_FULLNAT, XLVS_FLOW_STATE_TABLE }, /* fullnat likewise */
		{ "DD", XLVS_FWD_DR, XLVS_FLOW_STATE_AUTO },	   /* dr: nothing in the way */
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct xlvsd_hc_svc_state st = { 0 };
		struct xlvs_spec cfg, eff;
		struct xlvs_svc_health *h;

		make_spec(&cfg, 2, NULL, 251);
		h = cfg.services[0].health;
		h->have_sorry = true;
		h->sorry.addr = unit_addr("198.18.1.99");
		h->sorry.port = 80;
		h->sorry.fwd = rows[i].sorry_fwd;
		cr_assert_eq(xlvsd_hc_effective(&cfg, pattern_up, (void *)rows[i].up, &st, &eff), 0);
		cr_assert_eq(eff.nr_services, 1);
		cr_expect_eq(eff.services[0].flow_state, rows[i].want, "row %zu: flow_state %u, want %u", i,
			     eff.services[0].flow_state, rows[i].want);
		cr_expect_eq(xlvs_svc_flow_state(&eff.services[0], NULL, 0),
			     rows[i].want == XLVS_FLOW_STATE_AUTO ? XLVS_FLOW_STATE_RING
								  : XLVS_FLOW_STATE_TABLE,
			     "row %zu: the planner's decision on the effective service", i);
		xlvs_spec_free(&eff);
		xlvs_spec_free(&cfg);
	}
}

/* What `xlvs real show` reads: the check's target and rise/fall with the run, before any check ran. */
Test(hc, health_json_names_the_target_and_rise_fall)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct xlvsd_hc *hc;
	struct xlvs_spec cfg;
	json_t *svcs, *h;

	cr_assert_not_null(loop);
	make_spec(&cfg, 2, NULL, 251);
	cfg.services[0].health->check.rise = 2;
	cfg.services[0].health->check.fall = 3;
	cfg.services[0].health->check.interval_ms = 60000;
	cfg.services[0].health->check.timeout_ms = 1000;
	cfg.services[0].health->check.initial_up = true;
	cfg.services[0].reals[1].check = calloc(1, sizeof(struct xlvs_check_spec));
	*cfg.services[0].reals[1].check = cfg.services[0].health->check;
	cfg.services[0].reals[1].check->addr = unit_addr("198.18.2.12");
	cfg.services[0].reals[1].check->port = 8080;
	cr_assert_eq(xlvsd_hc_new(&hc, loop, 4, NULL, NULL), 0);
	cr_assert_eq(xlvsd_hc_sync(hc, &cfg), 0);
	svcs = xlvsd_hc_json(hc, &cfg);
	cr_assert(json_is_array(svcs));
	h = json_object_get(json_array_get(json_object_get(json_array_get(svcs, 0), "reals"), 0), "health");
	cr_assert_str_eq(json_string_value(json_object_get(h, "state")), "up");
	cr_assert_str_eq(json_string_value(json_object_get(h, "check")), "tcp");
	cr_assert_str_eq(json_string_value(json_object_get(h, "check_address")), "198.18.1.11");
	cr_assert_eq(json_integer_value(json_object_get(h, "check_port")), 80);
	cr_assert_eq(json_integer_value(json_object_get(h, "rise")), 2);
	cr_assert_eq(json_integer_value(json_object_get(h, "fall")), 3);
	cr_assert(json_is_integer(json_object_get(h, "rise_fall")));
	h = json_object_get(json_array_get(json_object_get(json_array_get(svcs, 0), "reals"), 1), "health");
	cr_assert_str_eq(json_string_value(json_object_get(h, "check_address")), "198.18.2.12");
	cr_assert_eq(json_integer_value(json_object_get(h, "check_port")), 8080);
	json_decref(svcs);
	xlvsd_hc_free(hc);
	ev_loop_destroy(loop);
	xlvs_spec_free(&cfg);
}

/* ---- the manager: state kept across syncs ---------------------------------------- */

/*
 * Service vip:80 with quorum 2, hysteresis 1, action withdraw: real .21
 * (weight 1) checked by tcp and down from the start (initial: down), real
 * .22 unchecked (check: off, always up) with weight w22. Checks every
 * minute: none runs during a test, so the states are the initial ones.
 */
static void quorum_svc(struct xlvs_svc_spec *v, const char *vip, uint32_t w22)
{
	unit_dr_svc(v, vip, 251, 2);
	v->reals[0].addr = unit_addr("198.18.1.21");
	v->reals[0].weight = 1;
	v->reals[1].addr = unit_addr("198.18.1.22");
	v->reals[1].weight = w22;
	v->reals[1].check = calloc(1, sizeof(struct xlvs_check_spec)); /* type none: off */
	v->health = calloc(1, sizeof(*v->health));
	v->health->check.type = XLVS_CHECK_TCP;
	v->health->check.rise = v->health->check.fall = 1;
	v->health->check.interval_ms = 60000;
	v->health->check.timeout_ms = 1000;
	v->health->quorum = 2;
	v->health->quorum_hysteresis = 1;
	v->health->quorum_action = XLVS_QUORUM_WITHDRAW;
}

/* s gets one more service, inserted at index at. */
static struct xlvs_svc_spec *insert_svc(struct xlvs_spec *s, size_t at)
{
	s->services = realloc(s->services, (s->nr_services + 1) * sizeof(*s->services));
	cr_assert_not_null(s->services);
	memmove(&s->services[at + 1], &s->services[at], (s->nr_services - at) * sizeof(*s->services));
	s->nr_services++;
	return &s->services[at];
}

/* Is the quorum of service i lost, as the health reply says? */
static bool json_quorum_lost(struct xlvsd_hc *hc, const struct xlvs_spec *cfg, size_t i)
{
	json_t *svcs = xlvsd_hc_json(hc, cfg), *q;
	bool lost;

	cr_assert(json_is_array(svcs));
	q = json_object_get(json_array_get(svcs, i), "quorum");
	cr_assert(json_is_object(q), "service %zu has a quorum object", i);
	lost = json_is_true(json_object_get(q, "lost"));
	json_decref(svcs);
	return lost;
}

/* Service i of the health reply without its reals (their times move), keys sorted. */
static void svc_json_is(struct xlvsd_hc *hc, const struct xlvs_spec *cfg, size_t i, const char *want)
{
	json_t *svcs = xlvsd_hc_json(hc, cfg), *svc;
	char *got;

	cr_assert(json_is_array(svcs));
	svc = json_array_get(svcs, i);
	cr_assert_eq(json_object_del(svc, "reals"), 0);
	got = json_dumps(svc, JSON_COMPACT | JSON_SORT_KEYS);
	cr_expect_str_eq(got, want, "service %zu: got %s", i, got);
	free(got);
	json_decref(svcs);
}

/*
 * A reload that inserts service A before B keeps B's quorum state. B lost
 * its quorum (up weight 0 < 2 - 1) and is withdrawn; the reload also gives
 * its unchecked real weight 2, which is not enough to regain the quorum
 * (2 < 2 + 1) but would be enough to keep one never lost (2 >= 2 - 1). So
 * B is still withdrawn only if its state followed it to index 1.
 */
Test(hc, quorum_state_follows_its_service_not_its_index)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct xlvs_spec one = { 0 }, two, eff;
	struct xlvsd_hc *hc;

	cr_assert_not_null(loop);
	cr_assert_eq(xlvsd_hc_new(&hc, loop, 4, NULL, NULL), 0);
	quorum_svc(insert_svc(&one, 0), "198.18.0.20", 0);
	cr_assert_eq(xlvsd_hc_sync(hc, &one), 0);
	cr_assert_eq(xlvsd_hc_build(hc, &one, &eff), 0);
	cr_assert_eq(eff.nr_services, 0, "B lost its quorum: withdrawn");
	svc_json_is(hc, &one, 0,
		    "{\"check\":\"tcp\",\"on_down\":\"quiesce\",\"port\":80,"
		    "\"protocol\":\"tcp\",\"quorum\":{\"action\":\"withdraw\",\"lost\":true,"
		    "\"weight\":2},\"up_weight\":0,\"vip\":\"198.18.0.20\"}");
	xlvs_spec_free(&eff);

	make_spec(&two, 2, NULL, 251); /* A: 198.18.0.10:80 */
	two.services[0].health->check.interval_ms = 60000;
	quorum_svc(insert_svc(&two, 1), "198.18.0.20", 2);
	cr_assert_eq(xlvsd_hc_sync(hc, &two), 0);
	cr_assert_eq(xlvsd_hc_build(hc, &two, &eff), 0);
	cr_expect_eq(eff.nr_services, 1,
		     "B kept its lost quorum and stays withdrawn: %zu services "
		     "in the maps, want 1 (A)",
		     eff.nr_services);
	cr_expect(!memcmp(&eff.services[0].vip, &two.services[0].vip, sizeof(struct xlvs_addr)),
		  "the service left in the maps is A");
	cr_expect(json_quorum_lost(hc, &two, 1), "the health reply shows B's quorum lost");
	svc_json_is(hc, &two, 1,
		    "{\"check\":\"tcp\",\"on_down\":\"quiesce\",\"port\":80,"
		    "\"protocol\":\"tcp\",\"quorum\":{\"action\":\"withdraw\",\"lost\":true,"
		    "\"weight\":2},\"up_weight\":2,\"vip\":\"198.18.0.20\"}");
	xlvs_spec_free(&eff);

	/* another service in B's place starts with its own quorum: 2 >= 2 - 1 keeps it */
	two.services[1].vip = unit_addr("198.18.0.30");
	cr_assert_eq(xlvsd_hc_sync(hc, &two), 0);
	cr_assert_eq(xlvsd_hc_build(hc, &two, &eff), 0);
	cr_expect_eq(eff.nr_services, 2, "C does not inherit B's lost quorum: %zu services", eff.nr_services);
	cr_expect(!json_quorum_lost(hc, &two, 1));
	xlvs_spec_free(&eff);
	xlvsd_hc_free(hc);
	ev_loop_destroy(loop);
	xlvs_spec_free(&one);
	xlvs_spec_free(&two);
}

/* The health families of /metrics, before any check ran: one real up (tcp), one down (http). */
static const char hc_metrics_want[] =
	"# HELP xlvs_real_up Health of a checked real server (1 up, 0 down).\n"
	"# TYPE xlvs_real_up gauge\n"
	"xlvs_real_up{vip=\"198.18.0.10\",port=\"80\",protocol=\"tcp\",real=\"198.18.1.11\",check=\"tcp\"} 1\n"
	"xlvs_real_up{vip=\"198.18.0.10\",port=\"80\",protocol=\"tcp\",real=\"198.18.1.12\",check=\"http\"} 0\n"
	"# HELP xlvs_real_health_transitions_total Health state changes of a real server.\n"
	"# TYPE xlvs_real_health_transitions_total counter\n"
	"xlvs_real_health_transitions_total{vip=\"198.18.0.10\",port=\"80\",protocol=\"tcp\",real=\"198.18.1.11\"} 0\n"
	"xlvs_real_health_transitions_total{vip=\"198.18.0.10\",port=\"80\",protocol=\"tcp\",real=\"198.18.1.12\"} 0\n"
	"# HELP xlvs_health_checks_total Health checks run, by result.\n"
	"# TYPE xlvs_health_checks_total counter\n"
	"xlvs_health_checks_total{vip=\"198.18.0.10\",port=\"80\",protocol=\"tcp\",real=\"198.18.1.11\",result=\"ok\"} 0\n"
	"xlvs_health_checks_total{vip=\"198.18.0.10\",port=\"80\",protocol=\"tcp\",real=\"198.18.1.11\",result=\"failed\"} 0\n"
	"xlvs_health_checks_total{vip=\"198.18.0.10\",port=\"80\",protocol=\"tcp\",real=\"198.18.1.12\",result=\"ok\"} 0\n"
	"xlvs_health_checks_total{vip=\"198.18.0.10\",port=\"80\",protocol=\"tcp\",real=\"198.18.1.12\",result=\"failed\"} 0\n"
	"# HELP xlvs_health_check_duration_seconds Time a health check took to succeed or fail.\n"
	"# TYPE xlvs_health_check_duration_seconds histogram\n"
#define HC_BUCKETS(R)                                                                                          \
	"xlvs_health_check_duration_seconds_bucket{vip=\"198.18.0.10\",port=\"80\",protocol=\"tcp\",real=\"" R \
	"\",le=\"0.0005\"} 0\n"                                                                                \
	"xlvs_health_check_duration_seconds_bucket{vip=\"198.18.0.10\",port=\"80\",protocol=\"tcp\",real=\"" R \
	"\",le=\"0.001\"} 0\n"                                                                                 \
	"xlvs_health_check_duration_seconds_bucket{vip=\"198.18.0.10\",port=\"80\",protocol=\"tcp\",real=\"" R \
	"\",le=\"0.0025\"} 0\n"                                                                                \
	"xlvs_health_check_duration_seconds_bucket{vip=\"198.18.0.10\",port=\"80\",protocol=\"tcp\",real=\"" R \
	"\",le=\"0.005\"} 0\n"                                                                                 \
	"xlvs_health_check_duration_seconds_bucket{vip=\"198.18.0.10\",port=\"80\",protocol=\"tcp\",real=\"" R \
	"\",le=\"0.01\"} 0\n"                                                                                  \
	"xlvs_health_check_duration_seconds_bucket{vip=\"198.18.0.10\",port=\"80\",protocol=\"tcp\",real=\"" R \
	"\",le=\"0.025\"} 0\n"                                                                                 \
	"xlvs_health_check_duration_seconds_bucket{vip=\"198.18.0.10\",port=\"80\",protocol=\"tcp\",real=\"" R \
	"\",le=\"0.05\"} 0\n"                                                                                  \
	"xlvs_health_check_duration_seconds_bucket{vip=\"198.18.0.10\",port=\"80\",protocol=\"tcp\",real=\"" R \
	"\",le=\"0.1\"} 0\n"                                                                                   \
	"xlvs_health_check_duration_seconds_bucket{vip=\"198.18.0.10\",port=\"80\",protocol=\"tcp\",real=\"" R \
	"\",le=\"0.25\"} 0\n"                                                                                  \
	"xlvs_health_check_duration_seconds_bucket{vip=\"198.18.0.10\",port=\"80\",protocol=\"tcp\",real=\"" R \
	"\",le=\"0.5\"} 0\n"                                                                                   \
	"xlvs_health_check_duration_seconds_bucket{vip=\"198.18.0.10\",port=\"80\",protocol=\"tcp\",real=\"" R \
	"\",le=\"1\"} 0\n"                                                                                     \
	"xlvs_health_check_duration_seconds_bucket{vip=\"198.18.0.10\",port=\"80\",protocol=\"tcp\",real=\"" R \
	"\",le=\"2.5\"} 0\n"                                                                                   \
	"xlvs_health_check_duration_seconds_bucket{vip=\"198.18.0.10\",port=\"80\",protocol=\"tcp\",real=\"" R \
	"\",le=\"5\"} 0\n"                                                                                     \
	"xlvs_health_check_duration_seconds_bucket{vip=\"198.18.0.10\",port=\"80\",protocol=\"tcp\",real=\"" R \
	"\",le=\"+Inf\"} 0\n"                                                                                  \
	"xlvs_health_check_duration_seconds_sum{vip=\"198.18.0.10\",port=\"80\",protocol=\"tcp\",real=\"" R    \
	"\"} 0.000000\n"                                                                                       \
	"xlvs_health_check_duration_seconds_count{vip=\"198.18.0.10\",port=\"80\",protocol=\"tcp\",real=\"" R  \
	"\"} 0\n"
	HC_BUCKETS("198.18.1.11") HC_BUCKETS("198.18.1.12");
#undef HC_BUCKETS

Test(hc, metrics_text)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct xlvsd_hc *hc;
	struct xlvs_spec cfg;
	size_t len;
	char *got;
	FILE *f;

	cr_assert_not_null(loop);
	make_spec(&cfg, 2, NULL, 251);
	cfg.services[0].health->check.interval_ms = 60000;
	cfg.services[0].health->check.initial_up = true;
	cfg.services[0].reals[1].check = calloc(1, sizeof(struct xlvs_check_spec));
	*cfg.services[0].reals[1].check = cfg.services[0].health->check;
	cfg.services[0].reals[1].check->type = XLVS_CHECK_HTTP;
	cfg.services[0].reals[1].check->initial_up = false;
	cr_assert_eq(xlvsd_hc_new(&hc, loop, 4, NULL, NULL), 0);
	cr_assert_eq(xlvsd_hc_sync(hc, &cfg), 0);
	f = open_memstream(&got, &len);
	cr_assert_not_null(f);
	xlvsd_hc_metrics(f, hc);
	cr_assert_eq(fclose(f), 0);
	cr_expect_str_eq(got, hc_metrics_want, "got:\n%s", got);
	free(got);
	xlvsd_hc_free(hc);
	ev_loop_destroy(loop);
	xlvs_spec_free(&cfg);
}

/* ---- ring slots moved when one of N reals goes down --------------------------- */

static struct xlvs_lb_bpf *skel;
static struct xlvs_maps maps;

static void load_maps(void)
{
	skel = unit_director_load(0, 0, &maps);
}

static void unload_maps(void)
{
	xlvs_maps_close(&maps);
	xlvs_lb_bpf__destroy(skel);
}

/* Slots written when real `down` of n goes down (quiesce or remove), as a fraction of the ring. */
static double moved(size_t n, uint32_t ring, size_t down, uint8_t on_down, uint32_t *reals_written)
{
	struct xlvsd_hc_svc_state st = { 0 };
	struct xlvs_apply_stats as;
	struct xlvs_spec cfg, eff;
	char up[128];
	int err;

	make_spec(&cfg, n, NULL, ring);
	cfg.services[0].health->on_down = on_down;
	memset(up, 'U', n);
	up[n] = '\0';
	cr_assert_eq(xlvsd_hc_effective(&cfg, pattern_up, up, &st, &eff), 0);
	err = xlvs_apply(&maps, &eff, &as);
	cr_assert_eq(err, 0, "apply: %s", strerror(-err));
	xlvs_spec_free(&eff);
	up[down] = 'D';
	cr_assert_eq(xlvsd_hc_effective(&cfg, pattern_up, up, &st, &eff), 0);
	err = xlvs_apply(&maps, &eff, &as);
	cr_assert_eq(err, 0, "apply: %s", strerror(-err));
	xlvs_spec_free(&eff);
	/* and back: the same slots return */
	up[down] = 'U';
	cr_assert_eq(xlvsd_hc_effective(&cfg, pattern_up, up, &st, &eff), 0);
	{
		struct xlvs_apply_stats back;

		cr_assert_eq(xlvs_apply(&maps, &eff, &back), 0);
		cr_assert_eq(back.ring_slots_written, as.ring_slots_written,
			     "rise moves back exactly what fall moved (%u vs %u)", back.ring_slots_written,
			     as.ring_slots_written);
	}
	xlvs_spec_free(&eff);
	/* leave the maps empty for the next case */
	memset(&eff, 0, sizeof(eff));
	cr_assert_eq(xlvs_apply(&maps, &eff, NULL), 0);
	xlvs_spec_free(&cfg);
	*reals_written = as.reals_written + as.reals_removed;
	return (double)as.ring_slots_written / ring;
}

Test(hc, ring_slots_moved_when_one_real_goes_down, .init = load_maps, .fini = unload_maps)
{
	static const size_t ns[] = { 4, 10, 32, 100 };
	uint32_t rw;
	size_t i;

	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		size_t n = ns[i];
		double q = moved(n, 65537, n / 2, XLVS_ON_DOWN_QUIESCE, &rw);
		double r;

		cr_assert_eq(rw, 1, "quiesce rewrites one real entry (%u)", rw);
		r = moved(n, 65537, n / 2, XLVS_ON_DOWN_REMOVE, &rw);
		cr_assert_eq(rw, 1, "remove deletes one real entry (%u)", rw);
		printf("health: 1 of %zu reals down, ring 65537: quiesce moved %.4f of the slots, "
		       "remove %.4f (1/N = %.4f)\n",
		       n, q, r, 1.0 / n);
		/*
		 * The down real's own slots (1/N), plus Maglev's reshuffle of others,
		 * which grows with N at a fixed ring size (test_maglev bounds it by 1.63/N
		 * at N=100, M=65537).
		 */
		cr_assert_geq(q, 0.99 / n, "N=%zu: moved %.4f < 1/N: the down real kept slots", n, q);
		cr_assert_leq(q, 1.7 / n, "N=%zu: moved %.4f > 1.7/N", n, q);
		cr_assert_leq(r, 1.7 / n, "N=%zu: remove moved %.4f > 1.7/N", n, r);
	}
}
