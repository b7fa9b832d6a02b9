# Sourced by the guest scenarios: small kselftest-like helpers.

# Debian's busybox-static runs its own applets before anything on PATH, and
# its ip lacks netns set, list-id and monitor nsid: use iproute2's.
ip() { /sbin/ip "$@"; }

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4
failures=0

# check DESCRIPTION COMMAND...: run COMMAND, record and print the outcome.
check() {
	desc=$1
	shift
	if "$@"; then
		echo "ok: $desc"
	else
		echo "FAIL: $desc"
		failures=$((failures + 1))
	fi
}

# fails COMMAND...: succeed if COMMAND fails (its error output is dropped).
fails() {
	! "$@" 2>/dev/null
}

# Exits the scenario with the verdict of its checks.
finish() {
	[ "$failures" -eq 0 ] && exit $KSFT_PASS
	echo "$failures check(s) failed"
	exit $KSFT_FAIL
}

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds. netns teardown is
# asynchronous (cleanup_net runs from a workqueue), so results come late.
wait_for() {
	limit=$(($1 * 10))
	shift
	i=0
	while ! "$@"; do
		i=$((i + 1))
		[ "$i" -ge "$limit" ] && return 1
		sleep 0.1
	done
}

# The nsid that net $1 holds for net $2 (both names of /run/netns), or nothing.
nsid_of() {
	ip -n "$1" netns list-id 2>/dev/null | sed -n "s/^nsid \([0-9]*\) .*iproute2 netns name: $2).*/\1/p"
}

# Every nsid net $1 holds, one per line.
nsids_in() {
	ip -n "$1" netns list-id 2>/dev/null | sed -n 's/^nsid \([0-9]*\).*/\1/p'
}

# Network namespaces the guest has: the named ones plus init_net. The guest
# creates no others, so once teardown is done this is the kernel's count.
netns_count() {
	echo $(($(ls /run/netns 2>/dev/null | wc -l) + 1))
}

load_rnsid() {
	insmod /rnsid/rnsid.ko "$@"
}

unload_rnsid() {
	rmmod rnsid
}

delete_all_netns() {
	for ns in $(ls /run/netns 2>/dev/null); do
		ip netns del "$ns"
	done
}

# --- rnsid's own state ------------------------------------------------------

RNSID_STATS=/sys/kernel/debug/rnsid/stats
RNSID_MODE=/sys/module/rnsid/parameters/mode

# stat NAME: a top-level counter of rnsid/stats (live_nets, ...).
stat() {
	sed -n "s/^$1: //p" "$RNSID_STATS"
}

# mode_stat MODE COLUMN: one counter of one mode's row.
mode_stat() {
	awk -v m="$1" -v c="$2" '
		$1 == "mode" && NF > 2 { for (i = 1; i <= NF; i++) col[$i] = i }
		$1 == m && NF > 2 { print $(col[c]) }' "$RNSID_STATS"
}

set_mode() {
	echo "$1" >"$RNSID_MODE"
}

# The modes this kernel accepts, c first.
supported_modes() {
	for m in c relocated legacy batched shadow; do
		set_mode "$m" 2>/dev/null && printf '%s ' "$m"
	done
	set_mode c
}

# live_is N: whether rnsid counts N live nets.
live_is() {
	[ "$(stat live_nets)" = "$1" ]
}

# settle SECONDS: wait until every deleted net is gone, i.e. rnsid's count of
# live nets equals the namespaces the guest still has.
settle() {
	wait_for "$1" live_is "$(netns_count)"
}

# --- listeners --------------------------------------------------------------

# start_monitors NS...: an `ip monitor nsid` per namespace, output in /tmp/mon.NS.
start_monitors() {
	for ns in "$@"; do
		# Not through the ip() function: that would background a subshell,
		# and killing it would leave ip running, holding the namespace.
		/sbin/ip -n "$ns" monitor nsid >"/tmp/mon.$ns" 2>&1 &
		echo $! >"/tmp/mon.$ns.pid"
	done
	# ip monitor has no readiness signal; give it time to join RTNLGRP_NSID.
	sleep 1
}

stop_monitors() {
	for f in /tmp/mon.*.pid; do
		[ -e "$f" ] || continue
		pid=$(cat "$f")
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		rm -f "$f"
	done
}

# deletions_seen NS: the ids NS's listener saw deleted, sorted, space-separated.
deletions_seen() {
	sed -n 's/^Deleted nsid \([0-9]*\).*/\1/p' "/tmp/mon.$1" | sort -n | tr '\n' ' '
}

# saw_exactly NS IDS: whether NS's listener saw exactly IDS ("1 5 ") deleted.
saw_exactly() {
	[ "$(deletions_seen "$1")" = "$2" ]
}

# lists_none NS IDS: whether NS's list-id shows none of IDS.
lists_none() {
	have=" $(nsids_in "$1" | tr '\n' ' ')"
	for id in $2; do
		case "$have" in *" $id "*) return 1 ;; esac
	done
}

# --- the teardown check -------------------------------------------------------

# teardown_check MODE SETUP VICTIMS [batch]: in MODE, run the function SETUP
# (which creates namespaces and ids), delete VICTIMS (all at once, so that they
# die in one cleanup_net(), with "batch"), and check that every survivor lost
# exactly its ids for the victims, in list-id and on its listener, that no net
# leaked and that rnsid counted what it did.
teardown_check() {
	mode=$1 setup=$2 victims=$3 how=${4:-one-by-one}
	set_mode "$mode" || { echo "FAIL: mode $mode refused"; failures=$((failures + 1)); return; }
	base_post=$(stat postcondition_failures)
	base_removed=$(mode_stat "$mode" ids_removed)
	base_mismatch=$(mode_stat "$mode" shadow_mismatches)
	$setup
	survivors=
	for ns in $(ls /run/netns); do
		case " $victims " in *" $ns "*) continue ;; esac
		# Namespaces another task creates and deletes meanwhile (see 45-*).
		case "$ns" in ${ignore:-}) [ -n "${ignore:-}" ] && continue ;; esac
		survivors="$survivors $ns"
	done
	expected_total=0
	for s in $survivors; do
		want=
		for v in $victims; do
			id=$(nsid_of "$s" "$v")
			[ -n "$id" ] && want="$want $id" && expected_total=$((expected_total + 1))
		done
		echo "$want" | tr ' ' '\n' | sed '/^$/d' | sort -n | tr '\n' ' ' >"/tmp/want.$s"
	done
	start_monitors $survivors
	if [ "$how" = batch ]; then
		delete_together $victims
	else
		for v in $victims; do ip netns del "$v"; done
	fi
	check "[$mode] victims' nets are freed" settle 60
	for s in $survivors; do
		want=$(cat "/tmp/want.$s")
		check "[$mode] $s lists none of: ${want:-nothing}" lists_none "$s" "$want"
		check "[$mode] $s's listener saw exactly: ${want:-nothing}" wait_for 10 saw_exactly "$s" "$want"
	done
	stop_monitors
	check "[$mode] no post-condition failed" [ "$(stat postcondition_failures)" = "$base_post" ]
	case $mode in
	relocated | legacy | batched)
		check "[$mode] rnsid removed $expected_total id(s)" \
			[ "$(mode_stat "$mode" ids_removed)" = $((base_removed + expected_total)) ] ;;
	shadow)
		check "[shadow] no shadow mismatch" [ "$(mode_stat shadow shadow_mismatches)" = "$base_mismatch" ] ;;
	esac
	delete_all_netns
	check "[$mode] every namespace is freed" settle 60
	set_mode c
}

# delete_together NS...: release NS... in one go so that they die in the same
# cleanup_net(): one shell holds them open, the names go, then the shell exits
# and its files close together.
delete_together() {
	fds=
	n=3
	for ns in "$@"; do
		fds="$fds $n</run/netns/$ns"
		n=$((n + 1))
	done
	sh -c "exec $fds; for ns in $*; do /sbin/ip netns del \$ns; done; exit 0"
}
