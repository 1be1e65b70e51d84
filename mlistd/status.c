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

/* Deliveries held back by the provider's rate limit stay queued with a
 * next_try in the future: say when the last one should go (local time). */
static void
status_rate_wait(struct db *db, int64_t msg_id, FILE *out)
{
	int64_t last;
	time_t t;
	struct tm tm;
	char when[32];

	if (db_int(db, &last, "SELECT coalesce(max(next_try), 0) FROM delivery WHERE"
	    " message_id = ? AND state = 'queued' AND next_try > ?", "ii", msg_id,
	    (int64_t)now()) != 1 || last <= 0)
		return;
	t = (time_t)last;
	if (localtime_r(&t, &tm) == NULL)
		return;
	strftime(when, sizeof when, last - now() < 20 * 3600 ? "%H:%M" : "%Y-%m-%d %H:%M", &tm);
	fprintf(out, tr("dernier envoi prévu vers %s (limite d'envoi du fournisseur)\n",
	    "last contact will be served around %s (provider's sending limit)\n"), when);
}

int
status_message(struct db *db, const char *token, int only_unreached, FILE *out)
{
	int64_t id;
	struct db_stmt *st;
	int reached = 0, total = 0;

	if (db_int(db, &id, "SELECT id FROM message WHERE token = ?", "s", token) != 1)
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
	status_rate_wait(db, id, out);
	return 0;
}

/* Replies by people (not automatic), one line each, by committee. */
static int
status_replies_answered(struct db *db, int64_t id, FILE *out)
{
	struct db_stmt *st = db_query(db, "SELECT coalesce(c.name, ''), r.received, r.sender,"
	    " r.committee_id IS NULL FROM reply r LEFT JOIN committee c ON c.id = r.committee_id"
	    " WHERE r.message_id = ? AND r.auto IS NULL ORDER BY r.committee_id IS NULL, c.region,"
	    " c.name, r.received", "i", id);
	int rc, n = 0;

	if (st == NULL)
		return -1;
	fprintf(out, "%s\n", tr("Ont répondu\xc2\xa0:", "Answered:"));
	while ((rc = db_step(st)) == 1) {
		char date[24];

		time_iso((time_t)db_col_int(st, 1), date, sizeof date);
		date[16] = '\0';
		fprintf(out, "  %-30s %-16s %s\n", db_col_int(st, 3) ? tr("(expéditeur inconnu)",
		    "(unknown sender)") : db_col_text(st, 0), date, db_col_text(st, 2));
		n++;
	}
	if (n == 0)
		fprintf(out, "  %s\n", tr("(personne)", "(nobody)"));
	db_finalize(&st);
	return rc == 0 ? 0 : -1;
}

/* Committees the broadcast went to that no person of theirs answered. */
static int
status_replies_missing(struct db *db, int64_t id, FILE *out)
{
	struct db_stmt *st = db_query(db, "SELECT c.name FROM committee c WHERE c.id IN"
	    " (SELECT committee_id FROM delivery WHERE message_id = ?1) AND NOT EXISTS"
	    " (SELECT 1 FROM reply r WHERE r.message_id = ?1 AND r.committee_id = c.id AND"
	    " r.auto IS NULL) ORDER BY c.region, c.name", "i", id);
	int rc, n = 0;

	if (st == NULL)
		return -1;
	fprintf(out, "%s\n", tr("N'ont pas répondu\xc2\xa0:", "Did not answer:"));
	while ((rc = db_step(st)) == 1) {
		fprintf(out, "  %s\n", db_col_text(st, 0));
		n++;
	}
	if (n == 0)
		fprintf(out, "  %s\n", tr("(aucun)", "(none)"));
	db_finalize(&st);
	return rc == 0 ? 0 : -1;
}

int
status_replies(struct db *db, const char *token, FILE *out)
{
	int64_t id, n[4];
	struct db_stmt *st;

	if (db_int(db, &id, "SELECT id FROM message WHERE token = ? AND kind = 'broadcast'", "s",
	    token) != 1)
		return -1;
	st = db_query(db, "SELECT subject FROM message WHERE id = ?", "i", id);
	fprintf(out, tr("Réponses à l'envoi %s\xc2\xa0: %s\n", "Replies to broadcast %s: %s\n"), token,
	    st && db_step(st) == 1 ? db_col_text(st, 0) : "");
	db_finalize(&st);
	if (status_replies_answered(db, id, out) == -1 || status_replies_missing(db, id, out) == -1 ||
	    db_int(db, &n[0], "SELECT count(DISTINCT committee_id) FROM reply WHERE"
	    " message_id = ? AND auto IS NULL", "i", id) == -1 ||
	    db_int(db, &n[1], "SELECT count(*) FROM committee WHERE id IN (SELECT committee_id"
	    " FROM delivery WHERE message_id = ?1) OR id IN (SELECT committee_id FROM reply WHERE"
	    " message_id = ?1 AND auto IS NULL)", "i", id) == -1 ||
	    db_int(db, &n[2], "SELECT count(*) FROM reply WHERE message_id = ? AND auto IS"
	    " NULL AND committee_id IS NULL", "i", id) == -1 ||
	    db_int(db, &n[3], "SELECT count(*) FROM reply WHERE message_id = ? AND auto IS"
	    " NOT NULL", "i", id) == -1)
		return -1;
	fprintf(out, tr("%lld comité(s) ont répondu sur %lld\xc2\xa0; %lld réponse(s) d'inconnus\xc2\xa0;"
	    " %lld réponse(s) automatique(s) non comptée(s)\n", "%lld of %lld committee(s)"
	    " answered; %lld reply(ies) from unknown senders; %lld automatic reply(ies) not"
	    " counted\n"), (long long)n[0], (long long)n[1], (long long)n[2], (long long)n[3]);
	return 0;
}
