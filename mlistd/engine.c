/* engine.c — see engine.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "engine.h"
#include "html2text.h"
#include "log.h"
#include "mime.h"
#include "spool.h"
#include "trim.h"
#include "util.h"

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

int
engine_run_parsed(struct engine *e, const struct inmsg *in, engine_handler_fn *fn)
{
	struct mime_msg *m;
	const char *err;
	int rc;

	if (mime_parse(in->data, in->len, &m, &err) == -1) {
		log_warnx("spoolid=%s rcpt=%s status=corrupt reason=\"%s\"", in->spool_id,
		    in->rcpt, err);
		return -2;
	}
	if (db_begin(e->db) == -1) {
		mime_free(&m);
		return -1;
	}
	rc = fn(e, in, m);
	mime_free(&m);
	if (rc == 0 && db_commit(e->db) == 0)
		return 0;
	if (rc != -2)
		log_warnx("spoolid=%s rcpt=%s status=tempfail reason=\"%s\"", in->spool_id,
		    in->rcpt, db_errmsg(e->db));
	db_rollback(e->db);
	return rc == -2 ? -2 : -1;
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
