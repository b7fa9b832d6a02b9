# Sourced by the guest scenarios: small kselftest-like helpers.
#
# Under KASAN, lockdep and kmemleak in TCG every fork costs the better part of
# a second, so the helpers parse with shell builtins, batch iproute2 calls
# (ip -batch) and hand results back in variables ($ids, $seen, $st_*), never
# through pipelines or command substitution, which fork.

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

# nap SECONDS: sleep without forking (busybox's sleep is a fork and an exec):
# wait for a line that never comes on a FIFO nobody writes to. dash, the
# host's sh that runs the scenarios under scripts/vng, has no read -t and
# says so with status 2: there nap is sleep(1).
[ -p /tmp/nap ] || mkfifo /tmp/nap
exec 9<>/tmp/nap
read -r -t 0 _ <&9 2>/dev/null
if [ $? = 2 ]; then
	nap() { sleep "$1"; }
else
	nap() {
		read -r -t "$1" _ <&9
		return 0
	}
fi

# now: set $now to the time since boot, in hundredths of a second.
now() {
	read -r now _ </proc/uptime
	now=${now%.*}${now#*.}
}

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds, for at most
# SECONDS of wall time. netns teardown is asynchronous (cleanup_net runs from
# a workqueue), so results come late.
wait_for() {
	now
	deadline=$((now + $1 * 100))
	shift
	while ! "$@"; do
		now
		[ "$now" -ge "$deadline" ] && return 1
		nap 0.1
	done
}

# list_ids NS...: every NS's ids, in one nsid-ids process (qemu/nsid-tools;
# unlike `ip -n NS netns list-id` it mounts no sysfs per namespace, which cost
# about a second a call on the debug kernels); ids_of NS then reads them.
# nsid-ids --shell writes assignments to source: busybox's read takes a byte
# per system call, which costs more than the listing on a debug kernel. Each
# listing has its own variables, so that a namespace it did not list is seen
# as not listed rather than as listed by the one before.
list_gen=0
list_ids() {
	list_gen=$((list_gen + 1))
	nsid-ids --shell "l${list_gen}_" "$@" >/tmp/ids || return 1
	. /tmp/ids
}

# ids_of NS: set $ids to what list_ids found in NS, as "ID NAME ID NAME ..."
# (NAME "-" for a peer without a name), and $nsids to " ID ID ... "; fails if
# list_ids did not list NS.
ids_of() {
	ids= nsids=' '
	# The scenarios' names are letters and digits, which nsid-ids --shell
	# keeps as they are (the host's sh under virtme-ng, dash, has no ${v//}).
	case $1 in *[!A-Za-z0-9_]*) echo "ids_of: '$1' is not a plain name"; return 1 ;; esac
	eval "[ -n \"\${l${list_gen}_$1+listed}\" ]" || { echo "no ids listed for $1"; return 1; }
	eval "ids=\$l${list_gen}_$1"
	set -- $ids
	while [ $# -ge 2 ]; do
		nsids="$nsids$1 "
		shift 2
	done
}

# list_id NS: list_ids and ids_of for one namespace.
list_id() {
	list_ids "$1" && ids_of "$1"
}

# The nsid that net $1 holds for net $2 (both names of /run/netns), or nothing.
nsid_of() {
	list_id "$1"
	set -- "$2" $ids
	want=$1
	shift
	while [ $# -ge 2 ]; do
		[ "$2" = "$want" ] && echo "$1"
		shift 2
	done
}

# Every nsid net $1 holds, one per line.
nsids_in() {
	list_id "$1"
	for id in $nsids; do echo "$id"; done
}

# count_netns: set $netns_n to the network namespaces the guest has: the named
# ones plus init_net. The guest creates no others, so once teardown is done
# this is the kernel's count.
count_netns() {
	netns_n=1
	for f in /run/netns/*; do
		[ -e "$f" ] && netns_n=$((netns_n + 1))
	done
}

# ip_batch [IP OPTION...]: run the commands written to /tmp/batch in one ip
# process (a file rather than a pipe: a pipeline forks once more).
ip_batch() {
	ip "$@" -batch /tmp/batch
}

# add_netns NAME...: create namespaces, in one ip process.
add_netns() {
	for ns in "$@"; do echo "netns add $ns"; done >/tmp/batch
	ip_batch
}

# del_netns NAME...: delete namespaces, in one ip process.
del_netns() {
	for ns in "$@"; do echo "netns del $ns"; done >/tmp/batch
	ip_batch
}

# set_ids NS PEER ID [PEER ID...]: in NS, give PEER the id ID, in one ip process.
set_ids() {
	ns=$1
	shift
	while [ $# -ge 2 ]; do
		echo "netns set $1 $2"
		shift 2
	done >/tmp/batch
	ip_batch -n "$ns"
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
	done >/tmp/batch
	ip_batch -force 2>/dev/null
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

# read_stats: load rnsid/stats into variables: st_NAME for each top-level
# line (st_live_nets, ...), st_MODE_COLUMN for each mode's counters
# (st_relocated_ids_removed, ...).
read_stats() {
	header=
	while read -r first rest; do
		case $first in
		'') ;;
		*:) eval "st_${first%:}=\$rest" ;;
		mode) header=$rest ;;
		*)
			set -- $rest
			for col in $header; do
				eval "st_${first}_$col=\$1"
				shift
			done ;;
		esac
	done <"$RNSID_STATS"
}

# mode_stat MODE COLUMN: set $st to one counter of one mode's row, freshly read.
mode_stat() {
	read_stats
	eval "st=\$st_$1_$2"
}

set_mode() {
	echo "$1" >"$RNSID_MODE"
}

# The modes this kernel accepts, c first; only those in $RNSID_MODES if set
# (rnsid.modes= on the kernel command line).
supported_modes() {
	for m in c relocated legacy batched shadow floor; do
		if [ -n "${RNSID_MODES:-}" ]; then
			case " $RNSID_MODES " in *" $m "*) ;; *) continue ;; esac
		fi
		set_mode "$m" 2>/dev/null && printf '%s ' "$m"
	done
	set_mode c
}

# live_is N: whether rnsid counts N live nets. settle polls it: only the
# first two lines of rnsid/stats are read (see list_ids for why).
live_is() {
	{ read -r _ _ && read -r _ live; } <"$RNSID_STATS"
	[ "$live" = "$1" ]
}

# settle SECONDS: wait until every deleted net is gone, i.e. rnsid's count of
# live nets equals the namespaces the guest still has.
settle() {
	count_netns
	wait_for "$1" live_is "$netns_n"
}

# --- listeners --------------------------------------------------------------

# start_monitors NS...: an RTNLGRP_NSID listener in each namespace, its
# messages in /tmp/mon.NS: one nsid-listen process for all (qemu/nsid-tools;
# `ip -n NS monitor nsid` mounted a sysfs per namespace, and each exec costs a
# good part of a second on the debug kernels). Its ready file is new each time,
# so that none is left to remove (rm is an exec too).
mon_gen=0 mon_pids=
start_monitors() {
	[ $# -gt 0 ] || return 0
	mon_gen=$((mon_gen + 1))
	ready=/tmp/mon.ready.$$.$mon_gen
	args=
	for ns in "$@"; do args="$args --netns $ns --out /tmp/mon.$ns"; done
	nsid-listen $args --ready "$ready" &
	mon_pids="$mon_pids $!"
	wait_for 30 ready_or_gone "$ready" $! && [ -e "$ready" ] ||
		echo "the listeners in $* never joined RTNLGRP_NSID"
}

# ready_or_gone FILE PID: whether FILE exists or PID has exited.
ready_or_gone() {
	[ -e "$1" ] || ! kill -0 "$2" 2>/dev/null
}

stop_monitors() {
	[ -n "$mon_pids" ] || return 0
	kill $mon_pids 2>/dev/null
	wait $mon_pids 2>/dev/null
	mon_pids=
}

# deletions_seen NS: set $seen to the ids NS's listener saw deleted, in
# arrival order (nsid-listen's lines: SEQ DELNSID nsid=ID HEX).
deletions_seen() {
	seen=
	while read -r _ what id _; do
		[ "$what" = DELNSID ] && seen="$seen${id#nsid=} "
	done <"/tmp/mon.$1"
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
	deletions_seen "$1"
	same_set "$seen" "$2"
}

# lists_none NS IDS: whether NS holds none of IDS now.
lists_none() {
	list_ids "$1" && listed_none "$1" "$2"
}

# listed_none NS IDS: whether NS, as list_ids last listed it, held none of IDS.
listed_none() {
	ids_of "$1" || return 1
	for id in $2; do
		case "$nsids" in *" $id "*) return 1 ;; esac
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
	read_stats
	eval "base_removed=\$st_${mode}_ids_removed base_unhash_ns=\$st_${mode}_unhash_ns"
	eval "base_rtnl_ns=\$st_${mode}_rtnl_ns base_mismatch=\$st_${mode}_shadow_mismatches"
	base_post=$st_postcondition_failures
	$setup
	survivors=
	for f in /run/netns/*; do
		ns=${f##*/}
		case " $victims " in *" $ns "*) continue ;; esac
		# Namespaces another task creates and deletes meanwhile (see 45-*).
		case "$ns" in ${ignore:-}) [ -n "${ignore:-}" ] && continue ;; esac
		survivors="$survivors $ns"
	done
	expected_total=0
	check "[$mode] nsid-ids lists the survivors and victims" list_ids $survivors $victims
	for s in $survivors; do
		want=
		ids_of "$s"
		set -- $ids
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
		ids_of "$v"
		set -- $ids
		while [ $# -ge 2 ]; do
			[ "$2" != "$v" ] && case " $victims " in *" $2 "*) between=$((between + 1)) ;; esac
			shift 2
		done
	done
	read_stats
	eval "base_cleanups=\$st_${mode}_cleanups base_nets=\$st_${mode}_nets"
	start_monitors $survivors
	if [ "$how" = batch ]; then
		check "[$mode] victims released behind a held cleanup_net()" delete_held $victims
	else
		del_netns $victims
	fi
	# The caller's, once the victims are released (see 45-*).
	${after_delete:-}
	check "[$mode] victims' nets are freed" settle 60
	read_stats
	# For the caller: how many cleanup_net() runs the victims took.
	eval "victim_cleanups=\$((st_${mode}_cleanups - base_cleanups))"
	eval "victim_nets=\$((st_${mode}_nets - base_nets))"
	check "[$mode] nsid-ids lists the survivors" list_ids $survivors
	for s in $survivors; do
		read -r want <"/tmp/want.$s"
		check "[$mode] $s lists none of: ${want:-nothing}" listed_none "$s" "$want"
		check "[$mode] $s's listener saw exactly: ${want:-nothing}" wait_for 10 saw_exactly "$s" "$want"
	done
	stop_monitors
	read_stats
	check "[$mode] no post-condition failed" [ "$st_postcondition_failures" = "$base_post" ]
	# Timed with ktime_get(): the kernels keep time with the HPET, not jiffies.
	# The C's step too, through the hook's unhashed() callback.
	eval "unhash_ns=\$st_${mode}_unhash_ns"
	check "[$mode] rnsid timed the unhash step" [ "$unhash_ns" -gt "$base_unhash_ns" ]
	case $mode in
	relocated | legacy | batched | floor)
		eval "removed=\$((st_${mode}_ids_removed - base_removed))"
		[ "$mode" = legacy ] &&
			check "[legacy] rnsid timed its hold of rtnl_lock()" [ "$st_legacy_rtnl_ns" -gt "$base_rtnl_ns" ]
		# Released one by one, a later victim is a survivor for the earlier ones.
		if [ "$between" = 0 ] || [ "$how" = batch ]; then
			check "[$mode] rnsid removed $expected_total id(s)" [ "$removed" = "$expected_total" ]
		else
			check "[$mode] rnsid removed $expected_total to $((expected_total + between)) id(s): $removed" \
				in_range "$removed" "$expected_total" $((expected_total + between))
		fi ;;
	shadow)
		check "[shadow] no shadow mismatch" [ "$st_shadow_shadow_mismatches" = "$base_mismatch" ] ;;
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
	printf 'netns add rnsid-spare\nnetns del rnsid-spare\n' >/tmp/batch
	ip_batch || return 1
	if ! wait_for 20 hold_is holding; then
		echo release >$RNSID_HOLD
		echo "the spare net's cleanup_net() was never held"
		return 1
	fi
	del_netns "$@"
	echo release >$RNSID_HOLD
}

# hold_is STATE: whether rnsid/hold reads STATE.
hold_is() {
	read -r hold <$RNSID_HOLD
	[ "$hold" = "$1" ]
}
