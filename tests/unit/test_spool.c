/*
 * test_spool.c — the on-disk queue: write/commit/list/read/move/abort,
 * envelope validation, corrupt files, tmp/ cleanup. Each test works in a
 * fresh temporary directory removed afterwards.
 */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>
#include <cmocka.h>

#include "spool.h"
#include "util.h"

struct fx {
	char		 root[256];
	struct spool	*sp;
};

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);
	const char *err = NULL;
	const char *tmp = getenv("TMPDIR");

	snprintf(f->root, sizeof f->root, "%s/mlistd-spool-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(f->root) == NULL)
		return -1;
	strcat(f->root, "/spool");	/* let spool_open create it */
	if (spool_open(f->root, &f->sp, &err) == -1)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	spool_close(&f->sp);
	*strrchr(f->root, '/') = '\0';
	nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static size_t
queue_count(struct fx *f, enum spool_queue q)
{
	char **ids;
	size_t n;

	assert_int_equal(spool_list(f->sp, q, &ids, &n), 0);
	spool_list_free(ids, n);
	return n;
}

/* Commit a small message; returns its id in id_r. */
static void
commit_one(struct fx *f, const char *sender, const char *body, char id_r[SPOOL_ID_SIZE])
{
	const char *rcpts[] = { "national@example.org", "b@example.org" };
	struct spool_writer *w;

	assert_int_equal(spool_writer_new(f->sp, sender, rcpts, 2, &w), 0);
	assert_int_equal(spool_writer_write(w, body, strlen(body)), 0);
	assert_int_equal(spool_writer_size(w), strlen(body));
	assert_int_equal(spool_writer_commit(&w, id_r), 0);
	assert_null(w);
}

static void
test_open_creates_dirs(void **state)
{
	struct fx *f = *state;
	static const char *const sub[] = { "tmp", "incoming", "active", "deferred", "hold", "corrupt" };
	const char *err = NULL;
	struct spool *again;
	struct stat st;

	for (size_t i = 0; i < nitems(sub); i++) {
		char *p = xasprintf("%s/%s", f->root, sub[i]);

		assert_int_equal(stat(p, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
		free(p);
	}
	assert_int_equal(spool_open(f->root, &again, &err), 0);	/* idempotent */
	spool_close(&again);
	assert_null(again);
}

static void
test_write_commit_read(void **state)
{
	struct fx *f = *state;
	const char *body = "Subject: hello\n\nfirst line\nsecond line\n";
	const char *err = NULL;
	struct spool_msg *m;
	char id[SPOOL_ID_SIZE], **ids;
	size_t n;

	commit_one(f, "a@example.org", body, id);
	assert_true(spool_id_valid(id));
	assert_int_equal(queue_count(f, SPOOL_TMP), 0);
	assert_int_equal(spool_list(f->sp, SPOOL_INCOMING, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], id);
	spool_list_free(ids, n);

	assert_int_equal(spool_read(f->sp, SPOOL_INCOMING, id, &m, &err), 0);
	assert_string_equal(m->id, id);
	assert_string_equal(m->sender, "a@example.org");
	assert_int_equal(m->nrcpt, 2);
	assert_string_equal(m->rcpts[0], "national@example.org");
	assert_string_equal(m->rcpts[1], "b@example.org");
	assert_int_equal(m->len, strlen(body));
	assert_memory_equal(m->data, body, m->len);
	spool_msg_free(&m);
	assert_null(m);
}

static void
test_file_format(void **state)
{
	struct fx *f = *state;
	char id[SPOOL_ID_SIZE], *path, *data;
	size_t len;
	const char *expect = "MLISTD 1\nsender <>\nrcpt <national@example.org>\n"
	    "rcpt <b@example.org>\n\nbody\n";

	commit_one(f, "", "body\n", id);
	path = spool_path(f->sp, SPOOL_INCOMING, id);
	assert_non_null(path);
	assert_int_equal(file_read(path, 4096, &data, &len), 0);
	assert_int_equal(len, strlen(expect));
	assert_memory_equal(data, expect, len);
	free(data);
	free(path);
}

static void
test_envelope_rejected(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *sender, *rcpt;
		size_t nrcpt;
	} cases[] = {
		{ "a\r@example.org", "national@example.org", 1 },
		{ "a\n@example.org", "national@example.org", 1 },
		{ "a@example.org", "nat\nional@example.org", 1 },
		{ "a@example.org", "national@example.org\r", 1 },
		{ "a@example.org", "", 1 },
		{ "a@example.org", "national@example.org", 0 },
	};
	struct spool_writer *w = NULL;

	for (size_t i = 0; i < nitems(cases); i++) {
		const char *rcpts[] = { cases[i].rcpt };

		errno = 0;
		assert_int_equal(spool_writer_new(f->sp, cases[i].sender, rcpts, cases[i].nrcpt, &w), -1);
		assert_int_equal(errno, EINVAL);
	}
	assert_int_equal(queue_count(f, SPOOL_TMP), 0);
}

static void
test_abort(void **state)
{
	struct fx *f = *state;
	const char *rcpts[] = { "national@example.org" };
	struct spool_writer *w;

	assert_int_equal(spool_writer_new(f->sp, "a@example.org", rcpts, 1, &w), 0);
	assert_int_equal(queue_count(f, SPOOL_TMP), 1);
	assert_int_equal(spool_writer_write(w, "x", 1), 0);
	spool_writer_abort(&w);
	assert_null(w);
	spool_writer_abort(&w);	/* NULL is fine */
	assert_int_equal(queue_count(f, SPOOL_TMP), 0);
	assert_int_equal(queue_count(f, SPOOL_INCOMING), 0);
}

static void
test_commit_failure_leaves_nothing(void **state)
{
	struct fx *f = *state;
	const char *rcpts[] = { "national@example.org" };
	struct spool_writer *w;
	char id[SPOOL_ID_SIZE], *incoming = xasprintf("%s/incoming", f->root);

	assert_int_equal(spool_writer_new(f->sp, "a@example.org", rcpts, 1, &w), 0);
	assert_int_equal(rmdir(incoming), 0);	/* rename will fail */
	assert_int_equal(spool_writer_commit(&w, id), -1);
	assert_int_equal(errno, ENOENT);
	assert_null(w);
	assert_int_equal(queue_count(f, SPOOL_TMP), 0);
	assert_int_equal(mkdir(incoming, 0750), 0);
	free(incoming);
}

static void
test_move(void **state)
{
	struct fx *f = *state;
	char id[SPOOL_ID_SIZE];
	const char *err;
	struct spool_msg *m;

	commit_one(f, "a@example.org", "x\n", id);
	assert_int_equal(spool_move(f->sp, id, SPOOL_INCOMING, SPOOL_ACTIVE), 0);
	assert_int_equal(queue_count(f, SPOOL_INCOMING), 0);
	assert_int_equal(queue_count(f, SPOOL_ACTIVE), 1);
	assert_int_equal(spool_read(f->sp, SPOOL_ACTIVE, id, &m, &err), 0);
	spool_msg_free(&m);
	assert_int_equal(spool_move(f->sp, id, SPOOL_INCOMING, SPOOL_HOLD), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(spool_move(f->sp, "../../etc", SPOOL_ACTIVE, SPOOL_HOLD), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(spool_move(f->sp, id, SPOOL_ACTIVE, SPOOL_DEFERRED), 0);
	assert_int_equal(spool_move(f->sp, id, SPOOL_DEFERRED, SPOOL_CORRUPT), 0);
	assert_int_equal(queue_count(f, SPOOL_CORRUPT), 1);
}

static void
test_list_sorted_and_unique(void **state)
{
	struct fx *f = *state;
	enum { N = 50 };
	char made[N][SPOOL_ID_SIZE], **ids, *junk;
	size_t n;

	for (int i = 0; i < N; i++)
		commit_one(f, "a@example.org", "x\n", made[i]);
	junk = xasprintf("%s/incoming/.hidden", f->root);
	assert_int_equal(file_write_durable(junk, "x", 1), 0);
	free(junk);
	assert_int_equal(spool_list(f->sp, SPOOL_INCOMING, &ids, &n), 0);
	assert_int_equal(n, N);
	for (int i = 0; i < N; i++)
		assert_string_equal(ids[i], made[i]);	/* oldest first */
	for (int i = 1; i < N; i++)
		assert_true(strcmp(ids[i - 1], ids[i]) < 0);	/* all distinct */
	spool_list_free(ids, n);
}

static void
test_corrupt_envelope(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *content;
		int ok;
	} cases[] = {
		{ "MLISTD 1\nsender <a@example.org>\nrcpt <b@example.org>\n\nbody", 1 },
		{ "MLISTD 1\nsender <>\nrcpt <b@example.org>\n\n", 1 },
		{ "", 0 },
		{ "garbage", 0 },
		{ "MLISTD 2\nsender <a@example.org>\nrcpt <b@example.org>\n\nbody", 0 },
		{ "MLISTD 1\nrcpt <b@example.org>\n\nbody", 0 },
		{ "MLISTD 1\nsender <a@example.org>\n\nbody", 0 },
		{ "MLISTD 1\nsender a@example.org\nrcpt <b@example.org>\n\nbody", 0 },
		{ "MLISTD 1\nsender <a@example.org>\nrcpt <b@example.org>\nbody", 0 },
		{ "MLISTD 1\nsender <a@example.org>\nrcpt <b@example.org>", 0 },
		{ "MLISTD 1\nsender <a@example.org>\nrcpt <b@example.org>\nX-Other: 1\n\nbody", 0 },
	};
	const char *err;
	struct spool_msg *m;

	for (size_t i = 0; i < nitems(cases); i++) {
		char *id = xasprintf("20260101T000000.000000-%010zu", i);
		char *path = spool_path(f->sp, SPOOL_INCOMING, id);

		assert_int_equal(file_write_durable(path, cases[i].content, strlen(cases[i].content)), 0);
		err = NULL;
		m = NULL;
		if (cases[i].ok) {
			assert_int_equal(spool_read(f->sp, SPOOL_INCOMING, id, &m, &err), 0);
			spool_msg_free(&m);
		} else {
			assert_int_equal(spool_read(f->sp, SPOOL_INCOMING, id, &m, &err), -1);
			assert_non_null(err);
			assert_null(m);
		}
		free(path);
		free(id);
	}
	assert_int_equal(spool_read(f->sp, SPOOL_INCOMING, "20260101T000000.000000-missing", &m, &err), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(spool_read(f->sp, SPOOL_INCOMING, "../x", &m, &err), -1);
}

static void
test_path_and_ids(void **state)
{
	struct fx *f = *state;
	char *p = spool_path(f->sp, SPOOL_HOLD, "20260101T000000.000000-0123456789");
	char *expect = xasprintf("%s/hold/20260101T000000.000000-0123456789", f->root);

	assert_string_equal(p, expect);
	free(p);
	free(expect);
	assert_null(spool_path(f->sp, SPOOL_HOLD, ""));
	assert_null(spool_path(f->sp, SPOOL_HOLD, ".."));
	assert_null(spool_path(f->sp, SPOOL_HOLD, "a/b"));
	assert_null(spool_path(f->sp, (enum spool_queue)42, "abc"));
}

static void
test_clean_tmp(void **state)
{
	struct fx *f = *state;
	char *old = xasprintf("%s/tmp/old", f->root), *fresh = xasprintf("%s/tmp/fresh", f->root);
	struct utimbuf ut = { .actime = now() - 3600, .modtime = now() - 3600 };
	char id[SPOOL_ID_SIZE];

	commit_one(f, "a@example.org", "x\n", id);	/* committed: untouched */
	assert_int_equal(file_write_durable(old, "x", 1), 0);
	assert_int_equal(file_write_durable(fresh, "x", 1), 0);
	assert_int_equal(utime(old, &ut), 0);
	assert_int_equal(spool_clean_tmp(f->sp, now() - 60), 1);
	assert_int_equal(access(old, F_OK), -1);
	assert_int_equal(access(fresh, F_OK), 0);
	assert_int_equal(queue_count(f, SPOOL_INCOMING), 1);
	free(old);
	free(fresh);
}

static void
test_open_fails(void **state)
{
	struct spool *sp = NULL;
	const char *err = NULL;

	assert_int_equal(spool_open("/dev/null/spool", &sp, &err), -1);
	assert_non_null(err);
	assert_null(sp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_creates_dirs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_commit_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_envelope_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_failure_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_sorted_and_unique, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_envelope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_and_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clean_tmp, setup, teardown),
		cmocka_unit_test(test_open_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
