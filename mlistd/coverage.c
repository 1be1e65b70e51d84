/*
 * coverage.c — can every committee be reached? (see coverage.h)
 *
 * A contact is reachable when it is active and its bounce_score is below
 * bounce_score_threshold. For one broadcast, a delivery still counts as
 * reaching its committee when its contact is reachable, it is sent,
 * queued or deferred, and no hard, soft or spam bounce came back for it;
 * a committee the broadcast targeted with no such delivery (every delivery
 * failed, or bounced, or its contact disabled, or no delivery at all
 * because it had no active contact) is unreachable.
 *
 * The tick looks at broadcasts released at least coverage_alert_after ago.
 * The window closes queue_lifetime + coverage_alert_after after release
 * (not at queue_lifetime exactly): a delivery deferred until it expires
 * fails at queue_lifetime, and that committee must still get its alert.
 * The alert row (coverage_alert) and the mail are committed together, so
 * an alert is sent once per (broadcast, committee) even across crashes.
 * Alerts go through queue_message, not notice_send: the office must not
 * lose an alert to the per-address rate limit of notices.
 */
#include <stdlib.h>
#include <string.h>

#include "broadcast.h"
#include "config.h"
#include "coverage.h"
#include "db.h"
#include "engine.h"
#include "i18n.h"
#include "log.h"
#include "mime.h"
#include "notice.h"
#include "queue.h"
#include "roster.h"
#include "util.h"

/* A delivery (d, joined with its contact k) that may still reach its committee. */
#define COVERAGE_REACHING \
	"(d.state IN ('sent', 'queued', 'deferred') AND coalesce(k.active, 1) = 1" \
	" AND coalesce(k.bounce_score, 0) < ?2 AND d.id NOT IN (SELECT delivery_id FROM bounce" \
	" WHERE delivery_id IS NOT NULL AND kind IN ('hard', 'soft', 'spam')))"

struct coverage_bcast {
	int64_t	 id;
	char	*token;
	char	*subject;
	char	*target;
	int64_t	 released;
};

struct coverage_comm {
	int64_t	 id;
	int64_t	 reaching;	/* deliveries that may reach it */
	int	 targeted;	/* named by the target when it was released */
};

/* One line per contact: name, address, state, last error. */
static char *
coverage_contacts_text(struct engine *e, int64_t msg_id, int64_t committee_id)
{
	struct db_stmt *st = db_query(e->db, "SELECT k.name, k.email, k.active,"
	    " coalesce(k.last_error, ''), coalesce((SELECT d.last_reply FROM delivery d WHERE"
	    " d.message_id = ? AND d.contact_id = k.id), ''), coalesce(k.disabled_reason, '')"
	    " FROM contact k WHERE k.committee_id = ? ORDER BY k.name COLLATE fr, k.email", "ii", msg_id,
	    committee_id);
	struct buf b;

	buf_init(&b);
	while (st && db_step(st) == 1) {
		const char *err = *db_col_text(st, 3) ? db_col_text(st, 3) : *db_col_text(st, 4) ?
		    db_col_text(st, 4) : *db_col_text(st, 5) ? db_col_text(st, 5) :
		    tr("pas d'erreur connue", "no known error");

		buf_printf(&b, "- %s%s<%s>%s : %s\n", db_col_text(st, 0), *db_col_text(st, 0) ?
		    " " : "", db_col_text(st, 1), db_col_int(st, 2) ? "" : tr(" (désactivé)",
		    " (disabled)"), err);
	}
	db_finalize(&st);
	if (b.len == 0)
		buf_printf(&b, "%s\n", tr("(aucun contact)", "(no contact)"));
	return buf_steal(&b);
}

/* The alert mail (CRLF, caller frees) and its subject in *subject_r. */
static char *
coverage_alert_mail(struct engine *e, const struct coverage_bcast *bc, int64_t committee_id,
    char **office, char **subject_r, size_t *len_r)
{
	char *name = db_str(e->db, "SELECT name FROM committee WHERE id = ?", "i", committee_id);
	char *slug = db_str(e->db, "SELECT slug FROM committee WHERE id = ?", "i", committee_id);
	char *contacts = coverage_contacts_text(e, bc->id, committee_id), *body = NULL, *to, *msg;
	const char *hdrs[] = { "Auto-Submitted", "auto-generated", "X-Loop", e->list_addr,
	    "X-Mlistd-Broadcast", bc->token, NULL };
	const char *err = NULL;
	char date[32];
	struct buf tb;

	time_iso((time_t)bc->released, date, sizeof date);
	strcpy(date + 16, " UTC");
	msg = NULL;
	if (notice_render(e, "coverage-alert", (const char *[]){ "COMMITTEE", name ? name : "?",
	    "SLUG", slug ? slug : "?", "CONTACTS", contacts, "SUBJECT", bc->subject, "TOKEN",
	    bc->token, "DATE", date, NULL }, subject_r, &body, &err) == -1)
		log_warnx("template=coverage-alert status=error reason=\"%s\"", err);
	else {
		buf_init(&tb);
		for (size_t i = 0; office[i]; i++)
			buf_printf(&tb, "%s%s", i ? ", " : "", office[i]);
		to = buf_steal(&tb);
		msg = mime_build_text(e->cf->list_name, e->request_addr, to, *subject_r, body, hdrs,
		    1, len_r);
		free(to);
	}
	free(body);
	free(contacts);
	free(slug);
	free(name);
	return msg;
}

/* Queue the alert for one committee once; inside the caller's transaction. */
static int
coverage_alert_queue(struct engine *e, const struct coverage_bcast *bc, int64_t committee_id,
    char **office, size_t noffice)
{
	struct queue_rcpt *r = xcalloc(noffice + 1, sizeof *r);
	char *subject = NULL, *msg, token[33];
	size_t len;
	int rc = -1;

	msg = coverage_alert_mail(e, bc, committee_id, office, &subject, &len);
	for (size_t i = 0; i < noffice; i++)
		r[i].email = office[i];
	if (msg && queue_message(e, "coverage-alert", subject, msg, len, r, noffice, token) > 0)
		rc = 0;
	free(msg);
	free(subject);
	free(r);
	return rc;
}

/* Record and send one alert: 1 sent, 0 already sent, -1 error. */
static int
coverage_alert(struct engine *e, const struct coverage_bcast *bc, int64_t committee_id)
{
	size_t noffice;
	char **office;
	int64_t sent;
	int rc = 1;

	/* Already sent (the common case, every tick): no write lock for it. */
	if (db_int(e->db, &sent, "SELECT count(*) FROM coverage_alert WHERE message_id = ? AND"
	    " committee_id = ?", "ii", bc->id, committee_id) == -1)
		return -1;
	if (sent > 0)
		return 0;
	if (db_begin(e->db) == -1)
		return -1;
	if (db_run(e->db, "INSERT OR IGNORE INTO coverage_alert (message_id, committee_id, sent)"
	    " VALUES (?, ?, ?)", "iii", bc->id, committee_id, (int64_t)now()) == -1) {
		db_rollback(e->db);
		return -1;
	}
	if (db_changes(e->db) == 0) {
		db_rollback(e->db);
		return 0;
	}
	office = roster_office(e->db, e->cf->admin_address, &noffice);
	if (noffice == 0)
		log_warnx("msgid=%s status=unreachable reason=\"no office address to alert\"",
		    bc->token);
	else if (coverage_alert_queue(e, bc, committee_id, office, noffice) == -1)
		rc = -1;
	roster_office_free(office);
	if (rc == 1 && db_commit(e->db) == 0) {
		char *slug = db_str(e->db, "SELECT slug FROM committee WHERE id = ?", "i",
		    committee_id);

		log_info("msgid=%s committee=%s status=unreachable alert=%s", bc->token,
		    slug ? slug : "?", noffice ? "queued" : "none");
		free(slug);
		return 1;
	}
	db_rollback(e->db);
	return -1;
}

static struct coverage_comm *
coverage_comm_find(struct coverage_comm *list, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (list[i].id == id)
			return &list[i];
	return NULL;
}

/* The committees of one broadcast: those with deliveries and those targeted. */
static int
coverage_committees(struct engine *e, const struct coverage_bcast *bc,
    struct coverage_comm **list_r, size_t *n_r)
{
	struct db_stmt *st = db_query(e->db, "SELECT d.committee_id, sum(" COVERAGE_REACHING ")"
	    " FROM delivery d LEFT JOIN contact k ON k.id = d.contact_id WHERE d.message_id = ?1"
	    " AND d.committee_id IS NOT NULL GROUP BY d.committee_id", "ii", bc->id,
	    (int64_t)e->cf->bounce_score_threshold);
	struct coverage_comm *list = NULL;
	int64_t *ids = NULL;
	size_t n = 0, nids = 0;

	if (st == NULL)
		return -1;
	while (db_step(st) == 1) {
		list = xrealloc(list, (n + 1) * sizeof *list);
		list[n++] = (struct coverage_comm){ db_col_int(st, 0), db_col_int(st, 1), 0 };
	}
	db_finalize(&st);
	if (broadcast_targets(e->db, bc->target, &ids, &nids) == -1) {
		free(list);
		return -1;
	}
	for (size_t i = 0; i < nids; i++) {
		struct coverage_comm *c = coverage_comm_find(list, n, ids[i]);
		int64_t old = 0;

		if (c == NULL && db_int(e->db, &old, "SELECT count(*) FROM committee WHERE id = ?"
		    " AND created <= ?", "ii", ids[i], bc->released) == -1) {
			free(ids);
			free(list);
			return -1;
		}
		if (old > 0) {
			list = xrealloc(list, (n + 1) * sizeof *list);
			list[n++] = (struct coverage_comm){ ids[i], 0, 1 };
		}
	}
	free(ids);
	*list_r = list;
	*n_r = n;
	return 0;
}

/* Alerts for one broadcast: how many sent, -1 on error. */
static int
coverage_broadcast(struct engine *e, const struct coverage_bcast *bc)
{
	struct coverage_comm *list;
	size_t n;
	int sent = 0, rc = 0;

	if (coverage_committees(e, bc, &list, &n) == -1)
		return -1;
	for (size_t i = 0; rc != -1 && i < n; i++) {
		if (list[i].reaching > 0)
			continue;
		if ((rc = coverage_alert(e, bc, list[i].id)) == 1)
			sent++;
	}
	free(list);
	return rc == -1 ? -1 : sent;
}

static void
coverage_bcasts_free(struct coverage_bcast *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].token);
		free(list[i].subject);
		free(list[i].target);
	}
	free(list);
}

int
coverage_tick(struct engine *e)
{
	int64_t t = now(), after = e->cf->coverage_alert_after;
	struct db_stmt *st = db_query(e->db, "SELECT id, token, subject, target, released FROM"
	    " message WHERE kind = 'broadcast' AND released IS NOT NULL AND released <= ? AND"
	    " released > ? ORDER BY id", "ii", t - after, t - after - e->cf->queue_lifetime);
	struct coverage_bcast *list = NULL;
	size_t n = 0;
	int total = 0, rc = 0;

	if (st == NULL)
		return -1;
	while ((rc = db_step(st)) == 1) {
		list = xrealloc(list, (n + 1) * sizeof *list);
		list[n++] = (struct coverage_bcast){ db_col_int(st, 0), xstrdup(db_col_text(st, 1)),
		    xstrdup(db_col_text(st, 2)), xstrdup(db_col_text(st, 3)), db_col_int(st, 4) };
	}
	db_finalize(&st);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		int k = coverage_broadcast(e, &list[i]);

		if (k == -1)
			rc = -1;
		else
			total += k;
	}
	coverage_bcasts_free(list, n);
	return rc == -1 ? -1 : total;
}

/* The report's three groups. */
enum coverage_group { COV_OK, COV_UNDER, COV_NONE, COV_NGROUPS };

/* One group: its title line, then its table (header row, one committee a row). */
static void
coverage_group(struct table *t, size_t count, const char *title, FILE *out)
{
	fprintf(out, "%s%zu\n", title, count);
	if (count > 0)
		table_print(t, "  ", out);
}

int
coverage_report(struct db *db, const struct config *cf, FILE *out)
{
	struct db_stmt *st = db_query(db, "SELECT c.slug, coalesce(sum(k.active), 0),"
	    " coalesce(sum(k.active AND k.bounce_score < ?), 0) FROM committee c LEFT JOIN contact k"
	    " ON k.committee_id = c.id GROUP BY c.id ORDER BY c.region COLLATE fr,"
	    " c.name COLLATE fr", "i", (int64_t)cf->bounce_score_threshold);
	struct table *g[COV_NGROUPS];
	size_t count[COV_NGROUPS] = { 0 };
	char title[256];
	int rc;

	if (st == NULL)
		return -1;
	for (int i = 0; i < COV_NGROUPS; i++) {
		g[i] = table_new(3);
		table_row(g[i], (const char *[]){ tr("comité", "committee"),
		    tr("joignables/actifs", "reachable/active"), "" });
	}
	while ((rc = db_step(st)) == 1) {
		int64_t active = db_col_int(st, 1), reach = db_col_int(st, 2);
		enum coverage_group k = reach == 0 ? COV_NONE : reach < cf->min_contacts ? COV_UNDER :
		    COV_OK;
		char counts[48];

		count[k]++;
		snprintf(counts, sizeof counts, "%lld/%lld", (long long)reach, (long long)active);
		table_row(g[k], (const char *[]){ db_col_text(st, 0), counts, reach < active ?
		    tr("(des contacts actifs rebondissent)", "(some active contacts bounce)") : "" });
	}
	db_finalize(&st);
	fprintf(out, "%s\n", tr("Par comité\xc2\xa0: contacts joignables / contacts actifs.",
	    "Per committee: reachable contacts / active contacts."));
	snprintf(title, sizeof title, tr("Comités joignables (au moins %ld contacts joignables)"
	    "\xc2\xa0: ", "Committees reachable (at least %ld reachable contacts): "),
	    cf->min_contacts);
	coverage_group(g[COV_OK], count[COV_OK], title, out);
	snprintf(title, sizeof title, tr("Comités sous le minimum (moins de %ld contacts"
	    " joignables)\xc2\xa0: ", "Committees under the minimum (fewer than %ld reachable"
	    " contacts): "), cf->min_contacts);
	coverage_group(g[COV_UNDER], count[COV_UNDER], title, out);
	coverage_group(g[COV_NONE], count[COV_NONE], tr("Comités injoignables (aucun contact"
	    " joignable)\xc2\xa0: ", "Committees unreachable (no reachable contact): "), out);
	for (int i = 0; i < COV_NGROUPS; i++)
		table_free(&g[i]);
	return rc == 0 ? 0 : -1;
}
