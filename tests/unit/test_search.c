/* test_search.c — the archive index: accents and case ignored both ways,
 * every word required, best match first, FTS5 syntax in the words harmless. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "search.h"
#include "testlib.h"
#include "util.h"

struct fx {
	char		 dir[TEST_DIR_SIZE];
	struct db	*db;
};

static int
setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof *fx);

	fx->db = test_db_open(fx->dir, "search");
	assert_int_equal(search_index(fx->db, "bulletin", "3/12", "2026-03-02", "Comité de Rennes",
	    "Élection du trésorier", "Le nouveau trésorier a été élu à l'unanimité."), 0);
	assert_int_equal(search_index(fx->db, "broadcast", "a1b2c3", "2026-02-10", NULL,
	    "Assemblée générale", "Rappel : l'assemblée générale aura lieu à Paris. Le trésorier"
	    " présentera les comptes."), 0);
	assert_int_equal(search_index(fx->db, "bulletin", "3/13", "2026-03-05", "Comité de Brest",
	    "Fête de quartier", "Une belle fête avec les voisins."), 0);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	test_db_close(fx->dir, &fx->db);
	free(fx);
	return 0;
}

/* Run a query into a string. */
static char *
query(struct fx *fx, const char *words, int limit, int *n_r)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	*n_r = search_query(fx->db, words, limit, f);
	fclose(f);
	return out;
}

static void
test_accents(void **state)
{
	struct fx *fx = *state;
	char *out;
	int n;

	out = query(fx, "tresorier", 10, &n);
	assert_int_equal(n, 2);
	/* Title and committee count: the bulletin entry about the treasurer ranks first. */
	assert_true(strstr(out, "3/12") < strstr(out, "a1b2c3"));
	assert_non_null(strstr(out, "2026-03-02  bulletin 3/12  Comité de Rennes\n"));
	assert_non_null(strstr(out, "[trésorier]"));
	free(out);
	out = query(fx, "TRÉSORIER élu", 10, &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(out, "Élection du trésorier"));
	free(out);
	out = query(fx, "fete", 10, &n);
	assert_int_equal(n, 1);
	free(out);
	out = query(fx, "tresorier", 1, &n);
	assert_int_equal(n, 1);
	free(out);
}

static void
test_syntax(void **state)
{
	struct fx *fx = *state;
	static const char *const hostile[] = { "\"", "tresorier OR", "NEAR(", "*", "a:b",
	    "tr\"esorier", "AND", "-", "(", "^x" };
	char *out;
	int n;

	for (size_t i = 0; i < nitems(hostile); i++) {
		out = query(fx, hostile[i], 10, &n);
		assert_true(n >= 0);
		free(out);
	}
	out = query(fx, "tresorier OR", 10, &n);	/* "OR" is a word here: no match */
	assert_int_equal(n, 0);
	free(out);
	out = query(fx, "   ", 10, &n);
	assert_int_equal(n, 0);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_accents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
