// SPDX-License-Identifier: GPL-2.0
/*
 * Weighted Maglev ring builder (ringio.c writes rings into xlvs_ring).
 *
 * Maglev (Eisenbud et al., NSDI'16): every backend walks its own permutation
 * of the ring, slot = (offset + k * skip) mod M with M prime, and on each of
 * its turns claims the first slot of it not yet taken, until none is left.
 *
 * Weights (1 .. XLVS_MAGLEV_MAX_WEIGHT) set how often a backend gets a turn.
 * Backends of equal weight form a class that plays as one: its members take
 * their turns back to back, in key order. Turn k (k = 0, 1, ...) of a class
 * of weight w falls in round floor((2k + 1) * wmax / (2w)), so the heaviest
 * class plays every round and each class's turns are evenly spread and
 * centred, which keeps every backend within about one slot of its share
 * M * w / sum(w) while M is large against the number of backends. Classes
 * playing in the same round go in the order of their previous turns (in
 * round 0: heaviest first). Nothing depends on input order, and while wmax
 * stays the same, adding or removing a backend leaves the turns of all the
 * others in the same order.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "maglev.h"

/* Part of the ring's definition: directors disagree if these ever change. */
#define MG_SEED_OFFSET 0x6c7673206f666673ull
#define MG_SEED_SKIP   0x6c767320736b6970ull

#define MG_NONE UINT32_MAX /* end of a calendar bucket list */

/*
 * With F slots left a walk steps over ~M / F taken slots per claim, while
 * checking every free slot costs F: below this F the latter is cheaper.
 */
#define MG_ENDGAME 192

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

void xlvs_maglev_perm(const void *key, size_t key_len, uint32_t ring_size, uint32_t *offset, uint32_t *skip)
{
	*offset = mg_hash(key, key_len, MG_SEED_OFFSET) % ring_size;
	*skip = mg_hash(key, key_len, MG_SEED_SKIP) % (ring_size - 1) + 1;
}

struct mg_node {      /* a backend with weight > 0 */
	uint32_t pos; /* next slot of its permutation to try */
	uint32_t skip;
	uint32_t real_id;
	uint32_t inv; /* skip^-1 mod M, 0 until the endgame needs it */
};

struct mg_class { /* the backends of one weight: nodes [first, end) */
	uint32_t first;
	uint32_t end;
	uint32_t link; /* next class in the same calendar bucket */
	uint32_t step; /* rounds to its next turn: step, or step + 1 ... */
	uint32_t frac; /* ... when rem += frac reaches den */
	uint32_t den;
	uint32_t rem;
};

/* Scratch for one build, carved out of a single allocation. */
struct mg_work {
	const struct xlvs_maglev_backend **sorted;
	struct mg_node *node; /* weighted backends, by weight then key */
	struct mg_class *cls;
	uint32_t *head; /* calendar: FIFO of classes per round mod nbucket */
	uint32_t *tail;
	uint8_t *taken; /* one byte per ring slot */
	uint32_t nnode;
	uint32_t ncls;
	uint32_t nbucket;
	uint32_t nfree; /* endgame: the free slots, unordered */
	uint32_t free[MG_ENDGAME];
	uint64_t mu; /* 2^64 / M for mg_mulmod */
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

/* Heaviest first, then by key: each class becomes a run of nodes. */
static int mg_weight_cmp(const void *pa, const void *pb)
{
	const struct xlvs_maglev_backend *a = *(const struct xlvs_maglev_backend *const *)pa;
	const struct xlvs_maglev_backend *b = *(const struct xlvs_maglev_backend *const *)pb;

	if (a->weight != b->weight)
		return a->weight > b->weight ? -1 : 1;
	return mg_key_cmp(pa, pb);
}

/* Check the backends; count the weighted ones and find their weight range. */
static int mg_scan(const struct xlvs_maglev_backend *b, size_t n, uint32_t *nnode, uint32_t *wmin,
		   uint32_t *wmax)
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
		if (b[i].weight > XLVS_MAGLEV_MAX_WEIGHT || b[i].real_id == XLVS_MAGLEV_EMPTY)
			return -EINVAL;
		++*nnode;
		if (b[i].weight < *wmin)
			*wmin = b[i].weight;
		if (b[i].weight > *wmax)
			*wmax = b[i].weight;
	}
	return 0;
}

static void *mg_alloc(struct mg_work *w, uint32_t m, size_t n, uint32_t wmin, uint32_t wmax)
{
	char *p;

	/* A class's next turn is at most wmax / wmin + 1 rounds away. */
	w->nbucket = w->nnode ? wmax / wmin + 2 : 0;
	p = malloc(n * sizeof(*w->sorted) + w->nnode * sizeof(*w->node) + w->nnode * sizeof(*w->cls) +
		   2 * w->nbucket * sizeof(*w->head) + m);
	if (!p)
		return NULL;
	w->sorted = (const struct xlvs_maglev_backend **)p;
	w->node = (struct mg_node *)(w->sorted + n);
	w->cls = (struct mg_class *)(w->node + w->nnode);
	w->head = (uint32_t *)(w->cls + w->nnode);
	w->tail = w->head + w->nbucket;
	w->taken = (uint8_t *)(w->tail + w->nbucket);
	memset(w->head, 0xff, w->nbucket * sizeof(*w->head));
	memset(w->taken, 0, m);
	w->ncls = 0;
	w->nfree = 0;
	w->mu = UINT64_MAX / m;
	return p;
}

/* Order by key so that input order cannot matter; equal keys are an error. */
static int mg_check_keys(struct mg_work *w, const struct xlvs_maglev_backend *b, size_t n)
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

static void mg_push(struct mg_work *w, uint32_t c, uint32_t bucket)
{
	w->cls[c].link = MG_NONE;
	if (w->head[bucket] == MG_NONE)
		w->head[bucket] = c;
	else
		w->cls[w->tail[bucket]].link = c;
	w->tail[bucket] = c;
}

/* Open a class for nodes from `first` on and schedule its first turn. */
static void mg_add_class(struct mg_work *w, uint32_t first, uint32_t weight, uint32_t wmax)
{
	struct mg_class *cl = &w->cls[w->ncls];

	cl->first = first;
	cl->end = first;
	/* Turn k is in round floor((2k + 1) * wmax / den); see the top. */
	cl->den = 2 * weight;
	cl->step = wmax / weight;
	cl->frac = 2 * (wmax % weight);
	cl->rem = wmax % cl->den;
	mg_push(w, w->ncls++, wmax / cl->den);
}

/* Derive each weighted backend's permutation and group them into classes. */
static void mg_init(struct mg_work *w, uint32_t m, size_t n, uint32_t wmax)
{
	uint32_t i;

	/* The weighted backends come first, as runs of equal weight. */
	qsort(w->sorted, n, sizeof(*w->sorted), mg_weight_cmp);
	for (i = 0; i < w->nnode; i++) {
		const struct xlvs_maglev_backend *b = w->sorted[i];
		struct mg_node *nd = &w->node[i];

		xlvs_maglev_perm(b->key, b->key_len, m, &nd->pos, &nd->skip);
		nd->real_id = b->real_id;
		nd->inv = 0;
		if (!i || b->weight != w->sorted[i - 1]->weight)
			mg_add_class(w, i, b->weight, wmax);
		w->cls[w->ncls - 1].end = i + 1;
	}
}

/* Next slot of a permutation; written so both outcomes compute in parallel. */
static inline uint32_t mg_step(uint32_t p, uint32_t skip, uint32_t m)
{
	return p >= m - skip ? p - (m - skip) : p + skip;
}

/* The node's next free slot, found by walking its permutation. */
static uint32_t mg_walk(uint8_t *taken, const struct mg_node *nd, uint32_t m)
{
	uint32_t p = nd->pos;

	while (taken[p])
		p = mg_step(p, nd->skip, m);
	taken[p] = 1;
	return p;
}

/* a * b mod m for a, b < m by Barrett reduction with mu = 2^64 / m: the
 * quotient estimate is at most one too small, so one correction does. */
static inline uint32_t mg_mulmod(uint32_t a, uint32_t b, uint32_t m, uint64_t mu)
{
	uint64_t x = (uint64_t)a * b;
	uint64_t r = x - (uint64_t)(((unsigned __int128)x * mu) >> 64) * m;

	return r >= m ? r - m : r;
}

/* skip^-1 mod m (m prime), by the extended Euclidean algorithm. */
static uint32_t mg_inverse(uint32_t skip, uint32_t m)
{
	uint32_t r = m, nr = skip, q, x;
	int32_t t = 0, nt = 1, y;

	while (nr) {
		q = r / nr;
		y = t - (int32_t)q * nt;
		t = nt;
		nt = y;
		x = r - q * nr;
		r = nr;
		nr = x;
	}
	return t < 0 ? t + (int32_t)m : t;
}

/*
 * The node's next free slot as mg_walk would find it: the free slot s with
 * the fewest steps (s - pos) * skip^-1 mod m ahead in its permutation.
 */
static uint32_t mg_search(struct mg_work *w, struct mg_node *nd, uint32_t m)
{
	uint32_t j, s, d, dmin = UINT32_MAX, best = 0;

	if (!nd->inv)
		nd->inv = mg_inverse(nd->skip, m);
	for (j = 0; j < w->nfree; j++) {
		s = w->free[j];
		d = mg_mulmod(s >= nd->pos ? s - nd->pos : s + m - nd->pos, nd->inv, m, w->mu);
		if (d < dmin) {
			dmin = d;
			best = j;
		}
	}
	s = w->free[best];
	w->free[best] = w->free[--w->nfree];
	return s;
}

static void mg_start_endgame(struct mg_work *w, uint32_t m)
{
	uint32_t p;

	for (p = 0; p < m; p++)
		if (!w->taken[p])
			w->free[w->nfree++] = p;
}

/* Bucket of the class's next turn, given that this one is in bucket b. */
static uint32_t mg_next_bucket(struct mg_class *cl, uint32_t b, uint32_t nbucket)
{
	b += cl->step;
	cl->rem += cl->frac;
	if (cl->rem >= cl->den) {
		cl->rem -= cl->den;
		b++;
	}
	return b >= nbucket ? b - nbucket : b;
}

/* Give the class's members their turns; returns the slots still free. */
static uint32_t mg_turns(struct mg_work *w, const struct mg_class *cl, uint32_t *ring, uint32_t m,
			 uint32_t left)
{
	struct mg_node *nd = &w->node[cl->first], *end = &w->node[cl->end];
	uint32_t p;

	for (; nd < end && left; nd++) {
		p = left > MG_ENDGAME ? mg_walk(w->taken, nd, m) : mg_search(w, nd, m);
		ring[p] = nd->real_id;
		nd->pos = mg_step(p, nd->skip, m);
		if (--left == MG_ENDGAME)
			mg_start_endgame(w, m);
	}
	return left;
}

static void mg_fill(struct mg_work *w, uint32_t *ring, uint32_t m)
{
	uint32_t b, c, next, left = m;

	if (m <= MG_ENDGAME)
		mg_start_endgame(w, m);
	for (b = 0;; b = b + 1 == w->nbucket ? 0 : b + 1) {
		c = w->head[b];
		w->head[b] = MG_NONE;
		for (; c != MG_NONE; c = next) {
			next = w->cls[c].link;
			left = mg_turns(w, &w->cls[c], ring, m, left);
			if (!left)
				return;
			mg_push(w, c, mg_next_bucket(&w->cls[c], b, w->nbucket));
		}
	}
}

int xlvs_maglev_build(uint32_t *ring, uint32_t ring_size, const struct xlvs_maglev_backend *b, size_t n)
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
	err = mg_check_keys(&w, b, n);
	if (!err && !w.nnode) {
		for (i = 0; i < ring_size; i++)
			ring[i] = XLVS_MAGLEV_EMPTY;
	} else if (!err) {
		mg_init(&w, ring_size, n, wmax);
		mg_fill(&w, ring, ring_size);
	}
	free(mem);
	return err;
}

uint32_t xlvs_ring_diff(const uint32_t *old_ring, const uint32_t *new_ring, uint32_t ring_size, uint32_t *idx)
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
