/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private network (and mount) namespaces for tests that need real interfaces,
 * routes and neighbours. The namespaces belong to the calling test process and
 * vanish with it, so the host's interfaces and bpffs are never touched.
 * Every helper fails the test (never skips) when something it needs is missing.
 */
#ifndef XLVS_TEST_NETNS_H
#define XLVS_TEST_NETNS_H

#include <stddef.h>
#include <stdint.h>

/* unshare(CLONE_NEWNET) and bring lo up. */
void netns_enter(void);
/* Also a private mount namespace with a fresh bpffs on /sys/fs/bpf. */
void netns_enter_bpffs(void);

/* Fail the test unless tool is an executable in $PATH; pkg says what provides it. */
void netns_need(const char *tool, const char *pkg);
/* Run a shell command, stdout and stderr captured into out; returns its exit status. */
int netns_sh(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Run a shell command that must exit 0. */
void netns_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A veth pair, both ends up, with the given MACs ("02:..."). */
void netns_veth(const char *a, const char *mac_a, const char *b, const char *mac_b);
int netns_ifindex(const char *ifname);
void netns_write(const char *path, const char *value);
/* IPv4 and IPv6 forwarding on all interfaces and on ifname (bpf_fib_lookup needs it). */
void netns_forwarding(const char *ifname);
void parse_mac(const char *text, uint8_t mac[6]);

#endif
