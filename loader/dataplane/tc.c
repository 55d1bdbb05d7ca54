// SPDX-License-Identifier: GPL-2.0
/* The tc egress program: load on the pinned maps, attach (tcx, else clsact), adopt, detach. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xlvs_tc.skel.h"
#include "log.h"
#include "tc.h"

/* libbpf 1.1 and older uapi headers predate tcx (Linux 6.6): the kernel's values. */
#define TCX_EGRESS 47

const char *xlvs_tc_method_name(enum xlvs_tc_method m)
{
	return m == XLVS_TC_TCX ? "tcx" : m == XLVS_TC_CLSACT ? "clsact" : "none";
}

static int pin_file(char *buf, size_t size, const char *dir, const char *prefix, const char *name)
{
	return snprintf(buf, size, "%s/%s%s", dir, prefix, name) >= (int)size ? -ENAMETOOLONG : 0;
}

/* Every map is the director's, by its pin: the tc object creates none of its own. */
static int reuse_pinned_maps(struct xlvs_tc_bpf *skel, const char *pin_dir)
{
	char path[PATH_MAX];
	struct bpf_map *m;
	int fd, err;

	bpf_object__for_each_map (m, skel->obj) {
		bpf_map__set_pin_path(m, NULL);
		if (bpf_map__is_internal(m))
			continue; /* .rodata/.bss of the tc object itself */
		err = pin_file(path, sizeof(path), pin_dir, "", bpf_map__name(m));
		fd = err ? err : bpf_obj_get(path);
		if (fd < 0) {
			err = fd == -ENAMETOOLONG ? fd : -errno;
			log_err("tc program: the director's map %s is not pinned: %s", path, strerror(-err));
			return err;
		}
		err = bpf_map__reuse_fd(m, fd);
		close(fd);
		if (err) {
			log_err("tc program: cannot use %s: %s", path, strerror(-err));
			return err;
		}
	}
	return 0;
}

int xlvs_tc_load(struct xlvs_tc *tc, const char *pin_dir)
{
	struct xlvs_tc_bpf *skel;
	char path[PATH_MAX];
	int err;

	memset(tc, 0, sizeof(*tc));
	tc->prog_fd = -1;
	snprintf(tc->pin_dir, sizeof(tc->pin_dir), "%s", pin_dir);
	skel = xlvs_tc_bpf__open();
	if (!skel)
		return -errno;
	err = reuse_pinned_maps(skel, pin_dir);
	if (!err && (err = xlvs_tc_bpf__load(skel)))
		log_err("loading xlvs_tc failed: %s (see the libbpf messages above)", strerror(-err));
	if (!err)
		err = pin_file(path, sizeof(path), pin_dir, XLVS_TC_PROG_PIN, "");
	if (!err) {
		unlink(path); /* the new program replaces an earlier one's pin */
		if (bpf_obj_pin(bpf_program__fd(skel->progs.xlvs_tc), path))
			err = -errno;
		if (err)
			log_err("cannot pin the tc program at %s: %s", path, strerror(-err));
	}
	if (!err) {
		tc->prog_fd = dup(bpf_program__fd(skel->progs.xlvs_tc));
		err = tc->prog_fd < 0 ? -errno : 0;
	}
	xlvs_tc_bpf__destroy(skel);
	return err;
}

void xlvs_tc_close(struct xlvs_tc *tc)
{
	if (tc->prog_fd >= 0)
		close(tc->prog_fd);
	tc->prog_fd = -1;
	tc->nr_ifaces = 0;
}

static struct xlvs_tc_iface *find(struct xlvs_tc *tc, const char *ifname)
{
	unsigned int i;

	for (i = 0; i < tc->nr_ifaces; i++)
		if (!strcmp(tc->ifaces[i].name, ifname))
			return &tc->ifaces[i];
	return NULL;
}

/* A tcx link an earlier xlvsd pinned: swapped to this program (atomic, no packet unsteered). */
static int adopt_tcx(struct xlvs_tc *tc, const char *path)
{
	int fd = bpf_obj_get(path), err = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (bpf_link_update(fd, tc->prog_fd, NULL))
		err = -errno;
	close(fd);
	if (err) {
		log_warn("tc program: cannot update the link pinned at %s (%s): attaching anew", path,
			 strerror(-err));
		unlink(path);
		return 0;
	}
	return 1;
}

static int attach_tcx(struct xlvs_tc *tc, int ifindex, const char *path)
{
	int fd = bpf_link_create(tc->prog_fd, ifindex, (enum bpf_attach_type)TCX_EGRESS, NULL), err = 0;

	if (fd < 0)
		return -errno;
	if (bpf_obj_pin(fd, path))
		err = -errno;
	close(fd); /* the pin holds it */
	return err;
}

static int attach_clsact(struct xlvs_tc *tc, int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XLVS_TC_HANDLE, .priority = XLVS_TC_PRIO,
		    .prog_fd = tc->prog_fd, .flags = BPF_TC_F_REPLACE);
	int err = bpf_tc_hook_create(&hook);

	if (err && err != -EEXIST)
		return err;
	return bpf_tc_attach(&hook, &opts);
}

int xlvs_tc_attach(struct xlvs_tc *tc, const char *ifname)
{
	enum xlvs_tc_method how = XLVS_TC_TCX;
	struct xlvs_tc_iface *f;
	char path[PATH_MAX];
	int ifindex, err;

	if (tc->prog_fd < 0)
		return -ENOENT;
	if (find(tc, ifname))
		return 0;
	if (tc->nr_ifaces == XLVS_TC_MAX_IFACES)
		return -E2BIG;
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return -ENODEV;
	err = pin_file(path, sizeof(path), tc->pin_dir, XLVS_TC_LINK_PIN_PREFIX, ifname);
	if (!err)
		err = adopt_tcx(tc, path);
	if (!err) {
		err = attach_tcx(tc, ifindex, path);
		/* Kernels before 6.6 have no tcx (EINVAL): the clsact qdisc's filter does the same. */
		if (err) {
			log_debug("tc program: tcx on %s: %s; trying clsact", ifname, strerror(-err));
			how = XLVS_TC_CLSACT;
			err = attach_clsact(tc, ifindex);
		}
	}
	if (err < 0) {
		log_err("cannot attach the tc program to %s: %s", ifname, strerror(-err));
		return err;
	}
	f = &tc->ifaces[tc->nr_ifaces++];
	snprintf(f->name, sizeof(f->name), "%s", ifname);
	f->ifindex = ifindex;
	f->method = how;
	log_info("tc program on %s egress (%s%s): health checks through the forwarding path", ifname,
		 xlvs_tc_method_name(how), err == 1 ? ", adopted" : "");
	return 1;
}

static int detach_tcx(const char *path)
{
	int fd = bpf_obj_get(path);

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	bpf_link_detach(fd); /* now, even if another process holds the link */
	close(fd);
	return unlink(path) ? -errno : 1;
}

void xlvs_tc_remove_filter(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XLVS_TC_HANDLE, .priority = XLVS_TC_PRIO);

	bpf_tc_detach(&hook, &opts); /* -ENOENT: none (the hook stays: others may use it) */
}

int xlvs_tc_detach(struct xlvs_tc *tc, const char *ifname)
{
	struct xlvs_tc_iface *f = find(tc, ifname);
	char path[PATH_MAX];
	int err;

	err = pin_file(path, sizeof(path), tc->pin_dir, XLVS_TC_LINK_PIN_PREFIX, ifname);
	if (!err)
		err = detach_tcx(path);
	if (f && f->method == XLVS_TC_CLSACT)
		xlvs_tc_remove_filter(f->ifindex);
	if (err < 0)
		log_err("cannot detach the tc program from %s: %s", ifname, strerror(-err));
	if (!f)
		return err < 0 ? err : 0;
	log_info("tc program detached from %s (%s)", ifname, xlvs_tc_method_name(f->method));
	memmove(f, f + 1, (tc->nr_ifaces - (f - tc->ifaces) - 1) * sizeof(*f));
	tc->nr_ifaces--;
	return err < 0 ? err : 1;
}

bool xlvs_tc_active(const struct xlvs_tc *tc)
{
	return tc->nr_ifaces > 0;
}

int xlvs_tc_remove_links(const char *pin_dir)
{
	size_t plen = strlen(XLVS_TC_LINK_PIN_PREFIX);
	char path[PATH_MAX];
	struct dirent *de;
	int err = 0, e;
	DIR *d = opendir(pin_dir);

	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, XLVS_TC_LINK_PIN_PREFIX, plen) ||
		    pin_file(path, sizeof(path), pin_dir, "", de->d_name))
			continue;
		e = detach_tcx(path);
		if (e < 0)
			log_err("cannot detach the tc program (%s): %s", path, strerror(-e));
		else
			log_info("detached the tc program from %s (tcx)", de->d_name + plen);
		err = e < 0 && !err ? e : err;
	}
	if (d)
		closedir(d);
	return err;
}
