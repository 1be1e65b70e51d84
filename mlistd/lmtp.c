/*
 * lmtp.c — LMTP server (RFC 2033) streaming each message into the spool.
 *
 * A session reads the socket through one buffer; commands are lines of at
 * most LMTP_LINE_MAX bytes (longer: 500 5.5.2, the rest of the line is
 * discarded). Replies are buffered and written when the session would
 * block on input, which is what PIPELINING (RFC 2920) needs: a client may
 * send MAIL, RCPT..., DATA in one packet and gets the replies together.
 *
 * DATA is decoded byte by byte by a small state machine (lmtp_data_feed),
 * so input split anywhere gives the same result. Only CR LF "." CR LF ends
 * the data (RFC 5321 4.1.1.4); the state "beginning of line" is entered
 * only after CR LF, so a bare LF or bare CR can never start the final dot
 * ("\n.\n", "\r.\r", "\n.\r\n" stay inside the message: no SMTP smuggling).
 * Dot-unstuffing (RFC 5321 4.5.2) removes the first character of a line
 * that starts with "." and has more characters. CR LF is stored as LF; a
 * bare LF is stored as LF (a line break of the stored message); a bare CR
 * is stored unchanged. The relay must therefore dot-stuff and use CR LF
 * again when it sends the message on.
 *
 * Durability: the per-recipient 250 is written only after
 * spool_writer_commit() returned 0. A message over max_size is still read
 * up to its final dot but no longer written, then aborted (552 for each
 * recipient). Write or commit failures abort the temporary file and answer
 * 451 4.3.0 (452 4.3.1 when the disk is full) for each recipient; a DATA
 * that cannot even create its spool file is answered with one 451/452.
 *
 * Slow clients: three clocks bound how long a session holds one of the
 * max_clients slots. timeout_s bounds every wait for input; the session as
 * a whole ends at session_deadline_s; and a request in progress (a command
 * line once its first byte came, or the data after 354) must keep up
 * min_rate bytes per second once it has lasted LMTP_RATE_GRACE_S (or
 * timeout_s if shorter): its deadline is start + grace + bytes/min_rate.
 * Whichever comes first ends the session with 421 4.4.2; data not yet
 * complete is aborted, never acknowledged. Waiting between requests (a
 * connection cached by the MTA) counts against the timeout and the session
 * deadline, and once the server had to turn a client away (every slot
 * taken), an idle session keeps at most LMTP_BUSY_IDLE_MS: clients that
 * connect and say nothing cannot hold the slots either.
 *
 * Log: one line per message, "lmtp id= from= nrcpt= size= status=".
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lmtp.h"
#include "log.h"
#include "spool.h"
#include "util.h"

#define LMTP_ADDR_MAX		512	/* longest envelope address accepted */
#define LMTP_MAX_ERRORS		20	/* syntax/sequence errors before 421 */
#define LMTP_DEFAULT_TIMEOUT	300

/* Results of reading: > 0 something to work on, <= 0 the session ends. */
enum lmtp_io {
	IO_LINE = 2,		/* a command line is in s->line */
	IO_OK = 1,		/* the input buffer has bytes */
	IO_EOF = 0,
	IO_ERR = -1,
	IO_TIMEOUT = -2,
	IO_STOP = -3,		/* the server is stopping */
	IO_LONG = -4,		/* command line too long (not fatal) */
	IO_DEADLINE = -5,	/* the session lasted session_deadline_s */
	IO_SLOW = -6,		/* a request came slower than min_rate */
	IO_RECHECK = -7,	/* (internal) wake up to look at the server's load */
};

#define LMTP_RATE_GRACE_S	10	/* a request's time before its rate counts */
#define LMTP_BUSY_IDLE_MS	2000	/* idle time left to a session when clients wait */

struct lmtp_sess {
	int				 fd;
	int				 stop_fd;	/* readable when the server stops; -1 if none */
	const struct lmtp_config	*cfg;
	struct spool			*sp;
	const struct lmtp_handler	*h;
	char				 in[16384];
	size_t				 in_pos, in_len;
	struct buf			 out;		/* replies not yet sent */
	char				 line[LMTP_LINE_MAX + 1];
	size_t				 line_len;
	int				 lhlo;		/* LHLO seen */
	char				*sender;	/* MAIL accepted ("" for <>) */
	char				**rcpts;
	size_t				 nrcpt;
	int				 errors;
	int				 done;
	const atomic_int		*pressed;	/* server: a client was turned away */
	int64_t				 idle_start;	/* ms: waiting for a request since */
	int64_t				 t_end;		/* ms: session deadline, 0 none */
	int64_t				 req_start;	/* ms: request in progress, 0 none */
	size_t				 req_bytes;	/* received for it so far */
};

enum lmtp_dstate { D_BOL, D_DOT, D_DOT_CR, D_MID, D_CR };

struct lmtp_data {
	struct spool_writer	*w;
	size_t			 max_size;
	enum lmtp_dstate	 state;
	char			 out[65536];
	size_t			 out_len;
	size_t			 size;		/* decoded bytes, also those not written */
	int			 too_big;
	int			 werr;		/* errno of the first failed write, 0 if none */
};

/* ---- output ---- */

static void lmtp_reply(struct lmtp_sess *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
lmtp_reply(struct lmtp_sess *s, const char *fmt, ...)
{
	char line[LMTP_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	buf_adds(&s->out, line);
	buf_add(&s->out, "\r\n", 2);
}

static int
lmtp_send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t r = send(fd, p, n, MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
lmtp_flush(struct lmtp_sess *s)
{
	int rc = lmtp_send_all(s->fd, s->out.data, s->out.len);

	buf_reset(&s->out);
	if (rc == -1)
		s->done = 1;
	return rc;
}

/* ---- input ---- */

static int
lmtp_timeout_ms(const struct lmtp_config *cfg)
{
	return (cfg->timeout_s > 0 ? cfg->timeout_s : LMTP_DEFAULT_TIMEOUT) * 1000;
}

static int64_t
lmtp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A request starts (its first byte is here, or 354 was sent). */
static void
lmtp_request_start(struct lmtp_sess *s)
{
	s->req_start = lmtp_now_ms();
	s->req_bytes = 0;
}

/* When the request in progress must be complete (ms), 0 when unbounded. */
static int64_t
lmtp_request_deadline(const struct lmtp_sess *s)
{
	int64_t grace = lmtp_timeout_ms(s->cfg);

	if (s->req_start == 0 || s->cfg->min_rate == 0)
		return 0;
	if (grace > LMTP_RATE_GRACE_S * 1000)
		grace = LMTP_RATE_GRACE_S * 1000;
	return s->req_start + grace + (int64_t)(s->req_bytes * 1000 / s->cfg->min_rate);
}

/* How long the next wait may last (ms) and which clock ends it. An idle
 * session (between requests) of a server that had to turn a client away
 * keeps at most LMTP_BUSY_IDLE_MS: idle connections cannot hold every slot
 * either; it looks at the server's load every second. */
static int
lmtp_wait_ms(const struct lmtp_sess *s, enum lmtp_io *why_r)
{
	int64_t t = lmtp_now_ms(), wait = lmtp_timeout_ms(s->cfg), req = lmtp_request_deadline(s);

	*why_r = IO_TIMEOUT;
	if (s->t_end && s->t_end - t < wait) {
		wait = s->t_end - t;
		*why_r = IO_DEADLINE;
	}
	if (req && req - t < wait) {
		wait = req - t;
		*why_r = IO_SLOW;
	}
	if (s->req_start == 0 && s->pressed && atomic_load(s->pressed) &&
	    s->idle_start + LMTP_BUSY_IDLE_MS - t < wait) {
		wait = s->idle_start + LMTP_BUSY_IDLE_MS - t;
		*why_r = IO_TIMEOUT;
	} else if (s->req_start == 0 && s->pressed && wait > 1000) {
		wait = 1000;
		*why_r = IO_RECHECK;
	}
	return wait > 0 ? (int)wait : 0;
}

/* Wait for input (flushing replies first) and refill the buffer. With
 * watch_stop, a stopping server interrupts the wait (IO_STOP). */
static enum lmtp_io
lmtp_fill(struct lmtp_sess *s, int watch_stop)
{
	struct pollfd pfd[2] = { { s->fd, POLLIN, 0 }, { s->stop_fd, POLLIN, 0 } };
	nfds_t nfds = watch_stop && s->stop_fd != -1 ? 2 : 1;
	enum lmtp_io why;
	ssize_t r;

	if (s->out.len > 0 && lmtp_flush(s) == -1)
		return IO_ERR;
	for (;;) {
		int n = poll(pfd, nfds, lmtp_wait_ms(s, &why));

		if ((n == -1 && errno == EINTR) || (n == 0 && why == IO_RECHECK))
			continue;
		if (n <= 0)
			return n == 0 ? why : IO_ERR;
		if (pfd[0].revents)
			break;
		if (nfds == 2 && pfd[1].revents)
			return IO_STOP;
	}
	do
		r = read(s->fd, s->in, sizeof s->in);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return r == 0 ? IO_EOF : IO_ERR;
	s->in_pos = 0;
	s->in_len = (size_t)r;
	s->req_bytes += (size_t)r;
	return IO_OK;
}

/* Read one command line into s->line (LF ends it, a CR before it is
 * dropped). IO_LINE, IO_LONG (discarded), or an end of session. */
static enum lmtp_io
lmtp_getline(struct lmtp_sess *s)
{
	int overflow = 0;
	char *nl = NULL;

	s->line_len = 0;
	s->req_start = 0;	/* idle until the line's first byte */
	s->idle_start = lmtp_now_ms();
	while (nl == NULL) {
		char *start = s->in + s->in_pos;
		size_t take;

		if (s->in_pos == s->in_len) {
			enum lmtp_io r = lmtp_fill(s, s->line_len == 0 && !overflow);

			if (r != IO_OK)
				return r;
			continue;
		}
		if (s->req_start == 0)
			lmtp_request_start(s);
		nl = memchr(start, '\n', s->in_len - s->in_pos);
		take = nl ? (size_t)(nl - start) : s->in_len - s->in_pos;
		if (!overflow && s->line_len + take < LMTP_LINE_MAX) {
			memcpy(s->line + s->line_len, start, take);
			s->line_len += take;
		} else
			overflow = 1;
		s->in_pos += take + (nl != NULL);
	}
	if (s->line_len > 0 && s->line[s->line_len - 1] == '\r')
		s->line_len--;
	s->line[s->line_len] = '\0';
	return overflow ? IO_LONG : IO_LINE;
}

/* How a session ends on one of our clocks: the 421 text and the log reason. */
static const struct {
	enum lmtp_io	 io;
	const char	*status, *text, *reason;
} lmtp_ends[] = {
	{ IO_TIMEOUT, "4.4.2", "Timeout", "timeout" },
	{ IO_DEADLINE, "4.4.2", "Session time limit reached", "session-deadline" },
	{ IO_SLOW, "4.4.2", "Data too slow", "too-slow" },
	{ IO_STOP, "4.3.2", "Shutting down", "stopping" },
};

static const char *
lmtp_end_reason(enum lmtp_io r)
{
	for (size_t i = 0; i < nitems(lmtp_ends); i++)
		if (lmtp_ends[i].io == r)
			return lmtp_ends[i].reason;
	return r == IO_EOF ? "eof" : "error";
}

/* Say 421 when the session ends on one of our clocks. */
static void lmtp_reply_421(struct lmtp_sess *s, enum lmtp_io r);

/* ---- transaction state ---- */

static void
lmtp_txn_reset(struct lmtp_sess *s)
{
	for (size_t i = 0; i < s->nrcpt; i++)
		free(s->rcpts[i]);
	free(s->rcpts);
	free(s->sender);
	s->rcpts = NULL;
	s->sender = NULL;
	s->nrcpt = 0;
}

static const char *
lmtp_hostname(const struct lmtp_sess *s)
{
	return s->cfg->hostname ? s->cfg->hostname : "localhost";
}

/* A syntax or sequence error; too many of them end the session. */
static void
lmtp_error(struct lmtp_sess *s, const char *reply)
{
	lmtp_reply(s, "%s", reply);
	if (++s->errors >= LMTP_MAX_ERRORS) {
		lmtp_reply(s, "421 4.7.0 %s Too many errors, closing", lmtp_hostname(s));
		s->done = 1;
	}
}

/* ---- parsing ---- */

/* Parse "<addr>" at *p; *addr_r is a new string without the brackets and
 * *p moves past '>'. Quoted local parts may contain '>'. -1: bad syntax. */
static int
lmtp_parse_path(const char **p, char **addr_r)
{
	const char *s = *p, *start;
	int quoted = 0;

	if (*s++ != '<')
		return -1;
	for (start = s; *s && (quoted || *s != '>'); s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return -1;
		if (quoted && *s == '\\' && s[1] != '\0')
			s++;
		else if (*s == '"')
			quoted = !quoted;
	}
	if (*s != '>' || (size_t)(s - start) > LMTP_ADDR_MAX)
		return -1;
	*addr_r = xstrndup(start, (size_t)(s - start));
	*p = s + 1;
	return 0;
}

/* "FROM:" / "TO:" then optional spaces then a path; *rest_r points after it. */
static int
lmtp_parse_arg(const char *args, const char *prefix, char **addr_r, const char **rest_r)
{
	const char *p = args;

	if (!str_has_prefix_ci(p, prefix))
		return -1;
	p += strlen(prefix);
	while (*p == ' ')
		p++;
	if (lmtp_parse_path(&p, addr_r) == -1)
		return -1;
	if (*p != '\0' && *p != ' ') {
		free(*addr_r);
		return -1;
	}
	*rest_r = p;
	return 0;
}

/* MAIL parameters: SIZE=n and BODY=7BIT|8BITMIME. Returns NULL when they
 * are acceptable, else the reply to send. */
static const char *
lmtp_mail_params(struct lmtp_sess *s, const char *rest)
{
	char *copy = xstrdup(rest), *save = NULL, *tok;
	const char *bad = NULL;

	for (tok = strtok_r(copy, " ", &save); tok && !bad; tok = strtok_r(NULL, " ", &save)) {
		if (str_has_prefix_ci(tok, "SIZE=")) {
			char *end;
			unsigned long long n;

			errno = 0;
			n = strtoull(tok + 5, &end, 10);
			if (tok[5] < '0' || tok[5] > '9' || *end != '\0' || errno == ERANGE)
				bad = "501 5.5.4 Bad SIZE parameter";
			else if (s->cfg->max_size > 0 && n > s->cfg->max_size)
				bad = "552 5.3.4 Message size exceeds fixed maximum message size";
		} else if (strcasecmp(tok, "BODY=7BIT") != 0 && strcasecmp(tok, "BODY=8BITMIME") != 0)
			bad = "555 5.5.4 Unsupported parameter";
	}
	free(copy);
	return bad;
}

/* ---- commands ---- */

static void
lmtp_cmd_lhlo(struct lmtp_sess *s, const char *args)
{
	if (str_is_empty(args)) {
		lmtp_error(s, "501 5.5.4 Syntax: LHLO hostname");
		return;
	}
	lmtp_txn_reset(s);
	s->lhlo = 1;
	lmtp_reply(s, "250-%s", lmtp_hostname(s));
	lmtp_reply(s, "250-PIPELINING");
	lmtp_reply(s, "250-ENHANCEDSTATUSCODES");
	lmtp_reply(s, "250-8BITMIME");
	lmtp_reply(s, "250 SIZE %zu", s->cfg->max_size);
}

static void
lmtp_cmd_mail(struct lmtp_sess *s, const char *args)
{
	const char *rest, *bad;
	char *addr;

	if (!s->lhlo || s->sender != NULL) {
		lmtp_error(s, s->lhlo ? "503 5.5.1 Error: nested MAIL command" :
		    "503 5.5.1 Error: send LHLO first");
		return;
	}
	if (lmtp_parse_arg(args, "FROM:", &addr, &rest) == -1) {
		lmtp_error(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	if ((bad = lmtp_mail_params(s, rest)) != NULL) {
		free(addr);
		lmtp_reply(s, "%s", bad);
		return;
	}
	s->sender = addr;
	lmtp_reply(s, "250 2.1.0 Ok");
}

static void
lmtp_add_rcpt(struct lmtp_sess *s, char *addr)
{
	int r = s->h->rcpt_check ? s->h->rcpt_check(s->h->arg, addr) : 0;

	if (r == 0) {
		s->rcpts = xrealloc(s->rcpts, (s->nrcpt + 1) * sizeof *s->rcpts);
		s->rcpts[s->nrcpt++] = addr;
		lmtp_reply(s, "250 2.1.5 Ok");
		return;
	}
	if (r > 0)
		lmtp_reply(s, "550 5.1.1 <%s>: Recipient address rejected: no such list", addr);
	else
		lmtp_reply(s, "451 4.3.0 <%s>: Temporary lookup failure, try again later", addr);
	free(addr);
}

static void
lmtp_cmd_rcpt(struct lmtp_sess *s, const char *args)
{
	const char *rest;
	char *addr;

	if (s->sender == NULL) {
		lmtp_error(s, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (lmtp_parse_arg(args, "TO:", &addr, &rest) == -1) {
		lmtp_error(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	if (addr[0] == '\0' || !str_is_empty(rest) || s->nrcpt >= LMTP_MAX_RCPT) {
		lmtp_reply(s, "%s", addr[0] == '\0' ? "501 5.1.3 Bad recipient address syntax" :
		    !str_is_empty(rest) ? "555 5.5.4 Unsupported parameter" :
		    "452 4.5.3 Too many recipients");
		free(addr);
		return;
	}
	lmtp_add_rcpt(s, addr);
}

static const char *
lmtp_tempfail_reply(int err)
{
	if (err == ENOSPC || err == EDQUOT)
		return "452 4.3.1 Insufficient system storage";
	return "451 4.3.0 Temporary local problem, try again later";
}

static void
lmtp_log(struct lmtp_sess *s, const char *id, size_t size, const char *status,
    const char *reason)
{
	log_info("lmtp id=%s from=<%s> nrcpt=%zu size=%zu status=%s%s%s", id,
	    s->sender ? s->sender : "", s->nrcpt, size, status,
	    reason ? " reason=" : "", reason ? reason : "");
}

/* ---- DATA ---- */

static void
lmtp_data_flush(struct lmtp_data *d)
{
	if (d->out_len > 0 && !d->too_big && !d->werr &&
	    spool_writer_write(d->w, d->out, d->out_len) == -1)
		d->werr = errno ? errno : EIO;
	d->out_len = 0;
}

static void
lmtp_data_emit(struct lmtp_data *d, char c)
{
	d->size++;
	if (d->too_big)
		return;
	if (d->max_size > 0 && d->size > d->max_size) {
		d->too_big = 1;
		return;
	}
	d->out[d->out_len++] = c;
	if (d->out_len == sizeof d->out)
		lmtp_data_flush(d);
}

/* One byte of DATA. Returns 1 when it completed CR LF "." CR LF. */
static int
lmtp_data_feed(struct lmtp_data *d, char c)
{
	switch (d->state) {
	case D_BOL:		/* just after CR LF (or the 354) */
		if (c == '.') {
			d->state = D_DOT;
			return 0;
		}
		break;
	case D_DOT:		/* "." at the start of a line: dropped unless CR LF follows */
		if (c == '\r') {
			d->state = D_DOT_CR;
			return 0;
		}
		break;
	case D_DOT_CR:
		if (c == '\n')
			return 1;
		lmtp_data_emit(d, '\r');	/* ".\r" then not LF: a bare CR */
		break;
	case D_CR:
		if (c == '\n') {
			lmtp_data_emit(d, '\n');
			d->state = D_BOL;
			return 0;
		}
		lmtp_data_emit(d, '\r');	/* bare CR, kept */
		break;
	case D_MID:
		break;
	}
	if (c == '\r')
		d->state = D_CR;
	else {
		lmtp_data_emit(d, c);
		d->state = D_MID;
	}
	return 0;
}

/* Read the data up to the final dot. IO_OK at the dot, else an end of session. */
static enum lmtp_io
lmtp_data_read(struct lmtp_sess *s, struct lmtp_data *d)
{
	for (;;) {
		if (s->in_pos == s->in_len) {
			enum lmtp_io r = lmtp_fill(s, 0);

			if (r != IO_OK)
				return r;
		}
		while (s->in_pos < s->in_len)
			if (lmtp_data_feed(d, s->in[s->in_pos++])) {
				lmtp_data_flush(d);
				return IO_OK;
			}
	}
}

static void
lmtp_reply_each(struct lmtp_sess *s, const char *reply)
{
	for (size_t i = 0; i < s->nrcpt; i++)
		lmtp_reply(s, "%s", reply);
}

/* The final dot was seen: commit, then one reply per recipient. */
static void
lmtp_data_finish(struct lmtp_sess *s, struct lmtp_data *d)
{
	char id[SPOOL_ID_SIZE];
	int err;

	if (d->too_big) {
		spool_writer_abort(&d->w);
		lmtp_reply_each(s, "552 5.3.4 Message size exceeds fixed maximum message size");
		lmtp_log(s, "-", d->size, "rejected", "too-big");
		return;
	}
	if (d->werr == 0 && spool_writer_commit(&d->w, id) == 0) {
		for (size_t i = 0; i < s->nrcpt; i++)
			lmtp_reply(s, "250 2.0.0 %s queued", id);
		lmtp_log(s, id, d->size, "queued", NULL);
		if (s->h->spooled)
			s->h->spooled(s->h->arg, id);
		return;
	}
	err = d->werr ? d->werr : errno;
	spool_writer_abort(&d->w);	/* after a failed commit d->w is already NULL */
	lmtp_reply_each(s, lmtp_tempfail_reply(err));
	lmtp_log(s, "-", d->size, "tempfail", strerror(err));
}

static void
lmtp_cmd_data(struct lmtp_sess *s, const char *args)
{
	struct lmtp_data *d;
	enum lmtp_io r;

	if (!str_is_empty(args) || s->sender == NULL || s->nrcpt == 0) {
		lmtp_error(s, !str_is_empty(args) ? "501 5.5.4 Syntax: DATA" : s->sender == NULL ?
		    "503 5.5.1 Error: need MAIL command" : "503 5.5.1 Error: no valid recipients");
		return;
	}
	d = xcalloc(1, sizeof *d);
	d->max_size = s->cfg->max_size;
	if (spool_writer_new(s->sp, s->sender, (const char *const *)s->rcpts, s->nrcpt,
	    &d->w) == -1) {
		int err = errno;

		lmtp_reply(s, "%s", lmtp_tempfail_reply(err));
		lmtp_log(s, "-", 0, "tempfail", strerror(err));
	} else {
		lmtp_reply(s, "354 End data with <CR><LF>.<CR><LF>");
		lmtp_request_start(s);
		if ((r = lmtp_data_read(s, d)) == IO_OK)
			lmtp_data_finish(s, d);
		else {
			spool_writer_abort(&d->w);
			lmtp_log(s, "-", d->size, "aborted", lmtp_end_reason(r));
			lmtp_reply_421(s, r);
			s->done = 1;
		}
	}
	free(d);
	lmtp_txn_reset(s);
}

static void
lmtp_cmd_rset(struct lmtp_sess *s, const char *args)
{
	lmtp_txn_reset(s);
	lmtp_reply(s, "250 2.0.0 Ok");
}

static void
lmtp_cmd_noop(struct lmtp_sess *s, const char *args)
{
	lmtp_reply(s, "250 2.0.0 Ok");
}

static void
lmtp_cmd_vrfy(struct lmtp_sess *s, const char *args)
{
	lmtp_reply(s, "252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery");
}

static void
lmtp_cmd_quit(struct lmtp_sess *s, const char *args)
{
	lmtp_reply(s, "221 2.0.0 %s Bye", lmtp_hostname(s));
	s->done = 1;
}

static const struct {
	const char	*verb;
	void		(*fn)(struct lmtp_sess *, const char *);
} lmtp_cmds[] = {
	{ "LHLO", lmtp_cmd_lhlo },
	{ "MAIL", lmtp_cmd_mail },
	{ "RCPT", lmtp_cmd_rcpt },
	{ "DATA", lmtp_cmd_data },
	{ "RSET", lmtp_cmd_rset },
	{ "NOOP", lmtp_cmd_noop },
	{ "VRFY", lmtp_cmd_vrfy },
	{ "QUIT", lmtp_cmd_quit },
};

static void
lmtp_command(struct lmtp_sess *s)
{
	const char *line = s->line;
	size_t vlen = strcspn(line, " ");

	if (strlen(line) != s->line_len) {
		lmtp_error(s, "500 5.5.2 Syntax error (NUL in command)");
		return;
	}
	for (size_t i = 0; i < nitems(lmtp_cmds); i++)
		if (vlen == strlen(lmtp_cmds[i].verb) &&
		    strncasecmp(line, lmtp_cmds[i].verb, vlen) == 0) {
			lmtp_cmds[i].fn(s, line[vlen] ? line + vlen + 1 : "");
			return;
		}
	lmtp_error(s, "500 5.5.1 Error: command not recognized");
}

/* ---- sessions ---- */

static void
lmtp_reply_421(struct lmtp_sess *s, enum lmtp_io r)
{
	for (size_t i = 0; i < nitems(lmtp_ends); i++)
		if (lmtp_ends[i].io == r)
			lmtp_reply(s, "421 %s %s %s, closing", lmtp_ends[i].status,
			    lmtp_hostname(s), lmtp_ends[i].text);
}

static void
lmtp_serve(int fd, int stop_fd, const atomic_int *pressed, const struct lmtp_config *cfg,
    struct spool *sp, const struct lmtp_handler *h)
{
	struct lmtp_sess *s = xcalloc(1, sizeof *s);
	struct timeval tv = { .tv_sec = lmtp_timeout_ms(cfg) / 1000 };

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);	/* bound blocked writes */
	s->fd = fd;
	s->stop_fd = stop_fd;
	s->pressed = pressed;
	s->cfg = cfg;
	s->sp = sp;
	s->h = h;
	if (cfg->session_deadline_s > 0)
		s->t_end = lmtp_now_ms() + (int64_t)cfg->session_deadline_s * 1000;
	buf_init(&s->out);
	lmtp_reply(s, "220 %s LMTP mlistd ready", lmtp_hostname(s));
	while (!s->done) {
		enum lmtp_io r = lmtp_getline(s);

		if (r == IO_LINE)
			lmtp_command(s);
		else if (r == IO_LONG)
			lmtp_error(s, "500 5.5.2 Error: line too long");
		else {
			if (r != IO_STOP && r != IO_EOF && r != IO_ERR)
				log_info("lmtp status=closed reason=%s", lmtp_end_reason(r));
			lmtp_reply_421(s, r);
			s->done = 1;
		}
	}
	if (s->out.len > 0)
		lmtp_flush(s);
	lmtp_txn_reset(s);
	buf_free(&s->out);
	free(s);
}

void
lmtp_session(int fd, const struct lmtp_config *cfg, struct spool *sp,
    const struct lmtp_handler *h)
{
	lmtp_serve(fd, -1, NULL, cfg, sp, h);
	close(fd);
}

/* ---- listening ---- */

static int
lmtp_listen_unix(const char *path, int *fd_r, const char **error_r)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof sun.sun_path) {
		*error_r = "unix socket path too long";
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);	/* stale socket of a previous run */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1 || listen(fd, SOMAXCONN) == -1) {
		int saved = errno;

		*error_r = "cannot listen on the unix socket";
		if (fd != -1)
			close(fd);
		errno = saved;
		return -1;
	}
	*fd_r = fd;
	return 0;
}

/* Split "host:port" or "[v6]:port"; host may be empty (any address). */
static int
lmtp_split_addr(const char *addr, char **host_r, char **port_r)
{
	const char *colon;

	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (close == NULL || close[1] != ':')
			return -1;
		*host_r = xstrndup(addr + 1, (size_t)(close - addr - 1));
		colon = close + 1;
	} else {
		if ((colon = strrchr(addr, ':')) == NULL)
			return -1;
		*host_r = xstrndup(addr, (size_t)(colon - addr));
	}
	*port_r = xstrdup(colon + 1);
	return 0;
}

static int
lmtp_bind_inet(const struct addrinfo *ai)
{
	int fd, one = 1;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 || listen(fd, SOMAXCONN) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
lmtp_listen(const char *addr, int *fd_r, const char **error_r)
{
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	    .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
	char *host, *port;
	int fd, rc;

	if (strncmp(addr, "unix:", 5) == 0)
		return lmtp_listen_unix(addr + 5, fd_r, error_r);
	if (lmtp_split_addr(addr, &host, &port) == -1) {
		*error_r = "bad listen address (host:port, [v6]:port or unix:/path)";
		errno = EINVAL;
		return -1;
	}
	rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	free(host);
	free(port);
	if (rc != 0) {
		*error_r = "cannot resolve the listen address";
		errno = EINVAL;
		return -1;
	}
	fd = lmtp_bind_inet(res);
	freeaddrinfo(res);
	if (fd == -1) {
		*error_r = "cannot listen on the address";
		return -1;
	}
	*fd_r = fd;
	return 0;
}

/* ---- server ---- */

struct lmtp_slot {
	struct lmtp_server	*srv;
	pthread_t		 th;
	int			 fd;
	int			 used;		/* a thread was started and not joined yet */
	int			 done;		/* that thread has finished its session */
};

struct lmtp_server {
	int			 listen_fd;
	int			 stop_pipe[2];	/* readable once lmtp_server_stop() began */
	struct lmtp_config	 cfg;
	struct lmtp_handler	 h;
	struct spool		*sp;
	pthread_t		 accept_th;
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;		/* a session finished */
	struct lmtp_slot	*slots;
	int			 nslots;
	atomic_int		 pressed;	/* a client was turned away, no slot freed since */
};

static void *
lmtp_client_main(void *arg)
{
	struct lmtp_slot *slot = arg;
	struct lmtp_server *srv = slot->srv;

	lmtp_serve(slot->fd, srv->stop_pipe[0], &srv->pressed, &srv->cfg, srv->sp, &srv->h);
	pthread_mutex_lock(&srv->lock);
	atomic_store(&srv->pressed, 0);		/* a slot is free again */
	close(slot->fd);	/* under the lock: stop() may shutdown() it */
	slot->fd = -1;
	slot->done = 1;
	pthread_cond_broadcast(&srv->cond);
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

/* Under the lock: join finished threads and return a free slot, or NULL. */
static struct lmtp_slot *
lmtp_free_slot(struct lmtp_server *srv)
{
	struct lmtp_slot *free_slot = NULL;

	for (int i = 0; i < srv->nslots; i++) {
		struct lmtp_slot *sl = &srv->slots[i];

		if (sl->used && sl->done) {
			pthread_join(sl->th, NULL);
			sl->used = 0;
		}
		if (!sl->used && free_slot == NULL)
			free_slot = sl;
	}
	return free_slot;
}

static void
lmtp_dispatch(struct lmtp_server *srv, int fd)
{
	struct lmtp_slot *sl;
	char busy[256];

	pthread_mutex_lock(&srv->lock);
	if ((sl = lmtp_free_slot(srv)) != NULL) {
		sl->fd = fd;
		sl->done = 0;
		sl->used = pthread_create(&sl->th, NULL, lmtp_client_main, sl) == 0;
	}
	pthread_mutex_unlock(&srv->lock);
	if (sl != NULL && sl->used)
		return;
	atomic_store(&srv->pressed, 1);	/* idle sessions now make room (lmtp_wait_ms) */
	log_warnx("lmtp status=busy reason=%s", sl ? "thread-create" : "max-clients");
	snprintf(busy, sizeof busy, "421 4.3.2 %s Too many connections, try again later\r\n",
	    srv->cfg.hostname ? srv->cfg.hostname : "localhost");
	send(fd, busy, strlen(busy), MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static void *
lmtp_accept_main(void *arg)
{
	struct lmtp_server *srv = arg;
	struct pollfd pfd[2] = { { srv->listen_fd, POLLIN, 0 }, { srv->stop_pipe[0], POLLIN, 0 } };

	for (;;) {
		int fd;

		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;
		if (!(pfd[0].revents & POLLIN))
			continue;
		fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd != -1)
			lmtp_dispatch(srv, fd);
		else if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			log_warn("lmtp accept");
			poll(NULL, 0, 100);	/* let descriptors free up */
		}
	}
	return NULL;
}

static void
lmtp_server_free(struct lmtp_server *srv)
{
	close(srv->stop_pipe[0]);
	close(srv->stop_pipe[1]);
	close(srv->listen_fd);
	pthread_mutex_destroy(&srv->lock);
	pthread_cond_destroy(&srv->cond);
	free(srv->slots);
	free(srv);
}

int
lmtp_server_start(int listen_fd, const struct lmtp_config *cfg, struct spool *sp,
    const struct lmtp_handler *h, struct lmtp_server **srv_r, const char **error_r)
{
	struct lmtp_server *srv = xcalloc(1, sizeof *srv);
	pthread_condattr_t ca;

	atomic_init(&srv->pressed, 0);

	/* Non-blocking: a connection aborted between poll() and accept()
	 * must not leave the accept thread blocked where stop cannot wake it. */
	fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
	srv->listen_fd = listen_fd;
	srv->cfg = *cfg;
	srv->h = *h;
	srv->sp = sp;
	srv->nslots = cfg->max_clients > 0 ? cfg->max_clients : 1;
	srv->slots = xcalloc((size_t)srv->nslots, sizeof *srv->slots);
	for (int i = 0; i < srv->nslots; i++)
		srv->slots[i].srv = srv;
	pthread_mutex_init(&srv->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&srv->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pipe2(srv->stop_pipe, O_CLOEXEC) == -1) {
		srv->stop_pipe[0] = srv->stop_pipe[1] = -1;
		*error_r = "cannot create a pipe";
		lmtp_server_free(srv);
		return -1;
	}
	if ((errno = pthread_create(&srv->accept_th, NULL, lmtp_accept_main, srv)) != 0) {
		*error_r = "cannot create the accept thread";
		lmtp_server_free(srv);
		return -1;
	}
	*srv_r = srv;
	return 0;
}

/* Under the lock: is any session still running? */
static int
lmtp_sessions_running(const struct lmtp_server *srv)
{
	for (int i = 0; i < srv->nslots; i++)
		if (srv->slots[i].used && !srv->slots[i].done)
			return 1;
	return 0;
}

/* Wait up to the grace period, then cut the sessions still running. */
static void
lmtp_drain(struct lmtp_server *srv)
{
	int grace = srv->cfg.timeout_s > 0 && srv->cfg.timeout_s < LMTP_STOP_GRACE_S ?
	    srv->cfg.timeout_s : LMTP_STOP_GRACE_S;
	struct timespec dl;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += grace;
	pthread_mutex_lock(&srv->lock);
	while (lmtp_sessions_running(srv) &&
	    pthread_cond_timedwait(&srv->cond, &srv->lock, &dl) != ETIMEDOUT)
		;
	for (int i = 0; i < srv->nslots; i++)
		if (srv->slots[i].used && !srv->slots[i].done)
			shutdown(srv->slots[i].fd, SHUT_RDWR);
	pthread_mutex_unlock(&srv->lock);
}

void
lmtp_server_stop(struct lmtp_server **srvp)
{
	struct lmtp_server *srv = *srvp;

	if (srv == NULL)
		return;
	while (write(srv->stop_pipe[1], "x", 1) == -1 && errno == EINTR)
		;
	pthread_join(srv->accept_th, NULL);
	lmtp_drain(srv);
	for (int i = 0; i < srv->nslots; i++)
		if (srv->slots[i].used)
			pthread_join(srv->slots[i].th, NULL);
	lmtp_server_free(srv);
	*srvp = NULL;
}
