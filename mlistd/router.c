/* router.c — dispatch of spooled messages (see router.h). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "answer.h"
#include "bounce.h"
#include "broadcast.h"
#include "config.h"
#include "db.h"
#include "engine.h"
#include "log.h"
#include "mime.h"
#include "notice.h"
#include "reply.h"
#include "report.h"
#include "request.h"
#include "router.h"
#include "spool.h"
#include "util.h"

enum router_role
router_role(const struct config *cf, const char *rcpt)
{
	char *local, *ext;
	enum router_role r = ROLE_NONE;

	if (!addr_split_ours(rcpt, cf->domain, &local, &ext))
		return ROLE_NONE;
	if (strcmp(local, cf->national_address) == 0)
		r = ROLE_NATIONAL;
	else if (strcmp(local, cf->confirm_prefix) == 0 && *ext)
		r = ROLE_CONFIRM;
	else if (strcmp(local, cf->bulletin_address) == 0)
		r = ROLE_BULLETIN;
	else if (strcmp(local, cf->request_address) == 0)
		r = ROLE_REQUEST;
	else if (strcmp(local, cf->reply_prefix) == 0 && *ext)
		r = ROLE_REPLY;
	else if (strcmp(local, cf->bounce_prefix) == 0 && *ext)
		r = ROLE_BOUNCE;
	free(local);
	free(ext);
	return r;
}

int
router_rcpt_check(void *cf, const char *rcpt)
{
	return router_role(cf, rcpt) == ROLE_NONE ? 1 : 0;
}

/* A mail to national@ or bulletin@ that answers our bulletin, its proof or
 * its call (Reply-All, or a client ignoring Reply-To): handled as a reply
 * to that mail, with its token, never as a broadcast or a report. */
static int
router_bulletin_reply(struct engine *e, struct inmsg *in, int publication_only)
{
	static __thread char token[33];

	if (!reply_names_bulletin(e, in->data, in->len, publication_only, token))
		return 0;
	in->ext = token;
	return 1;
}

static enum engine_result
router_one_rcpt(struct engine *e, struct inmsg *in, const char **error_r)
{
	char *local = NULL, *ext = NULL;
	enum engine_result r;

	addr_split_ours(in->rcpt, e->cf->domain, &local, &ext);
	in->ext = ext ? ext : "";
	switch (router_role(e->cf, in->rcpt)) {
	case ROLE_NATIONAL:
		r = router_bulletin_reply(e, in, 0) ? reply_accept(e, in, error_r) :
		    broadcast_accept(e, in, error_r);
		break;
	case ROLE_CONFIRM:	/* an action held by answer_hold(), or a broadcast */
		r = answer_is_token(e, in->ext) ? request_confirm_accept(e, in, error_r) :
		    broadcast_confirm(e, in, error_r);
		break;
	case ROLE_BULLETIN:	/* a report, an editor's commands, or a reply to our bulletin */
		r = router_bulletin_reply(e, in, 1) ? reply_accept(e, in, error_r) :
		    report_accept(e, in, error_r);
		break;
	case ROLE_REQUEST: r = request_accept(e, in, error_r); break;
	case ROLE_REPLY: r = reply_accept(e, in, error_r); break;
	case ROLE_BOUNCE: r = bounce_accept(e, in, error_r); break;
	default:
		log_info("spoolid=%s rcpt=%s status=dropped reason=\"not our address\"",
		    in->spool_id, in->rcpt);
		r = ENGINE_DONE;
	}
	free(local);
	free(ext);
	return r;
}

/* Every recipient not handled yet; the worst result (CORRUPT > REFUSED >
 * TEMPFAIL > DONE) and its reason. A recipient handled is recorded, so a
 * retry handles only the others. */
static enum engine_result
router_message(struct engine *e, const struct spool_msg *sm, const char **error_r)
{
	enum engine_result worst = ENGINE_DONE;

	for (size_t i = 0; i < sm->nrcpt; i++) {
		struct inmsg in = { sm->id, sm->sender, sm->rcpts[i], "", sm->data, sm->len };
		const char *err = NULL;
		enum engine_result r;
		int seen = engine_handled(e, sm->id, sm->rcpts[i]);

		if (seen == 1)
			continue;	/* handled before a crash: the handler need not even parse */
		r = seen == -1 ? engine_dberr(e, &err) : router_one_rcpt(e, &in, &err);
		if (r > worst) {
			worst = r;
			if (err != e->error)	/* else engine_run() already kept it there */
				snprintf(e->error, sizeof e->error, "%s", err ? err : "no reason given");
			*error_r = e->error;
		}
	}
	return worst;
}

/* Tell the postmaster (postmaster setting, else postmaster@domain) that
 * a spool file is in hold/. A failure is logged: the file stays held. */
static void
router_tell_postmaster(struct engine *e, const struct spool_msg *sm, const char *id,
    const struct spool_note *n)
{
	char *to = *e->cf->postmaster ? xstrdup(e->cf->postmaster) :
	    config_address(e->cf, "postmaster");
	char *subject = NULL, attempts[16], date[SPOOL_DATE_SIZE];
	struct mime_msg *m;
	const char *err;
	struct buf rcpts;

	buf_init(&rcpts);
	for (size_t i = 0; sm && i < sm->nrcpt; i++)
		buf_printf(&rcpts, "%s%s", i ? ", " : "", sm->rcpts[i]);
	if (sm && mime_parse(sm->data, sm->len, &m, &err) == 0) {
		subject = mime_subject(m);
		mime_free(&m);
	}
	snprintf(attempts, sizeof attempts, "%d", n->attempts);
	spool_id_date(id, date);
	if (notice_send(e, "spool-held", to, (const char *[]){ "ID", id, "DATE", date,
	    "SENDER", sm && *sm->sender ? sm->sender : "<>", "RCPTS", buf_cstr(&rcpts),
	    "SUBJECT", subject && *subject ? subject : "-", "ATTEMPTS", attempts,
	    "REASON", n->reason, NULL }, &err) == -1)
		log_warnx("spoolid=%s postmaster=%s status=untold reason=\"%s\"", id, to, err);
	buf_free(&rcpts);
	free(subject);
	free(to);
}

/* The next try after n failed attempts: handler_retry_min, doubled after
 * each failure, at most an hour (or handler_retry_min if longer). */
static time_t
router_backoff(const struct config *cf, int attempts)
{
	long d = cf->handler_retry_min, cap = d > 3600 ? d : 3600;

	for (int i = 1; i < attempts && d < cap; i++)
		d *= 2;
	return d < cap ? d : cap;
}

/* What becomes of one spool file in active/, by the worst result of its
 * recipients; sm is NULL when the file could not be read. 1 when it is
 * done or held (mail may have been queued), else 0. */
static int
router_outcome(struct engine *e, const char *id, const struct spool_msg *sm,
    enum engine_result r, const char *err)
{
	struct spool_note n;

	if (r == ENGINE_DONE) {
		spool_remove(e->sp, SPOOL_ACTIVE, id);	/* handled rows go at the next start */
		return 1;
	}
	spool_note_read(e->sp, id, &n);
	n.attempts++;
	if (n.first_failure == 0)
		n.first_failure = now();
	snprintf(n.reason, sizeof n.reason, "%s", err ? err : "no reason given");
	n.next_try = 0;
	if (r == ENGINE_TEMPFAIL && n.attempts < e->cf->handler_max_attempts)
		n.next_try = now() + router_backoff(e->cf, n.attempts);
	spool_note_write(e->sp, id, &n);
	if (r == ENGINE_CORRUPT) {
		log_warnx("spoolid=%s status=corrupt reason=\"%s\"", id, n.reason);
		spool_move(e->sp, id, SPOOL_ACTIVE, SPOOL_CORRUPT);
		return 0;
	}
	if (n.next_try) {
		log_warnx("spoolid=%s status=deferred attempts=%d retry_in=%llds reason=\"%s\"", id,
		    n.attempts, (long long)(n.next_try - now()), n.reason);
		spool_move(e->sp, id, SPOOL_ACTIVE, SPOOL_DEFERRED);
		return 0;
	}
	log_warnx("spoolid=%s status=held attempts=%d reason=\"%s\" (mlistctl spool list)", id,
	    n.attempts, n.reason);
	spool_move(e->sp, id, SPOOL_ACTIVE, SPOOL_HOLD);
	router_tell_postmaster(e, sm, id, &n);
	return 1;
}

/* Handle one spool file of queue q: 1 done or held (mail may have been
 * queued), 0 not (deferred, corrupt, gone). */
static int
router_file(struct engine *e, const char *id, enum spool_queue q)
{
	struct spool_msg *sm = NULL;
	const char *err = NULL;
	enum engine_result r;
	int finished;

	if (spool_move(e->sp, id, q, SPOOL_ACTIVE) == -1)
		return 0;
	if (spool_read(e->sp, SPOOL_ACTIVE, id, &sm, &err) == -1)
		r = ENGINE_CORRUPT;
	else
		r = router_message(e, sm, &err);
	finished = router_outcome(e, id, sm, r, err);	/* one message's failure stops nothing */
	spool_msg_free(&sm);
	return finished;
}

/* Is the deferred file id due? (No note: yes.) */
static int
router_due(struct engine *e, const char *id)
{
	struct spool_note n;

	return spool_note_read(e->sp, id, &n) != 1 || n.next_try <= now();
}

int
router_run(struct engine *e)
{
	char **ids;
	size_t n;
	int handled = 0;

	if (spool_list(e->sp, SPOOL_INCOMING, &ids, &n) == -1)
		return -1;
	/* a damaged database fails every message alike: the daemon stops (daemon.c) */
	for (size_t i = 0; i < n && !db_corrupt(e->db); i++)
		handled += router_file(e, ids[i], SPOOL_INCOMING);
	spool_list_free(ids, n);
	if (spool_list(e->sp, SPOOL_DEFERRED, &ids, &n) == -1)
		return handled;
	for (size_t i = 0; i < n && !db_corrupt(e->db); i++)
		if (router_due(e, ids[i]))
			handled += router_file(e, ids[i], SPOOL_DEFERRED);
	spool_list_free(ids, n);
	return handled;
}

/* The handled rows of spool files that are gone (no longer needed). */
static void
router_prune(struct engine *e)
{
	struct db_stmt *st = db_query(e->db, "SELECT DISTINCT spool_id FROM handled", "");
	char **gone = NULL;
	size_t n = 0;
	enum spool_queue q;

	while (st && db_step(st) == 1) {
		if (spool_find(e->sp, db_col_text(st, 0), &q) != 0)
			continue;	/* still there, or not an id we can look for */
		gone = xrealloc(gone, (n + 1) * sizeof *gone);
		gone[n++] = xstrdup(db_col_text(st, 0));
	}
	db_finalize(&st);
	for (size_t i = 0; i < n; i++) {
		engine_forget(e, gone[i]);
		free(gone[i]);
	}
	free(gone);
}

void
router_recover(struct engine *e)
{
	char **ids;
	size_t n;
	int removed = spool_clean_tmp(e->sp, now() - 3600);	/* not a running inject's */

	if (spool_list(e->sp, SPOOL_ACTIVE, &ids, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			spool_move(e->sp, ids[i], SPOOL_ACTIVE, SPOOL_INCOMING);
		if (n || removed > 0)
			log_info("recovered active=%zu tmp_removed=%d", n, removed > 0 ? removed : 0);
		spool_list_free(ids, n);
	}
	router_prune(e);
}
