/*
 * fuzz_mime.c — the GMime adapter as the handlers use it: mime_parse(),
 * the header getters, the text body, the attachments, the Approved:
 * secret removal and search, header rewriting and serialisation (both line
 * ends). Oracle: no line of the serialised message's header block is over
 * MIME_LINE_MAX bytes (mime_serialize folds them).
 */
#include <stdio.h>
#include <time.h>

#include "fuzz.h"
#include "mime.h"

static const char *const fz_names[] = {
	"From", "To", "Cc", "Subject", "Date", "Message-ID", "Return-Path",
	"Content-Type", "Content-Transfer-Encoding", "In-Reply-To", "References",
	"Authentication-Results", "Delivered-To", "X-Original-To", "List-Id",
	"Auto-Submitted", "Precedence", "Approved",
};

static void
fz_headers(const struct mime_msg *m)
{
	size_t i;
	int n;

	for (i = 0; i < sizeof fz_names / sizeof fz_names[0]; i++) {
		free(mime_header(m, fz_names[i]));
		free(mime_header_raw(m, fz_names[i]));
		(void)mime_header_contains(m, fz_names[i], "example");
		n = mime_header_count(m, fz_names[i]);
		free(mime_header_nth(m, fz_names[i], n > 0 ? n - 1 : 0));
		free(mime_header_nth(m, fz_names[i], n));
		free(mime_header_raw_nth(m, fz_names[i], n > 0 ? n - 1 : 0));
	}
	(void)mime_header_longest(m);
	free(mime_from_address(m));
	free(mime_from_name(m));
	free(mime_subject(m));
	free(mime_message_id(m));
	(void)mime_date(m);
}

/* Every line of the top-level header block fits in MIME_LINE_MAX. */
static void
fz_check_folded(char *out, size_t len)
{
	size_t i, start = 0;

	for (i = 0; i < len; i++) {
		if (out[i] != '\n')
			continue;
		if (i - start - (i > start && out[i - 1] == '\r') > MIME_LINE_MAX) {
			fprintf(stderr, "fuzz_mime: header line of %zu bytes\n", i - start);
			abort();
		}
		if (i == start || (i == start + 1 && out[start] == '\r'))
			break;		/* the blank line: end of the header */
		start = i + 1;
	}
	free(out);
}

static void
fz_body(struct mime_msg *m)
{
	struct mime_attachment *att = NULL;
	size_t n = 0, len;
	char *secret = NULL;
	int is_html;

	free(mime_text_plain(m, &is_html));
	if (mime_attachments(m, &att, &n, 1u << 20) == 0)
		mime_attachments_free(att, n);
	(void)mime_contains_secret(m, "s3&cr<et");
	if (mime_strip_approved(m, &secret) == 1)
		(void)mime_contains_secret(m, secret);
	free(secret);
	free(mime_text_plain(m, NULL));
	mime_set_header(m, "Subject", "[Comités] essai\r\nBcc: x@example.org");
	mime_add_header(m, "List-Id", "<national.example.org>");
	mime_prepend_header(m, "Received", "from fuzz");
	mime_remove_header(m, "Return-Path");
	mime_set_from(m, "Bureau \"national\"", "bureau@example.org");
	fz_check_folded(mime_serialize(m, 1, &len), len);
	fz_check_folded(mime_serialize(m, 0, &len), len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_msg *m = NULL;
	const char *err;

	if (mime_parse((const char *)data, size, &m, &err) != 0)
		return 0;
	fz_headers(m);
	fz_body(m);
	mime_free(&m);
	return 0;
}
