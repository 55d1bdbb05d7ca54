// SPDX-License-Identifier: GPL-2.0
/*
 * Persistence as the CLI shows it: a service's timeout and netmask
 * (ipvsadm -Ln's "persistent 300 mask 255.255.255.0") and the templates of
 * `xlvs conn list` (ipvsadm -Lnc shows them as entries with port 0 and state
 * NONE; here they have their own section, named as templates).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "fmt.h"

#define NAMEBUF 16

/* "255.255.255.0" for IPv4, "/64" for IPv6; *full: the prefix is the whole address. */
static const char *mask_text(uint8_t family, uint8_t plen, char *buf, size_t size, bool *full)
{
	uint32_t m;

	*full = plen >= (family == XLVS_AF_INET6 ? 128 : 32);
	if (family == XLVS_AF_INET6) {
		snprintf(buf, size, "/%u", plen);
		return buf;
	}
	m = plen >= 32 ? UINT32_MAX : plen ? ~(UINT32_MAX >> plen) : 0;
	snprintf(buf, size, "%u.%u.%u.%u", m >> 24, (m >> 16) & 0xff, (m >> 8) & 0xff, m & 0xff);
	return buf;
}

void xlvs_fmt_svc_persist(struct xp *p, const struct xlvs_svc_state *s, bool detail)
{
	const struct xlvs_service *v = &s->svc;
	char mb[24];
	bool full;

	if (!v->persist_timeout) {
		xp_json(p, "persistence", json_null());
		return;
	}
	mask_text(s->key.family, v->persist_plen, mb, sizeof(mb), &full);
	xp_obj_open(p, "persistence");
	xp_u64(p, XP_ANY, "timeout", detail ? "  persistent %" PRIu64 "s" : " persistent %" PRIu64,
	       v->persist_timeout);
	xp_u64(p, XP_JSON, "prefix_len", NULL, v->persist_plen);
	if (!full || detail)
		xp_str(p, XP_ANY, "netmask", " mask %s", mb);
	else
		xp_str(p, XP_JSON, "netmask", NULL, mb);
	xp_obj_close(p);
	if (detail)
		xp_text(p, "\n");
}

static const struct xlvs_svc_state *svc_by_id(const struct xlvs_state *st, uint32_t id)
{
	size_t i;

	for (i = 0; i < st->nr_services; i++)
		if (st->services[i].svc.id == id)
			return &st->services[i];
	return NULL;
}

/* The template's real as the data path would follow it (same id and generation), or NULL. */
static const struct xlvs_real_state *tpl_real(const struct xlvs_svc_state *s, const struct xlvs_persist *t)
{
	size_t i;

	for (i = 0; s && i < s->nr_reals; i++)
		if (s->reals[i].id == t->real_id && s->reals[i].real.gen == t->real_gen)
			return &s->reals[i];
	return NULL;
}

struct tpl_text {
	char client[INET6_ADDRSTRLEN + 8], vip[XLVS_EPSTRLEN], real[INET6_ADDRSTRLEN];
};

static void tpl_text(const struct xlvs_tpl_row *row, const struct xlvs_svc_state *s,
		     const struct xlvs_real_state *r, struct tpl_text *t)
{
	char ab[INET6_ADDRSTRLEN];
	struct xlvs_addr a;

	xlvs_addr_of(&a, row->key.family, row->key.addr);
	snprintf(t->client, sizeof(t->client), "%s/%u", xlvs_addr_text(&a, ab, sizeof(ab)),
		 s ? s->svc.persist_plen : 0);
	if (s) {
		xlvs_addr_of(&a, s->key.family, s->key.addr);
		xlvs_ep_text(&a, ntohs(s->key.port), t->vip, sizeof(t->vip));
	} else {
		snprintf(t->vip, sizeof(t->vip), "service %u", row->key.svc_id);
	}
	if (r) {
		xlvs_addr_of(&a, r->real.family, r->real.addr);
		xlvs_addr_text(&a, t->real, sizeof(t->real));
	} else {
		snprintf(t->real, sizeof(t->real), "-");
	}
}

static void tpl_row(struct xp *p, const struct xlvs_tpl_row *row, const struct xlvs_svc_state *s,
		    const struct xlvs_real_state *r, const int w[3])
{
	char nb[NAMEBUF], ab[INET6_ADDRSTRLEN];
	struct tpl_text t;
	struct xlvs_addr a;

	tpl_text(row, s, r, &t);
	xp_obj_open(p, NULL);
	xp_str(p, XP_TEXT, NULL, "%-4s", s ? xlvs_proto_text(s->key.proto, nb, sizeof(nb)) : "?");
	if (s)
		xp_str(p, XP_JSON, "protocol", NULL, xlvs_proto_name(s->key.proto, nb, sizeof(nb)));
	xp_text(p, " %-*s %-*s %-*s %-8s ", w[0], t.client, w[1], t.vip, w[2], t.real, "template");
	xlvs_addr_of(&a, row->key.family, row->key.addr);
	xp_str(p, XP_JSON, "client", NULL, xlvs_addr_text(&a, ab, sizeof(ab)));
	xp_u64(p, XP_JSON, "prefix_len", NULL, s ? s->svc.persist_plen : 0);
	xp_u64(p, XP_JSON, "service_id", NULL, row->key.svc_id);
	if (s) {
		xlvs_addr_of(&a, s->key.family, s->key.addr);
		xp_str(p, XP_JSON, "vip", NULL, xlvs_addr_text(&a, ab, sizeof(ab)));
		xp_u64(p, XP_JSON, "port", NULL, ntohs(s->key.port));
	}
	xp_u64(p, XP_JSON, "real_id", NULL, row->tpl.real_id);
	if (r)
		xp_str(p, XP_JSON, "real", NULL, t.real);
	else
		xp_json(p, "real", json_null());
	if (row->idle_ns == XLVS_IDLE_UNKNOWN) {
		xp_json(p, "idle_s", json_null());
		xp_text(p, "%-7s ", "-");
	} else {
		xp_u64(p, XP_ANY, "idle_s", "%-7" PRIu64 " ", row->idle_ns / 1000000000ull);
	}
	if (row->expires_s == XLVS_EXPIRES_UNKNOWN || row->expires_s == XLVS_EXPIRES_NEVER) {
		xp_json(p, "expires_s", json_null());
		xp_text(p, "%s\n", row->expires_s == XLVS_EXPIRES_NEVER ? "never" : "-");
	} else {
		xp_u64(p, XP_ANY, "expires_s", "%" PRIu64 "\n", (uint64_t)row->expires_s);
	}
	xp_obj_close(p);
}

void xlvs_fmt_templates(struct xp *p, const struct xlvs_state *st, const struct xlvs_tpl_row *rows, size_t n,
			size_t expired)
{
	int w[3] = { (int)strlen("Client/Prefix"), (int)strlen("VirtualAddress:Port"),
		     (int)strlen("RealAddress") };
	const struct xlvs_svc_state *s;
	struct tpl_text t;
	size_t i;

	for (i = 0; i < n; i++) {
		s = svc_by_id(st, rows[i].key.svc_id);
		tpl_text(&rows[i], s, tpl_real(s, &rows[i].tpl), &t);
		w[0] = (int)strlen(t.client) > w[0] ? (int)strlen(t.client) : w[0];
		w[1] = (int)strlen(t.vip) > w[1] ? (int)strlen(t.vip) : w[1];
		w[2] = (int)strlen(t.real) > w[2] ? (int)strlen(t.real) : w[2];
	}
	if (n)
		xp_text(p,
			"\nPersistence templates (a client prefix keeps its real for new connections):\n"
			"Prot %-*s %-*s %-*s %-8s %s\n",
			w[0], "Client/Prefix", w[1], "VirtualAddress:Port", w[2], "RealAddress", "State",
			"Idle(s) Expires(s)");
	xp_arr_open(p, "templates");
	for (i = 0; i < n; i++) {
		s = svc_by_id(st, rows[i].key.svc_id);
		tpl_row(p, &rows[i], s, tpl_real(s, &rows[i].tpl), w);
	}
	xp_arr_close(p);
	xp_u64(p, XP_JSON, "templates_expired", NULL, expired);
	if (expired)
		xp_text(p, "(%zu expired templates left out: the sweep deletes them)\n", expired);
}
