/* status.c — broadcast and delivery reports (see status.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "i18n.h"
#include "status.h"
#include "util.h"

int
status_messages(struct db *db, FILE *out)
{
	struct db_stmt *st = db_query(db, "SELECT m.token, m.received, m.author, m.subject,"
	    " m.target, m.state, m.reason,"
	    " (SELECT count(*) FROM delivery d WHERE d.message_id = m.id AND d.state = 'sent'),"
	    " (SELECT count(*) FROM delivery d WHERE d.message_id = m.id)"
	    " FROM message m WHERE m.kind = 'broadcast' ORDER BY m.id", "");
	int rc;

	if (st == NULL)
		return -1;
	fprintf(out, "%-32s %-16s %-9s %-9s %-12s %s\n", "id", "date", tr("état", "state"),
	    tr("envoyés", "sent"), tr("cible", "target"), tr("auteur — sujet", "author — subject"));
	while ((rc = db_step(st)) == 1) {
		char date[24], counts[32];

		time_iso((time_t)db_col_int(st, 1), date, sizeof date);
		date[16] = '\0';
		snprintf(counts, sizeof counts, "%lld/%lld", (long long)db_col_int(st, 7),
		    (long long)db_col_int(st, 8));
		fprintf(out, "%-32s %-16s %-9s %-9s %-12s %s — %.50s%s%s%s\n", db_col_text(st, 0), date,
		    db_col_text(st, 5), counts, *db_col_text(st, 4) ? db_col_text(st, 4) :
		    tr("(tous)", "(all)"), db_col_text(st, 2), db_col_text(st, 3),
		    *db_col_text(st, 6) ? " [" : "", db_col_text(st, 6), *db_col_text(st, 6) ? "]" : "");
	}
	db_finalize(&st);
	return rc == 0 ? 0 : -1;
}

/* One committee's verdict from its delivery counts. */
static const char *
status_verdict(int64_t sent, int64_t pending)
{
	if (sent > 0)
		return tr("atteint", "reached");
	if (pending > 0)
		return tr("en attente", "pending");
	return tr("injoignable", "unreachable");
}

static void
status_contacts(struct db *db, int64_t msg_id, int64_t committee_id, FILE *out)
{
	struct db_stmt *st = db_query(db, "SELECT rcpt, state, coalesce(last_reply, ''), attempts"
	    " FROM delivery WHERE message_id = ? AND committee_id IS ? ORDER BY rcpt", "ii",
	    msg_id, committee_id);

	while (st && db_step(st) == 1)
		fprintf(out, "    %-36s %-9s %s\n", db_col_text(st, 0), db_col_text(st, 1),
		    db_col_text(st, 2));
	db_finalize(&st);
}

int
status_message(struct db *db, const char *token, int only_unreached, FILE *out)
{
	int64_t id = db_int(db, 0, "SELECT id FROM message WHERE token = ?", "s", token);
	struct db_stmt *st;
	int reached = 0, total = 0;

	if (id <= 0)
		return -1;
	st = db_query(db, "SELECT d.committee_id, coalesce(c.name, '?'),"
	    " sum(d.state = 'sent'), sum(d.state IN ('queued', 'deferred')), count(*)"
	    " FROM delivery d LEFT JOIN committee c ON c.id = d.committee_id"
	    " WHERE d.message_id = ? GROUP BY d.committee_id ORDER BY c.region, c.name", "i", id);
	while (st && db_step(st) == 1) {
		int64_t sent = db_col_int(st, 2), pending = db_col_int(st, 3);

		total++;
		reached += sent > 0;
		if (only_unreached && sent > 0)
			continue;
		fprintf(out, "%-30s %s\n", db_col_text(st, 1), status_verdict(sent, pending));
		if (!only_unreached)
			status_contacts(db, id, db_col_int(st, 0), out);
	}
	db_finalize(&st);
	fprintf(out, tr("%d comité(s) atteint(s) sur %d\n", "%d of %d committee(s) reached\n"),
	    reached, total);
	return 0;
}
