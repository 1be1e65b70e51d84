/*
 * maildir.c — local delivery into a Maildir (see maildir.h).
 *
 * Crash safety: the message is written under tmp/ with O_EXCL, fsync'ed and
 * closed with its result checked, then renamed into new/ and new/ is
 * fsync'ed: after a 0 return the message survives a crash; before it, at
 * worst a stray file is left in tmp/ (which Maildir readers ignore). A failed
 * delivery removes its tmp/ file.
 *
 * Unique names follow the Maildir convention "time.pid_random.hostname" with
 * 64 random bits, '/' and ':' in the host name written as \057 and \072.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "maildir.h"
#include "util.h"

static _Thread_local char maildir_errbuf[512];

static int
maildir_fail(const char **error_r, const char *what, const char *path)
{
	snprintf(maildir_errbuf, sizeof maildir_errbuf, "%s %s: %s", what, path,
	    strerror(errno));
	*error_r = maildir_errbuf;
	return -1;
}

static int
maildir_create(const char *maildir, const char **error_r)
{
	static const char *subdirs[] = { "tmp", "new", "cur" };

	for (size_t i = 0; i < nitems(subdirs); i++) {
		char *p = xasprintf("%s/%s", maildir, subdirs[i]);
		int rc = mkdir_p(p, 0700);

		if (rc == -1) {
			maildir_fail(error_r, "cannot create", p);
			free(p);
			return -1;
		}
		free(p);
	}
	return 0;
}

/* "time.pid_random.hostname" */
static char *
maildir_unique(void)
{
	char host[256], hex[17];
	struct buf b;

	if (gethostname(host, sizeof host) == -1)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	if (random_hex(hex, 8) == -1)
		snprintf(hex, sizeof hex, "%08lx", (unsigned long)clock());
	buf_init(&b);
	buf_printf(&b, "%lld.%ld_%s.", (long long)time(NULL), (long)getpid(), hex);
	for (const char *h = host; *h; h++) {
		if (*h == '/')
			buf_adds(&b, "\\057");
		else if (*h == ':')
			buf_adds(&b, "\\072");
		else
			buf_addc(&b, *h);
	}
	return buf_steal(&b);
}

/* The file's content: the two trace lines, then the message with LF endings. */
static void
maildir_content(struct buf *b, const char *data, size_t len, const char *rcpt,
    const char *reverse_path)
{
	buf_printf(b, "Return-Path: <%s>\n", reverse_path ? reverse_path : "");
	buf_printf(b, "Delivered-To: %s\n", rcpt ? rcpt : "");
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n')
			continue;
		buf_addc(b, data[i]);
	}
	if (len > 0 && data[len - 1] != '\n')
		buf_addc(b, '\n');
}

static int
maildir_write(const char *path, const struct buf *b, const char **error_r)
{
	const char *p = b->data;
	size_t left = b->len;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd == -1)
		return maildir_fail(error_r, "cannot create", path);
	while (left > 0) {
		ssize_t n = write(fd, p, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			maildir_fail(error_r, "cannot write", path);
			close(fd);
			return -1;
		}
		p += n;
		left -= (size_t)n;
	}
	if (fsync(fd) == -1) {
		maildir_fail(error_r, "cannot fsync", path);
		close(fd);
		return -1;
	}
	if (close(fd) == -1)
		return maildir_fail(error_r, "cannot close", path);
	return 0;
}

int
maildir_deliver(const char *maildir, const char *data, size_t len,
    const char *rcpt, const char *reverse_path, char **name_r,
    const char **error_r)
{
	char *unique, *tmp, *dst, *newdir;
	struct buf b;
	int rc = -1;

	if (maildir_create(maildir, error_r) == -1)
		return -1;
	unique = maildir_unique();
	tmp = xasprintf("%s/tmp/%s", maildir, unique);
	dst = xasprintf("%s/new/%s", maildir, unique);
	newdir = xasprintf("%s/new", maildir);
	buf_init(&b);
	maildir_content(&b, data, len, rcpt, reverse_path);
	if (maildir_write(tmp, &b, error_r) == -1)
		unlink(tmp);
	else if (rename(tmp, dst) == -1) {
		maildir_fail(error_r, "cannot rename into", dst);
		unlink(tmp);
	} else if (fsync_dir(newdir) == -1)
		maildir_fail(error_r, "cannot fsync", newdir);
	else
		rc = 0;
	if (rc == 0 && name_r != NULL) {
		*name_r = dst;
		dst = NULL;
	}
	buf_free(&b);
	free(unique);
	free(tmp);
	free(dst);
	free(newdir);
	return rc;
}
