// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

const char *const xlvs_check_type_names[XLVS_CHECK_MAX] = {
	[XLVS_CHECK_NONE] = "none",   [XLVS_CHECK_TCP] = "tcp",	  [XLVS_CHECK_HTTP] = "http",
	[XLVS_CHECK_HTTPS] = "https", [XLVS_CHECK_UDP] = "udp",	  [XLVS_CHECK_DNS] = "dns",
	[XLVS_CHECK_ICMP] = "icmp",   [XLVS_CHECK_EXEC] = "exec",
};

const char *xlvs_check_type_name(unsigned int type)
{
	return type < XLVS_CHECK_MAX ? xlvs_check_type_names[type] : "unknown";
}

void xlvs_svc_spec_free(struct xlvs_svc_spec *svc)
{
	size_t i;

	for (i = 0; svc->reals && i < svc->nr_reals; i++)
		free(svc->reals[i].check);
	free(svc->reals);
	free(svc->health);
	svc->reals = NULL;
	svc->health = NULL;
	svc->nr_reals = 0;
}

int xlvs_svc_spec_copy(struct xlvs_svc_spec *dst, const struct xlvs_svc_spec *src)
{
	size_t i;

	*dst = *src;
	dst->reals = NULL;
	dst->health = NULL;
	dst->nr_reals = 0;
	if (src->health) {
		dst->health = malloc(sizeof(*dst->health));
		if (!dst->health)
			return -ENOMEM;
		*dst->health = *src->health;
	}
	if (!src->nr_reals)
		return 0;
	dst->reals = calloc(src->nr_reals, sizeof(*dst->reals));
	if (!dst->reals)
		goto oom;
	for (i = 0; i < src->nr_reals; i++) {
		dst->reals[i] = src->reals[i];
		dst->reals[i].check = NULL;
		dst->nr_reals = i + 1;
		if (src->reals[i].check) {
			dst->reals[i].check = malloc(sizeof(*dst->reals[i].check));
			if (!dst->reals[i].check)
				goto oom;
			*dst->reals[i].check = *src->reals[i].check;
		}
	}
	return 0;
oom:
	xlvs_svc_spec_free(dst);
	return -ENOMEM;
}

/* Frees what s owns (services and their reals), not s itself, and empties it. */
void xlvs_spec_free(struct xlvs_spec *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nr_services; i++)
		xlvs_svc_spec_free(&s->services[i]);
	free(s->services);
	memset(s, 0, sizeof(*s));
}
