/* SPDX-License-Identifier: GPL-2.0 */
/* What rust/kunit_glue.c offers the KUnit suite (rust/kunit.rs). */
#ifndef RNSID_KUNIT_GLUE_H
#define RNSID_KUNIT_GLUE_H

void rnsid_kunit_fail(const char *file, int line, const char *msg);
void rnsid_kunit_skip(const char *why);
void rnsid_kunit_info(const char *msg);

#endif
