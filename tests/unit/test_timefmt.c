/* Unit tests for core/timefmt: RFC 3339 output and ISO 8601 input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/timefmt.h"

#define T_2026 1795437296123456LL /* 2026-11-23T12:34:56.123456Z */
#define T_JAN2 1767323045000000LL /* 2026-01-02T03:04:05Z */

static int64_t parse_ok(const char *s)
{
	int64_t us = 42;
	if (!time_parse_iso8601(s, strlen(s), &us))
		fail_msg("refused %s", s);
	return us;
}

static bool parses(const char *s)
{
	int64_t us;
	return time_parse_iso8601(s, strlen(s), &us);
}

static void format_epoch_is_1970_with_six_zero_digits(void **state)
{
	(void)state;
	char out[TIMEFMT_LEN];
	time_format_us(0, out);
	assert_string_equal(out, "1970-01-01T00:00:00.000000Z");
	assert_int_equal(strlen(out), TIMEFMT_LEN - 1);
}

static void format_known_instant_has_microseconds(void **state)
{
	(void)state;
	char out[TIMEFMT_LEN];
	time_format_us(T_2026, out);
	assert_string_equal(out, "2026-11-23T12:34:56.123456Z");
	time_format_us(1709164800000001LL, out);
	assert_string_equal(out, "2024-02-29T00:00:00.000001Z");
	time_format_us(253402300799999999LL, out);
	assert_string_equal(out, "9999-12-31T23:59:59.999999Z");
}

static void format_negative_instants_count_back_from_epoch(void **state)
{
	(void)state;
	char out[TIMEFMT_LEN];
	time_format_us(-1, out);
	assert_string_equal(out, "1969-12-31T23:59:59.999999Z");
	time_format_us(-1000000, out);
	assert_string_equal(out, "1969-12-31T23:59:59.000000Z");
	time_format_us(-301246200000000LL + 250000, out);
	assert_string_equal(out, "1960-06-15T08:30:00.250000Z");
}

static void parse_accepts_z_and_lowercase_z_and_t(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("2026-01-02T03:04:05Z"), T_JAN2);
	assert_int_equal(parse_ok("2026-01-02t03:04:05z"), T_JAN2);
	assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(parse_ok("1960-06-15T08:30:00Z"), -301246200000000LL);
}

static void parse_applies_offsets(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("2026-01-02T04:04:05+01:00"), T_JAN2);
	assert_int_equal(parse_ok("2026-01-02T01:34:05-01:30"), T_JAN2);
	assert_int_equal(parse_ok("2026-01-02T03:04:05+00:00"), T_JAN2);
	assert_int_equal(parse_ok("2026-01-02T03:04:05-00:00"), T_JAN2);
	/* Across a date boundary. */
	assert_int_equal(parse_ok("2026-01-01T23:04:05-04:00"), T_JAN2);
	assert_int_equal(parse_ok("2026-01-02T17:04:05+14:00"), T_JAN2);
}

static void parse_accepts_space_for_plus(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("2026-01-02T04:04:05 01:00"), T_JAN2);
	assert_int_equal(parse_ok("2026-01-02T04:04:05.5 01:00"), T_JAN2 + 500000);
}

static void parse_fractions_of_one_to_nine_digits(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("2026-01-02T03:04:05.5Z"), T_JAN2 + 500000);
	assert_int_equal(parse_ok("2026-01-02T03:04:05.12Z"), T_JAN2 + 120000);
	assert_int_equal(parse_ok("2026-01-02T03:04:05.123Z"), T_JAN2 + 123000);
	assert_int_equal(parse_ok("2026-01-02T03:04:05.1234Z"), T_JAN2 + 123400);
	assert_int_equal(parse_ok("2026-01-02T03:04:05.12345Z"), T_JAN2 + 123450);
	assert_int_equal(parse_ok("2026-01-02T03:04:05.123456Z"), T_JAN2 + 123456);
	assert_int_equal(parse_ok("2026-01-02T03:04:05.1234567Z"), T_JAN2 + 123456);
	assert_int_equal(parse_ok("2026-01-02T03:04:05.12345678Z"), T_JAN2 + 123456);
	assert_int_equal(parse_ok("2026-01-02T03:04:05.999999999Z"), T_JAN2 + 999999);
	assert_int_equal(parse_ok("2026-01-02T03:04:05.000001Z"), T_JAN2 + 1);
	assert_int_equal(parse_ok("2026-01-02T04:04:05.5+01:00"), T_JAN2 + 500000);
}

static void parse_accepts_leap_days(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("2024-02-29T00:00:00Z"), 1709164800000000LL);
	assert_int_equal(parse_ok("2000-02-29T00:00:00Z"), 951782400000000LL);
	assert_true(parses("2026-12-31T23:59:59Z"));
	assert_true(parses("2026-04-30T00:00:00Z"));
}

static void parse_rejects_missing_offset(void **state)
{
	(void)state;
	assert_false(parses("2026-01-02T03:04:05"));
	assert_false(parses("2026-01-02T03:04:05.123"));
	assert_false(parses("2026-01-02"));
	assert_false(parses("2026-01-02T03:04Z"));
}

static void parse_rejects_bad_fields(void **state)
{
	(void)state;
	assert_false(parses("2026-00-02T03:04:05Z"));
	assert_false(parses("2026-13-02T03:04:05Z"));
	assert_false(parses("2026-01-00T03:04:05Z"));
	assert_false(parses("2026-01-32T03:04:05Z"));
	assert_false(parses("2026-04-31T03:04:05Z"));
	assert_false(parses("2026-01-02T24:00:00Z"));
	assert_false(parses("2026-01-02T03:60:05Z"));
	assert_false(parses("2026-01-02T03:04:61Z"));
	assert_false(parses("2026-01-02T03:04:05+24:00"));
	assert_false(parses("2026-01-02T03:04:05+01:60"));
	assert_false(parses("2026-1-02T03:04:05Z"));
	assert_false(parses("2026/01/02T03:04:05Z"));
	assert_false(parses("2026-01-02X03:04:05Z"));
	assert_false(parses("2026-01-02 03:04:05Z"));
	assert_false(parses("2026-01-02T03:04:05.Z"));
	assert_false(parses("2026-01-02T03:04:05+0100"));
	assert_false(parses("2026-01-02T03:04:05+01"));
	assert_false(parses("+2026-01-02T03:04:05Z"));
	assert_false(parses("2026-01-02T03:04:05.-5Z"));
}

static void parse_rejects_feb_29_outside_leap_years(void **state)
{
	(void)state;
	assert_false(parses("2026-02-29T00:00:00Z"));
	assert_false(parses("1900-02-29T00:00:00Z"));
	assert_false(parses("2100-02-29T00:00:00Z"));
	assert_false(parses("2024-02-30T00:00:00Z"));
}

static void parse_rejects_trailing_junk_and_empty(void **state)
{
	(void)state;
	assert_false(parses(""));
	assert_false(parses("Z"));
	assert_false(parses("2026-01-02T03:04:05Zx"));
	assert_false(parses("2026-01-02T03:04:05Z "));
	assert_false(parses("2026-01-02T03:04:05+01:00:00"));
	assert_false(parses(" 2026-01-02T03:04:05Z"));
	assert_false(parses("now"));
	/* The length is respected: a valid string cut short is refused. */
	int64_t us;
	assert_false(time_parse_iso8601("2026-01-02T03:04:05Z", 19, &us));
}

static void format_then_parse_round_trips(void **state)
{
	(void)state;
	const int64_t values[] = {0, 1, -1, T_2026, T_JAN2, -301246200000000LL + 250000,
				  951782400000000LL - 1, 253402300799999999LL, 4102444800000000LL};
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char out[TIMEFMT_LEN];
		time_format_us(values[i], out);
		assert_int_equal(parse_ok(out), values[i]);
	}
}

static void http_date_is_imf_fixdate(void **state)
{
	(void)state;
	char out[TIMEFMT_HTTP_LEN];
	time_format_http(0, out);
	assert_string_equal(out, "Thu, 01 Jan 1970 00:00:00 GMT");
	time_format_http(784111777999999LL, out); /* fractions are dropped */
	assert_string_equal(out, "Sun, 06 Nov 1994 08:49:37 GMT");
	time_format_http(T_2026, out);
	assert_string_equal(out, "Mon, 23 Nov 2026 12:34:56 GMT");
	time_format_http(1709164800000000LL, out);
	assert_string_equal(out, "Thu, 29 Feb 2024 00:00:00 GMT");
}

static void now_is_a_recent_microsecond_clock(void **state)
{
	(void)state;
	int64_t a = time_now_us();
	assert_true(a > 1735689600000000LL); /* after 2025-01-01 */
	int64_t b = time_now_us();
	assert_true(b >= a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(format_epoch_is_1970_with_six_zero_digits),
		cmocka_unit_test(format_known_instant_has_microseconds),
		cmocka_unit_test(format_negative_instants_count_back_from_epoch),
		cmocka_unit_test(parse_accepts_z_and_lowercase_z_and_t),
		cmocka_unit_test(parse_applies_offsets),
		cmocka_unit_test(parse_accepts_space_for_plus),
		cmocka_unit_test(parse_fractions_of_one_to_nine_digits),
		cmocka_unit_test(parse_accepts_leap_days),
		cmocka_unit_test(parse_rejects_missing_offset),
		cmocka_unit_test(parse_rejects_bad_fields),
		cmocka_unit_test(parse_rejects_feb_29_outside_leap_years),
		cmocka_unit_test(parse_rejects_trailing_junk_and_empty),
		cmocka_unit_test(format_then_parse_round_trips),
		cmocka_unit_test(http_date_is_imf_fixdate),
		cmocka_unit_test(now_is_a_recent_microsecond_clock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
