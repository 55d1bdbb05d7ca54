/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Link events over rtnetlink (RTNLGRP_LINK, libmnl): the daemon learns that
 * an interface it runs on was deleted, and that one of the configured name
 * appeared (again), so it can attach to it without a restart. Single
 * threaded: every call comes from the daemon's event loop.
 */
#ifndef XLVS_LINKWATCH_H
#define XLVS_LINKWATCH_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

struct nlmsghdr;
struct xlvs_lw;

enum xlvs_link_ev_type {
	XLVS_LINK_NEW, /* RTM_NEWLINK: created, or any change of an existing link */
	XLVS_LINK_DEL, /* RTM_DELLINK: deleted (or moved to another namespace) */
	XLVS_LINK_LOST /* events were lost (socket overrun): look at every interface again */
};

struct xlvs_link_ev {
	enum xlvs_link_ev_type type;
	int ifindex;
	char name[IF_NAMESIZE]; /* "" when the message carried none */
};

typedef void (*xlvs_lw_fn)(void *ctx, const struct xlvs_link_ev *ev);

/* A non-blocking event socket subscribed to link events. 0 or -errno. */
int xlvs_lw_open(struct xlvs_lw **lw, xlvs_lw_fn fn, void *ctx);
int xlvs_lw_fd(const struct xlvs_lw *lw);
/* Read what is pending and call fn for each link event. 0 or -errno. */
int xlvs_lw_process(struct xlvs_lw *lw);
void xlvs_lw_close(struct xlvs_lw *lw);

/* One netlink message to an event; false if it is not a well-formed link message. */
bool xlvs_lw_parse(const struct nlmsghdr *nlh, struct xlvs_link_ev *ev);

#endif /* XLVS_LINKWATCH_H */
