/*
 * spool.c — the on-disk message queue (see spool.h for the layout and the
 * file format).
 *
 * Crash-safety reasoning. A message is created in tmp/ under its final id
 * with O_EXCL, written through stdio, then fflush()ed, fsync()ed and closed
 * with the result of close() checked (NFS and some file systems report
 * write errors only there). Only then is it renamed into incoming/, and
 * incoming/ is fsync()ed so that the new directory entry itself is on disk.
 * rename() within one file system is atomic: after a crash the message is
 * either whole in incoming/ or still in tmp/, never half in incoming/.
 * Files left in tmp/ were never acknowledged (the LMTP 250 is sent only
 * after spool_writer_commit() returned 0), so spool_clean_tmp() may drop
 * them. Moves between queues are renames followed by fsync of both
 * directories. If the final fsync of incoming/ fails, the renamed file is
 * unlinked again and the commit reports failure: the sender retries, which
 * at worst duplicates a message but never loses an acknowledged one.
 *
 * Nothing here deletes a committed message: unparsable files are reported
 * to the caller, who moves them to corrupt/.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"
#include "util.h"

#define SPOOL_MAGIC	"MLISTD 1\n"
#define SPOOL_READ_MAX	((size_t)1 << 30)	/* refuse to load more than 1 GiB */

static const char *const spool_qnames[] = {
	[SPOOL_TMP] = "tmp",
	[SPOOL_INCOMING] = "incoming",
	[SPOOL_ACTIVE] = "active",
	[SPOOL_DEFERRED] = "deferred",
	[SPOOL_HOLD] = "hold",
	[SPOOL_CORRUPT] = "corrupt",
};

struct spool {
	char	*dirs[nitems(spool_qnames)];
	char	*notes;		/* ROOT/notes: spool_note files, named by message id */
};

struct spool_writer {
	struct spool	*sp;
	FILE		*fp;
	char		 id[SPOOL_ID_SIZE];
	char		*tmp_path;
	size_t		 size;
	int		 error;	/* sticky errno of a failed write, 0 if none */
};

static int
spool_queue_valid(enum spool_queue q)
{
	return (unsigned)q < nitems(spool_qnames);
}

int
spool_open(const char *root, struct spool **sp_r, const char **error_r)
{
	struct spool *sp;

	if (mkdir_p(root, 0750) == -1) {
		*error_r = "cannot create the spool directory";
		return -1;
	}
	sp = xcalloc(1, sizeof *sp);
	for (size_t i = 0; i < nitems(spool_qnames); i++) {
		sp->dirs[i] = xasprintf("%s/%s", root, spool_qnames[i]);
		if (mkdir(sp->dirs[i], 0750) == -1 && errno != EEXIST) {
			*error_r = "cannot create a queue directory";
			spool_close(&sp);
			return -1;
		}
	}
	sp->notes = xasprintf("%s/notes", root);
	if (mkdir(sp->notes, 0750) == -1 && errno != EEXIST) {
		*error_r = "cannot create the notes directory";
		spool_close(&sp);
		return -1;
	}
	*sp_r = sp;
	return 0;
}

void
spool_close(struct spool **spp)
{
	struct spool *sp = *spp;

	if (sp == NULL)
		return;
	for (size_t i = 0; i < nitems(spool_qnames); i++)
		free(sp->dirs[i]);
	free(sp->notes);
	free(sp);
	*spp = NULL;
}

int
spool_id_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= SPOOL_ID_SIZE || s[0] == '.')
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= 'A' && *s <= 'Z') || *s == '.' || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

char *
spool_path(struct spool *sp, enum spool_queue q, const char *id)
{
	if (!spool_queue_valid(q) || !spool_id_valid(id))
		return NULL;
	return xasprintf("%s/%s", sp->dirs[q], id);
}

/* A new id: UTC time to the microsecond (so ids sort in arrival order),
 * then random hex (so two processes never collide). */
static int
spool_make_id(char id[SPOOL_ID_SIZE])
{
	struct timespec ts;
	struct tm tm;
	char hex[11];

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1 || random_hex(hex, 5) == -1)
		return -1;
	gmtime_r(&ts.tv_sec, &tm);
	strftime(id, SPOOL_ID_SIZE, "%Y%m%dT%H%M%S", &tm);
	snprintf(id + strlen(id), SPOOL_ID_SIZE - strlen(id), ".%06ld-%s",
	    ts.tv_nsec / 1000, hex);
	return 0;
}

static int
spool_addr_valid(const char *a)
{
	return strpbrk(a, "\r\n") == NULL;
}

static int
spool_envelope_valid(const char *sender, const char *const *rcpts, size_t nrcpt)
{
	if (sender == NULL || !spool_addr_valid(sender) || nrcpt == 0)
		return 0;
	for (size_t i = 0; i < nrcpt; i++)
		if (rcpts[i] == NULL || rcpts[i][0] == '\0' || !spool_addr_valid(rcpts[i]))
			return 0;
	return 1;
}

/* Create tmp/ID exclusively; retries with a new id on the (unlikely) clash. */
static FILE *
spool_create_tmp(struct spool_writer *w)
{
	for (int tries = 0; tries < 5; tries++) {
		int fd;
		FILE *fp;

		if (spool_make_id(w->id) == -1)
			return NULL;
		free(w->tmp_path);
		w->tmp_path = spool_path(w->sp, SPOOL_TMP, w->id);
		fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
		if (fd == -1 && errno == EEXIST)
			continue;
		if (fd == -1)
			return NULL;
		if ((fp = fdopen(fd, "w")) == NULL) {
			int saved = errno;

			close(fd);
			unlink(w->tmp_path);
			errno = saved;
		}
		return fp;
	}
	errno = EEXIST;
	return NULL;
}

int
spool_writer_new(struct spool *sp, const char *sender, const char *const *rcpts,
    size_t nrcpt, struct spool_writer **w_r)
{
	struct spool_writer *w;

	if (!spool_envelope_valid(sender, rcpts, nrcpt)) {
		errno = EINVAL;
		return -1;
	}
	w = xcalloc(1, sizeof *w);
	w->sp = sp;
	if ((w->fp = spool_create_tmp(w)) == NULL) {
		int saved = errno;

		free(w->tmp_path);
		free(w);
		errno = saved;
		return -1;
	}
	fprintf(w->fp, SPOOL_MAGIC "sender <%s>\n", sender);
	for (size_t i = 0; i < nrcpt; i++)
		fprintf(w->fp, "rcpt <%s>\n", rcpts[i]);
	fputc('\n', w->fp);
	if (ferror(w->fp)) {
		int saved = errno;

		spool_writer_abort(&w);
		errno = saved;
		return -1;
	}
	*w_r = w;
	return 0;
}

int
spool_writer_write(struct spool_writer *w, const void *p, size_t n)
{
	if (w->error) {
		errno = w->error;
		return -1;
	}
	if (n > 0 && fwrite(p, 1, n, w->fp) != n) {
		w->error = errno ? errno : EIO;
		errno = w->error;
		return -1;
	}
	w->size += n;
	return 0;
}

size_t
spool_writer_size(const struct spool_writer *w)
{
	return w->size;
}

static void
spool_writer_free(struct spool_writer **wp)
{
	struct spool_writer *w = *wp;

	if (w->fp)
		fclose(w->fp);
	free(w->tmp_path);
	free(w);
	*wp = NULL;
}

void
spool_writer_abort(struct spool_writer **wp)
{
	int saved = errno;

	if (*wp == NULL)
		return;
	unlink((*wp)->tmp_path);
	spool_writer_free(wp);
	errno = saved;
}

/* fflush, fsync and a checked close: the data is on disk or we know it is not. */
static int
spool_writer_sync(struct spool_writer *w)
{
	FILE *fp = w->fp;
	int rc = 0;

	w->fp = NULL;
	if (w->error) {
		errno = w->error;
		rc = -1;
	} else if (fflush(fp) == EOF || fsync(fileno(fp)) == -1)
		rc = -1;
	if (rc == -1) {
		int saved = errno;

		fclose(fp);
		errno = saved;
		return -1;
	}
	return fclose(fp) == EOF ? -1 : 0;
}

int
spool_writer_commit(struct spool_writer **wp, char id_r[SPOOL_ID_SIZE])
{
	struct spool_writer *w = *wp;
	char *dst = spool_path(w->sp, SPOOL_INCOMING, w->id);
	int saved;

	if (spool_writer_sync(w) == -1 || rename(w->tmp_path, dst) == -1)
		goto fail;
	if (fsync_dir(w->sp->dirs[SPOOL_INCOMING]) == -1) {
		/* Not known to be durable: undo, so that the retry is the only copy. */
		saved = errno;
		unlink(dst);
		errno = saved;
		goto fail;
	}
	memcpy(id_r, w->id, SPOOL_ID_SIZE);
	free(dst);
	spool_writer_free(wp);
	return 0;
fail:
	saved = errno;
	unlink(w->tmp_path);
	free(dst);
	spool_writer_free(wp);
	errno = saved;
	return -1;
}

int
spool_move(struct spool *sp, const char *id, enum spool_queue from, enum spool_queue to)
{
	char *src = spool_path(sp, from, id), *dst = spool_path(sp, to, id);
	int rc = -1;

	if (src == NULL || dst == NULL)
		errno = EINVAL;
	else if (rename(src, dst) == 0 && fsync_dir(sp->dirs[to]) == 0 &&
	    fsync_dir(sp->dirs[from]) == 0)
		rc = 0;
	free(src);
	free(dst);
	return rc;
}

static int
spool_cmp_ids(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
spool_list(struct spool *sp, enum spool_queue q, char ***ids_r, size_t *n_r)
{
	DIR *d;
	struct dirent *de;
	char **ids = NULL;
	size_t n = 0, cap = 0;

	if (!spool_queue_valid(q) || (d = opendir(sp->dirs[q])) == NULL) {
		if (!spool_queue_valid(q))
			errno = EINVAL;
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!spool_id_valid(de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			ids = xrealloc(ids, cap * sizeof *ids);
		}
		ids[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(ids, n, sizeof *ids, spool_cmp_ids);
	*ids_r = ids;
	*n_r = n;
	return 0;
}

void
spool_list_free(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

/* Parse "<key> <addr>\n" at *p (end e); on success *addr_r is a new string
 * and *p moves past the line. Returns 0, or -1 if the line does not match. */
static int
spool_parse_addr_line(const char **p, const char *e, const char *key, char **addr_r)
{
	size_t klen = strlen(key);
	const char *nl = memchr(*p, '\n', (size_t)(e - *p));
	const char *a = *p + klen + 2;

	if (nl == NULL || (size_t)(nl - *p) < klen + 3 || memcmp(*p, key, klen) != 0 ||
	    (*p)[klen] != ' ' || (*p)[klen + 1] != '<' || nl[-1] != '>' ||
	    memchr(a, '\0', (size_t)(nl - 1 - a)) != NULL)
		return -1;
	*addr_r = xstrndup(a, (size_t)(nl - 1 - a));
	*p = nl + 1;
	return 0;
}

/* Parse the file's contents buf (NUL-terminated); on success m->data takes
 * buf over, the message moved to its start (no second copy of a large mail). */
static int
spool_parse(struct spool_msg *m, char *buf, size_t len, const char **error_r)
{
	const char *p = buf, *e = buf + len;
	char *rcpt;
	size_t cap = 0;

	if (len < strlen(SPOOL_MAGIC) || memcmp(p, SPOOL_MAGIC, strlen(SPOOL_MAGIC)) != 0) {
		*error_r = "not a spool file (bad magic line)";
		return -1;
	}
	p += strlen(SPOOL_MAGIC);
	if (spool_parse_addr_line(&p, e, "sender", &m->sender) == -1) {
		*error_r = "bad or missing sender line";
		return -1;
	}
	while (spool_parse_addr_line(&p, e, "rcpt", &rcpt) == 0) {
		if (m->nrcpt == cap) {
			cap = cap ? cap * 2 : 8;
			m->rcpts = xrealloc(m->rcpts, cap * sizeof *m->rcpts);
		}
		m->rcpts[m->nrcpt++] = rcpt;
	}
	if (m->nrcpt == 0 || p == e || *p != '\n') {
		*error_r = m->nrcpt == 0 ? "no recipient" : "bad envelope line";
		return -1;
	}
	p++;
	m->len = (size_t)(e - p);
	memmove(buf, p, m->len);
	buf[m->len] = '\0';
	m->data = buf;
	return 0;
}

int
spool_read(struct spool *sp, enum spool_queue q, const char *id,
    struct spool_msg **m_r, const char **error_r)
{
	char *path = spool_path(sp, q, id), *buf;
	struct spool_msg *m;
	size_t len;

	if (path == NULL) {
		errno = EINVAL;
		*error_r = "invalid message id or queue";
		return -1;
	}
	if (file_read(path, SPOOL_READ_MAX, &buf, &len) == -1) {
		free(path);
		*error_r = "cannot read the message file";
		return -1;
	}
	free(path);
	m = xcalloc(1, sizeof *m);
	m->id = xstrdup(id);
	if (spool_parse(m, buf, len, error_r) == -1) {
		free(buf);
		spool_msg_free(&m);
		errno = EINVAL;
		return -1;
	}
	*m_r = m;
	return 0;
}

void
spool_msg_free(struct spool_msg **mp)
{
	struct spool_msg *m = *mp;

	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nrcpt; i++)
		free(m->rcpts[i]);
	free(m->rcpts);
	free(m->sender);
	free(m->data);
	free(m->id);
	free(m);
	*mp = NULL;
}

int
spool_clean_tmp(struct spool *sp, time_t older_than)
{
	DIR *d = opendir(sp->dirs[SPOOL_TMP]);
	struct dirent *de;
	struct stat st;
	int removed = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode) || st.st_mtime >= older_than)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}

int
spool_find(struct spool *sp, const char *id, enum spool_queue *q_r)
{
	struct stat st;

	if (!spool_id_valid(id)) {
		errno = EINVAL;
		return -1;
	}
	for (enum spool_queue q = SPOOL_INCOMING; q < nitems(spool_qnames); q++) {
		char *path = spool_path(sp, q, id);
		int rc = stat(path, &st);

		free(path);
		if (rc == 0) {
			*q_r = q;
			return 1;
		}
		if (errno != ENOENT)
			return -1;
	}
	return 0;
}

const char *
spool_queue_name(enum spool_queue q)
{
	return spool_queue_valid(q) ? spool_qnames[q] : "?";
}

static char *
spool_note_path(struct spool *sp, const char *id)
{
	return spool_id_valid(id) ? xasprintf("%s/%s", sp->notes, id) : NULL;
}

int
spool_note_read(struct spool *sp, const char *id, struct spool_note *n)
{
	char *path = spool_note_path(sp, id), *data = NULL, *line, *save = NULL;
	size_t len;
	int rc;

	memset(n, 0, sizeof *n);
	if (path == NULL) {
		errno = EINVAL;
		return -1;
	}
	rc = file_read(path, 4096, &data, &len);
	free(path);
	if (rc == -1)
		return errno == ENOENT ? 0 : -1;
	for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "attempts ", 9) == 0)
			n->attempts = atoi(line + 9);
		else if (strncmp(line, "first ", 6) == 0)
			n->first_failure = (time_t)strtoll(line + 6, NULL, 10);
		else if (strncmp(line, "next ", 5) == 0)
			n->next_try = (time_t)strtoll(line + 5, NULL, 10);
		else if (strncmp(line, "reason ", 7) == 0)
			snprintf(n->reason, sizeof n->reason, "%s", line + 7);
	}
	free(data);
	return 1;
}

int
spool_note_write(struct spool *sp, const char *id, const struct spool_note *n)
{
	char *path = spool_note_path(sp, id), *text, *p;
	int rc;

	if (path == NULL) {
		errno = EINVAL;
		return -1;
	}
	text = xasprintf("attempts %d\nfirst %lld\nnext %lld\nreason %s\n", n->attempts,
	    (long long)n->first_failure, (long long)n->next_try, n->reason);
	for (p = strstr(text, "reason ") + 7; *p && p[1]; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';	/* one line, whatever the reason says */
	rc = file_write_durable(path, text, strlen(text));
	free(text);
	free(path);
	return rc;
}

void
spool_note_remove(struct spool *sp, const char *id)
{
	char *path = spool_note_path(sp, id);

	if (path)
		unlink(path);
	free(path);
}

int
spool_remove(struct spool *sp, enum spool_queue q, const char *id)
{
	char *path = spool_path(sp, q, id);
	int rc;

	if (path == NULL) {
		errno = EINVAL;
		return -1;
	}
	rc = unlink(path);
	free(path);
	if (rc == 0)
		spool_note_remove(sp, id);
	return rc;
}

void
spool_id_date(const char *id, char out[SPOOL_DATE_SIZE])
{
	if (strlen(id) < 15 || id[8] != 'T') {
		snprintf(out, SPOOL_DATE_SIZE, "?");
		return;
	}
	snprintf(out, SPOOL_DATE_SIZE, "%.4s-%.2s-%.2s %.2s:%.2s UTC", id, id + 4, id + 6, id + 9,
	    id + 11);
}
