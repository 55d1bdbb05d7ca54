// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for libxlvsmaps against real maps: each test loads the director's
 * skeleton (nothing pinned, nothing attached), takes its maps with
 * xlvs_maps_from_obj() and checks what the library wrote with plain bpf(2)
 * reads, never with the library's own readers. Needs root.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xlvs/hash.h>

#include "helpers.h"
#include "xlvs_lb.skel.h"
#include "xlvsmaps.h"

#define RING_SLOTS 16384
#define SMALL	   1021 /* ring size of most test services */
#define KEY_LEN	   19	/* a real's Maglev key: family, address, port */
#define NONE	   UINT32_MAX

struct world {
	struct xlvs_lb_bpf *skel;
	struct xlvs_maps m;
	uint32_t ring_slots;
};

static struct world W;

static void world_load_conns(struct world *w, uint32_t ring_slots, uint32_t conns)
{
	w->skel = unit_director_load(conns, ring_slots, &w->m);
	w->ring_slots = ring_slots;
}

static void world_load(struct world *w, uint32_t ring_slots)
{
	world_load_conns(w, ring_slots, 4096);
}

static void world_unload(struct world *w)
{
	xlvs_maps_close(&w->m);
	xlvs_lb_bpf__destroy(w->skel);
	w->skel = NULL;
}

static void setup(void)
{
	world_load(&W, RING_SLOTS);
}

static void teardown(void)
{
	world_unload(&W);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- building specs ---- */

static struct xlvs_addr addr_of(const char *text)
{
	struct xlvs_addr a;

	cr_assert_eq(xlvs_addr_parse(text, &a), 0, "%s", text);
	return a;
}

/* Appends a service (TUN, Maglev); pointers into s->services move with it. */
static struct xlvs_svc_spec *add_svc(struct xlvs_spec *s, const char *vip, uint8_t proto, uint16_t port,
				     uint32_t ring)
{
	struct xlvs_svc_spec *sv;

	s->services = realloc(s->services, (s->nr_services + 1) * sizeof(*sv));
	cr_assert_not_null(s->services);
	sv = &s->services[s->nr_services++];
	memset(sv, 0, sizeof(*sv));
	sv->vip = addr_of(vip);
	sv->proto = proto;
	sv->port = port;
	sv->sched = XLVS_SCHED_MAGLEV;
	sv->fwd = XLVS_FWD_TUN;
	sv->ring_size = ring;
	return sv;
}

static struct xlvs_real_spec *add_real(struct xlvs_svc_spec *sv, const char *addr, uint32_t weight)
{
	struct xlvs_real_spec *r;

	sv->reals = realloc(sv->reals, (sv->nr_reals + 1) * sizeof(*r));
	cr_assert_not_null(sv->reals);
	r = &sv->reals[sv->nr_reals++];
	memset(r, 0, sizeof(*r));
	r->addr = addr_of(addr);
	r->port = sv->port;
	r->weight = weight;
	r->fwd = sv->fwd;
	return r;
}

static void del_real(struct xlvs_svc_spec *sv, size_t i)
{
	memmove(&sv->reals[i], &sv->reals[i + 1], (--sv->nr_reals - i) * sizeof(sv->reals[0]));
}

static void del_svc(struct xlvs_spec *s, size_t i)
{
	free(s->services[i].reals);
	memmove(&s->services[i], &s->services[i + 1], (--s->nr_services - i) * sizeof(s->services[0]));
}

static void spec_copy(struct xlvs_spec *d, const struct xlvs_spec *s)
{
	size_t i, n;

	*d = *s;
	d->services = malloc((s->nr_services + 1) * sizeof(*d->services));
	cr_assert_not_null(d->services);
	for (i = 0; i < s->nr_services; i++) {
		d->services[i] = s->services[i];
		n = s->services[i].nr_reals;
		d->services[i].reals = malloc((n + 1) * sizeof(*d->services[i].reals));
		cr_assert_not_null(d->services[i].reals);
		memcpy(d->services[i].reals, s->services[i].reals, n * sizeof(*s->services[i].reals));
	}
}

/* Three services on two VIPs, both families, per-real methods and GUE port. */
static void std_spec(struct xlvs_spec *s)
{
	struct xlvs_svc_spec *sv;
	struct xlvs_real_spec *r;

	memset(s, 0, sizeof(*s));
	sv = add_svc(s, "198.18.0.10", IPPROTO_TCP, 80, SMALL);
	sv->flags = XLVS_SVC_F_ECHO;
	add_real(sv, "198.18.1.1", 1);
	add_real(sv, "198.18.1.2", 2);
	add_real(sv, "198.18.1.3", 1);
	sv = add_svc(s, "198.18.0.10", IPPROTO_UDP, 53, SMALL);
	sv->fwd = XLVS_FWD_DR;
	add_real(sv, "198.18.1.1", 1)->fwd = XLVS_FWD_DR;
	add_real(sv, "198.18.1.4", 1)->fwd = XLVS_FWD_DR;
	sv = add_svc(s, "2001:db8::10", IPPROTO_TCP, 0, 2039);
	sv->fwd = XLVS_FWD_GUE;
	sv->sched = XLVS_SCHED_MH;
	r = add_real(sv, "2001:db8:1::1", 3);
	r->gue_port = 7777;
	add_real(sv, "198.18.2.1", 1)->fwd = XLVS_FWD_TUN;
}

static size_t spec_reals(const struct xlvs_spec *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->nr_services; i++)
		n += s->services[i].nr_reals;
	return n;
}

static struct xlvs_apply_stats apply_ok(struct world *w, const struct xlvs_spec *s)
{
	struct xlvs_apply_stats st;
	int err = xlvs_apply(&w->m, s, &st);

	cr_assert_eq(err, 0, "xlvs_apply: %s", strerror(-err));
	return st;
}

static void expect_stats(const struct xlvs_apply_stats *got, struct xlvs_apply_stats want)
{
	cr_expect_eq(memcmp(got, &want, sizeof(want)), 0,
		     "apply stats: services +%u ~%u -%u reals %u/-%u slots %u vips %u/-%u filter %u, "
		     "want +%u ~%u -%u reals %u/-%u slots %u vips %u/-%u filter %u",
		     got->services_added, got->services_updated, got->services_removed, got->reals_written,
		     got->reals_removed, got->ring_slots_written, got->vips_written, got->vips_removed,
		     got->vip_filter_written, want.services_added, want.services_updated,
		     want.services_removed, want.reals_written, want.reals_removed, want.ring_slots_written,
		     want.vips_written, want.vips_removed, want.vip_filter_written);
}

/* ---- reading the maps with plain bpf(2) ---- */

/* n entries of an array map by index, with libbpf's batch lookup. */
static void *array_read(int fd, uint32_t n, size_t vsz)
{
	char *vals = malloc(n * vsz + 1);
	uint32_t *keys = malloc(n * sizeof(*keys) + 1), got = 0, tok = 0, cnt;
	int err = 0;

	cr_assert(vals && keys);
	while (got < n && !err) {
		cnt = n - got;
		err = bpf_map_lookup_batch(fd, got ? &tok : NULL, &tok, keys + got, vals + got * vsz, &cnt,
					   NULL);
		got += cnt;
	}
	cr_assert_eq(got, n, "array read: %u of %u (%d)", got, n, err);
	free(keys);
	return vals;
}

static struct xlvs_real *read_reals(struct world *w)
{
	return array_read(w->m.reals, XLVS_MAX_REALS, sizeof(struct xlvs_real));
}

static struct xlvs_real get_real(struct world *w, uint32_t id)
{
	struct xlvs_real r;

	cr_assert_eq(bpf_map_lookup_elem(w->m.reals, &id, &r), 0);
	return r;
}

static void put_real(struct world *w, uint32_t id, const struct xlvs_real *r)
{
	cr_assert_eq(bpf_map_update_elem(w->m.reals, &id, r, BPF_ANY), 0);
}

/* The slots' owners: a ring-state service's changed slots carry XLVS_SLOT_CHANGED (test_ringstate.c). */
static uint32_t *read_ring(struct world *w, uint32_t base, uint32_t size)
{
	uint32_t *ring = malloc(size * sizeof(*ring)), i;

	cr_assert_not_null(ring);
	cr_assert_eq(xlvs_ring_read(w->m.ring, base, size, ring), 0);
	for (i = 0; i < size; i++)
		ring[i] = xlvs_slot_real(ring[i]);
	return ring;
}

static struct xlvs_svc_key svc_key(const struct xlvs_svc_spec *sv)
{
	struct xlvs_svc_key k;

	memset(&k, 0, sizeof(k));
	memcpy(k.addr, sv->vip.be, sv->vip.family == XLVS_AF_INET6 ? 16 : 4);
	k.port = htons(sv->port);
	k.proto = sv->proto;
	k.family = sv->vip.family;
	return k;
}

static bool get_svc(struct world *w, const struct xlvs_svc_spec *sv, struct xlvs_service *out)
{
	struct xlvs_svc_key k = svc_key(sv);

	return bpf_map_lookup_elem(w->m.services, &k, out) == 0;
}

static struct xlvs_service svc_entry(struct world *w, const struct xlvs_svc_spec *sv)
{
	struct xlvs_service e;

	cr_assert(get_svc(w, sv, &e), "service %u missing", sv->port);
	return e;
}

static uint32_t map_count(int fd, size_t ksz)
{
	char key[64], next[64];
	uint32_t n = 0;

	cr_assert(ksz <= sizeof(key));
	while (!bpf_map_get_next_key(fd, n ? key : NULL, next)) {
		memcpy(key, next, ksz);
		n++;
	}
	return n;
}

static bool same_addr(const struct xlvs_real *r, const struct xlvs_addr *a)
{
	size_t len = a->family == XLVS_AF_INET6 ? 16 : 4;
	static const char zero[16];

	return r->family == a->family && !memcmp(r->addr, a->be, len) &&
	       !memcmp((char *)r->addr + len, zero, 16 - len);
}

/* Id of the ACTIVE real of service svc_id at address text; NONE if none. */
static uint32_t find_real(const struct xlvs_real *reals, uint32_t svc_id, const struct xlvs_addr *a)
{
	uint32_t id, found = NONE;

	for (id = 0; id < XLVS_MAX_REALS; id++) {
		if (!(reals[id].flags & XLVS_REAL_F_ACTIVE) || reals[id].svc_id != svc_id ||
		    !same_addr(&reals[id], a))
			continue;
		cr_assert_eq(found, NONE, "real listed twice: %u and %u", found, id);
		found = id;
	}
	return found;
}

static uint32_t first_inactive(struct world *w)
{
	struct xlvs_real *reals = read_reals(w);
	uint32_t id = 0;

	while (id < XLVS_MAX_REALS && reals[id].flags & XLVS_REAL_F_ACTIVE)
		id++;
	free(reals);
	return id;
}

static uint32_t real_id(struct world *w, const struct xlvs_svc_spec *sv, const char *addr)
{
	struct xlvs_real *reals = read_reals(w);
	struct xlvs_addr a = addr_of(addr);
	uint32_t id = find_real(reals, svc_entry(w, sv).id, &a);

	free(reals);
	return id;
}

/* ---- what the maps must hold for a spec ---- */

/* The cross-director contract: Maglev over (family, address, service port). */
static void expect_ring(struct world *w, const struct xlvs_svc_spec *sv, const struct xlvs_service *e,
			const struct xlvs_real *reals)
{
	uint8_t(*keys)[KEY_LEN] = calloc(sv->nr_reals + 1, KEY_LEN);
	struct xlvs_maglev_backend *b = calloc(sv->nr_reals + 1, sizeof(*b));
	uint32_t *want = malloc(e->ring_size * sizeof(*want)), *got;
	__be16 port = htons(sv->port);
	size_t i;

	cr_assert(keys && b && want);
	for (i = 0; i < sv->nr_reals; i++) {
		keys[i][0] = sv->reals[i].addr.family;
		memcpy(&keys[i][1], sv->reals[i].addr.be, 16);
		memcpy(&keys[i][17], &port, 2);
		b[i].real_id = find_real(reals, e->id, &sv->reals[i].addr);
		b[i].weight = sv->reals[i].weight;
		b[i].key = keys[i];
		b[i].key_len = KEY_LEN;
	}
	cr_assert_eq(xlvs_maglev_build(want, e->ring_size, b, sv->nr_reals), 0);
	got = read_ring(w, e->ring_base, e->ring_size);
	cr_expect_eq(memcmp(got, want, e->ring_size * sizeof(*want)), 0,
		     "ring of service port %u differs from the spec's", sv->port);
	free(got);
	free(want);
	free(b);
	free(keys);
}

static void expect_real(const struct xlvs_real *r, const struct xlvs_svc_spec *sv,
			const struct xlvs_real_spec *rs, uint32_t svc_id)
{
	cr_expect(same_addr(r, &rs->addr));
	cr_expect_eq(r->fwd, rs->fwd);
	cr_expect(r->flags & XLVS_REAL_F_ACTIVE);
	cr_expect_eq(r->svc_id, svc_id);
	cr_expect_eq(r->gue_port, htons(rs->gue_port));
	cr_expect_eq(r->weight, rs->weight);
	cr_expect_eq(r->pad, 0);
	cr_expect_eq(r->port, 0); /* dr, tun, gue: the packet keeps its port */
}

static void expect_vips(struct world *w, const struct xlvs_spec *s)
{
	struct xlvs_vip_key k;
	struct xlvs_vip v;
	uint32_t flags, nr, nvips = 0;
	size_t i, j;

	for (i = 0; i < s->nr_services; i++) {
		flags = nr = 0;
		for (j = 0; j < s->nr_services; j++) {
			if (memcmp(&s->services[j].vip, &s->services[i].vip, sizeof(struct xlvs_addr)))
				continue;
			if (j < i)
				break; /* counted with its first service */
			nr++;
			if (s->services[j].flags & XLVS_SVC_F_ECHO)
				flags |= XLVS_VIP_F_ECHO;
		}
		if (!nr)
			continue;
		nvips++;
		memset(&k, 0, sizeof(k));
		memcpy(k.addr, svc_key(&s->services[i]).addr, sizeof(k.addr));
		k.family = s->services[i].vip.family;
		cr_assert_eq(bpf_map_lookup_elem(w->m.vips, &k, &v), 0, "VIP missing");
		cr_expect_eq(v.flags, flags);
		cr_expect_eq(v.nr_services, nr);
	}
	cr_expect_eq(map_count(w->m.vips, sizeof(k)), nvips, "VIPs beyond the spec's");
}

static uint64_t *want_filter(const struct xlvs_spec *s)
{
	uint64_t *f = calloc(XLVS_VIP_FILTER_WORDS, sizeof(*f));
	struct xlvs_svc_key k;
	uint32_t bit;
	size_t i;

	cr_assert_not_null(f);
	for (i = 0; i < s->nr_services; i++) {
		k = svc_key(&s->services[i]);
		bit = xlvs_addr_hash(k.addr, k.family) % XLVS_VIP_FILTER_BITS;
		f[bit / 64] |= 1ull << (bit % 64);
	}
	return f;
}

static void expect_filter(struct world *w, const struct xlvs_spec *s)
{
	uint64_t *want = want_filter(s);
	uint64_t *got = array_read(w->m.vip_filter, XLVS_VIP_FILTER_WORDS, sizeof(*got));

	cr_expect_eq(memcmp(got, want, XLVS_VIP_FILTER_WORDS * sizeof(*got)), 0,
		     "VIP filter bits differ from the spec's VIPs");
	free(want);
	free(got);
}

/* Slices inside the ring map and disjoint; ids in range and unique. */
static void expect_layout(struct world *w, const struct xlvs_service *e, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		cr_expect_lt(e[i].id, XLVS_MAX_SERVICES);
		cr_expect_leq(e[i].ring_base + e[i].ring_size, w->ring_slots);
		for (j = 0; j < i; j++) {
			cr_expect_neq(e[i].id, e[j].id);
			cr_expect(e[i].ring_base >= e[j].ring_base + e[j].ring_size ||
					  e[j].ring_base >= e[i].ring_base + e[i].ring_size,
				  "slices overlap");
		}
	}
}

/* The maps hold exactly s: every field of every entry, rings, VIPs, filter. */
static void expect_maps(struct world *w, const struct xlvs_spec *s)
{
	struct xlvs_service *e = calloc(s->nr_services + 1, sizeof(*e));
	struct xlvs_real *reals = read_reals(w);
	const struct xlvs_svc_spec *sv;
	uint32_t id, active = 0;
	size_t i, j;

	cr_assert_not_null(e);
	cr_expect_eq(map_count(w->m.services, sizeof(struct xlvs_svc_key)), s->nr_services);
	for (i = 0; i < s->nr_services; i++) {
		sv = &s->services[i];
		e[i] = svc_entry(w, sv);
		cr_expect_eq(e[i].ring_size, sv->ring_size ? sv->ring_size : XLVS_RING_DEFAULT);
		/* RING_STATE is the planner's (test_ringstate.c) */
		cr_expect_eq(e[i].flags & ~XLVS_SVC_F_RING_STATE, sv->flags);
		cr_expect_eq(e[i].sched, sv->sched);
		cr_expect_eq(e[i].sched_len, 0);
		for (j = 0; j < sv->nr_reals; j++) {
			id = find_real(reals, e[i].id, &sv->reals[j].addr);
			cr_assert_neq(id, NONE, "real %zu of service %zu missing", j, i);
			expect_real(&reals[id], sv, &sv->reals[j], e[i].id);
		}
		expect_ring(w, sv, &e[i], reals);
	}
	expect_layout(w, e, s->nr_services);
	for (id = 0; id < XLVS_MAX_REALS; id++)
		active += !!(reals[id].flags & XLVS_REAL_F_ACTIVE);
	cr_expect_eq(active, spec_reals(s), "ACTIVE reals beyond the spec's");
	expect_vips(w, s);
	expect_filter(w, s);
	free(reals);
	free(e);
}

/* ---- whole-map snapshots, to prove that nothing was written ---- */

struct dump {
	struct xlvs_real *reals;
	uint32_t *ring;
	uint64_t *filter;
	uint32_t nsvc, nvip;
	struct {
		struct xlvs_svc_key k;
		struct xlvs_service v;
	} svc[64];
	struct {
		struct xlvs_vip_key k;
		struct xlvs_vip v;
	} vip[64];
};

#define DUMP_HASH(fd, arr, n)                                                                                \
	do {                                                                                                 \
		while ((n) < 64 && !bpf_map_get_next_key(fd, (n) ? &arr[(n)-1].k : NULL, &arr[n].k)) {       \
			cr_assert_eq(bpf_map_lookup_elem(fd, &arr[n].k, &arr[n].v), 0);                      \
			(n)++;                                                                               \
		}                                                                                            \
	} while (0)

static int svc_rec_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct xlvs_svc_key));
}

static int vip_rec_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct xlvs_vip_key));
}

static void dump_take(struct world *w, struct dump *d)
{
	memset(d, 0, sizeof(*d));
	d->reals = read_reals(w);
	d->ring = malloc(w->ring_slots * sizeof(*d->ring));
	cr_assert_not_null(d->ring);
	cr_assert_eq(xlvs_ring_read(w->m.ring, 0, w->ring_slots, d->ring), 0);
	d->filter = array_read(w->m.vip_filter, XLVS_VIP_FILTER_WORDS, sizeof(uint64_t));
	DUMP_HASH(w->m.services, d->svc, d->nsvc);
	DUMP_HASH(w->m.vips, d->vip, d->nvip);
	/* each hash map has its own seed: compare in key order */
	qsort(d->svc, d->nsvc, sizeof(d->svc[0]), svc_rec_cmp);
	qsort(d->vip, d->nvip, sizeof(d->vip[0]), vip_rec_cmp);
}

static void dump_free(struct dump *d)
{
	free(d->reals);
	free(d->ring);
	free(d->filter);
}

static void expect_same(const struct dump *a, const struct dump *b, const char *what)
{
	cr_expect_eq(memcmp(a->reals, b->reals, XLVS_MAX_REALS * sizeof(*a->reals)), 0, "%s: reals changed",
		     what);
	cr_expect_eq(memcmp(a->ring, b->ring, W.ring_slots * sizeof(*a->ring)), 0, "%s: ring changed", what);
	cr_expect_eq(memcmp(a->filter, b->filter, XLVS_VIP_FILTER_WORDS * sizeof(*a->filter)), 0,
		     "%s: VIP filter changed", what);
	cr_expect(a->nsvc == b->nsvc && !memcmp(a->svc, b->svc, sizeof(a->svc)), "%s: services changed",
		  what);
	cr_expect(a->nvip == b->nvip && !memcmp(a->vip, b->vip, sizeof(a->vip)), "%s: VIPs changed", what);
}

/* ---- opening ---- */

Test(open, from_obj_takes_every_map_and_its_sizes, .init = setup, .fini = teardown)
{
	struct xlvs_maps *m = &W.m;
	int fds[] = { m->services,  m->vips,	   m->reals,   m->ring,	   m->conns,
		      m->svc_stats, m->real_stats, m->drops,   m->events,  m->syn_guard,
		      m->config,    m->vip_filter, m->svc_out, m->real_out };
	size_t i, j;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		cr_expect_geq(fds[i], 0, "map %zu not open", i);
		for (j = 0; j < i; j++)
			cr_expect_neq(fds[i], fds[j]);
	}
	cr_expect_eq(m->ring_slots, RING_SLOTS);
	cr_expect_eq(m->conn_entries, 4096);
	cr_expect_eq(m->ncpus, libbpf_num_possible_cpus());
	/* dup'ed: the maps outlive the object */
	xlvs_lb_bpf__destroy(W.skel);
	W.skel = NULL;
	cr_expect_eq(xlvs_maps_set_global(m, &(struct xlvs_global_spec){ .gue_port = 1 }), 0);
}

Test(open, from_unloaded_obj_fails)
{
	struct xlvs_lb_bpf *skel = xlvs_lb_bpf__open();
	struct xlvs_maps m;

	cr_assert_not_null(skel);
	cr_expect_lt(xlvs_maps_from_obj(&m, skel->obj), 0);
	cr_expect_eq(m.services, -1, "fds reset on failure");
	cr_expect_eq(m.vip_filter, -1);
	xlvs_lb_bpf__destroy(skel);
}

/* A private bpffs in a private mount namespace: the pins vanish with the test. */
static void private_bpffs(char *dir)
{
	strcpy(dir, "/tmp/xlvs-maps-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(unshare(CLONE_NEWNS), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	cr_assert_eq(mount("bpf", dir, "bpf", 0, NULL), 0, "mount bpffs: %s", strerror(errno));
}

static void pin_all(struct world *w, const char *dir)
{
	struct bpf_map *map;
	char path[256];

	bpf_object__for_each_map (map, w->skel->obj) {
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(map));
		cr_assert_eq(bpf_map__pin(map, path), 0, "pin %s", path);
	}
}

/* Replace the pin of `name` with a fresh map of that shape. */
static void repin(const char *dir, const char *name, enum bpf_map_type type, uint32_t ksz, uint32_t vsz,
		  uint32_t entries)
{
	char path[256];
	int fd = bpf_map_create(type, name, ksz, vsz, entries, NULL);

	cr_assert_geq(fd, 0);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(bpf_obj_pin(fd, path), 0);
	close(fd);
}

Test(open, pinned_maps_and_stale_pins, .init = setup, .fini = teardown)
{
	struct xlvs_maps m;
	struct xlvs_config cfg;
	char dir[64], path[256];
	int err;

	private_bpffs(dir);
	pin_all(&W, dir);
	err = xlvs_maps_open(&m, dir);
	cr_assert_eq(err, 0, "open: %s", strerror(-err));
	cr_expect_eq(m.ring_slots, RING_SLOTS);
	cr_expect_eq(m.conn_entries, 4096);
	/* the same maps: written through one, read through the other */
	cr_assert_eq(xlvs_maps_set_global(&W.m, &(struct xlvs_global_spec){ .tun_mtu = 1400 }), 0);
	cr_assert_eq(xlvs_maps_get_config(&m, &cfg), 0);
	cr_expect_eq(cfg.tun_mtu, 1400);
	xlvs_maps_close(&m);
	cr_expect_eq(m.reals, -1);

	repin(dir, "xlvs_reals", BPF_MAP_TYPE_ARRAY, 4, sizeof(struct xlvs_real) + 8, XLVS_MAX_REALS);
	cr_expect_eq(xlvs_maps_open(&m, dir), -EPROTO, "value size");
	cr_expect_eq(m.services, -1, "fds reset on failure");
	cr_expect_str_eq(m.failed, "xlvs_reals", "the refused map is named");
	repin(dir, "xlvs_reals", BPF_MAP_TYPE_HASH, 4, sizeof(struct xlvs_real), XLVS_MAX_REALS);
	cr_expect_eq(xlvs_maps_open(&m, dir), -EPROTO, "type");
	repin(dir, "xlvs_reals", BPF_MAP_TYPE_ARRAY, 4, sizeof(struct xlvs_real), 1024);
	cr_expect_eq(xlvs_maps_open(&m, dir), -EPROTO, "max_entries of a fixed map");
	repin(dir, "xlvs_reals", BPF_MAP_TYPE_ARRAY, 4, sizeof(struct xlvs_real), XLVS_MAX_REALS);
	repin(dir, "xlvs_ring", BPF_MAP_TYPE_ARRAY, 4, 4, 4099);
	cr_expect_eq(xlvs_maps_open(&m, dir), -EPROTO, "a ring of one slot per entry (before blocks)");
	repin(dir, "xlvs_ring", BPF_MAP_TYPE_ARRAY, 4, sizeof(struct xlvs_ring_block), 257);
	cr_assert_eq(xlvs_maps_open(&m, dir), 0, "the loader sizes the ring");
	cr_expect_str_eq(m.failed, "", "no failed map after a failed open");
	cr_expect_eq(m.ring_slots, 4112, "257 blocks of 16 slots");
	xlvs_maps_close(&m);
	snprintf(path, sizeof(path), "%s/xlvs_vip_filter", dir);
	cr_assert_eq(unlink(path), 0);
	cr_expect_eq(xlvs_maps_open(&m, dir), -ENOENT, "a missing map");
	cr_expect_str_eq(m.failed, "xlvs_vip_filter", "the missing map is named");
	umount(dir);
	rmdir(dir);
}

/* ---- applying ---- */

TestSuite(apply, .init = setup, .fini = teardown);

Test(apply, from_empty_writes_exactly_the_spec)
{
	struct xlvs_spec s;
	struct xlvs_apply_stats st;
	uint64_t *f;
	uint32_t i, words = 0;

	std_spec(&s);
	st = apply_ok(&W, &s);
	f = want_filter(&s);
	for (i = 0; i < XLVS_VIP_FILTER_WORDS; i++)
		words += f[i] != 0;
	expect_stats(&st, (struct xlvs_apply_stats){ .services_added = 3,
						     .reals_written = 7,
						     .ring_slots_written = SMALL + SMALL + 2039,
						     .vips_written = 2,
						     .vip_filter_written = words });
	expect_maps(&W, &s);
	free(f);
	xlvs_spec_free(&s);
}

Test(apply, identical_spec_writes_nothing)
{
	struct xlvs_spec s, shuffled;
	struct xlvs_apply_stats st;
	struct xlvs_svc_spec t;
	struct dump a, b;

	std_spec(&s);
	apply_ok(&W, &s);
	dump_take(&W, &a);
	st = apply_ok(&W, &s);
	expect_stats(&st, (struct xlvs_apply_stats){ 0 });
	/* order in the spec means nothing */
	spec_copy(&shuffled, &s);
	t = shuffled.services[0];
	shuffled.services[0] = shuffled.services[2];
	shuffled.services[2] = t;
	del_real(&shuffled.services[2], 0);
	add_real(&shuffled.services[2], "198.18.1.1", 1);
	st = apply_ok(&W, &shuffled);
	expect_stats(&st, (struct xlvs_apply_stats){ 0 });
	dump_take(&W, &b);
	expect_same(&a, &b, "identical apply");
	dump_free(&a);
	dump_free(&b);
	xlvs_spec_free(&s);
	xlvs_spec_free(&shuffled);
}

Test(apply, weight_change_writes_only_that_rings_difference)
{
	struct xlvs_spec s;
	struct xlvs_apply_stats st;
	struct xlvs_service e, e2;
	uint32_t *old, *new, diff, id;

	std_spec(&s);
	apply_ok(&W, &s);
	e = svc_entry(&W, &s.services[0]);
	id = real_id(&W, &s.services[0], "198.18.1.2");
	old = read_ring(&W, e.ring_base, e.ring_size);
	s.services[0].reals[1].weight = 5;
	st = apply_ok(&W, &s);
	new = read_ring(&W, e.ring_base, e.ring_size);
	diff = xlvs_ring_diff(old, new, e.ring_size, NULL);
	cr_expect_gt(diff, 0);
	/* the real's entry carries its weight; nothing else is written */
	expect_stats(&st, (struct xlvs_apply_stats){ .reals_written = 1, .ring_slots_written = diff });
	e2 = svc_entry(&W, &s.services[0]);
	cr_expect_eq(memcmp(&e2, &e, sizeof(e)), 0);
	cr_expect_eq(real_id(&W, &s.services[0], "198.18.1.2"), id);
	cr_expect_eq(get_real(&W, id).weight, 5);
	expect_maps(&W, &s);
	free(old);
	free(new);
	xlvs_spec_free(&s);
}

Test(apply, add_real_writes_one_real_and_the_ring_diff)
{
	struct xlvs_spec s;
	struct xlvs_apply_stats st;
	struct xlvs_service e;
	uint32_t *old, *new, ids[3], i;
	const char *addrs[] = { "198.18.1.1", "198.18.1.2", "198.18.1.3" };

	std_spec(&s);
	apply_ok(&W, &s);
	e = svc_entry(&W, &s.services[0]);
	for (i = 0; i < 3; i++)
		ids[i] = real_id(&W, &s.services[0], addrs[i]);
	old = read_ring(&W, e.ring_base, e.ring_size);
	add_real(&s.services[0], "198.18.1.9", 1);
	st = apply_ok(&W, &s);
	new = read_ring(&W, e.ring_base, e.ring_size);
	expect_stats(&st, (struct xlvs_apply_stats){
				  .reals_written = 1,
				  .ring_slots_written = xlvs_ring_diff(old, new, e.ring_size, NULL) });
	cr_expect_gt(st.ring_slots_written, 0);
	for (i = 0; i < 3; i++)
		cr_expect_eq(real_id(&W, &s.services[0], addrs[i]), ids[i], "id of %s moved", addrs[i]);
	expect_maps(&W, &s);
	free(old);
	free(new);
	xlvs_spec_free(&s);
}

Test(apply, remove_real_leaves_the_ring_then_deactivates)
{
	struct xlvs_spec s;
	struct xlvs_apply_stats st;
	struct xlvs_service e;
	struct xlvs_real before, after;
	uint32_t *old, *new, id, i;

	std_spec(&s);
	apply_ok(&W, &s);
	e = svc_entry(&W, &s.services[0]);
	id = real_id(&W, &s.services[0], "198.18.1.2");
	before = get_real(&W, id);
	old = read_ring(&W, e.ring_base, e.ring_size);
	del_real(&s.services[0], 1);
	st = apply_ok(&W, &s);
	new = read_ring(&W, e.ring_base, e.ring_size);
	expect_stats(&st, (struct xlvs_apply_stats){
				  .reals_removed = 1,
				  .ring_slots_written = xlvs_ring_diff(old, new, e.ring_size, NULL) });
	for (i = 0; i < e.ring_size; i++)
		cr_assert_neq(new[i], id, "slot %u still names the removed real", i);
	after = get_real(&W, id);
	cr_expect_eq(after.flags & XLVS_REAL_F_ACTIVE, 0);
	/* only ACTIVE is cleared: listings and counters still know the real */
	after.flags |= XLVS_REAL_F_ACTIVE;
	cr_expect_eq(memcmp(&after, &before, sizeof(after)), 0);
	expect_maps(&W, &s);
	free(old);
	free(new);
	xlvs_spec_free(&s);
}

Test(apply, ring_resize_moves_to_a_new_slice_and_frees_the_old)
{
	struct xlvs_spec s;
	struct xlvs_apply_stats st;
	struct xlvs_service e, moved, taker;

	std_spec(&s);
	apply_ok(&W, &s);
	e = svc_entry(&W, &s.services[1]);
	s.services[1].ring_size = 2039;
	st = apply_ok(&W, &s);
	expect_stats(&st, (struct xlvs_apply_stats){ .services_updated = 1, .ring_slots_written = 2039 });
	moved = svc_entry(&W, &s.services[1]);
	cr_expect_eq(moved.id, e.id);
	cr_expect_eq(moved.ring_size, 2039);
	/* the old slice was still in use during the apply: the new one is elsewhere */
	cr_expect(moved.ring_base >= e.ring_base + e.ring_size || moved.ring_base + 2039 <= e.ring_base);
	expect_maps(&W, &s);
	/* a later service takes the freed slice (the first gap that fits) */
	add_real(add_svc(&s, "198.18.0.11", IPPROTO_TCP, 80, SMALL), "198.18.3.1", 1);
	apply_ok(&W, &s);
	taker = svc_entry(&W, &s.services[3]);
	cr_expect_eq(taker.ring_base, e.ring_base);
	expect_maps(&W, &s);
	xlvs_spec_free(&s);
}

Test(apply, delete_service_entry_vip_and_reals)
{
	const char *addrs[] = { "198.18.1.1", "198.18.1.4", "198.18.1.2" };
	struct xlvs_spec s;
	struct xlvs_apply_stats st;
	struct xlvs_svc_spec gone;
	struct xlvs_service e;
	uint32_t ids[3], i;

	std_spec(&s);
	apply_ok(&W, &s);
	ids[0] = real_id(&W, &s.services[1], addrs[0]);
	ids[1] = real_id(&W, &s.services[1], addrs[1]);
	ids[2] = real_id(&W, &s.services[0], addrs[2]);
	gone = s.services[1];
	gone.reals = NULL;
	del_svc(&s, 1);
	st = apply_ok(&W, &s);
	/* its VIP stays for the TCP service, now with one service */
	expect_stats(&st, (struct xlvs_apply_stats){
				  .services_removed = 1, .reals_removed = 2, .vips_written = 1 });
	cr_expect_not(get_svc(&W, &gone, &e));
	for (i = 0; i < 2; i++)
		cr_expect_eq(get_real(&W, ids[i]).flags & XLVS_REAL_F_ACTIVE, 0, "%s", addrs[i]);
	cr_expect(get_real(&W, ids[2]).flags & XLVS_REAL_F_ACTIVE);
	expect_maps(&W, &s);
	/* the last service of 198.18.0.10: the VIP and its filter bit go */
	del_svc(&s, 0);
	st = apply_ok(&W, &s);
	cr_expect_eq(st.services_removed, 1);
	cr_expect_eq(st.reals_removed, 3);
	cr_expect_eq(st.vips_removed, 1);
	cr_expect_eq(st.vips_written, 0);
	cr_expect_eq(st.vip_filter_written, 1);
	cr_expect_eq(get_real(&W, ids[2]).flags & XLVS_REAL_F_ACTIVE, 0);
	expect_maps(&W, &s);
	xlvs_spec_free(&s);
}

Test(apply, vip_echo_is_the_union_of_its_services)
{
	struct xlvs_spec s;
	struct xlvs_apply_stats st;

	std_spec(&s);
	s.services[0].flags = 0;
	s.services[1].flags = XLVS_SVC_F_ECHO;
	apply_ok(&W, &s);
	expect_maps(&W, &s); /* one of two services: echo */
	s.services[1].flags = 0;
	st = apply_ok(&W, &s);
	expect_stats(&st, (struct xlvs_apply_stats){ .services_updated = 1, .vips_written = 1 });
	expect_maps(&W, &s); /* none: no echo */
	s.services[2].flags = XLVS_SVC_F_ECHO;
	st = apply_ok(&W, &s);
	expect_stats(&st, (struct xlvs_apply_stats){ .services_updated = 1, .vips_written = 1 });
	expect_maps(&W, &s);
	xlvs_spec_free(&s);
}

/* A spec with a valid change in front of one bad thing. */
typedef void (*spoil_fn)(struct xlvs_spec *s);

static void spoil_dup_service(struct xlvs_spec *s)
{
	add_real(add_svc(s, "198.18.0.10", IPPROTO_TCP, 80, SMALL), "198.18.9.9", 1);
}

static void spoil_dup_real(struct xlvs_spec *s)
{
	add_real(&s->services[2], "2001:db8:1::1", 1);
}

static void spoil_same_address_other_port(struct xlvs_spec *s)
{
	add_real(&s->services[1], "198.18.1.4", 1)->port = 5353;
}

static void spoil_ring_not_prime(struct xlvs_spec *s)
{
	s->services[2].ring_size = 1000;
}

static void spoil_ring_too_big(struct xlvs_spec *s)
{
	s->services[2].ring_size = 16777259; /* a prime above XLVS_MAGLEV_MAX_SIZE */
}

static void spoil_vip_family(struct xlvs_spec *s)
{
	s->services[2].vip.family = 5;
}

static void spoil_vip_unspecified(struct xlvs_spec *s)
{
	add_svc(s, "0.0.0.0", IPPROTO_TCP, 80, SMALL);
}

static void spoil_proto(struct xlvs_spec *s)
{
	s->services[2].proto = IPPROTO_ICMP;
}

static void spoil_sched(struct xlvs_spec *s)
{
	s->services[2].sched = XLVS_SCHED_MAX;
}

static void spoil_real_fwd(struct xlvs_spec *s)
{
	s->services[2].reals[1].fwd = XLVS_FWD_MAX;
}

static void spoil_flags(struct xlvs_spec *s)
{
	s->services[2].flags = 1u << 7;
}

static void spoil_weight(struct xlvs_spec *s)
{
	s->services[2].reals[0].weight = XLVS_MAGLEV_MAX_WEIGHT + 1;
}

static void spoil_real_family(struct xlvs_spec *s)
{
	s->services[2].reals[0].addr.family = 0;
}

static void spoil_nat_family(struct xlvs_spec *s)
{
	add_real(&s->services[2], "198.18.1.7", 1)->fwd = XLVS_FWD_NAT; /* IPv4 real, IPv6 VIP */
}

static void spoil_fullnat_pool(struct xlvs_spec *s)
{
	s->global.nr_snat_pool = 1;
	s->global.snat_pool[0] = addr_of("198.18.0.201"); /* IPv4 only: the IPv6 real has none */
	add_real(&s->services[2], "2001:db8:1::7", 1)->fwd = XLVS_FWD_FULLNAT;
}

static void spoil_reals_null(struct xlvs_spec *s)
{
	add_svc(s, "198.18.0.12", IPPROTO_TCP, 80, SMALL)->nr_reals = 3;
}

static void spoil_ring_space(struct xlvs_spec *s)
{
	add_svc(s, "198.18.0.12", IPPROTO_TCP, 80, 12323); /* > 16384 - 4081 free */
}

static void spoil_services(struct xlvs_spec *s)
{
	s->services = realloc(s->services, (XLVS_MAX_SERVICES + 1) * sizeof(*s->services));
	cr_assert_not_null(s->services);
	memset(&s->services[s->nr_services], 0,
	       (XLVS_MAX_SERVICES + 1 - s->nr_services) * sizeof(*s->services));
	s->nr_services = XLVS_MAX_SERVICES + 1;
}

static void spoil_reals(struct xlvs_spec *s)
{
	struct xlvs_svc_spec *sv = &s->services[2];
	uint32_t i;

	sv->reals = realloc(sv->reals, (XLVS_MAX_REALS + 1) * sizeof(*sv->reals));
	cr_assert_not_null(sv->reals);
	for (i = 0; i <= XLVS_MAX_REALS; i++) {
		sv->reals[i] = sv->reals[0];
		sv->reals[i].addr.be[3] = htonl(i + 1);
	}
	sv->nr_reals = XLVS_MAX_REALS + 1;
}

Test(apply, invalid_spec_writes_nothing)
{
	static const struct {
		spoil_fn fn;
		int err;
		const char *what;
	} cases[] = {
		{ spoil_dup_service, -EINVAL, "same service twice" },
		{ spoil_dup_real, -EINVAL, "same real twice" },
		{ spoil_same_address_other_port, -EINVAL, "same address, other port" },
		{ spoil_ring_not_prime, -EINVAL, "ring size not prime" },
		{ spoil_ring_too_big, -EINVAL, "ring too big" },
		{ spoil_vip_family, -EINVAL, "VIP family" },
		{ spoil_vip_unspecified, -EINVAL, "unspecified VIP" },
		{ spoil_proto, -EINVAL, "protocol" },
		{ spoil_sched, -EINVAL, "scheduler" },
		{ spoil_real_fwd, -EINVAL, "forwarding method" },
		{ spoil_flags, -EINVAL, "unknown service flag" },
		{ spoil_weight, -EINVAL, "weight" },
		{ spoil_real_family, -EINVAL, "real family" },
		{ spoil_nat_family, -EINVAL, "nat real of another family than its VIP" },
		{ spoil_fullnat_pool, -EINVAL, "fullnat real without a pool address of its family" },
		{ spoil_reals_null, -EINVAL, "reals missing" },
		{ spoil_ring_space, -ENOSPC, "ring space" },
		{ spoil_services, -ENOSPC, "too many services" },
		{ spoil_reals, -ENOSPC, "too many reals" },
	};
	struct xlvs_spec s, bad;
	struct xlvs_apply_stats st;
	struct dump a, b;
	size_t i;
	int err;

	std_spec(&s);
	apply_ok(&W, &s);
	dump_take(&W, &a);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		spec_copy(&bad, &s);
		bad.services[0].reals[0].weight = 7; /* would be written */
		del_real(&bad.services[1], 0);	     /* would be removed */
		cases[i].fn(&bad);
		err = xlvs_apply(&W.m, &bad, &st);
		cr_expect_eq(err, cases[i].err, "%s: %d", cases[i].what, err);
		expect_stats(&st, (struct xlvs_apply_stats){ 0 });
		dump_take(&W, &b);
		expect_same(&a, &b, cases[i].what);
		dump_free(&b);
		xlvs_spec_free(&bad);
	}
	cr_expect_eq(xlvs_apply(&W.m, NULL, &st), -EINVAL);
	cr_expect_eq(xlvs_apply_ex(&W.m, &s, 1u << 9, &st), -EINVAL, "unknown flag");
	dump_free(&a);
	xlvs_spec_free(&s);
}

/* A nat/fullnat real's entry and its address in xlvs_nat_srcs */
struct nat_row {
	const char *addr;
	uint32_t reals; /* 0: not in xlvs_nat_srcs */
};

static void expect_nat_srcs(const struct nat_row *rows, size_t n, bool flag, const char *when)
{
	struct xlvs_vip_key k;
	struct xlvs_config c;
	struct xlvs_addr a;
	uint32_t v, count = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		a = addr_of(rows[i].addr);
		memset(&k, 0, sizeof(k));
		k.family = a.family;
		memcpy(k.addr, a.be, sizeof(k.addr));
		v = 0;
		bpf_map_lookup_elem(W.m.nat_srcs, &k, &v);
		cr_expect_eq(v, rows[i].reals, "%s: %s: %u reals in xlvs_nat_srcs, want %u", when,
			     rows[i].addr, v, rows[i].reals);
		count += rows[i].reals != 0;
	}
	for (i = 0, v = 0; !bpf_map_get_next_key(W.m.nat_srcs, i ? &k : NULL, &k); i++)
		;
	cr_expect_eq(i, count, "%s: xlvs_nat_srcs has %zu entries, want %u", when, i, count);
	cr_assert_eq(xlvs_maps_get_config(&W.m, &c), 0);
	cr_expect_eq(!!(c.flags & XLVS_CFG_F_NAT), flag, "%s: XLVS_CFG_F_NAT", when);
}

static const struct xlvs_real *real_named(const char *vip, uint8_t proto, uint16_t port, const char *addr)
{
	static struct xlvs_real r;
	struct xlvs_state st;
	struct xlvs_addr v = addr_of(vip), a = addr_of(addr);
	size_t i, j;

	cr_assert_eq(xlvs_state_read(&W.m, &st), 0);
	memset(&r, 0, sizeof(r));
	for (i = 0; i < st.nr_services; i++) {
		const struct xlvs_svc_state *s = &st.services[i];

		if (s->key.proto != proto || ntohs(s->key.port) != port || memcmp(s->key.addr, v.be, 16))
			continue;
		for (j = 0; j < s->nr_reals; j++)
			if (!memcmp(s->reals[j].real.addr, a.be, 16))
				r = s->reals[j].real;
	}
	xlvs_state_free(&st);
	cr_assert(r.flags & XLVS_REAL_F_ACTIVE, "real %s of %s:%u not in the maps", addr, vip, port);
	return &r;
}

/* nat/fullnat reals: their port in xlvs_real, their addresses counted, the flag; all gone with them. */
Test(apply, nat_reals_write_port_sources_and_flag)
{
	static const struct nat_row with[] = { { "198.18.1.1", 2 },
					       { "198.18.1.9", 1 },
					       { "198.18.1.2", 0 } };
	static const struct nat_row fewer[] = { { "198.18.1.1", 1 }, { "198.18.1.9", 0 } };
	static const struct nat_row none[] = { { "198.18.1.1", 0 }, { "198.18.1.9", 0 } };
	struct xlvs_apply_stats st;
	struct xlvs_spec s;
	struct xlvs_svc_spec *sv;
	struct xlvs_real_spec *r;

	std_spec(&s);
	s.global.nr_snat_pool = 1;
	s.global.snat_pool[0] = addr_of("198.18.0.201");
	apply_ok(&W, &s);
	expect_nat_srcs(none, 2, false, "no nat real");
	sv = &s.services[0]; /* tcp 198.18.0.10:80 */
	sv->reals[0].fwd = XLVS_FWD_NAT;
	sv->reals[0].port = 8080;
	sv->reals[1].fwd = XLVS_FWD_DR;
	r = add_real(sv, "198.18.1.9", 1);
	r->fwd = XLVS_FWD_FULLNAT; /* the service's port */
	sv = &s.services[1];	   /* udp 198.18.0.10:53: .1 again, nat */
	sv->reals[0].fwd = XLVS_FWD_NAT;
	st = apply_ok(&W, &s);
	cr_expect_eq(st.nat_srcs_written, 2);
	expect_nat_srcs(with, 3, true, "nat reals added");
	cr_expect_eq(real_named("198.18.0.10", IPPROTO_TCP, 80, "198.18.1.1")->port, htons(8080));
	cr_expect_eq(real_named("198.18.0.10", IPPROTO_TCP, 80, "198.18.1.9")->port, htons(80));
	cr_expect_eq(real_named("198.18.0.10", IPPROTO_TCP, 80, "198.18.1.9")->fwd, XLVS_FWD_FULLNAT);
	cr_expect_eq(real_named("198.18.0.10", IPPROTO_TCP, 80, "198.18.1.2")->port, 0, "dr: no port");
	st = apply_ok(&W, &s);
	cr_expect_eq(st.nat_srcs_written + st.nat_srcs_removed + st.reals_written, 0, "unchanged: nothing");
	/* a port change rewrites the real in place */
	s.services[0].reals[0].port = 8081;
	st = apply_ok(&W, &s);
	cr_expect_eq(st.reals_written, 1);
	cr_expect_eq(real_named("198.18.0.10", IPPROTO_TCP, 80, "198.18.1.1")->port, htons(8081));
	/* the fullnat real goes, .1 stays nat in one service only */
	del_real(&s.services[0], 3);
	s.services[0].reals[0].fwd = XLVS_FWD_DR;
	s.services[0].reals[0].port = 80;
	st = apply_ok(&W, &s);
	cr_expect_eq(st.nat_srcs_written, 1, "the count of .1");
	cr_expect_eq(st.nat_srcs_removed, 1, ".9");
	expect_nat_srcs(fewer, 2, true, "one nat real left");
	s.services[1].reals[0].fwd = XLVS_FWD_DR;
	apply_ok(&W, &s);
	expect_nat_srcs(none, 2, false, "no nat real left");
	cr_expect_eq(real_named("198.18.0.10", IPPROTO_UDP, 53, "198.18.1.1")->port, 0);
	xlvs_spec_free(&s);
}

/* The fullnat pool: IPv4 addresses from 0, IPv6 at the top, counted in xlvs_config with the ports. */
Test(apply, set_global_writes_the_snat_pool)
{
	struct xlvs_global_spec g = { .nr_snat_pool = 3, .snat_port_lo = 2000, .snat_port_hi = 2999 };
	struct xlvs_addr pool[XLVS_SNAT_POOL_MAX];
	struct xlvs_config c;

	g.snat_pool[0] = addr_of("2001:db8::201");
	g.snat_pool[1] = addr_of("198.18.0.201");
	g.snat_pool[2] = addr_of("198.18.0.202");
	cr_assert_eq(xlvs_maps_set_global(&W.m, &g), 0);
	cr_assert_eq(xlvs_maps_get_config(&W.m, &c), 0);
	cr_expect_eq(c.snat4_first, 0);
	cr_expect_eq(c.snat4_count, 2);
	cr_expect_eq(c.snat6_first, 63);
	cr_expect_eq(c.snat6_count, 1);
	cr_expect_eq(c.snat_port_lo, 2000);
	cr_expect_eq(c.snat_port_hi, 2999);
	cr_assert_eq(xlvs_snat_pool_read(&W.m, pool), 0);
	cr_expect_eq(pool[0].be[0], htonl(0xc61200c9), "198.18.0.201");
	cr_expect_eq(pool[1].be[0], htonl(0xc61200ca), "198.18.0.202");
	cr_expect_eq(pool[2].family, 0, "past the IPv4 pool");
	cr_expect_eq(pool[63].family, XLVS_AF_INET6);
	cr_expect_eq(pool[63].be[3], htonl(0x201));
	/* the NAT flag is the apply's: the global settings keep it */
	c.flags |= XLVS_CFG_F_NAT;
	cr_assert_eq(bpf_map_update_elem(W.m.config, &(__u32){ 0 }, &c, BPF_ANY), 0);
	g.nr_snat_pool = 0;
	g.snat_port_lo = g.snat_port_hi = 0;
	cr_assert_eq(xlvs_maps_set_global(&W.m, &g), 0);
	cr_assert_eq(xlvs_maps_get_config(&W.m, &c), 0);
	cr_expect(c.flags & XLVS_CFG_F_NAT);
	cr_expect_eq(c.snat4_count + c.snat6_count, 0);
	cr_expect_eq(c.snat_port_lo, XLVS_SNAT_PORT_LO, "default ports");
	cr_expect_eq(c.snat_port_hi, XLVS_SNAT_PORT_HI);
	cr_assert_eq(xlvs_snat_pool_read(&W.m, pool), 0);
	cr_expect_eq(pool[0].family, 0, "an empty pool");
	g.snat_port_lo = 3000; /* above hi: refused before anything is written */
	g.snat_port_hi = 2000;
	cr_expect_eq(xlvs_maps_set_global(&W.m, &g), -EINVAL);
}

/* pool[i] as "a.b.c.d" or "v6:x" (the last word of an IPv6 address), "-" for none. */
static void pool_str(const struct xlvs_addr *pool, const uint32_t *at, size_t n, char *out, size_t size)
{
	size_t i, len = 0;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		const struct xlvs_addr *a = &pool[at[i]];
		uint32_t v = ntohl(a->family == XLVS_AF_INET ? a->be[0] : a->be[3]);

		if (!a->family)
			len += snprintf(out + len, size - len, "%s-", i ? " " : "");
		else if (a->family == XLVS_AF_INET)
			len += snprintf(out + len, size - len, "%s.%u", i ? " " : "", v & 0xff);
		else
			len += snprintf(out + len, size - len, "%sv6:%x", i ? " " : "", v);
	}
}

/*
 * A reload that changes the pool keeps every address that stays at its index (a flow's entry
 * names its pool address by index): the survivors stay put, new addresses fill the gaps, IPv6
 * stays at the top while IPv4 grows and shrinks.
 */
Test(apply, set_global_keeps_pool_addresses_in_place)
{
	static const struct {
		const char *pool[6];
		uint8_t n4, n6, first6;
		const char *want; /* pool[0..5] and pool[62], pool[63] */
	} steps[] = {
		{ { "198.18.0.201", "198.18.0.202", "198.18.0.203", "2001:db8::201" },
		  3,
		  1,
		  63,
		  ".201 .202 .203 - - - - v6:201" },
		/* .202 goes, .204 comes: it takes .202's place, .201 and .203 stay */
		{ { "198.18.0.204", "198.18.0.203", "198.18.0.201", "2001:db8::201" },
		  3,
		  1,
		  63,
		  ".201 .204 .203 - - - - v6:201" },
		/* two more IPv4 and an IPv6: appended; the IPv6 range grows down from the top */
		{ { "198.18.0.201", "198.18.0.203", "198.18.0.204", "198.18.0.205", "2001:db8::202",
		    "2001:db8::201" },
		  4,
		  2,
		  62,
		  ".201 .204 .203 .205 - - v6:202 v6:201" },
		/* .201 goes: the range shrinks to 3, so .205 (index 3) moves into index 0 */
		{ { "198.18.0.205", "198.18.0.203", "198.18.0.204", "2001:db8::201", "2001:db8::202" },
		  3,
		  2,
		  62,
		  ".205 .204 .203 - - - v6:202 v6:201" },
	};
	static const uint32_t at[] = { 0, 1, 2, 3, 4, 5, 62, 63 };
	struct xlvs_addr pool[XLVS_SNAT_POOL_MAX];
	struct xlvs_config c;
	char got[160];
	size_t k, i;

	for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		struct xlvs_global_spec g = { 0 };

		for (i = 0; i < 6 && steps[k].pool[i]; i++)
			g.snat_pool[g.nr_snat_pool++] = addr_of(steps[k].pool[i]);
		cr_assert_eq(xlvs_maps_set_global(&W.m, &g), 0, "step %zu", k);
		cr_assert_eq(xlvs_maps_get_config(&W.m, &c), 0);
		cr_expect_eq(c.snat4_count, steps[k].n4, "step %zu", k);
		cr_expect_eq(c.snat6_count, steps[k].n6, "step %zu", k);
		cr_expect_eq(c.snat6_first, steps[k].first6, "step %zu: IPv6 from %u", k, c.snat6_first);
		cr_assert_eq(xlvs_snat_pool_read(&W.m, pool), 0);
		pool_str(pool, at, sizeof(at) / sizeof(at[0]), got, sizeof(got));
		cr_expect_str_eq(got, steps[k].want, "step %zu: %s, want %s", k, got, steps[k].want);
	}
}

Test(apply, no_free_real_id_writes_nothing)
{
	struct xlvs_spec s, more;
	struct xlvs_svc_spec *sv;
	struct dump a, b;
	uint32_t i;
	double t;

	memset(&s, 0, sizeof(s));
	sv = add_svc(&s, "198.18.0.10", IPPROTO_TCP, 80, 16381);
	sv->reals = calloc(XLVS_MAX_REALS - 3, sizeof(*sv->reals));
	cr_assert_not_null(sv->reals);
	for (i = 0; i < XLVS_MAX_REALS - 3; i++) {
		sv->reals[i].addr = addr_of("2001:db8:1::");
		sv->reals[i].addr.be[3] = htonl(i + 1);
		sv->reals[i].weight = 1;
	}
	sv->nr_reals = XLVS_MAX_REALS - 3;
	t = now_s();
	apply_ok(&W, &s);
	fprintf(stderr, "apply of one service with %u reals, ring 16381: %.1f ms\n", XLVS_MAX_REALS - 3,
		(now_s() - t) * 1e3);
	dump_take(&W, &a);
	spec_copy(&more, &s);
	sv = add_svc(&more, "198.18.0.11", IPPROTO_TCP, 80, 3);
	for (i = 0; i < 4; i++)
		add_real(sv, "198.18.1.1", 1)->addr.be[0] = htonl(0xc6120100 + i);
	cr_expect_eq(xlvs_apply(&W.m, &more, NULL), -ENOSPC);
	dump_take(&W, &b);
	expect_same(&a, &b, "ids exhausted");
	del_real(sv, 3);
	apply_ok(&W, &more); /* three fit */
	expect_maps(&W, &more);
	dump_free(&a);
	dump_free(&b);
	xlvs_spec_free(&s);
	xlvs_spec_free(&more);
}

Test(apply, allocation_follows_from_maps_and_spec_only)
{
	struct world other;
	struct xlvs_spec s, shuffled;
	struct xlvs_svc_spec t;
	struct xlvs_real_spec r;
	struct dump a, b;

	std_spec(&s);
	spec_copy(&shuffled, &s);
	t = shuffled.services[0];
	shuffled.services[0] = shuffled.services[1];
	shuffled.services[1] = t;
	r = shuffled.services[1].reals[0];
	shuffled.services[1].reals[0] = shuffled.services[1].reals[2];
	shuffled.services[1].reals[2] = r;
	world_load(&other, RING_SLOTS);
	apply_ok(&W, &s);
	apply_ok(&other, &shuffled);
	dump_take(&W, &a);
	dump_take(&other, &b);
	expect_same(&a, &b, "same spec, other order, other director");
	dump_free(&a);
	dump_free(&b);
	world_unload(&other);
	xlvs_spec_free(&s);
	xlvs_spec_free(&shuffled);
}

Test(apply, real_ids_stay_and_freed_ids_wait_one_apply)
{
	struct xlvs_spec s;
	uint32_t id2, id3, id6, lowest, sid1, sid3;

	std_spec(&s);
	apply_ok(&W, &s);
	id2 = real_id(&W, &s.services[0], "198.18.1.2");
	id3 = real_id(&W, &s.services[0], "198.18.1.3");
	id6 = real_id(&W, &s.services[2], "2001:db8:1::1");
	sid1 = svc_entry(&W, &s.services[1]).id;
	/* remove a real and add one, delete a service and add one */
	del_real(&s.services[0], 1);
	add_real(&s.services[0], "198.18.1.8", 1);
	del_svc(&s, 1);
	add_real(add_svc(&s, "198.18.0.20", IPPROTO_TCP, 80, SMALL), "198.18.4.1", 1);
	lowest = first_inactive(&W);
	apply_ok(&W, &s);
	cr_expect_eq(real_id(&W, &s.services[0], "198.18.1.8"), lowest,
		     "the lowest id inactive before the apply, not the freed %u", id2);
	cr_expect_gt(lowest, id2);
	cr_expect_eq(real_id(&W, &s.services[0], "198.18.1.3"), id3);
	cr_expect_eq(real_id(&W, &s.services[1], "2001:db8:1::1"), id6);
	sid3 = svc_entry(&W, &s.services[2]).id;
	cr_expect_neq(sid3, sid1, "a service id freed by an apply waits");
	cr_expect_eq(sid3, 3);
	/* the next apply takes the lowest ones */
	add_real(&s.services[0], "198.18.1.9", 1);
	add_real(add_svc(&s, "198.18.0.21", IPPROTO_TCP, 80, SMALL), "198.18.4.2", 1);
	lowest = first_inactive(&W);
	cr_expect_lt(lowest, id2, "a real of the deleted service");
	apply_ok(&W, &s);
	cr_expect_eq(real_id(&W, &s.services[0], "198.18.1.9"), lowest);
	cr_expect_eq(svc_entry(&W, &s.services[3]).id, sid1);
	expect_maps(&W, &s);
	xlvs_spec_free(&s);
}

static uint32_t real_gen(uint32_t id)
{
	struct xlvs_real r;

	cr_assert_eq(bpf_map_lookup_elem(W.m.reals, &id, &r), 0);
	return r.gen;
}

/* Connection entries name (id, generation): an id given to another real gets the next one. */
Test(apply, a_reused_real_id_gets_the_next_generation)
{
	struct xlvs_spec s;
	uint32_t id2, id3, gen2, gen3, n;
	char addr[32];

	std_spec(&s);
	apply_ok(&W, &s);
	id2 = real_id(&W, &s.services[0], "198.18.1.2");
	id3 = real_id(&W, &s.services[0], "198.18.1.3");
	gen2 = real_gen(id2);
	gen3 = real_gen(id3);
	cr_expect_eq(gen2, 1, "a never used id starts at generation 1");
	del_real(&s.services[0], 1);
	apply_ok(&W, &s);
	cr_expect_eq(real_gen(id2), gen2, "deactivation keeps the generation");
	/* New reals take the lowest inactive ids (a freed one after one apply) until id2's turn. */
	for (n = 0; n < 8 && first_inactive(&W) != id2; n++) {
		snprintf(addr, sizeof(addr), "198.18.1.%u", 20 + n);
		add_real(&s.services[0], addr, 1);
		apply_ok(&W, &s);
	}
	cr_assert_eq(first_inactive(&W), id2, "the freed id is never reused: nothing tested");
	add_real(&s.services[0], "198.18.1.9", 1);
	apply_ok(&W, &s);
	cr_assert_eq(real_id(&W, &s.services[0], "198.18.1.9"), id2);
	cr_expect_eq(real_gen(id2), gen2 + 1, "reused id %u kept generation %u", id2, real_gen(id2));
	cr_expect_eq(real_gen(id3), gen3, "a kept real's generation changed");
	xlvs_spec_free(&s);
}

Test(apply, resolver_next_hop_stays_while_the_address_does)
{
	struct xlvs_spec s;
	struct xlvs_real r, nh;
	uint32_t id;
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 }, smac[6] = { 2, 0, 0, 0, 0, 2 };

	std_spec(&s);
	apply_ok(&W, &s);
	id = real_id(&W, &s.services[2], "2001:db8:1::1");
	nh = get_real(&W, id);
	nh.flags |= XLVS_REAL_F_NH_VALID;
	memcpy(nh.nh_mac, mac, 6);
	memcpy(nh.nh_smac, smac, 6);
	nh.nh_ifindex = 42;
	put_real(&W, id, &nh); /* what the daemon's resolver does */
	s.services[2].reals[0].weight = 9;
	s.services[2].reals[0].gue_port = 9999;
	apply_ok(&W, &s);
	r = get_real(&W, id);
	cr_expect_eq(r.weight, 9);
	cr_expect_eq(r.gue_port, htons(9999));
	cr_expect(r.flags & XLVS_REAL_F_NH_VALID);
	cr_expect_eq(memcmp(r.nh_mac, mac, 6), 0);
	cr_expect_eq(memcmp(r.nh_smac, smac, 6), 0);
	cr_expect_eq(r.nh_ifindex, 42);
	/* removed, then its id goes to another address: no next hop of the old one */
	del_real(&s.services[2], 0);
	apply_ok(&W, &s);
	cr_expect(get_real(&W, id).flags & XLVS_REAL_F_NH_VALID, "kept while inactive");
	add_real(&s.services[2], "2001:db8:1::2", 1);
	apply_ok(&W, &s);
	cr_assert_eq(real_id(&W, &s.services[2], "2001:db8:1::2"), id, "test assumes id reuse");
	r = get_real(&W, id);
	cr_expect_eq(r.flags, XLVS_REAL_F_ACTIVE);
	cr_expect_eq(r.nh_ifindex, 0);
	cr_expect_eq(memcmp(r.nh_mac, (uint8_t[6]){ 0 }, 6), 0);
	expect_maps(&W, &s);
	xlvs_spec_free(&s);
}

Test(apply, leftovers_of_an_interrupted_apply_are_deactivated)
{
	struct xlvs_spec s;
	struct xlvs_apply_stats st;
	struct xlvs_real orphan = {
		.family = XLVS_AF_INET,
		.flags = XLVS_REAL_F_ACTIVE,
		.svc_id = 1,
		.weight = 1,
	};

	/* reals written for service id 1, then the writer died before its entry */
	orphan.addr[0] = htonl(0xc6120909);
	put_real(&W, 2, &orphan);
	put_real(&W, 5, &orphan);
	std_spec(&s);
	st = apply_ok(&W, &s);
	cr_expect_eq(st.reals_removed, 2);
	cr_expect_eq(st.reals_written, 7);
	cr_expect_eq(get_real(&W, 2).flags, 0);
	cr_expect_eq(get_real(&W, 5).flags, 0);
	cr_expect_neq(real_id(&W, &s.services[0], "198.18.1.1"), 2, "freed ids wait");
	expect_maps(&W, &s);
	xlvs_spec_free(&s);
}

Test(apply, verify_rings_repairs_a_torn_ring)
{
	struct xlvs_spec s;
	struct xlvs_apply_stats st;
	struct xlvs_service e;
	uint32_t slot, other, i;

	std_spec(&s);
	apply_ok(&W, &s);
	e = svc_entry(&W, &s.services[0]);
	other = real_id(&W, &s.services[0], "198.18.1.1");
	for (i = 0; i < 3; i++) {
		slot = e.ring_base + 100 * i;
		cr_assert_eq(xlvs_ring_set(W.m.ring, slot, other + 1000), 0);
	}
	st = apply_ok(&W, &s);
	cr_expect_eq(st.ring_slots_written, 0, "a normal apply trusts unchanged rings");
	cr_assert_eq(xlvs_apply_ex(&W.m, &s, XLVS_APPLY_F_VERIFY_RINGS, &st), 0);
	expect_stats(&st, (struct xlvs_apply_stats){ .ring_slots_written = 3 });
	expect_maps(&W, &s);
	xlvs_spec_free(&s);
}

static void set_counters(int fd, uint32_t stride, uint32_t key, uint64_t v)
{
	int ncpus = libbpf_num_possible_cpus();
	struct xlvs_counters *c = calloc(ncpus, sizeof(*c));
	int i;

	cr_assert_not_null(c);
	for (i = 0; i < ncpus; i++)
		c[i] = (struct xlvs_counters){ v, v, v };
	unit_stripes_put(fd, stride, key, c, sizeof(*c));
	free(c);
}

/* A pair of per-id counter maps and their readers: the forwarded packets', or the NAT replies'. */
struct counter_maps {
	const char *what;
	int (*svc)(struct xlvs_maps *m, uint32_t id, struct xlvs_counters *c);
	int (*real)(struct xlvs_maps *m, uint32_t id, struct xlvs_counters *c);
	size_t svc_fd, real_fd; /* offsets in struct xlvs_maps */
};

#define MAP_FD_AT(off) (*(int *)((char *)&W.m + (off)))

/*
 * Counters of an id given to a new service or real start at zero; ids that stay keep theirs; a
 * removed real's are kept while its id is free, and are not the next real's when the id is reused.
 */
static void expect_new_ids_start_at_zero(const struct counter_maps *cm)
{
	int sfd = MAP_FD_AT(cm->svc_fd), rfd = MAP_FD_AT(cm->real_fd);
	struct xlvs_spec s;
	struct xlvs_counters c;
	uint32_t id, kept, svc;

	for (id = 0; id < 8; id++) {
		set_counters(sfd, XLVS_SVC_STATS_STRIDE, id, 4);
		set_counters(rfd, XLVS_REAL_STATS_STRIDE, id, 4);
	}
	std_spec(&s);
	apply_ok(&W, &s);
	for (id = 0; id < 3; id++) {
		cr_assert_eq(cm->svc(&W.m, id, &c), 0);
		cr_expect_eq(c.packets + c.bytes + c.new_flows, 0, "%s: service %u", cm->what, id);
	}
	for (id = 0; id < 7; id++) {
		cr_assert_eq(cm->real(&W.m, id, &c), 0);
		cr_expect_eq(c.packets + c.bytes + c.new_flows, 0, "%s: real %u", cm->what, id);
	}
	cr_assert_eq(cm->real(&W.m, 7, &c), 0);
	cr_expect_eq(c.packets, 4ull * W.m.ncpus, "%s: a real id not allocated is left alone", cm->what);
	cr_assert_eq(cm->svc(&W.m, 3, &c), 0);
	cr_expect_eq(c.bytes, 4ull * W.m.ncpus, "%s: a service id not allocated is left alone", cm->what);
	kept = real_id(&W, &s.services[0], "198.18.1.1");
	svc = svc_entry(&W, &s.services[0]).id;
	set_counters(rfd, XLVS_REAL_STATS_STRIDE, kept, 3);
	set_counters(sfd, XLVS_SVC_STATS_STRIDE, svc, 6);
	add_real(&s.services[0], "198.18.1.9", 1);
	apply_ok(&W, &s);
	cr_assert_eq(cm->real(&W.m, kept, &c), 0);
	cr_expect_eq(c.packets, 3ull * W.m.ncpus, "%s: a real that stays keeps its counts", cm->what);
	cr_assert_eq(cm->svc(&W.m, svc, &c), 0);
	cr_expect_eq(c.packets, 6ull * W.m.ncpus, "%s: a service that stays keeps its counts", cm->what);
	id = real_id(&W, &s.services[2], "2001:db8:1::1");
	set_counters(rfd, XLVS_REAL_STATS_STRIDE, id, 9);
	del_real(&s.services[2], 0);
	apply_ok(&W, &s);
	cr_assert_eq(cm->real(&W.m, id, &c), 0);
	cr_expect_eq(c.packets, 9ull * W.m.ncpus, "%s: a removed real's counts are kept while its id is free",
		     cm->what);
	add_real(&s.services[2], "2001:db8:1::2", 1);
	apply_ok(&W, &s);
	cr_assert_eq(real_id(&W, &s.services[2], "2001:db8:1::2"), id, "test assumes id reuse");
	cr_assert_eq(cm->real(&W.m, id, &c), 0);
	cr_expect_eq(c.packets + c.bytes + c.new_flows, 0, "%s: the new real of a reused id inherited counts",
		     cm->what);
	xlvs_spec_free(&s);
}

Test(apply, counters_of_new_ids_start_at_zero)
{
	static const struct counter_maps cm = { "forwarded", xlvs_svc_counters, xlvs_real_counters,
						offsetof(struct xlvs_maps, svc_stats),
						offsetof(struct xlvs_maps, real_stats) };

	expect_new_ids_start_at_zero(&cm);
}

Test(apply, out_counters_of_new_ids_start_at_zero)
{
	static const struct counter_maps cm = { "nat replies", xlvs_svc_out_counters, xlvs_real_out_counters,
						offsetof(struct xlvs_maps, svc_out),
						offsetof(struct xlvs_maps, real_out) };

	expect_new_ids_start_at_zero(&cm);
}

Test(apply, vip_filter_is_repaired)
{
	struct xlvs_spec s;
	struct xlvs_apply_stats st;
	uint32_t word = 17;
	uint64_t v;

	std_spec(&s);
	apply_ok(&W, &s);
	cr_assert_eq(bpf_map_lookup_elem(W.m.vip_filter, &word, &v), 0);
	v ^= 1ull << 33;
	cr_assert_eq(bpf_map_update_elem(W.m.vip_filter, &word, &v, 0), 0);
	st = apply_ok(&W, &s);
	expect_stats(&st, (struct xlvs_apply_stats){ .vip_filter_written = 1 });
	expect_maps(&W, &s);
	xlvs_spec_free(&s);
}

Test(apply, empty_spec_clears_everything)
{
	struct xlvs_spec s, none = { 0 };
	struct xlvs_apply_stats st;

	std_spec(&s);
	apply_ok(&W, &s);
	st = apply_ok(&W, &none);
	cr_expect_eq(st.services_removed, 3);
	cr_expect_eq(st.reals_removed, 7);
	cr_expect_eq(st.vips_removed, 2);
	expect_maps(&W, &none);
	xlvs_spec_free(&s);
}

/*
 * What a packet may see at any instant, read the way a packet reads: a service
 * entry, one slot of its ring, that slot's real. Each slot must name no real
 * or an ACTIVE real of that service, and the service's VIP entry and filter
 * bit must exist. Reads are not atomic together, so a miss counts only if the
 * entry, the slot and the real still look the same when read again.
 */
struct observer {
	struct world *w;
	volatile bool stop;
	uint64_t checks, violations;
};

static bool same_svc(int fd, const struct xlvs_svc_key *k, const struct xlvs_service *e)
{
	struct xlvs_service now;

	return !bpf_map_lookup_elem(fd, k, &now) && !memcmp(&now, e, sizeof(now));
}

static bool real_serves(const struct xlvs_maps *m, uint32_t id, uint32_t svc_id)
{
	struct xlvs_real r;

	return !bpf_map_lookup_elem(m->reals, &id, &r) && (r.flags & XLVS_REAL_F_ACTIVE) &&
	       r.svc_id == svc_id;
}

static bool vip_present(const struct xlvs_maps *m, const struct xlvs_svc_key *k)
{
	struct xlvs_vip_key vk = { .family = k->family };
	uint32_t bit = xlvs_addr_hash(k->addr, k->family) % XLVS_VIP_FILTER_BITS, word = bit / 64;
	struct xlvs_vip v;
	uint64_t f;

	memcpy(vk.addr, k->addr, sizeof(vk.addr));
	return !bpf_map_lookup_elem(m->vips, &vk, &v) && !bpf_map_lookup_elem(m->vip_filter, &word, &f) &&
	       (f & (1ull << (bit % 64)));
}

static void observe_service(struct observer *o, const struct xlvs_svc_key *k, unsigned int *seed)
{
	const struct xlvs_maps *m = &o->w->m;
	struct xlvs_service e;
	uint32_t i, slot, id, again;

	if (bpf_map_lookup_elem(m->services, k, &e))
		return;
	if (!vip_present(m, k) && same_svc(m->services, k, &e) && !vip_present(m, k))
		o->violations++;
	for (i = 0; i < 16; i++) {
		slot = e.ring_base + rand_r(seed) % e.ring_size;
		if (xlvs_ring_get(m->ring, slot, &id) || id == XLVS_REAL_NONE)
			continue;
		id = xlvs_slot_real(id);
		o->checks++;
		if (real_serves(m, id, e.id))
			continue;
		if (!xlvs_ring_get(m->ring, slot, &again) && xlvs_slot_real(again) == id &&
		    same_svc(m->services, k, &e) && !real_serves(m, id, e.id))
			o->violations++;
	}
}

static void *observe(void *arg)
{
	struct observer *o = arg;
	struct xlvs_svc_key k[64];
	unsigned int seed = 1;
	uint32_t i, n;

	while (!o->stop) {
		for (n = 0; n < 64 && !bpf_map_get_next_key(o->w->m.services, n ? &k[n - 1] : NULL, &k[n]);
		     n++)
			;
		for (i = 0; i < n; i++)
			observe_service(o, &k[i], &seed);
	}
	return NULL;
}

/* Step i of a changing configuration: reals come and go, weights move, a
 * ring resizes, a service appears and disappears. */
static void churn_spec(struct xlvs_spec *s, uint32_t i)
{
	struct xlvs_svc_spec *sv;
	uint32_t j;

	memset(s, 0, sizeof(*s));
	sv = add_svc(s, "198.18.0.10", IPPROTO_TCP, 80, SMALL);
	for (j = i; j < i + 4; j++)
		add_real(sv, "198.18.1.0", 1)->addr.be[0] = htonl(0xc6120100 + j % 11);
	sv = add_svc(s, "198.18.0.10", IPPROTO_UDP, 53, i % 3 ? SMALL : 2039);
	for (j = 0; j < 4; j++)
		add_real(sv, "198.18.2.0", 1 + (i + j) % 4)->addr.be[0] = htonl(0xc6120200 + j);
	if (i % 2) {
		sv = add_svc(s, "198.18.0.11", IPPROTO_TCP, 443, SMALL);
		add_real(sv, "198.18.3.1", 1);
		add_real(sv, "198.18.3.2", 2);
	}
}

Test(apply, a_concurrent_reader_never_sees_a_half_written_service)
{
	struct observer o = { .w = &W };
	struct xlvs_spec s;
	pthread_t t;
	uint32_t i;

	cr_assert_eq(pthread_create(&t, NULL, observe, &o), 0);
	for (i = 0; i < 60; i++) {
		churn_spec(&s, i);
		apply_ok(&W, &s);
		xlvs_spec_free(&s);
	}
	o.stop = true;
	pthread_join(t, NULL);
	cr_expect_gt(o.checks, 1000, "the reader checked %llu slots", (unsigned long long)o.checks);
	cr_expect_eq(o.violations, 0, "%llu inconsistent reads of %llu", (unsigned long long)o.violations,
		     (unsigned long long)o.checks);
}

/*
 * Stand-in for libbpf's bpf_map_lookup_batch (this definition wins at link
 * time) so a test can play a kernel without batch lookups (before 5.6), or
 * one whose batches stop short, and count the calls.
 */
static int lookup_batch_err;
static __u32 lookup_batch_cap; /* > 0: at most this many entries a call */
static unsigned int lookup_batch_calls;

int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, __u32 *count,
			 const struct bpf_map_batch_opts *opts)
{
	int (*real)(int, void *, void *, void *, void *, __u32 *, const struct bpf_map_batch_opts *);

	lookup_batch_calls++;
	if (lookup_batch_err) {
		*count = 0;
		return lookup_batch_err;
	}
	if (lookup_batch_cap && *count > lookup_batch_cap)
		*count = lookup_batch_cap;
	*(void **)&real = dlsym(RTLD_NEXT, "bpf_map_lookup_batch");
	cr_assert_not_null(real);
	return real(fd, in_batch, out_batch, keys, values, count, opts);
}

static int count_cb(const struct xlvs_flow *f, const struct xlvs_conn *c, void *arg)
{
	++*(uint32_t *)arg;
	return 0;
}

static void put_conn(uint32_t i, uint32_t real, uint32_t last_seen);

/* Slots that differ between the rings of services a and b before and after. */
static uint32_t rings_diff(uint32_t *const old[2], const struct xlvs_service e[2])
{
	uint32_t i, n = 0, *new;

	for (i = 0; i < 2; i++) {
		new = read_ring(&W, e[i].ring_base, e[i].ring_size);
		n += xlvs_ring_diff(old[i], new, e[i].ring_size, NULL);
		free(new);
	}
	return n;
}

Test(apply, same_results_without_batch_lookups)
{
	struct xlvs_spec s;
	struct xlvs_apply_stats st;
	struct xlvs_state state;
	struct xlvs_service e[2];
	uint32_t *old[2], i, conns = 0;

	std_spec(&s);
	apply_ok(&W, &s);
	for (i = 0; i < 2; i++) {
		e[i] = svc_entry(&W, &s.services[2 * i]);
		old[i] = read_ring(&W, e[i].ring_base, e[i].ring_size);
	}
	cr_assert_gt(e[0].ring_base, 0, "the ring read must start inside the map");
	for (i = 0; i < 50; i++)
		put_conn(i, 1, 0);
	s.services[0].reals[1].weight = 4;
	del_real(&s.services[2], 1);
	add_real(add_svc(&s, "198.18.0.20", IPPROTO_UDP, 53, SMALL), "198.18.4.1", 1);
	lookup_batch_err = -EINVAL;
	st = apply_ok(&W, &s);
	cr_assert_eq(xlvs_state_read(&W.m, &state), 0);
	cr_expect_eq(xlvs_conns_foreach(&W.m, count_cb, &conns), 0);
	lookup_batch_err = 0;
	cr_expect_eq(st.ring_slots_written, rings_diff(old, e) + SMALL);
	cr_expect_eq(st.services_added, 1);
	cr_expect_eq(st.reals_removed, 1);
	cr_expect_eq(state.nr_services, 4);
	cr_expect_eq(conns, 50);
	expect_maps(&W, &s);
	xlvs_state_free(&state);
	free(old[0]);
	free(old[1]);
	xlvs_spec_free(&s);
}

/* ---- scale ---- */

static void big_spec(struct xlvs_spec *s, uint32_t nsvc, uint32_t nreal, uint32_t ring)
{
	struct xlvs_svc_spec *sv;
	struct xlvs_real_spec *r;
	uint32_t i, j;

	memset(s, 0, sizeof(*s));
	s->services = calloc(nsvc, sizeof(*s->services));
	cr_assert_not_null(s->services);
	for (i = 0; i < nsvc; i++) {
		sv = &s->services[s->nr_services++];
		sv->vip = addr_of("198.18.0.0");
		sv->vip.be[0] = htonl(0xc6120000 + i / 4 + 1); /* 4 ports per VIP */
		sv->proto = IPPROTO_TCP;
		sv->port = 80 + i % 4;
		sv->fwd = XLVS_FWD_TUN;
		sv->ring_size = ring;
		sv->reals = calloc(nreal, sizeof(*sv->reals));
		cr_assert_not_null(sv->reals);
		for (j = 0; j < nreal; j++) {
			r = &sv->reals[sv->nr_reals++];
			r->addr = addr_of("198.19.0.0");
			r->addr.be[0] = htonl(0xc6130000 + i * nreal + j);
			r->port = sv->port;
			r->weight = 1 + j % 3;
			r->fwd = XLVS_FWD_TUN;
		}
	}
}

static void scale(uint32_t ring)
{
	struct xlvs_spec s;
	struct xlvs_apply_stats st;
	double t0, t1, t2, t3;

	big_spec(&s, 1000, 10, ring);
	world_load(&W, 1000 * ring);
	t0 = now_s();
	st = apply_ok(&W, &s);
	t1 = now_s();
	cr_expect_eq(st.services_added, 1000);
	cr_expect_eq(st.reals_written, 10000);
	cr_expect_eq(st.ring_slots_written, 1000 * ring);
	cr_expect_eq(st.vips_written, 250);
	st = apply_ok(&W, &s);
	t2 = now_s();
	expect_stats(&st, (struct xlvs_apply_stats){ 0 });
	s.services[500].reals[3].weight = 7;
	st = apply_ok(&W, &s);
	t3 = now_s();
	cr_expect_eq(st.reals_written, 1);
	fprintf(stderr,
		"apply 1000 services x 10 reals, ring %u (%u slots): from scratch %.0f ms, "
		"identical %.0f ms, one weight %.0f ms (%u slots)\n",
		ring, 1000 * ring, (t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3, st.ring_slots_written);
	world_unload(&W);
	xlvs_spec_free(&s);
}

Test(scale, apply_1000x10_ring_1021)
{
	scale(1021);
}

Test(scale, apply_1000x10_ring_4093)
{
	scale(4093);
}

/* ---- reading the state ---- */

Test(state, read_matches_the_maps, .init = setup, .fini = teardown)
{
	struct xlvs_spec s;
	struct xlvs_state st;
	struct xlvs_real *reals = NULL;
	const struct xlvs_svc_spec *sv;
	struct xlvs_service e;
	struct xlvs_svc_key k;
	size_t i, j, n;

	std_spec(&s);
	apply_ok(&W, &s);
	del_real(&s.services[0], 2);
	apply_ok(&W, &s); /* leaves an inactive real behind */
	cr_assert_eq(xlvs_state_read(&W.m, &st), 0);
	cr_assert_eq(st.nr_services, 3);
	reals = read_reals(&W);
	for (i = 0; i < st.nr_services; i++) {
		if (i)
			cr_expect_lt(st.services[i - 1].svc.id, st.services[i].svc.id);
		for (n = 0; n < s.nr_services; n++) {
			k = svc_key(&s.services[n]);
			if (!memcmp(&k, &st.services[i].key, sizeof(k)))
				break;
		}
		cr_assert_lt(n, s.nr_services, "a service not in the spec");
		sv = &s.services[n];
		e = svc_entry(&W, sv);
		cr_expect_eq(memcmp(&st.services[i].svc, &e, sizeof(e)), 0);
		cr_assert_eq(st.services[i].nr_reals, sv->nr_reals);
		for (j = 0; j < st.services[i].nr_reals; j++) {
			if (j)
				cr_expect_lt(st.services[i].reals[j - 1].id, st.services[i].reals[j].id);
			cr_expect_eq(memcmp(&st.services[i].reals[j].real, &reals[st.services[i].reals[j].id],
					    sizeof(struct xlvs_real)),
				     0);
			cr_expect(st.services[i].reals[j].real.flags & XLVS_REAL_F_ACTIVE);
		}
	}
	xlvs_state_free(&st);
	cr_expect_eq(st.nr_services, 0);
	free(reals);
	xlvs_spec_free(&s);
}

Test(state, read_of_65536_reals_is_fast, .init = setup, .fini = teardown)
{
	struct xlvs_real *r = calloc(XLVS_MAX_REALS, sizeof(*r));
	uint32_t *ids = calloc(XLVS_MAX_REALS, sizeof(*ids)), id, cnt = XLVS_MAX_REALS;
	struct xlvs_svc_key k = { .family = XLVS_AF_INET, .proto = IPPROTO_TCP };
	struct xlvs_service e = { .ring_size = 2 };
	struct xlvs_state st;
	size_t i, total = 0;
	double t;

	cr_assert(r && ids);
	for (id = 0; id < XLVS_MAX_REALS; id++) {
		ids[id] = id;
		r[id] = (struct xlvs_real){
			.family = XLVS_AF_INET, .flags = XLVS_REAL_F_ACTIVE, .svc_id = id % 16, .weight = 1
		};
		r[id].addr[0] = htonl(id);
	}
	cr_assert_eq(bpf_map_update_batch(W.m.reals, ids, r, &cnt, NULL), 0);
	for (e.id = 0; e.id < 16; e.id++) {
		k.addr[0] = htonl(0xc6120000 + e.id);
		cr_assert_eq(bpf_map_update_elem(W.m.services, &k, &e, 0), 0);
	}
	t = now_s();
	cr_assert_eq(xlvs_state_read(&W.m, &st), 0);
	t = now_s() - t;
	fprintf(stderr, "xlvs_state_read of 16 services, 65536 reals: %.1f ms\n", t * 1e3);
	cr_assert_eq(st.nr_services, 16);
	for (i = 0; i < 16; i++) {
		total += st.services[i].nr_reals;
		cr_expect_eq(st.services[i].reals[1].id - st.services[i].reals[0].id, 16);
	}
	cr_expect_eq(total, XLVS_MAX_REALS);
	xlvs_state_free(&st);
	free(r);
	free(ids);
}

/* ---- counters ---- */

Test(counters, sums_over_cpus, .init = setup, .fini = teardown)
{
	int ncpus = W.m.ncpus, cpu;
	struct xlvs_counters *c = calloc(ncpus, sizeof(*c)), sum;
	uint64_t *v = calloc(ncpus, sizeof(*v)), drops[XLVS_DROP_MAX], events[XLVS_EV_MAX];
	uint64_t tri = (uint64_t)ncpus * (ncpus + 1) / 2;
	uint32_t key = 3, k;

	cr_assert(c && v);
	for (cpu = 0; cpu < ncpus; cpu++)
		c[cpu] = (struct xlvs_counters){ cpu + 1, 100 * (cpu + 1), 7 };
	unit_stripes_put(W.m.svc_stats, XLVS_SVC_STATS_STRIDE, key, c, sizeof(*c));
	unit_stripes_put(W.m.real_stats, XLVS_REAL_STATS_STRIDE, key, c, sizeof(*c));
	cr_assert_eq(xlvs_svc_counters(&W.m, 3, &sum), 0);
	cr_expect(sum.packets == tri && sum.bytes == 100 * tri && sum.new_flows == 7ull * ncpus);
	cr_assert_eq(xlvs_real_counters(&W.m, 3, &sum), 0);
	cr_expect_eq(sum.bytes, 100 * tri);
	cr_assert_eq(xlvs_svc_counters(&W.m, 4, &sum), 0);
	cr_expect_eq(sum.packets, 0);
	cr_expect_lt(xlvs_real_counters(&W.m, XLVS_MAX_REALS, &sum), 0);
	for (k = 0; k < XLVS_DROP_MAX; k++) {
		for (cpu = 0; cpu < ncpus; cpu++)
			v[cpu] = (k + 1) * (cpu + 1);
		unit_stripes_put(W.m.drops, XLVS_DROP_SLOTS, k, v, sizeof(*v));
		if (k < XLVS_EV_MAX)
			unit_stripes_put(W.m.events, XLVS_EV_SLOTS, k, v, sizeof(*v));
	}
	cr_assert_eq(xlvs_drop_counters(&W.m, drops), 0);
	cr_assert_eq(xlvs_event_counters(&W.m, events), 0);
	for (k = 0; k < XLVS_DROP_MAX; k++)
		cr_expect_eq(drops[k], (k + 1) * tri, "drop %u", k);
	for (k = 0; k < XLVS_EV_MAX && k < XLVS_DROP_MAX; k++)
		cr_expect_eq(events[k], (k + 1) * tri, "event %u", k);
	free(c);
	free(v);
}

/*
 * What the range tests write: CPU cpu's word w (packets, bytes, new_flows) of id, distinct for
 * every CPU, id and word, so an entry read from the wrong id or CPU changes a sum.
 */
static uint64_t cell(int cpu, uint32_t id, int w)
{
	return (uint64_t)(cpu + 1) * 1000000 + 4ull * id + w;
}

static void put_cells(int fd, uint32_t stride, uint32_t id)
{
	struct xlvs_counters *c = calloc(W.m.ncpus, sizeof(*c));
	int cpu;

	cr_assert_not_null(c);
	for (cpu = 0; cpu < W.m.ncpus; cpu++)
		c[cpu] = (struct xlvs_counters){ cell(cpu, id, 0), cell(cpu, id, 1), cell(cpu, id, 2) };
	unit_stripes_put(fd, stride, id, c, sizeof(*c));
	free(c);
}

/* The sum over CPUs of cell(): 1000000 x (1 + .. + ncpus) + ncpus x (4 id + w). */
static void expect_cells(const struct xlvs_counters *got, uint32_t id, const char *what)
{
	uint64_t n = (uint64_t)W.m.ncpus, tri = n * (n + 1) / 2;

	cr_expect_eq(got->packets, 1000000 * tri + n * (4ull * id), "%s id %u packets", what, id);
	cr_expect_eq(got->bytes, 1000000 * tri + n * (4ull * id + 1), "%s id %u bytes", what, id);
	cr_expect_eq(got->new_flows, 1000000 * tri + n * (4ull * id + 2), "%s id %u new_flows", what, id);
}

static void expect_zero(const struct xlvs_counters *got, uint32_t id, const char *what)
{
	cr_expect(!got->packets && !got->bytes && !got->new_flows, "%s id %u: nothing was written there",
		  what, id);
}

/* Ranges from 0, inside, and at the stride's end (the map's end on the last CPU). */
Test(counters, range_sums_every_stripe, .init = setup, .fini = teardown)
{
	static const uint32_t real_ids[] = { 0, 1, 2, 999, 1000, 1001, 1002, 1003, 65533, 65534, 65535 };
	struct xlvs_counters out[4];
	uint32_t i;

	for (i = 0; i < sizeof(real_ids) / sizeof(real_ids[0]); i++)
		put_cells(W.m.real_stats, XLVS_REAL_STATS_STRIDE, real_ids[i]);
	put_cells(W.m.svc_stats, XLVS_SVC_STATS_STRIDE, 0);
	put_cells(W.m.svc_stats, XLVS_SVC_STATS_STRIDE, XLVS_MAX_SERVICES - 1);
	put_cells(W.m.svc_out, XLVS_SVC_STATS_STRIDE, 7);
	put_cells(W.m.real_out, XLVS_REAL_STATS_STRIDE, 7);

	lookup_batch_calls = 0;
	cr_assert_eq(xlvs_real_counters_range(&W.m, 0, 4, out), 0);
	cr_expect_eq(lookup_batch_calls, W.m.ncpus, "one batch lookup per CPU's stripe");
	for (i = 0; i < 3; i++)
		expect_cells(&out[i], i, "real [0, 4)");
	expect_zero(&out[3], 3, "real [0, 4)");
	cr_assert_eq(xlvs_real_counters_range(&W.m, 1000, 3, out), 0);
	for (i = 0; i < 3; i++)
		expect_cells(&out[i], 1000 + i, "real [1000, 1003)");
	cr_assert_eq(xlvs_real_counters_range(&W.m, XLVS_MAX_REALS - 2, 2, out), 0);
	expect_cells(&out[0], 65534, "real [65534, 65536)");
	expect_cells(&out[1], 65535, "real [65534, 65536)");

	cr_assert_eq(xlvs_svc_counters_range(&W.m, XLVS_MAX_SERVICES - 2, 2, out), 0);
	expect_zero(&out[0], 16382, "svc [16382, 16384)");
	expect_cells(&out[1], 16383, "svc [16382, 16384)");
	cr_assert_eq(xlvs_svc_counters(&W.m, 0, out), 0);
	expect_cells(&out[0], 0, "svc 0");
	cr_assert_eq(xlvs_svc_out_counters_range(&W.m, 5, 4, out), 0);
	expect_cells(&out[2], 7, "svc_out [5, 9)");
	expect_zero(&out[3], 8, "svc_out [5, 9)");
	cr_assert_eq(xlvs_real_out_counters_range(&W.m, 6, 2, out), 0);
	expect_zero(&out[0], 6, "real_out [6, 8)");
	expect_cells(&out[1], 7, "real_out [6, 8)");
	cr_assert_eq(xlvs_real_out_counters(&W.m, 1000, out), 0);
	expect_zero(&out[0], 1000, "real_out 1000 (real_stats only)");
}

/* Past the stride is the next CPU's stripe: refused before anything is read. */
Test(counters, range_past_stride_refused, .init = setup, .fini = teardown)
{
	struct xlvs_counters out[2], junk;
	struct xlvs_counters *all = calloc(XLVS_MAX_REALS, sizeof(*all));

	cr_assert_not_null(all);
	put_cells(W.m.real_stats, XLVS_REAL_STATS_STRIDE, 0); /* CPU 1's id 0 follows CPU 0's 65535 */
	memset(&junk, 0xa5, sizeof(junk));
	out[0] = out[1] = junk;
	lookup_batch_calls = 0;
	cr_expect_eq(xlvs_real_counters_range(&W.m, XLVS_MAX_REALS - 1, 2, out), -ERANGE);
	cr_expect_eq(xlvs_real_counters_range(&W.m, XLVS_MAX_REALS, 1, out), -ERANGE);
	cr_expect_eq(xlvs_real_counters_range(&W.m, XLVS_MAX_REALS + 1, 0, out), -ERANGE);
	cr_expect_eq(xlvs_real_counters_range(&W.m, 1, UINT32_MAX, out), -ERANGE, "first + n wraps");
	cr_expect_eq(xlvs_real_out_counters_range(&W.m, 65000, 537, out), -ERANGE);
	cr_expect_eq(xlvs_svc_counters_range(&W.m, XLVS_MAX_SERVICES - 1, 2, out), -ERANGE);
	cr_expect_eq(xlvs_svc_out_counters(&W.m, XLVS_MAX_SERVICES, out), -ERANGE);
	cr_expect_eq(xlvs_real_counters(&W.m, XLVS_MAX_REALS, out), -ERANGE);
	cr_expect_eq(xlvs_real_counters_range(&W.m, 5, 0, out), 0, "an empty range reads nothing");
	cr_expect_eq(lookup_batch_calls, 0, "nothing was read");
	cr_expect_eq(memcmp(&out[0], &junk, sizeof(junk)), 0, "out untouched");
	cr_expect_eq(memcmp(&out[1], &junk, sizeof(junk)), 0, "out untouched");
	/* the whole stride is fine: one batch of 65536 a CPU */
	cr_assert_eq(xlvs_real_counters_range(&W.m, 0, XLVS_MAX_REALS, all), 0);
	expect_cells(&all[0], 0, "real [0, 65536)");
	expect_zero(&all[XLVS_MAX_REALS - 1], 65535, "real [0, 65536)");
	cr_expect_eq(lookup_batch_calls, W.m.ncpus);
	free(all);
}

/* Batches that stop short, and a kernel without them: the same sums. */
Test(counters, range_short_batches, .init = setup, .fini = teardown)
{
	struct xlvs_counters out[5];
	uint32_t i;

	for (i = 999; i < 1004; i++)
		put_cells(W.m.real_stats, XLVS_REAL_STATS_STRIDE, i);
	put_cells(W.m.real_stats, XLVS_REAL_STATS_STRIDE, XLVS_MAX_REALS - 1);
	lookup_batch_cap = 3;
	lookup_batch_calls = 0;
	cr_assert_eq(xlvs_real_counters_range(&W.m, 999, 5, out), 0);
	cr_expect_eq(lookup_batch_calls, 2 * W.m.ncpus, "3 + 2 entries a stripe");
	for (i = 0; i < 5; i++)
		expect_cells(&out[i], 999 + i, "real [999, 1004), 3 a batch");
	cr_assert_eq(xlvs_real_counters_range(&W.m, XLVS_MAX_REALS - 5, 5, out), 0);
	expect_cells(&out[4], 65535, "real [65531, 65536), 3 a batch");
	lookup_batch_cap = 0;
	lookup_batch_err = -EINVAL;
	memset(out, 0, sizeof(out));
	cr_assert_eq(xlvs_real_counters_range(&W.m, 999, 5, out), 0);
	for (i = 0; i < 5; i++)
		expect_cells(&out[i], 999 + i, "real [999, 1004), no batch lookups");
	lookup_batch_err = 0;
}

/* What a listing of 1,000 reals pays: a range call against one call per id (printed, not judged). */
Test(counters, range_cost, .init = setup, .fini = teardown)
{
	struct xlvs_counters *out = calloc(1000, sizeof(*out));
	unsigned int per_id;
	double t, t_range;
	uint32_t i;

	cr_assert_not_null(out);
	put_cells(W.m.real_stats, XLVS_REAL_STATS_STRIDE, 999);
	lookup_batch_calls = 0;
	t = now_s();
	for (i = 0; i < 1000; i++)
		cr_assert_eq(xlvs_real_counters(&W.m, i, &out[i]), 0);
	t = now_s() - t;
	per_id = lookup_batch_calls;
	expect_cells(&out[999], 999, "per id");
	lookup_batch_calls = 0;
	t_range = now_s();
	cr_assert_eq(xlvs_real_counters_range(&W.m, 0, 1000, out), 0);
	t_range = now_s() - t_range;
	expect_cells(&out[999], 999, "range");
	cr_expect_eq(per_id, 1000 * W.m.ncpus);
	cr_expect_eq(lookup_batch_calls, W.m.ncpus);
	fprintf(stderr, "1000 reals' counters on %d CPUs: per id %u calls %.2f ms, range %u calls %.2f ms\n",
		W.m.ncpus, per_id, t * 1e3, lookup_batch_calls, t_range * 1e3);
	free(out);
}

/* ---- connection table ---- */

static void put_real_gen(uint32_t id, uint32_t gen, bool active)
{
	struct xlvs_real r = {
		.family = XLVS_AF_INET, .flags = active ? XLVS_REAL_F_ACTIVE : 0, .weight = 1, .gen = gen
	};

	cr_assert_eq(bpf_map_update_elem(W.m.reals, &id, &r, BPF_ANY), 0);
}

static void put_conn_gen(uint32_t i, uint32_t real, uint32_t gen, uint32_t last_seen, uint8_t state)
{
	struct xlvs_flow f = { .family = XLVS_AF_INET, .proto = IPPROTO_TCP, .dport = htons(80) };
	struct xlvs_conn c = {
		.real_id = real, .real_gen = gen, .hash = i, .last_seen = last_seen, .state = state
	};

	f.src[0] = htonl(0xc6126400 + i);
	f.dst[0] = htonl(0xc612000a);
	f.sport = htons(1024 + i);
	cr_assert_eq(bpf_map_update_elem(W.m.conns, &f, &c, BPF_ANY), 0);
}

static void put_conn_state(uint32_t i, uint32_t real, uint32_t last_seen, uint8_t state)
{
	put_conn_gen(i, real, 0, last_seen, state);
}

static void put_conn(uint32_t i, uint32_t real, uint32_t last_seen)
{
	put_conn_state(i, real, last_seen, XLVS_CONN_OPEN);
}

struct walk {
	uint32_t seen, stop_at;
	uint64_t hashes;
};

static int walk_cb(const struct xlvs_flow *f, const struct xlvs_conn *c, void *arg)
{
	struct walk *w = arg;

	w->hashes += c->hash;
	cr_expect_eq(ntohs(f->sport), 1024 + c->hash);
	return ++w->seen == w->stop_at ? 99 : 0;
}

/* More entries than one batch holds; the LRU lists are per CPU, so insert from one. */
Test(conns, foreach_visits_each_entry_once_and_stops)
{
	struct walk w = { 0 };
	cpu_set_t one;
	uint32_t i;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	cr_assert_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	world_load_conns(&W, RING_SLOTS, 16384 * libbpf_num_possible_cpus());
	cr_expect_eq(xlvs_conns_foreach(&W.m, walk_cb, &w), 0);
	cr_expect_eq(w.seen, 0);
	for (i = 0; i < 10000; i++)
		put_conn(i, i % 5, 0);
	cr_expect_eq(xlvs_conns_foreach(&W.m, walk_cb, &w), 0);
	cr_expect_eq(w.seen, 10000);
	cr_expect_eq(w.hashes, 9999ull * 10000 / 2, "every entry once");
	w = (struct walk){ .stop_at = 10 };
	cr_expect_eq(xlvs_conns_foreach(&W.m, walk_cb, &w), 99);
	cr_expect_eq(w.seen, 10);
	world_unload(&W);
}

/* The kernel's jiffies read just before and just after bracket ours: no timing assumption. */
static unsigned long long kernel_jiffies(void)
{
	FILE *f = fopen("/proc/timer_list", "re");
	unsigned long long kj = 0;
	char line[256];

	cr_assert_not_null(f, "/proc/timer_list: %s", strerror(errno));
	while (fgets(line, sizeof(line), f) && sscanf(line, "jiffies: %llu", &kj) != 1)
		;
	fclose(f);
	cr_assert_neq(kj, 0, "no jiffies line in /proc/timer_list");
	return kj;
}

Test(conns, jiffies_match_the_kernels)
{
	unsigned long long before, after;
	struct xlvs_jiffies j;

	before = kernel_jiffies();
	cr_assert_eq(xlvs_jiffies_read(&j), 0);
	after = kernel_jiffies();
	cr_expect_leq(j.now - (uint32_t)before, (uint32_t)after - (uint32_t)before,
		      "jiffies %u outside the kernel's [%llu, %llu]", j.now, before, after);
	cr_expect(j.tick_ns == 1000000 || j.tick_ns == 3333333 || j.tick_ns == 4000000 ||
			  j.tick_ns == 10000000,
		  "tick %llu ns", (unsigned long long)j.tick_ns);
	cr_expect_eq(xlvs_conn_idle_ns(&j, j.now - 10), 10 * j.tick_ns);
	cr_expect_eq(xlvs_conn_idle_ns(&j, j.now + 3), 0, "stamped after the reading");
	cr_expect_eq(xlvs_conn_idle_ns(&j, j.now), 0);
}

/* Lifetimes for the tests below: tcp 10 s, tcp_fin 5 s, tcp_syn 3 s, udp 7 s. */
static void short_lifetimes(struct xlvs_jiffies *j, uint32_t *sec)
{
	struct xlvs_global_spec g = { .timeout_s = { 10, 5, 3, 7 } };

	cr_assert_eq(xlvs_maps_set_global(&W.m, &g), 0);
	cr_assert_eq(xlvs_jiffies_read(j), 0);
	*sec = 1000000000ull / j->tick_ns;
}

static void put_conn_udp(uint32_t i, uint32_t real, uint32_t last_seen)
{
	struct xlvs_flow f = { .family = XLVS_AF_INET, .proto = IPPROTO_UDP, .dport = htons(53) };
	struct xlvs_conn c = { .real_id = real, .hash = i, .last_seen = last_seen, .state = XLVS_CONN_OPEN };

	f.src[0] = htonl(0xc6126400 + i);
	f.dst[0] = htonl(0xc612000a);
	f.sport = htons(1024 + i);
	cr_assert_eq(bpf_map_update_elem(W.m.conns, &f, &c, BPF_ANY), 0);
}

/* A real whose service overrides the TCP lifetime (the planner copies it into the real). */
static void put_real_tcp_lifetime(uint32_t id, uint32_t tcp_s)
{
	struct xlvs_real r = { .family = XLVS_AF_INET, .flags = XLVS_REAL_F_ACTIVE, .weight = 1 };

	r.timeout[XLVS_TO_TCP] = tcp_s;
	cr_assert_eq(bpf_map_update_elem(W.m.reals, &id, &r, BPF_ANY), 0);
}

Test(conns, counts_only_unexpired_per_real, .init = setup, .fini = teardown)
{
	struct xlvs_conn_counts cnt[4];
	struct xlvs_jiffies j;
	uint32_t sec;

	short_lifetimes(&j, &sec);
	for (uint32_t id = 0; id < 3; id++)
		put_real_gen(id, id == 2 ? 5 : 0, true);
	put_real_tcp_lifetime(3, 100);
	put_real_gen(9, 0, true);
	put_conn(0, 1, j.now);				/* open: active */
	put_conn(1, 1, j.now - 9 * sec);		/* 9 s of 10: active */
	put_conn(2, 1, j.now - 11 * sec);		/* 11 s of 10: expired */
	put_conn_udp(3, 1, j.now - 6 * sec);		/* UDP, 6 s of 7: inactive, as IPVS counts it */
	put_conn_udp(4, 1, j.now - 8 * sec);		/* UDP, 8 s of 7: expired */
	put_conn(5, 3, j.now - 50 * sec);		/* 50 s of its service's 100: active */
	put_conn_state(6, 3, j.now, XLVS_CONN_CLOSING); /* FIN seen: inactive */
	put_conn_state(7, 3, j.now - 6 * sec, XLVS_CONN_CLOSING); /* 6 s of tcp_fin's 5: expired */
	put_conn_gen(8, 2, 5, j.now - 2 * sec, XLVS_CONN_SYN);	  /* 2 s of tcp_syn's 3: inactive */
	put_conn_gen(11, 2, 5, j.now - 4 * sec, XLVS_CONN_SYN);	  /* 4 s of 3: expired */
	put_conn(12, 2, j.now); /* an earlier real of id 2 (gen 0): nobody's */
	put_conn(13, 9, j.now); /* real id beyond the array */
	cr_assert_eq(xlvs_conn_counts(&W.m, cnt, 4), 0);
	cr_expect(cnt[0].active == 0 && cnt[0].inactive == 0);
	cr_expect(cnt[1].active == 2 && cnt[1].inactive == 1, "real 1: %lu active, %lu inactive",
		  (unsigned long)cnt[1].active, (unsigned long)cnt[1].inactive);
	cr_expect(cnt[2].active == 0 && cnt[2].inactive == 1, "real 2: %lu active, %lu inactive",
		  (unsigned long)cnt[2].active, (unsigned long)cnt[2].inactive);
	cr_expect(cnt[3].active == 1 && cnt[3].inactive == 1, "real 3: %lu active, %lu inactive",
		  (unsigned long)cnt[3].active, (unsigned long)cnt[3].inactive);
}

/* Fullness counts every entry, current or not; per-real counts come from the same walk. */
Test(conns, usage_counts_every_entry_and_the_capacity, .init = setup, .fini = teardown)
{
	struct xlvs_conn_table t = { 7, 7 };
	struct xlvs_conn_counts cnt[4];
	struct xlvs_jiffies j;

	cr_assert_eq(xlvs_jiffies_read(&j), 0);
	cr_assert_eq(xlvs_conn_usage(&W.m, &t, NULL, 0), 0);
	cr_expect(t.entries == 0 && t.capacity == 4096, "empty: %lu of %lu", (unsigned long)t.entries,
		  (unsigned long)t.capacity);
	put_real_gen(1, 0, true);
	put_conn(0, 1, j.now);
	put_conn(1, 1, j.now);
	put_conn(2, 9, j.now);			      /* real id beyond the array */
	put_conn_gen(3, 1, 3, j.now, XLVS_CONN_OPEN); /* an earlier real of id 1 */
	put_conn_state(4, 1, j.now, XLVS_CONN_CLOSING);
	cr_assert_eq(xlvs_conn_usage(&W.m, &t, cnt, 4), 0);
	cr_expect(t.entries == 5 && t.capacity == 4096, "%lu of %lu", (unsigned long)t.entries,
		  (unsigned long)t.capacity);
	cr_expect(cnt[1].active == 2 && cnt[1].inactive == 1, "real 1: %lu active, %lu inactive",
		  (unsigned long)cnt[1].active, (unsigned long)cnt[1].inactive);
	t = (struct xlvs_conn_table){ 0 };
	cr_assert_eq(xlvs_conn_usage(&W.m, &t, NULL, 0), 0);
	cr_expect_eq(t.entries, 5, "without per-real counts");
}

Test(conns, lifetimes_and_time_left)
{
	struct xlvs_config cfg = { .hz = 250, .timeout = { 900, 120, 60, 300 } };
	struct xlvs_real r = { .timeout = { 0, 30, 0, 0 } };
	struct xlvs_conn c = { .last_seen = 1000, .state = XLVS_CONN_CLOSING };

	cr_expect_eq(xlvs_conn_lifetime_s(&cfg, NULL, IPPROTO_TCP, XLVS_CONN_OPEN), 900);
	cr_expect_eq(xlvs_conn_lifetime_s(&cfg, NULL, IPPROTO_TCP, XLVS_CONN_SYN), 60);
	cr_expect_eq(xlvs_conn_lifetime_s(&cfg, NULL, IPPROTO_UDP, XLVS_CONN_OPEN), 300);
	cr_expect_eq(xlvs_conn_lifetime_s(&cfg, &r, IPPROTO_TCP, XLVS_CONN_CLOSING), 30, "the service's");
	cr_expect_eq(xlvs_conn_lifetime_s(&cfg, &r, IPPROTO_TCP, XLVS_CONN_OPEN), 900, "0: the global one");
	cr_expect_eq(xlvs_conn_left(&cfg, &r, IPPROTO_TCP, &c, 1000 + 30 * 250), 0, "last jiffy: not yet");
	cr_expect_eq(xlvs_conn_left(&cfg, &r, IPPROTO_TCP, &c, 1000 + 30 * 250 + 1), -1);
	cr_expect_eq(xlvs_conn_left(&cfg, NULL, IPPROTO_TCP, &c, 1000 + 30 * 250 + 1), 90 * 250 - 1);
	cr_expect_eq(xlvs_conn_left(&cfg, &r, IPPROTO_TCP, &c, 990), 30 * 250, "stamped after the reading");
	cfg.hz = 0;
	cr_expect_eq(xlvs_conn_left(&cfg, &r, IPPROTO_TCP, &c, 1000 + 1000000), INT64_MAX, "hz 0: never");
}

static uint32_t conn_total(void)
{
	uint32_t n = 0;

	cr_assert_eq(xlvs_conns_foreach(&W.m, count_cb, &n), 0);
	return n;
}

/* Room for n entries inserted from this thread: the LRU lists are per CPU, so insert from one. */
static void setup_conns_one_cpu(void)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	cr_assert_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	world_load_conns(&W, RING_SLOTS, 4096 * libbpf_num_possible_cpus());
}

/* 3000 entries, every third expired: steps of 500 delete exactly those, 500 looked at a step at most. */
Test(conns, sweep_deletes_expired_in_bounded_steps, .init = setup_conns_one_cpu, .fini = teardown)
{
	struct xlvs_sweep *sw = xlvs_sweep_new();
	struct xlvs_sweep_stats st = { 0 }, prev;
	struct xlvs_jiffies j;
	uint32_t sec, i, steps = 0;

	cr_assert_not_null(sw);
	short_lifetimes(&j, &sec);
	put_real_gen(1, 0, true);
	for (i = 0; i < 3000; i++)
		put_conn(i, 1, i % 3 ? j.now - 5 * sec : j.now - 20 * sec);
	cr_assert_eq(conn_total(), 3000);
	while (!st.passes) {
		prev = st;
		cr_assert_eq(xlvs_sweep_step(&W.m, sw, 500, &st), 0);
		cr_assert_leq(st.scanned - prev.scanned, 500, "step %u looked at %lu", steps,
			      (unsigned long)(st.scanned - prev.scanned));
		cr_assert_lt(++steps, 20, "no pass completed");
	}
	cr_expect_eq(st.scanned, 3000);
	cr_expect_eq(st.expired, 1000);
	cr_expect_eq(st.deleted, 1000);
	cr_expect_eq(conn_total(), 2000);
	cr_expect_geq(steps, 6);
	/* the next pass finds nothing more to delete */
	st = (struct xlvs_sweep_stats){ 0 };
	cr_assert_eq(xlvs_sweep_step(&W.m, sw, 100000, &st), 0);
	cr_expect_eq(st.passes, 1);
	cr_expect_eq(st.deleted, 0);
	xlvs_sweep_free(sw);
}

/* hz 0 (timeouts off) deletes nothing; lifetimes back on, TCP and UDP entries past theirs go. */
Test(conns, sweep_respects_hz0, .init = setup, .fini = teardown)
{
	struct xlvs_sweep *sw = xlvs_sweep_new();
	struct xlvs_sweep_stats st = { 0 };
	struct xlvs_config cfg;
	struct xlvs_jiffies j;
	uint32_t sec, key = 0;

	cr_assert_not_null(sw);
	short_lifetimes(&j, &sec);
	put_real_gen(1, 0, true);
	put_conn(0, 1, j.now - 20 * sec);
	put_conn_udp(1, 1, j.now - 20 * sec);
	cr_assert_eq(xlvs_maps_get_config(&W.m, &cfg), 0);
	cfg.hz = 0;
	cr_assert_eq(bpf_map_update_elem(W.m.config, &key, &cfg, BPF_ANY), 0);
	cr_assert_eq(xlvs_sweep_step(&W.m, sw, 1000, &st), 0);
	cr_expect_eq(st.expired, 0);
	cr_expect_eq(conn_total(), 2);
	short_lifetimes(&j, &sec);
	cr_assert_eq(xlvs_sweep_step(&W.m, sw, 1000, &st), 0);
	cr_expect_eq(st.deleted, 2, "TCP and UDP entries past their lifetimes");
	cr_expect_eq(conn_total(), 0);
	xlvs_sweep_free(sw);
}

/* ---- configuration and helpers ---- */

Test(helpers, global_config, .init = setup, .fini = teardown)
{
	struct xlvs_global_spec g = {
		.tun_mtu = 1480,
		.gue_port = 7000,
		.syn_guard_rate = 5000,
		.frag_drop = true,
		.have_gw_mac = true,
		.gw_mac = { 2, 1, 2, 3, 4, 5 },
	};
	struct xlvs_config c;

	g.tun_src4 = addr_of("198.18.0.1");
	g.tun_src6 = addr_of("2001:db8::1");
	cr_assert_eq(xlvs_maps_set_global(&W.m, &g), 0);
	cr_assert_eq(xlvs_maps_get_config(&W.m, &c), 0);
	/* the first write makes the state: its flow hash is the spec's, mix64 by default */
	cr_expect_eq(c.flags, XLVS_CFG_F_FRAG_DROP | XLVS_CFG_F_GW_FALLBACK | XLVS_CFG_F_HASH_MIX64);
	cr_expect_eq(c.syn_guard_rate, 5000);
	cr_expect_eq(c.tun_mtu, 1480);
	cr_expect_eq(c.gue_port, htons(7000));
	cr_expect_eq(memcmp(c.gw_mac, g.gw_mac, 6), 0);
	cr_expect_eq(c.src4, g.tun_src4.be[0]);
	cr_expect_eq(memcmp(c.src6, g.tun_src6.be, 16), 0);
	cr_expect(c.hz == 100 || c.hz == 250 || c.hz == 300 || c.hz == 1000, "hz %u", c.hz);
	cr_expect(c.timeout[XLVS_TO_TCP] == 900 && c.timeout[XLVS_TO_TCP_FIN] == 120 &&
			  c.timeout[XLVS_TO_TCP_SYN] == 60 && c.timeout[XLVS_TO_UDP] == 300,
		  "IPVS's defaults when unset");
	g = (struct xlvs_global_spec){ .ip4_options_drop = true, .timeout_s = { 0, 0, 0, 30 } };
	cr_assert_eq(xlvs_maps_set_global(&W.m, &g), 0);
	cr_assert_eq(xlvs_maps_get_config(&W.m, &c), 0);
	cr_expect_eq(c.flags, XLVS_CFG_F_IP4_OPT_DROP | XLVS_CFG_F_HASH_MIX64);
	cr_expect(c.timeout[XLVS_TO_UDP] == 30 && c.timeout[XLVS_TO_TCP] == 900);
	cr_expect_eq(c.gue_port, htons(XLVS_GUE_PORT_DEFAULT));
	cr_expect_eq(c.src4, 0);
	cr_expect_eq(memcmp(c.gw_mac, (uint8_t[6]){ 0 }, 6), 0);
	g.tun_src4 = addr_of("2001:db8::1");
	cr_expect_eq(xlvs_maps_set_global(&W.m, &g), -EINVAL, "IPv6 as IPv4 source");
	cr_assert_eq(xlvs_maps_get_config(&W.m, &c), 0);
	cr_expect_eq(c.flags, XLVS_CFG_F_IP4_OPT_DROP | XLVS_CFG_F_HASH_MIX64, "unchanged");
}

/*
 * The flow hash is the state's: the first write takes the spec's, every later one keeps it
 * whatever its spec says (ring-state flows without an entry are where it put them).
 */
Test(helpers, flow_hash_is_kept_by_the_state, .init = setup, .fini = teardown)
{
	struct xlvs_global_spec g = { .flow_hash = XLVS_FLOW_HASH_MURMUR3 };
	enum xlvs_flow_hash h = XLVS_FLOW_HASH_MIX64;
	struct xlvs_config c;

	cr_expect_eq(xlvs_maps_flow_hash(&W.m, &h), -ENOENT, "no xlvsd wrote the config yet");
	cr_assert_eq(xlvs_maps_set_global(&W.m, &g), 0);
	cr_assert_eq(xlvs_maps_get_config(&W.m, &c), 0);
	cr_expect_eq(c.flags & XLVS_CFG_F_HASH_MIX64, 0, "made with murmur3");
	cr_assert_eq(xlvs_maps_flow_hash(&W.m, &h), 0);
	cr_expect_eq(h, XLVS_FLOW_HASH_MURMUR3);
	g.flow_hash = XLVS_FLOW_HASH_MIX64;
	cr_assert_eq(xlvs_maps_set_global(&W.m, &g), 0);
	cr_assert_eq(xlvs_maps_get_config(&W.m, &c), 0);
	cr_expect_eq(c.flags & XLVS_CFG_F_HASH_MIX64, 0, "a later spec's mix64 is not applied");

	/* state made by this xlvs keeps mix64 against a spec asking for murmur3 */
	cr_assert_eq(bpf_map_update_elem(W.m.config, &(uint32_t){ 0 }, &(struct xlvs_config){ 0 }, BPF_ANY),
		     0);
	cr_assert_eq(xlvs_maps_set_global(&W.m, &g), 0);
	cr_assert_eq(xlvs_maps_flow_hash(&W.m, &h), 0);
	cr_expect_eq(h, XLVS_FLOW_HASH_MIX64, "made with mix64");
	g.flow_hash = XLVS_FLOW_HASH_MURMUR3;
	cr_assert_eq(xlvs_maps_set_global(&W.m, &g), 0);
	cr_assert_eq(xlvs_maps_flow_hash(&W.m, &h), 0);
	cr_expect_eq(h, XLVS_FLOW_HASH_MIX64, "kept");
}

Test(helpers, addresses_and_names)
{
	struct xlvs_addr a;
	char buf[INET6_ADDRSTRLEN];
	__be32 be[4] = { htonl(0x20010db8), 0, 0, htonl(0x10) };

	cr_assert_eq(xlvs_addr_parse("198.18.0.10", &a), 0);
	cr_expect(a.family == XLVS_AF_INET && a.be[0] == htonl(0xc612000a) && !a.be[1]);
	cr_expect_str_eq(xlvs_addr_str(&a, buf, sizeof(buf)), "198.18.0.10");
	cr_assert_eq(xlvs_addr_parse("2001:db8::10", &a), 0);
	cr_expect_eq(a.family, XLVS_AF_INET6);
	cr_expect_eq(memcmp(a.be, be, 16), 0);
	cr_expect_str_eq(xlvs_addr_str(&a, buf, sizeof(buf)), "2001:db8::10");
	cr_expect_eq(xlvs_addr_parse("198.18.0", &a), -EINVAL);
	cr_expect_eq(xlvs_addr_parse("", &a), -EINVAL);
	cr_expect_eq(xlvs_addr_parse(NULL, &a), -EINVAL);
	a.family = 0;
	cr_expect_null(xlvs_addr_str(&a, buf, sizeof(buf)));
	xlvs_addr_from_be(&a, XLVS_AF_INET, be);
	cr_expect(a.family == XLVS_AF_INET && a.be[0] == be[0] && !a.be[3]);
	xlvs_addr_from_be(&a, XLVS_AF_INET6, be);
	cr_expect_eq(memcmp(a.be, be, 16), 0);

	cr_expect_eq(xlvs_sched_from_name("maglev"), XLVS_SCHED_MAGLEV);
	cr_expect_eq(xlvs_sched_from_name("wlc"), XLVS_SCHED_WLC);
	cr_expect_eq(xlvs_sched_from_name("mh"), XLVS_SCHED_MH);
	cr_expect_eq(xlvs_sched_from_name("fastest"), -EINVAL);
	cr_expect_eq(xlvs_fwd_from_name("dr"), XLVS_FWD_DR);
	cr_expect_eq(xlvs_fwd_from_name("tun"), XLVS_FWD_TUN);
	cr_expect_eq(xlvs_fwd_from_name("ipip"), XLVS_FWD_TUN);
	cr_expect_eq(xlvs_fwd_from_name("gue"), XLVS_FWD_GUE);
	cr_expect_eq(xlvs_fwd_from_name("nat"), XLVS_FWD_NAT);
	cr_expect_eq(xlvs_fwd_from_name("fullnat"), XLVS_FWD_FULLNAT);
	cr_expect_eq(xlvs_fwd_from_name("gre"), -EINVAL);
	cr_expect_eq(xlvs_fwd_from_name(NULL), -EINVAL);
}

Test(helpers, spec_free_empties_the_spec)
{
	struct xlvs_spec s;

	std_spec(&s);
	xlvs_spec_free(&s);
	cr_expect_eq(s.nr_services, 0);
	cr_expect_null(s.services);
	xlvs_spec_free(&s); /* twice is harmless */
	xlvs_spec_free(NULL);
}

/* ---- persistence --------------------------------------------------------------- */

/* The service entry carries the timeout and the prefix (whole address by default); its reals the flag. */
Test(apply, persistence_into_the_service_and_its_reals)
{
	struct xlvs_spec s = { 0 };
	struct xlvs_svc_spec *a, *b;
	struct xlvs_service e;
	struct xlvs_apply_stats st;
	struct xlvs_real r;
	uint32_t id;

	a = add_svc(&s, "198.18.0.10", IPPROTO_TCP, 0, SMALL);
	a->persist_s = 300;
	a->persist_plen = 24;
	add_real(a, "198.18.1.11", 1);
	b = add_svc(&s, "2001:db8::10", IPPROTO_TCP, 80, SMALL);
	add_real(b, "2001:db8:1::11", 1);
	apply_ok(&W, &s);
	e = svc_entry(&W, &s.services[0]);
	cr_expect_eq(e.persist_timeout, 300);
	cr_expect_eq(e.persist_plen, 24);
	id = real_id(&W, &s.services[0], "198.18.1.11");
	cr_assert_eq(bpf_map_lookup_elem(W.m.reals, &id, &r), 0);
	cr_expect(r.flags & XLVS_REAL_F_PERSIST, "a persistent service's real is flagged");
	e = svc_entry(&W, &s.services[1]);
	cr_expect_eq(e.persist_timeout, 0);
	cr_expect_eq(e.persist_plen, 128, "not persistent: the whole address all the same");
	id = real_id(&W, &s.services[1], "2001:db8:1::11");
	cr_assert_eq(bpf_map_lookup_elem(W.m.reals, &id, &r), 0);
	cr_expect(!(r.flags & XLVS_REAL_F_PERSIST));
	/* persistence off: the service entry and the real are rewritten, the flag goes */
	s.services[0].persist_s = 0;
	s.services[0].persist_plen = 0;
	st = apply_ok(&W, &s);
	cr_expect_eq(st.services_updated, 1);
	e = svc_entry(&W, &s.services[0]);
	cr_expect_eq(e.persist_timeout, 0);
	cr_expect_eq(e.persist_plen, 32);
	id = real_id(&W, &s.services[0], "198.18.1.11");
	cr_assert_eq(bpf_map_lookup_elem(W.m.reals, &id, &r), 0);
	cr_expect(!(r.flags & XLVS_REAL_F_PERSIST), "flag cleared");
	xlvs_spec_free(&s);
}

/* lblc/lblcr: the plan copies scheduler_expire into the entry and sets the scan's length. */
Test(apply, lblc_entry_carries_its_expiry)
{
	struct xlvs_spec s;
	struct xlvs_service e;

	std_spec(&s);
	s.services[0].sched = XLVS_SCHED_LBLCR;
	s.services[0].sched_expire_s = 600;
	apply_ok(&W, &s);
	e = svc_entry(&W, &s.services[0]);
	cr_expect_eq(e.sched, XLVS_SCHED_LBLCR);
	cr_expect_eq(e.sched_expire, 600);
	cr_expect_eq(e.sched_len, s.services[0].nr_reals, "the scan covers every real");
	s.services[0].sched_expire_s = 0;
	apply_ok(&W, &s);
	cr_expect_eq(svc_entry(&W, &s.services[0]).sched_expire, 0, "0: the data path's 24 h");
	xlvs_spec_free(&s);
}
