/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Health checks in xlvsd (docs/health.md): one instance per checked real,
 * scheduled on the daemon's libev loop with jitter, results through the
 * rise/fall state machine (hcfsm.h); a state change recomputes the effective
 * desired state and the daemon applies it through the same diff-only path
 * as any change (only the ring slots that must move are written).
 *
 * Two desired states: the configured one (file plus control commands, what
 * xlvsd keeps in d->spec) and the effective one (what the maps hold): down
 * reals at weight 0 (on_down: quiesce) or left out (remove), the sorry
 * server added while no real is up or when the quorum is lost with action
 * sorry, the service left out when the quorum is lost with action withdraw.
 */
#ifndef XLVSD_HC_H
#define XLVSD_HC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "spec.h"

struct ev_loop;
struct xlvsd_hc;
struct xlvs_maps;

/* ---- the effective state (pure) ---- */

/* Is real idx of svc up now? */
typedef bool (*xlvsd_hc_up_fn)(void *ctx, const struct xlvs_svc_spec *svc, size_t idx);

/* Per service, kept between calls: quorum with hysteresis, sorry server in use. */
struct xlvsd_hc_svc_state {
	bool quorum_lost;
	bool sorry_active;
	uint64_t up_weight;
	size_t up_reals;
};

/*
 * out = cfg with the health actions applied; st has cfg->nr_services entries
 * (in: the previous quorum state, zeroed at first; out: the new one).
 * Services without health are copied as they are. 0 or -ENOMEM.
 */
int xlvsd_hc_effective(const struct xlvs_spec *cfg, xlvsd_hc_up_fn up, void *ctx,
		       struct xlvsd_hc_svc_state *st, struct xlvs_spec *out);

/* The check a real runs (its own, else the service's); NULL: not checked. */
const struct xlvs_check_spec *xlvsd_hc_check_of(const struct xlvs_svc_spec *svc, size_t idx);

/* ---- the manager (xlvsd) ---- */

/* Called from the loop after state changes (a real up/down, quorum): re-apply. */
typedef void (*xlvsd_hc_changed_fn)(void *ctx);

int xlvsd_hc_new(struct xlvsd_hc **out, struct ev_loop *loop, unsigned int max_inflight,
		 xlvsd_hc_changed_fn changed, void *ctx);
void xlvsd_hc_free(struct xlvsd_hc *hc);

/*
 * Make the instances match cfg: a real whose check, target and identity are
 * unchanged keeps its state and schedule; a new or changed one starts in its
 * initial state with a jittered first check; the others stop. 0 or -ENOMEM
 * (then the old instances are kept).
 */
int xlvsd_hc_sync(struct xlvsd_hc *hc, const struct xlvs_spec *cfg);

/*
 * Before the first sync of a daemon that adopted pinned maps (a restart, a
 * kill -9 included): the checks start from the health the maps show, not all
 * in their initial state. In the next staged sync, a new instance of a real
 * whose service the maps hold starts down (`rise` successes bring it up) when
 * its configured weight is above 0 and the maps hold it at weight 0 or, with
 * on_down: remove, leave it out; a service whose maps hold its sorry server
 * for a lost quorum (action sorry) starts with the quorum lost, not told
 * again. Services the maps do not hold start as configured. Kept until the
 * next commit. Reads the maps now: 0 or -errno (then nothing is taken).
 */
int xlvsd_hc_adopt(struct xlvsd_hc *hc, struct xlvs_maps *maps);

/*
 * The same in two steps, for a reload that may be refused: xlvsd_hc_stage()
 * makes cfg's instances beside the running ones (nothing starts or stops,
 * and xlvsd_hc_build() gives cfg's effective state until the next step);
 * xlvsd_hc_commit() puts them in force once the maps took that state;
 * xlvsd_hc_rollback() forgets them when the maps refused it, so the running
 * checks, their states and the quorum states stay exactly as they were.
 * stage: 0 or -ENOMEM (then nothing is staged).
 */
int xlvsd_hc_stage(struct xlvsd_hc *hc, const struct xlvs_spec *cfg);
void xlvsd_hc_commit(struct xlvsd_hc *hc);
void xlvsd_hc_rollback(struct xlvsd_hc *hc);

/*
 * The effective state of cfg (which must be what was last synced, or staged
 * while a sync is staged) under the current results.
 */
int xlvsd_hc_build(struct xlvsd_hc *hc, const struct xlvs_spec *cfg, struct xlvs_spec *out);

/* {"services": [{vip, port, protocol, quorum..., sorry..., "reals": [{address, state, ...}]}]} */
json_t *xlvsd_hc_json(struct xlvsd_hc *hc, const struct xlvs_spec *cfg);

/*
 * The same in pieces, for a reply written in steps (the control socket's
 * health reply): a report copies what the reply shows of cfg (which must be
 * what was last synced) at once, a pass over the configuration without any
 * JSON; the pieces are then made from the copy whatever the loop does
 * meanwhile. service: the service's object without "reals"; real: real j of
 * service svc. NULL: out of memory.
 */
struct xlvsd_hc_report;
struct xlvsd_hc_report *xlvsd_hc_report_new(struct xlvsd_hc *hc, const struct xlvs_spec *cfg);
size_t xlvsd_hc_report_services(const struct xlvsd_hc_report *r);
size_t xlvsd_hc_report_reals(const struct xlvsd_hc_report *r, size_t svc);
json_t *xlvsd_hc_report_service(const struct xlvsd_hc_report *r, size_t svc);
json_t *xlvsd_hc_report_real(const struct xlvsd_hc_report *r, size_t svc, size_t j);
void xlvsd_hc_report_free(struct xlvsd_hc_report *r);

/* Metrics: xlvs_real_up, xlvs_health_check_duration_seconds, transitions; any thread. */
void xlvsd_hc_metrics(FILE *f, void *hc);

/*
 * Health checks through the forwarding path (docs/health.md): fn gives the
 * socket mark of a real (its service's VIP, protocol and port, and its
 * address), 0 when it has none. A check of a real with a mark (not exec,
 * no `address` of its own) goes to the VIP, as a client's connection does,
 * with that mark; the tc program takes it to the real. Asked at each probe.
 */
typedef uint32_t (*xlvsd_hc_mark_fn)(void *ctx, const struct xlvs_addr *vip, uint8_t proto, uint16_t vport,
				     const struct xlvs_addr *real);
void xlvsd_hc_set_marks(struct xlvsd_hc *hc, xlvsd_hc_mark_fn fn, void *ctx);

/* Checks running, queued, instances. */
void xlvsd_hc_counts(struct xlvsd_hc *hc, unsigned int *instances, unsigned int *up, unsigned int *down);

/* Run a notify hook for a service (exported for the daemon's quorum logging). */
#endif /* XLVSD_HC_H */
