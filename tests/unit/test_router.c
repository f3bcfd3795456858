/* Unit tests for http_route_match: the path patterns of the route table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "http/http.h"

#define ID "123e4567-e89b-12d3-a456-426614174000"

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

static bool match(const char *pattern, const char *path, const char *params[HTTP_MAX_PARAMS])
{
	for (int i = 0; i < HTTP_MAX_PARAMS; i++)
		params[i] = NULL;
	return http_route_match(pattern, path, &pool, params);
}

static void literal_pattern_matches_only_itself(void **state)
{
	(void)state;
	const char *params[HTTP_MAX_PARAMS];
	assert_true(match("/healthz", "/healthz", params));
	assert_null(params[0]);
	assert_true(match("/v1/resources", "/v1/resources", params));
	assert_false(match("/healthz", "/healthz/", params));
	assert_false(match("/healthz", "/health", params));
	assert_false(match("/healthz", "/healthzz", params));
	assert_false(match("/healthz", "/HEALTHZ", params));
	assert_false(match("/healthz", "", params));
	assert_false(match("/v1/resources", "/v1/resource", params));
	assert_false(match("/v1/resource", "/v1/resources", params));
}

static void id_segment_is_captured(void **state)
{
	(void)state;
	const char *params[HTTP_MAX_PARAMS];
	assert_true(match("/v1/resources/{id}", "/v1/resources/" ID, params));
	assert_string_equal(params[0], ID);
	assert_null(params[1]);
	assert_true(match("/v1/resources/{id}", "/v1/resources/x", params));
	assert_string_equal(params[0], "x");
	/* Whatever the segment holds is captured; UUID checks come later. */
	assert_true(match("/v1/resources/{id}", "/v1/resources/not%20a-uuid", params));
	assert_string_equal(params[0], "not%20a-uuid");
}

static void param_is_a_pool_copy(void **state)
{
	(void)state;
	const char *params[HTTP_MAX_PARAMS];
	char path[] = "/v1/resources/abc";
	assert_true(match("/v1/resources/{id}", path, params));
	path[14] = 'z';
	assert_string_equal(params[0], "abc");
}

static void trailing_segments_after_param(void **state)
{
	(void)state;
	const char *params[HTTP_MAX_PARAMS];
	assert_true(match("/v1/resources/{id}/content", "/v1/resources/" ID "/content", params));
	assert_string_equal(params[0], ID);
	assert_false(match("/v1/resources/{id}/content", "/v1/resources/" ID, params));
	assert_false(match("/v1/resources/{id}/content", "/v1/resources/" ID "/contents", params));
	assert_false(match("/v1/resources/{id}/content", "/v1/resources/" ID "/content/", params));
	assert_false(match("/v1/resources/{id}/content", "/v1/resources/" ID "/data", params));
	assert_false(match("/v1/resources/{id}", "/v1/resources/" ID "/content", params));
	assert_false(match("/v1/resources/{id}", "/v1/resources/" ID "/", params));
}

static void empty_segments_do_not_match_a_param(void **state)
{
	(void)state;
	const char *params[HTTP_MAX_PARAMS];
	assert_false(match("/v1/resources/{id}", "/v1/resources/", params));
	assert_false(match("/v1/resources/{id}", "/v1/resources", params));
	assert_false(match("/v1/resources/{id}/content", "/v1/resources//content", params));
	assert_false(match("/v1/resources/{id}", "/v1/resources//", params));
	assert_false(match("/v1/resources/{id}", "/v1//resources/x", params));
}

static void several_params_are_captured_in_order(void **state)
{
	(void)state;
	const char *params[HTTP_MAX_PARAMS];
	assert_true(match("/a/{x}/b/{y}", "/a/one/b/two", params));
	assert_string_equal(params[0], "one");
	assert_string_equal(params[1], "two");
	assert_true(match("/{a}/{b}/{c}/{d}", "/1/2/3/4", params));
	assert_string_equal(params[0], "1");
	assert_string_equal(params[3], "4");
	assert_false(match("/a/{x}/b/{y}", "/a/one/c/two", params));
	assert_false(match("/a/{x}/b/{y}", "/a/one/b", params));
}

static void more_params_than_slots_never_match(void **state)
{
	(void)state;
	const char *params[HTTP_MAX_PARAMS];
	assert_false(match("/{a}/{b}/{c}/{d}/{e}", "/1/2/3/4/5", params));
}

static void empty_pattern_and_path(void **state)
{
	(void)state;
	const char *params[HTTP_MAX_PARAMS];
	assert_true(match("", "", params));
	assert_false(match("", "/", params));
	assert_false(match("/", "", params));
	assert_true(match("/", "/", params));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(literal_pattern_matches_only_itself),
		cmocka_unit_test(id_segment_is_captured),
		cmocka_unit_test(param_is_a_pool_copy),
		cmocka_unit_test(trailing_segments_after_param),
		cmocka_unit_test(empty_segments_do_not_match_a_param),
		cmocka_unit_test(several_params_are_captured_in_order),
		cmocka_unit_test(more_params_than_slots_never_match),
		cmocka_unit_test(empty_pattern_and_path),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
