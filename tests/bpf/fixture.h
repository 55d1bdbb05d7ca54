/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fixture rows in the Katran / kernel selftests style: a name, the input packet,
 * optional extra map setup, and what must come out (verdict, bytes, counters).
 */
#ifndef XLVS_TEST_FIXTURE_H
#define XLVS_TEST_FIXTURE_H

#include <linux/bpf.h>
#include "world.h"

enum expect_out {
	OUT_SAME,	/* frame untouched (XDP_PASS / XDP_DROP) */
	OUT_DR,		/* MACs rewritten to the real, rest byte-identical */
	OUT_TUN,	/* outer IP header + byte-identical input datagram */
	OUT_GUE,	/* outer IP + UDP + byte-identical input datagram */
	OUT_ECHO,	/* ICMP echo reply */
	OUT_TOO_BIG,	/* ICMP frag needed / packet too big to the client */
	OUT_PASS_ENCAP, /* XDP_PASS of the encapsulated packet (neighbour unresolved) */
	OUT_CUSTOM,	/* checked by the row's check() */
};

/*
 * A change to the standard xlvs_config, applied before the row's setup():
 * a config variant is a row's data, not a function. All zero: no change.
 */
struct cfg_change {
	uint32_t set_flags; /* XLVS_CFG_F_* to set */
	bool set_tun_mtu;   /* tun_mtu = tun_mtu (which may be 0: no check) */
	uint16_t tun_mtu;
	bool no_tun_src; /* clear both tunnel sources (src4, src6) */
};

/* Each sets its own fields, so a row may combine them. */
#define CFG_FLAGS(f)   .cfg.set_flags = (f)
#define CFG_TUN_MTU(n) .cfg.set_tun_mtu = true, .cfg.tun_mtu = (n)
#define CFG_NO_TUN_SRC .cfg.no_tun_src = true

struct fixture {
	const char *name;
	struct pkt_spec pkt;
	int svc; /* service the packet belongs to (for OUT_DR/TUN/GUE) */
	int verdict;
	enum expect_out out;
	int drop;	       /* DROP(x): this reason counts exactly one, nothing else */
	int event;	       /* EVENT(x): this event counted at least once */
	struct cfg_change cfg; /* config change, applied before setup */
	void (*setup)(struct world *w);
	/* For OUT_CUSTOM and extra checks; in/out are whole frames. */
	void (*check)(struct world *w, const struct fixture *f, const uint8_t *in, size_t in_len,
		      const uint8_t *out, size_t out_len);
	uint32_t mtu; /* OUT_TOO_BIG: MTU the client must be told */
};

#define DROP(r)	 .drop = XLVS_DROP_##r + 1
#define EVENT(e) .event = XLVS_EV_##e + 1

/* Checks shared by rows and scenario tests. */
void check_forwarded(struct world *w, const struct fixture *f, const uint8_t *in, size_t in_len,
		     const uint8_t *out, size_t out_len);
void run_fixture(const struct fixture *f);
/* Apply a row's config change to the world's xlvs_config (nothing when all zero). */
void apply_cfg_change(struct world *w, const struct cfg_change *c);
void fixture_flow(const struct fixture *f, struct xlvs_flow *flow);

#endif
