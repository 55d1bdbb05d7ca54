/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The scheduler tables the data path reads (bpf/sched.h), one per service in
 * its xlvs_ring slice: what each scheduler keeps there and how it is built.
 */
#ifndef XLVS_SCHEDTAB_H
#define XLVS_SCHEDTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "maglev.h"

/*
 * The period of an rr/wrr sequence for these weights (0 for the other
 * schedulers, and when no real has a weight): rr one entry per weighted real,
 * wrr the sum of the weights over their greatest common divisor; for lc, wlc,
 * sed, nq, lblc and lblcr the number of reals (xlvs_service.sched_len: the scan's length).
 */
uint64_t xlvs_sched_period(uint8_t sched, const struct xlvs_maglev_backend *b, size_t n);

/*
 * Fill table[0..size) for scheduler sched from backends b[0..n), in the order
 * given (sh, dh, rr and wrr depend on it; maglev and mh do not):
 *   maglev, mh  xlvs_maglev_build()
 *   sh, dh      IPVS ip_vs_sh_reassign(): buckets dealt in order, each real
 *               taking `weight` consecutive ones (at least one, so a weight-0
 *               real keeps its place and its clients fall back or get none)
 *   rr, wrr     the sequence (period xlvs_sched_period()) repeated to fill
 *               the table, so a stale period still reads a real
 *   lc, wlc, sed, nq, lblc, lblcr  the reals in order, at most XLVS_LEAST_MAX_REALS
 * Returns 0, -EINVAL (unsupported scheduler, bad size or backend) or
 * -E2BIG (an rr/wrr period longer than size) or -ENOMEM.
 */
int xlvs_sched_build(uint8_t sched, uint32_t *table, uint32_t size, const struct xlvs_maglev_backend *b,
		     size_t n);

/* ipvsadm's -b name (sh-fallback, mh-port, ...): its XLVS_SVC_F_SCHED_* bit, *sched the
 * scheduler it belongs to; 0 when unknown. */
uint32_t xlvs_sched_flag_parse(const char *name, uint8_t *sched);
/* The name of flag (one XLVS_SVC_F_SCHED_* bit) for sched; NULL: sched has no such flag. */
const char *xlvs_sched_flag_name(uint8_t sched, uint32_t flag);
/* "sh-fallback, sh-port": the scheduler flags set in flags, "" when none. */
char *xlvs_sched_flags_str(uint8_t sched, uint32_t flags, char *buf, size_t size);

/*
 * Whether sched weighs its reals' connections (lc, wlc, sed, nq, lblc, lblcr):
 * their reals are XLVS_REAL_F_COUNTED, the data path keeps their
 * xlvs_real_load (docs/architecture.md, "Connection counts for
 * least-connection schedulers") and scans the service's reals, listed in
 * its slice (at most XLVS_LEAST_MAX_REALS). The one place that says which do.
 */
bool xlvs_sched_counts(uint8_t sched);

#endif /* XLVS_SCHEDTAB_H */
