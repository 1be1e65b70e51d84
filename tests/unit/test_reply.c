/*
 * test_reply.c — replies to broadcasts (reply.c) and the replies report
 * (status_replies): a contact's reply is recorded against its committee
 * and forwarded to the author, DMARC-safe, with the member in Reply-To;
 * an unknown sender is forwarded marked; a vacation notice is recorded as
 * automatic and not forwarded; an unknown token or our own loop does
 * nothing; national_replies_to wins over the author.
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
#include "db.h"
#include "engine.h"
#include "mime.h"
#include "reply.h"
#include "roster.h"
#include "status.h"
#include "testlib.h"
#include "util.h"

#define TOKEN	"0123456789abcdef0123456789abcdef"
#define DOMAIN	"comites.example.org"

struct fixture {
	char		 dir[TEST_DIR_SIZE];
	struct config	 cf;
	struct engine	 e;
	int64_t		 bcast;
	int64_t		 rennes, brest;
};

static int64_t
fx_delivery(struct fixture *f, int64_t committee, const char *rcpt)
{
	char verp[33];

	engine_token(verp, 16);
	assert_int_equal(db_run(f->e.db, "INSERT INTO delivery (message_id, contact_id, committee_id,"
	    " rcpt, verp, state, next_try) VALUES (?, (SELECT id FROM contact WHERE email = ?), ?, ?,"
	    " ?, 'sent', 0)", "isiss", f->bcast, rcpt, committee, rcpt, verp), 0);
	return db_last_id(f->e.db);
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);

	test_now(2000);
	test_env_open(f->dir, "reply", DOMAIN, &f->cf, &f->e);
	f->rennes = test_committee(&f->e, "Rennes", "Bretagne", "35",
	    "alice@example.org Alice Martin");
	f->brest = test_committee(&f->e, "Brest", "Bretagne", "29", "bob@example.org Bob Le Gall");
	assert_int_equal(db_run(f->e.db, "INSERT INTO message (token, kind, state, author, subject,"
	    " received, released) VALUES (?, 'broadcast', 'sending', 'office@example.org',"
	    " 'Réunion de juin', 1000, 1000)", "s", TOKEN), 0);
	f->bcast = db_last_id(f->e.db);
	fx_delivery(f, f->rennes, "alice@example.org");
	fx_delivery(f, f->brest, "bob@example.org");
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

/* Hand one message to reply_accept as the router would. */
static int
fx_reply(struct fixture *f, const char *spool_id, const char *sender, const char *token,
    const char *msg)
{
	char *rcpt = xasprintf("retour+%s@%s", token, DOMAIN);
	struct inmsg in = { spool_id, sender, rcpt, token, msg, strlen(msg) };
	const char *err;
	int rc = reply_accept(&f->e, &in, &err);

	free(rcpt);
	return rc;
}

static char *
fx_text(const char *from, const char *subject, const char *extra)
{
	return xasprintf("From: %s\nTo: retour+%s@%s\nSubject: %s\nMessage-ID: <r%ld@example.org>\n"
	    "Date: Mon, 3 Jun 2024 10:00:00 +0200\n%sMIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=utf-8\n\nNous serons là.\n", from, TOKEN, DOMAIN,
	    subject, random(), extra);
}

/* The forward of the latest reply row: its parsed body and its delivery rcpt. */
static struct mime_msg *
fx_forward(struct fixture *f, char **rcpt_r)
{
	int64_t fid = test_int(f->e.db, "SELECT forward_id FROM reply ORDER BY id DESC LIMIT 1", "");
	struct db_stmt *st = db_query(f->e.db, "SELECT body FROM message WHERE id = ? AND kind ="
	    " 'reply-forward'", "i", fid);
	struct mime_msg *m = NULL;
	const char *err;
	size_t len;

	assert_true(fid > 0);
	assert_int_equal(db_step(st), 1);
	const char *body = db_col_blob(st, 0, &len);
	assert_non_null(strstr(body, "\r\n"));
	assert_int_equal(mime_parse(body, len, &m, &err), 0);
	db_finalize(&st);
	*rcpt_r = db_str(f->e.db, "SELECT rcpt FROM delivery WHERE message_id = ?", "i", fid);
	return m;
}

static void
assert_header_contains(const struct mime_msg *m, const char *name, const char *needle)
{
	char *v = mime_header(m, name);

	assert_non_null(v);
	if (strstr(v, needle) == NULL)
		fail_msg("%s: \"%s\" lacks \"%s\"", name, v, needle);
	free(v);
}

static void
test_contact_reply_forwarded(void **state)
{
	struct fixture *f = *state;
	char *msg = fx_text("Alice Martin <Alice@example.org>", "Re: Réunion de juin", "");
	char *rcpt, *subject;
	struct mime_msg *m;

	assert_int_equal(fx_reply(f, "s1", "alice@example.org", TOKEN, msg), 0);
	assert_int_equal(test_int(f->e.db, "SELECT committee_id FROM reply WHERE message_id = ?"
	    " AND auto IS NULL AND sender = 'alice@example.org'", "i", f->bcast), f->rennes);
	m = fx_forward(f, &rcpt);
	assert_string_equal(rcpt, "office@example.org");
	subject = mime_subject(m);
	assert_true(str_has_prefix_ci(subject, "[Rennes] Re: Réunion de juin"));
	assert_header_contains(m, "Reply-To", "alice@example.org");
	assert_header_contains(m, "From", "national@" DOMAIN);
	assert_header_contains(m, "From", "Alice Martin via");
	assert_header_contains(m, "To", "office@example.org");
	assert_header_contains(m, "X-Mlistd-Broadcast", TOKEN);
	assert_header_contains(m, "X-Loop", "national@" DOMAIN);
	assert_header_contains(m, "X-Original-From", "alice@example.org");
	assert_header_contains(m, "Message-ID", "@example.org");	/* the member's, kept */
	/* the router's idempotence key: the inbound row */
	assert_int_equal(test_int(f->e.db, "SELECT count(*) FROM message WHERE spool_id = 's1' AND"
	    " kind = 'reply' AND state = 'done'", ""), 1);
	free(subject);
	free(rcpt);
	mime_free(&m);
	free(msg);
}

static void
test_unknown_sender_marked(void **state)
{
	struct fixture *f = *state;
	char *msg = fx_text("carol@example.org", "Re: Réunion de juin", "");
	char *rcpt, *subject;
	struct mime_msg *m;

	assert_int_equal(fx_reply(f, "s2", "carol@example.org", TOKEN, msg), 0);
	assert_int_equal(test_int(f->e.db, "SELECT count(*) FROM reply WHERE sender ="
	    " 'carol@example.org' AND committee_id IS NULL AND auto IS NULL", ""), 1);
	m = fx_forward(f, &rcpt);
	subject = mime_subject(m);
	assert_true(str_has_prefix_ci(subject, "[inconnu] Re: Réunion"));
	assert_header_contains(m, "Reply-To", "carol@example.org");
	free(subject);
	free(rcpt);
	mime_free(&m);
	free(msg);
}

static void
test_vacation_not_forwarded(void **state)
{
	struct fixture *f = *state;
	char *msg = fx_text("Bob Le Gall <bob@example.org>", "Absence du bureau",
	    "Auto-Submitted: auto-replied\n");
	int64_t before = test_int(f->e.db, "SELECT count(*) FROM delivery", "");

	assert_int_equal(fx_reply(f, "s3", "bob@example.org", TOKEN, msg), 0);
	assert_int_equal(test_int(f->e.db, "SELECT count(*) FROM reply WHERE committee_id = ? AND"
	    " auto IS NOT NULL AND forward_id IS NULL", "i", f->brest), 1);
	assert_int_equal(test_int(f->e.db, "SELECT count(*) FROM delivery", ""), before);
	assert_int_equal(test_int(f->e.db, "SELECT count(*) FROM message WHERE kind ="
	    " 'reply-forward'", ""), 0);
	free(msg);
}

static void
test_unknown_token_nothing(void **state)
{
	struct fixture *f = *state;
	char *msg = fx_text("alice@example.org", "Re: Réunion de juin", "");

	assert_int_equal(fx_reply(f, "s4", "alice@example.org", "ffffffffffffffffffffffffffffffff",
	    msg), 0);
	assert_int_equal(test_int(f->e.db, "SELECT count(*) FROM reply", ""), 0);
	assert_int_equal(test_int(f->e.db, "SELECT count(*) FROM message WHERE kind ="
	    " 'reply-forward'", ""), 0);
	free(msg);
}

static void
test_own_loop_dropped(void **state)
{
	struct fixture *f = *state;
	char *msg = fx_text("alice@example.org", "[Rennes] Re: Réunion de juin",
	    "X-Loop: national@" DOMAIN "\n");

	assert_int_equal(fx_reply(f, "s5", "alice@example.org", TOKEN, msg), 0);
	assert_int_equal(test_int(f->e.db, "SELECT count(*) FROM reply", ""), 0);
	assert_int_equal(test_int(f->e.db, "SELECT count(*) FROM message WHERE kind = 'reply'"
	    " AND state = 'dropped'", ""), 1);
	free(msg);
}

static void
test_national_replies_to(void **state)
{
	struct fixture *f = *state;
	char *msg = fx_text("alice@example.org", "Re: Réunion de juin", "");
	char *rcpt;
	struct mime_msg *m;

	test_set(&f->cf.national_replies_to, "replies@example.org");
	assert_int_equal(fx_reply(f, "s6", "alice@example.org", TOKEN, msg), 0);
	m = fx_forward(f, &rcpt);
	assert_string_equal(rcpt, "replies@example.org");
	free(rcpt);
	mime_free(&m);
	free(msg);
}

static void
test_status_replies(void **state)
{
	struct fixture *f = *state;
	char *a = fx_text("alice@example.org", "Re: Réunion de juin", "");
	char *b = fx_text("bob@example.org", "Absence du bureau", "Auto-Submitted: auto-replied\n");
	char *out = NULL, *answered, *missing;
	size_t len = 0;
	FILE *fp;

	assert_int_equal(fx_reply(f, "s7", "alice@example.org", TOKEN, a), 0);
	assert_int_equal(fx_reply(f, "s8", "bob@example.org", TOKEN, b), 0);
	fp = open_memstream(&out, &len);
	assert_int_equal(status_replies(f->e.db, TOKEN, fp), 0);
	fclose(fp);
	answered = strstr(out, "Ont répondu");
	missing = strstr(out, "N'ont pas répondu");
	assert_non_null(answered);
	assert_non_null(missing);
	assert_true(answered < missing);
	/* Rennes answered (with who), Brest did not (its vacation notice does not count) */
	assert_non_null(strstr(answered, "Rennes"));
	assert_true(strstr(answered, "Rennes") < missing);
	assert_true(strstr(answered, "alice@example.org") < missing);
	assert_non_null(strstr(missing, "Brest"));
	assert_null(strstr(answered, "bob@example.org"));
	assert_non_null(strstr(out, "1 comité(s) ont répondu sur 2"));
	assert_int_equal(status_replies(f->e.db, "nope", stdout), -1);
	free(out);
	free(a);
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_contact_reply_forwarded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_sender_marked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vacation_not_forwarded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_token_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_loop_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_national_replies_to, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_replies, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
