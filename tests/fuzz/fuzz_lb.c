// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: frames through the director (bpf/xlvs_lb.bpf.c) with
 * BPF_PROG_RUN against the standard world of the fixture tests (world_std),
 * checking on every run:
 *   counters  each drop reason and event moves by 0 or 1; XDP_DROP moves exactly
 *             one drop reason and no traffic counter; XDP_PASS exactly one pass
 *             event; XDP_TX exactly one of echo reply, too-big sent or one
 *             service + one real of that service (packets 1, bytes = frame);
 *   XDP_PASS  the frame is unchanged; pass_icmp_error_misaddressed only for
 *             an ICMP error not addressed to the quoted packet's source;
 *   XDP_TX    forwarded: destination MAC = the next hop of a real of a service
 *             matching the packet's flow (VIP, protocol, port or port 0; an
 *             ICMP error only when sent to the quoted packet's source); DR
 *             changes the MACs only; tunnels: outer lengths, IPv4 header checksum,
 *             source, destination = real, GUE ports and lengths, IPv6 GUE UDP
 *             checksum valid whenever the input's checksums were, the inner
 *             datagram byte-identical; echo replies and too-big messages:
 *             lengths, addresses, checksums recomputed in full; a new or hit
 *             connection entry names the real the packet went to, at the
 *             generation it has now;
 *   ring      (FZ_LB2_RING, bpf/ring.h) the outcome the flow's slot and the
 *             reals predict: a stable slot's usable owner with no lookup, an
 *             entry on a changed slot, else its previous owner when that
 *             applies, else the owner; each with its one ring event and its
 *             new-flow count; no ring event for a service not in ring state.
 * Input: option bytes (FZ_LB_*, FZ_LB2_*, with FZ_LB2_RING a ring byte:
 * tests/fuzz/fuzz_pkt.h), then the frame.
 * Without a resolved next hop (FZ_LB2_NO_NH) the MACs come from bpf_fib_lookup
 * or the gateway fallback; the fallback is checked, a FIB answer only counted.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xlvs/hash.h>
#include "fuzz_pkt.h"
#include "maglev.h"
#include "world.h"
#include "xlvs_lb.skel.h"
#include "xlvsmaps.h"

#define NREALS (STD_SVC_MAX * STD_REALS_MAX)

struct snap {
	uint64_t drops[XLVS_DROP_MAX];
	uint64_t ev[XLVS_EV_MAX];
	struct xlvs_counters svc[STD_SVC_MAX];
	struct xlvs_counters real[NREALS];
};

static struct world W;
static struct xlvs_config std_cfg;
static struct xlvs_real reals[NREALS];
static struct svc_info {
	uint8_t family, proto;
	uint16_t port;
	uint8_t addr[16];
} svcs[STD_SVC_MAX];
static int ncpus;
static const uint8_t gw_mac[6] = { 0x02, 0x99, 0, 0, 0, 0x01 };
static uint8_t opt2; /* of the input being run */

/*
 * Ring state (FZ_LB2_RING): one ring region per layout after world_std's
 * rings (layout k < FZ_RING_KINDS: every slot of kind k; FZ_RING_KINDS: the
 * mixed one), written once; an input switches the maglev services to a
 * layout's slices (flagged XLVS_SVC_F_RING_STATE) or back to world_std's.
 */
#define NLAYOUTS     (FZ_RING_KINDS + 1)
#define LIVE_JIFFIES (1u << 30) /* a live window ends this far ahead: longer than any fuzz run */

enum ring_outcome {
	RO_FAST,
	RO_SLOW,
	RO_HIT,
	RO_PREV,
	RO_NEW,
	RING_OUTCOMES
};

static uint32_t std_slots, *std_ring; /* world_std's owners, slots 0 .. std_slots - 1 */
static uint32_t until_live, until_passed;
static uint32_t cfg_flags_now; /* xlvs_config.flags of this input: its flow hash */
static int layout_now = -1;    /* the layout the maglev services read; -1: world_std's rings, no ring state */
static uint64_t ring_seen[FZ_RING_KINDS]
			 [RING_OUTCOMES]; /* kind x outcome of forwarded packets, for the summary */

/*
 * The BPF program is not instrumented, so libFuzzer's coverage sees only this
 * harness. Its outcome is fed back as extra features: verdict, each drop reason
 * and event moved, the service and real counted, and the event set as a whole.
 */
#define FEAT_VERDICT 0
#define FEAT_DROP    8
#define FEAT_EVENT   (FEAT_DROP + XLVS_DROP_MAX)
#define FEAT_SVC     (FEAT_EVENT + XLVS_EV_MAX)
#define FEAT_REAL    (FEAT_SVC + STD_SVC_MAX)
#define FEAT_EVSET   (FEAT_REAL + NREALS)
#define FEAT_RING    (FEAT_EVSET + 512) /* a ring service's slot kind x outcome (enum ring_outcome) */
#define FEAT_MAX     (FEAT_RING + FZ_RING_KINDS * RING_OUTCOMES)
__attribute__((used, section("__libfuzzer_extra_counters"))) static uint8_t features[FEAT_MAX];

static void feature(unsigned int i)
{
	if (i < FEAT_MAX && features[i] < 255)
		features[i]++;
}

/*
 * A striped counter map's (abi.h) first count entries of vsize bytes (__u64 words), every CPU's
 * stripe added up: one batch per CPU (buffers reused: no allocation per run).
 */
static void stripes_sum(int fd, uint32_t stride, uint32_t count, size_t vsize, void *out)
{
	static uint64_t vals[NREALS * (sizeof(struct xlvs_counters) / 8)];
	static uint32_t keys[NREALS];
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	size_t words = vsize / 8;
	uint32_t n, start, next, i, w;
	uint64_t *o = out;
	int c;

	FZ_ASSERT(count <= NREALS && count <= stride && words <= sizeof(struct xlvs_counters) / 8,
		  "stripe buffers");
	memset(out, 0, count * vsize);
	for (c = 0; c < ncpus; c++) {
		n = count;
		start = xlvs_stripe_key(c, stride, 0) - 1; /* an array's batch resumes after its token */
		if (bpf_map_lookup_batch(fd, c ? &start : NULL, &next, keys, vals, &n, &opts) &&
		    errno != ENOENT)
			FZ_ASSERT(0, "lookup_batch: %s", strerror(errno));
		FZ_ASSERT(n == count, "lookup_batch gave %u of %u", n, count);
		for (i = 0; i < count; i++)
			for (w = 0; w < words; w++)
				o[i * words + w] += vals[i * words + w];
	}
}

static void snapshot(struct snap *s)
{
	stripes_sum(MAP_FD(&W, xlvs_drops), XLVS_DROP_SLOTS, XLVS_DROP_MAX, 8, s->drops);
	stripes_sum(MAP_FD(&W, xlvs_events), XLVS_EV_SLOTS, XLVS_EV_MAX, 8, s->ev);
	stripes_sum(MAP_FD(&W, xlvs_svc_stats), XLVS_SVC_STATS_STRIDE, STD_SVC_MAX,
		    sizeof(struct xlvs_counters), s->svc);
	stripes_sum(MAP_FD(&W, xlvs_real_stats), XLVS_REAL_STATS_STRIDE, NREALS, sizeof(struct xlvs_counters),
		    s->real);
}

static bool ring_svc(int s)
{
	return std_svcs[s].sched == XLVS_SCHED_MAGLEV;
}

static uint32_t layout_base(int layout, int s)
{
	return (uint32_t)(layout + 1) * std_slots + W.ring_base[s];
}

static uint32_t reals_of(int s)
{
	uint32_t n = 0;

	while (n < STD_REALS_MAX && std_svcs[s].reals[n].addr)
		n++;
	return n;
}

static bool fwd_is_nat(uint8_t fwd)
{
	return fwd == XLVS_FWD_NAT || fwd == XLVS_FWD_FULLNAT;
}

/* Slot idx of service s's slice in a layout: its xlvs_ring value and xlvs_ring_prev entry. */
static enum fz_ring_kind slot_of(int layout, int s, uint32_t idx, uint32_t *val, struct xlvs_slot_prev *prev)
{
	enum fz_ring_kind k = layout < FZ_RING_KINDS ? (enum fz_ring_kind)layout : idx % FZ_RING_KINDS;
	uint32_t owner = std_ring[W.ring_base[s] + idx], first = std_real_id(s, 0);
	uint32_t other = owner == XLVS_REAL_NONE ? first : first + (owner - first + 1) % reals_of(s);

	*val = k == FZ_RING_STABLE ? owner : k == FZ_RING_EMPTY ? XLVS_REAL_NONE : owner | XLVS_SLOT_CHANGED;
	*prev = (struct xlvs_slot_prev){ .real_id = other, .until = until_live };
	if (k == FZ_RING_PREV_PASSED)
		prev->until = until_passed;
	else if (k == FZ_RING_PREV_NONE)
		prev->until = 0;
	else if (k == FZ_RING_PREV_OTHER_SVC)
		prev->real_id = std_real_id((s + 1) % STD_SVC_MAX, 0);
	else if (k == FZ_RING_PREV_SELF)
		prev->real_id = owner;
	if (prev->real_id < NREALS)
		prev->real_gen = reals[prev->real_id].gen + (k == FZ_RING_PREV_STALE_GEN);
	return k;
}

/* Every layout's region of xlvs_ring and xlvs_ring_prev, once. */
static void ring_init(void)
{
	uint32_t *vals = calloc(std_slots, sizeof(*vals)), *keys = calloc(std_slots, sizeof(*keys)), i, n;
	struct xlvs_slot_prev *prevs = calloc(std_slots, sizeof(*prevs));
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct xlvs_jiffies j;
	int l, s;

	std_ring = calloc(std_slots, sizeof(*std_ring));
	FZ_ASSERT(vals && keys && prevs && std_ring, "out of memory");
	FZ_ASSERT(!xlvs_ring_read(MAP_FD(&W, xlvs_ring), 0, std_slots, std_ring), "the standard rings");
	FZ_ASSERT(!xlvs_jiffies_read(&j), "cannot read jiffies");
	until_live = (j.now + LIVE_JIFFIES) | 1; /* never 0: that is "none" */
	until_passed = j.now - 1 ? j.now - 1 : (uint32_t)-1;
	for (l = 0; l < NLAYOUTS; l++) {
		memcpy(vals, std_ring, std_slots * sizeof(*vals));
		memset(prevs, 0, std_slots * sizeof(*prevs));
		for (s = 0; s < STD_SVC_MAX; s++)
			for (i = 0; ring_svc(s) && i < std_svcs[s].ring_size; i++)
				slot_of(l, s, i, &vals[W.ring_base[s] + i], &prevs[W.ring_base[s] + i]);
		for (i = 0; i < std_slots; i++)
			keys[i] = layout_base(l, 0) + i;
		FZ_ASSERT(xlvs_ring_write(MAP_FD(&W, xlvs_ring), layout_base(l, 0), NULL, vals, std_slots) >=
				  0,
			  "ring layout %d", l);
		n = std_slots;
		FZ_ASSERT(!bpf_map_update_batch(MAP_FD(&W, xlvs_ring_prev), keys, prevs, &n, &opts) &&
				  n == std_slots,
			  "xlvs_ring_prev layout %d: %s", l, strerror(errno));
	}
	free(vals);
	free(keys);
	free(prevs);
}

/* The maglev services on a layout's slices, flagged (layout -1: as world_std wrote them); one syscall. */
static void ring_set_layout(int layout)
{
	static struct xlvs_svc_key keys[STD_SVC_MAX];
	static struct xlvs_service vals[STD_SVC_MAX];
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	uint32_t n = 0, want;
	int s;

	if (layout == layout_now)
		return;
	for (s = 0; s < STD_SVC_MAX; s++) {
		if (!ring_svc(s))
			continue;
		world_std_entry(&W, s, &keys[n], &vals[n]);
		if (layout >= 0) {
			vals[n].ring_base = layout_base(layout, s);
			vals[n].flags |= XLVS_SVC_F_RING_STATE;
		}
		n++;
	}
	want = n;
	FZ_ASSERT(!bpf_map_update_batch(MAP_FD(&W, xlvs_services), keys, vals, &n, &opts) && n == want,
		  "update_batch services: %s", strerror(errno));
	layout_now = layout; /* the caller's world_set_config() moves svc_gen on: no stale cached copy */
}

/* XLVS_FUZZ_SUMMARY=1: at exit, every drop reason and event the run reached (for docs/reliability.md). */
static void summary(void)
{
	struct snap s;
	int i;

	snapshot(&s);
	for (i = 0; i < XLVS_DROP_MAX; i++)
		fprintf(stderr, "summary: drop  %-24s %lu\n", xlvs_drop_names[i], (unsigned long)s.drops[i]);
	for (i = 0; i < XLVS_EV_MAX; i++)
		fprintf(stderr, "summary: event %-24s %lu\n", xlvs_event_names[i], (unsigned long)s.ev[i]);
	for (i = 0; i < STD_SVC_MAX; i++)
		fprintf(stderr, "summary: svc   %-24s %lu\n", std_svcs[i].name,
			(unsigned long)s.svc[i].packets);
	for (i = 0; i < FZ_RING_KINDS; i++)
		fprintf(stderr, "summary: ring  kind %d: fast %lu slow %lu hit %lu prev %lu new %lu\n", i,
			(unsigned long)ring_seen[i][RO_FAST], (unsigned long)ring_seen[i][RO_SLOW],
			(unsigned long)ring_seen[i][RO_HIT], (unsigned long)ring_seen[i][RO_PREV],
			(unsigned long)ring_seen[i][RO_NEW]);
}

/*
 * XLVS_FUZZ_RING_SEEDS=DIR (make fuzz-seeds, after the fixture table wrote
 * DIR): ring-state seeds from a few of its flows, one per layout, each run
 * twice (the second run meets the first's entry, if any); then exit.
 */
static void ring_seeds(const char *dir)
{
	static const char *const base[] = { "dr4-tcp-syn",  "dr4-tcp-ack-with-payload",
					    "dr4-udp",	    "frag-needed-about-dr4-flow",
					    "dr6-tcp-syn",  "gue6-udp",
					    "ipip-tcp-syn", "port-unreachable-about-udp-flow" };
	static const char *const layout[NLAYOUTS] = { "stable",	   "prev-live",	     "prev-passed",
						      "prev-none", "prev-other-svc", "prev-stale-gen",
						      "prev-self", "empty",	     "mixed" };
	static uint8_t buf[3 + FZ_FRAME_MAX];
	char path[512];
	size_t n, i, l;
	FILE *fp;

	for (i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, base[i]);
		fp = fopen(path, "rb");
		FZ_ASSERT(fp, "%s: %s (make fuzz-seeds writes the fixture seeds first)", path,
			  strerror(errno));
		n = fread(buf + 1, 1, sizeof(buf) - 1, fp);
		fclose(fp);
		FZ_ASSERT(n >= 2 + FZ_FRAME_MIN && !(buf[2] & FZ_LB2_RING), "%s: not a two-option-byte seed",
			  path);
		buf[0] = buf[1] | FZ_LB_TWICE; /* options moved one byte down: the ring byte after them */
		buf[1] = buf[2] | FZ_LB2_RING;
		for (l = 0; l < NLAYOUTS; l++) {
			buf[2] = l < FZ_RING_KINDS ? (uint8_t)l : FZ_LB_RING_MIXED;
			snprintf(path, sizeof(path), "%s/ring-%s-%s", dir, layout[l], base[i]);
			fp = fopen(path, "wb");
			FZ_ASSERT(fp && fwrite(buf, 1, n + 1, fp) == n + 1 && !fclose(fp), "%s: %s", path,
				  strerror(errno));
		}
	}
	exit(0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct world_opts o = { 0 };
	int s, i;

	if (getenv("XLVS_FUZZ_RING_SEEDS"))
		ring_seeds(getenv("XLVS_FUZZ_RING_SEEDS"));
	if (getenv("XLVS_FUZZ_SUMMARY"))
		atexit(summary);

	ncpus = libbpf_num_possible_cpus();
	std_slots = world_std_slots();
	o.ring_slots = std_slots * (NLAYOUTS + 1);
	world_open(&W, &o);
	world_std(&W);
	world_get_config(&W, &std_cfg);
	for (i = 0; i < NREALS; i++)
		world_get_real(&W, (uint32_t)i, &reals[i]);
	ring_init();
	for (s = 0; s < STD_SVC_MAX; s++) {
		svcs[s].family = strchr(std_svcs[s].vip, ':') ? 6 : 4;
		svcs[s].proto = std_svcs[s].proto;
		svcs[s].port = std_svcs[s].port;
		parse_addr(svcs[s].family, std_svcs[s].vip, svcs[s].addr);
	}
	return 0;
}

static void clear_conns(void)
{
	int fd = MAP_FD(&W, xlvs_conns);
	struct xlvs_flow k;

	while (!bpf_map_get_next_key(fd, NULL, &k))
		bpf_map_delete_elem(fd, &k);
}

/* The client -> VIP flow the input describes, as the oracle sees it. */
struct oflow {
	bool icmp_err, echo;
	bool misaddressed; /* ICMP error not sent to the quoted packet's source (RFC 792, RFC 4443 3) */
	bool syn;	   /* starts a TCP connection: SYN without ACK (not an ICMP error) */
	uint8_t family, proto;
	const uint8_t *src, *dst;
	uint16_t sport, dport;
};

static bool icmp_error_type(uint8_t family, uint8_t t)
{
	return family == 4 ? t == 3 || t == 11 : t == 1 || t == 2 || t == 3;
}

static void oracle_flow(const uint8_t *in, const struct fz_ip *ip, struct oflow *f)
{
	const uint8_t *h = in + ip->off, *l4 = h + ip->hlen;

	memset(f, 0, sizeof(*f));
	f->family = ip->family;
	f->proto = ip->proto;
	f->src = h + (ip->family == 4 ? 12 : 8);
	f->dst = h + (ip->family == 4 ? 16 : 24);
	if ((ip->proto == IPPROTO_ICMP && ip->family == 4) ||
	    (ip->proto == IPPROTO_ICMPV6 && ip->family == 6)) {
		const uint8_t *q = l4 + 8;

		f->echo = l4[0] == (ip->family == 4 ? 8 : 128);
		if (!icmp_error_type(ip->family, l4[0]))
			return;
		f->icmp_err = true;
		f->misaddressed = memcmp(f->dst, q + (ip->family == 4 ? 12 : 8), ip->family == 4 ? 4 : 16);
		if (ip->family == 4) {
			f->src = q + 16; /* the quoted packet reversed */
			f->dst = q + 12;
			f->proto = q[9];
			f->sport = fz_get16(q + (q[0] & 0xf) * 4 + 2);
			f->dport = fz_get16(q + (q[0] & 0xf) * 4);
		} else {
			f->src = q + 24;
			f->dst = q + 8;
			f->proto = q[6];
			f->sport = fz_get16(q + 42);
			f->dport = fz_get16(q + 40);
		}
		return;
	}
	if (ip->proto == IPPROTO_TCP || ip->proto == IPPROTO_UDP) {
		f->sport = fz_get16(l4);
		f->dport = fz_get16(l4 + 2);
	}
	if (ip->proto == IPPROTO_TCP && ip->len >= ip->hlen + 14)
		f->syn = (l4[13] & 0x12) == 0x02;
}

/* The connection-table key of the oracle's flow (struct xlvs_flow, abi.h). */
static void oracle_key(const struct oflow *f, struct xlvs_flow *k)
{
	size_t alen = f->family == 4 ? 4 : 16;

	memset(k, 0, sizeof(*k));
	memcpy(k->src, f->src, alen);
	memcpy(k->dst, f->dst, alen);
	k->sport = htons(f->sport);
	k->dport = htons(f->dport);
	k->proto = f->proto;
	k->family = f->family;
}

/*
 * nat (the standard world's real keeps the port): the destination becomes the
 * real's address, the source stays, the length stays, and checksums valid on
 * the way in are valid on the way out (incremental updates, checked here by
 * the oracle's full recomputation).
 */
static void check_nat(const uint8_t *in, size_t in_len, const uint8_t *out, size_t out_len,
		      const struct fz_ip *ip, const struct xlvs_real *r, bool icmp_err)
{
	size_t alen = ip->family == 4 ? 4 : 16;
	size_t src = ip->off + (ip->family == 4 ? 12 : 8), dst = src + alen, l4 = ip->off + ip->hlen;
	struct fz_ip o;

	FZ_ASSERT(out_len == in_len, "nat keeps the length");
	FZ_ASSERT(!memcmp(out + dst, r->addr, alen), "nat: destination is not the real's address");
	FZ_ASSERT(!memcmp(out + src, in + src, alen), "nat changed the source");
	if (!icmp_err && l4 + 4 <= in_len)
		FZ_ASSERT(!memcmp(out + l4, in + l4, 4),
			  "nat changed the ports (the real has none of its own)");
	fz_ip_parse(out, out_len, ip->off, ip->family, &o);
	FZ_ASSERT(o.ok, "nat: the output datagram is malformed");
	FZ_ASSERT(!ip->hdr_csum_ok || o.hdr_csum_ok, "nat: IPv4 header checksum invalid (input valid)");
	FZ_ASSERT(!ip->l4_csum_ok || o.l4_csum_ok, "nat: transport checksum invalid (input valid)");
}

static const char *fwd_name(uint8_t fwd)
{
	return fwd < XLVS_FWD_MAX ? xlvs_fwd_names[fwd] : "?";
}

static void check_tunnel(const uint8_t *in, size_t in_len, const uint8_t *out, size_t out_len, size_t l2,
			 const struct fz_ip *ip, const struct xlvs_real *r, const struct xlvs_config *cfg)
{
	bool gue = r->fwd == XLVS_FWD_GUE, v6 = r->family == 6;
	size_t iplen = v6 ? 40 : 20, olen = iplen + (gue ? 8 : 0);
	const uint8_t *o = out + l2, *uh = o + iplen;
	uint8_t proto = gue ? IPPROTO_UDP : ip->family == 4 ? IPPROTO_IPIP : IPPROTO_IPV6;
	bool df = ip->family == 6 || (fz_get16(in + ip->off + 6) & 0x4000);

	FZ_ASSERT(out_len == in_len + olen, "%s: encapsulated length %zu, input %zu", fwd_name(r->fwd),
		  out_len, in_len);
	FZ_ASSERT(!memcmp(out + 12, in + 12, l2 - 14), "VLAN tag kept");
	FZ_ASSERT(fz_get16(out + l2 - 2) == (v6 ? 0x86dd : 0x0800), "outer EtherType");
	FZ_ASSERT(!memcmp(o + olen, in + l2, in_len - l2), "inner datagram byte-identical");
	if (!v6) {
		FZ_ASSERT(o[0] == 0x45, "outer version/ihl %#x", o[0]);
		FZ_ASSERT(fz_get16(o + 2) == olen + ip->len, "outer tot_len %u, inner %zu", fz_get16(o + 2),
			  ip->len);
		FZ_ASSERT(fz_csum(o, 20, 0) == 0, "outer IPv4 header checksum");
		FZ_ASSERT(!!(fz_get16(o + 6) & 0x4000) == df, "outer DF follows the inner packet");
		FZ_ASSERT(!(fz_get16(o + 6) & 0x3fff), "outer not a fragment");
		FZ_ASSERT(o[9] == proto, "outer protocol %u", o[9]);
		FZ_ASSERT(!memcmp(o + 12, &cfg->src4, 4), "outer source");
		FZ_ASSERT(!memcmp(o + 16, r->addr, 4), "outer destination = real");
	} else {
		FZ_ASSERT(o[0] >> 4 == 6, "outer version");
		FZ_ASSERT(fz_get16(o + 4) == olen - 40 + ip->len, "outer payload length %u", fz_get16(o + 4));
		FZ_ASSERT(o[6] == proto, "outer next header %u", o[6]);
		FZ_ASSERT(!memcmp(o + 8, cfg->src6, 16), "outer source");
		FZ_ASSERT(!memcmp(o + 24, r->addr, 16), "outer destination = real");
	}
	if (!gue)
		return;
	FZ_ASSERT(fz_get16(uh + 2) == ntohs(r->gue_port ? r->gue_port : cfg->gue_port), "GUE port");
	FZ_ASSERT(fz_get16(uh + 4) == 8 + ip->len, "UDP length %u, inner %zu", fz_get16(uh + 4), ip->len);
	if (!v6) {
		FZ_ASSERT(fz_get16(uh + 6) == 0, "IPv4 GUE without UDP checksum");
		return;
	}
	if (!fz_get16(uh + 6))
		return; /* zero: allowed for tunnels (RFC 6935) */
	if (ip->hdr_csum_ok && ip->l4_csum_ok) {
		uint32_t ps = 0;
		size_t i;

		for (i = 8; i < 40; i += 2)
			ps += fz_get16(o + i);
		ps += IPPROTO_UDP + 8 + (uint32_t)ip->len;
		FZ_ASSERT(fz_csum(uh, 8 + ip->len, ps) == 0,
			  "IPv6 GUE UDP checksum %#x invalid for a valid inner "
			  "packet",
			  fz_get16(uh + 6));
	}
}

static void check_echo(const uint8_t *in, size_t in_len, const uint8_t *out, size_t out_len, size_t l2,
		       const struct fz_ip *ip)
{
	const uint8_t *h = in + l2, *oh = out + l2;
	struct fz_ip oip;

	FZ_ASSERT(out_len == in_len, "echo reply length");
	FZ_ASSERT(!memcmp(out, in + 6, 6) && !memcmp(out + 6, in, 6), "echo reply MACs swapped");
	fz_ip_parse(out, out_len, l2, ip->family, &oip);
	FZ_ASSERT(oip.ok && oip.len == ip->len, "echo reply datagram");
	if (ip->family == 4) {
		FZ_ASSERT(!memcmp(oh + 12, h + 16, 4) && !memcmp(oh + 16, h + 12, 4), "addresses swapped");
		FZ_ASSERT(oh[20] == 0, "echo reply type");
	} else {
		FZ_ASSERT(!memcmp(oh + 8, h + 24, 16) && !memcmp(oh + 24, h + 8, 16), "addresses swapped");
		FZ_ASSERT(oh[40] == 129, "echo reply type");
	}
	FZ_ASSERT(!ip->hdr_csum_ok || oip.hdr_csum_ok,
		  "echo reply IPv4 header checksum invalid (input valid)");
	FZ_ASSERT(!ip->l4_csum_ok || oip.l4_csum_ok,
		  "echo reply ICMP checksum %#x invalid by recomputation (input's valid)",
		  fz_get16(oh + oip.hlen + 2));
	FZ_ASSERT(!memcmp(oh + oip.hlen + 4, h + ip->hlen + 4, ip->len - ip->hlen - 4), "echo data kept");
}

static void check_too_big(const uint8_t *in, size_t in_len, const uint8_t *out, size_t out_len, size_t l2,
			  const struct fz_ip *ip, const struct xlvs_config *cfg)
{
	size_t hdrs = ip->family == 4 ? 28 : 48, quote = ip->family == 4 ? 548 : 1232;
	const uint8_t *oh = out + l2, *h = in + l2;
	struct fz_ip oip;

	FZ_ASSERT(cfg->tun_mtu, "too big without an MTU");
	FZ_ASSERT(out_len == l2 + hdrs + quote, "too-big length %zu", out_len);
	FZ_ASSERT(!memcmp(out, in + 6, 6) && !memcmp(out + 6, in, 6), "too-big MACs");
	FZ_ASSERT(!memcmp(out + 12, in + 12, l2 - 14), "VLAN tag kept");
	fz_ip_parse(out, out_len, l2, ip->family, &oip);
	FZ_ASSERT(oip.ok && oip.len == hdrs + quote && oip.hdr_csum_ok, "too-big IP header");
	FZ_ASSERT(oip.l4_csum_ok, "too-big ICMP checksum invalid by recomputation");
	FZ_ASSERT(!memcmp(oh + hdrs, h, quote), "too-big quotes the datagram");
	if (ip->family == 4)
		FZ_ASSERT(!memcmp(oh + 12, h + 16, 4) && !memcmp(oh + 16, h + 12, 4) && oh[20] == 3 &&
				  oh[21] == 4,
			  "frag-needed addresses/type");
	else
		FZ_ASSERT(!memcmp(oh + 8, h + 24, 16) && !memcmp(oh + 24, h + 8, 16) && oh[40] == 2,
			  "packet-too-big addresses/type");
}

#define DELTA(e) (b->ev[e] - a->ev[e])

static void ring_outcome(enum fz_ring_kind kind, enum ring_outcome o)
{
	feature(FEAT_RING + kind * RING_OUTCOMES + o);
	ring_seen[kind][o]++;
}

/* Takes a stable slot with no state (ring_lookup()): active, this service's, weight > 0, not nat. */
static bool owner_usable(uint32_t owner, int svc)
{
	struct xlvs_real r;

	if (owner >= NREALS)
		return false;
	world_get_real(&W, owner, &r);
	return (r.flags & XLVS_REAL_F_ACTIVE) && r.svc_id == (uint32_t)svc && r.weight && !fwd_is_nat(r.fwd);
}

/* Whether a packet without an entry goes to the slot's previous owner (ring.h's rules, from the maps' reals). */
static bool prev_applies(const struct oflow *f, int svc, uint32_t owner, const struct xlvs_slot_prev *pv)
{
	struct xlvs_real r;

	if (pv->until != until_live || pv->real_id == owner || pv->real_id >= NREALS)
		return false; /* until 0 (none) or until_passed: no previous owner */
	world_get_real(&W, pv->real_id, &r);
	if (!(r.flags & XLVS_REAL_F_ACTIVE) || r.gen != pv->real_gen || r.svc_id != (uint32_t)svc ||
	    fwd_is_nat(r.fwd))
		return false;
	return f->proto == IPPROTO_TCP ? !f->syn : r.weight != 0;
}

/*
 * A forwarded packet of a service in ring state: the outcome its slot (in
 * the layout the input chose) and the reals as the map holds them predict.
 * true: it took no table path (a stable slot's owner, or the previous owner),
 * so the table's counting rules do not apply to it.
 */
static bool check_ring(const struct oflow *f, int svc, int real, uint64_t nf, const struct snap *a,
		       const struct snap *b)
{
	uint64_t slow = DELTA(XLVS_EV_RING_STABLE_SLOW), hit = DELTA(XLVS_EV_RING_CHANGED_HIT);
	uint64_t prev = DELTA(XLVS_EV_RING_PREV_OWNER), nw = DELTA(XLVS_EV_RING_NEW_OWNER);
	uint64_t conn = DELTA(XLVS_EV_CONN_HIT) + DELTA(XLVS_EV_CONN_NEW) +
			DELTA(XLVS_EV_CONN_INSERT_FAILED) + DELTA(XLVS_EV_SYN_GUARD);
	uint32_t v, owner, idx;
	struct xlvs_slot_prev pv;
	struct xlvs_flow k;
	enum fz_ring_kind kind;

	oracle_key(f, &k);
	/* maglev: the flow hash's slot, by the state's hash (FZ_LB2_MURMUR3) */
	idx = xlvs_maglev_index(cfg_flags_now, xlvs_flow_hash_cfg(cfg_flags_now, &k),
				std_svcs[svc].ring_size);
	kind = slot_of(layout_now, svc, idx, &v, &pv);
	owner = xlvs_slot_real(v);
	if (!(v & XLVS_SLOT_CHANGED)) {
		if (owner_usable(owner, svc)) {
			ring_outcome(kind, RO_FAST);
			FZ_ASSERT(real == (int)owner,
				  "ring: %s stable slot %u: forwarded to real %d, its owner is %u",
				  std_svcs[svc].name, idx, real, owner);
			FZ_ASSERT(!slow && !hit && !prev && !nw && !conn,
				  "ring: %s stable slot %u, usable owner: ring or connection events moved "
				  "(no lookup, no entry expected)",
				  std_svcs[svc].name, idx);
			FZ_ASSERT(nf == f->syn, "ring: stable slot: new_flows %lu for %s", (unsigned long)nf,
				  f->syn ? "a SYN" : "a packet that starts no flow");
			return true;
		}
		ring_outcome(kind, RO_SLOW);
		FZ_ASSERT(slow == 1 && !hit && !prev && !nw,
			  "ring: %s stable slot %u, owner %u unusable: ring_owner_unusable %lu, others %lu",
			  std_svcs[svc].name, idx, owner, (unsigned long)slow,
			  (unsigned long)(hit + prev + nw));
		FZ_ASSERT(
			DELTA(XLVS_EV_CONN_HIT) || real == (int)owner,
			"ring: %s stable slot %u without an entry: scheduled to real %d, not the slot's owner %u",
			std_svcs[svc].name, idx, real, owner);
		return false;
	}
	FZ_ASSERT(!slow, "ring: changed slot counted ring_owner_unusable");
	if (DELTA(XLVS_EV_CONN_HIT)) {
		ring_outcome(kind, RO_HIT);
		FZ_ASSERT(hit == 1 && !prev && !nw,
			  "ring: changed slot with an entry: hit %lu, prev %lu, new %lu", (unsigned long)hit,
			  (unsigned long)prev, (unsigned long)nw);
		return false;
	}
	FZ_ASSERT(!hit, "ring_changed_conn_hit without a connection hit");
	if (prev_applies(f, svc, owner, &pv)) {
		ring_outcome(kind, RO_PREV);
		FZ_ASSERT(prev == 1 && !nw,
			  "ring: %s slot %u (kind %d): previous owner %u applies, ring_prev_owner %lu, "
			  "ring_new_owner %lu",
			  std_svcs[svc].name, idx, kind, pv.real_id, (unsigned long)prev, (unsigned long)nw);
		FZ_ASSERT(real == (int)pv.real_id, "ring: forwarded to real %d, not the previous owner %u",
			  real, pv.real_id);
		FZ_ASSERT(nf == 0 &&
				  DELTA(XLVS_EV_CONN_NEW) + DELTA(XLVS_EV_CONN_INSERT_FAILED) ==
					  !f->icmp_err &&
				  !DELTA(XLVS_EV_SYN_GUARD),
			  "ring: the previous owner's flow: new_flows %lu, conn_new %lu (recorded once, "
			  "not an ICMP error's, not a new flow)",
			  (unsigned long)nf, (unsigned long)DELTA(XLVS_EV_CONN_NEW));
		return true;
	}
	ring_outcome(kind, RO_NEW);
	FZ_ASSERT(nw == 1 && !prev,
		  "ring: %s slot %u (kind %d): no previous owner applies, ring_new_owner %lu, "
		  "ring_prev_owner %lu",
		  std_svcs[svc].name, idx, kind, (unsigned long)nw, (unsigned long)prev);
	FZ_ASSERT(real == (int)owner, "ring: new-owner rule: forwarded to real %d, the slot's owner is %u",
		  real, owner);
	return false;
}

/* "A forwarded packet never goes to a real whose generation is not its entry's." */
static void check_entry(const struct oflow *f, int real, const struct snap *a, const struct snap *b)
{
	struct xlvs_flow k;
	struct xlvs_conn c;
	struct xlvs_real r;

	if (f->icmp_err || !(DELTA(XLVS_EV_CONN_HIT) + DELTA(XLVS_EV_CONN_NEW)))
		return;
	oracle_key(f, &k);
	FZ_ASSERT(world_get_conn(&W, &k, &c), "conn_hit/conn_new but the flow has no entry");
	world_get_real(&W, (uint32_t)real, &r);
	FZ_ASSERT(c.real_id == (uint32_t)real && c.real_gen == r.gen,
		  "the flow's entry names real %u gen %u; forwarded to real %d gen %u", c.real_id, c.real_gen,
		  real, r.gen);
}

static void check_forwarded(const uint8_t *in, size_t in_len, const uint8_t *out, size_t out_len, size_t l2,
			    const struct fz_ip *ip, const struct snap *a, const struct snap *b,
			    const struct xlvs_config *cfg)
{
	int s, svc = -1, real = -1, i;
	bool ring_path = false;
	uint64_t nf;
	struct oflow f;
	const struct xlvs_real *r;
	uint8_t mac[6];

	for (s = 0; s < STD_SVC_MAX; s++) {
		uint64_t d = b->svc[s].packets - a->svc[s].packets;

		FZ_ASSERT(d <= 1, "service %d counted %lu packets", s, (unsigned long)d);
		if (d) {
			FZ_ASSERT(svc < 0, "services %d and %d both counted", svc, s);
			svc = s;
		}
	}
	for (i = 0; i < NREALS; i++) {
		uint64_t d = b->real[i].packets - a->real[i].packets;

		FZ_ASSERT(d <= 1, "real %d counted %lu packets", i, (unsigned long)d);
		if (d) {
			FZ_ASSERT(real < 0, "reals %d and %d both counted", real, i);
			real = i;
		}
	}
	FZ_ASSERT(svc >= 0 && real >= 0, "XDP_TX: forwarded but no service/real counted (svc %d real %d)",
		  svc, real);
	FZ_ASSERT(std_svc_of_real((uint32_t)real) == svc, "real %d is not service %d's", real, svc);
	FZ_ASSERT(b->svc[svc].bytes - a->svc[svc].bytes == in_len &&
			  b->real[real].bytes - a->real[real].bytes == in_len,
		  "bytes counted != frame length %zu", in_len);
	nf = b->svc[svc].new_flows - a->svc[svc].new_flows;
	FZ_ASSERT(nf <= 1 && nf == b->real[real].new_flows - a->real[real].new_flows,
		  "new_flows service/real");

	FZ_ASSERT(ip->ok, "forwarded a datagram the oracle finds malformed");
	oracle_flow(in, ip, &f);
	FZ_ASSERT(f.family == svcs[svc].family && f.proto == svcs[svc].proto &&
			  !memcmp(f.dst, svcs[svc].addr, f.family == 4 ? 4 : 16) &&
			  (svcs[svc].port == 0 || svcs[svc].port == f.dport),
		  "flow (family %u proto %u dport %u) sent to service %s", f.family, f.proto, f.dport,
		  std_svcs[svc].name);
	FZ_ASSERT(b->ev[XLVS_EV_ICMP_ERR_FWD] - a->ev[XLVS_EV_ICMP_ERR_FWD] == f.icmp_err,
		  "icmp_error_forwarded");
	FZ_ASSERT(!f.misaddressed, "forwarded an ICMP error not addressed to the quoted packet's source");
	if (layout_now >= 0 && ring_svc(svc))
		ring_path = check_ring(&f, svc, real, nf, a, b);
	else
		FZ_ASSERT(!DELTA(XLVS_EV_RING_STABLE_SLOW) && !DELTA(XLVS_EV_RING_CHANGED_HIT) &&
				  !DELTA(XLVS_EV_RING_PREV_OWNER) && !DELTA(XLVS_EV_RING_NEW_OWNER),
			  "ring events for %s, not in ring state", std_svcs[svc].name);
	check_entry(&f, real, a, b);
	if (f.icmp_err) {
		FZ_ASSERT(nf == 0, "an ICMP error counted as a new flow");
	} else if (!ring_path) {
		uint64_t made = b->ev[XLVS_EV_CONN_NEW] - a->ev[XLVS_EV_CONN_NEW] + b->ev[XLVS_EV_SYN_GUARD] -
				a->ev[XLVS_EV_SYN_GUARD];

		FZ_ASSERT(made == nf, "new_flows %lu but conn_new+syn_guard %lu", (unsigned long)nf,
			  (unsigned long)made);
		FZ_ASSERT(nf + b->ev[XLVS_EV_CONN_HIT] - a->ev[XLVS_EV_CONN_HIT] == 1, "neither new nor hit");
	}

	r = &reals[real];
	real_mac((uint32_t)real, mac);
	if (b->ev[XLVS_EV_FIB_GW_FALLBACK] != a->ev[XLVS_EV_FIB_GW_FALLBACK]) {
		FZ_ASSERT((opt2 & FZ_LB2_NO_NH) && (cfg->flags & XLVS_CFG_F_GW_FALLBACK) &&
				  r->fwd != XLVS_FWD_DR,
			  "gateway fallback where it does not apply");
		FZ_ASSERT(!memcmp(out, cfg->gw_mac, 6) && !memcmp(out + 6, in, 6),
			  "gateway fallback: to the gateway, from the MAC the frame was sent to");
	} else if (!(opt2 & FZ_LB2_NO_NH)) {
		FZ_ASSERT(!memcmp(out, mac, 6) && !memcmp(out + 6, MAC_LB, 6), "MACs = real %d's next hop",
			  real);
	}
	FZ_ASSERT(!(opt2 & FZ_LB2_INACTIVE), "forwarded to inactive real %d", real);
	if (r->fwd == XLVS_FWD_DR) {
		FZ_ASSERT(out_len == in_len, "DR keeps the length");
		FZ_ASSERT(!memcmp(out + 12, in + 12, in_len - 12), "DR changes only the MACs");
	} else if (r->fwd == XLVS_FWD_NAT) {
		check_nat(in, in_len, out, out_len, ip, r, f.icmp_err);
	} else {
		FZ_ASSERT(r->fwd == XLVS_FWD_TUN || r->fwd == XLVS_FWD_GUE, "forwarded by %s",
			  fwd_name(r->fwd));
		check_tunnel(in, in_len, out, out_len, l2, ip, r, cfg);
	}
}

static void run_once(const uint8_t *in, size_t in_len, const struct xlvs_config *cfg)
{
	static uint8_t out[PKT_MAX];
	static const int pass_ev[] = { XLVS_EV_PASS_NOT_IP,	  XLVS_EV_PASS_NO_SERVICE,
				       XLVS_EV_PASS_FRAGMENT,	  XLVS_EV_PASS_NEIGH,
				       XLVS_EV_PASS_ICMP_MISADDR, XLVS_EV_PASS_TCP_NOT_SYN };
	struct snap a, b;
	size_t out_len, l2;
	uint64_t drops = 0, passes = 0, d;
	uint16_t et = 0;
	struct fz_ip ip = { 0 };
	int verdict, i, reason = -1;
	bool is_ip, traffic = false;

	snapshot(&a);
	verdict = world_run(&W, in, in_len, out, &out_len);
	snapshot(&b);

	for (i = 0; i < XLVS_DROP_MAX; i++) {
		d = b.drops[i] - a.drops[i];
		FZ_ASSERT(d <= 1, "drop %s counted %lu times", xlvs_drop_names[i], (unsigned long)d);
		if (d)
			reason = i;
		drops += d;
	}
	for (i = 0; i < XLVS_EV_MAX; i++)
		FZ_ASSERT(b.ev[i] - a.ev[i] <= 1, "event %s counted %lu times", xlvs_event_names[i],
			  (unsigned long)(b.ev[i] - a.ev[i]));
	d = b.ev[XLVS_EV_RING_STABLE_SLOW] - a.ev[XLVS_EV_RING_STABLE_SLOW] + b.ev[XLVS_EV_RING_CHANGED_HIT] -
	    a.ev[XLVS_EV_RING_CHANGED_HIT] + b.ev[XLVS_EV_RING_PREV_OWNER] - a.ev[XLVS_EV_RING_PREV_OWNER] +
	    b.ev[XLVS_EV_RING_NEW_OWNER] - a.ev[XLVS_EV_RING_NEW_OWNER];
	FZ_ASSERT(d <= (layout_now >= 0), "%lu ring events (ring state %s)", (unsigned long)d,
		  layout_now >= 0 ? "on" : "off");
	for (i = 0; i < (int)(sizeof(pass_ev) / sizeof(pass_ev[0])); i++)
		passes += b.ev[pass_ev[i]] - a.ev[pass_ev[i]];
	for (i = 0; i < STD_SVC_MAX; i++)
		traffic |= b.svc[i].packets != a.svc[i].packets;
	for (i = 0; i < NREALS; i++)
		traffic |= b.real[i].packets != a.real[i].packets;

	{
		uint32_t evset = (uint32_t)verdict * 2654435761u;

		feature(FEAT_VERDICT + (unsigned int)verdict);
		if (reason >= 0)
			feature(FEAT_DROP + (unsigned int)reason);
		for (i = 0; i < XLVS_EV_MAX; i++)
			if (b.ev[i] != a.ev[i]) {
				feature(FEAT_EVENT + (unsigned int)i);
				evset = (evset ^ (uint32_t)i) * 16777619u;
			}
		for (i = 0; i < STD_SVC_MAX; i++)
			if (b.svc[i].packets != a.svc[i].packets)
				feature(FEAT_SVC + (unsigned int)i);
		for (i = 0; i < NREALS; i++)
			if (b.real[i].packets != a.real[i].packets)
				feature(FEAT_REAL + (unsigned int)i);
		feature(FEAT_EVSET + evset % 512);
	}

	l2 = fz_l2(in, in_len, &et);
	is_ip = l2 && (et == 0x0800 || et == 0x86dd);
	if (is_ip)
		fz_ip_parse(in, in_len, l2, et == 0x0800 ? 4 : 6, &ip);
	if (l2 && !is_ip)
		FZ_ASSERT(verdict == XDP_PASS && b.ev[XLVS_EV_PASS_NOT_IP] - a.ev[XLVS_EV_PASS_NOT_IP] == 1,
			  "a non-IP frame (EtherType %#x): verdict %d", et, verdict);
	if (is_ip && !ip.ok)
		FZ_ASSERT(verdict == XDP_DROP, "a malformed IPv%u datagram got verdict %d", ip.family,
			  verdict);

	switch (verdict) {
	case XDP_DROP:
		FZ_ASSERT(drops == 1, "XDP_DROP with %lu drop counters moved", (unsigned long)drops);
		FZ_ASSERT(!passes && !traffic, "XDP_DROP (%s) also counted as passed or forwarded",
			  xlvs_drop_names[reason]);
		break;
	case XDP_PASS:
		FZ_ASSERT(drops == 0, "XDP_PASS counted drop %s", xlvs_drop_names[reason]);
		FZ_ASSERT(passes == 1, "XDP_PASS with %lu pass events", (unsigned long)passes);
		if (b.ev[XLVS_EV_PASS_TCP_NOT_SYN] != a.ev[XLVS_EV_PASS_TCP_NOT_SYN]) {
			struct oflow f;

			FZ_ASSERT(is_ip && ip.ok, "pass_tcp_not_syn for a malformed datagram");
			oracle_flow(in, &ip, &f);
			FZ_ASSERT(f.proto == IPPROTO_TCP && !f.syn && !f.icmp_err,
				  "pass_tcp_not_syn for a packet that is no TCP packet other than a SYN");
		}
		if (b.ev[XLVS_EV_PASS_ICMP_MISADDR] != a.ev[XLVS_EV_PASS_ICMP_MISADDR]) {
			struct oflow f;

			FZ_ASSERT(is_ip && ip.ok, "pass_icmp_error_misaddressed for a malformed datagram");
			oracle_flow(in, &ip, &f);
			FZ_ASSERT(
				f.icmp_err && f.misaddressed,
				"pass_icmp_error_misaddressed for an error sent to the quoted packet's source");
		}
		if (b.ev[XLVS_EV_PASS_NEIGH] != a.ev[XLVS_EV_PASS_NEIGH]) {
			/* Encapsulated, left to the kernel to resolve the neighbour: our MACs kept. */
			FZ_ASSERT(opt2 & FZ_LB2_NO_NH, "neighbour pass with resolved reals");
			FZ_ASSERT(is_ip && ip.ok && !memcmp(out, in, 12), "neighbour pass: MACs kept");
			check_forwarded(in, in_len, out, out_len, l2, &ip, &a, &b, cfg);
			break;
		}
		FZ_ASSERT(!traffic, "XDP_PASS counted as forwarded");
		FZ_ASSERT(out_len == in_len && !memcmp(out, in, in_len), "XDP_PASS changed the frame");
		break;
	case XDP_REDIRECT:
		/* Only a FIB answer naming another interface redirects. */
		FZ_ASSERT(opt2 & FZ_LB2_NO_NH, "XDP_REDIRECT with resolved next hops");
		/* fall through */
	case XDP_TX: {
		uint64_t echo = b.ev[XLVS_EV_ECHO_REPLY] - a.ev[XLVS_EV_ECHO_REPLY];
		uint64_t tb = b.ev[XLVS_EV_TOO_BIG_SENT] - a.ev[XLVS_EV_TOO_BIG_SENT];

		FZ_ASSERT(drops == 0, "XDP_TX counted drop %s", xlvs_drop_names[reason]);
		FZ_ASSERT(passes == 0, "XDP_TX counted a pass event");
		FZ_ASSERT(echo + tb + traffic == 1, "XDP_TX: echo %lu, too big %lu, forwarded %d",
			  (unsigned long)echo, (unsigned long)tb, traffic);
		FZ_ASSERT(is_ip && ip.ok, "XDP_TX of a frame the oracle finds malformed");
		if (echo)
			check_echo(in, in_len, out, out_len, l2, &ip);
		else if (tb)
			check_too_big(in, in_len, out, out_len, l2, &ip, cfg);
		else
			check_forwarded(in, in_len, out, out_len, l2, &ip, &a, &b, cfg);
		break;
	}
	default:
		FZ_ASSERT(0, "verdict %d", verdict);
	}
}

/* Every real of the standard world as in reals[], changed as opt2 asks (gen_delta: added to gen). */
static void set_reals(uint8_t o2, uint32_t gen_delta)
{
	static uint32_t keys[NREALS];
	static struct xlvs_real vals[NREALS];
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	uint32_t n = NREALS;
	int i;

	for (i = 0; i < NREALS; i++) {
		struct xlvs_real *r = &vals[i];

		keys[i] = (uint32_t)i;
		*r = reals[i];
		if (!r->family)
			continue;
		if (o2 & FZ_LB2_WEIGHT0)
			r->weight = 0;
		if (o2 & FZ_LB2_NO_NH)
			r->flags &= (uint8_t)~XLVS_REAL_F_NH_VALID;
		if (o2 & FZ_LB2_INACTIVE)
			r->flags &= (uint8_t)~XLVS_REAL_F_ACTIVE;
		r->gen += gen_delta;
	}
	/* One syscall for all of them. */
	FZ_ASSERT(!bpf_map_update_batch(MAP_FD(&W, xlvs_reals), keys, vals, &n, &opts) && n == NREALS,
		  "update_batch reals: %s", strerror(errno));
}

/* The TCP sequence number of the frame, plus one, checksum adjusted (so a valid one stays valid). */
static void next_isn(uint8_t *f, size_t len)
{
	uint16_t et = 0;
	size_t l2 = fz_l2(f, len, &et);
	struct fz_ip ip;
	uint8_t *th;
	uint32_t seq, sum;
	uint16_t c;

	if (!l2 || (et != 0x0800 && et != 0x86dd))
		return;
	fz_ip_parse(f, len, l2, et == 0x0800 ? 4 : 6, &ip);
	if (!ip.ok || ip.frag || ip.proto != IPPROTO_TCP || ip.len < ip.hlen + 20)
		return;
	th = f + l2 + ip.hlen;
	seq = (uint32_t)fz_get16(th + 4) << 16 | fz_get16(th + 6);
	/* RFC 1624: HC' = ~(~HC + ~m + m') over the two 16-bit halves. */
	sum = (uint16_t)~fz_get16(th + 16);
	sum += (uint16_t) ~(seq >> 16) + (uint16_t)~seq;
	seq++;
	sum += (seq >> 16) + (seq & 0xffff);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	c = (uint16_t)~sum;
	th[4] = (uint8_t)(seq >> 24), th[5] = (uint8_t)(seq >> 16), th[6] = (uint8_t)(seq >> 8),
	th[7] = (uint8_t)seq;
	th[16] = (uint8_t)(c >> 8), th[17] = (uint8_t)c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t in[FZ_FRAME_MAX];
	static uint8_t changed; /* opt2 bits the reals map holds now */
	struct xlvs_config cfg = std_cfg;
	size_t len, l2, hdr;
	uint16_t et;
	uint8_t opt;

	if (size < 2)
		return 0;
	hdr = data[1] & FZ_LB2_RING ? 3 : 2;
	if (size < hdr + FZ_FRAME_MIN || size > hdr + FZ_FRAME_MAX)
		return 0;
	opt = data[0];
	opt2 = data[1];
	len = size - hdr;
	memcpy(in, data + hdr, len);
	ring_set_layout(hdr == 3 ? (data[2] & FZ_LB_RING_MIXED ? FZ_RING_KINDS : data[2] & FZ_LB_RING_KIND)
				 : -1);
	if (opt & FZ_LB_FIXUP) {
		l2 = fz_l2(in, len, &et);
		if (l2 && (et == 0x0800 || et == 0x86dd))
			fz_fixup(in, len, l2, 0, 0);
	}
	if (opt & FZ_LB_FRAG_DROP)
		cfg.flags |= XLVS_CFG_F_FRAG_DROP;
	if (opt & FZ_LB_OPT_DROP)
		cfg.flags |= XLVS_CFG_F_IP4_OPT_DROP;
	switch ((opt & FZ_LB_MTU_MASK) >> FZ_LB_MTU_SHIFT) {
	case 1:
		cfg.tun_mtu = 0;
		break;
	case 2:
		cfg.tun_mtu = 1400;
		break;
	case 3:
		cfg.tun_mtu = 400;
		break;
	}
	if (opt & FZ_LB_NO_TUN_SRC) {
		cfg.src4 = 0;
		memset(cfg.src6, 0, sizeof(cfg.src6));
	}
	if (opt & FZ_LB_SYN_GUARD)
		cfg.syn_guard_rate = 1;
	if (opt2 & FZ_LB2_GW_FALLBACK) {
		cfg.flags |= XLVS_CFG_F_GW_FALLBACK;
		memcpy(cfg.gw_mac, gw_mac, 6);
	}
	if (opt2 & FZ_LB2_MURMUR3)
		cfg.flags &= ~XLVS_CFG_F_HASH_MIX64;
	cfg_flags_now = cfg.flags;
	world_set_config(&W, &cfg);
	clear_conns();
	if ((opt2 & (FZ_LB2_WEIGHT0 | FZ_LB2_NO_NH | FZ_LB2_INACTIVE)) || changed)
		set_reals(opt2, 0);
	changed = opt2 & (FZ_LB2_WEIGHT0 | FZ_LB2_NO_NH | FZ_LB2_INACTIVE);

	run_once(in, len, &cfg);
	if (!(opt & FZ_LB_TWICE))
		return 0;
	if (opt2 & FZ_LB2_GEN_BUMP) {
		set_reals(opt2, 1);
		changed = 0xff; /* restore next time */
	}
	if (opt2 & FZ_LB2_NEW_ISN)
		next_isn(in, len);
	run_once(in, len, &cfg);
	return 0;
}
