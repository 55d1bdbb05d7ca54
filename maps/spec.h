/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The desired state of a director: what the configuration file says (loader/config/
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
	uint8_t family; /* XLVS_AF_INET or XLVS_AF_INET6 */
	uint8_t pad[3];
	uint32_t be[4]; /* network order; IPv4 in be[0] */
};

/*
 * Health checks (xlvsd only; libxlvsmaps ignores them): what the daemon
 * probes and how it turns results into weights. docs/health.md.
 */
enum xlvs_check_type {
	XLVS_CHECK_NONE = 0, /* not checked: always up */
	XLVS_CHECK_TCP,
	XLVS_CHECK_HTTP,
	XLVS_CHECK_HTTPS,
	XLVS_CHECK_UDP,
	XLVS_CHECK_DNS,
	XLVS_CHECK_ICMP,
	XLVS_CHECK_EXEC,
	XLVS_CHECK_MAX,
};

/* "tcp", "http", ...: the configuration's word for each type (index: enum xlvs_check_type). */
extern const char *const xlvs_check_type_names[XLVS_CHECK_MAX];
const char *xlvs_check_type_name(unsigned int type);

#define XLVS_CHECK_STR	     256
#define XLVS_CHECK_CMD	     1024
#define XLVS_CHECK_MAX_CODES 8

/* http, https `digest`: of the whole body (keepalived's HTTP_GET digest, genhash). */
enum xlvs_digest_alg {
	XLVS_DIGEST_NONE = 0,
	XLVS_DIGEST_MD5,    /* 16 bytes */
	XLVS_DIGEST_SHA256, /* 32 bytes */
	XLVS_DIGEST_MAX_ALG,
};
#define XLVS_DIGEST_MAX 32

struct xlvs_check_spec {
	uint8_t type;	     /* enum xlvs_check_type */
	bool initial_up;     /* state before the first result */
	uint16_t rise, fall; /* successes to go up, failures to go down */
	uint32_t interval_ms, timeout_ms;
	struct xlvs_addr addr; /* family 0: the real's address */
	uint16_t port;	       /* 0: the real's (service's) port */
	/* http, https */
	char path[XLVS_CHECK_STR]; /* default "/" */
	char host[XLVS_CHECK_STR]; /* Host header; empty: the address */
	uint8_t nr_codes;	   /* 0: 200-299 */
	uint16_t code_lo[XLVS_CHECK_MAX_CODES], code_hi[XLVS_CHECK_MAX_CODES];
	bool tls_verify;
	uint8_t digest_alg;		 /* enum xlvs_digest_alg; NONE: no digest */
	uint8_t digest[XLVS_DIGEST_MAX]; /* expected, digest_len(alg) bytes */
	/* http, https: `body` substring; udp: `reply` substring (empty: any answer) */
	char match[XLVS_CHECK_STR];
	/* udp */
	char payload[XLVS_CHECK_STR];
	/* dns */
	char qname[XLVS_CHECK_STR];
	uint16_t qtype; /* RR type number; default A (1) */
	/* exec: run by /bin/sh -c */
	char command[XLVS_CHECK_CMD];
};

struct xlvs_real_spec {
	struct xlvs_addr addr;
	uint16_t port;		       /* host order; informational (DR/TUN keep the VIP port) */
	uint32_t weight;	       /* 0 = drained: keeps established flows, takes no new ones */
	uint8_t fwd;		       /* enum xlvs_fwd */
	uint16_t gue_port;	       /* host order; 0 = the global GUE port */
	struct xlvs_check_spec *check; /* owned; NULL: the service's check */
};

enum xlvs_on_down {
	XLVS_ON_DOWN_QUIESCE = 0, /* weight 0: established flows go on */
	XLVS_ON_DOWN_REMOVE,	  /* out of the maps */
};

enum xlvs_quorum_action {
	XLVS_QUORUM_SORRY = 0, /* the sorry server (if any) takes the service */
	XLVS_QUORUM_WITHDRAW,  /* the service leaves the maps (packets pass to the kernel) */
};

#define XLVS_NOTIFY_CMD 1024

/* A service's health settings; NULL in the service: nothing checked. */
struct xlvs_svc_health {
	struct xlvs_check_spec check; /* type NONE: reals are checked only if they say so */
	uint8_t on_down;	      /* enum xlvs_on_down */
	bool have_sorry;
	struct xlvs_real_spec sorry; /* used only while no real is up (check NULL) */
	uint32_t quorum;	     /* 0 = off: sum of the up reals' weights needed */
	uint32_t quorum_hysteresis;
	uint8_t quorum_action; /* enum xlvs_quorum_action */
	uint32_t notify_timeout_ms;
	char notify_up[XLVS_NOTIFY_CMD]; /* run by /bin/sh -c; empty: none */
	char notify_down[XLVS_NOTIFY_CMD];
	char notify_quorum[XLVS_NOTIFY_CMD];
};

/*
 * How a service remembers flows (docs/architecture.md, "Ring state"):
 *   auto   ring where it can be (maglev or mh, TCP, not persistent, no nat or
 *          fullnat real), table otherwise: the default
 *   ring   only flows on ring slots that changed owner get an entry
 *          (XLVS_SVC_F_RING_STATE); an error where it cannot be
 *   table  every flow gets an entry, as IPVS
 */
enum xlvs_flow_state {
	XLVS_FLOW_STATE_AUTO = 0,
	XLVS_FLOW_STATE_RING,
	XLVS_FLOW_STATE_TABLE,
};

struct xlvs_svc_spec {
	struct xlvs_addr vip;
	uint8_t proto;	    /* IPPROTO_TCP / IPPROTO_UDP */
	uint16_t port;	    /* host order; 0 = all ports */
	uint8_t sched;	    /* enum xlvs_sched */
	uint8_t fwd;	    /* default for reals that do not set their own */
	uint32_t flags;	    /* XLVS_SVC_F_* */
	uint32_t ring_size; /* prime; 0 = XLVS_RING_DEFAULT */
	/* connection lifetimes, s, by enum xlvs_timeout; 0 = the global one */
	uint32_t timeout_s[XLVS_TO_MAX];
	uint32_t persist_s;	 /* persistence timeout, s (ipvsadm -p); 0 = not persistent */
	uint8_t persist_plen;	 /* client prefix a template covers (ipvsadm -M); 0 = the whole address */
	uint32_t sched_expire_s; /* lblc, lblcr: s an idle destination keeps its reals; 0 = 24 h */
	uint8_t flow_state;	 /* enum xlvs_flow_state */
	uint32_t ring_window_s;	 /* ring: s a changed slot's previous owner is kept; 0 = the tcp timeout */
	size_t nr_reals;
	struct xlvs_real_spec *reals;
	struct xlvs_svc_health *health; /* owned; NULL: no health checks */
};

enum xlvs_xdp_mode {
	XLVS_XDP_AUTO = 0, /* native, else generic */
	XLVS_XDP_NATIVE,
	XLVS_XDP_GENERIC,
};

/* The flow hash of state xlvsd makes (XLVS_CFG_F_HASH_MIX64); state that exists keeps its own. */
enum xlvs_flow_hash {
	XLVS_FLOW_HASH_MIX64 = 0, /* xlvs_flow_hash_mix64(), slots by multiply: the default */
	XLVS_FLOW_HASH_MURMUR3,	  /* xlvs_flow_hash(), slots by remainder: xlvs up to de1ae0d (2026-12-07) */
};

/* Director-wide settings: become struct xlvs_config in the xlvs_config map. */
struct xlvs_global_spec {
	char interfaces[8][IF_NAMESIZE];
	size_t nr_interfaces;
	enum xlvs_xdp_mode xdp_mode;
	struct xlvs_addr tun_src4, tun_src6;
	uint16_t tun_mtu;	 /* 0 = no PMTU check */
	uint16_t gue_port;	 /* host order */
	uint32_t syn_guard_rate; /* 0 = off */
	enum xlvs_flow_hash flow_hash;
	bool frag_drop, ip4_options_drop;
	bool have_gw_mac;
	uint8_t gw_mac[6];
	uint32_t conn_table_size; /* xlvs_conns entries; 0 = default */
	char metrics_listen[64];  /* "127.0.0.1:9105"; empty = off */
	/* connection lifetimes, s, by enum xlvs_timeout; 0 = IPVS's default (abi.h) */
	uint32_t timeout_s[XLVS_TO_MAX];
	/* health checks of dr/tun/gue reals through the forwarding path (tc program): */
	bool health_direct;		      /* health_via_forwarding: false */
	uint32_t hc_mark_value, hc_mark_mask; /* health_mark VALUE/MASK; mask 0: no steering */
	/* fullnat: the clients' new sources (xlvs_snat_pool) and their ports, host order */
	size_t nr_snat_pool;
	struct xlvs_addr snat_pool[XLVS_SNAT_POOL_MAX];
	uint16_t snat_port_lo, snat_port_hi; /* 0, 0: XLVS_SNAT_PORT_LO..XLVS_SNAT_PORT_HI */
};

struct xlvs_spec {
	struct xlvs_global_spec global;
	size_t nr_services;
	struct xlvs_svc_spec *services;
};

/* The prefix length a service's templates cover: its persist_plen, else the whole address. */
static inline uint8_t xlvs_persist_plen(const struct xlvs_svc_spec *s)
{
	if (s->persist_plen)
		return s->persist_plen;
	return s->vip.family == XLVS_AF_INET6 ? 128 : 32;
}

/* nat and fullnat: the real's port may differ from the VIP's, and its replies come back through us. */
static inline bool xlvs_fwd_is_nat(uint8_t fwd)
{
	return fwd == XLVS_FWD_NAT || fwd == XLVS_FWD_FULLNAT;
}

/* Whether the fullnat pool has an address of this family. */
static inline bool xlvs_snat_pool_has(const struct xlvs_global_spec *g, uint8_t family)
{
	size_t i;

	for (i = 0; i < g->nr_snat_pool; i++)
		if (g->snat_pool[i].family == family)
			return true;
	return false;
}

void xlvs_spec_free(struct xlvs_spec *s);
/* Frees what one service owns (reals, their checks, health); not svc itself. */
void xlvs_svc_spec_free(struct xlvs_svc_spec *svc);
/* Deep copy of src's reals, checks and health into dst (other fields copied too). */
int xlvs_svc_spec_copy(struct xlvs_svc_spec *dst, const struct xlvs_svc_spec *src);

#endif /* XLVS_SPEC_H */
