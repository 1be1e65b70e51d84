/*
 * util.c — memory, buffers, strings and durable files (see util.h).
 *
 * file_write_durable() is the crash-safety primitive: the data is written to
 * a temporary name beside the target, flushed with fsync(), renamed over the
 * target (atomic on POSIX), and the directory is fsync'ed so that the rename
 * itself survives a power cut. After it returns 0 the file is on disk whole;
 * before, the target is either absent or its old version.
 *
 * What a person reads on a terminal is aligned by display width (a UTF-8
 * "É" is 2 bytes, 1 column; a CJK ideograph 3 bytes, 2 columns): widths come
 * from mbrtowc()/wcwidth() under the C.UTF-8 locale, taken with uselocale()
 * for the call only (the program's own locale is never changed). Lists are
 * sorted by str_collate_key(): French dictionary order, "Élodie" before
 * "François".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>

#include "util.h"

static void
oom(void)
{
	fputs("out of memory\n", stderr);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		oom();
	va_end(ap);
	return s;
}

void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static void
buf_grow(struct buf *b, size_t need)
{
	if (b->len + need + 1 <= b->cap)
		return;
	while (b->len + need + 1 > b->cap)
		b->cap = b->cap ? b->cap * 2 : 64;
	b->data = xrealloc(b->data, b->cap);
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

const char *
buf_cstr(struct buf *b)
{
	buf_grow(b, 0);
	b->data[b->len] = '\0';
	return b->data;
}

void
buf_json_str(struct buf *b, const char *s)
{
	buf_addc(b, '"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			buf_printf(b, "\\%c", c);
		else if (c == '\n')
			buf_adds(b, "\\n");
		else if (c < 0x20)
			buf_printf(b, "\\u%04x", c);
		else
			buf_addc(b, (char)c);
	}
	buf_addc(b, '"');
}

char *
buf_steal(struct buf *b)
{
	char *p;

	buf_cstr(b);
	p = b->data;
	buf_init(b);
	return p;
}

char *
str_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		memmove(s, s + 1, strlen(s));
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

char *
str_lower(char *s)
{
	for (char *p = s; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	return s;
}

int
str_has_prefix_ci(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

int
str_is_empty(const char *s)
{
	if (s == NULL)
		return 1;
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return 0;
	return 1;
}

/* Two-byte UTF-8 Latin letters (U+00C0..U+017F subset) and their ASCII base. */
static const struct { const char *utf8; char ascii; } fold_map[] = {
	{ "à", 'a' }, { "á", 'a' }, { "â", 'a' }, { "ä", 'a' }, { "ã", 'a' }, { "å", 'a' },
	{ "À", 'a' }, { "Á", 'a' }, { "Â", 'a' }, { "Ä", 'a' }, { "Ã", 'a' }, { "Å", 'a' },
	{ "ç", 'c' }, { "Ç", 'c' }, { "é", 'e' }, { "è", 'e' }, { "ê", 'e' }, { "ë", 'e' },
	{ "É", 'e' }, { "È", 'e' }, { "Ê", 'e' }, { "Ë", 'e' }, { "î", 'i' }, { "ï", 'i' },
	{ "í", 'i' }, { "ì", 'i' }, { "Î", 'i' }, { "Ï", 'i' }, { "Í", 'i' }, { "Ì", 'i' },
	{ "ô", 'o' }, { "ö", 'o' }, { "ó", 'o' }, { "ò", 'o' }, { "õ", 'o' }, { "Ô", 'o' },
	{ "Ö", 'o' }, { "Ó", 'o' }, { "Ò", 'o' }, { "Õ", 'o' }, { "ù", 'u' }, { "û", 'u' },
	{ "ü", 'u' }, { "ú", 'u' }, { "Ù", 'u' }, { "Û", 'u' }, { "Ü", 'u' }, { "Ú", 'u' },
	{ "ÿ", 'y' }, { "ý", 'y' }, { "Ý", 'y' }, { "ñ", 'n' }, { "Ñ", 'n' }, { "œ", 'o' },
	{ "Œ", 'o' }, { "æ", 'a' }, { "Æ", 'a' },
};

char *
str_fold(const char *s)
{
	struct buf b;

	buf_init(&b);
	while (*s) {
		size_t i;

		if ((unsigned char)*s >= 0x80) {
			for (i = 0; i < nitems(fold_map); i++)
				if (strncmp(s, fold_map[i].utf8, 2) == 0)
					break;
			if (i < nitems(fold_map)) {
				buf_addc(&b, fold_map[i].ascii);
				if (strncmp(s, "œ", 2) == 0 || strncmp(s, "Œ", 2) == 0)
					buf_addc(&b, 'e');
				s += 2;
				continue;
			}
			buf_addc(&b, *s++);
			continue;
		}
		buf_addc(&b, (*s >= 'A' && *s <= 'Z') ? *s + ('a' - 'A') : *s);
		s++;
	}
	return buf_steal(&b);
}

size_t
utf8_prefix_len(const char *s, size_t max)
{
	size_t i = 0;

	for (size_t chars = 0; s[i] && chars < max; chars++) {
		i++;
		while (((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
	}
	return i;
}

int
utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + n;

	while (p < e) {
		unsigned c = *p;
		size_t len;
		unsigned cp;

		if (c < 0x80) { p++; continue; }
		else if ((c & 0xe0) == 0xc0) { len = 2; cp = c & 0x1f; }
		else if ((c & 0xf0) == 0xe0) { len = 3; cp = c & 0x0f; }
		else if ((c & 0xf8) == 0xf0) { len = 4; cp = c & 0x07; }
		else return 0;
		if ((size_t)(e - p) < len)
			return 0;
		for (size_t i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		p += len;
	}
	return 1;
}

/* The letters and digits of folded text f into b, each run of anything
 * else one sep (none at either end); bytes >= 0x80 (letters str_fold does
 * not know) kept as letters when keep_other. */
static void
str_join_words(const char *f, char sep, int keep_other, struct buf *b)
{
	int gap = 0;

	for (const char *p = f; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    (keep_other && (unsigned char)*p >= 0x80)) {
			if (gap && b->len > 0)
				buf_addc(b, sep);
			gap = 0;
			buf_addc(b, *p);
		} else
			gap = 1;
	}
}

char *
str_slugify(const char *s)
{
	char *f = str_fold(s);
	struct buf b;

	buf_init(&b);
	str_join_words(f, '-', 0, &b);
	free(f);
	return buf_steal(&b);
}

int
mkdir_p(const char *path, int mode)
{
	char *p = xstrdup(path);
	int rc = 0;

	for (char *s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, (mode_t)mode) == -1 && errno != EEXIST) {
				rc = -1;
				break;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	free(p);
	return rc;
}

int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	int rc;

	if (fd == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
file_write_durable(const char *path, const void *data, size_t len)
{
	char *tmp = xasprintf("%s.tmp%ld", path, (long)getpid());
	char *dir = xstrdup(path), *slash;
	const char *p = data;
	int fd, saved;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd == -1)
		goto fail;
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail_fd;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1)
		goto fail_fd;
	if (close(fd) == -1) {
		fd = -1;
		goto fail_fd;
	}
	if (rename(tmp, path) == -1)
		goto fail;
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	if (fsync_dir(slash ? dir : ".") == -1)
		goto fail;
	free(tmp);
	free(dir);
	return 0;
fail_fd:
	saved = errno;
	if (fd != -1)
		close(fd);
	errno = saved;
fail:
	saved = errno;
	unlink(tmp);
	free(tmp);
	free(dir);
	errno = saved;
	return -1;
}

/* Read fd to its end into b, at most max bytes (then EFBIG). */
static int
file_read_fd(int fd, size_t max, struct buf *b)
{
	ssize_t n;

	for (;;) {
		if (b->len + 2 > b->cap)
			buf_grow(b, 65536);
		if ((n = read(fd, b->data + b->len, b->cap - b->len - 1)) == 0)
			return 0;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if ((b->len += (size_t)n) > max) {
			errno = EFBIG;
			return -1;
		}
	}
}

/* One buffer sized by fstat and filled by read(2): a 35 MB message is
 * neither copied through stdio nor grown by doubling. */
int
file_read(const char *path, size_t max, char **data_r, size_t *len_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), saved;
	struct stat st;
	struct buf b;

	if (fd == -1)
		return -1;
	buf_init(&b);
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (unsigned long long)st.st_size <= max)
		buf_grow(&b, (size_t)st.st_size + 1);	/* + 1: the end seen in one read */
	if (file_read_fd(fd, max, &b) == -1) {
		saved = errno;
		close(fd);
		buf_free(&b);
		errno = saved;
		return -1;
	}
	close(fd);
	b.data[b.len] = '\0';
	*len_r = b.len;
	*data_r = buf_steal(&b);
	return 0;
}

int
random_hex(char *out, size_t n)
{
	unsigned char raw[64];
	static const char hex[] = "0123456789abcdef";

	if (n > sizeof raw || getrandom(raw, n, 0) != (ssize_t)n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[2 * n] = '\0';
	return 0;
}

void
time_rfc5322(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	localtime_r(&t, &tm);
	/* English names whatever the locale, as RFC 5322 requires. */
	static const char *days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *mons[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
	    "Aug", "Sep", "Oct", "Nov", "Dec" };
	long off = tm.tm_gmtoff / 60;
	snprintf(out, outlen, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld", days[tm.tm_wday],
	    tm.tm_mday, mons[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
}

void
time_iso(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%d %H:%M:%S", &tm);
}

time_t
now(void)
{
	const char *e = getenv("MLISTD_NOW");

	if (e && *e)
		return (time_t)strtoll(e, NULL, 10);
	return time(NULL);
}

/* ---- display width (terminal columns) ---- */

static locale_t util_utf8_loc;
static pthread_once_t util_utf8_once = PTHREAD_ONCE_INIT;

static void
util_utf8_init(void)
{
	util_utf8_loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* Columns of the first character of s (its bytes in *len_r). */
static size_t
utf8_char_width(const char *s, size_t *len_r)
{
	mbstate_t ps;
	wchar_t wc;
	size_t n;
	int w;

	memset(&ps, 0, sizeof ps);
	n = mbrtowc(&wc, s, MB_LEN_MAX, &ps);
	if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
		*len_r = 1;	/* not UTF-8: one byte, one column */
		return 1;
	}
	*len_r = n;
	w = wcwidth(wc);
	return w < 0 ? 0 : (size_t)w;
}

size_t
utf8_width(const char *s)
{
	locale_t old;
	size_t cols = 0, len;

	pthread_once(&util_utf8_once, util_utf8_init);
	if (util_utf8_loc == (locale_t)0) {	/* no C.UTF-8: one column a character */
		for (; *s; s++)
			cols += ((unsigned char)*s & 0xc0) != 0x80;
		return cols;
	}
	old = uselocale(util_utf8_loc);
	for (; *s; s += len)
		cols += utf8_char_width(s, &len);
	uselocale(old);
	return cols;
}

void
fput_padded(FILE *out, const char *s, size_t width)
{
	fputs(s, out);
	for (size_t w = utf8_width(s); w < width; w++)
		fputc(' ', out);
}

/* ---- tables ---- */

struct table {
	size_t	  ncols, nrows;
	char	**cells;	/* nrows * ncols */
};

struct table *
table_new(size_t ncols)
{
	struct table *t = xcalloc(1, sizeof *t);

	t->ncols = ncols;
	return t;
}

void
table_row(struct table *t, const char *const *cells)
{
	t->cells = xrealloc(t->cells, (t->nrows + 1) * t->ncols * sizeof *t->cells);
	for (size_t c = 0; c < t->ncols; c++)
		t->cells[t->nrows * t->ncols + c] = xstrdup(cells[c] ? cells[c] : "");
	t->nrows++;
}

void
table_print(const struct table *t, const char *indent, FILE *out)
{
	size_t *width, w;

	if (t->nrows < 2)
		return;	/* a header alone says nothing */
	width = xcalloc(t->ncols, sizeof *width);
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		if ((w = utf8_width(t->cells[i])) > width[i % t->ncols])
			width[i % t->ncols] = w;
	for (size_t r = 0; r < t->nrows; r++) {
		size_t last = t->ncols;

		while (last > 1 && *t->cells[r * t->ncols + last - 1] == '\0')
			last--;	/* no trailing blanks */
		fputs(indent, out);
		for (size_t c = 0; c < last; c++) {
			if (c + 1 < last) {
				fput_padded(out, t->cells[r * t->ncols + c], width[c]);
				fputs("  ", out);
			} else
				fputs(t->cells[r * t->ncols + c], out);
		}
		fputc('\n', out);
	}
	free(width);
}

void
table_free(struct table **tp)
{
	struct table *t = *tp;

	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
	*tp = NULL;
}

/* ---- collation ---- */

char *
str_collate_key(const char *s)
{
	char *f = str_fold(s);
	struct buf b;

	/* level 1: letters and digits folded (case, accents, œ/æ), each run of
	 * spaces and punctuation one separator that sorts before any letter
	 * ("François Martin" before "Françoise", "Saint-Étienne" as "saint
	 * etienne"); level 2 (ties): accents (the text in lower case, accented
	 * letters after plain ones: "cote", "côte", "côté"); level 3: the bytes */
	buf_init(&b);
	str_join_words(f, ' ', 1, &b);
	buf_addc(&b, '\x01');
	for (const char *p = s; *p; p++)
		buf_addc(&b, (*p >= 'A' && *p <= 'Z') ? *p + ('a' - 'A') : *p);
	buf_addc(&b, '\x01');
	buf_adds(&b, s);
	free(f);
	return buf_steal(&b);
}

int
str_collate(const char *a, const char *b)
{
	char *ka = str_collate_key(a), *kb = str_collate_key(b);
	int rc = strcmp(ka, kb);

	free(ka);
	free(kb);
	return rc;
}
