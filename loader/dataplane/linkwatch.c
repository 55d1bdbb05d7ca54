// SPDX-License-Identifier: GPL-2.0
/*
 * Link events (see linkwatch.h). A socket of its own rather than the next-hop
 * resolver's: that one only marks its state dirty and re-syncs later, while a
 * deleted or re-created interface must be acted on at once, and an overrun
 * here must make the daemon look at its interfaces again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "linkwatch.h"

#define LW_BUF_SIZE 32768 /* larger than any datagram the kernel sends */
#define LW_BATCH    64	  /* datagrams read per process call: the loop stays responsive */

struct xlvs_lw {
	struct mnl_socket *nl;
	xlvs_lw_fn fn;
	void *ctx;
	char *buf;
};

static int name_cb(const struct nlattr *a, void *data)
{
	struct xlvs_link_ev *ev = data;

	if (mnl_attr_get_type(a) == IFLA_IFNAME && !mnl_attr_validate(a, MNL_TYPE_NUL_STRING))
		snprintf(ev->name, sizeof(ev->name), "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

bool xlvs_lw_parse(const struct nlmsghdr *nlh, struct xlvs_link_ev *ev)
{
	const struct ifinfomsg *ifi;

	memset(ev, 0, sizeof(*ev));
	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return false;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return false;
	ifi = mnl_nlmsg_get_payload(nlh);
	ev->type = nlh->nlmsg_type == RTM_NEWLINK ? XLVS_LINK_NEW : XLVS_LINK_DEL;
	ev->ifindex = ifi->ifi_index;
	return mnl_attr_parse(nlh, sizeof(*ifi), name_cb, ev) >= 0 && ev->ifindex > 0;
}

static int ev_cb(const struct nlmsghdr *nlh, void *data)
{
	struct xlvs_lw *lw = data;
	struct xlvs_link_ev ev;

	if (xlvs_lw_parse(nlh, &ev))
		lw->fn(lw->ctx, &ev);
	return MNL_CB_OK;
}

static void lost(struct xlvs_lw *lw)
{
	struct xlvs_link_ev ev = { .type = XLVS_LINK_LOST };

	lw->fn(lw->ctx, &ev);
}

int xlvs_lw_process(struct xlvs_lw *lw)
{
	int fd = mnl_socket_get_fd(lw->nl), i;
	ssize_t n;

	for (i = 0; i < LW_BATCH; i++) {
		n = recv(fd, lw->buf, LW_BUF_SIZE, MSG_DONTWAIT);
		if (n > 0) {
			if (mnl_cb_run(lw->buf, (size_t)n, 0, 0, ev_cb, lw) < 0)
				lost(lw); /* unparsable: as if it was lost */
			continue;
		}
		if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno == ENOBUFS)
			lost(lw);
		else if (errno != EINTR)
			return -errno;
	}
	return 0;
}

int xlvs_lw_open(struct xlvs_lw **out, xlvs_lw_fn fn, void *ctx)
{
	unsigned int group = RTNLGRP_LINK;
	struct xlvs_lw *lw;
	int err = 0;

	*out = NULL;
	lw = calloc(1, sizeof(*lw));
	if (!lw)
		return -ENOMEM;
	lw->fn = fn;
	lw->ctx = ctx;
	lw->buf = malloc(LW_BUF_SIZE);
	lw->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!lw->buf || !lw->nl || mnl_socket_bind(lw->nl, 0, MNL_SOCKET_AUTOPID) ||
	    mnl_socket_setsockopt(lw->nl, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)))
		err = errno ? -errno : -ENOMEM;
	if (err) {
		xlvs_lw_close(lw);
		return err;
	}
	*out = lw;
	return 0;
}

int xlvs_lw_fd(const struct xlvs_lw *lw)
{
	return mnl_socket_get_fd(lw->nl);
}

void xlvs_lw_close(struct xlvs_lw *lw)
{
	if (!lw)
		return;
	if (lw->nl)
		mnl_socket_close(lw->nl);
	free(lw->buf);
	free(lw);
}
