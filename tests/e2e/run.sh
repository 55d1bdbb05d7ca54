#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# End-to-end: xlvsd with a config file in the director namespace, the decapsulator on the
# reals, real clients (curl, socat, ping) through the VIP. Each scenario can fail; the
# summary line is "e2e: N passed, N failed". Everything is removed on exit, even on Ctrl-C.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sched.sh"
. "$(dirname "$0")/hc.sh"
. "$(dirname "$0")/nat.sh"
. "$(dirname "$0")/ring.sh"

XLVSD=$BUILD/xlvsd
XLVS=$BUILD/xlvs
PIN=/sys/fs/bpf/xlvs-e2e-$E2E_ID
PIN_DIRS='^xlvs-e2e-([1-9][0-9]*)(-decap[123])?$'	# PIN and DECAP_PIN[123] of any run: main() cleans
NETNS_NAMES='^xlvs-e2e-([1-9][0-9]*)-(sw|cl|lb|r[123])$'	# lib.sh's NS_* of any run: main() cleans
SOCK=$E2E_DIR/xlvsd.sock
CONF=$E2E_DIR/xlvs.yaml
LOG=$E2E_DIR/xlvsd.log
PIDFILE=$E2E_DIR/xlvsd.pid	# scenarios run in subshells: the pid lives in a file, not a variable
PASSED=0 FAILED=0 FAILURES=()

cleanup() {
	stop_xlvsd 2>/dev/null
	"$XLVSD" --detach --pin-dir "$PIN" >/dev/null 2>&1
	rm -rf "$PIN"
	[ "${KEEP_LOG:-}" ] && cp "$LOG" /tmp/xlvsd-e2e.log 2>/dev/null
	topo_down
}
trap cleanup EXIT
trap 'exit 130' INT TERM

xlvs() { in_ns "$NS_LB" "$XLVS" --pin-dir "$PIN" --socket "$SOCK" "$@"; }

# ctl LINE: one raw request line to xlvsd's control socket; prints the reply line.
ctl() { printf '%s\n' "$1" | in_ns "$NS_LB" socat -t2 - UNIX-CONNECT:"$SOCK"; }

# Scenarios run in subshells: `fail` ends the scenario, not the suite.
scenario() {
	local name=$1; shift
	# E2E_ONLY=REGEX runs the matching scenarios only (for debugging; make test runs all).
	[ -n "${E2E_ONLY:-}" ] && ! [[ $name =~ $E2E_ONLY ]] && return 0
	echo "== $name"
	if ( "$@" ); then PASSED=$((PASSED + 1)); echo "   ok"
	else FAILED=$((FAILED + 1)); FAILURES+=("$name"); echo "   FAILED: $name"; fi
}

# config MODE SERVICES-YAML: write the director's configuration.
config() {
	cat >"$CONF" <<EOF
interfaces: [eth0]
xdp_mode: $1
tunnel: { source4: $LB4, source6: "$LB6", mtu: 1500, gue_port: 6080 }
services:
$2
EOF
}

reload() { xlvs reload >/dev/null || fail "xlvs reload refused: $(tail -3 "$LOG")"; }

reals_yaml() {	# reals_yaml ADDR:WEIGHT...
	local r
	echo "    reals:"
	for r in "$@"; do echo "      - { address: \"${r%:*}\", weight: ${r##*:} }"; done
}

svc_yaml() {	# svc_yaml VIP PORT PROTO FORWARD REAL:WEIGHT...
	local vip=$1 port=$2 proto=$3 fwd=$4; shift 4
	printf '  - vip: "%s"\n    port: %s\n    protocol: %s\n    forward: %s\n    echo: true\n' \
		"$vip" "$port" "$proto" "$fwd"
	reals_yaml "$@"
}

# svc_yaml ... | as_table: the service in table state (flow_state: table), for scenarios about the
# connection table itself; maglev TCP services are in ring state by default (ring.sh).
as_table() { sed 's/^    echo: true$/&\n    flow_state: table/'; }

url() { case $1 in *:*) echo "http://[$1]/";; *) echo "http://$1/";; esac; }

# spread VIP N: N new connections; prints "real1 real2 real3" counts, fails on any error.
spread() {
	local vip=$1 n=$2 i out c1=0 c2=0 c3=0
	for i in $(seq "$n"); do
		out=$(in_ns "$NS_CL" curl -s --max-time 3 "$(url "$vip")") || fail "connection $i to $vip failed"
		case $out in
		real1*) c1=$((c1 + 1));; real2*) c2=$((c2 + 1));; real3*) c3=$((c3 + 1));;
		*) fail "connection $i to $vip: unexpected answer '$out'";;
		esac
	done
	echo "$c1 $c2 $c3"
}

# Weights 1:2:3 over 300 connections: expect 50/100/150, within 35 (about 4 sigma).
check_weights() {
	local counts want=(50 100 150) i got
	counts=$(spread "$1" 300) || exit 1
	echo "   300 connections to $1: real1..3 = $counts (weights 1:2:3)"
	read -ra got <<<"$counts"
	for i in 0 1 2; do
		[ $(( got[i] > want[i] ? got[i] - want[i] : want[i] - got[i] )) -le 35 ] ||
			fail "real$((i + 1)) got ${got[$i]} of 300, want ${want[$i]} ± 35"
	done
}

check_udp() {
	local vip=$1 out proto=UDP4
	case $vip in *:*) proto=UDP6; vip="[$vip]";; esac
	out=$(in_ns "$NS_CL" sh -c "echo ping | socat -T2 - $proto:$vip:5353") || fail "UDP to $vip failed"
	case $out in real[123]) echo "   UDP to $vip answered by $out";;
	*) fail "UDP answer '$out'; director counters: $(xlvs stats | sed -n '/^Drops/,$p' | tr '\n' ' ')";; esac
}

# decap_sum COUNTER: that counter of the decapsulators on the three reals, summed.
decap_sum() {
	local i n=0 v
	for i in 0 1 2; do
		v=$(decap $i -j status dev eth0 | jq -r --arg c "$1" '.decap[0].counters[$c]') ||
			fail "xlvs decap status on real$((i + 1))"
		n=$((n + v))
	done
	echo $n
}

# The tunnel a method/family puts on the wire, as the decapsulator counts it ("" for DR).
tunnel_counter() {	# tunnel_counter VIP FORWARD REAL
	case $2 in dr) return;; gue) case $3 in *:*) echo gue6;; *) echo gue4;; esac; return;; esac
	case $1:$3 in *:*:*) case $1 in *:*) echo ip6ip6;; *) echo 4in6;; esac;; *) echo ipip;; esac
}

# One method/family: the director forwards with it, weights hold, UDP works too, and the
# reals' decapsulators saw that tunnel (and rejected nothing).
method() {	# method MODE VIP FORWARD REAL-ADDRESSES...
	local mode=$1 vip=$2 fwd=$3 counter before after rej0 rej1; shift 3
	counter=$(tunnel_counter "$vip" "$fwd" "$1")
	config "$mode" "$(svc_yaml "$vip" 80 tcp "$fwd" "$1:1" "$2:2" "$3:3"; \
			  svc_yaml "$vip" 5353 udp "$fwd" "$1:1" "$2:1" "$3:1")"
	reload
	[ -n "$counter" ] && before=$(decap_sum "$counter") && rej0=$(decap_sum rejected_not_local)
	check_weights "$vip"
	check_udp "$vip"
	[ -n "$counter" ] || return 0
	after=$(decap_sum "$counter"); rej1=$(decap_sum rejected_not_local)
	echo "   decapsulated on the reals: $counter +$((after - before)), rejected +$((rej1 - rej0))"
	[ $((after - before)) -ge 900 ] || fail "the reals decapsulated only $((after - before)) $counter packets (>= 3 per connection expected)"
	[ "$rej1" = "$rej0" ] || fail "the reals rejected $((rej1 - rej0)) tunnelled packets"
}

# Ask the kernel how XDP is attached to the director's eth0 (native|generic), not the daemon's log.
# iproute2 6.1 `ip -d link show` puts the mode as a word on the first line ("mtu 1500 xdp qdisc ..." for
# native, "xdpgeneric" for generic, "xdpoffload", "xdpmulti" for more than one); the "prog/xdp id N" line
# below reads the same in every mode, so it only proves a program is there.
pass_mode() {
	local want out first
	case $1 in
	native) want=xdp ;;
	generic) want=xdpgeneric ;;
	*) fail "pass_mode: unknown mode $1" ;;
	esac
	out=$(in_ns "$NS_LB" ip -d link show dev eth0) || return 1
	first=${out%%$'\n'*}
	[[ " $first " == *" $want "* ]] && grep -q "prog/xdp id [0-9]" <<<"$out"
}

attach_mode() { in_ns "$NS_LB" ip -d link show dev eth0 | sed -n '1s/.*mtu [0-9]* \(xdp[a-z]*\).*/\1/p;/prog\/xdp/p'; }

# ---- scenarios ----

s_dr4_native() { method native $VIP4 dr "${REAL4[@]}"; }
s_ipip() { method native $VIP4 tun "${REAL4[@]}"; }
s_ip6ip6() { method native $VIP6 tun "${REAL6[@]}"; }
s_4in6() { method native $VIP4 tun "${REAL6[@]}"; }
s_gue4() { method native $VIP4 gue "${REAL4[@]}"; }
s_gue6() { method native $VIP6 gue "${REAL6[@]}"; }
s_dr6() { method native $VIP6 dr "${REAL6[@]}"; }

s_generic_mode() {
	stop_xlvsd
	"$XLVSD" --detach --pin-dir "$PIN" >/dev/null 2>&1
	config generic "$(svc_yaml $VIP4 80 tcp tun "${REAL4[0]}:1" "${REAL4[1]}:2" "${REAL4[2]}:3")"
	start_xlvsd
	pass_mode generic || fail "eth0 of $NS_LB is not in generic XDP mode; the kernel says: $(attach_mode)"
	check_weights $VIP4
	stop_xlvsd
	"$XLVSD" --detach --pin-dir "$PIN" >/dev/null 2>&1
	config native "$(svc_yaml $VIP4 80 tcp tun "${REAL4[0]}:1")"
	start_xlvsd
}

# flow_hash_told WHEN FILE STATE: the file asks for hash FILE of state made with STATE: xlvsd --check
# warns as the reload does and exits 0 (a reload takes the file); xlvs diff shows the change, marked
# as not applied live (text and JSON), and exits 0.
flow_hash_told() {
	local out text
	out=$(in_ns "$NS_LB" "$XLVSD" --check -c "$CONF" --pin-dir "$PIN" 2>&1) ||
		fail "$1: --check refused a file asking for $2: exit $?: $out"
	grep -q "^xlvsd: warning: flow_hash $2 is not applied: the pinned state uses $3 .*until \`xlvsd --detach\` and a restart (docs/configuration.md#flow_hash)$" <<<"$out" ||
		fail "$1: no --check warning that the file's $2 is not applied: $out"
	grep -q ": ok$" <<<"$out" || fail "$1: --check did not say ok: $out"
	text=$(xlvs diff "$CONF") || fail "$1: xlvs diff: exit $?: $text"
	grep -q "^~ global settings: .*flow_hash $3 -> $2 (not applied live: the pinned state keeps $3 until \`xlvsd --detach\` and a restart)" <<<"$text" ||
		fail "$1: diff has no flow_hash line from the state's $3: $text"
	out=$(xlvs -j diff "$CONF") || fail "$1: xlvs -j diff: exit $?"
	[ "$(jq -c '[.changes[].fields[] | select(.key == "flow_hash")]' <<<"$out")" = \
		"[{\"key\":\"flow_hash\",\"from\":\"$3\",\"to\":\"$2\",\"live\":false}]" ] ||
		fail "$1: diff's JSON flow_hash field: $out"
	echo "   $1: --check warns; diff: $(grep -o "flow_hash $3 -> $2 ([^:]*" <<<"$text"))"
}

# conns_told WHEN FILE TABLE: the file asks for conn_table_size FILE of tables with TABLE entries:
# xlvsd --check warns as the start does (for xlvs_conns and xlvs_nat) and exits 0; xlvs diff shows
# the change from the table's size, marked as not applied live (text and JSON).
conns_told() {
	local out text m
	out=$(in_ns "$NS_LB" "$XLVSD" --check -c "$CONF" --pin-dir "$PIN" 2>&1) ||
		fail "$1: --check refused a file asking for $2 entries: exit $?: $out"
	for m in xlvs_conns xlvs_nat; do
		grep -qF "xlvsd: warning: $PIN/$m keeps its $3 entries (conn_table_size $2 needs \`xlvsd --detach\` and a restart, which drops connection state; docs/configuration.md#conn_table_size)" <<<"$out" ||
			fail "$1: no --check warning that $m keeps its $3 entries: $out"
	done
	text=$(xlvs diff "$CONF") || fail "$1: xlvs diff: exit $?: $text"
	grep -q "^~ global settings: .*conn_table_size $3 -> $2 (not applied live: the pinned state keeps $3 until \`xlvsd --detach\` and a restart)" <<<"$text" ||
		fail "$1: diff has no conn_table_size line from the table's $3: $text"
	out=$(xlvs -j diff "$CONF") || fail "$1: xlvs -j diff: exit $?"
	[ "$(jq -c '[.changes[].fields[] | select(.key == "conn_table_size")]' <<<"$out")" = \
		"[{\"key\":\"conn_table_size\",\"from\":\"$3\",\"to\":\"$2\",\"live\":false}]" ] ||
		fail "$1: diff's JSON conn_table_size field: $out"
	echo "   $1: --check warns; diff: $(grep -o "conn_table_size $3 -> $2 ([^:]*" <<<"$text"))"
}

# The flow hash is the state's (docs/configuration.md, flow_hash): the suite's state was made with
# the default, mix64; a file asking for murmur3 is warned about by --check (exit 0) and by the
# reload, shown by diff as a change not applied live (before the reload and after it: diff compares
# with the state, not the last file), and not applied; after --detach a start makes murmur3 state,
# which diff and --check then find the file agrees with, and connections spread by the weights
# through that hash too. conn_table_size alike (the file asks for 8191 entries of 262144-entry
# tables): told, not applied by the reload, and after --detach the start's tables are 8191 rounded
# up to a multiple of the possible CPUs (a per-CPU LRU), which the file then asks for exactly.
s_flow_hash() {
	local h out c ncpus
	h=$(ctl '{"cmd": "status"}' | jq -r .flow_hash)
	[ "$h" = mix64 ] || fail "status says flow_hash '$h', want mix64 (the default the state was made with)"
	c=$(xlvs -j stats | jq .conn_table.capacity)
	[ "$c" = 262144 ] || fail "the suite's connection table has $c entries, want 262144 (the default)"
	config native "$(svc_yaml $VIP4 80 tcp tun "${REAL4[0]}:1" "${REAL4[1]}:2" "${REAL4[2]}:3")"
	sed -i '1a flow_hash: murmur3\nconn_table_size: 8191' "$CONF"
	flow_hash_told "before the reload" murmur3 mix64
	conns_told "before the reload" 8191 262144
	reload
	grep -q "flow_hash murmur3 is not applied: the pinned state uses mix64" "$LOG" ||
		fail "no warning that the file's murmur3 is not applied: $(tail -3 "$LOG")"
	grep -qF "$PIN/xlvs_conns keeps its 262144 entries (conn_table_size 8191 needs" "$LOG" ||
		fail "no warning that the file's conn_table_size is not applied: $(tail -3 "$LOG")"
	h=$(ctl '{"cmd": "status"}' | jq -r .flow_hash)
	[ "$h" = mix64 ] || fail "a reload changed the state's hash to '$h'"
	c=$(xlvs -j stats | jq .conn_table.capacity)
	[ "$c" = 262144 ] || fail "a reload resized the connection table to $c"
	flow_hash_told "after the reload" murmur3 mix64
	conns_told "after the reload" 8191 262144
	stop_xlvsd
	"$XLVSD" --detach --pin-dir "$PIN" >/dev/null 2>&1
	start_xlvsd
	grep -q "flow hash: murmur3" "$LOG" || fail "a start on new state did not take the file's murmur3"
	h=$(ctl '{"cmd": "status"}' | jq -r .flow_hash)
	[ "$h" = murmur3 ] || fail "status says '$h' on state made with murmur3"
	ncpus=$(($(sed 's/.*-//' /sys/devices/system/cpu/possible) + 1))
	c=$(xlvs -j stats | jq .conn_table.capacity)
	[ "$c" = $(((8191 + ncpus - 1) / ncpus * ncpus)) ] ||
		fail "a start on new state made a $c-entry table for 8191 on $ncpus CPUs"
	out=$(in_ns "$NS_LB" "$XLVSD" --check -c "$CONF" --pin-dir "$PIN" 2>&1) || fail "--check: exit $?: $out"
	! grep -q "flow_hash\|conn_table_size" <<<"$out" || fail "--check warns of the hash or size the state has: $out"
	stop_xlvsd
	start_xlvsd
	! grep -q "keeps its\|not applied" "$LOG" ||
		fail "a restart on that state warned of what it has: $(grep "keeps its\|not applied" "$LOG")"
	out=$(xlvs diff "$CONF") || fail "xlvs diff: exit $?: $out"
	[ "$out" = "no change: $CONF is what xlvsd runs" ] || fail "diff on murmur3 state: $out"
	check_weights $VIP4
	stop_xlvsd
	"$XLVSD" --detach --pin-dir "$PIN" >/dev/null 2>&1
	config native "$(svc_yaml $VIP4 80 tcp tun "${REAL4[0]}:1")"
	start_xlvsd
	grep -q "flow hash: mix64" "$LOG" || fail "the suite's state is not mix64 again"
}

# A slow upload through the VIP must survive a ring change: the connection table keeps its real.
s_transfer_survives_new_real() {
	local out
	config native "$(svc_yaml $VIP4 80 tcp tun "${REAL4[0]}:1" "${REAL4[1]}:1")"
	reload
	in_ns "$NS_CL" curl -s --max-time 20 --limit-rate 200k -T "$E2E_DIR/up.bin" "$(url $VIP4)" \
		>"$E2E_DIR/up.out" 2>&1 &
	local pid=$!
	sleep 1
	xlvs real add "$VIP4:80" "${REAL4[2]}" weight 5 >/dev/null || fail "real add refused"
	wait $pid || fail "upload failed after the ring changed: $(cat "$E2E_DIR/up.out")"
	out=$(cat "$E2E_DIR/up.out")
	case $out in "real"[12]" 600000") echo "   upload of 600000 bytes completed on ${out% *}";;
	*) fail "upload answer '$out'";; esac
	# The new real is in the ring now: some new connections reach it.
	out=$(spread $VIP4 40) || exit 1
	[ "$(echo "$out" | cut -d' ' -f3)" -gt 0 ] || fail "no new connection reached the added real ($out)"
}

# Weight 0: established upload to that real finishes, new connections avoid it.
# Table state, as IPVS: the upload's entry names its real, and every closed connection stays in
# the table as closing. A drain in ring state (the default) is ring.sh's s_ring_changes (c).
s_drain() {
	local real out counts port=45000 conns
	config native "$(svc_yaml $VIP4 80 tcp dr "${REAL4[0]}:1" "${REAL4[1]}:1" "${REAL4[2]}:1" | as_table)"
	reload
	# a client port of its own (below the client's ephemeral range, lib.sh): its entry is the upload's
	in_ns "$NS_CL" curl -s --max-time 20 --limit-rate 150k --local-port $port -T "$E2E_DIR/up.bin" \
		"$(url $VIP4)" >"$E2E_DIR/drain.out" 2>&1 &
	local pid=$!
	sleep 1
	conns=$(xlvs -j conn list $VIP4:80 --client $CLIENT4:$port) || fail "xlvs conn list"
	real=$(jq -r '[.connections[] | select(.state == "open") | .real] |
		if length == 1 and (.[0] | type) == "string" then .[0] else empty end' <<<"$conns")
	[ -n "$real" ] || fail "the upload (client port $port) is not open, alone, in the table: $(jq -c .connections <<<"$conns")"
	xlvs real set-weight "$VIP4:80" "$real" 0 >/dev/null || fail "set-weight refused"
	counts=$(spread $VIP4 60) || exit 1
	local idx
	for idx in 0 1 2; do [ "${REAL4[$idx]}" = "$real" ] && break; done
	[ "$(echo "$counts" | cut -d' ' -f$((idx + 1)))" -eq 0 ] ||
		fail "drained real $real still got new connections ($counts)"
	wait $pid || fail "established upload to the drained real failed"
	out=$(cat "$E2E_DIR/drain.out")
	[ "${out% *}" = "real$((idx + 1))" ] || fail "upload answered by '$out', want real$((idx + 1))"
	echo "   drained $real: 0 of 60 new connections, its upload finished ($out)"
	# Every client closed (FIN): nothing is active any more, ipvsadm style, on any real.
	out=$(xlvs -j service list | jq -r '[.services[].reals[] | .active_conns] | add')
	[ "$out" = 0 ] || fail "closed connections still count as active: $out
$(xlvs service list)"
	out=$(xlvs -j conn list | jq -r '[.connections[] | select(.state == "closing")] | length')
	[ "$out" -ge 60 ] || fail "only $out connections are closing after 61 closed ones"
	echo "   after the clients closed: 0 active, $out closing in the connection table"
}

# Packets bigger than the tunnel allows: frag-needed / PTB, and the transfer still completes.
s_pmtu() {
	local vip=$1 before after
	config native "$(svc_yaml "$vip" 80 tcp tun "${REAL4[0]}:1" "${REAL4[1]}:1" "${REAL4[2]}:1")"
	[ "$vip" = "$VIP6" ] && config native "$(svc_yaml "$vip" 80 tcp tun "${REAL6[@]/%/:1}")"
	reload
	in_ns "$NS_CL" ip route flush cache >/dev/null 2>&1
	in_ns "$NS_CL" ip -6 route flush cache >/dev/null 2>&1
	before=$(xlvs -j stats | grep -o '"too_big_sent": *[0-9]*' | grep -o '[0-9]*$')
	out=$(in_ns "$NS_CL" curl -s --max-time 15 -T "$E2E_DIR/up.bin" "$(url "$vip")") ||
		fail "upload through $vip failed"
	after=$(xlvs -j stats | grep -o '"too_big_sent": *[0-9]*' | grep -o '[0-9]*$')
	[ "${out#* }" = 600000 ] || fail "upload answer '$out'"
	[ "${after:-0}" -gt "${before:-0}" ] || fail "the director sent no frag-needed/PTB (too_big_sent $before -> $after)"
	echo "   600000-byte upload to $vip completed; too_big_sent $before -> $after"
}
s_pmtu4() { s_pmtu $VIP4; }

# The director as one of its reals (LVS "localnode"): it holds the VIP and serves it itself.
local_real_down() {
	kill "$(cat "$E2E_DIR/http-lb.pid" 2>/dev/null)" 2>/dev/null
	in_ns "$NS_LB" ip addr del $VIP4/32 dev lo 2>/dev/null
	true
}

s_local_real() {
	local i out n1=0 n2=0 nd=0 ev
	trap local_real_down EXIT
	in_ns "$NS_LB" ip addr add $VIP4/32 dev lo || fail "VIP on the director's lo"
	(nsenter --net=/run/netns/"$NS_LB" socat -T10 TCP4-LISTEN:80,bind=$VIP4,fork,reuseaddr \
		EXEC:"$REPO/tests/e2e/http-name.sh director" >/dev/null 2>&1 &
	 echo $! >"$E2E_DIR/http-lb.pid")
	config native "$(svc_yaml $VIP4 80 tcp dr "${REAL4[0]}:1" "${REAL4[1]}:1"
			 echo "      - { address: $LB4, weight: 1, forward: local }")"
	reload
	sleep 0.3
	for i in $(seq 150); do
		out=$(in_ns "$NS_CL" curl -s --max-time 3 "$(url $VIP4)") || fail "connection $i failed"
		case $out in real1*) n1=$((n1 + 1));; real2*) n2=$((n2 + 1));; director*) nd=$((nd + 1));;
		*) fail "connection $i: unexpected answer '$out'";; esac
	done
	echo "   150 connections: real1 $n1, real2 $n2, the director itself $nd (equal weights)"
	# 50 each expected; +-25 is over 4 standard deviations (5.8)
	for i in $n1 $n2 $nd; do [ $((i > 50 ? i - 50 : 50 - i)) -le 25 ] || fail "share $i of 150, want 50 ± 25"; done
	ev=$(xlvs -j stats | jq -r '.events.pass_local_real // empty')
	[ -n "$ev" ] && [ "$ev" -ge $((nd * 4)) ] ||
		fail "pass_local_real is '$ev', want at least 4 packets per local connection ($((nd * 4)))"
	xlvs service list | grep -q "$LB4:80 *Local" || fail "service list does not show the local real: $(xlvs service list)"
}
s_pmtu6() { s_pmtu $VIP6; }

# Reload applies only the difference; the CLI reads what the maps hold.
s_reload_diff() {
	local out
	config native "$(svc_yaml $VIP4 80 tcp dr "${REAL4[0]}:1" "${REAL4[1]}:1")"
	reload
	out=$(xlvs -j reload) || fail "reload"
	echo "$out" | grep -q '"services_added": *0' && echo "$out" | grep -q '"reals_written": *0' &&
		echo "$out" | grep -q '"ring_slots_written": *0' || fail "an unchanged reload wrote something: $out"
	config native "$(svc_yaml $VIP4 80 tcp dr "${REAL4[0]}:1" "${REAL4[1]}:2")"
	out=$(xlvs -j reload) || fail "reload"
	echo "$out" | grep -q '"reals_written": *1' && echo "$out" | grep -q '"services_added": *0' ||
		fail "a weight change should write 1 real and no service: $out"
	xlvs service list | grep -q "${REAL4[1]}:80 .* 2 " || fail "service list does not show weight 2:
$(xlvs service list)"
	echo "   weight change: $(echo "$out" | tr -d ' \n' | grep -o '"applied":{[^}]*}')"
}

# The operator's verbs (docs/cli.md): a runtime change says it is runtime only; reload --dry-run
# shows the reload would revert it and changes nothing; save prints a file that --check passes and
# that, reloaded, writes nothing (the same maps); a refused reload exits 4 (systemctl reload
# reports it); stats --zero zeroes the counters.
s_operator_verbs() {
	local out rc before
	config native "$(svc_yaml $VIP4 80 tcp dr "${REAL4[0]}:1" "${REAL4[1]}:1")
$(svc_yaml $VIP6 80 tcp dr "${REAL6[0]}:2")"
	reload
	out=$(xlvs real set-weight "$VIP4:80" "${REAL4[1]}" 3 2>&1 >/dev/null) || fail "set-weight refused"
	echo "$out" | grep -q "note: runtime change only" || fail "no runtime note on stderr: '$out'"
	before=$(xlvs -j service list)
	out=$(xlvs reload --dry-run) || fail "dry run: exit $?: $out"
	echo "$out" | grep -qx "~ real ${REAL4[1]} in TCP $VIP4:80: weight 3 -> 1" ||
		fail "the dry run does not show the weight going back: $out"
	[ "$before" = "$(xlvs -j service list)" ] || fail "the dry run changed the maps"
	echo "   dry run: $(echo "$out" | head -1)"
	xlvs save >"$E2E_DIR/saved.yaml" || fail "save"
	grep -q "weight: 3" "$E2E_DIR/saved.yaml" || fail "save lacks the runtime weight: $(cat "$E2E_DIR/saved.yaml")"
	out=$(in_ns "$NS_LB" "$XLVSD" --check -c "$E2E_DIR/saved.yaml" --pin-dir "$PIN" 2>&1) ||
		fail "xlvsd --check refuses the saved file: $out"
	cp "$E2E_DIR/saved.yaml" "$CONF"
	out=$(xlvs -j reload) || fail "reloading the saved file: $out"
	[ "$(echo "$out" | jq -c '[.applied[]] | add')" = 0 ] || fail "reloading the saved state wrote: $out"
	[ "$before" = "$(xlvs -j service list)" ] || fail "the saved file loads into other maps"
	echo "   saved $(wc -l <"$E2E_DIR/saved.yaml") lines; --check ok; reloaded: nothing written"
	config native "$(svc_yaml $VIP4 80 tcp dr "${REAL4[0]}:1")
    lb_algo: rr"
	out=$(xlvs reload 2>&1); rc=$?
	[ "$rc" = 4 ] && echo "$out" | grep -q "lb_algo" || fail "refused reload: exit $rc, '$out' (want 4)"
	out=$(xlvs reload --dry-run 2>&1); rc=$?
	[ "$rc" = 4 ] || fail "dry run of a bad file: exit $rc, '$out' (want 4)"
	echo "   refused reload: exit $rc: $out"
	cp "$E2E_DIR/saved.yaml" "$CONF"
	in_ns "$NS_CL" curl -s --max-time 5 -o /dev/null "$(url $VIP4)" || fail "curl through the VIP"
	[ "$(xlvs -j stats | jq '[.services[].stats.packets] | add')" -gt 0 ] || fail "no packet counted"
	out=$(xlvs stats --zero "$VIP4:80") || fail "stats --zero: $out"
	[ "$out" = "zeroed: services 1, reals 2" ] || fail "stats --zero said '$out'"
	[ "$(xlvs -j stats | jq "[.services[] | select(.vip == \"$VIP4\") | .stats.packets] | add")" = 0 ] ||
		fail "counters of $VIP4:80 not zero: $(xlvs stats)"
	echo "   $out"
}

# ping_loss FILE: "LOST SENT" from a finished `ping -q` summary; fails if there is none.
ping_loss() {
	local line sent recv
	line=$(grep "packets transmitted" "$1") || fail "ping printed no summary: $(cat "$1")"
	sent=$(echo "$line" | grep -o '^[0-9]*')
	recv=$(echo "$line" | grep -o '[0-9]* received' | grep -o '[0-9]*')
	echo "$((sent - recv)) $sent"
}

# What killed runs left, cleaned as main() does (pin_dirs_clean "$PIN_DIRS", tests/pin-dirs.sh),
# on a bpffs of its own in a private mount namespace: a dead pid's xlvsd and decapsulator
# directories (maps pinned, one with a directory in it) go, one line each; a running pid's, one a
# process holds locked (a killed run's xlvsd), other names of the same dead pid and a pin stay.
stale_pin_dirs_check() {
	local root=$E2E_DIR/stale-bpffs dead d fd out want
	mkdir -p "$root" && mount -t bpf bpf "$root" || fail "mount bpffs on $root"
	(exit 0) & dead=$!
	wait "$dead"
	! kill -0 "$dead" 2>/dev/null || fail "pid $dead runs again"
	for d in "xlvs-e2e-$dead" "xlvs-e2e-$dead/decap" "xlvs-e2e-$dead-decap1" "xlvs-e2e-$dead-decap3" \
		"xlvs-e2e-$$" "xlvs-e2e-0$dead" "xlvs-e2e-$dead-decap4" "xlvs-e2e-$dead-decap" \
		"xlvs-e2e-$dead-x" "xlvs-e2e-nat$dead-decap1" "xlvs-bench-$dead" "xlvs-unit-e-$dead"; do
		mkdir "$root/$d" && bpftool map create "$root/$d/xlvs_conns" type hash key 4 value 4 \
			entries 16 name conns || fail "pin a map in $root/$d"
	done
	bpftool map create "$root/xlvs-e2e-$dead-decap2" type hash key 4 value 4 entries 16 name conns ||
		fail "pin $root/xlvs-e2e-$dead-decap2"
	exec {fd}<"$root/xlvs-e2e-$dead-decap3"
	flock -n "$fd" || fail "flock $root/xlvs-e2e-$dead-decap3"
	out=$(pin_dirs_clean e2e "$PIN_DIRS" "$root" 2>&1 | sort)
	want=$(sort <<-EOF
	e2e: removed $root/xlvs-e2e-$dead: its pid $dead no longer runs
	e2e: removed $root/xlvs-e2e-$dead-decap1: its pid $dead no longer runs
	e2e: kept $root/xlvs-e2e-$dead-decap3 of pid $dead, which no longer runs: a process holds it locked (an xlvsd left running?)
	EOF
	)
	[ "$out" = "$want" ] || fail "pin_dirs_clean said:
$out
want:
$want"
	for d in "xlvs-e2e-$dead" "xlvs-e2e-$dead-decap1"; do
		[ ! -e "$root/$d" ] || fail "$d is left"
	done
	for d in "xlvs-e2e-$dead-decap3" "xlvs-e2e-$$" "xlvs-e2e-0$dead" "xlvs-e2e-$dead-decap4" \
		"xlvs-e2e-$dead-decap" "xlvs-e2e-$dead-x" "xlvs-e2e-nat$dead-decap1" "xlvs-bench-$dead" \
		"xlvs-unit-e-$dead"; do
		[ -e "$root/$d/xlvs_conns" ] || fail "$d/xlvs_conns is gone"
	done
	[ -e "$root/xlvs-e2e-$dead-decap2" ] || fail "the pin xlvs-e2e-$dead-decap2 is gone"
	echo "   a dead pid's 2 directories removed; a running pid's, a locked one, 7 other names and a pin kept"
}

s_stale_pin_dirs() {
	local dead ns out left
	export -f stale_pin_dirs_check pin_dirs_clean pid_gone fail
	# the bpffs goes with the namespace, however this ends
	E2E_DIR=$E2E_DIR PIN_DIRS=$PIN_DIRS unshare -m --propagation private bash -c stale_pin_dirs_check
	# A killed run's namespaces (a process left in one), of a dead pid: removed, the process
	# killed; this run's own (live pid) and another name of the dead pid kept.
	(exit 0) & dead=$!
	wait "$dead"
	! kill -0 "$dead" 2>/dev/null || fail "pid $dead runs again"
	# shellcheck disable=SC2064 # the names now: dead is local
	trap "for ns in lb r1 x; do ip netns del xlvs-e2e-$dead-\$ns 2>/dev/null; done" EXIT
	for ns in "xlvs-e2e-$dead-lb" "xlvs-e2e-$dead-r1" "xlvs-e2e-$dead-x"; do
		ip netns add "$ns" || fail "netns add $ns"
	done
	ip netns exec "xlvs-e2e-$dead-lb" sleep 600 >/dev/null 2>&1 &
	disown # its kill is the check's, not news
	sleep 0.2
	left=$(ip netns pids "xlvs-e2e-$dead-lb")
	[ "$(wc -w <<<"$left")" = 1 ] || fail "not one process in xlvs-e2e-$dead-lb: $left"
	out=$(netns_clean e2e "$NETNS_NAMES" 2>&1 | sort)
	[ "$out" = "e2e: removed netns xlvs-e2e-$dead-lb of pid $dead, which no longer runs (1 processes killed)
e2e: removed netns xlvs-e2e-$dead-r1 of pid $dead, which no longer runs (0 processes killed)" ] ||
		fail "netns_clean said: $out"
	for ns in "xlvs-e2e-$dead-lb" "xlvs-e2e-$dead-r1"; do
		ip netns list | grep -qw "$ns" && fail "$ns is left"
	done
	sleep 0.1
	kill -0 "$left" 2>/dev/null && fail "the process left in xlvs-e2e-$dead-lb (pid $left) runs on"
	for ns in "xlvs-e2e-$dead-x" "$NS_LB" "$NS_SW" "${NS_R[0]}"; do
		ip netns list | grep -qw "$ns" || fail "$ns was removed"
	done
	echo "   a dead pid's 2 namespaces removed (the process in one killed); this run's and another name kept"
}

# Bad input gets a clear error and changes nothing: malformed control requests, a non-root peer,
# a missing config file, a pin directory that is not on bpffs.
s_bad_input() {
	local before after out rc req
	config native "$(svc_yaml $VIP4 80 tcp dr "${REAL4[0]}:1")"
	reload
	before=$(xlvs -j service list) || fail "service list"
	for req in '{"cmd": "real-add", "service": ' 'not json at all' '{"cmd": "no-such-command"}' \
		   '{"cmd": "real-add", "service": {"vip": "198.18.1.10", "port": 80, "protocol": "tcp"}, "real": {"address": "300.1.1.1"}}' \
		   '{"cmd": "service-del", "service": {"vip": 7}}' '[1, 2, 3]'; do
		out=$(ctl "$req") ||
			fail "no reply to a malformed request: $req"
		echo "$out" | grep -q '"ok": *false' && echo "$out" | grep -q '"error": *"..' ||
			fail "request '$req' got '$out', want {\"ok\": false, \"error\": ...}"
		echo "   $req -> $out"
	done
	after=$(xlvs -j service list)
	[ "$before" = "$after" ] || fail "a refused request changed the maps"
	kill -0 "$(cat "$PIDFILE")" || fail "xlvsd died on malformed requests"

	out=$(in_ns "$NS_LB" \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$XLVS" --socket "$SOCK" reload 2>&1); rc=$?
	[ "$rc" != 0 ] && echo "$out" | grep -qi "permission denied" ||
		fail "non-root reload: rc $rc, '$out' (want a permission error)"
	echo "   non-root, socket 0600: $out (exit $rc)"
	chmod 0711 "$E2E_DIR"; chmod 0666 "$SOCK"	# loosened by mistake: SO_PEERCRED still refuses
	out=$(in_ns "$NS_LB" \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$XLVS" --socket "$SOCK" reload 2>&1); rc=$?
	chmod 0600 "$SOCK"; chmod 0700 "$E2E_DIR"
	[ "$rc" != 0 ] && grep -q "refused a client (pid [0-9]*, uid 65534): not root" "$LOG" ||
		fail "non-root peer on a 0666 socket: rc $rc, '$out', daemon log: $(tail -2 "$LOG")"
	echo "   non-root, socket 0666: $out (exit $rc)"

	out=$(in_ns "$NS_LB" "$XLVSD" -c "$E2E_DIR/missing.yaml" --pin-dir "$PIN-x" --socket "$SOCK-x" 2>&1); rc=$?
	[ "$rc" = 1 ] && echo "$out" | grep -q "missing.yaml: cannot open: No such file" ||
		fail "missing config: rc $rc, '$out'"
	echo "   missing config: $out (exit $rc)"
	mkdir -p "$E2E_DIR/notbpf"
	out=$(in_ns "$NS_LB" "$XLVSD" -c "$CONF" --pin-dir "$E2E_DIR/notbpf/x" --socket "$SOCK-x" 2>&1); rc=$?
	[ "$rc" = 2 ] && echo "$out" | grep -q "is not on a bpffs" || fail "pin dir not on bpffs: rc $rc, '$out'"
	echo "   pin dir not on bpffs: $out (exit $rc)"
	[ "$before" = "$(xlvs -j service list)" ] || fail "a refused start changed the running director's maps"
}

# Under systemd (Type=notify, WatchdogSec=): READY=1 once the data path is up, STATUS=, and
# WATCHDOG=1 at half the interval. The notify socket here is a datagram socket of our own.
s_systemd_notify() {
	local n
	stop_xlvsd
	socat -u UNIX-RECV:"$E2E_DIR/notify" - >"$E2E_DIR/notify.out" 2>&1 &
	local sock=$!
	sleep 0.2
	XLVSD_ENV="NOTIFY_SOCKET=$E2E_DIR/notify WATCHDOG_USEC=400000" start_xlvsd
	sleep 1
	kill $sock
	n=$(grep -o "WATCHDOG=1" "$E2E_DIR/notify.out" | wc -l)
	grep -q "READY=1" "$E2E_DIR/notify.out" || fail "no READY=1 on the notify socket: $(cat "$E2E_DIR/notify.out")"
	grep -q "STATUS=" "$E2E_DIR/notify.out" || fail "no STATUS= on the notify socket"
	[ "$n" -ge 3 ] || fail "$n WATCHDOG=1 in 1 s with WatchdogSec=0.4s, want >= 3"
	echo "   READY=1, STATUS=$(grep -ao 'STATUS=[^A-Z]*' "$E2E_DIR/notify.out" | head -1 | cut -c8-), $n watchdog pings in 1 s"
	stop_xlvsd
	start_xlvsd
}

# A new program version replaces the running one atomically on the same bpf_link, with the maps
# (and so the connection table) reused: an xlvsd carrying another build of the director is started
# over the running one, then the current one again, under traffic.
s_upgrade() {
	local link0 link1 lost sent prog0 prog1
	[ -x "$BUILD/tests/upgrade/xlvsd" ] || fail "build first: $BUILD/tests/upgrade/xlvsd missing (make)"
	config native "$(svc_yaml $VIP4 80 tcp dr "${REAL4[0]}:1" "${REAL4[1]}:1")"
	reload
	link0=$(in_ns "$NS_LB" bpftool -j link show pinned "$PIN/link_eth0" | grep -o '"id":[0-9]*' | head -1)
	prog0=$(in_ns "$NS_LB" ip -d link show dev eth0 | grep -o 'prog/xdp id [0-9]*')
	in_ns "$NS_CL" ping -q -i 0.005 -c 1000 -W 1 $VIP4 >"$E2E_DIR/ping.out" 2>&1 &
	local ping=$!
	in_ns "$NS_CL" curl -s --max-time 20 --limit-rate 150k -T "$E2E_DIR/up.bin" "$(url $VIP4)" \
		>"$E2E_DIR/upgrade.out" 2>&1 &
	local upload=$!
	sleep 1
	stop_xlvsd
	XLVSD_BIN=$BUILD/tests/upgrade/xlvsd start_xlvsd
	grep -q "program swapped to id [0-9]* on bpf_link" "$LOG" ||
		fail "the other build did not swap the program: $(grep -i 'eth0' "$LOG" | tail -3)"
	prog1=$(in_ns "$NS_LB" ip -d link show dev eth0 | grep -o 'prog/xdp id [0-9]*')
	[ "$prog1" != "$prog0" ] || fail "the interface still runs $prog0"
	echo "   $(grep -o 'eth0: program swapped.*' "$LOG")"
	sleep 1
	stop_xlvsd
	start_xlvsd
	grep -q "program swapped to id [0-9]* on bpf_link" "$LOG" || fail "the current build did not swap back"
	link1=$(in_ns "$NS_LB" bpftool -j link show pinned "$PIN/link_eth0" | grep -o '"id":[0-9]*' | head -1)
	[ -n "$link0" ] && [ "$link0" = "$link1" ] || fail "the bpf_link changed ($link0 -> $link1)"
	wait $ping
	wait $upload || fail "the upload failed across the upgrade: $(cat "$E2E_DIR/upgrade.out")"
	case $(cat "$E2E_DIR/upgrade.out") in "real"[12]" 600000") ;;
	*) fail "upload answer '$(cat "$E2E_DIR/upgrade.out")'";; esac
	read -r lost sent <<<"$(ping_loss "$E2E_DIR/ping.out")" || exit 1
	echo "   upgrade and back on bpf_link ${link0#*:}: $lost of $sent echo requests lost; upload kept its real"
	[ "$lost" = 0 ] || fail "lost $lost of $sent packets across the upgrade"
}

# ---- health checks ----
HC_INTERVAL=200 HC_TIMEOUT=150 HC_JITTER=10	# ms, ms, percent (loader/health/hc.c JITTER)

# health_config RISE FALL EXTRA-YAML: the IPv4 web service by DR to real1..real(N), HTTP-checked.
health_config() {
	local rise=$1 fall=$2 extra=$3; shift 3
	config native "$(svc_yaml $VIP4 80 tcp dr "$@")
    check: { type: http, path: /, interval: ${HC_INTERVAL}ms, timeout: ${HC_TIMEOUT}ms, rise: $rise, fall: $fall }
$extra"
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# detect_bound FALL: ms from a real's failure to its "down": FALL checks at the longest
# jittered interval, the last one timing out, plus 100 ms for the test's own log polling.
detect_bound() { echo $(($1 * HC_INTERVAL * (100 + HC_JITTER) / 100 + HC_TIMEOUT + 100)); }

# wait_all_up N TIMEOUT-MS: until xlvsd's health report has N reals up whose last two or more
# checks ran and the last one passed (the initial state alone says nothing).
wait_all_up() {
	local t0 up
	t0=$(now_ms)
	while :; do
		up=$(ctl '{"cmd": "health"}' |
			jq '[.services[].reals[] | .health |
			    select(.state == "up" and .last_result == "ok" and .checks >= 2)] | length')
		[ "${up:-0}" -ge "$1" ] && return 0
		[ $(($(now_ms) - t0)) -lt "$2" ] || fail "only ${up:-0} of $1 reals up after $2 ms: $(tail -3 "$LOG")"
		sleep 0.05
	done
}

# wait_log PATTERN N TIMEOUT-MS: until PATTERN has N matches in the daemon log; prints the time.
wait_log() {
	local t0 now
	t0=$(now_ms)
	while [ "$(grep -c -- "$1" "$LOG")" -lt "$2" ]; do
		now=$(now_ms)
		[ $((now - t0)) -lt "$3" ] || fail "no '$1' (x$2) in the log within $3 ms: $(tail -3 "$LOG")"
		sleep 0.02
	done
	now_ms
}

# wait_maps_written: until xlvsd has written the maps for every health change it logged (its last
# "health: applied" line follows its last "is down"/"is up" line: the maps are written after the
# change is logged, the line saying how long the write took (docs/health.md), and traffic follows
# the old maps until then). Prints the time.
wait_maps_written() {
	local t0 now a c
	t0=$(now_ms)
	while :; do
		a=$(grep -n "health: applied" "$LOG" | tail -1 | cut -d: -f1)
		c=$(grep -nE "health: .* is (down|up) \(" "$LOG" | tail -1 | cut -d: -f1)
		[ "${a:-0}" -gt "${c:-0}" ] && break
		now=$(now_ms)
		[ $((now - t0)) -lt 3000 ] ||
			fail "no 'health: applied' after the last health change within 3000 ms: $(tail -3 "$LOG")"
		sleep 0.02
	done
	now_ms
}

# Steady client traffic: one new connection every ~20 ms; lines "START-MS real2" or "START-MS FAIL".
client_loop() {	# client_loop OUT SECONDS
	local end=$(($(now_ms) + $2 * 1000)) t out
	while [ "$(now_ms)" -lt $end ]; do
		t=$(now_ms)
		if out=$(in_ns "$NS_CL" curl -s --max-time 1 "$(url $VIP4)"); then echo "$t ${out%% *}"
		else echo "$t FAIL"; fi
		sleep 0.02
	done >"$1"
}

# results FILE FROM-MS [TO-MS]: the client results of the requests started in [FROM, TO).
results() { awk -v a="$2" -v b="${3:-}" '$1 >= a && (b == "" || $1 < b) { print $2 }' "$1"; }

# A killed real stops getting new connections within fall x interval (+ jitter) + timeout;
# no request started after detection fails; established connections elsewhere go on; a
# restarted real comes back after rise checks.
s_health_detect() {
	local rise=2 fall=2 t_kill t_down t_start t_up bound out n
	health_config $rise $fall "" "${REAL4[0]}:1" "${REAL4[1]}:1" "${REAL4[2]}:1"
	reload
	wait_all_up 3 5000
	grep -q "real ${REAL4[0]} is down" "$LOG" && fail "real1 went down before its server was killed"
	in_ns "$NS_CL" curl -s --max-time 20 --limit-rate 100k -T "$E2E_DIR/up.bin" "$(url $VIP4)" \
		>"$E2E_DIR/hc-upload.out" 2>&1 &
	local upload=$!
	client_loop "$E2E_DIR/hc-client.out" 6 &
	local client=$!
	sleep 1
	n=$(grep -c "real ${REAL4[0]} is down" "$LOG")
	local t_applied
	t_kill=$(now_ms)
	http_down 0
	t_down=$(wait_log "real ${REAL4[0]} is down" $((n + 1)) 3000) || exit 1
	t_applied=$(wait_maps_written) || exit 1
	bound=$(detect_bound $fall)
	echo "   real1's server killed: marked down after $((t_down - t_kill)) ms (bound fall x interval (+10%) + timeout + 100 ms poll slack = $bound ms)"
	[ $((t_down - t_kill)) -le $bound ] || fail "detection took $((t_down - t_kill)) ms > $bound ms"
	sleep 1.5
	n=$(grep -c "real ${REAL4[0]} is up" "$LOG")
	t_start=$(now_ms)
	http_up 0
	t_up=$(wait_log "real ${REAL4[0]} is up" $((n + 1)) 3000) || exit 1
	echo "   real1's server restarted: marked up after $((t_up - t_start)) ms (rise $rise x ${HC_INTERVAL} ms)"
	wait $client
	# Between detection and the restart: nothing fails and nothing reaches real1.
	out=$(results "$E2E_DIR/hc-client.out" $((t_applied + 20)) "$t_start")
	[ -n "$out" ] || fail "no client request between detection and restart"
	echo "$out" | grep -q FAIL && fail "requests failed after detection: $(echo "$out" | sort | uniq -c | tr '\n' ' ')"
	echo "$out" | grep -q real1 && fail "real1 got new connections while down: $(echo "$out" | sort | uniq -c | tr '\n' ' ')"
	echo "   while down: $(echo "$out" | sort | uniq -c | awk '{printf "%s %s  ", $2, $1}')(no failures)"
	echo "   failures before the maps were written ($((t_applied - t_down)) ms after the log said down):" \
		"$(results "$E2E_DIR/hc-client.out" "$t_kill" $((t_applied + 20)) | grep -c FAIL)"
	out=$(results "$E2E_DIR/hc-client.out" $((t_up + 20)))
	echo "$out" | grep -q real1 || fail "real1 got no new connection after it came back"
	echo "$out" | grep -q FAIL && fail "requests failed after real1 came back"
	wait $upload || fail "an established upload failed: $(cat "$E2E_DIR/hc-upload.out")"
	case $(cat "$E2E_DIR/hc-upload.out") in "real"[123]" 600000") ;; *) fail "upload answer '$(cat "$E2E_DIR/hc-upload.out")'";; esac
	echo "   established upload finished on $(cut -d' ' -f1 "$E2E_DIR/hc-upload.out")"
}

# ---- new connections on reused client ports, as under any real load ----
# The client's kernel picks source ports from a range of REUSE_PORTS and reuses ports still in
# TIME_WAIT (tcp_tw_reuse, with timestamps), as busy clients do: ports repeat within seconds.
REUSE_WORKERS=4 REUSE_PORTS=16

# reuse_worker SECONDS STOP-FILE: new connections back to back until SECONDS pass or STOP-FILE
# exists; lines "START-MS realN|FAIL/curl-exit-N|NOPORT LOCAL-PORT". NOPORT: the client's own
# connect() found none of its few ports free (EADDRNOTAVAIL: each is in use or in a TIME_WAIT
# younger than tcp_tw_reuse's 1 s), so no SYN left the client and the director had no part in
# it; curl says exit 7 for that too, as for a refused connection, so its message tells them apart.
reuse_worker() {
	local end=$(($(now_ms) + $1 * 1000)) t out rc err=$2.err.$BASHPID
	while [ "$(now_ms)" -lt $end ] && [ ! -e "$2" ]; do
		t=$(now_ms) rc=0
		out=$(in_ns "$NS_CL" env LC_ALL=C curl -sv --max-time 1 -w ' %{local_port}' "$(url $VIP4)" \
			2>"$err") || rc=$?
		if [ $rc != 0 ]; then
			grep -q 'Cannot assign requested address' "$err" && out="NOPORT 0" ||
				out="FAIL/curl-exit-$rc ${out##* }"
		fi
		echo "$t ${out%% *} ${out##* }"
	done
	rm -f "$err"
}

# reuse_loop OUT SECONDS: REUSE_WORKERS clients in parallel, their lines merged in time order;
# touch OUT.stop to end it early (reuse_stop).
reuse_loop() {
	local w range tw
	range=$(in_ns "$NS_CL" sysctl -n net.ipv4.ip_local_port_range | tr -s '\t ' ' ')
	tw=$(in_ns "$NS_CL" sysctl -n net.ipv4.tcp_tw_reuse)
	sysctl_ns "$NS_CL" net.ipv4.ip_local_port_range "42000 $((42000 + REUSE_PORTS - 1))"
	sysctl_ns "$NS_CL" net.ipv4.tcp_tw_reuse 1
	rm -f "$1.stop"
	for w in $(seq 1 $REUSE_WORKERS); do reuse_worker "$2" "$1.stop" >"$1.$w" & done
	wait
	# both put back: with tcp_tw_reuse left at 1, later scenarios' clients reuse ports whose
	# entries are still closing (conn_reused), which takes them out of wlc's counts (s_import)
	sysctl_ns "$NS_CL" net.ipv4.ip_local_port_range "$range"
	sysctl_ns "$NS_CL" net.ipv4.tcp_tw_reuse "$tw"
	sort -n "$1".[0-9]* >"$1"
}

# reuse_start OUT SECONDS / reuse_stop OUT: reuse_loop in the background, stopped and waited for
# however the scenario ends: a failed one must not leave its clients running into the next
# scenario (their lines in its files, its port range put back under it).
reuse_start() {
	reuse_loop "$1" "$2" &
	REUSE_LOOP=$! REUSE_OUT=$1
	trap reuse_stop EXIT
}
reuse_stop() {
	[ -n "${REUSE_LOOP:-}" ] || return 0
	touch "$REUSE_OUT.stop"
	wait "$REUSE_LOOP"
	REUSE_LOOP=
}

# reuse_sent FILE FROM-MS [TO-MS]: the outcomes of the connections started in [FROM, TO) that
# left the client (results, without NOPORT).
reuse_sent() { results "$@" | grep -v '^NOPORT$'; }

# reuse_noport FILE: "; the client had no free port N times (nothing sent)", or nothing.
reuse_noport() {
	local n
	n=$(grep -c ' NOPORT ' "$1")
	[ "$n" = 0 ] || echo "; the client had no free port $n times (nothing sent)"
}

# reuse_report FILE FROM-MS: fails unless ports really repeated; prints the counts after FROM.
reuse_check_ports() {
	local n ports
	n=$(grep -vc ' NOPORT ' "$1"); ports=$(awk '$3 ~ /^[0-9]+$/ && $3 > 0 { print $3 }' "$1" | sort -u | wc -l)
	[ "$ports" -gt 0 ] && [ "$n" -ge $((ports * 2)) ] ||
		fail "$n connections over $ports source ports: ports did not repeat, nothing was tested: $(head -5 "$1" | tr '\n' ' ')"
	echo "   $n connections from $ports source ports ($((n / ports)) per port)$(reuse_noport "$1")"
}

# busiest_real OUT: index (0-2) of the real that answered most of the loop's connections so far
# (once one answered 3): the client's few ports hash to some reals only, so the test stops one
# they reach. Up to 5 s: the first SYNs to a real the director has just learnt may wait for its
# neighbour entry (a SYN retransmit is 1 s, curl's whole budget).
busiest_real() {
	local name t0
	t0=$(now_ms)
	while :; do
		name=$(cat "$1".[0-9]* | awk '$2 ~ /^real/ { print $2 }' | sort | uniq -c | sort -rn |
			awk 'NR == 1 && $1 >= 3 { print $2 }')
		[ -n "$name" ] && break
		[ $(($(now_ms) - t0)) -lt 5000 ] || fail "no real answered 3 of the loop's connections within 5 s"
		sleep 0.1
	done
	echo $((${name#real} - 1))
}

# A real's server is killed under load, on_down: quiesce (the default). Clients reuse their
# ports, so ports the dead real refused come back: after the maps are updated none may fail.
# Checks at 400 ms, fall 4: the ~1.7 s before detection let refused ports pile up; the clients
# go on for 3 s after it.
s_reuse_quiesce() {
	local HC_INTERVAL=400 t_kill t_down t_applied n out idx before between
	health_config 2 4 "" "${REAL4[0]}:1" "${REAL4[1]}:1" "${REAL4[2]}:1"
	reload
	wait_all_up 3 5000
	reuse_start "$E2E_DIR/reuse.out" 30
	sleep 1
	idx=$(busiest_real "$E2E_DIR/reuse.out") || exit 1
	n=$(grep -c "real ${REAL4[$idx]} is down" "$LOG")
	t_kill=$(now_ms)
	http_down "$idx"
	t_down=$(wait_log "real ${REAL4[$idx]} is down" $((n + 1)) 5000) || exit 1
	t_applied=$(wait_maps_written) || exit 1
	sleep 3
	reuse_stop
	http_up "$idx"
	reuse_check_ports "$E2E_DIR/reuse.out"
	before=$(reuse_sent "$E2E_DIR/reuse.out" "$t_kill" $((t_down + 20)) | grep -c FAIL)
	between=$(reuse_sent "$E2E_DIR/reuse.out" $((t_down + 20)) $((t_applied + 20)) | grep -c FAIL)
	echo "   real$((idx + 1)) killed, down after $((t_down - t_kill)) ms; failures before detection: $before"
	echo "   maps written $((t_applied - t_down)) ms after the log said down; failures meanwhile: $between"
	[ "$before" -gt 0 ] || fail "no connection reached the dead real before detection: nothing tested"
	out=$(reuse_sent "$E2E_DIR/reuse.out" $((t_applied + 20)))
	[ "$(echo "$out" | wc -l)" -ge 10 ] || fail "only $(echo "$out" | wc -l) connections after detection"
	echo "   after detection: $(echo "$out" | sort | uniq -c | awk '{printf "%s %s  ", $2, $1}')"
	echo "$out" | grep -q FAIL && fail "$(echo "$out" | grep -c FAIL) connections failed after the maps were updated (events: $(xlvs -j stats | jq -c '.events | {conn_reused, conn_resched_weight0, conn_resched_new_syn}'))"
	wait_all_up 3 5000
}

# serving_real PORT: index (0-2) of the real holding an established connection from the client's
# PORT to the VIP (up to 1 s for the handshake), or nothing. Asked of the reals, not the director:
# a ring-state service keeps no entry for a flow on a slot that never changed owner.
serving_real() {
	local i t0
	t0=$(now_ms)
	while [ $(($(now_ms) - t0)) -lt 1000 ]; do
		for i in 0 1 2; do
			[ -n "$(in_ns "${NS_R[$i]}" ss -Htn state established "( sport = :80 and dport = :$1 )")" ] &&
				{ echo $i; return 0; }
		done
		sleep 0.05
	done
}

# The same by hand: a real's server stops taking connections (its in-flight upload goes on),
# the operator sets its weight to 0. After that no connection fails or reaches it, and the
# upload finishes on it.
s_reuse_drain() {
	local t_drain out real idx before port upload
	config native "$(svc_yaml $VIP4 80 tcp dr "${REAL4[0]}:1" "${REAL4[1]}:1" "${REAL4[2]}:1")"
	reload
	reuse_start "$E2E_DIR/reuse.out" 30
	sleep 1
	idx=$(busiest_real "$E2E_DIR/reuse.out") || exit 1
	real=${REAL4[$idx]}
	# An upload the ring gives to that real, from a port outside the loop's range.
	# nsenter itself, so $! is curl and a wrong attempt really ends; each attempt its own file.
	for port in $(seq 43000 43030); do
		nsenter --net=/run/netns/"$NS_CL" curl -sS --max-time 20 --limit-rate 150k --local-port "$port" \
			-T "$E2E_DIR/up.bin" "$(url $VIP4)" >"$E2E_DIR/reuse-upload.$port" 2>&1 &
		upload=$!
		[ "$(serving_real "$port")" = "$idx" ] && break
		kill $upload 2>/dev/null; wait $upload 2>/dev/null
		upload=
	done
	[ -n "$upload" ] || fail "no upload port reaches $real"
	mv "$E2E_DIR/reuse-upload.$port" "$E2E_DIR/reuse-upload.out"
	http_down "$idx"
	sleep 2
	xlvs real set-weight "$VIP4:80" "$real" 0 >/dev/null || fail "set-weight refused"
	t_drain=$(now_ms)
	sleep 3
	reuse_stop
	http_up "$idx"
	reuse_check_ports "$E2E_DIR/reuse.out"
	before=$(reuse_sent "$E2E_DIR/reuse.out" 0 "$t_drain" | grep -c FAIL)
	echo "   real$((idx + 1)) stopped, then drained; failures before the drain: $before"
	[ "$before" -gt 0 ] || fail "no connection reached the stopped real before the drain: nothing tested"
	out=$(reuse_sent "$E2E_DIR/reuse.out" "$t_drain")
	[ "$(echo "$out" | wc -l)" -ge 10 ] || fail "only $(echo "$out" | wc -l) connections after the drain"
	echo "   after the drain: $(echo "$out" | sort | uniq -c | awk '{printf "%s %s  ", $2, $1}')"
	echo "$out" | grep -q FAIL && fail "$(echo "$out" | grep -c FAIL) connections failed after the drain"
	echo "$out" | grep -q "real$((idx + 1))" && fail "the drained real got new connections"
	wait $upload || fail "the established upload to the drained real failed"
	[ "$(cat "$E2E_DIR/reuse-upload.out")" = "real$((idx + 1)) 600000" ] ||
		fail "upload answer '$(cat "$E2E_DIR/reuse-upload.out")', want real$((idx + 1))"
	echo "   the upload finished on the drained real$((idx + 1))"
}

# IPv6 reals, TCP connect checks over IPv6: a killed real is marked down and gets no new
# connection; restarted, it is back.
s_health_ipv6() {
	local n t_kill t_down bound out
	config native "$(svc_yaml $VIP6 80 tcp dr "${REAL6[0]}:1" "${REAL6[1]}:1" "${REAL6[2]}:1")
    check: { type: tcp, interval: ${HC_INTERVAL}ms, timeout: ${HC_TIMEOUT}ms, rise: 2, fall: 2 }"
	reload
	# A new IPv6 neighbour may take one retransmit (1 s) to resolve: start once all are up.
	wait_all_up 3 5000
	n=$(grep -c "real ${REAL6[0]} is down" "$LOG")
	t_kill=$(now_ms)
	http_down 0
	t_down=$(wait_log "real ${REAL6[0]} is down" $((n + 1)) 3000) || exit 1
	bound=$(detect_bound 2)
	[ $((t_down - t_kill)) -le $bound ] || fail "IPv6 detection took $((t_down - t_kill)) ms > $bound ms"
	wait_maps_written >/dev/null
	out=$(spread $VIP6 30) || exit 1
	[ "$(echo "$out" | cut -d' ' -f1)" = 0 ] || fail "real1 got new IPv6 connections while down ($out)"
	echo "   IPv6 real1 killed: down after $((t_down - t_kill)) ms (bound $bound); 30 connections: $out"
	n=$(grep -c "real ${REAL6[0]} is up" "$LOG")
	http_up 0
	wait_log "real ${REAL6[0]} is up" $((n + 1)) 3000 >/dev/null
	wait_maps_written >/dev/null
	out=$(spread $VIP6 30) || exit 1
	[ "$(echo "$out" | cut -d' ' -f1)" -gt 0 ] || fail "real1 got no IPv6 connection after coming back ($out)"
	echo "   restarted: back, 30 connections: $out"
}

# xlvs health: a killed real shows down with its failing result, back up after its restart.
s_health_verb() {
	local n out j a=${REAL4[0]}
	config native "$(svc_yaml $VIP4 80 tcp dr "${REAL4[0]}:1" "${REAL4[1]}:1" "${REAL4[2]}:1")
    check: { type: tcp, interval: ${HC_INTERVAL}ms, timeout: ${HC_TIMEOUT}ms, rise: 2, fall: 2 }"
	reload
	wait_all_up 3 5000
	out=$(xlvs health) || fail "xlvs health: exit $?"
	[ "$(grep -c "^  198\.18\..* up  *tcp  *198\.18\..*:80  *ok: connected " <<<"$out")" = 3 ] ||
		fail "not 3 reals up in xlvs health: $out"
	n=$(grep -c "real $a is down" "$LOG")
	http_down 0
	wait_log "real $a is down" $((n + 1)) 3000 >/dev/null
	out=$(xlvs health $VIP4:80 "$a") || fail "xlvs health SERVICE REAL: exit $?"
	echo "$out" | sed 's/^/   /'
	[ "$(grep -c "^  $a:80 " <<<"$out")" = 1 ] && [ "$(grep -c "^  198" <<<"$out")" = 1 ] ||
		fail "the filter did not leave real1 alone: $out"
	grep -q "^  $a:80  *down  *tcp  *$a:80  *failed: connect: Connection refused .* ago  *1  " <<<"$out" ||
		fail "real1 not shown down with its failing result: $out"
	j=$(xlvs -j health $VIP4:80 "$a" | jq -c '.services[0].reals[0].health') || fail "xlvs -j health"
	jq -e '.state == "down" and .last_result == "failed" and .last_message == "connect: Connection refused"
	       and .transitions == 1 and .consecutive_failed >= 2 and .initial == false
	       and .target == "'"$a"':80" and .last_change_ago_ms < 5000
	       and (.running or .next_check_in_ms <= '$((HC_INTERVAL * 11 / 10))')' <<<"$j" >/dev/null ||
		fail "xlvs -j health: $j"
	n=$(grep -c "real $a is up" "$LOG")
	http_up 0
	wait_log "real $a is up" $((n + 1)) 3000 >/dev/null
	j=$(xlvs -j health $VIP4:80 "$a" | jq -c '.services[0].reals[0].health') || fail "xlvs -j health"
	jq -e '.state == "up" and .last_result == "ok" and .transitions == 2 and .consecutive_ok >= 2' \
		<<<"$j" >/dev/null || fail "real1 not back up in xlvs health: $j"
	echo "   restarted: $(xlvs health $VIP4:80 "$a" | grep "^  $a")"
	xlvs health 198.18.0.99 >/dev/null 2>&1; [ $? = 2 ] || fail "xlvs health of an unknown service: not exit 2"
}

# All reals down: the sorry server answers; it stops as soon as a real is back.
s_health_sorry() {
	local n0 n1 out
	health_config 2 2 "    sorry: { address: ${REAL4[2]} }" "${REAL4[0]}:1" "${REAL4[1]}:1"
	reload
	wait_all_up 2 5000
	out=$(spread $VIP4 20) || exit 1
	[ "$(echo "$out" | cut -d' ' -f3)" = 0 ] || fail "the sorry server answered while reals are up ($out)"
	n0=$(grep -c "real ${REAL4[0]} is down" "$LOG"); n1=$(grep -c "real ${REAL4[1]} is down" "$LOG")
	http_down 0; http_down 1
	wait_log "real ${REAL4[0]} is down" $((n0 + 1)) 3000 >/dev/null
	wait_log "real ${REAL4[1]} is down" $((n1 + 1)) 3000 >/dev/null
	wait_maps_written >/dev/null
	out=$(spread $VIP4 20) || exit 1
	[ "$out" = "0 0 20" ] || fail "with every real down, want the sorry server (real3) for all 20, got $out"
	echo "   all reals down: 20 of 20 answered by the sorry server (real3)"
	n0=$(grep -c "real ${REAL4[0]} is up" "$LOG")
	http_up 0; http_up 1
	wait_log "real ${REAL4[0]} is up" $((n0 + 1)) 3000 >/dev/null
	sleep 0.1
	out=$(spread $VIP4 20) || exit 1
	[ "$(echo "$out" | cut -d' ' -f3)" = 0 ] || fail "the sorry server still answers after real1 came back ($out)"
	echo "   real1 back: the sorry server gets nothing ($out)"
}

# Failed checks of real1 so far, from the daemon's health report.
real1_failures() {
	ctl '{"cmd": "health"}' |
		jq -r --arg a "${REAL4[0]}" '[.services[].reals[] | select(.address == $a) | .health.failures] | add // "none"'
}

# A real flapping faster than rise/fall allow changes state (and the ring) at most once per
# min(rise, fall) checks.
s_health_flap() {
	local rise=3 fall=3 i n0 n1 applied0 applied1 t0 t1 bound f0 f1
	health_config $rise $fall "" "${REAL4[0]}:1" "${REAL4[1]}:1" "${REAL4[2]}:1"
	reload
	wait_all_up 3 5000
	n0=$(grep -c "real ${REAL4[0]} is \(up\|down\)" "$LOG")
	applied0=$(grep -c "health: applied" "$LOG")
	f0=$(real1_failures)
	t0=$(now_ms)
	for i in $(seq 10); do http_down 0; sleep 0.15; http_up 0; sleep 0.15; done
	t1=$(now_ms)
	n1=$(grep -c "real ${REAL4[0]} is \(up\|down\)" "$LOG")
	applied1=$(grep -c "health: applied" "$LOG")
	f1=$(real1_failures)
	# The checks did see the flapping (a check that never ran would pass this test too).
	[ $((f1 - f0)) -ge 2 ] || fail "only $((f1 - f0)) failed checks of real1 while it flapped"
	bound=$((1 + (t1 - t0) / (rise * HC_INTERVAL * (100 - HC_JITTER) / 100)))
	echo "   real1 flapping every 150 ms for $((t1 - t0)) ms: $((f1 - f0)) failed checks, $((n1 - n0)) state changes, $((applied1 - applied0)) ring updates (bound $bound)"
	[ $((n1 - n0)) -le "$bound" ] && [ $((applied1 - applied0)) -le "$bound" ] ||
		fail "flapping changed state $((n1 - n0)) times / applied $((applied1 - applied0)) ring updates, bound $bound"
}

# Restarting xlvsd under traffic loses nothing: the pinned link keeps forwarding. Two streams: echo
# requests answered by the director itself, and a rate-limited upload forwarded to a real (DR).
s_restart_no_loss() {
	local lost sent i
	config native "$(svc_yaml $VIP4 80 tcp dr "${REAL4[0]}:1")"
	reload
	in_ns "$NS_CL" ping -q -i 0.005 -c 1500 -W 1 $VIP4 >"$E2E_DIR/ping.out" 2>&1 &
	local ping=$!
	in_ns "$NS_CL" curl -s --max-time 20 --limit-rate 150k -T "$E2E_DIR/up.bin" "$(url $VIP4)" \
		>"$E2E_DIR/restart.out" 2>&1 &
	local upload=$!
	for i in 1 2 3; do
		sleep 1.2
		stop_xlvsd
		start_xlvsd
		grep -q "adopted pinned" "$LOG" || fail "restart $i did not adopt the pinned program: $(tail -3 "$LOG")"
	done
	wait $ping
	wait $upload || fail "the upload through the VIP failed across restarts: $(cat "$E2E_DIR/restart.out")"
	[ "$(cat "$E2E_DIR/restart.out")" = "real1 600000" ] ||
		fail "upload answer '$(cat "$E2E_DIR/restart.out")', want 'real1 600000'"
	read -r lost sent <<<"$(ping_loss "$E2E_DIR/ping.out")" || exit 1
	echo "   3 restarts under $sent echo requests to the VIP: $lost lost; 600000-byte upload completed"
	[ "$lost" = 0 ] || fail "lost $lost of $sent packets across restarts"
}

# Fault: xlvsd killed with SIGKILL under traffic while a real is down. The pinned program goes on
# forwarding (echo requests answered by the director, an upload to a real), the next xlvsd adopts
# it, and health is taken from the maps: the down real keeps weight 0 (no weight-1 window).
s_kill9_under_traffic() {
	local pid lost sent i w n
	health_config 2 2 "" "${REAL4[0]}:1" "${REAL4[1]}:1" "${REAL4[2]}:1"
	reload
	wait_all_up 3 5000
	n=$(grep -c "real ${REAL4[1]} is down" "$LOG")
	http_down 1
	wait_log "real ${REAL4[1]} is down" $((n + 1)) 3000 >/dev/null
	wait_maps_written >/dev/null	# else the upload's SYN may still go to the down real
	in_ns "$NS_CL" ping -q -i 0.005 -c 600 -W 1 $VIP4 >"$E2E_DIR/ping9.out" 2>&1 &
	local ping=$!
	in_ns "$NS_CL" curl -sS --max-time 20 --limit-rate 150k -T "$E2E_DIR/up.bin" "$(url $VIP4)" \
		>"$E2E_DIR/kill9.out" 2>&1 &
	local upload=$!
	sleep 0.5
	xlvs -j conn list >"$E2E_DIR/kill9.conns"
	pid=$(cat "$PIDFILE") && rm -f "$PIDFILE"
	kill -9 "$pid"
	for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	kill -0 "$pid" 2>/dev/null && fail "xlvsd ($pid) survived SIGKILL"
	sleep 1		# nobody runs the control plane now; the data path does not notice
	start_xlvsd
	grep -q "adopted pinned" "$LOG" || fail "the restarted xlvsd did not adopt the pinned program: $(tail -3 "$LOG")"
	grep -q "health: started from the adopted maps: 1 checked reals down" "$LOG" ||
		fail "health not taken from the maps: $(grep health "$LOG" | tail -3)"
	for i in $(seq 10); do	# 1 s: every check has run several times
		w=$(xlvs -j service list | jq -r --arg a "${REAL4[1]}" '.services[].reals[] | select(.address == $a) | .weight')
		[ "$w" = 0 ] || fail "the down real ${REAL4[1]} got weight '$w' back after the restart"
		sleep 0.1
	done
	http_up 1
	wait $ping
	wait $upload || fail "the upload through the VIP failed across the kill: $(cat "$E2E_DIR/kill9.out"); connections before the kill: $(jq -c '[.connections[] | {client_port, real, state}]' "$E2E_DIR/kill9.conns"); events: $(xlvs -j stats | jq -c .events)"
	case $(cat "$E2E_DIR/kill9.out") in "real"[13]" 600000") ;; *) fail "upload answer '$(cat "$E2E_DIR/kill9.out")'";; esac
	read -r lost sent <<<"$(ping_loss "$E2E_DIR/ping9.out")" || exit 1
	echo "   SIGKILL under $sent echo requests to the VIP and an upload: $lost lost, upload completed;" \
		"restart adopted the program, ${REAL4[1]} stayed at weight 0"
	[ "$lost" = 0 ] || fail "lost $lost of $sent packets across the kill"
	wait_all_up 3 5000
}

# ---- fault: a flood of SYNs of new flows while established connections stream ----
# SYNs with the guard on (the issue's million) and off (enough to overflow the default 262144-entry
# table; fewer to keep the suite's time), uploads, the guard's SYNs/s per CPU.
FLOOD_SYNS=${FLOOD_SYNS:-1000000} FLOOD_SYNS_OFF=${FLOOD_SYNS_OFF:-300000} FLOOD_STREAMS=4 FLOOD_GUARD=200

# flood_stats: "table-entries table-capacity new-flows guard-events" from one `xlvs -j stats`.
flood_stats() {
	xlvs -j stats | jq -r '"\(.conn_table.entries) \(.conn_table.capacity) \(.services[0].stats.conns) \(.events.syn_guard_not_inserted)"'
}

# flood_metrics_agree E1 CAP: /metrics reports the table's capacity and its entries as `xlvs stats`
# does. The sweep keeps expiring the flood's half-open entries between the two walks (20 of 3,113 went
# in one CI run), so the entries must lie between the counts read just before and just after (1% more
# either side: a walk racing deletions may see a bucket twice or not at all).
flood_metrics_agree() {
	local e1=$1 cap=$2 m mcap e2 lo hi
	read -r m mcap <<<"$(in_ns "$NS_LB" curl -sS --max-time 10 http://127.0.0.1:9105/metrics |
		awk '$1 == "xlvs_conn_table_entries" { e = $2 } $1 == "xlvs_conn_table_capacity" { c = $2 }
		     END { print e, c }')"
	read -r e2 _ <<<"$(flood_stats)"
	[ "$mcap" = "$cap" ] || fail "/metrics says capacity '$mcap', xlvs stats $cap"
	lo=$((e1 < e2 ? e1 : e2)) hi=$((e1 > e2 ? e1 : e2))
	lo=$((lo - lo / 100)) hi=$((hi + hi / 100))
	[ -n "$m" ] && [ "$m" -ge "$lo" ] && [ "$m" -le "$hi" ] ||
		fail "/metrics says $m entries, xlvs stats $e1 before and $e2 after it"
}

FLOOD_BYTES=4000000	# per upload: 50 KB/s while the flood lasts (80 s at most), the rest after it
FLOOD_PORT=44000	# client ports of the uploads: FLOOD_PORT+1.., a new range each round

# flood_stream PORT STOP OUT: an HTTP upload of FLOOD_BYTES from client port PORT through the VIP,
# 5 KB every 0.1 s until the file STOP exists, then the rest at once; the answer ("realN BYTES") goes to
# OUT. Ends early only if it fails or sent everything before STOP (then it tested nothing).
flood_stream() {
	local port=$1 stop=$2 sent=0 chunk=5000
	{
		printf 'PUT / HTTP/1.0\r\nContent-Length: %d\r\n\r\n' $FLOOD_BYTES
		while [ ! -e "$stop" ] && [ $((sent + chunk)) -lt $FLOOD_BYTES ]; do
			head -c $chunk /dev/zero
			sent=$((sent + chunk))
			sleep 0.1
		done
		head -c $((FLOOD_BYTES - sent)) /dev/zero
	} | nsenter --net=/run/netns/"$NS_CL" socat -t 20 -T 30 - TCP4:$VIP4:80,sourceport="$port" >"$3" 2>&1
}

# flood_reals: the real of each upload's open connection entry, in order. Each upload's own entry is
# asked for (--client): a full table takes long to print whole, and the N most recent flows need not
# hold an upload (last-seen moves once a second at most, so many flows can be as recent).
flood_reals() {
	local i real conns
	# one walk of the table for the client's flows (at 170k entries a walk takes about a second)
	conns=$(xlvs -j conn list $VIP4:80 --client $CLIENT4) || fail "xlvs conn list"
	for i in $(seq "$FLOOD_STREAMS"); do
		# one entry, the upload's (its address and port name one flow)
		real=$(jq -r --argjson p $((FLOOD_PORT + i)) '[.connections[] | select(.client_port == $p and
			.state == "open") | .real] | if length == 1 and (.[0] | type) == "string" then .[0] else empty end' \
			<<<"$conns")
		[ -n "$real" ] ||
			fail "upload $i (client port $((FLOOD_PORT + i))) is not open, alone, in the connection table: $(jq -c --argjson p $((FLOOD_PORT + i)) '[.connections[] | select(.client_port == $p)]' <<<"$conns")"
		echo "$real"
	done
}

# flood_round GUARD SYNS SOURCES: uploads through the VIP, SYNS SYNs of new flows from SOURCES
# (ADDRESS/PREFIX, unrouted: the reals' SYN-ACKs go nowhere) to the same service meanwhile; every
# upload was still running when the flood ended, finishes whole, on the real that had it before.
flood_round() {
	local guard=$1 syns=$2 src=$3 i port real pids=() reals out t0 t1 ms ncpu bound
	local e0 cap n0 g0 e1 n1 g1 w0 w1
	# table state: the guard is about what enters the connection table (ring state's flood: ring.sh)
	config native "$(svc_yaml $VIP4 80 tcp dr "${REAL4[0]}:1" "${REAL4[1]}:1" "${REAL4[2]}:1" | as_table)
syn_guard_rate: $guard
metrics: { listen: \"127.0.0.1:9105\" }"
	reload
	rm -f "$E2E_DIR/flood.stop"
	for i in $(seq "$FLOOD_STREAMS"); do
		flood_stream $((FLOOD_PORT + i)) "$E2E_DIR/flood.stop" "$E2E_DIR/flood-up.$i" &
		pids+=($!)
	done
	sleep 1
	out=$(flood_reals) || exit 1
	read -ra reals <<<"$(echo $out)"
	t0=$(now_ms)
	read -r e0 cap n0 g0 <<<"$(flood_stats)"
	w0=$(($(now_ms) - t0))	# ms for `xlvs stats` (the table walk's cost: w1 is the same, full)
	t0=$(now_ms)
	out=$(syn_flood $VIP4:80 "$src" "$syns") || fail "syn-flood: $out"
	t1=$(now_ms)
	sleep 0.2	# the last frames cross the bridge
	w1=$(now_ms)
	read -r e1 _ n1 g1 <<<"$(flood_stats)"
	w1=$(($(now_ms) - w1))
	echo "   guard $guard/s: $out"
	syn_flood_seen $((n1 - n0)) "$syns" "$out"	# most SYNs crossed the bridge, each a new flow
	echo "   syn_guard_not_inserted +$((g1 - g0)); connection table $e0 -> $e1 of $cap entries ($((100 * e1 / cap))%)"
	echo "   xlvs -j stats took $w0 ms at $e0 entries, $w1 ms at $e1"
	flood_metrics_agree "$e1" "$cap"
	ms=$((t1 - t0))
	kill -0 "$(cat "$PIDFILE")" 2>/dev/null || fail "xlvsd died under the flood: $(tail -3 "$LOG")"
	for i in $(seq "$FLOOD_STREAMS"); do
		kill -0 "${pids[$((i - 1))]}" 2>/dev/null ||
			fail "upload $i ended before the flood did: nothing was tested ($(cat "$E2E_DIR/flood-up.$i"))"
	done
	out=$(flood_reals) || exit 1
	[ "$(echo $out)" = "${reals[*]}" ] || fail "uploads on ${reals[*]} before the flood, on $(echo $out) after it"
	touch "$E2E_DIR/flood.stop"
	ncpu=$(grep -c '^processor' /proc/cpuinfo)
	bound=$((guard * (ms / 1000 + 2) * ncpu))	# what the guard lets in over the flood's seconds
	if [ "$guard" = 0 ]; then
		[ "$g1" = "$g0" ] || fail "syn_guard_not_inserted moved with the guard off"
		# Each possible CPU has its share of the LRU table: the flood fills at least one.
		ncpu=$(awk -F- '{print $NF + 1}' /sys/devices/system/cpu/possible)
		[ "$e1" -ge $((cap / ncpu * 9 / 10)) ] || fail "the flood left only $e1 of $cap entries with the guard off"
	else
		[ $((e1 - e0)) -le "$bound" ] || fail "the table grew by $((e1 - e0)) with the guard at $guard/s (bound $bound)"
		# ... and at least its rate each second: distinct new flows (one flow's SYNs would take one)
		[ $((e1 - e0)) -ge $((guard * (ms / 1000 - 1))) ] ||
			fail "the table grew by only $((e1 - e0)) in $ms ms with the guard letting $guard/s in"
		[ $((g1 - g0 + bound)) -ge $((n1 - n0)) ] ||
			fail "only $((g1 - g0)) SYNs not inserted of $((n1 - n0)) (guard lets in at most $bound)"
	fi
	for i in $(seq "$FLOOD_STREAMS"); do
		wait "${pids[$((i - 1))]}" || fail "upload $i failed: $(cat "$E2E_DIR/flood-up.$i")"
		out=$(tail -1 "$E2E_DIR/flood-up.$i")	# after the HTTP headers
		real=${reals[$((i - 1))]}
		for port in 0 1 2; do [ "${REAL4[$port]}" = "$real" ] && break; done
		[ "$out" = "real$((port + 1)) $FLOOD_BYTES" ] ||
			fail "upload $i answered '$out'; it was on $real (real$((port + 1))) before the flood"
	done
	echo "   $FLOOD_STREAMS uploads of $FLOOD_BYTES bytes finished, each on its real (${reals[*]})"
	FLOOD_PORT=$((FLOOD_PORT + FLOOD_STREAMS))
}

# Fault: SYNs of new flows while uploads stream, with the SYN guard on, then off.
s_syn_flood() {
	[ -x "$BUILD/tests/syn-flood" ] || fail "build first: $BUILD/tests/syn-flood missing (make)"
	flood_round $FLOOD_GUARD "$FLOOD_SYNS" 198.18.128.0/18
	flood_round 0 "$FLOOD_SYNS_OFF" 198.18.192.0/18
}

# status_field KEY: a number from xlvsd's status reply.
status_field() { xlvs -j status | jq -r --arg k "$1" '.[$k]'; }

# pin_ids: "NAME ID" of every pin in the director's pin directory, sorted (what bpftool sees):
# maps, both programs, xlvs_lb's links and the tc program's tcx links.
pin_ids() {
	local f kind
	for f in "$PIN"/*; do
		case $(basename "$f") in
		xlvs_*) kind="map";; prog_*) kind="prog";; link_*|tclink_*) kind="link";; *) continue;;
		esac
		echo "$(basename "$f") $(in_ns "$NS_LB" bpftool -j $kind show pinned "$f" | jq -r .id)"
	done | sort
}

# Fault: pins removed under a running xlvsd, the whole directory then one map. xlvs_lb goes on
# forwarding (xlvsd holds the link, so the rm cannot detach it); xlvsd puts back every pin,
# with the same objects, within a second; the CLI and bpftool work again.
s_fault_pins_removed() {
	local before after n0 t0 t1 lost sent restored
	config native "$(svc_yaml $VIP4 80 tcp dr "${REAL4[0]}:1" "${REAL4[1]}:1")"
	reload
	before=$(pin_ids)
	[ "$(echo "$before" | grep -c '^link_eth0 [0-9]')" = 1 ] || fail "no link pin to test with: $before"
	# health checks through the forwarding path are on by default: the tc program runs on eth0
	[ "$(echo "$before" | grep -c -e '^tclink_eth0 [0-9]' -e '^prog_xlvs_tc [0-9]')" = 2 ] ||
		fail "no tc program and tcx link pins to test with: $before"
	restored=$(status_field pins_restored)
	in_ns "$NS_CL" ping -q -i 0.005 -c 800 -W 1 $VIP4 >"$E2E_DIR/pinping.out" 2>&1 &
	local ping=$!
	sleep 0.5
	n0=$(grep -c "was removed under xlvsd: restored" "$LOG")
	t0=$(now_ms)
	rm -r "$PIN" || fail "rm -r $PIN"
	t1=$(wait_log "pin $PIN/link_eth0 was removed under xlvsd: restored" 1 5000) || exit 1
	wait_log "was removed under xlvsd: restored" $((n0 + $(echo "$before" | wc -l))) 3000 >/dev/null || exit 1
	grep -q "pin directory $PIN was removed under xlvsd: created again" "$LOG" || fail "the directory's loss was not logged"
	after=$(pin_ids)
	[ "$before" = "$after" ] || fail "pins after the restore differ:
before: $before
after:  $after"
	xlvs service list | grep -q "${REAL4[1]}:80" || fail "xlvs cannot read the restored maps: $(xlvs service list 2>&1)"
	echo "   rm -r $PIN: $(echo "$after" | wc -l) pins restored with the same ids, the link's after $((t1 - t0)) ms"
	n0=$(grep -c "pin $PIN/xlvs_reals was removed under xlvsd: restored" "$LOG")
	t0=$(now_ms)
	rm "$PIN/xlvs_reals"
	t1=$(wait_log "pin $PIN/xlvs_reals was removed under xlvsd: restored" $((n0 + 1)) 3000) || exit 1
	[ "$(pin_ids)" = "$before" ] || fail "pins differ after xlvs_reals was restored: $(pin_ids)"
	echo "   rm $PIN/xlvs_reals: restored after $((t1 - t0)) ms"
	wait $ping
	read -r lost sent <<<"$(ping_loss "$E2E_DIR/pinping.out")" || exit 1
	echo "   $sent echo requests to the VIP meanwhile: $lost lost"
	[ "$lost" = 0 ] || fail "lost $lost of $sent packets while the pins were gone"
	spread $VIP4 10 >/dev/null || exit 1
	[ "$(status_field pins_restored)" = $((restored + $(echo "$before" | wc -l) + 1)) ] ||
		fail "status pins_restored $(status_field pins_restored), want $restored + $(echo "$before" | wc -l) + 1"
}

# The director's eth0 as topo_up made it (a new veth pair: new ifindex, new MAC).
lb_iface_create() {
	plug "$NS_LB" "lb-$E2E_ID" $LAN_MTU
	in_ns "$NS_LB" ip addr add $LB4/24 dev eth0
	in_ns "$NS_LB" ip -6 addr add $LB6/64 dev eth0 nodad
	ip -n "$NS_SW" link set dev "lb-$E2E_ID" xdp obj "$BUILD/tests/xdp_pass.bpf.o" sec xdp ||
		fail "xdp_pass on the new switch port"
}

# Fault: the director's interface deleted and created again under a running xlvsd: the loss is
# logged, xlvs_lb is attached to the new interface in the configured mode, and connections
# through the VIP work again without a restart or reload.
s_fault_iface_recreated() {
	local lost0 back0 n t_del t_gone t_lost t_add t_back t_ok i lost sent
	config native "$(svc_yaml $VIP4 80 tcp dr "${REAL4[0]}:1" "${REAL4[1]}:1" "${REAL4[2]}:1")"
	reload
	spread $VIP4 6 >/dev/null || exit 1
	lost0=$(status_field interfaces_lost); back0=$(status_field interfaces_reattached)
	n=$(grep -c "interface eth0 is back" "$LOG")
	in_ns "$NS_CL" ping -q -i 0.01 -c 400 -W 1 $VIP4 >"$E2E_DIR/ifping.out" 2>&1 &
	local ping=$!
	sleep 0.5
	t_del=$(now_ms)
	in_ns "$NS_LB" ip link del eth0 || fail "ip link del eth0"
	t_gone=$(now_ms)
	t_lost=$(wait_log "interface eth0 (ifindex [0-9]*) was deleted" 1 3000) || exit 1
	sleep 0.5
	t_add=$(now_ms)
	lb_iface_create
	t_back=$(wait_log "interface eth0 is back" $((n + 1)) 3000) || exit 1
	pass_mode native || fail "eth0 is not in native XDP mode after the re-attach: $(attach_mode)"
	for i in $(seq 100); do
		in_ns "$NS_CL" curl -s --max-time 1 "$(url $VIP4)" >/dev/null && break
		sleep 0.05
	done
	t_ok=$(now_ms)
	[ "$i" -lt 100 ] || fail "no connection through the VIP 5 s after eth0 came back: $(tail -5 "$LOG")"
	spread $VIP4 30 >/dev/null || exit 1
	echo "   eth0 deleted (ip link del took $((t_gone - t_del)) ms): loss logged $((t_lost - t_gone)) ms after;" \
		"created again: attached $((t_back - t_add)) ms after the re-creation began, first connection" \
		"through the VIP after $((t_ok - t_add)) ms; 30 more all answered"
	echo "   $(grep -o "interface eth0 is back.*" "$LOG" | tail -1)"
	wait $ping
	read -r lost sent <<<"$(ping_loss "$E2E_DIR/ifping.out")" || exit 1
	echo "   echo requests every 10 ms: $lost of $sent lost over the $((t_ok - t_del)) ms from the deletion to the first connection"
	[ "$lost" -lt "$sent" ] && [ "$lost" -le $(((t_ok - t_del) / 10 + 10)) ] ||
		fail "lost $lost of $sent echo requests: more than the outage ($((t_ok - t_del)) ms) explains"
	[ "$(status_field interfaces_lost)" = $((lost0 + 1)) ] && [ "$(status_field interfaces_reattached)" = $((back0 + 1)) ] ||
		fail "status: interfaces_lost $(status_field interfaces_lost), interfaces_reattached $(status_field interfaces_reattached); want $((lost0 + 1)), $((back0 + 1))"
	i=$(in_ns "$NS_LB" ip -j link show dev eth0 | jq -r '.[0].ifindex')
	[ "$(xlvs -j status | jq -r '.interfaces[0].ifindex')" = "$i" ] ||
		fail "status shows ifindex $(xlvs -j status | jq -r '.interfaces[0].ifindex'), eth0 is $i"
}

# Built with SANITIZE=1, xlvsd reports to its log (ASAN_OPTIONS/UBSAN_OPTIONS from the Makefile,
# passed through nsenter): after it stopped (leaks are reported at exit), no report in any of the
# logs of this run. A plain build never writes these lines, so this always runs.
s_sanitizer_reports() {
	local pat='ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:' n
	stop_xlvsd
	n=$(cat "$LOG.earlier" "$LOG" 2>/dev/null | grep -c "$pat")
	[ "$n" = 0 ] || { grep -h -A30 "$pat" "$LOG.earlier" "$LOG" 2>/dev/null | head -120 >&2
		cat "$LOG.earlier" "$LOG" >/tmp/xlvsd-e2e.log 2>/dev/null
		fail "$n sanitizer reports in xlvsd's logs (all of them: /tmp/xlvsd-e2e.log)"; }
	echo "   ${ASAN_OPTIONS:+sanitized build: }0 reports in $(cat "$LOG.earlier" "$LOG" 2>/dev/null | wc -l) log lines"
}

# wlc_state: each real of TCP VIP4:80 as "ADDRESS wWEIGHT ACTIVE/INACTIVE", the counts the
# scheduler weighs (the data path's xlvs_real_load: `service show`'s sched_conns).
wlc_state() {
	xlvs -j service show "$VIP4:80" tcp |
		jq -r '[.services[0].reals[] | "\(.address) w\(.weight) \(.sched_conns.active)/\(.sched_conns.inactive)"] | join(", ")'
}

# wlc_events: the events that change which entries wlc counts (reused or rescheduled entries,
# packets of flows without one left to the kernel).
wlc_events() {
	xlvs -j stats | jq -c '.events | {conn_new, conn_reused, conn_resched, conn_resched_weight0,
		conn_resched_new_syn, conn_expired, conn_insert_failed, pass_tcp_not_syn}'
}

# xlvs import: the same services as ipvsadm rules and as a keepalived.conf, imported (docs/migration.md),
# forward like the hand-written configuration: weights over IPIP, UDP; the keepalived checks come up.
s_import() {
	local rules=$E2E_DIR/rules.txt ka=$E2E_DIR/keepalived.conf err=$E2E_DIR/import.err rc=0 i
	{
		echo "-A -t $VIP4:80 -s wlc"
		for i in 0 1 2; do echo "-a -t $VIP4:80 -r ${REAL4[$i]}:80 -i -w $((i + 1))"; done
		echo "-A -u $VIP4:5353 -s rr"
		for i in 0 1 2; do echo "-a -u $VIP4:5353 -r ${REAL4[$i]}:5353 -i -w 1"; done
	} >"$rules"
	# No service first: the imported reals start with no connections counted (earlier scenarios'
	# closing connections would otherwise weigh in wlc's choice for two minutes, as in IPVS).
	config native "  []"
	reload
	"$XLVS" import ipvsadm "$rules" --interface eth0 --tunnel-source4 "$LB4" >"$CONF" 2>"$err" || rc=$?
	[ "$rc" = 0 ] || fail "xlvs import ipvsadm: exit $rc, want 0 (every line carried): $(cat "$err")"
	# wlc weighs the data path's connection counts: sequential connections split by weight
	grep -q 'scheduler: wlc' "$CONF" || fail "import ipvsadm: -s wlc not carried: $(cat "$CONF")"
	grep -q 'scheduler: rr' "$CONF" || fail "import ipvsadm: -s rr not carried: $(cat "$CONF")"
	reload
	# wlc's split is exact only from this state: the weights as written, nothing counted yet.
	# Checked, so a leftover count fails here by name; a failed split shows what wlc weighed.
	[ "$(wlc_state)" = "${REAL4[0]} w1 0/0, ${REAL4[1]} w2 0/0, ${REAL4[2]} w3 0/0" ] ||
		fail "the imported wlc service does not start from its weights and no connection: $(wlc_state)"
	trap '[ $? = 0 ] || echo "   at the failure, wlc weighed: $(wlc_state); events: $(wlc_events)"' EXIT
	check_weights $VIP4
	check_udp $VIP4
	{
		echo "virtual_server $VIP4 80 {"
		echo "    delay_loop 1"; echo "    lb_kind TUN"; echo "    protocol TCP"
		for i in 0 1 2; do
			echo "    real_server ${REAL4[$i]} 80 {"
			echo "        weight $((i + 1))"
			echo "        TCP_CHECK { connect_timeout 0.5 }"
			echo "    }"
		done
		echo "}"
	} >"$ka"
	# no lb_algo: keepalived's wlc again, so again from no connections counted
	config native "  []"
	reload
	rc=0
	"$XLVS" import keepalived "$ka" --interface eth0 --tunnel-source4 "$LB4" >"$CONF" 2>"$err" || rc=$?
	[ "$rc" = 0 ] || fail "xlvs import keepalived: exit $rc, want 0 (all carried): $(cat "$err")"
	reload
	wait_all_up 3 10000
	check_weights $VIP4
}

main() {
	[ "$(id -u)" = 0 ] || fail "e2e needs root (network namespaces, XDP)"
	# the pin directories' names carry the pid (E2E_ID): another run takes a number for a pid
	[[ $E2E_ID =~ ^[0-9]+$ ]] && [ "$E2E_ID" != $$ ] &&
		fail "E2E_ID=$E2E_ID: a number other than this run's pid ($$) names pin directories that another run removes as a dead run's (tests/pin-dirs.sh); use a name with a letter"
	# what killed runs left: their namespaces and what runs in them (a killed run's xlvsd holds its
	# pin directory locked), then xlvsd's pins (PIN) and the decapsulators' (DECAP_PIN)
	netns_clean e2e "$NETNS_NAMES"
	pin_dirs_clean e2e "$PIN_DIRS"
	[ -x "$XLVSD" ] && [ -x "$XLVS" ] || fail "build first: $XLVSD / $XLVS missing (make)"
	need curl; need socat; need ping iputils-ping; need jq
	topo_up
	servers_up
	head -c 600000 /dev/zero >"$E2E_DIR/up.bin"	# the upload for the transfer scenarios
	config native "$(svc_yaml $VIP4 80 tcp dr "${REAL4[0]}:1")"
	start_xlvsd
	pass_mode native || fail "eth0 of $NS_LB is not in native XDP mode; the kernel says: $(attach_mode)"

	scenario "DR IPv4, native: 300 connections by weight, UDP" s_dr4_native
	scenario "DR IPv6: 300 connections by weight, UDP" s_dr6
	scenario "IPIP: 300 connections by weight, UDP" s_ipip
	scenario "IP6IP6 (IPv6 VIP): 300 connections by weight, UDP" s_ip6ip6
	scenario "4in6: 300 connections by weight, UDP" s_4in6
	scenario "GUE over IPv4: 300 connections by weight, UDP" s_gue4
	scenario "GUE over IPv6: 300 connections by weight, UDP" s_gue6
	scenario "generic XDP mode" s_generic_mode
	scenario "a long transfer survives adding a real" s_transfer_survives_new_real
	scenario "weight 0 drains: no new flows, established one finishes" s_drain
	scenario "the director as a real: forward local serves a third of the connections itself" s_local_real
	scenario "PMTU through the director, IPv4 (frag needed)" s_pmtu4
	scenario "PMTU through the director, IPv6 (packet too big)" s_pmtu6
	scenario "reload writes only the difference" s_reload_diff
	scenario "operator verbs: runtime note, reload --dry-run, save, refused reload, stats --zero" s_operator_verbs
	scenario "health: a killed real is detected and avoided, and comes back" s_health_detect
	scenario "health: IPv6 reals checked over IPv6" s_health_ipv6
	scenario "health: sorry server while every real is down" s_health_sorry
	scenario "health: xlvs health shows a killed real down with its result, then up" s_health_verb
	scenario "health: a flapping real does not thrash the ring" s_health_flap
	scenario "health through the forwarding path: tun real with its decapsulator detached is down" s_hcfwd_tun
	scenario "health through the forwarding path: gue real with its decapsulator detached is down" s_hcfwd_gue
	scenario "health through the forwarding path: dr real without the VIP is down" s_hcfwd_dr
	scenario "health through the forwarding path: no route to the VIP, checked directly, logged; the route followed without a reload" s_hcfwd_no_route
	scenario "health through the forwarding path: a route's move seen first by a reload or a health change is logged once" s_hcfwd_route_told
	scenario "health through the forwarding path: a route withdrawn just after another moved is followed at once; a flap ends as the routes say" s_hcfwd_route_paced
	scenario "health through the forwarding path: a multipath route with a path outside xlvsd's interfaces is not steered" s_hcfwd_route_ecmp
	scenario "reused client ports: a killed real, quiesced, gets none after detection" s_reuse_quiesce
	scenario "reused client ports: a drained real gets none, its upload finishes" s_reuse_drain
	scenario "xlvs import: ipvsadm rules and a keepalived.conf forward as written" s_import
	scenario "scheduler rr: IPVS order on one CPU, equal shares across CPUs" s_sched_rr
	scenario "scheduler wrr 4,3,2: IPVS order on one CPU, proportions across CPUs" s_sched_wrr
	scenario "scheduler sh: a client address keeps its real, addresses spread" s_sched_sh
	scenario "scheduler mh: a client address keeps its real, addresses spread" s_sched_mh
	scenario "scheduler dh: a destination keeps its real, destinations spread" s_sched_dh
	scenario "scheduler maglev (default): one client's connections spread" s_sched_maglev
	scenario "scheduler lc: a slow real gets fewer connections" s_sched_lc
	scenario "scheduler wlc: a slow real gets fewer connections" s_sched_wlc
	scenario "scheduler sed: a slow real gets fewer connections" s_sched_sed
	scenario "scheduler nq: a slow real gets fewer connections" s_sched_nq
	scenario "scheduler lblc: a destination keeps its real until it is overloaded" s_sched_lblc
	scenario "scheduler lblcr: a destination's set grows when its real is overloaded" s_sched_lblcr
	scenario "persistence: passive-FTP-style sessions stay on one real, per client and per /24" s_sched_persist
	scenario "VS-NAT IPv4: curl and UDP to the reals' own ports, reals see the client" s_nat4
	scenario "VS-NAT IPv6: curl and UDP to the reals' own ports, reals see the client" s_nat6
	scenario "FULLNAT IPv4: reals without a route back see the pool address" s_fullnat4
	scenario "FULLNAT IPv6: reals without a route back see the pool address" s_fullnat6
	scenario "FULLNAT: a held connection goes on across a reload that adds a pool address" s_fullnat_pool_reload
	scenario "VS-NAT: a server's UDP stream keeps its flow while the client is silent past the UDP timeout" s_nat_stream
	scenario "FULLNAT: a server's UDP stream keeps its flow and pool port while the client is silent past the UDP timeout" s_fullnat_stream
	scenario "bad input: malformed requests, non-root peer, missing config, no bpffs" s_bad_input
	scenario "stale pin directories and namespaces: a killed run's removed when a run starts, a running one's kept" s_stale_pin_dirs
	scenario "a new program version swaps in atomically, maps and flows kept" s_upgrade
	scenario "flow hash: kept by the state across reloads, the file's after --detach" s_flow_hash
	scenario "systemd notify: READY, STATUS, WATCHDOG" s_systemd_notify
	scenario "restarting xlvsd under traffic loses no packet" s_restart_no_loss
	scenario "fault: xlvsd killed (SIGKILL) under traffic with a real down" s_kill9_under_traffic
	scenario "fault: SYN flood of new flows while uploads stream, SYN guard on ($FLOOD_SYNS) and off ($FLOOD_SYNS_OFF)" s_syn_flood
	scenario "fault: pins removed under a running xlvsd are restored" s_fault_pins_removed
	scenario "fault: the interface deleted and created again is re-attached" s_fault_iface_recreated

	scenario "ring state: held connections survive a real added, a weight changed, a real drained and back" s_ring_changes
	scenario "ring state: a SYN flood on a stable ring leaves the connection table and held connections alone" s_ring_flood
	scenario "ring state: held connections survive a real's health check failing and recovering" s_ring_health_flap

	scenario "no sanitizer report in xlvsd's logs" s_sanitizer_reports

	for f in "${FAILURES[@]}"; do echo "FAILED: $f"; done
	echo "e2e: $PASSED passed, $FAILED failed"
	[ $((PASSED + FAILED)) -gt 0 ] || fail "no scenario ran (E2E_ONLY='${E2E_ONLY:-}' matches none)"
	[ "$FAILED" = 0 ]
}

main "$@"
