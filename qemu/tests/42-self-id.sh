#!/bin/sh
# A net holding an id for itself, and for a peer that holds one back: when
# it dies its own table goes with it and only the peer is notified.
. /rnsid/lib.sh

selfish() {
	add_netns s1 s2
	set_ids s1 s1 7 s2 8
	set_ids s2 s1 9
}

load_rnsid
for mode in $(supported_modes); do
	teardown_check "$mode" selfish s1
done
unload_rnsid
finish
