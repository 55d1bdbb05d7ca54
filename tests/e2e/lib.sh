# SPDX-License-Identifier: GPL-2.0
# End-to-end topology in network namespaces: a client, a director and three
# real servers on one bridged LAN (the classic LVS layout). Only 198.18.0.0/15
# and 2001:db8::/32. Everything is removed by topo_down, which the caller traps.
#
#   client 198.18.0.100 ---+
#   director 198.18.0.1 ---+--- br0 (netns $NS_SW)
#   real1..3 198.18.0.11-13+
#
# VIPs 198.18.1.10 and 2001:db8:1::10 are routed to the director; the reals hold
# them on lo (arp_ignore/arp_announce) and answer clients directly.

E2E_ID=${E2E_ID:-$$}
NS_SW=xlvs-e2e-$E2E_ID-sw
NS_CL=xlvs-e2e-$E2E_ID-cl
NS_LB=xlvs-e2e-$E2E_ID-lb
NS_R=(xlvs-e2e-$E2E_ID-r1 xlvs-e2e-$E2E_ID-r2 xlvs-e2e-$E2E_ID-r3)
REAL4=(198.18.0.11 198.18.0.12 198.18.0.13)
REAL6=(2001:db8::11 2001:db8::12 2001:db8::13)
CLIENT4=198.18.0.100
CLIENT6=2001:db8::100
LB4=198.18.0.1
LB6=2001:db8::1
VIP4=198.18.1.10
VIP6=2001:db8:1::10
LAN_MTU=1600		# room for encapsulation between director and reals
CLIENT_MTU=1500
E2E_DIR=${E2E_DIR:-$(mktemp -d -t xlvs-e2e.XXXX)}
REPO=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BUILD:-$REPO/build}
# shellcheck source=../pin-dirs.sh
. "$(dirname "${BASH_SOURCE[0]}")/../pin-dirs.sh" # pin_dirs_clean

fail() { echo "FAIL: $*" >&2; exit 1; }
DECAP_PIN=/sys/fs/bpf/xlvs-e2e-$E2E_ID-decap	# + real number
info() { echo "  e2e: $*"; }

# decap I ARGS...: `xlvs decap ...` on real I+1.
decap() { local i=$1; shift; in_ns "${NS_R[$i]}" "$BUILD/xlvs" --pin-dir "$DECAP_PIN$((i + 1))" decap "$@"; }

# Run in a namespace. nsenter (not `ip netns exec`) keeps the host's /sys, so bpffs pins are shared.
in_ns() { local ns=$1; shift; nsenter --net=/run/netns/"$ns" "$@"; }

need() {
	command -v "$1" >/dev/null || fail "$1 is missing (Debian package ${2:-$1}); run make deps"
}

sysctl_ns() { in_ns "$1" sysctl -qw "$2=$3" >/dev/null || fail "sysctl $2=$3 in $1"; }

# veth pair: $2 in namespace $1 (renamed eth0), peer attached to the bridge.
plug() {
	local ns=$1 peer=$2 mtu=$3
	ip link add "$peer" type veth peer name eth0 netns "$ns" || fail "veth for $ns"
	ip link set "$peer" netns "$NS_SW"
	in_ns "$NS_SW" ip link set "$peer" master br0 mtu "$mtu" up
	in_ns "$ns" ip link set eth0 mtu "$mtu" up
	in_ns "$ns" ip link set lo up
}

topo_up() {
	local i
	need ip iproute2; need nsenter util-linux; need ethtool; need ping iputils-ping
	ip netns add "$NS_SW" && ip netns add "$NS_CL" && ip netns add "$NS_LB" || fail "netns add"
	for i in 0 1 2; do ip netns add "${NS_R[$i]}" || fail "netns add"; done
	in_ns "$NS_SW" ip link add br0 type bridge
	in_ns "$NS_SW" ip link set br0 mtu $LAN_MTU up
	plug "$NS_CL" "cl-$E2E_ID" $CLIENT_MTU
	plug "$NS_LB" "lb-$E2E_ID" $LAN_MTU
	for i in 0 1 2; do plug "${NS_R[$i]}" "r$((i + 1))-$E2E_ID" $LAN_MTU; done

	in_ns "$NS_CL" ip addr add $CLIENT4/24 dev eth0
	in_ns "$NS_CL" ip -6 addr add $CLIENT6/64 dev eth0 nodad
	in_ns "$NS_CL" ip route add 198.18.1.0/24 via $LB4
	in_ns "$NS_CL" ip -6 route add 2001:db8:1::/64 via $LB6
	# The director sees full checksums, not partial ones from veth offload.
	in_ns "$NS_CL" ethtool -K eth0 tx off >/dev/null
	# Ephemeral ports from 50000 on: the client ports scenarios bind themselves (43000-49999:
	# drains, floods, ring state) are never one the kernel gave an earlier connection, still
	# bound or in TIME_WAIT (a fixed-port upload's bind once failed so in a full run).
	sysctl_ns "$NS_CL" net.ipv4.ip_local_port_range "50000 60999"

	in_ns "$NS_LB" ip addr add $LB4/24 dev eth0
	in_ns "$NS_LB" ip -6 addr add $LB6/64 dev eth0 nodad

	for i in 0 1 2; do
		local ns=${NS_R[$i]}
		in_ns "$ns" ip addr add "${REAL4[$i]}/24" dev eth0
		in_ns "$ns" ip -6 addr add "${REAL6[$i]}/64" dev eth0 nodad
		in_ns "$ns" ip addr add $VIP4/32 dev lo
		in_ns "$ns" ip -6 addr add $VIP6/128 dev lo nodad
		sysctl_ns "$ns" net.ipv4.conf.all.arp_ignore 1
		sysctl_ns "$ns" net.ipv4.conf.all.arp_announce 2
		sysctl_ns "$ns" net.ipv4.conf.all.rp_filter 0
		sysctl_ns "$ns" net.ipv4.conf.eth0.rp_filter 0
		# As a real-server admin would; each real pins under its own directory (all are eth0).
		decap "$i" attach dev eth0 gue-port 6080 >/dev/null || fail "xlvs decap attach on real$((i + 1))"
	done
	# Native XDP_TX on a veth needs an XDP program on its peer (the director's switch port).
	ip -n "$NS_SW" link set dev "lb-$E2E_ID" xdp obj "$BUILD/tests/xdp_pass.bpf.o" sec xdp ||
		fail "xdp_pass on the switch port"
	# Everyone knows everyone: DR needs the reals' MACs, replies need the client's.
	for i in 0 1 2; do in_ns "$NS_CL" ping -c1 -W2 -q "${REAL4[$i]}" >/dev/null || fail "LAN: real$((i + 1))"; done
	in_ns "$NS_CL" ping -c1 -W2 -q $LB4 >/dev/null || fail "LAN: director"
}

topo_down() {
	local ns
	for ns in "$NS_CL" "$NS_LB" "${NS_R[@]}" "$NS_SW"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
	done
	sleep 0.2
	for ns in "$NS_CL" "$NS_LB" "${NS_R[@]}" "$NS_SW"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$E2E_DIR" "$DECAP_PIN"[123]
}

# xlvsd in the director's namespace; the caller sets XLVSD, CONF, PIN, SOCK, LOG and PIDFILE
# (scenarios run in subshells: the pid lives in a file). XLVSD_BIN and XLVSD_ENV override
# the binary and add environment variables.
start_xlvsd() {
	# each start gets a fresh log; earlier ones are kept for the sanitizer check (run.sh)
	[ -s "$LOG" ] && cat "$LOG" >>"$LOG.earlier"
	: >"$LOG"
	# nsenter itself (in_ns is a function: `&` would fork a shell and $! would name that).
	env ${XLVSD_ENV:-} nsenter --net=/run/netns/"$NS_LB" "${XLVSD_BIN:-$XLVSD}" -c "$CONF" --pin-dir "$PIN" --socket "$SOCK" >>"$LOG" 2>&1 &
	local pid=$! i
	echo "$pid" >"$PIDFILE"
	# a start verifies the program (~4 s on an idle 2-core VM, past 10 s at load 5): 20 s
	for i in $(seq 200); do
		grep -q "xlvsd: info: ready" "$LOG" && return 0
		kill -0 "$pid" 2>/dev/null || { cat "$LOG" >&2; fail "xlvsd exited"; }
		sleep 0.1
	done
	cat "$LOG" >&2
	fail "xlvsd not ready after 20 s"
}

# SIGTERM, then wait for the process to go (it may be a child of another subshell, so no `wait`).
stop_xlvsd() {
	local pid i
	pid=$(cat "$PIDFILE" 2>/dev/null) || return 0
	rm -f "$PIDFILE"
	kill "$pid" 2>/dev/null || return 0
	for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
	fail "xlvsd ($pid) still running 5 s after SIGTERM"
}

# http_up I / http_down I: start or stop real I+1's HTTP listener (established connections are
# served by forked children and go on). nsenter directly: $! must be socat's pid.
http_up() {	# in a subshell: not a job of ours, so no "Terminated" when cleanup kills it
	(nsenter --net=/run/netns/"${NS_R[$1]}" socat -T10 TCP6-LISTEN:80,ipv6only=0,fork,reuseaddr \
		EXEC:"$REPO/tests/e2e/http-name.sh real$(($1 + 1))" >/dev/null 2>&1 &
	echo $! >"$E2E_DIR/http$1.pid")
}

http_down() {
	local pid
	pid=$(cat "$E2E_DIR/http$1.pid" 2>/dev/null) && kill "$pid" 2>/dev/null
	rm -f "$E2E_DIR/http$1.pid"
}

# Small real servers: HTTP answering the real's name on :80, a UDP echo of the name on :5353,
# and an iperf3 server for long transfers.
servers_up() {
	local i
	need socat; need iperf3
	[ -x "$BUILD/tests/udp-name" ] || fail "build first: $BUILD/tests/udp-name missing (make)"
	for i in 0 1 2; do
		local ns=${NS_R[$i]} name=real$((i + 1))
		http_up $i
		# Bound to the VIPs so replies leave from the address the client asked.
		# nsenter itself, not in_ns: a shell in between would report "Terminated" at cleanup.
		(nsenter --net=/run/netns/"$ns" "$BUILD/tests/udp-name" $name $VIP4 5353 &)
		(nsenter --net=/run/netns/"$ns" "$BUILD/tests/udp-name" $name $VIP6 5353 &)
		in_ns "$ns" iperf3 -s -D -1 >/dev/null 2>&1 || true
	done
	sleep 0.3
}

# SYN floods of new flows from the client (tests/e2e/syn-flood.c), paced at FLOOD_RATE SYNs/s (0:
# unpaced). Unpaced, the generator sends 860-910k SYNs/s on an idle host and the veth and bridge
# queues drop up to 57% before the director's XDP program sees them. Paced, 99-100% arrived at
# 150k-400k/s (docs/reliability.md); 300k keeps the million-SYN flood near 3 s, and is still a
# thousand times what the SYN guard lets in.
FLOOD_RATE=${FLOOD_RATE:-300000}

# syn_flood VIP:PORT SOURCES SYNS: SYNS SYNs of distinct new flows from SOURCES (ADDRESS/PREFIX)
# to the director's MAC; prints the generator's line.
syn_flood() {
	local mac
	mac=$(ip -n "$NS_LB" -br link show eth0 | awk '{print $3}')
	in_ns "$NS_CL" "$BUILD/tests/syn-flood" -i eth0 -m "$mac" -d "$1" -s "$2" -n "$3" -r "$FLOOD_RATE"
}

# syn_flood_seen SEEN SYNS OUT: the director counted SEEN of the SYNS as new flows; at least 3/4
# proves the flood happened at scale (paced, 99-100% arrive; unpaced, 74% in one run failed it).
# OUT, syn_flood's line, says the generator kept to FLOOD_RATE (2% for the clock).
syn_flood_seen() {
	local rate="paced at $FLOOD_RATE/s" pps
	[ "$FLOOD_RATE" = 0 ] && rate=unpaced
	echo "   the director saw $1 of $2 SYNs as new flows ($((100 * $1 / $2))%, $rate)"
	[ "$1" -ge $(($2 * 3 / 4)) ] || fail "the director saw only $1 of $2 SYNs (at least 3/4 expected; $rate)"
	pps=$(sed -n 's|.* s: \([0-9]*\) SYNs/s .*|\1|p' <<<"$3")
	[ -n "$pps" ] || fail "no SYNs/s in the generator's line '$3'"
	[ "$FLOOD_RATE" = 0 ] || [ "$pps" -le $((FLOOD_RATE + FLOOD_RATE / 50)) ] ||
		fail "the generator sent $pps SYNs/s, paced at $FLOOD_RATE/s"
}
