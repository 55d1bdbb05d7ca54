// SPDX-License-Identifier: GPL-2.0
/*
 * The real-server decapsulator on an interface: see decap.h for the pin
 * layout and docs/real-servers.md for the operator's view.
 *
 * Attaching follows the director (loader/dataplane/attach.c): libxdp first, so that the
 * decapsulator shares the interface with other XDP programs where libxdp's
 * dispatcher works; where it cannot load (freplace refused, as on the
 * development machine), one program on a pinned bpf_link.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <libmnl/libmnl.h>
#include <xdp/libxdp.h>

#include "xlvs_decap.skel.h"
#include "decap.h"
#include "log.h"

#define PROG_NAME "xlvs_decap"

/*
 * A map's pin name, checked against the skeleton: libbpf pins a map under its
 * name, which is the skeleton's field name, so a map renamed or dropped in
 * bpf/ fails to compile here.
 */
#define MAP_PIN(m) (#m + 0 * sizeof(((struct xlvs_decap_bpf *)0)->maps.m))
#define ADDRS_MAP  MAP_PIN(xlvs_decap_addrs)
#define CFG_MAP	   MAP_PIN(xlvs_decap_cfg)
#define STATS_MAP  MAP_PIN(xlvs_decap_stats)

static const char *const pin_names[] = {
	XLVS_DECAP_LINK_PIN,
	XLVS_DECAP_PROG_PIN,
	XLVS_DECAP_RODATA_PIN,
	XLVS_DECAP_ADDRS_PIN,
	ADDRS_MAP,
	CFG_MAP,
	STATS_MAP,
};
#define NR_PINS (sizeof(pin_names) / sizeof(pin_names[0]))

const char *xlvs_decap_addrs_name(enum xlvs_decap_addrs a)
{
	switch (a) {
	case XLVS_DECAP_ADDRS_DEV:
		return "dev";
	case XLVS_DECAP_ADDRS_HOST:
		return "host";
	case XLVS_DECAP_ADDRS_ANY:
		return "any";
	}
	return "?";
}

/* ---- paths ------------------------------------------------------------------ */

static int decap_root(char *buf, size_t size, const char *pin_dir)
{
	int n = snprintf(buf, size, "%s/%s", pin_dir, XLVS_DECAP_SUBDIR);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int decap_dir(char *buf, size_t size, const char *pin_dir, const char *ifname)
{
	char esc[3 * IF_NAMESIZE + 1];
	int n;

	xlvs_pin_name_escape(esc, sizeof(esc), ifname);
	n = snprintf(buf, size, "%s/%s/%s", pin_dir, XLVS_DECAP_SUBDIR, esc);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int pin_at(char *buf, size_t size, const char *dir, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* fd of dir/name, or -errno (-ENOENT when not pinned). */
static int pin_open(const char *dir, const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (pin_at(path, sizeof(path), dir, name))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

/* Element key of the map pinned at dir/name into value: 0 or -errno. */
static int pin_lookup(const char *dir, const char *name, const void *key, void *value)
{
	int fd = pin_open(dir, name), err = 0;

	if (fd < 0)
		return fd;
	if (bpf_map_lookup_elem(fd, key, value))
		err = -errno;
	close(fd);
	return err;
}

/*
 * Which addresses attach chose is userspace state: the program only needs the
 * destination-check flag. It outlives the xlvs process (sync and status run
 * later), so it is kept beside the pins as dir/XLVS_DECAP_ADDRS_PIN, a symlink
 * whose target is the name ("dev", "host", "any"): bpffs holds no regular
 * files, symlinks it does. Without it (pins of an older xlvs) the flag tells
 * "any" from "dev".
 */
static enum xlvs_decap_addrs addrs_of(const char *dir, const struct xlvs_decap_cfg *cfg)
{
	enum xlvs_decap_addrs a;
	char path[PATH_MAX], name[8];
	ssize_t n = -1;

	if (!pin_at(path, sizeof(path), dir, XLVS_DECAP_ADDRS_PIN))
		n = readlink(path, name, sizeof(name) - 1);
	if (n > 0) {
		name[n] = '\0';
		for (a = XLVS_DECAP_ADDRS_DEV; a <= XLVS_DECAP_ADDRS_ANY; a++)
			if (!strcmp(name, xlvs_decap_addrs_name(a)))
				return a;
	}
	if (!(cfg->flags & XLVS_DECAP_F_CHECK_DST))
		return XLVS_DECAP_ADDRS_ANY;
	return XLVS_DECAP_ADDRS_DEV;
}

static int addrs_save(const char *dir, enum xlvs_decap_addrs a, char *msg, size_t size)
{
	char path[PATH_MAX];
	int err = pin_at(path, sizeof(path), dir, XLVS_DECAP_ADDRS_PIN);

	if (!err && symlink(xlvs_decap_addrs_name(a), path))
		err = -errno;
	if (err)
		snprintf(msg, size, "cannot create %s: %s", path, strerror(-err));
	return err;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

static bool ifname_ok(const char *ifname, char *msg, size_t size)
{
	if (!*ifname || strlen(ifname) >= IF_NAMESIZE || strchr(ifname, '/')) {
		snprintf(msg, size, "invalid interface name '%s'", ifname);
		return false;
	}
	return true;
}

/* ifname's pin directory in dir, if it has one: 0, -EINVAL (bad name) or -ENOENT, with a message. */
static int attached_dir(const char *pin_dir, const char *ifname, char *dir, size_t dirsize, char *msg,
			size_t size)
{
	if (!ifname_ok(ifname, msg, size))
		return -EINVAL;
	if (decap_dir(dir, dirsize, pin_dir, ifname) || !is_dir(dir)) {
		snprintf(msg, size, "%s is not attached to %s (nothing pinned in %s)", PROG_NAME, ifname,
			 dir);
		return -ENOENT;
	}
	return 0;
}

/*
 * Remove our pins from dir (and only those), dir, and PIN_DIR/decap if it
 * is now empty. Returns 0 or -errno with a message.
 */
static int unpin_all(const char *pin_dir, const char *dir, char *msg, size_t size)
{
	char path[PATH_MAX];
	size_t i;
	int err = 0;

	for (i = 0; i < NR_PINS; i++) {
		if (pin_at(path, sizeof(path), dir, pin_names[i]) || !unlink(path) || errno == ENOENT)
			continue;
		if (!err)
			snprintf(msg, size, "cannot remove %s: %s", path, strerror(errno));
		err = err ? err : -errno;
	}
	if (err)
		return err;
	if (rmdir(dir) && errno != ENOENT) {
		err = -errno;
		snprintf(msg, size, "%s not removed: %s", dir,
			 errno == ENOTEMPTY ? "it holds files xlvs did not create" : strerror(errno));
		return err;
	}
	/* Only if empty: other interfaces keep theirs, xlvsd keeps the director's pins. */
	if (!decap_root(path, sizeof(path), pin_dir) && !rmdir(path))
		rmdir(pin_dir);
	return 0;
}

/* ---- kernel object info ------------------------------------------------------- */

/* prog_id inside libxdp's dispatcher on ifindex: its mode, or XLVS_XDP_AUTO. */
static enum xlvs_xdp_mode dispatcher_mode(int ifindex, uint32_t prog_id)
{
	enum xlvs_xdp_mode mode = XLVS_XDP_AUTO;
	struct xdp_multiprog *mp;
	struct xdp_program *p;

	if (!ifindex || !prog_id)
		return mode;
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (libxdp_get_error(mp))
		return mode;
	if (!xdp_multiprog__is_legacy(mp))
		for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp))
			if (xdp_program__id(p) == prog_id)
				mode = xdp_multiprog__attach_mode(mp) == XDP_MODE_SKB ? XLVS_XDP_GENERIC
										      : XLVS_XDP_NATIVE;
	xdp_multiprog__close(mp);
	return mode;
}

/* ---- local addresses (rtnetlink, libmnl) ----------------------------------------- */

struct addr_dump {
	int ifindex; /* 0: every interface */
	struct xlvs_addr *addr;
	size_t n, max;
	bool overflow;
};

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct addr_dump *d = data;
	const void *local = NULL, *address = NULL, *a;
	const struct nlattr *attr;
	struct xlvs_addr *x;
	size_t len;

	if (nlh->nlmsg_type != RTM_NEWADDR || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return MNL_CB_OK;
	if (d->ifindex && (int)ifa->ifa_index != d->ifindex)
		return MNL_CB_OK;
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return MNL_CB_OK;
	len = ifa->ifa_family == AF_INET ? 4 : 16;
	mnl_attr_for_each(attr, nlh, sizeof(*ifa))
	{
		if (mnl_attr_get_payload_len(attr) != len)
			continue;
		if (mnl_attr_get_type(attr) == IFA_LOCAL)
			local = mnl_attr_get_payload(attr);
		else if (mnl_attr_get_type(attr) == IFA_ADDRESS)
			address = mnl_attr_get_payload(attr);
	}
	/* IFA_LOCAL is ours; IFA_ADDRESS is the peer on point-to-point links. */
	a = local ? local : address;
	if (!a)
		return MNL_CB_OK;
	if (d->n == d->max) {
		d->overflow = true;
		return MNL_CB_OK;
	}
	x = &d->addr[d->n++];
	memset(x, 0, sizeof(*x));
	x->family = ifa->ifa_family == AF_INET ? XLVS_AF_INET : XLVS_AF_INET6;
	memcpy(x->be, a, len);
	return MNL_CB_OK;
}

static int dump_addrs(struct addr_dump *d, char *msg, size_t size)
{
	char buf[32768]; /* MNL_SOCKET_DUMP_SIZE in libmnl >= 1.0.5 */
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	unsigned int seq = (unsigned int)time(NULL), portid;
	ssize_t n;
	int ret, err = 0;

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		snprintf(msg, size, "rtnetlink: %s", strerror(errno));
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		snprintf(msg, size, "rtnetlink: cannot ask for addresses: %s", strerror(errno));
		goto out;
	}
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		ret = n < 0 ? MNL_CB_ERROR : mnl_cb_run(buf, (size_t)n, seq, portid, addr_cb, d);
	} while (ret > MNL_CB_STOP);
	if (ret < 0) {
		err = -errno;
		snprintf(msg, size, "rtnetlink: reading addresses: %s", strerror(errno));
	} else if (d->overflow) {
		err = -E2BIG;
		snprintf(msg, size,
			 "more than %zu local addresses: %s holds %zu "
			 "(use addrs dev, or addrs any)",
			 d->max, ADDRS_MAP, d->max);
	}
out:
	if (nl)
		mnl_socket_close(nl);
	return err;
}

static int addr_cmp(const void *a, const void *b)
{
	const struct xlvs_addr *x = a, *y = b;

	if (x->family != y->family)
		return x->family - y->family;
	return memcmp(x->be, y->be, sizeof(x->be));
}

static void key_of(struct xlvs_vip_key *k, const struct xlvs_addr *a)
{
	memset(k, 0, sizeof(*k));
	k->family = a->family;
	memcpy(k->addr, a->be, sizeof(k->addr));
}

/*
 * Make the address map hold exactly the current local addresses (of ifindex,
 * or of the host) and set the flags. New addresses are added before stale
 * ones go, so an address that stays is never missing.
 */
static int write_addrs(int addrs_fd, int cfg_fd, enum xlvs_decap_addrs src, int ifindex, size_t *nr,
		       char *msg, size_t size)
{
	struct xlvs_decap_cfg cfg = { 0 };
	struct xlvs_addr *addr;
	struct addr_dump d = { .ifindex = src == XLVS_DECAP_ADDRS_HOST ? 0 : ifindex,
			       .max = XLVS_DECAP_MAX_ADDRS };
	struct xlvs_vip_key k, next, stale[XLVS_DECAP_MAX_ADDRS];
	uint32_t zero = 0, one = 1;
	size_t i, nstale = 0;
	int err = 0, more;

	addr = calloc(XLVS_DECAP_MAX_ADDRS, sizeof(*addr));
	if (!addr) {
		snprintf(msg, size, "out of memory");
		return -ENOMEM;
	}
	d.addr = addr;
	if (src != XLVS_DECAP_ADDRS_ANY)
		err = dump_addrs(&d, msg, size);
	for (i = 0; !err && i < d.n; i++) {
		key_of(&k, &addr[i]);
		if (bpf_map_update_elem(addrs_fd, &k, &one, BPF_ANY)) {
			err = -errno;
			snprintf(msg, size, "cannot write %s: %s", ADDRS_MAP, strerror(errno));
		}
	}
	/* Then drop what is no longer local (collected first: deleting while walking skips keys). */
	more = !err && !bpf_map_get_next_key(addrs_fd, NULL, &next);
	while (more) {
		struct xlvs_addr a = { .family = next.family };

		memcpy(a.be, next.addr, sizeof(a.be));
		for (i = 0; i < d.n && addr_cmp(&a, &addr[i]); i++)
			;
		if (i == d.n && nstale < XLVS_DECAP_MAX_ADDRS)
			stale[nstale++] = next;
		k = next;
		more = !bpf_map_get_next_key(addrs_fd, &k, &next);
	}
	for (i = 0; !err && i < nstale; i++)
		bpf_map_delete_elem(addrs_fd, &stale[i]);
	if (!err) {
		if (src != XLVS_DECAP_ADDRS_ANY)
			cfg.flags |= XLVS_DECAP_F_CHECK_DST;
		if (bpf_map_update_elem(cfg_fd, &zero, &cfg, BPF_ANY)) {
			err = -errno;
			snprintf(msg, size, "cannot write %s: %s", CFG_MAP, strerror(errno));
		}
	}
	if (!err && nr)
		*nr = d.n;
	free(addr);
	return err;
}

/* ---- attach ------------------------------------------------------------------------- */

static struct xlvs_decap_bpf *skel_open(const char *dir, uint16_t gue_port, char *msg, size_t size)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = dir);
	struct xlvs_decap_bpf *skel = xlvs_decap_bpf__open_opts(&opts);

	if (!skel) {
		snprintf(msg, size, "cannot open the %s BPF object: %s", PROG_NAME, strerror(errno));
		return NULL;
	}
	skel->rodata->gue_port = gue_port;
	return skel;
}

static int pin_fd(int fd, const char *dir, const char *name, char *msg, size_t size)
{
	char path[PATH_MAX];
	int err;

	err = pin_at(path, sizeof(path), dir, name);
	if (!err && bpf_obj_pin(fd, path))
		err = -errno;
	if (err)
		snprintf(msg, size, "cannot pin %s: %s", path, strerror(-err));
	return err;
}

/* Refuse to displace another XDP program (ours is found before this, by its pins). */
static int check_free(const char *ifname, int ifindex, bool libxdp_on, char *msg, size_t size)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info;
	uint32_t id;
	int fd;

	if (bpf_xdp_query(ifindex, 0, &q))
		return 0; /* the attach itself will report the problem */
	id = q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id ? q.skb_prog_id : q.hw_prog_id;
	if (!id)
		return 0;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0 || xlvs_obj_info(fd, &info, sizeof(info)))
		info.name[0] = '\0';
	if (fd >= 0)
		close(fd);
	if (libxdp_on && !strcmp(info.name, "xdp_dispatcher"))
		return 0; /* libxdp adds us next to the programs already there */
	snprintf(msg, size,
		 "%s already runs XDP program '%s' (id %u): remove it first (ip link set "
		 "dev %s xdp off, or xdp-loader unload %s --all)",
		 ifname, info.name, id, ifname, ifname);
	return -EBUSY;
}

struct attach_ctx {
	const struct xlvs_decap_opts *o;
	const char *dir;
	int ifindex;
	bool libxdp_on;
	char why[256];
};

/*
 * libxdp's dispatcher: 1 when attached there (and pinned), 0 when the caller
 * falls back to a bpf_link, -errno (msg set) when it attached but pinning failed.
 */
static int try_libxdp(struct attach_ctx *a, enum xlvs_xdp_mode mode, char *msg, size_t size)
{
	struct xlvs_decap_bpf *skel;
	struct xdp_program *xp;
	uint32_t id = 0;
	int err, fd;

	skel = skel_open(a->dir, a->o->gue_port, msg, size);
	if (!skel)
		return 0;
	err = xlvs_xdp_attach_libxdp(skel->obj, a->ifindex, mode, &id, a->why, sizeof(a->why));
	if (err) {
		/* -EAGAIN: the dispatcher cannot work here; do not ask again. */
		if (err == -EAGAIN)
			a->libxdp_on = false;
		log_debug("%s: libxdp: %s", a->o->ifname, a->why[0] ? a->why : strerror(-err));
		xlvs_decap_bpf__destroy(skel);
		return 0;
	}
	fd = bpf_prog_get_fd_by_id(id);
	err = fd < 0 ? -errno : pin_fd(fd, a->dir, XLVS_DECAP_PROG_PIN, msg, size);
	if (fd < 0)
		snprintf(msg, size, "cannot find program %u libxdp attached: %s", id, strerror(-err));
	else
		close(fd);
	if (!err)
		err = pin_fd(bpf_map__fd(skel->maps.rodata), a->dir, XLVS_DECAP_RODATA_PIN, msg, size);
	xlvs_decap_bpf__destroy(skel);
	if (!err)
		return 1;
	xp = xdp_program__from_id(id);
	if (!libxdp_get_error(xp)) {
		xdp_program__detach(xp, a->ifindex, mode == XLVS_XDP_GENERIC ? XDP_MODE_SKB : XDP_MODE_NATIVE,
				    0);
		xdp_program__close(xp);
	}
	return err;
}

/* The fallback: the program loaded by the caller, on a pinned bpf_link. */
static int attach_link(struct attach_ctx *a, int prog_fd, enum xlvs_xdp_mode mode)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = xlvs_xdp_mode_flags(mode));
	char path[PATH_MAX];
	int fd, err;

	err = pin_at(path, sizeof(path), a->dir, XLVS_DECAP_LINK_PIN);
	if (err)
		return err;
	fd = bpf_link_create(prog_fd, a->ifindex, BPF_XDP, &opts);
	if (fd < 0)
		return -errno;
	if (bpf_obj_pin(fd, path)) {
		err = -errno;
		close(fd); /* the only reference: this detaches it */
		return err;
	}
	close(fd);
	return 0;
}

static int do_attach(struct attach_ctx *a, char *msg, size_t size)
{
	const struct xlvs_decap_opts *o = a->o;
	struct xlvs_decap_bpf *skel;
	enum xlvs_xdp_mode modes[2];
	int n = 0, i, err;

	/* Our own load first: it creates and pins the maps, which are filled before any attach. */
	skel = skel_open(a->dir, o->gue_port, msg, size);
	if (!skel)
		return -errno;
	err = xlvs_decap_bpf__load(skel);
	if (err) {
		snprintf(msg, size, "cannot load %s: %s%s", PROG_NAME, strerror(-err),
			 err == -EPERM ? " (needs root: CAP_BPF, CAP_NET_ADMIN)"
				       : " (run with -v for the libbpf messages)");
		goto out;
	}
	err = write_addrs(bpf_map__fd(skel->maps.xlvs_decap_addrs), bpf_map__fd(skel->maps.xlvs_decap_cfg),
			  o->addrs, a->ifindex, NULL, msg, size);
	if (!err)
		err = addrs_save(a->dir, o->addrs, msg, size);
	if (err)
		goto out;
	if (o->mode != XLVS_XDP_GENERIC)
		modes[n++] = XLVS_XDP_NATIVE;
	if (o->mode != XLVS_XDP_NATIVE)
		modes[n++] = XLVS_XDP_GENERIC;
	for (i = 0; i < n; i++) {
		if (a->libxdp_on) {
			err = try_libxdp(a, modes[i], msg, size);
			if (err) {
				err = err < 0 ? err : 0;
				goto out;
			}
		}
		err = attach_link(a, bpf_program__fd(skel->progs.xlvs_decap), modes[i]);
		if (!err) {
			err = pin_fd(bpf_program__fd(skel->progs.xlvs_decap), a->dir, XLVS_DECAP_PROG_PIN,
				     msg, size);
			if (!err)
				err = pin_fd(bpf_map__fd(skel->maps.rodata), a->dir, XLVS_DECAP_RODATA_PIN,
					     msg, size);
			goto out;
		}
		if (i + 1 < n)
			log_warn("%s: native XDP failed (%s); trying generic (skb) mode", o->ifname,
				 strerror(-err));
	}
	snprintf(msg, size, "cannot attach %s to %s (%s): %s", PROG_NAME, o->ifname,
		 o->mode == XLVS_XDP_AUTO ? "native or generic" : xlvs_xdp_mode_name(o->mode),
		 strerror(-err));
out:
	xlvs_decap_bpf__destroy(skel);
	return err;
}

int xlvs_decap_attach(const struct xlvs_decap_opts *o, char *msg, size_t size)
{
	struct attach_ctx a = { .o = o, .libxdp_on = !getenv("LIBXDP_SKIP_DISPATCHER") };
	struct xlvs_decap_opts opts = *o;
	struct xlvs_decap_status *st;
	char dir[PATH_MAX], tmp[256];
	int err;

	if (!ifname_ok(o->ifname, msg, size))
		return -EINVAL;
	if (!opts.gue_port)
		opts.gue_port = XLVS_GUE_PORT_DEFAULT;
	a.o = &opts;
	a.ifindex = (int)if_nametoindex(o->ifname);
	if (!a.ifindex) {
		snprintf(msg, size, "interface %s does not exist", o->ifname);
		return -ENODEV;
	}
	err = decap_dir(dir, sizeof(dir), o->pin_dir, o->ifname);
	if (err) {
		snprintf(msg, size, "pin directory %s: path too long", o->pin_dir);
		return err;
	}
	a.dir = dir;
	if (is_dir(dir)) {
		st = calloc(1, sizeof(*st));
		if (!st) {
			snprintf(msg, size, "out of memory");
			return -ENOMEM;
		}
		err = xlvs_decap_read(o->pin_dir, o->ifname, st, tmp, sizeof(tmp));
		if (!err && st->attached) {
			snprintf(msg, size,
				 "%s is already attached to %s (prog id %u); detach it first: "
				 "xlvs decap detach dev %s",
				 PROG_NAME, o->ifname, st->prog_id, o->ifname);
			free(st);
			return -EEXIST;
		}
		free(st);
		/* Pins of an attachment that is gone (interface recreated, xdp off): start afresh. */
		log_info("%s: removing stale pins in %s", o->ifname, dir);
		err = xlvs_decap_detach(o->pin_dir, o->ifname, msg, size);
		if (err)
			return err;
	}
	err = check_free(o->ifname, a.ifindex, a.libxdp_on, msg, size);
	if (err)
		return err;
	err = xlvs_bpffs_prepare_msg(dir, NULL, msg, size);
	if (err)
		return err;
	err = do_attach(&a, msg, size);
	if (err)
		unpin_all(o->pin_dir, dir, tmp, sizeof(tmp));
	return err;
}

/* ---- detach ------------------------------------------------------------------------- */

int xlvs_decap_detach(const char *pin_dir, const char *ifname, char *msg, size_t size)
{
	struct xlvs_decap_status *st;
	char dir[PATH_MAX];
	int err, fd;

	err = attached_dir(pin_dir, ifname, dir, sizeof(dir), msg, size);
	if (err)
		return err;
	fd = pin_open(dir, XLVS_DECAP_LINK_PIN);
	if (fd >= 0) {
		/* Detach now even if another process holds the link open; unpinning does the rest. */
		if (bpf_link_detach(fd))
			log_debug("%s: bpf_link_detach: %s", ifname, strerror(errno));
		close(fd);
	} else {
		/* No link: inside libxdp's dispatcher, if anywhere. */
		st = calloc(1, sizeof(*st));
		if (!st) {
			snprintf(msg, size, "out of memory");
			return -ENOMEM;
		}
		err = xlvs_decap_read(pin_dir, ifname, st, msg, size);
		if (!err && st->attached && !strcmp(st->method, "libxdp")) {
			struct xdp_program *xp = xdp_program__from_id(st->prog_id);

			err = libxdp_get_error(xp);
			if (!err) {
				err = xdp_program__detach(xp, st->ifindex,
							  st->mode == XLVS_XDP_GENERIC ? XDP_MODE_SKB
										       : XDP_MODE_NATIVE,
							  0);
				xdp_program__close(xp);
			}
			if (err) {
				snprintf(msg, size, "cannot detach %s from %s (libxdp): %s", PROG_NAME,
					 ifname, strerror(-err));
				free(st);
				return err;
			}
		}
		free(st);
	}
	return unpin_all(pin_dir, dir, msg, size);
}

/* ---- sync ---------------------------------------------------------------------------- */

int xlvs_decap_sync(const char *pin_dir, const char *ifname, size_t *nr, char *msg, size_t size)
{
	enum xlvs_decap_addrs src;
	struct xlvs_decap_cfg cfg;
	char dir[PATH_MAX];
	int afd = -1, cfd = -1, err, ifindex;
	uint32_t zero = 0;

	err = attached_dir(pin_dir, ifname, dir, sizeof(dir), msg, size);
	if (err)
		return err;
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		snprintf(msg, size, "interface %s does not exist", ifname);
		return -ENODEV;
	}
	afd = pin_open(dir, ADDRS_MAP);
	cfd = pin_open(dir, CFG_MAP);
	if (afd < 0 || cfd < 0) {
		err = afd < 0 ? afd : cfd;
		snprintf(msg, size, "cannot open the maps pinned in %s: %s", dir, strerror(-err));
		goto out;
	}
	if (bpf_map_lookup_elem(cfd, &zero, &cfg)) {
		err = -errno;
		snprintf(msg, size, "cannot read %s: %s", CFG_MAP, strerror(errno));
		goto out;
	}
	src = addrs_of(dir, &cfg);
	err = write_addrs(afd, cfd, src, ifindex, nr, msg, size);
out:
	if (afd >= 0)
		close(afd);
	if (cfd >= 0)
		close(cfd);
	return err;
}

/* ---- status --------------------------------------------------------------------------- */

static void read_addrs(int fd, struct xlvs_decap_status *st)
{
	struct xlvs_vip_key k, next;
	int err = bpf_map_get_next_key(fd, NULL, &next);

	while (!err && st->nr_addrs < XLVS_DECAP_MAX_ADDRS) {
		struct xlvs_addr *a = &st->addr[st->nr_addrs++];

		memset(a, 0, sizeof(*a));
		a->family = next.family;
		memcpy(a->be, next.addr, sizeof(a->be));
		k = next;
		err = bpf_map_get_next_key(fd, &k, &next);
	}
	qsort(st->addr, st->nr_addrs, sizeof(st->addr[0]), addr_cmp);
}

static int read_counters(int fd, struct xlvs_decap_status *st)
{
	int ncpus = libbpf_num_possible_cpus(), c, i;
	uint64_t *vals;
	uint32_t key;

	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	vals = calloc((size_t)ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (c = 0; c < XLVS_DECAP_MAX; c++) {
		key = (uint32_t)c;
		if (bpf_map_lookup_elem(fd, &key, vals)) {
			free(vals);
			return -errno;
		}
		for (i = 0; i < ncpus; i++)
			st->counters[c] += vals[i];
	}
	free(vals);
	return 0;
}

/* The maps: gue port, flags, addresses, counters. */
static int read_maps(const char *dir, struct xlvs_decap_status *st, char *msg, size_t size)
{
	struct xlvs_decap_bpf__rodata ro;
	struct xlvs_decap_cfg cfg;
	const char *what;
	uint32_t zero = 0;
	int fd, err;

	what = XLVS_DECAP_RODATA_PIN;
	err = pin_lookup(dir, what, &zero, &ro);
	if (!err) {
		st->gue_port = ro.gue_port;
		what = CFG_MAP;
		err = pin_lookup(dir, what, &zero, &cfg);
	}
	if (!err) {
		st->addrs = addrs_of(dir, &cfg);
		what = ADDRS_MAP;
		fd = err = pin_open(dir, what);
		if (fd >= 0) {
			read_addrs(fd, st);
			close(fd);
			err = 0;
		}
	}
	if (!err) {
		what = STATS_MAP;
		fd = pin_open(dir, what);
		err = fd < 0 ? fd : read_counters(fd, st);
		if (fd >= 0)
			close(fd);
	}
	if (err)
		snprintf(msg, size, "cannot read %s/%s: %s", dir, what, strerror(-err));
	return err;
}

int xlvs_decap_read(const char *pin_dir, const char *ifname, struct xlvs_decap_status *st, char *msg,
		    size_t size)
{
	struct bpf_prog_info pi;
	struct bpf_link_info li;
	int fd, err;

	memset(st, 0, sizeof(*st));
	err = attached_dir(pin_dir, ifname, st->dir, sizeof(st->dir), msg, size);
	if (err != -EINVAL) {
		snprintf(st->ifname, sizeof(st->ifname), "%s", ifname);
		st->method = "bpf_link";
	}
	if (err)
		return err;
	fd = pin_open(st->dir, XLVS_DECAP_PROG_PIN);
	err = fd < 0 ? fd : xlvs_obj_info(fd, &pi, sizeof(pi));
	if (fd >= 0)
		close(fd);
	if (err) {
		snprintf(msg, size, "cannot read %s/%s: %s", st->dir, XLVS_DECAP_PROG_PIN, strerror(-err));
		return err;
	}
	st->prog_id = pi.id;
	fd = pin_open(st->dir, XLVS_DECAP_LINK_PIN);
	if (fd >= 0) {
		if (!xlvs_obj_info(fd, &li, sizeof(li)) && li.type == BPF_LINK_TYPE_XDP) {
			st->link_id = li.id;
			st->ifindex = (int)li.xdp.ifindex; /* 0 once detached */
			st->mode = xlvs_xdp_attached_mode(st->ifindex, li.prog_id);
		}
		close(fd);
	} else {
		st->method = "libxdp";
		st->ifindex = (int)if_nametoindex(ifname);
		st->mode = dispatcher_mode(st->ifindex, st->prog_id);
	}
	st->attached = st->mode != XLVS_XDP_AUTO;
	if (!st->attached)
		st->ifindex = 0;
	return read_maps(st->dir, st, msg, size);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

int xlvs_decap_list(const char *pin_dir, char (**names)[IF_NAMESIZE])
{
	char root[PATH_MAX];
	struct dirent *de;
	size_t n = 0, cap = 0;
	void *grown;
	DIR *d;

	*names = NULL;
	if (decap_root(root, sizeof(root), pin_dir))
		return -ENAMETOOLONG;
	d = opendir(root);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			grown = realloc(*names, cap * sizeof(**names));
			if (!grown) {
				closedir(d);
				free(*names);
				*names = NULL;
				return -ENOMEM;
			}
			*names = grown;
		}
		if (!xlvs_pin_name_unescape((*names)[n], IF_NAMESIZE, de->d_name))
			n++;
	}
	closedir(d);
	qsort(*names, n, sizeof(**names), name_cmp);
	return (int)n;
}
