// SPDX-License-Identifier: GPL-2.0
/*
 * Next-hop resolution (loader/dataplane/nexthop.c) against a real xlvs_reals map, in a
 * private network namespace per test (Criterion runs each test in its own
 * process): a veth pair nhA/nhB, neighbours set with `ip neigh replace`.
 * Needs root and iproute2; fails (never skips) without them.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dataplane/nexthop.h"
#include "xlvsmaps.h"
#include "helpers.h"
#include "xlvs_lb.skel.h"

#define NH_A   "nhA"
#define NH_B   "nhB"
#define MAC_A  "02:00:00:00:aa:01"
#define MAC_B  "02:00:00:00:bb:01"
#define MAC_R1 "02:00:00:00:01:0a"
#define MAC_R2 "02:00:00:00:01:0b"
#define MAC_GW "02:00:00:00:00:fe"

struct nhenv {
	struct xlvs_lb_bpf *skel;
	struct xlvs_maps m;
	struct xlvs_nh *nh;
	int ifindex;
};

static void need_tool(const char *tool)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	cr_assert(system(cmd) == 0, "missing tool: '%s' is not in PATH (Debian package iproute2)", tool);
}

/* Run a shell command; its exit status, output in out. */
static int sh_out(char *out, size_t size, const char *fmt, ...)
{
	char cmd[512], full[600];
	size_t n = 0, got;
	va_list ap;
	FILE *f;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "(%s) 2>&1", cmd);
	f = popen(full, "r");
	cr_assert(f, "popen %s: %s", cmd, strerror(errno));
	while (n + 1 < size && (got = fread(out + n, 1, size - n - 1, f)) > 0)
		n += got;
	while (fgetc(f) != EOF)
		;
	out[n] = '\0';
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

#define SH(...)                                                                                              \
	do {                                                                                                 \
		char o_[1024];                                                                               \
		cr_assert(sh_out(o_, sizeof(o_), __VA_ARGS__) == 0, "command failed: %s", o_);               \
	} while (0)

static void mac(const char *text, uint8_t out[6])
{
	cr_assert(sscanf(text, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &out[0], &out[1], &out[2], &out[3], &out[4],
			 &out[5]) == 6,
		  "bad MAC %s", text);
}

/* A private netns with nhA (198.18.0.1/24, 2001:db8::1/64, fe80::a) <-> nhB, and private maps. */
static void env_up(struct nhenv *e)
{
	memset(e, 0, sizeof(*e));
	need_tool("ip");
	cr_assert(unshare(CLONE_NEWNET) == 0, "unshare(CLONE_NEWNET): %s (needs root)", strerror(errno));
	SH("ip link set lo up");
	SH("ip link add %s address %s type veth peer name %s address %s", NH_A, MAC_A, NH_B, MAC_B);
	/*
	 * No generated link-local addresses: their DAD would add routes (events) at
	 * random times. nhA gets a fixed one: the kernel sends a solicitation that has
	 * no packet to take a source from only from a usable link-local address.
	 */
	SH("ip link set %s addrgenmode none && ip link set %s addrgenmode none", NH_A, NH_B);
	SH("ip link set %s up && ip link set %s up", NH_A, NH_B);
	SH("ip addr add 198.18.0.1/24 dev %s && ip -6 addr add 2001:db8::1/64 dev %s nodad", NH_A, NH_A);
	SH("ip -6 addr add fe80::a/64 dev %s nodad", NH_A);
	e->ifindex = (int)if_nametoindex(NH_A);
	cr_assert(e->ifindex > 0);

	e->skel = unit_director_load(1024, 1024, NULL);
	memset(&e->m, 0xff, sizeof(e->m)); /* every fd -1: only xlvs_reals is used */
	e->m.reals = bpf_map__fd(e->skel->maps.xlvs_reals);
	cr_assert(xlvs_nh_open(&e->nh, &e->m) == 0);
}

static void env_down(struct nhenv *e)
{
	xlvs_nh_close(e->nh);
	xlvs_lb_bpf__destroy(e->skel);
}

static void put_real(struct nhenv *e, uint32_t id, const char *addr, uint8_t fwd, uint8_t flags)
{
	struct xlvs_real r = {
		.family = strchr(addr, ':') ? XLVS_AF_INET6 : XLVS_AF_INET,
		.fwd = fwd,
		.flags = flags,
		.svc_id = 7,
		.gue_port = htons(6081),
		.weight = 42,
		.nh_mac = { 0xde, 0xad, 0, 0, 0, 1 },
		.nh_smac = { 0xde, 0xad, 0, 0, 0, 2 },
		.nh_ifindex = 99,
	};

	cr_assert(inet_pton(r.family == XLVS_AF_INET ? AF_INET : AF_INET6, addr, r.addr) == 1);
	cr_assert(bpf_map_update_elem(e->m.reals, &id, &r, 0) == 0);
}

static struct xlvs_real get_real(struct nhenv *e, uint32_t id)
{
	struct xlvs_real r;

	cr_assert(bpf_map_lookup_elem(e->m.reals, &id, &r) == 0);
	return r;
}

/* The real carries nh_mac = want, our MAC and nhA, and kept the fields it does not own. */
static void expect_valid(struct nhenv *e, uint32_t id, const char *want)
{
	struct xlvs_real r = get_real(e, id);
	uint8_t w[6], a[6];

	mac(want, w);
	mac(MAC_A, a);
	cr_assert(r.flags & XLVS_REAL_F_NH_VALID, "real %u: NH_VALID not set", id);
	cr_assert(r.flags & XLVS_REAL_F_ACTIVE);
	cr_assert(!memcmp(r.nh_mac, w, 6), "real %u: nh_mac %02x:%02x:%02x:%02x:%02x:%02x, want %s", id,
		  r.nh_mac[0], r.nh_mac[1], r.nh_mac[2], r.nh_mac[3], r.nh_mac[4], r.nh_mac[5], want);
	cr_assert(!memcmp(r.nh_smac, a, 6), "real %u: nh_smac is not %s", id, MAC_A);
	cr_assert_eq(r.nh_ifindex, (uint32_t)e->ifindex);
	cr_assert_eq(r.svc_id, 7);
	cr_assert_eq(r.weight, 42);
	cr_assert_eq(r.gue_port, htons(6081));
}

static void expect_invalid(struct nhenv *e, uint32_t id)
{
	struct xlvs_real r = get_real(e, id);
	static const uint8_t zero[6];

	cr_assert(!(r.flags & XLVS_REAL_F_NH_VALID), "real %u: NH_VALID still set", id);
	cr_assert(r.flags & XLVS_REAL_F_ACTIVE);
	cr_assert(!memcmp(r.nh_mac, zero, 6) && !memcmp(r.nh_smac, zero, 6) && !r.nh_ifindex,
		  "real %u: stale next hop left behind", id);
	cr_assert_eq(r.weight, 42);
}

/* Poll the nexthop fd and process until real id's NH_VALID is valid (and nh_mac is
 * want_mac if given); 3 s (UNIT_SLOW) at most. */
static void process_until(struct nhenv *e, uint32_t id, bool valid, const char *want_mac)
{
	struct pollfd p = { .fd = xlvs_nh_fd(e->nh), .events = POLLIN };
	struct xlvs_real r;
	uint8_t w[6];
	int i;

	if (want_mac)
		mac(want_mac, w);
	for (i = 0; i < UNIT_SLOW(30); i++) {
		if (poll(&p, 1, 100) > 0)
			cr_assert_eq(xlvs_nh_process(e->nh), 0);
		r = get_real(e, id);
		if (!!(r.flags & XLVS_REAL_F_NH_VALID) == valid && (!want_mac || !memcmp(r.nh_mac, w, 6)))
			return;
	}
	cr_assert_fail("real %u: NH_VALID never became %d%s%s", id, valid, want_mac ? " with " : "",
		       want_mac ? want_mac : "");
}

static struct xlvs_nh_stats stats(struct nhenv *e)
{
	struct xlvs_nh_stats st;

	xlvs_nh_stats(e->nh, &st);
	return st;
}

/* A packet socket on nhB: sees the ARP requests and solicitations nhA sends. */
static int probe_socket(int proto)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(proto),
		.sll_ifindex = (int)if_nametoindex(NH_B),
	};
	struct timeval tmo = { .tv_sec = 0, .tv_usec = 200000 };
	int fd = socket(AF_PACKET, SOCK_DGRAM, htons(proto));

	cr_assert(fd >= 0, "packet socket: %s", strerror(errno));
	cr_assert(bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	return fd;
}

/* ARP request (IPv4) or neighbour solicitation (IPv6) for target seen within 2 s (UNIT_SLOW). */
static bool saw_probe(int fd, const char *target)
{
	bool v6 = strchr(target, ':');
	uint8_t t[16], b[1500];
	time_t end = time(NULL) + (time_t)UNIT_SLOW(2);
	ssize_t n;

	inet_pton(v6 ? AF_INET6 : AF_INET, target, t);
	while (time(NULL) <= end) {
		n = recv(fd, b, sizeof(b), 0);				  /* SO_RCVTIMEO 200 ms */
		if (!v6 && n >= 28 && b[7] == 1 && !memcmp(b + 24, t, 4)) /* ARP op 1, target IP */
			return true;
		if (v6 && n >= 64 && b[6] == IPPROTO_ICMPV6 && b[40] == 135 && !memcmp(b + 48, t, 16))
			return true;
	}
	return false;
}

static bool neigh_pending(const char *addr)
{
	char out[512];

	sh_out(out, sizeof(out), "ip neigh show %s dev %s", addr, NH_A);
	return strstr(out, "INCOMPLETE") || strstr(out, "FAILED");
}

Test(nexthop, bad_arguments)
{
	struct xlvs_maps m;
	struct xlvs_nh *nh = (void *)1;
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "nh_not_array", 4, sizeof(struct xlvs_real), 4, NULL);

	memset(&m, 0xff, sizeof(m));
	cr_assert_eq(xlvs_nh_open(NULL, &m), -EINVAL);
	cr_assert_eq(xlvs_nh_open(&nh, NULL), -EINVAL);
	cr_assert_null(nh);
	cr_assert_eq(xlvs_nh_open(&nh, &m), -EINVAL); /* no xlvs_reals */
	cr_assert(fd >= 0, "bpf_map_create: %s", strerror(errno));
	m.reals = fd;
	cr_assert_eq(xlvs_nh_open(&nh, &m), -EINVAL); /* not the reals array */
	close(fd);
	cr_assert_eq(xlvs_nh_sync(NULL), -EINVAL);
	cr_assert_eq(xlvs_nh_process(NULL), -EINVAL);
	cr_assert_eq(xlvs_nh_fd(NULL), -EINVAL);
	xlvs_nh_close(NULL);
}

Test(nexthop, dr4_permanent_neighbour, .timeout = 10)
{
	struct xlvs_real before, after;
	struct nhenv e;

	env_up(&e);
	put_real(&e, 3, "198.18.0.10", XLVS_FWD_DR, XLVS_REAL_F_ACTIVE);
	put_real(&e, 4, "198.18.0.12", XLVS_FWD_DR, XLVS_REAL_F_NH_VALID); /* inactive */
	SH("ip neigh replace 198.18.0.10 dev %s lladdr %s nud permanent", NH_A, MAC_R1);
	before = get_real(&e, 4);

	cr_assert_eq(xlvs_nh_sync(e.nh), 0);
	expect_valid(&e, 3, MAC_R1);
	after = get_real(&e, 4);
	cr_assert(!memcmp(&before, &after, sizeof(before)), "an inactive real was written");
	cr_assert_eq(stats(&e).reals, 1);
	cr_assert_eq(stats(&e).valid, 1);
	cr_assert_eq(stats(&e).written, 1);
	cr_assert_eq(stats(&e).triggered, 0, "NTF_USE sent for a PERMANENT entry (it would destroy it)");

	cr_assert_eq(xlvs_nh_sync(e.nh), 0); /* nothing changed: nothing written */
	cr_assert_eq(stats(&e).written, 0);
	cr_assert(!neigh_pending("198.18.0.10"), "the permanent entry was disturbed");
	env_down(&e);
}

Test(nexthop, stale_neighbour_used_and_refreshed, .timeout = 10)
{
	char out[512];
	struct nhenv e;

	env_up(&e);
	put_real(&e, 6, "198.18.0.40", XLVS_FWD_DR, XLVS_REAL_F_ACTIVE);
	SH("ip neigh replace 198.18.0.40 dev %s lladdr %s nud stale", NH_A, MAC_R1);
	cr_assert_eq(xlvs_nh_sync(e.nh), 0);
	expect_valid(&e, 6, MAC_R1);
	cr_assert_eq(stats(&e).triggered, 1, "a STALE next hop must be refreshed");
	sh_out(out, sizeof(out), "ip neigh show 198.18.0.40 dev %s", NH_A);
	cr_assert(strstr(out, "DELAY") || strstr(out, "PROBE"), "not being re-confirmed: %s", out);
	cr_assert(strstr(out, MAC_R1), "MAC lost: %s", out);
	env_down(&e);
}

Test(nexthop, dr4_unresolved_triggers_resolution, .timeout = 10)
{
	struct nhenv e;
	int ps;

	env_up(&e);
	put_real(&e, 1, "198.18.0.11", XLVS_FWD_DR, XLVS_REAL_F_ACTIVE | XLVS_REAL_F_NH_VALID);
	ps = probe_socket(ETH_P_ARP);

	cr_assert_eq(xlvs_nh_sync(e.nh), 0);
	expect_invalid(&e, 1);
	cr_assert_eq(stats(&e).triggered, 1);
	cr_assert(neigh_pending("198.18.0.11"), "no INCOMPLETE/FAILED entry: resolution not started");
	cr_assert(saw_probe(ps, "198.18.0.11"), "no ARP request for 198.18.0.11 left nhA");

	cr_assert_eq(xlvs_nh_sync(e.nh), 0); /* INCOMPLETE: already resolving */
	cr_assert_eq(stats(&e).triggered, 0);
	close(ps);
	env_down(&e);
}

Test(nexthop, neighbour_changes_follow_events, .timeout = 10)
{
	unsigned int syncs;
	struct nhenv e;

	env_up(&e);
	put_real(&e, 5, "198.18.0.20", XLVS_FWD_DR, XLVS_REAL_F_ACTIVE);
	cr_assert_eq(xlvs_nh_sync(e.nh), 0);
	expect_invalid(&e, 5);

	SH("ip neigh replace 198.18.0.20 dev %s lladdr %s nud permanent", NH_A, MAC_R1);
	process_until(&e, 5, true, MAC_R1);
	expect_valid(&e, 5, MAC_R1);

	SH("ip neigh replace 198.18.0.20 dev %s lladdr %s nud permanent", NH_A, MAC_R2);
	process_until(&e, 5, true, MAC_R2);
	expect_valid(&e, 5, MAC_R2);

	/* A neighbour no real uses wakes nobody up. */
	usleep((useconds_t)UNIT_SLOW(150000));
	xlvs_nh_process(e.nh);
	syncs = stats(&e).syncs;
	SH("ip neigh replace 198.18.0.99 dev %s lladdr %s nud permanent", NH_A, MAC_R1);
	usleep((useconds_t)UNIT_SLOW(150000));
	cr_assert_eq(xlvs_nh_process(e.nh), 0);
	cr_assert_eq(stats(&e).syncs, syncs, "an unrelated neighbour caused a sync");

	SH("ip neigh del 198.18.0.20 dev %s", NH_A);
	process_until(&e, 5, false, NULL);
	expect_invalid(&e, 5);
	env_down(&e);
}

/* Poll and process until a sync published a route move (true), or for 600 ms (false). */
static bool routes_moved_within(struct nhenv *e)
{
	struct pollfd p = { .fd = xlvs_nh_fd(e->nh), .events = POLLIN };
	int i;

	for (i = 0; i < UNIT_SLOW(6); i++) {
		if (poll(&p, 1, 100) > 0)
			cr_assert_eq(xlvs_nh_process(e->nh), 0);
		if (xlvs_nh_routes_moved(e->nh))
			return true;
	}
	return false;
}

/* Health-check steering asks the VIPs' routes again when routes move (loader/daemon/steer.c). */
Test(nexthop, route_moves_are_published_once, .timeout = 15)
{
	struct nhenv e;

	env_up(&e);
	put_real(&e, 5, "198.18.0.20", XLVS_FWD_DR, XLVS_REAL_F_ACTIVE);
	cr_assert_eq(xlvs_nh_sync(e.nh), 0);
	cr_expect_not(xlvs_nh_routes_moved(NULL));
	cr_expect_not(routes_moved_within(&e), "nothing moved yet");
	SH("ip route add 198.18.60.0/24 via 198.18.0.254 dev %s", NH_A);
	cr_expect(routes_moved_within(&e), "a route added");
	cr_expect_not(xlvs_nh_routes_moved(e.nh), "told once");
	SH("ip neigh replace 198.18.0.20 dev %s lladdr %s nud permanent", NH_A, MAC_R1);
	process_until(&e, 5, true, MAC_R1);
	cr_expect_not(routes_moved_within(&e), "a neighbour is not a route");
	SH("ip route del 198.18.60.0/24 via 198.18.0.254 dev %s", NH_A);
	cr_expect(routes_moved_within(&e), "a route deleted");
	env_down(&e);
}

/*
 * IPv4 drops the routes through a link that goes down or away without a route event (IPv6 sends
 * them): the link's IFF_UP change is the only news. IPv6 is off on nhC, as on a v4-only director.
 */
Test(nexthop, link_down_moves_routes, .timeout = 15)
{
	struct nhenv e;

	env_up(&e);
	SH("ip link add nhC type veth peer name nhD");
	SH("sysctl -qw net.ipv6.conf.nhC.disable_ipv6=1 net.ipv6.conf.nhD.disable_ipv6=1");
	SH("ip link set nhC up && ip link set nhD up && ip addr add 198.18.70.1/24 dev nhC");
	SH("ip route add 198.18.61.0/24 via 198.18.70.2 dev nhC");
	cr_assert(routes_moved_within(&e), "the routes added");
	SH("ip link set nhC mtu 1400");
	cr_expect_not(routes_moved_within(&e), "an MTU change moves no route");
	SH("ip link set nhC down");
	cr_expect(routes_moved_within(&e), "the link went down, and its routes with it");
	SH("ip link set nhC up");
	cr_expect(routes_moved_within(&e), "the link is up: its own prefix is back");
	SH("ip route add 198.18.61.0/24 via 198.18.70.2 dev nhC");
	cr_assert(routes_moved_within(&e), "the route added again");
	SH("ip link del nhC");
	cr_expect(routes_moved_within(&e), "the link deleted, and its routes with it");
	env_down(&e);
}

/*
 * What moves a VIP's route without a route event: a policy rule (the checks' marks are routed by
 * them), and a nexthop object deleted (routing daemons install routes by `nhid`; IPv4 drops the
 * routes that used it silently).
 */
Test(nexthop, rules_and_nexthop_objects_move_routes, .timeout = 15)
{
	struct nhenv e;

	env_up(&e);
	SH("ip nexthop add id 10 via 198.18.0.254 dev %s && ip route add 198.18.63.0/24 nhid 10", NH_A);
	cr_assert(routes_moved_within(&e), "the route added");
	SH("ip rule add pref 100 fwmark 0x584c0000/0xffff0000 table 100");
	cr_expect(routes_moved_within(&e), "a rule added");
	SH("ip rule del pref 100");
	cr_expect(routes_moved_within(&e), "a rule deleted");
	SH("ip nexthop del id 10");
	cr_expect(routes_moved_within(&e), "a nexthop object deleted, and its route with it");
	env_down(&e);
}

/* xlvs_nh_route_legs() to text: "" without a route, else each leg's ifindex, "3,5". */
static void legs_str(struct nhenv *e, const char *dst, char *out, size_t size)
{
	uint32_t oifs[4];
	struct xlvs_addr a;
	int n, i;

	cr_assert_eq(xlvs_addr_parse(dst, &a), 0);
	n = xlvs_nh_route_legs(e->nh, &a, 0x584c0001, oifs, 4);
	out[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(out + strlen(out), size - strlen(out), "%s%u", i ? "," : "", oifs[i]);
}

/* Health-check steering needs every path a check may take, not the one a hash of no ports picks. */
Test(nexthop, route_legs_name_every_path, .timeout = 10)
{
	char got[64], want[64];
	unsigned int c;
	struct nhenv e;

	env_up(&e);
	SH("ip link add nhC type veth peer name nhD");
	SH("ip link set nhC up && ip link set nhD up && ip addr add 198.18.70.1/24 dev nhC");
	SH("ip route add 198.18.61.0/24 via 198.18.0.254 dev %s", NH_A);
	SH("ip route add 198.18.62.0/24 nexthop via 198.18.0.254 dev %s nexthop via 198.18.70.2 dev nhC",
	   NH_A);
	c = if_nametoindex("nhC");
	legs_str(&e, "198.18.61.5", got, sizeof(got));
	snprintf(want, sizeof(want), "%d", e.ifindex);
	cr_expect_str_eq(got, want, "one path");
	legs_str(&e, "198.18.62.5", got, sizeof(got));
	snprintf(want, sizeof(want), "%d,%u", e.ifindex, c);
	cr_expect_str_eq(got, want, "a multipath route: both legs");
	legs_str(&e, "198.18.63.5", got, sizeof(got));
	cr_expect_str_eq(got, "", "no route");
	env_down(&e);
}

Test(nexthop, carrier_loss_invalidates, .timeout = 10)
{
	struct nhenv e;

	env_up(&e);
	put_real(&e, 2, "198.18.0.10", XLVS_FWD_DR, XLVS_REAL_F_ACTIVE);
	SH("ip neigh replace 198.18.0.10 dev %s lladdr %s nud permanent", NH_A, MAC_R1);
	cr_assert_eq(xlvs_nh_sync(e.nh), 0);
	expect_valid(&e, 2, MAC_R1);
	SH("ip link set %s down", NH_B); /* nhA loses its carrier */
	process_until(&e, 2, false, NULL);
	SH("ip link set %s up", NH_B);
	process_until(&e, 2, true, MAC_R1);
	env_down(&e);
}

Test(nexthop, tunnel_reals_use_the_gateway, .timeout = 10)
{
	struct nhenv e;

	env_up(&e);
	SH("ip route add 198.18.50.0/24 via 198.18.0.254 dev %s", NH_A);
	SH("ip neigh replace 198.18.0.254 dev %s lladdr %s nud permanent", NH_A, MAC_GW);
	put_real(&e, 10, "198.18.50.5", XLVS_FWD_TUN, XLVS_REAL_F_ACTIVE);
	put_real(&e, 11, "198.18.50.6", XLVS_FWD_GUE, XLVS_REAL_F_ACTIVE);
	put_real(&e, 12, "198.18.0.30", XLVS_FWD_TUN, XLVS_REAL_F_ACTIVE); /* on-link */
	put_real(&e, 13, "198.18.50.7", XLVS_FWD_DR, XLVS_REAL_F_ACTIVE);  /* DR: ARPs for itself */
	put_real(&e, 14, "198.19.99.1", XLVS_FWD_TUN, XLVS_REAL_F_ACTIVE); /* no route */
	SH("ip neigh replace 198.18.0.30 dev %s lladdr %s nud permanent", NH_A, MAC_R1);

	cr_assert_eq(xlvs_nh_sync(e.nh), 0);
	expect_valid(&e, 10, MAC_GW);
	expect_valid(&e, 11, MAC_GW);
	expect_valid(&e, 12, MAC_R1);
	expect_invalid(&e, 13);
	expect_invalid(&e, 14);
	cr_assert_eq(stats(&e).reals, 5);
	cr_assert_eq(stats(&e).valid, 3);
	cr_assert_eq(stats(&e).triggered, 1, "only the DR real's own address needs resolving");

	/* The route moves to another gateway: the tunnel reals follow. */
	SH("ip neigh replace 198.18.0.253 dev %s lladdr %s nud permanent", NH_A, MAC_R2);
	SH("ip route replace 198.18.50.0/24 via 198.18.0.253 dev %s", NH_A);
	process_until(&e, 10, true, MAC_R2);
	expect_valid(&e, 10, MAC_R2);
	expect_valid(&e, 11, MAC_R2);
	env_down(&e);
}

/* NAT and FULLNAT reals are routed like tunnels: the real itself on-link, else its gateway. */
Test(nexthop, nat_reals_use_the_real_or_its_gateway, .timeout = 10)
{
	struct nhenv e;

	env_up(&e);
	SH("ip route add 198.18.50.0/24 via 198.18.0.254 dev %s", NH_A);
	SH("ip neigh replace 198.18.0.254 dev %s lladdr %s nud permanent", NH_A, MAC_GW);
	SH("ip neigh replace 198.18.0.30 dev %s lladdr %s nud permanent", NH_A, MAC_R1);
	put_real(&e, 10, "198.18.50.5", XLVS_FWD_NAT, XLVS_REAL_F_ACTIVE);
	put_real(&e, 11, "198.18.50.6", XLVS_FWD_FULLNAT, XLVS_REAL_F_ACTIVE);
	put_real(&e, 12, "198.18.0.30", XLVS_FWD_NAT, XLVS_REAL_F_ACTIVE);     /* on-link */
	put_real(&e, 13, "198.18.0.30", XLVS_FWD_FULLNAT, XLVS_REAL_F_ACTIVE); /* on-link */
	cr_assert_eq(xlvs_nh_sync(e.nh), 0);
	expect_valid(&e, 10, MAC_GW);
	expect_valid(&e, 11, MAC_GW);
	expect_valid(&e, 12, MAC_R1);
	expect_valid(&e, 13, MAC_R1);
	env_down(&e);
}

/* Is addr on NH_A still tentative (DAD running)? */
static bool tentative(const char *addr)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "ip -6 addr show dev %s tentative | grep -q '%s/'", NH_A, addr);
	return system(cmd) == 0;
}

/*
 * While nhA's only link-local address is tentative, no IPv6 resolution is
 * started (it would stall until the next retransmit) and a sync is due again
 * soon; once DAD is done, the next sync starts it.
 */
Test(nexthop, ipv6_waits_for_a_usable_link_local, .timeout = 15)
{
	struct nhenv e;
	int i, ps;

	env_up(&e);
	/* DAD takes dad_transmits x 1 s: it must outlast the steps up to the first sync, which take
	 * UNIT_SLOW times longer on a slow machine (one `ip` is most of a second in vmtest's guest). */
	SH("echo %d > /proc/sys/net/ipv6/conf/%s/dad_transmits", (int)UNIT_SLOW(1), NH_A);
	SH("ip -6 addr del fe80::a/64 dev %s && ip -6 addr add fe80::b/64 dev %s", NH_A, NH_A);
	cr_assert(tentative("fe80::b"), "fe80::b is not tentative: DAD disabled here? (accept_dad)");
	put_real(&e, 30, "2001:db8::30", XLVS_FWD_DR, XLVS_REAL_F_ACTIVE);
	ps = probe_socket(ETH_P_IPV6);

	cr_assert_eq(xlvs_nh_sync(e.nh), 0);
	cr_expect_eq(stats(&e).triggered, 0, "resolution started from a tentative link-local");
	cr_expect_eq(stats(&e).deferred, 1);
	cr_expect(!neigh_pending("2001:db8::30"), "an INCOMPLETE entry exists already");

	for (i = 0; i < UNIT_SLOW(60) && tentative("fe80::b"); i++)
		usleep(100 * 1000);
	cr_assert(!tentative("fe80::b"), "DAD of fe80::b did not finish in %g s", UNIT_SLOW(6.0));
	cr_assert_eq(xlvs_nh_sync(e.nh), 0);
	cr_expect_eq(stats(&e).triggered, 1, "no resolution once the link-local is usable");
	cr_expect_eq(stats(&e).deferred, 0);
	cr_expect(neigh_pending("2001:db8::30"), "resolution not started");
	cr_expect(saw_probe(ps, "2001:db8::30"), "no neighbour solicitation for 2001:db8::30 left nhA");
	close(ps);
	env_down(&e);
}

Test(nexthop, ipv6_reals, .timeout = 10)
{
	struct nhenv e;
	int ps;

	env_up(&e);
	SH("ip -6 route add 2001:db8:50::/64 via 2001:db8::fe dev %s", NH_A);
	SH("ip -6 neigh replace 2001:db8::fe dev %s lladdr %s nud permanent", NH_A, MAC_GW);
	SH("ip -6 neigh replace 2001:db8::10 dev %s lladdr %s nud permanent", NH_A, MAC_R1);
	put_real(&e, 20, "2001:db8::10", XLVS_FWD_DR, XLVS_REAL_F_ACTIVE);
	put_real(&e, 21, "2001:db8:50::5", XLVS_FWD_TUN, XLVS_REAL_F_ACTIVE);
	put_real(&e, 22, "2001:db8::11", XLVS_FWD_DR, XLVS_REAL_F_ACTIVE | XLVS_REAL_F_NH_VALID);
	ps = probe_socket(ETH_P_IPV6);

	cr_assert_eq(xlvs_nh_sync(e.nh), 0);
	expect_valid(&e, 20, MAC_R1);
	expect_valid(&e, 21, MAC_GW);
	expect_invalid(&e, 22);
	cr_assert(neigh_pending("2001:db8::11"), "no INCOMPLETE/FAILED entry: resolution not started");
	cr_assert(saw_probe(ps, "2001:db8::11"), "no neighbour solicitation for 2001:db8::11 left nhA");

	SH("ip -6 neigh replace 2001:db8::11 dev %s lladdr %s nud permanent", NH_A, MAC_R2);
	process_until(&e, 22, true, MAC_R2);
	expect_valid(&e, 22, MAC_R2);
	close(ps);
	env_down(&e);
}
