#!/bin/sh
# Several namespaces released together die in one cleanup_net() batch; every
# survivor loses its ids for all of them, and the ids the victims held for
# each other go with their tables, without notifications. rnsid/hold makes
# the batch certain: the victims queue up behind a held spare net.
. /rnsid/lib.sh

web() {
	add_netns b1 b2 b3 b4 b5 b6
	id=1
	for a in b1 b2 b3 b4 b5 b6; do
		pairs=
		for b in b1 b2 b3 b4 b5 b6; do
			[ "$a" = "$b" ] && continue
			pairs="$pairs $b $id"
			id=$((id + 1))
		done
		set_ids "$a" $pairs
	done
}

load_rnsid
for mode in $(supported_modes); do
	teardown_check "$mode" web "b2 b3 b5" batch
	check "[$mode] the hook saw the spare net and the 3 victims" [ "$victim_nets" = 4 ]
	check "[$mode] the victims died in one cleanup_net(), after the spare's" [ "$victim_cleanups" = 2 ]
done
unload_rnsid
finish
