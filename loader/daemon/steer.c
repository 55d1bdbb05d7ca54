// SPDX-License-Identifier: GPL-2.0
/* Health checks through the forwarding path: the tc program's attachments and the reals' marks. */
#include <errno.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "dataplane/nexthop.h"
#include "dataplane/tc.h"
#include "health/hc.h"
#include "log.h"
#include "steer.h"

/*
 * Between route-driven looks at the VIPs: the next-hop syncs' own pace, stretched to 20 times a
 * look's cost (a storm takes at most 5 % of the loop) up to a second (thousands of VIPs). A
 * look a second late fails every check that starts meanwhile: a routing daemon moves routes in
 * bursts, and a VIP's route withdrawn just after another route moved took the reals down.
 */
#define ROUTES_GAP_MIN_S 0.1
#define ROUTES_GAP_MAX_S 1.0
#define ROUTES_COST_X	 20
#define ROUTE_LEGS	 32 /* a multipath route's paths looked at */

/* A checked real's mark, found by what the health checks know of it. */
struct steer_entry {
	struct xlvs_addr vip, real;
	uint16_t vport;
	uint8_t proto;
	bool off; /* its VIP cannot be steered now: checked at its own address */
	uint32_t mark;
};

struct xlvsd_steer {
	struct xlvs_tc tc;
	uint32_t cursor;   /* the last mark given (maps/hcmarks.c) */
	uint32_t *mark_of; /* by real id */
	struct steer_entry *v;
	size_t n;
	bool synced;	   /* xlvs_hc_marks holds marks */
	bool table_synced; /* ... when v was built: its off flags say the routes then */
	struct xlvsd *d;
	ev_timer routes_timer;		    /* a route-driven look deferred to routes_gap() after the last */
	ev_tstamp routes_last, routes_cost; /* the last look's start and duration */
};

static void routes_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);

/* By service: VIP, then protocol and port. */
static int svc_cmp(const struct steer_entry *x, const struct steer_entry *y)
{
	int c = memcmp(&x->vip, &y->vip, sizeof(x->vip));

	if (!c)
		c = (int)x->proto - (int)y->proto;
	return c ? c : (int)x->vport - (int)y->vport;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct steer_entry *x = a, *y = b;
	int c = svc_cmp(x, y);

	return c ? c : memcmp(&x->real, &y->real, sizeof(x->real));
}

static uint32_t mark_lookup(void *ctx, const struct xlvs_addr *vip, uint8_t proto, uint16_t vport,
			    const struct xlvs_addr *real)
{
	struct xlvsd_steer *s = ctx;
	struct steer_entry key = { .vip = *vip, .real = *real, .vport = vport, .proto = proto }, *e;

	e = s->n ? bsearch(&key, s->v, s->n, sizeof(key), entry_cmp) : NULL;
	return e && !e->off ? e->mark : 0;
}

int xlvsd_steer_open(struct xlvsd *d)
{
	struct xlvsd_steer *s = calloc(1, sizeof(*s));

	if (!s || !(s->mark_of = calloc(XLVS_MAX_REALS, sizeof(*s->mark_of)))) {
		free(s);
		return -ENOMEM;
	}
	s->d = d;
	ev_timer_init(&s->routes_timer, routes_timer_cb, 0, 0);
	if (xlvs_tc_load(&s->tc, d->opts->pin_dir))
		log_warn("health checks go to the reals' own addresses: the tc program for "
			 "health_via_forwarding could not be loaded");
	d->steer = s;
	xlvsd_hc_set_marks(d->hc, mark_lookup, s);
	return 0;
}

const struct xlvs_tc *xlvsd_steer_tc(const struct xlvsd *d)
{
	return d->steer ? &d->steer->tc : NULL;
}

void xlvsd_steer_close(struct xlvsd *d)
{
	struct xlvsd_steer *s = d->steer;

	if (!s)
		return;
	ev_timer_stop(d->loop, &s->routes_timer);
	xlvsd_hc_set_marks(d->hc, NULL, NULL);
	xlvs_tc_close(&s->tc);
	free(s->mark_of);
	free(s->v);
	free(s);
	d->steer = NULL;
}

/* The tc program where xlvs_lb is (when on), and nowhere else. */
static void attachments(struct xlvsd *d, bool on)
{
	struct xlvs_tc *tc = &d->steer->tc;
	unsigned int i;

	for (i = 0; on && i < d->dp.nr_ifaces; i++)
		xlvs_tc_attach(tc, d->dp.ifaces[i].name);
	i = 0;
	while (i < tc->nr_ifaces) {
		if (on && xlvs_dp_find(&d->dp, tc->ifaces[i].name))
			i++;
		else if (xlvs_tc_detach(tc, tc->ifaces[i].name) < 0)
			i++; /* logged; kept in the list */
	}
}

static bool attached(const struct xlvsd_steer *s, uint32_t oif)
{
	unsigned int i;

	for (i = 0; i < s->tc.nr_ifaces; i++)
		if ((uint32_t)s->tc.ifaces[i].ifindex == oif)
			return true;
	return false;
}

/*
 * Can a check of this VIP leave through the tc program? The kernel's route
 * for the marked socket must be a unicast one out of an interface the
 * program runs on, each of its paths if it has several (a check's ports pick
 * one): a VIP the director holds itself is delivered locally, one without a
 * route fails at connect. NULL: yes; else why not.
 */
static const char *vip_unsteerable(struct xlvsd *d, const struct xlvs_addr *vip, char *why, size_t size)
{
	uint32_t mark = d->spec.global.hc_mark_value, oif = 0, legs[ROUTE_LEGS];
	char ifname[IF_NAMESIZE] = "?";
	uint8_t type = 0;
	int err, n, i;

	if (!d->nh)
		return "the director's routes cannot be read (rtnetlink)";
	err = xlvs_nh_route(d->nh, vip, mark, &type, &oif);
	if (err) {
		snprintf(why, size, "the director has no route to it (%s)", strerror(-err));
		return why;
	}
	if (type == RTN_LOCAL)
		return "it is an address of the director itself, so a check never leaves through an interface";
	n = xlvs_nh_route_legs(d->nh, vip, mark, legs, ROUTE_LEGS);
	if (n <= 0) { /* the route answered, not its FIB entry: the path it named */
		legs[0] = oif;
		n = 1;
	}
	for (i = 0; i < n && attached(d->steer, legs[i]); i++)
		;
	if (i == n)
		return type == RTN_UNICAST ? NULL : "its route is not a unicast one";
	if_indextoname(legs[i], ifname);
	snprintf(why, size, "%s leaves through %s, which xlvsd is not attached to",
		 n > 1 ? "one of its route's paths" : "its route", ifname);
	return why;
}

/* e's service is checked at its reals' own addresses (when: "" at an apply), and why. */
static void say_unsteered(const struct steer_entry *e, const char *why, const char *when)
{
	char a[INET6_ADDRSTRLEN];

	log_warn("health_via_forwarding: service %s %s:%u is checked at its reals' own addresses%s: %s "
		 "(docs/health.md)",
		 xlvs_svc_proto_name(e->proto), xlvs_addr_str(&e->vip, a, sizeof(a)), e->vport, when, why);
}

/* A service whose checks a route moved, said once: no is why it cannot be steered now, or NULL. */
static void say_moved(const struct steer_entry *e, const char *no)
{
	char a[INET6_ADDRSTRLEN];

	if (no)
		say_unsteered(e, no, " from now on");
	else
		log_info("health_via_forwarding: service %s %s:%u is checked through the forwarding "
			 "path again: its route leaves through an interface xlvsd is attached to",
			 xlvs_svc_proto_name(e->proto), xlvs_addr_str(&e->vip, a, sizeof(a)), e->vport);
}

/* 1: e's service was unsteered in the table t (sorted), 0: steered, -1: not in it. */
static int was_off(const struct steer_entry *t, size_t n, const struct steer_entry *e)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) { /* the service's first entry, or where it would be */
		mid = lo + (hi - lo) / 2;
		if (svc_cmp(&t[mid], e) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && !svc_cmp(&t[lo], e) ? t[lo].off : -1;
}

/*
 * A service's steering at an apply: each unsteered one when verbose (a reload), and any change
 * from the last table (was: 1 off, 0 on, -1 not in it), which a health change or a reload
 * between a route's move and its look makes before routes_look() can see it.
 */
static void say_service(const struct steer_entry *e, const char *no, bool verbose, int was)
{
	if (no && verbose)
		say_unsteered(e, no, "");
	else if (was >= 0 && was != (no != NULL))
		say_moved(e, no);
}

/* Each marked real of the state's services in s->v, its service steered or not (off); logged. */
static void table_fill(struct xlvsd *d, const struct xlvs_state *st, const struct steer_entry *old,
		       size_t nold, bool verbose)
{
	struct xlvsd_steer *s = d->steer;
	size_t i, j;

	for (i = 0; i < st->nr_services; i++) {
		const struct xlvs_svc_state *ss = &st->services[i];
		struct steer_entry e = { .vport = ntohs(ss->key.port), .proto = ss->key.proto };
		char why[160];
		const char *no;

		xlvs_addr_from_be(&e.vip, ss->key.family, ss->key.addr);
		no = s->synced ? vip_unsteerable(d, &e.vip, why, sizeof(why)) : NULL;
		e.off = no != NULL; /* kept: a route that appears later turns it on (routes_look()) */
		say_service(&e, no, verbose, was_off(old, nold, &e));
		for (j = 0; j < ss->nr_reals; j++) {
			e.mark = s->mark_of[ss->reals[j].id];
			if (!e.mark)
				continue;
			xlvs_addr_from_be(&e.real, ss->reals[j].real.family, ss->reals[j].real.addr);
			s->v[s->n++] = e;
		}
	}
}

/*
 * The health checks' table from the maps: each marked real by its service
 * and address. A VIP the director holds itself cannot be steered (the kernel
 * delivers the check locally, it never reaches the interface): its reals are
 * checked at their own addresses, and the log says so.
 */
static int build_table(struct xlvsd *d, bool verbose)
{
	struct xlvsd_steer *s = d->steer;
	struct steer_entry *old = s->v;
	size_t i, n = 0, nold = s->table_synced && s->synced ? s->n : 0; /* off says a route then */
	struct xlvs_state st;
	int err;

	err = xlvs_state_read(&d->maps, &st);
	if (err)
		return err;
	for (i = 0; i < st.nr_services; i++)
		n += st.services[i].nr_reals;
	s->n = 0;
	s->v = calloc(n + 1, sizeof(*s->v));
	if (s->v)
		table_fill(d, &st, old, nold, verbose);
	free(old);
	xlvs_state_free(&st);
	s->table_synced = s->synced;
	if (!s->v)
		return -ENOMEM;
	qsort(s->v, s->n, sizeof(*s->v), entry_cmp);
	return 0;
}

/*
 * Routes moved (the director's default route came up late, a routing daemon restarted): each
 * VIP's route asked again, its services' checks steered or not to match, without reading the
 * maps. Entries are sorted by VIP, then service.
 */
static void routes_look(struct xlvsd *d)
{
	struct xlvsd_steer *s = d->steer;
	const char *no = NULL;
	char why[160];
	size_t i;

	s->routes_last = ev_time();
	for (i = 0; s->synced && i < s->n; i++) {
		struct steer_entry *e = &s->v[i], *prev = i ? &s->v[i - 1] : NULL;
		bool new_vip = !prev || memcmp(&e->vip, &prev->vip, sizeof(e->vip));

		if (new_vip)
			no = vip_unsteerable(d, &e->vip, why, sizeof(why));
		if (e->off != (no != NULL) && (new_vip || e->proto != prev->proto || e->vport != prev->vport))
			say_moved(e, no);
		e->off = no != NULL;
	}
	s->routes_cost = ev_time() - s->routes_last;
}

static ev_tstamp routes_gap(const struct xlvsd_steer *s)
{
	ev_tstamp gap = s->routes_cost * ROUTES_COST_X;

	return gap < ROUTES_GAP_MIN_S ? ROUTES_GAP_MIN_S : gap > ROUTES_GAP_MAX_S ? ROUTES_GAP_MAX_S : gap;
}

static void routes_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct xlvsd_steer *s = (struct xlvsd_steer *)((char *)w -
						       offsetof(struct xlvsd_steer, routes_timer));

	routes_look(s->d);
}

void xlvsd_steer_routes_moved(struct xlvsd *d)
{
	struct xlvsd_steer *s = d->steer;
	ev_tstamp wait;

	if (!s || ev_is_active(&s->routes_timer))
		return; /* a look is due anyway */
	wait = s->routes_last + routes_gap(s) - ev_time();
	if (wait <= 0) {
		routes_look(d);
		return;
	}
	ev_timer_set(&s->routes_timer, wait, 0);
	ev_timer_start(d->loop, &s->routes_timer);
}

void xlvsd_steer_update(struct xlvsd *d, bool verbose)
{
	const struct xlvs_global_spec *g = &d->spec.global;
	struct xlvsd_steer *s = d->steer;
	bool on;
	int err;

	if (!s)
		return;
	on = !g->health_direct && g->hc_mark_mask && s->tc.prog_fd >= 0;
	attachments(d, on);
	on = on && xlvs_tc_active(&s->tc);
	if (!on && !s->synced && !s->n)
		return; /* off, and nothing to take back */
	err = xlvs_hc_marks_sync(&d->maps, on ? g->hc_mark_value : 0, on ? g->hc_mark_mask : 0, &s->cursor,
				 s->mark_of);
	if (err)
		log_warn("health_via_forwarding: marks: %s%s", strerror(-err),
			 err == -ENOSPC ? " (no free mark in health_mark's range: those reals are checked at "
					  "their own addresses)"
					: "");
	s->synced = on;
	err = build_table(d, verbose);
	if (err) {
		log_warn("health_via_forwarding: %s: every real is checked at its own address",
			 strerror(-err));
		free(s->v);
		s->v = NULL;
		s->n = 0;
	}
}
