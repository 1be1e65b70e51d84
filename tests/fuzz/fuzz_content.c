/*
 * fuzz_content.c — a report as intake reads it: mime_parse() then
 * content_read() (text parts in order, format=flowed, HTML to text,
 * trimming, photos decoded by libvips, attachments sorted). Oracles: every
 * marker line of the body names a photo of this report (markers people
 * typed are removed at intake), and every file says what to store.
 */
#include <stdio.h>

#include "content.h"
#include "fuzz.h"
#include "mime.h"

static void
fz_check(const struct content *c)
{
	const char *p = c->body, *nl;
	size_t i;

	while (p != NULL && *p != '\0') {
		int n;

		nl = strchr(p, '\n');
		n = content_marker(p, nl ? (size_t)(nl - p) : strlen(p));
		if (n != 0 && (n < 1 || n > c->nphotos)) {
			fprintf(stderr, "fuzz_content: marker %d with %d photos\n", n, c->nphotos);
			abort();
		}
		p = nl ? nl + 1 : NULL;
	}
	for (i = 0; i < c->nfiles; i++)
		if (c->files[i].kind != CONTENT_SKIP && c->files[i].data == NULL &&
		    c->files[i].len > 0)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_msg *m = NULL;
	struct content c;
	const char *err;

	if (mime_parse((const char *)data, size, &m, &err) != 0)
		return 0;
	memset(&c, 0, sizeof c);
	content_read(m, 1u << 20, &c);
	fz_check(&c);
	content_free(&c);
	mime_free(&m);
	return 0;
}
