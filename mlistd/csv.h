/*
 * csv.h — reading and writing the national office's roster spreadsheet as CSV.
 *
 * The parser accepts what spreadsheets export in practice: delimiter ';', ','
 * or tab (detected on the header line, outside quotes; ';' wins ties), UTF-8
 * with or without BOM, or Windows-1252/Latin-1 when the bytes are not valid
 * UTF-8 (converted to UTF-8). RFC 4180 quoting; CRLF, LF or CR line ends
 * (line breaks inside quoted fields come back as "\n"); blank lines and rows
 * made only of empty unquoted fields are skipped; trailing empty fields are
 * kept; unquoted fields are trimmed of surrounding spaces and tabs.
 *
 * Ownership: csv_parse() allocates the document, csv_free() releases it; the
 * strings returned by csv_field() belong to the document. Error strings
 * point to static storage, valid until the next csv_parse() in the thread.
 */
#ifndef MLISTD_CSV_H
#define MLISTD_CSV_H

#include <stddef.h>

struct buf;
struct csv;

/* Parse a whole document. Returns 0 and a new document in *csv_r, or -1
 * with a reason in *error_r for an unusable document only: empty, UTF-16,
 * NUL byte, or a quoted field still open at the end ("line N: ..."). */
int csv_parse(const char *data, size_t len, struct csv **csv_r,
    const char **error_r);
void csv_free(struct csv **csv);

/* Rows, counting the header row (row 0). */
size_t csv_nrows(const struct csv *csv);
/* Fields in a row; 0 if row is out of range. */
size_t csv_nfields(const struct csv *csv, size_t row);
/* A field as UTF-8; "" if row or col is out of range. */
const char *csv_field(const struct csv *csv, size_t row, size_t col);
/* 1-based source line where the row starts; 0 if row is out of range. */
size_t csv_line(const struct csv *csv, size_t row);
char csv_delimiter(const struct csv *csv);
/* "UTF-8" or "Windows-1252": the encoding the source was read as. */
const char *csv_encoding(const struct csv *csv);

/* Append one field to out, quoted when it holds the delimiter, a quote,
 * CR or LF, or starts or ends with a space or tab. */
void csv_write_field(struct buf *out, const char *field, char delim);
/* Append n fields separated by delim, then "\r\n". */
void csv_write_row(struct buf *out, const char *const *fields, size_t n,
    char delim);

/* Windows-1252 bytes (a superset of Latin-1) to UTF-8; bytes undefined in
 * Windows-1252 become U+FFFD. Returns a new string the caller frees. */
char *charset_cp1252_to_utf8(const char *s, size_t n);

#endif
