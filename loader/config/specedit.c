// SPDX-License-Identifier: GPL-2.0
/*
 * Desired-state edits for the control commands, see specedit.h. A service or
 * real is checked by the configuration file's own rules (validate.h), so a
 * runtime change is never something the file would refuse, and is refused
 * with the file's words.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maglev.h"
#include "xlvsmaps.h"
#include "specedit.h"
#include "validate.h"

/* Shallow: the checks stay shared with src (the caller keeps one of the two arrays). */
static int copy_reals(struct xlvs_svc_spec *dst, const struct xlvs_svc_spec *src)
{
	dst->reals = NULL;
	if (!src->nr_reals)
		return 0;
	dst->reals = malloc(src->nr_reals * sizeof(*dst->reals));
	if (!dst->reals)
		return -ENOMEM;
	memcpy(dst->reals, src->reals, src->nr_reals * sizeof(*dst->reals));
	return 0;
}

int xlvsd_spec_copy(struct xlvs_spec *dst, const struct xlvs_spec *src)
{
	size_t i;

	memset(dst, 0, sizeof(*dst));
	dst->global = src->global;
	if (!src->nr_services)
		return 0;
	dst->services = calloc(src->nr_services, sizeof(*dst->services));
	if (!dst->services)
		return -ENOMEM;
	for (i = 0; i < src->nr_services; i++) {
		if (xlvs_svc_spec_copy(&dst->services[i], &src->services[i])) {
			dst->nr_services = i;
			xlvs_spec_free(dst);
			return -ENOMEM;
		}
	}
	dst->nr_services = src->nr_services;
	return 0;
}

size_t xlvsd_spec_nr_reals(const struct xlvs_spec *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->nr_services; i++)
		n += s->services[i].nr_reals;
	return n;
}

bool xlvsd_addr_eq(const struct xlvs_addr *a, const struct xlvs_addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == XLVS_AF_INET)
		return a->be[0] == b->be[0];
	return !memcmp(a->be, b->be, sizeof(a->be));
}

struct xlvs_svc_spec *xlvsd_spec_find_svc(struct xlvs_spec *s, const struct xlvs_addr *vip, uint8_t proto,
					  uint16_t port)
{
	size_t i;

	for (i = 0; i < s->nr_services; i++) {
		struct xlvs_svc_spec *svc = &s->services[i];

		if (svc->proto == proto && svc->port == port && xlvsd_addr_eq(&svc->vip, vip))
			return svc;
	}
	return NULL;
}

int xlvsd_spec_find_real(const struct xlvs_svc_spec *svc, const struct xlvs_addr *addr, int port, size_t *idx)
{
	size_t i, n = 0;

	for (i = 0; i < svc->nr_reals; i++) {
		if (!xlvsd_addr_eq(&svc->reals[i].addr, addr) || (port >= 0 && svc->reals[i].port != port))
			continue;
		*idx = i;
		n++;
	}
	return n == 1 ? 0 : n ? -ENOTUNIQ : -ENOENT;
}

static int fail(char *msg, size_t size, int err, const char *fmt, const char *a)
{
	if (msg)
		snprintf(msg, size, fmt, a);
	return err;
}

static int check_svc(const struct xlvs_svc_spec *svc, char *msg, size_t size)
{
	return xlvs_v_service(svc, NULL, msg, size);
}

/* The file's rules for one real, the tunnel sources of the running configuration included. */
static int check_real(const struct xlvs_spec *s, const struct xlvs_svc_spec *svc,
		      const struct xlvs_real_spec *r, char *msg, size_t size)
{
	return xlvs_v_real(&s->global, svc, r, NULL, msg, size);
}

int xlvsd_spec_add_svc(struct xlvs_spec *s, const struct xlvs_svc_spec *svc, char *msg, size_t size)
{
	struct xlvs_svc_spec *arr, copy = *svc;
	size_t i;
	int err;

	if (xlvsd_spec_find_svc(s, &svc->vip, svc->proto, svc->port))
		return fail(msg, size, -EEXIST, "%s", "service exists");
	if (s->nr_services >= XLVS_MAX_SERVICES)
		return fail(msg, size, -ENOSPC, "too many services (at most %s)", "16384");
	err = check_svc(svc, msg, size);
	for (i = 0; !err && i < svc->nr_reals; i++)
		err = check_real(s, svc, &svc->reals[i], msg, size);
	if (err)
		return err;
	if (xlvs_svc_spec_copy(&copy, svc))
		return -ENOMEM;
	arr = realloc(s->services, (s->nr_services + 1) * sizeof(*arr));
	if (!arr) {
		xlvs_svc_spec_free(&copy);
		return -ENOMEM;
	}
	s->services = arr;
	s->services[s->nr_services++] = copy;
	return 0;
}

int xlvsd_spec_update_svc(struct xlvs_spec *s, struct xlvs_svc_spec *svc, const struct xlvs_svc_spec *upd,
			  unsigned int fields, char *msg, size_t size)
{
	struct xlvs_svc_spec tmp = *svc;
	size_t i;
	int err;

	/* Edit and check a copy: svc stays as it was if anything is refused. */
	if (copy_reals(&tmp, svc))
		return -ENOMEM;
	if (fields & XLVSD_SVC_SCHED)
		tmp.sched = upd->sched;
	if (fields & XLVSD_SVC_RING)
		tmp.ring_size = upd->ring_size;
	if (fields & XLVSD_SVC_FLAGS)
		tmp.flags = (tmp.flags & ~XLVS_SVC_F_ECHO) | (upd->flags & XLVS_SVC_F_ECHO);
	if (fields & XLVSD_SVC_SCHED_FLAGS)
		tmp.flags = (tmp.flags & ~XLVS_SVC_F_SCHED_MASK) | (upd->flags & XLVS_SVC_F_SCHED_MASK);
	if (fields & XLVSD_SVC_PERSIST_NET)
		tmp.persist_plen = upd->persist_plen;
	if (fields & XLVSD_SVC_SCHED_EXPIRE)
		tmp.sched_expire_s = upd->sched_expire_s;
	if (fields & XLVSD_SVC_FLOW_STATE)
		tmp.flow_state = upd->flow_state;
	if (fields & XLVSD_SVC_RING_WINDOW)
		tmp.ring_window_s = upd->ring_window_s;
	if (fields & XLVSD_SVC_PERSIST) {
		tmp.persist_s = upd->persist_s;
		if (!tmp.persist_s)
			tmp.persist_plen = 0;
	}
	if (fields & XLVSD_SVC_FWD) {
		for (i = 0; i < tmp.nr_reals; i++)
			if (tmp.reals[i].fwd == svc->fwd)
				tmp.reals[i].fwd = upd->fwd;
		tmp.fwd = upd->fwd;
	}
	err = check_svc(&tmp, msg, size);
	for (i = 0; !err && i < tmp.nr_reals; i++)
		err = check_real(s, &tmp, &tmp.reals[i], msg, size);
	if (err) {
		free(tmp.reals);
		return err;
	}
	free(svc->reals);
	*svc = tmp;
	return 0;
}

int xlvsd_spec_del_svc(struct xlvs_spec *s, const struct xlvs_svc_spec *svc)
{
	size_t i = svc - s->services;

	if (i >= s->nr_services)
		return -ENOENT;
	xlvs_svc_spec_free(&s->services[i]);
	memmove(&s->services[i], &s->services[i + 1], (s->nr_services - i - 1) * sizeof(*svc));
	s->nr_services--;
	return 0;
}

int xlvsd_spec_add_real(struct xlvs_spec *s, struct xlvs_svc_spec *svc, const struct xlvs_real_spec *r,
			char *msg, size_t size)
{
	struct xlvs_real_spec *arr;
	size_t idx;
	int err;

	char a[INET6_ADDRSTRLEN], m[128];
	uint32_t ring = svc->ring_size ? svc->ring_size : XLVS_RING_DEFAULT;

	/* a real's identity in its service is its address, as in the file */
	if (!xlvsd_spec_find_real(svc, &r->addr, -1, &idx) ||
	    xlvsd_spec_find_real(svc, &r->addr, -1, &idx) == -ENOTUNIQ)
		return fail(msg, size, -EEXIST, "duplicate real %s", xlvs_v_addr_str(&r->addr, a));
	if (xlvsd_spec_nr_reals(s) >= XLVS_MAX_REALS) {
		snprintf(m, sizeof(m), "%u", XLVS_MAX_REALS);
		return fail(msg, size, -ENOSPC, "too many reals (at most %s in all services)", m);
	}
	if (svc->nr_reals + 1 > ring) {
		snprintf(m, sizeof(m), "ring_size: %u is smaller than the number of reals (%zu)", ring,
			 svc->nr_reals + 1);
		return fail(msg, size, -ENOSPC, "%s", m);
	}
	err = check_real(s, svc, r, msg, size);
	if (err)
		return err;
	arr = realloc(svc->reals, (svc->nr_reals + 1) * sizeof(*arr));
	if (!arr)
		return -ENOMEM;
	svc->reals = arr;
	svc->reals[svc->nr_reals++] = *r;
	return 0;
}

void xlvsd_spec_del_real(struct xlvs_svc_spec *svc, size_t idx)
{
	if (idx >= svc->nr_reals)
		return;
	free(svc->reals[idx].check);
	memmove(&svc->reals[idx], &svc->reals[idx + 1], (svc->nr_reals - idx - 1) * sizeof(*svc->reals));
	svc->nr_reals--;
}
