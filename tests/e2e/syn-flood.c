// SPDX-License-Identifier: GPL-2.0
/*
 * syn-flood: send N TCP SYNs of distinct new flows to VIP:PORT as fast as one core can, or at a
 * given rate, for the e2e flood scenarios (docs/reliability.md). Frames go out of an AF_PACKET
 * socket with sendmmsg, past the qdisc; the source (address, port) pair of SYN i is
 *   address = first address of SRC/PREFIX + i / ports, port = LO + i % ports,
 * so no two SYNs share a flow. Prints "sent N SYNs in S s: R SYNs/s".
 * With -r PPS, SYN i is due i / PPS s after SYN 0 (an absolute schedule: a wake-up up to 1 ms
 * late is caught up): frames go in slices of about 100 us, at most -b of them, and the sender
 * sleeps (CLOCK_MONOTONIC) until each slice is due; more than 1 ms behind, it moves the schedule
 * on (a "schedule slip") rather than send the backlog in a burst. Unpaced, the sender outruns the
 * veth and bridge queues of the e2e topology, which then drop a share of the SYNs.
 * Exit codes: 0 sent them all, 1 a socket error, 2 bad arguments.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pktgen.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE   2
#define BATCH_MAX    1024
#define FRAME_MAX    128 /* Ethernet + IPv6 + TCP fits */
#define NS_PER_S     1000000000ull
/*
 * -r: at most 100M SYNs/s (far above what one core sends), in slices 100 us apart; a sender more
 * than 1 ms behind its schedule does not catch up.
 */
#define RATE_MAX     100000000ull
#define SLICES_PER_S 10000
#define LAG_MAX_NS   1000000ull

struct flood {
	const char *dev;
	uint8_t gw_mac[6], our_mac[6];
	uint8_t family; /* 4 or 6 */
	uint8_t src[16], dst[16];
	uint64_t nr_src; /* addresses in SRC/PREFIX, at most 2^32 */
	uint16_t port_lo, port_hi, dport;
	uint64_t count;
	uint64_t rate; /* SYNs per second, 0: as fast as possible */
	unsigned int batch;
};

/* retries: sendmmsg found the device queue full; slips: paced, the sender was LAG_MAX_NS behind */
struct tally {
	uint64_t retries, slips;
};

static const char usage[] =
	"usage: syn-flood -i IFACE -m NEXT-HOP-MAC -d VIP:PORT|[VIP6]:PORT -s SRC/PREFIX\n"
	"                 [-p LO-HI] [-n COUNT] [-b BATCH] [-r PPS]\n"
	"  -i  interface to send on (AF_PACKET, needs CAP_NET_RAW)\n"
	"  -m  destination MAC of the frames (the director's, or the router in front of it)\n"
	"  -d  the service; IPv6 in brackets\n"
	"  -s  source addresses: PREFIX bits fixed, the rest counted up from SRC (same family as -d)\n"
	"  -p  source ports (default 1024-65535)\n"
	"  -n  SYNs to send, each a new flow (default 1000000)\n"
	"  -b  frames per sendmmsg (1..1024, default 256)\n"
	"  -r  SYNs per second (0..100000000; default 0: as fast as possible), paced in slices\n"
	"      of about 100 us (at most BATCH frames each) on CLOCK_MONOTONIC; a sender more\n"
	"      than 1 ms behind does not catch up (the rate is then lower: see the last line)\n";

static int bad(const char *what, const char *arg)
{
	if (arg)
		fprintf(stderr, "syn-flood: %s: '%s'\n%s", what, arg, usage);
	else
		fprintf(stderr, "syn-flood: %s\n%s", what, usage);
	return EXIT_USAGE;
}

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;
	int i;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

/* "198.18.1.10:80" or "[2001:db8:1::10]:80" */
static int parse_service(const char *s, struct flood *f)
{
	char host[64];
	const char *colon;
	uint64_t port;
	size_t n;

	if (s[0] == '[') {
		colon = strstr(s, "]:");
		f->family = 6;
		s++;
	} else {
		colon = strrchr(s, ':');
		f->family = 4;
	}
	if (!colon || (n = (size_t)(colon - s)) >= sizeof(host))
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(f->family == 4 ? AF_INET : AF_INET6, host, f->dst) != 1)
		return -1;
	if (parse_u64(colon + (f->family == 6 ? 2 : 1), 1, 65535, &port))
		return -1;
	f->dport = (uint16_t)port;
	return 0;
}

/* SRC/PREFIX of the service's family; the host part counts up from SRC, at most 2^32 addresses. */
static int parse_sources(const char *s, struct flood *f)
{
	unsigned int bits = f->family == 4 ? 32 : 128;
	char host[64];
	const char *slash = strchr(s, '/');
	uint64_t prefix;
	size_t n;

	if (!slash || (n = (size_t)(slash - s)) >= sizeof(host))
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(f->family == 4 ? AF_INET : AF_INET6, host, f->src) != 1 ||
	    parse_u64(slash + 1, 0, bits, &prefix))
		return -1;
	f->nr_src = bits - prefix >= 32 ? 1ull << 32 : 1ull << (bits - prefix);
	return 0;
}

static int parse_ports(const char *s, struct flood *f)
{
	char lo[8];
	const char *dash = strchr(s, '-');
	uint64_t a, b;
	size_t n;

	if (!dash || (n = (size_t)(dash - s)) >= sizeof(lo))
		return -1;
	memcpy(lo, s, n);
	lo[n] = '\0';
	if (parse_u64(lo, 1, 65535, &a) || parse_u64(dash + 1, a, 65535, &b))
		return -1;
	f->port_lo = (uint16_t)a;
	f->port_hi = (uint16_t)b;
	return 0;
}

static int parse_args(int argc, char **argv, struct flood *f)
{
	const char *svc = NULL, *src = NULL;
	uint64_t v, ports;
	bool mac = false;
	int c;

	while ((c = getopt(argc, argv, "i:m:d:s:p:n:b:r:h")) != -1) {
		switch (c) {
		case 'i':
			f->dev = optarg;
			break;
		case 'm':
			if (parse_mac(optarg, f->gw_mac))
				return bad("bad MAC (want aa:bb:cc:dd:ee:ff)", optarg);
			mac = true;
			break;
		case 'd':
			svc = optarg;
			break;
		case 's':
			src = optarg;
			break;
		case 'p':
			if (parse_ports(optarg, f))
				return bad("bad port range (want LO-HI, 1..65535)", optarg);
			break;
		case 'n':
			if (parse_u64(optarg, 1, UINT64_MAX, &f->count))
				return bad("bad count (want a positive integer)", optarg);
			break;
		case 'b':
			if (parse_u64(optarg, 1, BATCH_MAX, &v))
				return bad("bad batch (want 1..1024)", optarg);
			f->batch = (unsigned int)v;
			break;
		case 'r':
			if (parse_u64(optarg, 0, RATE_MAX, &f->rate))
				return bad("bad rate (want SYNs per second, 0..100000000; 0: unpaced)",
					   optarg);
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			return bad("unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad("unexpected argument", argv[optind]);
	if (!f->dev || !mac || !svc || !src)
		return bad("-i, -m, -d and -s are required", NULL);
	if (parse_service(svc, f))
		return bad("bad service (want ADDRESS:PORT or [ADDRESS6]:PORT)", svc);
	if (parse_sources(src, f))
		return bad(f->family == 4 ? "bad sources (want an IPv4 ADDRESS/PREFIX, like the service)"
					  : "bad sources (want an IPv6 ADDRESS/PREFIX, like the service)",
			   src);
	ports = (uint64_t)(f->port_hi - f->port_lo) + 1;
	if (f->count > ports * f->nr_src) {
		fprintf(stderr,
			"syn-flood: %llu SYNs need %llu distinct (address, port) pairs; %s with ports %u-%u has %llu\n",
			(unsigned long long)f->count, (unsigned long long)f->count, src, f->port_lo,
			f->port_hi, (unsigned long long)(ports * f->nr_src));
		return EXIT_USAGE;
	}
	return 0;
}

/* An AF_PACKET socket bound to the device, frames straight to the driver (no qdisc). */
static int open_socket(struct flood *f, struct sockaddr_ll *ll)
{
	struct ifreq ifr = { 0 };
	int fd, one = 1;

	if (strlen(f->dev) >= sizeof(ifr.ifr_name)) {
		fprintf(stderr, "syn-flood: interface name too long: %s\n", f->dev);
		return -1;
	}
	fd = socket(AF_PACKET, SOCK_RAW, 0); /* protocol 0: we send only, nothing is queued to us */
	if (fd < 0) {
		perror("syn-flood: AF_PACKET socket (needs CAP_NET_RAW)");
		return -1;
	}
	strcpy(ifr.ifr_name, f->dev);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		fprintf(stderr, "syn-flood: interface %s: %s\n", f->dev, strerror(errno));
		close(fd);
		return -1;
	}
	memcpy(f->our_mac, ifr.ifr_hwaddr.sa_data, 6);
	memset(ll, 0, sizeof(*ll));
	ll->sll_family = AF_PACKET;
	ll->sll_protocol = htons(f->family == 4 ? ETH_P_IP : ETH_P_IPV6);
	ll->sll_ifindex = (int)if_nametoindex(f->dev);
	ll->sll_halen = 6;
	memcpy(ll->sll_addr, f->gw_mac, 6);
	/* Best effort: without it frames take the qdisc, slower but the same frames. */
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	return fd;
}

static void put_be(uint8_t *p, uint32_t v, int bytes)
{
	while (bytes--) {
		p[bytes] = (uint8_t)v;
		v >>= 8;
	}
}

/* Frame i: the template with its own source address, port, sequence number and checksums. */
static void make_syn(const struct flood *f, const uint8_t *tmpl, size_t len, uint64_t i, uint8_t *out)
{
	uint64_t ports = (uint64_t)(f->port_hi - f->port_lo) + 1;
	uint32_t host = (uint32_t)(i / ports);
	uint8_t *ip = out + 14, *tcp = ip + (f->family == 4 ? 20 : 40);
	uint8_t *addr = ip + (f->family == 4 ? 12 : 8);
	size_t alen = f->family == 4 ? 4 : 16, k;
	uint32_t carry = host;

	memcpy(out, tmpl, len);
	/* The source address is SRC + host, counted on its last bytes with carry. */
	for (k = alen; k-- > 0 && carry;) {
		carry += addr[k];
		addr[k] = (uint8_t)carry;
		carry >>= 8;
	}
	put_be(tcp, (uint32_t)(f->port_lo + i % ports), 2);
	put_be(tcp + 4, (uint32_t)(i * 2654435761u), 4); /* ISNs spread like real ones */
	tcp[16] = tcp[17] = 0;
	if (f->family == 4) {
		put_be(ip + 4, (uint32_t)i, 2); /* IP ID */
		ip[10] = ip[11] = 0;
		put_be(ip + 10, csum_finish(csum_partial(ip, 20, 0)), 2);
		put_be(tcp + 16, l4_csum4(ip, tcp, 20, IPPROTO_TCP), 2);
	} else {
		put_be(tcp + 16, l4_csum6(ip, tcp, 20, IPPROTO_TCP), 2);
	}
}

static size_t build_template(const struct flood *f, uint8_t *buf)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	int af = f->family == 4 ? AF_INET : AF_INET6;
	struct pkt_spec s = {
		.family = f->family,
		.proto = IPPROTO_TCP,
		.src = inet_ntop(af, f->src, src, sizeof(src)),
		.dst = inet_ntop(af, f->dst, dst, sizeof(dst)),
		.dport = f->dport,
		.tcp_flags = TH_SYN,
	};
	size_t len = pkt_build(&s, buf);

	memcpy(buf, f->gw_mac, 6);
	memcpy(buf + 6, f->our_mac, 6);
	return len;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/*
 * Frames to send next: unpaced, a batch; paced, a slice (about 100 us of the rate, 1..batch
 * frames) once SYN `sent` is due at *t0 + sent / rate: sleeps until then. A sender up to
 * LAG_MAX_NS behind catches up; further behind (descheduled, or the path slower than the rate)
 * it moves the schedule on instead of sending the backlog in one burst the queues would drop.
 */
static unsigned int pace(const struct flood *f, uint64_t sent, uint64_t *t0, struct tally *tl)
{
	uint64_t slice = f->rate / SLICES_PER_S, due, now;
	struct timespec ts;

	if (!f->rate)
		return f->batch;
	/* seconds and remainder apart: sent * NS_PER_S would overflow past 1.8e10 SYNs */
	due = *t0 + sent / f->rate * NS_PER_S + sent % f->rate * NS_PER_S / f->rate;
	now = now_ns();
	if (now > due + LAG_MAX_NS) {
		*t0 += now - due;
		tl->slips++;
	} else if (now < due) {
		ts.tv_sec = (time_t)(due / NS_PER_S);
		ts.tv_nsec = (long)(due % NS_PER_S);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
	}
	return slice < 1 ? 1 : slice > f->batch ? f->batch : (unsigned int)slice;
}

/* Send f->count SYNs; returns how many went out before an error (all of them normally). */
static uint64_t flood(const struct flood *f, int fd, struct sockaddr_ll *ll, struct tally *tl)
{
	static uint8_t frames[BATCH_MAX][FRAME_MAX];
	static struct mmsghdr msgs[BATCH_MAX];
	static struct iovec iov[BATCH_MAX];
	uint8_t tmpl[PKT_MAX];
	size_t len = build_template(f, tmpl);
	uint64_t sent = 0, t0 = now_ns();
	unsigned int n, k;
	int r;

	for (k = 0; k < f->batch; k++) {
		iov[k] = (struct iovec){ .iov_base = frames[k], .iov_len = len };
		msgs[k].msg_hdr = (struct msghdr){
			.msg_name = ll, .msg_namelen = sizeof(*ll), .msg_iov = &iov[k], .msg_iovlen = 1
		};
	}
	while (sent < f->count) {
		n = pace(f, sent, &t0, tl);
		n = f->count - sent < n ? (unsigned int)(f->count - sent) : n;
		for (k = 0; k < n; k++)
			make_syn(f, tmpl, len, sent + k, frames[k]);
		for (k = 0; k < n;) {
			r = sendmmsg(fd, msgs + k, n - k, 0);
			if (r < 0 && (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)) {
				tl->retries++;
				usleep(100); /* the device queue is full: let it drain */
				continue;
			}
			if (r < 0) {
				fprintf(stderr, "syn-flood: sendmmsg on %s: %s\n", f->dev, strerror(errno));
				return sent + k;
			}
			k += (unsigned int)r;
		}
		sent += n;
	}
	return sent;
}

int main(int argc, char **argv)
{
	struct flood f = { .port_lo = 1024, .port_hi = 65535, .count = 1000000, .batch = 256 };
	struct sockaddr_ll ll;
	struct tally tl = { 0 };
	uint64_t sent, t0;
	double t;
	int fd, rc = parse_args(argc, argv, &f);

	if (rc)
		return rc;
	fd = open_socket(&f, &ll);
	if (fd < 0)
		return EXIT_RUNTIME;
	t0 = now_ns();
	sent = flood(&f, fd, &ll, &tl);
	t = (double)(now_ns() - t0) / NS_PER_S;
	close(fd);
	printf("sent %llu SYNs in %.3f s: %.0f SYNs/s (", (unsigned long long)sent, t,
	       t > 0 ? sent / t : 0.0);
	if (f.rate)
		printf("paced at %llu/s, %llu schedule slips, ", (unsigned long long)f.rate,
		       (unsigned long long)tl.slips);
	else
		printf("unpaced, ");
	printf("%llu full-queue retries)\n", (unsigned long long)tl.retries);
	return sent == f.count ? 0 : EXIT_RUNTIME;
}
