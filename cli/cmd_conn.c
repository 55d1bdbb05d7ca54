// SPDX-License-Identifier: GPL-2.0
/*
 * xlvs conn list [SERVICE] [--limit N]: the connection table, most recently
 * seen first. A flow belongs to the service the data path would pick for it:
 * the exact port, else the VIP's port-0 service.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "view.h"

struct conn_args {
	struct xlvs_endpoint svc; /* no family: not given */
	uint32_t limit;		  /* 0: every row */
};

const struct xlvs_opt xlvs_opts_conn[] = {
	{ .arg = "SERVICE",
	  .kind = XLVS_OPT_SERVICE,
	  .flags = XLVS_OPT_POS,
	  .off = offsetof(struct conn_args, svc) },
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
	struct xlvs_conn_row *rows;
	size_t n, cap;
	struct xlvs_jiffies clock;
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

static int collect(const struct xlvs_flow *flow, const struct xlvs_conn *conn, void *ctx)
{
	struct conn_walk *w = ctx;
	struct xlvs_conn_row *row;

	if (!flow_matches(w, flow))
		return 0;
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
	return 0;
}

static int row_cmp(const void *a, const void *b)
{
	const struct xlvs_conn_row *x = a, *y = b;

	if (x->idle_ns != y->idle_ns)
		return x->idle_ns < y->idle_ns ? -1 : 1;
	return memcmp(&x->flow, &y->flow, sizeof(x->flow));
}

static int list_conns(struct xlvs_ctx *c, struct xlvs_maps *m, const struct xlvs_endpoint *filter,
		      uint32_t limit)
{
	struct xlvs_view s;
	struct conn_walk w = { .filter = filter };
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
	/* Without the clock the table is still worth seeing: idle shows "-". */
	rc = xlvs_jiffies_read(&w.clock);
	w.have_clock = !rc;
	if (rc < 0)
		fprintf(c->err, "xlvs: warning: cannot read the kernel's jiffies (%s): no idle times\n",
			strerror(-rc));
	rc = xlvs_conns_foreach(m, collect, &w);
	if (rc < 0) {
		rc = xlvs_error(c, XLVS_EXIT_RUNTIME, "cannot read the connection table under %s: %s",
				c->pin_dir, strerror(-rc));
		goto out;
	}
	qsort(w.rows, w.n, sizeof(*w.rows), row_cmp);
	xlvs_printer(c, &p);
	xlvs_fmt_conns(&p, &s.st, w.rows, limit && limit < w.n ? limit : w.n, w.n);
	rc = xlvs_finish(c, &p);
out:
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
	rc = list_conns(c, &m, a.svc.addr.family ? &a.svc : NULL, a.limit);
	xlvs_maps_close(&m);
	return rc;
}
