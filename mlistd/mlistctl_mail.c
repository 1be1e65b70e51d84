/*
 * mlistctl_mail.c — mail commands: inject (the MTA pipe), messages,
 * status, release.
 *
 * inject takes the envelope as the MTA gives it (--sender "<>" for a
 * bounce: the sender is never guessed from the headers).
 * inject exits 0 only once the message is durably in the spool; 75
 * (EX_TEMPFAIL) for what a retry can fix (spool not writable, disk full)
 * so the MTA keeps the mail; 78 (EX_CONFIG) for a bad configuration file
 * or a data directory never initialised (the message would sit in a spool
 * nobody reads); 67 (EX_NOUSER) for an address that is not ours; 65
 * (EX_DATAERR) for a message over message_size_limit or carrying our own
 * loop marker; 64 (EX_USAGE) for bad arguments. INSTALL has the table.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "broadcast.h"
#include "config.h"
#include "engine.h"
#include "i18n.h"
#include "mlistctl.h"
#include "router.h"
#include "spool.h"
#include "status.h"
#include "util.h"

/* Copy stdin into the writer, CRLF -> LF; -1 too large, -2 write error, -3 loop. */
static int
inject_copy(struct spool_writer *w, long limit, const char *loop_marker)
{
	char *line = NULL;
	size_t cap = 0, total = 0;
	ssize_t n;
	int in_header = 1, rc = 0;

	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (n >= 2 && line[n - 2] == '\r' && line[n - 1] == '\n') {
			line[n - 2] = '\n';
			n--;
		}
		total += (size_t)n;
		if ((long)total > limit) {
			rc = -1;
			break;
		}
		if (in_header && (line[0] == '\n'))
			in_header = 0;
		else if (in_header && strncasecmp(line, "X-Loop:", 7) == 0 &&
		    strcasestr(line, loop_marker) != NULL) {
			rc = -3;
			break;
		}
		if (spool_writer_write(w, line, (size_t)n) == -1) {
			rc = -2;
			break;
		}
	}
	if (rc == 0 && ferror(stdin))
		rc = -2;
	free(line);
	return rc;
}

static int
cmd_inject(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rcpt", required_argument, NULL, 'r' }, { "sender", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *rcpts[64], *sender = NULL, *err = NULL;
	size_t nrcpt = 0;
	struct spool *sp = NULL;
	struct spool_writer *w = NULL;
	char id[SPOOL_ID_SIZE], *dir, *loop;
	int c, rc;

	while ((c = getopt_long(argc, argv, "r:s:f:", opts, NULL)) != -1) {
		if (c == 'r' && nrcpt < nitems(rcpts))
			rcpts[nrcpt++] = optarg;
		else if (c == 's' || c == 'f')
			sender = optarg;
		else
			return ctl_bad_usage();
	}
	if (nrcpt == 0 || sender == NULL || optind != argc)
		return ctl_bad_usage();
	if (strcmp(sender, "<>") == 0)
		sender = "";
	for (size_t i = 0; i < nrcpt; i++)
		if (router_role(&ctl->cf, rcpts[i]) == ROLE_NONE)
			return ctl_fail(EX_NOUSER, tr("%s\xc2\xa0: adresse inconnue"
			    " ici", "%s: not one of our"
			    " addresses"), rcpts[i]);
	if ((rc = engine_check_tr(&ctl->cf, ENGINE_CHECK_EXISTS, &err)) != EX_OK)
		return ctl_fail(rc, "%s", err);
	dir = ctl_path(ctl, "spool");
	if (spool_open(dir, &sp, &err) == -1 || spool_writer_new(sp, sender, rcpts, nrcpt, &w) == -1) {
		rc = ctl_fail(EX_TEMPFAIL, "%s: %s", dir, err ? err : strerror(errno));
		spool_close(&sp);
		free(dir);
		return rc;
	}
	free(dir);
	loop = config_address(&ctl->cf, ctl->cf.national_address);
	rc = inject_copy(w, ctl->cf.message_size_limit, loop);
	free(loop);
	if (rc == 0 && spool_writer_commit(&w, id) == 0) {
		spool_close(&sp);
		return EX_OK;
	}
	spool_writer_abort(&w);
	spool_close(&sp);
	if (rc == -1)
		return ctl_fail(EX_DATAERR, tr("message trop gros (limite %ld octets)",
		    "message too large (limit %ld bytes)"), ctl->cf.message_size_limit);
	if (rc == -3)
		return ctl_fail(EX_DATAERR, "%s", tr("boucle\xc2\xa0: ce message vient de"
		    " la liste elle-même",
		    "mail loop: this message came from the list itself"));
	return ctl_fail(EX_TEMPFAIL, tr("écriture dans la file impossible\xc2\xa0: %s",
	    "cannot write to the spool: %s"), strerror(errno));
}

static int
cmd_messages(struct ctl *ctl, int argc, char **argv)
{
	if (argc > 1)
		return ctl_bad_usage();
	return status_messages(ctl->db, stdout) == 0 ? EX_OK : ctl_fail(EX_TEMPFAIL, "%s",
	    tr("lecture impossible", "cannot read"));
}

static int
cmd_status(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "unreached", no_argument, NULL, 'u' }, { "replies", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc, unreached = 0, replies = 0;
	char *token;

	while ((c = getopt_long(argc, argv, "ur", opts, NULL)) != -1) {
		if (c != 'u' && c != 'r')
			return ctl_bad_usage();
		unreached |= c == 'u';
		replies |= c == 'r';
	}
	if (optind != argc - 1)
		return ctl_bad_usage();
	if ((rc = ctl_broadcast_token(ctl, argv[optind], &token)) != EX_OK)
		return rc;
	rc = replies ? status_replies(ctl->db, token, stdout) :
	    status_message(ctl->db, token, unreached, stdout);
	free(token);
	return rc == 0 ? EX_OK : ctl_fail(EX_TEMPFAIL, "%s", tr("lecture impossible", "cannot read"));
}

static int
cmd_release(struct ctl *ctl, int argc, char **argv)
{
	struct engine e;
	const char *err = NULL;
	char *token;
	int rc;

	if (argc != 2)
		return ctl_bad_usage();
	if ((rc = ctl_broadcast_token(ctl, argv[1], &token)) != EX_OK)
		return rc;
	if ((rc = ctl_engine(ctl, &e)) != EX_OK) {
		free(token);
		return rc;
	}
	rc = broadcast_release_token(&e, token, &err);
	if (rc == 1)
		printf(tr("%.8s libéré\xc2\xa0: envoi en cours\n", "%.8s released: sending\n"), token);
	else	/* err may be the database's message: told before closing it */
		rc = ctl_fail(rc == 0 ? EX_DATAERR : EX_TEMPFAIL, "%s", err);
	engine_close(&e);
	free(token);
	return rc == 1 ? EX_OK : rc;
}

const struct ctl_cmd ctl_mail_cmds[] = {
	{ "inject", cmd_inject, 0, "--rcpt ADRESSE --sender ADRESSE|'<>' < message",
	  "dépose un message dans la file (pour le MTA\xc2\xa0: pipe)",
	  "put a message into the spool (for the MTA: pipe)" },
	{ "messages", cmd_messages, 1, "",
	  "liste les envois nationaux", "list the national broadcasts" },
	{ "status", cmd_status, 1, "ID [--unreached|--replies]",
	  "comités atteints, en attente, injoignables pour un envoi",
	  "committees reached, pending, unreachable for one broadcast" },
	{ "release", cmd_release, 1, "ID",
	  "libère un envoi retenu (comme la confirmation par courriel)",
	  "release a held broadcast (as the email confirmation does)" },
	{ NULL, NULL, 0, NULL, NULL, NULL },
};
