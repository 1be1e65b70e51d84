/* test_report.c — activity reports to bulletin@ on a temporary data
 * directory: committee found or held, title and text cleaned, charsets,
 * HTML, photos and files, corrections, what is never a submission, and
 * every malformed message of tests/data/malformed-mime/ without a crash. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bulletin.h"
#include "config.h"
#include "db.h"
#include "engine.h"
#include "mime.h"
#include "report.h"
#include "roster.h"
#include "testlib.h"
#include "util.h"

#define NOW	1773489600	/* 2026-03-14 12:00 UTC */

struct fx {
	char		 dir[TEST_DIR_SIZE];
	struct config	 cf;
	struct engine	 e;
};

static void
fx_roster(struct fx *fx)
{
	test_committee(&fx->e, "Rennes", "Bretagne", "", "jeanne@example.org");
	test_committee(&fx->e, "Brest", "Bretagne", "", "paul@example.org, double@example.org");
	test_committee(&fx->e, "Quimper", "Bretagne", "", "double@example.org");
	assert_int_equal(db_run(fx->e.db, "INSERT INTO bulletin_issue (number, period_start,"
	    " period_end, deadline, publish_date, state) VALUES (7, '2026-03-01', '2026-04-30',"
	    " '2026-04-20', '2026-05-01', 'open')", ""), 0);
}

static int
setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof *fx);

	test_now(NOW);
	setenv("TZ", "Europe/Paris", 1);
	tzset();
	test_env_open(fx->dir, "report", "example.org", &fx->cf, &fx->e);
	fx_roster(fx);
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

static int
deliver(struct fx *fx, const char *sender, const char *ext, const char *msg, size_t len)
{
	static int seq;
	char spool_id[32];
	struct inmsg in = { .spool_id = spool_id, .sender = sender, .rcpt = "bulletin@example.org",
	    .ext = ext ? ext : "", .data = msg, .len = len ? len : strlen(msg) };
	const char *err;

	snprintf(spool_id, sizeof spool_id, "test%d", ++seq);
	return report_accept(&fx->e, &in, &err);
}

static int64_t
count(struct fx *fx, const char *sql, const char *arg)
{
	return arg ? test_int(fx->e.db, sql, "s", arg) : test_int(fx->e.db, sql, "");
}

/* Notices queued to rcpt whose subject starts with prefix. */
static int64_t
notices(struct fx *fx, const char *rcpt, const char *prefix)
{
	char *like = xasprintf("%s%%", prefix);
	int64_t n = test_int(fx->e.db, "SELECT count(*) FROM delivery d JOIN message m ON"
	    " m.id = d.message_id WHERE m.kind = 'notice' AND d.rcpt = ? AND m.subject LIKE ?",
	    "ss", rcpt, like);

	free(like);
	return n;
}

static char *
col(struct fx *fx, const char *column, int64_t id)
{
	char *sql = xasprintf("SELECT %s FROM submission WHERE id = ?", column);
	char *v = db_str(fx->e.db, sql, "i", id);

	free(sql);
	return v ? v : xstrdup("(null)");
}

static int64_t
last_id(struct fx *fx)
{
	return test_int(fx->e.db, "SELECT max(id) FROM submission", "");
}

/* ---- table: committee, state, title, text ---- */

struct report_case {
	const char	*name;
	const char	*sender;
	const char	*ext;
	const char	*msg;
	const char	*state;
	const char	*committee;	/* slug, NULL: none */
	const char	*title;
	const char	*text_has;
	const char	*text_lacks;
	const char	*notice;	/* subject prefix of the notice */
};

static const struct report_case cases[] = {
	{ "plain French report from a contact", "jeanne@example.org", NULL,
	  "From: Jeanne <jeanne@example.org>\nTo: bulletin@example.org\n"
	  "Subject: TR: [Comités] Fête du quartier\n"
	  "Date: Tue, 10 Mar 2026 10:00:00 +0100\nMessage-ID: <r1@example.org>\n"
	  "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
	  "Content-Transfer-Encoding: 8bit\n\n"
	  "Nous avons organisé une fête dans le quartier : 80 personnes.\n\n"
	  "Jeanne\n\n"
	  "Le 2 mars 2026 à 09:00, Bureau national <national@example.org> a écrit :\n"
	  "> Envoyez-nous vos comptes rendus avant le 20 avril.\n",
	  "new", "rennes", "Fête du quartier", "80 personnes.", "a écrit", "Compte rendu reçu" },
	{ "bulletin+slug from an unknown sender", "inconnu@example.org", "brest",
	  "From: inconnu@example.org\nSubject: Re: Braderie\n\nUne braderie réussie.\n",
	  "new", "brest", "Braderie", "Une braderie réussie.", NULL, "Compte rendu reçu" },
	{ "unknown sender is held", "inconnu@example.org", NULL,
	  "From: inconnu@example.org\nSubject: Notre fête\n\nBonjour, voici notre fête.\n\nUn texte.\n",
	  "held", NULL, "Notre fête", "Bonjour, voici notre fête.\n\nUn texte.", NULL,
	  "Compte rendu en attente" },	/* a greeting that says more is kept */
	{ "contact of two committees is held", "double@example.org", NULL,
	  "From: double@example.org\nSubject: Atelier\n\nUn atelier.\n",
	  "held", NULL, "Atelier", "Un atelier.", NULL, "Compte rendu en attente" },
	{ "envelope sender as fallback", "paul@example.org", NULL,
	  "Subject: Sans From\n\nLe texte.\n",
	  "new", "brest", "Sans From", "Le texte.", NULL, "Compte rendu reçu" },
	{ "latin-1 label with cp1252 bytes", "paul@example.org", NULL,
	  "From: paul@example.org\nSubject: =?iso-8859-1?q?Soir=E9e?=\nMIME-Version: 1.0\n"
	  "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\n"
	  "Une \x93super\x94 soir\xe9" "e \x80 5 l'entr\xe9" "e.\n",
	  "new", "brest", "Soirée", "Une \xe2\x80\x9csuper\xe2\x80\x9d soirée \xe2\x82\xac 5",
	  NULL, "Compte rendu reçu" },
	{ "HTML-only message", "paul@example.org", NULL,
	  "From: paul@example.org\nSubject: Plantation\nMIME-Version: 1.0\n"
	  "Content-Type: text/html; charset=utf-8\n\n"
	  "<html><head><style>p{color:red}</style></head><body><p>Bonjour,</p>"
	  "<p>Nous avons <b>planté</b> des arbres.</p><ul><li>chênes</li><li>hêtres</li></ul>"
	  "<blockquote>Le message du bureau</blockquote></body></html>\n",
	  "new", "brest", "Plantation", "Nous avons planté des arbres.", "color",
	  "Compte rendu reçu" },
	{ "empty subject", "paul@example.org", NULL,
	  "From: paul@example.org\nSubject: RE: [Comités]\n\nDu texte.\n",
	  "new", "brest", "Compte rendu — Brest", "Du texte.", NULL, "Compte rendu reçu" },
};

static void
check_case(struct fx *fx, const struct report_case *c)
{
	int64_t id, slug_id;
	char *v, *rcpt;

	assert_int_equal(deliver(fx, c->sender, c->ext, c->msg, 0), 0);
	id = last_id(fx);
	assert_true(id > 0);
	v = col(fx, "state", id);
	assert_string_equal(v, c->state);
	free(v);
	slug_id = c->committee ? roster_committee_lookup(fx->e.db, c->committee) : 0;
	assert_int_equal(test_int(fx->e.db, "SELECT coalesce(committee_id, 0) FROM submission"
	    " WHERE id = ?", "i", id), slug_id);
	v = col(fx, "title", id);
	assert_string_equal(v, c->title);
	free(v);
	v = col(fx, "body", id);
	assert_true(utf8_valid(v, strlen(v)));
	if (strstr(v, c->text_has) == NULL)
		fail_msg("%s: text \"%s\" lacks \"%s\"", c->name, v, c->text_has);
	if (c->text_lacks && strstr(v, c->text_lacks) != NULL)
		fail_msg("%s: text \"%s\" has \"%s\"", c->name, v, c->text_lacks);
	free(v);
	rcpt = col(fx, "sender", id);
	assert_int_equal(notices(fx, rcpt, c->notice), 1);
	free(rcpt);
}

static void
test_cases(void **state)
{
	for (size_t i = 0; i < nitems(cases); i++) {
		struct fx *fx;

		setup((void **)&fx);
		print_message("case: %s\n", cases[i].name);
		check_case(fx, &cases[i]);
		teardown((void **)&fx);
	}
}

static void
test_plain_details(void **state)
{
	struct fx *fx = *state;
	char *ack, *v;

	assert_int_equal(deliver(fx, "jeanne@example.org", NULL, cases[0].msg, 0), 0);
	v = col(fx, "activity_date", last_id(fx));
	assert_string_equal(v, "2026-03-10");
	free(v);
	v = col(fx, "message_id", last_id(fx));
	assert_string_equal(v, "r1@example.org");
	free(v);
	ack = col(fx, "ack_message_id", last_id(fx));
	assert_true(strlen(ack) > 20 && strstr(ack, "@example.org") != NULL);
	v = xasprintf("Message-ID: <%s>", ack);
	assert_int_equal(test_int(fx->e.db, "SELECT count(*) FROM message WHERE kind = 'notice'"
	    " AND instr(lower(CAST(body AS TEXT)), lower(?)) > 0 AND instr(CAST(body AS TEXT),"
	    " 'In-Reply-To: <r1@example.org>') > 0 AND instr(CAST(body AS TEXT),"
	    " 'bulletin@example.org') > 0", "s", v), 1);
	free(v);
	free(ack);
	assert_int_equal(count(fx, "SELECT count(*) FROM submission WHERE issue_id IS NOT NULL",
	    NULL), 1);
}

static void
test_several_explained(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(deliver(fx, "double@example.org", NULL, cases[3].msg, 0), 0);
	assert_int_equal(count(fx, "SELECT count(*) FROM message WHERE kind = 'notice' AND"
	    " instr(CAST(body AS TEXT), 'bulletin+quimper@example.org') > 0", NULL), 1);
	assert_int_equal(count(fx, "SELECT count(*) FROM submission WHERE hold_reason ="
	    " 'several committees'", NULL), 1);
}

static void
test_no_open_issue(void **state)
{
	struct fx *fx = *state;

	struct bulletin_issue bi;

	/* The current period's issue exists and an editor closed it early. */
	assert_true(bulletin_current(&fx->e, now(), &bi) >= 0);
	assert_int_equal(db_run(fx->e.db, "UPDATE bulletin_issue SET state = 'closed'", ""), 0);
	assert_int_equal(deliver(fx, "jeanne@example.org", NULL, cases[0].msg, 0), 0);
	assert_int_equal(count(fx, "SELECT count(*) FROM submission WHERE state = 'held' AND"
	    " hold_reason = 'no open issue' AND issue_id IS NULL AND committee_id IS NOT NULL",
	    NULL), 1);
	assert_int_equal(notices(fx, "jeanne@example.org", "Compte rendu en attente"), 1);
}

/* ---- attachments ---- */

static void
b64(struct buf *out, const unsigned char *p, size_t n)
{
	static const char al[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? p[i + 1] << 8 : 0) |
		    (i + 2 < n ? p[i + 2] : 0);

		buf_addc(out, al[v >> 18 & 63]);
		buf_addc(out, al[v >> 12 & 63]);
		buf_addc(out, i + 1 < n ? al[v >> 6 & 63] : '=');
		buf_addc(out, i + 2 < n ? al[v & 63] : '=');
		if (i % 57 == 54)
			buf_addc(out, '\n');
	}
	buf_addc(out, '\n');
}

struct part {
	const char		*type;
	const char		*filename;
	const unsigned char	*data;
	size_t			 len;
};

/* A multipart/mixed report with a text and the parts. */
static char *
report_with(const char *from, const char *subject, const char *headers, const char *text,
    const struct part *parts, size_t nparts)
{
	struct buf b;

	buf_init(&b);
	buf_printf(&b, "From: %s\nSubject: %s\n%sMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"BND\"\n\n--BND\n"
	    "Content-Type: text/plain; charset=utf-8\n\n%s\n", from, subject, headers, text);
	for (size_t i = 0; i < nparts; i++) {
		buf_printf(&b, "--BND\nContent-Type: %s; name=\"%s\"\nContent-Disposition: attachment;"
		    " filename=\"%s\"\nContent-Transfer-Encoding: base64\n\n", parts[i].type,
		    parts[i].filename, parts[i].filename);
		b64(&b, parts[i].data, parts[i].len);
	}
	buf_adds(&b, "--BND--\n");
	return buf_steal(&b);
}

static void
check_file(struct fx *fx, int64_t sub, int nth, int is_photo, const char *type,
    const void *data, size_t len)
{
	struct db_stmt *st = db_query(fx->e.db, "SELECT is_photo, content_type, size, path FROM"
	    " submission_file WHERE submission_id = ? ORDER BY id LIMIT 1 OFFSET ?", "ii", sub,
	    (int64_t)nth);
	char *path, *content;
	size_t clen;

	assert_non_null(st);
	assert_int_equal(db_step(st), 1);
	assert_int_equal(db_col_int(st, 0), is_photo);
	assert_string_equal(db_col_text(st, 1), type);
	assert_int_equal(db_col_int(st, 2), (int64_t)len);
	assert_true(strncmp(db_col_text(st, 3), "files/", 6) == 0);
	path = xasprintf("%s/%s", fx->dir, db_col_text(st, 3));
	db_finalize(&st);
	assert_int_equal(file_read(path, 1 << 24, &content, &clen), 0);
	assert_int_equal(clen, len);
	assert_memory_equal(content, data, len);
	free(content);
	free(path);
}

/* ---- photos and every attachment's fate ---- */

/* A MIME part holding the file at path, base64. */
static void
part_file(struct buf *b, const char *bnd, const char *headers, const char *path)
{
	char *data;
	size_t len;

	assert_int_equal(file_read(path, 1u << 26, &data, &len), 0);
	buf_printf(b, "--%s\n%sContent-Transfer-Encoding: base64\n\n", bnd, headers);
	b64(b, (const unsigned char *)data, len);
	free(data);
}

static void
part_text(struct buf *b, const char *bnd, const char *type, const char *text)
{
	buf_printf(b, "--%s\nContent-Type: %s; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
	    "%s\n", bnd, type, text);
}

/* A file of the test's own (under the data directory's t/). */
static char *
tpath(struct fx *fx, const char *name)
{
	char *dir = xasprintf("%s/t", fx->dir), *p = xasprintf("%s/%s", dir, name);

	mkdir_p(dir, 0700);
	free(dir);
	return p;
}

/* The stored file nth (0-based) of submission sub: kind, photo flag,
 * dimensions; for a photo, its JPEG parsed: clean and of those dimensions. */
static struct test_jpeg
stored(struct fx *fx, int64_t sub, int nth, const char *kind, int is_photo)
{
	struct db_stmt *st = db_query(fx->e.db, "SELECT kind, is_photo, width, height, path,"
	    " size FROM submission_file WHERE submission_id = ? ORDER BY id LIMIT 1 OFFSET ?",
	    "ii", sub, (int64_t)nth);
	struct test_jpeg j = { 0 };
	char *path, *data;
	size_t len;

	assert_int_equal(db_step(st), 1);
	assert_string_equal(db_col_text(st, 0), kind);
	assert_int_equal(db_col_int(st, 1), is_photo);
	path = xasprintf("%s/%s", fx->dir, db_col_text(st, 4));
	assert_int_equal(file_read(path, 1u << 26, &data, &len), 0);
	assert_int_equal(db_col_int(st, 5), (int64_t)len);
	if (is_photo) {
		assert_int_equal(test_jpeg_parse(data, len, &j), 0);
		assert_false(j.exif || j.xmp || j.iptc || j.icc);
		assert_int_equal(db_col_int(st, 2), j.width);
		assert_int_equal(db_col_int(st, 3), j.height);
		assert_true(j.width <= 2048 && j.height <= 2048);
	}
	db_finalize(&st);
	free(data);
	free(path);
	return j;
}

/* The text of the last notice to rcpt, decoded (parsed as a message). */
static char *
last_notice_text(struct fx *fx, const char *rcpt)
{
	char *raw = db_str(fx->e.db, "SELECT CAST(m.body AS TEXT) FROM delivery d JOIN message m"
	    " ON m.id = d.message_id WHERE m.kind = 'notice' AND d.rcpt = ? ORDER BY m.id DESC"
	    " LIMIT 1", "s", rcpt), *text;
	struct mime_msg *m;
	const char *err;

	assert_non_null(raw);
	assert_int_equal(mime_parse(raw, strlen(raw), &m, &err), 0);
	text = mime_text_plain(m, NULL);
	mime_free(&m);
	free(raw);
	return text;
}

/* The lines of the notice text between the line starting with head and
 * the next blank line. */
static char *
section(const char *text, const char *head)
{
	const char *p = strstr(text, head), *end;

	if (p == NULL)
		fail_msg("notice lacks \"%s\":\n%s", head, text);
	p = strchr(p, '\n') + 1;
	end = strstr(p, "\n\n");
	return end ? xstrndup(p, (size_t)(end - p)) : xstrdup(p);
}

static void
assert_section(const char *text, const char *head, const char *want)
{
	char *got = section(text, head);

	if (strcmp(got, want) != 0)
		fail_msg("section \"%s\":\n%s\nwanted:\n%s", head, got, want);
	free(got);
}

static void
test_photos_and_files(void **state)
{
	struct fx *fx = *state;
	char *phone = tpath(fx, "phone.jpg"), *shot = tpath(fx, "shot.png");
	char *gif = tpath(fx, "anim.gif"), *heic = tpath(fx, "p.heic"), *tif = tpath(fx, "s.tif");
	char *pdf = tpath(fx, "flyer.pdf"), *mov = tpath(fx, "clip.mov"), *text, *v;
	struct test_jpeg j;
	struct buf b;
	int64_t id;

	test_photo_make(phone, 4032, 3024, 1, 6, 1);	/* > 5 MB, portrait by EXIF, GPS */
	test_sh("cd '%s/t' && convert -size 1170x2532 xc:none -fill blue -draw 'circle 500,900"
	    " 500,300' shot.png && convert -size 300x200 xc:red xc:green -loop 0 anim.gif &&"
	    " convert -size 1600x1200 gradient:white-green g.jpg && vips copy g.jpg p.heic &&"
	    " convert -size 64x64 xc:red s.tif && head -c 5000 /dev/urandom > clip.mov &&"
	    " printf '%%%%PDF-1.4\\n%%%%EOF\\n' > flyer.pdf", fx->dir);
	buf_init(&b);
	buf_adds(&b, "From: jeanne@example.org\nSubject: Photos\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"B\"\n\n");
	part_text(&b, "B", "text/plain", "Voici nos photos.\n[[photo:9]]");
	part_file(&b, "B", "Content-Type: image/jpeg; name=\"IMG_0001.JPG\"\n"
	    "Content-Disposition: attachment; filename=\"IMG_0001.JPG\"\n", phone);
	part_file(&b, "B", "Content-Type: image/png\nContent-Disposition: attachment;"
	    " filename=\"capture.png\"\n", shot);
	part_file(&b, "B", "Content-Type: image/gif\nContent-Disposition: attachment;"
	    " filename=\"anim.gif\"\n", gif);
	part_file(&b, "B", "Content-Type: application/octet-stream\nContent-Disposition:"
	    " attachment; filename=\"IMG_0002.HEIC\"\n", heic);
	part_file(&b, "B", "Content-Type: image/tiff\nContent-Disposition: attachment;"
	    " filename=\"scan.tif\"\n", tif);
	part_file(&b, "B", "Content-Type: image/jpeg\nContent-Disposition: attachment;"
	    " filename=\"cassee.jpg\"\n", mov);
	part_file(&b, "B", "Content-Type: application/pdf\nContent-Disposition: attachment;"
	    " filename=\"affiche.pdf\"\n", pdf);
	part_file(&b, "B", "Content-Type: video/quicktime\nContent-Disposition: attachment;"
	    " filename=\"IMG_0003.MOV\"\n", mov);
	buf_adds(&b, "--B--\n");
	assert_int_equal(deliver(fx, "jeanne@example.org", NULL, b.data, b.len), 0);
	buf_free(&b);
	id = last_id(fx);
	j = stored(fx, id, 0, "photo", 1);
	assert_true(j.width < j.height);		/* Orientation=6 applied */
	assert_int_equal(j.height, 2016);		/* 4032 decoded at half size */
	j = stored(fx, id, 1, "photo", 1);
	assert_int_equal(j.height, 2048);		/* the screenshot, reduced */
	j = stored(fx, id, 2, "photo", 1);
	assert_int_equal(j.width, 300);			/* the GIF's first frame */
	j = stored(fx, id, 3, "photo", 1);
	assert_int_equal(j.width, 1600);		/* HEIC */
	stored(fx, id, 4, "file", 0);			/* TIFF: kept, not published */
	stored(fx, id, 5, "file", 0);			/* not a JPEG at all */
	stored(fx, id, 6, "document", 0);
	stored(fx, id, 7, "file", 0);
	v = col(fx, "body", id);
	assert_string_equal(v, "Voici nos photos.\n\n[[photo:1]]\n\n[[photo:2]]\n\n[[photo:3]]"
	    "\n\n[[photo:4]]");			/* the forged marker is gone */
	free(v);
	text = last_notice_text(fx, "jeanne@example.org");
	assert_section(text, "Photos qui paraîtront", "- IMG_0001.JPG (1512 × 2016)\n"
	    "- capture.png (946 × 2048)\n- anim.gif (300 × 200)\n- IMG_0002.HEIC (1600 × 1200)");
	assert_section(text, "Documents PDF", "- affiche.pdf");
	assert_section(text, "qui ne paraîtront pas\u00a0:", "- IMG_0003.MOV");
	assert_section(text, "(elles sont gardées", "- scan.tif\n- cassee.jpg\n"
	    "Envoyez-les en JPEG (le format photo habituel) si vous le pouvez.");
	assert_non_null(strstr(text, "\n[Photo 1\u00a0: IMG_0001.JPG]\n"));
	print_message("%s\n", text);
	free(text);
	free(phone);
	free(shot);
	free(gif);
	free(heic);
	free(tif);
	free(pdf);
	free(mov);
}

/* Twelve photos over the old 30 MB cap: all kept, reduced. */
static void
test_many_big_photos(void **state)
{
	struct fx *fx = *state;
	char *photo = tpath(fx, "big.jpg"), *v;
	struct buf b;
	int64_t id;

	test_photo_make(photo, 2600, 1950, 1, 0, 1);
	buf_init(&b);
	buf_adds(&b, "From: paul@example.org\nSubject: Braderie\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"B\"\n\n");
	part_text(&b, "B", "text/plain", "Douze photos.");
	for (int i = 0; i < 12; i++)
		part_file(&b, "B", "Content-Type: image/jpeg\n", photo);
	buf_adds(&b, "--B--\n");
	assert_true(b.len > 40u * 1024 * 1024);
	assert_int_equal(deliver(fx, "paul@example.org", NULL, b.data, b.len), 0);
	buf_free(&b);
	id = last_id(fx);
	assert_int_equal(test_int(fx->e.db, "SELECT count(*) FROM submission_file WHERE"
	    " submission_id = ? AND kind = 'photo'", "i", id), 12);
	for (int i = 0; i < 12; i++)
		assert_int_equal(stored(fx, id, i, "photo", 1).width, 2048);
	v = col(fx, "body", id);
	assert_non_null(strstr(v, "[[photo:12]]"));
	free(v);
	free(photo);
}
/* ---- the clients people use: text in order, photos in place ---- */

struct client_case {
	const char	*name;
	const char	*subject;
	const char	*date;		/* Date header */
	const char	*body;		/* MIME body; %1$s: base64 photo 1, %2$s: photo 2 */
	const char	*title;
	const char	*text;		/* the stored body, exactly */
	const char	*activity;	/* YYYY-MM-DD */
	int		 photos;
	int		 documents;
};

#define CT_MIXED	"Content-Type: multipart/mixed; boundary=\"M\"\n\n"
#define JPEG_PART(name, extra) "Content-Type: image/jpeg; name=\"" name "\"\n" extra \
	"Content-Transfer-Encoding: base64\n\n"

static const struct client_case clients[] = {
	{ "iPhone: text and photos alternate in multipart/mixed",
	  "Fête de quartier", "Sat, 14 Mar 2026 09:00:00 +0100",
	  CT_MIXED "--M\nContent-Type: text/plain; charset=utf-8\n\n"
	  "Bonjour à toutes et à tous !\n\nSamedi 7 mars, la fête a réuni tout le quartier.\n\n"
	  "--M\n" JPEG_PART("IMG_0001.JPG", "Content-Disposition: inline;"
	  " filename=IMG_0001.JPG\n") "%1$s\n"
	  "--M\nContent-Type: text/plain; charset=utf-8\n\nLes enfants ont dansé.\n"
	  "--M\n" JPEG_PART("IMG_0002.JPG", "Content-Disposition: inline;"
	  " filename=IMG_0002.JPG\n") "%2$s\n"
	  "--M\nContent-Type: text/plain; charset=utf-8\n\n\nEnvoyé de mon iPhone\n--M--\n",
	  "Fête de quartier", "Samedi 7 mars, la fête a réuni tout le quartier.\n\n[[photo:1]]"
	  "\n\nLes enfants ont dansé.\n\n[[photo:2]]", "2026-03-07", 2, 0 },
	{ "Gmail: a reply to the call, an inline image with its [image: ] placeholder",
	  "RE: Appel à contributions - Bulletin n° 7", "Fri, 13 Mar 2026 18:00:00 +0100",
	  "Content-Type: multipart/related; boundary=\"R\"\n\n--R\n"
	  "Content-Type: multipart/alternative; boundary=\"A\"\n\n--A\n"
	  "Content-Type: text/plain; charset=UTF-8\n\nRepas des anciens\n\n"
	  "Le samedi 7/03 nous avons servi 40 repas.\n[image: IMG_3302.jpg]\nMerci à tous.\n"
	  "[image: absente.jpg]\n\n"
	  "Le jeu. 5 mars 2026 à 10:00, Bulletin <bulletin@example.org> a écrit :\n\n"
	  "> Racontez-nous la vie de votre comité.\n\n--A\n"
	  "Content-Type: text/html; charset=UTF-8\n\n<div>Repas des anciens</div><div>"
	  "<img src=\"cid:ii_abc\" alt=\"IMG_3302.jpg\"></div>\n--A--\n"
	  "--R\n" JPEG_PART("IMG_3302.jpg", "Content-ID: <ii_abc>\nX-Attachment-Id: ii_abc\n")
	  "%1$s\n--R--\n",
	  "Repas des anciens", "Le samedi 7/03 nous avons servi 40 repas.\n\n[[photo:1]]\n\n"
	  "Merci à tous.", "2026-03-07", 1, 0 },
	{ "Outlook for Android: plain and HTML, a photo attached, its footer",
	  "Collecte de jouets le 3 mars", "Fri, 13 Mar 2026 08:00:00 +0100",
	  CT_MIXED "--M\nContent-Type: multipart/alternative; boundary=\"A\"\n\n--A\n"
	  "Content-Type: text/plain; charset=utf-8\n\nDeux camionnettes remplies.\n\n"
	  "Obtenir Outlook pour Android<https://aka.ms/AAb9ysg>\n--A\n"
	  "Content-Type: text/html; charset=utf-8\n\n<p>Deux camionnettes remplies.</p>\n--A--\n"
	  "--M\n" JPEG_PART("photo.jpg", "Content-Disposition: attachment;"
	  " filename=photo.jpg\n") "%1$s\n--M--\n",
	  "Collecte de jouets le 3 mars", "Deux camionnettes remplies.\n\n[[photo:1]]",
	  "2026-03-03", 1, 0 },
	{ "Orange webmail: HTML only, its footer, a PDF flyer",
	  "Loto", "Thu, 12 Mar 2026 21:00:00 +0100",
	  CT_MIXED "--M\nContent-Type: text/html; charset=utf-8\n\n<html><body>"
	  "<p>Bonjour,</p><p>Le loto du 1er mars a réuni 60 joueurs.</p><p>Merci !</p>"
	  "<br><p>Orange vous informe que cet  e-mail a ete controle par l'anti-virus mail."
	  "<br>Aucun virus connu a ce jour par nos services n'a ete detecte.</p>"
	  "</body></html>\n--M\nContent-Type: application/pdf; name=affiche.pdf\n"
	  "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQKJSVFT0YK\n--M--\n",
	  "Loto", "Le loto du 1er mars a réuni 60 joueurs.\n\nMerci !",
	  "2026-03-01", 0, 1 },
	{ "Apple Mail: plain alternative, HTML with a cid photo in its related branch",
	  "Chorale", "Tue, 10 Mar 2026 19:00:00 +0100",
	  "Content-Type: multipart/alternative; boundary=\"A\"\n\n--A\n"
	  "Content-Type: text/plain; charset=utf-8\n\nAvant\n\nAprès\n--A\n"
	  "Content-Type: multipart/related; type=\"text/html\"; boundary=\"R\"\n\n--R\n"
	  "Content-Type: text/html; charset=utf-8\n\n<html><body><div>Avant</div><div><img"
	  " alt=x src=\"cid:F1@apple\" width=300></div><div>Après</div></body></html>\n--R\n"
	  JPEG_PART("IMG_0009.jpg", "Content-ID: <F1@apple>\nContent-Disposition: inline\n")
	  "%1$s\n--R--\n--A--\n",
	  "Chorale", "Avant\n\n[[photo:1]]\n\nAprès", "2026-03-10", 1, 0 },
	{ "Thunderbird: format=flowed, DelSp=yes, signature",
	  "", "Wed, 11 Mar 2026 20:00:00 +0100",
	  "Content-Type: text/plain; charset=UTF-8; format=flowed; delsp=yes\n"
	  "Content-Transfer-Encoding: 8bit\n\n"
	  "Vide-grenier\n\nLe vide-grenier du dimanche 8 mars a attiré beaucoup de monde,  \n"
	  "malgré la pluie du  \nmatin.\n\n-- \nMarie\n",
	  "Vide-grenier", "Le vide-grenier du dimanche 8 mars a attiré beaucoup de monde, malgré"
	  " la pluie du matin.", "2026-03-08", 0, 0 },
	{ "format=flowed without DelSp keeps the space",
	  "Atelier", "Wed, 11 Mar 2026 20:00:00 +0100",
	  "Content-Type: text/plain; charset=UTF-8; format=flowed\n\n"
	  "Nous avons cousu \n >From scratch \ndes sacs.\n",	/* space-stuffed */
	  "Atelier", "Nous avons cousu >From scratch des sacs.", "2026-03-11", 0, 0 },
	{ "no subject, no short first line: the committee's name",
	  "Re: Bulletin n°7 : racontez-nous la vie de votre comité",
	  "Wed, 11 Mar 2026 20:00:00 +0100",
	  "Content-Type: text/plain; charset=utf-8\n\nNous avons repeint le local du comité avec"
	  " les jeunes du quartier pendant les vacances, et tout le monde était content.\n",
	  "Compte rendu — Rennes", "Nous avons repeint le local du comité avec les jeunes du"
	  " quartier pendant les vacances, et tout le monde était content.", "2026-03-11", 0, 0 },
};

static char *
b64_file(const char *path)
{
	char *data;
	size_t len;
	struct buf b;

	assert_int_equal(file_read(path, 1u << 26, &data, &len), 0);
	buf_init(&b);
	b64(&b, (const unsigned char *)data, len);
	free(data);
	return buf_steal(&b);
}

static void
check_client(struct fx *fx, const struct client_case *c, const char *p1, const char *p2)
{
	char *msg, *body = NULL, *v;
	int64_t id;

	if (asprintf(&body, c->body, p1, p2) < 0)
		fail();
	msg = xasprintf("From: Jeanne <jeanne@example.org>\nTo: bulletin@example.org\n"
	    "Subject: %s\nDate: %s\nMIME-Version: 1.0\n%s", c->subject, c->date, body);
	assert_int_equal(deliver(fx, "jeanne@example.org", NULL, msg, 0), 0);
	id = last_id(fx);
	v = col(fx, "body", id);
	if (strcmp(v, c->text) != 0)
		fail_msg("%s: body\n[%s]\nwanted\n[%s]", c->name, v, c->text);
	free(v);
	v = col(fx, "title", id);
	if (strcmp(v, c->title) != 0)
		fail_msg("%s: title [%s], wanted [%s]", c->name, v, c->title);
	free(v);
	v = col(fx, "activity_date", id);
	if (strcmp(v, c->activity) != 0)
		fail_msg("%s: date %s, wanted %s", c->name, v, c->activity);
	free(v);
	assert_int_equal(test_int(fx->e.db, "SELECT count(*) FROM submission_file WHERE"
	    " submission_id = ? AND kind = 'photo'", "i", id), c->photos);
	assert_int_equal(test_int(fx->e.db, "SELECT count(*) FROM submission_file WHERE"
	    " submission_id = ? AND kind = 'document'", "i", id), c->documents);
	for (int i = 0; i < c->photos; i++)
		stored(fx, id, i, "photo", 1);
	free(msg);
	free(body);
}

static void
test_clients(void **state)
{
	struct fx *fx = *state;
	char *j1 = tpath(fx, "c1.jpg"), *j2 = tpath(fx, "c2.jpg"), *p1, *p2;

	test_photo_make(j1, 1200, 900, 0, 6, 1);
	test_photo_make(j2, 900, 1200, 0, 0, 1);
	p1 = b64_file(j1);
	p2 = b64_file(j2);
	for (size_t i = 0; i < nitems(clients); i++) {
		print_message("client: %s\n", clients[i].name);
		check_client(fx, &clients[i], p1, p2);
	}
	free(p1);
	free(p2);
	free(j1);
	free(j2);
}

/* HTML built to make a naive scan quadratic: 30,000 images without cid
 * before one with a cid that names nothing (a hang fails the test). */
static void
test_hostile_html(void **state)
{
	struct fx *fx = *state;
	struct buf b;
	char *v;

	buf_init(&b);
	buf_adds(&b, "From: paul@example.org\nSubject: Images\nMIME-Version: 1.0\n"
	    "Content-Type: text/html\n\n<p>Texte</p>");
	for (int i = 0; i < 30000; i++)
		buf_adds(&b, "<img src=x>");
	buf_adds(&b, "<img src=cid:nothing>[[photo:1]]<p>Fin</p>\n");
	alarm(120);
	assert_int_equal(deliver(fx, "paul@example.org", NULL, b.data, b.len), 0);
	alarm(0);
	buf_free(&b);
	v = col(fx, "body", last_id(fx));
	assert_null(strstr(v, "[[photo:"));
	assert_null(strstr(v, "image-cid"));
	free(v);
}

/* A reply to the acknowledgement with only a date changes only the date. */
static void
test_date_by_reply(void **state)
{
	struct fx *fx = *state;
	char *ack, *reply, *v;
	int64_t first;

	assert_int_equal(deliver(fx, "paul@example.org", NULL, "From: paul@example.org\n"
	    "Subject: Forum\nDate: Fri, 13 Mar 2026 10:00:00 +0100\n\nLe forum : 12 stands.\n",
	    0), 0);
	first = last_id(fx);
	v = col(fx, "activity_date", first);
	assert_string_equal(v, "2026-03-13");
	free(v);
	ack = col(fx, "ack_message_id", first);
	reply = xasprintf("From: paul@example.org\nSubject: Re: Compte rendu reçu : Forum\n"
	    "In-Reply-To: <%s>\n\nDate : 7 mars\n\nLe 13 mars 2026 à 10:01, Bulletin"
	    " <bulletin@example.org> a écrit :\n> Merci !\n", ack);
	assert_int_equal(deliver(fx, "paul@example.org", NULL, reply, 0), 0);
	v = col(fx, "activity_date", last_id(fx));
	assert_string_equal(v, "2026-03-07");
	free(v);
	v = col(fx, "body", last_id(fx));
	assert_string_equal(v, "Le forum : 12 stands.");
	free(v);
	v = col(fx, "title", last_id(fx));
	assert_string_equal(v, "Forum");
	free(v);
	free(ack);
	free(reply);
}

/* ---- corrections ---- */

static void
test_correction_by_subject(void **state)
{
	struct fx *fx = *state;
	int64_t first, other;
	char *v;

	assert_int_equal(deliver(fx, "jeanne@example.org", NULL, cases[0].msg, 0), 0);
	first = last_id(fx);
	assert_int_equal(deliver(fx, "jeanne@example.org", NULL, "From: jeanne@example.org\n"
	    "Subject: Concert\n\nUn autre compte rendu.\n", 0), 0);
	other = last_id(fx);
	assert_int_equal(deliver(fx, "jeanne@example.org", NULL, "From: jeanne@example.org\n"
	    "Subject: CORRECTION - Fête du quartier\n\nNous étions 90.\n", 0), 0);
	v = col(fx, "state", first);
	assert_string_equal(v, "replaced");
	free(v);
	v = col(fx, "state", other);		/* the other report stays */
	assert_string_equal(v, "new");
	free(v);
	assert_int_equal(test_int(fx->e.db, "SELECT replaces FROM submission WHERE id = ?", "i",
	    last_id(fx)), first);
	v = col(fx, "title", last_id(fx));
	assert_string_equal(v, "Fête du quartier");
	free(v);
	v = col(fx, "state", last_id(fx));
	assert_string_equal(v, "new");
	free(v);
	/* Another committee's "Correction" replaces nothing of Rennes. */
	assert_int_equal(deliver(fx, "paul@example.org", NULL, "From: paul@example.org\n"
	    "Subject: Correction: Concert\n\nAutre.\n", 0), 0);
	v = col(fx, "state", other);
	assert_string_equal(v, "new");
	free(v);
}

static void
test_correction_by_reply(void **state)
{
	struct fx *fx = *state;
	static const unsigned char pdf[] = "%PDF-1.4\n%%EOF\n";
	const struct part parts[] = { { "application/pdf", "affiche.pdf", pdf, sizeof pdf - 1 } };
	char *msg = report_with("paul@example.org", "Forum", "", "Le forum.", parts, 1);
	char *ack, *reply;
	int64_t first;

	assert_int_equal(deliver(fx, "paul@example.org", NULL, msg, 0), 0);
	free(msg);
	first = last_id(fx);
	ack = col(fx, "ack_message_id", first);
	reply = xasprintf("From: Paul <paul@example.org>\nSubject: Re: Compte rendu reçu : Forum\n"
	    "In-Reply-To: <%s>\nReferences: <x@example.org> <%s>\n\n"
	    "Le forum des associations : 12 stands.\n\n"
	    "Le 14 mars 2026 à 12:00, Bulletin <bulletin@example.org> a écrit :\n"
	    "> Merci ! Votre compte rendu...\n", ack, ack);
	assert_int_equal(deliver(fx, "paul@example.org", NULL, reply, 0), 0);
	free(reply);
	free(ack);
	ack = col(fx, "state", first);
	assert_string_equal(ack, "replaced");
	free(ack);
	assert_int_equal(test_int(fx->e.db, "SELECT replaces FROM submission WHERE id = ?", "i",
	    last_id(fx)), first);
	ack = col(fx, "body", last_id(fx));
	assert_string_equal(ack, "Le forum des associations : 12 stands.");
	free(ack);
	ack = col(fx, "title", last_id(fx));
	assert_string_equal(ack, "Forum");	/* not our notice's subject */
	free(ack);
	/* No attachment sent again: the poster is kept. */
	check_file(fx, last_id(fx), 0, 0, "application/pdf", pdf, sizeof pdf - 1);
}

static void
test_correction_of_held(void **state)
{
	struct fx *fx = *state;
	int64_t held;
	char *v;

	assert_int_equal(deliver(fx, "inconnu@example.org", NULL, cases[2].msg, 0), 0);
	held = last_id(fx);
	assert_int_equal(deliver(fx, "inconnu@example.org", "quimper", "From: inconnu@example.org\n"
	    "Subject: Correction : Notre fête\n\nLe bon texte.\n", 0), 0);
	v = col(fx, "state", held);
	assert_string_equal(v, "replaced");
	free(v);
	v = col(fx, "state", last_id(fx));
	assert_string_equal(v, "new");
	free(v);
	assert_int_equal(test_int(fx->e.db, "SELECT committee_id FROM submission WHERE id = ?",
	    "i", last_id(fx)), roster_committee_lookup(fx->e.db, "quimper"));
}

/* ---- never a submission ---- */

static void
test_dropped(void **state)
{
	static const struct { const char *sender, *msg; } drops[] = {
		{ "jeanne@example.org", "From: jeanne@example.org\nSubject: Réponse automatique :"
		  " Absente\nAuto-Submitted: auto-replied\n\nJe suis absente.\n" },
		{ "", "From: MAILER-DAEMON@example.org\nSubject: Undelivered Mail\n\nBounce.\n" },
		{ "<>", "From: jeanne@example.org\nSubject: Fête\n\nTexte.\n" },
		{ "jeanne@example.org", "From: jeanne@example.org\nX-Loop: national@example.org\n"
		  "Subject: Fête\n\nTexte.\n" },
		{ "bulletin@example.org", "From: bulletin@example.org\nSubject: Compte rendu reçu"
		  "\n\nTexte.\n" },
	};
	struct fx *fx = *state;

	for (size_t i = 0; i < nitems(drops); i++)
		assert_int_equal(deliver(fx, drops[i].sender, NULL, drops[i].msg, 0), 0);
	assert_int_equal(count(fx, "SELECT count(*) FROM submission", NULL), 0);
	assert_int_equal(count(fx, "SELECT count(*) FROM delivery", NULL), 0);
}

static void
test_unparsable(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(deliver(fx, "jeanne@example.org", NULL, "no header at all", 0),
	    ENGINE_CORRUPT);
	assert_int_equal(count(fx, "SELECT count(*) FROM submission", NULL), 0);
}

/* ---- malformed MIME ---- */

static struct fx *walk_fx;
static int walk_n, walk_ok;

static int
walk_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	size_t n = strlen(path), len;
	char *data;
	int rc;

	if (type != FTW_F || n < 4 || strcmp(path + n - 4, ".msg") != 0)
		return 0;
	assert_int_equal(file_read(path, 1 << 26, &data, &len), 0);
	rc = deliver(walk_fx, "jeanne@example.org", NULL, data, len);
	if (rc != ENGINE_DONE && rc != ENGINE_CORRUPT)
		fail_msg("%s: report_accept returned %d", path, rc);
	free(data);
	walk_n++;
	walk_ok += rc == 0;
	return 0;
}

static void
test_malformed_mime(void **state)
{
	time_t start = time(NULL);

	walk_fx = *state;
	walk_n = walk_ok = 0;
	alarm(120);		/* a hang fails the test */
	assert_int_equal(nftw("tests/data/malformed-mime", walk_one, 8, FTW_PHYS), 0);
	alarm(0);
	assert_true(walk_n > 10);
	assert_true(time(NULL) - start < 60);
	/* most still make a report (the parser is lenient), none makes two */
	assert_true(count(walk_fx, "SELECT count(*) FROM submission", NULL) > walk_n / 2);
	assert_true(count(walk_fx, "SELECT count(*) FROM submission", NULL) <= walk_ok);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test_setup_teardown(test_plain_details, setup, teardown),
		cmocka_unit_test_setup_teardown(test_several_explained, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_open_issue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_photos_and_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_big_photos, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_date_by_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_html, setup, teardown),
		cmocka_unit_test_setup_teardown(test_correction_by_subject, setup, teardown),
		cmocka_unit_test_setup_teardown(test_correction_by_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_correction_of_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unparsable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_mime, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
