/* Unit tests for api/listquery: the query string of GET /v1/resources. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "api/listquery.h"
#include "limits.h"


struct arg {
	const char *name, *value;
};

/* A NULL-name-terminated table. */
static const char *table_get(void *ctx, const char *name)
{
	for (const struct arg *a = ctx; a->name != NULL; a++)
		if (strcmp(a->name, name) == 0)
			return a->value;
	return NULL;
}

struct result {
	enum err_code rc;
	struct meta_query q;
	int64_t page, page_size;
	struct err e;
};

static struct pool pool;

static int setup(void **state)
{
	(void)state;
	pool_init(&pool);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pool_cleanup(&pool);
	return 0;
}

static struct result run(const struct arg *args)
{
	struct result r;
	memset(&r, 0, sizeof(r));
	r.q.account_id = "acct";
	r.rc = listquery_parse(table_get, (void *)args, &test_limits, &pool, &r.q, &r.page,
			       &r.page_size, &r.e);
	return r;
}

/* One parameter, expected to be refused with its name in the message. */
static void assert_refused(const char *name, const char *value)
{
	struct arg args[] = {{name, value}, {NULL, NULL}};
	struct result r = run(args);
	if (r.rc != ERR_INVALID)
		fail_msg("%s=\"%s\" gave rc %d, want ERR_INVALID", name, value, r.rc);
	if (strstr(r.e.msg, name) == NULL)
		fail_msg("%s=\"%s\": message \"%s\" does not name the parameter", name, value,
			 r.e.msg);
}

static void no_parameters_gives_defaults(void **state)
{
	(void)state;
	struct arg none[] = {{NULL, NULL}};
	struct result r = run(none);
	assert_int_equal(r.rc, ERR_OK);
	assert_int_equal(r.page, 1);
	assert_int_equal(r.page_size, 20);
	assert_int_equal(r.q.limit, 20);
	assert_int_equal(r.q.offset, 0);
	assert_int_equal(r.q.sort, META_SORT_DESC);
	assert_null(r.q.directory_prefix);
	assert_int_equal(r.q.ntags, 0);
	assert_true(r.q.created_after_us == INT64_MIN);
	assert_true(r.q.created_before_us == INT64_MAX);
	assert_string_equal(r.q.account_id, "acct"); /* left alone */
	assert_string_equal(r.q.status, "uploaded");
	assert_false(r.q.has_cursor);
}

static void unknown_parameters_are_ignored(void **state)
{
	(void)state;
	struct arg args[] = {{"colour", "blue"}, {"limit", "x"}, {NULL, NULL}};
	struct result r = run(args);
	assert_int_equal(r.rc, ERR_OK);
	assert_int_equal(r.page_size, 20);
}

static void every_parameter_valid(void **state)
{
	(void)state;
	struct arg args[] = {
		{"tags", "b,a"},
		{"directory_prefix", "/docs"},
		{"created_after", "2026-01-02T03:04:05Z"},
		{"created_before", "2026-01-02T04:04:05.5+01:00"},
		{"sort", "asc"},
		{"page", "3"},
		{"page_size", "7"},
		{NULL, NULL},
	};
	struct result r = run(args);
	assert_int_equal(r.rc, ERR_OK);
	assert_int_equal(r.q.ntags, 2);
	assert_string_equal(r.q.tags[0], "a");
	assert_string_equal(r.q.tags[1], "b");
	assert_string_equal(r.q.directory_prefix, "/docs");
	assert_int_equal(r.q.created_after_us, 1767323045000000LL);
	assert_int_equal(r.q.created_before_us, 1767323045500000LL);
	assert_int_equal(r.q.sort, META_SORT_ASC);
	assert_int_equal(r.page, 3);
	assert_int_equal(r.page_size, 7);
	assert_int_equal(r.q.limit, 7);
	assert_int_equal(r.q.offset, 14);
}

static void sort_desc_is_accepted(void **state)
{
	(void)state;
	struct arg args[] = {{"sort", "desc"}, {NULL, NULL}};
	struct result r = run(args);
	assert_int_equal(r.rc, ERR_OK);
	assert_int_equal(r.q.sort, META_SORT_DESC);
}

static void created_bounds_accept_space_for_plus(void **state)
{
	(void)state;
	struct arg args[] = {{"created_after", "2026-01-02T04:04:05 01:00"}, {NULL, NULL}};
	struct result r = run(args);
	assert_int_equal(r.rc, ERR_OK);
	assert_int_equal(r.q.created_after_us, 1767323045000000LL);
}

static void directory_prefix_is_not_normalised(void **state)
{
	(void)state;
	struct arg args[] = {{"directory_prefix", "docs/"}, {NULL, NULL}};
	struct result r = run(args);
	assert_int_equal(r.rc, ERR_OK);
	assert_string_equal(r.q.directory_prefix, "docs/");
	struct arg pct[] = {{"directory_prefix", "/a%_b"}, {NULL, NULL}};
	r = run(pct);
	assert_int_equal(r.rc, ERR_OK);
	assert_string_equal(r.q.directory_prefix, "/a%_b");
}

static void page_and_size_bounds(void **state)
{
	(void)state;
	struct arg max[] = {{"page", "1000000000"}, {"page_size", "100"}, {NULL, NULL}};
	struct result r = run(max);
	assert_int_equal(r.rc, ERR_OK);
	assert_int_equal(r.page, 1000000000LL);
	assert_int_equal(r.page_size, 100);
	assert_int_equal(r.q.offset, 99999999900LL);
	assert_int_equal(r.q.limit, 100);
	struct arg one[] = {{"page", "1"}, {"page_size", "1"}, {NULL, NULL}};
	r = run(one);
	assert_int_equal(r.rc, ERR_OK);
	assert_int_equal(r.q.offset, 0);
	assert_int_equal(r.q.limit, 1);
	struct arg two[] = {{"page", "2"}, {NULL, NULL}};
	r = run(two);
	assert_int_equal(r.rc, ERR_OK);
	assert_int_equal(r.q.offset, 20);
}

static void page_malformed_or_out_of_range_is_invalid(void **state)
{
	(void)state;
	const char *bad[] = {"0", "-1", "", "abc", "1.5", " 1", "1 ", "+1", "0x10", "1e3",
			     "1000000001", "99999999999999999999999", "-0"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_refused("page", bad[i]);
}

static void page_size_malformed_or_out_of_range_is_invalid(void **state)
{
	(void)state;
	const char *bad[] = {"0", "101", "-5", "", "ten", "20.0", "2,0", "1000000"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_refused("page_size", bad[i]);
}

static void sort_other_values_are_invalid(void **state)
{
	(void)state;
	assert_refused("sort", "");
	assert_refused("sort", "up");
	assert_refused("sort", "ascending");
	assert_refused("sort", "asc ");
}

static void created_bounds_malformed_are_invalid(void **state)
{
	(void)state;
	const char *bad[] = {"", "2026-01-02", "2026-01-02T03:04:05", "yesterday",
			     "2026-02-29T00:00:00Z", "2026-01-02T03:04:05Zjunk",
			     "2026-13-01T00:00:00Z", "1767323045"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_refused("created_after", bad[i]);
		assert_refused("created_before", bad[i]);
	}
}

static void directory_prefix_invalid_utf8_is_invalid(void **state)
{
	(void)state;
	assert_refused("directory_prefix", "/docs\xff");
}

static void tags_are_folded_and_sorted(void **state)
{
	(void)state;
	struct arg args[] = {{"tags", "zeta,alpha,zeta,beta,alpha"}, {NULL, NULL}};
	struct result r = run(args);
	assert_int_equal(r.rc, ERR_OK);
	assert_int_equal(r.q.ntags, 3);
	assert_string_equal(r.q.tags[0], "alpha");
	assert_string_equal(r.q.tags[1], "beta");
	assert_string_equal(r.q.tags[2], "zeta");
	struct arg single[] = {{"tags", "only"}, {NULL, NULL}};
	r = run(single);
	assert_int_equal(r.rc, ERR_OK);
	assert_int_equal(r.q.ntags, 1);
	assert_string_equal(r.q.tags[0], "only");
}

static void tags_with_empty_items_are_invalid(void **state)
{
	(void)state;
	assert_refused("tags", "");
	assert_refused("tags", ",");
	assert_refused("tags", "a,");
	assert_refused("tags", ",a");
	assert_refused("tags", "a,,b");
}

static void tags_over_limits_are_invalid(void **state)
{
	(void)state;
	char t65[66];
	memset(t65, 'x', 65);
	t65[65] = '\0';
	assert_refused("tags", t65);
	t65[64] = '\0';
	struct arg ok64[] = {{"tags", t65}, {NULL, NULL}};
	assert_int_equal(run(ok64).rc, ERR_OK);
	assert_refused("tags", "a\tb");

	/* 50 distinct tags are fine, 51 are not. */
	char list[51 * 4 + 1];
	size_t n = 0;
	for (unsigned i = 0; i < 51; i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%03u", i ? "," : "", i);
	assert_refused("tags", list);
	list[strlen(list) - 4] = '\0'; /* drop ",050" */
	struct arg fifty[] = {{"tags", list}, {NULL, NULL}};
	struct result r = run(fifty);
	assert_int_equal(r.rc, ERR_OK);
	assert_int_equal(r.q.ntags, 50);
	assert_string_equal(r.q.tags[49], "049");
}

static void status_selects_uploaded_or_pending(void **state)
{
	(void)state;
	struct arg pending[] = {{"status", "pending"}, {NULL, NULL}};
	struct result r = run(pending);
	assert_int_equal(r.rc, ERR_OK);
	assert_string_equal(r.q.status, "pending");
	struct arg uploaded[] = {{"status", "uploaded"}, {NULL, NULL}};
	r = run(uploaded);
	assert_int_equal(r.rc, ERR_OK);
	assert_string_equal(r.q.status, "uploaded");
	assert_refused("status", "");
	assert_refused("status", "all");
	assert_refused("status", "Pending");
}

#define CUR_ID "123e4567-e89b-42d3-a456-426614174000"

static void cursor_round_trips_through_encode(void **state)
{
	(void)state;
	char cur[LISTQUERY_CURSOR_MAX];
	listquery_cursor_encode(META_SORT_ASC, 1767323045123456LL, CUR_ID, cur);
	/* Opaque and URL-safe: no '+', '/', '=' or the raw id. */
	assert_null(strpbrk(cur, "+/= "));
	assert_null(strstr(cur, CUR_ID));
	struct arg args[] = {{"sort", "asc"}, {"cursor", cur}, {"page_size", "5"}, {NULL, NULL}};
	struct result r = run(args);
	assert_int_equal(r.rc, ERR_OK);
	assert_true(r.q.has_cursor);
	assert_int_equal(r.q.cursor_created_us, 1767323045123456LL);
	assert_string_equal(r.q.cursor_id, CUR_ID);
	assert_int_equal(r.q.limit, 5);

	listquery_cursor_encode(META_SORT_DESC, -5, CUR_ID, cur);
	struct arg desc[] = {{"cursor", cur}, {"page", "1"}, {NULL, NULL}};
	r = run(desc);
	assert_int_equal(r.rc, ERR_OK);
	assert_int_equal(r.q.cursor_created_us, -5);
}

static void cursor_for_other_sort_or_with_page_is_invalid(void **state)
{
	(void)state;
	char cur[LISTQUERY_CURSOR_MAX];
	listquery_cursor_encode(META_SORT_DESC, 1000, CUR_ID, cur);
	struct arg asc[] = {{"sort", "asc"}, {"cursor", cur}, {NULL, NULL}};
	struct result r = run(asc);
	assert_int_equal(r.rc, ERR_INVALID);
	assert_non_null(strstr(r.e.msg, "cursor"));
	struct arg paged[] = {{"cursor", cur}, {"page", "2"}, {NULL, NULL}};
	r = run(paged);
	assert_int_equal(r.rc, ERR_INVALID);
	assert_non_null(strstr(r.e.msg, "cursor"));
}

static void cursor_malformed_is_invalid(void **state)
{
	(void)state;
	char cur[LISTQUERY_CURSOR_MAX];
	listquery_cursor_encode(META_SORT_DESC, 1000, CUR_ID, cur);
	char cut[LISTQUERY_CURSOR_MAX];
	snprintf(cut, sizeof(cut), "%.*s", (int)strlen(cur) - 3, cur);
	char flipped[LISTQUERY_CURSOR_MAX];
	snprintf(flipped, sizeof(flipped), "%s", cur);
	flipped[6] = flipped[6] == 'A' ? 'B' : 'A';
	char longer[300];
	memset(longer, 'A', 200);
	longer[200] = '\0';
	const char *bad[] = {"", "x", "not a cursor", "YWJj", "c1:d:1000:" CUR_ID, cut, flipped,
			     longer, "Y zE6ZDox"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_refused("cursor", bad[i]);
}

/* The cursor depot writes for a position, made by hand with OpenSSL (no padding, URL-safe). */
static void spell_cursor(const char *plain, char out[LISTQUERY_CURSOR_MAX])
{
	unsigned char b64[LISTQUERY_CURSOR_MAX];
	int m = EVP_EncodeBlock(b64, (const unsigned char *)plain, (int)strlen(plain));
	int k = 0;
	for (int i = 0; i < m && b64[i] != '='; i++)
		out[k++] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char)b64[i];
	out[k] = '\0';
}

/* Found by fuzz_listquery: a cursor for a one-digit created_us (43 bytes decoded) was refused
 * as too short, though depot writes it. */
static void cursor_for_every_created_us_round_trips(void **state)
{
	(void)state;
	const int64_t times[] = {0, 9, -1, 10, INT64_MAX, INT64_MIN, 1767323045123456LL};
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		char cur[LISTQUERY_CURSOR_MAX];
		listquery_cursor_encode(META_SORT_DESC, times[i], CUR_ID, cur);
		struct arg args[] = {{"cursor", cur}, {NULL, NULL}};
		struct result r = run(args);
		if (r.rc != ERR_OK)
			fail_msg("created_us %lld: %s", (long long)times[i], r.e.msg);
		assert_int_equal(r.q.cursor_created_us, times[i]);
		assert_string_equal(r.q.cursor_id, CUR_ID);
	}
}

/* Found by fuzz_listquery: other spellings of a position (what strtoll and text_is_uuid let
 * through, or base64 with stray low bits) were accepted; a cursor is only ever what depot
 * wrote. */
static void cursor_other_spellings_are_invalid(void **state)
{
	(void)state;
	const char *plains[] = {
		"c1:d:01000:" CUR_ID, "c1:d:+1000:" CUR_ID, "c1:d: 1000:" CUR_ID,
		"c1:d:1000:123E4567-E89B-42D3-A456-426614174000", "c1:d:99999999999999999999:" CUR_ID,
	};
	for (size_t i = 0; i < sizeof(plains) / sizeof(plains[0]); i++) {
		char cur[LISTQUERY_CURSOR_MAX];
		spell_cursor(plains[i], cur);
		assert_refused("cursor", cur);
	}
	char cur[LISTQUERY_CURSOR_MAX];
	listquery_cursor_encode(META_SORT_DESC, 1000, CUR_ID, cur);
	size_t n = strlen(cur);
	assert_true(n % 4 != 0); /* the last character carries unused low bits */
	cur[n - 1] = cur[n - 1] == 'A' ? 'B' : (char)(cur[n - 1] + 1);
	assert_refused("cursor", cur);
}

static void first_bad_parameter_wins_over_good_ones(void **state)
{
	(void)state;
	struct arg args[] = {{"page", "2"}, {"page_size", "0"}, {"sort", "asc"}, {NULL, NULL}};
	struct result r = run(args);
	assert_int_equal(r.rc, ERR_INVALID);
	assert_non_null(strstr(r.e.msg, "page_size"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_parameters_gives_defaults),
		cmocka_unit_test(unknown_parameters_are_ignored),
		cmocka_unit_test(every_parameter_valid),
		cmocka_unit_test(sort_desc_is_accepted),
		cmocka_unit_test(created_bounds_accept_space_for_plus),
		cmocka_unit_test(directory_prefix_is_not_normalised),
		cmocka_unit_test(page_and_size_bounds),
		cmocka_unit_test(page_malformed_or_out_of_range_is_invalid),
		cmocka_unit_test(page_size_malformed_or_out_of_range_is_invalid),
		cmocka_unit_test(sort_other_values_are_invalid),
		cmocka_unit_test(created_bounds_malformed_are_invalid),
		cmocka_unit_test(directory_prefix_invalid_utf8_is_invalid),
		cmocka_unit_test(tags_are_folded_and_sorted),
		cmocka_unit_test(tags_with_empty_items_are_invalid),
		cmocka_unit_test(tags_over_limits_are_invalid),
		cmocka_unit_test(status_selects_uploaded_or_pending),
		cmocka_unit_test(cursor_round_trips_through_encode),
		cmocka_unit_test(cursor_for_other_sort_or_with_page_is_invalid),
		cmocka_unit_test(cursor_malformed_is_invalid),
		cmocka_unit_test(cursor_for_every_created_us_round_trips),
		cmocka_unit_test(cursor_other_spellings_are_invalid),
		cmocka_unit_test(first_bad_parameter_wins_over_good_ones),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
