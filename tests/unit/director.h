/* SPDX-License-Identifier: GPL-2.0 */
/* The director's BPF object loaded for a unit test: private maps, nothing pinned or attached. */
#ifndef XLVS_TEST_DIRECTOR_H
#define XLVS_TEST_DIRECTOR_H

#include <stdint.h>

#include "xlvs_lb.skel.h"
#include "xlvsmaps.h"

/* Loads it (root needed) with xlvs_conns / xlvs_ring sized as given (0: the object's default)
 * and, if m is not NULL, takes its maps into m. Fails the test on any error. */
struct xlvs_lb_bpf *unit_director_load(uint32_t conns, uint32_t ring_slots, struct xlvs_maps *m);

#endif
