// SPDX-License-Identifier: GPL-2.0
/* Logging of xlvsd and the xlvs CLI, see log.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "log.h"

static enum xlvs_log_level max_level = XLVS_LOG_INFO;
static const char *ident = "xlvsd";
static FILE *log_out; /* NULL: stderr */
static char *capture_buf;
static size_t capture_size;

static const char *const level_names[] = {
	[XLVS_LOG_ERROR] = "error",
	[XLVS_LOG_WARN] = "warning",
	[XLVS_LOG_INFO] = "info",
	[XLVS_LOG_DEBUG] = "debug",
};

void xlvs_log_set_level(enum xlvs_log_level max)
{
	max_level = max;
}

void xlvs_log_set_ident(const char *name, FILE *out)
{
	ident = name;
	log_out = out;
}

bool xlvs_log_enabled(enum xlvs_log_level level)
{
	return level <= max_level;
}

/* Format into one buffer so that concurrent threads never interleave a line. */
static void log_line(enum xlvs_log_level level, const char *prefix, const char *fmt, va_list ap)
{
	char msg[1024], line[1200];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	snprintf(line, sizeof(line), "%s: %s: %s%s\n", ident, level_names[level], prefix, msg);
	fputs(line, log_out ? log_out : stderr);
}

void xlvs_log(enum xlvs_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!xlvs_log_enabled(level))
		return;
	va_start(ap, fmt);
	log_line(level, "", fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level l, const char *fmt, va_list ap)
{
	enum xlvs_log_level level = XLVS_LOG_DEBUG;

	if (l == LIBBPF_WARN && !capture_buf)
		level = XLVS_LOG_WARN;
	if (xlvs_log_enabled(level))
		log_line(level, "", fmt, ap); /* it says "libbpf: " */
	return 0;
}

static int libxdp_print(enum libxdp_print_level l, const char *fmt, va_list ap)
{
	enum xlvs_log_level level = XLVS_LOG_DEBUG;
	va_list cp;

	if (l == LIBXDP_WARN && !capture_buf)
		level = XLVS_LOG_WARN;
	/* libxdp reports the dispatcher probe's failure at info level. */
	if (l <= LIBXDP_INFO && capture_buf && !capture_buf[0]) {
		size_t n;

		va_copy(cp, ap);
		vsnprintf(capture_buf, capture_size, fmt, cp);
		va_end(cp);
		n = strlen(capture_buf);
		while (n && capture_buf[n - 1] == '\n')
			capture_buf[--n] = '\0';
		if (!strncmp(capture_buf, "libxdp: ", 8)) /* its own prefix */
			memmove(capture_buf, capture_buf + 8, n - 7);
		/* "Falling back ..." is the consequence, not the cause */
		if (!strncmp(capture_buf, "Falling back", 12))
			capture_buf[0] = '\0';
	}
	if (xlvs_log_enabled(level))
		log_line(level, "", fmt, ap); /* it says "libxdp: " */
	return 0;
}

void xlvs_log_hook_libs(void)
{
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}

void xlvs_log_capture_begin(char *buf, size_t size)
{
	if (!buf || !size)
		return;
	buf[0] = '\0';
	capture_buf = buf;
	capture_size = size;
}

void xlvs_log_capture_end(void)
{
	capture_buf = NULL;
	capture_size = 0;
}
