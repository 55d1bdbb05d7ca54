// SPDX-License-Identifier: GPL-2.0
/*
 * xlvs decap attach|detach|status|sync: the real-server decapsulator
 * (bpf/xlvs_decap.bpf.c) on an interface of this host. No daemon: the work
 * is in maps/attach/decap.c, the state lives in pins under PIN_DIR/decap/IF.
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "attach/decap.h"
#include "log.h"

#define MSGLEN 512

enum decap_verb {
	DECAP_ATTACH,
	DECAP_DETACH,
	DECAP_STATUS,
	DECAP_SYNC
};

struct decap_args {
	const char *dev;
	struct xlvs_decap_opts o;
};

/* The words of the command line, before they become struct xlvs_decap_opts. */
struct decap_words {
	const char *dev;
	uint32_t gue_port; /* 0: the default */
	int mode;	   /* enum xlvs_xdp_mode */
	int addrs;	   /* enum xlvs_decap_addrs */
};

static bool valid_ifname(const void *v)
{
	const char *dev = *(const char *const *)v;

	return *dev && strlen(dev) < IF_NAMESIZE && !strchr(dev, '/');
}

static int mode_word(const char *w)
{
	if (!strcmp(w, "native") || !strcmp(w, "drv"))
		return XLVS_XDP_NATIVE;
	if (!strcmp(w, "generic") || !strcmp(w, "skb"))
		return XLVS_XDP_GENERIC;
	return -1;
}

static int addrs_word(const char *w)
{
	if (!strcmp(w, "dev"))
		return XLVS_DECAP_ADDRS_DEV;
	if (!strcmp(w, "host"))
		return XLVS_DECAP_ADDRS_HOST;
	if (!strcmp(w, "any"))
		return XLVS_DECAP_ADDRS_ANY;
	return -1;
}

/* "dev IF", or IF alone ("xlvs decap status eth0", as ip(8) allows). */
#define DEV_ARG(required)                                                                                    \
	{                                                                                                    \
		.name = "dev", .kind = XLVS_OPT_STRING, .arg = "IF", .flags = XLVS_OPT_POS | (required),     \
		.ok = valid_ifname, .what = "invalid interface name", .missing = "'dev IF'",                 \
		.off = offsetof(struct decap_words, dev)                                                     \
	}

const struct xlvs_opt xlvs_opts_decap_attach[] = {
	DEV_ARG(XLVS_OPT_REQUIRED),
	{ .name = "gue-port",
	  .kind = XLVS_OPT_U32,
	  .arg = "N",
	  .min = 1,
	  .max = 65535,
	  .off = offsetof(struct decap_words, gue_port),
	  .help = "GUE's UDP port (default 6080)" },
	{ .name = "mode",
	  .kind = XLVS_OPT_ENUM,
	  .arg = "native|generic",
	  .parse = mode_word,
	  .hint = "native or generic",
	  .off = offsetof(struct decap_words, mode),
	  .help = "XDP mode (default native, generic where the driver refuses it)" },
	{ .name = "addrs",
	  .kind = XLVS_OPT_ENUM,
	  .arg = "dev|host|any",
	  .parse = addrs_word,
	  .hint = "dev, host or any",
	  .off = offsetof(struct decap_words, addrs),
	  .help = "tunnel endpoints: IF's addresses, the host's, or any" },
	{ 0 },
};

const struct xlvs_opt xlvs_opts_decap_dev[] = { DEV_ARG(XLVS_OPT_REQUIRED), { 0 } };
const struct xlvs_opt xlvs_opts_decap_status[] = { DEV_ARG(0), { 0 } };

/*
 * libbpf and libxdp messages go to the command's stderr as "xlvs: warning:
 * ..." (all of them with -v) while a decap command runs, then back to stderr.
 */
static int with_logging(struct xlvs_ctx *c, int (*run)(struct xlvs_ctx *, const struct decap_args *),
			const struct decap_args *a)
{
	int rc;

	xlvs_log_set_ident("xlvs", c->err);
	xlvs_log_set_level(c->verbose ? XLVS_LOG_DEBUG : XLVS_LOG_WARN);
	xlvs_log_hook_libs();
	rc = run(c, a);
	xlvs_log_set_ident("xlvs", NULL);
	return rc;
}

/* decap.c failed (no such interface, already attached, not attached, ...): exit 2. */
static int decap_fail(struct xlvs_ctx *c, const char *msg)
{
	return xlvs_error(c, XLVS_EXIT_RUNTIME, "%s", msg);
}

static int decap_parse(struct xlvs_ctx *c, enum decap_verb verb, int argc, char **argv, struct decap_args *a)
{
	static const struct xlvs_opt *const opts[] = {
		[DECAP_ATTACH] = xlvs_opts_decap_attach,
		[DECAP_DETACH] = xlvs_opts_decap_dev,
		[DECAP_STATUS] = xlvs_opts_decap_status,
		[DECAP_SYNC] = xlvs_opts_decap_dev,
	};
	struct decap_words w = { 0 };
	int rc;

	rc = xlvs_parse_opts(c, opts[verb], argc, argv, &w);
	if (rc)
		return rc;
	memset(a, 0, sizeof(*a));
	a->dev = w.dev;
	a->o = (struct xlvs_decap_opts){ .pin_dir = c->pin_dir,
					 .ifname = w.dev,
					 .gue_port = (uint16_t)w.gue_port,
					 .mode = w.mode,
					 .addrs = w.addrs };
	return XLVS_EXIT_OK;
}

/* ---- the printer -------------------------------------------------------------- */

static void fmt_decap(struct xp *p, const struct xlvs_decap_status *st)
{
	char ab[INET6_ADDRSTRLEN];
	size_t i;

	xp_obj_open(p, NULL);
	xp_str(p, XP_ANY, "interface", "%s:", st->ifname);
	xp_bool(p, XP_JSON, "attached", NULL, st->attached);
	if (st->attached) {
		xp_str(p, XP_ANY, "mode", " xdp %s,", xlvs_xdp_mode_name(st->mode));
		xp_u64(p, XP_JSON, "ifindex", NULL, (uint64_t)st->ifindex);
	} else {
		xp_text(p,
			" NOT ATTACHED (the interface is gone or its XDP program was removed;"
			" xlvs decap detach dev %s cleans up),",
			st->ifname);
		xp_json(p, "mode", json_null());
	}
	xp_str(p, XP_ANY, "attach", " %s", st->method);
	if (st->link_id)
		xp_u64(p, XP_ANY, "link_id", " id %" PRIu64, st->link_id);
	xp_u64(p, XP_ANY, "prog_id", ", prog id %" PRIu64, st->prog_id);
	xp_u64(p, XP_ANY, "gue_port", ", gue port %" PRIu64 "\n", st->gue_port);
	xp_str(p, XP_ANY, "pin_dir", "  pins       %s\n", st->dir);
	xp_str(p, XP_ANY, "addrs", "  addrs      %s:", xlvs_decap_addrs_name(st->addrs));
	xp_arr_open(p, "endpoints");
	for (i = 0; i < st->nr_addrs; i++)
		xp_str(p, XP_ANY, NULL, " %s", xlvs_addr_text(&st->addr[i], ab, sizeof(ab)));
	xp_arr_close(p);
	if (st->addrs == XLVS_DECAP_ADDRS_ANY)
		xp_text(p, " every tunnel packet is decapsulated\n");
	else
		xp_text(p, "%s\n", st->nr_addrs ? "" : " none: every tunnel packet is rejected");
	xp_obj_open(p, "counters");
	for (i = 0; i < XLVS_DECAP_MAX; i++) {
		xp_text(p, "  %-22s", xlvs_decap_names[i]);
		xp_u64(p, XP_ANY, xlvs_decap_names[i], " %12" PRIu64 "\n", st->counters[i]);
	}
	xp_obj_close(p);
	xp_obj_close(p);
}

/* Print the given interfaces (all with decap pins when names is NULL). */
static int print_status(struct xlvs_ctx *c, const char *one)
{
	char(*names)[IF_NAMESIZE] = NULL, msg[MSGLEN];
	struct xlvs_decap_status *st;
	int n = 1, i, err = 0;
	struct xp p;

	st = calloc(1, sizeof(*st));
	if (!st)
		return xlvs_error(c, XLVS_EXIT_RUNTIME, "out of memory");
	if (!one) {
		n = xlvs_decap_list(c->pin_dir, &names);
		if (n < 0) {
			free(st);
			return xlvs_error(c, XLVS_EXIT_RUNTIME, "cannot read %s/%s: %s", c->pin_dir,
					  XLVS_DECAP_SUBDIR, strerror(-n));
		}
	}
	xlvs_printer(c, &p);
	xp_arr_open(&p, "decap");
	for (i = 0; i < n && !err; i++) {
		err = xlvs_decap_read(c->pin_dir, one ? one : names[i], st, msg, sizeof(msg));
		if (err)
			break;
		if (i)
			xp_text(&p, "\n");
		fmt_decap(&p, st);
	}
	xp_arr_close(&p);
	if (!n)
		xp_text(&p, "no decap attachments (pins in %s/%s)\n", c->pin_dir, XLVS_DECAP_SUBDIR);
	free(names);
	free(st);
	if (err) {
		xp_discard(&p);
		return decap_fail(c, msg);
	}
	return xlvs_finish(c, &p);
}

/* ---- the commands --------------------------------------------------------------- */

static int do_attach(struct xlvs_ctx *c, const struct decap_args *a)
{
	char msg[MSGLEN];

	if (xlvs_decap_attach(&a->o, msg, sizeof(msg)))
		return decap_fail(c, msg);
	return print_status(c, a->dev);
}

static int do_detach(struct xlvs_ctx *c, const struct decap_args *a)
{
	char msg[MSGLEN];
	struct xp p;

	if (xlvs_decap_detach(c->pin_dir, a->dev, msg, sizeof(msg)))
		return decap_fail(c, msg);
	xlvs_printer(c, &p);
	xp_str(&p, XP_ANY, "detached", "detached xlvs_decap from %s\n", a->dev);
	return xlvs_finish(c, &p);
}

static int do_status(struct xlvs_ctx *c, const struct decap_args *a)
{
	return print_status(c, a->dev);
}

static int do_sync(struct xlvs_ctx *c, const struct decap_args *a)
{
	char msg[MSGLEN];
	size_t nr = 0;
	struct xp p;

	if (xlvs_decap_sync(c->pin_dir, a->dev, &nr, msg, sizeof(msg)))
		return decap_fail(c, msg);
	xlvs_printer(c, &p);
	xp_str(&p, XP_ANY, "interface", "%s:", a->dev);
	xp_u64(&p, XP_ANY, "endpoints", " %" PRIu64 " tunnel endpoint addresses\n", nr);
	return xlvs_finish(c, &p);
}

static int decap_cmd(struct xlvs_ctx *c, enum decap_verb verb, int argc, char **argv)
{
	static int (*const run[])(struct xlvs_ctx *, const struct decap_args *) = {
		[DECAP_ATTACH] = do_attach,
		[DECAP_DETACH] = do_detach,
		[DECAP_STATUS] = do_status,
		[DECAP_SYNC] = do_sync,
	};
	struct decap_args a;
	int rc;

	rc = decap_parse(c, verb, argc, argv, &a);
	return rc ? rc : with_logging(c, run[verb], &a);
}

int cmd_decap_attach(struct xlvs_ctx *c, int argc, char **argv)
{
	return decap_cmd(c, DECAP_ATTACH, argc, argv);
}

int cmd_decap_detach(struct xlvs_ctx *c, int argc, char **argv)
{
	return decap_cmd(c, DECAP_DETACH, argc, argv);
}

int cmd_decap_status(struct xlvs_ctx *c, int argc, char **argv)
{
	return decap_cmd(c, DECAP_STATUS, argc, argv);
}

int cmd_decap_sync(struct xlvs_ctx *c, int argc, char **argv)
{
	return decap_cmd(c, DECAP_SYNC, argc, argv);
}
