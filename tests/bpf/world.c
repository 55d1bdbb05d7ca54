// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netinet/in.h>
#include <errno.h>
#include <string.h>

#include "check.h"

#include <xlvs/hash.h>
#include "maglev.h"
#include "world.h"
#include "xlvsmaps.h"
#include "xlvs_lb.skel.h"

#define SMALL_RING 251
#define R4(a)                                                                                                \
	{                                                                                                    \
		a, 1, 0                                                                                      \
	}

const struct svc_def std_svcs[STD_SVC_MAX] = {
	[SVC_DR4] = { "dr4",
		      "198.18.0.10",
		      IPPROTO_TCP,
		      80,
		      XLVS_SCHED_MAGLEV,
		      XLVS_FWD_DR,
		      XLVS_SVC_F_ECHO,
		      XLVS_RING_DEFAULT,
		      { R4("198.18.1.1"), R4("198.18.1.2"), R4("198.18.1.3") } },
	[SVC_IPIP] = { "ipip",
		       "198.18.0.11",
		       IPPROTO_TCP,
		       80,
		       XLVS_SCHED_MAGLEV,
		       XLVS_FWD_TUN,
		       0,
		       SMALL_RING,
		       { R4("198.18.2.1"), R4("198.18.2.2"), R4("198.18.2.3") } },
	[SVC_GUE4] = { "gue4",
		       "198.18.0.12",
		       IPPROTO_TCP,
		       80,
		       XLVS_SCHED_MAGLEV,
		       XLVS_FWD_GUE,
		       0,
		       SMALL_RING,
		       { R4("198.18.3.1"), R4("198.18.3.2"), { "198.18.3.3", 1, 7777 } } },
	[SVC_DR4_ANY] = { "dr4-any",
			  "198.18.0.13",
			  IPPROTO_TCP,
			  0,
			  XLVS_SCHED_MAGLEV,
			  XLVS_FWD_DR,
			  0,
			  SMALL_RING,
			  { R4("198.18.1.4"), R4("198.18.1.5") } },
	[SVC_DR6] = { "dr6",
		      "2001:db8::10",
		      IPPROTO_TCP,
		      80,
		      XLVS_SCHED_MAGLEV,
		      XLVS_FWD_DR,
		      XLVS_SVC_F_ECHO,
		      SMALL_RING,
		      { R4("2001:db8:1::1"), R4("2001:db8:1::2"), R4("2001:db8:1::3") } },
	[SVC_IP6IP6] = { "ip6ip6",
			 "2001:db8::11",
			 IPPROTO_TCP,
			 80,
			 XLVS_SCHED_MAGLEV,
			 XLVS_FWD_TUN,
			 0,
			 SMALL_RING,
			 { R4("2001:db8:2::1"), R4("2001:db8:2::2"), R4("2001:db8:2::3") } },
	[SVC_4IN6] = { "4in6",
		       "198.18.0.14",
		       IPPROTO_TCP,
		       80,
		       XLVS_SCHED_MAGLEV,
		       XLVS_FWD_TUN,
		       0,
		       SMALL_RING,
		       { R4("2001:db8:3::1"), R4("2001:db8:3::2"), R4("2001:db8:3::3") } },
	[SVC_GUE6] = { "gue6",
		       "2001:db8::12",
		       IPPROTO_TCP,
		       80,
		       XLVS_SCHED_MAGLEV,
		       XLVS_FWD_GUE,
		       0,
		       SMALL_RING,
		       { R4("2001:db8:4::1"), R4("2001:db8:4::2"), { "2001:db8:4::3", 1, 7777 } } },
	[SVC_DR4_UDP] = { "dr4-udp",
			  "198.18.0.10",
			  IPPROTO_UDP,
			  53,
			  XLVS_SCHED_MAGLEV,
			  XLVS_FWD_DR,
			  0,
			  SMALL_RING,
			  { R4("198.18.1.1"), R4("198.18.1.2") } },
	[SVC_TUN6_UDP] = { "ip6ip6-udp",
			   "2001:db8::11",
			   IPPROTO_UDP,
			   53,
			   XLVS_SCHED_MAGLEV,
			   XLVS_FWD_TUN,
			   0,
			   SMALL_RING,
			   { R4("2001:db8:2::1"), R4("2001:db8:2::2") } },
	[SVC_GUE_4IN6] = { "gue-4in6",
			   "198.18.0.15",
			   IPPROTO_TCP,
			   80,
			   XLVS_SCHED_MAGLEV,
			   XLVS_FWD_GUE,
			   0,
			   SMALL_RING,
			   { R4("2001:db8:5::1"), R4("2001:db8:5::2") } },
	[SVC_6IN4] = { "6in4",
		       "2001:db8::13",
		       IPPROTO_TCP,
		       80,
		       XLVS_SCHED_MAGLEV,
		       XLVS_FWD_TUN,
		       0,
		       SMALL_RING,
		       { R4("198.18.6.1"), R4("198.18.6.2") } },
	[SVC_RR] = { "rr",
		     "198.18.0.16",
		     IPPROTO_TCP,
		     80,
		     XLVS_SCHED_MAX, /* no scheduler has this value: an entry from a newer or corrupt writer */
		     XLVS_FWD_DR,
		     0,
		     SMALL_RING,
		     { R4("198.18.1.1") } },
	[SVC_EMPTY] = { "empty",
			"198.18.0.17",
			IPPROTO_TCP,
			80,
			XLVS_SCHED_MAGLEV,
			XLVS_FWD_DR,
			0,
			SMALL_RING,
			{ { "198.18.1.9", 0, 0 } } },
	[SVC_NAT] = { "nat",
		      "198.18.0.18",
		      IPPROTO_TCP,
		      80,
		      XLVS_SCHED_MAGLEV,
		      XLVS_FWD_NAT,
		      0,
		      SMALL_RING,
		      { R4("198.18.1.1") } },
	[SVC_DR6_ANY] = { "dr6-any",
			  "2001:db8::14",
			  IPPROTO_TCP,
			  0,
			  XLVS_SCHED_MAGLEV,
			  XLVS_FWD_DR,
			  0,
			  SMALL_RING,
			  { R4("2001:db8:1::4"), R4("2001:db8:1::5") } },
	[SVC_GUE4_UDP] = { "gue4-udp",
			   "198.18.0.12",
			   IPPROTO_UDP,
			   53,
			   XLVS_SCHED_MAGLEV,
			   XLVS_FWD_GUE,
			   0,
			   SMALL_RING,
			   { R4("198.18.3.1"), R4("198.18.3.2") } },
	[SVC_GUE6_UDP] = { "gue6-udp",
			   "2001:db8::12",
			   IPPROTO_UDP,
			   53,
			   XLVS_SCHED_MAGLEV,
			   XLVS_FWD_GUE,
			   0,
			   SMALL_RING,
			   { R4("2001:db8:4::1"), R4("2001:db8:4::2") } },
	[SVC_IPIP_UDP] = { "ipip-udp",
			   "198.18.0.11",
			   IPPROTO_UDP,
			   53,
			   XLVS_SCHED_MAGLEV,
			   XLVS_FWD_TUN,
			   0,
			   SMALL_RING,
			   { R4("198.18.2.1"), R4("198.18.2.2") } },
	[SVC_DR6_UDP] = { "dr6-udp",
			  "2001:db8::10",
			  IPPROTO_UDP,
			  53,
			  XLVS_SCHED_MAGLEV,
			  XLVS_FWD_DR,
			  0,
			  SMALL_RING,
			  { R4("2001:db8:1::1"), R4("2001:db8:1::2") } },
};

static uint8_t family_of(const char *addr)
{
	return strchr(addr, ':') ? 6 : 4;
}

uint32_t std_real_id(int svc, int idx)
{
	return (uint32_t)(svc * STD_REALS_MAX + idx);
}

int std_svc_of_real(uint32_t real_id)
{
	return (int)(real_id / STD_REALS_MAX);
}

uint32_t world_std_slots(void)
{
	uint32_t slots = 0;
	int i;

	for (i = 0; i < STD_SVC_MAX; i++)
		slots += std_svcs[i].ring_size;
	return slots;
}

void world_open(struct world *w, const struct world_opts *o)
{
	struct bpf_map *m;
	uint32_t slots = 0, ring;
	int i;

	memset(w, 0, sizeof(*w));
	for (i = 0; i < STD_SVC_MAX; i++) {
		w->ring_base[i] = slots;
		slots += std_svcs[i].ring_size;
	}
	ring = o && o->ring_slots ? o->ring_slots : slots;
	w->skel = xlvs_lb_bpf__open();
	CHECK(w->skel, "open xlvs_lb skeleton");
	/* Tests never pin: each test process owns private maps. */
	bpf_object__for_each_map (m, w->skel->obj)
		bpf_map__set_pin_path(m, NULL);
	bpf_map__set_max_entries(w->skel->maps.xlvs_conns, o && o->conn_entries ? o->conn_entries : 4096);
	CHECK(xlvs_lb_size_stripes(w->skel) == 0, "size the striped maps");
	/* Both alike, as the loader sizes them (loader/dataplane/attach.c size_ring_prev()). */
	bpf_map__set_max_entries(w->skel->maps.xlvs_ring, xlvs_ring_blocks(ring));
	bpf_map__set_max_entries(w->skel->maps.xlvs_ring_prev, xlvs_ring_blocks(ring) * XLVS_RING_BLOCK);
	if (o && o->conns_no_lru) {
		bpf_map__set_type(w->skel->maps.xlvs_conns, BPF_MAP_TYPE_HASH);
		bpf_map__set_map_flags(w->skel->maps.xlvs_conns, 0); /* no BPF_F_NO_COMMON_LRU */
	}
	CHECK(xlvs_lb_bpf__load(w->skel) == 0, "load xlvs_lb (verifier) failed: %s", strerror(errno));
	w->prog_fd = bpf_program__fd(w->skel->progs.xlvs_lb);
	w->ncpus = libbpf_num_possible_cpus();
	CHECK(w->ncpus > 0, "no possible CPUs");
}

void world_close(struct world *w)
{
	xlvs_lb_bpf__destroy(w->skel);
	w->skel = NULL;
}

void real_mac(uint32_t id, uint8_t mac[6])
{
	uint8_t m[6] = { 0x02, 0xee, 0, 0, (uint8_t)(id >> 8), (uint8_t)id };

	memcpy(mac, m, 6);
}

void world_put_real(struct world *w, int svc, int idx, const struct real_def *rd)
{
	uint32_t id = std_real_id(svc, idx);
	struct xlvs_real r = {
		.family = family_of(rd->addr),
		.fwd = std_svcs[svc].fwd,
		.flags = XLVS_REAL_F_ACTIVE | XLVS_REAL_F_NH_VALID,
		.svc_id = (uint32_t)svc,
		.gue_port = htons(rd->gue_port),
		.weight = rd->weight,
	};

	parse_addr(r.family, rd->addr, r.addr);
	real_mac(id, r.nh_mac);
	memcpy(r.nh_smac, MAC_LB, 6);
	world_set_real(w, id, &r);
}

void world_get_real(struct world *w, uint32_t id, struct xlvs_real *r)
{
	CHECK(bpf_map_lookup_elem(MAP_FD(w, xlvs_reals), &id, r) == 0, "%s", strerror(errno));
}

void world_set_real(struct world *w, uint32_t id, const struct xlvs_real *r)
{
	CHECK(bpf_map_update_elem(MAP_FD(w, xlvs_reals), &id, r, 0) == 0, "%s", strerror(errno));
}

static void build_ring(struct world *w, int svc, const uint32_t *weights)
{
	const struct svc_def *d = &std_svcs[svc];
	struct xlvs_maglev_backend b[STD_REALS_MAX];
	uint32_t *ring = calloc(d->ring_size, sizeof(*ring));
	size_t n = 0;

	CHECK(ring, "out of memory");
	for (; n < STD_REALS_MAX && d->reals[n].addr; n++) {
		b[n].real_id = std_real_id(svc, (int)n);
		b[n].weight = weights ? weights[n] : d->reals[n].weight;
		b[n].key = d->reals[n].addr;
		b[n].key_len = strlen(d->reals[n].addr);
	}
	CHECK(xlvs_maglev_build(ring, d->ring_size, b, n) == 0, "maglev build for %s", d->name);
	CHECK(xlvs_ring_write(MAP_FD(w, xlvs_ring), w->ring_base[svc], NULL, ring, d->ring_size) >= 0,
	      "ring write for %s", d->name);
	free(ring);
}

/* What the daemon writes for new weights: each real's weight, then the ring. */
void world_set_weights(struct world *w, int svc, const uint32_t *weights)
{
	struct xlvs_real r;
	int i;

	for (i = 0; i < STD_REALS_MAX && std_svcs[svc].reals[i].addr; i++) {
		world_get_real(w, std_real_id(svc, i), &r);
		r.weight = weights[i];
		world_set_real(w, std_real_id(svc, i), &r);
	}
	build_ring(w, svc, weights);
}

void world_vip_filter_add(struct world *w, uint8_t family, const uint32_t *addr)
{
	uint32_t bit = xlvs_addr_hash(addr, family) % XLVS_VIP_FILTER_BITS, word = bit / 64;
	uint64_t val = 0;

	CHECK(bpf_map_lookup_elem(MAP_FD(w, xlvs_vip_filter), &word, &val) == 0, "%s", strerror(errno));
	val |= 1ull << (bit % 64);
	CHECK(bpf_map_update_elem(MAP_FD(w, xlvs_vip_filter), &word, &val, 0) == 0, "%s", strerror(errno));
}

void world_std_entry(const struct world *w, int svc, struct xlvs_svc_key *k, struct xlvs_service *v)
{
	const struct svc_def *d = &std_svcs[svc];

	*k = (struct xlvs_svc_key){ .port = htons(d->port), .proto = d->proto, .family = family_of(d->vip) };
	parse_addr(k->family, d->vip, k->addr);
	*v = (struct xlvs_service){
		.id = (uint32_t)svc,
		.ring_base = w->ring_base[svc],
		.ring_size = d->ring_size,
		.flags = d->flags,
		.sched = d->sched,
	};
}

static void put_service(struct world *w, int svc)
{
	const struct svc_def *d = &std_svcs[svc];
	struct xlvs_svc_key k;
	struct xlvs_service v;
	struct xlvs_vip_key vk = { 0 };
	struct xlvs_vip vip = { 0 };
	int vfd = MAP_FD(w, xlvs_vips);

	world_std_entry(w, svc, &k, &v);
	vk.family = k.family;
	memcpy(vk.addr, k.addr, 16);
	bpf_map_lookup_elem(vfd, &vk, &vip); /* absent: stays zero */
	vip.nr_services++;
	if (d->flags & XLVS_SVC_F_ECHO)
		vip.flags |= XLVS_VIP_F_ECHO;
	CHECK(bpf_map_update_elem(vfd, &vk, &vip, 0) == 0, "%s", strerror(errno));
	world_vip_filter_add(w, k.family, k.addr);
	world_service_put(w, &k, &v);
}

void world_std(struct world *w)
{
	struct xlvs_config cfg = {
		.flags = XLVS_CFG_F_HASH_MIX64, /* as the state xlvsd makes by default */
		.tun_mtu = STD_TUN_MTU,
		.gue_port = htons(STD_GUE_PORT),
	};
	int s, i;

	parse_addr(4, STD_SRC4, &cfg.src4);
	parse_addr(6, STD_SRC6, cfg.src6);
	world_set_config(w, &cfg);
	for (s = 0; s < STD_SVC_MAX; s++) {
		for (i = 0; i < STD_REALS_MAX && std_svcs[s].reals[i].addr; i++)
			world_put_real(w, s, i, &std_svcs[s].reals[i]);
		build_ring(w, s, NULL);
		put_service(w, s); /* last: no packet sees a service without its ring */
	}
}

void world_get_config(struct world *w, struct xlvs_config *cfg)
{
	uint32_t zero = 0;

	CHECK(bpf_map_lookup_elem(MAP_FD(w, xlvs_config), &zero, cfg) == 0, "%s", strerror(errno));
}

/* Every write moves svc_gen on, as xlvsd's service writes do: no CPU keeps an old service copy. */
void world_set_config(struct world *w, const struct xlvs_config *cfg)
{
	struct xlvs_config c = *cfg, cur;
	uint32_t zero = 0;

	world_get_config(w, &cur);
	c.svc_gen = cur.svc_gen + 1;
	CHECK(bpf_map_update_elem(MAP_FD(w, xlvs_config), &zero, &c, 0) == 0, "%s", strerror(errno));
}

void world_set_clock(struct world *w, uint32_t hz)
{
	struct xlvs_config cfg;

	world_get_config(w, &cfg);
	cfg.hz = hz;
	memcpy(cfg.timeout, xlvs_timeout_defaults, sizeof(cfg.timeout));
	world_set_config(w, &cfg);
}

void world_service_put(struct world *w, const struct xlvs_svc_key *k, const struct xlvs_service *v)
{
	struct xlvs_config cfg;

	CHECK(bpf_map_update_elem(MAP_FD(w, xlvs_services), k, v, 0) == 0, "%s", strerror(errno));
	world_get_config(w, &cfg);
	world_set_config(w, &cfg);
}

int world_run(struct world *w, const void *in, size_t len, void *out, size_t *out_len)
{
	struct xdp_md ctx = { .data_end = (uint32_t)len, .ingress_ifindex = (uint32_t)w->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = (uint32_t)len, .data_out = out,
		    .data_size_out = PKT_MAX, .ctx_in = w->ifindex ? &ctx : NULL,
		    .ctx_size_in = w->ifindex ? sizeof(ctx) : 0, .repeat = 1);

	CHECK(bpf_prog_test_run_opts(w->prog_fd, &opts) == 0, "BPF_PROG_RUN failed: %s", strerror(errno));
	*out_len = opts.data_size_out;
	return (int)opts.retval;
}

/* out[0..nwords): entry id of a striped map of __u64 words (abi.h), every CPU's stripe added up. */
static void stripes_words(struct world *w, int fd, uint32_t stride, uint32_t id, uint64_t *out,
			  uint32_t nwords)
{
	uint64_t v[sizeof(struct xlvs_counters) / sizeof(uint64_t)];
	uint32_t key, i;
	int cpu;

	CHECK(id < stride && nwords <= sizeof(v) / sizeof(v[0]), "id %u past the stride %u", id, stride);
	memset(out, 0, nwords * sizeof(*out));
	for (cpu = 0; cpu < w->ncpus; cpu++) {
		key = xlvs_stripe_key(cpu, stride, id);
		CHECK(bpf_map_lookup_elem(fd, &key, v) == 0, "stripe entry %u: %s", key, strerror(errno));
		for (i = 0; i < nwords; i++)
			out[i] += v[i];
	}
}

static uint64_t stripes_u64(struct world *w, int fd, uint32_t stride, uint32_t key)
{
	uint64_t sum;

	stripes_words(w, fd, stride, key, &sum, 1);
	return sum;
}

uint64_t world_drop(struct world *w, enum xlvs_drop_reason r)
{
	return stripes_u64(w, MAP_FD(w, xlvs_drops), XLVS_DROP_SLOTS, r);
}

uint64_t world_event(struct world *w, enum xlvs_event e)
{
	return stripes_u64(w, MAP_FD(w, xlvs_events), XLVS_EV_SLOTS, e);
}

uint64_t world_drops_total(struct world *w)
{
	uint64_t sum = 0;
	int r;

	for (r = 0; r < XLVS_DROP_MAX; r++)
		sum += world_drop(w, r);
	return sum;
}

struct xlvs_counters world_stripes(struct world *w, int fd, uint32_t stride, uint32_t id)
{
	struct xlvs_counters sum;

	_Static_assert(sizeof(sum) == 3 * sizeof(uint64_t), "three __u64 words");
	stripes_words(w, fd, stride, id, (uint64_t *)&sum, 3);
	return sum;
}

struct xlvs_counters world_svc_stats(struct world *w, uint32_t id)
{
	return world_stripes(w, MAP_FD(w, xlvs_svc_stats), XLVS_SVC_STATS_STRIDE, id);
}

struct xlvs_counters world_real_stats(struct world *w, uint32_t id)
{
	return world_stripes(w, MAP_FD(w, xlvs_real_stats), XLVS_REAL_STATS_STRIDE, id);
}

uint32_t world_conn_count(struct world *w)
{
	int fd = MAP_FD(w, xlvs_conns);
	struct xlvs_flow k, next;
	uint32_t n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

void spec_flow(const struct pkt_spec *s, struct xlvs_flow *f)
{
	memset(f, 0, sizeof(*f));
	f->family = s->family;
	parse_addr(s->family, s->src, f->src);
	parse_addr(s->family, s->dst, f->dst);
	f->proto = s->proto;
	f->sport = htons(s->sport);
	f->dport = htons(s->dport);
}

uint32_t world_flow_hash(struct world *w, const struct xlvs_flow *f)
{
	struct xlvs_config cfg;

	world_get_config(w, &cfg);
	return xlvs_flow_hash_cfg(cfg.flags, f);
}

uint32_t world_ring_pick(struct world *w, int svc, const struct xlvs_flow *f)
{
	struct xlvs_config cfg;
	uint32_t slot, id;

	world_get_config(w, &cfg);
	slot = w->ring_base[svc] +
	       xlvs_maglev_index(cfg.flags, xlvs_flow_hash_cfg(cfg.flags, f), std_svcs[svc].ring_size);

	CHECK(xlvs_ring_get(MAP_FD(w, xlvs_ring), slot, &id) == 0, "ring slot %u", slot);
	return id;
}

int world_frame_real(int verdict, const uint8_t *out, uint32_t first_id, int n)
{
	uint8_t mac[6];
	int i;

	for (i = 0; verdict == XDP_TX && i < n; i++) {
		real_mac(first_id + (uint32_t)i, mac);
		if (!memcmp(out, mac, 6))
			return i;
	}
	return -1;
}

/* ---- for scenario tests (test_scenarios.c) ---- */

bool world_get_conn(struct world *w, const struct xlvs_flow *f, struct xlvs_conn *c)
{
	return bpf_map_lookup_elem(MAP_FD(w, xlvs_conns), f, c) == 0;
}

void world_put_conn(struct world *w, const struct xlvs_flow *f, const struct xlvs_conn *c)
{
	CHECK(bpf_map_update_elem(MAP_FD(w, xlvs_conns), f, c, 0) == 0, "%s", strerror(errno));
}

void world_pin(struct world *w, const char *dir)
{
	struct bpf_map *m;
	char path[256];

	bpf_object__for_each_map (m, w->skel->obj) {
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(m));
		CHECK(bpf_map__pin(m, path) == 0, "pin %s: %s", path, strerror(errno));
	}
}

void world_run_live(struct world *w, const void *in, size_t len)
{
	struct xdp_md ctx = { .data_end = (uint32_t)len, .ingress_ifindex = (uint32_t)w->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = (uint32_t)len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .repeat = 1);

	CHECK(w->ifindex, "live frames need an ingress interface (world.ifindex)");
	CHECK(bpf_prog_test_run_opts(w->prog_fd, &opts) == 0, "BPF_PROG_RUN (live) failed: %s",
	      strerror(errno));
}
