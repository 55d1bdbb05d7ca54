# SPDX-License-Identifier: GPL-2.0
# xlvs: `make deps` installs Debian packages, `make` builds into build/, `make test`, `make bench`.
# Quiet by default; `make V=1` prints every command.

BUILD    ?= build
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
ARCH     := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

CFLAGS   ?= -g -O2
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Iinclude -Imaps -I$(BUILD)/bpf
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Werror -Iinclude \
	      $(if $(MULTIARCH),-I/usr/include/$(MULTIARCH))
LDLIBS   := -lbpf -lelf -lz
DAEMON_LIBS := -lxdp -lmnl -lyaml -ljansson -lmicrohttpd -lsystemd -lev -lcurl -lldns -lcrypto
CLI_LIBS := -ljansson -lxdp -lmnl

# `make test SANITIZE=1`: every userspace binary (xlvsd, xlvs, the libraries, the unit and BPF
# test binaries, the bench, the e2e tools) built with ASan and UBSan into build-asan/ (so the
# normal objects are never mixed in), and every suite run under them. Any report fails: the
# options below make Criterion's forked tests abort on the first one, and tests/e2e/run.sh
# checks xlvsd's log. Not part of plain `make test` (it takes longer: docs/testing.md).
ifeq ($(SANITIZE),1)
ifeq ($(origin BUILD),file)
BUILD    := build-asan
endif
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer
SAN_SUPP := $(abspath tests/sanitizers)
export ASAN_OPTIONS ?= abort_on_error=1:detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1
export UBSAN_OPTIONS ?= halt_on_error=1:abort_on_error=1:print_stacktrace=1:suppressions=$(SAN_SUPP)/ubsan.supp
export LSAN_OPTIONS ?= suppressions=$(SAN_SUPP)/lsan.supp:print_suppressions=0
# The unit and BPF (Criterion) suites: stacks of two frames, so lsan.supp's libcriterion
# entry matches only what libcriterion allocated itself (why: tests/sanitizers/lsan.supp).
# First, so that a malloc_context_size in LSAN_OPTIONS (a deeper stack) wins.
SAN_CRITERION := LSAN_OPTIONS='malloc_context_size=2:$(LSAN_OPTIONS)'
endif

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
MAKEFLAGS += --no-print-directory
endif

DEB_PACKAGES := clang llvm libbpf-dev libxdp-dev xdp-tools bpftool libelf-dev zlib1g-dev \
		libmnl-dev libcriterion-dev pkg-config iproute2 ethtool make gcc \
		libyaml-dev libjansson-dev libmicrohttpd-dev libsystemd-dev scdoc curl socat iperf3 iputils-ping jq \
		libev-dev libcurl4-openssl-dev libldns-dev dnsmasq-base openssl libssl-dev clang-format nftables

BPF_SRCS   := $(wildcard bpf/*.bpf.c)
BPF_OBJS   := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
BPF_SKELS  := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.skel.h,$(BPF_SRCS))
BPF_HDRS   := $(wildcard bpf/*.h) $(wildcard include/xlvs/*.h)
E2E_BPF    := $(BUILD)/tests/xdp_pass.bpf.o
E2E_TOOLS  := $(BUILD)/tests/udp-name $(BUILD)/tests/syn-flood $(BUILD)/tests/pasv-name
UPGRADE    := $(BUILD)/tests/upgrade
XLVSD_V2   := $(UPGRADE)/xlvsd
ABI_HDRS   := $(wildcard include/xlvs/*.h)
# libxlvsmaps, the userspace library both binaries link: maps/ (the director's maps),
# maps/attach/ (XDP attach helpers, the decapsulator's control) and maps/log.c.
MAPS_SRCS  := $(wildcard maps/*.c maps/*/*.c)
MAPS_HDRS  := $(wildcard maps/*.h maps/*/*.h)
MAPS_OBJS  := $(patsubst %.c,$(BUILD)/%.o,$(MAPS_SRCS))
LIBMAPS    := $(BUILD)/libxlvsmaps.a
# The daemon, one folder per role (docs/architecture.md); its headers are named from loader/.
LOADER_HDRS := $(wildcard loader/*/*.h)
LOADER_LIB_SRCS := $(filter-out loader/daemon/xlvsd.c,$(wildcard loader/*/*.c))
LOADER_LIB := $(BUILD)/libxlvsd.a
XLVSD      := $(BUILD)/xlvsd
CLI_LIB_SRCS := $(filter-out cli/xlvs.c,$(wildcard cli/*.c))
CLI_LIB    := $(BUILD)/libxlvscli.a
XLVS       := $(BUILD)/xlvs
MAN_SRCS   := $(wildcard docs/man/*.scd)
MANS       := $(patsubst docs/man/%.scd,$(BUILD)/man/%,$(MAN_SRCS))
UNIT_SRCS  := $(wildcard tests/unit/*.c)
UNIT_HELPERS := tests/bpf/netns.c tests/bpf/pktgen.c tests/bench/jitprof.c
BPFT_SRCS  := $(wildcard tests/bpf/*.c)
TEST_UNIT  := $(BUILD)/tests/unit-tests
TEST_BPF   := $(BUILD)/tests/bpf-tests
BENCH      := $(BUILD)/bench/xlvs-bench
NAT_LOAD   := $(BUILD)/bench/nat-load
BENCH_BLOCKS := $(BUILD)/bench/blocks.bpf.o
PROFILE    := $(BUILD)/bench/xlvs-profile

.PHONY: all deps test demo demo-clean bench bench-nat profile install clean help format format-check
.DELETE_ON_ERROR:

all: $(BPF_OBJS) $(BPF_SKELS) $(LIBMAPS) $(XLVSD) $(XLVS) \
     $(MANS) $(TEST_UNIT) $(TEST_BPF) $(BENCH) $(PROFILE) $(NAT_LOAD) $(E2E_BPF) $(E2E_TOOLS) $(XLVSD_V2)

help:
	@echo 'make deps    install missing Debian packages (apt-get, needs root)'
	@echo 'make         build BPF objects, skeletons, libxlvsmaps, tests, bench into $(BUILD)/'
	@echo 'make demo    build, then run xlvsd in a namespace topology and send requests through it'
	@echo 'make demo-clean  remove what an interrupted demo left behind'
	@echo 'make test    run every test suite (unit, BPF fixtures, end to end); fails if any fails'
	@echo 'make bench   BPF_PROG_RUN benchmark; writes $(BUILD)/bench.json; then the benches below'
	@echo 'make bench BASE=<commit> [ROUNDS=3] [BENCH_ARGS=--quick]   A/B: that commit'"'"'s bench against this tree'"'"'s, interleaved'
	@echo '           [ROWS=patterns|issue13]   only those rows (issue13: issue 13'"'"'s target rows); writes $(BUILD)/bench-ab.json'
	@echo 'make bench-nat  NAT through xlvs vs nftables DNAT in namespaces; writes $(BUILD)/bench-nat.json'
	@echo 'make profile ROW=<row> [CALLS=N]   where a bench row'"'"'s time goes, by source line (perf); $(BUILD)/profile/'
	@echo 'make fuzz    libFuzzer pass over every fuzz target, FUZZ_SECONDS=N each (default 20); docs/reliability.md'
	@echo 'make vmtest  unit and BPF suites under Debian 12 kernel 6.1 in qemu/TCG (slow); vmtest-deps installs qemu'
	@echo 'make format-check  clang-format (.clang-format) over the userspace C: fails on any difference; make format fixes'
	@echo 'make clean   remove $(BUILD)/'
	@echo 'V=1          show full commands'

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "  DEPS     installing:" $$missing; \
		[ "$$(id -u)" = 0 ] || { echo "make deps: need root to install: $$missing" >&2; exit 1; }; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else echo "  DEPS     all Debian packages present"; fi

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(BUILD)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/tests/udp-name: tests/e2e/udp-name.c | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@

# The persistence scenarios' passive-FTP-like server and client.
$(BUILD)/tests/pasv-name: tests/e2e/pasv-name.c | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@

# The flood scenario's SYN generator; frames from the fixtures' builder (pktgen.c).
$(BUILD)/tests/syn-flood: tests/e2e/syn-flood.c tests/bpf/pktgen.c tests/bpf/pktgen.h tests/bpf/check.h | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -DXLVS_NO_CRITERION -Itests/bpf tests/e2e/syn-flood.c tests/bpf/pktgen.c -o $@

$(BUILD)/tests/%.bpf.o: tests/e2e/%.bpf.c | $(BUILD)/tests
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(BUILD)/maps/%.o: maps/%.c $(MAPS_HDRS) $(ABI_HDRS) $(BPF_SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -c $< -o $@

$(LIBMAPS): $(MAPS_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/loader/%.o: loader/%.c $(LOADER_HDRS) $(MAPS_HDRS) $(ABI_HDRS) $(BPF_SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -Iloader -c $< -o $@

# The CLI sees the shared library's headers (-Imaps, in CFLAGS), never the daemon's.
$(BUILD)/cli/%.o: cli/%.c $(wildcard cli/*.h) $(MAPS_HDRS) $(ABI_HDRS) | $(BUILD)/cli
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Icli -c $< -o $@

# xlvs import validates what it writes with the configuration parser itself (cli/import.h):
# only those files see loader/config's header, and xlvs links the parser's objects.
CONF_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard loader/config/*.c))
$(BUILD)/cli/import.o: CFLAGS += -Iloader/config
$(BUILD)/cli/import.o: $(wildcard loader/config/*.h)
# service add takes flow-state by the file's words (validate.h).
$(BUILD)/cli/cmd_service.o: CFLAGS += -Iloader/config
$(BUILD)/cli/cmd_service.o: $(wildcard loader/config/*.h)

$(LOADER_LIB): $(patsubst %.c,$(BUILD)/%.o,$(LOADER_LIB_SRCS))
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(CLI_LIB): $(patsubst %.c,$(BUILD)/%.o,$(CLI_LIB_SRCS)) | $(BUILD)/cli
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(XLVSD): $(BUILD)/loader/daemon/xlvsd.o $(LOADER_LIB) $(LIBMAPS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(DAEMON_LIBS) $(LDLIBS) -o $@

$(XLVS): $(BUILD)/cli/xlvs.o $(CLI_LIB) $(CONF_OBJS) $(LIBMAPS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(CLI_LIBS) -lyaml $(LDLIBS) -o $@

# For the upgrade test: xlvsd carrying another build of the director (BPF ISA v2: other
# instructions, so another program tag, on the same maps), as an older release would.
$(UPGRADE)/xlvs_lb.bpf.o: bpf/xlvs_lb.bpf.c $(BPF_HDRS) | $(UPGRADE)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -mcpu=v2 -c $< -o $@

$(UPGRADE)/xlvs_lb.skel.h: $(UPGRADE)/xlvs_lb.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(UPGRADE)/attach.o: loader/dataplane/attach.c $(LOADER_HDRS) $(MAPS_HDRS) $(ABI_HDRS) $(UPGRADE)/xlvs_lb.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) -I$(UPGRADE) $(CFLAGS) -Iloader -c $< -o $@

$(XLVSD_V2): $(BUILD)/loader/daemon/xlvsd.o $(UPGRADE)/attach.o $(LOADER_LIB) $(LIBMAPS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(DAEMON_LIBS) $(LDLIBS) -o $@

$(BUILD)/man/%: docs/man/%.scd | $(BUILD)/man
	$(call msg,SCDOC,$@)
	$(Q)scdoc < $< > $@

# One object per test file, so -j builds them in parallel and an edit recompiles one file.
UNIT_OBJS := $(patsubst %.c,$(BUILD)/tests/unit-objs/%.o,$(UNIT_SRCS) $(UNIT_HELPERS))
BPFT_OBJS := $(patsubst %.c,$(BUILD)/tests/bpf-objs/%.o,$(BPFT_SRCS))

$(BUILD)/tests/unit-objs/%.o: %.c $(wildcard tests/unit/*.h tests/bpf/*.h cli/*.h) $(LOADER_HDRS) $(MAPS_HDRS) \
	  $(ABI_HDRS) $(BPF_SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -Wno-override-init -Iloader -Icli -Itests/bpf -c $< -o $@

# test_verifier loads the upgrade test's build of the director too (ISA v2, below)
$(BUILD)/tests/unit-objs/tests/unit/test_verifier.o: CFLAGS += -DXLVS_UPGRADE_OBJ='"$(abspath $(UPGRADE))/xlvs_lb.bpf.o"'
$(BUILD)/tests/unit-objs/tests/unit/test_verifier.o: $(UPGRADE)/xlvs_lb.bpf.o

$(BUILD)/tests/bpf-objs/%.o: %.c $(wildcard tests/bpf/*.h) $(MAPS_HDRS) $(ABI_HDRS) $(BPF_SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -Wno-override-init -Itests/bpf -c $< -o $@

$(TEST_UNIT): $(UNIT_OBJS) $(LOADER_LIB) $(CLI_LIB) $(LIBMAPS) | $(BUILD)/tests
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(UNIT_OBJS) $(CLI_LIB) $(LOADER_LIB) $(LIBMAPS) \
		-lcriterion $(DAEMON_LIBS) $(CLI_LIBS) $(LDLIBS) -ldl -o $@

$(TEST_BPF): $(BPFT_OBJS) $(LIBMAPS) | $(BUILD)/tests
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(BPFT_OBJS) $(LIBMAPS) -lcriterion $(LDLIBS) -o $@

# The bench's building blocks (tests/bench/blocks.bpf.c): one operation per program.
$(BENCH_BLOCKS): tests/bench/blocks.bpf.c $(ABI_HDRS) | $(BUILD)/bench
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/%.skel.h: $(BUILD)/bench/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(BENCH): tests/bench/bench.c tests/bench/jitprof.c tests/bench/jitprof.h tests/bpf/pktgen.c tests/bpf/pktgen.h \
	  tests/bpf/world.c tests/bpf/world.h tests/bpf/check.h tests/bpf/netns.c tests/bpf/netns.h \
	  $(BPF_SKELS) $(BUILD)/bench/blocks.skel.h $(LIBMAPS) | $(BUILD)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -DXLVS_NO_CRITERION -Itests/bpf -I$(BUILD)/bench tests/bench/bench.c tests/bench/jitprof.c \
		tests/bpf/pktgen.c tests/bpf/world.c tests/bpf/netns.c $(LIBMAPS) $(LDLIBS) -o $@

# perf's samples of a bench row's programs by source line (tests/bench/profile.sh, docs/bench.md).
$(PROFILE): tests/bench/profile.c tests/bench/jitprof.c tests/bench/jitprof.h | $(BUILD)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) tests/bench/profile.c tests/bench/jitprof.c $(LDLIBS) -o $@

$(NAT_LOAD): tests/bench/nat-load.c | $(BUILD)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) tests/bench/nat-load.c -o $@

$(UPGRADE) $(BUILD)/bpf $(BUILD)/tests $(BUILD)/bench $(BUILD)/cli $(BUILD)/man:
	$(Q)mkdir -p $@

# make test's fuzz pass: short, so CI stays in budget; `make fuzz FUZZ_SECONDS=N` runs longer.
TEST_FUZZ_SECONDS ?= 10

test: deps
	$(Q)$(MAKE) format-check
	$(Q)$(MAKE) all
	$(call msg,TEST,unit)
	$(Q)$(SAN_CRITERION) $(TEST_UNIT) --jobs 2
	$(call msg,TEST,bpf fixtures)
	$(Q)$(SAN_CRITERION) $(TEST_BPF) --jobs 2
	$(call msg,TEST,fuzz (bounded: $(TEST_FUZZ_SECONDS) s per target))
	$(Q)$(MAKE) fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)
	$(call msg,TEST,end to end)
	$(Q)BUILD=$(abspath $(BUILD)) tests/e2e/run.sh

demo: deps
	$(Q)$(MAKE) all
	$(Q)BUILD=$(abspath $(BUILD)) tests/e2e/demo.sh

PREFIX  ?= /usr/local
DESTDIR ?=

# The binaries embed their BPF objects (skeletons); the .o files are for ip/xdp-loader.
install: all
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -D -m 0755 $(XLVSD) $(DESTDIR)$(PREFIX)/sbin/xlvsd
	$(Q)install -D -m 0755 $(XLVS) $(DESTDIR)$(PREFIX)/sbin/xlvs
	$(Q)install -D -m 0644 $(BUILD)/bpf/xlvs_decap.bpf.o $(DESTDIR)$(PREFIX)/lib/xlvs/xlvs_decap.bpf.o
	$(Q)install -D -m 0644 $(BUILD)/bpf/xlvs_lb.bpf.o $(DESTDIR)$(PREFIX)/lib/xlvs/xlvs_lb.bpf.o
	$(Q)install -D -m 0644 -t $(DESTDIR)$(PREFIX)/share/man/man8 $(filter %.8,$(MANS))
	$(Q)install -D -m 0644 -t $(DESTDIR)$(PREFIX)/share/man/man5 $(filter %.5,$(MANS))
	$(Q)sed "s,/usr/sbin/,$(PREFIX)/sbin/," loader/daemon/xlvsd.service | install -D -m 0644 /dev/stdin $(DESTDIR)/etc/systemd/system/xlvsd.service
	$(Q)install -D -m 0644 docs/examples/xlvs.yaml $(DESTDIR)/etc/xlvs/xlvs.yaml.example

demo-clean:
	$(Q)BUILD=$(abspath $(BUILD)) tests/e2e/demo.sh clean

# BASE=<commit>: that commit's packet bench against this tree's, interleaved (tests/bench/ab.sh);
# ROUNDS and BENCH_ARGS (e.g. --quick) pass through. Without BASE: every bench of this tree.
bench: deps
	$(Q)$(MAKE) all
ifneq ($(BASE),)
	$(Q)BUILD=$(abspath $(BUILD)) BASE=$(BASE) tests/bench/ab.sh
else
	$(Q)$(BENCH) --json $(BUILD)/bench.json
	$(Q)BUILD=$(abspath $(BUILD)) tests/bench/control.sh
	$(Q)BUILD=$(abspath $(BUILD)) tests/bench/health-bench.sh
	$(Q)BUILD=$(abspath $(BUILD)) tests/bench/nat-vs-nft.sh
endif

# ROW=<row>: perf's samples of that bench row's programs by source line (tests/bench/profile.sh,
# docs/bench.md "Profiling a row"); perf comes from Debian's linux-perf.
profile: DEB_PACKAGES += linux-perf
profile: deps $(BENCH) $(PROFILE)
	$(Q)BUILD=$(abspath $(BUILD)) ROW=$(ROW) CALLS=$(or $(CALLS),5000000) tests/bench/profile.sh

# The side-by-side alone (docs/bench.md): xlvs NAT against the kernel's nftables DNAT.
bench-nat: deps
	$(Q)$(MAKE) all
	$(Q)BUILD=$(abspath $(BUILD)) tests/bench/nat-vs-nft.sh

# vmtest: the unit and BPF fixture suites under Debian 12's own kernel (linux-image-amd64, 6.1)
# in qemu with TCG, the host's / shared read-only over 9p (vmtest/run.sh, docs/vmtest.md).
# Not part of `make test` (it takes minutes here). VMTEST_TIMEOUT, VMTEST_ARGS etc.: see run.sh.
.PHONY: vmtest vmtest-deps
vmtest-deps:
	$(Q)vmtest/run.sh deps

vmtest: deps vmtest-deps
	$(Q)$(MAKE) all
	$(Q)BUILD=$(abspath $(BUILD)) vmtest/run.sh

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)

# ---- fuzzing (tests/fuzz/, docs/reliability.md) ------------------------------
# `make fuzz`: every target for FUZZ_SECONDS (a CI-sized pass), seeds from
# tests/fuzz/corpus/<target>/, new inputs in $(BUILD)/fuzz/corpus/<target>/, crash
# artifacts in $(BUILD)/fuzz/; fails on any crash, sanitizer report or invariant.
# `make fuzz-seeds` rewrites the packet seeds from the fixture table.
FUZZ_SECONDS ?= 20
FUZZ_CC      ?= clang
FUZZ_FLAGS   ?=
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_CFLAGS  := -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-DXLVS_NO_CRITERION -Iinclude -Imaps -I$(BUILD)/bpf -Itests/bpf -Itests/fuzz
FUZZ_PKT_SRCS := tests/fuzz/fuzz_pkt.c tests/bpf/pktgen.c
FUZZ_TARGETS := lb decap config ctl import
# The config and control targets link the daemon's code built with the fuzzer's instrumentation.
FUZZ_LOADER_INC := -Iloader
FUZZ_LOADER_OBJS := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(LOADER_LIB_SRCS) $(MAPS_SRCS))
FUZZ_BINS    := $(patsubst %,$(FUZZ_DIR)/fuzz-%,$(FUZZ_TARGETS))

.PHONY: fuzz fuzz-seeds

$(FUZZ_DIR):
	$(Q)mkdir -p $@

$(FUZZ_DIR)/fuzz-lb: tests/fuzz/fuzz_lb.c $(FUZZ_PKT_SRCS) tests/fuzz/fuzz_pkt.h tests/bpf/world.c \
		     tests/bpf/world.h $(BPF_SKELS) $(LIBMAPS) | $(FUZZ_DIR)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $< $(FUZZ_PKT_SRCS) tests/bpf/world.c $(LIBMAPS) $(LDLIBS) -o $@

$(FUZZ_DIR)/fuzz-decap: tests/fuzz/fuzz_decap.c $(FUZZ_PKT_SRCS) tests/fuzz/fuzz_pkt.h $(BPF_SKELS) | $(FUZZ_DIR)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $< $(FUZZ_PKT_SRCS) $(LDLIBS) -o $@

$(FUZZ_DIR)/obj/%.o: %.c $(LOADER_HDRS) $(MAPS_HDRS) $(BPF_SKELS)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(dir $@) && $(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -Wno-string-plus-int $(FUZZ_LOADER_INC) -c $< -o $@

$(FUZZ_DIR)/fuzz-config $(FUZZ_DIR)/fuzz-ctl: $(FUZZ_DIR)/fuzz-%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_pkt.h \
		$(FUZZ_LOADER_OBJS) | $(FUZZ_DIR)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_LOADER_INC) $< $(FUZZ_LOADER_OBJS) $(DAEMON_LIBS) $(LDLIBS) -o $@

# The import target links the CLI (its readers and the parser loop) over the same loader objects.
FUZZ_CLI_OBJS := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(CLI_LIB_SRCS))
$(FUZZ_DIR)/obj/cli/%.o: FUZZ_LOADER_INC += -Icli -Iloader/config
$(FUZZ_DIR)/obj/cli/%.o: $(wildcard cli/*.h)

$(FUZZ_DIR)/fuzz-import: tests/fuzz/fuzz_import.c tests/fuzz/fuzz_pkt.h $(FUZZ_CLI_OBJS) $(FUZZ_LOADER_OBJS) | $(FUZZ_DIR)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_LOADER_INC) -Icli $< $(FUZZ_CLI_OBJS) $(FUZZ_LOADER_OBJS) \
		$(DAEMON_LIBS) $(CLI_LIBS) $(LDLIBS) -o $@

fuzz: $(FUZZ_BINS)
	$(Q)for t in $(FUZZ_TARGETS); do \
		printf '  %-8s %s (%ss)\n' FUZZ $$t $(FUZZ_SECONDS); \
		mkdir -p $(FUZZ_DIR)/corpus/$$t tests/fuzz/corpus/$$t; \
		$(FUZZ_DIR)/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_DIR)/$$t- $$(test -f tests/fuzz/$$t.dict && echo -dict=tests/fuzz/$$t.dict) \
			$(FUZZ_FLAGS) \
			$(FUZZ_DIR)/corpus/$$t tests/fuzz/corpus/$$t $$(test $$t = config && echo docs/examples) \
			> $(FUZZ_DIR)/$$t.log 2>&1 || \
			{ tail -40 $(FUZZ_DIR)/$$t.log; echo "fuzz: $$t failed, see $(FUZZ_DIR)/$$t.log" >&2; exit 1; }; \
		grep -E '^Done' $(FUZZ_DIR)/$$t.log | sed 's/^/           /'; \
	done

# Written over the corpus, not into an emptied one: the hand-made reproducers there stay (a seed of
# a fixture since renamed stays too: remove it by hand).
fuzz-seeds: $(TEST_BPF) $(FUZZ_DIR)/fuzz-lb
	$(Q)mkdir -p tests/fuzz/corpus/lb tests/fuzz/corpus/decap
	$(Q)XLVS_FUZZ_SEEDS=$(abspath tests/fuzz/corpus) $(TEST_BPF) --jobs 2 --filter 'fixtures/*' >/dev/null
	$(Q)XLVS_FUZZ_RING_SEEDS=tests/fuzz/corpus/lb $(FUZZ_DIR)/fuzz-lb # ring-state seeds from some of them

# Userspace C, formatted by .clang-format (kernel-like); `make test` runs the check first.
# bpf/ and include/ are not: clang-format 14 folds their X-macro tables and aligned #defines
# into something harder to read (docs/architecture.md, "Formatting").
FORMAT_DIRS := maps loader cli tests
# Quoted: git's pathspec '*' crosses '/', so sub-folders (maps/attach/) are included.
FORMAT_SRCS = $(shell git ls-files $(foreach d,$(FORMAT_DIRS),'$(d)/*.[ch]') 2>/dev/null || \
		find $(FORMAT_DIRS) -name '*.[ch]')

format-check:
	$(call msg,FORMAT,check)
	$(Q)clang-format --dry-run --Werror $(FORMAT_SRCS) || \
		{ echo "make format-check: run 'make format' (clang-format -i) and review the diff" >&2; exit 1; }

format:
	$(call msg,FORMAT,$(words $(FORMAT_SRCS)) files)
	$(Q)clang-format -i $(FORMAT_SRCS)
