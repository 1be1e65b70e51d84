/* status.c — broadcast and delivery reports (see status.h): status_load()
 * reads one broadcast once; mlistctl's tables and the office's mail
 * (office.c) are both written from it. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "broadcast.h"
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

/* ---- one broadcast, loaded ---- */

static void
status_load_contacts(struct db *db, int64_t msg_id, struct status_committee *c)
{
	struct db_stmt *st = db_query(db, "SELECT rcpt, state, coalesce(last_reply, '')"
	    " FROM delivery WHERE message_id = ? AND committee_id IS ? ORDER BY rcpt", "ii",
	    msg_id, c->id);

	while (st && db_step(st) == 1) {
		c->contacts = xrealloc(c->contacts, (c->ncontacts + 1) * sizeof *c->contacts);
		c->contacts[c->ncontacts++] = (struct status_contact){ xstrdup(db_col_text(st, 0)),
		    xstrdup(db_col_text(st, 1)), xstrdup(db_col_text(st, 2)) };
	}
	db_finalize(&st);
}

static int
status_has_committee(const struct status_bcast *b, int64_t id)
{
	for (size_t i = 0; i < b->ncommittees; i++)
		if (b->committees[i].id == id)
			return 1;
	return 0;
}

/* Committees the target named when it was released that got no delivery
 * (no active contact then): not reached, with no contact to show. */
static int
status_load_untouched(struct db *db, struct status_bcast *b)
{
	int64_t *ids = NULL, old;
	size_t n = 0;
	int rc = 0;

	if (b->released == 0)
		return 0;
	if (broadcast_targets(db, b->target, &ids, &n) == -1)
		return -1;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char *name;

		if (status_has_committee(b, ids[i]))
			continue;
		if (db_int(db, &old, "SELECT count(*) FROM committee WHERE id = ? AND created <= ?",
		    "ii", ids[i], b->released) != 1) {
			rc = -1;
			break;
		}
		if (old == 0 || (name = db_str(db, "SELECT name FROM committee WHERE id = ?", "i",
		    ids[i])) == NULL)
			continue;
		b->committees = xrealloc(b->committees, (b->ncommittees + 1) * sizeof *b->committees);
		b->committees[b->ncommittees++] = (struct status_committee){ name, ids[i], 0, 0,
		    NULL, 0 };
	}
	free(ids);
	return rc;
}

/* Per committee: deliveries sent, pending, and each contact's. */
static int
status_load_committees(struct db *db, struct status_bcast *b)
{
	struct db_stmt *st = db_query(db, "SELECT d.committee_id, coalesce(c.name, '?'),"
	    " sum(d.state = 'sent'), sum(d.state IN ('queued', 'deferred'))"
	    " FROM delivery d LEFT JOIN committee c ON c.id = d.committee_id"
	    " WHERE d.message_id = ? GROUP BY d.committee_id ORDER BY c.region COLLATE fr,"
	    " c.name COLLATE fr", "i", b->id);
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = db_step(st)) == 1) {
		b->committees = xrealloc(b->committees, (b->ncommittees + 1) * sizeof *b->committees);
		b->committees[b->ncommittees++] = (struct status_committee){ xstrdup(db_col_text(st,
		    1)), db_col_int(st, 0), db_col_int(st, 2), db_col_int(st, 3), NULL, 0 };
		b->nreached += db_col_int(st, 2) > 0;
	}
	db_finalize(&st);
	for (size_t i = 0; rc == 0 && i < b->ncommittees; i++)
		status_load_contacts(db, b->id, &b->committees[i]);
	return rc == 0 ? status_load_untouched(db, b) : -1;
}

/* Replies by people (not automatic), committees first; automatic ones counted. */
static int
status_load_replies(struct db *db, struct status_bcast *b)
{
	struct db_stmt *st = db_query(db, "SELECT c.name, r.received, r.sender"
	    " FROM reply r LEFT JOIN committee c ON c.id = r.committee_id"
	    " WHERE r.message_id = ? AND r.auto IS NULL ORDER BY r.committee_id IS NULL,"
	    " c.region COLLATE fr, c.name COLLATE fr, r.received", "i", b->id);
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = db_step(st)) == 1) {
		b->replies = xrealloc(b->replies, (b->nreplies + 1) * sizeof *b->replies);
		b->replies[b->nreplies++] = (struct status_reply){ db_col_null(st, 0) ? NULL :
		    xstrdup(db_col_text(st, 0)), xstrdup(db_col_text(st, 2)), db_col_int(st, 1) };
	}
	db_finalize(&st);
	if (rc == 0 && db_int(db, &b->nauto, "SELECT count(*) FROM reply WHERE message_id = ? AND"
	    " auto IS NOT NULL", "i", b->id) == -1)
		rc = -1;
	return rc == 0 ? 0 : -1;
}

int
status_load(struct db *db, const char *token, struct status_bcast *b)
{
	struct db_stmt *st = db_query(db, "SELECT id, token, subject, author, target, message_id,"
	    " received, coalesce(released, 0) FROM message WHERE token = ? AND kind = 'broadcast'",
	    "s", token);
	int rc;

	memset(b, 0, sizeof *b);
	if (st == NULL)
		return -1;
	if ((rc = db_step(st)) == 1) {
		b->id = db_col_int(st, 0);
		b->token = xstrdup(db_col_text(st, 1));
		b->subject = xstrdup(db_col_text(st, 2));
		b->author = xstrdup(db_col_text(st, 3));
		b->target = xstrdup(db_col_text(st, 4));
		b->message_id = xstrdup(db_col_text(st, 5));
		b->received = db_col_int(st, 6);
		b->released = db_col_int(st, 7);
	}
	db_finalize(&st);
	if (rc == 1 && (status_load_committees(db, b) == -1 || status_load_replies(db, b) == -1))
		rc = -1;
	if (rc != 1)
		status_free(b);
	return rc;
}

void
status_free(struct status_bcast *b)
{
	for (size_t i = 0; i < b->ncommittees; i++) {
		struct status_committee *c = &b->committees[i];

		for (size_t j = 0; j < c->ncontacts; j++) {
			free(c->contacts[j].rcpt);
			free(c->contacts[j].state);
			free(c->contacts[j].reply);
		}
		free(c->contacts);
		free(c->name);
	}
	for (size_t i = 0; i < b->nreplies; i++) {
		free(b->replies[i].committee);
		free(b->replies[i].sender);
	}
	free(b->committees);
	free(b->replies);
	free(b->token);
	free(b->subject);
	free(b->author);
	free(b->target);
	free(b->message_id);
	memset(b, 0, sizeof *b);
}

/* One committee's verdict (a code of the catalogue's domain "committee"). */
static const char *
status_verdict(const struct status_committee *c)
{
	return c->sent > 0 ? "reached" : c->pending > 0 ? "pending" : "unreachable";
}

/* One row per contact (one with the committee alone when it has none);
 * the committee and its verdict on the first one. */
static void
status_contacts(const struct status_committee *c, const char *verdict, struct table *t)
{
	if (c->ncontacts == 0)
		table_row(t, (const char *[]){ c->name, verdict, "", "", "" });
	for (size_t j = 0; j < c->ncontacts; j++)
		table_row(t, (const char *[]){ j == 0 ? c->name : "", j == 0 ? verdict : "",
		    c->contacts[j].rcpt, i18n_state("delivery", c->contacts[j].state),
		    i18n_state("reply", c->contacts[j].reply) });
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
	struct status_bcast b;
	struct table *t;

	if (status_load(db, token, &b) != 1)
		return -1;
	t = table_new(only_unreached ? 2 : 5);
	table_row(t, (const char *[]){ tr("comité", "committee"), tr("état", "state"),
	    tr("contact", "contact"), tr("envoi", "delivery"), tr("dernière réponse du serveur",
	    "last server reply") });
	for (size_t i = 0; i < b.ncommittees; i++) {
		const struct status_committee *c = &b.committees[i];
		const char *verdict = i18n_state("committee", status_verdict(c));

		if (only_unreached && c->sent == 0)
			table_row(t, (const char *[]){ c->name, verdict });
		else if (!only_unreached)
			status_contacts(c, verdict, t);
	}
	table_print(t, "", out);
	table_free(&t);
	fprintf(out, tr("%zu comité(s) atteint(s) sur %zu\n", "%zu of %zu committee(s) reached\n"),
	    b.nreached, b.ncommittees);
	status_rate_wait(db, b.id, out);
	status_free(&b);
	return 0;
}

/* Replies by people (not automatic), one line each, by committee. */
static void
status_replies_answered(const struct status_bcast *b, FILE *out)
{
	struct table *t = table_new(3);

	fprintf(out, "%s\n", tr("Ont répondu\xc2\xa0:", "Answered:"));
	table_row(t, (const char *[]){ tr("comité", "committee"), "date", tr("adresse",
	    "address") });
	for (size_t i = 0; i < b->nreplies; i++) {
		char date[24];

		time_iso((time_t)b->replies[i].received, date, sizeof date);
		date[16] = '\0';
		table_row(t, (const char *[]){ b->replies[i].committee ? b->replies[i].committee :
		    tr("(expéditeur inconnu)", "(unknown sender)"), date, b->replies[i].sender });
	}
	if (b->nreplies == 0)
		fprintf(out, "  %s\n", tr("(personne)", "(nobody)"));
	else
		table_print(t, "  ", out);
	table_free(&t);
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
	struct status_bcast b;
	int64_t n[3];
	int rc = 0;

	if (status_load(db, token, &b) != 1)
		return -1;
	fprintf(out, tr("Réponses à l'envoi %.8s\xc2\xa0: %s\n", "Replies to broadcast %.8s: %s\n"),
	    token, b.subject);
	status_replies_answered(&b, out);
	if (status_replies_missing(db, b.id, out) == -1 ||
	    db_int(db, &n[0], "SELECT count(DISTINCT committee_id) FROM reply WHERE"
	    " message_id = ? AND auto IS NULL", "i", b.id) == -1 ||
	    db_int(db, &n[1], "SELECT count(*) FROM committee WHERE id IN (SELECT committee_id"
	    " FROM delivery WHERE message_id = ?1) OR id IN (SELECT committee_id FROM reply WHERE"
	    " message_id = ?1 AND auto IS NULL)", "i", b.id) == -1 ||
	    db_int(db, &n[2], "SELECT count(*) FROM reply WHERE message_id = ? AND auto IS"
	    " NULL AND committee_id IS NULL", "i", b.id) == -1)
		rc = -1;
	else
		fprintf(out, tr("%lld comité(s) ont répondu sur %lld\xc2\xa0; %lld réponse(s)"
		    " d'inconnus\xc2\xa0; %lld réponse(s) automatique(s) non comptée(s)\n",
		    "%lld of %lld committee(s) answered; %lld reply(ies) from unknown senders;"
		    " %lld automatic reply(ies) not counted\n"), (long long)n[0], (long long)n[1],
		    (long long)n[2], (long long)b.nauto);
	status_free(&b);
	return rc;
}

/* ---- finding a broadcast by what a person remembers of it ---- */

static int
status_is_hex(const char *s)
{
	size_t n = strspn(s, "0123456789abcdefABCDEF");

	return n >= STATUS_ID_LEN && n <= 32 && s[n] == '\0';
}

/* Folded (str_fold), with punctuation as spaces: ASCII marks, « » and
 * no-break spaces, typographic apostrophes. A new string. */
static char *
status_words_norm(const char *s)
{
	static const char *const marks[] = { "\xc2\xab", "\xc2\xbb", "\xc2\xa0", "\xe2\x80\xaf",
	    "\xe2\x80\x99" };
	char *f = str_fold(s), *p;

	for (size_t i = 0; i < nitems(marks); i++)
		for (p = f; (p = strstr(p, marks[i])) != NULL; )
			memset(p, ' ', strlen(marks[i]));
	for (p = f; *p; p++)
		if ((unsigned char)*p < 0x80 && !isalnum((unsigned char)*p))
			*p = ' ';
	return f;
}

/* Every word of words in the subject (case, accents and marks folded)? */
static int
status_words_match(const char *words, const char *subject)
{
	char *w = status_words_norm(words), *subj = status_words_norm(subject), *save = NULL, *tok;
	int match = 1, any = 0;

	for (tok = strtok_r(w, " ", &save); tok && match; tok = strtok_r(NULL, " ", &save)) {
		any = 1;
		match = strstr(subj, tok) != NULL;
	}
	free(w);
	free(subj);
	return match && any;
}

static void
status_tokens_add(char ***tokens, size_t *n, const char *token)
{
	*tokens = xrealloc(*tokens, (*n + 1) * sizeof **tokens);
	(*tokens)[(*n)++] = xstrdup(token);
}

/* Broadcasts, newest first, whose token starts with key (by_token) or whose
 * subject holds key's words, appended to *tokens. 0, or -1 on error. */
static int
status_find_pass(struct db *db, const char *key, int by_token, size_t max, char ***tokens,
    size_t *n)
{
	struct db_stmt *st = db_query(db, "SELECT token, subject FROM message WHERE kind ="
	    " 'broadcast' ORDER BY id DESC", "");
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = db_step(st)) == 1 && *n < max)
		if (by_token ? strncasecmp(db_col_text(st, 0), key, strlen(key)) == 0 :
		    status_words_match(key, db_col_text(st, 1)))
			status_tokens_add(tokens, n, db_col_text(st, 0));
	db_finalize(&st);
	return rc == -1 ? -1 : 0;
}

int
status_find(struct db *db, const char *key, size_t max, char ***tokens_r)
{
	char **tokens = NULL;
	size_t n = 0;

	/* A reference first; words only when it names nothing. */
	if ((status_is_hex(key) && status_find_pass(db, key, 1, max, &tokens, &n) == -1) ||
	    (n == 0 && status_find_pass(db, key, 0, max, &tokens, &n) == -1)) {
		status_tokens_free(tokens, n);
		return -1;
	}
	*tokens_r = tokens;
	return (int)n;
}

void
status_tokens_free(char **tokens, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(tokens[i]);
	free(tokens);
}
