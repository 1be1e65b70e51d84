/*
 * test_tmpl.c — the ctemplate shim (mlistd/tmpl.cc).
 *
 * Expands the templates in tests/data/tmpl/: variables, a repeated section
 * with per-row values and a shown section, HTML escaping by :h and by
 * AUTOESCAPE, UTF-8 values, the two strip modes, failures (missing file,
 * syntax error: -1 with a reason, twice), distinct dictionaries in parallel
 * threads, and the tmpl_find() language fallback chain as a table.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tmpl.h"

#define DATA "tests/data/tmpl/"

static char *
expand_ok(const char *path, const struct tmpl_dict *d, enum tmpl_mode mode)
{
	const char *error = NULL;
	char *out = NULL;

	if (tmpl_expand(path, d, mode, &out, &error) < 0)
		fail_msg("%s: %s", path, error);
	assert_non_null(out);
	return out;
}

static void
test_text_sections(void **state)
{
	static const char *const emails[] = {
		"ana@example.org", "bo@example.org", "cy@example.org",
	};
	struct tmpl_dict *d = tmpl_dict_new();
	char *out;

	tmpl_set(d, "NAME", "Élodie Ménard");
	tmpl_set(d, "COMMITTEE", "Île-de-France");
	tmpl_set_int(d, "COUNT", 1234567890123LL);
	for (size_t i = 0; i < 3; i++) {
		struct tmpl_dict *row = tmpl_add_section(d, "ROW");
		assert_non_null(row);
		tmpl_set_int(row, "N", (long long)i + 1);
		tmpl_set(row, "EMAIL", emails[i]);
	}
	out = expand_ok(DATA "text.tpl", d, TMPL_TEXT);
	assert_string_equal(out,
	    "Bonjour Élodie Ménard,\n"
	    "\n"
	    "Votre comité : Île-de-France (1234567890123 membres).\n"
	    "1. ana@example.org [Île-de-France]\n"
	    "2. bo@example.org [Île-de-France]\n"
	    "3. cy@example.org [Île-de-France]\n");
	free(out);

	/* a shown section; NULL value is the empty string */
	tmpl_show_section(d, "FOOTER");
	tmpl_set(d, "SIGNATURE", "Le bureau");
	tmpl_set(d, "NAME", NULL);
	out = expand_ok(DATA "text.tpl", d, TMPL_TEXT);
	assert_non_null(strstr(out, "Bonjour ,\n\n"));
	assert_non_null(strstr(out, "[Île-de-France]\n-- \nLe bureau\n"));
	free(out);
	tmpl_dict_free(&d);
	assert_null(d);
	tmpl_dict_free(&d);
}

static void
test_html_escape(void **state)
{
	struct tmpl_dict *d = tmpl_dict_new();
	char *out;

	tmpl_set(d, "V", "<script>&\"");
	out = expand_ok(DATA "escape.html", d, TMPL_HTML);
	assert_string_equal(out, "<p>\n&lt;script&gt;&amp;&quot;\n</p>\n");
	free(out);
	/* the same path in text mode is a distinct cache entry: blank line kept */
	out = expand_ok(DATA "escape.html", d, TMPL_TEXT);
	assert_string_equal(out, "<p>\n\n&lt;script&gt;&amp;&quot;\n</p>\n");
	free(out);
	out = expand_ok(DATA "autoescape.html", d, TMPL_HTML);
	assert_string_equal(out, "<p>&lt;script&gt;&amp;&quot;</p>\n");
	free(out);

	/* UTF-8 goes through escaping unchanged */
	tmpl_set(d, "V", "Région Provence-Alpes-Côte d’Azur");
	out = expand_ok(DATA "autoescape.html", d, TMPL_HTML);
	assert_string_equal(out, "<p>Région Provence-Alpes-Côte d’Azur</p>\n");
	free(out);
	tmpl_dict_free(&d);
}

static void
test_no_dict(void **state)
{
	char *out = expand_ok(DATA "lang/fr/a.txt", NULL, TMPL_TEXT);

	assert_string_equal(out, "a in fr\n");
	free(out);
}

static void
expect_failure(const char *path, enum tmpl_mode mode, const char *reason)
{
	const char *error = NULL;
	char *out = (char *)"untouched";
	char prefix[256];

	assert_int_equal(tmpl_expand(path, NULL, mode, &out, &error), -1);
	assert_null(out);
	assert_non_null(error);
	snprintf(prefix, sizeof(prefix), "cannot load template %s", path);
	if (strncmp(error, prefix, strlen(prefix)) != 0 ||
	    strstr(error, reason) == NULL)
		fail_msg("unexpected reason: %s", error);
}

static void
test_failures(void **state)
{
	const char *error = NULL;
	char *out = NULL;

	/* twice each: ctemplate is silent the second time, the reason is not */
	for (int i = 0; i < 2; i++) {
		expect_failure(DATA "missing.tpl", TMPL_TEXT, "missing.tpl");
		expect_failure(DATA "syntax-error.tpl", TMPL_TEXT, "section");
		expect_failure(DATA "syntax-error.tpl", TMPL_HTML, "section");
	}
	expect_failure(DATA "lang", TMPL_TEXT, "");
	assert_int_equal(tmpl_expand("", NULL, TMPL_TEXT, &out, &error), -1);
	assert_null(out);
	assert_non_null(error);
}

struct thread_arg {
	int	 id;
	int	 failures;
};

static void *
expand_thread(void *p)
{
	struct thread_arg *arg = p;

	for (int i = 0; i < 200; i++) {
		struct tmpl_dict *d = tmpl_dict_new();
		const char *error;
		char *out, want[64];

		tmpl_set_int(d, "V", arg->id * 1000 + i);
		snprintf(want, sizeof(want), "<p>%d</p>\n", arg->id * 1000 + i);
		if (tmpl_expand(DATA "autoescape.html", d, TMPL_HTML, &out,
		    &error) < 0 || strcmp(out, want) != 0)
			arg->failures++;
		free(out);
		tmpl_dict_free(&d);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	pthread_t th[4];
	struct thread_arg args[4];

	for (int i = 0; i < 4; i++) {
		args[i].id = i;
		args[i].failures = 0;
		assert_int_equal(pthread_create(&th[i], NULL, expand_thread,
		    &args[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(args[i].failures, 0);
	}
}

struct find_case {
	const char	*lang;
	const char	*name;
	const char	*expect;	/* path under DATA "lang/", NULL: none */
};

static const struct find_case find_cases[] = {
	{ "de", "a.txt", "de/a.txt" },
	{ "de", "b.txt", "fr/b.txt" },
	{ "de", "c.txt", "en/c.txt" },
	{ "de", "none.txt", NULL },
	{ "fr", "c.txt", "en/c.txt" },
	{ "en", "a.txt", "en/a.txt" },
	{ "it", "a.txt", "fr/a.txt" },
	{ NULL, "a.txt", "fr/a.txt" },
	{ "", "b.txt", "fr/b.txt" },
	{ "de", "dir.txt", "fr/dir.txt" },	/* de/dir.txt is a directory */
	{ "../de", "a.txt", "fr/a.txt" },	/* not a tag: skipped */
	{ "de/..", "a.txt", "fr/a.txt" },
	{ "de", "../en/c.txt", NULL },
	{ "de", "/etc/passwd", NULL },
	{ "de", "", NULL },
	{ "de", NULL, NULL },
};

static void
test_find(void **state)
{
	for (size_t i = 0; i < sizeof(find_cases) / sizeof(find_cases[0]); i++) {
		const struct find_case *c = &find_cases[i];
		char *path = tmpl_find(DATA "lang", c->lang, c->name);
		char want[256];

		if (c->expect == NULL) {
			if (path != NULL)
				fail_msg("case %zu: got %s, want none", i, path);
			continue;
		}
		snprintf(want, sizeof(want), DATA "lang/%s", c->expect);
		if (path == NULL || strcmp(path, want) != 0)
			fail_msg("case %zu: got %s, want %s", i,
			    path != NULL ? path : "none", want);
		free(path);
	}
	assert_null(tmpl_find(NULL, "fr", "a.txt"));
	assert_null(tmpl_find(DATA "nowhere", "fr", "a.txt"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_sections),
		cmocka_unit_test(test_html_escape),
		cmocka_unit_test(test_no_dict),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_find),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
