/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xlvs ABI: every map key and value shared by the BPF programs and userspace.
 *
 * Rules: fixed-width kernel types only, network byte order is spelled __be*,
 * every struct is padded explicitly so BPF and userspace agree on layout and
 * bpftool shows no hidden holes. Nothing here may be defined anywhere else.
 */
#ifndef XLVS_ABI_H
#define XLVS_ABI_H

#include <linux/types.h>

/* Pins a map key or value size: a change here must be a deliberate ABI change. */
#define XLVS_ABI_SIZE(type, bytes) \
	_Static_assert(sizeof(type) == (bytes), #type " is " #bytes " bytes")

/* ---- limits --------------------------------------------------------------- */
#define XLVS_MAX_SERVICES	16384	/* service ids are 0 .. XLVS_MAX_SERVICES-1 */
#define XLVS_MAX_VIPS		16384
#define XLVS_MAX_REALS		65536	/* real ids are 0 .. XLVS_MAX_REALS-1 */
#define XLVS_RING_DEFAULT	65537	/* default Maglev ring size, a prime */
#define XLVS_RING_SLOTS_DEFAULT	(16 * XLVS_RING_DEFAULT) /* least xlvs_ring the loader creates (maps/xlvsmaps.h) */
#define XLVS_CONNS_DEFAULT	262144	/* xlvs_conns entries unless the loader resizes */
#define XLVS_REAL_NONE		0xffffffffu /* empty ring slot: no real may take it */
#define XLVS_GUE_PORT_DEFAULT	6080
#define XLVS_TUN_TTL		64

/* ---- enums ---------------------------------------------------------------- */
enum xlvs_family {
	XLVS_AF_NONE = 0,
	XLVS_AF_INET = 4,
	XLVS_AF_INET6 = 6,
};

/*
 * How a packet reaches its real server (the LVS "packet forwarding method"),
 * stored in xlvs_real.fwd, so append only:
 *   dr       direct routing: rewrite MACs only
 *   tun      IP-in-IP; outer family = real's family (IPIP, IP6IP6, 4in6, 6in4)
 *   gue      GUE variant 1: UDP outer, inner IP packet directly after it
 *   nat      VS-NAT (ipvsadm -m): destination rewritten to the real's address
 *            and port; the real routes its replies through the director,
 *            which rewrites their source back to the VIP (xlvs_nat)
 *   fullnat  as nat, and the client's source rewritten to an address and port
 *            of the director's pool (xlvs_snat_pool), so replies come back
 *            to the director whatever the real's routes
 *   local    the director itself serves (LVS's "localnode"): the packet goes
 *            up its own stack unchanged, counted for the real
 */
#define XLVS_FWDS(X)							\
	X(DR,		"dr")						\
	X(TUN,		"tun")						\
	X(GUE,		"gue")						\
	X(NAT,		"nat")						\
	X(FULLNAT,	"fullnat")					\
	X(LOCAL,	"local")

#define XLVS_X_ENUM(id, name) XLVS_FWD_##id,
enum xlvs_fwd {
	XLVS_FWDS(XLVS_X_ENUM)
	XLVS_FWD_MAX,
};
#undef XLVS_X_ENUM

/* Schedulers, stored in xlvs_service.sched: append only. */
#define XLVS_SCHEDS(X)							\
	X(MAGLEV,	"maglev")					\
	X(RR,		"rr")						\
	X(WRR,		"wrr")						\
	X(LC,		"lc")						\
	X(WLC,		"wlc")						\
	X(SED,		"sed")						\
	X(NQ,		"nq")						\
	X(SH,		"sh")						\
	X(DH,		"dh")						\
	X(LBLC,		"lblc")						\
	X(LBLCR,	"lblcr")					\
	X(MH,		"mh")

#define XLVS_X_ENUM(id, name) XLVS_SCHED_##id,
enum xlvs_sched {
	XLVS_SCHEDS(XLVS_X_ENUM)
	XLVS_SCHED_MAX,
};
#undef XLVS_X_ENUM

/*
 * Connection lifetimes (ipvsadm --set tcp tcpfin udp, plus the half-open one):
 * an entry idle longer than the lifetime of its state is expired, so its next
 * packet is scheduled afresh and xlvsd's sweep deletes it. A TCP entry's index
 * is its enum xlvs_conn_state; UDP entries have one. Defaults are IPVS's
 * (net/netfilter/ipvs/ip_vs_proto_tcp.c tcp_timeouts: ESTABLISHED 15 min,
 * FIN_WAIT 2 min, SYN_RECV 1 min; ip_vs_proto_udp.c: NORMAL 5 min).
 */
#define XLVS_TIMEOUTS(X)						\
	X(TCP,		"tcp",		900)				\
	X(TCP_FIN,	"tcp_fin",	120)				\
	X(TCP_SYN,	"tcp_syn",	60)				\
	X(UDP,		"udp",		300)

#define XLVS_X_ENUM(id, name, secs) XLVS_TO_##id,
enum xlvs_timeout {
	XLVS_TIMEOUTS(XLVS_X_ENUM)
	XLVS_TO_MAX,
};
#undef XLVS_X_ENUM
#define XLVS_TIMEOUT_MAX_S	(7 * 24 * 3600)	/* a week: 2^31 jiffies at HZ 1000 is 24 days */

/* Service flags (struct xlvs_service.flags). */
#define XLVS_SVC_F_ECHO		(1u << 0)	/* answer ICMP echo to this VIP */
/* IPVS's scheduler flags 1 and 2 (ipvsadm -b): sh-fallback/mh-fallback, sh-port/mh-port. */
#define XLVS_SVC_F_SCHED_FALLBACK (1u << 1)	/* sh, dh, mh: a weight-0 real's bucket tries others */
#define XLVS_SVC_F_SCHED_PORT	(1u << 2)	/* sh, mh: hash the source port with the address */
#define XLVS_SVC_F_SCHED_MASK	(XLVS_SVC_F_SCHED_FALLBACK | XLVS_SVC_F_SCHED_PORT)
/*
 * flow_state ring (maglev and mh only; set by xlvsd, never by a user bit): a
 * flow whose ring slot has not changed since it began goes to the slot's
 * owner with no connection-table lookup; only flows on changed slots are
 * looked up and recorded (bpf/ring.h, docs/architecture.md "Ring state").
 */
#define XLVS_SVC_F_RING_STATE	(1u << 3)
#define XLVS_SCHED_FALLBACK_TRIES 16	/* buckets a fallback tries (IPVS: every bucket) */
#define XLVS_LEAST_MAX_REALS	256	/* lc, wlc, sed, nq: reals one new flow's scan weighs */

/* VIP flags (struct xlvs_vip.flags): the union of its services' flags that act per address. */
#define XLVS_VIP_F_ECHO		(1u << 0)

/* Real flags (struct xlvs_real.flags). */
#define XLVS_REAL_F_ACTIVE	(1u << 0)	/* entry in use; cleared entries reschedule their flows */
#define XLVS_REAL_F_NH_VALID	(1u << 1)	/* nh_mac/nh_ifindex resolved by userspace: skip bpf_fib_lookup */
#define XLVS_REAL_F_COUNTED	(1u << 2)	/* its service's scheduler reads xlvs_real_load: keep it */
#define XLVS_REAL_F_PERSIST	(1u << 3)	/* its service is persistent (persist_timeout): its flows */
						/* refresh their client's template (bpf/persist.h) */

/* Runtime feature flags (struct xlvs_config.flags). */
#define XLVS_CFG_F_FRAG_DROP	(1u << 0)	/* drop IPv4/IPv6 fragments instead of passing them to the kernel */
#define XLVS_CFG_F_IP4_OPT_DROP	(1u << 1)	/* drop IPv4 packets with options instead of forwarding them */
#define XLVS_CFG_F_GW_FALLBACK	(1u << 2)	/* gw_mac is valid: use it when bpf_fib_lookup fails */
#define XLVS_CFG_F_NAT		(1u << 3)	/* some real is nat/fullnat: TCP/UDP/ICMP not to a VIP */
						/* from an address in xlvs_nat_srcs may be a reply (xlvs_nat) */
#define XLVS_CFG_F_HASH_MIX64	(1u << 4)	/* flows hash by xlvs_flow_hash_mix64() and a Maglev ring's */
						/* slot is xlvs_hash_range() (hash.h); clear: xlvs_flow_hash() */
						/* and the remainder, as xlvs up to de1ae0d (2026-12-07). Chosen when the */
						/* state is made, kept by every later xlvsd: it says where */
						/* ring-state flows without an entry are */

/*
 * Drop reasons. Every XDP_DROP and every "not forwarded" outcome maps to one of
 * these, each with its own counter in xlvs_drops; xlvs_drop_names comes from the same list.
 */
#define XLVS_DROP_REASONS(X)						\
	X(ETH_TRUNC,		"eth_trunc")				\
	X(VLAN_TRUNC,		"vlan_trunc")				\
	X(IP4_TRUNC,		"ip4_trunc")				\
	X(IP4_BAD_HDR,		"ip4_bad_header")			\
	X(IP6_TRUNC,		"ip6_trunc")				\
	X(IP6_BAD_HDR,		"ip6_bad_header")			\
	X(IP6_EXT_TRUNC,	"ip6_ext_trunc")			\
	X(IP6_EXT_LIMIT,	"ip6_ext_limit")			\
	X(TCP_TRUNC,		"tcp_trunc")				\
	X(UDP_TRUNC,		"udp_trunc")				\
	X(ICMP_TRUNC,		"icmp_trunc")				\
	X(ICMP_INNER_TRUNC,	"icmp_inner_trunc")			\
	X(FRAGMENT,		"fragment")				\
	X(IP4_OPTIONS,		"ip4_options")				\
	X(NO_REAL,		"no_real")				\
	X(BAD_REAL,		"bad_real")				\
	X(SCHED_UNSUPPORTED,	"sched_unsupported")			\
	X(FWD_UNSUPPORTED,	"fwd_unsupported")			\
	X(ENCAP_FAIL,		"encap_fail")				\
	X(TOO_BIG_NO_DF,	"too_big_no_df")			\
	X(TOO_BIG_FAIL,		"too_big_fail")				\
	X(NO_NEXTHOP,		"no_nexthop")				\
	X(NO_TUN_SRC,		"no_tunnel_source")			\
	X(NO_CONFIG,		"no_config")				\
	X(SNAT_EXHAUSTED,	"snat_exhausted")			\
	X(NO_SNAT_POOL,		"no_snat_pool")				\
	X(NAT_FAIL,		"nat_fail")

#define XLVS_X_ENUM(id, name) XLVS_DROP_##id,
enum xlvs_drop_reason {
	XLVS_DROP_REASONS(XLVS_X_ENUM)
	XLVS_DROP_MAX,
};
#undef XLVS_X_ENUM

/*
 * Events: outcomes that are not drops but that an operator must be able to
 * count (packets left to the kernel, guard decisions, ICMP generated).
 */
#define XLVS_EVENTS(X)							\
	X(PASS_NOT_IP,		"pass_not_ip")				\
	X(PASS_NO_SERVICE,	"pass_no_service")			\
	X(PASS_FRAGMENT,	"pass_fragment")			\
	X(PASS_NEIGH,		"pass_neigh_unresolved")		\
	X(IP4_OPTIONS,		"ip4_options_forwarded")		\
	X(CONN_HIT,		"conn_hit")				\
	X(CONN_NEW,		"conn_new")				\
	X(CONN_RESCHED,		"conn_resched")				\
	X(CONN_REUSED,		"conn_reused")				\
	X(CONN_NODEST,		"conn_resched_weight0")		\
	X(CONN_SYN_NEW_ISN,	"conn_resched_new_syn")		\
	X(CONN_EXPIRED,		"conn_expired")				\
	X(SYN_GUARD,		"syn_guard_not_inserted")		\
	X(TOO_BIG_SENT,		"too_big_sent")				\
	X(ECHO_REPLY,		"icmp_echo_reply")			\
	X(ICMP_ERR_FWD,		"icmp_error_forwarded")			\
	X(FIB_GW_FALLBACK,	"fib_gateway_fallback")			\
	X(CONN_INSERT_FAILED,	"conn_insert_failed")			\
	X(PASS_ICMP_MISADDR,	"pass_icmp_error_misaddressed")		\
	X(PASS_LOCAL_REAL,	"pass_local_real")			\
	X(PERSIST_HIT,		"persist_hit")				\
	X(PERSIST_MISS,		"persist_miss")				\
	X(NAT_REPLY,		"nat_reply")				\
	X(PASS_NAT_UNKNOWN,	"pass_nat_reply_unknown")		\
	X(ICMP_ERR_NAT,		"icmp_error_nat_translated")		\
	X(SNAT_REUSED,		"snat_port_reused")			\
	X(SNAT_RETRY,		"snat_port_retry")			\
	X(HC_STEERED,		"hc_steered")				\
	X(HC_MARK_STALE,	"hc_mark_stale")				\
	X(RING_STABLE_SLOW,	"ring_owner_unusable")			\
	X(RING_CHANGED_HIT,	"ring_changed_conn_hit")		\
	X(RING_PREV_OWNER,	"ring_prev_owner")			\
	X(RING_NEW_OWNER,	"ring_new_owner")			\
	X(PASS_TCP_NOT_SYN,	"pass_tcp_not_syn")

#define XLVS_X_ENUM(id, name) XLVS_EV_##id,
enum xlvs_event {
	XLVS_EVENTS(XLVS_X_ENUM)
	XLVS_EV_MAX,
};
#undef XLVS_X_ENUM

/*
 * Entries of xlvs_drops and xlvs_events: room for reasons and events a later
 * version adds, so adding one keeps the maps' layout (and an upgrade over the
 * pinned maps); userspace reads the first XLVS_DROP_MAX / XLVS_EV_MAX.
 */
#define XLVS_DROP_SLOTS	64
#define XLVS_EV_SLOTS	64
_Static_assert(XLVS_DROP_MAX <= XLVS_DROP_SLOTS, "xlvs_drops has no room for every drop reason");
_Static_assert(XLVS_EV_MAX <= XLVS_EV_SLOTS, "xlvs_events has no room for every event");

/* ---- maps ----------------------------------------------------------------- */

/* xlvs_services: HASH (struct xlvs_svc_key) -> struct xlvs_service.
 * port 0 is the "all ports" service of that VIP and protocol. */
struct xlvs_svc_key {
	__be32 addr[4];		/* IPv4 in addr[0], rest zero */
	__be16 port;
	__u8 proto;		/* IPPROTO_TCP / IPPROTO_UDP */
	__u8 family;		/* enum xlvs_family */
};
XLVS_ABI_SIZE(struct xlvs_svc_key, 20);

struct xlvs_service {
	__u32 id;		/* index into xlvs_svc_stats */
	__u32 ring_base;	/* first slot of this service's ring in xlvs_ring */
	__u32 ring_size;	/* Maglev ring size (prime) */
	__u32 flags;		/* XLVS_SVC_F_* */
	__u8 sched;		/* enum xlvs_sched */
	__u8 pad[3];
	__u32 sched_len;	/* rr, wrr: the sequence's period, its first slots of the slice */
	__u32 timeout[XLVS_TO_MAX]; /* connection lifetimes, s; 0 = xlvs_config.timeout's */
	__u32 persist_timeout;	/* s a client's template lives (ipvsadm -p); 0 = not persistent */
	__u32 sched_expire;	/* lblc, lblcr: s an idle destination's assignment is kept */
	__u8 persist_plen;	/* client prefix length a template covers (ipvsadm -M): 32/128 = one address */
	__u8 pad2[3];
};
XLVS_ABI_SIZE(struct xlvs_service, 52);

/* xlvs_vips: HASH (struct xlvs_vip_key) -> struct xlvs_vip: per-address behaviour
 * (ICMP echo), maintained by userspace from the services on that address.
 * struct xlvs_vip_key is the project's address key: xlvs_decap_addrs uses it too. */
struct xlvs_vip_key {
	__be32 addr[4];
	__u8 family;
	__u8 pad[3];
};
XLVS_ABI_SIZE(struct xlvs_vip_key, 20);	/* docs/real-servers.md spells it out for bpftool */

struct xlvs_vip {
	__u32 flags;		/* XLVS_VIP_F_* */
	__u32 nr_services;
};
XLVS_ABI_SIZE(struct xlvs_vip, 8);

/* xlvs_reals: ARRAY real id -> struct xlvs_real. A real belongs to one service. */
struct xlvs_real {
	__be32 addr[4];		/* real (and tunnel endpoint) address */
	__u8 family;		/* enum xlvs_family of addr */
	__u8 fwd;		/* enum xlvs_fwd */
	__u8 flags;		/* XLVS_REAL_F_* */
	__u8 pad;
	__u32 svc_id;		/* owning service: flows whose real moved on are rescheduled */
	__u8 nh_mac[6];		/* next hop: the real itself for DR, the tunnel's next hop otherwise */
	__be16 gue_port;	/* GUE destination port; 0 = xlvs_config.gue_port */
	__u8 nh_smac[6];	/* our MAC on nh_ifindex */
	__be16 port;		/* nat, fullnat: the real's port; 0 = the packet's destination port */
	__u32 nh_ifindex;	/* egress ifindex for nh_mac; 0 = the ingress interface */
	__u32 weight;		/* for weighted schedulers and listings */
	__u32 gen;		/* bumped whenever this id is given to another real (or service): */
				/* connection entries made for the earlier one no longer match */
	__u32 timeout[XLVS_TO_MAX]; /* its service's xlvs_service.timeout, copied: an established */
				/* flow reads its real, never its service */
};
XLVS_ABI_SIZE(struct xlvs_real, 68);

/*
 * xlvs_real_load: ARRAY (mmapable) real id -> struct xlvs_real_load: the
 * connections lc, wlc, sed, nq, lblc and lblcr weigh, kept by the data path
 * for reals flagged XLVS_REAL_F_COUNTED (an entry's class is active when it
 * is TCP in OPEN, inactive otherwise, as ActiveConn/InActConn) with atomic
 * adds on insert, state change and delete. Entries the kernel's LRU evicts
 * are not seen: xlvsd's sweep subtracts those it deletes and reconciles the
 * rest from a table walk with atomic adds through the mapping. Signed: a
 * transient count below zero reads as zero, not as four billion.
 */
struct xlvs_real_load {
	__s32 active;
	__s32 inactive;
};
XLVS_ABI_SIZE(struct xlvs_real_load, 8);

/*
 * A client (or destination) address within a service: the key of the
 * persistence templates (xlvs_persist, the client's masked address) and of
 * lblc/lblcr's destination table (xlvs_lblc).
 */
struct xlvs_svc_addr_key {
	__be32 addr[4];
	__u32 svc_id;
	__u8 family;
	__u8 pad[3];
};
XLVS_ABI_SIZE(struct xlvs_svc_addr_key, 24);

/*
 * xlvs_persist: LRU_HASH (struct xlvs_svc_addr_key: the client's address
 * masked to the service's persist_plen) -> struct xlvs_persist, IPVS's
 * persistence templates (ip_vs_core.c ip_vs_sched_persist()). A new flow of a
 * persistent service goes to the template's real while that real serves
 * (same id and generation, weight > 0) and the template is younger than
 * persist_timeout; otherwise the scheduler picks and the template is
 * rewritten. Its flows' packets refresh last_seen at most once a second.
 */
#define XLVS_PERSIST_DEFAULT	65536	/* xlvs_persist entries unless the loader resizes */
struct xlvs_persist {
	__u32 real_id;		/* with real_gen: the exact real, as in struct xlvs_conn */
	__u32 real_gen;
	__u32 last_seen;	/* low 32 bits of jiffies: written, hit or refreshed */
};
XLVS_ABI_SIZE(struct xlvs_persist, 12);

/*
 * lblc and lblcr (bpf/lblc.h): a destination address's assignment per
 * service, keyed by struct xlvs_svc_addr_key with the flow's destination.
 * LRU_HASH maps: a full table evicts its least recently used destination.
 * An assignment idle longer than the service's sched_expire (0: IPVS's
 * lblc_expiration/lblcr_expiration default, 24 h) is as good as absent.
 */
#define XLVS_LBLC_MAX_DESTS	65536	/* entries of xlvs_lblc and of xlvs_lblcr */
#define XLVS_LBLCR_SET_MAX	8	/* reals one lblcr destination keeps (IPVS: no bound) */
#define XLVS_SCHED_EXPIRE_DEFAULT (24 * 3600)

/* xlvs_lblc: LRU_HASH (struct xlvs_svc_addr_key) -> struct xlvs_lblc_dest. */
struct xlvs_lblc_dest {
	__u32 real_id;		/* with real_gen: the exact real, as in struct xlvs_conn */
	__u32 real_gen;
	__u32 last_used;	/* low 32 bits of jiffies */
	__u32 pad;
};
XLVS_ABI_SIZE(struct xlvs_lblc_dest, 16);

struct xlvs_lblcr_member {
	__u32 real_id;
	__u32 real_gen;
};
XLVS_ABI_SIZE(struct xlvs_lblcr_member, 8);

/* xlvs_lblcr: LRU_HASH (struct xlvs_svc_addr_key) -> struct xlvs_lblcr_set. */
struct xlvs_lblcr_set {
	struct xlvs_lblcr_member m[XLVS_LBLCR_SET_MAX]; /* m[0 .. n) */
	__u32 last_used;	/* jiffies, low 32 bits */
	__u32 last_modified;	/* jiffies when a member was added or removed */
	__u32 n;
};
XLVS_ABI_SIZE(struct xlvs_lblcr_set, 76);

/* xlvs_ring: slots of real ids; service rings are slices [ring_base, ring_base + ring_size).
 * The slice is the scheduler's table (maps/schedtab.h): maglev and mh a Maglev ring, sh and dh
 * IPVS's weighted buckets, rr and wrr their sequence repeated over the whole slice.
 * In a ring-state service's slice (XLVS_SVC_F_RING_STATE) a slot whose owner changed carries
 * XLVS_SLOT_CHANGED with the id, and xlvs_ring_prev[slot] says who owned it before. An empty
 * slot (XLVS_REAL_NONE) counts as changed. xlvs_slot_real() gives the id either way.
 * The map is an ARRAY of blocks: slot s is xlvs_ring[s / XLVS_RING_BLOCK].slot[s % XLVS_RING_BLOCK].
 * An array element takes at least 8 bytes, so one slot per element took 512 KB for a
 * 65,537-slot ring; a 64-byte block holds 16 slots in one cache line with nothing wasted, and a
 * packet's ring read lands among half as many pages (docs/bench.md "Where a ring-state packet's
 * time goes"). Slices need not start on a block: userspace writes blocks whole (maps/ringio.c). */
#define XLVS_RING_BLOCK		16
#define XLVS_SLOT_CHANGED	(1u << 31)

struct xlvs_ring_block {
	__u32 slot[XLVS_RING_BLOCK];
};
XLVS_ABI_SIZE(struct xlvs_ring_block, 64);

/* xlvs_ring entries (blocks) that hold slots [0, slots). */
static inline __u32 xlvs_ring_blocks(__u32 slots)
{
	return slots / XLVS_RING_BLOCK + !!(slots % XLVS_RING_BLOCK);
}

static inline __u32 xlvs_slot_real(__u32 v)
{
	return v == XLVS_REAL_NONE ? v : v & ~XLVS_SLOT_CHANGED;
}

/*
 * xlvs_ring_prev: ARRAY slot -> struct xlvs_slot_prev, sized as xlvs_ring. Written
 * (before the slot) when a ring-state slot changes owner: the owner before the change,
 * kept while the slot changes again within the window (its oldest previous owner),
 * and until when (jiffies) a packet without an entry may still be a flow that began
 * before the change. until 0: no previous owner. xlvsd clears XLVS_SLOT_CHANGED
 * once until has passed and no unexpired entry of the slot names another real.
 */
struct xlvs_slot_prev {
	__u32 real_id;		/* with real_gen: the exact real, as in struct xlvs_conn */
	__u32 real_gen;
	__u32 until;		/* low 32 bits of jiffies; 0 = none (a real stamp is never 0) */
	__u32 pad;
};
XLVS_ABI_SIZE(struct xlvs_slot_prev, 16);

/*
 * xlvs_vip_filter: ARRAY word -> __u64, a one-hash Bloom filter of VIP addresses:
 * bit xlvs_addr_hash(addr) % XLVS_VIP_FILTER_BITS is set for every VIP. A clear
 * bit proves "not ours" with one inlined array load; a set bit lets the flow
 * table be consulted before the service table (a hit needs no service lookup).
 */
#define XLVS_VIP_FILTER_BITS	(1u << 18)
#define XLVS_VIP_FILTER_WORD_BITS 64	/* bits in one __u64 value */
#define XLVS_VIP_FILTER_WORDS	(XLVS_VIP_FILTER_BITS / XLVS_VIP_FILTER_WORD_BITS)

/* xlvs_conns: LRU_HASH (per-CPU LRU lists) (struct xlvs_flow) -> struct xlvs_conn. */
struct xlvs_flow {
	__be32 src[4];
	__be32 dst[4];
	__be16 sport;		/* ICMP echo: identifier */
	__be16 dport;
	__u8 proto;
	__u8 family;
	__u8 pad[2];
};
XLVS_ABI_SIZE(struct xlvs_flow, 40);	/* docs/bench.md: a 40-byte key */

/*
 * What the director sees of a TCP connection. Only the client's half passes
 * through it (replies go straight from the real, as in LVS-DR/TUN), so like
 * IPVS in those modes it goes by the client's flags:
 *   SYN      only SYNs seen: the handshake has not completed through us, and
 *            the real may have refused it with a RST we never see. A SYN with
 *            the recorded initial sequence number is a retransmission and keeps
 *            the real; a SYN with another one is a new attempt, scheduled afresh.
 *   OPEN     a packet other than a SYN was seen (the handshake's ACK, data).
 *   CLOSING  the client sent FIN or RST. A SYN on it is a new connection
 *            reusing the ports: scheduled afresh (IPVS conn_reuse_mode).
 * Whatever the state, a SYN whose entry names a real at weight 0 (quiesced
 * by a failed check, drained, or set to 0) is scheduled afresh as IPVS's
 * expire_nodest_conn does, while the flow's other packets still reach that
 * real, so drains stay graceful. UDP stays OPEN. An entry idle longer than
 * its state's lifetime (enum xlvs_timeout) is expired: as good as absent.
 * ipvsadm's ActiveConn counts unexpired TCP entries in OPEN (IPVS's
 * ESTABLISHED), InActConn the other unexpired ones, UDP's included (IPVS
 * counts UDP connections as inactive too); `xlvs real drain --wait` waits
 * for ActiveConn to reach 0.
 */
enum xlvs_conn_state {
	XLVS_CONN_OPEN = 0,
	XLVS_CONN_CLOSING = 1,
	XLVS_CONN_SYN = 2,
};
/* A TCP entry's state is its lifetime's index. */
_Static_assert((int)XLVS_TO_TCP == (int)XLVS_CONN_OPEN && (int)XLVS_TO_TCP_FIN == (int)XLVS_CONN_CLOSING &&
	       (int)XLVS_TO_TCP_SYN == (int)XLVS_CONN_SYN && XLVS_TO_MAX == 4, "lifetime index = TCP state");

struct xlvs_conn {
	__u32 real_id;		/* with real_gen: the exact real it was made for; its service is the real's */
	__u32 real_gen;		/* xlvs_real.gen then: ids are reused, an entry never follows them */
	__u32 hash;		/* flow hash, kept so GUE source ports need no rehash */
	__u32 last_seen;	/* low 32 bits of jiffies (bpf_jiffies64 is inlined, clock helpers are not) */
	__be32 isn;		/* the client's initial sequence number, in state SYN */
	__u8 state;		/* enum xlvs_conn_state */
	__u8 snat_idx;		/* fullnat: the client's new source, xlvs_snat_pool[snat_idx] ... */
	__be16 snat_port;	/* ... and this port (0: not fullnat) */
};
XLVS_ABI_SIZE(struct xlvs_conn, 24);	/* docs/architecture.md: 24 bytes */

/*
 * xlvs_nat: LRU_HASH (struct xlvs_flow of a reply as the real sends it: src =
 * real address and port, dst = the client's (nat) or the pool's (fullnat)
 * address and port) -> struct xlvs_nat_rev: what the reply becomes, and the
 * forward entry (client -> VIP, in xlvs_conns) it belongs to. Written with the
 * forward entry; a reply whose entry names a real generation that no longer
 * serves is not translated. A reply keeps its forward entry alive (its
 * last_seen moves as a client packet's would), at most once per second per
 * flow: last_seen here says when a reply last did. xlvsd's sweep deletes an
 * entry whose forward entry is gone. For fullnat the key's uniqueness is what
 * keeps two clients off one pool address and port towards a real.
 */
#define XLVS_NAT_DEFAULT	XLVS_CONNS_DEFAULT	/* xlvs_nat entries unless the loader resizes */
struct xlvs_nat_rev {
	__be32 vaddr[4];	/* the VIP: the reply's new source */
	__be32 caddr[4];	/* the client: the reply's new destination (nat: unchanged) */
	__be16 vport;
	__be16 cport;
	__u32 real_id;		/* with real_gen: the exact real, as in struct xlvs_conn */
	__u32 real_gen;
	__u32 last_seen;	/* as struct xlvs_conn's: when a reply last refreshed the forward entry */
};
XLVS_ABI_SIZE(struct xlvs_nat_rev, 48);

/* The forward entry a reverse entry belongs to (client -> VIP, as xlvs_conns keys it); reply is
 * the reverse entry's key. One definition for the data path's refresh and xlvsd's sweep. */
static inline __attribute__((always_inline)) void
xlvs_nat_fwd_key(const struct xlvs_flow *reply, const struct xlvs_nat_rev *rev, struct xlvs_flow *f)
{
	__builtin_memset(f, 0, sizeof(*f));
	__builtin_memcpy(f->src, rev->caddr, sizeof(f->src));
	__builtin_memcpy(f->dst, rev->vaddr, sizeof(f->dst));
	f->sport = rev->cport;
	f->dport = rev->vport;
	f->proto = reply->proto;
	f->family = reply->family;
}	/* 44 before 2026-12-07: docs/platform.md, layout changes */

/*
 * xlvs_nat_srcs: HASH (struct xlvs_vip_key: a nat/fullnat real's address) ->
 * __u32 (how many such reals have it). Only packets from these addresses are
 * looked up in xlvs_nat, so other traffic to the director pays one lookup in
 * a small table, and a miss from one of them is counted (pass_nat_reply_unknown).
 */
#define XLVS_NAT_SRCS_MAX	XLVS_MAX_REALS

/*
 * xlvs_snat_pool: ARRAY index -> struct xlvs_vip_key: fullnat's source
 * addresses. IPv4 ones at [snat4_first, snat4_first + snat4_count), IPv6 ones
 * at [snat6_first, ...) (struct xlvs_config); ports snat_port_lo..hi. A new
 * flow tries XLVS_SNAT_TRIES (address, port) pairs from its hash and drops
 * (snat_exhausted) when every one is held by a live connection to that real.
 */
#define XLVS_SNAT_POOL_MAX	64
#define XLVS_SNAT_TRIES		8
#define XLVS_SNAT_PORT_LO	1024
#define XLVS_SNAT_PORT_HI	65535

/*
 * xlvs_hc_marks: HASH (__u32 socket mark) -> struct xlvs_hc_target. xlvsd's
 * health checks of a tun/gue/dr real connect to the VIP with SO_MARK set to
 * a mark of their own (hc_mark_value | n, within hc_mark_mask); the tc program
 * (bpf/xlvs_tc.bpf.c) on the egress interface sends such packets to that real
 * as client traffic goes: encapsulated, or with its MAC. A mark whose target's
 * generation no longer matches is not followed (hc_mark_stale).
 */
#define XLVS_HC_MARKS_MAX	XLVS_MAX_REALS
struct xlvs_hc_target {
	__u32 real_id;
	__u32 real_gen;
};
XLVS_ABI_SIZE(struct xlvs_hc_target, 8);

/*
 * Striped arrays: the counters below and xlvs_svc_cache are plain ARRAYs
 * holding one stripe of `stride` entries per possible CPU, CPU c's entry for
 * id i at xlvs_stripe_key(c, stride, i). Each CPU writes only its own
 * stripe, as with a PERCPU_ARRAY, but a lookup is one load where a per-CPU
 * one is two dependent loads in two pages (the element's pointer, then the
 * per-CPU area): docs/bench.md, "Counters in stripes". Loaders size them to
 * possible CPUs x stride (xlvs_lb_size_stripes() in maps/xlvsmaps.h).
 */
#define XLVS_SVC_STATS_STRIDE	XLVS_MAX_SERVICES	/* xlvs_svc_stats, xlvs_svc_out */
#define XLVS_REAL_STATS_STRIDE	XLVS_MAX_REALS		/* xlvs_real_stats, xlvs_real_out */

static inline __u32 xlvs_stripe_key(__u32 cpu, __u32 stride, __u32 id)
{
	return cpu * stride + id;
}

/*
 * xlvs_svc_stats (striped ARRAY by service id) and xlvs_real_stats (by real
 * id): packets to the reals, IPVS's InPkts and InBytes, and new flows
 * (Conns). xlvs_svc_out and xlvs_real_out (the same keys): the VS-NAT and
 * FULLNAT replies the director translated back to the clients, ICMP errors
 * on the reply's way included (IPVS's OutPkts and OutBytes); their new_flows
 * stay 0. Bytes are the frame's length as received (Ethernet header on). An
 * id given to a new service or real has all four entries zeroed first, on
 * every CPU's stripe.
 */
struct xlvs_counters {
	__u64 packets;
	__u64 bytes;
	__u64 new_flows;
};
XLVS_ABI_SIZE(struct xlvs_counters, 24);

/* xlvs_drops: striped ARRAY (stride XLVS_DROP_SLOTS) enum xlvs_drop_reason -> __u64; xlvs_events likewise
 * (stride XLVS_EV_SLOTS). */

/* xlvs_syn_guard: PERCPU_ARRAY, one entry: the per-CPU new-flow rate window. */
struct xlvs_syn_window {
	__u64 start_ns;
	__u64 count;
};
XLVS_ABI_SIZE(struct xlvs_syn_window, 16);

/* xlvs_config: ARRAY, one entry: runtime settings the daemon may change live. */
struct xlvs_config {
	__u32 flags;		/* XLVS_CFG_F_* */
	__u32 syn_guard_rate;	/* new-flow SYNs per second per CPU before not inserting; 0 = off */
	__u16 tun_mtu;		/* largest L3 packet after encapsulation; 0 = no check */
	__be16 gue_port;	/* default GUE destination port */
	__u8 gw_mac[6];		/* fallback next hop when bpf_fib_lookup fails */
	__u16 pad;
	__be32 src4;		/* outer source for IPv4 tunnels */
	__be32 src6[4];		/* outer source for IPv6 tunnels */
	__u32 hz;		/* jiffies per second, measured by xlvsd; 0 = entries never expire */
	__u32 timeout[XLVS_TO_MAX]; /* connection lifetimes in seconds, by enum xlvs_timeout */
	__u8 snat4_first;	/* fullnat pool: IPv4 addresses in xlvs_snat_pool */
	__u8 snat4_count;
	__u8 snat6_first;	/* ... and IPv6 ones */
	__u8 snat6_count;
	__u16 snat_port_lo;	/* fullnat source ports, host order, lo <= hi */
	__u16 snat_port_hi;
	__u32 hc_mark_mask;	/* health-check socket marks: (mark & mask) == value */
	__u32 hc_mark_value;	/* 0 and 0: no steering */
	__u32 svc_gen;		/* bumped after every xlvs_services change (xlvs_maps_svc_changed()): */
				/* the data path's service cache (xlvs_svc_cache) drops older copies */
};
XLVS_ABI_SIZE(struct xlvs_config, 80);

/*
 * xlvs_svc_cache: striped ARRAY (stride XLVS_SVC_CACHE_SLOTS) slot -> struct xlvs_svc_cached: the
 * services this CPU's packets were for, direct-mapped by xlvs_svc_cache_slot() (hash.h). A copy is used while its gen is
 * xlvs_config's svc_gen (32 bits: no wrap brings an old copy back) for at most
 * XLVS_SVC_CACHE_USES packets; then the service is looked up and copied again,
 * so an entry of xlvs_services written by hand without moving svc_gen on is
 * still taken up by a service with traffic. No clock: the packet of a stable
 * ring slot reads none (docs/bench.md).
 * One line of this CPU's stripe instead of a hash lookup on every packet.
 */
#define XLVS_SVC_CACHE_BITS	6
#define XLVS_SVC_CACHE_SLOTS	(1u << XLVS_SVC_CACHE_BITS)
#define XLVS_SVC_CACHE_USES	65536
struct xlvs_svc_cached {
	struct xlvs_svc_key key;	/* the packet's (VIP, port, proto): port-0 services are */
					/* cached under the ports they served */
	__u32 gen;			/* xlvs_config.svc_gen when copied */
	__u32 uses;			/* packets that used this copy */
	struct xlvs_service svc;
};
XLVS_ABI_SIZE(struct xlvs_svc_cached, 80);

/* ---- real-server decapsulation (bpf/xlvs_decap.bpf.c) ----------------------- */

/* xlvs_decap_addrs: HASH (struct xlvs_vip_key: here a local tunnel endpoint) -> __u32 (unused, 1). */
#define XLVS_DECAP_MAX_ADDRS	256	/* its max_entries */

/* xlvs_decap_cfg: ARRAY, one entry. */
#define XLVS_DECAP_F_CHECK_DST	(1u << 0)	/* only decapsulate to addresses in xlvs_decap_addrs */
struct xlvs_decap_cfg {
	__u32 flags;
};
XLVS_ABI_SIZE(struct xlvs_decap_cfg, 4);

/* xlvs_decap_stats: PERCPU_ARRAY enum xlvs_decap_counter -> __u64. */
#define XLVS_DECAP_COUNTERS(X)						\
	X(IPIP,			"ipip")					\
	X(IP6IP6,		"ip6ip6")				\
	X(4IN6,			"4in6")					\
	X(6IN4,			"6in4")					\
	X(GUE4,			"gue4")					\
	X(GUE6,			"gue6")					\
	X(REJ_NOT_LOCAL,	"rejected_not_local")			\
	X(REJ_TRUNC,		"rejected_truncated")			\
	X(REJ_BAD_INNER,	"rejected_bad_inner")			\
	X(REJ_FRAGMENT,		"rejected_fragment")			\
	X(REJ_BAD_HDR,		"rejected_bad_header")			\
	X(REJ_IP4_CSUM,		"rejected_bad_ip4_checksum")		\
	X(REJ_UDP_LEN,		"rejected_bad_udp_length")		\
	X(REJ_UDP_CSUM,		"rejected_bad_udp_checksum")

#define XLVS_X_ENUM(id, name) XLVS_DECAP_##id,
enum xlvs_decap_counter {
	XLVS_DECAP_COUNTERS(XLVS_X_ENUM)
	XLVS_DECAP_MAX,
};
#undef XLVS_X_ENUM

/* ---- names for userspace --------------------------------------------------- */
#ifndef __bpf__
#define XLVS_X_NAME(id, name) name,
static const char *const xlvs_drop_names[XLVS_DROP_MAX] = { XLVS_DROP_REASONS(XLVS_X_NAME) };
static const char *const xlvs_event_names[XLVS_EV_MAX] = { XLVS_EVENTS(XLVS_X_NAME) };
static const char *const xlvs_decap_names[XLVS_DECAP_MAX] = { XLVS_DECAP_COUNTERS(XLVS_X_NAME) };
static const char *const xlvs_fwd_names[XLVS_FWD_MAX] = { XLVS_FWDS(XLVS_X_NAME) };
static const char *const xlvs_sched_names[XLVS_SCHED_MAX] = { XLVS_SCHEDS(XLVS_X_NAME) };
#undef XLVS_X_NAME
#define XLVS_X_NAME(id, name, secs) name,
#define XLVS_X_SECS(id, name, secs) secs,
static const char *const xlvs_timeout_names[XLVS_TO_MAX] = { XLVS_TIMEOUTS(XLVS_X_NAME) };
static const unsigned int xlvs_timeout_defaults[XLVS_TO_MAX] = { XLVS_TIMEOUTS(XLVS_X_SECS) };
#undef XLVS_X_NAME
#undef XLVS_X_SECS
#endif

#endif /* XLVS_ABI_H */
