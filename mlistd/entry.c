/*
 * entry.c — a report's title and activity date (see entry.h).
 *
 * The words that recognise our own call (whose Subject a reply keeps) and
 * a greeting are matched folded (lower case, no accents: str_fold), so
 * "RE: Appel à contributions" and "BONJOUR," are found as written by any
 * client. A line is "short" for a title under 70 characters and 90 bytes.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "content.h"
#include "entry.h"
#include "frdate.h"
#include "trim.h"
#include "util.h"

/* "Correction", "correction :", "CORRECTION - " at the start: the length
 * to skip, 0 when s does not start with the word. */
static size_t
entry_correction_prefix(const char *s)
{
	size_t n = strlen("correction");

	if (strncasecmp(s, "correction", n) != 0 ||
	    (s[n] != '\0' && !isspace((unsigned char)s[n]) && s[n] != ':' && s[n] != '-'))
		return 0;
	while (isspace((unsigned char)s[n]))
		n++;
	if (s[n] == ':' || s[n] == '-')
		n++;
	while (isspace((unsigned char)s[n]))
		n++;
	return n;
}

char *
entry_subject_title(const char *subject, int *correction_r)
{
	char *title = trim_subject(subject ? subject : "");
	size_t skip = entry_correction_prefix(title);

	*correction_r = skip > 0;
	if (skip > 0) {
		char *rest = trim_subject(title + skip);

		free(title);
		title = rest;
	}
	return title;
}

int
entry_is_call_subject(const char *title)
{
	static const char *const calls[] = {
		"appel a contribution", "racontez-nous la vie de votre comite",
		"rappel : bulletin n", "rappel\u00a0: bulletin n", "rappel: bulletin n",
		"call for contributions",
		"tell us about your committee", "reminder: bulletin no",
	};
	char *f = str_fold(title);
	int is = 0;

	for (size_t i = 0; i < nitems(calls) && !is; i++)
		is = strstr(f, calls[i]) != NULL;
	free(f);
	return is;
}

/* The first line of the body that says something (not blank, not a
 * marker, not a greeting); *len_r its length. */
static const char *
entry_first_line(const char *body, size_t *len_r)
{
	for (const char *p = body; *p;) {
		size_t n = strcspn(p, "\n");
		char *line = xstrndup(p, n), *t = str_trim(line);
		int skip = *t == '\0' || content_marker(t, strlen(t)) ||
		    trim_is_greeting(t, strlen(t));

		free(line);
		if (!skip) {
			*len_r = n;
			return p;
		}
		p += n + (p[n] == '\n');
	}
	return NULL;
}

char *
entry_title_from_text(char *body)
{
	size_t n, rest;
	const char *line = entry_first_line(body, &n);
	char *p = line ? body + (line - body) : NULL, *title, *raw;

	if (p == NULL || n > 90 || utf8_prefix_len(p, 70) < n || strchr(".,;:", p[n - 1]) ||
	    entry_first_line(p + n, &rest) == NULL)
		return NULL;		/* a sentence, or the whole text */
	raw = xstrndup(p, n);
	title = xstrdup(str_trim(raw));
	free(raw);
	for (n += p[n] == '\n'; p[n] == '\n'; n++)
		;			/* and the blank lines under it */
	memmove(p, p + n, strlen(p + n) + 1);
	return title;
}

int
entry_is_date_reply(const char *body)
{
	char *f = str_fold(body);
	int d, m, y, only = strncmp(f, "date", 4) == 0 && strchr(f, '\n') == NULL &&
	    strlen(f) < 60 && frdate_find(f, &d, &m, &y);

	free(f);
	return only;
}

void
entry_mail_date(time_t t, char *out)
{
	time_t today = now();
	struct tm tm;

	if (t <= 0 || t > today + 2 * 86400)	/* absent, or a clock gone wrong */
		t = today;
	localtime_r(&t, &tm);
	strftime(out, ENTRY_DATE_SIZE, "%Y-%m-%d", &tm);
}

/* The first paragraph that says something (after a greeting). */
static char *
entry_first_paragraph(const char *body)
{
	size_t n;
	const char *p = entry_first_line(body, &n), *end;

	if (p == NULL)
		return xstrdup("");
	end = strstr(p, "\n\n");
	return end ? xstrndup(p, (size_t)(end - p)) : xstrdup(p);
}

const char *
entry_activity_date(const char *title, const char *body, int date_reply,
    const char *mail_date, const char *period_start, char *date)
{
	char *para = entry_first_paragraph(body);
	const char *from = "mail";

	snprintf(date, ENTRY_DATE_SIZE, "%s", mail_date);
	if (date_reply && frdate_pick(body, mail_date, period_start, date))
		from = "reply";
	else if (!entry_is_call_subject(title) &&
	    frdate_pick(title, mail_date, period_start, date))
		from = "subject";
	else if (frdate_pick(para, mail_date, period_start, date))
		from = "text";
	free(para);
	return from;
}

const char *
entry_date_how(const char *from, int en)
{
	static const char *const how[][3] = {
		{ "subject", "lue dans l'objet de votre message", "read in your subject" },
		{ "text", "lue au début de votre texte", "read at the start of your text" },
		{ "reply", "celle que vous nous avez donnée", "the one you gave us" },
		{ "kept", "celle de votre premier envoi", "the one of your first message" },
		{ "mail", "aucune date trouvée dans l'objet ni au début du texte\u00a0: c'est la date"
		  " d'envoi de votre message", "no date found in the subject or at the start of"
		  " the text: this is when you sent your message" },
	};

	for (size_t i = 0; i < nitems(how); i++)
		if (strcmp(from, how[i][0]) == 0)
			return how[i][en ? 2 : 1];
	return "";
}
