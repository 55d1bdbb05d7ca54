// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the operator's verbs on the daemon side: `xlvs save` (the
 * running state written as a configuration file, read back into the same
 * state), `xlvs diff` / `xlvs reload --dry-run` (what a reload would change),
 * and the hints for keepalived/ipvsadm words in the configuration file.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/conf.h"
#include "config/save.h"
#include "daemon/verbs.h"
#include "spec.h"

/* ---- deep comparison of two states, field by field ---------------------- */

static void expect_addr_eq(const struct xlvs_addr *a, const struct xlvs_addr *b, const char *what)
{
	cr_expect(a->family == b->family && !memcmp(a->be, b->be, sizeof(a->be)), "%s differs", what);
}

static void expect_check_eq(const struct xlvs_check_spec *a, const struct xlvs_check_spec *b, const char *what)
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

static void expect_health_eq(const struct xlvs_svc_health *a, const struct xlvs_svc_health *b, const char *what)
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
		cr_expect_eq(s->ring_size, t->ring_size, "%s ring_size", what);
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
	"services:\n"
	"  - vip: 198.18.0.10\n"
	"    port: 80\n"
	"    protocol: tcp\n"
	"    scheduler: maglev\n"
	"    forward: tun\n"
	"    ring_size: 251\n"
	"    echo: true\n"
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
	"    on_down: quiesce\n"
	"    reals: [{ address: 198.18.1.41, check: { type: tcp, port: 22 } }]\n"
	"  - vip: 198.18.0.21\n"
	"    port: 8080\n"
	"    protocol: tcp\n";

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
				   "tunnel:\n"
				   "  mtu: 1500\n"
				   "  gue_port: 6080\n"
				   "syn_guard_rate: 0\n"
				   "fragments: pass\n"
				   "ip_options: forward\n"
				   "conn_table_size: 262144\n"
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
