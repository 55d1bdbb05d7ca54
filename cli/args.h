/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Command-line words: addresses with ports, protocols, schedulers, forwarding
 * methods, numbers; and the names xlvs prints for them. The word parsers
 * never print: they return -1 and leave a message in the caller's buffer.
 *
 * Option tables: each command describes its arguments as a table of struct
 * xlvs_opt; one parser (xlvs_parse_opts) reads a command line against it and
 * reports usage errors, and the usage line and option help come from the same
 * table, so what is accepted and what is shown cannot drift apart.
 */
#ifndef XLVS_CLI_ARGS_H
#define XLVS_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "spec.h"

#define XLVS_ERRLEN 256
/* "[" + IPv6 text + "]:" + port + "/" + proto */
#define XLVS_EPSTRLEN 72

/*
 * ADDR, ADDR:PORT, [V6], [V6]:PORT, V6 (no port), each optionally /tcp or /udp.
 * A bare V6 whose last group could be a port (2001:db8::10:80) is refused as
 * ambiguous: a port after an IPv6 address needs the brackets.
 */
struct xlvs_endpoint {
	struct xlvs_addr addr;
	uint16_t port; /* host order; 0 if not given */
	uint8_t proto; /* IPPROTO_TCP / IPPROTO_UDP; 0 if not given */
	bool have_port;
};

/* allow_proto: accept the "/tcp" suffix (services), else refuse it (reals). */
int xlvs_parse_endpoint(const char *text, bool allow_proto, struct xlvs_endpoint *ep, char *err,
			size_t errlen);
/* Decimal integer in [min, max]; no sign, no spaces, no suffix. */
int xlvs_parse_u32(const char *text, uint32_t min, uint32_t max, uint32_t *out);
/* Seconds, decimal fractions allowed, > 0 and <= 86400. */
int xlvs_parse_secs(const char *text, double *out);
int xlvs_parse_proto(const char *text); /* IPPROTO_TCP/UDP or -1; any case */
int xlvs_parse_sched(const char *text); /* enum xlvs_sched or -1 */
int xlvs_parse_fwd(const char *text);	/* enum xlvs_fwd or -1; ipvsadm words too */

/* Names xlvs prints: JSON uses the ABI names, text the ipvsadm ones. */
const char *xlvs_proto_name(uint8_t proto, char *buf, size_t size); /* "tcp" */
const char *xlvs_proto_text(uint8_t proto, char *buf, size_t size); /* "TCP" */
const char *xlvs_sched_name(uint8_t sched, char *buf, size_t size); /* "maglev" */
const char *xlvs_fwd_name(uint8_t fwd, char *buf, size_t size);	    /* "tun" */
const char *xlvs_fwd_text(uint8_t fwd, char *buf, size_t size);	    /* "Tunnel" */

/* "198.18.0.10" / "2001:db8::10"; buf >= 46 bytes. */
const char *xlvs_addr_text(const struct xlvs_addr *a, char *buf, size_t size);
/* "198.18.0.10:80" / "[2001:db8::10]:80"; buf >= XLVS_EPSTRLEN. */
const char *xlvs_ep_text(const struct xlvs_addr *a, uint16_t port, char *buf, size_t size);
/* struct xlvs_addr from a map's family + network-order words. */
void xlvs_addr_of(struct xlvs_addr *a, uint8_t family, const uint32_t be[4]);

/* ---- option tables ---------------------------------------------------------- */

struct xlvs_ctx;

/* How a service is written on the command line (usage lines and help). */
#define XLVS_SVC_ARGS "VIP[:PORT][/PROTO] [tcp|udp]"

enum xlvs_opt_kind {
	XLVS_OPT_END,	  /* ends a table: a zeroed entry */
	XLVS_OPT_FLAG,	  /* no value: stores .value into an int */
	XLVS_OPT_U32,	  /* decimal in [.min, .max] into a uint32_t */
	XLVS_OPT_SECS,	  /* seconds, fractions allowed, into a double */
	XLVS_OPT_STRING,  /* the word itself into a const char * */
	XLVS_OPT_ENUM,	  /* .parse(word), which is >= 0, into an int */
	XLVS_OPT_SERVICE, /* VIP[:PORT][/PROTO] [tcp|udp] into a struct xlvs_endpoint */
	XLVS_OPT_REAL,	  /* REAL[:PORT] into a struct xlvs_endpoint */
	XLVS_OPT_CLIENT,  /* ADDR[:PORT] (a client: no protocol) into a struct xlvs_endpoint */
	XLVS_OPT_GLOBAL,  /* shown in this usage only; cli.c parses it everywhere */
};

#define XLVS_OPT_POS	  (1u << 0) /* also taken as a bare word, in table order */
#define XLVS_OPT_REQUIRED (1u << 1) /* "missing <.missing>" when absent */
#define XLVS_OPT_ONCE	  (1u << 2) /* a named option given twice is a usage error, not replaced */

/*
 * One argument of a command. A word matching .name or .alias is the option
 * (its value the next word; "--name=V" for "--" names, "-xV" for one-letter
 * ones); a bare word fills the first unfilled XLVS_OPT_POS entry. A positional
 * is taken once; a named option given again replaces its value, unless it is
 * XLVS_OPT_ONCE (a filter that could be read as "either of the two").
 */
struct xlvs_opt {
	const char *name;  /* shown in usage: "weight", "--timeout", "-w|--watch"; NULL: bare only */
	const char *alias; /* also accepted, not shown: "sched", "-c", "stats|--stats" */
	enum xlvs_opt_kind kind;
	unsigned int flags;		/* XLVS_OPT_POS, XLVS_OPT_REQUIRED, XLVS_OPT_ONCE */
	size_t off;			/* offsetof() the value in the command's argument struct */
	const char *arg;		/* the value in usage: "N", "SECS", "dr|tun|gue"; bare: the word */
	uint32_t min, max;		/* XLVS_OPT_U32 */
	int value;			/* XLVS_OPT_FLAG: what it stores */
	int (*parse)(const char *word); /* XLVS_OPT_ENUM: the value or -1 */
	bool (*ok)(const void *value);	/* a check after storing (prime, interface name) */
	const char *what;		/* a bad value: "<what> 'V' (<hint>)"; NULL: "invalid <name>" */
	const char *hint;		/* NULL: U32 bounds ("0-65535", "1 or more"), else none */
	const char *needs;		/* a name of the option this one is meaningless without */
	const char *missing;		/* XLVS_OPT_REQUIRED: "missing <missing>" */
	const char *help;		/* one line for "xlvs OBJECT VERB --help" */
};

/*
 * Read argv (the words after the verb) into args by opts; global options may
 * stand anywhere. Prints the usage error and returns XLVS_EXIT_USAGE, or 0.
 */
int xlvs_parse_opts(struct xlvs_ctx *c, const struct xlvs_opt *opts, int argc, char **argv, void *args);
/* The usage after "xlvs OBJECT VERB": "SERVICE REAL[:PORT] [weight N] ...". */
const char *xlvs_opts_usage(const struct xlvs_opt *opts, char *buf, size_t size);
/* "  FORM   help" for each option with a help text. */
void xlvs_opts_help(FILE *f, const struct xlvs_opt *opts);

#endif /* XLVS_CLI_ARGS_H */
