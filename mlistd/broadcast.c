/*
 * broadcast.c — national broadcasts (see broadcast.h).
 *
 * The decision, in order:
 *  1. loops and automatic mail are dropped silently: our own X-Loop or
 *     List-Id, Auto-Submitted other than "no", vacation/bounce/list mail;
 *  1b. a mail marked BROADCAST_HOLD_HEADER (its address was unclear in a
 *     catch-all mailbox, fetch.c) is held for the administrator, never sent;
 *  2. the From address must be a national sender, else the message is held
 *     and its author told once (rate-limited: no backscatter storms);
 *  3. the target must name committees, else refused with a notice;
 *  4. a proof: a trusted DKIM pass for the author's domain (authres.h),
 *     or the shared secret (Approved:),
 *     else the message is held and the author asked to confirm by reply.
 * An accepted broadcast is prepared once (headers, secret removed, CRLF)
 * and stored with one delivery row per active contact, all in one
 * transaction: after the commit the spool file can go.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "answer.h"
#include "authres.h"
#include "autoreply.h"
#include "broadcast.h"
#include "config.h"
#include "db.h"
#include "dmarc.h"
#include "engine.h"
#include "html2text.h"
#include "i18n.h"
#include "log.h"
#include "mime.h"
#include "notice.h"
#include "roster.h"
#include "search.h"
#include "util.h"

/* Step 1: a reason to drop silently, or NULL. */
static const char *
broadcast_drop_reason(struct engine *e, const struct mime_msg *m, const char *sender)
{
	const char *why = engine_loop_reason(e, m);
	char *v;

	if (why == NULL && (v = mime_header(m, "Auto-Submitted")) != NULL) {
		if (strncasecmp(v, "no", 2) != 0 || (v[2] && !isspace((unsigned char)v[2]) &&
		    v[2] != ';'))
			why = "Auto-Submitted";
		free(v);
	}
	if (why == NULL && autoreply_classify(m, sender, &why) == AUTO_NONE)
		why = NULL;
	return why;
}

/* Constant-time comparison of the shared secret. */
static int
broadcast_secret_ok(const char *configured, const char *given)
{
	size_t a = strlen(configured), b = strlen(given);
	unsigned diff = (unsigned)(a ^ b);

	if (a == 0)
		return 0;
	for (size_t i = 0; i < b; i++)
		diff |= (unsigned char)given[i] ^ (unsigned char)configured[i % a];
	return diff == 0;
}

int
broadcast_targets(struct db *db, const char *target, int64_t **ids_r, size_t *n_r)
{
	char *slug = str_slugify(target ? target : "");
	struct db_stmt *st;
	int64_t *ids = NULL;
	size_t n = 0;
	int rc;

	/* regions are free text: compare their slugs in C */
	st = db_query(db, "SELECT c.id, c.slug, c.region, (SELECT count(*) FROM committee_tag t"
	    " WHERE t.committee_id = c.id AND t.tag = ?) FROM committee c ORDER BY c.id", "s", slug);
	if (st == NULL) {
		free(slug);
		return -1;
	}
	while ((rc = db_step(st)) == 1) {
		char *region = str_slugify(db_col_text(st, 2));
		int match = *slug == '\0' || strcmp(db_col_text(st, 1), slug) == 0 ||
		    strcmp(region, slug) == 0 || db_col_int(st, 3) > 0;

		free(region);
		if (!match)
			continue;
		ids = xrealloc(ids, (n + 1) * sizeof *ids);
		ids[n++] = db_col_int(st, 0);
	}
	db_finalize(&st);
	free(slug);
	*ids_r = ids;
	*n_r = n;
	return rc == 0 ? 0 : -1;
}

/* The outgoing copy of m (secret already removed; m is changed): list
 * headers, DMARC, CRLF. NULL on error. */
static char *
broadcast_prepare(struct engine *e, struct mime_msg *m, const char *token, size_t *len_r)
{
	const struct config *cf = e->cf;
	char *author, *name, *subject, *v, *out;
	static const char *const drop[] = { "Return-Path", "Delivered-To", "X-Original-To",
	    "Bcc", "Approved", "Approve", "List-Id", "List-Help", "List-Unsubscribe",
	    "List-Unsubscribe-Post", "List-Post", "List-Archive", "Precedence", "Reply-To",
	    "Errors-To", "Disposition-Notification-To", "Return-Receipt-To",
	    BROADCAST_HOLD_HEADER };

	for (size_t i = 0; i < nitems(drop); i++)
		mime_remove_header(m, drop[i]);
	author = mime_from_address(m);
	name = mime_from_name(m);
	v = xasprintf("\"%s\" <%s.%s>", cf->list_name, cf->national_address, cf->domain);
	mime_set_header(m, "List-Id", v);
	free(v);
	v = xasprintf("<mailto:%s?subject=aide>", e->request_addr);
	mime_set_header(m, "List-Help", v);
	free(v);
	v = xasprintf("<mailto:%s?subject=arret>", e->request_addr);
	mime_set_header(m, "List-Unsubscribe", v);
	free(v);
	mime_set_header(m, "Precedence", "list");
	mime_set_header(m, "X-Loop", e->list_addr);
	v = engine_addr(e, cf->reply_prefix, token);
	if (author && dmarc_should_munge(cf->dmarc_mitigation, addr_domain(author))) {
		char *display = xasprintf("%s via %s", name && *name ? name : author, cf->list_name);
		char *rt = xasprintf("%s, %s", v, author);

		mime_set_from(m, display, e->list_addr);
		mime_set_header(m, "X-Original-From", author);
		mime_set_header(m, "Reply-To", strcmp(cf->dmarc_author_in, "cc") ? rt : v);
		if (strcmp(cf->dmarc_author_in, "reply-to") != 0)
			mime_add_header(m, "Cc", author);
		free(display);
		free(rt);
	} else
		mime_set_header(m, "Reply-To", v);
	free(v);
	subject = mime_subject(m);
	/* Set again even untagged: a raw 8-bit Subject goes out RFC 2047 encoded. */
	if (*cf->subject_tag && strstr(subject, cf->subject_tag) == NULL)
		v = xasprintf("%s %s", cf->subject_tag, subject);
	else
		v = xstrdup(subject);
	mime_set_header(m, "Subject", v);
	free(v);
	if ((v = mime_header(m, "Date")) == NULL) {
		char date[64];

		time_rfc5322(now(), date, sizeof date);
		mime_set_header(m, "Date", date);
	}
	free(v);
	if ((v = mime_message_id(m)) == NULL) {
		char *mid = xasprintf("<%s@%s>", token, cf->domain);

		mime_set_header(m, "Message-ID", mid);
		free(mid);
	}
	free(v);
	out = mime_serialize(m, 1, len_r);
	free(subject);
	free(author);
	free(name);
	return out;
}

/*
 * Delivery rows for every active contact of the target, one per address
 * (a person in two committees gets one copy, counted for the first), in
 * one INSERT ... SELECT: 40,000 rows in a fraction of a second. VERP
 * tokens come from randomblob() (128 bits from SQLite's PRNG, seeded from
 * the system's random source): they name a delivery and cannot be guessed.
 */
static int
broadcast_fanout(struct engine *e, int64_t msg_id, const int64_t *ids, size_t n, size_t *n_r)
{
	struct buf json;
	int rc;

	buf_init(&json);
	buf_addc(&json, '[');
	for (size_t i = 0; i < n; i++)
		buf_printf(&json, "%s%lld", i ? "," : "", (long long)ids[i]);
	buf_addc(&json, ']');
	rc = db_run(e->db, "INSERT INTO delivery (message_id, contact_id, committee_id, rcpt, verp,"
	    " next_try) SELECT ?, min(k.id), k.committee_id, k.email, lower(hex(randomblob(16))), ?"
	    " FROM contact k WHERE k.active AND k.committee_id IN (SELECT value FROM json_each(?))"
	    " GROUP BY lower(k.email) ORDER BY min(k.id)", "iis", msg_id, (int64_t)now(),
	    buf_cstr(&json));
	*n_r = rc == 0 ? (size_t)db_changes(e->db) : 0;
	buf_free(&json);
	return rc;
}

/*
 * Prepare and fan out message msg_id (held or new) to the committees ids[]
 * (NULL: those of target), in the caller's transaction; m is the parsed
 * message, secret removed (it is changed). The archive search index gets
 * its subject and text, as the author wrote them. When the list password
 * still appears anywhere in it (mime_contains_secret: another part, an
 * attribute, a quoted line...), nothing goes out: the message stays held
 * with that reason and 1 is returned; an administrator edits it away.
 */
static int
broadcast_release(struct engine *e, int64_t msg_id, const char *token, struct mime_msg *m,
    const char *target, const int64_t *ids, size_t nids)
{
	int64_t *own = NULL;
	size_t len, n;
	char *subject = mime_subject(m), *text, *body, date[24];
	int is_html = 0, rc = -1;

	if (mime_contains_secret(m, e->cf->approve_password)) {
		free(subject);
		engine_warnf(e, "msgid=%s status=held reason=\"the list password is still in the message\"",
		    token);
		return db_run(e->db, "UPDATE message SET state = 'held', reason = 'contains the list"
		    " password' WHERE id = ?", "i", msg_id) == -1 ? -1 : 1;
	}
	text = mime_text_plain(m, &is_html);
	if (text && is_html) {
		char *plain = html_to_text(text);

		free(text);
		text = plain;
	}
	if ((body = broadcast_prepare(e, m, token, &len)) == NULL) {
		rc = -2;
		goto out;
	}
	if (ids == NULL) {
		if (broadcast_targets(e->db, target, &own, &nids) == -1)
			goto out;
		ids = own;
	}
	if (db_run(e->db, "UPDATE message SET state = 'sending', released = ?, body = ?, raw = NULL,"
	    " confirm_token = NULL, reason = '' WHERE id = ?", "ibi", (int64_t)now(), body, len,
	    msg_id) == -1 || broadcast_fanout(e, msg_id, ids, nids, &n) == -1)
		goto out;
	time_iso(now(), date, sizeof date);
	date[10] = '\0';
	if (search_index(e->db, "broadcast", token, date, "", subject, text ? text : "") == -1)
		log_warnx("msgid=%s search index failed: %s", token, db_errmsg(e->db));
	engine_logf(e, "msgid=%s status=released target=%s rcpts=%zu", token, *target ? target : "all", n);
	rc = 0;
out:
	free(own);
	free(body);
	free(subject);
	free(text);
	return rc;
}

static int
broadcast_insert(struct engine *e, const struct inmsg *in, const struct mime_msg *m,
    const char *author, const char *state, const char *reason, const char *confirm,
    char token[33], int64_t *id_r)
{
	char *subject = mime_subject(m), *mid = mime_message_id(m);
	int rc;

	engine_token(token, 16);
	rc = db_run(e->db, "INSERT INTO message (token, spool_id, rcpt, kind, state, sender, author,"
	    " subject, message_id, target, reason, confirm_token, received, raw) VALUES (?, ?, ?,"
	    " 'broadcast', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "sssssssssssib", token, in->spool_id,
	    in->rcpt, state, in->sender, author ? author : "", subject, mid ? mid : "", in->ext,
	    reason, confirm, (int64_t)now(), in->data, in->len);
	*id_r = db_last_id(e->db);
	free(subject);
	free(mid);
	return rc;
}

/* A failed step of a decision: the database's reason, or why. */
static enum engine_result
broadcast_fail(struct engine *e, int rc, const char *why, const char **error_r)
{
	if (rc == -2) {
		*error_r = why;
		return ENGINE_REFUSED;
	}
	return engine_dberr(e, error_r);
}

/* A refusal told to its author: recorded, and the notice queued (its
 * variables: SUBJECT, TOKEN and key = value if key is not NULL). */
static int
broadcast_refuse(struct engine *e, const struct inmsg *in, const struct mime_msg *m,
    const char *author, const char *state, const char *reason, const char *notice,
    const char *key, const char *value)
{
	char token[33], *subject;
	int64_t id;
	int rc;

	if (broadcast_insert(e, in, m, author, state, reason, NULL, token, &id) == -1)
		return -1;
	engine_logf(e, "msgid=%s from=%s status=%s reason=\"%s\"", token, author, state, reason);
	subject = mime_subject(m);
	rc = answer_notice(e, in->sender, m, author, notice, (const char *[]){ "SUBJECT", subject,
	    "TOKEN", token, key, value, NULL }, NULL) == -1 ? -1 : 0;
	free(subject);
	return rc;
}

/* The committees' names for people, "Brest, Quimper, Rennes", at most
 * BROADCAST_NAMES of them (*more_r: some were left out). */
#define BROADCAST_NAMES 12
static char *
broadcast_names(struct engine *e, const int64_t *ids, size_t n, int *more_r)
{
	struct buf b;

	buf_init(&b);
	buf_add(&b, "", 0);
	for (size_t i = 0; i < n && i < BROADCAST_NAMES; i++) {
		char *name = db_str(e->db, "SELECT name FROM committee WHERE id = ?", "i", ids[i]);

		buf_printf(&b, "%s%s", i ? ", " : "", name ? name : "?");
		free(name);
	}
	*more_r = n > BROADCAST_NAMES;
	return buf_steal(&b);
}

/* Held for a confirmation by reply: recorded, and the request queued. The
 * mail says where it would go: every committee, or those the address's
 * extension names (by name). */
static int
broadcast_ask(struct engine *e, const struct inmsg *in, const struct mime_msg *m,
    const char *author, const char *subject, const int64_t *ids, size_t nids)
{
	char token[33], confirm[33], *reply, *names, count[24];
	int64_t id;
	int rc, more;

	engine_token(confirm, 16);
	if (broadcast_insert(e, in, m, author, "held", "awaiting confirmation", confirm, token,
	    &id) == -1)
		return -1;
	reply = engine_addr(e, e->cf->confirm_prefix, confirm);
	engine_logf(e, "msgid=%s from=%s status=held reason=\"awaiting confirmation\"", token, author);
	struct notice_opts o = { .reply_to = reply };

	names = broadcast_names(e, ids, nids, &more);
	snprintf(count, sizeof count, "%zu", nids);
	rc = answer_notice(e, in->sender, m, author, "broadcast-confirm", (const char *[]){
	    "SUBJECT", subject, "CONFIRM_ADDRESS", reply, "TOKEN", token, "TARGET", in->ext,
	    "NCOMMITTEES", count, "COMMITTEES", names, *in->ext ? "#SOME" : "#ALL", "",
	    more ? "#MORE" : "#ALL_NAMED", "", NULL }, &o) == -1 ? -1 : 0;
	free(names);
	free(reply);
	return rc;
}

/* Accepted with a proof: recorded and fanned out to ids[]. */
static int
broadcast_accepted(struct engine *e, const struct inmsg *in, struct mime_msg *m,
    const char *author, const char *proof, const int64_t *ids, size_t nids)
{
	char token[33];
	int64_t id;
	int rc;

	if (broadcast_insert(e, in, m, author, "held", "", NULL, token, &id) == -1)
		return -1;
	engine_logf(e, "msgid=%s from=%s proof=%s", token, author, proof);
	if ((rc = broadcast_release(e, id, token, m, in->ext, ids, nids)) == 1) {
		/* kept held: the password is still in it; its author is told */
		char *subject = mime_subject(m);

		rc = answer_notice(e, in->sender, m, author, "broadcast-secret-left",
		    (const char *[]){ "SUBJECT", subject, "TOKEN", token, NULL }, NULL) == -1 ? -1 : 0;
		free(subject);
	}
	return rc;
}

/* Steps 3 and 4, for a national sender. */
static enum engine_result
broadcast_proven(struct engine *e, const struct inmsg *in, struct mime_msg *m,
    const char *author, const char *subject, const char **error_r)
{
	int64_t *ids = NULL;
	size_t nids = 0;
	char *secret = NULL;
	const char *proof = NULL;
	int rc;

	if (broadcast_targets(e->db, in->ext, &ids, &nids) == -1)
		return engine_dberr(e, error_r);
	if (nids == 0 && *in->ext == '\0') {
		*error_r = "a broadcast to every committee, and the roster has none";
		return ENGINE_REFUSED;
	}
	if (nids == 0)
		rc = broadcast_refuse(e, in, m, author, "refused", "unknown target",
		    "broadcast-unknown-target", "TARGET", in->ext);
	else {
		mime_strip_approved(m, &secret);
		if (authres_dkim_proof(m, e->cf->trusted_authserv_ids,
		    e->cf->dkim_allow_parent_domain, author))
			proof = "dkim";
		else if (secret && broadcast_secret_ok(e->cf->approve_password, secret))
			proof = "approved";
		rc = proof ? broadcast_accepted(e, in, m, author, proof, ids, nids) :
		    broadcast_ask(e, in, m, author, subject, ids, nids);
	}
	free(ids);
	free(secret);
	return rc == 0 ? ENGINE_DONE : broadcast_fail(e, rc, "the message cannot be prepared",
	    error_r);
}

/* A mail whose address was unclear (a catch-all mailbox, see fetch.c):
 * held for the administrator, who is told; never sent, nobody else told. */
static int
broadcast_hold_for_admin(struct engine *e, const struct inmsg *in, const struct mime_msg *m,
    const char *author, const char *why)
{
	char token[33], *subject, *reason = xasprintf("address unclear: %s", why);
	int64_t id;
	int rc = broadcast_insert(e, in, m, author, "held", reason, NULL, token, &id);

	if (rc == 0) {
		engine_logf(e, "msgid=%s from=%s status=held reason=\"%s\"", token, author ? author : "",
		    reason);
		subject = mime_subject(m);
		if (*e->cf->admin_address && notice_send(e, "broadcast-held-admin",
		    e->cf->admin_address, (const char *[]){ "SUBJECT", subject, "FROM",
		    author ? author : "", "TOKEN", token, "REASON", why, NULL }, &why) == -1)
			rc = -1;
		free(subject);
	}
	free(reason);
	return rc;
}

/* Decide and record (engine_handler_fn: inside engine_run's transaction). */
static enum engine_result
broadcast_decide(struct engine *e, const struct inmsg *in, struct mime_msg *m,
    const char **error_r)
{
	char *author = mime_from_address(m), *subject = mime_subject(m), token[33], *hold;
	const char *why = broadcast_drop_reason(e, m, in->sender);
	enum engine_result r = ENGINE_DONE;
	int64_t id;

	if (why == NULL && author == NULL)
		why = "no From address";
	else if (why == NULL && roster_is_own_address(e->cf, author))
		why = "From is one of the list's own addresses";
	if (why) {
		if (broadcast_insert(e, in, m, author, "dropped", why, NULL, token, &id) == -1)
			r = engine_dberr(e, error_r);
		else
			engine_logf(e, "msgid=%s from=%s status=dropped reason=\"%s\"", token,
			    author ? author : "", why);
	} else if ((hold = mime_header(m, BROADCAST_HOLD_HEADER)) != NULL) {
		if (broadcast_hold_for_admin(e, in, m, author, hold) == -1)
			r = engine_dberr(e, error_r);
		free(hold);
	} else if (!roster_is_sender(e->db, author, "national")) {
		if (broadcast_refuse(e, in, m, author, "held", "not a national sender",
		    "broadcast-refused", NULL, NULL) == -1)
			r = engine_dberr(e, error_r);
	} else if (mime_header_longest(m) > MIME_HEADER_REFUSE) {
		/* folding hundreds of lines is no service: an absurd header is refused */
		_Static_assert(MIME_HEADER_REFUSE == 65536, "the reason and notice say 65536");
		if (broadcast_refuse(e, in, m, author, "refused", "a header is over 65536 bytes",
		    "broadcast-header-too-long", "LIMIT", "65536") == -1)
			r = engine_dberr(e, error_r);
	} else
		r = broadcast_proven(e, in, m, author, subject, error_r);
	free(subject);
	free(author);
	return r;
}

enum engine_result
broadcast_accept(struct engine *e, const struct inmsg *in, const char **error_r)
{
	return engine_run_parsed(e, in, broadcast_decide, error_r);
}

/* Release a held message row (by id) inside a transaction. */
static int
broadcast_release_row(struct engine *e, int64_t id)
{
	struct db_stmt *st = db_query(e->db, "SELECT token, raw, target FROM message WHERE id = ?"
	    " AND state = 'held' AND raw IS NOT NULL", "i", id);
	int rc = -1;

	if (st && db_step(st) == 1) {
		size_t len;
		const void *raw = db_col_blob(st, 1, &len);
		char *token = xstrdup(db_col_text(st, 0)), *target = xstrdup(db_col_text(st, 2));
		char *secret = NULL;
		struct mime_msg *m;
		const char *err;

		rc = mime_parse(raw, len, &m, &err) == -1 ? -2 : 0;
		db_finalize(&st);
		if (rc == 0) {
			mime_strip_approved(m, &secret);
			rc = broadcast_release(e, id, token, m, target, NULL, 0);
			mime_free(&m);
		}
		free(secret);
		free(token);
		free(target);
	}
	db_finalize(&st);
	return rc;
}

/* A confirmation by reply (engine_handler_fn): released if it comes from
 * the author of a held broadcast, else ignored. */
static enum engine_result
broadcast_confirmed(struct engine *e, const struct inmsg *in, struct mime_msg *m,
    const char **error_r)
{
	char *from = mime_from_address(m);
	int64_t id, mine = 0;
	int rc = 0;

	/* The confirmation must come from the author (a national sender). */
	if (db_int(e->db, &id, "SELECT id FROM message WHERE confirm_token = ? AND state = 'held'"
	    " AND received > ?", "si", in->ext, (int64_t)(now() - e->cf->confirm_lifetime)) == -1 ||
	    (id > 0 && from && db_int(e->db, &mine, "SELECT count(*) FROM message WHERE id = ? AND"
	    " author = ? COLLATE NOCASE", "is", id, from) == -1))
		rc = -1;
	else if (mine > 0 && (rc = broadcast_release_row(e, id)) >= 0) {
		engine_logf(e, "confirm=%s from=%s status=%s", in->ext, from, rc ? "held" : "released");
		rc = 0;
	}
	else if (mine == 0)
		engine_logf(e, "confirm=%s from=%s status=ignored reason=\"unknown, expired or not the"
		    " author\"", in->ext, from ? from : "");
	free(from);
	return rc == 0 ? ENGINE_DONE : broadcast_fail(e, rc, "the held broadcast cannot be prepared",
	    error_r);
}

enum engine_result
broadcast_confirm(struct engine *e, const struct inmsg *in, const char **error_r)
{
	return engine_run_parsed(e, in, broadcast_confirmed, error_r);
}

int
broadcast_release_token(struct engine *e, const char *token, const char **error_r)
{
	int64_t id;
	int rc = db_int(e->db, &id, "SELECT id FROM message WHERE token = ? AND kind = 'broadcast'"
	    " AND state = 'held'", "s", token);

	if (rc == 0) {
		*error_r = tr("aucun envoi retenu sous cet identifiant", "no held broadcast with that id");
		return 0;
	}
	if (rc == -1 || db_begin(e->db) == -1) {
		*error_r = db_errmsg(e->db);
		return -1;
	}
	if ((rc = broadcast_release_row(e, id)) < 0 || db_commit(e->db) == -1) {
		*error_r = rc == -2 ? tr("l'envoi retenu ne peut pas être préparé",
		    "the held broadcast cannot be prepared") : db_errmsg(e->db);
		db_rollback(e->db);
		return -1;
	}
	if (rc == 1) {
		*error_r = tr("le mot de passe de la liste est encore dans le message\xc2\xa0: rien"
		    " n'est envoyé", "the list password still appears in the message: not sent");
		return 0;
	}
	return 1;
}
