// SPDX-License-Identifier: GPL-2.0
/*
 * xlvs timeout show: the global connection lifetimes the data path applies
 * (xlvs_config), ipvsadm -L --timeout's equivalent. They are set in the
 * configuration file (`timeouts:`, globally and per service) and applied by
 * a reload: the file stays the one place they are written.
 */
#include <errno.h>
#include <string.h>

#include "cmd.h"
#include "view.h"

int cmd_timeout_show(struct xlvs_ctx *c, int argc, char **argv)
{
	struct xlvs_config cfg;
	struct xlvs_maps m;
	struct xp p;
	int rc;

	rc = xlvs_parse_opts(c, xlvs_opts_none, argc, argv, NULL);
	if (rc)
		return rc;
	rc = xlvs_cli_maps_open(c, &m);
	if (rc)
		return rc;
	rc = xlvs_maps_get_config(&m, &cfg);
	xlvs_maps_close(&m);
	if (rc)
		return xlvs_error(c, XLVS_EXIT_RUNTIME, "cannot read xlvs_config under %s: %s", c->pin_dir,
				  strerror(-rc));
	xlvs_printer(c, &p);
	xlvs_fmt_timeouts(&p, &cfg);
	return xlvs_finish(c, &p);
}
