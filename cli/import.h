/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xlvs import: ipvsadm-save output or a keepalived.conf into an xlvs.yaml.
 *
 * The readers (import_ipvsadm.c, import_keepalived.c) turn their input into
 * services made of items, one item per line of YAML, each remembering the
 * input line it came from. import.c then renders each service and runs it
 * through the configuration parser itself (xlvs_conf_parse): what the parser
 * refuses is dropped, or its real or service with it, and reported with the
 * input's file:line and the parser's own words. So whatever xlvs accepts is
 * carried, and when a scheduler or persistence becomes supported the importer
 * carries it without a change here.
 */
#ifndef XLVS_CLI_IMPORT_H
#define XLVS_CLI_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* When the parser refuses an item: drop it alone, or what holds it (its real, its service). */
enum imp_policy {
	IMP_OPTIONAL, /* the item alone; the rest means what the input meant without it */
	IMP_NEEDED,   /* the block holding it (a real, a check, or the service) */
};

struct imp_item {
	char *text;	 /* "scheduler: wlc"; "" for a block's own line is never used */
	unsigned indent; /* spaces before the key */
	bool list_start; /* the first line of a sequence entry: "- " replaces two spaces */
	int parent;	 /* index of the item opening the block it is in; -1: the service */
	enum imp_policy policy;
	const char *file; /* where it came from */
	unsigned line;
	char *what;	/* the input it stands for: "-s wlc", "lb_algo wlc" */
	char *lost;	/* what the output does without it: "the service uses maglev" */
	int tun_family; /* 4 or 6: a forward line that needs that tunnel source */
	bool dropped;
};

struct imp_svc {
	struct imp_item *items;
	size_t n, cap;
	const char *file;
	unsigned line;
	char *what; /* "-A -t 198.18.0.10:80" */
	bool dropped;
};

struct imp {
	FILE *err;
	struct imp_svc *svcs;
	size_t n, cap;
	const char *interfaces; /* "eth1" or "eth1,eth2" */
	const char *tun_src4, *tun_src6;
	unsigned timeouts[3]; /* s, 0 not given: ipvsadm --set's tcp, tcpfin, udp (top-level timeouts) */
	char **kept;	      /* strings that live as long as im (included files' names) */
	size_t nkept;
	struct imp_msg {
		const char *file;
		unsigned line, seq;
		char *text;
	} * msgs; /* what was not carried, printed in input order by imp_report() */
	size_t nmsgs;
	const char **files; /* input files in the order first reported, for that order */
	size_t nfiles;
	unsigned not_carried; /* lines reported as not carried */
	bool oom;
};

/* A copy of s freed with im (NULL without memory). */
const char *imp_keep(struct imp *im, const char *s);
/* A new service; its first item must be its "vip:" line (list_start, indent 4). NULL: no memory. */
struct imp_svc *imp_svc_new(struct imp *im, const char *file, unsigned line, const char *what);
/*
 * An item of s; returns its index (-1 without memory, which imp remembers).
 * what/lost may be NULL (then the item's text stands for itself).
 */
int imp_add(struct imp *im, struct imp_svc *s, int parent, unsigned indent, bool list_start,
	    enum imp_policy policy, const char *file, unsigned line, const char *what, const char *lost,
	    const char *fmt, ...) __attribute__((format(printf, 11, 12)));

/* "FILE:LINE: not carried: WHAT: WHY", counted; printed by imp_report(). */
void imp_lost(struct imp *im, const char *file, unsigned line, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* "FILE:LINE: MSG" on stderr, for an input that cannot be read at all. Returns -1. */
int imp_fail(struct imp *im, const char *file, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A string as a double-quoted YAML scalar (malloc'ed, NULL without memory). */
char *imp_quote(const char *s);
/* An address as YAML wants it: IPv6 quoted. */
const char *imp_addr(const char *addr, char *buf, size_t size);
/* Seconds as keepalived writes them ("3", "2.5") into "3s" / "2500ms"; -1 if not a number. */
int imp_secs(const char *text, char *buf, size_t size);

/*
 * The whole text of a file ("-": stdin), NUL-terminated, at most 16 MiB.
 * NULL after printing why (to im->err).
 */
char *imp_read(struct imp *im, const char *path, size_t *len);

/* Readers: fill im from text. 0, or -1 after imp_fail() (the input cannot be read). */
int imp_ipvsadm(struct imp *im, const char *file, const char *text);
int imp_keepalived(struct imp *im, const char *file, const char *text, int depth);

/*
 * Validate every service with the configuration parser, dropping what it
 * refuses, then write the YAML to out. 0, or -1 after printing why.
 */
int imp_finish(struct imp *im, const char *source, FILE *out);
/* The not-carried lines on im->err, by file (in the order the input reached them), then line. */
void imp_report(struct imp *im);
void imp_free(struct imp *im);

#endif /* XLVS_CLI_IMPORT_H */
