// SPDX-License-Identifier: GPL-2.0
/*
 * xlvs import ipvsadm|keepalived (cli/import*.c): each row imports one sample
 * of tests/unit/data/import/ (written for these tests after the examples of
 * ipvsadm(8) and keepalived.conf(5)) through xlvs_main(), and expects the exit
 * status, the YAML on stdout and the not-carried lines on stderr exactly; the
 * YAML must then pass what `xlvsd --check` runs (xlvsd_check: parse, the
 * interfaces, the planner). Bad input gets its message and status, no YAML.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "xlvs.h"

struct import_case {
	const char *name;
	const char *kind; /* ipvsadm or keepalived */
	const char *file; /* in tests/unit/data/import/ */
	const char *opts[6];
	int rc;
	const char *yaml; /* stdout; NULL: nothing */
	const char *err;  /* stderr; NULL: nothing */
};

static const struct import_case cases[] = {
	{ .name = "ipvsadm_dr_wlc",
	  .kind = "ipvsadm",
	  .file = "dr-wlc.rules",
	  .opts = { "--interface", "lo" },
	  .rc = 0,
	  .yaml = "# xlvs configuration imported by xlvs import from dr-wlc.rules\n"
		  "interfaces:\n"
		  "  - lo\n"
		  "services:\n"
		  "  - vip: 198.18.0.10\n"
		  "    port: 80\n"
		  "    protocol: tcp\n"
		  "    scheduler: wlc\n"
		  "    reals:\n"
		  "      - address: 198.18.1.11\n"
		  "        weight: 1\n"
		  "      - address: 198.18.1.12\n"
		  "        weight: 2\n"
		  "      - address: 198.18.1.13\n"
		  "        weight: 0\n",
	  .err = NULL },
	{ .name = "ipvsadm_mixed",
	  .kind = "ipvsadm",
	  .file = "mixed.rules",
	  .opts = { "--interface", "lo", "--tunnel-source4", "198.18.0.1" },
	  .rc = 6,
	  .yaml = "# xlvs configuration imported by xlvs import from mixed.rules\n"
		  "interfaces:\n"
		  "  - lo\n"
		  "tunnel:\n"
		  "  source4: 198.18.0.1\n"
		  "services:\n"
		  "  - vip: 198.18.0.10\n"
		  "    port: 443\n"
		  "    protocol: tcp\n"
		  "    scheduler: rr\n"
		  "    persistence: 300s\n"
		  "    persistence_netmask: 255.255.255.0\n"
		  "    reals:\n"
		  "      - address: 198.19.1.11\n"
		  "        weight: 1\n"
		  "        forward: tun\n"
		  "      - address: 198.18.1.13\n"
		  "        weight: 1\n"
		  "        forward: nat\n"
		  "        port: 8443\n"
		  "  - vip: \"2001:db8::10\"\n"
		  "    port: 53\n"
		  "    protocol: udp\n"
		  "    scheduler: mh\n"
		  "    scheduler_flags: [mh-fallback,mh-port]\n"
		  "    reals:\n"
		  "      - address: \"2001:db8:1::11\"\n"
		  "        weight: 3\n"
		  "      - address: \"2001:db8:1::12\"\n"
		  "        weight: 3\n"
		  "  - vip: 198.18.0.20\n"
		  "    port: 0\n"
		  "    protocol: tcp\n"
		  "    scheduler: lc\n"
		  "    persistence: 300s\n"
		  "    reals:\n"
		  "      - address: 198.18.1.22\n"
		  "        weight: 5\n"
		  "  - vip: 198.18.0.30\n"
		  "    port: 4789\n"
		  "    protocol: udp\n"
		  "    scheduler: wrr\n"
		  "    reals:\n"
		  "      - address: 198.19.2.31\n"
		  "        weight: 1\n"
		  "        forward: gue\n"
		  "        gue_port: 6081\n",
	  .err = "mixed.rules:2: not carried: -x 100: xlvs: unknown key 'upper_threshold' in real; the real takes new connections however many it has\n"
		 "mixed.rules:2: not carried: -y 50: xlvs: unknown key 'lower_threshold' in real\n"
		 "mixed.rules:7: not carried: -A -f 1: xlvs has no firewall-mark services (a service is a VIP, protocol and port); its 1 real(s) are left out with it\n"
		 "mixed.rules:8: not carried: -r 198.18.1.11:0 (real of -f 1): its service (mixed.rules:7) is left out\n"
		 "mixed.rules:10: not carried: -w 70000: xlvs: weight: 70000 out of range (0..65535); the real 198.18.1.21 is left out\n"
		 "xlvs import: 5 lines of the input not carried (see above)\n" },
	{ .name = "ipvsadm_edits",
	  .kind = "ipvsadm",
	  .file = "edits.rules",
	  .opts = { "--interface", "lo" },
	  .rc = 6,
	  .yaml = "# xlvs configuration imported by xlvs import from edits.rules\n"
		  "interfaces:\n"
		  "  - lo\n"
		  "timeouts:\n"
		  "  tcp: 3600s\n"
		  "  tcp_fin: 90s\n"
		  "  udp: 60s\n"
		  "services:\n"
		  "  - vip: 198.18.0.40\n"
		  "    port: 25\n"
		  "    protocol: tcp\n"
		  "    scheduler: wlc\n"
		  "    reals:\n"
		  "      - address: 198.18.1.42\n"
		  "        weight: 4\n",
	  .err = "edits.rules:13: not carried: --set: it takes three numbers, tcp tcpfin udp (got 2)\n"
		 "edits.rules:14: not carried: --start-daemon: xlvs has no connection synchronisation daemon (Maglev sends a flow to the same real on every director instead)\n"
		 "xlvs import: 2 lines of the input not carried (see above)\n" },
	{ .name = "ipvsadm_set_timeouts",
	  .kind = "ipvsadm",
	  .file = "set.rules",
	  .opts = { "--interface", "lo" },
	  .rc = 6,
	  .yaml = "# xlvs configuration imported by xlvs import from set.rules\n"
		  "interfaces:\n"
		  "  - lo\n"
		  "timeouts:\n"
		  "  udp: 604800s\n"
		  "services:\n"
		  "  - vip: 198.18.0.40\n"
		  "    port: 25\n"
		  "    protocol: tcp\n"
		  "    scheduler: rr\n"
		  "    reals:\n"
		  "      - address: 198.18.1.41\n"
		  "        weight: 1\n",
	  .err = "set.rules:4: not carried: --set: tcpfin 'x' is not a number of seconds\n"
		 "set.rules:5: not carried: --set: udp 700000 s is more than xlvs's 604800 s (a week)\n"
		 "xlvs import: 2 lines of the input not carried (see above)\n" },
	/* a service left out takes its -a lines with it: each is reported and counted */
	{ .name = "ipvsadm_left_out_service_reals",
	  .kind = "ipvsadm",
	  .file = "left-out.rules",
	  .opts = { "--interface", "lo" },
	  .rc = 6,
	  .yaml = "# xlvs configuration imported by xlvs import from left-out.rules\n"
		  "interfaces:\n"
		  "  - lo\n"
		  "services:\n"
		  "  - vip: 198.18.0.10\n"
		  "    port: 80\n"
		  "    protocol: tcp\n"
		  "    scheduler: rr\n"
		  "    reals:\n"
		  "      - address: 198.18.1.11\n"
		  "        weight: 1\n",
	  .err = "left-out.rules:1: not carried: -A -f 1: xlvs has no firewall-mark services (a service is a VIP, protocol and port); its 2 real(s) are left out with it\n"
		 "left-out.rules:2: not carried: -r 198.18.1.11:0 (real of -f 1): its service (left-out.rules:1) is left out\n"
		 "left-out.rules:3: not carried: -r 198.18.1.12:0 (real of -f 1): its service (left-out.rules:1) is left out\n"
		 "left-out.rules:4: not carried: -A --sctp-service 198.18.0.12:80: xlvs: protocol: unknown protocol 'sctp' (expected tcp or udp); the service (left-out.rules:4, -A --sctp-service 198.18.0.12:80) is left out\n"
		 "left-out.rules:5: not carried: -r 198.18.1.12:80 (real of --sctp-service 198.18.0.12:80): its service (left-out.rules:4) is left out\n"
		 "xlvs import: 5 lines of the input not carried (see above)\n" },
	/* ipvsadm -Sn prints --tun-nocsum for every GUE real by default: xlvs's GUE over IPv4 is that */
	{ .name = "ipvsadm_gue_checksum_options",
	  .kind = "ipvsadm",
	  .file = "gue.rules",
	  .opts = { "--interface", "lo", "--tunnel-source4", "198.18.0.1" },
	  .rc = 6,
	  .yaml = "# xlvs configuration imported by xlvs import from gue.rules\n"
		  "interfaces:\n"
		  "  - lo\n"
		  "tunnel:\n"
		  "  source4: 198.18.0.1\n"
		  "services:\n"
		  "  - vip: 198.18.0.30\n"
		  "    port: 4789\n"
		  "    protocol: udp\n"
		  "    scheduler: wrr\n"
		  "    reals:\n"
		  "      - address: 198.19.2.31\n"
		  "        weight: 1\n"
		  "        forward: gue\n"
		  "        gue_port: 6080\n"
		  "      - address: 198.19.2.32\n"
		  "        weight: 1\n"
		  "        forward: gue\n"
		  "        gue_port: 6080\n"
		  "      - address: 198.19.2.33\n"
		  "        weight: 1\n"
		  "        forward: tun\n",
	  .err = "gue.rules:3: not carried: --tun-csum: xlvs has no GUE checksum options: it sends GUE over IPv4 without a UDP checksum, as --tun-nocsum (IPVS's default) does\n"
		 "xlvs import: 1 line of the input not carried (see above)\n" },
	{ .name = "ipvsadm_unknown_option",
	  .kind = "ipvsadm",
	  .file = "bad-option.rules",
	  .opts = { "--interface", "lo" },
	  .rc = 2,
	  .yaml = NULL,
	  .err = "bad-option.rules:2: unknown option '--weigth' (ipvsadm -Sn prints -A and -a lines)\n" },
	{ .name = "ipvsadm_host_name",
	  .kind = "ipvsadm",
	  .file = "bad-name.rules",
	  .opts = { "--interface", "lo" },
	  .rc = 2,
	  .yaml = NULL,
	  .err = "bad-name.rules:1: 'www.example.org:http' is not a numeric ADDRESS[:PORT] (save the rules with ipvsadm -Sn: -n keeps addresses and ports numeric)\n" },
	{ .name = "ipvsadm_real_before_service",
	  .kind = "ipvsadm",
	  .file = "bad-order.rules",
	  .opts = { "--interface", "lo" },
	  .rc = 2,
	  .yaml = NULL,
	  .err = "bad-order.rules:1: -a: service -t 198.18.0.10:80 is not added before (-A)\n" },
	{ .name = "ipvsadm_tunnel_needs_source",
	  .kind = "ipvsadm",
	  .file = "tunnel.rules",
	  .opts = { "--interface", "lo" },
	  .rc = 1,
	  .yaml = NULL,
	  .err = "tunnel.rules:2: -i: a tunnel to an IPv4 real needs the director's outer source address, which IPVS takes from the route and xlvs from its configuration: pass --tunnel-source4 ADDR\n" },
	{ .name = "ipvsadm_missing_file",
	  .kind = "ipvsadm",
	  .file = "missing.rules",
	  .opts = { "--interface", "lo" },
	  .rc = 2,
	  .yaml = NULL,
	  .err = "missing.rules: cannot open: No such file or directory\n" },
	{ .name = "keepalived_dr_all_carried",
	  .kind = "keepalived",
	  .file = "ka-dr.conf",
	  .opts = { "--interface", "lo" },
	  .rc = 0,
	  .yaml = "# xlvs configuration imported by xlvs import from ka-dr.conf\n"
		  "interfaces:\n"
		  "  - lo\n"
		  "services:\n"
		  "  - vip: 198.18.0.10\n"
		  "    port: 80\n"
		  "    protocol: tcp\n"
		  "    scheduler: wlc\n"
		  "    forward: dr\n"
		  "    reals:\n"
		  "      - address: 198.18.1.11\n"
		  "        weight: 1\n"
		  "        check:\n"
		  "          type: tcp\n"
		  "          interval: 5s\n"
		  "          timeout: 2s\n"
		  "          rise: 1\n"
		  "          fall: 3\n"
		  "      - address: 198.18.1.12\n"
		  "        weight: 3\n"
		  "        check:\n"
		  "          type: http\n"
		  "          interval: 5s\n"
		  "          timeout: 2s\n"
		  "          rise: 1\n"
		  "          fall: 2\n"
		  "          port: 8080\n"
		  "          path: \"/healthz\"\n"
		  "          expect: [\"200\"]\n"
		  "    on_down: quiesce\n",
	  .err = NULL },
	{ .name = "keepalived_full",
	  .kind = "keepalived",
	  .file = "ka-full.conf",
	  .opts = { "--interface", "lo", "--tunnel-source4", "198.18.0.1" },
	  .rc = 6,
	  .yaml = "# xlvs configuration imported by xlvs import from ka-full.conf\n"
		  "interfaces:\n"
		  "  - lo\n"
		  "tunnel:\n"
		  "  source4: 198.18.0.1\n"
		  "services:\n"
		  "  - vip: 198.18.0.10\n"
		  "    port: 443\n"
		  "    protocol: tcp\n"
		  "    scheduler: wlc\n"
		  "    forward: tun\n"
		  "    persistence: 50s\n"
		  "    persistence_netmask: 255.255.255.0\n"
		  "    sorry:\n"
		  "      address: 198.19.9.99\n"
		  "      forward: tun\n"
		  "    quorum:\n"
		  "      weight: 2\n"
		  "      hysteresis: 1\n"
		  "    reals:\n"
		  "      - address: 198.19.1.11\n"
		  "        weight: 2\n"
		  "        check:\n"
		  "          type: https\n"
		  "          interval: 6s\n"
		  "          timeout: 3s\n"
		  "          rise: 1\n"
		  "          fall: 4\n"
		  "          initial: down\n"
		  "          path: \"/status\"\n"
		  "          digest: \"md5:640205b7b0fc66c1ea91c463fac6334d\"\n"
		  "          host: \"www.example.org\"\n"
		  "      - address: 198.19.1.12\n"
		  "        weight: 1\n"
		  "        check:\n"
		  "          type: exec\n"
		  "          interval: 6s\n"
		  "          timeout: 2500ms\n"
		  "          rise: 1\n"
		  "          fall: 1\n"
		  "          initial: down\n"
		  "          command: \"/usr/local/bin/check 198.19.1.12\"\n"
		  "    on_down: remove\n"
		  "  - vip: 198.18.0.20\n"
		  "    port: 53\n"
		  "    protocol: udp\n"
		  "    scheduler: wlc\n"
		  "    forward: nat\n"
		  "    reals:\n"
		  "      - address: 198.18.2.21\n"
		  "        weight: 1\n"
		  "        port: 5300\n"
		  "  - vip: 198.18.0.21\n"
		  "    port: 53\n"
		  "    protocol: udp\n"
		  "    scheduler: wlc\n"
		  "    forward: nat\n"
		  "    reals:\n"
		  "      - address: 198.18.2.21\n"
		  "        weight: 1\n"
		  "        port: 5300\n"
		  "  - vip: 198.18.0.30\n"
		  "    port: 53\n"
		  "    protocol: udp\n"
		  "    scheduler: wlc\n"
		  "    forward: dr\n"
		  "    reals:\n"
		  "      - address: 198.18.2.31\n"
		  "        weight: 1\n"
		  "        check:\n"
		  "          type: icmp\n"
		  "          interval: 1s\n"
		  "          rise: 1\n"
		  "          fall: 2\n"
		  "    on_down: remove\n",
	  .err = "ka-full.conf:2: not carried: global_defs: xlvs import carries virtual_server blocks only\n"
		 "ka-full.conf:6: not carried: vrrp_instance: xlvs has no VRRP: keep keepalived (or another VRRP daemon) moving the VIPs\n"
		 "ka-full.conf:35: not carried: url: xlvs checks one URL per real: only the first url block is carried\n"
		 "ka-full.conf:41: not carried: delay_before_retry: xlvs retries at the check's interval (fall counts the failures)\n"
		 "ka-full.conf:43: not carried: TCP_CHECK: xlvs runs one check per real: only the first checker is carried\n"
		 "ka-full.conf:50: not carried: notify_down: xlvs's notify hooks are per service (notify: {up, down}, with XLVS_REAL)\n"
		 "ka-full.conf:54: not carried: misc_dynamic: xlvs's checks have no such setting\n"
		 "ka-full.conf:59: not carried: virtual_server fwmark: xlvs has no firewall-mark services (a service is a VIP, protocol and port); its reals are left out with it\n"
		 "ka-full.conf:68: not carried: fwmark: xlvs has no firewall-mark services\n"
		 "ka-full.d/dns.conf:11: not carried: the real's port: xlvs: port: 5353 differs from the service port 53 (dr, tun, gue and local keep the destination port; nat and fullnat may change it); the real is sent the service's port, as IPVS does with DR and TUN\n"
		 "ka-full.d/dns.conf:15: not carried: connect_timeout 2: xlvs: timeout: 2000ms is longer than the interval (1000ms); the check uses xlvs's default timeout\n"
		 "xlvs import: 11 lines of the input not carried (see above)\n" },
	/* keepalived's defaults (wlc, NAT, UDP) and its ignoring "dr"/"tun", as `keepalived -t` 2.2.7 reports them */
	{ .name = "keepalived_defaults",
	  .kind = "keepalived",
	  .file = "ka-defaults.conf",
	  .opts = { "--interface", "lo" },
	  .rc = 6,
	  .yaml = "# xlvs configuration imported by xlvs import from ka-defaults.conf\n"
		  "interfaces:\n"
		  "  - lo\n"
		  "services:\n"
		  "  - vip: 198.18.0.50\n"
		  "    port: 53\n"
		  "    protocol: udp\n"
		  "    scheduler: wlc\n"
		  "    forward: nat\n"
		  "    sorry:\n"
		  "      address: 198.18.1.59\n"
		  "      forward: nat\n"
		  "    reals:\n"
		  "      - address: 198.18.1.51\n"
		  "        weight: 1\n"
		  "        port: 5353\n"
		  "  - vip: 198.18.0.51\n"
		  "    port: 80\n"
		  "    protocol: tcp\n"
		  "    scheduler: rr\n"
		  "    forward: nat\n"
		  "    reals:\n"
		  "      - address: 198.18.1.52\n"
		  "        port: 8080\n",
	  .err = "ka-defaults.conf:12: not carried: lb_kind dr: keepalived takes NAT, DR or TUN, in capitals, and ignored this line: the service uses its default, NAT\n"
		 "ka-defaults.conf:15: not carried: lvs_method tun: keepalived takes NAT, DR or TUN, in capitals, and ignored this line: the real uses the service's method\n"
		 "xlvs import: 2 lines of the input not carried (see above)\n" },
	/* keepalived's 360 s persistence: a bare persistence_timeout, a granularity alone, port 0 */
	{ .name = "keepalived_persistence_defaults",
	  .kind = "keepalived",
	  .file = "ka-persist.conf",
	  .opts = { "--interface", "lo" },
	  .rc = 0,
	  .yaml = "# xlvs configuration imported by xlvs import from ka-persist.conf\n"
		  "interfaces:\n"
		  "  - lo\n"
		  "services:\n"
		  "  - vip: 198.18.0.60\n"
		  "    port: 443\n"
		  "    protocol: tcp\n"
		  "    scheduler: rr\n"
		  "    forward: dr\n"
		  "    persistence: 360s\n"
		  "    reals:\n"
		  "      - address: 198.18.1.61\n"
		  "        weight: 1\n"
		  "  - vip: 198.18.0.61\n"
		  "    port: 443\n"
		  "    protocol: tcp\n"
		  "    scheduler: rr\n"
		  "    forward: dr\n"
		  "    persistence: 360s\n"
		  "    persistence_netmask: 255.255.255.0\n"
		  "    reals:\n"
		  "      - address: 198.18.1.61\n"
		  "        weight: 1\n"
		  "  - vip: 198.18.0.62\n"
		  "    port: 0\n"
		  "    protocol: tcp\n"
		  "    scheduler: rr\n"
		  "    forward: dr\n"
		  "    persistence: 360s\n"
		  "    reals:\n"
		  "      - address: 198.18.1.61\n"
		  "        weight: 1\n",
	  .err = NULL },
	/* a checker's timers from its real_server first, then its virtual_server (keepalived 2.x) */
	{ .name = "keepalived_real_server_timers",
	  .kind = "keepalived",
	  .file = "ka-rslevel.conf",
	  .opts = { "--interface", "lo" },
	  .rc = 0,
	  .yaml = "# xlvs configuration imported by xlvs import from ka-rslevel.conf\n"
		  "interfaces:\n"
		  "  - lo\n"
		  "services:\n"
		  "  - vip: 198.18.0.70\n"
		  "    port: 80\n"
		  "    protocol: tcp\n"
		  "    scheduler: rr\n"
		  "    forward: dr\n"
		  "    reals:\n"
		  "      - address: 198.18.1.71\n"
		  "        check:\n"
		  "          type: tcp\n"
		  "          interval: 10s\n"
		  "          timeout: 3s\n"
		  "          rise: 1\n"
		  "          fall: 3\n"
		  "          initial: down\n"
		  "      - address: 198.18.1.72\n"
		  "        check:\n"
		  "          type: tcp\n"
		  "          interval: 20s\n"
		  "          timeout: 2s\n"
		  "          rise: 1\n"
		  "          fall: 2\n"
		  "    on_down: remove\n",
	  .err = NULL },
	/*
	 * keepalived 2.x's tunnel options: GUE is GUE with its port; a refused option list (gue
	 * without port, as `keepalived -t` 2.2.7 says) leaves the TUN it set before, IPIP. A sorry
	 * server's own method is written even when it is DR (xlvs's sorry takes the service's).
	 */
	{ .name = "keepalived_tunnel_types",
	  .kind = "keepalived",
	  .file = "ka-tunnels.conf",
	  .opts = { "--interface", "lo", "--tunnel-source4", "198.18.0.1" },
	  .rc = 6,
	  .yaml = "# xlvs configuration imported by xlvs import from ka-tunnels.conf\n"
		  "interfaces:\n"
		  "  - lo\n"
		  "tunnel:\n"
		  "  source4: 198.18.0.1\n"
		  "services:\n"
		  "  - vip: 198.18.0.96\n"
		  "    port: 4789\n"
		  "    protocol: udp\n"
		  "    scheduler: rr\n"
		  "    forward: gue\n"
		  "    gue_port: 6080\n"
		  "    sorry:\n"
		  "      address: 198.19.9.96\n"
		  "      forward: gue\n"
		  "      gue_port: 6080\n"
		  "    reals:\n"
		  "      - address: 198.19.1.96\n"
		  "        weight: 2\n"
		  "      - address: 198.19.1.97\n"
		  "        forward: gue\n"
		  "        gue_port: 7000\n"
		  "      - address: 198.19.1.98\n"
		  "        forward: tun\n"
		  "      - address: 198.19.1.99\n"
		  "        forward: tun\n"
		  "  - vip: 198.18.0.97\n"
		  "    port: 80\n"
		  "    protocol: tcp\n"
		  "    scheduler: rr\n"
		  "    forward: nat\n"
		  "    sorry:\n"
		  "      address: 198.18.9.97\n"
		  "      forward: dr\n"
		  "    reals:\n"
		  "      - address: 198.18.1.97\n"
		  "        port: 8080\n",
	  .err = "ka-tunnels.conf:11: not carried: csum: xlvs has no GUE checksum options: it sends GUE over IPv4 without a UDP checksum, as nocsum (keepalived's default) does\n"
		 "ka-tunnels.conf:17: not carried: lvs_method TUN type gue: keepalived refuses these tunnel options (gue tunnels require port, otherwise cannot have port) and keeps the TUN (IPIP) the line sets\n"
		 "xlvs import: 2 lines of the input not carried (see above)\n" },
	/* sh-port etc. are ipvsadm's -b; a virtual_server's weight is its reals' default (keepalived 2.x) */
	{ .name = "keepalived_sched_flags_and_weight",
	  .kind = "keepalived",
	  .file = "ka-flags.conf",
	  .opts = { "--interface", "lo" },
	  .rc = 6,
	  .yaml = "# xlvs configuration imported by xlvs import from ka-flags.conf\n"
		  "interfaces:\n"
		  "  - lo\n"
		  "services:\n"
		  "  - vip: 198.18.0.98\n"
		  "    port: 80\n"
		  "    protocol: tcp\n"
		  "    scheduler: sh\n"
		  "    forward: dr\n"
		  "    scheduler_flags:\n"
		  "      - sh-port\n"
		  "      - sh-fallback\n"
		  "    reals:\n"
		  "      - address: 198.18.1.98\n"
		  "        weight: 3\n"
		  "      - address: 198.18.1.99\n"
		  "        weight: 1\n"
		  "  - vip: 198.18.0.99\n"
		  "    port: 53\n"
		  "    protocol: udp\n"
		  "    scheduler: rr\n"
		  "    forward: dr\n"
		  "    reals:\n"
		  "      - address: 198.18.1.98\n",
	  .err = "ka-flags.conf:17: not carried: mh-port: xlvs: scheduler_flags: 'mh-port' is a flag of the mh scheduler, not of rr\n"
		 "ka-flags.conf:20: not carried: ops: xlvs has no one-packet scheduling (each UDP flow keeps its real)\n"
		 "xlvs import: 2 lines of the input not carried (see above)\n" },
	/* a virtual_server group NAME block stands for each VIP, but its lines are reported once */
	{ .name = "keepalived_group_reports_once",
	  .kind = "keepalived",
	  .file = "ka-group.conf",
	  .opts = { "--interface", "lo" },
	  .rc = 6,
	  .yaml = "# xlvs configuration imported by xlvs import from ka-group.conf\n"
		  "interfaces:\n"
		  "  - lo\n"
		  "services:\n"
		  "  - vip: 198.18.0.20\n"
		  "    port: 80\n"
		  "    protocol: tcp\n"
		  "    scheduler: rr\n"
		  "    forward: dr\n"
		  "    reals:\n"
		  "      - address: 198.18.1.21\n"
		  "        check:\n"
		  "          type: tcp\n"
		  "          interval: 60s\n"
		  "          timeout: 5s\n"
		  "          rise: 1\n"
		  "          fall: 2\n"
		  "    on_down: remove\n"
		  "  - vip: 198.18.0.21\n"
		  "    port: 80\n"
		  "    protocol: tcp\n"
		  "    scheduler: rr\n"
		  "    forward: dr\n"
		  "    reals:\n"
		  "      - address: 198.18.1.21\n"
		  "        check:\n"
		  "          type: tcp\n"
		  "          interval: 60s\n"
		  "          timeout: 5s\n"
		  "          rise: 1\n"
		  "          fall: 2\n"
		  "    on_down: remove\n"
		  "  - vip: 198.18.0.22\n"
		  "    port: 80\n"
		  "    protocol: tcp\n"
		  "    scheduler: rr\n"
		  "    forward: dr\n"
		  "    reals:\n"
		  "      - address: 198.18.1.21\n"
		  "        check:\n"
		  "          type: tcp\n"
		  "          interval: 60s\n"
		  "          timeout: 5s\n"
		  "          rise: 1\n"
		  "          fall: 2\n"
		  "    on_down: remove\n",
	  .err = "ka-group.conf:10: not carried: notify_down: xlvs's notify hooks are per service (notify: {up, down}, with XLVS_REAL)\n"
		 "ka-group.conf:11: not carried: lvs_method dr: keepalived takes NAT, DR or TUN, in capitals, and ignored this line: the real uses the service's method\n"
		 "ka-group.conf:13: not carried: delay_before_retry: xlvs retries at the check's interval (fall counts the failures)\n"
		 "xlvs import: 3 lines of the input not carried (see above)\n" },
	/* MISC_CHECK's default retry is 0, not 1 (keepalived's check_misc.c) */
	{ .name = "keepalived_misc_check_retry",
	  .kind = "keepalived",
	  .file = "ka-misc.conf",
	  .opts = { "--interface", "lo" },
	  .rc = 0,
	  .yaml = "# xlvs configuration imported by xlvs import from ka-misc.conf\n"
		  "interfaces:\n"
		  "  - lo\n"
		  "services:\n"
		  "  - vip: 198.18.0.44\n"
		  "    port: 80\n"
		  "    protocol: tcp\n"
		  "    scheduler: rr\n"
		  "    forward: dr\n"
		  "    reals:\n"
		  "      - address: 198.18.1.44\n"
		  "        check:\n"
		  "          type: exec\n"
		  "          interval: 60s\n"
		  "          timeout: 60s\n"
		  "          rise: 1\n"
		  "          fall: 1\n"
		  "          command: \"/usr/local/bin/check web 1\"\n"
		  "      - address: 198.18.1.45\n"
		  "        check:\n"
		  "          type: exec\n"
		  "          interval: 60s\n"
		  "          timeout: 3s\n"
		  "          rise: 1\n"
		  "          fall: 3\n"
		  "          command: \"/usr/local/bin/check\"\n"
		  "    on_down: remove\n",
	  .err = NULL },
	/* a group entry without a port (port 0) makes the whole virtual_server persistent, as `keepalived -t` says */
	{ .name = "keepalived_group_entry_without_port",
	  .kind = "keepalived",
	  .file = "ka-vsg.conf",
	  .opts = { "--interface", "lo" },
	  .rc = 0,
	  .yaml = "# xlvs configuration imported by xlvs import from ka-vsg.conf\n"
		  "interfaces:\n"
		  "  - lo\n"
		  "services:\n"
		  "  - vip: 198.18.0.23\n"
		  "    port: 0\n"
		  "    protocol: tcp\n"
		  "    scheduler: rr\n"
		  "    forward: dr\n"
		  "    persistence: 360s\n"
		  "    reals:\n"
		  "      - address: 198.18.1.21\n"
		  "  - vip: 198.18.0.24\n"
		  "    port: 80\n"
		  "    protocol: tcp\n"
		  "    scheduler: rr\n"
		  "    forward: dr\n"
		  "    persistence: 360s\n"
		  "    reals:\n"
		  "      - address: 198.18.1.21\n",
	  .err = NULL },
	{ .name = "keepalived_unclosed_block",
	  .kind = "keepalived",
	  .file = "ka-unclosed.conf",
	  .opts = { "--interface", "lo" },
	  .rc = 2,
	  .yaml = NULL,
	  .err = "ka-unclosed.conf:1: 'virtual_server {' is not closed ('}' missing)\n" },
	{ .name = "keepalived_extra_brace",
	  .kind = "keepalived",
	  .file = "ka-extra-brace.conf",
	  .opts = { "--interface", "lo" },
	  .rc = 2,
	  .yaml = NULL,
	  .err = "ka-extra-brace.conf:4: '}' closes no block\n" },
	{ .name = "keepalived_missing_file",
	  .kind = "keepalived",
	  .file = "missing.conf",
	  .opts = { "--interface", "lo" },
	  .rc = 2,
	  .yaml = NULL,
	  .err = "missing.conf: cannot open: No such file or directory\n" },
	{ .name = "keepalived_duplicate_service_and_ipv6_tunnel",
	  .kind = "keepalived",
	  .file = "ka-duplicate.conf",
	  .opts = { "--interface", "lo", "--tunnel-source6", "2001:db8::1" },
	  .rc = 6,
	  .yaml = "# xlvs configuration imported by xlvs import from ka-duplicate.conf\n"
		  "interfaces:\n"
		  "  - lo\n"
		  "tunnel:\n"
		  "  source6: \"2001:db8::1\"\n"
		  "services:\n"
		  "  - vip: 198.18.0.10\n"
		  "    port: 80\n"
		  "    protocol: udp\n"
		  "    scheduler: wlc\n"
		  "    forward: nat\n"
		  "    reals:\n"
		  "      - address: 198.18.1.1\n"
		  "        weight: 2\n"
		  "  - vip: \"2001:db8::10\"\n"
		  "    port: 80\n"
		  "    protocol: udp\n"
		  "    scheduler: wlc\n"
		  "    forward: tun\n"
		  "    reals:\n"
		  "      - address: \"2001:db8:1::2\"\n"
		  "        weight: 1\n",
	  .err = "ka-duplicate.conf:4: not carried: virtual_server 198.18.0.10 80: xlvs: duplicate service udp 198.18.0.10:80 (first at ka-duplicate.conf:1); the service (ka-duplicate.conf:4, virtual_server 198.18.0.10 80) is left out\n"
		 "ka-duplicate.conf:5: not carried: real_server 198.18.1.2 80: its service (ka-duplicate.conf:4) is left out\n"
		 "xlvs import: 2 lines of the input not carried (see above)\n" },
};

#define NR_CASES (sizeof(cases) / sizeof(cases[0]))

struct run {
	int rc;
	char *out, *err;
	size_t out_len, err_len;
};

/* The samples' folder, next to this file: file names in messages stay as the rows write them. */
static void enter_data_dir(void)
{
	char src[] = __FILE__, dir[4096];

	snprintf(dir, sizeof(dir), "%s/data/import", dirname(src));
	cr_assert_eq(chdir(dir), 0, "cannot enter %s (run the unit tests from the repository's root)", dir);
}

/* xlvs import KIND [FILE] WORDS... (file NULL: none) */
static struct run import(const char *kind, const char *file, const char *const *words)
{
	char *argv[16] = { (char *)"xlvs", (char *)"import", (char *)kind };
	struct run r = { 0 };
	FILE *out = open_memstream(&r.out, &r.out_len), *err = open_memstream(&r.err, &r.err_len);
	int argc = 3;

	cr_assert(out && err);
	if (file)
		argv[argc++] = (char *)file;
	for (; *words && argc < 15; words++)
		argv[argc++] = (char *)*words;
	r.rc = xlvs_main(argc, argv, out, err);
	fclose(out);
	fclose(err);
	return r;
}

/* What `xlvsd --check -c FILE` runs, on the YAML written; pins that cannot exist. */
static void assert_checks(const char *name, const char *yaml)
{
	char path[] = "/tmp/xlvs-import-XXXXXX";
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
	cr_expect_eq(xlvsd_check(path, "/nonexistent/xlvs-import-test"), XLVSD_EXIT_OK,
		     "%s: xlvsd --check refuses the YAML written", name);
	unlink(path);
}

ParameterizedTestParameters(import, samples)
{
	static size_t idx[NR_CASES];
	size_t i;

	for (i = 0; i < NR_CASES; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NR_CASES);
}

ParameterizedTest(size_t *i, import, samples)
{
	const struct import_case *c = &cases[*i];
	struct run r;

	enter_data_dir();
	r = import(c->kind, c->file, c->opts);
	cr_expect_str_eq(r.err, c->err ? c->err : "", "%s: stderr", c->name);
	cr_expect_str_eq(r.out, c->yaml ? c->yaml : "", "%s: stdout", c->name);
	cr_expect_eq(r.rc, c->rc, "%s: exit %d, expected %d", c->name, r.rc, c->rc);
	if (c->yaml)
		assert_checks(c->name, c->yaml);
	free(r.out);
	free(r.err);
}

/* Without --interface the output names eth0 and says so; the status is not changed by it. */
Test(import, default_interface_is_noted)
{
	const char *none[] = { NULL };
	struct run r;

	enter_data_dir();
	r = import("keepalived", "ka-dr.conf", none);
	cr_expect_eq(r.rc, 0, "exit %d: %s", r.rc, r.err);
	cr_expect_str_eq(
		r.err,
		"ka-dr.conf: note: interfaces: eth0 written (the input names none; pass --interface)\n");
	cr_expect(strstr(r.out, "interfaces:\n  - eth0\n") != NULL, "%s", r.out);
	free(r.out);
	free(r.err);
}

/* Usage errors: exit 1, no YAML. */
Test(import, usage)
{
	static const char *const bad[][4] = {
		{ "keepalived", NULL },			  /* no FILE */
		{ "ipvsadm", "--bogus", NULL },		  /* no such option */
		{ "ipvsadm", "-", "dr-wlc.rules", NULL }, /* two inputs */
		{ "ipvsadm", "dr-wlc.rules", "--interface", NULL },
	};
	size_t i;

	enter_data_dir();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct run r = import(bad[i][0], NULL, &bad[i][1]);

		cr_expect_eq(r.rc, 1, "row %zu: exit %d: %s", i, r.rc, r.err);
		cr_expect_str_empty(r.out, "row %zu", i);
		free(r.out);
		free(r.err);
	}
}

/*
 * 1100 services: their default rings (65537 slots each) would not fit the 67108864 slots all
 * rings may have, so each gets the largest prime that fits, 61007 (67108864 / 1100 = 61008),
 * and the result passes xlvsd --check (the planner included).
 */
Test(import, many_services_get_rings_that_fit)
{
	const char *words[] = { "--interface", "lo", NULL };
	char path[] = "/tmp/xlvs-import-rules-XXXXXX";
	const char *note = "note: ring_size: 61007 written in each of the 1100 services (65537 slots each "
			   "would total more than the 67108864 all rings may have)\n";
	int fd = mkstemp(path), i;
	FILE *f;
	struct run r;

	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	cr_assert(f);
	for (i = 0; i < 1100; i++)
		fprintf(f, "-A -t 198.18.%d.%d:80 -s wlc\n-a -t 198.18.%d.%d:80 -r 198.19.0.1:80 -g -w 1\n",
			i / 200, i % 200 + 1, i / 200, i % 200 + 1);
	fclose(f);
	r = import("ipvsadm", path, words);
	unlink(path);
	cr_expect_eq(r.rc, 0, "exit %d (every line carried)", r.rc);
	cr_expect(strstr(r.err, note) != NULL, "%s", r.err);
	cr_expect(strstr(r.out, "    ring_size: 61007\n") != NULL);
	assert_checks("1100 services", r.out);
	free(r.out);
	free(r.err);
}
