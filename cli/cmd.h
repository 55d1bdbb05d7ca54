/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the cmd_*.c command implementations. */
#ifndef XLVS_CLI_CMD_H
#define XLVS_CLI_CMD_H

#include <jansson.h>

#include "args.h"
#include "fmt.h"
#include "print.h"
#include "xlvs.h"

/* Does the map key name the service ep asks for? proto 0 matches both. */
bool xlvs_svc_matches(const struct xlvs_svc_key *k, const struct xlvs_endpoint *ep);
/* The template key of the flow's client in svc (the key bpf/persist.h looks up). */
void xlvs_tpl_key(const struct xlvs_flow *f, const struct xlvs_service *svc, struct xlvs_svc_addr_key *k);
/* "TCP 198.18.0.10:80", or "198.18.0.10:80 (any protocol)" for messages. */
const char *xlvs_svc_text(const struct xlvs_endpoint *ep, char *buf, size_t size);
/* {"vip", "port", "protocol"} for the control protocol; proto 0 = tcp. */
json_t *xlvs_svc_json(const struct xlvs_endpoint *ep);
/* {"address"[, "port"]}. */
json_t *xlvs_real_json(const struct xlvs_endpoint *ep);
/* Send req (released), print the reply's "applied" stats. Returns an exit code. */
int xlvs_request_applied(struct xlvs_ctx *c, json_t *req);
/*
 * A runtime change of svc (service or real add/del/weight/drain): refusals
 * name svc, and a change made says on stderr that it lives only in the
 * running state (XLVS_RUNTIME_NOTE). Returns an exit code.
 */
int xlvs_request_change(struct xlvs_ctx *c, json_t *req, const struct xlvs_endpoint *svc);
#define XLVS_RUNTIME_NOTE                                                                                     \
	"xlvs: note: runtime change only: `xlvs reload` or an xlvsd restart reverts it to the configuration " \
	"file (`xlvs save` prints the running state)\n"

void xlvs_printer(struct xlvs_ctx *c, struct xp *p);
int xlvs_finish(struct xlvs_ctx *c, struct xp *p);

#endif /* XLVS_CLI_CMD_H */
