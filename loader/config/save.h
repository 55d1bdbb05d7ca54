/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The desired state written back as the configuration file says it (`xlvs
 * save`), and as the settings `xlvs diff` compares: one list of items per
 * object, each a key of the file ("scheduler", "check.interval": one level of
 * nesting) and its value as YAML text. The parser (conf.h) reads the text
 * back into the same struct xlvs_spec (tests/unit/test_verbs.c).
 */
#ifndef XLVS_CONF_SAVE_H
#define XLVS_CONF_SAVE_H

#include <stddef.h>

#include "spec.h"

struct xlvs_conf_item {
	char *key; /* "ring_size", "check.type", "sorry.address" */
	char *val; /* YAML: 80, "198.18.0.10", [200, 301-302], off */
};

struct xlvs_conf_items {
	size_t n, cap;
	struct xlvs_conf_item *v;
	int err; /* -ENOMEM once an item could not be added */
};

void xlvs_conf_items_free(struct xlvs_conf_items *it);
/* The item of that key, or NULL. */
const struct xlvs_conf_item *xlvs_conf_item(const struct xlvs_conf_items *it, const char *key);

/* Top-level settings, without the services. 0 or -ENOMEM (on out, freed by the caller). */
int xlvs_conf_global_items(const struct xlvs_global_spec *g, struct xlvs_conf_items *out);
/* A service's settings and health, without its reals (vip, port and protocol first). */
int xlvs_conf_svc_items(const struct xlvs_svc_spec *s, struct xlvs_conf_items *out);
/* A real of s (address first); its port only where it is not the service's. */
int xlvs_conf_real_items(const struct xlvs_svc_spec *s, const struct xlvs_real_spec *r,
			 struct xlvs_conf_items *out);

/* The whole state as a configuration file (malloc'ed text in *out), headed by comment. 0 or -ENOMEM. */
int xlvs_conf_save(const struct xlvs_spec *spec, const char *comment, char **out);

#endif /* XLVS_CONF_SAVE_H */
