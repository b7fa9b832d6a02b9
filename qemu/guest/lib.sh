# Sourced by the guest scenarios: small kselftest-like helpers.
#
# Under KASAN, lockdep and kmemleak in TCG every exec costs the better part of
# a second, so the helpers parse with shell builtins and batch iproute2 calls
# (ip -batch) instead of piping through sed, sort and friends.

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

# in_range N LOW HIGH: whether LOW <= N <= HIGH.
in_range() {
	[ "$1" -ge "$2" ] && [ "$1" -le "$3" ]
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

# list_id NS: NS's `ip netns list-id`, as "ID NAME" lines (NAME "-" if none).
list_id() {
	ip -n "$1" netns list-id 2>/dev/null | while read -r _ id rest; do
		name=${rest##*name: }
		[ "$name" = "$rest" ] && name=- || name=${name%)}
		echo "$id $name"
	done
}

# The nsid that net $1 holds for net $2 (both names of /run/netns), or nothing.
nsid_of() {
	list_id "$1" | while read -r id name; do
		[ "$name" = "$2" ] && echo "$id"
	done
}

# Every nsid net $1 holds, one per line.
nsids_in() {
	list_id "$1" | while read -r id _; do echo "$id"; done
}

# Network namespaces the guest has: the named ones plus init_net. The guest
# creates no others, so once teardown is done this is the kernel's count.
netns_count() {
	n=1
	for f in /run/netns/*; do
		[ -e "$f" ] && n=$((n + 1))
	done
	echo "$n"
}

# add_netns NAME...: create namespaces, in one ip process.
add_netns() {
	for ns in "$@"; do echo "netns add $ns"; done | ip -batch -
}

# set_ids NS PEER ID [PEER ID...]: in NS, give PEER the id ID, in one ip process.
set_ids() {
	ns=$1
	shift
	while [ $# -ge 2 ]; do
		echo "netns set $1 $2"
		shift 2
	done | ip -n "$ns" -batch -
}

load_rnsid() {
	insmod /rnsid/rnsid.ko "$@"
}

unload_rnsid() {
	rmmod rnsid
}

delete_all_netns() {
	for f in /run/netns/*; do
		[ -e "$f" ] && echo "netns del ${f##*/}"
	done | ip -force -batch - 2>/dev/null
	return 0
}

# churn_start FUNCTION: call FUNCTION 1, FUNCTION 2, ... in a background loop
# (each call creating and destroying namespaces) until churn_stop.
churn_start() {
	rm -f /tmp/stop-churn
	(
		i=0
		while [ ! -e /tmp/stop-churn ]; do
			i=$((i + 1))
			"$1" "$i"
		done
	) &
	churner=$!
}

churn_stop() {
	touch /tmp/stop-churn
	wait "$churner"
}

# --- rnsid's own state ------------------------------------------------------

RNSID_STATS=/sys/kernel/debug/rnsid/stats
RNSID_MODE=/sys/module/rnsid/parameters/mode

# stat NAME: a top-level counter of rnsid/stats (live_nets, ...).
stat() {
	while read -r key value; do
		[ "$key" = "$1:" ] && echo "$value" && return
	done <"$RNSID_STATS"
}

# mode_stat MODE COLUMN: one counter of one mode's row.
mode_stat() {
	header= row=
	while read -r first rest; do
		[ "$first" = mode ] && [ -n "$rest" ] && header=$rest
		[ "$first" = "$1" ] && row=$rest
	done <"$RNSID_STATS"
	set -- "$2" $row
	want=$1
	shift
	for col in $header; do
		[ "$col" = "$want" ] && echo "$1" && return
		shift
	done
}

set_mode() {
	echo "$1" >"$RNSID_MODE"
}

# The modes this kernel accepts, c first; only those in $RNSID_MODES if set
# (rnsid.modes= on the kernel command line).
supported_modes() {
	for m in c relocated legacy batched shadow; do
		if [ -n "${RNSID_MODES:-}" ]; then
			case " $RNSID_MODES " in *" $m "*) ;; *) continue ;; esac
		fi
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
	# ip monitor has no readiness signal, and on a loaded debug guest a fixed
	# sleep was not always enough: wait until its namespace shows it joined.
	for ns in "$@"; do
		wait_for 30 nsid_listener_ready "$(cat "/tmp/mon.$ns.pid")" ||
			echo "the ip monitor in $ns never joined RTNLGRP_NSID"
	done
}

# nsid_listener_ready PID: whether a NETLINK_ROUTE socket in PID's network
# namespace has joined RTNLGRP_NSID (group 28, bit 27 of /proc/net/netlink's
# Groups column).
nsid_listener_ready() {
	[ -r "/proc/$1/net/netlink" ] || return 1
	while read -r _ eth _ groups _; do
		[ "$eth" = 0 ] && [ $((0x$groups & 0x8000000)) -ne 0 ] && return 0
	done <"/proc/$1/net/netlink"
	return 1
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

# deletions_seen NS: the ids NS's listener saw deleted, in arrival order.
deletions_seen() {
	seen=
	while read -r what _ id _; do
		[ "$what" = Deleted ] && seen="$seen$id "
	done <"/tmp/mon.$1"
	echo "$seen"
}

# same_set "A B" "B A": whether two lists hold the same ids (each id once).
same_set() {
	set -- "$1" "$2" 0 0
	for id in $1; do
		case " $2 " in *" $id "*) ;; *) return 1 ;; esac
		set -- "$1" "$2" $(($3 + 1)) "$4"
	done
	for id in $2; do
		set -- "$1" "$2" "$3" $(($4 + 1))
	done
	[ "$3" = "$4" ]
}

# saw_exactly NS IDS: whether NS's listener saw each of IDS deleted once, and
# nothing else.
saw_exactly() {
	same_set "$(deletions_seen "$1")" "$2"
}

# lists_none NS IDS: whether NS's list-id shows none of IDS.
lists_none() {
	have=" $(nsids_in "$1" | while read -r id; do printf '%s ' "$id"; done)"
	for id in $2; do
		case "$have" in *" $id "*) return 1 ;; esac
	done
}

# --- the teardown check -------------------------------------------------------

# teardown_check MODE SETUP VICTIMS [batch]: in MODE, run the function SETUP
# (which creates namespaces and ids), delete VICTIMS (with "batch" so that
# they die in one cleanup_net(), after a spare net's: see delete_held), run
# $after_delete if set, and check that every survivor lost exactly its ids for
# the victims, in list-id and on its listener, that no net leaked and that
# rnsid counted what it did.
teardown_check() {
	mode=$1 setup=$2 victims=$3 how=${4:-one-by-one}
	set_mode "$mode" || { echo "FAIL: mode $mode refused"; failures=$((failures + 1)); return; }
	base_post=$(stat postcondition_failures)
	base_removed=$(mode_stat "$mode" ids_removed)
	base_unhash_ns=$(mode_stat "$mode" unhash_ns) base_rwsem_ns=$(mode_stat "$mode" rwsem_ns)
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
		set -- $(list_id "$s")
		while [ $# -ge 2 ]; do
			case " $victims " in *" $2 "*)
				want="$want$1 "
				expected_total=$((expected_total + 1)) ;;
			esac
			shift 2
		done
		echo "$want" >"/tmp/want.$s"
	done
	# Ids the victims hold for each other: if the victims do not all die in
	# the same cleanup_net(), the later ones are still survivors for the
	# earlier ones and lose these too.
	between=0
	for v in $victims; do
		set -- $(list_id "$v")
		while [ $# -ge 2 ]; do
			[ "$2" != "$v" ] && case " $victims " in *" $2 "*) between=$((between + 1)) ;; esac
			shift 2
		done
	done
	base_cleanups=$(mode_stat "$mode" cleanups)
	base_nets=$(mode_stat "$mode" nets)
	start_monitors $survivors
	if [ "$how" = batch ]; then
		check "[$mode] victims released behind a held cleanup_net()" delete_held $victims
	else
		for v in $victims; do ip netns del "$v"; done
	fi
	# The caller's, once the victims are released (see 45-*).
	${after_delete:-}
	check "[$mode] victims' nets are freed" settle 60
	# For the caller: how many cleanup_net() runs the victims took.
	victim_cleanups=$(($(mode_stat "$mode" cleanups) - base_cleanups))
	victim_nets=$(($(mode_stat "$mode" nets) - base_nets))
	for s in $survivors; do
		want=$(cat "/tmp/want.$s")
		check "[$mode] $s lists none of: ${want:-nothing}" lists_none "$s" "$want"
		check "[$mode] $s's listener saw exactly: ${want:-nothing}" wait_for 10 saw_exactly "$s" "$want"
	done
	stop_monitors
	check "[$mode] no post-condition failed" [ "$(stat postcondition_failures)" = "$base_post" ]
	case $mode in
	relocated | legacy | batched)
		# Timed with ktime_get(): the kernels keep time with the HPET, not jiffies.
		check "[$mode] rnsid timed its unhash" [ "$(mode_stat "$mode" unhash_ns)" -gt "$base_unhash_ns" ]
		[ "$mode" = legacy ] &&
			check "[legacy] rnsid timed its hold of net_rwsem" [ "$(mode_stat legacy rwsem_ns)" -gt "$base_rwsem_ns" ]
		removed=$(($(mode_stat "$mode" ids_removed) - base_removed))
		# Released one by one, a later victim is a survivor for the earlier ones.
		if [ "$between" = 0 ] || [ "$how" = batch ]; then
			check "[$mode] rnsid removed $expected_total id(s)" [ "$removed" = "$expected_total" ]
		else
			check "[$mode] rnsid removed $expected_total to $((expected_total + between)) id(s): $removed" \
				in_range "$removed" "$expected_total" $((expected_total + between))
		fi ;;
	shadow)
		check "[shadow] no shadow mismatch" [ "$(mode_stat shadow shadow_mismatches)" = "$base_mismatch" ] ;;
	esac
	delete_all_netns
	check "[$mode] every namespace is freed" settle 60
	set_mode c
}

# delete_held NS...: delete NS... so that they die together, in one
# cleanup_net(), whatever the timing: with rnsid/hold a spare net's
# cleanup_net() is held in the hook while they are released behind it, and
# the next run takes them all.
RNSID_HOLD=/sys/kernel/debug/rnsid/hold
delete_held() {
	echo flush >$RNSID_HOLD && echo arm >$RNSID_HOLD || return 1
	ip netns add rnsid-spare && ip netns del rnsid-spare
	if ! wait_for 20 grep -qx holding $RNSID_HOLD; then
		echo release >$RNSID_HOLD
		echo "the spare net's cleanup_net() was never held"
		return 1
	fi
	for ns in "$@"; do echo "netns del $ns"; done | ip -batch -
	echo release >$RNSID_HOLD
}
