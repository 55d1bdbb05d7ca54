#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vmtest/run.sh: run the unit and BPF fixture suites under Debian 12's own kernel
# (linux-image-amd64, 6.1 LTS) in qemu with TCG. The host's / is shared read-only over
# virtio-9p, so the guest runs the host's build/tests binaries with the host's libraries and
# tools; vmtest/init (PID 1 of an initramfs built here) mounts it, runs the suites and prints
# "xlvs-vmtest: exit status N" on the serial console, which is this script's stdout.
#
#   vmtest/run.sh         run (exit 0 only if every suite passed in the guest)
#   vmtest/run.sh deps    install qemu-system-x86 and busybox-static if missing (root)
#   vmtest/run.sh fetch   only download and unpack the kernel package into $BUILD/vmtest
#
# Nothing is installed for the kernel: the .deb is fetched with `apt-get download` and unpacked
# with `dpkg-deb -x` under $BUILD/vmtest (kept for the next run). Knobs (environment):
#   VMTEST_TIMEOUT  seconds for the whole VM (default 7200)     VMTEST_MEM   MiB (default 4096)
#   VMTEST_CPUS     guest CPUs (default 2)                      VMTEST_JOBS  Criterion --jobs (default 2)
#   VMTEST_SUITES   default "unit-tests bpf-tests"              VMTEST_ARGS  extra Criterion options
#   VMTEST_KERNEL_PKG  e.g. linux-image-6.1.0-57-amd64 (default: what linux-image-amd64 depends on)
#   VMTEST_SLOW     XLVS_TEST_SLOW in the guest (default 10): TCG runs the tests about ten times
#                   slower than the host, so their timeouts and wall-clock budgets are scaled by it
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${BUILD:-$ROOT/build}" 2>/dev/null && pwd) || { echo "vmtest: no build directory: run make all" >&2; exit 1; }
WORK=$BUILD/vmtest
TIMEOUT=${VMTEST_TIMEOUT:-7200}
MEM=${VMTEST_MEM:-4096}
CPUS=${VMTEST_CPUS:-2}
JOBS=${VMTEST_JOBS:-2}
SUITES=${VMTEST_SUITES:-unit-tests bpf-tests}
ARGS=${VMTEST_ARGS:-}
SLOW=${VMTEST_SLOW:-10}
# Built as modules in Debian's 6.1 config (see config-*): virtio PCI and 9p for the shared /,
# veth for the netns tests. Everything else the suites use (BPF, XDP, netns, bpffs) is built in.
MODULES="virtio_pci 9pnet_virtio 9p veth"
DEB_PACKAGES="qemu-system-x86 busybox-static"
TAG=xlvshost
MSIZE=262144

say() { printf '  %-8s %s\n' VMTEST "$*"; }
die() { echo "vmtest: $*" >&2; exit 1; }

deps() {
	local missing="" p
	for p in $DEB_PACKAGES; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing="$missing $p"
	done
	if [ -z "$missing" ]; then say "Debian packages present: $DEB_PACKAGES"; return; fi
	[ "$(id -u)" = 0 ] || die "need root to install:$missing"
	say "installing:$missing"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# Sets PKG, KVER, KDIR; downloads and unpacks the kernel package if not done before.
fetch() {
	PKG=${VMTEST_KERNEL_PKG:-$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -1)}
	[ -n "$PKG" ] || die "cannot resolve linux-image-amd64 to a kernel package (apt-cache depends; apt-get update?)"
	KVER=${PKG#linux-image-}
	KDIR=$WORK/$PKG
	mkdir -p "$WORK"
	if [ ! -f "$KDIR/boot/vmlinuz-$KVER" ]; then
		local deb
		deb=$(ls "$WORK/${PKG}"_*.deb 2>/dev/null | tail -1 || true)
		if [ -z "$deb" ]; then
			say "apt-get download $PKG"
			(cd "$WORK" && apt-get download -q "$PKG" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
			deb=$(ls "$WORK/${PKG}"_*.deb 2>/dev/null | tail -1 || true)
			[ -n "$deb" ] || die "apt-get download $PKG failed"
		fi
		say "dpkg-deb -x $(basename "$deb")"
		rm -rf "$KDIR.tmp"
		dpkg-deb -x "$deb" "$KDIR.tmp"
		busybox depmod -b "$KDIR.tmp" "$KVER"
		mv "$KDIR.tmp" "$KDIR"
	fi
}

# The .ko files for $MODULES and, recursively, what modules.dep says they need.
module_files() {
	local dep=$KDIR/lib/modules/$KVER/modules.dep todo="" seen=" " m f line
	for m in $MODULES; do
		f=$(grep -E "/${m//_/[_-]}\.ko:" "$dep" | head -1 | cut -d: -f1)
		[ -n "$f" ] || die "module $m: not in $PKG (built in? then drop it from MODULES)"
		todo="$todo $f"
	done
	while [ -n "${todo// }" ]; do
		set -- $todo; f=$1; shift; todo="$*"
		case "$seen" in *" $f "*) continue;; esac
		seen="$seen$f "
		echo "$f"
		line=$(grep -E "^$f:" "$dep" | cut -d: -f2)
		todo="$todo $line"
	done
}

initramfs() {
	local d=$WORK/initramfs f bb
	bb=$(command -v busybox) || die "busybox missing: vmtest/run.sh deps"
	dpkg-query -W -f='${Status}\n' busybox-static 2>/dev/null | grep -q '^install ok installed' ||
		die "busybox-static is not installed (the guest needs a static busybox): vmtest/run.sh deps"
	rm -rf "$d"
	mkdir -p "$d"/{bin,dev,proc,sys,host} "$d/lib/modules/$KVER"
	cp "$bb" "$d/bin/busybox"
	install -m 0755 "$ROOT/vmtest/init" "$d/init"
	cp "$KDIR/lib/modules/$KVER"/modules.{dep,alias,symbols,builtin,order} "$d/lib/modules/$KVER/" 2>/dev/null || true
	for f in $(module_files); do
		mkdir -p "$d/lib/modules/$KVER/$(dirname "$f")"
		cp "$KDIR/lib/modules/$KVER/$f" "$d/lib/modules/$KVER/$f"
	done
	{
		printf 'ROOT=%q\nBUILD=%q\nSUITES=%q\nJOBS=%q\nARGS=%q\nSLOW=%q\n' "$ROOT" "$BUILD" "$SUITES" "$JOBS" \
			"$ARGS" "$SLOW"
		printf 'MODULES=%q\nTAG=%q\nMSIZE=%q\n' "$MODULES" "$TAG" "$MSIZE"
	} > "$d/vmtest.conf"
	(cd "$d" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -1 > "$WORK/initramfs.gz"
}

run() {
	command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing: vmtest/run.sh deps (or make vmtest-deps)"
	case "$ROOT$BUILD" in *[[:space:]]*) die "paths with spaces are not supported: $ROOT $BUILD";; esac
	for s in $SUITES; do
		[ -x "$BUILD/tests/$s" ] || die "$BUILD/tests/$s missing: run make all first"
	done
	fetch
	initramfs
	local log=$WORK/console.log t0 rc status
	say "booting $PKG (qemu TCG, $CPUS CPUs, $MEM MiB, timeout ${TIMEOUT}s); console log: $log"
	t0=$(date +%s)
	set +e
	timeout -k 10 "$TIMEOUT" qemu-system-x86_64 \
		-machine q35,accel=tcg -cpu max -smp "$CPUS" -m "$MEM" \
		-nodefaults -no-reboot -display none -monitor none -serial stdio \
		-kernel "$KDIR/boot/vmlinuz-$KVER" -initrd "$WORK/initramfs.gz" \
		-append "console=ttyS0 loglevel=4 panic=-1 mitigations=off" \
		-virtfs "local,path=/,mount_tag=$TAG,security_model=none,readonly=on,multidevs=remap" \
		</dev/null 2>&1 | sed -u 's/\r$//' | tee "$log"
	rc=${PIPESTATUS[0]}
	set -e
	local secs=$(( $(date +%s) - t0 ))
	status=$(sed -n 's/^xlvs-vmtest: exit status \([0-9]*\)$/\1/p' "$log" | tail -1)
	echo
	say "guest $PKG, wall time $((secs / 60)) min $((secs % 60)) s"
	grep -E '^xlvs-vmtest: .* exit status|Synthesis:' "$log" | sed 's/^/    /' || true
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "vmtest: FAILED: the VM was stopped after ${TIMEOUT}s (VMTEST_TIMEOUT)" >&2; exit 1
	fi
	if [ -z "$status" ]; then
		echo "vmtest: FAILED: the guest ended without a result (boot failure or crash; qemu exit $rc); see $log" >&2
		exit 1
	fi
	if [ "$status" != 0 ]; then echo "vmtest: FAILED: suites failed in the guest (status $status)" >&2; exit 1; fi
	# Every suite must have run and printed its summary; without a filter, each must have run tests.
	local n want
	n=$(grep -c 'Synthesis: Tested:' "$log" || true)
	want=$(echo $SUITES | wc -w)
	[ "$n" = "$want" ] || { echo "vmtest: FAILED: $n Criterion summaries for $want suites" >&2; exit 1; }
	if [ -z "$ARGS" ] && grep -q 'Synthesis: Tested: 0 ' "$log"; then
		echo "vmtest: FAILED: a suite ran no tests" >&2; exit 1
	fi
	say "all suites passed under $KVER"
}

case "${1:-run}" in
deps) deps ;;
fetch) fetch; say "$KDIR" ;;
run) run ;;
*) die "usage: $0 [run|deps|fetch]" ;;
esac
exit 0	# bash reads scripts as it runs them: stop here even if the file was edited meanwhile
