// SPDX-License-Identifier: GPL-2.0
/*
 * Parsing of command-line words and the names printed for map values, and
 * the one parser of the commands' option tables (args.h). Everything is
 * bounded and checked: junk gets a message naming the word.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "args.h"
#include "xlvs.h"

#define HOST_MAX 128 /* longer than any address text */

static bool has_alpha_beyond_hex(const char *s)
{
	for (; *s; s++)
		if (isalpha((unsigned char)*s) && !isxdigit((unsigned char)*s))
			return true;
	return false;
}

static int parse_host(const char *host, const char *text, bool v6_only, struct xlvs_addr *a, char *err,
		      size_t errlen)
{
	memset(a, 0, sizeof(*a));
	if (!*host) {
		snprintf(err, errlen, "missing address in '%s'", text);
		return -1;
	}
	if (!v6_only && inet_pton(AF_INET, host, &a->be[0]) == 1) {
		a->family = XLVS_AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, host, a->be) == 1) {
		a->family = XLVS_AF_INET6;
		return 0;
	}
	memset(a, 0, sizeof(*a));
	if (strchr(host, '%'))
		snprintf(err, errlen, "'%s': IPv6 zone indexes are not supported", host);
	else if (v6_only && inet_pton(AF_INET, host, &a->be[0]) == 1)
		snprintf(err, errlen, "'%s': brackets are for IPv6 addresses only", text);
	else if (has_alpha_beyond_hex(host))
		snprintf(err, errlen, "'%s' is not an IP address (xlvs does not resolve names)", host);
	else
		snprintf(err, errlen, "invalid address '%s'", host);
	return -1;
}

static int parse_port(const char *port, const char *text, struct xlvs_endpoint *ep, char *err, size_t errlen)
{
	uint32_t v;

	if (!*port) {
		snprintf(err, errlen, "missing port after ':' in '%s'", text);
		return -1;
	}
	if (xlvs_parse_u32(port, 0, 65535, &v)) {
		snprintf(err, errlen, "invalid port '%s' in '%s' (0-65535)", port, text);
		return -1;
	}
	ep->port = (uint16_t)v;
	ep->have_port = true;
	return 0;
}

/* Split off "/proto" into ep->proto; buf is modified. */
static int split_proto(char *buf, const char *text, bool allow_proto, struct xlvs_endpoint *ep, char *err,
		       size_t errlen)
{
	char *slash = strrchr(buf, '/');
	int proto;

	if (!slash)
		return 0;
	if (!allow_proto) {
		snprintf(err, errlen, "'%s': a real server takes no /protocol", text);
		return -1;
	}
	*slash = '\0';
	proto = xlvs_parse_proto(slash + 1);
	if (proto < 0) {
		snprintf(err, errlen, "unknown protocol '%s' in '%s' (tcp or udp)", slash + 1, text);
		return -1;
	}
	ep->proto = (uint8_t)proto;
	return 0;
}

static int parse_bracketed(char *buf, const char *text, struct xlvs_endpoint *ep, char *err, size_t errlen)
{
	char *close = strchr(buf, ']');

	if (!close) {
		snprintf(err, errlen, "missing ']' in '%s'", text);
		return -1;
	}
	*close = '\0';
	if (parse_host(buf + 1, text, true, &ep->addr, err, errlen))
		return -1;
	if (close[1] == '\0')
		return 0;
	if (close[1] != ':') {
		snprintf(err, errlen, "unexpected '%s' after ']' in '%s'", close + 1, text);
		return -1;
	}
	return parse_port(close + 2, text, ep, err, errlen);
}

/*
 * An IPv6 address and a port without brackets: "2001:db8::10:80" is an
 * address, and just as well 2001:db8::10 port 80. When the last group is
 * decimal and what is before it is an IPv6 address, refuse the word and say
 * how to write it: [2001:db8::10]:80 for the port, [2001:db8::10:80] for the
 * address (when that is one). Returns true with err set.
 */
static bool v6_port_unbracketed(const char *buf, const char *text, char *err, size_t errlen)
{
	const char *last = strrchr(buf, ':'), *suffix = text + strlen(buf); /* "/tcp" or "" */
	char head[HOST_MAX + 1];
	struct in6_addr a;
	uint32_t port;

	if (xlvs_parse_u32(last + 1, 0, 65535, &port))
		return false;
	snprintf(head, sizeof(head), "%.*s", (int)(last - buf), buf);
	if (inet_pton(AF_INET6, head, &a) != 1)
		return false;
	if (inet_pton(AF_INET6, buf, &a) == 1)
		snprintf(err, errlen,
			 "'%s' is ambiguous: write [%s]:%u%s for port %u, or [%s]%s for the address", text,
			 head, port, suffix, port, buf, suffix);
	else
		snprintf(err, errlen, "'%s': an IPv6 address with a port is written [%s]:%u%s", text, head,
			 port, suffix);
	return true;
}

int xlvs_parse_endpoint(const char *text, bool allow_proto, struct xlvs_endpoint *ep, char *err,
			size_t errlen)
{
	char buf[HOST_MAX + 1], *colon;

	memset(ep, 0, sizeof(*ep));
	if (!text || !*text) {
		snprintf(err, errlen, "empty address");
		return -1;
	}
	if (strlen(text) > HOST_MAX) {
		snprintf(err, errlen, "address too long: '%.40s...'", text);
		return -1;
	}
	strcpy(buf, text);
	if (split_proto(buf, text, allow_proto, ep, err, errlen))
		return -1;
	if (buf[0] == '[')
		return parse_bracketed(buf, text, ep, err, errlen);
	colon = strchr(buf, ':');
	/* Two or more colons: an IPv6 address without a port ([V6]:PORT for one). */
	if (colon && strchr(colon + 1, ':')) {
		if (v6_port_unbracketed(buf, text, err, errlen))
			return -1;
		return parse_host(buf, text, false, &ep->addr, err, errlen);
	}
	if (colon)
		*colon = '\0';
	if (parse_host(buf, text, false, &ep->addr, err, errlen))
		return -1;
	return colon ? parse_port(colon + 1, text, ep, err, errlen) : 0;
}

int xlvs_parse_u32(const char *text, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!text || !isdigit((unsigned char)text[0]))
		return -1;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int xlvs_parse_secs(const char *text, double *out)
{
	double v;
	char *end;

	if (!text || !(isdigit((unsigned char)text[0]) || text[0] == '.'))
		return -1;
	errno = 0;
	v = strtod(text, &end);
	if (errno || *end || v <= 0 || v > 86400)
		return -1;
	*out = v;
	return 0;
}

int xlvs_parse_proto(const char *text)
{
	if (!text)
		return -1;
	if (!strcasecmp(text, "tcp"))
		return IPPROTO_TCP;
	if (!strcasecmp(text, "udp"))
		return IPPROTO_UDP;
	return -1;
}

int xlvs_parse_sched(const char *text)
{
	int i;

	for (i = 0; text && i < XLVS_SCHED_MAX; i++)
		if (!strcasecmp(text, xlvs_sched_names[i]))
			return i;
	return -1;
}

int xlvs_parse_fwd(const char *text)
{
	static const struct {
		const char *word;
		int fwd;
	} words[] = {
		{ "dr", XLVS_FWD_DR },		 { "route", XLVS_FWD_DR },
		{ "gatewaying", XLVS_FWD_DR },	 { "tun", XLVS_FWD_TUN },
		{ "tunnel", XLVS_FWD_TUN },	 { "ipip", XLVS_FWD_TUN },
		{ "gue", XLVS_FWD_GUE },	 { "nat", XLVS_FWD_NAT },
		{ "masq", XLVS_FWD_NAT },	 { "masquerading", XLVS_FWD_NAT },
		{ "fullnat", XLVS_FWD_FULLNAT }, { "local", XLVS_FWD_LOCAL },
		{ "localnode", XLVS_FWD_LOCAL },
	};
	size_t i;

	for (i = 0; text && i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcasecmp(text, words[i].word))
			return words[i].fwd;
	return -1;
}

/* The protocols a map entry can name: the ABI word (JSON) and ipvsadm's (text). */
static const struct {
	uint8_t proto;
	const char *name, *text;
} protos[] = {
	{ IPPROTO_TCP, "tcp", "TCP" },
	{ IPPROTO_UDP, "udp", "UDP" },
	{ IPPROTO_ICMP, "icmp", "ICMP" },
	{ IPPROTO_ICMPV6, "icmpv6", "ICMP6" },
};

static const char *proto_word(uint8_t proto, bool text, char *buf, size_t size)
{
	size_t i;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (protos[i].proto == proto)
			return text ? protos[i].text : protos[i].name;
	snprintf(buf, size, "%u", proto);
	return buf;
}

const char *xlvs_proto_name(uint8_t proto, char *buf, size_t size)
{
	return proto_word(proto, false, buf, size);
}

const char *xlvs_proto_text(uint8_t proto, char *buf, size_t size)
{
	return proto_word(proto, true, buf, size);
}

const char *xlvs_sched_name(uint8_t sched, char *buf, size_t size)
{
	if (sched < XLVS_SCHED_MAX)
		return xlvs_sched_names[sched];
	snprintf(buf, size, "sched%u", sched);
	return buf;
}

const char *xlvs_fwd_name(uint8_t fwd, char *buf, size_t size)
{
	if (fwd < XLVS_FWD_MAX)
		return xlvs_fwd_names[fwd];
	snprintf(buf, size, "fwd%u", fwd);
	return buf;
}

const char *xlvs_fwd_text(uint8_t fwd, char *buf, size_t size)
{
	static const char *const text[XLVS_FWD_MAX] = {
		[XLVS_FWD_DR] = "Route", [XLVS_FWD_TUN] = "Tunnel",	 [XLVS_FWD_GUE] = "GUE",
		[XLVS_FWD_NAT] = "Masq", [XLVS_FWD_FULLNAT] = "FullNAT", [XLVS_FWD_LOCAL] = "Local",
	};

	if (fwd < XLVS_FWD_MAX && text[fwd])
		return text[fwd];
	snprintf(buf, size, "fwd%u", fwd);
	return buf;
}

const char *xlvs_addr_text(const struct xlvs_addr *a, char *buf, size_t size)
{
	int af = a->family == XLVS_AF_INET6 ? AF_INET6 : AF_INET;

	if ((a->family != XLVS_AF_INET && a->family != XLVS_AF_INET6) ||
	    !inet_ntop(af, a->be, buf, (socklen_t)size))
		snprintf(buf, size, "?");
	return buf;
}

const char *xlvs_ep_text(const struct xlvs_addr *a, uint16_t port, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	xlvs_addr_text(a, host, sizeof(host));
	if (a->family == XLVS_AF_INET6)
		snprintf(buf, size, "[%s]:%u", host, port);
	else
		snprintf(buf, size, "%s:%u", host, port);
	return buf;
}

void xlvs_addr_of(struct xlvs_addr *a, uint8_t family, const uint32_t be[4])
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	if (family == XLVS_AF_INET)
		a->be[0] = be[0];
	else
		memcpy(a->be, be, sizeof(a->be));
}

/* ---- option tables --------------------------------------------------------- */

#define OPTS_MAX 16 /* entries in one table: the parser keeps a mark for each */

/* Is word[0..len) one of the '|'-separated names in list? */
static bool in_list(const char *list, const char *word, size_t len)
{
	size_t n;

	while (list && *list) {
		n = strcspn(list, "|");
		if (n == len && !strncmp(list, word, len))
			return true;
		list = list[n] ? list + n + 1 : NULL;
	}
	return false;
}

static bool is_named(const struct xlvs_opt *o, const char *word, size_t len)
{
	return in_list(o->name, word, len) || in_list(o->alias, word, len);
}

static bool takes_value(const struct xlvs_opt *o)
{
	return o->kind != XLVS_OPT_FLAG && o->kind != XLVS_OPT_GLOBAL;
}

/*
 * "-x" and "--x" are options; "-1" is a word, so that a negative number
 * reaches its place and gets the bounds message ("invalid weight '-1' (0-65535)").
 */
static bool is_option_word(const char *w)
{
	return w[0] == '-' && !isdigit((unsigned char)w[1]);
}

/*
 * The entry word names, with a value written into the word ("--limit=5",
 * "-w2") in *val; NULL if no entry has that name.
 */
static const struct xlvs_opt *find_named(const struct xlvs_opt *opts, const char *w, const char **val)
{
	const char *eq = strchr(w, '=');
	const struct xlvs_opt *o;

	*val = NULL;
	for (o = opts; o->kind; o++) {
		if (o->kind == XLVS_OPT_GLOBAL)
			continue;
		if (is_named(o, w, strlen(w)))
			return o;
		if (!takes_value(o) || w[0] != '-')
			continue;
		if (w[1] == '-' && eq && is_named(o, w, (size_t)(eq - w))) {
			*val = eq + 1;
			return o;
		}
		if (w[1] && w[1] != '-' && w[2] && is_named(o, w, 2)) {
			*val = w + 2;
			return o;
		}
	}
	return NULL;
}

/* The first positional entry not filled yet. */
static const struct xlvs_opt *next_bare(const struct xlvs_opt *opts, const unsigned char *seen)
{
	const struct xlvs_opt *o;

	for (o = opts; o->kind; o++)
		if ((o->flags & XLVS_OPT_POS) && !seen[o - opts])
			return o;
	return NULL;
}

static int unexpected(struct xlvs_ctx *c, const char *word)
{
	if (word[0] == '-')
		return xlvs_usage_error(c, "unknown option '%s'", word);
	return xlvs_usage_error(c, "unexpected argument '%s'", word);
}

/* "<what> 'V' (<hint>)": what defaults to "invalid <name>", hint to the bounds. */
static int bad_value(struct xlvs_ctx *c, const struct xlvs_opt *o, const char *v)
{
	const char *name = o->name ? o->name : o->alias ? o->alias : "value";
	char what[48], hint[48];
	const char *h = o->hint;

	name += strspn(name, "-");
	snprintf(what, sizeof(what), "invalid %.*s", (int)strcspn(name, "|"), name);
	if (!h && o->kind == XLVS_OPT_U32) {
		if (o->max == UINT32_MAX)
			snprintf(hint, sizeof(hint), "%u or more", o->min);
		else
			snprintf(hint, sizeof(hint), "%u-%u", o->min, o->max);
		h = hint;
	}
	if (h)
		return xlvs_usage_error(c, "%s '%s' (%s)", o->what ? o->what : what, v, h);
	return xlvs_usage_error(c, "%s '%s'", o->what ? o->what : what, v);
}

/* SERVICE, REAL or CLIENT v (argv[*i] or in it); a service takes a following tcp|udp word too. */
static int take_endpoint(struct xlvs_ctx *c, const struct xlvs_opt *o, const char *v, int argc, char **argv,
			 int *i, struct xlvs_endpoint *ep)
{
	bool svc = o->kind == XLVS_OPT_SERVICE;
	char err[XLVS_ERRLEN];
	int proto;

	/* xlvs_parse_endpoint() would call it a real server */
	if (o->kind == XLVS_OPT_CLIENT && strchr(v, '/'))
		return xlvs_usage_error(c, "'%s': a client takes no /protocol (give it to SERVICE)", v);
	if (xlvs_parse_endpoint(v, svc, ep, err, sizeof(err)))
		return xlvs_usage_error(c, "%s", err);
	if (!svc || *i + 1 >= argc || (proto = xlvs_parse_proto(argv[*i + 1])) < 0)
		return XLVS_EXIT_OK;
	if (ep->proto && ep->proto != proto)
		return xlvs_usage_error(c, "two protocols for one service: '%s' and '%s'", v, argv[*i + 1]);
	ep->proto = (uint8_t)proto;
	++*i;
	return XLVS_EXIT_OK;
}

/* Convert v by the entry's kind into its place in args. */
static int store(struct xlvs_ctx *c, const struct xlvs_opt *o, const char *v, int argc, char **argv, int *i,
		 void *args)
{
	void *dst = (char *)args + o->off;
	int x = -1;

	switch (o->kind) {
	case XLVS_OPT_FLAG:
		*(int *)dst = o->value;
		return XLVS_EXIT_OK;
	case XLVS_OPT_SERVICE:
	case XLVS_OPT_REAL:
	case XLVS_OPT_CLIENT:
		return take_endpoint(c, o, v, argc, argv, i, dst);
	case XLVS_OPT_U32:
		x = xlvs_parse_u32(v, o->min, o->max, dst);
		break;
	case XLVS_OPT_SECS:
		x = xlvs_parse_secs(v, dst);
		break;
	case XLVS_OPT_STRING:
		*(const char **)dst = v;
		x = 0;
		break;
	case XLVS_OPT_ENUM:
		x = o->parse(v);
		if (x >= 0)
			*(int *)dst = x;
		break;
	default:
		break;
	}
	if (x < 0 || (o->ok && !o->ok(dst)))
		return bad_value(c, o, v);
	return XLVS_EXIT_OK;
}

/* "--client given twice (one ADDR[:PORT] only)" */
static int once_only(struct xlvs_ctx *c, const struct xlvs_opt *o)
{
	const char *name = o->name ? o->name : o->alias;

	return xlvs_usage_error(c, "%.*s given twice (one %s only)", (int)strcspn(name, "|"), name, o->arg);
}

/* argv[*i], not a global option: an option (and its value) or a positional. */
static int take_word(struct xlvs_ctx *c, const struct xlvs_opt *opts, unsigned char *seen, int argc,
		     char **argv, int *i, void *args)
{
	const struct xlvs_opt *o;
	const char *v;
	int rc;

	o = find_named(opts, argv[*i], &v);
	/* A positional names one thing (the interface, the weight): a second is a mistake. */
	if (o && (o->flags & XLVS_OPT_POS) && seen[o - opts])
		return unexpected(c, argv[*i]);
	if (o && (o->flags & XLVS_OPT_ONCE) && seen[o - opts])
		return once_only(c, o);
	if (o && takes_value(o) && !v) {
		if (*i + 1 >= argc)
			return xlvs_usage_error(c, "'%s' needs a value", argv[*i]);
		v = argv[++*i];
	}
	if (!o && !is_option_word(argv[*i]) && (o = next_bare(opts, seen)))
		v = argv[*i];
	if (!o)
		return unexpected(c, argv[*i]);
	rc = store(c, o, v, argc, argv, i, args);
	seen[o - opts] = 1;
	return rc;
}

static const struct xlvs_opt *find_name(const struct xlvs_opt *opts, const char *name)
{
	const struct xlvs_opt *o;

	for (o = opts; o->kind; o++)
		if (is_named(o, name, strlen(name)))
			return o;
	return NULL;
}

/* Every required entry given, every given one with what it needs. */
static int check_complete(struct xlvs_ctx *c, const struct xlvs_opt *opts, const unsigned char *seen)
{
	const struct xlvs_opt *o, *n;
	const char *what;

	for (o = opts; o->kind; o++)
		if ((o->flags & XLVS_OPT_REQUIRED) && !seen[o - opts])
			return xlvs_usage_error(c, "missing %s", o->missing);
	for (o = opts; o->kind; o++) {
		if (!seen[o - opts] || !o->needs)
			continue;
		n = find_name(opts, o->needs);
		what = o->name ? o->name : o->arg; /* a positional is named by its word */
		if (n && !seen[n - opts])
			return xlvs_usage_error(c, "%.*s needs %s%s%s", (int)strcspn(what, "|"), what,
						o->needs, takes_value(n) ? " " : "",
						takes_value(n) ? n->arg : "");
	}
	return XLVS_EXIT_OK;
}

int xlvs_parse_opts(struct xlvs_ctx *c, const struct xlvs_opt *opts, int argc, char **argv, void *args)
{
	unsigned char seen[OPTS_MAX] = { 0 };
	int i, rc;

	for (i = 0; opts[i].kind; i++)
		if (i + 1 >= OPTS_MAX)
			return xlvs_error(c, XLVS_EXIT_RUNTIME, "option table over %d entries", OPTS_MAX);
	for (i = 0; i < argc; i++) {
		rc = xlvs_global_opt(c, argc, argv, &i);
		if (rc < 0)
			return XLVS_EXIT_USAGE;
		if (rc > 0)
			continue;
		rc = take_word(c, opts, seen, argc, argv, &i, args);
		if (rc)
			return rc;
	}
	return check_complete(c, opts, seen);
}

/* ---- usage and help from the table ---- */

static void cat(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void cat(char *buf, size_t size, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, size - n, fmt, ap);
	va_end(ap);
}

/* Flags that store into one place are shown as one: [echo|no-echo]. */
static bool shares_slot(const struct xlvs_opt *a, const struct xlvs_opt *b)
{
	return a->kind == XLVS_OPT_FLAG && b->kind == XLVS_OPT_FLAG && a->off == b->off;
}

/* "name ARG", "ARG" for a bare word, "a|b" for flags sharing a place. */
static void cat_form(char *buf, size_t size, const struct xlvs_opt *o)
{
	const struct xlvs_opt *m;

	if (!o->name) {
		cat(buf, size, "%s", o->arg);
		return;
	}
	cat(buf, size, "%s", o->name);
	for (m = o + 1; m->kind && shares_slot(o, m); m++)
		cat(buf, size, "|%s", m->name);
	if (takes_value(o))
		cat(buf, size, " %s", o->arg);
}

static bool shown_before(const struct xlvs_opt *opts, const struct xlvs_opt *o)
{
	return o > opts && shares_slot(o - 1, o);
}

const char *xlvs_opts_usage(const struct xlvs_opt *opts, char *buf, size_t size)
{
	const struct xlvs_opt *o, *n;
	bool opt;

	buf[0] = '\0';
	for (o = opts; o->kind; o++) {
		if (o->needs || shown_before(opts, o))
			continue;
		opt = !(o->flags & XLVS_OPT_REQUIRED);
		cat(buf, size, "%s%s", buf[0] ? " " : "", opt ? "[" : "");
		cat_form(buf, size, o);
		/* What needs this option is shown inside its brackets. */
		for (n = opts; n->kind; n++)
			if (n->needs && is_named(o, n->needs, strlen(n->needs))) {
				cat(buf, size, " [");
				cat_form(buf, size, n);
				cat(buf, size, "]");
			}
		cat(buf, size, "%s", opt ? "]" : "");
	}
	return buf;
}

void xlvs_opts_help(FILE *f, const struct xlvs_opt *opts)
{
	const struct xlvs_opt *o;
	char form[96];

	for (o = opts; o->kind; o++) {
		if (!o->help || shown_before(opts, o))
			continue;
		form[0] = '\0';
		cat_form(form, sizeof(form), o);
		fprintf(f, "  %-28s %s\n", form, o->help);
	}
}
