/*
 * fuzz_frdate.c — dates as people write them in French (frdate_find,
 * frdate_pick) on the input as a Subject or a first paragraph. Oracles: a
 * date found has a day 1-31 and a month 1-12; a picked date is YYYY-MM-DD
 * and NUL-terminated in its 11 bytes.
 */
#include <ctype.h>

#include "frdate.h"
#include "fuzz.h"

static void
fz_ymd(const char *out)
{
	static const char shape[] = "dddd-dd-dd";

	for (size_t i = 0; i < 10; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)out[i]) : out[i] != '-')
			abort();
	if (out[10] != '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size), out[11];
	int d, m, y;

	if (frdate_find(text, &d, &m, &y) == 1 && (d < 1 || d > 31 || m < 1 || m > 12 || y < 0))
		abort();
	if (frdate_pick(text, "2026-12-03", "2026-10-01", out) == 1)
		fz_ymd(out);
	if (frdate_pick(text, "2026-01-02", "", out) == 1)
		fz_ymd(out);
	free(text);
	return 0;
}
