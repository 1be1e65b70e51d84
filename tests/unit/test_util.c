/*
 * test_util.c — what a person reads on a terminal (mlistd/util.c and
 * mlistd/i18n.c): display width of UTF-8 text, tables aligned by it, the
 * French collation key that sorts every list, and the catalogue of states
 * and reasons. Each is a table of cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "i18n.h"
#include "util.h"

static const struct { const char *s; size_t width; } width_cases[] = {
	{ "", 0 },
	{ "Quimper", 7 },
	{ "Saint-\xc3\x89tienne", 13 },			/* É precomposed: 2 bytes, 1 column */
	{ "Saint-E\xcc\x81tienne", 13 },			/* E + combining acute: 0 more */
	{ "Fran\xc3\xa7oise L'H\xc3\xb4te", 16 },
	{ "\xe6\x9d\x8e", 2 },				/* a CJK ideograph: 2 columns */
	{ "a\xffz", 3 },				/* a stray byte: one column */
	{ "\xc3", 1 },					/* a cut sequence */
};

static void
test_width(void **state)
{
	for (size_t i = 0; i < nitems(width_cases); i++)
		if (utf8_width(width_cases[i].s) != width_cases[i].width)
			fail_msg("width of \"%s\": %zu, wanted %zu", width_cases[i].s,
			    utf8_width(width_cases[i].s), width_cases[i].width);
}

static void
test_table(void **state)
{
	struct table *t = table_new(3);
	char *out = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);

	table_row(t, (const char *[]){ "nom", "r\xc3\xa9gion", "" });
	table_row(t, (const char *[]){ "Saint-\xc3\x89tienne", "Bretagne", "x" });
	table_row(t, (const char *[]){ "\xe6\x9d\x8e", NULL, "" });
	table_print(t, "> ", fp);
	fclose(fp);
	assert_string_equal(out,
	    "> nom            r\xc3\xa9gion\n"		/* no trailing blanks */
	    "> Saint-\xc3\x89tienne  Bretagne  x\n"
	    "> \xe6\x9d\x8e\n");
	free(out);
	table_free(&t);
	assert_null(t);
}

/* Each list in the order a French reader expects. */
static const char *const collate_orders[][6] = {
	{ "\xc3\x89lodie", "Fran\xc3\xa7ois", "Fran\xc3\xa7oise", "zo\xc3\xa9", NULL },
	{ "Auvergne-Rh\xc3\xb4ne-Alpes", "Bretagne", "\xc3\x8ele-de-France", "Occitanie", NULL },
	{ "cote", "C\xc3\xb4te", "c\xc3\xb4t\xc3\xa9", "Cotes", NULL },	/* accents break ties */
	{ "Fran\xc3\xa7ois Martin", "Fran\xc3\xa7oise L'H\xc3\xb4te", NULL },
	{ "Le Bihan", "Lef\xc3\xa8vre", "L\xc3\xa9ger", NULL },
	{ "\xc5\x93uvre", "ouvrir", NULL },		/* œ as oe */
	{ "Saint-\xc3\x89tienne", "Saint Malo", "Sainte-Anne", NULL },
};

static void
test_collate(void **state)
{
	for (size_t i = 0; i < nitems(collate_orders); i++)
		for (size_t j = 0; collate_orders[i][j + 1]; j++)
			if (str_collate(collate_orders[i][j], collate_orders[i][j + 1]) >= 0)
				fail_msg("\"%s\" should sort before \"%s\"", collate_orders[i][j],
				    collate_orders[i][j + 1]);
	assert_int_equal(str_collate("Quimper", "Quimper"), 0);
}

static const struct { const char *domain, *code, *fr, *en; } state_cases[] = {
	{ "message", "held", "retenu", "held" },
	{ "message", "done", "envoy\xc3\xa9", "sent" },
	{ "submission", "held", "en attente", "held" },
	{ "delivery", "sent", "remis", "delivered" },
	{ "reason", "not a national sender", "l'exp\xc3\xa9" "diteur n'est pas un exp\xc3\xa9"
	  "diteur national", "not a national sender" },
	{ "reason", "address unclear: two lists", "adresse incertaine\xc2\xa0: two lists",
	  "address unclear: two lists" },
	{ "mailing", "reminder-3", "relance, jours avant la date limite\xc2\xa0: 3",
	  "reminder, days before the deadline: 3" },
	{ "mailing", "reminder-", "reminder-", "reminder-" },	/* nothing after the prefix */
	{ "reply", "250 2.0.0 Ok: queued as 4F", "250 2.0.0 Ok: queued as 4F",
	  "250 2.0.0 Ok: queued as 4F" },			/* a server's words: as they are */
	{ "message", "sent", "sent", "sent" },			/* another domain's code */
};

static void
test_states(void **state)
{
	for (int en = 0; en <= 1; en++) {
		i18n_set_language(en ? "en" : "fr");
		for (size_t i = 0; i < nitems(state_cases); i++)
			assert_string_equal(i18n_state(state_cases[i].domain, state_cases[i].code),
			    en ? state_cases[i].en : state_cases[i].fr);
	}
	i18n_set_language("fr");
	assert_string_equal(i18n_state("reason", NULL), "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_width),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_collate),
		cmocka_unit_test(test_states),
	};

	return cmocka_run_group_tests_name("test_util", tests, NULL, NULL);
}
