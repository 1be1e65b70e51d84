/*
 * reply.c — a member's answer to a broadcast, sent to retour+TOKEN@
 * (see reply.h).
 *
 * The decision, in order:
 *  1. a message carrying our own X-Loop is dropped (a forward coming back);
 *  2. the token must name a released broadcast: it is a capability, so an
 *     unknown one is dropped with one log line and nothing is forwarded;
 *  3. the sender's committee is the first committee (preferring one this
 *     broadcast went to) having the From address (else the envelope
 *     sender) among its contacts; none: an unknown sender;
 *  4. automatic mail (autoreply.h) is recorded with reply.auto = the signal
 *     and goes no further: no forward, no notice, one log line;
 *  5. a person's reply is forwarded to the office (national_replies_to,
 *     else the broadcast's author) as the member's own message: Subject
 *     "[Committee] ..." ("[inconnu] ..." for an unknown sender), Reply-To
 *     the member, From "Name via LIST" <national@> (DMARC-safe: the
 *     member's domain never signs our copy), X-Mlistd-Broadcast: TOKEN and
 *     our X-Loop.
 * The inbound message row (which tells the router the spool file is
 * handled), the reply row and the forward with its delivery row are one
 * transaction: a crash before the commit handles the file again, after it
 * never twice.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "autoreply.h"
#include "config.h"
#include "db.h"
#include "engine.h"
#include "i18n.h"
#include "log.h"
#include "mime.h"
#include "queue.h"
#include "reply.h"
#include "roster.h"
#include "util.h"

/* The messages whose Reply-To is retour+TOKEN@. */
#define REPLY_KINDS "('broadcast', 'bulletin', 'proof', 'bulletin-call', 'bulletin-reminder')"
#define REPLY_TOKEN_LEN 32

/* What one reply is about; every string owned here (reply_ctx_free). */
struct reply_ctx {
	int64_t		 bcast_id;	/* 0: unknown token */
	char		*bcast_author;
	char		*from;		/* the member's address */
	char		*from_name;	/* display name, NULL if none */
	char		*subject;	/* as received, decoded */
	char		*mid;		/* Message-ID, NULL if none */
	int64_t		 committee_id;	/* 0: unknown sender */
	char		*committee;	/* name, NULL for an unknown sender */
	char		*slug;		/* for the logs, NULL likewise */
	const char	*why;		/* static: why dropped or automatic */
};

static void
reply_ctx_free(struct reply_ctx *c)
{
	free(c->bcast_author);
	free(c->from);
	free(c->from_name);
	free(c->subject);
	free(c->mid);
	free(c->committee);
	free(c->slug);
	memset(c, 0, sizeof *c);
}

/* The released broadcast named by token: its id and author. */
static void
reply_broadcast(struct engine *e, const char *token, struct reply_ctx *c)
{
	struct db_stmt *st = db_query(e->db, "SELECT id, CASE kind WHEN 'broadcast' THEN author"
	    " ELSE '' END FROM message WHERE token = lower(?) AND kind IN " REPLY_KINDS " AND"
	    " released IS NOT NULL", "s", token);

	if (st && db_step(st) == 1) {
		c->bcast_id = db_col_int(st, 0);
		c->bcast_author = xstrdup(db_col_text(st, 1));
	}
	db_finalize(&st);
}

/* The committee of email: one this broadcast went to first, else the first. */
static int
reply_committee(struct engine *e, const char *email, struct reply_ctx *c)
{
	struct db_stmt *st = db_query(e->db, "SELECT c.id, c.name, c.slug FROM contact k JOIN committee c"
	    " ON c.id = k.committee_id WHERE k.email = ? ORDER BY EXISTS (SELECT 1 FROM delivery d"
	    " WHERE d.message_id = ? AND d.committee_id = c.id) DESC, c.id LIMIT 1", "si", email,
	    c->bcast_id);

	if (st && db_step(st) == 1) {
		c->committee_id = db_col_int(st, 0);
		c->committee = xstrdup(db_col_text(st, 1));
		c->slug = xstrdup(db_col_text(st, 2));
	}
	db_finalize(&st);
	return c->committee_id > 0;
}

static void
reply_ctx_fill(struct engine *e, const struct inmsg *in, const struct mime_msg *m,
    struct reply_ctx *c)
{
	c->from = mime_from_address(m);
	if (c->from == NULL)
		c->from = str_lower(xstrdup(in->sender ? in->sender : ""));
	c->from_name = mime_from_name(m);
	c->subject = mime_subject(m);
	c->mid = mime_message_id(m);
	reply_broadcast(e, in->ext, c);
	if (c->bcast_id > 0 && !reply_committee(e, c->from, c) && in->sender && *in->sender &&
	    strcasecmp(in->sender, c->from) != 0)
		reply_committee(e, in->sender, c);
}

/* The inbound message row: the router's proof that the file was handled. */
static int
reply_record_in(struct engine *e, const struct inmsg *in, const struct reply_ctx *c,
    const char *state, const char *reason)
{
	char token[33];

	engine_token(token, 16);
	return db_run(e->db, "INSERT INTO message (token, spool_id, rcpt, kind, state, sender,"
	    " author, subject, message_id, target, reason, received) VALUES (?, ?, ?, 'reply', ?, ?,"
	    " ?, ?, ?, ?, ?, ?)", "ssssssssssi", token, in->spool_id, in->rcpt, state,
	    in->sender ? in->sender : "", c->from, c->subject, c->mid ? c->mid : "", in->ext,
	    reason, (int64_t)now());
}

static int
reply_insert(struct engine *e, const struct reply_ctx *c, const char *auto_why,
    int64_t forward_id)
{
	return db_run(e->db, "INSERT INTO reply (message_id, committee_id, sender, subject,"
	    " received, auto, forward_id) VALUES (?, nullif(?, 0), ?, ?, ?, ?, nullif(?, 0))",
	    "iissisi", c->bcast_id, c->committee_id, c->from, c->subject, (int64_t)now(),
	    auto_why, forward_id);
}

/* The first national sender (a reply to the bulletin, no address set). */
static char *
reply_first_national(struct engine *e)
{
	size_t n;
	char **office = roster_office(e->db, "", &n), *first;

	first = office && n > 0 ? xstrdup(office[0]) : NULL;
	roster_office_free(office);
	return first;
}

/* Where the forward goes (caller frees); NULL when nowhere is configured. */
static char *
reply_office(struct engine *e, const struct reply_ctx *c)
{
	if (*e->cf->national_replies_to)
		return xstrdup(e->cf->national_replies_to);
	if (c->bcast_author && *c->bcast_author)
		return xstrdup(c->bcast_author);
	if (*e->cf->admin_address)
		return xstrdup(e->cf->admin_address);
	return reply_first_national(e);
}

/* "[Rennes] Re: ..." or "[inconnu] Re: ..." (caller frees). */
static char *
reply_subject(const struct reply_ctx *c)
{
	char *tag = xasprintf("[%s]", c->committee ? c->committee : tr("inconnu", "unknown"));
	char *s;

	if (strstr(c->subject, tag) != NULL)
		s = xstrdup(c->subject);
	else
		s = xasprintf("%s %s", tag, c->subject);
	free(tag);
	return s;
}

/* A forward needs a Date and a Message-ID even if the member's mail had none. */
static void
reply_forward_ids(const struct engine *e, struct mime_msg *m, const char *bcast_token)
{
	char *v, buf[64];

	if ((v = mime_header(m, "Date")) == NULL) {
		time_rfc5322(now(), buf, sizeof buf);
		mime_set_header(m, "Date", buf);
	}
	free(v);
	if ((v = mime_message_id(m)) == NULL) {
		engine_token(buf, 16);
		v = xasprintf("<%s.%s@%s>", buf, bcast_token, e->cf->domain);
		mime_set_header(m, "Message-ID", v);
	}
	free(v);
}

/* Rewrite m into the forward (CRLF, caller frees). */
static char *
reply_forward_build(struct engine *e, struct mime_msg *m, const struct reply_ctx *c,
    const char *token, const char *office, const char *subject, size_t *len_r)
{
	static const char *const drop[] = { "Return-Path", "Delivered-To", "X-Original-To",
	    "Bcc", "Sender", "Reply-To", "Mail-Followup-To", "Errors-To", "DKIM-Signature",
	    "ARC-Seal", "ARC-Message-Signature", "ARC-Authentication-Results",
	    "Authentication-Results", "Disposition-Notification-To", "Return-Receipt-To",
	    "X-Mlistd-Broadcast", "X-Mlistd-Committee", "X-Original-From" };
	char *display = xasprintf("%s via %s", c->from_name && *c->from_name ? c->from_name :
	    c->from, e->cf->list_name);

	for (size_t i = 0; i < nitems(drop); i++)
		mime_remove_header(m, drop[i]);
	mime_set_from(m, display, e->list_addr);
	mime_set_header(m, "Reply-To", c->from);
	mime_set_header(m, "X-Original-From", c->from);
	mime_set_header(m, "To", office);
	mime_set_header(m, "Subject", subject);
	mime_set_header(m, "X-Mlistd-Broadcast", token);
	mime_set_header(m, "X-Mlistd-Committee", c->committee ? c->committee :
	    tr("inconnu", "unknown"));
	mime_set_header(m, "X-Loop", e->list_addr);
	reply_forward_ids(e, m, token);
	free(display);
	return mime_serialize(m, 1, len_r);
}

/* A person's reply: forward, then record; in the caller's transaction. */
static int
reply_forward(struct engine *e, const struct inmsg *in, struct mime_msg *m,
    struct reply_ctx *c)
{
	char *office = reply_office(e, c), *subject, *body, ftoken[33];
	struct queue_rcpt r = { NULL, 0, 0 };
	int64_t fid = 0;
	size_t len;

	if (office == NULL) {
		engine_warnf(e, "msgid=%s kind=reply from=%s status=recorded reason=\"no office address to"
		    " forward to\"", in->ext, c->from);
		return reply_insert(e, c, NULL, 0) == 0 ?
		    reply_record_in(e, in, c, "done", "no office address") : -1;
	}
	subject = reply_subject(c);
	body = reply_forward_build(e, m, c, in->ext, office, subject, &len);
	r.email = office;
	if (body == NULL || (fid = queue_message(e, "reply-forward", subject, body, len, &r, 1,
	    ftoken)) == -1)
		fid = -1;
	else
		engine_logf(e, "msgid=%s kind=reply from=%s committee=%s status=forwarded rcpt=%s forward=%s",
		    in->ext, c->from, c->slug ? c->slug : "unknown", office, ftoken);
	free(body);
	free(subject);
	free(office);
	if (fid == -1 || reply_insert(e, c, NULL, fid) == -1)
		return -1;
	return reply_record_in(e, in, c, "done", "");
}

/* Was this reply (its Message-ID) already taken for the same mail of ours?
 * Reply-All brings it to retour+TOKEN@ and to national@ both. */
static int
reply_seen(struct engine *e, const struct inmsg *in, const struct reply_ctx *c)
{
	int64_t n = 0;

	if (c->mid == NULL || *c->mid == '\0')
		return 0;
	return db_int(e->db, &n, "SELECT count(*) FROM message WHERE kind = 'reply' AND"
	    " message_id = ? AND target = ? AND state = 'done'", "ss", c->mid, in->ext) == 1 &&
	    n > 0;
}

/* The header block of a raw message (up to the first empty line). */
static size_t
reply_header_len(const char *data, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++)
		if (data[i] == '\n' && (data[i + 1] == '\n' || (data[i + 1] == '\r' && i + 2 < len &&
		    data[i + 2] == '\n')))
			return i + 1;
	return len;
}

/* In header line h (with its continuation lines, up to end), the first
 * "<TOKEN@domain>" naming a mail of ours that takes replies. */
static int
reply_scan_ids(struct engine *e, const char *h, const char *end, int publication_only,
    char token_r[33])
{
	size_t dlen = strlen(e->cf->domain);

	for (const char *p = h; p < end && (p == h || *p != '\n' || (p + 1 < end &&
	    (p[1] == ' ' || p[1] == '\t'))); p++) {
		int64_t n = 0;

		if (*p != '<' || end - p < REPLY_TOKEN_LEN + 3 + (ptrdiff_t)dlen ||
		    p[1 + REPLY_TOKEN_LEN] != '@' || strncasecmp(p + 2 + REPLY_TOKEN_LEN,
		    e->cf->domain, dlen) != 0 || p[2 + REPLY_TOKEN_LEN + dlen] != '>')
			continue;
		memcpy(token_r, p + 1, REPLY_TOKEN_LEN);
		token_r[REPLY_TOKEN_LEN] = '\0';
		if (strspn(token_r, "0123456789abcdef") == REPLY_TOKEN_LEN &&
		    db_int(e->db, &n, "SELECT count(*) FROM message WHERE token = ? AND (kind ="
		    " 'bulletin' OR (NOT ? AND kind IN ('proof', 'bulletin-call',"
		    " 'bulletin-reminder')))", "sd", token_r, publication_only) == 1 &&
		    n > 0)
			return 1;
	}
	return 0;
}

int
reply_names_bulletin(struct engine *e, const char *data, size_t len, int publication_only,
    char token_r[33])
{
	const char *end = data + reply_header_len(data, len);

	for (const char *h = data; h < end; h++) {
		if (h != data && h[-1] != '\n')
			continue;
		if ((strncasecmp(h, "In-Reply-To:", 12) == 0 || strncasecmp(h, "References:", 11) == 0)
		    && reply_scan_ids(e, h, end, publication_only, token_r))
			return 1;
	}
	return 0;
}

/* Decide and record; in one transaction opened by the caller. */
static int
reply_decide(struct engine *e, const struct inmsg *in, struct mime_msg *m)
{
	struct reply_ctx c = { 0 };
	int rc;

	reply_ctx_fill(e, in, m, &c);
	if (mime_header_contains(m, "X-Loop", e->list_addr))
		c.why = "loop: our X-Loop";
	else if (c.bcast_id <= 0)
		c.why = "unknown token";
	else if (reply_seen(e, in, &c))
		c.why = "duplicate: the same reply came to another of our addresses";
	if (c.why) {
		engine_logf(e, "msgid=%s kind=reply from=%s status=dropped reason=\"%s\"", in->ext, c.from,
		    c.why);
		rc = reply_record_in(e, in, &c, "dropped", c.why);
	} else if (autoreply_classify(m, in->sender, &c.why) != AUTO_NONE) {
		engine_logf(e, "msgid=%s kind=reply from=%s committee=%s status=auto reason=\"%s\"", in->ext,
		    c.from, c.slug ? c.slug : "unknown", c.why);
		rc = reply_insert(e, &c, c.why, 0) == 0 ?
		    reply_record_in(e, in, &c, "dropped", c.why) : -1;
	} else
		rc = reply_forward(e, in, m, &c);
	reply_ctx_free(&c);
	return rc;
}

/* engine_handler_fn: every failure left is the database's or the queue's. */
static enum engine_result
reply_txn(struct engine *e, const struct inmsg *in, struct mime_msg *m, const char **error_r)
{
	return reply_decide(e, in, m) == 0 ? ENGINE_DONE : engine_dberr(e, error_r);
}

enum engine_result
reply_accept(struct engine *e, const struct inmsg *in, const char **error_r)
{
	return engine_run_parsed(e, in, reply_txn, error_r);
}
