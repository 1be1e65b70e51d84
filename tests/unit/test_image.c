/*
 * test_image.c — the libvips adapter: photos made at test time (a phone
 * JPEG of 4032x3024 with EXIF Orientation=6 and GPS, a PNG screenshot with
 * transparency, an animated GIF, HEIC, WebP) become masters whose JPEG
 * markers we parse: no EXIF/XMP/IPTC/ICC left, upright (portrait stays
 * portrait), long side <= 2048 (a JPEG of 4032 px decoded at half size,
 * 2016; one of 3000 px reduced to 2048), never enlarged; renditions at a width;
 * what is not a picture, truncated or a decompression bomb is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "image.h"
#include "testlib.h"
#include "util.h"

static char dir[64];

static char *
path_in(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static void
slurp(const char *name, char **data_r, size_t *len_r)
{
	char *p = path_in(name);

	assert_int_equal(file_read(p, 64u << 20, data_r, len_r), 0);
	free(p);
}

/* The master of file name: must succeed, parse as a clean JPEG of the
 * size reported; returns the parsed markers. */
static struct test_jpeg
master_of(const char *name)
{
	char *in, *out;
	size_t inlen, outlen;
	struct image_size sz;
	struct test_jpeg j;
	const char *err = NULL;

	slurp(name, &in, &inlen);
	if (image_master(in, inlen, 0, 0, &out, &outlen, &sz, &err) != 0)
		fail_msg("%s: %s", name, err);
	assert_int_equal(test_jpeg_parse(out, outlen, &j), 0);
	assert_int_equal(j.width, sz.width);
	assert_int_equal(j.height, sz.height);
	assert_false(j.exif || j.xmp || j.iptc || j.icc);
	free(in);
	free(out);
	return j;
}

static void
refused(const void *data, size_t len)
{
	char *out = (char *)"x";
	size_t outlen = 1;
	struct image_size sz;
	const char *err = NULL;

	assert_int_equal(image_master(data, len, 0, 0, &out, &outlen, &sz, &err), -1);
	assert_non_null(err);
	assert_null(out);
	assert_int_equal(outlen, 0);
}

static void
test_phone_portrait(void **state)
{
	char *p = path_in("phone.jpg"), *in;
	size_t len;
	struct test_jpeg j;

	test_photo_make(p, 4032, 3024, 1, 6, 1);
	slurp("phone.jpg", &in, &len);
	assert_true(len > 5u * 1024 * 1024);	/* over the old 5 MB cap */
	assert_int_equal(test_jpeg_parse(in, len, &j), 0);
	assert_true(j.exif);		/* the input had it */
	assert_true(image_is_picture(in, len));
	j = master_of("phone.jpg");
	assert_true(j.width < j.height);	/* Orientation=6 applied */
	assert_int_equal(j.height, 2016);	/* decoded at half size, no resampling */
	assert_int_equal(j.width, 1512);
	free(in);
	free(p);
}

/* The DCT factor never takes a master under IMAGE_MASTER_MIN_SIDE: 3000 px
 * is resampled to 2048 (half would be 1500), 8160 px decoded at a quarter
 * (2040) and 3300 px at half (1650) with nothing left to resample. */
static void
test_master_sizes(void **state)
{
	static const struct { int w, h, mw, mh; } cases[] = {
		{ 3000, 2000, 2048, 1365 }, { 8160, 1000, 2040, 250 }, { 1600, 3300, 800, 1650 },
	};
	char *p = path_in("size.jpg");
	struct test_jpeg j;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		test_photo_make(p, cases[i].w, cases[i].h, 0, 0, 0);
		j = master_of("size.jpg");
		if (j.width != cases[i].mw || abs(j.height - cases[i].mh) > 1)
			fail_msg("%dx%d: master %dx%d", cases[i].w, cases[i].h, j.width, j.height);
	}
	free(p);
}

static void
test_small_not_enlarged(void **state)
{
	char *p = path_in("small.jpg");
	struct test_jpeg j;

	test_photo_make(p, 640, 480, 0, 0, 1);
	j = master_of("small.jpg");
	assert_int_equal(j.width, 640);
	assert_int_equal(j.height, 480);
	free(p);
}

static void
test_other_formats(void **state)
{
	struct test_jpeg j;

	test_sh("cd '%s' && convert -size 1170x2532 xc:none -fill blue -draw"
	    " 'circle 585,1266 585,300' shot.png", dir);
	test_sh("cd '%s' && convert -size 300x200 xc:red xc:green xc:blue -loop 0 anim.gif",
	    dir);
	test_sh("cd '%s' && convert -size 2400x1600 gradient:white-green w.jpg &&"
	    " vips copy w.jpg pic.heic && vips copy w.jpg pic.webp", dir);
	j = master_of("shot.png");
	assert_int_equal(j.width, 946);		/* 1170x2532 fitted in 2048 */
	assert_int_equal(j.height, 2048);
	j = master_of("anim.gif");		/* first frame */
	assert_int_equal(j.width, 300);
	assert_int_equal(j.height, 200);
	j = master_of("pic.heic");
	assert_int_equal(j.width, 2048);
	assert_true(j.height >= 1365 && j.height <= 1366);
	j = master_of("pic.webp");
	assert_int_equal(j.width, 2048);
}

static uint32_t
crc32_of(const unsigned char *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
	}
	return c ^ 0xFFFFFFFFu;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* A valid PNG header claiming 60000x60000 (3.6 gigapixels). */
static void
test_bomb(void **state)
{
	unsigned char png[8 + 25 + 12] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };
	unsigned char *ihdr = png + 8;

	put32(ihdr, 13);
	memcpy(ihdr + 4, "IHDR", 4);
	put32(ihdr + 8, 60000);
	put32(ihdr + 12, 60000);
	ihdr[16] = 8;			/* depth */
	ihdr[17] = 2;			/* RGB */
	put32(ihdr + 21, crc32_of(ihdr + 4, 17));
	memcpy(png + 33, "\0\0\0\0IEND\xAE\x42\x60\x82", 12);
	refused(png, sizeof png);
}

static void
test_not_pictures(void **state)
{
	static const char svg[] = "<svg xmlns='http://www.w3.org/2000/svg' width='10'"
	    " height='10'><rect width='10' height='10'/></svg>";
	static const char pdf[] = "%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
	char *in, *p;
	size_t len;

	refused(svg, sizeof svg - 1);
	refused(pdf, sizeof pdf - 1);
	refused("", 0);
	refused("\xFF\xD8\xFF", 3);
	assert_false(image_is_picture(svg, sizeof svg - 1));
	test_sh("cd '%s' && convert -size 64x64 xc:red t.tif", dir);
	slurp("t.tif", &in, &len);
	refused(in, len);		/* TIFF: not a format people mail */
	free(in);
	p = path_in("cut.jpg");
	test_photo_make(p, 800, 600, 1, 0, 0);
	free(p);
	slurp("cut.jpg", &in, &len);
	refused(in, len / 2);		/* truncated: not published half grey */
	free(in);
}

static void
test_renditions(void **state)
{
	char *phone = path_in("phone2.jpg"), *master = path_in("master.jpg");
	char *in, *out, *r800 = path_in("r800.jpg");
	size_t len, outlen;
	struct image_size sz;
	struct test_jpeg j;
	const char *err = NULL;

	test_photo_make(phone, 4032, 3024, 0, 0, 1);
	slurp("phone2.jpg", &in, &len);
	assert_int_equal(image_master(in, len, 0, 0, &out, &outlen, &sz, &err), 0);
	assert_int_equal(file_write_durable(master, out, outlen), 0);
	free(in);
	free(out);
	assert_int_equal(image_rendition_buffer(master, 800, 0, 75, &out, &outlen, &sz, &err),
	    0);
	assert_int_equal(test_jpeg_parse(out, outlen, &j), 0);
	assert_int_equal(j.width, 800);
	assert_int_equal(j.height, 600);
	free(out);
	assert_int_equal(image_rendition_file(master, 1600, 0, 82, r800, &sz, &err), 0);
	assert_int_equal(sz.width, 1600);
	assert_int_equal(image_file_size(r800, &sz, &err), 0);
	assert_int_equal(sz.height, 1200);
	/* never enlarged; a height bound is honoured */
	assert_int_equal(image_rendition_buffer(master, 4000, 300, 75, &out, &outlen, &sz,
	    &err), 0);
	assert_int_equal(sz.width, 400);
	assert_int_equal(sz.height, 300);
	free(out);
	assert_int_equal(image_rendition_buffer("/nonexistent.jpg", 800, 0, 75, &out, &outlen,
	    &sz, &err), -1);
	assert_non_null(err);
	free(phone);
	free(master);
	free(r800);
}

static int
setup(void **state)
{
	snprintf(dir, sizeof dir, "/tmp/mlistd-test-image-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	int rc = system(cmd);

	free(cmd);
	return rc;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phone_portrait),
		cmocka_unit_test(test_master_sizes),
		cmocka_unit_test(test_small_not_enlarged),
		cmocka_unit_test(test_other_formats),
		cmocka_unit_test(test_bomb),
		cmocka_unit_test(test_not_pictures),
		cmocka_unit_test(test_renditions),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
