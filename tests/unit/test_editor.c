/* test_editor.c — the editors' actions and their rules (unknown, replaced,
 * published, no committee), the order of an issue, the daily digest's
 * content, and the commands by email (several ids, accents and case,
 * quoted lines ignored, non-editors and automatic mail ignored). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulletin.h"
#include "config.h"
#include "db.h"
#include "answer.h"
#include "editor.h"
#include "request.h"
#include "engine.h"
#include "mime.h"
#include "roster.h"
#include "testlib.h"
#include "util.h"

struct fx {
	char		 dir[TEST_DIR_SIZE];
	struct config	 cf;
	struct engine	 e;
	int64_t		 issue_id;
	int64_t		 rennes, brest;
};

static int
setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof *fx);
	struct bulletin_issue bi;

	test_env_open(fx->dir, "editor", "example.org", &fx->cf, &fx->e);
	test_set(&fx->cf.language, "fr");
	test_set(&fx->cf.trusted_authserv_ids, "mx.example.org");
	test_now(1768046400);		/* 2026-01-10 */
	assert_int_equal(bulletin_tick(&fx->e), 0);
	assert_int_equal(bulletin_open_issue(&fx->e, now(), &bi), 0);
	fx->issue_id = bi.id;
	fx->rennes = test_committee(&fx->e, "Rennes", "Bretagne", "35", NULL);
	fx->brest = test_committee(&fx->e, "Brest", "Bretagne", "29", NULL);
	test_sender(&fx->e, "ed@example.org", "editor", "Ed");
	test_sender(&fx->e, "nat@example.org", "national", "");
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

/* A submission; committee 0 and issue 0 mean none. */
static int64_t
submit(struct fx *fx, int64_t committee, int with_issue, const char *state, const char *title,
    const char *body)
{
	assert_int_equal(db_run(fx->e.db, "INSERT INTO submission (issue_id, committee_id, sender,"
	    " title, body, activity_date, state, received) VALUES (nullif(?, 0), nullif(?, 0),"
	    " 'x@example.org', ?, ?, '2026-01-09', ?, ?)", "iisssi",
	    with_issue ? fx->issue_id : 0, committee, title, body, state, (int64_t)now()), 0);
	return db_last_id(fx->e.db);
}

static char *
field(struct fx *fx, const char *col, int64_t id)
{
	char *sql = xasprintf("SELECT %s FROM submission WHERE id = ?", col);
	char *v = db_str(fx->e.db, sql, "i", id);

	free(sql);
	return v;
}

static void
assert_field(struct fx *fx, const char *col, int64_t id, const char *want)
{
	char *v = field(fx, col, id);

	assert_non_null(v);
	assert_string_equal(v, want);
	free(v);
}

static void
test_states(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;
	int64_t a = submit(fx, fx->rennes, 1, "new", "Fête", "Texte");
	int64_t held = submit(fx, 0, 0, "held", "Inconnu", "Texte");
	int64_t old = submit(fx, fx->brest, 1, "replaced", "Ancien", "Texte");

	assert_int_equal(editor_set_state(&fx->e, 9999, "accepted", &err), 0);
	assert_non_null(strstr(err, "9999"));
	assert_int_equal(editor_set_state(&fx->e, a, "bogus", &err), 0);
	assert_int_equal(editor_set_state(&fx->e, a, "accepted", &err), 1);
	assert_field(fx, "state", a, "accepted");
	assert_int_equal(editor_set_state(&fx->e, a, "accepted", &err), 1);	/* idempotent */
	assert_int_equal(editor_set_state(&fx->e, a, "held", &err), 1);
	assert_int_equal(editor_set_state(&fx->e, a, "rejected", &err), 1);
	assert_field(fx, "state", a, "rejected");
	assert_int_equal(editor_set_state(&fx->e, held, "accepted", &err), 0);	/* no committee */
	assert_int_equal(editor_set_state(&fx->e, held, "rejected", &err), 1);
	assert_int_equal(editor_set_state(&fx->e, old, "accepted", &err), 0);	/* replaced */
	assert_int_equal(db_run(fx->e.db, "UPDATE bulletin_issue SET state = 'published'", ""), 0);
	assert_int_equal(editor_set_state(&fx->e, a, "accepted", &err), 0);
	assert_int_equal(editor_set_text(&fx->e, a, "T", "B", &err), 0);
	assert_true(test_int(fx->e.db, "SELECT count(*) FROM audit WHERE what LIKE"
	    " 'submission %'", "") >= 4);
}

static void
test_text_and_date(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;
	int64_t a = submit(fx, fx->rennes, 1, "new", "Fête", "Texte");

	assert_int_equal(editor_set_text(&fx->e, a, "  \n ", "x", &err), 0);
	assert_int_equal(editor_set_text(&fx->e, a, "Titre\xff", "x", &err), 0);
	assert_int_equal(editor_set_text(&fx->e, a, " Grande\nfête ", "Un texte\nsur deux lignes",
	    &err), 1);
	assert_field(fx, "title", a, "Grande fête");
	assert_field(fx, "body", a, "Un texte\nsur deux lignes");
	assert_int_equal(editor_set_text(&fx->e, 4242, "T", "B", &err), 0);
	assert_int_equal(editor_set_date(&fx->e, a, "2026-02-30", &err), 0);
	assert_int_equal(editor_set_date(&fx->e, a, "12/01/2026", &err), 0);
	assert_int_equal(editor_set_date(&fx->e, a, "2026-01-05", &err), 1);
	assert_field(fx, "activity_date", a, "2026-01-05");
}

static void
test_order(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;
	int64_t id[4];
	char *order;

	for (int i = 0; i < 4; i++)
		id[i] = submit(fx, fx->rennes, 1, "new", "T", "B");
	assert_int_equal(editor_set_position(&fx->e, id[2], 1, &err), 1);
	assert_int_equal(editor_set_position(&fx->e, id[0], 99, &err), 1);	/* last */
	assert_int_equal(editor_set_position(&fx->e, id[0], 0, &err), 0);
	assert_int_equal(editor_set_position(&fx->e, 777, 1, &err), 0);
	order = db_str(fx->e.db, "SELECT group_concat(id - ?, ',') FROM (SELECT id FROM submission"
	    " ORDER BY position)", "i", id[0]);
	assert_string_equal(order, "2,1,3,0");
	free(order);
}

/* A message from `from`, text body. */
static char *
mail(const char *from, const char *extra, const char *body)
{
	return xasprintf("From: Ed <%s>\nTo: bulletin@example.org\nSubject: Re: Bulletin\n"
	    "Message-ID: <m1@example.org>\n%sMIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n%s",
	    from, extra, body);
}

static enum engine_result
cmd_txn(struct engine *e, const struct inmsg *in, void *m, const char **error_r)
{
	return editor_command_mail(e, in, m, error_r);
}

/* An editor's mail as report_accept() hands it over; the spool id is
 * NULL: the same mail may be handled again. */

#define DKIM_PASS	"Authentication-Results: mx.example.org; dkim=pass header.d=example.org\n"

static int
run_mail(struct fx *fx, const char *data, int *is_cmd_r)
{
	struct inmsg in = { NULL, "ed@example.org", "bulletin@example.org", "", data,
	    strlen(data) };

	struct mime_msg *m;
	const char *err;
	int rc;

	*is_cmd_r = 0;
	if (mime_parse(data, strlen(data), &m, &err) == -1)
		return ENGINE_CORRUPT;
	*is_cmd_r = editor_is_command_mail(&fx->e, &in, m);
	rc = *is_cmd_r ? (int)engine_run(&fx->e, &in, cmd_txn, m, &err) : 0;
	mime_free(&m);
	return rc;
}

static void
test_command_mail(void **state)
{
	struct fx *fx = *state;
	int64_t a = submit(fx, fx->rennes, 1, "new", "A", "x");
	int64_t b = submit(fx, fx->brest, 1, "new", "B", "x");
	int64_t c = submit(fx, fx->brest, 1, "new", "C", "x");
	int64_t d = submit(fx, fx->brest, 1, "new", "D", "x");
	char *body = xasprintf("\n  Accepter %lld\n\nrefusé #%lld\nATTENTE %lld, 9999\nMerci !\n"
	    "ACCEPTER %lld\n\nLe 10 janv. 2026, Bulletin a écrit :\n> ACCEPTER %lld\n",
	    (long long)a, (long long)b, (long long)c, (long long)d, (long long)d);
	char *m = mail("ed@example.org", DKIM_PASS, body), *notice;
	int is_cmd;

	assert_int_equal(run_mail(fx, m, &is_cmd), 0);
	assert_true(is_cmd);
	assert_field(fx, "state", a, "accepted");
	assert_field(fx, "state", b, "rejected");
	assert_field(fx, "state", c, "held");
	assert_field(fx, "state", d, "new");		/* after "Merci !": not read */
	notice = db_str(fx->e.db, "SELECT body FROM message WHERE kind = 'notice'", "");
	assert_non_null(notice);
	assert_non_null(strstr(notice, "In-Reply-To: <m1@example.org>"));
	assert_non_null(strstr(notice, "9999"));
	free(notice);
	assert_int_equal(test_int(fx->e.db, "SELECT count(*) FROM delivery WHERE rcpt ="
	    " 'ed@example.org'", ""), 1);
	free(m);
	free(body);
}

/* The confirm+TOKEN@ Reply-To of the last notice to rcpt (new string). */
static char *
confirm_token(struct fx *fx, const char *rcpt)
{
	char *body = db_str(fx->e.db, "SELECT m.body FROM message m JOIN delivery d ON"
	    " d.message_id = m.id WHERE d.rcpt = ? ORDER BY m.id DESC LIMIT 1", "s", rcpt);
	char *p = body ? strstr(body, "Reply-To: confirm+") : NULL, *t;

	assert_non_null(p);
	p += strlen("Reply-To: confirm+");
	t = xstrndup(p, strcspn(p, "@"));
	free(body);
	return t;
}

static int
confirm(struct fx *fx, const char *from, const char *token)
{
	char *data = xasprintf("From: <%s>\nTo: confirm+%s@example.org\nSubject: Re: x\n\nOui\n",
	    from, token), *rcpt = xasprintf("confirm+%s@example.org", token);
	struct inmsg in = { NULL, from, rcpt, token, data, strlen(data) };
	const char *err;
	int rc = answer_is_token(&fx->e, token) ? (int)request_confirm_accept(&fx->e, &in, &err) : 1;

	free(data);
	free(rcpt);
	return rc;
}

/* Without a DKIM proof the commands wait for the editor's reply. */
static void
test_command_mail_confirm(void **state)
{
	struct fx *fx = *state;
	int64_t a = submit(fx, fx->rennes, 1, "new", "A", "x");
	char *body = xasprintf("REFUSER %lld\n", (long long)a), *m, *t, *notice;
	int is_cmd;

	m = mail("ed@example.org", "", body);
	assert_int_equal(run_mail(fx, m, &is_cmd), 0);
	assert_true(is_cmd);
	assert_field(fx, "state", a, "new");
	notice = db_str(fx->e.db, "SELECT body FROM message WHERE kind = 'notice'", "");
	assert_non_null(notice);
	{
		struct mime_msg *n;
		const char *err;
		char *subject, *text;

		assert_int_equal(mime_parse(notice, strlen(notice), &n, &err), 0);
		subject = mime_subject(n);
		text = mime_text_plain(n, NULL);
		assert_string_equal(subject, "Bulletin\u00a0: confirmez vos commandes");
		assert_non_null(strstr(text, body));		/* the commands, quoted */
		assert_non_null(strstr(text, "Rien n'est encore fait"));
		free(subject);
		free(text);
		mime_free(&n);
	}
	free(notice);
	t = confirm_token(fx, "ed@example.org");
	assert_int_equal(confirm(fx, "intrus@example.org", t), 0);	/* not the editor */
	assert_field(fx, "state", a, "new");
	assert_int_equal(confirm(fx, "ed@example.org", t), 0);
	assert_field(fx, "state", a, "rejected");
	assert_int_equal(confirm(fx, "ed@example.org", t), 1);		/* used */
	free(t);
	free(m);
	free(body);
}

static void
test_command_mail_refused(void **state)
{
	struct fx *fx = *state;
	int64_t a = submit(fx, fx->rennes, 1, "new", "A", "x");
	char *body = xasprintf("ACCEPT %lld\n", (long long)a), *m;
	int is_cmd;

	m = mail("nat@example.org", "", body);		/* not an editor */
	assert_int_equal(run_mail(fx, m, &is_cmd), 0);
	assert_false(is_cmd);
	free(m);
	m = mail("ed@example.org", "Auto-Submitted: auto-replied\n", body);
	assert_int_equal(run_mail(fx, m, &is_cmd), 0);
	assert_false(is_cmd);
	free(m);
	m = mail("ed@example.org", "", "Mon compte rendu\nACCEPT 1\n");	/* not first */
	assert_int_equal(run_mail(fx, m, &is_cmd), 0);
	assert_false(is_cmd);
	free(m);
	m = mail("ed@example.org", "", "ACCEPTER douze\n");
	assert_int_equal(run_mail(fx, m, &is_cmd), 0);
	assert_false(is_cmd);
	free(m);
	assert_field(fx, "state", a, "new");
	/* Two ids on one line, English, lower case. */
	free(body);
	body = xasprintf("accept %lld %lld\n", (long long)a, (long long)a);
	m = mail("ED@example.org", DKIM_PASS, body);
	assert_int_equal(run_mail(fx, m, &is_cmd), 0);
	assert_true(is_cmd);
	assert_field(fx, "state", a, "accepted");
	free(m);
	free(body);
	assert_int_equal(run_mail(fx, "garbage without headers", &is_cmd), ENGINE_CORRUPT);
}

/* CORRIGER keeps the photos after the same paragraph; a text with its own
 * markers is taken as written; greetings, quoted lines and FIN. */
static void
test_correct_markers(void **state)
{
	static const struct {
		const char *old, *cmd, *want;
	} cases[] = {
		{ "A.\n\n[[photo:1]]\n\nB.\n\n[[photo:2]]", "CORRIGER %lld\nA2\nsuite\n\nB2\nFIN\n",
		  "A2\nsuite\n\n[[photo:1]]\n\nB2\n\n[[photo:2]]" },
		{ "[[photo:1]]\n\nA.", "Bonjour,\nCORRIGER %lld\n> citation\nA2\n",
		  "[[photo:1]]\n\nA2" },
		{ "A.\n\nB.\n\n[[photo:1]]", "CORRIGER %lld\nSeul.\nFIN\nMerci\n",
		  "Seul.\n\n[[photo:1]]" },
		{ "A.\n\n[[photo:1]]", "correct %lld\n[[photo:1]]\n\nA2\nEND\n",
		  "[[photo:1]]\n\nA2" },
	};
	struct fx *fx = *state;
	int is_cmd;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t a = submit(fx, fx->rennes, 1, "new", "T", cases[i].old);
		char *body = xasprintf(cases[i].cmd, (long long)a), *m = mail("ed@example.org",
		    DKIM_PASS, body);

		assert_int_equal(run_mail(fx, m, &is_cmd), 0);
		assert_true(is_cmd);
		assert_field(fx, "body", a, cases[i].want);
		free(m);
		free(body);
	}
}

/* An unknown word in capitals and a number is a command (answered with the
 * list); a title in capitals alone is a report. */
static void
test_unknown_command(void **state)
{
	struct fx *fx = *state;
	char *m = mail("ed@example.org", DKIM_PASS, "SUPPRIMER 3\n"), *notice;
	int is_cmd;

	assert_int_equal(run_mail(fx, m, &is_cmd), 0);
	assert_true(is_cmd);
	notice = db_str(fx->e.db, "SELECT body FROM message WHERE kind = 'notice'", "");
	assert_non_null(notice);
	assert_non_null(strstr(notice, "commande inconnue"));
	assert_non_null(strstr(notice, "CORRIGER"));
	free(notice);
	free(m);
	m = mail("ed@example.org", DKIM_PASS, "CARNAVAL\nLe comité a défilé.\n");
	assert_int_equal(run_mail(fx, m, &is_cmd), 0);
	assert_false(is_cmd);
	free(m);
	m = mail("ed@example.org", DKIM_PASS, "Aide aux devoirs\nLe comité aide.\n");
	assert_int_equal(run_mail(fx, m, &is_cmd), 0);
	assert_false(is_cmd);
	free(m);
	m = mail("ed@example.org", DKIM_PASS, "Épreuve sportive du 12 mars\nCourse.\n");
	assert_int_equal(run_mail(fx, m, &is_cmd), 0);
	assert_false(is_cmd);
	free(m);
	m = mail("ed@example.org", DKIM_PASS, "épreuve\n");
	assert_int_equal(run_mail(fx, m, &is_cmd), 0);
	assert_true(is_cmd);
	free(m);
}

static void
test_digest(void **state)
{
	struct fx *fx = *state;
	struct buf long_text;
	struct mime_msg *m;
	const char *err = NULL, *p;
	char *msg, *text, line[200];
	int64_t a, b;

	buf_init(&long_text);
	for (int i = 0; i < 100; i++)
		buf_adds(&long_text, "éte ");
	a = submit(fx, fx->rennes, 1, "new", "Fête des voisins", buf_cstr(&long_text));
	b = submit(fx, 0, 0, "held", "Sans comité", "Court.");
	assert_int_equal(db_run(fx->e.db, "UPDATE submission SET hold_reason = 'expéditeur"
	    " inconnu', sender = 'who@example.org' WHERE id = ?", "i", b), 0);
	assert_int_equal(db_run(fx->e.db, "INSERT INTO submission_file (submission_id, filename,"
	    " content_type, is_photo, size, path) VALUES (?, 'a.jpg', 'image/jpeg', 1, 10, 'x'),"
	    " (?, 'b.pdf', 'application/pdf', 0, 10, 'y')", "ii", a, a), 0);
	assert_int_equal(editor_digest(&fx->e), 0);
	assert_int_equal(editor_digest(&fx->e), 0);
	assert_int_equal(test_int(fx->e.db, "SELECT count(*) FROM message WHERE kind = 'digest'",
	    ""), 1);
	assert_int_equal(test_int(fx->e.db, "SELECT count(*) FROM submission WHERE digested IS"
	    " NULL", ""), 0);
	msg = db_str(fx->e.db, "SELECT body FROM message WHERE kind = 'digest'", "");
	assert_non_null(msg);
	assert_int_equal(mime_parse(msg, strlen(msg), &m, &err), 0);
	text = mime_subject(m);
	assert_string_equal(text, "Bulletin\u00a0: comptes rendus à relire (2)");
	free(text);
	text = mime_text_plain(m, NULL);
	snprintf(line, sizeof line, "==== N°\u00a0%lld\u00a0: Fête des voisins\nComité\u00a0: Rennes"
	    " (x@example.org)\nBulletin\u00a0: n°\u00a01\nPhotos\u00a0: 1\u00a0; autres pièces jointes\u00a0: 1\n\n",
	    (long long)a);
	assert_non_null(strstr(text, line));
	assert_non_null(strstr(text, "Comité\u00a0: inconnu (envoyé par who@example.org)\nPhotos\u00a0: 0\n"
	    "En attente\u00a0: expéditeur inconnu\n\nCourt.\n"));
	assert_non_null(p = strstr(text, "éte éte"));
	assert_non_null(strstr(p, "éte…\n"));
	/* 300 characters: 75 times "éte " (375 bytes), the last space dropped. */
	assert_int_equal(strstr(p, "…") - p, 374);
	snprintf(line, sizeof line, "ACCEPTER %lld ", (long long)a);
	assert_non_null(strstr(text, line));
	free(text);
	mime_free(&m);
	free(msg);
	buf_free(&long_text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_states, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_and_date, setup, teardown),
		cmocka_unit_test_setup_teardown(test_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_mail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_mail_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_mail_confirm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_correct_markers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_command, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
