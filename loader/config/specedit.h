/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Edits of the daemon's desired state (struct xlvs_spec) for the control
 * commands: service-add/del, real-add/del/set-weight. The daemon edits a copy
 * and swaps it in only once it is applied. Every function leaves the spec
 * valid on failure and returns 0 or -errno; msg (if not NULL) gets a sentence
 * a human can act on.
 */
#ifndef XLVSD_SPECEDIT_H
#define XLVSD_SPECEDIT_H

#include <stddef.h>
#include <stdint.h>

#include "spec.h"

/* Deep copy; free dst with xlvs_spec_free. */
int xlvsd_spec_copy(struct xlvs_spec *dst, const struct xlvs_spec *src);
size_t xlvsd_spec_nr_reals(const struct xlvs_spec *s);

bool xlvsd_addr_eq(const struct xlvs_addr *a, const struct xlvs_addr *b);
struct xlvs_svc_spec *xlvsd_spec_find_svc(struct xlvs_spec *s, const struct xlvs_addr *vip, uint8_t proto,
					  uint16_t port);
/* port < 0: any port; -ENOENT, or -ENOTUNIQ when several reals have that address. */
int xlvsd_spec_find_real(const struct xlvs_svc_spec *svc, const struct xlvs_addr *addr, int port,
			 size_t *idx);

/* Adds svc (its reals are copied); -EEXIST, -ENOSPC, -EINVAL (checked like the file). */
int xlvsd_spec_add_svc(struct xlvs_spec *s, const struct xlvs_svc_spec *svc, char *msg, size_t size);
int xlvsd_spec_del_svc(struct xlvs_spec *s, const struct xlvs_svc_spec *svc);

/* Fields of upd that xlvsd_spec_update_svc() takes. */
#define XLVSD_SVC_SCHED	       (1u << 0)
#define XLVSD_SVC_FWD	       (1u << 1)
#define XLVSD_SVC_RING	       (1u << 2)
#define XLVSD_SVC_FLAGS	       (1u << 3)
#define XLVSD_SVC_SCHED_FLAGS  (1u << 4)
#define XLVSD_SVC_PERSIST      (1u << 5) /* persist_s; 0 also clears the netmask */
#define XLVSD_SVC_PERSIST_NET  (1u << 6) /* persist_plen */
#define XLVSD_SVC_SCHED_EXPIRE (1u << 7) /* sched_expire_s (lblc, lblcr) */
#define XLVSD_SVC_FLOW_STATE   (1u << 8) /* flow_state */
#define XLVSD_SVC_RING_WINDOW  (1u << 9) /* ring_window_s */

/*
 * Set those fields of svc (a service of s) from upd; its reals stay. A new
 * forwarding method also goes to the reals that had the old one (the
 * service's default). -EINVAL (checked like the file), -ENOMEM.
 */
int xlvsd_spec_update_svc(struct xlvs_spec *s, struct xlvs_svc_spec *svc, const struct xlvs_svc_spec *upd,
			  unsigned int fields, char *msg, size_t size);
/* Adds r to svc (a service of s); -EEXIST, -EINVAL (checked like the file). */
int xlvsd_spec_add_real(struct xlvs_spec *s, struct xlvs_svc_spec *svc, const struct xlvs_real_spec *r,
			char *msg, size_t size);
void xlvsd_spec_del_real(struct xlvs_svc_spec *svc, size_t idx);

#endif /* XLVSD_SPECEDIT_H */
