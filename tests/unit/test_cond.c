/* Unit tests for http/cond: the Range parser and If-None-Match / If-Match entity-tag lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "http/http.h"

struct range {
	enum http_range kind;
	uint64_t start, len;
};

static struct range parse(const char *h, uint64_t size)
{
	struct range r = {HTTP_RANGE_NONE, 777, 888};
	r.kind = http_range_parse(h, size, &r.start, &r.len);
	return r;
}

static void assert_range(const char *h, uint64_t size, uint64_t start, uint64_t len)
{
	struct range r = parse(h, size);
	if (r.kind != HTTP_RANGE_OK)
		fail_msg("%s on %llu: kind %d, want OK", h, (unsigned long long)size, (int)r.kind);
	if (r.start != start || r.len != len)
		fail_msg("%s on %llu: start %llu len %llu, want %llu %llu", h,
			 (unsigned long long)size, (unsigned long long)r.start,
			 (unsigned long long)r.len, (unsigned long long)start,
			 (unsigned long long)len);
}

static void assert_kind(const char *h, uint64_t size, enum http_range kind)
{
	struct range r = parse(h, size);
	if (r.kind != kind)
		fail_msg("%s on %llu: kind %d, want %d", h ? h : "(null)", (unsigned long long)size,
			 (int)r.kind, (int)kind);
}

/* ---- http_range_parse ---- */

static void range_first_to_last(void **state)
{
	(void)state;
	assert_range("bytes=0-0", 10, 0, 1);
	assert_range("bytes=0-9", 10, 0, 10);
	assert_range("bytes=2-5", 10, 2, 4);
	assert_range("bytes=9-9", 10, 9, 1);
}

static void range_open_ended(void **state)
{
	(void)state;
	assert_range("bytes=0-", 10, 0, 10);
	assert_range("bytes=3-", 10, 3, 7);
	assert_range("bytes=9-", 10, 9, 1);
}

static void range_suffix(void **state)
{
	(void)state;
	assert_range("bytes=-1", 10, 9, 1);
	assert_range("bytes=-4", 10, 6, 4);
	assert_range("bytes=-10", 10, 0, 10);
	/* A suffix longer than the body is the whole body. */
	assert_range("bytes=-11", 10, 0, 10);
	assert_range("bytes=-999999", 10, 0, 10);
}

static void range_end_past_size_is_clipped(void **state)
{
	(void)state;
	assert_range("bytes=5-10", 10, 5, 5);
	assert_range("bytes=5-1000000", 10, 5, 5);
	assert_range("bytes=0-18446744073709551", 10, 0, 10);
	assert_range("bytes=0-9999999999999999999", 10, 0, 10); /* 19 digits */
}

static void range_start_at_or_past_end_is_unsatisfiable(void **state)
{
	(void)state;
	assert_kind("bytes=10-", 10, HTTP_RANGE_UNSATISFIABLE);
	assert_kind("bytes=10-20", 10, HTTP_RANGE_UNSATISFIABLE);
	assert_kind("bytes=11-", 10, HTTP_RANGE_UNSATISFIABLE);
	assert_kind("bytes=1000-2000", 10, HTTP_RANGE_UNSATISFIABLE);
}

static void range_suffix_zero_is_unsatisfiable(void **state)
{
	(void)state;
	assert_kind("bytes=-0", 10, HTTP_RANGE_UNSATISFIABLE);
	assert_kind("bytes=-000", 10, HTTP_RANGE_UNSATISFIABLE);
}

static void range_on_empty_body(void **state)
{
	(void)state;
	assert_kind("bytes=0-", 0, HTTP_RANGE_UNSATISFIABLE);
	assert_kind("bytes=0-0", 0, HTTP_RANGE_UNSATISFIABLE);
	assert_kind("bytes=-5", 0, HTTP_RANGE_UNSATISFIABLE);
	assert_kind("bytes=-0", 0, HTTP_RANGE_UNSATISFIABLE);
}

static void range_malformed_is_none(void **state)
{
	(void)state;
	const char *bad[] = {
		"",
		"bytes=",
		"bytes=-",
		"bytes",
		"0-5",
		"items=0-5",
		"Bytes=0-5x",
		"bytes 0-5",
		"bytes=a-5",
		"bytes=0-b",
		"bytes=abc",
		"bytes=5",
		"bytes=0x1-5",
		"bytes=+1-5",
		"bytes=1--5",
		"bytes=--5",
		"bytes=-5-",
		"bytes=1-2-3",
		"bytes=5-4",
		"bytes=9-0",
		"bytes=0-1,3-4",
		"bytes=0-1, 3-4",
		"bytes=-1,-2",
		"bytes=0-1,",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct range r = parse(bad[i], 10);
		if (r.kind != HTTP_RANGE_NONE)
			fail_msg("'%s' gave %d, want NONE", bad[i], (int)r.kind);
	}
	assert_kind(NULL, 10, HTTP_RANGE_NONE);
}

static void range_several_ranges_even_unsatisfiable_are_none(void **state)
{
	(void)state;
	assert_kind("bytes=20-30,40-50", 10, HTTP_RANGE_NONE);
}

static void range_huge_numbers_are_none(void **state)
{
	(void)state;
	assert_kind("bytes=0-18446744073709551616", 10, HTTP_RANGE_NONE);       /* 2^64, 20 */
	assert_kind("bytes=0-99999999999999999999", 10, HTTP_RANGE_NONE);       /* 20 digits */
	assert_kind("bytes=18446744073709551615-", 10, HTTP_RANGE_NONE);        /* 20 digits */
	assert_kind("bytes=-18446744073709551616", 10, HTTP_RANGE_NONE);
	assert_kind("bytes=-99999999999999999999", 10, HTTP_RANGE_NONE);
	assert_kind("bytes=00000000000000000001-2", 10, HTTP_RANGE_NONE);
}

static void range_large_body_offsets(void **state)
{
	(void)state;
	uint64_t big = (uint64_t)1 << 40;
	assert_range("bytes=1099511627775-", big, big - 1, 1);
	assert_range("bytes=-1", big, big - 1, 1);
	assert_range("bytes=0-", big, 0, big);
	assert_kind("bytes=1099511627776-", big, HTTP_RANGE_UNSATISFIABLE);
}

/* ---- http_etag_list_match ---- */

#define ETAG "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\""

static void etag_exact_matches(void **state)
{
	(void)state;
	assert_true(http_etag_list_match(ETAG, ETAG));
	assert_true(http_etag_list_match("\"3\"", "\"3\""));
}

static void etag_star_matches(void **state)
{
	(void)state;
	assert_true(http_etag_list_match("*", ETAG));
	assert_true(http_etag_list_match(" * ", ETAG));
	assert_true(http_etag_list_match("\"x\", *", ETAG));
}

static void etag_list_with_spaces_matches(void **state)
{
	(void)state;
	assert_true(http_etag_list_match("\"a\", " ETAG, ETAG));
	assert_true(http_etag_list_match("\"a\"," ETAG ",\"b\"", ETAG));
	assert_true(http_etag_list_match("  " ETAG "  ,  \"b\"", ETAG));
	assert_true(http_etag_list_match("\"a\" ,  \"b\" , " ETAG, ETAG));
}

static void etag_weak_prefix_is_ignored(void **state)
{
	(void)state;
	assert_true(http_etag_list_match("W/" ETAG, ETAG));
	assert_true(http_etag_list_match("\"a\", W/" ETAG, ETAG));
	assert_true(http_etag_list_match("W/\"3\"", "\"3\""));
}

static void etag_non_matching(void **state)
{
	(void)state;
	assert_false(http_etag_list_match("\"a\"", ETAG));
	assert_false(http_etag_list_match("\"a\", \"b\"", ETAG));
	assert_false(http_etag_list_match("", ETAG));
	assert_false(http_etag_list_match(" , ,", ETAG));
	/* Unquoted, truncated, extended, or another case: not the tag. */
	assert_false(http_etag_list_match(
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ETAG));
	assert_false(http_etag_list_match(
		"\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a\"", ETAG));
	assert_false(http_etag_list_match(ETAG "x", ETAG));
	assert_false(http_etag_list_match(
		"\"BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD\"", ETAG));
	assert_false(http_etag_list_match("\"33\"", "\"3\""));
	assert_false(http_etag_list_match("w/\"3\"", "\"3\""));
	assert_false(http_etag_list_match("**", ETAG));
	assert_false(http_etag_list_match("\"*\"", ETAG));
}

static void etag_null_header_does_not_match(void **state)
{
	(void)state;
	assert_false(http_etag_list_match(NULL, ETAG));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(range_first_to_last),
		cmocka_unit_test(range_open_ended),
		cmocka_unit_test(range_suffix),
		cmocka_unit_test(range_end_past_size_is_clipped),
		cmocka_unit_test(range_start_at_or_past_end_is_unsatisfiable),
		cmocka_unit_test(range_suffix_zero_is_unsatisfiable),
		cmocka_unit_test(range_on_empty_body),
		cmocka_unit_test(range_malformed_is_none),
		cmocka_unit_test(range_several_ranges_even_unsatisfiable_are_none),
		cmocka_unit_test(range_huge_numbers_are_none),
		cmocka_unit_test(range_large_body_offsets),
		cmocka_unit_test(etag_exact_matches),
		cmocka_unit_test(etag_star_matches),
		cmocka_unit_test(etag_list_with_spaces_matches),
		cmocka_unit_test(etag_weak_prefix_is_ignored),
		cmocka_unit_test(etag_non_matching),
		cmocka_unit_test(etag_null_header_does_not_match),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
