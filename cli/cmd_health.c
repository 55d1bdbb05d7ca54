// SPDX-License-Identifier: GPL-2.0
/*
 * xlvs health [SERVICE [REAL]]: every health check as xlvsd runs it (its
 * control command `health`), what a keepalived operator reads from its log
 * and `ipvsadm -L` together. Needs the daemon: without it there is no check
 * to show, and the exit code says so (3, as `xlvs status`).
 */
#include <stddef.h>
#include <string.h>

#include "cmd.h"
#include "xlvsctl.h"

struct health_args {
	struct xlvs_endpoint svc, real; /* family 0: not given */
};

const struct xlvs_opt xlvs_opts_health[] = {
	{ .arg = "SERVICE",
	  .kind = XLVS_OPT_SERVICE,
	  .flags = XLVS_OPT_POS,
	  .off = offsetof(struct health_args, svc),
	  .help = "only this service (" XLVS_SVC_ARGS "; without a port: every port of the VIP)" },
	{ .arg = "REAL[:PORT]",
	  .kind = XLVS_OPT_REAL,
	  .flags = XLVS_OPT_POS,
	  .off = offsetof(struct health_args, real),
	  .help = "only this real of it" },
	{ 0 },
};

int cmd_health(struct xlvs_ctx *c, int argc, char **argv)
{
	struct health_args a = { 0 };
	json_t *reply, *shown;
	char sb[XLVS_EPSTRLEN + 32], rb[XLVS_EPSTRLEN];
	struct xp p;
	int rc;

	rc = xlvs_parse_opts(c, xlvs_opts_health, argc, argv, &a);
	if (!rc)
		rc = xlvs_ctl_request(c, json_pack("{s:s}", "cmd", "health"), &reply);
	if (rc)
		return rc;
	shown = xlvs_health_filter(json_object_get(reply, "services"), a.svc.addr.family ? &a.svc : NULL,
				   a.real.addr.family ? &a.real : NULL);
	json_decref(reply);
	if (!shown)
		return xlvs_error(c, XLVS_EXIT_RUNTIME, "out of memory");
	if (a.svc.addr.family && !json_array_size(shown)) {
		json_decref(shown);
		xlvs_svc_text(&a.svc, sb, sizeof(sb));
		if (!a.real.addr.family)
			return xlvs_error(c, XLVS_EXIT_RUNTIME, "xlvsd has no service %s", sb);
		return xlvs_error(c, XLVS_EXIT_RUNTIME, "xlvsd has no real %s in %s",
				  a.real.have_port ? xlvs_ep_text(&a.real.addr, a.real.port, rb, sizeof(rb))
						   : xlvs_addr_text(&a.real.addr, rb, sizeof(rb)),
				  sb);
	}
	xlvs_printer(c, &p);
	xlvs_fmt_health(&p, shown);
	json_decref(shown);
	return xlvs_finish(c, &p);
}
