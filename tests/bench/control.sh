#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Control-plane bench (part of make bench): how long xlvsd takes to apply 1,000 services x 10
# reals from its YAML file, measured as the wall time of `xlvs reload` (request to reply, so it
# includes parsing, the diff and every map write). Runs in a private network namespace with a
# veth pair; writes build/bench-control.json. Not a test: it fails only if something breaks.
set -u
# shellcheck source=../pin-dirs.sh
. "$(dirname "$0")/../pin-dirs.sh"
BUILD=${BUILD:-build}
NS=xlvs-bench-$$
DIR=$(mktemp -d -t xlvs-bench.XXXX)
PIN=/sys/fs/bpf/xlvs-bench-$$
SERVICES=${SERVICES:-1000} REALS=${REALS:-10} RING=${RING:-1021}
pid=

cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && sleep 0.3
	"$BUILD/xlvsd" --detach --pin-dir "$PIN" >/dev/null 2>&1
	ip netns del "$NS" 2>/dev/null
	rm -rf "$DIR" "$PIN"
}
trap cleanup EXIT
pin_dirs_clean bench-control '^xlvs-bench-([1-9][0-9]*)$' # what killed runs left
die() { echo "bench-control: $*" >&2; [ -f "$DIR/log" ] && tail -5 "$DIR/log" >&2; exit 1; }

# config WEIGHT-OF-THE-LAST-REAL: SERVICES services on 198.18.0.0/15, REALS reals each.
config() {
	local s r
	{
		echo "interfaces: [eth0]"
		echo "xdp_mode: generic"
		echo "metrics: off"
		[ "$SERVICES" = 0 ] && echo "services: []" || echo "services:"
		for ((s = 0; s < SERVICES; s++)); do
			printf '  - { vip: 198.18.%d.%d, port: 80, protocol: tcp, forward: dr, ring_size: %d, reals: [' \
				$((s / 250)) $((s % 250 + 1)) "$RING"
			for ((r = 1; r <= REALS; r++)); do
				printf '{ address: 198.19.%d.%d, weight: %d }%s' $((s / 250)) $((r + 10 * (s % 25))) \
					$([ "$r" = "$REALS" ] && echo "$1" || echo 100) $([ "$r" -lt "$REALS" ] && echo ,)
			done
			echo '] }'
		done
	} >"$DIR/xlvs.yaml"
}

now_ms() { date +%s%3N; }
xlvs() { nsenter --net=/run/netns/"$NS" "$BUILD/xlvs" --pin-dir "$PIN" --socket "$DIR/sock" "$@"; }

# timed_reload LABEL: prints the row and keeps "label ms" for the JSON.
timed_reload() {
	local t0 t1 out
	t0=$(now_ms)
	out=$(xlvs -j reload) || die "reload ($1) refused: $out"
	t1=$(now_ms)
	printf '  %-44s %6d ms  %s\n' "$1" $((t1 - t0)) \
		"$(echo "$out" | tr -d ' \n' | grep -o '"reals_written":[0-9]*\|"ring_slots_written":[0-9]*' | tr '\n' ' ')"
	ROWS+=("$1=$((t1 - t0))")
}

ip netns add "$NS" || die "netns add"
ip -n "$NS" link add eth0 type veth peer name eth1 && ip -n "$NS" link set eth0 up &&
	ip -n "$NS" link set eth1 up || die "veth"
SERVICES=0 config 100	# start empty (bash: the assignment holds for this call only)
nsenter --net=/run/netns/"$NS" "$BUILD/xlvsd" -c "$DIR/xlvs.yaml" --pin-dir "$PIN" --socket "$DIR/sock" \
	>"$DIR/log" 2>&1 &
pid=$!
for i in $(seq 100); do grep -q "info: ready" "$DIR/log" && break; sleep 0.1; done
grep -q "info: ready" "$DIR/log" || die "xlvsd did not start"

ROWS=()
echo "control plane: $SERVICES services x $REALS reals, ring $RING (xlvs reload, wall time)"
config 100; timed_reload "from empty"
timed_reload "identical file"
config 50; timed_reload "one weight changed in every service"
SERVICES=0 config 100; timed_reload "all removed"
{
	printf '{"services": %d, "reals_per_service": %d, "ring_size": %d, "reload_ms": {' "$SERVICES" "$REALS" "$RING"
	sep=
	for r in "${ROWS[@]}"; do printf '%s"%s": %s' "$sep" "${r%=*}" "${r##*=}"; sep=", "; done
	echo '}}'
} >"$BUILD/bench-control.json"
echo "wrote $BUILD/bench-control.json"
