// SPDX-License-Identifier: GPL-2.0
/* See helpers.h. */
#define _GNU_SOURCE /* nftw() */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <criterion/internal/ordered-set.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "daemon/daemon.h"
#include "health/hc.h"
#include "helpers.h"

struct xlvs_lb_bpf *unit_director_load(uint32_t conns, uint32_t ring_slots, struct xlvs_maps *m)
{
	struct xlvs_lb_bpf *skel = xlvs_lb_bpf__open();
	struct bpf_map *map;
	int err;

	cr_assert_not_null(skel, "open the xlvs_lb skeleton");
	bpf_object__for_each_map (map, skel->obj)
		bpf_map__set_pin_path(map, NULL); /* each test owns private maps */
	cr_assert_eq(xlvs_lb_size_stripes(skel), 0);
	if (conns) {
		bpf_map__set_max_entries(skel->maps.xlvs_conns, conns);
		bpf_map__set_max_entries(skel->maps.xlvs_nat, conns); /* as xlvsd sizes it */
	}
	if (ring_slots) {
		/* as xlvsd sizes them: whole blocks, and a previous owner per slot of them */
		bpf_map__set_max_entries(skel->maps.xlvs_ring, xlvs_ring_blocks(ring_slots));
		bpf_map__set_max_entries(skel->maps.xlvs_ring_prev,
					 xlvs_ring_blocks(ring_slots) * XLVS_RING_BLOCK);
	}
	cr_assert_eq(xlvs_lb_bpf__load(skel), 0, "load xlvs_lb: %s (root needed)", strerror(errno));
	if (m) {
		err = xlvs_maps_from_obj(m, skel->obj);
		cr_assert_eq(err, 0, "xlvs_maps_from_obj: %s", strerror(-err));
	}
	return skel;
}

struct xlvs_addr unit_addr(const char *text)
{
	struct xlvs_addr a;

	memset(&a, 0, sizeof(a));
	cr_assert_eq(xlvs_addr_parse(text, &a), 0, "%s", text);
	return a;
}

double unit_slow(void)
{
	static double factor;
	const char *v;
	char *end;

	if (factor)
		return factor;
	v = getenv("XLVS_TEST_SLOW");
	if (!v || !*v)
		return factor = 1;
	factor = strtod(v, &end);
	if (*end || !(factor >= 1 && factor <= 100)) {
		fprintf(stderr, "XLVS_TEST_SLOW=%s: not a factor from 1 to 100 (docs/testing.md)\n", v);
		exit(2);
	}
	return factor;
}

/* Multiply a test's or suite's .timeout (0: none, the default) by f. */
static void scale_timeout(struct criterion_test_extra_data *data, double f)
{
	if (data && data->timeout > 0)
		data->timeout *= f;
}

void unit_pin_dir(char *buf, size_t size, const char *what)
{
	/* unit_pin_dirs_clean() knows the names by their lowercase WHAT */
	cr_assert(*what && strspn(what, "abcdefghijklmnopqrstuvwxyz") == strlen(what), "pin dir name %s",
		  what);
	cr_assert_lt(snprintf(buf, size, UNIT_PIN_ROOT "/xlvs-unit-%s-%d", what, (int)getpid()), (int)size);
}

/* The pid in a name unit_pin_dir() makes (xlvs-unit-WHAT-PID, exactly), 0 for any other name. */
static pid_t pin_dir_pid(const char *name)
{
	static const char prefix[] = "xlvs-unit-";
	const char *what = name + sizeof(prefix) - 1, *dash;
	char again[NAME_MAX + 1];
	size_t len;
	long pid;

	if (strncmp(name, prefix, sizeof(prefix) - 1))
		return 0;
	len = strspn(what, "abcdefghijklmnopqrstuvwxyz");
	dash = what + len;
	if (!len || *dash != '-')
		return 0;
	pid = strtol(dash + 1, NULL, 10);
	if (pid <= 0 || pid > INT32_MAX)
		return 0;
	/* written back the same way: no sign, leading zero, space or trailing text */
	snprintf(again, sizeof(again), "%s%.*s-%ld", prefix, (int)len, what, pid);
	return strcmp(again, name) ? 0 : (pid_t)pid;
}

/* nftw()'s: remove one entry (the deepest first); an errno stops the walk. */
static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) ? errno : 0;
}

/* Remove root/name, left by pid; say so on log. */
static bool remove_pin_dir(const char *root, const char *name, pid_t pid, FILE *log)
{
	char path[PATH_MAX];
	int err;

	snprintf(path, sizeof(path), "%s/%s", root, name);
	err = nftw(path, remove_entry, 4, FTW_DEPTH | FTW_PHYS);
	if (err) {
		fprintf(log, "unit: cannot remove %s, left by pid %d: %s\n", path, (int)pid,
			strerror(err < 0 ? errno : err));
		return false;
	}
	fprintf(log, "unit: removed %s: its pid %d no longer runs\n", path, (int)pid);
	return true;
}

int unit_pin_dirs_clean(const char *root, FILE *log)
{
	DIR *dir = opendir(root);
	struct dirent *e;
	struct stat st;
	pid_t pid;
	int n = 0;

	if (!dir)
		return 0;
	while ((e = readdir(dir))) {
		pid = pin_dir_pid(e->d_name);
		if (!pid || fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISDIR(st.st_mode))
			continue;
		/* a process that runs (or that we may not signal: EPERM) may still use its pins */
		if (!kill(pid, 0) || errno != ESRCH)
			continue;
		n += remove_pin_dir(root, e->d_name, pid, log);
	}
	closedir(dir);
	return n;
}

/*
 * Before any test runs, in the runner that enforces the timeouts: remove the pins a killed run
 * left, and scale every .timeout. (The sets are Criterion's ordered sets: each element follows
 * its node.)
 */
ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	struct criterion_ordered_set_node *s, *t;
	struct criterion_suite_set *suite;
	double f = unit_slow();

	unit_pin_dirs_clean(UNIT_PIN_ROOT, stderr);
	if (f == 1)
		return;
	for (s = set->suites->first; s; s = s->next) {
		suite = (struct criterion_suite_set *)(s + 1);
		scale_timeout(suite->suite.data, f);
		for (t = suite->tests ? suite->tests->first : NULL; t; t = t->next)
			scale_timeout(((struct criterion_test *)(t + 1))->data, f);
	}
	fprintf(stderr, "XLVS_TEST_SLOW=%g: test timeouts and wall-clock budgets multiplied by it\n", f);
}

struct xlvs_lb_bpf *unit_daemon_new(struct xlvsd *d)
{
	return unit_daemon_new_sized(d, 0);
}

static struct xlvs_lb_bpf *daemon_new(struct xlvsd *d, uint32_t conns, uint32_t ring_slots)
{
	struct xlvs_lb_bpf *skel;

	memset(d, 0, sizeof(*d));
	skel = unit_director_load(conns, ring_slots, &d->maps);
	d->dp.lock_fd = d->dp.prog_fd = -1;
	xlvsd_status_init(&d->status);
	d->loop = ev_loop_new(EVFLAG_AUTO);
	cr_assert_not_null(d->loop);
	cr_assert_eq(xlvsd_hc_new(&d->hc, d->loop, 4, NULL, NULL), 0);
	return skel;
}

struct xlvs_lb_bpf *unit_daemon_new_sized(struct xlvsd *d, uint32_t ring_slots)
{
	return daemon_new(d, 0, ring_slots);
}

struct xlvs_lb_bpf *unit_daemon_new_conns(struct xlvsd *d, uint32_t conns)
{
	return daemon_new(d, conns, 0);
}

void unit_daemon_free(struct xlvsd *d, struct xlvs_lb_bpf *skel)
{
	xlvsd_hc_free(d->hc);
	xlvs_spec_free(&d->spec);
	xlvsd_forget_applied(d);
	xlvs_maps_close(&d->maps);
	ev_loop_destroy(d->loop);
	xlvs_lb_bpf__destroy(skel);
}

void unit_stripes_put(int fd, uint32_t stride, uint32_t id, const void *vals, size_t vsz)
{
	int cpu, ncpus = libbpf_num_possible_cpus();
	uint32_t key;

	cr_assert_gt(ncpus, 0);
	for (cpu = 0; cpu < ncpus; cpu++) {
		key = xlvs_stripe_key(cpu, stride, id);
		cr_assert_eq(bpf_map_update_elem(fd, &key, (const char *)vals + (size_t)cpu * vsz, BPF_ANY),
			     0, "stripe entry %u: %s", key, strerror(errno));
	}
}

void unit_wait_down(struct xlvsd *d, unsigned int n)
{
	unsigned int inst, up, down = 0;
	time_t end = time(NULL) + (time_t)UNIT_SLOW(5);

	while (time(NULL) < end) {
		xlvsd_hc_counts(d->hc, &inst, &up, &down);
		if (down == n)
			return;
		ev_run(d->loop, EVRUN_ONCE);
	}
	cr_assert_fail("%u of %u checked reals down after %g s, want %u", down, inst, UNIT_SLOW(5.0), n);
}

void unit_dr_svc(struct xlvs_svc_spec *v, const char *vip, uint32_t ring, size_t nr_reals)
{
	memset(v, 0, sizeof(*v));
	v->vip = unit_addr(vip);
	v->proto = IPPROTO_TCP;
	v->port = 80;
	v->sched = XLVS_SCHED_MAGLEV;
	v->fwd = XLVS_FWD_DR;
	v->ring_size = ring;
	v->reals = calloc(nr_reals, sizeof(*v->reals));
	cr_assert(v->reals || !nr_reals);
	v->nr_reals = nr_reals;
}

struct xlvs_svc_spec *unit_add_dr_svc(struct xlvs_spec *s, const char *vip, uint32_t ring, size_t nr_reals)
{
	s->services = realloc(s->services, (s->nr_services + 1) * sizeof(*s->services));
	cr_assert_not_null(s->services);
	unit_dr_svc(&s->services[s->nr_services], vip, ring, nr_reals);
	return &s->services[s->nr_services++];
}
