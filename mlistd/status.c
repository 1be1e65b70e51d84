/* status.c — broadcast and delivery reports (see status.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "i18n.h"
#include "status.h"
#include "util.h"

/* "author — subject [reason]", the subject cut at 50 characters. */
static void
status_about(struct db_stmt *st, char *out, size_t outlen)
{
	const char *subject = db_col_text(st, 3), *reason = db_col_text(st, 6);

	snprintf(out, outlen, "%s — %.*s%s%s%s", db_col_text(st, 2),
	    (int)utf8_prefix_len(subject, 50), subject, *reason ? " [" : "",
	    i18n_state("reason", reason), *reason ? "]" : "");
}

int
status_messages(struct db *db, FILE *out)
{
	struct db_stmt *st = db_query(db, "SELECT m.token, m.received, m.author, m.subject,"
	    " m.target, m.state, m.reason,"
	    " (SELECT count(*) FROM delivery d WHERE d.message_id = m.id AND d.state = 'sent'),"
	    " (SELECT count(*) FROM delivery d WHERE d.message_id = m.id)"
	    " FROM message m WHERE m.kind = 'broadcast' ORDER BY m.id", "");
	struct table *t;
	int rc;

	if (st == NULL)
		return -1;
	t = table_new(6);
	table_row(t, (const char *[]){ "id", "date", tr("état", "state"), tr("envoyés", "sent"),
	    tr("cible", "target"), tr("auteur — sujet", "author — subject") });
	while ((rc = db_step(st)) == 1) {
		char id[STATUS_ID_LEN + 1], date[24], counts[48], about[1024];

		snprintf(id, sizeof id, "%s", db_col_text(st, 0));
		time_iso((time_t)db_col_int(st, 1), date, sizeof date);
		date[16] = '\0';
		snprintf(counts, sizeof counts, "%lld/%lld", (long long)db_col_int(st, 7),
		    (long long)db_col_int(st, 8));
		status_about(st, about, sizeof about);
		table_row(t, (const char *[]){ id, date, i18n_state("message", db_col_text(st, 5)),
		    counts, *db_col_text(st, 4) ? db_col_text(st, 4) : tr("(tous)", "(all)"), about });
	}
	db_finalize(&st);
	if (rc == 0)
		table_print(t, "", out);
	table_free(&t);
	return rc == 0 ? 0 : -1;
}

/* The broadcasts whose token begins with prefix, as "1a2b3c4d5e6f (subject)". */
static int
status_candidates(struct db *db, const char *prefix, struct buf *list)
{
	struct db_stmt *st = db_query(db, "SELECT token, subject FROM message WHERE kind ="
	    " 'broadcast' AND substr(token, 1, ?) = ? ORDER BY id LIMIT 10", "is",
	    (int64_t)strlen(prefix), prefix);
	int rc, n = 0;

	while (st && (rc = db_step(st)) == 1) {
		buf_printf(list, "%s%.12s (%s)", n++ ? ", " : "", db_col_text(st, 0),
		    db_col_text(st, 1));
	}
	db_finalize(&st);
	return n;
}

int
status_token_find(struct db *db, const char *id, char **token_r, const char **error_r)
{
	static _Thread_local char why[2048];
	size_t n = strlen(id);
	int64_t count;
	struct buf list;

	*token_r = NULL;
	if (n < STATUS_ID_LEN || n > 32 || strspn(id, "0123456789abcdef") != n) {
		snprintf(why, sizeof why, tr("identifiant invalide\xc2\xa0: %s (au moins %d caractères"
		    " parmi 0-9 a-f, comme «\xc2\xa0mlistctl messages\xc2\xa0» les montre)",
		    "invalid id: %s (at least %d characters among 0-9 a-f, as \"mlistctl messages\""
		    " shows them)"), id, STATUS_ID_LEN);
		return *error_r = why, 0;
	}
	if (db_int(db, &count, "SELECT count(*) FROM message WHERE kind = 'broadcast' AND"
	    " substr(token, 1, ?) = ?", "is", (int64_t)n, id) == -1)
		return *error_r = db_errmsg(db), -1;
	if (count == 1) {
		*token_r = db_str(db, "SELECT token FROM message WHERE kind = 'broadcast' AND"
		    " substr(token, 1, ?) = ?", "is", (int64_t)n, id);
		return *token_r ? 1 : (*error_r = db_errmsg(db), -1);
	}
	if (count == 0) {
		snprintf(why, sizeof why, tr("envoi inconnu\xc2\xa0: %s", "unknown broadcast: %s"), id);
		return *error_r = why, 0;
	}
	buf_init(&list);
	status_candidates(db, id, &list);
	snprintf(why, sizeof why, tr("identifiant ambigu\xc2\xa0: %s désigne %lld envois (%s)\xc2\xa0;"
	    " donnez plus de caractères", "ambiguous id: %s names %lld broadcasts (%s); give more"
	    " characters"), id, (long long)count, buf_cstr(&list));
	buf_free(&list);
	return *error_r = why, 0;
}

/* One committee's verdict from its delivery counts (a code of the
 * catalogue's domain "committee"). */
static const char *
status_verdict(int64_t sent, int64_t pending)
{
	return sent > 0 ? "reached" : pending > 0 ? "pending" : "unreachable";
}

/* One row per contact; the committee and its verdict on the first one. */
static void
status_contacts(struct db *db, int64_t msg_id, int64_t committee_id, const char *name,
    const char *verdict, struct table *t)
{
	struct db_stmt *st = db_query(db, "SELECT rcpt, state, coalesce(last_reply, ''), attempts"
	    " FROM delivery WHERE message_id = ? AND committee_id IS ? ORDER BY rcpt", "ii",
	    msg_id, committee_id);
	int first = 1;

	while (st && db_step(st) == 1) {
		table_row(t, (const char *[]){ first ? name : "", first ? verdict : "",
		    db_col_text(st, 0), i18n_state("delivery", db_col_text(st, 1)),
		    i18n_state("reply", db_col_text(st, 2)) });
		first = 0;
	}
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
	struct table *t;
	int reached = 0, total = 0;

	if (db_int(db, &id, "SELECT id FROM message WHERE token = ?", "s", token) != 1)
		return -1;
	st = db_query(db, "SELECT d.committee_id, coalesce(c.name, '?'),"
	    " sum(d.state = 'sent'), sum(d.state IN ('queued', 'deferred')), count(*)"
	    " FROM delivery d LEFT JOIN committee c ON c.id = d.committee_id WHERE"
	    " d.message_id = ? GROUP BY d.committee_id ORDER BY c.region COLLATE fr,"
	    " c.name COLLATE fr", "i", id);
	t = table_new(only_unreached ? 2 : 5);
	table_row(t, (const char *[]){ tr("comité", "committee"), tr("état", "state"),
	    tr("contact", "contact"), tr("envoi", "delivery"), tr("dernière réponse du serveur",
	    "last server reply") });
	while (st && db_step(st) == 1) {
		int64_t sent = db_col_int(st, 2), pending = db_col_int(st, 3);
		const char *verdict = i18n_state("committee", status_verdict(sent, pending));

		total++;
		reached += sent > 0;
		if (only_unreached && sent == 0)
			table_row(t, (const char *[]){ db_col_text(st, 1), verdict });
		else if (!only_unreached)
			status_contacts(db, id, db_col_int(st, 0), db_col_text(st, 1), verdict, t);
	}
	db_finalize(&st);
	table_print(t, "", out);
	table_free(&t);
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
	    " WHERE r.message_id = ? AND r.auto IS NULL ORDER BY r.committee_id IS NULL,"
	    " c.region COLLATE fr, c.name COLLATE fr, r.received", "i", id);
	struct table *t;
	int rc, n = 0;

	if (st == NULL)
		return -1;
	fprintf(out, "%s\n", tr("Ont répondu\xc2\xa0:", "Answered:"));
	t = table_new(3);
	table_row(t, (const char *[]){ tr("comité", "committee"), "date", tr("adresse",
	    "address") });
	while ((rc = db_step(st)) == 1) {
		char date[24];

		time_iso((time_t)db_col_int(st, 1), date, sizeof date);
		date[16] = '\0';
		table_row(t, (const char *[]){ db_col_int(st, 3) ? tr("(expéditeur inconnu)",
		    "(unknown sender)") : db_col_text(st, 0), date, db_col_text(st, 2) });
		n++;
	}
	if (n == 0)
		fprintf(out, "  %s\n", tr("(personne)", "(nobody)"));
	else
		table_print(t, "  ", out);
	table_free(&t);
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
	    " r.auto IS NULL) ORDER BY c.region COLLATE fr, c.name COLLATE fr", "i", id);
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
	fprintf(out, tr("Réponses à l'envoi %.8s\xc2\xa0: %s\n", "Replies to broadcast"
	    " %.8s: %s\n"), token,
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
	fprintf(out, tr("%lld comité(s) ont répondu sur %lld\xc2\xa0; %lld réponse(s)"
	    " d'inconnus\xc2\xa0;"
	    " %lld réponse(s) automatique(s) non comptée(s)\n", "%lld of %lld committee(s)"
	    " answered; %lld reply(ies) from unknown senders; %lld automatic reply(ies) not"
	    " counted\n"), (long long)n[0], (long long)n[1], (long long)n[2], (long long)n[3]);
	return 0;
}
