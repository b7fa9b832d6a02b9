#!/bin/sh
# Ids set in one direction only: the victim holds ids for survivors that hold
# none for it, and survivors hold ids for a victim that holds none back.
. /rnsid/lib.sh

one_way() {
	for ns in o1 o2 o3 o4; do ip netns add "$ns"; done
	ip -n o1 netns set o2 1
	ip -n o1 netns set o3 2
	ip -n o4 netns set o1 3
	ip -n o4 netns set o2 4
}

load_rnsid
for mode in $(supported_modes); do
	teardown_check "$mode" one_way o1
	teardown_check "$mode" one_way o2
done
unload_rnsid
finish
