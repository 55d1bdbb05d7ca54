/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The director's program and where it is attached: load through the skeleton
 * (maps pinned by name under the pin directory and reused when already
 * there), pin the program, attach it to interfaces, adopt what an earlier
 * xlvsd left attached, swap the program atomically on upgrade, and remove it
 * all for `xlvsd --detach`.
 *
 * Pin layout (pin_dir, /sys/fs/bpf/xlvs by default):
 *   xlvs_*            the maps (LIBBPF_PIN_BY_NAME)
 *   prog_xlvs_lb      the program the interfaces run
 *   link_<ifname>     one bpf_link per interface (the fallback when libxdp's
 *                     dispatcher cannot load; it is what this machine gets)
 * Attachments made by libxdp's dispatcher are pinned by libxdp under
 * /sys/fs/bpf/xdp/; older netlink attachments are found by program.
 */
#ifndef XLVS_ATTACH_H
#define XLVS_ATTACH_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "spec.h"
#include "attach/xdp.h"

#define XLVS_PROG_PIN	     "prog_xlvs_lb"
#define XLVS_LINK_PIN_PREFIX "link_"
#define XLVS_DP_MAX_IFACES   64 /* attachments tracked (config allows 8) */
#define XLVS_DP_MAX_MAPS     32

enum xlvs_attach_method {
	XLVS_ATTACH_LINK,    /* pinned bpf_link: link_<ifname> */
	XLVS_ATTACH_NETLINK, /* plain netlink attachment, adopted from an earlier loader */
	XLVS_ATTACH_LIBXDP,  /* component of libxdp's multi-program dispatcher */
};

struct xlvs_iface {
	char name[IF_NAMESIZE];
	int ifindex;
	enum xlvs_xdp_mode mode; /* XLVS_XDP_NATIVE or XLVS_XDP_GENERIC: what it got */
	enum xlvs_attach_method method;
	uint32_t prog_id; /* the program attached there */
	bool adopted;	  /* found attached when xlvsd started */
};

struct xlvs_dp {
	char pin_dir[PATH_MAX / 2];
	int lock_fd; /* flock on pin_dir: one xlvsd per pin directory */
	int prog_fd; /* the program interfaces run (prog_xlvs_lb) */
	uint32_t prog_id;
	uint8_t prog_tag[8];
	uint32_t conn_entries; /* max_entries of xlvs_conns as loaded */
	uint32_t ring_slots;   /* slots of xlvs_ring as loaded (its blocks x XLVS_RING_BLOCK) */
	bool created;	       /* nothing of xlvs was pinned: this open created it all */
	uint32_t map_ids[XLVS_DP_MAX_MAPS];
	unsigned int nr_map_ids;
	bool libxdp_off; /* dispatcher known unusable: go straight to bpf_link */
	char libxdp_reason[256];
	unsigned int nr_ifaces;
	struct xlvs_iface ifaces[XLVS_DP_MAX_IFACES];
};

const char *xlvs_attach_method_name(enum xlvs_attach_method method);

/*
 * Make sure pin_dir can hold pins: mount bpffs on /sys/fs/bpf if needed,
 * create pin_dir (mode 0700). Logs the reason and returns -errno on failure.
 */
int xlvs_bpffs_prepare(const char *pin_dir);

/*
 * Lock pin_dir, load the program (maps reused from the pins), adopt the
 * pinned program if it is the same code or swap every attachment to the new
 * one (atomically), and record every attachment found (links pinned in
 * pin_dir, or programs on this namespace's interfaces that use our maps).
 * conn_entries sizes xlvs_conns and ring_slots xlvs_ring when they are
 * created (0 = the object's size); pinned maps keep their sizes.
 * Returns 0, -EBUSY (another xlvsd holds pin_dir) or another -errno; logs.
 * On failure, what it pinned is removed again.
 */
int xlvs_dp_open(struct xlvs_dp *dp, const char *pin_dir, uint32_t conn_entries, uint32_t ring_slots);
/*
 * Warns when the pinned table at path (xlvs_conns, xlvs_nat), of have entries, is not what
 * conn_table_size want makes on ncpus possible CPUs (xlvs_conns_entries()): it keeps its size.
 * Said alike by the start, a reload and xlvsd --check.
 */
void xlvs_note_conn_table_size(const char *path, uint32_t want, uint32_t have, int ncpus);
/* Close file descriptors; everything stays attached and pinned. */
void xlvs_dp_close(struct xlvs_dp *dp);

struct xlvs_iface *xlvs_dp_find(struct xlvs_dp *dp, const char *ifname);
/*
 * Attach to ifname unless attached already (then only the mode is checked).
 * Returns 1 if it attached now, 0 if it was attached, or -errno (logged).
 */
int xlvs_dp_attach(struct xlvs_dp *dp, const char *ifname, enum xlvs_xdp_mode mode);
/* Detach from ifname and forget it; 0 if it was not attached. */
int xlvs_dp_detach(struct xlvs_dp *dp, const char *ifname);
/*
 * The interface ifindex was deleted: forget its attachment (a link pin of a
 * dead link is removed). name gets the interface's name. True if it was ours.
 */
bool xlvs_dp_forget(struct xlvs_dp *dp, int ifindex, char name[IF_NAMESIZE]);

/*
 * Undo a start that created the data path (dp->created) and then failed:
 * detach from dp's interfaces, unpin program, links and maps, remove pin_dir.
 * dp must hold the lock (opened); it stays open (xlvs_dp_close closes it).
 */
int xlvs_dp_remove(struct xlvs_dp *dp);

/*
 * `xlvsd --detach`: detach every attachment of the program pinned in pin_dir,
 * unpin program, links and maps, remove pin_dir. 0 when nothing was pinned.
 */
int xlvs_dp_remove_all(const char *pin_dir);

#endif /* XLVS_ATTACH_H */
