/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The director's maps. BTF-defined and pinned by name, so bpftool, ip(8) and
 * xdp-loader users see typed values; every type comes from include/xlvs/abi.h.
 */
#ifndef XLVS_BPF_MAPS_H
#define XLVS_BPF_MAPS_H

#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct xlvs_svc_key);
	__type(value, struct xlvs_service);
	__uint(max_entries, XLVS_MAX_SERVICES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlvs_services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct xlvs_vip_key);
	__type(value, struct xlvs_vip);
	__uint(max_entries, XLVS_MAX_VIPS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlvs_vips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlvs_real);
	__uint(max_entries, XLVS_MAX_REALS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlvs_reals SEC(".maps");

/* All Maglev rings, one slice per service, in blocks of slots; the loader may resize it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlvs_ring_block);
	__uint(max_entries, XLVS_RING_SLOTS_DEFAULT / XLVS_RING_BLOCK);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlvs_ring SEC(".maps");

/* Ring-state slots' previous owners (abi.h struct xlvs_slot_prev): sized as xlvs_ring. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlvs_slot_prev);
	__uint(max_entries, XLVS_RING_SLOTS_DEFAULT);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlvs_ring_prev SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, XLVS_VIP_FILTER_WORDS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlvs_vip_filter SEC(".maps");

/*
 * One shared hash table with per-CPU LRU lists: a lookup finds a flow whatever
 * CPU inserted it, while eviction never takes a cross-CPU lock.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct xlvs_flow);
	__type(value, struct xlvs_conn);
	__uint(max_entries, XLVS_CONNS_DEFAULT);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlvs_conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlvs_counters);
	__uint(max_entries, XLVS_SVC_STATS_STRIDE); /* striped (abi.h): the loader makes it a stripe per CPU */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlvs_svc_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlvs_counters);
	__uint(max_entries, XLVS_REAL_STATS_STRIDE); /* striped (abi.h): the loader makes it a stripe per CPU */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlvs_real_stats SEC(".maps");

/*
 * VS-NAT and FULLNAT replies the director translated (IPVS's OutPkts and
 * OutBytes), by service id and by real id: maps of their own, so a data path
 * upgraded over pinned xlvs_svc_stats/xlvs_real_stats keeps those as they are.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlvs_counters);
	__uint(max_entries, XLVS_SVC_STATS_STRIDE); /* striped (abi.h): the loader makes it a stripe per CPU */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlvs_svc_out SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlvs_counters);
	__uint(max_entries, XLVS_REAL_STATS_STRIDE); /* striped (abi.h): the loader makes it a stripe per CPU */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlvs_real_out SEC(".maps");

/* Shared by all CPUs (the schedulers need the global count), updated with atomic adds;
 * mmapable so xlvsd's corrections are atomic adds too (abi.h struct xlvs_real_load). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlvs_real_load);
	__uint(max_entries, XLVS_MAX_REALS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlvs_real_load SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, XLVS_DROP_SLOTS); /* striped (abi.h): the loader makes it a stripe per CPU */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlvs_drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, XLVS_EV_SLOTS); /* striped (abi.h): the loader makes it a stripe per CPU */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlvs_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xlvs_syn_window);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlvs_syn_guard SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlvs_config);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlvs_config SEC(".maps");

/* VS-NAT and FULLNAT replies (abi.h struct xlvs_nat_rev); the loader may resize it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct xlvs_flow);
	__type(value, struct xlvs_nat_rev);
	__uint(max_entries, XLVS_NAT_DEFAULT);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlvs_nat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct xlvs_vip_key);
	__type(value, __u32);
	__uint(max_entries, XLVS_NAT_SRCS_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlvs_nat_srcs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlvs_vip_key);
	__uint(max_entries, XLVS_SNAT_POOL_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlvs_snat_pool SEC(".maps");

/* Read by the tc program only; defined here so both programs pin the same map. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct xlvs_hc_target);
	__uint(max_entries, XLVS_HC_MARKS_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlvs_hc_marks SEC(".maps");

#endif /* XLVS_BPF_MAPS_H */
