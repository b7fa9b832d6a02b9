#!/bin/sh
# A full mesh of 4 namespaces with ids both ways; one dies, in every mode.
. /rnsid/lib.sh

mesh() {
	for ns in m1 m2 m3 m4; do ip netns add "$ns"; done
	id=1
	for a in m1 m2 m3 m4; do
		for b in m1 m2 m3 m4; do
			[ "$a" = "$b" ] && continue
			ip -n "$a" netns set "$b" "$id"
			id=$((id + 1))
		done
	done
}

load_rnsid
for mode in $(supported_modes); do
	teardown_check "$mode" mesh m3
done
unload_rnsid
finish
