// SPDX-License-Identifier: GPL-2.0
/*
 * Health checks through the forwarding path: the configuration keys
 * (health_via_forwarding, health_mark), the mark range rules, and the marks
 * xlvs_hc_marks_sync() gives the reals (maps/hcmarks.c).
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config/conf.h"
#include "config/save.h"
#include "helpers.h"

#define FILE_NAME "test.yaml"
#define IF	  "interfaces: [eth0]\n"
#define VALUE	  0x584c0000u
#define MASK	  0xffff0000u

/* ---- configuration ---- */

static void parse(const char *yaml, struct xlvs_spec *s, char *msg, size_t size, int want)
{
	struct xlvs_conf_error err;
	int ret = xlvs_conf_parse(FILE_NAME, yaml, strlen(yaml), s, &err);

	xlvs_conf_error_format(&err, msg, size);
	cr_assert_eq(ret, want, "parse returned %d: %s", ret, msg);
}

Test(hcmarks, config_defaults_on)
{
	struct xlvs_spec s;
	char msg[300];

	parse(IF, &s, msg, sizeof(msg), 0);
	cr_expect_not(s.global.health_direct);
	cr_expect_eq(s.global.hc_mark_value, 0x584c0000u);
	cr_expect_eq(s.global.hc_mark_mask, 0xffff0000u);
	xlvs_spec_free(&s);
}

Test(hcmarks, config_keys)
{
	struct xlvs_conf_items it = { 0 };
	const struct xlvs_conf_item *item;
	struct xlvs_spec s;
	char msg[300];

	parse(IF "health_via_forwarding: false\nhealth_mark: 0x12340000/0xfffe0000\n", &s, msg, sizeof(msg),
	      0);
	cr_expect(s.global.health_direct);
	cr_expect_eq(s.global.hc_mark_value, 0x12340000u);
	cr_expect_eq(s.global.hc_mark_mask, 0xfffe0000u);
	cr_assert_eq(xlvs_conf_global_items(&s.global, &it), 0);
	item = xlvs_conf_item(&it, "health_via_forwarding");
	cr_assert_not_null(item);
	cr_expect_str_eq(item->val, "false");
	item = xlvs_conf_item(&it, "health_mark");
	cr_assert_not_null(item);
	cr_expect_str_eq(item->val, "\"0x12340000/0xfffe0000\"");
	xlvs_conf_items_free(&it);
	xlvs_spec_free(&s);
	parse(IF "health_mark: 1048576/4293918720\n", &s, msg, sizeof(msg), 0); /* decimal */
	cr_expect_eq(s.global.hc_mark_value, 0x00100000u);
	cr_expect_eq(s.global.hc_mark_mask, 0xfff00000u);
	xlvs_spec_free(&s);
}

static void config_error(const char *yaml, const char *want)
{
	struct xlvs_spec s;
	char msg[300];

	parse(yaml, &s, msg, sizeof(msg), -EINVAL);
	cr_expect_str_eq(msg, want);
}

Test(hcmarks, config_errors)
{
	config_error(IF "health_via_forwarding: yes\n",
		     FILE_NAME ":2:24: health_via_forwarding: boolean expected (true or false), got 'yes'");
	config_error(IF "health_mark: 0x584c0000\n", FILE_NAME
		     ":2:14: health_mark: '0x584c0000' is not VALUE/MASK (e.g. 0x584c0000/0xffff0000)");
	config_error(
		IF "health_mark: 0x584c0000/0xffff0000x\n", FILE_NAME
		":2:14: health_mark: '0x584c0000/0xffff0000x' is not VALUE/MASK (e.g. 0x584c0000/0xffff0000)");
	config_error(
		IF "health_mark: 0x584c0000/0x1ffffffff\n", FILE_NAME
		":2:14: health_mark: '0x584c0000/0x1ffffffff' is not VALUE/MASK (e.g. 0x584c0000/0xffff0000)");
	config_error(IF "health_mark: 0x584c0000/0xff0f0000\n", FILE_NAME
		     ":2:14: health_mark: mask 0xff0f0000 is not contiguous high bits (e.g. 0xffff0000)");
	config_error(IF "health_mark: 0x584c0000/0xffffff00\n", FILE_NAME
		     ":2:14: health_mark: mask 0xffffff00 leaves fewer than 16 bits for the marks (at "
		     "most 0xffff0000)");
	config_error(IF "health_mark: 0x584c0001/0xffff0000\n",
		     FILE_NAME ":2:14: health_mark: value 0x584c0001 has bits outside mask 0xffff0000");
	config_error(IF "health_mark: 0/0xffff0000\n", FILE_NAME
		     ":2:14: health_mark: value 0 would make a mark 0, which every unmarked packet has");
	config_error(IF "health_mark: 0/0\n", FILE_NAME
		     ":2:14: health_mark: mask 0x00000000 leaves fewer than 16 bits for the marks (at "
		     "most 0xffff0000)");
}

/* ---- marks ---- */

struct marks {
	struct xlvs_lb_bpf *skel;
	struct xlvs_maps m;
	uint32_t cursor;
	uint32_t mark_of[XLVS_MAX_REALS];
};

static struct marks M;

static void put_real(uint32_t id, uint8_t fwd, uint8_t flags, uint32_t gen)
{
	struct xlvs_real r = { .family = XLVS_AF_INET, .fwd = fwd, .flags = flags, .gen = gen };

	r.addr[0] = htonl(0xc6120100 + id);
	cr_assert_eq(bpf_map_update_elem(M.m.reals, &id, &r, 0), 0, "%s", strerror(errno));
}

static void sync_ok(uint32_t value, uint32_t mask)
{
	int err = xlvs_hc_marks_sync(&M.m, value, mask, &M.cursor, M.mark_of);

	cr_assert_eq(err, 0, "xlvs_hc_marks_sync: %s", strerror(-err));
}

/* The map holds mark -> (id, gen), checked against the expected entry. */
static void expect_entry(uint32_t mark, uint32_t id, uint32_t gen)
{
	struct xlvs_hc_target t;

	cr_assert_eq(bpf_map_lookup_elem(M.m.hc_marks, &mark, &t), 0, "mark 0x%08x missing", mark);
	cr_expect_eq(t.real_id, id, "mark 0x%08x: real %u, want %u", mark, t.real_id, id);
	cr_expect_eq(t.real_gen, gen, "mark 0x%08x: generation %u, want %u", mark, t.real_gen, gen);
}

static uint32_t nr_entries(void)
{
	uint32_t key, next, n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(M.m.hc_marks, prev, &next)) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

static void marks_setup(void)
{
	memset(&M, 0, sizeof(M));
	M.skel = unit_director_load(0, 0, &M.m);
}

static void marks_teardown(void)
{
	xlvs_maps_close(&M.m);
	xlvs_lb_bpf__destroy(M.skel);
}

TestSuite(hcmarks, .init = marks_setup, .fini = marks_teardown);

Test(hcmarks, one_mark_per_steered_real)
{
	put_real(0, XLVS_FWD_DR, XLVS_REAL_F_ACTIVE, 1);
	put_real(1, XLVS_FWD_TUN, XLVS_REAL_F_ACTIVE, 2);
	put_real(2, XLVS_FWD_NAT, XLVS_REAL_F_ACTIVE, 1);
	put_real(3, XLVS_FWD_GUE, 0, 1); /* not active */
	put_real(4, XLVS_FWD_LOCAL, XLVS_REAL_F_ACTIVE, 1);
	put_real(5, XLVS_FWD_GUE, XLVS_REAL_F_ACTIVE, 7);
	sync_ok(VALUE, MASK);
	cr_expect_eq(M.mark_of[0], 0x584c0001u);
	cr_expect_eq(M.mark_of[1], 0x584c0002u);
	cr_expect_eq(M.mark_of[2], 0);
	cr_expect_eq(M.mark_of[3], 0);
	cr_expect_eq(M.mark_of[4], 0);
	cr_expect_eq(M.mark_of[5], 0x584c0003u);
	expect_entry(0x584c0001u, 0, 1);
	expect_entry(0x584c0002u, 1, 2);
	expect_entry(0x584c0003u, 5, 7);
	cr_expect_eq(nr_entries(), 3);
	/* Again: every real keeps its mark, nothing written. */
	sync_ok(VALUE, MASK);
	cr_expect_eq(M.mark_of[0], 0x584c0001u);
	cr_expect_eq(M.mark_of[1], 0x584c0002u);
	cr_expect_eq(M.mark_of[5], 0x584c0003u);
	cr_expect_eq(nr_entries(), 3);
}

Test(hcmarks, freed_with_the_real_and_not_reused_at_once)
{
	put_real(0, XLVS_FWD_DR, XLVS_REAL_F_ACTIVE, 1);
	put_real(1, XLVS_FWD_TUN, XLVS_REAL_F_ACTIVE, 1);
	sync_ok(VALUE, MASK);
	/* Real 0 removed, id 1 given to another real (generation 2). */
	put_real(0, XLVS_FWD_DR, 0, 1);
	put_real(1, XLVS_FWD_TUN, XLVS_REAL_F_ACTIVE, 2);
	sync_ok(VALUE, MASK);
	cr_expect_eq(M.mark_of[0], 0);
	cr_expect_eq(M.mark_of[1], 0x584c0003u,
		     "the new real gets a fresh mark, not 0x584c0002 of the old one");
	expect_entry(0x584c0003u, 1, 2);
	cr_expect_eq(nr_entries(), 1);
}

Test(hcmarks, entries_outside_the_range_deleted)
{
	uint32_t foreign = 0x11110005u, beyond = 0x584c0000u | (XLVS_HC_MARK_SPAN - 1 + 1);
	struct xlvs_hc_target t = { .real_id = 0, .real_gen = 1 };

	put_real(0, XLVS_FWD_DR, XLVS_REAL_F_ACTIVE, 1);
	cr_assert_eq(bpf_map_update_elem(M.m.hc_marks, &foreign, &t, 0), 0);
	cr_assert_eq(bpf_map_update_elem(M.m.hc_marks, &beyond, &t, 0), 0);
	sync_ok(0x584c0000u, 0xfffc0000u); /* 18 free bits: the span (2 x reals) limits n */
	cr_expect_eq(M.mark_of[0], 0x584c0001u);
	cr_expect_eq(nr_entries(), 1);
}

Test(hcmarks, steering_off_empties_the_map)
{
	put_real(0, XLVS_FWD_DR, XLVS_REAL_F_ACTIVE, 1);
	put_real(1, XLVS_FWD_GUE, XLVS_REAL_F_ACTIVE, 1);
	sync_ok(VALUE, MASK);
	cr_assert_eq(nr_entries(), 2);
	sync_ok(0, 0);
	cr_expect_eq(nr_entries(), 0);
	cr_expect_eq(M.mark_of[0], 0);
	cr_expect_eq(M.mark_of[1], 0);
}

Test(hcmarks, adopted_marks_kept_duplicates_dropped)
{
	struct xlvs_hc_target t = { .real_id = 0, .real_gen = 1 };
	uint32_t a = 0x584c0040u, b = 0x584c0041u;

	/* As a restarted xlvsd finds them; a second mark for the same real is one too many. */
	put_real(0, XLVS_FWD_DR, XLVS_REAL_F_ACTIVE, 1);
	cr_assert_eq(bpf_map_update_elem(M.m.hc_marks, &a, &t, 0), 0);
	cr_assert_eq(bpf_map_update_elem(M.m.hc_marks, &b, &t, 0), 0);
	sync_ok(VALUE, MASK);
	cr_expect(M.mark_of[0] == a || M.mark_of[0] == b, "real 0 keeps an adopted mark, got 0x%08x",
		  M.mark_of[0]);
	cr_expect_eq(nr_entries(), 1);
}

Test(hcmarks, range_rules)
{
	char msg[160];

	cr_expect(xlvs_hc_mark_range_ok(0x584c0000u, 0xffff0000u, msg, sizeof(msg)));
	cr_expect(xlvs_hc_mark_range_ok(0x80000000u, 0x80000000u, msg, sizeof(msg)));
	cr_expect_not(xlvs_hc_mark_range_ok(0x584c0000u, 0xffff8000u, msg, sizeof(msg)));
	cr_expect_not(xlvs_hc_mark_range_ok(0x584c0000u, 0xfff0ff00u, msg, sizeof(msg)));
}
