/* Unit tests for core/text: UTF-8 validity, control characters, hex, percent-encoding, UUIDs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/text.h"

#define UTF8(lit) text_utf8_valid((lit), sizeof(lit) - 1)
#define CTRL(lit) text_has_control((lit), sizeof(lit) - 1)

static void utf8_accepts_ascii_and_empty(void **state)
{
	(void)state;
	assert_true(text_utf8_valid("", 0));
	assert_true(UTF8("hello, world"));
	assert_true(UTF8("a\0b")); /* NUL is a valid code point */
	assert_true(UTF8("\x7f"));
}

static void utf8_accepts_every_sequence_length_at_its_bounds(void **state)
{
	(void)state;
	assert_true(UTF8("\xc2\x80"));         /* U+0080, smallest 2-byte */
	assert_true(UTF8("\xdf\xbf"));         /* U+07FF */
	assert_true(UTF8("\xe0\xa0\x80"));     /* U+0800, smallest 3-byte */
	assert_true(UTF8("\xed\x9f\xbf"));     /* U+D7FF, just below the surrogates */
	assert_true(UTF8("\xee\x80\x80"));     /* U+E000, just above the surrogates */
	assert_true(UTF8("\xef\xbf\xbf"));     /* U+FFFF */
	assert_true(UTF8("\xf0\x90\x80\x80")); /* U+10000, smallest 4-byte */
	assert_true(UTF8("\xf4\x8f\xbf\xbf")); /* U+10FFFF, the last code point */
	assert_true(UTF8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
}

static void utf8_rejects_overlong_encodings(void **state)
{
	(void)state;
	assert_false(UTF8("\xc0\x80"));         /* NUL in 2 bytes */
	assert_false(UTF8("\xc1\xbf"));         /* U+007F in 2 bytes */
	assert_false(UTF8("\xe0\x80\x80"));     /* NUL in 3 bytes */
	assert_false(UTF8("\xe0\x9f\xbf"));     /* U+07FF in 3 bytes */
	assert_false(UTF8("\xf0\x80\x80\x80")); /* NUL in 4 bytes */
	assert_false(UTF8("\xf0\x8f\xbf\xbf")); /* U+FFFF in 4 bytes */
	assert_false(UTF8("a/\xc0\xaf"));       /* overlong '/' */
}

static void utf8_rejects_surrogates(void **state)
{
	(void)state;
	assert_false(UTF8("\xed\xa0\x80")); /* U+D800 */
	assert_false(UTF8("\xed\xbf\xbf")); /* U+DFFF */
	assert_false(UTF8("\xed\xa0\xbd\xed\xb8\x80")); /* CESU-8 pair */
}

static void utf8_rejects_code_points_past_10ffff(void **state)
{
	(void)state;
	assert_false(UTF8("\xf4\x90\x80\x80")); /* U+110000 */
	assert_false(UTF8("\xf5\x80\x80\x80"));
	assert_false(UTF8("\xf7\xbf\xbf\xbf"));
	assert_false(UTF8("\xf8\x88\x80\x80\x80")); /* old 5-byte form */
	assert_false(UTF8("\xfc\x84\x80\x80\x80\x80"));
	assert_false(UTF8("\xfe"));
	assert_false(UTF8("\xff"));
}

static void utf8_rejects_truncated_and_stray_bytes(void **state)
{
	(void)state;
	assert_false(UTF8("\xc3"));
	assert_false(UTF8("abc\xc3"));
	assert_false(UTF8("\xe2\x82"));
	assert_false(UTF8("\xf0\x9f\x98"));
	assert_false(UTF8("\x80"));          /* lone continuation */
	assert_false(UTF8("a\xbf" "b"));
	assert_false(UTF8("\xc3(")); /* lead byte followed by a non-continuation */
	assert_false(UTF8("\xe2\x28\xa1"));
	assert_false(UTF8("\xf0\x9f\x98" "a"));
	/* The length given is respected: a valid sequence cut by len is refused. */
	assert_false(text_utf8_valid("\xc3\xa9", 1));
	assert_true(text_utf8_valid("\xc3\xa9", 2));
	assert_true(text_utf8_valid("ab\xff", 2));
}

static void control_detects_c0_del_and_c1(void **state)
{
	(void)state;
	assert_true(CTRL("\0"));
	assert_true(CTRL("a\tb"));
	assert_true(CTRL("line\n"));
	assert_true(CTRL("\x1f"));
	assert_true(CTRL("\x7f"));
	assert_true(CTRL("\xc2\x80"));       /* U+0080 */
	assert_true(CTRL("x\xc2\x85y"));     /* U+0085 NEL */
	assert_true(CTRL("\xc2\x9f"));       /* U+009F */
}

static void control_accepts_printable_text(void **state)
{
	(void)state;
	assert_false(text_has_control("", 0));
	assert_false(CTRL(" ~hello"));
	assert_false(CTRL("\xc2\xa0"));     /* U+00A0 no-break space */
	assert_false(CTRL("\xc2\xbf"));     /* U+00BF */
	assert_false(CTRL("caf\xc3\xa9"));
	assert_false(CTRL("\xc4\x80"));     /* U+0100: C4 80, continuation 0x80 is not C1 */
	assert_false(CTRL("\xe2\x80\x8b")); /* U+200B has 0x80 inside a 3-byte sequence */
	assert_false(CTRL("\xf0\x9f\x98\x80"));
}

static void hex_writes_lowercase_pairs_and_nul(void **state)
{
	(void)state;
	const unsigned char bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
	char out[2 * sizeof(bytes) + 1];
	memset(out, 'X', sizeof(out));
	text_hex(bytes, sizeof(bytes), out);
	assert_string_equal(out, "00017f80abff");
	char empty[1] = {'X'};
	text_hex(bytes, 0, empty);
	assert_string_equal(empty, "");
}

static void pct_encode_keeps_attr_chars(void **state)
{
	(void)state;
	const char *s = "AZaz09!#$&+-.^_`|~";
	char out[3 * 18 + 1];
	text_pct_encode(s, strlen(s), out);
	assert_string_equal(out, s);
}

static void pct_encode_escapes_everything_else_uppercase(void **state)
{
	(void)state;
	const char *s = "a b\"%'()*,/:;<=>?@[\\]{}\xc3\xa9";
	char out[3 * 64 + 1];
	text_pct_encode(s, strlen(s), out);
	assert_string_equal(out, "a%20b%22%25%27%28%29%2A%2C%2F%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%7B%7D%C3%A9");
	text_pct_encode("", 0, out);
	assert_string_equal(out, "");
}

static void pct_encode_escapes_nul_and_control_bytes(void **state)
{
	(void)state;
	char out[3 * 5 + 1];
	text_pct_encode("a\0b\x7f\n", 5, out);
	assert_string_equal(out, "a%00b%7F%0A");
}

static void uuid_accepts_8_4_4_4_12_hex_any_case(void **state)
{
	(void)state;
	assert_true(text_is_uuid("123e4567-e89b-12d3-a456-426614174000"));
	assert_true(text_is_uuid("123E4567-E89B-12D3-A456-426614174ABC"));
	assert_true(text_is_uuid("00000000-0000-0000-0000-000000000000"));
	assert_true(text_is_uuid("ffffffff-ffff-ffff-ffff-ffffffffffff"));
}

static void uuid_rejects_other_shapes(void **state)
{
	(void)state;
	assert_false(text_is_uuid(""));
	assert_false(text_is_uuid("123e4567"));
	assert_false(text_is_uuid("123e4567-e89b-12d3-a456-42661417400"));   /* 35 */
	assert_false(text_is_uuid("123e4567-e89b-12d3-a456-4266141740000")); /* 37 */
	assert_false(text_is_uuid("123e4567e89b12d3a456426614174000"));      /* no dashes */
	assert_false(text_is_uuid("123e4567-e89b-12d3-a4564-26614174000"));  /* dash moved */
	assert_false(text_is_uuid("123e4567-e89b-12d3-a456-42661417400g"));
	assert_false(text_is_uuid("{23e4567-e89b-12d3-a456-42661417400}"));
	assert_false(text_is_uuid("123e4567_e89b_12d3_a456_426614174000"));
	assert_false(text_is_uuid(" 23e4567-e89b-12d3-a456-426614174000"));
}

static void media_type_accepts_printable_type_subtype_only(void **state)
{
	(void)state;
	assert_true(text_is_media_type("text/plain"));
	assert_true(text_is_media_type("text/plain; charset=utf-8"));
	assert_true(text_is_media_type("a/b"));
	assert_false(text_is_media_type(NULL));
	assert_false(text_is_media_type(""));
	assert_false(text_is_media_type("text"));
	assert_false(text_is_media_type("/plain"));
	assert_false(text_is_media_type("text/\"x\""));
	assert_false(text_is_media_type("text/x\\y"));
	assert_false(text_is_media_type("text/\x01x"));
	assert_false(text_is_media_type("text/caf\xc3\xa9"));
	char long_type[300];
	memset(long_type, 'a', sizeof(long_type));
	long_type[3] = '/';
	long_type[256] = '\0';
	assert_false(text_is_media_type(long_type));
	long_type[255] = '\0';
	assert_true(text_is_media_type(long_type));
}

static void slug_lowercases_and_underscores_the_rest(void **state)
{
	(void)state;
	char out[64];
	text_slug("an array resource", out);
	assert_string_equal(out, "an_array_resource");
	text_slug("Prod-KEY.v2!", out);
	assert_string_equal(out, "prod_key_v2_");
	text_slug("", out);
	assert_string_equal(out, "");
	/* one '_' per character, whatever its UTF-8 length */
	text_slug("\xc3\xa9t\xc3\xa9 \xe2\x98\x83\xf0\x9f\x98\x80", out);
	assert_string_equal(out, "_t____");
	text_slug("a  b", out);
	assert_string_equal(out, "a__b");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(media_type_accepts_printable_type_subtype_only),
		cmocka_unit_test(utf8_accepts_ascii_and_empty),
		cmocka_unit_test(utf8_accepts_every_sequence_length_at_its_bounds),
		cmocka_unit_test(utf8_rejects_overlong_encodings),
		cmocka_unit_test(utf8_rejects_surrogates),
		cmocka_unit_test(utf8_rejects_code_points_past_10ffff),
		cmocka_unit_test(utf8_rejects_truncated_and_stray_bytes),
		cmocka_unit_test(control_detects_c0_del_and_c1),
		cmocka_unit_test(control_accepts_printable_text),
		cmocka_unit_test(hex_writes_lowercase_pairs_and_nul),
		cmocka_unit_test(slug_lowercases_and_underscores_the_rest),
		cmocka_unit_test(pct_encode_keeps_attr_chars),
		cmocka_unit_test(pct_encode_escapes_everything_else_uppercase),
		cmocka_unit_test(pct_encode_escapes_nul_and_control_bytes),
		cmocka_unit_test(uuid_accepts_8_4_4_4_12_hex_any_case),
		cmocka_unit_test(uuid_rejects_other_shapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
