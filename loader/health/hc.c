// SPDX-License-Identifier: GPL-2.0
/*
 * The health-check manager of xlvsd, see hc.h. A sync builds a set (one
 * struct per service of the configuration, pointing at the instances of its
 * checked reals) beside the set in force, reusing the instances and quorum
 * state of what did not change, then puts it in force. The metrics thread
 * reads the instances' counters under hc->lock; everything else runs on
 * the loop.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ev.h>

#include "checker.h"
#include "hc.h"
#include "hcfsm.h"
#include "log.h"
#include "daemon/metrics.h"
#include "xlvsmaps.h"

#define JITTER 0.1 /* each interval is +-10% */

static const double buckets[] = {
	/* seconds, for the latency histogram */
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
};
#define NR_BUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct hc_inst {
	struct xlvsd_hc *hc;
	/* identity */
	struct xlvs_addr vip, real;
	uint8_t proto;
	uint16_t vport, rport;
	struct xlvs_check_spec spec;
	struct xlvs_probe_target t;
	const struct xlvs_svc_health *health; /* of the synced configuration (notify) */
	char label[96];			      /* "tcp 198.18.0.10:80 real 198.18.1.11" */
	uint32_t mark;			      /* of the last probe: through the forwarding path */
	/* state */
	struct xlvs_hc_fsm fsm;
	ev_timer timer;
	struct xlvs_probe *probe;
	bool live;  /* kept by the sync in progress */
	bool fresh; /* made by the sync in progress */
	/* results (under hc->lock) */
	uint64_t checks, failures;
	uint64_t hist[NR_BUCKETS + 1];
	double lat_sum;
	bool last_ok;
	uint32_t last_latency_us;
	char last_msg[160];
	time_t since; /* last state change (or start) */
	/* CLOCK_MONOTONIC seconds, for the ages the health reply gives */
	double changed_at, checked_at;	 /* last state change (or start), last result */
	uint32_t ok_streak, fail_streak; /* consecutive results of a kind, whatever the state */
};

/*
 * A service of the synced configuration. Its state is matched across syncs
 * by identity (vip, protocol, port), never by index: inserting a service
 * before it in the file must not reset its quorum.
 */
struct hc_svc {
	struct xlvs_addr vip;
	uint8_t proto;
	uint16_t port;
	const struct xlvs_svc_health *health; /* of the synced configuration (notify) */
	struct xlvsd_hc_svc_state st;	      /* quorum with hysteresis, sorry server in use */
	bool notified_lost;		      /* the quorum state last logged and notified */
	struct hc_inst **reals;		      /* [real] of the synced spec, NULL: unchecked */
	size_t nr_reals;
};

/* The services and instances of one synced configuration. */
struct hc_set {
	struct hc_svc *svc;
	size_t nr_svc;
	struct hc_inst **inst;
	size_t nr_inst;
};

struct adopt;

struct xlvsd_hc {
	struct adopt *adopt; /* the health the adopted maps show, until a commit */
	struct ev_loop *loop;
	struct xlvs_checker *ck;
	pthread_mutex_t lock;
	struct hc_set cur;  /* in force */
	struct hc_set next; /* staged: built, not yet in force */
	bool staged;
	xlvsd_hc_changed_fn changed;
	void *ctx;
	ev_timer apply; /* coalesces state changes into one apply */
	xlvsd_hc_mark_fn mark_of;
	void *mark_ctx;
};

/* ---- notify hooks -------------------------------------------------------------- */

static void notify_done(void *ctx, const struct xlvs_probe_result *r)
{
	char *what = ctx;

	if (!r->ok)
		log_warn("health: notify %s: %s", what, r->msg);
	free(what);
}

static void notify(struct xlvsd_hc *hc, const struct xlvs_svc_health *h, const char *cmd, const char *event,
		   const struct hc_inst *in, const struct hc_svc *svc)
{
	char a[INET6_ADDRSTRLEN], v[INET6_ADDRSTRLEN], port[8], *env[6], *what;
	const struct xlvs_addr *vip = in ? &in->vip : &svc->vip;
	size_t n = 0, i;

	if (!h || !cmd[0])
		return;
	xlvs_addr_str(vip, v, sizeof(v));
	snprintf(port, sizeof(port), "%u", in ? in->vport : svc->port);
	if (asprintf(&env[n], "XLVS_EVENT=%s", event) >= 0)
		n++;
	if (asprintf(&env[n], "XLVS_VIP=%s", v) >= 0)
		n++;
	if (asprintf(&env[n], "XLVS_VPORT=%s", port) >= 0)
		n++;
	if (asprintf(&env[n], "XLVS_PROTOCOL=%s", xlvs_svc_proto_name(in ? in->proto : svc->proto)) >= 0)
		n++;
	if (in && asprintf(&env[n], "XLVS_REAL=%s", xlvs_addr_str(&in->real, a, sizeof(a))) >= 0)
		n++;
	env[n] = NULL;
	what = strdup(event);
	if (!what || xlvs_run_command(hc->ck, cmd, env, h->notify_timeout_ms, notify_done, what)) {
		free(what);
		log_warn("health: notify %s: out of memory", event);
	}
	for (i = 0; i < n; i++)
		free(env[i]);
}

/* ---- checks --------------------------------------------------------------------- */

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double jittered(double interval)
{
	return interval * (1.0 - JITTER + 2 * JITTER * (random() / (double)RAND_MAX));
}

static void check_now(struct ev_loop *loop, ev_timer *w, int revents);

static void schedule(struct hc_inst *in, double delay)
{
	ev_timer_stop(in->hc->loop, &in->timer);
	ev_timer_set(&in->timer, delay, 0.);
	ev_timer_start(in->hc->loop, &in->timer);
}

static void result(void *ctx, const struct xlvs_probe_result *r)
{
	struct hc_inst *in = ctx;
	struct xlvsd_hc *hc = in->hc;
	double s = r->latency_us / 1e6;
	bool changed;
	size_t b;

	in->probe = NULL;
	pthread_mutex_lock(&hc->lock);
	in->checks++;
	in->failures += !r->ok;
	for (b = 0; b < NR_BUCKETS && s > buckets[b]; b++)
		;
	in->hist[b]++;
	in->lat_sum += s;
	in->last_ok = r->ok;
	in->last_latency_us = r->latency_us;
	snprintf(in->last_msg, sizeof(in->last_msg), "%s", r->msg);
	in->checked_at = mono_now();
	if (r->ok) {
		in->ok_streak += in->ok_streak < UINT32_MAX;
		in->fail_streak = 0;
	} else {
		in->fail_streak += in->fail_streak < UINT32_MAX;
		in->ok_streak = 0;
	}
	changed = xlvs_hc_fsm_feed(&in->fsm, r->ok);
	if (changed) {
		in->since = time(NULL);
		in->changed_at = in->checked_at;
	}
	pthread_mutex_unlock(&hc->lock);
	if (changed) {
		log_info("health: %s is %s (%s check: %s, %u ms)", in->label, in->fsm.up ? "up" : "down",
			 xlvs_check_type_name(in->spec.type), r->msg, r->latency_us / 1000);
		notify(hc, in->health, in->fsm.up ? in->health->notify_up : in->health->notify_down,
		       in->fsm.up ? "up" : "down", in, NULL);
		if (!ev_is_active(&hc->apply))
			ev_timer_start(hc->loop, &hc->apply);
	} else if (!r->ok) {
		log_debug("health: %s check failed: %s", in->label, r->msg);
	}
	schedule(in, jittered(in->spec.interval_ms / 1000.0));
}

void xlvsd_hc_set_marks(struct xlvsd_hc *hc, xlvsd_hc_mark_fn fn, void *ctx)
{
	hc->mark_of = fn;
	hc->mark_ctx = ctx;
}

/* The port a check goes to: through the forwarding path, the service's (as clients), unless it names one. */
static uint16_t probe_port(const struct hc_inst *in, uint32_t mark)
{
	return mark && !in->spec.port && in->vport ? in->vport : in->t.port;
}

/*
 * Where this probe goes: a real with a mark is checked at the VIP, through
 * its forwarding path; otherwise (or with its own `address`, or exec) as
 * configured.
 */
static void probe_target(struct hc_inst *in, struct xlvs_probe_target *t)
{
	struct xlvsd_hc *hc = in->hc;
	uint32_t mark = 0;

	*t = in->t;
	if (hc->mark_of && in->spec.type != XLVS_CHECK_EXEC && !in->spec.addr.family)
		mark = hc->mark_of(hc->mark_ctx, &in->vip, in->proto, in->vport, &in->real);
	pthread_mutex_lock(&hc->lock); /* reports read it from other threads */
	in->mark = mark;
	pthread_mutex_unlock(&hc->lock);
	if (!mark)
		return;
	t->addr = in->vip;
	t->port = probe_port(in, mark);
	t->mark = mark;
}

static void check_now(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct hc_inst *in = (struct hc_inst *)((char *)w - __builtin_offsetof(struct hc_inst, timer));
	struct xlvs_probe_target t;

	if (in->probe)
		return;
	probe_target(in, &t);
	if (xlvs_probe_start(in->hc->ck, &in->spec, &t, result, in, &in->probe)) {
		log_warn("health: %s: out of memory, check skipped", in->label);
		schedule(in, in->spec.interval_ms / 1000.0);
	}
}

static void apply_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct xlvsd_hc *hc = (struct xlvsd_hc *)((char *)w - __builtin_offsetof(struct xlvsd_hc, apply));

	if (hc->changed)
		hc->changed(hc->ctx);
}

static void inst_free(struct hc_inst *in)
{
	ev_timer_stop(in->hc->loop, &in->timer);
	xlvs_probe_cancel(in->probe);
	free(in);
}

/* ---- sync ---------------------------------------------------------------------- */

static void fill(struct hc_inst *in, const struct xlvs_svc_spec *svc, size_t j,
		 const struct xlvs_check_spec *ck)
{
	const struct xlvs_real_spec *r = &svc->reals[j];
	char a[INET6_ADDRSTRLEN], v[INET6_ADDRSTRLEN];

	in->vip = svc->vip;
	in->proto = svc->proto;
	in->vport = svc->port;
	in->real = r->addr;
	in->rport = r->port;
	in->spec = *ck;
	memset(&in->t, 0, sizeof(in->t));
	in->t.addr = ck->addr.family ? ck->addr : r->addr;
	in->t.port = ck->port ? ck->port : r->port ? r->port : svc->port;
	if (ck->type == XLVS_CHECK_DNS && !in->t.port)
		in->t.port = 53;
	in->t.real = r->addr;
	in->t.vip = svc->vip;
	in->t.vport = svc->port;
	in->t.proto = svc->proto;
	in->health = svc->health;
	snprintf(in->label, sizeof(in->label), "%s %s%s%s:%u real %s", xlvs_svc_proto_name(svc->proto),
		 svc->vip.family == XLVS_AF_INET6 ? "[" : "", xlvs_addr_str(&svc->vip, v, sizeof(v)),
		 svc->vip.family == XLVS_AF_INET6 ? "]" : "", svc->port,
		 xlvs_addr_str(&r->addr, a, sizeof(a)));
}

/* Same real of the same service, checked the same way at the same place. */
static bool same(const struct hc_inst *a, const struct hc_inst *b)
{
	return a->proto == b->proto && a->vport == b->vport && a->rport == b->rport &&
	       !memcmp(&a->vip, &b->vip, sizeof(a->vip)) && !memcmp(&a->real, &b->real, sizeof(a->real)) &&
	       !memcmp(&a->spec, &b->spec, sizeof(a->spec)) && !memcmp(&a->t, &b->t, sizeof(a->t));
}

static bool same_svc(const struct hc_svc *a, const struct xlvs_svc_spec *b)
{
	return a->proto == b->proto && a->port == b->port && !memcmp(&a->vip, &b->vip, sizeof(a->vip));
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n--)
		h = (h ^ *c++) * 1099511628211ull;
	return h;
}

static uint64_t svc_hash(const struct xlvs_addr *vip, uint8_t proto, uint16_t port)
{
	return fnv(1469598103934665603ull ^ proto ^ ((uint64_t)port << 8), vip, sizeof(*vip));
}

static uint64_t inst_hash(const struct hc_inst *in)
{
	return fnv(svc_hash(&in->vip, in->proto, in->vport), &in->real, sizeof(in->real));
}

/*
 * The set in force by hash (open addressing, linear probing), so a sync of
 * 65,536 reals or 16,384 services costs a pass, not a square.
 */
struct index {
	void **slot;
	size_t mask;
};

static int index_init(struct index *ix, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap <<= 1;
	ix->slot = calloc(cap, sizeof(*ix->slot));
	ix->mask = cap - 1;
	return ix->slot ? 0 : -ENOMEM;
}

static void index_add(struct index *ix, uint64_t h, void *p)
{
	for (h &= ix->mask; ix->slot[h]; h = (h + 1) & ix->mask)
		;
	ix->slot[h] = p;
}

/* What a sync reuses from the set in force. */
struct old_index {
	struct index inst, svc;
};

static int index_old(const struct hc_set *cur, struct old_index *ix)
{
	const struct hc_svc *s;
	size_t i;

	if (index_init(&ix->inst, cur->nr_inst) || index_init(&ix->svc, cur->nr_svc))
		return -ENOMEM;
	for (i = 0; i < cur->nr_inst; i++)
		index_add(&ix->inst, inst_hash(cur->inst[i]), cur->inst[i]);
	for (i = 0; i < cur->nr_svc; i++) {
		s = &cur->svc[i];
		index_add(&ix->svc, svc_hash(&s->vip, s->proto, s->port), (void *)s);
	}
	return 0;
}

static void index_old_free(struct old_index *ix)
{
	free(ix->inst.slot);
	free(ix->svc.slot);
}

/* An instance in force that is not taken yet (two equal reals get two instances). */
static struct hc_inst *find_old(const struct old_index *ix, const struct hc_inst *want)
{
	const struct index *x = &ix->inst;
	struct hc_inst *in;
	size_t h;

	for (h = inst_hash(want) & x->mask; (in = x->slot[h]); h = (h + 1) & x->mask)
		if (!in->live && same(in, want))
			return in;
	return NULL;
}

static const struct hc_svc *find_old_svc(const struct old_index *ix, const struct xlvs_svc_spec *svc)
{
	const struct index *x = &ix->svc;
	const struct hc_svc *s;
	size_t h;

	for (h = svc_hash(&svc->vip, svc->proto, svc->port) & x->mask; (s = x->slot[h]);
	     h = (h + 1) & x->mask)
		if (same_svc(s, svc))
			return s;
	return NULL;
}

/* ---- adoption: the health the maps show at a restart --------------------------- */

/* A service of the adopted maps, and one of its reals. */
struct adopt_svc {
	struct xlvs_addr vip;
	uint8_t proto;
	uint16_t port;
};

struct adopt_real {
	const struct adopt_svc *svc;
	struct xlvs_addr addr;
	uint32_t weight;
};

struct adopt {
	struct adopt_svc *svcs;
	struct adopt_real *reals;
	struct index svc, real;
	size_t nr_down, nr_lost; /* what the last stage took from it (logged at commit) */
};

static uint64_t adopt_real_hash(const struct adopt_svc *as, const struct xlvs_addr *a)
{
	return fnv(svc_hash(&as->vip, as->proto, as->port), a, sizeof(*a));
}

static void adopt_free(struct adopt *a)
{
	if (!a)
		return;
	free(a->svcs);
	free(a->reals);
	free(a->svc.slot);
	free(a->real.slot);
	free(a);
}

int xlvsd_hc_adopt(struct xlvsd_hc *hc, struct xlvs_maps *maps)
{
	struct adopt *a = calloc(1, sizeof(*a));
	const struct xlvs_svc_state *ss;
	struct xlvs_state st;
	struct adopt_svc *as;
	struct adopt_real *ar;
	size_t i, j, nr = 0;
	int err;

	if (!a)
		return -ENOMEM;
	err = xlvs_state_read(maps, &st);
	if (err) {
		free(a);
		return err;
	}
	for (i = 0; i < st.nr_services; i++)
		nr += st.services[i].nr_reals;
	a->svcs = calloc(st.nr_services + 1, sizeof(*a->svcs));
	a->reals = calloc(nr + 1, sizeof(*a->reals));
	if (!a->svcs || !a->reals || index_init(&a->svc, st.nr_services) || index_init(&a->real, nr)) {
		xlvs_state_free(&st);
		adopt_free(a);
		return -ENOMEM;
	}
	for (i = 0, ar = a->reals; i < st.nr_services; i++) {
		ss = &st.services[i];
		as = &a->svcs[i];
		xlvs_addr_from_be(&as->vip, ss->key.family, ss->key.addr);
		as->proto = ss->key.proto;
		as->port = ntohs(ss->key.port);
		index_add(&a->svc, svc_hash(&as->vip, as->proto, as->port), as);
		for (j = 0; j < ss->nr_reals; j++, ar++) {
			ar->svc = as;
			xlvs_addr_from_be(&ar->addr, ss->reals[j].real.family, ss->reals[j].real.addr);
			ar->weight = ss->reals[j].real.weight;
			index_add(&a->real, adopt_real_hash(as, &ar->addr), ar);
		}
	}
	xlvs_state_free(&st);
	adopt_free(hc->adopt);
	hc->adopt = a;
	return 0;
}

static const struct adopt_svc *adopt_find_svc(const struct adopt *a, const struct xlvs_svc_spec *svc)
{
	const struct adopt_svc *as;
	size_t h;

	for (h = svc_hash(&svc->vip, svc->proto, svc->port) & a->svc.mask; (as = a->svc.slot[h]);
	     h = (h + 1) & a->svc.mask)
		if (as->proto == svc->proto && as->port == svc->port &&
		    !memcmp(&as->vip, &svc->vip, sizeof(as->vip)))
			return as;
	return NULL;
}

static const struct adopt_real *adopt_find_real(const struct adopt *a, const struct adopt_svc *as,
						const struct xlvs_addr *addr)
{
	const struct adopt_real *ar;
	size_t h;

	for (h = adopt_real_hash(as, addr) & a->real.mask; (ar = a->real.slot[h]); h = (h + 1) & a->real.mask)
		if (ar->svc == as && !memcmp(&ar->addr, addr, sizeof(*addr)))
			return ar;
	return NULL;
}

/*
 * Whether checked real j of svc was down when the maps were last written: its
 * service is in the maps, its configured weight is above 0, and the maps hold
 * it at weight 0 (on_down: quiesce, or every real while the sorry server has
 * the service) or, with on_down: remove, leave it out. A service the maps do
 * not hold (new, or withdrawn) says nothing: its reals start as configured.
 */
static bool adopted_down(struct adopt *a, const struct xlvs_svc_spec *svc, size_t j)
{
	const struct xlvs_real_spec *r = &svc->reals[j];
	const struct adopt_svc *as;
	const struct adopt_real *ar;
	bool down;

	if (!a || !r->weight || !(as = adopt_find_svc(a, svc)))
		return false;
	ar = adopt_find_real(a, as, &r->addr);
	down = ar ? !ar->weight : svc->health && svc->health->on_down == XLVS_ON_DOWN_REMOVE;
	a->nr_down += down;
	return down;
}

/*
 * Whether svc's quorum was lost when the maps were last written: they hold the
 * sorry server (an address that is none of svc's reals) and the quorum's
 * action is the sorry server. A quorum not above its hysteresis cannot be
 * lost; a withdrawn service is not told from a new one (not in the maps).
 */
static bool adopted_lost(struct adopt *a, const struct xlvs_svc_spec *svc)
{
	const struct xlvs_svc_health *h = svc->health;
	const struct adopt_svc *as;
	size_t j;

	if (!a || !h || !h->have_sorry || !h->quorum || h->quorum <= h->quorum_hysteresis ||
	    h->quorum_action != XLVS_QUORUM_SORRY || !(as = adopt_find_svc(a, svc)) ||
	    !adopt_find_real(a, as, &h->sorry.addr))
		return false;
	for (j = 0; j < svc->nr_reals; j++)
		if (!memcmp(&svc->reals[j].addr, &h->sorry.addr, sizeof(h->sorry.addr)))
			return false;
	a->nr_lost++;
	return true;
}

/*
 * The instance for real j of svc checked by ck: the one in force if nothing
 * about it changed (marked live), else a fresh one in its initial state
 * (marked fresh; its first check is scheduled when the set goes in force).
 */
static struct hc_inst *inst_get(struct xlvsd_hc *hc, const struct old_index *ix,
				const struct xlvs_svc_spec *svc, size_t j, const struct xlvs_check_spec *ck)
{
	struct hc_inst want, *in;

	memset(&want, 0, sizeof(want));
	fill(&want, svc, j, ck);
	in = find_old(ix, &want);
	if (!in) {
		in = calloc(1, sizeof(*in));
		if (!in)
			return NULL;
		*in = want;
		in->hc = hc;
		in->fresh = true;
		xlvs_hc_fsm_init(&in->fsm, ck->rise, ck->fall,
				 ck->initial_up && !adopted_down(hc->adopt, svc, j));
		in->since = time(NULL);
		in->changed_at = mono_now();
		ev_timer_init(&in->timer, check_now, 0., 0.);
	}
	in->live = true;
	return in;
}

/* Service svc into s, with the quorum state its service in force had. */
static int stage_svc(struct xlvsd_hc *hc, const struct old_index *ix, const struct xlvs_svc_spec *svc,
		     struct hc_svc *s, struct hc_set *next)
{
	const struct xlvs_check_spec *ck;
	const struct hc_svc *old = find_old_svc(ix, svc);
	size_t j;

	s->vip = svc->vip;
	s->proto = svc->proto;
	s->port = svc->port;
	s->health = svc->health;
	if (old) {
		s->st = old->st;
		s->notified_lost = old->notified_lost;
	} else if (adopted_lost(hc->adopt, svc)) {
		s->st.quorum_lost = true; /* lost before the restart: told then */
		s->notified_lost = true;
	}
	s->reals = calloc(svc->nr_reals + 1, sizeof(*s->reals));
	if (!s->reals)
		return -ENOMEM;
	s->nr_reals = svc->nr_reals;
	for (j = 0; j < svc->nr_reals; j++) {
		ck = xlvsd_hc_check_of(svc, j);
		if (!ck)
			continue;
		s->reals[j] = inst_get(hc, ix, svc, j, ck);
		if (!s->reals[j])
			return -ENOMEM;
		next->inst[next->nr_inst++] = s->reals[j];
	}
	return 0;
}

/* The arrays of a set, not its instances. */
static void set_free(struct hc_set *set)
{
	size_t i;

	for (i = 0; set->svc && i < set->nr_svc; i++)
		free(set->svc[i].reals);
	free(set->svc);
	free(set->inst);
	memset(set, 0, sizeof(*set));
}

void xlvsd_hc_rollback(struct xlvsd_hc *hc)
{
	struct hc_set *next = &hc->next;
	size_t i;

	for (i = 0; i < next->nr_inst; i++) {
		if (next->inst[i]->fresh)
			inst_free(next->inst[i]);
		else
			next->inst[i]->live = false;
	}
	set_free(next);
	hc->staged = false;
}

/* hc->next for cfg beside the set in force, which nothing here changes. */
int xlvsd_hc_stage(struct xlvsd_hc *hc, const struct xlvs_spec *cfg)
{
	struct hc_set *next = &hc->next;
	struct old_index ix = { 0 };
	size_t i, j, total = 0;
	int err = 0;

	if (hc->staged)
		xlvsd_hc_rollback(hc);
	if (hc->adopt)
		hc->adopt->nr_down = hc->adopt->nr_lost = 0;
	for (i = 0; i < cfg->nr_services; i++)
		for (j = 0; j < cfg->services[i].nr_reals; j++)
			total += xlvsd_hc_check_of(&cfg->services[i], j) != NULL;
	hc->staged = true;
	next->svc = calloc(cfg->nr_services + 1, sizeof(*next->svc));
	next->inst = calloc(total + 1, sizeof(*next->inst));
	next->nr_svc = cfg->nr_services;
	if (!next->svc || !next->inst || index_old(&hc->cur, &ix))
		err = -ENOMEM;
	for (i = 0; !err && i < cfg->nr_services; i++)
		err = stage_svc(hc, &ix, &cfg->services[i], &next->svc[i], next);
	index_old_free(&ix);
	if (err)
		xlvsd_hc_rollback(hc);
	return err;
}

static void announce_quorum(struct xlvsd_hc *hc, struct hc_svc *s);

/* Instances left out stop, fresh ones get their first check, quorum changes are told. */
void xlvsd_hc_commit(struct xlvsd_hc *hc)
{
	struct hc_set old = hc->cur;
	struct hc_inst *in;
	size_t i, j;

	if (!hc->staged)
		return;
	for (i = 0; i < hc->next.nr_svc; i++)
		for (j = 0; j < hc->next.svc[i].nr_reals; j++)
			if (hc->next.svc[i].reals[j]) /* notify with the new configuration's hooks */
				hc->next.svc[i].reals[j]->health = hc->next.svc[i].health;
	pthread_mutex_lock(&hc->lock);
	for (i = 0; i < old.nr_inst; i++)
		if (!old.inst[i]->live)
			inst_free(old.inst[i]);
	hc->cur = hc->next;
	pthread_mutex_unlock(&hc->lock);
	memset(&hc->next, 0, sizeof(hc->next));
	hc->staged = false;
	for (i = 0; i < hc->cur.nr_inst; i++) {
		in = hc->cur.inst[i];
		if (in->fresh) /* the first check at a random point of the first interval */
			schedule(in, (in->spec.interval_ms / 1000.0) * (random() / (double)RAND_MAX));
		in->live = in->fresh = false;
	}
	set_free(&old);
	if (hc->adopt) {
		/* the first configuration in force: the maps' health is taken, or never will be */
		if (hc->adopt->nr_down || hc->adopt->nr_lost)
			log_info("health: started from the adopted maps: %zu checked reals down "
				 "(up again after their rise checks), %zu services with their "
				 "quorum lost",
				 hc->adopt->nr_down, hc->adopt->nr_lost);
		adopt_free(hc->adopt);
		hc->adopt = NULL;
	}
	for (i = 0; i < hc->cur.nr_svc; i++)
		announce_quorum(hc, &hc->cur.svc[i]);
}

int xlvsd_hc_sync(struct xlvsd_hc *hc, const struct xlvs_spec *cfg)
{
	int err = xlvsd_hc_stage(hc, cfg);

	if (!err)
		xlvsd_hc_commit(hc);
	return err;
}

/* ---- the effective state ------------------------------------------------------- */

struct up_ctx {
	const struct hc_set *set;
	const struct xlvs_spec *cfg;
};

static bool inst_up(void *ctx, const struct xlvs_svc_spec *svc, size_t idx)
{
	struct up_ctx *u = ctx;
	const struct hc_svc *s = &u->set->svc[svc - u->cfg->services];

	return idx >= s->nr_reals || !s->reals[idx] || s->reals[idx]->fsm.up;
}

/*
 * The effective state of cfg (what set was built from) under the current
 * results. *st gets the set's quorum state, moved on by this build: a copy
 * (nr_svc entries) the caller frees, so a query changes nothing.
 */
static int set_effective(const struct hc_set *set, const struct xlvs_spec *cfg,
			 struct xlvsd_hc_svc_state **st, struct xlvs_spec *out)
{
	struct up_ctx u = { .set = set, .cfg = cfg };
	size_t i;
	int err;

	*st = NULL;
	if (cfg->nr_services != set->nr_svc)
		return -EINVAL; /* not what was synced */
	*st = calloc(set->nr_svc + 1, sizeof(**st));
	if (!*st)
		return -ENOMEM;
	for (i = 0; i < set->nr_svc; i++)
		(*st)[i] = set->svc[i].st;
	err = xlvsd_hc_effective(cfg, inst_up, &u, *st, out);
	if (err) {
		free(*st);
		*st = NULL;
	}
	return err;
}

/* Log and notify a quorum change of s not told yet. */
static void announce_quorum(struct xlvsd_hc *hc, struct hc_svc *s)
{
	const struct xlvs_svc_health *h = s->health;
	const char *proto = xlvs_svc_proto_name(s->proto);
	char v[INET6_ADDRSTRLEN];

	if (!h || s->st.quorum_lost == s->notified_lost)
		return;
	s->notified_lost = s->st.quorum_lost;
	xlvs_addr_str(&s->vip, v, sizeof(v));
	if (s->st.quorum_lost)
		log_warn("health: %s %s:%u lost its quorum (up weight %" PRIu64 " < %u): %s", proto, v,
			 s->port, s->st.up_weight, h->quorum,
			 h->quorum_action == XLVS_QUORUM_WITHDRAW ? "service withdrawn"
			 : h->have_sorry			  ? "sorry server in use"
								  : "no sorry server configured");
	else
		log_info("health: %s %s:%u has its quorum again (up weight %" PRIu64 ")", proto, v, s->port,
			 s->st.up_weight);
	notify(hc, h, h->notify_quorum, s->st.quorum_lost ? "quorum_lost" : "quorum_up", NULL, s);
}

/*
 * The staged set while a sync is staged (the configuration being applied),
 * else the one in force. Quorum changes of a staged set are told when it
 * goes in force.
 */
int xlvsd_hc_build(struct xlvsd_hc *hc, const struct xlvs_spec *cfg, struct xlvs_spec *out)
{
	struct hc_set *set = hc->staged ? &hc->next : &hc->cur;
	struct xlvsd_hc_svc_state *st;
	size_t i;
	int err;

	err = set_effective(set, cfg, &st, out);
	if (err)
		return err;
	for (i = 0; i < set->nr_svc; i++) {
		set->svc[i].st = st[i];
		if (!hc->staged)
			announce_quorum(hc, &set->svc[i]);
	}
	free(st);
	return 0;
}

/* ---- visibility ---------------------------------------------------------------- */

/*
 * What the health reply shows of a real and its check, copied at one time
 * (a report), so the reply can be written in steps while checks run. Kept
 * small (the copy of 65,536 reals is the one step that holds the loop):
 * the last message is in the report's text, at msg.
 */
struct inst_snap {
	bool checked, up, last_ok, in_maps, running;
	uint8_t type;
	uint16_t rise, fall, run;
	uint16_t port, check_port;
	uint32_t weight, eff_weight, last_latency_us;
	uint32_t interval_ms, timeout_ms, ok_streak, fail_streak;
	uint32_t msg, target; /* offsets in the report's text */
	struct xlvs_addr addr, check_addr;
	uint64_t checks, failures, transitions;
	time_t since;
	int64_t changed_ago_ms, checked_ago_ms, next_in_ms; /* -1: none (no result, no check scheduled) */
};

/* The report's text: every last message, one after the other ("" is at 0). */
struct snap_text {
	char *p;
	size_t len, cap;
};

/* The offset of a copy of msg in t; "" when out of memory. */
static uint32_t text_add(struct snap_text *t, const char *msg)
{
	size_t n = strlen(msg) + 1, cap = t->cap ? t->cap : 4096;
	char *p;

	if (n == 1)
		return 0;
	while (cap - t->len < n + 1) /* + the "" at 0 of an empty text */
		cap *= 2;
	if (cap != t->cap) {
		p = realloc(t->p, cap);
		if (!p)
			return 0;
		t->p = p;
		t->cap = cap;
	}
	if (!t->len)
		t->p[t->len++] = '\0';
	if (t->len + n > UINT32_MAX)
		return 0;
	memcpy(t->p + t->len, msg, n);
	t->len += n;
	return (uint32_t)(t->len - n);
}

/*
 * What an operator recognises the check by: "198.18.1.11:80/health", "198.18.1.11", the command;
 * a check through the forwarding path by the VIP it goes to and its mark.
 */
static uint32_t target_text(const struct hc_inst *in, struct snap_text *text)
{
	const struct xlvs_addr *addr = in->mark ? &in->vip : &in->t.addr;
	uint16_t port = probe_port(in, in->mark);
	char a[INET6_ADDRSTRLEN], t[INET6_ADDRSTRLEN + XLVS_CHECK_STR + 40];
	bool v6 = addr->family == XLVS_AF_INET6;
	int n;

	if (in->spec.type == XLVS_CHECK_EXEC)
		return text_add(text, in->spec.command);
	xlvs_addr_str(addr, a, sizeof(a));
	if (in->spec.type == XLVS_CHECK_ICMP)
		n = snprintf(t, sizeof(t), "%s", a);
	else
		n = snprintf(t, sizeof(t), "%s%s%s:%u%s", v6 ? "[" : "", a, v6 ? "]" : "", port,
			     in->spec.type == XLVS_CHECK_HTTP || in->spec.type == XLVS_CHECK_HTTPS
				     ? in->spec.path
				     : "");
	if (in->mark && n > 0 && (size_t)n < sizeof(t))
		snprintf(t + n, sizeof(t) - (size_t)n, " mark 0x%08x", in->mark);
	return text_add(text, t);
}

static int64_t ago_ms(double now, double then)
{
	return now > then ? (int64_t)((now - then) * 1000) : 0;
}

static void inst_snap(struct inst_snap *s, const struct hc_inst *in, struct snap_text *text, double now)
{
	const ev_timer *w = &in->timer;
	double left;

	s->interval_ms = in->spec.interval_ms;
	s->timeout_ms = in->spec.timeout_ms;
	s->ok_streak = in->ok_streak;
	s->fail_streak = in->fail_streak;
	s->running = in->probe != NULL;
	s->changed_ago_ms = ago_ms(now, in->changed_at);
	s->checked_ago_ms = in->checks ? ago_ms(now, in->checked_at) : -1;
	s->next_in_ms = -1;
	if (ev_is_active(w)) {
		left = ev_timer_remaining(in->hc->loop, (ev_timer *)w);
		s->next_in_ms = left > 0 ? (int64_t)(left * 1000) : 0;
	}
	s->target = target_text(in, text);
	s->checked = true;
	s->up = in->fsm.up;
	s->type = in->spec.type;
	s->check_addr = in->mark ? in->vip : in->t.addr; /* through the forwarding path: the VIP */
	s->check_port = probe_port(in, in->mark);
	s->rise = in->spec.rise;
	s->fall = in->spec.fall;
	s->run = in->fsm.up ? in->fsm.fail_run : in->fsm.ok_run;
	s->last_ok = in->last_ok;
	s->last_latency_us = in->last_latency_us;
	s->checks = in->checks;
	s->failures = in->failures;
	s->transitions = in->fsm.transitions;
	s->since = in->since;
	s->msg = text_add(text, in->last_msg);
}

/* The fields an operator reads in `xlvs health`: target, streaks, schedule, ages. */
static void inst_json_more(json_t *o, const struct inst_snap *in, const char *target)
{
	json_object_update_new(o,
			       json_pack("{s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:b}", "initial", !in->checks,
					 "target", target, "interval_ms", (json_int_t)in->interval_ms,
					 "timeout_ms", (json_int_t)in->timeout_ms, "consecutive_ok",
					 (json_int_t)in->ok_streak, "consecutive_failed",
					 (json_int_t)in->fail_streak, "last_change_ago_ms",
					 (json_int_t)in->changed_ago_ms, "running", in->running));
	if (in->checked_ago_ms >= 0)
		json_object_set_new(o, "last_check_ago_ms", json_integer(in->checked_ago_ms));
	if (in->next_in_ms >= 0)
		json_object_set_new(o, "next_check_in_ms", json_integer(in->next_in_ms));
}

static json_t *inst_json(const struct inst_snap *in, const char *last_msg, const char *target, time_t now)
{
	char a[INET6_ADDRSTRLEN];
	json_t *o;

	o = json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:s, s:b, s:s, s:f, s:I, s:I, s:I, s:I, s:I}", "state",
		      in->up ? "up" : "down", "check", xlvs_check_type_name(in->type), "check_address",
		      xlvs_addr_str(&in->check_addr, a, sizeof(a)), "check_port", (int)in->check_port, "rise",
		      (int)in->rise, "fall", (int)in->fall, "last_result",
		      in->checks ? (in->last_ok ? "ok" : "failed") : "none", "last_ok", in->last_ok,
		      "last_message", last_msg, "last_latency_ms", in->last_latency_us / 1000.0, "checks",
		      (json_int_t)in->checks, "failures", (json_int_t)in->failures, "transitions",
		      (json_int_t)in->transitions, "since_s", (json_int_t)(now - in->since), "rise_fall",
		      (json_int_t)in->run);
	if (o)
		inst_json_more(o, in, target);
	return o;
}

/*
 * The effective services by identity, and each one's reals by address (the
 * first real of an address wins), so the health reply costs a pass over the
 * configuration rather than a scan of everything per real.
 */
struct eff_index {
	struct index svc;		 /* -> const struct xlvs_svc_spec * of eff */
	const struct xlvs_svc_spec *cur; /* the service reals indexes */
	struct index reals;		 /* -> const struct xlvs_real_spec * of cur */
};

static uint64_t addr_hash(const struct xlvs_addr *a)
{
	return fnv(1469598103934665603ull, a, sizeof(*a));
}

static int eff_index_init(struct eff_index *x, const struct xlvs_spec *eff)
{
	const struct xlvs_svc_spec *e;
	size_t i;

	memset(x, 0, sizeof(*x));
	if (index_init(&x->svc, eff->nr_services))
		return -ENOMEM;
	for (i = 0; i < eff->nr_services; i++) {
		e = &eff->services[i];
		index_add(&x->svc, svc_hash(&e->vip, e->proto, e->port), (void *)e);
	}
	return 0;
}

static void eff_index_free(struct eff_index *x)
{
	free(x->svc.slot);
	free(x->reals.slot);
}

/* Point x at the effective service of svc (none: withdrawn); its reals by address. */
static int eff_index_svc(struct eff_index *x, const struct xlvs_svc_spec *svc)
{
	const struct xlvs_svc_spec *e;
	size_t h, j;

	x->cur = NULL;
	free(x->reals.slot);
	x->reals.slot = NULL;
	for (h = svc_hash(&svc->vip, svc->proto, svc->port) & x->svc.mask; (e = x->svc.slot[h]);
	     h = (h + 1) & x->svc.mask) {
		if (e->proto == svc->proto && e->port == svc->port &&
		    !memcmp(&e->vip, &svc->vip, sizeof(e->vip))) {
			x->cur = e;
			break;
		}
	}
	if (!x->cur)
		return 0;
	if (index_init(&x->reals, x->cur->nr_reals))
		return -ENOMEM;
	/* linear probing keeps equal addresses in insertion order: the first is found first */
	for (j = 0; j < x->cur->nr_reals; j++)
		index_add(&x->reals, addr_hash(&x->cur->reals[j].addr), (void *)&x->cur->reals[j]);
	return 0;
}

/* The effective weight of the real at a in the service x points at. */
static uint32_t eff_weight(const struct eff_index *x, const struct xlvs_addr *a, bool *present)
{
	const struct xlvs_real_spec *r;
	size_t h;

	*present = false;
	if (!x->cur)
		return 0;
	for (h = addr_hash(a) & x->reals.mask; (r = x->reals.slot[h]); h = (h + 1) & x->reals.mask) {
		if (!memcmp(&r->addr, a, sizeof(*a))) {
			*present = true;
			return r->weight;
		}
	}
	return 0;
}

/* A service as the health reply shows it (its reals are snap[first..first + nr_reals)). */
struct svc_snap {
	struct xlvs_addr vip, sorry;
	uint16_t port;
	uint8_t proto;
	bool health, have_sorry;
	uint8_t check_type, on_down, quorum_action;
	uint32_t quorum;
	struct xlvsd_hc_svc_state st;
	size_t first, nr_reals;
};

struct xlvsd_hc_report {
	time_t now;
	double mono; /* CLOCK_MONOTONIC seconds when copied */
	size_t nr_svc;
	struct svc_snap *svc;
	struct inst_snap *real;
	struct snap_text text;
};

void xlvsd_hc_report_free(struct xlvsd_hc_report *r)
{
	if (!r)
		return;
	free(r->svc);
	free(r->real);
	free(r->text.p);
	free(r);
}

static void svc_snap(struct svc_snap *o, const struct xlvs_svc_spec *svc, const struct xlvsd_hc_svc_state *st)
{
	const struct xlvs_svc_health *h = svc->health;

	o->vip = svc->vip;
	o->port = svc->port;
	o->proto = svc->proto;
	o->st = *st;
	o->nr_reals = svc->nr_reals;
	o->health = h;
	if (!h)
		return;
	o->check_type = h->check.type;
	o->on_down = h->on_down;
	o->quorum = h->quorum;
	o->quorum_action = h->quorum_action;
	o->have_sorry = h->have_sorry;
	o->sorry = h->sorry.addr;
}

/* Service i of cfg and its reals into r (real: where its first real goes). */
static int report_svc(struct xlvsd_hc_report *r, const struct xlvs_spec *cfg, const struct hc_svc *s,
		      const struct xlvsd_hc_svc_state *st, struct eff_index *eff, size_t i, size_t real)
{
	const struct xlvs_svc_spec *svc = &cfg->services[i];
	struct inst_snap *o;
	size_t j;

	if (eff_index_svc(eff, svc))
		return -ENOMEM;
	svc_snap(&r->svc[i], svc, st);
	r->svc[i].first = real;
	for (j = 0; j < svc->nr_reals; j++) {
		o = &r->real[real + j];
		if (s->reals[j])
			inst_snap(o, s->reals[j], &r->text, r->mono);
		o->addr = svc->reals[j].addr;
		o->port = svc->reals[j].port;
		o->weight = svc->reals[j].weight;
		o->eff_weight = eff_weight(eff, &o->addr, &o->in_maps);
	}
	return 0;
}

struct xlvsd_hc_report *xlvsd_hc_report_new(struct xlvsd_hc *hc, const struct xlvs_spec *cfg)
{
	struct xlvsd_hc_report *r = calloc(1, sizeof(*r));
	struct xlvsd_hc_svc_state *st = NULL;
	size_t i, real = 0, nr = 0;
	struct eff_index ix;
	struct xlvs_spec eff;
	int err;

	for (i = 0; i < cfg->nr_services; i++)
		nr += cfg->services[i].nr_reals;
	if (!r || !(r->svc = calloc(cfg->nr_services + 1, sizeof(*r->svc))) ||
	    !(r->real = calloc(nr + 1, sizeof(*r->real)))) {
		xlvsd_hc_report_free(r);
		return NULL;
	}
	r->now = time(NULL);
	r->mono = mono_now();
	r->nr_svc = cfg->nr_services;
	/* built on a copy of the quorum state: a query changes nothing */
	if (set_effective(&hc->cur, cfg, &st, &eff)) {
		xlvsd_hc_report_free(r);
		return NULL;
	}
	err = eff_index_init(&ix, &eff);
	for (i = 0; !err && i < cfg->nr_services; i++) {
		err = report_svc(r, cfg, &hc->cur.svc[i], &st[i], &ix, i, real);
		real += cfg->services[i].nr_reals;
	}
	eff_index_free(&ix);
	xlvs_spec_free(&eff);
	free(st);
	if (err) {
		xlvsd_hc_report_free(r);
		return NULL;
	}
	return r;
}

size_t xlvsd_hc_report_services(const struct xlvsd_hc_report *r)
{
	return r->nr_svc;
}

size_t xlvsd_hc_report_reals(const struct xlvsd_hc_report *r, size_t svc)
{
	return r->svc[svc].nr_reals;
}

/* A service's health settings and state into h: check, on_down, up weight, quorum, sorry. */
static void svc_health_json(json_t *h, const struct svc_snap *s)
{
	char a[INET6_ADDRSTRLEN];

	json_object_set_new(h, "check", json_string(xlvs_check_type_name(s->check_type)));
	json_object_set_new(h, "on_down",
			    json_string(s->on_down == XLVS_ON_DOWN_REMOVE ? "remove" : "quiesce"));
	json_object_set_new(h, "up_weight", json_integer((json_int_t)s->st.up_weight));
	if (s->quorum)
		json_object_set_new(h, "quorum",
				    json_pack("{s:I, s:b, s:s}", "weight", (json_int_t)s->quorum, "lost",
					      s->st.quorum_lost, "action",
					      s->quorum_action == XLVS_QUORUM_WITHDRAW ? "withdraw"
										       : "sorry"));
	if (s->have_sorry)
		json_object_set_new(h, "sorry",
				    json_pack("{s:s, s:b}", "address", xlvs_addr_str(&s->sorry, a, sizeof(a)),
					      "active", s->st.sorry_active));
}

json_t *xlvsd_hc_report_service(const struct xlvsd_hc_report *r, size_t svc)
{
	const struct svc_snap *s = &r->svc[svc];
	char a[INET6_ADDRSTRLEN];
	json_t *h;

	h = json_pack("{s:s, s:i, s:s}", "vip", xlvs_addr_str(&s->vip, a, sizeof(a)), "port", (int)s->port,
		      "protocol", xlvs_svc_proto_name(s->proto));
	if (h && s->health)
		svc_health_json(h, s);
	return h;
}

json_t *xlvsd_hc_report_real(const struct xlvsd_hc_report *r, size_t svc, size_t j)
{
	const struct inst_snap *in = &r->real[r->svc[svc].first + j];
	char a[INET6_ADDRSTRLEN];
	json_t *o;

	o = json_pack("{s:s, s:i, s:I, s:I, s:b}", "address", xlvs_addr_str(&in->addr, a, sizeof(a)), "port",
		      (int)in->port, "weight", (json_int_t)in->weight, "effective_weight",
		      (json_int_t)in->eff_weight, "in_maps", in->in_maps);
	if (o)
		json_object_set_new(o, "health",
				    in->checked ? inst_json(in, in->msg ? r->text.p + in->msg : "",
							    in->target ? r->text.p + in->target : "", r->now)
						: json_pack("{s:s}", "state", "unchecked"));
	return o;
}

/* Service svc with its reals. */
static json_t *report_svc_json(const struct xlvsd_hc_report *r, size_t svc)
{
	json_t *o = xlvsd_hc_report_service(r, svc), *reals = json_array();
	size_t j;

	for (j = 0; o && reals && j < r->svc[svc].nr_reals; j++) {
		if (json_array_append_new(reals, xlvsd_hc_report_real(r, svc, j))) {
			json_decref(reals);
			reals = NULL;
		}
	}
	if (!reals || json_object_set_new(o, "reals", reals)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *xlvsd_hc_json(struct xlvsd_hc *hc, const struct xlvs_spec *cfg)
{
	struct xlvsd_hc_report *r = xlvsd_hc_report_new(hc, cfg);
	json_t *svcs = r ? json_array() : NULL;
	size_t i;

	for (i = 0; svcs && i < r->nr_svc; i++) {
		if (json_array_append_new(svcs, report_svc_json(r, i))) {
			json_decref(svcs); /* an incomplete reply is no reply */
			svcs = NULL;
		}
	}
	xlvsd_hc_report_free(r);
	return svcs;
}

/* The labels of an instance's samples: vip, port, protocol, real, then extra=value if extra. */
struct inst_labels {
	char vip[INET6_ADDRSTRLEN], port[8], real[INET6_ADDRSTRLEN];
	const char *kv[10];
};

static size_t inst_labels(struct inst_labels *l, const struct hc_inst *in, const char *extra,
			  const char *value)
{
	const char *kv[] = { "vip",	 xlvs_addr_str(&in->vip, l->vip, sizeof(l->vip)),
			     "port",	 l->port,
			     "protocol", xlvs_svc_proto_name(in->proto),
			     "real",	 xlvs_addr_str(&in->real, l->real, sizeof(l->real)),
			     extra,	 value };

	snprintf(l->port, sizeof(l->port), "%u", in->vport);
	memcpy(l->kv, kv, sizeof(kv));
	return extra ? 5 : 4;
}

static void inst_sample(FILE *f, const char *name, const struct hc_inst *in, const char *extra,
			const char *value, uint64_t v)
{
	struct inst_labels l;
	size_t n = inst_labels(&l, in, extra, value);

	xlvs_metrics_sample(f, name, l.kv, n, v);
}

static void put_histogram(FILE *f, const struct hc_inst *in)
{
	struct inst_labels l;
	char le[16], sum[32];
	uint64_t cum = 0;
	size_t b, n;

	for (b = 0; b <= NR_BUCKETS; b++) {
		cum += in->hist[b];
		if (b < NR_BUCKETS)
			snprintf(le, sizeof(le), "%g", buckets[b]);
		else
			snprintf(le, sizeof(le), "+Inf");
		inst_sample(f, "xlvs_health_check_duration_seconds_bucket", in, "le", le, cum);
	}
	n = inst_labels(&l, in, NULL, NULL);
	snprintf(sum, sizeof(sum), "%.6f", in->lat_sum);
	xlvs_metrics_sample_text(f, "xlvs_health_check_duration_seconds_sum", l.kv, n, sum);
	inst_sample(f, "xlvs_health_check_duration_seconds_count", in, NULL, NULL, in->checks);
}

void xlvsd_hc_metrics(FILE *f, void *arg)
{
	struct xlvsd_hc *hc = arg;
	const struct hc_set *set = &hc->cur;
	const struct hc_inst *in;
	size_t i;

	pthread_mutex_lock(&hc->lock);
	xlvs_metrics_family(f, "xlvs_real_up", "gauge", "Health of a checked real server (1 up, 0 down).");
	for (i = 0; i < set->nr_inst; i++) {
		in = set->inst[i];
		inst_sample(f, "xlvs_real_up", in, "check", xlvs_check_type_name(in->spec.type), in->fsm.up);
	}
	xlvs_metrics_family(f, "xlvs_real_health_transitions_total", "counter",
			    "Health state changes of a real server.");
	for (i = 0; i < set->nr_inst; i++)
		inst_sample(f, "xlvs_real_health_transitions_total", set->inst[i], NULL, NULL,
			    set->inst[i]->fsm.transitions);
	xlvs_metrics_family(f, "xlvs_health_checks_total", "counter", "Health checks run, by result.");
	for (i = 0; i < set->nr_inst; i++) {
		in = set->inst[i];
		inst_sample(f, "xlvs_health_checks_total", in, "result", "ok", in->checks - in->failures);
		inst_sample(f, "xlvs_health_checks_total", in, "result", "failed", in->failures);
	}
	xlvs_metrics_family(f, "xlvs_health_check_duration_seconds", "histogram",
			    "Time a health check took to succeed or fail.");
	for (i = 0; i < set->nr_inst; i++)
		put_histogram(f, set->inst[i]);
	pthread_mutex_unlock(&hc->lock);
}

void xlvsd_hc_counts(struct xlvsd_hc *hc, unsigned int *instances, unsigned int *up, unsigned int *down)
{
	size_t i;

	*instances = hc->cur.nr_inst;
	*up = *down = 0;
	for (i = 0; i < hc->cur.nr_inst; i++) {
		if (hc->cur.inst[i]->fsm.up)
			(*up)++;
		else
			(*down)++;
	}
}

/* ---- life ------------------------------------------------------------------------- */

int xlvsd_hc_new(struct xlvsd_hc **out, struct ev_loop *loop, unsigned int max_inflight,
		 xlvsd_hc_changed_fn changed, void *ctx)
{
	struct xlvsd_hc *hc = calloc(1, sizeof(*hc));
	int err;

	if (!hc)
		return -ENOMEM;
	err = xlvs_checker_new(&hc->ck, loop, max_inflight);
	if (err) {
		free(hc);
		return err;
	}
	hc->loop = loop;
	hc->changed = changed;
	hc->ctx = ctx;
	pthread_mutex_init(&hc->lock, NULL);
	ev_timer_init(&hc->apply, apply_cb, 0., 0.);
	*out = hc;
	return 0;
}

void xlvsd_hc_free(struct xlvsd_hc *hc)
{
	size_t i;

	if (!hc)
		return;
	ev_timer_stop(hc->loop, &hc->apply);
	if (hc->staged)
		xlvsd_hc_rollback(hc);
	for (i = 0; i < hc->cur.nr_inst; i++)
		inst_free(hc->cur.inst[i]);
	set_free(&hc->cur);
	adopt_free(hc->adopt);
	xlvs_checker_free(hc->ck);
	pthread_mutex_destroy(&hc->lock);
	free(hc);
}
