/* test_issue.c — compiling and sending a bulletin issue on a temporary data
 * directory: 3 committees in 2 regions, 5 accepted submissions and 1
 * rejected, one with a photo, one with HTML-dangerous text. Rendering
 * (order, escaping, same entries in text), the archive files (PDF when
 * WeasyPrint is installed, "not installed" with a PATH without it), the
 * proof to editors, the publication (audience, once only, search index),
 * and the MIME structure of the mail. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "engine.h"
#include "bulletin.h"
#include "editor.h"
#include "issue.h"
#include "reply.h"
#include "mime.h"
#include "roster.h"
#include "testlib.h"
#include "util.h"

struct fx {
	char		 dir[TEST_DIR_SIZE];
	struct config	 cf;
	struct engine	 e;
};

#define PHOTO	"tests/data/bulletin/photo.jpg"	/* 48 x 32, a real JPEG */

static void
run(struct fx *fx, const char *sql)
{
	assert_int_equal(db_exec(fx->e.db, sql), 0);
}

/* Issue 4 (January-February 2026) and issue 5; committees, contacts,
 * editors, subscribers, submissions and one photo on disk. */
static void
populate(struct fx *fx)
{
	const char *err = NULL;
	char *path;

	test_committee(&fx->e, "Rennes", "Bretagne", "", "a1@example.org, a2@example.org");
	test_committee(&fx->e, "Brest", "Bretagne", "", "b1@example.org");
	test_committee(&fx->e, "Lyon", "Auvergne-Rhône-Alpes", "", "l1@example.org, l2@example.org");
	assert_int_equal(roster_contact_set_active(fx->e.db, "l2@example.org", 0, "bounces", &err), 1);
	test_sender(&fx->e, "ed1@example.org", "editor", "Ed");
	test_sender(&fx->e, "ed2@example.org", "editor", "");
	test_sender(&fx->e, "nat@example.org", "national", "");
	run(fx, "INSERT INTO bulletin_issue (number, period_start, period_end, deadline,"
	    " publish_date, state) VALUES (4, '2026-01-01', '2026-02-28', '2026-02-20',"
	    " '2026-03-01', 'closed'), (5, '2026-03-01', '2026-04-30', '2026-04-20',"
	    " '2026-05-01', 'open');"
	    "INSERT INTO subscriber (email, state, token, created) VALUES"
	    " ('s1@example.org', 'active', 't1', 0), ('s2@example.org', 'pending', 't2', 0),"
	    " ('A1@example.org', 'active', 't3', 0);"
	    "INSERT INTO submission (id, issue_id, committee_id, sender, title, body,"
	    " activity_date, state, position, received) VALUES"
	    " (1, 1, (SELECT id FROM committee WHERE slug = 'rennes'), 'a1@example.org',"
	    "  'Fête de quartier', 'Première ligne\nseconde ligne\n\nDeuxième paragraphe.',"
	    "  '2026-01-15', 'accepted', NULL, 0),"
	    " (2, 1, (SELECT id FROM committee WHERE slug = 'rennes'), 'a1@example.org',"
	    "  'Assemblée générale', 'Compte rendu <script>alert(1)</script> & co',"
	    "  '2026-02-01', 'accepted', 1, 0),"
	    " (3, 1, (SELECT id FROM committee WHERE slug = 'brest'), 'b1@example.org',"
	    "  'Marché du port', 'Un stand au marché.', '2026-01-20', 'accepted', NULL, 0),"
	    " (4, 1, (SELECT id FROM committee WHERE slug = 'lyon'), 'l1@example.org',"
	    "  'Réunion publique', 'Salle comble.', '2026-02-10', 'accepted', NULL, 0),"
	    " (5, 1, (SELECT id FROM committee WHERE slug = 'lyon'), 'l1@example.org',"
	    "  'Cinéma débat', 'Projection.', '2026-01-05', 'accepted', NULL, 0),"
	    " (6, 1, (SELECT id FROM committee WHERE slug = 'brest'), 'b1@example.org',"
	    "  'Texte refusé', 'Hors sujet.', '2026-01-21', 'rejected', NULL, 0);"
	    "INSERT INTO submission_file (submission_id, filename, content_type, is_photo, size,"
	    " path) VALUES (3, 'IMG_1.JPG', 'image/jpeg', 1, 22, 'files/3/1.jpg'),"
	    " (3, 'cr.pdf', 'application/pdf', 0, 10, 'files/3/2.pdf');");
	path = xasprintf("%s/files/3", fx->dir);
	assert_int_equal(mkdir_p(path, 0755), 0);
	free(path);
	path = xasprintf("cp " PHOTO " %s/files/3/1.jpg", fx->dir);
	assert_int_equal(system(path), 0);
	free(path);
}

static int
setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof *fx);

	test_env_open(fx->dir, "issue", "comites.example.org", &fx->cf, &fx->e);
	populate(fx);
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

/* Positions of needles in hay, each strictly after the previous one. */
static void
assert_in_order(const char *hay, const char *const *needles)
{
	const char *at = hay;

	for (size_t i = 0; needles[i]; i++) {
		const char *p = strstr(at, needles[i]);

		if (p == NULL)
			fail_msg("\"%s\" missing or out of order", needles[i]);
		at = p + strlen(needles[i]);
	}
}

/* What a browser needs first, and no template markup left anywhere (the
 * opening comment of bulletin.html was once closed early, printing its
 * tail before the doctype: quirks mode in every client). */
static void
assert_clean_page(const char *html)
{
	assert_true(str_has_prefix_ci(html, "<!DOCTYPE html>\n<html lang="));
	assert_null(strstr(html, "{{"));
	assert_null(strstr(html, "}}"));
	assert_non_null(strstr(html, "</html>"));
}

static void
test_render(void **state)
{
	struct fx *fx = *state;
	struct issue_doc doc;
	const char *err = NULL;
	/* Auvergne-Rhône-Alpes before Bretagne; Brest before Rennes; in Rennes
	 * the positioned entry first; in Lyon by date. */
	const char *const order[] = { "Auvergne-Rhône-Alpes", "Lyon", "Bretagne", "Brest", "Rennes",
	    "Auvergne-Rhône-Alpes", "Lyon", "Cinéma débat", "Réunion publique", "Bretagne", "Brest",
	    "Marché du port", "Rennes", "Assemblée générale", "Fête de quartier", NULL };

	assert_int_equal(issue_render(&fx->e, 4, 0, &doc, &err), 1);
	assert_int_equal(doc.nentries, 5);
	assert_clean_page(doc.html);
	assert_in_order(doc.html, order);
	assert_in_order(doc.text, order);
	assert_null(strstr(doc.html, "Texte refusé"));
	assert_null(strstr(doc.text, "Texte refusé"));
	assert_null(strstr(doc.html, "<script>"));
	assert_non_null(strstr(doc.html, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"));
	assert_non_null(strstr(doc.text, "<script>alert(1)</script> & co"));
	assert_non_null(strstr(doc.html, "Première ligne<br>seconde ligne</p>"));
	assert_non_null(strstr(doc.html, ">Deuxième paragraphe.</p>"));
	assert_non_null(strstr(doc.html, "janvier–février 2026"));
	assert_non_null(strstr(doc.html, "color-scheme"));
	assert_non_null(strstr(doc.html, "prefers-color-scheme:dark"));
	assert_non_null(strstr(doc.html, "src=\"cid:s3-1.jpg@comites.example.org\""));
	assert_non_null(strstr(doc.html, "alt=\"Marché du port — Brest\""));
	assert_non_null(strstr(doc.html, "bulletin@comites.example.org"));
	assert_non_null(strstr(doc.text, "20 avril 2026"));	/* next deadline */
	assert_non_null(strstr(doc.subject, "n°\u00a04"));
	assert_non_null(strstr(doc.subject, "janvier–février 2026"));
	assert_null(strstr(doc.text, "Subject:"));
	issue_doc_free(&doc);

	assert_int_equal(issue_render(&fx->e, 4, 1, &doc, &err), 1);
	assert_non_null(strstr(doc.html, "src=\"bulletin-4/s3-1.jpg\""));
	assert_null(strstr(doc.html, "cid:"));
	issue_doc_free(&doc);

	free(fx->cf.language);
	fx->cf.language = xstrdup("en");
	assert_int_equal(issue_render(&fx->e, 4, 0, &doc, &err), 1);
	assert_clean_page(doc.html);
	assert_non_null(strstr(doc.html, "January–February 2026"));
	assert_non_null(strstr(doc.html, "Contents"));
	assert_non_null(strstr(doc.text, "1 February 2026"));
	assert_non_null(strstr(doc.subject, "Bulletin no. 4"));
	issue_doc_free(&doc);

	assert_int_equal(issue_render(&fx->e, 9, 0, &doc, &err), 0);
	assert_non_null(strstr(err, "no issue 9"));
}

static int
file_exists(const struct fx *fx, const char *rel)
{
	char *p = xasprintf("%s/%s", fx->dir, rel);
	struct stat sb;
	int r = stat(p, &sb) == 0 && sb.st_size > 0;

	free(p);
	return r;
}

static char *
slurp(const struct fx *fx, const char *rel)
{
	char *p = xasprintf("%s/%s", fx->dir, rel), *data = NULL;
	size_t len;

	assert_int_equal(file_read(p, 64u << 20, &data, &len), 0);
	free(p);
	return data;
}

/* The text of the first row of sql with one integer parameter (caller frees). */
static char *
test_str(struct fx *fx, const char *sql, int64_t arg)
{
	char *v = strchr(sql, '?') ? db_str(fx->e.db, sql, "i", arg) : db_str(fx->e.db, sql, "");

	assert_non_null(v);
	return v;
}

static int
weasyprint_installed(void)
{
	return system("command -v weasyprint >/dev/null 2>&1") == 0;
}

static void
test_archive(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;
	char *path = xstrdup(getenv("PATH")), *html, *pdf;

	assert_int_equal(issue_archive(&fx->e, 4, 0, &err), 1);
	assert_true(file_exists(fx, "archive/bulletin-4.html"));
	assert_true(file_exists(fx, "archive/bulletin-4.txt"));
	assert_true(file_exists(fx, "archive/bulletin-4/s3-1.jpg"));
	assert_false(file_exists(fx, "archive/bulletin-4/s3-2.jpg"));	/* not a photo */
	html = slurp(fx, "archive/bulletin-4.html");
	assert_non_null(strstr(html, "src=\"bulletin-4/s3-1.jpg\""));
	assert_non_null(strstr(html, "@page"));
	free(html);

	/* No WeasyPrint in PATH: an error (-1) and why; HTML and text still written. */
	html = xasprintf("rm -rf %s/archive", fx->dir);
	assert_int_equal(system(html), 0);
	free(html);
	setenv("PATH", "/nonexistent", 1);
	assert_int_equal(issue_archive(&fx->e, 4, 1, &err), -1);
	setenv("PATH", path, 1);
	assert_string_equal(err, "weasyprint not installed");
	assert_true(file_exists(fx, "archive/bulletin-4.html"));
	assert_true(file_exists(fx, "archive/bulletin-4.txt"));
	assert_false(file_exists(fx, "archive/bulletin-4.pdf"));

	if (!weasyprint_installed()) {
		fprintf(stderr, "weasyprint absent: PDF not checked\n");
		free(path);
		return;
	}
	assert_int_equal(issue_archive(&fx->e, 4, 1, &err), 1);
	pdf = slurp(fx, "archive/bulletin-4.pdf");
	assert_memory_equal(pdf, "%PDF", 4);
	free(pdf);
	free(path);
}

static void
test_proof(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;

	assert_int_equal(issue_proof(&fx->e, 4, &err), 1);
	assert_int_equal(test_int(fx->e.db, "SELECT count(*) FROM delivery d JOIN message m ON"
	    " m.id = d.message_id WHERE m.kind = 'proof'", ""), 2);
	assert_int_equal(test_int(fx->e.db, "SELECT count(*) FROM delivery WHERE rcpt IN"
	    " ('ed1@example.org', 'ed2@example.org')", ""), 2);
	/* Still a draft; no editor -> refused; an empty issue -> refused. */
	assert_int_equal(test_int(fx->e.db, "SELECT count(*) FROM bulletin_issue WHERE"
	    " state = 'published'", ""), 0);
	assert_int_equal(issue_proof(&fx->e, 5, &err), 0);
	assert_non_null(strstr(err, "no accepted entry"));
	run(fx, "DELETE FROM sender WHERE role = 'editor'");
	assert_int_equal(issue_proof(&fx->e, 4, &err), 0);
	assert_string_equal(err, "no editor");
}

static void
test_publish(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;
	char *pathenv = xstrdup(getenv("PATH"));

	setenv("PATH", "/nonexistent", 1);	/* PDF failure is not fatal (and fast) */
	assert_int_equal(issue_publish(&fx->e, 4, &err), 1);
	setenv("PATH", pathenv, 1);
	free(pathenv);
	/* a1 a2 b1 l1 (l2 inactive), s1 (s2 pending, A1 already a contact). */
	assert_int_equal(test_int(fx->e.db, "SELECT count(*) FROM delivery d JOIN message m ON"
	    " m.id = d.message_id WHERE m.kind = 'bulletin'", ""), 5);
	assert_int_equal(test_int(fx->e.db, "SELECT count(*) FROM delivery WHERE rcpt ="
	    " 'a1@example.org' COLLATE NOCASE AND contact_id IS NOT NULL AND committee_id IS NOT"
	    " NULL", ""), 1);
	assert_int_equal(test_int(fx->e.db, "SELECT count(*) FROM delivery WHERE rcpt IN"
	    " ('l2@example.org', 's2@example.org')", ""), 0);
	assert_int_equal(test_int(fx->e.db, "SELECT count(*) FROM bulletin_issue i JOIN message m"
	    " ON m.id = i.message_id WHERE i.number = 4 AND i.state = 'published' AND"
	    " i.published IS NOT NULL AND m.kind = 'bulletin'", ""), 1);
	assert_int_equal(test_int(fx->e.db, "SELECT count(*) FROM archive_fts WHERE"
	    " kind = 'bulletin'", ""), 5);
	assert_true(file_exists(fx, "archive/bulletin-4.html"));
	assert_true(file_exists(fx, "archive/bulletin-4.txt"));

	assert_int_equal(issue_publish(&fx->e, 4, &err), 0);
	assert_non_null(strstr(err, "already published"));
	assert_int_equal(test_int(fx->e.db, "SELECT count(*) FROM message WHERE kind ="
	    " 'bulletin'", ""), 1);
	assert_int_equal(issue_publish(&fx->e, 5, &err), 0);	/* nothing accepted */
}

/* The queued proof parses: related(alternative(plain, html), jpeg). */
static void
test_mail(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;
	struct db_stmt *st;
	struct mime_msg *m;
	struct mime_attachment *att;
	size_t len, n;
	const char *body;
	char *s, *file, *tok;

	assert_int_equal(issue_proof(&fx->e, 4, &err), 1);
	/* one body, as a file: not a blob in the database */
	st = db_query(fx->e.db, "SELECT body IS NULL, body_file, token FROM message WHERE kind ="
	    " 'proof'", "");
	assert_int_equal(db_step(st), 1);
	assert_int_equal(db_col_int(st, 0), 1);
	file = slurp(fx, db_col_text(st, 1));
	len = strlen(file);
	body = file;
	assert_int_equal(mime_parse(body, len, &m, &err), 0);
	assert_non_null(memmem(body, len, "multipart/related", 17));
	assert_non_null(memmem(body, len, "multipart/alternative", 21));
	assert_non_null(memmem(body, len, "Content-Type: text/html", 23));
	s = mime_text_plain(m, NULL);
	assert_non_null(strstr(s, "Marché du port"));
	free(s);
	assert_int_equal(mime_attachments(m, &att, &n, 1u << 20), 0);
	assert_int_equal(n, 1);
	assert_string_equal(att[0].content_type, "image/jpeg");
	assert_string_equal(att[0].content_id, "s3-1.jpg@comites.example.org");
	assert_true(att[0].inline_image);
	assert_memory_equal(att[0].data, "\xff\xd8\xff", 3);	/* a JPEG rendition */
	mime_attachments_free(att, n);
	s = mime_subject(m);
	assert_int_equal(strncmp(s, "[ÉPREUVE] ", strlen("[ÉPREUVE] ")), 0);
	free(s);
	assert_non_null(memmem(body, len, "Subject: =?", 11));	/* RFC 2047, not raw 8-bit */
	/* a proof: To the editors, none of the list's headers, replies to bulletin@ */
	s = mime_header(m, "To");
	assert_string_equal(s, "ed1@example.org, ed2@example.org");
	free(s);
	s = mime_from_address(m);
	assert_string_equal(s, "bulletin@comites.example.org");
	free(s);
	assert_null(mime_header(m, "List-Id"));
	assert_null(mime_header(m, "List-Unsubscribe"));
	assert_null(mime_header(m, "List-Post"));
	assert_null(mime_header(m, "Precedence"));
	s = mime_header(m, "X-Loop");
	assert_string_equal(s, "national@comites.example.org");
	free(s);
	s = mime_header(m, "Reply-To");
	assert_string_equal(s, "bulletin@comites.example.org");
	free(s);
	/* the first line says it is a proof, to whom it went, how to publish */
	s = mime_text_plain(m, NULL);
	assert_ptr_equal(strstr(s, "ÉPREUVE — envoyée aux rédacteurs seulement (ed1@example.org,"
	    " ed2@example.org)"), s);
	assert_non_null(strstr(s, "PUBLIER 4\n"));
	free(s);
	s = mime_header(m, "Message-ID");
	tok = xasprintf("<%s@comites.example.org>", db_col_text(st, 2));
	assert_string_equal(s, tok);
	free(tok);
	free(s);
	mime_free(&m);
	db_finalize(&st);
	free(file);
}

/* Without images: multipart/alternative alone. */
static void
test_mail_no_image(void **state)
{
	size_t len;
	char *msg = mime_build_alternative("National", "bulletin@example.org",
	    "national@example.org", "Sujet", "texte", "<p>texte</p>", NULL, 0, NULL, 1, &len);
	struct mime_inline bad = { "x@example.org", "image/png", "x.png", "/nonexistent/x.png" };

	assert_non_null(msg);
	assert_non_null(strstr(msg, "Content-Type: multipart/alternative"));
	assert_null(strstr(msg, "multipart/related"));
	free(msg);
	assert_null(mime_build_alternative(NULL, "bulletin@example.org", "national@example.org",
	    "Sujet", "texte", "<p>texte</p>", &bad, 1, NULL, 1, &len));
}


/* The mail's size budget: over it, fewer photos per report (here none),
 * the mail saying so at its top and under the entry; the text alone over
 * it: refused. The archive keeps every photo. */
static void
test_budget(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;
	int64_t full, small;
	char *file, *s;

	assert_int_equal(issue_proof(&fx->e, 4, &err), 1);
	full = test_int(fx->e.db, "SELECT max(id) FROM message WHERE kind = 'proof'", "");
	file = test_str(fx, "SELECT body_file FROM message WHERE id = ?", full);
	s = slurp(fx, file);
	fx->cf.bulletin_mail_max = (long)strlen(s) - 200;	/* no room for the photo */
	free(s);
	free(file);
	free(fx->cf.bulletin_archive_url);
	fx->cf.bulletin_archive_url = xstrdup("https://www.example.org/bulletin/");
	assert_int_equal(issue_proof(&fx->e, 4, &err), 1);
	small = test_int(fx->e.db, "SELECT max(id) FROM message WHERE kind = 'proof'", "");
	file = test_str(fx, "SELECT body_file FROM message WHERE id = ?", small);
	s = slurp(fx, file);
	assert_true(strlen(s) <= (size_t)fx->cf.bulletin_mail_max);
	assert_null(strstr(s, "Content-Type: image/jpeg"));
	assert_non_null(strstr(s, "multipart/alternative"));
	assert_non_null(strstr(s, "https://www.example.org/bulletin/bulletin-4.html"));
	free(s);
	free(file);
	/* the earlier proof's body is dropped (its copies were all out) */
	run(fx, "UPDATE delivery SET state = 'sent'");
	assert_int_equal(issue_proof(&fx->e, 4, &err), 1);
	assert_int_equal(test_int(fx->e.db, "SELECT count(*) FROM message WHERE kind = 'proof' AND"
	    " body_file IS NOT NULL", ""), 1);
	assert_int_equal(test_int(fx->e.db, "SELECT count(*) FROM bulletin_mailing WHERE kind LIKE"
	    " 'proof-%' AND message_id IS NOT NULL", ""), 3);

	fx->cf.bulletin_mail_max = 2000;		/* not even the text */
	assert_int_equal(issue_proof(&fx->e, 4, &err), 0);
	assert_non_null(strstr(err, "bulletin_mail_max"));
}

/* Refused copies: the editors told once, how many and why; resend
 * --failed queues them again (and a new report may follow). */
static void
test_refused_resend(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;
	char *pathenv = xstrdup(getenv("PATH"));
	long n;

	assert_int_equal(issue_resend(&fx->e, 4, 1, &n, &err), 0);	/* not published */
	setenv("PATH", "/nonexistent", 1);
	assert_int_equal(issue_publish(&fx->e, 4, &err), 1);
	setenv("PATH", pathenv, 1);
	free(pathenv);
	run(fx, "UPDATE delivery SET state = 'failed', last_code = 552, last_reply ="
	    " '552 5.3.4 Message size exceeds fixed limit' WHERE id IN (SELECT id FROM delivery"
	    " ORDER BY id LIMIT 3); UPDATE delivery SET state = 'sent' WHERE state = 'queued'");
	assert_int_equal(bulletin_tick(&fx->e), 0);
	assert_int_equal(bulletin_tick(&fx->e), 0);
	assert_int_equal(test_int(fx->e.db, "SELECT count(*) FROM message m JOIN delivery d ON"
	    " d.message_id = m.id WHERE m.kind = 'notice' AND m.subject LIKE '%des envois refusés%'",
	    ""), 2);	/* one mail, to each of the two editors */
	assert_int_equal(issue_resend(&fx->e, 4, 1, &n, &err), 1);
	assert_int_equal(n, 3);
	assert_int_equal(test_int(fx->e.db, "SELECT count(*) FROM delivery d JOIN message m ON"
	    " m.id = d.message_id WHERE m.kind = 'bulletin' AND d.state = 'queued'", ""), 3);
	assert_int_equal(issue_resend(&fx->e, 4, 0, &n, &err), 1);	/* every copy */
	assert_int_equal(n, 2);	/* the 2 sent ones; 3 are already queued */
}

/* A held report without committee or issue is placed by an editor. */
static void
test_assign(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;

	run(fx, "INSERT INTO submission (id, issue_id, committee_id, sender, title, body,"
	    " activity_date, state, hold_reason, received) VALUES (7, NULL, NULL,"
	    " 'x@example.org', 'Sans comité', 'Texte.', '2026-01-10', 'held', 'unknown sender', 0)");
	assert_int_equal(editor_set_state(&fx->e, 7, "accepted", &err), 0);
	assert_int_equal(editor_assign(&fx->e, 7, "nowhere", 4, &err), 0);
	assert_non_null(strstr(err, "nowhere"));
	assert_int_equal(editor_assign(&fx->e, 7, "brest", 4, &err), 1);
	assert_int_equal(test_int(fx->e.db, "SELECT count(*) FROM submission WHERE id = 7 AND"
	    " state = 'new' AND issue_id = 1 AND committee_id = (SELECT id FROM committee WHERE"
	    " slug = 'brest')", ""), 1);
	assert_int_equal(editor_set_state(&fx->e, 7, "accepted", &err), 1);
}

/* Replies to our bulletin mails are recognised from their references. */
static void
test_reply_names(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;
	char tok[33], *hdr, *proof;

	assert_int_equal(issue_proof(&fx->e, 4, &err), 1);
	proof = test_str(fx, "SELECT token FROM message WHERE kind = 'proof'", 0);
	hdr = xasprintf("From: a1@example.org\nReferences: <x@example.org>\n"
	    " <%s@comites.example.org>\nSubject: Re\n\nMerci\n", proof);
	assert_int_equal(reply_names_bulletin(&fx->e, hdr, strlen(hdr), 0, tok), 1);
	assert_string_equal(tok, proof);
	assert_int_equal(reply_names_bulletin(&fx->e, hdr, strlen(hdr), 1, tok), 0);
	free(hdr);
	/* only in the header, only in In-Reply-To / References */
	hdr = xasprintf("From: a1@example.org\nMessage-ID: <%s@comites.example.org>\n\n"
	    "References: <%s@comites.example.org>\n", proof, proof);
	assert_int_equal(reply_names_bulletin(&fx->e, hdr, strlen(hdr), 0, tok), 0);
	free(hdr);
	free(proof);
}

/* [[photo:N]] markers (content.h) place each photo where it was written,
 * on the page and in the text version; a marker naming no photo vanishes;
 * none reaches the text or the page. */
static void
test_markers(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;
	struct issue_doc doc;
	char *cmd;
	const char *const order[] = { "Avant les photos.", "bulletin-4/s3-3.jpg", "Entre les deux.",
	    "bulletin-4/s3-1.jpg", "Après.", NULL };
	const char *const text_order[] = { "Avant les photos.", "[Photo 2\u00a0: voir la version"
	    " illustrée]", "Entre les deux.", "[Photo 1\u00a0:", "Après.", NULL };

	cmd = xasprintf("cp " PHOTO " %s/files/3/3.jpg", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	run(fx, "INSERT INTO submission_file (id, submission_id, filename, content_type, is_photo,"
	    " size, path) VALUES (3, 3, 'IMG_2.JPG', 'image/jpeg', 1, 769, 'files/3/3.jpg');"
	    "UPDATE submission SET body = 'Avant les photos.\n[[photo:2]]\n\nEntre les deux.\n"
	    "[[photo:1]]\n[[photo:9]]\nAprès.' WHERE id = 3");
	assert_int_equal(issue_render(&fx->e, 4, 1, &doc, &err), 1);
	assert_in_order(doc.html, order);
	assert_in_order(doc.text, text_order);
	assert_null(strstr(doc.text, "s3-"));	/* a file name says nothing to a reader */
	assert_null(strstr(doc.html, "[[photo"));
	assert_null(strstr(doc.text, "[[photo"));
	assert_non_null(strstr(doc.text, "Entre les deux."));
	issue_doc_free(&doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_render, setup, teardown),
		cmocka_unit_test_setup_teardown(test_archive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_publish, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mail, setup, teardown),
		cmocka_unit_test(test_mail_no_image),
		cmocka_unit_test_setup_teardown(test_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_resend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_assign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_markers, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
