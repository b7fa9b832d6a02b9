#!/bin/sh
# Several namespaces released together die in one cleanup_net() batch; every
# survivor loses its ids for all of them, including ids the victims held for
# each other (destroyed with their tables, not notified).
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
	# Releasing them together makes one batch likely, not certain: the netns
	# work may start between two releases. Try again rather than report a
	# batch that did not happen.
	for attempt in 1 2 3; do
		teardown_check "$mode" web "b2 b3 b5" batch
		echo "[$mode] attempt $attempt: the 3 victims died in $victim_cleanups cleanup_net() run(s)"
		[ "$victim_cleanups" -lt 3 ] && break
	done
	check "[$mode] the hook saw all 3 victims" [ "$victim_nets" = 3 ]
	check "[$mode] at least two of them died in one cleanup_net()" [ "$victim_cleanups" -lt 3 ]
done
unload_rnsid
finish
