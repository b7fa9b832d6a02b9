/* SPDX-License-Identifier: GPL-2.0 */
/* What rust/glue.c offers the Rust side. */
#ifndef RNSID_GLUE_H
#define RNSID_GLUE_H

#include <linux/types.h>

struct dentry;
struct net;
struct sk_buff;

void rnsid_spin_lock(spinlock_t *lock);
void rnsid_spin_unlock(spinlock_t *lock);
void rnsid_spin_lock_bh(spinlock_t *lock);
void rnsid_spin_unlock_bh(spinlock_t *lock);
void *rnsid_net_generic(const struct net *net, unsigned int id);
void rnsid_kfree_skb(struct sk_buff *skb);
struct dentry *rnsid_debugfs_create_stats(struct dentry *parent);
struct dentry *rnsid_debugfs_create_hold(struct dentry *parent);
bool rnsid_hold_wait(unsigned int timeout_ms);
void rnsid_hold_wake(void);
bool rnsid_refusal_ratelimit(void);
void rnsid_cond_resched(void);
bool rnsid_hook_available(void);
int rnsid_hook_register(void);
void rnsid_hook_unregister(void);

#endif
