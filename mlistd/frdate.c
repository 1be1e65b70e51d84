/*
 * frdate.c — French dates in people's text (see frdate.h).
 *
 * The text is folded (lower case, accents removed: str_fold) and read
 * word by word: a day number ("1er" too) followed by a month name, or by
 * "/" or "-" and a month number, then an optional year (a numeric date
 * without a year only after a weekday or "le", "du", "ce"). Calendar checks use timegm() on UTC noon.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frdate.h"
#include "util.h"

static const char *const frdate_months[12][3] = {
	{ "janvier", "janv", "jan" }, { "fevrier", "fevr", "fev" }, { "mars", "mar", NULL },
	{ "avril", "avr", NULL }, { "mai", NULL, NULL }, { "juin", NULL, NULL },
	{ "juillet", "juil", NULL }, { "aout", NULL, NULL }, { "septembre", "sept", "sep" },
	{ "octobre", "oct", NULL }, { "novembre", "nov", NULL }, { "decembre", "dec", NULL },
};

static const char *const frdate_cues[] = {
	"lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
	"lun", "mar", "mer", "jeu", "ven", "sam", "dim", "le", "du", "ce",
};

/* The month (1-12) whose name or abbreviation is the word at p (length n),
 * else 0. */
static int
frdate_month(const char *p, size_t n)
{
	for (int m = 0; m < 12; m++)
		for (int k = 0; k < 3 && frdate_months[m][k]; k++)
			if (strlen(frdate_months[m][k]) == n &&
			    strncmp(p, frdate_months[m][k], n) == 0)
				return m + 1;
	return 0;
}

static int
frdate_is_cue(const char *p, size_t n)
{
	for (size_t i = 0; i < nitems(frdate_cues); i++)
		if (strlen(frdate_cues[i]) == n && strncmp(p, frdate_cues[i], n) == 0)
			return 1;
	return 0;
}

static int
frdate_valid(int d, int m, int y)
{
	static const int days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);

	if (m < 1 || m > 12 || d < 1 || d > days[m - 1])
		return 0;
	return !(m == 2 && d == 29 && y != 0 && !leap);
}

/* A year after the date at p: " 2026", "/2026", "/26"; 0 when none. */
static int
frdate_year(const char **pp, int sep)
{
	const char *p = *pp;
	int y = 0, n = 0;

	if (sep ? *p != sep : *p != ' ')
		return 0;
	for (p++; isdigit((unsigned char)p[n]) && n < 5; n++)
		y = y * 10 + (p[n] - '0');
	if ((n != 4 && !(sep && n == 2)) || isalnum((unsigned char)p[n]))
		return 0;
	*pp = p + n;
	return n == 2 ? 2000 + y : y;
}

/* A date starting at the day number at p; prev: the word before (or NULL). */
static int
frdate_at(const char *p, const char *prev, size_t prevlen, int *d, int *m, int *y)
{
	char *end;
	long day = strtol(p, &end, 10);
	size_t n;

	if (end - p > 2 || day < 1 || day > 31)
		return 0;
	if (strncmp(end, "er", 2) == 0 && day == 1)
		end += 2;
	*d = (int)day;
	if ((*end == '/' || *end == '-') && isdigit((unsigned char)end[1])) {
		int sep = *end;

		*m = (int)strtol(end + 1, &end, 10);
		if (isalnum((unsigned char)*end))
			return 0;
		*y = frdate_year((const char **)&end, sep);
		if (*y == 0 && (!prev || !frdate_is_cue(prev, prevlen)))
			return 0;	/* "1/2 journée" */
		return frdate_valid(*d, *m, *y);
	}
	if (*end != ' ')
		return 0;
	for (p = end + 1, n = 0; isalpha((unsigned char)p[n]); n++)
		;
	if ((*m = frdate_month(p, n)) == 0)
		return 0;
	end = (char *)p + n + (p[n] == '.');
	*y = frdate_year((const char **)&end, 0);
	return frdate_valid(*d, *m, *y);
}

int
frdate_find(const char *text_utf8, int *day_r, int *month_r, int *year_r)
{
	char *t = str_fold(text_utf8 ? text_utf8 : "");
	const char *prev = NULL;
	size_t prevlen = 0;
	int found = 0;

	for (const char *p = t; *p && !found;) {
		size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789");

		if (n == 0) {
			p++;
			continue;
		}
		if (isdigit((unsigned char)*p) && (p == t || !isalnum((unsigned char)p[-1])))
			found = frdate_at(p, prev, prevlen, day_r, month_r, year_r);
		prev = p;
		prevlen = n;
		p += n;
	}
	free(t);
	return found;
}

static time_t
frdate_time(int y, int m, int d)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 12 };

	return timegm(&tm);
}

static time_t
frdate_parse_ymd(const char *s)
{
	int y, m, d;

	if (s == NULL || sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3)
		return 0;
	return frdate_time(y, m, d);
}

int
frdate_pick(const char *text_utf8, const char *mail_ymd, const char *period_start,
    char *out)
{
	int d, m, y, my;
	time_t mail = frdate_parse_ymd(mail_ymd), start = frdate_parse_ymd(period_start), t;
	struct tm tm;

	if (mail == 0 || !frdate_find(text_utf8, &d, &m, &y))
		return 0;
	my = atoi(mail_ymd);
	if (y != 0 && (y < my - 1 || y > my + 1))
		return 0;
	if (y == 0) {
		y = frdate_time(my, m, d) <= mail ? my : my - 1;
		while (!frdate_valid(d, m, y))
			y--;		/* 29 February: the last leap year */
		if (start && frdate_time(y, m, d) < start &&
		    frdate_time(y + 1, m, d) - mail <= 92 * 86400 && frdate_valid(d, m, y + 1))
			y++;
	}
	t = frdate_time(y, m, d);
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
	return 1;
}

const char *
frdate_month_name(int en, int month)
{
	static const char *const fr[12] = { "janvier", "février", "mars", "avril", "mai", "juin",
	    "juillet", "août", "septembre", "octobre", "novembre", "décembre" };
	static const char *const english[12] = { "January", "February", "March", "April", "May",
	    "June", "July", "August", "September", "October", "November", "December" };

	if (month < 1 || month > 12)
		return "?";
	return en ? english[month - 1] : fr[month - 1];
}

void
frdate_long(int en, const char *iso, char *out, size_t size)
{
	int y, m, d;

	if (sscanf(iso, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1 ||
	    d > 31) {
		snprintf(out, size, "%s", iso);
		return;
	}
	snprintf(out, size, "%d%s %s %d", d, !en && d == 1 ? "er" : "", frdate_month_name(en, m), y);
}
