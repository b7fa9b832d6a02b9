#!/bin/sh
# A deleted namespace's id disappears from every survivor's list-id, and each
# survivor's listeners see exactly one RTM_DELNSID for it.
. /rnsid/lib.sh

gone() { [ -z "$(nsids_in "$1" | grep -x "$2")" ]; }
deletions() { grep -c '^Deleted nsid' "/tmp/mon.$1"; }

load_rnsid
for ns in a b c; do ip netns add "$ns"; done
ip -n a netns set b 1
ip -n a netns set c 2
ip -n b netns set a 3
ip -n b netns set c 4
ip -n c netns set a 5
ip -n c netns set b 6
for ns in a c; do
	ip -n "$ns" monitor nsid >"/tmp/mon.$ns" 2>&1 &
	eval "mon_$ns=$!"
done
# ip monitor has no readiness signal; give it time to join RTNLGRP_NSID.
sleep 1

ip netns del b
check "b's id 1 is gone from a" wait_for 30 gone a 1
check "b's id 6 is gone from c" wait_for 30 gone c 6
check "a keeps id 2 for c" [ "$(nsid_of a c)" = 2 ]
check "c keeps id 5 for a" [ "$(nsid_of c a)" = 5 ]
check "a's listener saw the deletion of id 1" wait_for 10 grep -q '^Deleted nsid 1 ' /tmp/mon.a
check "c's listener saw the deletion of id 6" wait_for 10 grep -q '^Deleted nsid 6 ' /tmp/mon.c
check "a's listener saw exactly one deletion" [ "$(deletions a)" = 1 ]
check "c's listener saw exactly one deletion" [ "$(deletions c)" = 1 ]
kill "$mon_a" "$mon_c"
wait 2>/dev/null
cat /tmp/mon.a /tmp/mon.c

delete_all_netns
unload_rnsid
finish
