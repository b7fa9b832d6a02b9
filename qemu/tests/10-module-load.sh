#!/bin/sh
# rnsid.ko loads, reports the running kernel and the namespaces it finds on
# net_namespace_list, and unloads cleanly.
. /rnsid/lib.sh

load_message() { dmesg | grep 'rnsid: loaded on Linux' | tail -n1; }
names_kernel() { load_message | grep -q "on Linux $(uname -r) "; }
counts() { load_message | grep -q ": $1 network namespace(s)"; }
loaded() { grep -q '^rnsid ' /proc/modules; }
unloaded_message() { dmesg | tail -n 5 | grep -q 'rnsid: unloaded'; }

ip netns add ml-a
ip netns add ml-b
count_netns
expected=$netns_n

check "insmod rnsid.ko" load_rnsid
load_message
check "load message names the running kernel $(uname -r)" names_kernel
check "load message counts $expected namespaces" counts "$expected"
check "rnsid is in /proc/modules" loaded
check "rmmod rnsid" unload_rnsid
check "unload message logged" unloaded_message
check "rnsid is gone from /proc/modules" fails loaded

# The count is read at load time, from the live list.
ip netns add ml-c
check "a second insmod" load_rnsid
check "it counts the namespace added since: $((expected + 1))" counts $((expected + 1))
check "a second rmmod" unload_rnsid
delete_all_netns
finish
