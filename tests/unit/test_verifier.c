// SPDX-License-Identifier: GPL-2.0
/*
 * The director's cost to the verifier, for both builds xlvsd may carry: this
 * one (BPF ISA v3) and the upgrade test's (ISA v2, the build an older release
 * stands for). The kernel refuses a program whose verification processes a
 * million instructions (E2BIG); both must stay well below, so a change that
 * eats the margin fails here, naming the count, and not as a start or an
 * upgrade that cannot load. (Reading the ring through blocks once took the v2
 * build from 644k to past the limit: only the e2e upgrade scenario saw it.)
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "xlvs_lb.skel.h"

#define VERIFIER_LIMIT 1000000ul
#define HEADROOM_MAX   850000ul /* processed instructions allowed: 15% below the limit */
#define LOG_SIZE       (1u << 16)

/* Load obj's xlvs_lb with the verifier's statistics; the instructions it processed. */
static unsigned long processed(struct bpf_object *obj, struct bpf_program *prog)
{
	char *log = calloc(1, LOG_SIZE), *at;
	unsigned long n = 0;
	struct bpf_map *m;
	int err;

	cr_assert_not_null(log);
	bpf_object__for_each_map (m, obj)
		bpf_map__set_pin_path(m, NULL); /* private maps */
	cr_assert_eq(bpf_program__set_log_level(prog, 4 /* BPF_LOG_STATS */), 0);
	cr_assert_eq(bpf_program__set_log_buf(prog, log, LOG_SIZE), 0);
	err = bpf_object__load(obj);
	at = strstr(log, "processed ");
	cr_assert_not_null(at, "no verifier statistics (load: %s): %s", strerror(-err), log);
	cr_assert_eq(sscanf(at, "processed %lu insns", &n), 1, "%s", at);
	cr_expect_eq(err, 0, "xlvs_lb refused after %lu instructions: %s", n, strerror(-err));
	free(log);
	return n;
}

Test(verifier, this_build_has_headroom)
{
	struct xlvs_lb_bpf *skel = xlvs_lb_bpf__open();
	unsigned long n;

	cr_assert_not_null(skel);
	n = processed(skel->obj, skel->progs.xlvs_lb);
	cr_log_info("xlvs_lb (ISA v3): %lu instructions processed", n);
	cr_expect_leq(n, HEADROOM_MAX,
		      "xlvs_lb: %lu instructions processed, more than %lu of the verifier's %lu", n,
		      HEADROOM_MAX, VERIFIER_LIMIT);
	xlvs_lb_bpf__destroy(skel);
}

Test(verifier, isa_v2_build_has_headroom)
{
	struct bpf_object *obj = bpf_object__open_file(XLVS_UPGRADE_OBJ, NULL);
	unsigned long n;

	cr_assert_not_null(obj, "open %s (built by make all): %s", XLVS_UPGRADE_OBJ, strerror(errno));
	n = processed(obj, bpf_object__find_program_by_name(obj, "xlvs_lb"));
	cr_log_info("xlvs_lb (ISA v2): %lu instructions processed", n);
	cr_expect_leq(n, HEADROOM_MAX,
		      "xlvs_lb v2: %lu instructions processed, more than %lu of the verifier's %lu", n,
		      HEADROOM_MAX, VERIFIER_LIMIT);
	bpf_object__close(obj);
}
