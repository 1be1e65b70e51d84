/*
 * mlistd.c — the daemon's main: flags, configuration, then daemon_run().
 *
 *   mlistd [-c FILE] [-n] [-f] [--once]
 *     -n      check the configuration and exit (78 when invalid)
 *     -f      stay in the foreground, log to stderr
 *     --once  process everything that is due, then exit
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "config.h"
#include "daemon.h"
#include "i18n.h"
#include "log.h"
#include "relay.h"
#include "util.h"

static void
usage(void)
{
	fprintf(stderr, "usage: mlistd [-c FILE] [-n] [-f] [--once]\n");
}

/* -n: whether the SMTP client runs as designed (relay.h). */
static void
mlistd_check_relay(void)
{
	const char *why;

	if (relay_selftest(&why) == 0)
		printf("relay: libesmtp reaches the interposed poll(), connect(), write()\n");
	else
		printf("relay: interposition not in effect (%s): stock libesmtp, one thread per"
		    " connection\n", why);
}

/* The configuration, or EX_CONFIG with its errors (file:line: message) on
 * stderr and one last line saying what to do: nothing is logged yet, and
 * under systemd stderr goes to the journal. */
static int
mlistd_config(const char *conf, struct config *cf)
{
	char *path = config_find(conf);

	if (path == NULL) {
		fprintf(stderr, "mlistd: not started: no configuration file (looked for -c FILE,"
		    " $MLISTD_CONF, ./mlistd.conf, /etc/mlistd/mlistd.conf): write"
		    " /etc/mlistd/mlistd.conf (INSTALL lists every key) or give -c FILE\n");
		return EX_CONFIG;
	}
	if (config_load(cf, path, stderr) != 0) {
		fprintf(stderr, "mlistd: not started because of %s (the lines above): correct it,"
		    " then check it with \"mlistd -n -c %s\"\n", path, path);
		free(path);
		config_free(cf);
		return EX_CONFIG;
	}
	free(path);
	return EX_OK;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf = NULL;
	struct config cf;
	int c, check = 0, foreground = 0, once = 0, rc;

	umask(DATA_UMASK);
	while ((c = getopt_long(argc, argv, "c:nfhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': conf = optarg; break;
		case 'n': check = 1; break;
		case 'f': foreground = 1; break;
		case 'o': once = 1; foreground = 1; break;
		case 'V': puts("mlistd " MLISTD_VERSION); return EX_OK;
		case 'h': usage(); return EX_OK;
		default: usage(); return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage();
		return EX_USAGE;
	}
	if ((rc = mlistd_config(conf, &cf)) != EX_OK)
		return rc;
	i18n_set_language(cf.language);
	if (check) {
		printf("%s: configuration OK\n", cf.file);
		if (*cf.smtp_relay)
			mlistd_check_relay();
		config_free(&cf);
		return EX_OK;
	}
	log_init("mlistd", foreground);
	rc = daemon_run(&cf, once);
	config_free(&cf);
	return rc;
}
