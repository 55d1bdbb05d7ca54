// SPDX-License-Identifier: GPL-2.0
/*
 * What `xlvs diff` and `xlvs reload --dry-run` show: xlvsd's "diff" reply
 * (docs/control.md) as one line per change, or its fields in JSON.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "cmd.h"
#include "fmt.h"

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key)) ?: "?";
}

/* "TCP 198.18.0.10:80" from {vip, port, protocol}. */
static const char *svc_text(json_t *svc, char *buf, size_t size)
{
	struct xlvs_endpoint ep = { 0 };

	if (xlvs_addr_parse(jstr(svc, "vip"), &ep.addr)) {
		snprintf(buf, size, "%s", jstr(svc, "vip"));
		return buf;
	}
	ep.port = (uint16_t)json_integer_value(json_object_get(svc, "port"));
	ep.proto = xlvs_parse_proto(jstr(svc, "protocol")) == IPPROTO_UDP ? IPPROTO_UDP : IPPROTO_TCP;
	return xlvs_svc_text(&ep, buf, size);
}

/* Keys that name the object: in its label already. */
static bool identity_key(const char *key)
{
	return !strcmp(key, "vip") || !strcmp(key, "port") || !strcmp(key, "protocol") ||
	       !strcmp(key, "address");
}

/*
 * ": key from -> to, ..." for a change; ": key value, ..." for an addition; nothing for a removal.
 * A change a reload does not make ("live": false: flow_hash, conn_table_size) says so and what stays.
 */
static void fields_text(struct xp *p, json_t *fields, const char *change)
{
	const char *sep = ": ";
	json_t *f, *from, *to;
	size_t i;

	if (!strcmp(change, "removed"))
		return;
	json_array_foreach (fields, i, f) {
		from = json_object_get(f, "from");
		to = json_object_get(f, "to");
		if (!strcmp(change, "added")) {
			if (identity_key(jstr(f, "key")))
				continue;
			xp_text(p, "%s%s %s", sep, jstr(f, "key"), jstr(f, "to"));
		} else {
			xp_text(p, "%s%s %s -> %s", sep, jstr(f, "key"),
				from ? json_string_value(from) : "(none)",
				to ? json_string_value(to) : "(none)");
			if (json_is_false(json_object_get(f, "live")))
				xp_text(p,
					" (not applied live: the pinned state keeps %s until `xlvsd --detach` "
					"and a restart)",
					from ? json_string_value(from) : "its own");
		}
		sep = ", ";
	}
}

static void change_text(struct xp *p, json_t *c)
{
	const char *change = jstr(c, "change"), *object = jstr(c, "object");
	char sb[XLVS_EPSTRLEN + 32];
	json_t *real = json_object_get(c, "real");

	xp_text(p, "%s ", !strcmp(change, "added") ? "+" : !strcmp(change, "removed") ? "-" : "~");
	if (!strcmp(object, "global"))
		xp_text(p, "global settings");
	else if (real)
		xp_text(p, "real %s in %s", jstr(real, "address"),
			svc_text(json_object_get(c, "service"), sb, sizeof(sb)));
	else
		xp_text(p, "service %s", svc_text(json_object_get(c, "service"), sb, sizeof(sb)));
	fields_text(p, json_object_get(c, "fields"), change);
	xp_text(p, "\n");
}

void xlvs_fmt_diff(struct xp *p, json_t *reply)
{
	json_t *changes = json_object_get(reply, "changes"), *c;
	size_t i, n = json_array_size(changes);

	xp_str(p, XP_JSON, "file", NULL, jstr(reply, "file"));
	xp_json(p, "changes", json_incref(changes));
	if (json_object_get(reply, "refused"))
		xp_str(p, XP_JSON, "refused", NULL, jstr(reply, "refused"));
	json_array_foreach (changes, i, c)
		change_text(p, c);
	if (!n)
		xp_text(p, "no change: %s is what xlvsd runs\n", jstr(reply, "file"));
	else
		xp_text(p, "%zu change%s from xlvsd's running state to %s\n", n, n == 1 ? "" : "s",
			jstr(reply, "file"));
}
