# SPDX-License-Identifier: GPL-2.0
# Health checks through the forwarding path (issue 12, docs/health.md), sourced by run.sh: with
# health_via_forwarding (the default) a tun/gue/dr real is checked at the VIP, steered by its socket
# mark through the tc program, so a real whose tunnel (or DR path) is broken is found down while
# its own address still answers the check's port. Each scenario calls hcfwd_up, which traps
# hcfwd_down: the director's route to the VIPs and the reals' decapsulators are put back when the
# scenario's subshell exits, failed or not.

# hcfwd_up: the director routes the VIPs out of eth0 (via the client, a neighbour it resolves:
# the tc program writes the real's MACs anyway), as a director whose default route leaves
# through its XDP interface does.
hcfwd_up() {
	trap hcfwd_down EXIT
	in_ns "$NS_LB" ip route add 198.18.1.0/24 via $CLIENT4 dev eth0 || fail "director: route to the VIPs"
}

hcfwd_down() {
	local i
	in_ns "$NS_LB" ip route del 198.18.1.0/24 via $CLIENT4 dev eth0 2>/dev/null
	in_ns "$NS_LB" ip route del 198.18.6.0/24 2>/dev/null	# route_look_now's
	for i in 0 1 2; do
		decap "$i" attach dev eth0 gue-port 6080 >/dev/null 2>&1
		in_ns "${NS_R[$i]}" ip addr add $VIP4/32 dev lo 2>/dev/null
	done
}

# hcfwd_config FORWARD: the three IPv4 reals behind VIP4:80 with a tcp check, rise 2, fall 2.
hcfwd_config() {
	config native "$(svc_yaml $VIP4 80 tcp "$1" "${REAL4[0]}:1" "${REAL4[1]}:1" "${REAL4[2]}:1")
    check: { type: tcp, interval: ${HC_INTERVAL}ms, timeout: ${HC_TIMEOUT}ms, rise: 2, fall: 2 }"
	reload
}

# What xlvsd logs when VIP4:80's checks are steered again, or no longer (then a reason follows).
HCFWD_ON="service tcp $VIP4:80 is checked through the forwarding path again"
HCFWD_OFF="service tcp $VIP4:80 is checked at its reals' own addresses from now on"

# hcfwd_tun_checked: the tun reals configured, up, and checked since (hcfwd_rechecked).
hcfwd_tun_checked() {
	hcfwd_config tun
	wait_all_up 3 5000
	hcfwd_rechecked
}

# hcfwd_unmarked WHEN: no real's check carries a mark (checked at the reals' own addresses).
hcfwd_unmarked() {
	local targets
	targets=$(ctl '{"cmd": "health"}' | jq -r '[.services[].reals[].health.target] | join(", ")')
	grep -q mark <<<"$targets" && fail "checks marked $1: $targets"
	return 0
}

# event_count NAME: that event's counter (xlvs stats -j).
event_count() { xlvs -j stats | jq -r --arg e "$1" '.events[$e] // 0'; }

# checks_done: checks run so far, over every real.
checks_done() { ctl '{"cmd": "health"}' | jq '[.services[].reals[].health.checks] | add'; }

# hcfwd_rechecked: until every real has run two more checks. A reload keeps a real's check when
# the check itself is unchanged (a gue real made dr: same target, same spec), and the target it
# reports is its last probe's, which may have begun before the reload (or while the VIP had no
# route, checked at the real's own address). A probe is steered by the marks of its start: two
# more results mean one began after the reload. Bound: 2 x (interval (+10%) + timeout) + slack.
hcfwd_rechecked() {
	local c0 t0 all bound=$((2 * (HC_INTERVAL * (100 + HC_JITTER) / 100 + HC_TIMEOUT) + 1000))
	c0=$(ctl '{"cmd": "health"}' | jq -c '[.services[].reals[].health.checks]')
	t0=$(now_ms)
	while :; do
		all=$(ctl '{"cmd": "health"}' | jq --argjson c0 "$c0" \
			'[.services[].reals[].health.checks] as $c | [range($c0 | length) | $c[.] >= $c0[.] + 2] | all')
		[ "$all" = true ] && return 0
		[ $(($(now_ms) - t0)) -lt $bound ] || fail "the reals did not run two checks within $bound ms (checks then: $c0)"
		sleep 0.05
	done
}

# hcfwd_steered: every real's check goes to the VIP with a mark, and the tc program steers them.
hcfwd_steered() {
	local targets before after c0 c1
	hcfwd_rechecked
	targets=$(ctl '{"cmd": "health"}' | jq -r '[.services[].reals[].health.target] | join(", ")')
	echo "   check targets: $targets"
	[ "$(grep -o "$VIP4:80 mark 0x584c" <<<"$targets" | wc -l)" = 3 ] ||
		fail "the checks do not go to the VIP with a mark: $targets; log: $(grep health_via "$LOG" | tail -2)"
	before=$(event_count hc_steered); c0=$(checks_done)
	sleep 1
	after=$(event_count hc_steered); c1=$(checks_done)
	# Every check's SYN at least goes through the tc program (then its ACK and RST): one per check,
	# less the few in flight at the window's ends.
	[ $((after - before)) -ge $((c1 - c0 - 6)) ] && [ $((c1 - c0)) -gt 0 ] ||
		fail "hc_steered +$((after - before)) for $((c1 - c0)) checks: the tc program did not steer them"
	echo "   meanwhile: $((c1 - c0)) checks, hc_steered +$((after - before)) packets; hc_mark_stale $(event_count hc_mark_stale)"
}

# hcfwd_bound: ms from a broken path to "down". A broken tunnel drops the check's SYN silently, so
# each failing check waits its whole timeout: fall x (interval (+10%) + timeout); a check in flight
# when the path broke may still pass (+ timeout); 200 ms for the test's polling and a loaded machine.
hcfwd_bound() { echo $((2 * (HC_INTERVAL * (100 + HC_JITTER) / 100 + HC_TIMEOUT) + HC_TIMEOUT + 200)); }

# hcfwd_break_fix WHAT BREAK FIX: real1's path broken by BREAK, found down within the bound while
# its own address still answers :80; FIX, found up again.
hcfwd_break_fix() {
	local what=$1 break=$2 fix=$3 n t0 t bound
	bound=$(hcfwd_bound)
	n=$(grep -c "real ${REAL4[0]} is down" "$LOG")
	eval "$break" || fail "$what: cannot break it"
	t0=$(now_ms)
	t=$(wait_log "real ${REAL4[0]} is down" $((n + 1)) 3000) || exit 1
	in_ns "$NS_LB" curl -s --max-time 2 "http://${REAL4[0]}/" | grep -q real1 ||
		fail "$what: real1's own address does not answer on :80 (the test must leave it up)"
	echo "   $what: real1 down after $((t - t0)) ms (bound $bound ms), its own address still answering :80"
	[ $((t - t0)) -le "$bound" ] || fail "$what: detection took $((t - t0)) ms > $bound ms"
	n=$(grep -c "real ${REAL4[0]} is up" "$LOG")
	eval "$fix" || fail "$what: cannot repair it"
	t0=$(now_ms)
	t=$(wait_log "real ${REAL4[0]} is up" $((n + 1)) 3000) || exit 1
	echo "   repaired: real1 up after $((t - t0)) ms (rise 2)"
}

s_hcfwd_tun() {
	local others
	hcfwd_up
	hcfwd_config tun
	wait_all_up 3 5000
	hcfwd_steered
	# the log is the whole suite's: only lines written from here on count
	others=$(grep -c "real ${REAL4[1]} is down\|real ${REAL4[2]} is down" "$LOG")
	hcfwd_break_fix "real1's decapsulator detached" "decap 0 detach dev eth0 >/dev/null" \
		"decap 0 attach dev eth0 gue-port 6080 >/dev/null"
	[ "$(grep -c "real ${REAL4[1]} is down\|real ${REAL4[2]} is down" "$LOG")" = "$others" ] ||
		fail "another real went down"
	# A restarted xlvsd takes over the pinned tcx link (its program swapped in place) and the marks.
	[ -e "$PIN/tclink_eth0" ] || fail "no tcx link pinned at $PIN/tclink_eth0: $(ls "$PIN" | tr '\n' ' ')"
	stop_xlvsd
	start_xlvsd
	grep -q "tc program on eth0 egress (tcx, adopted)" "$LOG" ||
		fail "the restarted xlvsd did not adopt the tc link: $(grep 'tc program' "$LOG" | tail -1)"
	wait_all_up 3 5000
	hcfwd_steered
	echo "   restarted xlvsd: $(grep -o 'tc program on eth0 egress.*' "$LOG" | tail -1)"
}

s_hcfwd_gue() {
	hcfwd_up
	hcfwd_config gue
	wait_all_up 3 5000
	hcfwd_steered
	hcfwd_break_fix "real1's decapsulator detached" "decap 0 detach dev eth0 >/dev/null" \
		"decap 0 attach dev eth0 gue-port 6080 >/dev/null"
}

# DR: the real must hold the VIP to take the frame sent to its MAC; without it, a check at the
# real's own address would still pass.
s_hcfwd_dr() {
	hcfwd_up
	hcfwd_config dr
	wait_all_up 3 5000
	hcfwd_steered
	hcfwd_break_fix "the VIP removed from real1's lo" "in_ns ${NS_R[0]} ip addr del $VIP4/32 dev lo" \
		"in_ns ${NS_R[0]} ip addr add $VIP4/32 dev lo"
}

# Without a route to the VIP out of eth0 the checks cannot be steered: xlvsd says so and checks the
# reals at their own addresses, so they stay up. Routes are followed without a reload: the route
# coming up (a routing daemon late at boot) steers the checks, its going away (the daemon
# restarting) sends them to the reals' own addresses again, and no real goes down meanwhile.
s_hcfwd_no_route() {
	local downs off n
	hcfwd_tun_checked	# a target is its last probe's, which may have begun with the route still there
	grep -q "health_via_forwarding: service tcp $VIP4:80 is checked at its reals' own addresses: the director has no route" "$LOG" ||
		fail "no log line about the missing route: $(grep health_via "$LOG" | tail -2)"
	hcfwd_unmarked "without a route"
	echo "   logged: $(grep -o 'health_via_forwarding: service.*' "$LOG" | tail -1)"

	downs=$(grep -c "is down" "$LOG")
	off="$HCFWD_OFF: the director has no route"
	n=$(grep -c -- "$HCFWD_ON" "$LOG")
	hcfwd_up
	wait_log "$HCFWD_ON" $((n + 1)) 3000 >/dev/null || exit 1
	hcfwd_steered
	echo "   route added, no reload: $(grep -o 'health_via_forwarding: service.*' "$LOG" | tail -1)"
	n=$(grep -c -- "$off" "$LOG")
	in_ns "$NS_LB" ip route del 198.18.1.0/24 via $CLIENT4 dev eth0 || fail "director: route deleted"
	wait_log "$off" $((n + 1)) 3000 >/dev/null || exit 1
	hcfwd_rechecked
	hcfwd_unmarked "still, after the route went"
	echo "   route deleted: $(grep -o 'health_via_forwarding: service.*' "$LOG" | tail -1)"
	[ "$(grep -c "is down" "$LOG")" = "$downs" ] || fail "a real went down while the route came and went"
	wait_all_up 3 2000
}

# route_look_now: an unrelated route (198.18.6.0/24) added, or deleted if it is there, so xlvsd
# looks at the VIPs' routes now (once the next-hop sync told it) and not again for a while (its
# pacing, docs/health.md): what follows at once may be seen first by an apply.
route_look_now() {
	local op=add
	[ -n "$(in_ns "$NS_LB" ip route show 198.18.6.0/24)" ] && op=del
	in_ns "$NS_LB" ip route $op 198.18.6.0/24 via $CLIENT4 dev eth0 || fail "director: route $op 198.18.6.0/24"
	sleep 0.3	# the next-hop sync (100 ms) and the look after it
}

# An apply (a reload, a health change) that comes between a route's move and xlvsd's look at it
# sees the new route first: the change is still logged, once, and the look after it says nothing
# more. A reload that changes health_mark changes the route without any route event: the
# director's policy routing sends the new range nowhere, then the old range is back.
s_hcfwd_route_told() {
	local unst n_on n_off n_un
	hcfwd_up
	trap 'in_ns "$NS_LB" ip rule del pref 100 2>/dev/null; in_ns "$NS_LB" ip route flush table 100 2>/dev/null; hcfwd_down' EXIT
	in_ns "$NS_LB" ip route add unreachable default table 100 &&
		in_ns "$NS_LB" ip rule add pref 100 fwmark 0x4d000000/0xffff0000 table 100 || fail "director: policy routing"
	hcfwd_tun_checked
	unst="service tcp $VIP4:80 is checked at its reals' own addresses: the director has no route to it (No route to host)"
	n_un=$(grep -c -- "$unst" "$LOG")
	sed -i '1i health_mark: 0x4d000000/0xffff0000' "$CONF"
	reload
	[ "$(grep -c -- "$unst" "$LOG")" = $((n_un + 1)) ] ||
		fail "health_mark into a range routed nowhere: $(grep health_via "$LOG" | tail -2)"
	echo "   health_mark routed nowhere: $(grep -o 'health_via_forwarding: service.*' "$LOG" | tail -1)"
	n_on=$(grep -c -- "$HCFWD_ON" "$LOG")
	sed -i '/^health_mark:/d' "$CONF"
	reload
	sleep 1	# no look follows: no route moved
	[ "$(grep -c -- "$HCFWD_ON" "$LOG")" = $((n_on + 1)) ] ||
		fail "health_mark back: $(($(grep -c -- "$HCFWD_ON" "$LOG") - n_on)) lines '$HCFWD_ON'"
	echo "   health_mark back: $(grep -o 'health_via_forwarding: service.*' "$LOG" | tail -1)"
	hcfwd_steered

	# the route gone with real3's listener: whichever of the look and real3's "down" (a health
	# change's apply) sees it first, it is said once
	n_off=$(grep -c -- "$HCFWD_OFF" "$LOG")
	route_look_now
	in_ns "$NS_LB" ip route del 198.18.1.0/24 via $CLIENT4 dev eth0 || fail "director: VIP route deleted"
	http_down 2
	wait_log "$HCFWD_OFF" $((n_off + 1)) 3000 >/dev/null || exit 1
	sleep 1.2
	http_up 2
	[ "$(grep -c -- "$HCFWD_OFF" "$LOG")" = $((n_off + 1)) ] ||
		fail "the route gone with a real: $(($(grep -c -- "$HCFWD_OFF" "$LOG") - n_off)) lines '$HCFWD_OFF'"
	echo "   route deleted with a real's listener: $(grep -o 'health_via_forwarding: service.*' "$LOG" | tail -1)"
	wait_all_up 3 3000
}

# A routing daemon rarely moves one route alone: the VIP's route withdrawn 150 ms after another
# route moved is followed at the next-hop resolver's pace (~100 ms), not a second later, so no
# real goes down meanwhile (fall 2: one check may fail, started before the look). Then a flap of
# 50 changes in about a second: the steering ends as the last route says, and its log lines
# alternate (each change said once).
s_hcfwd_route_paced() {
	local n t0 t lines downs
	hcfwd_up
	hcfwd_tun_checked
	n=$(grep -c -- "$HCFWD_OFF" "$LOG")
	downs=$(grep -c "is down" "$LOG")
	route_look_now
	sleep 0.15
	t0=$(now_ms)
	in_ns "$NS_LB" ip route del 198.18.1.0/24 via $CLIENT4 dev eth0 || fail "director: VIP route deleted"
	t=$(wait_log "$HCFWD_OFF" $((n + 1)) 3000) || exit 1
	echo "   the VIP's route withdrawn 150 ms after another route moved: followed in $((t - t0)) ms"
	sleep 0.5
	[ "$(grep -c "is down" "$LOG")" = "$downs" ] ||
		fail "reals went down while the route's withdrawal waited: $(grep "is down" "$LOG" | tail -3)"

	n=$(wc -l <"$LOG")
	t0=$(now_ms)
	in_ns "$NS_LB" bash -c "for i in \$(seq 25); do
		ip route add 198.18.1.0/24 via $CLIENT4 dev eth0; sleep 0.02
		ip route del 198.18.1.0/24 via $CLIENT4 dev eth0; sleep 0.02
	done; ip route add 198.18.1.0/24 via $CLIENT4 dev eth0" || fail "director: the flap"
	t=$(now_ms)
	sleep 1.5
	lines=$(tail -n +$((n + 1)) "$LOG" | grep -o "service tcp $VIP4:80 is checked [a-z ']*" | uniq -c)
	echo "   51 changes in $((t - t0)) ms, ending with the route: $(grep -c . <<<"$lines") lines"
	grep -qv '^ *1 ' <<<"$lines" && fail "a change said twice in a row: $lines"
	tail -1 <<<"$lines" | grep -q "through the forwarding path again" || fail "the last line is not 'again': $lines"
	hcfwd_steered
}

# A multipath route (ECMP, as a routing daemon installs towards two upstreams) with a path out of
# an interface xlvsd is not attached to: a check's connection may take that path whichever one
# the route's look picks (its hash sees no ports, no source), so the service is not steered.
s_hcfwd_route_ecmp() {
	local off n
	hcfwd_up
	trap 'in_ns "$NS_LB" ip link del d1 2>/dev/null; in_ns "$NS_LB" ip route del 198.18.1.0/24 2>/dev/null; hcfwd_down' EXIT
	in_ns "$NS_LB" ip link add d1 type veth peer name d1p || fail "director: veth d1"
	in_ns "$NS_LB" sysctl -qw net.ipv6.conf.d1.disable_ipv6=1 net.ipv6.conf.d1p.disable_ipv6=1
	in_ns "$NS_LB" ip link set d1p up && in_ns "$NS_LB" ip link set d1 up &&
		in_ns "$NS_LB" ip addr add 198.18.8.1/24 dev d1 || fail "director: d1 up"
	hcfwd_tun_checked
	off="$HCFWD_OFF: one of its route's paths leaves through d1, which xlvsd is not attached to"
	n=$(grep -c -- "$off" "$LOG")
	in_ns "$NS_LB" ip route replace 198.18.1.0/24 nexthop via $CLIENT4 dev eth0 nexthop via 198.18.8.2 dev d1 ||
		fail "director: multipath route"
	wait_log "$off" $((n + 1)) 3000 >/dev/null || exit 1
	hcfwd_rechecked
	hcfwd_unmarked "with a path outside"
	echo "   $(grep -o 'health_via_forwarding: service.*' "$LOG" | tail -1)"
	n=$(grep -c -- "$HCFWD_ON" "$LOG")
	in_ns "$NS_LB" ip route replace 198.18.1.0/24 via $CLIENT4 dev eth0 || fail "director: one path again"
	wait_log "$HCFWD_ON" $((n + 1)) 3000 >/dev/null || exit 1
	hcfwd_steered
	wait_all_up 3 2000
}
