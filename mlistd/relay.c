/*
 * relay.c — outgoing SMTP through libesmtp (the only file that includes it).
 *
 * A call to relay_send*() turns the pending items into jobs (bare-LF messages
 * are converted to CRLF once per distinct buffer: libesmtp needs CRLF to find
 * the end of the header), cuts them into batches of at most
 * max_msgs_per_session, and runs one libesmtp session per batch: one message
 * per job with its own reverse path (VERP) and one recipient. libesmtp
 * pipelines when the server offers PIPELINING.
 *
 * Deciding an item (relay_decide): libesmtp reports a 250 recipient even when
 * the server rejects the message at the end of DATA, so the outcome is taken
 * from, in order, the MAIL reply (if 4xx/5xx), the RCPT reply (if 4xx/5xx),
 * then the final DATA reply (2xx sent, 4xx deferred, 5xx failed). An item is
 * decided from libesmtp's MAILSTATUS and MESSAGESENT events, as soon as the
 * server has answered, and swept once more when the session ends.
 *
 * Failures: smtp_start_session() returns 1 even after a timeout or a dropped
 * connection, so its value is not trusted; what counts is which items have
 * an outcome afterwards. Items left pending after a session that decided
 * nothing go to the next host; after a session that decided some, the rest
 * are tried again on the same host. When every host failed in a row they
 * become RELAY_DEFERRED with the last reason. An item whose DATA went out but
 * whose final reply was lost is therefore sent again (at-least-once).
 *
 * Connections: the nconn connections of a run are fibers of the calling
 * thread (fiber.h): one thread, sleeping only when every session waits for
 * its server, instead of one thread per connection woken by the kernel for
 * every reply. Work stealing: each connection takes the next batch.
 *
 * Speed: libesmtp writes in 2 KB chunks and never sets TCP_NODELAY, so with a
 * typical 2-20 KB message each end of DATA waits for a delayed ACK (Nagle):
 * about 40 ms per message, 22 messages/s per connection. libesmtp offers no
 * hook on its socket: interpose.c defines poll(), connect() and write() in
 * place of libc's, and each session installs its hooks (interpose.h) while
 * it runs: connect() sets TCP_NODELAY and bounds the connect by timeout_ms;
 * write() gathers a message's 2 KB pieces and sends them with the final
 * ".\r\n" in one system call (relay_write()); before any wait for the
 * server, what was gathered is sent (relay_before_wait()).
 *
 * Whether libesmtp really reaches those definitions is checked once, before
 * the first run (relay_selftest(): the symbol lookup, then a loopback
 * session that must go through all three). When it does not, the relay
 * runs stock libesmtp, one thread per connection, no hooks, and STARTTLS
 * capped at TLS 1.2 (the TLS 1.3 ordering fix lives in the interposed
 * poll()); it logs that it is degraded.
 *
 * Timeouts: libesmtp takes milliseconds and silently raises values below the
 * RFC 5321 minimums (minutes) unless Timeout_OVERRIDE_RFC2822_MINIMUM is set.
 * libesmtp keeps its error number per thread, so with fibers the reason of a
 * failed session (smtp_errno()) may be another session's; the outcome of
 * each item is its own. With fibers the done callback is never called
 * concurrently; with the fallback's threads it may be.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>	/* types only, for smtp_starttls_set_ctx() */
#include <auth-client.h>	/* before libesmtp.h: declares smtp_auth_set_context */
#include <libesmtp.h>

#include "fiber.h"
#include "interpose.h"
#include "log.h"
#include "relay.h"
#include "util.h"

#define RELAY_DEFAULT_TIMEOUT_MS	60000
#define RELAY_DEFAULT_MAX_MSGS		1000
#define RELAY_BATCHES_PER_CONN		4	/* work stealing granularity */
#define RELAY_GATHER_MAX		(256 * 1024)	/* bytes of a message held */

static struct relay_sess *relay_current(void);

/* ------------------------------------------------------------------------
 * Jobs and results.
 */

struct relay_job {
	struct relay_item	*item;
	const char		*data;	/* CRLF: item->data or owned */
	size_t			 len;
	char			*owned;	/* converted copy, freed with the run */
	smtp_message_t		 msg;	/* in the current session */
	smtp_recipient_t	 rcpt;
};

struct relay_run {			/* one relay_send*() call */
	const struct relay_config *cfg;
	int			 interposed; /* fibers and hooks; else threads */
	pthread_mutex_t		 lock;	/* next and active, with threads */
	struct relay_job	*jobs;
	size_t			 njobs;
	size_t			 batch;	/* jobs per session */
	size_t			 next;	/* first job of the next batch */
	size_t			 active; /* connections not retired */
	relay_done_fn		*done;
	void			*arg;
	SSL_CTX			*ssl_ctx; /* with cfg->ca_file, else NULL */
};

struct relay_worker {			/* one connection (fiber) */
	struct relay_run	*run;
	size_t			 host;	/* index of the host in use */
	char			 reason[256];	/* why the last session failed */
};

struct relay_sess {			/* one SMTP session */
	struct relay_run	*run;
	struct interpose_hooks	 hooks;	/* installed while it runs */
	int			 fd;	/* its socket once connected, else -1 */
	int			 gather; /* writes of a message go to out */
	struct buf		 out;	/* gathered, not yet sent */
	size_t			 out_off; /* of out, already sent */
	int			 flushing; /* in relay_send_gathered() */
	size_t			 decided;
	int			 auth_refused;	/* 535/534/538 to AUTH */
	char			 reason[160];	/* what went wrong, if known */
};

static void
relay_copy_text(char *dst, size_t size, const char *src)
{
	size_t n;

	snprintf(dst, size, "%s", src ? src : "");
	n = strlen(dst);
	while (n > 0 && (dst[n - 1] == '\r' || dst[n - 1] == '\n' || dst[n - 1] == ' '))
		dst[--n] = '\0';
}

/* Record an outcome and tell the caller. */
static void
relay_finish(struct relay_run *run, struct relay_job *job, enum relay_outcome o,
    int code, const char *enhanced, const char *text)
{
	struct relay_item *it = job->item;

	it->outcome = o;
	it->code = code;
	snprintf(it->enhanced, sizeof it->enhanced, "%s", enhanced ? enhanced : "");
	relay_copy_text(it->text, sizeof it->text, text);
	if (run->done == NULL)
		return;
	run->done(it, run->arg);
}

static void
relay_finish_status(struct relay_run *run, struct relay_job *job,
    const smtp_status_t *st)
{
	char enh[16] = "";
	enum relay_outcome o = RELAY_FAILED;

	if (st->code / 100 == 2)
		o = RELAY_SENT;
	else if (st->code / 100 == 4)
		o = RELAY_DEFERRED;
	if (st->enh_class != 0)
		snprintf(enh, sizeof enh, "%d.%d.%d", st->enh_class,
		    st->enh_subject, st->enh_detail);
	relay_finish(run, job, o, st->code, enh, st->text);
}

static int
relay_is_final(const smtp_status_t *st, int accept_2xx)
{
	int c = st != NULL ? st->code / 100 : 0;

	return c == 4 || c == 5 || (accept_2xx && c == 2);
}

/* The server reply that decides the job, or NULL while undecided. */
static const smtp_status_t *
relay_decide(const struct relay_job *job)
{
	const smtp_status_t *st;

	st = smtp_reverse_path_status(job->msg);
	if (relay_is_final(st, 0))
		return st;
	st = smtp_recipient_status(job->rcpt);
	if (relay_is_final(st, 0))
		return st;
	st = smtp_message_transfer_status(job->msg);
	return relay_is_final(st, 1) ? st : NULL;
}

/*
 * A refusal caused by our credentials, not by the message or the contact:
 * the relay answered 535/534/538 to AUTH (libesmtp then goes on without
 * it, and the relay's "relay denied" would fail every contact for good), or
 * it wants authentication it did not offer (530, 5.7.0). A 2xx is never one.
 */
static int
relay_auth_refusal(const struct relay_sess *rs, const smtp_status_t *st)
{
	if (rs->run->cfg->user == NULL || st->code / 100 == 2)
		return 0;
	return rs->auth_refused || st->code == 530 ||
	    (st->enh_class == 5 && st->enh_subject == 7 && st->enh_detail == 0);
}

static void
relay_check(struct relay_sess *rs, struct relay_job *job)
{
	const smtp_status_t *st;

	if (job == NULL || job->msg == NULL || job->item->outcome != RELAY_PENDING)
		return;
	if ((st = relay_decide(job)) == NULL)
		return;
	if (relay_auth_refusal(rs, st))
		relay_finish(rs->run, job, RELAY_DEFERRED, 0, "",
		    "authentication refused by the relay (check smtp_user and smtp_password_file)");
	else
		relay_finish_status(rs->run, job, st);
	rs->decided++;
}

/* ------------------------------------------------------------------------
 * One libesmtp session.
 */

static void
relay_tls_event(struct relay_sess *rs, int *ok, const char *what)
{
	if (ok == NULL)
		return;
	*ok = !rs->run->cfg->tls_verify;
	if (!*ok)
		snprintf(rs->reason, sizeof rs->reason, "TLS: %s", what);
}

static void
relay_event(smtp_session_t s, int ev, void *arg, ...)
{
	struct relay_sess *rs = arg;
	smtp_message_t m;
	va_list ap;

	va_start(ap, arg);
	switch (ev) {
	case SMTP_EV_MAILSTATUS:
		(void)va_arg(ap, const char *);
		/* FALLTHROUGH */
	case SMTP_EV_MESSAGESENT:
		m = va_arg(ap, smtp_message_t);
		relay_check(rs, smtp_message_get_application_data(m));
		break;
	case SMTP_EV_INVALID_PEER_CERTIFICATE:
		(void)va_arg(ap, long);
		relay_tls_event(rs, va_arg(ap, int *), "invalid peer certificate");
		break;
	case SMTP_EV_WEAK_CIPHER:
		(void)va_arg(ap, int);
		relay_tls_event(rs, va_arg(ap, int *), "weak cipher");
		break;
	case SMTP_EV_NO_PEER_CERTIFICATE:
		relay_tls_event(rs, va_arg(ap, int *), "no peer certificate");
		break;
	case SMTP_EV_WRONG_PEER_CERTIFICATE:
		relay_tls_event(rs, va_arg(ap, int *), "certificate name mismatch");
		break;
	case SMTP_EV_EXTNA_STARTTLS:
		snprintf(rs->reason, sizeof rs->reason, "server does not offer STARTTLS");
		break;
	default:
		break;
	}
	va_end(ap);
}

/* libesmtp's pull callback: the whole message in one piece. *ctx is ours,
 * freed by libesmtp with free(). */
static const char *
relay_message_cb(void **ctx, int *len, void *arg)
{
	const struct relay_job *job = arg;
	struct relay_sess *rs = relay_current();
	int *sent;

	if (*ctx == NULL && (*ctx = calloc(1, sizeof(int))) == NULL) {
		if (len != NULL)
			*len = 0;
		return NULL;
	}
	sent = *ctx;
	if (len == NULL) {		/* rewind */
		*sent = 0;
		return NULL;
	}
	/* The message is gathered (see write() above) from here to its end. */
	if (*sent) {
		if (rs != NULL)
			rs->gather = 0;
		*len = 0;
		return NULL;
	}
	if (rs != NULL && rs->fd != -1)
		rs->gather = rs->run->cfg->tls == RELAY_TLS_NONE;
	*sent = 1;
	*len = (int)job->len;
	return job->data;
}

static int
relay_auth_interact(auth_client_request_t req, char **result, int fields, void *arg)
{
	const struct relay_config *cfg = arg;

	for (int i = 0; i < fields; i++) {
		if (req[i].flags & AUTH_USER)
			result[i] = (char *)cfg->user;
		else if (req[i].flags & AUTH_PASS)
			result[i] = (char *)(cfg->password ? cfg->password : "");
		else
			result[i] = (char *)"";
	}
	return 1;
}

static int
relay_timeout_ms(const struct relay_config *cfg)
{
	return cfg->timeout_ms > 0 ? cfg->timeout_ms : RELAY_DEFAULT_TIMEOUT_MS;
}

/* The session the calling fiber runs (NULL: none, or the fallback), for the
 * message callback. */
static struct relay_sess *
relay_current(void)
{
	const struct interpose_hooks *h = interpose_hooks();

	return h != NULL ? h->arg : NULL;
}

/* Hook: the session's socket is connected (TCP_NODELAY set). */
static void
relay_connected(void *arg, int fd)
{
	((struct relay_sess *)arg)->fd = fd;
}

/* The session's socket is unusable: nothing more may reach the server, or
 * it could accept a message with a hole in it (libesmtp drops a piece whose
 * write() failed and goes on with the next). */
static void
relay_sess_broken(struct relay_sess *rs)
{
	int saved = errno;

	buf_reset(&rs->out);
	rs->out_off = 0;
	(void)shutdown(rs->fd, SHUT_RDWR);
	errno = saved;
}

/* Wait until the socket takes more; 0, or -1 with errno. The wait must not
 * run relay_before_wait(): rs->flushing says a flush is under way. */
static int
relay_wait_writable(struct relay_sess *rs)
{
	struct pollfd pfd = { .fd = rs->fd, .events = POLLOUT };
	int k;

	while ((k = poll(&pfd, 1, relay_timeout_ms(rs->run->cfg))) == -1 && errno == EINTR)
		;
	if (k == 0)
		errno = ETIMEDOUT;
	return k > 0 ? 0 : -1;
}

/*
 * Send what was gathered (from rs->out_off on), then as much of p[0..n) as
 * the same call takes; returns the bytes of p sent, or -1 (the session is
 * then broken: relay_sess_broken()). A partial send keeps its place in
 * rs->out_off, so nothing is sent twice whoever calls next; EAGAIN waits
 * for POLLOUT (within the fiber) and goes on.
 */
static ssize_t
relay_send_gathered(struct relay_sess *rs, const void *p, size_t n)
{
	ssize_t r;

	rs->flushing = 1;
	while (rs->out_off < rs->out.len) {
		size_t left = rs->out.len - rs->out_off;
		struct iovec iov[2] = { { rs->out.data + rs->out_off, left }, { (void *)p, n } };
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = n > 0 ? 2 : 1 };

		r = sendmsg(rs->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r >= 0 && (size_t)r < left) {
			rs->out_off += (size_t)r;
			continue;
		}
		if (r >= 0) {
			buf_reset(&rs->out);
			rs->out_off = 0;
			rs->flushing = 0;
			return r - (ssize_t)left;
		}
		if (errno == EINTR || ((errno == EAGAIN || errno == EWOULDBLOCK) &&
		    relay_wait_writable(rs) == 0))
			continue;
		relay_sess_broken(rs);
		rs->flushing = 0;
		return -1;
	}
	buf_reset(&rs->out);
	rs->out_off = 0;
	rs->flushing = 0;
	return 0;
}

/* libesmtp is about to wait for the server: nothing may be held back then
 * (BDAT without PIPELINING waits for the reply to each chunk). */
static void
relay_before_wait(void *arg)
{
	struct relay_sess *rs = arg;

	if (rs->out.len > 0 && !rs->flushing)
		(void)relay_send_gathered(rs, NULL, 0);
}

/*
 * Hook: write() by the session (interpose.c); -2 leaves it to libc.
 * libesmtp writes a message in 2 KB pieces, each a system call that, on a
 * loopback or LAN relay, costs more than the SMTP work. While a session
 * sends a message in clear (from the first call of the message callback to
 * its last), its writes are only gathered (up to RELAY_GATHER_MAX); the
 * next write, libesmtp's final ".\r\n", sends everything in one call.
 * Any wait for a reply before that sends them too (relay_before_wait()).
 * TLS sessions are left alone (OpenSSL's own writes).
 */
static ssize_t
relay_write(void *arg, int fd, const void *p, size_t n)
{
	struct relay_sess *rs = arg;

	if (fd != rs->fd || (!rs->gather && rs->out.len == 0))
		return -2;
	if (!rs->gather)
		return relay_send_gathered(rs, p, n);
	if (rs->out.len + n > RELAY_GATHER_MAX && relay_send_gathered(rs, NULL, 0) == -1)
		return -1;
	buf_add(&rs->out, p, n);
	return (ssize_t)n;
}

/* Server replies, to see whether AUTH was refused (libesmtp does not say). */
static void
relay_monitor(const char *buf, int len, int writing, void *arg)
{
	struct relay_sess *rs = arg;

	if (writing != SMTP_CB_READING || len < 4 || (buf[3] != ' ' && buf[3] != '-'))
		return;
	if (strncmp(buf, "535", 3) == 0 || strncmp(buf, "534", 3) == 0 ||
	    strncmp(buf, "538", 3) == 0) {
		rs->auth_refused = 1;
		snprintf(rs->reason, sizeof rs->reason, "authentication refused by the relay"
		    " (check smtp_user and smtp_password_file)");
	}
}

static int
relay_session_setup(smtp_session_t s, struct relay_sess *rs, const char *host,
    auth_context_t *auth_r)
{
	static const int stages[] = { Timeout_GREETING, Timeout_ENVELOPE,
	    Timeout_DATA, Timeout_TRANSFER, Timeout_DATA2 };
	const struct relay_config *cfg = rs->run->cfg;

	if (!smtp_set_server(s, host) ||
	    (cfg->helo != NULL && !smtp_set_hostname(s, cfg->helo)) ||
	    !smtp_set_eventcb(s, relay_event, rs))
		return -1;
	for (size_t i = 0; i < nitems(stages); i++)
		smtp_set_timeout(s, stages[i] | Timeout_OVERRIDE_RFC2822_MINIMUM,
		    relay_timeout_ms(cfg));
	if (cfg->tls == RELAY_TLS_STARTTLS) {
		if (!smtp_starttls_enable(s, Starttls_REQUIRED))
			return -1;
		if (rs->run->ssl_ctx != NULL)
			smtp_starttls_set_ctx(s, rs->run->ssl_ctx);
	}
	if (cfg->user == NULL)
		return 0;
	if (!smtp_set_monitorcb(s, relay_monitor, rs, 0) ||
	    (*auth_r = auth_create_context()) == NULL)
		return -1;
	auth_set_mechanism_flags(*auth_r, AUTH_PLUGIN_PLAIN, 0);
	auth_set_interact_cb(*auth_r, relay_auth_interact, (void *)cfg);
	return smtp_auth_set_context(s, *auth_r) ? 0 : -1;
}

static int
relay_add_job(smtp_session_t s, struct relay_job *job)
{
	const char *rp = job->item->reverse_path;

	job->msg = NULL;
	job->rcpt = NULL;
	if ((job->msg = smtp_add_message(s)) == NULL)
		return -1;
	smtp_message_set_application_data_release(job->msg, job, NULL);
	if (!smtp_set_reverse_path(job->msg, rp ? rp : "") ||
	    !smtp_set_messagecb(job->msg, relay_message_cb, job) ||
	    (job->rcpt = smtp_add_recipient(job->msg, job->item->rcpt)) == NULL)
		return -1;
	return 0;
}

static void
relay_session_reason(struct relay_sess *rs, const char *host, char *reason,
    size_t size)
{
	char buf[128];
	int err = smtp_errno();

	if (rs->reason[0] != '\0')
		snprintf(reason, size, "%s: %s", host, rs->reason);
	else if (err != 0)
		snprintf(reason, size, "%s: %s", host,
		    smtp_strerror(err, buf, sizeof buf));
	else
		snprintf(reason, size, "%s: session refused or ended early", host);
}

/* Run one session on host for jobs[0..n); returns how many were decided. */
static size_t
relay_session(struct relay_run *run, const char *host, struct relay_job **jobs,
    size_t n, char *reason, size_t rsize)
{
	struct relay_sess rs = { .run = run, .fd = -1, .hooks = { .arg = &rs,
	    .timeout_ms = relay_timeout_ms(run->cfg), .connected = relay_connected,
	    .write = relay_write, .before_wait = relay_before_wait } };
	auth_context_t auth = NULL;
	smtp_session_t s = smtp_create_session();

	if (s == NULL || relay_session_setup(s, &rs, host, &auth) == -1) {
		snprintf(reason, rsize, "%s: cannot set up the SMTP session", host);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (relay_add_job(s, jobs[i]) == -1) {
			relay_finish(run, jobs[i], RELAY_FAILED, 0, "",
			    "invalid address for the SMTP client");
			jobs[i]->msg = NULL;
			rs.decided++;
		}
	if (run->interposed)
		interpose_set_hooks(&rs.hooks);
	(void)smtp_start_session(s);	/* 1 even on failure: see below */
	interpose_set_hooks(NULL);
	buf_free(&rs.out);
	for (size_t i = 0; i < n; i++)
		relay_check(&rs, jobs[i]);
	relay_session_reason(&rs, host, reason, rsize);
out:
	for (size_t i = 0; i < n; i++)
		jobs[i]->msg = NULL;
	if (s != NULL)
		smtp_destroy_session(s);
	if (auth != NULL)
		auth_destroy_context(auth);
	return rs.decided;
}

/* ------------------------------------------------------------------------
 * Batches, failover, connections.
 */

static size_t
relay_compact(struct relay_job **jobs, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (jobs[i]->item->outcome == RELAY_PENDING)
			jobs[k++] = jobs[i];
	return k;
}

/*
 * Send one batch, with failover. Returns -1 when every host failed in a row
 * (the batch's pending items are then deferred with w->reason), else 0.
 */
static int
relay_batch(struct relay_worker *w, struct relay_job **jobs, size_t n)
{
	const struct relay_config *cfg = w->run->cfg;
	size_t failed = 0, decided;

	n = relay_compact(jobs, n);
	while (n > 0 && failed < cfg->nhosts) {
		const char *host = cfg->hosts[w->host];

		decided = relay_session(w->run, host, jobs, n, w->reason,
		    sizeof w->reason);
		n = relay_compact(jobs, n);
		if (n > 0 && decided == 0) {
			log_warnx("relay host=%s status=unreachable reason=\"%s\"",
			    host, w->reason);
			failed++;
			w->host = (w->host + 1) % cfg->nhosts;
		} else
			failed = 0;
	}
	for (size_t i = 0; i < n; i++)
		relay_finish(w->run, jobs[i], RELAY_DEFERRED, 0, "", w->reason);
	return n > 0 ? -1 : 0;
}

/* Take the next batch; 0 when there is none left. */
static size_t
relay_take(struct relay_run *run, struct relay_job **batch)
{
	size_t start, k;

	pthread_mutex_lock(&run->lock);
	start = run->next;
	run->next += run->batch;
	pthread_mutex_unlock(&run->lock);
	if (start >= run->njobs)
		return 0;
	k = run->njobs - start < run->batch ? run->njobs - start : run->batch;
	for (size_t i = 0; i < k; i++)
		batch[i] = &run->jobs[start + i];
	return k;
}

/*
 * A connection whose batch found no host answering retires: the others may
 * still be working (the relay may just limit connections). When the last
 * one retires, the remaining batches are deferred without more attempts, so
 * a dead relay costs about nhosts * timeout, not that per batch.
 */
static void *
relay_worker_thread(void *p);

static void
relay_worker_main(void *p)
{
	struct relay_worker *w = p;
	struct relay_run *run = w->run;
	struct relay_job **batch = xcalloc(run->batch, sizeof *batch);
	size_t k, active = 1;

	while ((k = relay_take(run, batch)) > 0)
		if (relay_batch(w, batch, k) == -1)
			break;
	if (k > 0) {
		pthread_mutex_lock(&run->lock);
		active = --run->active;
		pthread_mutex_unlock(&run->lock);
	}
	if (k > 0 && active == 0)
		while ((k = relay_take(run, batch)) > 0)
			for (size_t i = 0; i < k; i++)
				relay_finish(run, batch[i], RELAY_DEFERRED, 0, "",
				    w->reason);
	free(batch);
}

/* ------------------------------------------------------------------------
 * Preparing a run: CRLF, sizes, TLS context.
 */

static int
relay_has_bare_lf(const char *p, size_t len)
{
	const char *q = p, *end = p + len;

	while ((q = memchr(q, '\n', (size_t)(end - q))) != NULL) {
		if (q == p || q[-1] != '\r')
			return 1;
		q++;
	}
	return 0;
}

static char *
relay_to_crlf(const char *p, size_t len, size_t *len_r)
{
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			buf_addc(&b, '\r');
		buf_addc(&b, p[i]);
	}
	*len_r = b.len;
	return b.len > 0 ? buf_steal(&b) : xstrdup("");
}

/* Point job at CRLF data, sharing the previous job's when the buffer is the same. */
static void
relay_job_data(struct relay_job *job, const struct relay_job *prev)
{
	const struct relay_item *it = job->item;

	if (prev != NULL && prev->item->data == it->data && prev->item->len == it->len) {
		job->data = prev->data;
		job->len = prev->len;
		return;
	}
	job->data = it->data;
	job->len = it->len;
	if (relay_has_bare_lf(it->data, it->len)) {
		log_warnx("relay status=converted reason=\"message with bare LF, "
		    "converted to CRLF\"");
		job->owned = relay_to_crlf(it->data, it->len, &job->len);
		job->data = job->owned;
	}
}

static void
relay_prepare(struct relay_run *run, struct relay_item *items, size_t n)
{
	struct relay_job *prev = NULL;

	run->jobs = xcalloc(n ? n : 1, sizeof *run->jobs);
	for (size_t i = 0; i < n; i++) {
		struct relay_job *job = &run->jobs[run->njobs];

		memset(job, 0, sizeof *job);
		if (items[i].outcome != RELAY_PENDING)
			continue;
		job->item = &items[i];
		if (str_is_empty(items[i].rcpt) || items[i].data == NULL) {
			relay_finish(run, job, RELAY_FAILED, 0, "", "no recipient or no message");
			continue;
		}
		relay_job_data(job, prev);
		if (job->len > INT_MAX) {
			relay_finish(run, job, RELAY_FAILED, 0, "", "message too large");
			free(job->owned);
			job->owned = NULL;
			continue;
		}
		prev = job;
		run->njobs++;
	}
}

/*
 * An SSL_CTX trusting cfg->ca_file (else the system's CAs), and at most
 * TLS 1.2 without the interposition (see the top of the file). libssl is
 * already loaded as a dependency of libesmtp; its functions are looked up
 * at run time so that the program need not link libssl itself.
 */
static int
relay_ssl_ctx(struct relay_run *run, const char **error_r)
{
	const SSL_METHOD *(*method)(void);
	SSL_CTX *(*ctx_new)(const SSL_METHOD *);
	int (*load)(SSL_CTX *, const char *, const char *);
	int (*defaults)(SSL_CTX *);
	long (*ctrl)(SSL_CTX *, int, long, void *);
	int cafile = !str_is_empty(run->cfg->ca_file);

	if (run->cfg->tls != RELAY_TLS_STARTTLS || (!cafile && run->interposed))
		return 0;
	method = (const SSL_METHOD *(*)(void))dlsym(RTLD_DEFAULT, "TLS_client_method");
	ctx_new = (SSL_CTX *(*)(const SSL_METHOD *))dlsym(RTLD_DEFAULT, "SSL_CTX_new");
	load = (int (*)(SSL_CTX *, const char *, const char *))
	    dlsym(RTLD_DEFAULT, "SSL_CTX_load_verify_locations");
	defaults = (int (*)(SSL_CTX *))dlsym(RTLD_DEFAULT, "SSL_CTX_set_default_verify_paths");
	ctrl = (long (*)(SSL_CTX *, int, long, void *))dlsym(RTLD_DEFAULT, "SSL_CTX_ctrl");
	if (method == NULL || ctx_new == NULL || load == NULL || defaults == NULL ||
	    ctrl == NULL || (run->ssl_ctx = ctx_new(method())) == NULL) {
		*error_r = "TLS: cannot create an OpenSSL context";
		return -1;
	}
	if (cafile ? load(run->ssl_ctx, run->cfg->ca_file, NULL) != 1 :
	    defaults(run->ssl_ctx) != 1) {
		*error_r = "TLS: cannot load the CA file";
		return -1;
	}
	if (!run->interposed && ctrl(run->ssl_ctx, SSL_CTRL_SET_MAX_PROTO_VERSION,
	    TLS1_2_VERSION, NULL) != 1) {
		*error_r = "TLS: cannot limit the version to TLS 1.2";
		return -1;
	}
	return 0;
}

static void
relay_ssl_ctx_free(SSL_CTX *ctx)
{
	void (*ctx_free)(SSL_CTX *);

	if (ctx == NULL)
		return;
	ctx_free = (void (*)(SSL_CTX *))dlsym(RTLD_DEFAULT, "SSL_CTX_free");
	if (ctx_free != NULL)
		ctx_free(ctx);
}

static int
relay_check_config(const struct relay_config *cfg, const char **error_r)
{
	if (cfg->hosts == NULL || cfg->nhosts == 0) {
		*error_r = "no relay host configured";
		return -1;
	}
	if (cfg->tls == RELAY_TLS_TLS) {
		*error_r = "implicit TLS is not supported by the SMTP client, "
		    "use STARTTLS";
		return -1;
	}
	return 0;
}

static size_t
relay_batch_size(const struct relay_config *cfg, size_t njobs, size_t nconn)
{
	size_t max = cfg->max_msgs_per_session ? cfg->max_msgs_per_session :
	    RELAY_DEFAULT_MAX_MSGS;
	size_t b;

	if (nconn <= 1)
		return max;
	b = (njobs + nconn * RELAY_BATCHES_PER_CONN - 1) / (nconn * RELAY_BATCHES_PER_CONN);
	return b == 0 ? 1 : b > max ? max : b;
}

static void *
relay_worker_thread(void *p)
{
	relay_worker_main(p);
	return NULL;
}

/* The fallback: one thread per connection (stock libesmtp blocks). */
static void
relay_threads(struct relay_worker *w, size_t nconn)
{
	pthread_t *tids = xcalloc(nconn, sizeof *tids);
	size_t started = 0;

	while (started < nconn &&
	    pthread_create(&tids[started], NULL, relay_worker_thread, &w[started]) == 0)
		started++;
	if (started == 0) {
		w[0].run->active = 1;
		relay_worker_main(&w[0]);
	} else
		w[0].run->active -= nconn - started;
	for (size_t t = 0; t < started; t++)
		pthread_join(tids[t], NULL);
	free(tids);
}

/* The connections run as fibers of the calling thread (see fiber.h), or as
 * threads when the interposition is not in effect. */
static void
relay_connections(struct relay_run *run, size_t nconn)
{
	struct relay_worker *w = xcalloc(nconn, sizeof *w);
	void **args = xcalloc(nconn, sizeof *args);

	run->active = nconn;
	for (size_t t = 0; t < nconn; t++) {
		w[t].run = run;
		w[t].host = t % run->cfg->nhosts;
		snprintf(w[t].reason, sizeof w[t].reason, "no relay host answered");
		args[t] = &w[t];
	}
	if (!run->interposed)
		relay_threads(w, nconn);
	else if (fiber_run(relay_worker_main, args, nconn) == -1) {
		log_warn("relay status=degraded reason=\"cannot create fibers, one connection\"");
		run->active = 1;
		relay_worker_main(&w[0]);
	}
	free(args);
	free(w);
}

static int
relay_run_all(const struct relay_config *cfg, struct relay_item *items, size_t n,
    size_t nconn, int interposed, relay_done_fn *done, void *arg)
{
	struct relay_run run = { .cfg = cfg, .interposed = interposed, .done = done,
	    .arg = arg };
	const char *error = NULL;
	int rc = 0;

	pthread_mutex_init(&run.lock, NULL);
	relay_prepare(&run, items, n);
	if (relay_check_config(cfg, &error) == -1 || relay_ssl_ctx(&run, &error) == -1) {
		log_warnx("relay status=deferred reason=\"%s\"", error);
		for (size_t i = 0; i < run.njobs; i++)
			relay_finish(&run, &run.jobs[i], RELAY_DEFERRED, 0, "", error);
		rc = -1;
	} else if (run.njobs > 0) {
		if (nconn > run.njobs)
			nconn = run.njobs;
		run.batch = relay_batch_size(cfg, run.njobs, nconn);
		relay_connections(&run, nconn);
	}
	for (size_t i = 0; i < run.njobs; i++)
		free(run.jobs[i].owned);
	free(run.jobs);
	relay_ssl_ctx_free(run.ssl_ctx);
	pthread_mutex_destroy(&run.lock);
	return rc;
}

/* ------------------------------------------------------------------------
 * The self-test: does libesmtp reach the interposed calls?
 */

#define RELAY_SELFTEST_MS	5000

/* The loopback peer's reply to one line, NULL for none (message lines). */
static const char *
relay_selftest_reply(const char *line, int *data)
{
	if (*data) {
		if (strcmp(line, ".\r\n") != 0)
			return NULL;
		*data = 0;
		return "250 2.0.0 ok\r\n";
	}
	if (strncasecmp(line, "EHLO", 4) == 0)
		return "250-selftest\r\n250 PIPELINING\r\n";
	if (strncasecmp(line, "DATA", 4) == 0) {
		*data = 1;
		return "354 go on\r\n";
	}
	return strncasecmp(line, "QUIT", 4) == 0 ? "221 bye\r\n" : "250 ok\r\n";
}

/* The loopback peer, a thread: one session, then it returns. */
static void *
relay_selftest_peer(void *arg)
{
	struct pollfd pfd = { .fd = *(int *)arg, .events = POLLIN };
	struct timeval tv = { RELAY_SELFTEST_MS / 1000, 0 };
	char line[1024];
	const char *reply = "220 selftest ESMTP\r\n";
	FILE *in, *out;
	int fd, data = 0;

	if (interpose_real_poll(&pfd, 1, RELAY_SELFTEST_MS) != 1 ||
	    (fd = accept(pfd.fd, NULL, NULL)) == -1)
		return NULL;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	in = fdopen(fd, "r");
	out = fdopen(dup(fd), "w");
	while (in != NULL && out != NULL && reply != NULL) {
		if (fputs(reply, out) == EOF || fflush(out) == EOF ||
		    strncmp(reply, "221", 3) == 0)
			break;
		do
			reply = fgets(line, sizeof line, in) == NULL ? NULL :
			    relay_selftest_reply(line, &data);
		while (reply == NULL && !feof(in) && !ferror(in));
	}
	if (in != NULL)
		fclose(in);
	else
		close(fd);
	if (out != NULL)
		fclose(out);
	return NULL;
}

/* A listening socket on 127.0.0.1, its "host:port" in host; -1 on failure. */
static int
relay_selftest_listen(char *host, size_t size)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1 ||
	    listen(fd, 1) == -1 || getsockname(fd, (struct sockaddr *)&sa, &len) == -1) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	snprintf(host, size, "127.0.0.1:%d", ntohs(sa.sin_port));
	return fd;
}

int
relay_selftest(const char **error_r)
{
	static const char msg[] = "From: selftest@localhost.invalid\r\n"
	    "Subject: self-test\r\n\r\nx\r\n";
	static char why[400];
	char host[32], *hosts[1] = { host };
	struct relay_config cfg = { .hosts = hosts, .nhosts = 1, .helo = "localhost",
	    .timeout_ms = RELAY_SELFTEST_MS };
	struct relay_item it = { .reverse_path = "", .rcpt = "selftest@localhost.invalid",
	    .data = msg, .len = sizeof msg - 1, .outcome = RELAY_PENDING };
	struct interpose_seen seen;
	const char *name;
	pthread_t peer;
	int lfd;

	relay_global_init();
	*error_r = why;
	if (!interpose_enabled()) {
		snprintf(why, sizeof why, "MLISTD_NO_INTERPOSE=1");
		return -1;
	}
	if (interpose_exported(&name) == -1) {
		snprintf(why, sizeof why, "the symbol lookup finds libc's %s(), not ours", name);
		return -1;
	}
	if ((lfd = relay_selftest_listen(host, sizeof host)) == -1 ||
	    pthread_create(&peer, NULL, relay_selftest_peer, &lfd) != 0) {
		snprintf(why, sizeof why, "cannot run a loopback session: %s", strerror(errno));
		if (lfd != -1)
			close(lfd);
		return -1;
	}
	interpose_seen_reset();
	(void)relay_run_all(&cfg, &it, 1, 1, 1, NULL, NULL);
	seen = interpose_seen();
	pthread_join(peer, NULL);
	close(lfd);
	snprintf(why, sizeof why, "loopback session: %s, libesmtp calls seen: connect %lu, "
	    "write %lu, poll %lu", it.outcome == RELAY_SENT ? "sent" : it.text,
	    seen.connect, seen.write, seen.poll);
	return it.outcome == RELAY_SENT && seen.connect > 0 && seen.write > 0 &&
	    seen.poll > 0 ? 0 : -1;
}

static int relay_interposed = -1;

static void
relay_mode_once(void)
{
	const char *why;

	relay_interposed = relay_selftest(&why) == 0;
	if (relay_interposed)
		log_info("relay interposition=ok (libesmtp reaches poll, connect, write)");
	else
		log_warnx("relay status=degraded reason=\"interposition not in effect (%s):"
		    " stock libesmtp, one thread per connection, no TCP_NODELAY, TLS 1.2 at"
		    " most\"", why);
}

int
relay_interposition(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, relay_mode_once);
	return relay_interposed;
}

int
relay_send(const struct relay_config *cfg, struct relay_item *items, size_t n,
    relay_done_fn *done, void *arg)
{
	return relay_run_all(cfg, items, n, 1, relay_interposition(), done, arg);
}

int
relay_send_parallel(const struct relay_config *cfg, struct relay_item *items,
    size_t n, int nconn, relay_done_fn *done, void *arg)
{
	return relay_run_all(cfg, items, n, nconn > 1 ? (size_t)nconn : 1,
	    relay_interposition(), done, arg);
}

static void
relay_global_init_once(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);	/* libesmtp requires it */
	auth_client_init();
}

void
relay_global_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, relay_global_init_once);
}
