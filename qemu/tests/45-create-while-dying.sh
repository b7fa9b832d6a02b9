#!/bin/sh
# Namespaces created, and given ids, while others are dying: the new ones
# come after `last` and must neither lose ids nor keep ids of the dead.
. /rnsid/lib.sh

# A namespace born, given an id for d1, and deleted.
born() {
	/sbin/ip netns add "n$1" && /sbin/ip -n "n$1" netns set d1 1 2>/dev/null
	/sbin/ip netns del "n$1"
}

pair() {
	add_netns d1 d2 d3
	set_ids d1 d2 1 d3 2
	set_ids d3 d2 3
}

# The churn runs until d2 is unhashed (d1 has lost its id), so namespaces are
# born while d2 dies; it must stop before teardown_check waits for the dead to
# be freed, or there would always be one more dying.
after_d2_dies() {
	check "[$mode] d2 is unhashed while the churn runs" wait_for 60 lists_none d1 1
	churn_stop
	check "[$mode] churn leaves no net behind" settle 60
}

ignore='n[0-9]*'
after_delete=after_d2_dies
load_rnsid
for mode in $(supported_modes); do
	churn_start born
	teardown_check "$mode" pair d2
done
unload_rnsid
finish
