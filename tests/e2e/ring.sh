# SPDX-License-Identifier: GPL-2.0
# Ring-state scenarios (issue 13), sourced by run.sh. A maglev TCP service (flow_state auto: ring)
# carries long-lived connections, each sending a line every 200 ms that the real echoes back,
# while the ring changes under them: a real added, a weight changed, a real drained and put back,
# a real's health check failing and recovering; and a SYN flood. No connection may break (a packet
# sent to another real gets a RST), and the connection table may hold entries only for flows whose
# ring slot changed: none before a change, and each one naming the real its connection is on. Each
# scenario calls ring_up, which traps ring_down: servers and connections go away when the
# scenario's subshell exits, failed or not.

RING_PORT=8200		# the ring service's port (the echo servers listen there); ring_up moves it on:
			# a new service's ring is stable, one changed by the last scenario is not
RING_CPORT=46000	# the held connections' client ports: RING_CPORT+1 .. +RING_N (ring_up moves it on:
			# the last scenario's ports may still be in TIME_WAIT on the client)
RING_N=24
RING_FLOOD_SYNS=${RING_FLOOD_SYNS:-300000}
RING_STOP=$E2E_DIR/ring.stop
RING_TICK=$E2E_DIR/ring.tick	# a FIFO nobody writes: `read -t` on it sleeps without a fork

ring_up() {	# ring_up SCENARIO-NUMBER
	local i
	trap ring_down EXIT
	RING_CPORT=$((RING_CPORT + 100 * $1)) RING_PORT=$((RING_PORT + $1))
	rm -f "$RING_STOP" "$E2E_DIR"/ring-*
	[ -p "$RING_TICK" ] || mkfifo "$RING_TICK" || fail "mkfifo $RING_TICK"
	for i in 0 1 2; do ring_listen $i; done
	# the listeners, each up before any connection (a slow start under load would refuse some)
	for i in 0 1 2; do ring_listening $i; done
}

ring_listening() {	# ring_listening I: wait until real(I+1) listens on the ring port
	local t
	for t in $(seq 30); do
		[ -n "$(in_ns "${NS_R[$1]}" ss -Hltn "sport = :$RING_PORT")" ] && return 0
		sleep 0.1
	done
	fail "real$(($1 + 1))'s echo server is not listening on :$RING_PORT after 3 s"
}

# ring_listen I: real(I+1)'s echo server on the ring port, its pid in ring-srv$I.pid (ring_down
# kills it). The children it forks for connections outlive it: killing the listener alone fails
# new connections and health checks to that real while its held connections go on.
ring_listen() {
	(nsenter --net=/run/netns/"${NS_R[$1]}" socat TCP6-LISTEN:$RING_PORT,ipv6only=0,fork,reuseaddr 		SYSTEM:"echo real$(($1 + 1)); exec cat" >/dev/null 2>&1 &
	 echo $! >"$E2E_DIR/ring-srv$1.pid")
}

ring_down() {
	local f
	touch "$RING_STOP"
	sleep 0.5	# the holders end their connections themselves
	for f in "$E2E_DIR"/ring-*.pid; do [ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null; rm -f "$f"; done
	true
}

# ring_hold PORT: one connection from client port PORT to the service, a numbered line every 200 ms
# until RING_STOP exists; the real's greeting and echoes go to ring-out.PORT, socat's exit status to
# ring-rc.PORT, the number of lines sent to ring-sent.PORT (only when the writer was not cut off).
ring_hold() {
	local port=$1 n=0 tick
	exec {tick}<>"$RING_TICK"
	{
		while [ ! -e "$RING_STOP" ]; do
			n=$((n + 1))
			echo "$n"
			read -rt 0.2 -u "$tick"
		done
		echo "$n" >"$E2E_DIR/ring-sent.$port"
	} | nsenter --net=/run/netns/"$NS_CL" socat -t 3 -T 10 - TCP4:$VIP4:$RING_PORT,sourceport="$port",reuseaddr \
		>"$E2E_DIR/ring-out.$port" 2>"$E2E_DIR/ring-err.$port"
	echo $? >"$E2E_DIR/ring-rc.$port"
}

ring_ports() { seq $((RING_CPORT + 1)) $((RING_CPORT + RING_N)); }

# ring_hold_all: RING_N held connections, each greeted by a real.
ring_hold_all() {
	local p i
	for p in $(ring_ports); do
		(ring_hold "$p" &
		 echo $! >"$E2E_DIR/ring-hold$p.pid")
	done
	for i in $(seq 50); do
		[ "$(ring_greeted | grep -c .)" = $RING_N ] && return 0
		sleep 0.1
	done
	fail "only $(ring_greeted | grep -c .) of $RING_N connections greeted by a real in 5 s"
}

# ring_greeted: "PORT REAL-ADDRESS" of every held connection a real has greeted.
ring_greeted() {
	local p r
	for p in $(ring_ports); do
		r=$(head -1 "$E2E_DIR/ring-out.$p" 2>/dev/null)
		case $r in real[123]) echo "$p ${REAL4[$((${r#real} - 1))]}";; esac
	done
}

# ring_broken: the held connections that ended (socat exited) before RING_STOP, with why.
ring_broken() {
	local p
	for p in $(ring_ports); do
		[ -e "$E2E_DIR/ring-rc.$p" ] &&
			echo "port $p (exit $(cat "$E2E_DIR/ring-rc.$p"): $(tr '\n' ' ' <"$E2E_DIR/ring-err.$p"))"
	done
}

# ring_alive WHAT: one second on, every held connection still runs and got at least 3 more echoes.
ring_alive() {
	local p before=() i=0 n broken
	for p in $(ring_ports); do before+=("$(wc -l <"$E2E_DIR/ring-out.$p")"); done
	sleep 1
	broken=$(ring_broken)
	[ -z "$broken" ] || fail "$1: held connections broke: $broken"
	for p in $(ring_ports); do
		n=$(wc -l <"$E2E_DIR/ring-out.$p")
		[ "$n" -ge $((before[i] + 3)) ] || fail "$1: connection from port $p got $((n - before[i])) echoes in 1 s"
		i=$((i + 1))
	done
}

# ring_entries: "PORT REAL-ADDRESS" of the held connections' entries in the connection table.
ring_entries() {
	local out
	out=$(xlvs -j conn list "$VIP4:$RING_PORT") || fail "xlvs conn list"
	jq -r --argjson lo $((RING_CPORT + 1)) --argjson hi $((RING_CPORT + RING_N)) \
		'.connections[] | select(.client_port >= $lo and .client_port <= $hi) | "\(.client_port) \(.real)"' \
		<<<"$out" | sort
}

# ring_event NAME: that event's count.
ring_event() { xlvs -j stats | jq -r --arg e "$1" '.events[$e] // 0'; }

# ring_entries_true WHAT: every entry of a held connection names the real the connection is on.
ring_entries_true() {
	local entries greeted line
	entries=$(ring_entries) || exit 1
	greeted=$(ring_greeted)
	while read -r line; do
		[ -z "$line" ] || grep -qx "$line" <<<"$greeted" ||
			fail "$1: entry '$line' (client port, real) names another real than the connection's: $(grep "^${line%% *} " <<<"$greeted")"
	done <<<"$entries"
	grep -c . <<<"$entries" || true	# 0 is an answer
}

# ring_finish: stop the held connections; each ends cleanly with every line echoed.
ring_finish() {
	local p i sent got
	touch "$RING_STOP"
	for i in $(seq 50); do
		[ "$(ls "$E2E_DIR"/ring-rc.* 2>/dev/null | wc -l)" = $RING_N ] && break
		sleep 0.1
	done
	for p in $(ring_ports); do
		[ "$(cat "$E2E_DIR/ring-rc.$p" 2>/dev/null)" = 0 ] ||
			fail "connection from port $p ended with '$(cat "$E2E_DIR/ring-rc.$p" 2>/dev/null)': $(cat "$E2E_DIR/ring-err.$p")"
		sent=$(cat "$E2E_DIR/ring-sent.$p" 2>/dev/null) || fail "connection from port $p: its writer was cut off"
		got=$(($(wc -l <"$E2E_DIR/ring-out.$p") - 1))
		[ "$got" = "$sent" ] || fail "connection from port $p: $got of $sent lines echoed"
	done
}

# ring_new N: N short connections to the service; prints "real1 real2 real3" counts.
ring_new() {
	local i out c=(0 0 0)
	for i in $(seq "$1"); do
		out=$(in_ns "$NS_CL" socat -t 3 -T 3 - TCP4:$VIP4:$RING_PORT </dev/null) || fail "new connection $i failed"
		case $out in real[123]) c[${out#real} - 1]=$((c[${out#real} - 1] + 1));; *) fail "new connection $i: '$out'";; esac
	done
	echo "${c[*]}"
}

ring_config() {	# ring_config REAL:WEIGHT...
	config native "$(svc_yaml $VIP4 $RING_PORT tcp dr "$@")
syn_guard_rate: 0"
	reload
}

ring_tally() { echo "real1 $(grep -c " ${REAL4[0]}$" <<<"$1"), real2 $(grep -c " ${REAL4[1]}$" <<<"$1"), real3 $(grep -c " ${REAL4[2]}$" <<<"$1")"; }

# (a) a real added, (b) a weight changed, (c) a real drained and put back, each under RING_N held
# connections: none breaks; no entry while the ring is stable, afterwards only entries that name
# the connection's own real (its slot's previous owner) and, after (a), not all (maglev moves about
# a third of the slots to a third real; client ports and hashes are fixed, so this is no luck);
# new connections reach the added real; a drained real's connections are all recorded.
s_ring_changes() {
	local n prev0 prev1 counts greeted on2 e out
	ring_up 0
	ring_config "${REAL4[0]}:1" "${REAL4[1]}:1"
	ring_hold_all
	greeted=$(ring_greeted)
	echo "   $RING_N held connections: $(ring_tally "$greeted")"
	ring_alive "stable ring"
	n=$(ring_entries_true "stable ring") || exit 1
	[ "$n" = 0 ] || fail "$n entries for held connections on a stable ring, want none: $(ring_entries | tr '\n' ';')"
	counts=$(ring_new 10) || exit 1
	n=$(xlvs -j conn list "$VIP4:$RING_PORT" | jq '.connections | length')
	[ "$n" = 0 ] || fail "$n entries after 10 new connections on a stable ring, want none"
	echo "   stable ring: no entries (the held connections and 10 new ones: $counts)"

	prev0=$(ring_event ring_prev_owner)
	out=$(xlvs real add "$VIP4:$RING_PORT" "${REAL4[2]}" weight 1 2>&1) || fail "real add refused: $out"
	ring_alive "real added"
	prev1=$(ring_event ring_prev_owner)
	n=$(ring_entries_true "real added") || exit 1
	echo "   (a) real3 added: $n of $RING_N held connections recorded, ring_prev_owner +$((prev1 - prev0))"
	[ "$n" -ge 1 ] && [ "$n" -lt $RING_N ] || fail "(a) $n of $RING_N held connections recorded, want some, not all"
	[ $((prev1 - prev0)) -ge "$n" ] || fail "(a) ring_prev_owner +$((prev1 - prev0)) for $n recorded connections"
	counts=$(ring_new 30) || exit 1
	echo "   (a) 30 new connections: $counts (real1..3)"
	[ "$(cut -d' ' -f3 <<<"$counts")" -gt 0 ] || fail "(a) no new connection reached the added real ($counts)"

	out=$(xlvs real set-weight "$VIP4:$RING_PORT" "${REAL4[0]}" 3 2>&1) || fail "set-weight refused: $out"
	ring_alive "weight changed"
	n=$(ring_entries_true "weight changed") || exit 1
	echo "   (b) real1 at weight 3: $n held connections recorded, ring_prev_owner +$(($(ring_event ring_prev_owner) - prev1))"

	on2=$(grep -c " ${REAL4[1]}$" <<<"$greeted")
	out=$(xlvs real set-weight "$VIP4:$RING_PORT" "${REAL4[1]}" 0 2>&1) || fail "set-weight 0 refused: $out"
	ring_alive "real2 drained"
	e=$(ring_entries) || exit 1
	n=$(grep -c " ${REAL4[1]}$" <<<"$e")
	[ "$n" = "$on2" ] || fail "(c) real2 drained: $n of its $on2 held connections recorded, want all: $(tr '\n' ';' <<<"$e")"
	out=$(xlvs real set-weight "$VIP4:$RING_PORT" "${REAL4[1]}" 1 2>&1) || fail "set-weight 1 refused: $out"
	ring_alive "real2 back"
	n=$(ring_entries_true "real2 back") || exit 1
	echo "   (c) real2 drained: its $on2 held connections all recorded; back at weight 1: $n recorded"
	ring_finish
	echo "   $RING_N held connections ended cleanly, every line echoed: 0 broken"
}

# (d) SYN flood of new flows (the guard off) against a ring service whose ring is stable: the
# connection table does not grow and the held connections go on.
s_ring_flood() {
	local e0 e1 n0 n1 out
	[ -x "$BUILD/tests/syn-flood" ] || fail "build first: $BUILD/tests/syn-flood missing (make)"
	ring_up 1
	ring_config "${REAL4[0]}:1" "${REAL4[1]}:1" "${REAL4[2]}:1"
	ring_hold_all
	read -r e0 n0 <<<"$(xlvs -j stats | jq -r '"\(.conn_table.entries) \(.services[0].stats.conns)"')"
	out=$(syn_flood $VIP4:$RING_PORT 198.18.128.0/18 "$RING_FLOOD_SYNS") || fail "syn-flood: $out"
	sleep 0.2	# the last frames cross the bridge
	read -r e1 n1 <<<"$(xlvs -j stats | jq -r '"\(.conn_table.entries) \(.services[0].stats.conns)"')"
	echo "   $out"
	echo "   connection table $e0 -> $e1 entries (guard off)"
	syn_flood_seen $((n1 - n0)) "$RING_FLOOD_SYNS" "$out"
	[ "$e1" -le "$e0" ] || fail "the connection table grew from $e0 to $e1 entries under the flood"
	ring_alive "after the flood"
	ring_finish
	echo "   $RING_N held connections through the flood ended cleanly: 0 broken"
}

# (e) a real's health check fails and recovers under RING_N held connections (its listener killed,
# its open connections kept, as a real whose service hangs for new clients): while it is down (weight
# 0 in the maps, its ring slots moved) each of its held connections goes on through the previous
# owner and is recorded, new connections avoid it; back up, new connections reach it again; none of
# the held connections breaks.
s_ring_health_flap() {
	local greeted on2 e n down0 up0 counts
	ring_up 2
	config native "$(svc_yaml $VIP4 $RING_PORT tcp dr "${REAL4[0]}:1" "${REAL4[1]}:1" "${REAL4[2]}:1")
    check: { type: tcp, interval: ${HC_INTERVAL}ms, timeout: ${HC_TIMEOUT}ms, rise: 2, fall: 2 }
syn_guard_rate: 0"
	reload
	wait_all_up 3 5000
	xlvs -j service list | jq -e '.services[0].flow_state == "ring"' >/dev/null ||
		fail "the checked maglev service is not in ring state: $(xlvs service list)"
	ring_hold_all
	greeted=$(ring_greeted)
	on2=$(grep -c " ${REAL4[1]}$" <<<"$greeted")
	echo "   $RING_N held connections: $(ring_tally "$greeted")"
	[ "$on2" -ge 1 ] || fail "no held connection on real2 to test with: $(ring_tally "$greeted")"
	ring_alive "all up"
	down0=$(grep -c "real ${REAL4[1]} is down" "$LOG")
	kill "$(cat "$E2E_DIR/ring-srv1.pid")" || fail "cannot stop real2's listener"
	wait_log "real ${REAL4[1]} is down" $((down0 + 1)) 5000 >/dev/null || exit 1
	sleep 0.3	# the next apply's ring is written
	ring_alive "real2 down"
	e=$(ring_entries) || exit 1
	n=$(grep -c " ${REAL4[1]}$" <<<"$e")
	[ "$n" = "$on2" ] || fail "real2 down: $n of its $on2 held connections recorded, want all: $(tr '\n' ';' <<<"$e")"
	counts=$(ring_new 12) || exit 1
	[ "$(cut -d' ' -f2 <<<"$counts")" = 0 ] || fail "real2 down: new connections reached it ($counts)"
	echo "   real2 down: its $on2 held connections go on, all recorded; 12 new connections: $counts"
	up0=$(grep -c "real ${REAL4[1]} is up" "$LOG")
	ring_listen 1
	ring_listening 1
	wait_log "real ${REAL4[1]} is up" $((up0 + 1)) 5000 >/dev/null || exit 1
	sleep 0.3
	ring_alive "real2 back up"
	n=$(ring_entries_true "real2 back up") || exit 1
	counts=$(ring_new 30) || exit 1
	[ "$(cut -d' ' -f2 <<<"$counts")" -gt 0 ] || fail "real2 back up: no new connection reached it ($counts)"
	echo "   real2 back up: $n held connections recorded; 30 new connections: $counts"
	ring_finish
	echo "   $RING_N held connections through the down and up ended cleanly: 0 broken"
}
