/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Health checkers on the daemon's libev loop: TCP connect, HTTP and HTTPS
 * (libcurl multi), UDP (connected socket: an ICMP port unreachable comes back
 * as ECONNREFUSED), DNS (libldns builds and parses the query), ICMP/ICMPv6
 * echo (ping sockets, raw sockets when those are not allowed), exec (a
 * command by /bin/sh -c in a process group of its own, with stdio on
 * /dev/null and no other descriptor of the daemon, reaped through a pidfd;
 * the group is killed at the timeout, and a check's when it ends). HTTP
 * checks connect to the target's address and port whatever the URL names,
 * never through a proxy.
 * No thread per check: every probe is a set of watchers on the one loop.
 * At most max_inflight probes run at once; the others wait in FIFO order
 * and their timeout starts when they start.
 */
#ifndef XLVSD_CHECKER_H
#define XLVSD_CHECKER_H

#include <stdbool.h>
#include <stdint.h>

#include "spec.h"

struct ev_loop;
struct xlvs_checker;
struct xlvs_probe;

#define XLVS_CHECKER_INFLIGHT_DEFAULT 256

/* Where a probe goes and what an exec command is told (environment). */
struct xlvs_probe_target {
	struct xlvs_addr addr; /* probed address (check override or the real's) */
	uint16_t port;	       /* probed port (check override or the service's) */
	struct xlvs_addr real; /* XLVS_REAL */
	struct xlvs_addr vip;  /* XLVS_VIP */
	uint16_t vport;	       /* XLVS_VPORT (also XLVS_PORT unless overridden) */
	uint8_t proto;	       /* XLVS_PROTOCOL */
	uint32_t mark;	       /* SO_MARK of the probe's socket: through a real's forwarding path (tc) */
};

struct xlvs_probe_result {
	bool ok;
	uint32_t latency_us; /* from the probe's start to its result */
	char msg[160];	     /* why it failed, or what it saw */
};

typedef void (*xlvs_probe_cb)(void *ctx, const struct xlvs_probe_result *r);

int xlvs_checker_new(struct xlvs_checker **out, struct ev_loop *loop, unsigned int max_inflight);
/* Cancels every probe (no callbacks); commands still running are killed and reaped. */
void xlvs_checker_free(struct xlvs_checker *ck);

/*
 * Start (or queue) one probe. spec must stay valid until the callback or
 * xlvs_probe_cancel(). The callback runs exactly once, from the loop (never
 * from inside this call), unless the probe is cancelled. *out may be NULL.
 * Returns 0 or -ENOMEM.
 */
int xlvs_probe_start(struct xlvs_checker *ck, const struct xlvs_check_spec *spec,
		     const struct xlvs_probe_target *t, xlvs_probe_cb cb, void *ctx, struct xlvs_probe **out);
void xlvs_probe_cancel(struct xlvs_probe *p);

/* Probes running / waiting now. */
unsigned int xlvs_checker_inflight(const struct xlvs_checker *ck);
unsigned int xlvs_checker_queued(const struct xlvs_checker *ck);

/*
 * Run a command (/bin/sh -c) with env (NULL-terminated "K=V" strings, copied)
 * and a timeout, not waiting for it: notify hooks. cb may be NULL; with a
 * callback, ok means exit status 0.
 */
int xlvs_run_command(struct xlvs_checker *ck, const char *command, char *const *env, uint32_t timeout_ms,
		     xlvs_probe_cb cb, void *ctx);

#endif /* XLVSD_CHECKER_H */
