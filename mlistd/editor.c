/*
 * editor.c — the editors' work on submissions (see editor.h): the rules of
 * each action, the daily digest, and the one-word commands by email.
 *
 * Rules: a submission that was replaced by a correction, or belongs to a
 * published issue, is not changed any more; a submission is accepted only
 * when it has a committee and an issue (a held mail from an unknown sender
 * has neither). Every change is written to the audit trail.
 *
 * Commands by email are read and applied in editor_mail.c, through the
 * functions here.
 *
 * The digest is rendered with notice_render_dict() (a repeated section per
 * submission) and queued as one message to every editor; the mailing row
 * ('digest-YYYY-MM-DD'), the message and the 'digested' marks are written in
 * one transaction, so a restart never sends the same digest twice.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "answer.h"
#include "autoreply.h"
#include "bulletin.h"
#include "config.h"
#include "db.h"
#include "editor.h"
#include "engine.h"
#include "frdate.h"
#include "i18n.h"
#include "log.h"
#include "mime.h"
#include "notice.h"
#include "queue.h"
#include "roster.h"
#include "tmpl.h"
#include "util.h"

#define EDITOR_EXCERPT	300	/* characters of text shown in the digest */
#define EDITOR_MAX_IDS	64	/* ids on one command line */

static __thread char editor_errbuf[512];

static int
editor_fail(const char **err_r, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(editor_errbuf, sizeof editor_errbuf, fmt, ap);
	va_end(ap);
	if (err_r)
		*err_r = editor_errbuf;
	return code;
}

static int
editor_dberr(struct engine *e, const char **err_r)
{
	return editor_fail(err_r, -1, "%s: %s", tr("base de données", "database"),
	    db_errmsg(e->db));
}

struct editor_sub {
	char	 state[16];
	char	 issue_state[16];
	int64_t	 issue_id;	/* 0: none */
	int64_t	 committee_id;	/* 0: none */
};

/* Load a submission that may still be changed: 1, 0 (unknown, replaced,
 * published), -1. */
static int
editor_load(struct engine *e, int64_t id, struct editor_sub *s, const char **err_r)
{
	struct db_stmt *st = db_query(e->db, "SELECT s.state, coalesce(i.state, ''),"
	    " coalesce(s.issue_id, 0), coalesce(s.committee_id, 0) FROM submission s LEFT JOIN"
	    " bulletin_issue i ON i.id = s.issue_id WHERE s.id = ?", "i", id);
	int rc;

	if (st == NULL)
		return editor_dberr(e, err_r);
	if ((rc = db_step(st)) == 1) {
		snprintf(s->state, sizeof s->state, "%s", db_col_text(st, 0));
		snprintf(s->issue_state, sizeof s->issue_state, "%s", db_col_text(st, 1));
		s->issue_id = db_col_int(st, 2);
		s->committee_id = db_col_int(st, 3);
	}
	db_finalize(&st);
	if (rc == -1)
		return editor_dberr(e, err_r);
	if (rc == 0)
		return editor_fail(err_r, 0, tr("compte rendu %lld inconnu",
		    "unknown submission %lld"), (long long)id);
	if (strcmp(s->state, "replaced") == 0)
		return editor_fail(err_r, 0, tr("le compte rendu %lld a été remplacé par une"
		    " correction", "submission %lld was replaced by a correction"), (long long)id);
	if (strcmp(s->issue_state, "published") == 0)
		return editor_fail(err_r, 0, tr("le compte rendu %lld appartient à un numéro déjà"
		    " publié", "submission %lld belongs to an issue already published"),
		    (long long)id);
	return 1;
}

/* Run an UPDATE on one submission and audit it. */
static int
editor_update(struct engine *e, const char **err_r, const char *audit, int64_t id,
    const char *sql, const char *types, const char *a, const char *b)
{
	int rc = b ? db_run(e->db, sql, types, a, b, id) : db_run(e->db, sql, types, a, id);

	if (rc == -1)
		return editor_dberr(e, err_r);
	roster_audit(e->db, "submission %lld %s", (long long)id, audit);
	engine_logf(e, "submission=%lld action=\"%s\"", (long long)id, audit);
	return 1;
}

int
editor_set_state(struct engine *e, int64_t submission_id, const char *state,
    const char **err_r)
{
	static const char *const states[] = { "accepted", "rejected", "held", "new" };
	struct editor_sub s;
	size_t i;
	int rc;

	for (i = 0; i < nitems(states); i++)
		if (state && strcmp(state, states[i]) == 0)
			break;
	if (i == nitems(states))
		return editor_fail(err_r, 0, tr("état inconnu : %s", "unknown state: %s"),
		    state ? state : "");
	if ((rc = editor_load(e, submission_id, &s, err_r)) != 1)
		return rc;
	if (strcmp(state, "accepted") == 0 && (s.committee_id == 0 || s.issue_id == 0))
		return editor_fail(err_r, 0, tr("le compte rendu %lld n'a pas de comité ou de numéro"
		    " de bulletin : elle ne peut pas être acceptée", "submission %lld has no committee"
		    " or no issue: it cannot be accepted"), (long long)submission_id);
	if (strcmp(s.state, state) == 0)
		return 1;
	return editor_update(e, err_r, state, submission_id,
	    "UPDATE submission SET state = ? WHERE id = ?", "si", state, NULL);
}

int
editor_set_text(struct engine *e, int64_t submission_id, const char *title,
    const char *body, const char **err_r)
{
	struct editor_sub s;
	char *t;
	int rc;

	if (title == NULL || body == NULL || !utf8_valid(title, strlen(title)) ||
	    !utf8_valid(body, strlen(body)))
		return editor_fail(err_r, 0, "%s", tr("texte illisible (UTF-8 attendu)",
		    "unreadable text (UTF-8 expected)"));
	t = xstrdup(title);
	for (char *p = t; *p; p++)
		if (*p == '\r' || *p == '\n' || *p == '\t')
			*p = ' ';
	str_trim(t);
	if (*t == '\0')
		rc = editor_fail(err_r, 0, "%s", tr("titre vide", "empty title"));
	else if ((rc = editor_load(e, submission_id, &s, err_r)) == 1)
		rc = editor_update(e, err_r, "edited", submission_id,
		    "UPDATE submission SET title = ?, body = ? WHERE id = ?", "ssi", t, body);
	free(t);
	return rc;
}

int
editor_set_date(struct engine *e, int64_t submission_id, const char *yyyy_mm_dd,
    const char **err_r)
{
	struct editor_sub s;
	char audit[32];
	int rc;

	if (!bulletin_date_valid(yyyy_mm_dd))
		return editor_fail(err_r, 0, tr("date invalide : %s (attendu AAAA-MM-JJ)",
		    "invalid date: %s (expected YYYY-MM-DD)"), yyyy_mm_dd ? yyyy_mm_dd : "");
	if ((rc = editor_load(e, submission_id, &s, err_r)) != 1)
		return rc;
	snprintf(audit, sizeof audit, "date %s", yyyy_mm_dd);
	return editor_update(e, err_r, audit, submission_id,
	    "UPDATE submission SET activity_date = ? WHERE id = ?", "si", yyyy_mm_dd, NULL);
}

int
editor_date_read(struct engine *e, int64_t id, const char *args, char ymd[11])
{
	char today[11], *start, *text;
	time_t t = now();
	struct tm tm;
	int found;

	if (bulletin_date_valid(args)) {
		snprintf(ymd, 11, "%s", args);
		return 1;
	}
	localtime_r(&t, &tm);
	strftime(today, sizeof today, "%Y-%m-%d", &tm);
	start = db_str(e->db, "SELECT coalesce(i.period_start, '') FROM submission s LEFT JOIN"
	    " bulletin_issue i ON i.id = s.issue_id WHERE s.id = ?", "i", id);
	text = xasprintf("le %s", args);
	found = frdate_pick(text, today, start ? start : "", ymd) == 1 && bulletin_date_valid(ymd);
	free(text);
	free(start);
	return found;
}

/* The other submissions of the issue in their current order. */
static int
editor_order(struct engine *e, int64_t issue_id, int64_t except, int64_t **ids_r, size_t *n_r)
{
	struct db_stmt *st = db_query(e->db, "SELECT id FROM submission WHERE issue_id = ? AND"
	    " id != ? AND state NOT IN ('rejected', 'replaced') ORDER BY position IS NULL,"
	    " position, received, id", "ii", issue_id, except);
	int rc;

	*ids_r = NULL;
	*n_r = 0;
	if (st == NULL)
		return -1;
	while ((rc = db_step(st)) == 1) {
		*ids_r = xrealloc(*ids_r, (*n_r + 1) * sizeof **ids_r);
		(*ids_r)[(*n_r)++] = db_col_int(st, 0);
	}
	db_finalize(&st);
	return rc == 0 ? 0 : -1;
}

/* Renumber the issue 1..n with the submission inserted at position. */
static int
editor_renumber(struct engine *e, const int64_t *ids, size_t n, int64_t id, size_t position)
{
	size_t k = 1;

	for (size_t i = 0; i <= n; i++) {
		if (i == position - 1 && db_run(e->db, "UPDATE submission SET position = ? WHERE"
		    " id = ?", "ii", (int64_t)k++, id) == -1)
			return -1;
		if (i < n && db_run(e->db, "UPDATE submission SET position = ? WHERE id = ?", "ii",
		    (int64_t)k++, ids[i]) == -1)
			return -1;
	}
	return 0;
}

int
editor_set_position(struct engine *e, int64_t submission_id, int position,
    const char **err_r)
{
	struct editor_sub s;
	int64_t *ids = NULL;
	size_t n = 0;
	int rc;

	if (position < 1)
		return editor_fail(err_r, 0, "%s", tr("la position commence à 1",
		    "positions start at 1"));
	if ((rc = editor_load(e, submission_id, &s, err_r)) != 1)
		return rc;
	if (s.issue_id == 0)
		return editor_fail(err_r, 0, tr("le compte rendu %lld n'a pas de numéro de bulletin",
		    "submission %lld has no issue"), (long long)submission_id);
	if (db_begin(e->db) == -1)
		return editor_dberr(e, err_r);
	if (editor_order(e, s.issue_id, submission_id, &ids, &n) == -1 ||
	    editor_renumber(e, ids, n, submission_id,
	    (size_t)position > n + 1 ? n + 1 : (size_t)position) == -1 ||
	    db_commit(e->db) == -1) {
		rc = editor_dberr(e, err_r);
		db_rollback(e->db);
		free(ids);
		return rc;
	}
	free(ids);
	roster_audit(e->db, "submission %lld position %d", (long long)submission_id, position);
	return 1;
}

/* The issue a held submission goes to: issue_number, else the one it
 * has, else the issue open now. 1 and *id_r, or 0 / -1 with err_r. */
static int
editor_assign_issue(struct engine *e, const struct editor_sub *s, int issue_number,
    int64_t *id_r, const char **err_r)
{
	struct bulletin_issue bi;
	int rc;

	if (issue_number == 0 && s->issue_id != 0) {
		*id_r = s->issue_id;
		return 1;
	}
	rc = issue_number ? bulletin_get(e, issue_number, &bi) : bulletin_open_issue(e, now(), &bi);
	if (rc == -1)
		return editor_dberr(e, err_r);
	if (rc == 1)
		return editor_fail(err_r, 0, "%s", issue_number ? tr("numéro de bulletin inconnu",
		    "unknown bulletin issue") : tr("aucun numéro n'est ouvert : précisez-le",
		    "no issue is open: name one"));
	if (strcmp(bi.state, "published") == 0)
		return editor_fail(err_r, 0, tr("le numéro %d est déjà publié",
		    "issue %d is already published"), bi.number);
	*id_r = bi.id;
	return 1;
}

int
editor_assign(struct engine *e, int64_t submission_id, const char *committee,
    int issue_number, const char **err_r)
{
	struct editor_sub s;
	int64_t cid, iid = 0;
	char audit[96];
	int rc;

	if ((rc = editor_load(e, submission_id, &s, err_r)) != 1)
		return rc;
	if ((cid = roster_committee_lookup(e->db, committee)) <= 0)
		return editor_fail(err_r, 0, tr("comité inconnu : %s", "unknown committee: %s"),
		    committee);
	if ((rc = editor_assign_issue(e, &s, issue_number, &iid, err_r)) != 1)
		return rc;
	snprintf(audit, sizeof audit, "assigned committee=%lld issue=%lld", (long long)cid,
	    (long long)iid);
	if (db_run(e->db, "UPDATE submission SET committee_id = ?, issue_id = ?, state = CASE"
	    " state WHEN 'held' THEN 'new' ELSE state END, hold_reason = '' WHERE id = ?", "iii",
	    cid, iid, submission_id) == -1)
		return editor_dberr(e, err_r);
	roster_audit(e->db, "submission %lld %s", (long long)submission_id, audit);
	engine_logf(e, "submission=%lld action=\"%s\"", (long long)submission_id, audit);
	return 1;
}

/* ---- the digest ---- */

/* The first max characters of s (UTF-8), "…" added when cut (white space before it dropped). */
static char *
editor_excerpt(const char *s, size_t max)
{
	size_t i = utf8_prefix_len(s, max);

	if (s[i] == '\0')
		return xstrdup(s);
	while (i > 0 && strchr(" \t\r\n", s[i - 1]))
		i--;
	return xasprintf("%.*s…", (int)i, s);
}

/* The text with each photo marker (content.h) written for a person:
 * "(photo 1)". */
static char *
editor_readable(const char *body)
{
	struct buf b;
	const char *p = body;

	buf_init(&b);
	while (*p) {
		int n = 0, len = 0;

		if (sscanf(p, "[[photo:%d]]%n", &n, &len) == 1 && len > 0 && (p == body ||
		    p[-1] == '\n') && (p[len] == '\n' || p[len] == '\0')) {
			buf_printf(&b, tr("(photo %d)", "(photo %d)"), n);
			p += len;
		} else
			buf_addc(&b, *p++);
	}
	return buf_steal(&b);
}

#define EDITOR_DIGEST_WHERE "s.digested IS NULL AND s.state IN ('new', 'held')"

/* One {{#SUBMISSION}} row per undigested submission; the count of rows. */
static int
editor_digest_rows(struct engine *e, struct tmpl_dict *d, int64_t *first_r)
{
	struct db_stmt *st = db_query(e->db, "SELECT s.id, coalesce(c.name, ''), s.title, s.body,"
	    " s.state, s.hold_reason, s.sender, coalesce(i.number, 0), (SELECT count(*) FROM"
	    " submission_file f WHERE f.submission_id = s.id AND f.is_photo), (SELECT count(*)"
	    " FROM submission_file f WHERE f.submission_id = s.id AND NOT f.is_photo)"
	    " FROM submission s LEFT JOIN committee c ON c.id = s.committee_id LEFT JOIN"
	    " bulletin_issue i ON i.id = s.issue_id WHERE " EDITOR_DIGEST_WHERE " ORDER BY s.id", "");
	int n = 0, rc;

	if (st == NULL)
		return -1;
	while ((rc = db_step(st)) == 1) {
		struct tmpl_dict *row = tmpl_add_section(d, "SUBMISSION");
		char *text = editor_readable(db_col_text(st, 3)),
		    *excerpt = editor_excerpt(text, EDITOR_EXCERPT);

		if (n++ == 0)
			*first_r = db_col_int(st, 0);
		tmpl_set_int(row, "ID", db_col_int(st, 0));
		tmpl_set(row, "COMMITTEE", db_col_text(st, 1));
		tmpl_show_section(row, *db_col_text(st, 1) ? "KNOWN" : "UNKNOWN");
		tmpl_set(row, "TITLE", db_col_text(st, 2));
		tmpl_set(row, "EXCERPT", excerpt);
		if (strcmp(db_col_text(st, 4), "held") == 0)
			tmpl_show_section(row, "HELD");
		tmpl_set(row, "HOLD_REASON", db_col_text(st, 5));
		tmpl_set(row, "SENDER", db_col_text(st, 6));
		tmpl_set_int(row, "ISSUE", db_col_int(st, 7));
		if (db_col_int(st, 7) > 0)
			tmpl_show_section(row, "HAS_ISSUE");
		tmpl_set_int(row, "PHOTOS", db_col_int(st, 8));
		tmpl_set_int(row, "NFILES", db_col_int(st, 9));
		if (db_col_int(st, 9) > 0)
			tmpl_show_section(row, "FILES");
		free(excerpt);
		free(text);
	}
	db_finalize(&st);
	return rc == 0 ? n : -1;
}

/* Render the digest: its subject and body, and the number of submissions. */
static int
editor_digest_render(struct engine *e, char **subject_r, char **body_r)
{
	struct tmpl_dict *d = tmpl_dict_new();
	char *from = config_address(e->cf, e->cf->bulletin_address);
	const char *err = NULL;
	int64_t first = 0;
	int n;

	tmpl_set(d, "BULLETIN_ADDRESS", from);
	if ((n = editor_digest_rows(e, d, &first)) > 0) {
		char *help = editor_help(e, first);

		tmpl_set(d, "HELP", help);
		free(help);
		tmpl_set_int(d, "COUNT", n);
		tmpl_set_int(d, "EXAMPLE_ID", first);
		if (notice_render_dict(e, "editor-digest", d, subject_r, body_r, &err) == -1)
			n = -1;
	}
	if (n == -1)
		log_warnx("digest status=error reason=\"%s\"", err ? err : db_errmsg(e->db));
	tmpl_dict_free(&d);
	free(from);
	return n;
}

/* Queue the digest to the editors and record it, in one transaction. */
static int
editor_digest_send(struct engine *e, int64_t issue_id, const char *kind,
    const struct queue_rcpt *rcpts, size_t nrcpts)
{
	char *subject = NULL, *body = NULL, *msg = NULL, *from, token[33];
	const char *hdrs[] = { "Auto-Submitted", "auto-generated", "X-Loop", e->list_addr, NULL };
	size_t len;
	int n, rc = -1;

	if (db_begin(e->db) == -1)
		return -1;
	from = config_address(e->cf, e->cf->bulletin_address);
	if ((n = editor_digest_render(e, &subject, &body)) > 0 &&
	    (msg = mime_build_text(e->cf->list_name, from, from, subject, body, hdrs, 1, &len)) &&
	    db_run(e->db, "INSERT INTO bulletin_mailing (issue_id, kind, committee_id, sent)"
	    " VALUES (?, ?, 0, ?)", "isi", issue_id, kind, (int64_t)now()) == 0 &&
	    db_run(e->db, "UPDATE submission AS s SET digested = ? WHERE " EDITOR_DIGEST_WHERE, "i",
	    (int64_t)now()) == 0 &&
	    queue_message(e, "digest", subject, msg, len, rcpts, nrcpts, token) != -1 &&
	    db_commit(e->db) == 0) {
		log_info("digest=%s msgid=%s submissions=%d editors=%zu status=queued", kind, token, n,
		    nrcpts);
		rc = 0;
	} else
		db_rollback(e->db);
	free(from);
	free(subject);
	free(body);
	free(msg);
	return rc;
}

int
editor_digest(struct engine *e)
{
	struct bulletin_issue cur;
	struct roster_sender *eds = NULL;
	struct queue_rcpt *rcpts;
	size_t n = 0;
	char kind[32];
	int64_t pending, sent;
	struct tm tm;
	time_t t;
	int rc;

	if (db_int(e->db, &pending, "SELECT count(*) FROM submission s WHERE "
	    EDITOR_DIGEST_WHERE, "") == -1)
		return -1;
	if (pending == 0)
		return 0;
	if (bulletin_current(e, now(), &cur) == -1)
		return -1;
	t = now();
	localtime_r(&t, &tm);
	strftime(kind, sizeof kind, "digest-%Y-%m-%d", &tm);	/* the local day */
	if (db_int(e->db, &sent, "SELECT count(*) FROM bulletin_mailing WHERE issue_id = ? AND"
	    " kind = ?", "is", cur.id, kind) == -1)
		return -1;
	if (sent != 0)
		return 0;
	if (roster_senders(e->db, "editor", &eds, &n) != ROSTER_OK) {
		roster_senders_free(eds, n);
		return -1;
	}
	if (n == 0)
		return 0;	/* nobody to tell: they stay undigested */
	rcpts = xcalloc(n, sizeof *rcpts);
	for (size_t i = 0; i < n; i++)
		rcpts[i].email = eds[i].email;
	rc = editor_digest_send(e, cur.id, kind, rcpts, n) == 0 ? 0 : -1;
	free(rcpts);
	roster_senders_free(eds, n);
	return rc;
}
