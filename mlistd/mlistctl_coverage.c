/*
 * mlistctl_coverage.c — the office's view of who can be reached and who
 * answered: coverage (the roster's health) and replies ID (which
 * committees answered one broadcast, when, by whom, and which did not).
 */
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "coverage.h"
#include "i18n.h"
#include "mlistctl.h"
#include "status.h"

static int
cmd_coverage(struct ctl *ctl, int argc, char **argv)
{
	if (argc > 1)
		return ctl_bad_usage();
	if (coverage_report(ctl->db, &ctl->cf, stdout) == -1)
		return ctl_fail(EX_TEMPFAIL, "%s", tr("lecture impossible", "cannot read"));
	return EX_OK;
}

static int
cmd_replies(struct ctl *ctl, int argc, char **argv)
{
	char *token;
	int rc;

	if (argc != 2)
		return ctl_bad_usage();
	if ((rc = ctl_broadcast_token(ctl, argv[1], &token)) != EX_OK)
		return rc;
	rc = status_replies(ctl->db, token, stdout);
	free(token);
	return rc == 0 ? EX_OK : ctl_fail(EX_TEMPFAIL, "%s", tr("lecture impossible", "cannot read"));
}

const struct ctl_cmd ctl_coverage_cmds[] = {
	{ "coverage", cmd_coverage, 1, "",
	  "comités joignables, sous le minimum de contacts, injoignables",
	  "committees reachable, under the minimum of contacts, unreachable" },
	{ "replies", cmd_replies, 1, "ID",
	  "comités qui ont répondu à un envoi (quand, qui) et ceux qui n'ont pas répondu",
	  "committees that answered a broadcast (when, who) and those that did not" },
	{ NULL, NULL, 0, NULL, NULL, NULL },
};
