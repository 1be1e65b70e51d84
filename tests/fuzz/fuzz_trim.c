/*
 * fuzz_trim.c — the reply trimmer: trim_reply_elided() and trim_subject()
 * on the input as text.
 */
#include "fuzz.h"
#include "trim.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size), *elided = NULL;
	char *kept = trim_reply_elided(text, &elided);
	char *title = trim_subject(text);

	free(kept);
	free(elided);
	free(title);
	free(text);
	return 0;
}
