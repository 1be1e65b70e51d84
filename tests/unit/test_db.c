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
	const char *err = NULL;

	snprintf(fx->dir, sizeof fx->dir, "/tmp/mlistd-test-db-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	fx->path = xasprintf("%s/mlistd.db", fx->dir);
	assert_int_equal(db_open(fx->path, &fx->db, &err), 0);
	assert_int_equal(db_exec(fx->db, "CREATE TABLE t (k INTEGER, v INTEGER, b BLOB)"), 0);
	assert_int_equal(db_run(fx->db, "INSERT INTO t (k, v) VALUES (1, 42), (2, NULL)", ""), 0);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	char *cmd = xasprintf("rm -rf %s", fx->dir);

	db_close(&fx->db);
	assert_int_equal(system(cmd), 0);
	free(cmd);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_int_outcomes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_fails_cleanly, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
