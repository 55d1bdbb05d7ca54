// SPDX-License-Identifier: GPL-2.0
/* Interface sysctls, see sysctl.h. /proc/sys/net is the caller's network namespace. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sysctl.h"

static int conf_path(char *buf, size_t size, const char *fam, const char *ifname, const char *key)
{
	int n = snprintf(buf, size, "/proc/sys/net/%s/conf/%s/%s", fam, ifname, key);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int read_int(const char *path, int *val)
{
	char buf[32];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = '\0';
	*val = (int)strtol(buf, NULL, 10);
	return 0;
}

static int write_int(const char *path, int val)
{
	char buf[16];
	int fd, len, err = 0;

	len = snprintf(buf, sizeof(buf), "%d\n", val);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, len) != len)
		err = -errno;
	close(fd);
	return err;
}

/* Set fam/ifname/key to want unless it holds that already; why goes into the log. */
static int ensure(const char *fam, const char *ifname, const char *key, int want, const char *why)
{
	char path[PATH_MAX];
	int cur, err;

	err = conf_path(path, sizeof(path), fam, ifname, key);
	if (!err)
		err = read_int(path, &cur);
	if (!err && cur == want)
		return 0;
	if (!err)
		err = write_int(path, want);
	if (err) {
		log_warn("cannot set net.%s.conf.%s.%s=%d: %s (%s)", fam, ifname, key, want, strerror(-err),
			 why);
		return err;
	}
	log_info("net.%s.conf.%s.%s: %d -> %d (%s)", fam, ifname, key, cur, want, why);
	return 0;
}

/* Strict rp_filter (1) is max(all, interface) == 1; loose (2) keeps a check. */
static int loosen_rp_filter(const char *ifname)
{
	char path[PATH_MAX];
	int all = 0, cur = 0, err;

	err = conf_path(path, sizeof(path), "ipv4", ifname, "rp_filter");
	if (!err)
		err = read_int(path, &cur);
	if (!err)
		read_int("/proc/sys/net/ipv4/conf/all/rp_filter", &all);
	if (err || (all > cur ? all : cur) != 1)
		return err;
	return ensure("ipv4", ifname, "rp_filter", 2,
		      all == 1 && cur != 1
			      ? "net.ipv4.conf.all.rp_filter is strict; loose lets our source through"
			      : "strict reverse-path filtering drops packets with our own tunnel source");
}

int xlvs_iface_sysctls(const char *ifname)
{
	int err, e;

	err = ensure("ipv4", ifname, "forwarding", 1, "bpf_fib_lookup needs it");
	e = ensure("ipv4", ifname, "accept_local", 1,
		   "unresolved next hops are forwarded "
		   "by the kernel with our own tunnel source");
	err = err ? err : e;
	e = loosen_rp_filter(ifname);
	err = err ? err : e;
	if (access("/proc/sys/net/ipv6/conf", F_OK))
		return err; /* IPv6 disabled: nothing to forward */
	e = ensure("ipv6", ifname, "forwarding", 1, "bpf_fib_lookup needs it");
	return err ? err : e;
}
