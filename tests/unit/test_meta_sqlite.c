/* Unit tests for the SQLite metadata store: the cases every backend shares, on a fresh file
 * per test, and what is SQLite's own. */
#include "meta_cases.h"
#include "tmpdir.h"

#include "core/log.h"

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	if (!tmpdir_make(f->dir, sizeof(f->dir), "meta"))
		return -1;
	snprintf(f->url, sizeof(f->url), "sqlite:%s/t.db", f->dir);
	struct err e = {0};
	if (meta_open(f->url, &f->m, &e) != ERR_OK) {
		fprintf(stderr, "meta_open: %s\n", e.msg);
		return -1;
	}
	pool_init(&f->pool);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	meta_close(f->m);
	pool_cleanup(&f->pool);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static void open_fails_on_unwritable_path(void **state)
{
	(void)state;
	struct meta *m = NULL;
	struct err e = {0};
	assert_int_not_equal(meta_open("sqlite:/nonexistent-dir-depot/x/t.db", &m, &e), ERR_OK);
	assert_null(m);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	log_set_level(LOG_WARN);
	const struct CMUnitTest tests[] = {
		META_CASES(T),
		cmocka_unit_test(open_fails_on_unwritable_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
