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
CHECK_FLAVOURS ?= debug plain
CHECK_DEBUG_MODES ?= all
SEED ?=
N ?= 200
SCENARIOS ?= 4
COMPARE_KERNELS ?= 6.12 7.3
export RNSID_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/rnsid

kernel_args = $(if $(KDIR),--kdir $(KDIR),--kernel $(KERNEL) --flavour $(FLAVOUR))

.PHONY: all module deps kernel run check compare fmt clean cache-clean help

all: module

module: deps
	@scripts/build-module $(kernel_args) $(if $(CLIPPY),--clippy) \
		$(if $(RNSID_BREAK),--break $(RNSID_BREAK))

deps:
	@scripts/setup

kernel: deps
	@scripts/build-kernel $(KERNEL) $(FLAVOUR)

run:
	@scripts/run $(kernel_args) --accel $(QEMU_ACCEL)

check:
	@scripts/check --kernels "$(CHECK_KERNELS)" --flavours "$(CHECK_FLAVOURS)" \
		--debug-modes "$(CHECK_DEBUG_MODES)" --accel $(QEMU_ACCEL) \
		$(if $(RNSID_BREAK),--break $(RNSID_BREAK))

compare:
	@scripts/compare $(if $(SEED),--seed $(SEED)) --n $(N) --scenarios $(SCENARIOS) \
		--kernels "$(COMPARE_KERNELS)" --flavour $(FLAVOUR) --accel $(QEMU_ACCEL) \
		$(if $(RNSID_BREAK),--break $(RNSID_BREAK))

fmt:
	@/usr/bin/rustfmt --config-path .rustfmt.toml rust/*.rs
	@/usr/bin/rustfmt --edition 2021 qemu/nsid-tools/src/lib.rs qemu/nsid-tools/src/bin/*.rs

clean:
	rm -rf out

cache-clean:
	rm -rf $(RNSID_CACHE)/build $(RNSID_CACHE)/src

help:
	@echo 'rnsid: network-namespace id teardown in Rust, on test kernels under QEMU'
	@echo
	@echo 'Targets:'
	@echo '  run          set up, build kernel + module, boot, load rnsid and demonstrate it'
	@echo '  check        every test (host, guest on each CHECK_KERNELS, harness); ends "N passed, N failed"'
	@echo '  compare      every Rust mode vs the in-tree C on generated workloads (SEED, N, SCENARIOS);'
	@echo '               table on stdout, JSON in out/compare/'
	@echo '  all, module  build rnsid.ko (default target); prints its path'
	@echo '  kernel       build (or find cached) the test kernel KERNEL/FLAVOUR; prints its dir'
	@echo '  deps         install missing Debian packages and bindgen-cli'
	@echo '  fmt          rustfmt the module and nsid-tools sources in place'
	@echo '  clean        remove out/;  cache-clean: remove cached kernel sources and builds'
	@echo
	@echo 'Variables (current value):'
	@echo '  KERNEL=$(KERNEL)          test kernel series: 6.12, 7.3 or 7.2'
	@echo '  FLAVOUR=$(FLAVOUR)        plain (gcc) or debug (clang-19; KASAN, lockdep, kmemleak, failslab)'
	@echo '  KDIR=$(KDIR)              build against this Rust-enabled kernel build tree instead'
	@echo '  QEMU_ACCEL=$(QEMU_ACCEL)  auto (KVM only if a time-boxed probe works, else TCG), kvm or tcg'
	@echo '  CLIPPY=$(CLIPPY)          1: build the module with clippy; any warning fails'
	@echo '  RNSID_BREAK=$(RNSID_BREAK)  panic, oob, symbol (harness) or skip_id0, short_walk (compare): a broken module'
	@echo '  CHECK_KERNELS=$(CHECK_KERNELS)  series `make check` tests'
	@echo '  CHECK_FLAVOURS=$(CHECK_FLAVOURS)  flavours `make check` tests'
	@echo '  CHECK_DEBUG_MODES=$(CHECK_DEBUG_MODES)  modes the scenarios run in on debug kernels (all: every mode the kernel has)'
	@echo '  SEED=$(SEED)  N=$(N)  SCENARIOS=$(SCENARIOS)  COMPARE_KERNELS=$(COMPARE_KERNELS)'
	@echo '               make compare: first seed (default random), nets per scenario (N or LO-HI),'
	@echo '               scenarios per kernel, series compared'
	@echo '  RNSID_CACHE=$(RNSID_CACHE)'
	@echo '               where kernel sources, builds and bindgen are cached'
