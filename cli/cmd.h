/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the cmd_*.c command implementations. */
#ifndef XLVS_CLI_CMD_H
#define XLVS_CLI_CMD_H

#include <jansson.h>

#include "args.h"
#include "fmt.h"
#include "print.h"
#include "xlvs.h"

/*
 * SERVICE at argv[*i]: VIP[:PORT][/PROTO], optionally followed by a separate
 * tcp|udp word. *i ends on the last word used. proto stays 0 when not given.
 */
int xlvs_take_service(struct xlvs_ctx *c, int argc, char **argv, int *i, struct xlvs_endpoint *ep);
/* REAL[:PORT] at argv[*i]. */
int xlvs_take_real(struct xlvs_ctx *c, int argc, char **argv, int *i, struct xlvs_endpoint *ep);
/* The value after keyword argv[*i]; NULL after a usage error. */
const char *xlvs_take_value(struct xlvs_ctx *c, int argc, char **argv, int *i);
/* argv[*i] is a global option (1), an error (-1, printed) or something else (0). */
#define xlvs_take_global(c, argc, argv, i) xlvs_global_opt(c, argc, argv, i)
/* The usage error for a word no rule took. */
int xlvs_unexpected(struct xlvs_ctx *c, const char *word);

/* "TCP 198.18.0.10:80", or "198.18.0.10:80 (any protocol)" for messages. */
const char *xlvs_svc_text(const struct xlvs_endpoint *ep, char *buf, size_t size);
/* {"vip", "port", "protocol"} for the control protocol; proto 0 = tcp. */
json_t *xlvs_svc_json(const struct xlvs_endpoint *ep);
/* {"address"[, "port"]}. */
json_t *xlvs_real_json(const struct xlvs_endpoint *ep);
/* Send req (released), print the reply's "applied" stats. Returns an exit code. */
int xlvs_request_applied(struct xlvs_ctx *c, json_t *req);

void xlvs_printer(struct xlvs_ctx *c, struct xp *p);
int xlvs_finish(struct xlvs_ctx *c, struct xp *p);

#endif /* XLVS_CLI_CMD_H */
