/*
 * fuzz_csv.c — the roster spreadsheet: csv_parse() and every accessor, each
 * row written back with csv_write_row() and parsed again, then the whole
 * input through import_roster() in dry-run mode on a private database
 * (each import is rolled back, so inputs stay independent).
 */
#include <stdio.h>

#include "config.h"
#include "csv.h"
#include "db.h"
#include "fuzz.h"
#include "import.h"
#include "util.h"

static struct db *fz_db;
static struct config fz_cf;
static FILE *fz_null;

static void
fz_init(void)
{
	const char *err;
	char *dir, *path;

	if (fz_db != NULL)
		return;
	dir = fuzz_tmpdir("csv");
	path = xasprintf("%s/mlistd.db", dir);
	free(dir);
	if (db_open(path, &fz_db, &err) != 0 || (fz_null = fopen("/dev/null", "w")) == NULL) {
		fprintf(stderr, "fuzz_csv: %s\n", err);
		abort();
	}
	free(path);
	config_load(&fz_cf, NULL, fz_null);	/* defaults; 1 = domain not set */
	free(fz_cf.domain);
	fz_cf.domain = xstrdup("example.org");
}

static void
fz_rewrite(const struct csv *csv)
{
	struct buf out;
	struct csv *again = NULL;
	const char *err;
	size_t r, c;

	buf_init(&out);
	for (r = 0; r < csv_nrows(csv); r++) {
		size_t n = csv_nfields(csv, r);
		const char **f = xcalloc(n + 1, sizeof *f);

		for (c = 0; c < n; c++)
			f[c] = csv_field(csv, r, c);
		(void)csv_line(csv, r);
		csv_write_row(&out, f, n, csv_delimiter(csv));
		free(f);
	}
	(void)csv_field(csv, csv_nrows(csv), 0);
	(void)csv_encoding(csv);
	if (out.len > 0 && csv_parse(out.data, out.len, &again, &err) == 0)
		csv_free(&again);
	buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv *csv = NULL;
	struct import_stats st;
	const char *err;

	fz_init();
	if (csv_parse((const char *)data, size, &csv, &err) == 0) {
		fz_rewrite(csv);
		csv_free(&csv);
	}
	memset(&st, 0, sizeof st);
	(void)import_roster(fz_db, &fz_cf, (const char *)data, size, 1, fz_null, &st, &err);
	return 0;
}
