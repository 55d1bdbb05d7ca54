/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xlvs CLI internals: the context every command gets, exit codes, and the
 * entry point tests call instead of main().
 */
#ifndef XLVS_CLI_H
#define XLVS_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "args.h"

#ifndef XLVS_VERSION
#define XLVS_VERSION "0.1.0"
#endif
#define XLVS_SOCKET_PATH    "/run/xlvs/xlvsd.sock"
#define XLVS_CTL_TIMEOUT_MS 5000
/* reload and diff parse and plan a whole file: longer, within systemd's 90 s for ExecReload. */
#define XLVS_CTL_RELOAD_TIMEOUT_MS 80000

/* Exit codes (docs/man/xlvs.8.scd, EXIT STATUS). */
enum xlvs_exit {
	XLVS_EXIT_OK = 0,
	XLVS_EXIT_USAGE = 1,   /* bad command line */
	XLVS_EXIT_RUNTIME = 2, /* maps not pinned, permission, I/O */
	XLVS_EXIT_DAEMON = 3,  /* xlvsd not running, no answer, broken reply */
	XLVS_EXIT_REFUSED = 4, /* xlvsd answered ok:false */
	XLVS_EXIT_TIMEOUT = 5, /* real drain --wait: active connections left at --timeout */
	XLVS_EXIT_PARTIAL = 6, /* import: written, but some input lines not carried */
};

struct xlvs_cmd;

struct xlvs_ctx {
	FILE *out, *err;
	bool json, pretty, verbose;
	bool numeric; /* accepted for ipvsadm habits: xlvs never resolves names */
	const char *pin_dir;
	const char *sock_path;
	int timeout_ms;
	const struct xlvs_cmd *cmd; /* the command running: its usage line for errors */
	/* The service a request is about ("TCP 198.18.0.10:80"): a refusal that does not name it is prefixed with it. */
	char about[XLVS_EPSTRLEN + 16], about_vip[48];
};

/* One OBJECT VERB pair. verb NULL: the object takes no verb (stats, status, reload). */
struct xlvs_cmd {
	const char *object, *verb;
	int (*run)(struct xlvs_ctx *c, int argc, char **argv);
	const struct xlvs_opt *opts; /* its arguments (args.h): parsing, usage and help */
	const char *help;	     /* one line */
};

/* The whole CLI; main() only passes stdout and stderr. */
int xlvs_main(int argc, char **argv, FILE *out, FILE *err);

/* "xlvs: message" on stderr; returns code. */
int xlvs_error(struct xlvs_ctx *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The message, then the running command's usage line; returns XLVS_EXIT_USAGE. */
int xlvs_usage_error(struct xlvs_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Options valid anywhere (-j, -p, -n, -v, --pin-dir, --socket): argv[*i] is
 * consumed (and *i advanced past its value) if it is one. Returns 1 if
 * consumed, 0 if not an option of ours, -1 after printing a usage error.
 */
int xlvs_global_opt(struct xlvs_ctx *c, int argc, char **argv, int *i);

/* Commands (cmd_*.c); argv starts after the verb. */
extern const struct xlvs_opt xlvs_opts_none[], xlvs_opts_service_list[], xlvs_opts_service[],
	xlvs_opts_service_add[], xlvs_opts_real[], xlvs_opts_real_add[], xlvs_opts_real_weight[],
	xlvs_opts_real_drain[], xlvs_opts_stats[], xlvs_opts_conn[], xlvs_opts_decap_attach[],
	xlvs_opts_decap_dev[], xlvs_opts_decap_status[], xlvs_opts_diff[], xlvs_opts_reload[],
	xlvs_opts_explain[];
int cmd_service_list(struct xlvs_ctx *c, int argc, char **argv);
int cmd_service_show(struct xlvs_ctx *c, int argc, char **argv);
int cmd_service_add(struct xlvs_ctx *c, int argc, char **argv);
int cmd_service_del(struct xlvs_ctx *c, int argc, char **argv);
int cmd_real_add(struct xlvs_ctx *c, int argc, char **argv);
int cmd_real_del(struct xlvs_ctx *c, int argc, char **argv);
int cmd_real_set_weight(struct xlvs_ctx *c, int argc, char **argv);
int cmd_real_drain(struct xlvs_ctx *c, int argc, char **argv);
int cmd_real_show(struct xlvs_ctx *c, int argc, char **argv);
int cmd_stats(struct xlvs_ctx *c, int argc, char **argv);
int cmd_conn_list(struct xlvs_ctx *c, int argc, char **argv);
int cmd_timeout_show(struct xlvs_ctx *c, int argc, char **argv);
int cmd_status(struct xlvs_ctx *c, int argc, char **argv);
int cmd_reload(struct xlvs_ctx *c, int argc, char **argv);
int cmd_decap_attach(struct xlvs_ctx *c, int argc, char **argv);
int cmd_decap_detach(struct xlvs_ctx *c, int argc, char **argv);
int cmd_decap_status(struct xlvs_ctx *c, int argc, char **argv);
int cmd_decap_sync(struct xlvs_ctx *c, int argc, char **argv);
/* xlvs import (import.c) */
extern const struct xlvs_opt xlvs_opts_import_ipvsadm[], xlvs_opts_import_keepalived[];
int cmd_import_ipvsadm(struct xlvs_ctx *c, int argc, char **argv);
int cmd_import_keepalived(struct xlvs_ctx *c, int argc, char **argv);
int cmd_save(struct xlvs_ctx *c, int argc, char **argv);
int cmd_diff(struct xlvs_ctx *c, int argc, char **argv);
int cmd_explain(struct xlvs_ctx *c, int argc, char **argv);
/* xlvs health (cmd_health.c) */
extern const struct xlvs_opt xlvs_opts_health[];
int cmd_health(struct xlvs_ctx *c, int argc, char **argv);
/* What a reload of file (NULL: xlvsd's own) would change (cmd_verbs.c); an exit code. */
int xlvs_diff(struct xlvs_ctx *c, const char *file);

#endif /* XLVS_CLI_H */
