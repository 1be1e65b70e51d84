/*
 * test_db.c — the SQLite adapter: db_int's three outcomes, a value too big
 * to bind is an error (never stored as NULL or empty), a failed open
 * leaves nothing to close, a damaged file is reported as corrupt.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "db.h"
#include "testlib.h"
#include "util.h"

struct fx {
	char		 dir[TEST_DIR_SIZE];
	char		*path;
	struct db	*db;
};

static int
setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof *fx);

	fx->db = test_db_open(fx->dir, "db");
	fx->path = xasprintf("%s/mlistd.db", fx->dir);
	assert_int_equal(db_exec(fx->db, "CREATE TABLE t (k INTEGER, v INTEGER, b BLOB)"), 0);
	assert_int_equal(db_run(fx->db, "INSERT INTO t (k, v) VALUES (1, 42), (2, NULL)", ""), 0);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	test_db_close(fx->dir, &fx->db);
	free(fx->path);
	free(fx);
	return 0;
}

/* 1 with the value, 0 for no row and for NULL (value 0), -1 on error. */
static void
test_int_outcomes(void **state)
{
	struct fx *fx = *state;
	static const struct {
		const char	*sql;
		int		 rc;
		int64_t		 v;
	} cases[] = {
		{ "SELECT v FROM t WHERE k = 1", 1, 42 },
		{ "SELECT v FROM t WHERE k = 2", 0, 0 },	/* NULL */
		{ "SELECT v FROM t WHERE k = 3", 0, 0 },	/* no row */
		{ "SELECT count(*) FROM t WHERE k = 3", 1, 0 },
		{ "SELECT -1", 1, -1 },		/* a value, not an error */
		{ "SELECT v FROM no_such_table", -1, 0 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t v = 7;

		assert_int_equal(db_int(fx->db, &v, cases[i].sql, ""), cases[i].rc);
		assert_int_equal(v, cases[i].v);
	}
}

/* A blob over SQLite's length limit (1 GB) fails the statement: without the
 * bind's result checked, the row was written with an empty body. The
 * region is reserved, never touched: SQLite refuses before reading it. */
static void
test_bind_too_big(void **state)
{
	struct fx *fx = *state;
	size_t len = (size_t)1000000001;
	void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	int64_t n;

	assert_true(p != MAP_FAILED);
	assert_int_equal(db_run(fx->db, "INSERT INTO t (k, b) VALUES (9, ?)", "b", p, len), -1);
	assert_non_null(strstr(db_errmsg(fx->db), "too big"));
	assert_false(db_tempfail(fx->db));
	assert_null(db_query(fx->db, "SELECT ? || 'x'", "b", p, len));
	assert_int_equal(db_int(fx->db, &n, "SELECT count(*) FROM t WHERE k = 9", ""), 1);
	assert_int_equal(n, 0);		/* nothing stored */
	munmap(p, len);
}

/* A database that cannot be opened: -1, a message, no handle to close
 * (LeakSanitizer checks nothing is left). */
static void
test_open_fails_cleanly(void **state)
{
	struct fx *fx = *state;
	char *path = xasprintf("%s/no/such/dir/mlistd.db", fx->dir);
	struct db *db = (struct db *)path;	/* overwritten */
	const char *err = NULL;

	assert_int_equal(db_open(path, &db, &err), -1);
	assert_null(db);
	assert_non_null(err);
	assert_non_null(strstr(err, "unable to open"));
	free(path);
}

/* Zero page n (1-based) of the file at path. */
static void
damage_page(const char *path, int64_t n, int64_t psize)
{
	FILE *fp = fopen(path, "r+b");
	char *zero = xcalloc(1, (size_t)psize);

	assert_non_null(fp);
	assert_int_equal(fseek(fp, (long)((n - 1) * psize), SEEK_SET), 0);
	assert_int_equal(fwrite(zero, 1, (size_t)psize, fp), (size_t)psize);
	fclose(fp);
	free(zero);
}

/* A damaged header or page: db_check says so (a page only when thorough),
 * and a connection that meets one remembers it (the daemon stops on it). */
static void
test_damage_found(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;
	int64_t root, psize, v;

	assert_int_equal(db_exec(fx->db, "CREATE TABLE big (x BLOB);"
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)"
	    " INSERT INTO big SELECT randomblob(200) FROM n;"), 0);
	assert_int_equal(db_int(fx->db, &root, "SELECT rootpage FROM sqlite_schema WHERE"
	    " name = 'big'", ""), 1);
	assert_int_equal(db_int(fx->db, &psize, "PRAGMA page_size", ""), 1);
	db_close(&fx->db);
	assert_int_equal(db_check(fx->path, 1, &err), 1);
	damage_page(fx->path, root, psize);	/* the table's interior page */
	assert_int_equal(db_check(fx->path, 0, &err), 1);	/* header still fine */
	assert_int_equal(db_check(fx->path, 1, &err), -1);
	assert_true(*err != '\0');
	assert_int_equal(db_open(fx->path, &fx->db, &err), 0);
	assert_null(db_corrupt(fx->db));
	assert_int_equal(db_int(fx->db, &v, "SELECT sum(length(x)) FROM big", ""), -1);
	assert_non_null(db_corrupt(fx->db));
	assert_int_equal(db_int(fx->db, &v, "SELECT 1", ""), 1);
	assert_non_null(strstr(db_corrupt(fx->db), "malformed"));	/* sticky */
	db_close(&fx->db);
	damage_page(fx->path, 1, 100);		/* the header */
	assert_int_equal(db_check(fx->path, 0, &err), -1);
	assert_non_null(strstr(err, "not a database"));
	assert_int_equal(db_open(fx->path, &fx->db, &err), -1);
	assert_null(fx->db);
	assert_int_equal(db_check("/nonexistent/mlistd.db", 1, &err), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_int_outcomes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_fails_cleanly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damage_found, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
