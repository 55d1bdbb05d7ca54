/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The desired state of a director: what the configuration file says (loader/config.c
 * produces it), what `xlvs service add` asks for, and what libxlvsmaps applies to the
 * maps. Plain userspace types; the map layout itself is include/xlvs/abi.h.
 */
#ifndef XLVS_SPEC_H
#define XLVS_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>
#include <xlvs/abi.h>

struct xlvs_addr {
	uint8_t family;			/* XLVS_AF_INET or XLVS_AF_INET6 */
	uint8_t pad[3];
	uint32_t be[4];			/* network order; IPv4 in be[0] */
};

struct xlvs_real_spec {
	struct xlvs_addr addr;
	uint16_t port;			/* host order; informational (DR/TUN keep the VIP port) */
	uint32_t weight;		/* 0 = drained: keeps established flows, takes no new ones */
	uint8_t fwd;			/* enum xlvs_fwd */
	uint16_t gue_port;		/* host order; 0 = the global GUE port */
};

struct xlvs_svc_spec {
	struct xlvs_addr vip;
	uint8_t proto;			/* IPPROTO_TCP / IPPROTO_UDP */
	uint16_t port;			/* host order; 0 = all ports */
	uint8_t sched;			/* enum xlvs_sched */
	uint8_t fwd;			/* default for reals that do not set their own */
	uint32_t flags;			/* XLVS_SVC_F_* */
	uint32_t ring_size;		/* prime; 0 = XLVS_RING_DEFAULT */
	size_t nr_reals;
	struct xlvs_real_spec *reals;
};

enum xlvs_xdp_mode {
	XLVS_XDP_AUTO = 0,		/* native, else generic */
	XLVS_XDP_NATIVE,
	XLVS_XDP_GENERIC,
};

/* Director-wide settings: become struct xlvs_config in the xlvs_config map. */
struct xlvs_global_spec {
	char interfaces[8][IF_NAMESIZE];
	size_t nr_interfaces;
	enum xlvs_xdp_mode xdp_mode;
	struct xlvs_addr tun_src4, tun_src6;
	uint16_t tun_mtu;		/* 0 = no PMTU check */
	uint16_t gue_port;		/* host order */
	uint32_t syn_guard_rate;	/* 0 = off */
	bool frag_drop, ip4_options_drop;
	bool have_gw_mac;
	uint8_t gw_mac[6];
	uint32_t conn_table_size;	/* xlvs_conns entries; 0 = default */
	char metrics_listen[64];	/* "127.0.0.1:9105"; empty = off */
};

struct xlvs_spec {
	struct xlvs_global_spec global;
	size_t nr_services;
	struct xlvs_svc_spec *services;
};

void xlvs_spec_free(struct xlvs_spec *s);

#endif /* XLVS_SPEC_H */
