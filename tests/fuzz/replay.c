/*
 * replay.c — run a harness once over files, without libFuzzer: the main()
 * of build/tests/test_fuzz_NAME (make check). With no argument it replays
 * $MLISTD_TOP/tests/fuzz/corpus/NAME/ (FUZZ_NAME given at compile time);
 * arguments are files or directories. Fails when there is no input: a
 * missing corpus must not pass silently. A crash or sanitizer report is
 * the failure the corpus guards against.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "util.h"

static int
replay_file(const char *path)
{
	char *data;
	size_t len;

	if (file_read(path, 1u << 24, &data, &len) != 0) {
		fprintf(stderr, "%s: cannot read\n", path);
		return -1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	free(data);
	return 0;
}

static int
replay_path(const char *path, size_t *n_r)
{
	struct stat st;
	struct dirent **ents;
	int n, i, rc = 0;

	if (stat(path, &st) != 0) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*n_r)++;
		return replay_file(path);
	}
	if ((n = scandir(path, &ents, NULL, alphasort)) < 0) {
		perror(path);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.') {
			char *p = xasprintf("%s/%s", path, ents[i]->d_name);

			rc |= replay_path(p, n_r);
			free(p);
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *top = getenv("MLISTD_TOP");
	char *def = xasprintf("%s/tests/fuzz/corpus/%s", top ? top : ".", FUZZ_NAME);
	size_t n = 0;
	int i, rc = 0;

	if (argc < 2)
		rc = replay_path(def, &n);
	for (i = 1; i < argc; i++)
		rc |= replay_path(argv[i], &n);
	free(def);
	printf("%s: %zu inputs replayed\n", FUZZ_NAME, n);
	return rc == 0 && n > 0 ? 0 : 1;
}
