// SPDX-License-Identifier: GPL-2.0
/* xlvs status and xlvs reload: questions to xlvsd over its socket. */
#include <string.h>

#include "cmd.h"
#include "xlvsctl.h"

/* Neither command takes arguments beyond the global options. */
const struct xlvs_opt xlvs_opts_none[] = { { 0 } };

static int no_args(struct xlvs_ctx *c, int argc, char **argv)
{
	return xlvs_parse_opts(c, xlvs_opts_none, argc, argv, NULL);
}

int cmd_status(struct xlvs_ctx *c, int argc, char **argv)
{
	json_t *reply;
	struct xp p;
	int rc;

	rc = no_args(c, argc, argv);
	if (rc)
		return rc;
	rc = xlvs_ctl_request(c, json_pack("{s:s}", "cmd", "status"), &reply);
	if (rc)
		return rc;
	xlvs_printer(c, &p);
	xlvs_fmt_status(&p, reply);
	json_decref(reply);
	return xlvs_finish(c, &p);
}

const struct xlvs_opt xlvs_opts_reload[] = {
	{ .name = "--dry-run",
	  .alias = "dry-run|--check",
	  .kind = XLVS_OPT_FLAG,
	  .value = 1,
	  .off = 0,
	  .help = "show what the reload would change (as xlvs diff), change nothing" },
	{ 0 },
};

/* Exit 0 only when xlvsd applied the file: systemd's ExecReload reports a refused reload. */
int cmd_reload(struct xlvs_ctx *c, int argc, char **argv)
{
	int dry_run = 0;
	int rc = xlvs_parse_opts(c, xlvs_opts_reload, argc, argv, &dry_run);

	if (rc)
		return rc;
	c->timeout_ms = XLVS_CTL_RELOAD_TIMEOUT_MS;
	if (dry_run)
		return xlvs_diff(c, NULL);
	return xlvs_request_applied(c, json_pack("{s:s}", "cmd", "reload"));
}
