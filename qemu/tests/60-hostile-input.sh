#!/bin/sh
# Hostile input to every knob of rnsid: the mode parameter at insmod and at
# run time, fail_notify, rnsid/hold, reads of rnsid/stats at odd sizes and
# offsets, and all of them at once from several threads. Each hostile value
# is refused with its errno and leaves the knob as it was; a refused insmod
# leaves one log line per value. nsid-poke makes the exact system calls (one
# write per value, embedded NULs, pread at any offset) and runs each matrix in
# one process: under KASAN every fork costs the better part of a second.
. /rnsid/lib.sh
[ -x /bin/nsid-poke ] || { echo "nsid-poke is not in this initramfs"; exit $KSFT_FAIL; }

# A first load, to learn the modes this kernel runs, and so that the kernel's
# one-time out-of-tree taint line is not logged beside a refused insmod's.
# Every mode the kernel accepts, whatever rnsid.modes narrows for the
# teardown scenarios: the others are what must be refused.
load_rnsid
modes=$(RNSID_MODES= supported_modes)
unload_rnsid
check "insmod with hostile arguments fails, one log line each; valid ones load and unload" \
	nsid-poke insmod --ko /rnsid/rnsid.ko --modes "$modes"

load_rnsid
# The stats must stand still while they are read: no net may be dying.
settle 60
check "hostile values written to parameters/mode" nsid-poke knob mode --modes "$modes"
check "hostile values written to parameters/fail_notify" nsid-poke knob fail_notify --modes "$modes"
check "hostile commands written to rnsid/hold" nsid-poke knob hold --modes "$modes"
check "rnsid/stats read at odd sizes and offsets" nsid-poke stats
check "every knob written and read at once" nsid-poke race --modes "$modes"
check "rmmod rnsid after all of it" unload_rnsid
check "rnsid is gone from /proc/modules" fails grep -q '^rnsid ' /proc/modules
finish
