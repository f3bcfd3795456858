/* Unit tests for api/validate: names, directory paths and tags (docs/API.md, Input rules). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "api/validate.h"
#include "limits.h"


static enum err_code name_rc(const char *s, size_t len)
{
	struct err e = {0};
	enum err_code rc = validate_name(s, len, &test_limits, &e);
	if (rc != ERR_OK)
		assert_true(e.msg[0] != '\0');
	return rc;
}
#define NAME(lit) name_rc((lit), sizeof(lit) - 1)

static void name_accepts_ordinary_names(void **state)
{
	(void)state;
	assert_int_equal(NAME("report.pdf"), ERR_OK);
	assert_int_equal(NAME("a"), ERR_OK);
	assert_int_equal(NAME("..."), ERR_OK);
	assert_int_equal(NAME(".hidden"), ERR_OK);
	assert_int_equal(NAME("a..b"), ERR_OK);
	assert_int_equal(NAME("caf\xc3\xa9 \xf0\x9f\x98\x80.txt"), ERR_OK);
	assert_int_equal(NAME("with space and \\ backslash"), ERR_OK);
}

static void name_length_is_1_to_255_bytes(void **state)
{
	(void)state;
	char buf[257];
	memset(buf, 'n', sizeof(buf));
	assert_int_equal(name_rc(buf, 0), ERR_INVALID);
	assert_int_equal(name_rc(buf, 1), ERR_OK);
	assert_int_equal(name_rc(buf, 255), ERR_OK);
	assert_int_equal(name_rc(buf, 256), ERR_INVALID);
	assert_int_equal(name_rc(buf, 257), ERR_INVALID);
	/* 255 bytes made of multi-byte characters (85 x 3 bytes). */
	for (int i = 0; i < 85; i++)
		memcpy(buf + 3 * i, "\xe2\x82\xac", 3);
	assert_int_equal(name_rc(buf, 255), ERR_OK);
}

static void name_rejects_slash(void **state)
{
	(void)state;
	assert_int_equal(NAME("a/b"), ERR_INVALID);
	assert_int_equal(NAME("/"), ERR_INVALID);
	assert_int_equal(NAME("name/"), ERR_INVALID);
}

static void name_rejects_control_characters(void **state)
{
	(void)state;
	assert_int_equal(NAME("a\0b"), ERR_INVALID);
	assert_int_equal(NAME("tab\there"), ERR_INVALID);
	assert_int_equal(NAME("nl\n"), ERR_INVALID);
	assert_int_equal(NAME("\x1f"), ERR_INVALID);
	assert_int_equal(NAME("del\x7f"), ERR_INVALID);
	assert_int_equal(NAME("c1\xc2\x80"), ERR_INVALID);
	assert_int_equal(NAME("c1\xc2\x9f"), ERR_INVALID);
}

static void name_rejects_dot_and_dotdot(void **state)
{
	(void)state;
	assert_int_equal(NAME("."), ERR_INVALID);
	assert_int_equal(NAME(".."), ERR_INVALID);
}

static void name_rejects_invalid_utf8(void **state)
{
	(void)state;
	assert_int_equal(NAME("bad\xff"), ERR_INVALID);
	assert_int_equal(NAME("\xc0\xaf"), ERR_INVALID);
	assert_int_equal(NAME("\xed\xa0\x80"), ERR_INVALID);
	assert_int_equal(NAME("trunc\xe2\x82"), ERR_INVALID);
}

static void name_respects_a_configured_limit(void **state)
{
	(void)state;
	struct limits l = test_limits;
	l.max_name_bytes = 4;
	struct err e;
	assert_int_equal(validate_name("abcd", 4, &l, &e), ERR_OK);
	assert_int_equal(validate_name("abcde", 5, &l, &e), ERR_INVALID);
}

/* ---- directory_path ---- */

static enum err_code path_norm(const char *in, size_t len, const char **out)
{
	struct pool p;
	pool_init(&p);
	struct err e = {0};
	const char *res = NULL;
	enum err_code rc = validate_directory_path(in, len, &test_limits, &p, &res, &e);
	static char keep[2048];
	keep[0] = '\0';
	if (rc == ERR_OK) {
		assert_non_null(res);
		assert_true(strlen(res) < sizeof(keep));
		memcpy(keep, res, strlen(res) + 1);
	} else {
		assert_true(e.msg[0] != '\0');
	}
	pool_cleanup(&p);
	*out = keep;
	return rc;
}

static void assert_path(const char *in, const char *want)
{
	const char *got;
	enum err_code rc = path_norm(in, strlen(in), &got);
	if (rc != ERR_OK)
		fail_msg("directory_path \"%s\" refused (%d), want \"%s\"", in, rc, want);
	if (strcmp(got, want) != 0)
		fail_msg("directory_path \"%s\" -> \"%s\", want \"%s\"", in, got, want);
}

static void assert_path_refused(const char *in, size_t len)
{
	const char *got;
	enum err_code rc = path_norm(in, len, &got);
	if (rc != ERR_INVALID)
		fail_msg("directory_path \"%.*s\" gave rc %d (\"%s\"), want ERR_INVALID", (int)len,
			 in, rc, got);
}
#define REFUSED(lit) assert_path_refused((lit), sizeof(lit) - 1)

static void path_normalises_per_api_table(void **state)
{
	(void)state;
	assert_path("", "/");
	assert_path("/", "/");
	assert_path("docs/2024", "/docs/2024");
	assert_path("/docs/2024", "/docs/2024");
	assert_path("/docs/2024/", "/docs/2024");
	assert_path("docs/2024/", "/docs/2024");
	assert_path("a/b/", "/a/b");
	assert_path("a", "/a");
	assert_path("/a/", "/a");
	assert_path("...", "/...");
	assert_path("a/.b/c..", "/a/.b/c..");
	assert_path("caf\xc3\xa9/x y", "/caf\xc3\xa9/x y");
}

static void path_rejects_empty_segments(void **state)
{
	(void)state;
	REFUSED("a//b");
	REFUSED("//");
	REFUSED("///");
	REFUSED("//a");
	REFUSED("a//");
	REFUSED("/a//b/");
}

static void path_rejects_dot_segments(void **state)
{
	(void)state;
	REFUSED(".");
	REFUSED("..");
	REFUSED("./x");
	REFUSED("a/./b");
	REFUSED("../x");
	REFUSED("a/..");
	REFUSED("/a/../b/");
	REFUSED("/./");
}

static void path_rejects_control_and_bad_utf8(void **state)
{
	(void)state;
	REFUSED("a\nb");
	REFUSED("a/\0/b");
	REFUSED("\x7f");
	REFUSED("a/\xc2\x85");
	REFUSED("a/\xff");
	REFUSED("a/\xed\xa0\x80");
}

/* Found by fuzz_update_json: the limit was on the input, so 1024 bytes without a leading slash
 * were stored as 1025, which a client could not send back (an update with the directory_path it
 * had read was 400). The limit is on the stored form, which is therefore always accepted again. */
static void path_rejects_more_than_max_bytes(void **state)
{
	(void)state;
	char buf[1100];
	memset(buf, 'p', sizeof(buf));
	const char *got, *again;
	assert_int_equal(path_norm(buf, 1023, &got), ERR_OK);
	assert_int_equal(strlen(got), 1024);
	assert_int_equal(path_norm(buf, 1024, &got), ERR_INVALID);
	buf[0] = '/';
	assert_int_equal(path_norm(buf, 1024, &got), ERR_OK);
	assert_int_equal(strlen(got), 1024);
	assert_int_equal(path_norm(buf, 1025, &got), ERR_INVALID);
	buf[1024] = '/'; /* "/p...p/": 1026 bytes whose stored form is 1024 */
	assert_int_equal(path_norm(buf, 1025, &got), ERR_OK);
	assert_int_equal(strlen(got), 1024);
	assert_int_equal(path_norm(got, strlen(got), &again), ERR_OK);
	assert_string_equal(again, got);
	assert_int_equal(path_norm(buf, 1026, &got), ERR_INVALID); /* "/p...p/p" */
}

/* ---- tags ---- */

static enum err_code tags_run(const char **in, size_t n, const struct limits *l, struct pool *p,
			      const char ***out, size_t *nout)
{
	struct err e = {0};
	enum err_code rc = validate_tags(in, n, l, "tags", p, out, nout, &e);
	if (rc != ERR_OK)
		assert_non_null(strstr(e.msg, "tags"));
	return rc;
}

static void tags_are_sorted_and_folded(void **state)
{
	(void)state;
	struct pool p;
	pool_init(&p);
	const char *in[] = {"zeta", "alpha", "Beta", "alpha", "zeta", "\xc3\xa9t\xc3\xa9", "b"};
	const char **out = NULL;
	size_t n = 99;
	assert_int_equal(tags_run(in, 7, &test_limits, &p, &out, &n), ERR_OK);
	assert_int_equal(n, 5);
	assert_string_equal(out[0], "Beta");
	assert_string_equal(out[1], "alpha");
	assert_string_equal(out[2], "b");
	assert_string_equal(out[3], "zeta");
	assert_string_equal(out[4], "\xc3\xa9t\xc3\xa9");
	/* The caller's array is left as it was. */
	assert_string_equal(in[0], "zeta");
	assert_string_equal(in[1], "alpha");
	pool_cleanup(&p);
}

static void tags_empty_list_is_ok(void **state)
{
	(void)state;
	struct pool p;
	pool_init(&p);
	const char **out = NULL;
	size_t n = 99;
	assert_int_equal(tags_run(NULL, 0, &test_limits, &p, &out, &n), ERR_OK);
	assert_int_equal(n, 0);
	pool_cleanup(&p);
}

static void tags_reject_empty_comma_control_and_bad_utf8(void **state)
{
	(void)state;
	struct pool p;
	pool_init(&p);
	const char **out;
	size_t n;
	const char *empty[] = {"ok", ""};
	assert_int_equal(tags_run(empty, 2, &test_limits, &p, &out, &n), ERR_INVALID);
	const char *comma[] = {"a,b"};
	assert_int_equal(tags_run(comma, 1, &test_limits, &p, &out, &n), ERR_INVALID);
	const char *ctrl[] = {"a\tb"};
	assert_int_equal(tags_run(ctrl, 1, &test_limits, &p, &out, &n), ERR_INVALID);
	const char *c1[] = {"a\xc2\x9f"};
	assert_int_equal(tags_run(c1, 1, &test_limits, &p, &out, &n), ERR_INVALID);
	const char *bad[] = {"\xc3"};
	assert_int_equal(tags_run(bad, 1, &test_limits, &p, &out, &n), ERR_INVALID);
	pool_cleanup(&p);
}

static void tags_length_is_1_to_64_bytes(void **state)
{
	(void)state;
	struct pool p;
	pool_init(&p);
	char t64[65], t65[66];
	memset(t64, 't', 64);
	t64[64] = '\0';
	memset(t65, 't', 65);
	t65[65] = '\0';
	const char **out;
	size_t n;
	const char *ok[] = {t64};
	assert_int_equal(tags_run(ok, 1, &test_limits, &p, &out, &n), ERR_OK);
	assert_int_equal(n, 1);
	const char *long1[] = {"fine", t65};
	assert_int_equal(tags_run(long1, 2, &test_limits, &p, &out, &n), ERR_INVALID);
	pool_cleanup(&p);
}

static void tags_at_most_max_distinct_after_folding(void **state)
{
	(void)state;
	struct pool p;
	pool_init(&p);
	static char names[60][16];
	const char *in[120];
	for (unsigned i = 0; i < 60; i++)
		snprintf(names[i], sizeof(names[i]), "t%02u", i);
	const char **out;
	size_t n;
	/* 50 distinct, each given twice: 100 inputs fold to 50. */
	for (int i = 0; i < 100; i++)
		in[i] = names[i % 50];
	assert_int_equal(tags_run(in, 100, &test_limits, &p, &out, &n), ERR_OK);
	assert_int_equal(n, 50);
	assert_string_equal(out[0], "t00");
	assert_string_equal(out[49], "t49");
	/* 51 distinct. */
	for (int i = 0; i < 51; i++)
		in[i] = names[i];
	assert_int_equal(tags_run(in, 51, &test_limits, &p, &out, &n), ERR_INVALID);
	struct limits l = test_limits;
	l.max_tags = 2;
	const char *three[] = {"a", "b", "c"};
	assert_int_equal(tags_run(three, 3, &l, &p, &out, &n), ERR_INVALID);
	const char *twofold[] = {"a", "b", "a"};
	assert_int_equal(tags_run(twofold, 3, &l, &p, &out, &n), ERR_OK);
	assert_int_equal(n, 2);
	pool_cleanup(&p);
}

static void description_bytes_utf8_and_no_nul(void **state)
{
	(void)state;
	struct err e;
	struct limits defaults = test_limits;
	defaults.max_description_bytes = 8;
	assert_int_equal(validate_description("", 0, &defaults, &e), ERR_OK);
	assert_int_equal(validate_description("a\nb\tc", 5, &defaults, &e), ERR_OK);
	assert_int_equal(validate_description("12345678", 8, &defaults, &e), ERR_OK);
	assert_int_equal(validate_description("123456789", 9, &defaults, &e), ERR_INVALID);
	assert_int_equal(validate_description("a\0b", 3, &defaults, &e), ERR_INVALID);
	assert_int_equal(validate_description("\xc3", 1, &defaults, &e), ERR_INVALID);
}

static void read_access_is_one_of_three(void **state)
{
	(void)state;
	struct err e;
	assert_int_equal(validate_read_access("TEAM", &e), ERR_OK);
	assert_int_equal(validate_read_access("GLOBAL", &e), ERR_OK);
	assert_int_equal(validate_read_access("SPECIFIC_TEAMS", &e), ERR_OK);
	assert_int_equal(validate_read_access("team", &e), ERR_INVALID);
	assert_int_equal(validate_read_access("", &e), ERR_INVALID);
}

static void slugs_fold_sort_and_refuse_bad_ids(void **state)
{
	(void)state;
	struct pool p;
	struct err e;
	pool_init(&p);
	const char **out;
	size_t n;
	const char *in[] = {"b", "a,b", "b", "\xc3\xa9"};
	assert_int_equal(validate_slugs(in, 4, &test_limits, &p, &out, &n, &e), ERR_OK);
	assert_int_equal(n, 3);
	assert_string_equal(out[0], "a,b"); /* account ids may hold commas */
	assert_string_equal(out[1], "b");
	char long_id[257];
	memset(long_id, 'x', 256);
	long_id[256] = '\0';
	const char *bad[][1] = {{""}, {"a\x01"}, {"\xff"}, {long_id}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(validate_slugs(bad[i], 1, &test_limits, &p, &out, &n, &e),
				 ERR_INVALID);
	long_id[255] = '\0';
	const char *ok[] = {long_id};
	assert_int_equal(validate_slugs(ok, 1, &test_limits, &p, &out, &n, &e), ERR_OK);
	pool_cleanup(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(description_bytes_utf8_and_no_nul),
		cmocka_unit_test(read_access_is_one_of_three),
		cmocka_unit_test(slugs_fold_sort_and_refuse_bad_ids),
		cmocka_unit_test(name_accepts_ordinary_names),
		cmocka_unit_test(name_length_is_1_to_255_bytes),
		cmocka_unit_test(name_rejects_slash),
		cmocka_unit_test(name_rejects_control_characters),
		cmocka_unit_test(name_rejects_dot_and_dotdot),
		cmocka_unit_test(name_rejects_invalid_utf8),
		cmocka_unit_test(name_respects_a_configured_limit),
		cmocka_unit_test(path_normalises_per_api_table),
		cmocka_unit_test(path_rejects_empty_segments),
		cmocka_unit_test(path_rejects_dot_segments),
		cmocka_unit_test(path_rejects_control_and_bad_utf8),
		cmocka_unit_test(path_rejects_more_than_max_bytes),
		cmocka_unit_test(tags_are_sorted_and_folded),
		cmocka_unit_test(tags_empty_list_is_ok),
		cmocka_unit_test(tags_reject_empty_comma_control_and_bad_utf8),
		cmocka_unit_test(tags_length_is_1_to_64_bytes),
		cmocka_unit_test(tags_at_most_max_distinct_after_folding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
