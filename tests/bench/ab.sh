#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make bench BASE=<commit>`: the packet bench of another commit (A, the base) against this
# tree's (B, current) in one run, on one machine, interleaved, rows matched by name
# (docs/bench.md, "A/B against another commit").
#
# The base is exported with `git archive` into $BUILD/base-<sha>/src and built there with its
# own Makefile into its own build dir (kept, so a second run reuses it). Both benches are then
# run alternately, ROUNDS times, in the order A B, B A, A B... so slow drift hits both alike:
#   - per row, when both benches have --list and --rows: A row, B row, next row...;
#   - otherwise (older benches) whole runs: A, B, B, A, ...
# A patch in tests/bench/base/ named by a prefix of the base's hash is applied to the export
# first (rows the base's bench lacks, its data path untouched: tests/bench/base/README.md).
# Each run writes its own JSON ($BUILD/ab/); the summary (per row: mean ns above the floor of
# A and B over the rounds, their range, B/A; the growth from 4k to 1M spread flows per method;
# the SYN floods' figures) goes to stdout and $BUILD/bench-ab.json.
# BENCH_ARGS are passed to both (e.g. --quick). ROWS (comma-separated shell patterns of row
# names, as the bench's --rows) limits the rows: per row, both run only those; whole runs, the
# current bench gets --rows and the summary keeps only matching rows. ROWS=issue13: issue 13's
# target rows. The design's limit rows (LIMITS: block_dr_path*, the current bench's alone) run in B
# each round when ROWS selects them (issue13 does) and are set beside A's row of the same flows.
# Exit 0 done, 1 usage, 2 build or run failure.
set -eu -o pipefail
BUILD=${BUILD:-build}
BASE=${BASE:-}
ROUNDS=${ROUNDS:-3}
BENCH_ARGS=${BENCH_ARGS:-}
OUT=${OUT:-$BUILD/bench-ab.json}
ROWS=${ROWS:-}
# Issue 13's targets: established DR/IPIP/GUE over 4k and 1M spread flows, a new flow, the flood;
# and the one-flow rows, the fixed path's cost the spread rows cannot go below.
ISSUE13_ROWS=dr_established,ipip_established,gue4_established
ISSUE13_ROWS+=,dr_established_4k_spread,ipip_established_4k_spread,gue4_established_4k_spread
ISSUE13_ROWS+=,dr_established_1m_spread,ipip_established_1m_spread,gue4_established_1m_spread
ISSUE13_ROWS+=,new_flow_dr,syn_flood_1m_established,block_dr_path,block_dr_path_4k_spread
[ "$ROWS" = issue13 ] && ROWS=$ISSUE13_ROWS
# The design's limit (tests/bench/blocks.bpf.c blk_dr_path) : the row of the same flows.
LIMITS='{"block_dr_path":"dr_established","block_dr_path_4k_spread":"dr_established_4k_spread"}'
CUR=$BUILD/bench/xlvs-bench
HERE=$(cd "$(dirname "$0")" && pwd)

die() { echo "bench-ab: $1" >&2; exit "${2:-2}"; }
[ -n "$BASE" ] || die "BASE=<commit> is required" 1
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "ROUNDS wants a positive number, got '$ROUNDS'" 1
[ -x "$CUR" ] || die "$CUR not built (make all)"
sha=$(git rev-parse --verify --quiet "$BASE^{commit}") || die "BASE '$BASE' is not a commit" 1
short=${sha:0:12}
patch_file=
for f in "$HERE"/base/*.patch; do
	[ -e "$f" ] || continue
	stem=$(basename "$f" .patch)
	[[ "$sha" == "$stem"* ]] && patch_file=$f
done
dir=$BUILD/base-$short
# a patched base builds apart, keyed by the patch's content (a changed patch rebuilds)
[ -n "$patch_file" ] && dir=$dir-$(sha1sum "$patch_file" | cut -c1-8)
base_bench=$dir/src/build/bench/xlvs-bench

build_base() {
	[ -x "$base_bench" ] && return 0
	echo "bench-ab: building $short's bench in $dir/src" >&2
	rm -rf "$dir"
	mkdir -p "$dir/src"
	git archive "$sha" | tar -x -C "$dir/src"
	if [ -n "$patch_file" ]; then
		echo "bench-ab: applying $(basename "$patch_file") to $short's bench" >&2
		patch -s -p1 -d "$dir/src" <"$patch_file" || die "$(basename "$patch_file") does not apply to $short"
	fi
	# Its own Makefile, its own build dir; only the bench and what it needs.
	nice make -C "$dir/src" -j2 BUILD=build build/bench/xlvs-bench >"$dir/build.log" 2>&1 ||
		{ tail -20 "$dir/build.log" >&2; die "building $short failed (log: $dir/build.log)"; }
	[ -x "$base_bench" ] || die "$short's Makefile did not produce build/bench/xlvs-bench"
}

# Both benches must know --list and --rows for the per-row interleaving.
has_rows() { "$1" --help 2>&1 | grep -q -- '--rows'; }

# Whether a row name matches ROWS (every name without ROWS).
selected() {
	local p
	[ -z "$ROWS" ] && return 0
	IFS=, read -ra pats <<<"$ROWS"
	for p in "${pats[@]}"; do
		# shellcheck disable=SC2053 # p is a pattern
		[[ -n "$p" && "$1" == $p ]] && return 0
	done
	return 1
}

build_base
mkdir -p "$BUILD/ab"
rm -f "$BUILD"/ab/*.json
if has_rows "$base_bench" && has_rows "$CUR"; then
	method=per-row
	# Rows both have, in the current bench's order, the floor excluded (every run measures it).
	rows=()
	while read -r name; do
		selected "$name" && rows+=("$name")
	done < <(grep -Fxf <("$base_bench" --list) <("$CUR" --list) | grep -vx floor)
	[ "${#rows[@]}" -gt 0 ] || die "the two benches have no row in common${ROWS:+ matching $ROWS}"
	# the limit rows are the current bench's alone: B runs them each round
	limit_rows=()
	while read -r name; do
		[ -n "$ROWS" ] && selected "$name" && limit_rows+=("$name")
	done < <("$CUR" --list | grep -x "$(jq -r 'keys | join("\\|")' <<<"$LIMITS")")
else
	method=whole-run
	rows=("")
	limit_rows=()
fi
echo "bench-ab: A = $short (base), B = current tree; $method interleaving, $ROUNDS rounds" >&2

run() { # run A|B ROUND ROW
	local bin=$base_bench sel=()
	[ "$1" = B ] && bin=$CUR
	[ -n "$3" ] && sel=(--rows "$3")
	[ -z "$3" ] && [ "$1" = B ] && [ -n "$ROWS" ] && sel=(--rows "$ROWS")
	echo "bench-ab: round $2 $1${3:+ $3}" >&2
	# shellcheck disable=SC2086 # BENCH_ARGS is a list of options
	"$bin" $BENCH_ARGS "${sel[@]}" --json "$BUILD/ab/$1-$2-${3:-all}.json" >/dev/null ||
		die "$1 ($bin) failed in round $2"
}

for ((r = 1; r <= ROUNDS; r++)); do
	for row in "${rows[@]}"; do
		if ((r % 2)); then run A "$r" "$row" && run B "$r" "$row"; else run B "$r" "$row" && run A "$r" "$row"; fi
	done
	for row in "${limit_rows[@]}"; do
		run B "$r" "$row"
	done
done

# Per row: the mean over the rounds of each side's ns above the floor, its min and max, B/A;
# and the median of the rounds' own B/A (A and B of one round ran back to back, so a host whose
# load moves both by 2x within minutes moves the pair together: the steadier figure).
for f in "$BUILD"/ab/*.json; do
	jq -c --arg side "$(basename "$f" | cut -c1)" --argjson round "$(basename "$f" | cut -d- -f2)" \
		'. + { side: $side, round: $round }' "$f"
done | jq -s --argjson order "$("$CUR" --list | jq -R . | jq -s .)" --argjson keep "$(for n in $(jq -r '.rows[].name' "$BUILD"/ab/B-*.json | sort -u); do
	selected "$n" && echo "$n"; done | jq -R . | jq -s .)" --arg base "$sha" --arg method "$method" --arg patch "${patch_file:+$(basename "$patch_file")}" --argjson rounds "$ROUNDS" --argjson limits "$LIMITS" '
	. as $all
	| def runs($s): [$all[] | select(.side == $s)];
	def names($s): [runs($s)[] | .rows[].name];
	def stats($s; $n): [runs($s)[] | .rows[] | select(.name == $n) | .ns_above_floor]
		| { mean: (add / length), min: min, max: max, runs: length };
	def mean: add / length;
	def val($s; $n; $r): [runs($s)[] | select(.round == $r) | .rows[] | select(.name == $n) | .ns_above_floor][0];
	def median: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	def paired($n): [range(1; $rounds + 1) as $r | { a: val("A"; $n; $r), b: val("B"; $n; $r) }
		| select(.a != null and .b != null and .a > 0) | .b / .a] | median;
	(names("A") | unique) as $an
	| { base: $base, method: $method, rounds: $rounds, date: (now | todate),
	    floor_ns: { A: ([runs("A")[] | .floor_ns] | mean), B: ([runs("B")[] | .floor_ns] | mean) },
	    rows: [ $order[] | select(. != "floor") | select(IN($keep[])) | select(IN($an[]))
		    | { name: ., A: stats("A"; .), B: stats("B"; .) }
		    | .ratio = (if .A.mean > 0 then .B.mean / .A.mean else null end)
		    | .paired_ratio = paired(.name) ],
	    only_A: ($an - names("B")), only_B: ((names("B") | unique) - $an),
	    patch: $patch }
	# per method: 1M spread / 4k spread above the floor, each side (issue 13: growth <= 1.2)
	| .growth = [ .rows as $r | $r[] | .name | select(endswith("_established_4k_spread"))
		| sub("_4k_spread$"; "") as $m
		| ($r[] | select(.name == "\($m)_4k_spread")) as $k
		| ($r[] | select(.name == "\($m)_1m_spread")) as $g
		| { method: $m, A: ($g.A.mean / $k.A.mean), B: ($g.B.mean / $k.B.mean) } ]
	# the SYN floods: established flows left and the table before/after, per round and side
	| .syn_floods = ([$all[] | .side as $s | (.syn_floods // [])[] | . + { side: $s }]
		| group_by(.row) | map({ row: .[0].row,
			A: [.[] | select(.side == "A") | { established_left, established, entries_before, entries_after }],
			B: [.[] | select(.side == "B") | { established_left, established, entries_before, entries_after }] })
		| map(select(.A != [] or .B != [])))
	# the limit rows of the design (B alone) against the row of A with the same flows
	| .limits = [ $limits | to_entries[] | .key as $l | .value as $n
		| select(IN(names("B")[]; $l) and IN($an[]; $n))
		| { limit: $l, row: $n, B: stats("B"; $l), A: stats("A"; $n) }
		| .ratio = (if .A.mean > 0 then .B.mean / .A.mean else null end)
		| .paired_ratio = ([range(1; $rounds + 1) as $r | { a: val("A"; $n; $r), b: val("B"; $l; $r) }
			| select(.a != null and .b != null and .a > 0) | .b / .a] | median) ]
' >"$OUT"

jq -r '
	"A/B: A = \(.base[0:12]) (base\(if .patch != "" then ", its bench patched with \(.patch)" else "" end)), B = current; \(.method) interleaving, \(.rounds) rounds",
	"ns above the floor, mean of the rounds [min-max]; paired: the median of the rounds\u0027 own B/A; floor A \(.floor_ns.A * 10 | round / 10) ns, B \(.floor_ns.B * 10 | round / 10) ns",
	"",
	(["row", "A (base)", "B (current)", "B/A", "paired"] | @tsv),
	(.rows[] | [.name,
		"\(.A.mean * 10 | round / 10) [\(.A.min)-\(.A.max)]",
		"\(.B.mean * 10 | round / 10) [\(.B.min)-\(.B.max)]",
		(if .ratio then (.ratio * 100 | round / 100 | tostring) else "-" end),
		(if .paired_ratio then (.paired_ratio * 100 | round / 100 | tostring) else "-" end)] | @tsv),
	"",
	(if .growth != [] then "growth 4k -> 1M spread (1m_spread / 4k_spread above the floor):",
		(.growth[] | "  \(.method): A \(.A * 100 | round / 100), B \(.B * 100 | round / 100)"), "" else empty end),
	(.syn_floods[] | "\(.row): established flows left, xlvs_conns entries before -> after, per round:",
		"  A: \([.A[] | "\(.established_left)/\(.established) (\(.established_left * 1000 / .established | round / 10)%), \(.entries_before) -> \(.entries_after)"] | join("; "))",
		"  B: \([.B[] | "\(.established_left)/\(.established) (\(.established_left * 1000 / .established | round / 10)%), \(.entries_before) -> \(.entries_after)"] | join("; "))", ""),
	(if (.limits // []) != [] then "the design\u0027s limit (B alone) against A\u0027s row of the same flows:",
		(.limits[] | "  \(.limit) \(.B.mean * 10 | round / 10) [\(.B.min)-\(.B.max)] / A \(.row) \(.A.mean * 10 | round / 10): \(.ratio * 100 | round / 100), paired \(.paired_ratio * 100 | round / 100)"), "" else empty end),
	"only in A: \(.only_A | join(", ") | if . == "" then "-" else . end)",
	"only in B: \(.only_B | join(", ") | if . == "" then "-" else . end)"
' "$OUT" | awk -F'\t' 'NF == 5 { printf "%-32s %-22s %-22s %-6s %s\n", $1, $2, $3, $4, $5; next } { print }'
echo "bench-ab: written $OUT" >&2
