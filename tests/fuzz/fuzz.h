/*
 * fuzz.h — what the libFuzzer harnesses of tests/fuzz/ share.
 *
 * Each fuzz_NAME.c defines LLVMFuzzerTestOneInput(). It is linked twice:
 * with clang's libFuzzer by `make fuzz` (build-fuzz/fuzz/fuzz_NAME), and
 * with replay.c by the normal build as build/tests/test_fuzz_NAME, which
 * `make check` runs to replay tests/fuzz/corpus/NAME/ once (regressions).
 */
#ifndef MLISTD_FUZZ_H
#define MLISTD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (caller frees); an embedded NUL
 * ends the string early, as it would for any C caller. */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* A fresh private directory for a harness's files (spool, database) on
 * tmpfs when there is one; exits when none can be made. Never removed:
 * the harness is a short-lived process. */
char *fuzz_tmpdir(const char *name);

#endif
