/*
 * entry.h — what a report is called and when it happened: the rules that
 * turn what a sender wrote into the title and the activity date of the
 * bulletin's entry.
 *
 * Title: the Subject without Re:/TR:/Fwd:/[tags] (trim_subject) and without
 * a leading "Correction" (which marks the mail as a correction); unless it
 * is the Subject of our call for contributions or its reminder (a reply to
 * the call): then the first short line of the text, taken out of the text
 * (not a greeting, not a sentence, with text after it); else the caller's
 * "Compte rendu — COMMITTEE".
 *
 * Activity date: a text that is only "Date : 14 novembre" (a reply to the
 * acknowledgement) gives it; else a French date (frdate.h) in the title
 * (not our call's Subject), else in the first paragraph that says
 * something; else the mail's own date.
 *
 * Pure functions on UTF-8 strings, thread-safe; returned strings are
 * malloc'd (free()).
 */
#ifndef MLISTD_ENTRY_H
#define MLISTD_ENTRY_H

#include <stddef.h>
#include <time.h>

#define ENTRY_DATE_SIZE	11	/* "YYYY-MM-DD" and its NUL */

/* The title a Subject gives (maybe ""), with *correction_r = 1 when it
 * started with "Correction" (removed). subject may be NULL. */
char *entry_subject_title(const char *subject, int *correction_r);

/* Is title the Subject of our call for contributions or of its reminder? */
int entry_is_call_subject(const char *title);

/* The first line of body as a title when it looks like one, removed from
 * body (in place) with the blank lines under it; NULL otherwise. */
char *entry_title_from_text(char *body);

/* Is body only "Date : <a date>" (a reply that corrects only the date)? */
int entry_is_date_reply(const char *body);

/* The mail's date (its Date header t; absent, 0 or more than two days
 * ahead: today) as local YYYY-MM-DD into out (ENTRY_DATE_SIZE). */
void entry_mail_date(time_t t, char *out);

/* The activity date into date (ENTRY_DATE_SIZE) and where it was read:
 * "reply", "subject", "text", else "mail" (date = mail_date).
 * period_start: the open issue's first day, or "". */
const char *entry_activity_date(const char *title, const char *body, int date_reply,
    const char *mail_date, const char *period_start, char *date);


/* Where the date was read (entry_activity_date's answer, or "kept": the
 * replaced report's), as the acknowledgement says it, French or (en)
 * English. */
const char *entry_date_how(const char *from, int en);

#endif
