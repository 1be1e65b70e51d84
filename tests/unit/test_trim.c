/*
 * test_trim.c — trim_reply() against the golden cases of
 * tests/data/reply-trimming/ (from discourse/email_reply_trimmer, see its
 * NOTICE) and our French cases in tests/data/reply-trimming-fr/: for every
 * emails/NAME.txt, the new text must equal trimmed/NAME.txt and, when
 * elided/NAME.txt exists, the removed part must equal it (both sides without
 * leading/trailing white space). Each failure names its file. Also
 * trim_subject() cases and robustness (NULL, CR endings, huge input).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "trim.h"
#include "util.h"

static char *
read_stripped(const char *dir, const char *sub, const char *name)
{
	char *path = xasprintf("%s/%s/%s", dir, sub, name), *data = NULL;
	size_t len;

	if (file_read(path, 16 * 1024 * 1024, &data, &len) != 0) {
		free(path);
		return NULL;
	}
	free(path);
	data = xrealloc(data, len + 1);
	data[len] = '\0';
	return data;
}

/* str_trim strips in place but may leave leading space: move it down. */
static char *
stripped(char *s)
{
	char *t = str_trim(s);

	memmove(s, t, strlen(t) + 1);
	return s;
}

static int
check_case(const char *dir, const char *name)
{
	char *email = read_stripped(dir, "emails", name);
	char *want = read_stripped(dir, "trimmed", name);
	char *want_el = read_stripped(dir, "elided", name);
	char *elided = NULL, *got;
	int bad = 0;

	if (email == NULL || want == NULL) {
		print_error("%s/%s: missing emails/ or trimmed/ file\n", dir, name);
		free(email), free(want), free(want_el);
		return 1;
	}
	got = trim_reply_elided(email, &elided);
	if (strcmp(stripped(got), stripped(want)) != 0) {
		print_error("%s/trimmed/%s differs:\n--- want\n%s\n--- got\n%s\n---\n",
		    dir, name, want, got);
		bad = 1;
	}
	if (want_el != NULL && strcmp(stripped(elided), stripped(want_el)) != 0) {
		print_error("%s/elided/%s differs:\n--- want\n%s\n--- got\n%s\n---\n",
		    dir, name, want_el, elided);
		bad = 1;
	}
	free(email), free(want), free(want_el), free(elided), free(got);
	return bad;
}

static void
run_dir(const char *dir, int min_cases)
{
	char *emails = xasprintf("%s/emails", dir);
	DIR *dp = opendir(emails);
	struct dirent *de;
	int cases = 0, failures = 0;

	assert_non_null(dp);
	while ((de = readdir(dp)) != NULL) {
		size_t n = strlen(de->d_name);

		if (n < 5 || strcmp(de->d_name + n - 4, ".txt") != 0)
			continue;
		cases++;
		failures += check_case(dir, de->d_name);
	}
	closedir(dp);
	free(emails);
	if (failures)
		print_error("%s: %d of %d cases failed\n", dir, failures, cases);
	assert_int_equal(failures, 0);
	assert_true(cases >= min_cases);
}

static void
test_upstream_fixtures(void **state)
{
	run_dir("tests/data/reply-trimming", 32);
}

static void
test_french_fixtures(void **state)
{
	run_dir("tests/data/reply-trimming-fr", 12);
}

struct text_case {
	const char *in;
	const char *want;
};

static const struct text_case text_cases[] = {
	{ "", "" },
	{ "   \n\n  ", "" },
	{ "Bonjour\r\rLigne\r", "Bonjour\n\nLigne" },
	/* A report's own structure is not a mail marker. */
	{ "Prochaine réunion\n=================\n\nDate : samedi 14 mars\n"
	  "Lieu : salle des fêtes\nObjet : assemblée générale\n\nVenez nombreux !",
	  "Prochaine réunion\n=================\n\nDate : samedi 14 mars\n"
	  "Lieu : salle des fêtes\nObjet : assemblée générale\n\nVenez nombreux !" },
	{ "Le 12 mars, le maire a écrit :\nBravo au comité.\n\nMarie",
	  "Le 12 mars, le maire a écrit :\nBravo au comité.\n\nMarie" },
	{ "On a fêté le printemps le 21 mars 2026.\n\nFrom my point of view, "
	  "a success.", "On a fêté le printemps le 21 mars 2026.\n\nFrom my point "
	  "of view, a success." },
	/* Signature delimiter and an eco footer. */
	{ "Texte.\n\n-- \nMarie\nTrésorière", "Texte." },
	{ "Texte.\n\nPensez à l'environnement avant d'imprimer ce message.",
	  "Texte." },
	{ "Texte.\n\nEnvoyé de mon iPad", "Texte." },
	/* Inline answers keep their context. */
	{ "> Combien étiez-vous ?\nUne trentaine.\n> Des photos ?\nOui, jointes.",
	  "> Combien étiez-vous ?\nUne trentaine.\n> Des photos ?\nOui, jointes." },
};

static void
test_text_cases(void **state)
{
	for (size_t i = 0; i < nitems(text_cases); i++) {
		char *got = trim_reply(text_cases[i].in);

		if (strcmp(got, text_cases[i].want) != 0)
			print_error("case %zu: got [%s]\n", i, got);
		assert_string_equal(got, text_cases[i].want);
		free(got);
	}
}

static void
test_null(void **state)
{
	char *el = NULL, *got = trim_reply_elided(NULL, &el);

	assert_string_equal(got, "");
	assert_string_equal(el, "");
	free(got), free(el);
	got = trim_subject(NULL);
	assert_string_equal(got, "");
	free(got);
}

static const struct text_case subject_cases[] = {
	{ "RE : TR: [Comités] Fête", "Fête" },
	{ "Re: Re: Fwd: [bulletin] [Lyon]  Compte rendu\r\n de mars", "Compte rendu de mars" },
	{ "Tr : Fw: FW : AW: WG: Sortie", "Sortie" },
	{ "[Comités] RE: [Comités] Réunion", "Réunion" },
	{ "Réunion du bureau", "Réunion du bureau" },
	{ "Re[2]: Re^3: Re(4): Assemblée", "Assemblée" },
	{ "RÉP : Rép: Fête", "Fête" },
	{ "Re\xc2\xa0: Fête", "Fête" },
	{ "Correction : Fête", "Correction : Fête" },
	{ "Trésorerie", "Trésorerie" },
	{ "Re:", "" },
	{ "[non fermé", "[non fermé" },
};

static void
test_subjects(void **state)
{
	for (size_t i = 0; i < nitems(subject_cases); i++) {
		char *got = trim_subject(subject_cases[i].in);

		if (strcmp(got, subject_cases[i].want) != 0)
			print_error("subject %zu: got [%s]\n", i, got);
		assert_string_equal(got, subject_cases[i].want);
		free(got);
	}
}

/* Many lines, long lines, many markers: must stay fast (linear). */
static void
test_huge_input(void **state)
{
	struct buf b;
	clock_t t0 = clock();
	char *got;

	buf_init(&b);
	buf_adds(&b, "Nouveau texte.\n\n");
	for (int i = 0; i < 20000; i++)
		buf_adds(&b, "Le 12 mars 2026 à 10:15, Jean <j@example.org> a\n"
		    "écrit :\n> b\n> Le 12 mars 2026 à 10:15 <\n> \n>\n> \n> x\n");
	buf_adds(&b, "> ");
	for (int i = 0; i < 200000; i++)
		buf_addc(&b, i % 100 ? 'x' : ' ');
	buf_addc(&b, '\n');
	got = trim_reply(buf_cstr(&b));
	assert_string_equal(got, "Nouveau texte.");
	free(got);
	buf_free(&b);
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 10.0);
}

/* One rule for a greeting line, shared by intake, titles and commands. */
static void
test_greeting(void **state)
{
	static const char *const yes[] = { "Bonjour,", "BONJOUR", "  bonsoir !", "Chères amies,",
	    "Hello Marie", "Bonjour à toutes et à tous !", "Cher Paul,", "Salut" };
	static const char *const no[] = { "Bonjournée", "Chercher des bénévoles", "Salutations",
	    "La fête", "", "Bonjour, voici le compte rendu de la fête du quartier de samedi." };

	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
		if (!trim_is_greeting(yes[i], strlen(yes[i])))
			fail_msg("not a greeting: \"%s\"", yes[i]);
	for (size_t i = 0; i < sizeof no / sizeof *no; i++)
		if (trim_is_greeting(no[i], strlen(no[i])))
			fail_msg("a greeting: \"%s\"", no[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upstream_fixtures),
		cmocka_unit_test(test_french_fixtures),
		cmocka_unit_test(test_text_cases),
		cmocka_unit_test(test_null),
		cmocka_unit_test(test_subjects),
		cmocka_unit_test(test_huge_input),
		cmocka_unit_test(test_greeting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
