/*
 * interpose.c — every libc call this program defines in place of libc's.
 *
 * libesmtp offers no hook on its socket and blocks in poll(); three of the
 * calls it imports are therefore defined here, and the dynamic linker binds
 * libesmtp's references to them because the executable comes first in the
 * symbol lookup (the Makefile exports them with --export-dynamic-symbol).
 * The list, and why:
 *
 *   poll()     inside a fiber (fiber.h), a wait switches to the scheduler
 *              instead of blocking the thread: one thread serves every
 *              connection. Before any wait, the hooks' before_wait() runs
 *              (relay.c sends what it held back). For a hooked caller or a
 *              fiber, a descriptor both readable and writable is reported
 *              writable only (interpose_prefer_write(): TLS 1.3).
 *   connect()  for a hooked caller's TCP socket: TCP_NODELAY (libesmtp sets
 *              none: ~40 ms of Nagle + delayed ACK per message) and a bound
 *              on the connect (libesmtp has none); connected() then names
 *              the session's socket.
 *   write()    for a hooked caller: its write() hook first (relay.c gathers
 *              a message's 2 KB pieces into one system call).
 *
 * Anyone else (no hooks installed: other threads, other libraries) gets
 * libc's call unchanged. With MLISTD_NO_INTERPOSE=1 in the environment they
 * are libc's for everybody, as if not interposed at all: relay.c's start-up
 * check then fails and it falls back to stock libesmtp (tests use this).
 * The calls seen with hooks installed are counted for that check.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fiber.h"
#include "interpose.h"

typedef int interpose_connect_fn(int, __CONST_SOCKADDR_ARG, socklen_t);

static interpose_connect_fn *interpose_libc_connect;
static int interpose_on = -1;		/* -1: not read yet */
static struct interpose_seen interpose_count;
static _Thread_local const struct interpose_hooks *interpose_thread_hooks;
static _Thread_local int interpose_in_before_wait;

static void
interpose_init(void)
{
	const char *off = getenv("MLISTD_NO_INTERPOSE");

	interpose_libc_connect = (interpose_connect_fn *)dlsym(RTLD_NEXT, "connect");
	interpose_on = off == NULL || strcmp(off, "1") != 0;
}

int
interpose_enabled(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, interpose_init);
	return interpose_on;
}

/* ------------------------------------------------------------------------
 * Hooks, per fiber (per thread outside fibers).
 */

void
interpose_set_hooks(const struct interpose_hooks *h)
{
	if (fiber_active())
		*fiber_local() = (void *)h;
	else
		interpose_thread_hooks = h;
}

const struct interpose_hooks *
interpose_hooks(void)
{
	if (!interpose_enabled())
		return NULL;
	return fiber_active() ? *fiber_local() : interpose_thread_hooks;
}

void
interpose_seen_reset(void)
{
	memset(&interpose_count, 0, sizeof interpose_count);
}

struct interpose_seen
interpose_seen(void)
{
	return interpose_count;
}

int
interpose_exported(const char **name_r)
{
	static const struct { const char *name; void *ours; } syms[] = {
		{ "poll", (void *)poll },
		{ "connect", (void *)connect },
		{ "write", (void *)write },
	};

	for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++)
		if (dlsym(RTLD_DEFAULT, syms[i].name) != syms[i].ours) {
			*name_r = syms[i].name;
			return -1;
		}
	return 0;
}

/* ------------------------------------------------------------------------
 * libc's calls.
 */

int
interpose_real_poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	struct timespec ts;

	if (timeout < 0)
		return ppoll(fds, nfds, NULL, NULL);
	ts.tv_sec = timeout / 1000;
	ts.tv_nsec = (long)(timeout % 1000) * 1000000L;
	return ppoll(fds, nfds, &ts, NULL);
}

ssize_t
interpose_real_write(int fd, const void *p, size_t n)
{
	return syscall(SYS_write, fd, p, n);
}

static int
interpose_real_connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
	if (interpose_libc_connect == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return interpose_libc_connect(fd, addr, len);
}

/* ------------------------------------------------------------------------
 * poll()
 */

/*
 * A descriptor asked for both POLLIN and POLLOUT and ready for both is
 * reported writable only; the caller polls again to read. libesmtp handles
 * a readable socket before flushing its own buffer, and after STARTTLS a
 * TLS 1.3 session ticket makes the socket readable with no reply in it:
 * libesmtp then waits for the reply to an EHLO it has not sent yet, until
 * its timeout. Writing first is what it means to do anyway.
 */
static int
interpose_prefer_write(struct pollfd *fds, nfds_t nfds, int rc)
{
	if (rc <= 0)
		return rc;
	for (nfds_t i = 0; i < nfds; i++) {
		if (!(fds[i].revents & POLLOUT))
			continue;
		for (nfds_t j = 0; j < nfds; j++)
			if (fds[j].fd == fds[i].fd && (fds[j].revents & POLLIN)) {
				fds[j].revents &= (short)~POLLIN;
				if (fds[j].revents == 0)
					rc--;
			}
	}
	return rc;
}

/* Interposes libc's poll() (see the top of the file). */
int
poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	const struct interpose_hooks *h;
	int rc;

	if (!interpose_enabled())
		return interpose_real_poll(fds, nfds, timeout);
	h = interpose_hooks();
	if (h != NULL)
		interpose_count.poll++;
	if (h != NULL && h->before_wait != NULL && timeout != 0 && !interpose_in_before_wait) {
		interpose_in_before_wait = 1;
		h->before_wait(h->arg);
		interpose_in_before_wait = 0;
	}
	if (fiber_active() && timeout != 0)
		rc = fiber_poll(fds, nfds, timeout);
	else
		rc = interpose_real_poll(fds, nfds, timeout);
	return h != NULL || fiber_active() ? interpose_prefer_write(fds, nfds, rc) : rc;
}

/* ------------------------------------------------------------------------
 * connect()
 */

static int
interpose_is_tcp(int fd)
{
	int domain = 0, type = 0;
	socklen_t dlen = sizeof domain, tlen = sizeof type;

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dlen) == -1 ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == -1)
		return 0;
	return (domain == AF_INET || domain == AF_INET6) && type == SOCK_STREAM;
}

/* Wait for a non-blocking connect to finish; -1 with errno on failure. */
static int
interpose_connect_wait(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	struct timespec start, cur;
	int n, err = 0, left = timeout_ms;
	socklen_t elen = sizeof err;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while ((n = poll(&pfd, 1, left)) == -1 && errno == EINTR) {
		clock_gettime(CLOCK_MONOTONIC, &cur);
		left = timeout_ms - (int)((cur.tv_sec - start.tv_sec) * 1000 +
		    (cur.tv_nsec - start.tv_nsec) / 1000000);
		if (left < 0)
			left = 0;
	}
	if (n == 0)
		errno = ETIMEDOUT;
	if (n <= 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
		return -1;
	errno = err;
	return err == 0 ? 0 : -1;
}

/* connect() on a blocking socket, bounded by timeout_ms. */
static int
interpose_connect_timed(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len, int timeout_ms)
{
	int flags = fcntl(fd, F_GETFL), rc, saved;

	if (flags == -1 || (flags & O_NONBLOCK))
		return interpose_real_connect(fd, addr, len);
	if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		return interpose_real_connect(fd, addr, len);
	rc = interpose_real_connect(fd, addr, len);
	if (rc == -1 && errno == EINPROGRESS)
		rc = interpose_connect_wait(fd, timeout_ms);
	saved = errno;
	fcntl(fd, F_SETFL, flags);
	errno = saved;
	return rc;
}

/* Interposes libc's connect() (see the top of the file). */
int
connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
	static const int one = 1;
	const struct interpose_hooks *h;

	if (!interpose_enabled() || (h = interpose_hooks()) == NULL || !interpose_is_tcp(fd))
		return interpose_real_connect(fd, addr, len);
	interpose_count.connect++;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (interpose_connect_timed(fd, addr, len, h->timeout_ms) == -1)
		return -1;
	if (h->connected != NULL)
		h->connected(h->arg, fd);
	return 0;
}

/* ------------------------------------------------------------------------
 * write()
 */

/* Interposes libc's write() (see the top of the file). */
ssize_t
write(int fd, const void *p, size_t n)
{
	const struct interpose_hooks *h;
	ssize_t r;

	if (fd < 0 || (h = interpose_hooks()) == NULL || h->write == NULL)
		return interpose_real_write(fd, p, n);
	interpose_count.write++;
	if ((r = h->write(h->arg, fd, p, n)) != -2)
		return r;
	return interpose_real_write(fd, p, n);
}
