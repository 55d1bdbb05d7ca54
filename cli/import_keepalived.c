// SPDX-License-Identifier: GPL-2.0
/*
 * xlvs import keepalived: the LVS part of a keepalived.conf (keepalived.conf(5)):
 * virtual_server IP PORT | fwmark N | group NAME blocks, virtual_server_group
 * blocks, their real_server blocks and checkers (TCP_CHECK, HTTP_GET, SSL_GET,
 * MISC_CHECK, PING_CHECK). Words are separated by blanks, '{' and '}' open and
 * close blocks, '#' and '!' start comments, "..." quotes a word. `include`
 * (and includer/m/w/b/a) is followed: a glob, relative to the including file's
 * directory, at most 8 deep. Lines starting with '@' (only for `keepalived -i`)
 * and '$' parameter definitions are reported and skipped.
 */
#define _GNU_SOURCE /* GLOB_BRACE */
#include <arpa/inet.h>
#include <ctype.h>
#include <glob.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "xlvsmaps.h"

#define KA_MAX_INCLUDE_DEPTH 8
#define KA_MAX_BLOCK_DEPTH   16
#define KA_DELAY_LOOP	     "60" /* keepalived.conf(5) defaults */
#define KA_CONNECT_TIMEOUT   "5"
#define KA_RETRY	     1
#define KA_MISC_RETRY	     0	   /* check_misc.c: MISC_CHECK's own default */
#define KA_SCHED	     "wlc" /* check_data.c: a service without lvs_sched, and one without */
#define KA_METHOD	     "nat" /* lvs_method (every real and the sorry server inherit it), */
#define KA_PROTOCOL	     "UDP" /* and one without protocol ("no protocol set - defaulting to UDP") */
#define KA_PERSIST	     "360" /* IPVS_SVC_PERSISTENT_TIMEOUT, s */

#define KEY_PERSISTENCE "persistence"
#define KEY_PERSIST_NET "persistence_netmask"
#define KEY_SCHED_FLAGS "scheduler_flags"
#define KEY_UPPER	"upper_threshold"
#define KEY_LOWER	"lower_threshold"

/* ---- words and blocks ---- */

struct tok {
	char *w; /* "{", "}", a word; NULL: end of line */
	const char *file;
	unsigned line;
};

struct ka {
	struct imp *im;
	struct tok *t;
	size_t n, cap, pos;
	char **bufs; /* file texts and names, freed at the end */
	size_t nbufs;
};

struct node {
	const char *kw;
	char **arg;
	size_t nargs;
	const char *file;
	unsigned line;
	bool block;
	struct node *kid;
	size_t nkids;
};

static int keep(struct ka *k, char *buf)
{
	char **n = realloc(k->bufs, (k->nbufs + 1) * sizeof(*n));

	if (!n) {
		free(buf);
		return -1;
	}
	k->bufs = n;
	k->bufs[k->nbufs++] = buf;
	return 0;
}

static int push(struct ka *k, char *w, const char *file, unsigned line)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 1024;
		struct tok *t = realloc(k->t, cap * sizeof(*t));

		if (!t)
			return imp_fail(k->im, file, line, "out of memory");
		k->t = t;
		k->cap = cap;
	}
	k->t[k->n++] = (struct tok){ w, file, line };
	return 0;
}

static int tokenize(struct ka *k, const char *file, char *text, int depth);

/* include FILENAME: every file the glob matches, relative to the including file's directory. */
static int include(struct ka *k, const char *file, unsigned line, const char *pattern, int depth)
{
	char *dir = strdup(file), *path = NULL, *text;
	glob_t g;
	size_t i, len;
	int rc = 0, grc;

	if (!dir)
		return imp_fail(k->im, file, line, "out of memory");
	if (depth >= KA_MAX_INCLUDE_DEPTH) {
		free(dir);
		return imp_fail(k->im, file, line, "include nested deeper than %d files",
				KA_MAX_INCLUDE_DEPTH);
	}
	if (pattern[0] == '/' || !strcmp(file, "-") || !strchr(file, '/'))
		path = strdup(pattern); /* relative to the current directory, which is the file's */
	else if (asprintf(&path, "%s/%s", dirname(dir), pattern) < 0)
		path = NULL;
	free(dir);
	if (!path)
		return imp_fail(k->im, file, line, "out of memory");
	grc = glob(path, GLOB_BRACE, NULL, &g);
	if (grc == GLOB_NOMATCH) {
		imp_lost(k->im, file, line, "include", "no file matches '%s'", path);
		free(path);
		return 0;
	}
	if (grc) {
		rc = imp_fail(k->im, file, line, "include '%s': cannot expand the pattern", path);
		free(path);
		return rc;
	}
	for (i = 0; i < g.gl_pathc && !rc; i++) {
		const char *name = imp_keep(k->im, g.gl_pathv[i]);

		if (!name) {
			rc = imp_fail(k->im, file, line, "out of memory");
			break;
		}
		text = imp_read(k->im, name, &len);
		if (!text || keep(k, text))
			rc = -1;
		else if (strlen(text) != len)
			rc = imp_fail(k->im, name, 0, "contains a NUL byte: not a text file");
		else
			rc = tokenize(k, name, text, depth + 1);
	}
	globfree(&g);
	free(path);
	return rc;
}

/* One line into words; braces are words of their own, "..." one word. */
static int split_line(struct ka *k, const char *file, unsigned line, char *p, char **w, size_t max, size_t *n)
{
	*n = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (!*p || *p == '#' || *p == '!')
			return 0;
		if (*n == max)
			return imp_fail(k->im, file, line, "more than %zu words in a line", max);
		if (*p == '"') {
			char *end = strchr(p + 1, '"');

			if (!end)
				return imp_fail(k->im, file, line, "a quoted word is not closed");
			w[(*n)++] = p + 1;
			*end = '\0';
			p = end + 1;
			continue;
		}
		if (*p == '{' || *p == '}') {
			static char brace[2][2] = { "{", "}" };

			w[(*n)++] = brace[*p == '}'];
			p++;
			continue;
		}
		w[(*n)++] = p;
		while (*p && !strchr(" \t\r{}#!\"", *p))
			p++;
		if (!*p)
			return 0;
		if (*p == ' ' || *p == '\t' || *p == '\r') {
			*p++ = '\0';
			continue;
		}
		/* a brace, comment or quote right after a word: move the word's end */
		memmove(p + 1, p, strlen(p) + 1);
		*p++ = '\0';
	}
}

static int tokenize(struct ka *k, const char *file, char *text, int depth)
{
	char *line, *next, *w[256];
	unsigned no = 0;
	size_t n, i;

	for (line = text; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		no++;
		/* room for the moves split_line makes: a line grows by at most its length */
		{
			size_t len = strlen(line);
			char *room = malloc(2 * len + 2);

			if (!room || keep(k, room))
				return imp_fail(k->im, file, no, "out of memory");
			memcpy(room, line, len + 1);
			line = room;
		}
		if (split_line(k, file, no, line, w, 256, &n))
			return -1;
		if (!n)
			continue;
		if (w[0][0] == '@' || w[0][0] == '$') {
			imp_lost(k->im, file, no, w[0],
				 w[0][0] == '@'
					 ? "conditional lines (keepalived -i) are not followed: skipped"
					 : "parameter definitions and substitution are not followed: skipped");
			continue;
		}
		if (!strncmp(w[0], "include", 7) && strlen(w[0]) <= 8 &&
		    strspn(w[0] + 7, "rmwba") == strlen(w[0] + 7)) {
			if (n != 2)
				return imp_fail(k->im, file, no, "%s takes one FILENAME", w[0]);
			if (include(k, file, no, w[1], depth))
				return -1;
			continue;
		}
		for (i = 0; i < n; i++)
			if (push(k, w[i], file, no))
				return -1;
		if (push(k, NULL, file, no))
			return -1;
	}
	return 0;
}

static void free_node(struct node *n)
{
	size_t i;

	for (i = 0; i < n->nkids; i++)
		free_node(&n->kid[i]);
	free(n->kid);
	free(n->arg);
}

/* The statements of a block until its '}' (or the end, at depth 0). */
static int parse_block(struct ka *k, struct node *b, int depth)
{
	struct node *cur = NULL;
	struct tok *t;

	if (depth > KA_MAX_BLOCK_DEPTH)
		return imp_fail(k->im, b->file, b->line, "blocks nested deeper than %d", KA_MAX_BLOCK_DEPTH);
	for (; k->pos < k->n; k->pos++) {
		t = &k->t[k->pos];
		if (!t->w) {
			cur = NULL;
		} else if (!strcmp(t->w, "}")) {
			if (!depth)
				return imp_fail(k->im, t->file, t->line, "'}' closes no block");
			k->pos++;
			return 0;
		} else if (!strcmp(t->w, "{")) {
			/* "keyword\n{": the brace opens the statement just before */
			if (!cur && b->nkids && !b->kid[b->nkids - 1].block)
				cur = &b->kid[b->nkids - 1];
			if (!cur || cur->block)
				return imp_fail(k->im, t->file, t->line, "'{' without a keyword before it");
			cur->block = true;
			k->pos++;
			if (parse_block(k, cur, depth + 1))
				return -1;
			k->pos--;
			cur = NULL;
		} else if (cur) {
			char **a = realloc(cur->arg, (cur->nargs + 1) * sizeof(*a));

			if (!a)
				return imp_fail(k->im, t->file, t->line, "out of memory");
			cur->arg = a;
			cur->arg[cur->nargs++] = t->w;
		} else {
			struct node *kid = realloc(b->kid, (b->nkids + 1) * sizeof(*kid));

			if (!kid)
				return imp_fail(k->im, t->file, t->line, "out of memory");
			b->kid = kid;
			cur = &b->kid[b->nkids++];
			memset(cur, 0, sizeof(*cur));
			cur->kw = t->w;
			cur->file = t->file;
			cur->line = t->line;
		}
	}
	if (depth)
		return imp_fail(k->im, b->file, b->line, "'%s {' is not closed ('}' missing)", b->kw);
	return 0;
}

/* ---- meaning ---- */

static const struct node *find(const struct node *b, const char *kw)
{
	size_t i;

	for (i = 0; i < b->nkids; i++)
		if (!strcmp(b->kid[i].kw, kw))
			return &b->kid[i];
	return NULL;
}

static const char *arg0(const struct node *n)
{
	return n && n->nargs ? n->arg[0] : NULL;
}

static void lower(char *dst, const char *src, size_t size)
{
	size_t i;

	for (i = 0; src[i] && i + 1 < size; i++)
		dst[i] = tolower((unsigned char)src[i]);
	dst[i] = '\0';
}

/* A forwarding method as keepalived runs it (svr_forwarding_handler), in xlvs's names. */
struct ka_fwd {
	const char *kind;     /* "nat", "dr", "tun", "gue" or "gre" */
	const char *gue_port; /* gue's port */
	const struct node *n; /* the line; NULL: keepalived's default */
};

/* What the service block says, for each (VIP, port) it stands for. */
struct vs {
	const struct node *n;
	struct ka_fwd fwd;
	const char *proto, *interval, *timeout, *retry;
	bool alpha, inhibit;
	bool port0; /* a group entry of port 0: keepalived makes the whole service persistent */
};

/* Keys read elsewhere, and keys with no xlvs meaning, of a virtual_server. */
static const char *const vs_keys[] = {
	"delay_loop",
	"lb_algo",
	"lvs_sched",
	"lb_kind",
	"lvs_method",
	"persistence_timeout",
	"persistence_granularity",
	"protocol",
	"sorry_server",
	"sorry_server_lvs_method",
	"quorum",
	"hysteresis",
	"alpha",
	"inhibit_on_failure",
	"virtualhost",
	"connect_timeout",
	"retry",
	"nb_get_retry",
	"real_server",
	"ip_family",
	"omega",
	"weight",
	"sh-port",
	"sh-fallback",
	"mh-port",
	"mh-fallback",
	NULL,
};

static bool known(const char *const *keys, const char *kw)
{
	for (; *keys; keys++)
		if (!strcmp(*keys, kw))
			return true;
	return false;
}

/* kw TEXT seconds as KEY: DURATION; n is where it is written (or the block it defaults in). */
static void add_secs(struct imp *im, struct imp_svc *s, int parent, unsigned indent, const struct node *n,
		     const char *kw, const char *key, const char *text, const char *lost)
{
	char d[32], what[96];

	snprintf(what, sizeof(what), "%s %s%s", kw, text, strcmp(n->kw, kw) ? " (keepalived's default)" : "");
	if (imp_secs(text, d, sizeof(d))) {
		imp_lost(im, n->file, n->line, what, "not a number of seconds");
		return;
	}
	imp_add(im, s, parent, indent, false, IMP_OPTIONAL, n->file, n->line, what, lost, "%s: %s", key, d);
}

/* A checker's setting as keepalived takes it: the checker's, else its real_server's, else the service's. */
static const struct node *inherited(const struct node *c, const struct node *r, const struct vs *v,
				    const char *kw)
{
	const struct node *n = find(c, kw);

	return n ? n : find(r, kw) ? find(r, kw) : find(v->n, kw);
}

/* The common keys of a checker; c is the checker block of real r, at the real's check: item. */
static void check_common(struct imp *im, struct imp_svc *s, int at, const struct vs *v, const struct node *r,
			 const struct node *c)
{
	const struct node *n;
	const char *retry = v->retry;
	char what[96], a[INET6_ADDRSTRLEN + 2];

	const char *interval;
	bool misc = !strcmp(c->kw, "MISC_CHECK");

	n = inherited(c, r, v, "delay_loop");
	interval = n && arg0(n) ? arg0(n) : KA_DELAY_LOOP;
	add_secs(im, s, at, 10, n ? n : c, "delay_loop", "interval", interval,
		 "the check runs at xlvs's default interval");
	/* a script's timeout is misc_timeout, by default the delay_loop (keepalived.conf(5)) */
	n = misc ? find(c, "misc_timeout") : inherited(c, r, v, "connect_timeout");
	add_secs(im, s, at, 10, n ? n : c, misc ? "misc_timeout" : "connect_timeout", "timeout",
		 n && arg0(n) ? arg0(n)
		 : misc	      ? interval
			      : KA_CONNECT_TIMEOUT,
		 "the check uses xlvs's default timeout");
	if ((n = find(c, "retry")) || (n = find(c, "nb_get_retry")) || (n = find(r, "retry")))
		retry = arg0(n);
	snprintf(what, sizeof(what), "retry %s", retry ? retry : misc ? "(0)" : "(1)");
	/* keepalived: up after one success; down after the first failure and `retry` more */
	imp_add(im, s, at, 10, false, IMP_OPTIONAL, c->file, c->line, "(keepalived: up after one success)",
		NULL, "rise: 1");
	imp_add(im, s, at, 10, false, IMP_OPTIONAL, n ? n->file : c->file, n ? n->line : c->line, what, NULL,
		"fall: %lu",
		(retry	? strtoul(retry, NULL, 10)
		 : misc ? KA_MISC_RETRY
			: KA_RETRY) +
			1);
	if (v->alpha || find(r, "alpha") || find(c, "alpha"))
		imp_add(im, s, at, 10, false, IMP_OPTIONAL, c->file, c->line, "alpha", NULL, "initial: down");
	if ((n = find(c, "connect_ip")) && arg0(n))
		imp_add(im, s, at, 10, false, IMP_NEEDED, n->file, n->line, "connect_ip", NULL, "address: %s",
			imp_addr(arg0(n), a, sizeof(a)));
	if ((n = find(c, "connect_port")) && arg0(n))
		imp_add(im, s, at, 10, false, IMP_NEEDED, n->file, n->line, "connect_port", NULL, "port: %s",
			arg0(n));
}

static const char *const check_keys[] = {
	"delay_loop", "connect_timeout", "retry",     "nb_get_retry", "connect_ip", "connect_port",
	"url",	      "virtualhost",	 "misc_path", "misc_timeout", "alpha",	    NULL,
};

static void http_check(struct imp *im, struct imp_svc *s, int at, const struct vs *v, const struct node *r,
		       const struct node *c)
{
	const struct node *url = find(c, "url"), *n, *host;
	size_t i;
	char *q;

	for (i = 0; i < c->nkids; i++)
		if (!strcmp(c->kid[i].kw, "url") && &c->kid[i] != url)
			imp_lost(im, c->kid[i].file, c->kid[i].line, "url",
				 "xlvs checks one URL per real: only the first url block is carried");
	if (url) {
		for (i = 0; i < url->nkids; i++) {
			n = &url->kid[i];
			if (!strcmp(n->kw, "path") && arg0(n) && (q = imp_quote(arg0(n)))) {
				imp_add(im, s, at, 10, false, IMP_NEEDED, n->file, n->line, "path", NULL,
					"path: %s", q);
				free(q);
			} else if (!strcmp(n->kw, "digest") && arg0(n)) {
				imp_add(im, s, at, 10, false, IMP_NEEDED, n->file, n->line, "digest", NULL,
					"digest: \"md5:%s\"", arg0(n));
			} else if (!strcmp(n->kw, "status_code") && n->nargs) {
				char list[256] = "";
				size_t j, len;

				for (j = 0; j < n->nargs; j++) {
					len = strlen(list);
					snprintf(list + len, sizeof(list) - len, "%s\"%s\"", j ? ", " : "",
						 n->arg[j]);
				}
				imp_add(im, s, at, 10, false, IMP_NEEDED, n->file, n->line, "status_code",
					NULL, "expect: [%s]", list);
			} else {
				imp_lost(im, n->file, n->line, n->kw, "xlvs's http check has no such key");
			}
		}
	}
	host = inherited(c, r, v, "virtualhost");
	if (host && arg0(host)) {
		q = imp_quote(arg0(host));
		if (q)
			imp_add(im, s, at, 10, false, IMP_NEEDED, host->file, host->line, "virtualhost", NULL,
				"host: %s", q);
		free(q);
	}
}

/* MISC_CHECK: misc_path is run by a shell in keepalived as in xlvs; misc_timeout is above. */
static void misc_check(struct imp *im, struct imp_svc *s, int at, const struct node *c)
{
	const struct node *n = find(c, "misc_path");
	char *q;

	if (n && arg0(n) && (q = imp_quote(arg0(n)))) {
		imp_add(im, s, at, 10, false, IMP_NEEDED, n->file, n->line, "misc_path", NULL, "command: %s",
			q);
		free(q);
	}
}

/* A checker block into the real's check: mapping. false if it is not one xlvs has. */
static bool checker(struct imp *im, struct imp_svc *s, int real, const struct vs *v, const struct node *r,
		    const struct node *c)
{
	static const struct {
		const char *kw, *type;
	} types[] = {
		{ "TCP_CHECK", "tcp" },	  { "HTTP_GET", "http" },   { "SSL_GET", "https" },
		{ "MISC_CHECK", "exec" }, { "PING_CHECK", "icmp" },
	};
	char what[64];
	size_t i;
	int at;

	for (i = 0; i < sizeof(types) / sizeof(types[0]) && strcmp(types[i].kw, c->kw); i++)
		;
	if (i == sizeof(types) / sizeof(types[0]))
		return false;
	snprintf(what, sizeof(what), "%s", c->kw);
	at = imp_add(im, s, real, 8, false, IMP_OPTIONAL, c->file, c->line, what, "the real is not checked",
		     "check:");
	imp_add(im, s, at, 10, false, IMP_NEEDED, c->file, c->line, what, NULL, "type: %s", types[i].type);
	check_common(im, s, at, v, r, c);
	if (!strcmp(types[i].type, "http") || !strcmp(types[i].type, "https"))
		http_check(im, s, at, v, r, c);
	if (!strcmp(types[i].type, "exec"))
		misc_check(im, s, at, c);
	for (i = 0; i < c->nkids; i++)
		if (!known(check_keys, c->kid[i].kw))
			imp_lost(im, c->kid[i].file, c->kid[i].line, c->kid[i].kw,
				 !strcmp(c->kid[i].kw, "delay_before_retry")
					 ? "xlvs retries at the check's interval (fall counts the failures)"
					 : "xlvs's checks have no such setting");
	return true;
}

/* TCP_CHECK, HTTP_GET, SSL_GET, ... */
static bool is_checker(const char *kw)
{
	size_t n = strlen(kw);

	return (n > 6 && !strcmp(kw + n - 6, "_CHECK")) || (n > 4 && !strcmp(kw + n - 4, "_GET"));
}

/*
 * TUN's options (keepalived 2.x): type ipip|gue|gre, port N (gue only, and
 * needed), nocsum|csum|remcsum. keepalived sets TUN before reading them and
 * refuses the rest of the line on an error: an IPIP tunnel then. NULL, or why.
 */
static const char *tun_options(struct imp *im, const struct node *n, struct ka_fwd *f)
{
	size_t i;

	for (i = 1; i < n->nargs; i++) {
		const char *w = n->arg[i], *val = i + 1 < n->nargs ? n->arg[i + 1] : NULL;

		if (!strcmp(w, "type") && val &&
		    (!strcmp(val, "ipip") || !strcmp(val, "gue") || !strcmp(val, "gre"))) {
			f->kind = !strcmp(val, "ipip") ? "tun" : val;
			i++;
		} else if (!strcmp(w, "port") && val) {
			f->gue_port = val;
			i++;
		} else if (!strcmp(w, "csum") || !strcmp(w, "remcsum")) {
			imp_lost(im, n->file, n->line, w,
				 "xlvs has no GUE checksum options: it sends GUE over IPv4 without a UDP "
				 "checksum, as nocsum (keepalived's default) does");
		} else if (strcmp(w, "nocsum")) {
			return "invalid tunnel option";
		}
	}
	if (!strcmp(f->kind, "gue") != !!f->gue_port)
		return "gue tunnels require port, otherwise cannot have port";
	return NULL;
}

/*
 * A forwarding method as keepalived reads it: NAT, DR or TUN (with options),
 * compared case sensitively; anything else it logs and ignores: false
 * (reported) then.
 */
static bool ka_method(struct imp *im, const struct node *n, const char *then, struct ka_fwd *out)
{
	const char *m = arg0(n), *why;
	char what[160];
	size_t i, len;

	snprintf(what, sizeof(what), "%s", n->kw);
	for (i = 0; i < n->nargs; i++) {
		len = strlen(what);
		snprintf(what + len, sizeof(what) - len, " %s", n->arg[i]);
	}
	if (!m || (strcmp(m, "NAT") && strcmp(m, "DR") && strcmp(m, "TUN"))) {
		imp_lost(im, n->file, n->line, what,
			 "keepalived takes NAT, DR or TUN, in capitals, and ignored this line: %s", then);
		return false;
	}
	*out = (struct ka_fwd){ .kind = !strcmp(m, "NAT") ? "nat" : !strcmp(m, "DR") ? "dr" : "tun", .n = n };
	if (!strcmp(m, "TUN") && (why = tun_options(im, n, out))) {
		imp_lost(im, n->file, n->line, what,
			 "keepalived refuses these tunnel options (%s) and keeps the TUN (IPIP) the line sets",
			 why);
		*out = (struct ka_fwd){ .kind = "tun", .n = n };
	}
	return true;
}

/* Item i (if any) sends to addr by f's tunnel: it needs a tunnel source of addr's family. */
static void mark_tunnel(struct imp_svc *s, int i, const struct ka_fwd *f, const char *addr)
{
	if (i >= 0 && addr && (!strcmp(f->kind, "tun") || !strcmp(f->kind, "gue")))
		s->items[i].tun_family = strchr(addr, ':') ? 6 : 4;
}

/* forward: (and gue_port:) of a real, the sorry server or the service; the forward item. */
static int put_fwd(struct imp *im, struct imp_svc *s, int parent, unsigned indent, const struct ka_fwd *f,
		   const char *what, const struct node *at, const char *addr)
{
	const struct node *n = f->n ? f->n : at;
	int i = imp_add(im, s, parent, indent, false, IMP_NEEDED, n->file, n->line, what, NULL, "forward: %s",
			f->kind);

	if (f->gue_port)
		imp_add(im, s, parent, indent, false, IMP_NEEDED, n->file, n->line, what, NULL,
			"gue_port: %s", f->gue_port);
	mark_tunnel(s, i, f, addr);
	return i;
}

static void real_server(struct imp *im, struct imp_svc *s, int reals, const struct vs *v, unsigned port,
			const struct node *r, bool *any_check)
{
	/* and what its checker inherits (check_common) */
	static const char *const real_keys[] = {
		"weight",     "inhibit_on_failure", "lvs_method", "uthreshold", "lthreshold",
		"delay_loop", "connect_timeout",    "retry",	  "alpha",	"virtualhost",
		NULL
	};
	const struct node *n;
	char a[INET6_ADDRSTRLEN + 2], lost[96], what[128];
	const char *f = r->file;
	struct ka_fwd fw;
	bool checked = false;
	size_t i;
	int at;

	if (r->nargs < 1) {
		imp_lost(im, f, r->line, "real_server", "no address");
		return;
	}
	snprintf(what, sizeof(what), "real_server %s%s%s", r->arg[0], r->nargs > 1 ? " " : "",
		 r->nargs > 1 ? r->arg[1] : "");
	snprintf(lost, sizeof(lost), "the real %s is left out", r->arg[0]);
	at = imp_add(im, s, reals, 8, true, IMP_OPTIONAL, f, r->line, what, lost, "address: %s",
		     imp_addr(r->arg[0], a, sizeof(a)));
	/* a real without weight takes its virtual_server's (keepalived 2.x), else 1 */
	if (((n = find(r, "weight")) && arg0(n)) || ((n = find(v->n, "weight")) && arg0(n)))
		imp_add(im, s, at, 8, false, IMP_NEEDED, n->file, n->line, "weight", NULL, "weight: %s",
			arg0(n));
	if ((n = find(r, "lvs_method")) && ka_method(im, n, "the real uses the service's method", &fw))
		put_fwd(im, s, at, 8, &fw, "lvs_method", r, r->arg[0]);
	else
		mark_tunnel(s, at, &v->fwd, r->arg[0]);
	if (r->nargs > 1 && strtoul(r->arg[1], NULL, 10) != port)
		imp_add(im, s, at, 8, false, IMP_OPTIONAL, f, r->line, "the real's port",
			"the real is sent the service's port, as IPVS does with DR and TUN", "port: %s",
			r->arg[1]);
	if ((n = find(r, "uthreshold")) && arg0(n))
		imp_add(im, s, at, 8, false, IMP_OPTIONAL, n->file, n->line, "uthreshold",
			"the real takes new connections however many it has", KEY_UPPER ": %s", arg0(n));
	if ((n = find(r, "lthreshold")) && arg0(n))
		imp_add(im, s, at, 8, false, IMP_OPTIONAL, n->file, n->line, "lthreshold", NULL,
			KEY_LOWER ": %s", arg0(n));
	for (i = 0; i < r->nkids; i++) {
		n = &r->kid[i];
		if (known(real_keys, n->kw))
			continue;
		if (n->block && is_checker(n->kw)) {
			if (checked)
				imp_lost(im, n->file, n->line, n->kw,
					 "xlvs runs one check per real: only the first checker is carried");
			else if (checker(im, s, at, v, r, n))
				checked = *any_check = true;
			else
				imp_lost(im, n->file, n->line, n->kw, "xlvs has no such check");
			continue;
		}
		imp_lost(im, n->file, n->line, n->kw,
			 !strncmp(n->kw, "notify_", 7)
				 ? "xlvs's notify hooks are per service (notify: {up, down}, with XLVS_REAL)"
			 : !strcmp(n->kw, "delay_before_retry") || !strcmp(n->kw, "warmup")
				 ? "xlvs retries at the check's interval (fall counts the failures)"
				 : "xlvs has no such setting for a real");
	}
	n = find(r, "inhibit_on_failure");
	if (n && checked && !v->inhibit)
		imp_lost(im, n->file, n->line, "inhibit_on_failure",
			 "xlvs sets what a down real becomes per service (on_down): this service removes "
			 "them, as not all its reals say inhibit_on_failure");
}

static void sorry(struct imp *im, struct imp_svc *s, const struct vs *v, unsigned port)
{
	const struct node *n = find(v->n, "sorry_server"), *m = find(v->n, "sorry_server_lvs_method");
	char a[INET6_ADDRSTRLEN + 2];
	struct ka_fwd fw = v->fwd;
	int at;

	if (!n || !arg0(n))
		return;
	if (!m || !ka_method(im, m, "the sorry server uses the service's method", &fw))
		m = NULL;
	at = imp_add(im, s, -1, 4, false, IMP_OPTIONAL, n->file, n->line, "sorry_server",
		     "no server takes new connections while every real is down", "sorry:");
	imp_add(im, s, at, 6, false, IMP_NEEDED, n->file, n->line, "sorry_server", NULL, "address: %s",
		imp_addr(arg0(n), a, sizeof(a)));
	/* xlvs's sorry server takes the service's method: written when it is its own, or not dr */
	if (m || strcmp(fw.kind, "dr"))
		put_fwd(im, s, at, 6, &fw, m ? "sorry_server_lvs_method" : "lb_kind", n, arg0(n));
	if (n->nargs > 1 && strtoul(n->arg[1], NULL, 10) != port)
		imp_add(im, s, at, 6, false, IMP_OPTIONAL, n->file, n->line, "the sorry server's port",
			"the sorry server is sent the service's port", "port: %s", n->arg[1]);
}

static void quorum(struct imp *im, struct imp_svc *s, const struct vs *v)
{
	const struct node *q = find(v->n, "quorum"), *h = find(v->n, "hysteresis");
	int at;

	if (!q || !arg0(q))
		return;
	if (!h || !arg0(h)) {
		imp_add(im, s, -1, 4, false, IMP_OPTIONAL, q->file, q->line, "quorum",
			"the service has no quorum", "quorum: %s", arg0(q));
		return;
	}
	at = imp_add(im, s, -1, 4, false, IMP_OPTIONAL, q->file, q->line, "quorum",
		     "the service has no quorum", "quorum:");
	imp_add(im, s, at, 6, false, IMP_NEEDED, q->file, q->line, "quorum", NULL, "weight: %s", arg0(q));
	imp_add(im, s, at, 6, false, IMP_NEEDED, h->file, h->line, "hysteresis", NULL, "hysteresis: %s",
		arg0(h));
}

/*
 * persistence_timeout, by default (no value) 360 s; keepalived also makes a
 * service persistent for 360 s when it has a persistence_granularity or port 0.
 */
static void persistence(struct imp *im, struct imp_svc *s, const struct vs *v, unsigned port)
{
	const struct node *t = find(v->n, "persistence_timeout"), *g = find(v->n, "persistence_granularity");
	const struct node *at = t ? t : g && arg0(g) ? g : v->n;
	char what[96];

	if (!t && !(g && arg0(g)) && port && !v->port0)
		return;
	if (t && arg0(t))
		snprintf(what, sizeof(what), "persistence_timeout %s", arg0(t));
	else
		snprintf(what, sizeof(what), "%s (persistence " KA_PERSIST " s, keepalived's default)",
			 t		? "persistence_timeout"
			 : g && arg0(g) ? "persistence_granularity"
					: "port 0");
	imp_add(im, s, -1, 4, false, IMP_OPTIONAL, at->file, at->line, what,
		"a client's new connections are not kept on one real", KEY_PERSISTENCE ": %ss",
		t && arg0(t) ? arg0(t) : KA_PERSIST);
	if (g && arg0(g))
		imp_add(im, s, -1, 4, false, IMP_OPTIONAL, g->file, g->line, "persistence_granularity",
			"persistence is per client address", KEY_PERSIST_NET ": %s", arg0(g));
}

/* sh-port, sh-fallback, mh-port, mh-fallback: ipvsadm's -b flags, one list entry each */
static void sched_flags(struct imp *im, struct imp_svc *s, const struct vs *v)
{
	static const char *const flags[] = { "sh-port", "sh-fallback", "mh-port", "mh-fallback", NULL };
	int at = -1;
	size_t i;

	for (i = 0; i < v->n->nkids; i++) {
		const struct node *n = &v->n->kid[i];

		if (!known(flags, n->kw))
			continue;
		if (at < 0)
			at = imp_add(im, s, -1, 4, false, IMP_OPTIONAL, n->file, n->line, n->kw, NULL,
				     KEY_SCHED_FLAGS ":");
		imp_add(im, s, at, 8, true, IMP_OPTIONAL, n->file, n->line, n->kw, NULL, "%s", n->kw);
	}
}

static void service_keys(struct imp *im, struct imp_svc *s, const struct vs *v, unsigned port)
{
	const struct node *n;
	char name[32], what[96], lost[96];

	snprintf(lost, sizeof(lost), "the service uses the default scheduler, %s",
		 xlvs_sched_names[XLVS_SCHED_MAGLEV]);
	if ((n = find(v->n, "lb_algo")) || (n = find(v->n, "lvs_sched"))) {
		snprintf(what, sizeof(what), "%s %s", n->kw, arg0(n) ? arg0(n) : "");
		lower(name, arg0(n) ? arg0(n) : "", sizeof(name));
		imp_add(im, s, -1, 4, false, IMP_OPTIONAL, n->file, n->line, what, lost, "scheduler: %s",
			name);
	} else {
		imp_add(im, s, -1, 4, false, IMP_OPTIONAL, v->n->file, v->n->line,
			"lb_algo (" KA_SCHED ", keepalived's default)", lost, "scheduler: %s", KA_SCHED);
	}
	n = v->fwd.n;
	snprintf(what, sizeof(what), "%s %s%s", n ? n->kw : "lb_kind", n ? arg0(n) : "NAT",
		 n ? "" : " (keepalived's default)");
	put_fwd(im, s, -1, 4, &v->fwd, what, v->n, NULL);
	sched_flags(im, s, v);
	persistence(im, s, v, port);
}

static void one_service(struct imp *im, const struct vs *v, const char *addr, unsigned port,
			const struct node *at)
{
	char what[128], a[INET6_ADDRSTRLEN + 2], proto[16];
	struct imp_svc *s;
	bool any_check = false;
	size_t i;
	int reals;

	snprintf(what, sizeof(what), "virtual_server %s %u", addr, port);
	s = imp_svc_new(im, at->file, at->line, what);
	imp_add(im, s, -1, 4, true, IMP_NEEDED, at->file, at->line, what, NULL, "vip: %s",
		imp_addr(addr, a, sizeof(a)));
	imp_add(im, s, -1, 4, false, IMP_NEEDED, at->file, at->line, what, NULL, "port: %u", port);
	lower(proto, v->proto ? v->proto : KA_PROTOCOL, sizeof(proto));
	imp_add(im, s, -1, 4, false, IMP_NEEDED, at->file, at->line,
		v->proto ? "protocol" : "protocol (" KA_PROTOCOL ", keepalived's default)", NULL,
		"protocol: %s", proto);
	service_keys(im, s, v, port);
	sorry(im, s, v, port);
	quorum(im, s, v);
	reals = imp_add(im, s, -1, 4, false, IMP_NEEDED, at->file, at->line, what, NULL, "reals:");
	for (i = 0; i < v->n->nkids; i++)
		if (!strcmp(v->n->kid[i].kw, "real_server")) /* a block or not: weight 1 by default */
			real_server(im, s, reals, v, port, &v->n->kid[i], &any_check);
	/* keepalived takes a failed real out of IPVS unless inhibit_on_failure (weight 0) */
	if (s && any_check)
		imp_add(im, s, -1, 4, false, IMP_OPTIONAL, at->file, at->line, "inhibit_on_failure", NULL,
			"on_down: %s", v->inhibit ? "quiesce" : "remove");
}

/* Which reals say inhibit_on_failure: all (or the service) quiesce, else remove. */
static bool all_inhibit(const struct node *vsn)
{
	size_t i, reals = 0, inhibit = 0;

	if (find(vsn, "inhibit_on_failure"))
		return true;
	for (i = 0; i < vsn->nkids; i++) {
		if (strcmp(vsn->kid[i].kw, "real_server"))
			continue;
		reals++;
		inhibit += find(&vsn->kid[i], "inhibit_on_failure") != NULL;
	}
	return reals && inhibit == reals;
}

static void vs_report_unknown(struct imp *im, const struct node *vsn)
{
	size_t i;

	for (i = 0; i < vsn->nkids; i++) {
		const struct node *n = &vsn->kid[i];

		if (known(vs_keys, n->kw))
			continue;
		imp_lost(im, n->file, n->line, n->kw,
			 !strcmp(n->kw, "quorum_up") || !strcmp(n->kw, "quorum_down")
				 ? "xlvs runs one notify.quorum command for both (XLVS_EVENT says which)"
			 : !strcmp(n->kw, "persistence_engine") ? "xlvs has no persistence engines"
			 : !strcmp(n->kw, "ops")
				 ? "xlvs has no one-packet scheduling (each UDP flow keeps its real)"
				 : "xlvs has no such setting for a service");
	}
	if (find(vsn, "omega"))
		imp_lost(im, find(vsn, "omega")->file, find(vsn, "omega")->line, "omega",
			 "xlvs runs no quorum_down command when it stops");
}

/* IP-IP PORT ranges of virtual_server_group: the last IPv4 byte, "198.18.0.10-12". */
static void group_entry(struct imp *im, const struct vs *v, const struct node *e)
{
	char base[INET6_ADDRSTRLEN], addr[INET6_ADDRSTRLEN], *dash;
	unsigned long last, from, port;
	struct in_addr in;

	if (!strcmp(e->kw, "fwmark")) {
		imp_lost(im, e->file, e->line, "fwmark", "xlvs has no firewall-mark services");
		return;
	}
	if (e->nargs > 1 ||
	    (e->nargs && (!*e->arg[0] || strspn(e->arg[0], "0123456789") != strlen(e->arg[0])))) {
		imp_lost(im, e->file, e->line, e->kw, "not IP [PORT] or IP-LAST [PORT]");
		return;
	}
	port = e->nargs ? strtoul(e->arg[0], NULL, 10) : 0; /* no port: 0 */
	snprintf(base, sizeof(base), "%s", e->kw);
	dash = strchr(base, '-');
	if (!dash) {
		one_service(im, v, base, port, e);
		return;
	}
	*dash = '\0';
	last = strtoul(dash + 1, NULL, 10);
	if (inet_pton(AF_INET, base, &in) != 1 || last > 255 || (from = ntohl(in.s_addr) & 0xff) > last) {
		imp_lost(im, e->file, e->line, e->kw,
			 "xlvs import expands IPv4 ranges of the last byte only");
		return;
	}
	for (; from <= last; from++) {
		in.s_addr = htonl((ntohl(in.s_addr) & ~0xffu) | from);
		inet_ntop(AF_INET, &in, addr, sizeof(addr));
		one_service(im, v, addr, port, e);
	}
}

static void virtual_server(struct imp *im, const struct node *top, const struct node *vsn)
{
	struct vs v = { .n = vsn };
	const struct node *n;
	size_t i;

	if ((n = find(vsn, "protocol")))
		v.proto = arg0(n);
	v.fwd.kind = KA_METHOD;
	if ((n = find(vsn, "retry")) || (n = find(vsn, "nb_get_retry")))
		v.retry = arg0(n);
	v.alpha = find(vsn, "alpha") != NULL;
	v.inhibit = all_inhibit(vsn);
	if (vsn->nargs == 2 && !strcmp(vsn->arg[0], "fwmark")) {
		imp_lost(im, vsn->file, vsn->line, "virtual_server fwmark",
			 "xlvs has no firewall-mark services (a service is a VIP, protocol and port); its reals "
			 "are left out with it");
		return;
	}
	vs_report_unknown(im, vsn);
	if ((n = find(vsn, "lb_kind")) || (n = find(vsn, "lvs_method")))
		ka_method(im, n, "the service uses its default, NAT", &v.fwd);
	if (vsn->nargs == 2 && !strcmp(vsn->arg[0], "group")) {
		for (i = 0; i < top->nkids; i++) {
			const struct node *g = &top->kid[i];

			if (strcmp(g->kw, "virtual_server_group") || !g->nargs ||
			    strcmp(g->arg[0], vsn->arg[1]))
				continue;
			for (size_t j = 0; j < g->nkids; j++)
				v.port0 |= strcmp(g->kid[j].kw, "fwmark") &&
					   (!g->kid[j].nargs || !strtoul(g->kid[j].arg[0], NULL, 10));
			for (size_t j = 0; j < g->nkids; j++)
				group_entry(im, &v, &g->kid[j]);
			return;
		}
		imp_lost(im, vsn->file, vsn->line, "virtual_server group", "no virtual_server_group %s",
			 vsn->arg[1]);
		return;
	}
	if (vsn->nargs != 2 || !*vsn->arg[1] || strspn(vsn->arg[1], "0123456789") != strlen(vsn->arg[1])) {
		imp_lost(im, vsn->file, vsn->line, "virtual_server",
			 "not 'virtual_server IP PORT', 'fwmark N' or 'group NAME'");
		return;
	}
	one_service(im, &v, vsn->arg[0], strtoul(vsn->arg[1], NULL, 10), vsn);
}

static int meaning(struct imp *im, const struct node *top)
{
	size_t i;

	for (i = 0; i < top->nkids; i++) {
		const struct node *n = &top->kid[i];

		if (!strcmp(n->kw, "virtual_server") && n->block)
			virtual_server(im, top, n);
		else if (!strcmp(n->kw, "virtual_server_group"))
			continue;
		else if (!strncmp(n->kw, "vrrp_", 5))
			imp_lost(im, n->file, n->line, n->kw,
				 "xlvs has no VRRP: keep keepalived (or another VRRP daemon) moving the VIPs");
		else
			imp_lost(im, n->file, n->line, n->kw,
				 "xlvs import carries virtual_server blocks only");
	}
	return 0;
}

int imp_keepalived(struct imp *im, const char *file, const char *text, int depth)
{
	struct ka k = { .im = im };
	struct node top = { .kw = "(top)", .file = file, .line = 1 };
	char *copy = strdup(text);
	size_t i;
	int rc;

	if (!copy || keep(&k, copy))
		return imp_fail(im, file, 0, "out of memory");
	rc = tokenize(&k, file, copy, depth);
	if (!rc)
		rc = parse_block(&k, &top, 0);
	if (!rc)
		rc = meaning(im, &top);
	free_node(&top);
	free(k.t);
	for (i = 0; i < k.nbufs; i++)
		free(k.bufs[i]);
	free(k.bufs);
	return rc;
}
