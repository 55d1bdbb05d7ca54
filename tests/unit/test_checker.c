// SPDX-License-Identifier: GPL-2.0
/*
 * The health checkers (loader/health/checker.c) against servers each test starts:
 * a TCP listener, a small HTTP server, `openssl s_server` with a certificate
 * made by openssl at test time, a UDP echo server, dnsmasq, shell scripts.
 * Every test runs in a network namespace of its own (unshare), with only
 * loopback up: nothing it sends can leave the machine, and an address
 * outside 127/8 has no route. Needs root; a missing tool fails the test and
 * says which package brings it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "health/checker.h"
#include "xlvsmaps.h"

/* ---- the namespace and the loop -------------------------------------------------- */

static struct ev_loop *loop;
static struct xlvs_checker *ck;

static void lo_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	cr_assert_geq(fd, 0);
	strcpy(ifr.ifr_name, "lo");
	cr_assert_eq(ioctl(fd, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	cr_assert_eq(ioctl(fd, SIOCSIFFLAGS, &ifr), 0, "lo up: %s", strerror(errno));
	close(fd);
}

static void setup(void)
{
	cr_assert_eq(geteuid(), 0, "the checker tests need root (a network namespace, raw ICMP)");
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare(CLONE_NEWNET): %s", strerror(errno));
	lo_up();
	signal(SIGPIPE, SIG_IGN);
	loop = ev_loop_new(EVFLAG_AUTO);
	cr_assert_not_null(loop);
	cr_assert_eq(xlvs_checker_new(&ck, loop, 0), 0);
}

static void teardown(void)
{
	xlvs_checker_free(ck);
	ev_loop_destroy(loop);
}

TestSuite(checker, .init = setup, .fini = teardown, .timeout = 60);

struct got {
	int n;
	struct xlvs_probe_result r[64];
};

static void on_result(void *ctx, const struct xlvs_probe_result *r)
{
	struct got *g = ctx;

	if (g->n < 64)
		g->r[g->n] = *r;
	g->n++;
}

static void guard_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	ev_break(l, EVBREAK_ALL);
}

/* Run the loop until g has want results or seconds pass. */
static void run_until(struct got *g, int want, double seconds)
{
	ev_timer guard;

	ev_timer_init(&guard, guard_cb, seconds, 0.);
	ev_timer_start(loop, &guard);
	while (g->n < want && ev_is_active(&guard))
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &guard);
	cr_assert_geq(g->n, want, "%d of %d results within %.1f s", g->n, want, seconds);
}

static struct xlvs_check_spec spec_of(uint8_t type)
{
	struct xlvs_check_spec s;

	memset(&s, 0, sizeof(s));
	s.type = type;
	s.rise = s.fall = 1;
	s.interval_ms = 1000;
	s.timeout_ms = 500;
	strcpy(s.path, "/");
	s.qtype = 1;
	return s;
}

static struct xlvs_probe_target target(const char *addr, uint16_t port)
{
	struct xlvs_probe_target t;

	memset(&t, 0, sizeof(t));
	cr_assert_eq(xlvs_addr_parse(addr, &t.addr), 0, "%s", addr);
	t.real = t.addr;
	t.port = port;
	xlvs_addr_parse("198.18.0.10", &t.vip);
	t.vport = port;
	t.proto = IPPROTO_TCP;
	return t;
}

/* One probe, its result. */
static struct xlvs_probe_result probe1(const struct xlvs_check_spec *s, const char *addr, uint16_t port)
{
	struct xlvs_probe_target t = target(addr, port);
	struct got g = { 0 };

	cr_assert_eq(xlvs_probe_start(ck, s, &t, on_result, &g, NULL), 0);
	cr_assert_eq(g.n, 0, "a probe never reports from inside xlvs_probe_start()");
	run_until(&g, 1, s->timeout_ms / 1000.0 + 5);
	cr_assert_eq(g.n, 1, "exactly one result");
	return g.r[0];
}

/* ---- servers ------------------------------------------------------------------------ */

static int listener(int type, const char *addr, uint16_t *port)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int one = 1, fd, af = strchr(addr, ':') ? AF_INET6 : AF_INET;

	fd = socket(af, type | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (af == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;

		s->sin_family = AF_INET;
		inet_pton(AF_INET, addr, &s->sin_addr);
		len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

		s->sin6_family = AF_INET6;
		inet_pton(AF_INET6, addr, &s->sin6_addr);
		len = sizeof(*s);
	}
	cr_assert_eq(bind(fd, (struct sockaddr *)&ss, len), 0, "bind: %s", strerror(errno));
	if (type == SOCK_STREAM)
		cr_assert_eq(listen(fd, 128), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	*port = ntohs(af == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
				    : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

/* A port nothing listens on (bound, then closed). */
static uint16_t closed_port(int type)
{
	uint16_t port;

	close(listener(type, "127.0.0.1", &port));
	return port;
}

/* /big: 200,000 bytes, 'a' + (i * 7) % 26: three times the 64 KiB kept for `body`. */
#define BIG_LEN 200000
static char big_body[BIG_LEN + 1];

/*
 * The HTTP server: /ok 200 "all ok here", /teapot 418, /slow waits 3 s, /other and /host
 * other bodies, /big 200 with BIG_LEN bytes.
 */
static void *http_thread(void *arg)
{
	int lfd = (int)(long)arg, fd;
	char req[2048], resp[512];
	const char *status, *body;
	ssize_t n;

	for (n = 0; n < BIG_LEN; n++)
		big_body[n] = (char)('a' + (n * 7) % 26);
	while ((fd = accept(lfd, NULL, NULL)) >= 0) {
		n = recv(fd, req, sizeof(req) - 1, 0);
		req[n > 0 ? n : 0] = '\0';
		status = "200 OK";
		body = "all ok here\n";
		if (strstr(req, "GET /big ")) {
			snprintf(resp, sizeof(resp),
				 "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
				 "Connection: close\r\n\r\n",
				 BIG_LEN);
			send(fd, resp, strlen(resp), MSG_NOSIGNAL);
			for (n = 0; n < BIG_LEN;) {
				ssize_t w = send(fd, big_body + n, BIG_LEN - n, MSG_NOSIGNAL);

				if (w <= 0)
					break;
				n += w;
			}
			close(fd);
			continue;
		}
		if (strstr(req, "GET /teapot ")) {
			status = "418 I'm a teapot";
			body = "short and stout\n";
		} else if (strstr(req, "GET /slow ")) {
			sleep(3);
		} else if (strstr(req, "GET /other ")) {
			body = "something else\n";
		} else if (strstr(req, "GET /host ")) {
			body = strstr(req, "Host: health.test:") ? "host seen\n" : "no host\n";
		}
		snprintf(resp, sizeof(resp),
			 "HTTP/1.1 %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s", status,
			 strlen(body), body);
		send(fd, resp, strlen(resp), MSG_NOSIGNAL);
		close(fd);
	}
	return NULL;
}

static uint16_t start_http_at(const char *addr)
{
	pthread_t th;
	uint16_t port;
	int fd = listener(SOCK_STREAM, addr, &port);

	cr_assert_eq(pthread_create(&th, NULL, http_thread, (void *)(long)fd), 0);
	pthread_detach(th);
	return port;
}

static uint16_t start_http(void)
{
	return start_http_at("127.0.0.1");
}

/*
 * A listener on addr:port that never accepts: whoever connects to it waits in
 * its backlog, where connections_to() counts (and drops) them.
 */
static int trap_at(const char *addr, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert_eq(inet_pton(AF_INET, addr, &sin.sin_addr), 1, "%s", addr);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0, "bind %s:%u: %s", addr, port,
		     strerror(errno));
	cr_assert_eq(listen(fd, 128), 0);
	return fd;
}

static int connections_to(int trap)
{
	int n = 0, c;

	while ((c = accept4(trap, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0 || errno == EINTR) {
		if (c >= 0) {
			close(c);
			n++;
		}
	}
	cr_assert(errno == EAGAIN || errno == EWOULDBLOCK, "accept: %s", strerror(errno));
	return n;
}

static void *udp_echo_thread(void *arg)
{
	int fd = (int)(long)arg;
	struct sockaddr_storage from;
	socklen_t len;
	char buf[2048];
	ssize_t n;

	for (;;) {
		len = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
		if (n < 0)
			return NULL;
		sendto(fd, buf, n, 0, (struct sockaddr *)&from, len);
	}
}

static uint16_t start_udp_echo(const char *addr)
{
	pthread_t th;
	uint16_t port;
	int fd = listener(SOCK_DGRAM, addr, &port);

	cr_assert_eq(pthread_create(&th, NULL, udp_echo_thread, (void *)(long)fd), 0);
	pthread_detach(th);
	return port;
}

static void need_tool(const char *tool, const char *package)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	cr_assert_eq(system(cmd), 0, "%s not found: install the Debian package %s (make deps)", tool,
		     package);
}

static pid_t spawn(char *const argv[])
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (!pid) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static void wait_tcp(uint16_t port, pid_t child, const char *what)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int i, fd, status;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < 100; i++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (!connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
			close(fd);
			return;
		}
		close(fd);
		cr_assert_eq(waitpid(child, &status, WNOHANG), 0, "%s exited early (status %d)", what,
			     status);
		usleep(50000);
	}
	cr_assert_fail("%s does not listen on port %u after 5 s", what, port);
}

static char tmpdir[64];

static void make_tmpdir(void)
{
	strcpy(tmpdir, "/tmp/xlvs-checker-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void rm_tmpdir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

/* ---- tcp ---------------------------------------------------------------------------- */

Test(checker, tcp_up_and_refused)
{
	struct xlvs_check_spec s = spec_of(XLVS_CHECK_TCP);
	struct xlvs_probe_result r;
	uint16_t port;
	int fd = listener(SOCK_STREAM, "127.0.0.1", &port);

	r = probe1(&s, "127.0.0.1", port);
	cr_assert(r.ok, "listener: %s", r.msg);
	cr_assert_lt(r.latency_us, 500000);
	r = probe1(&s, "127.0.0.1", closed_port(SOCK_STREAM));
	cr_assert(!r.ok);
	cr_assert(strstr(r.msg, "refused"), "msg: %s", r.msg);
	close(fd);
}

Test(checker, tcp_ipv6)
{
	struct xlvs_check_spec s = spec_of(XLVS_CHECK_TCP);
	struct xlvs_probe_result r;
	uint16_t port;
	int fd = listener(SOCK_STREAM, "::1", &port);

	r = probe1(&s, "::1", port);
	cr_assert(r.ok, "%s", r.msg);
	close(fd);
}

Test(checker, tcp_unreachable_and_timeout)
{
	struct xlvs_check_spec s = spec_of(XLVS_CHECK_TCP);
	struct xlvs_probe_result r;
	uint16_t port;
	int fd, i, conns[4];

	/* no route in this namespace: fails at once */
	r = probe1(&s, "198.18.0.1", 80);
	cr_assert(!r.ok);
	cr_assert(strstr(r.msg, "unreachable"), "msg: %s", r.msg);
	/* a full backlog (0) that never accepts: the SYN is dropped, the timeout says down */
	fd = listener(SOCK_STREAM, "127.0.0.1", &port);
	listen(fd, 0);
	for (i = 0; i < 4; i++) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };

		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		conns[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(conns[i], (struct sockaddr *)&sin, sizeof(sin));
	}
	usleep(100000);
	s.timeout_ms = 300;
	r = probe1(&s, "127.0.0.1", port);
	cr_assert(!r.ok, "a listener that never accepts is not up");
	cr_assert(strstr(r.msg, "timeout"), "msg: %s", r.msg);
	cr_assert_geq(r.latency_us, 290000);
	for (i = 0; i < 4; i++)
		close(conns[i]);
	close(fd);
}

/* ---- http, https ------------------------------------------------------------------------ */

Test(checker, http_status_body_and_host)
{
	struct xlvs_check_spec s = spec_of(XLVS_CHECK_HTTP);
	struct xlvs_probe_result r;
	uint16_t port = start_http();

	strcpy(s.path, "/ok");
	r = probe1(&s, "127.0.0.1", port);
	cr_assert(r.ok, "%s", r.msg);
	cr_assert_str_eq(r.msg, "status 200");

	strcpy(s.path, "/teapot");
	r = probe1(&s, "127.0.0.1", port);
	cr_assert(!r.ok, "418 is not in 200-299");
	cr_assert_str_eq(r.msg, "status 418");
	s.nr_codes = 1;
	s.code_lo[0] = 400;
	s.code_hi[0] = 499;
	r = probe1(&s, "127.0.0.1", port);
	cr_assert(r.ok, "418 in expect 400-499: %s", r.msg);

	s.nr_codes = 0;
	strcpy(s.path, "/ok");
	strcpy(s.match, "all ok");
	r = probe1(&s, "127.0.0.1", port);
	cr_assert(r.ok, "%s", r.msg);
	strcpy(s.path, "/other");
	r = probe1(&s, "127.0.0.1", port);
	cr_assert(!r.ok);
	cr_assert(strstr(r.msg, "body without"), "msg: %s", r.msg);

	s.match[0] = '\0';
	strcpy(s.path, "/host");
	strcpy(s.host, "health.test");
	strcpy(s.match, "host seen");
	r = probe1(&s, "127.0.0.1", port);
	cr_assert(r.ok, "Host header sent: %s", r.msg);
}

/*
 * A proxy in the daemon's environment is not used: the check tests the real,
 * not the proxy (issue 10, defect 4). The "proxy" is a listener that never
 * answers; whatever connects to it is counted.
 */
Test(checker, http_ignores_proxy_environment)
{
	static const char *const vars[] = { "http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy",
					    "ALL_PROXY" };
	struct xlvs_check_spec s = spec_of(XLVS_CHECK_HTTP);
	struct xlvs_probe_result r;
	uint16_t port = start_http(), pport;
	int proxy = listener(SOCK_STREAM, "127.0.0.1", &pport), n;
	char url[64];
	size_t i;

	fcntl(proxy, F_SETFL, O_NONBLOCK);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", pport);
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		cr_assert_eq(setenv(vars[i], url, 1), 0);
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");

	strcpy(s.path, "/ok");
	r = probe1(&s, "127.0.0.1", port);
	n = connections_to(proxy);
	cr_expect_eq(n, 0, "http: the proxy of the environment got %d connections", n);
	cr_assert(r.ok, "http through no proxy: %s", r.msg);
	/* https too: nothing listens at the real's port, so it is down, and not at the proxy */
	s = spec_of(XLVS_CHECK_HTTPS);
	s.timeout_ms = 1000;
	r = probe1(&s, "127.0.0.1", closed_port(SOCK_STREAM));
	n = connections_to(proxy);
	cr_expect_eq(n, 0, "https: the proxy of the environment got %d connections", n);
	cr_assert(!r.ok);
	cr_assert(strstr(r.msg, "onnect"), "msg: %s", r.msg);
	close(proxy);
}

/*
 * Whatever `host` puts in the URL, the connection goes to the real's address
 * and port (issue 10, defect 4: `host: "x@198.18.0.2"` made curl connect to
 * 198.18.0.2). A trap on 127.0.0.2 at the same port counts who went there;
 * the real (127.0.0.1) answers. The parser refuses such a host too; this is
 * the checker's own guarantee.
 */
Test(checker, http_connects_to_the_real_whatever_the_url)
{
	struct xlvs_check_spec s = spec_of(XLVS_CHECK_HTTP);
	struct xlvs_probe_result r;
	uint16_t port = start_http(), port6;
	int trap = trap_at("127.0.0.2", port), n;
	char hosts[4][64];
	size_t i;

	fcntl(trap, F_SETFL, O_NONBLOCK);
	snprintf(hosts[0], sizeof(hosts[0]), "x@127.0.0.2");
	snprintf(hosts[1], sizeof(hosts[1]), "127.0.0.2");
	snprintf(hosts[2], sizeof(hosts[2]), "127.0.0.2:%u", port);
	snprintf(hosts[3], sizeof(hosts[3]), "x@127.0.0.2:%u", port);
	strcpy(s.path, "/ok");
	for (i = 0; i < 4; i++) {
		strcpy(s.host, hosts[i]);
		r = probe1(&s, "127.0.0.1", port);
		n = connections_to(trap);
		cr_expect_eq(n, 0, "host \"%s\": %d connections to 127.0.0.2", hosts[i], n);
		cr_expect(r.ok, "host \"%s\": the real answers: %s", hosts[i], r.msg);
	}
	/* a host with its own port keeps it in the Host header; the connection keeps the real's */
	strcpy(s.path, "/host");
	strcpy(s.host, "health.test:8080");
	strcpy(s.match, "host seen");
	r = probe1(&s, "127.0.0.1", port);
	cr_assert(r.ok, "Host: health.test:8080: %s", r.msg);
	/* an IPv6 real behind a host name */
	port6 = start_http_at("::1");
	strcpy(s.host, "health.test");
	r = probe1(&s, "::1", port6);
	cr_assert(r.ok, "IPv6 real with a host: %s", r.msg);
	close(trap);
}

static void set_digest(struct xlvs_check_spec *s, uint8_t alg, const char *hex)
{
	size_t i, n = strlen(hex) / 2;
	unsigned int x;

	s->digest_alg = alg;
	memset(s->digest, 0, sizeof(s->digest));
	for (i = 0; i < n; i++) {
		cr_assert_eq(sscanf(hex + 2 * i, "%2x", &x), 1);
		s->digest[i] = (uint8_t)x;
	}
}

/* Expected values from Python's hashlib (md5sum / sha256sum of the same bytes). */
Test(checker, http_body_digest)
{
	struct xlvs_check_spec s = spec_of(XLVS_CHECK_HTTP);
	struct xlvs_probe_result r;
	uint16_t port = start_http();

	s.timeout_ms = 2000;
	strcpy(s.path, "/ok");
	set_digest(&s, XLVS_DIGEST_MD5, "d78ac63f04ad56b349e62135648044cc");
	r = probe1(&s, "127.0.0.1", port);
	cr_assert(r.ok, "md5 of \"all ok here\\n\": %s", r.msg);
	cr_assert_str_eq(r.msg, "status 200, body md5 matches");
	set_digest(&s, XLVS_DIGEST_SHA256,
		   "2fd2bf770bf2877541238173ed2951a450e843ecc4673b1cbed56dfdded68890");
	r = probe1(&s, "127.0.0.1", port);
	cr_assert(r.ok, "sha256: %s", r.msg);

	strcpy(s.path, "/other");
	r = probe1(&s, "127.0.0.1", port);
	cr_assert(!r.ok, "another body is down");
	cr_assert_str_eq(r.msg, "status 200, body sha256 "
				"a1621be95040239ee14362c16e20510ddc20f527d772d823b2a1679b33f5cd74"
				" is not the expected digest");

	/* the whole 200,000 bytes, not the 64 KiB prefix kept for `body` */
	strcpy(s.path, "/big");
	set_digest(&s, XLVS_DIGEST_SHA256,
		   "f71da097a769f09d8385a1ea951cdc9d0e2a952278f47cbe099e6a403c748704");
	r = probe1(&s, "127.0.0.1", port);
	cr_assert(r.ok, "digest of the whole big body: %s", r.msg);
	set_digest(&s, XLVS_DIGEST_MD5, "6e902ec5b05f1cb94eb4e6e269f0e970");
	r = probe1(&s, "127.0.0.1", port);
	cr_assert(r.ok, "md5 of the whole big body: %s", r.msg);
	set_digest(&s, XLVS_DIGEST_SHA256,
		   "9dcd28b81396f26a6a2ad423dcd48149804861f8f89e79ab67ff9691e8bde10e");
	r = probe1(&s, "127.0.0.1", port);
	cr_assert(!r.ok, "the digest of the first 64 KiB only is not the body's");
	cr_assert(strstr(r.msg, "body sha256 f71da097a769f09d"), "msg: %s", r.msg);

	/* a wrong status is down before any digest */
	strcpy(s.path, "/teapot");
	r = probe1(&s, "127.0.0.1", port);
	cr_assert(!r.ok);
	cr_assert_str_eq(r.msg, "status 418");
}

Test(checker, http_timeout_and_refused)
{
	struct xlvs_check_spec s = spec_of(XLVS_CHECK_HTTP);
	struct xlvs_probe_result r;
	uint16_t port = start_http();

	strcpy(s.path, "/slow");
	s.timeout_ms = 300;
	r = probe1(&s, "127.0.0.1", port);
	cr_assert(!r.ok);
	cr_assert_lt(r.latency_us, 1500000, "a slow server is cut at the timeout");
	r = probe1(&s, "127.0.0.1", closed_port(SOCK_STREAM));
	cr_assert(!r.ok);
	cr_assert(strstr(r.msg, "onnect"), "msg: %s", r.msg);
}

Test(checker, https_self_signed)
{
	struct xlvs_check_spec s = spec_of(XLVS_CHECK_HTTPS);
	struct xlvs_probe_result r;
	char cmd[512], cert[128], key[128], acc[32];
	uint16_t port;
	pid_t srv;
	int status;

	need_tool("openssl", "openssl");
	make_tmpdir();
	snprintf(cert, sizeof(cert), "%s/cert.pem", tmpdir);
	snprintf(key, sizeof(key), "%s/key.pem", tmpdir);
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=health.test "
		 "-keyout %s -out %s >/dev/null 2>&1",
		 key, cert);
	cr_assert_eq(system(cmd), 0, "openssl could not make a certificate");
	port = closed_port(SOCK_STREAM);
	snprintf(acc, sizeof(acc), "127.0.0.1:%u", port);
	srv = spawn((char *[]){ "openssl", "s_server", "-accept", acc, "-cert", cert, "-key", key, "-www",
				"-quiet", NULL });
	wait_tcp(port, srv, "openssl s_server");

	s.timeout_ms = 2000;
	r = probe1(&s, "127.0.0.1", port);
	cr_assert(r.ok, "https without verification: %s", r.msg);
	strcpy(s.match, "s_server");
	r = probe1(&s, "127.0.0.1", port);
	cr_assert(r.ok, "the -www page names s_server: %s", r.msg);
	s.match[0] = '\0';
	set_digest(&s, XLVS_DIGEST_MD5, "00000000000000000000000000000000");
	r = probe1(&s, "127.0.0.1", port);
	cr_assert(!r.ok, "https with a wrong digest is down");
	cr_assert(strstr(r.msg, "status 200, body md5 ") && strstr(r.msg, " is not the expected digest"),
		  "msg: %s", r.msg);
	s.digest_alg = XLVS_DIGEST_NONE;
	s.tls_verify = true;
	strcpy(s.host, "health.test");
	r = probe1(&s, "127.0.0.1", port);
	cr_assert(!r.ok, "a self-signed certificate does not verify");
	cr_assert(strstr(r.msg, "certificate") || strstr(r.msg, "SSL"), "msg: %s", r.msg);
	/* plain HTTP to a TLS port is down too */
	s = spec_of(XLVS_CHECK_HTTP);
	r = probe1(&s, "127.0.0.1", port);
	cr_assert(!r.ok, "http to https: %s", r.msg);
	kill(srv, SIGTERM);
	waitpid(srv, &status, 0);
	rm_tmpdir();
}

/* ---- udp ------------------------------------------------------------------------------ */

Test(checker, udp_echo_reply_and_port_unreachable)
{
	struct xlvs_check_spec s = spec_of(XLVS_CHECK_UDP);
	struct xlvs_probe_result r;
	uint16_t port = start_udp_echo("127.0.0.1"), port6 = start_udp_echo("::1");

	strcpy(s.payload, "ping pong");
	r = probe1(&s, "127.0.0.1", port);
	cr_assert(r.ok, "%s", r.msg);
	strcpy(s.match, "pong");
	r = probe1(&s, "::1", port6);
	cr_assert(r.ok, "%s", r.msg);
	strcpy(s.match, "nope");
	r = probe1(&s, "127.0.0.1", port);
	cr_assert(!r.ok, "reply without the expected text");
	s.match[0] = '\0';
	s.timeout_ms = 900;
	r = probe1(&s, "127.0.0.1", closed_port(SOCK_DGRAM));
	cr_assert(!r.ok);
	cr_assert_str_eq(r.msg, "port unreachable");
	cr_assert_lt(r.latency_us, 500000, "ICMP says down before the timeout (%u us)", r.latency_us);
}

Test(checker, udp_silence_is_down)
{
	struct xlvs_check_spec s = spec_of(XLVS_CHECK_UDP);
	struct xlvs_probe_result r;
	uint16_t port;
	int fd = listener(SOCK_DGRAM, "127.0.0.1", &port); /* bound, never answers */

	s.timeout_ms = 200;
	r = probe1(&s, "127.0.0.1", port);
	cr_assert(!r.ok);
	cr_assert(strstr(r.msg, "timeout"), "msg: %s", r.msg);
	close(fd);
}

/* ---- dns ------------------------------------------------------------------------------ */

Test(checker, dns_with_dnsmasq)
{
	struct xlvs_check_spec s = spec_of(XLVS_CHECK_DNS);
	struct xlvs_probe_result r;
	char portarg[32];
	uint16_t port;
	pid_t srv;
	int status, i;

	need_tool("dnsmasq", "dnsmasq-base");
	port = closed_port(SOCK_DGRAM);
	snprintf(portarg, sizeof(portarg), "--port=%u", port);
	srv = spawn((char *[]){ "dnsmasq", "-k", "--conf-file=/dev/null", portarg,
				"--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv",
				"--no-hosts", "--pid-file=", "--user=root",
				"--address=/health.test/198.18.5.5", NULL });
	strcpy(s.qname, "www.health.test");
	s.timeout_ms = 300;
	/* dnsmasq needs a moment: retry until it answers */
	for (i = 0; i < 30; i++) {
		r = probe1(&s, "127.0.0.1", port);
		if (r.ok)
			break;
		cr_assert_eq(waitpid(srv, &status, WNOHANG), 0, "dnsmasq exited (status %d)", status);
		usleep(100000);
	}
	cr_assert(r.ok, "A www.health.test: %s", r.msg);
	cr_assert(strstr(r.msg, "answer"), "msg: %s", r.msg);
	s.qtype = 28; /* AAAA: no data for an IPv4-only address= */
	r = probe1(&s, "127.0.0.1", port);
	cr_assert(!r.ok, "AAAA has no answer: %s", r.msg);
	s.qtype = 1;
	strcpy(s.qname, "elsewhere.test"); /* no upstream: refused */
	r = probe1(&s, "127.0.0.1", port);
	cr_assert(!r.ok, "elsewhere.test: %s", r.msg);
	kill(srv, SIGTERM);
	waitpid(srv, &status, 0);
	r = probe1(&s, "127.0.0.1", port);
	cr_assert(!r.ok, "dnsmasq gone");
	cr_assert_str_eq(r.msg, "port unreachable");
}

/* ---- icmp ----------------------------------------------------------------------------- */

Test(checker, icmp_echo)
{
	struct xlvs_check_spec s = spec_of(XLVS_CHECK_ICMP);
	struct xlvs_probe_result r;

	r = probe1(&s, "127.0.0.1", 0);
	cr_assert(r.ok, "ping 127.0.0.1: %s", r.msg);
	r = probe1(&s, "::1", 0);
	cr_assert(r.ok, "ping ::1: %s", r.msg);
	r = probe1(&s, "198.18.0.1", 0);
	cr_assert(!r.ok, "no route: %s", r.msg);
}

/* ---- exec ----------------------------------------------------------------------------- */

/* Running (not gone, not a zombie waiting for its new parent to reap it). */
static bool alive(int pid)
{
	char path[64], state = '?';
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
		state = '?';
	fclose(f);
	return state != 'Z' && state != 'X';
}

Test(checker, exec_status_env_and_timeout)
{
	struct xlvs_check_spec s = spec_of(XLVS_CHECK_EXEC);
	struct xlvs_probe_result r;
	char pidfile[128];
	FILE *f;
	int pid = 0;

	strcpy(s.command, "exit 0");
	r = probe1(&s, "198.18.1.11", 80);
	cr_assert(r.ok, "%s", r.msg);
	strcpy(s.command, "exit 3");
	r = probe1(&s, "198.18.1.11", 80);
	cr_assert(!r.ok);
	cr_assert_str_eq(r.msg, "exit 3");
	strcpy(s.command, "test \"$XLVS_REAL:$XLVS_PORT:$XLVS_VIP:$XLVS_PROTOCOL\" = "
			  "198.18.1.11:80:198.18.0.10:tcp");
	r = probe1(&s, "198.18.1.11", 80);
	cr_assert(r.ok, "environment: %s", r.msg);
	/* a script that outlives its timeout is killed with its children */
	make_tmpdir();
	snprintf(pidfile, sizeof(pidfile), "%s/pid", tmpdir);
	snprintf(s.command, sizeof(s.command), "sleep 30 & echo $! > %s; wait", pidfile);
	s.timeout_ms = 300;
	r = probe1(&s, "198.18.1.11", 80);
	cr_assert(!r.ok);
	cr_assert(strstr(r.msg, "timeout"), "msg: %s", r.msg);
	f = fopen(pidfile, "r");
	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%d", &pid), 1);
	fclose(f);
	usleep(200000);
	cr_assert(!alive(pid), "the script's child %d was killed", pid);
	rm_tmpdir();
}

static void read_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/*
 * An exec check sees stdin, stdout and stderr, nothing else of the daemon
 * (issue 10, defect 8: libcurl's socketpair had no close-on-exec). The test
 * holds a descriptor without O_CLOEXEC, as libcurl does, and the script lists
 * its shell's descriptors.
 */
Test(checker, exec_sees_only_stdio)
{
	struct xlvs_check_spec s = spec_of(XLVS_CHECK_EXEC);
	struct xlvs_probe_result r;
	char file[128], fds[256];
	int leak = open("/dev/null", O_RDONLY); /* no O_CLOEXEC */
	int sv[2];

	cr_assert_geq(leak, 3);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	make_tmpdir();
	snprintf(file, sizeof(file), "%s/fds", tmpdir);
	/*
	 * `exec >FILE`: a redirection of ls alone would have dash save stdout on
	 * a descriptor of its own; ls not last: dash would exec it in the shell's place
	 */
	snprintf(s.command, sizeof(s.command), "exec >%s; ls /proc/$$/fd; exit 0", file);
	s.timeout_ms = 2000;
	r = probe1(&s, "198.18.1.11", 80);
	cr_assert(r.ok, "%s", r.msg);
	read_file(file, fds, sizeof(fds));
	for (char *c = fds; *c; c++)
		if (*c == '\n')
			*c = ' ';
	cr_assert_str_eq(fds, "0 1 2 ", "the check's shell has descriptors %s", fds);
	close(leak);
	close(sv[0]);
	close(sv[1]);
	rm_tmpdir();
}

/*
 * A check that leaves a child behind: the child ends with the check, not one
 * orphan more per interval (issue 10, defect 8).
 */
Test(checker, exec_background_child_ends_with_the_check)
{
	struct xlvs_check_spec s = spec_of(XLVS_CHECK_EXEC);
	struct xlvs_probe_result r;
	char pidfile[128], buf[32];
	int pid = 0, i;

	make_tmpdir();
	snprintf(pidfile, sizeof(pidfile), "%s/pid", tmpdir);
	snprintf(s.command, sizeof(s.command), "sleep 30 & echo $! > %s; exit 0", pidfile);
	s.timeout_ms = 2000;
	r = probe1(&s, "198.18.1.11", 80);
	cr_assert(r.ok, "%s", r.msg);
	read_file(pidfile, buf, sizeof(buf));
	cr_assert_eq(sscanf(buf, "%d", &pid), 1);
	cr_assert_gt(pid, 1);
	for (i = 0; i < 50 && alive(pid); i++)
		usleep(20000);
	if (alive(pid))
		kill(pid, SIGKILL);
	cr_assert(i < 50, "the check's background child %d outlived it by a second", pid);
	rm_tmpdir();
}

Test(checker, run_command_for_notify)
{
	char *env[] = { "XLVS_EVENT=down", NULL };
	struct got g = { 0 };
	char file[128], buf[32] = "";
	char cmd[256];
	FILE *f;

	make_tmpdir();
	snprintf(file, sizeof(file), "%s/out", tmpdir);
	snprintf(cmd, sizeof(cmd), "echo $XLVS_EVENT > %s", file);
	cr_assert_eq(xlvs_run_command(ck, cmd, env, 2000, on_result, &g), 0);
	run_until(&g, 1, 5);
	cr_assert(g.r[0].ok, "%s", g.r[0].msg);
	f = fopen(file, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	cr_assert_str_eq(buf, "down\n");
	rm_tmpdir();
}

/* ---- scheduling ------------------------------------------------------------------------- */

static unsigned int max_seen;

static void count_inflight(void *ctx, const struct xlvs_probe_result *r)
{
	unsigned int n = xlvs_checker_inflight(ck) + 1; /* this one is already out */

	if (n > max_seen)
		max_seen = n;
	on_result(ctx, r);
}

Test(checker, bounded_concurrency_and_cancel)
{
	struct xlvs_check_spec s = spec_of(XLVS_CHECK_EXEC);
	struct xlvs_probe_target t = target("198.18.1.11", 80);
	struct xlvs_probe *p;
	struct got g = { 0 };
	int i, ok = 0;

	xlvs_checker_free(ck);
	cr_assert_eq(xlvs_checker_new(&ck, loop, 4), 0);
	strcpy(s.command, "sleep 0.05");
	s.timeout_ms = 5000;
	for (i = 0; i < 20; i++)
		cr_assert_eq(xlvs_probe_start(ck, &s, &t, count_inflight, &g, NULL), 0);
	cr_assert_eq(xlvs_checker_queued(ck), 20);
	cr_assert_eq(xlvs_probe_start(ck, &s, &t, count_inflight, &g, &p), 0);
	xlvs_probe_cancel(p);
	run_until(&g, 20, 20);
	for (i = 0; i < 20; i++)
		ok += g.r[i].ok;
	cr_assert_eq(ok, 20);
	cr_assert_leq(max_seen, 4, "at most 4 in flight, saw %u", max_seen);
	cr_assert_eq(max_seen, 4, "the limit is used");
	cr_assert_eq(g.n, 20, "the cancelled probe never reports");
	cr_assert_eq(xlvs_checker_inflight(ck) + xlvs_checker_queued(ck), 0);
}
