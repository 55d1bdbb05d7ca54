/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daemon's event loop is libev (one loop, one thread). Why libev rather
 * than the epoll loop it replaced: the health checkers need many timers (one
 * per check, jittered) and libcurl's multi interface, whose socket and timer
 * callbacks map one to one onto ev_io and ev_timer; libev keeps those timers
 * in a heap, so 1,000 checks cost no more than a handful. Driving libev from
 * an outer epoll would need libev's next timeout, which it does not expose.
 *
 * Watchers of file descriptors keep the epoll vocabulary they were written
 * with: every watched fd has a struct xlvsd_ev, registered with the EPOLLIN /
 * EPOLLOUT / EPOLLRDHUP bits it wants, and its callback gets EPOLLIN (read
 * ready; a hang-up also reads as ready) and/or EPOLLOUT.
 */
#ifndef XLVSD_EVENT_H
#define XLVSD_EVENT_H

#include <stdint.h>
#include <sys/epoll.h>

#include <ev.h>

struct xlvsd_ev {
	ev_io io;
	int fd;
	void (*fn)(struct xlvsd_ev *ev, uint32_t events);
};

static inline void xlvsd_ev_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct xlvsd_ev *ev = (struct xlvsd_ev *)((char *)w - __builtin_offsetof(struct xlvsd_ev, io));
	uint32_t e = (revents & EV_READ ? EPOLLIN : 0) | (revents & EV_WRITE ? EPOLLOUT : 0) |
		     (revents & EV_ERROR ? EPOLLERR : 0);

	ev->fn(ev, e);
}

/* op: EPOLL_CTL_ADD, EPOLL_CTL_MOD or EPOLL_CTL_DEL; returns 0. */
static inline int xlvsd_ev_ctl(struct ev_loop *loop, int op, struct xlvsd_ev *ev, uint32_t events)
{
	int want = (events & (EPOLLIN | EPOLLRDHUP) ? EV_READ : 0) | (events & EPOLLOUT ? EV_WRITE : 0);

	if (op != EPOLL_CTL_ADD)
		ev_io_stop(loop, &ev->io);
	if (op == EPOLL_CTL_DEL)
		return 0;
	ev_io_init(&ev->io, xlvsd_ev_cb, ev->fd, want);
	ev_io_start(loop, &ev->io);
	return 0;
}

#endif /* XLVSD_EVENT_H */
