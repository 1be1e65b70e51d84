/*
 * rendition.c — photo renditions in parallel (see rendition.h).
 *
 * Workers take the next job from a shared counter; the first failure is
 * kept (under the lock) and stops the others from taking more. Nothing is
 * shared but the counter and that reason: each job writes its own file.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "rendition.h"

struct rendition_run {
	const struct rendition_job	*jobs;
	size_t				 n, next;
	pthread_mutex_t			 lock;
	int				 failed;
	char				 why[300];
};

static __thread char rendition_errbuf[300];

/* The next job to make, or NULL when none is left (or one failed). */
static const struct rendition_job *
rendition_take(struct rendition_run *r)
{
	const struct rendition_job *j = NULL;

	pthread_mutex_lock(&r->lock);
	while (j == NULL && !r->failed && r->next < r->n) {
		j = &r->jobs[r->next++];
		if (access(j->out, F_OK) == 0)
			j = NULL;
	}
	pthread_mutex_unlock(&r->lock);
	return j;
}

static void *
rendition_worker(void *arg)
{
	struct rendition_run *r = arg;
	const struct rendition_job *j;

	while ((j = rendition_take(r)) != NULL) {
		struct image_size sz;
		const char *why = NULL;

		if (image_rendition_file(j->master, j->width, j->height, j->quality, j->out, &sz,
		    &why) == 0)
			continue;
		pthread_mutex_lock(&r->lock);
		if (!r->failed)
			snprintf(r->why, sizeof r->why, "%s: %s", j->master, why ? why : "?");
		r->failed = 1;
		pthread_mutex_unlock(&r->lock);
	}
	return NULL;
}

int
rendition_make(const struct rendition_job *jobs, size_t n, const char **err_r)
{
	struct rendition_run r = { .jobs = jobs, .n = n };
	pthread_t tids[RENDITION_THREADS];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nthreads = cpus < 1 ? 1 : cpus > RENDITION_THREADS ? RENDITION_THREADS :
	    (size_t)cpus, started = 0;

	pthread_mutex_init(&r.lock, NULL);
	for (size_t i = 1; i < nthreads && i < n; i++)
		if (pthread_create(&tids[started], NULL, rendition_worker, &r) == 0)
			started++;
	rendition_worker(&r);	/* this thread works too */
	for (size_t i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	pthread_mutex_destroy(&r.lock);
	if (!r.failed)
		return 0;
	memcpy(rendition_errbuf, r.why, sizeof rendition_errbuf);
	*err_r = rendition_errbuf;
	return -1;
}
