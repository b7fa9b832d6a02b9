#!/bin/sh
# Several namespaces released together die in one cleanup_net() batch; every
# survivor loses its ids for all of them, including ids the victims held for
# each other (destroyed with their tables, not notified).
. /rnsid/lib.sh

web() {
	for ns in b1 b2 b3 b4 b5 b6; do ip netns add "$ns"; done
	id=1
	for a in b1 b2 b3 b4 b5 b6; do
		for b in b1 b2 b3 b4 b5 b6; do
			[ "$a" = "$b" ] && continue
			ip -n "$a" netns set "$b" "$id"
			id=$((id + 1))
		done
	done
}

# batched_once MODE: whether some cleanup_net() of MODE took more than one net.
batched_once() {
	[ "$(mode_stat "$1" nets)" -gt "$(mode_stat "$1" cleanups)" ]
}

load_rnsid
for mode in $(supported_modes); do
	teardown_check "$mode" web "b2 b3 b5" batch
	check "[$mode] the victims died in one cleanup_net() batch" batched_once "$mode"
done
unload_rnsid
finish
