/*
 * test_mime.c — the GMime adapter: header decoding, header-injection safety,
 * From rewriting, list-password stripping, CRLF serialisation, charset
 * repair of text bodies, attachments, message building, and a sweep over
 * the malformed-MIME corpus in tests/data/malformed-mime/ (no crash, bounded
 * time).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "html2text.h"
#include "mime.h"
#include "util.h"

static struct mime_msg *
parse_ok(const char *text)
{
	struct mime_msg *m = NULL;
	const char *err = NULL;

	if (mime_parse(text, strlen(text), &m, &err) != 0)
		fail_msg("parse failed: %s", err);
	return m;
}

static void
assert_str_free(char *got, const char *want)
{
	if (want == NULL)
		assert_null(got);
	else {
		assert_non_null(got);
		assert_string_equal(got, want);
	}
	free(got);
}

/* No line of s starts with prefix (case-insensitive). */
static int
no_line_starts(const char *s, const char *prefix)
{
	const char *p = s;

	while (p != NULL && *p != '\0') {
		if (str_has_prefix_ci(p, prefix))
			return 0;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return 1;
}

/* ---- headers ---- */

struct hdr_case {
	const char	*msg;
	const char	*subject;
	const char	*from_addr;
	const char	*from_name;
	const char	*msgid;
	time_t		 date;
};

static const struct hdr_case hdr_cases[] = {
	{ "From: =?UTF-8?Q?Ren=C3=A9e_Dupr=C3=A9?= <Renee.Dupre@Example.ORG>\n"
	  "Subject: =?iso-8859-1?Q?R=E9union_du_comit=E9?=\n"
	  "Date: Tue, 14 May 2024 10:30:00 +0200\n"
	  "Message-ID: <abc.123@example.org>\n\nbody\n",
	  "Réunion du comité", "renee.dupre@example.org", "Renée Dupré",
	  "abc.123@example.org", 1715675400 },
	{ "From: \"Dupont, Jean\" <jean@example.org>\n"
	  "Subject: =?UTF-8?B?w4l0w6kgMjAyNCA6IGJpbGFu?=\n\nbody\n",
	  "Été 2024 : bilan", "jean@example.org", "Dupont, Jean", NULL, 0 },
	{ "From: jean@example.org\nSubject: Caf\xe9 cr\xe8me\n"
	  "Date: not a date\n\nbody\n",
	  "Café crème", "jean@example.org", NULL, NULL, 0 },
	{ "From: Comit\xc3\xa9 <c@example.org>\nSubject: d\xc3\xa9j\xc3\xa0\n\nb\n",
	  "déjà", "c@example.org", "Comité", NULL, 0 },
	{ "To: a@example.org\n\nno from, no subject\n",
	  "", NULL, NULL, NULL, 0 },
	{ "From: Undisclosed: ;\nSubject:  spaced  \n\nb\n",
	  "spaced", NULL, NULL, NULL, 0 },
};

static void
test_headers(void **state)
{
	size_t i;

	for (i = 0; i < nitems(hdr_cases); i++) {
		const struct hdr_case *c = &hdr_cases[i];
		struct mime_msg *m = parse_ok(c->msg);

		assert_str_free(mime_subject(m), c->subject);
		assert_str_free(mime_from_address(m), c->from_addr);
		assert_str_free(mime_from_name(m), c->from_name);
		assert_str_free(mime_message_id(m), c->msgid);
		assert_int_equal(mime_date(m), c->date);
		mime_free(&m);
		assert_null(m);
	}
}

static void
test_header_access(void **state)
{
	struct mime_msg *m = parse_ok(
	    "Received: from a\nReceived: from b\n\tby c\n"
	    "Subject: =?utf-8?q?caf=C3=A9?=\n"
	    "Content-Type: text/plain; charset=utf-8\n\nbody\n");

	assert_int_equal(mime_header_count(m, "received"), 2);
	assert_int_equal(mime_header_count(m, "X-None"), 0);
	assert_str_free(mime_header(m, "Received"), "from a");
	assert_str_free(mime_header_raw(m, "SUBJECT"), "=?utf-8?q?caf=C3=A9?=");
	assert_str_free(mime_header(m, "subject"), "café");
	assert_str_free(mime_header(m, "X-None"), NULL);
	assert_str_free(mime_header(m, "Content-Type"),
	    "text/plain; charset=utf-8");
	assert_int_equal(mime_header_count(m, "content-type"), 1);
	mime_remove_header(m, "Received");
	assert_int_equal(mime_header_count(m, "Received"), 0);
	mime_free(&m);
}

static void
test_parse_refusals(void **state)
{
	struct mime_msg *m = NULL;
	const char *err = NULL;
	char *big;

	assert_int_equal(mime_parse("", 0, &m, &err), -1);
	assert_non_null(err);
	assert_null(m);
	assert_int_equal(mime_parse("\nonly a body\n", 13, &m, &err), -1);
	m = parse_ok("Content-Type: text/plain\n\nonly content headers\n");
	assert_str_free(mime_from_address(m), NULL);
	assert_str_free(mime_text_plain(m, NULL), "only content headers\n");
	mime_free(&m);
	big = xcalloc(1, (size_t)MIME_MAX_SIZE + 2);
	memset(big, 'a', (size_t)MIME_MAX_SIZE + 1);
	err = NULL;
	assert_int_equal(mime_parse(big, (size_t)MIME_MAX_SIZE + 1, &m, &err),
	    -1);
	assert_string_equal(err, "message too large");
	free(big);
}

/* ---- writing headers ---- */

static void
test_header_injection(void **state)
{
	struct mime_msg *m = parse_ok("From: a@example.org\nSubject: x\n\nbody\n");
	char *out, *v;
	size_t len;

	mime_set_header(m, "Subject", "hello\r\nBcc: victim@example.org");
	mime_add_header(m, "X-Note", "a\nBcc: victim@example.org\n\nbody");
	mime_prepend_header(m, "X-Trace\r\nBcc", "x\rBcc: victim@example.org");
	mime_set_header(m, "X-Accent", "été à Paris");
	out = mime_serialize(m, 0, &len);
	assert_int_equal(strlen(out), len);
	assert_true(no_line_starts(out, "Bcc"));
	assert_int_equal(mime_header_count(m, "Subject"), 1);
	assert_int_equal(mime_header_count(m, "Bcc"), 0);
	assert_non_null(strstr(out, "X-Accent: =?"));
	free(out);
	v = mime_header(m, "X-Accent");
	assert_string_equal(v, "été à Paris");
	free(v);
	mime_free(&m);
}

static void
test_set_from(void **state)
{
	struct mime_msg *m = parse_ok("From: old@example.org\nSubject: x\n\nb\n");
	struct mime_msg *m2;
	const char *err;
	char *out;
	size_t len;

	mime_set_from(m, "Hélène \"Lili\" Durand via National",
	    "national@example.org");
	out = mime_serialize(m, 1, &len);
	assert_null(strstr(out, "old@example.org"));
	assert_int_equal(mime_parse(out, len, &m2, &err), 0);
	assert_str_free(mime_from_name(m2), "Hélène \"Lili\" Durand via National");
	assert_str_free(mime_from_address(m2), "national@example.org");
	assert_int_equal(mime_header_count(m2, "From"), 1);
	mime_free(&m2);
	free(out);
	mime_free(&m);
}

/* ---- Approved: ---- */

struct approved_case {
	const char	*name;
	const char	*msg;
	int		 found;
	const char	*secret;
	const char	*kept;	/* must still be in the serialised result */
	const char	*gone;	/* must not (besides the secret); may be NULL */
};

static const struct approved_case approved_cases[] = {
	{ "header", "From: a@example.org\nApproved: s3cret \nSubject: x\n\n"
	  "Hello\n", 1, "s3cret", "Hello", NULL },
	{ "approve header", "From: a@example.org\nApprove: s3cret\n\nHello\n",
	  1, "s3cret", "Hello", NULL },
	{ "plain body", "From: a@example.org\nSubject: x\n\n\n"
	  "Approved: s3cret\n\nHello everyone\n", 1, "s3cret", "Hello everyone",
	  NULL },
	{ "alternative",
	  "From: a@example.org\nSubject: x\nMIME-Version: 1.0\n"
	  "Content-Type: multipart/alternative; boundary=\"BB\"\n\n"
	  "--BB\nContent-Type: text/plain; charset=utf-8\n"
	  "Content-Transfer-Encoding: quoted-printable\n\n"
	  "Approved: s3cret\n\nBonjour =C3=A0 tous\n"
	  "--BB\nContent-Type: text/html; charset=utf-8\n\n"
	  "<html><body><p>Approved: s3cret</p><p>Bonjour</p></body></html>\n"
	  "--BB--\n", 1, "s3cret", "Bonjour", "<p></p>" },
	{ "html div br",
	  "From: a@example.org\nMIME-Version: 1.0\n"
	  "Content-Type: text/html; charset=utf-8\n\n"
	  "<div dir=\"ltr\">Approved:&nbsp;<b>s3cret</b><br><div>Texte</div>"
	  "</div>\n", 1, "s3cret", "Texte", "</b>" },
	{ "html nested",
	  "From: a@example.org\nContent-Type: text/html\n\n"
	  "<p><b>Approve : s3cret</b></p>\n<p>Salut</p>\n", 1, "s3cret",
	  "<p>Salut</p>", "<p><" },
	{ "not first line", "From: a@example.org\n\nHello\nApproved: s3cret\n",
	  0, NULL, "s3cret", NULL },
	{ "none", "From: a@example.org\n\nHello\n", 0, NULL, "Hello", NULL },
};

static void
test_strip_approved(void **state)
{
	size_t i, len;

	for (i = 0; i < nitems(approved_cases); i++) {
		const struct approved_case *c = &approved_cases[i];
		struct mime_msg *m = parse_ok(c->msg);
		char *secret = (char *)"junk", *out;

		print_message("approved: %s\n", c->name);
		assert_int_equal(mime_strip_approved(m, &secret), c->found);
		assert_str_free(secret, c->secret);
		out = mime_serialize(m, 0, &len);
		if (c->found)
			assert_null(strstr(out, "s3cret"));
		assert_non_null(strstr(out, c->kept));
		if (c->gone != NULL)
			assert_null(strstr(out, c->gone));
		assert_int_equal(mime_header_count(m, "Approved"), 0);
		free(out);
		mime_free(&m);
	}
}

/* ---- the secret in every part, whatever the encoding (issue 11) ---- */

#define SECRET "s3&cr<et"
#define ALT(plain_headers, plain, html_headers, html) \
	"From: a@example.org\nSubject: x\nMIME-Version: 1.0\n" \
	"Content-Type: multipart/alternative; boundary=\"BB\"\n\n" \
	"--BB\nContent-Type: text/plain; charset=utf-8\n" plain_headers "\n" plain \
	"\n--BB\nContent-Type: text/html; charset=utf-8\n" html_headers "\n" html "\n--BB--\n"

struct secret_case {
	const char	*name;
	const char	*msg;
	const char	*secret;
	const char	*kept;		/* still in the decoded text */
};

static const struct secret_case secret_cases[] = {
	{ "html &amp; &lt;", ALT("", "Approved: " SECRET "\n\nBonjour\n", "",
	    "<html><body><p>Approved: s3&amp;cr&lt;et</p><p>Bonjour</p></body></html>"),
	    SECRET, "Bonjour" },
	{ "html decimal entities, secret from the html", "From: a@example.org\n"
	    "Content-Type: text/html; charset=utf-8\n\n"
	    "<div>Approved: s3&#38;cr&#60;et</div><div>Bonjour</div>\n", SECRET, "Bonjour" },
	{ "html hex entities", "From: a@example.org\nApproved: " SECRET "\n"
	    "Content-Type: text/html; charset=utf-8\n\n"
	    "<p>Approved:&nbsp;s3&#x26;cr&#x3C;et</p><p>Bonjour</p>\n", SECRET, "Bonjour" },
	{ "html split across tags", ALT("", "Approved: " SECRET "\n\nBonjour\n", "",
	    "<p>Approved: <b>s3&amp;</b><i>cr</i>&lt;et</p><p>Bonjour</p>"), SECRET, "Bonjour" },
	{ "quoted-printable html", ALT("", "Approved: " SECRET "\n\nBonjour\n",
	    "Content-Transfer-Encoding: quoted-printable\n",
	    "<p style=3D\"margin:0\">Approved: s3&amp;cr&=\nlt;et</p><p>Bonjour</p>"), SECRET, "Bonjour" },
	{ "base64 plain", "From: a@example.org\nContent-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: base64\n\n"
	    "QXBwcm92ZWQ6IHMzJmNyPGV0CgpCb25qb3VyCg==\n", SECRET, "Bonjour" },
	{ "latin-1 8bit and entities", ALT("", "", "", "") /* placeholder replaced below */,
	    "cl\xc3\xa9&s\xc3\xbbre", "Bonjour" },
	{ "second text part, any line", "From: a@example.org\nApproved: " SECRET "\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"MM\"\n\n--MM\nContent-Type: text/plain\n\n"
	    "Bonjour\n--MM\nContent-Type: text/plain\n\nNote\nApproved: " SECRET "\nFin\n--MM--\n",
	    SECRET, "Bonjour" },
};

static const char latin1_msg[] = "From: a@example.org\nSubject: x\nMIME-Version: 1.0\n"
    "Content-Type: multipart/alternative; boundary=\"BB\"\n\n"
    "--BB\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\n"
    "Approved: cl\xe9&s\xfbre\n\nBonjour\n"
    "--BB\nContent-Type: text/html; charset=iso-8859-1\n\n"
    "<p>Approved: cl&eacute;&amp;s&#251;re</p><p>Bonjour</p>\n--BB--\n";

/* Independently of mime_contains_secret: the text a reader sees. */
static void
assert_text_clean(struct mime_msg *m, const char *secret, const char *kept, const char *name)
{
	int html;
	char *t = mime_text_plain(m, &html), *shown;

	assert_non_null(t);
	shown = html ? html_to_text(t) : xstrdup(t);
	if (strstr(shown, secret) != NULL || strstr(t, secret) != NULL)
		fail_msg("%s: the secret is still in the text:\n%s", name, t);
	if (strstr(shown, kept) == NULL)
		fail_msg("%s: \"%s\" was removed too:\n%s", name, kept, t);
	free(shown);
	free(t);
}

static void
test_secret_every_part(void **state)
{
	for (size_t i = 0; i < nitems(secret_cases); i++) {
		const struct secret_case *c = &secret_cases[i];
		const char *raw = strncmp(c->name, "latin-1", 7) == 0 ? latin1_msg : c->msg;
		struct mime_msg *m = parse_ok(raw), *again;
		char *secret = NULL, *out;
		size_t len;
		const char *err;

		print_message("secret: %s\n", c->name);
		assert_int_equal(mime_contains_secret(m, c->secret), 1);
		assert_int_equal(mime_strip_approved(m, &secret), 1);
		assert_str_free(secret, c->secret);
		assert_int_equal(mime_contains_secret(m, c->secret), 0);
		assert_text_clean(m, c->secret, c->kept, c->name);
		/* what goes out, parsed again */
		out = mime_serialize(m, 1, &len);
		assert_int_equal(mime_parse(out, len, &again, &err), 0);
		assert_int_equal(mime_contains_secret(again, c->secret), 0);
		assert_text_clean(again, c->secret, c->kept, c->name);
		assert_null(strstr(out, "Approved"));
		mime_free(&again);
		free(out);
		mime_free(&m);
	}
}

struct guard_case {
	const char	*name;
	const char	*msg;
	int		 expect;	/* after mime_strip_approved */
};

static const struct guard_case guard_cases[] = {
	{ "clean", "From: a@example.org\nApproved: " SECRET "\n\nBonjour\n", 0 },
	{ "similar but not it", "From: a@example.org\n\ns3&cr et s3&amp;cr&lt;et\n", 0 },
	{ "in an attribute", "From: a@example.org\nApproved: " SECRET "\nContent-Type: text/html\n\n"
	    "<p>Bonjour <img alt=\"s3&amp;cr&lt;et\" src=\"cid:x\"></p>\n", 1 },
	{ "in the subject", "From: a@example.org\nSubject: =?utf-8?q?code_s3&cr<et?=\n\nBonjour\n", 1 },
	{ "zero-width space inside", "From: a@example.org\nContent-Type: text/html; charset=utf-8\n\n"
	    "<p>le code est s3&amp;&#8203;cr&lt;<span></span>et</p>\n", 1 },
	{ "mid-line in plain text", "From: a@example.org\n\nle code est s3&cr<et, gardez-le\n", 1 },
	{ "folded across lines", "From: a@example.org\n\nle code est s3&cr\n<et\n", 1 },
	{ "in a base64 attachment", "From: a@example.org\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"MM\"\n\n--MM\nContent-Type: text/plain\n\nBonjour\n"
	    "--MM\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
	    "czMmY3I8ZXQ=\n--MM--\n", 1 },
	{ "in a file name", "From: a@example.org\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"MM\"\n\n--MM\nContent-Type: text/plain\n\nBonjour\n"
	    "--MM\nContent-Type: application/pdf\nContent-Disposition: attachment;"
	    " filename*=utf-8''s3%26cr%3Cet.pdf\n\n%PDF\n--MM--\n", 1 },
	{ "in a preamble", "From: a@example.org\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"MM\"\n\nApproved: " SECRET "\n"
	    "--MM\nContent-Type: text/plain\n\nBonjour\n--MM--\n", 1 },
	{ "in an embedded message", "From: a@example.org\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"MM\"\n\n--MM\nContent-Type: text/plain\n\nBonjour\n"
	    "--MM\nContent-Type: message/rfc822\n\nFrom: b@example.org\nSubject: fwd\n"
	    "Content-Transfer-Encoding: quoted-printable\n\nApproved: s3&cr=3Cet\n--MM--\n", 1 },
};

static void
test_secret_guard(void **state)
{
	for (size_t i = 0; i < nitems(guard_cases); i++) {
		const struct guard_case *c = &guard_cases[i];
		struct mime_msg *m = parse_ok(c->msg);
		char *secret = NULL;

		print_message("guard: %s\n", c->name);
		mime_strip_approved(m, &secret);
		free(secret);
		if (mime_contains_secret(m, SECRET) != c->expect)
			fail_msg("%s: expected %d", c->name, c->expect);
		assert_int_equal(mime_contains_secret(m, ""), 0);
		mime_free(&m);
	}
}

/* ---- header lines of at most 998 bytes ---- */

static void
assert_lines_fit(const char *out, const char *name)
{
	for (const char *l = out; *l; ) {
		size_t n = strcspn(l, "\r\n");

		if (n > 998)
			fail_msg("%s: a line of %zu bytes", name, n);
		l += n;
		l += *l == '\r';
		l += *l == '\n';
	}
}

static void
test_fold_long_headers(void **state)
{
	struct buf words, run, utf8, msg;
	struct mime_msg *m, *again;
	char *out, *v;
	size_t len;
	const char *err;

	buf_init(&words);
	buf_init(&run);
	buf_init(&utf8);
	buf_init(&msg);
	for (int i = 0; i < 600; i++)
		buf_printf(&words, "%smot%d", i ? " " : "", i);
	for (int i = 0; i < 3000; i++)
		buf_addc(&run, (char)('a' + i % 26));
	for (int i = 0; i < 1500; i++)
		buf_adds(&utf8, "\xc3\xa9");
	buf_printf(&msg, "From: a@example.org\nSubject: %s\nX-Run: %s\nX-Utf8: %s\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"MM\"\n\n--MM\nContent-Type: text/plain\n"
	    "X-Part: %s\n\nBonjour\n--MM--\n", buf_cstr(&words), buf_cstr(&run), buf_cstr(&utf8),
	    buf_cstr(&run));
	m = parse_ok(buf_cstr(&msg));
	assert_true(mime_header_longest(m) > 3000);
	assert_true(mime_header_longest(m) < MIME_HEADER_REFUSE);
	out = mime_serialize(m, 1, &len);
	assert_lines_fit(out, "serialised");
	assert_int_equal(mime_parse(out, len, &again, &err), 0);
	/* blanks kept where they were: the subject reads the same */
	assert_str_free(mime_subject(again), buf_cstr(&words));
	/* a run without blanks gets one blank per fold, nothing else */
	v = mime_header(again, "X-Run");
	assert_non_null(v);
	for (char *r = v, *w = v; ; r++)
		if (*r != ' ' && (*w++ = *r) == '\0')
			break;
	assert_string_equal(v, buf_cstr(&run));
	free(v);
	/* UTF-8 never cut inside a character */
	v = mime_header_raw(again, "X-Utf8");
	assert_true(utf8_valid(v, strlen(v)));
	free(v);
	mime_free(&again);
	free(out);
	mime_free(&m);
	buf_free(&words);
	buf_free(&run);
	buf_free(&utf8);
	buf_free(&msg);
}

static void
test_header_refuse_size(void **state)
{
	struct buf msg;
	struct mime_msg *m;

	buf_init(&msg);
	buf_adds(&msg, "From: a@example.org\nX-Huge: ");
	for (int i = 0; i < 70000; i++)
		buf_addc(&msg, 'x');
	buf_adds(&msg, "\n\nBonjour\n");
	m = parse_ok(buf_cstr(&msg));
	assert_true(mime_header_longest(m) > MIME_HEADER_REFUSE);
	mime_free(&m);
	buf_free(&msg);
}

/* ---- serialisation ---- */

static void
assert_crlf_only(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\n')
			assert_true(i > 0 && s[i - 1] == '\r');
		if (s[i] == '\r')
			assert_true(i + 1 < len && s[i + 1] == '\n');
	}
	assert_true(len >= 2 && s[len - 2] == '\r' && s[len - 1] == '\n');
}

static void
test_serialize_crlf(void **state)
{
	static const char *const inputs[] = {
		"From: a@example.org\nSubject: x\n\nline 1\nline 2\n",
		"From: a@example.org\r\nSubject: x\r\n\r\nline 1\r\nline 2\r\n",
		"From: a@example.org\nSubject: x\n\nbare\rCR and\r\nmixed\n.\n",
		"From: a@example.org\nMIME-Version: 1.0\n"
		"Content-Type: multipart/mixed; boundary=X\n\n--X\n"
		"Content-Type: text/plain\n\nhi\n--X\n"
		"Content-Type: application/octet-stream\n"
		"Content-Transfer-Encoding: base64\n\nAAECAw==\n--X--\n",
	};
	size_t i, len;

	for (i = 0; i < nitems(inputs); i++) {
		struct mime_msg *m = parse_ok(inputs[i]);
		char *out = mime_serialize(m, 1, &len);

		assert_crlf_only(out, len);
		free(out);
		out = mime_serialize(m, 0, &len);
		assert_null(strchr(out, '\r'));
		free(out);
		mime_free(&m);
	}
}

/* ---- text bodies ---- */

struct text_case {
	const char	*name;
	const char	*msg;
	const char	*want;	/* substring of the result; NULL: no text */
	int		 is_html;
};

static const struct text_case text_cases[] = {
	{ "latin-1 label, cp1252 bytes",
	  "From: a@example.org\nContent-Type: text/plain; charset=iso-8859-1\n"
	  "Content-Transfer-Encoding: 8bit\n\nL\x92\xe9t\xe9 \x80 5\n",
	  "L\xe2\x80\x99\xc3\xa9t\xc3\xa9 \xe2\x82\xac 5", 0 },
	{ "utf-8 with stray byte",
	  "From: a@example.org\nContent-Type: text/plain; charset=utf-8\n\n"
	  "caf\xc3\xa9 \x92ok\x92\n", "caf\xc3\xa9 \xe2\x80\x99ok\xe2\x80\x99", 0 },
	{ "unlabelled qp",
	  "From: a@example.org\nContent-Transfer-Encoding: quoted-printable\n\n"
	  "Comit=E9\n", "Comit\xc3\xa9", 0 },
	{ "iso-8859-15 euro",
	  "From: a@example.org\nContent-Type: text/plain; charset=iso-8859-15\n"
	  "\n\xa4 12\n", "\xe2\x82\xac 12", 0 },
	{ "alternative in mixed",
	  "From: a@example.org\nContent-Type: multipart/mixed; boundary=M\n\n"
	  "--M\nContent-Type: multipart/alternative; boundary=A\n\n"
	  "--A\nContent-Type: text/plain; charset=utf-8\n\nplain text\n"
	  "--A\nContent-Type: text/html\n\n<p>html</p>\n--A--\n"
	  "--M\nContent-Type: image/png\n\nxx\n--M--\n", "plain text", 0 },
	{ "html only",
	  "From: a@example.org\nContent-Type: text/html; charset=windows-1252\n"
	  "\n<p>R\xe9sum\xe9</p>\n", "<p>R\xc3\xa9sum\xc3\xa9</p>", 1 },
	{ "text attachment only",
	  "From: a@example.org\nContent-Type: multipart/mixed; boundary=M\n\n"
	  "--M\nContent-Type: text/plain\nContent-Disposition: attachment; "
	  "filename=a.txt\n\nfile\n--M--\n", NULL, 0 },
	{ "image only",
	  "From: a@example.org\nContent-Type: image/jpeg\n\nxx\n", NULL, 0 },
};

static void
test_text_plain(void **state)
{
	size_t i;

	for (i = 0; i < nitems(text_cases); i++) {
		const struct text_case *c = &text_cases[i];
		struct mime_msg *m = parse_ok(c->msg);
		int is_html = -1;
		char *t = mime_text_plain(m, &is_html);

		print_message("text: %s\n", c->name);
		if (c->want == NULL) {
			assert_null(t);
		} else {
			assert_non_null(t);
			assert_true(utf8_valid(t, strlen(t)));
			assert_non_null(strstr(t, c->want));
			assert_int_equal(is_html, c->is_html);
		}
		free(t);
		mime_free(&m);
	}
}

/* ---- attachments ---- */

static const char att_msg[] =
	"From: a@example.org\nMIME-Version: 1.0\n"
	"Content-Type: multipart/mixed; boundary=\"M\"\n\n"
	"--M\nContent-Type: multipart/related; boundary=\"R\"\n\n"
	"--R\nContent-Type: text/html; charset=utf-8\n\n<img src=\"cid:p1@x\">\n"
	"--R\nContent-Type: image/png\nContent-ID: <p1@example.org>\n"
	"Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--R--\n"
	"--M\nContent-Type: application/pdf\n"
	"Content-Disposition: attachment;\n"
	" filename*=UTF-8''compte-rendu%20r%C3%A9union.pdf\n"
	"Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n"
	"--M\nContent-Type: text/csv\nContent-Disposition: attachment; "
	"filename=\"liste.csv\"\n\na;b\n"
	"--M\nContent-Type: application/pgp-signature\n\nsig\n--M--\n";

static void
test_attachments(void **state)
{
	struct mime_msg *m = parse_ok(att_msg);
	struct mime_attachment *a;
	size_t n;

	assert_int_equal(mime_attachments(m, &a, &n, 1024), 0);
	assert_int_equal(n, 3);
	assert_string_equal(a[0].content_type, "image/png");
	assert_string_equal(a[0].content_id, "p1@example.org");
	assert_null(a[0].filename);
	assert_int_equal(a[0].inline_image, 1);
	assert_int_equal(a[0].len, 8);
	assert_memory_equal(a[0].data, "\x89PNG\r\n\x1a\n", 8);
	assert_string_equal(a[1].filename, "compte-rendu réunion.pdf");
	assert_string_equal(a[1].content_type, "application/pdf");
	assert_int_equal(a[1].len, 9);
	assert_string_equal(a[1].data, "%PDF-1.4\n");
	assert_int_equal(a[1].inline_image, 0);
	assert_string_equal(a[2].filename, "liste.csv");
	mime_attachments_free(a, n);
	assert_int_equal(mime_attachments(m, &a, &n, 12), -1);
	assert_null(a);
	assert_int_equal(n, 0);
	mime_free(&m);
}

/* Found by tests/fuzz/fuzz_mime (corpus regress-*): an empty part has no
 * bytes at all (a NULL array in GMime); the text and the attachment are
 * then empty strings, not undefined behaviour (NULL + 0, memcpy from NULL). */
static void
test_empty_parts(void **state)
{
	struct mime_msg *m = parse_ok("Return-Path: <>\nFrnmailnull oby");
	struct mime_attachment *a;
	char *text;
	size_t n;

	text = mime_text_plain(m, NULL);
	assert_non_null(text);
	assert_string_equal(text, "");
	free(text);
	mime_free(&m);
	m = parse_ok("From: a@example.org\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"M\"\n\n"
	    "--M\nContent-Type: text/plain\n\n"
	    "--M\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\n"
	    "--M--\n");
	text = mime_text_plain(m, NULL);
	assert_string_equal(text, "");
	free(text);
	assert_int_equal(mime_attachments(m, &a, &n, 1024), 0);
	assert_int_equal(n, 1);
	assert_string_equal(a[0].content_type, "image/png");
	assert_int_equal(a[0].len, 0);
	assert_string_equal(a[0].data, "");
	mime_attachments_free(a, n);
	mime_free(&m);
}

/* RFC 2231 filenames in ISO-8859-1 and UTF-8, from the corpus. */
static void
test_attachment_rfc2231_corpus(void **state)
{
	static const char *const files[] = {
		"tests/data/malformed-mime/mimetools-testmsgs/"
		    "attachment-filename-encoding-Latin1.msg",
		"tests/data/malformed-mime/mimetools-testmsgs/"
		    "attachment-filename-encoding-UTF8.msg",
	};
	struct mime_attachment *a;
	struct mime_msg *m;
	const char *err;
	char *data;
	size_t i, len, n;

	for (i = 0; i < nitems(files); i++) {
		assert_int_equal(file_read(files[i], 1 << 20, &data, &len), 0);
		assert_int_equal(mime_parse(data, len, &m, &err), 0);
		assert_int_equal(mime_attachments(m, &a, &n, 1 << 20), 0);
		assert_int_equal(n, 1);
		assert_string_equal(a[0].filename, "attachment.äöü");
		mime_attachments_free(a, n);
		mime_free(&m);
		free(data);
	}
}

/* ---- building ---- */

static void
test_build_text(void **state)
{
	static const char *const extra[] = {
		"Auto-Submitted", "auto-replied",
		"X-Evil", "v\r\nBcc: victim@example.org", NULL,
	};
	const char *body = "Bonjour,\n\nVotre compte-rendu « Fête » est reçu.\n"
	    "From here on, a line that starts with From.\n.\n";
	struct mime_msg *m;
	const char *err;
	char *out, *t, *id;
	size_t len;

	out = mime_build_text("Comité national", "national@example.org",
	    "Jean <jean@example.org>", "Accusé de réception", body, extra, 1,
	    &len);
	assert_crlf_only(out, len);
	assert_true(no_line_starts(out, "Bcc"));
	assert_non_null(strstr(out, "charset=utf-8"));
	assert_non_null(strstr(out, "MIME-Version: 1.0"));
	assert_int_equal(mime_parse(out, len, &m, &err), 0);
	assert_str_free(mime_subject(m), "Accusé de réception");
	assert_str_free(mime_from_name(m), "Comité national");
	assert_str_free(mime_from_address(m), "national@example.org");
	assert_str_free(mime_header(m, "Auto-Submitted"), "auto-replied");
	assert_true(mime_date(m) > 0);
	id = mime_message_id(m);
	assert_non_null(id);
	assert_non_null(strstr(id, "@example.org"));
	free(id);
	t = mime_text_plain(m, NULL);
	assert_non_null(t);
	assert_string_equal(t, body);
	free(t);
	mime_free(&m);
	free(out);
	out = mime_build_text(NULL, "x@example.org", "y@example.org", "ascii",
	    "short ascii body", NULL, 0, &len);
	assert_non_null(strstr(out, "7bit"));
	assert_null(strchr(out, '\r'));
	free(out);
}

/* ---- the malformed corpus ----
 * Every message must parse (only the "-noheader" ones are refused) and go
 * through every reader without a crash, each in bounded time. */

static double
mono_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
sweep_one(const char *path)
{
	struct mime_attachment *a;
	struct mime_msg *m;
	const char *err;
	char *data, *t, *s;
	size_t len, n;
	int html;

	if (file_read(path, MIME_MAX_SIZE, &data, &len) != 0)
		fail_msg("cannot read %s", path);
	if (mime_parse(data, len, &m, &err) == 0) {
		free(mime_text_plain(m, &html));
		free(mime_subject(m));
		free(mime_from_address(m));
		if (mime_attachments(m, &a, &n, 32u << 20) == 0)
			mime_attachments_free(a, n);
		if (mime_strip_approved(m, &s) == 1)
			free(s);
		t = mime_serialize(m, 1, &n);
		free(t);
		mime_free(&m);
	} else if (strstr(path, "-noheader") == NULL)
		fail_msg("%s refused: %s", path, err);
	free(data);
	return 1;
}

static int
sweep_dir(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int count = 0;

	if (d == NULL)
		fail_msg("cannot open %s", dir);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		double t0;
		char *path;

		if (l < 5 || strcmp(de->d_name + l - 4, ".msg") != 0)
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		t0 = mono_seconds();
		count += sweep_one(path);
		if (mono_seconds() - t0 > 5.0)
			fail_msg("%s took too long", path);
		free(path);
	}
	closedir(d);
	return count;
}

static void
test_malformed_corpus(void **state)
{
	double t0 = mono_seconds();
	int n;

	n = sweep_dir("tests/data/malformed-mime/testmsgs");
	n += sweep_dir("tests/data/malformed-mime/mimetools-testmsgs");
	assert_true(n > 50);
	assert_true(mono_seconds() - t0 < 60.0);
}

/* RFC 3676: soft breaks joined within a quote depth, stuffing removed,
 * DelSp, the signature separator kept, malformed input survives. */
static void
test_unflow(void **state)
{
	static const struct { const char *in; int delsp; const char *want; } cases[] = {
		{ "Un texte \nsur deux lignes.\n", 0, "Un texte sur deux lignes.\n" },
		{ "Un texte  \nsur deux.\n", 1, "Un texte sur deux.\n" },
		{ "Coupé au mi\nlieu\n", 1, "Coupé au mi\nlieu\n" },
		{ " >From here \non.\n", 0, ">From here on.\n" },
		{ "> cité \n> suite\nréponse\n", 0, "> cité suite\nréponse\n" },
		{ "> cité \nnouveau\n", 0, "> cité \nnouveau\n" },
		{ "Fin \n-- \nMarie\n", 0, "Fin \n-- \nMarie\n" },
		{ "-- \nMarie\n", 0, "-- \nMarie\n" },
		{ "sans fin de ligne ", 0, "sans fin de ligne \n" },
		{ "", 0, "" },
		{ ">>>>>", 0, ">>>>> \n" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = mime_unflow(cases[i].in, cases[i].delsp);

		if (strcmp(got, cases[i].want) != 0)
			fail_msg("unflow [%s]: [%s], wanted [%s]", cases[i].in, got, cases[i].want);
		free(got);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_header_access),
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_header_injection),
		cmocka_unit_test(test_set_from),
		cmocka_unit_test(test_strip_approved),
		cmocka_unit_test(test_secret_every_part),
		cmocka_unit_test(test_secret_guard),
		cmocka_unit_test(test_fold_long_headers),
		cmocka_unit_test(test_header_refuse_size),
		cmocka_unit_test(test_serialize_crlf),
		cmocka_unit_test(test_text_plain),
		cmocka_unit_test(test_attachments),
		cmocka_unit_test(test_empty_parts),
		cmocka_unit_test(test_attachment_rfc2231_corpus),
		cmocka_unit_test(test_build_text),
		cmocka_unit_test(test_malformed_corpus),
		cmocka_unit_test(test_unflow),
	};

	setenv("MLISTD_NOW", "1715675400", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
