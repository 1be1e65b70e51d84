/*
 * testlib.h — what the unit tests share: a temporary data directory with
 * the default configuration and an engine open on it (or a database
 * alone), the clock, roster fixtures, assertions on the database, what the
 * code logs, photos made at test time. Linked into every test binary
 * (Makefile: STUB_OBJ). Every helper fails the test on an error.
 */
#ifndef MLISTD_TESTLIB_H
#define MLISTD_TESTLIB_H

#include <stdint.h>

struct config;
struct db;
struct engine;

#define TEST_DIR_SIZE 64

/* mkdtemp /tmp/mlistd-test-NAME-XXXXXX into dir (TEST_DIR_SIZE bytes). */
void test_dir_make(char *dir, const char *name);
/* rm -rf dir. */
void test_dir_remove(const char *dir);
/* test_dir_make, the defaults with domain, data_dir = dir and
 * templates_dir = the tree's templates/, then engine_open. */
void test_env_open(char *dir, const char *name, const char *domain, struct config *cf,
    struct engine *e);
/* engine_close, config_free, the directory removed, the clock reset. */
void test_env_close(const char *dir, struct config *cf, struct engine *e);
/* A database alone: test_dir_make, then db_open of DIR/mlistd.db (the
 * schema applied). test_db_close closes it and removes the directory. */
struct db *test_db_open(char *dir, const char *name);
void test_db_close(const char *dir, struct db **db);
/* The code's clock, now(): MLISTD_NOW = t (test_env_close unsets it). */
void test_now(int64_t t);

/* Roster fixtures. A committee NAME (slug from the name) in region and
 * department, with contacts "email Name, email, ..." (names optional,
 * contacts may be NULL); its id. */
int64_t test_committee(struct engine *e, const char *name, const char *region,
    const char *department, const char *contacts);
/* A contact of committee (its name or slug); name may be NULL. */
void test_contact(struct engine *e, const char *committee, const char *email,
    const char *name);
/* A sender with role "national" or "editor"; name may be NULL. */
void test_sender(struct engine *e, const char *email, const char *role, const char *name);
/* Replace a configuration string. */
void test_set(char **field, const char *value);
/* db_int for assertions: the value (0 for no row or NULL); a database
 * error fails the test. */
int64_t test_int(struct db *db, const char *sql, const char *types, ...);

/* Photos made at test time (ImageMagick, exiftool; nothing stored in the
 * tree). test_photo_make writes a JPEG of w x h pixels to path, random noise
 * when noisy (camera-sized files: ~0.7 byte/pixel) else a gradient, with
 * EXIF Orientation (0: none) and GPS position, Make and Model when exif. */
void test_photo_make(const char *path, int w, int h, int noisy, int orientation, int exif);
/* What the code under test logs (stderr) between test_log_begin() and
 * test_log_end(), which returns it (caller frees). */
void test_log_begin(void);
char *test_log_end(void);
/* Run a shell command; it must succeed. */
void test_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* What a JPEG's markers say: frame size, and whether any APP1 (EXIF, XMP),
 * APP13 (IPTC) or APP2 (ICC) metadata is left. 0, or -1 when not a JPEG. */
struct test_jpeg {
	int	width, height;
	int	exif, xmp, iptc, icc;
};
int test_jpeg_parse(const void *data, size_t len, struct test_jpeg *j);

#endif
