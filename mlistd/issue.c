/*
 * issue.c — compiling a bulletin issue and sending it (see issue.h).
 *
 * One load gathers the issue row, its accepted submissions with their
 * committee, and their photos (files missing on disk are left out with a
 * warning, so nothing rendered points at a file that is not there). The
 * entries are sorted in C, by region and committee name folded (accents
 * and case ignored, as a French reader expects "Île-de-France" before
 * "Normandie"), then the editors' position (unset last), the activity date
 * and the id. Templates receive only constant keys; every user string is
 * escaped by the template itself (:h), the paragraphs and lines of a text
 * being sections so no HTML is ever built here.
 *
 * Archive: the HTML and text are written durably (file_write_durable);
 * photos are hard-linked from data_dir (copied when linking fails, e.g.
 * across file systems), then the directory is fsync'ed. The PDF comes from
 * WeasyPrint, spawned without a shell in its own process group, killed
 * after ISSUE_PDF_TIMEOUT seconds; it writes a temporary file that is
 * fsync'ed and renamed, so a bulletin-N.pdf is always whole.
 *
 * Publication writes the files first, then makes every database change
 * (the queued message and its deliveries, the search index, the issue's
 * state) in one transaction, where the state is checked again so two
 * publishers cannot both send.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "content.h"
#include "db.h"
#include "engine.h"
#include "frdate.h"
#include "image.h"
#include "issue.h"
#include "log.h"
#include "mime.h"
#include "queue.h"
#include "rendition.h"
#include "roster.h"
#include "search.h"
#include "tmpl.h"
#include "util.h"

extern char **environ;

#define ISSUE_PDF_TIMEOUT	120	/* seconds WeasyPrint may take */
#define ISSUE_PRINT_WIDTH	640	/* px: at most about 200 dpi as the PDF prints */
#define ISSUE_PRINT_HEIGHT	620	/* photos (half the column, 78 mm high at most) */
#define ISSUE_JPEG_QUALITY	82
#define ISSUE_ARCHIVE_MODE	0644	/* every archive file: a web server reads them */

struct issue_photo {
	int64_t	 file_id;
	char	*name;		/* s<submission>-<file>.jpg: our name, safe */
	char	*path;		/* the master, relative to data_dir */
	char	*cid;		/* name@domain */
	int	 ordinal;	/* N of its [[photo:N]] marker (content.h) */
	int	 w, h;		/* of the master */
	char	*rend;		/* the rendition of the current view (full path) */
};

/* A document sent with a report (a PDF flyer): copied beside the archive
 * page and linked from it, named in the mail and on paper. */
struct issue_file {
	char	*name;		/* s<submission>-<file>.pdf: our name, safe */
	char	*path;		/* as received, relative to data_dir */
	char	*label;		/* the file name as sent */
	int64_t	 size;
};

struct issue_entry {
	int64_t	 id, committee_id, position;
	int	 has_position;
	char	*committee, *region, *title, *body, *date;
	char	*kregion, *kcommittee;	/* folded sort keys */
	struct issue_photo *photos;
	size_t	 nphotos;
	struct issue_file *files;
	size_t	 nfiles;
};

/* What a rendering is for: the mail (photos as cid: parts, at most
 * max_photos per entry), the archive page (photos beside it) or the page
 * WeasyPrint prints (photos by full path). */
enum issue_target { ISSUE_MAIL, ISSUE_ARCHIVE, ISSUE_PRINT };

struct issue_view {
	enum issue_target target;
	int	 max_photos;	/* per entry; -1: all */
	const char *proof_to;	/* a proof: the editors it goes to; NULL: not one */
};

struct issue {
	int64_t	 id;
	int	 number;
	char	*period_start, *period_end, *publish_date, *state;
	char	*next_deadline;		/* of issue number + 1, NULL if none */
	struct issue_entry *entries;
	size_t	 n;
};

static __thread char issue_errbuf[256];

static const char *
issue_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(issue_errbuf, sizeof issue_errbuf, fmt, ap);
	va_end(ap);
	return issue_errbuf;
}

static int
issue_lang_en(const struct engine *e)
{
	return e->cf->language && strcmp(e->cf->language, "en") == 0;
}

/* ---- dates ---- */

static int
issue_ymd(const char *s, int *y, int *m, int *d)
{
	if (sscanf(s, "%4d-%2d-%2d", y, m, d) != 3 || *m < 1 || *m > 12 || *d < 1 || *d > 31)
		return -1;
	return 0;
}

static const char *
issue_month(const struct engine *e, int m)
{
	return frdate_month_name(issue_lang_en(e), m);
}

/* "12 mars 2026", "1er mars 2026", "12 March 2026"; the input if unparsable. */
static char *
issue_date_text(const struct engine *e, const char *ymd)
{
	char out[64];

	frdate_long(issue_lang_en(e), ymd, out, sizeof out);
	return xstrdup(out);
}

/* "janvier–février 2026", "mars 2026", "décembre 2025 – janvier 2026". */
static char *
issue_period_text(const struct engine *e, const char *start, const char *end)
{
	int y1, m1, d1, y2, m2, d2;

	if (issue_ymd(start, &y1, &m1, &d1) == -1 || issue_ymd(end, &y2, &m2, &d2) == -1)
		return xasprintf("%s – %s", start, end);
	if (y1 == y2 && m1 == m2)
		return xasprintf("%s %d", issue_month(e, m1), y1);
	if (y1 == y2)
		return xasprintf("%s\u2013%s %d", issue_month(e, m1), issue_month(e, m2), y1);
	return xasprintf("%s %d \u2013 %s %d", issue_month(e, m1), y1, issue_month(e, m2), y2);
}

/* ---- loading ---- */

static void
issue_clear(struct issue *is)
{
	for (size_t i = 0; i < is->n; i++) {
		struct issue_entry *en = &is->entries[i];

		for (size_t j = 0; j < en->nphotos; j++) {
			free(en->photos[j].name);
			free(en->photos[j].path);
			free(en->photos[j].cid);
			free(en->photos[j].rend);
		}
		free(en->photos);
		for (size_t j = 0; j < en->nfiles; j++) {
			free(en->files[j].name);
			free(en->files[j].path);
			free(en->files[j].label);
		}
		free(en->files);
		free(en->committee);
		free(en->region);
		free(en->title);
		free(en->body);
		free(en->date);
		free(en->kregion);
		free(en->kcommittee);
	}
	free(is->entries);
	free(is->period_start);
	free(is->period_end);
	free(is->publish_date);
	free(is->state);
	free(is->next_deadline);
	memset(is, 0, sizeof *is);
}

static int
issue_load_row(struct engine *e, int number, struct issue *is, const char **err_r)
{
	struct db_stmt *st = db_query(e->db, "SELECT id, period_start, period_end, publish_date,"
	    " state FROM bulletin_issue WHERE number = ?", "d", number);
	int rc = st ? db_step(st) : -1;

	if (rc == 1) {
		is->id = db_col_int(st, 0);
		is->number = number;
		is->period_start = xstrdup(db_col_text(st, 1));
		is->period_end = xstrdup(db_col_text(st, 2));
		is->publish_date = xstrdup(db_col_text(st, 3));
		is->state = xstrdup(db_col_text(st, 4));
	}
	db_finalize(&st);
	if (rc == -1) {
		*err_r = issue_err("%s", db_errmsg(e->db));
		return -2;
	}
	if (rc == 0) {
		*err_r = issue_err("no issue %d", number);
		return -1;
	}
	is->next_deadline = db_str(e->db, "SELECT deadline FROM bulletin_issue WHERE number = ?",
	    "d", number + 1);
	return 0;
}

static int
issue_load_entries(struct engine *e, struct issue *is, const char **err_r)
{
	struct db_stmt *st = db_query(e->db, "SELECT s.id, c.id, c.name, c.region, s.title,"
	    " s.body, s.activity_date, s.position FROM submission s JOIN committee c ON"
	    " c.id = s.committee_id WHERE s.issue_id = ? AND s.state = 'accepted' ORDER BY s.id", "i", is->id);
	size_t cap = 0;
	int rc;

	while (st && (rc = db_step(st)) == 1) {
		struct issue_entry *en;

		if (is->n == cap) {
			cap = cap ? cap * 2 : 64;
			is->entries = xrealloc(is->entries, cap * sizeof *is->entries);
		}
		en = memset(&is->entries[is->n++], 0, sizeof *en);
		en->id = db_col_int(st, 0);
		en->committee_id = db_col_int(st, 1);
		en->committee = xstrdup(db_col_text(st, 2));
		en->region = xstrdup(db_col_text(st, 3));
		en->title = xstrdup(db_col_text(st, 4));
		en->body = xstrdup(db_col_text(st, 5));
		en->date = xstrdup(db_col_text(st, 6));
		en->has_position = !db_col_null(st, 7);
		en->position = db_col_int(st, 7);
		en->kregion = str_fold(en->region);
		en->kcommittee = str_fold(en->committee);
	}
	if (st == NULL || rc == -1) {
		*err_r = issue_err("%s", db_errmsg(e->db));
		db_finalize(&st);
		return -2;
	}
	db_finalize(&st);
	return 0;
}

static int
issue_entry_cmp(const void *a, const void *b)
{
	const struct issue_entry *x = a, *y = b;
	int c;

	/* An unnamed region comes last. */
	if ((*x->kregion == '\0') != (*y->kregion == '\0'))
		return *x->kregion == '\0' ? 1 : -1;
	if ((c = strcmp(x->kregion, y->kregion)) != 0 ||
	    (c = strcmp(x->kcommittee, y->kcommittee)) != 0)
		return c;
	if (x->committee_id != y->committee_id)
		return x->committee_id < y->committee_id ? -1 : 1;
	if (x->has_position != y->has_position)
		return x->has_position ? -1 : 1;
	if (x->position != y->position)
		return x->position < y->position ? -1 : 1;
	if ((c = strcmp(x->date, y->date)) != 0)
		return c;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int
issue_id_cmp(const void *key, const void *elem)
{
	int64_t id = *(const int64_t *)key, other = ((const struct issue_entry *)elem)->id;

	return id < other ? -1 : id > other;
}

/* While entries are still in id order (before sorting). */
static struct issue_entry *
issue_entry_by_id(struct issue *is, int64_t id)
{
	return bsearch(&id, is->entries, is->n, sizeof *is->entries, issue_id_cmp);
}

static void
issue_add_photo(struct engine *e, struct issue_entry *en, int64_t file_id, const char *path,
    int ordinal)
{
	char *full = xasprintf("%s/%s", e->cf->data_dir, path);
	struct issue_photo *p;
	struct image_size sz;
	const char *why = NULL;
	struct stat sb;

	if (*path == '\0' || strstr(path, "..") || stat(full, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    image_file_size(full, &sz, &why) == -1) {
		log_warnx("submission=%lld photo=%s status=skipped reason=\"%s\"",
		    (long long)en->id, path, why ? why : "missing file");
		free(full);
		return;
	}
	en->photos = xrealloc(en->photos, (en->nphotos + 1) * sizeof *en->photos);
	p = memset(&en->photos[en->nphotos++], 0, sizeof *p);
	p->file_id = file_id;
	p->ordinal = ordinal;
	p->name = xasprintf("s%lld-%lld.jpg", (long long)en->id, (long long)file_id);
	p->path = xstrdup(path);
	p->cid = xasprintf("%s@%s", p->name, e->cf->domain);
	p->w = sz.width;
	p->h = sz.height;
	free(full);
}

static int
issue_load_photos(struct engine *e, struct issue *is, const char **err_r)
{
	struct db_stmt *st = db_query(e->db, "SELECT f.submission_id, f.id, f.path"
	    " FROM submission_file f JOIN submission s ON s.id ="
	    " f.submission_id WHERE s.issue_id = ? AND s.state = 'accepted' AND f.is_photo = 1"
	    " ORDER BY f.submission_id, f.id", "i", is->id);
	struct issue_entry *en = NULL;
	int64_t sid = 0;
	int rc, ordinal = 0;

	while (st && (rc = db_step(st)) == 1) {
		if (sid != db_col_int(st, 0)) {
			sid = db_col_int(st, 0);
			en = issue_entry_by_id(is, sid);
			ordinal = 0;
		}
		ordinal++;	/* counted even when the file is missing */
		if (en != NULL)
			issue_add_photo(e, en, db_col_int(st, 1), db_col_text(st, 2), ordinal);
	}
	if (st == NULL || rc == -1) {
		*err_r = issue_err("%s", db_errmsg(e->db));
		db_finalize(&st);
		return -2;
	}
	db_finalize(&st);
	return 0;
}

/* The PDF documents of the accepted entries (submission_file kind
 * 'document'), whose file is still there. */
static int
issue_load_files(struct engine *e, struct issue *is, const char **err_r)
{
	struct db_stmt *st = db_query(e->db, "SELECT f.submission_id, f.id, f.path, f.filename,"
	    " f.size FROM submission_file f JOIN submission s ON s.id = f.submission_id"
	    " WHERE s.issue_id = ? AND s.state = 'accepted' AND f.kind = 'document'"
	    " ORDER BY f.submission_id, f.id", "i", is->id);
	int rc;

	while (st && (rc = db_step(st)) == 1) {
		struct issue_entry *en = issue_entry_by_id(is, db_col_int(st, 0));
		const char *path = db_col_text(st, 2);
		char *full = xasprintf("%s/%s", e->cf->data_dir, path);
		struct issue_file *f;

		if (en != NULL && *path && strstr(path, "..") == NULL && access(full, R_OK) == 0) {
			en->files = xrealloc(en->files, (en->nfiles + 1) * sizeof *en->files);
			f = &en->files[en->nfiles++];
			f->name = xasprintf("s%lld-%lld.pdf", (long long)en->id,
			    (long long)db_col_int(st, 1));
			f->path = xstrdup(path);
			f->label = xstrdup(*db_col_text(st, 3) ? db_col_text(st, 3) : f->name);
			f->size = db_col_int(st, 4);
		}
		free(full);
	}
	if (st == NULL || rc == -1) {
		*err_r = issue_err("%s", db_errmsg(e->db));
		db_finalize(&st);
		return -2;
	}
	db_finalize(&st);
	return 0;
}

/* The issue and its accepted entries, in bulletin order. */
static int
issue_load(struct engine *e, int number, struct issue *is, const char **err_r)
{
	int rc;

	memset(is, 0, sizeof *is);
	if ((rc = issue_load_row(e, number, is, err_r)) != 0 ||
	    (rc = issue_load_entries(e, is, err_r)) != 0)
		goto fail;
	if ((rc = issue_load_photos(e, is, err_r)) != 0 ||
	    (rc = issue_load_files(e, is, err_r)) != 0)
		goto fail;
	if (is->n > 1)
		qsort(is->entries, is->n, sizeof *is->entries, issue_entry_cmp);
	return 0;
fail:
	issue_clear(is);
	return rc;
}

/* ---- rendering ---- */

/* The text with LF line endings, trailing blanks of lines and blank lines
 * at both ends removed. */
static char *
issue_clean_text(const char *s)
{
	struct buf b;
	char *r;

	buf_init(&b);
	buf_add(&b, "", 0);
	for (; *s; s++) {
		if (*s == '\r') {
			if (s[1] != '\n')
				buf_addc(&b, '\n');
			continue;
		}
		if (*s == '\n')
			while (b.len > 0 && (b.data[b.len - 1] == ' ' || b.data[b.len - 1] == '\t'))
				b.len--;
		buf_addc(&b, *s);
	}
	buf_cstr(&b);
	r = buf_steal(&b);
	str_trim(r);
	return r;
}

/* Paragraphs (split on blank lines) of lines, as sections PARA / LINE. */
static void
issue_set_paragraphs(struct tmpl_dict *d, const char *text)
{
	struct tmpl_dict *para = NULL;
	const char *p = text, *nl;

	while (*p) {
		size_t len;

		nl = strchr(p, '\n');
		len = nl ? (size_t)(nl - p) : strlen(p);
		if (strspn(p, " \t") >= len)
			para = NULL;
		else {
			char *line = xstrndup(p, len);

			if (para == NULL)
				para = tmpl_add_section(d, "PARA");
			tmpl_set(tmpl_add_section(para, "LINE"), "LINE_TEXT", line);
			free(line);
		}
		p += len + (nl != NULL);
	}
}

/* One row of the photo grid: two photos side by side (50 % each), or a
 * last one alone: full width when landscape, half width when portrait. */
static void
issue_set_row(struct tmpl_dict *part, const struct issue *is, const struct issue_entry *en,
    const struct issue_photo *const *p, size_t n, const struct issue_view *v)
{
	struct tmpl_dict *row = tmpl_add_section(part, "ROW");
	int alone_wide = n == 1 && p[0]->w >= p[0]->h;

	for (size_t i = 0; i < n; i++) {
		struct tmpl_dict *ph = tmpl_add_section(row, "PHOTO");
		char *src = v->target == ISSUE_MAIL ? xasprintf("cid:%s", p[i]->cid) :
		    v->target == ISSUE_ARCHIVE ? xasprintf("bulletin-%d/%s", is->number, p[i]->name) :
		    xstrdup(strrchr(p[i]->rend, '/') + 1);
		char *alt = xasprintf("%s \u2014 %s", en->title, en->committee);

		tmpl_set(ph, "PHOTO_SRC", src);
		tmpl_set(ph, "PHOTO_ALT", alt);
		tmpl_set_int(ph, "PHOTO_PCT", alone_wide ? 100 : 50);
		tmpl_set_int(ph, "PHOTO_WIDTH", alone_wide ? 552 : 270);
		free(src);
		free(alt);
	}
	if (n == 1 && !alone_wide)
		tmpl_show_section(row, "ROW_GAP");
}

/* Photos p (n) as grid rows of a new part; the text version names them
 * at the same place (TXTPHOTO, then TXTGRID once for the blank line). */
static void
issue_set_grid(struct tmpl_dict *body, const struct issue *is, const struct issue_entry *en,
    const struct issue_photo *const *p, size_t n, const struct issue_view *v)
{
	struct tmpl_dict *part;

	if (n == 0)
		return;
	part = tmpl_add_section(body, "PART");
	for (size_t i = 0; i < n; i += 2)
		issue_set_row(part, is, en, &p[i], n - i >= 2 ? 2 : 1, v);
	for (size_t i = 0; i < n; i++) {
		char *ref = v->target == ISSUE_ARCHIVE ? xasprintf("bulletin-%d/%s", is->number,
		    p[i]->name) : xstrdup(p[i]->name);
		struct tmpl_dict *t = tmpl_add_section(part, "TXTPHOTO");

		tmpl_set(t, "PHOTO_REF", ref);
		tmpl_set_int(t, "PHOTO_NUMBER", (long long)(p[i] - en->photos) + 1);
		free(ref);
	}
	tmpl_show_section(part, "TXTGRID");
}

/* Where the full issue is read: section FULL_URL (bulletin_archive_url
 * set) or NO_URL. */
static void
issue_set_url(const struct engine *e, const struct issue *is, struct tmpl_dict *d)
{
	const char *base = e->cf->bulletin_archive_url;
	size_t len = strlen(base);
	char *url;

	if (len == 0) {
		tmpl_show_section(d, "NO_URL");
		return;
	}
	url = xasprintf("%s%sbulletin-%d.html", base, base[len - 1] == '/' ? "" : "/", is->number);
	tmpl_set(tmpl_add_section(d, "FULL_URL"), "FULL_URL", url);
	free(url);
}

/* How many of the entry's photos this view shows. */
static size_t
issue_shown(const struct issue_entry *en, const struct issue_view *v)
{
	return v->max_photos >= 0 && (size_t)v->max_photos < en->nphotos ?
	    (size_t)v->max_photos : en->nphotos;
}

/* The photo of the entry whose marker is [[photo:n]] and that the view
 * shows, not yet placed; NULL if none. */
static const struct issue_photo *
issue_marked(const struct issue_entry *en, int n, size_t shown, unsigned char *placed)
{
	for (size_t i = 0; i < shown; i++)
		if (en->photos[i].ordinal == n && !placed[i]) {
			placed[i] = 1;
			return &en->photos[i];
		}
	return NULL;
}

/* The text without its marker lines (the text version, the search index). */
static char *
issue_unmarked(const char *text)
{
	struct buf b;

	buf_init(&b);
	buf_add(&b, "", 0);
	for (const char *p = text; *p; ) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (!content_marker(p, len))
			buf_add(&b, p, len + (nl != NULL));
		p += len + (nl != NULL);
	}
	buf_cstr(&b);
	return buf_steal(&b);
}

/*
 * The entry as parts in the order it was written: paragraphs, and at each
 * [[photo:N]] marker line the photo it names (markers one after the other,
 * blank lines between, make one grid). Photos without a marker (or whose
 * marker was lost) follow the text. In the mail, only the photos the view
 * shows are placed.
 */
static void
issue_flush_text(struct tmpl_dict *body, struct buf *seg)
{
	if (seg->len > 0 && strspn(buf_cstr(seg), " \t\n") < seg->len)
		issue_set_paragraphs(tmpl_add_section(body, "PART"), seg->data);
	buf_reset(seg);
}

static void
issue_set_parts(struct tmpl_dict *body, const struct issue *is, const struct issue_entry *en,
    const char *text, const struct issue_view *v)
{
	size_t shown = issue_shown(en, v), nrun = 0;
	unsigned char *placed = xcalloc(en->nphotos + 1, 1);
	const struct issue_photo **run = xcalloc(en->nphotos + 1, sizeof *run), *ph;
	struct buf seg;

	buf_init(&seg);
	for (const char *p = text; *p; ) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		int n = content_marker(p, len);

		if (n > 0 && (ph = issue_marked(en, n, shown, placed)) != NULL) {
			issue_flush_text(body, &seg);
			run[nrun++] = ph;
		} else if (n == 0 && (strspn(p, " \t") < len || nrun == 0)) {
			if (nrun > 0 && strspn(p, " \t") < len) {
				issue_set_grid(body, is, en, run, nrun, v);
				nrun = 0;
			}
			buf_add(&seg, p, len);
			buf_addc(&seg, '\n');
		}
		p += len + (nl != NULL);
	}
	issue_flush_text(body, &seg);
	for (size_t i = 0; i < shown; i++)
		if (!placed[i])
			run[nrun++] = &en->photos[i];
	issue_set_grid(body, is, en, run, nrun, v);
	buf_free(&seg);
	free(run);
	free(placed);
}

/* "12 Ko", "1,4 Mo": a size as French readers write it. */
static char *
issue_size_text(int64_t size)
{
	if (size < 1000 * 1000)
		return xasprintf("%lld Ko", (long long)(size + 999) / 1000);
	return xasprintf("%lld,%lld Mo", (long long)size / 1000000,
	    (long long)(size % 1000000) / 100000);
}

/* The entry's documents, section FILE: linked beside the archive page,
 * or to the published archive from the mail and the printed page when
 * bulletin_archive_url says where it is (FILE_LINK), else named only. */
static void
issue_set_files(const struct engine *e, const struct issue *is, const struct issue_entry *en,
    struct tmpl_dict *body, const struct issue_view *v)
{
	const char *base = e->cf->bulletin_archive_url;
	size_t blen = strlen(base);

	for (size_t i = 0; i < en->nfiles; i++) {
		const struct issue_file *f = &en->files[i];
		struct tmpl_dict *d = tmpl_add_section(body, "FILE");
		char *size = issue_size_text(f->size), *href = NULL;

		if (v->target == ISSUE_ARCHIVE)
			href = xasprintf("bulletin-%d/%s", is->number, f->name);
		else if (blen > 0)
			href = xasprintf("%s%sbulletin-%d/%s", base, base[blen - 1] == '/' ? "" : "/",
			    is->number, f->name);
		tmpl_set(d, "FILE_NAME", f->label);
		tmpl_set(d, "FILE_SIZE", size);
		if (href != NULL)
			tmpl_set(tmpl_add_section(d, "FILE_LINK"), "FILE_HREF", href);
		free(size);
		free(href);
	}
}

static void
issue_set_entry(const struct engine *e, const struct issue *is, const struct issue_entry *en,
    struct tmpl_dict *body, struct tmpl_dict *toc, const struct issue_view *v)
{
	char *date = issue_date_text(e, en->date), *text = issue_clean_text(en->body);
	size_t shown = issue_shown(en, v);
	char anchor[32];

	snprintf(anchor, sizeof anchor, "e%lld", (long long)en->id);
	tmpl_set(toc, "ENTRY_TITLE", en->title);
	tmpl_set(toc, "ENTRY_ANCHOR", anchor);
	tmpl_set(body, "ENTRY_TITLE", en->title);
	tmpl_set(body, "ENTRY_ANCHOR", anchor);
	tmpl_set(body, "ENTRY_DATE", date);
	issue_set_parts(body, is, en, text, v);
	if (shown < en->nphotos) {
		struct tmpl_dict *more = tmpl_add_section(body, "MORE_PHOTOS");

		tmpl_set_int(more, "MORE_COUNT", (long long)(en->nphotos - shown));
		issue_set_url(e, is, more);
		if (en->nphotos - shown > 1)
			tmpl_show_section(more, "MORE_PLURAL");
	}
	issue_set_files(e, is, en, body, v);
	free(date);
	free(text);
}

/* A region (or committee) row in both the table of contents and the body. */
static void
issue_set_group(struct tmpl_dict *body, struct tmpl_dict *toc, const char *name_key,
    const char *name, const char *anchor_key, const char *anchor)
{
	tmpl_set(body, name_key, name);
	tmpl_set(toc, name_key, name);
	tmpl_set(body, anchor_key, anchor);
	tmpl_set(toc, anchor_key, anchor);
}

static void
issue_set_entries(const struct engine *e, const struct issue *is, struct tmpl_dict *d,
    const struct issue_view *v)
{
	struct tmpl_dict *reg = NULL, *treg = NULL, *com = NULL, *tcom = NULL;
	char anchor[32];
	int nregions = 0, ncommittees = 0;

	for (size_t i = 0; i < is->n; i++) {
		const struct issue_entry *en = &is->entries[i], *prev = i ? en - 1 : NULL;

		if (prev == NULL || strcmp(prev->kregion, en->kregion) != 0) {
			reg = tmpl_add_section(d, "REGION");
			treg = tmpl_add_section(d, "TOC_REGION");
			snprintf(anchor, sizeof anchor, "r%d", ++nregions);
			issue_set_group(reg, treg, "REGION_NAME", en->region, "REGION_ANCHOR", anchor);
			tmpl_show_section(reg, *en->region ? "REGION_NAMED" : "REGION_UNNAMED");
			tmpl_show_section(treg, *en->region ? "REGION_NAMED" : "REGION_UNNAMED");
			prev = NULL;
		}
		if (prev == NULL || prev->committee_id != en->committee_id) {
			com = tmpl_add_section(reg, "COMMITTEE");
			tcom = tmpl_add_section(treg, "TOC_COMMITTEE");
			snprintf(anchor, sizeof anchor, "c%lld", (long long)en->committee_id);
			issue_set_group(com, tcom, "COMMITTEE_NAME", en->committee, "COMMITTEE_ANCHOR",
			    anchor);
			ncommittees++;
		}
		issue_set_entry(e, is, en, tmpl_add_section(com, "ENTRY"),
		    tmpl_add_section(tcom, "TOC_ENTRY"), v);
	}
	tmpl_set_int(d, "NCOMMITTEES", ncommittees);
}

static struct tmpl_dict *
issue_dict(const struct engine *e, const struct issue *is, const struct issue_view *v)
{
	struct tmpl_dict *d = tmpl_dict_new();
	char *val;

	tmpl_set(d, "LIST_NAME", e->cf->list_name);
	tmpl_set(d, "LIST_ADDRESS", e->list_addr);
	tmpl_set(d, "REQUEST_ADDRESS", e->request_addr);
	val = engine_addr(e, e->cf->bulletin_address, NULL);
	tmpl_set(d, "BULLETIN_ADDRESS", val);
	free(val);
	tmpl_set_int(d, "ISSUE_NUMBER", is->number);
	val = issue_period_text(e, is->period_start, is->period_end);
	tmpl_set(d, "PERIOD", val);
	free(val);
	val = issue_date_text(e, is->publish_date);
	tmpl_set(d, "PUBLISH_DATE", val);
	free(val);
	tmpl_set_int(d, "NENTRIES", (long long)is->n);
	if (v->proof_to)
		tmpl_set(tmpl_add_section(d, "PROOF"), "PROOF_TO", v->proof_to);
	if (is->next_deadline) {
		val = issue_date_text(e, is->next_deadline);
		tmpl_set(tmpl_add_section(d, "NEXT_DEADLINE"), "DEADLINE", val);
		free(val);
	}
	for (size_t i = 0; i < is->n; i++)
		if (issue_shown(&is->entries[i], v) < is->entries[i].nphotos) {
			issue_set_url(e, is, tmpl_add_section(d, "TOO_LARGE"));
			break;
		}
	issue_set_entries(e, is, d, v);
	return d;
}

static int
issue_expand(const struct engine *e, const char *name, const struct tmpl_dict *d,
    enum tmpl_mode mode, char **out_r, const char **err_r)
{
	char *path = tmpl_find(e->cf->templates_dir, e->cf->language, name);
	int rc;

	if (path == NULL) {
		*err_r = issue_err("template %s not found", name);
		return -2;
	}
	rc = tmpl_expand(path, d, mode, out_r, err_r);
	free(path);
	return rc == 0 ? 0 : -2;
}

/* The text template starts with "Subject: ..." and a blank line, like notices. */
static void
issue_split_subject(const struct engine *e, const struct issue *is, struct issue_doc *doc)
{
	char *t = doc->text, *end = strstr(t, "\n\n");

	if (str_has_prefix_ci(t, "Subject:") && end != NULL) {
		char *nl = strchr(t, '\n'), *body = xstrdup(end + 2);

		doc->subject = xstrndup(t + 8, (size_t)(nl - t - 8));
		str_trim(doc->subject);
		free(doc->text);
		doc->text = body;
	} else
		doc->subject = xasprintf("%s %d", e->cf->list_name, is->number);
}

static int
issue_render_is(struct engine *e, const struct issue *is, const struct issue_view *v,
    struct issue_doc *doc, const char **err_r)
{
	struct tmpl_dict *d = issue_dict(e, is, v);
	int rc;

	memset(doc, 0, sizeof *doc);
	rc = issue_expand(e, "bulletin.html", d, TMPL_HTML, &doc->html, err_r);
	if (rc == 0)
		rc = issue_expand(e, "bulletin.txt", d, TMPL_TEXT, &doc->text, err_r);
	tmpl_dict_free(&d);
	if (rc != 0) {
		issue_doc_free(doc);
		return rc;
	}
	issue_split_subject(e, is, doc);
	doc->nentries = (int)is->n;
	return 0;
}

/* Inside this file 0 is done, -1 refused (a rule, a missing issue), -2 an
 * error; the API (issue.h) says 1, 0, -1 like every module. */
static int
issue_result(int rc)
{
	return rc == 0 ? 1 : rc == -1 ? 0 : -1;
}

int
issue_render(struct engine *e, int number, int for_archive, struct issue_doc *doc,
    const char **err_r)
{
	struct issue is;
	int rc;

	struct issue_view v = { for_archive ? ISSUE_ARCHIVE : ISSUE_MAIL, -1, NULL };

	memset(doc, 0, sizeof *doc);
	if ((rc = issue_load(e, number, &is, err_r)) != 0)
		return issue_result(rc);
	rc = issue_render_is(e, &is, &v, doc, err_r);
	issue_clear(&is);
	return issue_result(rc);
}

void
issue_doc_free(struct issue_doc *doc)
{
	free(doc->html);
	free(doc->text);
	free(doc->subject);
	memset(doc, 0, sizeof *doc);
}

/* ---- photos: renditions ---- */

/* Every photo's rendition within width x height (0: no bound) in
 * data_dir/renditions, made in parallel when missing and shared by the
 * mail, its proof, the archive and the printed page; p->rend names it. */
static int
issue_renditions(struct engine *e, struct issue *is, int width, int height,
    const char **err_r)
{
	char *dir = xasprintf("%s/renditions", e->cf->data_dir);
	struct rendition_job *jobs = NULL;
	size_t n = 0;
	const char *why = NULL;
	int rc = 0;

	if (mkdir_p(dir, 0750) == -1) {
		*err_r = issue_err("cannot create %s: %s", dir, strerror(errno));
		free(dir);
		return -2;
	}
	for (size_t i = 0; i < is->n; i++)
		for (size_t j = 0; j < is->entries[i].nphotos; j++) {
			struct issue_photo *p = &is->entries[i].photos[j];

			free(p->rend);
			p->rend = xasprintf("%s/%.*s-w%dh%d.jpg", dir, (int)strlen(p->name) - 4, p->name,
			    width, height);
			jobs = xrealloc(jobs, (n + 1) * sizeof *jobs);
			jobs[n].master = xasprintf("%s/%s", e->cf->data_dir, p->path);
			jobs[n].out = p->rend;
			jobs[n].width = width;
			jobs[n].height = height;
			jobs[n++].quality = ISSUE_JPEG_QUALITY;
		}
	if (rendition_make(jobs, n, &why) == -1) {
		*err_r = issue_err("photo %s", why);
		rc = -2;
	}
	for (size_t i = 0; i < n; i++)
		free((char *)jobs[i].master);
	free(jobs);
	free(dir);
	return rc;
}

/* ---- archive ---- */

/* Everything in the archive is readable by a web server: one mode. */
static int
issue_publishable(const char *path, const char **err_r)
{
	if (chmod(path, ISSUE_ARCHIVE_MODE) == -1) {
		*err_r = issue_err("cannot chmod %s: %s", path, strerror(errno));
		return -2;
	}
	return 0;
}

/* dst as a hard link to src, or a copy when linking is impossible. */
static int
issue_link_or_copy(const char *src, const char *dst)
{
	char *data;
	size_t len;
	int rc;

	if (unlink(dst) == -1 && errno != ENOENT)
		return -1;
	if (link(src, dst) == 0)
		return 0;
	if (file_read(src, SIZE_MAX / 2, &data, &len) == -1)
		return -1;
	rc = file_write_durable(dst, data, len);
	free(data);
	return rc;
}

/* dst (in the archive) as src, readable by the web server. */
static int
issue_archive_copy(const char *src, const char *dst, const char **err_r)
{
	if (issue_link_or_copy(src, dst) == -1) {
		*err_r = issue_err("cannot copy %s: %s", src, strerror(errno));
		return -2;
	}
	return issue_publishable(dst, err_r);
}

/* The entries' documents as received, beside the photos. */
static int
issue_archive_files_of(struct engine *e, const struct issue *is, const char *dir,
    const char **err_r)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < is->n; i++)
		for (size_t j = 0; rc == 0 && j < is->entries[i].nfiles; j++) {
			const struct issue_file *f = &is->entries[i].files[j];
			char *src = xasprintf("%s/%s", e->cf->data_dir, f->path);
			char *dst = xasprintf("%s/%s", dir, f->name);

			rc = issue_archive_copy(src, dst, err_r);
			free(src);
			free(dst);
		}
	return rc;
}

/* The photos at the archive width and the documents beside the page, in
 * bulletin-N/. */
static int
issue_archive_photos(struct engine *e, struct issue *is, const char *dir, const char **err_r)
{
	int rc = issue_renditions(e, is, (int)e->cf->bulletin_archive_photo_width, 0, err_r);

	if (rc == 0 && (mkdir_p(dir, 0755) == -1 || chmod(dir, 0755) == -1)) {
		*err_r = issue_err("cannot create %s: %s", dir, strerror(errno));
		return -2;
	}
	for (size_t i = 0; rc == 0 && i < is->n; i++)
		for (size_t j = 0; rc == 0 && j < is->entries[i].nphotos; j++) {
			const struct issue_photo *p = &is->entries[i].photos[j];
			char *dst = xasprintf("%s/%s", dir, p->name);

			rc = issue_archive_copy(p->rend, dst, err_r);
			free(dst);
		}
	if (rc == 0)
		rc = issue_archive_files_of(e, is, dir, err_r);
	if (rc == 0 && fsync_dir(dir) == -1) {
		*err_r = issue_err("cannot sync %s: %s", dir, strerror(errno));
		return -2;
	}
	return rc;
}

static int
issue_write(const char *path, const char *data, const char **err_r)
{
	if (file_write_durable(path, data, strlen(data)) == -1) {
		*err_r = issue_err("cannot write %s: %s", path, strerror(errno));
		return -2;
	}
	return issue_publishable(path, err_r);
}

/* bulletin-N.html, bulletin-N.txt and the photos in bulletin-N/. */
static int
issue_archive_files(struct engine *e, struct issue *is, const char **err_r)
{
	char *dir = xasprintf("%s/archive", e->cf->data_dir);
	char *sub = xasprintf("%s/bulletin-%d", dir, is->number);
	char *html = xasprintf("%s.html", sub), *txt = xasprintf("%s.txt", sub);
	struct issue_view v = { ISSUE_ARCHIVE, -1, NULL };
	struct issue_doc doc;
	int rc;

	rc = issue_render_is(e, is, &v, &doc, err_r);
	if (rc == 0 && (mkdir_p(dir, 0755) == -1 || chmod(dir, 0755) == -1)) {
		*err_r = issue_err("cannot create %s: %s", dir, strerror(errno));
		rc = -2;
	}
	if (rc == 0)
		rc = issue_archive_photos(e, is, sub, err_r);
	if (rc == 0)
		rc = issue_write(txt, doc.text, err_r);
	if (rc == 0)
		rc = issue_write(html, doc.html, err_r);
	issue_doc_free(&doc);
	free(html);
	free(txt);
	free(sub);
	free(dir);
	return rc;
}

/* The full path of prog in $PATH, NULL if none is executable. */
static char *
issue_which(const char *prog)
{
	const char *path = getenv("PATH"), *p;

	for (p = path ? path : ""; *p; ) {
		size_t len = strcspn(p, ":");
		char *f = xasprintf("%.*s/%s", (int)len, len ? p : ".", prog);

		if (access(f, X_OK) == 0)
			return f;
		free(f);
		p += len + (p[len] == ':');
	}
	return NULL;
}

/* Wait for pid at most timeout seconds; kill its process group past that.
 * Returns the wait status, or -1 when it was killed. */
static int
issue_wait(pid_t pid, int timeout)
{
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	time_t deadline = time(NULL) + timeout;
	int status;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r == -1 && errno != EINTR)
			return -1;
		if (time(NULL) >= deadline)
			break;
		nanosleep(&tick, NULL);
	}
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	return -1;
}

/* The last non-empty line of what the child wrote to fd (its stderr). */
static void
issue_last_line(int fd, char *out, size_t outlen)
{
	char buf[4096], *end, *start;
	off_t size = lseek(fd, 0, SEEK_END);
	ssize_t n;
	size_t len;

	*out = '\0';
	if (size <= 0 || lseek(fd, size > (off_t)sizeof buf - 1 ? size - (off_t)sizeof buf + 1 :
	    0, SEEK_SET) == -1 || (n = read(fd, buf, sizeof buf - 1)) <= 0)
		return;
	buf[n] = '\0';
	for (end = buf + n; end > buf && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ');)
		*--end = '\0';
	start = strrchr(buf, '\n');
	start = start ? start + 1 : buf;
	len = strlen(start) < outlen ? strlen(start) : outlen - 1;
	memcpy(out, start, len);
	out[len] = '\0';
}

static int
issue_spawn(const char *prog, char *const argv[], int errfd, pid_t *pid_r)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, errfd, 2);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	rc = posix_spawn(pid_r, prog, &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

/* Run "weasyprint IN OUT"; 0, or -1 with a reason. */
static int
issue_weasyprint(const char *in, const char *out, const char **err_r)
{
	char *prog = issue_which("weasyprint"), last[200];
	char *argv[] = { "weasyprint", (char *)in, (char *)out, NULL };
	FILE *errf;
	pid_t pid;
	int status = -1, rc;

	if (prog == NULL) {
		*err_r = issue_err("weasyprint not installed");
		return -1;
	}
	if ((errf = tmpfile()) == NULL) {
		*err_r = issue_err("cannot create a temporary file: %s", strerror(errno));
		free(prog);
		return -1;
	}
	rc = issue_spawn(prog, argv, fileno(errf), &pid);
	free(prog);
	if (rc == 0)
		status = issue_wait(pid, ISSUE_PDF_TIMEOUT);
	issue_last_line(fileno(errf), last, sizeof last);
	fclose(errf);
	if (rc != 0)
		*err_r = issue_err("cannot run weasyprint: %s", strerror(rc));
	else if (status == -1)
		*err_r = issue_err("weasyprint killed after %d s", ISSUE_PDF_TIMEOUT);
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		*err_r = issue_err("weasyprint failed (status %d): %s", WIFEXITED(status) ?
		    WEXITSTATUS(status) : 128 + WTERMSIG(status), last);
	return rc == 0 && status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int
issue_fsync_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* The page WeasyPrint prints: photos at ISSUE_PRINT_WIDTH (about 200 dpi
 * at their printed size, where the archive's larger ones made 900 dpi and
 * gigabytes of memory), written beside them in data_dir/renditions. */
static char *
issue_print_page(struct engine *e, struct issue *is, const char **err_r)
{
	struct issue_view v = { ISSUE_PRINT, -1, NULL };
	struct issue_doc doc;
	char *path;

	if (issue_renditions(e, is, ISSUE_PRINT_WIDTH, ISSUE_PRINT_HEIGHT, err_r) != 0 ||
	    issue_render_is(e, is, &v, &doc, err_r) != 0)
		return NULL;
	path = xasprintf("%s/renditions/bulletin-%d.print.html", e->cf->data_dir, is->number);
	if (file_write_durable(path, doc.html, strlen(doc.html)) == -1) {
		*err_r = issue_err("cannot write %s: %s", path, strerror(errno));
		free(path);
		path = NULL;
	}
	issue_doc_free(&doc);
	return path;
}

/* bulletin-N.pdf from the printed page: through a temporary file, synced
 * and renamed. -1 with a reason on failure. */
static int
issue_archive_pdf(struct engine *e, struct issue *is, const char **err_r)
{
	char *prog = issue_which("weasyprint"), *dir, *html, *pdf, *tmp;
	int rc;

	if (prog == NULL) {	/* before making the printed page's photos */
		*err_r = issue_err("weasyprint not installed");
		return -1;
	}
	free(prog);
	dir = xasprintf("%s/archive", e->cf->data_dir);
	html = issue_print_page(e, is, err_r);
	pdf = xasprintf("%s/bulletin-%d.pdf", dir, is->number);
	tmp = xasprintf("%s/.bulletin-%d.pdf.tmp", dir, is->number);
	rc = html ? issue_weasyprint(html, tmp, err_r) : -1;

	if (rc == 0 && (issue_fsync_file(tmp) == -1 || chmod(tmp, ISSUE_ARCHIVE_MODE) == -1 ||
	    rename(tmp, pdf) == -1 || fsync_dir(dir) == -1)) {
		*err_r = issue_err("cannot write %s: %s", pdf, strerror(errno));
		rc = -1;
	}
	if (rc == -1)
		unlink(tmp);
	if (html)
		unlink(html);
	free(dir);
	free(html);
	free(pdf);
	free(tmp);
	return rc;
}

int
issue_archive(struct engine *e, int number, int with_pdf, const char **err_r)
{
	struct issue is;
	int rc;

	if ((rc = issue_load(e, number, &is, err_r)) != 0)
		return issue_result(rc);
	rc = issue_archive_files(e, &is, err_r);
	if (rc == 0 && with_pdf && issue_archive_pdf(e, &is, err_r) == -1)
		rc = -2;	/* an error (no WeasyPrint, disk), not a rule */
	issue_clear(&is);
	if (rc == 0)
		log_info("bulletin=%d status=archived pdf=%s", number, with_pdf ? "yes" : "no");
	return issue_result(rc);
}

/* ---- the mail ---- */

/* The photos a mail view shows, in order, from their renditions. */
static struct mime_inline *
issue_mail_images(const struct issue *is, const struct issue_view *v, size_t *n_r)
{
	struct mime_inline *imgs = NULL;
	size_t n = 0;

	for (size_t i = 0; i < is->n; i++)
		for (size_t j = 0; j < issue_shown(&is->entries[i], v); j++) {
			const struct issue_photo *p = &is->entries[i].photos[j];

			imgs = xrealloc(imgs, (n + 1) * sizeof *imgs);
			imgs[n].cid = p->cid;
			imgs[n].content_type = "image/jpeg";
			imgs[n].filename = p->name;
			imgs[n++].path = p->rend;
		}
	*n_r = n;
	return imgs;
}

/* The subject as the text template writes it, "[ÉPREUVE] " before a
 * proof's (new string). */
static char *
issue_proof_subject(const struct engine *e, const struct issue_view *v, const char *subject)
{
	return v->proof_to ? xasprintf("[%s] %s", issue_lang_en(e) ? "PROOF" : "ÉPREUVE",
	    subject) : xstrdup(subject);
}

/* The bulletin as a prepared CRLF message (caller frees), From the
 * bulletin address. The publication goes To the list with the headers of
 * a broadcast (List-*, Precedence) and Reply-To retour+TOKEN@ (answered
 * like a broadcast). A proof (v->proof_to) goes To the editors with none
 * of them: a reply to it (PUBLIER N) reaches the bulletin address, where
 * editors' commands are read. Message-ID <TOKEN@domain> for both. */
static char *
issue_mail_build(struct engine *e, const struct issue *is, const struct issue_view *v,
    const char *token, size_t *len_r, const char **err_r)
{
	const struct config *cf = e->cf;
	char *from = engine_addr(e, cf->bulletin_address, NULL), *out = NULL, *subject;
	char *list_id = xasprintf("\"%s\" <%s.%s>", cf->list_name, cf->national_address, cf->domain);
	char *help = xasprintf("<mailto:%s?subject=aide>", e->request_addr);
	char *unsub = xasprintf("<mailto:%s?subject=arret>", e->request_addr);
	char *reply_to = engine_addr(e, cf->reply_prefix, token);
	char *mid = xasprintf("<%s@%s>", token, cf->domain);
	const char *pub[] = { "Message-ID", mid, "Reply-To", reply_to, "List-Id", list_id,
	    "List-Help", help, "List-Unsubscribe", unsub, "Precedence", "list", "X-Loop",
	    e->list_addr, NULL };
	const char *proof[] = { "Message-ID", mid, "Reply-To", from, "X-Loop", e->list_addr, NULL };
	struct mime_inline *imgs;
	struct issue_doc doc;
	size_t n;

	if (issue_render_is(e, is, v, &doc, err_r) != 0)
		goto done;
	subject = issue_proof_subject(e, v, doc.subject);
	imgs = issue_mail_images(is, v, &n);
	out = mime_build_alternative(cf->list_name, from, v->proof_to ? v->proof_to :
	    e->list_addr, subject, doc.text, doc.html, imgs, n, v->proof_to ? proof : pub, 1,
	    len_r);
	if (out == NULL)
		*err_r = issue_err("cannot read a photo of the issue");
	free(imgs);
	free(subject);
	issue_doc_free(&doc);
done:
	free(mid);
	free(reply_to);
	free(unsub);
	free(help);
	free(list_id);
	free(from);
	return out;
}

/* What the photos of view v add to the mail, base64 with part headers. */
static size_t
issue_mail_photo_bytes(const struct issue *is, const struct issue_view *v)
{
	size_t total = 0;
	struct stat sb;

	for (size_t i = 0; i < is->n; i++)
		for (size_t j = 0; j < issue_shown(&is->entries[i], v); j++)
			if (stat(is->entries[i].photos[j].rend, &sb) == 0)
				total += ((size_t)sb.st_size + 2) / 3 * 4 * 78 / 76 + 300;
	return total;
}

static int
issue_max_photos(const struct issue *is)
{
	size_t max = 0;

	for (size_t i = 0; i < is->n; i++)
		max = is->entries[i].nphotos > max ? is->entries[i].nphotos : max;
	return (int)max;
}

/* Build candidate v if its photos alone leave room; the message when it
 * fits bulletin_mail_max. */
static char *
issue_mail_try(struct engine *e, const struct issue *is, const struct issue_view *v,
    const char *token, size_t *len_r, const char **err_r)
{
	size_t max = (size_t)e->cf->bulletin_mail_max;
	char *msg;

	if (issue_mail_photo_bytes(is, v) >= max)
		return NULL;
	if ((msg = issue_mail_build(e, is, v, token, len_r, err_r)) != NULL &&
	    *len_r <= max)
		return msg;
	free(msg);
	return NULL;
}

/*
 * The mail within bulletin_mail_max: every photo at the mail width, then
 * at 3/4 and 1/2 of it, then fewer photos per report (the first ones of
 * each: the mail then says how many more and where the full issue is).
 * NULL with err_r set when even the text alone is too large.
 */
static char *
issue_mail(struct engine *e, struct issue *is, const char *token, const char *proof_to,
    size_t *len_r, const char **err_r)
{
	int w0 = (int)e->cf->bulletin_mail_photo_width, widths[] = { w0, w0 * 3 / 4, w0 / 2 };
	struct issue_view v = { ISSUE_MAIL, -1, proof_to };
	const char *why = NULL;
	char *msg = NULL;
	int w = w0;

	for (size_t i = 0; msg == NULL && i < nitems(widths); i++) {
		w = widths[i] < 200 ? 200 : widths[i];
		if (issue_renditions(e, is, w, 0, err_r) != 0)
			return NULL;
		msg = issue_mail_try(e, is, &v, token, len_r, &why);
	}
	for (v.max_photos = issue_max_photos(is) - 1; msg == NULL && v.max_photos >= 0;
	    v.max_photos--)
		msg = issue_mail_try(e, is, &v, token, len_r, &why);
	if (msg == NULL) {
		*err_r = why ? why : issue_err("bulletin %d: the text alone is larger than"
		    " bulletin_mail_max (%ld bytes)", is->number, e->cf->bulletin_mail_max);
		return NULL;
	}
	log_info("bulletin=%d mail bytes=%zu photo_width=%d photos_per_report=%s%d", is->number,
	    *len_r, w, v.max_photos < 0 ? "all/" : "", v.max_photos < 0 ? issue_max_photos(is) :
	    v.max_photos + 1);
	return msg;
}

struct issue_rcpts {
	struct queue_rcpt	*list;
	char			**emails;	/* owned copies */
	size_t			 n;
};

static void
issue_rcpt_add(struct issue_rcpts *r, const char *email, int64_t contact, int64_t committee)
{
	r->list = xrealloc(r->list, (r->n + 1) * sizeof *r->list);
	r->emails = xrealloc(r->emails, (r->n + 1) * sizeof *r->emails);
	r->emails[r->n] = xstrdup(email);
	r->list[r->n].email = r->emails[r->n];
	r->list[r->n].contact_id = contact;
	r->list[r->n++].committee_id = committee;
}

static void
issue_rcpts_free(struct issue_rcpts *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->emails[i]);
	free(r->emails);
	free(r->list);
	memset(r, 0, sizeof *r);
}

/* Rows of (email, contact id, committee id) from sql into r. */
static int
issue_rcpts_query(struct engine *e, struct issue_rcpts *r, const char *sql)
{
	struct db_stmt *st = db_query(e->db, sql, "");
	int rc = -1;

	while (st && (rc = db_step(st)) == 1)
		issue_rcpt_add(r, db_col_text(st, 0), db_col_int(st, 1), db_col_int(st, 2));
	db_finalize(&st);
	return rc;
}

/* The fingerprint of what the issue shows: its dates and, in bulletin
 * order, each entry's committee, title, date, text (photo markers
 * included) and photos. A proof records it; PUBLIER by mail needs it
 * unchanged (issue_hashes). */
static void
issue_hash(const struct issue *is, char out[65])
{
	struct buf b;

	buf_init(&b);
	buf_printf(&b, "%d\x1f%s\x1f%s\x1f%s", is->number, is->period_start, is->period_end,
	    is->publish_date);
	for (size_t i = 0; i < is->n; i++) {
		const struct issue_entry *en = &is->entries[i];

		buf_printf(&b, "\x1e%lld\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s", (long long)en->id,
		    en->region, en->committee, en->title, en->date, en->body);
		for (size_t j = 0; j < en->nphotos; j++)
			buf_printf(&b, "\x1f%lld", (long long)en->photos[j].file_id);
	}
	mime_sha256_hex(buf_cstr(&b), b.len, out);
	buf_free(&b);
}

/* The proof (one row each, with the content's fingerprint) or the
 * publication as a mailing of the issue: "bulletin show" counts the copies
 * of its message. */
static int
issue_mailing_record(struct engine *e, const struct issue *is, const char *kind, int64_t id)
{
	char *k = strcmp(kind, "proof") == 0 ? xasprintf("proof-%lld", (long long)id) :
	    xstrdup("publication"), hash[65];
	int rc;

	issue_hash(is, hash);
	rc = db_run(e->db, "INSERT INTO bulletin_mailing (issue_id, kind, committee_id, sent,"
	    " message_id, content_hash) VALUES (?, ?, 0, ?, ?, ?)", "isiis", is->id, k,
	    (int64_t)now(), id, hash);
	free(k);
	return rc;
}

static char *
issue_subject(struct engine *e, const struct issue *is, const char *proof_to,
    const char **err_r)
{
	struct issue_view v = { ISSUE_MAIL, -1, proof_to };
	struct issue_doc doc;
	char *subject;

	if (issue_render_is(e, is, &v, &doc, err_r) != 0)
		return NULL;
	subject = issue_proof_subject(e, &v, doc.subject);
	issue_doc_free(&doc);
	return subject;
}

/* The mail of an issue stored once, as data_dir/mailings/TOKEN.eml, the
 * one body every copy is sent from. */
struct issue_stored {
	char	 token[33];
	char	*rel;		/* relative to data_dir */
	char	*subject;
};

static void
issue_stored_free(struct engine *e, struct issue_stored *st, int remove)
{
	if (remove && st->rel) {
		char *path = xasprintf("%s/%s", e->cf->data_dir, st->rel);

		unlink(path);
		free(path);
	}
	free(st->rel);
	free(st->subject);
	memset(st, 0, sizeof *st);
}

/* Build the mail (within its budget) and write it: 0, -1 (too large), -2. */
static int
issue_store(struct engine *e, struct issue *is, const char *proof_to, const char *token,
    struct issue_stored *st, const char **err_r)
{
	char *msg, *path, *dir = xasprintf("%s/mailings", e->cf->data_dir);
	size_t len;
	int rc = 0;

	memset(st, 0, sizeof *st);
	if (token)
		snprintf(st->token, sizeof st->token, "%s", token);
	else
		engine_token(st->token, 16);
	if ((msg = issue_mail(e, is, st->token, proof_to, &len, err_r)) == NULL ||
	    (st->subject = issue_subject(e, is, proof_to, err_r)) == NULL) {
		free(msg);
		free(dir);
		return -1;
	}
	st->rel = xasprintf("mailings/%s.eml", st->token);
	path = xasprintf("%s/%s", e->cf->data_dir, st->rel);
	if (mkdir_p(dir, 0750) == -1 || file_write_durable(path, msg, len) == -1) {
		*err_r = issue_err("cannot write %s: %s", path, strerror(errno));
		issue_stored_free(e, st, 1);
		rc = -2;
	}
	free(path);
	free(dir);
	free(msg);
	return rc;
}

/* Queue the stored mail to rcpts and record it as a mailing of the issue
 * (inside the caller's transaction): the message id, or -1. */
static int64_t
issue_enqueue(struct engine *e, const struct issue *is, const char *kind,
    const struct issue_stored *st, const struct issue_rcpts *r)
{
	int64_t id = queue_message_file(e, kind, st->subject, st->token, st->rel, r->list, r->n);

	if (id == -1 || issue_mailing_record(e, is, kind, id) == -1)
		return -1;
	return id;
}

/* Earlier proofs of the issue whose copies are all out lose their body:
 * only the last proof is kept to be read again. */
static int
issue_drop_old_proofs(struct engine *e, const struct issue *is, int64_t keep)
{
	struct db_stmt *st = db_query(e->db, "UPDATE message SET body_file = NULL WHERE id IN"
	    " (SELECT message_id FROM bulletin_mailing WHERE issue_id = ? AND kind LIKE 'proof-%'"
	    " AND message_id <> ?) AND body_file IS NOT NULL AND NOT EXISTS (SELECT 1 FROM"
	    " delivery d WHERE d.message_id = message.id AND d.state IN ('queued', 'deferred'))"
	    " RETURNING body_file", "ii", is->id, keep);
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = db_step(st)) == 1) {
		char *path = xasprintf("%s/%s", e->cf->data_dir, db_col_text(st, 0));

		unlink(path);
		free(path);
	}
	db_finalize(&st);
	return rc == 0 ? 0 : -1;
}

/* The issue, refused (-1) when it has no accepted entry. */
static int
issue_load_nonempty(struct engine *e, int number, struct issue *is, const char **err_r)
{
	int rc = issue_load(e, number, is, err_r);

	if (rc == 0 && is->n == 0) {
		*err_r = issue_err("issue %d has no accepted entry", number);
		issue_clear(is);
		return -1;
	}
	return rc;
}

static int
issue_proof_queue(struct engine *e, struct issue *is, const struct issue_rcpts *r,
    const char **err_r)
{
	struct issue_stored st;
	struct buf to;
	int64_t id;
	int rc;

	buf_init(&to);
	for (size_t i = 0; i < r->n; i++)
		buf_printf(&to, "%s%s", i ? ", " : "", r->list[i].email);
	rc = issue_store(e, is, buf_cstr(&to), NULL, &st, err_r);
	buf_free(&to);
	if (rc != 0)
		return rc;
	if (db_begin(e->db) == -1 || (id = issue_enqueue(e, is, "proof", &st, r)) == -1 ||
	    issue_drop_old_proofs(e, is, id) == -1 || db_commit(e->db) == -1) {
		*err_r = issue_err("%s", db_errmsg(e->db));
		db_rollback(e->db);
		issue_stored_free(e, &st, 1);
		return -2;
	}
	log_info("bulletin=%d status=proof msgid=%s rcpts=%zu", is->number, st.token, r->n);
	issue_stored_free(e, &st, 0);
	/* The archive's and the PDF's photos made now, while the editors read
	 * the proof: the publication then only links them. */
	if (issue_renditions(e, is, (int)e->cf->bulletin_archive_photo_width, 0, err_r) != 0 ||
	    issue_renditions(e, is, ISSUE_PRINT_WIDTH, ISSUE_PRINT_HEIGHT, err_r) != 0)
		log_warnx("bulletin=%d status=no-renditions reason=\"%s\"", is->number, *err_r);
	return 0;
}

int
issue_proof(struct engine *e, int number, const char **err_r)
{
	struct roster_sender *eds = NULL;
	struct issue_rcpts r = { 0 };
	struct issue is;
	size_t neds = 0;
	int rc;

	if ((rc = issue_load_nonempty(e, number, &is, err_r)) != 0)
		return issue_result(rc);
	if (roster_senders(e->db, "editor", &eds, &neds) != ROSTER_OK) {
		*err_r = issue_err("%s", db_errmsg(e->db));
		rc = -2;
	} else if (neds == 0) {
		*err_r = issue_err("no editor");
		rc = -1;
	} else {
		for (size_t i = 0; i < neds; i++)
			issue_rcpt_add(&r, eds[i].email, 0, 0);
		rc = issue_proof_queue(e, &is, &r, err_r);
	}
	roster_senders_free(eds, neds);
	issue_rcpts_free(&r);
	issue_clear(&is);
	return issue_result(rc);
}

/* Every active contact, then every confirmed subscriber (queue_message
 * sends one copy per address). */
static int
issue_audience(struct engine *e, struct issue_rcpts *r)
{
	if (issue_rcpts_query(e, r, "SELECT email, id, committee_id FROM contact WHERE"
	    " active = 1 ORDER BY committee_id, id") == -1 ||
	    issue_rcpts_query(e, r, "SELECT email, 0, 0 FROM subscriber WHERE state = 'active'"
	    " ORDER BY id") == -1)
		return -1;
	return 0;
}

static int
issue_index(struct engine *e, const struct issue *is)
{
	for (size_t i = 0; i < is->n; i++) {
		const struct issue_entry *en = &is->entries[i];
		char ref[64];

		char *plain = issue_unmarked(en->body);
		int rc;

		snprintf(ref, sizeof ref, "%d/%lld", is->number, (long long)en->id);
		rc = search_index(e->db, "bulletin", ref, en->date, en->committee, en->title, plain);
		free(plain);
		if (rc == -1)
			return -1;
	}
	return 0;
}

/* Queue the stored mail, index and mark published, in one transaction. */
static int
issue_publish_db(struct engine *e, const struct issue *is, const struct issue_stored *st,
    const char **err_r)
{
	struct issue_rcpts r = { 0 };
	char *state;
	int64_t id = -1;

	if (db_begin(e->db) == -1) {
		*err_r = issue_err("%s", db_errmsg(e->db));
		return -2;
	}
	state = db_str(e->db, "SELECT state FROM bulletin_issue WHERE id = ?", "i", is->id);
	if (state && strcmp(state, "published") == 0) {
		free(state);
		db_rollback(e->db);
		*err_r = issue_err("issue %d is already published", is->number);
		return -1;
	}
	free(state);
	if (issue_audience(e, &r) == -1 || (id = issue_enqueue(e, is, "bulletin", st, &r)) == -1 ||
	    issue_index(e, is) == -1 ||
	    db_run(e->db, "UPDATE bulletin_issue SET state = 'published', published = ?,"
	    " message_id = ? WHERE id = ?", "iii", (int64_t)now(), id, is->id) == -1 ||
	    db_commit(e->db) == -1) {
		*err_r = issue_err("%s", db_errmsg(e->db));
		db_rollback(e->db);
		issue_rcpts_free(&r);
		return -2;
	}
	log_info("bulletin=%d status=published msgid=%s rcpts=%zu entries=%zu", is->number,
	    st->token, r.n, is->n);
	issue_rcpts_free(&r);
	return 0;
}

int
issue_hashes(struct engine *e, int number, char now_r[65], char proof_r[65],
    const char **err_r)
{
	struct issue is;
	char *h;
	int rc;

	if ((rc = issue_load_nonempty(e, number, &is, err_r)) != 0)
		return issue_result(rc);
	issue_hash(&is, now_r);
	h = db_str(e->db, "SELECT coalesce(content_hash, '') FROM bulletin_mailing WHERE"
	    " issue_id = ? AND kind LIKE 'proof-%' ORDER BY rowid DESC LIMIT 1", "i", is.id);
	snprintf(proof_r, 65, "%s", h ? h : "");
	free(h);
	issue_clear(&is);
	return 1;
}

int
issue_publish(struct engine *e, int number, const char **err_r)
{
	return issue_publish_proofed(e, number, NULL, err_r);
}

int
issue_publish_proofed(struct engine *e, int number, const char *hash, const char **err_r)
{
	struct issue_stored st;
	struct issue is;
	const char *pdf_err = NULL;
	char now_hash[65];
	int rc;

	if ((rc = issue_load_nonempty(e, number, &is, err_r)) != 0)
		return issue_result(rc);
	if (strcmp(is.state, "published") == 0) {
		*err_r = issue_err("issue %d is already published", number);
		issue_clear(&is);
		return 0;
	}
	if (hash && (issue_hash(&is, now_hash), strcmp(hash, now_hash) != 0)) {
		*err_r = issue_err("issue %d changed since its proof", number);
		issue_clear(&is);
		return 0;
	}
	rc = issue_archive_files(e, &is, err_r);
	if (rc == 0 && issue_archive_pdf(e, &is, &pdf_err) == -1)
		log_warnx("bulletin=%d status=no-pdf reason=\"%s\"", number, pdf_err);
	if (rc == 0)
		rc = issue_store(e, &is, NULL, NULL, &st, err_r);
	if (rc == 0) {
		rc = issue_publish_db(e, &is, &st, err_r);
		issue_stored_free(e, &st, rc != 0);
	}
	issue_clear(&is);
	return issue_result(rc);
}

/* ---- sending again ---- */

struct issue_sent {
	int64_t	 id;		/* the publication's message */
	char	*token;
	char	*body_file;	/* NULL: the body is a blob (before migration 6) */
	int64_t	 size;		/* of the stored body */
};

static int
issue_sent_load(struct engine *e, const struct issue *is, struct issue_sent *m)
{
	struct db_stmt *st = db_query(e->db, "SELECT m.id, m.token, m.body_file, length(m.body)"
	    " FROM bulletin_issue i JOIN message m ON m.id = i.message_id WHERE i.id = ?", "i",
	    is->id);
	int rc = st ? db_step(st) : -1;
	struct stat sb;

	memset(m, 0, sizeof *m);
	if (rc == 1) {
		m->id = db_col_int(st, 0);
		m->token = xstrdup(db_col_text(st, 1));
		m->body_file = db_col_null(st, 2) ? NULL : xstrdup(db_col_text(st, 2));
		m->size = db_col_int(st, 3);
	}
	db_finalize(&st);
	if (rc == 1 && m->body_file) {
		char *path = xasprintf("%s/%s", e->cf->data_dir, m->body_file);

		m->size = stat(path, &sb) == 0 ? (int64_t)sb.st_size : -1;
		free(path);
	}
	return rc == 1 ? 0 : rc == 0 ? 1 : -1;
}

static void
issue_sent_free(struct issue_sent *m)
{
	free(m->token);
	free(m->body_file);
	memset(m, 0, sizeof *m);
}

/* A stored body missing or over today's bulletin_mail_max (the relay
 * refused it as too large, the setting was lowered): built again, same
 * token, so replies and references still name the publication. */
static int
issue_restore(struct engine *e, struct issue *is, const struct issue_sent *m, const char **err_r)
{
	struct issue_stored st;
	int rc;

	if (m->size >= 0 && m->size <= e->cf->bulletin_mail_max)
		return 0;
	if ((rc = issue_store(e, is, NULL, m->token, &st, err_r)) != 0)
		return rc;
	if (db_run(e->db, "UPDATE message SET body = NULL, body_file = ? WHERE id = ?", "si", st.rel,
	    m->id) == -1) {
		*err_r = issue_err("%s", db_errmsg(e->db));
		issue_stored_free(e, &st, 0);
		return -2;
	}
	log_info("bulletin=%d msgid=%s status=rebuilt bytes_before=%lld", is->number, m->token,
	    (long long)m->size);
	issue_stored_free(e, &st, 0);
	return 0;
}

/* Queue again the failed copies (all: the sent ones too) of the
 * publication, and forget its refusal report so a new one can go. */
static int
issue_requeue(struct engine *e, const struct issue *is, const struct issue_sent *m,
    int failed_only, long *n_r, const char **err_r)
{
	char kind[40];

	snprintf(kind, sizeof kind, "refused-%lld", (long long)m->id);
	if (db_begin(e->db) == -1 || db_run(e->db, "UPDATE delivery SET state = 'queued',"
	    " attempts = 0, next_try = ?, last_code = NULL, last_reply = NULL WHERE message_id = ?"
	    " AND (state = 'failed' OR (? AND state = 'sent'))", "iid", (int64_t)now(), m->id,
	    !failed_only) == -1)
		goto fail;
	*n_r = db_changes(e->db);
	if (db_run(e->db, "UPDATE message SET state = 'sending', released = ? WHERE id = ?", "ii",
	    (int64_t)now(), m->id) == -1 || db_run(e->db, "DELETE FROM bulletin_mailing WHERE"
	    " issue_id = ? AND kind = ?", "is", is->id, kind) == -1 || db_commit(e->db) == -1)
		goto fail;
	return 0;
fail:
	*err_r = issue_err("%s", db_errmsg(e->db));
	db_rollback(e->db);
	return -2;
}

int
issue_resend(struct engine *e, int number, int failed_only, long *n_r, const char **err_r)
{
	struct issue_sent m;
	struct issue is;
	int rc;

	*n_r = 0;
	if ((rc = issue_load(e, number, &is, err_r)) != 0)
		return issue_result(rc);
	if ((rc = issue_sent_load(e, &is, &m)) != 0) {
		*err_r = rc == 1 ? issue_err("issue %d is not published", number) :
		    issue_err("%s", db_errmsg(e->db));
		rc = rc == 1 ? -1 : -2;
	} else if ((rc = issue_restore(e, &is, &m, err_r)) == 0 &&
	    (rc = issue_requeue(e, &is, &m, failed_only, n_r, err_r)) == 0)
		log_info("bulletin=%d msgid=%s status=resend copies=%ld only_failed=%s", number,
		    m.token, *n_r, failed_only ? "yes" : "no");
	issue_sent_free(&m);
	issue_clear(&is);
	return issue_result(rc);
}
