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
