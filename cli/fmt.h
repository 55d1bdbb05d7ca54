/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the CLI shows, as functions of plain data: a view of the maps
 * (read by view.c, or built by hand in tests) goes in, printer calls come out.
 * Nothing here opens a map or a socket.
 */
#ifndef XLVS_CLI_FMT_H
#define XLVS_CLI_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "args.h"
#include "print.h"
#include "xlvsmaps.h"

/*
 * The CLI's view: what the maps hold (xlvs_state) plus the counters, read at
 * one moment for display; not the desired config (xlvs_spec). Arrays may be NULL.
 */
struct xlvs_view {
	struct xlvs_state st;
	struct xlvs_conn_counts *conns; /* by real id */
	size_t nr_conns;
	struct xlvs_counters *svc_ctr; /* by service id */
	size_t nr_svc_ctr;
	struct xlvs_counters *real_ctr; /* by real id */
	size_t nr_real_ctr;
	struct xlvs_counters *svc_out; /* NAT replies (xlvs_svc_out), by service id: nr_svc_ctr; NULL: zero */
	struct xlvs_counters *real_out; /* NAT replies (xlvs_real_out), by real id: nr_real_ctr; NULL: zero */
	bool have_drops;
	uint64_t drops[XLVS_DROP_MAX];
	uint64_t events[XLVS_EV_MAX];
	bool have_table;
	struct xlvs_conn_table table; /* entries and capacity of xlvs_conns */
	uint64_t time_ns;	      /* CLOCK_MONOTONIC when read (rates) */
	json_t *health;		      /* xlvsd's `health` services (borrowed); NULL: none */
	uint32_t *ring_slots;	      /* by real id: slots of its service's ring it owns; NULL: not read */
	size_t nr_ring_slots;
	struct xlvs_real_load *loads; /* by real id: the scheduler's counts of COUNTED reals; NULL: not read */
	size_t nr_loads;
};

/* Formatter flags. */
#define XLVS_FMT_STATS	 (1 << 0) /* counter columns instead of weights */
#define XLVS_FMT_VERBOSE (1 << 1) /* zero drop/event counters too */
#define XLVS_FMT_RATES	 (1 << 2) /* per-second columns from prev */
/* For xlvs_print_services(): the output mode. */
#define XLVS_PRINT_JSON	  (1 << 8)
#define XLVS_PRINT_PRETTY (1 << 9)

/* The ipvsadm-like table (`xlvs service list`). */
void xlvs_fmt_services(struct xp *p, const struct xlvs_view *s, int flags);
/* One-call form for callers with just a state and conn counts (by real id). */
int xlvs_print_services(FILE *out, const struct xlvs_state *st, const struct xlvs_conn_counts *cc, size_t ncc,
			int flags);
/* A real's xlvs_real_load as its least-connection scheduler sees it: a line, JSON "sched_conns". */
void xlvs_fmt_sched_conns(struct xp *p, const struct xlvs_real_load *l, const char *indent);
/* A COUNTED real's load as read into the view (XLVS_VIEW_LOAD); NULL for the others. */
const struct xlvs_real_load *xlvs_view_load(const struct xlvs_view *s, const struct xlvs_real_state *r);
/*
 * "INDENTconns N  packets N  bytes N" and, where replies come back through the
 * director (nat: a nat or fullnat real, or a service with one), "  out-packets N
 * out-bytes N" (xlvs_svc_out, xlvs_real_out; out NULL: zero); JSON "stats" has
 * out_packets and out_bytes always.
 */
void xlvs_fmt_counters(struct xp *p, const struct xlvs_counters *in, const struct xlvs_counters *out,
		       bool nat, const char *indent);
/* Detail of the services whose indexes are in idx (`xlvs service show`). */
void xlvs_fmt_service_detail(struct xp *p, const struct xlvs_view *s, const size_t *idx, size_t n);
/*
 * One real of one service (`xlvs real show`): from the maps when it is there
 * (r), and from xlvsd's `health` reply when the daemon answered.
 */
struct xlvs_real_view {
	struct xlvs_endpoint svc;	 /* the service: vip, port, proto */
	struct xlvs_addr addr;		 /* the real */
	uint16_t port;			 /* shown with it: the service's port */
	const struct xlvs_svc_state *sv; /* in the maps, or NULL */
	const struct xlvs_real_state *r; /* in the maps, or NULL */
	json_t *hreal;			 /* xlvsd's entry of the real (borrowed), or NULL */
	bool sorry;			 /* the real is the service's sorry server */
	const char *daemon_error;	 /* why xlvsd did not answer; NULL: it did */
};
void xlvs_fmt_real_detail(struct xp *p, const struct xlvs_view *s, const struct xlvs_real_view *v, size_t n);
/* Counters, drops and events; rates against prev when XLVS_FMT_RATES. */
void xlvs_fmt_stats(struct xp *p, const struct xlvs_view *cur, const struct xlvs_view *prev, int flags);

/* A connection table row (`xlvs conn list`). */
#define XLVS_IDLE_UNKNOWN    UINT64_MAX /* the kernel's jiffies could not be read */
#define XLVS_EXPIRES_UNKNOWN INT64_MIN	/* no clock */
#define XLVS_EXPIRES_NEVER   INT64_MAX	/* timeouts off (xlvs_config.hz 0) */
struct xlvs_conn_row {
	struct xlvs_flow flow;
	struct xlvs_conn conn;
	struct xlvs_addr snat; /* fullnat: the client's source towards the real (family 0: none) */
	uint64_t idle_ns;      /* XLVS_IDLE_UNKNOWN: no clock */
	int64_t expires_s;     /* seconds to expiry, or XLVS_EXPIRES_* */
};
/* rows are printed as given; matched = rows that matched before --limit; expired: left out. */
void xlvs_fmt_conns(struct xp *p, const struct xlvs_state *st, const struct xlvs_conn_row *rows, size_t n,
		    size_t matched, size_t expired);

/* A persistence template as `xlvs conn list` shows it (fmt_persist.c). */
struct xlvs_tpl_row {
	struct xlvs_svc_addr_key key;
	struct xlvs_persist tpl;
	uint64_t idle_ns;  /* XLVS_IDLE_UNKNOWN: no clock */
	int64_t expires_s; /* seconds to expiry, or XLVS_EXPIRES_* */
};
/* After the connections: the templates (text: a section only if n > 0; JSON "templates" always). */
void xlvs_fmt_templates(struct xp *p, const struct xlvs_state *st, const struct xlvs_tpl_row *rows, size_t n,
			size_t expired);
/* A service's persistence: " persistent 300 mask 255.255.255.0" (detail: a line of its own); JSON
 * "persistence": {timeout, prefix_len, netmask} or null. */
void xlvs_fmt_svc_persist(struct xp *p, const struct xlvs_svc_state *s, bool detail);

/* xlvs timeout show: the global lifetimes, ipvsadm -L --timeout style. */
void xlvs_fmt_timeouts(struct xp *p, const struct xlvs_config *cfg);
/* A service's own lifetimes (JSON "timeouts": each of its protocol's, null = the global one). */
void xlvs_fmt_svc_timeouts(struct xp *p, const struct xlvs_svc_state *s, bool text);

/* Daemon replies. */
/* Apply stats (`applied` of a reply): text "<label>services added 1, ...", JSON key: {...}. */
void xlvs_fmt_applied(struct xp *p, const char *key, const char *label, json_t *applied);
/* The status reply; fields the daemon adds later are shown too. */
void xlvs_fmt_status(struct xp *p, json_t *reply);
void xlvs_fmt_duration(long long seconds, char *buf, size_t size);
void xlvs_fmt_nexthop(struct xp *p, const struct xlvs_real *r, const char *indent);
/* xlvsd's diff reply: "+ real ...", "~ service ...: key from -> to" lines, or file/changes/refused in JSON. */
void xlvs_fmt_diff(struct xp *p, json_t *reply);
/* Text of a daemon string: control characters become '?' (fmt_real.c). */
void xlvs_fmt_clean(char *dst, size_t size, const char *src);

/* `xlvs health` (fmt_health.c): the health reply's services as a table, or {"services": [...]} in JSON. */
void xlvs_fmt_health(struct xp *p, json_t *services);
/* An age or a delay in ms: "1.4s" below 10 s, else as xlvs_fmt_duration ("12s", "3m 4s"). */
void xlvs_fmt_age(long long ms, char *buf, size_t size);
/*
 * The services of a health reply that match svc (its port and protocol only
 * when given; NULL: all), with only their reals that match real (its port only
 * when given; NULL: all; a service left with none is left out). A new array.
 */
json_t *xlvs_health_filter(json_t *services, const struct xlvs_endpoint *svc,
			   const struct xlvs_endpoint *real);

#endif /* XLVS_CLI_FMT_H */
