// SPDX-License-Identifier: GPL-2.0
/*
 * unit_pin_dirs_clean() (helpers.c), run when the unit suite starts: the pin directories a killed
 * test left (xlvs-unit-WHAT-PID of a PID that no longer exists) are removed with their pins; a
 * live process's, and every other name, are left. On a private bpffs in a private mount
 * namespace (root), so the host's pins are never touched.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <bpf/bpf.h>

#include "helpers.h"

static char root[] = "/tmp/xlvs-pindirs-XXXXXX";

static void private_bpffs(void)
{
	cr_assert_not_null(mkdtemp(root));
	cr_assert_eq(unshare(CLONE_NEWNS), 0, "unshare: %s (needs root)", strerror(errno));
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	cr_assert_eq(mount("bpf", root, "bpf", 0, NULL), 0, "mount bpffs: %s", strerror(errno));
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void private_bpffs_end(void)
{
	nftw(root, remove_entry, 4, FTW_DEPTH | FTW_PHYS); /* what the test left; root stays mounted */
	umount(root);
	rmdir(root);
}

/* A pid that no longer exists: a child's, exited and reaped. */
static pid_t dead_pid(void)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (!pid)
		_exit(0);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	cr_assert(kill(pid, 0) && errno == ESRCH, "pid %d exists again", (int)pid);
	return pid;
}

/* root/name: pinned a map (hash: a connection table's kind), as the test that made it would. */
static void pin_map(const char *name)
{
	char path[PATH_MAX];
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "conns", 4, 4, 16, NULL);

	cr_assert_geq(fd, 0, "bpf_map_create: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/%s", root, name);
	cr_assert_eq(bpf_obj_pin(fd, path), 0, "pin %s: %s", path, strerror(errno));
	close(fd);
}

/* root/name/ with a map pinned in it. */
static void pin_dir(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, name);
	cr_assert_eq(mkdir(path, 0700), 0, "mkdir %s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/xlvs_conns", name);
	pin_map(path);
}

static bool exists(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, name);
	return !access(path, F_OK);
}

Test(pindirs, a_dead_pids_dir_goes_a_live_ones_stays, .init = private_bpffs, .fini = private_bpffs_end)
{
	char dead[64], live[64], sub[80], want[PATH_MAX], others[5][64], *log = NULL;
	pid_t pid = dead_pid();
	size_t len, i;
	FILE *f;
	int n;

	snprintf(dead, sizeof(dead), "xlvs-unit-layout-%d", (int)pid);
	snprintf(live, sizeof(live), "xlvs-unit-layout-%d", (int)getpid());
	/* names outside the pattern, of the same dead pid */
	snprintf(others[0], sizeof(others[0]), "xlvs-e2e-%d", (int)pid);
	snprintf(others[1], sizeof(others[1]), "xlvs-unit-%d", (int)pid);
	snprintf(others[2], sizeof(others[2]), "xlvs-unit-layout-0%d", (int)pid);
	snprintf(others[3], sizeof(others[3]), "xlvs-unit-Layout-%d", (int)pid);
	snprintf(others[4], sizeof(others[4]), "xlvs-unit-layout-%d-old", (int)pid);
	pin_dir(dead);
	snprintf(sub, sizeof(sub), "%s/decap", dead); /* and a directory inside it */
	pin_dir(sub);
	pin_dir(live);
	for (i = 0; i < 5; i++)
		pin_dir(others[i]);
	snprintf(sub, sizeof(sub), "xlvs-unit-faults-%d", (int)pid);
	pin_map(sub); /* the pattern's name, but a pin: not a directory */

	f = open_memstream(&log, &len);
	cr_assert_not_null(f);
	n = unit_pin_dirs_clean(root, f);
	fclose(f);

	cr_expect_eq(n, 1, "removed %d directories:\n%s", n, log);
	snprintf(want, sizeof(want), "unit: removed %s/%s: its pid %d no longer runs\n", root, dead,
		 (int)pid);
	cr_expect_str_eq(log, want);
	cr_expect_not(exists(dead), "%s is left", dead);
	cr_expect(exists(live), "%s (this test's pid) is gone", live);
	snprintf(sub, sizeof(sub), "%s/xlvs_conns", live);
	cr_expect(exists(sub), "%s is gone", sub);
	for (i = 0; i < 5; i++)
		cr_expect(exists(others[i]), "%s is gone", others[i]);
	snprintf(sub, sizeof(sub), "xlvs-unit-faults-%d", (int)pid);
	cr_expect(exists(sub), "the pin %s is gone", sub);
	free(log);
}

/* No bpffs, no directory: nothing to do, and no error. */
Test(pindirs, a_root_that_is_not_there_is_nothing_to_clean)
{
	cr_expect_eq(unit_pin_dirs_clean("/nonexistent/bpf", stderr), 0);
}
