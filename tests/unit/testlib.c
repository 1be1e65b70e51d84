/* testlib.c — see testlib.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "engine.h"
#include "roster.h"
#include "testlib.h"
#include "util.h"

void
test_set(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

int64_t
test_int(struct db *db, const char *sql, const char *types, ...)
{
	va_list ap;
	int64_t v;
	int rc;

	va_start(ap, types);
	rc = db_vint(db, &v, sql, types, ap);
	va_end(ap);
	if (rc == -1)
		fail_msg("%s: %s", sql, db_errmsg(db));
	return v;
}

void
test_dir_make(char *dir, const char *name)
{
	snprintf(dir, TEST_DIR_SIZE, "/tmp/mlistd-test-%s-XXXXXX", name);
	assert_non_null(mkdtemp(dir));
}

void
test_dir_remove(const char *dir)
{
	test_sh("rm -rf '%s'", dir);
}

struct db *
test_db_open(char *dir, const char *name)
{
	char *path;
	struct db *db;
	const char *err = NULL;

	test_dir_make(dir, name);
	path = xasprintf("%s/mlistd.db", dir);
	if (db_open(path, &db, &err) != 0)
		fail_msg("db_open %s: %s", path, err ? err : "?");
	free(path);
	return db;
}

void
test_db_close(const char *dir, struct db **db)
{
	db_close(db);
	test_dir_remove(dir);
}

void
test_now(int64_t t)
{
	char v[32];

	snprintf(v, sizeof v, "%lld", (long long)t);
	assert_int_equal(setenv("MLISTD_NOW", v, 1), 0);
}

void
test_contact(struct engine *e, const char *committee, const char *email, const char *name)
{
	const char *err = NULL;

	if (roster_contact_add(e->db, e->cf, committee, email, name, &err) != 1)
		fail_msg("contact %s of %s: %s", email, committee, err ? err : "?");
}

/* One "email Name" of test_committee's list (s is changed). */
static void
test_contact_parse(struct engine *e, const char *committee, char *s)
{
	char *name;

	s += strspn(s, " ");
	if ((name = strchr(s, ' ')) != NULL)
		*name++ = '\0';
	test_contact(e, committee, s, name && *name ? name : NULL);
}

int64_t
test_committee(struct engine *e, const char *name, const char *region,
    const char *department, const char *contacts)
{
	char *list = xstrdup(contacts ? contacts : ""), *save = NULL;
	const char *err = NULL;
	int64_t id = 0;

	if (roster_committee_add(e->db, name, NULL, region, department, "", &id, &err) != 1)
		fail_msg("committee %s: %s", name, err ? err : "?");
	for (char *c = strtok_r(list, ",", &save); c; c = strtok_r(NULL, ",", &save))
		test_contact_parse(e, name, c);
	free(list);
	return id;
}

void
test_sender(struct engine *e, const char *email, const char *role, const char *name)
{
	const char *err = NULL;

	if (roster_sender_add(e->db, e->cf, email, role, name, &err) != 1)
		fail_msg("sender %s: %s", email, err ? err : "?");
}

void
test_env_open(char *dir, const char *name, const char *domain, struct config *cf,
    struct engine *e)
{
	const char *err = NULL;
	FILE *devnull = fopen("/dev/null", "w");

	test_dir_make(dir, name);
	config_load(cf, NULL, devnull ? devnull : stderr);	/* only "domain required" */
	if (devnull)
		fclose(devnull);
	test_set(&cf->domain, domain);
	test_set(&cf->list_name, "National");	/* the tests' association */
	test_set(&cf->data_dir, dir);
	test_set(&cf->templates_dir, "templates");
	if (engine_open(e, cf, &err) != 0)
		fail_msg("engine_open: %s", err ? err : "?");
}

void
test_env_close(const char *dir, struct config *cf, struct engine *e)
{
	engine_close(e);
	config_free(cf);
	test_dir_remove(dir);
	unsetenv("MLISTD_NOW");
}

static FILE *test_log_file;
static int test_log_saved = -1;

void
test_log_begin(void)
{
	fflush(stderr);
	assert_non_null(test_log_file = tmpfile());
	assert_true((test_log_saved = dup(STDERR_FILENO)) != -1);
	assert_int_equal(dup2(fileno(test_log_file), STDERR_FILENO), STDERR_FILENO);
}

char *
test_log_end(void)
{
	char *text;
	long len;

	fflush(stderr);
	assert_int_equal(dup2(test_log_saved, STDERR_FILENO), STDERR_FILENO);
	close(test_log_saved);
	assert_int_equal(fseek(test_log_file, 0, SEEK_END), 0);
	len = ftell(test_log_file);
	rewind(test_log_file);
	text = xcalloc(1, (size_t)len + 1);
	assert_int_equal(fread(text, 1, (size_t)len, test_log_file), (size_t)len);
	fclose(test_log_file);
	test_log_file = NULL;
	return text;
}

void
test_sh(const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	int rc;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		fail_msg("vasprintf");
	va_end(ap);
	rc = system(cmd);
	if (rc != 0)
		fail_msg("command failed (%d): %s", rc, cmd);
	free(cmd);
}

void
test_photo_make(const char *path, int w, int h, int noisy, int orientation, int exif)
{
	test_sh("convert -size %dx%d %s -quality 92 '%s'", w, h,
	    noisy ? "xc:gray +noise Random" : "gradient:orange-navy", path);
	if (exif)
		test_sh("exiftool -q -overwrite_original -Make=Apple '-Model=iPhone 13'"
		    " -GPSLatitude=48.8566 -GPSLatitudeRef=N -GPSLongitude=2.3522"
		    " -GPSLongitudeRef=E -DateTimeOriginal='2026:11:14 15:02:11' '%s'", path);
	if (orientation)
		test_sh("exiftool -q -overwrite_original -n -Orientation=%d '%s'", orientation,
		    path);
}

static unsigned
test_be16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* One marker segment at p (length n bytes of payload after the length). */
static void
test_jpeg_segment(int marker, const unsigned char *p, size_t n, struct test_jpeg *j)
{
	if (marker == 0xE1 && n >= 6 && memcmp(p, "Exif\0\0", 6) == 0)
		j->exif = 1;
	else if (marker == 0xE1)
		j->xmp = 1;
	else if (marker == 0xED)
		j->iptc = 1;
	else if (marker == 0xE2)
		j->icc = 1;
	else if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 &&
	    marker != 0xCC && n >= 5) {
		j->height = (int)test_be16(p + 1);
		j->width = (int)test_be16(p + 3);
	}
}

int
test_jpeg_parse(const void *data, size_t len, struct test_jpeg *j)
{
	const unsigned char *p = data, *end = p + len;

	memset(j, 0, sizeof *j);
	if (len < 4 || p[0] != 0xFF || p[1] != 0xD8)
		return -1;
	for (p += 2; p + 4 <= end && p[0] == 0xFF;) {
		int marker = p[1];
		size_t n = test_be16(p + 2);

		if (marker == 0xDA || n < 2 || p + 2 + n > end)
			break;		/* start of scan: the rest is pixels */
		test_jpeg_segment(marker, p + 4, n - 2, j);
		p += 2 + n;
	}
	return j->width > 0 ? 0 : -1;
}
