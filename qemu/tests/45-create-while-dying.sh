#!/bin/sh
# Namespaces created, and given ids, while others are dying: the new ones
# come after `last` and must neither lose ids nor keep ids of the dead.
. /rnsid/lib.sh

# churn: create and delete namespaces in a loop until /tmp/stop-churn exists.
churn() {
	i=0
	while [ ! -e /tmp/stop-churn ]; do
		i=$((i + 1))
		/sbin/ip netns add "n$i" && /sbin/ip -n "n$i" netns set d1 1 2>/dev/null
		/sbin/ip netns del "n$i"
	done
}

pair() {
	add_netns d1 d2 d3
	set_ids d1 d2 1 d3 2
	set_ids d3 d2 3
}

# The churn runs until d2 is unhashed (d1 has lost its id), so namespaces are
# born while d2 dies; it must stop before teardown_check waits for the dead to
# be freed, or there would always be one more dying.
stop_churn() {
	check "[$mode] d2 is unhashed while the churn runs" wait_for 60 lists_none d1 1
	touch /tmp/stop-churn
	wait "$churner"
	check "[$mode] churn leaves no net behind" settle 60
}

ignore='n[0-9]*'
after_delete=stop_churn
load_rnsid
for mode in $(supported_modes); do
	rm -f /tmp/stop-churn
	churn &
	churner=$!
	teardown_check "$mode" pair d2
done
unload_rnsid
finish
