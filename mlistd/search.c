/*
 * search.c — the archive index (see search.h): SQLite FTS5 table
 * archive_fts, tokenizer unicode61 with remove_diacritics 2, so
 * "tresorier" finds "trésorier" and case never matters.
 *
 * A query is plain words: each becomes an FTS5 string ("word", inner
 * double quotes doubled), so no character typed can be FTS5 syntax
 * (AND, NEAR, '*', ':' ...); the strings side by side are ANDed. Results
 * come best first (bm25 rank), each with a snippet of the body.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "i18n.h"
#include "search.h"
#include "status.h"
#include "util.h"

int
search_index(struct db *db, const char *kind, const char *ref, const char *date,
    const char *committee, const char *title, const char *body)
{
	return db_run(db, "INSERT INTO archive_fts (kind, ref, date, committee, title, body)"
	    " VALUES (?, ?, ?, ?, ?, ?)", "ssssss", kind, ref, date ? date : "",
	    committee ? committee : "", title ? title : "", body ? body : "");
}

/* "w1" "w2" ...: every word quoted for FTS5; NULL when there is no word. */
static char *
search_match(const char *words)
{
	struct buf b;
	const char *p = words;

	buf_init(&b);
	while (*p) {
		size_t n = strcspn(p, " \t\r\n");

		if (n > 0) {
			buf_adds(&b, b.len ? " \"" : "\"");
			for (size_t i = 0; i < n; i++) {
				if (p[i] == '"')
					buf_addc(&b, '"');
				buf_addc(&b, p[i]);
			}
			buf_addc(&b, '"');
		}
		p += n;
		p += strspn(p, " \t\r\n");
	}
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

static void
search_print(struct db_stmt *st, FILE *out)
{
	const char *kind = db_col_text(st, 1);

	/* a broadcast by its short id (status.h), as "mlistctl messages" shows it */
	fprintf(out, "%s  %s %.*s", db_col_text(st, 0), i18n_state("archive", kind),
	    strcmp(kind, "broadcast") == 0 ? STATUS_ID_LEN : 1000, db_col_text(st, 2));
	if (*db_col_text(st, 3))
		fprintf(out, "  %s", db_col_text(st, 3));
	fprintf(out, "\n  %s\n  %s\n\n", db_col_text(st, 4), db_col_text(st, 5));
}

int
search_query(struct db *db, const char *words, int limit, FILE *out)
{
	char *match = search_match(words ? words : "");
	struct db_stmt *st;
	int n = 0, rc;

	if (match == NULL)
		return 0;
	st = db_query(db, "SELECT date, kind, ref, committee, title, snippet(archive_fts, 5, '[',"
	    " ']', '…', 16) FROM archive_fts WHERE archive_fts MATCH ? ORDER BY rank LIMIT ?",
	    "sd", match, limit);
	free(match);
	if (st == NULL)
		return -1;
	while ((rc = db_step(st)) == 1) {
		search_print(st, out);
		n++;
	}
	db_finalize(&st);
	return rc == 0 ? n : -1;
}
