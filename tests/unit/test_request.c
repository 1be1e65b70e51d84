/*
 * test_request.c — the request address on a temporary data directory:
 * every command in French and English, any case, with and without
 * accents, in the Subject or the body (quoted text ignored); unknown
 * commands answered with the help; automatic mail never answered; a
 * command storm rate-limited; ARRET deactivating a contact and telling
 * the office and the remaining contacts; the double opt-in of the
 * bulletin. Answers are read back from the delivery queue.
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

#include "answer.h"
#include "config.h"
#include "db.h"
#include "engine.h"
#include "mime.h"
#include "request.h"
#include "roster.h"
#include "search.h"
#include "testlib.h"
#include "util.h"

struct fx {
	char		 dir[TEST_DIR_SIZE];
	struct config	 cf;
	struct engine	 e;
	int		 seq;
};

static void
add_committee(struct fx *fx, const char *name, const char *const *emails,
    const char *const *names)
{
	test_committee(&fx->e, name, "Bretagne", "35", NULL);
	for (size_t i = 0; emails[i]; i++)
		test_contact(&fx->e, name, emails[i], names ? names[i] : NULL);
}

/* An open issue, submissions of two committees, one archived broadcast. */
static void
add_bulletin(struct fx *fx)
{
	struct db *db = fx->e.db;
	int64_t rennes = roster_committee_lookup(db, "rennes");
	int64_t brest = roster_committee_lookup(db, "brest");

	test_now(1768903200);	/* inside issue 1's period */
	assert_int_equal(db_run(db, "INSERT INTO bulletin_issue (number, period_start, period_end,"
	    " deadline, publish_date, state) VALUES (1, '2026-01-01', '2026-02-28', '2026-02-14',"
	    " '2026-03-01', 'open')", ""), 0);
	assert_int_equal(db_run(db, "INSERT INTO submission (issue_id, committee_id, sender, title,"
	    " body, activity_date, state, received) VALUES (1, ?, 'a@example.org', 'Fête de quartier',"
	    " 'x', '2026-01-10', 'new', 1), (1, ?, 'a@example.org', 'Vieux titre', 'x', '2026-01-10',"
	    " 'replaced', 2), (1, ?, 'd@example.org', 'Marché de Brest', 'x', '2026-01-11', 'accepted',"
	    " 3)", "iii", rennes, rennes, brest), 0);
	assert_true(search_index(db, "broadcast", "tok1", "2026-01-12", "Rennes", "Fête de quartier",
	    "Une grande fête de quartier a eu lieu.") >= 0);
}

static int
setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof *fx);

	test_env_open(fx->dir, "request", "example.org", &fx->cf, &fx->e);
	test_set(&fx->cf.admin_address, "bureau@example.org");
	fx->cf.min_contacts = 3;
	fx->cf.max_autoresponses_per_day = 100;
	test_set(&fx->cf.trusted_authserv_ids, "mx.example.org");
	add_committee(fx, "Rennes", (const char *[]){ "a@example.org", "b@example.org",
	    "c@example.org", NULL }, (const char *[]){ "Anne", "Bruno", "Chloé" });
	add_committee(fx, "Brest", (const char *[]){ "d@example.org", "e@example.org",
	    "f@example.org", "g@example.org", NULL }, NULL);
	add_bulletin(fx);
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

/* Hand one mail to request_accept. env NULL: the From address. */
static int
send_full(struct fx *fx, const char *env, const char *from, const char *ext,
    const char *headers, const char *body)
{
	char *data = xasprintf("From: Someone <%s>\nTo: aide@example.org\nMessage-ID: <m%d@example.org>\n"
	    "%s\n%s", from, ++fx->seq, headers, body);
	char *rcpt = *ext ? xasprintf("aide+%s@example.org", ext) : xstrdup("aide@example.org");
	char spool_id[32];
	struct inmsg in = { spool_id, env ? env : from, rcpt, ext, data, strlen(data) };
	const char *err;
	int rc;

	snprintf(spool_id, sizeof spool_id, "s%d", fx->seq);
	rc = request_accept(&fx->e, &in, &err);
	free(rcpt);
	free(data);
	return rc;
}

static int
send_cmd(struct fx *fx, const char *from, const char *subject, const char *body)
{
	char *h = xasprintf("Subject: %s\n", subject);
	int rc = send_full(fx, NULL, from, "", h, body);

	free(h);
	return rc;
}

static int64_t
mails_to(struct fx *fx, const char *rcpt)
{
	return test_int(fx->e.db, "SELECT count(*) FROM delivery WHERE rcpt = ?", "s", rcpt);
}

/* The last mail queued to rcpt as "Subject\nReply-To\nbody text" (caller frees). */
static char *
last_mail(struct fx *fx, const char *rcpt)
{
	struct db_stmt *st = db_query(fx->e.db, "SELECT m.body FROM message m JOIN delivery d ON"
	    " d.message_id = m.id WHERE d.rcpt = ? ORDER BY m.id DESC LIMIT 1", "s", rcpt);
	struct mime_msg *m;
	const char *err;
	const void *p;
	size_t len;
	char *subject, *rt, *text, *out;

	assert_non_null(st);
	assert_int_equal(db_step(st), 1);
	p = db_col_blob(st, 0, &len);
	assert_int_equal(mime_parse(p, len, &m, &err), 0);
	db_finalize(&st);
	subject = mime_subject(m);
	rt = mime_header(m, "Reply-To");
	text = mime_text_plain(m, NULL);
	out = xasprintf("%s\n%s\n%s", subject, rt ? rt : "", text ? text : "");
	free(subject);
	free(rt);
	free(text);
	mime_free(&m);
	return out;
}

/* The token of the confirm+TOKEN@ Reply-To of the last mail to rcpt (new). */
static char *
confirm_token(struct fx *fx, const char *rcpt)
{
	char *mail = last_mail(fx, rcpt), *p = strstr(mail, "\nconfirm+"), *t;

	if (p == NULL)
		fail_msg("no confirm+TOKEN@ Reply-To in:\n%s", mail);
	t = xstrndup(p + 9, strcspn(p + 9, "@"));
	free(mail);
	return t;
}

/* A mail from `from` to confirm+TOKEN@ (what replying to the question does). */
static int
send_confirm(struct fx *fx, const char *from, const char *token)
{
	char *data = xasprintf("From: <%s>\nTo: confirm+%s@example.org\nMessage-ID: <c%d@example.org>\n"
	    "Subject: Re: Confirmez votre demande\n\nOui\n", from, token, ++fx->seq);
	char *rcpt = xasprintf("confirm+%s@example.org", token), spool_id[32];
	struct inmsg in = { spool_id, from, rcpt, token, data, strlen(data) };
	const char *err;
	int rc;

	snprintf(spool_id, sizeof spool_id, "s%d", fx->seq);
	/* as the router does: 1 when the token is not one of answer_hold()'s */
	rc = answer_is_token(&fx->e, token) ? (int)request_confirm_accept(&fx->e, &in, &err) : 1;
	free(rcpt);
	free(data);
	return rc;
}

/* Ask from the address itself, then confirm by reply. */
static void
ask_and_confirm(struct fx *fx, const char *from, const char *subject, const char *body)
{
	char *t;

	assert_int_equal(send_cmd(fx, from, subject, body), 0);
	t = confirm_token(fx, from);
	assert_int_equal(send_confirm(fx, from, t), 0);
	free(t);
}

static int
is_active(struct fx *fx, const char *email)
{
	return (int)test_int(fx->e.db, "SELECT active FROM contact WHERE email = ?", "s", email);
}

static void
assert_contains(const char *text, const char *want)
{
	if (strstr(text, want) == NULL)
		fail_msg("\"%s\" not found in:\n%s", want, text);
}

struct cmd_case {
	const char	*from;
	const char	*subject;
	const char	*body;
	const char	*want;
	const char	*want2;		/* NULL: none */
	const char	*unwanted;	/* NULL: none */
};

#define HELP_FR		"CHERCHER mots"
#define QUOTE		"\n\nLe 12 mars 2026 à 10:15, Bureau <bureau@example.org> a écrit :\n"

static const struct cmd_case cmd_cases[] = {
	{ "x1@example.org", "aide", "", HELP_FR, "Aide\u00a0: ce que", "pas compris" },
	{ "x2@example.org", "HELP", "", HELP_FR, NULL, "pas compris" },
	{ "x3@example.org", "Re: Aide", "", HELP_FR, NULL, NULL },
	{ "x4@example.org", "", "\n\n  help\n", HELP_FR, NULL, "pas compris" },
	{ "x5@example.org", "Aide !", "", HELP_FR, NULL, NULL },
	{ "x6@example.org", "", "", HELP_FR, NULL, "pas compris" },
	{ "a@example.org", "contacts", "", "Bruno <b@example.org>", "Chloé <c@example.org>", HELP_FR },
	{ "a@example.org", "Question", "CONTACTS\n", "Rennes, contacts actifs\u00a0: 3", NULL, NULL },
	{ "x7@example.org", "Contacts", "", "n'est pas celle d'un contact", NULL, "Bruno" },
	{ "a@example.org", "statut", "", "Bulletin n°\u00a01", "«\u00a0Fête de quartier\u00a0»\u00a0: reçu, pas encore relu",
	  "Vieux titre" },
	{ "b@example.org", "STATUS", "", "avant le 14 février 2026", "Fête de quartier", "Marché" },
	{ "d@example.org", "", "État\n", "«\u00a0Marché de Brest\u00a0»\u00a0: retenu", NULL, "Fête" },
	{ "x8@example.org", "statut", "", "Bulletin n°\u00a01", "quel comité", "Fête" },
	{ "x9@example.org", "chercher fête", "", "Fête de quartier", "Résultats pour", NULL },
	{ "x10@example.org", "", "SEARCH fete\n", "Fête de quartier", NULL, NULL },
	{ "x11@example.org", "", "Recherche : quartier", "Fête de quartier", NULL, NULL },
	{ "x12@example.org", "", "chercher\n", "Écrivez les mots", NULL, NULL },
	{ "x13@example.org", "Bonjour", "Pourriez-vous m'aider ?\n", "pas compris", HELP_FR, NULL },
	{ "c@example.org", "", "Bonjour\nARRET\n", "demande\u00a0: «\u00a0Bonjour\u00a0»", HELP_FR, "C'est fait" },
	{ "c@example.org", "Re: infos", "aide" QUOTE "> ARRET\n> stop\n", HELP_FR, NULL, "C'est fait" },
	{ "c@example.org", "Re: x", "Arrêt de la campagne prévu demain.\n", "pas compris", NULL,
	  "C'est fait" },
	{ "x14@example.org", "DESABONNER", "", "n'était pas abonnée", NULL, NULL },
	{ "x15@example.org", "désabonner", "", "n'était pas abonnée", NULL, NULL },
	{ "x16@example.org", "Unsubscribe", "", "n'était pas abonnée", NULL, NULL },
	{ "x17@example.org", "abonner", "", "Confirmez votre abonnement", "aide+", NULL },
	{ "x18@example.org", "", "Subscribe\n", "Confirmez votre abonnement", NULL, NULL },
	{ "x19@example.org", "", "S'abonner\n", "Confirmez votre abonnement", NULL, NULL },
	{ "x20@example.org", "Arrêt", "", "il n'y avait rien à arrêter", NULL, NULL },
	/* at most 5 commands: the 6th (DESABONNER) is not run */
	{ "x21@example.org", "", "aide\ncontacts\nchercher fete\nabonner\nstatut\ndesabonner\n",
	  "Confirmez votre abonnement", "Bulletin n°\u00a01", "n'était pas abonnée" },
};

/* STATUT words: a broadcast's report, only to a proven national sender. */
static void
test_statut_broadcast(void **state)
{
	struct fx *fx = *state;
	const char *nat = "office@national.example.org";
	static const struct cmd_case cases[] = {
		{ "office@national.example.org", "STATUT assemblee", "", "Bilan de l'envoi", "Comités"
		  " atteints\xc2\xa0: 1 sur 1", "Plusieurs" },
		{ "office@national.example.org", "Question", "statut AB12CD34\n", "Assemblée générale de"
		  " mars", "Rennes", NULL },
		{ "office@national.example.org", "STATUT générale", "", "Plusieurs envois", "ab12cd34",
		  "Comités atteints" },
		{ "office@national.example.org", "STATUT kermesse", "", "Aucun envoi ne correspond",
		  NULL, NULL },
		{ "a@example.org", "STATUT assemblee", "", "réservé à l'équipe nationale", NULL,
		  "Assemblée" },
		{ "a@example.org", "STATUT ?", "", "Bulletin n°\u00a01", NULL, "réservé" },
	};

	test_sender(&fx->e, nat, "national", NULL);
	assert_int_equal(db_run(fx->e.db, "INSERT INTO message (token, kind, state, author, subject,"
	    " received, released) VALUES ('ab12cd34ab12cd34ab12cd34ab12cd34', 'broadcast', 'done',"
	    " ?, 'Assemblée générale de mars', 1, 1), ('ffee0011ffee0011ffee0011ffee0011',"
	    " 'broadcast', 'done', ?, 'Vente générale', 1, 1)", "ss", nat, nat), 0);
	assert_int_equal(db_run(fx->e.db, "INSERT INTO delivery (message_id, committee_id, rcpt,"
	    " verp, state, next_try) VALUES ((SELECT id FROM message WHERE subject LIKE"
	    " 'Assembl%'), (SELECT id FROM committee WHERE slug = 'rennes'), 'a@example.org', 'v1',"
	    " 'sent', 0)", ""), 0);
	for (size_t i = 0; i < nitems(cases); i++) {
		const struct cmd_case *c = &cases[i];
		int64_t before = mails_to(fx, c->from);
		char *answer;

		assert_int_equal(send_cmd(fx, c->from, c->subject, c->body), 0);
		assert_int_equal(mails_to(fx, c->from), before + 1);
		answer = last_mail(fx, c->from);
		assert_contains(answer, c->want);
		if (c->want2)
			assert_contains(answer, c->want2);
		if (c->unwanted && strstr(answer, c->unwanted))
			fail_msg("case %zu: \"%s\" found in:\n%s", i, c->unwanted, answer);
		free(answer);
	}
	/* the national From, the envelope elsewhere, no DKIM: no mail at all */
	assert_int_equal(send_full(fx, "attacker@evil.example", nat, "", "Subject: STATUT"
	    " assemblee\n", ""), 0);
	assert_int_equal(mails_to(fx, nat), 4);
	assert_int_equal(mails_to(fx, "attacker@evil.example"), 0);
}

static void
test_commands(void **state)
{
	struct fx *fx = *state;

	for (size_t i = 0; i < nitems(cmd_cases); i++) {
		const struct cmd_case *c = &cmd_cases[i];
		int64_t before = mails_to(fx, c->from);
		char *answer;

		assert_int_equal(send_cmd(fx, c->from, c->subject, c->body), 0);
		assert_int_equal(mails_to(fx, c->from), before + 1);
		answer = last_mail(fx, c->from);
		assert_contains(answer, c->want);
		if (c->want2)
			assert_contains(answer, c->want2);
		if (c->unwanted && strstr(answer, c->unwanted))
			fail_msg("case %zu: \"%s\" found in:\n%s", i, c->unwanted, answer);
		free(answer);
	}
	/* quoted or sentence "ARRET" deactivated nobody */
	assert_int_equal(is_active(fx, "c@example.org"), 1);
	assert_int_equal(mails_to(fx, "bureau@example.org"), 0);
}

static void
test_html_and_threading(void **state)
{
	struct fx *fx = *state;
	char *answer;
	struct db_stmt *st;

	assert_int_equal(send_full(fx, NULL, "b@example.org", "", "Subject: Re: question\n"
	    "MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n",
	    "<html><body><p>CONTACTS</p><blockquote><p>arret</p></blockquote></body></html>\n"), 0);
	answer = last_mail(fx, "b@example.org");
	assert_contains(answer, "Anne <a@example.org>");
	free(answer);
	assert_int_equal(is_active(fx, "b@example.org"), 1);
	st = db_query(fx->e.db, "SELECT m.body FROM message m JOIN delivery d ON d.message_id = m.id"
	    " WHERE d.rcpt = 'b@example.org'", "");
	assert_int_equal(db_step(st), 1);
	{
		size_t len;
		const char *p = db_col_blob(st, 0, &len);
		char *copy = xstrndup(p, len);

		assert_non_null(strstr(copy, "In-Reply-To: <m1@example.org>"));
		assert_non_null(strstr(copy, "Auto-Submitted: auto-replied"));
		assert_non_null(strstr(copy, "From: National <aide@example.org>"));
		free(copy);
	}
	db_finalize(&st);
}

static void
test_english(void **state)
{
	struct fx *fx = *state;
	char *answer;

	test_set(&fx->cf.language, "en");
	assert_int_equal(send_cmd(fx, "y1@example.org", "aide", ""), 0);
	answer = last_mail(fx, "y1@example.org");
	assert_contains(answer, "SEARCH words");
	assert_contains(answer, "Hello,");
	free(answer);
	assert_int_equal(send_cmd(fx, "y2@example.org", "arrêt", ""), 0);
	answer = last_mail(fx, "y2@example.org");
	assert_contains(answer, "there was nothing to stop");
	free(answer);
	assert_int_equal(send_cmd(fx, "a@example.org", "", "Contacts\n"), 0);
	answer = last_mail(fx, "a@example.org");
	assert_contains(answer, "Rennes, active contacts: 3");
	free(answer);
	assert_int_equal(send_cmd(fx, "a@example.org", "Status", ""), 0);
	answer = last_mail(fx, "a@example.org");
	assert_contains(answer, "before 14 February 2026");
	assert_contains(answer, "\"Fête de quartier\": received, not yet reviewed");
	free(answer);
}

struct auto_case {
	const char	*env;		/* NULL: the From address */
	const char	*headers;
};

static const struct auto_case auto_cases[] = {
	{ NULL, "Auto-Submitted: auto-replied\nSubject: aide\n" },
	{ NULL, "Auto-Submitted: auto-generated\nSubject: aide\n" },
	{ NULL, "Precedence: bulk\nSubject: aide\n" },
	{ NULL, "Precedence: list\nSubject: aide\n" },
	{ NULL, "Precedence: junk\nSubject: aide\n" },
	{ NULL, "X-Autoreply: yes\nSubject: aide\n" },
	{ NULL, "Subject: Réponse automatique : absent\n" },
	{ NULL, "X-Loop: office@national.example.org\nSubject: aide\n" },
	{ NULL, "List-Id: \"National\" <national.example.org>\nSubject: aide\n" },
	{ NULL, "List-Id: <autre.example.org>\nSubject: aide\n" },
	{ "", "Subject: aide\n" },
	{ "<>", "Subject: aide\n" },
};

static void
test_never_answered(void **state)
{
	struct fx *fx = *state;

	for (size_t i = 0; i < nitems(auto_cases); i++) {
		char from[64];

		snprintf(from, sizeof from, "auto%zu@example.org", i);
		assert_int_equal(send_full(fx, auto_cases[i].env, from, "", auto_cases[i].headers,
		    "aide\n"), 0);
		if (mails_to(fx, from) != 0)
			fail_msg("case %zu answered", i);
		assert_int_equal(test_int(fx->e.db, "SELECT count(*) FROM message WHERE kind ="
		    " 'request' AND author = ? AND state = 'dropped'", "s", from), 1);
	}
	/* an auto-reply saying ARRET from a contact changes nothing */
	assert_int_equal(send_full(fx, NULL, "a@example.org", "", "Auto-Submitted: auto-replied\n"
	    "Subject: arret\n", ""), 0);
	assert_int_equal(is_active(fx, "a@example.org"), 1);
}

static void
test_storm(void **state)
{
	struct fx *fx = *state;

	fx->cf.max_autoresponses_per_day = 5;
	for (int i = 0; i < 30; i++)
		assert_int_equal(send_cmd(fx, "storm@example.org", i % 2 ? "aide" : "HELP", ""), 0);
	assert_int_equal(mails_to(fx, "storm@example.org"), 5);
	assert_int_equal(test_int(fx->e.db, "SELECT count(*) FROM message WHERE kind = 'request'"
	    " AND author = 'storm@example.org'", ""), 30);
}

struct stop_case {
	const char	*word;
	int		 in_subject;
	int		 ncontacts;	/* 3: falls under min_contacts */
};

static const struct stop_case stop_cases[] = {
	{ "arrêt", 1, 3 },
	{ "ARRET", 0, 3 },
	{ "Stop", 1, 4 },
	{ "arret", 1, 3 },		/* the List-Unsubscribe mailto */
	{ "unsubscribe", 1, 3 },	/* a client's unsubscribe button */
	{ "Arrêter.", 0, 4 },
	{ "Désabonner", 0, 2 },	/* 2 left of 2: under, one remains */
};

static void
stop_one(struct fx *fx, size_t i, const struct stop_case *c)
{
	const char *emails[5] = { NULL };
	char addr[4][32], name[32], *mail;
	int64_t office = mails_to(fx, "bureau@example.org");

	for (int k = 0; k < c->ncontacts; k++) {
		snprintf(addr[k], sizeof addr[k], "k%zu-%d@example.org", i, k);
		emails[k] = addr[k];
	}
	snprintf(name, sizeof name, "Comité %zu", i);
	add_committee(fx, name, emails, NULL);
	if (i % 2 == 0) {	/* a trusted DKIM pass: at once */
		char *h = xasprintf("Subject: %s\nAuthentication-Results: mx.example.org;"
		    " dkim=pass header.d=example.org\n", c->in_subject ? c->word : "Re: x");

		assert_int_equal(send_full(fx, NULL, addr[0], "", h, c->in_subject ? "" : c->word), 0);
		free(h);
	} else {		/* asked, still active, then confirmed */
		char *t;

		assert_int_equal(send_cmd(fx, addr[0], c->in_subject ? c->word : "Re: x",
		    c->in_subject ? "" : c->word), 0);
		assert_int_equal(is_active(fx, addr[0]), 1);
		assert_int_equal(mails_to(fx, "bureau@example.org"), office);
		mail = last_mail(fx, addr[0]);
		assert_contains(mail, "Confirmez votre demande");
		assert_contains(mail, "Rien n'est encore changé");
		free(mail);
		t = confirm_token(fx, addr[0]);
		assert_int_equal(send_confirm(fx, addr[0], t), 0);
		free(t);
	}
	assert_int_equal(is_active(fx, addr[0]), 0);
	mail = db_str(fx->e.db, "SELECT disabled_reason FROM contact WHERE email = ?", "s", addr[0]);
	assert_string_equal(mail, "asked to stop (ARRET)");
	free(mail);
	mail = last_mail(fx, addr[0]);
	assert_contains(mail, "C'est fait");
	assert_contains(mail, name);
	free(mail);
	assert_int_equal(mails_to(fx, "bureau@example.org"), office + 1);
	mail = last_mail(fx, "bureau@example.org");
	assert_contains(mail, addr[0]);
	assert_contains(mail, name);
	if (c->ncontacts - 1 < 3)
		assert_contains(mail, "moins que le minimum de 3");
	free(mail);
	for (int k = 1; k < c->ncontacts; k++) {
		assert_int_equal(mails_to(fx, addr[k]), c->ncontacts - 1 < 3 ? 1 : 0);
		if (c->ncontacts - 1 < 3) {
			mail = last_mail(fx, addr[k]);
			assert_contains(mail, "besoin d'un nouveau contact");
			assert_contains(mail, addr[0]);
			free(mail);
		}
	}
}

static void
test_stop(void **state)
{
	struct fx *fx = *state;
	char *mail;

	for (size_t i = 0; i < nitems(stop_cases); i++)
		stop_one(fx, i, &stop_cases[i]);
	/* last contact of a committee: the office hears none is left */
	add_committee(fx, "Seul", (const char *[]){ "solo@example.org", NULL }, NULL);
	ask_and_confirm(fx, "solo@example.org", "stop", "");
	mail = last_mail(fx, "bureau@example.org");
	assert_contains(mail, "ne reçoit plus rien du tout");
	free(mail);
	/* without admin_address: the national senders */
	test_set(&fx->cf.admin_address, "");
	test_sender(&fx->e, "office@example.org", "national", "Office");
	ask_and_confirm(fx, "g@example.org", "ARRET", "");
	assert_int_equal(mails_to(fx, "office@example.org"), 1);
	assert_int_equal(mails_to(fx, "d@example.org"), 0);	/* Brest keeps 3 */
}

/* The token of the subscriber row of email. */
static char *
sub_token(struct fx *fx, const char *email)
{
	char *t = db_str(fx->e.db, "SELECT token FROM subscriber WHERE email = ?", "s", email);

	assert_non_null(t);
	return t;
}

static void
assert_sub_state(struct fx *fx, const char *email, const char *want)
{
	char *s = db_str(fx->e.db, "SELECT state FROM subscriber WHERE email = ?", "s", email);

	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
}

static void
test_subscribe(void **state)
{
	struct fx *fx = *state;
	char *t, *t2, *mail, *h;

	assert_int_equal(send_cmd(fx, "s1@example.org", "ABONNER", ""), 0);
	assert_sub_state(fx, "s1@example.org", "pending");
	t = sub_token(fx, "s1@example.org");
	mail = last_mail(fx, "s1@example.org");
	assert_contains(mail, t);
	h = xasprintf("aide+%s@example.org", t);
	assert_contains(mail, h);	/* Reply-To and text */
	free(h);
	free(mail);
	/* the token from another address confirms nothing */
	assert_int_equal(send_full(fx, NULL, "intrus@example.org", t, "Subject: ok\n", ""), 0);
	assert_sub_state(fx, "s1@example.org", "pending");
	/* aide+TOKEN@ from the subscriber */
	assert_int_equal(send_full(fx, NULL, "s1@example.org", t, "Subject: Re: Confirmez\n", ""), 0);
	assert_sub_state(fx, "s1@example.org", "active");
	mail = last_mail(fx, "s1@example.org");
	assert_contains(mail, "vous recevrez le bulletin");
	free(mail);
	assert_int_equal(send_cmd(fx, "s1@example.org", "abonner", ""), 0);
	mail = last_mail(fx, "s1@example.org");
	assert_contains(mail, "déjà abonné");
	free(mail);
	/* a reply keeping the token in the subject */
	assert_int_equal(send_cmd(fx, "s2@example.org", "", "subscribe\n"), 0);
	t2 = sub_token(fx, "s2@example.org");
	h = xasprintf("RE: Confirmez votre abonnement au bulletin [%s]", t2);
	assert_int_equal(send_cmd(fx, "s2@example.org", h, "Oui merci" QUOTE "> Pour confirmer\n"), 0);
	free(h);
	assert_sub_state(fx, "s2@example.org", "active");
	/* leaving is confirmed by reply too */
	assert_int_equal(send_cmd(fx, "s1@example.org", "Désabonner", ""), 0);
	assert_sub_state(fx, "s1@example.org", "active");
	h = confirm_token(fx, "s1@example.org");
	assert_int_equal(send_confirm(fx, "s1@example.org", h), 0);
	assert_int_equal(send_confirm(fx, "s1@example.org", h), 1);	/* single use: no longer ours */
	free(h);
	assert_sub_state(fx, "s1@example.org", "unsubscribed");
	mail = last_mail(fx, "s1@example.org");
	assert_contains(mail, "vous ne recevrez plus le bulletin");
	free(mail);
	/* STOP from a subscriber who is no contact: unsubscribed */
	ask_and_confirm(fx, "s2@example.org", "STOP", "");
	assert_sub_state(fx, "s2@example.org", "unsubscribed");
	assert_int_equal(mails_to(fx, "bureau@example.org"), 0);
	/* coming back: a new pending row, a new token */
	assert_int_equal(send_cmd(fx, "s1@example.org", "subscribe", ""), 0);
	assert_sub_state(fx, "s1@example.org", "pending");
	free(t2);
	t2 = sub_token(fx, "s1@example.org");
	assert_string_not_equal(t, t2);
	free(t);
	free(t2);
}

/* Forged senders: no answer to a third party, no change without proof. */
static void
test_forged(void **state)
{
	struct fx *fx = *state;
	char *t, *mail;

	/* a stranger's From, another envelope: nothing goes to the stranger */
	assert_int_equal(send_full(fx, "attacker@evil.example", "innocent.victim@third.example", "",
	    "Subject: AIDE buy cheap pills\n", "ABONNER\nCHERCHER pills\n"), 0);
	assert_int_equal(mails_to(fx, "innocent.victim@third.example"), 0);
	assert_int_equal(mails_to(fx, "attacker@evil.example"), 0);
	/* the same address as envelope sender is plausible: answered */
	assert_int_equal(send_cmd(fx, "stranger@third.example", "AIDE", ""), 0);
	assert_int_equal(mails_to(fx, "stranger@third.example"), 1);
	/* a contact's From from elsewhere: not stopped, the contact asked */
	assert_int_equal(send_full(fx, "attacker@evil.example", "a@example.org", "",
	    "Subject: ARRET\n", ""), 0);
	assert_int_equal(is_active(fx, "a@example.org"), 1);
	assert_int_equal(mails_to(fx, "attacker@evil.example"), 0);
	assert_int_equal(mails_to(fx, "bureau@example.org"), 0);
	mail = last_mail(fx, "a@example.org");
	assert_contains(mail, "Rien n'est encore changé");
	assert_null(strstr(mail, "evil"));
	free(mail);
	t = confirm_token(fx, "a@example.org");
	/* the token from another From does nothing, nor after confirm_lifetime */
	assert_int_equal(send_confirm(fx, "attacker@evil.example", t), 0);
	assert_int_equal(is_active(fx, "a@example.org"), 1);
	test_now(1769203200);	/* + 300000 s > 3 days */
	assert_int_equal(send_confirm(fx, "a@example.org", t), 0);
	assert_int_equal(is_active(fx, "a@example.org"), 1);
	test_now(1768903200);
	free(t);
	/* an Authentication-Results of an untrusted host proves nothing */
	assert_int_equal(send_full(fx, NULL, "b@example.org", "", "Subject: ARRET\n"
	    "Authentication-Results: mx.evil.example; dkim=pass header.d=example.org\n", ""), 0);
	assert_int_equal(is_active(fx, "b@example.org"), 1);
	/* nor a failed one under the trusted id */
	assert_int_equal(send_full(fx, NULL, "b@example.org", "", "Subject: ARRET\n"
	    "Authentication-Results: mx.example.org; dkim=fail (bad sig; dkim=pass"
	    " header.d=example.org) header.d=example.org\n", ""), 0);
	assert_int_equal(is_active(fx, "b@example.org"), 1);
	assert_int_equal(mails_to(fx, "bureau@example.org"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_html_and_threading, setup, teardown),
		cmocka_unit_test_setup_teardown(test_english, setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_answered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscribe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_statut_broadcast, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
