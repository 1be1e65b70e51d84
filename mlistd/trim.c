/*
 * trim.c — extract the new text of an emailed reply (see trim.h).
 *
 * How it works. The text is split into lines; a wrapped attribution line
 * ("Le lun. 12 mars 2026 à 10:15, Jean <j@example.org> a\nécrit :") is first
 * joined back into one logical line. Each logical line gets a class letter:
 *
 *   e empty            g signature delimiter ("-- ")   d other delimiter ("____")
 *   s phone signature  x legal disclaimer               b embedded-mail marker
 *   f From-like header h other mail header              q quoted (">")
 *   t text (also every line of a ``` code block)
 *
 * Rules then run over that string of letters, each one a linear scan: cut at
 * the signature delimiter and the disclaimer; drop phone signatures; drop a
 * leading attribution + quote when the answer is below it; cut at an
 * attribution that follows the new text; cut at a header block (three header
 * lines or more including a From-like one); drop trailing quotes. The idea of
 * classifying lines and matching rules over the class string comes from
 * discourse/email_reply_trimmer (MIT); the code and the French rules are ours.
 *
 * Classification works on a folded copy of each line (lower case, French
 * accents removed, no-break spaces made plain), so "Envoyé", "ENVOYE" and
 * "envoyé" match alike. Lines longer than TRIM_CLASSIFY_MAX bytes are never
 * markers: they are text or quote, which keeps the time linear.
 *
 * A real report may contain lines that look like mail markers ("Date :
 * samedi 14 mars", "-----" under a title, "Le 12 mars, le maire a écrit :").
 * The patterns therefore ask for evidence (a time or an address for
 * attributions; a From-like line among three headers for a header block) and
 * plain delimiter lines are kept unless they trail the text.
 */
#include <sys/types.h>

#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "trim.h"
#include "util.h"

enum {
	TRIM_CLASSIFY_MAX = 1000,	/* longer lines are text or quote */
	TRIM_SIGNATURE_MAX = 200,	/* a phone signature is short */
	TRIM_JOIN_LINES = 5,		/* continuation lines of an attribution */
	TRIM_JOIN_MAX = 600,		/* bytes of a joined attribution */
};

/* A pattern and whether a match needs evidence (a time or an address). */
struct trim_pattern {
	const char	*re;
	int		 evidence;
};

/* Phone/app signatures and antivirus/eco footers: the line is dropped. */
static const struct trim_pattern trim_sig_pat[] = {
	{ "^[[:blank:]]*從我的 iphone 傳送", 0 },
	{ "^[[:blank:]]*[^[:blank:]]+ from mobile[[:blank:]]*$", 0 },
	{ "^[[:blank:]]*[(<]*sent (from|via|with|by) .+", 0 },
	{ "^[[:blank:]]*from my (iphone|ipad|ipod|android|mobile|phone|cell|"
	  "smartphone|samsung|galaxy|blackberry|windows phone)", 0 },
	{ "^[[:blank:]]*get outlook for ", 0 },
	{ "^[[:blank:]]*(obtenir|telecharger|telechargez) outlook pour ", 0 },
	{ "^[[:blank:]]*envoye (de|depuis|a partir de|avec|via|par) "
	  "(mon |ma |l'|l’|yahoo|outlook|courrier|mail|orange|sfr|free|gmail|"
	  "bluemail|blue mail|spark|proton|aqua|k-9|samsung|iphone|ipad|android|"
	  "laposte|la poste|zimbra|webmail|bbox|bouygues|thunderbird)", 0 },
	/* the webmails' and antivirus' footers of French providers */
	{ "^[[:blank:]]*(orange vous informe que cet|aucun virus connu a ce jour)", 0 },
	{ "^[[:blank:]]*laposte\\.net[[:blank:]]*:", 0 },
	{ "^[[:blank:]]*provenance[[:blank:]]*:[[:blank:]]*courrier pour windows", 0 },
	{ "^[[:blank:]]*(garanti sans virus|virus-free|"
	  "ce (courrier electronique|courriel|message) ne contient aucun virus|"
	  "this email has been checked for viruses)", 0 },
	{ "^[[:blank:]]*(merci de |pensez a |please consider )?"
	  "(penser a l('|’)environnement|l('|’)environnement avant d('|’)imprimer|"
	  "avant d('|’)imprimer|the environment before printing)", 0 },
	{ "^[[:blank:]]*von meinem .+ gesendet", 0 },
	{ "^[[:blank:]]*diese nachricht wurde von .+ gesendet", 0 },
	{ "^[[:blank:]]*(inviato da|sendt fra min|enviado do meu|enviado desde mi|"
	  "verzonden met|verstuurd vanaf mijn|fran min) ", 0 },
};

/* Legal disclaimers: everything from here on is dropped. */
static const struct trim_pattern trim_disclaimer_pat[] = {
	{ "^[[:blank:]*]*(ce|le present) (message|courriel|e-?mail|courrier electronique)"
	  "( electronique)? et (toutes |tous )?(les |ses )?"
	  "(pieces jointes|fichiers|documents)", 0 },
	{ "^[[:blank:]*]*(ce|le present) (message|courriel|e-?mail|courrier electronique)"
	  "( electronique)?( \\(y compris [^)]*\\))? (est|sont) (strictement )?"
	  "(confidentiel|prive)", 0 },
	{ "^[[:blank:]*]*les informations contenues dans ce (message|courriel|e-?mail)", 0 },
	{ "^[[:blank:]*]*this (e-?mail|message)( and any (attachments|files))? "
	  "(and any (attachments|files)|is confidential|may (contain|be) "
	  "(confidential|privileged))", 0 },
	{ "^[[:blank:]*]*the information (contained )?in this (e-?mail|message)", 0 },
	{ "^[[:blank:]*]*(confidentiality notice|avis de confidentialite|"
	  "avertissement de confidentialite)", 0 },
	{ "^[[:blank:]*]*disclaimer[[:blank:]]*:?[[:blank:]]*$", 0 },
};

#define TRIM_WROTE "(wrote|writes|says|said|a[[:blank:]]+ecrit|schrieben sie|" \
	"geschrieben|ha scritto|napisał(\\(a\\))?|escreveu|escribio)"

/* Markers of an embedded (quoted or forwarded) message. */
static const struct trim_pattern trim_embedded_pat[] = {
	/* On <date>, <someone> wrote: / Le <date>, <quelqu'un> a écrit : */
	{ "^[[:blank:]<>-]*(on|at|le|am|op|il|dnia|dňa|em|el|in message)"
	  "[[:blank:]].*[[:blank:],\"'>]" TRIM_WROTE "[[:blank:].:>-]*$", 1 },
	{ "^[[:blank:]<>-]*(op|am|den|søn\\.|son\\.)[[:blank:]].+[[:blank:]]"
	  "(schreef|schrieb|skrev)[[:blank:]][^:]+:", 1 },
	{ "^[[:blank:]<>-]*op[[:blank:]].+het volgende geschreven"
	  "[[:blank:].:>-]*$", 1 },
	/* <date> <someone> napisał(a): / написал: / пише: */
	{ "[0-9]{4}.+(написал|napisał\\(a\\)|пише)[[:blank:]]*:", 0 },
	/* 2013/7/20 someone <a@b.c> ; <date>, <time>, someone <a@b.c>: */
	{ "^[[:blank:]>]*[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}.*"
	  "<[^@<>]+@[^@<>.]+\\.[^@<>]+>:?[[:blank:]]*$", 0 },
	{ "[0-9]{4}.+<[^@<>]+@[^@<>.]+\\.[^@<>]+>[[:blank:]]*:"
	  "[[:blank:]]*$", 1 },
	/* Someone <a@b.c> schrieb am <date>: */
	{ "^.+[[:blank:]](wrote|schrieb|a ecrit)[[:blank:]]+(on|am|le)"
	  "[[:blank:]].*[0-9].*:[[:blank:]]*$", 1 },
	{ "^[[:blank:]>]*20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} "
	  "gmt\\+[0-9]{2}:[0-9]{2} [[:alnum:]_[:blank:]]+$", 0 },
	{ "^.+ via .+ (wrote|schrieb|a ecrit)[[:blank:]]*:?[[:blank:]]*$", 0 },
	{ "^.*[[:alnum:]._+-]+@[[:alnum:].-]+\\.[[:alnum:]]{2,}.*[[:blank:]]"
	  "(wrote|a ecrit)[[:blank:]]*:?[[:blank:]]*$", 0 },
	{ "^[[:blank:]>]*posted by .+ on [0-9]{2}/[0-9]{2}/[0-9]{4}$", 0 },
	/* Forwarded and original messages. */
	{ "^[[:blank:]>]*begin forwarded message[[:blank:]]*:", 0 },
	{ "^[[:blank:]>]*debut du message (transfere|reexpedie)[[:blank:]]*:", 0 },
	{ "^[[:blank:]>*]*-{2,}[[:blank:]]*((forwarded|original|reply) message|"
	  "message transfere|message d('|’)origine|message original|mail original|"
	  "courriel original|ursprungliche nachricht|weitergeleitete nachricht|"
	  "mensaje original|messaggio originale|messaggio inoltrato|原始邮件)"
	  "[[:blank:]]*-{2,}", 0 },
	{ "^[[:blank:]>]*message du [0-9]{1,2}/[0-9]{1,2}/[0-9]{2,4}", 0 },
	{ "^[[:blank:]<>-]*在 .+写道", 0 },
};

/* Mail header lines: From-like ones, then the others. */
static const struct trim_pattern trim_from_pat[] = {
	{ "^[[:blank:]*]*(from|de|expediteur|von|da|van|fra|fran|发件人)"
	  "[[:blank:]*]*:.*[^[:space:][:punct:]]", 0 },
};

static const struct trim_pattern trim_header_pat[] = {
	{ "^[[:blank:]*]*(sendt|sent|date|le|gesendet|enviada em|enviado|fecha|"
	  "data|datum|skickat|envoye|envoye le|发送时间)[[:blank:]*]*:.*[0-9]", 0 },
	{ "^[[:blank:]*]*(to|cc|bcc|cci|reply-to|subject|a|destinataire|"
	  "destinataires|repondre a|objet|sujet|pour|copie a|an|betreff|para|assunto|asunto|"
	  "risposta|oggetto|beantwoorden - aan|aan|onderwerp|til|emne|till|amne|"
	  "收件人|主题|抄送)[[:blank:]*]*:.*[^[:space:][:punct:]]", 0 },
};

struct trim_table {
	const struct trim_pattern	*pat;
	size_t				 n;
	regex_t				*re;
	char				*ok;	/* compiled? */
};

static struct trim_table trim_tables[] = {
	{ trim_sig_pat, nitems(trim_sig_pat), NULL, NULL },
	{ trim_disclaimer_pat, nitems(trim_disclaimer_pat), NULL, NULL },
	{ trim_embedded_pat, nitems(trim_embedded_pat), NULL, NULL },
	{ trim_from_pat, nitems(trim_from_pat), NULL, NULL },
	{ trim_header_pat, nitems(trim_header_pat), NULL, NULL },
};
enum { TT_SIG, TT_DISCLAIMER, TT_EMBEDDED, TT_FROM, TT_HEADER };

static pthread_once_t trim_once = PTHREAD_ONCE_INIT;

/* Compile every table once; a pattern that fails is logged and skipped. */
static void
trim_compile(void)
{
	for (size_t t = 0; t < nitems(trim_tables); t++) {
		struct trim_table *tt = &trim_tables[t];

		tt->re = xcalloc(tt->n, sizeof(*tt->re));
		tt->ok = xcalloc(tt->n, 1);
		for (size_t i = 0; i < tt->n; i++) {
			int rc = regcomp(&tt->re[i], tt->pat[i].re,
			    REG_EXTENDED | REG_NOSUB | REG_NEWLINE);
			if (rc == 0)
				tt->ok[i] = 1;
			else
				log_warnx("trim: pattern=%zu/%zu error=%d", t, i, rc);
		}
	}
}

/* A time ("10:15", "20.42", "10h15") or an address in the line? */
static int
trim_has_evidence(const char *s)
{
	if (strchr(s, '@') != NULL)
		return 1;
	for (; *s; s++) {
		const char *p = s;
		size_t n = 0;

		while (*p >= '0' && *p <= '9' && n < 3)
			p++, n++;
		if (n < 1 || n > 2)
			continue;
		if ((*p == ':' || *p == '.' || *p == 'h') &&
		    p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9')
			return 1;
	}
	return 0;
}

static int
trim_match(int table, const char *folded)
{
	const struct trim_table *tt = &trim_tables[table];

	for (size_t i = 0; i < tt->n; i++) {
		if (!tt->ok[i] || regexec(&tt->re[i], folded, 0, NULL, 0) != 0)
			continue;
		if (!tt->pat[i].evidence || trim_has_evidence(folded))
			return 1;
	}
	return 0;
}

/* Lower case, French accents removed, no-break spaces and tabs as spaces. */
static char *
trim_fold(const char *line)
{
	char *f = str_fold(line), *r = f, *w = f;

	while (*r) {
		if ((unsigned char)r[0] == 0xc2 && (unsigned char)r[1] == 0xa0) {
			*w++ = ' ';
			r += 2;
		} else if ((unsigned char)r[0] == 0xe2 && (unsigned char)r[1] == 0x80 &&
		    (unsigned char)r[2] == 0xaf) {
			*w++ = ' ';
			r += 3;
		} else
			*w++ = *r++;
	}
	*w = '\0';
	return f;
}

/* "[label](url)" -> "label", as signatures arrive from Markdown-ish clients. */
static char *
trim_strip_md_links(const char *s)
{
	struct buf b;

	buf_init(&b);
	while (*s) {
		const char *close = NULL, *end = NULL;

		if (*s == '[' && (close = strstr(s, "](")) != NULL &&
		    memchr(s, '\n', (size_t)(close - s)) == NULL &&
		    (end = strchr(close, ')')) != NULL) {
			buf_add(&b, s + 1, (size_t)(close - s - 1));
			s = end + 1;
			continue;
		}
		buf_addc(&b, *s++);
	}
	buf_addc(&b, '\0');
	return buf_steal(&b);
}

static int
trim_is_blank_line(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\f' && *s != '\v')
			return 0;
	return 1;
}

static int
trim_is_quote_line(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return *s == '>';
}

/* "--" or "-- " alone: the usenet signature delimiter. */
static int
trim_is_sigdash(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	if (s[0] != '-' || s[1] != '-')
		return 0;
	return trim_is_blank_line(s + 2);
}

/* Only delimiter characters: - _ , = + ~ # * — ᐧ */
static int
trim_is_delimiter(const char *s)
{
	int any = 0;

	while (*s) {
		if (*s == ' ' || *s == '\t') {
			s++;
		} else if (strchr("-_,=+~#*", *s) != NULL) {
			s++, any = 1;
		} else if (strncmp(s, "—", 3) == 0 || strncmp(s, "ᐧ", 3) == 0) {
			s += 3, any = 1;
		} else
			return 0;
	}
	return any;
}

static int
trim_is_signature(const char *folded)
{
	char *plain;
	int r;

	if (strlen(folded) > TRIM_SIGNATURE_MAX)
		return 0;
	plain = trim_strip_md_links(folded);
	r = trim_match(TT_SIG, plain);
	free(plain);
	return r;
}

/* The class letter of one logical line (see the top of the file). */
static char
trim_classify(const char *line)
{
	char *folded;
	char c = 't';

	if (trim_is_blank_line(line))
		return 'e';
	if (strlen(line) > TRIM_CLASSIFY_MAX)
		return trim_is_quote_line(line) ? 'q' : 't';
	if (trim_is_sigdash(line))
		return 'g';
	if (trim_is_delimiter(line))
		return 'd';
	folded = trim_fold(line);
	if (trim_is_signature(folded))
		c = 's';
	else if (trim_match(TT_DISCLAIMER, folded))
		c = 'x';
	else if (trim_match(TT_EMBEDDED, folded))
		c = 'b';
	else if (trim_match(TT_FROM, folded))
		c = 'f';
	else if (trim_match(TT_HEADER, folded))
		c = 'h';
	else if (trim_is_quote_line(line))
		c = 'q';
	free(folded);
	return c;
}

/* ---- the document: physical lines, then logical lines with classes ---- */

struct trim_doc {
	char	**line;		/* logical lines (owned) */
	char	 *cls;		/* class letter per logical line */
	size_t	  n;
	size_t	 *act;		/* indexes of the lines still kept, in order */
	char	 *pat;		/* their classes */
	size_t	  na;
};

/* Split into physical lines, any of \r\n, \r, \n ending a line. */
static char **
trim_split(const char *text, size_t *n_r)
{
	size_t cap = 16, n = 0;
	char **v = xmalloc(cap * sizeof(*v));
	const char *p = text;

	for (;;) {
		size_t len = strcspn(p, "\r\n");

		if (n == cap)
			v = xrealloc(v, (cap *= 2) * sizeof(*v));
		v[n++] = xstrndup(p, len);
		p += len;
		if (*p == '\0')
			break;
		p += (p[0] == '\r' && p[1] == '\n') ? 2 : 1;
	}
	*n_r = n;
	return v;
}

/* Marks the lines inside ``` fences (fences included): never markers. */
static char *
trim_code_lines(char **phys, size_t n)
{
	char *code = xcalloc(n ? n : 1, 1);
	int in = 0;

	for (size_t i = 0; i < n; i++) {
		const char *s = phys[i];

		if (!in && strncmp(s, "```", 3) == 0) {
			in = 1;
			code[i] = 1;
			continue;
		}
		if (in) {
			code[i] = 1;
			s += strspn(s, " ");
			if (s - phys[i] <= 3 && strncmp(s, "```", 3) == 0 &&
			    trim_is_blank_line(s + 3))
				in = 0;
		}
	}
	return code;
}

static int
trim_has_digit(const char *s)
{
	return strpbrk(s, "0123456789") != NULL;
}

/* Does the line open like an attribution: "On", "Le", "Am"... or a digit? */
static int
trim_starts_attribution(const char *line, int digit_ok)
{
	static const char *const words[] = {
		"on ", "at ", "le ", "am ", "op ", "il ", "dnia ", "em ", "el ",
		"den ", "in message", "在",
	};
	char *f = trim_fold(line);
	const char *s = f + strspn(f, " \t<>-");
	int r = digit_ok && *s >= '0' && *s <= '9';

	for (size_t i = 0; !r && i < nitems(words); i++)
		r = strncmp(s, words[i], strlen(words[i])) == 0;
	free(f);
	return r;
}

static int
trim_is_embedded(const char *line)
{
	char *folded = trim_fold(line);
	int r = trim_match(TT_EMBEDDED, folded);

	free(folded);
	return r;
}

/* Could this joined text end an attribution: ':', '>' or "wrote"-like? */
static int
trim_join_tail_ok(const char *joined)
{
	static const char *const words[] = {
		"wrote", "writes", "says", "said", "ecrit", "geschreven",
		"geschrieben", "sie", "scritto", "napisał", "escreveu", "escribio",
		"写道",
	};
	char *f = trim_fold(joined);
	size_t n = strlen(f);
	int ok = 0;

	while (n > 0 && strchr(" \t.-", f[n - 1]) != NULL)
		n--;
	if (n > 0 && (f[n - 1] == ':' || f[n - 1] == '>' ||
	    (n >= 3 && strncmp(f + n - 3, "：", 3) == 0)))
		ok = 1;
	for (size_t i = 0; !ok && i < nitems(words); i++) {
		size_t w = strlen(words[i]);

		ok = n >= w && strncmp(f + n - w, words[i], w) == 0;
	}
	free(f);
	return ok;
}

/*
 * An attribution wrapped over several lines: try joining line i with the
 * next ones (continuation lines lose their leading white space and empty
 * ones vanish, so "Some One\n\n<" becomes "Some One <"). Returns the number
 * of physical lines used (> 1) and the joined text, or 0.
 */
static size_t
trim_try_join(char **phys, const char *code, size_t i, size_t n, char **joined_r)
{
	struct buf b;
	size_t j, used = 0;

	if (code[i] || !trim_has_digit(phys[i]) || strlen(phys[i]) > TRIM_JOIN_MAX)
		return 0;
	if (strchr(phys[i], '@') == NULL && !trim_starts_attribution(phys[i], 1))
		return 0;
	buf_init(&b);
	buf_adds(&b, phys[i]);
	for (j = i + 1; j < n && j <= i + TRIM_JOIN_LINES && !code[j]; j++) {
		const char *s = phys[j] + strspn(phys[j], " \t");

		if (*s == '\0')
			continue;
		if (trim_starts_attribution(s, 0))
			break;
		buf_addc(&b, ' ');
		buf_adds(&b, s);
		if (b.len > TRIM_JOIN_MAX)
			break;
		if (strchr(buf_cstr(&b), '@') != NULL &&
		    trim_join_tail_ok(buf_cstr(&b)) &&
		    trim_is_embedded(buf_cstr(&b))) {
			used = j - i + 1;
			break;
		}
	}
	if (used > 0)
		*joined_r = buf_steal(&b);
	buf_free(&b);
	return used;
}

static void
trim_doc_add(struct trim_doc *d, char *line, char cls, size_t *cap)
{
	if (d->n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		d->line = xrealloc(d->line, *cap * sizeof(*d->line));
		d->cls = xrealloc(d->cls, *cap);
	}
	d->line[d->n] = line;
	d->cls[d->n] = cls;
	d->n++;
}

/* Some clients quote with "| " instead of "> ": after a marker, such a run
 * of lines is a quote (elsewhere "|" lines are left alone: they may be a
 * table in a report). */
static void
trim_doc_pipe_quotes(struct trim_doc *d)
{
	for (size_t i = 0; i < d->n; i++) {
		size_t k = i + 1;

		if (d->cls[i] != 'b')
			continue;
		while (k < d->n && d->cls[k] == 'e')
			k++;
		for (; k < d->n && d->line[k][0] == '|'; k++) {
			d->line[k][0] = '>';
			d->cls[k] = 'q';
		}
	}
}

static void
trim_doc_build(struct trim_doc *d, const char *text)
{
	size_t n, cap = 0;
	char **phys = trim_split(text, &n);
	char *code = trim_code_lines(phys, n);

	memset(d, 0, sizeof(*d));
	for (size_t i = 0; i < n; i++) {
		char cls = code[i] ? 't' : trim_classify(phys[i]);
		char *joined = NULL;
		size_t used = 0;

		if (cls == 't' || cls == 'q')
			used = trim_try_join(phys, code, i, n, &joined);
		if (used > 0) {
			trim_doc_add(d, joined, 'b', &cap);
			for (size_t k = i; k < i + used; k++)
				free(phys[k]);
			i += used - 1;
			continue;
		}
		trim_doc_add(d, phys[i], cls, &cap);
	}
	free(phys);
	free(code);
	trim_doc_pipe_quotes(d);
	d->act = xmalloc((d->n ? d->n : 1) * sizeof(*d->act));
	d->pat = xmalloc(d->n + 1);
	for (size_t i = 0; i < d->n; i++) {
		d->act[i] = i;
		d->pat[i] = d->cls[i];
	}
	d->na = d->n;
}

static void
trim_doc_free(struct trim_doc *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->line[i]);
	free(d->line);
	free(d->cls);
	free(d->act);
	free(d->pat);
}

/* ---- the rules, over d->pat[0 .. d->na) ---- */

/* Drop the kept lines [from, to). */
static void
trim_remove_range(struct trim_doc *d, size_t from, size_t to)
{
	if (to > d->na)
		to = d->na;
	if (from >= to)
		return;
	memmove(d->act + from, d->act + to, (d->na - to) * sizeof(*d->act));
	memmove(d->pat + from, d->pat + to, d->na - to);
	d->na -= to - from;
}

static void
trim_remove_class(struct trim_doc *d, char c)
{
	size_t w = 0;

	for (size_t r = 0; r < d->na; r++) {
		if (d->pat[r] == c)
			continue;
		d->act[w] = d->act[r];
		d->pat[w++] = d->pat[r];
	}
	d->na = w;
}

static ssize_t
trim_find(const struct trim_doc *d, size_t from, const char *set)
{
	for (size_t k = from; k < d->na; k++)
		if (strchr(set, d->pat[k]) != NULL)
			return (ssize_t)k;
	return -1;
}

/* The last kept line before k that is neither empty nor a delimiter. */
static ssize_t
trim_prev_content(const struct trim_doc *d, size_t k)
{
	while (k > 0) {
		k--;
		if (d->pat[k] != 'e' && d->pat[k] != 'd')
			return (ssize_t)k;
	}
	return -1;
}

/* Non-blank bytes of the kept text lines in [from, to). */
static size_t
trim_text_weight(const struct trim_doc *d, size_t from, size_t to)
{
	size_t w = 0;

	for (size_t k = from; k < to && k < d->na; k++) {
		if (d->pat[k] != 't')
			continue;
		for (const char *s = d->line[d->act[k]]; *s; s++)
			w += (*s != ' ' && *s != '\t');
	}
	return w;
}

/* Cut at the first "-- " and at a disclaimer that follows some text. */
static void
trim_rule_cut_markers(struct trim_doc *d)
{
	ssize_t k = trim_find(d, 0, "g"), x, t;

	if (k >= 0)
		d->na = (size_t)k;
	t = trim_find(d, 0, "t");
	x = t >= 0 ? trim_find(d, (size_t)t, "x") : -1;
	if (x >= 0)
		d->na = (size_t)x;
	for (size_t i = 0; i < d->na; i++)
		if (d->pat[i] == 'x')
			d->pat[i] = 't';
}

/* Answer below the quote: "b [be]* q [eqbhfd]* t..." -> drop up to the t. */
static void
trim_rule_bottom_post(struct trim_doc *d)
{
	size_t k = 0;

	while (k < d->na && d->pat[k] == 'e')
		k++;
	if (k >= d->na || d->pat[k] != 'b')
		return;
	while (k < d->na && strchr("be", d->pat[k]) != NULL)
		k++;
	if (k >= d->na || d->pat[k] != 'q')
		return;
	while (k < d->na && strchr("eqbhfd", d->pat[k]) != NULL)
		k++;
	if (k < d->na && d->pat[k] == 't')
		trim_remove_range(d, 0, k);
}

/* Text, then a marker with no quote after it: cut at the marker. */
static void
trim_rule_marker_no_quote(struct trim_doc *d)
{
	size_t start = 0;

	for (size_t k = 0; k < d->na; k++)
		if (d->pat[k] == 'q')
			start = k + 1;
	for (size_t k = start; k < d->na; k++) {
		ssize_t p;

		if (d->pat[k] != 'b')
			continue;
		p = trim_prev_content(d, k);
		if (p >= 0 && d->pat[p] == 't') {
			d->na = (size_t)p + 1;
			return;
		}
	}
}

/*
 * Text, then a marker followed only by quotes/headers and maybe some final
 * text: cut at the marker. When the final text outweighs the text above the
 * marker (a greeting, the quoted call for contributions, then the report),
 * only the marker and its quote go.
 */
static void
trim_rule_marker_quote(struct trim_doc *d)
{
	char *ok = xmalloc(d->na + 1);
	int te = 1;

	ok[d->na] = 1;
	for (size_t k = d->na; k-- > 0;) {
		te = te && strchr("ted", d->pat[k]) != NULL;
		ok[k] = te || (strchr("eqbhfd", d->pat[k]) && ok[k + 1]);
	}
	for (size_t k = 0; k < d->na; k++) {
		ssize_t p, t;

		if (d->pat[k] != 'b' || !ok[k + 1])
			continue;
		p = trim_prev_content(d, k);
		if (p < 0 || d->pat[p] != 't')
			continue;
		t = trim_find(d, k + 1, "t");
		if (t >= 0 && trim_text_weight(d, (size_t)t, d->na) >
		    trim_text_weight(d, 0, (size_t)p + 1))
			trim_remove_range(d, k, (size_t)t);
		else
			d->na = (size_t)p + 1;
		break;
	}
	free(ok);
}

/*
 * Header blocks: from a header line to the next empty line, at least three
 * header lines, one of them From-like, and no more other lines than header
 * lines. After some text: cut there. Before any text (a bare forward): drop
 * the block and keep the forwarded text.
 */
static void
trim_rule_header_block(struct trim_doc *d)
{
	size_t k = 0;

	while (k < d->na) {
		size_t end = k, nh = 0, nf = 0;

		if (d->pat[k] != 'h' && d->pat[k] != 'f') {
			k++;
			continue;
		}
		for (; end < d->na && d->pat[end] != 'e'; end++) {
			nh += (d->pat[end] == 'h' || d->pat[end] == 'f');
			nf += d->pat[end] == 'f';
		}
		if (nh < 3 || nf < 1 || nh < (end - k) - nh) {
			k = end;
			continue;
		}
		if (trim_find(d, 0, "t") >= 0 && (size_t)trim_find(d, 0, "t") < k) {
			d->na = k;
			return;
		}
		trim_remove_range(d, k, end);
	}
}

static void
trim_rules(struct trim_doc *d)
{
	trim_rule_cut_markers(d);
	trim_remove_class(d, 's');
	trim_rule_bottom_post(d);
	trim_rule_marker_no_quote(d);
	trim_rule_marker_quote(d);
	trim_remove_class(d, 'b');
	trim_rule_header_block(d);
	for (size_t k = 0; k < d->na; k++)
		if (d->pat[k] == 'h' || d->pat[k] == 'f')
			d->pat[k] = 't';
	if (trim_find(d, 0, "t") >= 0)
		while (d->na > 0 && strchr("eqd", d->pat[d->na - 1]) != NULL)
			d->na--;
}

/* ---- output ---- */

/* Join lines with '\n'; drop leading blank lines and trailing white space;
 * with strip_all also leading white space. */
static char *
trim_finish(struct buf *b, int strip_all)
{
	char *s = buf_steal(b), *start = s;
	size_t len;

	if (s == NULL)
		return xstrdup("");
	for (char *p = s; *p == ' ' || *p == '\t' || *p == '\n'; p++)
		if (*p == '\n' || strip_all)
			start = p + 1;
	if (strip_all)
		start += strspn(start, " \t\n");
	len = strlen(start);
	while (len > 0 && strchr(" \t\n", start[len - 1]) != NULL)
		len--;
	memmove(s, start, len);
	s[len] = '\0';
	return s;
}

static char *
trim_output(const struct trim_doc *d, char **elided_r)
{
	struct buf kept, gone;
	size_t k = 0;

	buf_init(&kept);
	buf_init(&gone);
	for (size_t i = 0; i < d->n; i++) {
		if (k < d->na && d->act[k] == i) {
			buf_adds(&kept, d->line[i]);
			buf_addc(&kept, '\n');
			k++;
		} else if (elided_r != NULL) {
			buf_adds(&gone, d->line[i]);
			buf_addc(&gone, '\n');
		}
	}
	if (elided_r != NULL)
		*elided_r = trim_finish(&gone, 1);
	buf_free(&gone);
	return trim_finish(&kept, 0);
}

char *
trim_reply_elided(const char *text_utf8, char **elided_r)
{
	struct trim_doc d;
	char *r;

	pthread_once(&trim_once, trim_compile);
	if (text_utf8 == NULL)
		text_utf8 = "";
	trim_doc_build(&d, text_utf8);
	trim_rules(&d);
	r = trim_output(&d, elided_r);
	trim_doc_free(&d);
	return r;
}

char *
trim_reply(const char *text_utf8)
{
	return trim_reply_elided(text_utf8, NULL);
}

/* ---- subjects ---- */

/* Spaces, tabs, line breaks and no-break spaces; returns bytes skipped. */
static size_t
trim_subject_space(const char *s)
{
	const char *p = s;

	for (;;) {
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		else if ((unsigned char)p[0] == 0xc2 && (unsigned char)p[1] == 0xa0)
			p += 2;
		else
			return (size_t)(p - s);
	}
}

/* "Re", "RE", "Tr", "Fwd"... then an optional count ("[2]", "^2", "(2)"),
 * spaces and ':' (or the full-width '：'). Returns the bytes to skip, or 0. */
static size_t
trim_subject_prefix(const char *s)
{
	static const char *const words[] = {
		"rép", "ré", "re", "tr", "fwd", "fw", "aw", "wg",
	};

	for (size_t i = 0; i < nitems(words); i++) {
		size_t wlen = strlen(words[i]);
		const char *p = s + wlen;
		char *low, *cand, *fc;
		int same;

		if (strnlen(s, wlen) < wlen)
			continue;
		low = str_fold(words[i]);
		cand = xstrndup(s, wlen);
		fc = str_fold(cand);
		same = strcmp(low, fc) == 0;
		free(low), free(cand), free(fc);
		if (!same)
			continue;
		if (*p == '[' || *p == '(' || *p == '^') {
			const char *q = p + 1;

			while (*q >= '0' && *q <= '9')
				q++;
			if (q > p + 1 && (*p == '^' || *q == (*p == '[' ? ']' : ')')))
				p = *p == '^' ? q : q + 1;
		}
		p += trim_subject_space(p);
		if (*p == ':')
			return (size_t)(p + 1 - s);
		if (strncmp(p, "：", 3) == 0)
			return (size_t)(p + 3 - s);
	}
	return 0;
}

static char *
trim_collapse_space(const char *s)
{
	struct buf b;
	int space = 0;

	buf_init(&b);
	while (*s) {
		size_t n = trim_subject_space(s);

		if (n > 0) {
			space = 1;
			s += n;
			continue;
		}
		if (space && b.len > 0)
			buf_addc(&b, ' ');
		space = 0;
		buf_addc(&b, *s++);
	}
	buf_addc(&b, '\0');
	return buf_steal(&b);
}

char *
trim_subject(const char *subject)
{
	const char *s = subject ? subject : "";

	for (;;) {
		size_t n;

		s += trim_subject_space(s);
		if (*s == '[') {
			const char *close = strchr(s, ']');

			if (close == NULL)
				break;
			s = close + 1;
			continue;
		}
		if ((n = trim_subject_prefix(s)) == 0)
			break;
		s += n;
	}
	return trim_collapse_space(s);
}

int
trim_is_greeting(const char *line, size_t len)
{
	static const char *const words[] = { "bonjour", "bonsoir", "salut", "coucou", "hello",
	    "hi", "cher", "chers", "chere", "cheres", "madame", "monsieur", "dear" };
	char *copy, *f, *p;
	int is = 0;

	if (len >= 60)
		return 0;
	copy = xstrndup(line, len);
	f = str_fold(copy);
	p = f + strspn(f, " \t");
	for (size_t i = 0; i < nitems(words) && !is; i++) {
		size_t n = strlen(words[i]);

		is = strncmp(p, words[i], n) == 0 && !(p[n] >= 'a' && p[n] <= 'z') &&
		    !(p[n] >= '0' && p[n] <= '9');	/* folded: lower case, no accents */
	}
	free(f);
	free(copy);
	return is;
}
