// SPDX-License-Identifier: GPL-2.0
/*
 * rnsid's C glue: the kernel macros and inline functions Rust cannot call,
 * and the tables the kernel wants in C form (a module parameter with
 * callbacks, a debugfs file, the cleanup_net() hook). No logic lives here:
 * every callback forwards to Rust.
 */
#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/ratelimit.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "glue.h"

/* Implemented in Rust. */
int rnsid_mode_set(const char *val);
int rnsid_mode_get(char *buffer);
int rnsid_fail_notify_set(const char *val);
int rnsid_fail_notify_get(char *buffer);
int rnsid_stats_show(struct seq_file *m, void *v);
bool rnsid_unhash(struct llist_node *net_kill_list, struct net *last);
void rnsid_unhashed(struct llist_node *net_kill_list, struct net *last);
bool rnsid_hold_released(void);
int rnsid_hold_command(const char *cmd, size_t copied, size_t len);
int rnsid_hold_show(struct seq_file *m, void *v);

void rnsid_spin_lock(spinlock_t *lock)
{
	spin_lock(lock);
}

void rnsid_spin_unlock(spinlock_t *lock)
{
	spin_unlock(lock);
}

void rnsid_spin_lock_bh(spinlock_t *lock)
{
	spin_lock_bh(lock);
}

void rnsid_spin_unlock_bh(spinlock_t *lock)
{
	spin_unlock_bh(lock);
}

void *rnsid_net_generic(const struct net *net, unsigned int id)
{
	return net_generic(net, id);
}

void rnsid_kfree_skb(struct sk_buff *skb)
{
	kfree_skb(skb);
}

static int mode_set(const char *val, const struct kernel_param *kp)
{
	return rnsid_mode_set(val);
}

static int mode_get(char *buffer, const struct kernel_param *kp)
{
	return rnsid_mode_get(buffer);
}

/*
 * NOARG: a bare "mode" at insmod reaches rnsid (as NULL), which refuses it in
 * its own words; without the flag the kernel would log its own line.
 */
static const struct kernel_param_ops mode_ops = {
	.flags = KERNEL_PARAM_OPS_FL_NOARG,
	.set = mode_set,
	.get = mode_get,
};
module_param_cb(mode, &mode_ops, NULL, 0644);
MODULE_PARM_DESC(mode, "nsid unhash strategy: c (default), relocated, legacy, batched (7.x), shadow or floor");

/*
 * Refused knob values are logged (rust/param.rs), but a writer looping on junk
 * must not flood the log: the kernel's default, 10 lines per 5 s.
 */
bool rnsid_refusal_ratelimit(void)
{
	static DEFINE_RATELIMIT_STATE(rs, DEFAULT_RATELIMIT_INTERVAL,
				      DEFAULT_RATELIMIT_BURST);

	return __ratelimit(&rs);
}

/*
 * cond_resched() is a macro: a call into the scheduler on kernels without
 * preemption, nothing on preemptible ones.
 */
void rnsid_cond_resched(void)
{
	cond_resched();
}

/* Notifications to fail on purpose, to test the error path (rust/notify.rs). */
static int fail_notify_set(const char *val, const struct kernel_param *kp)
{
	return rnsid_fail_notify_set(val);
}

static int fail_notify_get(char *buffer, const struct kernel_param *kp)
{
	return rnsid_fail_notify_get(buffer);
}

static const struct kernel_param_ops fail_notify_ops = {
	.flags = KERNEL_PARAM_OPS_FL_NOARG,
	.set = fail_notify_set,
	.get = fail_notify_get,
};
module_param_cb(fail_notify, &fail_notify_ops, NULL, 0644);
MODULE_PARM_DESC(fail_notify, "make the next N RTM_DELNSID notifications fail with -ENOMEM (decimal, 0 to 4294967295)");

DEFINE_SHOW_ATTRIBUTE(rnsid_stats);

struct dentry *rnsid_debugfs_create_stats(struct dentry *parent)
{
	return debugfs_create_file("stats", 0400, parent, NULL, &rnsid_stats_fops);
}

/* rnsid/hold (rust/hold.rs): a held cleanup_net() sleeps here. */
static DECLARE_WAIT_QUEUE_HEAD(hold_wq);

bool rnsid_hold_wait(unsigned int timeout_ms)
{
	return wait_event_timeout(hold_wq, rnsid_hold_released(),
				  msecs_to_jiffies(timeout_ms)) > 0;
}

void rnsid_hold_wake(void)
{
	wake_up_all(&hold_wq);
}

/* The command's bytes as written, NULs included; Rust judges them and the length. */
static ssize_t rnsid_hold_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *ppos)
{
	char cmd[16];
	size_t copied = min(len, sizeof(cmd));
	int err;

	if (copy_from_user(cmd, ubuf, copied))
		return -EFAULT;
	err = rnsid_hold_command(cmd, copied, len);
	return err ? err : len;
}

DEFINE_SHOW_STORE_ATTRIBUTE(rnsid_hold);

struct dentry *rnsid_debugfs_create_hold(struct dentry *parent)
{
	return debugfs_create_file("hold", 0600, parent, NULL, &rnsid_hold_fops);
}

/*
 * The hook lives in qemu/patches (struct netns_nsid_ops); an unpatched
 * kernel has no such symbol, so it is looked up at run time instead of
 * linked, and the module still loads there (in mode c only).
 */
struct rnsid_nsid_ops {
	bool (*unhash)(struct llist_node *net_kill_list, struct net *last);
	void (*unhashed)(struct llist_node *net_kill_list, struct net *last);
};

static const struct rnsid_nsid_ops nsid_ops = {
	.unhash = rnsid_unhash,
	.unhashed = rnsid_unhashed,
};

bool rnsid_hook_available(void)
{
	void *reg = __symbol_get("register_netns_nsid_ops");

	if (!reg)
		return false;
	__symbol_put("register_netns_nsid_ops");
	return true;
}

int rnsid_hook_register(void)
{
	int (*reg)(const struct rnsid_nsid_ops *ops);
	int err;

	reg = __symbol_get("register_netns_nsid_ops");
	if (!reg)
		return -ENOENT;
	err = reg(&nsid_ops);
	__symbol_put("register_netns_nsid_ops");
	return err;
}

void rnsid_hook_unregister(void)
{
	void (*unreg)(const struct rnsid_nsid_ops *ops);

	unreg = __symbol_get("unregister_netns_nsid_ops");
	if (WARN_ON(!unreg))
		return;
	unreg(&nsid_ops);
	__symbol_put("unregister_netns_nsid_ops");
}
