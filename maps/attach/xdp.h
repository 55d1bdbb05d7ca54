/* SPDX-License-Identifier: GPL-2.0 */
/*
 * XDP attachment helpers shared by the director (loader/dataplane/attach.c, xlvsd) and the
 * real-server decapsulator (decap.c, `xlvs decap`): the bpffs pin directory,
 * pin names for interfaces, XDP mode flags, and the libxdp attempt that falls
 * back when libxdp's multi-program dispatcher cannot load.
 *
 * The *_msg variants never print: they leave a message in the caller's
 * buffer, so that the CLI can report it in its own words.
 */
#ifndef XLVS_XDP_H
#define XLVS_XDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>
#include <xdp/libxdp.h>

#include "spec.h"

#define XLVS_BPFFS_ROOT "/sys/fs/bpf"

struct bpf_object;

const char *xlvs_xdp_mode_name(enum xlvs_xdp_mode mode); /* "native", "generic", "auto" */
__u32 xlvs_xdp_mode_flags(enum xlvs_xdp_mode mode);	 /* XDP_FLAGS_DRV_MODE / SKB_MODE */
/* The same for libxdp: XDP_MODE_SKB for generic, else XDP_MODE_NATIVE. */
enum xdp_attach_mode xlvs_xdp_libxdp_mode(enum xlvs_xdp_mode mode);

/* bpf_obj_get_info_by_fd() into a zeroed info of size bytes: 0 or -errno. */
int xlvs_obj_info(int fd, void *info, __u32 size);
/* The mode prog_id runs in on ifindex (netlink or bpf_link), or XLVS_XDP_AUTO if not there. */
enum xlvs_xdp_mode xlvs_xdp_attached_mode(int ifindex, uint32_t prog_id);

/*
 * Make sure pin_dir can hold pins: mount bpffs on /sys/fs/bpf if pin_dir is
 * below it and it is not one, create pin_dir and its parents (mode 0700).
 * Returns 0 or -errno with a message in msg. *mounted (may be NULL) tells
 * whether a bpffs was mounted now.
 */
int xlvs_bpffs_prepare_msg(const char *pin_dir, bool *mounted, char *msg, size_t size);

/*
 * An interface name as a bpffs file name: bpffs refuses names with a dot,
 * which interface names may hold (eth0.100). '%' -> "%25", '.' -> "%2e".
 */
void xlvs_pin_name_escape(char *buf, size_t size, const char *ifname);
/* The interface name of an escaped pin name; -EINVAL if it is not one. */
int xlvs_pin_name_unescape(char *out, size_t size, const char *esc);

/*
 * Attach obj's XDP program to ifindex through libxdp, which loads obj (an
 * object can be loaded once: after this, whatever the result, open a new one).
 *  0        it runs inside libxdp's multi-program dispatcher; *prog_id is its id
 *  -EAGAIN  the dispatcher is unusable (refused, or libxdp could only attach
 *           the program alone: that attachment is undone again); why says why
 *           and the caller attaches the program its own way
 *  other    libxdp failed for another reason (-errno)
 * Library messages during the attempt are demoted to debug (log.h capture).
 */
int xlvs_xdp_attach_libxdp(struct bpf_object *obj, int ifindex, enum xlvs_xdp_mode mode, uint32_t *prog_id,
			   char *why, size_t why_size);

#endif /* XLVS_XDP_H */
