#!/bin/sh
# Unloading rnsid while namespaces are created and destroyed in a loop, in
# every mode: unregistering the hook waits for cleanup_net() to leave it.
. /rnsid/lib.sh

churn() {
	i=0
	while [ ! -e /tmp/stop-churn ]; do
		i=$((i + 1))
		/sbin/ip netns add "u$i" && /sbin/ip netns add "v$i" &&
			/sbin/ip -n "u$i" netns set "v$i" 5 && /sbin/ip -n "v$i" netns set "u$i" 6
		/sbin/ip netns del "v$i"
		/sbin/ip netns del "u$i"
	done
}

modes=$(load_rnsid && supported_modes && unload_rnsid)
echo "modes: $modes"
rm -f /tmp/stop-churn
churn &
churner=$!
for mode in $modes; do
	for round in 1 2 3; do
		check "[$mode] insmod mode=$mode during churn (round $round)" load_rnsid mode="$mode"
		sleep 0.3
		check "[$mode] rmmod during churn (round $round)" unload_rnsid
	done
done
touch /tmp/stop-churn
wait "$churner"
delete_all_netns
check "the last round left rnsid unloaded" fails grep -q '^rnsid ' /proc/modules
finish
