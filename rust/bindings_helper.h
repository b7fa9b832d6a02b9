/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What rnsid needs from C beyond the kernel's own rust/bindings: the real
 * struct net and the globals that order its list.
 */
#include <linux/rtnetlink.h>
#include <linux/rwsem.h>
#include <linux/utsname.h>
#include <net/net_namespace.h>
