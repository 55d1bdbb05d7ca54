#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make demo: the e2e topology (client, director, three reals in network namespaces), xlvsd
# running docs/examples/demo.yaml, requests through the VIPs, and the CLI's view of it.
# Everything is torn down on exit; `demo.sh clean` removes what an interrupted run left.
set -u
E2E_ID=demo
. "$(dirname "$0")/lib.sh"

XLVSD=$BUILD/xlvsd
XLVS=$BUILD/xlvs
PIN=/sys/fs/bpf/xlvs-demo	# not the default pin dir: the demo never touches a real install
SOCK=$E2E_DIR/xlvsd.sock
CONF=$REPO/docs/examples/demo.yaml
LOG=$E2E_DIR/xlvsd.log
PIDFILE=$E2E_DIR/xlvsd.pid

clean() {
	local pid
	for pid in $(pgrep -f "xlvsd -c .* --pin-dir $PIN" 2>/dev/null); do kill "$pid" 2>/dev/null; done
	sleep 0.2
	"$XLVSD" --detach --pin-dir "$PIN" >/dev/null 2>&1
	rm -rf "$PIN"
	topo_down
}

xlvs() { in_ns "$NS_LB" "$XLVS" --pin-dir "$PIN" --socket "$SOCK" "$@"; }

step() { printf '\n### %s\n' "$*"; }

# requests URL N: N new connections; print who answered each, then the tally.
requests() {
	local url=$1 n=$2 i out tally=""
	for i in $(seq "$n"); do
		out=$(in_ns "$NS_CL" curl -s --max-time 3 "$url") || fail "request $i to $url failed"
		tally+="${out%% *}"$'\n'
		[ "$i" -le 6 ] && echo "  curl $url -> ${out%% *}"
	done
	echo "  ... $n requests: $(echo -n "$tally" | sort | uniq -c | awk '{printf "%s %s  ", $2, $1}')"
}

demo() {
	[ "$(id -u)" = 0 ] || fail "the demo needs root (network namespaces, XDP)"
	[ -x "$XLVSD" ] && [ -x "$XLVS" ] || fail "build first: make"
	need curl; need socat
	clean 2>/dev/null	# a run interrupted by kill -9 left something behind
	mkdir -p "$E2E_DIR"
	trap clean EXIT
	trap 'exit 130' INT TERM

	step "topology: client 198.18.0.100, director 198.18.0.1, reals 198.18.0.11-13 (decap on eth0)"
	topo_up
	servers_up
	echo "  namespaces: $NS_CL $NS_LB ${NS_R[*]} $NS_SW"

	step "xlvsd -c docs/examples/demo.yaml (in $NS_LB)"
	start_xlvsd
	sed 's/^/  /' "$LOG"

	step "60 HTTP requests to the IPv4 VIP (IPIP, weights 1:2:3); each real answers with its name"
	requests http://$VIP4/ 60
	step "30 HTTP requests to the IPv6 VIP (GUE over IPv6, equal weights)"
	requests "http://[$VIP6]/" 30
	step "UDP to $VIP4:5353 (direct routing)"
	echo "  answered by $(in_ns "$NS_CL" sh -c "echo hi | socat -T2 - UDP4:$VIP4:5353")"
	step "ping $VIP4 (answered by the director itself: echo: true)"
	in_ns "$NS_CL" ping -c2 -i 0.2 -q $VIP4 | sed -n 's/^/  /; /packets/p'

	step "xlvs service list"
	xlvs service list
	step "xlvs stats"
	xlvs stats
	step "teardown"
}

case ${1:-} in
clean) clean; echo "demo: cleaned up";;
"") demo; echo "  demo: done, nothing left behind";;
*) fail "usage: $0 [clean]";;
esac
