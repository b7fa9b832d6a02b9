#!/bin/sh
# rnsid's KUnit suite (rnsid_kunit.ko, rust/kunit.rs): loading the module
# runs it. Its KTAP, as KUnit keeps it in debugfs, becomes this scenario's
# subtest (ktap-runner), one result per case, each counted by the host; the
# scenario fails if the suite does. First of the scenarios: the pernet case
# wants no net dying meanwhile.
. /rnsid/lib.sh
ko=/rnsid/rnsid_kunit.ko
results=/sys/kernel/debug/kunit/rnsid/results
[ -f "$ko" ] || { echo "no rnsid_kunit.ko here: a kernel without CONFIG_KUNIT=y"; exit $KSFT_SKIP; }

ids_none() { [ -z "$(ip netns list-id)" ]; }
suite_ok() { grep -q '^ok 1 rnsid\( \|$\)' /tmp/kunit.ktap; }

# The nsid cases give init_net an id for nets that have none in it yet.
add_netns ku-a ku-b ku-c
check "init_net holds no id yet" ids_none
check "insmod rnsid_kunit.ko (runs the suite)" insmod "$ko"
cat "$results" >/tmp/kunit.ktap 2>/dev/null
check "KUnit keeps the suite's results in $results" [ -s /tmp/kunit.ktap ]
[ -n "${RNSID_SUBTEST:-}" ] && cp /tmp/kunit.ktap "$RNSID_SUBTEST"
[ -z "${RNSID_SUBTEST:-}" ] && cat /tmp/kunit.ktap
check "KUnit's verdict on the suite is ok" suite_ok
check "rmmod rnsid_kunit" rmmod rnsid_kunit
check "the ids the suite gave init_net are gone again" ids_none

# The next scenarios count nets: these must be gone, which rnsid tells.
load_rnsid
delete_all_netns
check "the suite's nets are freed" settle 60
unload_rnsid
finish
