// SPDX-License-Identifier: GPL-2.0
/*
 * rnsid's KUnit suite on the 6.12 series, whose kernel crate has no
 * #[kunit_tests]: the same cases as on 7.x (rust/kunit.rs), each a Rust
 * function this C suite calls. Kbuild compiles it for 6.12 only; on 7.x the
 * suite is Rust's own.
 */
#include <kunit/test.h>

/* Implemented in Rust (rust/kunit.rs); they report through rust/kunit_glue.c. */
void rnsid_kunit_delnsid_message(void);
void rnsid_kunit_pernet_registration(void);
void rnsid_kunit_net_list_starts_at_init_net(void);
void rnsid_kunit_ids_agree_with_peernet2id(void);
void rnsid_kunit_removed_id_is_gone(void);

#define RNSID_CASE(name)					\
	static void name(struct kunit *test)			\
	{							\
		rnsid_kunit_##name();				\
	}

RNSID_CASE(delnsid_message)
RNSID_CASE(pernet_registration)
RNSID_CASE(net_list_starts_at_init_net)
RNSID_CASE(ids_agree_with_peernet2id)
RNSID_CASE(removed_id_is_gone)

static struct kunit_case rnsid_cases[] = {
	KUNIT_CASE(delnsid_message),
	KUNIT_CASE(pernet_registration),
	KUNIT_CASE(net_list_starts_at_init_net),
	KUNIT_CASE(ids_agree_with_peernet2id),
	KUNIT_CASE(removed_id_is_gone),
	{}
};

static struct kunit_suite rnsid_suite = {
	.name = "rnsid",
	.test_cases = rnsid_cases,
};
kunit_test_suite(rnsid_suite);
