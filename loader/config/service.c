// SPDX-License-Identifier: GPL-2.0
/* The services of the configuration file and their reals. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xlvsmaps.h"
#include "parse.h"

/* A service while its mapping is walked: the spec plus service-only defaults. */
struct svc_parse {
	struct xlvs_svc_spec s;
	uint16_t gue_port;	  /* default for its gue reals; 0 = tunnel.gue_port */
	uint32_t persist_ms;	  /* `persistence:` as parsed, made whole seconds after the walk */
	struct xlvs_svc_health h; /* becomes s.health if any health key is set */
};

/* A name that one of the shared validators (validate.h) turns into a value. */
static int key_name(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj,
		    int (*check)(const char *, const char *, uint8_t *, char *, size_t))
{
	char msg[sizeof(c->err->msg)];
	const char *s;
	uint8_t x;
	int err = cf_get_str(c, k->name, v, &s);

	if (err)
		return err;
	if (check(k->name, s, &x, msg, sizeof(msg)))
		return fail(c, v, "%s", msg);
	cf_store(obj, k, x);
	return 0;
}

static int key_sched(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	return key_name(c, k, v, obj, xlvs_v_sched);
}

static int key_fwd(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	return key_name(c, k, v, obj, xlvs_v_fwd);
}

static int key_proto(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	return key_name(c, k, v, obj, xlvs_v_proto);
}

static int key_flow_state(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	return key_name(c, k, v, obj, xlvs_v_flow_state);
}

static int key_ring(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	char msg[sizeof(c->err->msg)];
	int err = cf_key_uint(c, k, v, obj);

	if (!err && xlvs_v_ring(k->name, ((struct svc_parse *)obj)->s.ring_size, msg, sizeof(msg)))
		err = fail(c, v, "%s", msg);
	return err;
}

static int key_echo(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	struct svc_parse *p = obj;
	bool on = false;
	int err = cf_get_bool(c, k->name, v, &on);

	if (!err && on)
		p->s.flags |= XLVS_SVC_F_ECHO;
	return err;
}

/* A real's `check:` goes over its service's check (or the defaults). */
static int key_real_check(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	struct xlvs_real_spec *r = obj;
	struct xlvs_check_spec base;
	int err;

	if (c->cur_svc->h.check.type != XLVS_CHECK_NONE)
		base = c->cur_svc->h.check;
	else
		cf_check_defaults(&base);
	r->check = malloc(sizeof(*r->check));
	if (!r->check)
		return cf_oom(c);
	err = cf_parse_check(c, v, &base, r->check);
	if (err) {
		free(r->check);
		r->check = NULL;
	}
	return err;
}

enum {
	R_ADDRESS,
	R_PORT,
	R_WEIGHT,
	R_FORWARD,
	R_GUE_PORT,
	R_CHECK,
	R_NR
};

#define R(f) FIELD(struct xlvs_real_spec, f)

static const struct key real_keys[R_NR] = {
	[R_ADDRESS] = { .name = "address", .fn = cf_key_addr, R(addr) },
	[R_PORT] = { .name = "port",
		     .fn = cf_key_uint,
		     R(port),
		     .min = XLVS_V_REAL_PORT_MIN,
		     .max = XLVS_V_PORT_MAX },
	[R_WEIGHT] = { .name = "weight", .fn = cf_key_uint, R(weight), .max = XLVS_V_WEIGHT_MAX },
	[R_FORWARD] = { .name = "forward", .fn = key_fwd, R(fwd) },
	[R_GUE_PORT] = { .name = "gue_port",
			 .fn = cf_key_uint,
			 R(gue_port),
			 .min = XLVS_V_GUE_PORT_MIN,
			 .max = XLVS_V_PORT_MAX },
	[R_CHECK] = { .name = "check", .fn = key_real_check },
};

/* The node of a key of a real that a shared rule names ("" or absent: the address). */
static yaml_node_t *real_node(const struct seen *s, const char *key)
{
	size_t i;

	for (i = 0; i < R_NR; i++)
		if (!strcmp(real_keys[i].name, key) && HAS(s, i))
			return s->val[i];
	return s->val[R_ADDRESS];
}

/* The rules of a whole real (validate.h), then what the file's cross-checks need to know. */
static int check_real(struct ctx *c, const struct svc_parse *p, struct xlvs_real_spec *r, struct seen *s,
		      struct svc_note *note)
{
	char msg[sizeof(c->err->msg)];
	bool v6 = r->addr.family == XLVS_AF_INET6;
	const char *key = "";

	/* the tunnel sources may come later in the file: conf.c checks them after the walk */
	if (xlvs_v_real(NULL, &p->s, r, &key, msg, sizeof(msg)))
		return fail(c, real_node(s, key), "%s", msg);
	if (r->check && xlvs_v_check_port(&p->s, r->check, msg, sizeof(msg)))
		return fail(c, s->val[R_CHECK], "%s", msg);
	if (r->fwd == XLVS_FWD_FULLNAT && !note->snat_need[v6]) {
		note->snat_need[v6] = true;
		note->snat_mark[v6] = s->val[R_ADDRESS]->start_mark;
	}
	if (r->fwd == XLVS_FWD_DR || r->fwd == XLVS_FWD_LOCAL || xlvs_fwd_is_nat(r->fwd))
		return 0;
	if (r->fwd == XLVS_FWD_GUE && !HAS(s, R_GUE_PORT))
		r->gue_port = p->gue_port;
	if (!note->tun_need[v6]) {
		note->tun_need[v6] = true;
		note->tun_mark[v6] = s->val[R_ADDRESS]->start_mark;
	}
	if (p->s.vip.family == XLVS_AF_INET6) { /* outer IP (+ UDP for GUE) */
		unsigned int o = (v6 ? 40 : 20) + (r->fwd == XLVS_FWD_GUE ? 8 : 0);

		if (o > note->v6_overhead)
			note->v6_overhead = o;
	}
	return 0;
}

static int parse_real(struct ctx *c, yaml_node_t *n, const struct svc_parse *p, struct xlvs_real_spec *out,
		      struct svc_note *note, yaml_mark_t *mark)
{
	struct xlvs_real_spec r = { .port = p->s.port, .weight = 1, .fwd = p->s.fwd };
	struct vbuf b;
	struct seen s;
	int err;

	if (n->type != YAML_MAPPING_NODE)
		return fail(c, n, "reals: each real must be a mapping, got %s", cf_what(n, &b));
	err = cf_walk(c, n, "in real", real_keys, R_NR, NULL, &r, &s);
	if (!err && !HAS(&s, R_ADDRESS))
		err = fail(c, n, "missing required key 'address' in real");
	if (!err) {
		*mark = s.val[R_ADDRESS]->start_mark;
		err = check_real(c, p, &r, &s, note);
	}
	if (!err)
		*out = r;
	else
		free(r.check);
	return err;
}

/* FNV-1a */
static uint32_t hash_bytes(const void *p, size_t len)
{
	const unsigned char *b = p;
	uint32_t h = 2166136261u;

	while (len--)
		h = (h ^ *b++) * 16777619u;
	return h;
}

/*
 * The first element equal to an earlier one: its index, the earlier one's in
 * *first. n if all differ, SIZE_MAX without memory. Open addressing, so
 * 65536 reals cost no more than a pass.
 */
static size_t find_dup(const void *keys, size_t n, size_t len, size_t *first)
{
	const char *k = keys;
	size_t cap = 16, mask, i, h;
	uint32_t *tab;

	while (cap < 2 * n)
		cap <<= 1;
	mask = cap - 1;
	tab = calloc(cap, sizeof(*tab));
	if (!tab)
		return SIZE_MAX;
	for (i = 0; i < n; i++) {
		for (h = hash_bytes(k + i * len, len) & mask; tab[h]; h = (h + 1) & mask) {
			if (!memcmp(k + i * len, k + (tab[h] - 1) * len, len)) {
				*first = tab[h] - 1;
				free(tab);
				return i;
			}
		}
		tab[h] = i + 1;
	}
	free(tab);
	return n;
}

/* A real's identity in its service is its address. */
static int check_dup_reals(struct ctx *c, const struct xlvs_svc_spec *svc, const yaml_mark_t *marks)
{
	struct xlvs_addr *keys = calloc(svc->nr_reals ? svc->nr_reals : 1, sizeof(*keys));
	char a[INET6_ADDRSTRLEN];
	size_t i, first = 0;

	if (!keys)
		return cf_oom(c);
	for (i = 0; i < svc->nr_reals; i++) {
		keys[i].family = svc->reals[i].addr.family;
		memcpy(keys[i].be, svc->reals[i].addr.be, sizeof(keys[i].be));
	}
	i = find_dup(keys, svc->nr_reals, sizeof(*keys), &first);
	free(keys);
	if (i == SIZE_MAX)
		return cf_oom(c);
	if (i == svc->nr_reals)
		return 0;
	return cf_fail_at(c, marks[i], "duplicate real %s (first at line %zu)",
			  cf_addr_str(&svc->reals[i].addr, a), marks[first].line + 1);
}

static int parse_reals(struct ctx *c, yaml_node_t *seq, const struct svc_parse *p, struct xlvs_svc_spec *svc,
		       struct svc_note *note)
{
	yaml_node_item_t *items;
	yaml_mark_t *marks;
	size_t n, i;
	int err;

	err = cf_expect(c, "reals", seq, YAML_SEQUENCE_NODE);
	if (err)
		return err;
	items = seq->data.sequence.items.start;
	n = seq->data.sequence.items.top - items;
	if (c->nr_reals + n > XLVS_MAX_REALS)
		return fail(c, node(c, items[XLVS_MAX_REALS - c->nr_reals]),
			    "too many reals (at most %u in all services)", XLVS_MAX_REALS);
	svc->reals = calloc(n ? n : 1, sizeof(*svc->reals));
	marks = calloc(n ? n : 1, sizeof(*marks));
	if (!svc->reals || !marks) {
		free(marks);
		return cf_oom(c);
	}
	svc->nr_reals = n;
	for (i = 0, err = 0; i < n && !err; i++)
		err = parse_real(c, node(c, items[i]), p, &svc->reals[i], note, &marks[i]);
	if (!err)
		err = check_dup_reals(c, svc, marks);
	free(marks);
	c->nr_reals += n;
	return err;
}

enum {
	S_VIP,
	S_PORT,
	S_PROTOCOL,
	S_SCHEDULER,
	S_FORWARD,
	S_RING_SIZE,
	S_ECHO,
	S_GUE_PORT,
	S_REALS,
	S_CHECK,
	S_ON_DOWN,
	S_SORRY,
	S_QUORUM,
	S_NOTIFY,
	S_TIMEOUTS,
	S_SCHED_FLAGS,
	S_PERSISTENCE,
	S_PERSIST_NET,
	S_SCHED_EXPIRE,
	S_FLOW_STATE,
	S_RING_WINDOW,
	S_NR
};

#define S(f) FIELD(struct svc_parse, f)

static int key_later(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	return 0; /* handled after the walk, when the service's defaults are known */
}

static int key_svc_check(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	struct svc_parse *p = obj;
	struct xlvs_check_spec base;

	cf_check_defaults(&base);
	return cf_parse_check(c, v, &base, &p->h.check);
}

static int key_svc_quorum(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	return cf_key_quorum(c, k, v, &((struct svc_parse *)obj)->h);
}

static int key_svc_notify(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	return cf_key_notify(c, k, v, &((struct svc_parse *)obj)->h);
}

static const char *const on_down_names[] = { "quiesce", "remove" };
const struct choice cf_on_down_choice = { .noun = "action", .names = on_down_names, .n = 2 };

/* scheduler_expire, ring_window: a duration in whole seconds within k->min..k->max (in ms). */
static int key_whole_seconds(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	struct {
		uint32_t ms;
	} t = { 0 };
	struct key ms_key = { .name = k->name, FIELD(typeof(t), ms), .min = k->min, .max = k->max };
	int err = cf_key_duration(c, &ms_key, v, &t);

	if (err)
		return err;
	if (t.ms % 1000)
		return fail(c, v, "%s: whole seconds expected (e.g. 90s, 24h), got %ums", k->name, t.ms);
	cf_store(obj, k, t.ms / 1000);
	return 0;
}

static const struct key svc_keys[S_NR] = {
	[S_VIP] = { .name = "vip", .fn = cf_key_addr, S(s.vip) },
	[S_PORT] = { .name = "port",
		     .fn = cf_key_uint,
		     S(s.port),
		     .min = XLVS_V_SVC_PORT_MIN,
		     .max = XLVS_V_PORT_MAX },
	[S_PROTOCOL] = { .name = "protocol", .fn = key_proto, S(s.proto) },
	[S_SCHEDULER] = { .name = "scheduler", .fn = key_sched, S(s.sched) },
	[S_FORWARD] = { .name = "forward", .fn = key_fwd, S(s.fwd) },
	[S_RING_SIZE] = { .name = "ring_size",
			  .fn = key_ring,
			  S(s.ring_size),
			  .min = XLVS_V_RING_MIN,
			  .max = XLVS_V_RING_MAX },
	[S_ECHO] = { .name = "echo", .fn = key_echo },
	[S_GUE_PORT] = { .name = "gue_port",
			 .fn = cf_key_uint,
			 S(gue_port),
			 .min = XLVS_V_GUE_PORT_MIN,
			 .max = XLVS_V_PORT_MAX },
	[S_REALS] = { .name = "reals", .fn = key_later },
	[S_CHECK] = { .name = "check", .fn = key_svc_check },
	[S_ON_DOWN] = { .name = "on_down", .fn = cf_key_choice, S(h.on_down), .arg = &cf_on_down_choice },
	[S_SORRY] = { .name = "sorry", .fn = key_later },
	[S_QUORUM] = { .name = "quorum", .fn = key_svc_quorum },
	[S_NOTIFY] = { .name = "notify", .fn = key_svc_notify },
	[S_TIMEOUTS] = { .name = "timeouts", .fn = cf_key_timeouts, S(s.timeout_s) },
	[S_SCHED_FLAGS] = { .name = "scheduler_flags", .fn = key_later },
	[S_PERSISTENCE] = { .name = "persistence",
			    .fn = cf_key_duration,
			    S(persist_ms),
			    .min = 0,
			    .max = XLVS_TIMEOUT_MAX_S * 1000u },
	[S_PERSIST_NET] = { .name = "persistence_netmask", .fn = key_later },
	[S_SCHED_EXPIRE] = { .name = "scheduler_expire",
			     .fn = key_whole_seconds,
			     S(s.sched_expire_s),
			     .min = 1000,
			     .max = XLVS_TIMEOUT_MAX_S * 1000u },
	[S_FLOW_STATE] = { .name = "flow_state", .fn = key_flow_state, S(s.flow_state) },
	/* 0: the service's tcp timeout, else the global one */
	[S_RING_WINDOW] = { .name = "ring_window",
			    .fn = key_whole_seconds,
			    S(s.ring_window_s),
			    .min = 0,
			    .max = XLVS_TIMEOUT_MAX_S * 1000u },
};

static int check_service(struct ctx *c, yaml_node_t *n, const struct svc_parse *p, const struct seen *s)
{
	char name[80], msg[sizeof(c->err->msg)];
	const char *key = "";
	size_t i;

	if (HAS(s, S_GUE_PORT) && p->s.fwd != XLVS_FWD_GUE) {
		for (i = 0; i < p->s.nr_reals && p->s.reals[i].fwd != XLVS_FWD_GUE; i++)
			;
		if (i == p->s.nr_reals)
			return fail(c, s->val[S_GUE_PORT], "gue_port: set but no real of service %s uses gue",
				    cf_svc_str(&p->s, name, sizeof(name)));
	}
	if (xlvs_v_service(&p->s, &key, msg, sizeof(msg))) {
		for (i = 0; i < S_NR && (strcmp(svc_keys[i].name, key) || !HAS(s, i)); i++)
			;
		return fail(c, i < S_NR ? s->val[i] : n, "%s", msg);
	}
	if (HAS(s, S_CHECK) && xlvs_v_check_port(&p->s, &p->h.check, msg, sizeof(msg)))
		return fail(c, s->val[S_CHECK], "%s", msg);
	return 0;
}

/* The sorry server and quorum against the reals; s.health from p.h if anything is set. */
static int parse_health(struct ctx *c, struct svc_parse *p, const struct seen *s, struct svc_note *note)
{
	bool any = HAS(s, S_CHECK) || HAS(s, S_ON_DOWN) || HAS(s, S_SORRY) || HAS(s, S_QUORUM) ||
		   HAS(s, S_NOTIFY);
	char a[INET6_ADDRSTRLEN];
	yaml_mark_t mark;
	size_t i;
	int err;

	for (i = 0; i < p->s.nr_reals; i++)
		any |= p->s.reals[i].check != NULL;
	if (HAS(s, S_SORRY)) {
		err = parse_real(c, s->val[S_SORRY], p, &p->h.sorry, note, &mark);
		if (err)
			return err;
		if (p->h.sorry.check) {
			free(p->h.sorry.check);
			p->h.sorry.check = NULL;
			return fail(c, s->val[S_SORRY],
				    "sorry: the sorry server is not checked (no 'check' here)");
		}
		for (i = 0; i < p->s.nr_reals; i++)
			if (p->s.reals[i].addr.family == p->h.sorry.addr.family &&
			    !memcmp(p->s.reals[i].addr.be, p->h.sorry.addr.be, 16))
				return cf_fail_at(c, mark, "sorry: %s is also a real of this service",
						  cf_addr_str(&p->h.sorry.addr, a));
		p->h.have_sorry = true;
	}
	if (p->h.quorum && p->h.quorum_action == XLVS_QUORUM_SORRY && !p->h.have_sorry && HAS(s, S_QUORUM) &&
	    s->val[S_QUORUM]->type == YAML_MAPPING_NODE)
		return fail(c, s->val[S_QUORUM],
			    "quorum: action 'sorry' needs a sorry server in this service");
	if (!any)
		return 0;
	p->s.health = malloc(sizeof(*p->s.health));
	if (!p->s.health)
		return cf_oom(c);
	*p->s.health = p->h;
	return 0;
}

/*
 * `persistence: 300s` (whole seconds, 0 = off) and `persistence_netmask:
 * 255.255.255.0` or `24` (ipvsadm -p/-M), once the VIP's family is known.
 */
static int parse_persistence(struct ctx *c, struct svc_parse *p, const struct seen *s)
{
	char msg[sizeof(c->err->msg)];
	const char *text;
	int err;

	if (p->persist_ms % 1000)
		return fail(c, s->val[S_PERSISTENCE],
			    "persistence: whole seconds expected (e.g. 300s, 1h), got %ums", p->persist_ms);
	p->s.persist_s = p->persist_ms / 1000;
	if (!HAS(s, S_PERSIST_NET))
		return 0;
	err = cf_get_str(c, "persistence_netmask", s->val[S_PERSIST_NET], &text);
	if (!err && xlvs_v_persist_netmask("persistence_netmask", text, p->s.vip.family, &p->s.persist_plen,
					   msg, sizeof(msg)))
		err = fail(c, s->val[S_PERSIST_NET], "%s", msg);
	return err;
}

/* `scheduler_flags: [sh-fallback, sh-port]` (ipvsadm -b), once the scheduler is known. */
static int parse_sched_flags(struct ctx *c, yaml_node_t *v, struct xlvs_svc_spec *svc)
{
	char msg[sizeof(c->err->msg)];
	yaml_node_item_t *it;
	const char *name;
	int err = cf_expect(c, "scheduler_flags", v, YAML_SEQUENCE_NODE);

	for (it = v->data.sequence.items.start; !err && it < v->data.sequence.items.top; it++) {
		err = cf_get_str(c, "scheduler_flags", node(c, *it), &name);
		if (!err &&
		    xlvs_v_sched_flag("scheduler_flags", name, svc->sched, &svc->flags, msg, sizeof(msg)))
			err = fail(c, node(c, *it), "%s", msg);
	}
	return err;
}

static int parse_service(struct ctx *c, yaml_node_t *n, struct xlvs_svc_spec *out, struct svc_note *note)
{
	static const int required[] = { S_VIP, S_PORT, S_PROTOCOL };
	struct svc_parse p = {
		.s = { .sched = XLVS_SCHED_MAGLEV, .fwd = XLVS_FWD_DR, .ring_size = XLVS_RING_DEFAULT },
		.h = { .notify_timeout_ms = NOTIFY_TIMEOUT_DEFAULT }
	};
	struct vbuf b;
	struct seen s;
	size_t i;
	int err;

	if (n->type != YAML_MAPPING_NODE)
		return fail(c, n, "services: each service must be a mapping, got %s", cf_what(n, &b));
	note->mark = n->start_mark;
	err = cf_walk(c, n, "in service", svc_keys, S_NR, NULL, &p, &s);
	if (err)
		return err;
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!HAS(&s, required[i]))
			return fail(c, n, "missing required key '%s' in service", svc_keys[required[i]].name);
	c->cur_svc = &p;
	if (HAS(&s, S_SCHED_FLAGS))
		err = parse_sched_flags(c, s.val[S_SCHED_FLAGS], &p.s);
	if (!err)
		err = parse_persistence(c, &p, &s);
	if (!err && HAS(&s, S_REALS))
		err = parse_reals(c, s.val[S_REALS], &p, &p.s, note);
	if (!err)
		err = parse_health(c, &p, &s, note);
	*out = p.s; /* reals and health are freed with the spec, even on error */
	return err ? err : check_service(c, n, &p, &s);
}

int cf_key_services(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	struct xlvs_spec *spec = c->spec;
	yaml_node_item_t *items;
	size_t n, i;
	int err;

	err = cf_expect(c, k->name, v, YAML_SEQUENCE_NODE);
	if (err)
		return err;
	items = v->data.sequence.items.start;
	n = v->data.sequence.items.top - items;
	if (n > XLVS_MAX_SERVICES)
		return fail(c, node(c, items[XLVS_MAX_SERVICES]), "too many services (at most %u)",
			    XLVS_MAX_SERVICES);
	spec->services = calloc(n ? n : 1, sizeof(*spec->services));
	c->notes = calloc(n ? n : 1, sizeof(*c->notes));
	if (!spec->services || !c->notes)
		return cf_oom(c);
	spec->nr_services = n;
	for (i = 0; i < n; i++) {
		err = parse_service(c, node(c, items[i]), &spec->services[i], &c->notes[i]);
		if (err)
			return err;
	}
	return 0;
}

static void svc_key(const struct xlvs_svc_spec *s, uint8_t key[20])
{
	key[0] = s->vip.family;
	key[1] = s->proto;
	memcpy(key + 2, &s->port, 2);
	memcpy(key + 4, s->vip.be, 16);
}

int cf_check_dup_services(struct ctx *c)
{
	const struct xlvs_spec *spec = c->spec;
	uint8_t(*keys)[20] = calloc(spec->nr_services ? spec->nr_services : 1, sizeof(*keys));
	size_t i, first = 0;
	char name[80];

	if (!keys)
		return cf_oom(c);
	for (i = 0; i < spec->nr_services; i++)
		svc_key(&spec->services[i], keys[i]);
	i = find_dup(keys, spec->nr_services, sizeof(*keys), &first);
	free(keys);
	if (i == SIZE_MAX)
		return cf_oom(c);
	if (i == spec->nr_services)
		return 0;
	return cf_fail_at(c, c->notes[i].mark, "duplicate service %s (first at line %zu)",
			  cf_svc_str(&spec->services[i], name, sizeof(name)), c->notes[first].mark.line + 1);
}

void cf_service_keys(xlvs_conf_key_fn fn, void *arg)
{
	cf_visit_keys("in service", svc_keys, S_NR, fn, arg);
	cf_visit_keys("in real", real_keys, R_NR, fn, arg);
}
