#!/bin/sh
# Unloading rnsid while namespaces are created and destroyed in a loop, in
# every mode: unregistering the hook waits for cleanup_net() to leave it.
. /rnsid/lib.sh

# Two namespaces born with ids for each other, and deleted.
pair() {
	/sbin/ip netns add "u$1" && /sbin/ip netns add "v$1" &&
		/sbin/ip -n "u$1" netns set "v$1" 5 && /sbin/ip -n "v$1" netns set "u$1" 6
	/sbin/ip netns del "v$1"
	/sbin/ip netns del "u$1"
}

modes=$(load_rnsid && supported_modes && unload_rnsid)
echo "modes: $modes"
churn_start pair
for mode in $modes; do
	for round in 1 2 3; do
		check "[$mode] insmod mode=$mode during churn (round $round)" load_rnsid mode="$mode"
		nap 0.3
		check "[$mode] rmmod during churn (round $round)" unload_rnsid
	done
done
churn_stop
delete_all_netns
check "the last round left rnsid unloaded" fails grep -q '^rnsid ' /proc/modules
finish
