/*
 * interpose.h — the libc calls this program defines in place of libc's, for
 * libesmtp (see interpose.c for the list and why).
 *
 * A socket user (relay.c) installs hooks for the calling fiber (the calling
 * thread outside fibers); the interposed calls act only for it, and are
 * libc's own for every other caller. Whether libesmtp really reaches these
 * definitions is not a given (a fortified, static or version-scripted build
 * loses them silently): relay.c checks it with a loopback session before
 * the first run and falls back to stock libesmtp, one thread per connection,
 * when it is not so.
 */
#ifndef MLISTD_INTERPOSE_H
#define MLISTD_INTERPOSE_H

#include <poll.h>
#include <stddef.h>
#include <sys/types.h>

struct interpose_hooks {
	void	 *arg;
	int	  timeout_ms;	/* bound of connect() */
	/* a TCP connect() succeeded, TCP_NODELAY set; fd is the session's */
	void	(*connected)(void *arg, int fd);
	/* write() on a socket: return what write() returns, or -2 to leave
	 * the call to libc */
	ssize_t	(*write)(void *arg, int fd, const void *p, size_t n);
	/* poll() is about to wait (timeout other than 0); never nested */
	void	(*before_wait)(void *arg);
};

/* Install h for the calling fiber (thread outside fibers); NULL removes.
 * h must outlive its installation. */
void interpose_set_hooks(const struct interpose_hooks *h);

/* The calling fiber's (thread's) hooks, or NULL. */
const struct interpose_hooks *interpose_hooks(void);

/* libc's calls, whatever the interposition. */
int interpose_real_poll(struct pollfd *fds, nfds_t nfds, int timeout);
ssize_t interpose_real_write(int fd, const void *p, size_t n);

/* 1 when the interposed definitions are on: off with the environment
 * variable MLISTD_NO_INTERPOSE=1 (to test the fallback), then they are
 * libc's calls and nothing more. */
int interpose_enabled(void);

/*
 * What the interposed calls saw with hooks installed since the last reset:
 * a check that libesmtp reaches them. interpose_exported() says whether the
 * dynamic symbol lookup finds this program's poll, connect and write first
 * (0, or -1 with the first that it does not, in *name_r).
 */
struct interpose_seen {
	unsigned long	 connect, write, poll;
};
void interpose_seen_reset(void);
struct interpose_seen interpose_seen(void);
int interpose_exported(const char **name_r);

#endif
