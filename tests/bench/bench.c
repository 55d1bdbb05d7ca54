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
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
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
#include "netns.h"

#include <xlvs/hash.h>
#include "maglev.h"
#include "schedtab.h"
#include "world.h"
#include "xlvs_floor.skel.h"
#include "xlvs_lb.skel.h"

#define PAYLOAD	      64     /* TCP payload bytes of every measured frame */
#define CALLS_DEFAULT 200000 /* measured calls per row */
#define CALLS_QUICK   20000
#define BATCHES	      20 /* floor/row alternations per row */
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
};

/* The NAT rows against the DR rows of the same run (ns above the floor). */
static const struct {
	enum row_id row, dr;
} nat_ratios[] = {
	{ R_NAT_NEW, R_NEW },  { R_NAT_64K, R_DR_64K },	 { R_NAT_RET_64K, R_DR_64K },
	{ R_FNAT_NEW, R_NEW }, { R_FNAT_64K, R_DR_64K }, { R_FNAT_RET_64K, R_DR_64K },
};

struct result {
	uint64_t calls, sum_ns;
	uint64_t floor_calls, floor_sum_ns; /* the floor batches around this row */
	uint32_t p50_ns;
	bool done;
};

/* Pre-built frames of one row, all of the same length. */
struct frames {
	uint8_t *buf;
	uint32_t len, n;
	struct xlvs_flow *flows; /* their conntrack keys, for forgetting them */
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
};

struct bench {
	struct world w;
	struct xlvs_floor_bpf *floor;
	int floor_fd;
	uint32_t calls, builds;
	const char *json;
	struct result res[R_MAX];
	uint64_t hist[HIST_NS + 1], floor_hist[HIST_NS + 1];
	double build_ns, build_big_ns;
	double wall_s;
	double load0;	 /* 1-minute load average at start: other work skews rows */
	int fib_ifindex; /* the NAT rows' ingress interface (fib_namespace) */
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

/* Delete the frames' flows; absent ones (never sent yet) are fine. */
static void forget_flows(struct bench *b, const struct row *r)
{
	int fd = MAP_FD(&b->w, xlvs_conns);
	uint32_t i;

	for (i = 0; i < r->f->n; i++)
		CHECK(!bpf_map_delete_elem(fd, &r->f->flows[i]) || errno == ENOENT, "forget flow %u: %s", i,
		      strerror(errno));
}

/* ---- measuring ------------------------------------------------------------- */

/*
 * One BPF_PROG_RUN; checks verdict and output length, returns the kernel's duration. ifindex:
 * the frame's ingress interface (bpf_fib_lookup starts there), 0 = the kernel's default (lo).
 */
static uint32_t run1(int fd, int ifindex, const uint8_t *in, uint32_t len, int verdict, uint32_t out_len,
		     const char *name, uint32_t frame)
{
	uint8_t out[PKT_MAX];
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = (uint32_t)ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = len, .data_out = out,
		    .data_size_out = sizeof(out), .ctx_in = ifindex ? &ctx : NULL,
		    .ctx_size_in = ifindex ? sizeof(ctx) : 0, .repeat = 1);

	CHECK(bpf_prog_test_run_opts(fd, &o) == 0, "%s: BPF_PROG_RUN: %s", name, strerror(errno));
	CHECK((int)o.retval == verdict && o.data_size_out == out_len,
	      "%s, frame %u: got %s with %u bytes out, expected %s with %u bytes: wrong path", name, frame,
	      verdict_name((int)o.retval), o.data_size_out, verdict_name(verdict), out_len);
	return o.duration;
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
		d = run1(b->floor_fd, b->w.ifindex, f->buf, f->len, XDP_TX, f->len, "floor", 0);
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
		d = run1(b->w.prog_fd, b->w.ifindex, f->buf + (size_t)*next * STRIDE, f->len, r->verdict,
			 f->len + (uint32_t)r->grow, row_info[r->id].name, *next);
		(*next)++;
		hist_add(b->hist, d);
		sum += d;
	}
	return sum;
}

/* Established rows: the first call creates the flow. All: warm caches and predictors. */
static void warm_up(struct bench *b, const struct row *r)
{
	uint32_t i;

	for (i = 0; i < WARM_CALLS; i++)
		run1(b->w.prog_fd, b->w.ifindex, r->f->buf, r->f->len, r->verdict,
		     r->f->len + (uint32_t)r->grow, row_info[r->id].name, 0);
	if (r->reset)
		r->reset(b, r);
}

static void measure(struct bench *b, const struct row *r)
{
	struct result *res = &b->res[r->id], *fl = &b->res[R_FLOOR];
	uint32_t per = b->calls / BATCHES, next = 0, k;
	uint64_t ev0, drops0, ev;
	double t0 = now_ns(CLOCK_MONOTONIC);

	warm_up(b, r);
	memset(b->hist, 0, sizeof(b->hist));
	ev0 = world_event(&b->w, r->ev);
	drops0 = world_drops_total(&b->w);
	for (k = 0; k < BATCHES; k++) {
		res->floor_sum_ns += floor_batch(b, r->f, per);
		res->sum_ns += row_batch(b, r, per, &next);
	}
	res->floor_sum_ns += floor_batch(b, r->f, per);
	res->calls = (uint64_t)per * BATCHES;
	res->floor_calls = (uint64_t)per * (BATCHES + 1);
	ev = world_event(&b->w, r->ev) - ev0;
	CHECK(ev == res->calls, "%s: event %s counted %llu times in %llu calls: wrong path",
	      row_info[r->id].name, xlvs_event_names[r->ev], (unsigned long long)ev,
	      (unsigned long long)res->calls);
	CHECK(world_drops_total(&b->w) == drops0, "%s: drops counted while measuring", row_info[r->id].name);
	res->p50_ns = hist_median(b->hist);
	res->done = true;
	fl->calls += res->floor_calls;
	fl->sum_ns += res->floor_sum_ns;
	fprintf(stderr, "  %-28s %8llu calls  %6.1f ns/pkt  %.1f s\n", row_info[r->id].name,
		(unsigned long long)res->calls, (double)res->sum_ns / (double)res->calls,
		(now_ns(CLOCK_MONOTONIC) - t0) / 1e9);
}

/* A single-frame row; the frame is freed after measuring. */
static void measure_one(struct bench *b, enum row_id id, uint8_t family, const char *dst, int verdict,
			int grow, enum xlvs_event ev)
{
	struct frames f;
	struct row r = { .id = id, .verdict = verdict, .grow = grow, .ev = ev, .f = &f };

	one_frame(&f, family, dst);
	measure(b, &r);
	frames_free(&f);
}

static void measure_new_flows(struct bench *b, enum row_id id, const char *vip)
{
	struct frames f;
	struct row r = { .id = id, .verdict = XDP_TX, .ev = XLVS_EV_CONN_NEW, .f = &f, .reset = forget_flows };

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
	v.flags = flags;
	v.sched_len = (uint32_t)xlvs_sched_period(sched, be, n);
	CHECK(!bpf_map_update_elem(MAP_FD(&b->w, xlvs_services), &k, &v, 0), "service: %s", strerror(errno));
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
		switch_sched(b, rows[i].sched, rows[i].flags);
		measure_new_flows(b, rows[i].id, std_svcs[SVC_DR4].vip);
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
	CHECK(!bpf_map_update_elem(MAP_FD(&b->w, xlvs_services), &k, &v, 0), "service: %s", strerror(errno));
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
 * flow follows one. Miss: one template per client (/32), all forgotten before each pass, so
 * every new flow is scheduled and writes one (past 32768 on a CPU, the LRU evicts to make room).
 */
static void measure_persistence(struct bench *b)
{
	struct frames f, one_per_client;
	struct row hit = { .id = R_NEW_PERSIST_HIT,
			   .verdict = XDP_TX,
			   .ev = XLVS_EV_PERSIST_HIT,
			   .f = &f,
			   .reset = forget_flows };
	struct row miss = { .id = R_NEW_PERSIST_MISS,
			    .verdict = XDP_TX,
			    .ev = XLVS_EV_PERSIST_MISS,
			    .f = &one_per_client,
			    .reset = forget_flows_and_templates };
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
	struct row est = { .id = est_row, .verdict = XDP_TX, .ev = XLVS_EV_CONN_HIT, .f = &f };
	struct row rep = { .id = ret_row, .verdict = XDP_TX, .ev = XLVS_EV_NAT_REPLY, .f = &ret };
	struct row syn = {
		.id = new_row, .verdict = XDP_TX, .ev = XLVS_EV_CONN_NEW, .f = &f, .reset = forget_nat_flows
	};

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

static void measure_nat(struct bench *b)
{
	measure_fwd(b, XLVS_FWD_DR, R_MAX, R_DR_64K, R_MAX);
	measure_fwd(b, XLVS_FWD_NAT, R_NAT_NEW, R_NAT_64K, R_NAT_RET_64K);
	measure_fwd(b, XLVS_FWD_FULLNAT, R_FNAT_NEW, R_FNAT_64K, R_FNAT_RET_64K);
}

/* ---- extra configuration ----------------------------------------------------- */

static uint32_t std_ring_slots(void)
{
	uint32_t i, n = 0;

	for (i = 0; i < STD_SVC_MAX; i++)
		n += std_svcs[i].ring_size;
	return n;
}

static void put_service(struct world *w, uint32_t id, uint32_t vip, uint32_t base, uint32_t size)
{
	struct xlvs_svc_key k = {
		.addr = { vip }, .port = htons(80), .proto = IPPROTO_TCP, .family = XLVS_AF_INET
	};
	struct xlvs_service v = { .id = id, .ring_base = base, .ring_size = size, .sched = XLVS_SCHED_MAGLEV };
	struct xlvs_vip_key vk = { .addr = { vip }, .family = XLVS_AF_INET };
	struct xlvs_vip vv = { .nr_services = 1 };

	CHECK(!bpf_map_update_elem(MAP_FD(w, xlvs_vips), &vk, &vv, 0), "vip: %s", strerror(errno));
	world_vip_filter_add(w, XLVS_AF_INET, vk.addr);
	CHECK(!bpf_map_update_elem(MAP_FD(w, xlvs_services), &k, &v, 0), "service: %s", strerror(errno));
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
	uint32_t id0 = STD_SVC_MAX * STD_REALS_MAX, base = std_ring_slots(), vip;
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
	CHECK(xlvs_ring_write(MAP_FD(&b->w, xlvs_ring), std_ring_slots(), NULL, ring, BUILD_SIZE) ==
		      BUILD_SIZE,
	      "ring write");
	set_counted(&b->w, be, XLVS_LEAST_MAX_REALS, true);
	parse_addr(4, BIG_VIP, &vip);
	k.addr[0] = vip;
	CHECK(!bpf_map_lookup_elem(MAP_FD(&b->w, xlvs_services), &k, &v), "service: %s", strerror(errno));
	v.sched = XLVS_SCHED_WLC;
	v.sched_len = XLVS_LEAST_MAX_REALS;
	CHECK(!bpf_map_update_elem(MAP_FD(&b->w, xlvs_services), &k, &v, 0), "service: %s", strerror(errno));
	measure_new_flows(b, R_NEW_WLC_256, BIG_VIP);
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
	uint32_t ring[SMALL_RING], base = std_ring_slots() + BUILD_SIZE, i, n = EXTRA_SVCS;

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
					      .sched = XLVS_SCHED_MAGLEV };
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

/* Filled flow i: client 198.18.128.0/17 (i mod 32768), source port 1024 + i / 32768. */
static void fill_flow(uint32_t i, uint32_t vip, struct xlvs_flow *f)
{
	memset(f, 0, sizeof(*f));
	f->src[0] = htonl(0xc6128000u | (i & 0x7fff));
	f->dst[0] = vip;
	f->sport = htons((uint16_t)(1024 + (i >> 15)));
	f->dport = htons(80);
	f->proto = IPPROTO_TCP;
	f->family = XLVS_AF_INET;
}

static void fill_flows(struct world *w, uint32_t vip)
{
	struct xlvs_flow *k = calloc(FILL_CHUNK, sizeof(*k));
	struct xlvs_conn *v = calloc(FILL_CHUNK, sizeof(*v));
	uint32_t done, i, n, cnt;

	CHECK(k && v, "out of memory");
	for (done = 0; done < FILL_FLOWS; done += n) {
		n = FILL_FLOWS - done < FILL_CHUNK ? FILL_FLOWS - done : FILL_CHUNK;
		for (i = 0; i < n; i++) {
			fill_flow(done + i, vip, &k[i]);
			v[i].real_id = std_real_id(SVC_DR4, (int)((done + i) % 3));
			v[i].real_gen = 0; /* world_std's reals are generation 0 */
			v[i].hash = xlvs_flow_hash(&k[i]);
		}
		cnt = n;
		CHECK(!bpf_map_update_batch(MAP_FD(w, xlvs_conns), k, v, &cnt, NULL) && cnt == n,
		      "conns batch at %u: %s", done, strerror(errno));
	}
	free(v);
	free(k);
}

/* The LRU evicts the oldest first: if the first flows are still there, nothing was evicted. */
static void check_fill(struct world *w, uint32_t vip)
{
	struct xlvs_flow f;
	struct xlvs_conn c;
	uint32_t i;

	for (i = 0; i < FILL_FLOWS; i += i < 1000 ? 1 : 997) {
		fill_flow(i, vip, &f);
		CHECK(!bpf_map_lookup_elem(MAP_FD(w, xlvs_conns), &f, &c),
		      "filled flow %u was evicted: xlvs_conns too small", i);
	}
}

/* NEW_FLOWS frames of filled flows, spread over the whole fill (stride 15). */
static void spread_frames(struct frames *f, uint32_t vip)
{
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
	struct xlvs_flow fl;
	struct pkt_spec s;
	uint32_t i;

	frames_alloc(f, NEW_FLOWS, true);
	inet_ntop(AF_INET, &vip, dst, sizeof(dst));
	for (i = 0; i < NEW_FLOWS; i++) {
		fill_flow(i * 15, vip, &fl);
		inet_ntop(AF_INET, fl.src, src, sizeof(src));
		s = tcp_spec(4, src, dst, ntohs(fl.sport));
		frame_put(f, i, &s);
		CHECK(!memcmp(&f->flows[i], &fl, sizeof(fl)), "spread frame %u: not filled", i);
	}
}

static void growth_world(struct bench *b)
{
	/* BPF_F_NO_COMMON_LRU: CPU 0 (where we fill and run) owns max_entries / ncpus. */
	struct world_opts o = {
		.conn_entries = (FILL_FLOWS + NEW_FLOWS) * possible_cpus(),
	};
	struct frames f;
	struct row r = { .id = R_DR_1M_SPREAD, .verdict = XDP_TX, .ev = XLVS_EV_CONN_HIT, .f = &f };
	uint32_t vip;
	double t0 = now_ns(CLOCK_MONOTONIC);

	world_open(&b->w, &o);
	world_std(&b->w);
	parse_addr(4, std_svcs[SVC_DR4].vip, &vip);
	fill_flows(&b->w, vip);
	check_fill(&b->w, vip);
	fprintf(stderr, "  filled %u flows (xlvs_conns %u entries) in %.1f s\n", FILL_FLOWS, o.conn_entries,
		(now_ns(CLOCK_MONOTONIC) - t0) / 1e9);
	measure_one(b, R_DR_1M, 4, std_svcs[SVC_DR4].vip, XDP_TX, 0, XLVS_EV_CONN_HIT);
	spread_frames(&f, vip);
	measure(b, &r);
	frames_free(&f);
	check_fill(&b->w, vip);
	world_close(&b->w);
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
		.ring_slots = std_ring_slots() + BUILD_SIZE + SMALL_RING,
	};

	world_open(&b->w, &o);
	world_std(&b->w);
	measure_one(b, R_MISS, 4, MISS_DST, XDP_PASS, 0, XLVS_EV_PASS_NO_SERVICE);
	measure_one(b, R_DR, 4, std_svcs[SVC_DR4].vip, XDP_TX, 0, XLVS_EV_CONN_HIT);
	measure_one(b, R_IPIP, 4, std_svcs[SVC_IPIP].vip, XDP_TX, 20, XLVS_EV_CONN_HIT);
	measure_one(b, R_IP6IP6, 6, std_svcs[SVC_IP6IP6].vip, XDP_TX, 40, XLVS_EV_CONN_HIT);
	measure_one(b, R_GUE4, 4, std_svcs[SVC_GUE4].vip, XDP_TX, 28, XLVS_EV_CONN_HIT);
	measure_one(b, R_GUE6, 6, std_svcs[SVC_GUE6].vip, XDP_TX, 48, XLVS_EV_CONN_HIT);
	measure_new_flows(b, R_NEW, std_svcs[SVC_DR4].vip);
	measure_schedulers(b);
	measure_persistence(b);
	measure_nat(b);
	install_big_service(b);
	measure_new_flows(b, R_NEW_4K, BIG_VIP);
	measure_wlc_many(b);
	install_extra_services(b);
	measure_one(b, R_DR_10K, 4, std_svcs[SVC_DR4].vip, XDP_TX, 0, XLVS_EV_CONN_HIT);
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
	uint32_t t = row_info[id].target_ns;
	char target[16] = "-";

	if (t)
		snprintf(target, sizeof(target), "<= %u", t);
	printf("%-28s %8llu %9.1f %7.1f %6u ", row_info[id].name, (unsigned long long)r->calls,
	       (double)r->sum_ns / 1e6, s.mean, r->p50_ns);
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
	size_t i;

	printf("\nNAT against DR, same service, ring and reals (ns above the floor):\n");
	for (i = 0; i < sizeof(nat_ratios) / sizeof(nat_ratios[0]); i++)
		if (nat_ratio(b, i) > 0)
			printf("  %-24s / %-24s %5.2f\n", row_info[nat_ratios[i].row].name,
			       row_info[nat_ratios[i].dr].name, nat_ratio(b, i));
}

static void print_table(struct bench *b, const struct utsname *u, const char *date)
{
	int id;

	printf("xlvs-bench %s, kernel %s, %ld CPUs, pinned to CPU 0, load average %.2f at start\n", date,
	       u->release, sysconf(_SC_NPROCESSORS_ONLN), b->load0);
	printf("BPF_PROG_RUN repeat=1, %u calls/row in %d batches alternating with floor batches;"
	       " TCP frames, %d-byte payload\n",
	       b->calls, BATCHES, PAYLOAD);
	printf("ns/pkt: mean kernel duration; floor: mean of the floor batches around the row;"
	       " above = ns/pkt - floor\n\n");
	printf("%-28s %8s %9s %7s %6s %6s %6s %6s %7s\n", "row", "calls", "total ms", "ns/pkt", "p50",
	       "floor", "above", "ratio", "target");
	for (id = 0; id < R_MAX; id++)
		if (b->res[id].done)
			print_row(b, id);
	print_nat_ratios(b);
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
	uint32_t t = row_info[id].target_ns;

	fprintf(f, "    { \"name\": ");
	json_str(f, row_info[id].name);
	fprintf(f, ", \"calls\": %llu", (unsigned long long)r->calls);
	fprintf(f, ", \"ns_per_pkt\": %.1f", s.mean);
	fprintf(f, ", \"ns_above_floor\": %.1f", s.above);
	fprintf(f, ", \"ratio\": %.3f", s.ratio);
	fprintf(f, ", \"floor_ns\": %.1f", s.floor);
	fprintf(f, ", \"p50_ns\": %u", r->p50_ns);
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

static void json_head(FILE *f, const struct bench *b, const struct utsname *u, const char *date)
{
	fprintf(f, "{\n  \"date\": ");
	json_str(f, date);
	fprintf(f, ",\n  \"kernel\": ");
	json_str(f, u->release);
	fprintf(f, ",\n  \"cpus\": %ld,\n", sysconf(_SC_NPROCESSORS_ONLN));
	fprintf(f, "  \"cpu\": 0,\n");
	fprintf(f, "  \"loadavg_start\": %.2f,\n", b->load0);
	fprintf(f, "  \"calls_per_row\": %u,\n", b->calls);
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
		"usage: %s [--json PATH] [--calls N] [--quick]\n"
		"  BPF_PROG_RUN benchmark of the xlvs director (run as root; see docs/bench.md)\n"
		"  --json PATH  also write the results as JSON to PATH\n"
		"  --calls N    measured calls per row (default %d, at least %d)\n"
		"  --quick      %d calls per row and %d ring builds, for a smoke run\n"
		"  -h, --help   this text\n"
		"exit: 0 done (missed targets are reported, not failed), 1 usage error,\n"
		"      2 setup failure or a wrong verdict\n",
		prog, CALLS_DEFAULT, BATCHES, CALLS_QUICK, BUILDS_QUICK);
}

static void parse_args(struct bench *b, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", required_argument, NULL, 'j' },
		{ "calls", required_argument, NULL, 'c' },
		{ "quick", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	unsigned long calls = 0;
	char *end;
	int c;

	b->calls = CALLS_DEFAULT;
	b->builds = BUILDS_DEFAULT;
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
	static struct bench b;
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

	main_world(&b);
	fprintf(stderr, "  maglev build %u x %u reals, %u times\n", BUILD_SIZE, BUILD_REALS, b.builds);
	b.build_ns = time_builds(BUILD_REALS, b.builds);
	growth_world(&b);
	b.res[R_FLOOR].p50_ns = hist_median(b.floor_hist);
	b.res[R_FLOOR].done = true;
	b.wall_s = (now_ns(CLOCK_MONOTONIC) - t0) / 1e9;

	print_table(&b, &u, date);
	if (b.json)
		write_json(&b, &u, date);
	xlvs_floor_bpf__destroy(b.floor);
	return 0;
}
