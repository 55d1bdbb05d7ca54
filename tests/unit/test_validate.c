// SPDX-License-Identifier: GPL-2.0
/*
 * One validation for the file and the control socket (loader/config/validate.c):
 * every row is a control request that must be refused with exactly the words
 * the configuration parser uses for the same mistake in the file (the file
 * adds "line:column: "). Both sides are checked here: the file's message from
 * xlvs_conf_parse(), the socket's from xlvsd_command() on a daemon put
 * together around the XDP object's maps (loaded, not pinned, not attached),
 * as in test_reload.c.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <jansson.h>

#include "config/conf.h"
#include "daemon/daemon.h"
#include "xlvsmaps.h"
#include "helpers.h"
#include "xlvs_lb.skel.h"

/* The running state, lines 1-8; the reals' next item is on line 9. */
#define BASE                                                                                                 \
	"interfaces: [eth0]\n"                                                                               \
	"tunnel: { source4: 198.18.0.1 }\n"                                                                  \
	"services:\n"                                                                                        \
	"  - vip: 198.18.0.10\n"                                                                             \
	"    port: 80\n"                                                                                     \
	"    protocol: tcp\n"                                                                                \
	"    reals:\n"                                                                                       \
	"      - address: 198.18.1.11\n"
/* A real of the service above, as a file would give it: "ADD_REAL("{ address: X }")". */
#define FILE_REAL(r) BASE "      - " r "\n"
#define FILE_SVC(s)  BASE "  - " s "\n"

#define SVC_ARG_OBJ	     "{\"vip\": \"198.18.0.10\", \"port\": 80, \"protocol\": \"tcp\"}"
#define SVC_ARG		     "\"service\": " SVC_ARG_OBJ
#define REAL_ADD(real, more) "{\"cmd\": \"real-add\", " SVC_ARG ", \"real\": " real more "}"
#define SVC_ADD(svc, more)   "{\"cmd\": \"service-add\", \"service\": " svc more "}"

struct row {
	const char *name;
	const char *req;  /* the control request */
	const char *yaml; /* the same mistake in the file */
	const char *want; /* both messages (the file's after "line:column: ") */
};

static const struct row rows[] = {
	/* ---- a real's address ---- */
	{ "real multicast", REAL_ADD("{\"address\": \"224.0.0.1\"}", ""), FILE_REAL("{ address: 224.0.0.1 }"),
	  "address: '224.0.0.1' is not a usable unicast address" },
	{ "real loopback", REAL_ADD("{\"address\": \"127.0.0.1\"}", ""), FILE_REAL("{ address: 127.0.0.1 }"),
	  "address: '127.0.0.1' is not a usable unicast address" },
	{ "real broadcast", REAL_ADD("{\"address\": \"255.255.255.255\"}", ""),
	  FILE_REAL("{ address: 255.255.255.255 }"),
	  "address: '255.255.255.255' is not a usable unicast address" },
	{ "real unspecified", REAL_ADD("{\"address\": \"0.0.0.0\"}", ""), FILE_REAL("{ address: 0.0.0.0 }"),
	  "address: '0.0.0.0' is not a usable unicast address" },
	{ "real class E", REAL_ADD("{\"address\": \"240.0.0.1\"}", ""), FILE_REAL("{ address: 240.0.0.1 }"),
	  "address: '240.0.0.1' is not a usable unicast address" },
	{ "real IPv6 multicast", REAL_ADD("{\"address\": \"ff02::1\"}", ", \"forward\": \"tun\""),
	  FILE_REAL("{ address: \"ff02::1\", forward: tun }"),
	  "address: 'ff02::1' is not a usable unicast address" },
	{ "real IPv6 loopback", REAL_ADD("{\"address\": \"::1\"}", ", \"forward\": \"tun\""),
	  FILE_REAL("{ address: \"::1\", forward: tun }"), "address: '::1' is not a usable unicast address" },
	{ "real is the VIP", REAL_ADD("{\"address\": \"198.18.0.10\"}", ""),
	  FILE_REAL("{ address: 198.18.0.10 }"),
	  "address: 198.18.0.10 is the VIP of service tcp 198.18.0.10:80" },
	{ "real not an address", REAL_ADD("{\"address\": \"198.18.1\"}", ""),
	  FILE_REAL("{ address: 198.18.1 }"), "address: '198.18.1' is not an IPv4 or IPv6 address" },
	{ "real IPv6 with dr on an IPv4 VIP", REAL_ADD("{\"address\": \"2001:db8:1::11\"}", ""),
	  FILE_REAL("{ address: \"2001:db8:1::11\" }"),
	  "address: 2001:db8:1::11 is IPv6 but the VIP 198.18.0.10 is IPv4 (dr needs the same family; use tun or gue)" },
	{ "real IPv6 tunnel without source6",
	  REAL_ADD("{\"address\": \"2001:db8:1::11\"}", ", \"forward\": \"tun\""),
	  FILE_REAL("{ address: \"2001:db8:1::11\", forward: tun }"),
	  "service tcp 198.18.0.10:80 has IPv6 tunnel reals but tunnel.source6 is not set" },

	/* ---- a real's numbers and methods ---- */
	{ "real weight too large", REAL_ADD("{\"address\": \"198.18.1.12\"}", ", \"weight\": 65536"),
	  FILE_REAL("{ address: 198.18.1.12, weight: 65536 }"), "weight: 65536 out of range (0..65535)" },
	{ "real weight negative", REAL_ADD("{\"address\": \"198.18.1.12\"}", ", \"weight\": -1"),
	  FILE_REAL("{ address: 198.18.1.12, weight: -1 }"), "weight: -1 out of range (0..65535)" },
	{ "real port 0", REAL_ADD("{\"address\": \"198.18.1.12\", \"port\": 0}", ""),
	  FILE_REAL("{ address: 198.18.1.12, port: 0 }"),
	  "port: 0 differs from the service port 80 (dr, tun, gue and local keep the destination port; nat and fullnat may change it)" },
	{ "real port too large", REAL_ADD("{\"address\": \"198.18.1.12\", \"port\": 70000}", ""),
	  FILE_REAL("{ address: 198.18.1.12, port: 70000 }"), "port: 70000 out of range (0..65535)" },
	{ "real port differs", REAL_ADD("{\"address\": \"198.18.1.12\", \"port\": 8080}", ""),
	  FILE_REAL("{ address: 198.18.1.12, port: 8080 }"),
	  "port: 8080 differs from the service port 80 (dr, tun, gue and local keep the destination port; nat and fullnat may change it)" },
	{ "real gue_port with dr", REAL_ADD("{\"address\": \"198.18.1.12\"}", ", \"gue_port\": 7000"),
	  FILE_REAL("{ address: 198.18.1.12, gue_port: 7000 }"),
	  "gue_port: set but this real forwards with dr" },
	{ "real gue_port 0",
	  REAL_ADD("{\"address\": \"198.18.1.12\"}", ", \"forward\": \"gue\", \"gue_port\": 0"),
	  FILE_REAL("{ address: 198.18.1.12, forward: gue, gue_port: 0 }"),
	  "gue_port: 0 out of range (1..65535)" },
	{ "real fullnat without a pool",
	  REAL_ADD("{\"address\": \"198.18.1.12\"}", ", \"forward\": \"fullnat\""),
	  FILE_REAL("{ address: 198.18.1.12, forward: fullnat }"),
	  "service tcp 198.18.0.10:80 has IPv4 fullnat reals but fullnat.pool has no IPv4 address" },
	{ "real nat of the other family",
	  REAL_ADD("{\"address\": \"2001:db8:1::12\", \"port\": 8080}", ", \"forward\": \"nat\""),
	  FILE_REAL("{ address: \"2001:db8:1::12\", port: 8080, forward: nat }"),
	  "address: 2001:db8:1::12 is IPv6 but the VIP 198.18.0.10 is IPv4 (nat needs the same family)" },
	{ "real forward unknown", REAL_ADD("{\"address\": \"198.18.1.12\"}", ", \"forward\": \"masq\""),
	  FILE_REAL("{ address: 198.18.1.12, forward: masq }"),
	  "forward: unknown method 'masq' (expected dr, tun, ipip, gue, nat, fullnat or local)" },

	/* ---- a service ---- */
	{ "vip unspecified", SVC_ADD("{\"vip\": \"0.0.0.0\", \"port\": 80, \"protocol\": \"tcp\"}", ""),
	  FILE_SVC("{ vip: 0.0.0.0, port: 80, protocol: tcp }"),
	  "vip: '0.0.0.0' is not a usable unicast address" },
	{ "vip multicast", SVC_ADD("{\"vip\": \"224.0.0.1\", \"port\": 80, \"protocol\": \"tcp\"}", ""),
	  FILE_SVC("{ vip: 224.0.0.1, port: 80, protocol: tcp }"),
	  "vip: '224.0.0.1' is not a usable unicast address" },
	{ "vip loopback", SVC_ADD("{\"vip\": \"127.0.0.53\", \"port\": 53, \"protocol\": \"udp\"}", ""),
	  FILE_SVC("{ vip: 127.0.0.53, port: 53, protocol: udp }"),
	  "vip: '127.0.0.53' is not a usable unicast address" },
	{ "vip broadcast", SVC_ADD("{\"vip\": \"255.255.255.255\", \"port\": 80, \"protocol\": \"tcp\"}", ""),
	  FILE_SVC("{ vip: 255.255.255.255, port: 80, protocol: tcp }"),
	  "vip: '255.255.255.255' is not a usable unicast address" },
	{ "vip IPv6 unspecified", SVC_ADD("{\"vip\": \"::\", \"port\": 80, \"protocol\": \"tcp\"}", ""),
	  FILE_SVC("{ vip: \"::\", port: 80, protocol: tcp }"), "vip: '::' is not a usable unicast address" },
	{ "vip IPv6 multicast", SVC_ADD("{\"vip\": \"ff02::1\", \"port\": 80, \"protocol\": \"tcp\"}", ""),
	  FILE_SVC("{ vip: \"ff02::1\", port: 80, protocol: tcp }"),
	  "vip: 'ff02::1' is not a usable unicast address" },
	{ "vip not an address",
	  SVC_ADD("{\"vip\": \"198.18.0.10/32\", \"port\": 80, \"protocol\": \"tcp\"}", ""),
	  FILE_SVC("{ vip: 198.18.0.10/32, port: 80, protocol: tcp }"),
	  "vip: '198.18.0.10/32' is not an IPv4 or IPv6 address" },
	{ "service port too large",
	  SVC_ADD("{\"vip\": \"198.18.0.11\", \"port\": 65536, \"protocol\": \"tcp\"}", ""),
	  FILE_SVC("{ vip: 198.18.0.11, port: 65536, protocol: tcp }"),
	  "port: 65536 out of range (0..65535)" },
	{ "service port negative",
	  SVC_ADD("{\"vip\": \"198.18.0.11\", \"port\": -1, \"protocol\": \"tcp\"}", ""),
	  FILE_SVC("{ vip: 198.18.0.11, port: -1, protocol: tcp }"), "port: -1 out of range (0..65535)" },
	{ "service protocol unknown",
	  SVC_ADD("{\"vip\": \"198.18.0.11\", \"port\": 80, \"protocol\": \"sctp\"}", ""),
	  FILE_SVC("{ vip: 198.18.0.11, port: 80, protocol: sctp }"),
	  "protocol: unknown protocol 'sctp' (expected tcp or udp)" },
	{ "service scheduler unknown",
	  SVC_ADD("{\"vip\": \"198.18.0.11\", \"port\": 80, \"protocol\": \"tcp\"}",
		  ", \"scheduler\": \"fastest\""),
	  FILE_SVC("{ vip: 198.18.0.11, port: 80, protocol: tcp, scheduler: fastest }"),
	  "scheduler: unknown scheduler 'fastest' (expected maglev, rr, wrr, lc, wlc, sed, nq, sh, dh, lblc, lblcr or mh)" },
	{ "service forward unknown",
	  SVC_ADD("{\"vip\": \"198.18.0.11\", \"port\": 80, \"protocol\": \"tcp\"}",
		  ", \"forward\": \"snat\""),
	  FILE_SVC("{ vip: 198.18.0.11, port: 80, protocol: tcp, forward: snat }"),
	  "forward: unknown method 'snat' (expected dr, tun, ipip, gue, nat, fullnat or local)" },
	{ "service ring_size not prime",
	  SVC_ADD("{\"vip\": \"198.18.0.11\", \"port\": 80, \"protocol\": \"tcp\"}",
		  ", \"ring_size\": 65536"),
	  FILE_SVC("{ vip: 198.18.0.11, port: 80, protocol: tcp, ring_size: 65536 }"),
	  "ring_size: 65536 is not a prime" },
	{ "service ring_size too small",
	  SVC_ADD("{\"vip\": \"198.18.0.11\", \"port\": 80, \"protocol\": \"tcp\"}", ", \"ring_size\": 2"),
	  FILE_SVC("{ vip: 198.18.0.11, port: 80, protocol: tcp, ring_size: 2 }"),
	  "ring_size: 2 out of range (3..16777213)" },
	{ "service ring_size too large",
	  SVC_ADD("{\"vip\": \"198.18.0.11\", \"port\": 80, \"protocol\": \"tcp\"}",
		  ", \"ring_size\": 16777259"),
	  FILE_SVC("{ vip: 198.18.0.11, port: 80, protocol: tcp, ring_size: 16777259 }"),
	  "ring_size: 16777259 out of range (3..16777213)" },
	{ "service scheduler_expire on a scheduler without assignments",
	  SVC_ADD("{\"vip\": \"198.18.0.11\", \"port\": 80, \"protocol\": \"tcp\"}",
		  ", \"scheduler_expire\": 60"),
	  FILE_SVC("{ vip: 198.18.0.11, port: 80, protocol: tcp, scheduler_expire: 60 }"),
	  "scheduler_expire: only lblc and lblcr keep assignments, not maglev" },
	/* ---- persistence ---- */
	{ "persistence netmask not contiguous",
	  SVC_ADD("{\"vip\": \"198.18.0.20\", \"port\": 80, \"protocol\": \"tcp\"}",
		  ", \"persistence\": 300, \"persistence_netmask\": \"255.0.255.0\""),
	  FILE_SVC(
		  "{ vip: 198.18.0.20, port: 80, protocol: tcp, persistence: 300, persistence_netmask: 255.0.255.0 }"),
	  "persistence_netmask: '255.0.255.0' is not a contiguous netmask (e.g. 255.255.255.0)" },
	{ "persistence netmask without persistence",
	  SVC_ADD("{\"vip\": \"198.18.0.20\", \"port\": 80, \"protocol\": \"tcp\"}",
		  ", \"persistence_netmask\": 24"),
	  FILE_SVC("{ vip: 198.18.0.20, port: 80, protocol: tcp, persistence_netmask: 24 }"),
	  "persistence_netmask: set but the service is not persistent (no 'persistence')" },
	{ "persistence netmask dotted on IPv6",
	  SVC_ADD("{\"vip\": \"2001:db8::20\", \"port\": 80, \"protocol\": \"tcp\"}",
		  ", \"persistence\": 60, \"persistence_netmask\": \"255.255.0.0\""),
	  FILE_SVC(
		  "{ vip: \"2001:db8::20\", port: 80, protocol: tcp, persistence: 60, persistence_netmask: 255.255.0.0 }"),
	  "persistence_netmask: '255.255.0.0' is not a prefix length (1..128) for an IPv6 service" },
	{ "persistence netmask prefix too long",
	  SVC_ADD("{\"vip\": \"198.18.0.20\", \"port\": 80, \"protocol\": \"tcp\"}",
		  ", \"persistence\": 300, \"persistence_netmask\": 33"),
	  FILE_SVC("{ vip: 198.18.0.20, port: 80, protocol: tcp, persistence: 300, persistence_netmask: 33 }"),
	  "persistence_netmask: 33 out of range (1..32)" },
	/* ---- flow state (issue 13) ---- */
	{ "service flow_state unknown",
	  SVC_ADD("{\"vip\": \"198.18.0.11\", \"port\": 80, \"protocol\": \"tcp\"}",
		  ", \"flow_state\": \"stateless\""),
	  FILE_SVC("{ vip: 198.18.0.11, port: 80, protocol: tcp, flow_state: stateless }"),
	  "flow_state: unknown mode 'stateless' (expected auto, ring or table)" },
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

static struct xlvs_lb_bpf *skel;
static struct xlvsd d;

static void setup(void)
{
	struct xlvs_conf_error cerr;
	struct xlvs_apply_stats st;
	struct xlvs_spec want;
	char msg[512];
	int err;

	memset(&d, 0, sizeof(d));
	skel = unit_director_load(0, 0, &d.maps);
	d.dp.lock_fd = d.dp.prog_fd = -1;
	xlvsd_status_init(&d.status);
	err = xlvs_conf_parse("base.yaml", BASE, strlen(BASE), &want, &cerr);
	cr_assert_eq(err, 0, "%u:%u: %s", cerr.line, cerr.column, cerr.msg);
	want.global.nr_interfaces = 0; /* nothing to attach to */
	cr_assert_eq(xlvsd_apply(&d, &want, &st, msg, sizeof(msg)), 0, "%s", msg);
	xlvs_spec_free(&want);
}

static void teardown(void)
{
	xlvs_spec_free(&d.spec);
	xlvs_maps_close(&d.maps);
	xlvs_lb_bpf__destroy(skel);
}

/* The reply's "error", or "" if the request was accepted. */
static const char *request(const char *text, char *buf, size_t size)
{
	json_error_t je;
	json_t *req = json_loads(text, 0, &je), *reply, *e;

	cr_assert_not_null(req, "bad request in the table: %s: %s", text, je.text);
	reply = xlvsd_command(&d, req);
	cr_assert_not_null(reply);
	e = json_object_get(reply, "error");
	snprintf(buf, size, "%s",
		 json_is_true(json_object_get(reply, "ok")) ? ""
		 : json_is_string(e)			    ? json_string_value(e)
							    : "(no error string)");
	json_decref(reply);
	json_decref(req);
	return buf;
}

Test(validate, file_refuses_each_row)
{
	struct xlvs_conf_error err;
	struct xlvs_spec spec;
	size_t i;

	for (i = 0; i < NROWS; i++) {
		memset(&err, 0, sizeof(err));
		cr_expect_eq(xlvs_conf_parse("t.yaml", rows[i].yaml, strlen(rows[i].yaml), &spec, &err),
			     -EINVAL, "%s: the file accepts it", rows[i].name);
		cr_expect(err.line > 0, "%s: no position", rows[i].name);
		cr_expect_str_eq(err.msg, rows[i].want, "%s: the file says \"%s\"", rows[i].name, err.msg);
		xlvs_spec_free(&spec);
	}
}

static void free_params(struct criterion_test_params *p)
{
	cr_free(p->params);
}

/* Parameters are copied as raw bytes into shared memory: rows go by index. */
ParameterizedTestParameters(validate, socket_refuses_with_the_files_words)
{
	size_t *idx = cr_malloc(sizeof(*idx) * NROWS), i;

	for (i = 0; i < NROWS; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NROWS, free_params);
}

/* One daemon per row: each refusal is seen on its own, with what the socket said. */
ParameterizedTest(size_t *i, validate, socket_refuses_with_the_files_words, .init = setup, .fini = teardown,
		  .timeout = 60)
{
	const struct row *r = &rows[*i];
	char got[512];

	request(r->req, got, sizeof(got));
	cr_expect_str_eq(got, r->want, "%s: the socket says \"%s\"", r->name, got[0] ? got : "ok (accepted)");
	/* a refused edit leaves the running state alone */
	cr_expect_eq(d.spec.nr_services, 1, "%s: services changed", r->name);
	cr_expect_eq(d.spec.services[0].nr_reals, 1, "%s: reals changed", r->name);
}

/* flow_state and ring_window through the socket: set, updated alone, and a window past a week refused. */
Test(validate, socket_takes_flow_state_and_ring_window, .init = setup, .fini = teardown, .timeout = 60)
{
	char got[512];

	cr_expect_str_eq(request(SVC_ADD(SVC_ARG_OBJ, ", \"flow_state\": \"table\", \"ring_window\": 600"),
				 got, sizeof(got)),
			 "");
	cr_expect_eq(d.spec.services[0].flow_state, XLVS_FLOW_STATE_TABLE);
	cr_expect_eq(d.spec.services[0].ring_window_s, 600);
	cr_expect_str_eq(request(SVC_ADD(SVC_ARG_OBJ, ", \"ring_window\": 0"), got, sizeof(got)), "");
	cr_expect_eq(d.spec.services[0].ring_window_s, 0);
	cr_expect_eq(d.spec.services[0].flow_state, XLVS_FLOW_STATE_TABLE, "not named: kept");
	cr_expect_str_eq(request(SVC_ADD(SVC_ARG_OBJ, ", \"ring_window\": 604801"), got, sizeof(got)),
			 "ring_window: 604801 out of range (0..604800)");
	cr_expect_str_eq(request(SVC_ADD(SVC_ARG_OBJ, ", \"ring_window\": \"10m\""), got, sizeof(got)),
			 "\"ring_window\" must be an integer from 0 to 604800");
	cr_expect_str_eq(request(SVC_ADD(SVC_ARG_OBJ, ", \"flow_state\": 1"), got, sizeof(got)),
			 "\"flow_state\" must be a string");
	cr_expect_eq(d.spec.services[0].ring_window_s, 0, "a refused edit leaves the service alone");
	cr_expect_eq(d.spec.nr_services, 1);
}

/* What the rules allow still goes through (the table is not passed by refusing everything). */
Test(validate, socket_accepts_valid_edits, .init = setup, .fini = teardown, .timeout = 60)
{
	char got[512];

	cr_expect_str_eq(request(REAL_ADD("{\"address\": \"198.18.1.12\"}", ", \"weight\": 65535"), got,
				 sizeof(got)),
			 "");
	cr_expect_str_eq(request(REAL_ADD("{\"address\": \"198.18.1.13\", \"port\": 80}",
					  ", \"forward\": \"gue\", \"gue_port\": 7000"),
				 got, sizeof(got)),
			 "");
	cr_expect_str_eq(request(SVC_ADD("{\"vip\": \"198.18.0.11\", \"port\": 0, \"protocol\": \"udp\"}",
					 ", \"ring_size\": 251"),
				 got, sizeof(got)),
			 "");
	cr_expect_str_eq(request(SVC_ADD("{\"vip\": \"2001:db8::10\", \"port\": 443, \"protocol\": \"tcp\"}",
					 ", \"ring_size\": 0"),
				 got, sizeof(got)),
			 "");
	/* nat with a port of its own, through the socket as in the file */
	cr_expect_str_eq(request(REAL_ADD("{\"address\": \"198.18.1.14\", \"port\": 8080}",
					  ", \"forward\": \"nat\""),
				 got, sizeof(got)),
			 "");
	cr_expect_eq(d.spec.nr_services, 3);
	cr_expect_eq(d.spec.services[0].nr_reals, 4);
	cr_expect_eq(d.spec.services[1].flow_state, XLVS_FLOW_STATE_AUTO, "not given: auto");
	cr_expect_eq(d.spec.services[0].reals[3].port, 8080);
	cr_expect_eq(d.spec.services[0].reals[3].fwd, XLVS_FWD_NAT);
}
