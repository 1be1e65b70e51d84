/*
 * db.c — SQLite adapter (see db.h). Every failure returns -1/NULL and keeps
 * the reason for db_errmsg(); nothing here exits or logs on its own except
 * a prepare failure, which is a programming error worth one log line.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "util.h"

#define DB_CACHE	32	/* prepared statements kept per connection */

/* A prepared statement kept for the next query with the same text: a busy
 * loop (one UPDATE per delivery) would otherwise parse its SQL every time. */
struct db_cached {
	char		*sql;	/* NULL: free slot */
	sqlite3_stmt	*st;
	int		 busy;	/* handed out, not yet given back */
	uint64_t	 used;	/* for eviction: least recently used first */
};

struct db {
	sqlite3		*h;
	int		 last_rc;
	char		 corrupt[256];	/* SQLite's words when a damaged page was met */
	int		 depth;	/* nesting of db_begin: 1 = BEGIN, >1 = SAVEPOINTs */
	struct db_cached cache[DB_CACHE];
	uint64_t	 tick;
};

struct db_stmt {
	struct db	 *db;
	sqlite3_stmt	 *st;
	struct db_cached *slot;	/* NULL: finalized when done */
};

static int
db_migrate(struct db *db, const char **error_r)
{
	int64_t v;

	if (db_int(db, &v, "PRAGMA user_version", "") == -1) {
		*error_r = db_errmsg(db);
		return -1;
	}
	if (v > db_nmigrations) {
		*error_r = "database schema is newer than this program";
		return -1;
	}
	for (int i = (int)v; i < db_nmigrations; i++) {
		char pragma[64];

		if (db_begin(db) == -1)
			goto fail;
		snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", i + 1);
		if (db_exec(db, db_migrations[i]) == -1 || db_exec(db, pragma) == -1) {
			db_rollback(db);
			goto fail;
		}
		if (db_commit(db) == -1)
			goto fail;
	}
	return 0;
fail:
	*error_r = db_errmsg(db);
	return -1;
}

/* A damaged file: the header (not a database) or a page (malformed). */
static int
db_rc_corrupt(int rc)
{
	return (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB;
}

/* Keep the result of a call; remember for good that the file is damaged. */
static void
db_note(struct db *db, int rc)
{
	db->last_rc = rc;
	if (db_rc_corrupt(rc) && db->corrupt[0] == '\0')
		snprintf(db->corrupt, sizeof db->corrupt, "%s", sqlite3_errmsg(db->h));
}

/* Why the last db_open of this thread failed: the handle is gone by then. */
static _Thread_local char db_open_error[512];

static int
db_open_fail(struct db **dbp, const char *why, const char **error_r)
{
	snprintf(db_open_error, sizeof db_open_error, "%s", why);
	db_close(dbp);
	*error_r = db_open_error;
	return -1;
}

/* COLLATE fr: str_collate() on NUL-terminated copies of the two texts. */
static int
db_collate_fr(void *unused, int na, const void *a, int nb, const void *b)
{
	char *sa = xstrndup(a, (size_t)na), *sb = xstrndup(b, (size_t)nb);
	int rc = str_collate(sa, sb);

	free(sa);
	free(sb);
	return rc;
}

int
db_open(const char *path, struct db **db_r, const char **error_r)
{
	struct db *db = xcalloc(1, sizeof *db);
	const char *why = NULL;

	*db_r = NULL;
	db->last_rc = sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX, NULL);
	if (db->last_rc != SQLITE_OK)
		return db_open_fail(&db, db->h ? sqlite3_errmsg(db->h) : "cannot open database",
		    error_r);
	sqlite3_busy_timeout(db->h, 5000);
	sqlite3_create_collation_v2(db->h, "fr", SQLITE_UTF8, NULL, db_collate_fr, NULL);
	if (db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	    "PRAGMA foreign_keys=ON;") == -1 || db_migrate(db, &why) == -1)
		return db_open_fail(&db, why ? why : db_errmsg(db), error_r);
	*db_r = db;
	return 0;
}

/* PRAGMA quick_check(1): "ok", or the first problem found, into why. */
static int
db_quick_check(sqlite3 *h, char *why, size_t size)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(h, "PRAGMA quick_check(1)", -1, &st, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *r = (const char *)sqlite3_column_text(st, 0);

		if (r && strcmp(r, "ok") != 0) {
			snprintf(why, size, "%s", r);
			rc = SQLITE_CORRUPT;
		} else
			rc = SQLITE_OK;
	}
	if (db_rc_corrupt(rc) && *why == '\0')
		snprintf(why, size, "%s", sqlite3_errmsg(h));
	sqlite3_finalize(st);
	return rc;
}

int
db_check(const char *path, int thorough, const char **error_r)
{
	sqlite3 *h = NULL;
	int rc;

	db_open_error[0] = '\0';
	if (access(path, F_OK) == -1 && errno == ENOENT)
		return 0;
	rc = sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(h, "PRAGMA user_version", NULL, NULL, NULL);
	if (db_rc_corrupt(rc))
		snprintf(db_open_error, sizeof db_open_error, "%s", sqlite3_errmsg(h));
	else if (rc == SQLITE_OK && thorough)
		rc = db_quick_check(h, db_open_error, sizeof db_open_error);
	sqlite3_close_v2(h);
	*error_r = db_open_error;
	return db_rc_corrupt(rc) ? -1 : 1;
}

const char *
db_corrupt(struct db *db)
{
	return db->corrupt[0] ? db->corrupt : NULL;
}

void
db_close(struct db **dbp)
{
	if (*dbp == NULL)
		return;
	for (int i = 0; i < DB_CACHE; i++) {
		sqlite3_finalize((*dbp)->cache[i].st);
		free((*dbp)->cache[i].sql);
	}
	sqlite3_close_v2((*dbp)->h);
	free(*dbp);
	*dbp = NULL;
}

/* The connection's message, unless a later call (a reset after a failed
 * bind) replaced it: then the text of the code we kept. */
const char *
db_errmsg(struct db *db)
{
	int ec = sqlite3_errcode(db->h);

	if (db->last_rc != SQLITE_OK && (ec & 0xff) != (db->last_rc & 0xff))
		return sqlite3_errstr(db->last_rc);
	return sqlite3_errmsg(db->h);
}

int
db_tempfail(struct db *db)
{
	int rc = db->last_rc & 0xff;

	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED || rc == SQLITE_FULL ||
	    rc == SQLITE_IOERR || rc == SQLITE_CANTOPEN || rc == SQLITE_NOMEM;
}

int
db_exec(struct db *db, const char *sql)
{
	db_note(db, sqlite3_exec(db->h, sql, NULL, NULL, NULL));
	return db->last_rc == SQLITE_OK ? 0 : -1;
}

/*
 * Transactions nest: the outermost db_begin() is BEGIN IMMEDIATE (the write
 * lock is taken at once, so a rule checked inside cannot be raced), inner
 * ones are savepoints, so a module that needs a transaction can take one
 * whether or not its caller already has.
 */
int
db_begin(struct db *db)
{
	char sql[32];

	if (db->depth == 0) {
		if (db_exec(db, "BEGIN IMMEDIATE") == -1)
			return -1;
	} else {
		snprintf(sql, sizeof sql, "SAVEPOINT sp%d", db->depth);
		if (db_exec(db, sql) == -1)
			return -1;
	}
	db->depth++;
	return 0;
}

int
db_commit(struct db *db)
{
	char sql[32];

	if (db->depth <= 1) {
		if (db_exec(db, "COMMIT") == -1)
			return -1;	/* still open: the caller rolls back */
		db->depth = 0;
		return 0;
	}
	db->depth--;
	snprintf(sql, sizeof sql, "RELEASE sp%d", db->depth);
	return db_exec(db, sql);
}

void
db_rollback(struct db *db)
{
	int saved = db->last_rc;
	char sql[64];

	if (db->depth <= 1) {
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
		db->depth = 0;
	} else {
		db->depth--;
		snprintf(sql, sizeof sql, "ROLLBACK TO sp%d; RELEASE sp%d", db->depth, db->depth);
		sqlite3_exec(db->h, sql, NULL, NULL, NULL);
	}
	db->last_rc = saved;
}

/* A statement for sql, from the cache if an idle one has this text. */
static int
db_prepare(struct db *db, const char *sql, struct db_stmt *st)
{
	struct db_cached *victim = NULL;

	for (int i = 0; i < DB_CACHE; i++) {
		struct db_cached *c = &db->cache[i];

		if (c->sql != NULL && !c->busy && strcmp(c->sql, sql) == 0) {
			c->busy = 1;
			c->used = ++db->tick;
			st->st = c->st;
			st->slot = c;
			return 0;
		}
		if (!c->busy && (victim == NULL || c->sql == NULL ||
		    (victim->sql != NULL && c->used < victim->used)))
			victim = c;
	}
	db_note(db, sqlite3_prepare_v3(db->h, sql, -1, victim ? SQLITE_PREPARE_PERSISTENT : 0,
	    &st->st, NULL));
	if (db->last_rc != SQLITE_OK)
		return -1;
	if (victim != NULL) {
		sqlite3_finalize(victim->st);
		free(victim->sql);
		victim->sql = xstrdup(sql);
		victim->st = st->st;
		victim->busy = 1;
		victim->used = ++db->tick;
		st->slot = victim;
	}
	return 0;
}

/* Bind one argument of type t at index i; SQLITE_OK or the bind's error
 * (SQLITE_TOOBIG for a text or blob over SQLite's limit, SQLITE_RANGE...). */
static int
db_bind_one(sqlite3_stmt *st, int i, char t, va_list *ap)
{
	switch (t) {
	case 's': {
		const char *s = va_arg(*ap, const char *);

		return s ? sqlite3_bind_text64(st, i, s, strlen(s), SQLITE_TRANSIENT, SQLITE_UTF8) :
		    sqlite3_bind_null(st, i);
	}
	case 'i': return sqlite3_bind_int64(st, i, va_arg(*ap, int64_t));
	case 'd': return sqlite3_bind_int(st, i, va_arg(*ap, int));
	case 'n': return sqlite3_bind_null(st, i);
	case 'b': {
		const void *p = va_arg(*ap, const void *);
		size_t len = va_arg(*ap, size_t);

		return sqlite3_bind_blob64(st, i, p, len, SQLITE_TRANSIENT);
	}
	default: abort();
	}
}

static struct db_stmt *
db_vquery(struct db *db, const char *sql, const char *types, va_list ap)
{
	struct db_stmt *st = xcalloc(1, sizeof *st);
	va_list aq;
	int i = 1;

	st->db = db;
	if (db_prepare(db, sql, st) == -1) {
		if ((db->last_rc & 0xff) != SQLITE_BUSY)
			log_warnx("db: prepare failed: %s: %s", sqlite3_errmsg(db->h), sql);
		free(st);
		return NULL;
	}
	va_copy(aq, ap);
	for (const char *t = types; *t; t++, i++)
		if ((db->last_rc = db_bind_one(st->st, i, *t, &aq)) != SQLITE_OK) {
			/* A value too big (a body over SQLite's 1 GB limit) must never
			 * be stored as NULL: the whole statement fails. */
			log_warnx("db: bind %d failed: %s: %s", i, sqlite3_errstr(db->last_rc), sql);
			db_finalize(&st);
			break;
		}
	va_end(aq);
	return st;
}

struct db_stmt *
db_query(struct db *db, const char *sql, const char *types, ...)
{
	struct db_stmt *st;
	va_list ap;

	va_start(ap, types);
	st = db_vquery(db, sql, types, ap);
	va_end(ap);
	return st;
}

int
db_step(struct db_stmt *st)
{
	int rc = sqlite3_step(st->st);

	db_note(st->db, rc);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return -1;
}

void
db_finalize(struct db_stmt **stp)
{
	if (*stp == NULL)
		return;
	if ((*stp)->slot != NULL) {
		sqlite3_reset((*stp)->st);
		sqlite3_clear_bindings((*stp)->st);
		(*stp)->slot->busy = 0;
	} else
		sqlite3_finalize((*stp)->st);
	free(*stp);
	*stp = NULL;
}

int
db_run(struct db *db, const char *sql, const char *types, ...)
{
	struct db_stmt *st;
	va_list ap;
	int rc;

	va_start(ap, types);
	st = db_vquery(db, sql, types, ap);
	va_end(ap);
	if (st == NULL)
		return -1;
	while ((rc = db_step(st)) == 1)
		;
	db_finalize(&st);
	return rc;
}

int
db_vint(struct db *db, int64_t *v_r, const char *sql, const char *types, va_list ap)
{
	struct db_stmt *st = db_vquery(db, sql, types, ap);
	int rc;

	*v_r = 0;
	if (st == NULL)
		return -1;
	rc = db_step(st);
	if (rc == 1 && sqlite3_column_type(st->st, 0) != SQLITE_NULL)
		*v_r = sqlite3_column_int64(st->st, 0);
	else if (rc == 1)
		rc = 0;
	db_finalize(&st);
	return rc;
}

int
db_int(struct db *db, int64_t *v_r, const char *sql, const char *types, ...)
{
	va_list ap;
	int rc;

	va_start(ap, types);
	rc = db_vint(db, v_r, sql, types, ap);
	va_end(ap);
	return rc;
}

char *
db_str(struct db *db, const char *sql, const char *types, ...)
{
	struct db_stmt *st;
	va_list ap;
	char *v = NULL;

	va_start(ap, types);
	st = db_vquery(db, sql, types, ap);
	va_end(ap);
	if (st == NULL)
		return NULL;
	if (db_step(st) == 1 && sqlite3_column_type(st->st, 0) != SQLITE_NULL)
		v = xstrdup((const char *)sqlite3_column_text(st->st, 0));
	db_finalize(&st);
	return v;
}

int64_t
db_col_int(struct db_stmt *st, int col)
{
	return sqlite3_column_int64(st->st, col);
}

const char *
db_col_text(struct db_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st->st, col);

	return s ? (const char *)s : "";
}

const void *
db_col_blob(struct db_stmt *st, int col, size_t *len_r)
{
	const void *p = sqlite3_column_blob(st->st, col);

	*len_r = (size_t)sqlite3_column_bytes(st->st, col);
	return p;
}

int
db_col_null(struct db_stmt *st, int col)
{
	return sqlite3_column_type(st->st, col) == SQLITE_NULL;
}

int64_t
db_last_id(struct db *db)
{
	return sqlite3_last_insert_rowid(db->h);
}

int
db_changes(struct db *db)
{
	return sqlite3_changes(db->h);
}

int
db_col_count(struct db_stmt *st)
{
	return sqlite3_column_count(st->st);
}

const char *
db_col_name(struct db_stmt *st, int col)
{
	return sqlite3_column_name(st->st, col);
}

int
db_col_is_int(struct db_stmt *st, int col)
{
	return sqlite3_column_type(st->st, col) == SQLITE_INTEGER;
}
