// SPDX-License-Identifier: GPL-2.0
/* Private namespaces and shell helpers for scenario tests (see netns.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#include "netns.h"

#define CMD_MAX 1024
#define OUT_MAX 4096

void netns_need(const char *tool, const char *pkg)
{
	const char *path = getenv("PATH");
	char dir[CMD_MAX], file[CMD_MAX * 2];
	const char *p = path ? path : "/usr/sbin:/usr/bin:/sbin:/bin";

	while (*p) {
		size_t n = strcspn(p, ":");

		snprintf(dir, sizeof(dir), "%.*s", (int)n, p);
		snprintf(file, sizeof(file), "%s/%s", *dir ? dir : ".", tool);
		if (access(file, X_OK) == 0)
			return;
		p += n + (p[n] == ':');
	}
	CHECK(0, "missing tool: '%s' is not in PATH (Debian package %s)", tool, pkg);
}

static int sh_va(char *out, size_t size, const char *fmt, va_list ap)
{
	char cmd[CMD_MAX], full[CMD_MAX + 16];
	size_t n = 0, got;
	FILE *f;
	int st;

	CHECK(vsnprintf(cmd, sizeof(cmd), fmt, ap) < (int)sizeof(cmd), "command too long");
	snprintf(full, sizeof(full), "(%s) 2>&1", cmd);
	f = popen(full, "r");
	CHECK(f, "popen %s: %s", cmd, strerror(errno));
	/* Read all of it so the child never blocks on a full pipe. */
	while ((got = fread(out + n, 1, n + 1 < size ? size - n - 1 : 0, f)) > 0)
		n += got;
	while (fgetc(f) != EOF)
		;
	out[n] = '\0';
	st = pclose(f);
	CHECK(st != -1, "pclose %s: %s", cmd, strerror(errno));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int netns_sh(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	int rc;

	CHECK(size > 0, "netns_sh needs an output buffer");
	va_start(ap, fmt);
	rc = sh_va(out, size, fmt, ap);
	va_end(ap);
	return rc;
}

void netns_run(const char *fmt, ...)
{
	char out[OUT_MAX], cmd[CMD_MAX];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = netns_sh(out, sizeof(out), "%s", cmd);
	CHECK(rc == 0, "'%s' exited %d: %s", cmd, rc, out);
}

void netns_enter(void)
{
	netns_need("ip", "iproute2");
	CHECK(unshare(CLONE_NEWNET) == 0, "unshare(CLONE_NEWNET): %s (needs root)", strerror(errno));
	netns_run("ip link set dev lo up");
}

void netns_enter_bpffs(void)
{
	netns_need("ip", "iproute2");
	CHECK(unshare(CLONE_NEWNET | CLONE_NEWNS) == 0, "unshare(CLONE_NEWNET|CLONE_NEWNS): %s",
	      strerror(errno));
	/* Private first, so nothing mounted below propagates to the host. */
	CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, "make / private: %s", strerror(errno));
	CHECK(mount("bpffs", "/sys/fs/bpf", "bpf", 0, "mode=0700") == 0, "mount bpffs on /sys/fs/bpf: %s",
	      strerror(errno));
	netns_run("ip link set dev lo up");
}

void netns_veth(const char *a, const char *mac_a, const char *b, const char *mac_b)
{
	netns_run("ip link add %s address %s type veth peer name %s address %s", a, mac_a, b, mac_b);
	netns_run("ip link set dev %s up && ip link set dev %s up", a, b);
}

int netns_ifindex(const char *ifname)
{
	unsigned int idx = if_nametoindex(ifname);

	CHECK(idx, "no interface %s: %s", ifname, strerror(errno));
	return (int)idx;
}

void netns_write(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
	n = write(fd, value, strlen(value));
	close(fd);
	CHECK(n == (ssize_t)strlen(value), "write %s to %s failed", value, path);
}

void netns_forwarding(const char *ifname)
{
	char path[256];

	/* "all" is copied to every interface; the per-interface knob is what the helper reads. */
	netns_write("/proc/sys/net/ipv4/conf/all/forwarding", "1");
	netns_write("/proc/sys/net/ipv6/conf/all/forwarding", "1");
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/forwarding", ifname);
	netns_write(path, "1");
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/forwarding", ifname);
	netns_write(path, "1");
}

void parse_mac(const char *text, uint8_t mac[6])
{
	unsigned int m[6];
	int i;

	CHECK(sscanf(text, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) == 6, "bad MAC %s",
	      text);
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)m[i];
}
