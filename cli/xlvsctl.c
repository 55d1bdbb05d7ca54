// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket client. Every step has the same deadline, so a stuck
 * daemon costs at most timeout_ms; SIGPIPE is avoided with MSG_NOSIGNAL.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "xlvsctl.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_errno(const char *path, int e, char *err, size_t errlen)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		snprintf(err, errlen, "xlvsd is not running (no socket at %s)", path);
		return XLVS_EXIT_DAEMON;
	case ECONNREFUSED:
		snprintf(err, errlen, "xlvsd is not running (nothing listens on %s)", path);
		return XLVS_EXIT_DAEMON;
	case EACCES:
	case EPERM:
		snprintf(err, errlen, "permission denied on %s: the control socket is root-only", path);
		return XLVS_EXIT_RUNTIME;
	case EAGAIN:
	case ETIMEDOUT:
	case EINPROGRESS:
		snprintf(err, errlen, "xlvsd did not accept the connection on %s in time", path);
		return XLVS_EXIT_DAEMON;
	}
	snprintf(err, errlen, "cannot connect to xlvsd at %s: %s", path, strerror(e));
	return XLVS_EXIT_DAEMON;
}

static int open_socket(const char *path, int timeout_ms, char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -XLVS_EXIT_RUNTIME;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -XLVS_EXIT_RUNTIME;
	}
	/* Bounds a connect() to a full backlog and every send(). */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = connect_errno(path, errno, err, errlen);
		close(fd);
		return -rc;
	}
	return fd;
}

static int send_all(int fd, const char *buf, size_t len, const char *path, char *err, size_t errlen)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "cannot send to xlvsd at %s: %s", path,
				 n < 0 && errno != EAGAIN ? strerror(errno) : "timed out");
			return XLVS_EXIT_DAEMON;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

struct rbuf {
	char *data;
	size_t len, cap;
};

/* At least 4 KiB free in b, up to a reply of XLVS_CTL_MAX_REPLY. Returns an exit code. */
static int rbuf_room(struct rbuf *b, char *err, size_t errlen)
{
	size_t cap = b->cap ? b->cap * 2 : 8192;
	char *d;

	if (b->cap - b->len >= 4096)
		return 0;
	if (cap > XLVS_CTL_MAX_REPLY + 4096) {
		snprintf(err, errlen,
			 "reply from xlvsd too large: more than %d MiB (the limit); "
			 "not shown",
			 XLVS_CTL_MAX_REPLY >> 20);
		return XLVS_EXIT_DAEMON;
	}
	d = realloc(b->data, cap);
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return XLVS_EXIT_RUNTIME;
	}
	b->data = d;
	b->cap = cap;
	return 0;
}

/*
 * Read one line into b. The deadline is timeout_ms without progress: a large
 * reply may take longer in all, a stalled one does not. EOF before the
 * newline is a truncated reply.
 */
static int recv_line(int fd, struct rbuf *b, int timeout_ms, const char *path, char *err, size_t errlen)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	long long deadline = now_ms() + timeout_ms;
	size_t scanned = 0;

	for (;;) {
		long long left = deadline - now_ms();
		ssize_t n;
		int pr;

		if (b->len > scanned && memchr(b->data + scanned, '\n', b->len - scanned))
			return 0;
		scanned = b->len;
		if (left <= 0 && b->len) {
			snprintf(err, errlen,
				 "reply from xlvsd truncated: %zu bytes, then nothing for "
				 "%g s (%s)",
				 b->len, timeout_ms / 1000.0, path);
			return XLVS_EXIT_DAEMON;
		}
		if (left <= 0) {
			snprintf(err, errlen, "xlvsd did not answer within %g s (%s)", timeout_ms / 1000.0,
				 path);
			return XLVS_EXIT_DAEMON;
		}
		pr = poll(&pfd, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return XLVS_EXIT_DAEMON;
		}
		if (pr == 0)
			continue;
		pr = rbuf_room(b, err, errlen);
		if (pr)
			return pr;
		n = recv(fd, b->data + b->len, b->cap - b->len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "cannot read from xlvsd at %s: %s", path, strerror(errno));
			return XLVS_EXIT_DAEMON;
		}
		if (n == 0) {
			if (b->len)
				snprintf(err, errlen,
					 "reply from xlvsd truncated: the connection closed "
					 "after %zu bytes, before the end of the line (%s)",
					 b->len, path);
			else
				snprintf(err, errlen, "xlvsd closed the connection without answering (%s)",
					 path);
			return XLVS_EXIT_DAEMON;
		}
		b->len += (size_t)n;
		deadline = now_ms() + timeout_ms;
	}
}

static int parse_reply(struct rbuf *b, json_t **reply, char *err, size_t errlen)
{
	json_error_t je;
	char *nl;
	json_t *r;

	b->data[b->len] = '\0';
	nl = strchr(b->data, '\n');
	if (nl)
		*nl = '\0';
	r = json_loads(b->data, JSON_REJECT_DUPLICATES, &je);
	if (!r) {
		snprintf(err, errlen, "malformed reply from xlvsd: %s", je.text);
		return XLVS_EXIT_DAEMON;
	}
	if (!json_is_object(r) || !json_is_boolean(json_object_get(r, "ok"))) {
		json_decref(r);
		snprintf(err, errlen, "malformed reply from xlvsd: not an object with \"ok\"");
		return XLVS_EXIT_DAEMON;
	}
	*reply = r;
	return XLVS_EXIT_OK;
}

int xlvs_ctl_call(const char *path, json_t *req, int timeout_ms, json_t **reply, char *err, size_t errlen)
{
	struct rbuf b = { 0 };
	char *line;
	int fd, rc;

	*reply = NULL;
	line = json_dumps(req, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!line) {
		snprintf(err, errlen, "cannot encode the request");
		return XLVS_EXIT_RUNTIME;
	}
	fd = open_socket(path, timeout_ms, err, errlen);
	if (fd < 0) {
		free(line);
		return -fd;
	}
	/* The request is one line: jansson escapes newlines inside strings. */
	rc = send_all(fd, line, strlen(line), path, err, errlen);
	if (!rc)
		rc = send_all(fd, "\n", 1, path, err, errlen);
	if (!rc)
		rc = recv_line(fd, &b, timeout_ms, path, err, errlen);
	if (!rc)
		rc = parse_reply(&b, reply, err, errlen);
	close(fd);
	free(line);
	free(b.data);
	return rc;
}

/* The daemon's text goes to a terminal: no control characters. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* The daemon's refusal, prefixed with the service the request is about unless it names its VIP. */
static int refused(struct xlvs_ctx *c, const char *msg)
{
	if (!c->about[0] || strstr(msg, c->about_vip))
		return xlvs_error(c, XLVS_EXIT_REFUSED, "%s", msg);
	return xlvs_error(c, XLVS_EXIT_REFUSED, "%s: %s", c->about, msg);
}

int xlvs_ctl_request(struct xlvs_ctx *c, json_t *req, json_t **reply)
{
	char err[256], msg[512];
	json_t *r, *e;
	int rc;

	*reply = NULL;
	if (!req)
		return xlvs_error(c, XLVS_EXIT_RUNTIME, "out of memory");
	rc = xlvs_ctl_call(c->sock_path, req, c->timeout_ms, &r, err, sizeof(err));
	json_decref(req);
	if (rc)
		return xlvs_error(c, rc, "%s", err);
	if (!json_is_true(json_object_get(r, "ok"))) {
		e = json_object_get(r, "error");
		snprintf(msg, sizeof(msg), "%s",
			 json_is_string(e) ? json_string_value(e) : "xlvsd refused the request");
		sanitize(msg);
		rc = refused(c, msg);
		json_decref(r);
		return rc;
	}
	*reply = r;
	return XLVS_EXIT_OK;
}

json_t *xlvs_ctl_health(const char *path, int timeout_ms, int *rc, char *err, size_t errlen)
{
	json_t *req = json_pack("{s:s}", "cmd", "health"), *reply = NULL, *svcs;
	*rc = XLVS_EXIT_RUNTIME;
	if (!req) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	*rc = xlvs_ctl_call(path, req, timeout_ms, &reply, err, errlen);
	json_decref(req);
	if (*rc) {
		/* No daemon: listing goes on without health, quietly. */
		if (*rc == XLVS_EXIT_DAEMON && strstr(err, "xlvsd is not running"))
			*rc = XLVS_EXIT_OK;
		return NULL;
	}
	svcs = json_object_get(reply, "services");
	if (!json_is_true(json_object_get(reply, "ok")) || !json_is_array(svcs)) {
		snprintf(err, errlen, "xlvsd refused the health request: %s",
			 json_string_value(json_object_get(reply, "error")) ?: "no services in its reply");
		json_decref(reply);
		*rc = XLVS_EXIT_DAEMON;
		return NULL;
	}
	json_incref(svcs);
	json_decref(reply);
	return svcs;
}
