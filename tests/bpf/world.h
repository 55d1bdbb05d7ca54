/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A loaded director with a standard set of services ("the world") that fixture
 * rows run against, plus helpers to run packets and read counters.
 */
#ifndef XLVS_TEST_WORLD_H
#define XLVS_TEST_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xlvs/abi.h>

#include "pktgen.h"

struct xlvs_lb_bpf;

#define STD_REALS_MAX 4

struct real_def {
	const char *addr;
	uint32_t weight;
	uint16_t gue_port; /* host order; 0 = default */
};

struct svc_def {
	const char *name; /* for messages */
	const char *vip;
	uint8_t proto;
	uint16_t port;
	uint8_t sched;
	uint8_t fwd;
	uint32_t flags; /* XLVS_SVC_F_* */
	uint32_t ring_size;
	struct real_def reals[STD_REALS_MAX];
};

/* Standard services, by index (service id == index). */
enum std_svc {
	SVC_DR4,
	SVC_IPIP,
	SVC_GUE4,
	SVC_DR4_ANY,
	SVC_DR6,
	SVC_IP6IP6,
	SVC_4IN6,
	SVC_GUE6,
	SVC_DR4_UDP,
	SVC_TUN6_UDP,
	SVC_GUE_4IN6,
	SVC_6IN4,
	SVC_RR,
	SVC_EMPTY,
	SVC_NAT,
	SVC_DR6_ANY,
	SVC_GUE4_UDP,
	SVC_GUE6_UDP,
	SVC_IPIP_UDP,
	SVC_DR6_UDP,
	STD_SVC_MAX,
};

extern const struct svc_def std_svcs[STD_SVC_MAX];

#define STD_TUN_MTU  1500
#define STD_SRC4     "198.18.0.1"
#define STD_SRC6     "2001:db8::1"
#define STD_GUE_PORT 6080
#define CLIENT4	     "198.18.100.7"
#define CLIENT6	     "2001:db8:100::7"

struct world {
	struct xlvs_lb_bpf *skel;
	int prog_fd;
	int ifindex; /* ctx ingress ifindex for runs; 0 = loopback default */
	int ncpus;
	uint32_t ring_base[STD_SVC_MAX];
};

/* A map's fd; needs xlvs_lb.skel.h included. */
#define MAP_FD(w, name) bpf_map__fd((w)->skel->maps.name)

struct world_opts {
	uint32_t conn_entries; /* 0 = 4096 */
	uint32_t ring_slots;   /* 0 = enough for std_svcs */
	/* xlvs_conns as a plain hash: full at conn_entries, it refuses inserts (an LRU evicts) */
	bool conns_no_lru;
};

void world_open(struct world *w, const struct world_opts *o);
/* The ring slots std_svcs take (from slot 0); a test's own slices go after them. */
uint32_t world_std_slots(void);
void world_close(struct world *w);
/* Install std_svcs, their reals, rings, VIPs and the standard config. */
void world_std(struct world *w);

uint32_t std_real_id(int svc, int idx);
/* The next-hop MAC world_std gives a real. */
void real_mac(uint32_t id, uint8_t mac[6]);
/* Write one real of a standard service (also used to change it in a row). */
void world_put_real(struct world *w, int svc, int idx, const struct real_def *rd);
void world_get_real(struct world *w, uint32_t id, struct xlvs_real *r);
void world_set_real(struct world *w, uint32_t id, const struct xlvs_real *r);
/* Set a standard service's real weights (one per real) and rebuild its ring from them. */
void world_set_weights(struct world *w, int svc, const uint32_t *weights);

/* Mark an address as a possible VIP in xlvs_vip_filter (addr: 1 or 4 words, network order). */
void world_vip_filter_add(struct world *w, uint8_t family, const uint32_t *addr);
void world_get_config(struct world *w, struct xlvs_config *cfg);
/* Writes cfg with svc_gen moved on (the data path's service cache, abi.h). */
void world_set_config(struct world *w, const struct xlvs_config *cfg);
/* The clock as xlvsd sets it: the kernel's hz and the default lifetimes (entries expire, and
 * last-seen is stamped once a second). */
void world_set_clock(struct world *w, uint32_t hz);
/* Writes a service entry as xlvsd does: with svc_gen moved on. */
void world_service_put(struct world *w, const struct xlvs_svc_key *k, const struct xlvs_service *v);

/* A standard service's key and entry as world_std writes them (ring slice at w->ring_base[svc]). */
void world_std_entry(const struct world *w, int svc, struct xlvs_svc_key *k, struct xlvs_service *v);

/* BPF_PROG_RUN once; returns the XDP verdict, fills out/out_len. */
int world_run(struct world *w, const void *in, size_t len, void *out, size_t *out_len);

uint64_t world_drop(struct world *w, enum xlvs_drop_reason r);
uint64_t world_event(struct world *w, enum xlvs_event e);
uint64_t world_drops_total(struct world *w);
/* Entry id of a striped counter map (abi.h), every CPU's stripe added up. */
struct xlvs_counters world_stripes(struct world *w, int fd, uint32_t stride, uint32_t id);
struct xlvs_counters world_svc_stats(struct world *w, uint32_t id);
struct xlvs_counters world_real_stats(struct world *w, uint32_t id);
uint32_t world_conn_count(struct world *w);
/* Which of the n reals first_id, first_id + 1, ... a frame went to (0 .. n - 1), by its
 * destination MAC (real_mac()); -1: not XDP_TX, or to none of them. */
int world_frame_real(int verdict, const uint8_t *out, uint32_t first_id, int n);

/* The flow key a spec produces (client -> VIP), and the real Maglev gives it. */
void spec_flow(const struct pkt_spec *s, struct xlvs_flow *f);
/* The flow hash, and the std service's real for a flow, as the world's config says (hash.h). */
uint32_t world_flow_hash(struct world *w, const struct xlvs_flow *f);
uint32_t world_ring_pick(struct world *w, int svc, const struct xlvs_flow *f);
int std_svc_of_real(uint32_t real_id);

/* For scenario tests: the conn entry of a flow (false: none), */
bool world_get_conn(struct world *w, const struct xlvs_flow *f, struct xlvs_conn *c);
/* write one (a flow's entry as the data path would have left it), */
void world_put_conn(struct world *w, const struct xlvs_flow *f, const struct xlvs_conn *c);
/* pin every map as dir/<map name> (dir must be on a bpffs), */
void world_pin(struct world *w, const char *dir);
/* and BPF_PROG_RUN in live-frames mode on w->ifindex: XDP_TX/REDIRECT frames really leave,
 * XDP_PASS frames enter its stack. The kernel reports neither verdict nor output here. */
void world_run_live(struct world *w, const void *in, size_t len);

#endif
