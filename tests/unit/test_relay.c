/*
 * test_relay.c — the SMTP relay client (mlistd/relay.c) against Postfix's
 * smtp-sink on 127.0.0.1, and local Maildir delivery (mlistd/maildir.c).
 *
 * Each test starts its own smtp-sink on a free port (dumping every message
 * into a temporary directory, or answering 4xx/5xx at a chosen stage) and
 * kills it at the end. The whole run is bounded by alarm(): on expiry the
 * sink is killed and the test binary exits non-zero.
 *
 * Covered: 200 VERP items over 4 connections all arrive with their own
 * reverse path and come back RELAY_SENT 250; reject tables (4xx/5xx at RCPT,
 * 5xx at end of DATA, 4xx at MAIL) give DEFERRED/FAILED with the server's
 * code, enhanced code and text; failover from a closed port to the sink;
 * nothing listening gives DEFERRED within the timeout; a bare-LF message
 * keeps its header/body boundary and dot lines survive; sessions are cut at
 * max_msgs_per_session; a bad configuration defers everything; Maildir
 * delivery lands in new/ with Delivered-To and Return-Path; messages of
 * 256 KB - 1, 256 KB, 256 KB + 1, 512 KB +- 1 (the gathering limit) and
 * 32 MB (four binary parts: the socket fills, partial sends and EAGAIN)
 * arrive byte for byte on every connection.
 */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "maildir.h"
#include "relay.h"
#include "util.h"

#define TEST_ALARM_S	120

static volatile pid_t sink_pid;

struct sink {
	pid_t	 pid;
	int	 port;
	char	 dir[64];	/* dump directory */
	char	 host[32];	/* "127.0.0.1:port" */
};

static void
on_alarm(int sig)
{
	if (sink_pid > 0)
		kill(sink_pid, SIGKILL);
	_exit(2);
}

/* A port nobody listens on (bound then released). */
static int
free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static int
port_open(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	close(fd);
	return rc == 0;
}

/* Start smtp-sink with extra options (NULL-terminated), dumping into a new dir. */
static void
sink_start(struct sink *s, const char *opt, ...)
{
	const char *argv[24];
	char tmpl[128], addr[32];
	size_t n = 0;
	va_list ap;

	snprintf(s->dir, sizeof s->dir, "/tmp/test_relay.XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	chmod(s->dir, 0777);	/* the sink writes as nobody */
	s->port = free_port();
	snprintf(s->host, sizeof s->host, "127.0.0.1:%d", s->port);
	snprintf(tmpl, sizeof tmpl, "%s/%%H%%M%%S.", s->dir);
	snprintf(addr, sizeof addr, "127.0.0.1:%d", s->port);
	argv[n++] = "smtp-sink";
	if (geteuid() == 0) {
		argv[n++] = "-u";
		argv[n++] = "nobody";
	}
	argv[n++] = "-d";
	argv[n++] = tmpl;
	va_start(ap, opt);
	for (const char *o = opt; o != NULL && n < 20; o = va_arg(ap, const char *))
		argv[n++] = o;
	va_end(ap);
	argv[n++] = addr;
	argv[n++] = "256";
	argv[n] = NULL;
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		execvp("/usr/sbin/smtp-sink", (char **)argv);
		execvp("smtp-sink", (char **)argv);
		_exit(127);
	}
	sink_pid = s->pid;
	for (int i = 0; i < 100 && !port_open(s->port); i++)
		usleep(50000);
	assert_true(port_open(s->port));
}

static void
rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char *p = xasprintf("%s/%s", dir, e->d_name);
		struct stat st;

		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			rm_dir(p);
		else
			unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
}

static void
sink_stop(struct sink *s)
{
	kill(s->pid, SIGTERM);
	waitpid(s->pid, NULL, 0);
	sink_pid = 0;
	rm_dir(s->dir);
}

static size_t
count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Wait (at most 3 s) until the sink has written `want` files. */
static size_t
wait_files(const char *dir, size_t want)
{
	size_t n = 0;

	for (int i = 0; i < 60 && (n = count_files(dir)) < want; i++)
		usleep(50000);
	return n;
}

/* Concatenation of every dumped file. */
static char *
read_dumps(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct buf b;

	assert_non_null(d);
	buf_init(&b);
	while ((e = readdir(d)) != NULL) {
		char *p, *data;
		size_t len;

		if (e->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		if (file_read(p, 1 << 20, &data, &len) == 0) {
			buf_add(&b, data, len);
			free(data);
		}
		free(p);
	}
	closedir(d);
	buf_addc(&b, '\0');
	return buf_steal(&b);
}

static const char test_msg[] =
    "From: list@example.org\r\n"
    "To: members@example.org\r\n"
    "Subject: relay test\r\n"
    "Date: Sat, 1 Feb 2025 10:00:00 +0100\r\n"
    "Message-Id: <relay-test@example.org>\r\n"
    "\r\n"
    "Hello.\r\n"
    ".a line starting with a dot\r\n";

struct items {
	struct relay_item *v;
	size_t		   n;
	char		 **strs;	/* reverse paths and recipients */
	size_t		   ndone;
};

static void
items_make(struct items *it, size_t n, const char *data, size_t len)
{
	it->v = xcalloc(n, sizeof *it->v);
	it->strs = xcalloc(2 * n, sizeof *it->strs);
	it->n = n;
	it->ndone = 0;
	for (size_t i = 0; i < n; i++) {
		it->strs[2 * i] = xasprintf("bounce+%zu@example.org", i);
		it->strs[2 * i + 1] = xasprintf("member%zu@example.org", i);
		it->v[i].reverse_path = it->strs[2 * i];
		it->v[i].rcpt = it->strs[2 * i + 1];
		it->v[i].data = data;
		it->v[i].len = len;
		it->v[i].user = &it->v[i];
	}
}

static void
items_free(struct items *it)
{
	for (size_t i = 0; i < 2 * it->n; i++)
		free(it->strs[i]);
	free(it->strs);
	free(it->v);
}

static void
on_done(struct relay_item *item, void *arg)
{
	struct items *it = arg;

	assert_ptr_equal(item->user, item);
	assert_int_not_equal(item->outcome, RELAY_PENDING);
	it->ndone++;
}

static void
config_init(struct relay_config *cfg, char **hosts, size_t nhosts, int timeout_ms)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->hosts = hosts;
	cfg->nhosts = nhosts;
	cfg->helo = "relay-test.example.org";
	cfg->timeout_ms = timeout_ms;
	cfg->max_msgs_per_session = 1000;
}

static void
test_parallel_200(void **state)
{
	struct relay_config cfg;
	struct items it;
	struct sink s;
	char *hosts[1], *dumps;

	sink_start(&s, NULL);
	hosts[0] = s.host;
	config_init(&cfg, hosts, 1, 10000);
	items_make(&it, 200, test_msg, strlen(test_msg));
	assert_int_equal(relay_send_parallel(&cfg, it.v, it.n, 4, on_done, &it), 0);
	assert_int_equal(it.ndone, 200);
	for (size_t i = 0; i < it.n; i++) {
		assert_int_equal(it.v[i].outcome, RELAY_SENT);
		assert_int_equal(it.v[i].code, 250);
	}
	assert_int_equal(wait_files(s.dir, 200), 200);
	dumps = read_dumps(s.dir);
	for (size_t i = 0; i < it.n; i++) {
		char *want = xasprintf("X-Mail-Args: <%s>\n", it.v[i].reverse_path);

		assert_non_null(strstr(dumps, want));
		free(want);
	}
	/* libesmtp un-stuffs nothing: the sink gets the dot line back intact */
	assert_non_null(strstr(dumps, "\n.a line starting with a dot\n"));
	assert_null(strstr(dumps, "Return-Path"));
	free(dumps);
	items_free(&it);
	sink_stop(&s);
}

struct reject_case {
	const char		*name;
	const char		*opt, *arg;	/* smtp-sink option */
	enum relay_outcome	 outcome;
	int			 code;
	const char		*enhanced;
};

static const struct reject_case reject_cases[] = {
	{ "4xx at RCPT", "-r", "rcpt", RELAY_DEFERRED, 450, "4.3.0" },
	{ "5xx at RCPT", "-f", "rcpt", RELAY_FAILED, 500, "5.3.0" },
	{ "5xx at end of DATA", "-f", ".", RELAY_FAILED, 500, "5.3.0" },
	{ "4xx at end of DATA", "-r", ".", RELAY_DEFERRED, 450, "4.3.0" },
	{ "4xx at MAIL", "-r", "mail", RELAY_DEFERRED, 450, "4.3.0" },
	{ "5xx at DATA", "-f", "data", RELAY_FAILED, 500, "5.3.0" },
};

static void
test_rejects(void **state)
{
	for (size_t c = 0; c < nitems(reject_cases); c++) {
		const struct reject_case *rc = &reject_cases[c];
		struct relay_config cfg;
		struct items it;
		struct sink s;
		char *hosts[1];

		sink_start(&s, rc->opt, rc->arg, NULL);
		hosts[0] = s.host;
		config_init(&cfg, hosts, 1, 10000);
		items_make(&it, 3, test_msg, strlen(test_msg));
		assert_int_equal(relay_send(&cfg, it.v, it.n, on_done, &it), 0);
		assert_int_equal(it.ndone, 3);
		for (size_t i = 0; i < it.n; i++) {
			if (it.v[i].outcome != rc->outcome || it.v[i].code != rc->code)
				fail_msg("%s: item %zu: outcome %d code %d text %s", rc->name,
				    i, it.v[i].outcome, it.v[i].code, it.v[i].text);
			assert_string_equal(it.v[i].enhanced, rc->enhanced);
			assert_non_null(strstr(it.v[i].text, "Error: command failed"));
		}
		items_free(&it);
		sink_stop(&s);
	}
}

static void
test_failover(void **state)
{
	struct relay_config cfg;
	struct items it;
	struct sink s;
	char closed[32], *hosts[2];

	sink_start(&s, NULL);
	snprintf(closed, sizeof closed, "127.0.0.1:%d", free_port());
	hosts[0] = closed;
	hosts[1] = s.host;
	config_init(&cfg, hosts, 2, 5000);
	items_make(&it, 10, test_msg, strlen(test_msg));
	assert_int_equal(relay_send(&cfg, it.v, it.n, on_done, &it), 0);
	for (size_t i = 0; i < it.n; i++)
		assert_int_equal(it.v[i].outcome, RELAY_SENT);
	assert_int_equal(it.ndone, 10);
	assert_int_equal(wait_files(s.dir, 10), 10);
	items_free(&it);
	sink_stop(&s);
}

static void
test_no_host(void **state)
{
	struct relay_config cfg;
	struct items it;
	char h1[32], h2[32], *hosts[2] = { h1, h2 };
	time_t t0 = time(NULL);

	snprintf(h1, sizeof h1, "127.0.0.1:%d", free_port());
	snprintf(h2, sizeof h2, "127.0.0.1:%d", free_port());
	config_init(&cfg, hosts, 2, 2000);
	items_make(&it, 5, test_msg, strlen(test_msg));
	assert_int_equal(relay_send_parallel(&cfg, it.v, it.n, 2, on_done, &it), 0);
	assert_true(time(NULL) - t0 <= 5);
	assert_int_equal(it.ndone, 5);
	for (size_t i = 0; i < it.n; i++) {
		assert_int_equal(it.v[i].outcome, RELAY_DEFERRED);
		assert_int_equal(it.v[i].code, 0);
		assert_true(strlen(it.v[i].text) > 0);
	}
	items_free(&it);
}

/* A loopback listener that never accepts: with backlog 0 and two clients
 * already queued, new SYNs are dropped (connect hangs); with a larger
 * backlog the handshake completes but no greeting ever comes. */
static int
silent_listener(int backlog, char *host, size_t size, int *clients)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(host, size, "127.0.0.1:%d", ntohs(sa.sin_port));
	for (int i = 0; i < 2 && backlog == 0; i++) {
		clients[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(clients[i], (struct sockaddr *)&sa, sizeof sa);
	}
	return fd;
}

static double
elapsed_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

struct timeout_case {
	const char	*name;
	int		 backlog;
	const char	*reason;
	size_t		 nitems, max_per_session;
	int		 nconn;
};

static const struct timeout_case timeout_cases[] = {
	{ "connect", 0, "timed out", 2, 1000, 1 },
	{ "greeting", 16, "dropped connection", 2, 1000, 1 },
	/* 40 sessions' worth: retired connections stop the run early */
	{ "greeting, many batches", 16, "dropped connection", 40, 1, 4 },
};

/* timeout_ms = 500 bounds connect and the greeting wait; a dead relay is
 * given up after one timeout per connection, not one per batch. */
static void
test_timeouts(void **state)
{
	for (size_t c = 0; c < nitems(timeout_cases); c++) {
		const struct timeout_case *tc = &timeout_cases[c];
		struct relay_config cfg;
		struct items it;
		struct timespec t0;
		char host[32], *hosts[1] = { host };
		int clients[2] = { -1, -1 }, lfd;

		lfd = silent_listener(tc->backlog, host, sizeof host, clients);
		config_init(&cfg, hosts, 1, 500);
		cfg.max_msgs_per_session = tc->max_per_session;
		items_make(&it, tc->nitems, test_msg, strlen(test_msg));
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(relay_send_parallel(&cfg, it.v, it.n, tc->nconn,
		    on_done, &it), 0);
		if (elapsed_since(&t0) > 2.0)
			fail_msg("%s: %.1f s", tc->name, elapsed_since(&t0));
		assert_int_equal(it.ndone, tc->nitems);
		for (size_t i = 0; i < it.n; i++) {
			assert_int_equal(it.v[i].outcome, RELAY_DEFERRED);
			if (strstr(it.v[i].text, tc->reason) == NULL)
				fail_msg("%s: %s", tc->name, it.v[i].text);
		}
		items_free(&it);
		close(lfd);
		for (int i = 0; i < 2; i++)
			if (clients[i] != -1)
				close(clients[i]);
	}
}

static void
test_bare_lf(void **state)
{
	static const char lf_msg[] =
	    "From: list@example.org\n"
	    "To: members@example.org\n"
	    "Subject: bare LF\n"
	    "\n"
	    "Body line.\n"
	    ".dot line\n"
	    "last line without newline";
	struct relay_config cfg;
	struct items it;
	struct sink s;
	char *hosts[1], *dump, *date, *body;

	sink_start(&s, NULL);
	hosts[0] = s.host;
	config_init(&cfg, hosts, 1, 10000);
	items_make(&it, 1, lf_msg, strlen(lf_msg));
	assert_int_equal(relay_send(&cfg, it.v, it.n, on_done, &it), 0);
	assert_int_equal(it.v[0].outcome, RELAY_SENT);
	assert_int_equal(wait_files(s.dir, 1), 1);
	dump = read_dumps(s.dir);
	/* libesmtp adds Date: and Message-Id: in the header, not after the body */
	date = strstr(dump, "\nDate: ");
	body = strstr(dump, "\n\nBody line.\n.dot line\nlast line without newline\n");
	assert_non_null(date);
	assert_non_null(body);
	assert_true(date < body);
	assert_non_null(strstr(dump, "\nSubject: bare LF\n"));
	free(dump);
	items_free(&it);
	sink_stop(&s);
}

/* max_msgs_per_session = 7: 20 items need 3 sessions (3 EHLO in the dumps
 * cannot be seen, so count connections through the sink's -n limit: it
 * exits after 3 sessions and everything must still be sent). */
static void
test_sessions_cut(void **state)
{
	struct relay_config cfg;
	struct items it;
	struct sink s;
	char *hosts[1];

	sink_start(&s, "-n", "3", NULL);
	hosts[0] = s.host;
	config_init(&cfg, hosts, 1, 5000);
	cfg.max_msgs_per_session = 7;
	items_make(&it, 20, test_msg, strlen(test_msg));
	assert_int_equal(relay_send(&cfg, it.v, it.n, on_done, &it), 0);
	for (size_t i = 0; i < it.n; i++)
		assert_int_equal(it.v[i].outcome, RELAY_SENT);
	assert_int_equal(wait_files(s.dir, 20), 20);
	items_free(&it);
	sink_stop(&s);
}

static void
test_bad_config(void **state)
{
	struct relay_config cfg;
	struct items it;
	char *hosts[1] = { "127.0.0.1:25" };

	config_init(&cfg, NULL, 0, 1000);
	items_make(&it, 2, test_msg, strlen(test_msg));
	assert_int_equal(relay_send(&cfg, it.v, it.n, on_done, &it), -1);
	assert_int_equal(it.v[0].outcome, RELAY_DEFERRED);
	assert_non_null(strstr(it.v[1].text, "no relay host"));
	it.v[0].outcome = it.v[1].outcome = RELAY_PENDING;
	config_init(&cfg, hosts, 1, 1000);
	cfg.tls = RELAY_TLS_TLS;
	assert_int_equal(relay_send(&cfg, it.v, it.n, on_done, &it), -1);
	assert_int_equal(it.v[1].outcome, RELAY_DEFERRED);
	assert_int_equal(it.ndone, 4);
	/* items already decided are left alone */
	it.v[0].rcpt = "";
	it.v[0].outcome = RELAY_PENDING;
	assert_int_equal(relay_send(&cfg, it.v, 1, NULL, NULL), -1);
	assert_int_equal(it.v[0].outcome, RELAY_FAILED);
	items_free(&it);
}

static void
test_maildir(void **state)
{
	char dir[] = "/tmp/test_maildir.XXXXXX", *md, *name = NULL, *data;
	const char *error = NULL;
	size_t len;

	assert_non_null(mkdtemp(dir));
	md = xasprintf("%s/Maildir", dir);
	assert_int_equal(maildir_deliver(md, test_msg, strlen(test_msg),
	    "member@example.org", "bounce+1@example.org", &name, &error), 0);
	assert_non_null(name);
	assert_non_null(strstr(name, "/Maildir/new/"));
	assert_int_equal(count_files(md), 3);	/* tmp new cur */
	assert_int_equal(count_files(dir), 1);
	assert_int_equal(file_read(name, 1 << 20, &data, &len), 0);
	assert_true(strncmp(data, "Return-Path: <bounce+1@example.org>\n"
	    "Delivered-To: member@example.org\nFrom: list@example.org\n", 91) == 0);
	assert_null(memchr(data, '\r', len));
	free(data);
	free(name);
	/* a second delivery gets another name; tmp/ stays empty */
	assert_int_equal(maildir_deliver(md, "x\r\n", 3, "a@example.org", "", &name,
	    &error), 0);
	free(name);
	char *newdir = xasprintf("%s/new", md), *tmpdir = xasprintf("%s/tmp", md);

	assert_int_equal(count_files(newdir), 2);
	assert_int_equal(count_files(tmpdir), 0);
	free(newdir);
	free(tmpdir);
	/* failure: the maildir path is a file */
	assert_int_equal(maildir_deliver("/dev/null/x", "x", 1, "a@example.org", "",
	    NULL, &error), -1);
	assert_non_null(strstr(error, "cannot create"));
	rm_dir(dir);
	free(md);
}

/* ------------------------------------------------------------------------
 * Byte-exact delivery of large messages (issue 12, case 8).
 */

/* Lines of filler text making up r bytes exactly (r >= 4), some starting
 * with a dot (stuffed on the wire). */
static void
big_filler(struct buf *b, size_t r)
{
	size_t line = 0;

	while (r > 0) {
		size_t n = r > 144 ? 70 : r > 72 ? r / 2 - 2 : r - 2;

		for (size_t i = 0; i < n; i++)
			buf_addc(b, i == 0 && line % 7 == 0 ? '.' : (char)('a' + (line + i) % 26));
		buf_add(b, "\r\n", 2);
		r -= n + 2;
		line++;
	}
}

/* A MIME message of exactly `size` bytes (CRLF): nparts base64 parts of
 * pseudo-random binary data (76-character lines), then a text part that
 * makes up the size. */
static char *
big_message(size_t size, int nparts, uint32_t seed)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static const char end[] = "--b--\r\n";
	struct buf b;
	size_t part = (size - 4096) / (size_t)(nparts > 0 ? nparts : 1);
	uint32_t x = seed * 2654435761u + 1;

	buf_init(&b);
	buf_printf(&b, "From: list@example.org\r\nTo: members@example.org\r\n"
	    "Subject: large %zu\r\nDate: Sat, 1 Feb 2025 10:00:00 +0100\r\n"
	    "Message-Id: <large-%zu@example.org>\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n", size, size);
	for (int p = 0; p < nparts; p++) {
		buf_adds(&b, "--b\r\nContent-Type: application/octet-stream\r\n"
		    "Content-Transfer-Encoding: base64\r\n\r\n");
		for (size_t k = 0; k + 78 <= part; k += 78) {
			for (int c = 0; c < 76; c++) {
				x ^= x << 13;
				x ^= x >> 17;
				x ^= x << 5;
				buf_addc(&b, b64[x & 63]);
			}
			buf_add(&b, "\r\n", 2);
		}
	}
	buf_adds(&b, "--b\r\nContent-Type: text/plain\r\n\r\n");
	assert_true(b.len + sizeof end - 1 + 4 <= size);
	big_filler(&b, size - b.len - (sizeof end - 1));
	buf_adds(&b, end);
	assert_int_equal(b.len, size);
	return buf_steal(&b);
}

/* What the sink must have: the message with LF line ends. */
static char *
big_expected(const char *msg, size_t len, size_t *len_r)
{
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < len; i++)
		if (!(msg[i] == '\r' && i + 1 < len && msg[i + 1] == '\n'))
			buf_addc(&b, msg[i]);
	*len_r = b.len;
	return buf_steal(&b);
}

/* Every dump in dir, past the sink's 8 lines of its own (5 X- lines and its
 * Received: header), equals want (the sink ends each dump with one more
 * empty line); returns how many do. */
static size_t
big_check_dumps(const char *dir, const char *want, size_t wlen)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t ok = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char *p, *data, *q;
		size_t len;
		int lines = 0;

		if (e->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		assert_int_equal(file_read(p, 1 << 30, &data, &len), 0);
		for (q = data; lines < 8 && (q = memchr(q, '\n', len - (size_t)(q - data))); q++)
			lines++;
		assert_int_equal(lines, 8);
		len -= (size_t)(q - data);
		if (len == wlen + 1 && memcmp(q, want, wlen) == 0 && q[wlen] == '\n')
			ok++;
		else
			print_error("%s: %zu bytes, want %zu\n", e->d_name, len, wlen);
		free(data);
		free(p);
	}
	closedir(d);
	return ok;
}

/* ncopies of a message of `size` bytes over nconn connections: each copy
 * arrives byte for byte. */
static void
big_send(size_t size, int nparts, size_t ncopies, int nconn)
{
	struct relay_config cfg;
	struct items it;
	struct sink s;
	char *hosts[1], *msg = big_message(size, nparts, (uint32_t)size), *want;
	size_t wlen, sent = 0, files, exact;

	sink_start(&s, NULL);
	hosts[0] = s.host;
	config_init(&cfg, hosts, 1, 30000);
	items_make(&it, ncopies, msg, size);
	assert_int_equal(relay_send_parallel(&cfg, it.v, it.n, nconn, on_done, &it), 0);
	for (size_t i = 0; i < it.n; i++)
		sent += it.v[i].outcome == RELAY_SENT;
	files = wait_files(s.dir, ncopies);
	want = big_expected(msg, size, &wlen);
	exact = big_check_dumps(s.dir, want, wlen);
	free(want);
	free(msg);
	items_free(&it);
	sink_stop(&s);
	assert_int_equal(sent, ncopies);
	assert_int_equal(files, ncopies);
	assert_int_equal(exact, ncopies);
}

/* Around the gathering limit (256 KB) and twice it. */
static void
test_exact_boundaries(void **state)
{
	static const size_t sizes[] = { 256 * 1024 - 1, 256 * 1024, 256 * 1024 + 1,
	    512 * 1024 - 1, 512 * 1024 + 1 };

	for (size_t i = 0; i < nitems(sizes); i++)
		big_send(sizes[i], 2, 6, 3);
}

/* 32 MB, four binary parts, 4 copies over 4 connections. */
static void
test_exact_large(void **state)
{
	big_send(32 * 1024 * 1024, 4, 4, 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parallel_200),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_failover),
		cmocka_unit_test(test_no_host),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_bare_lf),
		cmocka_unit_test(test_sessions_cut),
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_maildir),
		cmocka_unit_test(test_exact_boundaries),
		cmocka_unit_test(test_exact_large),
	};

	signal(SIGALRM, on_alarm);
	alarm(TEST_ALARM_S);
	relay_global_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
