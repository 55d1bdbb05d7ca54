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

int cmd_reload(struct xlvs_ctx *c, int argc, char **argv)
{
	int rc = no_args(c, argc, argv);

	if (c->timeout_ms < XLVS_CTL_RELOAD_TIMEOUT_MS)
		c->timeout_ms = XLVS_CTL_RELOAD_TIMEOUT_MS;
	return rc ? rc : xlvs_request_applied(c, json_pack("{s:s}", "cmd", "reload"));
}
