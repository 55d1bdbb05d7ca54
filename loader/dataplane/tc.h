/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tc egress program (bpf/xlvs_tc.bpf.c) on the director's interfaces:
 * health checks through the forwarding path (docs/health.md). Loaded on the
 * pinned maps of the director, attached where xlvs_lb is:
 *   tcx (Linux 6.6+)  a bpf_link pinned as tclink_<ifname> under the pin
 *                     directory, swapped to a new program atomically on restart
 *   clsact (older)    a direct-action filter (handle XLVS_TC_HANDLE, priority
 *                     XLVS_TC_PRIO) on the egress hook, replaced in place
 * Both outlive xlvsd, as the XDP attachment does, and go with --detach.
 */
#ifndef XLVS_TC_H
#define XLVS_TC_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>

#define XLVS_TC_PROG_PIN	"prog_xlvs_tc"
#define XLVS_TC_LINK_PIN_PREFIX "tclink_"
#define XLVS_TC_HANDLE		0x584c /* "XL" */
#define XLVS_TC_PRIO		0x584c
#define XLVS_TC_MAX_IFACES	8

enum xlvs_tc_method {
	XLVS_TC_NONE,
	XLVS_TC_TCX,
	XLVS_TC_CLSACT,
};

struct xlvs_tc_iface {
	char name[IF_NAMESIZE];
	int ifindex;
	enum xlvs_tc_method method;
};

struct xlvs_tc {
	char pin_dir[PATH_MAX / 2];
	int prog_fd; /* -1: not loaded (steering unavailable) */
	unsigned int nr_ifaces;
	struct xlvs_tc_iface ifaces[XLVS_TC_MAX_IFACES];
};

const char *xlvs_tc_method_name(enum xlvs_tc_method m);

/* Load the program on the maps pinned in pin_dir and pin it. 0 or -errno (logged). */
int xlvs_tc_load(struct xlvs_tc *tc, const char *pin_dir);
void xlvs_tc_close(struct xlvs_tc *tc);

/*
 * Attach to ifname (tcx, else clsact), or point what an earlier xlvsd left
 * there at this program. 1 attached now, 0 already attached by this xlvsd,
 * -errno (logged).
 */
int xlvs_tc_attach(struct xlvs_tc *tc, const char *ifname);
/* Detach from ifname (its tcx link pin, or our clsact filter); 0 if nothing was attached. */
int xlvs_tc_detach(struct xlvs_tc *tc, const char *ifname);
/* Whether some interface runs it. */
bool xlvs_tc_active(const struct xlvs_tc *tc);

/*
 * `xlvsd --detach`: every tclink_* pin in pin_dir detached and removed, our
 * clsact filter removed from ifindex (when not 0), the program pin removed.
 */
int xlvs_tc_remove_links(const char *pin_dir);
void xlvs_tc_remove_filter(int ifindex);

#endif /* XLVS_TC_H */
