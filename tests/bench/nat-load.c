// SPDX-License-Identifier: GPL-2.0
/*
 * nat-load: the workload of tests/bench/nat-vs-nft.sh, the same through either director.
 *
 *   nat-load serve -p PORT [-n NAME]
 *	TCP server (one thread, epoll): reads a request, answers "HTTP/1.0 200 OK" with NAME
 *	and closes. Runs on each real.
 *   nat-load tcp -d ADDR:PORT -s SRC[,SRC...] [-c CONC] [-t SECONDS]
 *	Short connections: CONC at a time, each connect, one request, the whole reply read to
 *	its end, then closed with a reset (SO_LINGER 0) so no TIME_WAIT or conntrack TIME_WAIT
 *	holds the client's ports; the next starts at once. Sources round-robin over SRC.
 *	A connection that takes longer than 2 s is abandoned and counted as failed.
 *   nat-load udp -d ADDR:PORT -s SRC[,SRC...] [-f FLOWS] [-t SECONDS] [-l BYTES]
 *	FLOWS connected UDP sockets (each its own source port: FLOWS flows), datagrams sent
 *	round-robin over them in sendmmsg batches as fast as the sender can; what arrives is
 *	counted by the receivers, not here.
 *
 * The last line of tcp and udp is one "key=value ..." line for the script, with cpu_s: the CPU
 * time this process used while measuring, which includes the softirq work its sends run inline
 * (a veth transmit processes the frame on the receiving side in the sender's context).
 * Exit codes: 0 done, 1 a socket error (or tcp: not one request completed), 2 bad arguments.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define EXIT_RUNTIME   1
#define EXIT_USAGE     2
#define MAX_SRCS       64
#define MAX_CONC       4096
#define MAX_FLOWS      4096
#define UDP_BATCH      32
#define CONN_TIMEOUT_S 2.0
#define REQUEST	       "GET / HTTP/1.0\r\n\r\n"
#define REPLY_START    "HTTP/1.0 200 OK\r\n"

static const char usage[] =
	"usage: nat-load serve -p PORT [-n NAME]\n"
	"       nat-load tcp -d ADDR:PORT -s SRC[,SRC...] [-c CONC] [-t SECONDS]\n"
	"       nat-load udp -d ADDR:PORT -s SRC[,SRC...] [-f FLOWS] [-t SECONDS] [-l BYTES]\n"
	"  IPv4 only. tcp: CONC concurrent short connections (default 64); udp: FLOWS sockets\n"
	"  (default 1024) of BYTES payload (default 64); both run SECONDS (default 10)\n";

struct opts {
	struct sockaddr_in dst;
	struct in_addr src[MAX_SRCS];
	unsigned int nr_src, conc, flows, payload, port;
	double seconds;
	const char *name;
};

static int bad(const char *what, const char *arg)
{
	fprintf(stderr, "nat-load: %s%s%s\n%s", what, arg ? ": " : "", arg ? arg : "", usage);
	return EXIT_USAGE;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds this process used (user + system); the softirq work our sends trigger runs in our
 * context (the kernel charges the tick to the current task), so it is included. */
static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned int *out)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

static int parse_dst(const char *s, struct sockaddr_in *sin)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strrchr(s, ':');
	unsigned int port;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1 || parse_uint(colon + 1, 1, 65535, &port))
		return -1;
	sin->sin_port = htons((uint16_t)port);
	return 0;
}

static int parse_srcs(const char *s, struct opts *o)
{
	char buf[64 * MAX_SRCS], *tok, *save = NULL;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->nr_src == MAX_SRCS || inet_pton(AF_INET, tok, &o->src[o->nr_src]) != 1)
			return -1;
		o->nr_src++;
	}
	return o->nr_src ? 0 : -1;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	unsigned int secs;
	bool have_dst = false;
	int c;

	while ((c = getopt(argc, argv, "d:s:c:f:t:l:p:n:h")) != -1) {
		switch (c) {
		case 'd':
			if (parse_dst(optarg, &o->dst))
				return bad("bad destination (want IPv4:PORT)", optarg);
			have_dst = true;
			break;
		case 's':
			if (parse_srcs(optarg, o))
				return bad("bad sources (want IPv4[,IPv4...], at most 64)", optarg);
			break;
		case 'c':
			if (parse_uint(optarg, 1, MAX_CONC, &o->conc))
				return bad("bad concurrency (want 1..4096)", optarg);
			break;
		case 'f':
			if (parse_uint(optarg, 1, MAX_FLOWS, &o->flows))
				return bad("bad flows (want 1..4096)", optarg);
			break;
		case 't':
			if (parse_uint(optarg, 1, 3600, &secs))
				return bad("bad seconds (want 1..3600)", optarg);
			o->seconds = secs;
			break;
		case 'l':
			if (parse_uint(optarg, 0, 1400, &o->payload))
				return bad("bad payload (want 0..1400)", optarg);
			break;
		case 'p':
			if (parse_uint(optarg, 1, 65535, &o->port))
				return bad("bad port (want 1..65535)", optarg);
			break;
		case 'n':
			o->name = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return bad("unexpected argument", argv[optind]);
	if (!strcmp(argv[0], "serve"))
		return o->port ? 0 : bad("serve needs -p", NULL);
	return have_dst && o->nr_src ? 0 : bad("tcp and udp need -d and -s", NULL);
}

/* ---- serve ------------------------------------------------------------------ */

static int listen_on(unsigned int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) || listen(fd, 4096)) {
		perror("nat-load serve: listen");
		return -1;
	}
	return fd;
}

/* The request is one small segment: the first read holds it; answer, close. */
static void answer(int fd, const char *reply, size_t len)
{
	char buf[512];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return; /* not yet: epoll says again */
	if (n > 0 && write(fd, reply, len) < 0)
		perror("nat-load serve: write");
	close(fd);
}

static int serve(const struct opts *o)
{
	struct epoll_event ev = { .events = EPOLLIN }, evs[256];
	char reply[256];
	int lfd = listen_on(o->port), efd = epoll_create1(0), n, i, cfd;
	size_t len;

	if (lfd < 0 || efd < 0)
		return EXIT_RUNTIME;
	len = (size_t)snprintf(reply, sizeof(reply), REPLY_START "Content-Length: %zu\r\n\r\n%s\n",
			       strlen(o->name) + 1, o->name);
	ev.data.fd = lfd;
	if (epoll_ctl(efd, EPOLL_CTL_ADD, lfd, &ev))
		return EXIT_RUNTIME;
	for (;;) {
		n = epoll_wait(efd, evs, 256, -1);
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd != lfd) {
				answer(evs[i].data.fd, reply, len); /* close() also leaves the epoll set */
				continue;
			}
			while ((cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
				ev.data.fd = cfd;
				if (epoll_ctl(efd, EPOLL_CTL_ADD, cfd, &ev))
					close(cfd);
			}
		}
		if (n < 0 && errno != EINTR) {
			perror("nat-load serve: epoll_wait");
			return EXIT_RUNTIME;
		}
	}
}

/* ---- tcp -------------------------------------------------------------------- */

struct conn {
	int fd;
	bool sent, reply_ok;
	double t0;
};

struct tcp_run {
	const struct opts *o;
	int efd;
	unsigned int next_src;
	uint64_t done, failed, connect_err;
	double lat_sum;
};

/* Closed with a reset: neither side nor any conntrack keeps the flow in TIME_WAIT. */
static void conn_close(struct conn *c)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c->fd);
	c->fd = -1;
}

static int conn_start(struct tcp_run *r, struct conn *c)
{
	struct sockaddr_in src = { .sin_family = AF_INET,
				   .sin_addr = r->o->src[r->next_src++ % r->o->nr_src] };
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0) {
		perror("nat-load tcp: socket");
		return -1;
	}
	/* the port is chosen at connect(), per destination: the sources' ports are not shared */
	setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	if (bind(c->fd, (struct sockaddr *)&src, sizeof(src))) {
		perror("nat-load tcp: bind");
		return -1;
	}
	c->sent = c->reply_ok = false;
	c->t0 = now_s();
	if (connect(c->fd, (const struct sockaddr *)&r->o->dst, sizeof(r->o->dst)) && errno != EINPROGRESS) {
		r->connect_err++; /* e.g. no free port: try again with the next source */
		conn_close(c);
		return 0;
	}
	if (epoll_ctl(r->efd, EPOLL_CTL_ADD, c->fd, &ev)) {
		perror("nat-load tcp: epoll_ctl");
		return -1;
	}
	return 0;
}

/* One event on c; returns 1 when the connection ended (well or not). */
static int conn_step(struct tcp_run *r, struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	char buf[512];
	ssize_t n;

	if (!c->sent) {
		if (events & (EPOLLERR | EPOLLHUP))
			return r->failed++, 1;
		if (write(c->fd, REQUEST, sizeof(REQUEST) - 1) != (ssize_t)sizeof(REQUEST) - 1 ||
		    epoll_ctl(r->efd, EPOLL_CTL_MOD, c->fd, &ev))
			return r->failed++, 1;
		c->sent = true;
		return 0;
	}
	while ((n = read(c->fd, buf, sizeof(buf))) > 0)
		if (!c->reply_ok)
			c->reply_ok = (size_t)n >= sizeof(REPLY_START) - 1 &&
				      !memcmp(buf, REPLY_START, sizeof(REPLY_START) - 1);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n == 0 && c->reply_ok) {
		r->done++;
		r->lat_sum += now_s() - c->t0;
	} else {
		r->failed++;
	}
	return 1;
}

/* Abandon connections that take too long (a lost SYN waits 1 s, then longer). */
static int reap_slow(struct tcp_run *r, struct conn *conns, double now, bool restart)
{
	unsigned int i;

	for (i = 0; i < r->o->conc; i++) {
		if (conns[i].fd < 0 || now - conns[i].t0 < CONN_TIMEOUT_S)
			continue;
		r->failed++;
		conn_close(&conns[i]);
		if (restart && conn_start(r, &conns[i]))
			return -1;
	}
	return 0;
}

static int tcp_load(const struct opts *o)
{
	struct tcp_run r = { .o = o, .efd = epoll_create1(0) };
	struct conn *conns = calloc(o->conc, sizeof(*conns));
	struct epoll_event evs[256];
	double t0 = now_s(), end = t0 + o->seconds, last_reap = t0, t, cpu0 = cpu_s();
	unsigned int i;
	int n;

	if (!conns || r.efd < 0)
		return EXIT_RUNTIME;
	for (i = 0; i < o->conc; i++)
		if (conn_start(&r, &conns[i]))
			return EXIT_RUNTIME;
	while ((t = now_s()) < end) {
		n = epoll_wait(r.efd, evs, 256, 50);
		for (i = 0; i < (unsigned int)(n > 0 ? n : 0); i++) {
			struct conn *c = evs[i].data.ptr;

			if (c->fd >= 0 && conn_step(&r, c, evs[i].events)) {
				conn_close(c);
				if (conn_start(&r, c))
					return EXIT_RUNTIME;
			}
		}
		if (t - last_reap > 0.1) {
			if (reap_slow(&r, conns, t, true))
				return EXIT_RUNTIME;
			last_reap = t;
		}
	}
	t = now_s() - t0;
	cpu0 = cpu_s() - cpu0;
	printf("tcp: %llu requests in %.2f s: %.0f req/s, %llu failed, %llu connect errors, mean %.0f us\n",
	       (unsigned long long)r.done, t, (double)r.done / t, (unsigned long long)r.failed,
	       (unsigned long long)r.connect_err, r.done ? r.lat_sum / (double)r.done * 1e6 : 0.0);
	printf("requests=%llu seconds=%.3f failed=%llu connect_errors=%llu mean_us=%.0f\n",
	       (unsigned long long)r.done, t, (unsigned long long)r.failed, (unsigned long long)r.connect_err,
	       r.done ? r.lat_sum / (double)r.done * 1e6 : 0.0);
	for (i = 0; i < o->conc; i++)
		if (conns[i].fd >= 0)
			conn_close(&conns[i]);
	free(conns);
	return r.done ? 0 : EXIT_RUNTIME;
}

/* ---- udp -------------------------------------------------------------------- */

static int udp_socket(const struct opts *o, unsigned int i)
{
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_addr = o->src[i % o->nr_src] };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&src, sizeof(src)) ||
	    connect(fd, (const struct sockaddr *)&o->dst, sizeof(o->dst))) {
		perror("nat-load udp: socket");
		return -1;
	}
	return fd;
}

static int udp_load(const struct opts *o)
{
	static char payload[1400];
	struct iovec iov = { .iov_base = payload, .iov_len = o->payload };
	struct mmsghdr msgs[UDP_BATCH];
	int *fds = calloc(o->flows, sizeof(*fds)), r;
	uint64_t sent = 0, errors = 0;
	double t0, t, cpu0;
	unsigned int i, k;

	if (!fds)
		return EXIT_RUNTIME;
	memset(payload, 'x', sizeof(payload));
	for (k = 0; k < UDP_BATCH; k++)
		msgs[k] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov, .msg_iovlen = 1 } };
	for (i = 0; i < o->flows; i++)
		if ((fds[i] = udp_socket(o, i)) < 0)
			return EXIT_RUNTIME;
	t0 = now_s();
	cpu0 = cpu_s();
	for (i = 0; (t = now_s()) - t0 < o->seconds; i = (i + 1) % o->flows) {
		r = sendmmsg(fds[i], msgs, UDP_BATCH, 0);
		if (r > 0)
			sent += (unsigned int)r;
		else if (errno == ENOBUFS || errno == EAGAIN || errno == ECONNREFUSED || errno == EINTR)
			errors++; /* ECONNREFUSED: an ICMP error came back for this socket's flow */
		else {
			perror("nat-load udp: sendmmsg");
			return EXIT_RUNTIME;
		}
	}
	t -= t0;
	cpu0 = cpu_s() - cpu0;
	printf("udp: sent %llu datagrams on %u flows in %.2f s: %.0f/s, %llu send errors\n",
	       (unsigned long long)sent, o->flows, t, (double)sent / t, (unsigned long long)errors);
	printf("sent=%llu seconds=%.3f flows=%u errors=%llu cpu_s=%.3f\n", (unsigned long long)sent, t,
	       o->flows, (unsigned long long)errors, cpu0);
	for (i = 0; i < o->flows; i++)
		close(fds[i]);
	free(fds);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .conc = 64, .flows = 1024, .payload = 64, .seconds = 10, .name = "real" };
	struct rlimit nofile;
	int rc;

	if (argc < 2)
		return bad("which mode?", NULL);
	/* a socket per flow or connection: up to 4096 of them */
	if (!getrlimit(RLIMIT_NOFILE, &nofile)) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	signal(SIGPIPE, SIG_IGN);
	rc = parse_args(argc - 1, argv + 1, &o);
	if (rc)
		return rc;
	if (!strcmp(argv[1], "serve"))
		return serve(&o);
	if (!strcmp(argv[1], "tcp"))
		return tcp_load(&o);
	if (!strcmp(argv[1], "udp"))
		return udp_load(&o);
	return bad("unknown mode (serve, tcp or udp)", argv[1]);
}
