// SPDX-License-Identifier: GPL-2.0
/*
 * Faults a running xlvsd survives (loader/daemon/watch.c): link events parsed
 * (linkwatch), an interface deleted and created again (forgotten, then
 * attached again), pins removed or replaced (restored with the same objects),
 * and map writes refused for lack of room (counted). The daemon is put
 * together by hand: the director loaded and pinned by xlvs_dp_open under a
 * pin directory of the test's own, attached to a veth of a private netns, and
 * the watchers on a loop of the test's own.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <bpf/bpf.h>
#include <ev.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "daemon/daemon.h"
#include "dataplane/linkwatch.h"
#include "helpers.h"

#define IF_A "fltA" /* the configured interface */
#define IF_B "fltB" /* its peer */

static struct xlvsd d;
static char pin[64];

/* ---- link messages ---- */

struct parse_row {
	const char *name;
	uint16_t type;
	int ifindex;
	const char *ifname; /* NULL: no IFLA_IFNAME */
	size_t payload;	    /* bytes of ifinfomsg put (short: truncated) */
	bool ok;
	enum xlvs_link_ev_type want_type;
};

static const struct parse_row parse_rows[] = {
	{ "new link with a name", RTM_NEWLINK, 7, "eth0", sizeof(struct ifinfomsg), true, XLVS_LINK_NEW },
	{ "deleted link", RTM_DELLINK, 7, "eth0", sizeof(struct ifinfomsg), true, XLVS_LINK_DEL },
	{ "new link without a name", RTM_NEWLINK, 9, NULL, sizeof(struct ifinfomsg), true, XLVS_LINK_NEW },
	{ "an address message is not a link's", RTM_NEWADDR, 7, NULL, sizeof(struct ifinfomsg), false, 0 },
	{ "truncated ifinfomsg", RTM_NEWLINK, 7, NULL, 4, false, 0 },
	{ "ifindex 0", RTM_NEWLINK, 0, "eth0", sizeof(struct ifinfomsg), false, 0 },
};

Test(faults, link_messages_parse_table)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	const struct parse_row *r;
	struct xlvs_link_ev ev;
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;
	size_t i;

	for (i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
		r = &parse_rows[i];
		memset(buf, 0, sizeof(buf));
		nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = r->type;
		ifi = mnl_nlmsg_put_extra_header(nlh, r->payload);
		if (r->payload >= sizeof(*ifi))
			ifi->ifi_index = r->ifindex;
		if (r->ifname)
			mnl_attr_put_strz(nlh, IFLA_IFNAME, r->ifname);
		cr_expect_eq(xlvs_lw_parse(nlh, &ev), r->ok, "%s: parsed %d", r->name, !r->ok);
		if (!r->ok)
			continue;
		cr_expect_eq(ev.type, r->want_type, "%s: type", r->name);
		cr_expect_eq(ev.ifindex, r->ifindex, "%s: ifindex", r->name);
		cr_expect_str_eq(ev.name, r->ifname ? r->ifname : "", "%s: name", r->name);
	}
}

/* ---- a daemon attached to a veth ---- */

static void sh(const char *cmd)
{
	cr_assert_eq(system(cmd), 0, "command failed: %s", cmd);
}

static void env_up(void)
{
	memset(&d, 0, sizeof(d));
	d.dp.lock_fd = d.dp.prog_fd = -1;
	xlvsd_status_init(&d.status);
	cr_assert(unshare(CLONE_NEWNET) == 0, "unshare(CLONE_NEWNET): %s (needs root)", strerror(errno));
	sh("ip link set lo up && ip link add " IF_A " type veth peer name " IF_B);
	unit_pin_dir(pin, sizeof(pin), "faults");
	cr_assert_eq(xlvs_bpffs_prepare(pin), 0);
	cr_assert_eq(xlvs_dp_open(&d.dp, pin, 1024, 0), 0, "xlvs_dp_open %s", pin);
	snprintf(d.spec.global.interfaces[0], IF_NAMESIZE, "%s", IF_A);
	d.spec.global.nr_interfaces = 1;
	d.spec.global.xdp_mode = XLVS_XDP_NATIVE;
	cr_assert_eq(xlvs_dp_attach(&d.dp, IF_A, XLVS_XDP_NATIVE), 1);
	d.loop = ev_loop_new(EVFLAG_AUTO);
	cr_assert_not_null(d.loop);
	xlvsd_watch_start(&d);
}

static void env_down(void)
{
	xlvsd_watch_stop(&d);
	xlvs_dp_remove(&d.dp);
	xlvs_dp_close(&d.dp);
	ev_loop_destroy(d.loop);
}

/* Run the loop until *field reaches want (at most 3 s: a pin check runs every second). */
static void run_until(const uint64_t *field, uint64_t want, const char *what)
{
	int i;

	for (i = 0; i < 300 && *field < want; i++) {
		ev_run(d.loop, EVRUN_NOWAIT);
		usleep(10000);
	}
	cr_assert_eq(*field, want, "%s: %llu after 3 s, want %llu", what, (unsigned long long)*field,
		     (unsigned long long)want);
}

static void run_for_ms(int ms)
{
	for (; ms > 0; ms -= 10) {
		ev_run(d.loop, EVRUN_NOWAIT);
		usleep(10000);
	}
}

static enum xlvs_xdp_mode mode_on(const char *ifname)
{
	return xlvs_xdp_attached_mode((int)if_nametoindex(ifname), d.dp.prog_id);
}

Test(faults, deleted_interface_is_attached_again_when_back, .init = env_up, .fini = env_down, .timeout = 30)
{
	const struct xlvs_iface *f;
	int old = (int)if_nametoindex(IF_A);

	sh("ip link del " IF_A);
	run_until(&d.status.ifaces_lost, 1, "interfaces lost");
	cr_expect_null(xlvs_dp_find(&d.dp, IF_A), "a deleted interface is still tracked");
	sh("ip link add " IF_A " type veth peer name " IF_B);
	run_until(&d.status.ifaces_reattached, 1, "interfaces attached again");
	f = xlvs_dp_find(&d.dp, IF_A);
	cr_assert_not_null(f);
	cr_expect_neq(f->ifindex, old, "the new interface has the old ifindex %d", old);
	cr_expect_eq(f->ifindex, (int)if_nametoindex(IF_A));
	cr_expect_eq(mode_on(IF_A), XLVS_XDP_NATIVE,
		     "xlvs_lb does not run on the new " IF_A " in native mode");
}

Test(faults, other_interfaces_are_left_alone, .init = env_up, .fini = env_down, .timeout = 30)
{
	sh("ip link add fltC type veth peer name fltD && ip link set fltC up && ip link del fltC");
	run_for_ms(300);
	cr_expect_eq(d.status.ifaces_lost, 0);
	cr_expect_eq(d.status.ifaces_reattached, 0);
	cr_expect_eq(mode_on("fltC") == XLVS_XDP_AUTO && if_nametoindex("fltC") == 0, true);
	cr_expect_eq(mode_on(IF_A), XLVS_XDP_NATIVE);
}

/* ---- pins ---- */

static uint32_t pinned_id(const char *name)
{
	struct bpf_map_info info; /* id is the second field of every object's info */
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pin, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	cr_assert_eq(xlvs_obj_info(fd, &info, sizeof(info)), 0);
	close(fd);
	return info.id;
}

Test(faults, removed_pins_are_restored_with_the_same_objects, .init = env_up, .fini = env_down, .timeout = 30)
{
	uint32_t link = pinned_id("link_" IF_A), reals = pinned_id("xlvs_reals");
	char path[128];

	cr_assert(link && reals);
	run_for_ms(20); /* the watcher holds the link before its pin goes */
	snprintf(path, sizeof(path), "%s/link_" IF_A, pin);
	cr_assert_eq(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/xlvs_reals", pin);
	cr_assert_eq(unlink(path), 0);
	usleep(300000); /* a link without references is freed after an RCU grace period */
	cr_expect_eq(mode_on(IF_A), XLVS_XDP_NATIVE, "removing the link's pin detached xlvs_lb");
	run_until(&d.status.pins_restored, 2, "pins restored");
	cr_expect_eq(pinned_id("link_" IF_A), link);
	cr_expect_eq(pinned_id("xlvs_reals"), reals);
}

Test(faults, replaced_pin_gets_ours_back, .init = env_up, .fini = env_down, .timeout = 30)
{
	uint32_t ours = pinned_id("xlvs_config");
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/xlvs_config", pin);
	cr_assert_eq(unlink(path), 0);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "impostor", 4, 4, 1, NULL);
	cr_assert(fd >= 0 && bpf_obj_pin(fd, path) == 0);
	close(fd);
	run_until(&d.status.pins_restored, 1, "pins restored");
	cr_expect_eq(pinned_id("xlvs_config"), ours);
}

Test(faults, removed_pin_directory_is_created_again_and_locked, .init = env_up, .fini = env_down,
     .timeout = 30)
{
	char cmd[128];
	int n, fd;

	snprintf(cmd, sizeof(cmd), "test $(ls %s | wc -l) -ge 14", pin); /* 12 maps, program, link */
	sh(cmd);
	run_for_ms(20);
	snprintf(cmd, sizeof(cmd), "rm -r %s", pin);
	sh(cmd);
	usleep(300000);
	cr_expect_eq(mode_on(IF_A), XLVS_XDP_NATIVE, "rm -r of the pins detached xlvs_lb");
	for (n = 0; n < 300 && d.status.pins_restored < 14; n++)
		run_for_ms(10);
	cr_assert_geq(d.status.pins_restored, 14, "only %llu pins restored",
		      (unsigned long long)d.status.pins_restored);
	cr_expect(pinned_id("prog_xlvs_lb") && pinned_id("link_" IF_A) && pinned_id("xlvs_conns"));
	fd = open(pin, O_RDONLY | O_DIRECTORY);
	cr_assert(fd >= 0);
	cr_expect(flock(fd, LOCK_EX | LOCK_NB) && errno == EWOULDBLOCK,
		  "the new directory is not locked: another xlvsd could take it");
	close(fd);
}

/* ---- maps without room ---- */

Test(faults, refused_for_lack_of_room_is_counted)
{
	struct xlvs_lb_bpf *skel;
	struct xlvs_apply_stats st;
	struct xlvs_svc_spec *v;
	struct xlvs_spec want;
	char msg[1024];
	int i;

	memset(&d, 0, sizeof(d));
	d.dp.lock_fd = d.dp.prog_fd = -1;
	xlvsd_status_init(&d.status);
	skel = unit_director_load(0, 1024, &d.maps); /* a ring of 1024 slots */
	for (i = 1; i <= 2; i++) {
		memset(&want, 0, sizeof(want));
		want.services = v = calloc(1, sizeof(*v));
		want.nr_services = 1;
		v->vip = unit_addr("198.18.0.10");
		v->proto = IPPROTO_TCP;
		v->port = 80;
		v->sched = XLVS_SCHED_MAGLEV;
		v->fwd = XLVS_FWD_DR;
		v->ring_size = 65537; /* does not fit */
		cr_expect_eq(xlvsd_apply(&d, &want, &st, msg, sizeof(msg)), -ENOSPC, "%s", msg);
		cr_expect_eq(d.status.map_full, (uint64_t)i);
		xlvs_spec_free(&want);
	}
	xlvs_spec_free(&d.spec);
	xlvs_maps_close(&d.maps);
	xlvs_lb_bpf__destroy(skel);
}

/*
 * A pin left by a version whose map had another layout is refused, saying so, and left as it was:
 * - xlvs_events with fewer entries (events added since): adopted, the data path would count
 *   nothing past its end and the CLI would refuse the pin;
 * - xlvs_ring of one 4-byte slot per entry (before blocks of 16): read as blocks, every ring
 *   would name other reals;
 * - per-CPU counters and service cache (before the stripes of abi.h): the data path would count
 *   into, and cache in, the wrong entries;
 * - xlvs_nat of 44-byte values (before the reply stamp): read as 48, every entry's stamp and the
 *   next entry's start would be off.
 */
static void expect_old_map_refused(const char *name, enum bpf_map_type type, uint32_t flags, uint32_t ksz,
				   uint32_t vsz, uint32_t entries)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags);
	char dir[64], path[128];
	struct xlvs_dp dp = { .lock_fd = -1, .prog_fd = -1 };
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	int fd, err;

	unit_pin_dir(dir, sizeof(dir), "layout");
	cr_assert_eq(xlvs_bpffs_prepare(dir), 0, "needs root and bpffs");
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_map_create(type, name, ksz, vsz, entries, &opts);
	cr_assert_geq(fd, 0, "bpf_map_create: %s", strerror(errno));
	cr_assert_eq(bpf_obj_pin(fd, path), 0, "pin %s: %s", path, strerror(errno));
	close(fd);
	err = xlvs_dp_open(&dp, dir, 1024, 0);
	cr_expect_eq(err, -ESTALE, "xlvs_dp_open over an old %s: %d (%s)", name, err, strerror(-err));
	fd = bpf_obj_get(path);
	cr_assert_geq(fd, 0, "the old pin is still there");
	cr_assert_eq(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	cr_expect(info.max_entries == entries && info.value_size == vsz, "the old %s is left as it was",
		  name);
	close(fd);
	if (!err)
		xlvs_dp_close(&dp);
	unlink(path);
	rmdir(dir);
}

/* The arrays' layouts: keyed by a __u32 index. */
static void expect_old_pin_refused(const char *name, enum bpf_map_type type, uint32_t vsz, uint32_t entries)
{
	expect_old_map_refused(name, type, 0, sizeof(__u32), vsz, entries);
}

Test(faults, pinned_counters_of_another_size_are_refused)
{
	expect_old_pin_refused("xlvs_events", BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u64), XLVS_EV_MAX - 1);
}

Test(faults, pinned_ring_of_single_slots_is_refused)
{
	expect_old_pin_refused("xlvs_ring", BPF_MAP_TYPE_ARRAY, sizeof(__u32), XLVS_RING_SLOTS_DEFAULT);
}

Test(faults, pinned_per_cpu_counters_are_refused)
{
	expect_old_pin_refused("xlvs_real_stats", BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(struct xlvs_counters),
			       XLVS_MAX_REALS);
}

Test(faults, pinned_per_cpu_service_cache_is_refused)
{
	expect_old_pin_refused("xlvs_svc_cache", BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(struct xlvs_svc_cached),
			       XLVS_SVC_CACHE_SLOTS);
}

/* A striped map of one CPU's stripe, as a loader that forgot xlvs_lb_size_stripes() would pin. */
Test(faults, pinned_counters_of_one_stripe_are_refused)
{
	if (libbpf_num_possible_cpus() < 2)
		cr_assert_fail("needs two possible CPUs: with one, one stripe is the right size");
	expect_old_pin_refused("xlvs_svc_stats", BPF_MAP_TYPE_ARRAY, sizeof(struct xlvs_counters),
			       XLVS_SVC_STATS_STRIDE);
}

/*
 * xlvs_nat as before its reply stamp: type, flags, key and entries (as the daemon sizes it for a
 * 1024-entry table) right, the value 4 bytes short.
 */
Test(faults, pinned_nat_replies_without_stamp_are_refused)
{
	expect_old_map_refused("xlvs_nat", BPF_MAP_TYPE_LRU_HASH, BPF_F_NO_COMMON_LRU,
			       sizeof(struct xlvs_flow), sizeof(struct xlvs_nat_rev) - sizeof(__u32), 1024);
}
