/*
 * db.h — the SQLite adapter: the only module that includes <sqlite3.h>.
 *
 * One struct db per thread (SQLite connections must not be shared without
 * care); WAL journal, synchronous=NORMAL for the state of deliveries
 * (a commit survives a process crash; the spool files themselves are
 * fsync'ed by spool.c, so a power cut loses at most the last delivery
 * rows, which the queue runner redoes), busy timeout 5 s, foreign keys on.
 * The schema is migrated on open by PRAGMA user_version (schema.c).
 *
 * Statements: db_query() prepares and binds in one call with a type string:
 * 's' text, 'i' int64, 'd' int, 'n' NULL, 'b' blob (pointer, size_t len).
 * db_step() returns 1 (row), 0 (done) or -1 (error: db_errmsg, db_busy).
 */
#ifndef MLISTD_DB_H
#define MLISTD_DB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct db_stmt;

/* Open (create when missing) and migrate. On failure -1, *db_r NULL and
 * *error_r valid until the next db_open/db_check of this thread. */
int db_open(const char *path, struct db **db_r, const char **error_r);
/* Every connection db_open makes knows the collation "fr" (str_collate_key,
 * util.h): ORDER BY name COLLATE fr sorts as a French reader expects. Only
 * in queries, never in the schema (the sqlite3 shell must still read the
 * file). */
/* Without creating anything: 0 when path does not exist, -1 when the file
 * is damaged (*error_r says how; thorough reads every page with PRAGMA
 * quick_check), 1 otherwise (another failure is for db_open to report). */
int db_check(const char *path, int thorough, const char **error_r);
void db_close(struct db **db);
const char *db_errmsg(struct db *db);
/* Was the last failure "database busy/locked" or "disk full" (temporary)? */
int db_tempfail(struct db *db);
/* Has any call on this connection met a damaged database file
 * (SQLITE_CORRUPT, SQLITE_NOTADB)? SQLite's words the first time, NULL
 * when never. Sticky: the daemon stops on it (exit 65) instead of
 * deferring message after message for a disk fault. */
const char *db_corrupt(struct db *db);

int db_exec(struct db *db, const char *sql);	/* several statements, no rows */
int db_begin(struct db *db);			/* BEGIN IMMEDIATE */
int db_commit(struct db *db);
void db_rollback(struct db *db);

/* Prepare + bind; NULL on error. Free with db_finalize. */
struct db_stmt *db_query(struct db *db, const char *sql, const char *types, ...);
int db_step(struct db_stmt *st);
void db_finalize(struct db_stmt **st);
/* Run a statement that returns no row: 0 or -1. */
int db_run(struct db *db, const char *sql, const char *types, ...);
/* First column of the first row as an integer in *v_r: 1 when there is a
 * row with a value, 0 when no row or a NULL (*v_r = 0), -1 on error
 * (*v_r = 0; db_errmsg, db_tempfail say why). */
int db_int(struct db *db, int64_t *v_r, const char *sql, const char *types, ...);
int db_vint(struct db *db, int64_t *v_r, const char *sql, const char *types, va_list ap);
/* First column of the first row as a new string, NULL when no row. */
char *db_str(struct db *db, const char *sql, const char *types, ...);

int64_t db_col_int(struct db_stmt *st, int col);
const char *db_col_text(struct db_stmt *st, int col);	/* "" for NULL; valid until next step */
const void *db_col_blob(struct db_stmt *st, int col, size_t *len_r);
int db_col_null(struct db_stmt *st, int col);
int db_col_count(struct db_stmt *st);
const char *db_col_name(struct db_stmt *st, int col);
int db_col_is_int(struct db_stmt *st, int col);
int64_t db_last_id(struct db *db);
int db_changes(struct db *db);

/* Schema (schema.c): the migrations, applied in order by db_open. */
extern const char *const db_migrations[];
extern const int db_nmigrations;

#endif
