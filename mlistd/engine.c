/* engine.c — see engine.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "engine.h"
#include "spool.h"
#include "util.h"

int
engine_open(struct engine *e, const struct config *cf, const char **error_r)
{
	char *path;

	memset(e, 0, sizeof *e);
	e->cf = cf;
	path = xasprintf("%s/mlistd.db", cf->data_dir);
	if (db_open(path, &e->db, error_r) == -1) {
		free(path);
		return -1;
	}
	free(path);
	path = xasprintf("%s/spool", cf->data_dir);
	if (spool_open(path, &e->sp, error_r) == -1) {
		free(path);
		return -1;
	}
	free(path);
	e->list_addr = config_address(cf, cf->national_address);
	e->request_addr = config_address(cf, cf->request_address);
	return 0;
}

void
engine_close(struct engine *e)
{
	db_close(&e->db);
	spool_close(&e->sp);
	free(e->list_addr);
	free(e->request_addr);
	memset(e, 0, sizeof *e);
}

void
engine_token(char *out, size_t nbytes)
{
	if (random_hex(out, nbytes) == -1)
		abort();	/* getrandom cannot fail for small sizes */
}

char *
engine_addr(const struct engine *e, const char *local, const char *ext)
{
	if (ext && *ext)
		return xasprintf("%s+%s@%s", local, ext, e->cf->domain);
	return xasprintf("%s@%s", local, e->cf->domain);
}
