#!/bin/sh
# When RTM_DELNSID cannot be sent, the survivor's listeners are told of the
# error (rtnl_set_sk_err, as the C does) and the unhash still completes.
. /rnsid/lib.sh

load_rnsid
ran=0
for mode in $(supported_modes); do
	case $mode in relocated | legacy | batched) ;; *) continue ;; esac
	ran=1
	set_mode "$mode"
	add_netns f1 f2
	set_ids f1 f2 4
	mode_stat "$mode" notify_failed
	base_failed=$st
	start_monitors f1
	echo 1 >/sys/module/rnsid/parameters/fail_notify
	ip netns del f2
	check "[$mode] f2's id is gone from f1 all the same" wait_for 30 lists_none f1 4
	check "[$mode] f1's listener got the error" wait_for 10 \
		grep -q ' ERROR errno=12 ' /tmp/mon.f1
	check "[$mode] f1's listener got no RTM_DELNSID" saw_exactly f1 ""
	mode_stat "$mode" notify_failed
	check "[$mode] the failure was counted" [ "$st" = $((base_failed + 1)) ]
	check "[$mode] the injected failure was used up" [ "$(cat /sys/module/rnsid/parameters/fail_notify)" = 0 ]
	stop_monitors
	delete_all_netns
	check "[$mode] every namespace is freed" settle 60
done
set_mode c
unload_rnsid
[ "$ran" = 1 ] || { echo "no Rust mode on this kernel (no hook)"; exit $KSFT_SKIP; }
finish
