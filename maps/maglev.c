// SPDX-License-Identifier: GPL-2.0
/*
 * Weighted Maglev ring builder and BPF ring writer.
 *
 * Every backend walks its own permutation of the ring (offset + k * skip mod
 * M, M prime) and claims the first slot not yet taken. Weights decide how
 * often a backend gets a turn: the k-th turn (k = 0, 1, ...) of a backend of
 * weight w comes in round floor((2k + 1) * wmax / (2 * w)), so the heaviest
 * backends play every round and every backend's turns are evenly spread and
 * centred, which keeps slot counts within about one slot of M * w / sum(w).
 * Backends that play in the same round go first-come first-served by their
 * previous turn, and the first round goes in key order; neither depends on
 * the other backends, so adding or removing one barely reorders the rest.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "maglev.h"

/* Part of the ring's definition: directors disagree if these ever change. */
#define MG_SEED_OFFSET	0x6c7673206f666673ull
#define MG_SEED_SKIP	0x6c767320736b6970ull

#define MG_NONE		UINT32_MAX	/* end of a calendar bucket list */

bool xlvs_is_prime(uint32_t n)
{
	uint32_t d;

	if (n < 4)
		return n >= 2;
	if (n % 2 == 0 || n % 3 == 0)
		return false;
	for (d = 5; (uint64_t)d * d <= n; d += 6)
		if (n % d == 0 || n % (d + 2) == 0)
			return false;
	return true;
}

/* splitmix64's finalizer: a bijection where every output bit depends on
 * every input bit, so keys differing in one byte get unrelated hashes. */
static uint64_t mg_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Bytes are packed into words little-endian by hand so that directors of
 * either endianness derive the same permutation from the same key. */
static uint64_t mg_hash(const uint8_t *p, size_t len, uint64_t seed)
{
	uint64_t h = mg_mix(seed + len);
	uint64_t w = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		w |= (uint64_t)p[i] << (8 * (i & 7));
		if ((i & 7) == 7 || i + 1 == len) {
			h = mg_mix(h ^ w);
			w = 0;
		}
	}
	return h;
}

/* A backend with weight > 0; the fields the fill loop reads come first. */
struct mg_node {
	uint32_t pos;		/* next slot of its permutation to try */
	uint32_t skip;
	uint32_t real_id;
	uint32_t link;		/* next node in the same calendar bucket */
	uint32_t step;		/* rounds between turns: step, or step + 1 ... */
	uint32_t frac;		/* ... when rem += frac reaches den */
	uint32_t den;
	uint32_t rem;
};

/* Scratch for one build, carved out of a single allocation. */
struct mg_work {
	uint8_t *taken;		/* one byte per ring slot */
	const struct xlvs_maglev_backend **sorted;
	struct mg_node *node;	/* weighted backends in key order */
	uint32_t *head;		/* calendar: FIFO of nodes per round mod nbucket */
	uint32_t *tail;
	uint32_t nbucket;
	uint32_t nnode;
};

static int mg_key_cmp(const void *pa, const void *pb)
{
	const struct xlvs_maglev_backend *a = *(const struct xlvs_maglev_backend *const *)pa;
	const struct xlvs_maglev_backend *b = *(const struct xlvs_maglev_backend *const *)pb;
	size_t len = a->key_len < b->key_len ? a->key_len : b->key_len;
	int c = len ? memcmp(a->key, b->key, len) : 0;

	if (c)
		return c;
	return (a->key_len > b->key_len) - (a->key_len < b->key_len);
}

/* Check the backends and find how many are weighted and their weight range. */
static int mg_scan(const struct xlvs_maglev_backend *b, size_t n,
		   uint32_t *nnode, uint32_t *wmin, uint32_t *wmax)
{
	size_t i;

	*nnode = 0;
	*wmin = UINT32_MAX;
	*wmax = 0;
	for (i = 0; i < n; i++) {
		if (!b[i].key && b[i].key_len)
			return -EINVAL;
		if (!b[i].weight)
			continue;
		if (b[i].real_id == XLVS_MAGLEV_EMPTY)
			return -EINVAL;
		++*nnode;
		if (b[i].weight < *wmin)
			*wmin = b[i].weight;
		if (b[i].weight > *wmax)
			*wmax = b[i].weight;
	}
	return 0;
}

static void *mg_alloc(struct mg_work *w, uint32_t m, size_t n, uint32_t wmin,
		      uint32_t wmax)
{
		char *p;

	/* A turn is at most wmax / wmin + 1 rounds after the previous one. */
	w->nbucket = w->nnode ? wmax / wmin + 2 : 0;
	p = malloc(n * sizeof(*w->sorted) + m +
		   w->nnode * sizeof(*w->node) + 2 * w->nbucket * sizeof(*w->head));
	if (!p)
		return NULL;
	w->sorted = (const struct xlvs_maglev_backend **)p;
	w->node = (struct mg_node *)(w->sorted + n);
	w->head = (uint32_t *)(w->node + w->nnode);
	w->tail = w->head + w->nbucket;
	w->taken = (uint8_t *)(w->tail + w->nbucket);
	memset(w->taken, 0, m);
	memset(w->head, 0xff, w->nbucket * sizeof(*w->head));
	return p;
}

/* Sort by key so that input order cannot matter; equal keys are an error. */
static int mg_sort(struct mg_work *w, const struct xlvs_maglev_backend *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		w->sorted[i] = &b[i];
	qsort(w->sorted, n, sizeof(*w->sorted), mg_key_cmp);
	for (i = 1; i < n; i++)
		if (!mg_key_cmp(&w->sorted[i - 1], &w->sorted[i]))
			return -EINVAL;
	return 0;
}

static void mg_push(struct mg_work *w, uint32_t i, uint32_t bucket)
{
	w->node[i].link = MG_NONE;
	if (w->head[bucket] == MG_NONE)
		w->head[bucket] = i;
	else
		w->node[w->tail[bucket]].link = i;
	w->tail[bucket] = i;
}

/* Derive each weighted backend's permutation and schedule its first turn. */
static void mg_init(struct mg_work *w, uint32_t m, size_t n, uint32_t wmax)
{
	uint32_t i = 0;
	size_t j;

	for (j = 0; j < n; j++) {
		const struct xlvs_maglev_backend *b = w->sorted[j];
		struct mg_node *nd = &w->node[i];

		if (!b->weight)
			continue;
		nd->pos = mg_hash(b->key, b->key_len, MG_SEED_OFFSET) % m;
		nd->skip = mg_hash(b->key, b->key_len, MG_SEED_SKIP) % (m - 1) + 1;
		nd->real_id = b->real_id;
		/* Turn k is in round floor((2k + 1) * wmax / den); see top. */
		nd->den = 2 * b->weight;
		nd->step = wmax / b->weight;
		nd->frac = 2 * (wmax % b->weight);
		nd->rem = wmax % nd->den;
		mg_push(w, i++, wmax / nd->den);
	}
}

/* Next slot of a permutation; written so both outcomes compute in parallel. */
static inline uint32_t mg_step(uint32_t p, uint32_t skip, uint32_t m)
{
	return p >= m - skip ? p - (m - skip) : p + skip;
}

/* Take the next free slot of the node's permutation. */
static void mg_claim(uint32_t *ring, struct mg_node *nd, uint32_t m)
{
	uint32_t p = nd->pos;

	while (ring[p] != XLVS_MAGLEV_EMPTY)
		p = mg_step(p, nd->skip, m);
	ring[p] = nd->real_id;
	nd->pos = mg_step(p, nd->skip, m);
}

/* Bucket of the node's next turn, given that this one is in bucket b. */
static uint32_t mg_next_bucket(struct mg_node *nd, uint32_t b, uint32_t nbucket)
{
	b += nd->step;
	nd->rem += nd->frac;
	if (nd->rem >= nd->den) {
		nd->rem -= nd->den;
		b++;
	}
	return b >= nbucket ? b - nbucket : b;
}

static void mg_fill(struct mg_work *w, uint32_t *ring, uint32_t m)
{
	uint32_t b, i, next, filled = 0;

	for (b = 0;; b = b + 1 == w->nbucket ? 0 : b + 1) {
		i = w->head[b];
		w->head[b] = MG_NONE;
		for (; i != MG_NONE; i = next) {
			next = w->node[i].link;
			mg_claim(ring, &w->node[i], m);
			if (++filled == m)
				return;
			mg_push(w, i, mg_next_bucket(&w->node[i], b, w->nbucket));
		}
	}
}

int xlvs_maglev_build(uint32_t *ring, uint32_t ring_size,
		      const struct xlvs_maglev_backend *b, size_t n)
{
	struct mg_work w;
	uint32_t i, wmin, wmax;
	void *mem;
	int err;

	if (!ring || !xlvs_is_prime(ring_size) || (n && !b))
		return -EINVAL;
	if (ring_size > XLVS_MAGLEV_MAX_SIZE || n > XLVS_MAX_REALS)
		return -E2BIG;
	err = mg_scan(b, n, &w.nnode, &wmin, &wmax);
	if (err)
		return err;
	mem = mg_alloc(&w, ring_size, n, wmin, wmax);
	if (!mem)
		return -ENOMEM;
	err = mg_sort(&w, b, n);
	for (i = 0; i < ring_size; i++)
		ring[i] = XLVS_MAGLEV_EMPTY;
	if (!err && w.nnode) {
		mg_init(&w, ring_size, n, wmax);
		mg_fill(&w, ring, ring_size);
	}
	free(mem);
	return err;
}

uint32_t xlvs_ring_diff(const uint32_t *old_ring, const uint32_t *new_ring,
			uint32_t ring_size, uint32_t *idx)
{
	uint32_t i, n = 0;

	for (i = 0; i < ring_size; i++) {
		if (old_ring[i] == new_ring[i])
			continue;
		if (idx)
			idx[n] = i;
		n++;
	}
	return n;
}

#define MG_CHUNK	4096	/* slots per update syscall */
#define MG_ENOTSUPP	524	/* kernel-internal "no such op", leaks out of bpf(2) */

struct mg_batch {
	int fd;
	bool single;		/* no batch updates here: one syscall per slot */
	uint32_t n;
	uint32_t key[MG_CHUNK];
	uint32_t val[MG_CHUNK];
};

static int mg_flush(struct mg_batch *bt)
{
	__u32 i, count = bt->n;
	int err;

	if (!bt->single) {
		err = bpf_map_update_batch(bt->fd, bt->key, bt->val, &count, NULL);
		if (err != -EINVAL && err != -ENOTSUP && err != -MG_ENOTSUPP)
			goto out;
		bt->single = true;
	}
	for (i = 0, err = 0; i < bt->n && !err; i++)
		err = bpf_map_update_elem(bt->fd, &bt->key[i], &bt->val[i], BPF_ANY);
out:
	bt->n = 0;
	return err;
}

int xlvs_ring_write(int map_fd, uint32_t base, const uint32_t *old_ring,
		    const uint32_t *new_ring, uint32_t ring_size)
{
	struct mg_batch *bt;
	uint32_t i, written = 0;
	int err = 0;

	if (!new_ring || ring_size > INT_MAX || (uint64_t)base + ring_size > 1ull << 32)
		return -EINVAL;
	bt = malloc(sizeof(*bt));
	if (!bt)
		return -ENOMEM;
	bt->fd = map_fd;
	bt->single = false;
	bt->n = 0;
	for (i = 0; i < ring_size && !err; i++) {
		if (old_ring && old_ring[i] == new_ring[i])
			continue;
		bt->key[bt->n] = base + i;
		bt->val[bt->n] = new_ring[i];
		written++;
		if (++bt->n == MG_CHUNK)
			err = mg_flush(bt);
	}
	if (!err && bt->n)
		err = mg_flush(bt);
	free(bt);
	return err ? err : (int)written;
}
