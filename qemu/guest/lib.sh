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
