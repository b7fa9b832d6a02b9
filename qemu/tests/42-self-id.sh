#!/bin/sh
# A net holding an id for itself, and for a peer that holds one back: when
# it dies its own table goes with it and only the peer is notified.
. /rnsid/lib.sh

selfish() {
	for ns in s1 s2; do ip netns add "$ns"; done
	ip -n s1 netns set s1 7
	ip -n s1 netns set s2 8
	ip -n s2 netns set s1 9
}

load_rnsid
for mode in $(supported_modes); do
	teardown_check "$mode" selfish s1
done
unload_rnsid
finish
