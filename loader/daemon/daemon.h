/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xlvsd: configuration -> desired state -> maps, the attachments, the control
 * socket and the event loop. See docs/operations.md and xlvsd(8).
 */
#ifndef XLVSD_DAEMON_H
#define XLVSD_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "dataplane/attach.h"
#include "spec.h"
#include "xlvsmaps.h"
#include "event.h"
#include "status.h"

#ifndef XLVS_VERSION
#define XLVS_VERSION "0.1.0"
#endif

/* Exit codes (xlvsd(8)). */
#define XLVSD_EXIT_OK	   0
#define XLVSD_EXIT_CONFIG  1 /* bad usage or configuration */
#define XLVSD_EXIT_RUNTIME 2 /* attach, bpffs, permissions, ... */

#define XLVSD_DEFAULT_CONFIG "/etc/xlvs/xlvs.yaml"
#define XLVSD_DEFAULT_SOCKET "/run/xlvs/xlvsd.sock"

struct xlvs_nh;
struct xlvs_metrics;
struct xlvsd_reload;
struct xlvsd_ctl;
struct xlvsd_hc;
struct xlvsd_watch;
struct xlvsd_sweep;

struct xlvsd_opts {
	const char *config;
	const char *pin_dir;
	const char *socket;
};

struct xlvsd {
	const struct xlvsd_opts *opts;
	struct xlvs_spec spec;	     /* the configured desired state (file + commands) */
	struct xlvsd_hc *hc;	     /* health checks: the maps hold spec with their actions applied */
	bool applied;		     /* spec has been applied once */
	bool reloading;		     /* applying a reload */
	struct xlvsd_reload *reload; /* the reload parsing off the loop, and who waits for it */
	struct xlvs_dp dp;
	struct xlvs_maps maps;
	bool maps_open;
	struct xlvs_nh *nh;
	struct xlvs_metrics *mx;
	char metrics_listen[64]; /* what mx listens on */
	struct xlvsd_status status;
	struct xlvs_apply_stats last_apply;
	struct xlvsd_ctl *ctl;
	struct ev_loop *loop; /* the one event loop (event.h) */
	struct xlvsd_ev sig, nh_ev;
	ev_timer watchdog;
	struct xlvsd_sweep *sweep; /* expired connection entries out of xlvs_conns (sweep.h) */
	bool stop;
	int nh_last_err;
	struct xlvsd_watch *watch; /* pins and links watched (watch.c) */
	int health_err;		   /* the last failed health apply, logged once */
	/* what the last apply wrote, for the next health change (xlvs_apply_with()) */
	uint32_t reals_end;	      /* real ids in use end here; 0: unknown */
	struct xlvs_apply_memo *memo; /* its services' ids and reals; NULL: unknown */
	struct xlvs_spec eff;	      /* the effective spec it wrote (with health checks) */
	bool eff_valid;
	size_t health_planned;	   /* services the last health change planned and wrote (of eff's) */
	struct xlvsd_steer *steer; /* health checks through the forwarding path (steer.h) */
};

/*
 * xlvsd --check: parse, validate and plan the configuration as a start or a
 * reload would (capacity included) against the maps pinned in pin_dir, or the
 * maps a start would create when none are pinned. 0 with "FILE: ok" on
 * stdout, else the error on stderr and 1. Writes nothing. A file asking for
 * another flow_hash than the pinned state's is warned about on stderr as a
 * reload warns (not an error: the reload takes the file, the state keeps its hash).
 */
int xlvsd_check(const char *config, const char *pin_dir);
/* Parse and validate path, interfaces included; msg gets "file:line:column: msg". 0 or -errno. */
int xlvsd_load_config(const char *path, struct xlvs_spec *spec, char *msg, size_t size);
/* xlvsd --detach: exit code. */
int xlvsd_detach(const char *pin_dir);
/* Run until SIGTERM/SIGINT; returns the exit code. */
int xlvsd_run(const struct xlvsd_opts *opts);

/*
 * Make the maps and attachments match want. On success want's contents move
 * into d->spec (want is left empty). On failure nothing of want stays applied
 * (once a state was applied, it is restored) and msg says why.
 */
int xlvsd_apply(struct xlvsd *d, struct xlvs_spec *want, struct xlvs_apply_stats *st, char *msg, size_t size);
/*
 * Health states changed (the health manager's callback): write the effective
 * state of the running configuration (d->spec) and log it.
 */
void xlvsd_health_apply(struct xlvsd *d);
/* Forget what the last apply wrote (after a failure, at exit): the next one plans everything. */
void xlvsd_forget_applied(struct xlvsd *d);
/*
 * Re-read the configuration file and apply it; on any error keep the running
 * state. Parses on the caller's thread: the loop uses xlvsd_reload_start().
 */
int xlvsd_reload(struct xlvsd *d, struct xlvs_apply_stats *st, char *msg, size_t size);

/*
 * The same without holding the loop: the file is parsed and validated in a
 * worker thread (seconds for the largest files) while the loop runs checks,
 * the watchdog and the socket; the result is applied on the loop as one
 * transaction, like xlvsd_reload(). A request that comes while a parse runs
 * is queued: one more parse starts when it ends (the file may have changed
 * since the first began), and serves every request queued meanwhile.
 * w (may be NULL) is told the outcome on the loop, unless cancelled first.
 * 0, or -errno if no worker could be started (w is not told then).
 */
struct xlvsd_reload_waiter {
	void (*done)(struct xlvsd_reload_waiter *w, int err, const struct xlvs_apply_stats *st,
		     const char *msg);
	struct xlvsd_reload_waiter *next;
};
int xlvsd_reload_start(struct xlvsd *d, struct xlvsd_reload_waiter *w);
void xlvsd_reload_cancel(struct xlvsd *d, struct xlvsd_reload_waiter *w);
/* At stop: a parse still running is left to end by itself (its result is dropped). */
void xlvsd_reload_stop(struct xlvsd *d);

/*
 * Faults watched while running (watch.c): pins removed under the daemon are
 * restored, interfaces deleted and created again are attached again. A
 * failure to start watching is logged, not fatal.
 */
void xlvsd_watch_start(struct xlvsd *d);
void xlvsd_watch_stop(struct xlvsd *d);
/* Count a map write refused for lack of room (-ENOSPC from the planner, -E2BIG from a map). */
void xlvsd_count_map_full(struct xlvsd *d, int err);

/*
 * The control commands (commands.c). xlvsd_command_stream is the control
 * socket's xlvsd_ctl_fn (large replies streamed, reloads answered later);
 * xlvsd_command gives every reply whole, at once (tests, the fuzzer).
 */
struct xlvsd_ctl_stream;
json_t *xlvsd_command_stream(void *ctx, json_t *req, struct xlvsd_ctl_stream **stream);
json_t *xlvsd_command(void *ctx, json_t *req);
json_t *xlvsd_apply_json(const struct xlvs_apply_stats *st);

#endif /* XLVSD_DAEMON_H */
