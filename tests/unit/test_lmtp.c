/*
 * test_lmtp.c — the LMTP listener against a real spool in a temporary
 * directory. Sessions run in a thread on one end of a socketpair (or behind
 * a loopback/unix listener); the test is the client. Covers: two recipients
 * -> two 250 and one file; 550/451 recipients; pipelining; dot-stuffing round
 * trip; SMTP smuggling strings kept inside one message; max_size -> 552 per
 * recipient and nothing left on disk; the same input fed in 1..7 byte writes
 * gives the same replies and files; missing spool directories -> 451;
 * write or commit failure -> 451 per recipient; syntax and sequence errors; timeout;
 * the threaded server (max_clients, stop).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "lmtp.h"
#include "log.h"
#include "spool.h"
#include "util.h"

struct fx {
	char			 base[256];
	char			 root[300];
	struct spool		*sp;
	struct lmtp_config	 cfg;
	struct lmtp_handler	 h;
	pthread_mutex_t		 lock;
	char			 spooled[64][SPOOL_ID_SIZE];
	int			 nspooled;
};

struct client {
	struct fx	*f;
	int		 fd;
	int		 srv_fd;
	pthread_t	 th;
	int		 threaded;
	char		 buf[8192];
	size_t		 pos, len;
};

/* ---- fixture ---- */

static int
rcpt_check(void *arg, const char *rcpt)
{
	if (strncmp(rcpt, "unknown@", 8) == 0)
		return 1;
	if (strncmp(rcpt, "tempfail@", 9) == 0)
		return -1;
	return 0;
}

static void
spooled(void *arg, const char *id)
{
	struct fx *f = arg;

	pthread_mutex_lock(&f->lock);
	if (f->nspooled < 64)
		snprintf(f->spooled[f->nspooled++], SPOOL_ID_SIZE, "%s", id);
	pthread_mutex_unlock(&f->lock);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);
	const char *err, *tmp = getenv("TMPDIR");

	snprintf(f->base, sizeof f->base, "%s/mlistd-lmtp-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(f->base) == NULL)
		return -1;
	snprintf(f->root, sizeof f->root, "%s/spool", f->base);
	if (spool_open(f->root, &f->sp, &err) == -1)
		return -1;
	f->cfg = (struct lmtp_config){ .hostname = "lists.example.org", .max_size = 10 * 1024 * 1024,
	    .timeout_s = 10, .max_clients = 4 };
	f->h = (struct lmtp_handler){ .rcpt_check = rcpt_check, .spooled = spooled, .arg = f };
	pthread_mutex_init(&f->lock, NULL);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	spool_close(&f->sp);
	chmod(f->root, 0750);
	nftw(f->base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	pthread_mutex_destroy(&f->lock);
	free(f);
	return 0;
}

static size_t
queue_count(struct fx *f, enum spool_queue q)
{
	char **ids;
	size_t n;

	if (spool_list(f->sp, q, &ids, &n) == -1)
		return 0;
	spool_list_free(ids, n);
	return n;
}

/* The one message in incoming/, moved to active/ so the next run starts empty. */
static struct spool_msg *
take_only_message(struct fx *f)
{
	struct spool_msg *m;
	const char *err;
	char **ids;
	size_t n;

	assert_int_equal(spool_list(f->sp, SPOOL_INCOMING, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(spool_read(f->sp, SPOOL_INCOMING, ids[0], &m, &err), 0);
	assert_int_equal(spool_move(f->sp, ids[0], SPOOL_INCOMING, SPOOL_ACTIVE), 0);
	spool_list_free(ids, n);
	return m;
}

/* ---- client side ---- */

static void *
session_main(void *arg)
{
	struct client *c = arg;

	lmtp_session(c->srv_fd, &c->f->cfg, c->f->sp, &c->f->h);
	return NULL;
}

static void
client_start(struct fx *f, struct client *c)
{
	int sv[2];

	memset(c, 0, sizeof *c);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	c->f = f;
	c->fd = sv[0];
	c->srv_fd = sv[1];
	c->threaded = 1;
	assert_int_equal(pthread_create(&c->th, NULL, session_main, c), 0);
}

static void
client_end(struct client *c)
{
	close(c->fd);
	if (c->threaded)
		pthread_join(c->th, NULL);
}

static void
client_send_n(struct client *c, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t r = send(c->fd, p, n, MSG_NOSIGNAL);

		assert_true(r > 0);
		p += r;
		n -= (size_t)r;
	}
}

static void
client_send(struct client *c, const char *s)
{
	client_send_n(c, s, strlen(s));
}

/* One line without its CR LF (new string), or NULL at EOF. */
static char *
client_line(struct client *c)
{
	struct buf b;

	buf_init(&b);
	for (;;) {
		if (c->pos == c->len) {
			ssize_t r = read(c->fd, c->buf, sizeof c->buf);

			if (r <= 0) {
				buf_free(&b);
				return NULL;
			}
			c->pos = 0;
			c->len = (size_t)r;
		}
		char ch = c->buf[c->pos++];

		if (ch == '\n')
			break;
		if (ch != '\r')
			buf_addc(&b, ch);
	}
	return buf_steal(&b);
}

/* One whole (possibly multi-line) reply, lines joined by '\n', or NULL. */
static char *
client_reply(struct client *c)
{
	struct buf b;
	char *line;

	buf_init(&b);
	while ((line = client_line(c)) != NULL) {
		int last = strlen(line) < 4 || line[3] != '-';

		if (b.len)
			buf_addc(&b, '\n');
		buf_adds(&b, line);
		free(line);
		if (last)
			return buf_steal(&b);
	}
	buf_free(&b);
	return NULL;
}

static void
expect_reply(struct client *c, const char *prefix)
{
	char *r = client_reply(c);

	assert_non_null(r);
	if (strncmp(r, prefix, strlen(prefix)) != 0)
		fail_msg("expected \"%s...\", got \"%s\"", prefix, r);
	free(r);
}

/* Feed a whole session input (whole, or in 1..7 byte writes) and return
 * everything the server said until it closed. */
static char *
run_session(struct fx *f, const char *in, size_t len, int chunked)
{
	struct client c;
	struct buf out;
	char tmp[4096];
	ssize_t r;

	client_start(f, &c);
	if (!chunked)
		client_send_n(&c, in, len);
	for (size_t off = 0, i = 0; chunked && off < len; i++) {
		size_t n = (i * 5 + 3) % 7 + 1;

		n = n > len - off ? len - off : n;
		client_send_n(&c, in + off, n);
		off += n;
		usleep(200);	/* let the server see the pieces separately */
	}
	buf_init(&out);
	while ((r = read(c.fd, tmp, sizeof tmp)) > 0)
		buf_add(&out, tmp, (size_t)r);
	client_end(&c);
	return buf_steal(&out);
}

static size_t
count_lines(const char *out, const char *prefix)
{
	size_t n = 0;

	for (const char *p = out; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			n++;
	return n;
}

/* Replace the ids in "250 2.0.0 ID queued" so two runs can be compared. */
static char *
normalize(const char *out)
{
	struct buf b;
	const char *p = out;

	buf_init(&b);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);

		if (strncmp(p, "250 2.0.0 ", 10) == 0)
			buf_adds(&b, "250 2.0.0 ID queued\r\n");
		else
			buf_add(&b, p, n);
		p += n;
	}
	return buf_steal(&b);
}

/* LHLO, MAIL, the RCPTs, DATA, data (CR LF lines, dot-stuffed by the
 * caller), the final dot, QUIT. */
static char *
transaction(const char *const *rcpts, size_t n, const char *data)
{
	struct buf b;

	buf_init(&b);
	buf_adds(&b, "LHLO client.example.org\r\nMAIL FROM:<author@example.org>\r\n");
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "RCPT TO:<%s>\r\n", rcpts[i]);
	buf_printf(&b, "DATA\r\n%s.\r\nQUIT\r\n", data);
	return buf_steal(&b);
}

/* ---- tests ---- */

static const char *const two_rcpts[] = { "national@example.org", "office@example.org" };

static void
test_two_recipients(void **state)
{
	struct fx *f = *state;
	char *in = transaction(two_rcpts, 2, "Subject: hello\r\n\r\nBody line\r\n");
	char *out = run_session(f, in, strlen(in), 0);
	struct spool_msg *m;

	assert_int_equal(count_lines(out, "220 lists.example.org"), 1);
	assert_int_equal(count_lines(out, "250 2.0.0 "), 2);
	assert_int_equal(count_lines(out, "221 "), 1);
	assert_int_equal(queue_count(f, SPOOL_TMP), 0);
	m = take_only_message(f);
	assert_string_equal(m->sender, "author@example.org");
	assert_int_equal(m->nrcpt, 2);
	assert_string_equal(m->rcpts[1], "office@example.org");
	assert_string_equal(m->data, "Subject: hello\n\nBody line\n");
	assert_int_equal(f->nspooled, 1);
	assert_string_equal(f->spooled[0], m->id);
	assert_non_null(strstr(out, m->id));
	spool_msg_free(&m);
	free(in);
	free(out);
}

static void
test_pipelined_reply_order(void **state)
{
	struct fx *f = *state;
	char *in = transaction(two_rcpts, 2, "x\r\n");
	char *out = run_session(f, in, strlen(in), 0), *norm = normalize(out);
	const char *expect =
	    "220 lists.example.org LMTP mlistd ready\r\n"
	    "250-lists.example.org\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n"
	    "250-8BITMIME\r\n250 SIZE 10485760\r\n"
	    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "250 2.0.0 ID queued\r\n250 2.0.0 ID queued\r\n"
	    "221 2.0.0 lists.example.org Bye\r\n";

	assert_string_equal(norm, expect);
	assert_int_equal(queue_count(f, SPOOL_INCOMING), 1);
	free(in);
	free(out);
	free(norm);
}

static void
test_unknown_and_tempfail_rcpt(void **state)
{
	struct fx *f = *state;
	const char *const rcpts[] = { "unknown@example.org", "tempfail@example.org",
	    "national@example.org" };
	char *in = transaction(rcpts, 3, "x\r\n");
	char *out = run_session(f, in, strlen(in), 0);
	struct spool_msg *m;

	assert_int_equal(count_lines(out, "550 5.1.1 <unknown@example.org>"), 1);
	assert_int_equal(count_lines(out, "451 4.3.0 <tempfail@example.org>"), 1);
	assert_int_equal(count_lines(out, "250 2.0.0 "), 1);	/* one accepted recipient */
	m = take_only_message(f);
	assert_int_equal(m->nrcpt, 1);
	assert_string_equal(m->rcpts[0], "national@example.org");
	spool_msg_free(&m);
	free(in);
	free(out);
}

/* CR LF and dot-stuffing as a client would send the LF message. */
static char *
stuff(const char *msg)
{
	struct buf b;
	int bol = 1;

	buf_init(&b);
	for (const char *p = msg; *p; p++) {
		if (bol && *p == '.')
			buf_addc(&b, '.');
		if (*p == '\n')
			buf_addc(&b, '\r');
		buf_addc(&b, *p);
		bol = *p == '\n';
	}
	return buf_steal(&b);
}

static void
test_dot_stuffing_round_trip(void **state)
{
	struct fx *f = *state;
	const char *msg = "Subject: dots\n\n.\n..\n.leading\n...three\nmiddle.dot\n"
	    "\n.\ntrailing.\n";
	char *data = stuff(msg), *in = transaction(two_rcpts, 1, data);
	char *out = run_session(f, in, strlen(in), 0);
	struct spool_msg *m = take_only_message(f);

	assert_string_equal(m->data, msg);
	assert_int_equal(count_lines(out, "250 2.0.0 "), 1);
	spool_msg_free(&m);
	free(data);
	free(in);
	free(out);
}

static const struct {
	const char *sent, *stored;
} smuggle_cases[] = {
	{ "\n.\n", "\n.\n" },
	{ "\r.\r", "\r.\r" },
	{ "\n.\r\n", "\n.\n" },
	{ "\r\n.\n", "\n\n" },		/* line "." + bare LF: the leading dot goes */
	{ "\r\n.\r", "\n\r" },
	{ "\r.\r\n", "\r.\n" },
	{ "\n..\n", "\n..\n" },
};

#define SMUGGLED "MAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\nevil\r\n"
#define SMUGGLED_LF "MAIL FROM:<evil@example.org>\nRCPT TO:<victim@example.org>\nDATA\nevil\n"

static void
check_smuggle(struct fx *f, size_t i, int chunked)
{
	char *data = xasprintf("Subject: t\r\n\r\nA%s" SMUGGLED, smuggle_cases[i].sent);
	char *want = xasprintf("Subject: t\n\nA%s" SMUGGLED_LF, smuggle_cases[i].stored);
	char *in = transaction(two_rcpts, 1, data);
	char *out = run_session(f, in, strlen(in), chunked);
	struct spool_msg *m = take_only_message(f);

	assert_int_equal(count_lines(out, "250 2.1.0"), 1);	/* no second MAIL */
	assert_int_equal(count_lines(out, "250 2.0.0 "), 1);
	assert_int_equal(count_lines(out, "354 "), 1);
	assert_int_equal(m->nrcpt, 1);
	assert_string_equal(m->data, want);
	spool_msg_free(&m);
	free(data);
	free(want);
	free(in);
	free(out);
}

static void
test_smuggling_stays_one_message(void **state)
{
	for (size_t i = 0; i < nitems(smuggle_cases); i++) {
		check_smuggle(*state, i, 0);
		check_smuggle(*state, i, 1);
	}
}

static void
test_max_size(void **state)
{
	struct fx *f = *state;
	struct buf in, data;
	char *out;
	struct spool_msg *m;

	f->cfg.max_size = 100;
	buf_init(&data);
	for (int i = 0; i < 200; i++)
		buf_adds(&data, "0123456789012345678901234567890123456789\r\n");
	buf_init(&in);
	buf_adds(&in, "LHLO client.example.org\r\nMAIL FROM:<a@example.org> SIZE=5000\r\n"
	    "MAIL FROM:<a@example.org>\r\nRCPT TO:<national@example.org>\r\n"
	    "RCPT TO:<office@example.org>\r\nDATA\r\n");
	buf_adds(&in, buf_cstr(&data));
	buf_adds(&in, ".\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<national@example.org>\r\n"
	    "DATA\r\nsmall\r\n.\r\nQUIT\r\n");
	out = run_session(f, in.data, in.len, 0);
	assert_int_equal(count_lines(out, "250 SIZE 100"), 1);
	assert_int_equal(count_lines(out, "552 5.3.4"), 3);	/* SIZE= once, then per recipient */
	assert_int_equal(count_lines(out, "250 2.0.0 "), 1);	/* the small one after it */
	assert_int_equal(queue_count(f, SPOOL_TMP), 0);
	m = take_only_message(f);
	assert_string_equal(m->data, "small\n");
	spool_msg_free(&m);
	assert_int_equal(f->nspooled, 1);
	buf_free(&in);
	buf_free(&data);
	free(out);
}

static void
test_max_size_nothing_left(void **state)
{
	struct fx *f = *state;
	char *data = xmalloc(70001), *in, *out;

	f->cfg.max_size = 1000;
	for (size_t i = 0; i < 69998; i++)
		data[i] = (i % 70 == 69) ? '\n' : 'y';
	memcpy(data + 69998, "\r\n", 3);
	in = transaction(two_rcpts, 2, data);
	out = run_session(f, in, strlen(in), 0);
	assert_int_equal(count_lines(out, "552 5.3.4"), 2);
	assert_int_equal(count_lines(out, "221 "), 1);
	assert_int_equal(queue_count(f, SPOOL_TMP), 0);
	assert_int_equal(queue_count(f, SPOOL_INCOMING), 0);
	assert_int_equal(f->nspooled, 0);
	free(data);
	free(in);
	free(out);
}

/* Whole versus 1..7 byte writes: same replies, same stored messages. */
static void
test_chunked_input_same_result(void **state)
{
	struct fx *f = *state;
	const char *const rcpts[] = { "national@example.org", "unknown@example.org",
	    "office@example.org" };
	const char *datas[] = {
		"Subject: a\r\n\r\nplain\r\n",
		"..\r\n...x\r\n\r\n.y\r\n",
		"A\n.\nB\r.\rC\n.\r\nD\r\n.\nE\r\n",
		"\r\n\r\n\r\r\n\n\r\n",
	};

	for (size_t i = 0; i < nitems(datas); i++) {
		char *in = transaction(rcpts, 3, datas[i]);
		char *o1 = run_session(f, in, strlen(in), 0), *n1 = normalize(o1);
		struct spool_msg *m1 = take_only_message(f);
		char *o2 = run_session(f, in, strlen(in), 1), *n2 = normalize(o2);
		struct spool_msg *m2 = take_only_message(f);

		assert_string_equal(n1, n2);
		assert_int_equal(m1->len, m2->len);
		assert_memory_equal(m1->data, m2->data, m1->len);
		assert_int_equal(m1->nrcpt, 2);
		spool_msg_free(&m1);
		spool_msg_free(&m2);
		free(in);
		free(o1);
		free(o2);
		free(n1);
		free(n2);
	}
}

static void
check_data_tempfail(struct fx *f)
{
	char *in = transaction(two_rcpts, 2, "x\r\n");
	char *out = run_session(f, in, strlen(in), 0);

	/* DATA itself fails: one reply; the dot line is then an unknown command */
	assert_int_equal(count_lines(out, "451 4.3.0"), 1);
	assert_int_equal(count_lines(out, "354 "), 0);
	assert_int_equal(count_lines(out, "250 2.0.0 "), 0);
	assert_int_equal(queue_count(f, SPOOL_INCOMING), 0);
	free(in);
	free(out);
}

static void
test_missing_or_readonly_spool(void **state)
{
	struct fx *f = *state;
	char *tmpdir = xasprintf("%s/tmp", f->root);

	assert_int_equal(rmdir(tmpdir), 0);
	check_data_tempfail(f);
	assert_int_equal(mkdir(tmpdir, 0750), 0);
	if (geteuid() != 0) {	/* root ignores permissions */
		assert_int_equal(chmod(tmpdir, 0500), 0);
		check_data_tempfail(f);
		assert_int_equal(chmod(tmpdir, 0750), 0);
	}
	free(tmpdir);
}

static void
test_commit_failure(void **state)
{
	struct fx *f = *state;
	char *incoming = xasprintf("%s/incoming", f->root);
	struct client c;

	client_start(f, &c);
	expect_reply(&c, "220 ");
	client_send(&c, "LHLO client.example.org\r\nMAIL FROM:<>\r\n"
	    "RCPT TO:<national@example.org>\r\nRCPT TO:<office@example.org>\r\nDATA\r\n");
	expect_reply(&c, "250-");
	expect_reply(&c, "250 2.1.0");
	expect_reply(&c, "250 2.1.5");
	expect_reply(&c, "250 2.1.5");
	expect_reply(&c, "354 ");
	assert_int_equal(rmdir(incoming), 0);	/* the rename into incoming/ will fail */
	client_send(&c, "Subject: x\r\n\r\nbody\r\n.\r\n");
	expect_reply(&c, "451 4.3.0");
	expect_reply(&c, "451 4.3.0");
	assert_int_equal(mkdir(incoming, 0750), 0);
	assert_int_equal(queue_count(f, SPOOL_TMP), 0);
	client_send(&c, "QUIT\r\n");
	expect_reply(&c, "221 ");
	assert_null(client_reply(&c));
	client_end(&c);
	assert_int_equal(f->nspooled, 0);
	free(incoming);
}

/* A write failing while streaming (here EFBIG from RLIMIT_FSIZE, as ENOSPC
 * would): 451 for each recipient, nothing left behind. */
static void
test_write_failure(void **state)
{
	struct fx *f = *state;
	struct rlimit old, lim;
	char *data = xmalloc(200001), *in, *out;

	for (size_t i = 0; i < 199998; i++)
		data[i] = (i % 70 == 69) ? '\n' : 'z';
	memcpy(data + 199998, "\r\n", 3);
	in = transaction(two_rcpts, 2, data);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 65536;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	out = run_session(f, in, strlen(in), 0);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(count_lines(out, "451 4.3.0"), 2);
	assert_int_equal(count_lines(out, "221 "), 1);
	assert_int_equal(queue_count(f, SPOOL_TMP), 0);
	assert_int_equal(queue_count(f, SPOOL_INCOMING), 0);
	assert_int_equal(f->nspooled, 0);
	free(data);
	free(in);
	free(out);
}

static void
test_syntax_and_sequence(void **state)
{
	struct fx *f = *state;
	char longline[5000];
	static const struct {
		const char *cmd, *reply;
	} cases[] = {
		{ "MAIL FROM:<a@example.org>", "503 5.5.1" },
		{ "RCPT TO:<b@example.org>", "503 5.5.1" },
		{ "DATA", "503 5.5.1" },
		{ "HELO client.example.org", "500 5.5.1" },
		{ "EHLO client.example.org", "500 5.5.1" },
		{ "LHLO", "501 5.5.4" },
		{ "LHLO client.example.org", "250-lists.example.org" },
		{ "FOO", "500 5.5.1" },
		{ "VRFY national@example.org", "252 " },
		{ "NOOP", "250 2.0.0" },
		{ "MAIL FROM:a@example.org", "501 5.5.4" },
		{ "MAIL FROM:<a@example.org> FOO=1", "555 5.5.4" },
		{ "MAIL FROM:<a@example.org> SIZE=abc", "501 5.5.4" },
		{ "MAIL FROM:<a\x01@example.org>", "501 5.5.4" },
		{ "mail from: <a@example.org> BODY=8BITMIME SIZE=10", "250 2.1.0" },
		{ "MAIL FROM:<a@example.org>", "503 5.5.1" },
		{ "RCPT TO:<>", "501 5.1.3" },
		{ "RCPT TO:national@example.org", "501 5.5.4" },
		{ "RCPT TO:<national@example.org> NOTIFY=NEVER", "555 5.5.4" },
		{ "DATA", "503 5.5.1" },
		{ "DATA now", "501 5.5.4" },
		{ "RSET", "250 2.0.0" },
		{ "RCPT TO:<national@example.org>", "503 5.5.1" },
		{ "", "500 5.5.1" },
		{ NULL, "500 5.5.2" },	/* the long line */
		{ "NOOP", "250 2.0.0" },
		{ "QUIT", "221 2.0.0" },
	};
	struct client c;

	memset(longline, 'a', sizeof longline - 1);
	longline[sizeof longline - 1] = '\0';
	client_start(f, &c);
	expect_reply(&c, "220 ");
	for (size_t i = 0; i < nitems(cases); i++) {
		client_send(&c, cases[i].cmd ? cases[i].cmd : longline);
		client_send(&c, "\r\n");
		expect_reply(&c, cases[i].reply);
	}
	assert_null(client_reply(&c));
	client_end(&c);
}

static void
test_too_many_errors(void **state)
{
	struct client c;
	char *r;
	int n = 0;

	struct buf in;

	buf_init(&in);
	for (int i = 0; i < 25; i++)
		buf_adds(&in, "BOGUS\r\n");
	client_start(*state, &c);
	expect_reply(&c, "220 ");
	client_send(&c, buf_cstr(&in));	/* one write: the server closes after 20 */
	buf_free(&in);
	while ((r = client_reply(&c)) != NULL) {
		n += strncmp(r, "500 ", 4) == 0;
		if (strncmp(r, "421 ", 4) == 0)
			n += 100;
		free(r);
	}
	assert_int_equal(n, 120);	/* 20 errors, then 421 and the end */
	client_end(&c);
}

static void
test_timeout(void **state)
{
	struct fx *f = *state;
	struct client c;
	time_t t0 = time(NULL);

	f->cfg.timeout_s = 1;
	client_start(f, &c);
	expect_reply(&c, "220 ");
	client_send(&c, "LHLO client.example.org\r\nMAIL FROM:<a@example.org>\r\n"
	    "RCPT TO:<national@example.org>\r\nDATA\r\npartial data\r\n");
	expect_reply(&c, "250-");
	expect_reply(&c, "250 2.1.0");
	expect_reply(&c, "250 2.1.5");
	expect_reply(&c, "354 ");
	expect_reply(&c, "421 4.4.2");
	assert_null(client_reply(&c));
	assert_true(time(NULL) - t0 <= 4);
	client_end(&c);
	assert_int_equal(queue_count(f, SPOOL_TMP), 0);
	assert_int_equal(queue_count(f, SPOOL_INCOMING), 0);
}

/* A client that keeps sending, one byte at a time, slower than min_rate:
 * dropped with 421 after the grace (timeout_s here), nothing stored. */
static void
test_slow_client(void **state)
{
	struct fx *f = *state;
	struct client c;
	const char *cmd = "LHLO slow.example.org\r\n";
	time_t t0 = time(NULL);
	char *r = NULL;

	f->cfg.timeout_s = 2;
	f->cfg.min_rate = 100;
	client_start(f, &c);
	expect_reply(&c, "220 ");
	for (size_t i = 0; cmd[i]; i++) {	/* 1 byte every 300 ms: 3 bytes/s */
		if (send(c.fd, cmd + i, 1, MSG_NOSIGNAL) != 1)
			break;
		struct pollfd pfd = { c.fd, POLLIN, 0 };

		if (poll(&pfd, 1, 300) == 1)
			break;
	}
	r = client_reply(&c);
	assert_non_null(r);
	assert_true(strncmp(r, "421 4.4.2", 9) == 0 && strstr(r, "too slow") != NULL);
	free(r);
	assert_null(client_reply(&c));
	assert_true(time(NULL) - t0 <= 4);
	client_end(&c);
}

/* The same inside DATA, and a fast client with the same limits passes. */
static void
test_slow_data(void **state)
{
	struct fx *f = *state;
	struct client c;

	f->cfg.timeout_s = 1;
	f->cfg.min_rate = 1000;
	client_start(f, &c);
	expect_reply(&c, "220 ");
	client_send(&c, "LHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<national@example.org>\r\n"
	    "DATA\r\nSubject: fast\r\n\r\nok\r\n.\r\nMAIL FROM:<a@example.org>\r\n"
	    "RCPT TO:<national@example.org>\r\nDATA\r\n");
	for (const char *p = "250-\0" "250 2.1.0\0" "250 2.1.5\0" "354 \0" "250 2.0.0\0"
	    "250 2.1.0\0" "250 2.1.5\0" "354 \0"; *p; p += strlen(p) + 1)
		expect_reply(&c, p);
	for (int i = 0; i < 6; i++) {	/* 10 bytes per 300 ms: under 1000 bytes/s */
		struct pollfd pfd = { c.fd, POLLIN, 0 };

		if (send(c.fd, "xxxxxxxxx\n", 10, MSG_NOSIGNAL) != 10 || poll(&pfd, 1, 300) == 1)
			break;
	}
	expect_reply(&c, "421 4.4.2");
	assert_null(client_reply(&c));
	client_end(&c);
	assert_int_equal(queue_count(f, SPOOL_INCOMING), 1);	/* only the fast one */
	assert_int_equal(queue_count(f, SPOOL_TMP), 0);
}

/* A session that keeps every request brisk still ends at its deadline. */
static void
test_session_deadline(void **state)
{
	struct fx *f = *state;
	struct client c;
	time_t t0 = time(NULL);
	char *r;
	int noops = 0;

	f->cfg.timeout_s = 10;
	f->cfg.session_deadline_s = 2;
	client_start(f, &c);
	expect_reply(&c, "220 ");
	for (;;) {
		struct pollfd pfd = { c.fd, POLLIN, 0 };

		if (poll(&pfd, 1, 400) == 0)	/* nothing said: one more brisk request */
			client_send_n(&c, "NOOP\r\n", 6);
		r = client_reply(&c);
		assert_non_null(r);
		if (strncmp(r, "421", 3) == 0)
			break;
		assert_true(strncmp(r, "250", 3) == 0);
		free(r);
		noops++;
	}
	assert_non_null(strstr(r, "4.4.2"));
	free(r);
	assert_true(noops >= 3);
	assert_true(time(NULL) - t0 <= 4);
	client_end(&c);
}

/* ---- server ---- */

static void
client_connect(struct fx *f, struct client *c, const struct sockaddr *sa, socklen_t len)
{
	memset(c, 0, sizeof *c);
	c->f = f;
	c->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c->fd >= 0);
	assert_int_equal(connect(c->fd, sa, len), 0);
}

static void
test_server_tcp(void **state)
{
	struct fx *f = *state;
	struct lmtp_server *srv;
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	struct client c1, c2, c3, c4;
	const char *err;
	int lfd;
	time_t t0;

	f->cfg.max_clients = 3;
	f->cfg.timeout_s = 2;
	assert_int_equal(lmtp_listen("127.0.0.1:0", &lfd, &err), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	assert_int_equal(lmtp_server_start(lfd, &f->cfg, f->sp, &f->h, &srv, &err), 0);
	client_connect(f, &c1, (struct sockaddr *)&sin, len);
	expect_reply(&c1, "220 lists.example.org");
	client_connect(f, &c2, (struct sockaddr *)&sin, len);
	expect_reply(&c2, "220 ");
	client_connect(f, &c3, (struct sockaddr *)&sin, len);
	expect_reply(&c3, "220 ");
	client_connect(f, &c4, (struct sockaddr *)&sin, len);
	expect_reply(&c4, "421 4.3.2");	/* over max_clients */
	client_end(&c4);

	client_send(&c1, "LHLO client.example.org\r\nMAIL FROM:<a@example.org>\r\n"
	    "RCPT TO:<national@example.org>\r\nRCPT TO:<office@example.org>\r\nDATA\r\n"
	    "Subject: tcp\r\n\r\nhi\r\n.\r\n");
	for (const char *p = "250-\0" "250 2.1.0\0" "250 2.1.5\0" "250 2.1.5\0" "354 \0"
	    "250 2.0.0\0" "250 2.0.0\0"; *p; p += strlen(p) + 1)
		expect_reply(&c1, p);
	/* c3 stays inside DATA: cut after the grace period, nothing stored */
	client_send(&c3, "LHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<national@example.org>\r\nDATA\r\nhalf\r\n");
	t0 = time(NULL);
	lmtp_server_stop(&srv);
	assert_null(srv);
	assert_true(time(NULL) - t0 <= 4);
	expect_reply(&c2, "421 4.3.2");	/* idle: told at once */
	assert_null(client_reply(&c2));
	client_end(&c1);
	client_end(&c2);
	client_end(&c3);
	assert_int_equal(queue_count(f, SPOOL_INCOMING), 1);
	assert_int_equal(queue_count(f, SPOOL_TMP), 0);
	assert_int_equal(f->nspooled, 1);
	lmtp_server_stop(&srv);	/* NULL is fine */
}

/* Every slot held by clients that say nothing: once one more client is
 * turned away, the idle ones get 421 within LMTP_BUSY_IDLE_MS, and the
 * next client is served. */
static void
test_server_idle_under_pressure(void **state)
{
	struct fx *f = *state;
	struct lmtp_server *srv;
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	struct client c1, c2, c3, c4;
	const char *err;
	time_t t0;
	int lfd;

	f->cfg.max_clients = 2;
	f->cfg.timeout_s = 60;
	assert_int_equal(lmtp_listen("127.0.0.1:0", &lfd, &err), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	assert_int_equal(lmtp_server_start(lfd, &f->cfg, f->sp, &f->h, &srv, &err), 0);
	client_connect(f, &c1, (struct sockaddr *)&sin, len);
	expect_reply(&c1, "220 ");
	client_connect(f, &c2, (struct sockaddr *)&sin, len);
	expect_reply(&c2, "220 ");
	t0 = time(NULL);
	client_connect(f, &c3, (struct sockaddr *)&sin, len);
	expect_reply(&c3, "421 4.3.2");		/* turned away */
	client_end(&c3);
	expect_reply(&c1, "421 4.4.2");		/* the idle ones make room */
	expect_reply(&c2, "421 4.4.2");
	assert_true(time(NULL) - t0 <= 4);
	client_end(&c1);
	client_end(&c2);
	poll(NULL, 0, 200);
	client_connect(f, &c4, (struct sockaddr *)&sin, len);
	expect_reply(&c4, "220 ");
	client_send(&c4, "QUIT\r\n");
	expect_reply(&c4, "221 ");
	client_end(&c4);
	lmtp_server_stop(&srv);
}

static void
test_server_unix(void **state)
{
	struct fx *f = *state;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char *addr = xasprintf("unix:%s/lmtp.sock", f->base);
	struct lmtp_server *srv;
	struct client c;
	const char *err;
	int lfd;

	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", addr + 5);
	for (int round = 0; round < 2; round++) {	/* the second replaces a stale socket */
		assert_int_equal(lmtp_listen(addr, &lfd, &err), 0);
		assert_int_equal(lmtp_server_start(lfd, &f->cfg, f->sp, &f->h, &srv, &err), 0);
		client_connect(f, &c, (struct sockaddr *)&sun, sizeof sun);
		expect_reply(&c, "220 ");
		client_send(&c, "QUIT\r\n");
		expect_reply(&c, "221 ");
		client_end(&c);
		lmtp_server_stop(&srv);
	}
	free(addr);
}

static void
test_listen_errors(void **state)
{
	static const char *const bad[] = { "nonsense", "[::1", "[::1]24", "127.0.0.1:notaport",
	    "unix:/nonexistent-dir-for-test/sock" };
	const char *err;
	int fd, v6;

	for (size_t i = 0; i < nitems(bad); i++) {
		err = NULL;
		assert_int_equal(lmtp_listen(bad[i], &fd, &err), -1);
		assert_non_null(err);
	}
	v6 = lmtp_listen("[::1]:0", &fd, &err);	/* may be unavailable in a container */
	if (v6 == 0)
		close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_recipients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined_reply_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_and_tempfail_rcpt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dot_stuffing_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_smuggling_stays_one_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_size_nothing_left, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunked_input_same_result, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_or_readonly_spool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax_and_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_tcp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_idle_under_pressure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_unix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listen_errors, setup, teardown),
	};

	log_init("test_lmtp", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
