/*
 * test_csv.c — the roster CSV reader and writer (mlistd/csv.c).
 *
 * Parser cases are a table of inputs and the expected document rendered as
 * "LINE[f1|f2|...]" per row, so a case reads like the file it describes.
 * Also: charset table, writer quoting, write-then-parse round trip in the
 * three dialects, malformed input, and the sample rosters in tests/data/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "csv.h"
#include "util.h"

struct parse_case {
	const char	*name;
	const char	*input;
	size_t		 len;		/* 0: strlen(input) */
	char		 delim;
	const char	*encoding;
	const char	*expect;	/* rendered rows */
};

static const struct parse_case parse_cases[] = {
	{ "semicolon", "a;b;c\nd;e;f\n", 0, ';', "UTF-8", "1[a|b|c]2[d|e|f]" },
	{ "comma", "a,b\n1,2\n", 0, ',', "UTF-8", "1[a|b]2[1|2]" },
	{ "tab", "a\tb\tc\n1\t 2 \t3", 0, '\t', "UTF-8", "1[a|b|c]2[1|2|3]" },
	{ "tie goes to semicolon", "a;b,c\n", 0, ';', "UTF-8", "1[a|b,c]" },
	{ "more commas win", "a,b,c;d\n", 0, ',', "UTF-8", "1[a|b|c;d]" },
	{ "quoted header delimiters ignored", "\"x;y;z\",b\n", 0, ',',
	    "UTF-8", "1[x;y;z|b]" },
	{ "no delimiter at all", "email\nx@example.org\n", 0, ',', "UTF-8",
	    "1[email]2[x@example.org]" },
	{ "latin-1", "nom;r\xe9gion\nb\xe9" "b\xe9;\xeele\n", 0, ';',
	    "Windows-1252", "1[nom|région]2[bébé|île]" },
	{ "cp1252 specials", "a;b\n\x80;l\x92\x9cuvre\n", 0, ';',
	    "Windows-1252", "1[a|b]2[€|l’œuvre]" },
	{ "cp1252 undefined byte", "a;\x81\n", 0, ';', "Windows-1252",
	    "1[a|\xef\xbf\xbd]" },
	{ "utf-8 with BOM", "\xef\xbb\xbfnom;r\xc3\xa9gion\nx;y\n", 0, ';',
	    "UTF-8", "1[nom|région]2[x|y]" },
	{ "quoted delimiter and quotes", "a;b\n\"x;y\";\"say \"\"hi\"\"\"\n", 0,
	    ';', "UTF-8", "1[a|b]2[x;y|say \"hi\"]" },
	{ "newline in quotes", "a;b\n\"one\ntwo\";z\nc;d\n", 0, ';', "UTF-8",
	    "1[a|b]2[one\ntwo|z]4[c|d]" },
	{ "CRLF", "a;b\r\nc;d\r\n", 0, ';', "UTF-8", "1[a|b]2[c|d]" },
	{ "CRLF in quotes", "a;b\r\n\"x\r\ny\";z\r\nq;r\r\n", 0, ';', "UTF-8",
	    "1[a|b]2[x\ny|z]4[q|r]" },
	{ "CR only", "a;b\rc;d\r", 0, ';', "UTF-8", "1[a|b]2[c|d]" },
	{ "blank lines", "\na;b\n\n  \r\nc;d\n\n", 0, ';', "UTF-8",
	    "2[a|b]5[c|d]" },
	{ "row of empty fields", "a;b\n;\nc;d", 0, ';', "UTF-8",
	    "1[a|b]3[c|d]" },
	{ "quoted empty row kept", "a;b\n\"\"\n", 0, ';', "UTF-8",
	    "1[a|b]2[]" },
	{ "trailing empty fields", "a;b;c\n1;;\n2;;", 0, ';', "UTF-8",
	    "1[a|b|c]2[1||]3[2||]" },
	{ "trim unquoted only", " a ; b ;\" c \"\n", 0, ';', "UTF-8",
	    "1[a|b| c ]" },
	{ "spaces around quotes", "a; \"b;c\" ;d\n", 0, ';', "UTF-8",
	    "1[a|b;c|d]" },
	{ "text after closing quote", "a;\"b\"c\n", 0, ';', "UTF-8",
	    "1[a|bc]" },
	{ "no final newline", "a;b", 0, ';', "UTF-8", "1[a|b]" },
};

struct error_case {
	const char	*name;
	const char	*input;
	size_t		 len;
	const char	*error;		/* substring expected in the error */
};

static const struct error_case error_cases[] = {
	{ "empty", "", 0, "empty" },
	{ "only blank lines", "\n \r\n\t\n", 0, "empty" },
	{ "only a BOM", "\xef\xbb\xbf", 0, "empty" },
	{ "unterminated quote", "a;b\nc;\"open\nmore;x\n", 0, "line 2" },
	{ "unterminated on line 1", "\"a;b\n", 0, "line 1" },
	{ "unterminated after CRLF span", "a;b\r\n\"x\r\ny\";z\r\n\"w",
	    0, "line 4" },
	{ "UTF-16", "\xff\xfe" "a\0;\0", 6, "UTF-16" },
	{ "NUL byte", "a;b\nc\0;d\n", 9, "line 2" },
};

static char *
render(const struct csv *csv)
{
	struct buf b;

	buf_init(&b);
	for (size_t r = 0; r < csv_nrows(csv); r++) {
		buf_printf(&b, "%zu[", csv_line(csv, r));
		for (size_t c = 0; c < csv_nfields(csv, r); c++)
			buf_printf(&b, "%s%s", c ? "|" : "", csv_field(csv, r, c));
		buf_addc(&b, ']');
	}
	return buf_steal(&b);
}

static void
test_parse_table(void **state)
{
	for (size_t i = 0; i < nitems(parse_cases); i++) {
		const struct parse_case *t = &parse_cases[i];
		size_t len = t->len ? t->len : strlen(t->input);
		struct csv *csv;
		const char *error = NULL;
		char *got;

		if (csv_parse(t->input, len, &csv, &error) < 0)
			fail_msg("%s: parse failed: %s", t->name, error);
		got = render(csv);
		if (strcmp(got, t->expect) != 0 || csv_delimiter(csv) != t->delim ||
		    strcmp(csv_encoding(csv), t->encoding) != 0)
			fail_msg("%s: got %s delim '%c' %s", t->name, got,
			    csv_delimiter(csv), csv_encoding(csv));
		free(got);
		csv_free(&csv);
		assert_null(csv);
	}
}

static void
test_parse_errors(void **state)
{
	for (size_t i = 0; i < nitems(error_cases); i++) {
		const struct error_case *t = &error_cases[i];
		size_t len = t->len ? t->len : strlen(t->input);
		struct csv *csv = (struct csv *)&csv;
		const char *error = NULL;

		if (csv_parse(t->input, len, &csv, &error) != -1)
			fail_msg("%s: parse succeeded", t->name);
		assert_null(csv);
		if (error == NULL || strstr(error, t->error) == NULL)
			fail_msg("%s: error \"%s\" lacks \"%s\"", t->name,
			    error ? error : "(null)", t->error);
	}
}

static void
test_out_of_range(void **state)
{
	struct csv *csv;
	const char *error;

	assert_int_equal(csv_parse("a;b\n", 4, &csv, &error), 0);
	assert_string_equal(csv_field(csv, 0, 2), "");
	assert_string_equal(csv_field(csv, 5, 0), "");
	assert_int_equal(csv_nfields(csv, 1), 0);
	assert_int_equal(csv_line(csv, 1), 0);
	csv_free(&csv);
	csv_free(&csv);
}

static void
test_cp1252(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "plain", "plain" },
		{ "\xe9t\xe9", "été" },
		{ "\x80", "€" }, { "\x92", "’" }, { "\x9c", "œ" },
		{ "\x8c\x9f\x85\x96\x97\x99", "ŒŸ…–—™" },
		{ "\x81\x8d\x8f\x90\x9d", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
		    "\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xa0\xab\xbb\xff", "\xc2\xa0«»ÿ" },
		{ "", "" },
	};

	for (size_t i = 0; i < nitems(cases); i++) {
		char *s = charset_cp1252_to_utf8(cases[i].in, strlen(cases[i].in));

		assert_string_equal(s, cases[i].out);
		free(s);
	}
}

static void
test_write_field(void **state)
{
	static const struct { const char *in; char delim; const char *out; } cases[] = {
		{ "plain", ';', "plain" },
		{ "", ';', "" },
		{ "a;b", ';', "\"a;b\"" },
		{ "a;b", ',', "a;b" },
		{ "a,b", ',', "\"a,b\"" },
		{ "a\tb", '\t', "\"a\tb\"" },
		{ "say \"hi\"", ';', "\"say \"\"hi\"\"\"" },
		{ "x\ny", ';', "\"x\ny\"" },
		{ "x\ry", ';', "\"x\ry\"" },
		{ " lead", ';', "\" lead\"" },
		{ "trail ", ';', "\"trail \"" },
		{ "in side", ';', "in side" },
		{ "Hélène", ';', "Hélène" },
	};
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < nitems(cases); i++) {
		buf_reset(&b);
		csv_write_field(&b, cases[i].in, cases[i].delim);
		assert_string_equal(buf_cstr(&b), cases[i].out);
	}
	buf_free(&b);
}

static void
test_round_trip(void **state)
{
	static const char *const header[] = { "h1", "h2", "h3", "h4", "h5",
	    "h6", "h7", "h8" };
	static const char *const row[] = { "x;y", "a,b", "q\"uote\"",
	    "multi\nline", " spaced ", "é€’", "", "t\tab" };
	static const char delims[] = { ';', ',', '\t' };

	for (size_t d = 0; d < nitems(delims); d++) {
		struct buf b;
		struct csv *csv;
		const char *error = NULL;

		buf_init(&b);
		csv_write_row(&b, header, nitems(header), delims[d]);
		csv_write_row(&b, row, nitems(row), delims[d]);
		csv_write_row(&b, row, nitems(row), delims[d]);
		if (csv_parse(b.data, b.len, &csv, &error) < 0)
			fail_msg("delim %d: %s", delims[d], error);
		assert_int_equal(csv_delimiter(csv), delims[d]);
		assert_int_equal(csv_nrows(csv), 3);
		assert_int_equal(csv_line(csv, 2), 4);
		for (size_t r = 1; r < 3; r++) {
			assert_int_equal(csv_nfields(csv, r), nitems(row));
			for (size_t c = 0; c < nitems(row); c++)
				assert_string_equal(csv_field(csv, r, c), row[c]);
		}
		csv_free(&csv);
		buf_free(&b);
	}
}

struct sample_case {
	const char	*path;
	char		 delim;
	const char	*encoding;
	const char	*header[6];
	const char	*name2;		/* row 3, column 3: quoting */
	const char	*bad_email;	/* row 6, column 4 */
	const char	*region7;	/* row 7, column 1: cp1252 ’ */
};

static const struct sample_case sample_cases[] = {
	{ "tests/data/roster-semicolon-latin1.csv", ';', "Windows-1252",
	    { "comité", "région", "département", "nom", "courriel", "tags" },
	    "Zoé \"Zizou\" Dubois", "jean.dupont@",
	    "Provence-Alpes-Côte d’Azur" },
	{ "tests/data/roster-comma-utf8.csv", ',', "UTF-8",
	    { "committee", "region", "department", "name", "email", "tags" },
	    "Dubois, Zoé", "jean.dupont@", "Provence-Alpes-Côte d’Azur" },
};

static void
test_sample_files(void **state)
{
	for (size_t i = 0; i < nitems(sample_cases); i++) {
		const struct sample_case *t = &sample_cases[i];
		struct csv *csv;
		const char *error = NULL;
		char *data;
		size_t len;

		assert_int_equal(file_read(t->path, 1 << 20, &data, &len), 0);
		if (csv_parse(data, len, &csv, &error) < 0)
			fail_msg("%s: %s", t->path, error);
		assert_int_equal(csv_delimiter(csv), t->delim);
		assert_string_equal(csv_encoding(csv), t->encoding);
		assert_int_equal(csv_nrows(csv), 11);
		for (size_t c = 0; c < 6; c++)
			assert_string_equal(csv_field(csv, 0, c), t->header[c]);
		for (size_t r = 0; r < csv_nrows(csv); r++) {
			assert_int_equal(csv_nfields(csv, r), 6);
			assert_int_equal(csv_line(csv, r), r + 1);
		}
		assert_string_equal(csv_field(csv, 3, 3), t->name2);
		assert_string_equal(csv_field(csv, 6, 4), t->bad_email);
		assert_string_equal(csv_field(csv, 6, 5), "");
		assert_string_equal(csv_field(csv, 7, 1), t->region7);
		assert_string_equal(csv_field(csv, 10, 0), "");
		assert_string_equal(csv_field(csv, 10, 3), "Yves Morel");
		csv_free(&csv);
		free(data);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_cp1252),
		cmocka_unit_test(test_write_field),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_sample_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
