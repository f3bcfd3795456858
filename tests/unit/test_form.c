/* Unit tests for the multipart create's fields (api/upload.c): the text parts as the form reader
 * delivers them, and the create fields read from them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "api/api.h"
#include "limits.h"


struct form {
	struct form_parts fp;
	struct pool pool;
	struct create_fields f;
	struct err e;
};

static void form_init(struct form *t)
{
	memset(t, 0, sizeof(*t));
	pool_init(&t->pool);
	assert_int_equal(api_form_file_begin(&t->fp, "f.bin", "text/plain", &t->pool, &t->e),
			 ERR_OK);
}

static void form_free(struct form *t)
{
	api_form_parts_cleanup(&t->fp);
	pool_cleanup(&t->pool);
}

/* A whole text part in one piece (len bytes, NULs included). */
static void text(struct form *t, const char *field, const char *data, size_t len)
{
	assert_int_equal(api_form_text_piece(&t->fp, field, data, 0, len, 4096, &t->e), ERR_OK);
}

static enum err_code fields(struct form *t)
{
	enum err_code rc = api_form_fields(&t->fp, &test_limits, &t->pool, &t->f, &t->e);
	if (rc != ERR_OK)
		assert_true(t->e.msg[0] != '\0');
	return rc;
}

static void pieces_of_a_part_are_joined(void **state)
{
	(void)state;
	struct form t;
	form_init(&t);
	assert_int_equal(api_form_text_piece(&t.fp, "name", "re", 0, 2, 4096, &t.e), ERR_OK);
	assert_int_equal(api_form_text_piece(&t.fp, "name", "port", 2, 4, 4096, &t.e), ERR_OK);
	text(&t, "directory_path", "/a/b/", 5);
	text(&t, "tags", "x,y", 3);
	text(&t, "tags", "y,z", 3);
	assert_int_equal(fields(&t), ERR_OK);
	assert_string_equal(t.f.name, "report");
	assert_string_equal(t.f.directory_path, "/a/b");
	assert_int_equal(t.f.ntags, 3);
	assert_string_equal(t.f.tags[2], "z");
	assert_string_equal(t.f.mime_type, "text/plain");
	form_free(&t);
}

static void name_falls_back_to_the_filename(void **state)
{
	(void)state;
	struct form t;
	form_init(&t);
	text(&t, "directory_path", "/", 1);
	assert_int_equal(fields(&t), ERR_OK);
	assert_string_equal(t.f.name, "f.bin");
	form_free(&t);
}

/* Found by fuzz_form: a NUL in a text part cut it short, so "/a\0/../x" was read as "/a" and
 * "ok\0/x" as the name "ok". Every text part the create reads is refused with a NUL. */
static void nul_in_a_text_part_is_invalid(void **state)
{
	(void)state;
	static const struct {
		const char *field, *data;
		size_t len;
	} cases[] = {
		{"name", "ok\0/x", 5},
		{"directory_path", "/a\0/../x", 8},
		{"tags", "a,b\0,c", 6},
		{"metadata", "{}\0{\"a\":1}", 10},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct form t;
		form_init(&t);
		if (strcmp(cases[i].field, "directory_path") != 0)
			text(&t, "directory_path", "/", 1);
		text(&t, cases[i].field, cases[i].data, cases[i].len);
		assert_int_equal(fields(&t), ERR_INVALID);
		assert_non_null(strstr(t.e.msg, cases[i].field));
		form_free(&t);
	}
}

static void text_over_the_limit_is_too_large(void **state)
{
	(void)state;
	struct form t;
	form_init(&t);
	char big[600];
	memset(big, 'a', sizeof(big));
	assert_int_equal(api_form_text_piece(&t.fp, "name", big, 0, 600, 1000, &t.e), ERR_OK);
	assert_int_equal(api_form_text_piece(&t.fp, "other", big, 0, 600, 1000, &t.e),
			 ERR_TOO_LARGE);
	form_free(&t);
}

static void second_file_part_is_invalid(void **state)
{
	(void)state;
	struct form t;
	form_init(&t);
	assert_int_equal(api_form_file_begin(&t.fp, "g.bin", NULL, &t.pool, &t.e), ERR_INVALID);
	form_free(&t);
}

/* A piece that claims to continue a part when none was begun starts one (the form reader never
 * does that, but an offset is no index). */
static void continuation_without_a_part_starts_one(void **state)
{
	(void)state;
	struct form t;
	form_init(&t);
	assert_int_equal(api_form_text_piece(&t.fp, "directory_path", "/x", 7, 2, 4096, &t.e),
			 ERR_OK);
	assert_int_equal(fields(&t), ERR_OK);
	assert_string_equal(t.f.directory_path, "/x");
	form_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pieces_of_a_part_are_joined),
		cmocka_unit_test(name_falls_back_to_the_filename),
		cmocka_unit_test(nul_in_a_text_part_is_invalid),
		cmocka_unit_test(text_over_the_limit_is_too_large),
		cmocka_unit_test(second_file_part_is_invalid),
		cmocka_unit_test(continuation_without_a_part_starts_one),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
