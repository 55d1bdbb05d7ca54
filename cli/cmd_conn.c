// SPDX-License-Identifier: GPL-2.0
/*
 * xlvs conn list [SERVICE] [--real ADDR] [--limit N]: the connection table,
 * most recently seen first, with each entry's state and time to expiry;
 * expired entries (not swept yet) are left out, as the data path ignores
 * them. A flow belongs to the service the data path would pick for it: the
 * exact port, else the VIP's port-0 service.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "view.h"

struct conn_args {
	struct xlvs_endpoint svc;  /* no family: not given */
	struct xlvs_endpoint real; /* no family: not given; its port is ignored */
	uint32_t limit;		   /* 0: every row */
};

const struct xlvs_opt xlvs_opts_conn[] = {
	{ .arg = "SERVICE",
	  .kind = XLVS_OPT_SERVICE,
	  .flags = XLVS_OPT_POS,
	  .off = offsetof(struct conn_args, svc) },
	{ .name = "--real",
	  .alias = "real",
	  .kind = XLVS_OPT_REAL,
	  .arg = "ADDR",
	  .off = offsetof(struct conn_args, real),
	  .help = "only the flows of this real server" },
	{ .name = "--limit",
	  .alias = "limit",
	  .kind = XLVS_OPT_U32,
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
	const struct xlvs_real **by_id;	    /* the reals of st by id (NULL: none) */
	struct xlvs_conn_row *rows;
	size_t n, cap, expired;
	struct xlvs_jiffies clock;
	struct xlvs_config cfg;
	bool have_clock;
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

/* The entry's real as the data path sees it (NULL: removed, or its id reused). */
static const struct xlvs_real *conn_real(const struct conn_walk *w, const struct xlvs_conn *conn)
{
	const struct xlvs_real *r = conn->real_id < XLVS_MAX_REALS ? w->by_id[conn->real_id] : NULL;

	return r && xlvs_conn_is_current(conn, r) ? r : NULL;
}

static int collect(const struct xlvs_flow *flow, const struct xlvs_conn *conn, void *ctx)
{
	struct conn_walk *w = ctx;
	const struct xlvs_real *real = conn_real(w, conn);
	struct xlvs_conn_row *row;
	int64_t left = w->have_clock ? xlvs_conn_left(&w->cfg, real, flow->proto, conn, w->clock.now) : 0;

	if (!flow_matches(w, flow))
		return 0;
	if (w->real && (!real || !addr_eq(real->family, real->addr, w->real)))
		return 0;
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
	row->idle_ns = w->have_clock ? xlvs_conn_idle_ns(&w->clock, conn->last_seen) : XLVS_IDLE_UNKNOWN;
	row->expires_s = !w->have_clock	     ? XLVS_EXPIRES_UNKNOWN
			 : left == INT64_MAX ? XLVS_EXPIRES_NEVER
					     : (int64_t)((uint64_t)left * w->clock.tick_ns / 1000000000ull);
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
		      const struct xlvs_addr *real, uint32_t limit)
{
	struct xlvs_view s;
	struct conn_walk w = { .filter = filter, .real = real };
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
			a.limit);
	xlvs_maps_close(&m);
	return rc;
}
