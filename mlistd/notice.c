/*
 * notice.c — templated notices (see notice.h). The template decides the
 * words; this file adds what every notice shares (list name, addresses),
 * builds the MIME message and queues it as one delivery.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "engine.h"
#include "log.h"
#include "mime.h"
#include "notice.h"
#include "roster.h"
#include "tmpl.h"
#include "util.h"

static void
notice_common_vars(const struct engine *e, struct tmpl_dict *d)
{
	tmpl_set(d, "LIST_NAME", e->cf->list_name);
	tmpl_set(d, "DOMAIN", e->cf->domain);
	tmpl_set(d, "LIST_ADDRESS", e->list_addr);
	tmpl_set(d, "REQUEST_ADDRESS", e->request_addr);
}

/* Split "Subject: x\n...\n\nbody" into subject and body. */
static int
notice_split(char *text, char **subject_r, char **body_r)
{
	char *body = strstr(text, "\n\n"), *line, *save = NULL;

	*subject_r = NULL;
	if (body == NULL)
		return -1;
	*body = '\0';
	body += 2;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (str_has_prefix_ci(line, "Subject:"))
			*subject_r = xstrdup(str_trim(line + 8));
	if (*subject_r == NULL)
		return -1;
	*body_r = xstrdup(body);
	return 0;
}

int
notice_render_dict(const struct engine *e, const char *name, struct tmpl_dict *d,
    char **subject_r, char **body_r, const char **error_r)
{
	char *file = xasprintf("%s.txt", name), *path, *text = NULL;
	int rc = -1;

	path = tmpl_find(e->cf->templates_dir, e->cf->language, file);
	free(file);
	if (path == NULL) {
		*error_r = "template not found";
		return -1;
	}
	notice_common_vars(e, d);
	if (tmpl_expand(path, d, TMPL_TEXT, &text, error_r) == 0) {
		rc = notice_split(text, subject_r, body_r);
		if (rc == -1)
			*error_r = "template has no \"Subject:\" line and blank line";
	}
	free(text);
	free(path);
	return rc;
}

int
notice_render(const struct engine *e, const char *name, const char *const *vars,
    char **subject_r, char **body_r, const char **error_r)
{
	struct tmpl_dict *d = tmpl_dict_new();
	int rc;

	for (size_t i = 0; vars && vars[i] && vars[i + 1]; i += 2)
		if (vars[i][0] == '#')		/* "#NAME": show {{#NAME}} once */
			tmpl_show_section(d, vars[i] + 1);
		else
			tmpl_set(d, vars[i], vars[i + 1]);
	rc = notice_render_dict(e, name, d, subject_r, body_r, error_r);
	tmpl_dict_free(&d);
	return rc;
}

static _Thread_local char notice_errbuf[512];

/* -1 for notice NAME to rcpt, the reason in notice_errbuf, logged and kept
 * for the handler's result. */
static int
notice_fail(struct engine *e, const char *name, const char *rcpt, const char *why,
    const char **error_r)
{
	snprintf(notice_errbuf, sizeof notice_errbuf, "notice %s: %s", name, why);
	log_warnx("notice=%s rcpt=%s status=error reason=\"%s\"", name, rcpt, why);
	*error_r = notice_errbuf;
	return engine_failf(e, "%s", notice_errbuf);
}

/* At most max_autoresponses_per_day notices to one address in 24 hours
 * (ten times as many answers to an editor of the roster, who works by
 * mail: a command mail and its confirmation each get one): 1 allowed, 0
 * not, -1 database error. */
static int
notice_allowed(struct engine *e, const char *rcpt, const char *name)
{
	int64_t n, max = e->cf->max_autoresponses_per_day;

	if (strncmp(name, "editor-", 7) == 0 && roster_is_sender(e->db, rcpt, "editor"))
		max *= 10;
	if (db_int(e->db, &n, "SELECT count(*) FROM autoresponse WHERE email = ? AND at > ?",
	    "si", rcpt, (int64_t)(now() - 86400)) == -1)
		return -1;
	if (n >= max) {
		engine_logf(e, "notice=%s rcpt=%s status=suppressed reason=rate-limit", name, rcpt);
		return 0;
	}
	return 1;
}

/* The message and its one delivery, in a transaction of its own or a
 * savepoint of the caller's. 1 queued, -1 error. */
static int
notice_queue(struct engine *e, const char *rcpt, const char *subject, const char *body,
    size_t len, const char *name, const char **error_r)
{
	char token[33], verp[33];
	int64_t id, t = now();

	engine_token(token, 16);
	engine_token(verp, 16);
	if (db_begin(e->db) == -1)
		return notice_fail(e, name, rcpt, db_errmsg(e->db), error_r);
	if (db_run(e->db, "INSERT INTO message (token, kind, state, author, subject, received,"
	    " released, body) VALUES (?, 'notice', 'sending', ?, ?, ?, ?, ?)", "sssiib", token,
	    e->request_addr, subject, t, t, body, len) == -1)
		goto fail;
	id = db_last_id(e->db);
	if (db_run(e->db, "INSERT INTO delivery (message_id, rcpt, verp, next_try) VALUES"
	    " (?, ?, ?, ?)", "issi", id, rcpt, verp, t) == -1 ||
	    db_run(e->db, "INSERT INTO autoresponse (email, at, what) VALUES (?, ?, ?)", "sis",
	    rcpt, t, name) == -1)
		goto fail;
	if (db_commit(e->db) == -1)
		goto fail;
	engine_logf(e, "notice=%s msgid=%s rcpt=%s status=queued", name, token, rcpt);
	return 1;
fail:
	notice_fail(e, name, rcpt, db_errmsg(e->db), error_r);	/* before the rollback */
	db_rollback(e->db);
	return -1;
}

int
notice_send_opts(struct engine *e, const char *name, const char *rcpt,
    const char *const *vars, const struct notice_opts *o, const char **error_r)
{
	const char *err = NULL;
	const char *hdrs[12] = { "Auto-Submitted", "auto-replied", "X-Loop", e->list_addr };
	char *subject, *body, *msg;
	size_t len, n = 4;
	int rc;

	if ((rc = notice_allowed(e, rcpt, name)) != 1)
		return rc == 0 ? 0 : notice_fail(e, name, rcpt, db_errmsg(e->db), error_r);
	if (o && o->reply_to)
		hdrs[n++] = "Reply-To", hdrs[n++] = o->reply_to;
	if (o && o->message_id)
		hdrs[n++] = "Message-ID", hdrs[n++] = o->message_id;
	if (o && o->in_reply_to)
		hdrs[n++] = "In-Reply-To", hdrs[n++] = o->in_reply_to;
	if (notice_render(e, name, vars, &subject, &body, &err) == -1)
		return notice_fail(e, name, rcpt, err, error_r);
	msg = mime_build_text(e->cf->list_name, o && o->from ? o->from : e->request_addr, rcpt,
	    subject, body, hdrs, 1, &len);
	rc = msg ? notice_queue(e, rcpt, subject, msg, len, name, error_r) :
	    notice_fail(e, name, rcpt, "the message could not be built", error_r);
	free(msg);
	free(subject);
	free(body);
	return rc;
}

int
notice_send(struct engine *e, const char *name, const char *rcpt, const char *const *vars,
    const char **error_r)
{
	return notice_send_opts(e, name, rcpt, vars, NULL, error_r);
}
