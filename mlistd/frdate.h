/*
 * frdate.h — the date of an activity as people write it in French in a
 * Subject or a first paragraph: "14 novembre", "1er décembre", "le 3 déc.",
 * "samedi 21/11", "14/11/2026", "dimanche 6 déc 2026", "le 21-11".
 *
 * A bare "21/11" is only read after a weekday or "le"/"du"/"ce" (a "1/2
 * journée" is no date); a month name may be abbreviated, with or without a
 * dot, accents or capitals. Pure functions, thread-safe.
 */
#ifndef MLISTD_FRDATE_H
#define MLISTD_FRDATE_H

#include <stddef.h>

/* The first date written in text: 1 with day, month and year (0 when no
 * year was written), 0 when there is none. */
int frdate_find(const char *text_utf8, int *day_r, int *month_r, int *year_r);

/* The activity date (YYYY-MM-DD into out, 11 bytes) from the first date of
 * text, given the mail's date mail_ymd and the period start
 * (YYYY-MM-DD, or "" when unknown). Without a year: the occurrence nearest
 * on or before the mail's date; when that falls before the period start,
 * the next one if it comes within 92 days of the mail (an event
 * announced). A written year more than a year away from the mail is not
 * believed. 1 when found, 0 (out untouched) when not. */
int frdate_pick(const char *text_utf8, const char *mail_ymd, const char *period_start,
    char *out);

/* The name of month 1..12 ("mars", en: "March"). */
const char *frdate_month_name(int en, int month);

/* The date YYYY-MM-DD as every mail and page writes it: "14 novembre 2026",
 * "1er novembre 2026" (en: "14 November 2026"); iso itself into out when it
 * is not one. */
void frdate_long(int en, const char *iso, char *out, size_t size);

#endif
