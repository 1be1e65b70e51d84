/*
 * test_coverage.c — committee coverage (coverage.c): a committee whose
 * every delivery failed gets exactly one alert once coverage_alert_after
 * has passed (not before, not twice); a committee with one sent delivery
 * gets none; a bounce after "sent" makes a delivery fail; a targeted
 * committee with no contact at all is alerted too; the office is
 * admin_address, else the national senders; the report's three groups.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "coverage.h"
#include "db.h"
#include "engine.h"
#include "mime.h"
#include "roster.h"
#include "testlib.h"
#include "util.h"

#define DOMAIN	"comites.example.org"
#define T0	1000000

struct fixture {
	char		 dir[TEST_DIR_SIZE];
	struct config	 cf;
	struct engine	 e;
	int64_t		 bcast;
	int64_t		 rennes, brest;
};


static int64_t
fx_delivery(struct fixture *f, int64_t committee, const char *rcpt, const char *state,
    const char *reply)
{
	char verp[33];

	engine_token(verp, 16);
	assert_int_equal(db_run(f->e.db, "INSERT INTO delivery (message_id, contact_id, committee_id,"
	    " rcpt, verp, state, next_try, last_reply) VALUES (?, (SELECT id FROM contact WHERE"
	    " email = ?), ?, ?, ?, ?, 0, ?)", "isissss", f->bcast, rcpt, committee, rcpt, verp,
	    state, reply), 0);
	return db_last_id(f->e.db);
}

/* Rennes: two contacts, both deliveries failed; Brest: one sent. */
static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);

	test_now(T0 - 100);
	test_env_open(f->dir, "coverage", DOMAIN, &f->cf, &f->e);
	test_set(&f->cf.admin_address, "office@example.org");
	f->rennes = test_committee(&f->e, "Rennes", "Bretagne", "35", NULL);
	f->brest = test_committee(&f->e, "Brest", "Bretagne", "29", NULL);
	test_contact(&f->e, "rennes", "alice@example.org", "Alice Martin");
	test_contact(&f->e, "rennes", "anne@example.org", "Anne Morel");
	test_contact(&f->e, "brest", "bob@example.org", "Bob Le Gall");
	assert_int_equal(db_run(f->e.db, "UPDATE contact SET last_error = '550 5.1.1 mailbox"
	    " unknown' WHERE email = 'alice@example.org'", ""), 0);
	assert_int_equal(db_run(f->e.db, "INSERT INTO message (token, kind, state, author, subject,"
	    " received, released) VALUES ('c0ffee00c0ffee00c0ffee00c0ffee00', 'broadcast',"
	    " 'sending', 'boss@example.org', 'Réunion de juin', ?, ?)", "ii", (int64_t)T0,
	    (int64_t)T0), 0);
	f->bcast = db_last_id(f->e.db);
	fx_delivery(f, f->rennes, "alice@example.org", "failed", "550 5.1.1 mailbox unknown");
	fx_delivery(f, f->rennes, "anne@example.org", "failed", "554 5.7.1 refused");
	fx_delivery(f, f->brest, "bob@example.org", "sent", "250 2.0.0 Ok");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	test_env_close(f->dir, &f->cf, &f->e);
	free(f);
	return 0;
}

static int64_t
fx_alerts(struct fixture *f, int64_t committee)
{
	return test_int(f->e.db, "SELECT count(*) FROM coverage_alert WHERE committee_id = ?", "i",
	    committee);
}

/* The decoded text of the alert mail message_id. */
static char *
fx_alert_text(struct fixture *f, int64_t mid)
{
	struct db_stmt *st = db_query(f->e.db, "SELECT body FROM message WHERE id = ?", "i", mid);
	struct mime_msg *m;
	const char *err;
	char *text, *subject;
	size_t len;

	assert_int_equal(db_step(st), 1);
	const char *raw = db_col_blob(st, 0, &len);
	assert_int_equal(mime_parse(raw, len, &m, &err), 0);
	db_finalize(&st);
	subject = mime_subject(m);
	assert_string_equal(subject, "Comité injoignable\u00a0: Rennes");
	text = mime_text_plain(m, NULL);
	assert_non_null(text);
	free(subject);
	mime_free(&m);
	return text;
}

static void
test_one_alert_after_delay(void **state)
{
	struct fixture *f = *state;
	char *body;
	int64_t mid;

	test_now(T0 + 600);	/* before coverage_alert_after (1 h) */
	assert_int_equal(coverage_tick(&f->e), 0);
	assert_int_equal(fx_alerts(f, f->rennes), 0);
	test_now(T0 + 2 * 3600);
	assert_int_equal(coverage_tick(&f->e), 1);
	test_now(T0 + 3 * 3600);
	assert_int_equal(coverage_tick(&f->e), 0);
	assert_int_equal(fx_alerts(f, f->rennes), 1);
	assert_int_equal(fx_alerts(f, f->brest), 0);
	assert_int_equal(test_int(f->e.db, "SELECT count(*) FROM message WHERE kind ="
	    " 'coverage-alert'", ""), 1);
	mid = test_int(f->e.db, "SELECT id FROM message WHERE kind = 'coverage-alert'", "");
	assert_int_equal(test_int(f->e.db, "SELECT count(*) FROM delivery WHERE message_id = ? AND"
	    " rcpt = 'office@example.org'", "i", mid), 1);
	body = fx_alert_text(f, mid);
	assert_non_null(strstr(body, "Rennes"));
	assert_non_null(strstr(body, "alice@example.org"));
	assert_non_null(strstr(body, "550 5.1.1 mailbox unknown"));
	assert_non_null(strstr(body, "554 5.7.1 refused"));
	assert_non_null(strstr(body, "référence c0ffee00c0ffee00c0ffee00c0ffee00"));
	assert_non_null(strstr(body, "Alice Martin <alice@example.org> : 550 5.1.1"));
	assert_non_null(strstr(body, "les ajoute ou les réactive"));
	free(body);
}

static void
test_bounce_after_sent(void **state)
{
	struct fixture *f = *state;
	int64_t d = test_int(f->e.db, "SELECT id FROM delivery WHERE rcpt = 'bob@example.org'", "");

	/* Brest's only delivery was accepted, then bounced hard: unreachable. */
	assert_int_equal(db_run(f->e.db, "INSERT INTO bounce (delivery_id, received, kind) VALUES"
	    " (?, ?, 'hard')", "ii", d, (int64_t)T0 + 60), 0);
	test_now(T0 + 2 * 3600);
	assert_int_equal(coverage_tick(&f->e), 2);
	assert_int_equal(fx_alerts(f, f->brest), 1);
}

static void
test_disabled_and_empty_committee(void **state)
{
	struct fixture *f = *state;
	int64_t quimper;

	/* created before the broadcast, no contact: targeted, never reached */
	test_now(T0 - 50);
	quimper = test_committee(&f->e, "Quimper", "Bretagne", "29", NULL);
	/* created after: not targeted by it */
	test_now(T0 + 50);
	test_committee(&f->e, "Lorient", "Bretagne", "56", NULL);
	test_set(&f->cf.admin_address, "");
	test_sender(&f->e, "boss@example.org", "national", "");
	test_now(T0 + 2 * 3600);
	assert_int_equal(coverage_tick(&f->e), 2);
	assert_int_equal(fx_alerts(f, quimper), 1);
	assert_int_equal(test_int(f->e.db, "SELECT count(*) FROM delivery d JOIN message m ON"
	    " m.id = d.message_id WHERE m.kind = 'coverage-alert' AND d.rcpt = 'boss@example.org'",
	    ""), 2);
}

static void
test_window_closed(void **state)
{
	struct fixture *f = *state;

	test_now(T0 + f->cf.queue_lifetime + f->cf.coverage_alert_after + 10);
	assert_int_equal(coverage_tick(&f->e), 0);
	assert_int_equal(fx_alerts(f, f->rennes), 0);
}

static void
test_office(void **state)
{
	struct fixture *f = *state;
	char **o;
	size_t n;

	o = roster_office(f->e.db, f->cf.admin_address, &n);
	assert_int_equal(n, 1);
	assert_string_equal(o[0], "office@example.org");
	assert_null(o[1]);
	free(o[0]);
	free(o);
	test_set(&f->cf.admin_address, "");
	o = roster_office(f->e.db, f->cf.admin_address, &n);
	assert_int_equal(n, 0);
	assert_null(o[0]);
	free(o);
	test_sender(&f->e, "boss@example.org", "national", "");
	test_sender(&f->e, "chief@example.org", "national", "");
	o = roster_office(f->e.db, f->cf.admin_address, &n);
	assert_int_equal(n, 2);
	assert_null(o[2]);
	for (size_t i = 0; i < n; i++)
		free(o[i]);
	free(o);
}

/* Which group (0 ok, 1 under, 2 none) the line of slug is printed in. */
static int
fx_group(const char *out, const char *slug)
{
	const char *heads[] = { "Comités joignables", "Comités sous le minimum",
	    "Comités injoignables" };
	char *needle = xasprintf("\n  %s ", slug);
	const char *at = strstr(out, needle);
	int g = -1;

	free(needle);
	for (int i = 0; at && i < 3; i++) {
		const char *h = strstr(out, heads[i]);

		if (h && h < at)
			g = i;
	}
	return g;
}

static void
test_report_groups(void **state)
{
	struct fixture *f = *state;
	const char *err = NULL;
	char *out = NULL;
	size_t len = 0;
	FILE *fp;

	f->cf.min_contacts = 2;
	test_committee(&f->e, "Quimper", "", "", NULL);
	test_committee(&f->e, "Vannes", "", "", "vera@example.org Véra");
	assert_int_equal(roster_contact_set_active(f->e.db, "vera@example.org", 0, "bounces",
	    &err), 1);
	test_contact(&f->e, "brest", "bea@example.org", "Béa");
	assert_int_equal(db_run(f->e.db, "UPDATE contact SET bounce_score = 9 WHERE email ="
	    " 'bea@example.org'", ""), 0);
	fp = open_memstream(&out, &len);
	assert_int_equal(coverage_report(f->e.db, &f->cf, fp), 0);
	fclose(fp);
	assert_int_equal(fx_group(out, "rennes"), 0);	/* 2/2 */
	assert_int_equal(fx_group(out, "brest"), 1);	/* 1/2: one over the threshold */
	assert_int_equal(fx_group(out, "quimper"), 2);	/* no contact */
	assert_int_equal(fx_group(out, "vannes"), 2);	/* its only contact disabled */
	assert_non_null(strstr(out, "Comités joignables (au moins 2 contacts joignables)\xc2\xa0: 1"));
	assert_non_null(strstr(out, "Comités injoignables (aucun contact joignable)\xc2\xa0: 2"));
	assert_non_null(strstr(out, "1/2"));
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_alert_after_delay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounce_after_sent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disabled_and_empty_committee, setup, teardown),
		cmocka_unit_test_setup_teardown(test_window_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_office, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_groups, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
