/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside the configuration parser (loader/config/ only): the parse context,
 * the key tables every section is walked with, and what the section files
 * share. walk.c is the walker and the generic handlers; global.c, service.c
 * and check.c hold the keys of their sections; conf.c the whole file.
 * Every cf_* function that can fail leaves the first error in c->err and
 * returns -EINVAL (-ENOMEM for memory).
 */
#ifndef XLVS_CONFIG_PARSE_H
#define XLVS_CONFIG_PARSE_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <yaml.h>

#include "spec.h"
#include "conf.h"
#include "validate.h"

#define MAX_IFS		       (sizeof(((struct xlvs_global_spec *)0)->interfaces) / IF_NAMESIZE)
#define MAX_SEEN	       32     /* keys per section: bits of struct seen.mask */
#define TUN_MTU_MIN	       1280   /* IPv6 minimum link MTU */
#define NOTIFY_TIMEOUT_DEFAULT 10000u /* ms */

/* What the cross-checks after the walk need to know about a service. */
struct svc_note {
	yaml_mark_t mark;	 /* the service mapping */
	yaml_mark_t tun_mark[2]; /* first real needing tunnel.source4 / source6 */
	bool tun_need[2];
	yaml_mark_t snat_mark[2]; /* first fullnat real of each family, for fullnat.pool */
	bool snat_need[2];
	unsigned int v6_overhead; /* IPv6 VIP: largest encapsulation overhead */
};

struct svc_parse;

struct if_note {
	char name[IF_NAMESIZE];
	unsigned int line, column;
};

struct ctx {
	const char *text;
	size_t len;
	yaml_document_t *doc;
	struct xlvs_conf_error *err;
	struct xlvs_spec *spec;
	struct svc_note *notes; /* one per service */
	size_t nr_reals;	/* reals in all services so far */
	bool have_ifs;
	struct if_note ifs[MAX_IFS];
	yaml_node_t *mtu_node;		 /* tunnel.mtu, for the IPv6 check */
	const struct svc_parse *cur_svc; /* the service whose reals are parsed */
};

/* ---- nodes ---- */

struct vbuf {
	char s[48];
};

static inline yaml_node_t *node(struct ctx *c, int index)
{
	return yaml_document_get_node(c->doc, index);
}

static inline const char *sval(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static inline bool plain(const yaml_node_t *n)
{
	return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* `off` or `false`: a section turned off (metrics, a check). */
static inline bool cf_is_off(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE && plain(n) &&
	       (!strcmp(sval(n), "off") || !strcmp(sval(n), "false"));
}

int __attribute__((format(printf, 3, 4))) cf_fail_at(struct ctx *c, yaml_mark_t m, const char *fmt, ...);
#define fail(c, node, ...) cf_fail_at(c, (node)->start_mark, __VA_ARGS__)
int cf_oom(struct ctx *c);
int cf_yaml_fail(struct ctx *c, const yaml_parser_t *p);
int cf_range_fail(struct ctx *c, const char *name, yaml_node_t *n, const char *range);
void cf_copy_str(char *dst, size_t size, const char *src);

/* A scalar's text for a message: at most 40 bytes, control characters as '?'. */
const char *cf_show(const yaml_node_t *n, struct vbuf *b);
/* What a node is, for "X expected, got ..." messages. */
const char *cf_what(const yaml_node_t *n, struct vbuf *b);
int cf_expect(struct ctx *c, const char *name, yaml_node_t *n, yaml_node_type_t type);
int cf_get_str(struct ctx *c, const char *name, yaml_node_t *n, const char **out);
int cf_get_uint(struct ctx *c, const char *name, yaml_node_t *n, uint32_t min, uint32_t max,
		const char *range, uint32_t *out);
int cf_get_bool(struct ctx *c, const char *name, yaml_node_t *n, bool *out);
bool cf_has_upper(const char *s);
void cf_join(char *buf, size_t size, const char *const *names, size_t n);
const char *cf_addr_str(const struct xlvs_addr *a, char *buf);
const char *cf_svc_str(const struct xlvs_svc_spec *s, char *buf, size_t size);

/* ---- keys ---- */

struct key;
typedef int (*key_fn)(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj);

/* One key of a section: handler, and for the generic handlers the field and range. */
struct key {
	const char *name;
	key_fn fn;
	size_t off, size;
	uint32_t min, max;
	const void *arg;
};

/* The keys a walk found: bit i of mask is keys[i]. */
struct seen {
	uint32_t mask;
	yaml_node_t *key[MAX_SEEN], *val[MAX_SEEN];
};

#define HAS(s, i) ((s)->mask & (1u << (i)))

#define FIELD(t, f) .off = offsetof(t, f), .size = sizeof(((t *)0)->f)
#define G(f)	    FIELD(struct xlvs_global_spec, f)

/* A name from a list; the value stored is vals[i] or, without vals, the index. */
struct choice {
	const char *noun;
	const char *const *names;
	size_t n;
	const int *vals;
};

/* Hand every pair of a mapping to its key's handler; unknown and duplicate keys are errors. */
int cf_walk(struct ctx *c, yaml_node_t *map, const char *where, const struct key *keys, size_t nkeys,
	    const char *const *unsupported, void *obj, struct seen *s);
/* fn(where, name) for each of the n keys (xlvs_conf_keys()). */
void cf_visit_keys(const char *where, const struct key *keys, size_t n, xlvs_conf_key_fn fn, void *arg);
/* The key tables of each file, for xlvs_conf_keys(): global.c, service.c, check.c. */
void cf_global_keys(xlvs_conf_key_fn fn, void *arg);
void cf_service_keys(xlvs_conf_key_fn fn, void *arg);
void cf_check_keys(xlvs_conf_key_fn fn, void *arg);
/* v into the field k names (k->size bytes at k->off). */
void cf_store(void *obj, const struct key *k, uint32_t v);

/*
 * The names the file gives values (conf.c, service.c, check.c), for the
 * parser and for save.c, which writes them back.
 */
extern const struct choice cf_xdp_modes, cf_flow_hashes, cf_frag_policies, cf_ipopt_policies,
	cf_on_down_choice, cf_initial_states, cf_quorum_actions;
const char *cf_qtype_name(unsigned int type); /* "AAAA"; NULL if not one the file names */

/* Generic handlers (walk.c): k->min..k->max, a struct choice in k->arg, an address, ... */
int cf_key_uint(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj);
int cf_key_choice(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj);
int cf_key_addr(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj);
int cf_key_duration(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj);
int cf_key_text(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj);

/* Top-level sections (global.c); obj is the struct xlvs_global_spec. */
int cf_key_ifs(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj);
int cf_key_mac(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj);
int cf_key_tunnel(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj);
int cf_key_metrics(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj);
int cf_key_health_fwd(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj);
int cf_key_health_mark(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj);
int cf_key_fullnat(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj);
/* `timeouts:` at the top level and in a service: lifetimes into the uint32_t[XLVS_TO_MAX] at k->off. */
int cf_key_timeouts(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj);

/* Services and reals (service.c). */
int cf_key_services(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj);
int cf_check_dup_services(struct ctx *c);

/* Health keys (check.c); quorum and notify fill a struct xlvs_svc_health. */
void cf_check_defaults(struct xlvs_check_spec *ck);
int cf_parse_check(struct ctx *c, yaml_node_t *v, const struct xlvs_check_spec *base,
		   struct xlvs_check_spec *out);
int cf_key_quorum(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj);
int cf_key_notify(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj);

#endif /* XLVS_CONFIG_PARSE_H */
