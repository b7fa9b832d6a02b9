/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What rnsid needs from C beyond the kernel's own rust/bindings: the real
 * struct net, the globals that order its list, the netlink pieces of the
 * RTM_DELNSID notification, rust/glue.c, and rust/kunit_glue.c for the
 * KUnit suite.
 */
#include <linux/debugfs.h>
#include <linux/idr.h>
#include <linux/ktime.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rcupdate.h>
#include <linux/rtnetlink.h>
#include <linux/rwsem.h>
#include <linux/seq_file.h>
#include <linux/skbuff.h>
#include <linux/socket.h>
#include <linux/utsname.h>
#include <net/net_namespace.h>
#include <net/netlink.h>

#include "glue.h"
#include "kunit_glue.h"

/* Macros bindgen cannot see through, as constants it can. */
const int RNSID_AF_UNSPEC = AF_UNSPEC;
const int RNSID_NUMA_NO_NODE = NUMA_NO_NODE;
const int RNSID_EMSGSIZE = EMSGSIZE;
const int RNSID_RTM_DELNSID = RTM_DELNSID;
const int RNSID_NETNSA_NSID = NETNSA_NSID;
const unsigned int RNSID_RTNLGRP_NSID = RTNLGRP_NSID;
