// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the operator's verbs on the daemon side: `xlvs save` (the
 * running state written as a configuration file, read back into the same
 * state), `xlvs diff` / `xlvs reload --dry-run` (what a reload would change),
 * and the hints for keepalived/ipvsadm words in the configuration file.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <jansson.h>
#include <unistd.h>

#include "config/conf.h"
#include "config/specedit.h"
#include "daemon/daemon.h"
#include "health/hc.h"
#include "helpers.h"
#include "xlvs_lb.skel.h"
#include "config/save.h"
#include "daemon/verbs.h"
#include "spec.h"

/* ---- deep comparison of two states, field by field ---------------------- */

static void expect_addr_eq(const struct xlvs_addr *a, const struct xlvs_addr *b, const char *what)
{
	cr_expect(a->family == b->family && !memcmp(a->be, b->be, sizeof(a->be)), "%s differs", what);
}

static void expect_check_eq(const struct xlvs_check_spec *a, const struct xlvs_check_spec *b,
			    const char *what)
{
	cr_expect_eq(a->type, b->type, "%s type", what);
	cr_expect_eq(a->initial_up, b->initial_up, "%s initial", what);
	cr_expect_eq(a->rise, b->rise, "%s rise", what);
	cr_expect_eq(a->fall, b->fall, "%s fall", what);
	cr_expect_eq(a->interval_ms, b->interval_ms, "%s interval", what);
	cr_expect_eq(a->timeout_ms, b->timeout_ms, "%s timeout", what);
	expect_addr_eq(&a->addr, &b->addr, what);
	cr_expect_eq(a->port, b->port, "%s port", what);
	if (a->type == XLVS_CHECK_NONE)
		return; /* `check: off`: what else it holds is never used */
	cr_expect_str_eq(a->path, b->path, "%s path", what);
	cr_expect_str_eq(a->host, b->host, "%s host", what);
	cr_expect_eq(a->nr_codes, b->nr_codes, "%s codes", what);
	cr_expect(!memcmp(a->code_lo, b->code_lo, sizeof(a->code_lo)), "%s code_lo", what);
	cr_expect(!memcmp(a->code_hi, b->code_hi, sizeof(a->code_hi)), "%s code_hi", what);
	cr_expect_eq(a->tls_verify, b->tls_verify, "%s tls_verify", what);
	cr_expect_eq(a->digest_alg, b->digest_alg, "%s digest_alg", what);
	cr_expect(!memcmp(a->digest, b->digest, sizeof(a->digest)), "%s digest", what);
	cr_expect_str_eq(a->match, b->match, "%s body/reply", what);
	cr_expect_str_eq(a->payload, b->payload, "%s payload", what);
	cr_expect_str_eq(a->qname, b->qname, "%s name", what);
	cr_expect_eq(a->qtype, b->qtype, "%s query_type", what);
	cr_expect_str_eq(a->command, b->command, "%s command", what);
}

static void expect_real_eq(const struct xlvs_real_spec *a, const struct xlvs_real_spec *b, const char *what)
{
	expect_addr_eq(&a->addr, &b->addr, what);
	cr_expect_eq(a->port, b->port, "%s port", what);
	cr_expect_eq(a->weight, b->weight, "%s weight", what);
	cr_expect_eq(a->fwd, b->fwd, "%s forward", what);
	cr_expect_eq(a->gue_port, b->gue_port, "%s gue_port", what);
	cr_expect_eq(!a->check, !b->check, "%s: a check on one side only", what);
	if (a->check && b->check)
		expect_check_eq(a->check, b->check, what);
}

static void expect_health_eq(const struct xlvs_svc_health *a, const struct xlvs_svc_health *b,
			     const char *what)
{
	cr_expect_eq(!a, !b, "%s: health on one side only", what);
	if (!a || !b)
		return;
	expect_check_eq(&a->check, &b->check, what);
	cr_expect_eq(a->on_down, b->on_down, "%s on_down", what);
	cr_expect_eq(a->have_sorry, b->have_sorry, "%s sorry", what);
	if (a->have_sorry && b->have_sorry)
		expect_real_eq(&a->sorry, &b->sorry, what);
	cr_expect_eq(a->quorum, b->quorum, "%s quorum", what);
	cr_expect_eq(a->quorum_hysteresis, b->quorum_hysteresis, "%s hysteresis", what);
	cr_expect_eq(a->quorum_action, b->quorum_action, "%s quorum action", what);
	cr_expect_eq(a->notify_timeout_ms, b->notify_timeout_ms, "%s notify timeout", what);
	cr_expect_str_eq(a->notify_up, b->notify_up, "%s notify up", what);
	cr_expect_str_eq(a->notify_down, b->notify_down, "%s notify down", what);
	cr_expect_str_eq(a->notify_quorum, b->notify_quorum, "%s notify quorum", what);
}

static void expect_spec_eq(const struct xlvs_spec *a, const struct xlvs_spec *b, const char *name)
{
	const struct xlvs_global_spec *g = &a->global, *h = &b->global;
	size_t i, j;

	cr_expect_eq(g->nr_interfaces, h->nr_interfaces, "%s: interfaces", name);
	cr_expect(!memcmp(g->interfaces, h->interfaces, sizeof(g->interfaces)), "%s: interfaces", name);
	cr_expect_eq(g->xdp_mode, h->xdp_mode, "%s: xdp_mode", name);
	expect_addr_eq(&g->tun_src4, &h->tun_src4, "tunnel.source4");
	expect_addr_eq(&g->tun_src6, &h->tun_src6, "tunnel.source6");
	cr_expect_eq(g->tun_mtu, h->tun_mtu, "%s: mtu", name);
	cr_expect_eq(g->gue_port, h->gue_port, "%s: gue_port", name);
	cr_expect_eq(g->syn_guard_rate, h->syn_guard_rate, "%s: syn_guard_rate", name);
	cr_expect_eq(g->frag_drop, h->frag_drop, "%s: fragments", name);
	cr_expect_eq(g->ip4_options_drop, h->ip4_options_drop, "%s: ip_options", name);
	cr_expect_eq(g->have_gw_mac, h->have_gw_mac, "%s: gateway_mac", name);
	cr_expect(!memcmp(g->gw_mac, h->gw_mac, 6), "%s: gateway_mac", name);
	cr_expect_eq(g->conn_table_size, h->conn_table_size, "%s: conn_table_size", name);
	cr_expect_str_eq(g->metrics_listen, h->metrics_listen, "%s: metrics", name);
	cr_assert_eq(g->nr_snat_pool, h->nr_snat_pool, "%s: fullnat.pool", name);
	for (i = 0; i < g->nr_snat_pool; i++)
		expect_addr_eq(&g->snat_pool[i], &h->snat_pool[i], "fullnat.pool");
	cr_expect_eq(g->snat_port_lo, h->snat_port_lo, "%s: fullnat.port_min", name);
	cr_expect_eq(g->snat_port_hi, h->snat_port_hi, "%s: fullnat.port_max", name);
	cr_assert_eq(a->nr_services, b->nr_services, "%s: services", name);
	for (i = 0; i < a->nr_services; i++) {
		const struct xlvs_svc_spec *s = &a->services[i], *t = &b->services[i];
		char what[96];

		snprintf(what, sizeof(what), "%s: service %zu", name, i);
		expect_addr_eq(&s->vip, &t->vip, what);
		cr_expect_eq(s->proto, t->proto, "%s proto", what);
		cr_expect_eq(s->port, t->port, "%s port", what);
		cr_expect_eq(s->sched, t->sched, "%s scheduler", what);
		cr_expect_eq(s->fwd, t->fwd, "%s forward", what);
		cr_expect_eq(s->flags, t->flags, "%s flags", what);
		cr_expect_eq(s->sched_expire_s, t->sched_expire_s, "%s scheduler_expire", what);
		cr_expect_eq(s->ring_size, t->ring_size, "%s ring_size", what);
		cr_expect_eq(s->persist_s, t->persist_s, "%s persistence", what);
		cr_expect_eq(s->persist_plen, t->persist_plen, "%s persistence_netmask", what);
		cr_expect_eq(s->flow_state, t->flow_state, "%s flow_state", what);
		cr_expect_eq(s->ring_window_s, t->ring_window_s, "%s ring_window", what);
		expect_health_eq(s->health, t->health, what);
		cr_assert_eq(s->nr_reals, t->nr_reals, "%s reals", what);
		for (j = 0; j < s->nr_reals; j++) {
			snprintf(what, sizeof(what), "%s: service %zu real %zu", name, i, j);
			expect_real_eq(&s->reals[j], &t->reals[j], what);
		}
	}
}

/* ---- save ---------------------------------------------------------------- */

static void parse_ok(const char *name, const char *yaml, struct xlvs_spec *s)
{
	struct xlvs_conf_error err = { 0 };
	int ret = xlvs_conf_parse(name, yaml, strlen(yaml), s, &err);

	cr_assert_eq(ret, 0, "%s does not parse: %u:%u: %s\n%s", name, err.line, err.column, err.msg, yaml);
}

/* Save, read back, compare; saving again writes the same text. */
static void round_trip(const char *name, const struct xlvs_spec *s)
{
	struct xlvs_spec back;
	char *text = NULL, *again = NULL;

	cr_assert_eq(xlvs_conf_save(s, "saved by the test", &text), 0);
	parse_ok(name, text, &back);
	expect_spec_eq(s, &back, name);
	cr_assert_eq(xlvs_conf_save(&back, "saved by the test", &again), 0);
	cr_expect_str_eq(again, text, "%s: a second save differs", name);
	xlvs_spec_free(&back);
	free(text);
	free(again);
}

/* Every key the file has, with values other than the defaults where a key has one. */
static const char every_key_yaml[] =
	"interfaces: [eth0, \"eth1\"]\n"
	"xdp_mode: generic\n"
	"tunnel: { source4: 198.18.0.1, source6: \"2001:db8::1\", mtu: 9000, gue_port: 6081 }\n"
	"gateway_mac: \"02:00:00:00:00:0a\"\n"
	"syn_guard_rate: 1000\n"
	"fragments: drop\n"
	"ip_options: drop\n"
	"conn_table_size: 65536\n"
	"metrics: { listen: \"[::1]:9105\" }\n"
	"fullnat: { pool: [198.18.0.201, \"2001:db8::201\"], port_min: 2000, port_max: 60000 }\n"
	"services:\n"
	"  - vip: 198.18.0.10\n"
	"    port: 80\n"
	"    protocol: tcp\n"
	"    scheduler: maglev\n"
	"    forward: tun\n"
	"    ring_size: 251\n"
	"    echo: true\n"
	"    flow_state: ring\n"
	"    ring_window: 10m\n"
	"    check:\n"
	"      type: https\n"
	"      path: /healthz?full=1\n"
	"      host: www.example.org\n"
	"      expect: [200, 301-302]\n"
	"      body: \"a \\\"quoted\\\" \\\\ body\"\n"
	"      tls_verify: true\n"
	"      interval: 500ms\n"
	"      timeout: 250ms\n"
	"      rise: 1\n"
	"      fall: 5\n"
	"      initial: down\n"
	"      port: 8443\n"
	"    on_down: remove\n"
	"    sorry: { address: 198.18.1.99, forward: dr }\n"
	"    quorum: { weight: 3, action: sorry, hysteresis: 1 }\n"
	"    notify: { up: \"logger up\", down: \"logger 'down'\", quorum: \"logger q\", timeout: 3s }\n"
	"    reals:\n"
	"      - { address: 198.18.1.11, weight: 2 }\n"
	"      - { address: 198.18.1.12, check: { address: 198.18.2.12, fall: 2 } }\n"
	"      - { address: 198.18.1.13, check: off }\n"
	"      - { address: 198.18.1.14, check: { type: tcp } }\n"
	"      - { address: 198.18.1.15, weight: 0, forward: gue, gue_port: 7777 }\n"
	"      - { address: 198.18.1.16, check: { digest: \"md5:00112233445566778899AABBCCDDEEFF\" } }\n"
	"  - vip: \"2001:db8::53\"\n"
	"    port: 53\n"
	"    protocol: udp\n"
	"    persistence: 90\n"
	"    persistence_netmask: 64\n"
	"    forward: gue\n"
	"    gue_port: 6090\n"
	"    check: { type: dns, name: example.org, query_type: aaaa, interval: 1m, timeout: 2 }\n"
	"    quorum: 2\n"
	"    reals: [{ address: \"2001:db8:1::21\" }, { address: 198.18.1.22, forward: tun }]\n"
	"  - vip: 198.18.0.12\n"
	"    port: 514\n"
	"    protocol: udp\n"
	"    check: { type: udp, payload: \"ping\\n\\t\", reply: pong }\n"
	"    reals:\n"
	"      - { address: 198.18.1.31, check: { type: icmp } }\n"
	"      - { address: 198.18.1.32, check: { type: exec, command: \"/bin/check $XLVS_REAL\" } }\n"
	"  - vip: 198.18.0.20\n"
	"    port: 0\n"
	"    protocol: tcp\n"
	"    persistence: 1h\n"
	"    persistence_netmask: 255.255.255.0\n"
	"    on_down: quiesce\n"
	"    reals: [{ address: 198.18.1.41, check: { type: tcp, port: 22 } }]\n"
	"  - vip: 198.18.0.21\n"
	"    port: 8080\n"
	"    protocol: tcp\n"
	"    forward: nat\n"
	"    reals: [{ address: 198.18.1.51, port: 80 }, { address: 198.18.1.52, forward: fullnat }]\n"
	"  - vip: 198.18.0.22\n"
	"    port: 3128\n"
	"    protocol: tcp\n"
	"    scheduler: lblcr\n"
	"    scheduler_expire: 6m\n"
	"    flow_state: table\n";

Test(save, every_key_round_trips)
{
	struct xlvs_spec s;

	parse_ok("every-key.yaml", every_key_yaml, &s);
	round_trip("every-key.yaml", &s);
	xlvs_spec_free(&s);
}

Test(save, every_example_round_trips)
{
	glob_t g;
	size_t i;

	cr_assert_eq(glob("docs/examples/*.yaml", 0, NULL, &g), 0, "no examples (run from the repo root)");
	for (i = 0; i < g.gl_pathc; i++) {
		struct xlvs_conf_error err = { 0 };
		struct xlvs_spec s;

		cr_assert_eq(xlvs_conf_load(g.gl_pathv[i], &s, &err), 0, "%s: %s", g.gl_pathv[i], err.msg);
		round_trip(g.gl_pathv[i], &s);
		xlvs_spec_free(&s);
	}
	globfree(&g);
}

/* The exact text: what an operator reads, and the shape the parser is given. */
Test(save, text_exact)
{
	static const char yaml[] = "interface: eth0\n"
				   "services:\n"
				   "  - { vip: 198.18.0.10, port: 80, protocol: tcp, forward: dr }\n"
				   "  - vip: \"2001:db8::10\"\n"
				   "    port: 443\n"
				   "    protocol: tcp\n"
				   "    check: { type: http, path: /hc }\n"
				   "    reals: [{ address: \"2001:db8:1::11\", weight: 3 }]\n";
	static const char want[] = "# saved\n"
				   "interfaces: [\"eth0\"]\n"
				   "xdp_mode: auto\n"
				   "flow_hash: mix64\n"
				   "tunnel:\n"
				   "  mtu: 1500\n"
				   "  gue_port: 6080\n"
				   "syn_guard_rate: 0\n"
				   "fragments: pass\n"
				   "ip_options: forward\n"
				   "conn_table_size: 262144\n"
				   "health_via_forwarding: true\n"
				   "health_mark: \"0x584c0000/0xffff0000\"\n"
				   "services:\n"
				   "  - vip: \"198.18.0.10\"\n"
				   "    port: 80\n"
				   "    protocol: tcp\n"
				   "    scheduler: maglev\n"
				   "    forward: dr\n"
				   "    ring_size: 65537\n"
				   "    echo: false\n"
				   "  - vip: \"2001:db8::10\"\n"
				   "    port: 443\n"
				   "    protocol: tcp\n"
				   "    scheduler: maglev\n"
				   "    forward: dr\n"
				   "    ring_size: 65537\n"
				   "    echo: false\n"
				   "    check:\n"
				   "      type: http\n"
				   "      interval: 2000ms\n"
				   "      timeout: 1000ms\n"
				   "      rise: 2\n"
				   "      fall: 3\n"
				   "      initial: up\n"
				   "      path: \"/hc\"\n"
				   "    on_down: quiesce\n"
				   "    reals:\n"
				   "      - address: \"2001:db8:1::11\"\n"
				   "        weight: 3\n"
				   "        forward: dr\n";
	struct xlvs_spec s;
	char *text = NULL;

	parse_ok("exact.yaml", yaml, &s);
	cr_assert_eq(xlvs_conf_save(&s, "saved", &text), 0);
	cr_expect_str_eq(text, want);
	free(text);
	xlvs_spec_free(&s);
}

/* flow_state and ring_window are written only when not the defaults (auto, 0): older files read the same. */
Test(save, flow_state_written_when_set)
{
	static const char yaml[] =
		"interface: eth0\n"
		"services:\n"
		"  - { vip: 198.18.0.10, port: 80, protocol: tcp, flow_state: ring, ring_window: 2m }\n"
		"  - { vip: 198.18.0.10, port: 81, protocol: tcp, flow_state: table }\n"
		"  - { vip: 198.18.0.10, port: 82, protocol: tcp, flow_state: auto, ring_window: 0 }\n";
	static const char want[] = "services:\n"
				   "  - vip: \"198.18.0.10\"\n"
				   "    port: 80\n"
				   "    protocol: tcp\n"
				   "    scheduler: maglev\n"
				   "    forward: dr\n"
				   "    ring_size: 65537\n"
				   "    echo: false\n"
				   "    flow_state: ring\n"
				   "    ring_window: 120s\n"
				   "  - vip: \"198.18.0.10\"\n"
				   "    port: 81\n"
				   "    protocol: tcp\n"
				   "    scheduler: maglev\n"
				   "    forward: dr\n"
				   "    ring_size: 65537\n"
				   "    echo: false\n"
				   "    flow_state: table\n"
				   "  - vip: \"198.18.0.10\"\n"
				   "    port: 82\n"
				   "    protocol: tcp\n"
				   "    scheduler: maglev\n"
				   "    forward: dr\n"
				   "    ring_size: 65537\n"
				   "    echo: false\n";
	struct xlvs_spec s;
	char *text = NULL;

	parse_ok("flow-state.yaml", yaml, &s);
	cr_assert_eq(xlvs_conf_save(&s, NULL, &text), 0);
	cr_expect_not_null(strstr(text, want), "saved:\n%s", text);
	round_trip("flow-state.yaml", &s);
	free(text);
	xlvs_spec_free(&s);
}

/* ---- diff ------------------------------------------------------------------ */

/*
 * One change as a line: "real changed tcp 198.18.0.10:80 198.18.1.11 weight 1>3, forward dr>tun";
 * a field a reload does not change ("live": false) ends in " (not live)".
 */
static void change_line(json_t *c, char *buf, size_t size)
{
	json_t *svc = json_object_get(c, "service"), *real = json_object_get(c, "real"), *f;
	size_t o, i;

	o = snprintf(buf, size, "%s %s", json_string_value(json_object_get(c, "object")),
		     json_string_value(json_object_get(c, "change")));
	if (svc)
		o += snprintf(buf + o, size - o, " %s %s:%lld",
			      json_string_value(json_object_get(svc, "protocol")),
			      json_string_value(json_object_get(svc, "vip")),
			      json_integer_value(json_object_get(svc, "port")));
	if (real)
		o += snprintf(buf + o, size - o, " %s", json_string_value(json_object_get(real, "address")));
	json_array_foreach (json_object_get(c, "fields"), i, f) {
		json_t *from = json_object_get(f, "from"), *to = json_object_get(f, "to");

		o += snprintf(buf + o, size - o, "%s%s %s>%s%s", i ? ", " : " ",
			      json_string_value(json_object_get(f, "key")),
			      from ? json_string_value(from) : "", to ? json_string_value(to) : "",
			      json_is_false(json_object_get(f, "live")) ? " (not live)" : "");
	}
}

#define SVC_A "  - { vip: 198.18.0.10, port: 80, protocol: tcp, reals: [{ address: 198.18.1.11 }] }\n"
#define SVC_B "  - { vip: 198.18.0.11, port: 53, protocol: udp }\n"

struct diff_row {
	const char *name, *from, *to;
	const char *changes[6]; /* change_line() of each, in order */
};

static const struct diff_row diff_rows[] = {
	{ "the same file: no change",
	  "interface: eth0\nservices:\n" SVC_A,
	  "interface: eth0\nservices:\n" SVC_A,
	  { NULL } },
	{ "a weight",
	  "interface: eth0\nservices:\n" SVC_A,
	  "interface: eth0\nservices:\n"
	  "  - { vip: 198.18.0.10, port: 80, protocol: tcp, reals: [{ address: 198.18.1.11, weight: 5 }] }\n",
	  { "real changed tcp 198.18.0.10:80 198.18.1.11 weight 1>5" } },
	{ "a real added, one removed, one drained",
	  "interface: eth0\nservices:\n"
	  "  - vip: 198.18.0.10\n    port: 80\n    protocol: tcp\n"
	  "    reals: [{ address: 198.18.1.11 }, { address: 198.18.1.12 }]\n",
	  "interface: eth0\nservices:\n"
	  "  - vip: 198.18.0.10\n    port: 80\n    protocol: tcp\n"
	  "    reals: [{ address: 198.18.1.13, forward: tun }, { address: 198.18.1.11, weight: 0 }]\n"
	  "tunnel: { source4: 198.18.0.1 }\n",
	  { "global changed tunnel.source4 >\"198.18.0.1\"",
	    "real removed tcp 198.18.0.10:80 198.18.1.12 address \"198.18.1.12\">, weight 1>, forward dr>",
	    "real added tcp 198.18.0.10:80 198.18.1.13 address >\"198.18.1.13\", weight >1, forward >tun",
	    "real changed tcp 198.18.0.10:80 198.18.1.11 weight 1>0" } },
	{ "a service added and one removed; the other's scheduler and check",
	  "interface: eth0\nservices:\n" SVC_A SVC_B,
	  "interface: eth0\nservices:\n"
	  "  - { vip: 198.18.0.12, port: 0, protocol: tcp, forward: tun, reals: [{ address: 198.18.1.11 }] }\n"
	  "  - { vip: 198.18.0.10, port: 80, protocol: tcp, scheduler: maglev, ring_size: 251,\n"
	  "      check: { type: tcp }, reals: [{ address: 198.18.1.11 }] }\n"
	  "tunnel: { source4: 198.18.0.1 }\n",
	  { "global changed tunnel.source4 >\"198.18.0.1\"",
	    "service removed udp 198.18.0.11:53 vip \"198.18.0.11\">, port 53>, protocol udp>, scheduler maglev>, "
	    "forward dr>, ring_size 65537>, echo false>",
	    "service added tcp 198.18.0.12:0 vip >\"198.18.0.12\", port >0, protocol >tcp, scheduler >maglev, "
	    "forward >tun, ring_size >65537, echo >false",
	    "real added tcp 198.18.0.12:0 198.18.1.11 address >\"198.18.1.11\", weight >1, forward >tun",
	    "service changed tcp 198.18.0.10:80 ring_size 65537>251, check.type >tcp, check.interval >2000ms, "
	    "check.timeout >1000ms, check.rise >2, check.fall >3, check.initial >up, on_down >quiesce" } },
	{ "persistence set, then its netmask",
	  "interface: eth0\nservices:\n" SVC_A,
	  "interface: eth0\nservices:\n"
	  "  - { vip: 198.18.0.10, port: 80, protocol: tcp, persistence: 5m, persistence_netmask: 24,\n"
	  "      reals: [{ address: 198.18.1.11 }] }\n",
	  { "service changed tcp 198.18.0.10:80 persistence >300s, persistence_netmask >255.255.255.0" } },
	{ "flow state and window set",
	  "interface: eth0\nservices:\n" SVC_A,
	  "interface: eth0\nservices:\n"
	  "  - { vip: 198.18.0.10, port: 80, protocol: tcp, flow_state: table, ring_window: 30m,\n"
	  "      reals: [{ address: 198.18.1.11 }] }\n",
	  { "service changed tcp 198.18.0.10:80 flow_state >table, ring_window >1800s" } },
	{ "flow state back to auto, window back to the tcp timeout",
	  "interface: eth0\nservices:\n"
	  "  - { vip: 198.18.0.10, port: 80, protocol: tcp, flow_state: ring, ring_window: 60,\n"
	  "      reals: [{ address: 198.18.1.11 }] }\n",
	  "interface: eth0\nservices:\n" SVC_A,
	  { "service changed tcp 198.18.0.10:80 flow_state ring>, ring_window 60s>" } },
	{ "flow_hash and a setting a reload changes: only flow_hash is not live",
	  "interface: eth0\nservices:\n" SVC_A,
	  "interface: eth0\nflow_hash: murmur3\nsyn_guard_rate: 100\nservices:\n" SVC_A,
	  { "global changed flow_hash mix64>murmur3 (not live), syn_guard_rate 0>100" } },
	{ "conn_table_size and a setting a reload changes: only conn_table_size is not live",
	  "interface: eth0\nservices:\n" SVC_A,
	  "interface: eth0\nconn_table_size: 65536\nfragments: drop\nservices:\n" SVC_A,
	  { "global changed fragments pass>drop, conn_table_size 262144>65536 (not live)" } },
	{ "the same service over another protocol is another service",
	  "interface: eth0\nservices:\n  - { vip: 198.18.0.11, port: 53, protocol: udp }\n",
	  "interface: eth0\nservices:\n  - { vip: 198.18.0.11, port: 53, protocol: tcp }\n",
	  { "service removed udp 198.18.0.11:53 vip \"198.18.0.11\">, port 53>, protocol udp>, scheduler maglev>, "
	    "forward dr>, ring_size 65537>, echo false>",
	    "service added tcp 198.18.0.11:53 vip >\"198.18.0.11\", port >53, protocol >tcp, scheduler >maglev, "
	    "forward >dr, ring_size >65537, echo >false" } },
};

Test(diff, rows)
{
	size_t i, j;

	for (i = 0; i < sizeof(diff_rows) / sizeof(diff_rows[0]); i++) {
		const struct diff_row *t = &diff_rows[i];
		struct xlvs_spec from, to;
		char line[1024];
		json_t *d, *c;

		parse_ok(t->name, t->from, &from);
		parse_ok(t->name, t->to, &to);
		d = xlvsd_spec_diff(&from, &to);
		cr_assert_not_null(d, "%s", t->name);
		for (j = 0; t->changes[j]; j++)
			;
		cr_expect_eq(json_array_size(d), j, "%s: %zu changes, want %zu", t->name, json_array_size(d),
			     j);
		json_array_foreach (d, j, c) {
			change_line(c, line, sizeof(line));
			cr_expect_str_eq(line, t->changes[j] ? t->changes[j] : "(none)", "%s: change %zu",
					 t->name, j);
			if (!t->changes[j])
				break;
		}
		json_decref(d);
		xlvs_spec_free(&from);
		xlvs_spec_free(&to);
	}
}

/* ---- save and diff in a daemon around the director's maps (root) ----------- */

/*
 * As tests/unit/test_reload.c: xlvsd put together by hand around the loaded
 * (not pinned, not attached) object's maps and a health manager whose loop
 * never runs, so no check result moves the state under the test.
 */
static struct xlvs_lb_bpf *skel;
static struct xlvsd d;
static struct xlvsd_opts opts = { .config = "/etc/xlvs/xlvs.yaml", .pin_dir = XLVS_PIN_DIR };

static void setup(void)
{
	skel = unit_daemon_new(&d);
	d.opts = &opts;
}

static void teardown(void)
{
	unit_daemon_free(&d, skel);
}

/* Apply s as xlvsd does, minus the interfaces (nothing is attached here); d.spec keeps them. */
static int apply_detached(struct xlvs_spec *s, struct xlvs_apply_stats *st, char *msg, size_t size)
{
	struct xlvs_global_spec g = s->global;
	int err;

	s->global.nr_interfaces = 0;
	err = xlvsd_apply(&d, s, st, msg, size);
	if (!err)
		d.spec.global = g;
	return err;
}

static void expect_nothing_written(const struct xlvs_apply_stats *st, const char *when)
{
	cr_expect(!st->services_added && !st->services_updated && !st->services_removed &&
			  !st->reals_written && !st->reals_removed && !st->ring_slots_written &&
			  !st->vips_written && !st->vips_removed,
		  "%s: written: services +%u ~%u -%u, reals %u -%u, ring slots %u, vips %u -%u", when,
		  st->services_added, st->services_updated, st->services_removed, st->reals_written,
		  st->reals_removed, st->ring_slots_written, st->vips_written, st->vips_removed);
}

/* The running state with `interface: lo` (it exists wherever the test runs). */
static const char lo_yaml[] =
	"interface: lo\n"
	"tunnel: { source4: 198.18.0.1 }\n"
	"services:\n"
	"  - vip: 198.18.0.10\n"
	"    port: 80\n"
	"    protocol: tcp\n"
	"    ring_size: 251\n"
	"    check: { type: exec, command: \"true\" }\n"
	"    reals:\n"
	"      - { address: 198.18.1.11 }\n"
	"      - { address: 198.18.1.12, weight: 3, forward: tun }\n"
	"  - { vip: \"2001:db8::53\", port: 53, protocol: udp, reals: [{ address: \"2001:db8:1::1\" }] }\n";

Test(verbs, save_is_a_file_that_loads_into_the_same_maps, .init = setup, .fini = teardown, .timeout = 60)
{
	struct xlvs_spec want, back;
	struct xlvs_apply_stats st;
	json_t *reply;
	char msg[1024];

	parse_ok("lo.yaml", lo_yaml, &want);
	cr_assert_eq(apply_detached(&want, &st, msg, sizeof(msg)), 0, "%s", msg);
	reply = xlvsd_cmd_save(&d, NULL);
	cr_assert(json_is_true(json_object_get(reply, "ok")));
	parse_ok("saved", json_string_value(json_object_get(reply, "config")), &back);
	expect_spec_eq(&d.spec, &back, "saved");
	cr_assert_eq(apply_detached(&back, &st, msg, sizeof(msg)), 0, "%s", msg);
	expect_nothing_written(&st, "loading the saved file");
	xlvs_spec_free(&back);
	json_decref(reply);
}

/* save writes the flow hash the state runs with, not the one a later file asked for. */
Test(verbs, save_gives_the_states_flow_hash, .init = setup, .fini = teardown, .timeout = 60)
{
	char yaml[sizeof(lo_yaml) + 32] = "flow_hash: murmur3\n";
	struct xlvs_spec first, second;
	struct xlvs_apply_stats st;
	json_t *reply;
	char msg[1024];

	strcat(yaml, lo_yaml);
	parse_ok("lo.yaml", lo_yaml, &first);
	cr_assert_eq(apply_detached(&first, &st, msg, sizeof(msg)), 0, "%s", msg);
	parse_ok("murmur3.yaml", yaml, &second);
	cr_assert_eq(second.global.flow_hash, XLVS_FLOW_HASH_MURMUR3);
	cr_assert_eq(apply_detached(&second, &st, msg, sizeof(msg)), 0, "%s", msg);
	reply = xlvsd_cmd_save(&d, NULL);
	cr_assert(json_is_true(json_object_get(reply, "ok")));
	cr_expect_not_null(strstr(json_string_value(json_object_get(reply, "config")),
				  "\nflow_hash: mix64\n"),
			   "%s", json_string_value(json_object_get(reply, "config")));
	json_decref(reply);
}

/* A file to diff against; its absolute path in path. */
static void write_file(char *path, const char *text)
{
	FILE *f;
	int fd;

	strcpy(path, "/tmp/xlvs-verbs-test.XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static json_t *diff_of(const char *path)
{
	json_t *req = json_pack("{s:s, s:s}", "cmd", "diff", "file", path), *reply;

	reply = xlvsd_cmd_diff(&d, req);
	json_decref(req);
	cr_assert_not_null(reply);
	return reply;
}

Test(verbs, diff_changes_nothing_and_agrees_with_the_reload, .init = setup, .fini = teardown, .timeout = 60)
{
	char path[64], msg[1024], *big, line[512];
	unsigned int n0, up0, down0, n1, up1, down1;
	struct xlvs_spec want, again;
	struct xlvs_apply_stats st;
	json_t *reply, *changes;
	size_t i, len;

	parse_ok("lo.yaml", lo_yaml, &want);
	cr_assert_eq(apply_detached(&want, &st, msg, sizeof(msg)), 0, "%s", msg);
	xlvsd_hc_counts(d.hc, &n0, &up0, &down0);

	/* The same file: no change. */
	write_file(path, lo_yaml);
	reply = diff_of(path);
	cr_expect(json_is_true(json_object_get(reply, "ok")));
	cr_expect_eq(json_array_size(json_object_get(reply, "changes")), 0);
	cr_expect_null(json_object_get(reply, "refused"));
	json_decref(reply);
	unlink(path);

	/* A weight and a new real: two changes, none written. */
	write_file(
		path,
		"interface: lo\n"
		"tunnel: { source4: 198.18.0.1 }\n"
		"services:\n"
		"  - vip: 198.18.0.10\n"
		"    port: 80\n"
		"    protocol: tcp\n"
		"    ring_size: 251\n"
		"    check: { type: exec, command: \"true\" }\n"
		"    reals:\n"
		"      - { address: 198.18.1.11, weight: 0 }\n"
		"      - { address: 198.18.1.12, weight: 3, forward: tun }\n"
		"      - { address: 198.18.1.13 }\n"
		"  - { vip: \"2001:db8::53\", port: 53, protocol: udp, reals: [{ address: \"2001:db8:1::1\" }] }\n");
	reply = diff_of(path);
	changes = json_object_get(reply, "changes");
	cr_assert_eq(json_array_size(changes), 2, "%s", json_dumps(reply, 0));
	change_line(json_array_get(changes, 0), line, sizeof(line));
	cr_expect_str_eq(line, "real changed tcp 198.18.0.10:80 198.18.1.11 weight 1>0");
	change_line(json_array_get(changes, 1), line, sizeof(line));
	cr_expect_str_eq(line,
			 "real added tcp 198.18.0.10:80 198.18.1.13 address >\"198.18.1.13\", weight >1, "
			 "forward >dr");
	cr_expect_null(json_object_get(reply, "refused"));
	json_decref(reply);
	xlvsd_hc_counts(d.hc, &n1, &up1, &down1);
	cr_expect(n1 == n0 && up1 == up0 && down1 == down0, "health checks changed by a diff");
	/* nothing was written: the running state applied again writes nothing */
	cr_assert_eq(xlvsd_spec_copy(&again, &d.spec), 0);
	cr_assert_eq(apply_detached(&again, &st, msg, sizeof(msg)), 0, "%s", msg);
	expect_nothing_written(&st, "after the diff");
	/* and the reload the diff described is taken */
	cr_assert_eq(xlvsd_load_config(path, &want, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(apply_detached(&want, &st, msg, sizeof(msg)), 0, "%s", msg);
	cr_expect_eq(st.reals_written, 2);
	unlink(path);

	/* More ring slots than xlvs_ring has: the diff says refused, and the reload is refused. */
	len = strlen(lo_yaml) + 200 * (d.maps.ring_slots / 65537 + 2);
	big = malloc(len);
	cr_assert_not_null(big);
	strcpy(big, lo_yaml);
	for (i = 0; i <= d.maps.ring_slots / 65537; i++)
		snprintf(
			big + strlen(big), len - strlen(big),
			"  - { vip: 198.18.0.%zu, port: 80, protocol: tcp, reals: [{ address: 198.18.1.20 }] }\n",
			20 + i);
	write_file(path, big);
	free(big);
	reply = diff_of(path);
	cr_expect(json_is_true(json_object_get(reply, "ok")));
	cr_expect_not_null(strstr(json_string_value(json_object_get(reply, "refused")) ?: "", "ring"), "%s",
			   json_dumps(reply, 0));
	json_decref(reply);
	cr_assert_eq(xlvsd_load_config(path, &want, msg, sizeof(msg)), 0, "%s", msg);
	cr_expect_eq(apply_detached(&want, &st, msg, sizeof(msg)), -ENOSPC, "%s", msg);
	xlvs_spec_free(&want);
	unlink(path);

	/* A file that does not parse: its error, with the position. */
	write_file(
		path,
		"interface: lo\nservices:\n  - { vip: 198.18.0.10, port: 80, protocol: tcp, lb_algo: rr }\n");
	reply = diff_of(path);
	cr_expect(json_is_false(json_object_get(reply, "ok")));
	cr_expect_not_null(strstr(json_string_value(json_object_get(reply, "error")) ?: "", ":3:"), "%s",
			   json_dumps(reply, 0));
	json_decref(reply);
	unlink(path);
}

/*
 * diff's flow_hash is the pinned state's (as save and status give it), not the last applied
 * file's: the state keeps the hash it was made with, and a change of it is not live.
 */
struct hash_diff_row {
	const char *name;
	enum xlvs_flow_hash made, applied, file; /* the state's, the last reload's, the diffed file's */
	const char *change;			 /* change_line(), NULL: no change */
};

static const struct hash_diff_row hash_diff_rows[] = {
	{ "murmur3 state, a file asking mix64", XLVS_FLOW_HASH_MURMUR3, XLVS_FLOW_HASH_MURMUR3,
	  XLVS_FLOW_HASH_MIX64, "global changed flow_hash murmur3>mix64 (not live)" },
	{ "mix64 state, a file asking murmur3", XLVS_FLOW_HASH_MIX64, XLVS_FLOW_HASH_MIX64,
	  XLVS_FLOW_HASH_MURMUR3, "global changed flow_hash mix64>murmur3 (not live)" },
	{ "mix64 state, a file asking mix64", XLVS_FLOW_HASH_MIX64, XLVS_FLOW_HASH_MIX64,
	  XLVS_FLOW_HASH_MIX64, NULL },
	{ "murmur3 state, a file asking murmur3", XLVS_FLOW_HASH_MURMUR3, XLVS_FLOW_HASH_MURMUR3,
	  XLVS_FLOW_HASH_MURMUR3, NULL },
	{ "murmur3 state after a reload asking mix64: mix64 still differs", XLVS_FLOW_HASH_MURMUR3,
	  XLVS_FLOW_HASH_MIX64, XLVS_FLOW_HASH_MIX64, "global changed flow_hash murmur3>mix64 (not live)" },
	{ "mix64 state after a reload asking murmur3: mix64 is what runs", XLVS_FLOW_HASH_MIX64,
	  XLVS_FLOW_HASH_MURMUR3, XLVS_FLOW_HASH_MIX64, NULL },
};

/* lo_yaml with `flow_hash: h` in front. */
static void lo_hash_yaml(char *yaml, size_t size, enum xlvs_flow_hash h)
{
	snprintf(yaml, size, "flow_hash: %s\n%s", xlvs_flow_hash_names[h], lo_yaml);
}

Test(verbs, diff_gives_the_states_flow_hash, .timeout = 120)
{
	char yaml[sizeof(lo_yaml) + 32], path[64], msg[1024], line[512];
	struct xlvs_apply_stats st;
	struct xlvs_spec s;
	json_t *reply, *changes;
	size_t i;

	for (i = 0; i < sizeof(hash_diff_rows) / sizeof(hash_diff_rows[0]); i++) {
		const struct hash_diff_row *t = &hash_diff_rows[i];

		setup();
		lo_hash_yaml(yaml, sizeof(yaml), t->made);
		parse_ok(t->name, yaml, &s);
		cr_assert_eq(apply_detached(&s, &st, msg, sizeof(msg)), 0, "%s: %s", t->name, msg);
		lo_hash_yaml(yaml, sizeof(yaml), t->applied);
		parse_ok(t->name, yaml, &s);
		cr_assert_eq(apply_detached(&s, &st, msg, sizeof(msg)), 0, "%s: %s", t->name, msg);
		cr_assert_eq(d.spec.global.flow_hash, t->applied, "%s", t->name);

		lo_hash_yaml(yaml, sizeof(yaml), t->file);
		write_file(path, yaml);
		reply = diff_of(path);
		unlink(path);
		changes = json_object_get(reply, "changes");
		cr_expect_null(json_object_get(reply, "refused"), "%s: a reload of it is taken", t->name);
		cr_expect_eq(json_array_size(changes), t->change ? 1 : 0, "%s: %s", t->name,
			     json_dumps(reply, 0));
		if (t->change && json_array_size(changes) == 1) {
			change_line(json_array_get(changes, 0), line, sizeof(line));
			cr_expect_str_eq(line, t->change, "%s", t->name);
		}
		json_decref(reply);
		teardown();
	}
}

/*
 * diff's conn_table_size is the pinned table's (as save gives it), not the last applied file's:
 * a reload does not resize it, and a change of it is not live. A file asking for a size the
 * kernel makes the pinned table of asks for what is pinned.
 *
 * The kernel makes a per-CPU LRU of a multiple of the possible CPUs (rounded up). The table here
 * is made for CONNS entries, a multiple of every possible-CPU count from 1 to 10 and of 12, 14,
 * 15, 16, 18, 20, 21, 24, 28, 30, 32, 36, 40, 48, 56, 60, 64, 72, 80, 96, 112, 120, 128, 144,
 * 160, 192, 224, 240 and 256 among others, so on those machines the table has CONNS entries and
 * every row means the same; on a count it is no multiple of (11, 13, 17, ...) conns_setup() fails
 * and says so. A file asking for CONNS - 1 makes CONNS entries on 2 possible CPUs or more, on one
 * CONNS - 1: that row fails on one CPU, saying it needs two. (Fewer entries than the default
 * 262144: cheaper than the other tests' tables.)
 */
#define CONNS 80640 /* 2^8 * 3^2 * 5 * 7 */

struct conns_diff_row {
	const char *name;
	uint32_t applied, file; /* the last reload's conn_table_size, the diffed file's (0: no key) */
	const char *change;	/* change_line(), NULL: no change */
	bool rounded;		/* file is not CONNS, yet makes CONNS entries: needs 2 possible CPUs */
};

static const struct conns_diff_row conns_diff_rows[] = {
	{ "a file asking for the pinned size", 80640, 80640, NULL, false },
	{ "a file asking for twice as many", 80640, 161280,
	  "global changed conn_table_size 80640>161280 (not live)", false },
	{ "a file without the key asks for the default", 80640, 0,
	  "global changed conn_table_size 80640>262144 (not live)", false },
	{ "a file asking for what the kernel rounds to the pinned size", 80640, 80639, NULL, true },
	{ "after a reload asking for 161280: 161280 still differs", 161280, 161280,
	  "global changed conn_table_size 80640>161280 (not live)", false },
	{ "after a reload asking for 161280: 80640 is what is pinned", 161280, 80640, NULL, false },
	{ "after a reload without the key: the default still differs", 0, 0,
	  "global changed conn_table_size 80640>262144 (not live)", false },
};

/* lo_yaml with `conn_table_size: n` in front (0: without). */
static void lo_conns_yaml(char *yaml, size_t size, uint32_t n)
{
	if (n)
		snprintf(yaml, size, "conn_table_size: %u\n%s", n, lo_yaml);
	else
		snprintf(yaml, size, "%s", lo_yaml);
}

/* libbpf's count of /sys/devices/system/cpu/possible, not the code under test's. */
static int possible_cpus(void)
{
	int n = libbpf_num_possible_cpus();

	cr_assert_gt(n, 0, "libbpf_num_possible_cpus: %d", n);
	return n;
}

static void conns_setup(void)
{
	skel = unit_daemon_new_conns(&d, CONNS);
	d.opts = &opts;
	cr_assert_eq(
		d.maps.conn_entries, CONNS,
		"the kernel made a table of %u entries for %u: this machine's %d possible CPUs "
		"(/sys/devices/system/cpu/possible) do not divide %u, and the rows are written for a table "
		"of exactly that many",
		d.maps.conn_entries, CONNS, possible_cpus(), CONNS);
}

Test(verbs, diff_gives_the_pinned_conn_table_size, .timeout = 120)
{
	char yaml[sizeof(lo_yaml) + 32], path[64], msg[1024], line[512];
	struct xlvs_apply_stats st;
	struct xlvs_spec s;
	json_t *reply, *changes;
	size_t i;

	for (i = 0; i < sizeof(conns_diff_rows) / sizeof(conns_diff_rows[0]); i++) {
		const struct conns_diff_row *t = &conns_diff_rows[i];

		if (t->rounded && possible_cpus() < 2) {
			cr_expect_fail(
				"%s: needs 2 possible CPUs or more (here 1: the kernel rounds no size, so "
				"%u makes a table of %u)",
				t->name, t->file, t->file);
			continue;
		}
		conns_setup();
		lo_conns_yaml(yaml, sizeof(yaml), t->applied);
		parse_ok(t->name, yaml, &s);
		cr_assert_eq(apply_detached(&s, &st, msg, sizeof(msg)), 0, "%s: %s", t->name, msg);
		cr_expect_eq(d.maps.conn_entries, CONNS, "%s: the reload resized nothing", t->name);

		lo_conns_yaml(yaml, sizeof(yaml), t->file);
		write_file(path, yaml);
		reply = diff_of(path);
		unlink(path);
		changes = json_object_get(reply, "changes");
		cr_expect_null(json_object_get(reply, "refused"), "%s: a reload of it is taken", t->name);
		cr_expect_eq(json_array_size(changes), t->change ? 1 : 0, "%s: %s", t->name,
			     json_dumps(reply, 0));
		if (t->change && json_array_size(changes) == 1) {
			change_line(json_array_get(changes, 0), line, sizeof(line));
			cr_expect_str_eq(line, t->change, "%s", t->name);
		}
		json_decref(reply);
		teardown();
	}
}

/* save's conn_table_size after a reload asking for asked: the pinned table's (CONNS entries). */
static void expect_saved_conns(uint32_t asked, const char *saved)
{
	char yaml[sizeof(lo_yaml) + 32], msg[1024];
	struct xlvs_apply_stats st;
	struct xlvs_spec s;
	json_t *reply;

	conns_setup();
	lo_conns_yaml(yaml, sizeof(yaml), asked);
	parse_ok("lo.yaml", yaml, &s);
	cr_assert_eq(apply_detached(&s, &st, msg, sizeof(msg)), 0, "%s", msg);
	reply = xlvsd_cmd_save(&d, NULL);
	cr_assert(json_is_true(json_object_get(reply, "ok")));
	cr_expect_not_null(strstr(json_string_value(json_object_get(reply, "config")), saved),
			   "asked %u, want %s in\n%s", asked, saved,
			   json_string_value(json_object_get(reply, "config")));
	json_decref(reply);
	teardown();
}

/*
 * save writes the size of the pinned table, as the file asked for it when that made the table
 * (CONNS - 1 makes CONNS entries on 2 possible CPUs or more: see conns_diff_rows).
 */
Test(verbs, save_gives_the_pinned_conn_table_size, .timeout = 60)
{
	expect_saved_conns(161280, "\nconn_table_size: 80640\n");
	expect_saved_conns(0, "\nconn_table_size: 80640\n");
	expect_saved_conns(80640, "\nconn_table_size: 80640\n");
	if (possible_cpus() < 2)
		cr_expect_fail("a file asking for 80639: needs 2 possible CPUs or more (here 1: the kernel "
			       "rounds no size)");
	else
		expect_saved_conns(80639, "\nconn_table_size: 80639\n");
}

/* ---- keepalived and ipvsadm words in the file ------------------------------ */

#define HEAD  "interface: eth0\nservices:\n  - vip: 198.18.0.10\n    port: 80\n    protocol: tcp\n"
#define REALS "    reals:\n      - address: 198.18.1.11\n"

struct foreign_row {
	const char *yaml;
	const char *err; /* the whole message, position included */
};

static const struct foreign_row foreign_rows[] = {
	{ HEAD "    lb_algo: wrr\n",
	  "6:5: unknown key 'lb_algo' in service (keepalived's lb_algo is 'scheduler')" },
	{ HEAD "    lb_kind: DR\n",
	  "6:5: unknown key 'lb_kind' in service (keepalived's lb_kind is 'forward': dr, tun, gue, nat, fullnat or local)" },
	{ HEAD "    delay_loop: 6\n",
	  "6:5: unknown key 'delay_loop' in service (keepalived's delay_loop is 'check: { interval: ... }')" },
	{ HEAD "    persistence_timeout: 300\n",
	  "6:5: unknown key 'persistence_timeout' in service (keepalived's persistence_timeout is "
	  "'persistence' (e.g. 300s))" },
	{ HEAD "    real_server: 198.18.1.11\n",
	  "6:5: unknown key 'real_server' in service (keepalived's real_server is an item of 'reals': address, "
	  "port, weight)" },
	{ HEAD "    weight: 2\n",
	  "6:5: unknown key 'weight' in service ('weight' is a key of each real: reals: [{ address: ..., "
	  "weight: N }])" },
	{ "interface: eth0\nvirtual_server: 198.18.0.10\n",
	  "2:1: unknown key 'virtual_server' at top level (keepalived's virtual_server is an item of 'services': "
	  "vip, port, protocol)" },
	{ HEAD REALS "        TCP_CHECK: { connect_timeout: 3 }\n",
	  "8:9: unknown key 'TCP_CHECK' in real (keepalived's TCP_CHECK is 'check: { type: tcp }')" },
	{ HEAD "    check: { type: tcp, connect_timeout: 3 }\n",
	  "6:25: unknown key 'connect_timeout' in check (keepalived's connect_timeout is 'check: { timeout: ... }')" },
	{ HEAD "    check: { type: http, nb_get_retry: 3 }\n",
	  "6:26: unknown key 'nb_get_retry' in check (keepalived's nb_get_retry is 'check: { fall: N }')" },
	{ HEAD REALS "        inhibit_on_failure: true\n",
	  "8:9: unknown key 'inhibit_on_failure' in real (keepalived's inhibit_on_failure is 'on_down: quiesce' "
	  "(the default))" },
	{ HEAD "    sorry_server: 198.18.1.99\n",
	  "6:5: unknown key 'sorry_server' in service (keepalived's sorry_server is 'sorry: { address: ..., port: "
	  "... }')" },
	/* the spelling hints are unchanged for words of no other tool */
	{ HEAD "    schedular: rr\n", "6:5: unknown key 'schedular' in service (did you mean 'scheduler'?)" },
};

Test(config_hints, keepalived_and_ipvsadm_words)
{
	size_t i;

	for (i = 0; i < sizeof(foreign_rows) / sizeof(foreign_rows[0]); i++) {
		const struct foreign_row *t = &foreign_rows[i];
		struct xlvs_conf_error err = { 0 };
		struct xlvs_spec s;
		char msg[512], want[512];

		cr_expect_eq(xlvs_conf_parse("f.yaml", t->yaml, strlen(t->yaml), &s, &err), -EINVAL,
			     "row %zu", i);
		xlvs_conf_error_format(&err, msg, sizeof(msg));
		snprintf(want, sizeof(want), "f.yaml:%s", t->err);
		cr_expect_str_eq(msg, want, "row %zu: got %s", i, msg);
	}
}
