/*
 * csv.c — the roster spreadsheet as CSV: encoding and delimiter detection,
 * an RFC 4180 parser tolerant of what spreadsheets export, and a writer.
 *
 * csv_parse() works in three steps: decide the encoding and produce UTF-8
 * text (BOM dropped; not valid UTF-8 means Windows-1252), pick the delimiter
 * by counting ';', ',' and tab outside quotes on the first non-blank line,
 * then read rows with a cursor that counts source lines so that every row
 * remembers where it started (for "line N:" messages in the importer).
 *
 * Only an unusable document is an error (-1): empty, UTF-16, a NUL byte, or
 * a quoted field open at the end of the data. Anything else parses; odd but
 * readable input (text after a closing quote) is kept literally.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "util.h"

struct csv_row {
	char	**fields;
	size_t	  nfields;
	size_t	  line;
};

struct csv {
	struct csv_row	*rows;
	size_t		 nrows;
	size_t		 cap;
	char		 delim;
	const char	*encoding;
};

/* Reading state over the UTF-8 text. */
struct csv_cursor {
	const char	*p;
	const char	*end;
	size_t		 line;
	char		 delim;
};

enum csv_end { CSV_END_FIELD, CSV_END_ROW };

static _Thread_local char csv_errbuf[128];

/* Windows-1252 0x80-0x9F; 0 marks an undefined byte. */
static const unsigned short cp1252_high[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
};

static const char *
csv_error(size_t line, const char *what)
{
	if (line > 0)
		snprintf(csv_errbuf, sizeof(csv_errbuf), "line %zu: %s",
		    line, what);
	else
		snprintf(csv_errbuf, sizeof(csv_errbuf), "%s", what);
	return csv_errbuf;
}

static void
utf8_put(struct buf *b, unsigned cp)
{
	if (cp < 0x80) {
		buf_addc(b, (char)cp);
	} else if (cp < 0x800) {
		buf_addc(b, (char)(0xc0 | (cp >> 6)));
		buf_addc(b, (char)(0x80 | (cp & 0x3f)));
	} else {
		buf_addc(b, (char)(0xe0 | (cp >> 12)));
		buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_addc(b, (char)(0x80 | (cp & 0x3f)));
	}
}

char *
charset_cp1252_to_utf8(const char *s, size_t n)
{
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		unsigned c = (unsigned char)s[i];

		if (c >= 0x80 && c < 0xa0)
			c = cp1252_high[c - 0x80] ? cp1252_high[c - 0x80] : 0xfffd;
		utf8_put(&b, c);
	}
	buf_cstr(&b);
	return buf_steal(&b);
}

/* Line number (1-based) of byte offset off, counting CRLF, LF, CR. */
static size_t
csv_line_at(const char *s, size_t off)
{
	size_t line = 1;

	for (size_t i = 0; i < off; i++)
		if (s[i] == '\n' || (s[i] == '\r' && (i + 1 >= off || s[i + 1] != '\n')))
			line++;
	return line;
}

/* Produce the UTF-8 text to parse in *text_r (caller frees). */
static int
csv_decode(const char *data, size_t len, char **text_r, const char **enc_r,
    const char **error_r)
{
	const char *nul;

	if (len >= 2 && ((data[0] == '\xff' && data[1] == '\xfe') ||
	    (data[0] == '\xfe' && data[1] == '\xff'))) {
		*error_r = csv_error(0, "UTF-16 file: export as CSV UTF-8 instead");
		return -1;
	}
	if ((nul = memchr(data, '\0', len)) != NULL) {
		*error_r = csv_error(csv_line_at(data, (size_t)(nul - data)),
		    "NUL byte (binary or UTF-16 file?)");
		return -1;
	}
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
		data += 3;
		len -= 3;
	}
	if (utf8_valid(data, len)) {
		*text_r = xstrndup(data, len);
		*enc_r = "UTF-8";
	} else {
		*text_r = charset_cp1252_to_utf8(data, len);
		*enc_r = "Windows-1252";
	}
	return 0;
}

static int
csv_is_blank(char c, char delim)
{
	return (c == ' ' || c == '\t') && c != delim;
}

static int
csv_is_eol(char c)
{
	return c == '\r' || c == '\n';
}

/* Skip one line end at c->p (CRLF counts as one) and count it. */
static void
csv_skip_eol(struct csv_cursor *c)
{
	if (*c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n')
		c->p++;
	c->p++;
	c->line++;
}

/* Count delimiters outside quotes on the first non-blank line. */
static char
csv_detect_delimiter(const char *s)
{
	static const char cands[] = { ';', ',', '\t' };
	size_t count[3] = { 0, 0, 0 }, best = 0;
	int quoted = 0;

	while (*s == ' ' || *s == '\t' || csv_is_eol(*s))
		s++;
	for (; *s != '\0' && (quoted || !csv_is_eol(*s)); s++) {
		if (*s == '"')
			quoted = !quoted;
		for (size_t i = 0; i < 3 && !quoted; i++)
			count[i] += *s == cands[i];
	}
	for (size_t i = 1; i < 3; i++)
		if (count[i] > count[best])
			best = i;
	return count[best] > 0 ? cands[best] : ',';
}

/* Body of a quoted field, c->p just past the opening quote. */
static int
csv_read_quoted(struct csv_cursor *c, struct buf *f, const char **error_r)
{
	size_t start = c->line;

	for (;;) {
		if (c->p >= c->end) {
			*error_r = csv_error(start, "quoted field not closed "
			    "(missing '\"')");
			return -1;
		}
		if (*c->p == '"') {
			c->p++;
			if (c->p >= c->end || *c->p != '"')
				return 0;
			buf_addc(f, '"');
			c->p++;
		} else if (csv_is_eol(*c->p)) {
			buf_addc(f, '\n');
			csv_skip_eol(c);
		} else {
			buf_addc(f, *c->p++);
		}
	}
}

/* One field into f. Returns CSV_END_FIELD, CSV_END_ROW, or -1. */
static int
csv_read_field(struct csv_cursor *c, struct buf *f, int *quoted_r,
    const char **error_r)
{
	size_t keep = 0;

	buf_reset(f);
	*quoted_r = 0;
	while (c->p < c->end && csv_is_blank(*c->p, c->delim))
		c->p++;
	if (c->p < c->end && *c->p == '"') {
		c->p++;
		if (csv_read_quoted(c, f, error_r) < 0)
			return -1;
		*quoted_r = 1;
		keep = f->len;
	}
	while (c->p < c->end && *c->p != c->delim && !csv_is_eol(*c->p))
		buf_addc(f, *c->p++);
	while (f->len > keep && csv_is_blank(f->data[f->len - 1], c->delim))
		f->len--;
	buf_cstr(f);
	if (c->p < c->end && *c->p == c->delim) {
		c->p++;
		return CSV_END_FIELD;
	}
	if (c->p < c->end)
		csv_skip_eol(c);
	return CSV_END_ROW;
}

static void
csv_row_free(struct csv_row *row)
{
	for (size_t i = 0; i < row->nfields; i++)
		free(row->fields[i]);
	free(row->fields);
	row->fields = NULL;
	row->nfields = 0;
}

/* One row into *row; *skip_r set for a blank row. */
static int
csv_read_row(struct csv_cursor *c, struct csv_row *row, int *skip_r,
    const char **error_r)
{
	struct buf f;
	int ret, quoted;

	buf_init(&f);
	memset(row, 0, sizeof(*row));
	row->line = c->line;
	*skip_r = 1;
	do {
		if ((ret = csv_read_field(c, &f, &quoted, error_r)) < 0) {
			csv_row_free(row);
			break;
		}
		if (quoted || f.len > 0)
			*skip_r = 0;
		row->fields = xrealloc(row->fields,
		    (row->nfields + 1) * sizeof(*row->fields));
		row->fields[row->nfields++] = buf_steal(&f);
	} while (ret == CSV_END_FIELD);
	buf_free(&f);
	return ret < 0 ? -1 : 0;
}

static void
csv_add_row(struct csv *csv, struct csv_row *row)
{
	if (csv->nrows == csv->cap) {
		csv->cap = csv->cap ? csv->cap * 2 : 64;
		csv->rows = xrealloc(csv->rows, csv->cap * sizeof(*csv->rows));
	}
	csv->rows[csv->nrows++] = *row;
}

static int
csv_read_rows(struct csv *csv, const char *text, const char **error_r)
{
	struct csv_cursor c = { text, text + strlen(text), 1, csv->delim };
	struct csv_row row;
	int skip;

	while (c.p < c.end) {
		if (csv_read_row(&c, &row, &skip, error_r) < 0)
			return -1;
		if (skip)
			csv_row_free(&row);
		else
			csv_add_row(csv, &row);
	}
	if (csv->nrows == 0) {
		*error_r = csv_error(0, "empty document");
		return -1;
	}
	return 0;
}

int
csv_parse(const char *data, size_t len, struct csv **csv_r,
    const char **error_r)
{
	struct csv *csv;
	char *text;
	const char *enc;
	int ret;

	*csv_r = NULL;
	if (csv_decode(data, len, &text, &enc, error_r) < 0)
		return -1;
	csv = xcalloc(1, sizeof(*csv));
	csv->encoding = enc;
	csv->delim = csv_detect_delimiter(text);
	ret = csv_read_rows(csv, text, error_r);
	free(text);
	if (ret < 0)
		csv_free(&csv);
	*csv_r = csv;
	return ret;
}

void
csv_free(struct csv **csvp)
{
	struct csv *csv = *csvp;

	if (csv == NULL)
		return;
	for (size_t i = 0; i < csv->nrows; i++)
		csv_row_free(&csv->rows[i]);
	free(csv->rows);
	free(csv);
	*csvp = NULL;
}

size_t
csv_nrows(const struct csv *csv)
{
	return csv->nrows;
}

size_t
csv_nfields(const struct csv *csv, size_t row)
{
	return row < csv->nrows ? csv->rows[row].nfields : 0;
}

const char *
csv_field(const struct csv *csv, size_t row, size_t col)
{
	if (row >= csv->nrows || col >= csv->rows[row].nfields)
		return "";
	return csv->rows[row].fields[col];
}

size_t
csv_line(const struct csv *csv, size_t row)
{
	return row < csv->nrows ? csv->rows[row].line : 0;
}

char
csv_delimiter(const struct csv *csv)
{
	return csv->delim;
}

const char *
csv_encoding(const struct csv *csv)
{
	return csv->encoding;
}

void
csv_write_field(struct buf *out, const char *field, char delim)
{
	size_t n = strlen(field);
	int quote = n > 0 && (csv_is_blank(field[0], 0) ||
	    csv_is_blank(field[n - 1], 0));

	for (const char *s = field; *s != '\0' && !quote; s++)
		quote = *s == delim || *s == '"' || csv_is_eol(*s);
	if (!quote) {
		buf_add(out, field, n);
		return;
	}
	buf_addc(out, '"');
	for (const char *s = field; *s != '\0'; s++) {
		if (*s == '"')
			buf_addc(out, '"');
		buf_addc(out, *s);
	}
	buf_addc(out, '"');
}

void
csv_write_row(struct buf *out, const char *const *fields, size_t n, char delim)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_addc(out, delim);
		csv_write_field(out, fields[i], delim);
	}
	buf_adds(out, "\r\n");
}
