// SPDX-License-Identifier: GPL-2.0
/*
 * Pins restored under a running daemon (see pinwatch.h). Every pin is a name
 * in dp->pin_dir with the fd and bpf id of the object xlvsd put there.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <bpf/bpf.h>

#include "attach.h"
#include "log.h"
#include "pinwatch.h"
#include "tc.h"

#define MAP_PREFIX "xlvs_"
/* BPF_LINK_TYPE_TCX (Linux 6.6), missing from Debian 12's headers; its ifindex sits where xdp's does */
#define LINK_TYPE_TCX 11

struct pin {
	char name[NAME_MAX + 1];
	int fd;
	uint32_t id;
	bool link;   /* follows the attachments (dp's XDP links, tc's tcx links) */
	int ifindex; /* a link's interface when taken */
	bool want;   /* scratch: still wanted in this check */
};

struct xlvs_pw {
	struct xlvs_dp *dp;
	const struct xlvs_tc *tc; /* NULL: the tc program's pins are not held */
	struct pin *pins;
	size_t n, cap;
	int last_err;			/* logged once until it changes */
	int unheld[XLVS_DP_MAX_IFACES]; /* interfaces whose link could not be held: logged once */
	unsigned int nr_unheld;
};

/* Maps, programs and links all start their info with type and id; ifindex: an XDP or tcx link's. */
static uint32_t obj_id(int fd, int *ifindex)
{
	union {
		struct bpf_map_info map;
		struct bpf_prog_info prog;
		struct bpf_link_info link;
	} u;

	if (xlvs_obj_info(fd, &u, sizeof(u)))
		return 0;
	if (ifindex)
		*ifindex = u.link.type == BPF_LINK_TYPE_XDP || u.link.type == LINK_TYPE_TCX
				   ? (int)u.link.xdp.ifindex
				   : 0;
	return u.map.id;
}

/* Hold fd (taken over) as the object pinned as name. */
static int pin_add(struct xlvs_pw *pw, const char *name, int fd, bool link)
{
	struct pin *p;

	if (pw->n == pw->cap) {
		p = reallocarray(pw->pins, pw->cap ? 2 * pw->cap : 32, sizeof(*p));
		if (!p) {
			close(fd);
			return -ENOMEM;
		}
		pw->pins = p;
		pw->cap = pw->cap ? 2 * pw->cap : 32;
	}
	p = &pw->pins[pw->n++];
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->fd = fd;
	p->id = obj_id(fd, link ? &p->ifindex : NULL);
	p->link = link;
	p->want = true;
	return 0;
}

static int pin_take(struct xlvs_pw *pw, const char *name, bool link)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pw->dp->pin_dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	return pin_add(pw, name, fd, link);
}

static struct pin *pin_find(struct xlvs_pw *pw, const char *name)
{
	size_t i;

	for (i = 0; i < pw->n; i++)
		if (!strcmp(pw->pins[i].name, name))
			return &pw->pins[i];
	return NULL;
}

static void pin_drop(struct xlvs_pw *pw, struct pin *p)
{
	close(p->fd);
	*p = pw->pins[--pw->n];
}

int xlvs_pw_open(struct xlvs_pw **out, struct xlvs_dp *dp)
{
	struct xlvs_pw *pw = calloc(1, sizeof(*pw));
	struct dirent *de;
	DIR *d;
	int err = 0;

	*out = NULL;
	if (!pw)
		return -ENOMEM;
	pw->dp = dp;
	d = opendir(dp->pin_dir);
	if (!d)
		err = -errno;
	while (!err && (de = readdir(d)))
		if (!strncmp(de->d_name, MAP_PREFIX, strlen(MAP_PREFIX)) ||
		    !strcmp(de->d_name, XLVS_PROG_PIN))
			err = pin_take(pw, de->d_name, false);
	if (d)
		closedir(d);
	if (err) {
		xlvs_pw_close(pw);
		return err;
	}
	*out = pw;
	xlvs_pw_check(pw); /* takes the link pins; what fails is logged */
	return 0;
}

/*
 * The directory itself was removed (rm -r): create it again and lock the new
 * one, as xlvs_dp_open did the old (one xlvsd per pin directory).
 */
static int dir_restore(struct xlvs_pw *pw)
{
	struct xlvs_dp *dp = pw->dp;
	char msg[PATH_MAX + 128];
	struct stat st;
	int fd, err;

	if (!stat(dp->pin_dir, &st))
		return 0;
	if (errno != ENOENT)
		return -errno;
	err = xlvs_bpffs_prepare_msg(dp->pin_dir, NULL, msg, sizeof(msg));
	if (err) {
		if (err != pw->last_err)
			log_err("pin directory %s was removed under xlvsd and cannot be created again: %s",
				dp->pin_dir, msg);
		return err;
	}
	fd = open(dp->pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB)) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		if (err != pw->last_err)
			log_err("pin directory %s was created again but cannot be locked: %s", dp->pin_dir,
				strerror(-err));
		return err;
	}
	if (dp->lock_fd >= 0)
		close(dp->lock_fd);
	dp->lock_fd = fd;
	log_warn("pin directory %s was removed under xlvsd: created again", dp->pin_dir);
	return 0;
}

/* True if ifindex was seen before; remembers it otherwise. */
static bool unheld_once(struct xlvs_pw *pw, int ifindex)
{
	unsigned int i;

	for (i = 0; i < pw->nr_unheld; i++)
		if (pw->unheld[i] == ifindex)
			return true;
	if (pw->nr_unheld < XLVS_DP_MAX_IFACES)
		pw->unheld[pw->nr_unheld++] = ifindex;
	return false;
}

/* Hold the link pinned as name for the interface ifname (ifindex), unless held already. */
static void link_want(struct xlvs_pw *pw, const char *name, const char *ifname, int ifindex)
{
	struct pin *p = pin_find(pw, name);
	int err;

	if (p && p->ifindex == ifindex) {
		p->want = true;
		return;
	}
	if (p)
		pin_drop(pw, p); /* the link of an interface deleted since */
	err = pin_take(pw, name, true);
	if (err && !unheld_once(pw, ifindex))
		log_err("%s/%s: cannot hold the link of %s (%s): if its pin is gone, so is the "
			"attachment; `xlvs reload` attaches again",
			pw->dp->pin_dir, name, ifname, strerror(-err));
}

/*
 * The link pins to hold: one per interface attached by a pinned bpf_link,
 * xlvs_lb's (link_IF) and the tc program's (tclink_IF, tcx only: a clsact
 * filter has no pin).
 */
static void links_sync(struct xlvs_pw *pw)
{
	char esc[3 * IF_NAMESIZE + 1], name[NAME_MAX + 1];
	const struct xlvs_iface *f;
	const struct xlvs_tc_iface *t;
	unsigned int i;
	size_t j;

	for (j = 0; j < pw->n; j++)
		pw->pins[j].want = !pw->pins[j].link;
	for (i = 0; i < pw->dp->nr_ifaces; i++) {
		f = &pw->dp->ifaces[i];
		if (f->method != XLVS_ATTACH_LINK)
			continue;
		xlvs_pin_name_escape(esc, sizeof(esc), f->name);
		snprintf(name, sizeof(name), "%s%s", XLVS_LINK_PIN_PREFIX, esc);
		link_want(pw, name, f->name, f->ifindex);
	}
	for (i = 0; pw->tc && i < pw->tc->nr_ifaces; i++) {
		t = &pw->tc->ifaces[i];
		if (t->method != XLVS_TC_TCX)
			continue;
		snprintf(name, sizeof(name), "%s%s", XLVS_TC_LINK_PIN_PREFIX, t->name);
		link_want(pw, name, t->name, t->ifindex);
	}
	for (j = pw->n; j-- > 0;)
		if (!pw->pins[j].want)
			pin_drop(pw, &pw->pins[j]);
}

/* 1 if p's pin was missing or replaced and is back, 0 if it was in place, or -errno. */
static int pin_restore(struct xlvs_pw *pw, const struct pin *p)
{
	char path[PATH_MAX];
	uint32_t id;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pw->dp->pin_dir, p->name);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		id = obj_id(fd, NULL);
		close(fd);
		if (id == p->id)
			return 0;
		log_warn("pin %s holds another object (id %u, xlvsd's is %u): putting xlvsd's back", path, id,
			 p->id);
		if (unlink(path))
			return -errno;
	} else if (errno != ENOENT) {
		return -errno;
	}
	if (bpf_obj_pin(p->fd, path))
		return -errno;
	log_warn("pin %s was removed under xlvsd: restored (object id %u)", path, p->id);
	return 1;
}

int xlvs_pw_check(struct xlvs_pw *pw)
{
	int err = dir_restore(pw), n = 0, e;
	size_t i;

	if (err)
		return pw->last_err = err;
	links_sync(pw);
	for (i = 0; i < pw->n; i++) {
		e = pin_restore(pw, &pw->pins[i]);
		if (e >= 0) {
			n += e;
			continue;
		}
		if (e != pw->last_err)
			log_err("cannot restore pin %s/%s: %s", pw->dp->pin_dir, pw->pins[i].name,
				strerror(-e));
		err = err ? err : e;
	}
	pw->last_err = err;
	return err ? err : n;
}

int xlvs_pw_watch_tc(struct xlvs_pw *pw, const struct xlvs_tc *tc)
{
	int fd;

	pw->tc = tc;
	if (tc->prog_fd >= 0 && !pin_find(pw, XLVS_TC_PROG_PIN)) {
		/* xlvsd's own program, whatever the pin holds now */
		fd = fcntl(tc->prog_fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0 || pin_add(pw, XLVS_TC_PROG_PIN, fd, false))
			return fd < 0 ? -errno : -ENOMEM;
	}
	xlvs_pw_check(pw); /* takes the tcx link pins */
	return 0;
}

void xlvs_pw_close(struct xlvs_pw *pw)
{
	if (!pw)
		return;
	while (pw->n)
		pin_drop(pw, &pw->pins[pw->n - 1]);
	free(pw->pins);
	free(pw);
}
