/*
 * test_office.c — the report on a broadcast (office.c, status.c): none
 * before broadcast_report_after, exactly one after (a second tick sends
 * nothing), none with 0, none for a broadcast older than the window; when
 * the mail cannot be queued nothing is recorded and the next tick sends
 * it; the report's text (reached, not reached with contacts' states in
 * French, replies and who); finding a broadcast by reference or words.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "db.h"
#include "engine.h"
#include "mime.h"
#include "office.h"
#include "status.h"
#include "testlib.h"
#include "util.h"

#define T0	1000000
#define TOKEN	"c0ffee00aa11bb22cc33dd44ee55ff66"

struct fixture {
	char		 dir[TEST_DIR_SIZE];
	struct config	 cf;
	struct engine	 e;
	int64_t		 bcast;
};

static void
fx_broadcast(struct fixture *f, const char *token, const char *subject, int64_t released)
{
	assert_int_equal(db_run(f->e.db, "INSERT INTO message (token, kind, state, author, subject,"
	    " message_id, received, released) VALUES (?, 'broadcast', 'sending',"
	    " 'bureau@example.org', ?, 'b1@example.org', ?, ?)", "ssii", token, subject, released,
	    released), 0);
	f->bcast = db_last_id(f->e.db);
}

static void
fx_delivery(struct fixture *f, int64_t committee, const char *rcpt, const char *state,
    const char *reply)
{
	assert_int_equal(db_run(f->e.db, "INSERT INTO delivery (message_id, contact_id, committee_id,"
	    " rcpt, verp, state, next_try, last_reply) VALUES (?, (SELECT id FROM contact WHERE"
	    " email = ?), ?, ?, ?, ?, 0, ?)", "isissss", f->bcast, rcpt, committee, rcpt, rcpt,
	    state, reply), 0);
}

/* Rennes reached and answered, Brest delayed, Quimper without contact. */
static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	int64_t rennes, brest;

	test_now(T0 - 100);
	test_env_open(f->dir, "office", "comites.example.org", &f->cf, &f->e);
	rennes = test_committee(&f->e, "Rennes", "Bretagne", "35", "anne@example.org");
	brest = test_committee(&f->e, "Brest", "Bretagne", "29", "bob@example.org");
	test_committee(&f->e, "Quimper", "Bretagne", "29", NULL);
	fx_broadcast(f, TOKEN, "Assemblée générale", T0);
	fx_delivery(f, rennes, "anne@example.org", "sent", "250 2.0.0 Ok");
	fx_delivery(f, brest, "bob@example.org", "deferred", "451 4.3.0 try later");
	assert_int_equal(db_run(f->e.db, "INSERT INTO reply (message_id, committee_id, sender,"
	    " received) VALUES (?, ?, 'anne@example.org', ?)", "iii", f->bcast, rennes,
	    (int64_t)T0 + 60), 0);
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
fx_reports(struct fixture *f)
{
	return test_int(f->e.db, "SELECT count(*) FROM message WHERE kind = 'broadcast-report'", "");
}

/* Once, after the delay; none before, none twice, none with 0. */
static void
test_once(void **state)
{
	struct fixture *f = *state;

	f->cf.broadcast_report_after = 7200;
	test_now(T0 + 7199);
	assert_int_equal(office_tick(&f->e), 0);
	assert_int_equal(office_next_due(&f->e), 1);
	assert_int_equal(fx_reports(f), 0);
	test_now(T0 + 7200);
	assert_int_equal(office_next_due(&f->e), 0);
	assert_int_equal(office_tick(&f->e), 1);
	assert_int_equal(office_tick(&f->e), 0);
	assert_int_equal(office_next_due(&f->e), -1);
	assert_int_equal(fx_reports(f), 1);
	assert_int_equal(test_int(f->e.db, "SELECT count(*) FROM delivery d JOIN message m ON"
	    " m.id = d.message_id WHERE m.kind = 'broadcast-report' AND d.rcpt ="
	    " 'bureau@example.org'", ""), 1);
	/* 0: off, whatever is due */
	fx_broadcast(f, "0123456789abcdef0123456789abcdef", "Autre", T0);
	f->cf.broadcast_report_after = 0;
	assert_int_equal(office_tick(&f->e), 0);
	assert_int_equal(office_next_due(&f->e), -1);
	assert_int_equal(fx_reports(f), 1);
}

/* Older than broadcast_report_after + queue_lifetime: too late, none. */
static void
test_window(void **state)
{
	struct fixture *f = *state;

	f->cf.broadcast_report_after = 7200;
	test_now(T0 + 7200 + f->cf.queue_lifetime);
	assert_int_equal(office_tick(&f->e), 0);
	assert_int_equal(fx_reports(f), 0);
}

/* The mail cannot be made: no row, nothing queued; then it goes once. */
static void
test_atomic(void **state)
{
	struct fixture *f = *state;
	char *dir = xstrdup(f->cf.templates_dir);

	f->cf.broadcast_report_after = 60;
	test_now(T0 + 60);
	test_set(&f->cf.templates_dir, "/nonexistent");
	assert_int_equal(office_tick(&f->e), -1);
	assert_int_equal(test_int(f->e.db, "SELECT count(*) FROM broadcast_report", ""), 0);
	assert_int_equal(fx_reports(f), 0);
	test_set(&f->cf.templates_dir, dir);
	assert_int_equal(office_tick(&f->e), 1);
	assert_int_equal(office_tick(&f->e), 0);
	assert_int_equal(fx_reports(f), 1);
	free(dir);
}

/* What the author reads. */
static void
test_text(void **state)
{
	struct fixture *f = *state;
	struct db_stmt *st;
	struct mime_msg *m;
	const char *err, *raw;
	char *text, *s;
	size_t len;

	f->cf.broadcast_report_after = 60;
	test_now(T0 + 60);
	assert_int_equal(office_tick(&f->e), 1);
	st = db_query(f->e.db, "SELECT body FROM message WHERE kind = 'broadcast-report'", "");
	assert_int_equal(db_step(st), 1);
	raw = db_col_blob(st, 0, &len);
	assert_int_equal(mime_parse(raw, len, &m, &err), 0);
	db_finalize(&st);
	s = mime_subject(m);
	assert_string_equal(s, "Bilan de l'envoi «\xc2\xa0" "Assemblée générale\xc2\xa0»");
	free(s);
	s = mime_header(m, "In-Reply-To");
	assert_string_equal(s, "<b1@example.org>");
	free(s);
	text = mime_text_plain(m, NULL);
	assert_non_null(strstr(text, "\nComités atteints\xc2\xa0: 1 sur 3\n  Rennes\n"));
	assert_non_null(strstr(text, "\nPas encore atteints\xc2\xa0: 2\n"));
	assert_non_null(strstr(text, "\nBrest — envoi en cours\n  - bob@example.org\xc2\xa0: différé\n"
	    "    dernière erreur\xc2\xa0: 451 4.3.0 try later\n"));
	assert_non_null(strstr(text, "\nQuimper — aucun contact n'a reçu le message\n  (aucun"
	    " contact actif au moment de l'envoi)\n"));
	assert_non_null(strstr(text, "\nRéponses reçues\xc2\xa0: 1\n  - anne@example.org (Rennes),"
	    " le "));
	assert_non_null(strstr(text, "STATUT c0ffee00\n"));
	assert_null(strstr(text, "deferred"));
	free(text);
	mime_free(&m);
}

/* A reference (8 hex digits at least) or words of the subject. */
static void
test_find(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char	*key;
		int		 n;
	} cases[] = {
		{ TOKEN, 1 }, { "c0ffee00", 1 }, { "C0FFEE00AA", 1 }, { "c0ffee", 0 },
		{ "assemblee", 2 }, { "Assemblée générale", 1 }, { "générale assemblée", 1 },
		{ "jeunes", 1 }, { "kermesse", 0 }, { "«\xc2\xa0jeunes\xc2\xa0»", 1 },
	};
	char **tokens;
	int n;

	fx_broadcast(f, "feedbeef00000000000000000000aaaa", "Assemblée des jeunes", T0 + 10);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		n = status_find(f->e.db, cases[i].key, 10, &tokens);
		if (n != cases[i].n)
			fail_msg("%s: %d, wanted %d", cases[i].key, n, cases[i].n);
		if (n == 2)	/* newest first */
			assert_string_equal(tokens[0], "feedbeef00000000000000000000aaaa");
		status_tokens_free(tokens, (size_t)n);
	}
	n = status_find(f->e.db, "assemblee", 1, &tokens);	/* at most max */
	assert_int_equal(n, 1);
	status_tokens_free(tokens, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_atomic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
