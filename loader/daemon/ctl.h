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
 * (16384 services, 65536 checked reals: about 33 MiB). One reply at a time
 * per client, written as the socket takes it; a larger one is an error reply
 * (a streamed one is cut: the client reports it).
 */
#define XLVSD_CTL_MAX_REPLY    (256 << 20)
#define XLVSD_CTL_IDLE_TIMEOUT 10.0 /* s without a complete request (or reply progress) */
#define XLVSD_CTL_EVICT_IDLE   1.0  /* s idle before a client may be closed to make room */

/*
 * Replies made in steps. A command whose reply can be large (an entry per
 * real: up to 65,536) or that is answered later (a reload parsed off the
 * loop) gives a stream instead of an object: embed struct xlvsd_ctl_stream
 * in your state, set next and release, and hand it over (ctl_fn's *stream).
 * The server calls next() each time the client has taken what was produced
 * (one call per loop iteration), so timers and other clients run between
 * steps; next() appends the next piece of the reply's JSON text to out with
 * the xlvsd_ctl_put_*() helpers, a bounded amount of work (about
 * XLVSD_CTL_STEP entries), and returns
 *   XLVSD_CTL_MORE   more follows;
 *   XLVSD_CTL_DONE   the text is complete (the server ends the line);
 *   XLVSD_CTL_WAIT   nothing yet: call xlvsd_ctl_wake() once there is;
 *   -errno           failed: before any text, an error reply names errno;
 *                    after some, the connection is closed (the client says
 *                    the reply was cut short). Both are logged.
 * release() is called exactly once: the reply is out, the client went away,
 * or the socket closes. The usual shape, an object with one big array:
 * first xlvsd_ctl_put_open(out, head) (head's members, brace left open),
 * then ",\"key\":[", the items with xlvsd_ctl_put_json() and commas, "]}".
 * For whole-object callers (tests, the fuzzer) xlvsd_ctl_stream_json() runs
 * a stream to its end and parses it.
 */
#define XLVSD_CTL_STEP 256 /* entries per step: about 135 KB of health reply */
enum {
	XLVSD_CTL_DONE = 0,
	XLVSD_CTL_MORE = 1,
	XLVSD_CTL_WAIT = 2
};

struct xlvsd_ctl_buf;
struct xlvsd_ctl_stream {
	int (*next)(struct xlvsd_ctl_stream *s, struct xlvsd_ctl_buf *out);
	void (*release)(struct xlvsd_ctl_stream *s);
	void *owner; /* the server's: the client it answers (NULL once gone) */
};

/*
 * Append text, a value (compact), or an object without its closing brace;
 * put_json and put_open take v's reference (v may be NULL: out of memory).
 * 0 or -ENOMEM; a failed put fails the stream's step whatever next() returns.
 */
int xlvsd_ctl_put(struct xlvsd_ctl_buf *out, const char *text, size_t len);
int xlvsd_ctl_put_str(struct xlvsd_ctl_buf *out, const char *text);
int xlvsd_ctl_put_json(struct xlvsd_ctl_buf *out, json_t *v);
int xlvsd_ctl_put_open(struct xlvsd_ctl_buf *out, json_t *v);
/* A stream that returned XLVSD_CTL_WAIT has more now. */
void xlvsd_ctl_wake(struct xlvsd_ctl_stream *s);
/*
 * Run s to its end (a WAIT ends it with an error) and release it: the reply
 * object, or NULL. Holds the caller for the whole reply: not for the loop.
 */
json_t *xlvsd_ctl_stream_json(struct xlvsd_ctl_stream *s);

/*
 * Returns the reply object (a new reference), or NULL with *stream set to a
 * stream that makes the reply (above); req is an object.
 */
typedef json_t *(*xlvsd_ctl_fn)(void *ctx, json_t *req, struct xlvsd_ctl_stream **stream);

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
