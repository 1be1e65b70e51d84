/*
 * content.c — a report's text and attachments (see content.h).
 *
 * Photos are normalised here, before the caller opens its transaction:
 * decoding is the slow part of an intake and must not hold the database's
 * write lock. They are decoded on two threads, as soon as the MIME walk
 * has decoded each one's bytes: the walk hands a photo to a helper thread
 * when the helper is idle, and otherwise makes the master itself before
 * reading on. A photo's job owns its original bytes (the attachment list
 * moves while the walk grows it) and frees them once the master is made;
 * so at most two originals and two decodes are held at once, whatever the
 * number of photos. Ordinals and the files' fates are set after the walk,
 * in order, from the finished jobs.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "content.h"
#include "html2text.h"
#include "image.h"
#include "log.h"
#include "mime.h"
#include "trim.h"
#include "util.h"

#define CONTENT_SMALL_INLINE	(8 * 1024)	/* inline logos, tracking pixels */

int
content_marker(const char *line, size_t len)
{
	int n = 0, used = 0;

	if (len < 11 || len > 20 || strncmp(line, "[[photo:", 8) != 0)
		return 0;
	if (sscanf(line, "[[photo:%d]]%n", &n, &used) != 1 || (size_t)used != len)
		return 0;
	return n > 0 ? n : 0;
}

/* ---- attachments ---- */

static int
content_is_pdf(const struct mime_attachment *a)
{
	/* by its bytes, never by its declared type: a document is published
	 * as .pdf beside the archive page (readers may find junk before the
	 * header, so it is looked for in the first 1 KB, as they do) */
	return a->data != NULL && memmem(a->data, a->len < 1024 ? a->len : 1024, "%PDF-", 5) != NULL;
}

/* A photo being made a master, by the walk's thread or the helper. */
struct content_job {
	size_t			 i;		/* its file */
	char			*data;		/* the original, owned; freed once done */
	size_t			 len;
	char			*master;	/* the result, or NULL and why */
	size_t			 mlen;
	struct image_size	 sz;
	char			*why;
};

/* mime_content's callback argument: the content and the photo jobs. */
struct content_walk {
	struct content		 *c;
	struct content_job	**jobs;		/* every photo's, in order */
	size_t			  njobs;
	pthread_t		  tid;
	int			  started;	/* the helper runs */
	pthread_mutex_t		  lock;
	pthread_cond_t		  cond;
	struct content_job	 *job;		/* the helper's, NULL when idle */
	int			  quit;
};

static void
content_job_run(struct content_job *j)
{
	const char *why = NULL;

	if (image_master(j->data, j->len, 0, 0, &j->master, &j->mlen, &j->sz, &why) == -1) {
		j->why = xstrdup(why);	/* thread-local buffer: keep a copy */
		return;
	}
	free(j->data);			/* the original is no longer needed */
	j->data = NULL;
}

static void *
content_helper(void *arg)
{
	struct content_walk *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (w->job == NULL && !w->quit)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->job == NULL)
			break;
		pthread_mutex_unlock(&w->lock);
		content_job_run(w->job);
		pthread_mutex_lock(&w->lock);
		w->job = NULL;
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* The photo of file i: to the helper when it is idle, else made here. */
static void
content_photo(struct content_walk *w, struct mime_attachment *a, size_t i)
{
	struct content_job *j = xcalloc(1, sizeof *j);
	int handed = 0;

	j->i = i;
	j->data = a->data;
	j->len = a->len;
	a->data = NULL;
	w->c->files[i].data = NULL;	/* set when the job is finished */
	w->jobs = xrealloc(w->jobs, (w->njobs + 1) * sizeof *w->jobs);
	w->jobs[w->njobs++] = j;
	if (!w->started && sysconf(_SC_NPROCESSORS_ONLN) > 1)
		w->started = pthread_create(&w->tid, NULL, content_helper, w) == 0;
	if (w->started) {
		pthread_mutex_lock(&w->lock);
		if ((handed = w->job == NULL))
			w->job = j;
		pthread_cond_signal(&w->cond);
		pthread_mutex_unlock(&w->lock);
	}
	if (!handed)
		content_job_run(j);
}

/* Wait for the helper, then give each photo its fate, in order. With
 * apply 0 (the attachments were dropped), only free the jobs. */
static void
content_photos_finish(struct content_walk *w, int apply)
{
	if (w->started) {
		pthread_mutex_lock(&w->lock);
		w->quit = 1;
		pthread_cond_signal(&w->cond);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->tid, NULL);
		w->started = 0;
	}
	for (size_t k = 0; k < w->njobs; k++) {
		struct content_job *j = w->jobs[k];
		struct content_file *f = &w->c->files[j->i];

		if (apply && j->why) {
			w->c->att[j->i].data = j->data;	/* kept for the editors */
			f->data = j->data;
			f->unreadable = 1;
			f->why = j->why;
		} else if (apply) {
			f->kind = CONTENT_PHOTO;
			f->kind_name = "photo";
			f->data = f->master = j->master;
			f->len = j->mlen;
			f->content_type = "image/jpeg";
			f->width = j->sz.width;
			f->height = j->sz.height;
		} else {
			free(j->data);
			free(j->master);
			free(j->why);
		}
		free(j);
	}
	free(w->jobs);
	w->jobs = NULL;
	w->njobs = 0;
}

static void
content_classify(struct content_walk *w, struct mime_attachment *a, size_t i)
{
	struct content_file *f = &w->c->files[i];
	int image_type = strncmp(a->content_type, "image/", 6) == 0;

	f->kind = CONTENT_FILE;
	f->kind_name = "file";
	f->data = a->data;
	f->len = a->len;
	f->content_type = a->content_type;
	if (a->inline_image && image_type && a->len < CONTENT_SMALL_INLINE) {
		f->kind = CONTENT_SKIP;	/* a signature logo, not the committee's photo */
		return;
	}
	if (image_is_picture(a->data, a->len))
		content_photo(w, a, i);
	else if (image_type) {
		f->unreadable = 1;
		f->why = xstrdup("not a JPEG, PNG, WebP, HEIF or GIF picture");
	} else if (content_is_pdf(a)) {
		f->kind = CONTENT_DOCUMENT;
		f->kind_name = "document";
		f->content_type = "application/pdf";
	}
}

/* ---- text ---- */

/* An "[image: NAME]" (Gmail) or "[image-cid: ID]" line: the ordinal of
 * the photo it names, -1 when it names nothing we show, 0 when the line is
 * no placeholder. */
static int
content_named(const struct content *c, const char *line, size_t len)
{
	static const char *const tags[] = { "[image: ", "[image-cid: " };

	for (size_t t = 0; t < nitems(tags); t++) {
		size_t n = strlen(tags[t]), vlen = len - n - 1;

		if (len <= n + 1 || strncmp(line, tags[t], n) != 0 || line[len - 1] != ']')
			continue;
		for (size_t i = 0; i < c->nfiles; i++) {
			const struct content_file *f = &c->files[i];
			const char *v = t == 0 ? f->att->filename : f->att->content_id;

			if (f->kind == CONTENT_PHOTO && v && strlen(v) == vlen &&
			    strncmp(v, line + n, vlen) == 0 && !c->placed[f->ordinal])
				return f->ordinal;
		}
		return -1;
	}
	return 0;
}

/* One line of a text part: kept, replaced by a marker, or dropped. */
static void
content_line(struct content *c, struct buf *out, const char *line, size_t len)
{
	const char *s = line;
	size_t n = len;
	int k;

	while (n > 0 && isspace((unsigned char)*s))
		s++, n--;
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (content_marker(s, n))
		return;			/* typed by the sender: only ours count */
	if ((k = content_named(c, s, n)) != 0) {
		if (k > 0) {
			c->placed[k] = 1;
			buf_printf(out, "\n" CONTENT_MARK_FMT "\n\n", k);
		}
		return;
	}
	buf_add(out, line, len);
	buf_addc(out, '\n');
}

/* <img ... src="cid:ID" ...> becomes a paragraph "[image-cid: ID]". */
static char *
content_html_cids(const char *html)
{
	struct buf b;
	const char *p = html, *img;

	buf_init(&b);
	buf_add(&b, "", 0);
	while ((img = strcasestr(p, "<img")) != NULL) {
		const char *end = strchr(img, '>'), *cid = NULL;

		if (end == NULL)
			break;
		for (const char *q = img + 4; cid == NULL && q + 4 < end; q++)
			if (strchr("\"'=", q[-1]) && strncasecmp(q, "cid:", 4) == 0)
				cid = q;	/* within the tag only: linear */
		buf_add(&b, p, (size_t)(img - p));
		if (cid) {
			size_t n = strcspn(cid + 4, "\"' >");

			buf_printf(&b, "<p>[image-cid: %.*s]</p>", (int)n, cid + 4);
		}
		p = end + 1;
	}
	buf_adds(&b, p);
	return buf_steal(&b);
}

/* At most one blank line in a row (a marker brings its own). */
static void
content_squeeze(char *s)
{
	char *w = s;

	for (const char *r = s; *r; r++)
		if (!(*r == '\n' && w - s >= 2 && w[-1] == '\n' && w[-2] == '\n'))
			*w++ = *r;
	*w = '\0';
}

/* A text part as published: markers in, quotes and footers out. */
static char *
content_text(struct content *c, const struct mime_piece *pc)
{
	char *text = pc->text, *t = NULL, *trimmed;
	struct buf b;

	if (pc->is_html) {
		char *h = content_html_cids(pc->text);

		text = t = html_to_text(h);
		free(h);
	}
	buf_init(&b);
	buf_add(&b, "", 0);
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");

		content_line(c, &b, p, n);
		p += n + (p[n] == '\n');
	}
	free(t);
	trimmed = trim_reply(buf_cstr(&b));
	buf_free(&b);
	content_squeeze(trimmed);
	return trimmed;
}

/*
 * A greeting alone on the first line, addressed to the editors and not to
 * the readers ("Bonjour,", "Bonjour à toutes et à tous !", "Chers amis,"),
 * is no part of the report: an editor would cut it in every text. Only a
 * greeting (trim_is_greeting) that ends with "," or "!" (or is one bare
 * word), followed by a blank line and more text, is removed; the
 * acknowledgement shows the text as it will be published.
 */
static void
content_drop_greeting(char *body)
{
	size_t len = strcspn(body, "\n"), skip;
	const char *rest = body + len;

	if (len == 0 || strncmp(rest, "\n\n", 2) != 0 || rest[strspn(rest, "\n \t")] == '\0' ||
	    !trim_is_greeting(body, len))
		return;
	if (body[len - 1] == ',' || body[len - 1] == '!' || memchr(body, ' ', len) == NULL) {
		skip = len + strspn(rest, "\n");
		memmove(body, body + skip, strlen(body + skip) + 1);
	}
}

static void
content_body(struct content *c, const struct mime_piece *pcs, size_t n)
{
	struct buf b;

	buf_init(&b);
	buf_add(&b, "", 0);
	for (size_t i = 0; i < n; i++) {
		const struct content_file *f = pcs[i].text || pcs[i].att >= c->nfiles ? NULL :
		    &c->files[pcs[i].att];
		char *t = pcs[i].text ? content_text(c, &pcs[i]) : NULL;

		if (t && *t)
			buf_printf(&b, "%s%s\n", b.len ? "\n" : "", t);
		else if (f && f->kind == CONTENT_PHOTO && !c->placed[f->ordinal]) {
			c->placed[f->ordinal] = 1;
			buf_printf(&b, "%s" CONTENT_MARK_FMT "\n", b.len ? "\n" : "", f->ordinal);
		}
		free(t);
	}
	c->body = trim_reply(buf_cstr(&b));	/* blank lines at both ends */
	buf_free(&b);
	content_drop_greeting(c->body);
}

/* mime_content's callback: each attachment's fate as soon as it is
 * decoded (a photo handed to its job). */
static void
content_each(struct mime_attachment *a, size_t i, void *arg)
{
	struct content_walk *w = arg;
	struct content *c = w->c;

	if (i >= c->nfiles) {
		c->files = xrealloc(c->files, (i + 1) * sizeof *c->files);
		memset(&c->files[c->nfiles], 0, (i + 1 - c->nfiles) * sizeof *c->files);
		c->nfiles = i + 1;
	}
	c->files[i].att = a;	/* set again after the walk: the list moves */
	content_classify(w, a, i);
}

static void
content_files_free(struct content *c)
{
	for (size_t i = 0; i < c->nfiles; i++) {
		free(c->files[i].master);
		if (c->files[i].unreadable)
			free((char *)c->files[i].why);
	}
	free(c->files);
	c->files = NULL;
	c->nfiles = 0;
	c->nphotos = 0;
}

void
content_read(const struct mime_msg *m, size_t max_total, struct content *c)
{
	struct content_walk w = { .c = c };
	struct mime_piece *pcs = NULL;
	size_t npcs = 0;

	memset(c, 0, sizeof *c);
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	if (mime_content(m, max_total, content_each, &w, &pcs, &npcs, &c->att, &c->natt) == -1) {
		c->overflow = 1;	/* keep the text: read it without attachments */
		content_photos_finish(&w, 0);
		content_files_free(c);
		mime_content(m, (size_t)-1, NULL, NULL, &pcs, &npcs, &c->att, &c->natt);
		mime_attachments_free(c->att, c->natt);
		c->att = NULL;
		c->natt = 0;
		for (size_t i = 0; i < npcs; i++)
			if (pcs[i].text == NULL)
				pcs[i].att = (size_t)-1;
	}
	content_photos_finish(&w, 1);
	pthread_cond_destroy(&w.cond);
	pthread_mutex_destroy(&w.lock);
	for (size_t i = 0; i < c->nfiles; i++) {
		c->files[i].att = &c->att[i];
		if (c->files[i].kind == CONTENT_PHOTO)
			c->files[i].ordinal = ++c->nphotos;
	}
	c->placed = xcalloc((size_t)c->nphotos + 1, 1);
	content_body(c, pcs, npcs);
	mime_pieces_free(pcs, npcs);
}

void
content_free(struct content *c)
{
	content_files_free(c);
	free(c->placed);
	mime_attachments_free(c->att, c->natt);
	free(c->body);
	memset(c, 0, sizeof *c);
}
