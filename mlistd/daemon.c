/*
 * daemon.c — start-up, threads, signals (see daemon.h).
 *
 * Threads: the LMTP listener (lmtp.c: one thread per client, only the
 * spool is touched there), the router (spool -> database decisions) and
 * the queue runner (database -> relay). Router and runner each have their
 * own engine (database connection). The LMTP "spooled" callback and the
 * router wake the next stage through one condition variable; each stage
 * also polls (1 s router, queue_run_interval runner) so that a message
 * spooled by "mlistctl inject" is seen without any signal.
 *
 * Start-up problems are fatal with one log line; once running, nothing
 * here exits but SIGTERM/SIGINT, which stops accepting, lets the current
 * router pass and queue run finish, and returns.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "bulletin.h"
#include "config.h"
#include "coverage.h"
#include "daemon.h"
#include "db.h"
#include "editor.h"
#include "engine.h"
#include "fetch.h"
#include "lmtp.h"
#include "log.h"
#include "office.h"
#include "queue.h"
#include "relay.h"
#include "router.h"
#include "spool.h"
#include "util.h"

#define DAEMON_TICK_INTERVAL	60	/* seconds between bulletin and coverage ticks */

static volatile sig_atomic_t daemon_stop;
static int daemon_exit = EX_OK;	/* under daemon_lock */
static pthread_mutex_t daemon_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t daemon_wake = PTHREAD_COND_INITIALIZER;
static int daemon_pending_route, daemon_pending_queue;

static void
daemon_on_signal(int sig)
{
	daemon_stop = sig;
}

static void
daemon_kick(int *flag)
{
	pthread_mutex_lock(&daemon_lock);
	*flag = 1;
	pthread_cond_broadcast(&daemon_wake);
	pthread_mutex_unlock(&daemon_lock);
}

/* Wait until flag is set, stop is asked, or seconds pass. */
static void
daemon_wait(int *flag, long seconds)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += seconds;
	pthread_mutex_lock(&daemon_lock);
	while (!*flag && !daemon_stop)
		if (pthread_cond_timedwait(&daemon_wake, &daemon_lock, &ts) == ETIMEDOUT)
			break;
	*flag = 0;
	pthread_mutex_unlock(&daemon_lock);
}

static void
daemon_spooled(void *arg, const char *id)
{
	daemon_kick(&daemon_pending_route);
}

static void
daemon_roster_summary(struct db *db)
{
	int64_t n[4];

	if (db_int(db, &n[0], "SELECT count(*) FROM committee", "") == -1 ||
	    db_int(db, &n[1], "SELECT count(*) FROM contact WHERE active", "") == -1 ||
	    db_int(db, &n[2], "SELECT count(*) FROM sender WHERE role = 'national'", "") == -1 ||
	    db_int(db, &n[3], "SELECT count(*) FROM sender WHERE role = 'editor'", "") == -1) {
		log_warnx("roster status=error reason=\"%s\"", db_errmsg(db));
		return;
	}
	log_info("roster committees=%lld contacts_active=%lld national_senders=%lld editors=%lld",
	    (long long)n[0], (long long)n[1], (long long)n[2], (long long)n[3]);
}

/* A damaged page met while running: every message would now fail and be
 * deferred for a disk fault. Stop instead (exit 65, no systemd restart);
 * what is not handled stays in the spool. 1 when stopping. */
static int
daemon_db_damaged(struct engine *e)
{
	if (db_corrupt(e->db) == NULL)
		return 0;
	log_warnx("data_dir=%s status=error reason=\"%s\"", e->cf->data_dir,
	    engine_db_damaged(e->cf, db_corrupt(e->db)));
	pthread_mutex_lock(&daemon_lock);
	daemon_exit = EX_DATAERR;
	daemon_stop = SIGTERM;
	pthread_cond_broadcast(&daemon_wake);
	pthread_mutex_unlock(&daemon_lock);
	return 1;
}

static void *
daemon_queue_thread(void *arg)
{
	struct engine *e = arg;
	time_t last_tick = 0;
	int report_failed = 0;

	while (!daemon_stop) {
		long next, report;

		/* The calendar and the coverage scan work in minutes and the coverage
		 * scan reads every recent broadcast's deliveries: once a minute, not
		 * on every wake-up (each routed message wakes this thread). A
		 * broadcast's report is sent when due (one indexed query per
		 * wake-up); after a failed one, at the next minute's tick only. */
		if (time(NULL) - last_tick >= DAEMON_TICK_INTERVAL) {
			bulletin_tick(e);
			coverage_tick(e);
			report_failed = office_tick(e) == -1;
			last_tick = time(NULL);
		} else if (!report_failed && office_next_due(e) == 0)
			report_failed = office_tick(e) == -1;
		editor_jobs(e);	/* proofs and publications asked by mail */
		queue_run(e);
		if (daemon_db_damaged(e))
			break;
		next = queue_next_due(e);
		if (next < 0 || next > e->cf->queue_run_interval)
			next = e->cf->queue_run_interval;
		if (!report_failed && (report = office_next_due(e)) >= 0 && report < next)
			next = report;
		daemon_wait(&daemon_pending_queue, next > 0 ? next : 1);
	}
	return NULL;
}

static void
daemon_fetch_spooled(void)
{
	daemon_kick(&daemon_pending_route);
}

static void *
daemon_fetch_thread(void *arg)
{
	fetch_loop(arg, (volatile int *)&daemon_stop, daemon_fetch_spooled);
	return NULL;
}

static int
daemon_start_lmtp(const struct config *cf, struct engine *e, struct lmtp_server **srv_r)
{
	static struct lmtp_config lc;
	static struct lmtp_handler h;
	const char *err = NULL;
	int fd;

	lc.hostname = cf->domain;
	lc.max_size = (size_t)cf->message_size_limit;
	lc.timeout_s = (int)cf->lmtp_timeout;
	lc.session_deadline_s = (int)cf->lmtp_session_deadline;
	lc.min_rate = (size_t)cf->lmtp_min_data_rate;
	lc.max_clients = (int)cf->lmtp_max_clients;
	h.rcpt_check = router_rcpt_check;
	h.spooled = daemon_spooled;
	h.arg = (void *)cf;
	if (lmtp_listen(cf->lmtp_listen, &fd, &err) == -1 ||
	    lmtp_server_start(fd, &lc, e->sp, &h, srv_r, &err) == -1) {
		log_warnx("lmtp listen=%s status=error reason=\"%s: mlistd exits; stop what"
		    " listens there (another mlistd?) or change lmtp_listen\"", cf->lmtp_listen, err);
		return -1;
	}
	log_info("lmtp listen=%s", cf->lmtp_listen);
	return 0;
}

/* --once: route everything, then deliver everything due, then return.
 * EX_TEMPFAIL when something is left for the next run: a mailbox that could
 * not be read, a routing error, deliveries deferred by this run. */
static int
daemon_once(struct engine *router, struct engine *runner)
{
	int64_t start = now();
	int rc = EX_OK;
	long deferred;

	/* Outcomes are stamped in seconds: begin in a second where no earlier
	 * run recorded a deferral, so that only this run's are counted. */
	if (queue_deferred_since(runner, start) != 0) {
		sleep(1);
		start = now();
	}
	if (router->cf->nfetch > 0 && fetch_run(router) == -1) {
		log_warnx("once status=incomplete reason=\"a mailbox could not be read\"");
		rc = EX_TEMPFAIL;
	}
	if (router_run(router) == -1 && db_corrupt(router->db) == NULL) {
		log_warn("once status=incomplete reason=\"the spool cannot be read\" spool=%s/spool",
		    router->cf->data_dir);
		return EX_TEMPFAIL;
	}
	if (daemon_db_damaged(router))
		return EX_DATAERR;
	editor_jobs(runner);
	bulletin_tick(runner);
	coverage_tick(runner);
	office_tick(runner);
	while (queue_run(runner) > 0 && queue_next_due(runner) == 0)
		;
	if (daemon_db_damaged(runner))
		return EX_DATAERR;
	if ((deferred = queue_deferred_since(runner, start)) != 0) {
		log_warnx("once status=incomplete reason=\"deliveries deferred\" deferred=%ld",
		    deferred);
		rc = EX_TEMPFAIL;
	}
	return rc;
}

static void
daemon_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = daemon_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

static int
daemon_loop(const struct config *cf, struct engine *router, struct engine *runner)
{
	struct lmtp_server *srv = NULL;
	struct engine fetcher;
	const char *err = NULL;
	pthread_t qt, ft;
	int fetching = 0, rc;

	if (*cf->lmtp_listen && daemon_start_lmtp(cf, router, &srv) == -1)
		return EX_UNAVAILABLE;
	if ((rc = pthread_create(&qt, NULL, daemon_queue_thread, runner)) != 0) {
		log_warnx("queue status=error reason=\"cannot start its thread: %s: mlistd exits;"
		    " see the system's limits (threads, memory), then start it again\"",
		    strerror(rc));
		lmtp_server_stop(&srv);
		return EX_OSERR;
	}
	if (cf->nfetch > 0 && engine_open(&fetcher, cf, &err) == 0) {
		if (pthread_create(&ft, NULL, daemon_fetch_thread, &fetcher) == 0)
			fetching = 1;
		else
			engine_close(&fetcher);
	} else if (cf->nfetch > 0)
		log_warnx("fetch status=error reason=\"%s\"", err);
	while (!daemon_stop) {
		if (router_run(router) > 0)
			daemon_kick(&daemon_pending_queue);
		if (daemon_db_damaged(router))
			break;
		daemon_wait(&daemon_pending_route, 1);
	}
	pthread_mutex_lock(&daemon_lock);
	rc = daemon_exit;
	pthread_mutex_unlock(&daemon_lock);
	if (rc == EX_OK)
		log_info("stopping signal=%d", (int)daemon_stop);
	else
		log_warnx("stopping exit=%d reason=\"the database is damaged (the line above says"
		    " what to do)\"", rc);
	if (srv)
		lmtp_server_stop(&srv);
	daemon_kick(&daemon_pending_queue);
	pthread_join(qt, NULL);
	if (fetching) {
		pthread_join(ft, NULL);
		engine_close(&fetcher);
	}
	return rc;
}

int
daemon_run(const struct config *cf, int once)
{
	struct engine router = { 0 }, runner = { 0 };
	const char *err = NULL;
	int rc;

	relay_global_init();
	if ((rc = engine_check(cf, ENGINE_CHECK_PAGES, &err)) != EX_OK) {
		log_warnx("data_dir=%s status=error reason=\"%s\"", cf->data_dir, err);
		return rc;
	}
	if (engine_open(&router, cf, &err) == -1 || engine_open(&runner, cf, &err) == -1) {
		log_warnx("data_dir=%s status=error reason=\"cannot open: %s: mlistd exits;"
		    " data_dir and its files must belong to the user mlistd runs as (INSTALL)\"",
		    cf->data_dir, err);
		engine_close(&router);
		engine_close(&runner);
		return EX_CANTCREAT;
	}
	/* The router's decisions replace spool files: make its commits durable. */
	db_exec(router.db, "PRAGMA synchronous=FULL");
	log_info("starting config=%s domain=%s data_dir=%s language=%s relay=%s", cf->file,
	    cf->domain, cf->data_dir, cf->language, *cf->smtp_relay ? cf->smtp_relay : "(outbox)");
	if (*cf->smtp_relay)
		(void)relay_interposition();	/* the self-test, logged */
	daemon_roster_summary(router.db);
	router_recover(&router);
	daemon_signals();
	rc = once ? daemon_once(&router, &runner) : daemon_loop(cf, &router, &runner);
	engine_close(&router);
	engine_close(&runner);
	return rc;
}
