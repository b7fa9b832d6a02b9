# Shared by rnsid's host scripts: where things live and which tools to use.
# Sourced, never run.

RNSID_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RNSID_CACHE=${RNSID_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rnsid}

# rustup's toolchain is usually first on PATH but has no rust-src; the kernel
# must see Debian's rustc-web, always.
RNSID_RUSTC=${RNSID_RUSTC:-/usr/bin/rustc}
RNSID_RUSTDOC=${RNSID_RUSTDOC:-/usr/bin/rustdoc}
RNSID_RUSTFMT=${RNSID_RUSTFMT:-/usr/bin/rustfmt}
RNSID_CLIPPY=${RNSID_CLIPPY:-/usr/bin/clippy-driver}
RNSID_BINDGEN=${RNSID_BINDGEN:-$RNSID_CACHE/tools/bin/bindgen}
export LIBCLANG_PATH=${LIBCLANG_PATH:-/usr/lib/llvm-19/lib}

# The make variables every kernel or module build gets. $1 is "clang" or "gcc".
rnsid_kmake_vars() {
	printf '%s\n' ARCH=x86_64 "RUSTC=$RNSID_RUSTC" "HOSTRUSTC=$RNSID_RUSTC" \
		"RUSTDOC=$RNSID_RUSTDOC" "RUSTFMT=$RNSID_RUSTFMT" \
		"CLIPPY_DRIVER=$RNSID_CLIPPY" "BINDGEN=$RNSID_BINDGEN"
	[ "$1" = clang ] && printf '%s\n' LLVM=-19
	return 0
}

# Which compiler a flavour is built with: KASAN with Rust needs clang.
rnsid_flavour_cc() {
	case "$1" in
	debug) echo clang ;;
	plain) echo gcc ;;
	*) echo "unknown FLAVOUR '$1' (want plain or debug)" >&2; return 2 ;;
	esac
}

# Patches are kept per series family: 7.2 and 7.3 share the 7.x hook.
rnsid_patch_dir() {
	case "$1" in
	6.12) echo "$RNSID_TOP/qemu/patches/6.12" ;;
	7.*) echo "$RNSID_TOP/qemu/patches/7.x" ;;
	*) echo "unknown KERNEL series '$1' (want 6.12, 7.2 or 7.3)" >&2; return 2 ;;
	esac
}

rnsid_die() {
	echo "rnsid: $*" >&2
	exit 1
}

# Runs "$@" with its output in $log, printing a progress line every 30 s so
# that a ten-minute step never looks hung. On failure shows the log's tail.
rnsid_run_logged() {
	local what=$1 log=$2 start pid rc last
	shift 2
	start=$SECONDS
	"$@" >"$log" 2>&1 &
	pid=$!
	while ! wait_timeout "$pid" 30; do
		last=$(tail -n 1 "$log" 2>/dev/null | cut -c1-100)
		printf '   [%s] %dm%02ds, %d lines: %s\n' "$what" $(((SECONDS - start) / 60)) \
			$(((SECONDS - start) % 60)) "$(wc -l <"$log")" "$last"
	done
	wait "$pid" && rc=0 || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "rnsid: $what failed (exit $rc); from $log:" >&2
		if grep -q -E -i 'error|\*\*\*' "$log"; then
			grep -E -i -B2 -A2 'error|\*\*\*' "$log" | tail -n 40 >&2
		else
			tail -n 40 "$log" >&2
		fi
		return "$rc"
	fi
	printf '   [%s] done in %dm%02ds\n' "$what" $(((SECONDS - start) / 60)) $(((SECONDS - start) % 60))
}

# True once $1 has exited; false if it still runs after $2 seconds.
wait_timeout() {
	local i
	for ((i = 0; i < $2; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 1
	done
	! kill -0 "$1" 2>/dev/null
}

# Whether the kernel built in $1 has kmemleak (the guest then scans for leaks).
rnsid_has_kmemleak() {
	grep -q '^CONFIG_DEBUG_KMEMLEAK=y' "$1/.config"
}
