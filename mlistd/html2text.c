/*
 * html2text.c — HTML mail body to plain text (see html2text.h).
 *
 * One forward pass over the input: a tokenizer finds text, tags, comments
 * and entities; text goes out through a small "line writer" that collapses
 * white space, emits the newlines that block elements asked for only when
 * the next text arrives (so no leading or doubled blank lines), and writes
 * the "> " prefix of quoted lines. Open elements are kept on a bounded
 * stack so that a closing tag undoes exactly what its opening tag did (a
 * quote level, a list, <pre>, a dropped <head>); a closing tag with no
 * opening one is ignored, an element never closed lasts to the end. Every
 * look-ahead is bounded, so the time is linear in the input.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "html2text.h"
#include "util.h"

enum {
	H2T_STACK = 256,	/* open elements tracked */
	H2T_NAME = 16,		/* tag names are cut to this */
	H2T_ATTR_MAX = 4096,	/* attribute values kept (href, alt) */
	H2T_HR_LOOKAHEAD = 300,	/* bytes looked at after <hr> */
};

/* Element behaviour flags. */
#define H2T_VOID	0x01	/* no content, never pushed */
#define H2T_QUOTE	0x02	/* one more "> " level inside */
#define H2T_LIST	0x04	/* <ul>/<ol> */
#define H2T_PRE		0x08	/* white space kept inside */
#define H2T_DROP	0x10	/* content not shown (<head>, <title>) */
#define H2T_RAW		0x20	/* content is not HTML (<script>, <style>) */
#define H2T_CELL	0x40	/* table cell: separated by a space */

struct h2t_tag {
	const char	*name;
	int		 block;	/* newlines around it: 0, 1 or 2 (blank line) */
	unsigned	 flags;
};

static const struct h2t_tag h2t_tags[] = {
	{ "p", 2, 0 }, { "div", 1, 0 }, { "br", 0, H2T_VOID },
	{ "h1", 2, 0 }, { "h2", 2, 0 }, { "h3", 2, 0 }, { "h4", 2, 0 },
	{ "h5", 2, 0 }, { "h6", 2, 0 }, { "ul", 2, H2T_LIST },
	{ "ol", 2, H2T_LIST }, { "li", 1, 0 }, { "dl", 2, 0 }, { "dt", 1, 0 },
	{ "dd", 1, 0 }, { "blockquote", 2, H2T_QUOTE }, { "pre", 2, H2T_PRE },
	{ "hr", 2, H2T_VOID }, { "table", 1, 0 }, { "tr", 1, 0 },
	{ "td", 0, H2T_CELL }, { "th", 0, H2T_CELL }, { "caption", 1, 0 },
	{ "section", 1, 0 }, { "article", 1, 0 }, { "header", 1, 0 },
	{ "footer", 1, 0 }, { "nav", 1, 0 }, { "aside", 1, 0 }, { "main", 1, 0 },
	{ "address", 1, 0 }, { "center", 1, 0 }, { "form", 1, 0 },
	{ "fieldset", 1, 0 }, { "figure", 1, 0 }, { "figcaption", 1, 0 },
	{ "body", 1, 0 }, { "html", 0, 0 },
	{ "head", 0, H2T_DROP }, { "title", 0, H2T_DROP },
	{ "script", 0, H2T_RAW }, { "style", 0, H2T_RAW },
	{ "img", 0, H2T_VOID }, { "meta", 0, H2T_VOID }, { "link", 0, H2T_VOID },
	{ "input", 0, H2T_VOID }, { "wbr", 0, H2T_VOID }, { "col", 0, H2T_VOID },
	{ "area", 0, H2T_VOID }, { "base", 0, H2T_VOID }, { "embed", 0, H2T_VOID },
	{ "source", 0, H2T_VOID }, { "track", 0, H2T_VOID },
	{ "param", 0, H2T_VOID },
};

struct h2t_elem {
	char		name[H2T_NAME];
	unsigned	flags;
	int		block;
	int		counter;	/* <ol>: next number; -1 for <ul> */
};

/* The attributes we care about, decoded. */
struct h2t_attrs {
	char	*href, *alt, *cls, *id;
	int	 start;
};

struct h2t {
	struct buf	 out;
	int		 pending_nl;	/* newlines wanted before the next text */
	int		 nl_run;	/* newlines written since the last text */
	int		 space;		/* collapsed white space pending */
	int		 bol;		/* at the beginning of a line */
	int		 started;	/* some text written */
	int		 quote;		/* quote depth from elements */
	int		 quote_rest;	/* Outlook reply header seen: quoted to the end */
	int		 last_depth;	/* quote depth of the last text written */
	int		 pre, drop, lists;
	int		 after_marker;	/* list marker written, no text yet */
	struct h2t_elem	 stack[H2T_STACK];
	size_t		 depth;
	char		*href;		/* open <a>, or NULL */
	size_t		 label_start;
};

/* ---- the line writer ---- */

static int
h2t_depth(const struct h2t *h)
{
	return h->quote + h->quote_rest;
}

/* End the line; a blank line inside a quote keeps the quote's '>' (the
 * lesser depth of the lines around it, so none between text and quote). */
static void
h2t_newline(struct h2t *h)
{
	int depth = h2t_depth(h) < h->last_depth ? h2t_depth(h) : h->last_depth;

	if (h->bol)
		for (int i = 0; i < depth; i++)
			buf_addc(&h->out, '>');
	buf_addc(&h->out, '\n');
	h->bol = 1;
	h->nl_run++;
	h->space = 0;
}

/* Before text: the newlines asked for, the quote prefix, a collapsed space. */
static void
h2t_flush(struct h2t *h)
{
	if (h->started)
		while (h->nl_run < h->pending_nl)
			h2t_newline(h);
	h->pending_nl = 0;
	if (h->bol) {
		if (h2t_depth(h) > 0) {
			for (int i = 0; i < h2t_depth(h); i++)
				buf_addc(&h->out, '>');
			buf_addc(&h->out, ' ');
		}
		h->bol = 0;
		h->space = 0;
	}
	if (h->space && h->out.len > 0 && h->out.data[h->out.len - 1] != ' ')
		buf_addc(&h->out, ' ');
	h->space = 0;
}

/* Text as is (no collapsing): markers, link targets, entities. */
static void
h2t_emit(struct h2t *h, const char *s, size_t n)
{
	if (h->drop || n == 0)
		return;
	h2t_flush(h);
	buf_add(&h->out, s, n);
	h->started = 1;
	h->last_depth = h2t_depth(h);
	h->nl_run = 0;
	h->after_marker = 0;
}

/* Document text: white space collapses, except in <pre>. */
static void
h2t_text(struct h2t *h, const char *s, size_t n)
{
	size_t i = 0;

	if (h->drop)
		return;
	while (i < n) {
		size_t run = 0;

		if (s[i] == '\r' && h->pre) {
			i++;
			continue;
		}
		if (s[i] == '\n' && h->pre) {
			h2t_flush(h);
			h2t_newline(h);
			i++;
			continue;
		}
		if (strchr(" \t\r\n\f", s[i]) != NULL && !h->pre) {
			h->space = 1;
			i++;
			continue;
		}
		if ((unsigned char)s[i] == 0xc2 && i + 1 < n &&
		    (unsigned char)s[i + 1] == 0xa0) {
			h2t_emit(h, " ", 1);	/* a no-break space stays */
			i += 2;
			continue;
		}
		while (i + run < n && s[i + run] != '\n' && s[i + run] != '\r' &&
		    (h->pre || strchr(" \t\f", s[i + run]) == NULL) &&
		    (unsigned char)s[i + run] != 0xc2)
			run++;
		if (run == 0)
			run = 1;
		h2t_emit(h, s + i, run);
		i += run;
	}
}

/* A block boundary: at least n newlines before the next text. */
static void
h2t_block(struct h2t *h, int n)
{
	if (h->after_marker || n == 0)
		return;
	if (n > h->pending_nl)
		h->pending_nl = n;
	h->space = 0;
}

static void
h2t_br(struct h2t *h)
{
	if (h->drop)
		return;
	h2t_flush(h);
	h2t_newline(h);
	h->after_marker = 0;
}

/* ---- entities ---- */

static const struct { const char *name; const char *utf8; } h2t_entities[] = {
	{ "amp", "&" }, { "lt", "<" }, { "gt", ">" }, { "quot", "\"" },
	{ "apos", "'" }, { "nbsp", "\xc2\xa0" }, { "shy", "" },
	{ "eacute", "é" }, { "egrave", "è" }, { "ecirc", "ê" }, { "euml", "ë" },
	{ "agrave", "à" }, { "acirc", "â" }, { "auml", "ä" }, { "aacute", "á" },
	{ "ccedil", "ç" }, { "icirc", "î" }, { "iuml", "ï" }, { "iacute", "í" },
	{ "ocirc", "ô" }, { "ouml", "ö" }, { "oacute", "ó" }, { "ugrave", "ù" },
	{ "ucirc", "û" }, { "uuml", "ü" }, { "uacute", "ú" }, { "yuml", "ÿ" },
	{ "oelig", "œ" }, { "aelig", "æ" }, { "ntilde", "ñ" }, { "szlig", "ß" },
	{ "Eacute", "É" }, { "Egrave", "È" }, { "Ecirc", "Ê" }, { "Agrave", "À" },
	{ "Acirc", "Â" }, { "Ccedil", "Ç" }, { "Icirc", "Î" }, { "Ocirc", "Ô" },
	{ "Ugrave", "Ù" }, { "Ucirc", "Û" }, { "OElig", "Œ" }, { "Ntilde", "Ñ" },
	{ "rsquo", "’" }, { "lsquo", "‘" }, { "rdquo", "”" }, { "ldquo", "“" },
	{ "bdquo", "„" }, { "laquo", "«" }, { "raquo", "»" }, { "euro", "€" },
	{ "hellip", "…" }, { "ndash", "–" }, { "mdash", "—" }, { "middot", "·" },
	{ "bull", "•" }, { "copy", "©" }, { "reg", "®" }, { "trade", "™" },
	{ "deg", "°" }, { "times", "×" }, { "divide", "÷" }, { "sect", "§" },
	{ "para", "¶" }, { "pound", "£" }, { "cent", "¢" }, { "yen", "¥" },
	{ "plusmn", "±" }, { "micro", "µ" }, { "ordm", "º" }, { "ordf", "ª" },
	{ "sup2", "²" }, { "sup3", "³" }, { "frac12", "½" }, { "frac14", "¼" },
	{ "frac34", "¾" }, { "iexcl", "¡" }, { "iquest", "¿" }, { "larr", "←" },
	{ "rarr", "→" }, { "thinsp", "\xe2\x80\x89" }, { "ensp", "\xe2\x80\x82" },
	{ "emsp", "\xe2\x80\x83" }, { "zwnj", "\xe2\x80\x8c" },
	{ "zwj", "\xe2\x80\x8d" },
};

/* Windows-1252 meaning of &#128; .. &#159; (as browsers read them). */
static const unsigned short h2t_cp1252[32] = {
	0x20ac, 0xfffd, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0xfffd, 0x017d, 0xfffd,
	0xfffd, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0xfffd, 0x017e, 0x0178,
};

static void
h2t_utf8(struct buf *b, unsigned long cp)
{
	if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		cp = 0xfffd;
	if (cp >= 0x80 && cp <= 0x9f)
		cp = h2t_cp1252[cp - 0x80];
	if (cp < 0x80) {
		buf_addc(b, (char)cp);
	} else if (cp < 0x800) {
		buf_addc(b, (char)(0xc0 | (cp >> 6)));
		buf_addc(b, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		buf_addc(b, (char)(0xe0 | (cp >> 12)));
		buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_addc(b, (char)(0x80 | (cp & 0x3f)));
	} else {
		buf_addc(b, (char)(0xf0 | (cp >> 18)));
		buf_addc(b, (char)(0x80 | ((cp >> 12) & 0x3f)));
		buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_addc(b, (char)(0x80 | (cp & 0x3f)));
	}
}

/* "&#233;" or "&#xE9;" at p (p[0] == '&', p[1] == '#'): bytes used or 0. */
static size_t
h2t_numeric_entity(const char *p, const char *end, struct buf *b)
{
	const char *q = p + 2;
	int hex = q < end && (*q == 'x' || *q == 'X');
	unsigned long cp = 0;
	size_t digits = 0;

	q += hex;
	for (; q < end && (hex ? isxdigit((unsigned char)*q) : isdigit((unsigned char)*q)); q++) {
		int v = isdigit((unsigned char)*q) ? *q - '0' : (tolower((unsigned char)*q) - 'a' + 10);

		if (cp <= 0x10ffff)
			cp = cp * (hex ? 16 : 10) + (unsigned long)v;
		digits++;
	}
	if (digits == 0)
		return 0;
	if (q < end && *q == ';')
		q++;
	h2t_utf8(b, cp);
	return (size_t)(q - p);
}

size_t
html_entity(const char *p, const char *end, struct buf *b)
{
	static const char *const legacy[] = { "amp", "lt", "gt", "quot", "nbsp" };
	size_t n = 0;

	if (p + 1 < end && p[1] == '#')
		return h2t_numeric_entity(p, end, b);
	while (p + 1 + n < end && n < 10 && isalnum((unsigned char)p[1 + n]))
		n++;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < nitems(h2t_entities); i++) {
		if (strlen(h2t_entities[i].name) != n ||
		    strncmp(p + 1, h2t_entities[i].name, n) != 0)
			continue;
		if (p + 1 + n < end && p[1 + n] == ';') {
			buf_adds(b, h2t_entities[i].utf8);
			return n + 2;
		}
		for (size_t k = 0; k < nitems(legacy); k++)
			if (strcmp(legacy[k], h2t_entities[i].name) == 0) {
				buf_adds(b, h2t_entities[i].utf8);
				return n + 1;
			}
		return 0;
	}
	return 0;
}

/* Decode the entities of an attribute value. */
static char *
h2t_decode(const char *p, size_t n)
{
	const char *end = p + n;
	struct buf b;

	buf_init(&b);
	while (p < end) {
		size_t used = *p == '&' ? html_entity(p, end, &b) : 0;

		if (used > 0) {
			p += used;
			continue;
		}
		buf_addc(&b, *p++);
	}
	return buf_steal(&b);
}

/* ---- tags ---- */

static const struct h2t_tag *
h2t_lookup(const char *name)
{
	for (size_t i = 0; i < nitems(h2t_tags); i++)
		if (strcmp(h2t_tags[i].name, name) == 0)
			return &h2t_tags[i];
	return NULL;
}

static int
h2t_has_class(const char *cls, const char *want)
{
	size_t n = strlen(want);

	for (const char *s = cls; s != NULL && *s;) {
		size_t len;

		s += strspn(s, " \t\r\n");
		len = strcspn(s, " \t\r\n");
		if (len >= n && strncasecmp(s, want, n) == 0 &&
		    (len == n || s[n] == '_'))
			return 1;
		s += len;
	}
	return 0;
}

static void
h2t_attrs_free(struct h2t_attrs *a)
{
	free(a->href);
	free(a->alt);
	free(a->cls);
	free(a->id);
}

static void
h2t_attr_set(struct h2t_attrs *a, const char *name, size_t nlen,
    const char *val, size_t vlen)
{
	char **slot = NULL;

	if (vlen > H2T_ATTR_MAX)
		vlen = H2T_ATTR_MAX;
	if (nlen == 4 && strncasecmp(name, "href", 4) == 0)
		slot = &a->href;
	else if (nlen == 3 && strncasecmp(name, "alt", 3) == 0)
		slot = &a->alt;
	else if (nlen == 5 && strncasecmp(name, "class", 5) == 0)
		slot = &a->cls;
	else if (nlen == 2 && strncasecmp(name, "id", 2) == 0)
		slot = &a->id;
	else if (nlen == 5 && strncasecmp(name, "start", 5) == 0) {
		char *v = xstrndup(val, vlen);

		a->start = atoi(v);
		free(v);
		return;
	}
	if (slot == NULL || *slot != NULL)
		return;
	*slot = h2t_decode(val, vlen);
}

/* Attributes from p to the closing '>' (quotes respected); returns the
 * position after '>', or NULL when the tag never ends. */
static const char *
h2t_parse_attrs(const char *p, const char *end, struct h2t_attrs *a)
{
	while (p < end && *p != '>') {
		const char *name = p, *val = NULL;
		size_t nlen, vlen = 0;

		if (isspace((unsigned char)*p) || *p == '/') {
			p++;
			continue;
		}
		while (p < end && !isspace((unsigned char)*p) && *p != '=' && *p != '>')
			p++;
		nlen = (size_t)(p - name);
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (p < end && *p == '=') {
			p++;
			while (p < end && isspace((unsigned char)*p))
				p++;
			if (p < end && (*p == '"' || *p == '\'')) {
				const char *q = memchr(p + 1, *p, (size_t)(end - p - 1));

				val = p + 1;
				vlen = (size_t)((q ? q : end) - val);
				p = q ? q + 1 : end;
			} else {
				val = p;
				while (p < end && !isspace((unsigned char)*p) && *p != '>')
					p++;
				vlen = (size_t)(p - val);
			}
		}
		if (nlen > 0)
			h2t_attr_set(a, name, nlen, val ? val : "", vlen);
	}
	return p < end ? p + 1 : NULL;
}

/* After <hr>: does the next visible text start with "De :" or "From:"? */
static int
h2t_hr_then_from(const char *p, const char *end)
{
	const char *lim = end - p > H2T_HR_LOOKAHEAD ? p + H2T_HR_LOOKAHEAD : end;
	int word = 0;

	while (p < lim) {
		if (*p == '<') {
			const char *q = memchr(p, '>', (size_t)(lim - p));

			if (q == NULL)
				return 0;
			p = q + 1;
		} else if (isspace((unsigned char)*p)) {
			p++;
		} else if (strncmp(p, "&nbsp;", 6) == 0) {
			p += 6;
		} else if ((unsigned char)p[0] == 0xc2 && p + 1 < lim &&
		    (unsigned char)p[1] == 0xa0) {
			p += 2;
		} else if (!word && (strncasecmp(p, "De", 2) == 0 ||
		    strncasecmp(p, "From", 4) == 0)) {
			p += tolower((unsigned char)p[0]) == 'd' ? 2 : 4;
			word = 1;
		} else
			return word && *p == ':';
	}
	return 0;
}

/* Undo what an element did when it opened. */
static void
h2t_pop_one(struct h2t *h)
{
	const struct h2t_elem *e = &h->stack[--h->depth];

	if (e->flags & H2T_QUOTE)
		h->quote--;
	if (e->flags & H2T_PRE)
		h->pre--;
	if (e->flags & H2T_DROP)
		h->drop--;
	if (e->flags & H2T_LIST)
		h->lists--;
	h2t_block(h, e->flags & H2T_LIST ? (h->lists > 0 ? 1 : 2) : e->block);
}

/* Close the innermost open `name`, and what is open inside it; stop at a
 * `barrier` element (e.g. an <li> does not close past its list). */
static int
h2t_close(struct h2t *h, const char *name, const char *const *barrier)
{
	for (size_t i = h->depth; i-- > 0;) {
		if (strcmp(h->stack[i].name, name) == 0) {
			while (h->depth > i)
				h2t_pop_one(h);
			return 1;
		}
		for (size_t b = 0; barrier && barrier[b]; b++)
			if (strcmp(h->stack[i].name, barrier[b]) == 0)
				return 0;
	}
	return 0;
}

/* Elements whose end tag is optional, closed by their next sibling. */
static void
h2t_implicit_close(struct h2t *h, const char *name, int block)
{
	static const char *const list_b[] = { "ul", "ol", NULL };
	static const char *const row_b[] = { "table", NULL };
	static const char *const cell_b[] = { "tr", "table", NULL };
	static const char *const dl_b[] = { "dl", NULL };

	if (block && h->depth > 0 && strcmp(h->stack[h->depth - 1].name, "p") == 0)
		h2t_pop_one(h);
	if (strcmp(name, "li") == 0)
		h2t_close(h, "li", list_b);
	else if (strcmp(name, "tr") == 0)
		h2t_close(h, "tr", row_b);
	else if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0) {
		if (!h2t_close(h, "td", cell_b))
			h2t_close(h, "th", cell_b);
	} else if (strcmp(name, "dt") == 0 || strcmp(name, "dd") == 0) {
		if (!h2t_close(h, "dt", dl_b))
			h2t_close(h, "dd", dl_b);
	}
}

static void
h2t_list_marker(struct h2t *h)
{
	struct h2t_elem *list = NULL;
	char mark[32];

	for (size_t i = h->depth; i-- > 0 && list == NULL;)
		if (h->stack[i].flags & H2T_LIST)
			list = &h->stack[i];
	h2t_block(h, 1);
	h2t_flush(h);
	for (int i = 1; i < h->lists; i++)
		h2t_emit(h, "  ", 2);
	if (list != NULL && list->counter >= 0)
		snprintf(mark, sizeof(mark), "%d. ", list->counter++);
	else
		snprintf(mark, sizeof(mark), "- ");
	h2t_emit(h, mark, strlen(mark));
	h->after_marker = 1;
}

/* ---- links and images ---- */

/* Compare a label and a URL loosely: scheme, "www." and a final '/' aside. */
static const char *
h2t_url_core(const char *u, size_t *len_r)
{
	size_t n;

	if (strncasecmp(u, "https://", 8) == 0)
		u += 8;
	else if (strncasecmp(u, "http://", 7) == 0)
		u += 7;
	if (strncasecmp(u, "www.", 4) == 0)
		u += 4;
	n = strlen(u);
	while (n > 0 && u[n - 1] == '/')
		n--;
	*len_r = n;
	return u;
}

static int
h2t_same_url(const char *label, size_t llen, const char *url)
{
	char *l = xstrndup(label, llen);
	size_t ln, un;
	const char *lc = h2t_url_core(l, &ln), *uc = h2t_url_core(url, &un);
	int same = ln == un && strncasecmp(lc, uc, un) == 0;

	free(l);
	return same;
}

static void
h2t_link_end(struct h2t *h)
{
	char *href = h->href;
	const char *url = href, *label;
	size_t llen;

	size_t ulen;
	char *core;
	int same;

	h->href = NULL;
	if (href == NULL)
		return;
	if (strncasecmp(url, "mailto:", 7) == 0)
		url += 7;
	ulen = url != href ? strcspn(url, "?") : strlen(url);
	label = h->out.data ? h->out.data + h->label_start : "";
	llen = h->out.len - h->label_start;
	while (llen > 0 && isspace((unsigned char)*label))
		label++, llen--;
	while (llen > 0 && isspace((unsigned char)label[llen - 1]))
		llen--;
	core = xstrndup(url, ulen);
	same = h2t_same_url(label, llen, core);
	free(core);
	if (ulen == 0 || *url == '#' || strncasecmp(url, "javascript:", 11) == 0 ||
	    strncasecmp(url, "cid:", 4) == 0 || same) {
		free(href);
		return;
	}
	if (llen > 0)
		h2t_emit(h, " (", 2);
	h2t_emit(h, url, ulen);
	if (llen > 0)
		h2t_emit(h, ")", 1);
	free(href);
}

static void
h2t_link_start(struct h2t *h, const char *href)
{
	h2t_link_end(h);
	if (href == NULL || h->drop)
		return;
	h->href = xstrdup(href);
	h->label_start = h->out.len;
}

static void
h2t_image(struct h2t *h, const char *alt)
{
	size_t n;

	if (alt == NULL)
		return;
	alt += strspn(alt, " \t\r\n");
	n = strlen(alt);
	while (n > 0 && isspace((unsigned char)alt[n - 1]))
		n--;
	if (n == 0)
		return;
	h2t_emit(h, "[", 1);
	h2t_emit(h, alt, n);
	h2t_emit(h, "]", 1);
}

/* ---- the tokenizer ---- */

/* Skip the content of <script>/<style> up to its end tag. */
static const char *
h2t_skip_raw(const char *p, const char *end, const char *name)
{
	size_t n = strlen(name);

	for (; p < end; p++) {
		const char *gt;

		if (*p != '<' || p + 2 + n > end || p[1] != '/' ||
		    strncasecmp(p + 2, name, n) != 0)
			continue;
		gt = memchr(p, '>', (size_t)(end - p));
		return gt ? gt + 1 : end;
	}
	return end;
}

static void
h2t_open(struct h2t *h, const char *name, const struct h2t_attrs *a,
    const char **p, const char *end)
{
	const struct h2t_tag *t = h2t_lookup(name);
	unsigned flags = t ? t->flags : 0;
	int block = t ? t->block : 0;

	if (strcmp(name, "a") == 0) {
		h2t_link_start(h, a->href);
		return;
	}
	if (flags & H2T_RAW) {
		*p = h2t_skip_raw(*p, end, name);
		return;
	}
	if (strcmp(name, "body") == 0)
		h2t_close(h, "head", NULL);
	h2t_implicit_close(h, name, block > 0);
	if (strcmp(name, "p") == 0 && a->cls && h2t_has_class(a->cls, "msonormal"))
		block = 1;	/* Outlook: one <p class=MsoNormal> per line */
	if ((strcmp(name, "div") == 0 && a->cls != NULL &&
	    (h2t_has_class(a->cls, "gmail_quote") || h2t_has_class(a->cls, "yahoo_quoted"))))
		flags |= H2T_QUOTE;
	if (a->id != NULL && (strcasecmp(a->id, "divRplyFwdMsg") == 0 ||
	    strcasecmp(a->id, "appendonsend") == 0))
		h->quote_rest = 1;
	if (strcmp(name, "hr") == 0 && h2t_hr_then_from(*p, end))
		h->quote_rest = 1;
	h2t_block(h, flags & H2T_LIST ? (h->lists > 0 ? 1 : 2) : block);
	if (flags & H2T_CELL)
		h->space = 1;
	if (strcmp(name, "br") == 0)
		h2t_br(h);
	else if (strcmp(name, "img") == 0)
		h2t_image(h, a->alt);
	else if (strcmp(name, "li") == 0)
		h2t_list_marker(h);
	if ((flags & H2T_VOID) || h->depth == H2T_STACK)
		return;
	snprintf(h->stack[h->depth].name, H2T_NAME, "%s", name);
	h->stack[h->depth].flags = flags;
	h->stack[h->depth].block = block;
	h->stack[h->depth].counter = strcmp(name, "ol") == 0 ? (a->start ? a->start : 1) : -1;
	h->depth++;
	h->quote += (flags & H2T_QUOTE) != 0;
	h->pre += (flags & H2T_PRE) != 0;
	h->drop += (flags & H2T_DROP) != 0;
	h->lists += (flags & H2T_LIST) != 0;
	if ((flags & H2T_PRE) && *p < end && **p == '\n')
		(*p)++;		/* a newline right after <pre> is not shown */
}

static void
h2t_end(struct h2t *h, const char *name)
{
	if (strcmp(name, "a") == 0) {
		h2t_link_end(h);
		return;
	}
	if (strcmp(name, "br") == 0) {
		h2t_br(h);	/* </br> is read as <br> by browsers */
		return;
	}
	h2t_close(h, name, NULL);
}

/* A tag at p (p[0] == '<'); returns where to continue, or NULL when the
 * '<' is plain text. */
static const char *
h2t_tag(struct h2t *h, const char *p, const char *end)
{
	char name[H2T_NAME];
	struct h2t_attrs a = { 0 };
	int closing = p + 1 < end && p[1] == '/';
	const char *s = p + 1 + closing;
	size_t n = 0;

	if (p + 3 < end && strncmp(p, "<!--", 4) == 0) {
		const char *q = memmem(p + 4, (size_t)(end - p - 4), "-->", 3);

		return q ? q + 3 : end;
	}
	if (p + 1 < end && (p[1] == '!' || p[1] == '?')) {
		const char *q = memchr(p, '>', (size_t)(end - p));

		return q ? q + 1 : end;
	}
	if (s >= end || !isalpha((unsigned char)*s))
		return NULL;
	for (; s < end && (isalnum((unsigned char)*s) || *s == ':' || *s == '-' || *s == '_'); s++)
		if (n + 1 < sizeof(name))
			name[n++] = (char)tolower((unsigned char)*s);
	name[n] = '\0';
	s = h2t_parse_attrs(s, end, &a);
	if (s == NULL) {		/* "<b" at the end: dropped, as browsers do */
		h2t_attrs_free(&a);
		return end;
	}
	if (closing)
		h2t_end(h, name);
	else
		h2t_open(h, name, &a, &s, end);
	h2t_attrs_free(&a);
	return s;
}

static void
h2t_run(struct h2t *h, const char *p, const char *end)
{
	struct buf ent;

	buf_init(&ent);
	while (p < end) {
		const char *q;

		if (*p == '<' && (q = h2t_tag(h, p, end)) != NULL) {
			p = q;
		} else if (*p == '&') {
			size_t used;

			buf_reset(&ent);
			used = html_entity(p, end, &ent);
			if (used == 0)
				used = 1, buf_addc(&ent, '&');
			h2t_text(h, ent.data, ent.len);
			p += used;
		} else {
			size_t n = 1;

			while (p + n < end && p[n] != '<' && p[n] != '&')
				n++;
			h2t_text(h, p, n);
			p += n;
		}
	}
	h2t_link_end(h);
	buf_free(&ent);
}

/* Trailing spaces off every line, at most one blank line in a row, no
 * blank line at the start or the end. */
static char *
h2t_tidy(const char *s)
{
	struct buf b;
	int blanks = 0;

	buf_init(&b);
	while (*s) {
		size_t len = strcspn(s, "\n"), n = len;

		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		if (n == 0) {
			blanks++;
		} else {
			if (b.len > 0)
				buf_adds(&b, blanks > 0 ? "\n\n" : "\n");
			buf_add(&b, s, n);
			blanks = 0;
		}
		s += len + (s[len] == '\n');
	}
	return b.len > 0 ? buf_steal(&b) : (buf_free(&b), xstrdup(""));
}

char *
html_to_text(const char *html_utf8)
{
	struct h2t h;
	char *r;

	memset(&h, 0, sizeof(h));
	buf_init(&h.out);
	h.bol = 1;
	if (html_utf8 != NULL)
		h2t_run(&h, html_utf8, html_utf8 + strlen(html_utf8));
	r = h2t_tidy(h.out.data ? buf_cstr(&h.out) : "");
	buf_free(&h.out);
	return r;
}
