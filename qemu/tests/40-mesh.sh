#!/bin/sh
# A full mesh of 4 namespaces with ids both ways; one dies, in every mode.
. /rnsid/lib.sh

mesh() {
	add_netns m1 m2 m3 m4
	set_ids m1 m2 1 m3 2 m4 3
	set_ids m2 m1 4 m3 5 m4 6
	set_ids m3 m1 7 m2 8 m4 9
	set_ids m4 m1 10 m2 11 m3 12
}

load_rnsid
for mode in $(supported_modes); do
	teardown_check "$mode" mesh m3
done
unload_rnsid
finish
