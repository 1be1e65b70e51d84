/* test_roster.c — roster rules on a temporary database: limits, uniqueness,
 * moves, removal, import as update, dry run, RGPD export and erasure. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "import.h"
#include "privacy.h"
#include "roster.h"
#include "testlib.h"
#include "util.h"

struct fx {
	char		 dir[TEST_DIR_SIZE];
	struct db	*db;
	struct config	 cf;
};

static int
setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof *fx);

	fx->db = test_db_open(fx->dir, "roster");
	assert_int_equal(config_load(&fx->cf, NULL, stderr), 1);	/* domain required */
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	test_db_close(fx->dir, &fx->db);
	config_free(&fx->cf);
	free(fx);
	return 0;
}

static void
add_committee(struct fx *fx, const char *name)
{
	const char *err = NULL;
	int64_t id;

	assert_int_equal(roster_committee_add(fx->db, name, NULL, "Bretagne", "35", "jeunes",
	    &id, &err), 1);
}

static void
test_limits(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;
	char email[64];

	add_committee(fx, "Rennes");
	for (int i = 0; i < 4; i++) {
		snprintf(email, sizeof email, "c%d@example.org", i);
		assert_int_equal(roster_contact_add(fx->db, &fx->cf, "rennes", email, NULL, &err), 1);
	}
	assert_int_equal(roster_contact_add(fx->db, &fx->cf, "rennes", "c5@example.org", NULL,
	    &err), ROSTER_EDATA);
	assert_non_null(strstr(err, "4"));
	/* a disabled contact frees a place */
	assert_int_equal(roster_contact_set_active(fx->db, "c0@example.org", 0, "bounces", &err), 1);
	assert_int_equal(roster_contact_add(fx->db, &fx->cf, "Rennes", "c5@example.org", NULL,
	    &err), 1);
	/* case-insensitive uniqueness within the committee */
	assert_int_equal(roster_contact_add(fx->db, &fx->cf, "rennes", "C5@EXAMPLE.ORG", NULL,
	    &err), ROSTER_EDATA);
	/* invalid and unknown */
	assert_int_equal(roster_contact_add(fx->db, &fx->cf, "rennes", "nope@", NULL, &err),
	    ROSTER_EDATA);
	assert_int_equal(roster_contact_add(fx->db, &fx->cf, "brest", "x@example.org", NULL,
	    &err), ROSTER_EDATA);
}

static void
test_under_and_lookup(void **state)
{
	struct fx *fx = *state;
	struct roster_committee *list;
	const char *err = NULL;
	size_t n;

	add_committee(fx, "Saint-Étienne");
	add_committee(fx, "Brest");
	assert_true(roster_committee_lookup(fx->db, "saint etienne") > 0);
	assert_true(roster_committee_lookup(fx->db, "SAINT-ETIENNE") > 0);
	assert_int_equal(roster_committee_add(fx->db, "saint etienne", NULL, NULL, NULL, NULL,
	    &(int64_t){0}, &err), ROSTER_EDATA);
	for (int i = 0; i < 3; i++) {
		char email[64];

		snprintf(email, sizeof email, "b%d@example.org", i);
		assert_int_equal(roster_contact_add(fx->db, &fx->cf, "brest", email, NULL, &err), 1);
	}
	assert_int_equal(roster_committees(fx->db, ROSTER_UNDER, 3, &list, &n), 1);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].slug, "saint-etienne");
	roster_committees_free(list, n);
}

static void
test_move_remove(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;
	struct roster_contact *list;
	size_t n;

	add_committee(fx, "Rennes");
	add_committee(fx, "Brest");
	assert_int_equal(roster_contact_add(fx->db, &fx->cf, "rennes", "m@example.org", "Marie",
	    &err), 1);
	assert_int_equal(roster_contact_move(fx->db, &fx->cf, "m@example.org", NULL, "brest",
	    &err), 1);
	assert_int_equal(roster_contacts(fx->db, "brest", &list, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].name, "Marie");
	roster_contacts_free(list, n);
	assert_int_equal(roster_committee_remove(fx->db, "brest", 0, &err), ROSTER_EDATA);
	assert_int_equal(roster_committee_remove(fx->db, "brest", 1, &err), 1);
	assert_int_equal(roster_contacts(fx->db, NULL, &list, &n, &err), 1);
	assert_int_equal(n, 0);
	roster_contacts_free(list, n);
	assert_int_equal(roster_committee_rename(fx->db, "rennes", "Rennes Métropole", "rennes-metro",
	    &err), 1);
	assert_true(roster_committee_lookup(fx->db, "rennes-metro") > 0);
}

static void
test_senders(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;

	assert_int_equal(roster_sender_add(fx->db, &fx->cf, "office@example.org", "national", NULL, &err), 1);
	assert_int_equal(roster_sender_add(fx->db, &fx->cf, "Office@example.org", "national", NULL, &err),
	    ROSTER_EDATA);
	assert_int_equal(roster_sender_add(fx->db, &fx->cf, "office@example.org", "king", NULL, &err),
	    ROSTER_EDATA);
	assert_true(roster_is_sender(fx->db, "OFFICE@example.org", "national"));
	assert_false(roster_is_sender(fx->db, "office@example.org", "editor"));
	assert_int_equal(roster_sender_remove(fx->db, "office@example.org", "national", &err), 1);
	assert_false(roster_is_sender(fx->db, "office@example.org", "national"));
}

static int
import_file(struct fx *fx, const char *path, int dry, struct import_stats *st)
{
	const char *err = NULL;
	char *data, *out = NULL;
	size_t len, outlen;
	FILE *report = open_memstream(&out, &outlen);
	int rc;

	assert_int_equal(file_read(path, 1 << 20, &data, &len), 0);
	rc = import_roster(fx->db, &fx->cf, data, len, dry, report, st, &err);
	fclose(report);
	free(out);
	free(data);
	return rc;
}

static void
test_import(void **state)
{
	struct fx *fx = *state;
	struct import_stats st;
	struct roster_committee *list;
	size_t n;

	assert_int_equal(import_file(fx, "tests/data/roster-semicolon-latin1.csv", 1, &st), 0);
	assert_true(st.contacts_added > 0);
	assert_int_equal(st.bad_rows, 2);
	assert_int_equal(test_int(fx->db, "SELECT count(*) FROM contact", ""), 0);	/* dry run */
	assert_int_equal(import_file(fx, "tests/data/roster-semicolon-latin1.csv", 0, &st), 0);
	int added = st.contacts_added;
	assert_int_equal(test_int(fx->db, "SELECT count(*) FROM contact", ""), added);
	/* re-import: an update, not a duplicate */
	assert_int_equal(import_file(fx, "tests/data/roster-semicolon-latin1.csv", 0, &st), 0);
	assert_int_equal(st.contacts_added, 0);
	assert_int_equal(st.committees_added, 0);
	assert_int_equal(st.contacts_unchanged, added);
	assert_int_equal(test_int(fx->db, "SELECT count(*) FROM contact", ""), added);
	/* accents came through as UTF-8 */
	assert_int_equal(roster_committees(fx->db, ROSTER_ALL, 3, &list, &n), 1);
	for (size_t i = 0; i < n; i++)
		assert_true(utf8_valid(list[i].region, strlen(list[i].region)));
	roster_committees_free(list, n);
	/* the UTF-8 comma dialect with English headers */
	assert_int_equal(import_file(fx, "tests/data/roster-comma-utf8.csv", 0, &st), 0);
	assert_int_equal(st.bad_rows, 2);
}

static void
test_privacy(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;
	char *out = NULL;
	size_t outlen;
	FILE *f;

	add_committee(fx, "Rennes");
	assert_int_equal(roster_contact_add(fx->db, &fx->cf, "rennes", "p@example.org", "Paul",
	    &err), 1);
	assert_int_equal(roster_sender_add(fx->db, &fx->cf, "p@example.org", "editor", NULL, &err), 1);
	f = open_memstream(&out, &outlen);
	assert_int_equal(privacy_export(fx->db, "p@example.org", f, &err), 1);
	fclose(f);
	assert_non_null(strstr(out, "\"name\": \"Paul\""));
	assert_non_null(strstr(out, "\"role\": \"editor\""));
	free(out);
	assert_int_equal(privacy_erase(fx->db, "p@example.org", &err), 1);
	assert_int_equal(test_int(fx->db, "SELECT count(*) FROM audit WHERE what LIKE "
	    "'%p@example.org%'", ""), 0);
	f = open_memstream(&out, &outlen);
	assert_int_equal(privacy_export(fx->db, "p@example.org", f, &err), 0);
	fclose(f);
	free(out);
}

/* ---- forged and malformed names and addresses (issue 11, case 7) ---- */

static const char *const bad_texts[] = {
	"Anne\nLe Goff", "Anne\r\nBcc: x@example.org", "Anne\tLe Goff", "Anne\x7f",
	"Anne\x01", "Anne \xc2\x85" "Goff", "\xe2\x80\xae" "ffoG eL ennA", "Anne\xe2\x81\xa6x",
	"Anne \xff", "Anne \xc3",
};

static void
test_forged_names(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;
	int64_t id;

	add_committee(fx, "Rennes");
	for (size_t i = 0; i < sizeof bad_texts / sizeof bad_texts[0]; i++) {
		const char *t = bad_texts[i];

		print_message("bad text %zu\n", i);
		assert_int_equal(roster_contact_add(fx->db, &fx->cf, "rennes", "a@example.org", t,
		    &err), ROSTER_EDATA);
		assert_non_null(strstr(err, "nom du contact"));
		assert_int_equal(roster_committee_add(fx->db, t, "slug-ok", "", "", "", &id, &err),
		    ROSTER_EDATA);
		assert_int_equal(roster_committee_add(fx->db, "Quimper", NULL, t, "", "", &id, &err),
		    ROSTER_EDATA);
		assert_int_equal(roster_committee_add(fx->db, "Quimper", NULL, "", "", t, &id, &err),
		    ROSTER_EDATA);
		assert_int_equal(roster_committee_rename(fx->db, "rennes", t, NULL, &err),
		    ROSTER_EDATA);
		assert_int_equal(roster_committee_update(fx->db, roster_committee_lookup(fx->db,
		    "rennes"), NULL, t, NULL, &err), ROSTER_EDATA);
		assert_int_equal(roster_sender_add(fx->db, &fx->cf, "s@example.org", "national", t,
		    &err), ROSTER_EDATA);
	}
	assert_int_equal(roster_contact_add(fx->db, &fx->cf, "rennes", "a@example.org", "Anne\n",
	    &err), ROSTER_EDATA);
	assert_string_equal(err, "nom du contact\xc2\xa0: caractère de contrôle interdit (U+000A)");
	/* what people write is fine: accents, apostrophes, emoji, non-breaking spaces */
	assert_int_equal(roster_contact_add(fx->db, &fx->cf, "rennes", "a@example.org",
	    "Zoé d'Arc-en-Ciel\xc2\xa0\xf0\x9f\x8c\x88", &err), 1);
	assert_int_equal(roster_committee_lookup(fx->db, "Quimper"), 0);
	assert_int_equal(roster_sender_add(fx->db, &fx->cf, "s@example.org", "national", NULL,
	    &err), 1);
}

static void
test_own_addresses(void **state)
{
	static const char *const own[] = {
		"national@comites.example.org", "NATIONAL@Comites.Example.Org",
		"national+bretagne@comites.example.org", "bulletin@comites.example.org",
		"aide@comites.example.org", "retour+0123abcd@comites.example.org",
		"rebonds+ffff@comites.example.org", "confirm+x@comites.example.org",
		"<national@comites.example.org>",
	};
	static const char *const others[] = {
		"national@other.example.org", "nationale@comites.example.org",
		"president@comites.example.org", "aide@national.comites.example.org",
	};
	struct fx *fx = *state;
	const char *err = NULL;

	free(fx->cf.domain);
	fx->cf.domain = xstrdup("comites.example.org");
	add_committee(fx, "Rennes");
	for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
		print_message("own %s\n", own[i]);
		assert_int_equal(roster_is_own_address(&fx->cf, own[i][0] == '<' ? "national@comites"
		    ".example.org" : own[i]), 1);
		assert_int_equal(roster_contact_add(fx->db, &fx->cf, "rennes", own[i], NULL, &err),
		    ROSTER_EDATA);
		assert_non_null(strstr(err, "adresse de la liste elle-même"));
		assert_int_equal(roster_sender_add(fx->db, &fx->cf, own[i], "national", NULL, &err),
		    ROSTER_EDATA);
		assert_int_equal(roster_sender_add(fx->db, &fx->cf, own[i], "editor", NULL, &err),
		    ROSTER_EDATA);
	}
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
		assert_int_equal(roster_is_own_address(&fx->cf, others[i]), 0);
		assert_int_equal(roster_contact_add(fx->db, &fx->cf, "rennes", others[i], NULL, &err),
		    1);
		assert_int_equal(roster_contact_remove(fx->db, others[i], "rennes", &err), 1);
		assert_int_equal(roster_sender_add(fx->db, &fx->cf, others[i], "national", NULL, &err),
		    1);
	}
}

static void
test_import_forged(void **state)
{
	struct fx *fx = *state;
	struct import_stats st;
	const char *err = NULL;
	char *out = NULL;
	size_t outlen = 0;
	FILE *report = open_memstream(&out, &outlen);
	const char csv[] = "comité;région;département;nom;courriel\n"
	    "Rennes;Bretagne;35;Anne Le Goff;anne@example.org\n"
	    "Rennes;Bretagne;35;\"Bob\nBcc: victim@example.org\";bob@example.org\n"
	    "Rennes;Bretagne;35;Liste;national@comites.example.org\n"
	    "Rennes;Bretagne;35;Retour;retour+abc@comites.example.org\n"
	    "\"Brest\x01\";Bretagne;29;Carl;carl@example.org\n"
	    "Rennes;Bretagne;35;\"Dan\x1b[31m\";dan@example.org\n"
	    "Rennes;Bretagne;35;Eve;eve@example.org\n";

	free(fx->cf.domain);
	fx->cf.domain = xstrdup("comites.example.org");
	assert_int_equal(import_roster(fx->db, &fx->cf, csv, sizeof csv - 1, 0, report, &st, &err), 0);
	fclose(report);
	assert_int_equal(st.contacts_added, 2);
	assert_int_equal(st.bad_rows, 5);
	assert_non_null(strstr(out, "! ligne 3 : nom du contact\xc2\xa0: caractère de contrôle"
	    " interdit (U+000A)\n"));
	/* the quoted LF makes row 3 two lines long: the next row is line 5 */
	assert_non_null(strstr(out, "! ligne 5 : national@comites.example.org est une adresse de"
	    " la liste elle-même"));
	assert_non_null(strstr(out, "! ligne 6 : retour+abc@comites.example.org est une adresse"));
	assert_non_null(strstr(out, "! ligne 7 : comité\xc2\xa0: caractère de contrôle interdit"
	    " (U+0001)"));
	assert_non_null(strstr(out, "! ligne 8 : nom du contact\xc2\xa0: caractère de contrôle"
	    " interdit (U+001B)"));
	assert_null(strstr(out, "victim"));
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_under_and_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_move_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_senders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import, setup, teardown),
		cmocka_unit_test_setup_teardown(test_privacy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_forged, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
