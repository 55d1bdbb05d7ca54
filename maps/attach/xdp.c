// SPDX-License-Identifier: GPL-2.0
/* XDP attachment helpers shared by loader/dataplane/attach.c and decap.c; see xdp.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/if_link.h>
#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "log.h"
#include "xdp.h"

const char *xlvs_xdp_mode_name(enum xlvs_xdp_mode mode)
{
	switch (mode) {
	case XLVS_XDP_NATIVE:
		return "native";
	case XLVS_XDP_GENERIC:
		return "generic";
	default:
		return "auto";
	}
}

__u32 xlvs_xdp_mode_flags(enum xlvs_xdp_mode mode)
{
	return mode == XLVS_XDP_GENERIC ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
}

enum xdp_attach_mode xlvs_xdp_libxdp_mode(enum xlvs_xdp_mode mode)
{
	return mode == XLVS_XDP_GENERIC ? XDP_MODE_SKB : XDP_MODE_NATIVE;
}

int xlvs_obj_info(int fd, void *info, __u32 size)
{
	__u32 len = size;

	memset(info, 0, size);
	return bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

enum xlvs_xdp_mode xlvs_xdp_attached_mode(int ifindex, uint32_t prog_id)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (!ifindex || !prog_id || bpf_xdp_query(ifindex, 0, &q))
		return XLVS_XDP_AUTO;
	if (q.drv_prog_id == prog_id)
		return XLVS_XDP_NATIVE;
	if (q.skb_prog_id == prog_id)
		return XLVS_XDP_GENERIC;
	return XLVS_XDP_AUTO;
}

static const char *perm_hint(int err)
{
	return (err == -EACCES || err == -EPERM) && geteuid()
		       ? " (needs root: CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN)"
		       : "";
}

/* ---- bpffs and pin directories -------------------------------------------- */

static bool on_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	char *p, c;

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (p = buf + 1;; p++) {
		if (*p && *p != '/')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		if (!c)
			return 0;
		*p = c;
	}
}

/* Check before creating anything: the deepest existing part of path must be on bpffs. */
static bool ancestor_on_bpffs(const char *path)
{
	char buf[PATH_MAX], *slash;
	struct stat st;

	snprintf(buf, sizeof(buf), "%s", path);
	while (stat(buf, &st)) {
		slash = strrchr(buf, '/');
		if (!slash || slash == buf)
			return on_bpffs("/");
		*slash = '\0';
	}
	return on_bpffs(buf);
}

int xlvs_bpffs_prepare_msg(const char *pin_dir, bool *mounted, char *msg, size_t size)
{
	size_t root_len = strlen(XLVS_BPFFS_ROOT);
	int err;

	if (mounted)
		*mounted = false;
	if (pin_dir[0] != '/') {
		snprintf(msg, size, "pin directory %s: must be an absolute path", pin_dir);
		return -EINVAL;
	}
	if (!strncmp(pin_dir, XLVS_BPFFS_ROOT, root_len) &&
	    (pin_dir[root_len] == '/' || !pin_dir[root_len]) && !on_bpffs(XLVS_BPFFS_ROOT)) {
		if (mount("bpf", XLVS_BPFFS_ROOT, "bpf", 0, "mode=0700")) {
			err = -errno;
			snprintf(msg, size, "%s is not a bpffs and mounting one failed: %s%s",
				 XLVS_BPFFS_ROOT, strerror(-err), perm_hint(err));
			return err;
		}
		if (mounted)
			*mounted = true;
	}
	if (!ancestor_on_bpffs(pin_dir)) {
		snprintf(msg, size, "pin directory %s is not on a bpffs (mount -t bpf bpf DIR)", pin_dir);
		return -ENOTSUP;
	}
	err = mkdir_p(pin_dir, 0700);
	if (err) {
		snprintf(msg, size, "cannot create pin directory %s: %s%s", pin_dir, strerror(-err),
			 perm_hint(err));
		return err;
	}
	if (!on_bpffs(pin_dir)) {
		snprintf(msg, size, "pin directory %s is not on a bpffs (mount -t bpf bpf DIR)", pin_dir);
		return -ENOTSUP;
	}
	return 0;
}

void xlvs_pin_name_escape(char *buf, size_t size, const char *ifname)
{
	char *e = buf;

	for (; *ifname && e + 4 <= buf + size; ifname++) {
		if (*ifname == '%' || *ifname == '.')
			e += sprintf(e, "%%%02x", (unsigned char)*ifname);
		else
			*e++ = *ifname;
	}
	*e = '\0';
}

int xlvs_pin_name_unescape(char *out, size_t size, const char *esc)
{
	size_t n = 0;
	unsigned int c;

	for (; *esc; esc++) {
		if (*esc == '%') {
			if (sscanf(esc + 1, "%2x", &c) != 1 || (c != '%' && c != '.'))
				return -EINVAL;
			esc += 2;
		} else {
			c = (unsigned char)*esc;
		}
		if (n + 1 >= size)
			return -EINVAL;
		out[n++] = c;
	}
	out[n] = '\0';
	return n ? 0 : -EINVAL;
}

/* ---- libxdp first ------------------------------------------------------------ */

int xlvs_xdp_attach_libxdp(struct bpf_object *obj, int ifindex, enum xlvs_xdp_mode mode, uint32_t *prog_id,
			   char *why, size_t why_size)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct xdp_program *xp;
	uint32_t running;
	int err;

	why[0] = '\0';
	xp = xdp_program__from_bpf_obj(obj, NULL);
	err = libxdp_get_error(xp);
	if (err)
		return err;
	xlvs_log_capture_begin(why, why_size);
	err = xdp_program__attach(xp, ifindex, xlvs_xdp_libxdp_mode(mode), 0);
	xlvs_log_capture_end();
	if (err) {
		log_debug("ifindex %d: libxdp attach (%s) failed: %s", ifindex, xlvs_xdp_mode_name(mode),
			  strerror(-err));
		/* It may fail after finding the dispatcher unusable. */
		if (strstr(why, "dispatcher"))
			err = -EAGAIN;
		goto out;
	}
	/*
	 * Inside the dispatcher the interface runs xdp_dispatcher, not our
	 * program. (Not asked through xdp_multiprog__get_from_ifindex(): for a
	 * single program libxdp 1.3.1 leaks a program fd on every call, which
	 * would keep that copy of the program and its maps alive in this process.)
	 */
	running = 0;
	if (!bpf_xdp_query(ifindex, 0, &q))
		running = mode == XLVS_XDP_GENERIC ? q.skb_prog_id : q.drv_prog_id;
	if (running && running != xdp_program__id(xp)) {
		*prog_id = xdp_program__id(xp);
		goto out;
	}
	if (!why[0])
		snprintf(why, why_size, "libxdp attached the program alone, without its dispatcher");
	opts.old_prog_fd = xdp_program__fd(xp);
	if (bpf_xdp_detach(ifindex, xlvs_xdp_mode_flags(mode), &opts))
		log_warn("ifindex %d: cannot undo libxdp's netlink attachment: %s", ifindex, strerror(errno));
	err = -EAGAIN;
out:
	xdp_program__close(xp); /* the object is the caller's: libxdp leaves it open */
	return err;
}
