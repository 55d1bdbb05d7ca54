// SPDX-License-Identifier: GPL-2.0
/*
 * Prometheus exporter (see metrics.h). One HELP/TYPE pair per family:
 *
 *   xlvs_up, xlvs_build_info{version}
 *   xlvs_daemon_start_time_seconds, xlvs_daemon_reloads_total{result},
 *   xlvs_daemon_last_reload_success, xlvs_daemon_last_reload_time_seconds,
 *   xlvs_daemon_services, xlvs_daemon_reals            (struct xlvsd_status)
 *   xlvs_service_{packets,bytes,connections}_total{vip,port,protocol}
 *   xlvs_real_{packets,bytes,connections}_total{vip,port,protocol,real}
 *   xlvs_real_weight{vip,port,protocol,real}
 *   xlvs_real_active_connections, xlvs_real_inactive_connections{vip,port,protocol,real}
 *   xlvs_real_sched_connections{vip,port,protocol,real,class}   (COUNTED reals: xlvs_real_load)
 *   xlvs_sched_conns_reconciles_total, xlvs_sched_conns_last_correction{direction}
 *   xlvs_ring_slots_cleared_total, xlvs_ring_slots_held_total   (the sweep's, struct xlvsd_status)
 *   xlvs_drops_total{reason}, xlvs_events_total{event}
 *   xlvs_conn_table_entries, xlvs_conn_table_capacity
 *
 * The kernel keeps no element count of an LRU hash that a syscall can read, so
 * xlvs_conn_table_entries walks xlvs_conns once per scrape (batch lookups of
 * 4096 entries; docs/operations.md gives the cost).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "xlvsmaps.h"
#include "status.h"
#include "metrics.h"

#ifndef XLVS_VERSION
#define XLVS_VERSION "0.1.0"
#endif

/*
 * Connections at once, from one address, and the seconds a connection may
 * stay silent (libmicrohttpd counts from its last byte): clients that trickle
 * their headers from one host cannot take every slot (docs/operations.md).
 */
#define METRICS_CONN_LIMIT   64
#define METRICS_CONN_PER_IP  8
#define METRICS_CONN_TIMEOUT 10

/* ---- collecting ---- */

struct svc_row {
	char vip[INET6_ADDRSTRLEN];
	char port[8];
	char proto[8];
	struct xlvs_counters c;
	struct xlvs_counters out; /* NAT replies (xlvs_svc_out) */
};

/* libxlvsmaps refuses two reals with one address in a service: the labels are unique. */
struct real_row {
	size_t svc; /* index into svc rows */
	char text[INET6_ADDRSTRLEN];
	struct xlvs_counters c;
	struct xlvs_counters out; /* NAT replies (xlvs_real_out) */
	uint64_t weight;
	uint32_t id;
	bool counted;		    /* XLVS_REAL_F_COUNTED: load is the scheduler's count */
	struct xlvs_real_load load; /* xlvs_real_load as read */
};

struct scrape {
	struct xlvs_state st;
	struct svc_row *svcs;
	struct real_row *reals;
	size_t nr_reals;
	uint64_t drops[XLVS_DROP_MAX];
	uint64_t events[XLVS_EV_MAX];
	struct xlvs_conn_table table;
	struct xlvs_conn_counts *conns; /* by real id, from the table walk that gives table */
};

static void addr_text(uint8_t family, const __be32 *addr, char *buf, size_t size)
{
	int af = family == XLVS_AF_INET ? AF_INET : family == XLVS_AF_INET6 ? AF_INET6 : 0;

	if (!af || !inet_ntop(af, addr, buf, (socklen_t)size))
		snprintf(buf, size, "invalid");
}

static void proto_text(uint8_t proto, char *buf, size_t size)
{
	if (proto == IPPROTO_TCP)
		snprintf(buf, size, "tcp");
	else if (proto == IPPROTO_UDP)
		snprintf(buf, size, "udp");
	else
		snprintf(buf, size, "%u", proto);
}

/* Every counter map read with one range call, ids [0, the largest the state has]: rows pick theirs. */
struct ctr_sets {
	uint32_t nr_svc, nr_real;
	struct xlvs_counters *svc, *svc_out, *real, *real_out; /* by id, in one allocation (svc) */
};

static int read_ctr_sets(struct xlvs_maps *m, const struct xlvs_state *st, struct ctr_sets *k)
{
	int err;

	xlvs_state_nr_ids(st, &k->nr_svc, &k->nr_real);
	k->svc = calloc(2 * (size_t)k->nr_svc + 2 * (size_t)k->nr_real + 1, sizeof(*k->svc));
	if (!k->svc)
		return -ENOMEM;
	k->svc_out = k->svc + k->nr_svc;
	k->real = k->svc_out + k->nr_svc;
	k->real_out = k->real + k->nr_real;
	err = xlvs_svc_counters_range(m, 0, k->nr_svc, k->svc);
	if (!err)
		err = xlvs_svc_out_counters_range(m, 0, k->nr_svc, k->svc_out);
	if (!err)
		err = xlvs_real_counters_range(m, 0, k->nr_real, k->real);
	if (!err)
		err = xlvs_real_out_counters_range(m, 0, k->nr_real, k->real_out);
	return err;
}

static int collect_reals(struct xlvs_maps *m, struct scrape *s, const struct ctr_sets *k, size_t i)
{
	const struct xlvs_svc_state *ss = &s->st.services[i];
	struct real_row *r;
	size_t j;
	int err;

	for (j = 0; j < ss->nr_reals; j++) {
		r = &s->reals[s->nr_reals];
		memset(r, 0, sizeof(*r));
		r->svc = i;
		addr_text(ss->reals[j].real.family, ss->reals[j].real.addr, r->text, sizeof(r->text));
		r->weight = ss->reals[j].real.weight;
		r->id = ss->reals[j].id;
		if (r->id < k->nr_real) {
			r->c = k->real[r->id];
			r->out = k->real_out[r->id];
		}
		r->counted = ss->reals[j].real.flags & XLVS_REAL_F_COUNTED;
		if (r->counted) {
			err = xlvs_real_load_read(m, r->id, &r->load);
			if (err)
				return err;
		}
		s->nr_reals++;
	}
	return 0;
}

static int collect(struct xlvs_maps *m, struct scrape *s)
{
	const struct xlvs_svc_state *ss;
	struct ctr_sets k = { 0 };
	size_t i, total = 0;
	int err;

	err = xlvs_state_read(m, &s->st);
	if (err)
		return err;
	for (i = 0; i < s->st.nr_services; i++)
		total += s->st.services[i].nr_reals;
	s->svcs = calloc(s->st.nr_services + 1, sizeof(*s->svcs));
	s->reals = calloc(total + 1, sizeof(*s->reals));
	err = s->svcs && s->reals ? read_ctr_sets(m, &s->st, &k) : -ENOMEM;
	for (i = 0; !err && i < s->st.nr_services; i++) {
		ss = &s->st.services[i];
		addr_text(ss->key.family, ss->key.addr, s->svcs[i].vip, sizeof(s->svcs[i].vip));
		snprintf(s->svcs[i].port, sizeof(s->svcs[i].port), "%u", ntohs(ss->key.port));
		proto_text(ss->key.proto, s->svcs[i].proto, sizeof(s->svcs[i].proto));
		if (ss->svc.id < k.nr_svc) {
			s->svcs[i].c = k.svc[ss->svc.id];
			s->svcs[i].out = k.svc_out[ss->svc.id];
		}
		err = collect_reals(m, s, &k, i);
	}
	free(k.svc);
	if (!err)
		err = xlvs_drop_counters(m, s->drops);
	if (!err)
		err = xlvs_event_counters(m, s->events);
	if (err)
		return err;
	/* One walk of the table gives its fullness and the connections of every real. */
	s->conns = calloc(XLVS_MAX_REALS, sizeof(*s->conns));
	return s->conns ? xlvs_conn_usage(m, &s->table, s->conns, XLVS_MAX_REALS) : -ENOMEM;
}

static void scrape_free(struct scrape *s)
{
	xlvs_state_free(&s->st);
	free(s->svcs);
	free(s->reals);
	free(s->conns);
}

/* ---- formatting ---- */

/* How c is written inside a label value, or NULL if it stands for itself. */
static const char *escape_of(char c)
{
	switch (c) {
	case '\\':
		return "\\\\";
	case '"':
		return "\\\"";
	case '\n':
		return "\\n";
	}
	return NULL;
}

size_t xlvs_metrics_escape(char *dst, size_t size, const char *src)
{
	char one[2] = { 0 };
	const char *e;
	size_t n = 0;

	for (; src && *src; src++) {
		one[0] = *src;
		for (e = escape_of(*src) ?: one; *e; e++, n++)
			if (n + 1 < size)
				dst[n] = *e;
	}
	if (size)
		dst[n < size ? n : size - 1] = '\0';
	return n;
}

static void put_escaped(FILE *f, const char *v)
{
	const char *e;

	for (; *v; v++) {
		e = escape_of(*v);
		if (e)
			fputs(e, f);
		else
			fputc(*v, f);
	}
}

void xlvs_metrics_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void xlvs_metrics_sample_text(FILE *f, const char *name, const char *const *kv, size_t npairs, const char *v)
{
	size_t i;

	fputs(name, f);
	for (i = 0; i < npairs; i++) {
		fprintf(f, "%s%s=\"", i ? "," : "{", kv[2 * i]);
		put_escaped(f, kv[2 * i + 1]);
		fputc('"', f);
	}
	fprintf(f, "%s %s\n", npairs ? "}" : "", v);
}

void xlvs_metrics_sample(FILE *f, const char *name, const char *const *kv, size_t npairs, uint64_t v)
{
	char text[24];

	snprintf(text, sizeof(text), "%" PRIu64, v);
	xlvs_metrics_sample_text(f, name, kv, npairs, text);
}

static void sample1(FILE *f, const char *name, const char *label, const char *value, uint64_t v)
{
	const char *kv[2] = { label, value };

	xlvs_metrics_sample(f, name, kv, 1, v);
}

/* Faults xlvsd survived while running (docs/reliability.md). */
static void put_faults(FILE *f, const struct xlvsd_status *hs)
{
	xlvs_metrics_family(f, "xlvs_daemon_pins_restored_total", "counter",
			    "Pins removed or replaced under xlvsd and put back.");
	xlvs_metrics_sample(f, "xlvs_daemon_pins_restored_total", NULL, 0, hs->pins_restored);
	xlvs_metrics_family(f, "xlvs_daemon_interfaces_lost_total", "counter",
			    "Configured interfaces deleted while xlvs_lb ran on them.");
	xlvs_metrics_sample(f, "xlvs_daemon_interfaces_lost_total", NULL, 0, hs->ifaces_lost);
	xlvs_metrics_family(f, "xlvs_daemon_interfaces_reattached_total", "counter",
			    "Configured interfaces xlvs_lb was attached to again when they came back.");
	xlvs_metrics_sample(f, "xlvs_daemon_interfaces_reattached_total", NULL, 0, hs->ifaces_reattached);
	xlvs_metrics_family(
		f, "xlvs_daemon_map_full_total", "counter",
		"Map writes refused for lack of room (configurations that do not fit, full maps).");
	xlvs_metrics_sample(f, "xlvs_daemon_map_full_total", NULL, 0, hs->map_full);
}

static void put_status(FILE *f, struct xlvsd_status *h)
{
	struct xlvsd_status hs = { 0 };
	uint64_t ok;

	xlvsd_status_snapshot(h, &hs);
	/* Before any reload nothing has failed: report success, as Prometheus itself does. */
	ok = hs.last_reload_time == 0 || hs.last_reload_ok;
	xlvs_metrics_family(f, "xlvs_daemon_start_time_seconds", "gauge",
			    "Start time of xlvsd since the Unix epoch.");
	xlvs_metrics_sample(f, "xlvs_daemon_start_time_seconds", NULL, 0, (uint64_t)hs.start_time);
	xlvs_metrics_family(f, "xlvs_daemon_reloads_total", "counter", "Configuration reloads by result.");
	sample1(f, "xlvs_daemon_reloads_total", "result", "ok", hs.reloads_ok);
	sample1(f, "xlvs_daemon_reloads_total", "result", "failed", hs.reloads_failed);
	xlvs_metrics_family(f, "xlvs_daemon_last_reload_success", "gauge",
			    "Whether the last configuration reload succeeded (1 before any reload).");
	xlvs_metrics_sample(f, "xlvs_daemon_last_reload_success", NULL, 0, ok);
	xlvs_metrics_family(f, "xlvs_daemon_last_reload_time_seconds", "gauge",
			    "Time of the last configuration reload since the Unix epoch (0: none yet).");
	xlvs_metrics_sample(f, "xlvs_daemon_last_reload_time_seconds", NULL, 0,
			    (uint64_t)hs.last_reload_time);
	xlvs_metrics_family(f, "xlvs_daemon_services", "gauge", "Services in the applied configuration.");
	xlvs_metrics_sample(f, "xlvs_daemon_services", NULL, 0, hs.services);
	xlvs_metrics_family(f, "xlvs_daemon_reals", "gauge", "Real servers in the applied configuration.");
	xlvs_metrics_sample(f, "xlvs_daemon_reals", NULL, 0, hs.reals);
	put_faults(f, &hs);
}

static const struct {
	const char *svc, *real, *help;
	size_t off;
	bool out; /* of the NAT replies' counters (out), not the forwarded ones (c) */
} counter_families[] = {
	{ "xlvs_service_packets_total", "xlvs_real_packets_total", "Packets forwarded",
	  offsetof(struct xlvs_counters, packets), false },
	{ "xlvs_service_bytes_total", "xlvs_real_bytes_total",
	  "Bytes forwarded, counted as received (Ethernet frame, before encapsulation)",
	  offsetof(struct xlvs_counters, bytes), false },
	{ "xlvs_service_connections_total", "xlvs_real_connections_total", "New flows scheduled",
	  offsetof(struct xlvs_counters, new_flows), false },
	{ "xlvs_service_out_packets_total", "xlvs_real_out_packets_total",
	  "NAT and FULLNAT replies translated back to the clients, ICMP errors on their way included "
	  "(ipvsadm OutPkts)",
	  offsetof(struct xlvs_counters, packets), true },
	{ "xlvs_service_out_bytes_total", "xlvs_real_out_bytes_total",
	  "Bytes of those replies, counted as received (Ethernet frame; ipvsadm OutBytes)",
	  offsetof(struct xlvs_counters, bytes), true },
};

/* Family k's value of counters c (forwarded) or out (NAT replies). */
static uint64_t counter_at(size_t k, const struct xlvs_counters *c, const struct xlvs_counters *out)
{
	uint64_t v;

	memcpy(&v, (const char *)(counter_families[k].out ? out : c) + counter_families[k].off, sizeof(v));
	return v;
}

static void put_services(FILE *f, const struct scrape *s)
{
	char help[160];
	size_t i, k;

	for (k = 0; k < sizeof(counter_families) / sizeof(counter_families[0]); k++) {
		snprintf(help, sizeof(help), "%s, per virtual service.", counter_families[k].help);
		xlvs_metrics_family(f, counter_families[k].svc, "counter", help);
		for (i = 0; i < s->st.nr_services; i++) {
			const struct svc_row *r = &s->svcs[i];
			const char *kv[] = { "vip", r->vip, "port", r->port, "protocol", r->proto };

			xlvs_metrics_sample(f, counter_families[k].svc, kv, 3, counter_at(k, &r->c, &r->out));
		}
	}
}

static void put_real(FILE *f, const struct scrape *s, const struct real_row *r, const char *name, uint64_t v)
{
	const struct svc_row *sv = &s->svcs[r->svc];
	const char *kv[] = { "vip", sv->vip, "port", sv->port, "protocol", sv->proto, "real", r->text };

	xlvs_metrics_sample(f, name, kv, 4, v);
}

static void put_reals(FILE *f, const struct scrape *s)
{
	char help[160];
	size_t i, k;

	for (k = 0; k < sizeof(counter_families) / sizeof(counter_families[0]); k++) {
		snprintf(help, sizeof(help), "%s, per real server of a virtual service.",
			 counter_families[k].help);
		xlvs_metrics_family(f, counter_families[k].real, "counter", help);
		for (i = 0; i < s->nr_reals; i++)
			put_real(f, s, &s->reals[i], counter_families[k].real,
				 counter_at(k, &s->reals[i].c, &s->reals[i].out));
	}
	xlvs_metrics_family(f, "xlvs_real_weight", "gauge",
			    "Scheduling weight of a real server (0: drained).");
	for (i = 0; i < s->nr_reals; i++)
		put_real(f, s, &s->reals[i], "xlvs_real_weight", s->reals[i].weight);
	xlvs_metrics_family(f, "xlvs_real_active_connections", "gauge",
			    "Unexpired TCP connections in state open to a real (ipvsadm ActiveConn).");
	for (i = 0; i < s->nr_reals; i++)
		put_real(f, s, &s->reals[i], "xlvs_real_active_connections", s->conns[s->reals[i].id].active);
	xlvs_metrics_family(
		f, "xlvs_real_inactive_connections", "gauge",
		"Other unexpired connection entries of a real: half-open, closing, UDP (ipvsadm InActConn).");
	for (i = 0; i < s->nr_reals; i++)
		put_real(f, s, &s->reals[i], "xlvs_real_inactive_connections",
			 s->conns[s->reals[i].id].inactive);
}

/* The connections lc, wlc, sed, nq, lblc, lblcr weigh: the data path's count, not the table walk's. */
static void put_sched_conns(FILE *f, const struct scrape *s)
{
	const struct real_row *r;
	char v[16];
	size_t i, k;

	xlvs_metrics_family(
		f, "xlvs_real_sched_connections", "gauge",
		"Connections of a real as its least-connection scheduler sees them (xlvs_real_load, "
		"kept by the data path, reconciled by xlvsd), by class; only reals of lc, wlc, sed, "
		"nq, lblc, lblcr services.");
	for (i = 0; i < s->nr_reals; i++) {
		r = &s->reals[i];
		for (k = 0; r->counted && k < 2; k++) {
			const struct svc_row *sv = &s->svcs[r->svc];
			const char *kv[] = {
				"vip",	   sv->vip, "port",  sv->port, "protocol",
				sv->proto, "real",  r->text, "class",  k ? "inactive" : "active"
			};

			/* signed: a count briefly below zero is shown as it is */
			snprintf(v, sizeof(v), "%d", k ? r->load.inactive : r->load.active);
			xlvs_metrics_sample_text(f, "xlvs_real_sched_connections", kv, 5, v);
		}
	}
}

static void put_reconciles(FILE *f, struct xlvsd_status *h)
{
	struct xlvsd_status hs = { 0 };

	xlvsd_status_snapshot(h, &hs);
	xlvs_metrics_family(
		f, "xlvs_sched_conns_reconciles_total", "counter",
		"Reconciles of the least-connection schedulers' counts with the connection table.");
	xlvs_metrics_sample(f, "xlvs_sched_conns_reconciles_total", NULL, 0, hs.reconciles);
	xlvs_metrics_family(f, "xlvs_sched_conns_last_correction", "gauge",
			    "Units the last reconcile added to (raised) or took off (lowered) the schedulers' "
			    "counts, over all reals: their drift, mostly LRU evictions (lowered).");
	sample1(f, "xlvs_sched_conns_last_correction", "direction", "raised", hs.reconcile_raised);
	sample1(f, "xlvs_sched_conns_last_correction", "direction", "lowered", hs.reconcile_lowered);
}

/* What the sweep's passes did with the changed slots of ring-state services (maps/ringsweep.c). */
static void put_ring_sweep(FILE *f, struct xlvsd_status *h)
{
	struct xlvsd_status hs = { 0 };

	xlvsd_status_snapshot(h, &hs);
	xlvs_metrics_family(f, "xlvs_ring_slots_cleared_total", "counter",
			    "Changed ring-state slots the sweep marked stable again: their previous owner's "
			    "window over, no entry naming another real than the owner.");
	xlvs_metrics_sample(f, "xlvs_ring_slots_cleared_total", NULL, 0, hs.ring_cleared);
	xlvs_metrics_family(f, "xlvs_ring_slots_held_total", "counter",
			    "Changed ring-state slots a sweep pass kept changed after their window, for an "
			    "entry naming another real than the owner; counted once per pass.");
	xlvs_metrics_sample(f, "xlvs_ring_slots_held_total", NULL, 0, hs.ring_held);
}

static void put_all(FILE *f, const struct scrape *s, struct xlvsd_status *h)
{
	size_t i;

	xlvs_metrics_family(f, "xlvs_up", "gauge", "Whether xlvsd is up (always 1 when it answers).");
	xlvs_metrics_sample(f, "xlvs_up", NULL, 0, 1);
	xlvs_metrics_family(f, "xlvs_build_info", "gauge", "The xlvs version; the value is always 1.");
	sample1(f, "xlvs_build_info", "version", XLVS_VERSION, 1);
	if (h)
		put_status(f, h);
	put_services(f, s);
	put_reals(f, s);
	put_sched_conns(f, s);
	if (h) {
		put_reconciles(f, h);
		put_ring_sweep(f, h);
	}
	if (h && h->extra_metrics)
		h->extra_metrics(f, h->extra_arg);
	xlvs_metrics_family(f, "xlvs_drops_total", "counter",
			    "Packets dropped by the XDP program, by reason.");
	for (i = 0; i < XLVS_DROP_MAX; i++)
		sample1(f, "xlvs_drops_total", "reason", xlvs_drop_names[i], s->drops[i]);
	xlvs_metrics_family(
		f, "xlvs_events_total", "counter",
		"Data-path outcomes other than drops (packets passed to the kernel, guards, ICMP), by event.");
	for (i = 0; i < XLVS_EV_MAX; i++)
		sample1(f, "xlvs_events_total", "event", xlvs_event_names[i], s->events[i]);
	xlvs_metrics_family(f, "xlvs_conn_table_entries", "gauge",
			    "Entries in the connection table (xlvs_conns), whatever real they name.");
	xlvs_metrics_sample(f, "xlvs_conn_table_entries", NULL, 0, s->table.entries);
	xlvs_metrics_family(f, "xlvs_conn_table_capacity", "gauge",
			    "Entries the connection table can hold (its max_entries, conn_table_size).");
	xlvs_metrics_sample(f, "xlvs_conn_table_capacity", NULL, 0, s->table.capacity);
}

int xlvs_metrics_render(struct xlvs_maps *m, struct xlvsd_status *h, char **out, size_t *len)
{
	struct scrape s;
	FILE *f;
	int err;

	if (!out || !len)
		return -EINVAL;
	*out = NULL;
	*len = 0;
	if (!m)
		return -EINVAL;
	memset(&s, 0, sizeof(s));
	err = collect(m, &s);
	if (!err) {
		f = open_memstream(out, len);
		if (!f) {
			err = -errno;
		} else {
			put_all(f, &s, h);
			if (ferror(f))
				err = -ENOMEM;
			if (fclose(f) && !err)
				err = -ENOMEM;
		}
	}
	scrape_free(&s);
	if (err) {
		free(*out);
		*out = NULL;
		*len = 0;
	}
	return err;
}

/* ---- HTTP ---- */

struct xlvs_metrics {
	struct MHD_Daemon *d;
	struct xlvs_maps *m;
	struct xlvsd_status *h;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int code, const char *type, char *body,
			     size_t len, enum MHD_ResponseMemoryMode mode, const char *allow)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO; /* MHD closes the connection */
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned int code, const char *msg,
				  const char *allow)
{
	return reply(c, code, "text/plain; charset=utf-8", (char *)msg, strlen(msg), MHD_RESPMEM_PERSISTENT,
		     allow);
}

/* Runs on libmicrohttpd's thread, one request at a time. */
static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **req)
{
	struct xlvs_metrics *mx = cls;
	size_t len;
	char *body;

	if (!url || strcmp(url, "/metrics"))
		return reply_text(c, MHD_HTTP_NOT_FOUND, "not found: metrics are at /metrics\n", NULL);
	if (!method || (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)))
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n", "GET, HEAD");
	if (xlvs_metrics_render(mx->m, mx->h, &body, &len))
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read the xlvs maps\n", NULL);
	return reply(c, MHD_HTTP_OK, XLVS_METRICS_CONTENT_TYPE, body, len, MHD_RESPMEM_MUST_FREE, NULL);
}

static int listen_port(const char *text, in_port_t *port)
{
	unsigned long p;
	char *end;

	if (!isdigit((unsigned char)*text))
		return -EINVAL;
	errno = 0;
	p = strtoul(text, &end, 10);
	if (errno || *end || p == 0 || p > 65535)
		return -EINVAL;
	*port = htons((uint16_t)p);
	return 0;
}

int xlvs_metrics_parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *sslen)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_STREAM }, *ai;
	const char *sep, *port = listen;
	char host[64] = "127.0.0.1";
	bool v6 = false;
	in_port_t p;
	size_t n;

	if (!listen || !ss || !sslen)
		return -EINVAL;
	if (listen[0] == '[') { /* [v6]:port */
		sep = strchr(listen, ']');
		if (!sep || sep[1] != ':')
			return -EINVAL;
		n = (size_t)(sep - listen - 1);
		port = sep + 2;
		v6 = true;
	} else if ((sep = strchr(listen, ':'))) { /* v4:port or :port */
		n = (size_t)(sep - listen);
		port = sep + 1;
	} else {
		n = 0; /* port alone */
	}
	if (n >= sizeof(host) || listen_port(port, &p) || (v6 && !n))
		return -EINVAL;
	if (n || v6)
		snprintf(host, sizeof(host), "%.*s", (int)n, listen + (v6 ? 1 : 0));
	hints.ai_family = v6 ? AF_INET6 : AF_INET;
	if (getaddrinfo(host, NULL, &hints, &ai))
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sslen = ai->ai_addrlen;
	freeaddrinfo(ai);
	if (v6)
		((struct sockaddr_in6 *)ss)->sin6_port = p;
	else
		((struct sockaddr_in *)ss)->sin_port = p;
	return 0;
}

/* Our own listening socket: bind errors come back exact, and [::] means IPv6 only. */
static int listen_socket(const struct sockaddr_storage *ss, socklen_t sslen)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1, err;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (ss->ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))) ||
	    bind(fd, (const struct sockaddr *)ss, sslen) || listen(fd, METRICS_CONN_LIMIT)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int xlvs_metrics_start(struct xlvs_metrics **out, const char *listen, struct xlvs_maps *m,
		       struct xlvsd_status *h)
{
	unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD;
	struct xlvs_metrics *mx;
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fd, err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!m)
		return -EINVAL;
	err = xlvs_metrics_parse_listen(listen, &ss, &sslen);
	if (err)
		return err;
	mx = calloc(1, sizeof(*mx));
	if (!mx)
		return -ENOMEM;
	mx->m = m;
	mx->h = h;
	fd = listen_socket(&ss, sslen);
	if (fd < 0) {
		free(mx);
		return fd;
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	mx->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, mx, MHD_OPTION_LISTEN_SOCKET, fd,
				 MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICS_CONN_LIMIT,
				 MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)METRICS_CONN_PER_IP,
				 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)METRICS_CONN_TIMEOUT,
				 MHD_OPTION_END);
	if (!mx->d) {
		err = errno ? -errno : -EIO;
		close(fd);
		free(mx);
		return err;
	}
	*out = mx;
	return 0;
}

/* Joins the server thread; the listening socket is closed with it. */
void xlvs_metrics_stop(struct xlvs_metrics *mx)
{
	if (!mx)
		return;
	MHD_stop_daemon(mx->d);
	free(mx);
}
