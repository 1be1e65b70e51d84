/* testlib.c — see testlib.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "engine.h"
#include "testlib.h"
#include "util.h"

void
test_set(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

void
test_env_open(char *dir, const char *name, const char *domain, struct config *cf,
    struct engine *e)
{
	const char *err = NULL;
	FILE *devnull = fopen("/dev/null", "w");

	snprintf(dir, TEST_DIR_SIZE, "/tmp/mlistd-test-%s-XXXXXX", name);
	assert_non_null(mkdtemp(dir));
	config_load(cf, NULL, devnull ? devnull : stderr);	/* only "domain required" */
	if (devnull)
		fclose(devnull);
	test_set(&cf->domain, domain);
	test_set(&cf->data_dir, dir);
	test_set(&cf->templates_dir, "templates");
	if (engine_open(e, cf, &err) != 0)
		fail_msg("engine_open: %s", err ? err : "?");
}

void
test_env_close(const char *dir, struct config *cf, struct engine *e)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	engine_close(e);
	config_free(cf);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}
