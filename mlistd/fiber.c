/*
 * fiber.c — cooperative fibers on one thread (see fiber.h).
 *
 * Why: libesmtp runs one blocking SMTP session per call. With one thread per
 * connection, every reply the client waits for is a sleep and a wake-up in
 * the kernel (three per message); on a loopback fan-out that costs more
 * than the SMTP work itself. A fiber per connection lets one thread serve
 * all of them, sleeping only when every session waits, as an event loop
 * such as Postfix's smtp-source does.
 *
 * How: each fiber has its own stack (mmap, a guard page below it) and
 * context (ucontext). libesmtp makes its socket non-blocking and waits in
 * poll() before every read and write (OpenSSL's too, during STARTTLS), so
 * poll() is the one call to take over: interpose.c defines it for the whole
 * program and, inside a fiber, calls fiber_poll(). That records the
 * descriptors and a deadline and switches to the scheduler, unless a
 * descriptor asked for POLLOUT is writable at once (the common case: no
 * switch).
 * The scheduler runs every runnable fiber in turn, then one poll() over the
 * descriptors of all waiting fibers, bounded by the nearest deadline, and
 * wakes the fibers whose descriptors are ready or whose deadline passed.
 * errno is saved and restored across every switch.
 *
 * Limits: a library call that blocks in libc itself (a DNS query inside
 * getaddrinfo(), say) blocks the whole thread for its duration; fibers
 * must not use thread-local state that another fiber may change across a
 * switch (interpose.c keeps each session's hooks in fiber_local()).
 * AddressSanitizer is told about every stack switch.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "fiber.h"
#include "interpose.h"
#include "util.h"

#if defined(__SANITIZE_ADDRESS__)
#define FIBER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FIBER_ASAN 1
#endif
#endif
#ifdef FIBER_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

#define FIBER_STACK	(1024 * 1024)	/* virtual; only touched pages count */

enum fiber_state { FIBER_RUNNABLE, FIBER_WAITING, FIBER_DONE };

struct fiber {
	ucontext_t	 uc;
	char		*map;		/* guard page + stack */
	size_t		 maplen;
	fiber_fn	*fn;
	void		*arg;
	enum fiber_state state;
	struct pollfd	*fds;		/* what it waits for (on its stack) */
	nfds_t		 nfds;
	int64_t		 deadline;	/* monotonic ns, -1: none */
	int		 result;	/* for the waiting poll() */
	int		 result_errno;
	void		*local;
#ifdef FIBER_ASAN
	void		*fake_stack;
#endif
};

struct fiber_sched {
	ucontext_t	 main;
	struct fiber	*cur;
#ifdef FIBER_ASAN
	const void	*main_bottom;
	size_t		 main_size;
#endif
};

static _Thread_local struct fiber_sched *fiber_sched;
static _Thread_local void *fiber_thread_local;

static int64_t
fiber_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ------------------------------------------------------------------------
 * Switching.
 */

static void
fiber_to_main(struct fiber_sched *s, struct fiber *f, int finished)
{
#ifdef FIBER_ASAN
	__sanitizer_start_switch_fiber(finished ? NULL : &f->fake_stack, s->main_bottom,
	    s->main_size);
#endif
	if (finished)
		return;		/* the trampoline returns to uc_link */
	swapcontext(&f->uc, &s->main);
#ifdef FIBER_ASAN
	__sanitizer_finish_switch_fiber(f->fake_stack, &s->main_bottom, &s->main_size);
#endif
}

static void
fiber_to_fiber(struct fiber_sched *s, struct fiber *f)
{
#ifdef FIBER_ASAN
	void *fake = NULL;

	__sanitizer_start_switch_fiber(&fake, f->map + getpagesize(), f->maplen -
	    (size_t)getpagesize());
#endif
	s->cur = f;
	swapcontext(&s->main, &f->uc);
	s->cur = NULL;
#ifdef FIBER_ASAN
	__sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
}

static void
fiber_trampoline(void)
{
	struct fiber_sched *s = fiber_sched;
	struct fiber *f = s->cur;

#ifdef FIBER_ASAN
	__sanitizer_finish_switch_fiber(NULL, &s->main_bottom, &s->main_size);
#endif
	f->fn(f->arg);
	f->state = FIBER_DONE;
	fiber_to_main(s, f, 1);
}

/* Wait in the current fiber: the poll() of a fiber. */
static int
fiber_wait(struct pollfd *fds, nfds_t nfds, int timeout)
{
	struct fiber_sched *s = fiber_sched;
	struct fiber *f = s->cur;
	int saved = errno;

	f->fds = fds;
	f->nfds = nfds;
	f->deadline = timeout < 0 ? -1 : fiber_now_ns() + (int64_t)timeout * 1000000;
	f->state = FIBER_WAITING;
	fiber_to_main(s, f, 0);
	errno = f->result == -1 ? f->result_errno : saved;
	return f->result;
}

/* ------------------------------------------------------------------------
 * The scheduler.
 */

/* One poll() over every waiting fiber; wakes the ready and the late. */
static void
fiber_poll_all(struct fiber *fibers, size_t n, struct pollfd **all, size_t *cap)
{
	size_t total = 0, k = 0;
	int64_t t, next = -1;
	int rc, timeout;

	for (size_t i = 0; i < n; i++) {
		if (fibers[i].state != FIBER_WAITING)
			continue;
		total += fibers[i].nfds;
		if (fibers[i].deadline >= 0 && (next < 0 || fibers[i].deadline < next))
			next = fibers[i].deadline;
	}
	if (total > *cap) {
		*cap = total;
		*all = xrealloc(*all, total * sizeof **all);
	}
	for (size_t i = 0; i < n; i++)
		if (fibers[i].state == FIBER_WAITING)
			for (nfds_t j = 0; j < fibers[i].nfds; j++) {
				(*all)[k] = fibers[i].fds[j];
				(*all)[k++].revents = 0;
			}
	t = fiber_now_ns();
	/* in whole milliseconds, rounded up: a timeout is a minimum */
	timeout = next < 0 ? -1 : next <= t ? 0 : (next - t + 999999) / 1000000 > INT32_MAX ?
	    INT32_MAX : (int)((next - t + 999999) / 1000000);
	rc = interpose_real_poll(*all, total, timeout);
	if (rc == -1 && errno == EINTR)
		return;
	t = fiber_now_ns();
	k = 0;
	for (size_t i = 0; i < n; i++) {
		struct fiber *f = &fibers[i];
		int ready = 0;

		if (f->state != FIBER_WAITING)
			continue;
		for (nfds_t j = 0; j < f->nfds; j++, k++) {
			f->fds[j].revents = rc > 0 ? (*all)[k].revents : 0;
			ready += f->fds[j].revents != 0;
		}
		if (rc == -1) {
			f->result = -1;
			f->result_errno = errno;
		} else if (ready > 0 || (f->deadline >= 0 && f->deadline <= t))
			f->result = ready;
		else
			continue;
		f->state = FIBER_RUNNABLE;
	}
}

static int
fiber_setup(struct fiber *f, struct fiber_sched *s)
{
	size_t page = (size_t)getpagesize();

	f->maplen = FIBER_STACK + page;
	f->map = mmap(NULL, f->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
	    MAP_STACK, -1, 0);
	if (f->map == MAP_FAILED) {
		f->map = NULL;
		return -1;
	}
	(void)mprotect(f->map, page, PROT_NONE);	/* overflow faults, not corrupts */
	if (getcontext(&f->uc) == -1)
		return -1;
	f->uc.uc_stack.ss_sp = f->map + page;
	f->uc.uc_stack.ss_size = FIBER_STACK;
	f->uc.uc_link = &s->main;
	makecontext(&f->uc, fiber_trampoline, 0);
	f->state = FIBER_RUNNABLE;
	return 0;
}

int
fiber_run(fiber_fn *fn, void **args, size_t n)
{
	struct fiber_sched s = { 0 };
	struct fiber *fibers;
	struct pollfd *all = NULL;
	size_t cap = 0, left = n;
	int rc = 0;

	if (fiber_sched != NULL) {
		errno = EDEADLK;
		return -1;
	}
	fibers = xcalloc(n ? n : 1, sizeof *fibers);
	for (size_t i = 0; i < n && rc == 0; i++) {
		fibers[i].fn = fn;
		fibers[i].arg = args[i];
		rc = fiber_setup(&fibers[i], &s);
	}
	fiber_sched = rc == 0 ? &s : NULL;
	while (rc == 0 && left > 0) {
		for (size_t i = 0; i < n; i++)
			if (fibers[i].state == FIBER_RUNNABLE) {
				fiber_to_fiber(&s, &fibers[i]);
				if (fibers[i].state == FIBER_DONE)
					left--;
			}
		if (left > 0)
			fiber_poll_all(fibers, n, &all, &cap);
	}
	fiber_sched = NULL;
	for (size_t i = 0; i < n; i++)
		if (fibers[i].map != NULL)
			munmap(fibers[i].map, fibers[i].maplen);
	free(fibers);
	free(all);
	return rc;
}

int
fiber_active(void)
{
	return fiber_sched != NULL && fiber_sched->cur != NULL;
}

void **
fiber_local(void)
{
	return fiber_active() ? &fiber_sched->cur->local : &fiber_thread_local;
}

int
fiber_poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	int rc;

	if (!fiber_active() || timeout == 0)
		return interpose_real_poll(fds, nfds, timeout);
	for (nfds_t i = 0; i < nfds; i++)
		if (fds[i].events & POLLOUT) {
			if ((rc = interpose_real_poll(fds, nfds, 0)) != 0)
				return rc;
			break;
		}
	return fiber_wait(fds, nfds, timeout);
}
