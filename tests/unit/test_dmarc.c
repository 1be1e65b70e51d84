/* test_dmarc.c — DMARC record parsing and the munge decision (no DNS:
 * "auto" with a lookup is exercised only where the resolver answers). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "dmarc.h"
#include "util.h"

static const struct { const char *record, *policy; } cases[] = {
	{ "v=DMARC1; p=reject; rua=mailto:d@example.org", "reject" },
	{ "v=DMARC1;p=quarantine;pct=100", "quarantine" },
	{ "V=dmarc1; P=Reject", "reject" },
	{ "v=DMARC1; p=none", "none" },
	{ "v=DMARC1; rua=mailto:d@example.org", NULL },	/* no policy */
	{ "v=spf1 include:example.org -all", NULL },		/* not DMARC */
	{ "", NULL },
};

static void
test_policy(void **state)
{
	for (size_t i = 0; i < nitems(cases); i++) {
		const char *p = dmarc_policy(cases[i].record);

		if ((p == NULL) != (cases[i].policy == NULL) ||
		    (p && strcmp(p, cases[i].policy) != 0))
			fail_msg("%s: got %s", cases[i].record, p ? p : "NULL");
	}
	assert_null(dmarc_policy(NULL));
}

static void
test_modes(void **state)
{
	assert_true(dmarc_should_munge("munge", "example.org"));
	assert_false(dmarc_should_munge("none", "example.org"));
	assert_false(dmarc_should_munge("auto", NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_modes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
