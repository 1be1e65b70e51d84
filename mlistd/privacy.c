/*
 * privacy.c — RGPD export and erasure (see privacy.h).
 *
 * privacy_tables[] is the one list of every place a person's address can
 * be stored: a table, the condition that finds their rows, and what erasure
 * does (delete the row, or overwrite the personal columns). A module that
 * stores addresses in a new table adds its row here.
 */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "i18n.h"
#include "privacy.h"
#include "util.h"

struct privacy_table {
	const char *table;
	const char *where;	/* one '?' : the address */
	const char *erase;	/* SQL with the same '?' : DELETE or UPDATE */
};

static const struct privacy_table privacy_tables[] = {
	{ "contact", "email = ?", "DELETE FROM contact WHERE email = ?" },
	{ "sender", "email = ?", "DELETE FROM sender WHERE email = ?" },
	{ "delivery", "rcpt = ?1",
	  "UPDATE delivery SET rcpt = 'erased-' || id || '@invalid' WHERE rcpt = ?1" },
	{ "message", "author = ?1 OR sender = ?1",
	  "UPDATE message SET author = CASE WHEN author = ?1 THEN '[erased]' ELSE author END,"
	  " sender = CASE WHEN sender = ?1 THEN '[erased]' ELSE sender END, body = NULL"
	  " WHERE author = ?1 OR sender = ?1" },
	{ "autoresponse", "email = ?1", "DELETE FROM autoresponse WHERE email = ?1" },
	{ "submission", "sender = ?1",
	  "UPDATE submission SET sender = '[erased]' WHERE sender = ?1" },
	{ "subscriber", "email = ?1", "DELETE FROM subscriber WHERE email = ?1" },
	{ "reply", "sender = ?1", "UPDATE reply SET sender = '[erased]' WHERE sender = ?1" },
	{ "audit", "instr(lower(what), lower(?1)) > 0",
	  "UPDATE audit SET what = replace(what, ?1, '[erased]')"
	  " WHERE instr(lower(what), lower(?1)) > 0" },
};

static int
privacy_dump_rows(struct db *db, const struct privacy_table *t, const char *email,
    struct buf *b, int *nrows)
{
	char *sql = xasprintf("SELECT * FROM %s WHERE %s", t->table, t->where);
	struct db_stmt *st = db_query(db, sql, "s", email);
	int rc, first = 1;

	free(sql);
	if (st == NULL)
		return -1;
	buf_printf(b, "  \"%s\": [", t->table);
	while ((rc = db_step(st)) == 1) {
		buf_adds(b, first ? "\n    {" : ",\n    {");
		for (int c = 0; c < db_col_count(st); c++) {
			buf_adds(b, c ? ", " : " ");
			buf_json_str(b, db_col_name(st, c));
			buf_adds(b, ": ");
			if (db_col_null(st, c))
				buf_adds(b, "null");
			else if (db_col_is_int(st, c))
				buf_printf(b, "%lld", (long long)db_col_int(st, c));
			else
				buf_json_str(b, db_col_text(st, c));
		}
		buf_adds(b, " }");
		first = 0;
		(*nrows)++;
	}
	buf_adds(b, first ? "]" : "\n  ]");
	db_finalize(&st);
	return rc;
}

int
privacy_export(struct db *db, const char *email, FILE *out, const char **err_r)
{
	struct buf b;
	int nrows = 0, rc = 0, ret = 1;

	buf_init(&b);
	buf_adds(&b, "{\n  \"email\": ");
	buf_json_str(&b, email);
	for (size_t i = 0; i < nitems(privacy_tables) && rc == 0; i++) {
		buf_adds(&b, ",\n");
		rc = privacy_dump_rows(db, &privacy_tables[i], email, &b, &nrows);
	}
	buf_adds(&b, "\n}\n");
	if (rc != 0)
		*err_r = db_errmsg(db), ret = -1;
	else if (nrows == 0)
		*err_r = tr("personne inconnue", "unknown person"), ret = 0;
	else
		fputs(buf_cstr(&b), out);
	buf_free(&b);
	return ret;
}

int
privacy_erase(struct db *db, const char *email, const char **err_r)
{
	int changed = 0;

	if (db_begin(db) == -1)
		goto dberr;
	for (size_t i = 0; i < nitems(privacy_tables); i++) {
		if (db_run(db, privacy_tables[i].erase, "s", email) == -1) {
			db_rollback(db);
			goto dberr;
		}
		changed += db_changes(db);
	}
	if (changed == 0) {
		db_rollback(db);
		*err_r = tr("personne inconnue", "unknown person");
		return 0;
	}
	if (db_run(db, "INSERT INTO audit (at, what) VALUES (?, 'person erased')", "i",
	    (int64_t)now()) == -1 || db_commit(db) == -1) {
		db_rollback(db);
		goto dberr;
	}
	return 1;
dberr:
	*err_r = db_errmsg(db);
	return -1;
}
