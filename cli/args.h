/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Command-line words: addresses with ports, protocols, schedulers, forwarding
 * methods, numbers; and the names xlvs prints for them. Parsers never print:
 * they return -1 and leave a message in the caller's buffer.
 */
#ifndef XLVS_CLI_ARGS_H
#define XLVS_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec.h"

#define XLVS_ERRLEN		160
/* "[" + IPv6 text + "]:" + port + "/" + proto */
#define XLVS_EPSTRLEN		72

/* ADDR, ADDR:PORT, [V6], [V6]:PORT, V6 (no port), each optionally /tcp or /udp. */
struct xlvs_endpoint {
	struct xlvs_addr addr;
	uint16_t port;			/* host order; 0 if not given */
	uint8_t proto;			/* IPPROTO_TCP / IPPROTO_UDP; 0 if not given */
	bool have_port;
};

/* allow_proto: accept the "/tcp" suffix (services), else refuse it (reals). */
int xlvs_parse_endpoint(const char *text, bool allow_proto, struct xlvs_endpoint *ep,
			char *err, size_t errlen);
/* Decimal integer in [min, max]; no sign, no spaces, no suffix. */
int xlvs_parse_u32(const char *text, uint32_t min, uint32_t max, uint32_t *out);
/* Seconds, decimal fractions allowed, > 0 and <= 86400. */
int xlvs_parse_secs(const char *text, double *out);
int xlvs_parse_proto(const char *text);		/* IPPROTO_TCP/UDP or -1; any case */
int xlvs_parse_sched(const char *text);		/* enum xlvs_sched or -1 */
int xlvs_parse_fwd(const char *text);		/* enum xlvs_fwd or -1; ipvsadm words too */

/* Names xlvs prints: JSON uses the ABI names, text the ipvsadm ones. */
const char *xlvs_proto_name(uint8_t proto, char *buf, size_t size);	/* "tcp" */
const char *xlvs_proto_text(uint8_t proto, char *buf, size_t size);	/* "TCP" */
const char *xlvs_sched_name(uint8_t sched, char *buf, size_t size);	/* "maglev" */
const char *xlvs_fwd_name(uint8_t fwd, char *buf, size_t size);	/* "tun" */
const char *xlvs_fwd_text(uint8_t fwd, char *buf, size_t size);	/* "Tunnel" */

/* "198.18.0.10" / "2001:db8::10"; buf >= 46 bytes. */
const char *xlvs_addr_text(const struct xlvs_addr *a, char *buf, size_t size);
/* "198.18.0.10:80" / "[2001:db8::10]:80"; buf >= XLVS_EPSTRLEN. */
const char *xlvs_ep_text(const struct xlvs_addr *a, uint16_t port, char *buf, size_t size);
/* struct xlvs_addr from a map's family + network-order words. */
void xlvs_addr_of(struct xlvs_addr *a, uint8_t family, const uint32_t be[4]);

#endif /* XLVS_CLI_ARGS_H */
