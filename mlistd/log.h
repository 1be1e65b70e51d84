/*
 * log.h — the daemon's and the tool's logging: one line per event, key=value.
 *
 * In the foreground (or for mlistctl) lines go to stderr; the daemon in the
 * background writes to syslog LOG_MAIL. log_warn() appends strerror(errno),
 * log_warnx() does not.
 */
#ifndef MLISTD_LOG_H
#define MLISTD_LOG_H

#include <stdarg.h>

void log_init(const char *ident, int foreground);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
