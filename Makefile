# SPDX-License-Identifier: GPL-2.0
#
# rnsid: `make run` shows it, `make check` tests it. `make help` lists the rest.
# (The module itself is built by kbuild from the Kbuild file.)

KERNEL ?= 6.12
FLAVOUR ?= plain
KDIR ?=
QEMU_ACCEL ?= auto
CLIPPY ?=
RNSID_BREAK ?=
CHECK_KERNELS ?= 6.12 7.3
CMD ?=
TESTS ?=
CHECK_FLAVOURS ?= debug plain
CHECK_DEBUG_MODES ?= auto
SEED ?=
N ?= 200
SCENARIOS ?= 4
COMPARE_KERNELS ?= 6.12 7.3
BENCH_KERNELS ?= 6.12 7.3
QUICK ?=
R ?=
NETS ?=
DURATION ?=
FAULTS ?=
KERNELS ?= 6.12 7.3
export RNSID_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/rnsid

kernel_args = $(if $(KDIR),--kdir $(KDIR),--kernel $(KERNEL) --flavour $(FLAVOUR))

# The variables each target reads. `vars`, the first prerequisite of every
# target that installs, builds or boots, refuses a wrong one in a line before
# any of that starts (scripts/check-vars; the scripts check their options too).
vars.module = KDIR KERNEL FLAVOUR CLIPPY RNSID_BREAK RNSID_CACHE
vars.all = $(vars.module)
vars.deps = RNSID_CACHE
vars.kernel = KERNEL FLAVOUR RNSID_CACHE
vars.run = KDIR KERNEL FLAVOUR QEMU_ACCEL RNSID_CACHE
vars.vng = KDIR KERNEL FLAVOUR QEMU_ACCEL RNSID_BREAK CMD RNSID_CACHE
vars.vng-check = KDIR KERNEL FLAVOUR QEMU_ACCEL RNSID_BREAK TESTS RNSID_CACHE
vars.check = CHECK_KERNELS CHECK_FLAVOURS CHECK_DEBUG_MODES QEMU_ACCEL RNSID_BREAK RNSID_CACHE
vars.compare = SEED N SCENARIOS COMPARE_KERNELS FLAVOUR QEMU_ACCEL RNSID_BREAK RNSID_CACHE
vars.bench = BENCH_KERNELS QUICK R FLAVOUR QEMU_ACCEL RNSID_CACHE
vars.soak = SEED NETS DURATION FAULTS KERNELS FLAVOUR QEMU_ACCEL RNSID_BREAK RNSID_CACHE
vars.cache-clean = RNSID_CACHE
# A value in single quotes for the shell, whatever it holds.
quote = '$(subst ','\'',$(1))'

.PHONY: all module deps kernel run vng vng-check check compare bench soak fmt clean cache-clean help vars

all: module

module: vars deps
	@scripts/build-module $(kernel_args) $(if $(filter 1,$(CLIPPY)),--clippy) \
		$(if $(RNSID_BREAK),--break $(RNSID_BREAK))

deps: vars
	@scripts/setup

vars:
	@scripts/check-vars $(foreach v,$(sort $(foreach g,$(or $(MAKECMDGOALS),all),$(vars.$(g)))),$(v)=$(call quote,$($(v))))

kernel: vars deps
	@scripts/build-kernel $(KERNEL) $(FLAVOUR)

run: vars
	@scripts/run $(kernel_args) --accel $(QEMU_ACCEL)

# virtme-ng: the guest's root is the host's (scripts/vng, Documentation/vng.rst).
vng_args = $(kernel_args) --accel $(QEMU_ACCEL) $(if $(RNSID_BREAK),--break $(RNSID_BREAK))

vng: vars
	@scripts/vng $(vng_args) $(if $(CMD),--cmd $(call quote,$(CMD)))

vng-check: vars
	@scripts/vng --job check $(vng_args) $(if $(TESTS),--tests $(call quote,$(TESTS)))

check: vars
	@scripts/check --kernels "$(CHECK_KERNELS)" --flavours "$(CHECK_FLAVOURS)" \
		--debug-modes "$(CHECK_DEBUG_MODES)" --accel $(QEMU_ACCEL) \
		$(if $(RNSID_BREAK),--break $(RNSID_BREAK))

compare: vars
	@scripts/compare $(if $(SEED),--seed $(SEED)) --n $(N) --scenarios $(SCENARIOS) \
		--kernels "$(COMPARE_KERNELS)" --flavour $(FLAVOUR) --accel $(QEMU_ACCEL) \
		$(if $(RNSID_BREAK),--break $(RNSID_BREAK))

bench: vars
	@scripts/bench --kernels "$(BENCH_KERNELS)" --flavour $(FLAVOUR) --accel $(QEMU_ACCEL) \
		$(if $(filter 1,$(QUICK)),--quick) $(if $(R),--reps $(R))

# Debug kernels unless FLAVOUR is given (the default flavour of the others is plain).
soak: vars
	@scripts/soak $(if $(SEED),--seed $(SEED)) $(if $(NETS),--nets $(NETS)) \
		$(if $(DURATION),--duration $(DURATION)) $(if $(FAULTS),--faults $(FAULTS)) --kernels "$(KERNELS)" \
		--flavour $(if $(filter command line environment,$(origin FLAVOUR)),$(FLAVOUR),debug) \
		--accel $(QEMU_ACCEL) $(if $(RNSID_BREAK),--break $(RNSID_BREAK))

fmt:
	@/usr/bin/rustfmt --config-path .rustfmt.toml rust/*.rs
	@/usr/bin/rustfmt --edition 2021 qemu/nsid-tools/src/lib.rs qemu/nsid-tools/src/bin/*.rs

clean:
	rm -rf out

cache-clean: vars
	rm -rf $(call quote,$(RNSID_CACHE))/build $(call quote,$(RNSID_CACHE))/src $(call quote,$(RNSID_CACHE))/nsid-tools

help:
	@echo 'rnsid: network-namespace id teardown in Rust, on test kernels under QEMU'
	@echo
	@echo 'Targets:'
	@echo '  run          set up, build kernel + module, boot, load rnsid and demonstrate it'
	@echo '  vng          boot the test kernel under virtme-ng (the host'"'"'s root and tools), load'
	@echo '               rnsid.ko; run the demo, or CMD as root in this directory (CMD=sh: a shell)'
	@echo '  vng-check    the guest scenarios (TESTS, default all) under virtme-ng, judged as in check'
	@echo '  check        every test (host, guest on each CHECK_KERNELS, harness); ends "N passed, N failed"'
	@echo '  compare      every Rust mode vs the in-tree C on generated workloads (SEED, N, SCENARIOS);'
	@echo '               table on stdout, JSON in out/compare/'
	@echo '  bench        what each mode costs vs the in-tree C: step time swept over L dying nets'
	@echo '               x M survivors, latency under load, end to end (BENCH_KERNELS, QUICK, R);'
	@echo '               tables on stdout, JSON and PNG plots in out/bench/'
	@echo '  soak         long random churn per kernel (SEED, NETS or DURATION, KERNELS; debug kernels'
	@echo '               unless FLAVOUR is given), judged by an oracle and the console; JSON in out/soak/'
	@echo '  all, module  build rnsid.ko (default target); prints its path'
	@echo '  kernel       build (or find cached) the test kernel KERNEL/FLAVOUR; prints its dir'
	@echo '  deps         install missing Debian packages and bindgen-cli'
	@echo '  fmt          rustfmt the module and nsid-tools sources in place'
	@echo '  clean        remove out/;  cache-clean: remove cached kernel sources and builds'
	@echo '               and nsid-tools'"'"' cargo build'
	@echo
	@echo 'Variables (current value; a wrong one is refused in one line before anything starts):'
	@echo '  KERNEL=$(KERNEL)          test kernel series: 6.12, 7.3 or 7.2'
	@echo '  FLAVOUR=$(FLAVOUR)        plain (gcc) or debug (clang-19; KASAN, lockdep, kmemleak, failslab)'
	@echo '  KDIR=$(KDIR)              build against this kernel tree instead: 6.12 or 7.x, built, CONFIG_RUST=y'
	@echo '  QEMU_ACCEL=$(QEMU_ACCEL)  auto (KVM only if a time-boxed probe works, else TCG), tcg,'
	@echo '               or kvm (refused without VMX or SVM, or without a /dev/kvm this user can open)'
	@echo '  CLIPPY=$(CLIPPY)          1: build the module with clippy; any warning fails (0 or empty: without)'
	@echo '  RNSID_BREAK=$(RNSID_BREAK)  panic, oob, symbol (harness) or skip_id0, short_walk (compare, soak), silent_fail (soak): a broken module'
	@echo '  CMD=$(CMD)                make vng: a command to run in the guest instead of the demo'
	@echo '  TESTS=$(TESTS)            make vng-check: a glob of qemu/tests names (e.g. 40-mesh), default all'
	@echo '  CHECK_KERNELS=$(CHECK_KERNELS)  series `make check` tests (some of 6.12 7.2 7.3)'
	@echo '  CHECK_FLAVOURS=$(CHECK_FLAVOURS)  flavours `make check` tests (some of debug plain)'
	@echo '  CHECK_DEBUG_MODES=$(CHECK_DEBUG_MODES)  modes the scenarios run in on debug kernels:'
	@echo '               auto (relocated on 6.12, batched on 7.x, and shadow: the C step of c too),'
	@echo '               all (every mode the kernel has) or a list such as "relocated shadow"'
	@echo '  SEED=$(SEED)  N=$(N)  SCENARIOS=$(SCENARIOS)  COMPARE_KERNELS=$(COMPARE_KERNELS)'
	@echo '               make compare: first seed (default random; decimal or 0x hex below 2^64),'
	@echo '               nets per scenario (N or LO-HI, 1 <= LO <= HI <= 1000), scenarios per kernel'
	@echo '               (1 to 1000000), series compared (some of 6.12 7.2 7.3)'
	@echo '  BENCH_KERNELS=$(BENCH_KERNELS)  QUICK=$(QUICK)  R=$(R)'
	@echo '               make bench: series measured (some of 6.12 7.2 7.3), QUICK=1 for a few'
	@echo '               small points (minutes), repetitions per point (1 to 100; default 5, quick 2)'
	@echo '  NETS=$(NETS)  DURATION=$(DURATION)  KERNELS=$(KERNELS)'
	@echo '               make soak: nets created per kernel (1 to 1000000; default 10000), or seconds'
	@echo '               of churn instead (1 to 604800), series soaked (some of 6.12 7.2 7.3); SEED too'
	@echo '  FAULTS=$(FAULTS)'
	@echo '               make soak: percent of batches that die with faults injected (0 to 100;'
	@echo '               default 50 on debug kernels: failslab aimed at the nsid step; 0 on plain)'
	@echo '  RNSID_CACHE=$(RNSID_CACHE)'
	@echo '               where kernel sources and builds, bindgen and the nsid-tools build are'
	@echo '               cached: an absolute path, no spaces or colons (kbuild refuses them),'
	@echo '               writable or creatable'
