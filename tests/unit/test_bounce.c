/* test_bounce.c — bounce classification against the samples of common
 * servers (tests/data/bounces/, expected.txt), DSN field parsing, and the
 * accounting of bounce_accept() on a temporary database: forged tokens,
 * the threshold and the office's notice, no score for delays and spam
 * rejections, one score per delivery, decay over time (MLISTD_NOW). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce.h"
#include "config.h"
#include "db.h"
#include "engine.h"
#include "mime.h"
#include "roster.h"
#include "testlib.h"
#include "util.h"

#define DATA	"tests/data/bounces/"
#define T0	1716000000

static char *
load(const char *name, size_t *len_r)
{
	char *path = xasprintf(DATA "%s.eml", name), *data = NULL;

	assert_int_equal(file_read(path, 1 << 20, &data, len_r), 0);
	free(path);
	return data;
}

static void
classify(const char *name, struct bounce_info *bi)
{
	size_t len;
	char *data = load(name, &len);

	bounce_classify(data, len, bi);
	free(data);
}

/* ---- classification ---- */

static void
test_samples(void **state)
{
	FILE *f = fopen(DATA "expected.txt", "r");
	char line[512], name[128], kind[16], status[16], rcpt[256];
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof line, f) != NULL) {
		struct bounce_info bi;

		if (line[0] == '#' || str_is_empty(line))
			continue;
		assert_int_equal(sscanf(line, "%127s %15s %15s %255s", name, kind, status, rcpt), 4);
		classify(name, &bi);
		fprintf(stderr, "  %-20s %-8s %-7s %-30s %s\n", name, bounce_kind_name(bi.kind),
		    bi.status, bi.recipient, bi.diagnostic);
		assert_string_equal(bounce_kind_name(bi.kind), kind);
		assert_string_equal(bi.status[0] ? bi.status : "-", status);
		assert_string_equal(bi.recipient[0] ? bi.recipient : "-", rcpt);
		n++;
	}
	fclose(f);
	assert_true(n >= 10);
}

static void
test_dsn_fields(void **state)
{
	struct bounce_info bi;

	classify("postfix-dsn-hard", &bi);
	assert_int_equal(bi.kind, BOUNCE_HARD);
	/* "smtp;" removed, the folded continuation line joined */
	assert_string_equal(bi.diagnostic, "550 5.1.1 <claire.morvan@example.net>: Recipient"
	    " address rejected: User unknown in virtual mailbox table");
	classify("gmail-dsn-hard", &bi);
	assert_true(str_has_prefix_ci(bi.diagnostic, "The email account that you tried"));
	classify("outlook-dsn-hard", &bi);
	assert_non_null(strstr(bi.diagnostic, "RESOLVER.ADR.RecipientNotFound"));
	/* text bounces: the server's own words */
	classify("qmail-hard", &bi);
	assert_non_null(strstr(bi.diagnostic, "Sorry, no mailbox here by that name"));
	classify("exim-hard", &bi);
	assert_string_equal(bi.diagnostic, "550 5.1.1 <yann.le-goff@example.net>: No such user here");
}

static const char multi_dsn[] =
    "From: MAILER-DAEMON@mail.example.org\n"
    "To: rebonds+x@example.org\n"
    "Subject: Delivery report\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n"
    "\n"
    "--B\n"
    "Content-Type: text/plain\n"
    "\n"
    "Report.\n"
    "--B\n"
    "Content-Type: message/delivery-status\n"
    "\n"
    "Reporting-MTA: dns; mail.example.org\n"
    "\n"
    "Final-Recipient: rfc822; <ok@example.org>\n"
    "Action: relayed\n"
    "Status: 2.0.0\n"
    "\n"
    "Final-Recipient: RFC822; Dead@Example.org\n"
    "Action: Failed\n"
    "Status: 5.1.2 (bad destination system)\n"
    "Diagnostic-Code: smtp;550 5.1.2 Host or domain name not found\n"
    "--B--\n";

static void
test_dsn_worst_recipient(void **state)
{
	struct bounce_info bi;

	bounce_classify(multi_dsn, sizeof multi_dsn - 1, &bi);
	assert_int_equal(bi.kind, BOUNCE_HARD);
	assert_string_equal(bi.status, "5.1.2");
	assert_string_equal(bi.recipient, "dead@example.org");
	assert_string_equal(bi.diagnostic, "550 5.1.2 Host or domain name not found");
}

static void
test_not_bounces(void **state)
{
	static const char *const inputs[] = {
		"",
		"no header at all",
		"From: someone@example.org\nSubject: Re: AG\n\nMerci, je serai la.\n",
		"From: MAILER-DAEMON@example.org\nSubject: x\n\n",
	};
	struct bounce_info bi;

	for (size_t i = 0; i < nitems(inputs); i++) {
		bounce_classify(inputs[i], strlen(inputs[i]), &bi);
		assert_true(bi.kind == BOUNCE_UNKNOWN || i == 3);
	}
	assert_string_equal(bounce_kind_name(BOUNCE_SPAM), "spam");
	assert_string_equal(bounce_kind_name((enum bounce_kind)42), "unknown");
}

/* Short texts in the shapes of other servers (no DSN part). */
static const struct {
	const char	*text;
	const char	*kind;
	const char	*status;
	const char	*rcpt;
} variants[] = {
	{ "From: Mail Delivery System <Mailer-Daemon@smtp.example.net>\n"
	  "Subject: Mail delivery failed: returning message to sender\n\n"
	  "A message that you sent could not be delivered to one or more of its\n"
	  "recipients. This is a permanent error. The following address(es) failed:\n\n"
	  "  anne@example.net\n    host mx.example.net [192.0.2.1] said: 550 5.1.1 Unknown address\n",
	  "hard", "5.1.1", "anne@example.net" },
	{ "From: postmaster@example.net\nTo: rebonds+abc@example.org\n"
	  "Subject: Undeliverable: Compte rendu\n\n"
	  "Delivery has failed to these recipients or groups:\n\nmarc@example.net\n"
	  "Your message wasn't delivered.\n\n"
	  "Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'\n",
	  "hard", "5.1.1", "marc@example.net" },
	{ "From: Mail Delivery Subsystem <mailer-daemon@example.net>\n"
	  "Subject: Delivery Status Notification (Delay)\n\n"
	  "Delivery incomplete\n\nThere was a temporary problem delivering your message to "
	  "lea@example.net. We will retry for 47 more hours.\n",
	  "delayed", "-", "lea@example.net" },
	{ "From: MAILER-DAEMON@example.net\nSubject: Avis de non-remise\n\n"
	  "Votre message \xc3\xa0 <paul@example.net> n\xe2\x80\x99""a pas encore \xc3\xa9t\xc3\xa9 "
	  "remis. Nous r\xc3\xa9""essaierons.\n",
	  "delayed", "-", "paul@example.net" },
	{ "From: MAILER-DAEMON@example.net\nSubject: Undelivered Mail Returned to Sender\n\n"
	  "<rose@example.net>: host mx.example.net[192.0.2.2] said: 554 5.7.1 This\n"
	  "    message was blocked because of content (in reply to end of DATA command)\n",
	  "spam", "5.7.1", "rose@example.net" },
	{ "From: MAILER-DAEMON@example.net\nSubject: Returned mail\n\n"
	  "<ines@example.net>: 552 Mailbox is full\n",
	  "soft", "-", "ines@example.net" },
	{ "From: MAILER-DAEMON@example.net\nSubject: Returned mail\n\n"
	  "<ines@example.net>: 554 Transaction failed\n",
	  "hard", "-", "ines@example.net" },
	{ "From: someone@example.net\nSubject: Re: assemblee\n\n"
	  "Bonjour, l'adresse de Jean n'existe pas, ecrivez a jean@example.net\n",
	  "unknown", "-", "-" },
};

static void
test_text_variants(void **state)
{
	for (size_t i = 0; i < nitems(variants); i++) {
		struct bounce_info bi;

		bounce_classify(variants[i].text, strlen(variants[i].text), &bi);
		fprintf(stderr, "  #%zu %s %s %s [%s]\n", i, bounce_kind_name(bi.kind), bi.status,
		    bi.recipient, bi.diagnostic);
		assert_string_equal(bounce_kind_name(bi.kind), variants[i].kind);
		assert_string_equal(bi.status[0] ? bi.status : "-", variants[i].status);
		assert_string_equal(bi.recipient[0] ? bi.recipient : "-", variants[i].rcpt);
	}
}

/* CRLF line endings give the same answer; every truncation of every sample
 * is classified without harm (run under AddressSanitizer). */
static void
test_crlf_and_truncations(void **state)
{
	static const char *const names[] = { "postfix-dsn-hard", "gmail-dsn-hard",
	    "outlook-dsn-hard", "orange-fr-hard", "exim-delayed", "qmail-hard" };
	struct bounce_info a, b;

	for (size_t i = 0; i < nitems(names); i++) {
		size_t len;
		char *data = load(names[i], &len);
		struct buf crlf;

		buf_init(&crlf);
		for (size_t j = 0; j < len; j++) {
			if (data[j] == '\n')
				buf_addc(&crlf, '\r');
			buf_addc(&crlf, data[j]);
		}
		bounce_classify(data, len, &a);
		bounce_classify(crlf.data, crlf.len, &b);
		assert_int_equal(a.kind, b.kind);
		assert_string_equal(a.status, b.status);
		assert_string_equal(a.recipient, b.recipient);
		assert_string_equal(a.diagnostic, b.diagnostic);
		for (size_t cut = 0; cut < len; cut += 7) {
			char *part = xstrndup(data, cut);	/* exact size: overruns show */

			bounce_classify(part, cut, &b);
			free(part);
		}
		buf_free(&crlf);
		free(data);
	}
}

/* ---- accounting ---- */

struct fx {
	char		 dir[TEST_DIR_SIZE];
	struct config	 cf;
	struct engine	 e;
	int64_t		 committee;
	int64_t		 alice, bob;
};

static int
setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof *fx);

	test_env_open(fx->dir, "bounce", "example.org", &fx->cf, &fx->e);
	fx->cf.bounce_score_threshold = 2;
	fx->committee = test_committee(&fx->e, "Quimper", "Bretagne", "29",
	    "alice@example.org Alice Le Bras, bob@example.org Bob Kermarrec");
	test_sender(&fx->e, "bureau@example.org", "national", "Bureau");
	fx->alice = test_int(fx->e.db, "SELECT id FROM contact WHERE email = 'alice@example.org'", "");
	fx->bob = test_int(fx->e.db, "SELECT id FROM contact WHERE email = 'bob@example.org'", "");
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

/* A broadcast already sent to one contact; its VERP token into verp. */
static int64_t
add_delivery(struct fx *fx, int64_t contact, const char *verp)
{
	char token[33];

	engine_token(token, 16);
	assert_int_equal(db_run(fx->e.db, "INSERT INTO message (token, kind, state, received)"
	    " VALUES (?, 'broadcast', 'done', ?)", "si", token, (int64_t)now()), 0);
	assert_int_equal(db_run(fx->e.db, "INSERT INTO delivery (message_id, contact_id,"
	    " committee_id, rcpt, verp, state, next_try) SELECT ?, id, committee_id, email, ?,"
	    " 'sent', 0 FROM contact WHERE id = ?", "isi", db_last_id(fx->e.db), verp, contact), 0);
	return db_last_id(fx->e.db);
}

static int
accept_sample(struct fx *fx, const char *sample, const char *verp)
{
	static int seq;
	char spool_id[32];
	struct inmsg in = { spool_id, "", "rebonds@example.org", verp, NULL, 0 };
	char *data = load(sample, &in.len);
	const char *err;
	int rc;

	snprintf(spool_id, sizeof spool_id, "spool-%d", ++seq);
	in.data = data;
	rc = bounce_accept(&fx->e, &in, &err);
	free(data);
	return rc;
}

static int64_t
count(struct fx *fx, const char *sql)
{
	return test_int(fx->e.db, sql, "");
}

/* A contact's score in hundredths. */
static int64_t
score100(struct fx *fx, int64_t contact)
{
	return test_int(fx->e.db, "SELECT CAST(round(bounce_score * 100) AS INTEGER) FROM contact"
	    " WHERE id = ?", "i", contact);
}

static void
test_forged_token(void **state)
{
	struct fx *fx = *state;
	int64_t messages = count(fx, "SELECT count(*) FROM message");

	add_delivery(fx, fx->alice, "00112233445566778899aabbccddeeff");
	assert_int_equal(accept_sample(fx, "postfix-dsn-hard", "ffeeddccbbaa99887766554433221100"), 0);
	assert_int_equal(accept_sample(fx, "postfix-dsn-hard", ""), 0);
	assert_int_equal(accept_sample(fx, "postfix-dsn-hard", "' OR 1=1 --"), 0);
	assert_int_equal(count(fx, "SELECT count(*) FROM bounce"), 0);
	assert_int_equal(count(fx, "SELECT count(*) FROM message"), messages + 1);
	assert_int_equal(count(fx, "SELECT count(*) FROM delivery"), 1);
	assert_int_equal(count(fx, "SELECT count(*) FROM delivery WHERE state = 'sent'"), 1);
	assert_int_equal(score100(fx, fx->alice), 0);
	assert_int_equal(count(fx, "SELECT count(*) FROM contact WHERE last_error IS NOT NULL"), 0);
}

/* The body of the only notice, decoded. */
static char *
notice_text(struct fx *fx)
{
	struct db_stmt *st = db_query(fx->e.db, "SELECT body FROM message WHERE kind = 'notice'", "");
	struct mime_msg *m = NULL;
	const char *err;
	const void *body;
	char *text;
	size_t len;

	assert_non_null(st);
	assert_int_equal(db_step(st), 1);
	body = db_col_blob(st, 0, &len);
	assert_int_equal(mime_parse(body, len, &m, &err), 0);
	db_finalize(&st);
	text = mime_text_plain(m, NULL);
	mime_free(&m);
	assert_non_null(text);
	return text;
}

static void
test_threshold_disables_once(void **state)
{
	struct fx *fx = *state;
	char *text, *reason;

	add_delivery(fx, fx->alice, "aaaa0000000000000000000000000001");
	add_delivery(fx, fx->alice, "aaaa0000000000000000000000000002");
	assert_int_equal(accept_sample(fx, "postfix-dsn-hard", "aaaa0000000000000000000000000001"), 0);
	assert_int_equal(score100(fx, fx->alice), 100);
	/* the same delivery bouncing again counts once */
	assert_int_equal(accept_sample(fx, "exim-hard", "aaaa0000000000000000000000000001"), 0);
	assert_int_equal(score100(fx, fx->alice), 100);
	assert_int_equal(count(fx, "SELECT active FROM contact WHERE email = 'alice@example.org'"), 1);
	assert_int_equal(count(fx, "SELECT count(*) FROM message WHERE kind = 'notice'"), 0);
	assert_int_equal(count(fx, "SELECT count(*) FROM delivery WHERE state = 'failed'"), 1);

	assert_int_equal(accept_sample(fx, "gmail-dsn-hard", "aaaa0000000000000000000000000002"), 0);
	assert_int_equal(score100(fx, fx->alice), 200);
	assert_int_equal(count(fx, "SELECT active FROM contact WHERE email = 'alice@example.org'"), 0);
	assert_int_equal(count(fx, "SELECT active FROM contact WHERE email = 'bob@example.org'"), 1);
	reason = db_str(fx->e.db, "SELECT disabled_reason FROM contact WHERE id = ?", "i", fx->alice);
	assert_non_null(reason);
	assert_true(str_has_prefix_ci(reason, "bounces: 5.1.1 The email account"));
	free(reason);
	assert_int_equal(count(fx, "SELECT count(*) FROM message WHERE kind = 'notice'"), 1);
	assert_int_equal(count(fx, "SELECT count(*) FROM delivery d JOIN message m ON"
	    " m.id = d.message_id WHERE m.kind = 'notice' AND d.rcpt = 'bureau@example.org'"), 1);
	assert_int_equal(count(fx, "SELECT count(*) FROM delivery d JOIN message m ON"
	    " m.id = d.message_id WHERE m.kind = 'notice'"), 1);
	text = notice_text(fx);
	assert_non_null(strstr(text, "Alice Le Bras"));
	assert_non_null(strstr(text, "Quimper"));
	assert_non_null(strstr(text, "The email account that you tried to reach does not exist"));
	assert_non_null(strstr(text, "encore joignables dans le comité Quimper\u00a0: 1."));
	assert_non_null(strstr(text, "minimum prévu (3)"));
	assert_non_null(strstr(text, "de la réactiver"));
	assert_null(strstr(text, "mlistctl"));
	free(text);

	/* more bounces for a disabled contact: no second notice */
	add_delivery(fx, fx->alice, "aaaa0000000000000000000000000003");
	assert_int_equal(accept_sample(fx, "qmail-hard", "aaaa0000000000000000000000000003"), 0);
	assert_int_equal(count(fx, "SELECT count(*) FROM message WHERE kind = 'notice'"), 1);
	assert_int_equal(count(fx, "SELECT count(*) FROM bounce"), 4);
}

static void
test_admin_address_is_the_office(void **state)
{
	struct fx *fx = *state;

	test_set(&fx->cf.admin_address, "admin@example.org");
	fx->cf.bounce_score_threshold = 1;
	add_delivery(fx, fx->bob, "bbbb0000000000000000000000000001");
	assert_int_equal(accept_sample(fx, "orange-fr-hard", "bbbb0000000000000000000000000001"), 0);
	assert_int_equal(count(fx, "SELECT active FROM contact WHERE email = 'bob@example.org'"), 0);
	assert_int_equal(count(fx, "SELECT count(*) FROM delivery d JOIN message m ON"
	    " m.id = d.message_id WHERE m.kind = 'notice' AND d.rcpt = 'admin@example.org'"), 1);
	assert_int_equal(count(fx, "SELECT count(*) FROM delivery d JOIN message m ON"
	    " m.id = d.message_id WHERE m.kind = 'notice'"), 1);
}

static void
test_delay_and_spam_score_nothing(void **state)
{
	struct fx *fx = *state;
	char *err;

	add_delivery(fx, fx->alice, "cccc0000000000000000000000000001");
	add_delivery(fx, fx->alice, "cccc0000000000000000000000000002");
	assert_int_equal(accept_sample(fx, "postfix-dsn-delayed", "cccc0000000000000000000000000001"), 0);
	assert_int_equal(accept_sample(fx, "exim-delayed", "cccc0000000000000000000000000001"), 0);
	assert_int_equal(accept_sample(fx, "postfix-dsn-spam", "cccc0000000000000000000000000002"), 0);
	assert_int_equal(accept_sample(fx, "vacation-fr", "cccc0000000000000000000000000002"), 0);
	assert_int_equal(score100(fx, fx->alice), 0);
	assert_int_equal(count(fx, "SELECT count(*) FROM contact WHERE bounce_updated IS NOT NULL"), 0);
	assert_int_equal(count(fx, "SELECT count(*) FROM bounce WHERE score = 0"), 4);
	assert_int_equal(count(fx, "SELECT count(*) FROM bounce WHERE kind = 'delayed'"), 2);
	assert_int_equal(count(fx, "SELECT count(*) FROM bounce WHERE kind = 'spam'"), 1);
	assert_int_equal(count(fx, "SELECT count(*) FROM bounce WHERE kind = 'unknown'"), 1);
	/* a delay leaves the delivery alone; the rejected message did fail */
	assert_int_equal(count(fx, "SELECT count(*) FROM delivery WHERE state = 'sent'"), 1);
	assert_int_equal(count(fx, "SELECT count(*) FROM delivery WHERE state = 'failed'"), 1);
	err = db_str(fx->e.db, "SELECT last_error FROM contact WHERE id = ?", "i", fx->alice);
	assert_non_null(err);
	assert_non_null(strstr(err, "rejected as spam"));
	free(err);
	assert_int_equal(count(fx, "SELECT active FROM contact WHERE email = 'alice@example.org'"), 1);
}

static void
test_decay(void **state)
{
	struct fx *fx = *state;
	long stale = fx->cf.bounce_info_stale_after;

	fx->cf.bounce_score_threshold = 5;
	add_delivery(fx, fx->alice, "dddd0000000000000000000000000001");
	add_delivery(fx, fx->alice, "dddd0000000000000000000000000002");
	add_delivery(fx, fx->alice, "dddd0000000000000000000000000003");
	add_delivery(fx, fx->alice, "dddd0000000000000000000000000004");
	test_now(T0);
	assert_int_equal(accept_sample(fx, "postfix-dsn-hard", "dddd0000000000000000000000000001"), 0);
	assert_int_equal(score100(fx, fx->alice), 100);
	/* less than one period: no decay */
	test_now(T0 + stale - 1);
	assert_int_equal(accept_sample(fx, "dovecot-dsn-full", "dddd0000000000000000000000000002"), 0);
	assert_int_equal(score100(fx, fx->alice), 150);
	/* two full periods since the last change: 1.5 / 4 + 1 */
	test_now(T0 + stale - 1 + 2 * stale + 100);
	assert_int_equal(accept_sample(fx, "qmail-hard", "dddd0000000000000000000000000003"), 0);
	assert_int_equal(score100(fx, fx->alice), 138);	/* 1.375 */
	assert_int_equal(count(fx, "SELECT bounce_updated FROM contact WHERE email = 'alice@example.org'"),
	    T0 + stale - 1 + 2 * stale + 100);
	/* a soft bounce then a hard one on the same delivery: 1 in all */
	assert_int_equal(accept_sample(fx, "orange-fr-full", "dddd0000000000000000000000000004"), 0);
	assert_int_equal(accept_sample(fx, "exim-hard", "dddd0000000000000000000000000004"), 0);
	assert_int_equal(score100(fx, fx->alice), 238);
	/* a year later, the score has gone */
	test_now(T0 + 400LL * 86400);
	add_delivery(fx, fx->alice, "dddd0000000000000000000000000005");
	assert_int_equal(accept_sample(fx, "orange-fr-full", "dddd0000000000000000000000000005"), 0);
	assert_int_equal(score100(fx, fx->alice), 50);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_dsn_fields),
		cmocka_unit_test(test_dsn_worst_recipient),
		cmocka_unit_test(test_not_bounces),
		cmocka_unit_test(test_text_variants),
		cmocka_unit_test(test_crlf_and_truncations),
		cmocka_unit_test_setup_teardown(test_forged_token, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threshold_disables_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admin_address_is_the_office, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delay_and_spam_score_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decay, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
