/*
 * util.h — small helpers shared by every module: memory that never returns
 * NULL (out of memory aborts), a growable byte buffer, string helpers, and
 * the durable-file primitives the spool is built on.
 *
 * Ownership: every function returning char * returns a string the caller
 * frees with free(); buf_free() releases a buffer's storage.
 */
#ifndef MLISTD_UTIL_H
#define MLISTD_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct buf {
	char	*data;	/* always NUL-terminated when len > 0 or after buf_cstr */
	size_t	 len;
	size_t	 cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_addc(struct buf *b, char c);
void buf_adds(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *buf_cstr(struct buf *b);
/* Append s as a JSON string literal (quotes and escapes added). */
void buf_json_str(struct buf *b, const char *s);
/* Hand the storage to the caller (free()); the buffer is left empty. */
char *buf_steal(struct buf *b);

/* In-place: strip leading/trailing ASCII white space; returns s. */
char *str_trim(char *s);
/* In-place ASCII lower case; returns s. */
char *str_lower(char *s);
int str_has_prefix_ci(const char *s, const char *prefix);
int str_is_empty(const char *s);
/* Fold a UTF-8 string for loose comparison: lower case, French accents
 * removed ("Région" -> "region"). Returns a new string. */
char *str_fold(const char *s);
/* Bytes taken by the first max characters of the UTF-8 string s. */
size_t utf8_prefix_len(const char *s, size_t max);
/* Valid UTF-8? */
int utf8_valid(const char *s, size_t n);
/* The sort key of a name in French dictionary order (caller frees; compare
 * keys with strcmp): case and accents ignored, œ as oe, a run of spaces
 * or punctuation one separator sorting before letters ("François" before
 * "Françoise"), then ties broken by accents and by the original bytes. Every list a person reads is sorted by it ("Élodie" before
 * "François"; SQL: ORDER BY x COLLATE fr, see db.h). */
char *str_collate_key(const char *s);
/* strcmp of the two keys. */
int str_collate(const char *a, const char *b);
/* Terminal columns taken by a UTF-8 string (wcwidth under C.UTF-8: "É" is
 * one column, an ideograph two, a combining accent none; a byte that is
 * not UTF-8 counts one). */
size_t utf8_width(const char *s);
/* s, then spaces up to width columns (nothing added when s is wider). */
void fput_padded(FILE *out, const char *s, size_t width);

/* A table for the terminal: rows of ncols cells, printed with each column
 * as wide as its widest cell (display width), two spaces between columns,
 * no trailing blanks. The first row is the header: every table has one. */
struct table;
struct table *table_new(size_t ncols);
/* Copies the ncols strings of cells (NULL is an empty cell). */
void table_row(struct table *t, const char *const *cells);
/* Each line begins with indent; nothing when there is no row under the
 * header. */
void table_print(const struct table *t, const char *indent, FILE *out);
void table_free(struct table **t);

/* Turn a name into a slug: lower case ASCII, accents removed, '-' between words. */
char *str_slugify(const char *s);

/* The mode policy of the data directory: mlistd and mlistctl set this
 * umask first thing, whoever starts them (systemd, the MTA's pipe, a
 * shell), so that what they create is 0750 (directories) and 0640 (files:
 * the database and its -wal/-shm, spool files, photos) for the mlistd
 * user and group, nothing for others. Files meant for a web server set
 * their mode explicitly (INSTALL, section 4). */
#define DATA_UMASK	027

/* Files. All return 0 on success, -1 with errno set. */
int mkdir_p(const char *path, int mode);
int fsync_dir(const char *dir);
/* Write data to path durably: path.tmp, fsync, rename, fsync of the directory. */
int file_write_durable(const char *path, const void *data, size_t len);
/* Read a whole file (at most max bytes; -1 with EFBIG beyond). */
int file_read(const char *path, size_t max, char **data_r, size_t *len_r);

/* Random bytes from getrandom(2), as lower-case hex (2*n chars). */
int random_hex(char *out, size_t n);
/* Time as RFC 5322 date (buffer of at least 40). */
void time_rfc5322(time_t t, char *out, size_t outlen);
/* Time as "YYYY-MM-DD HH:MM:SS" UTC (buffer of at least 20). */
void time_iso(time_t t, char *out, size_t outlen);
/* Current time, seconds; overridable by $MLISTD_NOW (tests). */
time_t now(void);

#endif
