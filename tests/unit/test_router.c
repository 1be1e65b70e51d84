/*
 * test_router.c — the handler contract (engine_run: all or nothing, a
 * spool file's recipient handled once) and the router (a crash between
 * the commit and the unlink files nothing twice; one message's failure
 * stops nothing behind it), on a temporary data directory with the real
 * handlers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "db.h"
#include "engine.h"
#include "roster.h"
#include "router.h"
#include "spool.h"
#include "testlib.h"
#include "util.h"

struct fx {
	char		dir[TEST_DIR_SIZE];
	struct config	cf;
	struct engine	e;
};

static int
setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof *fx);

	test_env_open(fx->dir, "router", "example.org", &fx->cf, &fx->e);
	test_sender(&fx->e, "nat@example.org", "national", "Nat");
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	test_env_close(fx->dir, &fx->cf, &fx->e);
	free(fx);
	return 0;
}

static int64_t
count(struct fx *fx, const char *sql)
{
	return test_int(fx->e.db, sql, "");
}

/* ---- the contract ---- */

static int calls;

/* Writes a row, then says what the test asked for. */
static enum engine_result
txn_write(struct engine *e, const struct inmsg *in, void *arg, const char **error_r)
{
	enum engine_result r = *(enum engine_result *)arg;

	calls++;
	assert_int_equal(db_run(e->db, "INSERT INTO audit (at, what) VALUES (1, 'x')", ""), 0);
	engine_logf(e, "test=%d status=%s", calls, engine_result_name(r));
	if (r != ENGINE_DONE)
		*error_r = "the test says so";
	return r;
}

static void
test_contract(void **state)
{
	struct fx *fx = *state;
	static const char data[] = "Subject: x\n\nx\n";
	struct inmsg in = { "20260101T000000.000000-0123456789", "a@example.org",
	    "aide@example.org", "", data, sizeof data - 1 };
	enum engine_result want;
	const char *err = NULL;
	char *log;

	calls = 0;
	test_log_begin();
	for (want = ENGINE_TEMPFAIL; want <= ENGINE_CORRUPT; want++) {
		err = NULL;
		assert_int_equal(engine_run(&fx->e, &in, txn_write, &want, &err), want);
		assert_string_equal(err, "the test says so");
	}
	log = test_log_end();
	assert_null(strstr(log, "status="));	/* a rolled-back line never logged */
	free(log);
	/* nothing kept of a failure, not even the handled row */
	assert_int_equal(count(fx, "SELECT count(*) FROM audit WHERE what = 'x'"), 0);
	assert_int_equal(engine_handled(&fx->e, in.spool_id, in.rcpt), 0);
	want = ENGINE_DONE;
	test_log_begin();
	assert_int_equal(engine_run(&fx->e, &in, txn_write, &want, &err), ENGINE_DONE);
	log = test_log_end();
	assert_non_null(strstr(log, "test=4 status=done\n"));	/* after the commit */
	free(log);
	assert_int_equal(engine_handled(&fx->e, in.spool_id, in.rcpt), 1);
	/* handled once: a second run does not call the handler */
	assert_int_equal(engine_run(&fx->e, &in, txn_write, &want, &err), ENGINE_DONE);
	assert_int_equal(calls, 4);
	assert_int_equal(count(fx, "SELECT count(*) FROM audit WHERE what = 'x'"), 1);
	/* another recipient of the same file is another handling */
	in.rcpt = "bulletin@example.org";
	assert_int_equal(engine_handled(&fx->e, in.spool_id, in.rcpt), 0);
	assert_int_equal(engine_forget(&fx->e, in.spool_id), 0);
	assert_int_equal(engine_handled(&fx->e, in.spool_id, "aide@example.org"), 0);
	/* unparsable: corrupt, and the handler never runs */
	in.data = "";
	in.len = 0;
	assert_int_equal(engine_run_parsed(&fx->e, &in, NULL, &err), ENGINE_CORRUPT);
	assert_non_null(err);
}

/* ---- the router ---- */

static char *
spool_put(struct fx *fx, const char *sender, const char *const *rcpts, size_t n,
    const char *msg)
{
	struct spool_writer *w;
	char id[SPOOL_ID_SIZE];

	assert_int_equal(spool_writer_new(fx->e.sp, sender, rcpts, n, &w), 0);
	assert_int_equal(spool_writer_write(w, msg, strlen(msg)), 0);
	assert_int_equal(spool_writer_commit(&w, id), 0);
	return xstrdup(id);
}

static char *
mail(const char *from, const char *to, const char *subject, const char *body)
{
	static int seq;

	return xasprintf("From: <%s>\nTo: <%s>\nSubject: %s\nMessage-ID: <r%d@example.org>\n"
	    "Date: Thu, 1 Jan 2026 10:00:00 +0100\nMIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=utf-8\n\n%s\n", from, to, subject, ++seq, body);
}

static size_t
queued(struct fx *fx, enum spool_queue q)
{
	char **ids;
	size_t n;

	assert_int_equal(spool_list(fx->e.sp, q, &ids, &n), 0);
	spool_list_free(ids, n);
	return n;
}

/*
 * A report and a request in one spool file: handled, then the crash
 * between the commit and the unlink (the file comes back in active/), a
 * restart, a second pass: one submission, one acknowledgement, one answer.
 */
static void
test_crash_after_commit(void **state)
{
	struct fx *fx = *state;
	const char *rcpts[] = { "bulletin@example.org", "aide@example.org" };
	char *msg = mail("nat@example.org", "bulletin@example.org", "Fête du quartier",
	    "AIDE\n\nNous avons fait une fête.");
	char *id = spool_put(fx, "nat@example.org", rcpts, 2, msg);
	char *path = spool_path(fx->e.sp, SPOOL_INCOMING, id), *saved;

	saved = xasprintf("%s/saved", fx->dir);
	assert_int_equal(link(path, saved), 0);
	assert_int_equal(router_run(&fx->e), 1);
	assert_int_equal(count(fx, "SELECT count(*) FROM submission"), 1);
	assert_int_equal(count(fx, "SELECT count(*) FROM delivery WHERE rcpt = 'nat@example.org'"),
	    2);
	/* the crash: committed, not unlinked */
	free(path);
	path = spool_path(fx->e.sp, SPOOL_ACTIVE, id);
	assert_int_equal(rename(saved, path), 0);
	router_recover(&fx->e);
	assert_int_equal(queued(fx, SPOOL_INCOMING), 1);
	assert_int_equal(router_run(&fx->e), 1);
	assert_int_equal(queued(fx, SPOOL_INCOMING) + queued(fx, SPOOL_ACTIVE), 0);
	assert_int_equal(count(fx, "SELECT count(*) FROM submission"), 1);
	assert_int_equal(count(fx, "SELECT count(*) FROM delivery WHERE rcpt = 'nat@example.org'"),
	    2);
	/* the file is gone: its handled rows go at the next start */
	router_recover(&fx->e);
	assert_int_equal(count(fx, "SELECT count(*) FROM handled"), 0);
	free(saved);
	free(path);
	free(id);
	free(msg);
}

/*
 * A broadcast to every committee on an empty roster cannot work: it goes
 * to hold/ and the request and the report after it are handled.
 */
static void
test_poison_blocks_nothing(void **state)
{
	struct fx *fx = *state;
	const char *nat[] = { "national@example.org" }, *aide[] = { "aide@example.org" };
	const char *bul[] = { "bulletin@example.org" };
	char *m1 = mail("nat@example.org", nat[0], "À tous", "Bonjour à tous.");
	char *m2 = mail("nat@example.org", aide[0], "aide", "AIDE");
	char *m3 = mail("nat@example.org", bul[0], "Notre fête", "Nous avons fait une fête.");
	char *id1 = spool_put(fx, "nat@example.org", nat, 1, m1);
	char *id2 = spool_put(fx, "nat@example.org", aide, 1, m2);
	char *id3 = spool_put(fx, "nat@example.org", bul, 1, m3);

	struct spool_note n;

	assert_int_equal(router_run(&fx->e), 3);
	assert_int_equal(queued(fx, SPOOL_INCOMING) + queued(fx, SPOOL_ACTIVE), 0);
	assert_int_equal(queued(fx, SPOOL_HOLD), 1);
	assert_int_equal(spool_note_read(fx->e.sp, id1, &n), 1);
	assert_int_equal(n.attempts, 1);
	assert_non_null(strstr(n.reason, "roster has none"));
	assert_int_equal(count(fx, "SELECT count(*) FROM delivery WHERE rcpt ="
	    " 'postmaster@example.org'"), 1);
	assert_int_equal(count(fx, "SELECT count(*) FROM message WHERE kind = 'broadcast'"), 0);
	assert_int_equal(count(fx, "SELECT count(*) FROM submission"), 1);
	assert_int_equal(count(fx, "SELECT count(*) FROM message m JOIN delivery d ON"
	    " d.message_id = m.id WHERE m.kind = 'notice' AND d.rcpt = 'nat@example.org'"), 2);
	free(id1);
	free(id2);
	free(id3);
	free(m1);
	free(m2);
	free(m3);
}

/* A copy of the French templates without the one a poison message needs. */
static void
templates_without(struct fx *fx, const char *name)
{
	char *dir = xasprintf("%s/tpl", fx->dir), *cmd, *gone;

	cmd = xasprintf("mkdir -p %s && cp -r templates/fr %s/", dir, dir);
	assert_int_equal(system(cmd), 0);
	gone = xasprintf("%s/fr/%s", dir, name);
	assert_int_equal(unlink(gone), 0);
	test_set(&fx->cf.templates_dir, dir);
	free(gone);
	free(cmd);
	free(dir);
}

/*
 * A message whose handler fails for the time being (a notice it must send
 * has no template) is retried on its own, with back-off, while the others
 * are handled; after handler_max_attempts it goes to hold/ and the
 * postmaster is told once.
 */
static void
test_poison_backoff(void **state)
{
	struct fx *fx = *state;
	const char *nat[] = { "national+nowhere@example.org" }, *aide[] = { "aide@example.org" };
	char *m1 = mail("nat@example.org", nat[0], "À personne", "Bonjour.");
	char *m2 = mail("nat@example.org", aide[0], "aide", "AIDE"), *m3;
	char *id1 = spool_put(fx, "nat@example.org", nat, 1, m1), *id2, *id3;
	struct spool_note n;

	templates_without(fx, "broadcast-unknown-target.txt");
	fx->cf.handler_max_attempts = 3;
	fx->cf.handler_retry_min = 60;
	id2 = spool_put(fx, "nat@example.org", aide, 1, m2);
	assert_int_equal(router_run(&fx->e), 1);		/* the request */
	assert_int_equal(queued(fx, SPOOL_DEFERRED), 1);
	assert_int_equal(spool_note_read(fx->e.sp, id1, &n), 1);
	assert_int_equal(n.attempts, 1);
	assert_true(n.next_try >= now() + 59 && n.next_try <= now() + 61);
	assert_string_equal(n.reason, "notice broadcast-unknown-target: template not found");
	/* not due: left alone, and a new message goes by */
	m3 = mail("nat@example.org", aide[0], "aide", "AIDE");
	id3 = spool_put(fx, "nat@example.org", aide, 1, m3);
	assert_int_equal(router_run(&fx->e), 1);
	assert_int_equal(spool_note_read(fx->e.sp, id1, &n), 1);
	assert_int_equal(n.attempts, 1);
	/* due at every pass from now on */
	fx->cf.handler_retry_min = 0;
	n.next_try = 0;
	assert_int_equal(spool_note_write(fx->e.sp, id1, &n), 0);
	assert_int_equal(router_run(&fx->e), 0);
	assert_int_equal(queued(fx, SPOOL_DEFERRED), 1);
	assert_int_equal(router_run(&fx->e), 1);		/* the third failure: held */
	assert_int_equal(queued(fx, SPOOL_DEFERRED), 0);
	assert_int_equal(queued(fx, SPOOL_HOLD), 1);
	assert_int_equal(spool_note_read(fx->e.sp, id1, &n), 1);
	assert_int_equal(n.attempts, 3);
	assert_int_equal(router_run(&fx->e), 0);
	assert_int_equal(count(fx, "SELECT count(*) FROM message WHERE kind = 'broadcast'"), 0);
	assert_int_equal(count(fx, "SELECT count(*) FROM delivery WHERE rcpt ="
	    " 'postmaster@example.org'"), 1);
	assert_int_equal(count(fx, "SELECT count(*) FROM delivery WHERE rcpt ="
	    " 'nat@example.org'"), 2);
	free(id1);
	free(id2);
	free(id3);
	free(m1);
	free(m2);
	free(m3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_contract, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_after_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poison_blocks_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poison_backoff, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
