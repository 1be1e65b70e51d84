/* test_fiber.c — fibers: poll() (interpose.c) waits in the fiber, not the thread;
 * each fiber has its own hooks (interpose.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fiber.h"
#include "interpose.h"

struct ping {
	int	 in;		/* read end this fiber waits on (-1: none) */
	int	 out;		/* write end it writes to afterwards */
	int	 first;		/* writes before waiting */
	int	 got;		/* poll() result */
	int	 hooks;		/* before_wait() calls */
	const struct interpose_hooks *seen; /* interpose_hooks() after the wait */
	struct interpose_hooks h;
};

static void
count_hook(void *arg)
{
	((struct ping *)arg)->hooks++;
}

static void
ping_main(void *arg)
{
	struct ping *p = arg;
	struct pollfd pfd = { .fd = p->in, .events = POLLIN };

	p->h = (struct interpose_hooks){ .arg = p, .before_wait = count_hook };
	interpose_set_hooks(&p->h);
	assert_true(fiber_active());
	if (p->first)
		assert_int_equal(write(p->out, "x", 1), 1);
	/* With a blocking poll() the first fiber would wait forever: the
	 * second one, which writes to it, could never run. */
	p->got = poll(&pfd, 1, 5000);
	if (!p->first)
		assert_int_equal(write(p->out, "y", 1), 1);
	p->seen = interpose_hooks();
	interpose_set_hooks(NULL);
}

static void
test_two_fibers_wake_each_other(void **state)
{
	int ab[2], ba[2];
	struct ping a = { 0 }, b = { 0 };
	void *args[2] = { &a, &b };

	(void)state;
	assert_int_equal(pipe(ab), 0);
	assert_int_equal(pipe(ba), 0);
	a.in = ba[0];		/* a waits first, b writes to it */
	a.out = ab[1];
	b.in = ab[0];
	b.out = ba[1];
	b.first = 1;
	assert_int_equal(fiber_run(ping_main, args, 2), 0);
	assert_int_equal(a.got, 1);
	assert_int_equal(b.got, 1);
	assert_ptr_equal(a.seen, &a.h);	/* each fiber its own hooks */
	assert_ptr_equal(b.seen, &b.h);
	assert_int_equal(a.hooks, 1);
	assert_int_equal(b.hooks, 1);
	assert_false(fiber_active());
	close(ab[0]);
	close(ab[1]);
	close(ba[0]);
	close(ba[1]);
}

struct sleeper {
	int	 fd;
	int	 timeout;
	int	 got;
	int	 err;
	long	 ms;
};

static void
sleeper_main(void *arg)
{
	struct sleeper *s = arg;
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	errno = 1234;
	s->got = poll(&pfd, 1, s->timeout);
	s->err = errno;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s->ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
}

static void
test_timeouts_and_errno(void **state)
{
	int p[2];
	struct sleeper s1 = { .timeout = 60 }, s2 = { .timeout = 20 };
	void *args[2] = { &s1, &s2 };

	(void)state;
	assert_int_equal(pipe(p), 0);
	s1.fd = s2.fd = p[0];	/* nothing is ever written */
	assert_int_equal(fiber_run(sleeper_main, args, 2), 0);
	assert_int_equal(s1.got, 0);
	assert_int_equal(s2.got, 0);
	assert_true(s1.ms >= 60 && s1.ms < 2000);
	assert_true(s2.ms >= 20 && s2.ms < s1.ms);
	assert_int_equal(s1.err, 1234);	/* errno kept across switches */
	assert_int_equal(s2.err, 1234);
	close(p[0]);
	close(p[1]);
}

struct both {
	int		fd;
	int		got[2];
	struct pollfd	seen[2][2];
};

/* Readable and writable: writable first, then readable (see interpose.c). */
static void
both_main(void *arg)
{
	struct both *b = arg;

	for (int k = 0; k < 2; k++) {
		struct pollfd pfd[2] = { { .fd = b->fd, .events = POLLIN },
		    { .fd = b->fd, .events = k == 0 ? POLLOUT : 0 } };

		b->got[k] = poll(pfd, k == 0 ? 2 : 1, 1000);
		memcpy(b->seen[k], pfd, sizeof pfd);
	}
}

static void
test_writable_before_readable(void **state)
{
	int sv[2];
	struct both b = { 0 };
	void *args[1] = { &b };

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], "220 hello\r\n", 11), 11);
	b.fd = sv[0];
	assert_int_equal(fiber_run(both_main, args, 1), 0);
	assert_int_equal(b.got[0], 1);
	assert_int_equal(b.seen[0][0].revents, 0);		/* POLLIN held back */
	assert_true(b.seen[0][1].revents & POLLOUT);
	assert_int_equal(b.got[1], 1);				/* then reported */
	assert_true(b.seen[1][0].revents & POLLIN);
	close(sv[0]);
	close(sv[1]);
}

static void
test_outside_fibers(void **state)
{
	int p[2];
	struct pollfd pfd;

	(void)state;
	assert_false(fiber_active());
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "z", 1), 1);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 1000), 1);	/* the plain system call */
	assert_true(pfd.revents & POLLIN);
	assert_int_equal(fiber_run(sleeper_main, NULL, 0), 0);	/* nothing to run */
	close(p[0]);
	close(p[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_fibers_wake_each_other),
		cmocka_unit_test(test_timeouts_and_errno),
		cmocka_unit_test(test_writable_before_readable),
		cmocka_unit_test(test_outside_fibers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
