// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the configuration parser (loader/config/): a table of
 * invalid files, each with the exact "line:column: message" it must produce,
 * and valid files checked field by field against the desired state.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <glob.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/conf.h"
#include "config/specedit.h"

#define FILE_NAME "test.yaml"
#define EXAMPLE	  "docs/examples/xlvs.yaml"

/* Line 1. */
#define IF "interfaces: [eth0]\n"
/* Lines 1-5; a service's next key is on line 6, column 5. */
#define SVC IF "services:\n  - vip: 198.18.0.10\n    port: 80\n    protocol: tcp\n"
/* Lines 1-6; reals start on line 7 ("      - " puts a key at column 9). */
#define REALS SVC "    reals:\n"
#define TUN4  "tunnel: { source4: 198.18.0.1 }\n"
/* SVC with port 0: every port of the VIP. */
#define ANY IF "services:\n  - vip: 198.18.0.10\n    port: 0\n    protocol: tcp\n"

struct bad {
	const char *name;
	const char *yaml;
	const char *want; /* "line:column: message" */
};

static const struct bad bad_rows[] = {
	/* ---- the file as a whole ---- */
	{ "empty file", "", "1:1: empty configuration" },
	{ "comments only", "# nothing here\n\n", "1:1: empty configuration" },
	{ "top level sequence", "- eth0\n", "1:1: top level must be a mapping, got a sequence" },
	{ "top level scalar", "hello\n", "1:1: top level must be a mapping, got 'hello'" },
	{ "unclosed flow sequence", "interfaces: [eth0\nxdp_mode: auto\n",
	  "2:9: YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence at line 1)" },
	{ "bad indentation", IF "services:\n  - vip: 198.18.0.10\n   port: 80\n",
	  "4:4: YAML syntax error: did not find expected '-' indicator (while parsing a block collection at line 3)" },
	{ "tab indentation", IF "services:\n\t- vip: 198.18.0.10\n",
	  "3:1: YAML syntax error: found character that cannot start any token (while scanning for the next token at line 3)" },
	{ "invalid UTF-8", IF "xdp_mode: \"\xff\"\n",
	  "2:12: YAML syntax error: invalid leading UTF-8 octet" },
	{ "undefined alias", IF "xdp_mode: *mode\n", "2:11: YAML syntax error: found undefined alias" },
	{ "two documents", IF "---\n" IF, "2:1: more than one YAML document (the configuration is one)" },
	{ "NUL in a value", IF "xdp_mode: \"auto\\0x\"\n", "2:11: xdp_mode: value contains a NUL character" },

	/* ---- keys ---- */
	{ "duplicate top key", IF "xdp_mode: auto\nxdp_mode: native\n",
	  "3:1: duplicate key 'xdp_mode' (first at line 2)" },
	{ "unknown top key with hint", IF "servics: []\n",
	  "2:1: unknown key 'servics' at top level (did you mean 'services'?)" },
	{ "unknown top key", IF "persistence: 1\n", "2:1: unknown key 'persistence' at top level" },
	{ "non-scalar key", IF "? [a]\n: 1\n", "2:3: keys must be scalars, got a sequence" },
	{ "unknown service key with hint", SVC "    persistance: 300\n",
	  "6:5: unknown key 'persistance' in service (did you mean 'persistence'?)" },
	{ "keepalived word with its xlvs key", SVC "    persistence_timeout: 300\n",
	  "6:5: unknown key 'persistence_timeout' in service (keepalived's persistence_timeout is "
	  "'persistence' (e.g. 300s))" },
	{ "duplicate service key", SVC "    port: 81\n", "6:5: duplicate key 'port' (first at line 4)" },
	{ "unknown real key with hint", REALS "      - { address: 198.18.1.11, wieght: 2 }\n",
	  "7:33: unknown key 'wieght' in real (did you mean 'weight'?)" },
	{ "unknown tunnel key with hint", IF "tunnel: { sorce4: 198.18.0.1 }\n",
	  "2:11: unknown key 'sorce4' in tunnel (did you mean 'source4'?)" },
	{ "duplicate tunnel key", TUN4 "tunnel: {}\n" IF, "2:1: duplicate key 'tunnel' (first at line 1)" },
	{ "unknown metrics key", IF "metrics: { port: 9105 }\n", "2:12: unknown key 'port' in metrics" },

	/* ---- interfaces ---- */
	{ "no interfaces", "services: []\n", "1:1: missing required key 'interfaces'" },
	{ "empty interface list", "interfaces: []\n",
	  "1:13: interfaces: at least one interface is required" },
	{ "interfaces as scalar", "interfaces: eth0\n", "1:13: interfaces: sequence expected, got 'eth0'" },
	{ "interface and interfaces", "interface: eth0\ninterfaces: [eth1]\n",
	  "2:13: interfaces: use either 'interface' or 'interfaces', not both" },
	{ "interface name too long", "interface: abcdefghijklmnop\n",
	  "1:12: interface: interface name 'abcdefghijklmnop' is longer than 15 characters" },
	{ "interface name with slash", "interfaces: [eth0, eth/1]\n",
	  "1:20: interfaces: invalid interface name 'eth/1' (no '/', ':' or spaces)" },
	{ "interface name with space", "interfaces: [\"eth 1\"]\n",
	  "1:14: interfaces: invalid interface name 'eth 1' (no '/', ':' or spaces)" },
	{ "interface name empty", "interfaces: [\"\"]\n", "1:14: interfaces: interface name is empty" },
	{ "interface name missing", "interface:\n", "1:11: interface: missing value" },
	{ "duplicate interface", "interfaces: [eth0, eth1, eth0]\n",
	  "1:26: interfaces: duplicate interface 'eth0'" },
	{ "too many interfaces", "interfaces: [e0, e1, e2, e3, e4, e5, e6, e7, e8]\n",
	  "1:46: interfaces: too many interfaces (at most 8)" },
	{ "interface as mapping", "interfaces: [{ name: eth0 }]\n",
	  "1:14: interfaces: scalar expected, got a mapping" },

	/* ---- director-wide settings ---- */
	{ "xdp_mode unknown", IF "xdp_mode: skb\n",
	  "2:11: xdp_mode: unknown mode 'skb' (expected auto, native or generic)" },
	{ "tunnel not a mapping", IF "tunnel: 198.18.0.1\n",
	  "2:9: tunnel: mapping expected, got '198.18.0.1'" },
	{ "source4 is IPv6", IF "tunnel: { source4: \"2001:db8::1\" }\n",
	  "2:20: source4: '2001:db8::1' is not an IPv4 address" },
	{ "source6 is IPv4", IF "tunnel: { source6: 198.18.0.1 }\n",
	  "2:20: source6: '198.18.0.1' is not an IPv6 address" },
	{ "source4 unspecified", IF "tunnel: { source4: 0.0.0.0 }\n",
	  "2:20: source4: '0.0.0.0' is not a usable unicast address" },
	{ "mtu below 1280", IF "tunnel: { mtu: 1000 }\n", "2:16: mtu: 1000 out of range (0 or 1280..65535)" },
	{ "mtu above 65535", IF "tunnel: { mtu: 65536 }\n",
	  "2:16: mtu: 65536 out of range (0 or 1280..65535)" },
	{ "tunnel gue_port 0", IF "tunnel: { gue_port: 0 }\n", "2:21: gue_port: 0 out of range (1..65535)" },
	{ "gateway_mac short", IF "gateway_mac: \"02:00:00:00:00\"\n",
	  "2:14: gateway_mac: '02:00:00:00:00' is not a MAC address (expected xx:xx:xx:xx:xx:xx)" },
	{ "gateway_mac junk", IF "gateway_mac: 02:00:00:00:00:0g\n",
	  "2:14: gateway_mac: '02:00:00:00:00:0g' is not a MAC address (expected xx:xx:xx:xx:xx:xx)" },
	{ "gateway_mac multicast", IF "gateway_mac: \"01:00:5e:00:00:01\"\n",
	  "2:14: gateway_mac: 01:00:5e:00:00:01 is not a unicast MAC address" },
	{ "syn_guard_rate negative", IF "syn_guard_rate: -5\n",
	  "2:17: syn_guard_rate: -5 out of range (0..4294967295)" },
	{ "syn_guard_rate huge", IF "syn_guard_rate: 99999999999999999999999\n",
	  "2:17: syn_guard_rate: 99999999999999999999999 out of range (0..4294967295)" },
	{ "syn_guard_rate float", IF "syn_guard_rate: 1.5\n",
	  "2:17: syn_guard_rate: integer expected, got '1.5'" },
	{ "fragments unknown", IF "fragments: reassemble\n",
	  "2:12: fragments: unknown policy 'reassemble' (expected pass or drop)" },
	{ "ip_options unknown", IF "ip_options: strip\n",
	  "2:13: ip_options: unknown policy 'strip' (expected forward or drop)" },
	{ "conn_table_size too small", IF "conn_table_size: 100\n",
	  "2:18: conn_table_size: 100 out of range (1024..268435456)" },
	{ "metrics on", IF "metrics: on\n", "2:10: metrics: mapping or 'off' expected, got 'on'" },
	{ "metrics listen without port", IF "metrics: { listen: 127.0.0.1 }\n",
	  "2:20: listen: '127.0.0.1' is not ADDRESS:PORT (e.g. 127.0.0.1:9105 or [::1]:9105)" },
	{ "metrics listen IPv6 without brackets", IF "metrics: { listen: \"::1:9105\" }\n",
	  "2:20: listen: '::1:9105' is not ADDRESS:PORT (e.g. 127.0.0.1:9105 or [::1]:9105)" },
	{ "metrics listen port 0", IF "metrics: { listen: \"127.0.0.1:0\" }\n",
	  "2:20: listen: '127.0.0.1:0' is not ADDRESS:PORT (e.g. 127.0.0.1:9105 or [::1]:9105)" },
	{ "metrics listen host name", IF "metrics: { listen: \"localhost:9105\" }\n",
	  "2:20: listen: 'localhost:9105' is not ADDRESS:PORT (e.g. 127.0.0.1:9105 or [::1]:9105)" },
	{ "metrics without listen", IF "metrics: {}\n", "2:10: missing required key 'listen' in metrics" },

	/* ---- services ---- */
	{ "services as mapping", IF "services: { vip: 198.18.0.10 }\n",
	  "2:11: services: sequence expected, got a mapping" },
	{ "services empty value", IF "services:\n", "2:10: services: sequence expected, got an empty value" },
	{ "service as scalar", IF "services: [198.18.0.10]\n",
	  "2:12: services: each service must be a mapping, got '198.18.0.10'" },
	{ "service without vip", IF "services:\n  - port: 80\n    protocol: tcp\n",
	  "3:5: missing required key 'vip' in service" },
	{ "service without port", IF "services:\n  - vip: 198.18.0.10\n    protocol: tcp\n",
	  "3:5: missing required key 'port' in service" },
	{ "service without protocol", IF "services:\n  - vip: 198.18.0.10\n    port: 80\n",
	  "3:5: missing required key 'protocol' in service" },
	{ "vip bad IPv4", IF "services:\n  - vip: 198.18.0.300\n",
	  "3:10: vip: '198.18.0.300' is not an IPv4 or IPv6 address" },
	{ "vip bad IPv6", IF "services:\n  - vip: \"2001:db8:::1\"\n",
	  "3:10: vip: '2001:db8:::1' is not an IPv4 or IPv6 address" },
	{ "vip with prefix length", IF "services:\n  - vip: 198.18.0.10/32\n",
	  "3:10: vip: '198.18.0.10/32' is not an IPv4 or IPv6 address" },
	{ "vip multicast", IF "services:\n  - vip: 224.0.0.1\n",
	  "3:10: vip: '224.0.0.1' is not a usable unicast address" },
	{ "vip IPv6 loopback", IF "services:\n  - vip: \"::1\"\n",
	  "3:10: vip: '::1' is not a usable unicast address" },
	{ "vip empty", IF "services:\n  - vip:\n", "3:9: vip: missing value" },
	{ "vip as mapping", IF "services:\n  - vip: { a: 1 }\n",
	  "3:10: vip: scalar expected, got a mapping" },
	{ "port out of range", IF "services:\n  - port: 65536\n",
	  "3:11: port: 65536 out of range (0..65535)" },
	{ "port trailing junk", IF "services:\n  - port: 80x\n", "3:11: port: integer expected, got '80x'" },
	{ "port negative", IF "services:\n  - port: -1\n", "3:11: port: -1 out of range (0..65535)" },
	{ "port quoted", IF "services:\n  - port: \"80\"\n", "3:11: port: integer expected, got \"80\"" },
	{ "port hexadecimal", IF "services:\n  - port: 0x50\n", "3:11: port: integer expected, got '0x50'" },
	{ "port leading zero", IF "services:\n  - port: 080\n",
	  "3:11: port: 080 has a leading zero (YAML 1.1 would read it as octal)" },
	{ "port empty", IF "services:\n  - port:\n", "3:10: port: integer expected, got an empty value" },
	{ "protocol unknown", IF "services:\n  - protocol: sctp\n",
	  "3:15: protocol: unknown protocol 'sctp' (expected tcp or udp)" },
	{ "protocol upper case", IF "services:\n  - protocol: TCP\n",
	  "3:15: protocol: unknown protocol 'TCP' (expected tcp or udp)" },
	{ "scheduler unknown", SVC "    scheduler: fastest\n",
	  "6:16: scheduler: unknown scheduler 'fastest' (expected maglev, rr, wrr, lc, wlc, sed, nq, sh, dh, lblc, lblcr or mh)" },
	{ "scheduler_expire on a scheduler without assignments", SVC "    scheduler_expire: 1h\n",
	  "6:23: scheduler_expire: only lblc and lblcr keep assignments, not maglev" },
	{ "scheduler_expire in milliseconds", SVC "    scheduler: lblc\n    scheduler_expire: 1500ms\n",
	  "7:23: scheduler_expire: whole seconds expected (e.g. 90s, 24h), got 1500ms" },
	{ "scheduler_expire past a week", SVC "    scheduler: lblcr\n    scheduler_expire: 169h\n",
	  "7:23: scheduler_expire: 169h out of range (1000ms..604800s)" },
	{ "forward unknown", SVC "    forward: masq\n",
	  "6:14: forward: unknown method 'masq' (expected dr, tun, ipip, gue, nat, fullnat or local)" },
	{ "forward upper case", SVC "    forward: DR\n",
	  "6:14: forward: unknown method 'DR' (expected dr, tun, ipip, gue, nat, fullnat or local)" },
	{ "fullnat real without a pool", REALS "      - { address: 198.18.1.11, forward: fullnat }\n",
	  "7:20: service tcp 198.18.0.10:80 has IPv4 fullnat reals but fullnat.pool has no IPv4 address" },
	{ "fullnat real without an IPv6 pool address",
	  "fullnat: { pool: [198.18.0.201] }\n" IF "services:\n  - vip: \"2001:db8::10\"\n    port: 80\n"
	  "    protocol: tcp\n    forward: fullnat\n    reals:\n      - address: \"2001:db8:1::11\"\n",
	  "9:18: service tcp [2001:db8::10]:80 has IPv6 fullnat reals but fullnat.pool has no IPv6 address" },
	{ "nat real of the other family", REALS "      - { address: \"2001:db8:1::11\", forward: nat }\n",
	  "7:20: address: 2001:db8:1::11 is IPv6 but the VIP 198.18.0.10 is IPv4 (nat needs the same family)" },
	{ "fullnat not a mapping", IF "fullnat: 198.18.0.201\n",
	  "2:10: fullnat: mapping expected, got '198.18.0.201'" },
	{ "fullnat without pool", IF "fullnat: { port_min: 2000 }\n",
	  "2:10: missing required key 'pool' in fullnat" },
	{ "fullnat pool empty", IF "fullnat: { pool: [] }\n",
	  "2:18: pool: at least one address is required" },
	{ "fullnat pool not an address", IF "fullnat: { pool: [198.18.0.300] }\n",
	  "2:19: pool: '198.18.0.300' is not an IPv4 or IPv6 address" },
	{ "fullnat pool multicast", IF "fullnat: { pool: [224.0.0.1] }\n",
	  "2:19: pool: '224.0.0.1' is not a usable unicast address" },
	{ "fullnat pool duplicate", IF "fullnat: { pool: [198.18.0.201, \"2001:db8::1\", 198.18.0.201] }\n",
	  "2:48: pool: duplicate address 198.18.0.201" },
	{ "fullnat port_min 0", IF "fullnat: { pool: [198.18.0.201], port_min: 0 }\n",
	  "2:44: port_min: 0 out of range (1..65535)" },
	{ "fullnat ports reversed", IF "fullnat: { pool: [198.18.0.201], port_min: 5000, port_max: 4000 }\n",
	  "2:60: port_max: 4000 is below port_min 5000" },
	{ "fullnat unknown key", IF "fullnat: { pool: [198.18.0.201], ports: 1024-65535 }\n",
	  "2:34: unknown key 'ports' in fullnat" },
	{ "ring_size not prime", SVC "    ring_size: 65536\n", "6:16: ring_size: 65536 is not a prime" },
	{ "ring_size too small", SVC "    ring_size: 2\n", "6:16: ring_size: 2 out of range (3..16777213)" },
	{ "ring_size too large", SVC "    ring_size: 16777259\n",
	  "6:16: ring_size: 16777259 out of range (3..16777213)" },
	{ "ring_size below reals",
	  SVC "    ring_size: 3\n    reals:\n      - address: 198.18.1.1\n"
	      "      - address: 198.18.1.2\n      - address: 198.18.1.3\n      - address: 198.18.1.4\n",
	  "6:16: ring_size: 3 is smaller than the number of reals (4)" },
	{ "echo yes", SVC "    echo: yes\n", "6:11: echo: boolean expected (true or false), got 'yes'" },
	{ "echo quoted", SVC "    echo: \"true\"\n",
	  "6:11: echo: boolean expected (true or false), got \"true\"" },
	{ "service gue_port without gue reals",
	  SVC "    gue_port: 7000\n    reals: [{ address: 198.18.1.1 }]\n",
	  "6:15: gue_port: set but no real of service tcp 198.18.0.10:80 uses gue" },
	{ "service gue_port 70000", SVC "    forward: gue\n    gue_port: 70000\n",
	  "7:15: gue_port: 70000 out of range (1..65535)" },
	{ "duplicate service",
	  SVC "  - { vip: 198.18.0.11, port: 80, protocol: tcp }\n"
	      "  - { vip: 198.18.0.10, port: 80, protocol: tcp }\n",
	  "7:5: duplicate service tcp 198.18.0.10:80 (first at line 3)" },
	{ "duplicate IPv6 service spelled differently",
	  IF "services:\n  - { vip: \"2001:db8::10\", port: 53, protocol: udp }\n"
	     "  - { vip: \"2001:0db8:0::0010\", port: 53, protocol: udp }\n",
	  "4:5: duplicate service udp [2001:db8::10]:53 (first at line 3)" },

	/* ---- reals ---- */
	{ "reals as mapping", REALS "      address: 198.18.1.11\n",
	  "7:7: reals: sequence expected, got a mapping" },
	{ "real as scalar", REALS "      - 198.18.1.11\n",
	  "7:9: reals: each real must be a mapping, got '198.18.1.11'" },
	{ "real without address", REALS "      - { weight: 1 }\n",
	  "7:9: missing required key 'address' in real" },
	{ "real bad address", REALS "      - address: 198.18.1\n",
	  "7:18: address: '198.18.1' is not an IPv4 or IPv6 address" },
	{ "real weight too large", REALS "      - { address: 198.18.1.11, weight: 65536 }\n",
	  "7:41: weight: 65536 out of range (0..65535)" },
	{ "real weight negative", REALS "      - { address: 198.18.1.11, weight: -1 }\n",
	  "7:41: weight: -1 out of range (0..65535)" },
	{ "real port 0 of a port-80 service", REALS "      - { address: 198.18.1.11, port: 0 }\n",
	  "7:39: port: 0 differs from the service port 80 (dr, tun, gue and local keep the destination port; nat and fullnat may change it)" },
	{ "real port 80 of a port-0 service", ANY "    reals: [{ address: 198.18.1.11, port: 80 }]\n",
	  "6:43: port: 80 differs from the service port 0 (dr, tun, gue and local keep the destination port; nat and fullnat may change it)" },
	{ "real port differs", REALS "      - { address: 198.18.1.11, port: 8080 }\n",
	  "7:39: port: 8080 differs from the service port 80 (dr, tun, gue and local keep the destination port; nat and fullnat may change it)" },
	{ "real gue_port with dr", REALS "      - { address: 198.18.1.11, gue_port: 7000 }\n",
	  "7:43: gue_port: set but this real forwards with dr" },
	{ "dr real of the other family", REALS "      - { address: \"2001:db8:1::11\" }\n",
	  "7:20: address: 2001:db8:1::11 is IPv6 but the VIP 198.18.0.10 is IPv4 (dr needs the same family; use tun or gue)" },
	{ "duplicate real",
	  REALS "      - address: 198.18.1.11\n      - address: 198.18.1.12\n"
		"      - address: 198.18.1.11\n        weight: 3\n",
	  "9:18: duplicate real 198.18.1.11 (first at line 7)" },
	{ "duplicate IPv6 real spelled differently",
	  IF "services:\n  - vip: \"2001:db8::10\"\n    port: 80\n    protocol: tcp\n    reals:\n"
	     "      - address: \"2001:db8:1::11\"\n      - address: \"2001:db8:1:0:0:0:0:11\"\n",
	  "8:18: duplicate real 2001:db8:1::11 (first at line 7)" },
	{ "tunnel source4 missing", REALS "      - { address: 198.18.1.11, forward: tun }\n",
	  "7:20: service tcp 198.18.0.10:80 has IPv4 tunnel reals but tunnel.source4 is not set" },
	{ "tunnel source6 missing",
	  TUN4 REALS "      - { address: 198.18.1.11, forward: tun }\n"
		     "      - { address: \"2001:db8:1::12\", forward: gue }\n",
	  "9:20: service tcp 198.18.0.10:80 has IPv6 tunnel reals but tunnel.source6 is not set" },
	{ "mtu too small for IPv6 over GUE",
	  "tunnel: { source6: \"2001:db8::1\", mtu: 1300 }\n" IF
	  "services:\n  - vip: \"2001:db8::10\"\n    port: 443\n    protocol: tcp\n    forward: gue\n"
	  "    reals: [{ address: \"2001:db8:1::11\" }]\n",
	  "1:40: mtu: 1300 is too small for IPv6 service tcp [2001:db8::10]:443 (at least 1328)" },

	/* ---- health checks ---- */
	{ "check type unknown", SVC "    check: { type: tcpp }\n",
	  "6:20: type: unknown check type 'tcpp' (expected tcp, http, https, udp, dns, icmp or exec)" },
	{ "check type missing", SVC "    check: { interval: 2s }\n",
	  "6:12: missing required key 'type' in check (tcp, http, https, udp, dns, icmp or exec)" },
	{ "check not a mapping", SVC "    check: tcp\n",
	  "6:12: check: mapping or 'off' expected, got 'tcp'" },
	{ "check unknown key with hint", SVC "    check: { type: tcp, intervall: 2s }\n",
	  "6:25: unknown key 'intervall' in check (did you mean 'interval'?)" },
	{ "check bad duration", SVC "    check: { type: tcp, interval: 2x }\n",
	  "6:35: interval: '2x' is not a duration (e.g. 2s, 500ms, 1m)" },
	{ "check interval too short", SVC "    check: { type: tcp, interval: 50ms, timeout: 10ms }\n",
	  "6:35: interval: 50ms out of range (100ms..3600s)" },
	{ "check duration quoted", SVC "    check: { type: tcp, timeout: \"1s\" }\n",
	  "6:34: timeout: duration expected (e.g. 2s, 500ms), got \"1s\"" },
	{ "check timeout longer than interval", SVC "    check: { type: tcp, interval: 1s, timeout: 2s }\n",
	  "6:48: timeout: 2000ms is longer than the interval (1000ms)" },
	{ "check rise zero", SVC "    check: { type: tcp, rise: 0 }\n",
	  "6:31: rise: 0 out of range (1..1000)" },
	{ "check fall too large", SVC "    check: { type: tcp, fall: 1001 }\n",
	  "6:31: fall: 1001 out of range (1..1000)" },
	{ "check initial unknown", SVC "    check: { type: tcp, initial: maybe }\n",
	  "6:34: initial: unknown state 'maybe' (expected down or up)" },
	{ "check address bad", SVC "    check: { type: tcp, address: 198.18.1 }\n",
	  "6:34: address: '198.18.1' is not an IPv4 or IPv6 address" },
	{ "check port for icmp", SVC "    check: { type: icmp, port: 80 }\n",
	  "6:26: port: not used by icmp checks (only tcp, http, https, udp or dns)" },
	{ "check path for tcp", SVC "    check: { type: tcp, path: /healthz }\n",
	  "6:25: path: not used by tcp checks (only http or https)" },
	{ "check path without slash", SVC "    check: { type: http, path: healthz }\n",
	  "6:32: path: 'healthz' must start with '/' and contain no spaces" },
	{ "check host with user info", SVC "    check: { type: http, host: \"x@198.18.0.2\" }\n",
	  "6:32: host: 'x@198.18.0.2' is not a host name with an optional port (e.g. www.example.org or www.example.org:8080)" },
	{ "check host with a path", SVC "    check: { type: http, host: www.example.org/x }\n",
	  "6:32: host: 'www.example.org/x' is not a host name with an optional port (e.g. www.example.org or www.example.org:8080)" },
	{ "check host empty label", SVC "    check: { type: https, host: \"www..example.org\" }\n",
	  "6:33: host: 'www..example.org' is not a host name with an optional port (e.g. www.example.org or www.example.org:8080)" },
	{ "check host label with a hyphen first", SVC "    check: { type: http, host: -www.example.org }\n",
	  "6:32: host: '-www.example.org' is not a host name with an optional port (e.g. www.example.org or www.example.org:8080)" },
	/* a port-0 service's reals have port 0: a check that connects somewhere needs its own port */
	{ "tcp check of a port-0 service without port", ANY "    check: { type: tcp }\n",
	  "6:12: check: a tcp check of service tcp 198.18.0.10:0 (every port) needs a 'port': "
	  "it would probe port 0 and mark every real down" },
	{ "http check of a port-0 service without port", ANY "    check: { type: http, path: /x }\n",
	  "6:12: check: a http check of service tcp 198.18.0.10:0 (every port) needs a 'port': "
	  "it would probe port 0 and mark every real down" },
	{ "https check of a port-0 service without port", ANY "    check: { type: https }\n",
	  "6:12: check: a https check of service tcp 198.18.0.10:0 (every port) needs a 'port': "
	  "it would probe port 0 and mark every real down" },
	{ "udp check of a port-0 service without port",
	  IF "services:\n  - vip: 198.18.0.10\n    port: 0\n    protocol: udp\n    check: { type: udp }\n",
	  "6:12: check: a udp check of service udp 198.18.0.10:0 (every port) needs a 'port': "
	  "it would probe port 0 and mark every real down" },
	{ "a real's own tcp check of a port-0 service without port",
	  ANY "    reals:\n      - { address: 198.18.1.11, check: { type: tcp } }\n",
	  "7:40: check: a tcp check of service tcp 198.18.0.10:0 (every port) needs a 'port': "
	  "it would probe port 0 and mark every real down" },
	{ "check host port out of range", SVC "    check: { type: http, host: \"www.example.org:65536\" }\n",
	  "6:32: host: 'www.example.org:65536' is not a host name with an optional port (e.g. www.example.org or www.example.org:8080)" },
	{ "check host empty port", SVC "    check: { type: http, host: \"www.example.org:\" }\n",
	  "6:32: host: 'www.example.org:' is not a host name with an optional port (e.g. www.example.org or www.example.org:8080)" },
	{ "check host bare IPv6", SVC "    check: { type: http, host: \"2001:db8::1\" }\n",
	  "6:32: host: '2001:db8::1' is not a host name with an optional port (e.g. www.example.org or www.example.org:8080)" },
	{ "check host bad IPv6 literal", SVC "    check: { type: http, host: \"[2001:db8::g]:80\" }\n",
	  "6:32: host: '[2001:db8::g]:80' is not a host name with an optional port (e.g. www.example.org or www.example.org:8080)" },
	{ "check host with a query", SVC "    check: { type: http, host: \"a.example?x\" }\n",
	  "6:32: host: 'a.example?x' is not a host name with an optional port (e.g. www.example.org or www.example.org:8080)" },
	{ "check status code out of range", SVC "    check: { type: http, expect: 700 }\n",
	  "6:34: expect: 700 out of range (100..599, low-high)" },
	{ "check status range reversed", SVC "    check: { type: http, expect: [200, 399-300] }\n",
	  "6:40: expect: 399-300 out of range (100..599, low-high)" },
	{ "check status not a code", SVC "    check: { type: http, expect: ok }\n",
	  "6:34: expect: 'ok' is not a status code or range (e.g. 200, 200-399)" },
	{ "check tls_verify for http", SVC "    check: { type: http, tls_verify: true }\n",
	  "6:26: tls_verify: not used by http checks (only https)" },
	{ "check tls_verify not a boolean", SVC "    check: { type: https, tls_verify: yes }\n",
	  "6:39: tls_verify: boolean expected (true or false), got 'yes'" },
	{ "check payload for tcp", SVC "    check: { type: tcp, payload: ping }\n",
	  "6:25: payload: not used by tcp checks (only udp)" },
	{ "check dns without name", SVC "    check: { type: dns }\n",
	  "6:12: missing required key 'name' in dns check" },
	{ "check dns bad query type", SVC "    check: { type: dns, name: example.org, query_type: AXFR }\n",
	  "6:56: query_type: unknown record type 'AXFR' (A, AAAA, CNAME, MX, NS, PTR, SOA, SRV, TXT or ANY)" },
	{ "check dns bad name", SVC "    check: { type: dns, name: \"a..b\" }\n",
	  "6:31: name: 'a..b' is not a domain name" },
	{ "check exec without command", SVC "    check: { type: exec }\n",
	  "6:12: missing required key 'command' in exec check" },
	{ "check body too long",
	  SVC
	  "    check: { type: http, body: \""
	  "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789012345678901234567890123456789\" }\n",
	  "6:32: body: longer than 255 bytes" },
	{ "check digest for tcp",
	  SVC "    check: { type: tcp, digest: \"md5:d78ac63f04ad56b349e62135648044cc\" }\n",
	  "6:25: digest: not used by tcp checks (only http or https)" },
	{ "check digest unknown algorithm",
	  SVC "    check: { type: http, digest: \"sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709\" }\n",
	  "6:34: digest: unknown algorithm 'sha1' (md5 or sha256)" },
	{ "check digest without algorithm",
	  SVC "    check: { type: http, digest: d78ac63f04ad56b349e62135648044cc }\n",
	  "6:34: digest: 'd78ac63f04ad56b349e62135648044cc' is not ALGORITHM:HEX (md5:<32 hex digits> or sha256:<64 hex digits>)" },
	{ "check digest md5 too short",
	  SVC "    check: { type: http, digest: \"md5:d78ac63f04ad56b349e62135648044c\" }\n",
	  "6:34: digest: md5 takes 32 hex digits, got 31" },
	{ "check digest sha256 with an md5's length",
	  SVC "    check: { type: https, digest: \"sha256:d78ac63f04ad56b349e62135648044cc\" }\n",
	  "6:35: digest: sha256 takes 64 hex digits, got 32" },
	{ "check digest bad hex",
	  SVC "    check: { type: http, digest: \"md5:d78ac63f04ad56b349e62135648044cg\" }\n",
	  "6:34: digest: 'md5:d78ac63f04ad56b349e62135648044cg' is not hexadecimal (0-9, a-f)" },
	{ "check digest empty", SVC "    check: { type: http, digest: \"md5:\" }\n",
	  "6:34: digest: md5 takes 32 hex digits, got 0" },
	{ "check digest not a string", SVC "    check: { type: http, digest: [md5] }\n",
	  "6:34: digest: scalar expected, got a sequence" },
	{ "check digest with body",
	  SVC "    check: { type: http, body: ok, digest: \"md5:d78ac63f04ad56b349e62135648044cc\" }\n",
	  "6:36: digest: give body or digest, not both (the digest fixes the whole body)" },
	{ "real check digest for its udp type",
	  SVC
	  "    check: { type: http }\n    reals:\n"
	  "      - { address: 198.18.1.11, check: { type: udp, digest: \"md5:d78ac63f04ad56b349e62135648044cc\" } }\n",
	  "8:53: digest: not used by udp checks (only http or https)" },
	{ "real check override invalid",
	  SVC "    check: { type: tcp }\n    reals:\n"
	      "      - { address: 198.18.1.11, check: { fall: 0 } }\n",
	  "8:48: fall: 0 out of range (1..1000)" },
	{ "real check without a type anywhere",
	  REALS "      - { address: 198.18.1.11, check: { rise: 1 } }\n",
	  "7:40: missing required key 'type' in check (tcp, http, https, udp, dns, icmp or exec)" },
	{ "real check path for its tcp type",
	  SVC "    check: { type: http }\n    reals:\n"
	      "      - { address: 198.18.1.11, check: { type: tcp, path: / } }\n",
	  "8:53: path: not used by tcp checks (only http or https)" },
	{ "on_down unknown", SVC "    on_down: drop\n",
	  "6:14: on_down: unknown action 'drop' (expected quiesce or remove)" },
	{ "sorry is a real", REALS "      - address: 198.18.1.11\n    sorry: { address: 198.18.1.11 }\n",
	  "8:23: sorry: 198.18.1.11 is also a real of this service" },
	{ "sorry with a check", SVC "    sorry: { address: 198.18.1.99, check: { type: tcp } }\n",
	  "6:12: sorry: the sorry server is not checked (no 'check' here)" },
	{ "sorry unknown key", SVC "    sorry: { address: 198.18.1.99, wieght: 1 }\n",
	  "6:36: unknown key 'wieght' in real (did you mean 'weight'?)" },
	{ "quorum sorry without sorry server", SVC "    quorum: { weight: 2, action: sorry }\n",
	  "6:13: quorum: action 'sorry' needs a sorry server in this service" },
	{ "quorum zero", SVC "    quorum: 0\n", "6:13: quorum: 0 out of range (1..4294967295)" },
	{ "quorum hysteresis too large", SVC "    quorum: { weight: 2, action: withdraw, hysteresis: 2 }\n",
	  "6:56: hysteresis: 2 must be smaller than the quorum weight (2)" },
	{ "quorum action unknown", SVC "    quorum: { weight: 2, action: panic }\n",
	  "6:34: action: unknown action 'panic' (expected sorry or withdraw)" },
	{ "quorum missing weight", SVC "    quorum: { action: withdraw }\n",
	  "6:13: missing required key 'weight' in quorum" },
	{ "notify unknown key", SVC "    notify: { upp: /bin/true }\n",
	  "6:15: unknown key 'upp' in notify (did you mean 'up'?)" },
	{ "notify not a mapping", SVC "    notify: /bin/true\n",
	  "6:13: notify: mapping expected, got '/bin/true'" },
	{ "notify timeout bad", SVC "    notify: { up: /bin/true, timeout: forever }\n",
	  "6:39: timeout: 'forever' is not a duration (e.g. 2s, 500ms, 1m)" },

	/* ---- timeouts (connection lifetimes) ---- */
	{ "timeouts not a mapping", IF "timeouts: 900\n", "2:11: timeouts: mapping expected, got '900'" },
	{ "timeouts unknown key", IF "timeouts: { tcpfin: 2m }\n",
	  "2:13: unknown key 'tcpfin' in timeouts (did you mean 'tcp_fin'?)" },
	{ "timeout not a duration", IF "timeouts: { tcp: long }\n",
	  "2:18: tcp: 'long' is not a duration (e.g. 2s, 500ms, 1m)" },
	{ "timeout zero", IF "timeouts: { udp: 0s }\n", "2:18: udp: 0s out of range (1000ms..604800s)" },
	{ "timeout in days", IF "timeouts: { tcp: 8d }\n",
	  "2:18: tcp: '8d' is not a duration (e.g. 2s, 500ms, 1m)" },
	{ "timeout over a week", IF "timeouts: { tcp: 169h }\n",
	  "2:18: tcp: 169h out of range (1000ms..604800s)" },
	{ "timeout not whole seconds", IF "timeouts: { tcp_syn: 1500ms }\n",
	  "2:22: tcp_syn: whole seconds expected (e.g. 90s, 15m), got 1500ms" },
	{ "service udp timeout on tcp", SVC "    timeouts: { udp: 1m }\n",
	  "6:15: timeouts: udp does not apply to a tcp service (its key is tcp, tcp_fin or tcp_syn)" },
	{ "service tcp timeout on udp",
	  IF "services:\n  - { vip: 198.18.0.10, port: 53, protocol: udp, timeouts: { tcp_fin: 1m } }\n",
	  "3:60: timeouts: tcp_fin does not apply to a udp service (its key is udp)" },

	/* ---- persistence (ipvsadm -p/-M) ---- */
	{ "persistence not a duration", SVC "    persistence: forever\n",
	  "6:18: persistence: 'forever' is not a duration (e.g. 2s, 500ms, 1m)" },
	{ "persistence over a week", SVC "    persistence: 169h\n",
	  "6:18: persistence: 169h out of range (0ms..604800s)" },
	{ "persistence not whole seconds", SVC "    persistence: 1500ms\n",
	  "6:18: persistence: whole seconds expected (e.g. 300s, 1h), got 1500ms" },
	{ "netmask without persistence", SVC "    persistence_netmask: 24\n",
	  "6:26: persistence_netmask: set but the service is not persistent (no 'persistence')" },
	{ "netmask with persistence 0", SVC "    persistence: 0\n    persistence_netmask: 24\n",
	  "7:26: persistence_netmask: set but the service is not persistent (no 'persistence')" },
	{ "netmask not contiguous", SVC "    persistence: 5m\n    persistence_netmask: 255.0.255.0\n",
	  "7:26: persistence_netmask: '255.0.255.0' is not a contiguous netmask (e.g. 255.255.255.0)" },
	{ "netmask all zero", SVC "    persistence: 5m\n    persistence_netmask: 0.0.0.0\n",
	  "7:26: persistence_netmask: 0.0.0.0 out of range (1..32)" },
	{ "netmask prefix 0", SVC "    persistence: 5m\n    persistence_netmask: 0\n",
	  "7:26: persistence_netmask: 0 out of range (1..32)" },
	{ "netmask prefix over 32", SVC "    persistence: 5m\n    persistence_netmask: 33\n",
	  "7:26: persistence_netmask: 33 out of range (1..32)" },
	{ "netmask a word", SVC "    persistence: 5m\n    persistence_netmask: wide\n",
	  "7:26: persistence_netmask: 'wide' is not a netmask (e.g. 255.255.255.0) or a prefix length (1..32)" },
	{ "netmask dotted on IPv6",
	  IF "services:\n  - { vip: 2001:db8::10, port: 80, protocol: tcp, persistence: 5m, "
	     "persistence_netmask: 255.255.255.0 }\n",
	  "3:89: persistence_netmask: '255.255.255.0' is not a prefix length (1..128) for an IPv6 service" },
	{ "netmask prefix over 128",
	  IF "services:\n  - { vip: 2001:db8::10, port: 80, protocol: tcp, persistence: 5m, "
	     "persistence_netmask: 129 }\n",
	  "3:89: persistence_netmask: 129 out of range (1..128)" },

	/* ---- flow state (issue 13): the words, the window, and ring where it cannot be ---- */
	{ "flow_state ring under wlc", SVC "    scheduler: wlc\n    flow_state: ring\n",
	  "7:17: flow_state: ring is not possible: the wlc scheduler is not a function of the flow (ring needs maglev or mh)" },
	{ "flow_state ring with persistence", SVC "    persistence: 5m\n    flow_state: ring\n",
	  "7:17: flow_state: ring is not possible: persistence keeps a template per client (persistent services keep every flow)" },
	{ "flow_state unknown", SVC "    flow_state: rings\n",
	  "6:17: flow_state: unknown mode 'rings' (expected auto, ring or table)" },
	{ "flow_state capitalised", SVC "    flow_state: Ring\n",
	  "6:17: flow_state: unknown mode 'Ring' (expected auto, ring or table)" },
	{ "flow_state a boolean", SVC "    flow_state: true\n",
	  "6:17: flow_state: unknown mode 'true' (expected auto, ring or table)" },
	{ "flow_state a list", SVC "    flow_state: [ring]\n",
	  "6:17: flow_state: scalar expected, got a sequence" },
	{ "ring_window not a duration", SVC "    ring_window: forever\n",
	  "6:18: ring_window: 'forever' is not a duration (e.g. 2s, 500ms, 1m)" },
	{ "ring_window negative", SVC "    ring_window: -5\n",
	  "6:18: ring_window: '-5' is not a duration (e.g. 2s, 500ms, 1m)" },
	{ "ring_window over a week", SVC "    ring_window: 169h\n",
	  "6:18: ring_window: 169h out of range (0ms..604800s)" },
	{ "ring_window not whole seconds", SVC "    ring_window: 1500ms\n",
	  "6:18: ring_window: whole seconds expected (e.g. 90s, 24h), got 1500ms" },
	{ "duplicate flow_state", SVC "    flow_state: ring\n    flow_state: table\n",
	  "7:5: duplicate key 'flow_state' (first at line 6)" },
};

#define NBAD (sizeof(bad_rows) / sizeof(bad_rows[0]))

static void free_params(struct criterion_test_params *p)
{
	cr_free(p->params);
}

/*
 * Criterion runs each parameter in a fresh process and copies parameters as raw
 * bytes, so rows are passed by index into the static table.
 */
ParameterizedTestParameters(config, invalid)
{
	size_t *idx = cr_malloc(sizeof(*idx) * NBAD), i;

	for (i = 0; i < NBAD; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NBAD, free_params);
}

static void spec_is_empty(const struct xlvs_spec *s)
{
	cr_assert_eq(s->nr_services, 0);
	cr_assert_null(s->services);
	cr_assert_eq(s->global.nr_interfaces, 0);
}

ParameterizedTest(size_t *i, config, invalid)
{
	const struct bad *r = &bad_rows[*i];
	struct xlvs_conf_error err;
	char got[600], want[600];
	struct xlvs_spec s;
	int ret;

	memset(&s, 0xa5, sizeof(s));
	ret = xlvs_conf_parse(FILE_NAME, r->yaml, strlen(r->yaml), &s, &err);
	cr_assert_eq(ret, -EINVAL, "%s: returned %d", r->name, ret);
	xlvs_conf_error_format(&err, got, sizeof(got));
	snprintf(want, sizeof(want), FILE_NAME ":%s", r->want);
	cr_assert_str_eq(got, want, "row '%s'\n got: %s\nwant: %s", r->name, got, want);
	spec_is_empty(&s);
}

/* ---- valid files ---- */

static void parse_ok(const char *yaml, struct xlvs_spec *s)
{
	struct xlvs_conf_error err;
	char msg[600];
	int ret;

	ret = xlvs_conf_parse(FILE_NAME, yaml, strlen(yaml), s, &err);
	xlvs_conf_error_format(&err, msg, sizeof(msg));
	cr_assert_eq(ret, 0, "parse failed (%d): %s", ret, msg);
}

/* Compare with inet_pton's bytes: network order, IPv4 in be[0], the rest zero. */
static void check_addr(const struct xlvs_addr *a, const char *text)
{
	uint32_t be[4] = { 0 };
	int v6 = strchr(text, ':') != NULL;

	cr_assert_eq(inet_pton(v6 ? AF_INET6 : AF_INET, text, be), 1);
	cr_assert_eq(a->family, v6 ? XLVS_AF_INET6 : XLVS_AF_INET, "%s: family %u", text, a->family);
	cr_assert_arr_eq(a->be, be, sizeof(be), "%s: address bytes differ", text);
}

static void check_real(const struct xlvs_real_spec *r, const char *addr, uint16_t port, uint32_t weight,
		       uint8_t fwd, uint16_t gue_port)
{
	check_addr(&r->addr, addr);
	cr_assert_eq(r->port, port, "%s: port %u", addr, r->port);
	cr_assert_eq(r->weight, weight, "%s: weight %u", addr, r->weight);
	cr_assert_eq(r->fwd, fwd, "%s: fwd %u", addr, r->fwd);
	cr_assert_eq(r->gue_port, gue_port, "%s: gue_port %u", addr, r->gue_port);
}

static const char full_yaml[] =
	"# every key set\n"
	"interfaces: [eth1, \"eth2.100\"]\n"
	"xdp_mode: generic\n"
	"tunnel:\n"
	"  source4: 198.18.0.1\n"
	"  source6: \"2001:db8::1\"\n"
	"  mtu: 9000\n"
	"  gue_port: 6081\n"
	"gateway_mac: \"02:00:00:0a:bC:01\"\n"
	"syn_guard_rate: 50000\n"
	"fragments: drop\n"
	"ip_options: drop\n"
	"conn_table_size: 1048576\n"
	"metrics: { listen: \"[::1]:9105\" }\n"
	"services:\n"
	"  - vip: 198.18.0.10\n"
	"    port: 80\n"
	"    protocol: tcp\n"
	"    scheduler: maglev\n"
	"    forward: tun\n"
	"    ring_size: 251\n"
	"    echo: true\n"
	"    gue_port: 7000\n"
	"    reals:\n"
	"      - { address: 198.18.1.11, weight: 1 }\n"
	"      - { address: 198.18.1.12, weight: 2, forward: gue, port: 80 }\n"
	"      - { address: \"2001:db8:1::13\", weight: 0, forward: gue, gue_port: 7001 }\n"
	"      - { address: 198.18.1.14, forward: ipip }\n"
	"  - vip: 2001:db8::10\n"
	"    port: 0\n"
	"    protocol: udp\n"
	"    echo: false\n"
	"    reals:\n"
	"      - address: 2001:db8:1::21\n"
	"      - address: 2001:db8:1::22\n"
	"        weight: 65535\n"
	"  - { vip: 198.18.0.11, port: 65535, protocol: tcp, forward: gue, reals: [] }\n";

Test(config, full_round_trip)
{
	const struct xlvs_global_spec *g;
	const struct xlvs_svc_spec *v;
	struct xlvs_spec s;
	static const uint8_t mac[6] = { 0x02, 0, 0, 0x0a, 0xbc, 0x01 };

	parse_ok(full_yaml, &s);
	g = &s.global;
	cr_assert_eq(g->nr_interfaces, 2);
	cr_assert_str_eq(g->interfaces[0], "eth1");
	cr_assert_str_eq(g->interfaces[1], "eth2.100");
	cr_assert_eq(g->xdp_mode, XLVS_XDP_GENERIC);
	check_addr(&g->tun_src4, "198.18.0.1");
	cr_assert_eq(g->tun_src4.be[0], htonl(0xc6120001)); /* network order, explicitly */
	check_addr(&g->tun_src6, "2001:db8::1");
	cr_assert_eq(g->tun_src6.be[0], htonl(0x20010db8));
	cr_assert_eq(g->tun_src6.be[3], htonl(1));
	cr_assert_eq(g->tun_mtu, 9000);
	cr_assert_eq(g->gue_port, 6081);
	cr_assert(g->have_gw_mac);
	cr_assert_arr_eq(g->gw_mac, mac, 6);
	cr_assert_eq(g->syn_guard_rate, 50000);
	cr_assert(g->frag_drop);
	cr_assert(g->ip4_options_drop);
	cr_assert_eq(g->conn_table_size, 1048576);
	cr_assert_str_eq(g->metrics_listen, "[::1]:9105");

	cr_assert_eq(s.nr_services, 3);
	v = &s.services[0];
	check_addr(&v->vip, "198.18.0.10");
	cr_assert_eq(v->vip.be[0], htonl(0xc612000a));
	cr_assert_eq(v->proto, IPPROTO_TCP);
	cr_assert_eq(v->port, 80);
	cr_assert_eq(v->sched, XLVS_SCHED_MAGLEV);
	cr_assert_eq(v->fwd, XLVS_FWD_TUN);
	cr_assert_eq(v->ring_size, 251);
	cr_assert_eq(v->flags, XLVS_SVC_F_ECHO);
	cr_assert_eq(v->nr_reals, 4);
	check_real(&v->reals[0], "198.18.1.11", 80, 1, XLVS_FWD_TUN, 0);
	/* no gue_port of its own: the service's */
	check_real(&v->reals[1], "198.18.1.12", 80, 2, XLVS_FWD_GUE, 7000);
	check_real(&v->reals[2], "2001:db8:1::13", 80, 0, XLVS_FWD_GUE, 7001);
	check_real(&v->reals[3], "198.18.1.14", 80, 1, XLVS_FWD_TUN, 0); /* ipip = tun */

	v = &s.services[1];
	check_addr(&v->vip, "2001:db8::10");
	cr_assert_eq(v->proto, IPPROTO_UDP);
	cr_assert_eq(v->port, 0);
	cr_assert_eq(v->fwd, XLVS_FWD_DR);
	cr_assert_eq(v->ring_size, XLVS_RING_DEFAULT);
	cr_assert_eq(v->flags, 0);
	cr_assert_eq(v->nr_reals, 2);
	check_real(&v->reals[0], "2001:db8:1::21", 0, 1, XLVS_FWD_DR, 0);
	check_real(&v->reals[1], "2001:db8:1::22", 0, 65535, XLVS_FWD_DR, 0);

	v = &s.services[2];
	check_addr(&v->vip, "198.18.0.11");
	cr_assert_eq(v->port, 65535);
	cr_assert_eq(v->fwd, XLVS_FWD_GUE);
	cr_assert_eq(v->nr_reals, 0);
	xlvs_spec_free(&s);
}

Test(config, defaults)
{
	const struct xlvs_global_spec *g;
	const struct xlvs_svc_spec *v;
	struct xlvs_spec s;

	parse_ok("interface: eth0\n"
		 "services:\n"
		 "  - { vip: 198.18.0.10, port: 443, protocol: tcp, reals: [{ address: 198.18.1.1 }] }\n",
		 &s);
	g = &s.global;
	cr_assert_eq(g->nr_interfaces, 1);
	cr_assert_str_eq(g->interfaces[0], "eth0");
	cr_assert_eq(g->xdp_mode, XLVS_XDP_AUTO);
	cr_assert_eq(g->tun_src4.family, XLVS_AF_NONE);
	cr_assert_eq(g->tun_src6.family, XLVS_AF_NONE);
	cr_assert_eq(g->tun_mtu, 1500);
	cr_assert_eq(g->gue_port, XLVS_GUE_PORT_DEFAULT);
	cr_assert_eq(g->syn_guard_rate, 0);
	cr_assert_not(g->frag_drop);
	cr_assert_not(g->ip4_options_drop);
	cr_assert_not(g->have_gw_mac);
	cr_assert_eq(g->conn_table_size, XLVS_CONNS_DEFAULT);
	cr_assert_str_eq(g->metrics_listen, "");

	cr_assert_eq(s.nr_services, 1);
	v = &s.services[0];
	cr_assert_eq(v->sched, XLVS_SCHED_MAGLEV);
	cr_assert_eq(v->fwd, XLVS_FWD_DR);
	cr_assert_eq(v->ring_size, XLVS_RING_DEFAULT);
	cr_assert_eq(v->flags, 0);
	cr_assert_eq(v->nr_reals, 1);
	check_real(&v->reals[0], "198.18.1.1", 443, 1, XLVS_FWD_DR, 0);
	xlvs_spec_free(&s);
}

Test(config, timeouts_global_and_per_service)
{
	struct xlvs_spec s;

	parse_ok(IF "timeouts: { tcp: 1h, tcp_fin: 30s, tcp_syn: 20, udp: 2m }\n"
		    "services:\n"
		    "  - { vip: 198.18.0.10, port: 80, protocol: tcp, timeouts: { tcp: 7200s } }\n"
		    "  - { vip: 198.18.0.10, port: 53, protocol: udp, timeouts: { udp: 10s } }\n"
		    "  - { vip: 198.18.0.10, port: 443, protocol: tcp }\n",
		 &s);
	cr_expect_eq(s.global.timeout_s[XLVS_TO_TCP], 3600);
	cr_expect_eq(s.global.timeout_s[XLVS_TO_TCP_FIN], 30);
	cr_expect_eq(s.global.timeout_s[XLVS_TO_TCP_SYN], 20);
	cr_expect_eq(s.global.timeout_s[XLVS_TO_UDP], 120);
	cr_expect_arr_eq(s.services[0].timeout_s, ((uint32_t[]){ 7200, 0, 0, 0 }), 16);
	cr_expect_arr_eq(s.services[1].timeout_s, ((uint32_t[]){ 0, 0, 0, 10 }), 16);
	cr_expect_arr_eq(s.services[2].timeout_s, ((uint32_t[]){ 0, 0, 0, 0 }), 16, "unset: the global ones");
	xlvs_spec_free(&s);
	/* unset globals stay 0: xlvs_maps_set_global() writes IPVS's defaults for them */
	parse_ok(IF "timeouts: { udp: 1s }\n", &s);
	cr_expect_arr_eq(s.global.timeout_s, ((uint32_t[]){ 0, 0, 0, 1 }), 16);
	xlvs_spec_free(&s);
	parse_ok(IF "timeouts: { tcp: 168h }\n", &s);
	cr_expect_eq(s.global.timeout_s[XLVS_TO_TCP], 604800, "a week is the longest");
	xlvs_spec_free(&s);
}

Test(config, persistence_keys)
{
	struct xlvs_spec s;

	parse_ok(
		IF
		"services:\n"
		"  - { vip: 198.18.0.10, port: 0, protocol: tcp, persistence: 5m, persistence_netmask: 255.255.255.0 }\n"
		"  - { vip: 198.18.0.10, port: 80, protocol: tcp, persistence: 300, persistence_netmask: 16 }\n"
		"  - { vip: 198.18.0.10, port: 443, protocol: tcp, persistence: 1h }\n"
		"  - { vip: 2001:db8::10, port: 80, protocol: tcp, persistence: 168h, persistence_netmask: 64 }\n"
		"  - { vip: 198.18.0.10, port: 53, protocol: udp, persistence: 0 }\n"
		"  - { vip: 198.18.0.10, port: 25, protocol: tcp, persistence: 5m, persistence_netmask: 255.255.255.255 }\n",
		&s);
	cr_expect_eq(s.services[0].persist_s, 300);
	cr_expect_eq(s.services[0].persist_plen, 24);
	cr_expect_eq(s.services[1].persist_s, 300, "a plain number is seconds");
	cr_expect_eq(s.services[1].persist_plen, 16);
	cr_expect_eq(s.services[2].persist_s, 3600);
	cr_expect_eq(s.services[2].persist_plen, 0, "unset: the whole address");
	cr_expect_eq(xlvs_persist_plen(&s.services[2]), 32);
	cr_expect_eq(s.services[3].persist_s, 604800, "a week is the longest");
	cr_expect_eq(s.services[3].persist_plen, 64);
	cr_expect_eq(s.services[4].persist_s, 0, "0: off");
	cr_expect_eq(s.services[5].persist_plen, 32);
	xlvs_spec_free(&s);
}

/* xlvs service add ... scheduler-expire: the control path's update sets it, checked as the file's key. */
Test(config, scheduler_expire_by_update)
{
	struct xlvs_svc_spec upd = { .sched_expire_s = 600 };
	struct xlvs_spec s;
	char msg[256];

	parse_ok(IF "services:\n  - { vip: 198.18.0.10, port: 80, protocol: tcp, scheduler: lblc }\n"
		    "  - { vip: 198.18.0.10, port: 81, protocol: tcp }\n",
		 &s);
	cr_assert_eq(xlvsd_spec_update_svc(&s, &s.services[0], &upd, XLVSD_SVC_SCHED_EXPIRE, msg,
					   sizeof(msg)),
		     0, "%s", msg);
	cr_expect_eq(s.services[0].sched_expire_s, 600);
	cr_expect_eq(xlvsd_spec_update_svc(&s, &s.services[1], &upd, XLVSD_SVC_SCHED_EXPIRE, msg,
					   sizeof(msg)),
		     -EINVAL, "maglev keeps no assignments");
	cr_expect_str_eq(msg, "scheduler_expire: only lblc and lblcr keep assignments, not maglev");
	cr_expect_eq(s.services[1].sched_expire_s, 0, "a refused update leaves the service as it was");
	xlvs_spec_free(&s);
}

Test(config, scheduler_expire)
{
	struct xlvs_spec s;

	parse_ok(IF
		 "services:\n"
		 "  - { vip: 198.18.0.10, port: 80, protocol: tcp, scheduler: lblc, scheduler_expire: 24h }\n"
		 "  - { vip: 198.18.0.10, port: 81, protocol: tcp, scheduler: lblcr, scheduler_expire: 90 }\n"
		 "  - { vip: 198.18.0.10, port: 82, protocol: tcp, scheduler: lblcr }\n",
		 &s);
	cr_expect_eq(s.services[0].sched, XLVS_SCHED_LBLC);
	cr_expect_eq(s.services[0].sched_expire_s, 86400);
	cr_expect_eq(s.services[1].sched_expire_s, 90);
	cr_expect_eq(s.services[2].sched_expire_s, 0, "unset: the data path's 24 h");
	xlvs_spec_free(&s);
}

/* flow_state and ring_window (issue 13): each value, and the defaults (auto, 0: the tcp timeout). */
Test(config, flow_state_keys)
{
	struct xlvs_spec s;

	parse_ok(IF "services:\n"
		    "  - { vip: 198.18.0.10, port: 80, protocol: tcp, flow_state: ring, ring_window: 10m }\n"
		    "  - { vip: 198.18.0.10, port: 81, protocol: tcp, flow_state: table }\n"
		    "  - { vip: 198.18.0.10, port: 82, protocol: tcp, flow_state: auto, ring_window: 90 }\n"
		    "  - { vip: 198.18.0.10, port: 83, protocol: tcp, ring_window: 0 }\n"
		    "  - { vip: 198.18.0.10, port: 84, protocol: tcp, ring_window: 168h }\n"
		    "  - { vip: 198.18.0.10, port: 53, protocol: udp, scheduler: mh, flow_state: ring }\n"
		    "  - { vip: 198.18.0.10, port: 85, protocol: tcp }\n",
		 &s);
	cr_expect_eq(s.services[0].flow_state, XLVS_FLOW_STATE_RING);
	cr_expect_eq(s.services[0].ring_window_s, 600);
	cr_expect_eq(s.services[1].flow_state, XLVS_FLOW_STATE_TABLE);
	cr_expect_eq(s.services[1].ring_window_s, 0);
	cr_expect_eq(s.services[2].flow_state, XLVS_FLOW_STATE_AUTO);
	cr_expect_eq(s.services[2].ring_window_s, 90, "a plain number is seconds");
	cr_expect_eq(s.services[3].ring_window_s, 0, "0: the tcp timeout");
	cr_expect_eq(s.services[4].ring_window_s, 604800, "a week is the longest");
	cr_expect_eq(s.services[5].flow_state, XLVS_FLOW_STATE_RING, "udp ring is an explicit opt-in");
	cr_expect_eq(s.services[6].flow_state, XLVS_FLOW_STATE_AUTO, "unset: auto");
	cr_expect_eq(s.services[6].ring_window_s, 0, "unset: the tcp timeout");
	xlvs_spec_free(&s);
}

/* xlvs service add ... flow-state / ring-window: the control path's update, checked as the file's keys. */
Test(config, flow_state_by_update)
{
	struct xlvs_svc_spec upd = { .flow_state = XLVS_FLOW_STATE_TABLE, .ring_window_s = 300 };
	struct xlvs_spec s;
	char msg[256];

	parse_ok(IF "services:\n  - { vip: 198.18.0.10, port: 80, protocol: tcp, flow_state: ring, "
		    "ring_window: 1h }\n",
		 &s);
	cr_assert_eq(xlvsd_spec_update_svc(&s, &s.services[0], &upd, XLVSD_SVC_RING_WINDOW, msg, sizeof(msg)),
		     0, "%s", msg);
	cr_expect_eq(s.services[0].ring_window_s, 300);
	cr_expect_eq(s.services[0].flow_state, XLVS_FLOW_STATE_RING, "not named: kept");
	cr_assert_eq(xlvsd_spec_update_svc(&s, &s.services[0], &upd, XLVSD_SVC_FLOW_STATE, msg, sizeof(msg)),
		     0, "%s", msg);
	cr_expect_eq(s.services[0].flow_state, XLVS_FLOW_STATE_TABLE);
	upd.ring_window_s = 604801;
	cr_expect_eq(xlvsd_spec_update_svc(&s, &s.services[0], &upd, XLVSD_SVC_RING_WINDOW, msg, sizeof(msg)),
		     -EINVAL);
	cr_expect_str_eq(msg, "ring_window: 604801s out of range (0s..604800s)");
	cr_expect_eq(s.services[0].ring_window_s, 300, "a refused update leaves the service as it was");
	upd.flow_state = 3;
	cr_expect_eq(xlvsd_spec_update_svc(&s, &s.services[0], &upd, XLVSD_SVC_FLOW_STATE, msg, sizeof(msg)),
		     -EINVAL);
	cr_expect_str_eq(msg, "flow_state: unknown mode 3");
	cr_expect_eq(s.services[0].flow_state, XLVS_FLOW_STATE_TABLE);
	xlvs_spec_free(&s);
}

Test(config, no_services_and_empty_services)
{
	struct xlvs_spec s;

	parse_ok("interfaces: [eth0]\n", &s);
	cr_assert_eq(s.nr_services, 0);
	xlvs_spec_free(&s);
	parse_ok("interfaces: [eth0]\nservices: []\n", &s);
	cr_assert_eq(s.nr_services, 0);
	xlvs_spec_free(&s);
	/* a service without reals is valid: its packets are dropped (no_real), as in ipvsadm */
	parse_ok("interfaces: [eth0]\nservices:\n"
		 "  - { vip: 198.18.0.10, port: 80, protocol: tcp }\n"
		 "  - { vip: 198.18.0.10, port: 81, protocol: tcp, reals: [] }\n",
		 &s);
	cr_assert_eq(s.nr_services, 2);
	cr_assert_eq(s.services[0].nr_reals, 0);
	cr_assert_eq(s.services[1].nr_reals, 0);
	xlvs_spec_free(&s);
}

Test(config, metrics_off_and_ipv4_listen)
{
	struct xlvs_spec s;

	parse_ok("interfaces: [eth0]\nmetrics: off\n", &s);
	cr_assert_str_eq(s.global.metrics_listen, "");
	xlvs_spec_free(&s);
	parse_ok("interfaces: [eth0]\nmetrics: false\n", &s);
	cr_assert_str_eq(s.global.metrics_listen, "");
	xlvs_spec_free(&s);
	parse_ok("interfaces: [eth0]\nmetrics:\n  listen: 127.0.0.1:9105\n", &s);
	cr_assert_str_eq(s.global.metrics_listen, "127.0.0.1:9105");
	xlvs_spec_free(&s);
}

Test(config, same_address_different_protocol_or_port)
{
	struct xlvs_spec s;

	parse_ok("interfaces: [eth0]\nservices:\n"
		 "  - { vip: 198.18.0.10, port: 53, protocol: udp }\n"
		 "  - { vip: 198.18.0.10, port: 53, protocol: tcp }\n"
		 "  - { vip: 198.18.0.10, port: 0, protocol: tcp }\n",
		 &s);
	cr_assert_eq(s.nr_services, 3);
	xlvs_spec_free(&s);
}

/* The director as one of its reals: no tunnel source needed, any family, the service's port. */
Test(config, local_real)
{
	struct xlvs_spec s;

	parse_ok("interfaces: [eth0]\nservices:\n"
		 "  - vip: 198.18.0.10\n    port: 80\n    protocol: tcp\n"
		 "    reals:\n"
		 "      - { address: 198.18.0.1, forward: local }\n"
		 "      - { address: \"2001:db8::1\", forward: local }\n"
		 "      - { address: 198.18.1.12 }\n",
		 &s);
	cr_assert_eq(s.services[0].reals[0].fwd, XLVS_FWD_LOCAL);
	cr_assert_eq(s.services[0].reals[1].fwd, XLVS_FWD_LOCAL);
	cr_assert_eq(s.services[0].reals[2].fwd, XLVS_FWD_DR);
	xlvs_spec_free(&s);
}

/* NAT and FULLNAT: a real's own port, the service's as default, the pool and its ports. */
Test(config, nat_and_fullnat_reals)
{
	struct xlvs_spec s;

	parse_ok("interfaces: [eth0]\n"
		 "fullnat: { pool: [\"2001:db8::201\", 198.18.0.201, 198.18.0.202], port_min: 2000, port_max: 3000 }\n"
		 "services:\n"
		 "  - vip: 198.18.0.10\n    port: 80\n    protocol: tcp\n    forward: nat\n"
		 "    reals:\n"
		 "      - { address: 198.18.1.11, port: 8080 }\n"
		 "      - { address: 198.18.1.12 }\n"
		 "      - { address: 198.18.1.13, forward: fullnat, port: 0 }\n"
		 "  - vip: \"2001:db8::10\"\n    port: 53\n    protocol: udp\n    forward: fullnat\n"
		 "    reals: [{ address: \"2001:db8:1::11\", port: 5353 }]\n",
		 &s);
	cr_assert_eq(s.global.nr_snat_pool, 3);
	check_addr(&s.global.snat_pool[0], "2001:db8::201");
	check_addr(&s.global.snat_pool[2], "198.18.0.202");
	cr_assert_eq(s.global.snat_port_lo, 2000);
	cr_assert_eq(s.global.snat_port_hi, 3000);
	check_real(&s.services[0].reals[0], "198.18.1.11", 8080, 1, XLVS_FWD_NAT, 0);
	check_real(&s.services[0].reals[1], "198.18.1.12", 80, 1, XLVS_FWD_NAT, 0);
	check_real(&s.services[0].reals[2], "198.18.1.13", 0, 1, XLVS_FWD_FULLNAT, 0);
	check_real(&s.services[1].reals[0], "2001:db8:1::11", 5353, 1, XLVS_FWD_FULLNAT, 0);
	xlvs_spec_free(&s);
	/* without a fullnat section: the default ports, no pool */
	parse_ok("interfaces: [eth0]\n", &s);
	cr_assert_eq(s.global.nr_snat_pool, 0);
	cr_assert_eq(s.global.snat_port_lo, 1024);
	cr_assert_eq(s.global.snat_port_hi, 65535);
	xlvs_spec_free(&s);
}

/* Port-0 services: a real may say port 0; checks with a port, or without one, work. */
Test(config, port_zero_service_reals_and_checks)
{
	struct xlvs_spec s;

	parse_ok(ANY "    check: { type: tcp, port: 21 }\n"
		     "    reals:\n"
		     "      - { address: 198.18.1.11, port: 0 }\n"
		     "      - { address: 198.18.1.12, check: { type: http, path: /x } }\n"
		     "      - { address: 198.18.1.13, check: { type: icmp } }\n"
		     "      - { address: 198.18.1.14, check: off }\n",
		 &s);
	cr_assert_eq(s.services[0].reals[0].port, 0);
	cr_assert_eq(s.services[0].health->check.port, 21);
	cr_assert_eq(s.services[0].reals[1].check->port, 21, "inherited from the service's check");
	xlvs_spec_free(&s);
	parse_ok(ANY "    check: { type: dns, name: example.org }\n    reals: [{ address: 198.18.1.11 }]\n",
		 &s);
	xlvs_spec_free(&s);
	parse_ok(ANY "    check: { type: exec, command: \"true\" }\n    reals: [{ address: 198.18.1.11 }]\n",
		 &s);
	xlvs_spec_free(&s);
}

Test(config, anchors_crlf_and_mtu_zero)
{
	struct xlvs_spec s;

	parse_ok("interfaces: [eth0]\r\n"
		 "tunnel: { source6: \"2001:db8::1\", mtu: 0 }\r\n"
		 "services:\r\n"
		 "  - vip: \"2001:db8::10\"\r\n    port: 80\r\n    protocol: tcp\r\n    forward: tun\r\n"
		 "    reals: &web [{ address: \"2001:db8:1::1\" }, { address: \"2001:db8:1::2\" }]\r\n"
		 "  - vip: \"2001:db8::10\"\r\n    port: 443\r\n    protocol: tcp\r\n    forward: tun\r\n"
		 "    reals: *web\r\n",
		 &s);
	cr_assert_eq(s.global.tun_mtu, 0);
	cr_assert_eq(s.nr_services, 2);
	cr_assert_eq(s.services[1].nr_reals, 2);
	check_real(&s.services[1].reals[1], "2001:db8:1::2", 443, 1, XLVS_FWD_TUN, 0);
	xlvs_spec_free(&s);
}

Test(config, mtu_fits_ipv6_over_ipv4_tunnel)
{
	struct xlvs_spec s;

	/* 6in4: 20 bytes of outer header, so 1300 still carries 1280-byte IPv6 packets */
	parse_ok("interfaces: [eth0]\ntunnel: { source4: 198.18.0.1, mtu: 1300 }\nservices:\n"
		 "  - vip: \"2001:db8::10\"\n    port: 80\n    protocol: tcp\n    forward: tun\n"
		 "    reals: [{ address: 198.18.1.1 }]\n",
		 &s);
	cr_assert_eq(s.global.tun_mtu, 1300);
	xlvs_spec_free(&s);
}

/* ---- limits ---- */

static char *many_services(size_t n)
{
	size_t size = 64 + n * 64, o;
	char *y = malloc(size);
	size_t i;

	cr_assert_not_null(y);
	o = snprintf(y, size, "interfaces: [eth0]\nservices:\n");
	for (i = 0; i < n; i++)
		o += snprintf(y + o, size - o, "  - { vip: 198.18.%zu.%zu, port: 80, protocol: tcp }\n",
			      i / 250, i % 250 + 1);
	return y;
}

Test(config, service_limit)
{
	struct xlvs_conf_error err;
	struct xlvs_spec s;
	char msg[600], want[600];
	char *y = many_services(XLVS_MAX_SERVICES);

	parse_ok(y, &s);
	cr_assert_eq(s.nr_services, XLVS_MAX_SERVICES);
	xlvs_spec_free(&s);
	free(y);

	y = many_services(XLVS_MAX_SERVICES + 1);
	cr_assert_eq(xlvs_conf_parse(FILE_NAME, y, strlen(y), &s, &err), -EINVAL);
	xlvs_conf_error_format(&err, msg, sizeof(msg));
	snprintf(want, sizeof(want), FILE_NAME ":%d:5: too many services (at most %d)", XLVS_MAX_SERVICES + 3,
		 XLVS_MAX_SERVICES);
	cr_assert_str_eq(msg, want);
	spec_is_empty(&s);
	free(y);
}

/* n reals spread over services of 4096 reals each. */
static char *many_reals(size_t n)
{
	size_t size = 64 + n * 48 + (n / 4096 + 1) * 80, o, i;
	char *y = malloc(size);

	cr_assert_not_null(y);
	o = snprintf(y, size, "interfaces: [eth0]\nservices:\n");
	for (i = 0; i < n; i++) {
		if (i % 4096 == 0)
			o += snprintf(y + o, size - o,
				      "  - vip: 198.18.0.%zu\n    port: 80\n    protocol: tcp\n    reals:\n",
				      i / 4096 + 1);
		o += snprintf(y + o, size - o, "      - address: 198.19.%zu.%zu\n", i / 256, i % 256);
	}
	return y;
}

Test(config, real_limit)
{
	struct xlvs_conf_error err;
	struct xlvs_spec s;
	char msg[600];
	char *y = many_reals(XLVS_MAX_REALS);
	size_t i, total = 0;

	parse_ok(y, &s);
	for (i = 0; i < s.nr_services; i++)
		total += s.services[i].nr_reals;
	cr_assert_eq(total, XLVS_MAX_REALS);
	xlvs_spec_free(&s);
	free(y);
	/* every real counts against the one real table */
	y = many_reals(XLVS_MAX_REALS + 1);
	cr_assert_eq(xlvs_conf_parse(FILE_NAME, y, strlen(y), &s, &err), -EINVAL);
	xlvs_conf_error_format(&err, msg, sizeof(msg));
	cr_assert(strstr(msg, "too many reals (at most 65536 in all services)") != NULL, "%s", msg);
	spec_is_empty(&s);
	free(y);
}

/* ---- files, interfaces, formatting ---- */

Test(config, examples_parse_cleanly)
{
	struct xlvs_conf_error err;
	struct xlvs_spec s;
	char msg[600];
	glob_t g;
	size_t i;
	int ret;

	cr_assert_eq(glob("docs/examples/*.yaml", 0, NULL, &g), 0, "no examples (run from the repo root)");
	cr_assert(g.gl_pathc >= 1);
	for (i = 0; i < g.gl_pathc; i++) {
		ret = xlvs_conf_load(g.gl_pathv[i], &s, &err);
		xlvs_conf_error_format(&err, msg, sizeof(msg));
		cr_assert_eq(ret, 0, "%s", msg);
		cr_assert_gt(s.nr_services, 0, "%s has no services", g.gl_pathv[i]);
		xlvs_spec_free(&s);
	}
	globfree(&g);
	ret = xlvs_conf_load(EXAMPLE, &s, &err);
	cr_assert_eq(ret, 0);
	xlvs_spec_free(&s);
}

Test(config, load_missing_file)
{
	struct xlvs_conf_error err;
	struct xlvs_spec s;
	char msg[600];

	cr_assert_eq(xlvs_conf_load("/nonexistent/xlvs.yaml", &s, &err), -ENOENT);
	xlvs_conf_error_format(&err, msg, sizeof(msg));
	cr_assert_str_eq(msg, "/nonexistent/xlvs.yaml: cannot open: No such file or directory");
	spec_is_empty(&s);
}

Test(config, load_reports_the_path)
{
	struct xlvs_conf_error err;
	struct xlvs_spec s;
	char path[] = "/tmp/xlvs-config-XXXXXX", msg[600], want[600];
	static const char text[] = "interfaces: [eth0]\nxdp_mode: fast\n";
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	cr_assert_eq(xlvs_conf_load(path, &s, &err), -EINVAL);
	unlink(path);
	xlvs_conf_error_format(&err, msg, sizeof(msg));
	snprintf(want, sizeof(want),
		 "%s:2:11: xdp_mode: unknown mode 'fast' (expected auto, native or generic)", path);
	cr_assert_str_eq(msg, want);
}

Test(config, interfaces_exist)
{
	struct xlvs_conf_error err;
	struct xlvs_spec s;
	char msg[600];

	parse_ok("interfaces: [lo]\n", &s);
	cr_assert_eq(xlvs_conf_check_interfaces(&s, &err), 0);
	xlvs_spec_free(&s);

	parse_ok("# the second one is missing\ninterfaces:\n  - lo\n  - xlvs-nope0\n", &s);
	cr_assert_eq(xlvs_conf_check_interfaces(&s, &err), -ENODEV);
	xlvs_conf_error_format(&err, msg, sizeof(msg));
	cr_assert_str_eq(msg, FILE_NAME ":4:5: interface xlvs-nope0 does not exist");
	xlvs_spec_free(&s);
}

Test(config, error_format)
{
	struct xlvs_conf_error e = { .file = "a.yaml", .line = 3, .column = 7, .msg = "bad" };
	char buf[64];

	xlvs_conf_error_format(&e, buf, sizeof(buf));
	cr_assert_str_eq(buf, "a.yaml:3:7: bad");
	e.line = e.column = 0;
	xlvs_conf_error_format(&e, buf, sizeof(buf));
	cr_assert_str_eq(buf, "a.yaml: bad");
	e.file[0] = '\0';
	xlvs_conf_error_format(&e, buf, sizeof(buf));
	cr_assert_str_eq(buf, "bad");
	xlvs_conf_error_format(&e, buf, 2);
	cr_assert_str_eq(buf, "b");
}

/* ---- health checks ---- */

static const char health_yaml[] =
	"interfaces: [eth0]\n"
	"tunnel: { source4: 198.18.0.1 }\n"
	"services:\n"
	"  - vip: 198.18.0.10\n"
	"    port: 80\n"
	"    protocol: tcp\n"
	"    check:\n"
	"      type: https\n"
	"      path: /healthz?full=1\n"
	"      host: www.example.org\n"
	"      expect: [200, 301-302]\n"
	"      body: \"ok\"\n"
	"      tls_verify: true\n"
	"      interval: 500ms\n"
	"      timeout: 250ms\n"
	"      rise: 1\n"
	"      fall: 5\n"
	"      initial: down\n"
	"      port: 8443\n"
	"    on_down: remove\n"
	"    sorry: { address: 198.18.1.99, forward: tun }\n"
	"    quorum: { weight: 3, action: sorry, hysteresis: 1 }\n"
	"    notify: { up: \"logger up\", down: \"logger down\", quorum: \"logger q\", timeout: 3s }\n"
	"    reals:\n"
	"      - { address: 198.18.1.11, weight: 2 }\n"
	"      - { address: 198.18.1.12, check: { address: 198.18.2.12, fall: 2 } }\n"
	"      - { address: 198.18.1.13, check: off }\n"
	"      - { address: 198.18.1.14, check: { type: tcp } }\n"
	"  - vip: 198.18.0.11\n"
	"    port: 53\n"
	"    protocol: udp\n"
	"    check: { type: dns, name: example.org, query_type: aaaa, interval: 1m, timeout: 2 }\n"
	"    quorum: 2\n"
	"    reals: [{ address: 198.18.1.21 }]\n"
	"  - vip: 198.18.0.12\n"
	"    port: 514\n"
	"    protocol: udp\n"
	"    check: { type: udp, payload: \"ping\\n\", reply: pong }\n"
	"    reals:\n"
	"      - { address: 198.18.1.31, check: { type: icmp } }\n"
	"      - { address: 198.18.1.32, check: { type: exec, command: \"/bin/check $XLVS_REAL\" } }\n"
	"  - vip: 198.18.0.13\n"
	"    port: 80\n"
	"    protocol: tcp\n"
	"    reals: [{ address: 198.18.1.41 }]\n";

Test(config, health_round_trip)
{
	const struct xlvs_check_spec *ck;
	const struct xlvs_svc_health *h;
	const struct xlvs_svc_spec *v;
	struct xlvs_spec s;

	parse_ok(health_yaml, &s);
	cr_assert_eq(s.nr_services, 4);
	v = &s.services[0];
	h = v->health;
	cr_assert_not_null(h);
	ck = &h->check;
	cr_assert_eq(ck->type, XLVS_CHECK_HTTPS);
	cr_assert_str_eq(ck->path, "/healthz?full=1");
	cr_assert_str_eq(ck->host, "www.example.org");
	cr_assert_eq(ck->nr_codes, 2);
	cr_assert_eq(ck->code_lo[0], 200);
	cr_assert_eq(ck->code_hi[0], 200);
	cr_assert_eq(ck->code_lo[1], 301);
	cr_assert_eq(ck->code_hi[1], 302);
	cr_assert_str_eq(ck->match, "ok");
	cr_assert(ck->tls_verify);
	cr_assert_eq(ck->interval_ms, 500);
	cr_assert_eq(ck->timeout_ms, 250);
	cr_assert_eq(ck->rise, 1);
	cr_assert_eq(ck->fall, 5);
	cr_assert(!ck->initial_up);
	cr_assert_eq(ck->port, 8443);
	cr_assert_eq(ck->addr.family, 0);
	cr_assert_eq(h->on_down, XLVS_ON_DOWN_REMOVE);
	cr_assert(h->have_sorry);
	check_real(&h->sorry, "198.18.1.99", 80, 1, XLVS_FWD_TUN, 0);
	cr_assert_null(h->sorry.check);
	cr_assert_eq(h->quorum, 3);
	cr_assert_eq(h->quorum_hysteresis, 1);
	cr_assert_eq(h->quorum_action, XLVS_QUORUM_SORRY);
	cr_assert_str_eq(h->notify_up, "logger up");
	cr_assert_str_eq(h->notify_down, "logger down");
	cr_assert_str_eq(h->notify_quorum, "logger q");
	cr_assert_eq(h->notify_timeout_ms, 3000);

	cr_assert_eq(v->nr_reals, 4);
	cr_assert_null(v->reals[0].check);
	check_real(&v->reals[0], "198.18.1.11", 80, 2, XLVS_FWD_DR, 0);
	/* an override starts from the service's check */
	ck = v->reals[1].check;
	cr_assert_not_null(ck);
	cr_assert_eq(ck->type, XLVS_CHECK_HTTPS);
	check_addr(&ck->addr, "198.18.2.12");
	cr_assert_eq(ck->fall, 2);
	cr_assert_eq(ck->rise, 1);
	cr_assert_eq(ck->port, 8443);
	cr_assert_str_eq(ck->path, "/healthz?full=1");
	cr_assert_eq(v->reals[2].check->type, XLVS_CHECK_NONE);
	cr_assert_eq(v->reals[3].check->type, XLVS_CHECK_TCP);
	/* another type keeps timing, state and target, not the http settings */
	ck = v->reals[3].check;
	cr_assert_eq(ck->interval_ms, 500);
	cr_assert_eq(ck->timeout_ms, 250);
	cr_assert_eq(ck->rise, 1);
	cr_assert_eq(ck->fall, 5);
	cr_assert(!ck->initial_up);
	cr_assert_eq(ck->port, 8443);
	cr_assert_str_eq(ck->match, "", "the service's http body became the tcp check's");
	cr_assert_str_eq(ck->host, "");
	cr_assert_eq(ck->nr_codes, 0);
	cr_assert(!ck->tls_verify);

	v = &s.services[1];
	ck = &v->health->check;
	cr_assert_eq(ck->type, XLVS_CHECK_DNS);
	cr_assert_str_eq(ck->qname, "example.org");
	cr_assert_eq(ck->qtype, 28);
	cr_assert_eq(ck->interval_ms, 60000);
	cr_assert_eq(ck->timeout_ms, 2000);
	/* defaults */
	cr_assert_eq(ck->rise, 2);
	cr_assert_eq(ck->fall, 3);
	cr_assert(ck->initial_up);
	cr_assert_eq(ck->port, 0);
	cr_assert_eq(v->health->quorum, 2);
	cr_assert_eq(v->health->quorum_action, XLVS_QUORUM_SORRY);
	cr_assert(!v->health->have_sorry);
	cr_assert_eq(v->health->on_down, XLVS_ON_DOWN_QUIESCE);
	cr_assert_eq(v->health->notify_timeout_ms, 10000);

	v = &s.services[2];
	cr_assert_eq(v->health->check.type, XLVS_CHECK_UDP);
	cr_assert_str_eq(v->health->check.payload, "ping\n");
	cr_assert_str_eq(v->health->check.match, "pong");
	cr_assert_eq(v->reals[0].check->type, XLVS_CHECK_ICMP);
	cr_assert_str_eq(v->reals[0].check->match, "", "the udp reply carried over to icmp");
	cr_assert_str_eq(v->reals[0].check->payload, "");
	cr_assert_eq(v->reals[1].check->type, XLVS_CHECK_EXEC);
	cr_assert_str_eq(v->reals[1].check->command, "/bin/check $XLVS_REAL");

	cr_assert_null(s.services[3].health, "no health key: no health block");
	xlvs_spec_free(&s);
}

Test(config, check_digest)
{
	static const uint8_t md5[16] = { 0xd7, 0x8a, 0xc6, 0x3f, 0x04, 0xad, 0x56, 0xb3,
					 0x49, 0xe6, 0x21, 0x35, 0x64, 0x80, 0x44, 0xcc };
	const struct xlvs_svc_spec *v;
	struct xlvs_spec s;

	parse_ok(
		SVC
		"    check: { type: http, digest: \"MD5:D78AC63F04AD56B349E62135648044CC\" }\n"
		"    reals:\n"
		"      - { address: 198.18.1.11 }\n"
		"      - { address: 198.18.1.12, check: { body: ready } }\n"
		"      - { address: 198.18.1.13, check: { digest: \"sha256:"
		"2fd2bf770bf2877541238173ed2951a450e843ecc4673b1cbed56dfdded68890\" } }\n"
		"  - vip: 198.18.0.11\n    port: 80\n    protocol: tcp\n"
		"    check: { type: https, body: ok }\n"
		"    reals: [{ address: 198.18.1.21, check: { digest: \"md5:d78ac63f04ad56b349e62135648044cc\" } }]\n",
		&s);
	v = &s.services[0];
	cr_assert_eq(v->health->check.digest_alg, XLVS_DIGEST_MD5, "any case");
	cr_assert_arr_eq(v->health->check.digest, md5, 16);
	cr_assert_null(v->reals[0].check);
	cr_assert_eq(v->reals[1].check->digest_alg, XLVS_DIGEST_NONE, "a real's body replaces the digest");
	cr_assert_str_eq(v->reals[1].check->match, "ready");
	cr_assert_eq(v->reals[2].check->digest_alg, XLVS_DIGEST_SHA256);
	cr_assert_eq(v->reals[2].check->digest[0], 0x2f);
	cr_assert_eq(v->reals[2].check->digest[31], 0x90);
	v = &s.services[1];
	cr_assert_str_eq(v->health->check.match, "ok");
	cr_assert_eq(v->reals[0].check->digest_alg, XLVS_DIGEST_MD5);
	cr_assert_str_eq(v->reals[0].check->match, "", "a real's digest replaces the body");
	cr_assert_arr_eq(v->reals[0].check->digest, md5, 16);
	xlvs_spec_free(&s);
}

Test(config, check_defaults)
{
	struct xlvs_spec s;
	const struct xlvs_check_spec *ck;

	parse_ok(SVC "    check: { type: http }\n", &s);
	ck = &s.services[0].health->check;
	cr_assert_eq(ck->type, XLVS_CHECK_HTTP);
	cr_assert_str_eq(ck->path, "/");
	cr_assert_eq(ck->nr_codes, 0, "no codes: 200-299");
	cr_assert_eq(ck->interval_ms, 2000);
	cr_assert_eq(ck->timeout_ms, 1000);
	cr_assert(!ck->tls_verify);
	cr_assert(ck->initial_up);
	xlvs_spec_free(&s);
}

/* `host`: a name (or an address literal) with an optional port, as the URL carries it. */
Test(config, check_host_forms)
{
	static const char *const good[] = {
		"www.example.org", "www.example.org.", "www.example.org:8080", "localhost",
		"198.18.0.2",	   "198.18.0.2:80",    "[2001:db8::1]",	       "[2001:db8::1]:8443",
		"a-b.c_d.example", "A1.EXAMPLE",
	};
	char yaml[512];
	struct xlvs_spec s;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(yaml, sizeof(yaml), SVC "    check: { type: http, host: \"%s\" }\n", good[i]);
		parse_ok(yaml, &s);
		cr_assert_str_eq(s.services[0].health->check.host, good[i]);
		xlvs_spec_free(&s);
	}
}

/* ---- bounds: nesting depth and file size ----------------------------------------------- */

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* text refused as invalid quickly, with want (a substring) in the formatted error */
static void refused_fast(const char *text, size_t len, int want_ret, const char *want)
{
	struct xlvs_conf_error err;
	struct xlvs_spec s;
	char msg[600];
	double t0 = seconds(), took;
	int ret = xlvs_conf_parse(FILE_NAME, text, len, &s, &err);

	took = seconds() - t0;
	xlvs_conf_error_format(&err, msg, sizeof(msg));
	cr_expect_eq(ret, want_ret, "ret %d (%s)", ret, msg);
	cr_expect_not_null(strstr(msg, want), "error '%s', want '%s'", msg, want);
	cr_expect_lt(took, 1.0, "refused in %.3f s", took);
	spec_is_empty(&s);
}

/* 100,000 levels took libyaml 20 s (quadratic); at most 64 are read now. */
Test(config, deep_nesting_is_refused_fast, .timeout = 60)
{
	size_t n = 100000, i;
	char *y = malloc(2 * n + 16);

	cr_assert_not_null(y);
	for (i = 0; i < n; i++) {
		y[i] = '[';
		y[n + i] = ']';
	}
	y[2 * n] = '\n';
	refused_fast(y, 2 * n + 1, -EINVAL, FILE_NAME ":1:65: nested deeper than 64 levels");
	/* block style: "- - - ... x" */
	for (i = 0; i < n; i++) {
		y[2 * i] = '-';
		y[2 * i + 1] = ' ';
	}
	memcpy(y + 2 * n, "x\n", 2);
	refused_fast(y, 2 * n + 2, -EINVAL, FILE_NAME ":1:129: nested deeper than 64 levels");
	/* 64 levels are YAML the schema refuses for what it is, not for its depth */
	memset(y, 0, 2 * n + 16);
	memset(y, '[', 64);
	memset(y + 64, ']', 64);
	refused_fast(y, 128, -EINVAL, FILE_NAME ":1:1: ");
	cr_expect_null(strstr(y, "nested deeper"));
	free(y);
}

/* More values than the largest configuration has are refused before the document is built. */
Test(config, too_many_values_are_refused, .timeout = 60)
{
	size_t n = 3000001, i;
	char *y = malloc(2 * n + 16);
	struct xlvs_conf_error err;
	struct xlvs_spec s;
	char msg[600];

	cr_assert_not_null(y);
	memcpy(y, "x: [", 4);
	for (i = 0; i < n; i++)
		memcpy(y + 4 + 2 * i, "1,", 2);
	memcpy(y + 4 + 2 * n - 1, "]\n", 2);
	cr_expect_eq(xlvs_conf_parse(FILE_NAME, y, 2 * n + 5, &s, &err), -EINVAL);
	xlvs_conf_error_format(&err, msg, sizeof(msg));
	cr_expect_not_null(strstr(msg, "more than 3000000 values"), "%s", msg);
	spec_is_empty(&s);
	free(y);
}

/* A file over 16 MiB is refused before it is read (64 MiB took 2.7 GB of memory). */
Test(config, oversize_file_is_refused_fast, .timeout = 60)
{
	struct xlvs_conf_error err;
	struct xlvs_spec s;
	char path[] = "/tmp/xlvs-config-XXXXXX", msg[600], want[600];
	double t0, took;
	int fd = mkstemp(path), ret;

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (16 << 20) + 1), 0); /* sparse: one byte over */
	close(fd);
	t0 = seconds();
	ret = xlvs_conf_load(path, &s, &err);
	took = seconds() - t0;
	unlink(path);
	xlvs_conf_error_format(&err, msg, sizeof(msg));
	snprintf(want, sizeof(want), "%s: larger than 16 MiB", path);
	cr_expect_eq(ret, -EFBIG, "ret %d (%s)", ret, msg);
	cr_expect_not_null(strstr(msg, want), "error '%s', want '%s'", msg, want);
	cr_expect_lt(took, 0.5, "refused in %.3f s", took);
	spec_is_empty(&s);
	/* the same bound for text handed to the parser: a comment one byte over */
	char *big = malloc((16u << 20) + 1);

	cr_assert_not_null(big);
	memset(big, '#', (16u << 20) + 1);
	refused_fast(big, (16u << 20) + 1, -EFBIG, FILE_NAME ": larger than 16 MiB");
	free(big);
}
