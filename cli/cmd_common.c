// SPDX-License-Identifier: GPL-2.0
/* Argument helpers and the daemon round trip shared by the commands. */
#include <netinet/in.h>
#include <string.h>

#include "cmd.h"
#include "xlvsctl.h"

int xlvs_take_service(struct xlvs_ctx *c, int argc, char **argv, int *i, struct xlvs_endpoint *ep)
{
	char err[XLVS_ERRLEN];
	int proto;

	if (*i >= argc)
		return xlvs_usage_error(c, "missing SERVICE (VIP[:PORT])");
	if (xlvs_parse_endpoint(argv[*i], true, ep, err, sizeof(err)))
		return xlvs_usage_error(c, "%s", err);
	if (*i + 1 < argc && (proto = xlvs_parse_proto(argv[*i + 1])) >= 0) {
		if (ep->proto && ep->proto != proto)
			return xlvs_usage_error(c, "two protocols for one service: '%s' and '%s'",
						argv[*i], argv[*i + 1]);
		ep->proto = (uint8_t)proto;
		++*i;
	}
	return XLVS_EXIT_OK;
}

int xlvs_take_real(struct xlvs_ctx *c, int argc, char **argv, int *i, struct xlvs_endpoint *ep)
{
	char err[XLVS_ERRLEN];

	if (*i >= argc)
		return xlvs_usage_error(c, "missing REAL (real server address)");
	if (xlvs_parse_endpoint(argv[*i], false, ep, err, sizeof(err)))
		return xlvs_usage_error(c, "%s", err);
	return XLVS_EXIT_OK;
}

const char *xlvs_take_value(struct xlvs_ctx *c, int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		xlvs_usage_error(c, "'%s' needs a value", argv[*i]);
		return NULL;
	}
	return argv[++*i];
}

int xlvs_unexpected(struct xlvs_ctx *c, const char *word)
{
	if (word[0] == '-')
		return xlvs_usage_error(c, "unknown option '%s'", word);
	return xlvs_usage_error(c, "unexpected argument '%s'", word);
}

const char *xlvs_svc_text(const struct xlvs_endpoint *ep, char *buf, size_t size)
{
	char eb[XLVS_EPSTRLEN], pb[8];

	xlvs_ep_text(&ep->addr, ep->port, eb, sizeof(eb));
	if (ep->proto)
		snprintf(buf, size, "%s %s", xlvs_proto_text(ep->proto, pb, sizeof(pb)), eb);
	else
		snprintf(buf, size, "%s (any protocol)", eb);
	return buf;
}

json_t *xlvs_svc_json(const struct xlvs_endpoint *ep)
{
	char ab[INET6_ADDRSTRLEN];

	return json_pack("{s:s, s:i, s:s}", "vip", xlvs_addr_text(&ep->addr, ab, sizeof(ab)),
			 "port", (int)ep->port, "protocol", ep->proto == IPPROTO_UDP ? "udp" : "tcp");
}

json_t *xlvs_real_json(const struct xlvs_endpoint *ep)
{
	char ab[INET6_ADDRSTRLEN];
	json_t *r = json_pack("{s:s}", "address", xlvs_addr_text(&ep->addr, ab, sizeof(ab)));

	if (r && ep->have_port)
		json_object_set_new(r, "port", json_integer(ep->port));
	return r;
}

void xlvs_printer(struct xlvs_ctx *c, struct xp *p)
{
	xp_init(p, c->out, c->json, c->pretty);
	xp_begin(p);
}

int xlvs_finish(struct xlvs_ctx *c, struct xp *p)
{
	if (xp_end(p) < 0)
		return xlvs_error(c, XLVS_EXIT_RUNTIME, "cannot write the output");
	return XLVS_EXIT_OK;
}

int xlvs_request_applied(struct xlvs_ctx *c, json_t *req)
{
	json_t *reply;
	struct xp p;
	int rc;

	rc = xlvs_ctl_request(c, req, &reply);
	if (rc)
		return rc;
	xlvs_printer(c, &p);
	xlvs_fmt_applied(&p, "applied", "applied: ", json_object_get(reply, "applied"));
	json_decref(reply);
	return xlvs_finish(c, &p);
}
