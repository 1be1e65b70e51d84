/* router.c — dispatch of spooled messages (see router.h). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "bounce.h"
#include "broadcast.h"
#include "config.h"
#include "db.h"
#include "engine.h"
#include "log.h"
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

static int
router_one_rcpt(struct engine *e, struct inmsg *in)
{
	char *local = NULL, *ext = NULL;
	int rc;

	addr_split_ours(in->rcpt, e->cf->domain, &local, &ext);
	in->ext = ext ? ext : "";
	switch (router_role(e->cf, in->rcpt)) {
	case ROLE_NATIONAL: rc = broadcast_accept(e, in); break;
	case ROLE_CONFIRM: rc = broadcast_confirm(e, in); break;
	case ROLE_BULLETIN:
		rc = report_accept(e, in);	/* or an editor's commands */
		break;
	case ROLE_REQUEST: rc = request_accept(e, in); break;
	case ROLE_REPLY: rc = reply_accept(e, in); break;
	case ROLE_BOUNCE: rc = bounce_accept(e, in); break;
	default:
		log_info("spoolid=%s rcpt=%s status=dropped reason=\"not our address\"",
		    in->spool_id, in->rcpt);
		rc = 0;
	}
	free(local);
	free(ext);
	return rc;
}

/* 0 done (file can go), -1 temporary, -2 corrupt. */
static int
router_message(struct engine *e, const struct spool_msg *sm)
{
	int rc = 0;

	for (size_t i = 0; i < sm->nrcpt && rc == 0; i++) {
		struct inmsg in = { sm->id, sm->sender, sm->rcpts[i], "", sm->data, sm->len };
		int64_t done;

		if (db_int(e->db, &done, "SELECT count(*) FROM message WHERE spool_id = ? AND"
		    " rcpt = ?", "ss", sm->id, sm->rcpts[i]) == -1)
			return -1;
		if (done > 0)
			continue;	/* recorded before a crash */
		rc = router_one_rcpt(e, &in);	/* a confirmation is idempotent */
	}
	return rc;
}

int
router_run(struct engine *e)
{
	char **ids;
	size_t n;
	int handled = 0;

	if (spool_list(e->sp, SPOOL_INCOMING, &ids, &n) == -1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct spool_msg *sm;
		const char *err;
		int rc;

		if (spool_move(e->sp, ids[i], SPOOL_INCOMING, SPOOL_ACTIVE) == -1)
			continue;
		if (spool_read(e->sp, SPOOL_ACTIVE, ids[i], &sm, &err) == -1) {
			log_warnx("spoolid=%s status=corrupt reason=\"%s\"", ids[i], err);
			spool_move(e->sp, ids[i], SPOOL_ACTIVE, SPOOL_CORRUPT);
			continue;
		}
		rc = router_message(e, sm);
		spool_msg_free(&sm);
		if (rc == 0) {
			char *path = spool_path(e->sp, SPOOL_ACTIVE, ids[i]);

			unlink(path);
			free(path);
			handled++;
		} else if (rc == -2)
			spool_move(e->sp, ids[i], SPOOL_ACTIVE, SPOOL_CORRUPT);
		else {
			log_warnx("spoolid=%s status=tempfail reason=\"%s\"", ids[i], db_errmsg(e->db));
			spool_move(e->sp, ids[i], SPOOL_ACTIVE, SPOOL_INCOMING);
			break;	/* database trouble: try again at the next pass */
		}
	}
	spool_list_free(ids, n);
	return handled;
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
}
