/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Maglev consistent-hashing ring (Eisenbud et al., NSDI'16) with weights,
 * built in userspace and written into a slice of the xlvs_ring BPF array.
 */
#ifndef XLVS_MAGLEV_H
#define XLVS_MAGLEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xlvs/abi.h>

/* An empty slot holds XLVS_REAL_NONE (0xffffffff), which no real may use. */
#define XLVS_MAGLEV_EMPTY XLVS_REAL_NONE

/* Largest ring and weight accepted: they bound the scratch memory. */
#define XLVS_MAGLEV_MAX_SIZE   (1u << 24)
#define XLVS_MAGLEV_MAX_WEIGHT 65535u

struct xlvs_maglev_backend {
	uint32_t real_id; /* value written into the ring slots */
	uint32_t weight;  /* 0 = takes no slot (drained) */
	const void *key;  /* stable identity bytes (e.g. address + port) that fix */
	size_t key_len;	  /* this backend's permutation on every director */
};

bool xlvs_is_prime(uint32_t n);

/* The permutation a key walks in a ring of prime size ring_size:
 * slot k is (offset + k * skip) mod ring_size, 1 <= skip < ring_size. */
void xlvs_maglev_perm(const void *key, size_t key_len, uint32_t ring_size, uint32_t *offset, uint32_t *skip);

/*
 * Fill ring[0..ring_size) with real ids. ring_size must be a prime no larger
 * than XLVS_MAGLEV_MAX_SIZE. Backends of weight 0 take no slot; if none has a
 * weight, every slot is XLVS_MAGLEV_EMPTY. The ring depends only on the set of
 * backends, not on their order. Returns 0 or -EINVAL (bad size, NULL key,
 * duplicate key, weight above XLVS_MAGLEV_MAX_WEIGHT, XLVS_REAL_NONE as a
 * weighted real id), -E2BIG (more than XLVS_MAX_REALS backends, ring larger
 * than XLVS_MAGLEV_MAX_SIZE) or -ENOMEM.
 */
int xlvs_maglev_build(uint32_t *ring, uint32_t ring_size, const struct xlvs_maglev_backend *b, size_t n);

/* Count the slots that differ; if idx != NULL store their indexes there
 * (room for ring_size entries), in increasing order. */
uint32_t xlvs_ring_diff(const uint32_t *old_ring, const uint32_t *new_ring, uint32_t ring_size,
			uint32_t *idx);

/* The ring's slot I/O, xlvs_ring_write() included, is ringio.h's. */
#include "ringio.h"

#endif /* XLVS_MAGLEV_H */
