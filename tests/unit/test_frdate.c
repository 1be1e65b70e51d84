/*
 * test_frdate.c — French dates in people's words: a table of texts with
 * the date read (or none), and the year chosen from the mail's date and
 * the period.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "frdate.h"
#include "util.h"

static const struct {
	const char	*text;
	const char	*mail, *start;	/* mail's date, issue period start */
	const char	*want;		/* NULL: no date */
} cases[] = {
	{ "Fête de quartier du 14 novembre", "2026-12-02", "2026-11-01", "2026-11-14" },
	{ "samedi 21/11 : braderie", "2026-12-02", "2026-11-01", "2026-11-21" },
	{ "Le 3 déc. nous avons fêté", "2026-12-05", "2026-11-01", "2026-12-03" },
	{ "Compte rendu du 14/11/2026", "2026-12-02", "", "2026-11-14" },
	{ "Loto du 1er décembre", "2026-12-02", "2026-11-01", "2026-12-01" },
	{ "DIMANCHE 6 DEC 2026", "2026-12-02", "2026-11-01", "2026-12-06" },
	{ "le 21-11 au local", "2026-12-02", "", "2026-11-21" },
	{ "le 14/11/26", "2026-12-02", "", "2026-11-14" },
	/* the nearest before the mail: December written in January */
	{ "Repas du 20 décembre", "2027-01-05", "2026-12-01", "2026-12-20" },
	/* an event announced (after the mail), within the period */
	{ "Marché de Noël le 19 décembre", "2026-12-02", "2026-12-01", "2026-12-19" },
	/* no date */
	{ "Une demi-journée, 1/2 des bénévoles", "2026-12-02", "", NULL },
	{ "Réunion à 14h30, salle 12", "2026-12-02", "", NULL },
	{ "le 31 novembre", "2026-12-02", "", NULL },
	{ "3 mais 4", "2026-12-02", "", NULL },
	{ "le 14/11/1990", "2026-12-02", "", NULL },	/* a year far away */
	{ "", "2026-12-02", "", NULL },
	{ "29 février", "2026-03-10", "", "2024-02-29" },
	{ "Bulletin n°7 : racontez-nous", "2026-12-02", "", NULL },
};

static void
test_table(void **state)
{
	for (size_t i = 0; i < nitems(cases); i++) {
		char out[11] = "unset";
		int found = frdate_pick(cases[i].text, cases[i].mail, cases[i].start, out);

		if (cases[i].want == NULL && found)
			fail_msg("\"%s\": read %s, wanted none", cases[i].text, out);
		if (cases[i].want && (!found || strcmp(out, cases[i].want) != 0))
			fail_msg("\"%s\": read %s, wanted %s", cases[i].text, found ? out : "none",
			    cases[i].want);
	}
}

static void
test_find(void **state)
{
	int d, m, y;

	assert_int_equal(frdate_find(NULL, &d, &m, &y), 0);
	assert_int_equal(frdate_find("samedi 1er mars 2025", &d, &m, &y), 1);
	assert_int_equal(d, 1);
	assert_int_equal(m, 3);
	assert_int_equal(y, 2025);
	assert_int_equal(frdate_find("999999999999999999 mars", &d, &m, &y), 0);
}

/* The one way mails and pages write a date. */
static void
test_long(void **state)
{
	char s[64];

	frdate_long(0, "2026-11-14", s, sizeof s);
	assert_string_equal(s, "14 novembre 2026");
	frdate_long(0, "2026-11-01", s, sizeof s);
	assert_string_equal(s, "1er novembre 2026");
	frdate_long(1, "2026-11-14", s, sizeof s);
	assert_string_equal(s, "14 November 2026");
	frdate_long(0, "bad", s, sizeof s);
	assert_string_equal(s, "bad");
	frdate_long(0, "2026-13-01", s, sizeof s);
	assert_string_equal(s, "2026-13-01");
	assert_string_equal(frdate_month_name(0, 8), "août");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
