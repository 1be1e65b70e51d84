/*
 * answer.c — whom mlistd answers (see answer.h). The one place that says
 * whether a sender is plausible or proven; every notice answering a mail
 * (broadcasts, reports, requests, editors' commands) goes through
 * answer_notice().
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "answer.h"
#include "authres.h"
#include "config.h"
#include "db.h"
#include "engine.h"
#include "log.h"
#include "notice.h"
#include "roster.h"
#include "util.h"

enum answer_trust
answer_trust(struct engine *e, const char *envelope_sender, const struct mime_msg *m,
    const char *from, const char **why_r)
{
	const char *why = "From is neither the envelope sender nor in the roster, no DKIM proof";

	if (from == NULL || *from == '\0' || strchr(from, '@') == NULL)
		why = "no From address";
	else if (authres_dkim_proof(m, e->cf->trusted_authserv_ids,
	    e->cf->dkim_allow_parent_domain, from))
		return ANSWER_PROVEN;
	else if (envelope_sender && strcasecmp(envelope_sender, from) == 0)
		return ANSWER_PLAUSIBLE;
	else if (roster_is_known(e->db, from))
		return ANSWER_PLAUSIBLE;
	if (why_r)
		*why_r = why;
	return ANSWER_NONE;
}

int
answer_notice(struct engine *e, const char *envelope_sender, const struct mime_msg *m,
    const char *from, const char *name, const char *const *vars,
    const struct notice_opts *o)
{
	const char *why = NULL;

	if (answer_trust(e, envelope_sender, m, from, &why) == ANSWER_NONE) {
		engine_logf(e, "notice=%s rcpt=%s sender=<%s> status=withheld reason=\"%s\"", name,
		    from ? from : "", envelope_sender ? envelope_sender : "", why);
		return 0;
	}
	return notice_send_opts(e, name, from, vars, o, &why);
}

int
answer_hold(struct engine *e, const char *from, const char *action, const char *text,
    char token_r[33])
{
	char id[33];

	engine_token(id, 16);
	engine_token(token_r, 16);
	if (db_run(e->db, "INSERT INTO message (token, kind, state, author, target, reason,"
	    " confirm_token, received, raw) VALUES (?, 'confirm', 'held', ?, ?, 'awaiting"
	    " confirmation', ?, ?, ?)", "ssssib", id, from, action, token_r, (int64_t)now(),
	    text, strlen(text)) == -1)
		return -1;
	engine_logf(e, "msgid=%s from=%s action=%s status=held reason=\"awaiting confirmation\"", id,
	    from, action);
	return 0;
}

int
answer_is_token(struct engine *e, const char *token)
{
	int64_t n;

	return db_int(e->db, &n, "SELECT count(*) FROM message WHERE confirm_token = ? AND"
	    " kind = 'confirm'", "s", token) == 1 && n > 0;
}

int
answer_take(struct engine *e, const char *token, const char *from, char **action_r,
    char **text_r)
{
	struct db_stmt *st = db_query(e->db, "SELECT id, target, raw FROM message WHERE"
	    " confirm_token = ? AND kind = 'confirm' AND state = 'held' AND received > ? AND"
	    " author = ? COLLATE NOCASE", "sis", token, (int64_t)(now() - e->cf->confirm_lifetime),
	    from ? from : "");
	int64_t id = 0;
	size_t len = 0;
	const void *raw;
	int rc;

	if (st == NULL)
		return -1;
	if ((rc = db_step(st)) == 1) {
		id = db_col_int(st, 0);
		*action_r = xstrdup(db_col_text(st, 1));
		raw = db_col_blob(st, 2, &len);
		*text_r = xstrndup(raw ? raw : "", len);
	}
	db_finalize(&st);
	if (rc == 0)
		engine_logf(e, "confirm=%s from=%s status=ignored reason=\"unknown, used, expired or not"
		    " the address asked\"", token, from ? from : "");
	if (rc != 1)
		return rc;
	if (db_run(e->db, "UPDATE message SET state = 'done', confirm_token = NULL, reason = '',"
	    " released = ? WHERE id = ?", "ii", (int64_t)now(), id) == -1) {
		free(*action_r);
		free(*text_r);
		return -1;
	}
	return 1;
}
