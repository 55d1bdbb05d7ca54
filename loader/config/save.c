// SPDX-License-Identifier: GPL-2.0
/*
 * The desired state as configuration items and as a whole file (save.h).
 * Every value is written explicitly, defaults included, so the file read
 * back does not depend on the defaults of the version that reads it; text is
 * double-quoted with YAML escapes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xlvsmaps.h"
#include "parse.h"
#include "save.h"
#include "schedtab.h"

void xlvs_conf_items_free(struct xlvs_conf_items *it)
{
	size_t i;

	for (i = 0; i < it->n; i++) {
		free(it->v[i].key);
		free(it->v[i].val);
	}
	free(it->v);
	memset(it, 0, sizeof(*it));
}

const struct xlvs_conf_item *xlvs_conf_item(const struct xlvs_conf_items *it, const char *key)
{
	size_t i;

	for (i = 0; i < it->n; i++)
		if (!strcmp(it->v[i].key, key))
			return &it->v[i];
	return NULL;
}

static void add(struct xlvs_conf_items *it, const char *prefix, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* prefix "check." + key = fmt...; on failure it->err is set and later adds do nothing. */
static void add(struct xlvs_conf_items *it, const char *prefix, const char *key, const char *fmt, ...)
{
	struct xlvs_conf_item item = { 0 };
	va_list ap;
	int n;

	if (it->err)
		return;
	if (it->n == it->cap) {
		size_t cap = it->cap ? 2 * it->cap : 16;
		struct xlvs_conf_item *v = realloc(it->v, cap * sizeof(*v));

		if (!v) {
			it->err = -ENOMEM;
			return;
		}
		it->v = v;
		it->cap = cap;
	}
	va_start(ap, fmt);
	n = vasprintf(&item.val, fmt, ap);
	va_end(ap);
	if (n < 0 || asprintf(&item.key, "%s%s", prefix, key) < 0) {
		free(n < 0 ? NULL : item.val);
		it->err = -ENOMEM;
		return;
	}
	it->v[it->n++] = item;
}

/* A YAML double-quoted scalar of s (at most 1024 bytes of text in a spec). */
static const char *quoted(const char *s, char *buf, size_t size)
{
	size_t o = 0;

	buf[o++] = '"';
	for (; *s && o + 6 < size; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			o += snprintf(buf + o, size - o, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			o += snprintf(buf + o, size - o, "\\x%02x", ch);
		else
			buf[o++] = (char)ch;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

#define QBUF (4 * XLVS_CHECK_CMD + 8) /* the longest text, every byte escaped */

static void add_text(struct xlvs_conf_items *it, const char *prefix, const char *key, const char *s)
{
	char q[QBUF];

	add(it, prefix, key, "%s", quoted(s, q, sizeof(q)));
}

static void add_addr(struct xlvs_conf_items *it, const char *prefix, const char *key,
		     const struct xlvs_addr *a)
{
	char b[INET6_ADDRSTRLEN];

	add(it, prefix, key, "\"%s\"", xlvs_addr_str(a, b, sizeof(b)) ?: "?");
}

static void add_choice(struct xlvs_conf_items *it, const char *prefix, const char *key,
		       const struct choice *ch, unsigned int v)
{
	add(it, prefix, key, "%s", v < ch->n ? ch->names[v] : "?");
}

/* ---- checks ---- */

static void add_codes(struct xlvs_conf_items *it, const char *prefix, const struct xlvs_check_spec *ck)
{
	char buf[XLVS_CHECK_MAX_CODES * 12 + 4] = "[";
	size_t i, o = 1;

	for (i = 0; i < ck->nr_codes && i < XLVS_CHECK_MAX_CODES; i++) {
		o += snprintf(buf + o, sizeof(buf) - o, "%s\"%u", i ? ", " : "", ck->code_lo[i]);
		if (ck->code_hi[i] != ck->code_lo[i])
			o += snprintf(buf + o, sizeof(buf) - o, "-%u", ck->code_hi[i]);
		o += snprintf(buf + o, sizeof(buf) - o, "\"");
	}
	snprintf(buf + o, sizeof(buf) - o, "]");
	add(it, prefix, "expect", "%s", buf);
}

static void add_digest(struct xlvs_conf_items *it, const char *prefix, const struct xlvs_check_spec *ck)
{
	size_t len = ck->digest_alg == XLVS_DIGEST_MD5 ? 16 : 32, i;
	char hex[2 * XLVS_DIGEST_MAX + 1];

	for (i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", ck->digest[i]);
	add(it, prefix, "digest", "\"%s:%s\"", ck->digest_alg == XLVS_DIGEST_MD5 ? "md5" : "sha256", hex);
}

/* What only one kind of check takes (check.c, check_key_types). */
static void add_check_kind(struct xlvs_conf_items *it, const char *p, const struct xlvs_check_spec *ck)
{
	switch (ck->type) {
	case XLVS_CHECK_HTTP:
	case XLVS_CHECK_HTTPS:
		add_text(it, p, "path", ck->path);
		if (ck->host[0])
			add_text(it, p, "host", ck->host);
		if (ck->nr_codes)
			add_codes(it, p, ck);
		if (ck->digest_alg != XLVS_DIGEST_NONE)
			add_digest(it, p, ck);
		else if (ck->match[0])
			add_text(it, p, "body", ck->match);
		if (ck->type == XLVS_CHECK_HTTPS)
			add(it, p, "tls_verify", "%s", ck->tls_verify ? "true" : "false");
		break;
	case XLVS_CHECK_UDP:
		if (ck->payload[0])
			add_text(it, p, "payload", ck->payload);
		if (ck->match[0])
			add_text(it, p, "reply", ck->match);
		break;
	case XLVS_CHECK_DNS:
		add_text(it, p, "name", ck->qname);
		if (cf_qtype_name(ck->qtype))
			add(it, p, "query_type", "%s", cf_qtype_name(ck->qtype));
		break;
	case XLVS_CHECK_EXEC:
		add_text(it, p, "command", ck->command);
		break;
	default:
		break;
	}
}

/* check: off, or the whole check (a real's with what it took from its service's). */
static void add_check(struct xlvs_conf_items *it, const char *prefix, const struct xlvs_check_spec *ck)
{
	char p[32];

	if (ck->type == XLVS_CHECK_NONE) {
		add(it, prefix, "check", "off");
		return;
	}
	snprintf(p, sizeof(p), "%scheck.", prefix);
	add(it, p, "type", "%s", xlvs_check_type_name(ck->type));
	add(it, p, "interval", "%ums", ck->interval_ms);
	add(it, p, "timeout", "%ums", ck->timeout_ms);
	add(it, p, "rise", "%u", ck->rise);
	add(it, p, "fall", "%u", ck->fall);
	add_choice(it, p, "initial", &cf_initial_states, ck->initial_up);
	if (ck->addr.family)
		add_addr(it, p, "address", &ck->addr);
	if (ck->port && ck->type != XLVS_CHECK_ICMP && ck->type != XLVS_CHECK_EXEC)
		add(it, p, "port", "%u", ck->port);
	add_check_kind(it, p, ck);
}

/* ---- objects ---- */

static void add_real(struct xlvs_conf_items *it, const char *prefix, const struct xlvs_svc_spec *s,
		     const struct xlvs_real_spec *r)
{
	add_addr(it, prefix, "address", &r->addr);
	if (r->port != s->port)
		add(it, prefix, "port", "%u", r->port);
	add(it, prefix, "weight", "%u", r->weight);
	add(it, prefix, "forward", "%s", r->fwd < XLVS_FWD_MAX ? xlvs_fwd_names[r->fwd] : "?");
	if (r->gue_port)
		add(it, prefix, "gue_port", "%u", r->gue_port);
	if (r->check)
		add_check(it, prefix, r->check);
}

int xlvs_conf_real_items(const struct xlvs_svc_spec *s, const struct xlvs_real_spec *r,
			 struct xlvs_conf_items *out)
{
	add_real(out, "", s, r);
	return out->err;
}

static void add_health(struct xlvs_conf_items *it, const struct xlvs_svc_spec *s)
{
	const struct xlvs_svc_health *h = s->health;

	if (h->check.type != XLVS_CHECK_NONE)
		add_check(it, "", &h->check);
	add_choice(it, "", "on_down", &cf_on_down_choice, h->on_down);
	if (h->have_sorry)
		add_real(it, "sorry.", s, &h->sorry);
	/* The mapping form with action sorry needs a sorry server; the number alone means the same. */
	if (h->quorum && h->quorum_action == XLVS_QUORUM_SORRY && !h->have_sorry) {
		add(it, "", "quorum", "%u", h->quorum);
	} else if (h->quorum) {
		add(it, "quorum.", "weight", "%u", h->quorum);
		add_choice(it, "quorum.", "action", &cf_quorum_actions, h->quorum_action);
		add(it, "quorum.", "hysteresis", "%u", h->quorum_hysteresis);
	}
	if (h->notify_up[0] || h->notify_down[0] || h->notify_quorum[0]) {
		if (h->notify_up[0])
			add_text(it, "notify.", "up", h->notify_up);
		if (h->notify_down[0])
			add_text(it, "notify.", "down", h->notify_down);
		if (h->notify_quorum[0])
			add_text(it, "notify.", "quorum", h->notify_quorum);
		add(it, "notify.", "timeout", "%ums", h->notify_timeout_ms);
	}
}

/* `persistence: 300s` and, when not the whole address, the netmask as ipvsadm -M writes it (IPv4) or a length. */
static void add_persistence(struct xlvs_conf_items *it, const struct xlvs_svc_spec *s)
{
	uint32_t m;

	if (!s->persist_s)
		return;
	add(it, "", "persistence", "%us", s->persist_s);
	if (!s->persist_plen)
		return;
	if (s->vip.family == XLVS_AF_INET6 || s->persist_plen > 32) {
		add(it, "", "persistence_netmask", "%u", s->persist_plen);
		return;
	}
	m = s->persist_plen >= 32 ? UINT32_MAX : ~(UINT32_MAX >> s->persist_plen);
	add(it, "", "persistence_netmask", "%u.%u.%u.%u", m >> 24, (m >> 16) & 0xff, (m >> 8) & 0xff,
	    m & 0xff);
}

int xlvs_conf_svc_items(const struct xlvs_svc_spec *s, struct xlvs_conf_items *out)
{
	char flags[48];

	add_addr(out, "", "vip", &s->vip);
	add(out, "", "port", "%u", s->port);
	add(out, "", "protocol", "%s", xlvs_svc_proto_name(s->proto));
	add(out, "", "scheduler", "%s", s->sched < XLVS_SCHED_MAX ? xlvs_sched_names[s->sched] : "?");
	if (s->flags & XLVS_SVC_F_SCHED_MASK)
		add(out, "", "scheduler_flags", "[%s]",
		    xlvs_sched_flags_str(s->sched, s->flags, flags, sizeof(flags)));
	if (s->sched_expire_s)
		add(out, "", "scheduler_expire", "%us", s->sched_expire_s);
	add(out, "", "forward", "%s", s->fwd < XLVS_FWD_MAX ? xlvs_fwd_names[s->fwd] : "?");
	add(out, "", "ring_size", "%u", s->ring_size ? s->ring_size : XLVS_RING_DEFAULT);
	add(out, "", "echo", "%s", s->flags & XLVS_SVC_F_ECHO ? "true" : "false");
	add_persistence(out, s);
	/* auto and the tcp timeout are the defaults: a file saved before issue 13 reads the same */
	if (s->flow_state != XLVS_FLOW_STATE_AUTO)
		add(out, "", "flow_state", "%s",
		    s->flow_state < XLVS_V_FLOW_STATES ? xlvs_v_flow_states[s->flow_state] : "?");
	if (s->ring_window_s)
		add(out, "", "ring_window", "%us", s->ring_window_s);
	if (s->health)
		add_health(out, s);
	return out->err;
}

/* fullnat.pool as a flow sequence, and its ports */
static void add_pool(struct xlvs_conf_items *it, const struct xlvs_global_spec *g)
{
	char list[XLVS_SNAT_POOL_MAX * (INET6_ADDRSTRLEN + 4) + 4] = "[", b[INET6_ADDRSTRLEN];
	size_t i, o = 1;

	for (i = 0; i < g->nr_snat_pool && i < XLVS_SNAT_POOL_MAX; i++)
		o += snprintf(list + o, sizeof(list) - o, "%s\"%s\"", i ? ", " : "",
			      xlvs_addr_str(&g->snat_pool[i], b, sizeof(b)) ?: "?");
	snprintf(list + o, sizeof(list) - o, "]");
	add(it, "fullnat.", "pool", "%s", list);
	add(it, "fullnat.", "port_min", "%u", g->snat_port_lo ? g->snat_port_lo : XLVS_SNAT_PORT_LO);
	add(it, "fullnat.", "port_max", "%u", g->snat_port_hi ? g->snat_port_hi : XLVS_SNAT_PORT_HI);
}

int xlvs_conf_global_items(const struct xlvs_global_spec *g, struct xlvs_conf_items *out)
{
	char ifs[sizeof(g->interfaces) * 2 + 8] = "[";
	size_t i, o = 1;

	for (i = 0; i < g->nr_interfaces && i < 8; i++)
		o += snprintf(ifs + o, sizeof(ifs) - o, "%s\"%s\"", i ? ", " : "", g->interfaces[i]);
	snprintf(ifs + o, sizeof(ifs) - o, "]");
	if (g->nr_interfaces)
		add(out, "", "interfaces", "%s", ifs);
	add_choice(out, "", "xdp_mode", &cf_xdp_modes, g->xdp_mode);
	add_choice(out, "", "flow_hash", &cf_flow_hashes, g->flow_hash);
	if (g->tun_src4.family)
		add_addr(out, "tunnel.", "source4", &g->tun_src4);
	if (g->tun_src6.family)
		add_addr(out, "tunnel.", "source6", &g->tun_src6);
	if (g->tun_mtu)
		add(out, "tunnel.", "mtu", "%u", g->tun_mtu);
	if (g->gue_port)
		add(out, "tunnel.", "gue_port", "%u", g->gue_port);
	if (g->have_gw_mac)
		add(out, "", "gateway_mac", "\"%02x:%02x:%02x:%02x:%02x:%02x\"", g->gw_mac[0], g->gw_mac[1],
		    g->gw_mac[2], g->gw_mac[3], g->gw_mac[4], g->gw_mac[5]);
	add(out, "", "syn_guard_rate", "%u", g->syn_guard_rate);
	add_choice(out, "", "fragments", &cf_frag_policies, g->frag_drop);
	add_choice(out, "", "ip_options", &cf_ipopt_policies, g->ip4_options_drop);
	if (g->conn_table_size)
		add(out, "", "conn_table_size", "%u", g->conn_table_size);
	if (g->metrics_listen[0])
		add_text(out, "metrics.", "listen", g->metrics_listen);
	add(out, "", "health_via_forwarding", "%s", g->health_direct ? "false" : "true");
	if (g->hc_mark_mask)
		add(out, "", "health_mark", "\"0x%08x/0x%08x\"", g->hc_mark_value, g->hc_mark_mask);
	if (g->nr_snat_pool)
		add_pool(out, g);
	return out->err;
}

/* ---- the file ---- */

/*
 * items at indent: "key: val", and "key.sub" items grouped under "key:".
 * first: what stands before the first line instead of the indent ("- ").
 */
static void write_items(FILE *f, const struct xlvs_conf_items *it, int indent, const char *first)
{
	const char *dot, *prev = NULL;
	size_t i, plen = 0;

	for (i = 0; i < it->n; i++) {
		const char *k = it->v[i].key;

		if (i)
			fprintf(f, "%*s", indent, "");
		else
			fprintf(f, "%*s%s", indent - (int)strlen(first), "", first);
		dot = strchr(k, '.');
		if (!dot) {
			fprintf(f, "%s: %s\n", k, it->v[i].val);
			prev = NULL;
			continue;
		}
		if (!prev || (size_t)(dot - k) != plen || strncmp(prev, k, plen)) {
			prev = k;
			plen = dot - k;
			fprintf(f, "%.*s:\n%*s", (int)plen, k, indent, "");
		}
		fprintf(f, "  %s: %s\n", dot + 1, it->v[i].val);
	}
}

static int write_service(FILE *f, const struct xlvs_svc_spec *s)
{
	struct xlvs_conf_items it = { 0 };
	size_t i;
	int err = xlvs_conf_svc_items(s, &it);

	if (!err)
		write_items(f, &it, 4, "- ");
	xlvs_conf_items_free(&it);
	if (!err && s->nr_reals)
		fprintf(f, "    reals:\n");
	for (i = 0; !err && i < s->nr_reals; i++) {
		err = xlvs_conf_real_items(s, &s->reals[i], &it);
		if (!err)
			write_items(f, &it, 8, "- ");
		xlvs_conf_items_free(&it);
	}
	return err;
}

int xlvs_conf_save(const struct xlvs_spec *spec, const char *comment, char **out)
{
	struct xlvs_conf_items it = { 0 };
	size_t len = 0, i;
	FILE *f = open_memstream(out, &len);
	int err;

	if (!f)
		return -ENOMEM;
	if (comment)
		fprintf(f, "# %s\n", comment);
	err = xlvs_conf_global_items(&spec->global, &it);
	if (!err)
		write_items(f, &it, 0, "");
	xlvs_conf_items_free(&it);
	if (!err)
		fprintf(f, "services:%s\n", spec->nr_services ? "" : " []");
	for (i = 0; !err && i < spec->nr_services; i++)
		err = write_service(f, &spec->services[i]);
	if (fclose(f) || err) {
		free(*out);
		*out = NULL;
		return err ? err : -ENOMEM;
	}
	return 0;
}
