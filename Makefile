# pidone — one entry point: deps, build, initrd, check, qemu-check, demo, bench, fuzz.
#
# Three builds of the same sources:
#   product  build/pidone      musl-gcc, static, -Os, stripped (the guest's /init)
#   host     build/pidonectl   the system compiler + glibc (host-side client)
#   test     build/test/...    glibc + AddressSanitizer/UBSan + cmocka
# Generated protobuf-c code goes to build/gen; the musl static libraries to build/sysroot.

VERSION     := 0.1.0
BUILD       := build
SYSROOT     := $(BUILD)/sysroot
GEN         := $(BUILD)/gen
KHEADERS    := $(BUILD)/kheaders
DEPS_STAMP  := $(BUILD)/.deps-done

MUSL_CC     ?= musl-gcc
HOST_CC     ?= cc
FUZZ_CC     ?= clang

WARN        := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wformat=2 \
               -Wno-format-truncation
CSTD        := -std=gnu11 -D_GNU_SOURCE -DPD_VERSION='"$(VERSION)"'
INCS        := -I. -I$(GEN)

# --- sources ---------------------------------------------------------------------------
PROTO_DIR   := agent/proto
PROTOS      := $(shell find $(PROTO_DIR) -name '*.proto' 2>/dev/null | sort)
PROTO_C     := $(patsubst $(PROTO_DIR)/%.proto,$(GEN)/%.pb-c.c,$(PROTOS))
PROTO_H     := $(PROTO_C:.c=.h)

# Everything of the agent except its main(): linked into pidone and into the unit tests.
AGENT_SRCS  := $(sort $(wildcard init/*.c agent/*.c agent/ttrpc/*.c agent/rpc/*.c agent/sandbox/*.c \
                 agent/net/*.c agent/guest/*.c agent/cgroup/*.c agent/device/*.c \
                 agent/container/*.c))
AGENT_SRCS  := $(filter-out agent/main.c,$(AGENT_SRCS))
MAIN_SRC    := agent/main.c
# The ttRPC client side: pidonectl, the integration test programs and the benchmarks.
CLIENT_SRCS := agent/error.c agent/log.c agent/ttrpc/frame.c agent/ttrpc/address.c \
               $(wildcard agent/ttrpc/client.c)
CTL_SRCS    := $(sort $(wildcard agent/ctl/*.c)) $(CLIENT_SRCS) agent/container/json_read.c
ITEST_PROGS := $(patsubst tests/integration/%.c,$(BUILD)/itest/%,$(wildcard tests/integration/*.c))
UNIT_TESTS  := $(patsubst tests/unit/%.c,$(BUILD)/test/%,$(wildcard tests/unit/test_*.c))
TEST_HELPERS:= $(wildcard tests/unit/helpers/*.c)

# --- flags -----------------------------------------------------------------------------
PROD_CFLAGS := $(CSTD) $(WARN) -Os -ffunction-sections -fdata-sections -isystem $(KHEADERS) \
               -I$(SYSROOT)/include $(INCS)
PROD_LDFLAGS:= -static -Wl,--gc-sections -s -L$(SYSROOT)/lib
PROD_LIBS   := -lprotobuf-c -lcap-ng -lseccomp
HOST_CFLAGS := $(CSTD) $(WARN) -O2 -g $(INCS)
HOST_LIBS   := -lprotobuf-c
TEST_CFLAGS := $(CSTD) $(WARN) -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
               -DPD_TESTING $(INCS) -Itests/unit -DPD_WIRE_DIR='"$(CURDIR)/tests/data/kata-wire"'
TEST_LIBS   := -lprotobuf-c -lcap-ng -lseccomp -lcmocka

# Keep intermediate objects (no rebuilds, no "rm" lines after the test summaries).
.SECONDARY:

.PHONY: all deps proto check unit integration fuzz-check fuzz-build qemu-check demo bench fuzz clean kernel \
        initrd size
all: $(BUILD)/pidone $(BUILD)/pidonectl initrd size

deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/deps.sh
	bash scripts/deps.sh $(BUILD)
	@touch $@

# --- protobuf-c ------------------------------------------------------------------------
proto: $(PROTO_C)
$(GEN)/.proto-done: $(PROTOS) | $(DEPS_STAMP)
	@mkdir -p $(GEN)
	protoc-c --c_out=$(GEN) -I$(PROTO_DIR) $(patsubst $(PROTO_DIR)/%,%,$(PROTOS))
	@touch $@
$(PROTO_C) $(PROTO_H): $(GEN)/.proto-done

# Removed headers that dependency files of builds made before -MP still name: an empty rule
# lets such a build go on (what names them is recompiled). Drop a line once no build that
# old is around.
agent/sandbox/hooks_run.h: ;

# --- product build (musl, static) ------------------------------------------------------
PROD_OBJS := $(patsubst %.c,$(BUILD)/musl/%.o,$(AGENT_SRCS) $(MAIN_SRC)) \
             $(patsubst $(GEN)/%.c,$(BUILD)/musl/gen/%.o,$(PROTO_C))
$(BUILD)/musl/gen/%.o: $(GEN)/%.c $(GEN)/.proto-done
	@mkdir -p $(dir $@)
	$(MUSL_CC) $(PROD_CFLAGS) -Wno-error -MMD -MP -c $< -o $@
$(BUILD)/musl/%.o: %.c $(GEN)/.proto-done | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(MUSL_CC) $(PROD_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/pidone: $(PROD_OBJS)
	$(MUSL_CC) $(PROD_LDFLAGS) -o $@ $^ $(PROD_LIBS)

size: $(BUILD)/pidone
	@file $(BUILD)/pidone | grep -q 'statically linked' || \
	  { echo "error: build/pidone is not statically linked"; exit 1; }
	@echo "pidone: $$(stat -c %s $(BUILD)/pidone) bytes, static"
	@[ ! -f $(BUILD)/pidone-initrd.img ] || \
	  echo "initrd: $$(stat -c %s $(BUILD)/pidone-initrd.img) bytes"

# --- host client (glibc) ---------------------------------------------------------------
HOST_OBJS := $(patsubst %.c,$(BUILD)/host/%.o,$(CTL_SRCS)) \
             $(patsubst $(GEN)/%.c,$(BUILD)/host/gen/%.o,$(PROTO_C))
$(BUILD)/host/gen/%.o: $(GEN)/%.c $(GEN)/.proto-done
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_CFLAGS) -Wno-error -MMD -MP -c $< -o $@
$(BUILD)/host/%.o: %.c $(GEN)/.proto-done
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/pidonectl: $(HOST_OBJS)
	$(HOST_CC) -o $@ $^ $(HOST_LIBS)

# The same client built static with musl, to run inside a guest (the vsock boot test puts it
# in the debug initrd and dials the agent's vsock listener through the loopback transport).
CTL_MUSL_OBJS := $(patsubst %.c,$(BUILD)/musl/%.o,$(CTL_SRCS)) \
                 $(patsubst $(GEN)/%.c,$(BUILD)/musl/gen/%.o,$(PROTO_C))
$(BUILD)/pidonectl-static: $(CTL_MUSL_OBJS)
	$(MUSL_CC) $(PROD_LDFLAGS) -o $@ $^ -lprotobuf-c
$(BUILD)/sockchat-static: tests/integration/sockchat.c | $(DEPS_STAMP)
	$(MUSL_CC) -static -Os -s $(CSTD) $(WARN) -DSOCKCHAT_VSOCK -isystem $(KHEADERS) -o $@ $<

CLIENT_OBJS := $(patsubst %.c,$(BUILD)/host/%.o,$(CLIENT_SRCS)) \
               $(patsubst $(GEN)/%.c,$(BUILD)/host/gen/%.o,$(PROTO_C))
$(BUILD)/itest/%: $(BUILD)/host/tests/integration/%.o $(CLIENT_OBJS)
	@mkdir -p $(dir $@)
	$(HOST_CC) -o $@ $^ $(HOST_LIBS)

# The test payload: a static multi-call program for test rootfs (tests/payload/pdtest.c).
$(BUILD)/pdtest: tests/payload/pdtest.c | $(DEPS_STAMP)
	$(MUSL_CC) -static -Os -s $(WARN) -o $@ $<

# --- guest kernel and initrds ----------------------------------------------------------
# The pidone guest kernel (kernel-config/): everything built in, cached outside the checkout
# under /var/cache/pidone/kernel/<hash of its inputs> (first build ~10 min on 2 cores). The
# test kernel adds kernel-config/test/*.conf (the vsock loopback transport, for the in-guest
# vsock boots only; an incremental rebuild of the same tree, docs/kernel.md).
KERNEL_DIR = $(shell bash kernel-config/build.sh --print-path)
KERNEL_TEST_DIR = $(shell bash kernel-config/build.sh --test --print-path)
kernel:
	@bash kernel-config/build.sh --print-path
	@bash kernel-config/build.sh --test --print-path

# build/pidone-initrd.img: for the pidone kernel (no modules). build/pidone-initrd-stock.img:
# for Debian's stock kernel, with the virtio/9p/vsock modules it needs.
initrd: $(BUILD)/pidone-initrd.img $(BUILD)/pidone-initrd-stock.img
$(BUILD)/pidone-initrd.img: $(BUILD)/pidone rootfs/mkinitrd.sh
	NO_MODULES=1 bash rootfs/mkinitrd.sh $(BUILD)/pidone $@
$(BUILD)/pidone-initrd-stock.img: $(BUILD)/pidone rootfs/mkinitrd.sh $(wildcard rootfs/*.list)
	bash rootfs/mkinitrd.sh $(BUILD)/pidone $@
# With busybox: for agent.debug_console (a shell on the console); and the static in-guest
# clients the vsock boot test runs from that shell (qemu-tests/vsock.sh).
$(BUILD)/pidone-initrd-debug.img: $(BUILD)/pidone rootfs/mkinitrd.sh $(BUILD)/pidonectl-static \
				  $(BUILD)/sockchat-static
	NO_MODULES=1 DEBUG_SHELL=1 \
	EXTRA_BINS="$(BUILD)/pidonectl-static:pidonectl $(BUILD)/sockchat-static:sockchat" \
		bash rootfs/mkinitrd.sh $(BUILD)/pidone $@

# --- tests -----------------------------------------------------------------------------
TEST_OBJS := $(patsubst %.c,$(BUILD)/test/obj/%.o,$(AGENT_SRCS) $(TEST_HELPERS)) \
             $(patsubst $(GEN)/%.c,$(BUILD)/test/obj/gen/%.o,$(PROTO_C))
$(BUILD)/test/obj/gen/%.o: $(GEN)/%.c $(GEN)/.proto-done
	@mkdir -p $(dir $@)
	$(HOST_CC) $(TEST_CFLAGS) -Wno-error -MMD -MP -c $< -o $@
$(BUILD)/test/obj/%.o: %.c $(GEN)/.proto-done
	@mkdir -p $(dir $@)
	$(HOST_CC) $(TEST_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/test/%: $(BUILD)/test/obj/tests/unit/%.o $(TEST_OBJS)
	$(HOST_CC) $(TEST_CFLAGS) -Wl,--wrap=_cmocka_run_group_tests -o $@ $^ $(TEST_LIBS)

# The agent itself under ASan/UBSan (glibc): the integration tests can run it (PIDONE=...).
$(BUILD)/pidone-asan: $(BUILD)/test/obj/agent/main.o $(TEST_OBJS)
	$(HOST_CC) $(TEST_CFLAGS) -o $@ $(filter-out $(BUILD)/test/obj/tests/unit/helpers/%,$^) $(TEST_LIBS)

unit: $(UNIT_TESTS)
	@bash tests/run-unit.sh $(UNIT_TESTS)

# Twice: the product binary, then the same agent under ASan/UBSan (sanitizer reports in its
# log fail the run).
integration: $(BUILD)/pidone $(BUILD)/pidone-asan $(BUILD)/pidonectl $(BUILD)/pdtest $(ITEST_PROGS)
	@bash tests/integration/run.sh $(BUILD)
	@PIDONE=$(CURDIR)/$(BUILD)/pidone-asan bash tests/integration/run.sh $(BUILD)

fuzz-check:
	@bash fuzz/run.sh short

# The boot test on the pidone kernel (PVH vmlinux) with cgroup v1 (+ CPU and memory hotplug),
# with the debug console, with cgroup v2 (+ CPU hotplug, virtio-fs), the vsock listeners
# reached from inside the guest on the test kernel (ttRPC + log port with the test-only
# agent.unsafe_vsock_loopback_peers; containers dialling the three vsock ports: answered with
# it, refused without it), containers dialling them on the product kernel (no transport),
# then on Debian's stock kernel + modules. The in-guest cgroup cases (qemu-tests/guest.sh)
# run in all but the debug-console boot.
QEMU_HOTPLUG := PD_SMP=1,maxcpus=2
qemu-check: all $(BUILD)/pdtest $(BUILD)/pidone-initrd-debug.img $(BUILD)/itest/sockchat \
            $(BUILD)/sockchat-static $(BUILD)/pidonectl-static $(BUILD)/itest/cgroups \
            $(BUILD)/itest/qmp
	@PD_KERNEL=$(KERNEL_DIR)/vmlinux PD_INITRD=$(BUILD)/pidone-initrd.img $(QEMU_HOTPLUG) \
		PD_MEM=512M,slots=2,maxmem=2G PD_HOTPLUG=cpu,mem bash qemu-tests/run.sh $(BUILD)
	@PD_KERNEL=$(KERNEL_DIR)/vmlinux PD_INITRD=$(BUILD)/pidone-initrd-debug.img \
		PD_GUEST_CGROUPS=0 PD_DEBUG_CONSOLE=1 EXTRA_APPEND=agent.debug_console \
		bash qemu-tests/run.sh $(BUILD)
	@PD_KERNEL=$(KERNEL_DIR)/vmlinux PD_INITRD=$(BUILD)/pidone-initrd.img $(QEMU_HOTPLUG) \
		PD_HOTPLUG=cpu PD_VIRTIOFS=1 EXTRA_APPEND=systemd.unified_cgroup_hierarchy=1 \
		bash qemu-tests/run.sh $(BUILD)
	@PD_KERNEL=$(KERNEL_TEST_DIR)/vmlinux bash qemu-tests/vsock.sh $(BUILD) ttrpc
	@PD_KERNEL=$(KERNEL_TEST_DIR)/vmlinux bash qemu-tests/vsock.sh $(BUILD) vport
	@PD_KERNEL=$(KERNEL_TEST_DIR)/vmlinux bash qemu-tests/vsock.sh $(BUILD) refuse
	@PD_KERNEL=$(KERNEL_DIR)/vmlinux bash qemu-tests/vsock.sh $(BUILD) noloop
	@PD_INITRD=$(BUILD)/pidone-initrd-stock.img bash qemu-tests/run.sh $(BUILD)

# Every test: unit (ASan/UBSan), host integration, a short fuzz run, the QEMU boot test; each
# suite runs to its end, then one total line (tests/check.sh).
check:
	@bash tests/check.sh

# The main job: build the initrd, boot it in QEMU, call it over ttRPC.
demo: all $(BUILD)/pdtest
	@PD_KERNEL=$(KERNEL_DIR)/vmlinux PD_INITRD=$(BUILD)/pidone-initrd.img \
		bash qemu-tests/demo.sh $(BUILD)

# The benchmark programs (bench/*.c): host builds linked with the ttRPC client, like the
# integration test programs. bench/run.sh builds the Go peer server itself.
BENCH_PROGS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
$(BUILD)/bench/%: $(BUILD)/host/bench/%.o $(CLIENT_OBJS)
	@mkdir -p $(dir $@)
	$(HOST_CC) -o $@ $^ $(HOST_LIBS) -lm -lpthread

bench: all $(BUILD)/pdtest $(BENCH_PROGS)
	@bash scripts/deps.sh --bench $(BUILD)
	@bash bench/run.sh $(BUILD)

fuzz:
	@bash fuzz/run.sh long

# --- fuzz targets (clang libFuzzer; fuzz/run.sh builds and runs them) ------------------
# fuzz/fuzz_X.c is target X; fuzz/X_*.c are its own helpers, fuzz/common_*.c everyone's;
# fuzz/fuzz_X.wrap (optional) lists symbols whose calls go to the target's __wrap_ versions.
# Every agent source and the generated code are compiled once with coverage and the
# sanitizers, into an archive: each link takes only the objects it needs. fuzz_dispatch
# replaces the connection and server and wraps the engine's side effects: docs/fuzzing.md.
FUZZ_CFLAGS := $(CSTD) -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
               -fno-sanitize-recover=undefined $(INCS) \
               -DPD_WIRE_DIR='"$(CURDIR)/tests/data/kata-wire"' -DPD_FUZZ_SEEDS='"$(CURDIR)/fuzz/seeds"'
FUZZ_LDFLAGS:= -fsanitize=fuzzer,address,undefined
FUZZ_WARN   := $(filter-out -Wno-format-truncation,$(WARN))
FUZZ_DIR    := $(BUILD)/fuzz
FUZZ_TARGETS:= $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_LIB_SRCS := $(AGENT_SRCS) agent/ctl/json_to_proto.c agent/ctl/bundle.c
FUZZ_LIB    := $(FUZZ_DIR)/libagent-fuzz.a
fuzz_helpers = $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(wildcard fuzz/$(1)_*.c fuzz/common_*.c))
fuzz_wraps   = $(if $(wildcard fuzz/fuzz_$(1).wrap),$(shell sed -e 's/\#.*//' -e '/^ *$$/d' \
                 -e 's/^ */-Wl,--wrap=/' fuzz/fuzz_$(1).wrap))
$(FUZZ_DIR)/obj/gen/%.o: $(GEN)/%.c $(GEN)/.proto-done
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -w -MMD -c $< -o $@
# The agent's own warnings are gcc's business (the product build); clang's differ.
$(FUZZ_DIR)/obj/fuzz/%.o: fuzz/%.c $(GEN)/.proto-done
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_WARN) -Wno-format-nonliteral -MMD -c $< -o $@
$(FUZZ_DIR)/obj/%.o: %.c $(GEN)/.proto-done
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -w -MMD -c $< -o $@
$(FUZZ_LIB): $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_LIB_SRCS)) \
             $(patsubst $(GEN)/%.c,$(FUZZ_DIR)/obj/gen/%.o,$(PROTO_C))
	@rm -f $@
	ar rcs $@ $^
.SECONDEXPANSION:
$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/fuzz/fuzz_%.o $$(call fuzz_helpers,$$*) $(FUZZ_LIB) \
                    $$(wildcard fuzz/fuzz_$$*.wrap)
	$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $< $(call fuzz_helpers,$*) $(call fuzz_wraps,$*) \
	  $(FUZZ_LIB) -lprotobuf-c -lcap-ng -lseccomp
fuzz-build: $(addprefix $(FUZZ_DIR)/fuzz_,$(FUZZ_TARGETS))

# The same targets built for source-based coverage (no sanitizers): fuzz/run.sh long runs
# each over its corpus and reports the lines covered per source file (llvm-cov).
FUZZ_COV_DIR    := $(BUILD)/fuzz-cov
FUZZ_COV_CFLAGS := $(CSTD) -g -O1 -fprofile-instr-generate -fcoverage-mapping $(INCS) \
                   -DPD_WIRE_DIR='"$(CURDIR)/tests/data/kata-wire"' -DPD_FUZZ_SEEDS='"$(CURDIR)/fuzz/seeds"'
FUZZ_COV_LIB    := $(FUZZ_COV_DIR)/libagent-cov.a
$(FUZZ_COV_DIR)/obj/gen/%.o: $(GEN)/%.c $(GEN)/.proto-done
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_COV_CFLAGS) -w -MMD -c $< -o $@
$(FUZZ_COV_DIR)/obj/%.o: %.c $(GEN)/.proto-done
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_COV_CFLAGS) -w -MMD -c $< -o $@
$(FUZZ_COV_LIB): $(patsubst %.c,$(FUZZ_COV_DIR)/obj/%.o,$(FUZZ_LIB_SRCS)) \
                 $(patsubst $(GEN)/%.c,$(FUZZ_COV_DIR)/obj/gen/%.o,$(PROTO_C))
	@rm -f $@
	ar rcs $@ $^
fuzz_cov_helpers = $(patsubst %.c,$(FUZZ_COV_DIR)/obj/%.o,$(wildcard fuzz/$(1)_*.c fuzz/common_*.c))
$(FUZZ_COV_DIR)/fuzz_%: $(FUZZ_COV_DIR)/obj/fuzz/fuzz_%.o $$(call fuzz_cov_helpers,$$*) \
                        $(FUZZ_COV_LIB) $$(wildcard fuzz/fuzz_$$*.wrap)
	$(FUZZ_CC) -fsanitize=fuzzer -fprofile-instr-generate -o $@ $< $(call fuzz_cov_helpers,$*) \
	  $(call fuzz_wraps,$*) $(FUZZ_COV_LIB) -lprotobuf-c -lcap-ng -lseccomp

clean:
	rm -rf $(BUILD)/musl $(BUILD)/host $(BUILD)/test $(GEN) $(BUILD)/pidone \
	       $(BUILD)/pidonectl $(BUILD)/pidone-initrd.img $(BUILD)/pidonectl-static \
	       $(BUILD)/sockchat-static

-include $(shell find $(BUILD) -name '*.d' -type f 2>/dev/null)
