// SPDX-License-Identifier: GPL-2.0
/*
 * The effective desired state: the configured one with the health actions
 * applied (see hc.h). Pure: results come from the up() callback.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hc.h"
#include "xlvsmaps.h"

const struct xlvs_check_spec *xlvsd_hc_check_of(const struct xlvs_svc_spec *svc, size_t idx)
{
	const struct xlvs_check_spec *ck = svc->reals[idx].check;

	if (!ck && svc->health)
		ck = &svc->health->check;
	return ck && ck->type != XLVS_CHECK_NONE ? ck : NULL;
}

/* Quorum with hysteresis (keepalived): lost below quorum - h, back at quorum + h. */
static bool quorum_lost(const struct xlvs_svc_health *h, uint64_t up_weight, bool was_lost)
{
	if (!h->quorum)
		return false;
	if (was_lost)
		return up_weight < (uint64_t)h->quorum + h->quorum_hysteresis;
	return up_weight < (uint64_t)h->quorum - h->quorum_hysteresis;
}

static int effective_svc(const struct xlvs_svc_spec *c, xlvsd_hc_up_fn up, void *ctx,
			 struct xlvsd_hc_svc_state *st, struct xlvs_svc_spec *o, bool *keep)
{
	const struct xlvs_svc_health *h = c->health;
	bool is_up, lost, sorry;
	size_t i, n = 0;

	*o = *c;
	o->health = NULL;
	/*
	 * auto is decided here, on the configured service: its health block
	 * (a nat sorry server) goes, and the flow state must not flip when the
	 * sorry server takes over. An impossible ring stays for the planner to refuse.
	 */
	if (c->flow_state == XLVS_FLOW_STATE_AUTO && xlvs_svc_flow_state(c, NULL, 0) == XLVS_FLOW_STATE_TABLE)
		o->flow_state = XLVS_FLOW_STATE_TABLE;
	o->reals = calloc(c->nr_reals + 1, sizeof(*o->reals)); /* + the sorry server */
	if (!o->reals)
		return -ENOMEM;
	st->up_weight = 0;
	st->up_reals = 0;
	for (i = 0; i < c->nr_reals; i++) {
		is_up = !xlvsd_hc_check_of(c, i) || up(ctx, c, i);
		if (is_up) {
			st->up_weight += c->reals[i].weight;
			st->up_reals += c->reals[i].weight > 0;
		}
		if (!is_up && h && h->on_down == XLVS_ON_DOWN_REMOVE)
			continue;
		o->reals[n] = c->reals[i];
		o->reals[n].check = NULL;
		if (!is_up)
			o->reals[n].weight = 0; /* quiescent: established flows go on */
		n++;
	}
	lost = h ? quorum_lost(h, st->up_weight, st->quorum_lost) : false;
	st->quorum_lost = lost;
	/* the sorry server: while no real can take a new flow, or the quorum is lost */
	sorry = h && h->have_sorry && (!st->up_reals || (lost && h->quorum_action == XLVS_QUORUM_SORRY));
	st->sorry_active = sorry;
	if (lost && h->quorum_action == XLVS_QUORUM_WITHDRAW) {
		*keep = false;
		free(o->reals);
		o->reals = NULL;
		o->nr_reals = 0;
		return 0;
	}
	if (sorry) {
		for (i = 0; i < n; i++)
			o->reals[i].weight = 0;
		o->reals[n] = h->sorry;
		o->reals[n].check = NULL;
		if (!o->reals[n].weight)
			o->reals[n].weight = 1;
		n++;
	}
	o->nr_reals = n;
	*keep = true;
	return 0;
}

int xlvsd_hc_effective(const struct xlvs_spec *cfg, xlvsd_hc_up_fn up, void *ctx,
		       struct xlvsd_hc_svc_state *st, struct xlvs_spec *out)
{
	size_t i, n = 0;
	bool keep;
	int err;

	memset(out, 0, sizeof(*out));
	out->global = cfg->global;
	out->services = calloc(cfg->nr_services + 1, sizeof(*out->services));
	if (!out->services)
		return -ENOMEM;
	for (i = 0; i < cfg->nr_services; i++) {
		err = effective_svc(&cfg->services[i], up, ctx, &st[i], &out->services[n], &keep);
		if (err) {
			out->nr_services = n;
			xlvs_spec_free(out);
			return err;
		}
		n += keep;
	}
	out->nr_services = n;
	return 0;
}
