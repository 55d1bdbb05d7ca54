/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rules of a service and its reals, one validation for the configuration
 * file and the control commands: the parser puts "file:line:column: " before
 * the message, the control socket returns it as {"ok": false, "error": ...},
 * so a runtime change is never something the file would refuse, and it is
 * refused with the same words. Every function returns 0 or -EINVAL and then
 * writes "key: what is wrong" into msg (size bytes). Those that judge a whole
 * real or service also name the key at fault in *key, for the parser's
 * position ("address", "port", ...; "" for the service or real as a whole).
 */
#ifndef XLVS_CONFIG_VALIDATE_H
#define XLVS_CONFIG_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "spec.h"

/* The ranges of a service's and a real's numbers (inclusive). */
#define XLVS_V_SVC_PORT_MIN  0u /* 0: every port */
#define XLVS_V_REAL_PORT_MIN 0u /* only as the service's: a real of a port-0 service */
#define XLVS_V_PORT_MAX	     65535u
#define XLVS_V_WEIGHT_MAX    65535u /* XLVS_MAGLEV_MAX_WEIGHT */
#define XLVS_V_GUE_PORT_MIN  1u
#define XLVS_V_RING_MIN	     3u
#define XLVS_V_RING_MAX	     16777213u /* largest prime <= XLVS_MAGLEV_MAX_SIZE */

/* A value for a message: at most 40 bytes of s, control characters as '?', "..." if cut. */
struct xlvs_v_show {
	char s[48];
};
const char *xlvs_v_show(const char *s, size_t len, struct xlvs_v_show *b);

/* "198.18.0.10", "2001:db8::10" (buf of INET6_ADDRSTRLEN bytes). */
const char *xlvs_v_addr_str(const struct xlvs_addr *a, char *buf);
/* "tcp 198.18.0.10:80", "udp [2001:db8::10]:53" */
const char *xlvs_v_svc_str(const struct xlvs_svc_spec *s, char *buf, size_t size);

/* "NAME: TEXT out of range (RANGE)": TEXT is the value as written. */
int xlvs_v_range(const char *name, const char *text, const char *range, char *msg, size_t size);
/* x within min..max, else the message above with "min..max". */
int xlvs_v_uint(const char *name, long long x, uint32_t min, uint32_t max, char *msg, size_t size);

/*
 * An address written as text: parsed into *out (family, pad zeroed) and usable
 * as a VIP, a real or a tunnel source (not unspecified, loopback, multicast,
 * class E or broadcast). family: XLVS_AF_INET or XLVS_AF_INET6 only, 0 either.
 */
int xlvs_v_addr(const char *name, const char *text, uint8_t family, struct xlvs_addr *out, char *msg,
		size_t size);
bool xlvs_v_addr_usable(const struct xlvs_addr *a);

/* Lowercase names: "tcp"/"udp" (IPPROTO_*), a scheduler, a forwarding method. */
int xlvs_v_proto(const char *name, const char *text, uint8_t *out, char *msg, size_t size);
int xlvs_v_sched(const char *name, const char *text, uint8_t *out, char *msg, size_t size);
/* One of ipvsadm's -b names for scheduler sched: its XLVS_SVC_F_SCHED_* bit into *flags. */
int xlvs_v_sched_flag(const char *name, const char *text, uint8_t sched, uint32_t *flags, char *msg,
		      size_t size);

int xlvs_v_fwd(const char *name, const char *text, uint8_t *out, char *msg, size_t size);
/*
 * `flow_state`: "auto", "ring" or "table" into an enum xlvs_flow_state
 * (xlvs_v_flow_states[] are the words, by value).
 */
#define XLVS_V_FLOW_STATES 3
extern const char *const xlvs_v_flow_states[XLVS_V_FLOW_STATES];
int xlvs_v_flow_state(const char *name, const char *text, uint8_t *out, char *msg, size_t size);
/* A ring size within range: it must be a prime. */
int xlvs_v_ring(const char *name, uint32_t ring, char *msg, size_t size);

/*
 * One real of svc: address usable and not the VIP, weight, port (the
 * service's, except for nat and fullnat), forwarding method, the address family
 * dr, nat and fullnat need, gue_port only with gue. g (may be NULL: not checked)
 * for the tunnel sources tun and gue need and the pool address fullnat needs.
 */
int xlvs_v_real(const struct xlvs_global_spec *g, const struct xlvs_svc_spec *svc,
		const struct xlvs_real_spec *r, const char **key, char *msg, size_t size);
/* A tunnel real of svc needs the source of its family (g->tun_src4 / tun_src6), a fullnat
 * real a pool address of its family (g->snat_pool). */
int xlvs_v_tunnel(const struct xlvs_global_spec *g, const struct xlvs_svc_spec *svc,
		  const struct xlvs_real_spec *r, char *msg, size_t size);
/*
 * A service on its own (VIP, protocol, scheduler, method, ring size) and
 * against its reals (not more than ring_size); the reals one by one are
 * xlvs_v_real()'s. ring_size 0 stands for XLVS_RING_DEFAULT.
 */
int xlvs_v_service(const struct xlvs_svc_spec *svc, const char **key, char *msg, size_t size);
/*
 * A check (a service's, or a real's own) of svc. A port-0 service's reals have
 * port 0, so a check that connects to a port (tcp, http, https, udp) needs its
 * own `port` there: without it every probe would go to port 0 and every real
 * would be down. dns defaults to 53; icmp and exec use no port.
 */
int xlvs_v_check_port(const struct xlvs_svc_spec *svc, const struct xlvs_check_spec *ck, char *msg,
		      size_t size);
int xlvs_v_timeouts(const struct xlvs_svc_spec *svc, const char **key, char *msg, size_t size);
/* flow_state a known mode, ring_window within a week (0: the tcp timeout). */
int xlvs_v_ring_state(const struct xlvs_svc_spec *svc, const char **key, char *msg, size_t size);
/*
 * Persistence (ipvsadm -p/-M): a netmask as written (a prefix length, or for
 * IPv4 a contiguous dotted mask) for a service of that family into *plen;
 * and a service's persistence as a whole: timeout within a week, a netmask
 * only with a timeout.
 */
int xlvs_v_persist_netmask(const char *name, const char *text, uint8_t family, uint8_t *plen, char *msg,
			   size_t size);
int xlvs_v_persistence(const struct xlvs_svc_spec *svc, const char **key, char *msg, size_t size);

#endif /* XLVS_CONFIG_VALIDATE_H */
