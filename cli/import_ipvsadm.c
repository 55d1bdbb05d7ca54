// SPDX-License-Identifier: GPL-2.0
/*
 * xlvs import ipvsadm: the rules `ipvsadm -Sn` (ipvsadm-save -n) prints, one
 * ipvsadm command line each, as ipvsadm -R reads them (ipvsadm(8)): -A/-E a
 * virtual service (-t|-u|--sctp-service ADDR:PORT or -f MARK [-6], -s, -p [T],
 * -M, -b flags, pe/--pe, ops), -a/-e a real (-r ADDR[:PORT], -g|-i|-m, -w, -x,
 * -y, --tun-type, --tun-port, --tun-*csum), -D/-d/-C as ipvsadm does them.
 * Lines may start with "ipvsadm"; blank lines and '#' comments are skipped.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "xlvsmaps.h"

#define IPVS_MAX_WORDS	     64
#define IPVS_PERSIST_DEFAULT 300 /* ipvsadm -p without a timeout */

/* The keys xlvs has planned for these; the parser decides whether it has them yet. */
#define KEY_PERSISTENCE "persistence"
#define KEY_PERSIST_NET "persistence_netmask"
#define KEY_SCHED_FLAGS "scheduler_flags"
#define KEY_UPPER	"upper_threshold"
#define KEY_LOWER	"lower_threshold"

enum ipvs_opt {
	O_ADD_SVC,
	O_EDIT_SVC,
	O_DEL_SVC,
	O_ADD_REAL,
	O_EDIT_REAL,
	O_DEL_REAL,
	O_CLEAR,
	O_SET,
	O_START_DAEMON,
	O_STOP_DAEMON,
	O_TCP,
	O_UDP,
	O_SCTP,
	O_FWMARK,
	O_V6,
	O_SCHED,
	O_PERSIST,
	O_NETMASK,
	O_FLAGS,
	O_PE,
	O_OPS,
	O_REAL,
	O_DR,
	O_TUN,
	O_NAT,
	O_WEIGHT,
	O_UPPER,
	O_LOWER,
	O_TUN_TYPE,
	O_TUN_PORT,
	O_TUN_CSUM,
	O_NUMERIC,
	O_NR
};

enum arg {
	NONE,
	ONE,
	OPTIONAL_NUMBER
};

static const struct {
	const char *s, *l;
	enum arg arg;
} opt_names[O_NR] = {
	[O_ADD_SVC] = { "-A", "--add-service", NONE },
	[O_EDIT_SVC] = { "-E", "--edit-service", NONE },
	[O_DEL_SVC] = { "-D", "--delete-service", NONE },
	[O_ADD_REAL] = { "-a", "--add-server", NONE },
	[O_EDIT_REAL] = { "-e", "--edit-server", NONE },
	[O_DEL_REAL] = { "-d", "--delete-server", NONE },
	[O_CLEAR] = { "-C", "--clear", NONE },
	[O_SET] = { NULL, "--set", NONE },
	[O_START_DAEMON] = { NULL, "--start-daemon", NONE },
	[O_STOP_DAEMON] = { NULL, "--stop-daemon", NONE },
	[O_TCP] = { "-t", "--tcp-service", ONE },
	[O_UDP] = { "-u", "--udp-service", ONE },
	[O_SCTP] = { NULL, "--sctp-service", ONE },
	[O_FWMARK] = { "-f", "--fwmark-service", ONE },
	[O_V6] = { "-6", "--ipv6", NONE },
	[O_SCHED] = { "-s", "--scheduler", ONE },
	[O_PERSIST] = { "-p", "--persistent", OPTIONAL_NUMBER },
	[O_NETMASK] = { "-M", "--netmask", ONE },
	[O_FLAGS] = { "-b", "--sched-flags", ONE },
	[O_PE] = { "pe", "--pe", ONE },
	[O_OPS] = { "-o", "--ops", NONE },
	[O_REAL] = { "-r", "--real-server", ONE },
	[O_DR] = { "-g", "--gatewaying", NONE },
	[O_TUN] = { "-i", "--ipip", NONE },
	[O_NAT] = { "-m", "--masquerading", NONE },
	[O_WEIGHT] = { "-w", "--weight", ONE },
	[O_UPPER] = { "-x", "--u-threshold", ONE },
	[O_LOWER] = { "-y", "--l-threshold", ONE },
	[O_TUN_TYPE] = { NULL, "--tun-type", ONE },
	[O_TUN_PORT] = { NULL, "--tun-port", ONE },
	[O_TUN_CSUM] = { NULL, "--tun-nocsum", NONE },
	[O_NUMERIC] = { "-n", "--numeric", NONE },
};

/* One rule line: the options given and their values. */
struct rule {
	const char *file;
	unsigned line;
	int cmd; /* O_ADD_SVC .. O_STOP_DAEMON */
	bool has[O_NR];
	const char *val[O_NR];
	const char *csum;  /* --tun-nocsum, --tun-csum or --tun-remcsum as written */
	char *const *args; /* --set's own words */
	int nargs;
};

struct ipvs_real {
	char addr[INET6_ADDRSTRLEN];
	unsigned port, line;
	bool v6;
	char text[80];		/* "-r 198.18.1.11:80" */
	const char *vals[O_NR]; /* the -a line's values, -e lines applied over them */
	unsigned at[O_NR];	/* the line each came from */
	bool has[O_NR], deleted;
};

struct ipvs_svc {
	char key[96]; /* "-t 198.18.0.10:80", "-f 1 -6" */
	int proto;    /* O_TCP, O_UDP, O_SCTP or O_FWMARK */
	char addr[INET6_ADDRSTRLEN];
	unsigned port, line;
	bool v6, deleted;
	char *vals[O_NR];
	unsigned at[O_NR];
	bool has[O_NR];
	struct ipvs_real *reals;
	size_t n, cap;
};

struct ipvs {
	struct imp *im;
	const char *file;
	struct ipvs_svc *svcs;
	size_t n, cap;
	char *words_buf;
};

static int find_opt(const char *w)
{
	int i;

	for (i = 0; i < O_NR; i++)
		if ((opt_names[i].s && !strcmp(w, opt_names[i].s)) || !strcmp(w, opt_names[i].l))
			return i;
	if (!strcmp(w, "ops"))
		return O_OPS;
	if (!strcmp(w, "--tun-csum") || !strcmp(w, "--tun-remcsum"))
		return O_TUN_CSUM;
	return -1;
}

static bool is_number(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s) && strlen(s) <= 10;
}

/* The words of one line into a rule; -1 after a message. */
static int read_rule(struct ipvs *p, unsigned line, char **w, int n, struct rule *r)
{
	int i = 0, o;

	memset(r, 0, sizeof(*r));
	r->file = p->file;
	r->line = line;
	r->cmd = -1;
	if (n && !strcmp(w[0], "ipvsadm"))
		i++;
	for (; i < n; i++) {
		o = find_opt(w[i]);
		if (o < 0)
			return imp_fail(p->im, p->file, line,
					"unknown option '%s' (ipvsadm -Sn prints -A and -a lines)", w[i]);
		if (o <= O_STOP_DAEMON) {
			if (r->cmd >= 0)
				return imp_fail(p->im, p->file, line, "two commands in one line: %s and %s",
						opt_names[r->cmd].l, w[i]);
			r->cmd = o;
			if (o >= O_SET) {
				r->args = w + i + 1; /* its arguments are its own */
				r->nargs = n - i - 1;
				return 0;
			}
			continue;
		}
		if (r->has[o] && o != O_V6)
			return imp_fail(p->im, p->file, line, "%s given twice", w[i]);
		r->has[o] = true;
		if (o == O_TUN_CSUM)
			r->csum = w[i];
		if (opt_names[o].arg == ONE) {
			if (i + 1 >= n)
				return imp_fail(p->im, p->file, line, "%s needs a value", w[i]);
			r->val[o] = w[++i];
		} else if (opt_names[o].arg == OPTIONAL_NUMBER && i + 1 < n && is_number(w[i + 1])) {
			r->val[o] = w[++i];
		}
	}
	if (r->cmd < 0)
		return imp_fail(p->im, p->file, line, "no command (-A, -E, -D, -a, -e, -d or -C)");
	return 0;
}

/* ADDR, ADDR:PORT, [V6], [V6]:PORT, numeric only. */
static int split_addr(struct ipvs *p, unsigned line, const char *text, char *addr, unsigned *port, bool *v6,
		      bool *has_port)
{
	char buf[INET6_ADDRSTRLEN + 16], *colon;
	unsigned char bin[16];
	size_t len = strlen(text);

	*has_port = false;
	*port = 0;
	if (len >= sizeof(buf))
		goto bad;
	strcpy(buf, text);
	if (buf[0] == '[') {
		char *end = strchr(buf, ']');

		if (!end || (end[1] && end[1] != ':'))
			goto bad;
		*end = '\0';
		colon = end[1] ? end + 1 : NULL;
		memmove(buf, buf + 1, strlen(buf + 1) + 1);
	} else {
		colon = strchr(buf, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL; /* a bare IPv6 address */
		if (colon)
			*colon = '\0';
	}
	if (colon) {
		if (!is_number(colon + 1) || strtoul(colon + 1, NULL, 10) > 65535)
			goto bad;
		*port = strtoul(colon + 1, NULL, 10);
		*has_port = true;
	}
	*v6 = strchr(buf, ':') != NULL;
	if (inet_pton(*v6 ? AF_INET6 : AF_INET, buf, bin) != 1)
		goto bad;
	inet_ntop(*v6 ? AF_INET6 : AF_INET, bin, addr, INET6_ADDRSTRLEN);
	return 0;
bad:
	return imp_fail(p->im, p->file, line,
			"'%s' is not a numeric ADDRESS[:PORT] (save the rules with ipvsadm -Sn: -n keeps "
			"addresses and ports numeric)",
			text);
}

static int svc_key(struct ipvs *p, const struct rule *r, struct ipvs_svc *out)
{
	static const int protos[] = { O_TCP, O_UDP, O_SCTP, O_FWMARK };
	bool has_port;
	size_t i;
	int which = -1;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		if (!r->has[protos[i]])
			continue;
		if (which >= 0)
			return imp_fail(p->im, r->file, r->line, "more than one service given");
		which = protos[i];
	}
	if (which < 0)
		return imp_fail(p->im, r->file, r->line, "no service (-t, -u, --sctp-service or -f)");
	out->proto = which;
	out->line = r->line;
	if (which == O_FWMARK) {
		if (!is_number(r->val[O_FWMARK]) || !strtoul(r->val[O_FWMARK], NULL, 10))
			return imp_fail(p->im, r->file, r->line, "-f '%s' is not a firewall mark (1 or more)",
					r->val[O_FWMARK]);
		out->v6 = r->has[O_V6];
		snprintf(out->key, sizeof(out->key), "-f %lu%s", strtoul(r->val[O_FWMARK], NULL, 10),
			 out->v6 ? " -6" : "");
		return 0;
	}
	if (split_addr(p, r->line, r->val[which], out->addr, &out->port, &out->v6, &has_port))
		return -1;
	snprintf(out->key, sizeof(out->key), out->v6 ? "%s [%s]:%u" : "%s %s:%u",
		 opt_names[which].s ? opt_names[which].s : opt_names[which].l, out->addr, out->port);
	return 0;
}

static struct ipvs_svc *find_svc(struct ipvs *p, const char *key)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (!p->svcs[i].deleted && !strcmp(p->svcs[i].key, key))
			return &p->svcs[i];
	return NULL;
}

/* The values of r over those of a service or real (an -E or -e changes only what it gives). */
static int take_values(char **vals, bool *has, unsigned *at, const struct rule *r, int from, int to)
{
	int o;

	for (o = from; o <= to; o++) {
		if (!r->has[o])
			continue;
		at[o] = r->line;
		free(vals[o]);
		vals[o] = strdup(o == O_TUN_CSUM ? r->csum : r->val[o] ? r->val[o] : "");
		if (!vals[o])
			return -1;
		has[o] = true;
	}
	/* -g, -i and -m replace one another */
	if (to >= O_NAT && (r->has[O_DR] || r->has[O_TUN] || r->has[O_NAT]))
		for (o = O_DR; o <= O_NAT; o++) {
			has[o] = r->has[o];
			at[o] = r->line;
		}
	return 0;
}

static void free_svc(struct ipvs_svc *s)
{
	size_t i;
	int o;

	for (o = 0; o < O_NR; o++)
		free(s->vals[o]);
	for (i = 0; i < s->n; i++)
		for (o = 0; o < O_NR; o++)
			free((char *)s->reals[i].vals[o]);
	free(s->reals);
	memset(s, 0, sizeof(*s));
	s->deleted = true;
}

static int do_service(struct ipvs *p, const struct rule *r)
{
	struct ipvs_svc key, *s;

	if (svc_key(p, r, &key))
		return -1;
	s = find_svc(p, key.key);
	if (r->cmd == O_DEL_SVC) {
		if (!s)
			return imp_fail(p->im, r->file, r->line, "-D: no service %s", key.key);
		free_svc(s);
		return 0;
	}
	if (r->cmd == O_ADD_SVC && s)
		return imp_fail(p->im, r->file, r->line, "-A: service %s already added at line %u", key.key,
				s->line);
	if (r->cmd == O_EDIT_SVC && !s)
		return imp_fail(p->im, r->file, r->line, "-E: no service %s", key.key);
	if (!s) {
		if (p->n == p->cap) {
			size_t cap = p->cap ? 2 * p->cap : 16;
			struct ipvs_svc *n = realloc(p->svcs, cap * sizeof(*n));

			if (!n)
				return imp_fail(p->im, r->file, r->line, "out of memory");
			p->svcs = n;
			p->cap = cap;
		}
		s = &p->svcs[p->n++];
		*s = key;
	}
	if (take_values(s->vals, s->has, s->at, r, O_SCHED, O_OPS))
		return imp_fail(p->im, r->file, r->line, "out of memory");
	return 0;
}

static struct ipvs_real *find_real(struct ipvs_svc *s, const char *addr, unsigned port)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!s->reals[i].deleted && !strcmp(s->reals[i].addr, addr) && s->reals[i].port == port)
			return &s->reals[i];
	return NULL;
}

static int do_real(struct ipvs *p, const struct rule *r)
{
	struct ipvs_svc key, *s;
	struct ipvs_real *rs;
	char addr[INET6_ADDRSTRLEN];
	unsigned port;
	bool v6, has_port;

	if (svc_key(p, r, &key))
		return -1;
	s = find_svc(p, key.key);
	if (!s)
		return imp_fail(p->im, r->file, r->line, "%s: service %s is not added before (-A)",
				opt_names[r->cmd].s, key.key);
	if (!r->has[O_REAL])
		return imp_fail(p->im, r->file, r->line, "%s without -r REAL", opt_names[r->cmd].s);
	if (split_addr(p, r->line, r->val[O_REAL], addr, &port, &v6, &has_port))
		return -1;
	if (!has_port)
		port = s->port; /* ipvsadm(8): the service's port when none is given */
	rs = find_real(s, addr, port);
	if (r->cmd == O_DEL_REAL) {
		if (!rs)
			return imp_fail(p->im, r->file, r->line, "-d: no real %s in %s", r->val[O_REAL],
					key.key);
		rs->deleted = true;
		return 0;
	}
	if (r->cmd == O_ADD_REAL && rs)
		return imp_fail(p->im, r->file, r->line, "-a: real %s already added at line %u",
				r->val[O_REAL], rs->line);
	if (r->cmd == O_EDIT_REAL && !rs)
		return imp_fail(p->im, r->file, r->line, "-e: no real %s in %s", r->val[O_REAL], key.key);
	if (!rs) {
		if (s->n == s->cap) {
			size_t cap = s->cap ? 2 * s->cap : 8;
			struct ipvs_real *n = realloc(s->reals, cap * sizeof(*n));

			if (!n)
				return imp_fail(p->im, r->file, r->line, "out of memory");
			s->reals = n;
			s->cap = cap;
		}
		rs = &s->reals[s->n++];
		memset(rs, 0, sizeof(*rs));
		strcpy(rs->addr, addr);
		rs->port = port;
		rs->v6 = v6;
		rs->line = r->line;
		snprintf(rs->text, sizeof(rs->text), "-r %s", r->val[O_REAL]);
	}
	if (take_values((char **)rs->vals, rs->has, rs->at, r, O_DR, O_TUN_CSUM))
		return imp_fail(p->im, r->file, r->line, "out of memory");
	return 0;
}

/*
 * --set TCP TCPFIN UDP: seconds, 0 leaving one as it is (ipvsadm(8)); a later
 * --set overrides an earlier one's non-zero values, as it would on a live IPVS.
 */
static void set_timeouts(struct ipvs *p, const struct rule *r)
{
	static const char *const names[] = { "tcp", "tcpfin", "udp" };
	unsigned long v[3];
	int i;

	if (r->nargs != 3) {
		imp_lost(p->im, r->file, r->line, "--set", "it takes three numbers, tcp tcpfin udp (got %d)",
			 r->nargs);
		return;
	}
	for (i = 0; i < 3; i++) {
		v[i] = is_number(r->args[i]) ? strtoul(r->args[i], NULL, 10) : ULONG_MAX;
		if (v[i] == ULONG_MAX) {
			imp_lost(p->im, r->file, r->line, "--set", "%s '%s' is not a number of seconds",
				 names[i], r->args[i]);
			return;
		}
		if (v[i] > XLVS_TIMEOUT_MAX_S) {
			imp_lost(p->im, r->file, r->line, "--set",
				 "%s %lu s is more than xlvs's %u s (a week)", names[i], v[i],
				 XLVS_TIMEOUT_MAX_S);
			return;
		}
	}
	for (i = 0; i < 3; i++)
		if (v[i])
			p->im->timeouts[i] = (unsigned)v[i];
}

static int do_rule(struct ipvs *p, const struct rule *r)
{
	size_t i;

	switch (r->cmd) {
	case O_ADD_SVC:
	case O_EDIT_SVC:
	case O_DEL_SVC:
		return do_service(p, r);
	case O_ADD_REAL:
	case O_EDIT_REAL:
	case O_DEL_REAL:
		return do_real(p, r);
	case O_CLEAR:
		for (i = 0; i < p->n; i++)
			free_svc(&p->svcs[i]);
		return 0;
	case O_SET:
		set_timeouts(p, r);
		return 0;
	case O_START_DAEMON:
		imp_lost(p->im, r->file, r->line, "--start-daemon",
			 "xlvs has no connection synchronisation daemon (Maglev sends a flow to the same "
			 "real on every director instead)");
		return 0;
	}
	return 0; /* --stop-daemon: nothing to carry */
}

/* ---- into the model ---- */

static const char *fwd_of(const struct ipvs_real *rs, const char **what)
{
	if (rs->has[O_NAT]) {
		*what = "-m";
		return "nat";
	}
	if (!rs->has[O_TUN]) {
		*what = "-g";
		return "dr";
	}
	*what = "-i";
	if (rs->has[O_TUN_TYPE] && strcmp(rs->vals[O_TUN_TYPE], "ipip"))
		return rs->vals[O_TUN_TYPE]; /* gue is xlvs's gue; the parser refuses gre */
	return "tun";
}

static void emit_real(struct ipvs *p, struct imp_svc *is, int reals, const struct ipvs_svc *s,
		      const struct ipvs_real *rs)
{
	struct imp *im = p->im;
	const char *f = p->file, *fw, *fwhat;
	char a[INET6_ADDRSTRLEN + 2], what[256], lost[128];
	int at;

	snprintf(what, sizeof(what), "%s (real of %s)", rs->text, s->key);
	snprintf(lost, sizeof(lost), "the real %s is left out", rs->addr);
	at = imp_add(im, is, reals, 8, true, IMP_OPTIONAL, f, rs->line, what, lost, "address: %s",
		     imp_addr(rs->addr, a, sizeof(a)));
	if (rs->has[O_WEIGHT]) {
		snprintf(what, sizeof(what), "-w %s", rs->vals[O_WEIGHT]);
		imp_add(im, is, at, 8, false, IMP_NEEDED, f, rs->at[O_WEIGHT], what, NULL, "weight: %s",
			rs->vals[O_WEIGHT]);
	}
	fw = fwd_of(rs, &fwhat);
	if (strcmp(fw, "dr")) {
		int i = imp_add(im, is, at, 8, false, IMP_NEEDED, f,
				rs->has[O_TUN_TYPE] ? rs->at[O_TUN_TYPE]
						    : rs->at[fwhat[1] == 'i' ? O_TUN : O_NAT],
				rs->has[O_TUN_TYPE] ? "--tun-type" : fwhat, NULL, "forward: %s", fw);

		if (i >= 0 && (!strcmp(fw, "tun") || !strcmp(fw, "gue")))
			is->items[i].tun_family = rs->v6 ? 6 : 4;
	}
	if (rs->has[O_TUN_PORT]) {
		snprintf(what, sizeof(what), "--tun-port %s", rs->vals[O_TUN_PORT]);
		imp_add(im, is, at, 8, false, IMP_NEEDED, f, rs->at[O_TUN_PORT], what, NULL, "gue_port: %s",
			rs->vals[O_TUN_PORT]);
	}
	if (rs->port != s->port) {
		snprintf(what, sizeof(what), "the real's port %u", rs->port);
		imp_add(im, is, at, 8, false, IMP_OPTIONAL, f, rs->line, what,
			"the real is sent the service's port, as IPVS does with -g and -i", "port: %u",
			rs->port);
	}
	if (rs->has[O_UPPER] && strcmp(rs->vals[O_UPPER], "0")) {
		snprintf(what, sizeof(what), "-x %s", rs->vals[O_UPPER]);
		imp_add(im, is, at, 8, false, IMP_OPTIONAL, f, rs->at[O_UPPER], what,
			"the real takes new connections however many it has", KEY_UPPER ": %s",
			rs->vals[O_UPPER]);
	}
	if (rs->has[O_LOWER] && strcmp(rs->vals[O_LOWER], "0")) {
		snprintf(what, sizeof(what), "-y %s", rs->vals[O_LOWER]);
		imp_add(im, is, at, 8, false, IMP_OPTIONAL, f, rs->at[O_LOWER], what, NULL, KEY_LOWER ": %s",
			rs->vals[O_LOWER]);
	}
	/* ipvsadm -Sn writes --tun-nocsum for every GUE real by default: what xlvs's GUE does */
	if (rs->has[O_TUN_CSUM] && strcmp(rs->vals[O_TUN_CSUM], "--tun-nocsum"))
		imp_lost(im, f, rs->at[O_TUN_CSUM], rs->vals[O_TUN_CSUM],
			 "xlvs has no GUE checksum options: it sends GUE over IPv4 without a UDP checksum, "
			 "as --tun-nocsum (IPVS's default) does");
}

static void emit_persistence(struct ipvs *p, struct imp_svc *is, const struct ipvs_svc *s)
{
	const char *t = s->vals[O_PERSIST] && *s->vals[O_PERSIST] ? s->vals[O_PERSIST] : NULL;
	char what[64];

	snprintf(what, sizeof(what), "-p %s", t ? t : "(300)");
	imp_add(p->im, is, -1, 4, false, IMP_OPTIONAL, p->file, s->at[O_PERSIST], what,
		"a client's new connections are not kept on one real", KEY_PERSISTENCE ": %us",
		t ? (unsigned)strtoul(t, NULL, 10) : IPVS_PERSIST_DEFAULT);
	if (!s->has[O_NETMASK] || !strcmp(s->vals[O_NETMASK], "255.255.255.255") ||
	    !strcmp(s->vals[O_NETMASK], "128"))
		return;
	snprintf(what, sizeof(what), "-M %s", s->vals[O_NETMASK]);
	imp_add(p->im, is, -1, 4, false, IMP_OPTIONAL, p->file, s->at[O_NETMASK], what,
		"persistence is per client address", KEY_PERSIST_NET ": %s", s->vals[O_NETMASK]);
}

static void emit_svc(struct ipvs *p, const struct ipvs_svc *s)
{
	static const char *const proto_names[O_NR] = { [O_TCP] = "tcp", [O_UDP] = "udp", [O_SCTP] = "sctp" };
	struct imp *im = p->im;
	const char *f = p->file;
	char what[128], a[INET6_ADDRSTRLEN + 2], lost[96], rwhat[256];
	struct imp_svc *is;
	size_t k, live = 0;
	int reals;

	snprintf(what, sizeof(what), "-A %s", s->key);
	for (k = 0; k < s->n; k++)
		live += !s->reals[k].deleted;
	if (s->proto == O_FWMARK) {
		imp_lost(im, f, s->line, what,
			 "xlvs has no firewall-mark services (a service is a VIP, protocol and port); "
			 "its %zu real(s) are left out with it",
			 live);
		for (k = 0; k < s->n; k++) {
			if (s->reals[k].deleted)
				continue;
			snprintf(rwhat, sizeof(rwhat), "%s (real of %s)", s->reals[k].text, s->key);
			imp_lost(im, f, s->reals[k].line, rwhat, "its service (%s:%u) is left out", f,
				 s->line);
		}
		return;
	}
	is = imp_svc_new(im, f, s->line, what);
	imp_add(im, is, -1, 4, true, IMP_NEEDED, f, s->line, what, NULL, "vip: %s",
		imp_addr(s->addr, a, sizeof(a)));
	imp_add(im, is, -1, 4, false, IMP_NEEDED, f, s->line, what, NULL, "port: %u", s->port);
	imp_add(im, is, -1, 4, false, IMP_NEEDED, f, s->line, what, NULL, "protocol: %s",
		proto_names[s->proto]);
	snprintf(what, sizeof(what), "-s %s", s->has[O_SCHED] ? s->vals[O_SCHED] : "(wlc)");
	snprintf(lost, sizeof(lost), "the service uses the default scheduler, %s",
		 xlvs_sched_names[XLVS_SCHED_MAGLEV]);
	imp_add(im, is, -1, 4, false, IMP_OPTIONAL, f, s->has[O_SCHED] ? s->at[O_SCHED] : s->line, what, lost,
		"scheduler: %s",
		s->has[O_SCHED] ? s->vals[O_SCHED] : "wlc"); /* ipvsadm(8): wlc is the default */
	if (s->has[O_FLAGS]) {
		snprintf(what, sizeof(what), "-b %s", s->vals[O_FLAGS]);
		imp_add(im, is, -1, 4, false, IMP_OPTIONAL, f, s->at[O_FLAGS], what, NULL,
			KEY_SCHED_FLAGS ": [%s]", s->vals[O_FLAGS]);
	}
	if (s->has[O_PERSIST])
		emit_persistence(p, is, s);
	if (s->has[O_PE]) {
		snprintf(what, sizeof(what), "pe %s", s->vals[O_PE]);
		imp_lost(im, f, s->at[O_PE], what, "xlvs has no persistence engines");
	}
	if (s->has[O_OPS])
		imp_lost(im, f, s->at[O_OPS], "ops",
			 "xlvs has no one-packet scheduling (each UDP flow keeps its real)");
	reals = imp_add(im, is, -1, 4, false, IMP_NEEDED, f, s->line, s->key, NULL, "reals:");
	for (k = 0; k < s->n; k++)
		if (!s->reals[k].deleted)
			emit_real(p, is, reals, s, &s->reals[k]);
}

/* Split a line into words in place (ipvsadm -R reads words separated by blanks). */
static int words(char *line, char **w, int max)
{
	int n = 0;
	char *save = NULL, *t;

	for (t = strtok_r(line, " \t\r", &save); t && n < max; t = strtok_r(NULL, " \t\r", &save))
		w[n++] = t;
	return t ? -1 : n;
}

int imp_ipvsadm(struct imp *im, const char *file, const char *text)
{
	struct ipvs p = { .im = im, .file = file };
	char *copy = strdup(text), *line, *next, *w[IPVS_MAX_WORDS];
	unsigned no = 0;
	struct rule r;
	size_t k;
	int n, rc = 0;

	if (!copy)
		return imp_fail(im, file, 0, "out of memory");
	for (line = copy; line && !rc; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		no++;
		n = words(line, w, IPVS_MAX_WORDS);
		if (n < 0)
			rc = imp_fail(im, file, no, "more than %d words", IPVS_MAX_WORDS);
		else if (n && w[0][0] != '#')
			rc = read_rule(&p, no, w, n, &r) || do_rule(&p, &r) ? -1 : 0;
	}
	for (k = 0; k < p.n && !rc; k++)
		if (!p.svcs[k].deleted)
			emit_svc(&p, &p.svcs[k]);
	for (k = 0; k < p.n; k++)
		free_svc(&p.svcs[k]);
	free(p.svcs);
	free(copy);
	return rc;
}
