#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# NAT side by side (part of make bench; `make bench-nat` alone): the same namespaces, the same
# three reals and the same workload through two directors in turn,
#   nft           the kernel's own NAT load balancer: nftables DNAT with `jhash ... mod 3 map`,
#                 replies translated back by conntrack;
#   xlvs          xlvsd with `forward: nat` (XDP, one-armed: XDP_TX both ways);
#   nft-fullnat   as nft, plus SNAT of the client to the director's pool 198.18.0.2-5;
#   xlvs-fullnat  xlvsd with `forward: fullnat` and the same pool.
# In the nat modes the reals' default route is the director; in the fullnat modes they have no
# route beyond their LAN (replies go to the pool address, which the director owns).
# Workload (tests/bench/nat-load.c): short TCP connections (requests/s, one request each) and a
# UDP flood over many flows (datagrams/s that reach the reals, counted by an nftables ingress
# counter in each real). Each round builds the topology afresh for each director, so no
# conntrack or map state carries over; rounds alternate nft, xlvs, nft, xlvs... so drift on the
# shared machine hits both. Writes $BUILD/bench-nat.json. Method and limits: docs/bench.md.
#
#   client 198.18.2.100-115 --+                              reals' default route: the director
#   director 198.18.0.1,      +-- br0 (netns ...-sw) --+-- real1..3 198.18.0.11-13, :80 tcp,
#            198.18.2.1 ------+                             :9000 udp (counted, dropped)
#   VIP 198.18.1.10 routed to the director by the client.
#
# Environment: SECONDS_RUN (per measurement, default 6), ROUNDS (default 3), CONC (TCP
# connections at once, 64), FLOWS (UDP flows, 1024), MODES (default "nft xlvs nft-fullnat
# xlvs-fullnat"; "nft nft-fullnat" measures the harness without xlvs), XDP_MODE (native or
# generic, default native).
# Exit: 0 done, 1 a setup or measuring failure (message on stderr).
set -u
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
E2E_ID=nat$$
E2E_DIR=$(mktemp -d -t xlvs-bench-nat.XXXX)
# shellcheck source=../e2e/lib.sh
. "$REPO/tests/e2e/lib.sh" # namespace names, plug, in_ns, need, sysctl_ns, topo_down
SECONDS_RUN=${SECONDS_RUN:-6} ROUNDS=${ROUNDS:-3} CONC=${CONC:-64} FLOWS=${FLOWS:-1024}
MODES=${MODES:-nft xlvs nft-fullnat xlvs-fullnat} XDP_MODE=${XDP_MODE:-native}
LOAD=$BUILD/bench/nat-load
LB_LAN=198.18.0.1 LB_CL=198.18.2.1 VIP=198.18.1.10 UDP_PORT=9000
POOL=(198.18.0.2 198.18.0.3 198.18.0.4 198.18.0.5) # fullnat sources, owned by the director
CLIENTS=() # 198.18.2.100 .. 198.18.2.115: sources round-robin
for i in $(seq 100 115); do CLIENTS+=("198.18.2.$i"); done
PIN=/sys/fs/bpf/xlvs-bench-nat-$$
XLVSD_PID=

cleanup() {
	[ -n "$XLVSD_PID" ] && kill "$XLVSD_PID" 2>/dev/null && sleep 0.3
	topo_down >/dev/null 2>&1
	rm -rf "$PIN"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
die() { echo "bench-nat: $*" >&2; exit 1; }
pin_dirs_clean bench-nat '^xlvs-bench-nat-([1-9][0-9]*)$' # what killed runs left (lib.sh has it)

# Pinned: the generators on CPU 1, the servers on CPU 0 (the kernel's forwarding work runs
# mostly in softirq on the CPU that sends, so it follows the generator).
pin() { local cpu=$1; shift; taskset -c "$cpu" "$@"; }

# eth0's MAC in a namespace (nsenter keeps the host's /sys: ask the namespace's netlink).
mac_of() { ip -n "$1" link show eth0 | awk '/link\/ether/ { print $2 }'; }

# topo MODE: the namespaces, addresses, routes, servers and counters for one measurement.
topo() {
	local mode=$1 i mac
	ip netns add "$NS_SW" && ip netns add "$NS_CL" && ip netns add "$NS_LB" || die "netns add"
	for i in 0 1 2; do ip netns add "${NS_R[$i]}" || die "netns add"; done
	in_ns "$NS_SW" ip link add br0 type bridge
	in_ns "$NS_SW" ip link set br0 up
	plug "$NS_CL" "cl-$E2E_ID" 1500
	plug "$NS_LB" "lb-$E2E_ID" 1500
	for i in 0 1 2; do plug "${NS_R[$i]}" "r$((i + 1))-$E2E_ID" 1500; done
	# Full checksums on the wire (the XDP director sees what a NIC would give it).
	for ns in "$NS_CL" "${NS_R[@]}"; do in_ns "$ns" ethtool -K eth0 tx off >/dev/null; done
	for i in "${CLIENTS[@]}"; do in_ns "$NS_CL" ip addr add "$i/24" dev eth0; done
	in_ns "$NS_CL" ip route add 198.18.1.0/24 via $LB_CL
	in_ns "$NS_LB" ip addr add $LB_LAN/24 dev eth0
	in_ns "$NS_LB" ip addr add $LB_CL/24 dev eth0
	for i in "${POOL[@]}"; do in_ns "$NS_LB" ip addr add "$i/24" dev eth0; done
	sysctl_ns "$NS_LB" net.ipv4.ip_forward 1
	sysctl_ns "$NS_LB" net.ipv4.conf.all.send_redirects 0
	sysctl_ns "$NS_LB" net.ipv4.conf.eth0.send_redirects 0
	for i in 0 1 2; do
		in_ns "${NS_R[$i]}" ip addr add "${REAL4[$i]}/24" dev eth0
		[ "${mode%-fullnat}" = "$mode" ] && in_ns "${NS_R[$i]}" ip route add default via $LB_LAN
		in_ns "${NS_R[$i]}" nft -f - <<-EOF || die "nft counter on real$((i + 1))"
			table netdev bench {
				chain in {
					type filter hook ingress device eth0 priority 0;
					udp dport $UDP_PORT counter drop
				}
			}
		EOF
		(pin 0 nsenter --net=/run/netns/"${NS_R[$i]}" "$LOAD" serve -p 80 -n "real$((i + 1))" \
			>/dev/null 2>&1 &)
	done
	# Native XDP_TX on a veth needs an XDP program on its peer; in both modes, for equal paths.
	ip -n "$NS_SW" link set dev "lb-$E2E_ID" xdp obj "$BUILD/tests/xdp_pass.bpf.o" sec xdp ||
		die "xdp_pass on the switch port"
	# Neighbours known up front (one MAC for all the client's addresses): no ARP while measuring.
	mac=$(mac_of "$NS_CL")
	for i in "${CLIENTS[@]}"; do in_ns "$NS_LB" ip neigh replace "$i" lladdr "$mac" dev eth0 nud permanent; done
	for i in 0 1 2; do
		mac=$(mac_of "${NS_R[$i]}")
		in_ns "$NS_LB" ip neigh replace "${REAL4[$i]}" lladdr "$mac" dev eth0 nud permanent
	done
	mac=$(mac_of "$NS_LB")
	in_ns "$NS_CL" ip neigh replace $LB_CL lladdr "$mac" dev eth0 nud permanent
	for i in 0 1 2; do
		for a in $LB_LAN "${POOL[@]}"; do
			in_ns "${NS_R[$i]}" ip neigh replace "$a" lladdr "$mac" dev eth0 nud permanent
		done
	done
}

# director_nft [fullnat]: DNAT by a hash of the client's address and port; fullnat also SNATs
# what was DNATed to the pool (the kernel picks address and port, keeping tuples unique).
director_nft() {
	local map="0 : ${REAL4[0]}, 1 : ${REAL4[1]}, 2 : ${REAL4[2]}" snat=
	[ "${1:-}" = fullnat ] && snat="ct status dnat snat to ${POOL[0]}-${POOL[3]}"
	in_ns "$NS_LB" nft -f - <<-EOF || die "nftables DNAT ruleset refused"
		table ip lb {
			chain pre {
				type nat hook prerouting priority dstnat; policy accept;
				ip daddr $VIP tcp dport 80 dnat to jhash ip saddr . tcp sport mod 3 seed 0x5eed map { $map }
				ip daddr $VIP udp dport $UDP_PORT dnat to jhash ip saddr . udp sport mod 3 seed 0x5eed map { $map }
			}
			chain post {
				type nat hook postrouting priority srcnat; policy accept;
				$snat
			}
		}
	EOF
}

director_nft-fullnat() { director_nft fullnat; }

# director_xlvs [fullnat]: xlvsd with the two services forwarding by nat (or fullnat, its pool
# the same four addresses as nft-fullnat's).
director_xlvs() {
	local fwd=${1:-nat} r reals='' pool=''
	for r in "${REAL4[@]}"; do reals="$reals${reals:+, }{ address: $r }"; done
	[ "$fwd" = fullnat ] && pool="fullnat: { pool: [ ${POOL[0]}, ${POOL[1]}, ${POOL[2]}, ${POOL[3]} ] }"
	cat >"$E2E_DIR/xlvs.yaml" <<-EOF
		interfaces: [eth0]
		xdp_mode: $XDP_MODE
		metrics: off
		$pool
		services:
		  - { vip: $VIP, port: 80, protocol: tcp, forward: $fwd, reals: [ $reals ] }
		  - { vip: $VIP, port: $UDP_PORT, protocol: udp, forward: $fwd, reals: [ $reals ] }
	EOF
	in_ns "$NS_LB" "$BUILD/xlvsd" --check -c "$E2E_DIR/xlvs.yaml" >"$E2E_DIR/check" 2>&1 ||
		die "xlvsd refuses the $fwd configuration ($(tail -1 "$E2E_DIR/check")): is NAT built in?"
	nsenter --net=/run/netns/"$NS_LB" "$BUILD/xlvsd" -c "$E2E_DIR/xlvs.yaml" --pin-dir "$PIN" \
		--socket "$E2E_DIR/sock" >"$E2E_DIR/xlvsd.log" 2>&1 &
	XLVSD_PID=$!
	for _ in $(seq 100); do grep -q "info: ready" "$E2E_DIR/xlvsd.log" && return 0; sleep 0.1; done
	cat "$E2E_DIR/xlvsd.log" >&2
	die "xlvsd did not start"
}

director_xlvs-fullnat() { director_xlvs fullnat; }

udp_received() {
	local i n total=0
	for i in 0 1 2; do
		n=$(in_ns "${NS_R[$i]}" nft list chain netdev bench in | grep -o 'packets [0-9]*' | cut -d' ' -f2)
		total=$((total + ${n:-0}))
	done
	echo $total
}

# kv LINE KEY: the value of KEY in nat-load's last "key=value ..." line.
kv() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }

# CPU seconds (user + system) the reals' servers have used: the replies' whole path (through
# the director, to the client's socket) runs in their context, as the requests' runs in the client's.
servers_cpu() {
	local i pid ticks=0
	for i in 0 1 2; do
		for pid in $(ip netns pids "${NS_R[$i]}"); do
			ticks=$((ticks + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
		done
	done
	calc "$ticks / $(getconf CLK_TCK)"
}

# measure MODE ROUND: one fresh topology, MODE's director, TCP then UDP; appends to RESULTS
# "mode round requests tcp_seconds failed tcp_cpu_s sent received udp_seconds udp_cpu_s".
measure() {
	local mode=$1 round=$2 out rx0 rx1 srv0 srv1 tcp udp srcs
	srcs=$(IFS=,; echo "${CLIENTS[*]}")
	topo "$mode"
	"director_$mode"
	# Working before measuring: one request must come back from a real, through the director.
	in_ns "$NS_CL" curl -s -m 3 "http://$VIP/" | grep -q '^real[123]$' ||
		die "$mode: no reply through the director"
	srv0=$(servers_cpu)
	out=$(pin 1 nsenter --net=/run/netns/"$NS_CL" "$LOAD" tcp -d "$VIP:80" -c "$CONC" -t "$SECONDS_RUN" \
		-s "$srcs") || die "$mode: tcp load failed: $out"
	srv1=$(servers_cpu)
	tcp=$(tail -1 <<<"$out")
	rx0=$(udp_received)
	out=$(pin 1 nsenter --net=/run/netns/"$NS_CL" "$LOAD" udp -d "$VIP:$UDP_PORT" -f "$FLOWS" \
		-t "$SECONDS_RUN" -s "$srcs") || die "$mode: udp load failed: $out"
	sleep 0.5 # the last datagrams still in queues
	rx1=$(udp_received)
	udp=$(tail -1 <<<"$out")
	RESULTS+=("$mode $round $(kv "$tcp" requests) $(kv "$tcp" seconds) $(kv "$tcp" failed)\
 $(calc "$(kv "$tcp" cpu_s) + $srv1 - $srv0") $(kv "$udp" sent) $((rx1 - rx0)) $(kv "$udp" seconds)\
 $(kv "$udp" cpu_s)")
	set -- ${RESULTS[-1]}
	printf '  %-12s round %d: tcp %6.0f req/s %5.0f us CPU/req (%s failed); udp %7.0f/s received of %7.0f/s sent, %5.0f ns CPU/datagram\n' \
		"$mode" "$round" "$(calc "$3 / $4")" "$(calc "$6 / $3 * 1e6")" "$5" "$(calc "$8 / $9")" \
		"$(calc "$7 / $9")" "$(calc "${10} / $7 * 1e9")"
	if [ -n "$XLVSD_PID" ]; then
		kill "$XLVSD_PID" 2>/dev/null
		wait "$XLVSD_PID" 2>/dev/null
		XLVSD_PID=
	fi
	topo_down >/dev/null 2>&1
	E2E_DIR=$(mktemp -d -t xlvs-bench-nat.XXXX) # topo_down removed it
}

# median MODE METRIC: the median over MODE's rounds (robust to a round that other work on the
# machine slowed down); null when MODE did not run.
median() {
	local mode=$1 metric=$2 r v=()
	for r in "${RESULTS[@]}"; do
		set -- $r
		[ "$1" = "$mode" ] || continue
		case $metric in
		rps) v+=("$(calc "$3 / $4")") ;;
		cpu_req) v+=("$(calc "$6 / $3 * 1e6")") ;;
		pps) v+=("$(calc "$8 / $9")") ;;
		cpu_pkt) v+=("$(calc "${10} / $7 * 1e9")") ;;
		esac
	done
	[ ${#v[@]} = 0 ] && { echo null; return; }
	printf '%s\n' "${v[@]}" | sort -g | awk '{ a[NR] = $1 } END { printf "%.0f", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

ratio() { { [ "$1" = null ] || [ "$2" = null ]; } && echo null || calc "$1 / $2"; }

need nft nftables; need curl; need taskset util-linux; need ethtool; need getconf libc-bin
[ -x "$LOAD" ] || die "build first: $LOAD missing (make)"
[ "$(id -u)" = 0 ] || die "needs root (namespaces, XDP, nftables)"
load0=$(cut -d' ' -f1 /proc/loadavg)
echo "NAT side by side: $MODES; $ROUNDS rounds of ${SECONDS_RUN}s each; tcp $CONC connections at once," \
	"udp $FLOWS flows; load average $load0 at start"
RESULTS=()
for round in $(seq "$ROUNDS"); do
	for mode in $MODES; do measure "$mode" "$round"; done
done

METRICS=(rps cpu_req pps cpu_pkt)
declare -A LABEL=([rps]="tcp requests/s" [cpu_req]="tcp CPU us/request" [pps]="udp datagrams/s"
	[cpu_pkt]="udp CPU ns/datagram")
declare -A M
for mode in nft xlvs nft-fullnat xlvs-fullnat; do
	for m in "${METRICS[@]}"; do M[$mode.$m]=$(median "$mode" "$m"); done
done
printf '\n%-32s %10s %10s %9s\n' "median of $ROUNDS rounds" "nftables" "xlvs" "xlvs/nft"
for kind in nat fullnat; do
	n=nft x=xlvs
	[ $kind = fullnat ] && n=nft-fullnat x=xlvs-fullnat
	for m in "${METRICS[@]}"; do
		printf '%-32s %10s %10s %9s\n' "$kind ${LABEL[$m]}" "${M[$n.$m]}" "${M[$x.$m]}" \
			"$(ratio "${M[$x.$m]}" "${M[$n.$m]}")"
	done
done
{
	printf '{\n  "date": "%s",\n  "kernel": "%s",\n  "cpus": %d,\n  "loadavg_start": %s,\n' \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(uname -r)" "$(nproc)" "$load0"
	printf '  "seconds": %s,\n  "rounds": %s,\n  "xdp_mode": "%s",\n  "tcp_concurrency": %s,\n  "udp_flows": %s,\n' \
		"$SECONDS_RUN" "$ROUNDS" "$XDP_MODE" "$CONC" "$FLOWS"
	printf '  "statistic": "median of the rounds",\n'
	for kind in nat fullnat; do
		n=nft x=xlvs
		[ $kind = fullnat ] && n=nft-fullnat x=xlvs-fullnat
		printf '  "%s": {\n' $kind
		sep=
		for m in "${METRICS[@]}"; do
			printf '%s    "%s": { "nft": %s, "xlvs": %s, "ratio": %s }' "$sep" "$m" "${M[$n.$m]}" \
				"${M[$x.$m]}" "$(ratio "${M[$x.$m]}" "${M[$n.$m]}")"
			sep=$',\n'
		done
		printf '\n  },\n'
	done
	printf '  "runs": [\n'
	sep=
	for r in "${RESULTS[@]}"; do
		set -- $r
		printf '%s    { "mode": "%s", "round": %s, "tcp_requests": %s, "tcp_seconds": %s, "tcp_failed": %s,' \
			"$sep" "$1" "$2" "$3" "$4" "$5"
		printf ' "tcp_cpu_s": %s, "udp_sent": %s, "udp_received": %s, "udp_seconds": %s, "udp_cpu_s": %s }' \
			"$6" "$7" "$8" "$9" "${10}"
		sep=$',\n'
	done
	printf '\n  ]\n}\n'
} >"$BUILD/bench-nat.json"
echo "wrote $BUILD/bench-nat.json"
