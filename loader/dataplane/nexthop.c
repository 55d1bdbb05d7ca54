// SPDX-License-Identifier: GPL-2.0
/*
 * Next-hop resolution for reals (see nexthop.h). For each ACTIVE real:
 *
 *   route  RTM_GETROUTE to the real's address: egress ifindex (RTA_OIF) and
 *          gateway (RTA_GATEWAY, or RTA_VIA for an IPv4 route via IPv6).
 *   nh     DR: the real itself, on that oif, whatever the route says (as IPVS
 *          does: a DR real shares our link). TUN/GUE: the gateway, or the real
 *          when the route is on-link.
 *   neigh  the nh on the oif in a dump of the ARP and ND tables; usable in
 *          REACHABLE, STALE, DELAY, PROBE, PERMANENT and NOARP.
 *   smac   the oif's own MAC (IFLA_ADDRESS).
 *
 * Starting resolution (verified on 6.18 in a private netns): RTM_NEWNEIGH
 * with ndm_flags = NTF_USE and NLM_F_CREATE creates a missing entry and calls
 * neigh_event_send() on it: the kernel sends the ARP request / neighbour
 * solicitation at once (INCOMPLETE, then REACHABLE or FAILED). It restarts a
 * FAILED entry too. Without NLM_F_CREATE a missing entry is -ENOENT. So no
 * probe datagram is needed. IPv6: a solicitation with no packet to take the
 * source from leaves only from a usable (not tentative) link-local address of
 * the oif, as for any resolution the kernel starts by itself. So while the
 * oif's link-local is tentative (DAD, ~1-2 s after it comes up) IPv6
 * resolutions are deferred, not started: a solicitation that cannot leave
 * would hold the entry INCOMPLETE until the next retransmit (1 s) and every
 * local packet to it, health checks included, with it. The sync runs again
 * after the event gap until DAD is done.
 * Beware: NTF_USE turns a PERMANENT entry into an INCOMPLETE one
 * (__neigh_update clears NUD_PERMANENT), so it is only ever sent for entries
 * that are missing, FAILED/NONE, or dynamic and valid.
 *
 * Keeping entries fresh: XDP traffic never confirms or "uses" a neighbour,
 * so the kernel would let our next hops go STALE and garbage-collect them
 * (gc_stale_time, 60 s by default). A periodic refresh sync sends NTF_USE for
 * dynamic entries in use, as the kernel's own output path would on every
 * packet: STALE ones get re-probed, and every one counts as recently used.
 *
 * Events: a neighbour event matters only for a next hop some real uses, and
 * only if it changes validity or the MAC; link events for an oif in use,
 * any route event, any link going down, up or away (IPv4 drops a downed
 * link's routes silently), any policy rule and nexthop object event mark the
 * state dirty. Dirty state re-syncs at most every
 * NH_MIN_GAP_NS (stretched when syncs are slow) through a timerfd that shares
 * an epoll fd with the event socket, so the daemon polls a single fd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if_arp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include <bpf/bpf.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "xlvsmaps.h"
#include "nexthop.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000 /* <linux/if.h> clashes with <net/if.h> */
#endif

#define NSEC_PER_MSEC 1000000ull
#define NSEC_PER_SEC  1000000000ull
#define NL_BUF_SIZE   32768		    /* larger than any dump part the kernel sends */
#define NL_REQ_SIZE   256		    /* one request with a couple of attributes */
#define NH_MIN_GAP_NS (100 * NSEC_PER_MSEC) /* between event-driven syncs */
#define NH_REFRESH_NS (15 * NSEC_PER_SEC)   /* well below gc_stale_time */
#define NH_EV_BATCH   256		    /* datagrams read per process call */
#define NUD_USABLE    (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP)
#define NUD_DYNAMIC   (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE)

/* A next hop: an address on an interface. Compared with memcmp: always zeroed first. */
struct nh_key {
	uint32_t ifindex;
	uint8_t family; /* AF_INET / AF_INET6 */
	uint8_t pad[3];
	uint8_t addr[16];
};

struct neigh {
	struct nh_key key;
	uint16_t state; /* NUD_* */
	bool has_mac;
	uint8_t mac[6];
};

struct link {
	uint32_t ifindex;
	bool usable; /* Ethernet, up, carrier */
	int8_t ll6;  /* usable IPv6 link-local address: 1 yes, 0 no, -1 not asked yet */
	uint8_t mac[6];
};

/* A next hop reals used at the last sync, and what its neighbour entry said. */
struct watch {
	struct nh_key key;
	bool nvalid; /* usable neighbour entry, with MAC nmac */
	bool use;    /* send NTF_USE at the end of the sync */
	uint8_t nmac[6];
};

/* What one real should carry. */
struct nh_res {
	struct nh_key key; /* family 0: no next hop at all */
	bool nvalid;	   /* the neighbour entry is usable, nmac is its MAC */
	bool valid;	   /* ... and so is the oif: mac/smac are set */
	bool trigger;	   /* start resolution */
	bool refresh;	   /* dynamic entry: keep it fresh on refresh syncs */
	uint8_t nmac[6], mac[6], smac[6];
};

struct xlvs_nh {
	struct xlvs_maps *m;
	struct mnl_socket *ev, *req;
	int epfd, tfd;
	uint32_t portid, seq;
	char *buf;
	struct xlvs_real *reals; /* snapshot, max_entries of xlvs_reals */
	uint32_t *keys;
	uint32_t nr_reals;
	struct neigh *neigh;
	size_t nr_neigh, cap_neigh;
	struct link *links;
	size_t nr_links, cap_links;
	struct watch *watch;
	size_t nr_watch, cap_watch;
	bool dirty;
	bool deferred;	   /* a resolution waits for a link-local address: sync again soon */
	bool routes_seen;  /* a route event since the last sync ... */
	bool routes_moved; /* ... published by a sync, for xlvs_nh_routes_moved() */
	uint64_t last_sync_ns, sync_cost_ns;
	struct xlvs_nh_stats st;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static int grow(void **arr, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 16;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = reallocarray(*arr, n, size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = n;
	return 0;
}

static size_t af_len(int af)
{
	return af == AF_INET ? 4 : af == AF_INET6 ? 16 : 0;
}

static bool mac_zero(const uint8_t *mac)
{
	static const uint8_t zero[6];

	return !memcmp(mac, zero, 6);
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct nh_key)); /* the key is each struct's first member */
}

/* ---- netlink requests ---- */

/* Drop replies left over from a request that failed half-way. */
static void req_drain(struct xlvs_nh *nh)
{
	while (recv(mnl_socket_get_fd(nh->req), nh->buf, NL_BUF_SIZE, MSG_DONTWAIT) > 0)
		;
}

/*
 * Send one request and feed every reply to cb: all parts of a dump, or the
 * answer and the ACK of a request sent with NLM_F_ACK. -errno on failure,
 * including the kernel's error for the request.
 */
static int nl_talk(struct xlvs_nh *nh, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	uint32_t seq = ++nh->seq ? nh->seq : ++nh->seq;
	ssize_t n;
	int ret;

	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(nh->req, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(nh->req, nh->buf, NL_BUF_SIZE);
		if (n < 0) {
			ret = -errno;
			req_drain(nh);
			return ret;
		}
		ret = mnl_cb_run(nh->buf, (size_t)n, seq, nh->portid, cb, data);
	} while (ret == MNL_CB_OK);
	if (ret < 0) {
		ret = errno ? -errno : -EIO;
		req_drain(nh); /* e.g. the rest of a dump after a callback error */
		return ret;
	}
	return 0;
}

static struct nlmsghdr *req_start(char *b, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	memset(b, 0, NL_REQ_SIZE);
	nlh = mnl_nlmsg_put_header(b);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	return nlh;
}

/* ---- routes ---- */

struct route {
	uint8_t type;	   /* RTN_* */
	uint8_t gw_family; /* 0: on-link */
	uint32_t oif;
	uint8_t gw[16];
};

static void route_gw(struct route *rt, int af, const void *addr, size_t len)
{
	if (!af_len(af) || len != af_len(af))
		return;
	rt->gw_family = (uint8_t)af;
	memcpy(rt->gw, addr, len);
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct rtvia *via;
	struct route *rt = data;
	struct nlattr *a;
	size_t len;

	if (nlh->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return MNL_CB_OK;
	rt->type = rtm->rtm_type;
	mnl_attr_for_each(a, nlh, sizeof(*rtm))
	{
		len = mnl_attr_get_payload_len(a);
		switch (mnl_attr_get_type(a)) {
		case RTA_OIF:
			if (len == sizeof(uint32_t))
				rt->oif = mnl_attr_get_u32(a);
			break;
		case RTA_GATEWAY:
			route_gw(rt, rtm->rtm_family, mnl_attr_get_payload(a), len);
			break;
		case RTA_VIA:
			via = mnl_attr_get_payload(a);
			if (len > sizeof(*via))
				route_gw(rt, via->rtvia_family, via->rtvia_addr, len - sizeof(*via));
			break;
		}
	}
	return MNL_CB_OK;
}

/*
 * RTM_GETROUTE for the host route to dst in b (NL_REQ_SIZE): as a socket with this mark sees it
 * (0: none), policy routing by mark included; flags go to rtm_flags (RTM_F_FIB_MATCH: the route
 * entry itself).
 */
static struct nlmsghdr *route_req(char *b, int af, const void *dst, uint32_t mark, unsigned int flags)
{
	struct nlmsghdr *nlh = req_start(b, RTM_GETROUTE, NLM_F_ACK);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	rtm->rtm_family = (uint8_t)af;
	rtm->rtm_dst_len = (uint8_t)(af_len(af) * 8);
	rtm->rtm_flags = flags;
	mnl_attr_put(nlh, RTA_DST, af_len(af), dst);
	if (mark)
		mnl_attr_put_u32(nlh, RTA_MARK, mark);
	return nlh;
}

static int route_get(struct xlvs_nh *nh, int af, const void *dst, struct route *rt)
{
	char b[NL_REQ_SIZE];

	memset(rt, 0, sizeof(*rt));
	return nl_talk(nh, route_req(b, af, dst, 0, 0), route_cb, rt);
}

int xlvs_nh_route(struct xlvs_nh *nh, const struct xlvs_addr *dst, uint32_t mark, uint8_t *type,
		  uint32_t *oif)
{
	int af = dst->family == XLVS_AF_INET6 ? AF_INET6 : AF_INET;
	char b[NL_REQ_SIZE];
	struct route rt = { 0 };
	int err;

	err = nl_talk(nh, route_req(b, af, dst->be, mark, 0), route_cb, &rt);
	*type = rt.type;
	*oif = rt.oif;
	return err;
}

struct route_legs {
	uint32_t *oifs;
	unsigned int max, n;
};

static void legs_add(struct route_legs *l, uint32_t oif)
{
	if (oif && l->n < l->max)
		l->oifs[l->n++] = oif;
}

/* The matched FIB entry's egress: RTA_OIF, or each leg of RTA_MULTIPATH. */
static int legs_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct route_legs *l = data;
	const struct rtnexthop *nh;
	struct nlattr *a;
	int left;

	if (nlh->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*rtm))
	{
		if (mnl_attr_get_type(a) == RTA_OIF && mnl_attr_get_payload_len(a) == sizeof(uint32_t))
			legs_add(l, mnl_attr_get_u32(a));
		if (mnl_attr_get_type(a) != RTA_MULTIPATH)
			continue;
		nh = mnl_attr_get_payload(a);
		left = (int)mnl_attr_get_payload_len(a);
		while (RTNH_OK(nh, left)) {
			legs_add(l, (uint32_t)nh->rtnh_ifindex);
			left -= (int)RTNH_ALIGN(nh->rtnh_len);
			nh = RTNH_NEXT(nh);
		}
	}
	return MNL_CB_OK;
}

int xlvs_nh_route_legs(struct xlvs_nh *nh, const struct xlvs_addr *dst, uint32_t mark, uint32_t *oifs,
		       unsigned int max)
{
	int af = dst->family == XLVS_AF_INET6 ? AF_INET6 : AF_INET;
	char b[NL_REQ_SIZE];
	struct route_legs l = { .oifs = oifs, .max = max };
	int err;

	/* the route itself, every leg, not the one a hash picks */
	err = nl_talk(nh, route_req(b, af, dst->be, mark, RTM_F_FIB_MATCH), legs_cb, &l);
	return err ? err : (int)l.n;
}

/* ---- links ---- */

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const unsigned int up = IFF_UP | IFF_LOWER_UP;
	struct link *l = data;
	struct nlattr *a;
	bool mac = false;

	if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*ifi))
	{
		if (mnl_attr_get_type(a) == IFLA_ADDRESS && mnl_attr_get_payload_len(a) == 6) {
			memcpy(l->mac, mnl_attr_get_payload(a), 6);
			mac = true;
		}
	}
	l->usable = ifi->ifi_type == ARPHRD_ETHER && (ifi->ifi_flags & up) == up && mac && !mac_zero(l->mac);
	return MNL_CB_OK;
}

/* The oif's MAC and state, asked once per sync. NULL only when out of memory. */
static struct link *link_get(struct xlvs_nh *nh, uint32_t ifindex)
{
	char b[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct link *l;
	size_t i;

	for (i = 0; i < nh->nr_links; i++)
		if (nh->links[i].ifindex == ifindex)
			return &nh->links[i];
	if (grow((void **)&nh->links, &nh->cap_links, nh->nr_links + 1, sizeof(*l)))
		return NULL;
	l = &nh->links[nh->nr_links++];
	memset(l, 0, sizeof(*l));
	l->ifindex = ifindex;
	l->ll6 = -1;
	nlh = req_start(b, RTM_GETLINK, NLM_F_ACK);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = (int)ifindex;
	if (nl_talk(nh, nlh, link_cb, l))
		l->usable = false; /* vanished meanwhile: a link event follows */
	return l;
}

/* ---- neighbours ---- */

/* An inet/inet6 neighbour message (not proxy, not bridge FDB); -1 if not one. */
static int neigh_parse(const struct nlmsghdr *nlh, struct neigh *n)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	bool dst = false;
	struct nlattr *a;
	size_t len;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ndm) || !af_len(ndm->ndm_family) ||
	    (ndm->ndm_flags & NTF_PROXY))
		return -1;
	memset(n, 0, sizeof(*n));
	n->key.family = ndm->ndm_family;
	n->key.ifindex = (uint32_t)ndm->ndm_ifindex;
	n->state = ndm->ndm_state;
	mnl_attr_for_each(a, nlh, sizeof(*ndm))
	{
		len = mnl_attr_get_payload_len(a);
		if (mnl_attr_get_type(a) == NDA_DST && len == af_len(ndm->ndm_family)) {
			memcpy(n->key.addr, mnl_attr_get_payload(a), len);
			dst = true;
		} else if (mnl_attr_get_type(a) == NDA_LLADDR && len == 6) {
			memcpy(n->mac, mnl_attr_get_payload(a), 6);
			n->has_mac = true;
		}
	}
	return dst ? 0 : -1;
}

static bool neigh_usable(const struct neigh *n)
{
	return (n->state & NUD_USABLE) && n->has_mac && !mac_zero(n->mac);
}

static int neigh_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct xlvs_nh *nh = data;
	struct neigh n;

	if (nlh->nlmsg_type != RTM_NEWNEIGH || neigh_parse(nlh, &n))
		return MNL_CB_OK;
	if (grow((void **)&nh->neigh, &nh->cap_neigh, nh->nr_neigh + 1, sizeof(n))) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	nh->neigh[nh->nr_neigh++] = n;
	return MNL_CB_OK;
}

/* The ARP and ND tables, sorted for lookups. Per family: an AF_UNSPEC dump also returns bridge FDBs. */
static int neigh_dump(struct xlvs_nh *nh)
{
	static const int afs[] = { AF_INET, AF_INET6 };
	char b[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;
	size_t i;
	int err;

	nh->nr_neigh = 0;
	for (i = 0; i < 2; i++) {
		nlh = req_start(b, RTM_GETNEIGH, NLM_F_DUMP);
		ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
		ndm->ndm_family = (uint8_t)afs[i];
		err = nl_talk(nh, nlh, neigh_dump_cb, nh);
		if (err && err != -EAFNOSUPPORT) /* IPv6 disabled */
			return err;
	}
	if (nh->nr_neigh)
		qsort(nh->neigh, nh->nr_neigh, sizeof(*nh->neigh), key_cmp);
	return 0;
}

static const struct neigh *neigh_find(struct xlvs_nh *nh, const struct nh_key *k)
{
	if (!nh->nr_neigh)
		return NULL;
	return bsearch(k, nh->neigh, nh->nr_neigh, sizeof(*nh->neigh), key_cmp);
}

struct ll6_query {
	uint32_t ifindex;
	bool ready;
};

static int ll6_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct ll6_query *q = data;
	uint32_t flags;
	struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWADDR || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa) ||
	    ifa->ifa_index != q->ifindex || ifa->ifa_scope != RT_SCOPE_LINK)
		return MNL_CB_OK;
	flags = ifa->ifa_flags;
	mnl_attr_for_each(a, nlh, sizeof(*ifa)) if (mnl_attr_get_type(a) == IFA_FLAGS &&
						    mnl_attr_get_payload_len(a) == sizeof(uint32_t))
		flags = mnl_attr_get_u32(a);
	if (!(flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)))
		q->ready = true;
	return MNL_CB_OK;
}

/*
 * Can the kernel solicit on l without a packet to take the source from? Only
 * from a usable link-local address (see the top). Right after an interface
 * comes up, its link-local is tentative (DAD) for a second or so: an NTF_USE
 * then leaves the entry INCOMPLETE until the next retransmit (1 s), and the
 * host's own first packets to that neighbour (health checks) wait with it.
 */
static bool link_ll6_ready(struct xlvs_nh *nh, struct link *l)
{
	struct ll6_query q = { .ifindex = l->ifindex };
	char b[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	if (l->ll6 < 0) {
		nlh = req_start(b, RTM_GETADDR, NLM_F_DUMP);
		ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
		ifa->ifa_family = AF_INET6;
		l->ll6 = !nl_talk(nh, nlh, ll6_cb, &q) && q.ready;
	}
	return l->ll6 > 0;
}

/* Start resolution of k (NTF_USE, see the comment at the top). */
static int neigh_use(struct xlvs_nh *nh, const struct nh_key *k)
{
	char b[NL_REQ_SIZE];
	struct nlmsghdr *nlh = req_start(b, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_ACK);
	struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));

	ndm->ndm_family = k->family;
	ndm->ndm_ifindex = (int)k->ifindex;
	ndm->ndm_flags = NTF_USE;
	mnl_attr_put(nlh, NDA_DST, af_len(k->family), k->addr);
	return nl_talk(nh, nlh, NULL, NULL);
}

/* ---- resolution ---- */

/* Failures of the socket, not answers about an address: the sync is retried. */
static bool nl_transient(int err)
{
	return err == -EAGAIN || err == -EINTR || err == -ENOBUFS || err == -ENOMEM || err == -EPROTO ||
	       err == -ESRCH;
}

/*
 * What real r should carry. No route, a link gone etc. leave res invalid;
 * a transient netlink failure returns it, and the real is left as it was.
 */
static int resolve(struct xlvs_nh *nh, const struct xlvs_real *r, struct nh_res *res)
{
	int af = r->family == XLVS_AF_INET ? AF_INET : r->family == XLVS_AF_INET6 ? AF_INET6 : 0;
	const struct neigh *n;
	struct link *l;
	struct route rt;
	int err;

	memset(res, 0, sizeof(*res));
	if (!af || r->fwd == XLVS_FWD_LOCAL) /* up our own stack: no next hop */
		return 0;
	err = route_get(nh, af, r->addr, &rt);
	if (err && nl_transient(err))
		return err;
	if (err || rt.type != RTN_UNICAST || !rt.oif)
		return 0;
	res->key.ifindex = rt.oif;
	if (r->fwd != XLVS_FWD_DR && rt.gw_family) {
		res->key.family = rt.gw_family;
		memcpy(res->key.addr, rt.gw, af_len(rt.gw_family));
	} else {
		res->key.family = (uint8_t)af;
		memcpy(res->key.addr, r->addr, af_len(af));
	}
	n = neigh_find(nh, &res->key);
	if (n && neigh_usable(n)) {
		res->nvalid = true;
		memcpy(res->nmac, n->mac, 6);
	}
	l = link_get(nh, rt.oif);
	if (!l)
		return -ENOMEM;
	if (!l->usable)
		return 0; /* down, or no ARP/ND there: nothing to trigger either */
	if (res->nvalid) {
		res->valid = true;
		memcpy(res->mac, n->mac, 6);
		memcpy(res->smac, l->mac, 6);
		res->refresh = (n->state & NUD_DYNAMIC) != 0;
	} else {
		/* Never NTF_USE a PERMANENT/NOARP entry; an INCOMPLETE one is resolving already. */
		res->trigger = !n || !(n->state & (NUD_INCOMPLETE | NUD_PERMANENT | NUD_NOARP));
		if (res->trigger && res->key.family == AF_INET6 && !link_ll6_ready(nh, l)) {
			res->trigger = false; /* the first packet resolves it; we retry soon */
			nh->deferred = true;
			nh->st.deferred++;
		}
	}
	return 0;
}

static int real_put(struct xlvs_nh *nh, uint32_t id, const struct xlvs_real *r)
{
	return bpf_map_update_elem(nh->m->reals, &id, r, BPF_ANY) ? -errno : 0;
}

/*
 * Write res into real id, re-reading the entry first so every field the maps
 * library owns is kept; an entry deactivated or replaced since the snapshot
 * is left alone (the next apply syncs again). An array update is a plain
 * memcpy that XDP may read half-way, so NH_VALID is never set in the same
 * write that changes the MACs: clear, change, set. Returns 1 if written.
 */
static int real_publish(struct xlvs_nh *nh, uint32_t id, const struct xlvs_real *seen,
			const struct nh_res *res)
{
	struct xlvs_real cur;
	uint32_t ifindex = res->valid ? res->key.ifindex : 0;
	bool was, same;
	int err;

	if (bpf_map_lookup_elem(nh->m->reals, &id, &cur))
		return -errno;
	if (!(cur.flags & XLVS_REAL_F_ACTIVE) || cur.gen != seen->gen || cur.family != seen->family ||
	    cur.fwd != seen->fwd || memcmp(cur.addr, seen->addr, sizeof(cur.addr)))
		return 0;
	was = cur.flags & XLVS_REAL_F_NH_VALID;
	same = !memcmp(cur.nh_mac, res->mac, 6) && !memcmp(cur.nh_smac, res->smac, 6) &&
	       cur.nh_ifindex == ifindex;
	if (same && was == res->valid)
		return 0;
	if (was) {
		cur.flags &= (uint8_t)~XLVS_REAL_F_NH_VALID;
		if ((err = real_put(nh, id, &cur)))
			return err;
	}
	if (!same) {
		memcpy(cur.nh_mac, res->mac, 6);
		memcpy(cur.nh_smac, res->smac, 6);
		cur.nh_ifindex = ifindex;
		if ((err = real_put(nh, id, &cur)))
			return err;
	}
	if (res->valid) {
		cur.flags |= XLVS_REAL_F_NH_VALID;
		if ((err = real_put(nh, id, &cur)))
			return err;
	}
	return 1;
}

/* Snapshot xlvs_reals (index = real id): batch walks, or entry by entry if batches are refused. */
static int reals_read(struct xlvs_nh *nh)
{
	int fd = nh->m->reals, err;
	uint32_t done = 0, next, cnt, i;
	void *in = NULL;

	while (done < nh->nr_reals) {
		cnt = nh->nr_reals - done;
		err = bpf_map_lookup_batch(fd, in, &next, nh->keys + done, nh->reals + done, &cnt, NULL);
		if (err && errno != ENOENT)
			break;
		done += cnt;
		if (err) /* ENOENT: no entries after these */
			break;
		in = &next;
	}
	if (done == nh->nr_reals)
		return 0;
	for (i = 0; i < nh->nr_reals; i++)
		if (bpf_map_lookup_elem(fd, &i, &nh->reals[i]))
			return -errno;
	return 0;
}

/* ---- sync ---- */

static int watch_add(struct xlvs_nh *nh, const struct nh_res *res, bool refresh)
{
	struct watch *w;

	if (grow((void **)&nh->watch, &nh->cap_watch, nh->nr_watch + 1, sizeof(*w)))
		return -ENOMEM;
	w = &nh->watch[nh->nr_watch++];
	memset(w, 0, sizeof(*w));
	w->key = res->key;
	w->nvalid = res->nvalid;
	w->use = res->trigger || (refresh && res->refresh);
	memcpy(w->nmac, res->nmac, 6);
	return 0;
}

/* Sort for event lookups; one entry per next hop, however many reals share it. */
static void watch_sort(struct xlvs_nh *nh)
{
	size_t i, j = 0;

	if (!nh->nr_watch)
		return;
	qsort(nh->watch, nh->nr_watch, sizeof(*nh->watch), key_cmp);
	for (i = 1; i < nh->nr_watch; i++) {
		if (!key_cmp(&nh->watch[i], &nh->watch[j]))
			nh->watch[j].use |= nh->watch[i].use;
		else
			nh->watch[++j] = nh->watch[i];
	}
	nh->nr_watch = j + 1;
}

/* Event-driven syncs wait NH_MIN_GAP_NS, refreshes NH_REFRESH_NS; both stretch if syncs are slow. */
static uint64_t nh_gap(const struct xlvs_nh *nh)
{
	uint64_t gap = nh->sync_cost_ns * 4;

	return gap > NH_MIN_GAP_NS ? gap : NH_MIN_GAP_NS;
}

static uint64_t nh_every(const struct xlvs_nh *nh)
{
	uint64_t every = nh->sync_cost_ns * 20;

	return every > NH_REFRESH_NS ? every : NH_REFRESH_NS;
}

static uint64_t nh_due(const struct xlvs_nh *nh)
{
	return nh->last_sync_ns + (nh->dirty ? nh_gap(nh) : nh_every(nh));
}

static void nh_arm(struct xlvs_nh *nh)
{
	uint64_t due = nh_due(nh);
	struct itimerspec its = {
		.it_value = { .tv_sec = (time_t)(due / NSEC_PER_SEC), .tv_nsec = (long)(due % NSEC_PER_SEC) },
	};

	timerfd_settime(nh->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void nh_done(struct xlvs_nh *nh, uint64_t start, int err)
{
	uint64_t now = now_ns();

	nh->dirty = err != 0 || nh->deferred; /* retry after the gap */
	nh->routes_moved |= nh->routes_seen;  /* at the syncs' pace, whatever the storm */
	nh->routes_seen = false;
	nh->last_sync_ns = now;
	nh->sync_cost_ns = now - start;
	nh->st.syncs++;
	nh_arm(nh);
}

static int nh_sync(struct xlvs_nh *nh, bool refresh)
{
	uint64_t start = now_ns();
	unsigned int syncs = nh->st.syncs;
	struct nh_res res;
	uint32_t id;
	size_t i;
	int err, ret;

	nh->nr_links = 0;
	nh->deferred = false;
	ret = reals_read(nh);
	if (!ret)
		ret = neigh_dump(nh);
	if (ret) {
		nh_done(nh, start, ret);
		return ret;
	}
	memset(&nh->st, 0, sizeof(nh->st));
	nh->st.syncs = syncs;
	nh->nr_watch = 0;
	for (id = 0; id < nh->nr_reals; id++) {
		if (!(nh->reals[id].flags & XLVS_REAL_F_ACTIVE))
			continue;
		nh->st.reals++;
		err = resolve(nh, &nh->reals[id], &res);
		if (err) {
			ret = ret ? ret : err;
			continue;
		}
		nh->st.valid += res.valid;
		if (res.key.family && (err = watch_add(nh, &res, refresh)) && !ret)
			ret = err;
		err = real_publish(nh, id, &nh->reals[id], &res);
		if (err < 0 && !ret)
			ret = err;
		nh->st.written += err > 0;
	}
	watch_sort(nh);
	for (i = 0; i < nh->nr_watch; i++)
		if (nh->watch[i].use && !neigh_use(nh, &nh->watch[i].key))
			nh->st.triggered++;
	nh_done(nh, start, ret);
	return ret;
}

int xlvs_nh_sync(struct xlvs_nh *nh)
{
	return nh ? nh_sync(nh, true) : -EINVAL;
}

/* ---- events ---- */

static bool ev_neigh_matters(struct xlvs_nh *nh, const struct nlmsghdr *nlh)
{
	const struct watch *w;
	struct neigh n;
	bool valid;

	if (!nh->nr_watch || neigh_parse(nlh, &n))
		return false;
	w = bsearch(&n.key, nh->watch, nh->nr_watch, sizeof(*w), key_cmp);
	if (!w)
		return false;
	valid = nlh->nlmsg_type == RTM_NEWNEIGH && neigh_usable(&n);
	return valid != w->nvalid || (valid && memcmp(n.mac, w->nmac, 6));
}

static bool ev_link_matters(struct xlvs_nh *nh, const struct nlmsghdr *nlh)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	size_t i;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return false;
	for (i = 0; i < nh->nr_watch; i++)
		if (nh->watch[i].key.ifindex == (uint32_t)ifi->ifi_index)
			return true;
	return false;
}

/*
 * A link going down or away takes its IPv4 routes without a route event (IPv6 sends them): its
 * IFF_UP change is the news. Other link changes (MTU, carrier: its routes stay) move no route.
 */
static bool ev_link_takes_routes(const struct nlmsghdr *nlh)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	return mnl_nlmsg_get_payload_len(nlh) >= sizeof(*ifi) &&
	       (nlh->nlmsg_type == RTM_DELLINK || (ifi->ifi_change & IFF_UP));
}

/* Any route may move any real; route cache clones (PMTU exceptions) do not. */
static bool ev_route_matters(const struct nlmsghdr *nlh)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);

	return mnl_nlmsg_get_payload_len(nlh) >= sizeof(*rtm) && af_len(rtm->rtm_family) &&
	       !(rtm->rtm_flags & RTM_F_CLONED);
}

static int ev_cb(const struct nlmsghdr *nlh, void *data)
{
	struct xlvs_nh *nh = data;

	switch (nlh->nlmsg_type) {
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		nh->dirty |= ev_neigh_matters(nh, nlh);
		break;
	case RTM_NEWLINK:
	case RTM_DELLINK:
		nh->dirty |= ev_link_matters(nh, nlh);
		if (ev_link_takes_routes(nlh))
			nh->routes_seen = nh->dirty = true;
		break;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		if (ev_route_matters(nlh))
			nh->routes_seen = nh->dirty = true;
		break;
	/* No route event: a policy rule, and a nexthop object deleted (its IPv4 routes with it). */
	case RTM_NEWRULE:
	case RTM_DELRULE:
	case RTM_NEWNEXTHOP:
	case RTM_DELNEXTHOP:
		nh->routes_seen = nh->dirty = true;
		break;
	}
	return MNL_CB_OK;
}

static int ev_read(struct xlvs_nh *nh)
{
	int fd = mnl_socket_get_fd(nh->ev), i;
	ssize_t n;

	for (i = 0; i < NH_EV_BATCH; i++) {
		n = recv(fd, nh->buf, NL_BUF_SIZE, MSG_DONTWAIT);
		if (n > 0) {
			if (mnl_cb_run(nh->buf, (size_t)n, 0, 0, ev_cb, nh) < 0)
				nh->dirty = nh->routes_seen = true; /* unparsable: assume it mattered */
			continue;
		}
		if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno == ENOBUFS)
			nh->dirty = nh->routes_seen = true; /* events were lost: re-read everything */
		else if (errno != EINTR)
			return -errno;
	}
	return 0;
}

bool xlvs_nh_routes_moved(struct xlvs_nh *nh)
{
	bool moved = nh && nh->routes_moved;

	if (nh)
		nh->routes_moved = false;
	return moved;
}

int xlvs_nh_process(struct xlvs_nh *nh)
{
	uint64_t ticks, now;
	int err;

	if (!nh)
		return -EINVAL;
	err = ev_read(nh);
	if (read(nh->tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN && !err)
		err = -errno;
	now = now_ns();
	if (now >= nh_due(nh))
		return nh_sync(nh, now >= nh->last_sync_ns + nh_every(nh));
	nh_arm(nh);
	return err;
}

/* ---- setup ---- */

static int nh_alloc(struct xlvs_nh *nh)
{
	struct bpf_map_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(nh->m->reals, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != sizeof(uint32_t) ||
	    info.value_size != sizeof(struct xlvs_real) || !info.max_entries)
		return -EINVAL;
	nh->nr_reals = info.max_entries;
	nh->reals = calloc(nh->nr_reals, sizeof(*nh->reals));
	nh->keys = calloc(nh->nr_reals, sizeof(*nh->keys));
	nh->buf = malloc(NL_BUF_SIZE);
	return nh->reals && nh->keys && nh->buf ? 0 : -ENOMEM;
}

static int nh_sockets(struct xlvs_nh *nh)
{
	static const unsigned int groups[] = {
		RTNLGRP_NEIGH,	   RTNLGRP_LINK,      RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE,
		RTNLGRP_IPV4_RULE, RTNLGRP_IPV6_RULE, RTNLGRP_NEXTHOP,
	};
	struct timeval tmo = { .tv_sec = 2 }; /* the kernel answers at once; never hang the daemon */
	int rcvbuf = 1 << 20, evfd;
	size_t i;

	nh->req = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	nh->ev = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!nh->req || !nh->ev)
		return -errno;
	if (mnl_socket_bind(nh->req, 0, MNL_SOCKET_AUTOPID) || mnl_socket_bind(nh->ev, 0, MNL_SOCKET_AUTOPID))
		return -errno;
	nh->portid = mnl_socket_get_portid(nh->req);
	if (setsockopt(mnl_socket_get_fd(nh->req), SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)))
		return -errno;
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (mnl_socket_setsockopt(nh->ev, NETLINK_ADD_MEMBERSHIP, (void *)&groups[i],
					  sizeof(groups[i])))
			return -errno;
	/* Room for bursts (a flapping link): an overflow costs a full sync, not correctness. */
	evfd = mnl_socket_get_fd(nh->ev);
	if (setsockopt(evfd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(evfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	return 0;
}

/* One fd for the daemon: the event socket and the re-sync timer behind an epoll fd. */
static int nh_pollfd(struct xlvs_nh *nh)
{
	struct epoll_event ev = { .events = EPOLLIN };

	nh->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	nh->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (nh->tfd < 0 || nh->epfd < 0)
		return -errno;
	ev.data.fd = mnl_socket_get_fd(nh->ev);
	if (epoll_ctl(nh->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev))
		return -errno;
	ev.data.fd = nh->tfd;
	if (epoll_ctl(nh->epfd, EPOLL_CTL_ADD, nh->tfd, &ev))
		return -errno;
	return 0;
}

int xlvs_nh_open(struct xlvs_nh **out, struct xlvs_maps *m)
{
	struct xlvs_nh *nh;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!m || m->reals < 0)
		return -EINVAL;
	nh = calloc(1, sizeof(*nh));
	if (!nh)
		return -ENOMEM;
	nh->m = m;
	nh->epfd = nh->tfd = -1;
	err = nh_alloc(nh);
	if (!err)
		err = nh_sockets(nh);
	if (!err)
		err = nh_pollfd(nh);
	if (err) {
		xlvs_nh_close(nh);
		return err;
	}
	nh->last_sync_ns = now_ns(); /* first periodic refresh one interval from now */
	nh_arm(nh);
	*out = nh;
	return 0;
}

int xlvs_nh_fd(struct xlvs_nh *nh)
{
	return nh ? nh->epfd : -EINVAL;
}

void xlvs_nh_stats(struct xlvs_nh *nh, struct xlvs_nh_stats *st)
{
	if (nh && st)
		*st = nh->st;
}

void xlvs_nh_close(struct xlvs_nh *nh)
{
	if (!nh)
		return;
	if (nh->epfd >= 0)
		close(nh->epfd);
	if (nh->tfd >= 0)
		close(nh->tfd);
	if (nh->ev)
		mnl_socket_close(nh->ev);
	if (nh->req)
		mnl_socket_close(nh->req);
	free(nh->reals);
	free(nh->keys);
	free(nh->buf);
	free(nh->neigh);
	free(nh->links);
	free(nh->watch);
	free(nh);
}
