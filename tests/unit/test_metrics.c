// SPDX-License-Identifier: GPL-2.0
/*
 * Prometheus exporter (loader/daemon/metrics.c): the exposition rendered from real
 * maps (skeleton loaded unpinned, services written by xlvs_apply, per-CPU
 * counters written by hand), checked line by line and against the format
 * rules; the HTTP server over a plain socket. Needs root (BPF maps).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "daemon/status.h"
#include "daemon/metrics.h"
#include "xlvsmaps.h"
#include "helpers.h"
#include "xlvs_lb.skel.h"

#define ULL(x) ((unsigned long long)(x))

#ifndef XLVS_VERSION
#define XLVS_VERSION "0.1.0"
#endif

struct mxenv {
	struct xlvs_lb_bpf *skel;
	struct xlvs_maps m;
	struct xlvsd_status h;
	int ncpus;
	uint32_t svc_a, real_a1, real_a2; /* ids xlvs_apply gave */
};

static void addr(const char *text, struct xlvs_addr *a)
{
	cr_assert(xlvs_addr_parse(text, a) == 0, "bad address %s", text);
}

/*
 * A: 198.18.0.10 tcp/80, DR reals 198.18.1.1 (weight 3) and 198.18.1.2 (1);
 * B: [2001:db8::10] udp/53, TUN real 2001:db8:1::1 (5); C: 198.18.0.11 tcp/any, one drained real.
 */
static void apply_services(struct mxenv *e)
{
	struct xlvs_real_spec ra[2] = {
		{ .weight = 3, .fwd = XLVS_FWD_DR },
		{ .weight = 1, .fwd = XLVS_FWD_DR },
	};
	struct xlvs_real_spec rb[1] = { { .weight = 5, .fwd = XLVS_FWD_TUN } };
	struct xlvs_real_spec rc[1] = { { .weight = 0, .fwd = XLVS_FWD_DR } };
	struct xlvs_svc_spec s[3] = {
		{ .proto = IPPROTO_TCP, .port = 80, .ring_size = 251, .nr_reals = 2, .reals = ra },
		{ .proto = IPPROTO_UDP,
		  .port = 53,
		  .ring_size = 251,
		  .nr_reals = 1,
		  .reals = rb,
		  .fwd = XLVS_FWD_TUN },
		{ .proto = IPPROTO_TCP, .port = 0, .ring_size = 251, .nr_reals = 1, .reals = rc },
	};
	struct xlvs_spec spec = { .nr_services = 3, .services = s };
	struct xlvs_apply_stats st;
	struct xlvs_state state;
	size_t i, k;

	addr("198.18.0.10", &s[0].vip);
	addr("2001:db8::10", &s[1].vip);
	addr("198.18.0.11", &s[2].vip);
	addr("198.18.1.1", &ra[0].addr);
	addr("198.18.1.2", &ra[1].addr);
	addr("2001:db8:1::1", &rb[0].addr);
	addr("198.18.1.3", &rc[0].addr);
	for (i = 0; i < 3; i++)
		for (k = 0; k < s[i].nr_reals; k++)
			s[i].reals[k].port = s[i].port;
	cr_assert_eq(xlvs_apply(&e->m, &spec, &st), 0, "xlvs_apply");

	cr_assert_eq(xlvs_state_read(&e->m, &state), 0);
	cr_assert_eq(state.nr_services, 3);
	for (i = 0; i < state.nr_services; i++) {
		const struct xlvs_svc_state *ss = &state.services[i];

		if (ss->key.family != XLVS_AF_INET || ss->key.port != htons(80))
			continue;
		e->svc_a = ss->svc.id;
		cr_assert_eq(ss->nr_reals, 2);
		for (k = 0; k < 2; k++) {
			if (ss->reals[k].real.addr[0] == ra[0].addr.be[0])
				e->real_a1 = ss->reals[k].id;
			else
				e->real_a2 = ss->reals[k].id;
		}
	}
	xlvs_state_free(&state);
}

static void env_up(struct mxenv *e)
{
	memset(e, 0, sizeof(*e));
	e->skel = unit_director_load(1024, 1024, &e->m);
	e->ncpus = libbpf_num_possible_cpus();
	cr_assert(e->ncpus > 0);
	xlvsd_status_init(&e->h);
	e->h.start_time = 1700000000;
	e->h.reloads_ok = 3;
	e->h.reloads_failed = 1;
	e->h.last_reload_time = 1700000100;
	e->h.last_reload_ok = false;
	e->h.services = 3;
	e->h.reals = 4;
	apply_services(e);
}

static void env_down(struct mxenv *e)
{
	xlvs_maps_close(&e->m);
	xlvs_lb_bpf__destroy(e->skel);
}

/* Per-CPU counters: c on CPU 0 and twice c on the last CPU. Returns the sum a reader sees. */
static struct xlvs_counters put_counters(struct mxenv *e, int fd, uint32_t stride, uint32_t id,
					 struct xlvs_counters c)
{
	struct xlvs_counters *v = calloc((size_t)e->ncpus, sizeof(*v)), sum = c;

	cr_assert(v);
	v[0] = c;
	if (e->ncpus > 1) {
		v[e->ncpus - 1] = (struct xlvs_counters){ 2 * c.packets, 2 * c.bytes, 2 * c.new_flows };
		sum = (struct xlvs_counters){ 3 * c.packets, 3 * c.bytes, 3 * c.new_flows };
	}
	unit_stripes_put(fd, stride, id, v, sizeof(*v));
	free(v);
	return sum;
}

static uint64_t put_u64(struct mxenv *e, int fd, uint32_t stride, uint32_t id, uint64_t x)
{
	uint64_t *v = calloc((size_t)e->ncpus, sizeof(*v)), sum = x;

	cr_assert(v);
	v[0] = x;
	if (e->ncpus > 1) {
		v[e->ncpus - 1] = 2 * x;
		sum = 3 * x;
	}
	unit_stripes_put(fd, stride, id, v, sizeof(*v));
	free(v);
	return sum;
}

/* n connection entries of real id 0: what the table holds, not whom they name, is counted. */
static void put_conns(struct mxenv *e, uint32_t n)
{
	struct xlvs_flow f = { .family = XLVS_AF_INET, .proto = IPPROTO_TCP, .dport = htons(80) };
	struct xlvs_conn c = { .state = XLVS_CONN_OPEN };
	uint32_t i;

	for (i = 0; i < n; i++) {
		f.src[0] = htonl(0xc6126400 + i);
		cr_assert_eq(bpf_map_update_elem(e->m.conns, &f, &c, BPF_NOEXIST), 0, "%s", strerror(errno));
	}
}

/* n entries in state st made for real id (its current generation), from client ports base.. */
static void put_real_conns(struct mxenv *e, uint32_t id, uint8_t st, uint16_t base, uint32_t n)
{
	struct xlvs_flow f = { .family = XLVS_AF_INET, .proto = IPPROTO_TCP, .dport = htons(80) };
	struct xlvs_conn c = { .real_id = id, .state = st };
	struct xlvs_real r;
	uint32_t i;

	cr_assert_eq(bpf_map_lookup_elem(e->m.reals, &id, &r), 0, "%s", strerror(errno));
	c.real_gen = r.gen;
	f.src[0] = htonl(0xc6126500);
	for (i = 0; i < n; i++) {
		f.sport = htons(base + i);
		cr_assert_eq(bpf_map_update_elem(e->m.conns, &f, &c, BPF_NOEXIST), 0, "%s", strerror(errno));
	}
}

static char *render(struct mxenv *e, struct xlvsd_status *h)
{
	size_t len;
	char *out;

	cr_assert_eq(xlvs_metrics_render(&e->m, h, &out, &len), 0);
	cr_assert(out);
	cr_assert_eq(strlen(out), len);
	return out;
}

static bool has_line(const char *body, const char *line)
{
	size_t n = strlen(line);
	const char *p = body;

	while ((p = strstr(p, line))) {
		if ((p == body || p[-1] == '\n') && p[n] == '\n')
			return true;
		p += n;
	}
	return false;
}

static void expect_line(const char *body, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void expect_line(const char *body, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	cr_assert(has_line(body, line), "missing line: %s\n--- exposition ---\n%s", line, body);
}

static size_t count_prefix(const char *body, const char *prefix)
{
	size_t n = 0, len = strlen(prefix);
	const char *p = body;

	for (; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p))
		n += !strncmp(p, prefix, len);
	return n;
}

/* ---- a checker for the text format (version 0.0.4) ---- */

#define MAX_FAM	   128
#define MAX_SERIES 1024

struct fmt_state {
	char fam[MAX_FAM][64];
	bool help[MAX_FAM], type[MAX_FAM];
	size_t nfam;
	long cur; /* family whose samples may follow, -1 none */
	char *series[MAX_SERIES];
	size_t nseries;
};

static long fam_idx(struct fmt_state *s, const char *name, bool add)
{
	size_t i;

	for (i = 0; i < s->nfam; i++)
		if (!strcmp(s->fam[i], name))
			return (long)i;
	if (!add)
		return -1;
	cr_assert(s->nfam < MAX_FAM && strlen(name) < 64);
	snprintf(s->fam[s->nfam], 64, "%s", name);
	return (long)s->nfam++;
}

static const char *metric_name(const char *p, char *name, size_t size)
{
	size_t n = 0;

	cr_assert(isalpha((unsigned char)*p) || *p == '_' || *p == ':', "bad name start: %s", p);
	while (isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == ':')
		n++;
	cr_assert(n < size);
	memcpy(name, p, n);
	name[n] = '\0';
	return p + n;
}

static void check_comment(struct fmt_state *s, const char *line)
{
	char name[64];
	const char *p;
	long i;

	if (!strncmp(line, "# HELP ", 7)) {
		p = metric_name(line + 7, name, sizeof(name));
		cr_assert(*p == ' ' && p[1], "HELP without text: %s", line);
		i = fam_idx(s, name, true);
		cr_assert(!s->help[i], "second HELP for %s", name);
		s->help[i] = true;
	} else if (!strncmp(line, "# TYPE ", 7)) {
		p = metric_name(line + 7, name, sizeof(name));
		cr_assert(!strcmp(p, " counter") || !strcmp(p, " gauge"), "bad TYPE line: %s", line);
		i = fam_idx(s, name, true);
		cr_assert(!s->type[i], "second TYPE for %s", name);
		cr_assert(!strcmp(p, " gauge") || strstr(name, "_total"), "counter %s lacks _total", name);
		s->type[i] = true;
		s->cur = i;
	} else {
		cr_assert_fail("unexpected comment: %s", line);
	}
}

/* name{l="v",...} value: labels well formed, values properly escaped, series unique. */
static void check_sample(struct fmt_state *s, const char *line)
{
	char name[64], lname[64];
	const char *p = metric_name(line, name, sizeof(name)), *v;
	size_t i;

	cr_assert(s->cur >= 0 && !strcmp(s->fam[s->cur], name),
		  "sample %s outside its family (HELP/TYPE first, samples together)", line);
	if (*p == '{') {
		do {
			p = metric_name(p + 1, lname, sizeof(lname));
			cr_assert(p[0] == '=' && p[1] == '"', "bad label in %s", line);
			for (p += 2; *p != '"'; p++) {
				cr_assert(*p && *p != '\n', "unterminated label value in %s", line);
				if (*p == '\\') {
					cr_assert(p[1] == '\\' || p[1] == '"' || p[1] == 'n',
						  "bad escape in %s", line);
					p++;
				}
			}
			p++;
		} while (*p == ',');
		cr_assert(*p == '}', "bad label set in %s", line);
		p++;
	}
	cr_assert(*p == ' ', "no value in %s", line);
	for (v = p + 1; *v; v++)
		cr_assert(isdigit((unsigned char)*v), "value not an integer in %s", line);
	cr_assert(v > p + 1, "empty value in %s", line);
	for (i = 0; i < s->nseries; i++)
		cr_assert(strncmp(s->series[i], line, (size_t)(p - line)) || s->series[i][p - line] != ' ',
			  "duplicate series: %s", line);
	cr_assert(s->nseries < MAX_SERIES);
	s->series[s->nseries++] = strndup(line, (size_t)(p - line) + 1);
}

static void check_format(const char *body)
{
	struct fmt_state *s = calloc(1, sizeof(*s));
	char *copy = strdup(body), *line, *save;
	size_t i;

	cr_assert(s && copy);
	s->cur = -1;
	cr_assert(*body && body[strlen(body) - 1] == '\n', "exposition must end with a newline");
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			check_comment(s, line);
		else
			check_sample(s, line);
	}
	for (i = 0; i < s->nfam; i++)
		cr_assert(s->help[i] && s->type[i], "%s lacks HELP or TYPE", s->fam[i]);
	for (i = 0; i < s->nseries; i++)
		free(s->series[i]);
	free(s);
	free(copy);
}

/* ---- tests ---- */

Test(metrics, escape)
{
	char b[64];

	cr_assert_eq(xlvs_metrics_escape(b, sizeof(b), "plain 1.2"), 9);
	cr_assert_str_eq(b, "plain 1.2");
	cr_assert_eq(xlvs_metrics_escape(b, sizeof(b), "a\\b\"c\nd"), 10);
	cr_assert_str_eq(b, "a\\\\b\\\"c\\nd");
	cr_assert_eq(xlvs_metrics_escape(b, 4, "a\"b\"c"), 7); /* truncated, like snprintf */
	cr_assert_str_eq(b, "a\\\"");
	cr_assert_eq(xlvs_metrics_escape(NULL, 0, "\\"), 2);
	cr_assert_eq(xlvs_metrics_escape(b, sizeof(b), ""), 0);
	cr_assert_str_eq(b, "");
}

Test(metrics, parse_listen)
{
	static const char *bad[] = {
		"",
		":",
		"0",
		"65536",
		"127.0.0.1",
		"127.0.0.1:",
		"127.0.0.1:0",
		"127.0.0.1:x",
		"127.0.0.1:80x",
		"::1:9105",
		"[::1]",
		"[::1]9105",
		"[]:9105",
		"[127.0.0.1]:9105",
		"localhost:9105",
		"1.2.3.4.5:80",
		"[::1]:-1",
		"127.0.0.1:+80",
	};
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (void *)&ss;
	struct sockaddr_in6 *s6 = (void *)&ss;
	char text[64];
	socklen_t len;
	size_t i;

	cr_assert_eq(xlvs_metrics_parse_listen("127.0.0.1:9105", &ss, &len), 0);
	cr_assert(ss.ss_family == AF_INET && len == sizeof(*s4) && s4->sin_port == htons(9105));
	cr_assert_eq(s4->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	cr_assert_eq(xlvs_metrics_parse_listen("9105", &ss, &len), 0); /* loopback by default */
	cr_assert(ss.ss_family == AF_INET && s4->sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	cr_assert_eq(xlvs_metrics_parse_listen(":9106", &ss, &len), 0);
	cr_assert(s4->sin_addr.s_addr == htonl(INADDR_LOOPBACK) && s4->sin_port == htons(9106));
	cr_assert_eq(xlvs_metrics_parse_listen("198.18.0.1:80", &ss, &len), 0);
	cr_assert_str_eq(inet_ntop(AF_INET, &s4->sin_addr, text, sizeof(text)), "198.18.0.1");
	cr_assert_eq(xlvs_metrics_parse_listen("[::1]:9105", &ss, &len), 0);
	cr_assert(ss.ss_family == AF_INET6 && len == sizeof(*s6) && s6->sin6_port == htons(9105));
	cr_assert(IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr));
	cr_assert_eq(xlvs_metrics_parse_listen("[2001:db8::1]:65535", &ss, &len), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(xlvs_metrics_parse_listen(bad[i], &ss, &len), -EINVAL, "accepted '%s'", bad[i]);
	cr_assert_eq(xlvs_metrics_parse_listen(NULL, &ss, &len), -EINVAL);
}

Test(metrics, render_values_and_format, .timeout = 20)
{
	struct xlvs_counters sa, r1, r2;
	const char *svc = "vip=\"198.18.0.10\",port=\"80\",protocol=\"tcp\"";
	const char *b = "vip=\"2001:db8::10\",port=\"53\",protocol=\"udp\"";
	const char *c = "vip=\"198.18.0.11\",port=\"0\",protocol=\"tcp\"";
	uint64_t no_real, conn_new;
	struct mxenv e;
	char *body;
	size_t i;

	env_up(&e);
	sa = put_counters(&e, e.m.svc_stats, XLVS_SVC_STATS_STRIDE, e.svc_a,
			  (struct xlvs_counters){ 10, 1000, 1 });
	r1 = put_counters(&e, e.m.real_stats, XLVS_REAL_STATS_STRIDE, e.real_a1,
			  (struct xlvs_counters){ 7, 700, 1 });
	r2 = put_counters(&e, e.m.real_stats, XLVS_REAL_STATS_STRIDE, e.real_a2,
			  (struct xlvs_counters){ 3, 300, 0 });
	no_real = put_u64(&e, e.m.drops, XLVS_DROP_SLOTS, XLVS_DROP_NO_REAL, 4);
	conn_new = put_u64(&e, e.m.events, XLVS_EV_SLOTS, XLVS_EV_CONN_NEW, 5);
	put_conns(&e, 3);
	put_real_conns(&e, e.real_a1, XLVS_CONN_OPEN, 1000, 2);
	put_real_conns(&e, e.real_a1, XLVS_CONN_CLOSING, 2000, 1);
	put_real_conns(&e, e.real_a2, XLVS_CONN_SYN, 3000, 4);
	e.h.ring_cleared = 17; /* the sweep's totals, as loader/daemon/sweep.c reports them */
	e.h.ring_held = 5;
	body = render(&e, &e.h);
	check_format(body);
	expect_line(body, "# TYPE xlvs_real_active_connections gauge");
	expect_line(body, "xlvs_real_active_connections{%s,real=\"198.18.1.1\"} 2", svc);
	expect_line(body, "xlvs_real_inactive_connections{%s,real=\"198.18.1.1\"} 1", svc);
	expect_line(body, "xlvs_real_active_connections{%s,real=\"198.18.1.2\"} 0", svc);
	expect_line(body, "xlvs_real_inactive_connections{%s,real=\"198.18.1.2\"} 4", svc);

	expect_line(body, "# TYPE xlvs_up gauge");
	expect_line(body, "xlvs_up 1");
	expect_line(body, "xlvs_build_info{version=\"%s\"} 1", XLVS_VERSION);
	expect_line(body, "xlvs_daemon_start_time_seconds 1700000000");
	expect_line(body, "# TYPE xlvs_daemon_reloads_total counter");
	expect_line(body, "xlvs_daemon_reloads_total{result=\"ok\"} 3");
	expect_line(body, "xlvs_daemon_reloads_total{result=\"failed\"} 1");
	expect_line(body, "xlvs_daemon_last_reload_success 0");
	expect_line(body, "xlvs_daemon_last_reload_time_seconds 1700000100");
	expect_line(body, "xlvs_daemon_services 3");
	expect_line(body, "xlvs_daemon_reals 4");
	expect_line(body, "# TYPE xlvs_ring_slots_cleared_total counter");
	expect_line(body, "xlvs_ring_slots_cleared_total 17");
	expect_line(body, "# TYPE xlvs_ring_slots_held_total counter");
	expect_line(body, "xlvs_ring_slots_held_total 5");

	expect_line(body, "# TYPE xlvs_service_packets_total counter");
	expect_line(body, "xlvs_service_packets_total{%s} %llu", svc, ULL(sa.packets));
	expect_line(body, "xlvs_service_bytes_total{%s} %llu", svc, ULL(sa.bytes));
	expect_line(body, "xlvs_service_connections_total{%s} %llu", svc, ULL(sa.new_flows));
	expect_line(body, "xlvs_service_packets_total{%s} 0", b);
	expect_line(body, "xlvs_service_packets_total{%s} 0", c);
	expect_line(body, "xlvs_real_packets_total{%s,real=\"198.18.1.1\"} %llu", svc, ULL(r1.packets));
	expect_line(body, "xlvs_real_bytes_total{%s,real=\"198.18.1.1\"} %llu", svc, ULL(r1.bytes));
	expect_line(body, "xlvs_real_connections_total{%s,real=\"198.18.1.1\"} %llu", svc, ULL(r1.new_flows));
	expect_line(body, "xlvs_real_packets_total{%s,real=\"198.18.1.2\"} %llu", svc, ULL(r2.packets));
	expect_line(body, "xlvs_real_connections_total{%s,real=\"198.18.1.2\"} 0", svc);
	expect_line(body, "# TYPE xlvs_real_weight gauge");
	expect_line(body, "xlvs_real_weight{%s,real=\"198.18.1.1\"} 3", svc);
	expect_line(body, "xlvs_real_weight{%s,real=\"198.18.1.2\"} 1", svc);
	expect_line(body, "xlvs_real_weight{%s,real=\"2001:db8:1::1\"} 5", b);
	expect_line(body, "xlvs_real_weight{%s,real=\"198.18.1.3\"} 0", c);

	expect_line(body, "# TYPE xlvs_drops_total counter");
	expect_line(body, "xlvs_drops_total{reason=\"no_real\"} %llu", ULL(no_real));
	expect_line(body, "xlvs_events_total{event=\"conn_new\"} %llu", ULL(conn_new));
	for (i = 0; i < XLVS_DROP_MAX; i++)
		if (i != XLVS_DROP_NO_REAL)
			expect_line(body, "xlvs_drops_total{reason=\"%s\"} 0", xlvs_drop_names[i]);
	for (i = 0; i < XLVS_EV_MAX; i++)
		if (i != XLVS_EV_CONN_NEW)
			expect_line(body, "xlvs_events_total{event=\"%s\"} 0", xlvs_event_names[i]);
	cr_assert_eq(count_prefix(body, "xlvs_drops_total{"), XLVS_DROP_MAX);
	cr_assert_eq(count_prefix(body, "xlvs_events_total{"), XLVS_EV_MAX);
	cr_assert_eq(count_prefix(body, "xlvs_service_packets_total{"), 3);
	cr_assert_eq(count_prefix(body, "xlvs_real_weight{"), 4);
	cr_assert_eq(count_prefix(body, "# HELP xlvs_drops_total "), 1);
	cr_assert_eq(count_prefix(body, "# TYPE xlvs_real_packets_total "), 1);
	expect_line(body, "# TYPE xlvs_conn_table_entries gauge");
	expect_line(body, "xlvs_conn_table_entries 10");
	expect_line(body, "# TYPE xlvs_conn_table_capacity gauge");
	expect_line(body, "xlvs_conn_table_capacity 1024");
	free(body);
	env_down(&e);
}

/* The NAT replies' counters (xlvs_svc_out, xlvs_real_out): families of their own, never the forwarded ones. */
Test(metrics, render_nat_reply_counters, .timeout = 20)
{
	struct xlvs_counters fwd, so, ro;
	const char *svc = "vip=\"198.18.0.10\",port=\"80\",protocol=\"tcp\"";
	const char *b = "vip=\"2001:db8::10\",port=\"53\",protocol=\"udp\"";
	struct mxenv e;
	char *body;

	env_up(&e);
	fwd = put_counters(&e, e.m.svc_stats, XLVS_SVC_STATS_STRIDE, e.svc_a,
			   (struct xlvs_counters){ 10, 1000, 1 });
	so = put_counters(&e, e.m.svc_out, XLVS_SVC_STATS_STRIDE, e.svc_a,
			  (struct xlvs_counters){ 40, 52000, 0 });
	ro = put_counters(&e, e.m.real_out, XLVS_REAL_STATS_STRIDE, e.real_a2,
			  (struct xlvs_counters){ 40, 52000, 0 });
	body = render(&e, &e.h);
	check_format(body);
	expect_line(body, "# TYPE xlvs_service_out_packets_total counter");
	expect_line(body, "# TYPE xlvs_service_out_bytes_total counter");
	expect_line(body, "# TYPE xlvs_real_out_packets_total counter");
	expect_line(body, "# TYPE xlvs_real_out_bytes_total counter");
	expect_line(body, "xlvs_service_out_packets_total{%s} %llu", svc, ULL(so.packets));
	expect_line(body, "xlvs_service_out_bytes_total{%s} %llu", svc, ULL(so.bytes));
	expect_line(body, "xlvs_service_out_packets_total{%s} 0", b);
	expect_line(body, "xlvs_service_packets_total{%s} %llu", svc, ULL(fwd.packets));
	expect_line(body, "xlvs_real_out_packets_total{%s,real=\"198.18.1.2\"} %llu", svc, ULL(ro.packets));
	expect_line(body, "xlvs_real_out_bytes_total{%s,real=\"198.18.1.2\"} %llu", svc, ULL(ro.bytes));
	expect_line(body, "xlvs_real_out_packets_total{%s,real=\"198.18.1.1\"} 0", svc);
	expect_line(body, "xlvs_real_packets_total{%s,real=\"198.18.1.2\"} 0", svc);
	cr_assert_eq(count_prefix(body, "xlvs_service_out_packets_total{"), 3);
	cr_assert_eq(count_prefix(body, "xlvs_real_out_bytes_total{"), 4);
	cr_assert_eq(count_prefix(body, "# HELP xlvs_real_out_packets_total "), 1);
	free(body);
	env_down(&e);
}

Test(metrics, render_without_health_and_errors, .timeout = 20)
{
	struct xlvs_maps bad;
	struct mxenv e;
	size_t len = 1;
	char *body = (char *)1;

	env_up(&e);
	e.h.last_reload_time = 0; /* never reloaded: nothing failed */
	body = render(&e, &e.h);
	expect_line(body, "xlvs_daemon_last_reload_success 1");
	free(body);
	body = render(&e, NULL);
	check_format(body);
	cr_assert_null(strstr(body, "xlvs_daemon_"));
	cr_assert_null(strstr(body, "xlvs_ring_slots_"), "the sweep's figures come with the daemon's");
	expect_line(body, "xlvs_up 1");
	expect_line(body, "xlvs_conn_table_entries 0");
	free(body);

	memset(&bad, 0xff, sizeof(bad)); /* no maps at all */
	cr_assert_lt(xlvs_metrics_render(&bad, NULL, &body, &len), 0);
	cr_assert_null(body);
	cr_assert_eq(len, 0);
	cr_assert_eq(xlvs_metrics_render(NULL, NULL, &body, &len), -EINVAL);
	cr_assert_eq(xlvs_metrics_render(&e.m, NULL, NULL, &len), -EINVAL);
	env_down(&e);
}

/* ---- HTTP ---- */

/* Start on host:port with a port from 20000-60000, retrying ports in use. */
static int start_anywhere(struct mxenv *e, struct xlvs_metrics **mx, const char *host, bool brackets)
{
	char listen[80];
	int i, port, err = -EADDRINUSE;

	srand((unsigned int)getpid());
	for (i = 0; i < 50 && err == -EADDRINUSE; i++) {
		port = 20000 + rand() % 40001;
		snprintf(listen, sizeof(listen), brackets ? "[%s]:%d" : "%s:%d", host, port);
		err = xlvs_metrics_start(mx, listen, &e->m, &e->h);
	}
	cr_assert_eq(err, 0, "xlvs_metrics_start %s: %s", listen, strerror(-err));
	return port;
}

/* One HTTP/1.0 request over a plain socket; the whole response (malloc'ed). */
static char *http(int af, int port, const char *request)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (void *)&ss;
	struct sockaddr_in6 *s6 = (void *)&ss;
	struct timeval tmo = { .tv_sec = 5 };
	size_t n = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	ssize_t got;
	int fd;

	cr_assert(buf);
	ss.ss_family = (sa_family_t)af;
	if (af == AF_INET) {
		s4->sin_port = htons((uint16_t)port);
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		s6->sin6_port = htons((uint16_t)port);
		s6->sin6_addr = in6addr_loopback;
	}
	fd = socket(af, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	cr_assert_eq(connect(fd, (struct sockaddr *)&ss, af == AF_INET ? sizeof(*s4) : sizeof(*s6)), 0,
		     "connect: %s", strerror(errno));
	cr_assert_eq(send(fd, request, strlen(request), 0), (ssize_t)strlen(request));
	while ((got = recv(fd, buf + n, cap - n - 1, 0)) > 0) {
		n += (size_t)got;
		if (n + 1 == cap) {
			buf = realloc(buf, cap *= 2);
			cr_assert(buf);
		}
	}
	buf[n] = '\0';
	close(fd);
	return buf;
}

static int status_of(const char *resp)
{
	int code = 0;

	sscanf(resp, "HTTP/1.%*d %d", &code);
	return code;
}

Test(metrics, http_ipv4, .timeout = 20)
{
	struct xlvs_metrics *mx, *again;
	struct mxenv e;
	char listen[32];
	char *r;
	int port;

	env_up(&e);
	port = start_anywhere(&e, &mx, "127.0.0.1", false);

	r = http(AF_INET, port, "GET /metrics HTTP/1.0\r\n\r\n");
	cr_assert_eq(status_of(r), 200, "response: %s", r);
	cr_assert(strcasestr(r, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), "%s", r);
	cr_assert(strstr(r, "\r\n\r\n# HELP xlvs_up "), "%s", r);
	cr_assert(has_line(r, "xlvs_daemon_reloads_total{result=\"ok\"} 3"));
	check_format(strstr(r, "\r\n\r\n") + 4);
	free(r);

	r = http(AF_INET, port, "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
	cr_assert_eq(status_of(r), 200, "response: %s", r);
	free(r);
	r = http(AF_INET, port, "GET /other HTTP/1.0\r\n\r\n");
	cr_assert_eq(status_of(r), 404, "response: %s", r);
	free(r);
	r = http(AF_INET, port, "GET / HTTP/1.0\r\n\r\n");
	cr_assert_eq(status_of(r), 404, "response: %s", r);
	free(r);
	r = http(AF_INET, port, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(status_of(r), 405, "response: %s", r);
	free(r);
	r = http(AF_INET, port, "HEAD /metrics HTTP/1.0\r\n\r\n");
	cr_assert_eq(status_of(r), 200, "response: %s", r);
	cr_assert_null(strstr(r, "xlvs_up"), "HEAD with a body");
	free(r);

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	cr_assert_eq(xlvs_metrics_start(&again, listen, &e.m, &e.h), -EADDRINUSE);
	cr_assert_null(again);
	xlvs_metrics_stop(mx);
	cr_assert_eq(xlvs_metrics_start(&again, listen, &e.m, &e.h), 0, "port not released by stop");
	xlvs_metrics_stop(again);
	env_down(&e);
}

Test(metrics, http_ipv6_and_bad_listen, .timeout = 20)
{
	struct xlvs_metrics *mx;
	struct mxenv e;
	char *r;
	int port;

	env_up(&e);
	cr_assert_eq(xlvs_metrics_start(&mx, "localhost:9105", &e.m, &e.h), -EINVAL);
	cr_assert_eq(xlvs_metrics_start(&mx, "127.0.0.1:9105", NULL, &e.h), -EINVAL);
	cr_assert_eq(xlvs_metrics_start(NULL, "127.0.0.1:9105", &e.m, &e.h), -EINVAL);
	xlvs_metrics_stop(NULL);

	port = start_anywhere(&e, &mx, "::1", true);
	r = http(AF_INET6, port, "GET /metrics HTTP/1.0\r\n\r\n");
	cr_assert_eq(status_of(r), 200, "response: %s", r);
	cr_assert(has_line(r, "xlvs_up 1"));
	free(r);
	xlvs_metrics_stop(mx);
	env_down(&e);
}

/* A connection from 127.0.0.1 that sent half a request and waits. */
static int trickler(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	static const char half[] = "GET /metrics HTTP/1.1\r\nHost: a\r\nX-Slow: ";
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert(fd >= 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect: %s", strerror(errno));
	cr_assert_eq(send(fd, half, sizeof(half) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(half) - 1);
	return fd;
}

/* GET /metrics from source address 127.0.0.2 (another host, as far as the server knows). */
static int scrape_from_other(int port)
{
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000002) };
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	struct timeval tmo = { .tv_sec = 3 };
	char buf[4096] = "";
	int fd = socket(AF_INET, SOCK_STREAM, 0), code = 0;
	ssize_t n;

	cr_assert(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	cr_assert_eq(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0, "bind 127.0.0.2: %s",
		     strerror(errno));
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) == (ssize_t)sizeof(req) - 1 &&
	    (n = recv(fd, buf, sizeof(buf) - 1, 0)) > 0)
		sscanf(buf, "HTTP/1.%*d %d", &code);
	close(fd);
	return code;
}

/* 24 connections that trickle their headers from one address: another is still served. */
Test(metrics, trickling_clients_do_not_block_scrapes, .timeout = 30)
{
	struct xlvs_metrics *mx;
	struct mxenv e;
	int fds[24], i, port, code;

	env_up(&e);
	port = start_anywhere(&e, &mx, "127.0.0.1", false);
	for (i = 0; i < 24; i++)
		fds[i] = trickler(port);
	usleep(200 * 1000);
	code = scrape_from_other(port);
	cr_expect_eq(code, 200, "scrape with 24 trickling clients: status %d", code);
	for (i = 0; i < 24; i++)
		close(fds[i]);
	xlvs_metrics_stop(mx);
	env_down(&e);
}
