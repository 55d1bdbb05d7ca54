/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Logging of xlvsd and the xlvs CLI: one line per message on stderr,
 * "xlvsd: LEVEL: message".
 * stderr is what systemd puts in the journal, so there is no timestamp and no
 * syslog. Safe to call from any thread (one fputs per line).
 */
#ifndef XLVS_LOG_H
#define XLVS_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum xlvs_log_level {
	XLVS_LOG_ERROR,
	XLVS_LOG_WARN,
	XLVS_LOG_INFO,
	XLVS_LOG_DEBUG,
};

/* Messages above max are dropped; default XLVS_LOG_INFO (-v: XLVS_LOG_DEBUG). */
void xlvs_log_set_level(enum xlvs_log_level max);
bool xlvs_log_enabled(enum xlvs_log_level level);
/* "NAME: LEVEL: message" on out (NULL: stderr); xlvsd by default. The xlvs CLI uses it too. */
void xlvs_log_set_ident(const char *name, FILE *out);

__attribute__((format(printf, 2, 3))) void xlvs_log(enum xlvs_log_level level, const char *fmt, ...);

#define log_err(...)   xlvs_log(XLVS_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  xlvs_log(XLVS_LOG_WARN, __VA_ARGS__)
#define log_info(...)  xlvs_log(XLVS_LOG_INFO, __VA_ARGS__)
#define log_debug(...) xlvs_log(XLVS_LOG_DEBUG, __VA_ARGS__)

/* Route libbpf and libxdp messages here: warnings as warnings, the rest as debug. */
void xlvs_log_hook_libs(void);

/*
 * While capturing, library warnings are demoted to debug (an expected failure
 * such as libxdp's dispatcher probe is not the operator's problem) and the
 * first libxdp warning or notice is kept in buf, to say why libxdp fell back.
 */
void xlvs_log_capture_begin(char *buf, size_t size);
void xlvs_log_capture_end(void);

#endif /* XLVS_LOG_H */
