/*
 * office.c — the report on a broadcast mailed to its author (see office.h).
 *
 * Which broadcasts: released at least broadcast_report_after ago and less
 * than broadcast_report_after + queue_lifetime ago (after that every
 * delivery is settled and a report would come too late to act on), with
 * no broadcast_report row. Broadcasts released before this table existed
 * were given a row by its migration: an upgrade sends no old report.
 *
 * Exactly once: the row is inserted (INSERT OR IGNORE: a second tick, or a
 * second process, finds it and stops) and the mail queued in the same
 * transaction. A crash before the commit leaves neither, and the next tick
 * sends it; after the commit the queue owns the mail (queue.h).
 *
 * The mail: the fragment broadcast-report.txt (also STATUT's answer by
 * mail) inside request-answer.txt, from the request address with
 * Auto-Submitted: auto-generated, In-Reply-To and References naming the
 * broadcast (mail clients show the report under it); a reply reaches aide@,
 * where STATUT gives the report again.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "engine.h"
#include "i18n.h"
#include "log.h"
#include "mime.h"
#include "notice.h"
#include "office.h"
#include "queue.h"
#include "status.h"
#include "tmpl.h"
#include "util.h"

/* Broadcasts released in [?2, ?1] without a report yet. */
#define OFFICE_DUE \
	" FROM message m WHERE m.kind = 'broadcast' AND m.released IS NOT NULL AND" \
	" m.released <= ?1 AND m.released > ?2 AND NOT EXISTS (SELECT 1 FROM broadcast_report" \
	" r WHERE r.message_id = m.id)"

void
office_date(const struct engine *e, int64_t t, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;
	int en = e->cf->language && strcmp(e->cf->language, "en") == 0;

	if (localtime_r(&tt, &tm) == NULL)
		snprintf(out, outlen, "?");
	else
		strftime(out, outlen, en ? "%Y-%m-%d %H:%M" : "%d/%m/%Y à %H:%M", &tm);
}

static void
office_unreached(const struct status_committee *c, struct tmpl_dict *d)
{
	struct tmpl_dict *u = tmpl_add_section(d, "UNREACHED");

	tmpl_set(u, "COMMITTEE_NAME", c->name);
	tmpl_show_section(u, c->pending > 0 ? "PENDING" : "UNREACHABLE");
	for (size_t j = 0; j < c->ncontacts; j++) {
		struct tmpl_dict *k = tmpl_add_section(u, "CONTACT");

		tmpl_set(k, "RCPT", c->contacts[j].rcpt);
		tmpl_set(k, "STATE", i18n_state("delivery", c->contacts[j].state));
		if (*c->contacts[j].reply)
			tmpl_set(tmpl_add_section(k, "SERVER"), "LAST_REPLY",
			    i18n_state("reply", c->contacts[j].reply));
	}
	if (c->ncontacts == 0)
		tmpl_show_section(u, "NO_CONTACT");
}

/* Append name to a list of names that wraps before 72 columns (indent 2). */
static void
office_name(struct buf *names, size_t *col, const char *name)
{
	size_t w = strlen(name);

	if (names->len > 0 && *col + w + 2 > 70) {
		buf_adds(names, ",\n  ");
		*col = 0;
	} else if (names->len > 0) {
		buf_adds(names, ", ");
		*col += 2;
	}
	buf_adds(names, name);
	*col += w;
}

static void
office_committees(const struct status_bcast *b, struct tmpl_dict *d)
{
	struct buf names;
	size_t col = 0;

	buf_init(&names);
	for (size_t i = 0; i < b->ncommittees; i++)
		if (b->committees[i].sent > 0)
			office_name(&names, &col, b->committees[i].name);
		else
			office_unreached(&b->committees[i], d);
	if (names.len > 0)
		tmpl_set(tmpl_add_section(d, "REACHED"), "REACHED_NAMES", buf_cstr(&names));
	if (b->ncommittees > 0 && b->nreached == b->ncommittees)
		tmpl_show_section(d, "ALL_REACHED");
	else if (b->nreached < b->ncommittees)
		tmpl_show_section(d, "UNREACHED_ANY");
	buf_free(&names);
}

static void
office_replies(const struct engine *e, const struct status_bcast *b, struct tmpl_dict *d)
{
	char date[32];

	for (size_t i = 0; i < b->nreplies; i++) {
		struct tmpl_dict *r = tmpl_add_section(d, "REPLY");

		tmpl_set(r, "WHO", b->replies[i].sender);
		office_date(e, b->replies[i].received, date, sizeof date);
		tmpl_set(r, "REPLY_DATE", date);
		if (b->replies[i].committee)
			tmpl_set(tmpl_add_section(r, "FROM_COMMITTEE"), "REPLY_COMMITTEE",
			    b->replies[i].committee);
		else
			tmpl_show_section(r, "FROM_UNKNOWN");
	}
	if (b->nreplies == 0)
		tmpl_show_section(d, "NO_REPLY");
	if (b->nauto > 0)
		tmpl_set_int(tmpl_add_section(d, "AUTO"), "NAUTO", b->nauto);
}

void
office_report_dict(const struct engine *e, const struct status_bcast *b, struct tmpl_dict *d)
{
	char date[32], shortid[STATUS_ID_LEN + 1];

	snprintf(shortid, sizeof shortid, "%s", b->token);
	tmpl_set(d, "SUBJECT", b->subject);
	tmpl_set(d, "SHORT_ID", shortid);
	tmpl_set(d, "TOKEN", b->token);
	office_date(e, b->released ? b->released : b->received, date, sizeof date);
	tmpl_set(d, "DATE", date);
	if (*b->target)
		tmpl_set(tmpl_add_section(d, "ONE_TARGET"), "TARGET", b->target);
	else
		tmpl_show_section(d, "ALL_TARGET");
	if (b->released == 0)
		tmpl_show_section(d, "NOT_SENT");
	tmpl_set_int(d, "NCOMMITTEES", (long long)b->ncommittees);
	tmpl_set_int(d, "NREACHED", (long long)b->nreached);
	tmpl_set_int(d, "NUNREACHED", (long long)(b->ncommittees - b->nreached));
	tmpl_set_int(d, "NREPLIES", (long long)b->nreplies);
	office_committees(b, d);
	office_replies(e, b, d);
}

/* The report mail (CRLF, caller frees), its subject in *subject_r. */
static char *
office_mail(struct engine *e, const struct status_bcast *b, char **subject_r, size_t *len_r)
{
	struct tmpl_dict *d = tmpl_dict_new();
	char *fragment = NULL, *body = NULL, *subject = NULL, *msg = NULL;
	char *mid = *b->message_id ? xasprintf("<%s>", b->message_id) : NULL;
	const char *hdrs[] = { "Auto-Submitted", "auto-generated", "X-Loop", e->list_addr,
	    "X-Mlistd-Broadcast", b->token, mid ? "In-Reply-To" : NULL, mid, "References", mid,
	    NULL };
	const char *err = NULL;

	office_report_dict(e, b, d);
	if (notice_render_dict(e, "broadcast-report", d, subject_r, &fragment, &err) == -1 ||
	    notice_render(e, "request-answer", (const char *[]){ "SUBJECT", *subject_r, "BODY",
	    str_trim(fragment), NULL }, &subject, &body, &err) == -1)
		log_warnx("msgid=%s template=broadcast-report status=error reason=\"%s\"", b->token,
		    err);
	else
		msg = mime_build_text(e->cf->list_name, e->request_addr, b->author, *subject_r, body,
		    hdrs, 1, len_r);
	tmpl_dict_free(&d);
	free(fragment);
	free(subject);
	free(body);
	free(mid);
	return msg;
}

/* Queue the report on one broadcast, inside the caller's transaction. */
static int
office_queue(struct engine *e, const struct status_bcast *b)
{
	struct queue_rcpt r = { .email = b->author };
	char *subject = NULL, *msg, token[33];
	size_t len;
	int rc = -1;

	if ((msg = office_mail(e, b, &subject, &len)) != NULL &&
	    queue_message(e, "broadcast-report", subject, msg, len, &r, 1, token) > 0)
		rc = 0;
	free(msg);
	free(subject);
	return rc;
}

/* Record and queue one report: 1 queued, 0 already done, -1 error. */
static int
office_report(struct engine *e, const char *token)
{
	struct status_bcast b;
	int rc = status_load(e->db, token, &b), fresh = 0;

	if (rc != 1)
		return rc;
	if (db_begin(e->db) == -1 || db_run(e->db, "INSERT OR IGNORE INTO broadcast_report"
	    " (message_id, sent) VALUES (?, ?)", "ii", b.id, (int64_t)now()) == -1)
		rc = -1;
	else if ((fresh = db_changes(e->db) > 0) && *b.author != '\0' && office_queue(e, &b) == -1)
		rc = -1;
	if (rc == 1 && db_commit(e->db) == -1)
		rc = -1;
	if (rc == -1)
		db_rollback(e->db);
	else if (fresh && *b.author == '\0')
		log_warnx("msgid=%s status=unreported reason=\"the broadcast has no author\"", b.token);
	else if (fresh)
		log_info("msgid=%s rcpt=%s status=reported reached=%zu/%zu replies=%zu", b.token,
		    b.author, b.nreached, b.ncommittees, b.nreplies);
	status_free(&b);
	return rc == -1 ? -1 : fresh;
}

int
office_tick(struct engine *e)
{
	int64_t t = now(), after = e->cf->broadcast_report_after;
	struct db_stmt *st;
	char **tokens = NULL;
	size_t n = 0;
	int rc, total = 0;

	if (after <= 0)
		return 0;
	st = db_query(e->db, "SELECT m.token" OFFICE_DUE " ORDER BY m.id", "ii", t - after,
	    t - after - e->cf->queue_lifetime);
	if (st == NULL)
		return -1;
	while ((rc = db_step(st)) == 1) {
		tokens = xrealloc(tokens, (n + 1) * sizeof *tokens);
		tokens[n++] = xstrdup(db_col_text(st, 0));
	}
	db_finalize(&st);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		int k = office_report(e, tokens[i]);

		rc = k == -1 ? -1 : 0;
		total += k == 1;
	}
	status_tokens_free(tokens, n);
	return rc == -1 ? -1 : total;
}

long
office_next_due(struct engine *e)
{
	int64_t t = now(), after = e->cf->broadcast_report_after, first;

	if (after <= 0 || db_int(e->db, &first, "SELECT coalesce(min(m.released), 0)" OFFICE_DUE,
	    "ii", t, t - after - e->cf->queue_lifetime) != 1 || first == 0)
		return -1;
	return first + after <= t ? 0 : (long)(first + after - t);
}
