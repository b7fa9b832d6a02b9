#!/bin/sh
# Isolation: an unprivileged user (uid 1000), also as root of a user
# namespace of its own with its own net, can neither change the mode, set
# fail_notify, arm the hold nor read the stats; and a listener in a net that
# holds no id for the dying net sees nothing, in every mode, as with the C.
. /rnsid/lib.sh
[ -x /bin/nsid-poke ] || { echo "nsid-poke is not in this initramfs"; exit $KSFT_FAIL; }

load_rnsid
# debugfs is mounted root-only (0700), which would hide rnsid's own file
# modes: open the mount for the test, so that they are what stands.
mount -o remount,mode=755 /sys/kernel/debug
check "uid 1000 can change no knob and read no stats" nsid-poke access --uid 1000
check "nor as root of its own user and net namespace" nsid-poke access --uid 1000 --userns
mount -o remount,mode=700 /sys/kernel/debug

# In each mode: iD dies. iA holds an id for it (5); iB holds none, only one
# for iA (6); iD holds ids for both, which die with it unannounced. Listening: root in iA (sees 5 deleted); uid 1000 in iB, asking
# in vain for NETLINK_LISTEN_ALL_NSID (sees nothing); root in iB with it
# (sees iA's message, through iB's id 6 for iA, and nothing of its own).
want="a DELNSID nsid=5 via=-|b-root DELNSID nsid=5 via=6|b-root listen_all_nsid ok|b-user listen_all_nsid EPERM|"

# heard: whether the listeners wrote exactly the lines of $want.
heard() {
	got= n=0
	while read -r line; do
		got="$got$line|"
		n=$((n + 1))
	done </tmp/iso.out
	echo "listeners heard: $got"
	IFS='|'
	set -- $want
	unset IFS
	[ "$n" = $# ] || return 1
	for line; do
		case "|$got" in *"|$line|"*) ;; *) return 1 ;; esac
	done
}

for mode in $(supported_modes); do
	set_mode "$mode"
	add_netns iA iB iD
	set_ids iA iD 5
	set_ids iB iA 6
	set_ids iD iA 8 iB 9
	rm -f /tmp/iso.out /tmp/iso.ready
	nsid-poke listen --ready /tmp/iso.ready --out /tmp/iso.out \
		a:/run/netns/iA:root:- b-user:/run/netns/iB:1000:all b-root:/run/netns/iB:root:all &
	listener=$!
	check "[$mode] the listeners joined" wait_for 30 [ -e /tmp/iso.ready ]
	ip netns del iD
	# Once rnsid counts iD gone, its cleanup_net() has sent everything.
	check "[$mode] iD is freed" settle 60
	kill -TERM "$listener"
	wait "$listener"
	check "[$mode] only iA's listener and iB's privileged one (through iA) heard of iD" heard
	delete_all_netns
	check "[$mode] every namespace is freed" settle 60
done
set_mode c
check "rmmod rnsid" unload_rnsid
finish
