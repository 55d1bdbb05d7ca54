# SPDX-License-Identifier: GPL-2.0
# VS-NAT and FULLNAT scenarios (issue 12), sourced by run.sh: curl and UDP through the VIP to reals
# that listen on other ports than the VIP's (TCP 8080 behind :80, UDP 5300 behind :53) and answer
# with their name and the peer address they saw. VS-NAT reals route the client through the
# director; FULLNAT reals have no such route and see the director's pool address instead. Each
# scenario calls nat_up, which traps nat_down: routes, pool addresses and servers go away when the
# scenario's subshell exits, failed or not.

NAT_TCP_PORT=8080
NAT_UDP_PORT=5300
POOL4=198.18.0.201
POOL6=2001:db8::201
POOL4B=198.18.0.202	# the address s_fullnat_pool_reload adds to the pool
NAT_ECHO_PORT=8090	# its echo servers: a held connection's lines come back

nat_up() {
	local i ns
	trap nat_down EXIT
	[ -x "$BUILD/tests/udp-name" ] || fail "build first: $BUILD/tests/udp-name missing (make)"
	need python3
	# The reals answer FULLNAT flows to the pool: the director must answer ARP/ND for it.
	in_ns "$NS_LB" ip addr add $POOL4/32 dev eth0 || fail "pool address $POOL4 on the director"
	in_ns "$NS_LB" ip -6 addr add $POOL6/128 dev eth0 nodad || fail "pool address $POOL6 on the director"
	for i in 0 1 2; do
		ns=${NS_R[$i]}
		# The replies go through the director now: full checksums, not veth's partial ones (which
		# only a real NIC's offload would complete), as the client's (lib.sh).
		in_ns "$ns" ethtool -K eth0 tx off >/dev/null || fail "checksum offload off on real$((i + 1))"
		(nsenter --net=/run/netns/"$ns" socat -T10 TCP6-LISTEN:$NAT_TCP_PORT,ipv6only=0,fork,reuseaddr \
			EXEC:"$REPO/tests/e2e/http-name.sh real$((i + 1)) peer" >/dev/null 2>&1 &
		echo $! >"$E2E_DIR/nat-http$i.pid")
		(nsenter --net=/run/netns/"$ns" "$BUILD/tests/udp-name" real$((i + 1)) "${REAL4[$i]}" $NAT_UDP_PORT peer &
		echo $! >"$E2E_DIR/nat-udp4-$i.pid")
		(nsenter --net=/run/netns/"$ns" "$BUILD/tests/udp-name" real$((i + 1)) "${REAL6[$i]}" $NAT_UDP_PORT peer &
		echo $! >"$E2E_DIR/nat-udp6-$i.pid")
	done
	sleep 0.3
}

nat_down() {
	local i f
	for f in "$E2E_DIR"/nat-*.pid; do [ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null; rm -f "$f"; done
	for i in 0 1 2; do
		nat_routes del "$i" >/dev/null 2>&1
		in_ns "${NS_R[$i]}" ethtool -K eth0 tx on >/dev/null 2>&1
	done
	in_ns "$NS_LB" ip addr del $POOL4/32 dev eth0 2>/dev/null
	in_ns "$NS_LB" ip addr del $POOL4B/32 dev eth0 2>/dev/null
	in_ns "$NS_LB" ip -6 addr del $POOL6/128 dev eth0 2>/dev/null
	# back to the suite's DR service, so no later scenario meets NAT reals
	config native "$(svc_yaml $VIP4 80 tcp dr "${REAL4[0]}:1")"
	xlvs reload >/dev/null 2>&1
}

# nat_routes replace|del I: real I+1 reaches the client through the director (VS-NAT's requirement).
nat_routes() {
	in_ns "${NS_R[$2]}" ip route "$1" $CLIENT4/32 via $LB4 dev eth0 &&
		in_ns "${NS_R[$2]}" ip -6 route "$1" $CLIENT6/128 via $LB6 dev eth0
}

# nat_config FORWARD VIP REAL-ADDRESSES...: TCP VIP:80 -> real:8080, UDP VIP:53 -> real:5300.
nat_config() {
	local fwd=$1 vip=$2 r; shift 2
	cat >"$CONF" <<EOF
interfaces: [eth0]
xdp_mode: native
fullnat: { pool: [$POOL4, "$POOL6"] }
services:
  - vip: "$vip"
    port: 80
    protocol: tcp
    forward: $fwd
    reals:
EOF
	for r in "$@"; do echo "      - { address: \"$r\", port: $NAT_TCP_PORT }"; done >>"$CONF"
	printf '  - vip: "%s"\n    port: 53\n    protocol: udp\n    forward: %s\n    reals:\n' "$vip" "$fwd" >>"$CONF"
	for r in "$@"; do echo "      - { address: \"$r\", port: $NAT_UDP_PORT }"; done >>"$CONF"
}

# nat_peer_ok PEER WANT: the address a real saw is WANT. socat writes a v6 socket's peers fully
# expanded in brackets ([0000:...:ffff:c612:0064] for an IPv4 client): compared as addresses.
nat_peer_ok() {
	local p=${1#[}
	p=${p%]}
	python3 -c 'import ipaddress as i, sys; a = i.ip_address(sys.argv[1]); a = a.ipv4_mapped or a
sys.exit(a != i.ip_address(sys.argv[2]))' "$p" "$2" 2>/dev/null
}

# The director's drop and event counters that are not 0, for a failure's message.
nat_counters() { xlvs stats | sed -n '/^Drops/,$p' | grep -v ' 0$' | tr -s ' \n' ' '; }

# nat_fetch VIP PEER N: N connections to VIP:80; every one answered by a real that saw PEER as the
# client; prints the answering reals' names, one a line.
nat_fetch() {
	local vip=$1 peer=$2 n=$3 i out name
	for i in $(seq "$n"); do
		out=$(in_ns "$NS_CL" curl -s --max-time 3 "$(url "$vip")") ||
			fail "connection $i to $vip:80 failed; director: $(nat_counters)"
		read -r name _ p <<<"$out"
		case $name in real[123]) ;; *) fail "connection $i to $vip: answer '$out'";; esac
		nat_peer_ok "$p" "$peer" || fail "connection $i: $name saw the client as '$p', want $peer"
		echo "$name"
	done
}

# nat_udp VIP PEER N: N UDP requests (each from a new port) to VIP:53; as nat_fetch.
nat_udp() {
	local vip=$1 peer=$2 n=$3 i out proto=UDP4 name p
	case $vip in *:*) proto=UDP6; vip="[$vip]";; esac
	for i in $(seq "$n"); do
		out=$(in_ns "$NS_CL" sh -c "echo ping | socat -T2 - $proto:$vip:53") ||
			fail "UDP $i to $vip:53 failed; director: $(nat_counters)"
		read -r name p <<<"$out"
		case $name in real[123]) ;; *) fail "UDP $i to $vip:53: answer '$out'";; esac
		[ "$p" = "$peer" ] || fail "UDP $i: $name saw the client as '$p', want $peer"
		echo "$name"
	done
}

# nat_method FORWARD VIP CLIENT-AS-SEEN REAL-ADDRESSES...: 30 TCP connections and 12 UDP requests,
# each answered on the real's own port by a real that saw CLIENT-AS-SEEN; all three reals answer
# (maglev over 30 flows misses a real with probability 3 x (2/3)^30, 1.6e-5); `xlvs conn list`
# shows the real's port and, for fullnat, the pool source.
nat_method() {
	local fwd=$1 vip=$2 peer=$3 names conns list; shift 3
	nat_config "$fwd" "$vip" "$@"
	reload
	# The service outlives the reals a change of method replaces, and keeps what they counted (as
	# IPVS does): from zero, its replies are those of the reals it has now (nat_out_counted).
	xlvs stats --zero "$(case $vip in *:*) echo "[$vip]";; *) echo "$vip";; esac):80" >/dev/null ||
		fail "xlvs stats --zero $vip:80"
	names=$(nat_fetch "$vip" "$peer" 30) || exit 1
	echo "   $fwd: 30 connections to $vip:80, answered on :$NAT_TCP_PORT by real1..3 = $(tally "$names"), each saw $peer"
	[ "$(distinct "$names")" = 3 ] || fail "not every real answered: $(tally "$names")"
	names=$(nat_udp "$vip" "$peer" 12) || exit 1
	echo "   $fwd: 12 UDP requests to $vip:53, answered on :$NAT_UDP_PORT by real1..3 = $(tally "$names")"
	conns=$(xlvs -j conn list "$(case $vip in *:*) echo "[$vip]";; *) echo "$vip";; esac):80") || fail "xlvs conn list"
	[ "$(jq -r "[.connections[] | select(.real_port == $NAT_TCP_PORT)] | length" <<<"$conns")" -ge 1 ] ||
		fail "xlvs conn list shows no flow to the reals' port $NAT_TCP_PORT: $conns"
	if [ "$fwd" = fullnat ]; then
		[ "$(jq -r "[.connections[] | select(.source == \"$peer\")] | length" <<<"$conns")" -ge 1 ] ||
			fail "xlvs conn list shows no fullnat source $peer: $conns"
	fi
	list=$(xlvs service list) || fail "xlvs service list"
	grep -q -- "-> .*:$NAT_TCP_PORT  *$(case $fwd in nat) echo Masq;; *) echo FullNAT;; esac) " <<<"$list" ||
		fail "xlvs service list shows neither the reals' port nor the method: $list"
	nat_out_counted "$vip"
}

# The replies of the TCP service were counted (ipvsadm's OutPkts): at least one per connection,
# and the reals' counts add up to the service's (both zeroed after the reload, nat_method).
nat_out_counted() {
	local stats svc reals
	stats=$(xlvs -j stats) || fail "xlvs stats"
	svc=$(jq -r "[.services[] | select(.vip == \"$1\" and .port == 80)][0].stats.out_packets" <<<"$stats")
	reals=$(jq -r "[.services[] | select(.vip == \"$1\" and .port == 80)][0] | [.reals[].stats.out_packets] | add" \
		<<<"$stats")
	echo "   OutPkts of $1:80: $svc (its reals: $reals)"
	[ "$svc" -ge 30 ] 2>/dev/null || fail "xlvs stats counts $svc replies of $1:80, want at least 30 (one per connection)"
	[ "$reals" = "$svc" ] || fail "the reals' OutPkts add up to $reals, the service's are $svc"
}

s_nat4() {
	local i
	nat_up
	for i in 0 1 2; do nat_routes replace $i || fail "route to the client via the director on real$((i + 1))"; done
	nat_method nat $VIP4 $CLIENT4 "${REAL4[@]}"
}

s_nat6() {
	local i
	nat_up
	for i in 0 1 2; do nat_routes replace $i || fail "route to the client via the director on real$((i + 1))"; done
	nat_method nat $VIP6 $CLIENT6 "${REAL6[@]}"
}

# FULLNAT: no route through the director on the reals (they would answer the client directly).
s_fullnat4() {
	nat_up
	nat_method fullnat $VIP4 $POOL4 "${REAL4[@]}"
}

s_fullnat6() {
	nat_up
	nat_method fullnat $VIP6 $POOL6 "${REAL6[@]}"
}

# FULLNAT: a held connection goes on across a reload that puts a new address first in the pool
# (its entry names its pool address by index: the address it has keeps its place), and new
# connections after it work from either address.
s_fullnat_pool_reload() {
	local i line
	nat_up
	in_ns "$NS_LB" ip addr add $POOL4B/32 dev eth0 || fail "pool address $POOL4B on the director"
	for i in 0 1 2; do
		(nsenter --net=/run/netns/"${NS_R[$i]}" socat TCP-LISTEN:$NAT_ECHO_PORT,fork,reuseaddr \
			SYSTEM:"echo real$((i + 1)); exec cat" >/dev/null 2>&1 &
		 echo $! >"$E2E_DIR/nat-echo$i.pid")
	done
	fullnat_echo_config "$POOL4"
	reload
	coproc HELD { in_ns "$NS_CL" socat -t 3 -T 20 - TCP4:$VIP4:90 2>&1; }
	echo one >&"${HELD[1]}"
	read -rt 3 line <&"${HELD[0]}" || fail "the held connection got no greeting"
	case $line in real[123]) ;; *) fail "the held connection's greeting: '$line'";; esac
	read -rt 3 line <&"${HELD[0]}" && [ "$line" = one ] || fail "the held connection's first echo: '$line'"
	fullnat_echo_config "$POOL4B, $POOL4"
	reload
	for i in two three; do
		echo $i >&"${HELD[1]}"
		read -rt 3 line <&"${HELD[0]}" && [ "$line" = $i ] ||
			fail "after the pool grew, the held connection's echo of '$i': '$line'; director: $(nat_counters)"
	done
	echo "   a held fullnat connection from $POOL4 went on across a reload that put $POOL4B first in the pool"
	for i in $(seq 12); do
		line=$(in_ns "$NS_CL" socat -t 2 -T 3 - TCP4:$VIP4:90 </dev/null) || fail "new connection $i after the reload failed"
		case $line in real[123]) ;; *) fail "new connection $i after the reload: '$line'";; esac
	done
	echo "   12 new connections after it answered"
}

# fullnat_echo_config POOL4S: the echo service (TCP VIP4:90 -> reals:NAT_ECHO_PORT, fullnat) with
# the given IPv4 pool addresses (comma separated, in that order) and POOL6.
fullnat_echo_config() {
	local r
	cat >"$CONF" <<EOF
interfaces: [eth0]
xdp_mode: native
fullnat: { pool: [$1, "$POOL6"] }
services:
  - vip: "$VIP4"
    port: 90
    protocol: tcp
    forward: fullnat
    reals:
EOF
	for r in "${REAL4[@]}"; do echo "      - { address: \"$r\", port: $NAT_ECHO_PORT }"; done >>"$CONF"
}

# A server's UDP stream to a client that stays silent for longer than the UDP lifetime (2 s): the
# replies keep the flow's entry alive (bpf/nat.h nat_refresh()), so the client's next datagram
# goes on the same flow: the same real (rr would give a new flow the next one) and, for fullnat,
# the same pool address and port; the service counts one connection. Before, the entry expired
# 2 s after the client's first datagram and its next one was a new connection.
NAT_STREAM_PORT=5400
NAT_STREAM_S=4

nat_stream() {
	local fwd=$1 peer=$2 i r p port out first again streamed conns
	nat_up
	for i in 0 1 2; do
		(nsenter --net=/run/netns/"${NS_R[$i]}" python3 "$REPO/tests/e2e/udp-stream.py" serve real$((i + 1)) \
			"${REAL4[$i]}" $NAT_STREAM_PORT &
		 echo $! >"$E2E_DIR/nat-stream$i.pid")
	done
	if [ "$fwd" = nat ]; then
		for i in 0 1 2; do nat_routes replace $i || fail "route to the client via the director on real$((i + 1))"; done
	fi
	cat >"$CONF" <<CONF
interfaces: [eth0]
xdp_mode: native
fullnat: { pool: [$POOL4, "$POOL6"] }
services:
  - vip: "$VIP4"
    port: 54
    protocol: udp
    forward: $fwd
    scheduler: rr
    timeouts: { udp: 2s }
    reals:
CONF
	for r in "${REAL4[@]}"; do echo "      - { address: \"$r\", port: $NAT_STREAM_PORT }"; done >>"$CONF"
	reload
	sleep 0.3
	out=$(in_ns "$NS_CL" python3 "$REPO/tests/e2e/udp-stream.py" ask $VIP4 54 $NAT_STREAM_S) ||
		fail "udp-stream.py ask: $out"
	first=$(sed -n 's/^first: //p' <<<"$out")
	streamed=$(sed -n 's/^streamed: //p' <<<"$out")
	again=$(sed -n 's/^again: //p' <<<"$out")
	read -r r p port <<<"$first"
	case $r in real[123]) ;; *) fail "the first answer: '$first'; director: $(nat_counters)";; esac
	[ "$p" = "$peer" ] || fail "$r saw the client as '$p', want $peer"
	# one every 0.1 s for NAT_STREAM_S s: most of them, whatever the scheduling of the sender
	[ "$streamed" -ge $((NAT_STREAM_S * 5)) ] || fail "$streamed streamed datagrams, want $((NAT_STREAM_S * 5)) or more"
	echo "   $fwd: $r streamed $streamed datagrams for ${NAT_STREAM_S}s (UDP lifetime 2s) to the client it sees as $p:$port, the client silent"
	[ "$again" = "$first" ] ||
		fail "after the stream the client's datagram was answered as '$again', before as '$first' (a new flow); director: $(nat_counters)"
	conns=$(xlvs -j stats | jq -r "[.services[] | select(.vip == \"$VIP4\" and .port == 54)][0].stats.conns")
	[ "$conns" = 1 ] || fail "the service counts $conns connections, want 1"
	echo "   then its datagram went on the same flow: '$again', 1 connection"
}

s_nat_stream() { nat_stream nat $CLIENT4; }
s_fullnat_stream() { nat_stream fullnat $POOL4; }
