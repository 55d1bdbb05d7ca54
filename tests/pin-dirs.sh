# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# What killed runs leave. Sourced by the e2e runner (through tests/e2e/lib.sh) and the bench scripts (tests/bench/).
# They pin under /sys/fs/bpf in directories named after their pid and remove them in their EXIT
# trap; a run killed with SIGKILL (or by a CI timeout) cannot, and leaves the directory and its
# pinned maps (memory) behind for good. Each runner calls pin_dirs_clean when it starts.

# pid_gone PID: PID names a process that no longer runs: a valid pid, kill -0 fails and
# /proc/PID does not exist (a pid we may not signal runs).
pid_gone() {
	[[ $1 =~ ^[1-9][0-9]{0,9}$ ]] && (($1 <= 2147483647)) || return 1
	! kill -0 "$1" 2>/dev/null && [ ! -e "/proc/$1" ]
}

# pin_dirs_clean WHO REGEX [ROOT]: remove each directory ROOT/NAME (ROOT: /sys/fs/bpf) whose whole
# NAME matches the extended REGEX, its first group a pid ([1-9][0-9]*), when that pid no longer
# runs (pid_gone). One line on stderr per directory removed, "WHO: removed DIR: its pid PID no longer runs". Left alone: a
# running pid's directory, a directory some process still holds locked (a killed e2e run's
# xlvsd goes on running and flocks its pin directory: it would only create it again), a name
# the regex does not match (the PIDs are those of this pid namespace), anything not a directory.
pin_dirs_clean() {
	local who=$1 re=$2 root=${3:-/sys/fs/bpf} dir pid rc
	for dir in "$root"/*; do
		[[ ${dir##*/} =~ $re ]] && [ -d "$dir" ] && [ ! -L "$dir" ] || continue
		pid=${BASH_REMATCH[1]}
		pid_gone "$pid" || continue
		# under the lock xlvsd takes (attach.c, lock_dir()): none runs on it while it goes
		rc=0
		flock -n -E 75 "$dir" rm -rf -- "$dir" || rc=$? # (set -e callers go on)
		case $rc in
		0) echo "$who: removed $dir: its pid $pid no longer runs" >&2 ;;
		75) echo "$who: kept $dir of pid $pid, which no longer runs: a process holds it locked (an xlvsd left running?)" >&2 ;;
		*) echo "$who: cannot remove $dir, left by pid $pid (rm exit $rc)" >&2 ;;
		esac
	done
	return 0
}

# netns_clean WHO REGEX: the network namespaces a killed run left (ip netns NAME, the whole NAME
# matching the extended REGEX, its first group a pid) when that pid no longer runs (pid_gone): the processes still in one (servers, a killed run's xlvsd, which also
# holds its pin directory locked) are killed, then the name deleted. One line on stderr each,
# "WHO: removed netns NAME of pid PID, which no longer runs (N processes killed)".
netns_clean() {
	local who=$1 re=$2 ns pid pids
	for ns in $(ip netns list 2>/dev/null | cut -d' ' -f1); do
		[[ $ns =~ $re ]] || continue
		pid=${BASH_REMATCH[1]}
		pid_gone "$pid" || continue
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -z "$pids" ] || kill -9 $pids 2>/dev/null
		if ip netns del "$ns" 2>/dev/null; then
			echo "$who: removed netns $ns of pid $pid, which no longer runs ($(wc -w <<<"$pids") processes killed)" >&2
		else
			echo "$who: cannot remove netns $ns, left by pid $pid" >&2
		fi
	done
	return 0
}
