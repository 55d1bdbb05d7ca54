// SPDX-License-Identifier: GPL-2.0
/*
 * Capacity (issue 10, defect 3): `xlvsd --check` runs the planner the daemon
 * applies with, against the maps a start would create or the running
 * daemon's pinned ones; the ring is sized from the configuration at load; a
 * reload the pinned maps cannot hold is refused before anything is written
 * (global settings included); a failed start leaves no pins behind.
 *
 * Every test runs in a private network and mount namespace with a fresh bpffs
 * on /sys/fs/bpf, so xlvsd's default pin directory is the test's own; daemons
 * run in forked children of the test process (same namespaces).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/if_link.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <ev.h>

#include "daemon/daemon.h"
#include "health/hc.h"
#include "log.h"
#include "netns.h"
#include "xlvsmaps.h"
#include "xlvs_lb.skel.h"

#define PIN_DIR XLVS_PIN_DIR /* private: netns_enter_bpffs() mounted a bpffs below it */
#define IFACE	"xc0"

static char tmpdir[64], config[128], sock[128];

static void world(void)
{
	cr_assert_eq(geteuid(), 0, "needs root (BPF, namespaces)");
	netns_enter_bpffs();
	netns_veth(IFACE, "02:00:00:00:0c:01", "xc1", "02:00:00:00:0c:02");
	strcpy(tmpdir, "/tmp/xlvs-cap-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(config, sizeof(config), "%s/xlvs.yaml", tmpdir);
	snprintf(sock, sizeof(sock), "%s/xlvsd.sock", tmpdir);
	setenv("LIBXDP_SKIP_DISPATCHER", "1", 1);
}

static void world_end(void)
{
	unlink(config);
	unlink(sock);
	rmdir(tmpdir);
}

/*
 * n services 198.18.0.(10+i):80 or 198.18.(i/200).(i%200+10):80 with ring
 * `ring` (0: default), one real each; service 0 gets ring0 if non-zero.
 */
static void write_config(unsigned int n, uint32_t ring, uint32_t ring0, unsigned int syn_guard)
{
	FILE *f = fopen(config, "w");
	unsigned int i;
	uint32_t r;

	cr_assert_not_null(f);
	fprintf(f, "interfaces: [" IFACE "]\nsyn_guard_rate: %u\nservices:\n", syn_guard);
	for (i = 0; i < n; i++) {
		r = i == 0 && ring0 ? ring0 : ring;
		fprintf(f, "  - vip: 198.18.%u.%u\n    port: 80\n    protocol: tcp\n", i / 200, i % 200 + 10);
		if (r)
			fprintf(f, "    ring_size: %u\n", r);
		fprintf(f, "    reals:\n      - address: 198.19.%u.%u\n", i / 200, i % 200 + 10);
	}
	cr_assert_eq(fclose(f), 0);
}

/* xlvsd in a child: runs until SIGTERM (or until its start fails). */
static pid_t daemon_spawn(void)
{
	static struct xlvsd_opts o;
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid)
		return pid;
	o.config = config;
	o.pin_dir = PIN_DIR;
	o.socket = sock;
	_exit(xlvsd_run(&o));
}

/* Its exit code, once it exited by itself (a failed start). */
static int daemon_wait(pid_t pid)
{
	int status;

	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int daemon_stop(pid_t pid)
{
	kill(pid, SIGTERM);
	return daemon_wait(pid);
}

/* Ring size of the service 198.18.0.10:80 in the pinned maps (0: none), and how many services. */
static uint32_t pinned_ring0(size_t *nsvc)
{
	struct xlvs_state st;
	struct xlvs_maps m;
	uint32_t ring = 0;
	size_t i;

	*nsvc = 0;
	if (xlvs_maps_open(&m, PIN_DIR))
		return 0;
	if (!xlvs_state_read(&m, &st)) {
		*nsvc = st.nr_services;
		for (i = 0; i < st.nr_services; i++)
			if (st.services[i].key.addr[0] == htonl(0xc612000a))
				ring = st.services[i].svc.ring_size;
		xlvs_state_free(&st);
	}
	xlvs_maps_close(&m);
	return ring;
}

/*
 * Wait (at most 30 s) until the pinned maps hold nsvc services with ring0 for
 * 198.18.0.10:80; false if the daemon exited first (its exit code in *rc) or time ran out.
 */
static bool wait_maps(pid_t pid, size_t nsvc, uint32_t ring0, int *rc)
{
	time_t end = time(NULL) + 30;
	int status;
	size_t n;

	*rc = -1;
	while (time(NULL) < end) {
		if (pinned_ring0(&n) == ring0 && n == nsvc)
			return true;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			*rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
			return false;
		}
		usleep(50 * 1000);
	}
	return false;
}

/* xlvs pins (xlvs_*, prog_*, link_*) left in the pin directory, as "a b c " ("" for none). */
static const char *pins_left(void)
{
	static char names[2048];
	struct dirent *de;
	DIR *d = opendir(PIN_DIR);

	names[0] = '\0';
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s ", de->d_name);
	if (d)
		closedir(d);
	return names;
}

TestSuite(capacity, .init = world, .fini = world_end, .timeout = 120);

/* xlvs_ring was 16 x 65537 slots whatever the configuration: --check said ok, the start failed. */
Test(capacity, seventeen_default_rings_check_and_start)
{
	pid_t pid;
	int rc;

	write_config(17, 0, 0, 0);
	cr_expect_eq(xlvsd_check(config, PIN_DIR), XLVSD_EXIT_OK);
	pid = daemon_spawn();
	cr_expect(wait_maps(pid, 17, XLVS_RING_DEFAULT, &rc), "the start failed (exit %d)", rc);
	if (rc < 0)
		cr_expect_eq(daemon_stop(pid), XLVSD_EXIT_OK);
	cr_expect_eq(xlvsd_detach(PIN_DIR), XLVSD_EXIT_OK);
}

/*
 * 16 services of 65537 slots fill a ring of 16 x 65537; making one of them
 * smaller needs its new slice beside the old one (the service reads the old
 * one until its entry switches): the map must have room for both.
 */
Test(capacity, large_to_small_in_one_reload)
{
	pid_t pid;
	int rc;

	write_config(16, 0, 0, 0);
	pid = daemon_spawn();
	cr_assert(wait_maps(pid, 16, XLVS_RING_DEFAULT, &rc), "the start failed (exit %d)", rc);
	write_config(16, 0, 251, 0);
	kill(pid, SIGHUP);
	cr_expect(wait_maps(pid, 16, 251, &rc), "the reload was not applied (exit %d)", rc);
	/* and back: a small service replaced by a large one */
	write_config(16, 0, 0, 0);
	kill(pid, SIGHUP);
	cr_expect(wait_maps(pid, 16, XLVS_RING_DEFAULT, &rc), "the reload was not applied (exit %d)", rc);
	cr_expect_eq(daemon_stop(pid), XLVSD_EXIT_OK);
	cr_expect_eq(xlvsd_detach(PIN_DIR), XLVSD_EXIT_OK);
}

/* More rings than any map the loader creates: refused by --check and by the start, nothing pinned. */
Test(capacity, over_the_limit_refused_by_check_and_start)
{
	pid_t pid;

	write_config(1100, 0, 0, 0); /* 1100 x 65537 slots */
	cr_expect_eq(xlvsd_check(config, PIN_DIR), XLVSD_EXIT_CONFIG);
	pid = daemon_spawn();
	cr_expect_eq(daemon_wait(pid), XLVSD_EXIT_CONFIG, "the start must fail like --check");
	cr_expect_str_eq(pins_left(), "", "a failed start leaves nothing behind");
}

/* r0 = XDP_PASS; exit */
static int xdp_pass_prog(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "foreign", "GPL", insns, 2, NULL);
}

/* The start fails after loading and pinning (the interface runs another XDP program). */
Test(capacity, failed_start_leaves_no_pins)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int fd = xdp_pass_prog(), ifindex = netns_ifindex(IFACE);
	pid_t pid;

	cr_assert_geq(fd, 0, "prog load: %s", strerror(errno));
	cr_assert_eq(bpf_xdp_attach(ifindex, fd, XDP_FLAGS_SKB_MODE, NULL), 0);
	write_config(2, 0, 0, 0);
	pid = daemon_spawn();
	cr_expect_eq(daemon_wait(pid), XLVSD_EXIT_RUNTIME);
	cr_expect_str_eq(pins_left(), "", "a failed start leaves nothing behind");
	cr_expect_eq(access(PIN_DIR, F_OK), -1, "the pin directory it created is gone");
	cr_assert_eq(bpf_xdp_query(ifindex, XDP_FLAGS_SKB_MODE, &q), 0);
	cr_expect_neq(q.skb_prog_id, 0, "the foreign program stays");
	close(fd);
}

/* ---- a running daemon's maps too small for a new configuration ---- */

static struct xlvs_lb_bpf *skel;
static struct xlvsd d;
static struct xlvsd_opts opts;

#define SMALL_RING 992 /* slots, 62 blocks: four rings of 251 do not fit */
/*
 * xlvs_conns and xlvs_nat entries: the kernel makes a per-CPU LRU of a multiple of the possible
 * CPUs (rounded up), and 80640 = 2^8 * 3^2 * 5 * 7 is one of every count from 1 to 10 and of 12,
 * 14, 15, 16, 18, 20, 21, 24, 28, 30, 32, 36, 40, 48, 56, 60, 64, 72, 80, 96, 112, 120, 128, 144,
 * 160, 192, 224, 240 and 256 among others (as test_verbs.c's CONNS): the tests below are written
 * for a table of exactly that many, and on a count it is no multiple of (11, 13, 17, ...)
 * small_daemon() fails and says so.
 */
#define SMALL_CONNS 80640

/* libbpf's count of /sys/devices/system/cpu/possible, not the code under test's. */
static int possible_cpus(void)
{
	int n = libbpf_num_possible_cpus();

	cr_assert_gt(n, 0, "libbpf_num_possible_cpus: %d", n);
	return n;
}

/* A daemon put together by hand (as in test_reload.c) on maps pinned in PIN_DIR, ring of SMALL_RING. */
static void small_daemon(void)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = PIN_DIR);
	int err;

	world();
	skel = xlvs_lb_bpf__open_opts(&oo);
	cr_assert_not_null(skel);
	cr_assert_eq(bpf_map__set_max_entries(skel->maps.xlvs_ring, SMALL_RING / XLVS_RING_BLOCK), 0);
	cr_assert_eq(bpf_map__set_max_entries(skel->maps.xlvs_conns, SMALL_CONNS), 0);
	cr_assert_eq(bpf_map__set_max_entries(skel->maps.xlvs_nat, SMALL_CONNS), 0); /* as xlvsd sizes it */
	cr_assert_eq(xlvs_lb_size_stripes(skel), 0);
	cr_assert_eq(mkdir(PIN_DIR, 0700), 0);
	cr_assert_eq(xlvs_lb_bpf__load(skel), 0, "load: %s", strerror(errno)); /* pins the maps */
	memset(&d, 0, sizeof(d));
	opts.config = config;
	opts.pin_dir = PIN_DIR;
	opts.socket = sock;
	d.opts = &opts;
	d.dp.lock_fd = d.dp.prog_fd = -1;
	/* counted as attached already: nothing to attach (and the kernel is not asked) */
	d.dp.nr_ifaces = 1;
	strcpy(d.dp.ifaces[0].name, IFACE);
	d.dp.ifaces[0].method = XLVS_ATTACH_LIBXDP;
	d.dp.ifaces[0].mode = XLVS_XDP_GENERIC;
	xlvsd_status_init(&d.status);
	err = xlvs_maps_open(&d.maps, PIN_DIR);
	cr_assert_eq(err, 0, "xlvs_maps_open: %s", strerror(-err));
	cr_assert_eq(d.maps.ring_slots, SMALL_RING);
	cr_assert_eq(d.maps.conn_entries, SMALL_CONNS,
		     "the kernel made a table of %u entries for %u: this machine's %d possible CPUs "
		     "(/sys/devices/system/cpu/possible) do not divide %u, and the tests are written for a "
		     "table of exactly that many",
		     d.maps.conn_entries, SMALL_CONNS, possible_cpus(), SMALL_CONNS);
	d.loop = ev_loop_new(EVFLAG_AUTO);
	cr_assert_not_null(d.loop);
	cr_assert_eq(xlvsd_hc_new(&d.hc, d.loop, 4, NULL, NULL), 0);
}

static void small_daemon_end(void)
{
	xlvsd_hc_free(d.hc);
	xlvs_spec_free(&d.spec);
	xlvs_maps_close(&d.maps);
	ev_loop_destroy(d.loop);
	xlvs_lb_bpf__destroy(skel);
	world_end();
}

/* FNV-1a over every entry of every map, in key order (per-CPU values whole). */
static uint64_t maps_digest(void)
{
	uint8_t key[64], next[64], *val;
	struct bpf_map *map;
	uint64_t h = 14695981039346656037ull;
	size_t vsz, i;
	int fd, ncpu = libbpf_num_possible_cpus();
	bool first;

	bpf_object__for_each_map (map, skel->obj) {
		fd = bpf_map__fd(map);
		vsz = bpf_map__value_size(map);
		if (bpf_map__type(map) == BPF_MAP_TYPE_PERCPU_ARRAY ||
		    bpf_map__type(map) == BPF_MAP_TYPE_PERCPU_HASH)
			vsz = ((vsz + 7) & ~7ul) * ncpu;
		if (fd < 0 || bpf_map__type(map) == BPF_MAP_TYPE_LRU_HASH)
			continue; /* xlvs_conns: none here */
		val = malloc(vsz);
		cr_assert_not_null(val);
		for (first = true; !bpf_map_get_next_key(fd, first ? NULL : key, next); first = false) {
			memcpy(key, next, bpf_map__key_size(map));
			cr_assert_eq(bpf_map_lookup_elem(fd, key, val), 0);
			for (i = 0; i < bpf_map__key_size(map); i++)
				h = (h ^ key[i]) * 1099511628211ull;
			for (i = 0; i < vsz; i++)
				h = (h ^ val[i]) * 1099511628211ull;
		}
		free(val);
	}
	return h;
}

Test(capacity, reload_beyond_pinned_maps_refused, .init = small_daemon, .fini = small_daemon_end)
{
	struct xlvs_apply_stats st;
	struct xlvs_config cfg;
	char msg[1024];
	uint64_t before;
	int err;

	/* the first apply (nothing to restore after it): refused before the global settings */
	write_config(5, 251, 0, 5000);
	err = xlvsd_reload(&d, &st, msg, sizeof(msg));
	cr_expect_eq(err, -ENOSPC, "%s", msg);
	cr_assert_eq(xlvs_maps_get_config(&d.maps, &cfg), 0);
	cr_expect_eq(cfg.syn_guard_rate, 0, "global settings not written by a refused apply");

	write_config(1, 251, 0, 0);
	cr_assert_eq(xlvsd_check(config, PIN_DIR), XLVSD_EXIT_OK, "fits the running daemon's maps");
	err = xlvsd_reload(&d, &st, msg, sizeof(msg));
	cr_assert_eq(err, 0, "%s", msg);
	before = maps_digest();

	/* four rings of 251 (and another SYN guard rate): 1004 slots > 992 */
	write_config(4, 251, 0, 5000);
	cr_expect_eq(xlvsd_check(config, PIN_DIR), XLVSD_EXIT_CONFIG, "--check against the running daemon");
	err = xlvsd_reload(&d, &st, msg, sizeof(msg));
	cr_expect_eq(err, -ENOSPC, "%s", msg);
	cr_expect_not_null(strstr(msg, "xlvs_ring"), "%s", msg);
	cr_expect_not_null(strstr(msg, "992"), "says what the map has: %s", msg);
	cr_expect_not_null(strstr(msg, "--detach"), "says how to grow it: %s", msg);
	cr_expect_eq(maps_digest(), before, "the maps are byte for byte unchanged");
	cr_assert_eq(xlvs_maps_get_config(&d.maps, &cfg), 0);
	cr_expect_eq(cfg.syn_guard_rate, 0, "global settings not written by a refused reload");

	/* three fit */
	write_config(3, 251, 0, 5000);
	cr_expect_eq(xlvsd_check(config, PIN_DIR), XLVSD_EXIT_OK);
	err = xlvsd_reload(&d, &st, msg, sizeof(msg));
	cr_expect_eq(err, 0, "%s", msg);
	cr_assert_eq(xlvs_maps_get_config(&d.maps, &cfg), 0);
	cr_expect_eq(cfg.syn_guard_rate, 5000);
}

/* ---- --check and the pinned state's flow hash ---- */

/* xlvsd --check of config against pin_dir: its exit code, and what it logged in *log (to free). */
static int check_logged(const char *pin_dir, char **log)
{
	size_t len;
	FILE *f = open_memstream(log, &len);
	int rc;

	cr_assert_not_null(f);
	xlvs_log_set_ident("xlvsd", f);
	rc = xlvsd_check(config, pin_dir);
	xlvs_log_set_ident("xlvsd", NULL);
	fclose(f);
	return rc;
}

/* One service, then the top-level keys in tail (after the services). */
static void write_config_with(const char *tail)
{
	FILE *f;

	write_config(1, 251, 0, 0);
	f = fopen(config, "a");
	cr_assert_not_null(f);
	fputs(tail, f);
	cr_assert_eq(fclose(f), 0);
}

/* `flow_hash: NAME`, the connection tables asked as pinned. */
static void write_hash_config(enum xlvs_flow_hash h)
{
	char tail[96];

	snprintf(tail, sizeof(tail), "flow_hash: %s\nconn_table_size: %u\n", xlvs_flow_hash_names[h],
		 SMALL_CONNS);
	write_config_with(tail);
}

static void expect_check(const char *what, const char *pin_dir, const char *want_log)
{
	char *log = NULL;

	cr_expect_eq(check_logged(pin_dir, &log), XLVSD_EXIT_OK, "%s: a reload takes the file", what);
	cr_expect_str_eq(log, want_log, "%s", what);
	free(log);
}

#define HASH_WARNING(file, state)                                                                            \
	"xlvsd: warning: flow_hash " file " is not applied: the pinned state uses " state " (where its "     \
	"ring-state flows are) until `xlvsd --detach` and a restart (docs/configuration.md#flow_hash)\n"

/*
 * --check says what the start and a reload say of a file asking for another flow hash than the
 * pinned state was made with (daemon.c, warn_flow_hash()), and still exits 0: the reload takes
 * that file. State not written yet, or no maps pinned, is a first start: nothing to say.
 */
static void check_flow_hash(enum xlvs_flow_hash made, const char *warning)
{
	enum xlvs_flow_hash other = made == XLVS_FLOW_HASH_MIX64 ? XLVS_FLOW_HASH_MURMUR3
								 : XLVS_FLOW_HASH_MIX64;
	struct xlvs_apply_stats st;
	enum xlvs_flow_hash h;
	char msg[1024];

	write_hash_config(other);
	expect_check("maps pinned, the state not written yet", PIN_DIR, "");
	expect_check("nothing pinned", PIN_DIR "/none", "");

	write_hash_config(made);
	cr_assert_eq(xlvsd_reload(&d, &st, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(xlvs_maps_flow_hash(&d.maps, &h), 0);
	cr_assert_eq(h, made);
	expect_check("the file asks for the state's hash", PIN_DIR, "");

	write_hash_config(other);
	expect_check("the file asks for the other hash", PIN_DIR, warning);
	cr_assert_eq(xlvsd_reload(&d, &st, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(xlvs_maps_flow_hash(&d.maps, &h), 0);
	cr_expect_eq(h, made, "the reload kept the state's hash");
	expect_check("after that reload", PIN_DIR, warning);
}

Test(capacity, check_warns_of_mix64_asked_of_murmur3_state, .init = small_daemon, .fini = small_daemon_end)
{
	check_flow_hash(XLVS_FLOW_HASH_MURMUR3, HASH_WARNING("mix64", "murmur3"));
}

Test(capacity, check_warns_of_murmur3_asked_of_mix64_state, .init = small_daemon, .fini = small_daemon_end)
{
	check_flow_hash(XLVS_FLOW_HASH_MIX64, HASH_WARNING("murmur3", "mix64"));
}

/* ---- --check and the pinned connection tables' size ---- */

/* xlvsd_reload(), what it logged in *log (to free). */
static int reload_logged(struct xlvs_apply_stats *st, char *msg, size_t size, char **log)
{
	size_t len;
	FILE *f = open_memstream(log, &len);
	int rc;

	cr_assert_not_null(f);
	xlvs_log_set_ident("xlvsd", f);
	rc = xlvsd_reload(&d, st, msg, size);
	xlvs_log_set_ident("xlvsd", NULL);
	fclose(f);
	return rc;
}

#define CONNS_WARNING(map, file, pinned)                                                                     \
	"xlvsd: warning: " PIN_DIR "/" map " keeps its " pinned " entries (conn_table_size " file            \
	" needs `xlvsd --detach` and a restart, which drops connection state; "                              \
	"docs/configuration.md#conn_table_size)\n"
#define CONNS_WARNINGS(file)                                                                                 \
	CONNS_WARNING("xlvs_conns", file, "80640") CONNS_WARNING("xlvs_nat", file, "80640")

/*
 * --check says what the start says (attach.c, xlvs_note_conn_table_size()) of a file whose
 * conn_table_size would not make the pinned tables, and exits 0. A size the kernel rounds to
 * the pinned one (a per-CPU LRU is a multiple of the possible CPUs) is what is pinned: 80639
 * makes 80640 entries on 2 possible CPUs or more, on one 80639, so that check fails on one CPU,
 * saying it needs two.
 */
Test(capacity, check_warns_of_another_conn_table_size, .init = small_daemon, .fini = small_daemon_end)
{
	struct xlvs_apply_stats st;
	char msg[1024], *log;

	write_config_with("conn_table_size: 161280\n");
	expect_check("nothing pinned", PIN_DIR "/none", "");
	expect_check("pinned, the file asks for twice as many", PIN_DIR, CONNS_WARNINGS("161280"));
	write_config_with("");
	expect_check("pinned, the file asks for the default", PIN_DIR, CONNS_WARNINGS("262144"));
	write_config_with("conn_table_size: 80640\n");
	expect_check("the file asks for the pinned size", PIN_DIR, "");
	if (possible_cpus() < 2) {
		cr_expect_fail("the file asks for 80639, what the kernel rounds to the pinned size: needs 2 "
			       "possible CPUs or more (here 1: the kernel rounds no size)");
	} else {
		write_config_with("conn_table_size: 80639\n");
		expect_check("the file asks for what the kernel rounds to the pinned size", PIN_DIR, "");
	}

	/* a reload takes the file, says what the start says and resizes nothing: --check still says so */
	write_config_with("conn_table_size: 80640\n");
	cr_assert_eq(xlvsd_reload(&d, &st, msg, sizeof(msg)), 0, "%s", msg);
	write_config_with("conn_table_size: 161280\n");
	cr_assert_eq(reload_logged(&st, msg, sizeof(msg), &log), 0, "%s", msg);
	cr_expect_not_null(strstr(log, CONNS_WARNINGS("161280")), "%s", log);
	free(log);
	cr_expect_eq(d.maps.conn_entries, SMALL_CONNS, "the reload kept the table");
	expect_check("after that reload", PIN_DIR, CONNS_WARNINGS("161280"));
	write_config_with("conn_table_size: 161280\nfragments: drop\n");
	cr_assert_eq(reload_logged(&st, msg, sizeof(msg), &log), 0, "%s", msg);
	cr_expect_null(strstr(log, "conn_table_size"), "said once, when the file changes it: %s", log);
	free(log);
}

/* xlvs_conns_entries(): the kernel's per-CPU LRU sizing, on given CPU counts. */
Test(capacity, conns_entries_as_the_kernel_sizes)
{
	static const struct {
		uint32_t size;
		int ncpus;
		uint32_t entries;
	} rows[] = {
		{ 0, 2, 262144 },
		{ 4096, 1, 4096 },
		{ 4095, 1, 4095 },
		{ 4095, 2, 4096 },
		{ 4097, 2, 4098 },
		{ 4097, 4, 4100 },
		{ 4097, 3, 4098 },
		{ 4096, 3, 4098 },
		{ 4096, 0, 4096 },
		{ 268435456, 6, 268435458 },
		{ UINT32_MAX, 2, UINT32_MAX - 1 }, /* rounded down: up overflows */
	};
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_COMMON_LRU);
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	size_t i;
	int fd;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		cr_expect_eq(xlvs_conns_entries(rows[i].size, rows[i].ncpus), rows[i].entries,
			     "%u on %d CPUs", rows[i].size, rows[i].ncpus);
	/* and what this kernel makes of 4097 on this machine's CPUs */
	fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "conns_size", 8, 8, 4097, &o);
	cr_assert_geq(fd, 0, "create: %s", strerror(errno));
	cr_assert_eq(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	cr_expect_eq(xlvs_conns_entries(4097, libbpf_num_possible_cpus()), info.max_entries);
	close(fd);
}
