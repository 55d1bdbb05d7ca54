// SPDX-License-Identifier: GPL-2.0
/*
 * The health-check manager of xlvsd, see hc.h. Instances live in an array
 * rebuilt by xlvsd_hc_sync(); by_idx maps (service, real) of the synced
 * configuration to its instance. The metrics thread reads the instances'
 * counters under hc->lock; everything else runs on the loop.
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
#include "xlvsmaps.h"

#define JITTER		0.1		/* each interval is +-10% */

static const double buckets[] = {	/* seconds, for the latency histogram */
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
};
#define NR_BUCKETS	(sizeof(buckets) / sizeof(buckets[0]))

struct hc_inst {
	struct xlvsd_hc *hc;
	/* identity */
	struct xlvs_addr vip, real;
	uint8_t proto;
	uint16_t vport, rport;
	struct xlvs_check_spec spec;
	struct xlvs_probe_target t;
	const struct xlvs_svc_health *health;	/* of the synced configuration (notify) */
	char label[96];				/* "tcp 198.18.0.10:80 real 198.18.1.11" */
	/* state */
	struct xlvs_hc_fsm fsm;
	ev_timer timer;
	struct xlvs_probe *probe;
	bool live;				/* kept by the sync in progress */
	bool fresh;				/* made by the sync in progress */
	/* results (under hc->lock) */
	uint64_t checks, failures;
	uint64_t hist[NR_BUCKETS + 1];
	double lat_sum;
	bool last_ok;
	uint32_t last_latency_us;
	char last_msg[160];
	time_t since;				/* last state change (or start) */
};

struct xlvsd_hc {
	struct ev_loop *loop;
	struct xlvs_checker *ck;
	pthread_mutex_t lock;
	struct hc_inst **inst;
	size_t nr_inst;
	struct hc_inst ***by_idx;		/* [service][real] of the synced spec, NULL: unchecked */
	size_t nr_svc;
	struct xlvsd_hc_svc_state *svc_st;
	bool *svc_notified_lost;		/* quorum state last notified */
	struct xlvs_addr *svc_keys;		/* vip of each synced service */
	uint32_t *svc_key_port;			/* port | proto << 16 */
	xlvsd_hc_changed_fn changed;
	void *ctx;
	ev_timer apply;				/* coalesces state changes into one apply */
};

/* ---- notify hooks -------------------------------------------------------------- */

static void notify_done(void *ctx, const struct xlvs_probe_result *r)
{
	char *what = ctx;

	if (!r->ok)
		log_warn("health: notify %s: %s", what, r->msg);
	free(what);
}

static void notify(struct xlvsd_hc *hc, const struct xlvs_svc_health *h, const char *cmd,
		   const char *event, const struct hc_inst *in, const struct xlvs_svc_spec *svc)
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
	if (asprintf(&env[n], "XLVS_PROTOCOL=%s",
		     xlvs_svc_proto_name(in ? in->proto : svc->proto)) >= 0)
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
	changed = xlvs_hc_fsm_feed(&in->fsm, r->ok);
	if (changed)
		in->since = time(NULL);
	pthread_mutex_unlock(&hc->lock);
	if (changed) {
		log_info("health: %s is %s (%s check: %s, %u ms)", in->label,
			 in->fsm.up ? "up" : "down", xlvs_check_type_name(in->spec.type), r->msg,
			 r->latency_us / 1000);
		notify(hc, in->health, in->fsm.up ? in->health->notify_up : in->health->notify_down,
		       in->fsm.up ? "up" : "down", in, NULL);
		if (!ev_is_active(&hc->apply))
			ev_timer_start(hc->loop, &hc->apply);
	} else if (!r->ok) {
		log_debug("health: %s check failed: %s", in->label, r->msg);
	}
	schedule(in, jittered(in->spec.interval_ms / 1000.0));
}

static void check_now(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct hc_inst *in = (struct hc_inst *)((char *)w - __builtin_offsetof(struct hc_inst, timer));

	if (in->probe)
		return;
	if (xlvs_probe_start(in->hc->ck, &in->spec, &in->t, result, in, &in->probe)) {
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
	snprintf(in->label, sizeof(in->label), "%s %s%s%s:%u real %s",
		 xlvs_svc_proto_name(svc->proto), svc->vip.family == XLVS_AF_INET6 ? "[" : "",
		 xlvs_addr_str(&svc->vip, v, sizeof(v)), svc->vip.family == XLVS_AF_INET6 ? "]" : "",
		 svc->port, xlvs_addr_str(&r->addr, a, sizeof(a)));
}

/* Same real of the same service, checked the same way at the same place. */
static bool same(const struct hc_inst *a, const struct hc_inst *b)
{
	return a->proto == b->proto && a->vport == b->vport && a->rport == b->rport &&
	       !memcmp(&a->vip, &b->vip, sizeof(a->vip)) &&
	       !memcmp(&a->real, &b->real, sizeof(a->real)) &&
	       !memcmp(&a->spec, &b->spec, sizeof(a->spec)) &&
	       !memcmp(&a->t, &b->t, sizeof(a->t));
}

static uint64_t inst_hash(const struct hc_inst *in)
{
	const unsigned char *parts[] = { (const void *)&in->vip, (const void *)&in->real };
	uint64_t h = 1469598103934665603ull ^ in->proto ^ ((uint64_t)in->vport << 8);
	size_t i, k;

	for (k = 0; k < 2; k++)
		for (i = 0; i < sizeof(struct xlvs_addr); i++)
			h = (h ^ parts[k][i]) * 1099511628211ull;
	return h;
}

/* Old instances by hash, so a sync of 65,536 reals costs a pass, not a square. */
struct old_index {
	struct hc_inst **slot;
	size_t mask;
};

static int index_old(struct xlvsd_hc *hc, struct old_index *ix)
{
	size_t cap = 16, i, h;

	while (cap < 2 * hc->nr_inst)
		cap <<= 1;
	ix->slot = calloc(cap, sizeof(*ix->slot));
	if (!ix->slot)
		return -ENOMEM;
	ix->mask = cap - 1;
	for (i = 0; i < hc->nr_inst; i++) {
		for (h = inst_hash(hc->inst[i]) & ix->mask; ix->slot[h]; h = (h + 1) & ix->mask)
			;
		ix->slot[h] = hc->inst[i];
	}
	return 0;
}

static struct hc_inst *find_old(const struct old_index *ix, const struct hc_inst *want)
{
	size_t h;

	for (h = inst_hash(want) & ix->mask; ix->slot[h]; h = (h + 1) & ix->mask)
		if (!ix->slot[h]->live && same(ix->slot[h], want))
			return ix->slot[h];
	return NULL;
}

static void free_maps(struct hc_inst ***by_idx, size_t n)
{
	size_t i;

	for (i = 0; by_idx && i < n; i++)
		free(by_idx[i]);
	free(by_idx);
}

int xlvsd_hc_sync(struct xlvsd_hc *hc, const struct xlvs_spec *cfg)
{
	struct hc_inst **inst = NULL, ***by_idx, *in, probe;
	struct xlvsd_hc_svc_state *st;
	const struct xlvs_check_spec *ck;
	size_t i, j, n = 0, total = 0;
	struct old_index ix = { 0 };
	struct xlvs_addr *keys;
	uint32_t *kport;
	bool *notified;

	for (i = 0; i < cfg->nr_services; i++)
		for (j = 0; j < cfg->services[i].nr_reals; j++)
			total += xlvsd_hc_check_of(&cfg->services[i], j) != NULL;
	by_idx = calloc(cfg->nr_services + 1, sizeof(*by_idx));
	st = calloc(cfg->nr_services + 1, sizeof(*st));
	notified = calloc(cfg->nr_services + 1, sizeof(*notified));
	inst = calloc(total + 1, sizeof(*inst));
	keys = calloc(cfg->nr_services + 1, sizeof(*keys));
	kport = calloc(cfg->nr_services + 1, sizeof(*kport));
	if (!by_idx || !st || !notified || !inst || !keys || !kport || index_old(hc, &ix))
		goto oom;
	for (i = 0; i < cfg->nr_services; i++) {
		const struct xlvs_svc_spec *svc = &cfg->services[i];

		by_idx[i] = calloc(svc->nr_reals + 1, sizeof(**by_idx));
		if (!by_idx[i])
			goto oom;
		keys[i] = svc->vip;
		kport[i] = svc->port | (uint32_t)svc->proto << 16;
		/* the quorum state of a service that stays where it was (a reload) */
		if (i < hc->nr_svc && hc->svc_keys && !memcmp(&hc->svc_keys[i], &svc->vip, sizeof(svc->vip)) &&
		    hc->svc_key_port[i] == (svc->port | (uint32_t)svc->proto << 16)) {
			st[i] = hc->svc_st[i];
			notified[i] = hc->svc_notified_lost[i];
		}
		for (j = 0; j < svc->nr_reals; j++) {
			ck = xlvsd_hc_check_of(svc, j);
			if (!ck)
				continue;
			memset(&probe, 0, sizeof(probe));
			fill(&probe, svc, j, ck);
			in = find_old(&ix, &probe);
			if (!in) {
				in = calloc(1, sizeof(*in));
				if (!in)
					goto oom;
				*in = probe;
				in->hc = hc;
				in->fresh = true;
				xlvs_hc_fsm_init(&in->fsm, ck->rise, ck->fall, ck->initial_up);
				in->since = time(NULL);
				ev_timer_init(&in->timer, check_now, 0., 0.);
				/* the first check at a random point of the first interval */
				schedule(in, (ck->interval_ms / 1000.0) * (random() / (double)RAND_MAX));
			}
			in->health = svc->health;	/* the new configuration's */
			in->live = true;
			inst[n++] = in;
			by_idx[i][j] = in;
		}
	}
	pthread_mutex_lock(&hc->lock);
	for (i = 0; i < hc->nr_inst; i++) {
		if (!hc->inst[i]->live)
			inst_free(hc->inst[i]);
	}
	for (i = 0; i < n; i++)
		inst[i]->live = inst[i]->fresh = false;
	free(hc->inst);
	hc->inst = inst;
	hc->nr_inst = n;
	free_maps(hc->by_idx, hc->nr_svc);
	free(hc->svc_st);
	free(hc->svc_notified_lost);
	hc->by_idx = by_idx;
	hc->svc_st = st;
	hc->svc_notified_lost = notified;
	free(hc->svc_keys);
	free(hc->svc_key_port);
	hc->svc_keys = keys;
	hc->svc_key_port = kport;
	hc->nr_svc = cfg->nr_services;
	pthread_mutex_unlock(&hc->lock);
	free(ix.slot);
	return 0;
oom:
	for (i = 0; inst && i < n; i++) {
		if (inst[i]->fresh)
			inst_free(inst[i]);
		else
			inst[i]->live = false;
	}
	free(ix.slot);
	free(inst);
	free_maps(by_idx, cfg->nr_services);
	free(st);
	free(notified);
	free(keys);
	free(kport);
	return -ENOMEM;
}

/* ---- the effective state ------------------------------------------------------- */

struct up_ctx {
	struct xlvsd_hc *hc;
	const struct xlvs_spec *cfg;
};

static bool inst_up(void *ctx, const struct xlvs_svc_spec *svc, size_t idx)
{
	struct up_ctx *u = ctx;
	size_t i = svc - u->cfg->services;
	struct hc_inst *in;

	if (i >= u->hc->nr_svc || !u->hc->by_idx[i])
		return true;
	in = u->hc->by_idx[i][idx];
	return !in || in->fsm.up;
}

int xlvsd_hc_build(struct xlvsd_hc *hc, const struct xlvs_spec *cfg, struct xlvs_spec *out)
{
	struct up_ctx u = { .hc = hc, .cfg = cfg };
	char v[INET6_ADDRSTRLEN];
	size_t i;
	int err;

	if (cfg->nr_services != hc->nr_svc)
		return -EINVAL;		/* not what was synced */
	err = xlvsd_hc_effective(cfg, inst_up, &u, hc->svc_st, out);
	if (err)
		return err;
	for (i = 0; i < cfg->nr_services; i++) {
		const struct xlvs_svc_spec *svc = &cfg->services[i];
		const struct xlvsd_hc_svc_state *st = &hc->svc_st[i];

		if (!svc->health || st->quorum_lost == hc->svc_notified_lost[i])
			continue;
		hc->svc_notified_lost[i] = st->quorum_lost;
		xlvs_addr_str(&svc->vip, v, sizeof(v));
		if (st->quorum_lost)
			log_warn("health: %s %s:%u lost its quorum (up weight %" PRIu64 " < %u): %s",
				 svc->proto == IPPROTO_UDP ? "udp" : "tcp", v, svc->port, st->up_weight,
				 svc->health->quorum, svc->health->quorum_action == XLVS_QUORUM_WITHDRAW ?
				 "service withdrawn" : svc->health->have_sorry ?
				 "sorry server in use" : "no sorry server configured");
		else
			log_info("health: %s %s:%u has its quorum again (up weight %" PRIu64 ")",
				 svc->proto == IPPROTO_UDP ? "udp" : "tcp", v, svc->port, st->up_weight);
		notify(hc, svc->health, svc->health->notify_quorum,
		       st->quorum_lost ? "quorum_lost" : "quorum_up", NULL, svc);
	}
	return 0;
}

/* ---- visibility ---------------------------------------------------------------- */

static json_t *inst_json(struct hc_inst *in, time_t now)
{
	char a[INET6_ADDRSTRLEN];

	return json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:s, s:b, s:s, s:f, s:I, s:I, s:I, s:I, s:I}",
			 "state", in->fsm.up ? "up" : "down",
			 "check", xlvs_check_type_name(in->spec.type),
			 "check_address", xlvs_addr_str(&in->t.addr, a, sizeof(a)),
			 "check_port", (int)in->t.port,
			 "rise", (int)in->spec.rise, "fall", (int)in->spec.fall,
			 "last_result", in->checks ? (in->last_ok ? "ok" : "failed") : "none",
			 "last_ok", in->last_ok,
			 "last_message", in->last_msg,
			 "last_latency_ms", in->last_latency_us / 1000.0,
			 "checks", (json_int_t)in->checks,
			 "failures", (json_int_t)in->failures,
			 "transitions", (json_int_t)in->fsm.transitions,
			 "since_s", (json_int_t)(now - in->since),
			 "rise_fall", (json_int_t)(in->fsm.up ? in->fsm.fail_run : in->fsm.ok_run));
}

static uint32_t eff_weight(const struct xlvs_spec *eff, const struct xlvs_svc_spec *svc,
			   const struct xlvs_addr *a, bool *present)
{
	size_t i, j;

	*present = false;
	for (i = 0; i < eff->nr_services; i++) {
		const struct xlvs_svc_spec *e = &eff->services[i];

		if (e->proto != svc->proto || e->port != svc->port ||
		    memcmp(&e->vip, &svc->vip, sizeof(e->vip)))
			continue;
		for (j = 0; j < e->nr_reals; j++)
			if (!memcmp(&e->reals[j].addr, a, sizeof(*a))) {
				*present = true;
				return e->reals[j].weight;
			}
	}
	return 0;
}

json_t *xlvsd_hc_json(struct xlvsd_hc *hc, const struct xlvs_spec *cfg)
{
	struct xlvsd_hc_svc_state *saved;
	json_t *svcs = json_array(), *reals, *o, *h;
	struct xlvs_spec eff;
	char a[INET6_ADDRSTRLEN];
	time_t now = time(NULL);
	bool present;
	size_t i, j;

	/* build on a copy of the quorum state: a query changes nothing */
	saved = calloc(hc->nr_svc + 1, sizeof(*saved));
	if (!svcs || !saved)
		goto fail;
	memcpy(saved, hc->svc_st, hc->nr_svc * sizeof(*saved));
	{
		struct up_ctx u = { .hc = hc, .cfg = cfg };

		if (cfg->nr_services != hc->nr_svc ||
		    xlvsd_hc_effective(cfg, inst_up, &u, saved, &eff))
			goto fail;
	}
	for (i = 0; i < cfg->nr_services; i++) {
		const struct xlvs_svc_spec *svc = &cfg->services[i];
		const struct xlvs_svc_health *sh = svc->health;

		reals = json_array();
		for (j = 0; reals && j < svc->nr_reals; j++) {
			struct hc_inst *in = hc->by_idx[i] ? hc->by_idx[i][j] : NULL;
			uint32_t w = eff_weight(&eff, svc, &svc->reals[j].addr, &present);

			o = json_pack("{s:s, s:i, s:I, s:I, s:b}", "address",
				      xlvs_addr_str(&svc->reals[j].addr, a, sizeof(a)),
				      "port", (int)svc->reals[j].port,
				      "weight", (json_int_t)svc->reals[j].weight,
				      "effective_weight", (json_int_t)w, "in_maps", present);
			if (o)
				json_object_set_new(o, "health", in ? inst_json(in, now) :
						    json_pack("{s:s}", "state", "unchecked"));
			json_array_append_new(reals, o);
		}
		h = json_pack("{s:s, s:i, s:s, s:o}", "vip", xlvs_addr_str(&svc->vip, a, sizeof(a)),
			      "port", (int)svc->port, "protocol", svc->proto == IPPROTO_UDP ? "udp" : "tcp",
			      "reals", reals ? reals : json_array());
		if (h && sh) {
			json_object_set_new(h, "check", json_string(xlvs_check_type_name(sh->check.type)));
			json_object_set_new(h, "on_down", json_string(sh->on_down == XLVS_ON_DOWN_REMOVE ?
								       "remove" : "quiesce"));
			json_object_set_new(h, "up_weight", json_integer((json_int_t)saved[i].up_weight));
			if (sh->quorum)
				json_object_set_new(h, "quorum", json_pack("{s:I, s:b, s:s}", "weight",
					(json_int_t)sh->quorum, "lost", saved[i].quorum_lost,
					"action", sh->quorum_action == XLVS_QUORUM_WITHDRAW ?
					"withdraw" : "sorry"));
			if (sh->have_sorry)
				json_object_set_new(h, "sorry", json_pack("{s:s, s:b}", "address",
					xlvs_addr_str(&sh->sorry.addr, a, sizeof(a)), "active",
					saved[i].sorry_active));
		}
		json_array_append_new(svcs, h);
	}
	xlvs_spec_free(&eff);
	free(saved);
	return svcs;
fail:
	free(saved);
	json_decref(svcs);
	return NULL;
}

static void labels(FILE *f, const struct hc_inst *in)
{
	char v[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];

	fprintf(f, "vip=\"%s\",port=\"%u\",protocol=\"%s\",real=\"%s\"",
		xlvs_addr_str(&in->vip, v, sizeof(v)), in->vport,
		in->proto == IPPROTO_UDP ? "udp" : "tcp", xlvs_addr_str(&in->real, r, sizeof(r)));
}

void xlvsd_hc_metrics(FILE *f, void *arg)
{
	struct xlvsd_hc *hc = arg;
	uint64_t cum;
	size_t i, b;

	pthread_mutex_lock(&hc->lock);
	fprintf(f, "# HELP xlvs_real_up Health of a checked real server (1 up, 0 down).\n"
		   "# TYPE xlvs_real_up gauge\n");
	for (i = 0; i < hc->nr_inst; i++) {
		fputs("xlvs_real_up{", f);
		labels(f, hc->inst[i]);
		fprintf(f, ",check=\"%s\"} %d\n", xlvs_check_type_name(hc->inst[i]->spec.type),
			hc->inst[i]->fsm.up);
	}
	fprintf(f, "# HELP xlvs_real_health_transitions_total Health state changes of a real server.\n"
		   "# TYPE xlvs_real_health_transitions_total counter\n");
	for (i = 0; i < hc->nr_inst; i++) {
		fputs("xlvs_real_health_transitions_total{", f);
		labels(f, hc->inst[i]);
		fprintf(f, "} %" PRIu64 "\n", hc->inst[i]->fsm.transitions);
	}
	fprintf(f, "# HELP xlvs_health_checks_total Health checks run, by result.\n"
		   "# TYPE xlvs_health_checks_total counter\n");
	for (i = 0; i < hc->nr_inst; i++) {
		fputs("xlvs_health_checks_total{", f);
		labels(f, hc->inst[i]);
		fprintf(f, ",result=\"ok\"} %" PRIu64 "\n", hc->inst[i]->checks - hc->inst[i]->failures);
		fputs("xlvs_health_checks_total{", f);
		labels(f, hc->inst[i]);
		fprintf(f, ",result=\"failed\"} %" PRIu64 "\n", hc->inst[i]->failures);
	}
	fprintf(f, "# HELP xlvs_health_check_duration_seconds Time a health check took to succeed or fail.\n"
		   "# TYPE xlvs_health_check_duration_seconds histogram\n");
	for (i = 0; i < hc->nr_inst; i++) {
		const struct hc_inst *in = hc->inst[i];

		for (b = 0, cum = 0; b <= NR_BUCKETS; b++) {
			cum += in->hist[b];
			fputs("xlvs_health_check_duration_seconds_bucket{", f);
			labels(f, in);
			if (b < NR_BUCKETS)
				fprintf(f, ",le=\"%g\"} %" PRIu64 "\n", buckets[b], cum);
			else
				fprintf(f, ",le=\"+Inf\"} %" PRIu64 "\n", cum);
		}
		fputs("xlvs_health_check_duration_seconds_sum{", f);
		labels(f, in);
		fprintf(f, "} %.6f\n", in->lat_sum);
		fputs("xlvs_health_check_duration_seconds_count{", f);
		labels(f, in);
		fprintf(f, "} %" PRIu64 "\n", in->checks);
	}
	pthread_mutex_unlock(&hc->lock);
}

void xlvsd_hc_counts(struct xlvsd_hc *hc, unsigned int *instances, unsigned int *up,
		     unsigned int *down)
{
	size_t i;

	*instances = hc->nr_inst;
	*up = *down = 0;
	for (i = 0; i < hc->nr_inst; i++) {
		if (hc->inst[i]->fsm.up)
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
	for (i = 0; i < hc->nr_inst; i++)
		inst_free(hc->inst[i]);
	free(hc->inst);
	free_maps(hc->by_idx, hc->nr_svc);
	free(hc->svc_st);
	free(hc->svc_notified_lost);
	free(hc->svc_keys);
	free(hc->svc_key_port);
	xlvs_checker_free(hc->ck);
	pthread_mutex_destroy(&hc->lock);
	free(hc);
}
