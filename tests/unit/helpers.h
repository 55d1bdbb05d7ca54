/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers several unit suites share: the director's BPF object loaded with private maps, addresses. */
#ifndef XLVS_TEST_HELPERS_H
#define XLVS_TEST_HELPERS_H

#include <stdint.h>
#include <stdio.h>

#include "xlvs_lb.skel.h"
#include "ringio.h"
#include "xlvsmaps.h"

/* Loads it (root needed) with xlvs_conns / xlvs_ring sized as given (0: the object's default)
 * and, if m is not NULL, takes its maps into m. Fails the test on any error. */
struct xlvs_lb_bpf *unit_director_load(uint32_t conns, uint32_t ring_slots, struct xlvs_maps *m);
/* Entry id of a striped map (abi.h): vals[cpu], values of vsz bytes, into each possible CPU's stripe. */
void unit_stripes_put(int fd, uint32_t stride, uint32_t id, const void *vals, size_t vsz);

/*
 * xlvsd put together by hand around a loaded (not pinned, not attached) director's maps and a
 * health manager whose loop never runs, so no check result moves the state under the test.
 * unit_daemon_free() undoes it. Fails the test on any error.
 */
struct xlvsd;
struct xlvs_lb_bpf *unit_daemon_new(struct xlvsd *d);
/* The same with xlvs_ring sized for ring_slots (0: the object's default). */
struct xlvs_lb_bpf *unit_daemon_new_sized(struct xlvsd *d, uint32_t ring_slots);
/* The same with xlvs_conns and xlvs_nat created for conns entries (the kernel may round it up). */
struct xlvs_lb_bpf *unit_daemon_new_conns(struct xlvsd *d, uint32_t conns);
void unit_daemon_free(struct xlvsd *d, struct xlvs_lb_bpf *skel);
/* Run d's loop until n checked reals are down; fails the test after 5 s (UNIT_SLOW). */
void unit_wait_down(struct xlvsd *d, unsigned int n);
/* *v made a maglev DR service at vip, TCP port 80, with nr_reals reals left zeroed for the caller. */
void unit_dr_svc(struct xlvs_svc_spec *v, const char *vip, uint32_t ring, size_t nr_reals);
/* The same, appended to s. */
struct xlvs_svc_spec *unit_add_dr_svc(struct xlvs_spec *s, const char *vip, uint32_t ring, size_t nr_reals);

/*
 * Pins a unit test leaves on the host's bpffs go in a directory of the process that pins them,
 * UNIT_PIN_ROOT/xlvs-unit-WHAT-PID (WHAT: lowercase letters), so parallel tests and runs do not
 * meet. A test killed before its cleanup (SIGKILL, a timeout) leaves that directory and its maps
 * (a connection table's memory) pinned: unit_pin_dirs_clean() removes them when a run starts.
 */
#define UNIT_PIN_ROOT "/sys/fs/bpf"
/* buf gets UNIT_PIN_ROOT/xlvs-unit-<what>-<this process's pid>. */
void unit_pin_dir(char *buf, size_t size, const char *what);
/*
 * Under root, remove each directory named xlvs-unit-WHAT-PID whose PID no longer exists (kill(PID, 0):
 * ESRCH), with what is pinned in it, and write a line for each on log. Nothing else is touched: a
 * live process's directory, other names, files. Returns how many it removed; a root it cannot
 * read (no bpffs, not root) is 0. PIDs are this process's pid namespace's: runs in two pid
 * namespaces that share one bpffs would take each other's directories for dead ones.
 */
int unit_pin_dirs_clean(const char *root, FILE *log);

/* An address written as the configuration writes it; fails the test if it is not one. */
struct xlvs_addr unit_addr(const char *text);

/*
 * XLVS_TEST_SLOW=factor: how many times slower than an ordinary host this
 * machine runs the tests (vmtest's guest, emulated by qemu TCG, sets it; see
 * docs/testing.md). Unset: 1. Every Criterion .timeout is multiplied by it
 * before the run (a report hook in helpers.c) and tests multiply their own
 * wall-clock budgets with UNIT_SLOW(); what a test checks stays the same. A
 * value that is not a number from 1 to 100 stops the run with a message.
 */
double unit_slow(void);
#define UNIT_SLOW(budget) ((budget)*unit_slow())

#endif
