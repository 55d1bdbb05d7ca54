/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Next-hop resolution for reals over rtnetlink: the daemon writes each ACTIVE
 * real's next-hop MAC, our MAC and the egress ifindex into xlvs_reals and sets
 * XLVS_REAL_F_NH_VALID, so the XDP fast path needs no bpf_fib_lookup(). An
 * unresolved real has NH_VALID cleared (the data path then uses the FIB) and
 * its neighbour resolution is started.
 *
 * Single-threaded: every call comes from the daemon's event loop.
 */
#ifndef XLVS_NEXTHOP_H
#define XLVS_NEXTHOP_H

#include <stdbool.h>
#include <stdint.h>

struct xlvs_addr;
struct xlvs_maps;
struct xlvs_nh;

/* Opens an event socket (neighbour, link, IPv4/IPv6 route groups) and a request socket. */
int xlvs_nh_open(struct xlvs_nh **nh, struct xlvs_maps *m);
/*
 * Pollable fd for the daemon's epoll (level-triggered EPOLLIN): an epoll fd
 * over the event socket and a timerfd, readable when netlink events are
 * pending or a deferred (rate-limited or periodic) re-sync is due. Call
 * xlvs_nh_process() whenever it is readable.
 */
int xlvs_nh_fd(struct xlvs_nh *nh);
/* Resolve every ACTIVE real now (call after each apply). 0 or -errno. */
int xlvs_nh_sync(struct xlvs_nh *nh);
/* Read pending events; re-sync when a used neighbour, route or link changed. 0 or -errno. */
int xlvs_nh_process(struct xlvs_nh *nh);
/*
 * Did a sync since the last call follow route events (or lost ones, or a link going down, up or
 * away, a nexthop object or a policy rule: no route event says what they move)? Published at the syncs'
 * pace, so a storm of route events asks at most once per sync. Cleared by the call.
 */
bool xlvs_nh_routes_moved(struct xlvs_nh *nh);
void xlvs_nh_close(struct xlvs_nh *nh);
/* The kernel's route to dst for a socket with this mark: type (RTN_*) and egress ifindex. 0 or -errno. */
int xlvs_nh_route(struct xlvs_nh *nh, const struct xlvs_addr *dst, uint32_t mark, uint8_t *type,
		  uint32_t *oif);
/*
 * Every egress ifindex of that route (up to max in oifs): one, or each leg of a multipath route,
 * where xlvs_nh_route() says the leg a hash of no ports and no source picked, and a check's
 * connection may take another. Their number or -errno.
 */
int xlvs_nh_route_legs(struct xlvs_nh *nh, const struct xlvs_addr *dst, uint32_t mark, uint32_t *oifs,
		       unsigned int max);

/* For tests and status: what the last sync found. */
struct xlvs_nh_stats {
	unsigned int reals;	/* ACTIVE reals seen */
	unsigned int valid;	/* of those, with a resolved next hop */
	unsigned int triggered; /* neighbour resolutions started */
	unsigned int deferred;	/* IPv6 ones held back: no usable link-local address yet */
	unsigned int written;	/* reals whose entry changed */
	unsigned int syncs;	/* syncs since open */
};
void xlvs_nh_stats(struct xlvs_nh *nh, struct xlvs_nh_stats *st);

#endif /* XLVS_NEXTHOP_H */
