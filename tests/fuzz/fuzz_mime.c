/*
 * fuzz_mime.c — the GMime adapter as the handlers use it: mime_parse(),
 * the header getters, the text body, the attachments, the Approved:
 * secret removal, header rewriting and serialisation (both line ends).
 */
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
	}
	free(mime_from_address(m));
	free(mime_from_name(m));
	free(mime_subject(m));
	free(mime_message_id(m));
	(void)mime_date(m);
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
	(void)mime_strip_approved(m, &secret);
	free(secret);
	free(mime_text_plain(m, NULL));
	mime_set_header(m, "Subject", "[Comités] essai\r\nBcc: x@example.org");
	mime_add_header(m, "List-Id", "<national.example.org>");
	mime_prepend_header(m, "Received", "from fuzz");
	mime_remove_header(m, "Return-Path");
	mime_set_from(m, "Bureau \"national\"", "bureau@example.org");
	free(mime_serialize(m, 1, &len));
	free(mime_serialize(m, 0, &len));
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
