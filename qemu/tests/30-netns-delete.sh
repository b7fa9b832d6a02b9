#!/bin/sh
# A deleted namespace's id disappears from every survivor's list-id, and each
# survivor's listeners see exactly one RTM_DELNSID for it.
. /rnsid/lib.sh

load_rnsid
for ns in a b c; do ip netns add "$ns"; done
ip -n a netns set b 1
ip -n a netns set c 2
ip -n b netns set a 3
ip -n b netns set c 4
ip -n c netns set a 5
ip -n c netns set b 6
start_monitors a c

ip netns del b
check "b's id 1 is gone from a" wait_for 30 lists_none a 1
check "b's id 6 is gone from c" wait_for 30 lists_none c 6
check "a keeps id 2 for c" [ "$(nsid_of a c)" = 2 ]
check "c keeps id 5 for a" [ "$(nsid_of c a)" = 5 ]
check "a's listener saw exactly the deletion of id 1" wait_for 10 saw_exactly a "1 "
check "c's listener saw exactly the deletion of id 6" wait_for 10 saw_exactly c "6 "
stop_monitors
cat /tmp/mon.a /tmp/mon.c

delete_all_netns
check "every namespace is freed" settle 30
unload_rnsid
finish
