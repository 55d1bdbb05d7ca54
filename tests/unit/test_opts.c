// SPDX-License-Identifier: GPL-2.0
/*
 * The CLI's option-table parser (cli/args.c, xlvs_parse_opts) as a table of
 * command lines: each row is argv, the exit code, and either what the parser
 * stored (rendered as one line) or the first line of its error. A test table
 * uses every kind of entry; the commands' own tables are checked through the
 * usage lines they generate, which docs/man/xlvs.8.scd shows.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "xlvs.h"

struct targs {
	struct xlvs_endpoint svc, real;
	const char *name;
	int flag, color, onoff;
	uint32_t count, need;
	double secs;
};

static bool no_slash(const void *v)
{
	return !strchr(*(const char *const *)v, '/');
}

static int color_word(const char *w)
{
	return !strcmp(w, "red") ? 0 : !strcmp(w, "blue") ? 1 : -1;
}

static const struct xlvs_opt topts[] = {
	{ .arg = "SERVICE",
	  .kind = XLVS_OPT_SERVICE,
	  .flags = XLVS_OPT_POS | XLVS_OPT_REQUIRED,
	  .off = offsetof(struct targs, svc),
	  .missing = "SERVICE (VIP[:PORT])" },
	{ .arg = "REAL", .kind = XLVS_OPT_REAL, .flags = XLVS_OPT_POS, .off = offsetof(struct targs, real) },
	{ .name = "name",
	  .kind = XLVS_OPT_STRING,
	  .flags = XLVS_OPT_POS,
	  .arg = "STR",
	  .ok = no_slash,
	  .off = offsetof(struct targs, name),
	  .help = "a name without '/'" },
	{ .name = "--flag",
	  .alias = "flag",
	  .kind = XLVS_OPT_FLAG,
	  .value = 7,
	  .off = offsetof(struct targs, flag),
	  .help = "sets 7" },
	{ .name = "--need",
	  .kind = XLVS_OPT_U32,
	  .arg = "N",
	  .max = UINT32_MAX,
	  .needs = "--flag",
	  .off = offsetof(struct targs, need) },
	{ .name = "count",
	  .alias = "cnt",
	  .kind = XLVS_OPT_U32,
	  .arg = "N",
	  .min = 1,
	  .max = 10,
	  .off = offsetof(struct targs, count) },
	{ .name = "-s|--secs",
	  .kind = XLVS_OPT_SECS,
	  .arg = "SECS",
	  .what = "invalid interval",
	  .hint = "seconds",
	  .off = offsetof(struct targs, secs) },
	{ .name = "color",
	  .kind = XLVS_OPT_ENUM,
	  .arg = "red|blue",
	  .parse = color_word,
	  .hint = "red or blue",
	  .off = offsetof(struct targs, color) },
	{ .name = "on",
	  .kind = XLVS_OPT_FLAG,
	  .value = 1,
	  .off = offsetof(struct targs, onoff),
	  .help = "on or off" },
	{ .name = "off", .kind = XLVS_OPT_FLAG, .value = 0, .off = offsetof(struct targs, onoff) },
	{ .name = "-v|--verbose", .kind = XLVS_OPT_GLOBAL },
	{ 0 },
};

#define BASE "svc=198.18.0.10:80/0 real=- name=- flag=0 need=0 count=0 secs=0 color=-1 onoff=-1 v=0 j=0"

struct row {
	const char *words[10];
	int rc;
	const char *want; /* rc 0: the rendered args; else stderr's first line */
};

static const struct row rows[] = {
	/* positionals */
	{ { "198.18.0.10:80" }, 0, BASE },
	{ { "198.18.0.10:80", "udp" },
	  0,
	  "svc=198.18.0.10:80/17 real=- name=- flag=0 need=0 count=0 secs=0 color=-1 onoff=-1 v=0 j=0" },
	{ { "198.18.0.10:80/tcp", "udp" },
	  1,
	  "xlvs: two protocols for one service: '198.18.0.10:80/tcp' and 'udp'" },
	{ { "198.18.0.10:80", "198.18.1.1" },
	  0,
	  "svc=198.18.0.10:80/0 real=198.18.1.1 name=- flag=0 need=0 count=0 secs=0 color=-1 onoff=-1 v=0 j=0" },
	{ { "198.18.0.10:80", "198.18.1.1", "eth0" },
	  0,
	  "svc=198.18.0.10:80/0 real=198.18.1.1 name=eth0 flag=0 need=0 count=0 secs=0 color=-1 onoff=-1 v=0 j=0" },
	{ { "198.18.0.10:80", "198.18.1.1", "eth0", "eth1" }, 1, "xlvs: unexpected argument 'eth1'" },
	{ { "198.18.0.10:80", "198.18.1.1/tcp" },
	  1,
	  "xlvs: '198.18.1.1/tcp': a real server takes no /protocol" },
	{ {}, 1, "xlvs: missing SERVICE (VIP[:PORT])" },
	{ { "198.18.0.10:80", "-1" }, 1, "xlvs: invalid address '-1'" },
	{ { "--bogus" }, 1, "xlvs: unknown option '--bogus'" },
	{ { "-" }, 1, "xlvs: unknown option '-'" },
	/* a named positional: once only, by name or bare */
	{ { "198.18.0.10:80", "name", "eth0" },
	  0,
	  "svc=198.18.0.10:80/0 real=- name=eth0 flag=0 need=0 count=0 secs=0 color=-1 onoff=-1 v=0 j=0" },
	{ { "198.18.0.10:80", "name", "eth0", "name", "eth1" }, 1, "xlvs: unexpected argument 'name'" },
	{ { "198.18.0.10:80", "name", "a/b" }, 1, "xlvs: invalid name 'a/b'" },
	/* keywords may come before the positionals */
	{ { "count", "2", "198.18.0.10:80" },
	  0,
	  "svc=198.18.0.10:80/0 real=- name=- flag=0 need=0 count=2 secs=0 color=-1 onoff=-1 v=0 j=0" },
	/* flags */
	{ { "198.18.0.10:80", "--flag" },
	  0,
	  "svc=198.18.0.10:80/0 real=- name=- flag=7 need=0 count=0 secs=0 color=-1 onoff=-1 v=0 j=0" },
	{ { "198.18.0.10:80", "flag" },
	  0,
	  "svc=198.18.0.10:80/0 real=- name=- flag=7 need=0 count=0 secs=0 color=-1 onoff=-1 v=0 j=0" },
	{ { "198.18.0.10:80", "--flag=1" }, 1, "xlvs: unknown option '--flag=1'" },
	{ { "198.18.0.10:80", "on", "off" },
	  0,
	  "svc=198.18.0.10:80/0 real=- name=- flag=0 need=0 count=0 secs=0 color=-1 onoff=0 v=0 j=0" },
	/* numbers */
	{ { "198.18.0.10:80", "cnt", "10" },
	  0,
	  "svc=198.18.0.10:80/0 real=- name=- flag=0 need=0 count=10 secs=0 color=-1 onoff=-1 v=0 j=0" },
	{ { "198.18.0.10:80", "count", "2", "count", "3" },
	  0,
	  "svc=198.18.0.10:80/0 real=- name=- flag=0 need=0 count=3 secs=0 color=-1 onoff=-1 v=0 j=0" },
	{ { "198.18.0.10:80", "count", "11" }, 1, "xlvs: invalid count '11' (1-10)" },
	{ { "198.18.0.10:80", "count", "-1" }, 1, "xlvs: invalid count '-1' (1-10)" },
	{ { "198.18.0.10:80", "count" }, 1, "xlvs: 'count' needs a value" },
	{ { "198.18.0.10:80", "--flag", "--need=5" },
	  0,
	  "svc=198.18.0.10:80/0 real=- name=- flag=7 need=5 count=0 secs=0 color=-1 onoff=-1 v=0 j=0" },
	{ { "198.18.0.10:80", "--need", "x", "--flag" }, 1, "xlvs: invalid need 'x' (0 or more)" },
	{ { "198.18.0.10:80", "--need", "5" }, 1, "xlvs: --need needs --flag" },
	/* seconds, with the value in the word */
	{ { "198.18.0.10:80", "-s0.5" },
	  0,
	  "svc=198.18.0.10:80/0 real=- name=- flag=0 need=0 count=0 secs=0.5 color=-1 onoff=-1 v=0 j=0" },
	{ { "198.18.0.10:80", "--secs=2" },
	  0,
	  "svc=198.18.0.10:80/0 real=- name=- flag=0 need=0 count=0 secs=2 color=-1 onoff=-1 v=0 j=0" },
	{ { "198.18.0.10:80", "--secs=" }, 1, "xlvs: invalid interval '' (seconds)" },
	{ { "198.18.0.10:80", "-s", "0" }, 1, "xlvs: invalid interval '0' (seconds)" },
	/* words */
	{ { "198.18.0.10:80", "color", "blue" },
	  0,
	  "svc=198.18.0.10:80/0 real=- name=- flag=0 need=0 count=0 secs=0 color=1 onoff=-1 v=0 j=0" },
	{ { "198.18.0.10:80", "color", "green" }, 1, "xlvs: invalid color 'green' (red or blue)" },
	/* global options anywhere; the GLOBAL row only documents -v */
	{ { "-jv", "198.18.0.10:80" },
	  0,
	  "svc=198.18.0.10:80/0 real=- name=- flag=0 need=0 count=0 secs=0 color=-1 onoff=-1 v=1 j=1" },
	{ { "198.18.0.10:80", "--socket" }, 1, "xlvs: --socket needs a value" },
};

static void render(char *buf, size_t size, const struct targs *a, const struct xlvs_ctx *c)
{
	char svc[XLVS_EPSTRLEN], real[64];

	xlvs_ep_text(&a->svc.addr, a->svc.port, svc, sizeof(svc));
	if (a->real.addr.family)
		xlvs_addr_text(&a->real.addr, real, sizeof(real));
	else
		strcpy(real, "-");
	snprintf(buf, size,
		 "svc=%s/%u real=%s name=%s flag=%d need=%u count=%u secs=%g color=%d onoff=%d v=%d j=%d",
		 svc, a->svc.proto, real, a->name ? a->name : "-", a->flag, a->need, a->count, a->secs,
		 a->color, a->onoff, c->verbose, c->json);
}

Test(cli_opts, rows)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *t = &rows[i];
		struct targs a = { .color = -1, .onoff = -1 };
		struct xlvs_ctx c = { .pin_dir = "/nonexistent", .sock_path = "/nonexistent" };
		char *argv[10], *err = NULL, got[512];
		size_t len = 0;
		int argc, rc;

		for (argc = 0; t->words[argc]; argc++)
			argv[argc] = (char *)t->words[argc];
		c.err = open_memstream(&err, &len);
		c.out = c.err;
		rc = xlvs_parse_opts(&c, topts, argc, argv, &a);
		fclose(c.err);
		cr_expect_eq(rc, t->rc, "row %zu: rc %d, want %d (%s)", i, rc, t->rc, err);
		if (rc == 0) {
			render(got, sizeof(got), &a, &c);
			cr_expect_str_eq(got, t->want, "row %zu", i);
			cr_expect_str_eq(err, "", "row %zu", i);
		} else {
			err[strcspn(err, "\n")] = '\0';
			cr_expect_str_eq(err, t->want, "row %zu", i);
		}
		free(err);
	}
}

Test(cli_opts, usage_and_help_from_the_table)
{
	char buf[256], *help = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&help, &len);

	cr_assert_str_eq(xlvs_opts_usage(topts, buf, sizeof(buf)),
			 "SERVICE [REAL] [name STR] [--flag [--need N]] [count N] [-s|--secs SECS] "
			 "[color red|blue] [on|off] [-v|--verbose]");
	xlvs_opts_help(f, topts);
	fclose(f);
	cr_assert_str_eq(help, "  name STR                     a name without '/'\n"
			       "  --flag                       sets 7\n"
			       "  on|off                       on or off\n");
	free(help);
}

/* The commands' usage lines, as docs/man/xlvs.8.scd writes them. */
Test(cli_opts, command_usage_lines)
{
	static const struct {
		const struct xlvs_opt *opts;
		const char *usage;
	} cmds[] = {
		{ xlvs_opts_none, "" },
		{ xlvs_opts_service_list, "[--stats]" },
		{ xlvs_opts_service, "VIP[:PORT][/PROTO] [tcp|udp]" },
		{ xlvs_opts_service_add,
		  "VIP[:PORT][/PROTO] [tcp|udp] [scheduler NAME] [scheduler-flags FLAG,...] "
		  "[forward dr|tun|gue|nat|fullnat|local] "
		  "[ring-size N] [echo|no-echo] [persistent SECS] [scheduler-expire SECS] [netmask MASK] "
		  "[flow-state auto|ring|table] [ring-window SECS]" },
		{ xlvs_opts_real, "SERVICE REAL[:PORT]" },
		{ xlvs_opts_real_add,
		  "SERVICE REAL[:PORT] [weight N] [forward dr|tun|gue|nat|fullnat|local] [gue-port N]" },
		{ xlvs_opts_real_weight, "SERVICE REAL[:PORT] N" },
		{ xlvs_opts_real_drain, "SERVICE REAL[:PORT] [--wait [--timeout SECS]]" },
		{ xlvs_opts_stats,
		  "[-w|--watch SECS [--count N]] [-Z|--zero [SERVICE] [REAL]] [-v|--verbose]" },
		{ xlvs_opts_reload, "[--dry-run]" },
		{ xlvs_opts_diff, "[FILE]" },
		{ xlvs_opts_conn, "[SERVICE] [--real ADDR] [--client ADDR[:PORT]] [--limit N]" },
		{ xlvs_opts_decap_attach, "dev IF [gue-port N] [mode native|generic] [addrs dev|host|any]" },
		{ xlvs_opts_decap_dev, "dev IF" },
		{ xlvs_opts_decap_status, "[dev IF]" },
	};
	char buf[256];
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		cr_expect_str_eq(xlvs_opts_usage(cmds[i].opts, buf, sizeof(buf)), cmds[i].usage, "table %zu",
				 i);
}
