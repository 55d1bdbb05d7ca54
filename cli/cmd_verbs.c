// SPDX-License-Identifier: GPL-2.0
/*
 * xlvs save, xlvs diff [FILE], xlvs reload --dry-run: questions to xlvsd that
 * change nothing (docs/cli.md). diff and the dry run are answered by the
 * reload's own steps in xlvsd, so what they say a reload does is what it does.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "xlvsctl.h"

struct diff_args {
	const char *file; /* NULL: xlvsd's own file */
};

const struct xlvs_opt xlvs_opts_diff[] = {
	{ .arg = "FILE",
	  .kind = XLVS_OPT_STRING,
	  .flags = XLVS_OPT_POS,
	  .off = offsetof(struct diff_args, file),
	  .help = "the configuration to compare (default: the file xlvsd was started with)" },
	{ 0 },
};

int cmd_save(struct xlvs_ctx *c, int argc, char **argv)
{
	json_t *reply;
	struct xp p;
	int rc;

	rc = xlvs_parse_opts(c, xlvs_opts_none, argc, argv, NULL);
	if (!rc)
		rc = xlvs_ctl_request(c, json_pack("{s:s}", "cmd", "save"), &reply);
	if (rc)
		return rc;
	xlvs_printer(c, &p);
	xp_str(&p, XP_ANY, "config", "%s", json_string_value(json_object_get(reply, "config")) ?: "");
	json_decref(reply);
	return xlvs_finish(c, &p);
}

/* The changes a reload of file (NULL: xlvsd's) would make; exit 4 when it would be refused. */
int xlvs_diff(struct xlvs_ctx *c, const char *file)
{
	char path[PATH_MAX], why[1024];
	json_t *req, *reply;
	struct xp p;
	int rc;

	req = json_pack("{s:s}", "cmd", "diff");
	if (file && !realpath(file, path)) {
		json_decref(req);
		return xlvs_error(c, XLVS_EXIT_RUNTIME, "%s: %s", file, strerror(errno));
	}
	if (req && file)
		json_object_set_new(req, "file", json_string(path));
	rc = xlvs_ctl_request(c, req, &reply);
	if (rc)
		return rc;
	xlvs_printer(c, &p);
	xlvs_fmt_diff(&p, reply);
	rc = xlvs_finish(c, &p);
	if (!rc && json_object_get(reply, "refused")) {
		snprintf(why, sizeof(why), "%s", json_string_value(json_object_get(reply, "refused")) ?: "?");
		rc = xlvs_error(c, XLVS_EXIT_REFUSED, "a reload of %s would be refused: %s",
				json_string_value(json_object_get(reply, "file")) ?: "?", why);
	}
	json_decref(reply);
	return rc;
}

int cmd_diff(struct xlvs_ctx *c, int argc, char **argv)
{
	struct diff_args a = { 0 };
	int rc = xlvs_parse_opts(c, xlvs_opts_diff, argc, argv, &a);

	c->timeout_ms = XLVS_CTL_RELOAD_TIMEOUT_MS;
	return rc ? rc : xlvs_diff(c, a.file);
}
