// SPDX-License-Identifier: GPL-2.0
/*
 * xlvsd configuration: YAML -> struct xlvs_spec, validated as a whole before
 * anything is applied. libyaml's document API gives every node its position;
 * keys are handled through per-section tables (name, handler, field, range).
 * Parsing stops at the first error, which names file:line:column.
 * The reference for every key is docs/configuration.md. This file reads the
 * file and runs the top level and the cross-section checks; parse.h says
 * where each section's keys are.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "xlvsmaps.h"
#include "conf.h"
#include "parse.h"

#define TUN_MTU_DEFAULT 1500
#define CONNS_MIN	1024u
#define CONNS_MAX	(1u << 28)

/* Marks of the last successful parse, for xlvs_conf_check_interfaces(). */
static pthread_mutex_t last_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char file[256];
	size_t n;
	struct if_note ifs[MAX_IFS];
} last;

/* ---- the whole file ------------------------------------------------------------ */

static const char *const xdp_mode_names[] = { "auto", "native", "generic" };
const struct choice cf_xdp_modes = { .noun = "mode", .names = xdp_mode_names, .n = 3 };
const struct choice cf_flow_hashes = { .noun = "hash", .names = xlvs_flow_hash_names, .n = 2 };
static const char *const frag_names[] = { "pass", "drop" };
const struct choice cf_frag_policies = { .noun = "policy", .names = frag_names, .n = 2 };
static const char *const ipopt_names[] = { "forward", "drop" };
const struct choice cf_ipopt_policies = { .noun = "policy", .names = ipopt_names, .n = 2 };

static const struct key top_keys[] = {
	/* at most MAX_SEEN keys per table */
	{ .name = "interfaces", .fn = cf_key_ifs },
	{ .name = "interface", .fn = cf_key_ifs },
	{ .name = "xdp_mode", .fn = cf_key_choice, G(xdp_mode), .arg = &cf_xdp_modes },
	{ .name = "tunnel", .fn = cf_key_tunnel },
	{ .name = "gateway_mac", .fn = cf_key_mac },
	{ .name = "syn_guard_rate", .fn = cf_key_uint, G(syn_guard_rate), .max = UINT32_MAX },
	{ .name = "flow_hash", .fn = cf_key_choice, G(flow_hash), .arg = &cf_flow_hashes },
	{ .name = "fragments", .fn = cf_key_choice, G(frag_drop), .arg = &cf_frag_policies },
	{ .name = "ip_options", .fn = cf_key_choice, G(ip4_options_drop), .arg = &cf_ipopt_policies },
	{ .name = "conn_table_size",
	  .fn = cf_key_uint,
	  G(conn_table_size),
	  .min = CONNS_MIN,
	  .max = CONNS_MAX },
	{ .name = "metrics", .fn = cf_key_metrics },
	{ .name = "health_via_forwarding", .fn = cf_key_health_fwd },
	{ .name = "health_mark", .fn = cf_key_health_mark },
	{ .name = "fullnat", .fn = cf_key_fullnat },
	{ .name = "timeouts", .fn = cf_key_timeouts, G(timeout_s) },
	{ .name = "services", .fn = cf_key_services },
};

_Static_assert(sizeof(top_keys) / sizeof(top_keys[0]) <= MAX_SEEN, "struct seen too small");

/* Rules across sections: tunnel sources, MTU and the fullnat pool against the services that need them. */
static int check_tunnel(struct ctx *c, const struct xlvs_svc_spec *svc, const struct svc_note *note)
{
	const struct xlvs_global_spec *g = &c->spec->global;
	const struct xlvs_addr *src[2] = { &g->tun_src4, &g->tun_src6 };
	unsigned int need = TUN_MTU_MIN + note->v6_overhead;
	char name[80];
	int v6, f;

	cf_svc_str(svc, name, sizeof(name));
	for (v6 = 0; v6 < 2; v6++) {
		f = v6 ? 6 : 4;
		if (note->tun_need[v6] && !src[v6]->family)
			return cf_fail_at(c, note->tun_mark[v6],
					  "service %s has IPv%d tunnel reals but tunnel.source%d is not set",
					  name, f, f);
		if (note->snat_need[v6] && !xlvs_snat_pool_has(g, v6 ? XLVS_AF_INET6 : XLVS_AF_INET))
			return cf_fail_at(
				c, note->snat_mark[v6],
				"service %s has IPv%d fullnat reals but fullnat.pool has no IPv%d address",
				name, f, f);
	}
	/* the default (1500) always fits, so mtu_node is set when this fails */
	if (c->mtu_node && note->v6_overhead && g->tun_mtu && g->tun_mtu < need)
		return fail(c, c->mtu_node, "mtu: %u is too small for IPv6 service %s (at least %u)",
			    g->tun_mtu, name, need);
	return 0;
}

static int parse_root(struct ctx *c, yaml_node_t *root)
{
	struct xlvs_global_spec *g = &c->spec->global;
	struct vbuf b;
	struct seen s;
	size_t i;
	int err;

	if (root->type != YAML_MAPPING_NODE)
		return fail(c, root, "top level must be a mapping, got %s", cf_what(root, &b));
	g->xdp_mode = XLVS_XDP_AUTO;
	g->tun_mtu = TUN_MTU_DEFAULT;
	g->gue_port = XLVS_GUE_PORT_DEFAULT;
	g->conn_table_size = XLVS_CONNS_DEFAULT;
	g->hc_mark_value = XLVS_HC_MARK_VALUE_DEFAULT;
	g->hc_mark_mask = XLVS_HC_MARK_MASK_DEFAULT;
	g->snat_port_lo = XLVS_SNAT_PORT_LO;
	g->snat_port_hi = XLVS_SNAT_PORT_HI;
	err = cf_walk(c, root, "at top level", top_keys, sizeof(top_keys) / sizeof(top_keys[0]), NULL, g, &s);
	if (err)
		return err;
	if (!c->have_ifs)
		return fail(c, root, "missing required key 'interfaces'");
	err = cf_check_dup_services(c);
	for (i = 0; !err && i < c->spec->nr_services; i++)
		err = check_tunnel(c, &c->spec->services[i], &c->notes[i]);
	return err;
}

static void spec_release(struct xlvs_spec *s)
{
	xlvs_spec_free(s);
}

static void remember_ifs(const struct ctx *c, const char *name)
{
	pthread_mutex_lock(&last_lock);
	cf_copy_str(last.file, sizeof(last.file), name);
	last.n = c->spec->global.nr_interfaces;
	memcpy(last.ifs, c->ifs, sizeof(last.ifs));
	pthread_mutex_unlock(&last_lock);
}

/*
 * Refuse collections nested deeper than XLVS_CONF_MAX_DEPTH, and more than
 * XLVS_CONF_MAX_NODES values, before the document is built: libyaml's cost
 * grows with the square of the depth (100,000 levels: 20 s) and its document
 * takes about 170 bytes a value. Events are read only up to the first one over;
 * a syntax error is left to load(), which reports it.
 */
static int check_depth(struct ctx *c)
{
	yaml_parser_t p;
	yaml_event_t ev;
	yaml_event_type_t type;
	size_t nodes = 0;
	int depth = 0, ret = 0;

	if (!yaml_parser_initialize(&p))
		return cf_oom(c);
	yaml_parser_set_input_string(&p, (const unsigned char *)c->text, c->len);
	while (!ret && yaml_parser_parse(&p, &ev)) {
		type = ev.type;
		if (type == YAML_MAPPING_START_EVENT || type == YAML_SEQUENCE_START_EVENT) {
			if (++depth > XLVS_CONF_MAX_DEPTH)
				ret = cf_fail_at(c, ev.start_mark,
						 "nested deeper than %d levels "
						 "(the configuration needs 5)",
						 XLVS_CONF_MAX_DEPTH);
		} else if (type == YAML_MAPPING_END_EVENT || type == YAML_SEQUENCE_END_EVENT) {
			depth--;
		}
		if ((type == YAML_SCALAR_EVENT || type == YAML_ALIAS_EVENT ||
		     type == YAML_MAPPING_START_EVENT || type == YAML_SEQUENCE_START_EVENT) &&
		    ++nodes > XLVS_CONF_MAX_NODES && !ret)
			ret = cf_fail_at(c, ev.start_mark,
					 "more than %u values (the largest "
					 "configuration has about 2 million)",
					 XLVS_CONF_MAX_NODES);
		yaml_event_delete(&ev);
		if (type == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&p);
	return ret;
}

/* The whole stream must be valid YAML with at most one document. */
static int load(struct ctx *c, yaml_parser_t *parser, yaml_document_t *doc)
{
	yaml_document_t extra;
	int err = 0;

	if (!yaml_parser_load(parser, doc))
		return cf_yaml_fail(c, parser);
	if (!yaml_parser_load(parser, &extra)) {
		err = cf_yaml_fail(c, parser);
	} else {
		if (yaml_document_get_root_node(&extra))
			err = cf_fail_at(c, extra.start_mark,
					 "more than one YAML document (the configuration is one)");
		yaml_document_delete(&extra);
	}
	if (err)
		yaml_document_delete(doc);
	return err;
}

int xlvs_conf_parse(const char *name, const char *text, size_t len, struct xlvs_spec *out,
		    struct xlvs_conf_error *err)
{
	struct ctx c = { .text = text, .len = len, .err = err, .spec = out };
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	int ret;

	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	cf_copy_str(err->file, sizeof(err->file), name);
	if (len > XLVS_CONF_MAX_FILE) {
		snprintf(err->msg, sizeof(err->msg), "larger than %u MiB (%zu bytes): refused",
			 XLVS_CONF_MAX_FILE >> 20, len);
		return -EFBIG;
	}
	ret = check_depth(&c);
	if (ret)
		return ret;
	if (!yaml_parser_initialize(&parser))
		return cf_oom(&c);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	ret = load(&c, &parser, &doc);
	if (!ret) {
		c.doc = &doc;
		root = yaml_document_get_root_node(&doc);
		if (root)
			ret = parse_root(&c, root);
		else
			ret = cf_fail_at(&c, (yaml_mark_t){ 0 }, "empty configuration");
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	free(c.notes);
	if (ret)
		spec_release(out);
	else
		remember_ifs(&c, name);
	return ret;
}

static int io_fail(struct xlvs_conf_error *err, int e, const char *what)
{
	snprintf(err->msg, sizeof(err->msg), "%s: %s", what, strerror(e));
	return -e;
}

int xlvs_conf_load(const char *path, struct xlvs_spec *out, struct xlvs_conf_error *err)
{
	size_t len = 0, cap = 0;
	char *buf = NULL, *nb;
	struct stat st;
	ssize_t r;
	int fd, ret;

	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	cf_copy_str(err->file, sizeof(err->file), path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return io_fail(err, errno, "cannot open");
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_size > XLVS_CONF_MAX_FILE) {
		ret = EFBIG; /* refused before reading a byte */
		goto fail;
	}
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			/* one byte more than the limit tells a file over it */
			nb = cap > 2 * (size_t)XLVS_CONF_MAX_FILE ? NULL : realloc(buf, cap);
			if (!nb) {
				ret = cap > 2 * (size_t)XLVS_CONF_MAX_FILE ? EFBIG : ENOMEM;
				goto fail;
			}
			buf = nb;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno != EINTR) {
			ret = errno;
			goto fail;
		}
		len += r > 0 ? r : 0;
		if (len > XLVS_CONF_MAX_FILE) {
			ret = EFBIG; /* grew while read, or no regular file */
			goto fail;
		}
	} while (r);
	close(fd);
	ret = xlvs_conf_parse(path, buf, len, out, err);
	free(buf);
	return ret;
fail:
	close(fd);
	free(buf);
	if (ret == EFBIG) {
		snprintf(err->msg, sizeof(err->msg),
			 "larger than %u MiB (the limit of a "
			 "configuration file): refused",
			 XLVS_CONF_MAX_FILE >> 20);
		return -EFBIG;
	}
	return io_fail(err, ret, "cannot read");
}

int xlvs_conf_check_interfaces(const struct xlvs_spec *spec, struct xlvs_conf_error *err)
{
	const char *name;
	size_t i, j;

	memset(err, 0, sizeof(*err));
	for (i = 0; i < spec->global.nr_interfaces; i++) {
		name = spec->global.interfaces[i];
		if (if_nametoindex(name))
			continue;
		pthread_mutex_lock(&last_lock);
		for (j = 0; j < last.n && strcmp(last.ifs[j].name, name); j++)
			;
		if (j < last.n) {
			memcpy(err->file, last.file, sizeof(err->file));
			err->line = last.ifs[j].line;
			err->column = last.ifs[j].column;
		}
		pthread_mutex_unlock(&last_lock);
		snprintf(err->msg, sizeof(err->msg), "interface %s does not exist", name);
		return -ENODEV;
	}
	return 0;
}

void xlvs_conf_error_format(const struct xlvs_conf_error *err, char *buf, size_t size)
{
	if (!size)
		return;
	if (err->line)
		snprintf(buf, size, "%s:%u:%u: %s", err->file, err->line, err->column, err->msg);
	else if (err->file[0])
		snprintf(buf, size, "%s: %s", err->file, err->msg);
	else
		snprintf(buf, size, "%s", err->msg);
}

void xlvs_conf_keys(xlvs_conf_key_fn fn, void *arg)
{
	cf_visit_keys("at top level", top_keys, sizeof(top_keys) / sizeof(top_keys[0]), fn, arg);
	cf_global_keys(fn, arg);
	cf_service_keys(fn, arg);
	cf_check_keys(fn, arg);
}
