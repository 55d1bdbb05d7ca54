// SPDX-License-Identifier: GPL-2.0
/*
 * `xlvs decap` against a real veth pair, each test in a network and mount
 * namespace of its own (with a fresh bpffs on /sys/fs/bpf) that vanish with
 * the test process: attach, status, real IPIP/GUE/IP6IP6 frames sent into the
 * veth and received as the inner datagrams, BPF_PROG_RUN on the pinned
 * program, detach leaving nothing behind, and the error rows with their
 * exact messages and exit codes. Needs root; never skips.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <jansson.h>

#include <xlvs/abi.h>

#include "helpers.h"
#include "netns.h"
#include "pktgen.h"
#include "xlvs.h"

#define DEV	 "xd0" /* the real server's interface */
#define PEER	 "xd1" /* where the tunnel packets come from */
#define MAC_DEV	 "02:00:00:00:07:02"
#define MAC_PEER "02:00:00:00:07:01"
#define RIP4	 "198.18.7.2"
#define PEER4	 "198.18.7.1"
#define CLIENT4	 "198.18.9.9" /* the inner source */
#define CLIENT6	 "2001:db8:9::9"
#define VIP4	 "198.18.7.100" /* on lo, as on an LVS real server */
#define RIP6	 "2001:db8:7::2"
#define PEER6	 "2001:db8:7::1"
#define VIP6	 "2001:db8:7::100"
#define PIN	 "/sys/fs/bpf/xlvs/decap/" DEV
#define ATTACH_USAGE                                                                                         \
	"usage: xlvs decap attach dev IF [gue-port N] [mode native|generic] "                                \
	"[addrs dev|host|any]\n"

/* ---- running the CLI ----------------------------------------------------------- */

struct res {
	int rc;
	char *out, *err;
	size_t out_len, err_len;
};

/* What was written to f, NUL-terminated, into *buf (malloc'd). */
static void slurp(FILE *f, char **buf, size_t *len)
{
	long n;

	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	cr_assert_geq(n, 0);
	rewind(f);
	*buf = calloc(1, (size_t)n + 1);
	cr_assert_not_null(*buf);
	cr_assert_eq(fread(*buf, 1, (size_t)n, f), (size_t)n);
	*len = (size_t)n;
	fclose(f);
}

/*
 * xlvs WORD... (NULL-terminated) in a child process, as a user runs it: what
 * it leaves open dies with it (libxdp 1.3.1 keeps program fds it looked up,
 * which would keep a detached program alive in this process). The result is
 * freed by res_free.
 */
static struct res xlvs(const char *word, ...)
{
	char *argv[32] = { (char *)"xlvs" };
	struct res r = { 0 };
	FILE *out = tmpfile(), *err = tmpfile();
	int argc = 1, st;
	va_list ap;
	pid_t pid;

	va_start(ap, word);
	for (; word && argc < 31; word = va_arg(ap, const char *))
		argv[argc++] = (char *)word;
	va_end(ap);
	cr_assert(out && err, "tmpfile: %s", strerror(errno));
	pid = fork();
	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		st = xlvs_main(argc, argv, out, err);
		fflush(out);
		fflush(err);
		_exit(st);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st), "xlvs %s %s: killed by signal %d", argv[1], argc > 2 ? argv[2] : "",
		  WTERMSIG(st));
	r.rc = WEXITSTATUS(st);
	slurp(out, &r.out, &r.out_len);
	slurp(err, &r.err, &r.err_len);
	return r;
}

static void res_free(struct res *r)
{
	free(r->out);
	free(r->err);
}

#define XLVS_OK(...)                                                                                         \
	({                                                                                                   \
		struct res r_ = xlvs(__VA_ARGS__, NULL);                                                     \
		cr_assert_eq(r_.rc, 0, "exit %d: %s", r_.rc, r_.err);                                        \
		cr_assert_str_empty(r_.err);                                                                 \
		r_;                                                                                          \
	})

/* `xlvs -j decap status dev DEV` as JSON: the interface's object (caller json_decref's the root). */
static json_t *status_json(json_t **root)
{
	struct res r = XLVS_OK("-j", "decap", "status", "dev", DEV);
	json_error_t e;
	json_t *arr;

	*root = json_loads(r.out, 0, &e);
	cr_assert_not_null(*root, "not JSON (%s): %s", e.text, r.out);
	res_free(&r);
	arr = json_object_get(*root, "decap");
	cr_assert(json_is_array(arr) && json_array_size(arr) == 1, "one interface expected");
	return json_array_get(arr, 0);
}

static long long jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	cr_assert(json_is_integer(v), "%s is not an integer", key);
	return json_integer_value(v);
}

static long long counter(json_t *o, const char *name)
{
	return jint(json_object_get(o, "counters"), name);
}

static bool has_endpoint(json_t *o, const char *addr)
{
	json_t *v;
	size_t i;

	json_array_foreach (json_object_get(o, "endpoints"), i, v)
		if (!strcmp(json_string_value(v), addr))
			return true;
	return false;
}

/* ---- the namespace ------------------------------------------------------------------ */

static void topology(void)
{
	netns_enter_bpffs();
	netns_veth(DEV, MAC_DEV, PEER, MAC_PEER);
	netns_run("ip addr add %s/24 dev %s && ip addr add %s/64 dev %s nodad", RIP4, DEV, RIP6, DEV);
	/* The peer has no address: the frames sent on it are built by hand, and the kernel drops
	 * datagrams whose source is one of its own addresses. The client is routed through DEV. */
	netns_run("ip route add %s/32 dev %s && ip route add %s/128 dev %s", CLIENT4, DEV, CLIENT6, DEV);
	netns_run("ip addr add %s/32 dev lo && ip addr add %s/128 dev lo", VIP4, VIP6);
	netns_write("/proc/sys/net/ipv4/conf/all/rp_filter", "0");
	netns_write("/proc/sys/net/ipv4/conf/" DEV "/rp_filter", "0");
}

/* Which programs run on DEV (0: none). */
static void xdp_ids(uint32_t *drv, uint32_t *skb)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	cr_assert_eq(bpf_xdp_query(netns_ifindex(DEV), 0, &q), 0, "bpf_xdp_query: %s", strerror(errno));
	*drv = q.drv_prog_id;
	*skb = q.skb_prog_id;
}

/* The name of program id (the kernel's, at most 15 characters) into name. */
static void prog_name(uint32_t id, char name[BPF_OBJ_NAME_LEN])
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	cr_assert_geq(fd, 0, "program %u: %s", id, strerror(errno));
	cr_assert_eq(bpf_obj_get_info_by_fd(fd, &info, &len), 0, "program %u: %s", id, strerror(errno));
	close(fd);
	memcpy(name, info.name, BPF_OBJ_NAME_LEN);
}

/*
 * What `decap status` (o, JSON) says of an attachment in mode ("native" or
 * "generic") against the kernel's own account, under either attach method:
 * "bpf_link" (one program on a pinned link: the interface runs xlvs_decap
 * itself) or "libxdp" (inside libxdp's dispatcher, where the kernel has
 * freplace for it, e.g. Debian 12's 6.1: the interface runs xdp_dispatcher and
 * there is no link). prog_id names xlvs_decap under both. Returns the method;
 * head gets the first line the text printer must print.
 */
static const char *check_attached(json_t *o, const char *mode, char *head, size_t size)
{
	const char *method = json_string_value(json_object_get(o, "attach"));
	bool generic = !strcmp(mode, "generic");
	uint32_t drv, skb, running, prog_id;
	char name[BPF_OBJ_NAME_LEN];
	struct stat st;
	int n;

	xdp_ids(&drv, &skb);
	running = generic ? skb : drv;
	cr_expect_eq(generic ? drv : skb, 0, "a program in the other mode on " DEV);
	cr_expect(json_is_true(json_object_get(o, "attached")));
	cr_expect_str_eq(json_string_value(json_object_get(o, "mode")), mode);
	prog_id = (uint32_t)jint(o, "prog_id");
	prog_name(prog_id, name);
	cr_expect_str_eq(name, "xlvs_decap", "status's prog_id %u is not xlvs_decap", prog_id);
	cr_assert_not_null(method, "no attach method in the status");
	if (!strcmp(method, "bpf_link")) {
		cr_expect_eq(running, prog_id, "%s program on " DEV " is %u, status says %u", mode, running,
			     prog_id);
		cr_expect_eq(stat(PIN "/link", &st), 0, "the bpf_link is not pinned");
		n = snprintf(head, size, DEV ": xdp %s, bpf_link id %lld, prog id %u, gue port %lld\n", mode,
			     jint(o, "link_id"), prog_id, jint(o, "gue_port"));
	} else {
		cr_assert_str_eq(method, "libxdp", "unknown attach method");
		prog_name(running, name);
		cr_expect_str_eq(name, "xdp_dispatcher", "%s program %u on " DEV, mode, running);
		cr_expect_null(json_object_get(o, "link_id"), "libxdp attaches without a link");
		cr_expect_neq(stat(PIN "/link", &st), 0, "a link is pinned under libxdp");
		n = snprintf(head, size, DEV ": xdp %s, libxdp, prog id %u, gue port %lld\n", mode, prog_id,
			     jint(o, "gue_port"));
	}
	cr_assert(n > 0 && (size_t)n < size);
	return method;
}

/* ---- frames ------------------------------------------------------------------------- */

enum tun {
	TUN_IPIP,
	TUN_GUE4,
	TUN_IP6IP6
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/*
 * An Ethernet frame PEER -> DEV: outer header of the given kind to outer_dst,
 * carrying a UDP datagram client -> VIP:dport. Returns its length; *inner and
 * *inner_len point at the inner UDP payload.
 */
static size_t tunnel_frame(uint8_t *f, enum tun kind, const char *outer_dst, uint16_t gue_port,
			   uint16_t dport, const uint8_t **payload, size_t *payload_len)
{
	struct pkt_spec in = { .proto = IPPROTO_UDP, .sport = 40000, .dport = dport, .payload = 64 };
	uint8_t inner[PKT_MAX], *ip = f + 14;
	size_t ilen, olen, l4 = kind == TUN_GUE4 ? 8 : 0;

	in.family = kind == TUN_IP6IP6 ? 6 : 4;
	in.src = in.family == 4 ? CLIENT4 : CLIENT6;
	in.dst = in.family == 4 ? VIP4 : VIP6;
	ilen = pkt_build_l3(&in, inner);
	parse_mac(MAC_DEV, f);
	parse_mac(MAC_PEER, f + 6);
	if (kind == TUN_IP6IP6) {
		put16(f + 12, ETH_P_IPV6);
		memset(ip, 0, 40);
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)ilen);
		ip[6] = IPPROTO_IPV6;
		ip[7] = 64;
		parse_addr(6, PEER6, ip + 8);
		parse_addr(6, outer_dst, ip + 24);
		olen = 40;
	} else {
		put16(f + 12, ETH_P_IP);
		olen = 20 + l4;
		memset(ip, 0, olen);
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(olen + ilen));
		ip[8] = 64;
		ip[9] = kind == TUN_GUE4 ? IPPROTO_UDP : IPPROTO_IPIP;
		parse_addr(4, PEER4, ip + 12);
		parse_addr(4, outer_dst, ip + 16);
		put16(ip + 10, csum_finish(csum_partial(ip, 20, 0)));
		if (kind == TUN_GUE4) {
			put16(ip + 20, 49152); /* the director takes it from the flow hash */
			put16(ip + 22, gue_port);
			put16(ip + 24, (uint16_t)(8 + ilen)); /* checksum 0: none, as allowed over IPv4 */
		}
	}
	memcpy(ip + olen, inner, ilen);
	*payload = ip + olen + (in.family == 4 ? 20 : 40) + 8;
	*payload_len = in.payload;
	return 14 + olen + ilen;
}

static int udp_listener(int family, uint16_t port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	long us = (long)UNIT_SLOW(500000); /* tunnel_delivers()'s half second */
	struct timeval tv = { .tv_sec = us / 1000000, .tv_usec = us % 1000000 };
	int fd = socket(family, SOCK_DGRAM, 0), one = 1;

	cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	cr_assert_eq(family == AF_INET ? bind(fd, (struct sockaddr *)&a4, sizeof(a4))
				       : bind(fd, (struct sockaddr *)&a6, sizeof(a6)),
		     0, "bind %u: %s", port, strerror(errno));
	return fd;
}

static void send_frame(const uint8_t *f, size_t len)
{
	struct sockaddr_ll ll = { .sll_family = AF_PACKET,
				  .sll_ifindex = netns_ifindex(PEER),
				  .sll_halen = 6 };
	int fd = socket(AF_PACKET, SOCK_RAW, 0);

	cr_assert_geq(fd, 0, "AF_PACKET socket: %s", strerror(errno));
	parse_mac(MAC_DEV, ll.sll_addr);
	cr_assert_eq(sendto(fd, f, len, 0, (struct sockaddr *)&ll, sizeof(ll)), (ssize_t)len,
		     "send on " PEER ": %s", strerror(errno));
	close(fd);
}

/*
 * Send a tunnel frame into the veth; true if the inner datagram reached a
 * socket on VIP:dport with its payload intact (within half a second).
 */
static bool tunnel_delivers(enum tun kind, const char *outer_dst, uint16_t gue_port, uint16_t dport)
{
	uint8_t f[PKT_MAX], got[PKT_MAX];
	const uint8_t *payload;
	size_t len, plen;
	ssize_t n;
	int fd;

	fd = udp_listener(kind == TUN_IP6IP6 ? AF_INET6 : AF_INET, dport);
	len = tunnel_frame(f, kind, outer_dst, gue_port, dport, &payload, &plen);
	send_frame(f, len);
	n = recv(fd, got, sizeof(got), 0);
	close(fd);
	if (n < 0)
		return false;
	cr_assert_eq((size_t)n, plen, "inner datagram of %zd bytes, sent %zu", n, plen);
	cr_assert_eq(memcmp(got, payload, plen), 0, "inner payload changed on the way");
	return true;
}

/* ---- tests ------------------------------------------------------------------------ */

static bool gone(int fd)
{
	return fd < 0 && errno == ENOENT;
}

/*
 * Kernel objects are freed after an RCU grace period: wait up to 2 s (UNIT_SLOW) for the id
 * to vanish. get is bpf_prog_get_fd_by_id or bpf_map_get_fd_by_id.
 */
static bool freed(int (*get)(__u32 id), uint32_t id)
{
	int i, fd;

	for (i = 0; i < UNIT_SLOW(200); i++) {
		fd = get(id);
		if (gone(fd))
			return true;
		if (fd >= 0)
			close(fd);
		usleep(10000);
	}
	return false;
}

/*
 * Attach, status, packets, detach. want_method: the attach method that must
 * be used, or NULL where either is right (libxdp's dispatcher where the
 * kernel allows it, else a bpf_link).
 */
static void attach_status_packets_detach(const char *want_method)
{
	uint32_t drv, skb, map_ids[8] = { 0 }, nr_maps = 8, prog_id, i;
	struct bpf_prog_info info = { 0 };
	uint8_t f[PKT_MAX], out[PKT_MAX];
	const uint8_t *payload;
	const char *method;
	size_t len, plen;
	json_t *root, *o;
	struct res r;
	char line[160];
	bool by_link;
	struct stat st;
	__u32 ilen = sizeof(info);
	int fd;

	topology();
	r = XLVS_OK("decap", "attach", "dev", DEV, "mode", "native");
	res_free(&r);

	/* status: what runs where, by the kernel's own account */
	o = status_json(&root);
	prog_id = (uint32_t)jint(o, "prog_id");
	method = check_attached(o, "native", line, sizeof(line));
	if (want_method)
		cr_expect_str_eq(method, want_method);
	by_link = !strcmp(method, "bpf_link"); /* method is the status's: freed with it */
	cr_expect_str_eq(json_string_value(json_object_get(o, "pin_dir")), PIN);
	cr_expect_eq(jint(o, "gue_port"), XLVS_GUE_PORT_DEFAULT);
	cr_expect_str_eq(json_string_value(json_object_get(o, "addrs")), "dev");
	cr_expect(has_endpoint(o, RIP4) && has_endpoint(o, RIP6), "the interface's addresses are endpoints");
	cr_expect(!has_endpoint(o, VIP4), "lo's VIP is not an endpoint with addrs dev");
	for (i = 0; i < XLVS_DECAP_MAX; i++)
		cr_expect_eq(counter(o, xlvs_decap_names[i]), 0, "%s", xlvs_decap_names[i]);

	/* the text printer says the same */
	strncat(line, "  pins       " PIN "\n", sizeof(line) - strlen(line) - 1);
	json_decref(root);
	r = XLVS_OK("decap", "status");
	cr_expect_eq(strncmp(r.out, line, strlen(line)), 0, "status text:\n%s\nexpected to start:\n%s", r.out,
		     line);
	cr_expect(strstr(r.out, "\n  ipip                              0\n"), "%s", r.out);
	res_free(&r);
	for (i = 0; i < 5; i++) { /* and "link" under bpf_link: check_attached */
		char path[128];

		snprintf(path, sizeof(path), PIN "/%s",
			 (const char *[]){ "prog_xlvs_decap", "rodata", "xlvs_decap_addrs", "xlvs_decap_cfg",
					   "xlvs_decap_stats" }[i]);
		cr_expect_eq(stat(path, &st), 0, "%s is not pinned", path);
	}

	/* real frames into the veth: decapsulated and delivered to the VIP, counted */
	cr_expect(tunnel_delivers(TUN_IPIP, RIP4, 0, 5000), "IPIP to " RIP4 " not delivered");
	cr_expect(tunnel_delivers(TUN_GUE4, RIP4, 6080, 5001), "GUE to " RIP4 ":6080 not delivered");
	cr_expect(tunnel_delivers(TUN_IP6IP6, RIP6, 0, 5002), "IP6IP6 to " RIP6 " not delivered");
	cr_expect(!tunnel_delivers(TUN_IPIP, "198.18.7.99", 0, 5003), "IPIP to a non-local address "
								      "was decapsulated");

	/*
	 * BPF_PROG_RUN on the pinned program: it shares the pinned counters. Inside
	 * libxdp's dispatcher the pinned copy is an freplace extension, which the
	 * kernel cannot test-run (ENOTSUPP): a second frame on the wire instead.
	 */
	fd = bpf_obj_get(PIN "/prog_xlvs_decap");
	cr_assert_geq(fd, 0, "open the pinned program: %s", strerror(errno));
	cr_assert_eq(bpf_obj_get_info_by_fd(fd, &info, &ilen), 0);
	if (by_link) {
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

		cr_expect_eq(info.type, BPF_PROG_TYPE_XDP);
		len = tunnel_frame(f, TUN_IP6IP6, RIP6, 0, 5004, &payload, &plen);
		t.data_in = f;
		t.data_size_in = (__u32)len;
		cr_assert_eq(bpf_prog_test_run_opts(fd, &t), 0, "BPF_PROG_RUN: %s", strerror(errno));
		cr_expect_eq(t.retval, XDP_PASS);
		cr_expect_eq(t.data_size_out, len - 40, "the outer IPv6 header is stripped");
		cr_expect_eq(memcmp(out + 14, f + 14 + 40, len - 54), 0, "inner packet changed");
	} else {
		cr_expect_eq(info.type, BPF_PROG_TYPE_EXT, "libxdp's copy is not an extension");
		cr_expect(tunnel_delivers(TUN_IP6IP6, RIP6, 0, 5004), "IP6IP6 to " RIP6 " not delivered");
	}
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = nr_maps;
	info.map_ids = (__u64)(unsigned long)map_ids;
	ilen = sizeof(info);
	cr_assert_eq(bpf_obj_get_info_by_fd(fd, &info, &ilen), 0);
	nr_maps = info.nr_map_ids < 8 ? info.nr_map_ids : 8;
	cr_expect_geq(nr_maps, 4, "addrs, cfg, stats and rodata");
	close(fd);

	o = status_json(&root);
	cr_expect_eq(counter(o, "ipip"), 1);
	cr_expect_eq(counter(o, "gue4"), 1);
	cr_expect_eq(counter(o, "ip6ip6"), 2, "one on the wire, one by BPF_PROG_RUN (bpf_link) or the wire");
	cr_expect_eq(counter(o, "rejected_not_local"), 1);
	cr_expect_eq(counter(o, "gue6") + counter(o, "4in6") + counter(o, "6in4") +
			     counter(o, "rejected_truncated") + counter(o, "rejected_bad_inner") +
			     counter(o, "rejected_fragment"),
		     0);
	json_decref(root);

	/* detach: no XDP program, no pins, and the kernel frees program and maps */
	r = XLVS_OK("decap", "detach", "dev", DEV);
	cr_expect_str_eq(r.out, "detached xlvs_decap from " DEV "\n");
	res_free(&r);
	xdp_ids(&drv, &skb);
	cr_expect_eq(drv, 0, "a native XDP program is left on " DEV);
	cr_expect_eq(skb, 0, "a generic XDP program is left on " DEV);
	cr_expect_neq(stat(PIN, &st), 0, PIN " is left");
	cr_expect_neq(stat("/sys/fs/bpf/xlvs", &st), 0, "the empty /sys/fs/bpf/xlvs is left");
	cr_expect(freed(bpf_prog_get_fd_by_id, prog_id), "program %u still exists after detach", prog_id);
	for (i = 0; i < nr_maps; i++)
		cr_expect(freed(bpf_map_get_fd_by_id, map_ids[i]), "map %u still exists after detach",
			  map_ids[i]);
	cr_expect(!tunnel_delivers(TUN_IPIP, RIP4, 0, 5005), "decapsulated after detach");
	r = XLVS_OK("decap", "status");
	cr_expect_str_eq(r.out, "no decap attachments (pins in /sys/fs/bpf/xlvs/decap)\n");
	res_free(&r);
}

/* Whichever method this kernel allows: libxdp's dispatcher (6.1) or a bpf_link (no freplace). */
Test(decap, attach_status_packets_detach, .timeout = 60)
{
	attach_status_packets_detach(NULL);
}

/* The bpf_link fallback on every kernel (libxdp is told not to use its dispatcher). */
Test(decap, attach_status_packets_detach_bpf_link, .timeout = 60)
{
	cr_assert_eq(setenv("LIBXDP_SKIP_DISPATCHER", "1", 1), 0);
	attach_status_packets_detach("bpf_link");
}

Test(decap, generic_gue_port_any_and_mounts_bpffs, .timeout = 60)
{
	struct statfs sfs;
	uint32_t drv, skb;
	json_t *root, *o;
	struct res r;
	char want[160];

	topology();
	/* No bpffs on /sys/fs/bpf (in this private mount namespace only): attach must mount one. */
	while (statfs("/sys/fs/bpf", &sfs) == 0 && sfs.f_type == BPF_FS_MAGIC)
		cr_assert_eq(umount("/sys/fs/bpf"), 0, "umount: %s", strerror(errno));
	r = XLVS_OK("decap", "attach", "dev", DEV, "gue-port", "7777", "mode", "generic", "addrs", "any");
	res_free(&r);
	cr_expect(statfs("/sys/fs/bpf", &sfs) == 0 && sfs.f_type == BPF_FS_MAGIC, "bpffs not mounted");

	o = status_json(&root);
	check_attached(o, "generic", want, sizeof(want));
	cr_expect_eq(jint(o, "gue_port"), 7777);
	cr_expect_str_eq(json_string_value(json_object_get(o, "addrs")), "any");
	cr_expect_eq(json_array_size(json_object_get(o, "endpoints")), 0);
	json_decref(root);
	r = XLVS_OK("decap", "status", DEV);
	cr_expect_eq(strncmp(r.out, want, strlen(want)), 0, "%s", r.out);
	cr_expect(strstr(r.out, "\n  addrs      any: every tunnel packet is decapsulated\n"), "%s", r.out);
	res_free(&r);

	/* GUE on 7777 is decapsulated, whatever the outer destination (addrs any); 6080 is not GUE here. */
	cr_expect(tunnel_delivers(TUN_GUE4, "198.18.7.99", 7777, 5000), "GUE on 7777 not delivered");
	cr_expect(!tunnel_delivers(TUN_GUE4, RIP4, 6080, 5001), "GUE on 6080 decapsulated");
	o = status_json(&root);
	cr_expect_eq(counter(o, "gue4"), 1);
	cr_expect_eq(counter(o, "rejected_not_local"), 0);
	json_decref(root);

	r = XLVS_OK("-j", "decap", "detach", DEV);
	cr_expect_str_eq(r.out, "{\"detached\":\"" DEV "\"}\n");
	res_free(&r);
	xdp_ids(&drv, &skb);
	cr_expect(drv == 0 && skb == 0);
}

Test(decap, sync_follows_address_changes, .timeout = 60)
{
	json_t *root, *o;
	struct res r;

	topology();
	r = XLVS_OK("decap", "attach", "dev", DEV);
	res_free(&r);
	netns_run("ip addr add 198.18.6.3/24 dev %s", DEV);
	cr_expect(!tunnel_delivers(TUN_IPIP, "198.18.6.3", 0, 5000), "new address before sync");
	r = XLVS_OK("decap", "sync", "dev", DEV);
	cr_expect_str_eq(r.out, DEV ": 4 tunnel endpoint addresses\n", "RIP4, RIP6, 198.18.6.3, link-local");
	res_free(&r);
	cr_expect(tunnel_delivers(TUN_IPIP, "198.18.6.3", 0, 5001), "new address after sync");
	netns_run("ip addr del %s/24 dev %s", RIP4, DEV);
	r = XLVS_OK("decap", "sync", "dev", DEV);
	res_free(&r);
	o = status_json(&root);
	cr_expect(!has_endpoint(o, RIP4) && has_endpoint(o, "198.18.6.3") && has_endpoint(o, RIP6));
	cr_expect_eq(counter(o, "ipip"), 1);
	cr_expect_eq(counter(o, "rejected_not_local"), 1);
	json_decref(root);
	r = XLVS_OK("decap", "detach", "dev", DEV);
	res_free(&r);
}

Test(decap, interface_gone_and_back, .timeout = 60)
{
	json_t *root, *o;
	struct stat st;
	struct res r;

	topology();
	r = XLVS_OK("decap", "attach", "dev", DEV);
	res_free(&r);
	/* Deleting the interface detaches the link; the pins stay and status says so. */
	netns_run("ip link del %s", DEV);
	netns_veth(DEV, MAC_DEV, PEER, MAC_PEER);
	netns_run("ip addr add %s/24 dev %s", RIP4, DEV);
	o = status_json(&root);
	cr_expect(json_is_false(json_object_get(o, "attached")));
	cr_expect(json_is_null(json_object_get(o, "mode")));
	json_decref(root);
	r = XLVS_OK("decap", "status");
	cr_expect(strstr(r.out, DEV ": NOT ATTACHED"), "%s", r.out);
	res_free(&r);
	/* attach again: the stale pins are replaced */
	r = XLVS_OK("decap", "attach", "dev", DEV);
	res_free(&r);
	o = status_json(&root);
	cr_expect(json_is_true(json_object_get(o, "attached")));
	json_decref(root);
	cr_expect(tunnel_delivers(TUN_IPIP, RIP4, 0, 5000));
	/* and detach cleans up after an interface that is gone for good */
	netns_run("ip link del %s", DEV);
	r = XLVS_OK("decap", "detach", "dev", DEV);
	res_free(&r);
	cr_expect_neq(stat(PIN, &st), 0, PIN " is left");
}

/* A trivial XDP program of someone else's, attached over netlink. */
static uint32_t foreign_xdp(void)
{
	struct bpf_insn pass[] = {
		{ .code = 0xb7, .dst_reg = 0, .imm = XDP_PASS }, /* r0 = XDP_PASS */
		{ .code = 0x95 },				 /* exit */
	};
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int fd;

	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "other_xdp", "GPL", pass, 2, NULL);
	cr_assert_geq(fd, 0, "load: %s", strerror(errno));
	cr_assert_eq(bpf_xdp_attach(netns_ifindex(DEV), fd, XDP_FLAGS_DRV_MODE, NULL), 0, "%s",
		     strerror(errno));
	cr_assert_eq(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	close(fd);
	return info.id;
}

struct bad_row {
	const char *words[10];
	int rc;
	const char *err; /* exact stderr; %u: the program id where there is one */
};

Test(decap, bad_input_rows, .timeout = 60)
{
	static const struct bad_row rows[] = {
		{ { "decap", "attach", "dev", "nosuchdev0" },
		  2,
		  "xlvs: interface nosuchdev0 does not exist\n" },
		{ { "decap", "attach", "dev", DEV, "gue-port", "0" },
		  1,
		  "xlvs: invalid gue-port '0' (1-65535)\n" ATTACH_USAGE },
		{ { "decap", "attach", "dev", DEV, "gue-port", "65536" },
		  1,
		  "xlvs: invalid gue-port '65536' (1-65535)\n" ATTACH_USAGE },
		{ { "decap", "attach", "dev", DEV, "gue-port", "6o80" },
		  1,
		  "xlvs: invalid gue-port '6o80' (1-65535)\n" ATTACH_USAGE },
		{ { "decap", "attach", "dev", DEV, "gue-port" },
		  1,
		  "xlvs: 'gue-port' needs a value\n" ATTACH_USAGE },
		{ { "decap", "attach", "dev", DEV, "mode", "turbo" },
		  1,
		  "xlvs: invalid mode 'turbo' (native or generic)\n" ATTACH_USAGE },
		{ { "decap", "attach", "dev", DEV, "addrs", "all" },
		  1,
		  "xlvs: invalid addrs 'all' (dev, host or any)\n" ATTACH_USAGE },
		{ { "decap", "attach", "gue-port", "7777" }, 1, "xlvs: missing 'dev IF'\n" ATTACH_USAGE },
		{ { "decap", "attach", "dev", "a/b" },
		  1,
		  "xlvs: invalid interface name 'a/b'\n" ATTACH_USAGE },
		{ { "decap", "detach", "dev", DEV, "now" },
		  1,
		  "xlvs: unexpected argument 'now'\nusage: xlvs decap detach dev IF\n" },
		{ { "decap", "detach", "dev", DEV },
		  2,
		  "xlvs: xlvs_decap is not attached to " DEV " (nothing pinned in " PIN ")\n" },
		{ { "decap", "status", "dev", DEV },
		  2,
		  "xlvs: xlvs_decap is not attached to " DEV " (nothing pinned in " PIN ")\n" },
		{ { "decap", "sync", "dev", DEV },
		  2,
		  "xlvs: xlvs_decap is not attached to " DEV " (nothing pinned in " PIN ")\n" },
		{ { "decap", "frobnicate" },
		  1,
		  "xlvs: unknown verb 'frobnicate' for decap; verbs: attach, detach, status, sync\n" },
	};
	char want[512];
	uint32_t drv, skb, id, prog_id;
	json_t *root, *o;
	struct stat st;
	struct res r;
	size_t i;

	topology();
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *const *w = rows[i].words;

		r = xlvs(w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8], w[9]);
		cr_expect_eq(r.rc, rows[i].rc, "row %zu (%s %s): exit %d, want %d", i, w[1], w[2] ? w[2] : "",
			     r.rc, rows[i].rc);
		cr_expect_str_eq(r.err, rows[i].err, "row %zu", i);
		cr_expect_str_empty(r.out, "row %zu printed: %s", i, r.out);
		res_free(&r);
	}
	cr_expect_neq(stat("/sys/fs/bpf/xlvs", &st), 0, "a failed command left /sys/fs/bpf/xlvs");

	/* attach twice: the second is refused, naming xlvs_decap (not libxdp's dispatcher), and the
	 * first keeps running */
	r = XLVS_OK("decap", "attach", "dev", DEV);
	res_free(&r);
	xdp_ids(&drv, &skb);
	o = status_json(&root);
	check_attached(o, "native", want, sizeof(want));
	prog_id = (uint32_t)jint(o, "prog_id");
	json_decref(root);
	r = xlvs("decap", "attach", "dev", DEV, "gue-port", "7777", NULL);
	snprintf(want, sizeof(want),
		 "xlvs: xlvs_decap is already attached to " DEV " (prog id %u); "
		 "detach it first: xlvs decap detach dev " DEV "\n",
		 prog_id);
	cr_expect_eq(r.rc, 2);
	cr_expect_str_eq(r.err, want);
	res_free(&r);
	xdp_ids(&id, &skb);
	cr_expect_eq(id, drv, "the first attachment was replaced");
	r = XLVS_OK("decap", "detach", "dev", DEV);
	res_free(&r);

	/* someone else's XDP program is not displaced, and nothing is left pinned */
	id = foreign_xdp();
	r = xlvs("decap", "attach", "dev", DEV, NULL);
	snprintf(want, sizeof(want),
		 "xlvs: " DEV " already runs XDP program 'other_xdp' (id %u): remove it "
		 "first (ip link set dev " DEV " xdp off, or xdp-loader unload " DEV " --all)\n",
		 id);
	cr_expect_eq(r.rc, 2);
	cr_expect_str_eq(r.err, want);
	res_free(&r);
	xdp_ids(&drv, &skb);
	cr_expect_eq(drv, id);
	cr_expect_neq(stat(PIN, &st), 0, "a refused attach left " PIN);
}

Test(decap, help_lists_the_verbs)
{
	struct res r = XLVS_OK("help", "decap");

	cr_expect(strstr(r.out, "  xlvs decap attach dev IF [gue-port N] [mode native|generic] "
				"[addrs dev|host|any]\n"),
		  "%s", r.out);
	cr_expect(strstr(r.out, "  xlvs decap detach dev IF\n"));
	cr_expect(strstr(r.out, "  xlvs decap status [dev IF]\n"));
	cr_expect(strstr(r.out, "  xlvs decap sync dev IF\n"));
	res_free(&r);
	r = XLVS_OK("help");
	cr_expect(strstr(r.out, "xlvs decap attach"), "xlvs help does not list decap");
	res_free(&r);
}
