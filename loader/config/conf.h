/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xlvsd configuration file (YAML): parse and validate into the desired state
 * (struct xlvs_spec, maps/spec.h). The whole file is checked before anything
 * is applied; every error names file:line:column. Reference: docs/configuration.md.
 * The file is "conf" here: struct xlvs_config is the director's settings map
 * value (include/xlvs/abi.h), which xlvs_maps_set_global() fills from the spec.
 */
#ifndef XLVS_CONF_H
#define XLVS_CONF_H

#include <stddef.h>

#include "spec.h"

struct xlvs_conf_error {
	char file[256];
	unsigned line, column; /* 1-based; 0 = no position (I/O errors) */
	char msg[256];
};

/*
 * Bounds that keep a parse short (docs/configuration.md, "Limits"): a file
 * of at most XLVS_CONF_MAX_FILE bytes (the largest configuration, 16384
 * services and 65536 reals with checks, is a few MiB), collections nested at
 * most XLVS_CONF_MAX_DEPTH deep (the schema needs 5), at most
 * XLVS_CONF_MAX_NODES values (scalars and collections: the largest
 * configuration, with a check per real, has about 2 million).
 */
#define XLVS_CONF_MAX_FILE  (16u << 20)
#define XLVS_CONF_MAX_DEPTH 64
#define XLVS_CONF_MAX_NODES 3000000u

/*
 * Parse and fully validate. On success fill *out (free with xlvs_spec_free)
 * and return 0. On failure return -EINVAL (bad configuration) or -errno (I/O:
 * -ENOENT, -EACCES, -EFBIG, ...), fill *err with the first error found and
 * leave *out empty (zeroed).
 */
int xlvs_conf_load(const char *path, struct xlvs_spec *out, struct xlvs_conf_error *err);
int xlvs_conf_parse(const char *name, const char *text, size_t len, struct xlvs_spec *out,
		    struct xlvs_conf_error *err);

/*
 * Check that every interface of spec exists now (if_nametoindex). The error
 * carries the line and column of the interface in the file it was parsed from
 * (the parser keeps those of its last successful parse). Returns 0 or -ENODEV.
 */
int xlvs_conf_check_interfaces(const struct xlvs_spec *spec, struct xlvs_conf_error *err);

/*
 * Every key the parser accepts, section by section: fn(where, key, arg) once per
 * key, where is the section as the parser's messages name it ("at top level",
 * "in tunnel", "in service", "in check", ...). Keys reported as "not supported
 * yet" are not accepted, so not listed. For the test that holds
 * docs/configuration.md to the parser (tests/unit/test_docs.c).
 */
typedef void (*xlvs_conf_key_fn)(const char *where, const char *key, void *arg);
void xlvs_conf_keys(xlvs_conf_key_fn fn, void *arg);

/* "file:line:column: msg" (without the position parts that are unknown). */
void xlvs_conf_error_format(const struct xlvs_conf_error *err, char *buf, size_t size);

#endif /* XLVS_CONF_H */
