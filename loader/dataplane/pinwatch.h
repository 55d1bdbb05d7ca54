/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pins removed under a running xlvsd (`rm -r /sys/fs/bpf/xlvs`, one `rm`):
 * the daemon holds a file descriptor of every object it pinned (maps, the
 * programs, each interface's bpf_links), so the objects live on and each pin can
 * be put back. xlvs_pw_check() compares every pin with the object held
 * (bpf object id) and restores what is missing or replaced; the daemon calls
 * it from a timer. (inotify works on bpffs too, but a check also sees a pin
 * replaced by another object, and needs no watch re-armed when the directory
 * itself is removed and created again.)
 *
 * Holding the links matters most: a bpf_link whose last reference was its pin
 * would be detached by the rm, and forwarding would stop.
 */
#ifndef XLVS_PINWATCH_H
#define XLVS_PINWATCH_H

#include <stdint.h>

struct xlvs_dp;
struct xlvs_pw;
struct xlvs_tc;

/* Take every xlvs pin now in dp's pin directory (maps, program, links). 0 or -errno. */
int xlvs_pw_open(struct xlvs_pw **pw, struct xlvs_dp *dp);
/*
 * Check and restore. Link pins follow dp's attachments: a new one is taken,
 * one no longer tracked is let go. Returns the number of pins restored (each
 * logged with its path), or -errno if one could not be restored (logged once
 * until it changes).
 */
int xlvs_pw_check(struct xlvs_pw *pw);
/*
 * Hold the tc program's pins too (dataplane/tc.h): the program, from tc's own
 * descriptor, and each interface's tcx link, following tc's list as link pins
 * follow dp's. tc must outlive pw. 0 or -errno.
 */
int xlvs_pw_watch_tc(struct xlvs_pw *pw, const struct xlvs_tc *tc);
void xlvs_pw_close(struct xlvs_pw *pw);

#endif /* XLVS_PINWATCH_H */
