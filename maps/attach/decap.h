/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The real-server decapsulator (bpf/xlvs_decap.bpf.c) on an interface:
 * attach, detach, re-read the host's addresses, and read back its state.
 * Used by `xlvs decap`; everything lives in pins, no daemon is involved.
 *
 * Pin layout, one directory per interface (PIN_DIR is /sys/fs/bpf/xlvs by
 * default; the interface name escaped as in xdp.h):
 *   PIN_DIR/decap/IF/prog_xlvs_decap    the program
 *   PIN_DIR/decap/IF/link               its bpf_link on IF (the fallback used
 *                                       when libxdp's dispatcher cannot load;
 *                                       inside the dispatcher libxdp pins under
 *                                       /sys/fs/bpf/xdp/ and there is no link pin)
 *   PIN_DIR/decap/IF/rodata             the program's .rodata (gue_port)
 *   PIN_DIR/decap/IF/addrs              symlink to the addrs choice ("dev", "host", "any")
 *   PIN_DIR/decap/IF/xlvs_decap_addrs   local tunnel endpoints
 *   PIN_DIR/decap/IF/xlvs_decap_cfg     flags
 *   PIN_DIR/decap/IF/xlvs_decap_stats   per-CPU counters
 *
 * Functions return 0 or -errno and never print: a failure leaves a message
 * in msg. -ENODEV: no such interface; -EEXIST: already attached; -ENOENT:
 * not attached; -EBUSY: another XDP program holds the interface.
 */
#ifndef XLVS_DECAP_H
#define XLVS_DECAP_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xlvs/abi.h>

#include "spec.h"
#include "xdp.h"

#define XLVS_DECAP_SUBDIR     "decap"
#define XLVS_DECAP_PROG_PIN   "prog_xlvs_decap"
#define XLVS_DECAP_LINK_PIN   "link"
#define XLVS_DECAP_RODATA_PIN "rodata"
#define XLVS_DECAP_ADDRS_PIN  "addrs" /* symlink to "dev", "host" or "any": what attach chose */

/* Which local addresses are tunnel endpoints (outer destinations decapsulated). */
enum xlvs_decap_addrs {
	XLVS_DECAP_ADDRS_DEV,  /* the addresses of the interface itself (default) */
	XLVS_DECAP_ADDRS_HOST, /* every address of the network namespace (as the kernel's ipip) */
	XLVS_DECAP_ADDRS_ANY,  /* no check: every tunnel packet is decapsulated */
};

struct xlvs_decap_opts {
	const char *pin_dir; /* the xlvs pin directory; pins go to PIN_DIR/decap/IF */
	const char *ifname;
	uint16_t gue_port;	 /* host order; 0 = XLVS_GUE_PORT_DEFAULT */
	enum xlvs_xdp_mode mode; /* XLVS_XDP_AUTO: native, else generic */
	enum xlvs_decap_addrs addrs;
};

struct xlvs_decap_status {
	char ifname[IF_NAMESIZE];
	char dir[PATH_MAX];	   /* its pin directory */
	int ifindex;		   /* where it is attached; 0 when not */
	bool attached;		   /* the program runs on the interface now */
	enum xlvs_xdp_mode mode;   /* when attached */
	const char *method;	   /* "bpf_link" or "libxdp" */
	uint32_t prog_id, link_id; /* link_id 0 inside libxdp's dispatcher */
	uint16_t gue_port;
	enum xlvs_decap_addrs addrs;
	size_t nr_addrs;
	struct xlvs_addr addr[XLVS_DECAP_MAX_ADDRS]; /* sorted: IPv4 first */
	uint64_t counters[XLVS_DECAP_MAX];	     /* summed over CPUs */
};

const char *xlvs_decap_addrs_name(enum xlvs_decap_addrs a); /* "dev", "host", "any" */

/* Load, fill the addresses, attach, pin. */
int xlvs_decap_attach(const struct xlvs_decap_opts *o, char *msg, size_t size);
/* Detach and remove every pin (also when the interface is gone). */
int xlvs_decap_detach(const char *pin_dir, const char *ifname, char *msg, size_t size);
/* Write the current local addresses into xlvs_decap_addrs; *nr: how many. */
int xlvs_decap_sync(const char *pin_dir, const char *ifname, size_t *nr, char *msg, size_t size);
/* Everything status shows. */
int xlvs_decap_read(const char *pin_dir, const char *ifname, struct xlvs_decap_status *st, char *msg,
		    size_t size);
/* Interfaces with a decap pin directory, sorted by name; count or -errno. free(*names). */
int xlvs_decap_list(const char *pin_dir, char (**names)[IF_NAMESIZE]);

#endif /* XLVS_DECAP_H */
