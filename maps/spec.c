// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include "spec.h"

/* Frees what s owns (services and their reals), not s itself, and empties it. */
void xlvs_spec_free(struct xlvs_spec *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nr_services; i++)
		free(s->services[i].reals);
	free(s->services);
	memset(s, 0, sizeof(*s));
}
