// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the control protocol (docs/control.md) without sockets.
 * An input is the bytes a client sends (at most XLVSD_CTL_MAX_LINE); each line
 * goes through what the socket does with it (loader/ctl.c client_line: blank
 * lines skipped, json_loadb with JSON_REJECT_DUPLICATES, objects only) and the
 * daemon's dispatcher xlvsd_command() over a daemon whose maps are a loaded
 * director's (private, unpinned) and whose running state is a small base
 * configuration. On every line:
 *   - there is a reply: a JSON object with a boolean "ok"; "ok": false has a
 *     non-empty "error" string; it serialises to one line;
 *   - a refused request leaves the running state exactly as it was (digest of
 *     every service and real), as "changes nothing" in docs/control.md says;
 *   - after an accepted change the base state can be applied again.
 * "reload" reads a file naming an interface that does not exist, so it is
 * always refused and nothing is ever attached.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <ev.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/conf.h"
#include "config/specedit.h"
#include "daemon/ctl.h"
#include "daemon/daemon.h"
#include "fuzz_pkt.h"
#include "health/hc.h"
#include "log.h"
#include "xlvsmaps.h"
#include "xlvs_lb.skel.h"

/* The running state; also written to the file "reload" reads. */
static const char base_yaml[] =
	"interfaces: [xlvsfz0]\n"
	"tunnel: { source4: 198.18.0.1, source6: \"2001:db8::1\" }\n"
	"services:\n"
	"  - vip: 198.18.0.10\n    port: 80\n    protocol: tcp\n    ring_size: 251\n"
	"    reals:\n      - address: 198.18.1.11\n      - address: 198.18.1.12\n        weight: 3\n"
	"  - vip: \"2001:db8::10\"\n    port: 53\n    protocol: udp\n    forward: tun\n    ring_size: 13\n"
	"    reals:\n      - address: \"2001:db8:1::1\"\n";

static struct xlvs_lb_bpf *skel;
static struct xlvsd d;
static struct xlvsd_opts opts;
static struct xlvs_spec base;
static char config_path[64];

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ull;
	return h;
}

/* The running state's services and reals, field by field (no padding bytes). */
static uint64_t digest(const struct xlvs_spec *s)
{
	uint64_t h = fnv(0xcbf29ce484222325ull, &s->nr_services, sizeof(s->nr_services));
	size_t i, j;

	for (i = 0; i < s->nr_services; i++) {
		const struct xlvs_svc_spec *v = &s->services[i];

		h = fnv(h, &v->vip.family, 1);
		h = fnv(h, &v->vip.be, sizeof(v->vip.be));
		h = fnv(h, &v->port, sizeof(v->port));
		h = fnv(h, &v->proto, sizeof(v->proto));
		h = fnv(h, &v->sched, 1);
		h = fnv(h, &v->fwd, 1);
		h = fnv(h, &v->ring_size, sizeof(v->ring_size));
		h = fnv(h, &v->nr_reals, sizeof(v->nr_reals));
		for (j = 0; j < v->nr_reals; j++) {
			const struct xlvs_real_spec *r = &v->reals[j];

			h = fnv(h, &r->addr.family, 1);
			h = fnv(h, &r->addr.be, sizeof(r->addr.be));
			h = fnv(h, &r->port, sizeof(r->port));
			h = fnv(h, &r->weight, sizeof(r->weight));
			h = fnv(h, &r->fwd, 1);
		}
	}
	return h;
}

static void apply_base(void)
{
	struct xlvs_apply_stats st;
	struct xlvs_spec want;
	char msg[1024] = "";

	FZ_ASSERT(!xlvsd_spec_copy(&want, &base), "copy");
	FZ_ASSERT(!xlvsd_apply(&d, &want, &st, msg, sizeof(msg)), "applying the base state again: %s", msg);
	xlvs_spec_free(&want);
}

static void remove_config(void)
{
	unlink(config_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct xlvs_conf_error err;
	struct bpf_map *m;
	FILE *f;
	int fd;

	xlvs_log_set_level(XLVS_LOG_ERROR); /* every refusal is a warning: too slow on stderr */
	strcpy(config_path, "/tmp/xlvs-fuzz-ctl-XXXXXX");
	fd = mkstemp(config_path);
	FZ_ASSERT(fd >= 0 && (f = fdopen(fd, "w")) && fputs(base_yaml, f) >= 0 && !fclose(f), "%s",
		  config_path);
	atexit(remove_config);
	FZ_ASSERT(!xlvs_conf_parse("base.yaml", base_yaml, sizeof(base_yaml) - 1, &base, &err),
		  "base: %u:%u: %s", err.line, err.column, err.msg);
	base.global.nr_interfaces = 0; /* maps only: nothing is attached anywhere */

	skel = xlvs_lb_bpf__open();
	FZ_ASSERT(skel, "open xlvs_lb");
	bpf_object__for_each_map (m, skel->obj)
		bpf_map__set_pin_path(m, NULL);
	/*
	 * Every change dumps the maps for its rollback: smaller tables keep the
	 * target fast. Room for the base and one service of the default ring size.
	 */
	bpf_map__set_max_entries(skel->maps.xlvs_ring, xlvs_ring_blocks(2 * XLVS_RING_DEFAULT));
	bpf_map__set_max_entries(skel->maps.xlvs_conns, 1024);
	FZ_ASSERT(!xlvs_lb_size_stripes(skel), "size the striped maps");
	FZ_ASSERT(!xlvs_lb_bpf__load(skel), "load xlvs_lb: %s", strerror(errno));
	d.dp.lock_fd = d.dp.prog_fd = -1;
	xlvsd_status_init(&d.status);
	FZ_ASSERT(!xlvs_maps_from_obj(&d.maps, skel->obj), "maps");
	d.loop = ev_loop_new(EVFLAG_AUTO);
	FZ_ASSERT(d.loop && !xlvsd_hc_new(&d.hc, d.loop, 4, NULL, NULL), "loop, health checks");
	opts.config = config_path;
	opts.pin_dir = "/nonexistent/xlvs-fuzz";
	opts.socket = "/nonexistent/xlvs-fuzz.sock";
	d.opts = &opts;
	apply_base();
	return 0;
}

/* One request line, as loader/ctl.c client_line() handles it. */
static void one_line(const char *line, size_t len)
{
	json_error_t je;
	json_t *req, *reply, *ok, *error;
	uint64_t before = digest(&d.spec);
	char *text;
	size_t i;

	for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'); i++)
		;
	if (i == len)
		return;
	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (!req)
		reply = xlvsd_ctl_error("malformed request: %s (column %d)", je.text, je.column);
	else if (!json_is_object(req))
		reply = xlvsd_ctl_error("malformed request: not a JSON object");
	else
		reply = xlvsd_command(&d, req);
	json_decref(req);

	FZ_ASSERT(reply, "no reply");
	FZ_ASSERT(json_is_object(reply), "reply not an object");
	ok = json_object_get(reply, "ok");
	FZ_ASSERT(json_is_boolean(ok), "reply without a boolean \"ok\"");
	text = json_dumps(reply, JSON_COMPACT);
	FZ_ASSERT(text && !strchr(text, '\n'), "reply does not serialise to one line");
	if (!json_is_true(ok)) {
		error = json_object_get(reply, "error");
		FZ_ASSERT(json_is_string(error) && json_string_length(error), "refusal without an error: %s",
			  text);
		FZ_ASSERT(digest(&d.spec) == before, "refused request changed the running state: %s", text);
	} else if (digest(&d.spec) != before) {
		apply_base();
		FZ_ASSERT(digest(&d.spec) == digest(&base), "base state not restored");
	}
	free(text);
	json_decref(reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;

	if (size > XLVSD_CTL_MAX_LINE)
		return 0;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		one_line(p, (size_t)((nl ? nl : end) - p));
		p = nl ? nl + 1 : end;
	}
	return 0;
}
