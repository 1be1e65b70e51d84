/*
 * fiber.h — cooperative fibers for a blocking library (libesmtp).
 *
 * fiber_run() runs n functions as fibers on the calling thread and returns
 * when all have returned. Inside a fiber, poll() (as called by any library,
 * interposed by interpose.c) does not block the thread: the fiber waits and the others run; one poll()
 * over every waiting fiber's descriptors then wakes those that may go on.
 * Thus many SMTP sessions (libesmtp: non-blocking sockets, a poll() before
 * each read and write) share one thread with no kernel context switch per
 * reply. Outside fibers poll() behaves exactly as libc's.
 */
#ifndef MLISTD_FIBER_H
#define MLISTD_FIBER_H

#include <poll.h>
#include <stddef.h>

typedef void fiber_fn(void *arg);

/* Run fn(args[i]) for i < n as fibers; 0, or -1 if they could not be set
 * up (then nothing ran). Fibers may not call fiber_run(). */
int fiber_run(fiber_fn *fn, void **args, size_t n);

/* Inside a fiber: 1, else 0. */
int fiber_active(void);

/* The calling fiber's private pointer (the thread's outside fibers). */
void **fiber_local(void);

/* The poll() of a fiber (interpose.c calls it): a wait switches to the
 * other fibers until a descriptor is ready or the timeout passes. Outside
 * a fiber, or with a zero timeout, libc's poll(). */
int fiber_poll(struct pollfd *fds, nfds_t nfds, int timeout);

#endif
