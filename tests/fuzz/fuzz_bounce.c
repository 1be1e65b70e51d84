/*
 * fuzz_bounce.c — the DSN / bounce parser: bounce_classify() on the input
 * as a whole message; every field of the result must be a terminated
 * string inside its array and the kind one of the enum.
 */
#include "bounce.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bounce_info bi;

	memset(&bi, 0xa5, sizeof bi);
	bounce_classify((const char *)data, size, &bi);
	if (memchr(bi.status, '\0', sizeof bi.status) == NULL ||
	    memchr(bi.recipient, '\0', sizeof bi.recipient) == NULL ||
	    memchr(bi.diagnostic, '\0', sizeof bi.diagnostic) == NULL ||
	    bi.kind < BOUNCE_UNKNOWN || bi.kind > BOUNCE_SPAM ||
	    bounce_kind_name(bi.kind) == NULL)
		abort();
	return 0;
}
