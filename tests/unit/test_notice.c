/*
 * test_notice.c — notice_send's three outcomes (notice.h): 1 queued, 0 not
 * sent because of the rate limit, -1 with a reason; and answer_notice's 0
 * for a sender it does not answer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "config.h"
#include "engine.h"
#include "mime.h"
#include "notice.h"
#include "testlib.h"
#include "util.h"

static const char *const vars[] = { "SUBJECT", "x", "TOKEN", "t", "CONFIRM_ADDRESS", "c",
    "TARGET", "*", NULL };

static int64_t
queued(struct engine *e, const char *rcpt)
{
	return test_int(e->db, "SELECT count(*) FROM delivery WHERE rcpt = ?", "s", rcpt);
}

static void
test_outcomes(void **state)
{
	struct config cf;
	struct engine e;
	char dir[TEST_DIR_SIZE];
	const char *err = NULL;

	test_env_open(dir, "notice", "example.org", &cf, &e);
	cf.max_autoresponses_per_day = 2;
	assert_int_equal(notice_send(&e, "broadcast-confirm", "a@example.org", vars, &err), 1);
	assert_int_equal(notice_send(&e, "broadcast-confirm", "a@example.org", vars, &err), 1);
	assert_int_equal(notice_send(&e, "broadcast-confirm", "a@example.org", vars, &err), 0);
	assert_int_equal(queued(&e, "a@example.org"), 2);
	assert_int_equal(notice_send(&e, "no-such-notice", "b@example.org", vars, &err), -1);
	assert_non_null(strstr(err, "no-such-notice"));
	assert_int_equal(queued(&e, "b@example.org"), 0);
	test_env_close(dir, &cf, &e);
}

/* A From neither the envelope sender nor known, no proof: withheld, 0. */
static void
test_withheld(void **state)
{
	static const char msg[] = "From: <victim@example.net>\nSubject: x\n\nx\n";
	struct config cf;
	struct engine e;
	struct mime_msg *m;
	char dir[TEST_DIR_SIZE];
	const char *err = NULL;

	test_env_open(dir, "notice", "example.org", &cf, &e);
	assert_int_equal(mime_parse(msg, sizeof msg - 1, &m, &err), 0);
	assert_int_equal(answer_notice(&e, "spammer@example.com", m, "victim@example.net",
	    "broadcast-confirm", vars, NULL), 0);
	assert_int_equal(answer_notice(&e, "victim@example.net", m, "victim@example.net",
	    "broadcast-confirm", vars, NULL), 1);
	assert_int_equal(queued(&e, "victim@example.net"), 1);
	mime_free(&m);
	test_env_close(dir, &cf, &e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outcomes),
		cmocka_unit_test(test_withheld),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
