// SPDX-License-Identifier: GPL-2.0
/*
 * Load, pin, attach, adopt, upgrade and remove the director program; see
 * attach.h for the pin layout and docs/operations.md for the semantics.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <linux/if_link.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "xlvs_lb.skel.h"
#include "attach.h"
#include "log.h"
#include "tc.h"
#include "xlvsmaps.h"
#include "attach/xdp.h"

/* Every map of the program fits the id lists that tell our program's maps (same_maps()) and
 * record their sizes: past it, adoption would compare a truncated list and ring_slots go unread. */
_Static_assert(sizeof(((struct xlvs_lb_bpf *)0)->maps) <= XLVS_DP_MAX_MAPS * sizeof(struct bpf_map *),
	       "xlvs_lb has more maps than XLVS_DP_MAX_MAPS");

#define PROG_NAME      "xlvs_lb"
#define MAP_PIN_PREFIX "xlvs_" /* every map of the director is named xlvs_* */

/* What the kernel says about a loaded program. */
struct prog_desc {
	uint32_t id;
	uint8_t tag[8];
	char name[BPF_OBJ_NAME_LEN];
	uint32_t map_ids[XLVS_DP_MAX_MAPS];
	unsigned int nr_map_ids;
};

const char *xlvs_attach_method_name(enum xlvs_attach_method method)
{
	switch (method) {
	case XLVS_ATTACH_LINK:
		return "bpf_link";
	case XLVS_ATTACH_NETLINK:
		return "netlink";
	case XLVS_ATTACH_LIBXDP:
		return "libxdp";
	}
	return "?";
}

static int pin_path(char *buf, size_t size, const char *dir, const char *prefix, const char *name)
{
	int n = snprintf(buf, size, "%s/%s%s", dir, prefix, name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* link_<ifname>, escaped (xlvs_pin_name_escape): bpffs refuses names with a dot. */
static int link_path(char *buf, size_t size, const char *dir, const char *ifname)
{
	char esc[3 * IF_NAMESIZE + 1];

	xlvs_pin_name_escape(esc, sizeof(esc), ifname);
	return pin_path(buf, size, dir, XLVS_LINK_PIN_PREFIX, esc);
}

#define link_unescape xlvs_pin_name_unescape

static const char *tag_str(const uint8_t tag[8], char buf[17])
{
	int i;

	for (i = 0; i < 8; i++)
		sprintf(buf + 2 * i, "%02x", tag[i]);
	return buf;
}

static const char *perm_hint(int err)
{
	return (err == -EACCES || err == -EPERM) && geteuid()
		       ? " (xlvsd needs root: CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN)"
		       : "";
}

/* ---- bpffs and the pin directory ----------------------------------------- */

int xlvs_bpffs_prepare(const char *pin_dir)
{
	char msg[PATH_MAX + 128];
	bool mounted;
	int err;

	err = xlvs_bpffs_prepare_msg(pin_dir, &mounted, msg, sizeof(msg));
	if (err)
		log_err("%s", msg);
	else if (mounted)
		log_info("mounted bpffs on %s", XLVS_BPFFS_ROOT);
	return err;
}

/* One xlvsd (or xlvsd --detach) per pin directory; released when the fd closes. */
static int lock_dir(const char *dir, int *fd)
{
	int err;

	*fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0) {
		err = -errno;
		log_err("cannot open pin directory %s: %s%s", dir, strerror(-err), perm_hint(err));
		return err;
	}
	if (!flock(*fd, LOCK_EX | LOCK_NB))
		return 0;
	err = errno == EWOULDBLOCK ? -EBUSY : -errno;
	if (err != -EBUSY)
		log_err("cannot lock pin directory %s: %s", dir, strerror(-err));
	close(*fd);
	*fd = -1;
	return err;
}

/* ---- kernel object info ---------------------------------------------------- */

#define get_info xlvs_obj_info

static int prog_describe(int fd, struct prog_desc *d)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	memset(d, 0, sizeof(*d));
	info.nr_map_ids = XLVS_DP_MAX_MAPS;
	info.map_ids = (__u64)(unsigned long)d->map_ids;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	d->id = info.id;
	memcpy(d->tag, info.tag, sizeof(d->tag));
	memcpy(d->name, info.name, sizeof(d->name) - 1);
	d->nr_map_ids = info.nr_map_ids < XLVS_DP_MAX_MAPS ? info.nr_map_ids : XLVS_DP_MAX_MAPS;
	return 0;
}

static int prog_describe_id(uint32_t id, struct prog_desc *d)
{
	int fd = bpf_prog_get_fd_by_id(id), err;

	memset(d, 0, sizeof(*d));
	if (fd < 0)
		return errno > 0 ? -errno : -ENOENT;
	err = prog_describe(fd, d);
	close(fd);
	return err;
}

static bool has_id(const uint32_t *ids, unsigned int n, uint32_t id)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* Does this program read our maps, i.e. is it an xlvs_lb of this pin directory? */
static bool uses_our_maps(const struct xlvs_dp *dp, const struct prog_desc *d)
{
	unsigned int i;

	for (i = 0; i < d->nr_map_ids; i++)
		if (has_id(dp->map_ids, dp->nr_map_ids, d->map_ids[i]))
			return true;
	return false;
}

static bool same_maps(const struct prog_desc *a, const struct prog_desc *b)
{
	unsigned int i;

	if (a->nr_map_ids != b->nr_map_ids)
		return false;
	for (i = 0; i < a->nr_map_ids; i++)
		if (!has_id(b->map_ids, b->nr_map_ids, a->map_ids[i]))
			return false;
	return true;
}

/* Same code (tag) on the same maps: nothing to upgrade. */
static bool same_program(const struct prog_desc *a, const struct prog_desc *b)
{
	return !memcmp(a->tag, b->tag, sizeof(a->tag)) && same_maps(a, b);
}

/* ---- loading ----------------------------------------------------------------- */

/*
 * libbpf reuses a pinned map only if type, sizes, max_entries and flags all
 * match. A map the configuration sizes (sized: the connection and NAT tables,
 * the ring) takes max_entries from the pin (a resize would need a new map,
 * losing its state); any other difference is a layout change, refused with a
 * message that says what to do (the CLI refuses such a pin too).
 */
static int match_pinned_map(struct bpf_map *map, bool sized, uint32_t want_entries)
{
	const char *path = bpf_map__pin_path(map);
	struct bpf_map_info info;
	int fd, err;

	if (!path)
		return 0;
	fd = bpf_obj_get(path);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		err = -errno;
		log_err("cannot open pinned map %s: %s", path, strerror(-err));
		return err;
	}
	err = get_info(fd, &info, sizeof(info));
	close(fd);
	if (err) {
		log_err("cannot read pinned map %s: %s", path, strerror(-err));
		return err;
	}
	/* a map sized by the ABI (the counters: one entry per event, drop reason, id) must match */
	if (info.type != bpf_map__type(map) || info.key_size != bpf_map__key_size(map) ||
	    info.value_size != bpf_map__value_size(map) || info.map_flags != bpf_map__map_flags(map) ||
	    (!sized && info.max_entries != bpf_map__max_entries(map))) {
		log_err("pinned map %s does not match this xlvs_lb (its layout changed); remove "
			"the old data path with `xlvsd --detach` (drops connection state) and "
			"start again",
			path);
		return -ESTALE;
	}
	if (want_entries)
		xlvs_note_conn_table_size(path, want_entries, info.max_entries, libbpf_num_possible_cpus());
	return bpf_map__set_max_entries(map, info.max_entries);
}

void xlvs_note_conn_table_size(const char *path, uint32_t want, uint32_t have, int ncpus)
{
	if (xlvs_conns_entries(want, ncpus) == have)
		return;
	log_warn("%s keeps its %u entries (conn_table_size %u needs `xlvsd --detach` and a restart, "
		 "which drops connection state; docs/configuration.md#conn_table_size)",
		 path, have, want);
}

/*
 * xlvs_ring_prev has an entry per xlvs_ring slot: it takes the ring's size
 * as decided (a pinned ring's), also when created next to a ring pinned by an
 * xlvs without it. A pinned one of another size is refused.
 */
static int size_ring_prev(struct xlvs_lb_bpf *skel)
{
	struct bpf_map *prev = skel->maps.xlvs_ring_prev;
	uint32_t slots = bpf_map__max_entries(skel->maps.xlvs_ring) * XLVS_RING_BLOCK;
	int err = bpf_map__set_max_entries(prev, slots);

	if (!err)
		err = match_pinned_map(prev, true, 0);
	if (!err && bpf_map__max_entries(prev) != slots) {
		log_err("pinned map %s has %u entries, xlvs_ring %u slots: they must be alike; remove the old "
			"data path with `xlvsd --detach` (drops connection state) and start again",
			bpf_map__pin_path(prev), bpf_map__max_entries(prev), slots);
		err = -ESTALE;
	}
	return err;
}

/* Open the embedded object with the maps pinned (and reused) under pin_dir. */
static struct xlvs_lb_bpf *skel_open(const char *pin_dir, uint32_t conn_entries, uint32_t ring_slots)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir);
	struct xlvs_lb_bpf *skel;
	struct bpf_map *map, *conns, *nat, *ring;
	int err = 0;

	skel = xlvs_lb_bpf__open_opts(&opts);
	if (!skel) {
		err = -errno;
		log_err("cannot open the xlvs_lb BPF object: %s", strerror(-err));
		errno = -err;
		return NULL;
	}
	conns = skel->maps.xlvs_conns; /* the skeleton names the maps: no string to keep in step */
	nat = skel->maps.xlvs_nat;     /* a NAT flow has one entry in each: sized alike */
	if (conn_entries)
		err = bpf_map__set_max_entries(conns, conn_entries);
	if (!err && conn_entries)
		err = bpf_map__set_max_entries(nat, conn_entries);
	/* Sized for the configuration when created; a pinned ring keeps its size (the planner
	 * refuses a configuration it cannot hold, saying how to grow it). */
	ring = skel->maps.xlvs_ring;
	if (!err && ring_slots)
		err = bpf_map__set_max_entries(ring, xlvs_ring_blocks(ring_slots));
	if (!err) {
		err = xlvs_lb_size_stripes(skel);
		if (err)
			log_err("cannot size the per-CPU counter stripes: %s", strerror(-err));
	}
	bpf_object__for_each_map (map, skel->obj) {
		if (!err && map != skel->maps.xlvs_ring_prev)
			err = match_pinned_map(map, map == conns || map == nat || map == ring,
					       map == conns || map == nat ? conn_entries : 0);
	}
	if (!err)
		err = size_ring_prev(skel);
	if (err) {
		xlvs_lb_bpf__destroy(skel);
		errno = err < 0 ? -err : EINVAL;
		return NULL;
	}
	return skel;
}

/* Remember the ids of our pinned maps: they identify our programs anywhere. */
static int record_maps(struct xlvs_dp *dp, struct xlvs_lb_bpf *skel)
{
	struct bpf_map_info info;
	struct bpf_map *map;
	int err;

	bpf_object__for_each_map (map, skel->obj) {
		if (!bpf_map__is_pinned(map) || dp->nr_map_ids == XLVS_DP_MAX_MAPS)
			continue;
		err = get_info(bpf_map__fd(map), &info, sizeof(info));
		if (err)
			return err;
		dp->map_ids[dp->nr_map_ids++] = info.id;
		if (map == skel->maps.xlvs_conns)
			dp->conn_entries = info.max_entries;
		if (map == skel->maps.xlvs_ring)
			dp->ring_slots = info.max_entries * XLVS_RING_BLOCK;
	}
	return 0;
}

/*
 * Pin under a temporary name and rename: the pin never disappears in between.
 * (bpffs refuses names with a dot.)
 */
static int pin_prog(int fd, const char *path)
{
	char tmp[PATH_MAX];
	int err;

	if (snprintf(tmp, sizeof(tmp), "%s_new", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	unlink(tmp);
	if (bpf_obj_pin(fd, tmp) || rename(tmp, path)) {
		err = -errno;
		unlink(tmp);
		log_err("cannot pin the program at %s: %s%s", path, strerror(-err), perm_hint(err));
		return err;
	}
	return 0;
}

static void set_prog(struct xlvs_dp *dp, int fd, const struct prog_desc *d)
{
	dp->prog_fd = fd;
	dp->prog_id = d->id;
	memcpy(dp->prog_tag, d->tag, sizeof(dp->prog_tag));
}

/*
 * The pinned program stays if it is the same code on the same maps (a plain
 * restart); otherwise the new one is pinned and attachments move to it.
 */
static int choose_prog(struct xlvs_dp *dp, int new_fd)
{
	struct prog_desc cur, old;
	char path[PATH_MAX], t1[17], t2[17];
	int old_fd, fd, err;

	err = pin_path(path, sizeof(path), dp->pin_dir, XLVS_PROG_PIN, "");
	if (!err)
		err = prog_describe(new_fd, &cur);
	if (err)
		return err;
	old_fd = bpf_obj_get(path);
	if (old_fd < 0 && errno != ENOENT) {
		err = -errno;
		log_err("cannot open %s: %s", path, strerror(-err));
		return err;
	}
	if (old_fd >= 0 && !prog_describe(old_fd, &old) && same_program(&old, &cur)) {
		set_prog(dp, old_fd, &old);
		log_info("adopted pinned %s (id %u, tag %s): same program, nothing reloaded", PROG_NAME,
			 old.id, tag_str(old.tag, t1));
		return 0;
	}
	fd = fcntl(new_fd, F_DUPFD_CLOEXEC, 3);
	err = fd < 0 ? -errno : pin_prog(fd, path);
	if (!err && old_fd >= 0)
		log_info("upgrading %s: pinned id %u tag %s -> id %u tag %s", PROG_NAME, old.id,
			 tag_str(old.tag, t1), cur.id, tag_str(cur.tag, t2));
	else if (!err)
		log_info("loaded %s (id %u, tag %s), pinned at %s", PROG_NAME, cur.id, tag_str(cur.tag, t1),
			 path);
	if (old_fd >= 0)
		close(old_fd);
	if (err) {
		if (fd >= 0)
			close(fd);
		return err;
	}
	set_prog(dp, fd, &cur);
	return 0;
}

static int load_program(struct xlvs_dp *dp, uint32_t conn_entries, uint32_t ring_slots)
{
	struct xlvs_lb_bpf *skel;
	int err;

	skel = skel_open(dp->pin_dir, conn_entries, ring_slots);
	if (!skel)
		return -errno;
	err = xlvs_lb_bpf__load(skel);
	if (err) {
		log_err("loading %s failed: %s%s", PROG_NAME, strerror(-err),
			err == -EPERM ? perm_hint(err) : " (see the libbpf messages above)");
		goto out;
	}
	err = record_maps(dp, skel);
	if (!err)
		err = choose_prog(dp, bpf_program__fd(skel->progs.xlvs_lb));
out:
	/* The pins and dp->prog_fd keep what we need; the object can go. */
	xlvs_lb_bpf__destroy(skel);
	return err;
}

/* ---- tracking attachments ------------------------------------------------------ */

struct xlvs_iface *xlvs_dp_find(struct xlvs_dp *dp, const char *ifname)
{
	unsigned int i;

	for (i = 0; i < dp->nr_ifaces; i++)
		if (!strcmp(dp->ifaces[i].name, ifname))
			return &dp->ifaces[i];
	return NULL;
}

static struct xlvs_iface *find_index(struct xlvs_dp *dp, int ifindex)
{
	unsigned int i;

	for (i = 0; i < dp->nr_ifaces; i++)
		if (dp->ifaces[i].ifindex == ifindex)
			return &dp->ifaces[i];
	return NULL;
}

static int track(struct xlvs_dp *dp, const char *name, int ifindex, enum xlvs_xdp_mode mode,
		 enum xlvs_attach_method method, uint32_t prog_id, bool adopted)
{
	struct xlvs_iface *f;

	if (dp->nr_ifaces == XLVS_DP_MAX_IFACES) {
		log_warn("more than %d attachments: %s is not tracked", XLVS_DP_MAX_IFACES, name);
		return 0;
	}
	f = &dp->ifaces[dp->nr_ifaces++];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->ifindex = ifindex;
	f->mode = mode;
	f->method = method;
	f->prog_id = prog_id;
	f->adopted = adopted;
	return 0;
}

static void untrack(struct xlvs_dp *dp, struct xlvs_iface *f)
{
	unsigned int i = f - dp->ifaces;

	memmove(f, f + 1, (dp->nr_ifaces - i - 1) * sizeof(*f));
	dp->nr_ifaces--;
}

#define attached_mode xlvs_xdp_attached_mode

/* ---- adopting what an earlier xlvsd left attached ------------------------------- */

/*
 * A pinned link of ours: keep it (no detach, no reattach: zero loss) and
 * point it at the current program if it runs another (atomic, same link id).
 */
static int adopt_link(struct xlvs_dp *dp, const char *pinned)
{
	char path[PATH_MAX], to[PATH_MAX], name[IF_NAMESIZE];
	struct bpf_link_info info;
	enum xlvs_xdp_mode mode;
	int fd, err;

	err = link_path(path, sizeof(path), dp->pin_dir, pinned);
	if (err)
		return 0;
	fd = bpf_obj_get(path);
	if (fd < 0) {
		log_warn("cannot open %s: %s; left alone", path, strerror(errno));
		return 0;
	}
	if (get_info(fd, &info, sizeof(info)) || info.type != BPF_LINK_TYPE_XDP) {
		log_warn("%s is not an XDP link; left alone", path);
		goto out;
	}
	if (!info.xdp.ifindex || !if_indextoname(info.xdp.ifindex, name)) {
		log_warn("%s: its interface is gone; removing the stale pin", path);
		unlink(path);
		goto out;
	}
	mode = attached_mode(info.xdp.ifindex, info.prog_id);
	if (mode == XLVS_XDP_AUTO) {
		log_warn("%s: interface %d is not in this network namespace; left alone", path,
			 info.xdp.ifindex);
		goto out;
	}
	if (strcmp(name, pinned) && !link_path(to, sizeof(to), dp->pin_dir, name) && !rename(path, to))
		log_info("interface %s is now called %s: link pin renamed", pinned, name);
	if (info.prog_id != dp->prog_id) {
		if (bpf_link_update(fd, dp->prog_fd, NULL)) {
			err = -errno;
			log_err("%s: cannot swap the program on bpf_link %u: %s", name, info.id,
				strerror(-err));
			goto out;
		}
		log_info("%s: program swapped to id %u on bpf_link %u (atomic)", name, dp->prog_id, info.id);
		info.prog_id = dp->prog_id;
	}
	log_info("adopted %s: %s, bpf_link %u (program id %u)", name, xlvs_xdp_mode_name(mode), info.id,
		 info.prog_id);
	err = track(dp, name, info.xdp.ifindex, mode, XLVS_ATTACH_LINK, info.prog_id, true);
out:
	close(fd);
	return err;
}

/* Interfaces with a link pin in dir; collected first since adopting renames or removes pins. */
static size_t link_pins(const char *dir, char (**names)[256])
{
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	*names = NULL;
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < XLVS_DP_MAX_IFACES) {
		if (strncmp(de->d_name, XLVS_LINK_PIN_PREFIX, strlen(XLVS_LINK_PIN_PREFIX)))
			continue;
		if (!*names && !(*names = calloc(XLVS_DP_MAX_IFACES, sizeof(**names))))
			break;
		if (!link_unescape((*names)[n], sizeof(**names), de->d_name + strlen(XLVS_LINK_PIN_PREFIX)))
			n++;
	}
	closedir(d);
	return n;
}

static int discover_links(struct xlvs_dp *dp)
{
	char(*names)[256];
	size_t n, i;
	int err = 0;

	n = link_pins(dp->pin_dir, &names);
	for (i = 0; i < n && !err; i++)
		err = adopt_link(dp, names[i]);
	free(names);
	return err;
}

/* A program of ours attached over netlink (an older loader, `ip link`, a crash). */
static int adopt_netlink(struct xlvs_dp *dp, const char *name, int ifindex, enum xlvs_xdp_mode mode,
			 const struct prog_desc *d, bool update)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	uint32_t id = d->id;
	int fd;

	if (update && id != dp->prog_id) {
		fd = bpf_prog_get_fd_by_id(id);
		opts.old_prog_fd = fd;
		/* XDP_FLAGS_REPLACE: atomic, and only if d is still the one attached */
		if (fd < 0 || bpf_xdp_attach(ifindex, dp->prog_fd, xlvs_xdp_mode_flags(mode), &opts)) {
			log_err("%s: cannot swap program %u for %u: %s", name, id, dp->prog_id,
				strerror(errno));
			if (fd >= 0)
				close(fd);
			return -EBUSY;
		}
		close(fd);
		log_info("%s: program swapped to id %u over netlink (atomic replace)", name, dp->prog_id);
		id = dp->prog_id;
	}
	if (update)
		log_info("adopted %s: %s, netlink attachment (program id %u)", name, xlvs_xdp_mode_name(mode),
			 id);
	return track(dp, name, ifindex, mode, XLVS_ATTACH_NETLINK, id, true);
}

static int attach_libxdp(struct xlvs_dp *dp, const char *name, int ifindex, enum xlvs_xdp_mode mode);

/*
 * Our program inside libxdp's dispatcher. An upgrade adds the new program to
 * the dispatcher, then removes the old one: libxdp swaps the dispatcher
 * atomically each time and a packet the old copy passes reaches the new one.
 * (Untested on the development machine, where the dispatcher cannot load.)
 */
static int adopt_dispatcher(struct xlvs_dp *dp, const char *name, int ifindex, enum xlvs_xdp_mode mode,
			    bool update)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p, *ours = NULL;
	struct prog_desc d, cur;
	int err = 0;

	if (libxdp_get_error(mp))
		return 0;
	for (p = xdp_multiprog__next_prog(NULL, mp); p && !ours; p = xdp_multiprog__next_prog(p, mp))
		if (!prog_describe(xdp_program__fd(p), &d) && uses_our_maps(dp, &d))
			ours = p;
	if (!ours)
		goto out;
	if (update && !prog_describe(dp->prog_fd, &cur) && !same_program(&d, &cur)) {
		err = attach_libxdp(dp, name, ifindex, mode);
		if (!err) {
			err = xdp_program__detach(ours, ifindex, xlvs_xdp_libxdp_mode(mode), 0);
			log_info("%s: upgraded inside the libxdp dispatcher (old program %u "
				 "removed: %s)",
				 name, d.id, err ? strerror(-err) : "ok");
		}
		goto out; /* attach_libxdp tracked the new one */
	}
	if (update)
		log_info("adopted %s: %s, libxdp dispatcher (program id %u)", name, xlvs_xdp_mode_name(mode),
			 d.id);
	err = track(dp, name, ifindex, mode, XLVS_ATTACH_LIBXDP, d.id, true);
out:
	xdp_multiprog__close(mp);
	return err;
}

static int adopt_scanned(struct xlvs_dp *dp, const char *name, int ifindex, bool update)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	enum xlvs_xdp_mode mode;
	struct prog_desc d;
	uint32_t id;

	if (bpf_xdp_query(ifindex, 0, &q))
		return 0;
	for (mode = XLVS_XDP_NATIVE; mode <= XLVS_XDP_GENERIC; mode++) {
		id = mode == XLVS_XDP_NATIVE ? q.drv_prog_id : q.skb_prog_id;
		if (!id || prog_describe_id(id, &d))
			continue;
		if (!strcmp(d.name, "xdp_dispatcher"))
			return adopt_dispatcher(dp, name, ifindex, mode, update);
		if (uses_our_maps(dp, &d))
			return adopt_netlink(dp, name, ifindex, mode, &d, update);
	}
	return 0;
}

/* Interfaces of this namespace that run one of our programs without a link pin. */
static int discover_scan(struct xlvs_dp *dp, bool update)
{
	struct if_nameindex *ifs, *i;
	int err = 0;

	ifs = if_nameindex();
	if (!ifs)
		return -errno;
	for (i = ifs; i->if_index && !err; i++)
		if (!find_index(dp, i->if_index))
			err = adopt_scanned(dp, i->if_name, i->if_index, update);
	if_freenameindex(ifs);
	return err;
}

static bool ours_to_unpin(const char *n);

/* Does dir hold any pin xlvs creates? */
static bool has_pins(const char *dir)
{
	struct dirent *de;
	bool found = false;
	DIR *d = opendir(dir);

	while (d && !found && (de = readdir(d)))
		found = ours_to_unpin(de->d_name);
	if (d)
		closedir(d);
	return found;
}

int xlvs_dp_open(struct xlvs_dp *dp, const char *pin_dir, uint32_t conn_entries, uint32_t ring_slots)
{
	int err;

	memset(dp, 0, sizeof(*dp));
	dp->lock_fd = dp->prog_fd = -1;
	if (strlen(pin_dir) >= sizeof(dp->pin_dir)) {
		log_err("pin directory %s: path too long", pin_dir);
		return -ENAMETOOLONG;
	}
	strcpy(dp->pin_dir, pin_dir);
	if (getenv("LIBXDP_SKIP_DISPATCHER")) {
		dp->libxdp_off = true;
		snprintf(dp->libxdp_reason, sizeof(dp->libxdp_reason), "LIBXDP_SKIP_DISPATCHER is set");
	}
	err = lock_dir(pin_dir, &dp->lock_fd);
	if (err == -EBUSY)
		log_err("another xlvsd is using %s: stop it first, or give this one its own "
			"--pin-dir",
			pin_dir);
	if (!err) {
		dp->created = !has_pins(pin_dir);
		err = load_program(dp, conn_entries, ring_slots);
	}
	if (!err)
		err = discover_links(dp);
	if (!err)
		err = discover_scan(dp, true);
	if (err && dp->created && dp->lock_fd >= 0)
		xlvs_dp_remove(dp);
	if (err)
		xlvs_dp_close(dp);
	return err;
}

void xlvs_dp_close(struct xlvs_dp *dp)
{
	if (dp->prog_fd >= 0)
		close(dp->prog_fd);
	if (dp->lock_fd >= 0)
		close(dp->lock_fd);
	dp->prog_fd = dp->lock_fd = -1;
}

/* ---- attaching ------------------------------------------------------------------ */

/*
 * libxdp first, so that xlvs_lb shares the interface with other XDP programs
 * where the multi-program dispatcher works. It needs its own unloaded copy of
 * the object (it loads it as an freplace extension when the dispatcher works).
 * Returns 0 when attached through the dispatcher; when libxdp could only
 * attach the program alone over netlink, undoes that and returns -EAGAIN so
 * that the caller attaches a pinned bpf_link instead (on a first attach the
 * interface runs no program for a moment: packets go to the kernel as before).
 */
static int attach_libxdp(struct xlvs_dp *dp, const char *name, int ifindex, enum xlvs_xdp_mode mode)
{
	struct xdp_multiprog *mp;
	struct xlvs_lb_bpf *skel;
	char why[sizeof(dp->libxdp_reason) - 32];
	uint32_t id = 0;
	int err, n = 0;

	skel = skel_open(dp->pin_dir, 0, 0);
	if (!skel)
		return -errno;
	err = xlvs_xdp_attach_libxdp(skel->obj, ifindex, mode, &id, why, sizeof(why));
	xlvs_lb_bpf__destroy(skel);
	if (err == -EAGAIN) {
		dp->libxdp_off = true; /* no need to try again for other interfaces */
		snprintf(dp->libxdp_reason, sizeof(dp->libxdp_reason), "%s", why);
		return err;
	}
	if (err) {
		snprintf(dp->libxdp_reason, sizeof(dp->libxdp_reason), "libxdp attach failed");
		return err;
	}
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (!libxdp_get_error(mp)) {
		n = xdp_multiprog__program_count(mp);
		xdp_multiprog__close(mp);
	}
	log_info("attached %s to %s: %s, libxdp dispatcher (%d programs on the interface)", PROG_NAME, name,
		 xlvs_xdp_mode_name(mode), n);
	return track(dp, name, ifindex, mode, XLVS_ATTACH_LIBXDP, id, false);
}

/* The fallback: one program, one bpf_link per interface, pinned so it outlives us. */
static int attach_link(struct xlvs_dp *dp, const char *name, int ifindex, enum xlvs_xdp_mode mode)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = xlvs_xdp_mode_flags(mode));
	char path[PATH_MAX];
	int fd, err;

	err = link_path(path, sizeof(path), dp->pin_dir, name);
	if (err)
		return err;
	fd = bpf_link_create(dp->prog_fd, ifindex, BPF_XDP, &opts);
	if (fd < 0) {
		err = -errno;
		log_warn("%s: %s bpf_link attach failed: %s", name, xlvs_xdp_mode_name(mode), strerror(-err));
		return err;
	}
	unlink(path); /* a stale pin of a dead link (adoption removes those too) */
	if (bpf_obj_pin(fd, path)) {
		err = -errno;
		log_err("%s: cannot pin the link at %s: %s", name, path, strerror(-err));
		close(fd); /* the only reference: this detaches it */
		return err;
	}
	close(fd);
	log_info("attached %s to %s: %s, single program via bpf_link "
		 "(libxdp dispatcher unavailable: %s)",
		 PROG_NAME, name, xlvs_xdp_mode_name(mode),
		 dp->libxdp_reason[0] ? dp->libxdp_reason : "not tried");
	return track(dp, name, ifindex, mode, XLVS_ATTACH_LINK, dp->prog_id, false);
}

/* Refuse to displace someone else's XDP program. */
static int check_free(struct xlvs_dp *dp, const char *name, int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct prog_desc d;
	uint32_t id;

	if (bpf_xdp_query(ifindex, 0, &q))
		return 0; /* the attach itself will report the problem */
	id = q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id;
	if (!id || prog_describe_id(id, &d))
		return 0;
	if (!strcmp(d.name, "xdp_dispatcher") && !dp->libxdp_off)
		return 0; /* libxdp adds us next to the programs already there */
	log_err("%s already runs XDP program '%s' (id %u)%s: xlvsd does not replace it; remove it "
		"first (ip link set dev %s xdp off, or xdp-loader unload)",
		name, d.name, id, uses_our_maps(dp, &d) ? ", an xlvs_lb xlvsd could not adopt" : "", name);
	return -EBUSY;
}

static int attach_fresh(struct xlvs_dp *dp, const char *name, int ifindex, enum xlvs_xdp_mode want)
{
	enum xlvs_xdp_mode modes[2];
	int n = 0, i, err = -EINVAL;

	if (want != XLVS_XDP_GENERIC)
		modes[n++] = XLVS_XDP_NATIVE;
	if (want != XLVS_XDP_NATIVE)
		modes[n++] = XLVS_XDP_GENERIC;
	for (i = 0; i < n; i++) {
		if (i)
			log_warn("%s: native XDP failed (%s); trying generic (skb) mode", name,
				 strerror(-err));
		err = dp->libxdp_off ? -EAGAIN : attach_libxdp(dp, name, ifindex, modes[i]);
		if (!err)
			return 0;
		err = attach_link(dp, name, ifindex, modes[i]);
		if (!err)
			return 0;
	}
	log_err("cannot attach %s to %s: %s", PROG_NAME, name, strerror(-err));
	return err;
}

static int detach_link(const char *pin_dir, const char *name);

/*
 * Still attached where we think? An interface deleted and created again has a
 * new index and no program (its link died with the old one).
 */
static bool still_attached(struct xlvs_dp *dp, struct xlvs_iface *f)
{
	if (f->method == XLVS_ATTACH_LIBXDP)
		return true; /* the interface runs the dispatcher, not f->prog_id */
	if ((int)if_nametoindex(f->name) == f->ifindex &&
	    attached_mode(f->ifindex, f->prog_id) != XLVS_XDP_AUTO)
		return true;
	log_warn("%s lost its %s attachment (interface recreated?): attaching again", f->name,
		 xlvs_attach_method_name(f->method));
	if (f->method == XLVS_ATTACH_LINK)
		detach_link(dp->pin_dir, f->name); /* drop the dead link's pin */
	untrack(dp, f);
	return false;
}

int xlvs_dp_attach(struct xlvs_dp *dp, const char *ifname, enum xlvs_xdp_mode mode)
{
	struct xlvs_iface *f = xlvs_dp_find(dp, ifname);
	int ifindex, err;

	if (f && !still_attached(dp, f))
		f = NULL;
	if (f) {
		if (mode != XLVS_XDP_AUTO && mode != f->mode)
			log_warn("%s stays in %s mode: the XDP mode of a running attachment is "
				 "not changed live (remove the interface from the configuration, "
				 "reload, add it back, reload)",
				 ifname, xlvs_xdp_mode_name(f->mode));
		return 0;
	}
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		log_err("interface %s does not exist", ifname);
		return -ENODEV;
	}
	err = check_free(dp, ifname, ifindex);
	if (!err)
		err = attach_fresh(dp, ifname, ifindex, mode);
	return err ? err : 1;
}

/* ---- detaching ------------------------------------------------------------------ */

static int detach_link(const char *pin_dir, const char *name)
{
	char path[PATH_MAX];
	int fd, err;

	err = link_path(path, sizeof(path), pin_dir, name);
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	/* Detach now even if some other process holds the link open. */
	if (bpf_link_detach(fd))
		log_debug("%s: bpf_link_detach: %s (unpinning is enough)", name, strerror(errno));
	close(fd);
	return unlink(path) ? -errno : 0;
}

static int detach_netlink(int ifindex, enum xlvs_xdp_mode mode, uint32_t prog_id)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	int fd, err = 0;

	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	opts.old_prog_fd = fd; /* only if it is still ours */
	if (bpf_xdp_detach(ifindex, xlvs_xdp_mode_flags(mode), &opts))
		err = -errno;
	close(fd);
	return err;
}

static int detach_libxdp(int ifindex, enum xlvs_xdp_mode mode, uint32_t prog_id)
{
	struct xdp_program *xp = xdp_program__from_id(prog_id);
	int err;

	err = libxdp_get_error(xp);
	if (err)
		return err == -ENOENT ? 0 : err;
	err = xdp_program__detach(xp, ifindex, xlvs_xdp_libxdp_mode(mode), 0);
	xdp_program__close(xp);
	return err;
}

static int detach_iface(const char *pin_dir, const struct xlvs_iface *f)
{
	int err;

	switch (f->method) {
	case XLVS_ATTACH_LINK:
		err = detach_link(pin_dir, f->name);
		break;
	case XLVS_ATTACH_NETLINK:
		err = detach_netlink(f->ifindex, f->mode, f->prog_id);
		break;
	default:
		err = detach_libxdp(f->ifindex, f->mode, f->prog_id);
		break;
	}
	if (err)
		log_err("cannot detach %s from %s (%s): %s", PROG_NAME, f->name,
			xlvs_attach_method_name(f->method), strerror(-err));
	else
		log_info("detached %s from %s (%s)", PROG_NAME, f->name, xlvs_attach_method_name(f->method));
	return err;
}

int xlvs_dp_detach(struct xlvs_dp *dp, const char *ifname)
{
	struct xlvs_iface *f = xlvs_dp_find(dp, ifname);
	int err;

	if (!f)
		return 0;
	err = detach_iface(dp->pin_dir, f);
	if (!err)
		untrack(dp, f);
	return err;
}

bool xlvs_dp_forget(struct xlvs_dp *dp, int ifindex, char name[IF_NAMESIZE])
{
	struct xlvs_iface *f = find_index(dp, ifindex);

	if (!f)
		return false;
	snprintf(name, IF_NAMESIZE, "%s", f->name);
	if (f->method == XLVS_ATTACH_LINK)
		detach_link(dp->pin_dir, f->name);
	untrack(dp, f);
	return true;
}

/* ---- xlvsd --detach ---------------------------------------------------------------- */

/* Ids of the maps pinned in dp->pin_dir, to recognise our programs on interfaces. */
static void pinned_map_ids(struct xlvs_dp *dp)
{
	struct bpf_map_info info;
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int fd;

	d = opendir(dp->pin_dir);
	while (d && (de = readdir(d)) && dp->nr_map_ids < XLVS_DP_MAX_MAPS) {
		if (strncmp(de->d_name, MAP_PIN_PREFIX, strlen(MAP_PIN_PREFIX)) ||
		    pin_path(path, sizeof(path), dp->pin_dir, "", de->d_name))
			continue;
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		if (!get_info(fd, &info, sizeof(info)) && info.id)
			dp->map_ids[dp->nr_map_ids++] = info.id;
		close(fd);
	}
	if (d)
		closedir(d);
}

/* Every link pin, whatever namespace its interface is in. Returns true if one failed. */
static bool detach_all_links(const char *dir)
{
	char(*names)[256];
	bool failed = false;
	size_t n, i;
	int err;

	n = link_pins(dir, &names);
	for (i = 0; i < n; i++) {
		err = detach_link(dir, names[i]);
		if (err)
			log_err("cannot detach %s from %s (bpf_link): %s", PROG_NAME, names[i],
				strerror(-err));
		else
			log_info("detached %s from %s (bpf_link)", PROG_NAME, names[i]);
		failed |= err != 0;
	}
	free(names);
	return failed;
}

static bool ours_to_unpin(const char *n)
{
	return !strncmp(n, MAP_PIN_PREFIX, strlen(MAP_PIN_PREFIX)) ||
	       !strncmp(n, XLVS_LINK_PIN_PREFIX, strlen(XLVS_LINK_PIN_PREFIX)) || !strcmp(n, XLVS_PROG_PIN) ||
	       !strcmp(n, XLVS_PROG_PIN "_new") || !strcmp(n, XLVS_TC_PROG_PIN) ||
	       !strncmp(n, XLVS_TC_LINK_PIN_PREFIX, strlen(XLVS_TC_LINK_PIN_PREFIX));
}

/* Remove the pins xlvs creates (and only those), then the directory. */
static int unpin_all(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	int n = 0, err = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!ours_to_unpin(de->d_name) || pin_path(path, sizeof(path), dir, "", de->d_name))
			continue;
		if (unlink(path)) {
			err = -errno;
			log_err("cannot remove %s: %s", path, strerror(-err));
		} else {
			n++;
		}
	}
	closedir(d);
	log_info("removed %d pins from %s", n, dir);
	if (!err && rmdir(dir))
		log_warn("%s not removed: %s", dir,
			 errno == ENOTEMPTY ? "it holds files xlvs did not create" : strerror(errno));
	return err;
}

int xlvs_dp_remove(struct xlvs_dp *dp)
{
	int err = 0, e;

	while (dp->nr_ifaces) {
		xlvs_tc_remove_filter(dp->ifaces[dp->nr_ifaces - 1].ifindex);
		e = xlvs_dp_detach(dp, dp->ifaces[dp->nr_ifaces - 1].name);
		if (e) {
			err = err ? err : e;
			untrack(dp, &dp->ifaces[dp->nr_ifaces - 1]);
		}
	}
	if (detach_all_links(dp->pin_dir) && !err)
		err = -EBUSY;
	if (xlvs_tc_remove_links(dp->pin_dir) && !err)
		err = -EBUSY;
	e = unpin_all(dp->pin_dir);
	err = err ? err : e;
	if (err)
		log_err("removing what this start created in %s failed: %s (`xlvsd --detach` "
			"removes it)",
			dp->pin_dir, strerror(-err));
	else
		log_info("removed the data path this start had created in %s", dp->pin_dir);
	return err;
}

int xlvs_dp_remove_all(const char *pin_dir)
{
	struct xlvs_dp *dp;
	struct stat st;
	unsigned int i;
	int err, failed = 0;

	if (stat(pin_dir, &st)) {
		if (errno != ENOENT) {
			log_err("%s: %s", pin_dir, strerror(errno));
			return -errno;
		}
		log_info("nothing to detach: %s does not exist", pin_dir);
		return 0;
	}
	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	dp->prog_fd = -1;
	snprintf(dp->pin_dir, sizeof(dp->pin_dir), "%s", pin_dir);
	err = lock_dir(pin_dir, &dp->lock_fd);
	if (err == -EBUSY)
		log_err("xlvsd is running with pin directory %s: stop it first", pin_dir);
	if (err)
		goto out;
	pinned_map_ids(dp);
	failed = detach_all_links(pin_dir);
	failed |= xlvs_tc_remove_links(pin_dir) != 0;
	/* Then our programs attached otherwise, on this namespace's interfaces (tc: clsact filters). */
	err = discover_scan(dp, false);
	for (i = 0; i < dp->nr_ifaces; i++) {
		failed |= detach_iface(pin_dir, &dp->ifaces[i]) != 0;
		xlvs_tc_remove_filter(dp->ifaces[i].ifindex);
	}
	err = err ? err : unpin_all(pin_dir);
	if (!err && failed)
		err = -EBUSY;
out:
	xlvs_dp_close(dp);
	free(dp);
	return err;
}
