/*
 * test_templates.c — every people's text, read as a proofreader would.
 *
 * Each template of templates/fr and templates/en is expanded through the
 * real adapter (tmpl.cc) with sample values, once with every section shown
 * (repeated sections twice) and once per scenario of the table below (the
 * combinations the code really produces: one of two alternatives, an empty
 * list). The sections and variables are read from the template itself, so a
 * new template is checked without touching this file; add a scenario when
 * it has alternatives or optional parts.
 *
 * Every output must have: no template markup left ("{{", "}}"); no mention
 * of mlistctl (people who receive mails have no shell: tell them what to
 * reply, or to ask the person who runs the list); in a text mail, a
 * "Subject:" header, no two blank lines in a row (an empty conditional
 * leaves them), no blank line opening the body; in HTML, no empty
 * paragraph or heading. French output additionally: no word from a small
 * list of English words that cannot be French, and the house typography:
 * U+00A0 (NO-BREAK SPACE, written &nbsp; or as the character in HTML)
 * before « : ; ! ? » » and after « « », never a plain space nor U+202F.
 * The punctuation checked is the one followed by a blank or the end of the
 * line, so URLs, times (14:30) and "mailto:" are not; in HTML only the text
 * nodes are read (entities decoded; <style>, <script>, comments skipped).
 * Addresses, links and paths (a word with '@' or '/') are not words.
 * Every template exists in both languages.
 */
#include <ctype.h>
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <cmocka.h>

#include "html2text.h"
#include "tmpl.h"
#include "util.h"

#define TDIR "templates"
#define NBSP "\xc2\xa0"

/* ---- sample data ---- */

/* Sections that the code repeats (rows of a list): shown twice. */
static const char *const repeated[] = {
	"SUBMISSION", "TOC_REGION", "TOC_COMMITTEE", "TOC_ENTRY", "REGION",
	"COMMITTEE", "ENTRY", "PART", "PARA", "LINE", "ROW", "PHOTO", "TXTPHOTO",
	"CONTACT",
};

/* Values as the code gives them (French; the English templates get the
 * same: only the French output is checked for language). */
static const struct { const char *key, *value; } samples[] = {
	{ "LIST_NAME", "Association des comités de quartier" },
	{ "SUBJECT", "Assemblée générale du 12 décembre" },
	{ "TITLE", "Fête de la soupe à Kerfeunteun" },
	{ "ENTRY_TITLE", "Fête de la soupe à Kerfeunteun" },
	{ "TEXT", "Samedi, soixante voisins ont goûté douze soupes.\n\n"
	    "Merci aux cuisiniers de la rue des Lilas." },
	{ "ENTRY_TEXT", "Samedi, soixante voisins ont goûté douze soupes.\n\n"
	    "Merci aux cuisiniers de la rue des Lilas." },
	{ "LINE_TEXT", "Samedi, soixante voisins ont goûté douze soupes." },
	{ "EXCERPT", "Samedi, soixante voisins ont goûté douze soupes. Merci aux"
	    " cuisiniers de la rue des Lilas…" },
	{ "BODY", "Le bulletin n°" NBSP "6 paraîtra vers le 21" NBSP "décembre." },
	{ "COMMITTEE", "Quimper-Kerfeunteun" },
	{ "COMMITTEE_NAME", "Quimper-Kerfeunteun" },
	{ "REGION_NAME", "Bretagne" },
	{ "SLUG", "quimper-kerfeunteun" },
	{ "TARGET", "bretagne" },
	{ "COMMITTEES", "Brest, Quimper-Kerfeunteun, Rennes" },
	{ "NAME", "Élodie Ménard" },
	{ "WHO", "Élodie Ménard <elodie@example.org>" },
	{ "CONTACT_LABEL", "Élodie Ménard <elodie@example.org>" },
	{ "DATE", "12 décembre 2026" },
	{ "ENTRY_DATE", "12 décembre 2026" },
	{ "DEADLINE", "14 décembre 2026" },
	{ "PUBLISH_DATE", "21 décembre 2026" },
	{ "PERIOD_START", "1er novembre 2026" },
	{ "PERIOD_END", "30 novembre 2026" },
	{ "PERIOD", "novembre 2026" },
	{ "DATE_HOW", "date trouvée dans votre texte" },
	{ "FULL_URL", "https://bulletin.example.org/6/" },
	{ "PHOTO_SRC", "https://bulletin.example.org/6/s3-1.jpg" },
	{ "PHOTO_ALT", "Photo 1 du compte rendu" },
	{ "PHOTO_REF", "s3-1.jpg" },
	{ "PHOTO_NUMBER", "1" },
	{ "FILE_NAME", "programme.pdf" },
	{ "FILE_SIZE", "120" NBSP "Ko" },
	{ "FILE_HREF", "https://bulletin.example.org/6/programme.pdf" },
	{ "PHOTO_PCT", "50" },
	{ "PHOTO_WIDTH", "600" },
	{ "PHOTOS", "  - IMG_2041.jpg\n  - IMG_2042.jpg" },
	{ "DOCUMENTS", "  - programme.pdf" },
	{ "FILES", "  - tableau.xlsx" },
	{ "UNREADABLE", "  - scan.tiff" },
	{ "RESULTS", "  - n°" NBSP "3, «" NBSP "Fête de la soupe" NBSP "»" NBSP ": accepté" },
	{ "COMMANDS", "  ACCEPTER 3\n  REFUSER 4" },
	{ "CONTACTS", "  - Élodie Ménard <elodie@example.org> (boîte pleine)\n" },
	{ "COMMITTEE_ADDRESSES", "  - quimper@example.org" },
	{ "REASON", "votre adresse n'est celle d'aucun comité" },
	{ "HOLD_REASON", "comité inconnu" },
	{ "ERROR", "550 5.1.1 boîte inconnue" },
	{ "STATE", "en attente" },
	{ "WORDS", "soupe" },
	{ "WHAT", "publication" },
	{ "WHAT_OF", "de la publication" },
	{ "REPLACED", "Il remplace celui que vous aviez envoyé avant." },
	{ "ATTACHMENTS_DROPPED", "Vos pièces jointes étaient trop lourdes"
	    " ensemble" NBSP ": aucune n'a été gardée." },
	{ "FROM", "Élodie Ménard <elodie@example.org>" },
	{ "SENDER", "elodie@example.org" },
	{ "EMAIL", "elodie@example.org" },
	{ "RCPTS", "bulletin@example.org" },
	{ "LIST_ADDRESS", "national@example.org" },
	{ "REQUEST_ADDRESS", "aide@example.org" },
	{ "BULLETIN_ADDRESS", "bulletin@example.org" },
	{ "CONFIRM_ADDRESS", "confirm+4f2a9c@example.org" },
	{ "TOKEN", "4f2a9c1e" },
	{ "ID", "3" },
	{ "EXAMPLE_ID", "3" },
	{ "LINE", "ABONER" },
};

/* Anything else: a number for counts and ids, a neutral word otherwise. */
static const char *
sample(const char *key)
{
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
		if (strcmp(samples[i].key, key) == 0)
			return samples[i].value;
	if (strstr(key, "ADDRESS") != NULL)
		return "aide@example.org";
	if (strstr(key, "ANCHOR") != NULL)
		return "c3";
	return "2";
}

/*
 * Scenarios: the sections hidden (space-separated) in one rendering, as the
 * code combines them. The rendering with every section shown is always
 * done too.
 */
static const struct { const char *name, *hidden; } scenarios[] = {
	{ "bulletin", "PROOF TOO_LARGE REGION_UNNAMED NEXT_DEADLINE MORE_PHOTOS ROW_GAP" },
	{ "bulletin", "FULL_URL REGION_NAMED MORE_PLURAL TXTPHOTO TXTGRID ROW FILE_LINK" },
	{ "broadcast-confirm", "SOME MORE" },
	{ "broadcast-confirm", "ALL MORE" },
	{ "broadcast-confirm", "ALL" },
	{ "editor-result", "PUBLISH" },
	{ "editor-result", "NOPUBLISH" },
	{ "report-ack", "PHOTO_LIST DOCUMENT_LIST FILE_LIST UNREADABLE_LIST DROPPED" },
	{ "broadcast-report", "NOT_SENT ONE_TARGET UNREACHED_ANY UNREACHED NO_REPLY AUTO" },
	{ "broadcast-report", "NOT_SENT ALL_TARGET ALL_REACHED NO_CONTACT SERVER REPLY" },
	{ "broadcast-report", "ALL_TARGET REACHED ALL_REACHED CONTACT FROM_COMMITTEE NO_REPLY" },
	{ "request-broadcast", "NONE MANY" },
	{ "request-broadcast", "NOT_NATIONAL MANY" },
	{ "request-broadcast", "NOT_NATIONAL NONE MORE" },
	{ "editor-digest", "UNKNOWN HAS_ISSUE FILES HELD" },
	{ "editor-digest", "KNOWN" },
	{ "contact-disabled", "UNDER NONE" },
	{ "contact-disabled", "NONE" },
	{ "contact-disabled", "UNDER" },
	{ "request-confirm", "STOP" },
	{ "request-confirm", "UNSUBSCRIBE" },
	{ "request-contacts", "NOT_CONTACT UNDER_MIN" },
	{ "request-contacts", "COMMITTEE" },
	{ "request-search", "NONE FOUND FAILED" },
	{ "request-search", "NO_WORDS FOUND FAILED" },
	{ "request-search", "NO_WORDS NONE FAILED" },
	{ "request-search", "NO_WORDS NONE FOUND" },
	{ "request-status", "ISSUE" },
	{ "request-status", "NO_ISSUE NOT_CONTACT NOTHING ACCEPTED REJECTED HELD OTHER" },
	{ "request-status", "NO_ISSUE COMMITTEE" },
	{ "request-stop", "NOT_KNOWN" },
	{ "request-stop", "WAS_CONTACT" },
	{ "request-stop-office", "UNDER_MIN NONE_LEFT" },
	{ "request-stop-office", "COMMITTEE" },
	{ "request-subscribed", "ALREADY" },
	{ "request-subscribed", "DONE" },
	{ "request-unsubscribed", "DONE" },
	{ "request-unsubscribed", "NOT_SUBSCRIBED" },
	{ "request-unknown", "LINE" },
};

/* English words that cannot be French (compared lower case). */
static const char *const english[] = {
	"the", "and", "please", "click", "done", "held", "sending", "pending",
	"failed", "submission", "submissions", "report", "reports", "issue",
	"issues", "awaiting", "deadline", "reply", "sent", "unknown", "received",
	"committee", "committees", "your", "you", "will", "with", "here", "subject",
	"status", "proof", "publish", "published", "accepted", "rejected", "draft",
	"hold", "error", "warning", "none", "yes", "true", "false", "null", "see",
};

/* ---- the template's own structure ---- */

#define NODE_MAX 48
#define NAME_MAX_LEN 64

struct node {
	char		 name[NAME_MAX_LEN];
	struct node	*kid[NODE_MAX];
	int		 nkid;
	char		 var[NODE_MAX][NAME_MAX_LEN];
	int		 nvar;
};

static struct node *
node_kid(struct node *n, const char *name)
{
	for (int i = 0; i < n->nkid; i++)
		if (strcmp(n->kid[i]->name, name) == 0)
			return n->kid[i];
	assert_true(n->nkid < NODE_MAX);
	n->kid[n->nkid] = xcalloc(1, sizeof(struct node));
	snprintf(n->kid[n->nkid]->name, NAME_MAX_LEN, "%s", name);
	return n->kid[n->nkid++];
}

static void
node_var(struct node *n, const char *name)
{
	for (int i = 0; i < n->nvar; i++)
		if (strcmp(n->var[i], name) == 0)
			return;
	assert_true(n->nvar < NODE_MAX);
	snprintf(n->var[n->nvar++], NAME_MAX_LEN, "%s", name);
}

static void
node_free(struct node *n)
{
	for (int i = 0; i < n->nkid; i++)
		node_free(n->kid[i]);
	free(n);
}

/* One marker's text (between the braces) applied to the open sections. */
static void
parse_marker(const char *path, const char *m, size_t len, struct node **stack, int *depth)
{
	char name[NAME_MAX_LEN];
	size_t skip = strchr("#/>!%", m[0]) != NULL && m[0] != '\0';
	size_t n = strcspn(m + skip, ":}");

	if (m[0] == '!' || m[0] == '%' || m[0] == '>' || len == 0)
		return;
	snprintf(name, sizeof(name), "%.*s", (int)(n < len - skip ? n : len - skip), m + skip);
	if (m[0] == '#') {
		assert_true(*depth < 15);
		stack[*depth + 1] = node_kid(stack[*depth], name);
		(*depth)++;
	} else if (m[0] == '/') {
		if (*depth == 0 || strcmp(stack[*depth]->name, name) != 0)
			fail_msg("%s: {{/%s}} closes nothing open", path, name);
		(*depth)--;
	} else if (strncmp(name, "BI_", 3) != 0)
		node_var(stack[*depth], name);
}

/* The tree of sections and variables of a template file. */
static struct node *
parse_template(const char *path, const char *text)
{
	struct node *root = xcalloc(1, sizeof(*root)), *stack[16] = { root };
	const char *p = text, *end;
	int depth = 0;

	while ((p = strstr(p, "{{")) != NULL) {
		if ((end = strstr(p + 2, "}}")) == NULL)
			fail_msg("%s: \"{{\" never closed", path);
		parse_marker(path, p + 2, (size_t)(end - p - 2), stack, &depth);
		p = end + 2;
	}
	if (depth != 0)
		fail_msg("%s: {{#%s}} never closed", path, stack[depth]->name);
	return root;
}

/* ---- building the dictionary ---- */

static int
word_in(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
	return 0;
}

static int
is_repeated(const char *name)
{
	for (size_t i = 0; i < sizeof(repeated) / sizeof(repeated[0]); i++)
		if (strcmp(repeated[i], name) == 0)
			return 1;
	return 0;
}

static void
dict_fill(struct tmpl_dict *d, const struct node *n, const char *hidden)
{
	size_t len;

	for (int i = 0; i < n->nvar; i++)
		tmpl_set(d, n->var[i], sample(n->var[i]));
	for (int i = 0; i < n->nkid; i++) {
		const struct node *k = n->kid[i];

		len = strlen(k->name);
		if (word_in(hidden, k->name) || (len > 10 &&
		    strcmp(k->name + len - 10, "_separator") == 0))
			continue;
		for (int row = 0; row < (is_repeated(k->name) ? 2 : 1); row++)
			dict_fill(tmpl_add_section(d, k->name), k, hidden);
	}
}

/* ---- reading the output ---- */

/* Only the text a person reads in HTML: text nodes, entities decoded, a
 * newline for each block tag; *empty_r names an element left empty. */
static int
html_is_block(const char *tag)
{
	static const char *const blocks[] = { "p", "div", "h1", "h2", "h3", "br", "tr",
	    "td", "li", "table", "title", "body", "head", "html", "ul", "ol" };

	for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++)
		if (strcasecmp(blocks[i], tag) == 0)
			return 1;
	return 0;
}

static int
html_must_hold_text(const char *tag)
{
	return strcasecmp(tag, "p") == 0 || strcasecmp(tag, "h1") == 0 ||
	    strcasecmp(tag, "h2") == 0 || strcasecmp(tag, "h3") == 0 ||
	    strcasecmp(tag, "li") == 0 || strcasecmp(tag, "a") == 0;
}

/* The end of the tag starting at p ('<'), quotes respected. */
static const char *
html_tag_end(const char *p)
{
	char quote = 0;

	for (p++; *p != '\0'; p++) {
		if (quote != 0 && *p == quote)
			quote = 0;
		else if (quote == 0 && (*p == '"' || *p == '\''))
			quote = *p;
		else if (quote == 0 && *p == '>')
			return p + 1;
	}
	return p;
}

struct html_state {
	struct buf	 text;
	char		 open[16];	/* element that must hold text, or "" */
	int		 seen;		/* text or an image seen inside it */
	char		 empty[64];	/* first empty element met */
};

static void
html_tag(struct html_state *h, const char *p, const char *end, const char **raw_end_r)
{
	char tag[16];
	int closing = p[1] == '/';
	size_t n = strspn(p + 1 + closing, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");

	snprintf(tag, sizeof(tag), "%.*s", (int)n, p + 1 + closing);
	if (html_is_block(tag))
		buf_addc(&h->text, '\n');
	if (!closing && (strcasecmp(tag, "style") == 0 || strcasecmp(tag, "script") == 0)) {
		const char *close = strcasestr(end, strcasecmp(tag, "style") == 0 ?
		    "</style" : "</script");
		*raw_end_r = close != NULL ? close : end + strlen(end);
	}
	if (strcasecmp(tag, "img") == 0)
		h->seen = 1;
	if (html_must_hold_text(tag) && !closing)
		snprintf(h->open, sizeof(h->open), "%s", tag), h->seen = 0;
	else if (html_must_hold_text(tag) && strcasecmp(tag, h->open) == 0) {
		if (!h->seen && h->empty[0] == '\0')
			snprintf(h->empty, sizeof(h->empty), "<%s></%s>", tag, tag);
		h->open[0] = '\0';
		h->seen = 1;
	}
}

static char *
html_text(const char *html, char *empty_r, size_t empty_size)
{
	struct html_state h = { .seen = 1 };
	const char *p = html, *end = html + strlen(html);

	buf_init(&h.text);
	while (*p != '\0') {
		const char *next = p + 1;
		size_t n;

		if (strncmp(p, "<!--", 4) == 0) {
			const char *c = strstr(p + 4, "-->");
			next = c != NULL ? c + 3 : end;
		} else if (*p == '<' && (isalpha((unsigned char)p[1]) || p[1] == '/' || p[1] == '!')) {
			next = html_tag_end(p);
			html_tag(&h, p, next, &next);
		} else if (*p == '&' && (n = html_entity(p, end, &h.text)) > 0) {
			next = p + n;
			h.seen = 1;
		} else {
			buf_addc(&h.text, *p);
			h.seen |= !isspace((unsigned char)*p);
		}
		p = next;
	}
	snprintf(empty_r, empty_size, "%s", h.empty);
	buf_addc(&h.text, '\0');
	return buf_steal(&h.text);
}

/* ---- the checks ---- */

struct run {
	const char	*path;		/* templates/fr/x.txt */
	const char	*hidden;	/* the scenario, "" for everything shown */
	int		 french;
	int		 nfail;
	int		 nrendered;
};

/* Report one problem with the line of text where it is. */
static void
problem(struct run *r, const char *text, const char *at, const char *fmt, ...)
{
	const char *b = at, *e = strchr(at, '\n');
	va_list ap;

	while (b > text && b[-1] != '\n')
		b--;
	fprintf(stderr, "%s [hidden: %s]: ", r->path, *r->hidden ? r->hidden : "none");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n    | %.*s\n", (int)((e ? e : at + strlen(at)) - b), b);
	r->nfail++;
}

static int
is_word_byte(unsigned char c)
{
	return isalpha(c) || c >= 0x80;
}

/* A whitespace-separated token that is an address, a link or a path. */
static int
in_address(const char *text, const char *p)
{
	const char *b = p, *e = p;

	while (b > text && !isspace((unsigned char)b[-1]) && b[-1] != '<' && b[-1] != '(')
		b--;
	while (*e != '\0' && !isspace((unsigned char)*e) && *e != '>' && *e != ')')
		e++;
	for (const char *q = b; q < e; q++)
		if (*q == '@' || *q == '/')
			return 1;
	return 0;
}

static void
check_english(struct run *r, const char *text)
{
	for (const char *p = text; *p != '\0'; ) {
		size_t n = 0;

		while (is_word_byte((unsigned char)p[n]))
			n++;
		if (n == 0) {
			p++;
			continue;
		}
		for (size_t i = 0; i < sizeof(english) / sizeof(english[0]); i++)
			if (strlen(english[i]) == n && strncasecmp(english[i], p, n) == 0 &&
			    !in_address(text, p))
				problem(r, text, p, "English word \"%.*s\" in French", (int)n, p);
		p += n;
	}
}

/* Is the sign at p punctuation (followed by a blank, a closing sign or the
 * end) rather than part of a link, a time or an entity? */
static int
is_punctuation(const char *p)
{
	unsigned char c = (unsigned char)p[1];

	return c == '\0' || !(isalnum(c) || strchr("/=&%#_@-+'.", c) != NULL);
}

static void
check_sign(struct run *r, const char *text, const char *p, const char *sign)
{
	if (p - text >= 2 && memcmp(p - 2, NBSP, 2) == 0)
		return;
	if (p - text >= 1 && (p[-1] == '!' || p[-1] == '?'))
		return;
	if (p - text >= 3 && memcmp(p - 3, "\xe2\x80\xaf", 3) == 0)
		problem(r, text, p, "U+202F before %s: the house rule is U+00A0", sign);
	else
		problem(r, text, p, "no U+00A0 (no-break space) before %s", sign);
}

static void
check_typography(struct run *r, const char *text)
{
	for (const char *p = text; *p != '\0'; p++) {
		if (strchr(":;!?", *p) != NULL && is_punctuation(p) && !in_address(text, p))
			check_sign(r, text, p, (char[]){ '"', *p, '"', '\0' });
		else if (strncmp(p, "»", 2) == 0)
			check_sign(r, text, p, "»");
		else if (strncmp(p, "«", 2) == 0 && strncmp(p + 2, NBSP, 2) != 0)
			problem(r, text, p, "no U+00A0 (no-break space) after «");
	}
}

static int
line_is_blank(const char *b, const char *e)
{
	while (b < e && (*b == ' ' || *b == '\t'))
		b++;
	return b == e;
}

/* Blank lines as an empty conditional leaves them. */
static void
check_blank_lines(struct run *r, const char *body)
{
	const char *p = body, *e;
	int blanks = 0, first = 1;

	for (; *p != '\0'; p = *e ? e + 1 : e, first = 0) {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		if (!line_is_blank(p, e)) {
			blanks = 0;
			continue;
		}
		if (first)
			problem(r, body, p, "the body begins with a blank line");
		else if (++blanks == 2)
			problem(r, body, p, "two blank lines in a row");
	}
}

static void
check_common(struct run *r, const char *out)
{
	const char *p;

	if ((p = strstr(out, "{{")) != NULL || (p = strstr(out, "}}")) != NULL)
		problem(r, out, p, "template markup left in the output");
	if ((p = strcasestr(out, "mlistctl")) != NULL)
		problem(r, out, p, "mlistctl in a mail (people have no shell)");
}

static void
check_french(struct run *r, const char *text)
{
	if (!r->french)
		return;
	check_english(r, text);
	check_typography(r, text);
}

static void
check_text(struct run *r, const char *out)
{
	const char *body = strstr(out, "\n\n"), *subject = NULL;
	char *read;

	for (const char *p = out; body != NULL && p < body; p = strchr(p, '\n') + 1)
		if (strncasecmp(p, "Subject:", 8) == 0)
			subject = p + 8;
	if (body == NULL || subject == NULL) {
		problem(r, out, out, "no \"Subject:\" line and blank line before the body");
		return;
	}
	body += 2;
	check_blank_lines(r, body);
	read = xasprintf("%.*s\n%s", (int)strcspn(subject, "\n"), subject, body);
	check_french(r, read);
	free(read);
}

static void
check_html(struct run *r, const char *out)
{
	char empty[64], *text = html_text(out, empty, sizeof(empty));

	if (*empty != '\0')
		problem(r, out, out, "an empty element %s (an empty conditional?)", empty);
	check_french(r, text);
	free(text);
}

/* ---- the driver ---- */

/* TEMPLATES_DUMP=DIR: each rendering written to DIR, to read them. */
static void
dump(const struct run *r, const char *out)
{
	const char *dir = getenv("TEMPLATES_DUMP");
	char *path;
	FILE *fp;

	if (dir == NULL)
		return;
	path = xasprintf("%s/%s%s%s", dir, r->path + strlen(TDIR) + 1, *r->hidden ? "-" :
	    "", r->hidden);
	for (char *p = path + strlen(dir) + 1; *p; p++)
		if (*p == '/' || *p == ' ')
			*p = '_';
	if ((fp = fopen(path, "w")) != NULL) {
		fputs(out, fp);
		fclose(fp);
	}
	free(path);
}

static void
render_one(struct run *r, const struct node *tree, int html)
{
	struct tmpl_dict *d = tmpl_dict_new();
	const char *error = NULL;
	char *out = NULL;

	dict_fill(d, tree, r->hidden);
	if (tmpl_expand(r->path, d, html ? TMPL_HTML : TMPL_TEXT, &out, &error) == -1) {
		fprintf(stderr, "%s: %s\n", r->path, error);
		r->nfail++;
	} else {
		dump(r, out);
		check_common(r, out);
		if (html)
			check_html(r, out);
		else
			check_text(r, out);
		r->nrendered++;
	}
	free(out);
	tmpl_dict_free(&d);
}

static void
render_template(struct run *r, const char *file)
{
	size_t len = strlen(file), dot = strcspn(file, ".");
	int html = len > 5 && strcmp(file + len - 5, ".html") == 0;
	char *text = NULL;
	size_t size;
	struct node *tree;

	if (file_read(r->path, 1 << 20, &text, &size) == -1)
		fail_msg("cannot read %s", r->path);
	tree = parse_template(r->path, text);
	r->hidden = "";
	render_one(r, tree, html);
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (strlen(scenarios[i].name) == dot &&
		    strncmp(scenarios[i].name, file, dot) == 0) {
			r->hidden = scenarios[i].hidden;
			render_one(r, tree, html);
		}
	node_free(tree);
	free(text);
}

/* Each file of templates/lang, and its twin in the other language. */
static void
render_language(struct run *r, const char *lang, const char *other)
{
	DIR *dir = opendir(TDIR "/");
	struct dirent *de;
	char path[512], twin[512];

	assert_non_null(dir);
	closedir(dir);
	snprintf(path, sizeof(path), TDIR "/%s", lang);
	assert_non_null(dir = opendir(path));
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), TDIR "/%s/%s", lang, de->d_name);
		snprintf(twin, sizeof(twin), TDIR "/%s/%s", other, de->d_name);
		if (access(twin, R_OK) != 0) {
			fprintf(stderr, "%s: no %s\n", path, twin);
			r->nfail++;
		}
		r->path = path;
		r->french = strcmp(lang, "fr") == 0;
		render_template(r, de->d_name);
	}
	closedir(dir);
}

static void
test_every_template(void **state)
{
	struct run r = { 0 };

	(void)state;
	render_language(&r, "fr", "en");
	render_language(&r, "en", "fr");
	fprintf(stderr, "%d renderings, %d problems\n", r.nrendered, r.nfail);
	assert_true(r.nrendered >= 100);
	assert_int_equal(r.nfail, 0);
}

/* The checks themselves catch what they are for (and nothing else). */
static void
test_checks(void **state)
{
	static const struct { const char *out; int html, french, problems; } cases[] = {
		{ "Subject: x\n\nMerci" NBSP "! « " "a" NBSP "» 14:30, https://x.org/a?b=c\n", 0, 1, 1 },
		{ "Subject: x\n\nMerci" NBSP "!\n«" NBSP "a" NBSP "»\nmailto:a@x.org\n", 0, 1, 0 },
		{ "Subject: Rappel : x\n\nMerci !\n", 0, 1, 2 },
		{ "Subject: x\n\nMerci\xe2\x80\xaf!\n", 0, 1, 1 },
		{ "Subject: x\n\nMerci !\n", 0, 0, 0 },
		{ "Subject: x\n\nLe compte rendu n'est pas done.\n", 0, 1, 1 },
		{ "Subject: x\n\nThe report is done.\n", 0, 0, 0 },
		{ "Subject: x\n\nrepORT@example.org\n", 0, 1, 0 },
		{ "Subject: x\n\na\n\n  \nb\n", 0, 0, 1 },
		{ "Subject: x\n\n\na\n", 0, 0, 1 },
		{ "Subject: x\n\na\n\n", 0, 0, 0 },
		{ "Subject: x\n\n{{X}}\n", 0, 0, 1 },
		{ "Subject: x\n\nTapez mlistctl status\n", 0, 0, 1 },
		{ "x\n\ny\n", 0, 0, 1 },
		{ "<style>a{b:c}</style><p>Une question&nbsp;? <a href=\"mailto:a@x.org\">a@x.org</a></p>", 1, 1, 0 },
		{ "<title>a</title><p>Une question ?</p>", 1, 1, 1 },
		{ "<p>Une question<b>&#160;?</b></p><!-- issue : x -->", 1, 1, 0 },
		{ "<p>a</p><p> </p>", 1, 0, 1 },
		{ "<p><img src=\"x\" alt=\"\"></p><td></td>", 1, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run r = { .path = "case", .hidden = "", .french = cases[i].french };

		fprintf(stderr, "case %zu (%d problem(s) expected):\n", i, cases[i].problems);
		check_common(&r, cases[i].out);
		if (cases[i].html)
			check_html(&r, cases[i].out);
		else
			check_text(&r, cases[i].out);
		assert_int_equal(r.nfail, cases[i].problems);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checks),
		cmocka_unit_test(test_every_template),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
