/*
 * testlib.h — what the unit tests of the mail modules share: a temporary
 * data directory with the default configuration and an engine open on it.
 * Linked into every test binary (Makefile: TESTLIB).
 */
#ifndef MLISTD_TESTLIB_H
#define MLISTD_TESTLIB_H

struct config;
struct engine;

#define TEST_DIR_SIZE 64

/* mkdtemp /tmp/mlistd-test-NAME-XXXXXX into dir (TEST_DIR_SIZE bytes), the
 * defaults with domain, data_dir = dir and templates_dir = the tree's
 * templates/, then engine_open. Any failure fails the test. */
void test_env_open(char *dir, const char *name, const char *domain, struct config *cf,
    struct engine *e);
/* engine_close, config_free, and the directory removed. */
void test_env_close(const char *dir, struct config *cf, struct engine *e);
/* Replace a configuration string. */
void test_set(char **field, const char *value);

#endif
