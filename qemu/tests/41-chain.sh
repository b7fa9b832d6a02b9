#!/bin/sh
# A chain c1 -> c2 -> c3 -> c4 (each holds an id for the next); the middle
# link dies, in every mode.
. /rnsid/lib.sh

chain() {
	for ns in c1 c2 c3 c4; do ip netns add "$ns"; done
	ip -n c1 netns set c2 10
	ip -n c2 netns set c3 20
	ip -n c3 netns set c4 30
}

load_rnsid
for mode in $(supported_modes); do
	teardown_check "$mode" chain c2
	teardown_check "$mode" chain c4
done
unload_rnsid
finish
