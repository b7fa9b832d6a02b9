#!/bin/sh
# rnsid/hold: holds the next cleanup_net() in the hook until released, refuses
# what it does not know, and never keeps the module from unloading.
. /rnsid/lib.sh

say() { echo "$1" >$RNSID_HOLD; }
load_rnsid
read_stats
live0=$st_live_nets
check "starts open" hold_is open
check "an unknown command is refused" fails say bogus
check "arm" say arm
check "reads armed" hold_is armed
check "arming twice is refused" fails say arm
check "release disarms" say release
check "reads open again" hold_is open
check "flush (an RCU barrier) works" say flush

ip netns add h1
check "a new net is counted" live_is $((live0 + 1))
say arm
ip netns del h1
check "the dying net's cleanup_net() is held" wait_for 20 hold_is holding
nap 1
check "and stays held: the net is not freed yet" live_is $((live0 + 1))
say release
check "released, the net is freed" settle 30
check "reads open after the release" hold_is open

ip netns add h2
say arm
ip netns del h2
check "held again" wait_for 20 hold_is holding
# The unload lets the held run go before it unregisters the hook, which waits
# for that run to leave.
check "rmmod while a cleanup_net() is held returns" timeout 60 rmmod rnsid
check "rnsid is gone" fails grep -q '^rnsid ' /proc/modules
finish
