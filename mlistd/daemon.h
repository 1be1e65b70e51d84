/*
 * daemon.h — the running daemon: opens the data directory, reconciles the
 * spool, starts the listeners and the workers, and runs until SIGTERM
 * (or, with once, until nothing is due).
 */
#ifndef MLISTD_DAEMON_H
#define MLISTD_DAEMON_H

struct config;

/* Returns an exit code (sysexits.h). */
int daemon_run(const struct config *cf, int once);

#endif
