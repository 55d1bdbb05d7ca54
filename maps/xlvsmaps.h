/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libxlvsmaps, the userspace library that xlvsd and the xlvs CLI both link:
 * typed access to every map of the director (this header), XDP attach helpers
 * and the decapsulator's control (attach/), logging (log.h). Functions return
 * 0 (or a count) on success and -errno on failure; none of them prints.
 *
 * A director's services in four types, one line each:
 *   struct xlvs_spec   the desired state: what the file or a control command asks for (spec.h)
 *   struct xlvs_state  what the maps hold now, by service (xlvs_state_read(), below)
 *   struct map_image   inside the library: the raw map entries plan and state start from
 *   cli/snap.h         the CLI's own read of maps and counters, for printing
 */
#ifndef XLVS_MAPS_H
#define XLVS_MAPS_H

#include <linux/bpf.h> /* BPF_OBJ_NAME_LEN */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xlvs/abi.h>

#include "maglev.h"
#include "spec.h"

#define XLVS_PIN_DIR "/sys/fs/bpf/xlvs"

struct bpf_object;
struct xlvs_lb_bpf;

/* File descriptors of the director's maps (-1 = not open). */
struct xlvs_maps {
	int services, vips, reals, ring, conns;
	int svc_stats, real_stats, drops, events, syn_guard, config;
	int vip_filter;		  /* added: xlvs_vip_filter, kept by xlvs_apply */
	int real_load;		  /* xlvs_real_load: lc/wlc/sed/nq/lblc/lblcr counts (abi.h) */
	int persist;		  /* xlvs_persist: persistence templates (bpf/persist.h) */
	int hc_marks;		  /* xlvs_hc_marks: health-check socket marks (bpf/xlvs_tc.bpf.c) */
	int nat;		  /* xlvs_nat: NAT/FULLNAT replies -> client flow (abi.h) */
	int nat_srcs;		  /* xlvs_nat_srcs: nat/fullnat real addresses, kept by xlvs_apply */
	int snat_pool;		  /* xlvs_snat_pool: fullnat sources, kept by xlvs_maps_set_global */
	int ring_prev;		  /* xlvs_ring_prev: ring-state slots' previous owners, kept by xlvs_apply */
	int svc_out, real_out;	  /* xlvs_svc_out, xlvs_real_out: NAT replies' counters (abi.h) */
	uint32_t ring_slots;	  /* slots of xlvs_ring: max_entries x XLVS_RING_BLOCK */
	uint32_t ring_prev_slots; /* of xlvs_ring_prev: loaders size it as xlvs_ring; plans use the smaller */
	uint32_t conn_entries;	  /* max_entries of xlvs_conns */
	uint32_t nat_entries;	  /* max_entries of xlvs_nat (the loader sizes it as xlvs_conns) */
	int ncpus;		  /* possible CPUs: per-CPU values, stripes (abi.h) */
	char failed[BPF_OBJ_NAME_LEN]; /* open/from_obj failed: the map that did ("" otherwise) */
};

/*
 * Open the maps pinned under dir (XLVS_PIN_DIR normally). Names come from the
 * skeleton; a map whose type, key or value size (or, except for the ring and
 * the connection table, max_entries) differs from the skeleton's is refused
 * with -EPROTO: a pin left by another version of xlvs. On error every fd is -1
 * and m->failed names the map that was missing (-ENOENT) or refused.
 */
int xlvs_maps_open(struct xlvs_maps *m, const char *dir);
/* Take the maps of a loaded object (dup'ed fds; the object may be closed afterwards). */
int xlvs_maps_from_obj(struct xlvs_maps *m, struct bpf_object *obj);
/* Only on maps that open/from_obj filled (even if they failed). */
void xlvs_maps_close(struct xlvs_maps *m);
/*
 * Size the striped maps of an opened, not yet loaded xlvs_lb (abi.h: the
 * counters and xlvs_svc_cache) to a stripe per possible CPU. Every loader
 * calls it; open/from_obj refuse counter maps of another size (-EPROTO).
 * -E2BIG: a stripe per CPU does not fit an array.
 */
int xlvs_lb_size_stripes(struct xlvs_lb_bpf *skel);
/*
 * The max_entries the kernel gives xlvs_conns (and xlvs_nat) created for conn_table_size
 * (0: XLVS_CONNS_DEFAULT) on ncpus possible CPUs: a per-CPU LRU (BPF_F_NO_COMMON_LRU) is
 * rounded up to a multiple of them (down when that overflows), so each CPU's list has its
 * share. A file asks for the pinned table when this is its max_entries.
 */
uint32_t xlvs_conns_entries(uint32_t conn_table_size, int ncpus);

/*
 * xlvs_config from the global settings (gue_port 0 = XLVS_GUE_PORT_DEFAULT),
 * and xlvs_snat_pool from the fullnat pool (IPv4 addresses first, then IPv6,
 * written before the config that counts them). XLVS_CFG_F_NAT is kept as it
 * is: xlvs_apply() sets it with the nat/fullnat reals it writes.
 */
int xlvs_maps_set_global(struct xlvs_maps *m, const struct xlvs_global_spec *g);
/* The pinned state's flow hash (-ENOENT: no xlvsd wrote the config yet); the config file's names. */
int xlvs_maps_flow_hash(struct xlvs_maps *m, enum xlvs_flow_hash *h);
extern const char *const xlvs_flow_hash_names[2];
/*
 * After any change to xlvs_services: bump xlvs_config.svc_gen, so no CPU's
 * service cache (abi.h struct xlvs_svc_cached) serves the old entry again.
 */
int xlvs_maps_svc_changed(struct xlvs_maps *m);
int xlvs_maps_get_config(struct xlvs_maps *m, struct xlvs_config *cfg);
/* The fullnat pool as the data path indexes it (xlvs_conn.snat_idx); unused slots: family 0. */
int xlvs_snat_pool_read(struct xlvs_maps *m, struct xlvs_addr pool[XLVS_SNAT_POOL_MAX]);

/* ---- the state in the maps ---- */
struct xlvs_real_state {
	uint32_t id;
	struct xlvs_real real;
};

struct xlvs_svc_state {
	struct xlvs_svc_key key;
	struct xlvs_service svc;
	size_t nr_reals;
	struct xlvs_real_state *reals; /* ACTIVE reals with real.svc_id == svc.id, by id */
};

struct xlvs_state {
	size_t nr_services;
	struct xlvs_svc_state *services; /* sorted by service id */
};

int xlvs_state_read(struct xlvs_maps *m, struct xlvs_state *st);
void xlvs_state_free(struct xlvs_state *st);
/* Ids [0, *nr_svc) and [0, *nr_real) hold every service's and real's of st (0: none). */
void xlvs_state_nr_ids(const struct xlvs_state *st, uint32_t *nr_svc, uint32_t *nr_real);

/* ---- applying a desired state ---- */

/* What an apply wrote: proves that only the difference was written. */
struct xlvs_apply_stats {
	uint32_t services_added, services_updated, services_removed;
	uint32_t reals_written, reals_removed;
	uint32_t ring_slots_written;
	uint32_t vips_written, vips_removed;
	uint32_t vip_filter_written; /* added: xlvs_vip_filter words written */
	uint32_t reals_counted_on;   /* reals kept that became XLVS_REAL_F_COUNTED: reconcile them */
	uint32_t nat_srcs_written, nat_srcs_removed; /* xlvs_nat_srcs entries */
};

/*
 * Make the maps hold exactly `want`'s services. Unchanged services and reals
 * are not written; ring updates write only changed slots. Order: reals and
 * rings first, the service entry last (deletion in reverse), so no packet
 * sees a half-written service. Real ids stay stable for a real that is still
 * configured (identity: service key + real address + port). On error the maps
 * hold the old or the new version of each service, never a mix.
 */
int xlvs_apply(struct xlvs_maps *m, const struct xlvs_spec *want, struct xlvs_apply_stats *st);

/*
 * Details of xlvs_apply (one writer at a time; st may be NULL):
 * - Everything is validated before the first write; -EINVAL (malformed spec,
 *   same service or real twice, ring size not a prime, a nat/fullnat real of
 *   another family than its VIP, a fullnat real without a pool address of its
 *   family in want->global) or -ENOSPC (no free service/real id, no ring space) leave the maps untouched.
 * - A real's identity is (service, address): DR/TUN/GUE deliver to the VIP's
 *   port; a nat/fullnat real's own port is in xlvs_real.port (changing it
 *   rewrites the real, keeping its id), so two reals of one service need
 *   distinct addresses.
 * - xlvs_nat_srcs holds each nat/fullnat real's address with the number of
 *   such reals: entries the apply needs are written before the services,
 *   those it no longer needs deleted after them. XLVS_CFG_F_NAT in
 *   xlvs_config is set before the services when some real is nat/fullnat,
 *   and cleared after them when none is.
 * - Ids and ring slices follow from the maps and the spec alone (lowest free
 *   id, first-fit slice), so the daemon and the CLI compute the same. An id
 *   freed by an apply is not reused by that apply.
 * - Only the daemon's next-hop resolver sets NH_VALID/nh_*: rewriting a real
 *   whose address stays keeps them.
 * - The counters of a newly allocated service or real id are zeroed.
 * - ACTIVE reals of no service (left by an interrupted apply) are deactivated.
 * - A real is XLVS_REAL_F_COUNTED when its service's scheduler weighs
 *   connections (xlvs_sched_counts()). Its xlvs_real_load is zeroed before it
 *   is written when its id is new to it or it starts being counted, and after
 *   when it stops being counted.
 */
#define XLVS_APPLY_F_VERIFY_RINGS                                                                            \
	(1u << 0) /* rebuild every ring and rewrite slots
							 * that differ (after a crash mid-apply) */
int xlvs_apply_ex(struct xlvs_maps *m, const struct xlvs_spec *want, unsigned int flags,
		  struct xlvs_apply_stats *st);

/*
 * xlvs_apply_ex for the maps' only writer (xlvsd), which may know which real
 * ids are in use. Reading all XLVS_MAX_REALS entries of xlvs_reals is most
 * of an apply that changes one real (a batch lookup costs ~130 ns an entry:
 * 8-9 ms on the development VM), so:
 * - reals_end, in: the ids at and above it are not ACTIVE (nothing but the
 *   caller wrote xlvs_reals since its last apply returned it): only the ids
 *   below it are read. A new id at or above it is read before it is used (its
 *   generation); if that one is ACTIVE after all, the apply fails with -ESTALE
 *   before any write (apply again with 0). 0: read every id, as xlvs_apply_ex().
 *   Out, on success: 1 + the highest real id ACTIVE now (0: none).
 * - msg (may be NULL): why the plan failed, capacity included (xlvs_plan_check()).
 * - memo (may be NULL): *memo, if not NULL, is what the caller's last apply
 *   wrote, by service (ids, reals); a successful apply without scope replaces
 *   it with its own (the caller frees it with xlvs_apply_memo_free()).
 * - scope (needs *memo): want->nr_services flags; only the services flagged
 *   are planned and written, their reals read by the ids in *memo; the maps'
 *   other services, VIPs, VIP filter and xlvs_nat_srcs are left as they are
 *   (the caller knows they hold want's other services). A health change for
 *   one real so costs the services it changes, not the configuration. Only
 *   weights may change: a flagged service whose reals come or go (a new id),
 *   that *memo or the maps do not hold as *memo says, or whose ring slice
 *   would move, fails with -ESTALE before any write (apply again without
 *   scope). reals_end and *memo stay as they are.
 * Ids, rings and entries are those xlvs_apply_ex() gives the same maps.
 */
struct xlvs_apply_memo;
struct xlvs_apply_opts {
	unsigned int flags; /* XLVS_APPLY_F_* */
	uint32_t reals_end;
	char *msg;
	size_t msg_size;
	struct xlvs_apply_memo **memo;
	const uint8_t *scope;
};
void xlvs_apply_memo_free(struct xlvs_apply_memo *mm);
int xlvs_apply_with(struct xlvs_maps *m, const struct xlvs_spec *want, struct xlvs_apply_opts *o,
		    struct xlvs_apply_stats *st);

/* ---- capacity: what a configuration needs of the maps ---- */

/*
 * xlvs_ring is the one map sized from the configuration (the others have
 * their ABI sizes: XLVS_MAX_SERVICES services, XLVS_MAX_REALS reals). A load
 * creates it with
 *     max(XLVS_RING_SLOTS_DEFAULT, min(2 x the sum of the rings, XLVS_RING_SLOTS_MAX))
 * slots, rounded up to whole blocks of XLVS_RING_BLOCK (abi.h; an entry is a
 * block): twice the sum because a service whose ring changes size gets its new
 * slice while its old one is still in use (the old slice is freed only by the
 * apply after), so changing every ring at once, e.g. a large service made
 * small in one reload, needs old and new side by side. A configuration whose
 * rings alone exceed XLVS_RING_SLOTS_MAX is refused: a slot takes 4 bytes of
 * kernel memory, so the cap is 256 MiB; xlvs_ring_prev, created with as many
 * slots, adds 16 bytes per slot (1 GiB more at the cap).
 */
#define XLVS_RING_SLOTS_MAX (1u << 26)

struct xlvs_capacity {
	uint64_t services;   /* of XLVS_MAX_SERVICES */
	uint64_t reals;	     /* in all services, of XLVS_MAX_REALS */
	uint64_t ring_sum;   /* slots of all its rings together */
	uint32_t ring_slots; /* xlvs_ring entries a load creates for it (rule above) */
};
void xlvs_capacity_of(const struct xlvs_spec *want, struct xlvs_capacity *c);

/*
 * Plan `want` as xlvs_apply() would, capacity included, and write nothing:
 * the same checks, the same id and ring slice allocation, the same errors.
 * m: the maps to plan against (a running director's); NULL: empty maps of
 * ring_slots slots (0: what xlvs_capacity_of() gives, as a fresh load creates
 * them). On error msg says what does not fit or is wrong (which map, what it
 * has, what is needed). xlvs_apply() runs the same plan before its first write.
 */
int xlvs_plan_check(struct xlvs_maps *m, uint32_t ring_slots, const struct xlvs_spec *want, char *msg,
		    size_t size);

/*
 * How a service keeps flow state (docs/architecture.md "Ring state"), as the
 * planner decides XLVS_SVC_F_RING_STATE from its spec: XLVS_FLOW_STATE_RING
 * or XLVS_FLOW_STATE_TABLE; -EINVAL for flow_state: ring where it cannot be
 * (scheduler not maglev or mh, persistent, a nat or fullnat real or sorry
 * server) or an unknown flow_state. why (may be NULL) gets the reason, e.g.
 * "auto: table: persistence keeps a template per client (...)".
 */
int xlvs_svc_flow_state(const struct xlvs_svc_spec *s, char *why, size_t size);

/* ---- counters ---- */
/*
 * Ids [first, first + n) at once, each summed over CPUs, into out[0 .. n-1]: one batch lookup per
 * CPU's stripe whatever n is (docs/architecture.md, "6. Stats"), so a reader of many ids reads
 * them in one call and picks from the array. -ERANGE when the range passes the map's ids
 * (XLVS_MAX_SERVICES, XLVS_MAX_REALS).
 */
int xlvs_svc_counters_range(struct xlvs_maps *m, uint32_t first, uint32_t n, struct xlvs_counters *out);
int xlvs_real_counters_range(struct xlvs_maps *m, uint32_t first, uint32_t n, struct xlvs_counters *out);
int xlvs_svc_out_counters_range(struct xlvs_maps *m, uint32_t first, uint32_t n, struct xlvs_counters *out);
int xlvs_real_out_counters_range(struct xlvs_maps *m, uint32_t first, uint32_t n, struct xlvs_counters *out);
/* One id: the range of one. */
int xlvs_svc_counters(struct xlvs_maps *m, uint32_t svc_id, struct xlvs_counters *c);
int xlvs_real_counters(struct xlvs_maps *m, uint32_t real_id, struct xlvs_counters *c);
/* The NAT and FULLNAT replies the director translated (ipvsadm's OutPkts, OutBytes); new_flows is 0. */
int xlvs_svc_out_counters(struct xlvs_maps *m, uint32_t svc_id, struct xlvs_counters *c);
int xlvs_real_out_counters(struct xlvs_maps *m, uint32_t real_id, struct xlvs_counters *c);
/* out[XLVS_DROP_MAX] / out[XLVS_EV_MAX], summed over CPUs. */
int xlvs_drop_counters(struct xlvs_maps *m, uint64_t *out);
int xlvs_event_counters(struct xlvs_maps *m, uint64_t *out);

/* Zero counters (ipvsadm -Z): one service's or real's (its reply counters too), or every drop
 * reason's and event's. */
int xlvs_svc_counters_zero(struct xlvs_maps *m, uint32_t svc_id);
int xlvs_real_counters_zero(struct xlvs_maps *m, uint32_t real_id);
int xlvs_drop_event_counters_zero(struct xlvs_maps *m);

/* ---- connection table ---- */
typedef int (*xlvs_conn_cb)(const struct xlvs_flow *flow, const struct xlvs_conn *conn, void *ctx);
/* Calls cb for every entry; a non-zero return stops the walk and is returned. */
int xlvs_conns_foreach(struct xlvs_maps *m, xlvs_conn_cb cb, void *ctx);

/* The data path's conn clock: jiffies, as bpf_jiffies64() reads them. */
struct xlvs_jiffies {
	uint32_t now;	  /* low 32 bits, like xlvs_conn.last_seen */
	uint64_t tick_ns; /* nanoseconds per jiffy (1e9 / CONFIG_HZ) */
};
/* Asks the kernel (a two-instruction BPF program run once): 0 or -errno. */
int xlvs_jiffies_read(struct xlvs_jiffies *j);
/* Nanoseconds since last_seen; a stamp taken after j was read counts as 0. */
uint64_t xlvs_conn_idle_ns(const struct xlvs_jiffies *j, uint32_t last_seen);

/* Jiffies per second of the running kernel (CONFIG_HZ), from the coarse clocks' resolution. */
int xlvs_hz(uint32_t *hz);

/*
 * Connection lifetimes as the data path applies them (bpf/conntrack.h
 * conn_expired()): the lifetime of the entry's state (enum xlvs_timeout: a
 * TCP entry's state, or UDP), its real's copy of its service's override if
 * set, else the global one in xlvs_config. real: the entry's current real,
 * NULL when it has none (the global lifetime applies).
 */
uint32_t xlvs_conn_lifetime_s(const struct xlvs_config *cfg, const struct xlvs_real *real, uint8_t proto,
			      uint8_t state);
/* Jiffies left before the entry expires at `now`: negative once it has; INT64_MAX when cfg->hz is 0. */
int64_t xlvs_conn_left(const struct xlvs_config *cfg, const struct xlvs_real *real, uint8_t proto,
		       const struct xlvs_conn *c, uint32_t now);

/*
 * Connections per real, ipvsadm style, of the unexpired entries only:
 * "active" = TCP and open (IPVS's ESTABLISHED: the handshake's ACK seen, no
 * FIN/RST from the client since, see enum xlvs_conn_state), "inactive" =
 * the others (half-open, closing, and UDP, which IPVS counts as inactive
 * too). Entries of real ids >= nr_real_ids are not counted.
 */
struct xlvs_conn_counts {
	uint64_t active, inactive;
};

/* Whether a connection entry belongs to real r as it is now (active, the generation it was made
 * for): an entry made for an earlier real on a reused id belongs to no real, as in the data path. */
static inline bool xlvs_conn_is_current(const struct xlvs_conn *c, const struct xlvs_real *r)
{
	return (r->flags & XLVS_REAL_F_ACTIVE) && r->gen == c->real_gen;
}

int xlvs_conn_counts(struct xlvs_maps *m, struct xlvs_conn_counts *per_real, size_t nr_real_ids);

/*
 * The sweep: deletes expired entries a bounded number at a time, so that a
 * caller's loop never stalls on a large table. Each call reads on from where
 * the last one stopped (batch lookups; a pass ends at the end of the table
 * and the next call starts another) and looks at most max(budget, 256)
 * entries (a batch read takes whole hash buckets). The expired entries of
 * each batch read are deleted by one batch delete, so a packet that refreshed
 * one in the meantime (a window of a read and a delete, well under a
 * millisecond) finds it gone and is scheduled afresh, as after any expiry;
 * Maglev gives it the same real unless the ring changed since.
 *
 * Connection counts (xlvs_real_load, docs/architecture.md): an entry the
 * sweep deletes itself, made for its real's current generation of a COUNTED
 * real, is taken off that real's count (its class as read) with an atomic
 * add through a mapping of the map, since the data path adds concurrently.
 * A reconcile makes a pass a counting one: it starts over from the table's
 * start, counts the unexpired entries it leaves in place per COUNTED real and
 * class and, at the pass's end, adds (count - xlvs_real_load) to each ACTIVE
 * real's load (0 for a real not COUNTED). The TCP entries it counted before
 * they closed (up to 8192 a pass) are read again at the pass's end and counted
 * as they are then. Connections opened during the pass where it had walked,
 * and those changing class beyond the 8192, make the remaining error.
 */
struct xlvs_sweep;
struct xlvs_sweep_stats {
	uint64_t scanned;    /* entries looked at */
	uint64_t expired;    /* found expired */
	uint64_t deleted;    /* deleted by this sweep (the rest went meanwhile) */
	uint64_t passes;     /* passes over the whole table completed */
	uint64_t uncounted;  /* of deleted: taken off their real's xlvs_real_load */
	uint64_t reconciles; /* of passes: counting passes whose corrections were added */
	uint64_t raised;     /* units those added to xlvs_real_load counts found too low */
	uint64_t lowered;    /* units they took off counts found too high (LRU evictions) */
	/* ring state: changed slots of ring-state services (abi.h XLVS_SLOT_CHANGED) */
	uint64_t ring_cleared; /* unflagged at a pass's end: window over, no entry names another real */
	uint64_t ring_held;    /* window over but kept flagged: an entry of the pass names another real */
};
struct xlvs_sweep *xlvs_sweep_new(void);
void xlvs_sweep_free(struct xlvs_sweep *s);
/* One step of at most budget entries; adds to *st. 0 or -errno. */
int xlvs_sweep_step(struct xlvs_maps *m, struct xlvs_sweep *s, uint32_t budget, struct xlvs_sweep_stats *st);
/* The next step starts a counting pass (abandoning a pass in progress, counting or not). */
void xlvs_sweep_reconcile(struct xlvs_sweep *s);
/* Whether a counting pass is asked for or in progress. */
bool xlvs_sweep_reconciling(const struct xlvs_sweep *s);

/*
 * xlvs_nat's sweep, alongside the connection sweep: each step reads on over
 * at most max(budget, 256) reply entries and deletes those whose connection
 * (the client -> VIP entry rebuilt from the value) is gone, expired, made for
 * another real or generation, or (fullnat) holds another source port: so a
 * fullnat source port is free again once its connection ends, not when the
 * LRU gets to it. st: scanned, expired (found dead), deleted, passes.
 */
struct xlvs_nat_sweep;
struct xlvs_nat_sweep *xlvs_nat_sweep_new(void);
void xlvs_nat_sweep_free(struct xlvs_nat_sweep *s);
int xlvs_nat_sweep_step(struct xlvs_maps *m, struct xlvs_nat_sweep *s, uint32_t budget,
			struct xlvs_sweep_stats *st);

/* The scheduler's count of a real's connections (xlvs_real_load), as the data path keeps it. */
int xlvs_real_load_read(struct xlvs_maps *m, uint32_t real_id, struct xlvs_real_load *l);

/*
 * How full the connection table is: every entry it holds (those of reals gone, or made for an
 * id's earlier real, too: they take room until the LRU evicts them) and its max_entries.
 */
struct xlvs_conn_table {
	uint64_t entries, capacity;
};

/*
 * xlvs_conn_counts and the table's fullness from one walk of the table. per_real may be NULL
 * (nr_real_ids 0): then only the table is counted.
 */
int xlvs_conn_usage(struct xlvs_maps *m, struct xlvs_conn_table *table, struct xlvs_conn_counts *per_real,
		    size_t nr_real_ids);

/* ---- persistence templates (xlvs_persist, maps/persist.c) ---- */
typedef int (*xlvs_persist_cb)(const struct xlvs_svc_addr_key *key, const struct xlvs_persist *tpl,
			       void *ctx);
/* Calls cb for every template; a non-zero return stops the walk and is returned. */
int xlvs_persist_foreach(struct xlvs_maps *m, xlvs_persist_cb cb, void *ctx);
/*
 * Jiffies before a template of a service with persistence timeout_s expires
 * at `now`, as bpf/persist.h judges it: negative once it has; INT64_MAX when
 * cfg->hz is 0 (never).
 */
int64_t xlvs_persist_left(const struct xlvs_config *cfg, uint32_t timeout_s, const struct xlvs_persist *t,
			  uint32_t now);
/*
 * The templates' sweep, as xlvs_sweep_step() for connections: each step
 * reads on over at most max(budget, 256) templates and deletes those expired
 * or of a service that is gone or no longer persistent (st: scanned, expired,
 * deleted, passes). A template whose real is gone stays until it expires:
 * the data path does not follow it (generation check) and replaces it.
 */
struct xlvs_persist_sweep;
struct xlvs_persist_sweep *xlvs_persist_sweep_new(void);
void xlvs_persist_sweep_free(struct xlvs_persist_sweep *s);
int xlvs_persist_sweep_step(struct xlvs_maps *m, struct xlvs_persist_sweep *s, uint32_t budget,
			    struct xlvs_sweep_stats *st);

/* ---- health checks through the forwarding path (xlvs_hc_marks, maps/hcmarks.c) ---- */

/*
 * Marks are value | n for n in 0 .. XLVS_HC_MARK_SPAN - 1 (and within ~mask):
 * twice the reals there can be, so a freed mark waits a whole round before
 * another real gets it (a check of the old real still running sends nothing
 * to the new one; the tc program drops what names a changed generation).
 */
#define XLVS_HC_MARK_SPAN (2u * XLVS_MAX_REALS)
/* The configuration's default range: "XL" in the high half, the low half for the reals. */
#define XLVS_HC_MARK_VALUE_DEFAULT 0x584c0000u
#define XLVS_HC_MARK_MASK_DEFAULT  0xffff0000u

/*
 * Is (value, mask) a usable mark range? mask: contiguous high bits with at
 * least 16 low bits free, value within mask and not 0 (so no mark is 0).
 * msg says why not.
 */
bool xlvs_hc_mark_range_ok(uint32_t value, uint32_t mask, char *msg, size_t size);

/* A real steered by mark (dr, tun, gue). */
static inline bool xlvs_hc_steerable(uint8_t fwd)
{
	return fwd == XLVS_FWD_DR || fwd == XLVS_FWD_TUN || fwd == XLVS_FWD_GUE;
}

/*
 * Make xlvs_hc_marks hold one mark for every ACTIVE dr/tun/gue real and
 * nothing else: entries whose real is gone, inactive, of another generation
 * or outside the range are deleted, a real keeps the mark it has, a real
 * without one gets the next free mark after *cursor (which moves on). mask
 * 0: steering off, the map is emptied. mark_of (XLVS_MAX_REALS entries, may
 * be NULL): each real id's mark, 0 for none. 0 or -errno (-ENOSPC: no free
 * mark; the reals that got none are checked directly).
 */
int xlvs_hc_marks_sync(struct xlvs_maps *m, uint32_t value, uint32_t mask, uint32_t *cursor,
		       uint32_t *mark_of);

/* ---- helpers ---- */
int xlvs_addr_parse(const char *text, struct xlvs_addr *a); /* -EINVAL if not an address */
/* "198.18.0.10" / "2001:db8::10"; buf of at least 46 bytes. NULL for a bad family. */
const char *xlvs_addr_str(const struct xlvs_addr *a, char *buf, size_t size);
void xlvs_addr_from_be(struct xlvs_addr *a, uint8_t family, const __be32 *be);
/* A service's protocol: "udp" for IPPROTO_UDP, else "tcp" (services are one or the other). */
const char *xlvs_svc_proto_name(uint8_t proto);
int xlvs_sched_from_name(const char *name); /* -EINVAL if unknown */
int xlvs_fwd_from_name(const char *name);   /* "dr", "tun" (alias "ipip"), "gue", "nat", "fullnat" */

#endif /* XLVS_MAPS_H */
