// SPDX-License-Identifier: GPL-2.0
/*
 * Faults a running xlvsd survives without a restart (docs/reliability.md):
 * - pins removed or replaced under it: checked every PIN_CHECK_S and put back
 *   (dataplane/pinwatch.c);
 * - a configured interface deleted and created again (a veth re-created, a
 *   driver reloaded): its deletion is logged and its attachment forgotten;
 *   when an interface of that name appears, the per-interface sysctls are set
 *   again, xlvs_lb is attached in the configured mode and the next hops are
 *   resolved again (dataplane/linkwatch.c);
 * - maps without room: counted (xlvsd_count_map_full).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dataplane/linkwatch.h"
#include "dataplane/nexthop.h"
#include "dataplane/pinwatch.h"
#include "steer.h"
#include "dataplane/sysctl.h"
#include "log.h"
#include "daemon.h"

#define PIN_CHECK_S 1.0 /* detection within a second; a check is ~20 syscalls */
#define MAX_LOST    8	/* interfaces remembered as lost: the configuration allows 8 */

struct lost_iface {
	char name[IF_NAMESIZE];
	uint64_t since_ms;
};

struct xlvsd_watch {
	struct xlvsd *d;
	struct xlvs_pw *pw;
	ev_timer pin_timer;
	struct xlvs_lw *lw;
	struct xlvsd_ev lw_ev;
	struct lost_iface lost[MAX_LOST];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void count(struct xlvsd *d, uint64_t *field, uint64_t n)
{
	status_lock(&d->status);
	*field += n;
	status_unlock(&d->status);
}

void xlvsd_count_map_full(struct xlvsd *d, int err)
{
	if (err == -ENOSPC || err == -E2BIG)
		count(d, &d->status.map_full, 1);
}

/* ---- pins ---- */

static void pins_check(struct xlvsd_watch *w)
{
	int n = xlvs_pw_check(w->pw);

	if (n > 0)
		count(w->d, &w->d->status.pins_restored, (uint64_t)n);
}

static void pin_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	pins_check((struct xlvsd_watch *)((char *)t - offsetof(struct xlvsd_watch, pin_timer)));
}

/* ---- interfaces ---- */

static bool configured(const struct xlvsd *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->spec.global.nr_interfaces; i++)
		if (!strcmp(d->spec.global.interfaces[i], name))
			return true;
	return false;
}

static struct lost_iface *lost_find(struct xlvsd_watch *w, const char *name)
{
	size_t i;

	for (i = 0; i < MAX_LOST; i++)
		if (!strcmp(w->lost[i].name, name))
			return &w->lost[i];
	return NULL;
}

static void iface_lost(struct xlvsd_watch *w, int ifindex)
{
	char name[IF_NAMESIZE];
	struct lost_iface *l;

	if (!xlvs_dp_forget(&w->d->dp, ifindex, name))
		return;
	log_warn("interface %s (ifindex %d) was deleted: xlvs_lb no longer runs on it; it is attached "
		 "again when an interface called %s appears",
		 name, ifindex, name);
	count(w->d, &w->d->status.ifaces_lost, 1);
	l = lost_find(w, name);
	l = l ? l : lost_find(w, "");
	if (l) {
		snprintf(l->name, sizeof(l->name), "%s", name);
		l->since_ms = now_ms();
	}
}

/* name exists and is configured: attach unless xlvs_lb runs on this very interface already. */
static void iface_back(struct xlvsd_watch *w, const char *name)
{
	struct xlvsd *d = w->d;
	struct xlvs_iface *f = xlvs_dp_find(&d->dp, name);
	int ifindex = (int)if_nametoindex(name), err;
	uint64_t t0 = now_ms();
	struct lost_iface *l;
	char after[48] = "";

	if (!ifindex || (f && f->ifindex == ifindex))
		return;
	xlvs_iface_sysctls(name); /* they went with the old interface */
	err = xlvs_dp_attach(&d->dp, name, d->spec.global.xdp_mode);
	if (err <= 0)
		return; /* attached already, or the failure is logged: tried again at its next event */
	l = lost_find(w, name);
	if (l) {
		snprintf(after, sizeof(after), " %llu ms after its loss",
			 (unsigned long long)(now_ms() - l->since_ms));
		l->name[0] = '\0';
	}
	log_info("interface %s is back (ifindex %d): xlvs_lb attached again in %llu ms%s", name, ifindex,
		 (unsigned long long)(now_ms() - t0), after);
	count(d, &d->status.ifaces_reattached, 1);
	if (d->nh && (err = xlvs_nh_sync(d->nh)))
		log_warn("next hops: sync failed: %s", strerror(-err));
	if (w->pw)
		pins_check(w); /* hold the new link now, not at the next tick */
}

static void link_event(void *ctx, const struct xlvs_link_ev *ev)
{
	struct xlvsd_watch *w = ctx;
	size_t i;

	switch (ev->type) {
	case XLVS_LINK_DEL:
		iface_lost(w, ev->ifindex);
		break;
	case XLVS_LINK_NEW:
		if (configured(w->d, ev->name))
			iface_back(w, ev->name);
		break;
	case XLVS_LINK_LOST:
		log_warn("link events were lost: checking every configured interface");
		for (i = 0; i < w->d->spec.global.nr_interfaces; i++)
			iface_back(w, w->d->spec.global.interfaces[i]);
		break;
	}
}

static void lw_readable(struct xlvsd_ev *ev, uint32_t events)
{
	struct xlvsd_watch *w = (struct xlvsd_watch *)((char *)ev - offsetof(struct xlvsd_watch, lw_ev));
	int err = xlvs_lw_process(w->lw);

	if (err)
		log_warn("link events: %s", strerror(-err));
}

/* ---- start and stop ---- */

static void links_start(struct xlvsd_watch *w)
{
	int err = xlvs_lw_open(&w->lw, link_event, w);

	if (!err) {
		w->lw_ev.fd = xlvs_lw_fd(w->lw);
		w->lw_ev.fn = lw_readable;
		err = xlvsd_ev_ctl(w->d->loop, EPOLL_CTL_ADD, &w->lw_ev, EPOLLIN);
	}
	if (err) {
		log_warn("link events unavailable (%s): an interface deleted and created again needs "
			 "`xlvs reload`",
			 strerror(-err));
		xlvs_lw_close(w->lw);
		w->lw = NULL;
	}
}

static void pins_start(struct xlvsd_watch *w)
{
	int err = xlvs_pw_open(&w->pw, &w->d->dp);
	const struct xlvs_tc *tc;

	if (err) {
		log_warn("pins of %s not watched (%s): pins removed under xlvsd stay removed",
			 w->d->dp.pin_dir, strerror(-err));
		return;
	}
	tc = xlvsd_steer_tc(w->d);
	err = tc ? xlvs_pw_watch_tc(w->pw, tc) : 0;
	if (err)
		log_warn("the tc program's pins not watched (%s): if removed under xlvsd, health-check "
			 "steering is pinned again at the next apply",
			 strerror(-err));
	ev_timer_init(&w->pin_timer, pin_timer, PIN_CHECK_S, PIN_CHECK_S);
	ev_timer_start(w->d->loop, &w->pin_timer);
}

void xlvsd_watch_start(struct xlvsd *d)
{
	struct xlvsd_watch *w = calloc(1, sizeof(*w));

	if (!w) {
		log_warn("pins and links not watched: %s", strerror(ENOMEM));
		return;
	}
	w->d = d;
	d->watch = w;
	pins_start(w);
	links_start(w);
}

void xlvsd_watch_stop(struct xlvsd *d)
{
	struct xlvsd_watch *w = d->watch;

	if (!w)
		return;
	if (w->pw) {
		ev_timer_stop(d->loop, &w->pin_timer);
		xlvs_pw_close(w->pw);
	}
	if (w->lw) {
		xlvsd_ev_ctl(d->loop, EPOLL_CTL_DEL, &w->lw_ev, 0);
		xlvs_lw_close(w->lw);
	}
	free(w);
	d->watch = NULL;
}
