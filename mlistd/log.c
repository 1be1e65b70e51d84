/*
 * log.c — logging to stderr (foreground) or syslog LOG_MAIL.
 * Severities: info (an event), warn/warnx (something failed, we go on),
 * fatal (start-up only: the program cannot run).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static int log_foreground = 1;
static const char *log_ident = "mlistd";
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void
log_init(const char *ident, int foreground)
{
	log_ident = ident;
	log_foreground = foreground;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

static void
log_vemit(int pri, const char *fmt, va_list ap, const char *suffix)
{
	char line[2048];

	vsnprintf(line, sizeof line, fmt, ap);
	if (!log_foreground) {
		syslog(pri, "%s%s%s", line, suffix ? ": " : "", suffix ? suffix : "");
		return;
	}
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "%s: %s%s%s\n", log_ident, line, suffix ? ": " : "",
	    suffix ? suffix : "");
	pthread_mutex_unlock(&log_lock);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}


void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	log_vemit(LOG_WARNING, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

