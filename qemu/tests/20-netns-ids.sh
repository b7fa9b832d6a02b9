#!/bin/sh
# Ids set with `ip netns set` are what `ip netns list-id` shows, in the net
# that holds them and nowhere else.
. /rnsid/lib.sh

ids_are() { [ "$(nsids_in "$1" | sort -n | tr '\n' ' ')" = "$2" ]; }

load_rnsid
for ns in a b c; do ip netns add "$ns"; done
ip -n a netns set b 10
ip -n a netns set c 11
ip -n b netns set a 20

check "a holds id 10 for b" [ "$(nsid_of a b)" = 10 ]
check "a holds id 11 for c" [ "$(nsid_of a c)" = 11 ]
check "b holds id 20 for a" [ "$(nsid_of b a)" = 20 ]
check "a lists exactly 10 11" ids_are a "10 11 "
check "b lists exactly 20" ids_are b "20 "
check "c lists nothing" ids_are c ""
check "a second id for the same peer is refused" fails ip -n a netns set c 12
check "an id already in use is refused" fails ip -n b netns set c 20
ip -n a netns list-id

delete_all_netns
unload_rnsid
finish
