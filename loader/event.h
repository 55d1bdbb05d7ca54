/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daemon's epoll loop dispatches on this: every watched fd has one, and
 * epoll_event.data.ptr points to it.
 */
#ifndef XLVSD_EVENT_H
#define XLVSD_EVENT_H

#include <stdint.h>
#include <sys/epoll.h>

struct xlvsd_ev {
	int fd;
	void (*fn)(struct xlvsd_ev *ev, uint32_t events);
};

static inline int xlvsd_ev_ctl(int epfd, int op, struct xlvsd_ev *ev, uint32_t events)
{
	struct epoll_event e = { .events = events, .data.ptr = ev };

	return epoll_ctl(epfd, op, ev->fd, &e);
}

#endif /* XLVSD_EVENT_H */
