/* engine.c — see engine.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "engine.h"
#include "html2text.h"
#include "i18n.h"
#include "log.h"
#include "mime.h"
#include "spool.h"
#include "trim.h"
#include "util.h"

/* The damaged-database line, in English for the log or through tr() for
 * the person at the terminal. */
static const char *
engine_damaged_text(const struct config *cf, const char *diagnosis, int people)
{
	static _Thread_local char why[1024];

	snprintf(why, sizeof why, people ? tr("la base %s/mlistd.db est abîmée (%s)\xc2\xa0: arrêtez"
	    " mlistd, gardez une copie des fichiers, puis restaurez la dernière sauvegarde ou"
	    " récupérez-la avec sqlite3 (INSTALL, section 4.1)", "database %s/mlistd.db is damaged"
	    " (%s): stop mlistd, keep a copy of the files, then restore the last backup or recover"
	    " it with sqlite3 (INSTALL, section 4.1)") : "database %s/mlistd.db is damaged (%s):"
	    " stop mlistd, keep a copy of the files, then restore the last backup or recover it"
	    " with sqlite3 (INSTALL, section 4.1)", cf->data_dir, diagnosis);
	return why;
}

const char *
engine_db_damaged(const struct config *cf, const char *diagnosis)
{
	return engine_damaged_text(cf, diagnosis, 0);
}

static int
engine_check_text(const struct config *cf, enum engine_check_level level, int people,
    const char **why_r)
{
	static _Thread_local char why[1024];
	char *db = xasprintf("%s/mlistd.db", cf->data_dir);
	char *sp = xasprintf("%s/spool/incoming", cf->data_dir);
	const char *err = NULL;
	int rc = EX_OK, state;

	if (level == ENGINE_CHECK_EXISTS)
		state = access(db, F_OK) == 0 || errno != ENOENT;
	else
		state = db_check(db, level == ENGINE_CHECK_PAGES, &err);
	if (state == 0 || (access(sp, F_OK) == -1 && errno == ENOENT)) {
		snprintf(why, sizeof why, people ? tr("le répertoire de données %s n'est pas"
		    " initialisé (pas de %s)\xc2\xa0: lancez «\xc2\xa0mlistctl init\xc2\xa0» sous"
		    " l'utilisateur mlistd", "data directory %s is not initialised (no %s): run"
		    " \"mlistctl init\" as the mlistd user") : "data directory %s is not initialised"
		    " (no %s): run 'mlistctl init' as the mlistd user", cf->data_dir,
		    state == 0 ? "mlistd.db" : "spool");
		rc = EX_CONFIG;
	} else if (state == -1) {
		snprintf(why, sizeof why, "%s", engine_damaged_text(cf, err, people));
		rc = EX_DATAERR;
	}
	*why_r = rc == EX_OK ? NULL : why;
	free(db);
	free(sp);
	return rc;
}

int
engine_check(const struct config *cf, enum engine_check_level level, const char **why_r)
{
	return engine_check_text(cf, level, 0, why_r);
}

int
engine_check_tr(const struct config *cf, enum engine_check_level level, const char **why_r)
{
	return engine_check_text(cf, level, 1, why_r);
}

int
engine_open(struct engine *e, const struct config *cf, const char **error_r)
{
	char *path;

	memset(e, 0, sizeof *e);
	e->cf = cf;
	path = xasprintf("%s/mlistd.db", cf->data_dir);
	if (db_open(path, &e->db, error_r) == -1) {
		free(path);
		return -1;
	}
	free(path);
	path = xasprintf("%s/spool", cf->data_dir);
	if (spool_open(path, &e->sp, error_r) == -1) {
		free(path);
		return -1;
	}
	free(path);
	e->list_addr = config_address(cf, cf->national_address);
	e->request_addr = config_address(cf, cf->request_address);
	e->list_id = xasprintf("<%s.%s>", cf->national_address, cf->domain);
	return 0;
}

void
engine_close(struct engine *e)
{
	buf_free(&e->later);
	db_close(&e->db);
	spool_close(&e->sp);
	free(e->list_addr);
	free(e->request_addr);
	free(e->list_id);
	memset(e, 0, sizeof *e);
}

void
engine_token(char *out, size_t nbytes)
{
	if (random_hex(out, nbytes) == -1)
		abort();	/* getrandom cannot fail for small sizes */
}

char *
engine_addr(const struct engine *e, const char *local, const char *ext)
{
	if (ext && *ext)
		return xasprintf("%s+%s@%s", local, ext, e->cf->domain);
	return xasprintf("%s@%s", local, e->cf->domain);
}

const char *
engine_result_name(enum engine_result r)
{
	static const char *const names[] = { "done", "tempfail", "refused", "corrupt" };

	return (unsigned)r < nitems(names) ? names[r] : "unknown";
}

enum engine_result
engine_dberr(struct engine *e, const char **error_r)
{
	*error_r = *e->error ? e->error : db_errmsg(e->db);
	return ENGINE_TEMPFAIL;
}

int
engine_failf(struct engine *e, const char *fmt, ...)
{
	va_list ap;

	if (*e->error == '\0') {
		va_start(ap, fmt);
		vsnprintf(e->error, sizeof e->error, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int
engine_handled(struct engine *e, const char *spool_id, const char *rcpt)
{
	int64_t n;

	if (db_int(e->db, &n, "SELECT count(*) FROM handled WHERE spool_id = ? AND rcpt = ?", "ss",
	    spool_id, rcpt) == -1)
		return -1;
	return n > 0;
}

int
engine_forget(struct engine *e, const char *spool_id)
{
	return db_run(e->db, "DELETE FROM handled WHERE spool_id = ?", "s", spool_id);
}

/* Each line of e->later is its level ('I' or 'W'), the text, a NUL. */
static void
engine_vlog(struct engine *e, char level, const char *fmt, va_list ap)
{
	char *line;

	if (vasprintf(&line, fmt, ap) < 0)
		return;
	if (!e->running && level == 'W')
		log_warnx("%s", line);
	else if (!e->running)
		log_info("%s", line);
	else {
		buf_addc(&e->later, level);
		buf_add(&e->later, line, strlen(line) + 1);
	}
	free(line);
}

void
engine_logf(struct engine *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	engine_vlog(e, 'I', fmt, ap);
	va_end(ap);
}

void
engine_warnf(struct engine *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	engine_vlog(e, 'W', fmt, ap);
	va_end(ap);
}

/* engine_run() is over: its lines to the log when committed, else dropped. */
static void
engine_log_end(struct engine *e, int committed)
{
	for (size_t i = 0; committed && i < e->later.len; i += strlen(e->later.data + i) + 1) {
		if (e->later.data[i++] == 'W')
			log_warnx("%s", e->later.data + i);
		else
			log_info("%s", e->later.data + i);
	}
	buf_reset(&e->later);
	e->running = 0;
}

/* Inside the transaction: fn unless already handled, then the handled row. */
static enum engine_result
engine_txn(struct engine *e, const struct inmsg *in, engine_txn_fn *fn, void *arg,
    const char **error_r)
{
	enum engine_result r;
	int seen = in->spool_id ? engine_handled(e, in->spool_id, in->rcpt) : 0;

	if (seen == -1)
		return engine_dberr(e, error_r);
	if (seen == 1) {
		log_info("spoolid=%s rcpt=%s status=duplicate reason=\"handled before a crash\"",
		    in->spool_id, in->rcpt);
		return ENGINE_DONE;
	}
	if ((r = fn(e, in, arg, error_r)) != ENGINE_DONE)
		return r;
	if (in->spool_id && db_run(e->db, "INSERT INTO handled (spool_id, rcpt, at) VALUES"
	    " (?, ?, ?)", "ssi", in->spool_id, in->rcpt, (int64_t)now()) == -1)
		return engine_dberr(e, error_r);
	return ENGINE_DONE;
}

enum engine_result
engine_run(struct engine *e, const struct inmsg *in, engine_txn_fn *fn, void *arg,
    const char **error_r)
{
	const char *err = NULL;
	enum engine_result r;

	*e->error = '\0';	/* for engine_failf() */
	e->running = 1;
	if (db_begin(e->db) == -1)
		r = engine_dberr(e, &err);
	else if ((r = engine_txn(e, in, fn, arg, &err)) == ENGINE_DONE &&
	    db_commit(e->db) == -1)
		r = engine_dberr(e, &err);
	engine_log_end(e, r == ENGINE_DONE);
	if (r == ENGINE_DONE)
		return r;
	/* copied before the rollback: err may be the database's message */
	if (err != e->error)
		snprintf(e->error, sizeof e->error, "%s", err ? err : "no reason given");
	db_rollback(e->db);
	*error_r = e->error;
	return r;
}

struct engine_parsed {
	engine_handler_fn	*fn;
	struct mime_msg		*m;
};

static enum engine_result
engine_parsed_txn(struct engine *e, const struct inmsg *in, void *arg, const char **error_r)
{
	struct engine_parsed *p = arg;

	return p->fn(e, in, p->m, error_r);
}

enum engine_result
engine_run_parsed(struct engine *e, const struct inmsg *in, engine_handler_fn *fn,
    const char **error_r)
{
	struct engine_parsed p = { fn, NULL };
	enum engine_result r;

	if (mime_parse(in->data, in->len, &p.m, error_r) == -1)
		return ENGINE_CORRUPT;
	r = engine_run(e, in, engine_parsed_txn, &p, error_r);
	mime_free(&p.m);
	return r;
}

const char *
engine_loop_reason(const struct engine *e, const struct mime_msg *m)
{
	if (mime_header_contains(m, "X-Loop", e->list_addr) ||
	    mime_header_contains(m, "X-Loop", e->request_addr))
		return "loop: our X-Loop";
	if (mime_header_contains(m, "List-Id", e->list_id))
		return "loop: our List-Id";
	return NULL;
}

char *
engine_new_text(const struct mime_msg *m)
{
	int is_html = 0;
	char *text = mime_text_plain(m, &is_html), *t;

	if (text && is_html) {
		t = html_to_text(text);
		free(text);
		text = t;
	}
	t = trim_reply(text ? text : "");
	free(text);
	return t;
}
