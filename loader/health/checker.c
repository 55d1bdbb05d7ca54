// SPDX-License-Identifier: GPL-2.0
/*
 * Health checkers, see checker.h. Every probe owns a timeout timer and, by
 * type, a socket watcher, a curl easy handle or a child (pidfd watcher).
 * finish() stops all of them, reports once and frees the probe.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <ev.h>
#include <ldns/ldns.h>
/* after ldns: icmp6.h defines rr_type, a parameter name in ldns's headers */
#include <netinet/icmp6.h>

#include "xlvsmaps.h"
#include "checker.h"

extern char **environ;

#define BODY_MAX  (64 * 1024) /* HTTP body kept for the `body` match */
#define DGRAM_MAX 4096

struct xlvs_checker {
	struct ev_loop *loop;
	CURLM *multi;
	ev_timer curl_timer;
	ev_timer kick; /* starts queued probes from the loop */
	unsigned int max_inflight, inflight, queued;
	struct xlvs_probe *queue_head, *queue_tail; /* waiting to start */
	struct xlvs_probe *running;		    /* started, in a list for free() */
	struct reaper *reapers;			    /* killed children not yet reaped */
	uint16_t seq;
};

struct xlvs_probe {
	struct xlvs_checker *ck;
	struct xlvs_probe *next, *prev; /* queue or running list */
	bool started;
	const struct xlvs_check_spec *spec;
	struct xlvs_probe_target t;
	xlvs_probe_cb cb;
	void *ctx;
	uint64_t t0_ns;
	ev_timer timer; /* timeout (or an immediate result) */
	ev_io io;	/* socket or pidfd */
	int fd;
	bool have_io;
	/* pending immediate result */
	bool pending_ok;
	char pending_msg[160];
	/* http */
	CURL *easy;
	struct curl_slist *connect_to;
	char *body;
	size_t body_len;
	EVP_MD_CTX *md; /* `digest`: hashed as the body arrives */
	/* dns, icmp */
	uint16_t id, seq;
	uint8_t cookie[16];
	/* exec */
	pid_t pid;
	char **env;	     /* owned copy (commands) */
	const char *command; /* spec's, or cmd_buf */
	char *cmd_buf;
	uint32_t timeout_ms;
};

/* A child killed at its timeout, waiting to be reaped. */
struct reaper {
	struct reaper *next;
	ev_io io;
	int pidfd;
	pid_t pid;
	struct xlvs_checker *ck;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void list_del(struct xlvs_probe **head, struct xlvs_probe *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		*head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->next = p->prev = NULL;
}

static void start_next(struct xlvs_checker *ck);
static void reap_later(struct xlvs_checker *ck, pid_t pid, int pidfd);

/* Stop everything the probe holds; no callback. */
static void release(struct xlvs_probe *p)
{
	struct xlvs_checker *ck = p->ck;

	if (!p->started) {
		if (p->prev)
			p->prev->next = p->next;
		else
			ck->queue_head = p->next;
		if (p->next)
			p->next->prev = p->prev;
		else
			ck->queue_tail = p->prev;
		ck->queued--;
	} else {
		list_del(&ck->running, p);
		ck->inflight--;
		ev_timer_stop(ck->loop, &p->timer);
	}
	if (p->have_io)
		ev_io_stop(ck->loop, &p->io);
	if (p->easy) {
		curl_multi_remove_handle(ck->multi, p->easy);
		curl_easy_cleanup(p->easy);
	}
	curl_slist_free_all(p->connect_to);
	if (p->pid > 0) {
		/* still running (timeout or cancel): kill its process group, reap later */
		kill(-p->pid, SIGKILL);
		reap_later(ck, p->pid, p->fd);
		p->fd = -1;
	}
	if (p->fd >= 0)
		close(p->fd);
	if (p->env) {
		for (char **e = p->env; *e; e++)
			free(*e);
		free(p->env);
	}
	free(p->cmd_buf);
	free(p->body);
	EVP_MD_CTX_free(p->md);
	free(p);
}

static void __attribute__((format(printf, 3, 4))) finish(struct xlvs_probe *p, bool ok, const char *fmt, ...)
{
	struct xlvs_checker *ck = p->ck;
	struct xlvs_probe_result r = { .ok = ok };
	uint64_t dt = now_ns() - p->t0_ns;
	xlvs_probe_cb cb = p->cb;
	void *ctx = p->ctx;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r.msg, sizeof(r.msg), fmt, ap);
	va_end(ap);
	r.latency_us = dt / 1000 > UINT32_MAX ? UINT32_MAX : dt / 1000;
	release(p);
	if (cb)
		cb(ctx, &r);
	start_next(ck);
}

/*
 * A failure found while starting: reported from the loop (the probe's timer
 * fires at once), so that launch() never recurses into the next launch.
 */
static void __attribute__((format(printf, 2, 3))) fail_soon(struct xlvs_probe *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->pending_msg, sizeof(p->pending_msg), fmt, ap);
	va_end(ap);
	p->pending_ok = false;
	if (p->have_io) {
		ev_io_stop(p->ck->loop, &p->io);
		p->have_io = false;
	}
	ev_timer_stop(p->ck->loop, &p->timer);
	ev_timer_set(&p->timer, 0., 0.);
	ev_timer_start(p->ck->loop, &p->timer);
}

/* ---- sockets ---------------------------------------------------------------------- */

static socklen_t sockaddr_of(const struct xlvs_addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == XLVS_AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, a->be, 16);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	s4->sin_addr.s_addr = a->be[0];
	return sizeof(*s4);
}

static int af_of(const struct xlvs_addr *a)
{
	return a->family == XLVS_AF_INET6 ? AF_INET6 : AF_INET;
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents);

static void watch_fd(struct xlvs_probe *p, int events)
{
	if (p->have_io)
		ev_io_stop(p->ck->loop, &p->io);
	ev_io_init(&p->io, io_cb, p->fd, events);
	ev_io_start(p->ck->loop, &p->io);
	p->have_io = true;
}

/* A check through a real's forwarding path: its mark, which the tc program steers by. */
static int set_mark(const struct xlvs_probe *p, int fd)
{
	if (p->t.mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &p->t.mark, sizeof(p->t.mark)))
		return -errno;
	return 0;
}

/* What an operator should know when a marked check cannot leave (docs/health.md). */
static const char *mark_hint(const struct xlvs_probe *p, int err)
{
	if (!p->t.mark || (err != ENETUNREACH && err != EHOSTUNREACH))
		return "";
	return " (health_via_forwarding: the director needs a route to the VIP out of its XDP interface)";
}

/* A socket connected to the target; -errno. */
static int connect_socket(struct xlvs_probe *p, int type, int proto)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(&p->t.addr, p->t.port, &ss);
	int fd = socket(af_of(&p->t.addr), type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto), err;

	if (fd < 0)
		return -errno;
	p->fd = fd;
	err = set_mark(p, fd);
	if (err)
		return err;
	if (connect(fd, (struct sockaddr *)&ss, len) && errno != EINPROGRESS)
		return -errno;
	return 0;
}

static void tcp_start(struct xlvs_probe *p)
{
	/* RST on close: a check every second must not leave TIME_WAIT sockets behind */
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int err = connect_socket(p, SOCK_STREAM, 0);

	if (err) {
		fail_soon(p, "connect: %s%s", strerror(-err), mark_hint(p, -err));
		return;
	}
	setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	watch_fd(p, EV_WRITE);
}

static void tcp_ready(struct xlvs_probe *p)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &soerr, &len))
		soerr = errno;
	if (soerr)
		finish(p, false, "connect: %s%s", strerror(soerr), mark_hint(p, soerr));
	else
		finish(p, true, "connected");
}

static void udp_start(struct xlvs_probe *p)
{
	const char *payload = p->spec->payload;
	int err = connect_socket(p, SOCK_DGRAM, 0);

	if (!err && send(p->fd, payload, strlen(payload), 0) < 0)
		err = -errno;
	if (err) {
		fail_soon(p, "send: %s", strerror(-err));
		return;
	}
	watch_fd(p, EV_READ);
}

/*
 * A datagram from the probe's connected UDP socket: its length, or -1 when none
 * is there yet or the probe has just ended on the error (an ICMP port
 * unreachable is ECONNREFUSED: down at once).
 */
static ssize_t probe_recv(struct xlvs_probe *p, void *buf, size_t size)
{
	ssize_t n = recv(p->fd, buf, size, 0);

	if (n < 0 && errno != EAGAIN && errno != EINTR)
		finish(p, false, errno == ECONNREFUSED ? "port unreachable" : "recv: %s", strerror(errno));
	return n;
}

static void udp_ready(struct xlvs_probe *p)
{
	char buf[DGRAM_MAX];
	ssize_t n = probe_recv(p, buf, sizeof(buf));

	if (n < 0)
		return;
	if (p->spec->match[0] && !memmem(buf, n, p->spec->match, strlen(p->spec->match))) {
		finish(p, false, "reply of %zd bytes without \"%s\"", n, p->spec->match);
		return;
	}
	finish(p, true, "reply of %zd bytes", n);
}

/* ---- dns ------------------------------------------------------------------------ */

static void dns_start(struct xlvs_probe *p)
{
	ldns_rdf *name = ldns_dname_new_frm_str(p->spec->qname);
	ldns_pkt *q = NULL;
	uint8_t *wire = NULL;
	size_t size = 0;
	int err;

	if (name)
		q = ldns_pkt_query_new(name, p->spec->qtype, LDNS_RR_CLASS_IN, LDNS_RD);
	else
		ldns_rdf_deep_free(name);
	if (!q) {
		fail_soon(p, "cannot build a query for %s", p->spec->qname);
		return;
	}
	p->id = (uint16_t)random();
	ldns_pkt_set_id(q, p->id);
	err = ldns_pkt2wire(&wire, q, &size) == LDNS_STATUS_OK ? 0 : -EINVAL;
	ldns_pkt_free(q);
	if (!err)
		err = connect_socket(p, SOCK_DGRAM, 0);
	if (!err && send(p->fd, wire, size, 0) < 0)
		err = -errno;
	free(wire);
	if (err) {
		fail_soon(p, "query: %s", strerror(-err));
		return;
	}
	watch_fd(p, EV_READ);
}

static void dns_ready(struct xlvs_probe *p)
{
	uint8_t buf[DGRAM_MAX];
	ssize_t n = probe_recv(p, buf, sizeof(buf));
	ldns_pkt *r = NULL;
	ldns_pkt_rcode rc;
	size_t an;

	if (n < 0)
		return;
	if (ldns_wire2pkt(&r, buf, n) != LDNS_STATUS_OK)
		return; /* not DNS: keep waiting for the answer */
	if (ldns_pkt_id(r) != p->id || !ldns_pkt_qr(r)) {
		ldns_pkt_free(r);
		return;
	}
	rc = ldns_pkt_get_rcode(r);
	an = ldns_pkt_ancount(r);
	ldns_pkt_free(r);
	if (rc != LDNS_RCODE_NOERROR)
		finish(p, false, "rcode %u", (unsigned int)rc);
	else if (!an)
		finish(p, false, "no answer for %s", p->spec->qname);
	else
		finish(p, true, "%zu answers", an);
}

/* ---- icmp ----------------------------------------------------------------------- */

static uint16_t csum(const void *data, size_t len)
{
	const uint8_t *b = data;
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons(~sum & 0xffff);
}

static void icmp_start(struct xlvs_probe *p)
{
	bool v6 = p->t.addr.family == XLVS_AF_INET6;
	int proto = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	uint8_t pkt[8 + sizeof(p->cookie)];
	size_t i;
	int err;

	/* Ping sockets need net.ipv4.ping_group_range; root falls back to raw sockets. */
	err = connect_socket(p, SOCK_DGRAM, proto);
	if (err == -EACCES || err == -EPERM || err == -EPROTONOSUPPORT) {
		if (p->fd >= 0)
			close(p->fd);
		p->fd = -1;
		err = connect_socket(p, SOCK_RAW, proto);
	}
	if (err) {
		fail_soon(p, "icmp socket: %s", strerror(-err));
		return;
	}
	p->id = (uint16_t)random();
	p->seq = ++p->ck->seq;
	for (i = 0; i < sizeof(p->cookie); i++)
		p->cookie[i] = (uint8_t)random();
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = v6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO;
	memcpy(pkt + 4, &p->id, 2);
	memcpy(pkt + 6, &p->seq, 2);
	memcpy(pkt + 8, p->cookie, sizeof(p->cookie));
	if (!v6) {
		uint16_t c = csum(pkt, sizeof(pkt));

		memcpy(pkt + 2, &c, 2); /* the kernel fills it for ICMPv6 */
	}
	if (send(p->fd, pkt, sizeof(pkt), 0) < 0) {
		fail_soon(p, "echo request: %s", strerror(errno));
		return;
	}
	watch_fd(p, EV_READ);
}

static void icmp_ready(struct xlvs_probe *p)
{
	bool v6 = p->t.addr.family == XLVS_AF_INET6;
	uint8_t buf[DGRAM_MAX], *icmp = buf;
	ssize_t n = recv(p->fd, buf, sizeof(buf), 0);
	size_t hl;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		finish(p, false, "recv: %s", strerror(errno));
		return;
	}
	/* A raw IPv4 socket gives the IP header too. */
	if (!v6 && n >= 20 && (buf[0] >> 4) == 4) {
		hl = (buf[0] & 0xf) * 4u;
		if ((size_t)n < hl)
			return;
		icmp += hl;
		n -= hl;
	}
	if (n < (ssize_t)(8 + sizeof(p->cookie)))
		return;
	if (icmp[0] == (v6 ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY) &&
	    !memcmp(icmp + 8, p->cookie, sizeof(p->cookie))) {
		finish(p, true, "echo reply");
		return;
	}
	if (icmp[0] == (v6 ? ICMP6_DST_UNREACH : ICMP_DEST_UNREACH))
		finish(p, false, "destination unreachable (code %u)", icmp[1]);
	/* anything else (another prober's reply on a raw socket): keep waiting */
}

/* ---- exec ----------------------------------------------------------------------- */

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static void reaper_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct reaper *r = (struct reaper *)((char *)w - __builtin_offsetof(struct reaper, io));
	struct reaper **pp;
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, r->pid, &si, WEXITED | WNOHANG) || !si.si_pid)
		return;
	ev_io_stop(loop, &r->io);
	close(r->pidfd);
	for (pp = &r->ck->reapers; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	free(r);
}

static void reap_later(struct xlvs_checker *ck, pid_t pid, int pidfd)
{
	struct reaper *r = calloc(1, sizeof(*r));

	if (!r || pidfd < 0) {
		/* no memory: SIGKILL was sent, the wait is short */
		waitpid(pid, NULL, 0);
		if (pidfd >= 0)
			close(pidfd);
		free(r);
		return;
	}
	r->pid = pid;
	r->pidfd = pidfd;
	r->ck = ck;
	r->next = ck->reapers;
	ck->reapers = r;
	ev_io_init(&r->io, reaper_cb, pidfd, EV_READ);
	ev_io_start(ck->loop, &r->io);
}

static char *env_kv(const char *k, const char *v)
{
	char *s = NULL;

	return asprintf(&s, "%s=%s", k, v) < 0 ? NULL : s;
}

/* The target as environment: XLVS_REAL, XLVS_ADDRESS, XLVS_PORT, XLVS_VIP, XLVS_VPORT, XLVS_PROTOCOL. */
static char **target_env(const struct xlvs_probe_target *t)
{
	char a[INET6_ADDRSTRLEN], n[8];
	char **env = calloc(8, sizeof(*env));
	const char *path = getenv("PATH");
	size_t i = 0;

	if (!env)
		return NULL;
	env[i++] = env_kv("PATH",
			  path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	if (t->real.family)
		env[i++] = env_kv("XLVS_REAL", inet_ntop(af_of(&t->real), t->real.be, a, sizeof(a)));
	if (t->addr.family)
		env[i++] = env_kv("XLVS_ADDRESS", inet_ntop(af_of(&t->addr), t->addr.be, a, sizeof(a)));
	snprintf(n, sizeof(n), "%u", t->port);
	env[i++] = env_kv("XLVS_PORT", n);
	if (t->vip.family)
		env[i++] = env_kv("XLVS_VIP", inet_ntop(af_of(&t->vip), t->vip.be, a, sizeof(a)));
	snprintf(n, sizeof(n), "%u", t->vport);
	env[i++] = env_kv("XLVS_VPORT", n);
	env[i++] = env_kv("XLVS_PROTOCOL", xlvs_svc_proto_name(t->proto));
	return env;
}

static void exec_start(struct xlvs_probe *p)
{
	char *argv[] = { "/bin/sh", "-c", (char *)p->command, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none;
	int err;

	sigemptyset(&none);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	/* nothing of the daemon but stdio: libcurl's socketpair, for one, has no close-on-exec */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&attr);
	/* its own process group (killed as one at the timeout), default signals, none blocked */
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	sigaddset(&none, SIGPIPE);
	posix_spawnattr_setsigdefault(&attr, &none);
	posix_spawnattr_setflags(&attr,
				 POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	err = posix_spawn(&p->pid, argv[0], &fa, &attr, argv, p->env ? p->env : environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (err) {
		p->pid = 0;
		fail_soon(p, "spawn: %s", strerror(err));
		return;
	}
	p->fd = pidfd_open_(p->pid);
	if (p->fd < 0) {
		/* no pidfd (kernel < 5.3): give up on this one rather than block */
		kill(-p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		p->pid = 0;
		fail_soon(p, "pidfd_open: %s", strerror(errno));
		return;
	}
	watch_fd(p, EV_READ);
}

static void exec_ready(struct xlvs_probe *p)
{
	siginfo_t si, reaped;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, p->pid, &si, WEXITED | WNOHANG | WNOWAIT) || !si.si_pid)
		return;
	/*
	 * A check ends with its process group: what it left running (`cmd &`)
	 * is killed, not left as one orphan more per interval. Before the reap:
	 * the zombie leader keeps the group's id from being anyone else's.
	 */
	if (p->spec)
		kill(-p->pid, SIGKILL);
	waitid(P_PID, p->pid, &reaped, WEXITED | WNOHANG);
	p->pid = 0;
	if (si.si_code == CLD_EXITED && si.si_status == 0)
		finish(p, true, "exit 0");
	else if (si.si_code == CLD_EXITED)
		finish(p, false, "exit %d", si.si_status);
	else
		finish(p, false, "killed by signal %d", si.si_status);
}

/* ---- http, https (curl multi) ------------------------------------------------------ */

struct curl_sock {
	ev_io io;
	struct xlvs_checker *ck;
};

static void check_multi(struct xlvs_checker *ck);

static void curl_sock_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	/* Not cs->ck after the action: curl may remove the socket in it, freeing cs. */
	struct xlvs_checker *ck = ((struct curl_sock *)w)->ck;
	int running, flags = (revents & EV_READ ? CURL_CSELECT_IN : 0) |
			     (revents & EV_WRITE ? CURL_CSELECT_OUT : 0);

	curl_multi_socket_action(ck->multi, w->fd, flags, &running);
	check_multi(ck);
}

static int curl_socket_fn(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct xlvs_checker *ck = userp;
	struct curl_sock *cs = socketp;
	int events = (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);

	if (what == CURL_POLL_REMOVE) {
		if (cs) {
			ev_io_stop(ck->loop, &cs->io);
			free(cs);
			curl_multi_assign(ck->multi, s, NULL);
		}
		return 0;
	}
	if (!cs) {
		cs = calloc(1, sizeof(*cs));
		if (!cs)
			return -1;
		cs->ck = ck;
		curl_multi_assign(ck->multi, s, cs);
	} else {
		ev_io_stop(ck->loop, &cs->io);
	}
	ev_io_init(&cs->io, curl_sock_cb, s, events);
	ev_io_start(ck->loop, &cs->io);
	return 0;
}

static void curl_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct xlvs_checker *ck = (struct xlvs_checker *)((char *)w - __builtin_offsetof(struct xlvs_checker,
											 curl_timer));
	int running;

	curl_multi_socket_action(ck->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_multi(ck);
}

static int curl_timer_fn(CURLM *m, long timeout_ms, void *userp)
{
	struct xlvs_checker *ck = userp;

	ev_timer_stop(ck->loop, &ck->curl_timer);
	if (timeout_ms >= 0) {
		ev_timer_set(&ck->curl_timer, timeout_ms / 1000.0, 0.);
		ev_timer_start(ck->loop, &ck->curl_timer);
	}
	return 0;
}

static size_t body_fn(char *data, size_t size, size_t nmemb, void *userp)
{
	struct xlvs_probe *p = userp;
	size_t n = size * nmemb, keep = n;
	char *nb;

	/* The digest covers every byte; only the substring match keeps a bounded copy. */
	if (p->md && !EVP_DigestUpdate(p->md, data, n))
		return 0;
	if (!p->spec->match[0])
		return n; /* nothing to match: discard */
	if (p->body_len + keep > BODY_MAX)
		keep = BODY_MAX - p->body_len;
	if (!keep)
		return n;
	nb = realloc(p->body, p->body_len + keep + 1);
	if (!nb)
		return 0;
	p->body = nb;
	memcpy(p->body + p->body_len, data, keep);
	p->body_len += keep;
	p->body[p->body_len] = '\0';
	return n;
}

static bool code_ok(const struct xlvs_check_spec *s, long code)
{
	unsigned int i;

	if (!s->nr_codes)
		return code >= 200 && code <= 299;
	for (i = 0; i < s->nr_codes; i++)
		if (code >= s->code_lo[i] && code <= s->code_hi[i])
			return true;
	return false;
}

static void http_done(struct xlvs_probe *p, CURLcode res)
{
	long code = 0;

	if (res != CURLE_OK) {
		finish(p, false, "%s", curl_easy_strerror(res));
		return;
	}
	curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &code);
	if (!code_ok(p->spec, code)) {
		finish(p, false, "status %ld", code);
		return;
	}
	if (p->spec->match[0] &&
	    (!p->body || !memmem(p->body, p->body_len, p->spec->match, strlen(p->spec->match)))) {
		finish(p, false, "status %ld, body without \"%s\"", code, p->spec->match);
		return;
	}
	if (p->md) {
		unsigned char md[EVP_MAX_MD_SIZE];
		char hex[2 * EVP_MAX_MD_SIZE + 1];
		unsigned int len = 0, i;
		const char *alg = p->spec->digest_alg == XLVS_DIGEST_MD5 ? "md5" : "sha256";

		if (!EVP_DigestFinal_ex(p->md, md, &len)) {
			finish(p, false, "status %ld, %s digest failed (OpenSSL)", code, alg);
			return;
		}
		if (len > XLVS_DIGEST_MAX || memcmp(md, p->spec->digest, len)) {
			for (i = 0; i < len && i < EVP_MAX_MD_SIZE; i++)
				snprintf(hex + 2 * i, 3, "%02x", md[i]);
			hex[2 * i] = '\0';
			finish(p, false, "status %ld, body %s %s is not the expected digest", code, alg, hex);
			return;
		}
		finish(p, true, "status %ld, body %s matches", code, alg);
		return;
	}
	finish(p, true, "status %ld", code);
}

static void check_multi(struct xlvs_checker *ck)
{
	struct xlvs_probe *p;
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(ck->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		p = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&p);
		if (p)
			http_done(p, msg->data.result);
	}
}

/* Whether a `host` names its port: "name:80", "[2001:db8::1]:80". */
static bool host_has_port(const char *host)
{
	const char *b = strrchr(host, ']');

	return strchr(b ? b : host, ':') != NULL;
}

/* The body digest of an http/https check: false (probe failed soon) when OpenSSL cannot. */
static bool http_digest_init(struct xlvs_probe *p)
{
	const struct xlvs_check_spec *s = p->spec;
	const EVP_MD *alg;

	if (s->digest_alg == XLVS_DIGEST_NONE)
		return true;
	alg = s->digest_alg == XLVS_DIGEST_MD5 ? EVP_md5() : EVP_sha256();
	p->md = EVP_MD_CTX_new();
	if (!p->md || !alg || !EVP_DigestInit_ex(p->md, alg, NULL)) {
		fail_soon(p, "digest: OpenSSL cannot compute %s here",
			  s->digest_alg == XLVS_DIGEST_MD5 ? "md5" : "sha256");
		return false;
	}
	return true;
}

/*
 * The connection goes to the probed address and port whatever the URL
 * names ("::" matches any host and port): `host` only sets the name in
 * the URL (Host header, TLS server name, certificate name). No proxy,
 * whatever http_proxy, https_proxy or all_proxy say in the daemon's
 * environment: the check tests the real, not a proxy.
 */
static int curl_sockopt(void *ctx, curl_socket_t fd, curlsocktype purpose)
{
	return set_mark(ctx, fd) ? CURL_SOCKOPT_ERROR : CURL_SOCKOPT_OK;
}

static bool http_pin_target(struct xlvs_probe *p, const char *a, bool v6)
{
	char to[INET6_ADDRSTRLEN + 16];

	snprintf(to, sizeof(to), "::%s%s%s:%u", v6 ? "[" : "", a, v6 ? "]" : "", p->t.port);
	p->connect_to = curl_slist_append(NULL, to);
	if (!p->connect_to) {
		fail_soon(p, "curl: out of memory");
		return false;
	}
	curl_easy_setopt(p->easy, CURLOPT_CONNECT_TO, p->connect_to);
	curl_easy_setopt(p->easy, CURLOPT_PROXY, "");
	curl_easy_setopt(p->easy, CURLOPT_NOPROXY, "*");
	if (p->t.mark) {
		curl_easy_setopt(p->easy, CURLOPT_SOCKOPTFUNCTION, curl_sockopt);
		curl_easy_setopt(p->easy, CURLOPT_SOCKOPTDATA, p);
	}
	return true;
}

static void http_url(const struct xlvs_probe *p, const char *a, bool v6, char *url, size_t size)
{
	const struct xlvs_check_spec *s = p->spec;
	const char *scheme = s->type == XLVS_CHECK_HTTPS ? "https" : "http";

	if (s->host[0] && host_has_port(s->host))
		snprintf(url, size, "%s://%s%s", scheme, s->host, s->path);
	else if (s->host[0])
		snprintf(url, size, "%s://%s:%u%s", scheme, s->host, p->t.port, s->path);
	else
		snprintf(url, size, "%s://%s%s%s:%u%s", scheme, v6 ? "[" : "", a, v6 ? "]" : "", p->t.port,
			 s->path);
}

static void http_start(struct xlvs_probe *p)
{
	const struct xlvs_check_spec *s = p->spec;
	char a[INET6_ADDRSTRLEN], url[XLVS_CHECK_STR * 2 + 96];
	bool v6 = p->t.addr.family == XLVS_AF_INET6;
	CURLMcode mc;

	if (!http_digest_init(p))
		return;
	inet_ntop(af_of(&p->t.addr), p->t.addr.be, a, sizeof(a));
	p->easy = curl_easy_init();
	if (!p->easy) {
		fail_soon(p, "curl: out of memory");
		return;
	}
	if (!http_pin_target(p, a, v6))
		return;
	http_url(p, a, v6, url, sizeof(url));
	curl_easy_setopt(p->easy, CURLOPT_URL, url);
	curl_easy_setopt(p->easy, CURLOPT_PRIVATE, (char *)p);
	curl_easy_setopt(p->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(p->easy, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(p->easy, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(p->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(p->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(p->easy, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
	curl_easy_setopt(p->easy, CURLOPT_USERAGENT, "xlvsd-health/1");
	curl_easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, body_fn);
	curl_easy_setopt(p->easy, CURLOPT_WRITEDATA, p);
	curl_easy_setopt(p->easy, CURLOPT_SSL_VERIFYPEER, s->tls_verify ? 1L : 0L);
	curl_easy_setopt(p->easy, CURLOPT_SSL_VERIFYHOST, s->tls_verify ? 2L : 0L);
	mc = curl_multi_add_handle(p->ck->multi, p->easy);
	if (mc != CURLM_OK) {
		curl_easy_cleanup(p->easy);
		p->easy = NULL;
		fail_soon(p, "curl: %s", curl_multi_strerror(mc));
	}
}

/* ---- dispatch ------------------------------------------------------------------- */

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct xlvs_probe *p = (struct xlvs_probe *)((char *)w - __builtin_offsetof(struct xlvs_probe, io));

	switch (p->spec ? p->spec->type : XLVS_CHECK_EXEC) {
	case XLVS_CHECK_TCP:
		tcp_ready(p);
		break;
	case XLVS_CHECK_UDP:
		udp_ready(p);
		break;
	case XLVS_CHECK_DNS:
		dns_ready(p);
		break;
	case XLVS_CHECK_ICMP:
		icmp_ready(p);
		break;
	default:
		exec_ready(p);
		break;
	}
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct xlvs_probe *p = (struct xlvs_probe *)((char *)w -
						     __builtin_offsetof(struct xlvs_probe, timer));

	if (p->pending_msg[0]) {
		finish(p, p->pending_ok, "%s", p->pending_msg);
		return;
	}
	finish(p, false, "timeout after %u ms", p->timeout_ms);
}

static void launch(struct xlvs_probe *p)
{
	struct xlvs_checker *ck = p->ck;

	p->started = true;
	p->next = ck->running;
	p->prev = NULL;
	if (ck->running)
		ck->running->prev = p;
	ck->running = p;
	ck->inflight++;
	p->t0_ns = now_ns();
	ev_timer_init(&p->timer, timer_cb, p->timeout_ms / 1000.0, 0.);
	ev_timer_start(ck->loop, &p->timer);
	switch (p->spec ? p->spec->type : XLVS_CHECK_EXEC) {
	case XLVS_CHECK_TCP:
		tcp_start(p);
		break;
	case XLVS_CHECK_HTTP:
	case XLVS_CHECK_HTTPS:
		http_start(p);
		break;
	case XLVS_CHECK_UDP:
		udp_start(p);
		break;
	case XLVS_CHECK_DNS:
		dns_start(p);
		break;
	case XLVS_CHECK_ICMP:
		icmp_start(p);
		break;
	case XLVS_CHECK_EXEC:
		exec_start(p);
		break;
	default:
		/* not checked: up, reported from the loop like any result */
		fail_soon(p, "not checked");
		p->pending_ok = true;
		break;
	}
}

static void start_next(struct xlvs_checker *ck)
{
	struct xlvs_probe *p;

	while (ck->queue_head && ck->inflight < ck->max_inflight) {
		p = ck->queue_head;
		ck->queue_head = p->next;
		if (ck->queue_head)
			ck->queue_head->prev = NULL;
		else
			ck->queue_tail = NULL;
		ck->queued--;
		p->next = p->prev = NULL;
		launch(p);
	}
}

/* Queued probes start from the loop, never inside xlvs_probe_start(). */
static void kick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	start_next((struct xlvs_checker *)((char *)w - __builtin_offsetof(struct xlvs_checker, kick)));
}

static struct xlvs_probe *probe_new(struct xlvs_checker *ck, uint32_t timeout_ms, xlvs_probe_cb cb, void *ctx)
{
	struct xlvs_probe *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->ck = ck;
	p->fd = -1;
	p->cb = cb;
	p->ctx = ctx;
	p->timeout_ms = timeout_ms;
	return p;
}

static void enqueue(struct xlvs_checker *ck, struct xlvs_probe *p)
{
	p->prev = ck->queue_tail;
	p->next = NULL;
	if (ck->queue_tail)
		ck->queue_tail->next = p;
	else
		ck->queue_head = p;
	ck->queue_tail = p;
	ck->queued++;
	if (!ev_is_active(&ck->kick))
		ev_timer_start(ck->loop, &ck->kick);
}

int xlvs_probe_start(struct xlvs_checker *ck, const struct xlvs_check_spec *spec,
		     const struct xlvs_probe_target *t, xlvs_probe_cb cb, void *ctx, struct xlvs_probe **out)
{
	struct xlvs_probe *p = probe_new(ck, spec->timeout_ms ? spec->timeout_ms : 1000, cb, ctx);

	if (!p)
		return -ENOMEM;
	p->spec = spec;
	p->t = *t;
	if (spec->type == XLVS_CHECK_EXEC) {
		p->command = spec->command;
		p->env = target_env(t);
		if (!p->env) {
			free(p);
			return -ENOMEM;
		}
	}
	enqueue(ck, p);
	if (out)
		*out = p;
	return 0;
}

int xlvs_run_command(struct xlvs_checker *ck, const char *command, char *const *env, uint32_t timeout_ms,
		     xlvs_probe_cb cb, void *ctx)
{
	struct xlvs_probe *p = probe_new(ck, timeout_ms, cb, ctx);
	size_t n = 0, i;

	if (!p)
		return -ENOMEM;
	while (env && env[n])
		n++;
	p->cmd_buf = strdup(command);
	p->env = calloc(n + 1, sizeof(*p->env));
	for (i = 0; p->env && i < n; i++)
		p->env[i] = strdup(env[i]);
	if (!p->cmd_buf || !p->env) {
		free(p->cmd_buf);
		free(p->env);
		free(p);
		return -ENOMEM;
	}
	p->command = p->cmd_buf;
	enqueue(ck, p);
	return 0;
}

void xlvs_probe_cancel(struct xlvs_probe *p)
{
	if (p)
		release(p);
}

unsigned int xlvs_checker_inflight(const struct xlvs_checker *ck)
{
	return ck->inflight;
}

unsigned int xlvs_checker_queued(const struct xlvs_checker *ck)
{
	return ck->queued;
}

int xlvs_checker_new(struct xlvs_checker **out, struct ev_loop *loop, unsigned int max_inflight)
{
	static bool curl_ready;
	struct xlvs_checker *ck;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT))
			return -ENOMEM;
		curl_ready = true;
	}
	ck = calloc(1, sizeof(*ck));
	if (!ck)
		return -ENOMEM;
	ck->loop = loop;
	ck->max_inflight = max_inflight ? max_inflight : XLVS_CHECKER_INFLIGHT_DEFAULT;
	ck->multi = curl_multi_init();
	if (!ck->multi) {
		free(ck);
		return -ENOMEM;
	}
	curl_multi_setopt(ck->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_fn);
	curl_multi_setopt(ck->multi, CURLMOPT_SOCKETDATA, ck);
	curl_multi_setopt(ck->multi, CURLMOPT_TIMERFUNCTION, curl_timer_fn);
	curl_multi_setopt(ck->multi, CURLMOPT_TIMERDATA, ck);
	ev_timer_init(&ck->curl_timer, curl_timer_cb, 0., 0.);
	ev_timer_init(&ck->kick, kick_cb, 0., 0.);
	srandom((unsigned int)now_ns() ^ (unsigned int)getpid());
	*out = ck;
	return 0;
}

void xlvs_checker_free(struct xlvs_checker *ck)
{
	struct reaper *r;

	if (!ck)
		return;
	while (ck->queue_head)
		release(ck->queue_head);
	while (ck->running)
		release(ck->running);
	ev_timer_stop(ck->loop, &ck->kick);
	ev_timer_stop(ck->loop, &ck->curl_timer);
	curl_multi_cleanup(ck->multi);
	while ((r = ck->reapers)) {
		ck->reapers = r->next;
		ev_io_stop(ck->loop, &r->io);
		waitpid(r->pid, NULL, 0); /* killed already */
		close(r->pidfd);
		free(r);
	}
	free(ck);
}
