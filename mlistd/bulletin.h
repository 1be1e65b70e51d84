/*
 * bulletin.h — the calendar of bulletin issues and the daemon's bulletin
 * mailings.
 *
 * Issue N covers bulletin_period_months months starting at
 * bulletin_anchor + (N-1) periods; its submission deadline is
 * bulletin_deadline_days days before the period's last day, its planned
 * publication the day after the period ends. Rows are created on demand
 * (bulletin_current) and can be overridden per issue (mlistctl bulletin
 * open/close, set dates). States: planned -> open -> closed -> published.
 *
 * bulletin_tick() is called by the daemon (every queue run and by --once):
 * opens the issue whose period has started and sends its call for
 * contributions to every active contact (once), sends each reminder of
 * bulletin_reminders (days before the deadline) once, only to the contacts
 * of committees with no submission yet, sends the editors' daily digest of
 * new submissions, closes issues whose deadline has passed, and tells the
 * editors once, per proof or publication, how many copies the relay
 * refused and its answer (when its first pass is over). Each
 * mailing is recorded in bulletin_mailing before it is queued, in one
 * transaction, so a restart never sends it twice.
 */
#ifndef MLISTD_BULLETIN_H
#define MLISTD_BULLETIN_H

#include <stdint.h>
#include <time.h>

struct engine;

struct bulletin_issue {
	int64_t	id;
	int	number;
	char	period_start[11];	/* YYYY-MM-DD */
	char	period_end[11];
	char	deadline[11];
	char	publish_date[11];
	char	state[12];
};

/* The issue whose period contains t (rows created as needed): 0, or 1 when
 * t is before bulletin_anchor, -1 on database error. */
int bulletin_current(struct engine *e, time_t t, struct bulletin_issue *bi);
/* Issue by number (0 = the current one): 0, 1 unknown, -1 error. */
int bulletin_get(struct engine *e, int number, struct bulletin_issue *bi);
/* Open issue for submissions at time t: the current one if open, else the
 * most recent open one; 1 when none is open. */
int bulletin_open_issue(struct engine *e, time_t t, struct bulletin_issue *bi);
int bulletin_tick(struct engine *e);
/* Is s a real calendar date written YYYY-MM-DD? */
int bulletin_date_valid(const char *s);

#endif
