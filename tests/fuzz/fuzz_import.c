// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: xlvs import's two readers (cli/import_ipvsadm.c,
 * cli/import_keepalived.c) and the parser loop of cli/import.c. The first
 * byte picks the reader (even: ipvsadm, odd: keepalived), the rest is the
 * input text (at most FUZZ_IMPORT_MAX bytes, no NUL: xlvs import refuses
 * those before reading). Beyond "no crash, no sanitizer report, no leak":
 *   - a reader returns 0 or -1, and imp_finish() 0 or -1;
 *   - what imp_finish() writes is accepted by the configuration parser
 *     (xlvs_conf_parse): the importer's promise that its output passes
 *     `xlvsd --check`;
 *   - every not-carried line has a message, and the count matches.
 * keepalived's include directives would read the host's files: the reader
 * starts at the include depth limit, so an include is refused as too deep.
 * Seeds: tests/fuzz/corpus/import/ (the unit samples behind their reader byte).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/conf.h"
#include "import.h"
#include "fuzz_pkt.h"

#define FUZZ_IMPORT_MAX	  (64 * 1024)
#define FUZZ_INCLUDE_DEEP 8 /* KA_MAX_INCLUDE_DEPTH */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imp im = { .interfaces = "lo", .tun_src4 = "198.18.0.1", .tun_src6 = "2001:db8::1" };
	static struct xlvs_conf_error err;
	struct xlvs_spec spec;
	char *text, *yaml = NULL;
	size_t len = 0;
	FILE *out, *null;
	int rc;

	if (!size || size > FUZZ_IMPORT_MAX || memchr(data + 1, 0, size - 1))
		return 0;
	text = malloc(size);
	im.err = null = fopen("/dev/null", "w");
	FZ_ASSERT(text && null, "out of memory");
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	rc = data[0] & 1 ? imp_keepalived(&im, "fuzz.conf", text, FUZZ_INCLUDE_DEEP)
			 : imp_ipvsadm(&im, "fuzz.rules", text);
	FZ_ASSERT(rc == 0 || rc == -1, "reader returned %d", rc);
	if (!rc) {
		out = open_memstream(&yaml, &len);
		FZ_ASSERT(out, "out of memory");
		rc = imp_finish(&im, "fuzz", out);
		fclose(out);
		FZ_ASSERT(rc == 0 || rc == -1, "imp_finish returned %d", rc);
		FZ_ASSERT(im.nmsgs == im.not_carried || im.oom, "%zu messages for %u lines not carried",
			  im.nmsgs, im.not_carried);
		if (!rc) {
			rc = xlvs_conf_parse("import", yaml, len, &spec, &err);
			FZ_ASSERT(!rc, "the YAML written is refused at line %u: %s\n%s", err.line, err.msg,
				  yaml);
			xlvs_spec_free(&spec);
		}
	}
	free(yaml);
	free(text);
	imp_free(&im);
	fclose(null);
	return 0;
}
