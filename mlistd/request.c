/*
 * request.c — the request address (aide@), see request.h.
 *
 * One incoming mail gives at most one answer, built from one template
 * fragment per command (templates/LANG/request-*.txt) put together in
 * request-answer.txt and sent with notice_send_opts(), which enforces
 * max_autoresponses_per_day. Mail written by a machine, mail without a
 * sender, our own loops and list traffic are recorded and never answered.
 *
 * Commands: the Subject (without Re:/TR:/[tags]) and the first non-blank
 * lines of the new text, read until the first line that is not a command,
 * at most REQUEST_MAX_CMDS. A line is a command when its first word, case
 * and accents folded, is a known keyword and nothing else follows (only
 * CHERCHER/SEARCH takes words): "Arrêt de la campagne" in a sentence
 * never deactivates anyone.
 *
 * Everything a mail does (message row, roster and subscriber changes, the
 * answer and the notices to the office) is written in one transaction:
 * after a crash the mail is handled again from the spool, or not at all.
 *
 * Identity is the From address: the person is a committee contact when it
 * is an active contact of at least one committee. The From proves nothing
 * by itself (answer.h): the answer goes out only to a plausible sender,
 * and ARRET / DESABONNER act at once only on a trusted DKIM pass; else
 * they are kept (answer_hold) and the answer asks to confirm by replying
 * to confirm+TOKEN@, which request_confirm_accept() then carries out. The public bulletin's
 * subscribers use double opt-in: SUBSCRIBE leaves a 'pending' row with a
 * random token; a mail from the same address to aide+TOKEN@, or whose
 * Subject holds the token (a reply to the confirmation), activates it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "answer.h"
#include "autoreply.h"
#include "bulletin.h"
#include "config.h"
#include "db.h"
#include "editor.h"
#include "engine.h"
#include "frdate.h"
#include "entry.h"
#include "i18n.h"
#include "log.h"
#include "mime.h"
#include "notice.h"
#include "office.h"
#include "queue.h"
#include "request.h"
#include "roster.h"
#include "search.h"
#include "status.h"
#include "tmpl.h"
#include "trim.h"
#include "util.h"

#define REQUEST_MAX_CMDS	5
#define REQUEST_SEARCH_MAX	10
#define REQUEST_MATCH_MAX	10	/* broadcasts listed for ambiguous STATUT words */
#define REQUEST_SEPARATOR	"----------"	/* between the answers to several commands */

/* One mail being answered. */
struct request {
	struct engine	*e;
	char		*from;		/* lower-case From address */
	char		*subject;	/* of the answer: the first fragment's */
	char		*reply_to;	/* aide+TOKEN@ while a subscription waits */
	struct buf	 body;		/* fragments so far */
	int		 nparts;
	int64_t		*committees;	/* where from is an active contact */
	size_t		 ncommittees;
	const char	*sender;	/* envelope sender of the mail answered */
	const struct mime_msg *m;	/* the mail answered */
	int		 proven;	/* DKIM pass, or a confirmed token */
	int		 withheld;	/* no answer at all to this mail */
	char		 confirm[33];	/* token of an action held for confirmation */
};

struct request_cmd {
	const char	*word;		/* folded keyword */
	int		(*run)(struct request *, const char *args);
	int		 args;		/* 1: the rest of the line is its argument */
};

struct request_line {
	const struct request_cmd *cmd;
	char		*args;
};

/* ---- rendering ---- */

static void
request_common_vars(const struct engine *e, struct tmpl_dict *d)
{
	char *bulletin = config_address(e->cf, e->cf->bulletin_address);

	tmpl_set(d, "LIST_NAME", e->cf->list_name);
	tmpl_set(d, "DOMAIN", e->cf->domain);
	tmpl_set(d, "LIST_ADDRESS", e->list_addr);
	tmpl_set(d, "REQUEST_ADDRESS", e->request_addr);
	tmpl_set(d, "BULLETIN_ADDRESS", bulletin);
	tmpl_set_int(d, "MIN_CONTACTS", e->cf->min_contacts);
	free(bulletin);
}

/* Expand NAME.txt with d: its "Subject:" first line, and the rest as body
 * (leading blank lines and trailing space removed). d is freed. */
static int
request_render(struct engine *e, const char *name, struct tmpl_dict *d, char **subject_r,
    char **body_r)
{
	char *file = xasprintf("%s.txt", name), *path, *text = NULL, *nl;
	const char *err = "template not found";
	int rc = -1;

	request_common_vars(e, d);
	path = tmpl_find(e->cf->templates_dir, e->cf->language, file);
	free(file);
	if (path && tmpl_expand(path, d, TMPL_TEXT, &text, &err) == 0) {
		err = "template does not start with a \"Subject:\" line";
		if (str_has_prefix_ci(text, "Subject:") && (nl = strchr(text, '\n')) != NULL) {
			*nl = '\0';
			*subject_r = xstrdup(str_trim(text + 8));
			*body_r = xstrdup(nl + 1 + strspn(nl + 1, "\n"));
			str_trim(*body_r);
			rc = 0;
		}
	}
	if (rc == -1)
		log_warnx("template=%s status=error reason=\"%s\"", name, err);
	tmpl_dict_free(&d);
	free(text);
	free(path);
	return rc;
}

/* Add fragment NAME to the answer (d is freed); a broken template is
 * logged and left out, the other fragments still go. */
static int
request_part(struct request *r, const char *name, struct tmpl_dict *d)
{
	char *subject, *body;

	if (request_render(r->e, name, d, &subject, &body) == -1)
		return 0;
	if (r->body.len > 0)
		buf_adds(&r->body, "\n\n" REQUEST_SEPARATOR "\n\n");
	buf_adds(&r->body, body);
	if (r->subject == NULL)
		r->subject = subject;
	else
		free(subject);
	free(body);
	r->nparts++;
	return 0;
}

/* A mail to others (the office, a committee), not an answer: not counted
 * against the rate limit. d is freed. 0, or -1 on a database error. */
static int
request_mail(struct request *r, const char *name, struct tmpl_dict *d,
    const struct queue_rcpt *rcpts, size_t n)
{
	struct engine *e = r->e;
	const char *hdrs[] = { "Auto-Submitted", "auto-generated", "X-Loop", e->list_addr, NULL };
	char *subject, *body, *msg, token[33];
	struct buf to;
	size_t len;
	int64_t id = 0;

	if (request_render(e, name, d, &subject, &body) == -1)
		return 0;
	buf_init(&to);
	for (size_t i = 0; i < n; i++)
		buf_printf(&to, "%s%s", i ? ", " : "", rcpts[i].email);
	msg = mime_build_text(e->cf->list_name, e->request_addr, buf_cstr(&to), subject, body,
	    hdrs, 1, &len);
	if (msg)
		id = queue_message(e, "notice", subject, msg, len, rcpts, n, token);
	free(msg);
	buf_free(&to);
	free(subject);
	free(body);
	return id == -1 ? -1 : 0;
}

/* ---- small queries ---- */

static int
request_load_committees(struct request *r)
{
	struct db_stmt *st = db_query(r->e->db, "SELECT DISTINCT committee_id FROM contact"
	    " WHERE email = ? AND active ORDER BY committee_id", "s", r->from);
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = db_step(st)) == 1) {
		r->committees = xrealloc(r->committees, (r->ncommittees + 1) * sizeof *r->committees);
		r->committees[r->ncommittees++] = db_col_int(st, 0);
	}
	db_finalize(&st);
	return rc == 0 ? 0 : -1;
}

static char *
request_committee_name(struct request *r, int64_t id)
{
	char *name = db_str(r->e->db, "SELECT name FROM committee WHERE id = ?", "i", id);

	return name ? name : xstrdup("?");
}

/* The state of from's subscriber row ("" when none; caller frees). */
static char *
request_sub_state(struct request *r)
{
	char *s = db_str(r->e->db, "SELECT state FROM subscriber WHERE email = ?", "s", r->from);

	return s ? s : xstrdup("");
}

/* YYYY-MM-DD as the language writes it. */
static void
request_date(const struct request *r, const char *iso, char *out, size_t outlen)
{
	frdate_long(strcmp(r->e->cf->language, "en") == 0, iso, out, outlen);
}

/* ---- commands ---- */

static int
request_help(struct request *r, const char *args)
{
	return request_part(r, "request-help", tmpl_dict_new());
}

/* One committee's active contacts as rows of section CONTACT of d. */
static int
request_contact_rows(struct request *r, int64_t committee, struct tmpl_dict *d)
{
	struct db_stmt *st = db_query(r->e->db, "SELECT name, email FROM contact WHERE"
	    " committee_id = ? AND active ORDER BY name COLLATE fr, email", "i", committee);
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = db_step(st)) == 1) {
		const char *name = db_col_text(st, 0), *email = db_col_text(st, 1);
		char *label = *name ? xasprintf("%s <%s>", name, email) : xstrdup(email);

		tmpl_set(tmpl_add_section(d, "CONTACT"), "CONTACT_LABEL", label);
		free(label);
	}
	db_finalize(&st);
	return rc == 0 ? 0 : -1;
}

static int
request_contacts(struct request *r, const char *args)
{
	struct tmpl_dict *d = tmpl_dict_new();

	tmpl_set(d, "EMAIL", r->from);
	if (r->ncommittees == 0)
		tmpl_show_section(d, "NOT_CONTACT");
	for (size_t i = 0; i < r->ncommittees; i++) {
		struct tmpl_dict *c = tmpl_add_section(d, "COMMITTEE");
		char *name = request_committee_name(r, r->committees[i]);
		int64_t n = roster_active_count(r->e->db, r->committees[i]);

		tmpl_set(c, "COMMITTEE_NAME", name);
		tmpl_set_int(c, "NACTIVE", n);
		if (n < r->e->cf->min_contacts)
			tmpl_show_section(c, "UNDER_MIN");
		free(name);
		if (request_contact_rows(r, r->committees[i], c) == -1) {
			tmpl_dict_free(&d);
			return -1;
		}
	}
	return request_part(r, "request-contacts", d);
}

/* Section names of submission states in request-status.txt. */
static const char *
request_state_section(const char *state)
{
	static const char *const map[][2] = { { "new", "NEW" }, { "accepted", "ACCEPTED" },
	    { "rejected", "REJECTED" }, { "held", "HELD" } };

	for (size_t i = 0; i < nitems(map); i++)
		if (strcmp(state, map[i][0]) == 0)
			return map[i][1];
	return "OTHER";
}

/* One committee's submissions for the issue as a COMMITTEE row of d. */
static int
request_submission_rows(struct request *r, int64_t issue, int64_t committee,
    struct tmpl_dict *d)
{
	struct tmpl_dict *c = tmpl_add_section(d, "COMMITTEE");
	char *name = request_committee_name(r, committee);
	struct db_stmt *st;
	int rc, n = 0;

	tmpl_set(c, "COMMITTEE_NAME", name);
	free(name);
	st = db_query(r->e->db, "SELECT title, state FROM submission WHERE issue_id = ? AND"
	    " committee_id = ? AND state != 'replaced' ORDER BY received, id", "ii", issue, committee);
	if (st == NULL)
		return -1;
	while ((rc = db_step(st)) == 1) {
		struct tmpl_dict *s = tmpl_add_section(c, "SUBMISSION");

		tmpl_set(s, "TITLE", db_col_text(st, 0));
		tmpl_set(s, "STATE", i18n_state("submission", db_col_text(st, 1)));
		tmpl_show_section(s, request_state_section(db_col_text(st, 1)));
		n++;
	}
	db_finalize(&st);
	if (n == 0)
		tmpl_show_section(c, "NOTHING");
	return rc == 0 ? 0 : -1;
}

/* The report on the one broadcast named by token. */
static int
request_broadcast_report(struct request *r, const char *token)
{
	struct status_bcast b;
	struct tmpl_dict *d;
	int rc = status_load(r->e->db, token, &b);

	if (rc != 1)
		return -1;
	d = tmpl_dict_new();
	office_report_dict(r->e, &b, d);
	engine_logf(r->e, "msgid=%s from=%s status=reported", b.token, r->from);
	status_free(&b);
	return request_part(r, "broadcast-report", d);
}

/* Several broadcasts match: their references, dates and subjects. */
static int
request_broadcast_list(struct request *r, const char *words, char **tokens, size_t n)
{
	struct tmpl_dict *d = tmpl_dict_new(), *many = tmpl_add_section(d, "MANY");
	size_t shown = n > REQUEST_MATCH_MAX ? REQUEST_MATCH_MAX : n;

	tmpl_set(d, "WORDS", words);
	if (n > shown)
		tmpl_set_int(tmpl_add_section(many, "MORE"), "SHOWN", (long long)shown);
	for (size_t i = 0; i < shown; i++) {
		struct status_bcast b;
		struct tmpl_dict *m;
		char date[32], id[STATUS_ID_LEN + 1];

		if (status_load(r->e->db, tokens[i], &b) != 1) {
			tmpl_dict_free(&d);
			return -1;
		}
		m = tmpl_add_section(many, "MATCH");
		snprintf(id, sizeof id, "%s", b.token);
		tmpl_set(m, "MATCH_ID", id);
		office_date(r->e, b.released ? b.released : b.received, date, sizeof date);
		tmpl_set(m, "MATCH_DATE", date);
		tmpl_set(m, "MATCH_SUBJECT", b.subject);
		if (i == 0)
			tmpl_set(many, "FIRST_ID", id);
		status_free(&b);
	}
	return request_part(r, "request-broadcast", d);
}

/*
 * STATUT words: the report on a national broadcast, the office's own
 * (read-only, yet not for anyone): only to a national sender whose From
 * is proven by a trusted DKIM pass or is the envelope sender. A national
 * From that is neither (forged, or relayed by a forwarder) gets no answer
 * at all: the report never reaches whoever wrote the mail, and the
 * national sender is not mailed on a stranger's behalf.
 */
static int
request_broadcast(struct request *r, const char *words)
{
	struct tmpl_dict *d;
	char **tokens = NULL;
	int n, rc;

	if (!roster_is_sender(r->e->db, r->from, "national")) {
		d = tmpl_dict_new();
		tmpl_set(d, "EMAIL", r->from);
		tmpl_show_section(d, "NOT_NATIONAL");
		return request_part(r, "request-broadcast", d);
	}
	if (!r->proven && (r->sender == NULL || strcasecmp(r->sender, r->from) != 0)) {
		engine_logf(r->e, "from=%s sender=%s status=withheld reason=\"STATUT of a"
		    " broadcast: a national sender without DKIM proof whose envelope sender"
		    " differs\"", r->from, r->sender ? r->sender : "");
		r->withheld = 1;
		return 0;
	}
	if ((n = status_find(r->e->db, words, REQUEST_MATCH_MAX + 1, &tokens)) == -1)
		return -1;
	if (n == 1)
		rc = request_broadcast_report(r, tokens[0]);
	else if (n > 1)
		rc = request_broadcast_list(r, words, tokens, (size_t)n);
	else {
		d = tmpl_dict_new();
		tmpl_set(d, "WORDS", words);
		tmpl_show_section(d, "NONE");
		rc = request_part(r, "request-broadcast", d);
	}
	status_tokens_free(tokens, (size_t)n);
	return rc == -1 ? -1 : 0;
}

/* STATUT alone: the next bulletin; STATUT words: a broadcast's report. */
static int
request_status(struct request *r, const char *args)
{
	struct bulletin_issue bi;
	struct tmpl_dict *d, *s;
	char date[32];
	int rc;

	if (strspn(args, ".!?:;, \t") < strlen(args))	/* more than "STATUT ?" */
		return request_broadcast(r, args);
	d = tmpl_dict_new();
	if ((rc = bulletin_open_issue(r->e, now(), &bi)) == -1) {
		tmpl_dict_free(&d);
		return -1;
	}
	if (rc == 1)
		tmpl_show_section(d, "NO_ISSUE");
	else {
		s = tmpl_add_section(d, "ISSUE");
		tmpl_set_int(s, "NUMBER", bi.number);
		request_date(r, bi.deadline, date, sizeof date);
		tmpl_set(s, "DEADLINE", date);
		request_date(r, bi.publish_date, date, sizeof date);
		tmpl_set(s, "PUBLISH_DATE", date);
		if (r->ncommittees == 0)
			tmpl_show_section(s, "NOT_CONTACT");
		for (size_t i = 0; rc == 0 && i < r->ncommittees; i++)
			rc = request_submission_rows(r, bi.id, r->committees[i], s);
	}
	if (rc == -1) {
		tmpl_dict_free(&d);
		return -1;
	}
	return request_part(r, "request-status", d);
}

/* Tell the office who stopped and what each committee has left. */
static int
request_tell_office(struct request *r, const char *who)
{
	struct tmpl_dict *d = tmpl_dict_new();
	struct queue_rcpt *office;
	char **addrs;
	size_t n;
	int rc = 0;

	tmpl_set(d, "WHO", who);
	tmpl_set(d, "EMAIL", r->from);
	for (size_t i = 0; i < r->ncommittees; i++) {
		struct tmpl_dict *c = tmpl_add_section(d, "COMMITTEE");
		char *cname = request_committee_name(r, r->committees[i]);
		int64_t left = roster_active_count(r->e->db, r->committees[i]);

		tmpl_set(c, "COMMITTEE_NAME", cname);
		tmpl_set_int(c, "NACTIVE", left);
		if (left == 0)
			tmpl_show_section(c, "NONE_LEFT");
		else if (left < r->e->cf->min_contacts)
			tmpl_show_section(c, "UNDER_MIN");
		free(cname);
	}
	addrs = roster_office(r->e->db, r->e->cf->admin_address, &n);
	office = xcalloc(n + 1, sizeof *office);
	for (size_t i = 0; i < n; i++)
		office[i].email = addrs[i];
	if (n > 0)
		rc = request_mail(r, "request-stop-office", d, office, n);
	else {
		engine_warnf(r->e, "from=%s status=stopped reason=\"no admin_address nor national sender"
		    " to tell\"", r->from);
		tmpl_dict_free(&d);
	}
	free(office);
	roster_office_free(addrs);
	return rc;
}

/* The committee fell under min_contacts: ask its remaining contacts to
 * designate someone. */
static int
request_warn_committee(struct request *r, int64_t committee, const char *who)
{
	struct db_stmt *st = db_query(r->e->db, "SELECT id, email FROM contact WHERE"
	    " committee_id = ? AND active ORDER BY id", "i", committee);
	struct queue_rcpt *rcpts = NULL;
	struct tmpl_dict *d;
	char *cname;
	size_t n = 0;
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = db_step(st)) == 1) {
		rcpts = xrealloc(rcpts, (n + 1) * sizeof *rcpts);
		rcpts[n].email = xstrdup(db_col_text(st, 1));
		rcpts[n].contact_id = db_col_int(st, 0);
		rcpts[n++].committee_id = committee;
	}
	db_finalize(&st);
	if (rc == 0 && n > 0 && (int64_t)n < r->e->cf->min_contacts) {
		d = tmpl_dict_new();
		cname = request_committee_name(r, committee);
		tmpl_set(d, "WHO", who);
		tmpl_set(d, "EMAIL", r->from);
		tmpl_set(d, "COMMITTEE_NAME", cname);
		tmpl_set_int(d, "NACTIVE", (long long)n);
		free(cname);
		rc = request_mail(r, "request-stop-committee", d, rcpts, n);
	}
	for (size_t i = 0; i < n; i++)
		free((char *)rcpts[i].email);
	free(rcpts);
	return rc;
}

/* An active contact stops: deactivated everywhere, office and (under
 * min_contacts) committees told, a fragment for the person. */
static int
request_stop_contact(struct request *r)
{
	struct tmpl_dict *d = tmpl_dict_new();
	const char *err;
	char *name = db_str(r->e->db, "SELECT name FROM contact WHERE email = ? AND name != ''"
	    " LIMIT 1", "s", r->from);
	char *who = name ? xasprintf("%s <%s>", name, r->from) : xstrdup(r->from);
	int rc = roster_contact_set_active(r->e->db, r->from, 0, "asked to stop (ARRET)", &err);

	if (rc == ROSTER_EDB)
		log_warnx("from=%s status=error reason=\"%s\"", r->from, err);
	else {
		rc = request_tell_office(r, who);
		for (size_t i = 0; rc == 0 && i < r->ncommittees; i++)
			rc = request_warn_committee(r, r->committees[i], who);
	}
	if (rc == 0) {
		engine_logf(r->e, "from=%s status=stopped committees=%zu", r->from, r->ncommittees);
		tmpl_show_section(d, "WAS_CONTACT");
		for (size_t i = 0; i < r->ncommittees; i++) {
			char *cname = request_committee_name(r, r->committees[i]);

			tmpl_set(tmpl_add_section(d, "COMMITTEE"), "COMMITTEE_NAME", cname);
			free(cname);
		}
		r->ncommittees = 0;	/* no longer a contact */
		rc = request_part(r, "request-stop", d);
	} else
		tmpl_dict_free(&d);
	free(name);
	free(who);
	return rc < 0 ? -1 : 0;
}

/* from leaves the public bulletin (pending or active): fragment DONE. */
static int
request_unsubscribe_row(struct request *r)
{
	struct tmpl_dict *d;

	if (db_run(r->e->db, "UPDATE subscriber SET state = 'unsubscribed' WHERE email = ?", "s",
	    r->from) == -1)
		return -1;
	engine_logf(r->e, "from=%s status=unsubscribed", r->from);
	d = tmpl_dict_new();
	tmpl_set(d, "EMAIL", r->from);
	tmpl_show_section(d, "DONE");
	return request_part(r, "request-unsubscribed", d);
}

static int
request_is_subscriber(struct request *r)
{
	char *state = request_sub_state(r);
	int yes = strcmp(state, "active") == 0 || strcmp(state, "pending") == 0;

	free(state);
	return yes;
}

/* A change to from's state without proof: kept under a one-time token,
 * and the answer asks to confirm by replying (confirm+TOKEN@). */
static int
request_ask_confirm(struct request *r, const char *action)
{
	struct tmpl_dict *d;

	if (*r->confirm)	/* ARRET and DESABONNER in one mail: one question */
		return 0;
	if (answer_hold(r->e, r->from, action, "", r->confirm) == -1)
		return -1;
	free(r->reply_to);
	r->reply_to = engine_addr(r->e, r->e->cf->confirm_prefix, r->confirm);
	d = tmpl_dict_new();
	tmpl_set(d, "EMAIL", r->from);
	tmpl_set(d, "CONFIRM_ADDRESS", r->reply_to);
	tmpl_show_section(d, strcmp(action, "stop") == 0 ? "STOP" : "UNSUBSCRIBE");
	free(r->subject);	/* the answer is this question */
	r->subject = NULL;
	return request_part(r, "request-confirm", d);
}

/* ARRET / STOP: a contact is deactivated, a subscriber unsubscribed. */
static int
request_stop(struct request *r, const char *args)
{
	int sub = request_is_subscriber(r), contact = r->ncommittees > 0;
	struct tmpl_dict *d;

	if ((contact || sub) && !r->proven)
		return request_ask_confirm(r, "stop");
	if (contact && request_stop_contact(r) == -1)
		return -1;
	if (sub && request_unsubscribe_row(r) == -1)
		return -1;
	if (contact || sub)
		return 0;
	d = tmpl_dict_new();
	tmpl_set(d, "EMAIL", r->from);
	tmpl_show_section(d, "NOT_KNOWN");
	return request_part(r, "request-stop", d);
}

/* DESABONNER / UNSUBSCRIBE: the bulletin; from a contact who is not a
 * subscriber (a List-Unsubscribe click), the same as ARRET. */
static int
request_unsubscribe(struct request *r, const char *args)
{
	struct tmpl_dict *d;

	if ((request_is_subscriber(r) || r->ncommittees > 0) && !r->proven)
		return request_ask_confirm(r, "unsubscribe");
	if (request_is_subscriber(r))
		return request_unsubscribe_row(r);
	if (r->ncommittees > 0)
		return request_stop_contact(r);
	d = tmpl_dict_new();
	tmpl_set(d, "EMAIL", r->from);
	tmpl_show_section(d, "NOT_SUBSCRIBED");
	return request_part(r, "request-unsubscribed", d);
}

static int
request_subscribed_part(struct request *r, const char *section)
{
	struct tmpl_dict *d = tmpl_dict_new();

	tmpl_set(d, "EMAIL", r->from);
	tmpl_show_section(d, section);
	return request_part(r, "request-subscribed", d);
}

/* ABONNER / SUBSCRIBE: a pending row (its token kept if one waits) and the
 * confirmation fragment, whose subject carries the token. */
static int
request_subscribe(struct request *r, const char *args)
{
	char *state = request_sub_state(r), *token = NULL, fresh[33];
	struct tmpl_dict *d;
	int rc;

	if (strcmp(state, "active") == 0) {
		free(state);
		return request_subscribed_part(r, "ALREADY");
	}
	if (strcmp(state, "pending") == 0)
		token = db_str(r->e->db, "SELECT token FROM subscriber WHERE email = ?", "s", r->from);
	free(state);
	if (token == NULL) {
		engine_token(fresh, 16);
		token = xstrdup(fresh);
	}
	rc = db_run(r->e->db, "INSERT INTO subscriber (email, state, token, created) VALUES"
	    " (?, 'pending', ?, ?) ON CONFLICT (email) DO UPDATE SET state = 'pending',"
	    " token = excluded.token, created = excluded.created, confirmed = NULL", "ssi",
	    r->from, token, (int64_t)now());
	if (rc == 0) {
		engine_logf(r->e, "from=%s status=subscribe-pending", r->from);
		free(r->reply_to);
		r->reply_to = engine_addr(r->e, r->e->cf->request_address, token);
		d = tmpl_dict_new();
		tmpl_set(d, "EMAIL", r->from);
		tmpl_set(d, "TOKEN", token);
		tmpl_set(d, "CONFIRM_ADDRESS", r->reply_to);
		free(r->subject);	/* the answer's subject must carry the token */
		r->subject = NULL;
		rc = request_part(r, "request-subscribe-confirm", d);
	}
	free(token);
	return rc;
}

/* A confirmation: aide+TOKEN@ (ext) or a Subject holding the token of
 * from's pending row. 1 confirmed, 0 not one, -1 error. */
static int
request_confirm(struct request *r, const char *ext, const char *subject)
{
	char *token = db_str(r->e->db, "SELECT token FROM subscriber WHERE email = ? AND"
	    " state = 'pending'", "s", r->from);
	int match = token && *token && ((ext && strcmp(ext, token) == 0) ||
	    strstr(subject, token) != NULL);

	free(token);
	if (!match) {
		if (ext && *ext)
			engine_logf(r->e, "from=%s confirm=%s status=ignored reason=\"unknown token or not"
			    " the subscriber\"", r->from, ext);
		return 0;
	}
	if (db_run(r->e->db, "UPDATE subscriber SET state = 'active', confirmed = ? WHERE"
	    " email = ?", "is", (int64_t)now(), r->from) == -1)
		return -1;
	engine_logf(r->e, "from=%s status=subscribed", r->from);
	return request_subscribed_part(r, "DONE") == -1 ? -1 : 1;
}

/* CHERCHER / SEARCH words: the best results of the archive. */
static int
request_search(struct request *r, const char *words)
{
	struct tmpl_dict *d = tmpl_dict_new();
	char *out = NULL;
	size_t outlen = 0;
	FILE *f;
	int n = -1;

	tmpl_set(d, "WORDS", words);
	if (*words == '\0') {
		tmpl_show_section(d, "NO_WORDS");
		return request_part(r, "request-search", d);
	}
	if ((f = open_memstream(&out, &outlen)) != NULL) {
		n = search_query(r->e->db, words, REQUEST_SEARCH_MAX, f);
		fclose(f);
	}
	if (n < 0) {
		log_warnx("from=%s search=\"%s\" status=error", r->from, words);
		tmpl_show_section(d, "FAILED");
	} else if (n == 0)
		tmpl_show_section(d, "NONE");
	else {
		str_trim(out);
		tmpl_set(d, "RESULTS", out);
		tmpl_set_int(d, "COUNT", n);
		tmpl_show_section(d, "FOUND");
	}
	free(out);
	return request_part(r, "request-search", d);
}

/* ---- parsing ---- */

static const struct request_cmd request_cmds[] = {
	{ "aide", request_help, 0 },		{ "help", request_help, 0 },
	{ "contacts", request_contacts, 0 },	{ "contact", request_contacts, 0 },
	{ "statut", request_status, 1 },	{ "status", request_status, 1 },
	{ "etat", request_status, 1 },
	{ "arret", request_stop, 0 },		{ "arreter", request_stop, 0 },
	{ "stop", request_stop, 0 },
	{ "abonner", request_subscribe, 0 },	{ "abonnement", request_subscribe, 0 },
	{ "subscribe", request_subscribe, 0 },
	{ "desabonner", request_unsubscribe, 0 }, { "desabonnement", request_unsubscribe, 0 },
	{ "unsubscribe", request_unsubscribe, 0 },
	{ "chercher", request_search, 1 },	{ "rechercher", request_search, 1 },
	{ "recherche", request_search, 1 },	{ "search", request_search, 1 },
};

#define REQUEST_PUNCT	" \t\r.!?:;,"

/* The folded keyword at the start of w: without "s'"/"m'" (s'abonner) and
 * trailing punctuation. */
static char *
request_keyword(const char *w, size_t len)
{
	char *word = xstrndup(w, len), *f = str_fold(word), *p = f;
	size_t n;

	free(word);
	if ((p[0] == 's' || p[0] == 'm') && p[1] == '\'')
		p += 2;
	else if ((p[0] == 's' || p[0] == 'm') && strncmp(p + 1, "\xe2\x80\x99", 3) == 0)
		p += 4;
	n = strlen(p);
	while (n > 0 && strchr(REQUEST_PUNCT, p[n - 1]))
		n--;
	word = xstrndup(p, n);
	free(f);
	return word;
}

/* Is line one command? Fills *c (args: a new string). */
static int
request_parse_line(const char *line, struct request_line *c)
{
	const char *w = line + strspn(line, " \t"), *rest;
	size_t len = strcspn(w, " \t");
	char *word = request_keyword(w, len);
	const struct request_cmd *cmd = NULL;

	for (size_t i = 0; i < nitems(request_cmds) && cmd == NULL; i++)
		if (strcmp(word, request_cmds[i].word) == 0)
			cmd = &request_cmds[i];
	free(word);
	rest = w + len;
	if (cmd == NULL || (!cmd->args && rest[strspn(rest, REQUEST_PUNCT)] != '\0'))
		return 0;
	c->cmd = cmd;
	c->args = str_trim(xstrdup(rest));
	return 1;
}

/* Add a command unless the same is already there; 0 when full. */
static int
request_add_line(struct request_line *cmds, size_t *n, const char *line)
{
	struct request_line c;

	if (!request_parse_line(line, &c))
		return -1;
	for (size_t i = 0; i < *n; i++)
		if (cmds[i].cmd->run == c.cmd->run && strcmp(cmds[i].args, c.args) == 0) {
			free(c.args);
			return 1;
		}
	if (*n == REQUEST_MAX_CMDS) {
		free(c.args);
		return 0;
	}
	cmds[(*n)++] = c;
	return 1;
}

/* The commands of the Subject and the first lines of text. *other_r gets
 * the first text that is not a command (new string, NULL if none). */
static size_t
request_parse(const char *subject, const char *text, struct request_line *cmds,
    char **other_r)
{
	char *s = trim_subject(subject), *copy = xstrdup(text), *line, *save = NULL;
	size_t n = 0;

	*other_r = NULL;
	if (*str_trim(s) && request_add_line(cmds, &n, s) == -1)
		*other_r = xstrdup(s);
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int rc;

		if (str_is_empty(str_trim(line)))
			continue;
		if ((rc = request_add_line(cmds, &n, line)) == -1 && *other_r == NULL)
			*other_r = xstrdup(line);
		if (rc != 1)
			break;
	}
	free(copy);
	free(s);
	return n;
}


/* ---- the mail ---- */

/* A reason never to answer, or NULL. */
static const char *
request_drop_reason(struct engine *e, const struct mime_msg *m, const char *sender)
{
	const char *why = NULL;

	if (sender == NULL || *sender == '\0' || strcmp(sender, "<>") == 0)
		why = "null envelope sender";
	else if ((why = engine_loop_reason(e, m)) != NULL)
		;
	else if (mime_header_contains(m, "Precedence", "list") ||
	    mime_header_contains(m, "Precedence", "bulk") ||
	    mime_header_contains(m, "Precedence", "junk"))
		why = "Precedence list/bulk/junk";
	else if (autoreply_classify(m, sender, &why) == AUTO_NONE)
		why = NULL;
	return why;
}

static int
request_record(struct engine *e, const struct inmsg *in, const struct mime_msg *m,
    const char *from, const char *reason, char token[33])
{
	char *subject = mime_subject(m), *mid = mime_message_id(m);
	int rc;

	engine_token(token, 16);
	rc = db_run(e->db, "INSERT INTO message (token, spool_id, rcpt, kind, state, sender, author,"
	    " subject, message_id, reason, received) VALUES (?, ?, ?, 'request', ?, ?, ?, ?, ?, ?, ?)",
	    "sssssssssi", token, in->spool_id, in->rcpt, reason ? "dropped" : "done", in->sender ?
	    in->sender : "", from ? from : "", subject, mid ? mid : "", reason ? reason : "",
	    (int64_t)now());
	free(subject);
	free(mid);
	return rc;
}

/* Send the one answer; the rate limit may suppress it. -1 when it cannot
 * be queued (the request is then retried, engine.h). */
static int
request_answer(struct request *r, const struct mime_msg *m, const char *token)
{
	char *mid = mime_message_id(m), *irt = mid ? xasprintf("<%s>", mid) : NULL;
	struct notice_opts o = { .reply_to = r->reply_to, .in_reply_to = irt };
	int rc = answer_notice(r->e, r->sender, m, r->from, "request-answer", (const char *[]){
	    "SUBJECT", r->subject ? r->subject : "", "BODY", buf_cstr(&r->body), NULL }, &o);

	if (rc == 0)
		engine_logf(r->e, "msgid=%s from=%s status=unanswered", token, r->from);
	else if (rc == 1)
		engine_logf(r->e, "msgid=%s from=%s status=answered parts=%d", token, r->from, r->nparts);
	free(irt);
	free(mid);
	return rc == -1 ? -1 : 0;
}

/* Read the commands and run them; the answer gathers every result. */
static int
request_run(struct request *r, const struct inmsg *in, const struct mime_msg *m,
    const char *token)
{
	struct request_line cmds[REQUEST_MAX_CMDS];
	char *subject = mime_subject(m), *text = engine_new_text(m), *other = NULL;
	size_t n = 0;
	int rc = request_load_committees(r);

	if (rc == 0)
		rc = request_confirm(r, in->ext, subject) == -1 ? -1 : 0;
	if (rc == 0)
		n = request_parse(subject, text, cmds, &other);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0)
			rc = cmds[i].cmd->run(r, cmds[i].args);
		free(cmds[i].args);
	}
	if (rc == 0 && r->nparts == 0 && !r->withheld) {
		if (other) {
			struct tmpl_dict *d = tmpl_dict_new();

			tmpl_set(tmpl_add_section(d, "LINE"), "LINE", other);
			request_part(r, "request-unknown", d);
		}
		request_help(r, "");
	}
	if (rc == 0 && r->nparts > 0 && !r->withheld)
		rc = request_answer(r, m, token);
	free(other);
	free(text);
	free(subject);
	return rc;
}

static int
request_handle(struct engine *e, const struct inmsg *in, struct mime_msg *m)
{
	struct request r = { .e = e, .sender = in->sender, .m = m };
	const char *why = request_drop_reason(e, m, in->sender);
	char token[33];
	int rc;

	buf_init(&r.body);
	r.from = mime_from_address(m);
	r.proven = answer_trust(e, in->sender, m, r.from, NULL) == ANSWER_PROVEN;
	if (why == NULL && (r.from == NULL || *r.from == '\0'))
		why = "no From address";
	rc = request_record(e, in, m, r.from, why, token);
	if (rc == 0 && why)
		engine_logf(e, "msgid=%s from=%s status=dropped reason=\"%s\"", token, r.from ? r.from : "",
		    why);
	else if (rc == 0)
		rc = request_run(&r, in, m, token);
	buf_free(&r.body);
	free(r.committees);
	free(r.reply_to);
	free(r.subject);
	free(r.from);
	return rc;
}

/* engine_handler_fn: every failure left is the database's or a notice's. */
static enum engine_result
request_txn(struct engine *e, const struct inmsg *in, struct mime_msg *m, const char **error_r)
{
	return request_handle(e, in, m) == 0 ? ENGINE_DONE : engine_dberr(e, error_r);
}

enum engine_result
request_accept(struct engine *e, const struct inmsg *in, const char **error_r)
{
	return engine_run_parsed(e, in, request_txn, error_r);
}

/* ---- confirmations (confirm+TOKEN@ of answer_hold) ---- */

/* The confirmed action of r->from, then the one answer. 0 or -1. */
static int
request_run_confirmed(struct request *r, const char *action)
{
	int rc = request_load_committees(r);

	if (rc == 0 && strcmp(action, "stop") == 0)
		rc = request_stop(r, "");
	else if (rc == 0 && strcmp(action, "unsubscribe") == 0)
		rc = request_unsubscribe(r, "");
	if (rc == 0 && r->nparts > 0)
		rc = request_answer(r, r->m, "-");
	return rc;
}

/* engine_handler_fn for a reply to confirm+TOKEN@. */
static enum engine_result
request_confirmed(struct engine *e, const struct inmsg *in, struct mime_msg *m,
    const char **error_r)
{
	struct request r = { .e = e, .sender = in->sender, .m = m, .proven = 1 };
	char *action = NULL, *text = NULL;
	enum engine_result res = ENGINE_DONE;
	int rc = 0;

	buf_init(&r.body);
	r.from = mime_from_address(m);
	if (r.from)
		str_lower(r.from);
	if (autoreply_classify(m, in->sender, NULL) != AUTO_NONE)
		engine_logf(e, "confirm=%s from=%s status=ignored reason=\"automatic mail\"", in->ext,
		    r.from ? r.from : "");
	else
		rc = answer_take(e, in->ext, r.from, &action, &text);
	if (rc == 1) {
		engine_logf(e, "confirm=%s from=%s action=%s status=confirmed", in->ext, r.from, action);
		if (strncmp(action, "editor", 6) == 0)
			res = editor_commands_confirmed(e, in, m, r.from, action, text, error_r);
		else if (request_run_confirmed(&r, action) == -1)
			res = engine_dberr(e, error_r);
	} else if (rc == -1)
		res = engine_dberr(e, error_r);
	buf_free(&r.body);
	free(r.committees);
	free(r.reply_to);
	free(r.subject);
	free(r.from);
	free(action);
	free(text);
	return res;
}

enum engine_result
request_confirm_accept(struct engine *e, const struct inmsg *in, const char **error_r)
{
	return engine_run_parsed(e, in, request_confirmed, error_r);
}
