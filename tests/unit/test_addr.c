/* test_addr.c — address validation, normalisation, our extension addresses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "util.h"

static const struct { const char *addr; int valid; } valid_cases[] = {
	{ "jean.dupont@example.org", 1 },
	{ "j+tag@example.org", 1 },
	{ "o'brien@sub.example.org", 1 },
	{ "x@localhost", 1 },
	{ "jean.dupont@", 0 },
	{ "@example.org", 0 },
	{ "jean dupont@example.org", 0 },
	{ "jean..dupont@example.org", 0 },
	{ ".jean@example.org", 0 },
	{ "jean@example", 0 },
	{ "jean@-example.org", 0 },
	{ "jean@example-.org", 0 },
	{ "jean@exa mple.org", 0 },
	{ "jean@example..org", 0 },
	{ "\"quoted\"@example.org", 0 },
	{ "jean@[127.0.0.1]", 0 },
	{ "a@b.c\r\nBcc: x@example.org", 0 },
	{ "", 0 },
};

static void
test_valid(void **state)
{
	for (size_t i = 0; i < nitems(valid_cases); i++)
		if (addr_valid(valid_cases[i].addr) != valid_cases[i].valid)
			fail_msg("%s: expected %d", valid_cases[i].addr, valid_cases[i].valid);
}

static void
test_normalize(void **state)
{
	char *a = addr_normalize("  <Jean.Dupont@EXAMPLE.Org> ");

	assert_string_equal(a, "Jean.Dupont@example.org");
	free(a);
	assert_null(addr_normalize("nope"));
	assert_string_equal(addr_domain("a@example.org"), "example.org");
	assert_null(addr_domain("nope"));
}

static void
test_split_ours(void **state)
{
	char *local, *ext;

	assert_int_equal(addr_split_ours("national+bretagne@comites.example.org",
	    "comites.example.org", &local, &ext), 1);
	assert_string_equal(local, "national");
	assert_string_equal(ext, "bretagne");
	free(local);
	free(ext);
	assert_int_equal(addr_split_ours("Bulletin@Comites.Example.org", "comites.example.org",
	    &local, &ext), 1);
	assert_string_equal(local, "bulletin");
	assert_string_equal(ext, "");
	free(local);
	free(ext);
	assert_int_equal(addr_split_ours("national@other.example.org", "comites.example.org",
	    &local, &ext), 0);
	assert_null(local);
}

static void
test_slug_fold(void **state)
{
	char *s = str_slugify("  Saint-Étienne  Œuvres & Côte d'Azur ");

	assert_string_equal(s, "saint-etienne-oeuvres-cote-d-azur");
	free(s);
	s = str_fold("Région");
	assert_string_equal(s, "region");
	free(s);
	assert_true(utf8_valid("é", 2));
	assert_false(utf8_valid("\xe9t\xe9", 3));
	assert_false(utf8_valid("\xc0\x80", 2));	/* overlong */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_split_ours),
		cmocka_unit_test(test_slug_fold),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
