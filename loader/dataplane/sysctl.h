/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-interface sysctls the director needs (docs/architecture.md, "Next hop"):
 * forwarding (bpf_fib_lookup returns FWD_DISABLED without it), and for IPv4
 * accept_local=1 with rp_filter not strict (packets the kernel forwards for us
 * carry our own tunnel source). Values are only raised, never lowered back.
 */
#ifndef XLVS_SYSCTL_H
#define XLVS_SYSCTL_H

/* Set them on ifname, logging each change. 0, or -errno if one could not be set. */
int xlvs_iface_sysctls(const char *ifname);

#endif /* XLVS_SYSCTL_H */
