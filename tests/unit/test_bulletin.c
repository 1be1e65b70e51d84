/* test_bulletin.c — the bulletin calendar (numbers and dates for several
 * anchors and periods), and bulletin_tick() run twice at chosen dates
 * (MLISTD_NOW): the call once, each reminder once and only to committees
 * without a submission, the digest once a day, closing after the deadline. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bulletin.h"
#include "config.h"
#include "db.h"
#include "engine.h"
#include "roster.h"
#include "testlib.h"
#include "util.h"

struct fx {
	char		 dir[TEST_DIR_SIZE];
	struct config	 cf;
	struct engine	 e;
};

static int
setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof *fx);

	test_env_open(fx->dir, "bulletin", "example.org", &fx->cf, &fx->e);
	test_set(&fx->cf.language, "fr");
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	test_env_close(fx->dir, &fx->cf, &fx->e);
	free(fx);
	return 0;
}

/* Local time of day hh:00 on YYYY-MM-DD. */
static time_t
at(const char *ymd, int hour)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	assert_int_equal(sscanf(ymd, "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday), 3);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_hour = hour;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

static void
set_now(const char *ymd, int hour)
{
	test_now(at(ymd, hour));
}

static const struct {
	const char *anchor;
	long period, deadline_days;
	const char *day;		/* the date asked */
	int rc, number;
	const char *start, *end, *deadline, *publish;
} calendar_cases[] = {
	{ "2026-01-01", 2, 10, "2026-01-01", 0, 1, "2026-01-01", "2026-02-28", "2026-02-18",
	  "2026-03-01" },
	{ "2026-01-01", 2, 10, "2026-02-28", 0, 1, "2026-01-01", "2026-02-28", "2026-02-18",
	  "2026-03-01" },
	{ "2026-01-01", 2, 10, "2026-03-01", 0, 2, "2026-03-01", "2026-04-30", "2026-04-20",
	  "2026-05-01" },
	{ "2026-01-01", 2, 10, "2026-12-31", 0, 6, "2026-11-01", "2026-12-31", "2026-12-21",
	  "2027-01-01" },
	{ "2026-01-01", 2, 10, "2025-12-31", 1, 1, "2026-01-01", "2026-02-28", "2026-02-18",
	  "2026-03-01" },
	{ "2025-09-15", 3, 7, "2026-01-01", 0, 2, "2025-12-15", "2026-03-14", "2026-03-07",
	  "2026-03-15" },
	{ "2025-09-15", 3, 7, "2025-12-14", 0, 1, "2025-09-15", "2025-12-14", "2025-12-07",
	  "2025-12-15" },
	{ "2024-01-31", 1, 0, "2024-03-30", 0, 2, "2024-02-29", "2024-03-30", "2024-03-30",
	  "2024-03-31" },
	{ "2024-01-31", 1, 0, "2024-03-31", 0, 3, "2024-03-31", "2024-04-29", "2024-04-29",
	  "2024-04-30" },
	{ "2026-01-01", 12, 30, "2027-06-30", 0, 2, "2027-01-01", "2027-12-31", "2027-12-01",
	  "2028-01-01" },
	{ "2000-01-01", 2, 10, "2026-03-10", 0, 158, "2026-03-01", "2026-04-30", "2026-04-20",
	  "2026-05-01" },
};

static void
test_calendar(void **state)
{
	struct fx *fx = *state;
	struct bulletin_issue bi;

	for (size_t i = 0; i < nitems(calendar_cases); i++) {
		assert_int_equal(db_run(fx->e.db, "DELETE FROM bulletin_issue", ""), 0);
		test_set(&fx->cf.bulletin_anchor, calendar_cases[i].anchor);
		fx->cf.bulletin_period_months = calendar_cases[i].period;
		fx->cf.bulletin_deadline_days = calendar_cases[i].deadline_days;
		assert_int_equal(bulletin_current(&fx->e, at(calendar_cases[i].day, 12), &bi),
		    calendar_cases[i].rc);
		assert_int_equal(bi.number, calendar_cases[i].number);
		assert_string_equal(bi.period_start, calendar_cases[i].start);
		assert_string_equal(bi.period_end, calendar_cases[i].end);
		assert_string_equal(bi.deadline, calendar_cases[i].deadline);
		assert_string_equal(bi.publish_date, calendar_cases[i].publish);
		/* Same answer just after midnight and just before. */
		assert_int_equal(bulletin_current(&fx->e, at(calendar_cases[i].day, 0), &bi),
		    calendar_cases[i].rc);
		assert_int_equal(bi.number, calendar_cases[i].number);
	}
	/* The far-away anchor created only the current row. */
	assert_int_equal(test_int(fx->e.db, "SELECT count(*) FROM bulletin_issue", ""), 1);
	assert_true(bulletin_date_valid("2024-02-29"));
	assert_false(bulletin_date_valid("2025-02-29"));
	assert_false(bulletin_date_valid("2025-1-01"));
	assert_false(bulletin_date_valid("2025-01-01x"));
	assert_false(bulletin_date_valid(NULL));
}

static void
test_rows_and_get(void **state)
{
	struct fx *fx = *state;
	struct bulletin_issue bi;

	set_now("2026-05-10", 12);		/* issue 3 */
	assert_int_equal(bulletin_current(&fx->e, now(), &bi), 0);
	assert_int_equal(bi.number, 3);
	assert_string_equal(bi.state, "planned");
	/* Rows 1 and 2 were created, closed: their deadlines had passed. */
	assert_int_equal(test_int(fx->e.db, "SELECT count(*) FROM bulletin_issue WHERE state ="
	    " 'closed' AND number IN (1, 2)", ""), 2);
	assert_int_equal(bulletin_get(&fx->e, 0, &bi), 0);
	assert_int_equal(bi.number, 3);
	assert_int_equal(bulletin_get(&fx->e, 2, &bi), 0);
	assert_string_equal(bi.period_start, "2026-03-01");
	assert_int_equal(bulletin_get(&fx->e, 4, &bi), 0);	/* the next one, to plan it */
	assert_string_equal(bi.period_start, "2026-07-01");
	assert_int_equal(bulletin_get(&fx->e, 9, &bi), 1);
	/* Its period has begun: asking for the open issue opens it, tick or not. */
	assert_int_equal(bulletin_open_issue(&fx->e, now(), &bi), 0);
	assert_int_equal(bi.number, 3);
	assert_int_equal(bulletin_tick(&fx->e), 0);
	assert_int_equal(bulletin_open_issue(&fx->e, now(), &bi), 0);
	assert_int_equal(bi.number, 3);
}

static int64_t
count(struct fx *fx, const char *sql)
{
	return test_int(fx->e.db, sql, "");
}

static int64_t
deliveries(struct fx *fx, const char *kind)
{
	return test_int(fx->e.db, "SELECT count(*) FROM delivery d JOIN message m ON"
	    " m.id = d.message_id WHERE m.kind = ?", "s", kind);
}

static void
roster(struct fx *fx)
{
	const char *err = NULL;

	test_committee(&fx->e, "Rennes", "Bretagne", "35", NULL);
	test_committee(&fx->e, "Brest", "Bretagne", "29", NULL);
	test_committee(&fx->e, "Nantes", "Pays de la Loire", "44", NULL);
	test_committee(&fx->e, "Vide", "", "", NULL);
	test_contact(&fx->e, "rennes", "a1@example.org", NULL);
	test_contact(&fx->e, "rennes", "a2@example.org", NULL);
	test_contact(&fx->e, "brest", "b1@example.org", NULL);
	test_contact(&fx->e, "nantes", "c1@example.org", NULL);
	test_contact(&fx->e, "nantes", "c2@example.org", NULL);
	assert_int_equal(roster_contact_set_active(fx->e.db, "c2@example.org", 0, "test", &err), 1);
	test_sender(&fx->e, "ed@example.org", "editor", "Ed");
}

static void
submit(struct fx *fx, const char *slug, const char *state)
{
	assert_int_equal(db_run(fx->e.db, "INSERT INTO submission (issue_id, committee_id, sender,"
	    " title, body, activity_date, state, received) SELECT i.id, c.id, 'x@example.org',"
	    " 'Titre', 'Texte', '2026-01-10', ?, ? FROM bulletin_issue i, committee c WHERE"
	    " i.state = 'open' AND c.slug = ?", "sis", state, (int64_t)now(), slug), 0);
	assert_int_equal(db_changes(fx->e.db), 1);
}

/* Tick twice at that moment. */
static void
tick_at(struct fx *fx, const char *ymd, int hour)
{
	set_now(ymd, hour);
	assert_int_equal(bulletin_tick(&fx->e), 0);
	assert_int_equal(bulletin_tick(&fx->e), 0);
}

static void
test_tick(void **state)
{
	struct fx *fx = *state;
	char *body;

	roster(fx);
	tick_at(fx, "2025-12-20", 12);		/* before the anchor: nothing */
	assert_int_equal(count(fx, "SELECT count(*) FROM message"), 0);
	assert_int_equal(count(fx, "SELECT count(*) FROM bulletin_issue WHERE state = 'open'"), 0);

	tick_at(fx, "2026-01-01", 0);		/* issue 1 opens: the call, once */
	assert_int_equal(count(fx, "SELECT count(*) FROM bulletin_issue WHERE number = 1 AND"
	    " state = 'open'"), 1);
	assert_int_equal(count(fx, "SELECT count(*) FROM message WHERE kind = 'bulletin-call'"), 1);
	assert_int_equal(deliveries(fx, "bulletin-call"), 4);	/* active contacts only */
	body = db_str(fx->e.db, "SELECT body FROM message WHERE kind = 'bulletin-call'", "");
	assert_non_null(strstr(body, "From: "));
	assert_non_null(strstr(body, "bulletin@example.org"));
	assert_non_null(strstr(body, "Auto-Submitted: auto-generated"));
	assert_non_null(strstr(body, "18 f=C3=A9vrier 2026"));	/* the deadline, QP */
	free(body);

	submit(fx, "rennes", "new");
	tick_at(fx, "2026-02-03", 12);		/* the digest, no reminder yet */
	assert_int_equal(count(fx, "SELECT count(*) FROM message WHERE kind = 'bulletin-reminder'"), 0);
	assert_int_equal(count(fx, "SELECT count(*) FROM message WHERE kind = 'digest'"), 1);
	assert_int_equal(deliveries(fx, "digest"), 1);

	tick_at(fx, "2026-02-04", 8);		/* deadline - 14: Brest and Nantes */
	assert_int_equal(count(fx, "SELECT count(*) FROM message WHERE kind = 'bulletin-reminder'"), 1);
	assert_int_equal(deliveries(fx, "bulletin-reminder"), 2);	/* b1, c1 */
	assert_int_equal(count(fx, "SELECT count(*) FROM bulletin_mailing WHERE kind ="
	    " 'reminder-14'"), 2);
	assert_int_equal(count(fx, "SELECT count(*) FROM bulletin_mailing b JOIN committee c ON"
	    " c.id = b.committee_id WHERE kind = 'reminder-14' AND c.slug IN ('brest', 'nantes')"), 2);
	assert_int_equal(count(fx, "SELECT count(*) FROM message WHERE kind = 'digest'"), 1);

	submit(fx, "brest", "rejected");	/* does not count */
	submit(fx, "nantes", "held");		/* counts */
	tick_at(fx, "2026-02-10", 12);		/* no reminder due; the digest of the day */
	assert_int_equal(count(fx, "SELECT count(*) FROM message WHERE kind = 'bulletin-reminder'"), 1);
	assert_int_equal(count(fx, "SELECT count(*) FROM message WHERE kind = 'digest'"), 2);
	tick_at(fx, "2026-02-10", 20);		/* same day: no second digest */
	assert_int_equal(count(fx, "SELECT count(*) FROM message WHERE kind = 'digest'"), 2);

	tick_at(fx, "2026-02-15", 12);		/* deadline - 3: Brest only */
	assert_int_equal(count(fx, "SELECT count(*) FROM message WHERE kind = 'bulletin-reminder'"), 2);
	assert_int_equal(deliveries(fx, "bulletin-reminder"), 3);
	assert_int_equal(count(fx, "SELECT count(*) FROM bulletin_mailing b JOIN committee c ON"
	    " c.id = b.committee_id WHERE kind = 'reminder-3'"), 1);
	assert_int_equal(count(fx, "SELECT count(*) FROM bulletin_mailing b JOIN committee c ON"
	    " c.id = b.committee_id WHERE kind = 'reminder-3' AND c.slug = 'brest'"), 1);

	tick_at(fx, "2026-02-18", 23);		/* the deadline day: still open */
	assert_int_equal(count(fx, "SELECT count(*) FROM bulletin_issue WHERE number = 1 AND"
	    " state = 'open'"), 1);
	tick_at(fx, "2026-02-19", 0);		/* closed */
	assert_int_equal(count(fx, "SELECT count(*) FROM bulletin_issue WHERE number = 1 AND"
	    " state = 'closed'"), 1);
	tick_at(fx, "2026-03-01", 6);		/* issue 2 opens: its call */
	assert_int_equal(count(fx, "SELECT count(*) FROM message WHERE kind = 'bulletin-call'"), 2);
	assert_int_equal(count(fx, "SELECT count(*) FROM message WHERE kind = 'bulletin-reminder'"), 2);
}

/* Started late (deadline - 10): the call, no reminder the same day (the
 * call gives the deadline), then reminder-3; started after the deadline:
 * nothing at all. */
static void
test_tick_late(void **state)
{
	struct fx *fx = *state;

	roster(fx);
	tick_at(fx, "2026-02-08", 12);
	assert_int_equal(count(fx, "SELECT count(*) FROM message WHERE kind = 'bulletin-call'"), 1);
	tick_at(fx, "2026-02-09", 12);
	assert_int_equal(count(fx, "SELECT count(*) FROM message WHERE kind = 'bulletin-reminder'"), 0);
	tick_at(fx, "2026-02-16", 12);
	assert_int_equal(count(fx, "SELECT count(*) FROM message WHERE kind = 'bulletin-reminder'"), 1);
	assert_int_equal(count(fx, "SELECT count(*) FROM bulletin_mailing WHERE kind ="
	    " 'reminder-3'"), 3);
	assert_int_equal(count(fx, "SELECT count(*) FROM bulletin_mailing WHERE kind ="
	    " 'reminder-14'"), 0);
	assert_int_equal(db_run(fx->e.db, "DELETE FROM bulletin_issue", ""), 0);
	assert_int_equal(db_run(fx->e.db, "DELETE FROM message", ""), 0);
	tick_at(fx, "2026-02-17", 12);		/* call and reminder-3 due the same day */
	assert_int_equal(count(fx, "SELECT count(*) FROM message WHERE kind = 'bulletin-call'"), 1);
	assert_int_equal(count(fx, "SELECT count(*) FROM message WHERE kind = 'bulletin-reminder'"), 0);
	assert_int_equal(db_run(fx->e.db, "DELETE FROM bulletin_issue", ""), 0);
	assert_int_equal(db_run(fx->e.db, "DELETE FROM message", ""), 0);
	tick_at(fx, "2026-02-25", 12);		/* past the deadline of issue 1 */
	assert_int_equal(count(fx, "SELECT count(*) FROM message"), 0);
	assert_int_equal(count(fx, "SELECT count(*) FROM bulletin_issue WHERE state = 'closed'"), 1);
}

/* A manual close is kept; a period opened by hand in advance gets its call at its start. */
static void
test_overrides(void **state)
{
	struct fx *fx = *state;
	struct bulletin_issue bi;

	roster(fx);
	set_now("2026-01-05", 12);
	assert_int_equal(bulletin_current(&fx->e, now(), &bi), 0);
	assert_int_equal(db_run(fx->e.db, "UPDATE bulletin_issue SET state = 'closed' WHERE"
	    " number = 1", ""), 0);
	tick_at(fx, "2026-01-05", 13);
	assert_int_equal(count(fx, "SELECT count(*) FROM message"), 0);
	assert_int_equal(bulletin_get(&fx->e, 2, &bi), 0);
	assert_int_equal(db_run(fx->e.db, "UPDATE bulletin_issue SET state = 'open' WHERE"
	    " number = 2", ""), 0);
	tick_at(fx, "2026-02-20", 12);
	assert_int_equal(count(fx, "SELECT count(*) FROM message"), 0);
	tick_at(fx, "2026-03-01", 12);
	assert_int_equal(count(fx, "SELECT count(*) FROM message WHERE kind = 'bulletin-call'"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_calendar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rows_and_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tick, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tick_late, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overrides, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
