// SPDX-License-Identifier: GPL-2.0
/* xlvs real add|del|set-weight|drain: requests to xlvsd. */
#include <string.h>

#include "cmd.h"

enum real_verb { REAL_ADD, REAL_DEL, REAL_WEIGHT, REAL_DRAIN };

static int parse_weight(struct xlvs_ctx *c, const char *v, json_t *req)
{
	uint32_t w;

	if (xlvs_parse_u32(v, 0, XLVS_MAGLEV_MAX_WEIGHT, &w))
		return xlvs_usage_error(c, "invalid weight '%s' (0-%u)", v, XLVS_MAGLEV_MAX_WEIGHT);
	json_object_set_new(req, "weight", json_integer(w));
	return XLVS_EXIT_OK;
}

static int add_keyword(struct xlvs_ctx *c, int argc, char **argv, int *i, json_t *req)
{
	const char *kw = argv[*i], *v;
	uint32_t n;
	int x;

	if (strcmp(kw, "weight") && strcmp(kw, "forward") && strcmp(kw, "fwd") && strcmp(kw, "gue-port"))
		return xlvs_unexpected(c, kw);
	v = xlvs_take_value(c, argc, argv, i);
	if (!v)
		return XLVS_EXIT_USAGE;
	if (!strcmp(kw, "weight"))
		return parse_weight(c, v, req);
	if (!strcmp(kw, "gue-port")) {
		if (xlvs_parse_u32(v, 1, 65535, &n))
			return xlvs_usage_error(c, "invalid gue-port '%s' (1-65535)", v);
		json_object_set_new(req, "gue_port", json_integer(n));
		return XLVS_EXIT_OK;
	}
	x = xlvs_parse_fwd(v);
	if (x < 0)
		return xlvs_usage_error(c, "unknown forwarding method '%s' (dr, tun, gue)", v);
	json_object_set_new(req, "forward", json_string(xlvs_fwd_names[x]));
	return XLVS_EXIT_OK;
}

/* Words after SERVICE REAL. */
static int real_rest(struct xlvs_ctx *c, enum real_verb verb, int argc, char **argv, int *i,
		     json_t *req, bool *have_weight)
{
	if (verb == REAL_ADD)
		return add_keyword(c, argc, argv, i, req);
	if (verb != REAL_WEIGHT || *have_weight)
		return xlvs_unexpected(c, argv[*i]);
	*have_weight = true;
	if (!strcmp(argv[*i], "weight") && !xlvs_take_value(c, argc, argv, i))
		return XLVS_EXIT_USAGE;
	return parse_weight(c, argv[*i], req);
}

static int real_req(struct xlvs_ctx *c, int argc, char **argv, enum real_verb verb)
{
	static const char *const cmds[] = {
		[REAL_ADD] = "real-add", [REAL_DEL] = "real-del",
		[REAL_WEIGHT] = "real-set-weight", [REAL_DRAIN] = "real-set-weight",
	};
	json_t *opts = json_object(), *req;
	struct xlvs_endpoint svc, real;
	int i, rc = 0, have = 0;
	bool have_weight = false;

	if (!opts)
		return xlvs_error(c, XLVS_EXIT_RUNTIME, "out of memory");
	for (i = 0; i < argc && !rc; i++) {
		int g = xlvs_take_global(c, argc, argv, &i);

		if (g) {
			rc = g < 0 ? XLVS_EXIT_USAGE : 0;
			continue;
		}
		if (have == 0)
			rc = xlvs_take_service(c, argc, argv, &i, &svc);
		else if (have == 1)
			rc = xlvs_take_real(c, argc, argv, &i, &real);
		else
			rc = real_rest(c, verb, argc, argv, &i, opts, &have_weight);
		if (!rc && have < 2)
			have++;
	}
	if (!rc && have < 2)
		rc = xlvs_usage_error(c, "missing %s", have ? "REAL (real server address)" :
							     "SERVICE (VIP[:PORT])");
	if (!rc && verb == REAL_WEIGHT && !have_weight)
		rc = xlvs_usage_error(c, "missing the weight (0-%u)", XLVS_MAGLEV_MAX_WEIGHT);
	if (rc) {
		json_decref(opts);
		return rc;
	}
	if (verb == REAL_DRAIN)
		json_object_set_new(opts, "weight", json_integer(0));
	req = json_pack("{s:s, s:o, s:o}", "cmd", cmds[verb], "service", xlvs_svc_json(&svc),
			"real", xlvs_real_json(&real));
	if (req)
		json_object_update(req, opts);
	json_decref(opts);
	return xlvs_request_applied(c, req);
}

int cmd_real_add(struct xlvs_ctx *c, int argc, char **argv)
{
	return real_req(c, argc, argv, REAL_ADD);
}

int cmd_real_del(struct xlvs_ctx *c, int argc, char **argv)
{
	return real_req(c, argc, argv, REAL_DEL);
}

int cmd_real_set_weight(struct xlvs_ctx *c, int argc, char **argv)
{
	return real_req(c, argc, argv, REAL_WEIGHT);
}

int cmd_real_drain(struct xlvs_ctx *c, int argc, char **argv)
{
	return real_req(c, argc, argv, REAL_DRAIN);
}
