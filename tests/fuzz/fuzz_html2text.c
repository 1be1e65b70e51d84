/*
 * fuzz_html2text.c — html_to_text() on the input, then its output through
 * trim_reply() as report.c does with an HTML-only reply.
 */
#include "fuzz.h"
#include "html2text.h"
#include "trim.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *html = fuzz_cstr(data, size);
	char *text = html_to_text(html);
	char *kept = trim_reply(text);

	free(kept);
	free(text);
	free(html);
	return 0;
}
