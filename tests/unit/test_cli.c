// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the xlvs CLI (cli/): the one printer, the formatters against
 * a hand-built state (exact text, parsed JSON), argument parsing errors and
 * exit codes through xlvs_main(), and the control socket client against a
 * forked fake daemon; the listings test reads maps pinned on a private bpffs.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <jansson.h>

#include "args.h"
#include "xlvsctl.h"
#include "fmt.h"
#include "print.h"
#include "helpers.h"
#include "ringio.h"
#include "xlvs.h"
#include "xlvs_lb.skel.h"

/* What every runtime change made through xlvsd says on stderr (item 5 of issue 14). */
#define RUNTIME_NOTE                                                                                          \
	"xlvs: note: runtime change only: `xlvs reload` or an xlvsd restart reverts it to the configuration " \
	"file (`xlvs save` prints the running state)\n"

/* ---- capture ------------------------------------------------------------- */

struct cap {
	FILE *f;
	char *buf;
	size_t len;
};

static void cap_open(struct cap *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	cr_assert_not_null(c->f);
}

/* Close and return the text (owned by c). */
static const char *cap_text(struct cap *c)
{
	if (c->f) {
		fclose(c->f);
		c->f = NULL;
	}
	return c->buf ? c->buf : "";
}

static void cap_free(struct cap *c)
{
	cap_text(c);
	free(c->buf);
	c->buf = NULL;
}

/* Run xlvs_main on a NULL-terminated list of words. */
struct run {
	int rc;
	struct cap out, err;
};

static void run_v(struct run *r, const char *const *words)
{
	char *argv[64];
	int argc = 0;

	argv[argc++] = (char *)"xlvs";
	while (*words && argc < 63)
		argv[argc++] = (char *)*words++;
	argv[argc] = NULL;
	cap_open(&r->out);
	cap_open(&r->err);
	r->rc = xlvs_main(argc, argv, r->out.f, r->err.f);
	cap_text(&r->out);
	cap_text(&r->err);
}

#define RUN(r, ...) run_v(r, (const char *const[]){ __VA_ARGS__, NULL })

static void run_free(struct run *r)
{
	cap_free(&r->out);
	cap_free(&r->err);
}

static json_t *parse_json(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	cr_assert_not_null(j, "not JSON (%s): %s", e.text, text);
	return j;
}

/* json_object_get over a dotted path with array indexes: "services.0.reals.1.weight"; NULL: absent. */
static json_t *jfind(json_t *j, const char *path)
{
	char buf[256], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && j; tok = strtok_r(NULL, ".", &save))
		j = json_is_array(j) ? json_array_get(j, strtoul(tok, NULL, 10)) : json_object_get(j, tok);
	return j;
}

static json_t *jpath(json_t *j, const char *path)
{
	j = jfind(j, path);
	cr_assert_not_null(j, "no %s", path);
	return j;
}

static long long jint(json_t *j, const char *path)
{
	json_t *v = jpath(j, path);

	cr_assert(json_is_integer(v), "%s is not an integer", path);
	return json_integer_value(v);
}

static const char *jstr(json_t *j, const char *path)
{
	json_t *v = jpath(j, path);

	cr_assert(json_is_string(v), "%s is not a string", path);
	return json_string_value(v);
}

static double jreal(json_t *j, const char *path)
{
	json_t *v = jpath(j, path);

	cr_assert(json_is_number(v), "%s is not a number", path);
	return json_number_value(v);
}

/* ---- a synthetic director ------------------------------------------------ */

#define NR_REAL_IDS 11
#define NR_SVC_IDS  8

static struct xlvs_real_state reals_a[2], reals_b[2];
static struct xlvs_svc_state svcs[2];
static struct xlvs_conn_counts conns[NR_REAL_IDS];
static struct xlvs_counters svc_ctr[NR_SVC_IDS], real_ctr[NR_REAL_IDS];
static struct xlvs_counters svc_out[NR_SVC_IDS],
	real_out[NR_REAL_IDS]; /* NAT replies: none but in nat tests */

static void set_addr(__be32 *be, uint8_t *family, const char *text)
{
	*family = strchr(text, ':') ? XLVS_AF_INET6 : XLVS_AF_INET;
	memset(be, 0, 16);
	cr_assert_eq(inet_pton(*family == XLVS_AF_INET6 ? AF_INET6 : AF_INET, text, be), 1);
}

static void mk_real(struct xlvs_real_state *r, uint32_t id, const char *addr, uint8_t fwd, uint32_t weight,
		    uint32_t svc_id)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	set_addr(r->real.addr, &r->real.family, addr);
	r->real.fwd = fwd;
	r->real.weight = weight;
	r->real.svc_id = svc_id;
	r->real.flags = XLVS_REAL_F_ACTIVE;
}

static void mk_svc(struct xlvs_svc_state *s, uint32_t id, const char *vip, uint16_t port, uint8_t proto,
		   uint8_t sched, uint32_t flags, uint32_t ring_base, uint32_t ring_size)
{
	memset(s, 0, sizeof(*s));
	set_addr(s->key.addr, &s->key.family, vip);
	s->key.port = htons(port);
	s->key.proto = proto;
	s->svc.id = id;
	s->svc.sched = sched;
	s->svc.flags = flags;
	s->svc.ring_base = ring_base;
	s->svc.ring_size = ring_size;
}

/*
 * TCP 198.18.0.10:80 (id 3, maglev, echo): 198.18.1.11 tun w1, 198.18.1.12 dr w2.
 * UDP [2001:db8::10]:53 (id 7, rr): 2001:db8:1::1 gue w3 (port 7777, next hop
 * resolved), 198.18.2.1 tun (6in4) drained.
 */
static struct xlvs_view world(void)
{
	struct xlvs_view s = { 0 };

	mk_svc(&svcs[0], 3, "198.18.0.10", 80, IPPROTO_TCP, XLVS_SCHED_MAGLEV, XLVS_SVC_F_ECHO, 0, 65537);
	mk_real(&reals_a[0], 5, "198.18.1.11", XLVS_FWD_TUN, 1, 3);
	mk_real(&reals_a[1], 6, "198.18.1.12", XLVS_FWD_DR, 2, 3);
	svcs[0].svc.timeout[XLVS_TO_TCP] = 7200; /* its own; tcp_fin and tcp_syn global */
	svcs[0].reals = reals_a;
	svcs[0].nr_reals = 2;
	mk_svc(&svcs[1], 7, "2001:db8::10", 53, IPPROTO_UDP, XLVS_SCHED_RR, 0, 65537, 251);
	mk_real(&reals_b[0], 9, "2001:db8:1::1", XLVS_FWD_GUE, 3, 7);
	reals_b[0].real.gue_port = htons(7777);
	reals_b[0].real.flags |= XLVS_REAL_F_NH_VALID;
	memcpy(reals_b[0].real.nh_mac, "\x02\x00\x00\x00\x00\x09", 6);
	reals_b[0].real.nh_ifindex = 4;
	mk_real(&reals_b[1], 10, "198.18.2.1", XLVS_FWD_TUN, 0, 7);
	svcs[1].reals = reals_b;
	svcs[1].nr_reals = 2;
	s.st.services = svcs;
	s.st.nr_services = 2;

	memset(conns, 0, sizeof(conns));
	conns[5] = (struct xlvs_conn_counts){ 12, 3 };
	conns[6] = (struct xlvs_conn_counts){ 0, 7 };
	conns[9] = (struct xlvs_conn_counts){ 1, 0 };
	s.conns = conns;
	s.nr_conns = NR_REAL_IDS;

	memset(svc_ctr, 0, sizeof(svc_ctr));
	memset(real_ctr, 0, sizeof(real_ctr));
	svc_ctr[3] = (struct xlvs_counters){ .packets = 1000, .bytes = 120000, .new_flows = 15 };
	svc_ctr[7] = (struct xlvs_counters){ .packets = 50, .bytes = 4000, .new_flows = 50 };
	real_ctr[5] = (struct xlvs_counters){ .packets = 600, .bytes = 72000, .new_flows = 10 };
	real_ctr[6] = (struct xlvs_counters){ .packets = 400, .bytes = 48000, .new_flows = 5 };
	real_ctr[9] = (struct xlvs_counters){ .packets = 30, .bytes = 2400, .new_flows = 30 };
	real_ctr[10] = (struct xlvs_counters){ .packets = 20, .bytes = 1600, .new_flows = 20 };
	s.svc_ctr = svc_ctr;
	s.nr_svc_ctr = NR_SVC_IDS;
	s.real_ctr = real_ctr;
	s.nr_real_ctr = NR_REAL_IDS;
	memset(svc_out, 0, sizeof(svc_out));
	memset(real_out, 0, sizeof(real_out));
	s.svc_out = svc_out;
	s.real_out = real_out;

	s.have_drops = true;
	s.drops[XLVS_DROP_NO_REAL] = 5;
	s.drops[XLVS_DROP_IP4_TRUNC] = 2;
	s.events[XLVS_EV_CONN_NEW] = 65;
	s.events[XLVS_EV_CONN_HIT] = 985;
	s.time_ns = 1000000000000ull;
	return s;
}

/* Run a formatter into a string: text, or JSON when json. */
#define FORMAT(json, call)                                                                                   \
	({                                                                                                   \
		struct cap c_;                                                                               \
		struct xp p_;                                                                                \
		char *r_;                                                                                    \
		cap_open(&c_);                                                                               \
		xp_init(&p_, c_.f, json, false);                                                             \
		xp_begin(&p_);                                                                               \
		{                                                                                            \
			struct xp *p = &p_;                                                                  \
			call;                                                                                \
		}                                                                                            \
		cr_assert_eq(xp_end(&p_), 0);                                                                \
		r_ = strdup(cap_text(&c_));                                                                  \
		cap_free(&c_);                                                                               \
		r_;                                                                                          \
	})

/* ---- service list -------------------------------------------------------- */

static const char list_text[] = "Prot VirtualAddress:Port   Scheduler  Flags\n"
				"  -> RealAddress:Port      Forward Weight ActiveConn InActConn\n"
				"TCP  198.18.0.10:80        maglev     echo\n"
				"  -> 198.18.1.11:80        Tunnel  1      12         3\n"
				"  -> 198.18.1.12:80        Route   2      0          7\n"
				"UDP  [2001:db8::10]:53     rr\n"
				"  -> [2001:db8:1::1]:53    GUE     3      1          0\n"
				"  -> 198.18.2.1:53         Tunnel  0      0          0\n";

Test(cli_list, text_table_exact)
{
	struct xlvs_view s = world();
	char *out = FORMAT(false, xlvs_fmt_services(p, &s, 0));

	cr_assert_str_eq(out, list_text);
	free(out);
}

Test(cli_list, print_services_wrapper_matches_formatter)
{
	struct xlvs_view s = world();
	struct cap c;

	cap_open(&c);
	cr_assert_eq(xlvs_print_services(c.f, &s.st, conns, NR_REAL_IDS, 0), 0);
	cr_assert_str_eq(cap_text(&c), list_text);
	cap_free(&c);
}

Test(cli_list, json_fields)
{
	struct xlvs_view s = world();
	char *out = FORMAT(true, xlvs_fmt_services(p, &s, 0));
	json_t *j = parse_json(out);

	cr_assert_eq(json_array_size(jpath(j, "services")), 2);
	cr_assert_eq(jint(j, "services.0.id"), 3);
	cr_assert_str_eq(jstr(j, "services.0.protocol"), "tcp");
	cr_assert_str_eq(jstr(j, "services.0.vip"), "198.18.0.10");
	cr_assert_eq(jint(j, "services.0.port"), 80);
	cr_assert_str_eq(jstr(j, "services.0.scheduler"), "maglev");
	cr_assert_str_eq(jstr(j, "services.0.flags.0"), "echo");
	cr_assert_eq(jint(j, "services.0.ring_size"), 65537);
	cr_assert_str_eq(jstr(j, "services.0.reals.0.address"), "198.18.1.11");
	cr_assert_str_eq(jstr(j, "services.0.reals.0.forward"), "tun");
	cr_assert_eq(jint(j, "services.0.reals.0.weight"), 1);
	cr_assert_eq(jint(j, "services.0.reals.0.active_conns"), 12);
	cr_assert_eq(jint(j, "services.0.reals.0.inactive_conns"), 3);
	cr_assert_str_eq(jstr(j, "services.0.reals.1.forward"), "dr");
	cr_assert_str_eq(jstr(j, "services.1.protocol"), "udp");
	cr_assert_str_eq(jstr(j, "services.1.vip"), "2001:db8::10");
	cr_assert_str_eq(jstr(j, "services.1.scheduler"), "rr");
	cr_assert_eq(json_array_size(jpath(j, "services.1.flags")), 0);
	cr_assert_str_eq(jstr(j, "services.1.reals.0.address"), "2001:db8:1::1");
	cr_assert_str_eq(jstr(j, "services.1.reals.0.forward"), "gue");
	cr_assert_eq(jint(j, "services.1.reals.0.port"), 53);
	cr_assert_eq(jint(j, "services.1.reals.1.weight"), 0);
	/* One JSON document, one line: nothing from the text layout leaks in. */
	cr_assert_eq(strchr(out, '\n'), out + strlen(out) - 1);
	json_decref(j);
	free(out);
}

Test(cli_list, pretty_is_the_same_document)
{
	struct xlvs_view s = world();
	char *compact = FORMAT(true, xlvs_fmt_services(p, &s, 0));
	struct cap c;
	json_t *a, *b;

	cap_open(&c);
	cr_assert_eq(xlvs_print_services(c.f, &s.st, conns, NR_REAL_IDS, XLVS_PRINT_JSON | XLVS_PRINT_PRETTY),
		     0);
	cr_assert_gt(strlen(cap_text(&c)), strlen(compact));
	cr_assert_not_null(strstr(cap_text(&c), "\n  \"services\": [\n"));
	a = parse_json(compact);
	b = parse_json(cap_text(&c));
	cr_assert(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	cap_free(&c);
	free(compact);
}

Test(cli_list, without_conn_counts_shows_dashes)
{
	struct xlvs_view s = world();
	char *out, *js;
	json_t *j;

	s.conns = NULL;
	s.nr_conns = 0;
	out = FORMAT(false, xlvs_fmt_services(p, &s, 0));
	cr_assert_not_null(strstr(out, "  -> 198.18.1.11:80        Tunnel  1      -          -\n"), "%s",
			   out);
	js = FORMAT(true, xlvs_fmt_services(p, &s, 0));
	j = parse_json(js);
	cr_assert_null(json_object_get(jpath(j, "services.0.reals.0"), "active_conns"));
	json_decref(j);
	free(out);
	free(js);
}

Test(cli_list, empty_state)
{
	struct xlvs_view s = { 0 };
	char *out = FORMAT(false, xlvs_fmt_services(p, &s, 0));
	char *js = FORMAT(true, xlvs_fmt_services(p, &s, 0));

	cr_assert_str_eq(out, "Prot VirtualAddress:Port   Scheduler  Flags\n"
			      "  -> RealAddress:Port      Forward Weight ActiveConn InActConn\n");
	cr_assert_str_eq(js, "{\"services\":[]}\n");
	free(out);
	free(js);
}

Test(cli_list, port_zero_and_long_ipv6_widen_the_column)
{
	struct xlvs_view s = world();
	char *out;

	mk_svc(&svcs[0], 3, "198.18.0.13", 0, IPPROTO_TCP, XLVS_SCHED_MAGLEV, 0, 0, 251);
	mk_real(&reals_b[1], 10, "2001:db8:ffff:ffff:ffff:ffff:ffff:fff1", XLVS_FWD_TUN, 1, 7);
	out = FORMAT(false, xlvs_fmt_services(p, &s, 0));
	/* The address column is as wide as "[2001:db8:ffff:ffff:ffff:ffff:ffff:fff1]:53" (43). */
	cr_assert_not_null(strstr(out, "Prot VirtualAddress:Port                         Scheduler  Flags\n"),
			   "%s", out);
	cr_assert_not_null(strstr(out, "TCP  198.18.0.13:0                               maglev\n"), "%s",
			   out);
	cr_assert_not_null(strstr(out, "  -> [2001:db8:ffff:ffff:ffff:ffff:ffff:fff1]:53 Tunnel  1      0"),
			   "%s", out);
	free(out);
}

Test(cli_list, unknown_enum_values_do_not_crash)
{
	struct xlvs_view s = world();
	char *out;

	svcs[0].svc.sched = 200;
	svcs[0].svc.flags = 0x81;
	svcs[0].key.proto = 132;
	reals_a[0].real.fwd = 99;
	reals_a[1].real.family = 0;
	s.nr_conns = 6; /* real 6 is past the conn counts: dashes */
	out = FORMAT(false, xlvs_fmt_services(p, &s, 0));
	cr_assert_not_null(strstr(out, "132  198.18.0.10:80        sched200   echo 0x80\n"), "%s", out);
	cr_assert_not_null(strstr(out, "  -> 198.18.1.11:80        fwd99   1      12         3\n"), "%s",
			   out);
	cr_assert_not_null(strstr(out, "  -> ?:80                  Route   2      -          -\n"), "%s",
			   out);
	free(out);
}

/* 198.18.1.12 (id 6) made a nat real whose replies came back: 700 packets, 910000 bytes. */
static void nat_replies(void)
{
	reals_a[1].real.fwd = XLVS_FWD_NAT;
	svc_out[3] = (struct xlvs_counters){ .packets = 700, .bytes = 910000 };
	real_out[6] = (struct xlvs_counters){ .packets = 700, .bytes = 910000 };
}

/* ipvsadm -L --stats's columns: Conns InPkts OutPkts InBytes OutBytes. */
Test(cli_list, stats_columns)
{
	struct xlvs_view s = world();
	char *out, *js;
	json_t *j;

	nat_replies();
	out = FORMAT(false, xlvs_fmt_services(p, &s, XLVS_FMT_STATS));
	js = FORMAT(true, xlvs_fmt_services(p, &s, XLVS_FMT_STATS));
	j = parse_json(js);
	cr_assert_str_eq(
		out,
		"Prot VirtualAddress:Port        Conns       InPkts      OutPkts         InBytes        OutBytes\n"
		"  -> RealAddress:Port\n"
		"TCP  198.18.0.10:80                15         1000          700          120000          910000\n"
		"  -> 198.18.1.11:80                10          600            0           72000               0\n"
		"  -> 198.18.1.12:80                 5          400          700           48000          910000\n"
		"UDP  [2001:db8::10]:53             50           50            0            4000               0\n"
		"  -> [2001:db8:1::1]:53            30           30            0            2400               0\n"
		"  -> 198.18.2.1:53                 20           20            0            1600               0\n");
	/* the keys of before stay (packets, bytes: the in direction); out_* beside them */
	cr_assert_eq(jint(j, "services.0.stats.packets"), 1000);
	cr_assert_eq(jint(j, "services.0.stats.bytes"), 120000);
	cr_assert_eq(jint(j, "services.0.stats.out_packets"), 700);
	cr_assert_eq(jint(j, "services.0.stats.out_bytes"), 910000);
	cr_assert_eq(jint(j, "services.0.reals.1.stats.out_packets"), 700);
	cr_assert_eq(jint(j, "services.0.reals.1.stats.out_bytes"), 910000);
	cr_assert_eq(jint(j, "services.0.reals.0.stats.out_packets"), 0);
	cr_assert_eq(jint(j, "services.1.reals.1.stats.bytes"), 1600);
	cr_assert_eq(jint(j, "services.1.stats.conns"), 50);
	json_decref(j);
	free(out);
	free(js);
}

/* service show: out-packets and out-bytes for a nat real and its service only; JSON has them for all. */
Test(cli_show, nat_real_out_counters)
{
	struct xlvs_view s = world();
	size_t idx[] = { 0, 1 };
	char *out, *js;
	json_t *j;

	nat_replies();
	out = FORMAT(false, xlvs_fmt_service_detail(p, &s, idx, 2));
	cr_assert_not_null(
		strstr(out, "  timeouts tcp 7200s (the others global)\n"
			    "  conns 15  packets 1000  bytes 120000  out-packets 700  out-bytes 910000\n"
			    "  -> 198.18.1.11:80\n"
			    "     id 5  forward Tunnel  weight 1  active 12  inactive 3\n"
			    "     conns 10  packets 600  bytes 72000\n"
			    "  -> 198.18.1.12:80\n"
			    "     id 6  forward Masq  weight 2  active 0  inactive 7\n"
			    "     conns 5  packets 400  bytes 48000  out-packets 700  out-bytes 910000\n"),
		"%s", out);
	cr_assert_not_null(strstr(out, "  conns 50  packets 50  bytes 4000\n"), "%s", out);
	js = FORMAT(true, xlvs_fmt_service_detail(p, &s, idx, 2));
	j = parse_json(js);
	cr_assert_eq(jint(j, "services.0.stats.out_packets"), 700);
	cr_assert_eq(jint(j, "services.0.reals.1.stats.out_bytes"), 910000);
	cr_assert_eq(jint(j, "services.0.reals.0.stats.out_packets"), 0);
	cr_assert_eq(jint(j, "services.1.stats.out_bytes"), 0);
	json_decref(j);
	free(out);
	free(js);
}

/*
 * A ring-state service (XLVS_SVC_F_RING_STATE, set by the planner): one more
 * Flags word in the list, "flow-state ring" in show, "flow_state" in JSON; a
 * table service's list line stays as ipvsadm's.
 */
Test(cli_list, ring_state_service)
{
	struct xlvs_view s = world();
	char *out, *js;
	json_t *j;

	svcs[0].svc.flags |= XLVS_SVC_F_RING_STATE;
	out = FORMAT(false, xlvs_fmt_services(p, &s, 0));
	cr_assert_str_eq(out, "Prot VirtualAddress:Port   Scheduler  Flags\n"
			      "  -> RealAddress:Port      Forward Weight ActiveConn InActConn\n"
			      "TCP  198.18.0.10:80        maglev     echo ring-state\n"
			      "  -> 198.18.1.11:80        Tunnel  1      12         3\n"
			      "  -> 198.18.1.12:80        Route   2      0          7\n"
			      "UDP  [2001:db8::10]:53     rr\n"
			      "  -> [2001:db8:1::1]:53    GUE     3      1          0\n"
			      "  -> 198.18.2.1:53         Tunnel  0      0          0\n");
	js = FORMAT(true, xlvs_fmt_services(p, &s, 0));
	j = parse_json(js);
	cr_assert_str_eq(jstr(j, "services.0.flow_state"), "ring");
	cr_assert_str_eq(jstr(j, "services.1.flow_state"), "table");
	/* the mode is not a flag of its own in JSON, and not an unknown bit */
	cr_assert_eq(json_array_size(jpath(j, "services.0.flags")), 1);
	cr_assert_str_eq(jstr(j, "services.0.flags.0"), "echo");
	json_decref(j);
	free(out);
	free(js);
}

Test(cli_show, ring_state_service)
{
	struct xlvs_view s = world();
	size_t idx[] = { 0, 1 };
	char *out, *js;
	json_t *j;

	svcs[0].svc.flags = XLVS_SVC_F_RING_STATE; /* no other flag: "flags none" */
	out = FORMAT(false, xlvs_fmt_service_detail(p, &s, idx, 2));
	cr_assert_not_null(
		strstr(out,
		       "TCP 198.18.0.10:80\n"
		       "  id 3  scheduler maglev  ring 65537 slots from 0  flow-state ring  flags none\n"),
		"%s", out);
	cr_assert_not_null(
		strstr(out,
		       "UDP [2001:db8::10]:53\n"
		       "  id 7  scheduler rr  ring 251 slots from 65537  flow-state table  flags none\n"),
		"%s", out);
	js = FORMAT(true, xlvs_fmt_service_detail(p, &s, idx, 2));
	j = parse_json(js);
	cr_assert_str_eq(jstr(j, "services.0.flow_state"), "ring");
	cr_assert_eq(json_array_size(jpath(j, "services.0.flags")), 0);
	cr_assert_str_eq(jstr(j, "services.1.flow_state"), "table");
	json_decref(j);
	free(out);
	free(js);
}

/* ---- service show -------------------------------------------------------- */

Test(cli_show, detail_text_exact)
{
	struct xlvs_view s = world();
	size_t idx[] = { 0, 1 };
	char *out = FORMAT(false, xlvs_fmt_service_detail(p, &s, idx, 2));

	cr_assert_str_eq(out,
			 "TCP 198.18.0.10:80\n"
			 "  id 3  scheduler maglev  ring 65537 slots from 0  flow-state table  flags echo\n"
			 "  timeouts tcp 7200s (the others global)\n"
			 "  conns 15  packets 1000  bytes 120000\n"
			 "  -> 198.18.1.11:80\n"
			 "     id 5  forward Tunnel  weight 1  active 12  inactive 3\n"
			 "     conns 10  packets 600  bytes 72000\n"
			 "  -> 198.18.1.12:80\n"
			 "     id 6  forward Route  weight 2  active 0  inactive 7\n"
			 "     conns 5  packets 400  bytes 48000\n"
			 "\n"
			 "UDP [2001:db8::10]:53\n"
			 "  id 7  scheduler rr  ring 251 slots from 65537  flow-state table  flags none\n"
			 "  timeouts global\n"
			 "  conns 50  packets 50  bytes 4000\n"
			 "  -> [2001:db8:1::1]:53\n"
			 "     id 9  forward GUE  weight 3  active 1  inactive 0\n"
			 "     conns 30  packets 30  bytes 2400\n"
			 "     gue-port 7777\n"
			 "     nexthop 02:00:00:00:00:09 ifindex 4\n"
			 "  -> 198.18.2.1:53\n"
			 "     id 10  forward Tunnel  weight 0  active 0  inactive 0\n"
			 "     conns 20  packets 20  bytes 1600\n");
	free(out);
}

Test(cli_show, detail_json)
{
	struct xlvs_view s = world();
	size_t idx[] = { 99, 1 }; /* an index past the state is ignored */
	char *out = FORMAT(true, xlvs_fmt_service_detail(p, &s, idx, 2));
	json_t *j = parse_json(out);

	cr_assert_eq(json_array_size(jpath(j, "services")), 1);
	cr_assert_eq(jint(j, "services.0.id"), 7);
	cr_assert_eq(jint(j, "services.0.ring_base"), 65537);
	cr_assert_eq(jint(j, "services.0.ring_size"), 251);
	cr_assert_eq(jint(j, "services.0.stats.conns"), 50);
	cr_assert_eq(jint(j, "services.0.reals.0.gue_port"), 7777);
	cr_assert_str_eq(jstr(j, "services.0.reals.0.nexthop.mac"), "02:00:00:00:00:09");
	cr_assert_eq(jint(j, "services.0.reals.0.nexthop.ifindex"), 4);
	cr_assert_null(json_object_get(jpath(j, "services.0.reals.1"), "nexthop"));
	cr_assert_eq(jint(j, "services.0.reals.1.stats.packets"), 20);
	json_decref(j);
	free(out);
}

/* A least-connection service: its COUNTED reals show the data path's count next to the walk's. */
Test(cli_show, counted_reals_show_the_schedulers_count)
{
	struct xlvs_real_load loads[NR_REAL_IDS] = { [5] = { 4, -1 }, [6] = { 8, 8 } };
	struct xlvs_view s = world();
	size_t idx[] = { 0 };
	char *out;
	json_t *j;

	svcs[0].svc.sched = XLVS_SCHED_WLC;
	reals_a[0].real.flags |= XLVS_REAL_F_COUNTED; /* 198.18.1.12 is not: its load is not shown */
	s.loads = loads;
	s.nr_loads = NR_REAL_IDS;
	out = FORMAT(false, xlvs_fmt_service_detail(p, &s, idx, 1));
	cr_assert_str_eq(out, "TCP 198.18.0.10:80\n"
			      "  id 3  scheduler wlc  ring 65537 slots from 0  flow-state table  flags echo\n"
			      "  timeouts tcp 7200s (the others global)\n"
			      "  conns 15  packets 1000  bytes 120000\n"
			      "  -> 198.18.1.11:80\n"
			      "     id 5  forward Tunnel  weight 1  active 12  inactive 3\n"
			      "     scheduler's count: active 4  inactive -1\n"
			      "     conns 10  packets 600  bytes 72000\n"
			      "  -> 198.18.1.12:80\n"
			      "     id 6  forward Route  weight 2  active 0  inactive 7\n"
			      "     conns 5  packets 400  bytes 48000\n");
	free(out);
	out = FORMAT(true, xlvs_fmt_service_detail(p, &s, idx, 1));
	j = parse_json(out);
	cr_expect_eq(jint(j, "services.0.reals.0.sched_conns.active"), 4);
	cr_expect_eq(jint(j, "services.0.reals.0.sched_conns.inactive"), -1);
	cr_expect_eq(jint(j, "services.0.reals.0.active_conns"), 12);
	cr_expect_null(json_object_get(jpath(j, "services.0.reals.1"), "sched_conns"));
	json_decref(j);
	free(out);
}

/* ---- real show ------------------------------------------------------------- */

static const char hreal_up[] =
	"{\"address\":\"198.18.1.11\",\"port\":80,\"weight\":2,\"effective_weight\":1,\"in_maps\":true,"
	"\"health\":{\"state\":\"up\",\"check\":\"http\",\"check_address\":\"198.18.1.11\",\"check_port\":8080,"
	"\"rise\":2,\"fall\":3,\"last_result\":\"ok\",\"last_ok\":true,\"last_message\":\"status 200\","
	"\"last_latency_ms\":1.3,\"checks\":120,\"failures\":3,\"transitions\":2,\"since_s\":3723,\"rise_fall\":1}}";
static const char hreal_down[] =
	"{\"address\":\"198.18.2.1\",\"port\":53,\"weight\":0,\"effective_weight\":0,\"in_maps\":true,"
	"\"health\":{\"state\":\"down\",\"check\":\"icmp\",\"check_address\":\"198.18.2.1\",\"check_port\":0,"
	"\"rise\":2,\"fall\":3,\"last_result\":\"failed\",\"last_ok\":false,\"last_message\":\"timeout\\n\","
	"\"last_latency_ms\":1000.0,\"checks\":10,\"failures\":10,\"transitions\":1,\"since_s\":45,\"rise_fall\":0}}";
static const char hreal_removed[] =
	"{\"address\":\"198.18.1.13\",\"port\":0,\"weight\":4,\"effective_weight\":0,\"in_maps\":false,"
	"\"health\":{\"state\":\"down\",\"check\":\"tcp\",\"check_address\":\"198.18.1.13\",\"check_port\":80,"
	"\"rise\":1,\"fall\":1,\"last_result\":\"failed\",\"last_ok\":false,\"last_message\":\"connect: Connection refused\","
	"\"last_latency_ms\":0.2,\"checks\":1,\"failures\":1,\"transitions\":1,\"since_s\":90061,\"rise_fall\":1}}";

static struct xlvs_real_view mk_view(const struct xlvs_svc_state *sv, const struct xlvs_real_state *r,
				     const char *real, json_t *hreal, const char *derr)
{
	struct xlvs_real_view v = { .sv = sv, .r = r, .hreal = hreal, .daemon_error = derr };

	xlvs_addr_of(&v.svc.addr, sv->key.family, sv->key.addr);
	v.svc.port = v.port = ntohs(sv->key.port);
	v.svc.proto = sv->key.proto;
	cr_assert_eq(xlvs_addr_parse(real, &v.addr), 0);
	return v;
}

/* Four views: checked and up; the daemon unreachable; down (ICMP, no port); out of the maps. */
static void real_views(struct xlvs_view *s, struct xlvs_real_view v[4], json_t *h[3])
{
	*s = world();
	h[0] = parse_json(hreal_up);
	h[1] = parse_json(hreal_down);
	h[2] = parse_json(hreal_removed);
	v[0] = mk_view(&svcs[0], &reals_a[0], "198.18.1.11", h[0], NULL);
	v[1] = mk_view(&svcs[1], &reals_b[0], "2001:db8:1::1", NULL,
		       "xlvsd is not running (no socket at /run/xlvs/xlvsd.sock)");
	v[2] = mk_view(&svcs[1], &reals_b[1], "198.18.2.1", h[1], NULL);
	v[3] = mk_view(&svcs[0], NULL, "198.18.1.13", h[2], NULL);
}

Test(cli_real, show_text_exact)
{
	struct xlvs_real_view v[4];
	struct xlvs_view s;
	json_t *h[3];
	char *out;

	real_views(&s, v, h);
	out = FORMAT(false, xlvs_fmt_real_detail(p, &s, v, 4));
	cr_assert_str_eq(out, "TCP 198.18.0.10:80 -> 198.18.1.11:80\n"
			      "  id 5  forward Tunnel (ipip)  weight 1  configured 2\n"
			      "  active 12  inactive 3\n"
			      "  conns 10  packets 600  bytes 72000\n"
			      "  health up  check http 198.18.1.11:8080  fall 1/3\n"
			      "  last ok  latency 1.3 ms  \"status 200\"\n"
			      "  checks 120  failures 3  transitions 2  up for 1h 2m 3s\n"
			      "\n"
			      "UDP [2001:db8::10]:53 -> [2001:db8:1::1]:53\n"
			      "  id 9  forward GUE  gue-port 7777  weight 3\n"
			      "  nexthop 02:00:00:00:00:09 ifindex 4\n"
			      "  active 1  inactive 0\n"
			      "  conns 30  packets 30  bytes 2400\n"
			      "  health unknown: xlvsd is not running (no socket at /run/xlvs/xlvsd.sock)\n"
			      "\n"
			      "UDP [2001:db8::10]:53 -> 198.18.2.1:53\n"
			      "  id 10  forward Tunnel (6in4)  weight 0  configured 0\n"
			      "  active 0  inactive 0\n"
			      "  conns 20  packets 20  bytes 1600\n"
			      "  health down  check icmp 198.18.2.1  rise 0/2\n"
			      "  last failed  latency 1000.0 ms  \"timeout?\"\n"
			      "  checks 10  failures 10  transitions 1  down for 45s\n"
			      "\n"
			      "TCP 198.18.0.10:80 -> 198.18.1.13:80\n"
			      "  not in the maps  configured 4\n"
			      "  active -  inactive -\n"
			      "  health down  check tcp 198.18.1.13:80  rise 1/1\n"
			      "  last failed  latency 0.2 ms  \"connect: Connection refused\"\n"
			      "  checks 1  failures 1  transitions 1  down for 1d 1h 1m 1s\n");
	free(out);
	for (int i = 0; i < 3; i++)
		json_decref(h[i]);
}

/* real show: a nat real's replies beside its counters; JSON out_* for every real. */
Test(cli_real, show_nat_real_out_counters)
{
	struct xlvs_real_view v;
	struct xlvs_view s = world();
	char *out, *js;
	json_t *j;

	nat_replies();
	v = mk_view(&svcs[0], &reals_a[1], "198.18.1.12", NULL, "xlvsd is not running");
	out = FORMAT(false, xlvs_fmt_real_detail(p, &s, &v, 1));
	cr_assert_not_null(strstr(out,
				  "  active 0  inactive 7\n"
				  "  conns 5  packets 400  bytes 48000  out-packets 700  out-bytes 910000\n"),
			   "%s", out);
	js = FORMAT(true, xlvs_fmt_real_detail(p, &s, &v, 1));
	j = parse_json(js);
	cr_assert_eq(jint(j, "reals.0.stats.out_packets"), 700);
	cr_assert_eq(jint(j, "reals.0.stats.out_bytes"), 910000);
	cr_assert_eq(jint(j, "reals.0.stats.packets"), 400);
	json_decref(j);
	free(out);
	free(js);
}

Test(cli_real, show_json)
{
	struct xlvs_real_view v[4];
	struct xlvs_view s;
	json_t *h[3], *j;
	char *out;

	real_views(&s, v, h);
	out = FORMAT(true, xlvs_fmt_real_detail(p, &s, v, 4));
	j = parse_json(out);
	cr_assert_eq(json_array_size(jpath(j, "reals")), 4);
	cr_assert_eq(jint(j, "reals.0.service.id"), 3);
	cr_assert_str_eq(jstr(j, "reals.0.service.protocol"), "tcp");
	cr_assert_str_eq(jstr(j, "reals.0.service.vip"), "198.18.0.10");
	cr_assert_eq(jint(j, "reals.0.service.port"), 80);
	cr_assert_eq(jint(j, "reals.0.id"), 5);
	cr_assert_str_eq(jstr(j, "reals.0.address"), "198.18.1.11");
	cr_assert_eq(jint(j, "reals.0.port"), 80);
	cr_assert_str_eq(jstr(j, "reals.0.forward"), "tun");
	cr_assert_str_eq(jstr(j, "reals.0.tunnel"), "ipip");
	cr_assert(json_is_true(jpath(j, "reals.0.in_maps")));
	cr_assert_eq(jint(j, "reals.0.weight"), 1);
	cr_assert_eq(jint(j, "reals.0.configured_weight"), 2);
	cr_assert_eq(jint(j, "reals.0.active_conns"), 12);
	cr_assert_eq(jint(j, "reals.0.inactive_conns"), 3);
	cr_assert_eq(jint(j, "reals.0.stats.packets"), 600);
	cr_assert_str_eq(jstr(j, "reals.0.health.state"), "up");
	cr_assert_eq(jint(j, "reals.0.health.check_port"), 8080);
	cr_assert_eq(jint(j, "reals.0.health.rise_fall"), 1);
	cr_assert_float_eq(jreal(j, "reals.0.health.last_latency_ms"), 1.3, 1e-9);
	cr_assert_null(json_object_get(jpath(j, "reals.0"), "health_error"));

	cr_assert(json_is_null(jpath(j, "reals.1.health")));
	cr_assert_str_eq(jstr(j, "reals.1.health_error"),
			 "xlvsd is not running (no socket at /run/xlvs/xlvsd.sock)");
	cr_assert(json_is_null(jpath(j, "reals.1.configured_weight")));
	cr_assert_eq(jint(j, "reals.1.gue_port"), 7777);
	cr_assert_str_eq(jstr(j, "reals.1.nexthop.mac"), "02:00:00:00:00:09");
	cr_assert_str_eq(jstr(j, "reals.2.tunnel"), "6in4");
	cr_assert_str_eq(jstr(j, "reals.2.health.last_message"), "timeout\n",
			 "JSON keeps the daemon's words");

	cr_assert(json_is_false(jpath(j, "reals.3.in_maps")));
	cr_assert(json_is_null(jpath(j, "reals.3.weight")));
	cr_assert(json_is_null(jpath(j, "reals.3.active_conns")));
	cr_assert(json_is_null(jpath(j, "reals.3.stats")));
	cr_assert_null(json_object_get(jpath(j, "reals.3"), "id"), "no map id when not in the maps");
	cr_assert_eq(jint(j, "reals.3.configured_weight"), 4);
	json_decref(j);
	free(out);
	for (int i = 0; i < 3; i++)
		json_decref(h[i]);
}

Test(cli_real, show_sorry_unchecked_unknown_and_odd_daemon_values)
{
	struct xlvs_view s = world();
	struct xlvs_real_view v[3];
	json_t *unchecked = parse_json(
		"{\"address\":\"198.18.1.12\",\"weight\":2,\"health\":{\"state\":\"unchecked\"}}");
	json_t *odd = parse_json(
		"{\"address\":\"198.18.1.12\",\"weight\":\"two\",\"health\":{\"state\":\"up\","
		"\"check\":7,\"check_address\":\"nope\",\"rise_fall\":\"x\",\"since_s\":-5}}");
	char *out;

	v[0] = mk_view(&svcs[0], &reals_a[1], "198.18.1.12", unchecked, NULL);
	v[1] = mk_view(&svcs[0], &reals_a[1], "198.18.1.12", NULL, NULL);
	v[1].sorry = true;
	v[2] = mk_view(&svcs[0], &reals_a[1], "198.18.1.12", odd, NULL);
	out = FORMAT(false, xlvs_fmt_real_detail(p, &s, v, 3));
	cr_assert_str_eq(out, "TCP 198.18.0.10:80 -> 198.18.1.12:80\n"
			      "  id 6  forward Route  weight 2  configured 2\n"
			      "  active 0  inactive 7\n"
			      "  conns 5  packets 400  bytes 48000\n"
			      "  health unchecked (no check: always up)\n"
			      "\n"
			      "TCP 198.18.0.10:80 -> 198.18.1.12:80\n"
			      "  id 6  forward Route  weight 2\n"
			      "  active 0  inactive 7\n"
			      "  conns 5  packets 400  bytes 48000\n"
			      "  health sorry (the service's sorry server, not checked)\n"
			      "\n"
			      "TCP 198.18.0.10:80 -> 198.18.1.12:80\n"
			      "  id 6  forward Route  weight 2\n"
			      "  active 0  inactive 7\n"
			      "  conns 5  packets 400  bytes 48000\n"
			      "  health up  check ?\n"
			      "  last ?\n");
	free(out);
	out = FORMAT(true, xlvs_fmt_real_detail(p, &s, v, 2));
	{
		json_t *j = parse_json(out);

		cr_assert_str_eq(jstr(j, "reals.0.health.state"), "unchecked");
		cr_assert_str_eq(jstr(j, "reals.1.health.state"), "sorry");
		json_decref(j);
	}
	free(out);
	json_decref(unchecked);
	json_decref(odd);
}

/* ---- stats --------------------------------------------------------------- */

static const char stats_table[] =
	"Prot VirtualAddress:Port        Conns       InPkts      OutPkts         InBytes        OutBytes\n"
	"  -> RealAddress:Port\n"
	"TCP  198.18.0.10:80                15         1000            0          120000               0\n"
	"  -> 198.18.1.11:80                10          600            0           72000               0\n"
	"  -> 198.18.1.12:80                 5          400            0           48000               0\n"
	"UDP  [2001:db8::10]:53             50           50            0            4000               0\n"
	"  -> [2001:db8:1::1]:53            30           30            0            2400               0\n"
	"  -> 198.18.2.1:53                 20           20            0            1600               0\n";

Test(cli_stats, nonzero_drops_and_events_only)
{
	struct xlvs_view s = world();
	char *out = FORMAT(false, xlvs_fmt_stats(p, &s, NULL, 0));
	char want[2048];

	snprintf(want, sizeof(want),
		 "%s\n"
		 "Drops:\n"
		 "  ip4_trunc                           2\n"
		 "  no_real                             5\n"
		 "Events:\n"
		 "  conn_hit                          985\n"
		 "  conn_new                           65\n",
		 stats_table);
	cr_assert_str_eq(out, want);
	free(out);
}

/* The ring-state events (issue 13) need nothing of their own: named from abi.h like every event. */
Test(cli_stats, ring_events_by_name)
{
	struct xlvs_view s = world();
	char *out, *js;
	json_t *j;

	s.events[XLVS_EV_RING_STABLE_SLOW] = 1;
	s.events[XLVS_EV_RING_CHANGED_HIT] = 2;
	s.events[XLVS_EV_RING_PREV_OWNER] = 3;
	s.events[XLVS_EV_RING_NEW_OWNER] = 4;
	out = FORMAT(false, xlvs_fmt_stats(p, &s, NULL, 0));
	cr_assert_not_null(strstr(out, "  ring_owner_unusable                 1\n"
				       "  ring_changed_conn_hit               2\n"
				       "  ring_prev_owner                     3\n"
				       "  ring_new_owner                      4\n"),
			   "%s", out);
	js = FORMAT(true, xlvs_fmt_stats(p, &s, NULL, 0));
	j = parse_json(js);
	cr_assert_eq(jint(j, "events.ring_owner_unusable"), 1);
	cr_assert_eq(jint(j, "events.ring_changed_conn_hit"), 2);
	cr_assert_eq(jint(j, "events.ring_prev_owner"), 3);
	cr_assert_eq(jint(j, "events.ring_new_owner"), 4);
	json_decref(j);
	free(out);
	free(js);
}

Test(cli_stats, verbose_lists_every_counter)
{
	struct xlvs_view s = world();
	char *out = FORMAT(false, xlvs_fmt_stats(p, &s, NULL, XLVS_FMT_VERBOSE));
	int i;

	for (i = 0; i < XLVS_DROP_MAX; i++)
		cr_assert_not_null(strstr(out, xlvs_drop_names[i]), "%s missing", xlvs_drop_names[i]);
	for (i = 0; i < XLVS_EV_MAX; i++)
		cr_assert_not_null(strstr(out, xlvs_event_names[i]), "%s missing", xlvs_event_names[i]);
	cr_assert_not_null(strstr(out, "  no_tunnel_source                    0\n"));
	free(out);
}

Test(cli_stats, all_zero_says_none)
{
	struct xlvs_view s = world();
	char *out;

	memset(s.drops, 0, sizeof(s.drops));
	memset(s.events, 0, sizeof(s.events));
	out = FORMAT(false, xlvs_fmt_stats(p, &s, NULL, 0));
	cr_assert_not_null(strstr(out, "\nDrops: none\nEvents: none\n"), "%s", out);
	free(out);
}

Test(cli_stats, json_has_every_counter)
{
	struct xlvs_view s = world();
	char *out = FORMAT(true, xlvs_fmt_stats(p, &s, NULL, 0));
	json_t *j = parse_json(out);

	cr_assert_eq(json_object_size(jpath(j, "drops")), XLVS_DROP_MAX);
	cr_assert_eq(json_object_size(jpath(j, "events")), XLVS_EV_MAX);
	cr_assert_eq(jint(j, "drops.no_real"), 5);
	cr_assert_eq(jint(j, "drops.eth_trunc"), 0);
	cr_assert_eq(jint(j, "events.conn_hit"), 985);
	cr_assert_eq(jint(j, "services.0.reals.1.stats.packets"), 400);
	cr_assert_null(json_object_get(j, "drop_rates"));
	cr_assert_null(json_object_get(jpath(j, "services.0"), "rate"));
	json_decref(j);
	free(out);
}

Test(cli_stats, conn_table_fullness_text)
{
	struct xlvs_view s = world();
	char *out, want[2048];

	s.have_table = true;
	s.table = (struct xlvs_conn_table){ .entries = 1312, .capacity = 262144 };
	out = FORMAT(false, xlvs_fmt_stats(p, &s, NULL, 0));
	snprintf(want, sizeof(want),
		 "%s\n"
		 "Connection table: 1312 of 262144 entries (0.5%%)\n"
		 "\n"
		 "Drops:\n",
		 stats_table);
	cr_assert(!strncmp(out, want, strlen(want)), "%s", out);
	free(out);
}

Test(cli_stats, conn_table_fullness_json)
{
	struct xlvs_view s = world();
	char *out;
	json_t *j;

	s.have_table = true;
	s.table = (struct xlvs_conn_table){ .entries = 262139, .capacity = 262144 };
	out = FORMAT(true, xlvs_fmt_stats(p, &s, NULL, 0));
	j = parse_json(out);
	cr_assert_eq(jint(j, "conn_table.entries"), 262139);
	cr_assert_eq(jint(j, "conn_table.capacity"), 262144);
	json_decref(j);
	free(out);
}

Test(cli_stats, no_conn_table_when_it_was_not_read)
{
	struct xlvs_view s = world();
	char *out = FORMAT(false, xlvs_fmt_stats(p, &s, NULL, 0));
	json_t *j;

	cr_assert_null(strstr(out, "Connection table"), "%s", out);
	free(out);
	out = FORMAT(true, xlvs_fmt_stats(p, &s, NULL, 0));
	j = parse_json(out);
	cr_assert_null(json_object_get(j, "conn_table"));
	json_decref(j);
	free(out);
}

/* prev: two seconds earlier, with smaller counters. */
static struct xlvs_counters prev_svc[NR_SVC_IDS], prev_real[NR_REAL_IDS];
static struct xlvs_counters prev_svc_out[NR_SVC_IDS], prev_real_out[NR_REAL_IDS];

/* Made after nat_replies(): service 3 and real 6 had 300 replies, 510000 bytes, two seconds earlier. */
static struct xlvs_view earlier(const struct xlvs_view *cur)
{
	struct xlvs_view s = *cur;

	memcpy(prev_svc, svc_ctr, sizeof(prev_svc));
	memcpy(prev_real, real_ctr, sizeof(prev_real));
	prev_svc[3] = (struct xlvs_counters){ .packets = 800, .bytes = 100000, .new_flows = 5 };
	prev_real[5] = (struct xlvs_counters){ .packets = 700, .bytes = 0, .new_flows = 0 }; /* went back */
	memset(prev_svc_out, 0, sizeof(prev_svc_out));
	memset(prev_real_out, 0, sizeof(prev_real_out));
	prev_svc_out[3] = (struct xlvs_counters){ .packets = 300, .bytes = 510000 };
	prev_real_out[6] = (struct xlvs_counters){ .packets = 300, .bytes = 510000 };
	s.svc_ctr = prev_svc;
	s.real_ctr = prev_real;
	s.svc_out = prev_svc_out;
	s.real_out = prev_real_out;
	s.drops[XLVS_DROP_NO_REAL] = 1;
	s.time_ns = cur->time_ns - 2000000000ull;
	return s;
}

/* Out rates: (700 - 300) / 2 s = 200 packets/s, 8 * (910000 - 510000) / 2 s = 1600000 bits/s. */
Test(cli_stats, rates_text)
{
	struct xlvs_view cur = world(), prev;
	char *out;

	nat_replies();
	prev = earlier(&cur);
	out = FORMAT(false, xlvs_fmt_stats(p, &cur, &prev, XLVS_FMT_RATES));
	cr_assert_not_null(
		strstr(out,
		       "Prot VirtualAddress:Port        Conns       InPkts      OutPkts         InBytes        OutBytes"
		       "    Conn/s     InPkt/s    OutPkt/s        InBit/s       OutBit/s\n"
		       "  -> RealAddress:Port\n"
		       "TCP  198.18.0.10:80                15         1000          700          120000          910000"
		       "         5         100         200          80000        1600000\n"
		       "  -> 198.18.1.11:80                10          600            0           72000               0"
		       "         5           0           0         288000              0\n"
		       "  -> 198.18.1.12:80                 5          400          700           48000          910000"
		       "         0           0         200              0        1600000\n"),
		"%s", out);
	cr_assert_not_null(strstr(out, "  no_real                             5         2.0/s\n"), "%s", out);
	free(out);
}

Test(cli_stats, rates_json)
{
	struct xlvs_view cur = world(), prev;
	char *out;
	json_t *j;

	nat_replies();
	prev = earlier(&cur);
	out = FORMAT(true, xlvs_fmt_stats(p, &cur, &prev, XLVS_FMT_RATES));
	j = parse_json(out);
	cr_assert_float_eq(jreal(j, "services.0.rate.out_pps"), 200.0, 1e-9);
	cr_assert_float_eq(jreal(j, "services.0.rate.out_bps"), 1600000.0, 1e-9);
	cr_assert_float_eq(jreal(j, "services.0.reals.1.rate.out_pps"), 200.0, 1e-9);
	cr_assert_float_eq(jreal(j, "services.0.reals.0.rate.out_bps"), 0.0, 1e-9);

	cr_assert_float_eq(jreal(j, "interval_s"), 2.0, 1e-9);
	cr_assert_float_eq(jreal(j, "services.0.rate.cps"), 5.0, 1e-9);
	cr_assert_float_eq(jreal(j, "services.0.rate.pps"), 100.0, 1e-9);
	cr_assert_float_eq(jreal(j, "services.0.rate.bps"), 80000.0, 1e-9);
	cr_assert_float_eq(jreal(j, "services.0.reals.0.rate.pps"), 0.0, 1e-9);
	cr_assert_float_eq(jreal(j, "drop_rates.no_real"), 2.0, 1e-9);
	cr_assert_float_eq(jreal(j, "event_rates.conn_hit"), 0.0, 1e-9);
	json_decref(j);
	free(out);
}

Test(cli_stats, no_rates_without_time_passing)
{
	struct xlvs_view cur = world(), prev = earlier(&cur);
	char *out;

	prev.time_ns = cur.time_ns;
	out = FORMAT(false, xlvs_fmt_stats(p, &cur, &prev, XLVS_FMT_RATES));
	cr_assert_null(strstr(out, "Pkt/s"));
	cr_assert_null(strstr(out, "/s\n"));
	free(out);
}

/* ---- conn list ----------------------------------------------------------- */

static struct xlvs_conn_row mk_row(const char *src, uint16_t sport, const char *dst, uint16_t dport,
				   uint8_t proto, uint32_t real_id, uint64_t idle_ns)
{
	struct xlvs_conn_row r = { 0 };

	set_addr(r.flow.src, &r.flow.family, src);
	set_addr(r.flow.dst, &r.flow.family, dst);
	r.flow.sport = htons(sport);
	r.flow.dport = htons(dport);
	r.flow.proto = proto;
	r.conn.real_id = real_id;
	r.idle_ns = idle_ns;
	return r;
}

static void conn_rows(struct xlvs_conn_row rows[3])
{
	rows[0] = mk_row("203.0.113.7", 50123, "198.18.0.10", 80, IPPROTO_TCP, 5, 3500000000ull);
	rows[1] = mk_row("2001:db8:9::7", 5353, "2001:db8::10", 53, IPPROTO_UDP, 9, 0);
	rows[2] = mk_row("203.0.113.8", 40000, "198.18.0.10", 80, IPPROTO_TCP, 42, XLVS_IDLE_UNKNOWN);
	rows[2].conn.state = XLVS_CONN_CLOSING;
	rows[0].expires_s = 896;
	rows[1].expires_s = XLVS_EXPIRES_NEVER;
	rows[2].expires_s = XLVS_EXPIRES_UNKNOWN;
}

Test(cli_conn, text_exact)
{
	struct xlvs_view s = world();
	struct xlvs_conn_row rows[3];
	char *out;

	conn_rows(rows);
	out = FORMAT(false, xlvs_fmt_conns(p, &s.st, rows, 3, 5, 2));
	cr_assert_str_eq(
		out,
		"Prot Client:Port          VirtualAddress:Port RealAddress   State   Idle(s) Expires(s)\n"
		"TCP  203.0.113.7:50123    198.18.0.10:80      198.18.1.11   open    3       896\n"
		"UDP  [2001:db8:9::7]:5353 [2001:db8::10]:53   2001:db8:1::1 open    0       never\n"
		"TCP  203.0.113.8:40000    198.18.0.10:80      -             closing -       -\n"
		"(3 of 5 connections shown; see --limit)\n"
		"(2 expired entries left out: the sweep deletes them)\n");
	free(out);
}

Test(cli_conn, json_fields)
{
	struct xlvs_view s = world();
	struct xlvs_conn_row rows[3];
	char *out;
	json_t *j;

	conn_rows(rows);
	out = FORMAT(true, xlvs_fmt_conns(p, &s.st, rows, 3, 3, 0));
	j = parse_json(out);
	cr_assert_eq(jint(j, "matched"), 3);
	cr_assert_str_eq(jstr(j, "connections.0.protocol"), "tcp");
	cr_assert_str_eq(jstr(j, "connections.0.client"), "203.0.113.7");
	cr_assert_eq(jint(j, "connections.0.client_port"), 50123);
	cr_assert_str_eq(jstr(j, "connections.0.vip"), "198.18.0.10");
	cr_assert_eq(jint(j, "connections.0.port"), 80);
	cr_assert_str_eq(jstr(j, "connections.0.real"), "198.18.1.11");
	cr_assert_eq(jint(j, "connections.0.real_id"), 5);
	cr_assert_eq(jint(j, "connections.0.idle_s"), 3);
	cr_assert_str_eq(jstr(j, "connections.0.state"), "open");
	cr_assert_str_eq(jstr(j, "connections.2.state"), "closing");
	cr_assert_str_eq(jstr(j, "connections.1.real"), "2001:db8:1::1");
	cr_assert(json_is_null(jpath(j, "connections.2.real")));
	cr_assert(json_is_null(jpath(j, "connections.2.idle_s")));
	cr_assert_eq(jint(j, "connections.0.expires_s"), 896);
	cr_assert(json_is_null(jpath(j, "connections.1.expires_s")), "never (timeouts off)");
	cr_assert(json_is_null(jpath(j, "connections.2.expires_s")), "unknown (no clock)");
	cr_assert_eq(jint(j, "expired"), 0);
	cr_assert_null(strstr(out, "see --limit"));
	json_decref(j);
	free(out);
}

/* ---- timeouts --------------------------------------------------------------- */

Test(cli_timeout, global_text_and_json)
{
	struct xlvs_config cfg = { .hz = 250, .timeout = { 900, 120, 60, 300 } };
	char *out;
	json_t *j;

	out = FORMAT(false, xlvs_fmt_timeouts(p, &cfg));
	cr_assert_str_eq(out, "Timeout (tcp tcp_fin tcp_syn udp): 900 120 60 300\n");
	free(out);
	out = FORMAT(true, xlvs_fmt_timeouts(p, &cfg));
	j = parse_json(out);
	cr_assert_eq(jint(j, "timeouts.tcp"), 900);
	cr_assert_eq(jint(j, "timeouts.tcp_fin"), 120);
	cr_assert_eq(jint(j, "timeouts.tcp_syn"), 60);
	cr_assert_eq(jint(j, "timeouts.udp"), 300);
	cr_assert_eq(jint(j, "hz"), 250);
	json_decref(j);
	free(out);
	cfg.hz = 0;
	out = FORMAT(false, xlvs_fmt_timeouts(p, &cfg));
	cr_assert_str_eq(out,
			 "Timeout (tcp tcp_fin tcp_syn udp): 900 120 60 300  (off: xlvsd has not set the "
			 "kernel's HZ, entries never expire)\n");
	free(out);
}

Test(cli_timeout, service_json_has_its_protocols_lifetimes)
{
	struct xlvs_view s = world();
	char *out;
	json_t *j;

	out = FORMAT(true, xlvs_fmt_services(p, &s, 0));
	j = parse_json(out);
	cr_assert_eq(jint(j, "services.0.timeouts.tcp"), 7200);
	cr_assert(json_is_null(jpath(j, "services.0.timeouts.tcp_fin")), "null: the global one");
	cr_assert(json_is_null(jpath(j, "services.0.timeouts.tcp_syn")));
	cr_assert_null(json_object_get(jpath(j, "services.0.timeouts"), "udp"), "not a TCP service's");
	cr_assert(json_is_null(jpath(j, "services.1.timeouts.udp")));
	cr_assert_null(json_object_get(jpath(j, "services.1.timeouts"), "tcp"));
	json_decref(j);
	free(out);
}

/* ---- daemon replies ------------------------------------------------------ */

static const char applied_json[] =
	"{\"services_added\":1,\"services_updated\":0,\"services_removed\":0,\"reals_written\":2,"
	"\"reals_removed\":0,\"ring_slots_written\":251,\"vips_written\":1,\"vips_removed\":0}";

Test(cli_daemon, applied_text_and_json)
{
	json_t *a = parse_json(applied_json), *j;
	char *out = FORMAT(false, xlvs_fmt_applied(p, "applied", "applied: ", a));
	char *js = FORMAT(true, xlvs_fmt_applied(p, "applied", "applied: ", a));

	cr_assert_str_eq(out, "applied: services added 1, updated 0, removed 0; reals written 2, removed 0; "
			      "ring slots written 251; vips written 1, removed 0\n");
	j = parse_json(js);
	cr_assert(json_equal(json_object_get(j, "applied"), a));
	json_decref(j);
	json_decref(a);
	free(out);
	free(js);
}

Test(cli_daemon, applied_odd_shapes)
{
	json_t *a = parse_json("{\"services_added\":\"x\",\"new_field\":[1,2]}");
	char *out = FORMAT(false, xlvs_fmt_applied(p, "applied", "applied: ", a));
	char *none = FORMAT(false, xlvs_fmt_applied(p, "applied", "applied: ", NULL));
	char *js = FORMAT(true, xlvs_fmt_applied(p, "applied", "applied: ", NULL));

	cr_assert_str_eq(out, "applied: services added x; new_field [1,2]\n");
	cr_assert_str_eq(none, "applied: -\n");
	cr_assert_str_eq(js, "{\"applied\":null}\n");
	json_decref(a);
	free(out);
	free(none);
	free(js);
}

static const char status_json[] =
	"{\"ok\":true,\"pid\":1234,\"version\":\"0.1.0\",\"config\":\"/etc/xlvs/xlvs.yaml\","
	"\"uptime_s\":93784,\"interfaces\":[{\"name\":\"eth1\",\"ifindex\":3,\"mode\":\"native\","
	"\"attach\":\"link\"},{\"name\":\"eth2\",\"ifindex\":4,\"mode\":\"generic\",\"attach\":\"netlink\"}],"
	"\"services\":2,\"reals\":5,\"flow_hash\":\"mix64\",\"last_apply\":{\"services_added\":2,\"services_updated\":0,"
	"\"services_removed\":0,\"reals_written\":5,\"reals_removed\":0,\"ring_slots_written\":65788,"
	"\"vips_written\":2,\"vips_removed\":0,\"vip_filter_written\":2},\"pin_dir\":\"/sys/fs/bpf/xlvs\","
	"\"socket\":\"/run/xlvs/xlvsd.sock\",\"reloads_ok\":3,\"reloads_failed\":1,\"future\":true}";

Test(cli_daemon, status_text_exact)
{
	json_t *r = parse_json(status_json);
	char *out = FORMAT(false, xlvs_fmt_status(p, r));

	cr_assert_str_eq(out,
			 "xlvsd 0.1.0, pid 1234, up 1d 2h 3m 4s\n"
			 "config      /etc/xlvs/xlvs.yaml\n"
			 "pin dir     /sys/fs/bpf/xlvs\n"
			 "socket      /run/xlvs/xlvsd.sock\n"
			 "interfaces  eth1 (ifindex 3, mode native, attach link)\n"
			 "            eth2 (ifindex 4, mode generic, attach netlink)\n"
			 "services    2\n"
			 "reals       5\n"
			 "flow hash   mix64\n"
			 "reloads     3 ok, 1 failed\n"
			 "last apply  services added 2, updated 0, removed 0; reals written 5, removed 0; "
			 "ring slots written 65788; vips written 2, removed 0; vip filter words written 2\n"
			 "future      yes\n");
	json_decref(r);
	free(out);
}

Test(cli_daemon, status_json_carries_the_fields)
{
	json_t *r = parse_json(status_json), *j;
	char *out = FORMAT(true, xlvs_fmt_status(p, r));

	j = parse_json(out);
	cr_assert_null(json_object_get(j, "ok"));
	cr_assert_eq(jint(j, "pid"), 1234);
	cr_assert_eq(jint(j, "uptime_s"), 93784);
	cr_assert_str_eq(jstr(j, "interfaces.1.mode"), "generic");
	cr_assert_eq(jint(j, "last_apply.ring_slots_written"), 65788);
	cr_assert_eq(jint(j, "last_apply.vip_filter_written"), 2);
	cr_assert_eq(jint(j, "reloads_failed"), 1);
	cr_assert_str_eq(jstr(j, "pin_dir"), "/sys/fs/bpf/xlvs");
	cr_assert(json_is_true(jpath(j, "future")));
	json_decref(j);
	json_decref(r);
	free(out);
}

Test(cli_daemon, status_with_wrong_types_does_not_crash)
{
	json_t *r = parse_json("{\"ok\":true,\"pid\":\"x\",\"uptime_s\":-5,\"interfaces\":[3,{\"x\":null}],"
			       "\"services\":{},\"last_apply\":null}");
	char *out = FORMAT(false, xlvs_fmt_status(p, r));
	char *js = FORMAT(true, xlvs_fmt_status(p, r));
	json_t *j = parse_json(js);

	cr_assert_str_eq(out, "xlvsd, pid x, up -5s\n"
			      "interfaces  3\n"
			      "            ? (x -)\n"
			      "services    {}\n"
			      "last apply  -\n");
	cr_assert(json_is_null(jpath(j, "last_apply")));
	cr_assert_str_eq(jstr(j, "pid"), "x");
	json_decref(j);
	json_decref(r);
	free(out);
	free(js);
}

/* xlvs diff: a change a reload does not make ("live": false) says so, with what stays. */
Test(cli_daemon, diff_text_marks_what_is_not_live)
{
	json_t *r = parse_json(
		"{\"ok\":true,\"file\":\"/etc/xlvs/xlvs.yaml\",\"changes\":[{\"object\":\"global\","
		"\"change\":\"changed\",\"fields\":[{\"key\":\"flow_hash\",\"from\":\"murmur3\","
		"\"to\":\"mix64\",\"live\":false},{\"key\":\"syn_guard_rate\",\"from\":\"0\","
		"\"to\":\"100\"}]}]}");
	char *out = FORMAT(false, xlvs_fmt_diff(p, r));
	char *js = FORMAT(true, xlvs_fmt_diff(p, r));
	json_t *j = parse_json(js);

	cr_assert_str_eq(out,
			 "~ global settings: flow_hash murmur3 -> mix64 (not applied live: the pinned "
			 "state keeps murmur3 until `xlvsd --detach` and a restart), syn_guard_rate 0 -> "
			 "100\n"
			 "1 change from xlvsd's running state to /etc/xlvs/xlvs.yaml\n");
	cr_assert(json_is_false(jpath(j, "changes.0.fields.0.live")), "%s", js);
	cr_assert_null(jfind(j, "changes.0.fields.1.live"), "%s", js);
	json_decref(j);
	json_decref(r);
	free(out);
	free(js);
}

/* ---- the printer itself -------------------------------------------------- */

Test(cli_print, trailing_blanks_are_trimmed)
{
	char *out = FORMAT(false, (xp_text(p, "a   \nb\t \n%-10s|\n", "c"), xp_text(p, "tail  ")));

	cr_assert_str_eq(out, "a\nb\nc         |\ntail  ");
	free(out);
}

Test(cli_print, kinds_route_values)
{
	char *text = FORMAT(false,
			    (xp_u64(p, XP_ANY, "a", "a=%" PRIu64, 1),
			     xp_u64(p, XP_TEXT, "b", " b=%" PRIu64, 2),
			     xp_u64(p, XP_JSON, "c", " c=%" PRIu64, 3), xp_str(p, XP_ANY, "s", " s=%s", NULL),
			     xp_bool(p, XP_ANY, "t", " t=%s", true), xp_text(p, "\n")));
	char *js = FORMAT(true,
			  (xp_u64(p, XP_ANY, "a", "a=%" PRIu64, 1), xp_u64(p, XP_TEXT, "b", " b=%" PRIu64, 2),
			   xp_u64(p, XP_JSON, "c", " c=%" PRIu64, 3), xp_str(p, XP_ANY, "s", " s=%s", NULL),
			   xp_bool(p, XP_ANY, "t", " t=%s", true), xp_text(p, "\n")));

	cr_assert_str_eq(text, "a=1 b=2 s= t=yes\n");
	cr_assert_str_eq(js, "{\"a\":1,\"c\":3,\"s\":\"\",\"t\":true}\n");
	free(text);
	free(js);
}

Test(cli_print, deep_nesting_and_unbalanced_calls_are_safe)
{
	struct cap c;
	struct xp p;
	int i;

	cap_open(&c);
	xp_init(&p, c.f, true, false);
	xp_obj_close(&p); /* before begin: ignored */
	xp_u64(&p, XP_ANY, "x", "%" PRIu64, 1);
	xp_begin(&p);
	for (i = 0; i < 40; i++)
		xp_arr_open(&p, i ? NULL : "deep");
	xp_u64(&p, XP_ANY, NULL, "%" PRIu64, 7);
	for (i = 0; i < 50; i++) /* more closes than opens */
		xp_arr_close(&p);
	xp_u64(&p, XP_ANY, "after", "%" PRIu64, 1);
	cr_assert_eq(xp_end(&p), -1, "overflow is reported");
	cr_assert_not_null(strstr(cap_text(&c), "\"after\":1"));
	json_decref(parse_json(cap_text(&c)));
	cap_free(&c);
}

Test(cli_print, u64_beyond_jansson_is_clamped)
{
	char *js = FORMAT(true, xp_u64(p, XP_ANY, "big", "%" PRIu64, UINT64_MAX));

	cr_assert_str_eq(js, "{\"big\":9223372036854775807}\n");
	free(js);
}

/* ---- endpoints ----------------------------------------------------------- */

struct ep_case {
	const char *text;
	bool allow_proto;
	const char *addr; /* NULL: must fail */
	uint16_t port;
	uint8_t proto;
	const char *err; /* substring of the message */
};

static const struct ep_case ep_cases[] = {
	{ "198.18.0.10", true, "198.18.0.10", 0, 0, NULL },
	{ "198.18.0.10:80", true, "198.18.0.10", 80, 0, NULL },
	{ "198.18.0.10:0", true, "198.18.0.10", 0, 0, NULL },
	{ "198.18.0.10:80/udp", true, "198.18.0.10", 80, IPPROTO_UDP, NULL },
	{ "198.18.0.10/TCP", true, "198.18.0.10", 0, IPPROTO_TCP, NULL },
	{ "2001:db8::10", true, "2001:db8::10", 0, 0, NULL },
	{ "[2001:db8::10]", true, "2001:db8::10", 0, 0, NULL },
	{ "[2001:db8::10]:443", true, "2001:db8::10", 443, 0, NULL },
	{ "[2001:db8::10]:53/udp", true, "2001:db8::10", 53, IPPROTO_UDP, NULL },
	{ "::ffff:198.18.0.1", true, "::ffff:198.18.0.1", 0, 0, NULL },
	{ "", true, NULL, 0, 0, "empty address" },
	{ "198.18.0.10:", true, NULL, 0, 0, "missing port after ':' in '198.18.0.10:'" },
	{ "198.18.0.10:65536", true, NULL, 0, 0, "invalid port '65536' in '198.18.0.10:65536' (0-65535)" },
	{ "198.18.0.10:-1", true, NULL, 0, 0, "invalid port '-1'" },
	{ "198.18.0.10:8o", true, NULL, 0, 0, "invalid port '8o'" },
	{ "198.18.0.10: 80", true, NULL, 0, 0, "invalid port ' 80'" },
	{ "198.18.0.256", true, NULL, 0, 0, "invalid address '198.18.0.256'" },
	{ "198.18.0", true, NULL, 0, 0, "invalid address '198.18.0'" },
	{ "lb.example.com:80", true, NULL, 0, 0,
	  "'lb.example.com' is not an IP address (xlvs does not resolve names)" },
	{ "[2001:db8::10", true, NULL, 0, 0, "missing ']' in '[2001:db8::10'" },
	{ "[2001:db8::10]80", true, NULL, 0, 0, "unexpected '80' after ']'" },
	{ "[2001:db8::10]:", true, NULL, 0, 0, "missing port after ':'" },
	{ "[198.18.0.10]:80", true, NULL, 0, 0, "brackets are for IPv6 addresses only" },
	{ "[]:80", true, NULL, 0, 0, "missing address in '[]:80'" },
	{ ":80", true, NULL, 0, 0, "missing address in ':80'" },
	{ "2001:db8::10::1", true, NULL, 0, 0, "invalid address '2001:db8::10::1'" },
	{ "fe80::1%eth0", true, NULL, 0, 0, "'fe80::1%eth0': IPv6 zone indexes are not supported" },
	{ "198.18.0.10:80/sctp", true, NULL, 0, 0,
	  "unknown protocol 'sctp' in '198.18.0.10:80/sctp' (tcp or udp)" },
	{ "198.18.0.10/", true, NULL, 0, 0, "unknown protocol ''" },
	{ "198.18.0.10:80/udp", false, NULL, 0, 0, "a real server takes no /protocol" },
	/* IPv6 and a port: brackets, or an error saying how to write it (never port 0 silently). */
	{ "2001:db8::10:80", true, NULL, 0, 0,
	  "'2001:db8::10:80' is ambiguous: write [2001:db8::10]:80 for port 80, or [2001:db8::10:80] for "
	  "the address" },
	{ "2001:db8::10:80/udp", true, NULL, 0, 0,
	  "write [2001:db8::10]:80/udp for port 80, or [2001:db8::10:80]/udp for the address" },
	{ "2001:db8::1:0", false, NULL, 0, 0,
	  "'2001:db8::1:0' is ambiguous: write [2001:db8::1]:0 for port 0" },
	{ "2001:db8:0:0:0:0:0:10:80", true, NULL, 0, 0,
	  "'2001:db8:0:0:0:0:0:10:80': an IPv6 address with a port is written [2001:db8:0:0:0:0:0:10]:80" },
	{ "::ffff:198.18.0.1:80", false, NULL, 0, 0, "is written [::ffff:198.18.0.1]:80" },
	{ "[2001:db8::10:80]", true, "2001:db8::10:80", 0, 0, NULL },
	{ "2001:db8::10:ab", false, "2001:db8::10:ab", 0, 0, NULL }, /* hex: no port */
	{ "2001:db8::10:99999", true, NULL, 0, 0, "invalid address '2001:db8::10:99999'" },
	{ "2001:db8:1:2:3:4:5:6", false, "2001:db8:1:2:3:4:5:6", 0, 0,
	  NULL }, /* 7 groups before: no address */
};

Test(cli_args, endpoints)
{
	char err[XLVS_ERRLEN], buf[64];
	struct xlvs_endpoint ep;
	size_t i;

	for (i = 0; i < sizeof(ep_cases) / sizeof(ep_cases[0]); i++) {
		const struct ep_case *t = &ep_cases[i];
		int rc;

		err[0] = '\0';
		rc = xlvs_parse_endpoint(t->text, t->allow_proto, &ep, err, sizeof(err));
		if (!t->addr) {
			cr_expect_eq(rc, -1, "'%s' accepted", t->text);
			cr_expect_not_null(strstr(err, t->err), "'%s': got '%s', want '%s'", t->text, err,
					   t->err);
			continue;
		}
		cr_expect_eq(rc, 0, "'%s' refused: %s", t->text, err);
		cr_expect_str_eq(xlvs_addr_text(&ep.addr, buf, sizeof(buf)), t->addr, "'%s'", t->text);
		cr_expect_eq(ep.port, t->port, "'%s' port", t->text);
		cr_expect_eq(ep.proto, t->proto, "'%s' proto", t->text);
	}
}

Test(cli_args, endpoint_text_round_trip)
{
	char err[XLVS_ERRLEN], buf[XLVS_EPSTRLEN];
	struct xlvs_endpoint ep;

	cr_assert_eq(xlvs_parse_endpoint("[2001:db8::10]:8080", true, &ep, err, sizeof(err)), 0);
	cr_assert_str_eq(xlvs_ep_text(&ep.addr, ep.port, buf, sizeof(buf)), "[2001:db8::10]:8080");
	cr_assert(ep.have_port);
	cr_assert_eq(xlvs_parse_endpoint("198.18.0.10", true, &ep, err, sizeof(err)), 0);
	cr_assert_str_eq(xlvs_ep_text(&ep.addr, ep.port, buf, sizeof(buf)), "198.18.0.10:0");
	cr_assert_not(ep.have_port);
	cr_assert_eq(xlvs_parse_endpoint("[2001:db8::10]", true, &ep, err, sizeof(err)), 0);
	cr_assert_not(ep.have_port);
	cr_assert_eq(xlvs_parse_endpoint("198.18.0.10:0", true, &ep, err, sizeof(err)), 0);
	cr_assert(ep.have_port);
}

Test(cli_args, words)
{
	uint32_t v;
	double d;

	cr_assert_eq(xlvs_parse_fwd("ipip"), XLVS_FWD_TUN);
	cr_assert_eq(xlvs_parse_fwd("Route"), XLVS_FWD_DR);
	cr_assert_eq(xlvs_parse_fwd("masq"), XLVS_FWD_NAT);
	cr_assert_eq(xlvs_parse_fwd("gre"), -1);
	cr_assert_eq(xlvs_parse_sched("wlc"), XLVS_SCHED_WLC);
	cr_assert_eq(xlvs_parse_sched("MAGLEV"), XLVS_SCHED_MAGLEV);
	cr_assert_eq(xlvs_parse_sched(""), -1);
	cr_assert_eq(xlvs_parse_u32("4294967295", 0, UINT32_MAX, &v), 0);
	cr_assert_eq(v, UINT32_MAX);
	cr_assert_eq(xlvs_parse_u32("4294967296", 0, UINT32_MAX, &v), -1);
	cr_assert_eq(xlvs_parse_u32("+1", 0, 9, &v), -1);
	cr_assert_eq(xlvs_parse_u32("1 ", 0, 9, &v), -1);
	cr_assert_eq(xlvs_parse_secs("0.5", &d), 0);
	cr_assert_float_eq(d, 0.5, 1e-12);
	cr_assert_eq(xlvs_parse_secs("0", &d), -1);
	cr_assert_eq(xlvs_parse_secs("nan", &d), -1);
	cr_assert_eq(xlvs_parse_secs("1e9", &d), -1);
	cr_assert_eq(xlvs_parse_secs("2s", &d), -1);
}

/* ---- command lines ------------------------------------------------------- */

struct bad_line {
	const char *words[12];
	int rc;
	const char *err;   /* substring of stderr */
	const char *usage; /* substring of the usage line, NULL: none expected */
};

#define SVC_USAGE  "usage: xlvs service add VIP[:PORT][/PROTO] [tcp|udp] [scheduler NAME]"
#define REAL_USAGE "usage: xlvs real add SERVICE REAL[:PORT]"

static const struct bad_line bad_lines[] = {
	{ { NULL }, 1, "xlvs: missing OBJECT\n", "usage: xlvs [OPTIONS] OBJECT VERB [ARGS]" },
	{ { "-x" }, 1, "xlvs: unknown option '-x'\n", "usage: xlvs [OPTIONS]" },
	{ { "--pin-dir" }, 1, "xlvs: --pin-dir needs a value\n", "usage: xlvs [OPTIONS]" },
	{ { "--socket=", "status" }, 1, "xlvs: --socket needs a non-empty value\n", NULL },
	{ { "frob" },
	  1,
	  "xlvs: unknown object 'frob' (service, real, stats, conn, status, reload, diff, save, explain, decap, help)\n",
	  "usage: xlvs [OPTIONS]" },
	{ { "s" }, 1, "xlvs: ambiguous object 's'", NULL },
	{ { "service", "frob" },
	  1,
	  "xlvs: unknown verb 'frob' for service; verbs: list, show, add, del\n",
	  NULL },
	{ { "real" }, 1, "xlvs: real needs a verb: add, del, set-weight, drain, show\n", NULL },
	{ { "real", "d", "1.1.1.1", "2.2.2.2" }, 1, "xlvs: ambiguous verb 'd' for real", NULL },
	{ { "help", "frob" }, 1, "xlvs: no help for 'frob'\n", NULL },
	{ { "service", "add" }, 1, "xlvs: missing SERVICE (VIP[:PORT])\n", SVC_USAGE },
	{ { "service", "add", "198.18.0.10:99999" },
	  1,
	  "xlvs: invalid port '99999' in '198.18.0.10:99999' (0-65535)\n",
	  SVC_USAGE },
	{ { "service", "add", "lb.example.com" }, 1, "does not resolve names", SVC_USAGE },
	{ { "service", "add", "198.18.0.10:80/udp", "tcp" },
	  1,
	  "xlvs: two protocols for one service: '198.18.0.10:80/udp' and 'tcp'\n",
	  SVC_USAGE },
	{ { "service", "add", "198.18.0.10", "scheduler", "fastest" },
	  1,
	  "xlvs: unknown scheduler 'fastest' (maglev, rr, wrr",
	  SVC_USAGE },
	{ { "service", "add", "198.18.0.10", "scheduler" },
	  1,
	  "xlvs: 'scheduler' needs a value\n",
	  SVC_USAGE },
	{ { "service", "add", "198.18.0.10", "forward", "gre" },
	  1,
	  "xlvs: unknown forwarding method 'gre' (dr, tun, gue, nat (masq), fullnat, local)\n",
	  SVC_USAGE },
	{ { "service", "add", "198.18.0.10", "ring-size", "65536" },
	  1,
	  "xlvs: invalid ring-size '65536' (a prime up to 16777216",
	  SVC_USAGE },
	{ { "service", "add", "198.18.0.10", "persistent" },
	  1,
	  "xlvs: 'persistent' needs a value\n",
	  SVC_USAGE },
	{ { "service", "add", "198.18.0.10", "persistent", "604801" },
	  1,
	  "xlvs: invalid persistent '604801' (seconds, 0 (off) to 604800)\n",
	  SVC_USAGE },
	{ { "service", "add", "198.18.0.10", "persistent", "300", "netmask", "/24" },
	  1,
	  "xlvs: invalid netmask '/24' (e.g. 255.255.255.0, 24; IPv6: 1-128)\n",
	  SVC_USAGE },
	{ { "service", "add", "198.18.0.10", "flow-state", "stateless" },
	  1,
	  "xlvs: unknown flow state 'stateless' (auto, ring, table)\n",
	  SVC_USAGE },
	{ { "service", "add", "198.18.0.10", "flow-state", "RING" },
	  1,
	  "xlvs: unknown flow state 'RING' (auto, ring, table)\n",
	  SVC_USAGE },
	{ { "service", "add", "198.18.0.10", "ring-window", "604801" },
	  1,
	  "xlvs: invalid ring-window '604801' (seconds, 0 (the tcp timeout) to 604800)\n",
	  SVC_USAGE },
	{ { "service", "add", "198.18.0.10", "ring-window", "10m" },
	  1,
	  "xlvs: invalid ring-window '10m' (seconds, 0 (the tcp timeout) to 604800)\n",
	  SVC_USAGE },
	{ { "service", "del", "198.18.0.10", "echo" },
	  1,
	  "xlvs: unexpected argument 'echo'\n",
	  "usage: xlvs service del " },
	{ { "service", "show" }, 1, "xlvs: missing SERVICE (VIP[:PORT])\n", "usage: xlvs service show" },
	{ { "service", "list", "--bogus" },
	  1,
	  "xlvs: unknown option '--bogus'\n",
	  "usage: xlvs service list" },
	{ { "real", "add", "198.18.0.10:80" }, 1, "xlvs: missing REAL (real server address)\n", REAL_USAGE },
	{ { "real", "add", "2001:db8::10:80", "2001:db8:1::11" },
	  1,
	  "xlvs: '2001:db8::10:80' is ambiguous: write [2001:db8::10]:80 for port 80, or [2001:db8::10:80] "
	  "for the address\n",
	  REAL_USAGE },
	{ { "real", "add", "[2001:db8::10]:80", "2001:db8:1::11:8080" },
	  1,
	  "xlvs: '2001:db8:1::11:8080' is ambiguous: write [2001:db8:1::11]:8080",
	  REAL_USAGE },
	{ { "real", "add", "198.18.0.10:80", "198.18.1.1/tcp" },
	  1,
	  "xlvs: '198.18.1.1/tcp': a real server takes no /protocol\n",
	  REAL_USAGE },
	{ { "real", "add", "198.18.0.10:80", "198.18.1.1", "weight", "65536" },
	  1,
	  "xlvs: invalid weight '65536' (0-65535)\n",
	  REAL_USAGE },
	{ { "real", "add", "198.18.0.10:80", "198.18.1.1", "weight", "-1" },
	  1,
	  "xlvs: invalid weight '-1' (0-65535)\n",
	  REAL_USAGE },
	{ { "real", "add", "198.18.0.10:80", "198.18.1.1", "gue-port", "0" },
	  1,
	  "xlvs: invalid gue-port '0' (1-65535)\n",
	  REAL_USAGE },
	{ { "real", "set-weight", "198.18.0.10:80", "198.18.1.1" },
	  1,
	  "xlvs: missing the weight (0-65535)\n",
	  "usage: xlvs real set-weight SERVICE REAL[:PORT] N" },
	{ { "real", "set-weight", "198.18.0.10:80", "198.18.1.1", "2", "3" },
	  1,
	  "xlvs: unexpected argument '3'\n",
	  NULL },
	{ { "real", "drain", "198.18.0.10:80", "198.18.1.1", "0" },
	  1,
	  "xlvs: unexpected argument '0'\n",
	  NULL },
	{ { "real", "drain", "198.18.0.10:80", "198.18.1.1", "--timeout", "5" },
	  1,
	  "xlvs: --timeout needs --wait\n",
	  "usage: xlvs real drain SERVICE REAL[:PORT] [--wait [--timeout SECS]]" },
	{ { "real", "drain", "198.18.0.10:80", "198.18.1.1", "--wait", "--timeout", "0" },
	  1,
	  "xlvs: invalid timeout '0' (1-604800 seconds)\n",
	  NULL },
	{ { "real", "drain", "198.18.0.10:80", "198.18.1.1", "--wait", "--timeout" },
	  1,
	  "xlvs: '--timeout' needs a value\n",
	  NULL },
	{ { "real", "drain", "198.18.0.10:80", "198.18.1.1", "--forever" },
	  1,
	  "xlvs: unknown option '--forever'\n",
	  NULL },
	{ { "real", "show", "198.18.0.10:80" },
	  1,
	  "xlvs: missing REAL (real server address)\n",
	  "usage: xlvs real show SERVICE REAL[:PORT]" },
	{ { "real", "show", "198.18.0.10:80", "198.18.1.1", "extra" },
	  1,
	  "xlvs: unexpected argument 'extra'\n",
	  NULL },
	{ { "real", "s", "198.18.0.10:80", "198.18.1.1" }, 1, "xlvs: ambiguous verb 's' for real", NULL },
	{ { "stats", "-w", "0" },
	  1,
	  "xlvs: invalid interval '0' (seconds, e.g. 1 or 0.5)\n",
	  "usage: xlvs stats" },
	{ { "stats", "--watch=soon" }, 1, "xlvs: invalid interval 'soon'", "usage: xlvs stats" },
	{ { "stats", "--count", "2" }, 1, "xlvs: --count needs --watch SECS\n", "usage: xlvs stats" },
	{ { "stats", "extra" }, 1, "xlvs: 'extra' is not an IP address", "usage: xlvs stats" },
	{ { "stats", "198.18.0.10:80" }, 1, "xlvs: SERVICE needs --zero\n", "usage: xlvs stats" },
	{ { "stats", "--zero", "198.18.0.10:80", "198.18.1.1", "extra" },
	  1,
	  "xlvs: unexpected argument 'extra'\n",
	  "usage: xlvs stats" },
	{ { "stats", "-Z", "-w", "1" },
	  1,
	  "xlvs: --zero and --watch do not go together\n",
	  "usage: xlvs stats" },
	{ { "stats", "-Z", "2001:db8::10:80" },
	  1,
	  "xlvs: '2001:db8::10:80' is ambiguous",
	  "usage: xlvs stats" },
	{ { "reload", "--dry-run", "now" },
	  1,
	  "xlvs: unexpected argument 'now'\n",
	  "usage: xlvs reload [--dry-run]" },
	{ { "diff", "a.yaml", "b.yaml" },
	  1,
	  "xlvs: unexpected argument 'b.yaml'\n",
	  "usage: xlvs diff [FILE]" },
	{ { "save", "now" }, 1, "xlvs: unexpected argument 'now'\n", "usage: xlvs save" },
	{ { "diff", "/nonexistent/xlvs.yaml" },
	  2,
	  "xlvs: /nonexistent/xlvs.yaml: No such file or directory\n",
	  NULL },
	{ { "conn", "list", "--limit", "0" },
	  1,
	  "xlvs: invalid limit '0' (1 or more)\n",
	  "usage: xlvs conn list [SERVICE] [--real ADDR] [--client ADDR[:PORT]] [--limit N]" },
	{ { "conn", "list", "--client", "203.0.113.256" },
	  1,
	  "xlvs: invalid address '203.0.113.256'\n",
	  "usage: xlvs conn list [SERVICE] [--real ADDR] [--client ADDR[:PORT]] [--limit N]" },
	{ { "conn", "list", "--client", "203.0.113.7:65536" },
	  1,
	  "xlvs: invalid port '65536' in '203.0.113.7:65536' (0-65535)\n",
	  "usage: xlvs conn list" },
	{ { "conn", "list", "--client", "[2001:db8:9::7]:-1" },
	  1,
	  "xlvs: invalid port '-1' in '[2001:db8:9::7]:-1' (0-65535)\n",
	  "usage: xlvs conn list" },
	{ { "conn", "list", "--client", "2001:db8:9::7:5353" },
	  1,
	  "xlvs: '2001:db8:9::7:5353' is ambiguous: write [2001:db8:9::7]:5353 for port 5353, or "
	  "[2001:db8:9::7:5353] for the address\n",
	  "usage: xlvs conn list" },
	{ { "conn", "list", "--client", "client.example.com" },
	  1,
	  "xlvs: 'client.example.com' is not an IP address (xlvs does not resolve names)\n",
	  "usage: xlvs conn list" },
	{ { "conn", "list", "--client", "203.0.113.7:80/tcp" },
	  1,
	  "xlvs: '203.0.113.7:80/tcp': a client takes no /protocol (give it to SERVICE)\n",
	  "usage: xlvs conn list" },
	{ { "conn", "list", "--client", "203.0.113.7", "--client=203.0.113.8" },
	  1,
	  "xlvs: --client given twice (one ADDR[:PORT] only)\n",
	  "usage: xlvs conn list" },
	{ { "conn", "list", "client", "203.0.113.7", "--limit", "5", "--client", "203.0.113.7" },
	  1,
	  "xlvs: --client given twice (one ADDR[:PORT] only)\n",
	  "usage: xlvs conn list" },
	{ { "conn", "list", "--real", "198.18.1.11", "real", "198.18.1.12" },
	  1,
	  "xlvs: --real given twice (one ADDR only)\n",
	  "usage: xlvs conn list" },
	{ { "conn", "list", "--limit", "5", "--limit=10" },
	  1,
	  "xlvs: --limit given twice (one N only)\n",
	  "usage: xlvs conn list" },
	{ { "conn", "list", "198.18.0.10:80", "--client" },
	  1,
	  "xlvs: '--client' needs a value\n",
	  "usage: xlvs conn list" },
	{ { "conn", "list", "198.18.0.10", "198.18.0.11" },
	  1,
	  "xlvs: unexpected argument '198.18.0.11'\n",
	  NULL },
	{ { "status", "now" }, 1, "xlvs: unexpected argument 'now'\n", "usage: xlvs status" },
	{ { "reload", "-x" }, 1, "xlvs: unknown option '-x'\n", "usage: xlvs reload" },
	/* Runtime errors: nothing pinned, nothing listening. */
	{ { "--pin-dir", "/nonexistent/xlvs-test", "service", "list" },
	  2,
	  "xlvs: no xlvs maps pinned under /nonexistent/xlvs-test (is the director loaded? start xlvsd)\n",
	  NULL },
	{ { "--pin-dir=/nonexistent/xlvs-test", "stats" }, 2, "no xlvs maps pinned under", NULL },
	{ { "--pin-dir", "/nonexistent/xlvs-test", "conn" }, 2, "no xlvs maps pinned under", NULL },
	{ { "--pin-dir", "/dev/null", "list" }, 2, "xlvs: /dev/null is not a directory\n", NULL },
	{ { "--pin-dir", "/nonexistent/xlvs-test", "real", "show", "198.18.0.10:80", "198.18.1.1" },
	  2,
	  "xlvs: no xlvs maps pinned under /nonexistent/xlvs-test (is the director loaded? start xlvsd)\n",
	  NULL },
	{ { "--socket", "/nonexistent/xlvsd.sock", "status" },
	  3,
	  "xlvs: xlvsd is not running (no socket at /nonexistent/xlvsd.sock)\n",
	  NULL },
	{ { "reload", "--socket", "/nonexistent/xlvsd.sock" }, 3, "xlvsd is not running", NULL },
	{ { "-j", "service", "add", "198.18.0.10", "--socket=/nonexistent/s" },
	  3,
	  "no socket at /nonexistent/s",
	  NULL },
};

Test(cli_main, bad_command_lines)
{
	size_t i;

	for (i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		const struct bad_line *t = &bad_lines[i];
		const char *err;
		struct run r;

		run_v(&r, t->words);
		err = r.err.buf ? r.err.buf : "";
		cr_expect_eq(r.rc, t->rc, "case %zu (%s ...): exit %d, want %d; stderr: %s", i,
			     t->words[0] ? t->words[0] : "", r.rc, t->rc, err);
		cr_expect_not_null(strstr(err, t->err), "case %zu: stderr '%s', want '%s'", i, err, t->err);
		cr_expect(!strncmp(err, "xlvs: ", 6), "case %zu: '%s'", i, err);
		if (t->usage)
			cr_expect_not_null(strstr(err, t->usage), "case %zu: no usage '%s' in '%s'", i,
					   t->usage, err);
		else
			cr_expect_null(strstr(err, "\nusage: xlvs service"), "case %zu", i);
		cr_expect_str_eq(r.out.buf ? r.out.buf : "", "", "case %zu: stdout not empty", i);
		run_free(&r);
	}
}

Test(cli_main, help_and_version_go_to_stdout)
{
	struct run r;

	RUN(&r, "-h");
	cr_assert_eq(r.rc, 0);
	cr_assert_not_null(strstr(r.out.buf, "usage: xlvs [OPTIONS] OBJECT VERB [ARGS]"));
	cr_assert_not_null(strstr(r.out.buf, "xlvs real set-weight SERVICE REAL[:PORT] N"));
	cr_assert_not_null(strstr(r.out.buf, "Exit status: 0 ok, 1 usage error"));
	cr_assert_str_eq(r.err.buf, "");
	run_free(&r);

	RUN(&r, "-V");
	cr_assert_eq(r.rc, 0);
	cr_assert_str_eq(r.out.buf, "xlvs " XLVS_VERSION "\n");
	run_free(&r);

	RUN(&r, "real", "help");
	cr_assert_eq(r.rc, 0);
	cr_assert_not_null(strstr(r.out.buf, "xlvs real drain SERVICE REAL[:PORT]"));
	cr_assert_null(strstr(r.out.buf, "xlvs service add"));
	run_free(&r);

	RUN(&r, "help", "stats");
	cr_assert_eq(r.rc, 0);
	cr_assert_not_null(strstr(r.out.buf, "xlvs stats [-w|--watch SECS"));
	run_free(&r);

	RUN(&r, "serv", "a", "--help");
	cr_assert_eq(r.rc, 0);
	cr_assert_not_null(strstr(r.out.buf, "usage: xlvs service add VIP[:PORT]"));
	run_free(&r);
}

Test(cli_main, options_anywhere_and_abbreviations)
{
	struct run r;

	/* Global options after the verb still count: the error names this socket. */
	RUN(&r, "rea", "dr", "198.18.0.10", "198.18.1.1", "-jn", "--socket", "/nonexistent/a.sock");
	cr_assert_eq(r.rc, 3);
	cr_assert_str_eq(r.err.buf, "xlvs: xlvsd is not running (no socket at /nonexistent/a.sock)\n");
	run_free(&r);

	RUN(&r, "conn", "-p", "--pin-dir", "/nonexistent/p");
	cr_assert_eq(r.rc, 2);
	run_free(&r);

	/* ... and between the object and its verb. */
	RUN(&r, "real", "-j", "--socket", "/nonexistent/b.sock", "del", "198.18.0.10", "198.18.1.1");
	cr_assert_eq(r.rc, 3);
	cr_assert_str_eq(r.err.buf, "xlvs: xlvsd is not running (no socket at /nonexistent/b.sock)\n");
	run_free(&r);
	RUN(&r, "decap", "-j", "--pin-dir", "/nonexistent/p", "status", "dev", "lo");
	cr_assert_eq(r.rc, 2, "%s", r.err.buf);
	cr_assert_str_eq(
		r.err.buf,
		"xlvs: xlvs_decap is not attached to lo (nothing pinned in /nonexistent/p/decap/lo)\n");
	run_free(&r);
}

/* ---- the control socket against a fake daemon ---------------------------- */

struct fake {
	char dir[64], path[96];
	pid_t pid;
	int req_fd; /* read end: the request line the fake received */
};

/*
 * Fork a daemon that answers one connection with reply (NULL: never answers,
 * "" : closes without a word) and sends the request it read back over a pipe.
 */
static void fake_start(struct fake *f, const char *reply)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int ls, pfd[2];

	snprintf(f->dir, sizeof(f->dir), "/tmp/xlvs-cli-test.XXXXXX");
	cr_assert_not_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/xlvsd.sock", f->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	ls = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_geq(ls, 0);
	cr_assert_eq(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(ls, 1), 0);
	cr_assert_eq(pipe(pfd), 0);
	f->pid = fork();
	cr_assert_geq(f->pid, 0);
	if (f->pid == 0) {
		char buf[4096];
		ssize_t n, len = 0;
		int c;

		/* Never outlive the test, even one that failed before fake_stop(). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		alarm(10);
		c = accept(ls, NULL, NULL);

		while (c >= 0 && len < (ssize_t)sizeof(buf) - 1 &&
		       (n = read(c, buf + len, sizeof(buf) - 1 - len)) > 0) {
			len += n;
			if (memchr(buf, '\n', len))
				break;
		}
		if (write(pfd[1], buf, len) < 0)
			_exit(1);
		close(pfd[1]);
		if (!reply)
			pause();
		if (*reply && (write(c, reply, strlen(reply)) < 0 || write(c, "\n", 1) < 0))
			_exit(1);
		_exit(0);
	}
	close(ls);
	close(pfd[1]);
	f->req_fd = pfd[0];
}

/* The request line the fake saw, parsed. */
static json_t *fake_request(struct fake *f)
{
	char buf[4096];
	ssize_t n = read(f->req_fd, buf, sizeof(buf) - 1);

	cr_assert_gt(n, 0);
	buf[n] = '\0';
	cr_assert_eq(strchr(buf, '\n'), buf + n - 1, "one line, newline-terminated: %s", buf);
	return parse_json(buf);
}

static void fake_stop(struct fake *f)
{
	kill(f->pid, SIGKILL);
	waitpid(f->pid, NULL, 0);
	close(f->req_fd);
	unlink(f->path);
	rmdir(f->dir);
}

/* A field a JSON document must have (or lack), written in a row. */
enum jkind {
	J_STR = 1,
	J_INT,
	J_TRUE,
	J_FALSE,
	J_ABSENT
};

struct jwant {
	const char *path; /* jfind() path */
	enum jkind kind;
	const char *str;
	long long num;
};

#define JSTR(p, v)                                                                                           \
	{                                                                                                    \
		p, J_STR, .str = v                                                                           \
	}
#define JINT(p, v)                                                                                           \
	{                                                                                                    \
		p, J_INT, .num = v                                                                           \
	}
#define JTRUE(p)                                                                                             \
	{                                                                                                    \
		p, J_TRUE                                                                                    \
	}
#define JFALSE(p)                                                                                            \
	{                                                                                                    \
		p, J_FALSE                                                                                   \
	}
#define JABSENT(p)                                                                                           \
	{                                                                                                    \
		p, J_ABSENT                                                                                  \
	}

static void expect_fields(const char *row, const char *what, json_t *j, const struct jwant *w)
{
	for (; w->path; w++) {
		json_t *v = jfind(j, w->path);

		if (w->kind == J_ABSENT) {
			cr_expect_null(v, "%s: %s has %s, want none", row, what, w->path);
			continue;
		}
		if (!v) {
			cr_expect_fail("%s: %s has no %s", row, what, w->path);
			continue;
		}
		switch (w->kind) {
		case J_STR: {
			const char *got = json_is_string(v) ? json_string_value(v) : "(not a string)";

			cr_expect_str_eq(got, w->str, "%s: %s %s '%s', want '%s'", row, what, w->path, got,
					 w->str);
			break;
		}
		case J_INT:
			cr_expect(json_is_integer(v) && json_integer_value(v) == w->num,
				  "%s: %s %s is not %lld", row, what, w->path, w->num);
			break;
		case J_TRUE:
			cr_expect(json_is_true(v), "%s: %s %s is not true", row, what, w->path);
			break;
		case J_FALSE:
			cr_expect(json_is_false(v), "%s: %s %s is not false", row, what, w->path);
			break;
		case J_ABSENT:
			break;
		}
	}
}

/*
 * The CLI against a fake daemon: a command line, the daemon's one-line reply,
 * and what must come of it: exit code, stdout, stderr, and the request the
 * daemon received.
 */
static const char SOCK[] = "(the fake's socket)";

struct ctl_row {
	const char *name;
	const char *reply;     /* the fake daemon's answer */
	const char *words[20]; /* the command line; SOCK: the fake's socket path */
	int rc;
	const char *out;	  /* stdout exactly (NULL: see out_json) */
	bool out_is_prefix;	  /* out is only how stdout starts */
	struct jwant out_json[4]; /* stdout parsed as JSON has these fields */
	const char *err;	  /* stderr exactly (NULL: not checked) */
	const char *req_line;	  /* the request, compacted, exactly (NULL: see req) */
	size_t req_keys;	  /* the request has exactly this many keys (0: not checked) */
	struct jwant req[10];	  /* the request has these fields */
};

static const struct ctl_row ctl_rows[] = {
	{ "real add: request fields and the applied summary",
	  "{\"ok\":true,\"applied\":{\"services_added\":0,\"services_updated\":0,"
	  "\"services_removed\":0,\"reals_written\":1,\"reals_removed\":0,"
	  "\"ring_slots_written\":21845,\"vips_written\":0,\"vips_removed\":0}}",
	  { "--socket", SOCK, "real", "add", "[2001:db8::10]:53/udp", "198.18.2.1", "weight", "3", "forward",
	    "ipip", "gue-port", "7777" },
	  0,
	  .out = "applied: services added 0, updated 0, removed 0; reals written 1, removed 0; "
		 "ring slots written 21845; vips written 0, removed 0\n",
	  .req = { JSTR("cmd", "real-add"), JSTR("service.vip", "2001:db8::10"), JINT("service.port", 53),
		   JSTR("service.protocol", "udp"), JSTR("real.address", "198.18.2.1"),
		   JABSENT("real.port"), /* no port given, none sent */
		   JINT("weight", 3), JSTR("forward", "tun"), JINT("gue_port", 7777) } },
	{ "service add: request fields and JSON output",
	  "{\"ok\":true,\"applied\":{\"services_added\":1}}",
	  { "-j", "--socket", SOCK, "service", "add", "198.18.0.10", "udp", "scheduler", "maglev",
	    "ring-size", "251", "echo", "forward", "gue" },
	  0,
	  .out_json = { JINT("applied.services_added", 1) },
	  .req = { JSTR("cmd", "service-add"), JINT("service.port", 0), /* no port: all ports */
		   JSTR("service.protocol", "udp"), JSTR("scheduler", "maglev"), JINT("ring_size", 251),
		   JTRUE("echo"), JSTR("forward", "gue") } },
	{ "service update sends only what is given (cmd, service, echo)",
	  "{\"ok\":true,\"applied\":{\"services_updated\":1}}",
	  { "--socket", SOCK, "service", "add", "198.18.0.10:80", "no-echo" },
	  0,
	  .out = "applied: services updated 1\n",
	  .req_keys = 3,
	  .req = { JFALSE("echo") } },
	{ "service add: flow-state and ring-window as the file's words and seconds",
	  "{\"ok\":true,\"applied\":{\"services_updated\":1}}",
	  { "--socket", SOCK, "service", "add", "198.18.0.10:80", "flow-state", "ring", "ring-window",
	    "600" },
	  0,
	  .out = "applied: services updated 1\n",
	  .req_keys = 4,
	  .req = { JSTR("cmd", "service-add"), JSTR("flow_state", "ring"), JINT("ring_window", 600) } },
	{ "service add: ring-window 0 is sent (back to the tcp timeout)",
	  "{\"ok\":true,\"applied\":{\"services_updated\":1}}",
	  { "--socket", SOCK, "service", "add", "198.18.0.10:80", "ring-window", "0", "flow-state", "table" },
	  0,
	  .out = "applied: services updated 1\n",
	  .req_keys = 4,
	  .req = { JINT("ring_window", 0), JSTR("flow_state", "table") } },
	{ "real drain is set-weight 0, and says the change is runtime only",
	  "{\"ok\":true,\"applied\":{}}",
	  { "--socket", SOCK, "real", "drain", "198.18.0.10:80", "198.18.1.11:80" },
	  0,
	  .out = "applied: nothing\n",
	  .err = RUNTIME_NOTE,
	  .req = { JSTR("cmd", "real-set-weight"), JINT("weight", 0), JINT("real.port", 80),
		   JSTR("service.protocol", "tcp") } },
	{ "refused is exit 4 with the daemon's words, control characters neutered",
	  "{\"ok\":false,\"error\":\"no service tcp 198.18.0.99:80\\u001b[2J\"}",
	  { "--socket", SOCK, "service", "del", "198.18.0.99:80" },
	  4,
	  .out = "",
	  .err = "xlvs: no service tcp 198.18.0.99:80?[2J\n" },
	{ "a refusal that does not name the service is prefixed with it",
	  "{\"ok\":false,\"error\":\"no real 198.18.1.99 in this service\"}",
	  { "--socket", SOCK, "real", "del", "[2001:db8::10]:80/udp", "198.18.1.99" },
	  4,
	  .out = "",
	  .err = "xlvs: UDP [2001:db8::10]:80: no real 198.18.1.99 in this service\n" },
	{ "a refused service add: no runtime note",
	  "{\"ok\":false,\"error\":\"ring_size: 7 is too small\"}",
	  { "--socket", SOCK, "service", "add", "198.18.0.10:80", "ring-size", "7" },
	  4,
	  .out = "",
	  .err = "xlvs: TCP 198.18.0.10:80: ring_size: 7 is too small\n" },
	{ "status through the socket",
	  status_json,
	  { "--socket", SOCK, "status" },
	  0,
	  .out = "xlvsd 0.1.0, pid 1234, up 1d 2h 3m 4s\n",
	  .out_is_prefix = true,
	  .req_line = "{\"cmd\":\"status\"}" },
};

static void run_ctl_row(const struct ctl_row *t)
{
	const char *words[sizeof(t->words) / sizeof(t->words[0]) + 1];
	const char *out;
	struct fake f;
	struct run r;
	json_t *req;
	size_t i;

	fake_start(&f, t->reply);
	for (i = 0; t->words[i]; i++)
		words[i] = t->words[i] == SOCK ? f.path : t->words[i];
	words[i] = NULL;
	run_v(&r, words);
	out = r.out.buf ? r.out.buf : "";
	cr_expect_eq(r.rc, t->rc, "%s: exit %d, want %d; stderr: %s", t->name, r.rc, t->rc, r.err.buf);
	if (t->out && t->out_is_prefix)
		cr_expect(!strncmp(out, t->out, strlen(t->out)), "%s: stdout '%s', want it to start '%s'",
			  t->name, out, t->out);
	else if (t->out)
		cr_expect_str_eq(out, t->out, "%s: stdout '%s', want '%s'", t->name, out, t->out);
	if (t->out_json[0].path) {
		json_t *j = parse_json(out);

		expect_fields(t->name, "output", j, t->out_json);
		json_decref(j);
	}
	if (t->err)
		cr_expect_str_eq(r.err.buf ? r.err.buf : "", t->err, "%s: stderr '%s', want '%s'", t->name,
				 r.err.buf ? r.err.buf : "", t->err);

	req = fake_request(&f);
	if (t->req_line) {
		char *line = json_dumps(req, JSON_COMPACT);

		cr_expect_str_eq(line ? line : "", t->req_line, "%s: request %s, want %s", t->name,
				 line ? line : "", t->req_line);
		free(line);
	}
	if (t->req_keys)
		cr_expect_eq(json_object_size(req), t->req_keys, "%s: request has %zu keys, want %zu",
			     t->name, json_object_size(req), t->req_keys);
	expect_fields(t->name, "request", req, t->req);
	json_decref(req);
	run_free(&r);
	fake_stop(&f);
}

Test(cli_ctl, requests_and_replies)
{
	size_t i;

	for (i = 0; i < sizeof(ctl_rows) / sizeof(ctl_rows[0]); i++)
		run_ctl_row(&ctl_rows[i]);
}

/*
 * xlvs_ctl_call() against daemons that fail: a fake with a broken answer, or
 * no daemon at all. Each is a daemon error (exit 3) with no reply.
 */
static const char NOT_A_SOCKET[] = "(a plain file)";

struct call_row {
	const char *name;
	const char *path;  /* NULL: a fake daemon's socket; NOT_A_SOCKET: a fresh plain file */
	const char *reply; /* the fake's answer (NULL: never answers, "": closes without a word) */
	int timeout_ms;
	int rc;
	const char *err; /* substring of the error */
	bool err_exact;	 /* err is the whole error */
};

static const struct call_row call_rows[] = {
	{ "malformed reply", NULL, "garbage{", 2000, XLVS_EXIT_DAEMON, .err = "malformed reply from xlvsd" },
	{ "reply not an object", NULL, "[1,2]", 2000, XLVS_EXIT_DAEMON, .err = "not an object with \"ok\"" },
	{ "reply whose ok is not a boolean", NULL, "{\"ok\":1}", 2000, XLVS_EXIT_DAEMON,
	  .err = "not an object with \"ok\"" },
	{ "daemon closes without answering", NULL, "", 2000, XLVS_EXIT_DAEMON,
	  .err = "closed the connection without answering" },
	{ "daemon never answers: timeout", NULL, NULL, 200, XLVS_EXIT_DAEMON,
	  .err = "did not answer within 0.2 s" },
	/* As when xlvsd died and left its socket. */
	{ "a file that is no socket is refused", NOT_A_SOCKET, NULL, 1000, XLVS_EXIT_DAEMON,
	  .err = "xlvsd is not running (nothing listens on" },
	{ "no socket at the path", "/tmp/xlvs-cli-test-missing/s", NULL, 1000, XLVS_EXIT_DAEMON,
	  .err = "xlvsd is not running (no socket at /tmp/xlvs-cli-test-missing/s)", .err_exact = true },
};

static void run_call_row(const struct call_row *t)
{
	char err[256] = "", file[] = "/tmp/xlvs-cli-test.XXXXXX";
	json_t *req = json_pack("{s:s}", "cmd", "status"), *rep = NULL;
	const char *path = t->path;
	struct fake f;
	int rc, fd;

	if (!path) {
		fake_start(&f, t->reply);
		path = f.path;
	} else if (path == NOT_A_SOCKET) {
		fd = mkstemp(file);
		cr_assert_geq(fd, 0, "%s: mkstemp", t->name);
		close(fd);
		path = file;
	}
	rc = xlvs_ctl_call(path, req, t->timeout_ms, &rep, err, sizeof(err));
	cr_expect_eq(rc, t->rc, "%s: rc %d, want %d (%s)", t->name, rc, t->rc, err);
	if (t->err_exact)
		cr_expect_str_eq(err, t->err, "%s: error '%s', want '%s'", t->name, err, t->err);
	else
		cr_expect_not_null(strstr(err, t->err), "%s: error '%s', want '%s'", t->name, err, t->err);
	cr_expect_null(rep, "%s: a reply although the call failed", t->name);
	json_decref(rep);
	json_decref(req);
	if (!t->path)
		fake_stop(&f);
	else if (t->path == NOT_A_SOCKET)
		unlink(file);
}

Test(cli_ctl, failing_daemons)
{
	size_t i;

	for (i = 0; i < sizeof(call_rows) / sizeof(call_rows[0]); i++)
		run_call_row(&call_rows[i]);
}

/* ---- end to end: the listing commands on real pinned maps (root) ---------- */

static struct xlvs_addr A(const char *text) {
	struct xlvs_endpoint ep;
	char err[XLVS_ERRLEN];

	cr_assert_eq(xlvs_parse_endpoint(text, false, &ep, err, sizeof(err)), 0, "%s", err);
	return ep.addr;
}

/* Load the director with its maps pinned under dir and apply two services. */
static struct xlvs_lb_bpf *
pinned_world(const char *dir)
{
	LIBBPF_OPTS(bpf_object_open_opts, o, .pin_root_path = dir);
	struct xlvs_real_spec r4[] = {
		{ .addr = A("198.18.1.11"), .port = 80, .weight = 1, .fwd = XLVS_FWD_TUN },
		{ .addr = A("198.18.1.12"), .port = 80, .weight = 2, .fwd = XLVS_FWD_DR },
	};
	struct xlvs_real_spec r6[] = {
		{ .addr = A("2001:db8:1::1"), .port = 53, .weight = 3, .fwd = XLVS_FWD_GUE, .gue_port = 7777 },
	};
	struct xlvs_svc_spec svc[] = {
		{ .vip = A("198.18.0.10"),
		  .proto = IPPROTO_TCP,
		  .port = 80,
		  .fwd = XLVS_FWD_TUN,
		  .flags = XLVS_SVC_F_ECHO,
		  .ring_size = 251,
		  /* the listings below show a table service; ring state has its own test (set_ring_state) */
		  .flow_state = XLVS_FLOW_STATE_TABLE,
		  .nr_reals = 2,
		  .reals = r4 },
		{ .vip = A("2001:db8::10"),
		  .proto = IPPROTO_UDP,
		  .port = 53,
		  .fwd = XLVS_FWD_GUE,
		  .ring_size = 251,
		  .nr_reals = 1,
		  .reals = r6 },
	};
	struct xlvs_spec spec = { .nr_services = 2, .services = svc };
	struct xlvs_lb_bpf *skel;
	struct xlvs_maps m;

	cr_assert_eq(mkdir(dir, 0700), 0, "mkdir %s: %s", dir, strerror(errno));
	skel = xlvs_lb_bpf__open_opts(&o);
	cr_assert_not_null(skel);
	bpf_map__set_max_entries(skel->maps.xlvs_ring, xlvs_ring_blocks(4 * 251));
	cr_assert_eq(xlvs_lb_size_stripes(skel), 0);
	cr_assert_eq(xlvs_lb_bpf__load(skel), 0);
	cr_assert_eq(xlvs_maps_from_obj(&m, skel->obj), 0);
	cr_assert_eq(xlvs_apply(&m, &spec, NULL), 0);
	xlvs_maps_close(&m);
	return skel;
}

struct real_ref {
	uint32_t id, gen;
};

/* The id and generation of the real at addr (any service) in the pinned maps. */
static struct real_ref real_ref(const char *dir, const char *addr)
{
	struct xlvs_addr a = A(addr);
	struct real_ref ref = { XLVS_REAL_NONE, 0 };
	struct xlvs_state st = { 0 };
	struct xlvs_maps m;
	size_t i, k;

	cr_assert_eq(xlvs_maps_open(&m, dir), 0);
	cr_assert_eq(xlvs_state_read(&m, &st), 0);
	for (i = 0; i < st.nr_services; i++)
		for (k = 0; k < st.services[i].nr_reals; k++)
			if (!memcmp(st.services[i].reals[k].real.addr, a.be, 16))
				ref = (struct real_ref){ st.services[i].reals[k].id,
							 st.services[i].reals[k].real.gen };
	xlvs_state_free(&st);
	xlvs_maps_close(&m);
	cr_assert_neq(ref.id, XLVS_REAL_NONE, "no real %s", addr);
	return ref;
}

/* A flow src:sport -> dst:dport owned by real (its id and generation now), last seen age_s seconds ago. */
static void put_flow(const char *dir, const char *src, uint16_t sport, const char *dst, uint16_t dport,
		     uint8_t proto, const char *real, unsigned int age_s)
{
	struct xlvs_flow f = { .sport = htons(sport), .dport = htons(dport), .proto = proto };
	struct xlvs_addr from = A(src), to = A(dst);
	struct real_ref r = real_ref(dir, real);
	struct xlvs_conn conn = { .real_id = r.id, .real_gen = r.gen };
	struct xlvs_jiffies j;
	struct xlvs_maps m;

	f.family = from.family;
	memcpy(f.src, from.be, sizeof(f.src));
	memcpy(f.dst, to.be, sizeof(f.dst));
	cr_assert_eq(xlvs_maps_open(&m, dir), 0);
	cr_assert_eq(xlvs_jiffies_read(&j), 0);
	conn.last_seen = j.now - (uint32_t)((uint64_t)age_s * 1000000000ull / j.tick_ns);
	cr_assert_eq(bpf_map_update_elem(m.conns, &f, &conn, BPF_ANY), 0);
	xlvs_maps_close(&m);
}

/* A flow from 203.0.113.7:50123 to the TCP service, owned by 198.18.1.11, seen now. */
static void add_flow(const char *dir)
{
	put_flow(dir, "203.0.113.7", 50123, "198.18.0.10", 80, IPPROTO_TCP, "198.18.1.11", 0);
}

/* Re-stamp add_flow()'s flow as last seen age_s seconds ago, in state st. */
static void age_flow(const char *dir, unsigned int age_s, uint8_t st)
{
	struct xlvs_flow f = {
		.sport = htons(50123), .dport = htons(80), .proto = IPPROTO_TCP, .family = XLVS_AF_INET
	};
	struct xlvs_conn conn;
	struct xlvs_jiffies j;
	struct xlvs_maps m;

	f.src[0] = A("203.0.113.7").be[0];
	f.dst[0] = A("198.18.0.10").be[0];
	cr_assert_eq(xlvs_maps_open(&m, dir), 0);
	cr_assert_eq(bpf_map_lookup_elem(m.conns, &f, &conn), 0, "the flow of add_flow()");
	cr_assert_eq(xlvs_jiffies_read(&j), 0);
	conn.last_seen = j.now - (uint32_t)((uint64_t)age_s * 1000000000ull / j.tick_ns);
	conn.state = st;
	cr_assert_eq(bpf_map_update_elem(m.conns, &f, &conn, BPF_EXIST), 0);
	xlvs_maps_close(&m);
}

/*
 * A child that closes the flow (the client's FIN: no longer active) delay_ms
 * after the fake daemon (pid) has answered and exited: `drain --wait` takes its
 * first sample on that answer, so the delay is measured from there, however
 * slowly the CLI started.
 */
static pid_t age_flow_later(const char *dir, pid_t fake, unsigned int delay_ms)
{
	struct pollfd p = { .fd = pidfd_open(fake, 0), .events = POLLIN };
	pid_t pid;

	cr_assert_geq(p.fd, 0, "pidfd_open: %s", strerror(errno));
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (poll(&p, 1, -1) != 1)
			_exit(1);
		usleep(delay_ms * 1000);
		age_flow(dir, 0, XLVS_CONN_CLOSING);
		_exit(0);
	}
	close(p.fd);
	return pid;
}

/* Lines of text, each parsed as JSON: out[0..n). */
static size_t json_lines(const char *text, json_t **out, size_t max)
{
	char *copy = strdup(text), *save = NULL, *line;
	size_t n = 0;

	cr_assert_not_null(copy);
	for (line = strtok_r(copy, "\n", &save); line && n < max; line = strtok_r(NULL, "\n", &save))
		out[n++] = parse_json(line);
	free(copy);
	return n;
}

static const char health_reply[] =
	"{\"ok\":true,\"services\":[{\"vip\":\"198.18.0.10\",\"port\":80,\"protocol\":\"tcp\",\"check\":\"tcp\","
	"\"on_down\":\"quiesce\",\"up_weight\":3,\"reals\":["
	"{\"address\":\"198.18.1.11\",\"port\":80,\"weight\":1,\"effective_weight\":1,\"in_maps\":true,"
	"\"health\":{\"state\":\"up\",\"check\":\"tcp\",\"check_address\":\"198.18.1.11\",\"check_port\":80,"
	"\"rise\":2,\"fall\":3,\"last_result\":\"ok\",\"last_ok\":true,\"last_message\":\"connected\","
	"\"last_latency_ms\":0.4,\"checks\":7,\"failures\":0,\"transitions\":0,\"since_s\":14,\"rise_fall\":0}},"
	"{\"address\":\"198.18.1.12\",\"port\":80,\"weight\":2,\"effective_weight\":2,\"in_maps\":true,"
	"\"health\":{\"state\":\"unchecked\"}},"
	"{\"address\":\"198.18.1.13\",\"port\":80,\"weight\":5,\"effective_weight\":0,\"in_maps\":false,"
	"\"health\":{\"state\":\"down\",\"check\":\"tcp\",\"check_address\":\"198.18.1.13\",\"check_port\":80,"
	"\"rise\":2,\"fall\":3,\"last_result\":\"failed\",\"last_ok\":false,\"last_message\":\"refused\","
	"\"last_latency_ms\":0.1,\"checks\":9,\"failures\":9,\"transitions\":1,\"since_s\":20,\"rise_fall\":1}}]}]}";

static const char *ls(const char *dir)
{
	static char names[512];
	struct dirent *d;
	DIR *dp = opendir(dir);

	names[0] = 0;
	while (dp && (d = readdir(dp)))
		if (d->d_name[0] != '.')
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s ", d->d_name);
	if (dp)
		closedir(dp);
	return names;
}

Test(cli_maps, listings_read_the_pinned_maps)
{
	char root[] = "/tmp/xlvs-cli-bpffs-XXXXXX", dir[64];
	struct xlvs_lb_bpf *skel;
	struct run r;
	json_t *j;

	cr_assert_eq(geteuid(), 0, "this test needs root (BPF maps): run make test as root");
	/* A private bpffs in a private mount namespace: works without /sys/fs/bpf mounted, leaves nothing. */
	cr_assert_not_null(mkdtemp(root));
	cr_assert_eq(unshare(CLONE_NEWNS), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0, "%s", strerror(errno));
	cr_assert_eq(mount("bpf", root, "bpf", 0, NULL), 0, "mount bpffs: %s", strerror(errno));
	snprintf(dir, sizeof(dir), "%s/xlvs", root);
	skel = pinned_world(dir);
	add_flow(dir);

	RUN(&r, "--pin-dir", dir, "service", "list");
	cr_expect_eq(r.rc, 0, "%s", r.err.buf);
	cr_expect(!strncmp(r.out.buf, "Prot VirtualAddress:Port   Scheduler  Flags\n", 44), "%s", r.out.buf);
	cr_expect_not_null(strstr(r.out.buf, "TCP  198.18.0.10:80        maglev     echo\n"), "%s",
			   r.out.buf);
	cr_expect_not_null(strstr(r.out.buf, "  -> 198.18.1.11:80        Tunnel  1      1          0\n"),
			   "%s", r.out.buf);
	cr_expect_not_null(strstr(r.out.buf, "  -> 198.18.1.12:80        Route   2      0          0\n"),
			   "%s", r.out.buf);
	cr_expect_not_null(strstr(r.out.buf, "UDP  [2001:db8::10]:53     maglev\n"), "%s", r.out.buf);
	cr_expect_not_null(strstr(r.out.buf, "  -> [2001:db8:1::1]:53    GUE     3      0          0\n"),
			   "%s", r.out.buf);
	run_free(&r);

	RUN(&r, "-j", "--pin-dir", dir, "conn", "list");
	cr_expect_eq(r.rc, 0, "%s", r.err.buf);
	j = parse_json(r.out.buf);
	cr_expect_eq(jint(j, "matched"), 1);
	cr_expect_str_eq(jstr(j, "connections.0.real"), "198.18.1.11");
	cr_expect_leq(jint(j, "connections.0.idle_s"), 1);
	json_decref(j);
	run_free(&r);

	/* --real: only that real's flows */
	RUN(&r, "-j", "--pin-dir", dir, "conn", "list", "--real", "198.18.1.11");
	cr_expect_eq(r.rc, 0, "%s", r.err.buf);
	j = parse_json(r.out.buf);
	cr_expect_eq(jint(j, "matched"), 1);
	json_decref(j);
	run_free(&r);
	RUN(&r, "-j", "--pin-dir", dir, "conn", "list", "198.18.0.10:80", "--real", "198.18.1.12");
	cr_expect_eq(r.rc, 0, "%s", r.err.buf);
	j = parse_json(r.out.buf);
	cr_expect_eq(jint(j, "matched"), 0);
	json_decref(j);
	run_free(&r);

	RUN(&r, "--pin-dir", dir, "service", "show", "[2001:db8::10]:53");
	cr_expect_eq(r.rc, 0, "%s", r.err.buf);
	cr_expect_not_null(strstr(r.out.buf, "     gue-port 7777\n"), "%s", r.out.buf);
	/* one real: the whole ring of 251 slots */
	cr_expect_not_null(strstr(r.out.buf, "  ring 251 slots (100.00%)\n"), "%s", r.out.buf);
	run_free(&r);

	/* weights 1 and 2 share the 251 slots, the heavier one more */
	RUN(&r, "-j", "--pin-dir", dir, "service", "show", "198.18.0.10:80");
	cr_expect_eq(r.rc, 0, "%s", r.err.buf);
	j = parse_json(r.out.buf);
	cr_expect_eq(jint(j, "services.0.reals.0.ring_slots") + jint(j, "services.0.reals.1.ring_slots"),
		     251);
	cr_expect_gt(jint(j, "services.0.reals.1.ring_slots"), jint(j, "services.0.reals.0.ring_slots"));
	cr_expect_eq(jint(j, "services.0.reals.1.weight"), 2);
	json_decref(j);
	run_free(&r);

	RUN(&r, "-j", "--pin-dir", dir, "stats");
	cr_expect_eq(r.rc, 0, "%s", r.err.buf);
	j = parse_json(r.out.buf);
	cr_expect_eq(json_object_size(jpath(j, "drops")), XLVS_DROP_MAX);
	cr_expect_eq(json_array_size(jpath(j, "services")), 2);
	json_decref(j);
	run_free(&r);

	cr_expect_eq(bpf_object__unpin_maps(skel->obj, NULL), 0);
	xlvs_lb_bpf__destroy(skel);
	cr_expect_eq(rmdir(dir), 0, "rmdir %s: %s (%s)", dir, strerror(errno), ls(dir));
	cr_expect_eq(umount(root), 0, "%s", strerror(errno));
	cr_expect_eq(rmdir(root), 0, "%s", strerror(errno));
}

/* A private bpffs in a private mount namespace with the two services pinned and one flow. */
static struct xlvs_lb_bpf *private_world(char *root, char *dir, size_t dirlen)
{
	struct xlvs_lb_bpf *skel;

	cr_assert_eq(geteuid(), 0, "this test needs root (BPF maps): run make test as root");
	cr_assert_not_null(mkdtemp(root));
	cr_assert_eq(unshare(CLONE_NEWNS), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0, "%s", strerror(errno));
	cr_assert_eq(mount("bpf", root, "bpf", 0, NULL), 0, "mount bpffs: %s", strerror(errno));
	snprintf(dir, dirlen, "%s/xlvs", root);
	skel = pinned_world(dir);
	add_flow(dir);
	return skel;
}

static void private_world_free(struct xlvs_lb_bpf *skel, const char *root, const char *dir)
{
	cr_expect_eq(bpf_object__unpin_maps(skel->obj, NULL), 0);
	xlvs_lb_bpf__destroy(skel);
	cr_expect_eq(rmdir(dir), 0, "rmdir %s: %s (%s)", dir, strerror(errno), ls(dir));
	cr_expect_eq(umount(root), 0, "%s", strerror(errno));
	cr_expect_eq(rmdir(root), 0, "%s", strerror(errno));
}

/* "client port real" of each connection listed (-j), ';'-separated, in order. */
static const char *conn_summary(json_t *j)
{
	static char buf[512];
	json_t *c;
	size_t i;

	buf[0] = '\0';
	json_array_foreach (jpath(j, "connections"), i, c)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s %lld %s", i ? ";" : "",
			 jstr(c, "client"), jint(c, "client_port"), jstr(c, "real"));
	return buf;
}

/* --client in conn list: what -j lists (matched, then the rows shown) for a command line. */
struct client_case {
	const char *words[10];
	long long matched;
	const char *rows;
};

static const struct client_case client_cases[] = {
	/* every port of the address, most recent first; not 203.0.113.70 (which a grep would take) */
	{ { "--client", "203.0.113.7" },
	  3,
	  "203.0.113.7 50123 198.18.1.11;203.0.113.7 50124 198.18.1.12;203.0.113.7 50125 198.18.1.11" },
	{ { "--client", "203.0.113.7:50124" }, 1, "203.0.113.7 50124 198.18.1.12" },
	{ { "client", "203.0.113.70:50123" }, 1, "203.0.113.70 50123 198.18.1.11" },
	/* 203.0.113.8 has a flow, from another port */
	{ { "--client=203.0.113.8:50123" }, 0, "" },
	{ { "--client", "203.0.113.9" }, 0, "" },
	{ { "--client", "2001:db8:9::7" },
	  2,
	  "2001:db8:9::7 5353 2001:db8:1::1;2001:db8:9::7 5354 2001:db8:1::1" },
	{ { "--client", "[2001:db8:9::7]:5354" }, 1, "2001:db8:9::7 5354 2001:db8:1::1" },
	{ { "--client", "[2001:db8:9::7]" },
	  2,
	  "2001:db8:9::7 5353 2001:db8:1::1;2001:db8:9::7 5354 2001:db8:1::1" },
	/* with a SERVICE, --real and --limit: the limit counts what the filters kept */
	{ { "198.18.0.10:80", "--client", "2001:db8:9::7" }, 0, "" },
	{ { "--client", "[2001:db8:9::7]:5353", "[2001:db8::10]:53/udp" },
	  1,
	  "2001:db8:9::7 5353 2001:db8:1::1" },
	{ { "--client", "203.0.113.7", "--real", "198.18.1.11" },
	  2,
	  "203.0.113.7 50123 198.18.1.11;203.0.113.7 50125 198.18.1.11" },
	{ { "--real", "198.18.1.12", "--client", "203.0.113.7:50125" }, 0, "" },
	{ { "--client", "203.0.113.7", "--limit", "2" },
	  3,
	  "203.0.113.7 50123 198.18.1.11;203.0.113.7 50124 198.18.1.12" },
	{ { "198.18.0.10:80", "--limit", "1", "--real", "198.18.1.11", "--client", "203.0.113.7" },
	  2,
	  "203.0.113.7 50123 198.18.1.11" },
};

/*
 * conn list --client on the pinned world, with flows seen 0-4 s ago from clients that share an
 * address, a port, or the start of their text.
 */
/* `xlvs --pin-dir DIR VERB` exits 2 with want_fmt's message, DIR in place of its %s. */
__attribute__((format(printf, 3, 0))) static void expect_open_error(const char *dir, const char *verb,
								    const char *want_fmt)
{
	char want[512];
	struct run r;

	RUN(&r, "--pin-dir", dir, verb);
	cr_expect_eq(r.rc, 2, "%s", r.err.buf);
	snprintf(want, sizeof(want), want_fmt, dir);
	cr_expect_str_eq(r.err.buf, want);
	run_free(&r);
}

/*
 * A newer xlvs beside an older director: the map it lacks is named, with what to do; a map of
 * another layout likewise. Neither is "nothing loaded".
 */
Test(cli_maps, another_versions_maps_are_named)
{
	char root[] = "/tmp/xlvs-cli-bpffs-XXXXXX", dir[64], path[128];
	struct xlvs_lb_bpf *skel = private_world(root, dir, sizeof(dir));
	struct run r;
	int fd;

	snprintf(path, sizeof(path), "%s/xlvs_svc_out", dir);
	cr_assert_eq(unlink(path), 0, "%s", strerror(errno));
	expect_open_error(dir, "service",
			  "xlvs: the maps under %s lack xlvs_svc_out, which this xlvs reads: the "
			  "director there was loaded by another version of xlvsd (restart xlvsd "
			  "from this version)\n");

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xlvs_svc_out", 4, 8, 1, NULL);
	cr_assert_geq(fd, 0, "%s", strerror(errno));
	cr_assert_eq(bpf_obj_pin(fd, path), 0, "%s", strerror(errno));
	close(fd);
	expect_open_error(dir, "stats",
			  "xlvs: the map xlvs_svc_out under %s does not match this xlvs (another "
			  "version of the director? `xlvsd --detach`, then a start of this "
			  "version, replaces it)\n");

	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(bpf_obj_pin(bpf_map__fd(skel->maps.xlvs_svc_out), path), 0, "%s", strerror(errno));
	RUN(&r, "--pin-dir", dir, "service", "list");
	cr_expect_eq(r.rc, 0, "the pins whole again: %s", r.err.buf);
	run_free(&r);
	private_world_free(skel, root, dir);
}

Test(cli_maps, conn_list_by_client)
{
	char root[] = "/tmp/xlvs-cli-bpffs-XXXXXX", dir[64];
	struct xlvs_lb_bpf *skel = private_world(root, dir, sizeof(dir)); /* 203.0.113.7:50123, now */
	const char *words[16], *text_head = "Prot Client:Port       VirtualAddress:Port RealAddress State   "
					    "Idle(s) Expires(s)\n"
					    "TCP  203.0.113.7:50123 198.18.0.10:80      198.18.1.11 open    ";
	struct run r;
	size_t i, k;
	json_t *j;

	put_flow(dir, "203.0.113.7", 50124, "198.18.0.10", 80, IPPROTO_TCP, "198.18.1.12", 2);
	put_flow(dir, "203.0.113.7", 50125, "198.18.0.10", 80, IPPROTO_TCP, "198.18.1.11", 4);
	put_flow(dir, "203.0.113.70", 50123, "198.18.0.10", 80, IPPROTO_TCP, "198.18.1.11", 1);
	put_flow(dir, "203.0.113.8", 50124, "198.18.0.10", 80, IPPROTO_TCP, "198.18.1.12", 0);
	put_flow(dir, "2001:db8:9::7", 5353, "2001:db8::10", 53, IPPROTO_UDP, "2001:db8:1::1", 1);
	put_flow(dir, "2001:db8:9::7", 5354, "2001:db8::10", 53, IPPROTO_UDP, "2001:db8:1::1", 3);
	put_flow(dir, "2001:db8:9::70", 5353, "2001:db8::10", 53, IPPROTO_UDP, "2001:db8:1::1", 0);

	for (i = 0; i < sizeof(client_cases) / sizeof(client_cases[0]); i++) {
		const struct client_case *t = &client_cases[i];

		words[0] = "-j", words[1] = "--pin-dir", words[2] = dir, words[3] = "conn", words[4] = "list";
		for (k = 0; t->words[k]; k++)
			words[5 + k] = t->words[k];
		words[5 + k] = NULL;
		run_v(&r, words);
		cr_expect_eq(r.rc, 0, "case %zu: %s", i, r.err.buf);
		j = parse_json(r.out.buf);
		cr_expect_eq(jint(j, "matched"), t->matched, "case %zu (%s ...): %lld matched, want %lld", i,
			     t->words[0], jint(j, "matched"), t->matched);
		cr_expect_str_eq(conn_summary(j), t->rows, "case %zu (%s ...): rows '%s', want '%s'", i,
				 t->words[0], conn_summary(j), t->rows);
		json_decref(j);
		run_free(&r);
	}

	RUN(&r, "--pin-dir", dir, "conn", "list", "--client", "203.0.113.7", "--limit", "1");
	cr_expect_eq(r.rc, 0, "%s", r.err.buf);
	cr_expect(!strncmp(r.out.buf, text_head, strlen(text_head)), "%s", r.out.buf);
	cr_expect_not_null(strstr(r.out.buf, "\n(1 of 3 connections shown; see --limit)\n"), "%s", r.out.buf);
	run_free(&r);
	private_world_free(skel, root, dir);
}

/*
 * A pinned world's service (vip, proto, port) with XLVS_SVC_F_RING_STATE set or
 * cleared, as the planner would; returns the service's ring_base.
 */
static uint32_t set_ring_state_of(const char *dir, const char *vip, uint8_t proto, uint16_t port, bool on)
{
	struct xlvs_addr a = A(vip);
	struct xlvs_state st = { 0 };
	uint32_t base = UINT32_MAX;
	struct xlvs_maps m;
	size_t i;

	cr_assert_eq(xlvs_maps_open(&m, dir), 0);
	cr_assert_eq(xlvs_state_read(&m, &st), 0);
	for (i = 0; i < st.nr_services; i++) {
		struct xlvs_svc_state *s = &st.services[i];

		if (s->key.proto != proto || memcmp(s->key.addr, a.be, 16) || s->key.port != htons(port))
			continue;
		s->svc.flags = on ? s->svc.flags | XLVS_SVC_F_RING_STATE
				  : s->svc.flags & ~XLVS_SVC_F_RING_STATE;
		cr_assert_eq(bpf_map_update_elem(m.services, &s->key, &s->svc, BPF_EXIST), 0);
		base = s->svc.ring_base;
	}
	xlvs_state_free(&st);
	xlvs_maps_close(&m);
	cr_assert_neq(base, UINT32_MAX, "no %s port %u proto %u in the world", vip, port, proto);
	return base;
}

/* The pinned world's TCP 198.18.0.10:80. */
static uint32_t set_ring_state(const char *dir, bool on)
{
	return set_ring_state_of(dir, "198.18.0.10", IPPROTO_TCP, 80, on);
}

/* The xlvs_ring value of add_flow()'s slot in that service (the slot explain printed): get, then set. */
static uint32_t ring_slot_value(const char *dir, uint32_t key, const uint32_t *set)
{
	struct xlvs_maps m;
	uint32_t v = 0;

	cr_assert_eq(xlvs_maps_open(&m, dir), 0);
	if (set)
		cr_assert_eq(xlvs_ring_set(m.ring, key, *set), 0);
	cr_assert_eq(xlvs_ring_get(m.ring, key, &v), 0);
	xlvs_maps_close(&m);
	return v;
}

/*
 * explain on a ring-state service (bpf/ring.h): a stable slot with a usable
 * owner decides before any entry; a changed slot (XLVS_SLOT_CHANGED) goes the
 * entry's way and still names its owner; service show counts a changed slot
 * for its owner.
 */
Test(cli_maps, explain_and_show_a_ring_state_service)
{
	char root[] = "/tmp/xlvs-cli-bpffs-XXXXXX", dir[64], want[512], owner[64];
	struct xlvs_lb_bpf *skel = private_world(root, dir, sizeof(dir));
	uint32_t slot, base, v, flagged;
	struct run r;
	json_t *j;
	size_t i;
	long long slots = 0;

	base = set_ring_state(dir, true);
	RUN(&r, "-j", "--pin-dir", dir, "--socket", "/nonexistent/s", "explain", "203.0.113.7:50123",
	    "198.18.0.10:80");
	cr_assert_eq(r.rc, 0, "%s", r.err.buf);
	j = parse_json(r.out.buf);
	cr_expect_str_eq(jstr(j, "ring_slot"), "stable");
	cr_expect_null(json_object_get(j, "entry"), "a stable slot's flow is not looked up: %s", r.out.buf);
	slot = (uint32_t)jint(j, "slot");
	snprintf(owner, sizeof(owner), "%s", jstr(j, "ring_real"));
	json_decref(j);
	run_free(&r);

	RUN(&r, "--pin-dir", dir, "--socket", "/nonexistent/s", "explain", "203.0.113.7:50123",
	    "198.18.0.10:80");
	snprintf(want, sizeof(want),
		 "service: TCP 198.18.0.10:80\n"
		 "ring state: slot %u unchanged: the flow goes to its owner %s with no connection lookup\n"
		 "ring: flow hash ",
		 slot, owner);
	cr_expect(!strncmp(r.out.buf, want, strlen(want)), "%s", r.out.buf);
	cr_expect_null(strstr(r.out.buf, "connection entry"), "%s", r.out.buf);
	run_free(&r);

	/* the slot changed owner: the entry decides; the ring still names the owner (the flag masked) */
	v = ring_slot_value(dir, base + slot, NULL);
	cr_assert_neq(v, XLVS_REAL_NONE);
	flagged = v | XLVS_SLOT_CHANGED;
	ring_slot_value(dir, base + slot, &flagged);
	RUN(&r, "--pin-dir", dir, "--socket", "/nonexistent/s", "explain", "203.0.113.7:50123",
	    "198.18.0.10:80");
	snprintf(want, sizeof(want),
		 "service: TCP 198.18.0.10:80\n"
		 "ring state: slot %u changed owner: its owner now %s; no previous owner\n"
		 "connection entry: real 198.18.1.11, state open\n"
		 "  established flows keep their real whatever the ring says now\n"
		 "  on a changed slot the entry wins (ring_changed_conn_hit)\n",
		 slot, owner);
	cr_expect(!strncmp(r.out.buf, want, strlen(want)), "%s", r.out.buf);
	snprintf(want, sizeof(want), " of 251: real %s (weight", owner);
	cr_expect_not_null(strstr(r.out.buf, want), "the changed slot's owner: %s", r.out.buf);
	run_free(&r);

	RUN(&r, "-j", "--pin-dir", dir, "service", "show", "198.18.0.10:80");
	cr_assert_eq(r.rc, 0, "%s", r.err.buf);
	j = parse_json(r.out.buf);
	cr_expect_str_eq(jstr(j, "services.0.flow_state"), "ring");
	for (i = 0; i < json_array_size(jpath(j, "services.0.reals")); i++)
		slots += json_integer_value(
			json_object_get(json_array_get(jpath(j, "services.0.reals"), i), "ring_slots"));
	cr_expect_eq(slots, 251, "a changed slot still counts for its owner");
	json_decref(j);
	run_free(&r);

	/* back to a table service: the entry decides wherever the slot stands */
	set_ring_state(dir, false);
	RUN(&r, "-j", "--pin-dir", dir, "--socket", "/nonexistent/s", "explain", "203.0.113.7:50123",
	    "198.18.0.10:80");
	j = parse_json(r.out.buf);
	cr_expect_null(json_object_get(j, "ring_slot"), "%s", r.out.buf);
	cr_expect_str_eq(jstr(j, "entry.real"), "198.18.1.11");
	json_decref(j);
	run_free(&r);
	private_world_free(skel, root, dir);
}

/* xlvs_config's flags of the pinned world: set or clear XLVS_CFG_F_HASH_MIX64. */
static void set_flow_hash(const char *dir, bool mix64)
{
	struct xlvs_config c;
	struct xlvs_maps m;

	cr_assert_eq(xlvs_maps_open(&m, dir), 0);
	cr_assert_eq(xlvs_maps_get_config(&m, &c), 0);
	c.flags = mix64 ? c.flags | XLVS_CFG_F_HASH_MIX64 : c.flags & ~XLVS_CFG_F_HASH_MIX64;
	cr_assert_eq(bpf_map_update_elem(m.config, &(uint32_t){ 0 }, &c, BPF_ANY), 0);
	xlvs_maps_close(&m);
}

/*
 * explain hashes as the state says (xlvs_config XLVS_CFG_F_HASH_MIX64), in ring state and for
 * a table service. TCP 203.0.113.7:50123 -> 198.18.0.10:80 by the independent references
 * (tests/unit/golden_mix64.py and test_golden.c's): murmur3 0xb7a86f8e, slot 162 of 251 by
 * the remainder; mix64 0xb97ddc06, slot 181 by the multiply.
 */
Test(cli_maps, explain_follows_the_states_flow_hash)
{
	static const struct {
		bool mix64, ring;
		long long hash, slot;
	} rows[] = {
		{ false, false, 0xb7a86f8e, 162 },
		{ true, false, 0xb97ddc06, 181 },
		{ false, true, 0xb7a86f8e, 162 },
		{ true, true, 0xb97ddc06, 181 },
	};
	char root[] = "/tmp/xlvs-cli-bpffs-XXXXXX", dir[64];
	struct xlvs_lb_bpf *skel = private_world(root, dir, sizeof(dir));
	struct run r;
	json_t *j;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		set_flow_hash(dir, rows[i].mix64);
		set_ring_state(dir, rows[i].ring);
		RUN(&r, "-j", "--pin-dir", dir, "--socket", "/nonexistent/s", "explain", "203.0.113.7:50123",
		    "198.18.0.10:80");
		cr_assert_eq(r.rc, 0, "%s", r.err.buf);
		j = parse_json(r.out.buf);
		cr_expect_eq(jint(j, "hash"), rows[i].hash, "row %zu: hash %lld: %s", i, jint(j, "hash"),
			     r.out.buf);
		cr_expect_eq(jint(j, "slot"), rows[i].slot, "row %zu: slot %lld", i, jint(j, "slot"));
		json_decref(j);
		run_free(&r);
	}
	private_world_free(skel, root, dir);
}

/* The pinned world's TCP 198.18.0.10:80 under sched with these scheduler flags (XLVS_SVC_F_SCHED_*). */
static void set_sched(const char *dir, uint8_t sched, uint32_t sched_flags)
{
	struct xlvs_svc_key k = { .port = htons(80), .proto = IPPROTO_TCP, .family = XLVS_AF_INET };
	struct xlvs_addr a = A("198.18.0.10");
	struct xlvs_service svc;
	struct xlvs_maps m;

	memcpy(k.addr, a.be, sizeof(k.addr));
	cr_assert_eq(xlvs_maps_open(&m, dir), 0);
	cr_assert_eq(bpf_map_lookup_elem(m.services, &k, &svc), 0);
	svc.sched = sched;
	svc.flags = (svc.flags & ~(uint32_t)XLVS_SVC_F_SCHED_PORT) | sched_flags;
	cr_assert_eq(bpf_map_update_elem(m.services, &k, &svc, BPF_EXIST), 0);
	xlvs_maps_close(&m);
}

/* The slot explain's ring-state line names for 203.0.113.7:sport -> 198.18.0.10:80. */
static unsigned int ring_state_slot(const char *dir, uint16_t sport)
{
	char client[32];
	unsigned int slot = 0;
	const char *at;
	struct run r;

	snprintf(client, sizeof(client), "203.0.113.7:%u", sport);
	RUN(&r, "--pin-dir", dir, "--socket", "/nonexistent/s", "explain", client, "198.18.0.10:80");
	cr_assert_eq(r.rc, 0, "%s", r.err.buf);
	at = strstr(r.out.buf, "ring state: slot ");
	cr_assert_not_null(at, "%s", r.out.buf);
	cr_assert_eq(sscanf(at, "ring state: slot %u", &slot), 1, "%s", r.out.buf);
	run_free(&r);
	return slot;
}

/*
 * explain's ring-state slot is the one the data path reads (include/xlvs/hash.h
 * xlvs_ring_index()): maglev's by the flow hash (slot 162 of 251 for port 50123, as in
 * explain_follows_the_states_flow_hash), mh's by the client's address alone, so one for
 * every port of a client, unless mh-port adds the port.
 */
Test(cli_maps, explain_ring_state_slot_follows_the_scheduler)
{
	char root[] = "/tmp/xlvs-cli-bpffs-XXXXXX", dir[64];
	struct xlvs_lb_bpf *skel = private_world(root, dir, sizeof(dir));
	unsigned int mh;

	set_flow_hash(dir, false);
	set_ring_state(dir, true);
	cr_expect_eq(ring_state_slot(dir, 50123), 162);
	cr_expect_neq(ring_state_slot(dir, 50124), 162, "maglev: another port, another slot");
	set_sched(dir, XLVS_SCHED_MH, 0);
	mh = ring_state_slot(dir, 50123);
	cr_expect_neq(mh, 162, "mh: not the flow hash's slot");
	cr_expect_eq(ring_state_slot(dir, 50124), mh, "mh: the client's slot, whatever its port");
	cr_expect_eq(ring_state_slot(dir, 1), mh);
	set_sched(dir, XLVS_SCHED_MH, XLVS_SVC_F_SCHED_PORT);
	cr_expect_neq(ring_state_slot(dir, 50124), ring_state_slot(dir, 50123), "mh-port: the port counts");
	private_world_free(skel, root, dir);
}

/* ---- explain on a changed ring slot: the previous owner and what a packet without an entry does ---- */

enum prev_who {
	WHO_OTHER,
	WHO_OTHER_GEN,
	WHO_OWNER,
	WHO_REMOVED,
	WHO_OTHER_SVC,
	WHO_PEER,
	WHO_PEER_W0
};
enum entry_kind {
	ENTRY_NONE,
	ENTRY_LIVE,
	ENTRY_STALE
};

/*
 * A row sets add_flow()'s slot (owner 198.18.1.12) changed, with xlvs_ring_prev
 * naming who, its window until_s from now (0: no previous owner), and the
 * flow's entry. Texts: {id}, {gen} the previous owner's as written, {newgen}
 * its id's generation now, {eid} 198.18.1.11's id, {s} the window's seconds.
 * UDP rows: the slot of a UDP flow to [2001:db8::10]:53 instead (owner
 * 2001:db8:1::1); its peer (WHO_PEER) is a real 2001:db8:1::2 written beside
 * it, at weight 1 or 0.
 */
struct changed_row {
	const char *name;
	uint8_t proto; /* IPPROTO_UDP: the UDP flow's slot */
	enum prev_who who;
	int until_s;
	enum entry_kind entry;
	const char *prev;  /* the ring-state line after "its owner now 198.18.1.12; " */
	const char *lines; /* the entry's lines and the rule's, up to the ring's line */
	const char *state; /* JSON ring_prev.state */
	const char *
		other; /* JSON ring_next.other (any for udp); NULL: the entry decides (ring_next.by "entry") */
};

#define NO_ENTRY_LINE "connection entry: none\n"
#define TO_PREV                                                                                                  \
	"  without an entry: a packet that is not a SYN began before the change and goes to the previous owner " \
	"198.18.1.11 (ring_prev_owner); a SYN goes to the owner 198.18.1.12 (ring_new_owner)\n"
#define TO_OWNER                                                                                             \
	"  without an entry: every packet is scheduled as a new flow: to the owner 198.18.1.12 (ring_new_owner)\n"
#define WINDOW_OPEN "previous owner 198.18.1.11, window open for {s} s more"

static const struct changed_row changed_rows[] = {
	{ "window open: a packet that is not a SYN goes to the previous owner", IPPROTO_TCP, WHO_OTHER, 100,
	  ENTRY_NONE, WINDOW_OPEN, NO_ENTRY_LINE TO_PREV, "follows", "198.18.1.11" },
	{ "window passed: forgotten, the owner takes every packet", IPPROTO_TCP, WHO_OTHER, -10, ENTRY_NONE,
	  "previous owner 198.18.1.11, window over {s} s ago: forgotten", NO_ENTRY_LINE TO_OWNER,
	  "window_over", "198.18.1.12" },
	{ "gen reused: the id names another real now", IPPROTO_TCP, WHO_OTHER_GEN, 100, ENTRY_NONE,
	  "previous owner id {id} generation {gen}, gone: its id names another real now (generation {newgen})",
	  NO_ENTRY_LINE TO_OWNER, "gen_reused", "198.18.1.12" },
	{ "removed: its id is inactive", IPPROTO_TCP, WHO_REMOVED, 100, ENTRY_NONE,
	  "previous owner id 200 generation 1, gone: removed", NO_ENTRY_LINE TO_OWNER, "inactive",
	  "198.18.1.12" },
	{ "a real of another service", IPPROTO_TCP, WHO_OTHER_SVC, 100, ENTRY_NONE,
	  "previous owner 2001:db8:1::1, of another service: not followed", NO_ENTRY_LINE TO_OWNER,
	  "other_service", "198.18.1.12" },
	{ "changed back to its previous owner", IPPROTO_TCP, WHO_OWNER, 100, ENTRY_NONE,
	  "previous owner 198.18.1.12: the owner itself (the slot changed back)", NO_ENTRY_LINE TO_OWNER,
	  "owner", "198.18.1.12" },
	{ "no previous owner (until 0)", IPPROTO_TCP, WHO_OTHER, 0, ENTRY_NONE, "no previous owner",
	  NO_ENTRY_LINE TO_OWNER, "none", "198.18.1.12" },
	{ "an entry of a real that is gone: the rules as without one", IPPROTO_TCP, WHO_OTHER, 100,
	  ENTRY_STALE, WINDOW_OPEN,
	  "connection entry: made for a real that is gone (id {eid}): the next packet is scheduled afresh "
	  "(conn_resched)\n" TO_PREV,
	  "follows", "198.18.1.11" },
	{ "the entry wins", IPPROTO_TCP, WHO_OTHER, 100, ENTRY_LIVE, WINDOW_OPEN,
	  "connection entry: real 198.18.1.11, state open\n"
	  "  established flows keep their real whatever the ring says now\n"
	  "  on a changed slot the entry wins (ring_changed_conn_hit)\n",
	  "follows", NULL },
	{ "udp: any packet goes to the previous owner while it takes new flows", IPPROTO_UDP, WHO_PEER, 100,
	  ENTRY_NONE, "previous owner 2001:db8:1::2, window open for {s} s more",
	  NO_ENTRY_LINE
	  "  without an entry: a packet goes to the previous owner 2001:db8:1::2, which still takes "
	  "new flows (ring_prev_owner)\n",
	  "follows", "2001:db8:1::2" },
	{ "udp: a previous owner at weight 0 is not followed", IPPROTO_UDP, WHO_PEER_W0, 100, ENTRY_NONE,
	  "previous owner 2001:db8:1::2, window open for {s} s more",
	  NO_ENTRY_LINE
	  "  without an entry: every packet is scheduled as a new flow: to the owner 2001:db8:1::1 "
	  "(ring_new_owner); the previous owner has weight 0, and a packet of this protocol cannot say "
	  "it is not new\n",
	  "follows", "2001:db8:1::1" },
};

#define PEER_ID 201

/* WHO_PEER: a real 2001:db8:1::2 of the UDP service beside 2001:db8:1::1 (copied from it), generation 1. */
static struct real_ref put_peer(const char *dir, struct real_ref r6, uint32_t weight)
{
	uint32_t id = PEER_ID;
	struct xlvs_real real;
	struct xlvs_maps m;

	cr_assert_eq(xlvs_maps_open(&m, dir), 0);
	cr_assert_eq(bpf_map_lookup_elem(m.reals, &r6.id, &real), 0);
	memcpy(real.addr, A("2001:db8:1::2").be, sizeof(real.addr));
	real.gen = 1;
	real.weight = weight;
	cr_assert_eq(bpf_map_update_elem(m.reals, &id, &real, BPF_ANY), 0);
	xlvs_maps_close(&m);
	return (struct real_ref){ id, 1 };
}

/* s with every {key} of kv (n pairs of key, value) replaced, into out. */
static void fill_in(char *out, size_t size, const char *s, const char *const *kv, size_t n)
{
	size_t o = 0, i, len;

	while (*s && o + 1 < size) {
		for (i = 0; i < n; i++) {
			len = strlen(kv[2 * i]);
			if (!strncmp(s, kv[2 * i], len))
				break;
		}
		if (i < n) {
			o += (size_t)snprintf(out + o, size - o, "%s", kv[2 * i + 1]);
			s += len;
		} else {
			out[o++] = *s++;
		}
	}
	out[o < size ? o : size - 1] = '\0';
}

/* Write the row's slot value, previous owner and entry. */
static void changed_row_set(const char *dir, const struct changed_row *row, uint32_t key, uint32_t owner_id,
			    struct real_ref prev)
{
	struct xlvs_flow f = {
		.sport = htons(50123), .dport = htons(80), .proto = IPPROTO_TCP, .family = XLVS_AF_INET
	};
	uint32_t v = owner_id | XLVS_SLOT_CHANGED;
	struct xlvs_slot_prev sp = { .real_id = prev.id, .real_gen = prev.gen };
	struct xlvs_jiffies j;
	struct xlvs_conn conn;
	struct xlvs_maps m;

	f.src[0] = A("203.0.113.7").be[0];
	f.dst[0] = A("198.18.0.10").be[0];
	cr_assert_eq(xlvs_jiffies_read(&j), 0);
	if (row->until_s)
		sp.until = j.now +
			   (uint32_t)(int32_t)((int64_t)row->until_s * 1000000000 / (int64_t)j.tick_ns);
	cr_assert_eq(xlvs_maps_open(&m, dir), 0);
	cr_assert_eq(bpf_map_update_elem(m.ring_prev, &key, &sp, BPF_ANY), 0);
	cr_assert_eq(xlvs_ring_set(m.ring, key, v), 0);
	bpf_map_delete_elem(m.conns, &f);
	xlvs_maps_close(&m);
	if (row->entry == ENTRY_NONE)
		return;
	add_flow(dir); /* 198.18.1.11's, seen now */
	if (row->entry == ENTRY_STALE) {
		cr_assert_eq(xlvs_maps_open(&m, dir), 0);
		cr_assert_eq(bpf_map_lookup_elem(m.conns, &f, &conn), 0);
		conn.real_gen++;
		cr_assert_eq(bpf_map_update_elem(m.conns, &f, &conn, BPF_EXIST), 0);
		xlvs_maps_close(&m);
	}
}

/* The text explain printed for the row; a window's seconds may have moved on by up to 2 while it ran. */
static void changed_row_expect_text(const struct changed_row *row, const char *out, uint32_t slot,
				    struct real_ref prev, uint32_t newgen, uint32_t eid)
{
	char id[16], gen[16], ng[16], e[16], sec[16], want[1024], tmpl[1024];
	bool udp = row->proto == IPPROTO_UDP;
	const char *kv[] = { "{id}", id, "{gen}", gen, "{newgen}", ng, "{eid}", e, "{s}", sec };
	int d;

	snprintf(id, sizeof(id), "%u", prev.id);
	snprintf(gen, sizeof(gen), "%u", prev.gen);
	snprintf(ng, sizeof(ng), "%u", newgen);
	snprintf(e, sizeof(e), "%u", eid);
	snprintf(tmpl, sizeof(tmpl),
		 "service: %s\n"
		 "ring state: slot %u changed owner: its owner now %s; %s\n"
		 "%sring: flow hash ",
		 udp ? "UDP [2001:db8::10]:53" : "TCP 198.18.0.10:80", slot,
		 udp ? "2001:db8:1::1" : "198.18.1.12", row->prev, row->lines);
	for (d = 0; d <= 2; d++) {
		snprintf(sec, sizeof(sec), "%d", row->until_s > 0 ? row->until_s - d : -row->until_s + d);
		fill_in(want, sizeof(want), tmpl, kv, 5);
		if (!strncmp(out, want, strlen(want)))
			return;
	}
	cr_expect_fail("%s:\n--- want (seconds within 2) ---\n%s\n--- got ---\n%s", row->name, want, out);
}

static void changed_row_expect_json(const struct changed_row *row, const char *out, struct real_ref prev)
{
	json_t *j = parse_json(out);
	bool udp = row->proto == IPPROTO_UDP;
	long long left;

	cr_expect_str_eq(jstr(j, "ring_slot"), "changed", "%s", row->name);
	cr_expect_str_eq(jstr(j, "ring_owner"), udp ? "2001:db8:1::1" : "198.18.1.12", "%s", row->name);
	cr_expect_str_eq(jstr(j, "ring_prev.state"), row->state, "%s", row->name);
	if (row->until_s) {
		cr_expect_eq(jint(j, "ring_prev.id"), prev.id, "%s", row->name);
		cr_expect_eq(jint(j, "ring_prev.gen"), prev.gen, "%s", row->name);
		left = jint(j, "ring_prev.window_left_s");
		cr_expect(left <= row->until_s && left >= row->until_s - 2, "%s: window_left_s %lld for %d",
			  row->name, left, row->until_s);
	} else {
		cr_expect_null(jfind(j, "ring_prev.id"), "%s", row->name);
	}
	if (!row->other) {
		cr_expect_str_eq(jstr(j, "ring_next.by"), "entry", "%s", row->name);
	} else {
		cr_expect_str_eq(jstr(j, "ring_next.by"), "ring", "%s", row->name);
		if (udp) {
			cr_expect_null(jfind(j, "ring_next.syn"), "%s: no SYN in UDP", row->name);
			cr_expect_str_eq(jstr(j, "ring_next.any"), row->other, "%s", row->name);
		} else {
			cr_expect_str_eq(jstr(j, "ring_next.syn"), "198.18.1.12", "%s", row->name);
			cr_expect_str_eq(jstr(j, "ring_next.other"), row->other, "%s", row->name);
		}
	}
	json_decref(j);
}

/* The ring slot explain gives a flow (JSON slot); its owner must be owner, as the rows take it. */
static uint32_t explained_slot(const char *dir, const char *client, const char *svc, const char *proto,
			       const char *owner)
{
	uint32_t slot;
	struct run r;
	json_t *j;

	RUN(&r, "-j", "--pin-dir", dir, "--socket", "/nonexistent/s", "explain", client, svc, proto);
	cr_assert_eq(r.rc, 0, "%s", r.err.buf);
	j = parse_json(r.out.buf);
	cr_assert_str_eq(jstr(j, "ring_real"), owner, "the rows take %s's owner to be %s", client, owner);
	slot = (uint32_t)jint(j, "slot");
	json_decref(j);
	run_free(&r);
	return slot;
}

Test(cli_maps, explain_a_changed_slot_names_its_previous_owner)
{
	char root[] = "/tmp/xlvs-cli-bpffs-XXXXXX", dir[64];
	struct xlvs_lb_bpf *skel = private_world(root, dir, sizeof(dir));
	struct real_ref r11, r12, r6, prev;
	uint32_t slot, udp_slot, key, udp_key;
	const char *client, *svc, *proto;
	struct run r;
	size_t i;

	key = set_ring_state(dir, true);
	udp_key = set_ring_state_of(dir, "2001:db8::10", IPPROTO_UDP, 53, true);
	slot = explained_slot(dir, "203.0.113.7:50123", "198.18.0.10:80", "tcp", "198.18.1.12");
	udp_slot = explained_slot(dir, "[2001:db8:2::7]:5353", "[2001:db8::10]:53", "udp", "2001:db8:1::1");
	r11 = real_ref(dir, "198.18.1.11");
	r12 = real_ref(dir, "198.18.1.12");
	r6 = real_ref(dir, "2001:db8:1::1");
	cr_assert_geq(r11.gen, 1);
	for (i = 0; i < sizeof(changed_rows) / sizeof(changed_rows[0]); i++) {
		const struct changed_row *row = &changed_rows[i];
		bool udp = row->proto == IPPROTO_UDP;

		prev = row->who == WHO_OWNER	   ? r12
		       : row->who == WHO_OTHER_SVC ? r6
		       : row->who == WHO_REMOVED   ? (struct real_ref){ 200, 1 }
		       : row->who == WHO_OTHER_GEN ? (struct real_ref){ r11.id, r11.gen - 1 }
		       : row->who == WHO_PEER	   ? put_peer(dir, r6, 1)
		       : row->who == WHO_PEER_W0   ? put_peer(dir, r6, 0)
						   : r11;
		changed_row_set(dir, row, udp ? udp_key + udp_slot : key + slot, udp ? r6.id : r12.id, prev);
		client = udp ? "[2001:db8:2::7]:5353" : "203.0.113.7:50123";
		svc = udp ? "[2001:db8::10]:53" : "198.18.0.10:80";
		proto = udp ? "udp" : "tcp";
		RUN(&r, "--pin-dir", dir, "--socket", "/nonexistent/s", "explain", client, svc, proto);
		cr_expect_eq(r.rc, 0, "%s: %s", row->name, r.err.buf);
		changed_row_expect_text(row, r.out.buf, udp ? udp_slot : slot, prev, r11.gen, r11.id);
		run_free(&r);
		RUN(&r, "-j", "--pin-dir", dir, "--socket", "/nonexistent/s", "explain", client, svc, proto);
		changed_row_expect_json(row, r.out.buf, prev);
		run_free(&r);
	}
	private_world_free(skel, root, dir);
}

Test(cli_maps, real_show_from_the_maps_and_the_daemon)
{
	char root[] = "/tmp/xlvs-cli-bpffs-XXXXXX", dir[64];
	struct xlvs_lb_bpf *skel = private_world(root, dir, sizeof(dir));
	struct fake f;
	struct run r;
	json_t *j;

	/* no daemon: the maps' part, and why there is no health */
	RUN(&r, "--pin-dir", dir, "--socket", "/nonexistent/xlvsd.sock", "real", "show", "198.18.0.10:80",
	    "198.18.1.11");
	cr_expect_eq(r.rc, 0, "%s", r.err.buf);
	cr_expect(!strncmp(r.out.buf, "TCP 198.18.0.10:80 -> 198.18.1.11:80\n  id ", 42), "%s", r.out.buf);
	cr_expect_not_null(
		strstr(r.out.buf,
		       "  forward Tunnel (ipip)  weight 1\n"
		       "  active 1  inactive 0\n"
		       "  conns 0  packets 0  bytes 0\n"
		       "  health unknown: xlvsd is not running (no socket at /nonexistent/xlvsd.sock)\n"),
		"%s", r.out.buf);
	cr_expect_str_eq(r.err.buf, "");
	run_free(&r);

	/* the daemon answers: configured weight and health */
	fake_start(&f, health_reply);
	RUN(&r, "-j", "--pin-dir", dir, "--socket", f.path, "real", "show", "198.18.0.10:80",
	    "198.18.1.11:80");
	cr_expect_eq(r.rc, 0, "%s", r.err.buf);
	j = parse_json(r.out.buf);
	cr_expect_eq(json_array_size(jpath(j, "reals")), 1);
	cr_expect_str_eq(jstr(j, "reals.0.service.protocol"), "tcp");
	cr_expect_eq(jint(j, "reals.0.weight"), 1);
	cr_expect_eq(jint(j, "reals.0.configured_weight"), 1);
	cr_expect_eq(jint(j, "reals.0.active_conns"), 1);
	cr_expect_str_eq(jstr(j, "reals.0.health.state"), "up");
	cr_expect_str_eq(jstr(j, "reals.0.health.last_message"), "connected");
	json_decref(j);
	j = fake_request(&f);
	cr_expect_str_eq(jstr(j, "cmd"), "health");
	json_decref(j);
	run_free(&r);
	fake_stop(&f);

	/* a real the daemon removed from the maps (on_down: remove) is still shown */
	fake_start(&f, health_reply);
	RUN(&r, "--pin-dir", dir, "--socket", f.path, "real", "show", "198.18.0.10:80/tcp", "198.18.1.13");
	cr_expect_eq(r.rc, 0, "%s", r.err.buf);
	cr_expect_str_eq(r.out.buf, "TCP 198.18.0.10:80 -> 198.18.1.13:80\n"
				    "  not in the maps  configured 5\n"
				    "  active -  inactive -\n"
				    "  health down  check tcp 198.18.1.13:80  rise 1/2\n"
				    "  last failed  latency 0.1 ms  \"refused\"\n"
				    "  checks 9  failures 9  transitions 1  down for 20s\n");
	run_free(&r);
	fake_stop(&f);

	/* missing service, missing real: exit 2 and a line that says which */
	RUN(&r, "--pin-dir", dir, "--socket", "/nonexistent/xlvsd.sock", "real", "show", "198.18.0.99:80",
	    "198.18.1.11");
	cr_expect_eq(r.rc, 2);
	cr_expect_str_eq(r.err.buf, "xlvs: no such service: 198.18.0.99:80 (any protocol)\n");
	cr_expect_str_eq(r.out.buf, "");
	run_free(&r);
	RUN(&r, "-j", "--pin-dir", dir, "--socket", "/nonexistent/xlvsd.sock", "real", "show",
	    "198.18.0.10:80/tcp", "198.18.1.99:80");
	cr_expect_eq(r.rc, 2);
	cr_expect_str_eq(r.err.buf, "xlvs: no real 198.18.1.99:80 in TCP 198.18.0.10:80\n");
	cr_expect_str_eq(r.out.buf, "");
	run_free(&r);

	private_world_free(skel, root, dir);
}

Test(cli_maps, drain_wait_until_no_active_connection_or_timeout)
{
	char root[] = "/tmp/xlvs-cli-bpffs-XXXXXX", dir[64];
	struct xlvs_lb_bpf *skel = private_world(root, dir, sizeof(dir));
	json_t *lines[16], *req;
	struct fake f;
	struct run r;
	size_t n, i;
	struct timespec t0, t1;
	unsigned int read_ms;
	pid_t ager;

	/*
	 * The flow closes 1.5 s after the answer: samples at 0, 1 s (active 1), then 2 s (active 0).
	 * A sample reads the maps after its tick: on a slow machine that takes a good part of a
	 * second, so the close waits as long again as one such read (a conn list) takes here.
	 */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	RUN(&r, "-j", "--pin-dir", dir, "conn", "list");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_eq(r.rc, 0, "%s", r.err.buf);
	run_free(&r);
	read_ms = (unsigned int)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
	fake_start(&f, "{\"ok\":true,\"applied\":{\"reals_written\":1}}");
	ager = age_flow_later(dir, f.pid, 1500 + read_ms);
	RUN(&r, "-j", "--pin-dir", dir, "--socket", f.path, "real", "drain", "198.18.0.10:80", "198.18.1.11",
	    "--wait", "--timeout", "10");
	cr_expect_eq(waitpid(ager, NULL, 0), ager);
	cr_expect_eq(r.rc, 0, "%s", r.err.buf);
	n = json_lines(r.out.buf, lines, 16);
	cr_assert_geq(n, 4, "applied, then a sample a second: %s", r.out.buf);
	cr_assert_leq(n, 5, "%s", r.out.buf);
	cr_expect_eq(jint(lines[0], "applied.reals_written"), 1);
	for (i = 1; i < n; i++) {
		cr_expect_str_eq(jstr(lines[i], "real"), "198.18.1.11");
		cr_expect_eq(jint(lines[i], "elapsed_s"), (long long)i - 1, "one sample a second: %s",
			     r.out.buf);
		cr_expect_eq(jint(lines[i], "active_conns"), i < n - 1 ? 1 : 0, "%s", r.out.buf);
		cr_expect_eq(jint(lines[i], "inactive_conns"), i < n - 1 ? 0 : 1, "%s", r.out.buf);
	}
	for (i = 0; i < n; i++)
		json_decref(lines[i]);
	req = fake_request(&f);
	cr_expect_str_eq(jstr(req, "cmd"), "real-set-weight");
	cr_expect_eq(jint(req, "weight"), 0);
	cr_expect_eq(json_object_size(req), 4, "cmd, service, real, weight: --wait is not sent");
	json_decref(req);
	run_free(&r);
	fake_stop(&f);

	/* the flow is fresh again and stays: the timeout ends the wait with exit 5 */
	age_flow(dir, 0, XLVS_CONN_OPEN);
	fake_start(&f, "{\"ok\":true,\"applied\":{}}");
	RUN(&r, "--pin-dir", dir, "--socket", f.path, "real", "drain", "198.18.0.10:80", "198.18.1.11",
	    "--wait", "--timeout=1");
	cr_expect_eq(r.rc, XLVS_EXIT_TIMEOUT);
	cr_expect_str_eq(r.out.buf, "applied: nothing\n0s  active 1  inactive 0\n1s  active 1  inactive 0\n");
	cr_expect_str_eq(r.err.buf, RUNTIME_NOTE
			 "xlvs: 198.18.1.11 still has active connections after 1 s (--timeout)\n");
	run_free(&r);
	fake_stop(&f);

	/* a real that is not in the maps: the daemon accepted, the wait cannot start */
	fake_start(&f, "{\"ok\":true,\"applied\":{}}");
	RUN(&r, "--pin-dir", dir, "--socket", f.path, "real", "drain", "198.18.0.10:80", "198.18.1.99",
	    "--wait");
	cr_expect_eq(r.rc, 2);
	cr_expect_str_eq(r.err.buf,
			 RUNTIME_NOTE "xlvs: 198.18.1.99 is no longer in the maps of TCP 198.18.0.10:80\n");
	run_free(&r);
	fake_stop(&f);

	private_world_free(skel, root, dir);
}

static void age_conns(struct xlvs_lb_bpf *skel, uint32_t hz, uint32_t idle_s);

/* xlvs explain on the pinned world: the entry add_flow() made, a single-real ring, no service. */
Test(cli_maps, explain_a_flow)
{
	char root[] = "/tmp/xlvs-cli-bpffs-XXXXXX", dir[64];
	struct xlvs_lb_bpf *skel = private_world(root, dir, sizeof(dir));
	struct run r;
	json_t *j;

	RUN(&r, "--pin-dir", dir, "--socket", "/nonexistent/s", "explain", "203.0.113.7:50123",
	    "198.18.0.10:80");
	cr_expect_eq(r.rc, 0, "%s", r.err.buf);
	cr_expect(
		!strncmp(
			r.out.buf,
			"service: TCP 198.18.0.10:80\n"
			"connection entry: real 198.18.1.11, state open\n"
			"  established flows keep their real whatever the ring says now\n"
			"ring: flow hash ",
			strlen("service: TCP 198.18.0.10:80\nconnection entry: real 198.18.1.11, state open\n"
			       "  established flows keep their real whatever the ring says now\nring: flow hash ")),
		"%s", r.out.buf);
	cr_expect_not_null(strstr(r.out.buf, " of 251: real 198.18.1.1"), "%s", r.out.buf);
	run_free(&r);

	/* One real: every slot is its. */
	RUN(&r, "-j", "--pin-dir", dir, "--socket", "/nonexistent/s", "explain", "[2001:db8:5::1]:4000",
	    "[2001:db8::10]:53", "udp");
	cr_expect_eq(r.rc, 0, "%s", r.err.buf);
	j = parse_json(r.out.buf);
	cr_expect_str_eq(jstr(j, "service"), "UDP [2001:db8::10]:53");
	cr_expect_str_eq(jstr(j, "entry"), "none");
	cr_expect_str_eq(jstr(j, "ring_real"), "2001:db8:1::1");
	cr_expect_eq(jint(j, "weight"), 3);
	cr_expect_eq(jint(j, "ring_size"), 251);
	cr_expect_lt(jint(j, "slot"), 251);
	json_decref(j);
	run_free(&r);

	/* No client port: every port of the client goes to the one real. */
	RUN(&r, "--pin-dir", dir, "--socket", "/nonexistent/s", "explain", "2001:db8:5::1",
	    "[2001:db8::10]:53/udp");
	cr_expect_eq(r.rc, 0, "%s", r.err.buf);
	cr_expect_not_null(strstr(r.out.buf, "by client port (1-65535, new flows):\n  2001:db8:1::1"), "%s",
			   r.out.buf);
	cr_expect_not_null(strstr(r.out.buf, " 65535 100.00%\n"), "%s", r.out.buf);
	run_free(&r);

	RUN(&r, "--pin-dir", dir, "explain", "203.0.113.7:1", "198.18.0.10:81");
	cr_expect_eq(r.rc, 2);
	cr_expect_str_eq(
		r.err.buf,
		"xlvs: no service for TCP 198.18.0.10:81: its packets pass to the kernel (pass_no_service)\n");
	run_free(&r);

	RUN(&r, "--pin-dir", dir, "explain", "203.0.113.7:1", "[2001:db8::10]:53");
	cr_expect_eq(r.rc, 1);
	cr_expect_not_null(strstr(r.err.buf,
				  "xlvs: the client and the VIP are of different families\nusage: "),
			   "%s", r.err.buf);
	run_free(&r);

	/* Lifetimes on (HZ 250, tcp 900 s) and the entry idle for 1000 s: explain says it expired. */
	age_conns(skel, 250, 1000);
	RUN(&r, "--pin-dir", dir, "--socket", "/nonexistent/s", "explain", "203.0.113.7:50123",
	    "198.18.0.10:80");
	cr_expect_eq(r.rc, 0, "%s", r.err.buf);
	cr_expect_not_null(strstr(r.out.buf,
				  "connection entry: expired (idle longer than its lifetime): the next "
				  "packet is scheduled afresh (conn_expired)\n"),
			   "%s", r.out.buf);
	run_free(&r);
	/* Idle 100 s of 900: the entry decides, with about 800 s left. */
	age_conns(skel, 250, 100);
	RUN(&r, "-j", "--pin-dir", dir, "--socket", "/nonexistent/s", "explain", "203.0.113.7:50123",
	    "198.18.0.10:80");
	j = parse_json(r.out.buf);
	cr_expect(json_integer_value(json_object_get(json_object_get(j, "entry"), "expires_s")) >= 795 &&
			  json_integer_value(json_object_get(json_object_get(j, "entry"), "expires_s")) <=
				  800,
		  "%s", r.out.buf);
	json_decref(j);
	run_free(&r);

	private_world_free(skel, root, dir);
}

/* Sets xlvs_config.hz and the tcp lifetime (900 s), and stamps every entry idle_s ago. */
static void age_conns(struct xlvs_lb_bpf *skel, uint32_t hz, uint32_t idle_s)
{
	int cfd = bpf_map__fd(skel->maps.xlvs_config), fd = bpf_map__fd(skel->maps.xlvs_conns);
	struct xlvs_flow k, next, *prev = NULL;
	struct xlvs_config cfg;
	struct xlvs_jiffies jf;
	struct xlvs_conn c;
	uint32_t zero = 0;

	cr_assert_eq(bpf_map_lookup_elem(cfd, &zero, &cfg), 0);
	cfg.hz = hz;
	cfg.timeout[XLVS_TO_TCP] = 900;
	cr_assert_eq(bpf_map_update_elem(cfd, &zero, &cfg, BPF_ANY), 0);
	cr_assert_eq(xlvs_jiffies_read(&jf), 0);
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &c))
			continue;
		c.last_seen = jf.now - idle_s * hz;
		cr_assert_eq(bpf_map_update_elem(fd, &k, &c, BPF_EXIST), 0);
	}
}

/* Counter values on every CPU of a per-CPU array entry (the same on each). */
static void set_counters(int fd, uint32_t stride, uint32_t key, uint64_t packets)
{
	int ncpus = libbpf_num_possible_cpus(), i;
	struct xlvs_counters *v = calloc(ncpus, sizeof(*v));

	cr_assert_not_null(v);
	for (i = 0; i < ncpus; i++)
		v[i] = (struct xlvs_counters){ .packets = packets, .bytes = 100 * packets, .new_flows = 1 };
	unit_stripes_put(fd, stride, key, v, sizeof(*v));
	free(v);
}

/* xlvs stats --zero: one service and its reals, one real, then everything (drops included). */
/* The TCP service of the pinned world made wlc by hand, its reals COUNTED with counts in xlvs_real_load. */
static void make_counted(const char *dir)
{
	struct xlvs_svc_key k = { .port = htons(80), .proto = IPPROTO_TCP, .family = XLVS_AF_INET };
	struct xlvs_real_load load[] = { { 3, 1 }, { 0, 2 } };
	const char *addrs[] = { "198.18.1.11", "198.18.1.12" };
	struct xlvs_service svc;
	struct xlvs_real r;
	struct xlvs_maps m;
	uint32_t id, i;

	cr_assert_eq(xlvs_maps_open(&m, dir), 0);
	k.addr[0] = A("198.18.0.10").be[0];
	cr_assert_eq(bpf_map_lookup_elem(m.services, &k, &svc), 0);
	svc.sched = XLVS_SCHED_WLC;
	cr_assert_eq(bpf_map_update_elem(m.services, &k, &svc, BPF_EXIST), 0);
	for (i = 0; i < 2; i++) {
		for (id = 0; id < 8; id++)
			if (!bpf_map_lookup_elem(m.reals, &id, &r) && r.addr[0] == A(addrs[i]).be[0])
				break;
		cr_assert_lt(id, 8, "real %s", addrs[i]);
		r.flags |= XLVS_REAL_F_COUNTED;
		cr_assert_eq(bpf_map_update_elem(m.reals, &id, &r, BPF_EXIST), 0);
		cr_assert_eq(bpf_map_update_elem(m.real_load, &id, &load[i], BPF_ANY), 0);
	}
	xlvs_maps_close(&m);
}

/* explain and service show give a least-connection service's counts as the data path keeps them. */
Test(cli_maps, explain_and_show_give_the_schedulers_counts)
{
	char root[] = "/tmp/xlvs-cli-bpffs-XXXXXX", dir[64];
	struct xlvs_lb_bpf *skel = private_world(root, dir, sizeof(dir));
	struct run r;
	json_t *j;

	make_counted(dir);
	RUN(&r, "--pin-dir", dir, "--socket", "/nonexistent/s", "explain", "203.0.113.7", "198.18.0.10:80");
	cr_expect_eq(r.rc, 0, "%s", r.err.buf);
	cr_expect_not_null(
		strstr(r.out.buf,
		       "connections the scheduler weighs (the data path's counts, reconciled by xlvsd):\n"
		       "  198.18.1.11                              weight 1      scheduler's count: active 3  inactive 1\n"
		       "  198.18.1.12                              weight 2      scheduler's count: active 0  inactive 2\n"),
		"%s", r.out.buf);
	run_free(&r);
	RUN(&r, "-j", "--pin-dir", dir, "--socket", "/nonexistent/s", "explain", "203.0.113.7",
	    "198.18.0.10:80");
	cr_expect_eq(r.rc, 0, "%s", r.err.buf);
	j = parse_json(r.out.buf);
	cr_expect_str_eq(jstr(j, "counts.0.real"), "198.18.1.11");
	cr_expect_eq(jint(j, "counts.0.sched_conns.active"), 3);
	cr_expect_eq(jint(j, "counts.1.sched_conns.inactive"), 2);
	json_decref(j);
	run_free(&r);
	RUN(&r, "--pin-dir", dir, "--socket", "/nonexistent/s", "service", "show", "198.18.0.10:80");
	cr_expect_eq(r.rc, 0, "%s", r.err.buf);
	cr_expect_not_null(strstr(r.out.buf, "\n     scheduler's count: active 3  inactive 1\n"), "%s",
			   r.out.buf);
	cr_expect_not_null(strstr(r.out.buf, "\n     scheduler's count: active 0  inactive 2\n"), "%s",
			   r.out.buf);
	run_free(&r);
	RUN(&r, "--pin-dir", dir, "--socket", "/nonexistent/s", "real", "show", "198.18.0.10:80",
	    "198.18.1.11");
	cr_expect_eq(r.rc, 0, "%s", r.err.buf);
	cr_expect_not_null(strstr(r.out.buf, "  active 1  inactive 0\n"
					     "  scheduler's count: active 3  inactive 1\n"),
			   "%s", r.out.buf);
	run_free(&r);
	private_world_free(skel, root, dir);
}

Test(cli_maps, stats_zero)
{
	char root[] = "/tmp/xlvs-cli-bpffs-XXXXXX", dir[64];
	struct xlvs_lb_bpf *skel = private_world(root, dir, sizeof(dir));
	struct xlvs_state st = { 0 };
	struct xlvs_maps m;
	uint64_t drops[XLVS_DROP_MAX];
	struct run r;
	json_t *j;
	size_t i, k;
	uint32_t one = XLVS_DROP_NO_REAL;
	int ncpus = libbpf_num_possible_cpus();
	uint64_t *dv = calloc(ncpus, sizeof(*dv));

	cr_assert_eq(xlvs_maps_open(&m, dir), 0);
	cr_assert_eq(xlvs_state_read(&m, &st), 0);
	for (i = 0; i < st.nr_services; i++) {
		set_counters(m.svc_stats, XLVS_SVC_STATS_STRIDE, st.services[i].svc.id, 10);
		set_counters(m.svc_out, XLVS_SVC_STATS_STRIDE, st.services[i].svc.id, 4);
		for (k = 0; k < st.services[i].nr_reals; k++) {
			set_counters(m.real_stats, XLVS_REAL_STATS_STRIDE, st.services[i].reals[k].id, 5);
			set_counters(m.real_out, XLVS_REAL_STATS_STRIDE, st.services[i].reals[k].id, 2);
		}
	}
	cr_assert_not_null(dv);
	dv[0] = 7;
	unit_stripes_put(m.drops, XLVS_DROP_SLOTS, one, dv, sizeof(*dv));

	RUN(&r, "--pin-dir", dir, "stats", "--zero", "198.18.0.10:80");
	cr_expect_eq(r.rc, 0, "%s", r.err.buf);
	cr_expect_str_eq(r.out.buf, "zeroed: services 1, reals 2\n");
	run_free(&r);
	RUN(&r, "-j", "--pin-dir", dir, "stats");
	j = parse_json(r.out.buf);
	for (i = 0; i < 2; i++) {
		const char *vip = jstr(j, i ? "services.1.vip" : "services.0.vip");
		long long want = !strcmp(vip, "198.18.0.10") ? 0 : 10 * ncpus;

		cr_expect_eq(jint(j, i ? "services.1.stats.packets" : "services.0.stats.packets"), want, "%s",
			     vip);
		want = !strcmp(vip, "198.18.0.10") ? 0 : 4 * ncpus;
		cr_expect_eq(jint(j, i ? "services.1.stats.out_packets" : "services.0.stats.out_packets"),
			     want, "%s: the NAT replies' counters", vip);
		want = !strcmp(vip, "198.18.0.10") ? 0 : 2 * ncpus;
		cr_expect_eq(jint(j, i ? "services.1.reals.0.stats.out_packets"
				       : "services.0.reals.0.stats.out_packets"),
			     want, "%s: a real's NAT replies' counters", vip);
	}
	cr_expect_eq(jint(j, "drops.no_real"), 7, "the drops stay when a service is named");
	json_decref(j);
	run_free(&r);

	RUN(&r, "-j", "--pin-dir", dir, "stats", "-Z", "[2001:db8::10]:53", "2001:db8:1::1");
	cr_expect_eq(r.rc, 0, "%s", r.err.buf);
	j = parse_json(r.out.buf);
	cr_expect_eq(jint(j, "zeroed.services"), 0);
	cr_expect_eq(jint(j, "zeroed.reals"), 1);
	json_decref(j);
	run_free(&r);

	RUN(&r, "--pin-dir", dir, "stats", "-Z", "198.18.0.10:80", "198.18.1.99");
	cr_expect_eq(r.rc, 2);
	cr_expect_str_eq(r.err.buf, "xlvs: no real 198.18.1.99 in 198.18.0.10:80 (any protocol)\n");
	run_free(&r);
	RUN(&r, "--pin-dir", dir, "stats", "-Z", "198.18.0.99:80");
	cr_expect_eq(r.rc, 2);
	cr_expect_str_eq(r.err.buf, "xlvs: no such service: 198.18.0.99:80 (any protocol)\n");
	run_free(&r);

	RUN(&r, "--pin-dir", dir, "stats", "--zero");
	cr_expect_eq(r.rc, 0, "%s", r.err.buf);
	cr_expect_str_eq(r.out.buf, "zeroed: services 2, reals 3, drop and event counters\n");
	run_free(&r);
	cr_expect_eq(xlvs_drop_counters(&m, drops), 0);
	cr_expect_eq(drops[XLVS_DROP_NO_REAL], 0);
	for (i = 0; i < st.nr_services; i++) {
		struct xlvs_counters c;

		cr_expect_eq(xlvs_svc_counters(&m, st.services[i].svc.id, &c), 0);
		cr_expect_eq(c.packets + c.bytes + c.new_flows, 0);
		cr_expect_eq(xlvs_svc_out_counters(&m, st.services[i].svc.id, &c), 0);
		cr_expect_eq(c.packets + c.bytes + c.new_flows, 0, "a service's NAT replies' counters");
		for (k = 0; k < st.services[i].nr_reals; k++) {
			cr_expect_eq(xlvs_real_counters(&m, st.services[i].reals[k].id, &c), 0);
			cr_expect_eq(c.packets + c.bytes + c.new_flows, 0);
			cr_expect_eq(xlvs_real_out_counters(&m, st.services[i].reals[k].id, &c), 0);
			cr_expect_eq(c.packets + c.bytes + c.new_flows, 0, "a real's NAT replies' counters");
		}
	}
	free(dv);
	xlvs_state_free(&st);
	xlvs_maps_close(&m);
	private_world_free(skel, root, dir);
}

/* CPU cpu's counters for id in map `base` (a multiple of 10^6): distinct per map, id and CPU. */
static void put_id_counters(int fd, uint32_t stride, uint32_t id, uint64_t base)
{
	int ncpus = libbpf_num_possible_cpus(), i;
	struct xlvs_counters *v = calloc(ncpus, sizeof(*v));

	cr_assert_not_null(v);
	for (i = 0; i < ncpus; i++)
		v[i] = (struct xlvs_counters){ .packets = base + 1000 * id + i + 1,
					       .bytes = base + 1000 * id + 100 * (i + 1),
					       .new_flows = id + 1 };
	unit_stripes_put(fd, stride, id, v, sizeof(*v));
	free(v);
}

/* What put_id_counters() adds up to over ncpus CPUs. */
static long long id_packets(uint64_t base, uint32_t id, int ncpus)
{
	return (long long)(ncpus * (base + 1000ull * id) + (uint64_t)ncpus * (ncpus + 1) / 2);
}

static long long id_bytes(uint64_t base, uint32_t id, int ncpus)
{
	return (long long)(ncpus * (base + 1000ull * id) + 100ull * ncpus * (ncpus + 1) / 2);
}

/* xlvs stats reads each counter map as one range and gives every service and real its own id's sums. */
Test(cli_maps, stats_give_each_id_its_sums)
{
	char root[] = "/tmp/xlvs-cli-bpffs-XXXXXX", dir[64], path[128], ab[INET6_ADDRSTRLEN];
	struct xlvs_lb_bpf *skel = private_world(root, dir, sizeof(dir));
	int ncpus = libbpf_num_possible_cpus();
	const struct xlvs_svc_state *sv;
	struct xlvs_state st = { 0 };
	struct xlvs_maps m;
	struct xlvs_addr a;
	size_t i, k, n, checked = 0;
	uint32_t id;
	struct run r;
	json_t *j;

	cr_assert_eq(xlvs_maps_open(&m, dir), 0);
	cr_assert_eq(xlvs_state_read(&m, &st), 0);
	for (i = 0; i < st.nr_services; i++) {
		put_id_counters(m.svc_stats, XLVS_SVC_STATS_STRIDE, st.services[i].svc.id, 1000000);
		put_id_counters(m.svc_out, XLVS_SVC_STATS_STRIDE, st.services[i].svc.id, 2000000);
		for (k = 0; k < st.services[i].nr_reals; k++) {
			put_id_counters(m.real_stats, XLVS_REAL_STATS_STRIDE, st.services[i].reals[k].id,
					3000000);
			put_id_counters(m.real_out, XLVS_REAL_STATS_STRIDE, st.services[i].reals[k].id,
					4000000);
		}
	}
	RUN(&r, "-j", "--pin-dir", dir, "stats");
	cr_assert_eq(r.rc, 0, "%s", r.err.buf);
	j = parse_json(r.out.buf);
	n = json_array_size(jpath(j, "services"));
	cr_expect_eq(n, st.nr_services);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "services.%zu.vip", i);
		for (sv = st.services; sv < st.services + st.nr_services; sv++) {
			xlvs_addr_from_be(&a, sv->key.family, sv->key.addr);
			if (!strcmp(xlvs_addr_text(&a, ab, sizeof(ab)), jstr(j, path)))
				break;
		}
		cr_assert_lt(sv, st.services + st.nr_services, "%s", jstr(j, path));
		id = sv->svc.id;
		snprintf(path, sizeof(path), "services.%zu.stats.packets", i);
		cr_expect_eq(jint(j, path), id_packets(1000000, id, ncpus), "service id %u", id);
		snprintf(path, sizeof(path), "services.%zu.stats.conns", i);
		cr_expect_eq(jint(j, path), (long long)ncpus * (id + 1), "service id %u", id);
		snprintf(path, sizeof(path), "services.%zu.stats.out_bytes", i);
		cr_expect_eq(jint(j, path), id_bytes(2000000, id, ncpus), "service id %u", id);
		for (k = 0; k < sv->nr_reals; k++) {
			id = sv->reals[k].id;
			snprintf(path, sizeof(path), "services.%zu.reals.%zu.stats.bytes", i, k);
			cr_expect_eq(jint(j, path), id_bytes(3000000, id, ncpus), "real id %u", id);
			snprintf(path, sizeof(path), "services.%zu.reals.%zu.stats.out_packets", i, k);
			cr_expect_eq(jint(j, path), id_packets(4000000, id, ncpus), "real id %u", id);
			checked++;
		}
	}
	cr_expect_eq(checked, 3, "every real of the world");
	json_decref(j);
	run_free(&r);
	xlvs_state_free(&st);
	xlvs_maps_close(&m);
	private_world_free(skel, root, dir);
}

/* ---- persistence ----------------------------------------------------------- */

/* world() with persistence on both services: tcp 300 s per /24, udp 600 s per address. */
static struct xlvs_view persistent_world(void)
{
	struct xlvs_view s = world();

	svcs[0].svc.persist_timeout = 300;
	svcs[0].svc.persist_plen = 24;
	svcs[1].svc.persist_timeout = 600;
	svcs[1].svc.persist_plen = 128;
	return s;
}

static void tpl_rows(struct xlvs_tpl_row rows[3])
{
	memset(rows, 0, 3 * sizeof(*rows));
	set_addr(rows[0].key.addr, &rows[0].key.family, "203.0.113.0");
	rows[0].key.svc_id = 3;
	rows[0].tpl.real_id = 6;
	rows[0].idle_ns = 2500000000ull;
	rows[0].expires_s = 297;
	set_addr(rows[1].key.addr, &rows[1].key.family, "2001:db8:9::7");
	rows[1].key.svc_id = 7;
	rows[1].tpl.real_id = 9;
	rows[1].expires_s = XLVS_EXPIRES_NEVER;
	set_addr(rows[2].key.addr, &rows[2].key.family, "203.0.114.0");
	rows[2].key.svc_id = 3;
	rows[2].tpl.real_id = 5;
	rows[2].tpl.real_gen = 4; /* made for an earlier real of id 5: followed by no one */
	rows[2].idle_ns = XLVS_IDLE_UNKNOWN;
	rows[2].expires_s = XLVS_EXPIRES_UNKNOWN;
}

Test(cli_persist, templates_text_exact)
{
	struct xlvs_view s = persistent_world();
	struct xlvs_tpl_row rows[3];
	char *out;

	tpl_rows(rows);
	out = FORMAT(false, xlvs_fmt_templates(p, &s.st, rows, 3, 1));
	cr_assert_str_eq(
		out, "\nPersistence templates (a client prefix keeps its real for new connections):\n"
		     "Prot Client/Prefix     VirtualAddress:Port RealAddress   State    Idle(s) Expires(s)\n"
		     "TCP  203.0.113.0/24    198.18.0.10:80      198.18.1.12   template 2       297\n"
		     "UDP  2001:db8:9::7/128 [2001:db8::10]:53   2001:db8:1::1 template 0       never\n"
		     "TCP  203.0.114.0/24    198.18.0.10:80      -             template -       -\n"
		     "(1 expired templates left out: the sweep deletes them)\n");
	free(out);
}

Test(cli_persist, no_templates_no_section)
{
	struct xlvs_view s = persistent_world();
	char *out = FORMAT(false, xlvs_fmt_templates(p, &s.st, NULL, 0, 0));

	cr_assert_str_eq(out, "");
	free(out);
}

Test(cli_persist, templates_json_fields)
{
	struct xlvs_view s = persistent_world();
	struct xlvs_tpl_row rows[3];
	char *out;
	json_t *j;

	tpl_rows(rows);
	out = FORMAT(true, xlvs_fmt_templates(p, &s.st, rows, 3, 1));
	j = parse_json(out);
	cr_assert_str_eq(jstr(j, "templates.0.protocol"), "tcp");
	cr_assert_str_eq(jstr(j, "templates.0.client"), "203.0.113.0");
	cr_assert_eq(jint(j, "templates.0.prefix_len"), 24);
	cr_assert_eq(jint(j, "templates.0.service_id"), 3);
	cr_assert_str_eq(jstr(j, "templates.0.vip"), "198.18.0.10");
	cr_assert_eq(jint(j, "templates.0.port"), 80);
	cr_assert_eq(jint(j, "templates.0.real_id"), 6);
	cr_assert_str_eq(jstr(j, "templates.0.real"), "198.18.1.12");
	cr_assert_eq(jint(j, "templates.0.idle_s"), 2);
	cr_assert_eq(jint(j, "templates.0.expires_s"), 297);
	cr_assert_eq(jint(j, "templates.1.prefix_len"), 128);
	cr_assert(json_is_null(jpath(j, "templates.1.expires_s")), "never: null");
	cr_assert(json_is_null(jpath(j, "templates.2.real")), "another generation: no real");
	cr_assert(json_is_null(jpath(j, "templates.2.idle_s")));
	cr_assert_eq(jint(j, "templates_expired"), 1);
	json_decref(j);
	free(out);
}

Test(cli_persist, service_list_and_show)
{
	struct xlvs_view s = persistent_world();
	size_t idx[] = { 0 };
	char *out = FORMAT(false, xlvs_fmt_services(p, &s, 0));
	json_t *j;

	cr_assert_not_null(
		strstr(out, "TCP  198.18.0.10:80        maglev     echo persistent 300 mask 255.255.255.0\n"),
		"%s", out);
	cr_assert_not_null(strstr(out, "UDP  [2001:db8::10]:53     rr         persistent 600\n"), "%s", out);
	free(out);
	out = FORMAT(false, xlvs_fmt_service_detail(p, &s, idx, 1));
	cr_assert_not_null(strstr(out, "  timeouts tcp 7200s (the others global)\n"
				       "  persistent 300s mask 255.255.255.0\n"),
			   "%s", out);
	free(out);
	out = FORMAT(true, xlvs_fmt_services(p, &s, 0));
	j = parse_json(out);
	cr_assert_eq(jint(j, "services.0.persistence.timeout"), 300);
	cr_assert_eq(jint(j, "services.0.persistence.prefix_len"), 24);
	cr_assert_str_eq(jstr(j, "services.0.persistence.netmask"), "255.255.255.0");
	cr_assert_str_eq(jstr(j, "services.1.persistence.netmask"), "/128");
	json_decref(j);
	free(out);
	s = world();
	out = FORMAT(true, xlvs_fmt_services(p, &s, 0));
	j = parse_json(out);
	cr_assert(json_is_null(jpath(j, "services.0.persistence")), "not persistent: null");
	json_decref(j);
	free(out);
}

/* The pinned world's tcp 198.18.0.10:80 made persistent per /24, and a template for 203.0.113.0/24
 * naming the real of add_flow()'s entry. */
static void add_template(const char *dir)
{
	struct xlvs_svc_key key = { .port = htons(80), .proto = IPPROTO_TCP, .family = XLVS_AF_INET };
	struct xlvs_flow f = {
		.sport = htons(50123), .dport = htons(80), .proto = IPPROTO_TCP, .family = XLVS_AF_INET
	};
	struct xlvs_svc_addr_key k = { .family = XLVS_AF_INET };
	struct xlvs_persist t = { 0 };
	struct xlvs_service svc;
	struct xlvs_conn conn;
	struct xlvs_jiffies j;
	struct xlvs_maps m;

	cr_assert_eq(xlvs_maps_open(&m, dir), 0);
	key.addr[0] = A("198.18.0.10").be[0];
	cr_assert_eq(bpf_map_lookup_elem(m.services, &key, &svc), 0);
	svc.persist_timeout = 300;
	svc.persist_plen = 24;
	cr_assert_eq(bpf_map_update_elem(m.services, &key, &svc, BPF_EXIST), 0);
	f.src[0] = A("203.0.113.7").be[0];
	f.dst[0] = A("198.18.0.10").be[0];
	cr_assert_eq(bpf_map_lookup_elem(m.conns, &f, &conn), 0);
	cr_assert_eq(xlvs_jiffies_read(&j), 0);
	k.addr[0] = A("203.0.113.0").be[0];
	k.svc_id = svc.id;
	t = (struct xlvs_persist){ .real_id = conn.real_id, .real_gen = conn.real_gen, .last_seen = j.now };
	cr_assert_eq(bpf_map_update_elem(m.persist, &k, &t, BPF_ANY), 0);
	/* and one of another /24, last used 400 s ago: expired at any HZ once hz is set */
	k.addr[0] = A("203.0.114.0").be[0];
	t.last_seen = j.now - 400 * 1000;
	cr_assert_eq(bpf_map_update_elem(m.persist, &k, &t, BPF_ANY), 0);
	xlvs_maps_close(&m);
}

/* conn list and explain read the templates from the pinned maps. */
Test(cli_maps, conn_list_and_explain_show_a_template)
{
	char root[] = "/tmp/xlvs-cli-bpffs-XXXXXX", dir[64];
	struct xlvs_lb_bpf *skel = private_world(root, dir, sizeof(dir));
	struct run r;
	uint32_t hz;
	json_t *j;

	add_template(dir);
	cr_assert_eq(xlvs_hz(&hz), 0);
	age_conns(skel, hz, 0); /* the clock on: templates expire */
	RUN(&r, "--pin-dir", dir, "conn", "list");
	cr_expect_eq(r.rc, 0, "%s", r.err.buf);
	cr_expect_not_null(strstr(r.out.buf,
				  "\nPersistence templates (a client prefix keeps its real for new "
				  "connections):\n"),
			   "%s", r.out.buf);
	cr_expect_not_null(strstr(r.out.buf,
				  "TCP  203.0.113.0/24 198.18.0.10:80      198.18.1.11 template 0"),
			   "%s", r.out.buf);
	run_free(&r);
	RUN(&r, "-j", "--pin-dir", dir, "conn", "list", "--real", "198.18.1.11");
	cr_expect_eq(r.rc, 0, "%s", r.err.buf);
	j = parse_json(r.out.buf);
	cr_expect_eq(json_array_size(jpath(j, "templates")), 1);
	cr_expect_str_eq(jstr(j, "templates.0.client"), "203.0.113.0");
	cr_expect_eq(jint(j, "templates.0.prefix_len"), 24);
	cr_expect_str_eq(jstr(j, "templates.0.real"), "198.18.1.11");
	cr_expect_leq(jint(j, "templates.0.expires_s"), 300);
	cr_expect_geq(jint(j, "templates.0.expires_s"), 290);
	cr_expect_eq(jint(j, "templates_expired"), 1, "203.0.114.0/24's is left out");
	json_decref(j);
	run_free(&r);
	RUN(&r, "-j", "--pin-dir", dir, "conn", "list", "--real", "198.18.1.12");
	j = parse_json(r.out.buf);
	cr_expect_eq(json_array_size(jpath(j, "templates")), 0, "another real's filter leaves it out");
	json_decref(j);
	run_free(&r);
	/* --client: the template whose /24 holds the address, whatever the port; none for another /24 */
	RUN(&r, "-j", "--pin-dir", dir, "conn", "list", "--client", "203.0.113.99");
	cr_expect_eq(r.rc, 0, "%s", r.err.buf);
	j = parse_json(r.out.buf);
	cr_expect_eq(jint(j, "matched"), 0);
	cr_expect_eq(json_array_size(jpath(j, "templates")), 1, "%s", r.out.buf);
	cr_expect_str_eq(jstr(j, "templates.0.client"), "203.0.113.0");
	json_decref(j);
	run_free(&r);
	RUN(&r, "-j", "--pin-dir", dir, "conn", "list", "--client", "203.0.113.7:50123");
	j = parse_json(r.out.buf);
	cr_expect_eq(jint(j, "matched"), 1);
	cr_expect_eq(json_array_size(jpath(j, "templates")), 1, "%s", r.out.buf);
	json_decref(j);
	run_free(&r);
	RUN(&r, "-j", "--pin-dir", dir, "conn", "list", "--client", "203.0.112.255");
	j = parse_json(r.out.buf);
	cr_expect_eq(json_array_size(jpath(j, "templates")), 0, "outside 203.0.113.0/24: %s", r.out.buf);
	cr_expect_eq(jint(j, "templates_expired"), 0);
	json_decref(j);
	run_free(&r);
	RUN(&r, "-j", "--pin-dir", dir, "conn", "list", "--client", "203.0.114.200");
	j = parse_json(r.out.buf);
	cr_expect_eq(json_array_size(jpath(j, "templates")), 0, "%s", r.out.buf);
	cr_expect_eq(jint(j, "templates_expired"), 1, "203.0.114.0/24's, expired");
	json_decref(j);
	run_free(&r);

	RUN(&r, "--pin-dir", dir, "--socket", "/nonexistent/s", "explain", "203.0.113.99:4000",
	    "198.18.0.10:80");
	cr_expect_eq(r.rc, 0, "%s", r.err.buf);
	cr_expect_not_null(strstr(r.out.buf,
				  "persistence: 300 s, template of 203.0.113.0/24: real 198.18.1.11"),
			   "%s", r.out.buf);
	cr_expect_not_null(strstr(r.out.buf,
				  "  a new connection goes to 198.18.1.11 whatever the scheduler says "
				  "(persist_hit)\n"),
			   "%s", r.out.buf);
	run_free(&r);
	RUN(&r, "-j", "--pin-dir", dir, "--socket", "/nonexistent/s", "explain", "203.0.114.1:4000",
	    "198.18.0.10:80");
	j = parse_json(r.out.buf);
	cr_expect_str_eq(jstr(j, "persistence.template"), "expired", "another /24's template is too old");
	cr_expect_str_eq(jstr(j, "persistence.client"), "203.0.114.0");
	json_decref(j);
	run_free(&r);
	private_world_free(skel, root, dir);
}
