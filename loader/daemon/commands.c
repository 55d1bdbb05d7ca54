// SPDX-License-Identifier: GPL-2.0
/*
 * The control commands (docs/control.md). Arguments are checked strictly:
 * a missing, mistyped or unknown argument is an error reply and changes
 * nothing. Changes edit a copy of the desired state, which replaces the
 * running one only once applied; `reload` re-reads the file (the file wins).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/specedit.h"
#include "config/validate.h"
#include "health/hc.h"
#include "log.h"
#include "ctl.h"
#include "daemon.h"
#include "verbs.h"

#define MSG_SIZE 512

/* A change: edits want (a copy of the running state) or fails with msg. */
typedef int (*edit_fn)(struct xlvs_spec *want, json_t *req, char *what, char *msg);

struct command {
	const char *name;
	const char *const args[12]; /* allowed besides "cmd" */
	json_t *(*run)(struct xlvsd *d, json_t *req);
	edit_fn edit; /* or a change */
};

/*
 * A command whose reply can be large, or comes later, also has a stream
 * (ctl.h, "Replies made in steps"), listed in streamed[]: the socket uses it,
 * run serves xlvsd_command(). It returns the stream, or NULL with *reply.
 */
typedef struct xlvsd_ctl_stream *(*stream_fn)(struct xlvsd *d, json_t *req, json_t **reply);

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

json_t *xlvsd_apply_json(const struct xlvs_apply_stats *st)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "services_added",
			 (json_int_t)st->services_added, "services_updated", (json_int_t)st->services_updated,
			 "services_removed", (json_int_t)st->services_removed, "reals_written",
			 (json_int_t)st->reals_written, "reals_removed", (json_int_t)st->reals_removed,
			 "ring_slots_written", (json_int_t)st->ring_slots_written, "vips_written",
			 (json_int_t)st->vips_written, "vips_removed", (json_int_t)st->vips_removed,
			 "vip_filter_written", (json_int_t)st->vip_filter_written);
}

static json_t *applied_reply(const struct xlvs_apply_stats *st)
{
	return json_pack("{s:b, s:o}", "ok", 1, "applied", xlvsd_apply_json(st));
}

/* ---- argument parsing ------------------------------------------------------------ */

static int bad(char *msg, const char *fmt, const char *arg)
{
	snprintf(msg, MSG_SIZE, fmt, arg);
	return -EINVAL;
}

static bool key_allowed(const char *const *allowed, const char *key)
{
	for (; *allowed; allowed++)
		if (!strcmp(*allowed, key))
			return true;
	return false;
}

/* Every key of obj must be one of allowed (NULL-terminated). */
static int only_keys(json_t *obj, const char *const *allowed, const char *where, char *msg)
{
	const char *key;
	json_t *v;

	json_object_foreach (obj, key, v) {
		if (!key_allowed(allowed, key)) {
			snprintf(msg, MSG_SIZE, "unknown argument \"%s\"%s", key, where);
			return -EINVAL;
		}
	}
	return 0;
}

/* An integer within min..max; out of range in the configuration file's words. */
static int get_uint(json_t *obj, const char *key, bool required, uint32_t min, uint32_t max, uint32_t *out,
		    char *msg)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return required ? bad(msg, "missing argument \"%s\"", key) : 0;
	if (!json_is_integer(v)) {
		snprintf(msg, MSG_SIZE, "\"%s\" must be an integer from %u to %u", key, min, max);
		return -EINVAL;
	}
	if (xlvs_v_uint(key, json_integer_value(v), min, max, msg, MSG_SIZE))
		return -EINVAL;
	*out = json_integer_value(v);
	return 0;
}

static const char *get_str(json_t *obj, const char *key, bool required, char *msg, int *err)
{
	json_t *v = json_object_get(obj, key);

	if (!v || !json_is_string(v)) {
		if (v || required)
			*err = bad(msg, v ? "\"%s\" must be a string" : "missing argument \"%s\"", key);
		return NULL;
	}
	return json_string_value(v);
}

/* An address the file would take for that key (validate.h). */
static int get_addr(json_t *obj, const char *key, struct xlvs_addr *a, char *msg)
{
	const char *s;
	int err = 0;

	s = get_str(obj, key, true, msg, &err);
	if (err)
		return err;
	return xlvs_v_addr(key, s, 0, a, msg, MSG_SIZE);
}

/* The object req[name] ({keys}, shape for the message), or NULL with *err set. */
static json_t *get_object(json_t *req, const char *name, const char *shape, const char *const *keys,
			  char *msg, int *err)
{
	json_t *o = json_object_get(req, name);
	char where[32];

	if (!o) {
		*err = bad(msg, "missing argument \"%s\"", name);
		return NULL;
	}
	if (!json_is_object(o)) {
		snprintf(msg, MSG_SIZE, "\"%s\" must be an object %s", name, shape);
		*err = -EINVAL;
		return NULL;
	}
	snprintf(where, sizeof(where), " in \"%s\"", name);
	*err = only_keys(o, keys, where, msg);
	return o;
}

/* {"vip", "port", "protocol"} -> the key fields of svc. */
static int get_service(json_t *req, struct xlvs_svc_spec *svc, char *msg)
{
	static const char *const keys[] = { "vip", "port", "protocol", NULL };
	const char *proto;
	uint32_t port = 0;
	json_t *o;
	int err;

	o = get_object(req, "service", "{vip, port, protocol}", keys, msg, &err);
	if (!err)
		err = get_addr(o, "vip", &svc->vip, msg);
	if (!err)
		err = get_uint(o, "port", true, XLVS_V_SVC_PORT_MIN, XLVS_V_PORT_MAX, &port, msg);
	if (err)
		return err;
	svc->port = port;
	proto = get_str(o, "protocol", true, msg, &err);
	if (err)
		return err;
	return xlvs_v_proto("protocol", proto, &svc->proto, msg, MSG_SIZE);
}

/* The service named by req in want. */
static struct xlvs_svc_spec *find_service(struct xlvs_spec *want, json_t *req, char *what, char *msg,
					  int *err)
{
	struct xlvs_svc_spec key = { 0 }, *svc;
	char a[64];

	*err = get_service(req, &key, msg);
	if (*err)
		return NULL;
	snprintf(what, MSG_SIZE, "%s %s:%u", xlvs_svc_proto_name(key.proto),
		 xlvs_addr_str(&key.vip, a, sizeof(a)), key.port);
	svc = xlvsd_spec_find_svc(want, &key.vip, key.proto, key.port);
	if (!svc)
		*err = bad(msg, "no service %s", what);
	return svc;
}

/*
 * {"address", "port"?} -> address and port (-1 if not given); port_min: 1 for
 * a new real (as in the file), 0 to name one (reals of a port-0 service have port 0).
 */
static int get_real(json_t *req, struct xlvs_addr *addr, int *port, uint32_t port_min, char *msg)
{
	static const char *const keys[] = { "address", "port", NULL };
	uint32_t p = 0;
	json_t *o;
	int err;

	o = get_object(req, "real", "{address, port}", keys, msg, &err);
	if (!o)
		return err;
	if (!err)
		err = get_addr(o, "address", addr, msg);
	if (!err)
		err = get_uint(o, "port", false, port_min, XLVS_V_PORT_MAX, &p, msg);
	*port = json_object_get(o, "port") ? (int)p : -1;
	return err;
}

/* The real named by req in svc. */
static int find_real(struct xlvs_svc_spec *svc, json_t *req, char *what, char *msg, size_t *idx)
{
	struct xlvs_addr addr;
	char a[64];
	int port, err;

	err = get_real(req, &addr, &port, 0, msg);
	if (err)
		return err;
	snprintf(what + strlen(what), MSG_SIZE - strlen(what), " real %s",
		 xlvs_addr_str(&addr, a, sizeof(a)));
	err = xlvsd_spec_find_real(svc, &addr, port, idx);
	if (err == -ENOENT)
		return bad(msg, "no real %s in this service", a);
	if (err)
		return bad(msg, "several reals have address %s: give \"port\"", a);
	return 0;
}

/* A scheduler or method by name (validate.h); def if not given. */
static int get_name(json_t *req, const char *key,
		    int (*check)(const char *, const char *, uint8_t *, char *, size_t), int def, int *out,
		    char *msg)
{
	const char *s;
	int err = 0;
	uint8_t v;

	*out = def;
	s = get_str(req, key, false, msg, &err);
	if (err || !s)
		return err;
	if (check(key, s, &v, msg, MSG_SIZE))
		return -EINVAL;
	*out = v;
	return 0;
}

/* ---- changes --------------------------------------------------------------------- */

/* Which of the optional service arguments req gives (an update changes only those). */
static unsigned int svc_fields(json_t *req)
{
	return (json_object_get(req, "scheduler") ? XLVSD_SVC_SCHED : 0) |
	       (json_object_get(req, "forward") ? XLVSD_SVC_FWD : 0) |
	       (json_object_get(req, "ring_size") ? XLVSD_SVC_RING : 0) |
	       (json_object_get(req, "echo") ? XLVSD_SVC_FLAGS : 0) |
	       (json_object_get(req, "scheduler_flags") ? XLVSD_SVC_SCHED_FLAGS : 0) |
	       (json_object_get(req, "persistence") ? XLVSD_SVC_PERSIST : 0) |
	       (json_object_get(req, "persistence_netmask") ? XLVSD_SVC_PERSIST_NET : 0) |
	       (json_object_get(req, "scheduler_expire") ? XLVSD_SVC_SCHED_EXPIRE : 0) |
	       (json_object_get(req, "flow_state") ? XLVSD_SVC_FLOW_STATE : 0) |
	       (json_object_get(req, "ring_window") ? XLVSD_SVC_RING_WINDOW : 0);
}

/* "persistence": seconds (0: off), "persistence_netmask": "255.255.255.0", "24" or 24, as in the file. */
static int get_persistence(json_t *req, struct xlvs_svc_spec *svc, char *msg)
{
	json_t *net = json_object_get(req, "persistence_netmask");
	char text[32];
	int err = get_uint(req, "persistence", false, 0, XLVS_TIMEOUT_MAX_S, &svc->persist_s, msg);

	if (err || !net)
		return err;
	if (json_is_integer(net) && json_integer_value(net) >= 0 && json_integer_value(net) <= 255)
		snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(net));
	else if (json_is_string(net))
		snprintf(text, sizeof(text), "%s", json_string_value(net));
	else
		return bad(msg, "\"%s\" must be a netmask or a prefix length", "persistence_netmask");
	if (xlvs_v_persist_netmask("persistence_netmask", text, svc->vip.family, &svc->persist_plen, msg,
				   MSG_SIZE))
		return -EINVAL;
	return 0;
}

/* "scheduler_flags": ["sh-fallback", "sh-port"], checked against the scheduler the service will have. */
static int get_sched_flags(json_t *req, uint8_t sched, uint32_t *flags, char *msg)
{
	json_t *arr = json_object_get(req, "scheduler_flags"), *v;
	size_t i;

	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return bad(msg, "\"%s\" must be a list of flag names", "scheduler_flags");
	json_array_foreach (arr, i, v) {
		if (!json_is_string(v))
			return bad(msg, "\"%s\" must be a list of flag names", "scheduler_flags");
		if (xlvs_v_sched_flag("scheduler_flags", json_string_value(v), sched, flags, msg, MSG_SIZE))
			return -EINVAL;
	}
	return 0;
}

/* Adds the service, or updates the arguments given of an existing one ("add or update"). */
static int edit_service_add(struct xlvs_spec *want, json_t *req, char *what, char *msg)
{
	struct xlvs_svc_spec svc = { .sched = XLVS_SCHED_MAGLEV,
				     .fwd = XLVS_FWD_DR,
				     .ring_size = XLVS_RING_DEFAULT },
			     *old;
	json_t *echo = json_object_get(req, "echo");
	int sched, fwd, flow_state, err;
	char a[64];

	err = get_service(req, &svc, msg);
	if (!err)
		err = get_name(req, "scheduler", xlvs_v_sched, svc.sched, &sched, msg);
	if (!err)
		err = get_name(req, "forward", xlvs_v_fwd, svc.fwd, &fwd, msg);
	if (!err)
		err = get_uint(req, "ring_size", false, 0, UINT32_MAX, &svc.ring_size, msg);
	/* 0: the default; any other size as the file takes it */
	if (!err && svc.ring_size && xlvs_v_ring("ring_size", svc.ring_size, msg, MSG_SIZE))
		err = -EINVAL;
	if (!err)
		err = get_persistence(req, &svc, msg);
	/* seconds; the range and the scheduler are checked as the file's key is (validate.c) */
	if (!err)
		err = get_uint(req, "scheduler_expire", false, 0, UINT32_MAX, &svc.sched_expire_s, msg);
	if (!err)
		err = get_name(req, "flow_state", xlvs_v_flow_state, XLVS_FLOW_STATE_AUTO, &flow_state, msg);
	/* seconds, 0: the tcp timeout; at most a week, as the file's key */
	if (!err)
		err = get_uint(req, "ring_window", false, 0, XLVS_TIMEOUT_MAX_S, &svc.ring_window_s, msg);
	if (err)
		return err;
	if (echo && !json_is_boolean(echo))
		return bad(msg, "\"%s\" must be true or false", "echo");
	svc.sched = sched;
	svc.fwd = fwd;
	svc.flow_state = flow_state;
	if (!svc.ring_size)
		svc.ring_size = XLVS_RING_DEFAULT; /* 0 = default, as in the file */
	svc.flags = json_is_true(echo) ? XLVS_SVC_F_ECHO : 0;
	snprintf(what, MSG_SIZE, "%s %s:%u", xlvs_svc_proto_name(svc.proto),
		 xlvs_addr_str(&svc.vip, a, sizeof(a)), svc.port);
	old = xlvsd_spec_find_svc(want, &svc.vip, svc.proto, svc.port);
	/* an update keeps the service's scheduler unless it names another */
	err = get_sched_flags(req, old && !json_object_get(req, "scheduler") ? old->sched : svc.sched,
			      &svc.flags, msg);
	if (err)
		return err;
	if (old)
		return xlvsd_spec_update_svc(want, old, &svc, svc_fields(req), msg, MSG_SIZE);
	return xlvsd_spec_add_svc(want, &svc, msg, MSG_SIZE);
}

static int edit_service_del(struct xlvs_spec *want, json_t *req, char *what, char *msg)
{
	struct xlvs_svc_spec *svc;
	int err;

	svc = find_service(want, req, what, msg, &err);
	return svc ? xlvsd_spec_del_svc(want, svc) : err;
}

static int edit_real_add(struct xlvs_spec *want, json_t *req, char *what, char *msg)
{
	struct xlvs_real_spec r = { .weight = 1 };
	struct xlvs_svc_spec *svc;
	uint32_t weight = 1, gue = 0;
	int port, fwd, err;
	char a[64];

	svc = find_service(want, req, what, msg, &err);
	if (!svc)
		return err;
	err = get_real(req, &r.addr, &port, XLVS_V_REAL_PORT_MIN, msg);
	if (!err)
		err = get_uint(req, "weight", false, 0, XLVS_V_WEIGHT_MAX, &weight, msg);
	if (!err)
		err = get_name(req, "forward", xlvs_v_fwd, svc->fwd, &fwd, msg);
	if (!err)
		err = get_uint(req, "gue_port", false, XLVS_V_GUE_PORT_MIN, XLVS_V_PORT_MAX, &gue, msg);
	if (err)
		return err;
	r.port = port < 0 ? svc->port : port;
	r.weight = weight;
	r.fwd = fwd;
	r.gue_port = gue;
	snprintf(what + strlen(what), MSG_SIZE - strlen(what), " real %s",
		 xlvs_addr_str(&r.addr, a, sizeof(a)));
	return xlvsd_spec_add_real(want, svc, &r, msg, MSG_SIZE);
}

static int edit_real_del(struct xlvs_spec *want, json_t *req, char *what, char *msg)
{
	struct xlvs_svc_spec *svc;
	size_t idx;
	int err;

	svc = find_service(want, req, what, msg, &err);
	if (svc)
		err = find_real(svc, req, what, msg, &idx);
	if (!err)
		xlvsd_spec_del_real(svc, idx);
	return err;
}

static int edit_real_weight(struct xlvs_spec *want, json_t *req, char *what, char *msg)
{
	struct xlvs_svc_spec *svc;
	uint32_t weight = 0;
	size_t idx;
	int err;

	svc = find_service(want, req, what, msg, &err);
	if (svc)
		err = find_real(svc, req, what, msg, &idx);
	if (!err)
		err = get_uint(req, "weight", true, 0, XLVS_V_WEIGHT_MAX, &weight, msg);
	if (err)
		return err;
	svc->reals[idx].weight = weight;
	snprintf(what + strlen(what), MSG_SIZE - strlen(what), " weight %u", weight);
	return 0;
}

/* Edit a copy of the running state, apply it; the running state changes only on success. */
static json_t *change(struct xlvsd *d, const struct command *c, json_t *req)
{
	struct xlvs_apply_stats st;
	struct xlvs_spec want;
	char what[MSG_SIZE] = "", msg[MSG_SIZE] = "";
	int err;

	if (xlvsd_spec_copy(&want, &d->spec))
		return xlvsd_ctl_error("out of memory");
	err = c->edit(&want, req, what, msg);
	if (!err)
		err = xlvsd_apply(d, &want, &st, msg, sizeof(msg));
	xlvs_spec_free(&want);
	if (err) {
		log_warn("control: %s %s refused: %s", c->name, what, msg[0] ? msg : strerror(-err));
		return xlvsd_ctl_error("%s", msg[0] ? msg : strerror(-err));
	}
	log_info("control: %s %s: services +%u ~%u -%u, reals written %u removed %u, ring slots "
		 "written %u",
		 c->name, what, st.services_added, st.services_updated, st.services_removed, st.reals_written,
		 st.reals_removed, st.ring_slots_written);
	return applied_reply(&st);
}

/* ---- queries ------------------------------------------------------------------------ */

static json_t *interfaces_json(struct xlvsd *d)
{
	json_t *arr = json_array();
	unsigned int i;

	for (i = 0; arr && i < d->dp.nr_ifaces; i++) {
		const struct xlvs_iface *f = &d->dp.ifaces[i];

		json_array_append_new(arr, json_pack("{s:s, s:i, s:s, s:s}", "name", f->name, "ifindex",
						     f->ifindex, "mode", xlvs_xdp_mode_name(f->mode),
						     "attach", xlvs_attach_method_name(f->method)));
	}
	return arr;
}

static json_t *cmd_status(struct xlvsd *d, json_t *req)
{
	unsigned int checks = 0, up = 0, down = 0;
	enum xlvs_flow_hash hash;
	struct xlvsd_status h;
	json_t *reply;

	xlvsd_status_snapshot(&d->status, &h);
	if (d->hc)
		xlvsd_hc_counts(d->hc, &checks, &up, &down);
	reply = json_pack("{s:b, s:i, s:s, s:s, s:I, s:o, s:I, s:I, s:o, s:s, s:s, s:I, s:I}", "ok", 1, "pid",
			  (int)getpid(), "version", XLVS_VERSION, "config", d->opts->config, "uptime_s",
			  (json_int_t)(time(NULL) - h.start_time), "interfaces", interfaces_json(d),
			  "services", (json_int_t)h.services, "reals", (json_int_t)h.reals, "last_apply",
			  xlvsd_apply_json(&d->last_apply), "pin_dir", d->opts->pin_dir, "socket",
			  d->opts->socket, "reloads_ok", (json_int_t)h.reloads_ok, "reloads_failed",
			  (json_int_t)h.reloads_failed);
	if (reply)
		json_object_update_new(reply, json_pack("{s:I, s:I, s:I, s:I}", "pins_restored",
							(json_int_t)h.pins_restored, "interfaces_lost",
							(json_int_t)h.ifaces_lost, "interfaces_reattached",
							(json_int_t)h.ifaces_reattached, "map_full",
							(json_int_t)h.map_full));
	if (reply && !xlvs_maps_flow_hash(&d->maps, &hash))
		json_object_set_new(reply, "flow_hash", json_string(xlvs_flow_hash_names[hash]));
	if (reply)
		json_object_set_new(reply, "health_checks",
				    json_pack("{s:i, s:i, s:i}", "checked", (int)checks, "up", (int)up,
					      "down", (int)down));
	return reply;
}

/* Health state of every service and real: configured and effective weight, check results. */
static json_t *cmd_health(struct xlvsd *d, json_t *req)
{
	json_t *svcs = d->hc ? xlvsd_hc_json(d->hc, &d->spec) : json_array();

	if (!svcs)
		return xlvsd_ctl_error("out of memory");
	return json_pack("{s:b, s:o}", "ok", 1, "services", svcs);
}

/*
 * The health reply in steps: a report (a copy of what it shows, taken at
 * once), then XLVSD_CTL_STEP entries (services or reals) per step:
 * {"ok":true,"services":[{service...,"reals":[{real},...]},...]}.
 */
struct health_stream {
	struct xlvsd_ctl_stream s;
	struct xlvsd_hc_report *r;
	size_t svc, real; /* the next entry */
	bool begun, in_svc;
};

static int health_next(struct xlvsd_ctl_stream *s, struct xlvsd_ctl_buf *out)
{
	struct health_stream *h = container_of(s, struct health_stream, s);
	size_t n = 0, nr_svc = xlvsd_hc_report_services(h->r);

	if (!h->begun && xlvsd_ctl_put_str(out, "{\"ok\":true,\"services\":["))
		return -ENOMEM;
	h->begun = true;
	for (; h->svc < nr_svc && n < XLVSD_CTL_STEP; n++) {
		if (!h->in_svc) {
			if ((h->svc && xlvsd_ctl_put_str(out, ",")) ||
			    xlvsd_ctl_put_open(out, xlvsd_hc_report_service(h->r, h->svc)) ||
			    xlvsd_ctl_put_str(out, ",\"reals\":["))
				return -ENOMEM;
			h->in_svc = true;
		} else if (h->real < xlvsd_hc_report_reals(h->r, h->svc)) {
			if ((h->real && xlvsd_ctl_put_str(out, ",")) ||
			    xlvsd_ctl_put_json(out, xlvsd_hc_report_real(h->r, h->svc, h->real)))
				return -ENOMEM;
			h->real++;
		} else {
			if (xlvsd_ctl_put_str(out, "]}"))
				return -ENOMEM;
			h->svc++;
			h->real = 0;
			h->in_svc = false;
		}
	}
	if (h->svc < nr_svc)
		return XLVSD_CTL_MORE;
	return xlvsd_ctl_put_str(out, "]}") ? -ENOMEM : XLVSD_CTL_DONE;
}

static void health_release(struct xlvsd_ctl_stream *s)
{
	struct health_stream *h = container_of(s, struct health_stream, s);

	xlvsd_hc_report_free(h->r);
	free(h);
}

static struct xlvsd_ctl_stream *stream_health(struct xlvsd *d, json_t *req, json_t **reply)
{
	struct health_stream *h;

	if (!d->hc) {
		*reply = cmd_health(d, req);
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (h)
		h->r = xlvsd_hc_report_new(d->hc, &d->spec);
	if (!h || !h->r) {
		free(h);
		*reply = xlvsd_ctl_error("out of memory");
		return NULL;
	}
	h->s.next = health_next;
	h->s.release = health_release;
	return &h->s;
}

static json_t *cmd_reload(struct xlvsd *d, json_t *req)
{
	struct xlvs_apply_stats st;
	char msg[1024];

	log_info("control: reloading %s", d->opts->config);
	if (xlvsd_reload(d, &st, msg, sizeof(msg)))
		return xlvsd_ctl_error("%s", msg);
	return applied_reply(&st);
}

/*
 * reload over the socket: the file is parsed off the loop (xlvsd_reload_start)
 * and the reply waits for the outcome (a stream that says XLVSD_CTL_WAIT).
 */
struct reload_stream {
	struct xlvsd_ctl_stream s;
	struct xlvsd_reload_waiter w;
	struct xlvsd *d;
	bool done;
	json_t *reply;
};

static void reload_told(struct xlvsd_reload_waiter *w, int err, const struct xlvs_apply_stats *st,
			const char *msg)
{
	struct reload_stream *r = container_of(w, struct reload_stream, w);

	r->done = true;
	r->reply = err ? xlvsd_ctl_error("%s", msg ? msg : strerror(-err)) : applied_reply(st);
	xlvsd_ctl_wake(&r->s);
}

static int reload_next(struct xlvsd_ctl_stream *s, struct xlvsd_ctl_buf *out)
{
	struct reload_stream *r = container_of(s, struct reload_stream, s);
	json_t *reply = r->reply;

	if (!r->done)
		return XLVSD_CTL_WAIT;
	r->reply = NULL;
	return xlvsd_ctl_put_json(out, reply) ? -ENOMEM : XLVSD_CTL_DONE;
}

static void reload_release(struct xlvsd_ctl_stream *s)
{
	struct reload_stream *r = container_of(s, struct reload_stream, s);

	if (!r->done)
		xlvsd_reload_cancel(r->d, &r->w); /* the client went: the reload goes on */
	json_decref(r->reply);
	free(r);
}

static struct xlvsd_ctl_stream *stream_reload(struct xlvsd *d, json_t *req, json_t **reply)
{
	struct reload_stream *r = calloc(1, sizeof(*r));
	int err;

	if (!r) {
		*reply = xlvsd_ctl_error("out of memory");
		return NULL;
	}
	r->d = d;
	r->w.done = reload_told;
	r->s.next = reload_next;
	r->s.release = reload_release;
	log_info("control: reloading %s", d->opts->config);
	err = xlvsd_reload_start(d, &r->w);
	if (err) {
		free(r);
		*reply = xlvsd_ctl_error("reload refused, running state kept: cannot start the parser: %s",
					 strerror(-err));
		return NULL;
	}
	return &r->s;
}

static const struct command commands[] = {
	{ "status", { NULL }, cmd_status, NULL },
	{ "reload", { NULL }, cmd_reload, NULL },
	{ "health", { NULL }, cmd_health, NULL },
	{ "save", { NULL }, xlvsd_cmd_save, NULL },
	{ "diff", { "file", NULL }, xlvsd_cmd_diff, NULL },
	{ "service-add",
	  { "service", "scheduler", "scheduler_flags", "forward", "ring_size", "echo", "persistence",
	    "persistence_netmask", "scheduler_expire", "flow_state", "ring_window", NULL },
	  NULL,
	  edit_service_add },
	{ "service-del", { "service", NULL }, NULL, edit_service_del },
	{ "real-add", { "service", "real", "weight", "forward", "gue_port", NULL }, NULL, edit_real_add },
	{ "real-del", { "service", "real", NULL }, NULL, edit_real_del },
	{ "real-set-weight", { "service", "real", "weight", NULL }, NULL, edit_real_weight },
};

static const struct {
	const char *name;
	stream_fn fn;
} streamed[] = {
	{ "reload", stream_reload },
	{ "health", stream_health },
};

static stream_fn stream_of(const struct command *c)
{
	size_t i;

	for (i = 0; i < sizeof(streamed) / sizeof(streamed[0]); i++)
		if (!strcmp(streamed[i].name, c->name))
			return streamed[i].fn;
	return NULL;
}

json_t *xlvsd_command(void *ctx, json_t *req)
{
	return xlvsd_command_stream(ctx, req, NULL);
}

/* stream NULL: whole replies only (run). */
json_t *xlvsd_command_stream(void *ctx, json_t *req, struct xlvsd_ctl_stream **stream)
{
	struct xlvsd *d = ctx;
	json_t *reply = NULL;
	stream_fn sfn;
	const struct command *c = NULL;
	json_t *cmd = json_object_get(req, "cmd");
	const char *key;
	json_t *v;
	size_t i;

	if (!json_is_string(cmd))
		return xlvsd_ctl_error("malformed request: %s",
				       cmd ? "\"cmd\" must be a string" : "missing \"cmd\"");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, json_string_value(cmd)))
			c = &commands[i];
	if (!c)
		return xlvsd_ctl_error("unknown command \"%s\" (status, reload, health, save, diff, "
				       "service-add, service-del, real-add, real-del, real-set-weight)",
				       json_string_value(cmd));
	json_object_foreach (req, key, v) {
		if (strcmp(key, "cmd") && !key_allowed(c->args, key))
			return xlvsd_ctl_error("unknown argument \"%s\" for %s", key, c->name);
	}
	sfn = stream ? stream_of(c) : NULL;
	if (sfn) {
		*stream = sfn(d, req, &reply);
		return *stream ? NULL : reply;
	}
	return c->run ? c->run(d, req) : change(d, c, req);
}
