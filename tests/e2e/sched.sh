# SPDX-License-Identifier: GPL-2.0
# Scheduler and persistence scenarios (issue 11), sourced by run.sh: real connections through the
# VIP, from many client addresses, distribute as each scheduler promises. Every bound is written
# here with its reason. Each scenario calls sched_up, which traps sched_down: the extra addresses
# and servers go away when the scenario's subshell exits, failed or not.

# Extra client addresses (on the client's eth0; the reals reach them on the LAN), extra VIPs (on
# the reals' lo, routed to the director by the client's 198.18.1.0/24 route).
mapfile -t SCHED_CLIENTS < <(seq -f 198.18.0.%g 150 173)	# 24
mapfile -t SCHED_VIPS < <(seq -f 198.18.1.%g 20 27)	# 8, for dh
PASV_VIP_OFF=198.18.1.30			# port 0, no persistence (the control run)
PASV_VIP=198.18.1.31				# port 0, persistence 300
PASV_VIP_NET=198.18.1.32			# port 0, persistence 300, netmask /24
PASV_PORT=2121
SLOW_PORT=8080

# sched_batch NS VERB DEV ADDRESS...: `ip addr VERB ADDRESS/32 dev DEV` for each, in one ip run.
sched_batch() {
	local ns=$1 verb=$2 dev=$3 a; shift 3
	for a in "$@"; do echo "addr $verb $a/32 dev $dev"; done | in_ns "$ns" ip ${force:+-force} -batch -
}

sched_up() {
	local i
	trap sched_down EXIT
	sched_batch "$NS_CL" add eth0 "${SCHED_CLIENTS[@]}" || fail "client addresses"
	for i in 0 1 2; do
		sched_batch "${NS_R[$i]}" add lo "${SCHED_VIPS[@]}" $PASV_VIP_OFF $PASV_VIP $PASV_VIP_NET ||
			fail "VIPs on real$((i + 1))"
	done
}

sched_down() {
	local i f
	for f in "$E2E_DIR"/sched-*.pid; do [ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null; rm -f "$f"; done
	hold_release; rm -f "$HOLD_FIFO"	# held connections (a failed run) finish
	force=1 sched_batch "$NS_CL" del eth0 "${SCHED_CLIENTS[@]}" >/dev/null 2>&1
	for i in 0 1 2; do
		force=1 sched_batch "${NS_R[$i]}" del lo "${SCHED_VIPS[@]}" $PASV_VIP_OFF $PASV_VIP $PASV_VIP_NET \
			>/dev/null 2>&1
	done
}

# sched_server I TAG COMMAND...: COMMAND in real I+1's namespace until sched_down.
sched_server() {
	local i=$1 tag=$2; shift 2
	(nsenter --net=/run/netns/"${NS_R[$i]}" "$@" >/dev/null 2>&1 &
	echo $! >"$E2E_DIR/sched-$tag$i.pid")
}

# sched_svc SCHEDULER VIP PORT WEIGHT1 WEIGHT2 WEIGHT3 [YAML LINE...]: a DR service over the three
# reals ("" for SCHEDULER: no scheduler key, the default), with extra keys.
sched_svc() {
	local s=$1 vip=$2 port=$3 w1=$4 w2=$5 w3=$6 line; shift 6
	svc_yaml "$vip" "$port" tcp dr "${REAL4[0]}:$w1" "${REAL4[1]}:$w2" "${REAL4[2]}:$w3"
	[ -n "$s" ] && echo "    scheduler: $s"
	for line in "$@"; do echo "    $line"; done
}

# fetch VIP SOURCE N [CPU]: N connections one after the other from SOURCE to VIP:80 (curl pinned to
# CPU when given); prints the answering reals' names, one a line. Fails on any failed connection.
fetch() {
	local vip=$1 src=$2 n=$3 cpu=${4:-} i out
	for i in $(seq "$n"); do
		out=$(in_ns "$NS_CL" ${cpu:+taskset -c "$cpu"} curl -s --max-time 3 --interface "$src" "$(url "$vip")") ||
			fail "connection $i from $src to $vip failed"
		case $out in real[123]\ *) echo "${out%% *}";; *) fail "connection $i from $src to $vip: answer '$out'";; esac
	done
}

# fetch_udp VIP SOURCE: one UDP request from SOURCE (a new port) to VIP:5353; prints the real's name.
fetch_udp() {
	local out
	out=$(in_ns "$NS_CL" sh -c "echo ping | socat -T2 - UDP4:$1:5353,bind=$2") || fail "UDP from $2 to $1 failed"
	case $out in real[123]) echo "$out";; *) fail "UDP from $2 to $1: answer '$out'";; esac
}

# tally NAMES: "real1 real2 real3" counts of a fetch's output.
tally() { echo "$(grep -cx real1 <<<"$1") $(grep -cx real2 <<<"$1") $(grep -cx real3 <<<"$1")"; }

# within GOT WANT TOLERANCE WHAT: fails unless |GOT - WANT| <= TOLERANCE.
within() {
	[ $(($1 > $2 ? $1 - $2 : $2 - $1)) -le "$3" ] || fail "$4: $1, want $2 ± $3"
}

# rotation_of NAMES PATTERN...: fails unless NAMES (one a line) follow PATTERN over and over from
# some point of it: the exact IPVS order, whatever position the per-CPU cursor started at.
rotation_of() {
	local -a got pat; mapfile -t got <<<"$1"; shift; pat=("$@")
	local k i p=${#pat[@]}
	for ((k = 0; k < p; k++)); do
		for ((i = 0; i < ${#got[@]}; i++)); do [ "${got[$i]}" = "${pat[$(((i + k) % p))]}" ] || break; done
		[ "$i" = "${#got[@]}" ] && return 0
	done
	fail "order ${got[*]:0:18}... is no rotation of (${pat[*]})"
}

# The rr/wrr cursor is per CPU (bpf/sched.h): the new flows one CPU handles walk IPVS's sequence
# exactly. A SYN from a curl pinned to CPU 0 is handled on CPU 0 all the way: the veth hands it to
# the bridge's backlog and the director's XDP on the CPU that sent it. Unpinned, each CPU walks
# its own stretch of the sequence, so a real's count may differ from its share by a bit less than
# its deviation over one stretch, per CPU: under 2/3 for rr, 1.23 for wrr 4,3,2 (the largest over
# every stretch of A A B A B C A B C); the bounds below round that up to 1 and 2 per CPU.
sched_cpus() { getconf _NPROCESSORS_ONLN; }

# rr, 3 equal reals: 60 pinned connections go real1 real2 real3 in turn (exactly 20 each); 60
# unpinned ones give each real 20 ± 1 per CPU.
s_sched_rr() {
	local names cpus got i
	sched_up
	config native "$(sched_svc rr $VIP4 80 1 1 1)"
	reload
	names=$(fetch $VIP4 $CLIENT4 60 0) || exit 1
	rotation_of "$names" real1 real2 real3
	echo "   rr, 60 connections pinned to CPU 0: $(tally "$names") in IPVS order"
	cpus=$(sched_cpus)
	names=$(fetch $VIP4 $CLIENT4 60) || exit 1
	read -ra got <<<"$(tally "$names")"
	for i in 0 1 2; do within "${got[$i]}" 20 "$cpus" "rr over $cpus CPUs: real$((i + 1)) of 60"; done
	echo "   rr, 60 connections on any of $cpus CPUs: ${got[*]}"
}

# wrr 4,3,2: 90 pinned connections follow A A B A B C A B C (A real1, B real2, C real3), exactly
# 40/30/20; 90 unpinned ones 40/30/20 ± 2 per CPU.
s_sched_wrr() {
	local names cpus got i want=(40 30 20)
	sched_up
	config native "$(sched_svc wrr $VIP4 80 4 3 2)"
	reload
	names=$(fetch $VIP4 $CLIENT4 90 0) || exit 1
	rotation_of "$names" real1 real1 real2 real1 real2 real3 real1 real2 real3
	echo "   wrr 4,3,2, 90 connections pinned to CPU 0: $(tally "$names") in IPVS order"
	cpus=$(sched_cpus)
	names=$(fetch $VIP4 $CLIENT4 90) || exit 1
	read -ra got <<<"$(tally "$names")"
	for i in 0 1 2; do
		within "${got[$i]}" "${want[$i]}" $((2 * cpus)) "wrr over $cpus CPUs: real$((i + 1)) of 90"
	done
	echo "   wrr 4,3,2, 90 connections on any of $cpus CPUs: ${got[*]}"
}

# distinct NAMES: how many different reals answered.
distinct() { sort -u <<<"$1" | grep -c .; }

# sh or mh (by the client's address): 2 UDP requests from each of 6 addresses reach one real per
# address; 2 TCP connections (2 source ports) from each of 24 client addresses reach one real per
# address, and the addresses reach all three reals (each address lands on a given real with
# p = 1/3: all 24 missing one has p = 3 (2/3)^24 = 2e-4 %; the hash is fixed, so a pass is no
# luck of the draw). With the -port flag the port counts too: 15 connections of one address
# reach at least 2 reals (all on one: p = 3^-14).
s_sched_source() {
	local s=$1 a i names per=() out
	sched_up
	config native "$(sched_svc "$s" $VIP4 80 1 1 1; svc_yaml $VIP4 5353 udp dr "${REAL4[@]/%/:1}"
			 echo "    scheduler: $s")"
	reload
	# UDP: 2 requests (2 source ports) from each of 6 addresses, at once (socat lingers 0.5 s)
	for a in "${SCHED_CLIENTS[@]:0:6}"; do
		for i in 1 2; do fetch_udp $VIP4 "$a" >"$E2E_DIR/udp-$a-$i" & done
	done
	wait
	for a in "${SCHED_CLIENTS[@]:0:6}"; do
		names=$(cat "$E2E_DIR/udp-$a-1" "$E2E_DIR/udp-$a-2")
		[ "$(grep -c . <<<"$names")" = 2 ] || fail "$s: UDP requests of $a unanswered ($(echo $names))"
		[ "$(distinct "$names")" = 1 ] || fail "$s: UDP requests of $a answered by $(echo $names)"
	done
	for a in "${SCHED_CLIENTS[@]}"; do
		names=$(fetch $VIP4 "$a" 2) || exit 1
		[ "$(distinct "$names")" = 1 ] || fail "$s: the connections of $a reached $(echo $names)"
		per+=("$(head -1 <<<"$names")")
	done
	out=$(printf '%s\n' "${per[@]}")
	echo "   $s: each of 24 addresses on one real; addresses per real: $(tally "$out")"
	[ "$(distinct "$out")" = 3 ] || fail "$s: 24 client addresses reached only $(distinct "$out") reals ($(tally "$out"))"
	config native "$(sched_svc "$s" $VIP4 80 1 1 1 "scheduler_flags: [$s-port]")"
	reload
	names=$(fetch $VIP4 $CLIENT4 15) || exit 1
	echo "   $s with $s-port: 15 connections of one address: $(tally "$names")"
	[ "$(distinct "$names")" -ge 2 ] || fail "$s-port: 15 connections of $CLIENT4 all on one real"
}
s_sched_sh() { s_sched_source sh; }
s_sched_mh() { s_sched_source mh; }

# dh: 8 VIPs, a dh service each; one connection from each of 4 client addresses per VIP: the 4
# reach one real per VIP, and the VIPs reach at least 2 reals (all 8 on one: p = 3^-7; fixed hash).
s_sched_dh() {
	local v a yaml="" names all per=()
	sched_up
	for v in "${SCHED_VIPS[@]}"; do yaml+="$(sched_svc dh "$v" 80 1 1 1)"$'\n'; done
	config native "$yaml"
	reload
	for v in "${SCHED_VIPS[@]}"; do
		all=""
		for a in "${SCHED_CLIENTS[@]:0:4}"; do
			names=$(fetch "$v" "$a" 1) || exit 1
			all+="$names"$'\n'
		done
		[ "$(distinct "$all")" = 1 ] || fail "dh: connections to $v reached $(tally "$all") (real1..3)"
		per+=("$(head -1 <<<"$all")")
	done
	all=$(printf '%s\n' "${per[@]}")
	echo "   dh: 4 clients' connections to each of 8 VIPs on one real per VIP; VIPs per real: $(tally "$all")"
	[ "$(distinct "$all")" -ge 2 ] || fail "dh: all 8 VIPs on one real"
}

# maglev, the default (no scheduler key): the whole flow is hashed, so one client's 60 connections
# (60 source ports) spread over all reals: 20 each expected, σ 3.7; each real must get at least 5
# (4σ below).
s_sched_maglev() {
	local names got i
	sched_up
	config native "$(sched_svc "" $VIP4 80 1 1 1)"
	reload
	[ "$(xlvs -j service list | jq -r '.services[0].scheduler')" = maglev ] ||
		fail "the default scheduler is not maglev: $(xlvs service list)"
	names=$(fetch $VIP4 $CLIENT4 60) || exit 1
	read -ra got <<<"$(tally "$names")"
	echo "   maglev (default): 60 connections of one client: ${got[*]}"
	for i in 0 1 2; do [ "${got[$i]}" -ge 5 ] || fail "maglev: real$((i + 1)) got ${got[$i]} of 60, want >= 5"; done
}

# A "slow" real holds every connection until the test releases them all (hold_release): on a
# loaded machine starting the clients alone can take longer than any fixed delay, and a real that
# finished its connections is idle, no longer slow. Each held connection waits in open() of this
# FIFO; opening it read-write wakes every waiter, and its close gives them EOF.
HOLD_FIFO=$E2E_DIR/sched-hold

hold_release() { [ -p "$HOLD_FIFO" ] && : 1<>"$HOLD_FIFO"; }

# slow_servers MODE1 MODE2 MODE3: on SLOW_PORT real I answers with its name at once (MODE now)
# or once released (held).
slow_servers() {
	local i wait modes=("$@")
	[ -p "$HOLD_FIFO" ] || mkfifo "$HOLD_FIFO" || fail "mkfifo $HOLD_FIFO"
	for i in 0 1 2; do
		case ${modes[$i]} in now) wait=true;; held) wait="cat $HOLD_FIFO >/dev/null";;
		*) fail "slow_servers: mode ${modes[$i]}";; esac
		sched_server $i slow socat -T60 TCP6-LISTEN:$SLOW_PORT,ipv6only=0,fork,reuseaddr \
			SYSTEM:"$wait; exec $REPO/tests/e2e/http-name.sh real$((i + 1))"
	done
	sleep 0.3	# the listeners
}

# fetch_at_once N: N connections to VIP4:SLOW_PORT, one started every 50 ms without waiting for
# the others; then the held ones are released (again every 0.5 s, for any held late) and the
# answering reals' names printed. Fails on any failure.
fetch_at_once() {
	local n=$1 i names pids=() releaser
	for i in $(seq "$n"); do
		in_ns "$NS_CL" curl -s --max-time 30 "http://$VIP4:$SLOW_PORT/" >"$E2E_DIR/slow.$i" 2>&1 &
		pids+=($!)
		sleep 0.05
	done
	sleep 0.5	# the last ones scheduled and held
	(while hold_release; do sleep 0.5; done) &
	releaser=$!
	wait "${pids[@]}"
	kill $releaser
	names=$(for i in $(seq "$n"); do cut -d' ' -f1 "$E2E_DIR/slow.$i"; done)
	[ "$(grep -cx 'real[123]' <<<"$names")" = "$n" ] ||
		fail "only $(grep -cx 'real[123]' <<<"$names") of $n connections answered"
	echo "$names"
}

# lc, wlc, sed, nq with one slow real: on :8080 real1 holds every connection until all 45 have
# started (one every 50 ms), real2 and real3 answer at once. real1's connections stay active while
# the others' close within milliseconds, so a least-connection scheduler gives real1 only the
# first and those that arrive while both others are busy with as many. rr would give it 15; the
# bound is 5, a third of that.
s_sched_least() {
	local s=$1 i names got n=45
	sched_up
	slow_servers held now now
	config native "$(sched_svc "$s" $VIP4 $SLOW_PORT 1 1 1)"
	reload
	names=$(fetch_at_once $n) || exit 1
	read -ra got <<<"$(tally "$names")"
	echo "   $s, $n connections at once, real1 holding its own: ${got[*]}"
	[ "${got[0]}" -le 5 ] || fail "$s: the slow real1 got ${got[0]} of $n connections, want <= 5 (rr: 15)"
}
s_sched_lc() { s_sched_least lc; }
s_sched_wlc() { s_sched_least wlc; }
s_sched_sed() { s_sched_least sed; }
s_sched_nq() { s_sched_least nq; }

# pasv_sessions VIP N CLIENT...: N passive-FTP-like sessions (tests/e2e/pasv-name.c: a control
# connection to PASV_PORT, then a data connection to the port the real names) from each CLIENT
# address, the clients at once; prints "CLIENT CONTROL-REAL DATA-REAL" a session, DATA-REAL "-"
# when the data connection reached a real that does not listen on that port.
pasv_sessions() {
	local vip=$1 n=$2 a; shift 2
	for a in "$@"; do
		(for i in $(seq "$n"); do
			out=$(in_ns "$NS_CL" "$BUILD/tests/pasv-name" session "$vip" $PASV_PORT "$a")
			echo "$a ${out:-FAILED -}"
		done >"$E2E_DIR/pasv-$vip-$a") &
	done
	wait
	for a in "$@"; do cat "$E2E_DIR/pasv-$vip-$a"; done
}

# column N LINES: the Nth word of each line.
column() { cut -d' ' -f"$1" <<<"$2"; }

# Passive-FTP-style sessions on port-0 services (default scheduler: maglev hashes each
# connection's ports, so without persistence a data connection reaches the control's real with
# p = 1/3). 3 sessions from each of 12 client addresses on three VIPs:
# - no persistence: at least one of the 36 sessions splits (all kept: p = 3^-36): the check can fail;
# - persistence 300: every session's two connections on one real, and a client's sessions all on
#   one real; the 12 clients reach at least 2 reals (all on one: p = 3^-11);
# - persistence 300 with persistence_netmask 255.255.255.0: the 12 addresses are in one /24, so
#   all 36 sessions on one real.
s_sched_persist() {
	local clients=("${SCHED_CLIENTS[@]:0:12}") out a i bad per_client tpl name
	[ -x "$BUILD/tests/pasv-name" ] || fail "build first: $BUILD/tests/pasv-name missing (make)"
	sched_up
	for i in 0 1 2; do sched_server $i pasv "$BUILD/tests/pasv-name" serve real$((i + 1)) $PASV_PORT; done
	config native "$(sched_svc "" $PASV_VIP_OFF 0 1 1 1
		sched_svc "" $PASV_VIP 0 1 1 1 "persistence: 300"
		sched_svc "" $PASV_VIP_NET 0 1 1 1 "persistence: 300" "persistence_netmask: 255.255.255.0")"
	reload
	sleep 0.2	# the servers

	out=$(pasv_sessions $PASV_VIP_OFF 3 "${clients[@]}") || exit 1
	grep -q FAILED <<<"$out" && fail "control connections failed: $(grep FAILED <<<"$out" | head -3)"
	bad=$(awk '$2 != $3' <<<"$out" | grep -c .)
	echo "   no persistence: $bad of 36 sessions split over two reals"
	[ "$bad" -ge 1 ] || fail "without persistence all 36 sessions kept their real: the check below proves nothing"

	out=$(pasv_sessions $PASV_VIP 3 "${clients[@]}") || exit 1
	bad=$(awk '$2 != $3' <<<"$out")
	[ -z "$bad" ] || fail "persistence: $(grep -c . <<<"$bad") of 36 sessions split: $(head -3 <<<"$bad" | tr '\n' ';')"
	for a in "${clients[@]}"; do
		[ "$(distinct "$(grep "^$a " <<<"$out" | cut -d' ' -f2)")" = 1 ] ||
			fail "persistence: the sessions of $a reached several reals: $(grep "^$a " <<<"$out" | tr '\n' ';')"
	done
	echo "   persistence 300: 36 sessions whole; clients per real: $(tally "$(cut -d' ' -f1,2 <<<"$out" | sort -u | cut -d' ' -f2)")"
	[ "$(distinct "$(column 2 "$out")")" -ge 2 ] || fail "persistence: all 12 clients on one real"
	per_client=$(cut -d' ' -f1,2 <<<"$out" | sort -u)

	out=$(pasv_sessions $PASV_VIP_NET 3 "${clients[@]}") || exit 1
	[ "$(distinct "$(column 2 "$out"; column 3 "$out")")" = 1 ] ||
		fail "persistence_netmask /24: sessions on $(tally "$(column 2 "$out")") (control), $(tally "$(column 3 "$out")") (data)"
	echo "   persistence 300, netmask /24: 36 sessions of 12 addresses all on $(head -1 <<<"$out" | cut -d' ' -f2)"

	# The templates in `xlvs conn list`: one per client (/32) naming the real its sessions reached,
	# one for the /24, none for the service without persistence.
	tpl=$(xlvs -j conn list | jq -r '.templates[] | "\(.vip) \(.client)/\(.prefix_len) \(.real)"') ||
		fail "xlvs conn list"
	while read -r a name; do
		grep -qx "$PASV_VIP $a/32 $(real_addr "$name")" <<<"$tpl" ||
			fail "no template $a/32 -> $name for $PASV_VIP in: $(tr '\n' ';' <<<"$tpl")"
	done <<<"$per_client"
	[ "$(grep -c "^$PASV_VIP " <<<"$tpl")" = 12 ] || fail "$(grep -c "^$PASV_VIP " <<<"$tpl") templates for $PASV_VIP, want 12"
	[ "$(grep "^$PASV_VIP_NET " <<<"$tpl")" = "$PASV_VIP_NET 198.18.0.0/24 $(real_addr "$(column 2 "$(head -1 <<<"$out")")")" ] ||
		fail "templates for $PASV_VIP_NET: $(grep "^$PASV_VIP_NET " <<<"$tpl" | tr '\n' ';'), want one: 198.18.0.0/24"
	! grep -q "^$PASV_VIP_OFF " <<<"$tpl" || fail "templates for $PASV_VIP_OFF, which has no persistence"
	echo "   xlvs conn list: 12 client templates and one /24 template, each naming the sessions' real"
}

# real_addr NAME: real1 -> its address.
real_addr() { echo "${REAL4[$((${1#real} - 1))]}"; }

# lblc, lblcr (one VIP per service, so one destination): 20 connections one after the other, from 4
# client addresses, all reach one real: never more active than its weight (1), it is never
# overloaded. Then every real holds its connections until all 12 (50 ms apart) have started: the
# destination's real soon has more active connections than its weight while another has none
# (fewer than half its weight), IPVS's overload rule, so the destination moves: at least 2 reals
# answer (dh, without the rule, keeps all 12 on one).
s_sched_locality() {
	local s=$1 a names all=""
	sched_up
	config native "$(sched_svc "$s" $VIP4 80 1 1 1; sched_svc "$s" $VIP4 $SLOW_PORT 1 1 1)"
	reload
	for a in "${SCHED_CLIENTS[@]:0:4}"; do
		names=$(fetch $VIP4 "$a" 5) || exit 1
		all+="$names"$'\n'
	done
	echo "   $s: 20 connections one after the other: $(tally "$all")"
	[ "$(distinct "$all")" = 1 ] || fail "$s: one destination, no load, yet several reals: $(tally "$all")"
	slow_servers held held held
	names=$(fetch_at_once 12) || exit 1
	echo "   $s: 12 connections at once, every real slow: $(tally "$names")"
	[ "$(distinct "$names")" -ge 2 ] || fail "$s: 12 concurrent connections all on one real: never overloaded"
}
s_sched_lblc() { s_sched_locality lblc; }
s_sched_lblcr() { s_sched_locality lblcr; }
