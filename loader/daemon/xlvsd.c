// SPDX-License-Identifier: GPL-2.0
/* xlvsd: the xlvs director daemon. Options and exit codes: xlvsd(8). */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/attach.h"
#include "daemon.h"
#include "log.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xlvsd [-c FILE] [--pin-dir DIR] [--socket PATH] [-v]\n"
		"       xlvsd --check [-c FILE] [--pin-dir DIR]\n"
		"       xlvsd --detach [--pin-dir DIR]\n"
		"\n"
		"XDP Linux Virtual Server director daemon. Runs in the foreground.\n"
		"\n"
		"  -c, --config FILE   configuration (default %s)\n"
		"      --check         validate and plan the configuration (against the maps\n"
		"                      pinned in the pin directory, if any) and exit\n"
		"      --detach        detach xlvs_lb everywhere, unpin program, links and maps\n"
		"      --pin-dir DIR   bpffs pin directory (default %s)\n"
		"      --socket PATH   control socket (default %s)\n"
		"  -v, --verbose       debug messages\n"
		"  -V, --version       print the version\n"
		"  -h, --help          this help\n"
		"\n"
		"Exit status: 0 ok, 1 usage or configuration error, 2 runtime failure.\n",
		XLVSD_DEFAULT_CONFIG, XLVS_PIN_DIR, XLVSD_DEFAULT_SOCKET);
}

static int usage_error(const char *what, const char *arg)
{
	log_err("%s%s", what, arg ? arg : "");
	fprintf(stderr, "Try 'xlvsd --help'.\n");
	return XLVSD_EXIT_CONFIG;
}

/* "/sys/fs/bpf/xlvs/" -> "/sys/fs/bpf/xlvs": pins are built as DIR/NAME. */
static char *trim_slashes(char *path)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
	return path;
}

enum {
	OPT_CHECK = 256,
	OPT_DETACH,
	OPT_PIN_DIR,
	OPT_SOCKET
};

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "detach", no_argument, NULL, OPT_DETACH },
	{ "pin-dir", required_argument, NULL, OPT_PIN_DIR },
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	static char pin_dir[sizeof(((struct xlvs_dp *)0)->pin_dir)] = XLVS_PIN_DIR;
	static char config[PATH_MAX];
	struct xlvsd_opts o = { XLVSD_DEFAULT_CONFIG, pin_dir, XLVSD_DEFAULT_SOCKET };
	bool check = false, detach = false;
	int c;

	xlvs_log_hook_libs();
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:vVh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.config = optarg;
			break;
		case OPT_CHECK:
			check = true;
			break;
		case OPT_DETACH:
			detach = true;
			break;
		case OPT_PIN_DIR:
			if (optarg[0] != '/' || strlen(optarg) >= sizeof(pin_dir))
				return usage_error("--pin-dir needs an absolute path: ", optarg);
			strcpy(pin_dir, optarg);
			trim_slashes(pin_dir);
			break;
		case OPT_SOCKET:
			if (!optarg[0])
				return usage_error("--socket needs a path", NULL);
			o.socket = optarg;
			break;
		case 'v':
			xlvs_log_set_level(XLVS_LOG_DEBUG);
			break;
		case 'V':
			printf("xlvsd %s\n", XLVS_VERSION);
			return XLVSD_EXIT_OK;
		case 'h':
			usage(stdout);
			return XLVSD_EXIT_OK;
		case ':':
			return usage_error("missing argument for ", argv[optind - 1]);
		default:
			return usage_error("unknown option ", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument ", argv[optind]);
	if (check && detach)
		return usage_error("--check and --detach exclude each other", NULL);
	if (check)
		return xlvsd_check(o.config, o.pin_dir);
	if (detach)
		return xlvsd_detach(o.pin_dir);
	/* Reloads re-read the same file whatever the working directory. */
	if (realpath(o.config, config))
		o.config = config;
	return xlvsd_run(&o);
}
