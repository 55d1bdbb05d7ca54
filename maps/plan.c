// SPDX-License-Identifier: GPL-2.0
/*
 * Planning an apply: validate the desired spec, match it with the maps and
 * allocate ids and ring slices, all before the first write, so that a bad
 * spec or a full map changes nothing.
 *
 * Allocation depends only on the maps and on what the spec says, not on its
 * order (services are taken in key order, reals in key order), so a
 * restarted daemon and the CLI compute the same:
 * - a service keeps its id, and its ring slice while its ring size stays;
 * - a new service id is the lowest id no service in the maps has, a new real
 *   id the lowest id not ACTIVE in the maps. Every id this apply frees was in
 *   use when it started, so none is handed out again by the same apply: a
 *   stale connection to a removed real cannot land on its successor at once;
 * - a new slice is the first gap between the kept slices that fits. A
 *   resized service's old slice stays taken (the service reads it until its
 *   entry switches); slices of deleted services are free (they go first).
 *
 * A real is identified by (service, address): DR, TUN and GUE deliver to the
 * VIP's port, so a real's port is the service's (as ipvsadm does for -g/-i);
 * a nat/fullnat real's own port is a property of the real (xlvs_real.port),
 * rewritten in place when it changes.
 *
 * The maps' only writer may ask for less reading (xlvs_apply_with()): the
 * real ids below the end it was told (a new id above is read for its
 * generation), or a scope, some services planned alone, read by the ids its
 * last whole apply gave them. A scope only moves weights (ids and slices
 * stay), so either plans what the whole plan would; what the maps do not
 * hold as said stops it with -ESTALE.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <bpf/bpf.h>

#include "plan.h"
#include "schedtab.h"

struct slice {
	uint32_t base, end;
	struct splan *sp;
};

struct cur_real { /* a real of a service in the maps; key first, like rplan */
	uint8_t key[REAL_KEY_LEN];
	uint32_t id;
};

/* Say why the plan fails (the first reason only); returns err. */
__attribute__((format(printf, 3, 4))) static int why(struct plan *p, int err, const char *fmt, ...)
{
	va_list ap;

	if (!p->msg || !p->msg_size || p->msg[0])
		return err;
	va_start(ap, fmt);
	vsnprintf(p->msg, p->msg_size, fmt, ap);
	va_end(ap);
	return err;
}

/* "tcp 198.18.0.10:80", "udp [2001:db8::10]:53" */
static const char *svc_name(const struct xlvs_svc_key *k, char *buf, size_t size)
{
	struct xlvs_addr a;
	char addr[64];

	xlvs_addr_from_be(&a, k->family, k->addr);
	if (!xlvs_addr_str(&a, addr, sizeof(addr)))
		snprintf(addr, sizeof(addr), "?");
	snprintf(buf, size, k->family == XLVS_AF_INET6 ? "%s [%s]:%u" : "%s %s:%u",
		 xlvs_svc_proto_name(k->proto), addr, ntohs(k->port));
	return buf;
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, REAL_KEY_LEN);
}

/* Equal keys only come from a foreign writer: the lower id matches, whatever the order. */
static int cur_cmp(const void *a, const void *b)
{
	const struct cur_real *x = a, *y = b;

	return key_cmp(x, y) ?: (x->id > y->id) - (x->id < y->id);
}

static uint32_t ring_size_of(const struct xlvs_svc_spec *s)
{
	return s->ring_size ? s->ring_size : XLVS_RING_DEFAULT;
}

/* Network-order words as the maps hold them; the unspecified address is refused. */
static int addr_norm(const struct xlvs_addr *a, __be32 out[4])
{
	static const __be32 zero[4];

	memset(out, 0, 4 * sizeof(*out));
	if (a->family == XLVS_AF_INET)
		out[0] = a->be[0];
	else if (a->family == XLVS_AF_INET6)
		memcpy(out, a->be, 4 * sizeof(*out));
	else
		return -EINVAL;
	return memcmp(out, zero, sizeof(zero)) ? 0 : -EINVAL;
}

static void real_key(uint8_t *key, uint8_t family, const __be32 *addr, __be16 port)
{
	key[0] = family;
	memcpy(key + 1, addr, 16);
	memcpy(key + 17, &port, 2);
}

static int check_svc(const struct xlvs_svc_spec *s, struct xlvs_svc_key *k)
{
	uint32_t size = ring_size_of(s);

	if ((s->proto != IPPROTO_TCP && s->proto != IPPROTO_UDP) || s->sched >= XLVS_SCHED_MAX ||
	    s->fwd >= XLVS_FWD_MAX ||
	    /* RING_STATE is the planner's (a spec read back from the maps may carry it): ignored */
	    (s->flags & ~(XLVS_SVC_F_ECHO | XLVS_SVC_F_SCHED_MASK | XLVS_SVC_F_RING_STATE)) ||
	    (s->nr_reals && !s->reals) || !xlvs_is_prime(size) || size > XLVS_MAGLEV_MAX_SIZE)
		return -EINVAL;
	memset(k, 0, sizeof(*k));
	k->port = htons(s->port);
	k->proto = s->proto;
	k->family = s->vip.family;
	return addr_norm(&s->vip, k->addr);
}

static int check_real(const struct plan *p, const struct splan *sp, const struct xlvs_real_spec *r,
		      struct rplan *rp)
{
	__be32 addr[4];

	if (r->fwd >= XLVS_FWD_MAX || r->weight > XLVS_MAGLEV_MAX_WEIGHT || addr_norm(&r->addr, addr))
		return -EINVAL;
	/* NAT rewrites addresses of the VIP's family in place; no 4-to-6 translation */
	if (xlvs_fwd_is_nat(r->fwd) && r->addr.family != sp->key.family)
		return -EAFNOSUPPORT;
	/* the data path has no source for its flows */
	if (r->fwd == XLVS_FWD_FULLNAT && !xlvs_snat_pool_has(&p->want->global, r->addr.family))
		return -EADDRNOTAVAIL;
	memset(rp, 0, sizeof(*rp));
	real_key(rp->key, r->addr.family, addr, sp->key.port);
	rp->spec = r;
	return 0;
}

static int splan_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct splan *)a)->key, &((const struct splan *)b)->key,
		      sizeof(struct xlvs_svc_key));
}

/* Sort, and join a desired service with its entry in the maps (same key). */
static int fold_services(struct plan *p)
{
	struct splan *s = p->svcs, *o;
	uint32_t i, k = 0;

	qsort(s, p->nsvcs, sizeof(*s), splan_cmp);
	for (i = 0; i < p->nsvcs; i++) {
		o = k ? &s[k - 1] : NULL;
		if (!o || splan_cmp(o, &s[i])) {
			s[k++] = s[i];
			continue;
		}
		if (o->want && s[i].want) { /* the same service twice */
			char n[96];

			return why(p, -EINVAL, "service %s is configured twice",
				   svc_name(&o->key, n, sizeof(n)));
		}
		o->want = o->want ? o->want : s[i].want;
		o->cur = o->cur ? o->cur : s[i].cur;
	}
	p->nsvcs = k;
	return 0;
}

/* The first service (in key order) with an id owns it; a later one with the
 * same id, or one with an id out of range, gets a new id (only a foreign
 * writer leaves such entries). */
static void claim_ids(struct plan *p)
{
	struct splan *sp;
	uint32_t i, id;

	for (i = 0; i < XLVS_MAX_SERVICES; i++)
		p->owner[i] = OWNER_NONE;
	for (i = 0; i < p->nsvcs; i++) {
		sp = &p->svcs[i];
		id = sp->cur ? sp->cur->id : XLVS_MAX_SERVICES;
		if (id < XLVS_MAX_SERVICES && p->owner[id] == OWNER_NONE) {
			p->owner[id] = (int32_t)(sp->cur - p->img.svcs);
			sp->own_reals = true;
		}
	}
}

static int plan_services(struct plan *p, const struct xlvs_spec *want)
{
	const struct map_image *s = &p->img;
	struct splan *sp;
	uint32_t i;
	int err;

	if (want->nr_services > XLVS_MAX_SERVICES)
		return why(p, -ENOSPC, "xlvs_services holds %u services, the configuration has %zu",
			   XLVS_MAX_SERVICES, want->nr_services);
	if (want->nr_services && !want->services)
		return -EINVAL;
	p->svcs = calloc(want->nr_services + s->nsvc + 1, sizeof(*p->svcs));
	if (!p->svcs)
		return -ENOMEM;
	for (i = 0; i < want->nr_services; i++) {
		sp = &p->svcs[p->nsvcs++];
		sp->want = &want->services[i];
		err = check_svc(sp->want, &sp->key);
		if (err)
			return why(p, err,
				   "service %zu: invalid (protocol, scheduler, forwarding "
				   "method, flags, or ring size %u not a prime up to %u)",
				   (size_t)i, ring_size_of(sp->want), XLVS_MAGLEV_MAX_SIZE);
	}
	for (i = 0; i < s->nsvc; i++) {
		sp = &p->svcs[p->nsvcs++];
		sp->key = s->svc_keys[i];
		sp->cur = &s->svcs[i];
	}
	err = fold_services(p);
	if (!err)
		claim_ids(p);
	return err;
}

/* Pair the desired reals with the service's reals in the maps, by key. */
static void match_reals(struct plan *p, struct splan *sp, struct cur_real *cr)
{
	const struct real_groups *g = p->img.groups;
	const struct xlvs_real *r;
	struct rplan *rp;
	uint32_t i, j = 0, n = 0, first = 0;

	if (sp->own_reals) {
		first = g->first[sp->cur->id];
		n = g->first[sp->cur->id + 1] - first;
	}
	for (i = 0; i < n; i++) {
		cr[i].id = g->ids[first + i];
		r = &p->img.reals[cr[i].id];
		real_key(cr[i].key, r->family, r->addr, sp->key.port);
	}
	qsort(cr, n, sizeof(*cr), cur_cmp);
	for (i = 0; i < sp->nreals; i++) {
		rp = &sp->reals[i];
		for (; j < n && key_cmp(cr[j].key, rp->key) < 0; j++)
			sp->ring_dirty = true; /* removed */
		if (j < n && !key_cmp(cr[j].key, rp->key)) {
			rp->id = cr[j].id;
			p->kept[rp->id] = 1;
			if (p->img.reals[rp->id].weight != rp->spec->weight)
				sp->ring_dirty = true;
			j++;
		} else {
			rp->fresh = true;
			sp->ring_dirty = true;
		}
	}
	if (j < n)
		sp->ring_dirty = true;
}

static const char *real_error(int err, uint8_t family)
{
	switch (err) {
	case -EAFNOSUPPORT:
		return "a nat or fullnat real must have its VIP's address family";
	case -EADDRNOTAVAIL:
		return family == XLVS_AF_INET6 ? "fullnat needs an IPv6 address in fullnat.pool"
					       : "fullnat needs an IPv4 address in fullnat.pool";
	default:
		return "invalid (address, forwarding method or weight)";
	}
}

static int want_reals(struct plan *p, struct splan *sp, struct rplan *rp, struct cur_real *cr)
{
	uint32_t i;
	int err;

	sp->reals = rp;
	sp->nreals = sp->want->nr_reals;
	char n[96];

	for (i = 0; i < sp->nreals; i++) {
		err = check_real(p, sp, &sp->want->reals[i], &rp[i]);
		if (err)
			return why(p, -EINVAL, "service %s, real %u: %s", svc_name(&sp->key, n, sizeof(n)), i,
				   real_error(err, sp->want->reals[i].addr.family));
	}
	qsort(rp, sp->nreals, sizeof(*rp), key_cmp);
	for (i = 1; i < sp->nreals; i++)
		if (!key_cmp(rp[i - 1].key, rp[i].key)) /* the same real twice */
			return why(p, -EINVAL, "service %s has the same real twice",
				   svc_name(&sp->key, n, sizeof(n)));
	match_reals(p, sp, cr);
	if (sp->nreals > p->max_reals)
		p->max_reals = sp->nreals;
	return 0;
}

static int plan_reals(struct plan *p)
{
	struct cur_real *cr;
	size_t i, total = 0;
	int err = 0;

	for (i = 0; i < p->nsvcs; i++)
		if (p->svcs[i].want)
			total += p->svcs[i].want->nr_reals;
	if (total > XLVS_MAX_REALS)
		return why(p, -ENOSPC, "xlvs_reals holds %u reals, the configuration has %zu", XLVS_MAX_REALS,
			   total);
	p->rmem = calloc(total + 1, sizeof(*p->rmem));
	cr = malloc(XLVS_MAX_REALS * sizeof(*cr));
	if (!p->rmem || !cr)
		err = -ENOMEM;
	for (i = 0, total = 0; !err && i < p->nsvcs; i++) {
		if (!p->svcs[i].want)
			continue;
		err = want_reals(p, &p->svcs[i], p->rmem + total, cr);
		total += p->svcs[i].nreals;
	}
	free(cr);
	return err;
}

/*
 * A new real id beyond the ids read (p->img.nreal): its entry is read now,
 * for its generation (a new real gets the id's next one). The caller said
 * it is not ACTIVE; if it is, the plan stops before any write.
 */
static int real_unread(struct plan *p, uint32_t id)
{
	struct xlvs_real *r = &p->img.reals[id];

	if (id < p->img.nreal)
		return 0;
	if (bpf_map_lookup_elem(p->m->reals, &id, r))
		return why(p, -errno, "cannot read xlvs_reals: %s", strerror(errno));
	if (real_active(r))
		return why(p, -ESTALE, "xlvs_reals: real id %u is in use, above the ids in use said (%u)", id,
			   p->img.nreal);
	return 0;
}

static int alloc_ids(struct plan *p)
{
	uint32_t i, j, sid = 0, rid = 0;
	struct splan *sp;
	int err;

	for (i = 0; i < p->nsvcs; i++) {
		sp = &p->svcs[i];
		if (!sp->want)
			continue;
		if (sp->own_reals) {
			sp->entry.id = sp->cur->id;
		} else {
			while (sid < XLVS_MAX_SERVICES && p->owner[sid] != OWNER_NONE)
				sid++;
			if (sid == XLVS_MAX_SERVICES)
				return why(p, -ENOSPC,
					   "xlvs_services: no free service id of %u (ids "
					   "of services this apply removes are free only after it)",
					   XLVS_MAX_SERVICES);
			p->owner[sid] = OWNER_FRESH;
			sp->entry.id = sid;
			sp->fresh_id = true;
		}
		for (j = 0; j < sp->nreals; j++) {
			if (!sp->reals[j].fresh)
				continue;
			while (rid < XLVS_MAX_REALS && real_active(&p->img.reals[rid]))
				rid++;
			if (rid == XLVS_MAX_REALS)
				return why(p, -ENOSPC,
					   "xlvs_reals: no free real id of %u (ids of "
					   "reals this apply removes are free only after it)",
					   XLVS_MAX_REALS);
			err = real_unread(p, rid);
			if (err)
				return err;
			sp->reals[j].id = rid++;
		}
	}
	return 0;
}

static int slice_cmp(const void *a, const void *b)
{
	const struct slice *x = a, *y = b;

	/* svcs is in key order: the tie-break keeps overlaps deterministic */
	if (x->base != y->base)
		return x->base > y->base ? 1 : -1;
	return (x->sp > y->sp) - (x->sp < y->sp);
}

/* The slices that stay taken: valid ones of kept services, first come in
 * ring order wins an overlap. Returns the gaps between them, in ring order. */
static uint32_t kept_slices(struct plan *p, struct slice *s, struct slice *gap)
{
	uint32_t i, n = 0, ngap = 0, end = 0;
	const struct xlvs_service *c;

	for (i = 0; i < p->nsvcs; i++) {
		c = p->svcs[i].cur;
		if (p->svcs[i].want && p->svcs[i].own_reals && xlvs_is_prime(c->ring_size) &&
		    c->ring_size <= p->ring_slots && c->ring_base <= p->ring_slots - c->ring_size)
			s[n++] = (struct slice){ c->ring_base, c->ring_base + c->ring_size, &p->svcs[i] };
	}
	qsort(s, n, sizeof(*s), slice_cmp);
	for (i = 0; i < n; i++) {
		if (s[i].base < end)
			continue;
		if (s[i].base > end)
			gap[ngap++] = (struct slice){ end, s[i].base, NULL };
		s[i].sp->slice_ok = true;
		end = s[i].end;
	}
	if (end < p->ring_slots)
		gap[ngap++] = (struct slice){ end, p->ring_slots, NULL };
	return ngap;
}

static int alloc_slice(struct plan *p, struct splan *sp, struct slice *gap, uint32_t ngap, uint32_t size)
{
	struct xlvs_capacity c;
	uint32_t i;
	char n[96];

	for (i = 0; i < ngap && gap[i].end - gap[i].base < size; i++)
		;
	if (i == ngap) {
		xlvs_capacity_of(p->want, &c);
		return why(p, -ENOSPC,
			   "xlvs_ring has %u slots and no free slice of %u for service "
			   "%s (the rings in use keep theirs until the apply is done); this "
			   "configuration's rings total %llu slots, a load creates %u for it",
			   p->ring_slots, size, svc_name(&sp->key, n, sizeof(n)),
			   (unsigned long long)c.ring_sum, c.ring_slots);
	}
	sp->entry.ring_base = gap[i].base;
	gap[i].base += size;
	sp->fresh_slice = true;
	sp->ring_dirty = true;
	return 0;
}

static int plan_slices(struct plan *p)
{
	struct slice *s = malloc((2 * p->nsvcs + 1) * sizeof(*s));
	struct slice *gap = s + p->nsvcs;
	uint32_t i, ngap, size;
	struct splan *sp;
	int err = 0;

	if (!s)
		return -ENOMEM;
	ngap = kept_slices(p, s, gap);
	for (i = 0; !err && i < p->nsvcs; i++) {
		sp = &p->svcs[i];
		if (!sp->want)
			continue;
		size = ring_size_of(sp->want);
		if (sp->slice_ok && sp->cur->ring_size == size)
			sp->entry.ring_base = sp->cur->ring_base;
		else
			err = alloc_slice(p, sp, gap, ngap, size);
		sp->entry.ring_size = size;
	}
	free(s);
	return err;
}

static int vplan_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct vplan *)a)->key, &((const struct vplan *)b)->key,
		      sizeof(struct xlvs_vip_key));
}

/* One entry per address: the union of its desired services, and the maps' entry. */
static void fold_vips(struct plan *p)
{
	struct vplan *v = p->vips, *o;
	uint32_t i, k = 0;

	qsort(v, p->nvips, sizeof(*v), vplan_cmp);
	for (i = 0; i < p->nvips; i++) {
		o = k ? &v[k - 1] : NULL;
		if (!o || vplan_cmp(o, &v[i])) {
			v[k++] = v[i];
			continue;
		}
		o->want.flags |= v[i].want.flags;
		o->want.nr_services += v[i].want.nr_services;
		o->has_want |= v[i].has_want;
		if (v[i].has_cur) {
			o->cur = v[i].cur;
			o->has_cur = true;
		}
	}
	p->nvips = k;
}

static void vip_key(const struct xlvs_svc_key *k, struct xlvs_vip_key *vk)
{
	memset(vk, 0, sizeof(*vk));
	memcpy(vk->addr, k->addr, sizeof(vk->addr));
	vk->family = k->family;
}

static int plan_vips(struct plan *p)
{
	const struct map_image *s = &p->img;
	struct vplan *v;
	uint32_t i;

	p->vips = calloc(p->nsvcs + s->nvip + 1, sizeof(*p->vips));
	if (!p->vips)
		return -ENOMEM;
	for (i = 0; i < p->nsvcs; i++) {
		if (!p->svcs[i].want)
			continue;
		v = &p->vips[p->nvips++];
		vip_key(&p->svcs[i].key, &v->key);
		v->has_want = true;
		v->want.nr_services = 1;
		if (p->svcs[i].want->flags & XLVS_SVC_F_ECHO)
			v->want.flags = XLVS_VIP_F_ECHO;
	}
	for (i = 0; i < s->nvip; i++) {
		v = &p->vips[p->nvips++];
		v->key = s->vip_keys[i];
		v->cur = s->vips[i];
		v->has_cur = true;
	}
	fold_vips(p);
	return 0;
}

struct vplan *plan_vip(struct plan *p, const struct xlvs_svc_key *k)
{
	struct vplan want;

	if (!p->vips) /* a scope: VIPs are left as they are */
		return NULL;
	vip_key(k, &want.key);
	return bsearch(&want, p->vips, p->nvips, sizeof(*p->vips), vplan_cmp);
}

/* rr/wrr: the sequence's period (xlvs_service.sched_len), which must fit the service's slice;
 * lc, wlc, sed, nq, lblc, lblcr: the reals the data path scans, at most XLVS_LEAST_MAX_REALS. */
static int plan_period(struct plan *p, struct splan *sp)
{
	struct xlvs_maglev_backend *b = calloc(sp->nreals + 1, sizeof(*b));
	uint64_t period;
	char n[80];
	uint32_t i;

	if (!b)
		return -ENOMEM;
	for (i = 0; i < sp->nreals; i++)
		b[i].weight = sp->reals[i].spec->weight;
	period = xlvs_sched_period(sp->want->sched, b, sp->nreals);
	free(b);
	if (xlvs_sched_counts(sp->want->sched) && period > XLVS_LEAST_MAX_REALS)
		return why(
			p, -E2BIG,
			"service %s: the %s scheduler weighs at most %u reals per new connection, it has %u: "
			"split the service or use maglev",
			svc_name(&sp->key, n, sizeof(n)), xlvs_sched_names[sp->want->sched],
			XLVS_LEAST_MAX_REALS, sp->nreals);
	if (period > sp->entry.ring_size)
		return why(p, -E2BIG,
			   "service %s: its %s sequence has %llu entries (the weights over their greatest "
			   "common divisor), more than its ring_size %u: raise ring_size or lower the weights",
			   svc_name(&sp->key, n, sizeof(n)), xlvs_sched_names[sp->want->sched],
			   (unsigned long long)period, sp->entry.ring_size);
	sp->entry.sched_len = (uint32_t)period;
	return 0;
}

/* ---- flow state: ring or table (docs/architecture.md "Ring state") ---- */

/* Why sp cannot be a ring-state service, UDP aside; NULL: it can. buf holds the text when needed. */
static const char *ring_obstacle(const struct xlvs_svc_spec *s, char *buf, size_t size)
{
	const struct xlvs_svc_health *h = s->health;
	char a[64];
	size_t i;

	if (s->sched != XLVS_SCHED_MAGLEV && s->sched != XLVS_SCHED_MH) {
		snprintf(buf, size,
			 "the %s scheduler is not a function of the flow (ring needs maglev or mh)",
			 s->sched < XLVS_SCHED_MAX ? xlvs_sched_names[s->sched] : "unknown");
		return buf;
	}
	if (s->persist_s)
		return "persistence keeps a template per client (persistent services keep every flow)";
	for (i = 0; s->reals && i < s->nr_reals; i++) {
		if (!xlvs_fwd_is_nat(s->reals[i].fwd))
			continue;
		snprintf(buf, size, "real %s is %s (nat and fullnat need every flow's entry)",
			 xlvs_addr_str(&s->reals[i].addr, a, sizeof(a)) ?: "?",
			 xlvs_fwd_names[s->reals[i].fwd]);
		return buf;
	}
	if (h && h->have_sorry && xlvs_fwd_is_nat(h->sorry.fwd)) {
		snprintf(buf, size, "the sorry server %s is %s (nat and fullnat need every flow's entry)",
			 xlvs_addr_str(&h->sorry.addr, a, sizeof(a)) ?: "?", xlvs_fwd_names[h->sorry.fwd]);
		return buf;
	}
	return NULL;
}

int xlvs_svc_flow_state(const struct xlvs_svc_spec *s, char *why, size_t size)
{
	char scratch[160], buf[160];
	const char *no;

	if (!why || !size) {
		why = scratch;
		size = sizeof(scratch);
	}
	if (s->flow_state == XLVS_FLOW_STATE_TABLE) {
		snprintf(why, size, "flow_state: table");
		return XLVS_FLOW_STATE_TABLE;
	}
	if (s->flow_state != XLVS_FLOW_STATE_AUTO && s->flow_state != XLVS_FLOW_STATE_RING) {
		snprintf(why, size, "unknown flow_state %u", s->flow_state);
		return -EINVAL;
	}
	no = ring_obstacle(s, buf, sizeof(buf));
	if (s->flow_state == XLVS_FLOW_STATE_RING) {
		if (no) {
			snprintf(why, size, "flow_state: ring is not possible: %s", no);
			return -EINVAL;
		}
		snprintf(why, size, "flow_state: ring%s",
			 s->proto == IPPROTO_UDP ? " (udp: a drained or down real's flows move at once)"
						 : "");
		return XLVS_FLOW_STATE_RING;
	}
	if (!no && s->proto != IPPROTO_TCP)
		no = "udp (ring for udp only with flow_state: ring)";
	if (no) {
		snprintf(why, size, "auto: table: %s", no);
		return XLVS_FLOW_STATE_TABLE;
	}
	snprintf(why, size, "auto: ring: %s, tcp, not persistent, no nat or fullnat real",
		 xlvs_sched_names[s->sched]);
	return XLVS_FLOW_STATE_RING;
}

/*
 * The service's flags with RING_STATE as its flow state says; a slice whose
 * flows may have entries the ring does not reflect is flagged whole
 * (apply.c): a service that turns ring, or a ring service whose slots mean
 * other flows now (resized or moved slice, other scheduler or slot hash).
 */
static int plan_flow_state(struct plan *p, struct splan *sp)
{
	const struct xlvs_service *c = sp->own_reals ? sp->cur : NULL;
	char n[96], reason[256];
	int mode = xlvs_svc_flow_state(sp->want, reason, sizeof(reason));

	if (mode < 0)
		return why(p, -EINVAL, "service %s: %s", svc_name(&sp->key, n, sizeof(n)), reason);
	if (sp->want->ring_window_s > XLVS_TIMEOUT_MAX_S)
		return why(p, -EINVAL, "service %s: ring_window %u s is more than %u s (a week)",
			   svc_name(&sp->key, n, sizeof(n)), sp->want->ring_window_s, XLVS_TIMEOUT_MAX_S);
	sp->entry.flags = sp->want->flags & ~XLVS_SVC_F_RING_STATE;
	if (mode != XLVS_FLOW_STATE_RING)
		return 0;
	sp->entry.flags |= XLVS_SVC_F_RING_STATE;
	if (c && (!(c->flags & XLVS_SVC_F_RING_STATE) || sp->fresh_slice || c->sched != sp->want->sched ||
		  ((c->flags ^ sp->entry.flags) & XLVS_SVC_F_SCHED_PORT))) {
		sp->ring_flag_all = true;
		sp->ring_dirty = true;
	}
	return 0;
}

static int plan_entries(struct plan *p)
{
	struct splan *sp;
	uint32_t i;
	int err;

	for (i = 0; i < p->nsvcs; i++) {
		sp = &p->svcs[i];
		if (!sp->want)
			continue;
		err = plan_flow_state(p, sp);
		if (err)
			return err;
		sp->entry.sched = sp->want->sched;
		memcpy(sp->entry.timeout, sp->want->timeout_s, sizeof(sp->entry.timeout));
		sp->entry.persist_timeout = sp->want->persist_s;
		sp->entry.persist_plen = xlvs_persist_plen(sp->want);
		sp->entry.sched_expire = sp->want->sched_expire_s;
		err = plan_period(p, sp);
		if (err)
			return err;
		/* Another scheduler reads its slice as another kind of table. */
		if ((p->flags & XLVS_APPLY_F_VERIFY_RINGS) || (sp->cur && sp->cur->sched != sp->entry.sched))
			sp->ring_dirty = true;
		if (sp->ring_dirty && sp->entry.ring_size > p->max_ring)
			p->max_ring = sp->entry.ring_size;
	}
	return 0;
}

/* What empty maps read as. */
static int empty_image(struct map_image *s)
{
	memset(s, 0, sizeof(*s));
	s->reals = calloc(XLVS_MAX_REALS, sizeof(*s->reals));
	s->nreal = XLVS_MAX_REALS;
	s->filter = calloc(XLVS_VIP_FILTER_WORDS, sizeof(*s->filter));
	s->groups = calloc(1, sizeof(*s->groups));
	if (s->reals && s->filter && s->groups)
		return 0;
	map_image_free(s);
	return -ENOMEM;
}

int plan_make(struct plan *p, const struct xlvs_spec *want)
{
	int err;

	p->want = want;
	/* a ring-state slot needs its xlvs_ring_prev entry: loaders size the two alike */
	if (p->m)
		p->ring_slots = p->m->ring_slots < p->m->ring_prev_slots ? p->m->ring_slots
									 : p->m->ring_prev_slots;
	err = p->m ? map_image_read(p->m, &p->img, true, p->reals_end ?: XLVS_MAX_REALS)
		   : empty_image(&p->img);
	if (err)
		return why(p, err, "cannot read the maps: %s", strerror(-err));

	if (!err)
		err = plan_services(p, want);
	if (!err)
		err = plan_reals(p);
	if (!err)
		err = alloc_ids(p);
	if (!err)
		err = plan_slices(p);
	if (!err)
		err = plan_vips(p);
	if (!err)
		err = plan_entries(p);
	return err;
}

/* ---- a scope: some services planned, the others left as the maps hold them ---- */

static int memo_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct memo_svc *)a)->key, &((const struct memo_svc *)b)->key,
		      sizeof(struct xlvs_svc_key));
}

static int stale(struct plan *p, const struct splan *sp, const char *what)
{
	char n[96];

	return why(p, -ESTALE, "service %s: %s", svc_name(&sp->key, n, sizeof(n)), what);
}

/* The scope's services of want, by key, as plan_services() has them. */
static int scoped_services(struct plan *p, const struct xlvs_spec *want)
{
	struct splan *sp;
	uint32_t i;
	int err;

	p->svcs = calloc(want->nr_services + 1, sizeof(*p->svcs));
	p->img.svc_keys = calloc(want->nr_services + 1, sizeof(*p->img.svc_keys));
	p->img.svcs = calloc(want->nr_services + 1, sizeof(*p->img.svcs));
	if (!p->svcs || !p->img.svc_keys || !p->img.svcs)
		return -ENOMEM;
	for (i = 0; i < want->nr_services; i++) {
		if (!p->scope[i])
			continue;
		sp = &p->svcs[p->nsvcs++];
		sp->want = &want->services[i];
		err = check_svc(sp->want, &sp->key);
		if (err)
			return why(p, err, "service %u: invalid", i);
	}
	return fold_services(p);
}

/* Its entry and its reals, read by the memo's ids; each must be in the maps as the memo says. */
static int scoped_read(struct plan *p, struct splan *sp, const struct memo_svc *ms)
{
	struct xlvs_service *e = &p->img.svcs[p->img.nsvc];
	struct xlvs_real *r;
	uint8_t key[REAL_KEY_LEN];
	uint32_t i, id;

	if (bpf_map_lookup_elem(p->m->services, &sp->key, e))
		return errno == ENOENT ? stale(p, sp, "not in the maps") : -errno;
	if (e->id != ms->id || e->id >= XLVS_MAX_SERVICES || p->owner[e->id] != OWNER_NONE)
		return stale(p, sp, "its id is not the one it was given");
	p->img.svc_keys[p->img.nsvc] = sp->key;
	p->owner[e->id] = (int32_t)p->img.nsvc++;
	sp->cur = e;
	sp->own_reals = true;
	for (i = 0; i < ms->nreals; i++) {
		id = ms->reals[i].id;
		r = &p->img.reals[id];
		if (bpf_map_lookup_elem(p->m->reals, &id, r))
			return -errno;
		real_key(key, r->family, r->addr, sp->key.port);
		if (!real_active(r) || r->svc_id != e->id || key_cmp(key, ms->reals[i].key))
			return stale(p, sp, "a real is not in the maps as it was written");
	}
	return 0;
}

/* real_groups of the scope's reals alone (the only ACTIVE reals the image has). */
static void scoped_groups(struct plan *p, const struct memo_svc *const *ms)
{
	struct real_groups *g = p->img.groups;
	uint32_t i, j, sid;

	for (i = 0; i < p->nsvcs; i++)
		g->first[p->svcs[i].cur->id + 1] = ms[i]->nreals;
	for (sid = 1; sid <= XLVS_MAX_SERVICES; sid++)
		g->first[sid] += g->first[sid - 1];
	for (i = 0; i < p->nsvcs; i++)
		for (j = 0; j < ms[i]->nreals; j++)
			g->ids[g->first[p->svcs[i].cur->id] + j] = ms[i]->reals[j].id;
}

/* Only weights change: every real kept, none new (before ids are given), the slice where it is. */
static int scoped_check(struct plan *p, bool slices)
{
	const struct real_groups *g = p->img.groups;
	const struct splan *sp;
	uint32_t i, j;

	for (i = 0; i < p->nsvcs; i++) {
		sp = &p->svcs[i];
		if (slices && sp->fresh_slice)
			return stale(p, sp, "its ring slice moves");
		if (slices)
			continue;
		if (sp->nreals != g->first[sp->cur->id + 1] - g->first[sp->cur->id])
			return stale(p, sp, "its reals come or go");
		for (j = 0; j < sp->nreals; j++)
			if (sp->reals[j].fresh)
				return stale(p, sp, "its reals come or go");
	}
	return 0;
}

int plan_make_scoped(struct plan *p, const struct xlvs_spec *want)
{
	const struct memo_svc **ms = NULL;
	struct memo_svc k;
	uint32_t i;
	int err;

	p->want = want;
	p->ring_slots = p->m->ring_slots < p->m->ring_prev_slots ? p->m->ring_slots : p->m->ring_prev_slots;
	p->img.reals = calloc(XLVS_MAX_REALS, sizeof(*p->img.reals));
	p->img.groups = calloc(1, sizeof(*p->img.groups));
	if (!p->img.reals || !p->img.groups)
		return -ENOMEM;
	if (want->nr_services && !want->services)
		return -EINVAL;
	for (i = 0; i < XLVS_MAX_SERVICES; i++)
		p->owner[i] = OWNER_NONE;
	err = scoped_services(p, want);
	if (!err && !(ms = calloc(p->nsvcs + 1, sizeof(*ms))))
		err = -ENOMEM;
	for (i = 0; !err && i < p->nsvcs; i++) {
		k.key = p->svcs[i].key;
		ms[i] = bsearch(&k, p->memo->svcs, p->memo->nsvcs, sizeof(k), memo_cmp);
		err = ms[i] ? scoped_read(p, &p->svcs[i], ms[i])
			    : stale(p, &p->svcs[i], "not written before");
	}
	if (!err)
		scoped_groups(p, ms);
	free(ms);
	if (!err)
		err = plan_reals(p);
	if (!err)
		err = scoped_check(p, false);
	if (!err)
		err = alloc_ids(p); /* every id kept */
	if (!err)
		err = plan_slices(p);
	if (!err)
		err = scoped_check(p, true);
	if (!err)
		err = plan_entries(p);
	return err;
}

void plan_free(struct plan *p)
{
	map_image_free(&p->img);
	free(p->svcs);
	free(p->rmem);
	free(p->vips);
}

/* ---- capacity ---- */

void xlvs_capacity_of(const struct xlvs_spec *want, struct xlvs_capacity *c)
{
	uint64_t slots;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->services = want->nr_services;
	for (i = 0; want->services && i < want->nr_services; i++) {
		c->reals += want->services[i].nr_reals;
		c->ring_sum += ring_size_of(&want->services[i]);
	}
	slots = 2 * c->ring_sum;
	if (slots > XLVS_RING_SLOTS_MAX)
		slots = XLVS_RING_SLOTS_MAX;
	if (slots < XLVS_RING_SLOTS_DEFAULT)
		slots = XLVS_RING_SLOTS_DEFAULT;
	/* whole blocks: the map's slots are its entries x XLVS_RING_BLOCK (the cap is a multiple) */
	c->ring_slots = (uint32_t)xlvs_ring_blocks((uint32_t)slots) * XLVS_RING_BLOCK;
}

int plan_ring_sum(const struct xlvs_spec *want, char *msg, size_t size)
{
	struct xlvs_capacity c;

	xlvs_capacity_of(want, &c);
	if (c.ring_sum <= XLVS_RING_SLOTS_MAX)
		return 0;
	if (msg && size)
		snprintf(msg, size,
			 "the rings total %llu slots, more than xlvs_ring may "
			 "have (%u): use smaller ring sizes",
			 (unsigned long long)c.ring_sum, XLVS_RING_SLOTS_MAX);
	return -ENOSPC;
}

int xlvs_plan_check(struct xlvs_maps *m, uint32_t ring_slots, const struct xlvs_spec *want, char *msg,
		    size_t size)
{
	struct xlvs_capacity c;
	struct plan *p;
	int err;

	if (msg && size)
		msg[0] = '\0';
	if (!want)
		return -EINVAL;
	xlvs_capacity_of(want, &c);
	err = plan_ring_sum(want, msg, size);
	if (err)
		return err;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->m = m;
	p->ring_slots = ring_slots ? ring_slots : c.ring_slots;
	p->msg = msg;
	p->msg_size = size;
	err = plan_make(p, want);
	plan_free(p);
	free(p);
	return err;
}
