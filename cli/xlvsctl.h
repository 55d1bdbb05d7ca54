/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Client side of the xlvsd control socket (docs/control.md): one JSON line
 * out, one JSON line back, within a deadline.
 */
#ifndef XLVS_CLI_XLVSCTL_H
#define XLVS_CLI_XLVSCTL_H

#include <stddef.h>

#include <jansson.h>

#include "xlvs.h"

/*
 * Largest reply line accepted: bounds memory if the peer misbehaves. The
 * daemon's own limit (XLVSD_CTL_MAX_REPLY): far above the health reply of
 * the largest configuration (65536 checked reals: about 33 MiB).
 */
#define XLVS_CTL_MAX_REPLY (256 << 20)

/*
 * Send req to the daemon at path and read its reply object. Returns
 * XLVS_EXIT_OK with *reply set (ok true or false: the caller decides), or
 * XLVS_EXIT_DAEMON / XLVS_EXIT_RUNTIME with a message in err.
 */
int xlvs_ctl_call(const char *path, json_t *req, int timeout_ms, json_t **reply, char *err, size_t errlen);

/*
 * xlvs_ctl_call() for commands: prints errors as "xlvs: ...". Returns
 * XLVS_EXIT_OK with *reply (ok:true), or the exit code; ok:false replies
 * print the daemon's error and give XLVS_EXIT_REFUSED. req is released.
 */
int xlvs_ctl_request(struct xlvs_ctx *c, json_t *req, json_t **reply);

/*
 * The "services" array of xlvsd's health reply (timeout_ms without progress),
 * or NULL with why in err and *rc the exit code: XLVS_EXIT_OK when no daemon
 * runs (callers go on without health), else a daemon error (refused,
 * malformed, truncated, too large, no answer) they must report.
 */
json_t *xlvs_ctl_health(const char *path, int timeout_ms, int *rc, char *err, size_t errlen);

#endif /* XLVS_CLI_XLVSCTL_H */
