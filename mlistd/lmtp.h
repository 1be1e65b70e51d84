/*
 * lmtp.h — the LMTP listener (RFC 2033): the MTA hands mail to mlistd here.
 *
 * Each message is streamed into a spool writer while it is received; the
 * per-recipient "250" is sent only after spool_writer_commit() returned 0,
 * so an acknowledged message is on disk. Storage trouble becomes a
 * temporary failure (451/452) for the MTA to retry, never a crash.
 *
 * End of data is only CR LF "." CR LF (RFC 5321 4.1.1.4); a bare LF or bare
 * CR never ends a line for that purpose, so "\n.\n", "\r.\r" or "\n.\r\n"
 * inside the data stay part of the one message (no SMTP smuggling). Stored
 * data has CR LF turned into LF; a bare LF is kept as LF (a line break in the
 * stored message) and a bare CR is kept as it is.
 *
 * Threads: lmtp_session() serves one connection in the calling thread; the
 * server runs an accept thread and one thread per client. The handler
 * callbacks are called from those threads and must be thread-safe.
 */
#ifndef MLISTD_LMTP_H
#define MLISTD_LMTP_H

#include <stddef.h>

struct spool;

struct lmtp_handler {
	/* 0 = accept, 1 = not ours (550 5.1.1), -1 = temporary trouble
	 * (451 4.3.0). NULL accepts every recipient. */
	int	(*rcpt_check)(void *arg, const char *rcpt);
	/* Called once after a successful commit, with the new spool id
	 * (e.g. to wake the processing thread). May be NULL. */
	void	(*spooled)(void *arg, const char *id);
	void	*arg;
};

struct lmtp_config {
	const char	*hostname;	/* in the greeting and LHLO reply; must outlive the server */
	size_t		 max_size;	/* largest message in bytes, 0 = no limit */
	int		 timeout_s;	/* idle time allowed per command or data read */
	int		 session_deadline_s; /* whole session, 0 = none */
	size_t		 min_rate;	/* bytes/s a request must keep up, 0 = none */
	int		 max_clients;	/* simultaneous sessions (server only) */
};

/* Create a listening stream socket. addr is "host:port" ("127.0.0.1:8024";
 * a name binds its first address; an empty host means any address),
 * "[v6]:port" ("[::1]:24"), or "unix:/path" (a stale socket file at path
 * is replaced). Port 0 picks a free port.
 * The caller owns *fd_r (or hands it to lmtp_server_start). */
int lmtp_listen(const char *addr, int *fd_r, const char **error_r);

/* Serve one connection until QUIT, EOF, timeout or a fatal error, then
 * close fd. fd must be a connected stream socket. */
void lmtp_session(int fd, const struct lmtp_config *cfg, struct spool *sp,
    const struct lmtp_handler *h);

struct lmtp_server;

/* Start serving listen_fd in background threads: one accept thread and one
 * thread per client, at most cfg->max_clients (more are answered 421 and
 * closed). The server takes ownership of listen_fd and copies *cfg and *h;
 * sp must stay open until lmtp_server_stop() returns. */
int lmtp_server_start(int listen_fd, const struct lmtp_config *cfg, struct spool *sp,
    const struct lmtp_handler *h, struct lmtp_server **srv_r, const char **error_r);
/* Stop accepting and close the listening socket; idle sessions are told
 * 421 at once, sessions inside DATA may finish for a bounded grace period
 * (min(timeout_s, LMTP_STOP_GRACE_S) seconds) before their sockets are shut
 * down (nothing half-received is acknowledged). Joins every thread, frees
 * the server and sets *srv = NULL. Accepts *srv == NULL. */
void lmtp_server_stop(struct lmtp_server **srv);

#define LMTP_STOP_GRACE_S	30
#define LMTP_LINE_MAX		4096	/* longest command line, CR LF included */
#define LMTP_MAX_RCPT		1000	/* recipients per transaction */

#endif
