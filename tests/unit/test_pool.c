/* Unit tests for core/pool: the per-request arena. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/pool.h"

static void init_leaves_pool_empty(void **state)
{
	(void)state;
	struct pool p;
	pool_init(&p);
	assert_null(p.head);
	pool_cleanup(&p); /* cleanup of an unused pool is fine */
	assert_null(p.head);
}

static void alloc_returns_zeroed_16_byte_aligned_memory(void **state)
{
	(void)state;
	struct pool p;
	pool_init(&p);
	const size_t sizes[] = {1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 100, 4095, 4096, 4097, 9000, 1};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *m = pool_alloc(&p, sizes[i]);
		assert_non_null(m);
		assert_int_equal((uintptr_t)m % 16, 0);
		for (size_t k = 0; k < sizes[i]; k++)
			assert_int_equal(m[k], 0);
		memset(m, 0xa5, sizes[i]);
	}
	pool_cleanup(&p);
}

static void many_small_allocations_keep_their_contents(void **state)
{
	(void)state;
	struct pool p;
	pool_init(&p);
	enum { N = 5000 };
	static unsigned char *ptrs[N];
	for (size_t i = 0; i < N; i++) {
		size_t n = 1 + i % 40;
		ptrs[i] = pool_alloc(&p, n);
		memset(ptrs[i], (int)(i & 0xff), n);
	}
	for (size_t i = 0; i < N; i++) {
		size_t n = 1 + i % 40;
		for (size_t k = 0; k < n; k++)
			assert_int_equal(ptrs[i][k], i & 0xff);
	}
	pool_cleanup(&p);
	assert_null(p.head);
}

static void large_allocations_do_not_disturb_small_ones(void **state)
{
	(void)state;
	struct pool p;
	pool_init(&p);
	char *a = pool_alloc(&p, 10);
	memcpy(a, "123456789", 10);
	unsigned char *big = pool_alloc(&p, 1 << 20);
	memset(big, 0x5a, 1 << 20);
	char *b = pool_alloc(&p, 10);
	memcpy(b, "abcdefghi", 10);
	unsigned char *big2 = pool_alloc(&p, 5000);
	memset(big2, 0x33, 5000);
	char *c = pool_alloc(&p, 10);
	memcpy(c, "ABCDEFGHI", 10);
	assert_string_equal(a, "123456789");
	assert_string_equal(b, "abcdefghi");
	assert_string_equal(c, "ABCDEFGHI");
	assert_int_equal(big[0], 0x5a);
	assert_int_equal(big[(1 << 20) - 1], 0x5a);
	assert_int_equal(big2[4999], 0x33);
	assert_int_equal((uintptr_t)big % 16, 0);
	assert_int_equal((uintptr_t)big2 % 16, 0);
	/* Non-overlapping. */
	assert_true(b + 10 <= (char *)big || b >= (char *)big + (1 << 20));
	pool_cleanup(&p);
}

static void alloc_zero_bytes_returns_usable_pointer(void **state)
{
	(void)state;
	struct pool p;
	pool_init(&p);
	void *z = pool_alloc(&p, 0);
	assert_non_null(z);
	pool_cleanup(&p);
}

static void strdup_and_strndup_copy_and_terminate(void **state)
{
	(void)state;
	struct pool p;
	pool_init(&p);
	char src[] = "hello";
	char *d = pool_strdup(&p, src);
	src[0] = 'j';
	assert_string_equal(d, "hello");
	assert_ptr_not_equal(d, src);
	assert_null(pool_strdup(&p, NULL));
	assert_string_equal(pool_strndup(&p, "abcdef", 3), "abc");
	assert_string_equal(pool_strndup(&p, "abcdef", 0), "");
	char *e = pool_strndup(&p, "a\0b", 3);
	assert_int_equal(e[0], 'a');
	assert_int_equal(e[1], '\0');
	assert_int_equal(e[2], 'b');
	assert_int_equal(e[3], '\0');
	pool_cleanup(&p);
}

static void printf_formats_short_and_long_strings(void **state)
{
	(void)state;
	struct pool p;
	pool_init(&p);
	assert_string_equal(pool_printf(&p, "%s-%d-%05.1f", "x", -42, 3.14159), "x--42-003.1");
	assert_string_equal(pool_printf(&p, "%s", ""), "");
	char big[20001];
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	char *s = pool_printf(&p, "<%s>", big);
	assert_int_equal(strlen(s), 20002);
	assert_int_equal(s[0], '<');
	assert_int_equal(s[20001], '>');
	assert_int_equal(s[1], 'q');
	pool_cleanup(&p);
}

static void cleanup_then_reuse_works(void **state)
{
	(void)state;
	struct pool p;
	pool_init(&p);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 100; i++)
			assert_non_null(pool_printf(&p, "round %d item %d", round, i));
		unsigned char *big = pool_alloc(&p, 100000);
		assert_int_equal(big[99999], 0);
		pool_cleanup(&p);
		assert_null(p.head);
	}
	char *s = pool_strdup(&p, "after");
	assert_string_equal(s, "after");
	pool_cleanup(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(init_leaves_pool_empty),
		cmocka_unit_test(alloc_returns_zeroed_16_byte_aligned_memory),
		cmocka_unit_test(many_small_allocations_keep_their_contents),
		cmocka_unit_test(large_allocations_do_not_disturb_small_ones),
		cmocka_unit_test(alloc_zero_bytes_returns_usable_pointer),
		cmocka_unit_test(strdup_and_strndup_copy_and_terminate),
		cmocka_unit_test(printf_formats_short_and_long_strings),
		cmocka_unit_test(cleanup_then_reuse_works),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
