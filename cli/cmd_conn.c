// SPDX-License-Identifier: GPL-2.0
/*
 * xlvs conn list [SERVICE] [--real ADDR] [--client ADDR[:PORT]] [--limit N]:
 * the connection table, most recently seen first, with each entry's state and
 * time to expiry; expired entries (not swept yet) are left out, as the data
 * path ignores them. A flow belongs to the service the data path would pick
 * for it: the exact port, else the VIP's port-0 service. Then the persistence
 * templates of the services shown (bpf/persist.h), unexpired ones only,
 * likewise. The filters apply while walking the table: asking a full table
 * for one flow costs one walk, not a sort of every entry.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "view.h"

struct conn_args {
	struct xlvs_endpoint svc;    /* no family: not given */
	struct xlvs_endpoint real;   /* no family: not given; its port is ignored */
	struct xlvs_endpoint client; /* no family: not given; no port: any port */
	uint32_t limit;		     /* 0: every row */
};

const struct xlvs_opt xlvs_opts_conn[] = {
	{ .arg = "SERVICE",
	  .kind = XLVS_OPT_SERVICE,
	  .flags = XLVS_OPT_POS,
	  .off = offsetof(struct conn_args, svc) },
	{ .name = "--real",
	  .alias = "real",
	  .kind = XLVS_OPT_REAL,
	  .flags = XLVS_OPT_ONCE,
	  .arg = "ADDR",
	  .off = offsetof(struct conn_args, real),
	  .help = "only the flows of this real server" },
	{ .name = "--client",
	  .alias = "client",
	  .kind = XLVS_OPT_CLIENT,
	  .flags = XLVS_OPT_ONCE,
	  .arg = "ADDR[:PORT]",
	  .off = offsetof(struct conn_args, client),
	  .help = "only the flows from this client (no PORT: any port)" },
	{ .name = "--limit",
	  .alias = "limit",
	  .kind = XLVS_OPT_U32,
	  .flags = XLVS_OPT_ONCE,
	  .arg = "N",
	  .min = 1,
	  .max = UINT32_MAX,
	  .off = offsetof(struct conn_args, limit),
	  .help = "the N most recently seen flows, and how many matched" },
	{ 0 },
};

struct conn_walk {
	const struct xlvs_state *st;
	const struct xlvs_endpoint *filter; /* NULL = every flow */
	const struct xlvs_addr *real;	    /* NULL = any real */
	const struct xlvs_endpoint *client; /* NULL = any client; no have_port: any port */
	const struct xlvs_real **by_id;	    /* the reals of st by id (NULL: none) */
	struct xlvs_conn_row *rows;
	size_t n, cap, expired;
	struct xlvs_jiffies clock;
	struct xlvs_config cfg;
	bool have_clock;
	struct xlvs_addr pool[XLVS_SNAT_POOL_MAX]; /* xlvs_snat_pool, for fullnat flows */
};

static bool addr_eq(uint8_t family, const uint32_t *a, const struct xlvs_addr *b)
{
	return family == b->family && !memcmp(a, b->be, family == XLVS_AF_INET ? 4 : 16);
}

static bool has_service(const struct xlvs_state *st, const struct xlvs_addr *vip, uint8_t proto,
			uint16_t port, bool any_proto)
{
	size_t i;

	for (i = 0; i < st->nr_services; i++) {
		const struct xlvs_svc_key *k = &st->services[i].key;

		if (addr_eq(k->family, k->addr, vip) && ntohs(k->port) == port &&
		    (any_proto || k->proto == proto))
			return true;
	}
	return false;
}

static bool flow_matches(const struct conn_walk *w, const struct xlvs_flow *f)
{
	const struct xlvs_endpoint *ep = w->filter;

	if (!ep)
		return true;
	if (!addr_eq(f->family, f->dst, &ep->addr) || (ep->proto && f->proto != ep->proto))
		return false;
	if (ep->port)
		return ntohs(f->dport) == ep->port;
	/* Port-0 service: flows whose port has no service of its own. */
	return !has_service(w->st, &ep->addr, f->proto, ntohs(f->dport), false);
}

static bool client_matches(const struct conn_walk *w, const struct xlvs_flow *f)
{
	const struct xlvs_endpoint *cl = w->client;

	return !cl ||
	       (addr_eq(f->family, f->src, &cl->addr) && (!cl->have_port || ntohs(f->sport) == cl->port));
}

/* The entry's real as the data path sees it (NULL: removed, or its id reused). */
static const struct xlvs_real *conn_real(const struct conn_walk *w, const struct xlvs_conn *conn)
{
	const struct xlvs_real *r = conn->real_id < XLVS_MAX_REALS ? w->by_id[conn->real_id] : NULL;

	return r && xlvs_conn_is_current(conn, r) ? r : NULL;
}

static int collect(const struct xlvs_flow *flow, const struct xlvs_conn *conn, void *ctx)
{
	struct conn_walk *w = ctx;
	const struct xlvs_real *real;
	struct xlvs_conn_row *row;
	int64_t left;

	if (!flow_matches(w, flow) || !client_matches(w, flow))
		return 0;
	real = conn_real(w, conn);
	if (w->real && (!real || !addr_eq(real->family, real->addr, w->real)))
		return 0;
	left = w->have_clock ? xlvs_conn_left(&w->cfg, real, flow->proto, conn, w->clock.now) : 0;
	if (left < 0) { /* as good as absent: the sweep deletes it */
		w->expired++;
		return 0;
	}
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 1024;
		struct xlvs_conn_row *r = realloc(w->rows, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		w->rows = r;
		w->cap = cap;
	}
	row = &w->rows[w->n++];
	row->flow = *flow;
	row->conn = *conn;
	memset(&row->snat, 0, sizeof(row->snat));
	if (conn->snat_port && conn->snat_idx < XLVS_SNAT_POOL_MAX)
		row->snat = w->pool[conn->snat_idx];
	row->idle_ns = w->have_clock ? xlvs_conn_idle_ns(&w->clock, conn->last_seen) : XLVS_IDLE_UNKNOWN;
	row->expires_s = !w->have_clock	     ? XLVS_EXPIRES_UNKNOWN
			 : left == INT64_MAX ? XLVS_EXPIRES_NEVER
					     : (int64_t)((uint64_t)left * w->clock.tick_ns / 1000000000ull);
	return 0;
}

/* ---- templates ---- */

struct tpl_walk {
	const struct conn_walk *cw; /* its filters, state and clock */
	struct xlvs_tpl_row *rows;
	size_t n, cap, expired;
};

static const struct xlvs_svc_state *tpl_service(const struct xlvs_state *st, uint32_t svc_id)
{
	size_t i;

	for (i = 0; i < st->nr_services; i++)
		if (st->services[i].svc.id == svc_id)
			return &st->services[i];
	return NULL;
}

/* A template of svc keeps the client's real: its prefix holds the client's address (any port). */
static bool tpl_has_client(const struct conn_walk *w, const struct xlvs_svc_addr_key *key,
			   const struct xlvs_service *svc)
{
	struct xlvs_flow f = { 0 };
	struct xlvs_svc_addr_key k;

	if (!w->client)
		return true;
	f.family = w->client->addr.family;
	memcpy(f.src, w->client->addr.be, sizeof(f.src));
	xlvs_tpl_key(&f, svc, &k);
	return k.family == key->family && !memcmp(k.addr, key->addr, sizeof(k.addr));
}

static int collect_tpl(const struct xlvs_svc_addr_key *key, const struct xlvs_persist *tpl, void *ctx)
{
	struct tpl_walk *t = ctx;
	const struct conn_walk *w = t->cw;
	const struct xlvs_svc_state *s = tpl_service(w->st, key->svc_id);
	const struct xlvs_real *real = tpl->real_id < XLVS_MAX_REALS ? w->by_id[tpl->real_id] : NULL;
	int64_t left = 0;

	if (!s || !s->svc.persist_timeout || (w->filter && !xlvs_svc_matches(&s->key, w->filter)))
		return 0; /* of no persistent service now: the data path ignores it, the sweep deletes it */
	if (!tpl_has_client(w, key, &s->svc))
		return 0;
	if (real && real->gen != tpl->real_gen)
		real = NULL;
	if (w->real && (!real || !addr_eq(real->family, real->addr, w->real)))
		return 0;
	if (w->have_clock)
		left = xlvs_persist_left(&w->cfg, s->svc.persist_timeout, tpl, w->clock.now);
	if (left < 0) {
		t->expired++;
		return 0;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct xlvs_tpl_row *r = realloc(t->rows, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		t->rows = r;
		t->cap = cap;
	}
	t->rows[t->n++] = (struct xlvs_tpl_row){
		.key = *key,
		.tpl = *tpl,
		.idle_ns = w->have_clock ? xlvs_conn_idle_ns(&w->clock, tpl->last_seen) : XLVS_IDLE_UNKNOWN,
		.expires_s = !w->have_clock ? XLVS_EXPIRES_UNKNOWN
			     : left == INT64_MAX
				     ? XLVS_EXPIRES_NEVER
				     : (int64_t)((uint64_t)left * w->clock.tick_ns / 1000000000ull),
	};
	return 0;
}

static int tpl_cmp(const void *a, const void *b)
{
	const struct xlvs_tpl_row *x = a, *y = b;

	if (x->idle_ns != y->idle_ns)
		return x->idle_ns < y->idle_ns ? -1 : 1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

/* The templates the listing shows, most recently used first; limit as for connections. */
static int list_templates(struct xlvs_ctx *c, struct xlvs_maps *m, const struct conn_walk *w, struct xp *p,
			  uint32_t limit)
{
	struct tpl_walk t = { .cw = w };
	int rc = xlvs_persist_foreach(m, collect_tpl, &t);

	if (rc < 0) {
		free(t.rows);
		return xlvs_error(c, XLVS_EXIT_RUNTIME, "cannot read the persistence templates under %s: %s",
				  c->pin_dir, strerror(-rc));
	}
	if (t.n)
		qsort(t.rows, t.n, sizeof(*t.rows), tpl_cmp);
	xlvs_fmt_templates(p, w->st, t.rows, limit && limit < t.n ? limit : t.n, t.expired);
	free(t.rows);
	return 0;
}

static int row_cmp(const void *a, const void *b)
{
	const struct xlvs_conn_row *x = a, *y = b;

	if (x->idle_ns != y->idle_ns)
		return x->idle_ns < y->idle_ns ? -1 : 1;
	return memcmp(&x->flow, &y->flow, sizeof(x->flow));
}

/* w->by_id from the listing's state: the reals of every service, by id. */
static int index_reals(struct conn_walk *w)
{
	size_t i, j;

	w->by_id = calloc(XLVS_MAX_REALS, sizeof(*w->by_id));
	if (!w->by_id)
		return -ENOMEM;
	for (i = 0; i < w->st->nr_services; i++)
		for (j = 0; j < w->st->services[i].nr_reals; j++)
			if (w->st->services[i].reals[j].id < XLVS_MAX_REALS)
				w->by_id[w->st->services[i].reals[j].id] = &w->st->services[i].reals[j].real;
	return 0;
}

static int list_conns(struct xlvs_ctx *c, struct xlvs_maps *m, const struct xlvs_endpoint *filter,
		      const struct xlvs_addr *real, const struct xlvs_endpoint *client, uint32_t limit)
{
	struct xlvs_view s;
	struct conn_walk w = { .filter = filter, .real = real, .client = client };
	char eb[XLVS_EPSTRLEN + 32];
	struct xp p;
	int rc;

	rc = xlvs_view_read(c, m, &s, 0);
	if (rc)
		goto out;
	w.st = &s.st;
	if (filter && !has_service(&s.st, &filter->addr, filter->proto, filter->port, !filter->proto)) {
		rc = xlvs_error(c, XLVS_EXIT_RUNTIME, "no such service: %s",
				xlvs_svc_text(filter, eb, sizeof(eb)));
		goto out;
	}
	rc = index_reals(&w);
	if (rc) {
		rc = xlvs_error(c, XLVS_EXIT_RUNTIME, "out of memory");
		goto out;
	}
	/* Without the clock the table is still worth seeing: idle and expiry show "-". */
	rc = xlvs_jiffies_read(&w.clock);
	if (!rc)
		rc = xlvs_maps_get_config(m, &w.cfg);
	w.have_clock = !rc;
	if (rc < 0)
		fprintf(c->err,
			"xlvs: warning: cannot read the kernel's jiffies or xlvs_config (%s): no idle times\n",
			strerror(-rc));
	rc = xlvs_snat_pool_read(m, w.pool);
	if (rc < 0)
		fprintf(c->err, "xlvs: warning: cannot read xlvs_snat_pool (%s): no fullnat sources\n",
			strerror(-rc));
	rc = xlvs_conns_foreach(m, collect, &w);
	if (rc < 0) {
		rc = xlvs_error(c, XLVS_EXIT_RUNTIME, "cannot read the connection table under %s: %s",
				c->pin_dir, strerror(-rc));
		goto out;
	}
	if (w.n) /* qsort wants a non-NULL base even for 0 rows */
		qsort(w.rows, w.n, sizeof(*w.rows), row_cmp);
	xlvs_printer(c, &p);
	xlvs_fmt_conns(&p, &s.st, w.rows, limit && limit < w.n ? limit : w.n, w.n, w.expired);
	rc = list_templates(c, m, &w, &p, limit);
	if (rc)
		xp_discard(&p);
	else
		rc = xlvs_finish(c, &p);
out:
	free(w.by_id);
	free(w.rows);
	xlvs_view_free(&s);
	return rc;
}

int cmd_conn_list(struct xlvs_ctx *c, int argc, char **argv)
{
	struct conn_args a = { 0 };
	struct xlvs_maps m;
	int rc;

	rc = xlvs_parse_opts(c, xlvs_opts_conn, argc, argv, &a);
	if (rc)
		return rc;
	rc = xlvs_cli_maps_open(c, &m);
	if (rc)
		return rc;
	/* A parsed service has a family; without one, every flow is listed. */
	rc = list_conns(c, &m, a.svc.addr.family ? &a.svc : NULL, a.real.addr.family ? &a.real.addr : NULL,
			a.client.addr.family ? &a.client : NULL, a.limit);
	xlvs_maps_close(&m);
	return rc;
}
