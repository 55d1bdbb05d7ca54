// SPDX-License-Identifier: GPL-2.0
/*
 * save and diff (verbs.h): read-only control commands. diff plans the file
 * exactly as a reload does (health actions staged, then the maps' planner)
 * and forgets the staged state, so it cannot disagree with the reload.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/save.h"
#include "health/hc.h"
#include "ctl.h"
#include "daemon.h"
#include "verbs.h"
#include "xlvsmaps.h"

/* ---- diff (pure) ---------------------------------------------------------------- */

static int addr_cmp(const struct xlvs_addr *a, const struct xlvs_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->be, b->be, sizeof(a->be));
}

/* A service's identity: VIP, protocol, port (as the maps key it). */
static int svc_cmp(const void *x, const void *y)
{
	const struct xlvs_svc_spec *a = *(const struct xlvs_svc_spec *const *)x;
	const struct xlvs_svc_spec *b = *(const struct xlvs_svc_spec *const *)y;
	int c = addr_cmp(&a->vip, &b->vip);

	if (c)
		return c;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	return a->port < b->port ? -1 : a->port > b->port;
}

/* A real's identity in its service: its address (the file allows one real per address). */
static int real_cmp(const void *x, const void *y)
{
	return addr_cmp(&(*(const struct xlvs_real_spec *const *)x)->addr,
			&(*(const struct xlvs_real_spec *const *)y)->addr);
}

/* Pointers to n elements of size at base, sorted by cmp; NULL without memory. */
static const void **sorted(const void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	const void **v = calloc(n ? n : 1, sizeof(*v));
	size_t i;

	for (i = 0; v && i < n; i++)
		v[i] = (const char *)base + i * size;
	if (v)
		qsort(v, n, sizeof(*v), cmp);
	return v;
}

static const void *find(const void **v, size_t n, const void *key, int (*cmp)(const void *, const void *))
{
	const void **hit = bsearch(&key, v, n, sizeof(*v), cmp);

	return hit ? *hit : NULL;
}

static json_t *svc_json(const struct xlvs_svc_spec *s)
{
	char a[INET6_ADDRSTRLEN];

	return json_pack("{s:s, s:i, s:s}", "vip", xlvs_addr_str(&s->vip, a, sizeof(a)) ?: "?", "port",
			 (int)s->port, "protocol", xlvs_svc_proto_name(s->proto));
}

static json_t *real_json(const struct xlvs_real_spec *r)
{
	char a[INET6_ADDRSTRLEN];

	return json_pack("{s:s, s:i}", "address", xlvs_addr_str(&r->addr, a, sizeof(a)) ?: "?", "port",
			 (int)r->port);
}

static void add_field(json_t *fields, const char *key, const char *from, const char *to)
{
	json_t *f = json_pack("{s:s}", "key", key);

	if (f && from)
		json_object_set_new(f, "from", json_string(from));
	if (f && to)
		json_object_set_new(f, "to", json_string(to));
	json_array_append_new(fields, f);
}

/* The items that differ: changed or only in `to`, in to's order, then those only in `from`. */
static json_t *fields_diff(const struct xlvs_conf_items *from, const struct xlvs_conf_items *to)
{
	json_t *fields = json_array();
	const struct xlvs_conf_item *o;
	size_t i;

	for (i = 0; fields && i < to->n; i++) {
		o = xlvs_conf_item(from, to->v[i].key);
		if (!o || strcmp(o->val, to->v[i].val))
			add_field(fields, to->v[i].key, o ? o->val : NULL, to->v[i].val);
	}
	for (i = 0; fields && i < from->n; i++)
		if (!xlvs_conf_item(to, from->v[i].key))
			add_field(fields, from->v[i].key, from->v[i].val, NULL);
	return fields;
}

/* Append {object, change, service?, real?, fields} unless a "changed" one has no field. */
static int add_change(json_t *out, const char *object, const char *change, const struct xlvs_svc_spec *s,
		      const struct xlvs_real_spec *r, json_t *fields)
{
	json_t *c;

	if (!fields)
		return -ENOMEM;
	if (!strcmp(change, "changed") && !json_array_size(fields)) {
		json_decref(fields);
		return 0;
	}
	c = json_pack("{s:s, s:s, s:o}", "object", object, "change", change, "fields", fields);
	if (c && s)
		json_object_set_new(c, "service", svc_json(s));
	if (c && r)
		json_object_set_new(c, "real", real_json(r));
	return c && !json_array_append_new(out, c) ? 0 : -ENOMEM;
}

/* One real: added (from NULL), removed (to NULL) or its changed settings. */
static int real_diff(json_t *out, const struct xlvs_svc_spec *fs, const struct xlvs_real_spec *fr,
		     const struct xlvs_svc_spec *ts, const struct xlvs_real_spec *tr)
{
	struct xlvs_conf_items a = { 0 }, b = { 0 };
	int err = 0;

	if (fr)
		err = xlvs_conf_real_items(fs, fr, &a);
	if (!err && tr)
		err = xlvs_conf_real_items(ts, tr, &b);
	if (!err)
		err = add_change(out, "real",
				 !fr   ? "added"
				 : !tr ? "removed"
				       : "changed",
				 ts ? ts : fs, tr ? tr : fr, fields_diff(&a, &b));
	xlvs_conf_items_free(&a);
	xlvs_conf_items_free(&b);
	return err;
}

/* The reals of a service in both states (fs NULL: added service, every real added). */
static int reals_diff(json_t *out, const struct xlvs_svc_spec *fs, const struct xlvs_svc_spec *ts)
{
	static const struct xlvs_svc_spec none;
	const struct xlvs_svc_spec *f = fs ? fs : &none;
	const void **fv = sorted(f->reals, f->nr_reals, sizeof(*f->reals), real_cmp);
	const void **tv = sorted(ts->reals, ts->nr_reals, sizeof(*ts->reals), real_cmp);
	const struct xlvs_real_spec *r;
	int err = fv && tv ? 0 : -ENOMEM;
	size_t i;

	for (i = 0; !err && i < f->nr_reals; i++)
		if (!find(tv, ts->nr_reals, &f->reals[i], real_cmp))
			err = real_diff(out, fs, &f->reals[i], NULL, NULL);
	for (i = 0; !err && i < ts->nr_reals; i++) {
		r = find(fv, f->nr_reals, &ts->reals[i], real_cmp);
		err = real_diff(out, fs, r, ts, &ts->reals[i]);
	}
	free(fv);
	free(tv);
	return err;
}

static int svc_diff(json_t *out, const struct xlvs_svc_spec *fs, const struct xlvs_svc_spec *ts)
{
	struct xlvs_conf_items a = { 0 }, b = { 0 };
	int err = 0;

	if (fs)
		err = xlvs_conf_svc_items(fs, &a);
	if (!err && ts)
		err = xlvs_conf_svc_items(ts, &b);
	if (!err)
		err = add_change(out, "service",
				 !fs   ? "added"
				 : !ts ? "removed"
				       : "changed",
				 ts ? ts : fs, NULL, fields_diff(&a, &b));
	xlvs_conf_items_free(&a);
	xlvs_conf_items_free(&b);
	if (!err && ts)
		err = reals_diff(out, fs, ts);
	return err;
}

/*
 * Global keys a reload does not change: the pinned state keeps what it was made with
 * (daemon.c warns). Their changes are marked "live": false.
 */
static bool kept_by_the_state(const char *key)
{
	return !strcmp(key, "flow_hash") || !strcmp(key, "conn_table_size");
}

static json_t *mark_not_live(json_t *fields)
{
	json_t *f;
	size_t i;

	json_array_foreach (fields, i, f)
		if (kept_by_the_state(json_string_value(json_object_get(f, "key")) ?: ""))
			json_object_set_new(f, "live", json_false());
	return fields;
}

static int global_diff(json_t *out, const struct xlvs_global_spec *from, const struct xlvs_global_spec *to)
{
	struct xlvs_conf_items a = { 0 }, b = { 0 };
	int err = xlvs_conf_global_items(from, &a);

	if (!err)
		err = xlvs_conf_global_items(to, &b);
	if (!err)
		err = add_change(out, "global", "changed", NULL, NULL, mark_not_live(fields_diff(&a, &b)));
	xlvs_conf_items_free(&a);
	xlvs_conf_items_free(&b);
	return err;
}

json_t *xlvsd_spec_diff(const struct xlvs_spec *from, const struct xlvs_spec *to)
{
	const void **fv = sorted(from->services, from->nr_services, sizeof(*from->services), svc_cmp);
	const void **tv = sorted(to->services, to->nr_services, sizeof(*to->services), svc_cmp);
	json_t *out = json_array();
	int err = fv && tv && out ? 0 : -ENOMEM;
	size_t i;

	if (!err)
		err = global_diff(out, &from->global, &to->global);
	for (i = 0; !err && i < from->nr_services; i++)
		if (!find(tv, to->nr_services, &from->services[i], svc_cmp))
			err = svc_diff(out, &from->services[i], NULL);
	for (i = 0; !err && i < to->nr_services; i++)
		err = svc_diff(out, find(fv, from->nr_services, &to->services[i], svc_cmp), &to->services[i]);
	free(fv);
	free(tv);
	if (err) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* ---- the commands ---------------------------------------------------------------- */

/*
 * The running configured state, shallow (read only): d->spec, with the flow hash and the
 * connection table size the state runs with (a file asking for others did not change them).
 * The table's size is given as conns asks for it when that makes the pinned table (the kernel
 * rounds it: xlvs_conns_entries()), else as its max_entries.
 */
static struct xlvs_spec running_spec(struct xlvsd *d, uint32_t conns)
{
	struct xlvs_spec running = d->spec;
	enum xlvs_flow_hash hash;

	if (!xlvs_maps_flow_hash(&d->maps, &hash))
		running.global.flow_hash = hash;
	if (d->maps.conn_entries)
		running.global.conn_table_size = xlvs_conns_entries(conns, d->maps.ncpus) ==
								 d->maps.conn_entries
							 ? conns
							 : d->maps.conn_entries;
	return running;
}

json_t *xlvsd_cmd_save(struct xlvsd *d, json_t *req)
{
	struct xlvs_spec running = running_spec(d, d->spec.global.conn_table_size);
	char comment[512], when[32];
	time_t now = time(NULL);
	char *text = NULL;
	json_t *reply;

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
	snprintf(comment, sizeof(comment),
		 "xlvs save, %s: xlvsd's running configuration (%s and the runtime changes since it was "
		 "loaded)",
		 when, d->opts->config);
	if (xlvs_conf_save(&running, comment, &text))
		return xlvsd_ctl_error("out of memory");
	reply = json_pack("{s:b, s:s}", "ok", 1, "config", text);
	free(text);
	return reply ? reply : xlvsd_ctl_error("out of memory");
}

/*
 * What a reload of want would do to the maps, decided by the reload's own
 * steps (daemon.c, xlvsd_apply and write_maps): the health checks staged for
 * want and its effective state built, then the maps' planner, capacity
 * included. The staged checks are forgotten: nothing starts, stops or is
 * written. 0, or -errno with why.
 */
static int plan_reload(struct xlvsd *d, const struct xlvs_spec *want, char *why, size_t size)
{
	struct xlvs_spec eff = { 0 };
	int err;

	why[0] = '\0';
	err = d->hc ? xlvsd_hc_stage(d->hc, want) : 0;
	if (!err && d->hc)
		err = xlvsd_hc_build(d->hc, want, &eff);
	if (err)
		snprintf(why, size, "health checks: %s", strerror(-err));
	if (!err)
		err = xlvs_plan_check(&d->maps, 0, d->hc ? &eff : want, why, size);
	if (err && !why[0])
		snprintf(why, size, "%s", strerror(-err));
	if (d->hc) {
		xlvsd_hc_rollback(d->hc);
		xlvs_spec_free(&eff);
	}
	return err;
}

json_t *xlvsd_cmd_diff(struct xlvsd *d, json_t *req)
{
	json_t *file = json_object_get(req, "file"), *changes, *reply;
	const char *path = d->opts->config;
	struct xlvs_spec want = { 0 }, running;
	char msg[1024], why[768];
	int err;

	if (file && (!json_is_string(file) || json_string_value(file)[0] != '/'))
		return xlvsd_ctl_error("\"file\" must be an absolute path");
	if (file)
		path = json_string_value(file);
	if (xlvsd_load_config(path, &want, msg, sizeof(msg)))
		return xlvsd_ctl_error("%s", msg);
	running = running_spec(d, want.global.conn_table_size);
	changes = xlvsd_spec_diff(&running, &want);
	err = plan_reload(d, &want, why, sizeof(why));
	xlvs_spec_free(&want);
	reply = json_pack("{s:b, s:s, s:o}", "ok", 1, "file", path, "changes", changes);
	if (reply && err)
		json_object_set_new(reply, "refused", json_string(why));
	return reply ? reply : xlvsd_ctl_error("out of memory");
}
