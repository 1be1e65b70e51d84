/*
 * mlistctl_spool.c — the admin's hand on the spool files the daemon could
 * not handle (router.h): list those waiting in deferred/, hold/ and
 * corrupt/ with what went wrong, put one back in incoming/ (the daemon
 * handles it at its next pass, within a second), or delete one for good.
 * Only renames and unlinks through spool.h: safe while the daemon runs
 * (it never touches hold/ or corrupt/, and takes a deferred file by a
 * rename that fails if the admin took it first).
 *
 * A spool file is shown by the first 8 characters of the random part of
 * its id (20261203T071951.123456-0a1b2c3d4e is "0a1b2c3d"; its date is on
 * the same line) and named by any unique prefix of at least 8 characters of
 * that part, or by the whole id.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "mlistctl.h"
#include "spool.h"
#include "util.h"

static const enum spool_queue spool_waiting[] = { SPOOL_HOLD, SPOOL_DEFERRED, SPOOL_CORRUPT };
static const enum spool_queue spool_all[] = { SPOOL_INCOMING, SPOOL_ACTIVE, SPOOL_HOLD,
	SPOOL_DEFERRED, SPOOL_CORRUPT };

#define CTL_SPOOL_ID_LEN	8

/* The random part of a spool id (after its last '-'), or the id. */
static const char *
ctl_spool_rand(const char *id)
{
	const char *dash = strrchr(id, '-');

	return dash ? dash + 1 : id;
}

static int
ctl_spool_open(struct ctl *ctl, struct spool **sp_r)
{
	char *root = ctl_path(ctl, "spool");
	const char *err = NULL;
	int rc = spool_open(root, sp_r, &err);

	free(root);
	return rc == 0 ? EX_OK : ctl_fail(EX_IOERR, "spool: %s", err);
}

/* One message, as the postmaster's mail shows it. */
static void
ctl_spool_show(struct spool *sp, enum spool_queue q, const char *id)
{
	struct spool_msg *m = NULL;
	struct spool_note n;
	const char *err;
	char date[SPOOL_DATE_SIZE], next[32];

	spool_id_date(id, date);
	spool_note_read(sp, id, &n);
	printf("%.*s  %s  %s  %s\xc2\xa0%d\n", CTL_SPOOL_ID_LEN, ctl_spool_rand(id),
	    i18n_state("spool", spool_queue_name(q)), date, tr("tentatives", "attempts"),
	    n.attempts);
	if (spool_read(sp, q, id, &m, &err) == 0) {
		printf("  %s\xc2\xa0: %s\n  %s\xc2\xa0:", tr("de", "from"), *m->sender ? m->sender :
		    "<>", tr("pour", "to"));
		for (size_t i = 0; i < m->nrcpt; i++)
			printf(" %s", m->rcpts[i]);
		putchar('\n');
		spool_msg_free(&m);
	}
	if (q == SPOOL_DEFERRED && n.next_try) {
		time_iso(n.next_try, next, sizeof next);
		printf("  %s\xc2\xa0: %s\n", tr("prochain essai", "next try"), next);
	}
	printf("  %s\xc2\xa0: %s\n", tr("raison", "reason"), *n.reason ? n.reason :
	    tr("(inconnue)", "(unknown)"));
}

static int
cmd_spool_list(struct ctl *ctl, int argc, char **argv)
{
	struct spool *sp;
	size_t total = 0;
	int rc;

	if (argc != 1)
		return ctl_bad_usage();
	if ((rc = ctl_spool_open(ctl, &sp)) != EX_OK)
		return rc;
	for (size_t k = 0; k < nitems(spool_waiting); k++) {
		char **ids;
		size_t n;

		if (spool_list(sp, spool_waiting[k], &ids, &n) == -1) {
			spool_close(&sp);
			return ctl_fail(EX_IOERR, "spool: %s", spool_queue_name(spool_waiting[k]));
		}
		for (size_t i = 0; i < n; i++)
			ctl_spool_show(sp, spool_waiting[k], ids[i]);
		total += n;
		spool_list_free(ids, n);
	}
	if (total == 0)
		printf("%s\n", tr("aucun message en attente", "no message waiting"));
	spool_close(&sp);
	return EX_OK;
}

/* Whether arg names id: the whole id, or a prefix of its random part. */
static int
ctl_spool_names(const char *arg, const char *id)
{
	return strcmp(arg, id) == 0 || (strlen(arg) >= CTL_SPOOL_ID_LEN &&
	    strncmp(ctl_spool_rand(id), arg, strlen(arg)) == 0);
}

/* The files arg names, in every queue: how many; the first in id_r and q_r,
 * each one's short id listed in names. */
static int
ctl_spool_match(struct spool *sp, const char *arg, char id_r[SPOOL_ID_SIZE],
    enum spool_queue *q_r, struct buf *names)
{
	int found = 0;

	for (size_t k = 0; k < nitems(spool_all); k++) {
		char **ids;
		size_t n;

		if (spool_list(sp, spool_all[k], &ids, &n) == -1)
			continue;
		for (size_t i = 0; i < n; i++)
			if (ctl_spool_names(arg, ids[i])) {
				if (found++ == 0) {
					snprintf(id_r, SPOOL_ID_SIZE, "%s", ids[i]);
					*q_r = spool_all[k];
				}
				buf_printf(names, "%s%s", found > 1 ? ", " : "", ids[i]);
			}
		spool_list_free(ids, n);
	}
	return found;
}

/* Where the message named by arg waits (hold/, deferred/ or corrupt/): its
 * full id in id_r; EX_OK or a failure told. */
static int
ctl_spool_find(struct spool *sp, const char *arg, char id_r[SPOOL_ID_SIZE],
    enum spool_queue *q_r)
{
	struct buf names;
	int n, rc = EX_OK;

	buf_init(&names);
	if ((n = ctl_spool_match(sp, arg, id_r, q_r, &names)) == 0)
		rc = ctl_fail(EX_DATAERR, tr("message inconnu\xc2\xa0: %s", "unknown message: %s"),
		    arg);
	else if (n > 1)
		rc = ctl_fail(EX_DATAERR, tr("identifiant ambigu\xc2\xa0: %s désigne %d messages (%s)"
		    "\xc2\xa0; donnez plus de caractères", "ambiguous id: %s names %d messages (%s);"
		    " give more characters"), arg, n, buf_cstr(&names));
	else if (*q_r == SPOOL_INCOMING || *q_r == SPOOL_ACTIVE)
		rc = ctl_fail(EX_DATAERR, tr("%s est déjà en cours de traitement",
		    "%s is already being handled"), arg);
	buf_free(&names);
	return rc;
}

static int
cmd_spool_retry(struct ctl *ctl, int argc, char **argv)
{
	struct spool *sp;
	enum spool_queue q;
	char id[SPOOL_ID_SIZE];
	int rc;

	if (argc != 2)
		return ctl_bad_usage();
	if ((rc = ctl_spool_open(ctl, &sp)) != EX_OK)
		return rc;
	if ((rc = ctl_spool_find(sp, argv[1], id, &q)) == EX_OK) {
		spool_note_remove(sp, id);	/* a fresh start: attempts from 0 */
		if (spool_move(sp, id, q, SPOOL_INCOMING) == -1)
			rc = ctl_fail(EX_IOERR, "%s: %s", argv[1], strerror(errno));
		else
			printf(tr("%s remis dans la file (traité au prochain passage)\n",
			    "%s queued again (handled at the next pass)\n"), argv[1]);
	}
	spool_close(&sp);
	return rc;
}

static int
cmd_spool_drop(struct ctl *ctl, int argc, char **argv)
{
	struct spool *sp;
	enum spool_queue q;
	char id[SPOOL_ID_SIZE];
	int yes = argc == 3 && strcmp(argv[2], "--yes") == 0, rc;

	if (argc != 2 && !yes)
		return ctl_bad_usage();
	if ((rc = ctl_spool_open(ctl, &sp)) != EX_OK)
		return rc;
	if ((rc = ctl_spool_find(sp, argv[1], id, &q)) == EX_OK && !yes) {
		ctl_spool_show(sp, q, id);
		rc = ctl_fail(EX_USAGE, tr("rien supprimé\xc2\xa0: ajoutez --yes pour supprimer ce"
		    " message définitivement", "nothing deleted: add --yes to delete this message"
		    " for good"));
	} else if (rc == EX_OK && spool_remove(sp, q, id) == -1)
		rc = ctl_fail(EX_IOERR, "%s: %s", argv[1], strerror(errno));
	else if (rc == EX_OK)
		printf(tr("%s supprimé\n", "%s deleted\n"), argv[1]);
	spool_close(&sp);
	return rc;
}

const struct ctl_cmd ctl_spool_cmds[] = {
	{ "spool list", cmd_spool_list, 1, "",
	  "messages reçus mis de côté ou en attente d'un nouvel essai, et pourquoi",
	  "received messages held or waiting for a retry, and why" },
	{ "spool retry", cmd_spool_retry, 1, "ID",
	  "fait traiter de nouveau un message mis de côté",
	  "have a held message handled again" },
	{ "spool drop", cmd_spool_drop, 1, "ID --yes",
	  "supprime définitivement un message mis de côté",
	  "delete a held message for good" },
	{ NULL, NULL, 0, NULL, NULL, NULL },
};
