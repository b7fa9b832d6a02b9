#!/bin/sh
# A short soak (nsid-soak, qemu/nsid-tools): 200 nets created and
# destroyed at random with explicit and veth-allocated ids, batches dying
# while others are born, the mode switched through every mode the kernel has
# and rnsid reloaded while nets die, judged at every checkpoint by an oracle
# kept from the workload (list-id of every net, every listener's RTM_NEWNSID
# and RTM_DELNSID, live_nets, rnsid's problem counters). Half the batches die
# with faults injected into their nsid step (failslab aimed at it on the
# debug kernels, rnsid's fail_notify on the plain ones), each to end in the
# documented outcome. The seed is fixed so that a failure replays; make soak
# runs the long form.
. /rnsid/lib.sh

[ -x /bin/nsid-soak ] || { echo "nsid-soak is not in this initramfs"; exit $KSFT_FAIL; }
load_rnsid
# Every mode the kernel has, whatever rnsid.modes narrows for the other
# scenarios: a soak's cost is its nets, not its modes.
modes=$(RNSID_MODES= supported_modes)
nets=${RNSID_SOAK_NETS:-200}
check "nsid-soak: $nets nets, modes ${modes% }, reloads, faults" \
	/bin/nsid-soak --seed 0x50a4 --nets "$nets" --population 16 --progress 30 --faults 50 \
	--modes "$(echo $modes | tr ' ' ',')" --json /tmp/soak.json
# Switched to is not enough: with the default 200 nets every mode must have
# had batches of its own (on the debug kernels too, whose other scenarios
# run in two modes only: rnsid_debug_auto_modes in scripts/lib.sh).
if [ "$nets" -ge 200 ]; then
	steps=$(grep -o '"steps_by_mode":{[^}]*}' /tmp/soak.json)
	idle=
	for m in $modes; do
		case "$steps" in *"\"$m\":"[1-9]*) ;; *) idle="$idle $m" ;; esac
	done
	[ -z "$idle" ] || echo "# modes without a batch:$idle ($steps)"
	check "every mode had batches in the soak" test -z "$idle"
fi
check "rnsid unloads after the soak" unload_rnsid
finish
