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

# rnsid_apt_state SUITE [deb-src]: set RNSID_APT to the apt options of a
# private apt state for Debian's SUITE (its binary packages, or with deb-src
# its sources) under $RNSID_CACHE/apt (and RNSID_APT_ARCHIVES to
# where it downloads), its index refreshed at most once a day. Only for
# downloading .debs: the system's apt sources are never touched, since
# installing from sid or trixie into bookworm drags in a foreign libc. The
# mirror is whatever this machine already uses: the security archive for
# *-security suites, the main archive for everything else.
rnsid_apt_state() {
	local suite=$1 type=${2:-deb} kind=main mirror state stamp
	case "$suite" in *-security) kind=security ;; esac
	mirror=$(rnsid_apt_mirror "$kind") ||
		rnsid_die "no Debian $kind mirror in this machine's apt configuration"
	state=$RNSID_CACHE/apt/$suite
	[ "$type" = deb ] || state=$state-src
	mkdir -p "$state/lists/partial" "$state/archives/partial" "$state/parts" "$state/prefs"
	echo "$type [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" \
		>"$state/sources.list"
	RNSID_APT_ARCHIVES=$state/archives
	RNSID_APT=(
		-o "Dir::State=$state"
		-o "Dir::State::Lists=$state/lists"
		-o "Dir::State::status=/dev/null"
		-o "Dir::Cache=$state"
		-o "Dir::Cache::Archives=$state/archives"
		-o "Dir::Etc::SourceList=$state/sources.list"
		-o "Dir::Etc::SourceParts=$state/parts"
		-o "Dir::Etc::PreferencesParts=$state/prefs"
		-o "APT::Get::List-Cleanup=false"
		-o "Acquire::Check-Valid-Until=false"
		-o "Debug::NoLocking=true"
		-o "APT::Sandbox::User=root"
	)
	# sid and backports move, but a build should not depend on the minute it
	# was started.
	stamp=$state/updated
	if [ ! -e "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440)" ]; then
		echo ">> apt index for $suite (private state $state)" >&2
		apt-get "${RNSID_APT[@]}" -qq update >&2 ||
			rnsid_die "cannot read the $suite index from the machine's mirror"
		touch "$stamp"
	fi
}

# rnsid_apt_newest PACKAGE: its newest version in the current private state
# (with deb-src, of the source package).
rnsid_apt_newest() {
	apt-cache "${RNSID_APT[@]}" madison "$1" 2>/dev/null |
		awk -F'|' '{gsub(/ /, "", $2); print $2}' | sort -V | tail -n1
}

# rnsid_apt_download PACKAGE VERSION ARCH: print the path of PACKAGE's .deb
# in the current private state's archive, downloading it first if missing.
rnsid_apt_download() {
	local pkg=$1 version=$2 arch=$3 deb
	deb=$RNSID_APT_ARCHIVES/${pkg}_${version//:/%3a}_$arch.deb
	if [ ! -f "$deb" ]; then
		echo ">> downloading $pkg $version" >&2
		(cd "$RNSID_APT_ARCHIVES" && apt-get "${RNSID_APT[@]}" -qq download "$pkg=$version" >&2) ||
			rnsid_die "cannot download $pkg $version"
		[ -f "$deb" ] || rnsid_die "apt-get download left no $deb"
	fi
	echo "$deb"
}

# rnsid_apt_mirror main|security: the Debian mirror this machine's apt uses.
rnsid_apt_mirror() {
	python3 - "$1" <<'PY'
import glob, sys
want = sys.argv[1]
for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    for stanza in open(path).read().split("\n\n"):
        fields = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line:
                continue
            k, v = line.split(":", 1)
            fields[k.strip().lower()] = v.split()
        suites = fields.get("suites", [])
        if "deb" not in fields.get("types", []):
            continue
        security = any(s.endswith("-security") for s in suites)
        if security == (want == "security") and fields.get("uris"):
            print(fields["uris"][0])
            sys.exit(0)
for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        words = [w for w in line.split() if not w.startswith("[")]
        if len(words) >= 3 and words[0] == "deb" and "debian" in words[1]:
            security = words[2].endswith("-security")
            if security == (want == "security"):
                print(words[1])
                sys.exit(0)
sys.exit(1)
PY
}

# Whether SERIES FLAVOUR's kernel runs the upstream selftests (the upstream
# job, qemu/upstream.list): only 7.x ships one that sets or lists nsids, and
# the plain flavour carries the drivers it needs (qemu/config/upstream.config).
rnsid_runs_upstream() {
	case "$1-$2" in
	7.*-plain) return 0 ;;
	*) return 1 ;;
	esac
}

# rnsid_boot_args KDIR APPEND: what a guest boot of KDIR adds to the job's
# command line APPEND. IPv6, built in only for the upstream selftests, is
# switched off for every other job, so that the nsid scenarios' namespaces do
# not pay for it.
rnsid_boot_args() {
	case " $2 " in *" rnsid.job=upstream "*) return 0 ;; esac
	grep -q '^CONFIG_IPV6=y' "$1/.config" && echo "ipv6.disable=1"
	return 0
}

# rnsid_boot KDIR INITRD APPEND [OPTION...]: boot KDIR's kernel on INITRD
# under qemu/run-qemu (which takes the OPTIONs: --accel, --log-dir, ...), with
# APPEND (rnsid.job=... and the job's arguments) on the kernel command line.
rnsid_boot() {
	local kdir=$1 initrd=$2 append=$3
	shift 3
	"$RNSID_TOP/qemu/run-qemu" --kernel "$kdir/arch/x86/boot/bzImage" --initrd "$initrd" \
		--append "$append $(rnsid_boot_args "$kdir" "$append")" "$@"
}

# --- What a user asked for, checked before anything slow ---------------------
# rnsid_want_KIND NAME VALUE: 0 if VALUE is acceptable; otherwise one line on
# stderr naming NAME (the make variable, or the script's option, as the user
# spelled it), VALUE and what is accepted, and status 2 (a usage error).
# scripts/check-vars (for the Makefile) and every script's option parsing
# call them before setup, builds or boots, so that a typo costs a second,
# not a 2 GB install or a ten-minute kernel build. Callers add `|| exit 2`.

RNSID_SERIES=(6.12 7.2 7.3)
RNSID_FLAVOURS=(plain debug)
RNSID_MODES=(c relocated legacy batched shadow floor)
RNSID_BREAKS=(panic oob symbol skip_id0 short_walk silent_fail)

# rnsid_refuse NAME VALUE WHY WANT
rnsid_refuse() {
	echo "rnsid: $1 '$2' $3 (want $4)" >&2
	return 2
}

# rnsid_or WORD...: "a, b or c".
rnsid_or() {
	local out=$1
	shift
	while [ $# -gt 1 ]; do out="$out, $1"; shift; done
	[ $# -eq 0 ] || out="$out or $1"
	echo "$out"
}

# rnsid_one_of VALUE WORD...: whether VALUE is one of the WORDs.
rnsid_one_of() {
	local v=$1 w
	shift
	for w; do [ "$v" = "$w" ] && return 0; done
	return 1
}

# rnsid_want_list NAME VALUE WHAT WANT SEP WORD...: VALUE is a non-empty list
# of distinct WORDs separated by SEP (" " or ",").
rnsid_want_list() {
	local name=$1 value=$2 what=$3 want=$4 sep=$5 w words seen=()
	shift 5
	IFS="$sep"$'\n\t' read -r -d '' -a words <<<"$value" || true
	[ ${#words[@]} -gt 0 ] || { rnsid_refuse "$name" "$value" "is empty" "$want"; return; }
	for w in "${words[@]}"; do
		rnsid_one_of "$w" "$@" || { rnsid_refuse "$name" "$value" "has '$w', not a $what" "$want"; return; }
		! rnsid_one_of "$w" ${seen[@]+"${seen[@]}"} ||
			{ rnsid_refuse "$name" "$value" "has '$w' twice" "$want"; return; }
		seen+=("$w")
	done
}

rnsid_want_series() {
	rnsid_one_of "$2" "${RNSID_SERIES[@]}" ||
		rnsid_refuse "$1" "$2" "is not a test kernel series" "$(rnsid_or "${RNSID_SERIES[@]}")"
}

rnsid_want_series_list() {
	rnsid_want_list "$1" "$2" "test kernel series" \
		"some of ${RNSID_SERIES[*]}, separated by spaces" " " "${RNSID_SERIES[@]}"
}

rnsid_want_flavour() {
	rnsid_one_of "$2" "${RNSID_FLAVOURS[@]}" ||
		rnsid_refuse "$1" "$2" "is not a kernel flavour" "$(rnsid_or "${RNSID_FLAVOURS[@]}")"
}

rnsid_want_flavour_list() {
	rnsid_want_list "$1" "$2" "kernel flavour" \
		"some of ${RNSID_FLAVOURS[*]}, separated by spaces" " " "${RNSID_FLAVOURS[@]}"
}

# The modes the guest scenarios run in (CHECK_DEBUG_MODES): auto or all
# alone, or a list separated by spaces.
rnsid_want_modes() {
	rnsid_one_of "$2" auto all && return 0
	rnsid_want_list "$1" "$2" "mode" "auto or all alone, or some of ${RNSID_MODES[*]}, separated by spaces" \
		" " "${RNSID_MODES[@]}"
}

# rnsid_debug_auto_modes SERIES: the modes of CHECK_DEBUG_MODES=auto, the
# scripted scenarios' modes under KASAN, lockdep and kmemleak: the Rust port
# of the series' own C scheme (relocated on 6.x, batched on 7.x) and shadow,
# which runs the in-tree C step with rnsid's check beside it. The other modes
# are there too, in 55-soak's 200 nets, which must give every mode batches of
# its own; the plain kernels run the scenarios in every mode.
rnsid_debug_auto_modes() {
	case "$1" in
	6.*) echo "relocated shadow" ;;
	*) echo "batched shadow" ;;
	esac
}

# nsid-compare's --modes: a list separated by commas; empty is every mode.
rnsid_want_modes_csv() {
	[ -z "$2" ] && return 0
	rnsid_want_list "$1" "$2" "mode" "some of ${RNSID_MODES[*]}, separated by commas" \
		"," "${RNSID_MODES[@]}"
}

# Empty is the real module.
rnsid_want_break() {
	[ -z "$2" ] || rnsid_one_of "$2" "${RNSID_BREAKS[@]}" ||
		rnsid_refuse "$1" "$2" "is not a deliberate fault" \
			"$(rnsid_or "${RNSID_BREAKS[@]}"), or empty for the real module"
}

# kvm is refused where it cannot help: without a usable /dev/kvm QEMU fails
# at the first boot, and without VMX or SVM /dev/kvm is kvm_pvm, which runs
# the guests far slower than TCG or hangs them (qemu/run-qemu, kvm_usable).
rnsid_want_accel() {
	rnsid_one_of "$2" auto kvm tcg ||
		{ rnsid_refuse "$1" "$2" "is not a QEMU accelerator" "auto, kvm or tcg"; return; }
	[ "$2" = kvm ] || return 0
	[ -r /dev/kvm ] && [ -w /dev/kvm ] ||
		{ rnsid_refuse "$1" "$2" "needs /dev/kvm, which is missing or closed to this user" "auto or tcg"; return; }
	grep -q -E '^flags.*:.* (vmx|svm)( |$)' /proc/cpuinfo ||
		rnsid_refuse "$1" "$2" "needs a CPU with VMX or SVM, which this one lacks" "auto or tcg"
}

# Which scenarios of qemu/tests a guest runs (rnsid.tests=GLOB on its command
# line): a glob of their names without .sh, matching one at least.
rnsid_want_tests() {
	local want="a glob of qemu/tests' names without .sh, e.g. 40-mesh or '4*'" f
	[[ "$2" =~ ^[][A-Za-z0-9_.*?-]+$ ]] || { rnsid_refuse "$1" "$2" "is not a glob of scenario names" "$want"; return; }
	for f in "$RNSID_TOP"/qemu/tests/$2.sh; do
		[ -e "$f" ] && return 0
	done
	rnsid_refuse "$1" "$2" "matches no scenario" "$want"
}

# A switch: 1 on; 0 or empty off.
rnsid_want_bool() {
	rnsid_one_of "$2" "" 0 1 || rnsid_refuse "$1" "$2" "is not a switch" "1 for on, 0 or empty for off"
}

# rnsid_below_u64 DIGITS: whether the decimal DIGITS are below 2^64, checked
# in two halves since bash's arithmetic is signed 64-bit.
rnsid_below_u64() {
	local d
	[[ "$1" =~ ^0*([0-9]*)$ ]] || return 1
	d=${BASH_REMATCH[1]}
	[ ${#d} -le 19 ] && return 0
	[ ${#d} -eq 20 ] || return 1
	((10#${d:0:10} < 1844674407 || (10#${d:0:10} == 1844674407 && 10#${d:10} <= 3709551615)))
}

# What nsid-compare's --seed takes (its parse_u64): decimal or 0x hex below
# 2^64. Empty is a random seed.
rnsid_want_seed() {
	local want="a number below 2^64, decimal or 0x hex, or empty for a random one"
	[ -z "$2" ] && return 0
	if [[ "$2" =~ ^0x0*([0-9a-fA-F]*)$ ]] && [ "$2" != 0x ]; then
		[ ${#BASH_REMATCH[1]} -le 16 ] || rnsid_refuse "$1" "$2" "is 2^64 or more" "$want"
	elif [[ "$2" =~ ^[0-9]+$ ]]; then
		rnsid_below_u64 "$2" || rnsid_refuse "$1" "$2" "is 2^64 or more" "$want"
	else
		rnsid_refuse "$1" "$2" "is not a seed" "$want"
	fi
}

# rnsid_want_count NAME VALUE [MAX]: a whole number from 1 to MAX (default
# 1000000: more scenarios or repetitions than that would run for weeks).
rnsid_want_count() {
	local max=${3:-1000000}
	[[ "$2" =~ ^[0-9]{1,18}$ ]] && ((10#$2 >= 1 && 10#$2 <= max)) ||
		rnsid_refuse "$1" "$2" "is not a count" "a whole number from 1 to $max"
}

# A percentage: a whole number from 0 to 100 (decimal only).
rnsid_want_percent() {
	[[ "$2" =~ ^[0-9]{1,3}$ ]] && ((10#$2 <= 100)) ||
		rnsid_refuse "$1" "$2" "is not a percentage" "a whole number from 0 to 100"
}

# Nets per nsid-compare scenario, as its --n takes them: N or LO-HI with
# 1 <= LO <= HI <= 1000 (decimal only, here).
rnsid_want_nets() {
	local want="N or LO-HI, whole numbers with 1 <= LO <= HI <= 1000" lo hi
	[[ "$2" =~ ^([0-9]{1,18})(-([0-9]{1,18}))?$ ]] ||
		{ rnsid_refuse "$1" "$2" "is not a number of nets" "$want"; return; }
	lo=$((10#${BASH_REMATCH[1]}))
	hi=$((10#${BASH_REMATCH[3]:-${BASH_REMATCH[1]}}))
	((lo >= 1 && lo <= hi && hi <= 1000)) || rnsid_refuse "$1" "$2" "is out of range" "$want"
}

# What scripts/build-module needs of a kernel build tree: configured with Rust
# and modules, built (Module.symvers, the kernel crate's metadata), of a
# series the Kbuild file knows. Empty is rnsid's own cached test kernel.
rnsid_want_kdir() {
	local name=$1 d=$2 release
	local want="a built Rust-enabled 6.12 or 7.x kernel tree, e.g. \`make kernel\`'s output"
	[ -n "$d" ] || return 0
	[ -e "$d" ] || { rnsid_refuse "$name" "$d" "does not exist" "$want"; return; }
	[ -d "$d" ] || { rnsid_refuse "$name" "$d" "is not a directory" "$want"; return; }
	[ -f "$d/.config" ] || { rnsid_refuse "$name" "$d" "has no .config: not a kernel build tree" "$want"; return; }
	grep -q '^CONFIG_RUST=y' "$d/.config" ||
		{ rnsid_refuse "$name" "$d" "was configured without CONFIG_RUST: rnsid is a Rust module" "$want"; return; }
	grep -q '^CONFIG_MODULES=y' "$d/.config" ||
		{ rnsid_refuse "$name" "$d" "was configured without CONFIG_MODULES" "$want"; return; }
	[ -f "$d/Module.symvers" ] && [ -f "$d/include/config/kernel.release" ] ||
		{ rnsid_refuse "$name" "$d" "is configured but not built (no Module.symvers)" "$want"; return; }
	[ -e "$d/rust/libkernel.rmeta" ] ||
		{ rnsid_refuse "$name" "$d" "has no rust/libkernel.rmeta: its Rust part is not built" "$want"; return; }
	release=$(cat "$d/include/config/kernel.release")
	case "$release" in
	6.12 | 6.12[.+-]* | 7.*) ;;
	*) rnsid_refuse "$name" "$d" "is Linux $release" "$want" ;;
	esac
}

# A run's output directory, emptied before the run: the script's own default,
# a directory an earlier run made (it holds .rnsid-out), or one that is empty
# or absent. Anything else is refused: a mistyped --out must not empty a
# home directory, nor the out/ that holds the nsid-tools the run boots with.
rnsid_want_out() {
	local name=$1 d=$2 default=$3
	local want="a new or empty directory, or an earlier run's output"
	[ -n "$d" ] || { rnsid_refuse "$name" "$d" "is empty" "$want"; return; }
	[ "$(realpath -m "$d")" != "$(realpath -m "$default")" ] || return 0
	[ -e "$d" ] || [ -L "$d" ] || return 0
	[ -d "$d" ] || { rnsid_refuse "$name" "$d" "is not a directory" "$want"; return; }
	[ -e "$d/.rnsid-out" ] || [ -z "$(ls -A "$d")" ] ||
		rnsid_refuse "$name" "$d" "holds files no earlier run of this script wrote" "$want"
}

# rnsid_fresh_out DIR: empties DIR (checked by rnsid_want_out) and marks it ours.
rnsid_fresh_out() {
	rm -rf "$1"
	mkdir -p "$1"
	: >"$1/.rnsid-out"
}

# Where kernel sources, builds and bindgen go: an absolute path, without the
# spaces or colons kbuild refuses in a build directory, that is a writable
# directory or can be made one. Nothing is created here.
rnsid_want_cache() {
	local name=$1 p=$2 up
	local want="an absolute path to a writable directory, or to one that can be created"
	[ -n "$p" ] || { rnsid_refuse "$name" "$p" "is empty" "$want"; return; }
	[[ "$p" == /* ]] || { rnsid_refuse "$name" "$p" "is not an absolute path" "$want"; return; }
	[[ "$p" != *[[:space:]:]* ]] ||
		{ rnsid_refuse "$name" "$p" "has a space or colon, which kbuild refuses" "$want"; return; }
	up=$p
	while [ ! -e "$up" ] && [ ! -L "$up" ]; do up=$(dirname "$up"); done
	[ -d "$up" ] || { rnsid_refuse "$name" "$p" "cannot be a directory: $up is not one" "$want"; return; }
	[ -w "$up" ] || rnsid_refuse "$name" "$p" "cannot be written: $up is read-only here" "$want"
}
