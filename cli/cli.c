// SPDX-License-Identifier: GPL-2.0
/*
 * xlvs_main(): options, OBJECT VERB dispatch, help and error reporting.
 * Objects and verbs may be abbreviated to any unique prefix, as with ip(8).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "xlvs.h"
#include "xlvsmaps.h"

static const struct xlvs_cmd cmds[] = {
	{ "service", "list", cmd_service_list, xlvs_opts_service_list,
	  "list services and their reals, ipvsadm style (reads the pinned maps)" },
	{ "service", "show", cmd_service_show, xlvs_opts_service,
	  "one service in detail, with counters (all protocols if none given)" },
	{ "service", "add", cmd_service_add, xlvs_opts_service_add,
	  "add or update a service (through xlvsd)" },
	{ "service", "del", cmd_service_del, xlvs_opts_service,
	  "delete a service and its reals (through xlvsd)" },
	{ "real", "add", cmd_real_add, xlvs_opts_real_add, "add a real server to a service (through xlvsd)" },
	{ "real", "del", cmd_real_del, xlvs_opts_real, "remove a real server (through xlvsd)" },
	{ "real", "set-weight", cmd_real_set_weight, xlvs_opts_real_weight,
	  "change a real server's weight, 0-65535 (through xlvsd)" },
	{ "real", "drain", cmd_real_drain, xlvs_opts_real_drain,
	  "weight 0: established flows stay, no new ones (through xlvsd); --wait: until no active conn" },
	{ "real", "show", cmd_real_show, xlvs_opts_real,
	  "one real in detail: forwarding, weights, connections, counters, health" },
	{ "stats", NULL, cmd_stats, xlvs_opts_stats,
	  "packets, bytes and conns per service and real; drop reasons; events" },
	{ "conn", "list", cmd_conn_list, xlvs_opts_conn,
	  "the connection table: client, VIP, real, seconds idle" },
	{ "timeout", "show", cmd_timeout_show, xlvs_opts_none,
	  "the global connection lifetimes (ipvsadm -L --timeout); set them in the file's timeouts:" },
	{ "status", NULL, cmd_status, xlvs_opts_none, "xlvsd status: pid, uptime, interfaces, last apply" },
	{ "decap", "attach", cmd_decap_attach, xlvs_opts_decap_attach,
	  "real server: decapsulate IPIP, IP6IP6, 4in6, 6in4 and GUE arriving on IF (XDP)" },
	{ "decap", "detach", cmd_decap_detach, xlvs_opts_decap_dev,
	  "real server: remove the decapsulator from IF" },
	{ "decap", "status", cmd_decap_status, xlvs_opts_decap_status,
	  "real server: mode, GUE port, program id, endpoints and counters" },
	{ "decap", "sync", cmd_decap_sync, xlvs_opts_decap_dev,
	  "real server: re-read IF's (or the host's) addresses as tunnel endpoints" },
	{ "reload", NULL, cmd_reload, xlvs_opts_reload,
	  "make xlvsd re-read its configuration file (exit 4 if it refuses it)" },
	{ "diff", NULL, cmd_diff, xlvs_opts_diff,
	  "what a reload of FILE would change (services, reals, weights, settings); changes nothing" },
	{ "explain", NULL, cmd_explain, xlvs_opts_explain,
	  "which real a flow goes to and why: connection entry, ring slot, weight, health" },
	{ "health", NULL, cmd_health, xlvs_opts_health,
	  "every health check: state, last result, last change, next check (xlvsd's view)" },
	{ "save", NULL, cmd_save, xlvs_opts_none,
	  "print xlvsd's running state as a configuration file (runtime changes included)" },
	{ "import", "ipvsadm", cmd_import_ipvsadm, xlvs_opts_import_ipvsadm,
	  "ipvsadm -Sn output to an xlvs.yaml on stdout; what cannot be carried on stderr (file:line)" },
	{ "import", "keepalived", cmd_import_keepalived, xlvs_opts_import_keepalived,
	  "keepalived.conf's virtual_server blocks to an xlvs.yaml on stdout; the rest on stderr" },
};
#define NR_CMDS (sizeof(cmds) / sizeof(cmds[0]))

static const char *const objects[] = { "service", "real", "stats", "conn",    "timeout", "health", "status",
				       "reload",  "diff", "save",  "explain", "decap",	 "import", "help" };
#define NR_OBJECTS (sizeof(objects) / sizeof(objects[0]))

/* Spelled-out aliases; prefixes need no entry. */
static const struct {
	const char *alias, *name;
} aliases[] = {
	{ "svc", "service" },	   { "services", "service" }, { "reals", "real" },
	{ "connection", "conn" },  { "connections", "conn" }, { "conns", "conn" },
	{ "timeouts", "timeout" }, { "ls", "list" },	      { "delete", "del" },
	{ "remove", "del" },	   { "rm", "del" },	      { "weight", "set-weight" },
};

int xlvs_error(struct xlvs_ctx *c, int code, const char *fmt, ...)
{
	va_list ap;

	fputs("xlvs: ", c->err);
	va_start(ap, fmt);
	vfprintf(c->err, fmt, ap);
	va_end(ap);
	fputc('\n', c->err);
	return code;
}

/* The usage after "xlvs OBJECT VERB", from the command's option table. */
#define USAGE_LEN 256

static void print_cmd_usage(FILE *f, const struct xlvs_cmd *cmd, const char *lead)
{
	char args[USAGE_LEN];

	xlvs_opts_usage(cmd->opts, args, sizeof(args));
	fprintf(f, "%sxlvs %s%s%s%s%s\n", lead, cmd->object, cmd->verb ? " " : "", cmd->verb ? cmd->verb : "",
		*args ? " " : "", args);
}

int xlvs_usage_error(struct xlvs_ctx *c, const char *fmt, ...)
{
	va_list ap;

	fputs("xlvs: ", c->err);
	va_start(ap, fmt);
	vfprintf(c->err, fmt, ap);
	va_end(ap);
	fputc('\n', c->err);
	if (c->cmd)
		print_cmd_usage(c->err, c->cmd, "usage: ");
	else
		fputs("usage: xlvs [OPTIONS] OBJECT VERB [ARGS]   (see: xlvs help)\n", c->err);
	return XLVS_EXIT_USAGE;
}

/* "--name VALUE" or "--name=VALUE": 1 with *val set, 0 if argv[*i] is not it, -1 on error. */
static int long_value(struct xlvs_ctx *c, int argc, char **argv, int *i, const char *name, const char **val)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n) || (a[n] != '\0' && a[n] != '='))
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
	} else if (*i + 1 < argc) {
		*val = argv[++*i];
	} else {
		xlvs_usage_error(c, "%s needs a value", name);
		return -1;
	}
	if (!**val) {
		xlvs_usage_error(c, "%s needs a non-empty value", name);
		return -1;
	}
	return 1;
}

static bool short_flag(struct xlvs_ctx *c, char f)
{
	switch (f) {
	case 'j':
		c->json = true;
		return true;
	case 'p':
		c->json = c->pretty = true;
		return true;
	case 'n':
		c->numeric = true;
		return true;
	case 'v':
		c->verbose = true;
		return true;
	}
	return false;
}

int xlvs_global_opt(struct xlvs_ctx *c, int argc, char **argv, int *i)
{
	const char *a = argv[*i];
	int rc;

	if (a[0] != '-' || a[1] == '\0')
		return 0;
	if (!strcmp(a, "--json"))
		return short_flag(c, 'j');
	if (!strcmp(a, "--pretty"))
		return short_flag(c, 'p');
	if (!strcmp(a, "--numeric"))
		return short_flag(c, 'n');
	if (!strcmp(a, "--verbose"))
		return short_flag(c, 'v');
	rc = long_value(c, argc, argv, i, "--pin-dir", &c->pin_dir);
	if (!rc)
		rc = long_value(c, argc, argv, i, "--socket", &c->sock_path);
	if (rc || a[1] == '-')
		return rc;
	/* Bundled short flags, "-jp": all letters must be ours. */
	for (const char *f = a + 1; *f; f++)
		if (!strchr("jpnv", *f))
			return 0;
	for (const char *f = a + 1; *f; f++)
		short_flag(c, *f);
	return 1;
}

static const char *unalias(const char *w)
{
	size_t i;

	for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (!strcmp(w, aliases[i].alias))
			return aliases[i].name;
	return w;
}

/* Exact name, alias, or unique prefix among names[]; NULL if none or ambiguous. */
static const char *resolve(const char *w, const char *const *names, size_t n, bool *ambiguous)
{
	const char *hit = NULL;
	size_t i, len;

	*ambiguous = false;
	w = unalias(w);
	len = strlen(w);
	for (i = 0; i < n; i++)
		if (!strcmp(w, names[i]))
			return names[i];
	for (i = 0; i < n && len; i++) {
		if (strncmp(w, names[i], len))
			continue;
		if (hit)
			*ambiguous = true;
		hit = names[i];
	}
	return *ambiguous ? NULL : hit;
}

static void help_cmd(FILE *f, const struct xlvs_cmd *cmd)
{
	print_cmd_usage(f, cmd, "  ");
	fprintf(f, "      %s\n", cmd->help);
}

static void help_notes(FILE *f)
{
	fputs("\nSERVICE is " XLVS_SVC_ARGS ": no port (or :0) means all ports; the protocol is\n"
	      "tcp when not given (show, conn list and stats --zero: any). IPv6 with a port is written\n"
	      "[2001:db8::10]:80. REAL[:PORT] takes no protocol.\n",
	      f);
}

static const struct xlvs_cmd *find_cmd(const char *object, const char *verb);

static void help_object(FILE *f, const char *object)
{
	size_t i;

	fprintf(f, "usage: xlvs [OPTIONS] %s%s\n\n", object,
		find_cmd(object, NULL) ? " [ARGS]" : " VERB [ARGS]");
	for (i = 0; i < NR_CMDS; i++)
		if (!strcmp(cmds[i].object, object))
			help_cmd(f, &cmds[i]);
	if (!strcmp(object, "service") || !strcmp(object, "real") || !strcmp(object, "conn"))
		help_notes(f);
	if (!strcmp(object, "decap"))
		fputs("\nPinned under PIN_DIR/decap/IF (" XLVS_PIN_DIR "/decap/IF); no xlvsd needed.\n"
		      "Exit status 2: no such interface, already attached, not attached, or\n"
		      "another XDP program on IF. See docs/real-servers.md.\n",
		      f);
}

static void help_all(FILE *f)
{
	size_t i;

	fputs("usage: xlvs [OPTIONS] OBJECT VERB [ARGS]\n"
	      "       xlvs help [OBJECT] | xlvs OBJECT help | xlvs list (= service list)\n\n",
	      f);
	for (i = 0; i < NR_CMDS; i++)
		help_cmd(f, &cmds[i]);
	help_notes(f);
	fputs("\nOptions (anywhere on the line):\n"
	      "  -j, --json          JSON output\n"
	      "  -p, --pretty        indented JSON (implies -j)\n"
	      "  -n, --numeric       accepted for ipvsadm habits; xlvs never resolves names\n"
	      "  -v, --verbose       also zero counters (stats); libbpf/libxdp messages (decap)\n"
	      "  --pin-dir DIR       pinned maps (default " XLVS_PIN_DIR ")\n"
	      "  --socket PATH       xlvsd control socket (default " XLVS_SOCKET_PATH ")\n"
	      "  -h, --help          help; -V, --version: version\n"
	      "\nExit status: 0 ok, 1 usage error, 2 runtime error (maps, permission),\n"
	      "3 xlvsd not reachable, 4 xlvsd refused the request, 5 real drain --wait:\n"
	      "active connections left at --timeout.\n",
	      f);
}

static bool wants_help(int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return argc > 0 && !strcmp(argv[0], "help");
}

static const struct xlvs_cmd *find_cmd(const char *object, const char *verb)
{
	size_t i;

	for (i = 0; i < NR_CMDS; i++)
		if (!strcmp(cmds[i].object, object) &&
		    ((!verb && !cmds[i].verb) || (verb && cmds[i].verb && !strcmp(cmds[i].verb, verb))))
			return &cmds[i];
	return NULL;
}

static int run_cmd(struct xlvs_ctx *c, const struct xlvs_cmd *cmd, int argc, char **argv)
{
	char args[USAGE_LEN];

	c->cmd = cmd;
	if (wants_help(argc, argv)) {
		print_cmd_usage(c->out, cmd, "usage: ");
		fprintf(c->out, "  %s\n", cmd->help);
		xlvs_opts_help(c->out, cmd->opts);
		xlvs_opts_usage(cmd->opts, args, sizeof(args));
		if (strstr(args, "SERVICE") || strstr(args, "VIP"))
			help_notes(c->out);
		return XLVS_EXIT_OK;
	}
	return cmd->run(c, argc, argv);
}

static void list_verbs(FILE *f, const char *object)
{
	const char *sep = "";
	size_t i;

	for (i = 0; i < NR_CMDS; i++)
		if (!strcmp(cmds[i].object, object) && cmds[i].verb) {
			fprintf(f, "%s%s", sep, cmds[i].verb);
			sep = ", ";
		}
}

static int verb_error(struct xlvs_ctx *c, const char *object, const char *verb, bool ambiguous)
{
	if (verb)
		fprintf(c->err, "xlvs: %s verb '%s' for %s; verbs: ", ambiguous ? "ambiguous" : "unknown",
			verb, object);
	else
		fprintf(c->err, "xlvs: %s needs a verb: ", object);
	list_verbs(c->err, object);
	fprintf(c->err, "\n");
	return XLVS_EXIT_USAGE;
}

static bool looks_like_service(const char *word)
{
	struct xlvs_endpoint ep;
	char err[XLVS_ERRLEN];

	return !xlvs_parse_endpoint(word, true, &ep, err, sizeof(err));
}

/* argv[0] is the word after the object (if any). */
/*
 * Global options between the object and its verb ("xlvs decap -j status") are
 * taken here, so the verb is found; they stay valid after the verb as well.
 * An option we do not know is left for the verb (or the listing) to refuse.
 */
static void skip_leading_options(struct xlvs_ctx *c, int *argc, char ***argv)
{
	while (*argc > 1 && (*argv)[0][0] == '-') {
		int i = 0;

		if (xlvs_global_opt(c, *argc, *argv, &i) != 1 || i + 1 >= *argc)
			return;
		*argc -= i + 1;
		*argv += i + 1;
	}
}

static int dispatch_verb(struct xlvs_ctx *c, const char *object, int argc, char **argv)
{
	const char *verbs[NR_CMDS], *verb;
	bool ambiguous;
	size_t i, n = 0;

	if (find_cmd(object, NULL)) {
		if (argc > 0 && !strcmp(argv[0], "help")) {
			help_object(c->out, object);
			return XLVS_EXIT_OK;
		}
		return run_cmd(c, find_cmd(object, NULL), argc, argv);
	}
	if (argc > 0 && !strcmp(argv[0], "help")) {
		help_object(c->out, object);
		return XLVS_EXIT_OK;
	}
	skip_leading_options(c, &argc, &argv);
	/* No verb (or only options): list, where listing makes sense. */
	if (argc == 0 || argv[0][0] == '-') {
		if (wants_help(argc, argv)) {
			help_object(c->out, object);
			return XLVS_EXIT_OK;
		}
		if (!strcmp(object, "service") || !strcmp(object, "conn"))
			return run_cmd(c, find_cmd(object, "list"), argc, argv);
		if (!strcmp(object, "decap"))
			return run_cmd(c, find_cmd(object, "status"), argc, argv);
		return verb_error(c, object, NULL, false);
	}
	for (i = 0; i < NR_CMDS; i++)
		if (!strcmp(cmds[i].object, object) && cmds[i].verb)
			verbs[n++] = cmds[i].verb;
	verb = resolve(argv[0], verbs, n, &ambiguous);
	if (!verb && looks_like_service(argv[0])) {
		/* "xlvs service VIP:PORT" shows it, "xlvs conn VIP:PORT" lists its flows. */
		if (!strcmp(object, "service"))
			return run_cmd(c, find_cmd(object, "show"), argc, argv);
		if (!strcmp(object, "conn"))
			return run_cmd(c, find_cmd(object, "list"), argc, argv);
	}
	if (!verb)
		return verb_error(c, object, argv[0], ambiguous);
	return run_cmd(c, find_cmd(object, verb), argc - 1, argv + 1);
}

static int dispatch(struct xlvs_ctx *c, int argc, char **argv)
{
	const char *object;
	bool ambiguous;

	if (!strcmp(argv[0], "list") || !strcmp(argv[0], "ls"))
		return run_cmd(c, find_cmd("service", "list"), argc - 1, argv + 1);
	if (!strcmp(argv[0], "version")) {
		fprintf(c->out, "xlvs %s\n", XLVS_VERSION);
		return XLVS_EXIT_OK;
	}
	object = resolve(argv[0], objects, NR_OBJECTS, &ambiguous);
	if (!object)
		return xlvs_usage_error(
			c, "%s object '%s' (%s)", ambiguous ? "ambiguous" : "unknown", argv[0],
			"service, real, stats, conn, status, reload, diff, save, explain, decap, help");
	if (!strcmp(object, "help")) {
		if (argc < 2) {
			help_all(c->out);
			return XLVS_EXIT_OK;
		}
		object = resolve(argv[1], objects, NR_OBJECTS - 1, &ambiguous);
		if (!object)
			return xlvs_usage_error(c, "no help for '%s'", argv[1]);
		help_object(c->out, object);
		return XLVS_EXIT_OK;
	}
	return dispatch_verb(c, object, argc - 1, argv + 1);
}

int xlvs_main(int argc, char **argv, FILE *out, FILE *err)
{
	struct xlvs_ctx c = {
		.out = out,
		.err = err,
		.pin_dir = XLVS_PIN_DIR,
		.sock_path = XLVS_SOCKET_PATH,
		.timeout_ms = XLVS_CTL_TIMEOUT_MS,
	};
	int i, rc;

	for (i = 1; i < argc && argv[i] && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			help_all(out);
			return XLVS_EXIT_OK;
		}
		if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
			fprintf(out, "xlvs %s\n", XLVS_VERSION);
			return XLVS_EXIT_OK;
		}
		rc = xlvs_global_opt(&c, argc, argv, &i);
		if (rc < 0)
			return XLVS_EXIT_USAGE;
		if (rc == 0)
			return xlvs_usage_error(&c, "unknown option '%s'", argv[i]);
	}
	if (i >= argc || !argv[i])
		return xlvs_usage_error(&c, "missing OBJECT");
	return dispatch(&c, argc - i, argv + i);
}
