// SPDX-License-Identifier: GPL-2.0
/* Control socket server, see ctl.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "ctl.h"
#include "event.h"
#include "log.h"

#define READ_CHUNK 4096

struct xlvsd_ctl_buf {
	char *p;
	size_t len, cap;
	bool failed; /* an append ran out of memory */
};

struct client {
	struct xlvsd_ev ev;
	struct xlvsd_ctl *ctl;
	struct client *next;
	char *in;
	size_t in_len, in_cap;
	struct xlvsd_ctl_buf out;
	size_t out_off;			 /* of out.p sent */
	struct xlvsd_ctl_stream *stream; /* the reply being made, if streamed */
	size_t streamed;		 /* bytes it made so far */
	size_t sent;			 /* bytes of this reply sent */
	bool waiting;			 /* it said XLVSD_CTL_WAIT */
	uint32_t watching;		 /* EPOLLIN|EPOLLRDHUP, EPOLLOUT or 0 */
	bool closing;			 /* close once the reply is out */
	bool denied;			 /* not root: refused, then drained until it hangs up */
	int peer_pid;
	ev_timer idle;	       /* closes it after idle_timeout without a request or progress */
	ev_tstamp last_active; /* connected, last complete request, last reply bytes taken */
};

struct xlvsd_ctl {
	struct xlvsd_ev ev;
	struct ev_loop *loop;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	xlvsd_ctl_fn fn;
	void *ctx;
	struct client *clients;
	unsigned int nr_clients;
	double idle_timeout; /* seconds */
};

json_t *xlvsd_ctl_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

/* ---- reply text ----------------------------------------------------------------- */

int xlvsd_ctl_put(struct xlvsd_ctl_buf *out, const char *text, size_t len)
{
	size_t cap = out->cap ? out->cap : 4096;
	char *p;

	if (out->failed)
		return -ENOMEM;
	while (cap - out->len < len + 1) /* + 1: room for the line's newline */
		cap *= 2;
	if (cap != out->cap) {
		p = realloc(out->p, cap);
		if (!p) {
			out->failed = true;
			return -ENOMEM;
		}
		out->p = p;
		out->cap = cap;
	}
	memcpy(out->p + out->len, text, len);
	out->len += len;
	return 0;
}

int xlvsd_ctl_put_str(struct xlvsd_ctl_buf *out, const char *text)
{
	return xlvsd_ctl_put(out, text, strlen(text));
}

static int dump_cb(const char *text, size_t len, void *out)
{
	return xlvsd_ctl_put(out, text, len) ? -1 : 0;
}

int xlvsd_ctl_put_json(struct xlvsd_ctl_buf *out, json_t *v)
{
	int err = 0;

	if (!v || json_dump_callback(v, dump_cb, out, JSON_COMPACT | JSON_ENCODE_ANY)) {
		out->failed = true;
		err = -ENOMEM;
	}
	json_decref(v);
	return err;
}

int xlvsd_ctl_put_open(struct xlvsd_ctl_buf *out, json_t *obj)
{
	if (!json_is_object(obj)) {
		json_decref(obj);
		out->failed = true;
		return -ENOMEM;
	}
	if (xlvsd_ctl_put_json(out, obj))
		return -ENOMEM;
	out->len--; /* the closing brace: members follow */
	return 0;
}

static void buf_reset(struct xlvsd_ctl_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

json_t *xlvsd_ctl_stream_json(struct xlvsd_ctl_stream *s)
{
	struct xlvsd_ctl_buf b = { 0 };
	json_t *v = NULL;
	int rc;

	do
		rc = s->next(s, &b);
	while (rc == XLVSD_CTL_MORE && !b.failed);
	s->release(s);
	if (rc == XLVSD_CTL_DONE && !b.failed)
		v = json_loadb(b.p, b.len, 0, NULL);
	buf_reset(&b);
	return v;
}

/* ---- clients ------------------------------------------------------------------- */

/* The client's stream is over (done, failed, or the client is going). */
static void stream_end(struct client *cl)
{
	struct xlvsd_ctl_stream *s = cl->stream;

	if (!s)
		return;
	cl->stream = NULL;
	cl->waiting = false;
	s->owner = NULL;
	s->release(s);
}

static void client_free(struct client *cl)
{
	struct xlvsd_ctl *ctl = cl->ctl;
	struct client **p;

	for (p = &ctl->clients; *p; p = &(*p)->next) {
		if (*p == cl) {
			*p = cl->next;
			break;
		}
	}
	xlvsd_ev_ctl(ctl->loop, EPOLL_CTL_DEL, &cl->ev, 0);
	ev_timer_stop(ctl->loop, &cl->idle);
	close(cl->ev.fd);
	ctl->nr_clients--;
	log_debug("control client pid %d disconnected", cl->peer_pid);
	stream_end(cl);
	free(cl->in);
	buf_reset(&cl->out);
	free(cl);
}

/* The client did something: a request, or it took reply bytes. */
static void client_active(struct client *cl)
{
	cl->last_active = ev_now(cl->ctl->loop);
	ev_timer_again(cl->ctl->loop, &cl->idle);
}

/* Reply bytes made and not sent yet. */
static bool out_pending(const struct client *cl)
{
	return cl->out_off < cl->out.len;
}

/* A reply is on its way (bytes to send, or a stream making more): the next request waits. */
static bool busy(const struct client *cl)
{
	return out_pending(cl) || cl->stream;
}

/*
 * Queue one reply line. A client has one reply at a time (its next request
 * is read once this one is out), so a reply of any size is written whole, in
 * pieces as the socket takes them, while the loop goes on. A reply that
 * cannot be encoded or is over XLVSD_CTL_MAX_REPLY becomes an error reply,
 * and is logged: nothing is dropped silently.
 */
static void client_queue(struct client *cl, json_t *reply)
{
	char *text = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
	size_t len = text ? strlen(text) : 0;
	json_t *e = NULL;

	if (!text || len + 1 > XLVSD_CTL_MAX_REPLY) {
		if (text)
			log_err("control: reply to client pid %d is %zu bytes, over the limit of %d MiB: "
				"sent an error instead",
				cl->peer_pid, len + 1, XLVSD_CTL_MAX_REPLY >> 20);
		else
			log_err("control: cannot encode the reply to client pid %d: sent an error instead",
				cl->peer_pid);
		e = text ? xlvsd_ctl_error("reply too large (%zu bytes, the limit is %d MiB)", len + 1,
					   XLVSD_CTL_MAX_REPLY >> 20)
			 : xlvsd_ctl_error("internal error: cannot encode the reply");
		free(text);
		text = e ? json_dumps(e, JSON_COMPACT) : NULL;
		json_decref(e);
		len = text ? strlen(text) : 0;
		if (!text) {
			cl->closing = true;
			return;
		}
	}
	/* The buffer is the text itself, plus its newline. */
	buf_reset(&cl->out);
	cl->out_off = cl->sent = 0;
	cl->out.p = realloc(text, len + 1);
	if (!cl->out.p) {
		free(text);
		log_err("control: out of memory for a reply to client pid %d", cl->peer_pid);
		cl->closing = true;
		return;
	}
	cl->out.p[len] = '\n';
	cl->out.len = cl->out.cap = len + 1;
}

static void client_reply(struct client *cl, json_t *reply)
{
	client_queue(cl, reply);
	json_decref(reply);
}

/*
 * Read requests while no reply is pending; write while one is; nothing while
 * a stream waits (it wakes the client: xlvsd_ctl_wake()).
 */
static void client_watch(struct client *cl)
{
	uint32_t want = out_pending(cl) || (cl->stream && !cl->waiting) ? EPOLLOUT
			: cl->stream					? 0
									: EPOLLIN | EPOLLRDHUP;

	if (want == cl->watching)
		return;
	xlvsd_ev_ctl(cl->ctl->loop, want ? EPOLL_CTL_MOD : EPOLL_CTL_DEL, &cl->ev, want);
	cl->watching = want;
}

void xlvsd_ctl_wake(struct xlvsd_ctl_stream *s)
{
	struct client *cl = s->owner;

	if (!cl || !cl->waiting)
		return;
	cl->waiting = false;
	client_watch(cl);
}

/* The stream failed: an error reply if it made nothing yet, else the line is cut. */
static bool stream_failed(struct client *cl, int err)
{
	bool cut = cl->streamed > 0;

	log_err("control: reply to client pid %d failed after %zu bytes: %s%s", cl->peer_pid, cl->streamed,
		strerror(-err), cut ? "; closing the connection" : "");
	stream_end(cl);
	if (cut) {
		client_free(cl);
		return false;
	}
	client_reply(cl, xlvsd_ctl_error("cannot make the reply: %s", strerror(-err)));
	return true;
}

/* One step of the client's stream; returns false if the client was freed. */
static bool client_step(struct client *cl)
{
	size_t before = cl->out.len;
	int rc;

	rc = cl->stream->next(cl->stream, &cl->out);
	if (rc == XLVSD_CTL_DONE)
		xlvsd_ctl_put(&cl->out, "\n", 1);
	if (cl->out.failed)
		rc = -ENOMEM;
	cl->streamed += cl->out.len - before;
	if (rc >= 0 && cl->streamed + 1 > XLVSD_CTL_MAX_REPLY)
		rc = -EFBIG;
	if (rc < 0)
		return stream_failed(cl, rc);
	if (rc == XLVSD_CTL_WAIT)
		cl->waiting = true;
	if (rc == XLVSD_CTL_DONE)
		stream_end(cl);
	return true;
}

static void client_stream(struct client *cl, struct xlvsd_ctl_stream *s)
{
	buf_reset(&cl->out);
	cl->out_off = 0;
	cl->stream = s;
	cl->streamed = cl->sent = 0;
	cl->waiting = false;
	s->owner = cl;
}

/* Write what the socket takes now; returns false if the client was freed. */
static bool client_flush(struct client *cl)
{
	size_t before = cl->out_off;
	ssize_t n;

	while (out_pending(cl)) {
		n = send(cl->ev.fd, cl->out.p + cl->out_off, cl->out.len - cl->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			if (!cl->denied)
				log_warn("control: reply to client pid %d not sent: %s after %zu bytes",
					 cl->peer_pid, n < 0 ? strerror(errno) : "closed", cl->sent);
			client_free(cl);
			return false;
		}
		cl->out_off += n;
		cl->sent += n;
	}
	if (cl->out_off != before)
		client_active(cl);
	if (!out_pending(cl) && cl->stream) {
		cl->out.len = cl->out_off = 0; /* the buffer serves the next step */
	} else if (!out_pending(cl)) {
		buf_reset(&cl->out);
		cl->out_off = 0;
		if (cl->closing) {
			client_free(cl);
			return false;
		}
		/* The refusal is out; reading on lets a client that writes first still read it. */
		if (cl->denied)
			shutdown(cl->ev.fd, SHUT_WR);
	}
	client_watch(cl);
	return true;
}

static bool blank(const char *s, size_t len)
{
	while (len && (*s == ' ' || *s == '\t' || *s == '\r')) {
		s++;
		len--;
	}
	return !len;
}

static void client_line(struct client *cl, const char *line, size_t len)
{
	struct xlvsd_ctl_stream *stream = NULL;
	json_error_t je;
	json_t *req, *reply;

	if (cl->denied || blank(line, len))
		return; /* refused already; or an operator pressing enter in socat */
	client_active(cl);
	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (!req) {
		client_reply(cl, xlvsd_ctl_error("malformed request: %s (column %d)", je.text, je.column));
		return;
	}
	if (!json_is_object(req))
		reply = xlvsd_ctl_error("malformed request: not a JSON object");
	else
		reply = cl->ctl->fn(cl->ctl->ctx, req, &stream);
	json_decref(req);
	if (!reply && stream)
		client_stream(cl, stream);
	else
		client_reply(cl, reply ? reply : xlvsd_ctl_error("internal error"));
}

/* Answer the complete lines in the input buffer, one at a time: the next once a reply is out. */
static void client_lines(struct client *cl)
{
	size_t start = 0;
	char *nl;

	while (!cl->closing && !busy(cl) && start < cl->in_len &&
	       (nl = memchr(cl->in + start, '\n', cl->in_len - start))) {
		client_line(cl, cl->in + start, nl - (cl->in + start));
		start = nl - cl->in + 1;
	}
	memmove(cl->in, cl->in + start, cl->in_len - start);
	cl->in_len -= start;
	if (cl->denied)
		cl->in_len = 0;
	if (cl->in_len > XLVSD_CTL_MAX_LINE && !cl->closing && !busy(cl) &&
	    !memchr(cl->in, '\n', cl->in_len)) {
		client_reply(cl, xlvsd_ctl_error("request longer than %d bytes", XLVSD_CTL_MAX_LINE));
		cl->closing = true; /* cannot find the next request reliably */
	}
}

/*
 * Read until EAGAIN (or a fair share: the loop comes back) while no reply is
 * pending; returns true at end of input.
 */
static bool client_read(struct client *cl)
{
	int rounds = 16;
	ssize_t n;
	char *in;

	while (!cl->closing && !busy(cl) && rounds--) {
		if (cl->in_cap - cl->in_len < READ_CHUNK) {
			in = realloc(cl->in, cl->in_cap + READ_CHUNK);
			if (!in)
				return true;
			cl->in = in;
			cl->in_cap += READ_CHUNK;
		}
		n = read(cl->ev.fd, cl->in + cl->in_len, cl->in_cap - cl->in_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return false;
		if (n <= 0)
			return true;
		cl->in_len += n;
		client_lines(cl);
	}
	return false;
}

static void client_event(struct xlvsd_ev *ev, uint32_t events)
{
	struct client *cl = (struct client *)ev;

	if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && !busy(cl)) {
		if (client_read(cl)) {
			/* A last request without its newline still gets an answer. */
			if (cl->in_len && !cl->closing)
				client_line(cl, cl->in, cl->in_len);
			cl->in_len = 0;
			cl->closing = true;
		}
	}
	if (!client_flush(cl))
		return;
	/* One step of a stream per event: the loop runs its timers in between. */
	if (cl->stream && !cl->waiting && !out_pending(cl) && (!client_step(cl) || !client_flush(cl)))
		return;
	/* Requests that waited for a reply are answered as it goes out. */
	while (!busy(cl) && !cl->closing && cl->in_len) {
		client_lines(cl);
		if (!busy(cl) || !client_flush(cl))
			return; /* no complete request left, or the client is gone */
	}
}

/* Nothing from the client (no request, no reply bytes taken) for idle_timeout: close it. */
static void client_idle(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct client *cl = (struct client *)((char *)w - offsetof(struct client, idle));

	if (cl->waiting && !out_pending(cl)) {
		ev_timer_again(loop, w); /* the daemon is the slow one (a reload parsing) */
		return;
	}
	if (busy(cl))
		log_warn("control: reply to client pid %d not sent: it took no bytes for %g s "
			 "(%zu bytes sent); closing it",
			 cl->peer_pid, cl->ctl->idle_timeout, cl->sent);
	else
		log_info("control: closing client pid %d: no request for %g s", cl->peer_pid,
			 cl->ctl->idle_timeout);
	client_free(cl);
}

/* ---- listening socket -------------------------------------------------------------- */

/* Beyond the client limit: one line and close, nothing is kept for it. */
static void refuse(int fd, const char *msg)
{
	json_t *r = xlvsd_ctl_error("%s", msg);
	char *text = json_dumps(r, JSON_COMPACT);

	if (text && send(fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
		send(fd, "\n", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	free(text);
	json_decref(r);
	close(fd);
}

/*
 * The client that did nothing for the longest time, if that is at least
 * XLVSD_CTL_EVICT_IDLE seconds (or the idle timeout if shorter): the one to
 * close to make room for a new client. Clients whose reply is on its way go
 * last.
 */
static struct client *evictable(struct xlvsd_ctl *ctl)
{
	double min_idle = ctl->idle_timeout < XLVSD_CTL_EVICT_IDLE ? ctl->idle_timeout : XLVSD_CTL_EVICT_IDLE;
	ev_tstamp now = ev_now(ctl->loop);
	struct client *cl, *best = NULL;

	for (cl = ctl->clients; cl; cl = cl->next) {
		if (now - cl->last_active < min_idle)
			continue;
		if (!best || (busy(best) && !busy(cl)) ||
		    (busy(best) == busy(cl) && cl->last_active < best->last_active))
			best = cl;
	}
	return best;
}

static void client_new(struct xlvsd_ctl *ctl, int fd)
{
	struct ucred cred = { .pid = 0, .uid = (uid_t)-1 };
	socklen_t len = sizeof(cred);
	struct client *cl;

	if (ctl->nr_clients >= XLVSD_CTL_MAX_CLIENTS) {
		cl = evictable(ctl);
		if (!cl) {
			log_warn("control: refused a client: %d clients connected, none idle",
				 ctl->nr_clients);
			refuse(fd, "too many clients connected; try again");
			return;
		}
		log_warn("control: %d clients connected: closing client pid %d, idle for %.1f s, "
			 "to make room",
			 ctl->nr_clients, cl->peer_pid, ev_now(ctl->loop) - cl->last_active);
		client_free(cl);
	}
	cl = calloc(1, sizeof(*cl));
	if (!cl) {
		close(fd);
		return;
	}
	cl->ev.fd = fd;
	cl->ev.fn = client_event;
	cl->ctl = ctl;
	cl->last_active = ev_now(ctl->loop);
	ev_init(&cl->idle, client_idle);
	cl->idle.repeat = ctl->idle_timeout;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || cred.uid != 0) {
		log_warn("control: refused a client (pid %d, uid %d): not root", (int)cred.pid,
			 (int)cred.uid);
		cl->denied = true;
		client_reply(cl, xlvsd_ctl_error("permission denied: xlvsd serves root only"));
	}
	cl->peer_pid = cred.pid;
	if (xlvsd_ev_ctl(ctl->loop, EPOLL_CTL_ADD, &cl->ev, EPOLLIN | EPOLLRDHUP)) {
		close(fd);
		buf_reset(&cl->out);
		free(cl);
		return;
	}
	cl->watching = EPOLLIN | EPOLLRDHUP;
	ev_timer_again(ctl->loop, &cl->idle);
	cl->next = ctl->clients;
	ctl->clients = cl;
	ctl->nr_clients++;
	if (cl->denied)
		client_flush(cl);
	else
		log_debug("control client pid %d connected", cred.pid);
}

static void listen_event(struct xlvsd_ev *ev, uint32_t events)
{
	struct xlvsd_ctl *ctl = (struct xlvsd_ctl *)ev;
	int fd;

	for (;;) {
		fd = accept4(ev->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				log_warn("control: accept: %s", strerror(errno));
			return;
		}
		client_new(ctl, fd);
	}
}

/* Create the socket's directory (0700) if missing; an existing one is left as is. */
static int make_parent(const char *path)
{
	char dir[PATH_MAX], *p;

	snprintf(dir, sizeof(dir), "%s", path);
	p = strrchr(dir, '/');
	if (!p || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(dir, 0700) && errno != EEXIST ? -errno : 0;
}

/* A socket file left by a dead xlvsd is replaced; a live one means another daemon. */
static int clear_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, err = 0;

	if (lstat(sa->sun_path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		log_err("%s exists and is not a socket", sa->sun_path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (!connect(fd, (const struct sockaddr *)sa, sizeof(*sa))) {
		log_err("another xlvsd listens on %s: stop it first, or use --socket", sa->sun_path);
		err = -EADDRINUSE;
	} else if (unlink(sa->sun_path) && errno != ENOENT) {
		err = -errno;
	}
	close(fd);
	return err;
}

static int listen_on(const struct sockaddr_un *sa)
{
	mode_t old;
	int fd, err;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	old = umask(0177); /* born 0600: no window where others can connect */
	err = bind(fd, (const struct sockaddr *)sa, sizeof(*sa));
	umask(old);
	if (!err)
		err = chmod(sa->sun_path, 0600);
	if (!err)
		err = listen(fd, 16);
	if (err) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int xlvsd_ctl_open(struct xlvsd_ctl **out, const char *path, struct ev_loop *loop, xlvsd_ctl_fn fn, void *ctx)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct xlvsd_ctl *ctl;
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("control socket path too long (at most %zu bytes): %s", sizeof(sa.sun_path) - 1,
			path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	err = make_parent(path);
	if (err) {
		log_err("cannot create the directory of %s: %s", path, strerror(-err));
		return err;
	}
	err = clear_stale(&sa);
	if (err)
		return err;
	fd = listen_on(&sa);
	if (fd < 0) {
		log_err("cannot listen on %s: %s", path, strerror(-fd));
		return fd;
	}
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl) {
		close(fd);
		unlink(path);
		return -ENOMEM;
	}
	ctl->ev.fd = fd;
	ctl->ev.fn = listen_event;
	ctl->loop = loop;
	ctl->fn = fn;
	ctl->ctx = ctx;
	ctl->idle_timeout = XLVSD_CTL_IDLE_TIMEOUT;
	strcpy(ctl->path, path);
	if (xlvsd_ev_ctl(loop, EPOLL_CTL_ADD, &ctl->ev, EPOLLIN)) {
		err = -errno;
		xlvsd_ctl_close(ctl);
		return err;
	}
	*out = ctl;
	return 0;
}

void xlvsd_ctl_set_idle_timeout(struct xlvsd_ctl *ctl, double seconds)
{
	ctl->idle_timeout = seconds > 0 ? seconds : XLVSD_CTL_IDLE_TIMEOUT;
}

void xlvsd_ctl_close(struct xlvsd_ctl *ctl)
{
	if (!ctl)
		return;
	while (ctl->clients)
		client_free(ctl->clients);
	xlvsd_ev_ctl(ctl->loop, EPOLL_CTL_DEL, &ctl->ev, 0);
	close(ctl->ev.fd);
	unlink(ctl->path);
	free(ctl);
}
