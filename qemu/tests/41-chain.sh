#!/bin/sh
# A chain c1 -> c2 -> c3 -> c4 (each holds an id for the next); the middle
# link dies, in every mode.
. /rnsid/lib.sh

chain() {
	add_netns c1 c2 c3 c4
	set_ids c1 c2 10
	set_ids c2 c3 20
	set_ids c3 c4 30
}

load_rnsid
for mode in $(supported_modes); do
	teardown_check "$mode" chain c2
	teardown_check "$mode" chain c4
done
unload_rnsid
finish
