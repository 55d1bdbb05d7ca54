// SPDX-License-Identifier: GPL-2.0
/*
 * Map reading for the CLI: turns libxlvsmaps errors into messages an
 * operator can act on, and gathers one view (struct xlvs_view) for the formatters.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <bpf/bpf.h>

#include "ringio.h"
#include "view.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int maps_error(struct xlvs_ctx *c, int e, const char *what)
{
	if (e == ENOENT)
		return xlvs_error(c, XLVS_EXIT_RUNTIME,
				  "no xlvs maps pinned under %s (is the director loaded? start xlvsd)",
				  c->pin_dir);
	if (e == EACCES || e == EPERM)
		return xlvs_error(c, XLVS_EXIT_RUNTIME,
				  "permission denied reading the maps under %s (run as root)", c->pin_dir);
	if (e == EPROTO)
		return xlvs_error(c, XLVS_EXIT_RUNTIME, "the maps under %s do not match this xlvs (%s)",
				  c->pin_dir, "another version of the director?");
	return xlvs_error(c, XLVS_EXIT_RUNTIME, "cannot %s under %s: %s", what, c->pin_dir, strerror(e));
}

/* Does dir hold any pin named like ours? Then a missing map is a version skew, not "nothing loaded". */
static bool has_xlvs_pins(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	while (d && !found && (e = readdir(d)))
		found = !strncmp(e->d_name, "xlvs_", 5);
	if (d)
		closedir(d);
	return found;
}

/*
 * Opening failed on map m->failed: said so the operator knows which side to upgrade. A newer
 * xlvs than the running xlvsd misses the maps only it reads; restarting xlvsd from this version
 * pins them beside the old ones (libbpf reuses the pins that match).
 */
static int open_error(struct xlvs_ctx *c, const struct xlvs_maps *m, int e)
{
	if (e == ENOENT && m->failed[0] && has_xlvs_pins(c->pin_dir))
		return xlvs_error(
			c, XLVS_EXIT_RUNTIME,
			"the maps under %s lack %s, which this xlvs reads: the director there was loaded "
			"by another version of xlvsd (restart xlvsd from this version)",
			c->pin_dir, m->failed);
	if (e == EPROTO && m->failed[0])
		return xlvs_error(c, XLVS_EXIT_RUNTIME,
				  "the map %s under %s does not match this xlvs (another version of the "
				  "director? `xlvsd --detach`, then a start of this version, replaces it)",
				  m->failed, c->pin_dir);
	return maps_error(c, e, "open the maps");
}

int xlvs_cli_maps_open(struct xlvs_ctx *c, struct xlvs_maps *m)
{
	struct stat sb;
	int rc;

	/* Checked first so the message names the directory, whatever the library says. */
	if (stat(c->pin_dir, &sb) < 0)
		return maps_error(c, errno, "open the maps");
	if (!S_ISDIR(sb.st_mode))
		return xlvs_error(c, XLVS_EXIT_RUNTIME, "%s is not a directory", c->pin_dir);
	rc = xlvs_maps_open(m, c->pin_dir);
	if (rc < 0)
		return open_error(c, m, -rc);
	return XLVS_EXIT_OK;
}

/* Every id's counters up to the largest the state has, a range call per map (not one per id):
 * the formatters pick theirs by id. */
static int read_counters(struct xlvs_ctx *c, struct xlvs_maps *m, struct xlvs_view *s)
{
	uint32_t nsvc = (uint32_t)s->nr_svc_ctr, nreal = (uint32_t)s->nr_real_ctr;
	int rc = xlvs_svc_counters_range(m, 0, nsvc, s->svc_ctr);

	if (!rc)
		rc = xlvs_svc_out_counters_range(m, 0, nsvc, s->svc_out);
	if (!rc)
		rc = xlvs_real_counters_range(m, 0, nreal, s->real_ctr);
	if (!rc)
		rc = xlvs_real_out_counters_range(m, 0, nreal, s->real_out);
	return rc < 0 ? maps_error(c, -rc, "read the counters") : XLVS_EXIT_OK;
}

/* Slots per real id over every service's ring (what `service show` shares come from). */
static int read_rings(struct xlvs_ctx *c, struct xlvs_maps *m, struct xlvs_view *s)
{
	uint32_t *vals = NULL, max = 0, i;
	size_t k;
	int rc = 0;

	for (k = 0; k < s->st.nr_services; k++)
		if (s->st.services[k].svc.ring_size > max)
			max = s->st.services[k].svc.ring_size;
	vals = malloc((max ? max : 1) * sizeof(*vals));
	if (!vals)
		rc = -ENOMEM;
	for (k = 0; k < s->st.nr_services && !rc; k++) {
		const struct xlvs_service *svc = &s->st.services[k].svc;

		rc = xlvs_ring_read(m->ring, svc->ring_base, svc->ring_size, vals);
		/* a changed slot (ring state) is still its owner's */
		for (i = 0; !rc && i < svc->ring_size; i++)
			if (xlvs_slot_real(vals[i]) < s->nr_ring_slots)
				s->ring_slots[xlvs_slot_real(vals[i])]++;
	}
	free(vals);
	return rc < 0 ? maps_error(c, -rc, "read the rings") : XLVS_EXIT_OK;
}

/* The counts the least-connection schedulers weigh, of the reals the data path keeps them for. */
static int read_loads(struct xlvs_ctx *c, struct xlvs_maps *m, struct xlvs_view *s)
{
	const struct xlvs_real_state *r;
	size_t i, j;
	int rc = 0;

	for (i = 0; i < s->st.nr_services && !rc; i++)
		for (j = 0; j < s->st.services[i].nr_reals && !rc; j++) {
			r = &s->st.services[i].reals[j];
			if ((r->real.flags & XLVS_REAL_F_COUNTED) && r->id < s->nr_loads)
				rc = xlvs_real_load_read(m, r->id, &s->loads[r->id]);
		}
	return rc < 0 ? maps_error(c, -rc, "read the connection counts") : XLVS_EXIT_OK;
}

/* Conns per real and/or the table's fullness: one walk of the table for both. */
static int read_conns(struct xlvs_ctx *c, struct xlvs_maps *m, struct xlvs_view *s, int what)
{
	int rc = xlvs_conn_usage(m, (what & XLVS_VIEW_TABLE) ? &s->table : NULL, s->conns, s->nr_conns);

	if (rc < 0) {
		/* Listing still works; the columns show "-", the table line is left out. */
		fprintf(c->err, "xlvs: warning: connection counts unavailable: %s\n", strerror(-rc));
		free(s->conns);
		s->conns = NULL;
		s->nr_conns = 0;
	}
	s->have_table = rc >= 0 && (what & XLVS_VIEW_TABLE);
	return XLVS_EXIT_OK;
}

static int alloc_arrays(struct xlvs_ctx *c, struct xlvs_view *s, int what)
{
	uint32_t nr_real, nr_svc;

	xlvs_state_nr_ids(&s->st, &nr_svc, &nr_real);

	if (what & XLVS_VIEW_CONNS) {
		s->nr_conns = nr_real ? nr_real : 1;
		s->conns = calloc(s->nr_conns, sizeof(*s->conns));
	}
	if (what & XLVS_VIEW_COUNTERS) {
		s->nr_svc_ctr = nr_svc ? nr_svc : 1;
		s->nr_real_ctr = nr_real ? nr_real : 1;
		s->svc_ctr = calloc(s->nr_svc_ctr, sizeof(*s->svc_ctr));
		s->real_ctr = calloc(s->nr_real_ctr, sizeof(*s->real_ctr));
		s->svc_out = calloc(s->nr_svc_ctr, sizeof(*s->svc_out));
		s->real_out = calloc(s->nr_real_ctr, sizeof(*s->real_out));
	}
	if (what & XLVS_VIEW_RING) {
		s->nr_ring_slots = nr_real ? nr_real : 1;
		s->ring_slots = calloc(s->nr_ring_slots, sizeof(*s->ring_slots));
		if (!s->ring_slots)
			return xlvs_error(c, XLVS_EXIT_RUNTIME, "out of memory");
	}
	if (what & XLVS_VIEW_LOAD) {
		s->nr_loads = nr_real ? nr_real : 1;
		s->loads = calloc(s->nr_loads, sizeof(*s->loads));
		if (!s->loads)
			return xlvs_error(c, XLVS_EXIT_RUNTIME, "out of memory");
	}
	if (((what & XLVS_VIEW_CONNS) && !s->conns) ||
	    ((what & XLVS_VIEW_COUNTERS) && (!s->svc_ctr || !s->real_ctr || !s->svc_out || !s->real_out)))
		return xlvs_error(c, XLVS_EXIT_RUNTIME, "out of memory");
	return XLVS_EXIT_OK;
}

int xlvs_view_read(struct xlvs_ctx *c, struct xlvs_maps *m, struct xlvs_view *s, int what)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = xlvs_state_read(m, &s->st);
	if (rc < 0)
		return maps_error(c, -rc, "read the services");
	s->time_ns = clock_ns(CLOCK_MONOTONIC);
	rc = alloc_arrays(c, s, what);
	if (!rc && (what & (XLVS_VIEW_CONNS | XLVS_VIEW_TABLE)))
		rc = read_conns(c, m, s, what);
	if (!rc && (what & XLVS_VIEW_COUNTERS))
		rc = read_counters(c, m, s);
	if (!rc && (what & XLVS_VIEW_RING))
		rc = read_rings(c, m, s);
	if (!rc && (what & XLVS_VIEW_LOAD))
		rc = read_loads(c, m, s);
	if (!rc && (what & XLVS_VIEW_DROPS)) {
		int e = xlvs_drop_counters(m, s->drops);

		if (!e)
			e = xlvs_event_counters(m, s->events);
		if (e < 0)
			rc = maps_error(c, -e, "read the drop counters");
		s->have_drops = !rc;
	}
	return rc;
}

void xlvs_view_free(struct xlvs_view *s)
{
	xlvs_state_free(&s->st);
	free(s->conns);
	free(s->svc_ctr);
	free(s->real_ctr);
	free(s->svc_out);
	free(s->real_out);
	free(s->ring_slots);
	free(s->loads);
	memset(s, 0, sizeof(*s));
}
