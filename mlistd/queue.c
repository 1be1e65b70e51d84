/*
 * queue.c — the delivery runner (see queue.h).
 *
 * Due rows are read in chunks (QUEUE_CHUNK) so memory stays flat whatever
 * the roster size; a chunk's messages share one body buffer per message,
 * only the envelope differs (VERP reverse path per contact).
 *
 * Outcomes are durable per SMTP transaction: queue_done() returns only once
 * the outcome is in the journal (data_dir/queue.journal, one line appended
 * per outcome by one write(2)), and libesmtp starts the next transaction on
 * that connection only after it returns. So a crash (kill -9) re-sends at
 * most the transactions in flight, one per connection (smtp_connections),
 * never a batch. Why a write without fsync is enough: once write() returns,
 * the line is in the kernel's page cache, which outlives the process
 * whatever the signal; only a power loss or a kernel crash can lose it, and
 * then the message is sent again (at-least-once, as with any MTA), exactly
 * as with the database (WAL, synchronous=NORMAL, db.c).
 * Why not commit each outcome: a commit writes whole 4 KB pages to the WAL
 * (the row's, the index's) and checkpoints every 1,000 of them with two
 * fsyncs; one commit per SMTP transaction, even grouped per round of the
 * connections, was a fifth of a 40,000-contact fan-out and stopped every
 * connection while it ran. A journal line is ~80 bytes and one system call.
 * The database: while the relay sends, the flusher thread owns the
 * connection and records the outcomes in transactions of up to
 * QUEUE_FLUSH_N or every QUEUE_FLUSH_MS, whichever comes first, while the
 * relay goes on (no connection waits for it; "mlistctl status" is at most
 * that late). Once a chunk's outcomes are all committed, the journal is
 * emptied (ftruncate). A run starts by recording what a crash left in the
 * journal (queue_journal_replay()): the lines carry the row's new values,
 * not increments, and a row is only changed while it is queued or
 * deferred, so recording a line twice changes nothing. A torn last line (a
 * power loss mid-write) is ignored: its message is sent again.
 * If the journal cannot be written, the fan-out goes on and says so: a crash
 * then re-sends up to QUEUE_FLUSH_MS of messages.
 * A row changed meanwhile by someone else (a bounce that failed it) is not
 * overwritten by the outcome recorded after it.
 * The local outbox (no relay) records each copy in its own transaction.
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
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "engine.h"
#include "log.h"
#include "maildir.h"
#include "queue.h"
#include "relay.h"
#include "util.h"

#define QUEUE_CHUNK	4096
#define QUEUE_FLUSH_N	256	/* outcomes per transaction ... */
#define QUEUE_FLUSH_MS	100	/* ... or after this long */
#define QUEUE_JOURNAL	"queue.journal"
#define QUEUE_JOURNAL_MAX	(64 * 1024 * 1024)	/* bytes read back, at most */

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

struct queue_outcome {			/* the new values of a delivery row */
	struct queue_row	*row;	/* NULL: read back from the journal */
	int64_t			 id;
	const char		*state;	/* "sent", "deferred", "failed" */
	int			 attempts;
	int64_t			 next_try;
	int			 code;
	int64_t			 updated;
	char			 text[300];	/* no control character */
};

struct queue_batch {
	struct engine		*e;
	int			 journal;	/* fd, -1: none */
	int			 unrecorded;	/* a transaction failed */
	pthread_mutex_t		 lock;
	pthread_cond_t		 wake;		/* the flusher: a full buffer or the end */
	pthread_cond_t		 room;		/* the relay: pending has room again */
	struct queue_outcome	 buf[2][QUEUE_FLUSH_N];
	struct queue_outcome	*pending;	/* filled under lock */
	size_t			 npending;
	struct timespec		 first_pending;
	int			 sending;	/* the flusher runs while set */
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

/* What becomes of row after this attempt, into *o. */
static void
queue_outcome_set(const struct config *cf, struct queue_outcome *o, struct queue_row *row,
    enum relay_outcome outcome, int code, const char *text)
{
	time_t t = now();

	o->row = row;
	o->id = row->id;
	o->state = outcome == RELAY_SENT ? "sent" : outcome == RELAY_FAILED ? "failed" :
	    "deferred";
	o->attempts = row->attempts + 1;
	o->next_try = t;
	o->code = code;
	o->updated = t;
	if (outcome == RELAY_DEFERRED) {
		o->next_try = t + queue_backoff(cf, o->attempts);
		if (t - row->body->released >= cf->queue_lifetime)
			o->state = "failed";	/* given up: too old */
	}
	snprintf(o->text, sizeof o->text, "%s", text);
	for (char *p = o->text; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';	/* one line in the journal and the log */
}

static void
queue_record(struct queue_batch *b, const struct queue_outcome *o)
{
	if (db_run(b->e->db, "UPDATE delivery SET state = ?, attempts = ?, next_try = ?,"
	    " last_code = ?, last_reply = ?, updated = ? WHERE id = ? AND state IN ('queued',"
	    " 'deferred')", "sdidsii", o->state, o->attempts, o->next_try, o->code, o->text,
	    o->updated, o->id) == -1)
		log_warnx("delivery=%lld status=error reason=\"%s\"", (long long)o->id,
		    db_errmsg(b->e->db));
	if (o->row == NULL)
		return;		/* a journal line: counted by the run that sent it */
	if (strcmp(o->state, "sent") == 0)
		b->sent++;
	else if (strcmp(o->state, "failed") == 0) {
		b->failed++;
		log_info("msgid=%s rcpt=%s status=failed code=%d reply=\"%s\"",
		    o->row->body->token, o->row->rcpt, o->code, o->text);
	} else {
		b->deferred++;
		log_info("msgid=%s rcpt=%s status=deferred code=%d reply=\"%s\" retry_in=%lld",
		    o->row->body->token, o->row->rcpt, o->code, o->text,
		    (long long)(o->next_try - o->updated));
	}
}

/* Record n outcomes in one transaction (the caller owns the database);
 * 0, or -1 (logged, b->unrecorded set). */
static int
queue_write(struct queue_batch *b, const struct queue_outcome *o, size_t n)
{
	if (n == 0)
		return 0;
	if (db_begin(b->e->db) == -1)
		goto fail;
	for (size_t i = 0; i < n; i++)
		queue_record(b, &o[i]);
	if (db_commit(b->e->db) == 0)
		return 0;
	db_rollback(b->e->db);
fail:
	log_warnx("deliveries=%zu status=unrecorded reason=\"%s\"", n, db_errmsg(b->e->db));
	b->unrecorded = 1;
	return -1;
}

/* Called with b->lock held and no flusher running (or from the only thread). */
static void
queue_flush(struct queue_batch *b)
{
	queue_write(b, b->pending, b->npending);
	b->npending = 0;
}

static long
queue_ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* ------------------------------------------------------------------------
 * The journal (see the top of this file).
 */

static char *
queue_journal_path(const struct queue_batch *b)
{
	return xasprintf("%s/%s", b->e->cf->data_dir, QUEUE_JOURNAL);
}

/* One line per outcome; the outcome is durable when this returns. */
static void
queue_journal_add(struct queue_batch *b, const struct queue_outcome *o)
{
	char line[512];
	size_t len, off = 0;
	ssize_t w;

	if (b->journal == -1)
		return;
	len = (size_t)snprintf(line, sizeof line, "%lld %s %d %lld %d %lld %s\n",
	    (long long)o->id, o->state, o->attempts, (long long)o->next_try, o->code,
	    (long long)o->updated, o->text);
	while (off < len && ((w = write(b->journal, line + off, len - off)) > 0 ||
	    (w == -1 && errno == EINTR)))
		off += w > 0 ? (size_t)w : 0;
	if (off == len)
		return;
	log_warn("queue journal=%s status=error reason=\"cannot append: a crash may send"
	    " again the messages of the last %d ms\"", QUEUE_JOURNAL, QUEUE_FLUSH_MS);
	close(b->journal);
	b->journal = -1;
}

/* One journal line into *o; 0, or -1 when it is not one. */
static int
queue_journal_parse(const char *line, struct queue_outcome *o)
{
	static const char *const states[] = { "sent", "deferred", "failed" };
	long long id, next, updated;
	char state[16];
	int pos = -1;

	memset(o, 0, sizeof *o);
	if (sscanf(line, "%lld %15s %d %lld %d %lld %n", &id, state, &o->attempts, &next,
	    &o->code, &updated, &pos) != 6 || pos < 0)
		return -1;
	for (size_t i = 0; i < nitems(states); i++)
		if (strcmp(state, states[i]) == 0)
			o->state = states[i];
	o->id = id;
	o->next_try = next;
	o->updated = updated;
	snprintf(o->text, sizeof o->text, "%s", line + pos);
	return o->state != NULL ? 0 : -1;
}

/* Record the outcomes left in the journal by a run that did not finish,
 * QUEUE_FLUSH_N per transaction in b->buf[0] (unused then), then empty it;
 * 0, or -1 when they could not be recorded (kept). */
static int
queue_journal_replay(struct queue_batch *b)
{
	char *path = queue_journal_path(b), *data = NULL, *line, *nl;
	struct queue_outcome *o = b->buf[0];
	size_t len = 0, n = 0, total = 0;
	int rc = 0;

	if (file_read(path, QUEUE_JOURNAL_MAX, &data, &len) == -1) {
		rc = errno == ENOENT ? 0 : -1;
		if (rc == -1)
			log_warn("queue journal=%s status=error reason=\"cannot read\"", QUEUE_JOURNAL);
		free(path);
		return rc;
	}
	for (line = data; rc == 0 && (nl = memchr(line, '\n', len - (size_t)(line - data)));
	    line = nl + 1) {
		*nl = '\0';	/* a last line without its newline was torn: ignored */
		n += queue_journal_parse(line, &o[n]) == 0;
		if (n == QUEUE_FLUSH_N) {
			rc = queue_write(b, o, n);
			total += n;
			n = 0;
		}
	}
	if (rc == 0 && n > 0)
		rc = queue_write(b, o, n);
	total += n;
	if (rc == 0 && total > 0)
		log_info("queue journal=%s outcomes=%zu status=recorded", QUEUE_JOURNAL, total);
	if (rc == 0 && b->journal != -1 && ftruncate(b->journal, 0) == -1)
		rc = -1;
	free(data);
	free(path);
	return rc;
}

/* The chunk is sent: once its outcomes are all in the database, the
 * journal is emptied; 0, or -1 when they are not (then the journal keeps
 * them for the next run). */
static int
queue_journal_settle(struct queue_batch *b)
{
	if (b->journal == -1)
		return b->unrecorded ? -1 : 0;
	if (b->unrecorded) {
		b->unrecorded = 0;
		return queue_journal_replay(b);
	}
	return ftruncate(b->journal, 0);
}

static int
queue_journal_open(struct queue_batch *b)
{
	char *path = queue_journal_path(b);

	b->journal = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (b->journal == -1)
		log_warn("queue journal=%s status=error reason=\"cannot open: a crash may send"
		    " again the messages of the last %d ms\"", QUEUE_JOURNAL, QUEUE_FLUSH_MS);
	free(path);
	return queue_journal_replay(b);
}

/* ------------------------------------------------------------------------
 * Outcomes while the relay sends.
 */

/* Called with b->lock held (or from the only thread). While the flusher
 * runs, a full buffer is handed to it and the relay waits only if the
 * flusher is still writing the previous one. */
static void
queue_outcome_add(struct queue_batch *b, struct queue_row *row, enum relay_outcome outcome,
    int code, const char *text)
{
	struct queue_outcome *o;

	while (b->sending && b->npending == QUEUE_FLUSH_N)
		pthread_cond_wait(&b->room, &b->lock);
	o = &b->pending[b->npending];
	if (b->npending == 0)
		clock_gettime(CLOCK_MONOTONIC, &b->first_pending);
	queue_outcome_set(b->e->cf, o, row, outcome, code, text);
	queue_journal_add(b, o);
	if (++b->npending < QUEUE_FLUSH_N && queue_ms_since(&b->first_pending) < QUEUE_FLUSH_MS)
		return;
	if (b->sending)
		pthread_cond_signal(&b->wake);
	else
		queue_flush(b);
}

/*
 * While the relay sends, this thread owns the database: it takes the
 * pending buffer when it is full or QUEUE_FLUSH_MS old, gives the relay the
 * other one, and records the outcomes while the relay goes on sending.
 */
static void *
queue_flusher(void *arg)
{
	struct queue_batch *b = arg;
	struct queue_outcome *mine;
	size_t n;

	pthread_mutex_lock(&b->lock);
	for (;;) {
		if (b->npending < QUEUE_FLUSH_N && b->sending && (b->npending == 0 ||
		    queue_ms_since(&b->first_pending) < QUEUE_FLUSH_MS)) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += QUEUE_FLUSH_MS * 1000000L / 2;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&b->wake, &b->lock, &ts);
			continue;
		}
		if (b->npending == 0)
			break;	/* not sending any more, nothing left */
		mine = b->pending;
		n = b->npending;
		b->pending = mine == b->buf[0] ? b->buf[1] : b->buf[0];
		b->npending = 0;
		pthread_cond_broadcast(&b->room);
		pthread_mutex_unlock(&b->lock);
		queue_write(b, mine, n);
		pthread_mutex_lock(&b->lock);
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

/* The relay's outcome of one item: durable (in the journal) on return. */
static void
queue_done(struct relay_item *item, void *arg)
{
	struct queue_batch *b = arg;
	char text[300];

	snprintf(text, sizeof text, "%d%s%s %s", item->code, *item->enhanced ? " " : "",
	    item->enhanced, item->text);
	pthread_mutex_lock(&b->lock);
	queue_outcome_add(b, item->user, item->outcome, item->code, item->code ? text :
	    item->text);
	pthread_mutex_unlock(&b->lock);
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

/* Send a chunk; 0, or -1 when its outcomes could not all be recorded. */
static int
queue_send_relay(struct queue_batch *b, const struct relay_config *rc, struct queue_row *rows,
    size_t n)
{
	const struct config *cf = b->e->cf;
	struct relay_item *items = xcalloc(n, sizeof *items);
	pthread_t flusher;

	for (size_t i = 0; i < n; i++) {
		items[i].reverse_path = rows[i].reverse_path;
		items[i].rcpt = rows[i].rcpt;
		items[i].data = rows[i].body->data;
		items[i].len = rows[i].body->len;
		items[i].outcome = RELAY_PENDING;
		items[i].user = &rows[i];
	}
	b->sending = 1;
	if (pthread_create(&flusher, NULL, queue_flusher, b) != 0)
		b->sending = 0;
	relay_send_parallel(rc, items, n, (int)cf->smtp_connections, queue_done, b);
	pthread_mutex_lock(&b->lock);
	if (b->sending) {
		b->sending = 0;
		pthread_cond_signal(&b->wake);
		pthread_mutex_unlock(&b->lock);
		pthread_join(flusher, NULL);	/* it records what is left */
	} else
		pthread_mutex_unlock(&b->lock);
	queue_flush(b);
	free(items);
	return queue_journal_settle(b);
}

/* Each copy in the outbox is recorded before the next, as with SMTP. */
static int
queue_send_maildir(struct queue_batch *b, struct queue_row *rows, size_t n)
{
	char *dir = xasprintf("%s/outbox", b->e->cf->data_dir), *name;
	const char *err;
	struct queue_outcome o;
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		if (maildir_deliver(dir, rows[i].body->data, rows[i].body->len, rows[i].rcpt,
		    rows[i].reverse_path, &name, &err) == 0) {
			queue_outcome_set(b->e->cf, &o, &rows[i], RELAY_SENT, 250,
			    "250 delivered to the local outbox");
			free(name);
		} else
			queue_outcome_set(b->e->cf, &o, &rows[i], RELAY_DEFERRED, 0, err);
		rc = queue_write(b, &o, 1);
	}
	free(dir);
	return rc;
}

long
queue_run(struct engine *e)
{
	struct queue_batch b = { .e = e, .journal = -1 };
	struct relay_config rc = { 0 };
	char *password = NULL;
	struct queue_row *rows;
	long total = 0;
	size_t n;
	int rc_send = 0;

	pthread_mutex_init(&b.lock, NULL);
	pthread_cond_init(&b.wake, NULL);
	pthread_cond_init(&b.room, NULL);
	b.pending = b.buf[0];
	if (*e->cf->smtp_relay)
		queue_relay_config(e->cf, &rc, &password);
	if (queue_journal_open(&b) == -1)
		rc_send = -1;	/* the database refuses what a crash left: later */
	while (rc_send == 0 && (n = queue_load(&b, &rows)) > 0) {
		if (*e->cf->smtp_relay)
			rc_send = queue_send_relay(&b, &rc, rows, n);
		else
			rc_send = queue_send_maildir(&b, rows, n);
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
	if (b.journal != -1)
		close(b.journal);
	pthread_cond_destroy(&b.room);
	pthread_cond_destroy(&b.wake);
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
