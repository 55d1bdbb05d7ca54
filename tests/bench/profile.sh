#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make profile ROW=<row>`: where a bench row's time goes in the program, by source line.
# perf samples the CPU clock (no hardware counters needed) while xlvs-bench runs the row, the
# bench writes its programs' JIT line tables (--lines), xlvs-profile maps each sample to its
# line. Writes $BUILD/profile/<row>.txt. docs/bench.md, "Profiling a row".
set -euo pipefail

BUILD=${BUILD:-build}
ROW=${ROW:-}
CALLS=${CALLS:-5000000}
FREQ=${FREQ:-20000}
TOP=${TOP:-30}

die() { echo "profile: $*" >&2; exit 1; }

[ -n "$ROW" ] || die "name a row: make profile ROW=dr_established_4k_spread (xlvs-bench --list)"
[ "$(id -u)" = 0 ] || die "needs root (BPF_PROG_RUN, perf on the kernel's code)"
command -v perf >/dev/null || die "perf is missing: apt-get install linux-perf (make profile installs it)"
for t in xlvs-bench xlvs-profile; do [ -x "$BUILD/bench/$t" ] || die "build first: make ($BUILD/bench/$t is missing)"; done
"$BUILD/bench/xlvs-bench" --list | grep -qx -- "$ROW" || die "no row named '$ROW' (xlvs-bench --list)"

out="$BUILD/profile"
mkdir -p "$out"
data="$out/$ROW.perf.data" lines="$out/$ROW.lines" report="$out/$ROW.txt"
perf record -q -e cpu-clock -F "$FREQ" -o "$data" -- \
	"$BUILD/bench/xlvs-bench" --rows "$ROW" --calls "$CALLS" --lines "$lines" > "$out/$ROW.bench" ||
	die "the bench or perf failed: $out/$ROW.bench"
{
	echo "profile of $ROW: $CALLS calls, perf cpu-clock at $FREQ Hz, $(date -u +%FT%TZ), $(uname -r)"
	grep -E "^(floor|$ROW) " "$out/$ROW.bench" || true
	echo
	perf script -i "$data" -F ip 2>/dev/null | "$BUILD/bench/xlvs-profile" --top "$TOP" --src . "$lines"
} > "$report"
cat "$report"
echo "profile: written $report" >&2
