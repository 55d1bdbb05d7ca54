// SPDX-License-Identifier: GPL-2.0
/*
 * The maps as read at one moment: every service, every VIP, the VIP filter and
 * the reals array, the latter in one pass (a batch lookup of all 65536 entries takes
 * 8-9 ms on the development VM, one lookup per entry would take a hundred), or only
 * the ids a caller knows to be in use (xlvs_apply_with()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Counting sort of the ACTIVE reals by service id; ids stay ascending. */
static int group_reals(struct map_image *s)
{
	struct real_groups *g = calloc(1, sizeof(*g));
	const struct xlvs_real *r;
	uint32_t id, sid;

	if (!g)
		return -ENOMEM;
	for (id = 0; id < s->nreal; id++) {
		r = &s->reals[id];
		if (real_active(r) && r->svc_id < XLVS_MAX_SERVICES)
			g->first[r->svc_id + 1]++;
	}
	for (sid = 1; sid <= XLVS_MAX_SERVICES; sid++)
		g->first[sid] += g->first[sid - 1];
	/* Fill by advancing first[s] to the end of s, then shift back. */
	for (id = 0; id < s->nreal; id++) {
		r = &s->reals[id];
		if (real_active(r) && r->svc_id < XLVS_MAX_SERVICES)
			g->ids[g->first[r->svc_id]++] = id;
	}
	memmove(g->first + 1, g->first, XLVS_MAX_SERVICES * sizeof(g->first[0]));
	g->first[0] = 0;
	s->groups = g;
	return 0;
}

/* All n entries of an array map, by index. */
int dump_array(int fd, uint32_t vsz, uint32_t n, void **vals)
{
	void *keys = NULL;
	uint32_t got;
	int err;

	err = map_dump(fd, sizeof(__u32), vsz, n, &keys, vals, &got);
	free(keys);
	if (!err && got != n)
		err = -EPROTO; /* an array dump returns every index, in order */
	return err;
}

/* Ids [0, n) of xlvs_reals into a zeroed array of every id. */
static int read_reals(struct xlvs_maps *m, struct map_image *s, uint32_t n)
{
	uint32_t *keys;
	int err;

	if (n >= XLVS_MAX_REALS)
		return dump_array(m->reals, sizeof(struct xlvs_real), XLVS_MAX_REALS, (void **)&s->reals);
	s->reals = calloc(XLVS_MAX_REALS, sizeof(*s->reals));
	keys = malloc((n + 1) * sizeof(*keys));
	err = s->reals && keys ? 0 : -ENOMEM;
	if (!err && n)
		err = array_read(m->reals, sizeof(struct xlvs_real), 0, n, s->reals, keys, n);
	free(keys);
	return err;
}

int map_image_read(struct xlvs_maps *m, struct map_image *s, bool with_vips, uint32_t nreals)
{
	int err;

	memset(s, 0, sizeof(*s));
	err = map_dump(m->services, sizeof(struct xlvs_svc_key), sizeof(struct xlvs_service),
		       XLVS_MAX_SERVICES, (void **)&s->svc_keys, (void **)&s->svcs, &s->nsvc);
	if (!err && with_vips)
		err = map_dump(m->vips, sizeof(struct xlvs_vip_key), sizeof(struct xlvs_vip), XLVS_MAX_VIPS,
			       (void **)&s->vip_keys, (void **)&s->vips, &s->nvip);
	if (!err && with_vips)
		err = dump_array(m->vip_filter, sizeof(uint64_t), XLVS_VIP_FILTER_WORDS, (void **)&s->filter);
	s->nreal = nreals < XLVS_MAX_REALS ? nreals : XLVS_MAX_REALS;
	if (!err)
		err = read_reals(m, s, s->nreal);
	if (!err)
		err = group_reals(s);
	if (err)
		map_image_free(s);
	return err;
}

void map_image_free(struct map_image *s)
{
	free(s->svc_keys);
	free(s->svcs);
	free(s->vip_keys);
	free(s->vips);
	free(s->reals);
	free(s->filter);
	free(s->groups);
	memset(s, 0, sizeof(*s));
}

/* ---- xlvs_state_read ---- */

static int by_svc_id(const void *a, const void *b)
{
	const struct xlvs_svc_state *x = a, *y = b;

	return (x->svc.id > y->svc.id) - (x->svc.id < y->svc.id);
}

static int svc_state_reals(const struct map_image *s, struct xlvs_svc_state *ss)
{
	const struct real_groups *g = s->groups;
	uint32_t i, first, n;

	if (ss->svc.id >= XLVS_MAX_SERVICES)
		return 0;
	first = g->first[ss->svc.id];
	n = g->first[ss->svc.id + 1] - first;
	ss->reals = calloc(n ? n : 1, sizeof(*ss->reals));
	if (!ss->reals)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		ss->reals[i].id = g->ids[first + i];
		ss->reals[i].real = s->reals[g->ids[first + i]];
	}
	ss->nr_reals = n;
	return 0;
}

int xlvs_state_read(struct xlvs_maps *m, struct xlvs_state *st)
{
	struct map_image s;
	uint32_t i;
	int err;

	memset(st, 0, sizeof(*st));
	err = map_image_read(m, &s, false, XLVS_MAX_REALS);
	if (err)
		return err;
	st->services = calloc(s.nsvc ? s.nsvc : 1, sizeof(*st->services));
	err = st->services ? 0 : -ENOMEM;
	for (i = 0; !err && i < s.nsvc; i++) {
		st->services[i].key = s.svc_keys[i];
		st->services[i].svc = s.svcs[i];
		st->nr_services = i + 1;
	}
	if (!err)
		qsort(st->services, st->nr_services, sizeof(*st->services), by_svc_id);
	for (i = 0; !err && i < st->nr_services; i++)
		err = svc_state_reals(&s, &st->services[i]);
	map_image_free(&s);
	if (err)
		xlvs_state_free(st);
	return err;
}

void xlvs_state_free(struct xlvs_state *st)
{
	size_t i;

	for (i = 0; i < st->nr_services; i++)
		free(st->services[i].reals);
	free(st->services);
	memset(st, 0, sizeof(*st));
}

void xlvs_state_nr_ids(const struct xlvs_state *st, uint32_t *nr_svc, uint32_t *nr_real)
{
	const struct xlvs_svc_state *s;
	size_t i, j;

	*nr_svc = *nr_real = 0;
	for (i = 0; i < st->nr_services; i++) {
		s = &st->services[i];
		if (s->svc.id < XLVS_MAX_SERVICES && s->svc.id + 1 > *nr_svc)
			*nr_svc = s->svc.id + 1;
		for (j = 0; j < s->nr_reals; j++)
			if (s->reals[j].id < XLVS_MAX_REALS && s->reals[j].id + 1 > *nr_real)
				*nr_real = s->reals[j].id + 1;
	}
}
