/*
 * log.c — logging to stderr (foreground, each line stamped with the local
 * time and its UTC offset) or syslog LOG_MAIL (which stamps its own).
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

/* Local time as 2026-12-03T05:20:01.123+0100 (syslog adds its own). */
static void
log_stamp(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	char day[32], zone[8];

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(zone, sizeof zone, "%z", &tm);
	snprintf(buf, size, "%s.%03d%s", day, (int)(ts.tv_nsec / 1000000), zone);
}

static void
log_vemit(int pri, const char *fmt, va_list ap, const char *suffix)
{
	char line[2048], stamp[64];

	vsnprintf(line, sizeof line, fmt, ap);
	if (!log_foreground) {
		syslog(pri, "%s%s%s", line, suffix ? ": " : "", suffix ? suffix : "");
		return;
	}
	log_stamp(stamp, sizeof stamp);
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "%s %s: %s%s%s\n", stamp, log_ident, line, suffix ? ": " : "",
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

