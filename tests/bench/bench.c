// SPDX-License-Identifier: GPL-2.0
/*
 * xlvs-bench: what one packet costs on each path of the director, measured
 * with BPF_PROG_RUN on the loaded program (method in docs/bench.md).
 *
 * One frame per call: with repeat > 1 the kernel reruns the program on the
 * frame it has just modified, so an encapsulating path would measure itself
 * on its own output. Each row makes many calls and sums the duration the
 * kernel reports for each. That duration includes the kernel's own timer
 * and bh-disable overhead, so a program that only returns XDP_TX (the
 * floor) runs in batches interleaved with each row's batches and is
 * subtracted; drift (clock frequency, host noise) then hits both alike.
 * Every call's verdict and output length and every row's event counters are
 * checked: a row that measured a drop or a different path is an error.
 *
 * --repeat N is the exception, for asking what a warm loop costs (docs/bench.md): each call
 * runs the program N times on its own output, so only rows whose frame comes out as it went
 * in, on the same path, can use it; the event checks (N per call) say whether they did.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "jitprof.h"
#include "netns.h"

#include <xlvs/hash.h>
#include "maglev.h"
#include "schedtab.h"
#include "world.h"
#include "xlvsmaps.h"
#include "blocks.skel.h"
#include "xlvs_floor.skel.h"
#include "xlvs_lb.skel.h"

#define PAYLOAD	      64     /* TCP payload bytes of every measured frame */
#define CALLS_DEFAULT 200000 /* measured calls per row */
#define CALLS_QUICK   20000
#define BATCHES	      20 /* floor/row alternations per row */
#define REPEAT_MAX    1000000
#define WARM_CALLS    1000
#define STRIDE	      256  /* bytes between pre-built frames */
#define HIST_NS	      4096 /* durations histogram (for the median), 1 ns bins */

#define NEW_FLOWS	65536	/* distinct flows the new-flow rows cycle through */
#define FILL_FLOWS	1000000 /* established flows in the growth world */
#define FILL_CHUNK	65536
#define EXTRA_SVCS	10000
#define BIG_REALS	4096
#define BIG_SVC_ID	STD_SVC_MAX	  /* after the standard ids 0..STD_SVC_MAX-1 */
#define EXTRA_SVC_ID	(STD_SVC_MAX + 1) /* first of the EXTRA_SVCS ids */
#define BIG_VIP		"198.18.0.50"
#define MISS_DST	"198.18.0.99" /* no service, no VIP */
#define SMALL_RING	251
#define BUILD_SIZE	XLVS_RING_DEFAULT
#define BUILD_REALS	100
#define BUILDS_DEFAULT	50
#define BUILDS_QUICK	5
#define BUILD_TARGET_NS 1000000.0
#define CLIENT_SPORT	40000
#define SPREAD_SMALL	4096	/* established flows of the *_4k_spread rows */
#define SPREAD_STRIDE	15	/* the *_1m_spread rows visit filled flows 0, 15, 30, ... */
#define FLOOD_SYNS	1048576 /* new SYNs of one syn_flood row */
#define FLOOD_QUICK	131072	/* with --quick: still more than the table's free room */
#define FULL_SLACK	64	/* entries a full LRU table may leave free */
#define GUARD_RATE	20000	/* syn_guard_rate of the guarded flood row (docs/cli.md's example) */

enum row_id {
	R_FLOOR,
	R_MISS,
	R_DR,
	R_IPIP,
	R_IP6IP6,
	R_GUE4,
	R_GUE6,
	R_NEW,
	R_DR_1M,
	R_DR_1M_SPREAD,
	R_DR_10K,
	R_NEW_4K,
	R_NEW_MH,
	R_NEW_SH,
	R_NEW_DH,
	R_NEW_RR,
	R_NEW_WRR,
	R_NEW_LC,
	R_NEW_WLC,
	R_NEW_SED,
	R_NEW_NQ,
	R_NEW_LBLC,
	R_NEW_LBLCR,
	R_NEW_WLC_256,
	R_NEW_PERSIST_HIT,
	R_NEW_PERSIST_MISS,
	R_DR_64K,
	R_NAT_NEW,
	R_NAT_64K,
	R_NAT_RET_64K,
	R_FNAT_NEW,
	R_FNAT_64K,
	R_FNAT_RET_64K,
	/* issue 13: every method with flows spread over 4,096 and 1M-entry tables */
	R_DR6,
	R_DR_4K,
	R_IPIP_4K,
	R_GUE4_4K,
	R_DR6_4K,
	R_IP6IP6_4K,
	R_GUE6_4K,
	R_IPIP_1M,
	R_GUE4_1M,
	R_DR6_1M,
	R_IP6IP6_1M,
	R_GUE6_1M,
	/* a full table, and a SYN flood beside 1M established flows */
	R_SYN_FLOOD,
	R_SYN_FLOOD_GUARD,
	R_NEW_FULL,
	/* issue 13: the rows above run ring state (the default); these the same with table state */
	R_NEW_TABLE,
	R_DR_4K_TABLE,
	R_IPIP_4K_TABLE,
	R_GUE4_4K_TABLE,
	R_DR6_4K_TABLE,
	R_IP6IP6_4K_TABLE,
	R_GUE6_4K_TABLE,
	R_DR_1M_TABLE,
	R_IPIP_1M_TABLE,
	R_GUE4_1M_TABLE,
	R_DR6_1M_TABLE,
	R_IP6IP6_1M_TABLE,
	R_GUE6_1M_TABLE,
	R_SYN_FLOOD_TABLE,
	/* ring state's changed slots: an entry wins, the previous owner */
	R_DR_4K_CHANGED,
	R_DR_PREV_4K,
	/* building blocks (tests/bench/blocks.bpf.c) */
	R_BLK_ARRAY,
	R_BLK_ARRAY_READ,
	R_BLK_PERCPU_READ,
	R_BLK_STRIPE_READ,
	R_BLK_RING_4K,
	R_BLK_RING_64K,
	R_BLK_RING_PREV_4K,
	R_BLK_PERCPU,
	R_BLK_STRIPE,
	R_BLK_CLOCK,
	R_BLK_FLOW_HASH,
	R_BLK_FLOW_SLOT,
	R_BLK_FLOW_SLOT_MIX64,
	R_BLK_ADJUST_HEAD,
	R_BLK_HASH_HOT,
	R_BLK_HASH_4K,
	R_BLK_HASH_1M,
	R_BLK_LRU_HOT,
	R_BLK_LRU_4K,
	R_BLK_LRU_1M,
	R_BLK_LRU_INSERT,
	R_BLK_DR_PATH,
	R_BLK_DR_PATH_4K,
	R_MAX,
};

/* Targets from the project's performance goals, in ns above the floor. */
static const struct {
	const char *name;
	uint32_t target_ns; /* 0 = none */
} row_info[R_MAX] = {
	[R_FLOOR] = { "floor", 0 },
	[R_MISS] = { "miss", 0 },
	[R_DR] = { "dr_established", 60 },
	[R_IPIP] = { "ipip_established", 110 },
	[R_IP6IP6] = { "ip6ip6_established", 110 },
	[R_GUE4] = { "gue4_established", 110 },
	[R_GUE6] = { "gue6_established", 110 },
	[R_NEW] = { "new_flow_dr", 270 },
	[R_DR_1M] = { "dr_established_1m_flows", 60 },
	[R_DR_1M_SPREAD] = { "dr_established_1m_spread", 60 },
	[R_DR_10K] = { "dr_established_10k_services", 60 },
	[R_NEW_4K] = { "new_flow_4096_reals", 270 },
	/* issue 11: each scheduler's new flow within 1.5 x Maglev's target */
	[R_NEW_MH] = { "new_flow_mh", 405 },
	[R_NEW_SH] = { "new_flow_sh_fallback", 405 },
	[R_NEW_DH] = { "new_flow_dh", 405 },
	[R_NEW_RR] = { "new_flow_rr", 405 },
	[R_NEW_WRR] = { "new_flow_wrr", 405 },
	[R_NEW_LC] = { "new_flow_lc", 405 },
	[R_NEW_WLC] = { "new_flow_wlc", 405 },
	[R_NEW_SED] = { "new_flow_sed", 405 },
	[R_NEW_NQ] = { "new_flow_nq", 405 },
	/* one VIP, one destination: its assignment found, the overload check, no wlc scan */
	[R_NEW_LBLC] = { "new_flow_lblc", 405 },
	[R_NEW_LBLCR] = { "new_flow_lblcr", 405 },
	/* the scan's bound: O(reals) per new flow, as IPVS */
	[R_NEW_WLC_256] = { "new_flow_wlc_256_reals", 0 },
	/* persistence (bpf/persist.h) before Maglev: the template's lookup, and its write on a miss */
	[R_NEW_PERSIST_HIT] = { "new_flow_persist_hit", 405 },
	[R_NEW_PERSIST_MISS] = { "new_flow_persist_miss", 405 },
	/* issue 12: NAT and FULLNAT on SVC_DR4's service and reals, reported as ratios to DR's rows */
	[R_DR_64K] = { "dr_established_64k", 0 },
	[R_NAT_NEW] = { "nat_new_flow", 0 },
	[R_NAT_64K] = { "nat_established_64k", 0 },
	[R_NAT_RET_64K] = { "nat_return_64k", 0 },
	[R_FNAT_NEW] = { "fullnat_new_flow", 0 },
	[R_FNAT_64K] = { "fullnat_established_64k", 0 },
	[R_FNAT_RET_64K] = { "fullnat_return_64k", 0 },
	[R_DR6] = { "dr6_established", 60 },
	[R_DR_4K] = { "dr_established_4k_spread", 60 },
	[R_IPIP_4K] = { "ipip_established_4k_spread", 110 },
	[R_GUE4_4K] = { "gue4_established_4k_spread", 110 },
	[R_DR6_4K] = { "dr6_established_4k_spread", 60 },
	[R_IP6IP6_4K] = { "ip6ip6_established_4k_spread", 110 },
	[R_GUE6_4K] = { "gue6_established_4k_spread", 110 },
	[R_IPIP_1M] = { "ipip_established_1m_spread", 110 },
	[R_GUE4_1M] = { "gue4_established_1m_spread", 110 },
	[R_DR6_1M] = { "dr6_established_1m_spread", 60 },
	[R_IP6IP6_1M] = { "ip6ip6_established_1m_spread", 110 },
	[R_GUE6_1M] = { "gue6_established_1m_spread", 110 },
	[R_SYN_FLOOD] = { "syn_flood_1m_established", 0 },
	[R_SYN_FLOOD_GUARD] = { "syn_flood_1m_established_guard", 0 },
	[R_NEW_FULL] = { "new_flow_full_table", 270 },
	[R_NEW_TABLE] = { "new_flow_dr_table", 270 },
	[R_DR_4K_TABLE] = { "dr_established_4k_spread_table", 60 },
	[R_IPIP_4K_TABLE] = { "ipip_established_4k_spread_table", 110 },
	[R_GUE4_4K_TABLE] = { "gue4_established_4k_spread_table", 110 },
	[R_DR6_4K_TABLE] = { "dr6_established_4k_spread_table", 60 },
	[R_IP6IP6_4K_TABLE] = { "ip6ip6_established_4k_spread_table", 110 },
	[R_GUE6_4K_TABLE] = { "gue6_established_4k_spread_table", 110 },
	[R_DR_1M_TABLE] = { "dr_established_1m_spread_table", 60 },
	[R_IPIP_1M_TABLE] = { "ipip_established_1m_spread_table", 110 },
	[R_GUE4_1M_TABLE] = { "gue4_established_1m_spread_table", 110 },
	[R_DR6_1M_TABLE] = { "dr6_established_1m_spread_table", 60 },
	[R_IP6IP6_1M_TABLE] = { "ip6ip6_established_1m_spread_table", 110 },
	[R_GUE6_1M_TABLE] = { "gue6_established_1m_spread_table", 110 },
	[R_SYN_FLOOD_TABLE] = { "syn_flood_1m_established_table", 0 },
	[R_DR_4K_CHANGED] = { "dr_established_4k_spread_changed", 60 },
	[R_DR_PREV_4K] = { "dr_prev_owner_4k_spread", 0 },
	[R_BLK_ARRAY] = { "block_array_lookup", 0 },
	[R_BLK_ARRAY_READ] = { "block_array_read", 0 },
	[R_BLK_PERCPU_READ] = { "block_percpu_read", 0 },
	[R_BLK_STRIPE_READ] = { "block_stripe_read", 0 },
	[R_BLK_RING_4K] = { "block_ring_4k_spread", 0 },
	[R_BLK_RING_64K] = { "block_ring_64k_spread", 0 },
	[R_BLK_RING_PREV_4K] = { "block_ring_prev_4k_spread", 0 },
	[R_BLK_PERCPU] = { "block_percpu_counter", 0 },
	[R_BLK_STRIPE] = { "block_stripe_counter", 0 },
	[R_BLK_CLOCK] = { "block_clock", 0 },
	[R_BLK_FLOW_HASH] = { "block_flow_hash", 0 },
	[R_BLK_FLOW_SLOT] = { "block_flow_slot", 0 },
	[R_BLK_FLOW_SLOT_MIX64] = { "block_flow_slot_mix64", 0 },
	[R_BLK_ADJUST_HEAD] = { "block_adjust_head", 0 },
	[R_BLK_HASH_HOT] = { "block_hash_hot", 0 },
	[R_BLK_HASH_4K] = { "block_hash_4k_spread", 0 },
	[R_BLK_HASH_1M] = { "block_hash_1m_spread", 0 },
	[R_BLK_LRU_HOT] = { "block_lru_lookup_hot", 0 },
	[R_BLK_LRU_4K] = { "block_lru_lookup_4k_spread", 0 },
	[R_BLK_LRU_1M] = { "block_lru_lookup_1m_spread", 0 },
	[R_BLK_LRU_INSERT] = { "block_lru_insert", 0 },
	/* the design's limit: a ring-state DR packet's necessary work in one program (blk_dr_path) */
	[R_BLK_DR_PATH] = { "block_dr_path", 0 },
	[R_BLK_DR_PATH_4K] = { "block_dr_path_4k_spread", 0 },
};

/* The NAT rows against the DR rows of the same run (ns above the floor). */
static const struct {
	enum row_id row, dr;
} nat_ratios[] = {
	{ R_NAT_NEW, R_NEW },  { R_NAT_64K, R_DR_64K },	 { R_NAT_RET_64K, R_DR_64K },
	{ R_FNAT_NEW, R_NEW }, { R_FNAT_64K, R_DR_64K }, { R_FNAT_RET_64K, R_DR_64K },
};

/* How a row's service keeps flow state (XLVS_SVC_F_RING_STATE), as measured. */
enum fs_mode {
	FS_NONE,  /* no service: the miss row, building blocks */
	FS_RING,  /* ring state: stable slots forwarded with no connection-table work */
	FS_TABLE, /* every flow recorded (or ring state asked of a data path that ignores it) */
};

static const char *const fs_names[] = { "-", "ring", "table" };

struct result {
	uint64_t calls, sum_ns;
	uint64_t floor_calls, floor_sum_ns; /* the floor batches around this row */
	uint32_t p50_ns;
	enum fs_mode state;
	bool done;
};

/* Pre-built frames of one row, all of the same length. */
struct frames {
	uint8_t *buf;
	uint32_t len, n;
	struct xlvs_flow *flows; /* their conntrack keys, for forgetting them */
	uint32_t cycle;		 /* times a reset has renewed them */
};

struct bench;

struct row {
	enum row_id id;
	int verdict;
	int grow;	    /* output length minus input length */
	enum xlvs_event ev; /* counted exactly once per call */
	struct frames *f;
	/* Before the frames are reused: make their flows new again. */
	void (*reset)(struct bench *b, const struct row *r);
	int prog_fd;	 /* 0: the director; else a building block, no events checked */
	int map_fd;	 /* the table forget_flows() empties; 0: xlvs_conns */
	uint32_t calls;	 /* 0: the run's calls per row */
	bool or_guarded; /* ev or syn_guard_not_inserted, once per call */
	/*
	 * The VIP of the TCP port-80 service the frames go to (NULL: none). A ring-state service's
	 * rows are checked for the stable-slot path instead of ev: no event at all, every packet
	 * counted by the service, SYNs as its new flows. ev is the path of a table-state service.
	 */
	const char *vip;
	enum fs_mode want; /* the state the row names (its service must be in it); FS_NONE: the default's */
	/*
	 * A ring-state row on changed slots (bpf/ring.h flow_select()): ring_ev, the branch taken,
	 * and ev, the table's own event of it, each once per call and no other event.
	 */
	bool changed;
	enum xlvs_event ring_ev;
};

/* A flood row's figures: does the connection table keep its established flows? */
struct flood {
	enum row_id row;
	uint64_t syns, established, survived, entries_before, entries_after;
	uint32_t guard_rate;
	bool done;
};

#define FLOODS 3 /* ring state, table state, table state with the SYN guard */

#define LINES_PROGS_MAX 64 /* --lines: loaded programs measured in one run */

struct bench {
	struct world w;
	struct xlvs_floor_bpf *floor;
	int floor_fd;
	uint32_t calls, builds;
	uint32_t repeat; /* --repeat: runs per BPF_PROG_RUN call of the measured rows (1: the method) */
	const char *json;
	struct result res[R_MAX];
	uint64_t hist[HIST_NS + 1], floor_hist[HIST_NS + 1];
	double build_ns, build_big_ns;
	double wall_s;
	double load0;	  /* 1-minute load average at start: other work skews rows */
	int fib_ifindex;  /* the NAT rows' ingress interface (fib_namespace) */
	const char *rows; /* --rows: comma-separated shell patterns of row names; NULL: all */
	struct flood flood[FLOODS];
	int ring_dp;	       /* the data path honours XLVS_SVC_F_RING_STATE: 1, 0, -1 not probed yet */
	enum std_svc fill_svc; /* whose flows the growth world's table holds */
	FILE *lines;	       /* --lines: the measured programs' line tables (jitprof.h) */
	uint32_t lines_ids[LINES_PROGS_MAX], lines_n; /* the programs already in it */
};

static double now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static const char *verdict_name(int v)
{
	static const char *const names[] = {
		"XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT",
	};

	return v >= 0 && v <= XDP_REDIRECT ? names[v] : "unknown verdict";
}

/* ---- frames ---------------------------------------------------------------- */

static void frames_alloc(struct frames *f, uint32_t n, bool keys)
{
	memset(f, 0, sizeof(*f));
	f->n = n;
	f->buf = calloc(n, STRIDE);
	f->flows = keys ? calloc(n, sizeof(*f->flows)) : NULL;
	CHECK(f->buf && (!keys || f->flows), "out of memory for %u frames", n);
}

static void frames_free(struct frames *f)
{
	free(f->buf);
	free(f->flows);
}

static void frame_put(struct frames *f, uint32_t i, const struct pkt_spec *s)
{
	uint8_t buf[PKT_MAX];
	size_t len = pkt_build(s, buf);

	CHECK(len <= STRIDE, "frame of %zu bytes exceeds the stride", len);
	CHECK(i == 0 || len == f->len, "frames of one row must have one length");
	f->len = (uint32_t)len;
	memcpy(f->buf + (size_t)i * STRIDE, buf, len);
	if (f->flows)
		spec_flow(s, &f->flows[i]);
}

static struct pkt_spec tcp_spec(uint8_t family, const char *src, const char *dst, uint16_t sport)
{
	struct pkt_spec s = {
		.family = family,
		.proto = IPPROTO_TCP,
		.src = src,
		.dst = dst,
		.sport = sport,
		.dport = 80,
		.tcp_flags = TH_ACK,
		.payload = PAYLOAD,
	};

	return s;
}

/* One frame of an established client flow (or of the miss row). */
static void one_frame(struct frames *f, uint8_t family, const char *dst)
{
	struct pkt_spec s = tcp_spec(family, family == 4 ? CLIENT4 : CLIENT6, dst, CLIENT_SPORT);

	frames_alloc(f, 1, false);
	frame_put(f, 0, &s);
}

/* NEW_FLOWS frames to vip: 32768 clients in 198.18.128.0/17, two source ports each. */
static void client_frames(struct frames *f, const char *vip, uint8_t tcp_flags)
{
	char src[INET_ADDRSTRLEN];
	struct pkt_spec s;
	uint32_t i;

	frames_alloc(f, NEW_FLOWS, true);
	for (i = 0; i < NEW_FLOWS; i++) {
		snprintf(src, sizeof(src), "198.18.%u.%u", 128 + ((i >> 8) & 127), i & 255);
		s = tcp_spec(4, src, vip, (uint16_t)(10000 + (i >> 15)));
		s.tcp_flags = tcp_flags;
		frame_put(f, i, &s);
	}
}

/* The SYNs of NEW_FLOWS new flows. */
static void new_flow_frames(struct frames *f, const char *vip)
{
	client_frames(f, vip, TH_SYN);
}

/* Delete the frames' flows; absent ones (never sent yet, or never recorded) are fine. */
static void forget_flows(struct bench *b, const struct row *r)
{
	int fd = r->map_fd ? r->map_fd : MAP_FD(&b->w, xlvs_conns);
	uint32_t i;

	for (i = 0; i < r->f->n; i++)
		CHECK(!bpf_map_delete_elem(fd, &r->f->flows[i]) || errno == ENOENT, "forget flow %u: %s", i,
		      strerror(errno));
}

/* ---- flow state (issue 13) -------------------------------------------------- */

/*
 * xlvsd's planner with flow_state auto, the default (maps/spec.h, /work/ring-spec.md): ring state
 * iff the scheduler is maglev or mh, TCP, not persistent, and no real forwards by nat or fullnat.
 */
static bool ring_by_default(uint8_t sched, uint8_t proto, uint32_t persist_s, uint8_t fwd)
{
	return (sched == XLVS_SCHED_MAGLEV || sched == XLVS_SCHED_MH) && proto == IPPROTO_TCP && !persist_s &&
	       fwd != XLVS_FWD_NAT && fwd != XLVS_FWD_FULLNAT;
}

static struct xlvs_svc_key svc_key(const char *vip, uint16_t port, uint8_t proto)
{
	struct xlvs_svc_key k = { .port = htons(port), .proto = proto };

	k.family = strchr(vip, ':') ? XLVS_AF_INET6 : XLVS_AF_INET;
	parse_addr(k.family, vip, k.addr);
	return k;
}

static void svc_get(struct bench *b, const struct xlvs_svc_key *k, struct xlvs_service *v)
{
	CHECK(!bpf_map_lookup_elem(MAP_FD(&b->w, xlvs_services), k, v), "service: %s", strerror(errno));
}

static void svc_put(struct bench *b, const struct xlvs_svc_key *k, const struct xlvs_service *v)
{
	world_service_put(&b->w, k, v);
}

static uint32_t with_ring_state(uint32_t flags, bool ring)
{
	return ring ? flags | XLVS_SVC_F_RING_STATE : flags & ~XLVS_SVC_F_RING_STATE;
}

/* The TCP port-80 service at vip in ring state or table state (flow_state ring / table). */
static void set_ring_state(struct bench *b, const char *vip, bool ring)
{
	struct xlvs_svc_key k = svc_key(vip, 80, IPPROTO_TCP);
	struct xlvs_service v;

	svc_get(b, &k, &v);
	v.flags = with_ring_state(v.flags, ring);
	svc_put(b, &k, &v);
}

/* Every standard service as flow_state auto makes it: the maglev TCP services get ring state. */
static void default_flow_state(struct bench *b)
{
	struct xlvs_svc_key k;
	struct xlvs_service v;
	uint32_t i;

	for (i = 0; i < STD_SVC_MAX; i++) {
		const struct svc_def *d = &std_svcs[i];

		k = svc_key(d->vip, d->port, d->proto);
		svc_get(b, &k, &v);
		v.flags = with_ring_state(v.flags,
					  ring_by_default(d->sched, d->proto, v.persist_timeout, d->fwd));
		svc_put(b, &k, &v);
	}
}

/*
 * Whether the loaded data path honours XLVS_SVC_F_RING_STATE: the ACK of a flow never seen, to
 * the ring-state SVC_DR4 (its ring fresh, so stable), leaves no entry; table state records it.
 */
static bool ring_data_path(struct bench *b)
{
	struct pkt_spec s = tcp_spec(4, "198.18.99.1", std_svcs[SVC_DR4].vip, 1);
	uint8_t in[PKT_MAX], out[PKT_MAX];
	size_t len = pkt_build(&s, in), out_len;
	struct xlvs_flow f;
	struct xlvs_conn c;
	bool entry;

	spec_flow(&s, &f);
	CHECK(world_run(&b->w, in, len, out, &out_len) == XDP_TX, "ring state probe: ACK to %s not forwarded",
	      std_svcs[SVC_DR4].vip);
	entry = world_get_conn(&b->w, &f, &c);
	CHECK(!entry || !bpf_map_delete_elem(MAP_FD(&b->w, xlvs_conns), &f), "probe entry: %s",
	      strerror(errno));
	return !entry;
}

/* A world with the standard services in their default flow state, the data path probed. */
static void bench_world(struct bench *b, const struct world_opts *o)
{
	uint32_t hz;
	bool dp;

	world_open(&b->w, o);
	world_std(&b->w);
	/* as xlvsd: last-seen stamped once a second (stamp_due()), not on every hit */
	CHECK(!xlvs_hz(&hz), "cannot tell the kernel's HZ");
	world_set_clock(&b->w, hz);
	default_flow_state(b);
	dp = ring_data_path(b);
	CHECK(b->ring_dp < 0 || b->ring_dp == (int)dp, "the ring state probe differs between worlds");
	if (b->ring_dp < 0 && !dp)
		fprintf(stderr,
			"  the data path ignores XLVS_SVC_F_RING_STATE: ring rows measure table state\n");
	b->ring_dp = dp;
}

/* ---- measuring ------------------------------------------------------------- */

/* Whether --rows selects a row (every row without --rows). */
static bool row_wanted(const struct bench *b, enum row_id id)
{
	char pat[128];
	const char *p = b->rows, *comma;
	size_t n;

	if (!p)
		return true;
	for (; *p; p = *comma ? comma + 1 : comma) {
		comma = strchrnul(p, ',');
		n = (size_t)(comma - p) < sizeof(pat) - 1 ? (size_t)(comma - p) : sizeof(pat) - 1;
		memcpy(pat, p, n);
		pat[n] = 0;
		if (n && !fnmatch(pat, row_info[id].name, 0))
			return true;
	}
	return false;
}

/* Whether any of rows [first, last] is wanted: worlds without one are not set up. */
static bool any_wanted(const struct bench *b, const enum row_id *ids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (row_wanted(b, ids[i]))
			return true;
	return false;
}

static int row_prog(const struct bench *b, const struct row *r)
{
	return r->prog_fd ? r->prog_fd : b->w.prog_fd;
}

/* --lines: a program's line table, once per loaded program, while it is loaded. */
static void lines_note(struct bench *b, int prog_fd)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info), i;
	int err;

	if (!b->lines)
		return;
	CHECK(!bpf_obj_get_info_by_fd(prog_fd, &info, &len), "program info: %s", strerror(errno));
	for (i = 0; i < b->lines_n; i++)
		if (b->lines_ids[i] == info.id)
			return;
	CHECK(b->lines_n < LINES_PROGS_MAX, "--lines: more than %d programs measured", LINES_PROGS_MAX);
	err = jitprof_write(b->lines, prog_fd);
	CHECK(!err, "--lines: %s's line table: %s", info.name, strerror(-err));
	b->lines_ids[b->lines_n++] = info.id;
}

/*
 * One BPF_PROG_RUN; checks verdict and output length, returns the kernel's duration. ifindex:
 * the frame's ingress interface (bpf_fib_lookup starts there), 0 = the kernel's default (lo).
 */
static uint32_t run_n(int fd, int ifindex, const uint8_t *in, uint32_t len, int verdict, uint32_t out_len,
		      const char *name, uint32_t frame, uint32_t repeat)
{
	uint8_t out[PKT_MAX];
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = (uint32_t)ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = len, .data_out = out,
		    .data_size_out = sizeof(out), .ctx_in = ifindex ? &ctx : NULL,
		    .ctx_size_in = ifindex ? sizeof(ctx) : 0, .repeat = repeat);

	CHECK(bpf_prog_test_run_opts(fd, &o) == 0, "%s: BPF_PROG_RUN: %s", name, strerror(errno));
	CHECK((int)o.retval == verdict && o.data_size_out == out_len,
	      "%s, frame %u: got %s with %u bytes out, expected %s with %u bytes: wrong path", name, frame,
	      verdict_name((int)o.retval), o.data_size_out, verdict_name(verdict), out_len);
	return o.duration; /* with repeat > 1, the mean of the runs */
}

static uint32_t run1(int fd, int ifindex, const uint8_t *in, uint32_t len, int verdict, uint32_t out_len,
		     const char *name, uint32_t frame)
{
	return run_n(fd, ifindex, in, len, verdict, out_len, name, frame, 1);
}

static void hist_add(uint64_t *hist, uint32_t ns)
{
	hist[ns < HIST_NS ? ns : HIST_NS]++;
}

static uint32_t hist_median(const uint64_t *hist)
{
	uint64_t total = 0, seen = 0;
	uint32_t i;

	for (i = 0; i <= HIST_NS; i++)
		total += hist[i];
	for (i = 0; i <= HIST_NS; i++) {
		seen += hist[i];
		if (seen * 2 >= total)
			break;
	}
	return i;
}

static uint64_t floor_batch(struct bench *b, const struct frames *f, uint32_t n)
{
	uint64_t sum = 0;
	uint32_t i, d;

	for (i = 0; i < n; i++) {
		d = run_n(b->floor_fd, b->w.ifindex, f->buf, f->len, XDP_TX, f->len, "floor", 0, b->repeat);
		hist_add(b->floor_hist, d);
		sum += d;
	}
	return sum;
}

static uint64_t row_batch(struct bench *b, const struct row *r, uint32_t n, uint32_t *next)
{
	const struct frames *f = r->f;
	uint64_t sum = 0;
	uint32_t i, d;

	for (i = 0; i < n; i++) {
		if (*next == f->n) {
			if (r->reset)
				r->reset(b, r); /* untimed: only the kernel's durations count */
			*next = 0;
		}
		d = run_n(row_prog(b, r), b->w.ifindex, f->buf + (size_t)*next * STRIDE, f->len, r->verdict,
			  f->len + (uint32_t)r->grow, row_info[r->id].name, *next, b->repeat);
		(*next)++;
		hist_add(b->hist, d);
		sum += d;
	}
	return sum;
}

/*
 * With --repeat, the program runs again on the frame it has just written: a row whose frame
 * changes length (encapsulation) or that needs its flows new again (reset) would measure
 * another path after the first run. Refused before measuring, as a usage error.
 */
static void repeatable(const struct bench *b, const struct row *r)
{
	if (b->repeat == 1 || (!r->grow && !r->reset))
		return;
	fprintf(stderr, "xlvs-bench: row %s %s: it cannot run with --repeat (see --help)\n",
		row_info[r->id].name, r->grow ? "changes its frame's length" : "needs new flows each round");
	exit(1);
}

/* Established rows: the first call creates the flow. All: warm caches and predictors. */
static void warm_up(struct bench *b, const struct row *r)
{
	uint32_t i;

	for (i = 0; i < WARM_CALLS; i++)
		run1(row_prog(b, r), b->w.ifindex, r->f->buf, r->f->len, r->verdict,
		     r->f->len + (uint32_t)r->grow, row_info[r->id].name, 0);
	if (r->reset)
		r->reset(b, r);
}

/* The row's path events so far: its event, and with or_guarded the SYN guard's too. */
static uint64_t row_events(struct bench *b, const struct row *r)
{
	if (r->prog_fd)
		return 0;
	return world_event(&b->w, r->ev) + (r->or_guarded ? world_event(&b->w, XLVS_EV_SYN_GUARD) : 0);
}

static void events_read(struct world *w, uint64_t ev[XLVS_EV_MAX])
{
	int e;

	for (e = 0; e < XLVS_EV_MAX; e++)
		ev[e] = world_event(w, (enum xlvs_event)e);
}

/* The flow state a row measures, and its service's id; ring state only where the data path has it. */
static enum fs_mode row_state(struct bench *b, const struct row *r, uint32_t *svc_id)
{
	struct xlvs_svc_key k;
	struct xlvs_service v;

	if (r->prog_fd || !r->vip)
		return FS_NONE;
	k = svc_key(r->vip, 80, IPPROTO_TCP);
	svc_get(b, &k, &v);
	*svc_id = v.id;
	CHECK(r->want == FS_NONE || !!(v.flags & XLVS_SVC_F_RING_STATE) == (r->want == FS_RING),
	      "%s: the service at %s is not in %s state", row_info[r->id].name, r->vip, fs_names[r->want]);
	return v.flags & XLVS_SVC_F_RING_STATE && b->ring_dp > 0 ? FS_RING : FS_TABLE;
}

/*
 * A ring-state row's calls took the path it names, event by event. Stable slots: no event (no
 * lookup that hit or missed, no insert). Changed slots: r->ring_ev and r->ev once per call each,
 * nothing else. Each packet counted by its service; each SYN of a stable-slot row as one of its
 * new flows (a changed-slot row's ACKs are none: the previous owner's flows began before).
 */
static void check_ring_path(struct bench *b, const struct row *r, uint64_t calls, const uint64_t *ev0,
			    struct xlvs_counters c0, uint32_t svc_id)
{
	struct xlvs_counters c = world_svc_stats(&b->w, svc_id);
	uint64_t ev[XLVS_EV_MAX], want, syns = !r->changed && r->ev == XLVS_EV_CONN_NEW ? calls : 0;
	int e;

	events_read(&b->w, ev);
	for (e = 0; e < XLVS_EV_MAX; e++) {
		want = r->changed && (e == (int)r->ev || e == (int)r->ring_ev) ? calls : 0;
		CHECK(ev[e] - ev0[e] == want,
		      "%s: event %s counted %llu times in %llu calls, expected %llu: not the %s-slot path",
		      row_info[r->id].name, xlvs_event_names[e], (unsigned long long)(ev[e] - ev0[e]),
		      (unsigned long long)calls, (unsigned long long)want, r->changed ? "changed" : "stable");
	}
	CHECK(c.packets - c0.packets == calls && c.new_flows - c0.new_flows == syns,
	      "%s: service counted %llu packets, %llu new flows in %llu calls (expected %llu new flows)",
	      row_info[r->id].name, (unsigned long long)(c.packets - c0.packets),
	      (unsigned long long)(c.new_flows - c0.new_flows), (unsigned long long)calls,
	      (unsigned long long)syns);
}

static void measure(struct bench *b, const struct row *r)
{
	struct result *res = &b->res[r->id], *fl = &b->res[R_FLOOR];
	uint32_t per = (r->calls ? r->calls : b->calls) / BATCHES, next = 0, k, svc_id = 0;
	uint64_t ev0 = 0, evs0[XLVS_EV_MAX], drops0, ev;
	double t0 = now_ns(CLOCK_MONOTONIC);
	struct xlvs_counters c0 = { 0 };
	enum fs_mode state;

	if (!row_wanted(b, r->id))
		return;
	lines_note(b, row_prog(b, r));
	repeatable(b, r);
	state = row_state(b, r, &svc_id);
	warm_up(b, r);
	memset(b->hist, 0, sizeof(b->hist));
	if (state == FS_RING) {
		events_read(&b->w, evs0);
		c0 = world_svc_stats(&b->w, svc_id);
	} else {
		ev0 = row_events(b, r);
	}
	drops0 = r->prog_fd ? 0 : world_drops_total(&b->w);
	for (k = 0; k < BATCHES; k++) {
		res->floor_sum_ns += floor_batch(b, r->f, per);
		res->sum_ns += row_batch(b, r, per, &next);
	}
	res->floor_sum_ns += floor_batch(b, r->f, per);
	res->calls = (uint64_t)per * BATCHES;
	res->floor_calls = (uint64_t)per * (BATCHES + 1);
	if (state == FS_RING) {
		check_ring_path(b, r, res->calls * b->repeat, evs0, c0, svc_id);
	} else {
		ev = row_events(b, r) - ev0;
		CHECK(r->prog_fd || ev == res->calls * b->repeat,
		      "%s: event %s counted %llu times in %llu calls: wrong path", row_info[r->id].name,
		      xlvs_event_names[r->ev], (unsigned long long)ev, (unsigned long long)res->calls);
	}
	CHECK(r->prog_fd || world_drops_total(&b->w) == drops0, "%s: drops counted while measuring",
	      row_info[r->id].name);
	res->p50_ns = hist_median(b->hist);
	res->state = state;
	res->done = true;
	fl->calls += res->floor_calls;
	fl->sum_ns += res->floor_sum_ns;
	fprintf(stderr, "  %-34s %-5s %8llu calls  %6.1f ns/pkt  %.1f s\n", row_info[r->id].name,
		fs_names[state], (unsigned long long)res->calls, (double)res->sum_ns / (double)res->calls,
		(now_ns(CLOCK_MONOTONIC) - t0) / 1e9);
}

/* A single-frame row; the frame is freed after measuring. */
static void measure_one(struct bench *b, enum row_id id, uint8_t family, const char *dst, int verdict,
			int grow, enum xlvs_event ev)
{
	struct frames f;
	/* the miss row's destination is no service */
	struct row r = { .id = id,
			 .verdict = verdict,
			 .grow = grow,
			 .ev = ev,
			 .f = &f,
			 .vip = ev == XLVS_EV_PASS_NO_SERVICE ? NULL : dst };

	one_frame(&f, family, dst);
	measure(b, &r);
	frames_free(&f);
}

static void measure_new_flows(struct bench *b, enum row_id id, const char *vip, enum fs_mode want)
{
	struct frames f;
	struct row r = { .id = id,
			 .verdict = XDP_TX,
			 .ev = XLVS_EV_CONN_NEW,
			 .f = &f,
			 .reset = forget_flows,
			 .vip = vip,
			 .want = want };

	if (!row_wanted(b, id))
		return;
	new_flow_frames(&f, vip);
	measure(b, &r);
	forget_flows(b, &r);
	frames_free(&f);
}

/* The daemon flags the reals of lc/wlc/sed/nq services so the data path counts their connections. */
static void set_counted(struct world *w, const struct xlvs_maglev_backend *be, uint32_t n, bool counted)
{
	struct xlvs_real r;
	uint32_t i;

	for (i = 0; i < n; i++) {
		world_get_real(w, be[i].real_id, &r);
		r.flags = counted ? r.flags | XLVS_REAL_F_COUNTED : r.flags & ~XLVS_REAL_F_COUNTED;
		world_set_real(w, be[i].real_id, &r);
	}
}

/*
 * SVC_DR4's slice rebuilt for another scheduler (maps/schedtab.c) and its entry
 * switched to it, as the daemon does; weights 3,2,1 so wrr interleaves.
 */
static void switch_sched(struct bench *b, uint8_t sched, uint32_t flags)
{
	const struct svc_def *d = &std_svcs[SVC_DR4];
	struct xlvs_svc_key k = { .port = htons(d->port), .proto = d->proto, .family = XLVS_AF_INET };
	struct xlvs_maglev_backend be[STD_REALS_MAX];
	uint32_t *ring = calloc(d->ring_size, sizeof(*ring)), base = b->w.ring_base[SVC_DR4], n = 0;
	struct xlvs_service v;

	for (; n < STD_REALS_MAX && d->reals[n].addr; n++)
		be[n] = (struct xlvs_maglev_backend){ std_real_id(SVC_DR4, (int)n), 3 - n, d->reals[n].addr,
						      strlen(d->reals[n].addr) };
	CHECK(ring, "out of memory");
	CHECK(!xlvs_sched_build(sched, ring, d->ring_size, be, n), "%s table", xlvs_sched_names[sched]);
	CHECK(xlvs_ring_write(MAP_FD(&b->w, xlvs_ring), base, NULL, ring, d->ring_size) >= 0, "ring write");
	free(ring);
	set_counted(&b->w, be, n, xlvs_sched_counts(sched));
	parse_addr(4, d->vip, k.addr);
	CHECK(!bpf_map_lookup_elem(MAP_FD(&b->w, xlvs_services), &k, &v), "service: %s", strerror(errno));
	v.sched = sched;
	v.flags = with_ring_state(d->flags | flags,
				  ring_by_default(sched, d->proto, v.persist_timeout, d->fwd));
	v.sched_len = (uint32_t)xlvs_sched_period(sched, be, n);
	world_service_put(&b->w, &k, &v);
}

static void measure_schedulers(struct bench *b)
{
	static const struct {
		enum row_id id;
		uint8_t sched;
		uint32_t flags;
	} rows[] = {
		{ R_NEW_MH, XLVS_SCHED_MH, XLVS_SVC_F_SCHED_PORT },
		{ R_NEW_SH, XLVS_SCHED_SH, XLVS_SVC_F_SCHED_FALLBACK | XLVS_SVC_F_SCHED_PORT },
		{ R_NEW_DH, XLVS_SCHED_DH, 0 },
		{ R_NEW_RR, XLVS_SCHED_RR, 0 },
		{ R_NEW_WRR, XLVS_SCHED_WRR, 0 },
		{ R_NEW_LC, XLVS_SCHED_LC, 0 },
		{ R_NEW_WLC, XLVS_SCHED_WLC, 0 },
		{ R_NEW_SED, XLVS_SCHED_SED, 0 },
		{ R_NEW_NQ, XLVS_SCHED_NQ, 0 },
		{ R_NEW_LBLC, XLVS_SCHED_LBLC, 0 },
		{ R_NEW_LBLCR, XLVS_SCHED_LBLCR, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (!row_wanted(b, rows[i].id))
			continue;
		switch_sched(b, rows[i].sched, rows[i].flags);
		measure_new_flows(b, rows[i].id, std_svcs[SVC_DR4].vip, FS_NONE);
	}
	switch_sched(b, XLVS_SCHED_MAGLEV, 0);
}

/* SVC_DR4 persistent (Maglev under it), its clients' templates per prefix of plen bits. */
static void set_persistence(struct bench *b, uint32_t timeout, uint8_t plen)
{
	const struct svc_def *d = &std_svcs[SVC_DR4];
	struct xlvs_svc_key k = { .port = htons(d->port), .proto = d->proto, .family = XLVS_AF_INET };
	struct xlvs_service v;

	parse_addr(4, d->vip, k.addr);
	CHECK(!bpf_map_lookup_elem(MAP_FD(&b->w, xlvs_services), &k, &v), "service: %s", strerror(errno));
	v.persist_timeout = timeout;
	v.persist_plen = plen;
	v.flags = with_ring_state(v.flags, ring_by_default(v.sched, d->proto, timeout, d->fwd));
	world_service_put(&b->w, &k, &v);
}

/*
 * Empty a hash map (untimed: between cycles of a row). The keys are walked first, then deleted:
 * asking for the first key again after each delete would rescan the empty buckets every time.
 */
static void clear_map(int fd, size_t key_size)
{
	size_t cap = 4096, n = 0, i;
	uint8_t *keys = malloc(cap * key_size);

	CHECK(keys, "out of memory");
	while (!bpf_map_get_next_key(fd, n ? keys + (n - 1) * key_size : NULL, keys + n * key_size)) {
		if (++n == cap) {
			cap *= 2;
			keys = realloc(keys, cap * key_size);
			CHECK(keys, "out of memory");
		}
	}
	for (i = 0; i < n; i++)
		CHECK(!bpf_map_delete_elem(fd, keys + i * key_size) || errno == ENOENT, "clear map: %s",
		      strerror(errno));
	free(keys);
}

/* The flows and every template: each new flow misses again. */
static void forget_flows_and_templates(struct bench *b, const struct row *r)
{
	forget_flows(b, r);
	clear_map(MAP_FD(&b->w, xlvs_persist), sizeof(struct xlvs_svc_addr_key));
}

/*
 * Hit: the frames' 32768 clients in /16s (128 templates, made before measuring), so every new
 * flow follows one. Miss: one template per client (/32), all forgotten before each pass of
 * the 32768 clients (one frame each), so every new flow is scheduled and writes one (a pass
 * fills CPU 0's share of xlvs_persist on a 2-CPU machine).
 */
static void measure_persistence(struct bench *b)
{
	struct frames f, one_per_client;
	struct row hit = { .id = R_NEW_PERSIST_HIT,
			   .verdict = XDP_TX,
			   .ev = XLVS_EV_PERSIST_HIT,
			   .f = &f,
			   .reset = forget_flows,
			   .vip = std_svcs[SVC_DR4].vip };
	struct row miss = { .id = R_NEW_PERSIST_MISS,
			    .verdict = XDP_TX,
			    .ev = XLVS_EV_PERSIST_MISS,
			    .f = &one_per_client,
			    .reset = forget_flows_and_templates,
			    .vip = std_svcs[SVC_DR4].vip };
	uint32_t i;

	new_flow_frames(&f, std_svcs[SVC_DR4].vip);
	/*
	 * Frames i and i + 32768 come from one client (two ports): with /32 templates the second
	 * would follow the first's template. The miss row cycles over the first 32768 only, one per
	 * client, its templates forgotten between cycles, so every call misses.
	 */
	one_per_client = f;
	one_per_client.n = NEW_FLOWS / 2;
	set_persistence(b, 300, 16);
	for (i = 0; i < f.n; i++) /* the templates, before the clock starts */
		run1(b->w.prog_fd, b->w.ifindex, f.buf + (size_t)i * STRIDE, f.len, XDP_TX, f.len, "persist",
		     i);
	forget_flows(b, &hit);
	measure(b, &hit);
	set_persistence(b, 300, 32);
	forget_flows_and_templates(b, &hit); /* the hit row left all of f's flows */
	measure(b, &miss);
	forget_flows_and_templates(b, &hit); /* all of f's flows */
	set_persistence(b, 0, 32);
	frames_free(&f);
}

/* ---- NAT and FULLNAT -------------------------------------------------------- */

#define SNAT_POOL_N 4 /* fullnat sources 198.18.0.2 .. 198.18.0.5: 8 tries from 4 x 64512 ports never fail */

/*
 * SVC_DR4's reals switched to another forwarding method, as the daemon writes them: the service,
 * its Maglev ring and its reals stay, so a NAT row differs from its DR row by the method alone.
 * nat and fullnat reals' addresses go into xlvs_nat_srcs (replies from them are looked up) and
 * the config says NAT is in use; fullnat also gets a source pool.
 */
static void switch_fwd(struct bench *b, uint8_t fwd)
{
	const struct svc_def *d = &std_svcs[SVC_DR4];
	bool nat = fwd == XLVS_FWD_NAT || fwd == XLVS_FWD_FULLNAT;
	struct xlvs_config cfg;
	struct xlvs_vip_key k;
	struct xlvs_real r;
	uint32_t i, one = 1;

	for (i = 0; i < STD_REALS_MAX && d->reals[i].addr; i++) {
		world_get_real(&b->w, std_real_id(SVC_DR4, (int)i), &r);
		r.fwd = fwd;
		world_set_real(&b->w, std_real_id(SVC_DR4, (int)i), &r);
		k = (struct xlvs_vip_key){ .family = XLVS_AF_INET };
		k.addr[0] = r.addr[0];
		CHECK(nat ? !bpf_map_update_elem(MAP_FD(&b->w, xlvs_nat_srcs), &k, &one, 0)
			  : !bpf_map_delete_elem(MAP_FD(&b->w, xlvs_nat_srcs), &k) || errno == ENOENT,
		      "xlvs_nat_srcs: %s", strerror(errno));
	}
	for (i = 0; i < SNAT_POOL_N; i++) {
		k = (struct xlvs_vip_key){ .family = XLVS_AF_INET };
		k.addr[0] = htonl(0xc6120002u + i);
		CHECK(!bpf_map_update_elem(MAP_FD(&b->w, xlvs_snat_pool), &i, &k, 0), "xlvs_snat_pool: %s",
		      strerror(errno));
	}
	set_ring_state(b, d->vip, ring_by_default(d->sched, d->proto, 0, fwd));
	world_get_config(&b->w, &cfg);
	cfg.flags = nat ? cfg.flags | XLVS_CFG_F_NAT : cfg.flags & ~XLVS_CFG_F_NAT;
	cfg.snat4_first = 0;
	cfg.snat4_count = fwd == XLVS_FWD_FULLNAT ? SNAT_POOL_N : 0;
	cfg.snat_port_lo = XLVS_SNAT_PORT_LO;
	cfg.snat_port_hi = XLVS_SNAT_PORT_HI;
	world_set_config(&b->w, &cfg);
}

/*
 * Replies to clients are routed by bpf_fib_lookup, as on a director: in this process's own
 * network namespace (entered once, gone with the process), veth0 is the frames' ingress
 * interface, with forwarding on and a route to the clients' 198.18.128.0/17 through a router
 * whose neighbour entry is permanent, so every lookup succeeds as it would on a live director.
 */
static void fib_namespace(struct bench *b)
{
	netns_enter();
	netns_veth("veth0", "02:00:00:00:fb:01", "veth1", "02:00:00:00:fb:02");
	netns_forwarding("veth0");
	netns_run("ip addr add 198.18.100.254/24 dev veth0");
	netns_run("ip neigh replace 198.18.100.1 lladdr 02:00:00:00:fb:fe nud permanent dev veth0");
	netns_run("ip route add 198.18.128.0/17 via 198.18.100.1 dev veth0");
	b->fib_ifindex = netns_ifindex("veth0");
}

/* New NAT flows: their reply entries go with them, so fullnat's ports are free again. */
static void forget_nat_flows(struct bench *b, const struct row *r)
{
	forget_flows(b, r);
	clear_map(MAP_FD(&b->w, xlvs_nat), sizeof(struct xlvs_flow));
}

/* Frame i: the reply the real sends to flow i's client (nat) or pool source (fullnat). */
static void reply_frames(struct bench *b, struct frames *f, const struct frames *fwd)
{
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
	struct xlvs_vip_key pool;
	struct xlvs_conn c;
	struct xlvs_real r;
	struct pkt_spec s;
	uint32_t i, idx;
	uint16_t dport;

	frames_alloc(f, fwd->n, true);
	for (i = 0; i < fwd->n; i++) {
		const struct xlvs_flow *fl = &fwd->flows[i];

		CHECK(world_get_conn(&b->w, fl, &c), "flow %u has no connection entry", i);
		world_get_real(&b->w, c.real_id, &r);
		inet_ntop(AF_INET, r.addr, src, sizeof(src));
		inet_ntop(AF_INET, fl->src, dst, sizeof(dst));
		dport = ntohs(fl->sport);
		if (c.snat_port) {
			idx = c.snat_idx;
			CHECK(!bpf_map_lookup_elem(MAP_FD(&b->w, xlvs_snat_pool), &idx, &pool), "pool %u",
			      idx);
			inet_ntop(AF_INET, pool.addr, dst, sizeof(dst));
			dport = ntohs(c.snat_port);
		}
		s = tcp_spec(4, src, dst, r.port ? ntohs(r.port) : 80);
		s.dport = dport;
		frame_put(f, i, &s);
	}
}

/* Run every frame once (untimed): the program itself makes the flows established. */
static void establish(struct bench *b, const struct frames *f)
{
	uint32_t i;

	for (i = 0; i < f->n; i++)
		run1(b->w.prog_fd, b->w.ifindex, f->buf + (size_t)i * STRIDE, f->len, XDP_TX, f->len,
		     "establish", i);
}

/*
 * SVC_DR4 with its reals forwarding by fwd: new flows, then NEW_FLOWS established flows cycled
 * (their entries spread over the tables as live traffic's are), then for nat and fullnat the
 * replies of those flows.
 */
static void measure_fwd(struct bench *b, uint8_t fwd, enum row_id new_row, enum row_id est_row,
			enum row_id ret_row)
{
	bool nat = fwd != XLVS_FWD_DR;
	struct frames f, ret;
	const char *vip = std_svcs[SVC_DR4].vip;
	struct row est = { .id = est_row, .verdict = XDP_TX, .ev = XLVS_EV_CONN_HIT, .f = &f, .vip = vip };
	struct row rep = { .id = ret_row, .verdict = XDP_TX, .ev = XLVS_EV_NAT_REPLY, .f = &ret };
	struct row syn = { .id = new_row,
			   .verdict = XDP_TX,
			   .ev = XLVS_EV_CONN_NEW,
			   .f = &f,
			   .reset = forget_nat_flows,
			   .vip = vip };

	switch_fwd(b, fwd);
	b->w.ifindex = b->fib_ifindex; /* the floor batches of these rows run with it too */
	if (nat) {
		new_flow_frames(&f, std_svcs[SVC_DR4].vip);
		measure(b, &syn);
		forget_nat_flows(b, &syn);
		frames_free(&f);
	}
	client_frames(&f, std_svcs[SVC_DR4].vip, TH_ACK);
	establish(b, &f);
	measure(b, &est);
	if (nat) {
		reply_frames(b, &ret, &f);
		measure(b, &rep);
		frames_free(&ret);
	}
	forget_nat_flows(b, &est);
	frames_free(&f);
	switch_fwd(b, XLVS_FWD_DR);
	b->w.ifindex = 0;
}

/* The NAT rows and their DR reference: with --rows, their setup runs only if one is wanted. */
static const enum row_id nat_rows[] = { R_DR_64K,   R_NAT_NEW,	R_NAT_64K,     R_NAT_RET_64K,
					R_FNAT_NEW, R_FNAT_64K, R_FNAT_RET_64K };

static void measure_nat(struct bench *b)
{
	measure_fwd(b, XLVS_FWD_DR, R_MAX, R_DR_64K, R_MAX);
	measure_fwd(b, XLVS_FWD_NAT, R_NAT_NEW, R_NAT_64K, R_NAT_RET_64K);
	measure_fwd(b, XLVS_FWD_FULLNAT, R_FNAT_NEW, R_FNAT_64K, R_FNAT_RET_64K);
}

/* ---- extra configuration ----------------------------------------------------- */

static void put_service(struct world *w, uint32_t id, uint32_t vip, uint32_t base, uint32_t size)
{
	struct xlvs_svc_key k = {
		.addr = { vip }, .port = htons(80), .proto = IPPROTO_TCP, .family = XLVS_AF_INET
	};
	struct xlvs_service v = { .id = id,
				  .ring_base = base,
				  .ring_size = size,
				  .sched = XLVS_SCHED_MAGLEV,
				  .flags = with_ring_state(0, ring_by_default(XLVS_SCHED_MAGLEV, IPPROTO_TCP,
									      0, XLVS_FWD_DR)) };
	struct xlvs_vip_key vk = { .addr = { vip }, .family = XLVS_AF_INET };
	struct xlvs_vip vv = { .nr_services = 1 };

	CHECK(!bpf_map_update_elem(MAP_FD(w, xlvs_vips), &vk, &vv, 0), "vip: %s", strerror(errno));
	world_vip_filter_add(w, XLVS_AF_INET, vk.addr);
	world_service_put(w, &k, &v);
}

/* Reals 198.18.16.0 + i; the address bytes are also the Maglev key. */
static void big_backends(struct xlvs_maglev_backend *be, uint32_t *addr, uint32_t n, uint32_t id0)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		addr[i] = htonl(0xc6121000u + i);
		be[i] = (struct xlvs_maglev_backend){
			.real_id = id0 + i, .weight = 1, .key = &addr[i], .key_len = 4
		};
	}
}

static void put_big_reals(struct world *w, const uint32_t *addr, uint32_t n, uint32_t id0)
{
	struct xlvs_real r = { .family = XLVS_AF_INET,
			       .fwd = XLVS_FWD_DR,
			       .svc_id = BIG_SVC_ID,
			       .flags = XLVS_REAL_F_ACTIVE | XLVS_REAL_F_NH_VALID,
			       .weight = 1 };
	uint32_t i, id;

	memcpy(r.nh_smac, MAC_LB, 6);
	for (i = 0; i < n; i++) {
		id = id0 + i;
		r.addr[0] = addr[i];
		real_mac(id, r.nh_mac);
		CHECK(!bpf_map_update_elem(MAP_FD(w, xlvs_reals), &id, &r, 0), "real %u: %s", id,
		      strerror(errno));
	}
}

/* A DR service with BIG_REALS reals (ids after the standard ones) and a 65537 ring. */
static void install_big_service(struct bench *b)
{
	struct xlvs_maglev_backend *be = calloc(BIG_REALS, sizeof(*be));
	uint32_t *addr = calloc(BIG_REALS, sizeof(*addr));
	uint32_t *ring = calloc(BUILD_SIZE, sizeof(*ring));
	uint32_t id0 = STD_SVC_MAX * STD_REALS_MAX, base = world_std_slots(), vip;
	double t0;

	CHECK(be && addr && ring, "out of memory");
	big_backends(be, addr, BIG_REALS, id0);
	put_big_reals(&b->w, addr, BIG_REALS, id0);
	t0 = now_ns(CLOCK_MONOTONIC);
	CHECK(!xlvs_maglev_build(ring, BUILD_SIZE, be, BIG_REALS), "maglev build, %u reals", BIG_REALS);
	b->build_big_ns = now_ns(CLOCK_MONOTONIC) - t0;
	CHECK(xlvs_ring_write(MAP_FD(&b->w, xlvs_ring), base, NULL, ring, BUILD_SIZE) == BUILD_SIZE,
	      "ring write");
	parse_addr(4, BIG_VIP, &vip);
	put_service(&b->w, BIG_SVC_ID, vip, base, BUILD_SIZE);
	free(ring);
	free(addr);
	free(be);
}

/* The big service as wlc over its first XLVS_LEAST_MAX_REALS reals: the longest scan there is. */
static void measure_wlc_many(struct bench *b)
{
	struct xlvs_maglev_backend *be = calloc(XLVS_LEAST_MAX_REALS, sizeof(*be));
	uint32_t *addr = calloc(XLVS_LEAST_MAX_REALS, sizeof(*addr));
	uint32_t *ring = calloc(BUILD_SIZE, sizeof(*ring));
	uint32_t id0 = STD_SVC_MAX * STD_REALS_MAX, vip;
	struct xlvs_svc_key k = { .port = htons(80), .proto = IPPROTO_TCP, .family = XLVS_AF_INET };
	struct xlvs_service v;

	CHECK(be && addr && ring, "out of memory");
	big_backends(be, addr, XLVS_LEAST_MAX_REALS, id0);
	CHECK(!xlvs_sched_build(XLVS_SCHED_WLC, ring, BUILD_SIZE, be, XLVS_LEAST_MAX_REALS), "wlc table");
	CHECK(xlvs_ring_write(MAP_FD(&b->w, xlvs_ring), world_std_slots(), NULL, ring, BUILD_SIZE) ==
		      BUILD_SIZE,
	      "ring write");
	set_counted(&b->w, be, XLVS_LEAST_MAX_REALS, true);
	parse_addr(4, BIG_VIP, &vip);
	k.addr[0] = vip;
	CHECK(!bpf_map_lookup_elem(MAP_FD(&b->w, xlvs_services), &k, &v), "service: %s", strerror(errno));
	v.sched = XLVS_SCHED_WLC;
	v.sched_len = XLVS_LEAST_MAX_REALS;
	v.flags = with_ring_state(v.flags, ring_by_default(v.sched, IPPROTO_TCP, 0, XLVS_FWD_DR));
	world_service_put(&b->w, &k, &v);
	measure_new_flows(b, R_NEW_WLC_256, BIG_VIP, FS_TABLE);
	free(ring);
	free(addr);
	free(be);
}

static uint32_t extra_vip(uint32_t i)
{
	return htonl(0xc6130001u + i); /* 198.19.0.1 onwards */
}

/* A packet to an extra service must find it (and its empty ring): XDP_DROP no_real. */
static void check_extra_service(struct world *w, uint32_t i)
{
	char dst[INET_ADDRSTRLEN];
	uint32_t vip = extra_vip(i);
	uint8_t in[PKT_MAX], out[PKT_MAX];
	struct pkt_spec s = tcp_spec(4, CLIENT4, inet_ntop(AF_INET, &vip, dst, sizeof(dst)), 1);
	uint64_t before = world_drop(w, XLVS_DROP_NO_REAL);
	size_t len = pkt_build(&s, in), out_len;

	CHECK(world_run(w, in, len, out, &out_len) == XDP_DROP &&
		      world_drop(w, XLVS_DROP_NO_REAL) == before + 1,
	      "extra service %s not installed", dst);
}

/* EXTRA_SVCS services on 198.19.0.1.., port 80, sharing one ring slice without reals. */
static void install_extra_services(struct bench *b)
{
	struct xlvs_svc_key *k = calloc(EXTRA_SVCS, sizeof(*k));
	struct xlvs_service *v = calloc(EXTRA_SVCS, sizeof(*v));
	struct xlvs_vip_key *vk = calloc(EXTRA_SVCS, sizeof(*vk));
	struct xlvs_vip *vv = calloc(EXTRA_SVCS, sizeof(*vv));
	uint32_t ring[SMALL_RING], base = world_std_slots() + BUILD_SIZE, i, n = EXTRA_SVCS;

	CHECK(k && v && vk && vv, "out of memory");
	CHECK(!xlvs_maglev_build(ring, SMALL_RING, NULL, 0), "empty ring");
	CHECK(xlvs_ring_write(MAP_FD(&b->w, xlvs_ring), base, NULL, ring, SMALL_RING) == SMALL_RING,
	      "ring write");
	for (i = 0; i < EXTRA_SVCS; i++) {
		k[i] = (struct xlvs_svc_key){ .addr = { extra_vip(i) },
					      .port = htons(80),
					      .proto = IPPROTO_TCP,
					      .family = XLVS_AF_INET };
		v[i] = (struct xlvs_service){ .id = EXTRA_SVC_ID + i,
					      .ring_base = base,
					      .ring_size = SMALL_RING,
					      .sched = XLVS_SCHED_MAGLEV,
					      .flags =
						      XLVS_SVC_F_RING_STATE /* maglev TCP DR: the default */ };
		vk[i] = (struct xlvs_vip_key){ .addr = { extra_vip(i) }, .family = XLVS_AF_INET };
		vv[i] = (struct xlvs_vip){ .nr_services = 1 };
		world_vip_filter_add(&b->w, XLVS_AF_INET, vk[i].addr);
	}
	CHECK(!bpf_map_update_batch(MAP_FD(&b->w, xlvs_vips), vk, vv, &n, NULL) && n == EXTRA_SVCS,
	      "vips batch: %s", strerror(errno));
	n = EXTRA_SVCS;
	CHECK(!bpf_map_update_batch(MAP_FD(&b->w, xlvs_services), k, v, &n, NULL) && n == EXTRA_SVCS,
	      "services batch: %s", strerror(errno));
	check_extra_service(&b->w, 0);
	check_extra_service(&b->w, EXTRA_SVCS - 1);
	free(vv);
	free(vk);
	free(v);
	free(k);
}

/* BPF_F_NO_COMMON_LRU splits xlvs_conns evenly over the possible CPUs. */
static uint32_t possible_cpus(void)
{
	int n = libbpf_num_possible_cpus();

	CHECK(n > 0, "possible CPUs: %d", n);
	return (uint32_t)n;
}

/* ---- the growth world: FILL_FLOWS established flows ---------------------------- */

/* The method rows: a standard service, its output growth and its rows of one and many flows. */
/* k4, m1 in ring state (the default), k4t, m1t in table state. */
static const struct method {
	enum std_svc svc;
	int grow;
	enum row_id one, k4, m1, k4t, m1t;
} methods[] = {
	{ SVC_DR4, 0, R_DR, R_DR_4K, R_DR_1M_SPREAD, R_DR_4K_TABLE, R_DR_1M_TABLE },
	{ SVC_IPIP, 20, R_IPIP, R_IPIP_4K, R_IPIP_1M, R_IPIP_4K_TABLE, R_IPIP_1M_TABLE },
	{ SVC_GUE4, 28, R_GUE4, R_GUE4_4K, R_GUE4_1M, R_GUE4_4K_TABLE, R_GUE4_1M_TABLE },
	{ SVC_DR6, 0, R_DR6, R_DR6_4K, R_DR6_1M, R_DR6_4K_TABLE, R_DR6_1M_TABLE },
	{ SVC_IP6IP6, 40, R_IP6IP6, R_IP6IP6_4K, R_IP6IP6_1M, R_IP6IP6_4K_TABLE, R_IP6IP6_1M_TABLE },
	{ SVC_GUE6, 48, R_GUE6, R_GUE6_4K, R_GUE6_1M, R_GUE6_4K_TABLE, R_GUE6_1M_TABLE },
};

/*
 * The flows a ring-state row's table is filled with: a table-state service's (SVC_RR: TCP, no
 * Maglev). A ring-state service records no flow on a stable ring, so its own established flows
 * have no entries; the table holds as many entries of other flows as table state would hold.
 */
#define OTHER_SVC SVC_RR

static uint8_t svc_family(enum std_svc svc)
{
	return strchr(std_svcs[svc].vip, ':') ? 6 : 4;
}

/*
 * Client i of a service: 198.18.128.0/17 or 2001:db8:8000::/113 (i mod 32768),
 * source port 1024 + i / 32768, to the service's VIP and port.
 */
static void client_flow(uint32_t i, enum std_svc svc, struct xlvs_flow *f)
{
	const struct svc_def *d = &std_svcs[svc];
	uint8_t family = svc_family(svc);

	memset(f, 0, sizeof(*f));
	if (family == 4) {
		f->src[0] = htonl(0xc6128000u | (i & 0x7fff));
	} else {
		parse_addr(6, "2001:db8:8000::", f->src);
		f->src[3] = htonl(i & 0x7fff);
	}
	parse_addr(family, d->vip, f->dst);
	f->sport = htons((uint16_t)(1024 + (i >> 15)));
	f->dport = htons(d->port);
	f->proto = d->proto;
	f->family = family;
}

static uint32_t svc_reals(enum std_svc svc)
{
	uint32_t n = 0;

	while (n < STD_REALS_MAX && std_svcs[svc].reals[n].addr)
		n++;
	return n;
}

/* Established entries for clients [from, to) of svc in the flow table fd, from this CPU. */
static void fill_table(int fd, enum std_svc svc, uint32_t from, uint32_t to)
{
	struct xlvs_flow *k = calloc(FILL_CHUNK, sizeof(*k));
	struct xlvs_conn *v = calloc(FILL_CHUNK, sizeof(*v));
	uint32_t done, i, n, cnt, nreals = svc_reals(svc);
	struct xlvs_jiffies j;

	CHECK(k && v, "out of memory");
	CHECK(!xlvs_jiffies_read(&j), "jiffies: %s", strerror(errno));
	for (done = from; done < to; done += n) {
		n = to - done < FILL_CHUNK ? to - done : FILL_CHUNK;
		for (i = 0; i < n; i++) {
			client_flow(done + i, svc, &k[i]);
			v[i].real_id = std_real_id(svc, (int)((done + i) % nreals));
			v[i].real_gen = 0;			 /* world_std's reals are generation 0 */
			v[i].hash = xlvs_flow_hash_mix64(&k[i]); /* world_std's hash */
			v[i].last_seen = j.now; /* open (0), seen now: alive for the tcp lifetime */
		}
		cnt = n;
		CHECK(!bpf_map_update_batch(fd, k, v, &cnt, NULL) && cnt == n, "conns batch at %u: %s", done,
		      strerror(errno));
	}
	free(v);
	free(k);
}

/* How many of clients [0, n) of svc have an entry. */
static uint32_t count_clients(int fd, enum std_svc svc, uint32_t n)
{
	struct xlvs_flow f;
	struct xlvs_conn c;
	uint32_t i, found = 0;

	for (i = 0; i < n; i++) {
		client_flow(i, svc, &f);
		found += !bpf_map_lookup_elem(fd, &f, &c);
	}
	return found;
}

/* Delete the entries of clients [0, n) of svc. */
static void forget_clients(int fd, enum std_svc svc, uint32_t n)
{
	struct xlvs_flow f;
	uint32_t i;

	for (i = 0; i < n; i++) {
		client_flow(i, svc, &f);
		CHECK(!bpf_map_delete_elem(fd, &f) || errno == ENOENT, "forget client %u: %s", i,
		      strerror(errno));
	}
}

/* The LRU evicts the oldest first: if the first flows are still there, nothing was evicted. */
static void check_fill(struct world *w, enum std_svc svc)
{
	struct xlvs_flow f;
	struct xlvs_conn c;
	uint32_t i;

	for (i = 0; i < FILL_FLOWS; i += i < 1000 ? 1 : 997) {
		client_flow(i, svc, &f);
		CHECK(!bpf_map_lookup_elem(MAP_FD(w, xlvs_conns), &f, &c),
		      "filled flow %u was evicted: xlvs_conns too small", i);
	}
}

/*
 * Frame j of a flow set: the flow's packet (flags: TH_ACK or TH_SYN; seq: its TCP sequence number,
 * 0 for pktgen's default), checked to carry that key.
 */
static void flow_frame(struct frames *f, uint32_t j, const struct xlvs_flow *fl, uint8_t flags, uint32_t seq)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	int af = fl->family == 6 ? AF_INET6 : AF_INET;
	struct pkt_spec s;

	inet_ntop(af, fl->src, src, sizeof(src));
	inet_ntop(af, fl->dst, dst, sizeof(dst));
	s = tcp_spec(fl->family, src, dst, ntohs(fl->sport));
	s.tcp_flags = flags;
	s.seq = seq;
	frame_put(f, j, &s);
	CHECK(!memcmp(&f->flows[j], fl, sizeof(*fl)), "frame %u: not the flow meant", j);
}

/*
 * The 1M rows visit NEW_FLOWS filled flows spread over the whole fill (0, 15, 30, ...), in a
 * scrambled order (an odd multiplier mod 2^16): not in the order they were filled, which is
 * their order in the table's memory.
 */
static uint32_t pick_strided(uint32_t j)
{
	return ((j * 0x9e3779b1u) & (NEW_FLOWS - 1)) * SPREAD_STRIDE;
}

/* The 4k rows visit all SPREAD_SMALL clients in a scrambled order (an odd multiplier mod 2^12). */
static uint32_t pick_scrambled(uint32_t j)
{
	return (j * 0x9e3779b1u) & (SPREAD_SMALL - 1);
}

/* A flow's slot in its service's ring, from the slice's start (bpf/ring.h ring_lookup()). */
static uint32_t ring_slot(enum std_svc svc, const struct xlvs_flow *fl)
{
	const struct svc_def *d = &std_svcs[svc];

	/* world_std's config: the mix64 flow hash */
	return xlvs_ring_index(XLVS_CFG_F_HASH_MIX64, d->sched, d->flags, fl, xlvs_flow_hash_mix64(fl),
			       d->ring_size);
}

/*
 * n ACK frames of svc's clients pick(0), pick(1), ..., n distinct ones of the first `filled`.
 * slot_seq: each frame's sequence number is its flow's ring_slot() + 1, where the ring blocks
 * read (pktgen takes 0 for its default).
 */
static void spread_frames(struct frames *f, enum std_svc svc, uint32_t n, uint32_t (*pick)(uint32_t),
			  uint32_t filled, bool slot_seq)
{
	uint8_t *seen = calloc(filled / 8 + 1, 1);
	struct xlvs_flow fl;
	uint32_t j, p;

	CHECK(seen, "out of memory");
	frames_alloc(f, n, true);
	for (j = 0; j < n; j++) {
		p = pick(j);
		CHECK(p < filled, "spread frame %u: client %u was not filled (%u were)", j, p, filled);
		CHECK(!(seen[p / 8] & (1u << (p % 8))), "spread frame %u: client %u visited twice", j, p);
		seen[p / 8] |= (uint8_t)(1u << (p % 8));
		client_flow(p, svc, &fl);
		flow_frame(f, j, &fl, TH_ACK, slot_seq ? ring_slot(svc, &fl) + 1 : 0);
	}
	free(seen);
}

/*
 * A world whose xlvs_conns holds FILL_FLOWS established flows on CPU 0, with room for NEW_FLOWS
 * more: svc's own in table state; in ring state (which records none of them) OTHER_SVC's.
 */
static void growth_open(struct bench *b, enum std_svc svc, bool ring)
{
	/* BPF_F_NO_COMMON_LRU: CPU 0 (where we fill and run) owns max_entries / ncpus. */
	struct world_opts o = {
		.conn_entries = (FILL_FLOWS + NEW_FLOWS) * possible_cpus(),
	};
	double t0 = now_ns(CLOCK_MONOTONIC);

	bench_world(b, &o);
	set_ring_state(b, std_svcs[svc].vip, ring);
	/* a data path without ring state records svc's flows whatever the flag: fill them */
	b->fill_svc = ring && b->ring_dp > 0 ? OTHER_SVC : svc;
	fill_table(MAP_FD(&b->w, xlvs_conns), b->fill_svc, 0, FILL_FLOWS);
	check_fill(&b->w, b->fill_svc);
	fprintf(stderr, "  %s in %s state: filled %u %s flows (xlvs_conns %u entries) in %.1f s\n",
		std_svcs[svc].name, ring ? "ring" : "table", FILL_FLOWS, std_svcs[b->fill_svc].name,
		o.conn_entries, (now_ns(CLOCK_MONOTONIC) - t0) / 1e9);
}

/* A method's established row over the million: NEW_FLOWS of its clients, far apart. */
static void measure_1m_spread(struct bench *b, const struct method *m, enum row_id id)
{
	struct frames f;
	struct row r = { .id = id,
			 .verdict = XDP_TX,
			 .grow = m->grow,
			 .ev = XLVS_EV_CONN_HIT,
			 .f = &f,
			 .vip = std_svcs[m->svc].vip,
			 .want = id == m->m1 ? FS_RING : FS_TABLE };

	if (!row_wanted(b, id))
		return;
	spread_frames(&f, m->svc, NEW_FLOWS, pick_strided, FILL_FLOWS, false);
	measure(b, &r);
	frames_free(&f);
	check_fill(&b->w, b->fill_svc);
}

/* Each method over a million flows, in ring state and in table state, one world each. */
static void spread_worlds(struct bench *b)
{
	const struct method *m;
	size_t i;
	int ring;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		m = &methods[i];
		for (ring = 1; ring >= 0; ring--) {
			/* dr_established_1m_flows: one hot flow beside the million, ring state */
			bool hot = ring && m->svc == SVC_DR4 && row_wanted(b, R_DR_1M);

			if (!hot && !row_wanted(b, ring ? m->m1 : m->m1t))
				continue;
			growth_open(b, m->svc, ring);
			if (hot)
				measure_one(b, R_DR_1M, 4, std_svcs[SVC_DR4].vip, XDP_TX, 0,
					    XLVS_EV_CONN_HIT);
			measure_1m_spread(b, m, ring ? m->m1 : m->m1t);
			world_close(&b->w);
		}
	}
}

/*
 * A method's established row over SPREAD_SMALL flows, each made by its first packet (untimed).
 * Table state records them; ring state does not, and the table holds as many other flows.
 */
static void measure_4k_spread(struct bench *b, const struct method *m, bool ring)
{
	struct frames f;
	struct row r = { .id = ring ? m->k4 : m->k4t,
			 .verdict = XDP_TX,
			 .grow = m->grow,
			 .ev = XLVS_EV_CONN_HIT,
			 .f = &f,
			 .vip = std_svcs[m->svc].vip,
			 .want = ring ? FS_RING : FS_TABLE };
	int conns = MAP_FD(&b->w, xlvs_conns);
	bool other = ring && b->ring_dp > 0; /* else the first packets below record the flows */
	uint32_t j;

	if (!row_wanted(b, r.id))
		return;
	set_ring_state(b, r.vip, ring);
	spread_frames(&f, m->svc, SPREAD_SMALL, pick_scrambled, SPREAD_SMALL, false);
	if (other)
		fill_table(conns, OTHER_SVC, 0, SPREAD_SMALL);
	for (j = 0; j < f.n; j++)
		run1(b->w.prog_fd, b->w.ifindex, f.buf + (size_t)j * STRIDE, f.len, XDP_TX,
		     f.len + (uint32_t)m->grow, "spread", j);
	measure(b, &r);
	forget_flows(b, &r);
	if (other)
		forget_clients(conns, OTHER_SVC, SPREAD_SMALL);
	frames_free(&f);
	default_flow_state(b);
}

/* ---- ring state's changed slots ------------------------------------------------ */

#define PREV_WINDOW_S 900 /* a previous owner's window (the established timeout's default): open throughout */

/* Write n previous owners at slots base.. of an xlvs_ring_prev-like ARRAY. */
static void put_prevs(int fd, uint32_t base, const struct xlvs_slot_prev *prev, uint32_t n)
{
	uint32_t *keys = calloc(n, sizeof(*keys)), i, cnt = n;

	CHECK(keys, "out of memory");
	for (i = 0; i < n; i++)
		keys[i] = base + i;
	CHECK(!bpf_map_update_batch(fd, keys, prev, &cnt, NULL) && cnt == n, "previous owners: %s",
	      strerror(errno));
	free(keys);
}

/*
 * changed: every slot of svc's ring flagged XLVS_SLOT_CHANGED, its owner kept, its previous owner
 * the service's next real (by index) with its window open for PREV_WINDOW_S, as xlvsd writes a
 * slot that changed owner. !changed: the ring as world_std left it, unflagged, no previous owners.
 */
static void set_ring_changed(struct bench *b, enum std_svc svc, bool changed)
{
	uint32_t n = std_svcs[svc].ring_size, base = b->w.ring_base[svc], nreals = svc_reals(svc);
	uint32_t *ring = calloc(n, sizeof(*ring)), ids[STD_REALS_MAX], gens[STD_REALS_MAX], hz, i, k;
	struct xlvs_slot_prev *prev = calloc(n, sizeof(*prev)); /* zero: until 0, none */
	struct xlvs_jiffies j;
	struct xlvs_real r;

	CHECK(ring && prev, "out of memory");
	CHECK(!xlvs_jiffies_read(&j) && !xlvs_hz(&hz), "jiffies: %s", strerror(errno));
	for (k = 0; k < nreals; k++) {
		ids[k] = std_real_id(svc, (int)k);
		world_get_real(&b->w, ids[k], &r);
		gens[k] = r.gen;
	}
	CHECK(!xlvs_ring_read(MAP_FD(&b->w, xlvs_ring), base, n, ring), "ring: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		for (k = 0; k < nreals && ids[k] != xlvs_slot_real(ring[i]); k++)
			;
		CHECK(k < nreals, "%s's slot %u: %u is none of its reals", std_svcs[svc].name, i, ring[i]);
		ring[i] = changed ? ring[i] | XLVS_SLOT_CHANGED : xlvs_slot_real(ring[i]);
		if (changed) /* until: never 0, which means none */
			prev[i] = (struct xlvs_slot_prev){ .real_id = ids[(k + 1) % nreals],
							   .real_gen = gens[(k + 1) % nreals],
							   .until = (j.now + PREV_WINDOW_S * hz) | 1 };
	}
	/* as xlvsd: the previous owners are there before the flags that send packets to them */
	if (changed)
		put_prevs(MAP_FD(&b->w, xlvs_ring_prev), base, prev, n);
	CHECK(xlvs_ring_write(MAP_FD(&b->w, xlvs_ring), base, NULL, ring, n) == (int)n, "ring write");
	if (!changed)
		put_prevs(MAP_FD(&b->w, xlvs_ring_prev), base, prev, n);
	free(prev);
	free(ring);
}

/*
 * dr_established_4k_spread's flows (same clients, same order) with every slot of SVC_DR4's ring
 * changed. With their entries (made by their first packets, which the previous owners take)
 * each call is "an entry wins"; without, each is "the previous owner", recorded, so the flows
 * are forgotten between passes as new_flow_dr's are. The world is left as found.
 */
static void measure_changed_slots(struct bench *b)
{
	const char *vip = std_svcs[SVC_DR4].vip;
	struct frames f;
	struct row hit = { .id = R_DR_4K_CHANGED,
			   .verdict = XDP_TX,
			   .ev = XLVS_EV_CONN_HIT,
			   .f = &f,
			   .vip = vip,
			   .want = FS_RING,
			   .changed = true,
			   .ring_ev = XLVS_EV_RING_CHANGED_HIT };
	struct row prev = { .id = R_DR_PREV_4K,
			    .verdict = XDP_TX,
			    .ev = XLVS_EV_CONN_NEW,
			    .f = &f,
			    .reset = forget_flows,
			    .vip = vip,
			    .want = FS_RING,
			    .changed = true,
			    .ring_ev = XLVS_EV_RING_PREV_OWNER };

	if (!row_wanted(b, hit.id) && !row_wanted(b, prev.id))
		return;
	spread_frames(&f, SVC_DR4, SPREAD_SMALL, pick_scrambled, SPREAD_SMALL, false);
	set_ring_changed(b, SVC_DR4, true);
	if (row_wanted(b, hit.id)) {
		establish(b, &f);
		measure(b, &hit);
		forget_flows(b, &hit);
	}
	measure(b, &prev);
	forget_flows(b, &prev);
	set_ring_changed(b, SVC_DR4, false);
	frames_free(&f);
}

/* ---- SYN floods and a full table ------------------------------------------------ */

/* NEW_FLOWS new SYNs to svc: clients 0..32767 of client_flow() on source ports 10000 + 2 * cycle (+1). */
static void syn_frames(struct frames *f, enum std_svc svc, uint32_t cycle)
{
	struct xlvs_flow fl;
	uint32_t j;

	for (j = 0; j < NEW_FLOWS; j++) {
		client_flow(j & 0x7fff, svc, &fl);
		fl.sport = htons((uint16_t)(10000 + 2 * cycle + (j >> 15)));
		flow_frame(f, j, &fl, TH_SYN, 0);
	}
}

/* A flood's frames are renewed, never forgotten: every SYN is of a flow never seen. */
static void renew_syns(struct bench *b, const struct row *r)
{
	syn_frames(r->f, SVC_DR4, ++r->f->cycle);
}

/* The full table stays full: the frames' flows go, as many fresh established ones come. */
static void forget_and_refill(struct bench *b, const struct row *r)
{
	forget_flows(b, r);
	fill_table(MAP_FD(&b->w, xlvs_conns), SVC_DR4, FILL_FLOWS + NEW_FLOWS * (r->f->cycle + 1),
		   FILL_FLOWS + NEW_FLOWS * (r->f->cycle + 2));
	r->f->cycle++;
}

/*
 * SYNs of new flows to SVC_DR4 (Maglev: its ring is stable) while FILL_FLOWS
 * established flows are in xlvs_conns (growth_open: SVC_DR4's own in table state,
 * OTHER_SVC's in ring state), which has room for NEW_FLOWS more on this CPU.
 * Reports how many of them survive and how the table grew.
 * guard_rate: xlvs_config.syn_guard_rate during the flood (0: off, the default).
 */
static void measure_flood(struct bench *b, struct flood *fd, enum row_id id, uint32_t guard_rate)
{
	struct frames f;
	struct row r = { .id = id,
			 .verdict = XDP_TX,
			 .ev = XLVS_EV_CONN_NEW,
			 .or_guarded = guard_rate != 0,
			 .f = &f,
			 .reset = renew_syns,
			 .calls = b->calls == CALLS_QUICK ? FLOOD_QUICK : FLOOD_SYNS,
			 .vip = std_svcs[SVC_DR4].vip,
			 .want = id == R_SYN_FLOOD ? FS_RING : FS_TABLE };
	int conns = MAP_FD(&b->w, xlvs_conns);
	struct xlvs_config cfg;

	frames_alloc(&f, NEW_FLOWS, true);
	syn_frames(&f, SVC_DR4, 0);
	world_get_config(&b->w, &cfg);
	cfg.syn_guard_rate = guard_rate;
	world_set_config(&b->w, &cfg);
	fd->entries_before = world_conn_count(&b->w);
	measure(b, &r);
	cfg.syn_guard_rate = 0;
	world_set_config(&b->w, &cfg);
	fd->syns = b->res[id].calls; /* and the warm-up's one new flow */
	fd->established = FILL_FLOWS;
	fd->survived = count_clients(conns, b->fill_svc, FILL_FLOWS);
	fd->entries_after = world_conn_count(&b->w);
	fd->guard_rate = guard_rate;
	fd->row = id;
	fd->done = true;
	fprintf(stderr, "  flood: %llu SYNs, %llu of %u established flows left, entries %llu -> %llu\n",
		(unsigned long long)fd->syns, (unsigned long long)fd->survived, FILL_FLOWS,
		(unsigned long long)fd->entries_before, (unsigned long long)fd->entries_after);
	frames_free(&f);
}

/*
 * New flows on a full table: the flood has filled CPU 0's share, so every
 * insert evicts. Between passes the frames' flows are replaced by as many
 * fresh established ones, so the table stays full.
 */
static void measure_full_table(struct bench *b)
{
	struct frames f;
	struct row r = { .id = R_NEW_FULL,
			 .verdict = XDP_TX,
			 .ev = XLVS_EV_CONN_NEW,
			 .f = &f,
			 .reset = forget_and_refill,
			 .vip = std_svcs[SVC_DR4].vip,
			 .want = FS_TABLE };
	int conns = MAP_FD(&b->w, xlvs_conns);
	uint64_t n;

	if (!row_wanted(b, r.id))
		return;
	/* eviction is table state's cost: ring state records no new flow on a stable ring */
	set_ring_state(b, r.vip, false);
	new_flow_frames(&f, std_svcs[SVC_DR4].vip);
	forget_flows(b, &r); /* a flood before may have left some of them */
	fill_table(conns, SVC_DR4, FILL_FLOWS, FILL_FLOWS + NEW_FLOWS); /* full, whatever came before */
	n = world_conn_count(&b->w);
	/* an LRU list keeps a few nodes free when it shrinks (PERCPU_FREE_TARGET, kernel/bpf/bpf_lru_list.c) */
	CHECK(n + FULL_SLACK >= FILL_FLOWS + NEW_FLOWS && n <= FILL_FLOWS + NEW_FLOWS,
	      "full table: %llu entries, expected %u on this CPU", (unsigned long long)n,
	      FILL_FLOWS + NEW_FLOWS);
	measure(b, &r);
	n = world_conn_count(&b->w);
	CHECK(n <= FILL_FLOWS + NEW_FLOWS, "full table grew to %llu entries", (unsigned long long)n);
	frames_free(&f);
}

/* The flood in ring state (the default) and in table state; the SYN guard only acts in table state. */
static void flood_worlds(struct bench *b)
{
	if (row_wanted(b, R_SYN_FLOOD) || row_wanted(b, R_NEW_FULL)) {
		growth_open(b, SVC_DR4, true);
		if (row_wanted(b, R_SYN_FLOOD))
			measure_flood(b, &b->flood[0], R_SYN_FLOOD, 0);
		measure_full_table(b);
		world_close(&b->w);
	}
	if (row_wanted(b, R_SYN_FLOOD_TABLE)) {
		growth_open(b, SVC_DR4, false);
		measure_flood(b, &b->flood[1], R_SYN_FLOOD_TABLE, 0);
		world_close(&b->w);
	}
	if (row_wanted(b, R_SYN_FLOOD_GUARD)) {
		growth_open(b, SVC_DR4, false);
		measure_flood(b, &b->flood[2], R_SYN_FLOOD_GUARD, GUARD_RATE);
		world_close(&b->w);
	}
}

/* ---- building blocks (tests/bench/blocks.bpf.c) ---------------------------------- */

/* A block over one frame of the hot client flow (CLIENT4 to SVC_DR4). */
static void measure_block(struct bench *b, enum row_id id, int prog_fd, int grow)
{
	struct frames f;
	struct row r = { .id = id, .verdict = XDP_TX, .grow = grow, .f = &f, .prog_fd = prog_fd };

	one_frame(&f, 4, std_svcs[SVC_DR4].vip);
	measure(b, &r);
	frames_free(&f);
}

/*
 * A lookup block over n of SVC_DR4's clients (all of them in the table), picked by pick; a ring
 * block (slot_seq) at their slots in SVC_DR4's ring.
 */
static void measure_block_spread(struct bench *b, enum row_id id, int prog_fd, uint32_t n,
				 uint32_t (*pick)(uint32_t), uint32_t filled, bool slot_seq)
{
	struct frames f;
	struct row r = { .id = id, .verdict = XDP_TX, .f = &f, .prog_fd = prog_fd };

	if (!row_wanted(b, id))
		return;
	spread_frames(&f, SVC_DR4, n, pick, filled, slot_seq);
	measure(b, &r);
	frames_free(&f);
}

/* The hot flow's key in a table of flows, so the lookup blocks find it. */
static void put_hot_flow(int fd)
{
	struct pkt_spec s = tcp_spec(4, CLIENT4, std_svcs[SVC_DR4].vip, CLIENT_SPORT);
	struct xlvs_conn c = { .real_id = std_real_id(SVC_DR4, 0) };
	struct xlvs_flow k;

	spec_flow(&s, &k);
	CHECK(!bpf_map_update_elem(fd, &k, &c, 0), "hot flow: %s", strerror(errno));
}

/* The blocks with tables of per_cpu entries on this CPU (as xlvs_conns in the world compared). */
static struct blocks_bpf *blocks_open(uint32_t per_cpu)
{
	struct blocks_bpf *s = blocks_bpf__open();

	CHECK(s, "open blocks: %s", strerror(errno));
	CHECK(!bpf_map__set_max_entries(s->maps.blk_hash, per_cpu) &&
		      !bpf_map__set_max_entries(s->maps.blk_lru, per_cpu * possible_cpus()) &&
		      !bpf_map__set_max_entries(s->maps.blk_stripe_cache,
						XLVS_SVC_CACHE_SLOTS * possible_cpus()) &&
		      !bpf_map__set_max_entries(s->maps.blk_stripe_counters,
						XLVS_REAL_STATS_STRIDE * possible_cpus()),
	      "size blocks' tables");
	/* the ring blocks stand for SVC_DR4's ring, whose size decides which lines its reads touch */
	CHECK(bpf_map__max_entries(s->maps.blk_ring) == xlvs_ring_blocks(std_svcs[SVC_DR4].ring_size) &&
		      bpf_map__max_entries(s->maps.blk_ring_prev) == std_svcs[SVC_DR4].ring_size,
	      "blk_ring has %u blocks and blk_ring_prev %u slots, %s's ring %u",
	      bpf_map__max_entries(s->maps.blk_ring), bpf_map__max_entries(s->maps.blk_ring_prev),
	      std_svcs[SVC_DR4].name, std_svcs[SVC_DR4].ring_size);
	CHECK(!blocks_bpf__load(s), "load blocks: %s", strerror(errno));
	return s;
}

/* The values the read blocks check: an active real, a cached IPv4 service on every CPU. */
static void put_read_values(struct blocks_bpf *s)
{
	struct xlvs_real r = { .flags = XLVS_REAL_F_ACTIVE };
	uint32_t i, zero = 0, ncpus = possible_cpus();
	struct xlvs_svc_cached *c = calloc(ncpus, sizeof(*c));

	CHECK(c, "out of memory");
	for (i = 0; i < ncpus; i++)
		c[i].key.family = XLVS_AF_INET;
	CHECK(!bpf_map_update_elem(bpf_map__fd(s->maps.blk_array), &zero, &r, 0) &&
		      !bpf_map_update_elem(bpf_map__fd(s->maps.blk_svc_cache), &zero, c, 0),
	      "read blocks' values: %s", strerror(errno));
	for (i = 0; i < ncpus; i++) {
		uint32_t key = xlvs_stripe_key(i, XLVS_SVC_CACHE_SLOTS, 0);

		CHECK(!bpf_map_update_elem(bpf_map__fd(s->maps.blk_stripe_cache), &key, &c[i], 0),
		      "striped cache's copy of CPU %u: %s", i, strerror(errno));
	}
	free(c);
}

/* Every slot owned (SVC_DR4's reals in turn), every slot with a previous owner whose window is set. */
static void put_ring_values(struct blocks_bpf *s)
{
	uint32_t n = std_svcs[SVC_DR4].ring_size, nreals = svc_reals(SVC_DR4), i;
	uint32_t *ring = calloc(n, sizeof(*ring));
	struct xlvs_slot_prev *prev = calloc(n, sizeof(*prev));

	CHECK(ring && prev, "out of memory");
	for (i = 0; i < n; i++) {
		ring[i] = std_real_id(SVC_DR4, (int)(i % nreals));
		prev[i] = (struct xlvs_slot_prev){ .real_id = std_real_id(SVC_DR4, (int)((i + 1) % nreals)),
						   .until = 1 };
	}
	CHECK(xlvs_ring_write(bpf_map__fd(s->maps.blk_ring), 0, NULL, ring, n) == (int)n, "blk_ring write");
	put_prevs(bpf_map__fd(s->maps.blk_ring_prev), 0, prev, n);
	free(prev);
	free(ring);
}

/*
 * The ring blocks at the slots of SVC_DR4's ring that the DR spread rows' flows hit: the 4,096 of
 * dr_established_4k_spread (also the changed-slot rows'), the 65,536 dr_established_1m_spread visits.
 */
static void ring_blocks(struct bench *b, struct blocks_bpf *s)
{
	put_ring_values(s);
	measure_block_spread(b, R_BLK_RING_4K, bpf_program__fd(s->progs.blk_ring_read), SPREAD_SMALL,
			     pick_scrambled, SPREAD_SMALL, true);
	measure_block_spread(b, R_BLK_RING_PREV_4K, bpf_program__fd(s->progs.blk_ring_prev_read),
			     SPREAD_SMALL, pick_scrambled, SPREAD_SMALL, true);
	measure_block_spread(b, R_BLK_RING_64K, bpf_program__fd(s->progs.blk_ring_read), NEW_FLOWS,
			     pick_strided, FILL_FLOWS, true);
}

/*
 * blk_dr_path's world: SVC_DR4's service copied into every CPU's cache slot for it (as
 * service_find() leaves it), its ring's reals active with weight and MACs (the ring from
 * put_ring_values()). The id is SVC_DR4's real one; the counters' stride holds it.
 */
static void put_path_values(struct bench *b, struct blocks_bpf *s)
{
	const struct svc_def *d = &std_svcs[SVC_DR4];
	struct xlvs_svc_cached c = { .key = svc_key(d->vip, d->port, d->proto), .gen = 1 };
	uint32_t i, id, ncpus = possible_cpus(), slot = xlvs_svc_cache_slot(&c.key);

	(void)b;
	c.svc = (struct xlvs_service){ .id = 7, .ring_size = d->ring_size, .flags = XLVS_SVC_F_RING_STATE };
	for (i = 0; i < ncpus; i++) {
		uint32_t key = xlvs_stripe_key(i, XLVS_SVC_CACHE_SLOTS, slot);

		CHECK(!bpf_map_update_elem(bpf_map__fd(s->maps.blk_stripe_cache), &key, &c, 0),
		      "blk_dr_path's cached service, CPU %u: %s", i, strerror(errno));
	}
	for (i = 0; i < svc_reals(SVC_DR4); i++) {
		struct xlvs_real r = { .family = XLVS_AF_INET,
				       .fwd = XLVS_FWD_DR,
				       .flags = XLVS_REAL_F_ACTIVE,
				       .svc_id = c.svc.id,
				       .weight = 1,
				       .nh_mac = { 2, 0, 0, 0, 0, (uint8_t)i },
				       .nh_smac = { 2, 0, 0, 0, 1, 0 } };

		id = std_real_id(SVC_DR4, (int)i);
		CHECK(!bpf_map_update_elem(bpf_map__fd(s->maps.blk_reals), &id, &r, 0), "blk_reals %u: %s",
		      id, strerror(errno));
	}
}

/* The design's limit over the hot flow and over dr_established_4k_spread's flows (its frames). */
static void path_blocks(struct bench *b, struct blocks_bpf *s)
{
	int fd = bpf_program__fd(s->progs.blk_dr_path);

	put_path_values(b, s);
	measure_block(b, R_BLK_DR_PATH, fd, 0);
	measure_block_spread(b, R_BLK_DR_PATH_4K, fd, SPREAD_SMALL, pick_scrambled, SPREAD_SMALL, false);
}

/* The table's size matters (its bucket array): hot, insert and 4k as in the main world. */
static void small_blocks(struct bench *b)
{
	struct blocks_bpf *s = blocks_open(2 * NEW_FLOWS);
	int hash = bpf_map__fd(s->maps.blk_hash), lru = bpf_map__fd(s->maps.blk_lru);
	struct frames f;
	struct row ins = { .id = R_BLK_LRU_INSERT, .verdict = XDP_TX, .f = &f, .reset = forget_flows };

	put_read_values(s);
	measure_block(b, R_BLK_ARRAY, bpf_program__fd(s->progs.blk_array_lookup), 0);
	measure_block(b, R_BLK_ARRAY_READ, bpf_program__fd(s->progs.blk_array_read), 0);
	measure_block(b, R_BLK_PERCPU_READ, bpf_program__fd(s->progs.blk_percpu_read), 0);
	measure_block(b, R_BLK_PERCPU, bpf_program__fd(s->progs.blk_percpu_count), 0);
	measure_block(b, R_BLK_STRIPE_READ, bpf_program__fd(s->progs.blk_stripe_read), 0);
	measure_block(b, R_BLK_STRIPE, bpf_program__fd(s->progs.blk_stripe_count), 0);
	measure_block(b, R_BLK_CLOCK, bpf_program__fd(s->progs.blk_clock), 0);
	measure_block(b, R_BLK_FLOW_HASH, bpf_program__fd(s->progs.blk_flow_hash), 0);
	measure_block(b, R_BLK_FLOW_SLOT, bpf_program__fd(s->progs.blk_flow_slot), 0);
	measure_block(b, R_BLK_FLOW_SLOT_MIX64, bpf_program__fd(s->progs.blk_flow_slot_mix64), 0);
	measure_block(b, R_BLK_ADJUST_HEAD, bpf_program__fd(s->progs.blk_adjust_head), 20);
	put_hot_flow(hash);
	put_hot_flow(lru);
	measure_block(b, R_BLK_HASH_HOT, bpf_program__fd(s->progs.blk_hash_lookup), 0);
	measure_block(b, R_BLK_LRU_HOT, bpf_program__fd(s->progs.blk_lru_lookup), 0);
	/* inserts into a table with room, as new_flow_dr's: the frames' flows go between passes */
	if (row_wanted(b, R_BLK_LRU_INSERT)) {
		new_flow_frames(&f, std_svcs[SVC_DR4].vip);
		ins.prog_fd = bpf_program__fd(s->progs.blk_lru_insert);
		ins.map_fd = lru;
		forget_flows(b, &ins);
		measure(b, &ins);
		forget_flows(b, &ins);
		frames_free(&f);
	}
	fill_table(hash, SVC_DR4, 0, SPREAD_SMALL);
	fill_table(lru, SVC_DR4, 0, SPREAD_SMALL);
	measure_block_spread(b, R_BLK_HASH_4K, bpf_program__fd(s->progs.blk_hash_lookup), SPREAD_SMALL,
			     pick_scrambled, SPREAD_SMALL, false);
	measure_block_spread(b, R_BLK_LRU_4K, bpf_program__fd(s->progs.blk_lru_lookup), SPREAD_SMALL,
			     pick_scrambled, SPREAD_SMALL, false);
	ring_blocks(b, s);
	path_blocks(b, s);
	blocks_bpf__destroy(s);
}

/* The 1M rows with the growth world's table size. */
static void large_blocks(struct bench *b)
{
	struct blocks_bpf *s = blocks_open(FILL_FLOWS + NEW_FLOWS);
	int hash = bpf_map__fd(s->maps.blk_hash), lru = bpf_map__fd(s->maps.blk_lru);

	fill_table(hash, SVC_DR4, 0, FILL_FLOWS);
	fill_table(lru, SVC_DR4, 0, FILL_FLOWS);
	CHECK(count_clients(lru, SVC_DR4, FILL_FLOWS) == FILL_FLOWS, "blk_lru evicted filled flows");
	measure_block_spread(b, R_BLK_HASH_1M, bpf_program__fd(s->progs.blk_hash_lookup), NEW_FLOWS,
			     pick_strided, FILL_FLOWS, false);
	measure_block_spread(b, R_BLK_LRU_1M, bpf_program__fd(s->progs.blk_lru_lookup), NEW_FLOWS,
			     pick_strided, FILL_FLOWS, false);
	blocks_bpf__destroy(s);
}

static void blocks_world(struct bench *b)
{
	static const enum row_id small[] = { R_BLK_ARRAY,	    R_BLK_ARRAY_READ,	R_BLK_PERCPU_READ,
					     R_BLK_PERCPU,	    R_BLK_STRIPE_READ,	R_BLK_STRIPE,
					     R_BLK_CLOCK,	    R_BLK_FLOW_HASH,	R_BLK_ADJUST_HEAD,
					     R_BLK_HASH_HOT,	    R_BLK_HASH_4K,	R_BLK_LRU_HOT,
					     R_BLK_LRU_4K,	    R_BLK_LRU_INSERT,	R_BLK_RING_4K,
					     R_BLK_RING_64K,	    R_BLK_RING_PREV_4K, R_BLK_FLOW_SLOT,
					     R_BLK_FLOW_SLOT_MIX64, R_BLK_DR_PATH,	R_BLK_DR_PATH_4K };
	static const enum row_id large[] = { R_BLK_HASH_1M, R_BLK_LRU_1M };

	if (any_wanted(b, small, sizeof(small) / sizeof(small[0])))
		small_blocks(b);
	if (any_wanted(b, large, 2))
		large_blocks(b);
}

/* ---- the main world ------------------------------------------------------------- */

static void main_world(struct bench *b)
{
	/*
	 * The new-flow rows insert NEW_FLOWS flows between resets: CPU 0's share
	 * of the per-CPU LRU holds twice that, so they never measure eviction.
	 */
	struct world_opts o = {
		.conn_entries = 2 * NEW_FLOWS * possible_cpus(),
		.ring_slots = world_std_slots() + BUILD_SIZE + SMALL_RING,
	};
	size_t i;

	bench_world(b, &o);
	measure_one(b, R_MISS, 4, MISS_DST, XDP_PASS, 0, XLVS_EV_PASS_NO_SERVICE);
	measure_one(b, R_DR, 4, std_svcs[SVC_DR4].vip, XDP_TX, 0, XLVS_EV_CONN_HIT);
	measure_one(b, R_IPIP, 4, std_svcs[SVC_IPIP].vip, XDP_TX, 20, XLVS_EV_CONN_HIT);
	measure_one(b, R_IP6IP6, 6, std_svcs[SVC_IP6IP6].vip, XDP_TX, 40, XLVS_EV_CONN_HIT);
	measure_one(b, R_GUE4, 4, std_svcs[SVC_GUE4].vip, XDP_TX, 28, XLVS_EV_CONN_HIT);
	measure_one(b, R_GUE6, 6, std_svcs[SVC_GUE6].vip, XDP_TX, 48, XLVS_EV_CONN_HIT);
	measure_one(b, R_DR6, 6, std_svcs[SVC_DR6].vip, XDP_TX, 0, XLVS_EV_CONN_HIT);
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		measure_4k_spread(b, &methods[i], true);
		measure_4k_spread(b, &methods[i], false);
	}
	measure_changed_slots(b);
	measure_new_flows(b, R_NEW, std_svcs[SVC_DR4].vip, FS_RING);
	if (row_wanted(b, R_NEW_TABLE)) {
		set_ring_state(b, std_svcs[SVC_DR4].vip, false);
		measure_new_flows(b, R_NEW_TABLE, std_svcs[SVC_DR4].vip, FS_TABLE);
		default_flow_state(b);
	}
	measure_schedulers(b);
	/* with --rows, the setup of rows not selected is skipped too */
	if (row_wanted(b, R_NEW_PERSIST_HIT) || row_wanted(b, R_NEW_PERSIST_MISS))
		measure_persistence(b);
	if (any_wanted(b, nat_rows, sizeof(nat_rows) / sizeof(nat_rows[0])))
		measure_nat(b);
	if (row_wanted(b, R_NEW_4K) || row_wanted(b, R_NEW_WLC_256)) {
		install_big_service(b);
		measure_new_flows(b, R_NEW_4K, BIG_VIP, FS_RING);
		measure_wlc_many(b);
	}
	if (row_wanted(b, R_DR_10K)) {
		install_extra_services(b);
		measure_one(b, R_DR_10K, 4, std_svcs[SVC_DR4].vip, XDP_TX, 0, XLVS_EV_CONN_HIT);
	}
	world_close(&b->w);
}

/* Mean time of xlvs_maglev_build() for a BUILD_SIZE ring of n reals. */
static double time_builds(uint32_t n, uint32_t builds)
{
	struct xlvs_maglev_backend *be = calloc(n, sizeof(*be));
	uint32_t *addr = calloc(n, sizeof(*addr));
	uint32_t *ring = calloc(BUILD_SIZE, sizeof(*ring));
	double t0, sum = 0;
	uint32_t i;

	CHECK(be && addr && ring, "out of memory");
	big_backends(be, addr, n, 0);
	CHECK(!xlvs_maglev_build(ring, BUILD_SIZE, be, n), "maglev build"); /* fault pages in */
	for (i = 0; i < builds; i++) {
		t0 = now_ns(CLOCK_MONOTONIC);
		CHECK(!xlvs_maglev_build(ring, BUILD_SIZE, be, n), "maglev build");
		sum += now_ns(CLOCK_MONOTONIC) - t0;
	}
	free(ring);
	free(addr);
	free(be);
	return sum / builds;
}

/* ---- output ------------------------------------------------------------------- */

struct stats {
	double mean, floor, above, ratio;
};

/* A row against the floor batches measured around it; the floor row against itself. */
static struct stats row_stats(const struct result *r)
{
	struct stats s = { .mean = (double)r->sum_ns / (double)r->calls };

	s.floor = r->floor_calls ? (double)r->floor_sum_ns / (double)r->floor_calls : s.mean;
	s.above = s.mean - s.floor;
	s.ratio = s.mean / s.floor;
	return s;
}

static void print_row(const struct bench *b, int id)
{
	const struct result *r = &b->res[id];
	struct stats s = row_stats(r);
	uint32_t t = b->repeat == 1 ? row_info[id].target_ns : 0; /* targets are the method's */
	char target[16] = "-";

	if (t)
		snprintf(target, sizeof(target), "<= %u", t);
	printf("%-34s %-5s %8llu %9.1f %7.1f %6u ", row_info[id].name, fs_names[r->state],
	       (unsigned long long)r->calls, (double)r->sum_ns / 1e6, s.mean, r->p50_ns);
	if (id == R_FLOOR)
		printf("%6s %6s %6.2f %7s\n", "-", "-", 1.0, target);
	else if (!t)
		printf("%6.1f %6.1f %6.2f %7s\n", s.floor, s.above, s.ratio, target);
	else
		printf("%6.1f %6.1f %6.2f %7s %s\n", s.floor, s.above, s.ratio, target,
		       s.above <= t ? "ok" : "over");
}

/* NAT row / DR row, both above their floors; 0 when either was not measured. */
static double nat_ratio(const struct bench *b, size_t i)
{
	const struct result *r = &b->res[nat_ratios[i].row], *d = &b->res[nat_ratios[i].dr];

	return r->done && d->done ? row_stats(r).above / row_stats(d).above : 0;
}

static void print_nat_ratios(const struct bench *b)
{
	bool head = false; /* none with --rows that leave out a pair */
	size_t i;

	for (i = 0; i < sizeof(nat_ratios) / sizeof(nat_ratios[0]); i++) {
		if (nat_ratio(b, i) <= 0)
			continue;
		if (!head)
			printf("\nNAT against DR, same service, ring and reals (ns above the floor):\n");
		head = true;
		printf("  %-24s / %-24s %5.2f\n", row_info[nat_ratios[i].row].name,
		       row_info[nat_ratios[i].dr].name, nat_ratio(b, i));
	}
}

/* ---- rows against their building blocks ----------------------------------------- */

/*
 * What each path costs at least in this design: the blocks it uses (read from
 * bpf/xlvs_lb.bpf.c balance(), lookup.h service_find() and vip_filter_match(),
 * ring.h, conntrack.h, sched.h, forward.h xmit(), stats.h). Not in any block:
 * parsing, the VIP filter's and the service cache's hashes and key compare,
 * the entry's last-seen write, MACs, outer headers (GUE over IPv6: its UDP
 * checksum). A part may name a block another part names too: blocks_sum()
 * adds them up.
 */
#define BLOCKS_MAX 12
struct part {
	enum row_id block;
	uint8_t n;
};

/*
 * Every packet to a service: xlvs_config and its real (2 array reads; a cache hit skips the VIP
 * filter), the service from this CPU's stripe of the cache (no hash lookup while the copy is
 * valid, no clock), the service's and the real's counters in this CPU's stripes
 * (count_forwarded()).
 */
#define SVC                                                                                                  \
	{ R_BLK_ARRAY_READ, 2 }, { R_BLK_STRIPE_READ, 1 },                                                   \
	{                                                                                                    \
		R_BLK_STRIPE, 2                                                                              \
	}
/*
 * A ring-state packet's slot (ring_lookup()): the flow hash and its place in the ring (world_std's
 * state: mix64), the slot's value (ring: its block).
 */
#define SLOT(ring)                                                                                           \
	{ R_BLK_FLOW_SLOT_MIX64, 1 },                                                                        \
	{                                                                                                    \
		ring, 1                                                                                      \
	}
/* An entry that wins (conn_established()): its lookup (lru: its block), the clock, conn_hit. */
#define HIT(lru)                                                                                             \
	{ lru, 1 }, { R_BLK_CLOCK, 1 },                                                                      \
	{                                                                                                    \
		R_BLK_STRIPE, 1                                                                              \
	}
/*
 * A new flow in table state (conn_new()): the lookup that missed (priced as a hit on a table of
 * that size), the flow hash and its Maglev slot (mix64), the slot's value, the stamp's clock,
 * the insert, conn_new.
 */
#define NEWFLOW(lru, ring)                                                                                   \
	{ lru, 1 }, { R_BLK_FLOW_SLOT_MIX64, 1 }, { ring, 1 }, { R_BLK_CLOCK, 1 }, { R_BLK_LRU_INSERT, 1 },  \
	{                                                                                                    \
		R_BLK_STRIPE, 1                                                                              \
	}
#define ENCAP                                                                                                \
	{                                                                                                    \
		R_BLK_ADJUST_HEAD, 1                                                                         \
	}
/* SVC_DR4's ring of 65,537 slots read at one slot (hot), the 4k rows' 4,096, the 65,536 others visit */
#define RING_HOT R_BLK_ARRAY_READ
#define RING_4K	 R_BLK_RING_4K
#define RING_64K R_BLK_RING_64K
/* the other services' rings have 251 slots (1 KB): every read of them is hot */
#define RING_251 R_BLK_ARRAY_READ

static const struct composition {
	enum row_id row;
	enum fs_mode state; /* the state the blocks are of (FS_NONE: no service) */
	struct part parts[BLOCKS_MAX];
} compositions[] = {
	/* no VIP: the service cache misses (its probe), the filter says no, no service lookup */
	{ R_MISS, FS_NONE, { { R_BLK_ARRAY_READ, 2 }, { R_BLK_STRIPE_READ, 1 }, { R_BLK_STRIPE, 1 } } },
	/* ring state, a stable slot: no table, no event; spread or not, SYN or not, one path */
	{ R_DR, FS_RING, { SVC, SLOT(RING_HOT) } },
	{ R_DR_1M, FS_RING, { SVC, SLOT(RING_HOT) } },
	{ R_DR_10K, FS_RING, { SVC, SLOT(RING_HOT) } },
	{ R_DR6, FS_RING, { SVC, SLOT(RING_251) } },
	{ R_IPIP, FS_RING, { SVC, SLOT(RING_251), ENCAP } },
	{ R_IP6IP6, FS_RING, { SVC, SLOT(RING_251), ENCAP } },
	{ R_GUE4, FS_RING, { SVC, SLOT(RING_251), ENCAP } },
	{ R_GUE6, FS_RING, { SVC, SLOT(RING_251), ENCAP } },
	{ R_DR_4K, FS_RING, { SVC, SLOT(RING_4K) } },
	{ R_DR6_4K, FS_RING, { SVC, SLOT(RING_251) } },
	{ R_IPIP_4K, FS_RING, { SVC, SLOT(RING_251), ENCAP } },
	{ R_IP6IP6_4K, FS_RING, { SVC, SLOT(RING_251), ENCAP } },
	{ R_GUE4_4K, FS_RING, { SVC, SLOT(RING_251), ENCAP } },
	{ R_GUE6_4K, FS_RING, { SVC, SLOT(RING_251), ENCAP } },
	{ R_DR_1M_SPREAD, FS_RING, { SVC, SLOT(RING_64K) } },
	{ R_DR6_1M, FS_RING, { SVC, SLOT(RING_251) } },
	{ R_IPIP_1M, FS_RING, { SVC, SLOT(RING_251), ENCAP } },
	{ R_IP6IP6_1M, FS_RING, { SVC, SLOT(RING_251), ENCAP } },
	{ R_GUE4_1M, FS_RING, { SVC, SLOT(RING_251), ENCAP } },
	{ R_GUE6_1M, FS_RING, { SVC, SLOT(RING_251), ENCAP } },
	{ R_DR_64K, FS_RING, { SVC, SLOT(RING_64K) } },
	{ R_NEW, FS_RING, { SVC, SLOT(RING_64K) } },
	{ R_SYN_FLOOD, FS_RING, { SVC, SLOT(RING_64K) } },
	/* ring state, changed slots: the slot, then the entry; or the previous owner, recorded */
	{ R_DR_4K_CHANGED, FS_RING, { SVC, SLOT(RING_4K), HIT(R_BLK_LRU_4K), { R_BLK_STRIPE, 1 } } },
	{ R_DR_PREV_4K,
	  FS_RING,
	  { SVC,
	    SLOT(RING_4K),
	    { R_BLK_LRU_4K, 1 },
	    { R_BLK_RING_PREV_4K, 1 },
	    { R_BLK_CLOCK, 2 },
	    { R_BLK_LRU_INSERT, 1 },
	    { R_BLK_STRIPE, 2 } } },
	/* table state: no slot, the entry */
	{ R_DR_4K_TABLE, FS_TABLE, { SVC, HIT(R_BLK_LRU_4K) } },
	{ R_DR6_4K_TABLE, FS_TABLE, { SVC, HIT(R_BLK_LRU_4K) } },
	{ R_IPIP_4K_TABLE, FS_TABLE, { SVC, HIT(R_BLK_LRU_4K), ENCAP } },
	{ R_IP6IP6_4K_TABLE, FS_TABLE, { SVC, HIT(R_BLK_LRU_4K), ENCAP } },
	{ R_GUE4_4K_TABLE, FS_TABLE, { SVC, HIT(R_BLK_LRU_4K), ENCAP } },
	{ R_GUE6_4K_TABLE, FS_TABLE, { SVC, HIT(R_BLK_LRU_4K), ENCAP } },
	{ R_DR_1M_TABLE, FS_TABLE, { SVC, HIT(R_BLK_LRU_1M) } },
	{ R_DR6_1M_TABLE, FS_TABLE, { SVC, HIT(R_BLK_LRU_1M) } },
	{ R_IPIP_1M_TABLE, FS_TABLE, { SVC, HIT(R_BLK_LRU_1M), ENCAP } },
	{ R_IP6IP6_1M_TABLE, FS_TABLE, { SVC, HIT(R_BLK_LRU_1M), ENCAP } },
	{ R_GUE4_1M_TABLE, FS_TABLE, { SVC, HIT(R_BLK_LRU_1M), ENCAP } },
	{ R_GUE6_1M_TABLE, FS_TABLE, { SVC, HIT(R_BLK_LRU_1M), ENCAP } },
	{ R_NEW_TABLE, FS_TABLE, { SVC, NEWFLOW(R_BLK_LRU_HOT, RING_64K) } },
	{ R_NEW_FULL, FS_TABLE, { SVC, NEWFLOW(R_BLK_LRU_1M, RING_64K) } },
	{ R_SYN_FLOOD_TABLE, FS_TABLE, { SVC, NEWFLOW(R_BLK_LRU_1M, RING_64K) } },
};

/* A row's ns above its floor (may be below 0 by noise for the cheapest blocks). */
static double block_above(const struct bench *b, enum row_id id)
{
	return (double)b->res[id].sum_ns / (double)b->res[id].calls -
	       (double)b->res[id].floor_sum_ns / (double)b->res[id].floor_calls;
}

/*
 * The sum of a row's blocks, each block named once with its count; false when the row or one of
 * its blocks was not measured.
 */
static bool blocks_sum(const struct bench *b, const struct composition *c, double *sum, char *what,
		       size_t len)
{
	uint32_t count[R_MAX] = { 0 };
	enum row_id order[BLOCKS_MAX];
	size_t i, k = 0, off = 0;

	what[0] = 0;
	*sum = 0;
	if (!b->res[c->row].done || b->res[c->row].state != c->state)
		return false;
	for (i = 0; i < BLOCKS_MAX && c->parts[i].n; i++) {
		if (!b->res[c->parts[i].block].done)
			return false;
		if (!count[c->parts[i].block])
			order[k++] = c->parts[i].block;
		count[c->parts[i].block] += c->parts[i].n;
	}
	for (i = 0; i < k; i++) {
		*sum += block_above(b, order[i]) * count[order[i]];
		off += (size_t)snprintf(what + off, len - off, "%s%u %s", i ? " + " : "", count[order[i]],
					row_info[order[i]].name + strlen("block_"));
		if (off >= len)
			off = len - 1;
	}
	return true;
}

static void print_compositions(const struct bench *b)
{
	char what[256];
	double sum, above;
	size_t i;
	bool head = false;

	for (i = 0; i < sizeof(compositions) / sizeof(compositions[0]); i++) {
		if (!blocks_sum(b, &compositions[i], &sum, what, sizeof(what)))
			continue;
		above = block_above(b, compositions[i].row);
		if (!head)
			printf("\nrows against the building blocks they use (ns above the floor):\n"
			       "%-34s %7s %7s %7s  %s\n",
			       "row", "above", "blocks", "rest", "blocks used");
		head = true;
		printf("%-34s %7.1f %7.1f %7.1f  %s\n", row_info[compositions[i].row].name, above, sum,
		       above - sum, what);
	}
}

static void json_compositions(FILE *f, const struct bench *b)
{
	char what[256];
	double sum, above;
	size_t i;
	bool first = true;

	fprintf(f, "  \"compositions\": [");
	for (i = 0; i < sizeof(compositions) / sizeof(compositions[0]); i++) {
		if (!blocks_sum(b, &compositions[i], &sum, what, sizeof(what)))
			continue;
		above = block_above(b, compositions[i].row);
		fprintf(f,
			"%s\n    { \"row\": \"%s\", \"ns_above_floor\": %.1f, \"blocks_ns\": %.1f, \"blocks\": \"%s\" }",
			first ? "" : ",", row_info[compositions[i].row].name, above, sum, what);
		first = false;
	}
	fprintf(f, "%s],\n", first ? "" : "\n  ");
}

/* The flood rows' figures: what the SYNs did to the established flows and the table. */
static void print_floods(const struct bench *b)
{
	const struct flood *f;
	size_t i;

	for (i = 0; i < FLOODS; i++) {
		f = &b->flood[i];
		if (!f->done)
			continue;
		printf("\n%s: %llu SYNs of new flows to %s:80 (Maglev, stable ring, %s state), syn_guard_rate %u\n",
		       row_info[f->row].name, (unsigned long long)f->syns, std_svcs[SVC_DR4].vip,
		       fs_names[b->res[f->row].state], f->guard_rate);
		printf("  established flows left: %llu of %llu (%.1f%%); xlvs_conns entries %llu before, %llu after\n",
		       (unsigned long long)f->survived, (unsigned long long)f->established,
		       100.0 * (double)f->survived / (double)f->established,
		       (unsigned long long)f->entries_before, (unsigned long long)f->entries_after);
	}
}

static void print_table(struct bench *b, const struct utsname *u, const char *date)
{
	int id;

	printf("xlvs-bench %s, kernel %s, %ld CPUs, pinned to CPU 0, load average %.2f at start\n", date,
	       u->release, sysconf(_SC_NPROCESSORS_ONLN), b->load0);
	printf("BPF_PROG_RUN repeat=%u%s, %u calls/row in %d batches alternating with floor batches;"
	       " TCP frames, %d-byte payload\n",
	       b->repeat, b->repeat > 1 ? " (a warm loop: not the method; ns/pkt per run)" : "", b->calls,
	       BATCHES, PAYLOAD);
	printf("ns/pkt: mean kernel duration; floor: mean of the floor batches around the row;"
	       " above = ns/pkt - floor\n");
	printf("state: flow state of the row's service (ring: XLVS_SVC_F_RING_STATE, the default for Maglev TCP)%s\n\n",
	       b->ring_dp > 0 ? "" : "; THIS DATA PATH IGNORES RING STATE: every row measured table state");
	printf("%-34s %-5s %8s %9s %7s %6s %6s %6s %6s %7s\n", "row", "state", "calls", "total ms", "ns/pkt",
	       "p50", "floor", "above", "ratio", "target");
	for (id = 0; id < R_MAX; id++)
		if (b->res[id].done)
			print_row(b, id);
	print_nat_ratios(b);
	print_compositions(b);
	print_floods(b);
	if (!b->build_ns) {
		printf("\nrun time %.1f s\n", b->wall_s);
		return;
	}
	printf("\nmaglev ring build (userspace xlvs_maglev_build, %u slots):\n", BUILD_SIZE);
	printf("  %4u reals: %7.3f ms (%.0f ns), mean of %u builds    target <= 1 ms  %s\n", BUILD_REALS,
	       b->build_ns / 1e6, b->build_ns, b->builds, b->build_ns <= BUILD_TARGET_NS ? "ok" : "over");
	printf("  %4u reals: %7.3f ms (%.0f ns), one build (setup of new_flow_4096_reals)\n", BIG_REALS,
	       b->build_big_ns / 1e6, b->build_big_ns);
	printf("\nrun time %.1f s\n", b->wall_s);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if ((unsigned char)*s >= 0x20)
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_row(FILE *f, const struct bench *b, int id, bool last)
{
	const struct result *r = &b->res[id];
	struct stats s = row_stats(r);
	uint32_t t = b->repeat == 1 ? row_info[id].target_ns : 0;

	fprintf(f, "    { \"name\": ");
	json_str(f, row_info[id].name);
	fprintf(f, ", \"calls\": %llu", (unsigned long long)r->calls);
	fprintf(f, ", \"ns_per_pkt\": %.1f", s.mean);
	fprintf(f, ", \"ns_above_floor\": %.1f", s.above);
	fprintf(f, ", \"ratio\": %.3f", s.ratio);
	fprintf(f, ", \"floor_ns\": %.1f", s.floor);
	fprintf(f, ", \"p50_ns\": %u", r->p50_ns);
	if (r->state != FS_NONE)
		fprintf(f, ", \"flow_state\": \"%s\"", fs_names[r->state]);
	if (t)
		fprintf(f, ", \"target_ns\": %u, \"ok\": %s", t, s.above <= t ? "true" : "false");
	else
		fprintf(f, ", \"target_ns\": null, \"ok\": null");
	fprintf(f, " }%s\n", last ? "" : ",");
}

/* "nat_vs_dr": { "nat_new_flow/new_flow_dr": 1.23, ... } */
static void json_nat_ratios(FILE *f, const struct bench *b)
{
	const char *sep = "";
	size_t i;

	fprintf(f, "  \"nat_vs_dr\": {");
	for (i = 0; i < sizeof(nat_ratios) / sizeof(nat_ratios[0]); i++) {
		if (nat_ratio(b, i) <= 0)
			continue;
		fprintf(f, "%s \"%s/%s\": %.3f", sep, row_info[nat_ratios[i].row].name,
			row_info[nat_ratios[i].dr].name, nat_ratio(b, i));
		sep = ",";
	}
	fprintf(f, " },\n");
}

static void json_floods(FILE *f, const struct bench *b)
{
	const struct flood *fl;
	size_t i;
	bool first = true;

	fprintf(f, "  \"syn_floods\": [");
	for (i = 0; i < FLOODS; i++) {
		fl = &b->flood[i];
		if (!fl->done)
			continue;
		fprintf(f,
			"%s\n    { \"row\": \"%s\", \"flow_state\": \"%s\", \"syns\": %llu, \"guard_rate\": %u, \"established\": %llu",
			first ? "" : ",", row_info[fl->row].name, fs_names[b->res[fl->row].state],
			(unsigned long long)fl->syns, fl->guard_rate, (unsigned long long)fl->established);
		fprintf(f,
			", \"established_left\": %llu, \"entries_before\": %llu, \"entries_after\": %llu }",
			(unsigned long long)fl->survived, (unsigned long long)fl->entries_before,
			(unsigned long long)fl->entries_after);
		first = false;
	}
	fprintf(f, "%s],\n", first ? "" : "\n  ");
}

static void json_head(FILE *f, const struct bench *b, const struct utsname *u, const char *date)
{
	fprintf(f, "{\n  \"date\": ");
	json_str(f, date);
	fprintf(f, ",\n  \"kernel\": ");
	json_str(f, u->release);
	fprintf(f, ",\n  \"cpus\": %ld,\n", sysconf(_SC_NPROCESSORS_ONLN));
	fprintf(f, "  \"cpu\": 0,\n");
	fprintf(f, "  \"loadavg_start\": %.2f,\n", b->load0);
	fprintf(f, "  \"ring_state_data_path\": %s,\n", b->ring_dp > 0 ? "true" : "false");
	fprintf(f, "  \"calls_per_row\": %u,\n", b->calls);
	fprintf(f, "  \"repeat\": %u,\n", b->repeat);
	fprintf(f, "  \"payload_bytes\": %d,\n", PAYLOAD);
	fprintf(f, "  \"floor_ns\": %.1f,\n", row_stats(&b->res[R_FLOOR]).mean);
	fprintf(f, "  \"ring_build_ms\": %.4f,\n", b->build_ns / 1e6);
	fprintf(f, "  \"ring_build_ns\": %.0f,\n", b->build_ns);
	fprintf(f, "  \"ring_build_size\": %u,\n", BUILD_SIZE);
	fprintf(f, "  \"ring_build_reals\": %u,\n", BUILD_REALS);
	fprintf(f, "  \"ring_build_target_ms\": 1,\n");
	fprintf(f, "  \"ring_build_ok\": %s,\n", b->build_ns <= BUILD_TARGET_NS ? "true" : "false");
	fprintf(f, "  \"ring_build_4096_reals_ms\": %.4f,\n", b->build_big_ns / 1e6);
	fprintf(f, "  \"run_time_s\": %.1f,\n", b->wall_s);
	json_nat_ratios(f, b);
	json_floods(f, b);
	json_compositions(f, b);
}

static void write_json(const struct bench *b, const struct utsname *u, const char *date)
{
	FILE *f = fopen(b->json, "w");
	int id, last = 0;

	CHECK(f, "open %s: %s", b->json, strerror(errno));
	for (id = 0; id < R_MAX; id++)
		if (b->res[id].done)
			last = id;
	json_head(f, b, u, date);
	fprintf(f, "  \"rows\": [\n");
	for (id = 0; id < R_MAX; id++)
		if (b->res[id].done)
			json_row(f, b, id, id == last);
	fprintf(f, "  ]\n}\n");
	CHECK(fclose(f) == 0, "write %s: %s", b->json, strerror(errno));
}

/* ---- main ----------------------------------------------------------------------- */

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [--json PATH] [--calls N] [--quick] [--rows PATTERNS] [--repeat N] [--lines PATH] [--list]\n"
		"  BPF_PROG_RUN benchmark of the xlvs director (run as root; see docs/bench.md)\n"
		"  --json PATH  also write the results as JSON to PATH\n"
		"  --calls N    measured calls per row (default %d, at least %d)\n"
		"  --quick      %d calls per row and %d ring builds, for a smoke run\n"
		"  --rows PATTERNS  only the rows whose names match one of these comma-separated\n"
		"               shell patterns (the floor always runs; no ring build)\n"
		"  --repeat N   run each measured call N times over its own output (2..%d, with --rows):\n"
		"               a warm loop, not the method; only rows whose frame comes out as it\n"
		"               went in (DR, blocks) can; the kernel swaps the XDP dispatcher twice\n"
		"               per such call, so keep --calls small (docs/bench.md)\n"
		"  --lines PATH write each measured program's JIT line table to PATH while it is\n"
		"               loaded, for xlvs-profile (tests/bench/profile.sh, docs/bench.md)\n"
		"  --list       print every row's name and exit\n"
		"  -h, --help   this text\n"
		"exit: 0 done (missed targets are reported, not failed), 1 usage error,\n"
		"      2 setup failure or a wrong verdict\n",
		prog, CALLS_DEFAULT, BATCHES, CALLS_QUICK, BUILDS_QUICK, REPEAT_MAX);
}

static void parse_args(struct bench *b, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", required_argument, NULL, 'j' },
		{ "calls", required_argument, NULL, 'c' },
		{ "quick", no_argument, NULL, 'q' },
		{ "rows", required_argument, NULL, 'r' },
		{ "repeat", required_argument, NULL, 'R' },
		{ "list", no_argument, NULL, 'l' },
		{ "lines", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	unsigned long calls = 0, repeat;
	char *end;
	int c;

	b->calls = CALLS_DEFAULT;
	b->builds = BUILDS_DEFAULT;
	b->repeat = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			b->json = optarg;
			break;
		case 'c':
			errno = 0;
			calls = strtoul(optarg, &end, 10);
			if (errno || *end || calls < BATCHES || calls > 100000000) {
				fprintf(stderr, "%s: --calls wants %d..100000000\n", argv[0], BATCHES);
				exit(1);
			}
			break;
		case 'q':
			b->calls = CALLS_QUICK;
			b->builds = BUILDS_QUICK;
			break;
		case 'r':
			b->rows = optarg;
			break;
		case 'R':
			errno = 0;
			repeat = strtoul(optarg, &end, 10);
			if (errno || *end || repeat < 2 || repeat > REPEAT_MAX) {
				fprintf(stderr, "%s: --repeat wants 2..%d\n", argv[0], REPEAT_MAX);
				exit(1);
			}
			b->repeat = (uint32_t)repeat;
			break;
		case 'L':
			b->lines = fopen(optarg, "w");
			if (!b->lines) {
				fprintf(stderr, "%s: --lines %s: %s\n", argv[0], optarg, strerror(errno));
				exit(1);
			}
			break;
		case 'l':
			for (c = 0; c < R_MAX; c++)
				printf("%s\n", row_info[c].name);
			exit(0);
		case 'h':
			usage(stdout, argv[0]);
			exit(0);
		default:
			usage(stderr, argv[0]);
			exit(1);
		}
	}
	if (optind < argc) {
		usage(stderr, argv[0]);
		exit(1);
	}
	for (c = 0; b->rows && c < R_MAX && !row_wanted(b, (enum row_id)c); c++)
		;
	if (c == R_MAX) {
		fprintf(stderr, "%s: --rows '%s' matches no row (--list shows them)\n", argv[0], b->rows);
		exit(1);
	}
	if (b->repeat > 1 && !b->rows) {
		fprintf(stderr, "%s: --repeat needs --rows: most rows cannot repeat\n", argv[0]);
		exit(1);
	}
	if (calls)
		b->calls = (uint32_t)calls; /* --calls wins over --quick */
	b->calls -= b->calls % BATCHES;
}

/* Measure on one CPU: the per-CPU LRU share, caches and the clock all stay put. */
static double loadavg(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double l = -1;

	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

static void pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	CHECK(!sched_setaffinity(0, sizeof(set), &set), "pin to CPU 0: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	static struct bench b = { .ring_dp = -1 };
	double t0 = now_ns(CLOCK_MONOTONIC);
	struct utsname u;
	char date[32];
	time_t t = time(NULL);

	parse_args(&b, argc, argv);
	b.load0 = loadavg();
	CHECK(geteuid() == 0, "xlvs-bench needs root (BPF_PROG_RUN, map creation)");
	pin_cpu0();
	fib_namespace(&b);
	CHECK(!uname(&u), "uname: %s", strerror(errno));
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	b.floor = xlvs_floor_bpf__open_and_load();
	CHECK(b.floor, "load xlvs_floor: %s", strerror(errno));
	b.floor_fd = bpf_program__fd(b.floor->progs.xlvs_floor);
	lines_note(&b, b.floor_fd);

	main_world(&b);
	if (!b.rows) {
		fprintf(stderr, "  maglev build %u x %u reals, %u times\n", BUILD_SIZE, BUILD_REALS,
			b.builds);
		b.build_ns = time_builds(BUILD_REALS, b.builds);
	}
	spread_worlds(&b);
	flood_worlds(&b);
	blocks_world(&b);
	b.res[R_FLOOR].p50_ns = hist_median(b.floor_hist);
	b.res[R_FLOOR].done = true;
	b.wall_s = (now_ns(CLOCK_MONOTONIC) - t0) / 1e9;

	print_table(&b, &u, date);
	if (b.json)
		write_json(&b, &u, date);
	xlvs_floor_bpf__destroy(b.floor);
	CHECK(!b.lines || !fclose(b.lines), "--lines: %s", strerror(errno));
	return 0;
}
