/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Server side of the control socket (docs/control.md): AF_UNIX stream socket,
 * mode 0600, root peers only (SO_PEERCRED), one JSON object per line each way,
 * every request answered by exactly one line. Non-blocking; several clients.
 * The commands themselves are the daemon's (handler below).
 */
#ifndef XLVSD_CTL_H
#define XLVSD_CTL_H

#include <jansson.h>

#define XLVSD_CTL_MAX_LINE    (64 * 1024) /* longer requests are refused */
#define XLVSD_CTL_MAX_CLIENTS 64	  /* then the longest idle one makes room */
/*
 * Largest reply line: far above the largest configuration's health reply
 * (16384 services, 65536 checked reals: about 30 MiB). One reply at a time
 * per client, written as the socket takes it; a larger one is an error reply.
 */
#define XLVSD_CTL_MAX_REPLY    (256 << 20)
#define XLVSD_CTL_IDLE_TIMEOUT 10.0 /* s without a complete request (or reply progress) */
#define XLVSD_CTL_EVICT_IDLE   1.0  /* s idle before a client may be closed to make room */

/* Returns the reply object (a new reference); req is an object. */
typedef json_t *(*xlvsd_ctl_fn)(void *ctx, json_t *req);

struct xlvsd_ctl;

/*
 * Listen on path (its directory is created 0700 if missing; a stale socket is
 * replaced, a live one is -EADDRINUSE) and watch it on loop. Logs; -errno.
 */
struct ev_loop;
int xlvsd_ctl_open(struct xlvsd_ctl **ctl, const char *path, struct ev_loop *loop, xlvsd_ctl_fn fn,
		   void *ctx);
/* Seconds a client may stay without a request or reading its reply (<= 0: the default). */
void xlvsd_ctl_set_idle_timeout(struct xlvsd_ctl *ctl, double seconds);
/* Drop clients, close and unlink the socket. */
void xlvsd_ctl_close(struct xlvsd_ctl *ctl);

/* {"ok": false, "error": "..."} */
__attribute__((format(printf, 1, 2))) json_t *xlvsd_ctl_error(const char *fmt, ...);

#endif /* XLVSD_CTL_H */
