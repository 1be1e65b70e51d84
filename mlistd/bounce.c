/*
 * bounce.c — what comes back to rebonds+VERP@ (see bounce.h).
 *
 * Classification. An RFC 3464 report is read from its message/delivery-
 * status part, taken from the raw text (it is plain "Name: value" lines,
 * never encoded in practice): of its per-recipient groups the most severe
 * one is kept (failed, then delayed, then the others). Its Action decides
 * first (delayed is not a failure; delivered/relayed/expanded is no
 * failure at all), then the words of the diagnostic and the Status code.
 * Anything else is read the way mature list managers read it: the human
 * text (decoded by the MIME adapter, cut before the copy of the original
 * message, accents and case folded, lines joined) is searched for the
 * sentences of common servers (Postfix, Exim, qmail, Gmail, Exchange,
 * Orange/Wanadoo in French). Order of the questions: is it a delay notice;
 * is it a bounce at all (a vacation notice is not); is it a rejection of
 * this message's content (spam, policy); a full mailbox (soft); a dead
 * address (hard); else the status code or SMTP code decides, and a failure
 * with no reason at all is counted as soft.
 *
 * Accounting (bounce_accept). The VERP token names one delivery; an
 * unknown token is dropped with one log line and nothing else (no
 * backscatter, no row). A delivery adds at most 1 to its contact's score,
 * whatever the number of bounces it brings back (a soft one then a hard
 * one add 0.5 then 0.5). Before adding, the score is halved for each full
 * bounce_info_stale_after period since it last changed. Everything a bounce
 * changes (bounce row, delivery, contact, the office's notice in the
 * queue) is written in one transaction, so a crash leaves all or nothing,
 * and a database failure returns -1 (temporary: the bounce is retried).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autoreply.h"
#include "bounce.h"
#include "config.h"
#include "coverage.h"
#include "db.h"
#include "engine.h"
#include "html2text.h"
#include "log.h"
#include "mime.h"
#include "notice.h"
#include "queue.h"
#include "roster.h"
#include "tmpl.h"
#include "util.h"

#define BOUNCE_TEXT_MAX	(256u * 1024)	/* human text examined at most */

/* ---- small text helpers ---- */

/* Copy src[0..len) into dst (size n), white space runs as one space, trimmed. */
static void
bounce_copy(char *dst, size_t n, const char *src, size_t len)
{
	size_t o = 0;
	int space = 0;

	for (size_t i = 0; i < len && src[i] != '\0' && o + 1 < n; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			space = o > 0;
			continue;
		}
		if (space && o + 2 < n)
			dst[o++] = ' ';
		space = 0;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
}

/* Folded copy for matching: lower case, French accents removed, typographic
 * apostrophes as "'", every white space run (line breaks too) as one space. */
static char *
bounce_fold(const char *s)
{
	char *f = str_fold(s), *out = xmalloc(strlen(f) + 1);
	size_t o = 0;

	for (const char *p = f; *p; p++) {
		if (strncmp(p, "\xe2\x80\x99", 3) == 0) {	/* U+2019 */
			out[o++] = '\'';
			p += 2;
		} else if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
			if (o > 0 && out[o - 1] != ' ')
				out[o++] = ' ';
		} else
			out[o++] = *p;
	}
	out[o] = '\0';
	free(f);
	return out;
}

/* First phrase of the NULL-terminated list found in folded text, or NULL. */
static const char *
bounce_match(const char *folded, const char *const *phrases)
{
	for (size_t i = 0; phrases[i] != NULL; i++)
		if (strstr(folded, phrases[i]) != NULL)
			return phrases[i];
	return NULL;
}

static int
bounce_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

/* First enhanced status code "C.S.D" (class 2, 4 or 5) in s, into out. */
static int
bounce_find_status(const char *s, char *out, size_t n)
{
	for (const char *p = s; *p; p++) {
		const char *q = p + 2;
		size_t a = 0, b = 0;

		if ((*p != '2' && *p != '4' && *p != '5') || p[1] != '.' ||
		    (p > s && (bounce_isdigit(p[-1]) || p[-1] == '.')))
			continue;
		while (bounce_isdigit(q[a]) && a < 4)
			a++;
		if (a == 0 || a > 3 || q[a] != '.')
			continue;
		while (bounce_isdigit(q[a + 1 + b]) && b < 4)
			b++;
		if (b == 0 || b > 3 || bounce_isdigit(q[a + 1 + b]) ||
		    (q[a + 1 + b] == '.' && bounce_isdigit(q[a + 2 + b])))
			continue;
		bounce_copy(out, n, p, (size_t)(q - p) + a + 1 + b);
		return 1;
	}
	return 0;
}

/* First SMTP reply code 4xx/5xx standing alone in s, or NULL. */
static const char *
bounce_code_at(const char *s)
{
	for (const char *p = s; p[0] && p[1] && p[2]; p++)
		if ((*p == '4' || *p == '5') && bounce_isdigit(p[1]) && bounce_isdigit(p[2]) &&
		    (p == s || p[-1] == ' ' || p[-1] == '\'' || p[-1] == '(' || p[-1] == '"') &&
		    (p[3] == ' ' || p[3] == '-'))
			return p;
	return NULL;
}

/* Its first digit (4 or 5), or 0 when there is none. */
static int
bounce_find_code(const char *s)
{
	const char *p = bounce_code_at(s);

	return p != NULL ? *p - '0' : 0;
}

static int
bounce_addr_char(char c, int local)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || bounce_isdigit(c) ||
	    c == '.' || c == '-')
		return 1;
	return local && strchr("_+=%'!#$&*/?^`{|}~", c) != NULL && c != '\0';
}

/* The address around the '@' at, or 0 when it is not one (no dot in domain). */
static int
bounce_addr_at(const char *start, const char *at, char *out, size_t n)
{
	const char *l = at, *r = at + 1;

	while (l > start && bounce_addr_char(l[-1], 1))
		l--;
	while (*l == '.' || *l == '\'')
		l++;
	while (bounce_addr_char(*r, 0))
		r++;
	while (r > at + 1 && r[-1] == '.')
		r--;
	if (l == at || memchr(at + 1, '.', (size_t)(r - at - 1)) == NULL ||
	    (size_t)(r - l) >= n)
		return 0;
	memcpy(out, l, (size_t)(r - l));
	out[r - l] = '\0';
	str_lower(out);
	return 1;
}

/* ---- RFC 3464 ---- */

struct bounce_dsn {
	char	action[16];
	char	status[16];
	char	rcpt[256];
	char	diag[512];
	int	rank;
};

/* Does this header line declare a delivery-status content type? */
static int
bounce_is_dsn_type(const char *line, size_t len)
{
	char buf[128];

	bounce_copy(buf, sizeof buf, line, len);
	if (!str_has_prefix_ci(buf, "content-type:"))
		return 0;
	str_lower(buf);
	return strstr(buf, "message/delivery-status") != NULL ||
	    strstr(buf, "message/global-delivery-status") != NULL;
}

/* The content of the (first) delivery-status part of the raw message, or
 * NULL: its header lines are skipped, its body runs to the next "--" line. */
static char *
bounce_dsn_block(const char *data, size_t len)
{
	const char *p = data, *end = data + len, *nl;
	enum { SEEK, HEADERS, BODY } state = SEEK;
	struct buf b;

	buf_init(&b);
	for (; p < end; p = nl + 1) {
		size_t n;

		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (state == SEEK && bounce_is_dsn_type(p, n))
			state = HEADERS;
		else if (state == HEADERS && n == 0)
			state = BODY;
		else if (state == BODY && n >= 2 && p[0] == '-' && p[1] == '-')
			break;
		else if (state == BODY) {
			buf_add(&b, p, n);
			buf_addc(&b, '\n');
		}
	}
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/* Value of a typed field ("rfc822; addr", "smtp; 550 ..."): after the ';'. */
static const char *
bounce_typed_value(const char *v)
{
	const char *semi = strchr(v, ';');

	return semi != NULL ? semi + 1 : v;
}

static void
bounce_dsn_recipient(char *out, size_t n, const char *v)
{
	char *p;

	bounce_copy(out, n, bounce_typed_value(v), strlen(v));
	if (out[0] == '<' && (p = strchr(out, '>')) != NULL) {
		*p = '\0';
		memmove(out, out + 1, strlen(out));
	}
	str_lower(out);
}

/* One "Name: value" line (continuations already joined) into d. */
static void
bounce_dsn_field(struct bounce_dsn *d, const char *line)
{
	const char *v = strchr(line, ':');

	if (v == NULL)
		return;
	v++;
	if (str_has_prefix_ci(line, "Action:"))
		bounce_copy(d->action, sizeof d->action, v, strlen(v));
	else if (str_has_prefix_ci(line, "Status:"))
		bounce_find_status(v, d->status, sizeof d->status);
	else if (str_has_prefix_ci(line, "Final-Recipient:"))
		bounce_dsn_recipient(d->rcpt, sizeof d->rcpt, v);
	else if (str_has_prefix_ci(line, "Original-Recipient:") && d->rcpt[0] == '\0')
		bounce_dsn_recipient(d->rcpt, sizeof d->rcpt, v);
	else if (str_has_prefix_ci(line, "Diagnostic-Code:")) {
		v = bounce_typed_value(v);
		bounce_copy(d->diag, sizeof d->diag, v, strlen(v));
	}
	str_lower(d->action);
}

/* How much a recipient group says: failed > delayed > other actions. */
static int
bounce_dsn_rank(const struct bounce_dsn *d)
{
	if (strcmp(d->action, "failed") == 0)
		return 4;
	if (strcmp(d->action, "delayed") == 0)
		return 3;
	if (d->action[0] != '\0')
		return 1;
	return d->status[0] != '\0' ? 2 : 0;
}

static void
bounce_dsn_commit(struct bounce_dsn *cur, struct bounce_dsn *best)
{
	cur->rank = bounce_dsn_rank(cur);
	if (cur->rank > best->rank)
		*best = *cur;
	memset(cur, 0, sizeof *cur);
}

/* Parse the delivery-status block; the most severe recipient group into best. */
static void
bounce_dsn_parse(const char *block, struct bounce_dsn *best)
{
	struct bounce_dsn cur;
	struct buf field;
	const char *p = block, *nl;

	memset(best, 0, sizeof *best);
	memset(&cur, 0, sizeof cur);
	buf_init(&field);
	for (; *p; p = *nl ? nl + 1 : nl) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		if ((*p == ' ' || *p == '\t') && field.len > 0) {
			buf_addc(&field, ' ');		/* folded line */
			buf_add(&field, p, (size_t)(nl - p));
			continue;
		}
		if (field.len > 0)
			bounce_dsn_field(&cur, buf_cstr(&field));
		buf_reset(&field);
		if (nl == p || (nl == p + 1 && *p == '\r'))
			bounce_dsn_commit(&cur, best);
		else
			buf_add(&field, p, (size_t)(nl - p));
	}
	if (field.len > 0)
		bounce_dsn_field(&cur, buf_cstr(&field));
	bounce_dsn_commit(&cur, best);
	buf_free(&field);
}

/* ---- the words of common servers (folded: lower case, no accents) ---- */

static const char *const bounce_delay_words[] = {
	"delivery status notification (delay)", "delayed mail", "delivery delayed",
	"delivery is delayed", "message delayed", "has been delayed", "not yet been delivered",
	"hasn't been delivered yet", "this is a warning only", "will continue to try",
	"delivery attempts will continue", "will be retried", "still being retried",
	"delivery incomplete", "n'a pas encore ete remis", "n'a pas encore pu etre remis",
	"remise differee", "remise retardee", "(retard)", NULL
};

static const char *const bounce_failure_words[] = {
	"could not be delivered", "couldn't be delivered", "could not deliver",
	"unable to deliver", "wasn't delivered", "was not delivered", "message not delivered",
	"delivery has failed", "delivery failed", "delivery to the following recipient",
	"failed permanently", "permanent error", "permanent failure", "undeliverable",
	"undelivered mail", "returned mail", "failure notice", "qmail-send program",
	"address not found", "i'm sorry to have to inform you", "following address(es) failed",
	"remote server returned", "delivery status notification (failure)", "non remis",
	"n'a pas pu etre remis", "n'a pas pu etre distribue", "echec de la remise",
	"echec de remise", "impossible de remettre", "non delivre", NULL
};

static const char *const bounce_spam_words[] = {
	"spam", "unsolicited", "blocked because of content", "content rejected",
	"rejected due to content", "rejected because of its content", "blacklist", "blocklist",
	"block list", "dmarc", "virus", "malware", "pourriel", "indesirable", "reputation", NULL
};

/* Only with a 5.7.x status: a security or policy refusal of this message. */
static const char *const bounce_policy_words[] = {
	"policy", "politique", "refused", "refuse", "blocked", "bloque", "rejected", NULL
};

static const char *const bounce_soft_words[] = {
	"mailbox full", "mailbox is full", "mailbox exceeds", "quota", "exceeded storage",
	"insufficient system storage", "storage full", "boite aux lettres pleine",
	"boite aux lettres est pleine", "boite pleine", "boite de reception est pleine",
	"espace de stockage", "is full", NULL
};

static const char *const bounce_hard_words[] = {
	"user unknown", "unknown user", "no such user", "user not found", "does not exist",
	"doesn't exist", "unknown address", "address unknown", "address not found",
	"couldn't be found", "could not be found", "no mailbox here", "no such mailbox",
	"mailbox not found", "mailbox unavailable", "invalid mailbox", "invalid recipient",
	"unknown recipient", "recipient unknown", "recipient not found", "recipnotfound",
	"no such recipient", "no such address", "account disabled", "account has been disabled",
	"account is disabled", "account closed", "host or domain name not found",
	"domain not found", "host not found", "name service error", "adresse inconnue",
	"adresse introuvable", "adresse invalide", "destinataire inconnu", "utilisateur inconnu",
	"n'existe pas", "n'existe plus", "compte desactive", NULL
};

/* Where the copy of the original message starts in a text bounce. */
static const char *const bounce_original_marks[] = {
	"------ This is a copy of the message", "--- Below this line is a copy of the message",
	"----- Original message", "-----Original Message", "Original message headers:",
	"------ The header of the original message", "-----Message d'origine",
	"----- Message d'origine", "------ Message d'origine", NULL
};

/* Kind from the words alone; *why_r gets the phrase that decided. */
static enum bounce_kind
bounce_kind_words(const char *folded, const char *status, const char **why_r)
{
	if ((*why_r = bounce_match(folded, bounce_spam_words)) != NULL)
		return BOUNCE_SPAM;
	if (strncmp(status, "5.7.", 4) == 0 &&
	    (*why_r = bounce_match(folded, bounce_policy_words)) != NULL)
		return BOUNCE_SPAM;
	if ((*why_r = bounce_match(folded, bounce_soft_words)) != NULL)
		return BOUNCE_SOFT;
	if ((*why_r = bounce_match(folded, bounce_hard_words)) != NULL)
		return BOUNCE_HARD;
	return BOUNCE_UNKNOWN;
}

/* Kind from an enhanced status code, else from an SMTP code's first digit. */
static enum bounce_kind
bounce_kind_status(const char *status, int code)
{
	if (strcmp(status, "5.2.2") == 0 || strcmp(status, "5.2.3") == 0 ||
	    strcmp(status, "5.3.4") == 0 || status[0] == '4')
		return BOUNCE_SOFT;		/* full mailbox, message too big, temporary */
	if (status[0] == '5')
		return BOUNCE_HARD;
	if (status[0] == '\0' && code == 5)
		return BOUNCE_HARD;
	if (status[0] == '\0' && code == 4)
		return BOUNCE_SOFT;
	return BOUNCE_UNKNOWN;
}

/* ---- the message as text ---- */

struct bounce_text {
	char	*human;		/* human-readable part, cut before the original */
	char	*folded;	/* subject + human, folded for matching */
	char	 from[256];	/* the bounce's own From address */
	char	 to[256];	/* its To address (our VERP address) */
	char	 failed[256];	/* X-Failed-Recipients (Exim) */
	int	 vacation;	/* a personal auto-reply, not a bounce */
};

static void
bounce_text_cut(char *human)
{
	for (size_t i = 0; bounce_original_marks[i] != NULL; i++) {
		char *p = strcasestr(human, bounce_original_marks[i]);

		if (p != NULL)
			*p = '\0';
	}
	if (strlen(human) > BOUNCE_TEXT_MAX)
		human[BOUNCE_TEXT_MAX] = '\0';
}

/* First address in s into out ("" if none). */
static void
bounce_header_addr(char *out, size_t n, const char *s)
{
	const char *at;

	out[0] = '\0';
	for (at = s ? strchr(s, '@') : NULL; at != NULL; at = strchr(at + 1, '@'))
		if (bounce_addr_at(s, at, out, n))
			return;
}

/* Headers and human text from the MIME adapter. 0, or -1 if unparsable. */
static int
bounce_text_mime(const char *data, size_t len, struct bounce_text *t, char **subject_r)
{
	struct mime_msg *m = NULL;
	const char *err, *why;
	char *h;
	int html = 0;

	if (mime_parse(data, len, &m, &err) == -1)
		return -1;
	*subject_r = mime_subject(m);
	h = mime_from_address(m);
	bounce_header_addr(t->from, sizeof t->from, h);
	free(h);
	h = mime_header(m, "To");
	bounce_header_addr(t->to, sizeof t->to, h);
	free(h);
	h = mime_header(m, "X-Failed-Recipients");
	bounce_header_addr(t->failed, sizeof t->failed, h);
	free(h);
	t->vacation = autoreply_classify(m, NULL, &why) == AUTO_REPLY;
	t->human = mime_text_plain(m, &html);
	if (t->human != NULL && html) {
		h = html_to_text(t->human);
		free(t->human);
		t->human = h;
	}
	mime_free(&m);
	return 0;
}

static void
bounce_text_load(const char *data, size_t len, struct bounce_text *t)
{
	char *subject = NULL, *all;

	memset(t, 0, sizeof *t);
	if (bounce_text_mime(data, len, t, &subject) == -1) {
		const char *body = memmem(data, len, "\n\n", 2);

		body = body != NULL ? body + 2 : data;
		t->human = xstrndup(body, len - (size_t)(body - data));
	}
	if (t->human == NULL)
		t->human = xstrdup("");
	bounce_text_cut(t->human);
	all = xasprintf("%s\n%s", subject ? subject : "", t->human);
	t->folded = bounce_fold(all);
	free(all);
	free(subject);
}

static void
bounce_text_free(struct bounce_text *t)
{
	free(t->human);
	free(t->folded);
	memset(t, 0, sizeof *t);
}

/* Is this address the failed recipient rather than a machine or us? */
static int
bounce_addr_wanted(const struct bounce_text *t, const char *a)
{
	return strcmp(a, t->from) != 0 && strcmp(a, t->to) != 0 &&
	    !str_has_prefix_ci(a, "mailer-daemon@") && !str_has_prefix_ci(a, "postmaster@") &&
	    !str_has_prefix_ci(a, "noreply@") && !str_has_prefix_ci(a, "no-reply@");
}

static void
bounce_text_recipient(const struct bounce_text *t, struct bounce_info *bi)
{
	const char *s = t->human, *at;

	if (t->failed[0] != '\0') {
		snprintf(bi->recipient, sizeof bi->recipient, "%s", t->failed);
		return;
	}
	for (at = strchr(s, '@'); at != NULL; at = strchr(at + 1, '@'))
		if (bounce_addr_at(s, at, bi->recipient, sizeof bi->recipient) &&
		    bounce_addr_wanted(t, bi->recipient))
			return;
	bi->recipient[0] = '\0';
}

/* Copy from p to the end of its line, with up to three indented
 * continuation lines (Postfix folds the server's reply so), into the
 * diagnostic. */
static void
bounce_diag_from(const char *p, struct bounce_info *bi)
{
	const char *e;

	while (*p == ' ' || *p == '\t')
		p++;
	e = p;
	for (int lines = 0; lines < 4; lines++) {
		const char *nl = strchr(e, '\n');

		if (nl == NULL) {
			e += strlen(e);
			break;
		}
		e = nl;
		if (nl[1] != ' ' && nl[1] != '\t')
			break;
		e = nl + 1;
	}
	bounce_copy(bi->diagnostic, sizeof bi->diagnostic, p, (size_t)(e - p));
}

/* The first line that starts with an SMTP reply code (after blanks). */
static const char *
bounce_code_line(const char *s)
{
	for (const char *l = s; l != NULL && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		const char *p = l;

		while (*p == ' ' || *p == '\t')
			p++;
		if ((p[0] == '4' || p[0] == '5') && bounce_isdigit(p[1]) && bounce_isdigit(p[2]) &&
		    (p[3] == ' ' || p[3] == '-'))
			return p;
	}
	return NULL;
}

/* The first line whose folded form holds the phrase. */
static const char *
bounce_phrase_line(const char *s, const char *phrase)
{
	for (const char *l = s; l != NULL && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		const char *nl = strchr(l, '\n');
		char *line = xstrndup(l, nl ? (size_t)(nl - l) : strlen(l)), *f = bounce_fold(line);
		int hit = strstr(f, phrase) != NULL;

		free(line);
		free(f);
		if (hit)
			return l;
	}
	return NULL;
}

/* The server's own words: a quoted reply (Exchange), "said:" (Postfix,
 * qmail), a line with a reply code (Exim, Gmail), or the deciding line. */
static void
bounce_text_diagnostic(const struct bounce_text *t, const char *why, struct bounce_info *bi)
{
	const char *s = t->human, *p;

	if ((p = strcasestr(s, "returned '")) != NULL) {
		const char *q = strchr(p + 10, '\'');

		bounce_copy(bi->diagnostic, sizeof bi->diagnostic, p + 10,
		    q ? (size_t)(q - p - 10) : strlen(p + 10));
	} else if ((p = strcasestr(s, "said:")) != NULL)
		bounce_diag_from(p + 5, bi);
	else if ((p = bounce_code_line(s)) != NULL || (p = bounce_code_at(s)) != NULL)
		bounce_diag_from(p, bi);
	else if (why != NULL && (p = bounce_phrase_line(s, why)) != NULL)
		bounce_diag_from(p, bi);
	else if (why != NULL)
		snprintf(bi->diagnostic, sizeof bi->diagnostic, "%s", why);
}

/* ---- classification ---- */

static enum bounce_kind
bounce_kind_dsn(const struct bounce_dsn *d, const struct bounce_text *t, const char **why_r)
{
	enum bounce_kind k;
	char *f;

	*why_r = NULL;
	if (strcmp(d->action, "delayed") == 0)
		return BOUNCE_DELAYED;
	if (d->rank == 1)
		return BOUNCE_UNKNOWN;		/* delivered, relayed, expanded */
	f = bounce_fold(d->diag);
	k = bounce_kind_words(f, d->status, why_r);
	free(f);
	if (k == BOUNCE_UNKNOWN && (d->status[0] == '\0' || strncmp(d->status, "5.7.", 4) == 0))
		k = bounce_kind_words(t->folded, d->status, why_r);
	if (k == BOUNCE_UNKNOWN)
		k = bounce_kind_status(d->status, bounce_find_code(d->diag));
	return k != BOUNCE_UNKNOWN ? k : BOUNCE_HARD;	/* failed, for no stated reason */
}

static int
bounce_text_is_bounce(const struct bounce_text *t)
{
	return t->failed[0] != '\0' || str_has_prefix_ci(t->from, "mailer-daemon@") ||
	    str_has_prefix_ci(t->from, "postmaster@") ||
	    bounce_match(t->folded, bounce_failure_words) != NULL;
}

static enum bounce_kind
bounce_kind_text(const struct bounce_text *t, struct bounce_info *bi, const char **why_r)
{
	enum bounce_kind k;

	*why_r = NULL;
	if (t->vacation)
		return BOUNCE_UNKNOWN;
	if ((*why_r = bounce_match(t->folded, bounce_delay_words)) != NULL)
		return BOUNCE_DELAYED;
	if (!bounce_text_is_bounce(t))
		return BOUNCE_UNKNOWN;
	bounce_find_status(t->folded, bi->status, sizeof bi->status);
	if ((k = bounce_kind_words(t->folded, bi->status, why_r)) != BOUNCE_UNKNOWN)
		return k;
	k = bounce_kind_status(bi->status, bounce_find_code(t->folded));
	return k != BOUNCE_UNKNOWN ? k : BOUNCE_SOFT;	/* a failure of unknown cause */
}

void
bounce_classify(const char *data, size_t len, struct bounce_info *bi)
{
	struct bounce_text t;
	struct bounce_dsn d;
	const char *why = NULL;
	char *block = bounce_dsn_block(data, len);

	memset(bi, 0, sizeof *bi);
	memset(&d, 0, sizeof d);
	bounce_text_load(data, len, &t);
	if (block != NULL)
		bounce_dsn_parse(block, &d);
	free(block);
	if (d.rank > 0) {
		bi->kind = bounce_kind_dsn(&d, &t, &why);
		snprintf(bi->status, sizeof bi->status, "%s", d.status);
		snprintf(bi->recipient, sizeof bi->recipient, "%s", d.rcpt);
		snprintf(bi->diagnostic, sizeof bi->diagnostic, "%s", d.diag);
	} else
		bi->kind = bounce_kind_text(&t, bi, &why);
	if (bi->kind != BOUNCE_UNKNOWN || d.rank > 0) {
		if (bi->recipient[0] == '\0')
			bounce_text_recipient(&t, bi);
		if (bi->diagnostic[0] == '\0')
			bounce_text_diagnostic(&t, why, bi);
		if (bi->status[0] == '\0')
			bounce_find_status(bi->diagnostic, bi->status, sizeof bi->status);
	}
	bounce_text_free(&t);
}

const char *
bounce_kind_name(enum bounce_kind kind)
{
	static const char *const names[] = { "unknown", "hard", "soft", "delayed", "spam" };

	return (unsigned)kind < nitems(names) ? names[kind] : "unknown";
}

/* ---- accounting ---- */

struct bounce_target {
	int64_t	 delivery_id;
	int64_t	 contact_id;	/* 0: not a contact (editor, subscriber, notice) */
};

struct bounce_contact {
	char	*name;
	char	*email;
	char	*committee;
	int64_t	 committee_id;
};

/* 1 found, 0 unknown token, -1 database error. */
static int
bounce_lookup(struct engine *e, const char *verp, struct bounce_target *bt)
{
	struct db_stmt *st = db_query(e->db, "SELECT id, coalesce(contact_id, 0) FROM delivery"
	    " WHERE verp = ?", "s", verp);
	int rc;

	if (st == NULL)
		return -1;
	if ((rc = db_step(st)) == 1) {
		bt->delivery_id = db_col_int(st, 0);
		bt->contact_id = db_col_int(st, 1);
	}
	db_finalize(&st);
	return rc;
}

/* What the office and the roster read: "5.1.1 <server's words>". */
static void
bounce_error_text(const struct bounce_info *bi, char *out, size_t n)
{
	if (bi->diagnostic[0] == '\0')
		snprintf(out, n, "%s%s%s", bi->status, bi->status[0] ? " " : "",
		    bounce_kind_name(bi->kind));
	else if (bi->status[0] != '\0' && strstr(bi->diagnostic, bi->status) == NULL)
		snprintf(out, n, "%s %s", bi->status, bi->diagnostic);
	else
		snprintf(out, n, "%s", bi->diagnostic);
}

/* Score this bounce may add, in halves: a delivery counts once, at its
 * worst; -1 on a database error. */
static int
bounce_halves(struct engine *e, const struct bounce_target *bt, enum bounce_kind kind)
{
	int want = kind == BOUNCE_HARD ? 2 : kind == BOUNCE_SOFT ? 1 : 0;
	int64_t done;

	if (want == 0 || bt->contact_id == 0)
		return 0;
	if (db_int(e->db, &done, "SELECT CAST(round(coalesce(sum(score), 0) * 2) AS INTEGER)"
	    " FROM bounce WHERE delivery_id = ?", "i", bt->delivery_id) == -1)
		return -1;
	return done >= want ? 0 : want - (int)done;
}

static int
bounce_record(struct engine *e, const struct bounce_target *bt, const struct bounce_info *bi,
    int halves, const char *error)
{
	int64_t t = now();

	if (db_run(e->db, "INSERT INTO bounce (delivery_id, contact_id, received, kind, status,"
	    " diagnostic, score) VALUES (?, nullif(?, 0), ?, ?, ?, ?, ? / 2.0)", "iiisssd",
	    bt->delivery_id, bt->contact_id, t, bounce_kind_name(bi->kind), bi->status,
	    bi->diagnostic, halves) == -1)
		return -1;
	if (bi->kind != BOUNCE_HARD && bi->kind != BOUNCE_SOFT && bi->kind != BOUNCE_SPAM)
		return 0;
	return db_run(e->db, "UPDATE delivery SET state = 'failed', last_reply = ?, updated = ?"
	    " WHERE id = ?", "sii", error, t, bt->delivery_id);
}

/* Decay (halve per full stale period since the last change), then add. */
static int
bounce_score_add(struct engine *e, int64_t contact_id, int halves)
{
	int64_t t = now(), stale = e->cf->bounce_info_stale_after, div = 1, updated;

	if (db_int(e->db, &updated, "SELECT coalesce(bounce_updated, 0) FROM contact WHERE"
	    " id = ?", "i", contact_id) == -1)
		return -1;
	if (updated > 0 && stale > 0 && t > updated) {
		int64_t periods = (t - updated) / stale;

		div = (int64_t)1 << (periods > 62 ? 62 : periods);
	}
	return db_run(e->db, "UPDATE contact SET bounce_score = bounce_score / ? + ? / 2.0,"
	    " bounce_updated = ? WHERE id = ?", "idii", div, halves, t, contact_id);
}

static int
bounce_contact_get(struct engine *e, int64_t id, struct bounce_contact *c)
{
	struct db_stmt *st = db_query(e->db, "SELECT c.name, c.email, m.name, m.id FROM contact c"
	    " JOIN committee m ON m.id = c.committee_id WHERE c.id = ?", "i", id);
	int rc;

	memset(c, 0, sizeof *c);
	if (st == NULL)
		return -1;
	if ((rc = db_step(st)) == 1) {
		c->name = xstrdup(db_col_text(st, 0));
		c->email = xstrdup(db_col_text(st, 1));
		c->committee = xstrdup(db_col_text(st, 2));
		c->committee_id = db_col_int(st, 3);
	}
	db_finalize(&st);
	return rc == 1 ? 0 : -1;
}

static void
bounce_contact_clear(struct bounce_contact *c)
{
	free(c->name);
	free(c->email);
	free(c->committee);
	memset(c, 0, sizeof *c);
}

/* ---- telling the office ---- */

static void
bounce_notice_vars(struct engine *e, struct tmpl_dict *d, const struct bounce_contact *c,
    const char *error, int64_t left)
{
	tmpl_set(d, "NAME", c->name[0] ? c->name : c->email);
	tmpl_set(d, "EMAIL", c->email);
	tmpl_set(d, "COMMITTEE", c->committee);
	tmpl_set(d, "ERROR", error);
	tmpl_set_int(d, "LEFT", left);
	tmpl_set_int(d, "MIN", e->cf->min_contacts);
	if (left < e->cf->min_contacts)
		tmpl_show_section(d, "UNDER");
	if (left == 0)
		tmpl_show_section(d, "NONE");
}

/* Queue one notice to the office (one delivery per address). No office
 * to tell is logged, never a reason to keep a dead address active; a
 * notice that cannot be rendered or queued returns -1 like any failure of
 * a handler (engine.h). The office is not rate-limited. */
static int
bounce_tell_office(struct engine *e, const struct bounce_contact *c, const char *error)
{
	const char *hdrs[] = { "Auto-Submitted", "auto-generated", "X-Loop", e->list_addr, NULL };
	int64_t left = roster_active_count(e->db, c->committee_id);
	struct tmpl_dict *d = tmpl_dict_new();
	struct queue_rcpt *rcpts;
	char **office, *subject = NULL, *body = NULL, *msg = NULL, token[33];
	const char *err = NULL;
	size_t n, len;
	int rc = 0;

	bounce_notice_vars(e, d, c, error, left);
	office = roster_office(e->db, e->cf->admin_address, &n);
	if (n == 0)
		log_warnx("notice=contact-disabled status=error reason=\"no admin_address and no"
		    " national sender\"");
	else if (notice_render_dict(e, "contact-disabled", d, &subject, &body, &err) == -1) {
		log_warnx("notice=contact-disabled status=error reason=\"%s\"", err);
		rc = engine_failf(e, "notice contact-disabled: %s", err);	/* retried (engine.h) */
	} else {
		struct buf to;

		buf_init(&to);
		rcpts = xcalloc(n, sizeof *rcpts);
		for (size_t i = 0; i < n; i++) {
			buf_printf(&to, "%s%s", i ? ", " : "", office[i]);
			rcpts[i].email = office[i];
		}
		msg = mime_build_text(e->cf->list_name, e->request_addr, buf_cstr(&to), subject,
		    body, hdrs, 1, &len);
		if (msg != NULL && queue_message(e, "notice", subject, msg, len, rcpts, n,
		    token) == -1)
			rc = -1;
		free(rcpts);
		buf_free(&to);
	}
	for (size_t i = 0; i < n; i++)
		free(office[i]);
	free(office);
	free(msg);
	free(subject);
	free(body);
	tmpl_dict_free(&d);
	return rc;
}

/* Over the threshold and still active: disable and tell the office. */
static int
bounce_maybe_disable(struct engine *e, int64_t contact_id, const char *error)
{
	struct bounce_contact c;
	int64_t over;
	char *reason;
	int rc;

	if (db_int(e->db, &over, "SELECT active = 1 AND bounce_score >= ? FROM contact WHERE"
	    " id = ?", "ii", (int64_t)e->cf->bounce_score_threshold, contact_id) == -1)
		return -1;
	if (over != 1)
		return 0;
	if (bounce_contact_get(e, contact_id, &c) == -1)
		return -1;
	reason = xasprintf("bounces: %s", error);
	rc = db_run(e->db, "UPDATE contact SET active = 0, disabled_reason = ? WHERE id = ?",
	    "si", reason, contact_id);
	if (rc == 0) {
		roster_audit(e->db, "contact %s (%s) disabled: %s", c.email, c.committee, reason);
		engine_logf(e, "contact=%s committee=%s status=disabled reason=\"%s\"", c.email,
		    c.committee, reason);
		rc = bounce_tell_office(e, &c, error);
	}
	free(reason);
	bounce_contact_clear(&c);
	return rc;
}

/* Everything one bounce changes, inside the caller's transaction. */
static int
bounce_apply(struct engine *e, const struct bounce_target *bt, const struct bounce_info *bi,
    const char *error, int *halves_r)
{
	int failure = bi->kind == BOUNCE_HARD || bi->kind == BOUNCE_SOFT ||
	    bi->kind == BOUNCE_SPAM;

	if ((*halves_r = bounce_halves(e, bt, bi->kind)) == -1 ||
	    bounce_record(e, bt, bi, *halves_r, error) == -1)
		return -1;
	if (bt->contact_id == 0)
		return 0;
	if (failure && db_run(e->db, "UPDATE contact SET last_error = ? WHERE id = ?", "si",
	    error, bt->contact_id) == -1)
		return -1;
	if (*halves_r > 0 && bounce_score_add(e, bt->contact_id, *halves_r) == -1)
		return -1;
	return bounce_maybe_disable(e, bt->contact_id, error);
}

struct bounce_ctx {
	struct bounce_target	bt;
	struct bounce_info	bi;
	char			error[600];
	int			halves;
};

/* engine_txn_fn: everything one bounce changes. */
static enum engine_result
bounce_txn(struct engine *e, const struct inmsg *in, void *arg, const char **error_r)
{
	struct bounce_ctx *b = arg;

	(void)in;
	if (bounce_apply(e, &b->bt, &b->bi, b->error, &b->halves) == -1)
		return engine_dberr(e, error_r);
	return ENGINE_DONE;
}

enum engine_result
bounce_accept(struct engine *e, const struct inmsg *in, const char **error_r)
{
	struct bounce_ctx b;
	enum engine_result r;
	int found;

	memset(&b, 0, sizeof b);
	if (in->ext == NULL || *in->ext == '\0' ||
	    (found = bounce_lookup(e, in->ext, &b.bt)) == 0) {
		log_info("spoolid=%s rcpt=%s bounce=dropped reason=unknown-token", in->spool_id,
		    in->rcpt);
		return ENGINE_DONE;
	}
	if (found == -1)
		return engine_dberr(e, error_r);
	bounce_classify(in->data, in->len, &b.bi);
	bounce_error_text(&b.bi, b.error, sizeof b.error);
	if ((r = engine_run(e, in, bounce_txn, &b, error_r)) != ENGINE_DONE)
		return r;
	log_info("spoolid=%s delivery=%lld contact=%lld bounce=%s status=%s score=+%.1f"
	    " reason=\"%s\"", in->spool_id, (long long)b.bt.delivery_id,
	    (long long)b.bt.contact_id, bounce_kind_name(b.bi.kind),
	    b.bi.status[0] ? b.bi.status : "-", b.halves / 2.0, b.error);
	return ENGINE_DONE;
}
