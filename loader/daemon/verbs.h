/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The operator's verbs on the control socket (docs/control.md) that change
 * nothing: `save` (the running state as a configuration file) and `diff`
 * (what a reload of a file would change, and whether the planner of a real
 * reload would take it). Each handler returns its one reply object, so it
 * moves onto another reply transport unchanged.
 */
#ifndef XLVSD_VERBS_H
#define XLVSD_VERBS_H

#include <jansson.h>

#include "spec.h"

struct xlvsd;

/*
 * {"cmd": "save"} -> {"ok": true, "config": "<YAML text>"}: the running state, its flow_hash and
 * conn_table_size the pinned state's.
 */
json_t *xlvsd_cmd_save(struct xlvsd *d, json_t *req);
/*
 * {"cmd": "diff", "file"?: "/abs/path"} (default: the daemon's file) ->
 * {"ok": true, "file", "changes": [...], "refused"?: "why"}: the changes from
 * the running configured state (its flow_hash and conn_table_size the pinned
 * state's, as save gives them) to the file's, and, when the reload planner
 * (health actions applied, capacity included) would refuse the file, why.
 * A file that does not parse is an error reply with its file:line:column.
 */
json_t *xlvsd_cmd_diff(struct xlvsd *d, json_t *req);

/*
 * The changes from `from` to `to` (pure), in this order: global settings,
 * removed services, then `to`'s services in its order (added, or changed
 * settings), each followed by its reals' changes. Each change is
 *   {"object": "global"|"service"|"real", "change": "added"|"removed"|"changed",
 *    "service"?: {vip, port, protocol}, "real"?: {address, port},
 *    "fields"?: [{"key", "from"?, "to"?, "live"?: false}]}
 * with values as the configuration file writes them (config/save.h); an
 * added service lists its reals as added. "live": false marks a change a
 * reload does not make (flow_hash, conn_table_size: the pinned state keeps
 * its own). NULL
 * without memory.
 */
json_t *xlvsd_spec_diff(const struct xlvs_spec *from, const struct xlvs_spec *to);

#endif /* XLVSD_VERBS_H */
