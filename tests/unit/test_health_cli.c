// SPDX-License-Identifier: GPL-2.0
/*
 * xlvs health (cli/cmd_health.c, cli/fmt_health.c): xlvsd's health reply in,
 * the table and the JSON out, exactly; the service/real filter as rows; ages
 * as rows; what it says and exits with when xlvsd is not running.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fmt.h"
#include "xlvs.h"

/* Checked up (initial: false), checked down with a check running, unchecked; a service without checks. */
#define REAL_UP                                                                                               \
	"{\"address\":\"198.18.1.11\",\"port\":80,\"weight\":1,\"effective_weight\":1,\"in_maps\":true,"      \
	"\"health\":{\"state\":\"up\",\"check\":\"tcp\",\"check_address\":\"198.18.1.11\",\"check_port\":80," \
	"\"rise\":2,\"fall\":3,\"last_result\":\"ok\",\"last_ok\":true,\"last_message\":\"connected\","       \
	"\"last_latency_ms\":0.4,\"checks\":120,\"failures\":0,\"transitions\":0,\"since_s\":600,"            \
	"\"rise_fall\":0,\"initial\":false,\"target\":\"198.18.1.11:80\",\"interval_ms\":5000,"               \
	"\"timeout_ms\":1000,\"consecutive_ok\":120,\"consecutive_failed\":0,"                                \
	"\"last_change_ago_ms\":600123,\"running\":false,\"last_check_ago_ms\":1234,"                         \
	"\"next_check_in_ms\":3766}}"
#define REAL_DOWN                                                                                            \
	"{\"address\":\"198.18.1.12\",\"port\":8080,\"weight\":2,\"effective_weight\":0,\"in_maps\":true,"   \
	"\"health\":{\"state\":\"down\",\"check\":\"http\",\"check_address\":\"198.18.1.12\","               \
	"\"check_port\":8080,\"rise\":2,\"fall\":3,\"last_result\":\"failed\",\"last_ok\":false,"            \
	"\"last_message\":\"connect: refused\",\"last_latency_ms\":1.0,\"checks\":12,\"failures\":5,"        \
	"\"transitions\":1,\"since_s\":12,\"rise_fall\":1,\"initial\":false,"                                \
	"\"target\":\"198.18.1.12:8080/health\",\"interval_ms\":5000,\"timeout_ms\":1000,"                   \
	"\"consecutive_ok\":1,\"consecutive_failed\":0,\"last_change_ago_ms\":12400,\"running\":true,"       \
	"\"last_check_ago_ms\":5000}}"
#define REAL_INITIAL                                                                                           \
	"{\"address\":\"198.18.1.14\",\"port\":80,\"weight\":1,\"effective_weight\":1,\"in_maps\":true,"       \
	"\"health\":{\"state\":\"up\",\"check\":\"exec\",\"check_address\":\"198.18.1.14\",\"check_port\":80," \
	"\"rise\":1,\"fall\":1,\"last_result\":\"none\",\"last_ok\":false,\"last_message\":\"\","              \
	"\"last_latency_ms\":0.0,\"checks\":0,\"failures\":0,\"transitions\":0,\"since_s\":0,"                 \
	"\"rise_fall\":0,\"initial\":true,\"target\":\"/usr/local/bin/check \\u001b[2J\","                     \
	"\"interval_ms\":5000,\"timeout_ms\":1000,\"consecutive_ok\":0,\"consecutive_failed\":0,"              \
	"\"last_change_ago_ms\":80,\"running\":false,\"next_check_in_ms\":4920}}"
#define REAL_UNCHECKED                                                                                       \
	"{\"address\":\"198.18.1.13\",\"port\":80,\"weight\":1,\"effective_weight\":1,\"in_maps\":true,"     \
	"\"health\":{\"state\":\"unchecked\"}}"
#define SVC_TCP                                                                                                \
	"{\"vip\":\"198.18.0.10\",\"port\":80,\"protocol\":\"tcp\",\"check\":\"tcp\",\"on_down\":\"quiesce\"," \
	"\"up_weight\":2,\"quorum\":{\"weight\":3,\"lost\":true,\"action\":\"sorry\"},"                        \
	"\"sorry\":{\"address\":\"198.18.1.99\",\"active\":true},\"reals\":[" REAL_UP "," REAL_DOWN            \
	"," REAL_UNCHECKED "," REAL_INITIAL "]}"
#define SVC_UDP                                                                                              \
	"{\"vip\":\"2001:db8::10\",\"port\":53,\"protocol\":\"udp\",\"reals\":["                             \
	"{\"address\":\"2001:db8::1\",\"port\":53,\"weight\":1,\"effective_weight\":1,\"in_maps\":true,"     \
	"\"health\":{\"state\":\"unchecked\"}}]}"
#define SVC_WITHDRAWN                                                                                        \
	"{\"vip\":\"198.18.0.10\",\"port\":443,\"protocol\":\"tcp\",\"check\":\"none\","                     \
	"\"on_down\":\"remove\",\"up_weight\":0,\"quorum\":{\"weight\":1,\"lost\":true,"                     \
	"\"action\":\"withdraw\"},\"reals\":[]}"
static const char reply_services[] = "[" SVC_TCP "," SVC_UDP "," SVC_WITHDRAWN "]";

static const char table_want[] =
	"TCP 198.18.0.10:80  check tcp  up weight 2  quorum 3 lost: sorry server  sorry 198.18.1.99 active\n"
	"  Real              State         Check  Target                     Last result               Latency  Run       Changed     Trans  Next\n"
	"  198.18.1.11:80    up            tcp    198.18.1.11:80             ok: connected             0.4 ms   fall 0/3  10m 0s ago  0      in 3.7s\n"
	"  198.18.1.12:8080  down          http   198.18.1.12:8080/health    failed: connect: refused  1.0 ms   rise 1/2  12s ago     1      running\n"
	"  198.18.1.13:80    unchecked\n"
	"  198.18.1.14:80    up (initial)  exec   /usr/local/bin/check ?[2J  none                      -        fall 0/1  0.0s ago    0      in 4.9s\n"
	"UDP [2001:db8::10]:53  no health checks\n"
	"  Real              State         Check  Target                     Last result               Latency  Run       Changed     Trans  Next\n"
	"  [2001:db8::1]:53  unchecked\n"
	"TCP 198.18.0.10:443  check per real  up weight 0  quorum 1 lost: service withdrawn\n"
	"  (no reals)\n";

static json_t *services(void)
{
	json_error_t e;
	json_t *j = json_loads(reply_services, 0, &e);

	cr_assert_not_null(j, "test reply: %s (column %d)", e.text, e.column);
	return j;
}

/* The formatter's output for svcs, text or JSON. */
static char *fmt(json_t *svcs, bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct xp p;

	cr_assert_not_null(f);
	xp_init(&p, f, json, false);
	xp_begin(&p);
	xlvs_fmt_health(&p, svcs);
	cr_assert_eq(xp_end(&p), 0);
	fclose(f);
	return buf;
}

Test(health_cli, table_text_exact)
{
	json_t *svcs = services();
	char *got = fmt(svcs, false);

	cr_expect_str_eq(got, table_want, "got:\n%s", got);
	free(got);
	json_decref(svcs);
}

/* -j: the reply's services as they are, under "services". */
Test(health_cli, json_is_the_daemons_services)
{
	json_t *svcs = services(), *got;
	char *text = fmt(svcs, true);
	json_error_t e;

	got = json_loads(text, 0, &e);
	cr_assert_not_null(got, "%s: %s", e.text, text);
	cr_expect_eq(json_object_size(got), 1, "%s", text);
	cr_expect(json_equal(json_object_get(got, "services"), svcs), "%s", text);
	cr_expect_str_eq(
		json_string_value(json_object_get(
			json_object_get(
				json_array_get(
					json_object_get(json_array_get(json_object_get(got, "services"), 0),
							"reals"),
					1),
				"health"),
			"last_message")),
		"connect: refused");
	json_decref(got);
	free(text);
	json_decref(svcs);
}

/* Filters: a command line's SERVICE [REAL] -> the services and reals shown ("vip:port/proto real,real; ..."). */
struct filter_row {
	const char *name, *svc, *real; /* NULL: not given */
	const char *want;
};

static const struct filter_row filter_rows[] = {
	{ "none: everything", NULL, NULL,
	  "198.18.0.10:80/tcp .11 .12 .13 .14; 2001:db8::10:53/udp 2001:db8::1; 198.18.0.10:443/tcp" },
	{ "a VIP without a port: every port of it", "198.18.0.10", NULL,
	  "198.18.0.10:80/tcp .11 .12 .13 .14; 198.18.0.10:443/tcp" },
	{ "VIP and port", "198.18.0.10:443", NULL, "198.18.0.10:443/tcp" },
	{ "the protocol must match when given", "198.18.0.10:80/udp", NULL, "" },
	{ "IPv6 service", "[2001:db8::10]:53/udp", NULL, "2001:db8::10:53/udp 2001:db8::1" },
	{ "a real: only it, only where it is", "198.18.0.10", "198.18.1.12", "198.18.0.10:80/tcp .12" },
	{ "a real with its port", "198.18.0.10:80", "198.18.1.12:8080", "198.18.0.10:80/tcp .12" },
	{ "a real with another port", "198.18.0.10:80", "198.18.1.12:80", "" },
	{ "an unknown VIP", "198.18.0.99", NULL, "" },
};

static void endpoint(const char *text, bool svc, struct xlvs_endpoint *ep)
{
	char err[XLVS_ERRLEN];

	cr_assert_eq(xlvs_parse_endpoint(text, svc, ep, err, sizeof(err)), 0, "%s: %s", text, err);
}

/* "vip:port/proto" and the reals' addresses (".N" for 198.18.1.N). */
static void describe(json_t *svcs, char *buf, size_t size)
{
	size_t i, j, o = 0;
	json_t *s, *r;
	const char *a;

	buf[0] = 0;
	json_array_foreach (svcs, i, s) {
		o += snprintf(buf + o, size - o, "%s%s:%lld/%s", i ? "; " : "",
			      json_string_value(json_object_get(s, "vip")),
			      json_integer_value(json_object_get(s, "port")),
			      json_string_value(json_object_get(s, "protocol")));
		json_array_foreach (json_object_get(s, "reals"), j, r) {
			a = json_string_value(json_object_get(r, "address"));
			o += snprintf(buf + o, size - o, " %s", strncmp(a, "198.18.1.", 9) ? a : a + 8);
		}
	}
}

Test(health_cli, filter_table)
{
	json_t *svcs = services(), *got;
	struct xlvs_endpoint s, r;
	char buf[512];
	size_t i;

	for (i = 0; i < sizeof(filter_rows) / sizeof(filter_rows[0]); i++) {
		const struct filter_row *t = &filter_rows[i];

		if (t->svc)
			endpoint(t->svc, true, &s);
		if (t->real)
			endpoint(t->real, false, &r);
		got = xlvs_health_filter(svcs, t->svc ? &s : NULL, t->real ? &r : NULL);
		cr_assert_not_null(got, "%s", t->name);
		describe(got, buf, sizeof(buf));
		cr_expect_str_eq(buf, t->want, "%s: got '%s', want '%s'", t->name, buf, t->want);
		json_decref(got);
	}
	json_decref(svcs);
}

struct age_row {
	long long ms;
	const char *want;
};

static const struct age_row age_rows[] = {
	{ 0, "0.0s" },	    { 99, "0.0s" },	     { 1400, "1.4s" },
	{ 9999, "9.9s" },   { 10000, "10s" },	     { 59999, "59s" },
	{ 60000, "1m 0s" }, { 3723000, "1h 2m 3s" }, { 90061000, "1d 1h 1m 1s" },
};

Test(health_cli, ages)
{
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(age_rows) / sizeof(age_rows[0]); i++) {
		xlvs_fmt_age(age_rows[i].ms, buf, sizeof(buf));
		cr_expect_str_eq(buf, age_rows[i].want, "%lld ms", age_rows[i].ms);
	}
}

/* Run xlvs_main; stdout and stderr into out/err (freed by the caller). */
static int run(char **out, char **err, const char *const *words)
{
	char *argv[16];
	size_t ol = 0, el = 0;
	FILE *fo = open_memstream(out, &ol), *fe = open_memstream(err, &el);
	int argc = 0, rc;

	argv[argc++] = (char *)"xlvs";
	while (*words && argc < 15)
		argv[argc++] = (char *)*words++;
	argv[argc] = NULL;
	rc = xlvs_main(argc, argv, fo, fe);
	fclose(fo);
	fclose(fe);
	return rc;
}

/* No daemon: nothing to show, exit 3 as `xlvs status`, saying where it looked. */
Test(health_cli, no_daemon_is_exit_3)
{
	char *out, *err;
	int rc;

	rc = run(&out, &err,
		 (const char *const[]){ "--socket", "/nonexistent/xlvsd.sock", "health", "198.18.0.10",
					NULL });
	cr_expect_eq(rc, XLVS_EXIT_DAEMON, "exit %d: %s", rc, err);
	cr_expect_str_eq(out, "");
	cr_expect_str_eq(err, "xlvs: xlvsd is not running (no socket at /nonexistent/xlvsd.sock)\n");
	free(out);
	free(err);
	rc = run(&out, &err, (const char *const[]){ "health", "198.18.0.10", "198.18.1.11", "extra", NULL });
	cr_expect_eq(rc, XLVS_EXIT_USAGE, "a third word is a usage error: exit %d: %s", rc, err);
	free(out);
	free(err);
}
