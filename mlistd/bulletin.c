/*
 * bulletin.c — the calendar of bulletin issues and the daemon's bulletin
 * mailings (see bulletin.h).
 *
 * Dates are local calendar days written YYYY-MM-DD, so they compare as
 * strings. Month arithmetic goes through struct tm at noon (clear of DST
 * changes); issue N starts on the anchor's day of month, N-1 periods later,
 * clamped to the month's length (anchor on the 31st: the 30th in April).
 * A period ends the day before the next one starts.
 *
 * Rows: bulletin_current() creates the missing rows up to the current issue
 * (at most BULLETIN_BACKFILL of them: with an anchor far in the past only
 * the current one, correctly numbered). A row whose deadline has already
 * passed when it is created is created 'closed': no call is ever sent for
 * a period that is over.
 *
 * Crash safety of the mailings: the bulletin_mailing row and the queued
 * message are written in one transaction (queue_message() nests inside it
 * as a savepoint), so after a crash either both exist or neither does, and
 * the next tick sends exactly what is still missing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bulletin.h"
#include "config.h"
#include "db.h"
#include "frdate.h"
#include "editor.h"
#include "engine.h"
#include "log.h"
#include "mime.h"
#include "notice.h"
#include "queue.h"
#include "roster.h"
#include "util.h"

#define BULLETIN_BACKFILL	24
#define BULLETIN_ISSUE_COLS	"id, number, period_start, period_end, deadline, publish_date, state"

/* ---- dates ---- */

static int
bdate_parse(const char *s, struct tm *tm)
{
	int y, m, d;

	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	y = atoi(s);
	m = atoi(s + 5);
	d = atoi(s + 8);
	memset(tm, 0, sizeof *tm);
	tm->tm_year = y - 1900;
	tm->tm_mon = m - 1;
	tm->tm_mday = d;
	tm->tm_hour = 12;
	tm->tm_isdst = -1;
	if (y < 1900 || mktime(tm) == (time_t)-1)
		return -1;
	return tm->tm_year == y - 1900 && tm->tm_mon == m - 1 && tm->tm_mday == d ? 0 : -1;
}

int
bulletin_date_valid(const char *s)
{
	struct tm tm;

	return bdate_parse(s, &tm) == 0;
}

static void
bdate_fmt(const struct tm *tm, char out[11])
{
	strftime(out, 11, "%Y-%m-%d", tm);
}

static void
bdate_add_days(struct tm *tm, int days)
{
	tm->tm_mday += days;
	tm->tm_hour = 12;
	tm->tm_isdst = -1;
	mktime(tm);
}

/* The local calendar day of t. */
static void
bdate_today(time_t t, char out[11])
{
	struct tm tm;

	localtime_r(&t, &tm);
	bdate_fmt(&tm, out);
}

static int
bdate_month_days(int year, int mon)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return mon == 1 && leap ? 29 : days[mon];
}

/* ---- the calendar ---- */

static int
bulletin_anchor(const struct config *cf, struct tm *anchor)
{
	if (bdate_parse(cf->bulletin_anchor, anchor) == 0)
		return 0;
	log_warnx("bulletin status=error reason=\"bulletin_anchor is not a date YYYY-MM-DD: %s\"",
	    cf->bulletin_anchor);
	return -1;
}

/* First day of issue n (n >= 1). */
static void
bulletin_start(const struct tm *anchor, long period, int n, struct tm *out)
{
	long months = anchor->tm_mon + (long)(n - 1) * period;
	int dim;

	memset(out, 0, sizeof *out);
	out->tm_year = anchor->tm_year + (int)(months / 12);
	out->tm_mon = (int)(months % 12);
	dim = bdate_month_days(out->tm_year + 1900, out->tm_mon);
	out->tm_mday = anchor->tm_mday < dim ? anchor->tm_mday : dim;
	out->tm_hour = 12;
	out->tm_isdst = -1;
	mktime(out);
}

/* The planned dates of issue n. */
static void
bulletin_compute(const struct config *cf, const struct tm *anchor, int n,
    struct bulletin_issue *bi)
{
	struct tm start, next;

	memset(bi, 0, sizeof *bi);
	bi->number = n;
	bulletin_start(anchor, cf->bulletin_period_months, n, &start);
	bulletin_start(anchor, cf->bulletin_period_months, n + 1, &next);
	bdate_fmt(&start, bi->period_start);
	bdate_fmt(&next, bi->publish_date);
	bdate_add_days(&next, -1);
	bdate_fmt(&next, bi->period_end);
	bdate_add_days(&next, -(int)cf->bulletin_deadline_days);
	bdate_fmt(&next, bi->deadline);
	snprintf(bi->state, sizeof bi->state, "planned");
}

/* Number of the issue whose period contains the day today; 0 before the anchor. */
static int
bulletin_number_at(const struct config *cf, const struct tm *anchor, const char *today)
{
	long period = cf->bulletin_period_months;
	struct tm t, s;
	char start[11];
	long months;
	int n;

	if (bdate_parse(today, &t) == -1)
		return 0;
	months = (long)(t.tm_year - anchor->tm_year) * 12 + (t.tm_mon - anchor->tm_mon);
	n = months < 0 ? 1 : (int)(months / period) + 1;
	for (;;) {
		bulletin_start(anchor, period, n, &s);
		bdate_fmt(&s, start);
		if (strcmp(today, start) >= 0 || n == 1)
			break;
		n--;
	}
	if (strcmp(today, start) < 0)
		return 0;
	for (;;) {
		bulletin_start(anchor, period, n + 1, &s);
		bdate_fmt(&s, start);
		if (strcmp(today, start) < 0)
			return n;
		n++;
	}
}

static void
bulletin_row(struct db_stmt *st, struct bulletin_issue *bi)
{
	memset(bi, 0, sizeof *bi);
	bi->id = db_col_int(st, 0);
	bi->number = (int)db_col_int(st, 1);
	snprintf(bi->period_start, sizeof bi->period_start, "%s", db_col_text(st, 2));
	snprintf(bi->period_end, sizeof bi->period_end, "%s", db_col_text(st, 3));
	snprintf(bi->deadline, sizeof bi->deadline, "%s", db_col_text(st, 4));
	snprintf(bi->publish_date, sizeof bi->publish_date, "%s", db_col_text(st, 5));
	snprintf(bi->state, sizeof bi->state, "%s", db_col_text(st, 6));
}

/* The first row of st (which it finalizes): 0 found, 1 no row, -1 error. */
static int
bulletin_fetch(struct db_stmt *st, struct bulletin_issue *bi)
{
	int rc;

	if (st == NULL)
		return -1;
	rc = db_step(st);
	if (rc == 1)
		bulletin_row(st, bi);
	db_finalize(&st);
	return rc == 1 ? 0 : rc == 0 ? 1 : -1;
}

/* 0 found, 1 no such row, -1 error. */
static int
bulletin_load(struct engine *e, int number, struct bulletin_issue *bi)
{
	struct db_stmt *st = db_query(e->db, "SELECT " BULLETIN_ISSUE_COLS " FROM bulletin_issue"
	    " WHERE number = ?", "d", number);

	return bulletin_fetch(st, bi);
}

static int
bulletin_create(struct engine *e, const struct tm *anchor, int n, const char *today)
{
	struct bulletin_issue bi;

	bulletin_compute(e->cf, anchor, n, &bi);
	return db_run(e->db, "INSERT OR IGNORE INTO bulletin_issue (number, period_start,"
	    " period_end, deadline, publish_date, state) VALUES (?, ?, ?, ?, ?, ?)", "dsssss", n,
	    bi.period_start, bi.period_end, bi.deadline, bi.publish_date,
	    strcmp(today, bi.deadline) > 0 ? "closed" : "planned");
}

/* Load issue n, creating it (and the missing ones before it, within reason). */
static int
bulletin_ensure(struct engine *e, const struct tm *anchor, int n, const char *today,
    struct bulletin_issue *bi)
{
	int64_t max;
	int rc = bulletin_load(e, n, bi);

	if (rc != 1)
		return rc;
	if (db_int(e->db, &max, "SELECT coalesce(max(number), 0) FROM bulletin_issue", "") == -1 ||
	    db_begin(e->db) == -1)
		return -1;
	for (int k = max < n && n - max <= BULLETIN_BACKFILL ? (int)max + 1 : n; k <= n; k++)
		if (bulletin_create(e, anchor, k, today) == -1) {
			db_rollback(e->db);
			return -1;
		}
	if (db_commit(e->db) == -1) {
		db_rollback(e->db);
		return -1;
	}
	log_info("bulletin issue=%d status=created", n);
	return bulletin_load(e, n, bi) == 0 ? 0 : -1;
}

int
bulletin_current(struct engine *e, time_t t, struct bulletin_issue *bi)
{
	struct tm anchor;
	char today[11];
	int n;

	if (bulletin_anchor(e->cf, &anchor) == -1)
		return -1;
	bdate_today(t, today);
	n = bulletin_number_at(e->cf, &anchor, today);
	if (bulletin_ensure(e, &anchor, n > 0 ? n : 1, today, bi) == -1)
		return -1;
	return n > 0 ? 0 : 1;
}

int
bulletin_get(struct engine *e, int number, struct bulletin_issue *bi)
{
	struct bulletin_issue cur;
	struct tm anchor;
	char today[11];
	int rc;

	if (number < 0)
		return 1;
	if ((rc = bulletin_current(e, now(), &cur)) == -1)
		return -1;
	if (number == 0 || number == cur.number) {
		*bi = cur;
		return 0;
	}
	if ((rc = bulletin_load(e, number, bi)) != 1)
		return rc;
	if (number != cur.number + 1 || bulletin_anchor(e->cf, &anchor) == -1)
		return 1;	/* only the next issue is created ahead, to plan it */
	bdate_today(now(), today);
	return bulletin_ensure(e, &anchor, number, today, bi);
}

static int bulletin_open_due(struct engine *e, struct bulletin_issue *cur, const char *today);

int
bulletin_open_issue(struct engine *e, time_t t, struct bulletin_issue *bi)
{
	struct db_stmt *st;
	int rc = bulletin_current(e, t, bi);

	if (rc == -1)
		return -1;
	if (rc == 0 && strcmp(bi->state, "open") == 0)
		return 0;
	if (rc == 0 && strcmp(bi->state, "planned") == 0) {
		/* Its period has begun but no tick has opened it yet (a report
		 * routed before the tick, on the first day): open it now; the
		 * tick still sends the call. */
		char today[11];

		bdate_today(t, today);
		if (bulletin_open_due(e, bi, today) == -1)
			return -1;
		if (strcmp(bi->state, "open") == 0)
			return 0;
	}
	st = db_query(e->db, "SELECT " BULLETIN_ISSUE_COLS " FROM bulletin_issue WHERE state ="
	    " 'open' ORDER BY number DESC LIMIT 1", "");
	return bulletin_fetch(st, bi);
}

/* ---- mailings ---- */

/* Committees owing a report for issue ?1 and not yet sent mailing ?2. */
#define BULLETIN_LACKING \
	"SELECT m.id FROM committee m WHERE NOT EXISTS (SELECT 1 FROM submission s" \
	" WHERE s.issue_id = ?1 AND s.committee_id = m.id AND s.state NOT IN" \
	" ('rejected', 'replaced')) AND NOT EXISTS (SELECT 1 FROM bulletin_mailing b" \
	" WHERE b.issue_id = ?1 AND b.kind = ?2 AND b.committee_id = m.id)" \
	" AND EXISTS (SELECT 1 FROM contact k WHERE k.committee_id = m.id AND k.active = 1)"

struct bulletin_rcpts {
	struct queue_rcpt	*list;
	size_t			 n;
};

static void
bulletin_rcpts_free(struct bulletin_rcpts *r)
{
	for (size_t i = 0; i < r->n; i++)
		free((char *)r->list[i].email);
	free(r->list);
	memset(r, 0, sizeof *r);
}

/* Active contacts: all (per_committee 0), or those of the committees owing a report. */
static int
bulletin_rcpts_load(struct engine *e, int64_t issue_id, const char *kind, int per_committee,
    struct bulletin_rcpts *r)
{
	struct db_stmt *st = per_committee ?
	    db_query(e->db, "SELECT id, committee_id, email FROM contact WHERE active = 1 AND"
	    " committee_id IN (" BULLETIN_LACKING ") ORDER BY id", "is", issue_id, kind) :
	    db_query(e->db, "SELECT id, committee_id, email FROM contact WHERE active = 1"
	    " ORDER BY id", "");
	int rc;

	memset(r, 0, sizeof *r);
	if (st == NULL)
		return -1;
	while ((rc = db_step(st)) == 1) {
		r->list = xrealloc(r->list, (r->n + 1) * sizeof *r->list);
		r->list[r->n].contact_id = db_col_int(st, 0);
		r->list[r->n].committee_id = db_col_int(st, 1);
		r->list[r->n++].email = xstrdup(db_col_text(st, 2));
	}
	db_finalize(&st);
	return rc == 0 ? 0 : -1;
}

static int
bulletin_record(struct engine *e, int64_t issue_id, const char *kind, int per_committee)
{
	if (per_committee)
		return db_run(e->db, "INSERT INTO bulletin_mailing (issue_id, kind, committee_id, sent)"
		    " SELECT ?1, ?2, id, ?3 FROM (" BULLETIN_LACKING ")", "isi", issue_id, kind,
		    (int64_t)now());
	return db_run(e->db, "INSERT INTO bulletin_mailing (issue_id, kind, committee_id, sent)"
	    " VALUES (?, ?, 0, ?)", "isi", issue_id, kind, (int64_t)now());
}

/* One message from bulletin@ for many recipients (each gets its own envelope). */
static char *
bulletin_build(struct engine *e, const char *tmpl, const char *const *vars, char **subject_r,
    size_t *len_r)
{
	const struct config *cf = e->cf;
	char *from = config_address(cf, cf->bulletin_address), *body = NULL, *msg = NULL;
	char *list_id = xasprintf("\"%s\" <%s.%s>", cf->list_name, cf->bulletin_address, cf->domain);
	char *help = xasprintf("<mailto:%s?subject=aide>", e->request_addr);
	const char *hdrs[] = { "Auto-Submitted", "auto-generated", "Precedence", "list",
	    "X-Loop", e->list_addr, "List-Id", list_id, "List-Help", help, NULL };
	const char *err = NULL;

	if (notice_render(e, tmpl, vars, subject_r, &body, &err) == 0)
		msg = mime_build_text(cf->list_name, from, from, *subject_r, body, hdrs, 1, len_r);
	else
		log_warnx("bulletin template=%s status=error reason=\"%s\"", tmpl, err);
	free(body);
	free(from);
	free(list_id);
	free(help);
	return msg;
}

/* Record mailing kind for the issue and queue its one message to its
 * recipients, in one transaction. Nothing to send: nothing recorded. */
static int
bulletin_send(struct engine *e, const struct bulletin_issue *bi, const char *kind,
    int per_committee, const char *tmpl, const char *const *vars)
{
	struct bulletin_rcpts r;
	char *subject = NULL, *msg = NULL, token[33];
	size_t len = 0;

	if (db_begin(e->db) == -1)
		return -1;
	if (bulletin_rcpts_load(e, bi->id, kind, per_committee, &r) == -1)
		goto fail;
	if (r.n == 0) {		/* nobody to write to: nothing recorded */
		db_rollback(e->db);
		return 0;
	}
	if ((msg = bulletin_build(e, tmpl, vars, &subject, &len)) == NULL ||
	    bulletin_record(e, bi->id, kind, per_committee) == -1 ||
	    queue_message(e, kind[0] == 'c' ? "bulletin-call" : "bulletin-reminder", subject, msg,
	    len, r.list, r.n, token) == -1 || db_commit(e->db) == -1)
		goto fail;
	log_info("bulletin issue=%d mailing=%s msgid=%s rcpts=%zu status=queued", bi->number, kind,
	    token, r.n);
	bulletin_rcpts_free(&r);
	free(subject);
	free(msg);
	return 0;
fail:
	log_warnx("bulletin issue=%d mailing=%s status=error reason=\"%s\"", bi->number, kind,
	    db_errmsg(e->db));
	db_rollback(e->db);
	bulletin_rcpts_free(&r);
	free(subject);
	free(msg);
	return -1;
}

/* Send mailing kind of the issue with the template's variables. */
static int
bulletin_mailing(struct engine *e, const struct bulletin_issue *bi, const char *kind,
    int per_committee, const char *tmpl)
{
	const struct config *cf = e->cf;
	char number[16], start[40], end[40], deadline[40], publish[40], *addr;
	int rc;

	snprintf(number, sizeof number, "%d", bi->number);
	frdate_long(cf->language != NULL && strcmp(cf->language, "en") == 0, bi->period_start, start, sizeof start);
	frdate_long(cf->language != NULL && strcmp(cf->language, "en") == 0, bi->period_end, end, sizeof end);
	frdate_long(cf->language != NULL && strcmp(cf->language, "en") == 0, bi->deadline, deadline, sizeof deadline);
	frdate_long(cf->language != NULL && strcmp(cf->language, "en") == 0, bi->publish_date, publish, sizeof publish);
	addr = config_address(cf, cf->bulletin_address);
	{
		const char *vars[] = { "NUMBER", number, "PERIOD_START", start, "PERIOD_END", end,
		    "DEADLINE", deadline, "PUBLISH_DATE", publish,
		    "BULLETIN_ADDRESS", addr, NULL };

		rc = bulletin_send(e, bi, kind, per_committee, tmpl, vars);
	}
	free(addr);
	return rc;
}

/* The call for contributions, once, from the first day of the period. */
static int
bulletin_call(struct engine *e, const struct bulletin_issue *bi, const char *today)
{
	int64_t n;

	if (strcmp(today, bi->period_start) < 0)
		return 0;
	if (db_int(e->db, &n, "SELECT count(*) FROM bulletin_mailing WHERE issue_id = ? AND"
	    " kind = 'call'", "i", bi->id) == -1)
		return -1;
	if (n != 0)
		return 0;
	return bulletin_mailing(e, bi, "call", 0, "bulletin-call");
}

/* Was the call sent before the day? (A call sent late, on or after a
 * reminder's day, already gives the deadline: that reminder is skipped.) */
static int
bulletin_call_before(struct engine *e, const struct bulletin_issue *bi, const char *day)
{
	int64_t sent;
	char when[11];

	if (db_int(e->db, &sent, "SELECT sent FROM bulletin_mailing WHERE issue_id = ? AND"
	    " kind = 'call'", "i", bi->id) == -1)
		return -1;
	if (sent <= 0)
		return 1;	/* no call (nobody then): remind */
	bdate_today((time_t)sent, when);
	return strcmp(when, day) < 0;
}

/* The reminder due today, if any: the smallest N of bulletin_reminders whose
 * day (deadline - N, after the first day of the period) has come. When
 * several are due (the daemon was stopped), only the nearest is sent. */
static int
bulletin_remind(struct engine *e, const struct bulletin_issue *bi, const char *today)
{
	size_t n;
	char **list = config_list(e->cf->bulletin_reminders, &n), kind[32], best_day[11];
	long best = -1;
	int64_t lacking;
	int rc;

	for (size_t i = 0; i < n; i++) {
		char *end;
		long days = strtol(list[i], &end, 10);
		struct tm tm;
		char day[11];

		if (*end != '\0' || days < 0 || days > 366 || bdate_parse(bi->deadline, &tm) == -1)
			continue;
		bdate_add_days(&tm, -(int)days);
		bdate_fmt(&tm, day);
		if (strcmp(today, day) >= 0 && strcmp(day, bi->period_start) > 0 &&
		    strcmp(today, bi->deadline) <= 0 && (best < 0 || days < best)) {
			best = days;
			memcpy(best_day, day, sizeof best_day);
		}
	}
	config_list_free(list, n);
	if (best < 0)
		return 0;
	if ((rc = bulletin_call_before(e, bi, best_day)) != 1)
		return rc;
	snprintf(kind, sizeof kind, "reminder-%ld", best);
	/* Read first, without the write lock: once the reminder is out, every
	 * tick until the deadline would open a transaction for nobody. */
	if (db_int(e->db, &lacking, "SELECT count(*) FROM contact WHERE active = 1 AND"
	    " committee_id IN (" BULLETIN_LACKING ")", "is", bi->id, kind) == -1)
		return -1;
	if (lacking == 0)
		return 0;
	return bulletin_mailing(e, bi, kind, 1, "bulletin-reminder");
}

/* Close what is past its deadline (planned ones too: a missed period). */
static int
bulletin_close_due(struct engine *e, const char *today)
{
	struct db_stmt *st = db_query(e->db, "UPDATE bulletin_issue SET state = 'closed' WHERE"
	    " state IN ('planned', 'open') AND deadline < ? RETURNING number", "s", today);
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = db_step(st)) == 1)
		log_info("bulletin issue=%lld status=closed", (long long)db_col_int(st, 0));
	db_finalize(&st);
	return rc == 0 ? 0 : -1;
}

static int
bulletin_open_due(struct engine *e, struct bulletin_issue *cur, const char *today)
{
	if (strcmp(cur->state, "planned") != 0 || strcmp(today, cur->period_start) < 0 ||
	    strcmp(today, cur->deadline) > 0)
		return 0;
	if (db_run(e->db, "UPDATE bulletin_issue SET state = 'open' WHERE id = ? AND state ="
	    " 'planned'", "i", cur->id) == -1)
		return -1;
	log_info("bulletin issue=%d status=open deadline=%s", cur->number, cur->deadline);
	snprintf(cur->state, sizeof cur->state, "open");
	return 0;
}

/* ---- refused copies of a proof or a publication ---- */

struct bulletin_refused {
	int	 number;
	int64_t	 issue_id, message_id;
	int	 proof;
	long	 sent, deferred, failed;
	char	*reason;	/* the commonest answer of the refusals */
};

/* Tracked mailings with refused copies whose first pass is over (nothing
 * left 'queued') and not yet reported. */
#define BULLETIN_REFUSED_SQL \
	"SELECT i.number, b.issue_id, b.message_id, b.kind LIKE 'proof-%'," \
	" (SELECT count(*) FROM delivery d WHERE d.message_id = b.message_id AND d.state = 'sent')," \
	" (SELECT count(*) FROM delivery d WHERE d.message_id = b.message_id AND d.state =" \
	" 'deferred'), (SELECT count(*) FROM delivery d WHERE d.message_id = b.message_id AND" \
	" d.state = 'failed'), (SELECT last_reply FROM delivery d WHERE d.message_id =" \
	" b.message_id AND d.state = 'failed' GROUP BY last_reply ORDER BY count(*) DESC LIMIT 1)" \
	" FROM bulletin_mailing b JOIN bulletin_issue i ON i.id = b.issue_id WHERE" \
	" b.message_id IS NOT NULL AND (b.kind = 'publication' OR b.kind LIKE 'proof-%') AND" \
	" NOT EXISTS (SELECT 1 FROM bulletin_mailing r WHERE r.issue_id = b.issue_id AND r.kind =" \
	" 'refused-' || b.message_id) AND EXISTS (SELECT 1 FROM delivery d WHERE d.message_id =" \
	" b.message_id AND d.state = 'failed') AND NOT EXISTS (SELECT 1 FROM delivery d WHERE" \
	" d.message_id = b.message_id AND d.state = 'queued')"

/* One mail to the editors saying how many copies were refused and why;
 * recorded with it, in one transaction, so it goes once (again after a
 * resend, which forgets the record). */
static int
bulletin_refused_notice(struct engine *e, const struct bulletin_refused *r)
{
	int en = strcmp(e->cf->language, "en") == 0;
	char number[16], sent[24], deferred[24], failed[24], total[24], kind[40], token[33];
	const char *vars[] = { "NUMBER", number, "SENT", sent, "DEFERRED", deferred, "FAILED", failed,
	    "TOTAL", total, "REASON", r->reason ? r->reason : "?", "WHAT", r->proof ?
	    (en ? "proof" : "épreuve") : "publication", "WHAT_OF", r->proof ?
	    (en ? "of the proof" : "de l'épreuve") : (en ? "of the publication" :
	    "de la publication"), NULL };
	struct roster_sender *eds = NULL;
	struct queue_rcpt *rcpts;
	char *subject = NULL, *msg;
	size_t neds = 0, len;
	int rc = -1;

	snprintf(number, sizeof number, "%d", r->number);
	snprintf(sent, sizeof sent, "%ld", r->sent);
	snprintf(deferred, sizeof deferred, "%ld", r->deferred);
	snprintf(failed, sizeof failed, "%ld", r->failed);
	snprintf(total, sizeof total, "%ld", r->sent + r->deferred + r->failed);
	snprintf(kind, sizeof kind, "refused-%lld", (long long)r->message_id);
	if (roster_senders(e->db, "editor", &eds, &neds) != ROSTER_OK)
		return -1;
	rcpts = xcalloc(neds + 1, sizeof *rcpts);
	for (size_t i = 0; i < neds; i++)
		rcpts[i].email = eds[i].email;
	msg = bulletin_build(e, "bulletin-refused", vars, &subject, &len);
	if (msg != NULL && db_begin(e->db) == 0) {
		if (db_run(e->db, "INSERT INTO bulletin_mailing (issue_id, kind, committee_id, sent)"
		    " VALUES (?, ?, 0, ?)", "isi", r->issue_id, kind, (int64_t)now()) == 0 &&
		    (neds == 0 || queue_message(e, "notice", subject, msg, len, rcpts, neds,
		    token) != -1) && db_commit(e->db) == 0)
			rc = 0;
		else
			db_rollback(e->db);
	}
	if (rc == 0)
		log_warnx("bulletin issue=%d mailing=%s sent=%ld deferred=%ld failed=%ld editors=%zu"
		    " reason=\"%s\" status=reported", r->number, r->proof ? "proof" : "publication",
		    r->sent, r->deferred, r->failed, neds, r->reason ? r->reason : "");
	free(msg);
	free(subject);
	free(rcpts);
	roster_senders_free(eds, neds);
	return rc;
}

static int
bulletin_refusals(struct engine *e)
{
	struct db_stmt *st = db_query(e->db, BULLETIN_REFUSED_SQL, "");
	struct bulletin_refused *list = NULL;
	size_t n = 0;
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = db_step(st)) == 1) {
		struct bulletin_refused *r;

		list = xrealloc(list, (n + 1) * sizeof *list);
		r = &list[n++];
		r->number = (int)db_col_int(st, 0);
		r->issue_id = db_col_int(st, 1);
		r->message_id = db_col_int(st, 2);
		r->proof = (int)db_col_int(st, 3);
		r->sent = (long)db_col_int(st, 4);
		r->deferred = (long)db_col_int(st, 5);
		r->failed = (long)db_col_int(st, 6);
		r->reason = db_col_null(st, 7) ? NULL : xstrdup(db_col_text(st, 7));
	}
	db_finalize(&st);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && bulletin_refused_notice(e, &list[i]) == -1)
			rc = -1;
		free(list[i].reason);
	}
	free(list);
	return rc;
}

/* Call and reminders of every open issue (normally one). */
static int
bulletin_open_mailings(struct engine *e, const char *today)
{
	struct db_stmt *st = db_query(e->db, "SELECT " BULLETIN_ISSUE_COLS " FROM bulletin_issue"
	    " WHERE state = 'open' ORDER BY number", "");
	struct bulletin_issue *open = NULL;
	size_t n = 0;
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = db_step(st)) == 1) {
		open = xrealloc(open, (n + 1) * sizeof *open);
		bulletin_row(st, &open[n++]);
	}
	db_finalize(&st);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (bulletin_call(e, &open[i], today) == -1 ||
		    bulletin_remind(e, &open[i], today) == -1)
			rc = -1;
	free(open);
	return rc;
}

int
bulletin_tick(struct engine *e)
{
	struct bulletin_issue cur;
	char today[11];
	time_t t = now();
	int rc;

	bdate_today(t, today);
	if ((rc = bulletin_current(e, t, &cur)) == -1 || bulletin_close_due(e, today) == -1)
		return -1;
	if (rc == 0 && bulletin_open_due(e, &cur, today) == -1)
		return -1;
	if (bulletin_open_mailings(e, today) == -1 || bulletin_refusals(e) == -1)
		return -1;
	return editor_digest(e) == -1 ? -1 : 0;
}
