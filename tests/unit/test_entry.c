/*
 * test_entry.c — a report's title and activity date (entry.h), table by
 * table: titles from Subjects ("Correction" noted), our call's Subject
 * recognised however a client prefixes it, the first line of the text as a
 * title (or not: a sentence, a greeting, the only line), the date reply,
 * the activity date from the title, the first paragraph or the mail, and
 * how the acknowledgement names the date and where it was read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "entry.h"
#include "util.h"

static void
test_subject_titles(void **state)
{
	static const struct { const char *subject, *title; int correction; } cases[] = {
		{ "Fête de quartier", "Fête de quartier", 0 },
		{ "RE: TR: [Comité] Braderie", "Braderie", 0 },
		{ "Correction : Braderie du 3 octobre", "Braderie du 3 octobre", 1 },
		{ "CORRECTION - Braderie", "Braderie", 1 },
		{ "Corrections apportées au local", "Corrections apportées au local", 0 },
		{ "", "", 0 },
		{ NULL, "", 0 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int corr = -1;
		char *t = entry_subject_title(cases[i].subject, &corr);

		if (strcmp(t, cases[i].title) != 0 || corr != cases[i].correction)
			fail_msg("%s: \"%s\" correction=%d", cases[i].subject ? cases[i].subject :
			    "(null)", t, corr);
		free(t);
	}
}

static void
test_call_subject(void **state)
{
	assert_true(entry_is_call_subject("Appel à contributions - Bulletin n° 6"));
	assert_true(entry_is_call_subject("APPEL A CONTRIBUTIONS"));
	assert_true(entry_is_call_subject("Rappel : bulletin n° 6"));
	/* our own Subjects, as the templates write them (U+00A0 before the colon) */
	assert_true(entry_is_call_subject("Re: Rappel\u00a0: bulletin n°\u00a06, date limite le 14 mars"));
	assert_true(entry_is_call_subject("Bulletin n°\u00a06\u00a0: racontez-nous la vie de votre comité"));
	assert_true(entry_is_call_subject("Call for contributions - issue 2"));
	assert_false(entry_is_call_subject("Fête de quartier du 14 novembre"));
	assert_false(entry_is_call_subject(""));
}

static void
test_title_from_text(void **state)
{
	static const struct { const char *body, *title, *rest; } cases[] = {
		{ "Bonjour,\n\nFête de quartier\n\nToute la rue était là.", "Fête de quartier",
		  "Bonjour,\n\nToute la rue était là." },
		{ "[[photo:1]]\nBraderie d'automne\nDes stands.", "Braderie d'automne",
		  "[[photo:1]]\nDes stands." },
		{ "Toute la rue était là, et le soleil aussi.\nMerci.", NULL, NULL },
		{ "Fête de quartier", NULL, NULL },	/* the only line: the text itself */
		{ "Fête de quartier :\nle programme.", NULL, NULL },
		{ "Chers amis,\n", NULL, NULL },
		{ "", NULL, NULL },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *body = xstrdup(cases[i].body), *t = entry_title_from_text(body);

		if (cases[i].title == NULL) {
			if (t != NULL || strcmp(body, cases[i].body) != 0)
				fail_msg("case %zu: title \"%s\", text \"%s\"", i, t, body);
		} else if (t == NULL || strcmp(t, cases[i].title) != 0 ||
		    strcmp(body, cases[i].rest) != 0)
			fail_msg("case %zu: title \"%s\", text \"%s\"", i, t ? t : "(null)", body);
		free(t);
		free(body);
	}
}

static void
test_activity_date(void **state)
{
	static const struct {
		const char *title, *body, *date, *from;
	} cases[] = {
		{ "Fête de quartier du 14 novembre", "Toute la rue.", "2026-11-14", "subject" },
		{ "Braderie", "Bonjour,\n\nSamedi 21/11 nous avons tenu un stand.\n\nLe 3 déc. aussi.",
		  "2026-11-21", "text" },
		{ "Braderie", "Un stand.\n\nLe 3 novembre, une réunion.", "2026-12-02", "mail" },
		{ "Appel à contributions - 14 novembre", "Rien.", "2026-12-02", "mail" },
		{ "Braderie", "Date : 21 novembre", "2026-11-21", "reply" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char date[ENTRY_DATE_SIZE];
		const char *from = entry_activity_date(cases[i].title, cases[i].body,
		    entry_is_date_reply(cases[i].body), "2026-12-02", "2026-11-01", date);

		if (strcmp(date, cases[i].date) != 0 || strcmp(from, cases[i].from) != 0)
			fail_msg("case %zu: %s from %s", i, date, from);
	}
	assert_false(entry_is_date_reply("Date : demain\nmerci"));
	assert_false(entry_is_date_reply("Le 21 novembre, une fête."));
}

static void
test_mail_date_and_words(void **state)
{
	char d[ENTRY_DATE_SIZE], today[ENTRY_DATE_SIZE];

	entry_mail_date(0, today);			/* no Date header: today */
	entry_mail_date(now() + 30 * 86400, d);		/* a clock gone wrong: today */
	assert_string_equal(d, today);
	entry_mail_date(1790000000, d);			/* 2026-09-21 (UTC noon ±) */
	assert_int_equal(strncmp(d, "2026-09-2", 9), 0);
	assert_string_equal(entry_date_how("subject", 0), "lue dans l'objet de votre message");
	assert_string_equal(entry_date_how("text", 1), "read at the start of your text");
	assert_non_null(strstr(entry_date_how("mail", 0), "\u00a0: c'est la date d'envoi"));
	assert_string_equal(entry_date_how("other", 0), "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subject_titles),
		cmocka_unit_test(test_call_subject),
		cmocka_unit_test(test_title_from_text),
		cmocka_unit_test(test_activity_date),
		cmocka_unit_test(test_mail_date_and_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
