/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Prometheus exporter: GET /metrics serves the text exposition format
 * (version 0.0.4) from an HTTP server thread of its own (libmicrohttpd).
 * That thread only reads the maps (through libxlvsmaps) and the daemon's
 * health (under its lock): m and h must outlive xlvs_metrics_stop(), and m's
 * fds must not be closed or replaced while the server runs.
 */
#ifndef XLVS_METRICS_H
#define XLVS_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

struct xlvs_maps;
struct xlvsd_status;
struct xlvs_metrics;

#define XLVS_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * listen: "127.0.0.1:9105", "[::1]:9105", or just "9105" / ":9105" (loopback).
 * Binds exactly that address. 0 or -errno (-EADDRINUSE, -EINVAL for a bad listen).
 */
int xlvs_metrics_start(struct xlvs_metrics **mx, const char *listen, struct xlvs_maps *m,
		       struct xlvsd_status *h);
void xlvs_metrics_stop(struct xlvs_metrics *mx);

/* The whole exposition in a malloc'ed, NUL-terminated buffer (*len excludes the NUL); h may be NULL. */
int xlvs_metrics_render(struct xlvs_maps *m, struct xlvsd_status *h, char **out, size_t *len);

/*
 * The exposition format's writer, for every family xlvsd exports (the
 * health checks' too): a family's HELP and TYPE lines, then its samples
 * name{k1="v1",...} value, where kv holds npairs name/value pairs and the
 * values are escaped.
 */
void xlvs_metrics_family(FILE *f, const char *name, const char *type, const char *help);
void xlvs_metrics_sample(FILE *f, const char *name, const char *const *kv, size_t npairs, uint64_t v);
/* The same with the value as text (a float the caller formatted). */
void xlvs_metrics_sample_text(FILE *f, const char *name, const char *const *kv, size_t npairs, const char *v);

/* Helpers, exported for tests. */
int xlvs_metrics_parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *sslen);
/* A label value escaped for the exposition format (\\, \", \n); returns the length it needs, like snprintf. */
size_t xlvs_metrics_escape(char *dst, size_t size, const char *src);

#endif /* XLVS_METRICS_H */
