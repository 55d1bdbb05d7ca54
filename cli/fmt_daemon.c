// SPDX-License-Identifier: GPL-2.0
/*
 * Daemon replies (status, apply stats) through the one printer. The reply is
 * the daemon's JSON, so every field is type-checked here: a daemon of another
 * version, or a broken one, must not crash the CLI.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"

/* Text for any JSON value: strings raw, containers as compact JSON. */
static char *value_text(json_t *v)
{
	char buf[64];

	switch (json_typeof(v)) {
	case JSON_STRING:
		return strdup(json_string_value(v));
	case JSON_INTEGER:
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return strdup(buf);
	case JSON_REAL:
		snprintf(buf, sizeof(buf), "%g", json_real_value(v));
		return strdup(buf);
	case JSON_TRUE:
		return strdup("yes");
	case JSON_FALSE:
		return strdup("no");
	case JSON_NULL:
		return strdup("-");
	default:
		return json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	}
}

/* v (may be NULL: "-"/null) under key; text with fmt, one %s. */
static void emit_any(struct xp *p, const char *key, json_t *v, const char *fmt)
{
	char *t = v ? value_text(v) : NULL;

	xp_str(p, XP_TEXT, NULL, fmt, t ? t : "-");
	xp_json(p, key, v ? json_deep_copy(v) : json_null());
	free(t);
}

/* Text groups fields: "services added 1, updated 0; reals written 2, ...". */
static const struct {
	const char *key, *group, *item;
} apply_fields[] = {
	{ "services_added", "services", "added" },
	{ "services_updated", "services", "updated" },
	{ "services_removed", "services", "removed" },
	{ "reals_written", "reals", "written" },
	{ "reals_removed", "reals", "removed" },
	{ "ring_slots_written", "ring slots", "written" },
	{ "vips_written", "vips", "written" },
	{ "vips_removed", "vips", "removed" },
	{ "vip_filter_written", "vip filter words", "written" },
};
#define NR_APPLY_FIELDS (sizeof(apply_fields) / sizeof(apply_fields[0]))

static bool known_apply_field(const char *k)
{
	size_t i;

	for (i = 0; i < NR_APPLY_FIELDS; i++)
		if (!strcmp(k, apply_fields[i].key))
			return true;
	return false;
}

void xlvs_fmt_applied(struct xp *p, const char *key, const char *label, json_t *applied)
{
	const char *k, *group = NULL;
	json_t *v;
	size_t i;

	xp_text(p, "%s", label);
	if (!json_is_object(applied)) {
		emit_any(p, key, applied, "%s\n");
		return;
	}
	xp_obj_open(p, key);
	for (i = 0; i < NR_APPLY_FIELDS; i++) {
		const char *g = apply_fields[i].group;

		v = json_object_get(applied, apply_fields[i].key);
		if (!v)
			continue;
		if (group && !strcmp(group, g))
			xp_text(p, ", %s ", apply_fields[i].item);
		else
			xp_text(p, "%s%s %s ", group ? "; " : "", g, apply_fields[i].item);
		group = g;
		emit_any(p, apply_fields[i].key, v, "%s");
	}
	json_object_foreach (applied, k, v) {
		if (known_apply_field(k))
			continue;
		xp_str(p, XP_TEXT, NULL, "%s", group ? "; " : "");
		xp_str(p, XP_TEXT, NULL, "%s ", k);
		emit_any(p, k, v, "%s");
		group = k;
	}
	if (!group)
		xp_text(p, "nothing");
	xp_obj_close(p);
	xp_text(p, "\n");
}

/* "xlvsd 0.1.0, pid 1234, up 1h 2m 3s" */
static void status_head(struct xp *p, json_t *r)
{
	json_t *v;
	char up[64];

	xp_text(p, "xlvsd");
	v = json_object_get(r, "version");
	if (v)
		emit_any(p, "version", v, " %s");
	v = json_object_get(r, "pid");
	if (v)
		emit_any(p, "pid", v, ", pid %s");
	v = json_object_get(r, "uptime_s");
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		xlvs_fmt_duration(json_integer_value(v), up, sizeof(up));
		xp_str(p, XP_TEXT, NULL, ", up %s", up);
		xp_json(p, "uptime_s", json_deep_copy(v));
	} else if (v) {
		emit_any(p, "uptime_s", v, ", up %ss");
	}
	xp_text(p, "\n");
}

/* "eth1 (ifindex 3, mode native, attach link)", one per line. */
static void status_interfaces(struct xp *p, json_t *ifs)
{
	const char *k;
	size_t i;
	json_t *it, *v;

	xp_json(p, "interfaces", json_deep_copy(ifs));
	xp_text(p, "%-12s", "interfaces");
	if (!json_is_array(ifs) || !json_array_size(ifs)) {
		xp_text(p, "%s\n", json_is_array(ifs) ? "none" : "?");
		return;
	}
	json_array_foreach (ifs, i, it) {
		json_t *name = json_object_get(it, "name");
		char *t = name ? value_text(name) : json_is_object(it) ? strdup("?") : value_text(it);
		int n = 0;

		xp_text(p, "%*s%s", i ? 12 : 0, "", t ? t : "?");
		free(t);
		json_object_foreach (it, k, v) {
			if (!strcmp(k, "name"))
				continue;
			t = value_text(v);
			xp_text(p, "%s%s %s", n++ ? ", " : " (", k, t ? t : "?");
			free(t);
		}
		xp_text(p, "%s\n", n ? ")" : "");
	}
}

/* Simple "label value" lines, in this order; text label, one %s. */
static const struct {
	const char *key, *fmt;
} status_lines[] = {
	{ "config", "config      %s\n" },    { "pin_dir", "pin dir     %s\n" },
	{ "socket", "socket      %s\n" },    { "interfaces", NULL },
	{ "services", "services    %s\n" },  { "reals", "reals       %s\n" },
	{ "flow_hash", "flow hash   %s\n" }, { "reloads_ok", "reloads     %s ok" },
	{ "reloads_failed", ", %s failed" }, { "last_apply", NULL },
};
#define NR_STATUS_LINES (sizeof(status_lines) / sizeof(status_lines[0]))

static const char *const status_head_keys[] = { "ok", "version", "pid", "uptime_s" };

static bool status_is_known(const char *k)
{
	size_t i;

	for (i = 0; i < sizeof(status_head_keys) / sizeof(status_head_keys[0]); i++)
		if (!strcmp(k, status_head_keys[i]))
			return true;
	for (i = 0; i < NR_STATUS_LINES; i++)
		if (!strcmp(k, status_lines[i].key))
			return true;
	return false;
}

void xlvs_fmt_status(struct xp *p, json_t *r)
{
	const char *k;
	json_t *v;

	size_t i;

	if (!json_is_object(r))
		return;
	status_head(p, r);
	for (i = 0; i < NR_STATUS_LINES; i++) {
		k = status_lines[i].key;
		v = json_object_get(r, k);
		if (!strcmp(k, "interfaces") && v)
			status_interfaces(p, v);
		else if (!strcmp(k, "last_apply") && v)
			xlvs_fmt_applied(p, k, "last apply  ", v);
		else if (v)
			emit_any(p, k, v, status_lines[i].fmt);
		/* "reloads N ok, M failed" is one line, whichever half is there. */
		if (!strcmp(k, "reloads_failed") && (v || json_object_get(r, "reloads_ok")))
			xp_text(p, "\n");
	}
	json_object_foreach (r, k, v) {
		if (status_is_known(k))
			continue;
		xp_str(p, XP_TEXT, NULL, "%-11s ", k);
		emit_any(p, k, v, "%s\n");
	}
}
