#!/bin/sh
# Differential conformance: generated scenarios (N from 3 to 50) run under
# mode=c and under every Rust mode in this boot; every namespace's
# RTM_NEWNSID/RTM_DELNSID messages and list-id must agree with the C's after
# every batch (nsid-compare, qemu/nsid-tools). The seeds are fixed so that a
# failure replays; make compare draws fresh ones.
. /rnsid/lib.sh

[ -x /bin/nsid-compare ] || { echo "nsid-compare is not in this initramfs"; exit $KSFT_FAIL; }
load_rnsid
modes=$(supported_modes)
modes=${modes#c }
scenarios=${RNSID_COMPARE_SCENARIOS:-20} n=${RNSID_COMPARE_N:-3-50}
check "nsid-compare: $scenarios scenarios, N $n, modes c vs ${modes% }" \
	/bin/nsid-compare --seed 0x5eed0000 --scenarios "$scenarios" --n "$n" \
	--modes "$(echo $modes | tr ' ' ',')"
unload_rnsid
finish
