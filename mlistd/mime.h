/*
 * mime.h — MIME in and out: parse a received message, read and rewrite its
 * headers safely, find its text body and attachments, serialise it for SMTP,
 * and build the small text messages the daemon sends (notices, acks).
 *
 * This module is the only one that knows GMime; struct mime_msg is opaque.
 * All strings taken and returned are UTF-8. Every char * returned is owned
 * by the caller and released with free(); struct mime_msg with mime_free().
 *
 * Header safety: every function that writes a header replaces any CR or LF
 * in the value by a space, and any character of the name that is not a
 * printable, non-colon ASCII character by '-', so user data can never add a
 * header line. Non-ASCII values are encoded per RFC 2047.
 */
#ifndef MLISTD_MIME_H
#define MLISTD_MIME_H

#include <stddef.h>
#include <time.h>

/* Largest message mime_parse() accepts. */
#define MIME_MAX_SIZE	(64u * 1024 * 1024)

/* Initialise GMime once; idempotent and thread-safe. mime_parse() and
 * mime_build_text() call it themselves. */
void mime_global_init(void);

struct mime_msg;

/* Parse len bytes of a message (LF or CRLF line endings). Refuses input
 * larger than MIME_MAX_SIZE or where no header at all is found. Raw
 * 8-bit headers are read as UTF-8, else windows-1252. Returns 0 and *m_r
 * (free with mime_free()), or -1 with a static reason in *error_r. */
int mime_parse(const char *data, size_t len, struct mime_msg **m_r,
    const char **error_r);
/* The same without copying: the message's parts refer to data, which must
 * stay unchanged until mime_free(). For a large message read once (a
 * report of photos): it saves a copy of the whole message. */
int mime_parse_borrowed(const char *data, size_t len, struct mime_msg **m_r,
    const char **error_r);
void mime_free(struct mime_msg **m);

/* First header of that name (case-insensitive), RFC 2047 decoded; NULL if
 * absent. GMime keeps the top-level Content-* headers apart: the getters
 * and mime_header_count() look there when the message headers have none. */
char *mime_header(const struct mime_msg *m, const char *name);
/* Same, undecoded but unfolded and trimmed. */
char *mime_header_raw(const struct mime_msg *m, const char *name);
/* Does any message header of that name contain needle (case-insensitive)? */
int mime_header_contains(const struct mime_msg *m, const char *name, const char *needle);
/* The nth (0-based) message header of that name, decoded; NULL past the last. */
char *mime_header_nth(const struct mime_msg *m, const char *name, int nth);
/* The nth (0-based) message header of that name, undecoded but unfolded
 * and trimmed (what a header parser must read: RFC 2047 decoding could
 * turn a comment into syntax); NULL past the last. */
char *mime_header_raw_nth(const struct mime_msg *m, const char *name, int nth);
int mime_header_count(const struct mime_msg *m, const char *name);

/* Lower-cased addr-spec of the first From mailbox; NULL if none. */
char *mime_from_address(const struct mime_msg *m);
/* Decoded display name of the first From mailbox; NULL if none or empty. */
char *mime_from_name(const struct mime_msg *m);
/* Decoded Subject; "" if none. */
char *mime_subject(const struct mime_msg *m);
/* Date header as a time_t; 0 if absent or unparsable. */
time_t mime_date(const struct mime_msg *m);
/* Message-ID without the angle brackets; NULL if none. */
char *mime_message_id(const struct mime_msg *m);

/* Replace every header of that name by one with this value. */
void mime_set_header(struct mime_msg *m, const char *name,
    const char *value_utf8);
/* Append a header after the existing ones. */
void mime_add_header(struct mime_msg *m, const char *name,
    const char *value_utf8);
/* Insert a header before all others (trace headers). */
void mime_prepend_header(struct mime_msg *m, const char *name,
    const char *value_utf8);
/* Remove every message header of that name (not the top-level part's
 * Content-* headers). */
void mime_remove_header(struct mime_msg *m, const char *name);
/* Replace From by one mailbox; the display name (may be NULL) is quoted or
 * encoded as needed. */
void mime_set_from(struct mime_msg *m, const char *display_name_utf8,
    const char *addr);

/* Find and remove the list password. Looks for an "Approved:" (or
 * "Approve:") header, else for such a first non-blank line in the first
 * text/plain part (or first text/html part when there is no text/plain).
 * Removes the headers and every "Approved: <secret>" line (plain text) or
 * text (HTML, as seen: entities decoded, tags between) from every text
 * part where it appears, attachments included. What it cannot find
 * (the secret elsewhere) mime_contains_secret() finds. Returns 1 and
 * *secret_r (trimmed, caller frees) when found, 0 (and *secret_r = NULL)
 * when not. */
int mime_strip_approved(struct mime_msg *m, char **secret_r);

/* Does secret appear anywhere a reader or a program could find it: any
 * header (raw or decoded), any part's decoded content (transfer encoding
 * undone, charset converted), the text of HTML with tags dropped and
 * entities decoded (and with tags kept, for attributes), file names,
 * preambles, embedded messages? Blanks and invisible characters (NBSP,
 * zero-width, soft hyphen) are ignored on both sides. 1 yes, 0 no (and 0
 * for an empty secret). */
int mime_contains_secret(const struct mime_msg *m, const char *secret);

/* Longest line a header can take (RFC 5322 2.1.1), without CRLF. */
#define MIME_LINE_MAX	998
/* Beyond this, one header is absurd: callers refuse the message rather
 * than fold it into hundreds of lines. */
#define MIME_HEADER_REFUSE	(64u * 1024)

/* Length of the longest header of m or of any of its parts (embedded
 * messages too): name, colon and raw value, folds included. */
size_t mime_header_longest(const struct mime_msg *m);

/* The whole message; crlf = 1 gives CRLF line endings (SMTP), 0 gives LF.
 * Every header line longer than MIME_LINE_MAX bytes is folded first (at
 * the last blank that fits, else a blank is inserted on a UTF-8
 * boundary), in every part: whatever came in, what goes out is valid.
 * Returns a NUL-terminated buffer of *len_r bytes (caller frees). */
char *mime_serialize(struct mime_msg *m, int crlf, size_t *len_r);

/* Best text body as UTF-8: the text/plain part (top level, or first in a
 * multipart, e.g. inside multipart/alternative), else the first text/html
 * part returned as raw HTML with *is_html_r = 1 (else 0). Charsets are
 * converted; latin-1 or ASCII labels are read as windows-1252, and bytes that
 * are not valid UTF-8 in a UTF-8 part as windows-1252. Line endings are
 * LF; NUL bytes are dropped. NULL if there is no text part. is_html_r may
 * be NULL. */
char *mime_text_plain(const struct mime_msg *m, int *is_html_r);

struct mime_attachment {
	char	*filename;	/* RFC 2231/2047 decoded, NULL if none */
	char	*content_type;	/* lower case "type/subtype" */
	char	*content_id;	/* without <>, NULL if none */
	char	*data;		/* decoded content (NUL-terminated too) */
	size_t	 len;
	int	 inline_image;	/* an image shown inline (disposition inline or
				   a Content-ID without disposition) */
};

/* Every leaf part that is not text (images, pdf, docx...) plus text parts
 * explicitly marked "attachment" with a filename, in message order, decoded.
 * Embedded messages (message/rfc822) are neither entered nor returned.
 * Returns 0 with *list_r (may be NULL when *n_r == 0; free with
 * mime_attachments_free()), or -1 with nothing allocated when the decoded
 * total would exceed max_total. */
int mime_attachments(const struct mime_msg *m, struct mime_attachment **list_r,
    size_t *n_r, size_t max_total);
void mime_attachments_free(struct mime_attachment *list, size_t n);

/* One piece of a message as its reader sees it: a text part or an
 * attachment (an index in the list mime_content() returns). */
struct mime_piece {
	char	*text;		/* UTF-8, LF; NULL for an attachment */
	int	 is_html;	/* text is raw HTML (turn it into text) */
	size_t	 att;		/* the attachment, when text is NULL */
};

/* The whole content in reading order: every text part (text/plain with
 * format=flowed unwrapped per RFC 3676, DelSp honoured; text/html raw) and
 * every attachment as mime_attachments() sees them, interleaved as the
 * sender placed them (an iPhone's text, photo, text, photo...). Of a
 * multipart/alternative one branch is read: the last one holding
 * attachments (Apple Mail's text/html + photos), else text/plain, else the
 * last one. each (may be NULL) is called with every attachment and its
 * index as soon as it is decoded, before the next one is: it may take the
 * data (free it, set data to NULL; len stays), so that a report of large
 * photos never holds all of them decoded at once. Returns 0 with *pieces_r
 * and *att_r (free with mime_pieces_free() and mime_attachments_free()),
 * or -1 with nothing allocated when the attachments' decoded total would
 * exceed max_total. */
int mime_content(const struct mime_msg *m, size_t max_total,
    void (*each)(struct mime_attachment *a, size_t i, void *arg), void *arg,
    struct mime_piece **pieces_r, size_t *npieces_r, struct mime_attachment **att_r,
    size_t *natt_r);
void mime_pieces_free(struct mime_piece *list, size_t n);
/* format=flowed text (LF endings) unwrapped: soft line breaks (a line
 * ending in a space, not "-- ") joined within one quote depth, space
 * stuffing removed, the break's space removed too when delsp. */
char *mime_unflow(const char *text, int delsp);

/* A new text/plain; charset=utf-8 message (7bit when ASCII with short lines,
 * else quoted-printable) with From, To, Subject, Date (now()), Message-ID
 * (random, @domain of from_addr), MIME-Version, then the extra headers given
 * as "Name", "value" pairs ending with NULL (extra_headers may be NULL).
 * from_name may be NULL; to is one or more addresses as in a To header.
 * Returns the serialised message (caller frees) and its length. */
char *mime_build_text(const char *from_name, const char *from_addr,
    const char *to, const char *subject, const char *body_utf8,
    const char *const *extra_headers, int crlf, size_t *len_r);

/* One image shown inline in an HTML message (multipart/related). */
struct mime_inline {
	const char	*cid;		/* Content-ID without <>; the HTML says cid:CID */
	const char	*content_type;	/* "image/jpeg", "image/png" */
	const char	*filename;	/* name offered to the reader */
	const char	*path;		/* file read from disk at build time */
};

/* A new message like mime_build_text() (From, To, Subject, Date,
 * Message-ID, MIME-Version, then the extra "Name", "value" pairs ending
 * with NULL) whose body is multipart/alternative (text/plain then
 * text/html, both UTF-8) or, when nimgs > 0, multipart/related holding
 * that alternative and the images, base64 with Content-ID and an inline
 * disposition. Returns the serialised message (caller frees) and its
 * length, or NULL when an image file cannot be read (or is over
 * MIME_MAX_SIZE). */
char *mime_build_alternative(const char *from_name, const char *from_addr,
    const char *to, const char *subject, const char *text_utf8,
    const char *html_utf8, const struct mime_inline *imgs, size_t nimgs,
    const char *const *extra_headers, int crlf, size_t *len_r);

/* The SHA-256 of len bytes at data as 64 lower-case hex digits and a NUL
 * (GLib's, which GMime brings): content fingerprints, never secrets. */
void mime_sha256_hex(const void *data, size_t len, char out[65]);

#endif
