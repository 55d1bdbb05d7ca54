// SPDX-License-Identifier: GPL-2.0
/*
 * libxlvsmaps: opening the director's maps, the global configuration,
 * counters and the connection table. The applier is apply.c, the state
 * reader state.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "xlvs_lb.skel.h"

/*
 * Every map, found through the skeleton: a map renamed or dropped in bpf/
 * fails to compile here instead of failing at run time.
 */
struct map_desc {
	size_t fd_off;	    /* int in struct xlvs_maps */
	size_t skel_off;    /* struct bpf_map * in struct xlvs_lb_bpf */
	size_t size_off;    /* loader-sized: uint32_t for max_entries; else 0 */
	uint32_t per_entry; /* the size counts this many per entry (xlvs_ring: slots of a block) */
	uint32_t stride;    /* striped (abi.h): entries per CPU; else 0 */
};

#define MAP_FIXED(field, name)                                                                               \
	{                                                                                                    \
		offsetof(struct xlvs_maps, field), offsetof(struct xlvs_lb_bpf, maps.name), 0, 1, 0          \
	}
#define MAP_STRIPED(field, name, stride)                                                                     \
	{                                                                                                    \
		offsetof(struct xlvs_maps, field), offsetof(struct xlvs_lb_bpf, maps.name), 0, 1, stride     \
	}
#define MAP_SIZED(field, name, size, per_entry)                                                              \
	{                                                                                                    \
		offsetof(struct xlvs_maps, field), offsetof(struct xlvs_lb_bpf, maps.name),                  \
			offsetof(struct xlvs_maps, size), per_entry, 0                                       \
	}

static const struct map_desc map_descs[] = {
	MAP_FIXED(services, xlvs_services),
	MAP_FIXED(vips, xlvs_vips),
	MAP_FIXED(reals, xlvs_reals),
	MAP_SIZED(ring, xlvs_ring, ring_slots, XLVS_RING_BLOCK),
	MAP_SIZED(conns, xlvs_conns, conn_entries, 1),
	MAP_STRIPED(svc_stats, xlvs_svc_stats, XLVS_SVC_STATS_STRIDE),
	MAP_STRIPED(real_stats, xlvs_real_stats, XLVS_REAL_STATS_STRIDE),
	MAP_STRIPED(drops, xlvs_drops, XLVS_DROP_SLOTS),
	MAP_STRIPED(events, xlvs_events, XLVS_EV_SLOTS),
	MAP_FIXED(syn_guard, xlvs_syn_guard),
	MAP_FIXED(config, xlvs_config),
	MAP_FIXED(vip_filter, xlvs_vip_filter),
	MAP_FIXED(real_load, xlvs_real_load),
	MAP_FIXED(persist, xlvs_persist),
	MAP_FIXED(hc_marks, xlvs_hc_marks),
	MAP_SIZED(nat, xlvs_nat, nat_entries, 1),
	MAP_FIXED(nat_srcs, xlvs_nat_srcs),
	MAP_FIXED(snat_pool, xlvs_snat_pool),
	MAP_SIZED(ring_prev, xlvs_ring_prev, ring_prev_slots, 1),
	MAP_STRIPED(svc_out, xlvs_svc_out, XLVS_SVC_STATS_STRIDE),
	MAP_STRIPED(real_out, xlvs_real_out, XLVS_REAL_STATS_STRIDE),
};

#define NR_MAPS (sizeof(map_descs) / sizeof(map_descs[0]))

static int *desc_fd(struct xlvs_maps *m, const struct map_desc *d)
{
	return (int *)((char *)m + d->fd_off);
}

static struct bpf_map *desc_map(struct xlvs_lb_bpf *skel, const struct map_desc *d)
{
	return *(struct bpf_map **)((char *)skel + d->skel_off);
}

static void maps_reset(struct xlvs_maps *m)
{
	size_t i;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < NR_MAPS; i++)
		*desc_fd(m, &map_descs[i]) = -1;
}

void xlvs_maps_close(struct xlvs_maps *m)
{
	size_t i;
	int *fd;

	for (i = 0; i < NR_MAPS; i++) {
		fd = desc_fd(m, &map_descs[i]);
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
}

/* Take fd as map d if it has the skeleton's layout: a pin left by another
 * version of xlvs is refused (-EPROTO) rather than misread. */
static int map_adopt(struct xlvs_maps *m, const struct map_desc *d, const struct bpf_map *want, int fd)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	int err;

	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	if (err) {
		close(fd);
		return err;
	}
	if (info.type != bpf_map__type(want) || info.key_size != bpf_map__key_size(want) ||
	    info.value_size != bpf_map__value_size(want) ||
	    (d->stride && info.max_entries != (uint64_t)m->ncpus * d->stride) ||
	    (!d->size_off && !d->stride && info.max_entries != bpf_map__max_entries(want)) ||
	    (uint64_t)info.max_entries * d->per_entry > UINT32_MAX) {
		close(fd);
		return -EPROTO;
	}
	if (d->size_off)
		*(uint32_t *)((char *)m + d->size_off) = info.max_entries * d->per_entry;
	*desc_fd(m, d) = fd;
	return 0;
}

/* Fill m with the map fds get_fd() returns, each checked against the skeleton. */
static int maps_take(struct xlvs_maps *m, int (*get_fd)(const struct bpf_map *, const void *),
		     const void *ctx)
{
	struct xlvs_lb_bpf *skel;
	size_t i;
	int fd, err = 0;

	maps_reset(m);
	m->ncpus = libbpf_num_possible_cpus();
	if (m->ncpus <= 0)
		return m->ncpus ? m->ncpus : -ENODEV;
	skel = xlvs_lb_bpf__open();
	if (!skel)
		return errno ? -errno : -ENOMEM;
	for (i = 0; i < NR_MAPS && !err; i++) {
		fd = get_fd(desc_map(skel, &map_descs[i]), ctx);
		err = fd < 0 ? fd : map_adopt(m, &map_descs[i], desc_map(skel, &map_descs[i]), fd);
		if (err)
			snprintf(m->failed, sizeof(m->failed), "%s",
				 bpf_map__name(desc_map(skel, &map_descs[i])));
	}
	xlvs_lb_bpf__destroy(skel);
	if (err)
		xlvs_maps_close(m);
	return err;
}

static int size_stripe(struct bpf_map *map, uint32_t stride, int ncpus)
{
	uint64_t entries = (uint64_t)ncpus * stride;

	if (entries * bpf_map__value_size(map) > UINT32_MAX)
		return -E2BIG;
	return bpf_map__set_max_entries(map, (uint32_t)entries);
}

int xlvs_lb_size_stripes(struct xlvs_lb_bpf *skel)
{
	int ncpus = libbpf_num_possible_cpus();
	size_t i;
	int err;

	if (ncpus <= 0)
		return ncpus ? ncpus : -ENODEV;
	err = size_stripe(skel->maps.xlvs_svc_cache, XLVS_SVC_CACHE_SLOTS, ncpus);
	for (i = 0; i < NR_MAPS && !err; i++)
		if (map_descs[i].stride)
			err = size_stripe(desc_map(skel, &map_descs[i]), map_descs[i].stride, ncpus);
	return err;
}

uint32_t xlvs_conns_entries(uint32_t conn_table_size, int ncpus)
{
	uint64_t n = conn_table_size ?: XLVS_CONNS_DEFAULT, r;

	if (ncpus <= 1)
		return (uint32_t)n;
	r = (n + ncpus - 1) / ncpus * ncpus; /* the kernel's htab_map_alloc() */
	return r > UINT32_MAX ? (uint32_t)(n / ncpus * ncpus) : (uint32_t)r;
}

static int pinned_fd(const struct bpf_map *map, const void *dir)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", (const char *)dir, bpf_map__name(map)) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return bpf_obj_get(path); /* fd or -errno */
}

int xlvs_maps_open(struct xlvs_maps *m, const char *dir)
{
	return maps_take(m, pinned_fd, dir);
}

static int object_fd(const struct bpf_map *map, const void *obj)
{
	const struct bpf_map *own = bpf_object__find_map_by_name(obj, bpf_map__name(map));
	int fd = own ? bpf_map__fd(own) : -ENOENT;

	if (fd < 0)
		return own ? -EBADF : fd; /* -EBADF: the object is not loaded */
	fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

int xlvs_maps_from_obj(struct xlvs_maps *m, struct bpf_object *obj)
{
	return maps_take(m, object_fd, obj);
}

/* ---- configuration ---- */

static int addr_word(const struct xlvs_addr *a, uint8_t family, __be32 *out, size_t words)
{
	if (a->family == XLVS_AF_NONE)
		return 0;
	if (a->family != family)
		return -EINVAL;
	memcpy(out, a->be, words * sizeof(*out));
	return 0;
}

/* Pool addresses as the maps and the spec hold them (IPv4 in be[0], the rest zero). */
static bool pool_addr_eq(const struct xlvs_addr *a, const struct xlvs_addr *b)
{
	return a->family == b->family && !memcmp(a->be, b->be, sizeof(a->be));
}

/*
 * One family's addresses into [first, first + n) of xlvs_snat_pool: one that
 * was already in the pool keeps its index while that is in the range; the
 * others take the free indexes in order. idx[k] for the k-th of the family.
 */
static void place_family(const struct xlvs_global_spec *g, uint8_t family, const struct xlvs_addr *old,
			 uint32_t first, uint32_t n, __u32 *idx, bool *taken)
{
	uint32_t i, j, k = 0, next = first;

	for (i = 0; i < g->nr_snat_pool; i++) {
		if (g->snat_pool[i].family != family)
			continue;
		idx[k] = XLVS_SNAT_POOL_MAX;
		for (j = first; j < first + n; j++)
			if (!taken[j] && pool_addr_eq(&old[j], &g->snat_pool[i])) {
				idx[k] = j;
				taken[j] = true;
				break;
			}
		k++;
	}
	for (i = 0; i < k; i++) {
		if (idx[i] != XLVS_SNAT_POOL_MAX)
			continue;
		while (taken[next])
			next++;
		idx[i] = next;
		taken[next] = true;
	}
}

/*
 * The fullnat pool into xlvs_snat_pool and its ranges into c. A flow's entry
 * names its pool address by index, so a reload keeps every address that stays
 * at its index: IPv4 from 0, IPv6 where it was while that still fits beside
 * the IPv4 range, else at the top of the array (where IPv4 growing cannot
 * reach it). Flows on an address that went lose their source, as on IPVS.
 */
static int write_snat_pool(struct xlvs_maps *m, const struct xlvs_global_spec *g, struct xlvs_config *c,
			   const struct xlvs_config *cur)
{
	struct xlvs_addr old[XLVS_SNAT_POOL_MAX];
	struct xlvs_vip_key keys[XLVS_SNAT_POOL_MAX];
	__u32 idx[XLVS_SNAT_POOL_MAX], n4 = 0, n6 = 0, i;
	bool taken[XLVS_SNAT_POOL_MAX] = { false };

	if (g->nr_snat_pool > XLVS_SNAT_POOL_MAX || g->snat_port_lo > g->snat_port_hi)
		return -EINVAL;
	for (i = 0; i < g->nr_snat_pool; i++) {
		n4 += g->snat_pool[i].family == XLVS_AF_INET;
		n6 += g->snat_pool[i].family == XLVS_AF_INET6;
	}
	if (n4 + n6 != g->nr_snat_pool)
		return -EINVAL; /* an address of no family */
	if (!cur || xlvs_snat_pool_read(m, old))
		memset(old, 0, sizeof(old)); /* nothing to keep */
	c->snat4_first = 0;
	c->snat4_count = (__u8)n4;
	c->snat6_first = (__u8)(XLVS_SNAT_POOL_MAX - n6);
	if (cur && cur->snat6_count && cur->snat6_first >= n4 && cur->snat6_first + n6 <= XLVS_SNAT_POOL_MAX)
		c->snat6_first = cur->snat6_first;
	c->snat6_count = (__u8)n6;
	place_family(g, XLVS_AF_INET, old, 0, n4, idx, taken);
	place_family(g, XLVS_AF_INET6, old, c->snat6_first, n6, idx + n4, taken);
	/* keys in idx's order: the family's k-th address at k (IPv4) or n4 + k (IPv6) */
	for (n4 = 0, n6 = 0, i = 0; i < g->nr_snat_pool; i++) {
		const struct xlvs_addr *a = &g->snat_pool[i];
		__u32 k = a->family == XLVS_AF_INET ? n4++ : c->snat4_count + n6++;

		memset(&keys[k], 0, sizeof(keys[k]));
		keys[k].family = a->family;
		memcpy(keys[k].addr, a->be, a->family == XLVS_AF_INET ? 4 : 16);
	}
	c->snat_port_lo = g->snat_port_lo ? g->snat_port_lo : XLVS_SNAT_PORT_LO;
	c->snat_port_hi = g->snat_port_hi ? g->snat_port_hi : XLVS_SNAT_PORT_HI;
	return map_update_many(m->snat_pool, idx, keys, g->nr_snat_pool, sizeof(*idx), sizeof(*keys));
}

/* A config some xlvsd wrote (every written one has its timeouts), not the map's zeros. */
static bool config_written(const struct xlvs_config *c)
{
	static const struct xlvs_config zero;

	return memcmp(c, &zero, sizeof(zero)) != 0;
}

/*
 * The flow hash is the state's: chosen when xlvsd writes the config first, then kept, because
 * it says where every ring-state flow without an entry is (a restart, an upgrade, a health
 * change all come through here). docs/operations.md, "The flow hash".
 */
static uint32_t flow_hash_flag(const struct xlvs_global_spec *g, const struct xlvs_config *cur)
{
	if (cur && config_written(cur))
		return cur->flags & XLVS_CFG_F_HASH_MIX64;
	return g->flow_hash == XLVS_FLOW_HASH_MIX64 ? XLVS_CFG_F_HASH_MIX64 : 0;
}

const char *const xlvs_flow_hash_names[2] = {
	[XLVS_FLOW_HASH_MIX64] = "mix64", [XLVS_FLOW_HASH_MURMUR3] = "murmur3"
};

int xlvs_maps_flow_hash(struct xlvs_maps *m, enum xlvs_flow_hash *h)
{
	struct xlvs_config c;
	int err = xlvs_maps_get_config(m, &c);

	if (err)
		return err;
	if (!config_written(&c))
		return -ENOENT;
	*h = c.flags & XLVS_CFG_F_HASH_MIX64 ? XLVS_FLOW_HASH_MIX64 : XLVS_FLOW_HASH_MURMUR3;
	return 0;
}

int xlvs_maps_set_global(struct xlvs_maps *m, const struct xlvs_global_spec *g)
{
	struct xlvs_config c = {
		.syn_guard_rate = g->syn_guard_rate,
		.tun_mtu = g->tun_mtu,
		.gue_port = htons(g->gue_port ? g->gue_port : XLVS_GUE_PORT_DEFAULT),
	};
	struct xlvs_config cur;
	bool have_cur = !xlvs_maps_get_config(m, &cur);
	__u32 key = 0, i;
	int err;

	/* xlvs_apply() owns the NAT flag (it follows the reals) and svc_gen */
	if (have_cur) {
		c.flags |= cur.flags & XLVS_CFG_F_NAT;
		c.svc_gen = cur.svc_gen;
	}
	c.flags |= flow_hash_flag(g, have_cur ? &cur : NULL);

	for (i = 0; i < XLVS_TO_MAX; i++)
		c.timeout[i] = g->timeout_s[i] ? g->timeout_s[i] : xlvs_timeout_defaults[i];
	err = xlvs_hz(&c.hz);
	if (err)
		return err;
	if (g->frag_drop)
		c.flags |= XLVS_CFG_F_FRAG_DROP;
	if (g->ip4_options_drop)
		c.flags |= XLVS_CFG_F_IP4_OPT_DROP;
	if (!g->health_direct) {
		c.hc_mark_mask = g->hc_mark_mask;
		c.hc_mark_value = g->hc_mark_value;
	}
	if (g->have_gw_mac) {
		c.flags |= XLVS_CFG_F_GW_FALLBACK;
		memcpy(c.gw_mac, g->gw_mac, sizeof(c.gw_mac));
	}
	err = addr_word(&g->tun_src4, XLVS_AF_INET, &c.src4, 1);
	if (!err)
		err = addr_word(&g->tun_src6, XLVS_AF_INET6, c.src6, 4);
	if (!err)
		err = write_snat_pool(m, g, &c, have_cur ? &cur : NULL);
	return err ? err : bpf_map_update_elem(m->config, &key, &c, BPF_ANY);
}

int xlvs_maps_svc_changed(struct xlvs_maps *m)
{
	struct xlvs_config c;
	__u32 key = 0;
	int err = xlvs_maps_get_config(m, &c);

	if (err)
		return err;
	c.svc_gen++;
	return bpf_map_update_elem(m->config, &key, &c, BPF_ANY);
}

int xlvs_maps_get_config(struct xlvs_maps *m, struct xlvs_config *cfg)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(m->config, &key, cfg);
}

int xlvs_snat_pool_read(struct xlvs_maps *m, struct xlvs_addr pool[XLVS_SNAT_POOL_MAX])
{
	struct xlvs_vip_key *keys = NULL;
	struct xlvs_config c;
	uint32_t i;
	int err;

	memset(pool, 0, XLVS_SNAT_POOL_MAX * sizeof(*pool));
	err = xlvs_maps_get_config(m, &c);
	if (!err)
		err = dump_array(m->snat_pool, sizeof(*keys), XLVS_SNAT_POOL_MAX, (void **)&keys);
	/* only the slots the config counts are the pool: others are left from an earlier one */
	for (i = 0; !err && i < XLVS_SNAT_POOL_MAX; i++)
		if ((i >= c.snat4_first && i < c.snat4_first + c.snat4_count) ||
		    (i >= c.snat6_first && i < c.snat6_first + c.snat6_count))
			xlvs_addr_from_be(&pool[i], keys[i].family, keys[i].addr);
	free(keys);
	return err;
}

/* ---- counters ---- */

#define COUNTER_WORDS (sizeof(struct xlvs_counters) / sizeof(uint64_t))
_Static_assert(sizeof(struct xlvs_counters) % sizeof(uint64_t) == 0, "u64 words only");

/*
 * Ids [first, first + n) of a striped counter map (abi.h), every CPU's entry added up: n x nwords
 * __u64 words into out. One batch lookup per CPU's stripe (array_read()), into one buffer for all.
 */
static int stripes_sum(struct xlvs_maps *m, int fd, uint32_t stride, uint32_t first, uint32_t n,
		       uint64_t *out, uint32_t nwords)
{
	size_t i, words = (size_t)n * nwords;
	uint64_t *v;
	uint32_t *keys;
	int cpu, err;

	/* past the stride is the next CPU's stripe, not more ids */
	if (first > stride || n > stride - first)
		return -ERANGE;
	if (!n)
		return 0;
	v = malloc(words * sizeof(*v));
	keys = malloc(n * sizeof(*keys));
	err = v && keys ? 0 : -ENOMEM;
	memset(out, 0, words * sizeof(*out));
	for (cpu = 0; !err && cpu < m->ncpus; cpu++) {
		err = array_read(fd, nwords * sizeof(*v), xlvs_stripe_key(cpu, stride, first), n, v, keys, n);
		for (i = 0; !err && i < words; i++)
			out[i] += v[i];
	}
	free(v);
	free(keys);
	return err;
}

int xlvs_svc_counters_range(struct xlvs_maps *m, uint32_t first, uint32_t n, struct xlvs_counters *out)
{
	return stripes_sum(m, m->svc_stats, XLVS_SVC_STATS_STRIDE, first, n, (uint64_t *)out, COUNTER_WORDS);
}

int xlvs_real_counters_range(struct xlvs_maps *m, uint32_t first, uint32_t n, struct xlvs_counters *out)
{
	return stripes_sum(m, m->real_stats, XLVS_REAL_STATS_STRIDE, first, n, (uint64_t *)out,
			   COUNTER_WORDS);
}

int xlvs_svc_out_counters_range(struct xlvs_maps *m, uint32_t first, uint32_t n, struct xlvs_counters *out)
{
	return stripes_sum(m, m->svc_out, XLVS_SVC_STATS_STRIDE, first, n, (uint64_t *)out, COUNTER_WORDS);
}

int xlvs_real_out_counters_range(struct xlvs_maps *m, uint32_t first, uint32_t n, struct xlvs_counters *out)
{
	return stripes_sum(m, m->real_out, XLVS_REAL_STATS_STRIDE, first, n, (uint64_t *)out, COUNTER_WORDS);
}

int xlvs_svc_counters(struct xlvs_maps *m, uint32_t svc_id, struct xlvs_counters *c)
{
	return xlvs_svc_counters_range(m, svc_id, 1, c);
}

int xlvs_real_counters(struct xlvs_maps *m, uint32_t real_id, struct xlvs_counters *c)
{
	return xlvs_real_counters_range(m, real_id, 1, c);
}

int xlvs_svc_out_counters(struct xlvs_maps *m, uint32_t svc_id, struct xlvs_counters *c)
{
	return xlvs_svc_out_counters_range(m, svc_id, 1, c);
}

int xlvs_real_out_counters(struct xlvs_maps *m, uint32_t real_id, struct xlvs_counters *c)
{
	return xlvs_real_out_counters_range(m, real_id, 1, c);
}

int xlvs_drop_counters(struct xlvs_maps *m, uint64_t *out)
{
	return stripes_sum(m, m->drops, XLVS_DROP_SLOTS, 0, XLVS_DROP_MAX, out, 1);
}

int xlvs_event_counters(struct xlvs_maps *m, uint64_t *out)
{
	return stripes_sum(m, m->events, XLVS_EV_SLOTS, 0, XLVS_EV_MAX, out, 1);
}

/* A counter incremented meanwhile on a CPU may survive or be lost: zeroing is an operator's reset,
 * not an exact cut. */
static int counters_zero(struct xlvs_maps *m, int fd, uint32_t stride, uint32_t vsz, const uint32_t *ids,
			 uint32_t n)
{
	void *zero = calloc(n ? n : 1, vsz);
	uint32_t *keys = calloc(n ? n : 1, sizeof(*keys));
	uint32_t cpu, i;
	int err = zero && keys ? 0 : -ENOMEM;

	for (i = 0; !err && i < n; i++)
		err = ids[i] < stride ? 0 : -ENOENT;
	for (cpu = 0; !err && cpu < (uint32_t)m->ncpus; cpu++) {
		for (i = 0; i < n; i++)
			keys[i] = xlvs_stripe_key(cpu, stride, ids[i]);
		err = map_update_many(fd, keys, zero, n, sizeof(*keys), vsz);
	}
	free(zero);
	free(keys);
	return err;
}

int svc_counters_zero(struct xlvs_maps *m, const uint32_t *ids, uint32_t n)
{
	int err = counters_zero(m, m->svc_stats, XLVS_SVC_STATS_STRIDE, sizeof(struct xlvs_counters), ids, n);

	return err ? err
		   : counters_zero(m, m->svc_out, XLVS_SVC_STATS_STRIDE, sizeof(struct xlvs_counters), ids,
				   n);
}

int real_counters_zero(struct xlvs_maps *m, const uint32_t *ids, uint32_t n)
{
	int err = counters_zero(m, m->real_stats, XLVS_REAL_STATS_STRIDE, sizeof(struct xlvs_counters), ids,
				n);

	return err ? err
		   : counters_zero(m, m->real_out, XLVS_REAL_STATS_STRIDE, sizeof(struct xlvs_counters), ids,
				   n);
}

int xlvs_svc_counters_zero(struct xlvs_maps *m, uint32_t svc_id)
{
	return svc_counters_zero(m, &svc_id, 1);
}

int xlvs_real_counters_zero(struct xlvs_maps *m, uint32_t real_id)
{
	return real_counters_zero(m, &real_id, 1);
}

int xlvs_drop_event_counters_zero(struct xlvs_maps *m)
{
	uint32_t ids[XLVS_DROP_SLOTS > XLVS_EV_SLOTS ? XLVS_DROP_SLOTS : XLVS_EV_SLOTS], i;
	int err;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		ids[i] = i;
	err = counters_zero(m, m->drops, XLVS_DROP_SLOTS, sizeof(uint64_t), ids, XLVS_DROP_MAX);
	return err ? err : counters_zero(m, m->events, XLVS_EV_SLOTS, sizeof(uint64_t), ids, XLVS_EV_MAX);
}

/* ---- connection table ---- */

#define CONN_CHUNK 4096 /* entries per batch lookup */

int xlvs_conns_foreach(struct xlvs_maps *m, xlvs_conn_cb cb, void *ctx)
{
	struct xlvs_flow *keys = malloc(CONN_CHUNK * sizeof(*keys));
	struct xlvs_conn *vals = malloc(CONN_CHUNK * sizeof(*vals));
	struct map_iter it;
	int i, n, ret = -ENOMEM;

	if (!keys || !vals)
		goto out;
	map_iter_init(&it, m->conns, sizeof(*keys), sizeof(*vals));
	while ((n = map_iter_read(&it, keys, vals, CONN_CHUNK)) > 0) {
		for (i = 0; i < n; i++) {
			ret = cb(&keys[i], &vals[i], ctx);
			if (ret)
				goto out;
		}
	}
	ret = n; /* 0 at the end, or -errno */
out:
	free(keys);
	free(vals);
	return ret;
}

/* r0 = bpf_jiffies64(); exit: BPF_PROG_RUN returns its low 32 bits. */
static int jiffies_prog(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_jiffies64 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "xlvs_jiffies", "GPL", insns, 2, NULL);
}

int xlvs_jiffies_read(struct xlvs_jiffies *j)
{
	char pkt[64] = { 0 }; /* a socket filter test run wants an Ethernet frame */
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = pkt, .data_size_in = sizeof(pkt));
	struct timespec tick;
	int fd, err;

	/* The coarse clocks advance once per tick: their resolution is 1e9 / HZ. */
	if (clock_getres(CLOCK_MONOTONIC_COARSE, &tick))
		return -errno;
	j->tick_ns = (uint64_t)tick.tv_sec * 1000000000ull + tick.tv_nsec;
	fd = jiffies_prog();
	if (fd < 0)
		return fd;
	err = bpf_prog_test_run_opts(fd, &run);
	close(fd);
	j->now = run.retval;
	return err;
}

int xlvs_hz(uint32_t *hz)
{
	struct timespec tick;

	/* The coarse clocks' resolution is one tick, TICK_NSEC = (1e9 + HZ / 2) / HZ. */
	if (clock_getres(CLOCK_MONOTONIC_COARSE, &tick))
		return -errno;
	if (tick.tv_sec || !tick.tv_nsec)
		return -ERANGE;
	*hz = (uint32_t)((1000000000ull + tick.tv_nsec / 2) / tick.tv_nsec);
	return 0;
}

uint64_t xlvs_conn_idle_ns(const struct xlvs_jiffies *j, uint32_t last_seen)
{
	uint32_t ticks = j->now - last_seen;

	/* A "negative" age: the entry was refreshed after j was read. */
	return ticks > INT32_MAX ? 0 : ticks * j->tick_ns;
}
