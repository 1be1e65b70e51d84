/*
 * fuzzlib.c — helpers shared by the harnesses (see fuzz.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"

char *
fuzz_tmpdir(const char *name)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	char *dir = malloc(256);

	if (dir == NULL)
		abort();
	snprintf(dir, 256, "%s/mlistd-fuzz-%s-XXXXXX", base, name);
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		exit(1);
	}
	return dir;
}
