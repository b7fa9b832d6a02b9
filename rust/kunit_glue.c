// SPDX-License-Identifier: GPL-2.0
/*
 * The C side of rnsid_kunit.ko, rnsid's KUnit suite (rust/kunit.rs): the
 * module's glue, and how a Rust case tells KUnit about itself.
 *
 * The suite is built from rnsid's own sources, which call into rust/glue.c;
 * an object belongs to one module only, so the test module compiles that
 * same file into itself here. Its module_init is the test module's own, which
 * registers nothing (rust/rnsid_kunit.rs); the parameters it declares exist
 * on rnsid_kunit too, unused.
 */
#include <kunit/test.h>
#include <kunit/test-bug.h>

#include "glue.c"
#include "kunit_glue.h"

/*
 * Fails the case running in this task, with KUnit's own failure line
 * ("# case: FILE:LINE: MSG") in its log and its KTAP, and lets it go on:
 * an expectation, not an assertion, so that the case still releases what it
 * holds. Outside a KUnit case the line goes to the kernel log alone.
 */
void rnsid_kunit_fail(const char *file, int line, const char *msg)
{
	if (kunit_get_current_test())
		kunit_hooks.fail_current_test(file, line, "%s", msg);
	else
		pr_err("%s:%d: %s (not in a KUnit case)\n", file, line, msg);
}

/* Marks the running case skipped, WHY its KTAP directive; it goes on. */
void rnsid_kunit_skip(const char *why)
{
	struct kunit *test = kunit_get_current_test();

	if (test)
		kunit_mark_skipped(test, "%s", why);
}

/* A diagnostic line in the running case's log and KTAP. */
void rnsid_kunit_info(const char *msg)
{
	struct kunit *test = kunit_get_current_test();

	if (test)
		kunit_info(test, "%s", msg);
	else
		pr_info("%s\n", msg);
}
