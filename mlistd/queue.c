/*
 * queue.c — the delivery runner (see queue.h).
 *
 * Due rows are read in chunks (QUEUE_CHUNK) so memory stays flat whatever
 * the roster size; a chunk's messages share one body buffer per message,
 * only the envelope differs (VERP reverse path per contact).
 *
 * Outcomes are durable per SMTP transaction: queue_done() returns only once
 * the outcome of a sent message is committed, and libesmtp starts the next
 * transaction on that connection only after it returns. So a crash (kill -9)
 * re-sends at most the transactions in flight, one per connection
 * (smtp_connections), never a batch. The commits are group commits on the
 * relay's own thread: the connection (a fiber, fiber.h) that waits for its
 * outcome parks, the others go on with their sessions, and when no
 * connection can go on (all wait for their server or are parked) the
 * scheduler's idle function (queue_idle()) records every outcome pending in
 * one transaction and lets the parked ones go on. No thread hand-off, so no
 * wake-up latency per message; one commit per round of the connections.
 * Without fibers (the relay's fallback, one thread per connection), each
 * connection records under the lock what is pending, its own outcome with.
 * Why a commit without fsync is enough: the database is in WAL mode with
 * synchronous=NORMAL (db.c). A transaction is then in the WAL file, in the
 * kernel's page cache, when COMMIT returns: it survives the death of the
 * process, whatever the signal; only a power loss or a kernel crash can
 * lose the transactions since the last checkpoint's fsync, and then their
 * messages are sent again (at-least-once, as with any MTA). An fsync per
 * commit (synchronous=FULL) would cost milliseconds per transaction.
 * Deferred and failed outcomes are not waited for (sending those again
 * after a crash sends nothing twice): they are recorded with the next group.
 *
 * Provider limits (smtp_rate_per_minute, smtp_rate_per_hour; 0 = none):
 * before each chunk, the deliveries attempted in the last 60 s / 3600 s
 * (rows whose outcome was recorded then: sent, deferred or failed) are
 * counted and only the allowance is taken; the other due rows keep their
 * state and get a next_try in the window that will admit them (row k of
 * the waiting ones: one minute per smtp_rate_per_minute rows, and after
 * the hour's oldest attempt when the hourly limit binds), so the runner
 * sleeps until then and "mlistctl status" can tell when the last contact
 * will be served. The estimate is re-checked at each run.
 * smtp_max_rcpt_per_transaction: every message goes to one recipient per
 * transaction, because each contact has its own VERP return path; the
 * setting would only matter for mail without VERP, and there is none.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "engine.h"
#include "fiber.h"
#include "log.h"
#include "maildir.h"
#include "queue.h"
#include "relay.h"
#include "util.h"

#define QUEUE_CHUNK	4096
#define QUEUE_FLUSH_N	256	/* outcomes per transaction, at most */

struct queue_body {
	int64_t	 message_id;
	char	*data;
	size_t	 len;
	char	*token;
	int	 null_sender;	/* notices go out with <> */
	int64_t	 released;
};

struct queue_row {
	int64_t	 id;
	int	 attempts;
	char	*rcpt;
	char	*reverse_path;
	struct queue_body *body;
};

struct queue_outcome {
	struct queue_row	*row;
	enum relay_outcome	 outcome;
	int			 code;
	char			 text[300];
};

struct queue_batch {
	struct engine		*e;
	pthread_mutex_t		 lock;		/* pending, with the fallback's threads */
	struct queue_outcome	 pending[QUEUE_FLUSH_N];
	size_t			 npending;
	uint64_t		 added;		/* outcomes added since the start */
	uint64_t		 committed;	/* ... and recorded (the first ones) */
	struct queue_body	**bodies;	/* pointers: rows keep them */
	size_t			 nbodies;
	long			 sent, deferred, failed;
};

/* A body stored as a file (relative to data_dir), read once per run. */
static int
queue_body_file(struct engine *e, const char *rel, struct queue_body *qb)
{
	char *path = xasprintf("%s/%s", e->cf->data_dir, rel);
	int rc = file_read(path, SIZE_MAX / 2, &qb->data, &qb->len);

	if (rc == -1)
		log_warnx("body=%s status=error reason=\"%s\"", rel, strerror(errno));
	free(path);
	return rc;
}

static struct queue_body *
queue_body(struct queue_batch *b, int64_t message_id)
{
	struct db_stmt *st;
	struct queue_body *qb;

	for (size_t i = 0; i < b->nbodies; i++)
		if (b->bodies[i]->message_id == message_id)
			return b->bodies[i];
	st = db_query(b->e->db, "SELECT body, token, kind, coalesce(released, received),"
	    " body_file FROM message WHERE id = ?", "i", message_id);
	if (st == NULL || db_step(st) != 1 || (db_col_null(st, 0) && db_col_null(st, 4))) {
		db_finalize(&st);
		return NULL;
	}
	qb = xcalloc(1, sizeof *qb);
	if (db_col_null(st, 0) && queue_body_file(b->e, db_col_text(st, 4), qb) == -1) {
		free(qb);
		db_finalize(&st);
		return NULL;
	} else if (!db_col_null(st, 0)) {
		const void *p = db_col_blob(st, 0, &qb->len);

		qb->data = xmalloc(qb->len + 1);
		memcpy(qb->data, p, qb->len);
		qb->data[qb->len] = '\0';
	}
	b->bodies = xrealloc(b->bodies, (b->nbodies + 1) * sizeof *b->bodies);
	b->bodies[b->nbodies++] = qb;
	qb->message_id = message_id;
	qb->token = xstrdup(db_col_text(st, 1));
	qb->null_sender = strcmp(db_col_text(st, 2), "notice") == 0;
	qb->released = db_col_int(st, 3);
	db_finalize(&st);
	return qb;
}

static long
queue_backoff(const struct config *cf, int attempts)
{
	long d = cf->retry_min;

	for (int i = 1; i < attempts && d < cf->retry_max; i++)
		d *= 2;
	return d < cf->retry_max ? d : cf->retry_max;
}

static void
queue_record(struct queue_batch *b, struct queue_row *row, enum relay_outcome outcome,
    int code, const char *text)
{
	const struct config *cf = b->e->cf;
	time_t t = now();
	const char *state = outcome == RELAY_SENT ? "sent" : outcome == RELAY_FAILED ? "failed" :
	    "deferred";
	int64_t next = t;

	if (outcome == RELAY_DEFERRED) {
		next = t + queue_backoff(cf, row->attempts + 1);
		if (t - row->body->released >= cf->queue_lifetime)
			state = "failed";	/* given up: too old */
	}
	if (db_run(b->e->db, "UPDATE delivery SET state = ?, attempts = attempts + 1, next_try = ?,"
	    " last_code = ?, last_reply = ?, updated = ? WHERE id = ?", "sidsii", state, next,
	    code, text, (int64_t)t, row->id) == -1)
		log_warnx("delivery=%lld status=error reason=\"%s\"", (long long)row->id,
		    db_errmsg(b->e->db));
	if (strcmp(state, "sent") == 0)
		b->sent++;
	else if (strcmp(state, "failed") == 0) {
		b->failed++;
		log_info("msgid=%s rcpt=%s status=failed code=%d reply=\"%s\"", row->body->token,
		    row->rcpt, code, text);
	} else {
		b->deferred++;
		log_info("msgid=%s rcpt=%s status=deferred code=%d reply=\"%s\" retry_in=%lld",
		    row->body->token, row->rcpt, code, text, (long long)(next - t));
	}
}

/* Record n outcomes in one transaction (the caller owns the database). */
static void
queue_write(struct queue_batch *b, const struct queue_outcome *o, size_t n)
{
	if (n == 0)
		return;
	if (db_begin(b->e->db) == -1) {
		log_warnx("deliveries=%zu status=unrecorded reason=\"%s\"", n, db_errmsg(b->e->db));
		return;
	}
	for (size_t i = 0; i < n; i++)
		queue_record(b, o[i].row, o[i].outcome, o[i].code, o[i].text);
	if (db_commit(b->e->db) == -1) {
		log_warnx("deliveries=%zu status=unrecorded reason=\"%s\"", n, db_errmsg(b->e->db));
		db_rollback(b->e->db);
	}
}

/* Record what is pending (b->lock held). */
static void
queue_flush(struct queue_batch *b)
{
	queue_write(b, b->pending, b->npending);
	b->committed += b->npending;
	b->npending = 0;
}

/* Add an outcome (b->lock held); returns its number. A full buffer is
 * recorded first. */
static uint64_t
queue_outcome_add(struct queue_batch *b, struct queue_row *row, enum relay_outcome outcome,
    int code, const char *text)
{
	struct queue_outcome *o;

	if (b->npending == QUEUE_FLUSH_N)
		queue_flush(b);
	o = &b->pending[b->npending++];
	o->row = row;
	o->outcome = outcome;
	o->code = code;
	snprintf(o->text, sizeof o->text, "%s", text);
	return ++b->added;
}

/* The relay's scheduler is idle: one transaction for every connection
 * parked in queue_done(). */
static void
queue_idle(void *arg)
{
	struct queue_batch *b = arg;

	pthread_mutex_lock(&b->lock);
	queue_flush(b);
	pthread_mutex_unlock(&b->lock);
}

/* The relay's outcome of one item: a sent message returns only once its
 * outcome is durable (see the top of this file). */
static void
queue_done(struct relay_item *item, void *arg)
{
	struct queue_batch *b = arg;
	char text[300];
	uint64_t k;

	snprintf(text, sizeof text, "%d%s%s %s", item->code, *item->enhanced ? " " : "",
	    item->enhanced, item->text);
	pthread_mutex_lock(&b->lock);
	k = queue_outcome_add(b, item->user, item->outcome, item->code, item->code ? text :
	    item->text);
	if (item->outcome == RELAY_SENT && !fiber_active() && b->committed < k)
		queue_flush(b);
	pthread_mutex_unlock(&b->lock);
	if (item->outcome != RELAY_SENT || !fiber_active())
		return;		/* recorded above, or not waited for */
	while (b->committed < k)
		fiber_park();	/* until queue_idle() */
}

/* Deliveries attempted since t - window (their outcome recorded since)
 * into *n_r: 0, or -1 on a database error. */
static int
queue_attempted_since(struct engine *e, int64_t since, int64_t *n_r)
{
	return db_int(e->db, n_r, "SELECT count(*) FROM delivery WHERE updated > ? AND state IN"
	    " ('sent', 'deferred', 'failed')", "i", since) == -1 ? -1 : 0;
}

/* How many deliveries may start now: QUEUE_CHUNK when no limit binds, none
 * when the count cannot be read. */
static int64_t
queue_allowance(struct engine *e, int64_t t)
{
	const struct config *cf = e->cf;
	int64_t allow = QUEUE_CHUNK, used;

	if (cf->smtp_rate_per_minute > 0) {
		if (queue_attempted_since(e, t - 60, &used) == -1)
			return 0;
		allow = cf->smtp_rate_per_minute - used < allow ? cf->smtp_rate_per_minute - used :
		    allow;
	}
	if (cf->smtp_rate_per_hour > 0) {
		if (queue_attempted_since(e, t - 3600, &used) == -1)
			return 0;
		allow = cf->smtp_rate_per_hour - used < allow ? cf->smtp_rate_per_hour - used : allow;
	}
	return allow > 0 ? allow : 0;
}

/* Due rows after after_id that the rate limit holds back: give each the
 * time its window should admit it (see the top of this file). */
static void
queue_hold_back(struct engine *e, int64_t t, int64_t after_id, int64_t taken)
{
	const struct config *cf = e->cf;
	int64_t rm = cf->smtp_rate_per_minute, rh = cf->smtp_rate_per_hour;
	int64_t used_h = 0, oldest_h = t;

	if (rh > 0 && (queue_attempted_since(e, t - 3600, &used_h) == -1 ||
	    db_int(e->db, &oldest_h, "SELECT coalesce(min(updated), ?) FROM delivery WHERE"
	    " updated > ? AND state IN ('sent', 'deferred', 'failed')", "ii", t, t - 3600) == -1)) {
		log_warnx("queue status=error reason=\"%s\"", db_errmsg(e->db));
		return;
	}
	used_h += rh > 0 ? taken : 0;
	if (db_run(e->db, "UPDATE delivery SET next_try = max("
	    " CASE WHEN ?1 > 0 THEN ?3 + 60 * (w.k / ?1 + 1) ELSE ?3 END,"
	    " CASE WHEN ?2 > 0 AND ?4 + w.k >= ?2 THEN ?5 + 3600 * ((?4 + w.k - ?2) / ?2 + 1)"
	    " ELSE ?3 END)"
	    " FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM delivery"
	    " WHERE state IN ('queued', 'deferred') AND next_try <= ?3 AND id > ?6) AS w"
	    " WHERE delivery.id = w.id", "iiiiii", rm, rh, t, used_h, oldest_h, after_id) == -1)
		log_warnx("queue status=error reason=\"%s\"", db_errmsg(e->db));
	else if (db_changes(e->db) > 0)
		log_info("queue rate_limited waiting=%d per_minute=%lld per_hour=%lld",
		    db_changes(e->db), (long long)rm, (long long)rh);
}

static size_t
queue_load(struct queue_batch *b, struct queue_row **rows_r)
{
	struct engine *e = b->e;
	int64_t t = now(), allow = queue_allowance(e, t), last_id = 0;
	struct db_stmt *st = allow == 0 ? NULL : db_query(e->db, "SELECT id, message_id, rcpt,"
	    " verp, attempts FROM delivery WHERE state IN ('queued', 'deferred') AND next_try <= ?"
	    " ORDER BY id LIMIT ?", "ii", t, allow);
	struct queue_row *rows = NULL;
	size_t n = 0;

	while (st && db_step(st) == 1) {
		last_id = db_col_int(st, 0);
		int64_t mid = db_col_int(st, 1);
		struct queue_row *r;
		struct queue_body *qb;

		rows = xrealloc(rows, (n + 1) * sizeof *rows);
		r = &rows[n];
		r->id = db_col_int(st, 0);
		r->rcpt = xstrdup(db_col_text(st, 2));
		r->reverse_path = xasprintf("%s+%s@%s", e->cf->bounce_prefix, db_col_text(st, 3),
		    e->cf->domain);
		r->attempts = (int)db_col_int(st, 4);
		if ((qb = queue_body(b, mid)) == NULL) {
			/* no body (erased or broken): give up on this row, loudly */
			free(r->rcpt);
			free(r->reverse_path);
			db_run(e->db, "UPDATE delivery SET state = 'failed', last_reply = 'no message"
			    " body' WHERE id = ?", "i", db_col_int(st, 0));
			continue;
		}
		if (qb->null_sender)
			r->reverse_path[0] = '\0';
		r->body = qb;
		n++;
	}
	db_finalize(&st);
	if (allow < QUEUE_CHUNK)
		queue_hold_back(e, t, last_id, (int64_t)n);
	*rows_r = rows;
	return n;
}

/* The relay settings, once per run; *password_r is freed by the caller. */
static void
queue_relay_config(const struct config *cf, struct relay_config *rc, char **password_r)
{
	size_t plen;

	memset(rc, 0, sizeof *rc);
	*password_r = NULL;
	rc->hosts = config_list(cf->smtp_relay, &rc->nhosts);
	rc->tls = !strcmp(cf->smtp_tls, "starttls") ? RELAY_TLS_STARTTLS :
	    !strcmp(cf->smtp_tls, "tls") ? RELAY_TLS_TLS : RELAY_TLS_NONE;
	rc->tls_verify = cf->smtp_tls_verify;
	rc->ca_file = *cf->smtp_ca_file ? cf->smtp_ca_file : NULL;
	if (*cf->smtp_user && file_read(cf->smtp_password_file, 4096, password_r, &plen) == 0) {
		rc->user = cf->smtp_user;
		rc->password = str_trim(*password_r);
	}
	rc->helo = *cf->smtp_helo_name ? cf->smtp_helo_name : cf->domain;
	rc->timeout_ms = (int)cf->smtp_timeout * 1000;
}

static void
queue_send_relay(struct queue_batch *b, const struct relay_config *rc, struct queue_row *rows,
    size_t n)
{
	const struct config *cf = b->e->cf;
	struct relay_item *items = xcalloc(n, sizeof *items);

	for (size_t i = 0; i < n; i++) {
		items[i].reverse_path = rows[i].reverse_path;
		items[i].rcpt = rows[i].rcpt;
		items[i].data = rows[i].body->data;
		items[i].len = rows[i].body->len;
		items[i].outcome = RELAY_PENDING;
		items[i].user = &rows[i];
	}
	fiber_on_idle(queue_idle, b);
	relay_send_parallel(rc, items, n, (int)cf->smtp_connections, queue_done, b);
	fiber_on_idle(NULL, NULL);
	queue_flush(b);
	free(items);
}

static void
queue_send_maildir(struct queue_batch *b, struct queue_row *rows, size_t n)
{
	char *dir = xasprintf("%s/outbox", b->e->cf->data_dir), *name;
	const char *err;

	for (size_t i = 0; i < n; i++) {
		if (maildir_deliver(dir, rows[i].body->data, rows[i].body->len, rows[i].rcpt,
		    rows[i].reverse_path, &name, &err) == 0) {
			queue_outcome_add(b, &rows[i], RELAY_SENT, 250, "250 delivered to the local outbox");
			free(name);
		} else
			queue_outcome_add(b, &rows[i], RELAY_DEFERRED, 0, err);
		queue_flush(b);	/* durable before the next copy, as with SMTP */
	}
	free(dir);
}

long
queue_run(struct engine *e)
{
	struct queue_batch b = { .e = e };
	struct relay_config rc = { 0 };
	char *password = NULL;
	struct queue_row *rows;
	long total = 0;
	size_t n;

	pthread_mutex_init(&b.lock, NULL);
	if (*e->cf->smtp_relay)
		queue_relay_config(e->cf, &rc, &password);
	while ((n = queue_load(&b, &rows)) > 0) {
		if (*e->cf->smtp_relay)
			queue_send_relay(&b, &rc, rows, n);
		else
			queue_send_maildir(&b, rows, n);
		for (size_t i = 0; i < n; i++) {
			free(rows[i].rcpt);
			free(rows[i].reverse_path);
		}
		free(rows);
		total += (long)n;
		if (b.deferred + b.failed == total && total >= QUEUE_CHUNK)
			break;	/* the relay is down: do not spin through the whole queue */
	}
	for (size_t i = 0; i < b.nbodies; i++) {
		free(b.bodies[i]->data);
		free(b.bodies[i]->token);
		free(b.bodies[i]);
	}
	free(b.bodies);
	config_list_free(rc.hosts, rc.nhosts);
	free(password);
	pthread_mutex_destroy(&b.lock);
	if (total)
		log_info("queue run deliveries=%ld sent=%ld deferred=%ld failed=%ld", total, b.sent,
		    b.deferred, b.failed);
	db_run(e->db, "UPDATE message SET state = 'done' WHERE state = 'sending' AND NOT EXISTS"
	    " (SELECT 1 FROM delivery d WHERE d.message_id = message.id AND d.state IN ('queued',"
	    " 'deferred'))", "");
	return total;
}

long
queue_deferred_since(struct engine *e, int64_t since)
{
	int64_t n;

	if (db_int(e->db, &n, "SELECT count(*) FROM delivery WHERE state = 'deferred' AND"
	    " updated >= ?", "i", since) == -1)
		return -1;
	return (long)n;
}

long
queue_next_due(struct engine *e)
{
	int64_t t;

	if (db_int(e->db, &t, "SELECT min(next_try) FROM delivery WHERE state IN"
	    " ('queued', 'deferred')", "") != 1 || t <= 0)
		return -1;
	return t > now() ? (long)(t - now()) : 0;
}

/* The message row (body in the row, or the name of its file) and one
 * delivery per distinct address, in one transaction. */
static int64_t
queue_insert(struct engine *e, const char *kind, const char *subject, const char *token,
    const char *body, size_t len, const char *body_file, const struct queue_rcpt *rcpts,
    size_t n)
{
	int64_t id, t = now();

	if (db_begin(e->db) == -1)
		return -1;
	if (db_run(e->db, "INSERT INTO message (token, kind, state, author, subject, received,"
	    " released, body, body_file) VALUES (?, ?, 'sending', ?, ?, ?, ?, ?, ?)", "ssssiibs",
	    token, kind, e->list_addr, subject, t, t, body, len, body_file) == -1)
		goto fail;
	id = db_last_id(e->db);
	for (size_t i = 0; i < n; i++) {
		char verp[33];

		engine_token(verp, 16);
		if (db_run(e->db, "INSERT INTO delivery (message_id, contact_id, committee_id, rcpt,"
		    " verp, next_try) SELECT ?, nullif(?, 0), nullif(?, 0), ?, ?, ? WHERE NOT EXISTS"
		    " (SELECT 1 FROM delivery WHERE message_id = ? AND rcpt = ? COLLATE NOCASE)",
		    "iiissiis", id, rcpts[i].contact_id, rcpts[i].committee_id, rcpts[i].email, verp,
		    t, id, rcpts[i].email) == -1)
			goto fail;
	}
	if (db_commit(e->db) == -1)
		goto fail;
	log_info("msgid=%s kind=%s rcpts=%zu status=queued", token, kind, n);
	return id;
fail:
	log_warnx("kind=%s status=error reason=\"%s\"", kind, db_errmsg(e->db));
	db_rollback(e->db);
	return -1;
}

int64_t
queue_message(struct engine *e, const char *kind, const char *subject, const char *body,
    size_t len, const struct queue_rcpt *rcpts, size_t n, char token_r[33])
{
	engine_token(token_r, 16);
	return queue_insert(e, kind, subject, token_r, body, len, NULL, rcpts, n);
}

int64_t
queue_message_file(struct engine *e, const char *kind, const char *subject, const char *token,
    const char *body_file, const struct queue_rcpt *rcpts, size_t n)
{
	return queue_insert(e, kind, subject, token, NULL, 0, body_file, rcpts, n);
}
