#!/bin/sh
# Ids set in one direction only: the victim holds ids for survivors that hold
# none for it, and survivors hold ids for a victim that holds none back.
. /rnsid/lib.sh

one_way() {
	add_netns o1 o2 o3 o4
	set_ids o1 o2 1 o3 2
	set_ids o4 o1 3 o2 4
}

load_rnsid
for mode in $(supported_modes); do
	teardown_check "$mode" one_way o1
	teardown_check "$mode" one_way o2
done
unload_rnsid
finish
