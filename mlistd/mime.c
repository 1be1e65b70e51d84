/*
 * mime.c — the GMime adapter (see mime.h). The only file that includes
 * <gmime/gmime.h>; no GMime or GLib type leaves it.
 *
 * GMime facts this file relies on: getters return borrowed references
 * (never unref'd here); strings from g_mime_content_type_get_mime_type()
 * and g_convert() are g_free'd; parser options must outlive every message
 * parsed with them (headers keep a pointer for lazy decoding), so one set is
 * created at initialisation and kept for the life of the process.
 *
 * Safety: input is capped at MIME_MAX_SIZE before GMime sees it; a parse
 * that yields no header is refused. Header names and values written through
 * this module are cleaned of CR and LF (see mime.h). Serialisation rewrites
 * every line ending, including a bare CR, to the requested one, so the bytes
 * handed to SMTP never hold a bare CR or LF (no SMTP smuggling).
 *
 * Text decoding: parts labelled us-ascii or latin-1 (or unlabelled) are
 * read as windows-1252, a superset in practice; a UTF-8 part with invalid
 * bytes keeps its valid sequences and reads the rest as windows-1252.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "html2text.h"
#include "mime.h"
#include "util.h"

struct mime_msg {
	GMimeMessage	*msg;
	GByteArray	*borrowed;	/* the caller's bytes (mime_parse_borrowed) */
};

#define MIME_MAX_DEPTH	64

static pthread_once_t mime_once = PTHREAD_ONCE_INIT;
static GMimeParserOptions *mime_popts;	/* kept for the life of the process */

static void
mime_init_once(void)
{
	static const char *fallback[] = { "UTF-8", "windows-1252", NULL };

	g_mime_init();
	mime_popts = g_mime_parser_options_new();
	g_mime_parser_options_set_fallback_charsets(mime_popts, fallback);
	g_mime_parser_options_set_rfc2047_compliance_mode(mime_popts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_address_compliance_mode(mime_popts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(mime_popts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
}

void
mime_global_init(void)
{
	pthread_once(&mime_once, mime_init_once);
}

/* ---- parsing and freeing ---- */

/* Number of obj's own headers of that name (any case), all if NULL. */
static int
mime_list_count(GMimeObject *obj, const char *name)
{
	GMimeHeaderList *list;
	int i, n, count = 0;

	if (obj == NULL)
		return 0;
	list = g_mime_object_get_header_list(obj);
	n = g_mime_header_list_get_count(list);
	for (i = 0; i < n && name != NULL; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(list, i);

		if (g_ascii_strcasecmp(g_mime_header_get_name(h), name) == 0)
			count++;
	}
	return name != NULL ? count : n;
}

/* Parse from stream (which the parser keeps: parts refer to it). */
static int
mime_parse_stream(GMimeStream *stream, struct mime_msg **m_r, const char **error_r)
{
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *msg;

	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	msg = g_mime_parser_construct_message(parser, mime_popts);
	g_object_unref(parser);
	if (msg == NULL) {
		*error_r = "not a MIME message";
		return -1;
	}
	if (mime_list_count(GMIME_OBJECT(msg), NULL) == 0 &&
	    mime_list_count(g_mime_message_get_mime_part(msg), NULL) == 0) {
		g_object_unref(msg);
		*error_r = "message has no header";
		return -1;
	}
	*m_r = xcalloc(1, sizeof(**m_r));
	(*m_r)->msg = msg;
	return 0;
}

int
mime_parse(const char *data, size_t len, struct mime_msg **m_r,
    const char **error_r)
{
	GMimeStream *stream;
	int rc;

	*m_r = NULL;
	if (len > MIME_MAX_SIZE) {
		*error_r = "message too large";
		return -1;
	}
	mime_global_init();
	stream = g_mime_stream_mem_new_with_buffer(data, len);
	rc = mime_parse_stream(stream, m_r, error_r);
	g_object_unref(stream);
	return rc;
}

int
mime_parse_borrowed(const char *data, size_t len, struct mime_msg **m_r,
    const char **error_r)
{
	GByteArray *ba;
	GMimeStream *stream;
	int rc;

	*m_r = NULL;
	if (len > MIME_MAX_SIZE) {
		*error_r = "message too large";
		return -1;
	}
	mime_global_init();
	/* A byte array over the caller's bytes, never freed nor grown by us. */
	ba = g_byte_array_new_take((guint8 *)data, len);
	stream = g_mime_stream_mem_new_with_byte_array(ba);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
	rc = mime_parse_stream(stream, m_r, error_r);
	g_object_unref(stream);
	if (rc == 0)
		(*m_r)->borrowed = ba;
	else
		g_byte_array_free(ba, FALSE);
	return rc;
}

void
mime_free(struct mime_msg **m)
{
	if (*m == NULL)
		return;
	g_object_unref((*m)->msg);	/* and the stream its parts refer to */
	if ((*m)->borrowed)
		g_byte_array_free((*m)->borrowed, FALSE);	/* not the caller's bytes */
	free(*m);
	*m = NULL;
}

/* ---- small string helpers ---- */

static char *
mime_trimdup(const char *s)
{
	char *r = xstrdup(s != NULL ? s : "");

	return str_trim(r);
}

/* A header value with every CR and LF replaced by a space. */
static char *
mime_clean_value(const char *v)
{
	char *r = xstrdup(v != NULL ? v : ""), *p;

	for (p = r; *p != '\0'; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	return r;
}

/* A header name: anything but printable ASCII other than ':' becomes '-'. */
static char *
mime_clean_name(const char *n)
{
	char *r = xstrdup(n != NULL ? n : ""), *p;

	for (p = r; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 127 ||
		    *p == ':')
			*p = '-';
	return r;
}

/* ---- reading headers ---- */

/* The first header of that name: message headers, then (for Content-*)
 * the top-level part's own headers. Borrowed. */
static GMimeHeader *
mime_find_header(const struct mime_msg *m, const char *name)
{
	GMimeHeader *h;
	GMimeObject *top;

	h = g_mime_header_list_get_header(
	    g_mime_object_get_header_list(GMIME_OBJECT(m->msg)), name);
	if (h != NULL)
		return h;
	top = g_mime_message_get_mime_part(m->msg);
	if (top == NULL)
		return NULL;
	return g_mime_header_list_get_header(
	    g_mime_object_get_header_list(top), name);
}

char *
mime_header(const struct mime_msg *m, const char *name)
{
	GMimeHeader *h = mime_find_header(m, name);

	return h != NULL ? mime_trimdup(g_mime_header_get_value(h)) : NULL;
}

/* A header's raw value unfolded and trimmed. */
static char *
mime_raw_unfolded(GMimeHeader *h)
{
	const char *raw = g_mime_header_get_raw_value(h);
	char *unfolded, *r;

	if (raw == NULL)
		return xstrdup("");
	unfolded = g_mime_utils_header_unfold(raw);
	r = mime_trimdup(unfolded);
	g_free(unfolded);
	return r;
}

char *
mime_header_raw(const struct mime_msg *m, const char *name)
{
	GMimeHeader *h = mime_find_header(m, name);

	return h != NULL ? mime_raw_unfolded(h) : NULL;
}

/* The nth message header of that name; borrowed, NULL past the last. */
static GMimeHeader *
mime_nth_header(const struct mime_msg *m, const char *name, int nth)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(GMIME_OBJECT(m->msg));
	int i, n = g_mime_header_list_get_count(list);

	for (i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(list, i);

		if (g_ascii_strcasecmp(g_mime_header_get_name(h), name) == 0 && nth-- == 0)
			return h;
	}
	return NULL;
}

char *
mime_header_nth(const struct mime_msg *m, const char *name, int nth)
{
	GMimeHeader *h = mime_nth_header(m, name, nth);

	return h != NULL ? mime_trimdup(g_mime_header_get_value(h)) : NULL;
}

char *
mime_header_raw_nth(const struct mime_msg *m, const char *name, int nth)
{
	GMimeHeader *h = mime_nth_header(m, name, nth);

	return h != NULL ? mime_raw_unfolded(h) : NULL;
}

int
mime_header_contains(const struct mime_msg *m, const char *name, const char *needle)
{
	char *v;
	int found = 0;

	for (int i = 0; !found && (v = mime_header_nth(m, name, i)) != NULL; i++) {
		found = strcasestr(v, needle) != NULL;
		free(v);
	}
	return found;
}

int
mime_header_count(const struct mime_msg *m, const char *name)
{
	int n = mime_list_count(GMIME_OBJECT(m->msg), name);

	if (n == 0)
		n = mime_list_count(g_mime_message_get_mime_part(m->msg), name);
	return n;
}

/* First mailbox of a list, looking inside groups. Borrowed. */
static InternetAddressMailbox *
mime_first_mailbox(InternetAddressList *list, int depth)
{
	int i, n;

	if (list == NULL || depth > 2)
		return NULL;
	n = internet_address_list_length(list);
	for (i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);
		InternetAddressMailbox *mb;

		if (INTERNET_ADDRESS_IS_MAILBOX(ia))
			return INTERNET_ADDRESS_MAILBOX(ia);
		if (!INTERNET_ADDRESS_IS_GROUP(ia))
			continue;
		mb = mime_first_mailbox(internet_address_group_get_members(
		    INTERNET_ADDRESS_GROUP(ia)), depth + 1);
		if (mb != NULL)
			return mb;
	}
	return NULL;
}

char *
mime_from_address(const struct mime_msg *m)
{
	InternetAddressMailbox *mb;
	const char *addr;

	mb = mime_first_mailbox(g_mime_message_get_from(m->msg), 0);
	if (mb == NULL)
		return NULL;
	addr = internet_address_mailbox_get_addr(mb);
	if (addr == NULL || *addr == '\0')
		return NULL;
	return str_lower(mime_trimdup(addr));
}

char *
mime_from_name(const struct mime_msg *m)
{
	InternetAddressMailbox *mb;
	char *name;

	mb = mime_first_mailbox(g_mime_message_get_from(m->msg), 0);
	if (mb == NULL)
		return NULL;
	name = mime_trimdup(internet_address_get_name(INTERNET_ADDRESS(mb)));
	if (*name == '\0') {
		free(name);
		return NULL;
	}
	return name;
}

char *
mime_subject(const struct mime_msg *m)
{
	return mime_trimdup(g_mime_message_get_subject(m->msg));
}

time_t
mime_date(const struct mime_msg *m)
{
	GDateTime *dt = g_mime_message_get_date(m->msg);

	return dt != NULL ? (time_t)g_date_time_to_unix(dt) : 0;
}

char *
mime_message_id(const struct mime_msg *m)
{
	const char *id = g_mime_message_get_message_id(m->msg);

	return id != NULL && *id != '\0' ? xstrdup(id) : NULL;
}

/* ---- writing headers ---- */

enum mime_hdr_op { MIME_HDR_SET, MIME_HDR_APPEND, MIME_HDR_PREPEND };

static void
mime_write_header(struct mime_msg *m, enum mime_hdr_op op, const char *name,
    const char *value)
{
	GMimeObject *obj = GMIME_OBJECT(m->msg);
	char *n = mime_clean_name(name), *v = mime_clean_value(value);

	if (*n != '\0') {
		if (op == MIME_HDR_SET)
			g_mime_object_set_header(obj, n, v, "utf-8");
		else if (op == MIME_HDR_APPEND)
			g_mime_object_append_header(obj, n, v, "utf-8");
		else
			g_mime_object_prepend_header(obj, n, v, "utf-8");
	}
	free(n);
	free(v);
}

void
mime_set_header(struct mime_msg *m, const char *name, const char *value_utf8)
{
	mime_write_header(m, MIME_HDR_SET, name, value_utf8);
}

void
mime_add_header(struct mime_msg *m, const char *name, const char *value_utf8)
{
	mime_write_header(m, MIME_HDR_APPEND, name, value_utf8);
}

void
mime_prepend_header(struct mime_msg *m, const char *name,
    const char *value_utf8)
{
	mime_write_header(m, MIME_HDR_PREPEND, name, value_utf8);
}

void
mime_remove_header(struct mime_msg *m, const char *name)
{
	GMimeObject *obj = GMIME_OBJECT(m->msg);
	int n = mime_list_count(obj, name);

	/* g_mime_object_remove_header() removes the first one only. */
	while (n-- >= 0 && g_mime_object_remove_header(obj, name))
		;
}

void
mime_set_from(struct mime_msg *m, const char *display_name_utf8,
    const char *addr)
{
	InternetAddressList *list = g_mime_message_get_from(m->msg);
	InternetAddress *ia;
	char *n = mime_clean_value(display_name_utf8);
	char *a = mime_clean_value(addr);

	str_trim(n);
	str_trim(a);
	internet_address_list_clear(list);
	ia = internet_address_mailbox_new(*n != '\0' ? n : NULL, a);
	internet_address_set_charset(ia, "utf-8");
	internet_address_list_add(list, ia);
	g_object_unref(ia);
	free(n);
	free(a);
}

/* ---- walking the part tree ---- */

/* Visitor: return 1 to stop the walk. */
typedef int (*mime_visit_fn)(GMimeObject *part, void *ctx);

/* Depth-first over leaf parts; message/rfc822 parts are leaves, not entered. */
static int
mime_walk(GMimeObject *obj, mime_visit_fn fn, void *ctx, int depth)
{
	GMimeMultipart *mp;
	int i, n;

	if (obj == NULL || depth > MIME_MAX_DEPTH)
		return 0;
	if (!GMIME_IS_MULTIPART(obj))
		return fn(obj, ctx);
	mp = GMIME_MULTIPART(obj);
	n = g_mime_multipart_get_count(mp);
	for (i = 0; i < n; i++)
		if (mime_walk(g_mime_multipart_get_part(mp, i), fn, ctx,
		    depth + 1))
			return 1;
	return 0;
}

/* Depth-first over every object: containers, leaves, and the messages
 * inside message/rfc822 parts (entered); fn(obj, ctx) != 0 stops. */
static int
mime_walk_all(GMimeObject *obj, mime_visit_fn fn, void *ctx, int depth)
{
	int i, n;

	if (obj == NULL || depth > MIME_MAX_DEPTH)
		return 0;
	if (fn(obj, ctx))
		return 1;
	if (GMIME_IS_MESSAGE(obj))
		return mime_walk_all(g_mime_message_get_mime_part(GMIME_MESSAGE(obj)), fn, ctx,
		    depth + 1);
	if (GMIME_IS_MESSAGE_PART(obj))
		return mime_walk_all(GMIME_OBJECT(g_mime_message_part_get_message(
		    GMIME_MESSAGE_PART(obj))), fn, ctx, depth + 1);
	if (!GMIME_IS_MULTIPART(obj))
		return 0;
	n = g_mime_multipart_get_count(GMIME_MULTIPART(obj));
	for (i = 0; i < n; i++)
		if (mime_walk_all(g_mime_multipart_get_part(GMIME_MULTIPART(obj), i), fn, ctx,
		    depth + 1))
			return 1;
	return 0;
}

static int
mime_is_attachment(GMimeObject *obj)
{
	const char *d = g_mime_object_get_disposition(obj);

	return d != NULL && g_ascii_strcasecmp(d, "attachment") == 0;
}

static int
mime_is_text(GMimeObject *obj, const char *subtype)
{
	return GMIME_IS_PART(obj) && g_mime_content_type_is_type(
	    g_mime_object_get_content_type(obj), "text", subtype);
}

/* ---- content and charsets ---- */

/* The part's content with its transfer encoding undone; ba->data is
 * never NULL (an empty array has none: memcpy from it is undefined) and is
 * followed by a NUL not counted in ba->len. Caller frees with
 * g_byte_array_free(ba, TRUE). */
static GByteArray *
mime_part_bytes(GMimePart *part)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	GMimeStream *s = g_mime_stream_mem_new();
	GByteArray *ba;

	if (w != NULL)
		g_mime_data_wrapper_write_to_stream(w, s);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(s), FALSE);
	g_object_unref(s);
	g_byte_array_append(ba, (const guint8 *)"", 1);
	g_byte_array_set_size(ba, ba->len - 1);
	return ba;
}

/* windows-1252 0x80..0x9F; the five undefined bytes map to the C1 code
 * point of the same value, as browsers do. */
static const unsigned short mime_cp1252[32] = {
	0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
	0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
};

static void
mime_add_cp1252(struct buf *b, unsigned char c)
{
	char u[8];
	gunichar uc = c;

	if (c >= 0x80 && c < 0xa0)
		uc = mime_cp1252[c - 0x80];
	buf_add(b, u, (size_t)g_unichar_to_utf8(uc, u));
}

/* Valid UTF-8 sequences copied, other bytes read as windows-1252,
 * NUL bytes dropped. An empty part's bytes may be NULL (no arithmetic on
 * it: NULL + 0 is undefined). */
static char *
mime_utf8_or_cp1252(const char *data, size_t len)
{
	const char *p = data, *end;
	struct buf b;

	if (len == 0)
		return xstrdup("");
	end = data + len;
	buf_init(&b);
	buf_add(&b, "", 0);
	while (p < end) {
		unsigned char c = (unsigned char)*p;
		gunichar uc;

		if (c < 0x80) {
			if (c != 0)
				buf_addc(&b, (char)c);
			p++;
			continue;
		}
		uc = g_utf8_get_char_validated(p, end - p);
		if (uc == (gunichar)-1 || uc == (gunichar)-2) {
			mime_add_cp1252(&b, c);
			p++;
			continue;
		}
		buf_add(&b, p, (size_t)g_utf8_skip[c]);
		p += g_utf8_skip[c];
	}
	return buf_steal(&b);
}

static int
mime_charset_is_latin(const char *cs)
{
	static const char *const latin[] = {
		"us-ascii", "ascii", "iso-8859-1", "iso8859-1", "latin1",
		"iso_8859-1", "l1", "windows-1252", "cp1252", "x-user-defined",
		"ansi_x3.4-1968", "unknown-8bit", "x-unknown",
	};
	size_t i;

	for (i = 0; i < nitems(latin); i++)
		if (g_ascii_strcasecmp(cs, latin[i]) == 0)
			return 1;
	return 0;
}

/* Bytes in a declared charset to UTF-8 (never fails). */
static char *
mime_to_utf8(const char *data, size_t len, const char *charset)
{
	const char *iconv_name;
	gsize written = 0;
	gchar *conv;
	char *r;

	if (charset == NULL || *charset == '\0' ||
	    mime_charset_is_latin(charset) ||
	    g_ascii_strcasecmp(charset, "utf-8") == 0 ||
	    g_ascii_strcasecmp(charset, "utf8") == 0)
		return mime_utf8_or_cp1252(data, len);
	iconv_name = g_mime_charset_iconv_name(charset);
	conv = g_convert(data, (gssize)len, "UTF-8", iconv_name, NULL,
	    &written, NULL);
	if (conv == NULL)
		return mime_utf8_or_cp1252(data, len);
	r = mime_utf8_or_cp1252(conv, written);
	g_free(conv);
	return r;
}

static char *mime_newlines(const unsigned char *p, size_t len, int crlf,
    size_t *len_r);

/* A text part's content as UTF-8 with LF line endings. */
static char *
mime_part_text(GMimePart *part)
{
	GByteArray *ba = mime_part_bytes(part);
	const char *cs;
	char *u, *r;
	size_t len;

	cs = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part),
	    "charset");
	u = mime_to_utf8((const char *)ba->data, ba->len, cs);
	g_byte_array_free(ba, TRUE);
	r = mime_newlines((const unsigned char *)u, strlen(u), 0, &len);
	free(u);
	return r;
}

static int
mime_needs_qp(const char *text)
{
	size_t col = 0;

	for (; *text != '\0'; text++) {
		if ((unsigned char)*text >= 0x80 || *text == '\r')
			return 1;
		col = *text == '\n' ? 0 : col + 1;
		if (col > 900)
			return 1;
	}
	return 0;
}

/* Replace a part's content by UTF-8 text (charset=utf-8; 7bit or, when
 * needed, quoted-printable; a base64 part stays base64). */
static void
mime_part_set_utf8(GMimePart *part, const char *text)
{
	GMimeStream *s;
	GMimeDataWrapper *w;
	GMimeContentEncoding enc;

	s = g_mime_stream_mem_new_with_buffer(text, strlen(text));
	w = g_mime_data_wrapper_new_with_stream(s,
	    GMIME_CONTENT_ENCODING_DEFAULT);
	g_object_unref(s);
	g_mime_part_set_content(part, w);
	g_object_unref(w);
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(part),
	    "charset", "utf-8");
	enc = g_mime_part_get_content_encoding(part);
	if (enc == GMIME_CONTENT_ENCODING_BASE64)
		return;
	g_mime_part_set_content_encoding(part, mime_needs_qp(text) ?
	    GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE :
	    GMIME_CONTENT_ENCODING_7BIT);
}

/* ---- text body ---- */

struct mime_find_ctx {
	const char	*subtype;
	GMimeObject	*found;
};

static int
mime_visit_find_text(GMimeObject *obj, void *ctx)
{
	struct mime_find_ctx *fc = ctx;

	if (!mime_is_text(obj, fc->subtype) || mime_is_attachment(obj))
		return 0;
	fc->found = obj;
	return 1;
}

/* First non-attachment text/<subtype> leaf, or NULL. Borrowed. */
static GMimePart *
mime_find_text(const struct mime_msg *m, const char *subtype)
{
	struct mime_find_ctx fc = { subtype, NULL };

	mime_walk(g_mime_message_get_mime_part(m->msg), mime_visit_find_text,
	    &fc, 0);
	return fc.found != NULL ? GMIME_PART(fc.found) : NULL;
}

char *
mime_text_plain(const struct mime_msg *m, int *is_html_r)
{
	GMimePart *part;

	if (is_html_r != NULL)
		*is_html_r = 0;
	if ((part = mime_find_text(m, "plain")) != NULL)
		return mime_part_text(part);
	if ((part = mime_find_text(m, "html")) == NULL)
		return NULL;
	if (is_html_r != NULL)
		*is_html_r = 1;
	return mime_part_text(part);
}

/* ---- the list password ("Approved:") ---- */

/* Length of "approved:" / "approve:" (any case, blanks before the colon)
 * at s, or 0. */
static size_t
mime_approved_prefix(const char *s)
{
	size_t i;

	if (g_ascii_strncasecmp(s, "approve", 7) != 0)
		return 0;
	i = 7;
	if (s[i] == 'd' || s[i] == 'D')
		i++;
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	return s[i] == ':' ? i + 1 : 0;
}

static int
mime_blank_line(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!g_ascii_isspace(s[i]))
			return 0;
	return 1;
}

/* In plain text: the first non-blank line, when it is "Approved: X"
 * (and X equals want, if given). Sets the span to cut (the line and the
 * blank lines after it) and, when want is NULL, *secret_r. */
static int
mime_plain_approved(const char *t, const char *want, size_t *from_r,
    size_t *to_r, char **secret_r)
{
	const char *line = t, *eol;
	size_t pre;
	char *sec;

	while (*line != '\0') {
		eol = strchr(line, '\n');
		eol = eol != NULL ? eol + 1 : line + strlen(line);
		if (!mime_blank_line(line, (size_t)(eol - line)))
			break;
		line = eol;
	}
	while (*line == ' ' || *line == '\t')
		line++;
	if ((pre = mime_approved_prefix(line)) == 0)
		return 0;
	eol = line + strcspn(line, "\n");
	sec = str_trim(xstrndup(line + pre, (size_t)(eol - line) - pre));
	if (*sec == '\0' || (want != NULL && strcmp(sec, want) != 0)) {
		free(sec);
		return 0;
	}
	if (*eol == '\n')
		eol++;
	while (*eol != '\0' && mime_blank_line(eol, strcspn(eol, "\n")))
		eol += strcspn(eol, "\n") + (eol[strcspn(eol, "\n")] != '\0');
	*from_r = (size_t)(line - t);
	*to_r = (size_t)(eol - t);
	if (secret_r != NULL)
		*secret_r = sec;
	else
		free(sec);
	return 1;
}

/* The tag "<name ...>" (closing = 0) or "</name>" (closing = 1) at p:
 * copies its lower-case name into out and returns the end, or NULL. */
static const char *
mime_html_tag(const char *p, int closing, char *out, size_t outlen)
{
	size_t n = 0;

	if (*p++ != '<' || (*p == '/') != closing)
		return NULL;
	p += closing;
	while (g_ascii_isalnum(*p) && n + 1 < outlen)
		out[n++] = g_ascii_tolower(*p++);
	out[n] = '\0';
	if (n == 0 || (*p != '>' && !g_ascii_isspace(*p) && *p != '/'))
		return NULL;
	p = strchr(p, '>');
	return p != NULL ? p + 1 : NULL;
}

/* After p: white space and "<br>"s skipped. */
static const char *
mime_html_skip_br(const char *p)
{
	char t[16];
	const char *e;

	for (;;) {
		while (g_ascii_isspace(*p))
			p++;
		e = mime_html_tag(p, 0, t, sizeof(t));
		if (e == NULL || strcmp(t, "br") != 0)
			return p;
		p = e;
	}
}

/* Start of the opening tag that ends just before p (blanks allowed),
 * or NULL; its name in out. */
static const char *
mime_html_open_before(const char *h, const char *p, char *out, size_t outlen)
{
	const char *lt;

	while (p > h && g_ascii_isspace(p[-1]))
		p--;
	if (p == h || p[-1] != '>')
		return NULL;
	for (lt = p - 1; lt > h && *lt != '<'; lt--)
		;
	if (mime_html_tag(lt, 0, out, outlen) != p)
		return NULL;
	return lt;
}

/* Does h[from, to) open a <name> element? */
static int
mime_html_opens(const char *h, size_t from, size_t to, const char *name)
{
	char t[16];
	size_t i;

	for (i = from; i < to; i++)
		if (h[i] == '<' && mime_html_tag(h + i, 0, t, sizeof(t)) &&
		    strcmp(t, name) == 0)
			return 1;
	return 0;
}

/* Widen [*from, *to) over the "<br>"s after it, closing tags whose opening
 * tag it holds, and enclosing elements ("<p>", "<div ...>") left empty. */
static void
mime_html_widen(const char *h, size_t *from, size_t *to)
{
	char t1[16], t2[16];
	const char *a, *open, *end;
	int i;

	for (i = 0; i < 8; i++) {
		a = mime_html_skip_br(h + *to);
		if ((end = mime_html_tag(a, 1, t2, sizeof(t2))) == NULL)
			break;
		open = mime_html_open_before(h, h + *from, t1, sizeof(t1));
		if (open != NULL && strcmp(t1, t2) == 0)
			*from = (size_t)(open - h);
		else if (!mime_html_opens(h, *from, *to, t2))
			break;
		*to = (size_t)(end - h);
	}
	*to = (size_t)(mime_html_skip_br(h + *to) - h);
}

/*
 * The visible text of HTML, as a reader sees it: tags, comments and the
 * contents of <style>/<script> dropped, entities decoded (&amp;, &#38;,
 * &#x26;...). Each visible byte i comes from the source bytes
 * [from[i], to[i]), so a match in the text maps back to the HTML. With
 * keep_tags, only entities are decoded (attribute values count too).
 */
struct mime_vis {
	struct buf	 t;
	size_t		*from, *to;
	size_t		 cap;
};

static void
mime_vis_add(struct mime_vis *v, const char *s, size_t n, size_t from, size_t to)
{
	for (size_t k = 0; k < n; k++) {
		if (v->t.len + 1 > v->cap) {
			v->cap = v->cap ? v->cap * 2 : 256;
			v->from = xrealloc(v->from, v->cap * sizeof *v->from);
			v->to = xrealloc(v->to, v->cap * sizeof *v->to);
		}
		v->from[v->t.len] = from;
		v->to[v->t.len] = to;
		buf_addc(&v->t, s[k]);
	}
}

/* Bytes taken by the markup at h + i (h[i] == '<'): a comment, a <style>
 * or <script> element, or a tag; 0 when the '<' is literal text. */
static size_t
mime_vis_markup(const char *h, size_t i, size_t len)
{
	static const char *const hidden[] = { "style", "script" };
	const char *end;

	if (strncmp(h + i, "<!--", 4) == 0)
		return (end = strstr(h + i + 4, "-->")) != NULL ? (size_t)(end + 3 - h) - i : len - i;
	if ((end = strchr(h + i, '>')) == NULL)
		return 0;
	for (size_t k = 0; k < nitems(hidden); k++) {
		size_t n = strlen(hidden[k]);
		const char *close;
		char pat[16];

		if (g_ascii_strncasecmp(h + i + 1, hidden[k], n) != 0 || g_ascii_isalnum(h[i + 1 + n]))
			continue;
		snprintf(pat, sizeof pat, "</%s", hidden[k]);
		for (close = end; (close = strchr(close, '<')) != NULL; close++)
			if (g_ascii_strncasecmp(close, pat, n + 2) == 0)
				break;
		if (close == NULL || (close = strchr(close, '>')) == NULL)
			return len - i;
		return (size_t)(close + 1 - h) - i;
	}
	return (size_t)(end + 1 - h) - i;
}

static void
mime_html_visible(const char *h, int keep_tags, struct mime_vis *v)
{
	size_t i = 0, len = strlen(h), used;
	const char *last_gt = strrchr(h, '>');	/* no tag can start after it */
	struct buf ent;

	memset(v, 0, sizeof *v);
	buf_init(&v->t);
	buf_init(&ent);
	buf_add(&v->t, "", 0);
	while (i < len) {
		if (!keep_tags && h[i] == '<' && last_gt > h + i &&
		    (used = mime_vis_markup(h, i, len)) > 0) {
			i += used;
			continue;
		}
		buf_reset(&ent);
		if (h[i] == '&' && (used = html_entity(h + i, h + len, &ent)) > 0) {
			mime_vis_add(v, ent.data, ent.len, i, i + used);
			i += used;
		} else {
			mime_vis_add(v, h + i, 1, i, i + 1);
			i++;
		}
	}
	buf_free(&ent);
	buf_cstr(&v->t);
}

static void
mime_vis_free(struct mime_vis *v)
{
	buf_free(&v->t);
	free(v->from);
	free(v->to);
}

/* Blanks in visible text: ASCII white space and U+00A0 (&nbsp;). */
static size_t
mime_vis_blank(const char *p)
{
	if (g_ascii_isspace(*p))
		return 1;
	return (unsigned char)p[0] == 0xc2 && (unsigned char)p[1] == 0xa0 ? 2 : 0;
}

static size_t
mime_vis_skip_blanks(const char *t, size_t i)
{
	size_t n;

	while ((n = mime_vis_blank(t + i)) > 0)
		i += n;
	return i;
}

/* With want == NULL: the secret after the prefix, up to the end of the
 * line or the next tag (visible bytes that are contiguous in the source). */
static size_t
mime_vis_secret_len(const struct mime_vis *v, size_t at)
{
	size_t n = 0;

	while (at + n < v->t.len && v->t.data[at + n] != '\n' && v->t.data[at + n] != '\r' &&
	    (n == 0 || v->from[at + n] == v->to[at + n - 1]))
		n++;
	return n;
}

/* In HTML: "Approved: <want>" in the visible text (tags, blanks and
 * entities may sit anywhere in it). With want == NULL, only the first
 * visible text counts and the secret runs to the next tag or line end.
 * The span found, in the HTML source, is widened over the elements it
 * leaves empty. */
static int
mime_html_approved(const char *h, const char *want, size_t *from_r,
    size_t *to_r, char **secret_r)
{
	struct mime_vis v;
	size_t i, pre, at, n;
	const char *t;
	int found = 0;

	mime_html_visible(h, 0, &v);
	t = v.t.data;
	for (i = want == NULL ? mime_vis_skip_blanks(t, 0) : 0; !found && i < v.t.len; i++) {
		if ((pre = mime_approved_prefix(t + i)) == 0) {
			if (want == NULL)
				break;
			continue;
		}
		at = mime_vis_skip_blanks(t, i + pre);
		n = want != NULL ? strlen(want) : mime_vis_secret_len(&v, at);
		if (n == 0 || at + n > v.t.len || (want != NULL && (strncmp(t + at, want, n) != 0 ||
		    (g_ascii_isalnum(t[at + n]) && v.from[at + n] == v.to[at + n - 1]))))
			continue;
		if (want == NULL) {
			*secret_r = str_trim(xstrndup(t + at, n));
			if (**secret_r == '\0') {
				free(*secret_r);
				*secret_r = NULL;
				break;
			}
		}
		*from_r = v.from[i];
		*to_r = v.to[at + n - 1];
		mime_html_widen(h, from_r, to_r);
		found = 1;
	}
	mime_vis_free(&v);
	return found;
}

/* In plain text, with the secret known: any line "Approved: <want>"
 * (blanks around), the line and its newline as the span. */
static int
mime_plain_approved_line(const char *t, const char *want, size_t *from_r, size_t *to_r)
{
	const char *line, *eol, *p;
	size_t pre, n = strlen(want);

	for (line = t; *line != '\0'; line = *eol ? eol + 1 : eol) {
		eol = line + strcspn(line, "\n");
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		if ((pre = mime_approved_prefix(p)) == 0)
			continue;
		for (p += pre; *p == ' ' || *p == '\t'; p++)
			;
		if ((size_t)(eol - p) < n || strncmp(p, want, n) != 0 ||
		    !mime_blank_line(p + n, (size_t)(eol - p - n)))
			continue;
		*from_r = (size_t)(line - t);
		*to_r = (size_t)(eol - t) + (*eol == '\n');
		return 1;
	}
	return 0;
}

/* Cut every "Approved: <secret>" from a text part (attachments too). */
static int
mime_visit_strip(GMimeObject *obj, void *ctx)
{
	const char *secret = ctx;
	size_t from, to;
	char *t;
	int found = 0, html = mime_is_text(obj, "html");

	if (!mime_is_text(obj, "*"))
		return 0;
	t = mime_part_text(GMIME_PART(obj));
	for (int i = 0; i < 64; i++) {
		if (!(html ? mime_html_approved(t, secret, &from, &to, NULL) :
		    mime_plain_approved(t, secret, &from, &to, NULL) ||
		    mime_plain_approved_line(t, secret, &from, &to)))
			break;
		memmove(t + from, t + to, strlen(t + to) + 1);
		found = 1;
	}
	if (found)
		mime_part_set_utf8(GMIME_PART(obj), t);
	free(t);
	return 0;
}

/* ---- is a secret anywhere in a message? ---- */

/* Bytes of an invisible or blank character at p (ASCII white space,
 * U+00A0, U+00AD, U+200B-U+200D, U+2060, U+FEFF, NUL), else 0. */
static size_t
mime_invisible(const unsigned char *p, size_t left)
{
	if (*p == '\0' || g_ascii_isspace(*p))
		return 1;
	if (left >= 2 && p[0] == 0xc2 && (p[1] == 0xa0 || p[1] == 0xad))
		return 2;
	if (left >= 3 && p[0] == 0xe2 && ((p[1] == 0x80 && p[2] >= 0x8b && p[2] <= 0x8d) ||
	    (p[1] == 0x81 && p[2] == 0xa0)))
		return 3;
	return left >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf ? 3 : 0;
}

/* s without its invisible characters (a reader cannot tell). */
static char *
mime_squeeze(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	struct buf b;
	size_t n;

	buf_init(&b);
	buf_add(&b, "", 0);
	while (p < end) {
		if ((n = mime_invisible(p, (size_t)(end - p))) > 0)
			p += n;
		else
			buf_addc(&b, (char)*p++);
	}
	return buf_steal(&b);
}

struct mime_secret {
	const char	*raw;	/* as configured */
	char		*sq;	/* squeezed */
};

static int
mime_secret_in_text(const struct mime_secret *ms, const char *s, size_t len)
{
	char *sq;
	int found;

	if (s == NULL)
		return 0;
	if (memmem(s, len, ms->raw, strlen(ms->raw)) != NULL)
		return 1;
	sq = mime_squeeze(s, len);
	found = strstr(sq, ms->sq) != NULL;
	free(sq);
	return found;
}

static int
mime_secret_in_html(const struct mime_secret *ms, const char *h)
{
	struct mime_vis v;
	int found = 0;

	for (int keep_tags = 0; !found && keep_tags < 2; keep_tags++) {
		mime_html_visible(h, keep_tags, &v);
		found = mime_secret_in_text(ms, v.t.data, v.t.len);
		mime_vis_free(&v);
	}
	return found;
}

/* Every header of obj, raw and decoded. */
static int
mime_secret_in_headers(const struct mime_secret *ms, GMimeObject *obj)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(obj);
	int n = list ? g_mime_header_list_get_count(list) : 0;

	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(list, i);
		const char *vals[] = { g_mime_header_get_raw_value(h), g_mime_header_get_value(h) };

		for (size_t k = 0; k < nitems(vals); k++)
			if (vals[k] && mime_secret_in_text(ms, vals[k], strlen(vals[k])))
				return 1;
	}
	return 0;
}

/* A leaf part: its decoded bytes, its text (charset converted, HTML as
 * seen and with its attributes), its file name. */
static int
mime_secret_in_part(const struct mime_secret *ms, GMimePart *part)
{
	GByteArray *ba = mime_part_bytes(part);
	const char *name = g_mime_part_get_filename(part);
	int found = memmem(ba->data, ba->len, ms->raw, strlen(ms->raw)) != NULL ||
	    (name && mime_secret_in_text(ms, name, strlen(name)));
	char *t;

	g_byte_array_free(ba, TRUE);
	if (!found && mime_is_text(GMIME_OBJECT(part), "*")) {
		t = mime_part_text(part);
		found = mime_secret_in_text(ms, t, strlen(t)) ||
		    (mime_is_text(GMIME_OBJECT(part), "html") && mime_secret_in_html(ms, t));
		free(t);
	}
	return found;
}

/* One object of the tree: its headers, a multipart's preamble and
 * epilogue, a leaf's content. */
static int
mime_visit_secret(GMimeObject *obj, void *ctx)
{
	const struct mime_secret *ms = ctx;

	if (mime_secret_in_headers(ms, obj))
		return 1;
	if (GMIME_IS_MULTIPART(obj)) {
		const char *pe[] = { g_mime_multipart_get_prologue(GMIME_MULTIPART(obj)),
		    g_mime_multipart_get_epilogue(GMIME_MULTIPART(obj)) };

		for (size_t k = 0; k < nitems(pe); k++)
			if (pe[k] && mime_secret_in_text(ms, pe[k], strlen(pe[k])))
				return 1;
	}
	return GMIME_IS_PART(obj) && mime_secret_in_part(ms, GMIME_PART(obj));
}

int
mime_contains_secret(const struct mime_msg *m, const char *secret)
{
	struct mime_secret ms = { secret, NULL };
	int found;

	if (secret == NULL || *secret == '\0')
		return 0;
	ms.sq = mime_squeeze(secret, strlen(secret));
	found = *ms.sq != '\0' && mime_walk_all(GMIME_OBJECT(m->msg), mime_visit_secret, &ms, 0);
	free(ms.sq);
	return found;
}

/* The secret from the headers (all Approved/Approve headers removed). */
static char *
mime_approved_header(struct mime_msg *m)
{
	static const char *const names[] = { "Approved", "Approve" };
	char *secret = NULL, *v;
	size_t i;

	for (i = 0; i < nitems(names); i++) {
		v = mime_header(m, names[i]);
		if (v == NULL)
			continue;
		if (secret == NULL && *v != '\0')
			secret = v;
		else
			free(v);
		mime_remove_header(m, names[i]);
	}
	return secret;
}

/* The secret from the first text/plain part, else the first text/html. */
static char *
mime_approved_body(struct mime_msg *m)
{
	GMimePart *part;
	char *t, *secret = NULL;
	size_t from, to;

	if ((part = mime_find_text(m, "plain")) != NULL) {
		t = mime_part_text(part);
		mime_plain_approved(t, NULL, &from, &to, &secret);
	} else if ((part = mime_find_text(m, "html")) != NULL) {
		t = mime_part_text(part);
		mime_html_approved(t, NULL, &from, &to, &secret);
	} else
		return NULL;
	free(t);
	return secret;
}

int
mime_strip_approved(struct mime_msg *m, char **secret_r)
{
	char *secret;

	*secret_r = NULL;
	if ((secret = mime_approved_header(m)) == NULL)
		secret = mime_approved_body(m);
	if (secret == NULL)
		return 0;
	mime_walk(g_mime_message_get_mime_part(m->msg), mime_visit_strip,
	    secret, 0);
	*secret_r = secret;
	return 1;
}

/* ---- serialisation ---- */

/* Every CRLF, bare LF and bare CR becomes the chosen line ending. */
static char *
mime_newlines(const unsigned char *p, size_t len, int crlf, size_t *len_r)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	buf_add(&b, "", 0);
	for (i = 0; i < len; i++) {
		if (p[i] == '\r' || p[i] == '\n') {
			if (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n')
				i++;
			buf_adds(&b, crlf ? "\r\n" : "\n");
		} else
			buf_addc(&b, (char)p[i]);
	}
	*len_r = b.len;
	return buf_steal(&b);
}

/* ---- header lines of at most 998 bytes (RFC 5322 2.1.1) ---- */

/* Bytes of line (n bytes, starting at column col) to keep before a fold:
 * before the last blank within the limit, else at the limit on a UTF-8
 * boundary (*insert_r = 1: a blank must be added). */
static size_t
mime_fold_cut(const char *line, size_t n, size_t col, int *insert_r)
{
	size_t room = MIME_LINE_MAX - col, k;

	for (k = room; k > 0 && line[k] != ' ' && line[k] != '\t'; k--)
		;
	*insert_r = k == 0;
	if (k > 0)
		return k;
	for (k = room - 1; k > 1 && ((unsigned char)line[k] & 0xc0) == 0x80; k--)
		;
	return k;
}

/* raw (a GMime raw value: " value\n", continuation lines included) with
 * every physical line longer than MIME_LINE_MAX folded; col0 is the
 * length of "Name:". NULL when nothing is too long. */
static char *
mime_fold_raw(const char *raw, size_t col0)
{
	const char *line = raw;
	size_t n, col = col0, cut;
	int changed = 0, insert;
	struct buf b;

	buf_init(&b);
	while (*line != '\0') {
		n = strcspn(line, "\n");
		while (col + n > MIME_LINE_MAX) {
			changed = 1;
			if (col + 2 > MIME_LINE_MAX) {	/* "Name:" alone fills the line */
				buf_adds(&b, "\n ");
				col = 1;
				continue;
			}
			cut = mime_fold_cut(line, n, col, &insert);
			buf_add(&b, line, cut);
			buf_adds(&b, insert ? "\n " : "\n");
			line += cut;
			n -= cut;
			col = insert;
		}
		buf_add(&b, line, n);
		line += n;
		if (*line == '\n')
			buf_addc(&b, *line++);
		col = 0;
	}
	if (!changed) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/* Fold the headers of one object (mime_walk_all). */
static int
mime_visit_fold(GMimeObject *obj, void *ctx)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(obj);
	int n = list ? g_mime_header_list_get_count(list) : 0;

	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(list, i);
		const char *raw = g_mime_header_get_raw_value(h);
		char *folded = raw ? mime_fold_raw(raw, strlen(g_mime_header_get_name(h)) + 1) : NULL;

		if (folded != NULL)
			g_mime_header_set_raw_value(h, folded);
		free(folded);
	}
	return 0;
}

/* The longest header of one object into *(size_t *)ctx: name, colon and
 * raw value. */
static int
mime_visit_longest(GMimeObject *obj, void *ctx)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(obj);
	int n = list ? g_mime_header_list_get_count(list) : 0;
	size_t *longest = ctx, len;

	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(list, i);
		const char *raw = g_mime_header_get_raw_value(h);

		len = strlen(g_mime_header_get_name(h)) + 1 + (raw ? strlen(raw) : 0);
		*longest = len > *longest ? len : *longest;
	}
	return 0;
}

size_t
mime_header_longest(const struct mime_msg *m)
{
	size_t longest = 0;

	mime_walk_all(GMIME_OBJECT(m->msg), mime_visit_longest, &longest, 0);
	return longest;
}

static char *
mime_object_serialize(GMimeObject *obj, int crlf, size_t *len_r)
{
	GMimeFormatOptions *fo = g_mime_format_options_new();
	GMimeStream *s = g_mime_stream_mem_new();
	GByteArray *ba;
	char *r;

	g_mime_format_options_set_newline_format(fo, crlf ?
	    GMIME_NEWLINE_FORMAT_DOS : GMIME_NEWLINE_FORMAT_UNIX);
	mime_walk_all(obj, mime_visit_fold, NULL, 0);
	g_mime_object_write_to_stream(obj, fo, s);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
	r = mime_newlines(ba->data, ba->len, crlf, len_r);
	g_object_unref(s);
	g_mime_format_options_free(fo);
	return r;
}

char *
mime_serialize(struct mime_msg *m, int crlf, size_t *len_r)
{
	return mime_object_serialize(GMIME_OBJECT(m->msg), crlf, len_r);
}

/* ---- attachments ---- */

struct mime_att_ctx {
	struct mime_attachment	*list;
	size_t			 n, cap, total, max_total;
	int			 over;
};

static int
mime_att_wanted(GMimeObject *obj, const char *type)
{
	if (!GMIME_IS_PART(obj))
		return 0;
	if (g_ascii_strcasecmp(type, "application/pgp-signature") == 0 ||
	    g_ascii_strcasecmp(type, "application/pkcs7-signature") == 0 ||
	    g_ascii_strcasecmp(type, "application/x-pkcs7-signature") == 0)
		return 0;
	if (g_ascii_strncasecmp(type, "text/", 5) != 0)
		return 1;
	return mime_is_attachment(obj) &&
	    g_mime_part_get_filename(GMIME_PART(obj)) != NULL;
}

static void
mime_att_fill(struct mime_attachment *a, GMimeObject *obj, char *type,
    GByteArray *ba)
{
	const char *fn = g_mime_part_get_filename(GMIME_PART(obj));
	const char *cid = g_mime_object_get_content_id(obj);
	const char *disp = g_mime_object_get_disposition(obj);

	a->filename = fn != NULL && *fn != '\0' ? xstrdup(fn) : NULL;
	a->content_type = str_lower(xstrdup(type));
	a->content_id = cid != NULL && *cid != '\0' ? xstrdup(cid) : NULL;
	a->len = ba->len;
	/* Taken, not copied (a phone photo is 5 MB): NUL-terminated by
	 * mime_part_bytes; g_malloc is malloc since GLib 2.46, so free(). */
	a->data = (char *)g_byte_array_free(ba, FALSE);
	a->inline_image = g_ascii_strncasecmp(type, "image/", 6) == 0 &&
	    ((disp != NULL && g_ascii_strcasecmp(disp, "inline") == 0) ||
	    (disp == NULL && a->content_id != NULL));
}

static int
mime_visit_att(GMimeObject *obj, void *ctx)
{
	struct mime_att_ctx *ac = ctx;
	GByteArray *ba;
	char *type;

	type = g_mime_content_type_get_mime_type(
	    g_mime_object_get_content_type(obj));
	if (type == NULL || !mime_att_wanted(obj, type)) {
		g_free(type);
		return 0;
	}
	ba = mime_part_bytes(GMIME_PART(obj));
	if (ba->len > ac->max_total - ac->total) {
		ac->over = 1;
	} else {
		if (ac->n == ac->cap) {
			ac->cap = ac->cap ? ac->cap * 2 : 4;
			ac->list = xrealloc(ac->list,
			    ac->cap * sizeof(*ac->list));
		}
		ac->total += ba->len;
		mime_att_fill(&ac->list[ac->n++], obj, type, ba);	/* takes ba */
		ba = NULL;
	}
	if (ba)
		g_byte_array_free(ba, TRUE);
	g_free(type);
	return ac->over;
}

int
mime_attachments(const struct mime_msg *m, struct mime_attachment **list_r,
    size_t *n_r, size_t max_total)
{
	struct mime_att_ctx ac;

	memset(&ac, 0, sizeof(ac));
	ac.max_total = max_total;
	*list_r = NULL;
	*n_r = 0;
	mime_walk(g_mime_message_get_mime_part(m->msg), mime_visit_att, &ac, 0);
	if (ac.over) {
		mime_attachments_free(ac.list, ac.n);
		return -1;
	}
	*list_r = ac.list;
	*n_r = ac.n;
	return 0;
}

/* ---- the content in reading order ---- */

struct mime_content_ctx {
	struct mime_att_ctx	 att;
	void			(*each)(struct mime_attachment *, size_t, void *);
	void			*arg;
	struct mime_piece	*list;
	size_t			 n, cap;
};

static struct mime_piece *
mime_piece_new(struct mime_content_ctx *cc)
{
	if (cc->n == cc->cap) {
		cc->cap = cc->cap ? cc->cap * 2 : 8;
		cc->list = xrealloc(cc->list, cc->cap * sizeof *cc->list);
	}
	memset(&cc->list[cc->n], 0, sizeof *cc->list);
	return &cc->list[cc->n++];
}

/* Quote depth of a flowed line ('>' count) and its length. */
static size_t
mime_flowed_depth(const char *s)
{
	size_t d = 0;

	while (s[d] == '>')
		d++;
	return d;
}

/* RFC 3676 (see mime.h). */
char *
mime_unflow(const char *text, int delsp)
{
	struct buf b;
	int joining = 0;
	size_t prev_depth = 0;

	buf_init(&b);
	buf_add(&b, "", 0);
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n"), depth = mime_flowed_depth(p);
		const char *c = p + depth + (p[depth] == ' '), *end = p + len;
		int sig = end - c == 3 && strncmp(c, "-- ", 3) == 0;
		int soft = end > c && end[-1] == ' ' && !sig, brk = depth != prev_depth || sig;

		if (joining && brk)
			buf_addc(&b, '\n');	/* new quote depth or signature: a hard break */
		if (!joining || brk) {
			buf_add(&b, p, depth);
			if (depth > 0)
				buf_addc(&b, ' ');
		}
		buf_add(&b, c, (size_t)(end - c) - (soft && delsp ? 1 : 0));
		if (!soft)
			buf_addc(&b, '\n');
		joining = soft;
		prev_depth = depth;
		p = *end ? end + 1 : end;
	}
	if (joining)
		buf_addc(&b, '\n');
	return buf_steal(&b);
}

static void
mime_content_text(struct mime_content_ctx *cc, GMimeObject *obj)
{
	const char *fmt = g_mime_object_get_content_type_parameter(obj, "format");
	const char *delsp = g_mime_object_get_content_type_parameter(obj, "delsp");
	struct mime_piece *pc = mime_piece_new(cc);

	pc->text = mime_part_text(GMIME_PART(obj));
	pc->is_html = mime_is_text(obj, "html");
	if (!pc->is_html && fmt && g_ascii_strcasecmp(fmt, "flowed") == 0) {
		char *t = mime_unflow(pc->text, delsp && g_ascii_strcasecmp(delsp, "yes") == 0);

		free(pc->text);
		pc->text = t;
	}
}

/* Does obj (a branch of an alternative) hold an attachment? */
static int
mime_visit_has_att(GMimeObject *obj, void *ctx)
{
	char *type = g_mime_content_type_get_mime_type(g_mime_object_get_content_type(obj));
	int wanted = type && mime_att_wanted(obj, type);

	g_free(type);
	return wanted;
}

/* The branch of a multipart/alternative to read (see mime_content). */
static GMimeObject *
mime_alternative_pick(GMimeMultipart *mp)
{
	int n = g_mime_multipart_get_count(mp);
	GMimeObject *plain = NULL;

	for (int i = n - 1; i >= 0; i--) {
		GMimeObject *c = g_mime_multipart_get_part(mp, i);

		if (GMIME_IS_MULTIPART(c) && mime_walk(c, mime_visit_has_att, NULL, 0))
			return c;
		if (mime_is_text(c, "plain"))
			plain = c;
	}
	return plain ? plain : n > 0 ? g_mime_multipart_get_part(mp, n - 1) : NULL;
}

static int mime_content_walk(struct mime_content_ctx *cc, GMimeObject *obj, int depth);

static int
mime_content_multipart(struct mime_content_ctx *cc, GMimeMultipart *mp, int depth)
{
	GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(mp));

	if (g_mime_content_type_is_type(ct, "multipart", "alternative"))
		return mime_content_walk(cc, mime_alternative_pick(mp), depth + 1);
	for (int i = 0; i < g_mime_multipart_get_count(mp); i++)
		if (mime_content_walk(cc, g_mime_multipart_get_part(mp, i), depth + 1))
			return 1;
	return 0;
}

/* Depth-first in order; 1 stops (attachments over the total). */
static int
mime_content_walk(struct mime_content_ctx *cc, GMimeObject *obj, int depth)
{
	size_t before = cc->att.n;

	if (obj == NULL || depth > MIME_MAX_DEPTH)
		return 0;
	if (GMIME_IS_MULTIPART(obj))
		return mime_content_multipart(cc, GMIME_MULTIPART(obj), depth);
	if ((mime_is_text(obj, "plain") || mime_is_text(obj, "html")) &&
	    !(mime_is_attachment(obj) && g_mime_part_get_filename(GMIME_PART(obj)))) {
		mime_content_text(cc, obj);
		return 0;
	}
	if (mime_visit_att(obj, &cc->att))
		return 1;
	if (cc->att.n > before) {
		mime_piece_new(cc)->att = before;
		if (cc->each)
			cc->each(&cc->att.list[before], before, cc->arg);
	}
	return 0;
}

int
mime_content(const struct mime_msg *m, size_t max_total,
    void (*each)(struct mime_attachment *a, size_t i, void *arg), void *arg,
    struct mime_piece **pieces_r, size_t *npieces_r, struct mime_attachment **att_r,
    size_t *natt_r)
{
	struct mime_content_ctx cc;

	memset(&cc, 0, sizeof cc);
	cc.att.max_total = max_total;
	cc.each = each;
	cc.arg = arg;
	*pieces_r = NULL;
	*att_r = NULL;
	*npieces_r = *natt_r = 0;
	if (mime_content_walk(&cc, g_mime_message_get_mime_part(m->msg), 0) || cc.att.over) {
		mime_pieces_free(cc.list, cc.n);
		mime_attachments_free(cc.att.list, cc.att.n);
		return -1;
	}
	*pieces_r = cc.list;
	*npieces_r = cc.n;
	*att_r = cc.att.list;
	*natt_r = cc.att.n;
	return 0;
}

void
mime_pieces_free(struct mime_piece *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i].text);
	free(list);
}

void
mime_attachments_free(struct mime_attachment *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(list[i].filename);
		free(list[i].content_type);
		free(list[i].content_id);
		free(list[i].data);
	}
	free(list);
}

/* ---- building a message ---- */

/* "<hex>@<domain of addr>" with the domain reduced to hostname characters. */
static char *
mime_new_message_id(const char *addr)
{
	const char *at = addr != NULL ? strrchr(addr, '@') : NULL;
	char hex[33], *dom, *p;
	char *id;

	if (random_hex(hex, 16) == -1)
		snprintf(hex, sizeof(hex), "%lx%lx", (long)now(), (long)random());
	dom = xstrdup(at != NULL && at[1] != '\0' ? at + 1 : "mlistd.invalid");
	for (p = dom; *p != '\0'; p++)
		if (!g_ascii_isalnum(*p) && *p != '.' && *p != '-')
			*p = '-';
	id = xasprintf("%s@%s", hex, str_lower(dom));
	free(dom);
	return id;
}

/* Body text with LF line endings and a final newline. */
static char *
mime_body_lf(const char *body)
{
	size_t len;
	char *b = mime_newlines((const unsigned char *)(body ? body : ""),
	    body ? strlen(body) : 0, 0, &len);

	if (len == 0 || b[len - 1] != '\n') {
		b = xrealloc(b, len + 2);
		memcpy(b + len, "\n", 2);
	}
	return b;
}

static void
mime_build_headers(struct mime_msg *m, const char *from_name,
    const char *from_addr, const char *to, const char *subject)
{
	GDateTime *dt;
	char *id, *t;

	mime_set_from(m, from_name, from_addr);
	t = mime_clean_value(to);
	g_mime_object_append_header(GMIME_OBJECT(m->msg), "To", t, "utf-8");
	free(t);
	mime_add_header(m, "Subject", subject);
	dt = g_date_time_new_from_unix_local((gint64)now());
	g_mime_message_set_date(m->msg, dt);
	g_date_time_unref(dt);
	id = mime_new_message_id(from_addr);
	g_mime_message_set_message_id(m->msg, id);
	free(id);
	mime_add_header(m, "MIME-Version", "1.0");
}

char *
mime_build_text(const char *from_name, const char *from_addr, const char *to,
    const char *subject, const char *body_utf8,
    const char *const *extra_headers, int crlf, size_t *len_r)
{
	struct mime_msg m;
	GMimeTextPart *tp;
	char *body, *out;
	size_t i;

	mime_global_init();
	m.msg = g_mime_message_new(FALSE);
	mime_build_headers(&m, from_name, from_addr, to, subject);
	for (i = 0; extra_headers != NULL && extra_headers[i] != NULL &&
	    extra_headers[i + 1] != NULL; i += 2)
		mime_set_header(&m, extra_headers[i], extra_headers[i + 1]);	/* may replace Message-ID */
	tp = g_mime_text_part_new_with_subtype("plain");
	body = mime_body_lf(body_utf8);
	mime_part_set_utf8(GMIME_PART(tp), body);
	free(body);
	g_mime_message_set_mime_part(m.msg, GMIME_OBJECT(tp));
	g_object_unref(tp);
	out = mime_serialize(&m, crlf, len_r);
	g_object_unref(m.msg);
	return out;
}

/* ---- multipart/alternative and related (the bulletin) ---- */

static GMimeObject *
mime_text_object(const char *subtype, const char *text)
{
	GMimeTextPart *tp = g_mime_text_part_new_with_subtype(subtype);
	char *body = mime_body_lf(text);

	mime_part_set_utf8(GMIME_PART(tp), body);
	free(body);
	return GMIME_OBJECT(tp);
}

/* An inline image part read from img->path; NULL if it cannot be read. */
static GMimeObject *
mime_inline_object(const struct mime_inline *img)
{
	const char *slash = strchr(img->content_type, '/');
	char *type = slash ? xstrndup(img->content_type, (size_t)(slash - img->content_type)) :
	    xstrdup("application");
	GMimeStream *s;
	GMimeDataWrapper *w;
	GMimePart *part;
	char *data;
	size_t len;

	/* Read now (not a stream left open): hundreds of photos, no fd each. */
	if (file_read(img->path, MIME_MAX_SIZE, &data, &len) == -1) {
		free(type);
		return NULL;
	}
	s = g_mime_stream_mem_new_with_buffer(data, len);
	free(data);
	part = g_mime_part_new_with_type(type, slash ? slash + 1 : "octet-stream");
	free(type);
	w = g_mime_data_wrapper_new_with_stream(s, GMIME_CONTENT_ENCODING_DEFAULT);
	g_object_unref(s);
	g_mime_part_set_content(part, w);
	g_object_unref(w);
	g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
	g_mime_object_set_disposition(GMIME_OBJECT(part), "inline");
	if (img->filename != NULL)
		g_mime_part_set_filename(part, img->filename);
	g_mime_object_set_content_id(GMIME_OBJECT(part), img->cid);
	return GMIME_OBJECT(part);
}

/* multipart/alternative (text, html), inside multipart/related with the
 * images when there are some; NULL if an image cannot be opened. */
static GMimeObject *
mime_alternative_body(const char *text, const char *html, const struct mime_inline *imgs,
    size_t nimgs)
{
	GMimeMultipart *alt = g_mime_multipart_new_with_subtype("alternative"), *rel;
	GMimeObject *o;

	o = mime_text_object("plain", text);
	g_mime_multipart_add(alt, o);
	g_object_unref(o);
	o = mime_text_object("html", html);
	g_mime_multipart_add(alt, o);
	g_object_unref(o);
	if (nimgs == 0)
		return GMIME_OBJECT(alt);
	rel = g_mime_multipart_new_with_subtype("related");
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(rel), "type",
	    "multipart/alternative");
	g_mime_multipart_add(rel, GMIME_OBJECT(alt));
	g_object_unref(alt);
	for (size_t i = 0; i < nimgs; i++) {
		if ((o = mime_inline_object(&imgs[i])) == NULL) {
			g_object_unref(rel);
			return NULL;
		}
		g_mime_multipart_add(rel, o);
		g_object_unref(o);
	}
	return GMIME_OBJECT(rel);
}

char *
mime_build_alternative(const char *from_name, const char *from_addr, const char *to,
    const char *subject, const char *text_utf8, const char *html_utf8,
    const struct mime_inline *imgs, size_t nimgs, const char *const *extra_headers,
    int crlf, size_t *len_r)
{
	struct mime_msg m;
	GMimeObject *body;
	char *out;

	mime_global_init();
	if ((body = mime_alternative_body(text_utf8, html_utf8, imgs, nimgs)) == NULL)
		return NULL;
	m.msg = g_mime_message_new(FALSE);
	mime_build_headers(&m, from_name, from_addr, to, subject);
	for (size_t i = 0; extra_headers != NULL && extra_headers[i] != NULL &&
	    extra_headers[i + 1] != NULL; i += 2)
		mime_set_header(&m, extra_headers[i], extra_headers[i + 1]);
	g_mime_message_set_mime_part(m.msg, body);
	g_object_unref(body);
	out = mime_serialize(&m, crlf, len_r);
	g_object_unref(m.msg);
	return out;
}

void
mime_sha256_hex(const void *data, size_t len, char out[65])
{
	gchar *hex = g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, len);

	snprintf(out, 65, "%s", hex);
	g_free(hex);
}
