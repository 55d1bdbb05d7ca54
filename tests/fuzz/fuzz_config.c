// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the YAML configuration parser (loader/config/, xlvs_conf_parse)
 * from a memory buffer
 * (at most FUZZ_CONFIG_MAX bytes: the daemon refuses larger files anyway).
 * Beyond "no crash, no sanitizer report, no leak", on every input:
 *   - the result is 0, -EINVAL or -ENOMEM, never anything else;
 *   - an error has a message, a position within the text (line <= lines + 1)
 *     and leaves the output spec all zero, as config.h promises;
 *   - success leaves no error message, and its spec is self-consistent
 *     (address families, forwarding methods and schedulers in range);
 *   - parsing is deterministic: a second parse gives the same result and the
 *     same error, byte for byte;
 *   - the error formatter never overruns a small buffer.
 * Seeds: docs/examples/ and tests/fuzz/corpus/config/; dictionary tests/fuzz/config.dict.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xlvs/abi.h>
#include "config/conf.h"
#include "fuzz_pkt.h"

#define FUZZ_CONFIG_MAX (64 * 1024)

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		if (*b++)
			return false;
	return true;
}

static void check_spec(const struct xlvs_spec *s)
{
	size_t i, j;

	for (i = 0; i < s->nr_services; i++) {
		const struct xlvs_svc_spec *v = &s->services[i];

		FZ_ASSERT(v->vip.family == 4 || v->vip.family == 6, "service %zu: VIP family %u", i,
			  v->vip.family);
		FZ_ASSERT(v->fwd < XLVS_FWD_MAX && v->sched < XLVS_SCHED_MAX, "service %zu: fwd %u sched %u",
			  i, v->fwd, v->sched);
		FZ_ASSERT(v->nr_reals == 0 || v->reals, "service %zu: reals missing", i);
		for (j = 0; j < v->nr_reals; j++)
			FZ_ASSERT((v->reals[j].addr.family == 4 || v->reals[j].addr.family == 6) &&
					  v->reals[j].fwd < XLVS_FWD_MAX,
				  "service %zu real %zu", i, j);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xlvs_conf_error e1, e2;
	struct xlvs_spec s1, s2;
	char small[24], big[1024];
	size_t lines = 1, i;
	int r1, r2;

	if (size > FUZZ_CONFIG_MAX)
		return 0;
	/* YAML line breaks: LF, CR, CRLF, and NEL, LS, PS in UTF-8. */
	for (i = 0; i < size; i++)
		lines += data[i] == '\n' || (data[i] == '\r' && (i + 1 == size || data[i + 1] != '\n')) ||
			 (data[i] == 0xc2 && i + 1 < size && data[i + 1] == 0x85) ||
			 (data[i] == 0xe2 && i + 2 < size && data[i + 1] == 0x80 &&
			  (data[i + 2] & 0xfe) == 0xa8);

	r1 = xlvs_conf_parse("fuzz.yaml", (const char *)data, size, &s1, &e1);
	FZ_ASSERT(r1 == 0 || r1 == -EINVAL || r1 == -ENOMEM, "result %d (%s)", r1, e1.msg);
	if (r1) {
		FZ_ASSERT(e1.msg[0], "error %d without a message", r1);
		FZ_ASSERT(e1.line <= lines + 1, "error at line %u of a %zu-line text: %s", e1.line, lines,
			  e1.msg);
		FZ_ASSERT(all_zero(&s1, sizeof(s1)), "a failed parse left the spec filled");
	} else {
		FZ_ASSERT(!e1.msg[0], "success with an error message: %s", e1.msg);
		check_spec(&s1);
	}

	r2 = xlvs_conf_parse("fuzz.yaml", (const char *)data, size, &s2, &e2);
	FZ_ASSERT(r2 == r1 && !memcmp(&e1, &e2, sizeof(e1)), "second parse differs: %d \"%s\" then %d \"%s\"",
		  r1, e1.msg, r2, e2.msg);
	if (!r1)
		FZ_ASSERT(s1.nr_services == s2.nr_services, "second parse: %zu services, then %zu",
			  s1.nr_services, s2.nr_services);

	memset(small, 0x5a, sizeof(small));
	xlvs_conf_error_format(&e1, small, 16);
	FZ_ASSERT(memchr(small, 0, 16) && small[16] == 0x5a, "error format overran 16 bytes");
	xlvs_conf_error_format(&e1, big, sizeof(big));
	FZ_ASSERT(memchr(big, 0, sizeof(big)), "error format not terminated");

	xlvs_spec_free(&s1);
	xlvs_spec_free(&s2);
	return 0;
}
