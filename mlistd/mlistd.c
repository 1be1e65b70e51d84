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

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf = NULL;
	struct config cf;
	char *path;
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
	path = config_find(conf);
	if (config_load(&cf, path, stderr) != 0) {
		free(path);
		config_free(&cf);
		return EX_CONFIG;
	}
	free(path);
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
