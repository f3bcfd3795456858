/* The behaviour every metadata backend must show, through meta.h. Each backend's test file
 * includes this after defining nothing but its fixture's setup and teardown; META_CASES(T)
 * lists the cases for its cmocka table. */
#ifndef DEPOT_TESTS_META_CASES_H
#define DEPOT_TESTS_META_CASES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meta/meta.h"

#define ACCT "acct-a"
#define OTHER "acct-b"
#define SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define KEY "blobs/00112233445566778899aabbccddeeff/e3/" SHA

struct fixture {
	char dir[64];   /* a temporary folder, when the backend needs one */
	char url[512];  /* what meta_open was given */
	struct meta *m;
	struct pool pool;
};

/* A resource with every field set; n makes the id and name distinct. */
static struct meta_resource make(const char *account, unsigned n, const char *dir,
				 const char *name, int64_t created)
{
	struct meta_resource r;
	memset(&r, 0, sizeof(r));
	snprintf(r.id, sizeof(r.id), "00000000-0000-4000-8000-%012u", n);
	memcpy(r.sha256, SHA, 65);
	r.account_id = account;
	r.name = name;
	r.directory_path = dir;
	r.mime_type = "text/plain";
	r.size_bytes = 0;
	r.storage_bucket = "local";
	r.storage_key = KEY;
	r.created_at_us = created;
	r.updated_at_us = created;
	r.status = META_STATUS_UPLOADED;
	r.version = 1;
	return r;
}

static void create(struct fixture *f, const struct meta_resource *r)
{
	struct err e = {0};
	enum err_code rc = meta_resource_create(f->m, r, &e);
	if (rc != ERR_OK)
		fail_msg("create %s: %d %s", r->id, rc, e.msg);
}

static void create_then_get_returns_every_field(void **state)
{
	struct fixture *f = *state;
	struct meta_resource r = make(ACCT, 1, "/docs/2024", "report.pdf", 1000);
	const char *tags[] = {"alpha", "beta"};
	r.tags = tags;
	r.ntags = 2;
	r.size_bytes = 1234;
	r.original_uri = "https://example.com/r.pdf";
	r.metadata_json = "{\"k\":\"v\"}";
	r.created_by = "user-1";
	r.updated_at_us = 2000;
	create(f, &r);

	struct meta_resource g;
	struct err e = {0};
	assert_int_equal(meta_resource_get(f->m, ACCT, r.id, &f->pool, &g, &e), ERR_OK);
	assert_string_equal(g.id, r.id);
	assert_string_equal(g.account_id, ACCT);
	assert_string_equal(g.name, "report.pdf");
	assert_string_equal(g.directory_path, "/docs/2024");
	assert_string_equal(g.mime_type, "text/plain");
	assert_string_equal(g.sha256, SHA);
	assert_int_equal(g.size_bytes, 1234);
	assert_string_equal(g.original_uri, "https://example.com/r.pdf");
	assert_null(g.external_id);
	assert_null(g.external_storage_type);
	assert_string_equal(g.storage_bucket, "local");
	assert_string_equal(g.storage_key, KEY);
	assert_string_equal(g.metadata_json, "{\"k\":\"v\"}");
	assert_string_equal(g.created_by, "user-1");
	assert_int_equal(g.created_at_us, 1000);
	assert_int_equal(g.updated_at_us, 2000);
	assert_int_equal(g.ntags, 2);
	assert_string_equal(g.tags[0], "alpha");
	assert_string_equal(g.tags[1], "beta");
}

static void nullable_fields_come_back_null_and_no_tags_is_empty(void **state)
{
	struct fixture *f = *state;
	struct meta_resource r = make(ACCT, 2, "/", "plain", 1000);
	create(f, &r);
	struct meta_resource g;
	struct err e;
	assert_int_equal(meta_resource_get(f->m, ACCT, r.id, &f->pool, &g, &e), ERR_OK);
	assert_null(g.original_uri);
	assert_null(g.metadata_json);
	assert_null(g.created_by);
	assert_int_equal(g.ntags, 0);
	assert_string_equal(g.directory_path, "/");
}

static void get_of_unknown_or_other_accounts_id_is_not_found(void **state)
{
	struct fixture *f = *state;
	struct meta_resource r = make(ACCT, 3, "/", "mine", 1000);
	create(f, &r);
	struct meta_resource g;
	struct err e = {0};
	assert_int_equal(meta_resource_get(f->m, OTHER, r.id, &f->pool, &g, &e), ERR_NOT_FOUND);
	assert_int_equal(
		meta_resource_get(f->m, ACCT, "00000000-0000-4000-8000-999999999999", &f->pool, &g, &e),
		ERR_NOT_FOUND);
}

static void duplicate_name_in_directory_conflicts(void **state)
{
	struct fixture *f = *state;
	struct meta_resource r1 = make(ACCT, 10, "/d", "same", 1000);
	struct meta_resource r2 = make(ACCT, 11, "/d", "same", 1001);
	create(f, &r1);
	struct err e = {0};
	assert_int_equal(meta_resource_create(f->m, &r2, &e), ERR_CONFLICT);
	/* The failed create left nothing behind. */
	struct meta_resource g;
	assert_int_equal(meta_resource_get(f->m, ACCT, r2.id, &f->pool, &g, &e), ERR_NOT_FOUND);
	/* Same name in another directory, or another account, is fine. */
	struct meta_resource r3 = make(ACCT, 12, "/d2", "same", 1002);
	create(f, &r3);
	struct meta_resource r4 = make(OTHER, 13, "/d", "same", 1003);
	create(f, &r4);
	/* Names are compared exactly (case and bytes). */
	struct meta_resource r5 = make(ACCT, 14, "/d", "Same", 1004);
	create(f, &r5);
}

static void update_changes_only_the_set_fields(void **state)
{
	struct fixture *f = *state;
	struct meta_resource r = make(ACCT, 20, "/a", "old", 1000);
	const char *tags[] = {"x", "y"};
	r.tags = tags;
	r.ntags = 2;
	r.metadata_json = "{\"a\":1}";
	create(f, &r);

	struct meta_update u = {.set_name = true, .name = "new", .updated_at_us = 5000};
	struct meta_resource out;
	struct err e = {0};
	assert_int_equal(meta_resource_update(f->m, ACCT, r.id, &u, NULL, &f->pool, &out, &e), ERR_OK);
	assert_string_equal(out.name, "new");
	assert_string_equal(out.directory_path, "/a");
	assert_string_equal(out.metadata_json, "{\"a\":1}");
	assert_int_equal(out.ntags, 2);
	assert_int_equal(out.created_at_us, 1000);
	assert_int_equal(out.updated_at_us, 5000);

	struct meta_update u2 = {.set_directory_path = true, .directory_path = "/b",
				 .set_metadata = true, .metadata_json = NULL, .updated_at_us = 6000};
	assert_int_equal(meta_resource_update(f->m, ACCT, r.id, &u2, NULL, &f->pool, &out, &e), ERR_OK);
	assert_string_equal(out.name, "new");
	assert_string_equal(out.directory_path, "/b");
	assert_null(out.metadata_json);
	assert_int_equal(out.updated_at_us, 6000);

	/* The change is stored, not just reported. */
	struct meta_resource g;
	assert_int_equal(meta_resource_get(f->m, ACCT, r.id, &f->pool, &g, &e), ERR_OK);
	assert_string_equal(g.name, "new");
	assert_string_equal(g.directory_path, "/b");
	assert_null(g.metadata_json);
}

static void update_replaces_tags(void **state)
{
	struct fixture *f = *state;
	struct meta_resource r = make(ACCT, 30, "/", "tagged", 1000);
	const char *tags[] = {"a", "b", "c"};
	r.tags = tags;
	r.ntags = 3;
	create(f, &r);
	const char *newtags[] = {"b", "z"};
	struct meta_update u = {.set_tags = true, .tags = newtags, .ntags = 2, .updated_at_us = 2};
	struct meta_resource out;
	struct err e = {0};
	assert_int_equal(meta_resource_update(f->m, ACCT, r.id, &u, NULL, &f->pool, &out, &e), ERR_OK);
	assert_int_equal(out.ntags, 2);
	assert_string_equal(out.tags[0], "b");
	assert_string_equal(out.tags[1], "z");
	struct meta_update clear = {.set_tags = true, .tags = NULL, .ntags = 0, .updated_at_us = 3};
	assert_int_equal(meta_resource_update(f->m, ACCT, r.id, &clear, NULL, &f->pool, &out, &e), ERR_OK);
	assert_int_equal(out.ntags, 0);
	struct meta_resource g;
	assert_int_equal(meta_resource_get(f->m, ACCT, r.id, &f->pool, &g, &e), ERR_OK);
	assert_int_equal(g.ntags, 0);
}

static void update_onto_taken_name_conflicts_and_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct meta_resource r1 = make(ACCT, 40, "/d", "one", 1000);
	struct meta_resource r2 = make(ACCT, 41, "/d", "two", 1000);
	const char *tags[] = {"keep"};
	r2.tags = tags;
	r2.ntags = 1;
	create(f, &r1);
	create(f, &r2);
	const char *newtags[] = {"lost"};
	struct meta_update u = {.set_name = true, .name = "one", .set_tags = true,
				.tags = newtags, .ntags = 1, .updated_at_us = 9};
	struct meta_resource out;
	struct err e = {0};
	assert_int_equal(meta_resource_update(f->m, ACCT, r2.id, &u, NULL, &f->pool, &out, &e),
			 ERR_CONFLICT);
	struct meta_resource g;
	assert_int_equal(meta_resource_get(f->m, ACCT, r2.id, &f->pool, &g, &e), ERR_OK);
	assert_string_equal(g.name, "two");
	assert_int_equal(g.updated_at_us, 1000);
	assert_int_equal(g.ntags, 1);
	assert_string_equal(g.tags[0], "keep");
	/* Moving to another directory with the same name is fine. */
	struct meta_update mv = {.set_directory_path = true, .directory_path = "/e",
				 .updated_at_us = 10};
	assert_int_equal(meta_resource_update(f->m, ACCT, r1.id, &mv, NULL, &f->pool, &out, &e), ERR_OK);
}

static void update_of_unknown_or_other_accounts_id_is_not_found(void **state)
{
	struct fixture *f = *state;
	struct meta_resource r = make(ACCT, 50, "/", "x", 1000);
	create(f, &r);
	struct meta_update u = {.set_name = true, .name = "hijack", .updated_at_us = 2};
	struct meta_resource out;
	struct err e = {0};
	assert_int_equal(meta_resource_update(f->m, OTHER, r.id, &u, NULL, &f->pool, &out, &e),
			 ERR_NOT_FOUND);
	assert_int_equal(meta_resource_update(f->m, ACCT, "00000000-0000-4000-8000-999999999999",
					      &u, NULL, &f->pool, &out, &e),
			 ERR_NOT_FOUND);
	struct meta_resource g;
	assert_int_equal(meta_resource_get(f->m, ACCT, r.id, &f->pool, &g, &e), ERR_OK);
	assert_string_equal(g.name, "x");
}

static void delete_returns_row_and_key_usage(void **state)
{
	struct fixture *f = *state;
	struct meta_resource r1 = make(ACCT, 60, "/", "a", 1000);
	struct meta_resource r2 = make(ACCT, 61, "/", "b", 1000);
	create(f, &r1);
	create(f, &r2);
	bool used = false;
	struct err e = {0};
	assert_int_equal(meta_storage_key_used(f->m, KEY, &used, &e), ERR_OK);
	assert_true(used);

	struct meta_resource out;
	bool still = false;
	assert_int_equal(meta_resource_delete(f->m, ACCT, r1.id, NULL, &f->pool, &out, &still, &e),
			 ERR_OK);
	assert_string_equal(out.id, r1.id);
	assert_string_equal(out.storage_key, KEY);
	assert_true(still); /* r2 refers to the same key */
	struct meta_resource g;
	assert_int_equal(meta_resource_get(f->m, ACCT, r1.id, &f->pool, &g, &e), ERR_NOT_FOUND);

	assert_int_equal(meta_resource_delete(f->m, ACCT, r2.id, NULL, &f->pool, &out, &still, &e),
			 ERR_OK);
	assert_false(still);
	assert_int_equal(meta_storage_key_used(f->m, KEY, &used, &e), ERR_OK);
	assert_false(used);
}

static void delete_of_unknown_or_other_accounts_id_is_not_found(void **state)
{
	struct fixture *f = *state;
	struct meta_resource r = make(ACCT, 70, "/", "x", 1000);
	create(f, &r);
	struct meta_resource out;
	bool still;
	struct err e = {0};
	assert_int_equal(meta_resource_delete(f->m, OTHER, r.id, NULL, &f->pool, &out, &still, &e),
			 ERR_NOT_FOUND);
	assert_int_equal(meta_resource_delete(f->m, ACCT, r.id, NULL, &f->pool, &out, &still, &e), ERR_OK);
	assert_int_equal(meta_resource_delete(f->m, ACCT, r.id, NULL, &f->pool, &out, &still, &e),
			 ERR_NOT_FOUND);
	/* The name is free again. */
	struct meta_resource again = make(ACCT, 71, "/", "x", 2000);
	create(f, &again);
}

static void key_used_for_unknown_key_is_false(void **state)
{
	struct fixture *f = *state;
	bool used = true;
	struct err e;
	assert_int_equal(meta_storage_key_used(f->m, "blobs/none", &used, &e), ERR_OK);
	assert_false(used);
}

/* ---- list ---- */

static struct meta_query query(const char *account)
{
	struct meta_query q = {
		.account_id = account,
		.created_after_us = INT64_MIN,
		.created_before_us = INT64_MAX,
		.sort = META_SORT_DESC,
		.offset = 0,
		.limit = 100,
	};
	return q;
}

/* The ids' last digits of a page, as "n,n,n". */
static const char *ids_of(const struct meta_page *pg)
{
	static char buf[512];
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < pg->nitems; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%u", i ? "," : "",
				      (unsigned)strtoul(pg->items[i].id + 24, NULL, 10));
	return buf;
}

static struct meta_page list(struct fixture *f, const struct meta_query *q)
{
	struct meta_page pg;
	memset(&pg, 0, sizeof(pg));
	struct err e = {0};
	enum err_code rc = meta_resource_list(f->m, q, &f->pool, &pg, &e);
	if (rc != ERR_OK)
		fail_msg("list: %d %s", rc, e.msg);
	return pg;
}

/* Seven resources of ACCT and one of OTHER, created at 100..800. */
static void seed(struct fixture *f)
{
	static const struct {
		unsigned n;
		const char *dir, *name;
		int64_t t;
		const char *tags[3];
	} rows[] = {
		{1, "/docs", "a", 100, {"red", "blue", NULL}},
		{2, "/docs/x", "b", 200, {"red", NULL, NULL}},
		{3, "/docsx", "c", 300, {"blue", NULL, NULL}},
		{4, "/a%b", "d", 400, {NULL, NULL, NULL}},
		{5, "/a_b", "e", 500, {"red", "blue", "green"}},
		{6, "/aXb", "f", 600, {NULL, NULL, NULL}},
		{7, "/", "g", 600, {"green", NULL, NULL}}, /* same created_at as 6 */
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct meta_resource r = make(ACCT, rows[i].n, rows[i].dir, rows[i].name, rows[i].t);
		const char *sorted[3];
		size_t k = 0;
		for (size_t j = 0; j < 3 && rows[i].tags[j]; j++)
			sorted[k++] = rows[i].tags[j];
		/* meta wants sorted tags */
		for (size_t a = 0; a < k; a++)
			for (size_t b = a + 1; b < k; b++)
				if (strcmp(sorted[a], sorted[b]) > 0) {
					const char *t = sorted[a];
					sorted[a] = sorted[b];
					sorted[b] = t;
				}
		r.tags = sorted;
		r.ntags = k;
		create(f, &r);
	}
	struct meta_resource other = make(OTHER, 8, "/docs", "z", 800);
	const char *t[] = {"red"};
	other.tags = t;
	other.ntags = 1;
	create(f, &other);
}

static void list_without_filters_is_newest_first_with_total(void **state)
{
	struct fixture *f = *state;
	seed(f);
	struct meta_query q = query(ACCT);
	struct meta_page pg = list(f, &q);
	assert_int_equal(pg.total, 7);
	assert_string_equal(ids_of(&pg), "7,6,5,4,3,2,1"); /* tie at 600 broken by id desc */
	assert_string_equal(pg.items[0].account_id, ACCT);
	assert_int_equal(pg.items[6].ntags, 2);
	assert_string_equal(pg.items[6].tags[0], "blue");
	assert_string_equal(pg.items[6].tags[1], "red");
}

static void list_sort_asc_breaks_ties_by_id_ascending(void **state)
{
	struct fixture *f = *state;
	seed(f);
	struct meta_query q = query(ACCT);
	q.sort = META_SORT_ASC;
	struct meta_page pg = list(f, &q);
	assert_string_equal(ids_of(&pg), "1,2,3,4,5,6,7");
}

static void list_offset_and_limit_page_through(void **state)
{
	struct fixture *f = *state;
	seed(f);
	struct meta_query q = query(ACCT);
	q.sort = META_SORT_ASC;
	q.limit = 3;
	q.offset = 0;
	struct meta_page pg = list(f, &q);
	assert_int_equal(pg.total, 7);
	assert_string_equal(ids_of(&pg), "1,2,3");
	q.offset = 3;
	pg = list(f, &q);
	assert_string_equal(ids_of(&pg), "4,5,6");
	q.offset = 6;
	pg = list(f, &q);
	assert_string_equal(ids_of(&pg), "7");
	q.offset = 9;
	pg = list(f, &q);
	assert_int_equal(pg.nitems, 0);
	assert_int_equal(pg.total, 7);
	q.offset = 1000000000LL * 100;
	pg = list(f, &q);
	assert_int_equal(pg.nitems, 0);
}

static void list_prefix_is_a_plain_byte_prefix(void **state)
{
	struct fixture *f = *state;
	seed(f);
	struct meta_query q = query(ACCT);
	q.sort = META_SORT_ASC;
	q.directory_prefix = "/docs";
	struct meta_page pg = list(f, &q);
	assert_int_equal(pg.total, 3);
	assert_string_equal(ids_of(&pg), "1,2,3"); /* /docs, /docs/x, /docsx */
	q.directory_prefix = "/docs/";
	pg = list(f, &q);
	assert_string_equal(ids_of(&pg), "2");
	q.directory_prefix = "/";
	pg = list(f, &q);
	assert_int_equal(pg.total, 7);
	q.directory_prefix = "/nothing";
	pg = list(f, &q);
	assert_int_equal(pg.total, 0);
	assert_int_equal(pg.nitems, 0);
	q.directory_prefix = "docs"; /* not normalised: no leading slash matches nothing */
	pg = list(f, &q);
	assert_int_equal(pg.total, 0);
}

static void list_prefix_percent_and_underscore_are_literal(void **state)
{
	struct fixture *f = *state;
	seed(f);
	struct meta_query q = query(ACCT);
	q.sort = META_SORT_ASC;
	q.directory_prefix = "/a%";
	struct meta_page pg = list(f, &q);
	assert_string_equal(ids_of(&pg), "4");
	assert_int_equal(pg.total, 1);
	q.directory_prefix = "/a_";
	pg = list(f, &q);
	assert_string_equal(ids_of(&pg), "5");
	assert_int_equal(pg.total, 1);
	q.directory_prefix = "%";
	pg = list(f, &q);
	assert_int_equal(pg.total, 0);
}

static void list_tags_must_all_be_present(void **state)
{
	struct fixture *f = *state;
	seed(f);
	struct meta_query q = query(ACCT);
	q.sort = META_SORT_ASC;
	const char *red[] = {"red"};
	q.tags = red;
	q.ntags = 1;
	struct meta_page pg = list(f, &q);
	assert_string_equal(ids_of(&pg), "1,2,5");
	assert_int_equal(pg.total, 3);
	const char *blue_red[] = {"blue", "red"};
	q.tags = blue_red;
	q.ntags = 2;
	pg = list(f, &q);
	assert_string_equal(ids_of(&pg), "1,5");
	assert_int_equal(pg.total, 2);
	const char *three[] = {"blue", "green", "red"};
	q.tags = three;
	q.ntags = 3;
	pg = list(f, &q);
	assert_string_equal(ids_of(&pg), "5");
	const char *none[] = {"purple"};
	q.tags = none;
	q.ntags = 1;
	pg = list(f, &q);
	assert_int_equal(pg.total, 0);
	const char *mixed[] = {"green", "purple"};
	q.tags = mixed;
	q.ntags = 2;
	pg = list(f, &q);
	assert_int_equal(pg.total, 0);
}

static void list_created_bounds_are_exclusive(void **state)
{
	struct fixture *f = *state;
	seed(f);
	struct meta_query q = query(ACCT);
	q.sort = META_SORT_ASC;
	q.created_after_us = 200;
	struct meta_page pg = list(f, &q);
	assert_string_equal(ids_of(&pg), "3,4,5,6,7");
	q.created_after_us = INT64_MIN;
	q.created_before_us = 300;
	pg = list(f, &q);
	assert_string_equal(ids_of(&pg), "1,2");
	q.created_after_us = 100;
	q.created_before_us = 500;
	pg = list(f, &q);
	assert_string_equal(ids_of(&pg), "2,3,4");
	assert_int_equal(pg.total, 3);
	q.created_after_us = 300;
	q.created_before_us = 301;
	pg = list(f, &q);
	assert_int_equal(pg.total, 0);
}

static void list_filters_combine(void **state)
{
	struct fixture *f = *state;
	seed(f);
	struct meta_query q = query(ACCT);
	q.directory_prefix = "/docs";
	const char *blue[] = {"blue"};
	q.tags = blue;
	q.ntags = 1;
	q.created_after_us = 100;
	struct meta_page pg = list(f, &q);
	assert_string_equal(ids_of(&pg), "3");
	assert_int_equal(pg.total, 1);
}

static void list_never_shows_other_accounts(void **state)
{
	struct fixture *f = *state;
	seed(f);
	struct meta_query q = query(OTHER);
	struct meta_page pg = list(f, &q);
	assert_int_equal(pg.total, 1);
	assert_string_equal(ids_of(&pg), "8");
	q = query("acct-none");
	pg = list(f, &q);
	assert_int_equal(pg.total, 0);
	assert_int_equal(pg.nitems, 0);
}

static void version_starts_at_1_and_counts_updates(void **state)
{
	struct fixture *f = *state;
	struct meta_resource r = make(ACCT, 100, "/", "v", 1000);
	create(f, &r);
	struct meta_resource g;
	struct err e = {0};
	assert_int_equal(meta_resource_get(f->m, ACCT, r.id, &f->pool, &g, &e), ERR_OK);
	assert_int_equal(g.version, 1);
	assert_string_equal(g.status, META_STATUS_UPLOADED);
	struct meta_update u = {.set_name = true, .name = "v2", .updated_at_us = 2};
	struct meta_resource out;
	assert_int_equal(meta_resource_update(f->m, ACCT, r.id, &u, NULL, &f->pool, &out, &e), ERR_OK);
	assert_int_equal(out.version, 2);
	u.name = "v3";
	assert_int_equal(meta_resource_update(f->m, ACCT, r.id, &u, NULL, &f->pool, &out, &e), ERR_OK);
	assert_int_equal(out.version, 3);
}

static void failed_precondition_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct meta_resource r = make(ACCT, 110, "/", "cond", 1000);
	create(f, &r);
	struct meta_update u = {.set_name = true, .name = "changed", .updated_at_us = 2};
	struct meta_resource out;
	struct err e = {0};
	struct meta_cond stale = {.version = 2};
	assert_int_equal(meta_resource_update(f->m, ACCT, r.id, &u, &stale, &f->pool, &out, &e),
			 ERR_PRECONDITION);
	struct meta_cond wrong_sha = {.sha256 = "00"};
	assert_int_equal(meta_resource_update(f->m, ACCT, r.id, &u, &wrong_sha, &f->pool, &out, &e),
			 ERR_PRECONDITION);
	bool still;
	assert_int_equal(meta_resource_delete(f->m, ACCT, r.id, &stale, &f->pool, &out, &still, &e),
			 ERR_PRECONDITION);
	struct meta_resource g;
	assert_int_equal(meta_resource_get(f->m, ACCT, r.id, &f->pool, &g, &e), ERR_OK);
	assert_string_equal(g.name, "cond");
	assert_int_equal(g.version, 1);
	/* The matching version and sha256 let the write through. */
	struct meta_cond ok = {.version = 1, .sha256 = SHA};
	assert_int_equal(meta_resource_update(f->m, ACCT, r.id, &u, &ok, &f->pool, &out, &e), ERR_OK);
	assert_string_equal(out.name, "changed");
	assert_int_equal(out.version, 2);
	struct meta_cond now = {.version = 2};
	assert_int_equal(meta_resource_delete(f->m, ACCT, r.id, &now, &f->pool, &out, &still, &e),
			 ERR_OK);
}

static void set_content_points_at_new_bytes_and_returns_old_key(void **state)
{
	struct fixture *f = *state;
	struct meta_resource r = make(ACCT, 120, "/", "content", 1000);
	create(f, &r);
	const char *sha2 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	const char *key2 = "blobs/00112233445566778899aabbccddeeff/ba/"
			   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	struct meta_content c = {.sha256 = sha2, .size_bytes = 3, .mime_type = "text/x-abc",
				 .storage_bucket = "local", .storage_key = key2,
				 .updated_at_us = 7000};
	struct meta_resource out;
	const char *old_key = NULL;
	struct err e = {0};
	assert_int_equal(meta_resource_set_content(f->m, ACCT, r.id, &c, NULL, &f->pool, &out,
						   &old_key, &e),
			 ERR_OK);
	assert_string_equal(old_key, KEY);
	assert_string_equal(out.sha256, sha2);
	assert_int_equal(out.size_bytes, 3);
	assert_string_equal(out.mime_type, "text/x-abc");
	assert_string_equal(out.storage_key, key2);
	assert_int_equal(out.version, 2);
	assert_int_equal(out.updated_at_us, 7000);
	bool used = true;
	assert_int_equal(meta_storage_key_used(f->m, KEY, &used, &e), ERR_OK);
	assert_false(used);
	struct meta_cond stale = {.version = 1};
	assert_int_equal(meta_resource_set_content(f->m, ACCT, r.id, &c, &stale, &f->pool, &out,
						   &old_key, &e),
			 ERR_PRECONDITION);
	assert_int_equal(meta_resource_set_content(f->m, OTHER, r.id, &c, NULL, &f->pool, &out,
						   &old_key, &e),
			 ERR_NOT_FOUND);
}

static void pending_rows_are_listed_only_on_request(void **state)
{
	struct fixture *f = *state;
	struct meta_resource up = make(ACCT, 130, "/", "up", 1000);
	create(f, &up);
	struct meta_resource pend = make(ACCT, 131, "/", "pend", 2000);
	pend.status = META_STATUS_PENDING;
	pend.sha256[0] = '\0';
	pend.storage_key = ""; /* as store.c makes a pending row */
	create(f, &pend);
	struct meta_query q = query(ACCT);
	struct meta_page pg = list(f, &q);
	assert_int_equal(pg.total, 1);
	assert_string_equal(ids_of(&pg), "130");
	q.status = META_STATUS_PENDING;
	pg = list(f, &q);
	assert_int_equal(pg.total, 1);
	assert_string_equal(ids_of(&pg), "131");
	assert_string_equal(pg.items[0].status, META_STATUS_PENDING);
	/* Confirming without bytes is a conflict. */
	struct meta_update confirm = {.confirm_upload = true, .updated_at_us = 3000};
	struct meta_resource out;
	struct err e = {0};
	assert_int_equal(meta_resource_update(f->m, ACCT, pend.id, &confirm, NULL, &f->pool, &out,
					      &e),
			 ERR_CONFLICT);
}

static void reopen_keeps_data(void **state)
{
	struct fixture *f = *state;
	struct meta_resource r = make(ACCT, 90, "/persist", "kept", 4242);
	const char *tags[] = {"t1"};
	r.tags = tags;
	r.ntags = 1;
	create(f, &r);
	meta_close(f->m);
	f->m = NULL;
	struct err e = {0};
	assert_int_equal(meta_open(f->url, &f->m, &e), ERR_OK);
	struct meta_resource g;
	assert_int_equal(meta_resource_get(f->m, ACCT, r.id, &f->pool, &g, &e), ERR_OK);
	assert_string_equal(g.name, "kept");
	assert_string_equal(g.directory_path, "/persist");
	assert_int_equal(g.created_at_us, 4242);
	assert_int_equal(g.ntags, 1);
	assert_string_equal(g.tags[0], "t1");
	/* The uniqueness rule survives too. */
	struct meta_resource dup = make(ACCT, 91, "/persist", "kept", 5000);
	assert_int_equal(meta_resource_create(f->m, &dup, &e), ERR_CONFLICT);
}

static void open_refuses_unknown_scheme(void **state)
{
	(void)state;
	struct meta *m = NULL;
	struct err e = {0};
	assert_int_equal(meta_open("mysql://x", &m, &e), ERR_INVALID);
	assert_int_equal(meta_open("nothing", &m, &e), ERR_INVALID);
	/* a libpq key=value string has no scheme: nothing of it is repeated */
	assert_int_equal(meta_open("password=hunter2 host=db", &m, &e), ERR_INVALID);
	assert_null(strstr(e.msg, "hunter2"));
	assert_int_equal(meta_open("host=db password=hunter2:x", &m, &e), ERR_INVALID);
	assert_null(strstr(e.msg, "hunter2"));
	assert_int_equal(meta_open("mysql://u:hunter2@db/x", &m, &e), ERR_INVALID);
	assert_string_equal(e.msg, "unknown metadata store scheme 'mysql'");
	assert_null(m);
}

static void create_batch_skips_taken_names_only(void **state)
{
	struct fixture *f = *state;
	struct meta_resource old = make(ACCT, 200, "/b", "taken", 1000);
	create(f, &old);
	struct meta_resource rows[4] = {
		make(ACCT, 201, "/b", "new1", 2000),
		make(ACCT, 202, "/b", "taken", 2001),
		make(ACCT, 203, "/b", "new2", 2002),
		make(ACCT, 204, "/b", "new2", 2003), /* taken by the row before it */
	};
	const char *tags[] = {"t"};
	rows[2].tags = tags;
	rows[2].ntags = 1;
	enum err_code results[4];
	struct err e = {0};
	assert_int_equal(meta_resource_create_batch(f->m, rows, 4, results, &e), ERR_OK);
	assert_int_equal(results[0], ERR_OK);
	assert_int_equal(results[1], ERR_CONFLICT);
	assert_int_equal(results[2], ERR_OK);
	assert_int_equal(results[3], ERR_CONFLICT);
	struct meta_resource g;
	assert_int_equal(meta_resource_get(f->m, ACCT, rows[2].id, &f->pool, &g, &e), ERR_OK);
	assert_int_equal(g.ntags, 1);
	assert_int_equal(meta_resource_get(f->m, ACCT, rows[1].id, &f->pool, &g, &e),
			 ERR_NOT_FOUND);
	assert_int_equal(meta_resource_get(f->m, ACCT, rows[3].id, &f->pool, &g, &e),
			 ERR_NOT_FOUND);
	struct meta_query q = query(ACCT);
	assert_int_equal(list(f, &q).total, 3);
}

#define INLINE_KEY "inline/00112233445566778899aabbccddeeff/" SHA

/* Inline content is shared by the rows that name its key and goes with the last of them. */
static void inline_content_lives_as_long_as_a_row_refers_to_it(void **state)
{
	struct fixture *f = *state;
	static const unsigned char bytes[] = {'h', 'i', 0, 0xff, '!'};
	struct meta_resource r1 = make(ACCT, 210, "/", "i1", 1000);
	struct meta_resource r2 = make(ACCT, 211, "/", "i2", 1001);
	r1.storage_bucket = r2.storage_bucket = META_INLINE_BUCKET;
	r1.storage_key = r2.storage_key = INLINE_KEY;
	r1.inline_bytes = r2.inline_bytes = bytes;
	r1.inline_len = r2.inline_len = sizeof(bytes);
	create(f, &r1);
	create(f, &r2);
	const unsigned char *got = NULL;
	size_t len = 0;
	struct err e = {0};
	assert_int_equal(meta_inline_get(f->m, INLINE_KEY, &f->pool, &got, &len, &e), ERR_OK);
	assert_int_equal(len, sizeof(bytes));
	assert_memory_equal(got, bytes, sizeof(bytes));
	struct meta_resource out;
	bool still = false;
	assert_int_equal(meta_resource_delete(f->m, ACCT, r1.id, NULL, &f->pool, &out, &still, &e),
			 ERR_OK);
	assert_true(still);
	assert_int_equal(meta_inline_get(f->m, INLINE_KEY, &f->pool, &got, &len, &e), ERR_OK);
	/* New content for the last user: the old inline bytes go in the same transaction. */
	struct meta_content c = {.sha256 = SHA, .size_bytes = 0, .mime_type = "text/plain",
				 .storage_bucket = "local", .storage_key = KEY,
				 .updated_at_us = 2000};
	const char *old_key = NULL;
	assert_int_equal(meta_resource_set_content(f->m, ACCT, r2.id, &c, NULL, &f->pool, &out,
						   &old_key, &e),
			 ERR_OK);
	assert_string_equal(old_key, INLINE_KEY);
	assert_int_equal(meta_inline_get(f->m, INLINE_KEY, &f->pool, &got, &len, &e),
			 ERR_NOT_FOUND);
	/* Empty content inline is an empty value, not a missing one. */
	struct meta_resource r3 = make(ACCT, 212, "/", "i3", 1002);
	r3.storage_bucket = META_INLINE_BUCKET;
	r3.storage_key = "inline/empty";
	r3.inline_bytes = bytes;
	r3.inline_len = 0;
	create(f, &r3);
	assert_int_equal(meta_inline_get(f->m, "inline/empty", &f->pool, &got, &len, &e), ERR_OK);
	assert_int_equal(len, 0);
}

/* The signed upload URL's write: only once, only to a pending row; confirming then counts. */
static void pending_upload_takes_bytes_once_then_confirms(void **state)
{
	struct fixture *f = *state;
	struct meta_resource pend = make(ACCT, 220, "/", "pend", 1000);
	pend.status = META_STATUS_PENDING;
	pend.sha256[0] = '\0';
	pend.storage_key = "";
	create(f, &pend);
	struct meta_content c = {.sha256 = SHA, .size_bytes = 0, .mime_type = "text/plain",
				 .storage_bucket = "local", .storage_key = KEY,
				 .updated_at_us = 2000, .pending_upload_only = true};
	struct meta_resource out;
	const char *old_key = NULL;
	struct err e = {0};
	assert_int_equal(meta_resource_set_content(f->m, ACCT, pend.id, &c, NULL, &f->pool, &out,
						   &old_key, &e),
			 ERR_OK);
	assert_string_equal(old_key, "");
	assert_string_equal(out.status, META_STATUS_PENDING);
	assert_int_equal(out.version, 2);
	assert_int_equal(meta_resource_set_content(f->m, ACCT, pend.id, &c, NULL, &f->pool, &out,
						   &old_key, &e),
			 ERR_CONFLICT);
	assert_string_equal(e.msg, "the bytes of this resource were already uploaded");
	struct meta_update confirm = {.confirm_upload = true, .updated_at_us = 3000};
	assert_int_equal(meta_resource_update(f->m, ACCT, pend.id, &confirm, NULL, &f->pool, &out,
					      &e),
			 ERR_OK);
	assert_string_equal(out.status, META_STATUS_UPLOADED);
	assert_int_equal(out.version, 3);
	/* Confirming again changes nothing, not even the version. */
	assert_int_equal(meta_resource_update(f->m, ACCT, pend.id, &confirm, NULL, &f->pool, &out,
					      &e),
			 ERR_OK);
	assert_int_equal(out.version, 3);
	assert_int_equal(out.updated_at_us, 3000);
}

/* Keyset pages: strictly after the cursor, ties on created_at in id order, has_more exact. */
static void list_cursor_pages_walk_ties_in_id_order(void **state)
{
	struct fixture *f = *state;
	seed(f);
	struct meta_query q = query(ACCT);
	q.limit = 2;
	struct meta_page pg = list(f, &q);
	assert_string_equal(ids_of(&pg), "7,6");
	assert_true(pg.has_more);
	q.has_cursor = true;
	q.cursor_created_us = pg.items[0].created_at_us; /* 600, between the tied 7 and 6 */
	q.cursor_id = pg.items[0].id;
	pg = list(f, &q);
	assert_string_equal(ids_of(&pg), "6,5");
	assert_int_equal(pg.total, 7);
	q.cursor_created_us = 200;
	q.cursor_id = "00000000-0000-4000-8000-000000000002";
	pg = list(f, &q);
	assert_string_equal(ids_of(&pg), "1");
	assert_false(pg.has_more);
	q.sort = META_SORT_ASC;
	q.cursor_created_us = 600;
	q.cursor_id = "00000000-0000-4000-8000-000000000006";
	pg = list(f, &q);
	assert_string_equal(ids_of(&pg), "7");
	assert_false(pg.has_more);
	q.offset = 5; /* ignored with a cursor */
	pg = list(f, &q);
	assert_string_equal(ids_of(&pg), "7");
}

/* Prefixes that end in multi-byte characters bound their range by code point. */
static void list_prefix_with_multibyte_characters(void **state)
{
	struct fixture *f = *state;
	struct meta_resource a = make(ACCT, 230, "/caf\xc3\xa9", "a", 100);
	struct meta_resource b = make(ACCT, 231, "/caf\xc3\xa9/x", "b", 200);
	struct meta_resource c = make(ACCT, 232, "/caf\xc3\xaa", "c", 300);
	struct meta_resource d = make(ACCT, 233, "/\xf4\x8f\xbf\xbf", "d", 400);
	struct meta_resource g = make(ACCT, 234, "/\xf4\x8f\xbf\xbf\xf4\x8f\xbf\xbf", "g", 500);
	create(f, &a);
	create(f, &b);
	create(f, &c);
	create(f, &d);
	create(f, &g);
	struct meta_query q = query(ACCT);
	q.sort = META_SORT_ASC;
	q.directory_prefix = "/caf\xc3\xa9";
	struct meta_page pg = list(f, &q);
	assert_string_equal(ids_of(&pg), "230,231");
	q.directory_prefix = "/\xf4\x8f\xbf\xbf";
	pg = list(f, &q);
	assert_string_equal(ids_of(&pg), "233,234");
	q.directory_prefix = "/\x7f";
	pg = list(f, &q);
	assert_int_equal(pg.total, 0);
	/* Around the surrogates (U+D7FF, U+E000) and the 3-to-4-byte step (U+FFFF, U+10000). */
	static const char *const dirs[] = {"/\xed\x9f\xbf", "/\xee\x80\x80", "/\xef\xbf\xbf",
					   "/\xf0\x90\x80\x80"};
	for (unsigned i = 0; i < 4; i++) {
		struct meta_resource r = make(ACCT, 240 + i, dirs[i], "x", 600 + i);
		create(f, &r);
	}
	for (unsigned i = 0; i < 4; i++) {
		char want[8];
		snprintf(want, sizeof(want), "%u", 240 + i);
		q.directory_prefix = dirs[i];
		pg = list(f, &q);
		assert_string_equal(ids_of(&pg), want);
	}
}

/* Held by one thread at a time; a no-op where one process owns the store. */
static void lock_keys_then_unlock(void **state)
{
	struct fixture *f = *state;
	const char *keys[] = {"k1", "k2", "k1"};
	struct err e = {0};
	assert_int_equal(meta_lock_keys(f->m, keys, 3, &e), ERR_OK);
	meta_unlock_keys(f->m, keys, 3);
	assert_int_equal(meta_lock_keys(f->m, keys, 1, &e), ERR_OK);
	meta_unlock_keys(f->m, keys, 1);
}

static int64_t nid_of(struct fixture *f, const char *account, const char *id)
{
	struct meta_resource g;
	struct err e = {0};
	assert_int_equal(meta_resource_get(f->m, account, id, &f->pool, &g, &e), ERR_OK);
	return g.nid;
}

static void numeric_ids_ascend_and_are_never_reused(void **state)
{
	struct fixture *f = *state;
	struct meta_resource a = make(ACCT, 200, "/", "a", 1000);
	struct meta_resource b = make(ACCT, 201, "/", "b", 1000);
	create(f, &a);
	create(f, &b);
	int64_t na = nid_of(f, ACCT, a.id), nb = nid_of(f, ACCT, b.id);
	assert_true(na > 0 && nb > na);
	struct meta_resource out;
	bool still;
	struct err e = {0};
	assert_int_equal(meta_resource_delete(f->m, ACCT, b.id, NULL, &f->pool, &out, &still, &e),
			 ERR_OK);
	struct meta_resource c = make(ACCT, 202, "/", "c", 1000);
	create(f, &c);
	assert_true(nid_of(f, ACCT, c.id) > nb);
	/* A batch takes one id per row; a taken name leaves a gap, never a repeat. */
	struct meta_resource rows[3] = {make(ACCT, 203, "/", "d", 1000),
					make(ACCT, 204, "/", "a", 1000), /* taken */
					make(OTHER, 205, "/", "e", 1000)};
	enum err_code results[3];
	assert_int_equal(meta_resource_create_batch(f->m, rows, 3, results, &e), ERR_OK);
	assert_int_equal(results[1], ERR_CONFLICT);
	int64_t nd = nid_of(f, ACCT, rows[0].id), ne = nid_of(f, OTHER, rows[2].id);
	assert_true(nd > nid_of(f, ACCT, c.id) && ne > nd);
	struct meta_resource g;
	assert_int_equal(meta_resource_get_by_nid(f->m, ACCT, nd, &f->pool, &g, &e), ERR_OK);
	assert_string_equal(g.id, rows[0].id);
	assert_int_equal(meta_resource_get_by_nid(f->m, ACCT, nb, &f->pool, &g, &e), ERR_NOT_FOUND);
}

static void account_and_user_numbers_are_per_name(void **state)
{
	struct fixture *f = *state;
	struct meta_resource a = make(ACCT, 210, "/", "a", 1000);
	struct meta_resource b = make(ACCT, 211, "/", "b", 1000);
	struct meta_resource o = make(OTHER, 212, "/", "o", 1000), n = make(ACCT, 213, "/", "n", 1);
	a.created_by = "alice";
	b.created_by = "bob";
	o.created_by = "alice";
	create(f, &a);
	create(f, &b);
	create(f, &o);
	create(f, &n);
	struct meta_resource ga, gb, go, gn;
	struct err e = {0};
	assert_int_equal(meta_resource_get(f->m, ACCT, a.id, &f->pool, &ga, &e), ERR_OK);
	assert_int_equal(meta_resource_get(f->m, ACCT, b.id, &f->pool, &gb, &e), ERR_OK);
	assert_int_equal(meta_resource_get(f->m, OTHER, o.id, &f->pool, &go, &e), ERR_OK);
	assert_int_equal(meta_resource_get(f->m, ACCT, n.id, &f->pool, &gn, &e), ERR_OK);
	/* A read leaves them out; meta_resource_nids fills them, a row like the one before it
	 * from that one. */
	assert_true(ga.account_nid == 0 && ga.user_nid == 0);
	struct meta_resource rows[] = {ga, ga, gb, go, gn};
	assert_int_equal(meta_resource_nids(f->m, rows, 5, &e), ERR_OK);
	ga = rows[0];
	gb = rows[2];
	go = rows[3];
	gn = rows[4];
	assert_true(rows[1].account_nid == ga.account_nid && rows[1].user_nid == ga.user_nid);
	assert_true(ga.account_nid > 0 && ga.account_nid == gb.account_nid);
	assert_true(go.account_nid != ga.account_nid);
	assert_true(ga.user_nid > 0 && ga.user_nid == go.user_nid && gb.user_nid != ga.user_nid);
	assert_int_equal(gn.user_nid, 0);
	assert_int_equal(gn.account_nid, ga.account_nid);
	int64_t nid = 0;
	assert_int_equal(meta_account_nid(f->m, ACCT, &nid, &e), ERR_OK);
	assert_int_equal(nid, ga.account_nid);
	assert_int_equal(meta_account_nid(f->m, "acct-new", &nid, &e), ERR_OK);
	int64_t again = 0;
	assert_int_equal(meta_account_nid(f->m, "acct-new", &again, &e), ERR_OK);
	assert_true(nid > 0 && nid == again && nid != go.account_nid);
}

/* ACCT's resource with read_access access, shared with OTHER when specific. */
static struct meta_resource shared_row(struct fixture *f, unsigned n, const char *access,
				       const char *with)
{
	static const char *names[] = {"s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7"};
	struct meta_resource r = make(ACCT, n, "/shared", names[n % 8], 1000 + n);
	const char **to = pool_alloc(&f->pool, sizeof(*to));
	to[0] = with;
	r.read_access = access;
	r.shared_with = with ? to : NULL;
	r.nshared = with ? 1 : 0;
	create(f, &r);
	return r;
}

static void visibility_follows_read_access(void **state)
{
	struct fixture *f = *state;
	struct meta_resource team = shared_row(f, 220, META_ACCESS_TEAM, NULL);
	struct meta_resource global = shared_row(f, 221, META_ACCESS_GLOBAL, NULL);
	struct meta_resource specific = shared_row(f, 222, META_ACCESS_SPECIFIC, OTHER);
	struct meta_resource g;
	struct err e = {0};
	const char *third = "acct-c";
	assert_int_equal(meta_resource_get_visible(f->m, OTHER, team.id, &f->pool, &g, &e),
			 ERR_NOT_FOUND);
	assert_int_equal(meta_resource_get_visible(f->m, OTHER, global.id, &f->pool, &g, &e),
			 ERR_OK);
	assert_int_equal(meta_resource_get_visible(f->m, third, global.id, &f->pool, &g, &e),
			 ERR_OK);
	assert_int_equal(meta_resource_get_visible(f->m, OTHER, specific.id, &f->pool, &g, &e),
			 ERR_OK);
	assert_string_equal(g.account_id, ACCT);
	assert_int_equal(g.nshared, 1);
	assert_string_equal(g.shared_with[0], OTHER);
	assert_string_equal(g.read_access, META_ACCESS_SPECIFIC);
	assert_int_equal(meta_resource_get_visible(f->m, third, specific.id, &f->pool, &g, &e),
			 ERR_NOT_FOUND);
	assert_int_equal(meta_resource_get_by_nid(f->m, third, g.nid, &f->pool, &g, &e),
			 ERR_NOT_FOUND);
	/* Reading is all sharing grants: the owner-only calls still do not find it. */
	assert_int_equal(meta_resource_get(f->m, OTHER, specific.id, &f->pool, &g, &e),
			 ERR_NOT_FOUND);
	struct meta_update u = {.set_name = true, .name = "x", .updated_at_us = 9};
	assert_int_equal(meta_resource_update(f->m, OTHER, global.id, &u, NULL, &f->pool, &g, &e),
			 ERR_NOT_FOUND);
	/* Back to TEAM: the share rows go. */
	struct meta_update back = {.set_read_access = true, .read_access = META_ACCESS_TEAM,
				   .updated_at_us = 10};
	assert_int_equal(
		meta_resource_update(f->m, ACCT, specific.id, &back, NULL, &f->pool, &g, &e),
		ERR_OK);
	assert_int_equal(g.nshared, 0);
	assert_int_equal(meta_resource_get_visible(f->m, OTHER, specific.id, &f->pool, &g, &e),
			 ERR_NOT_FOUND);
}

static void sharing_rules_refuse_and_change_nothing(void **state)
{
	struct fixture *f = *state;
	struct meta_resource r = shared_row(f, 230, META_ACCESS_TEAM, NULL);
	const char *who[] = {OTHER};
	struct meta_update bad[] = {
		{.set_read_access = true, .read_access = META_ACCESS_SPECIFIC},
		{.set_shared_with = true, .shared_with = who, .nshared = 1},
		{.set_read_access = true, .read_access = META_ACCESS_SPECIFIC,
		 .set_shared_with = true, .nshared = 0},
		{.set_read_access = true, .read_access = META_ACCESS_GLOBAL, .set_shared_with = true,
		 .shared_with = who, .nshared = 1},
	};
	struct meta_resource g;
	struct err e = {0};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(meta_resource_update(f->m, ACCT, r.id, &bad[i], NULL, &f->pool, &g,
						      &e),
				 ERR_INVALID);
	assert_int_equal(meta_resource_get(f->m, ACCT, r.id, &f->pool, &g, &e), ERR_OK);
	assert_int_equal(g.version, 1);
	assert_string_equal(g.read_access, META_ACCESS_TEAM);
	/* Slugs alone replace those of a SPECIFIC_TEAMS resource. */
	struct meta_update to = {.set_read_access = true, .read_access = META_ACCESS_SPECIFIC,
				 .set_shared_with = true, .shared_with = who, .nshared = 1};
	assert_int_equal(meta_resource_update(f->m, ACCT, r.id, &to, NULL, &f->pool, &g, &e),
			 ERR_OK);
	const char *two[] = {"acct-c", "acct-d"};
	struct meta_update swap = {.set_shared_with = true, .shared_with = two, .nshared = 2};
	assert_int_equal(meta_resource_update(f->m, ACCT, r.id, &swap, NULL, &f->pool, &g, &e),
			 ERR_OK);
	assert_int_equal(g.nshared, 2);
	assert_string_equal(g.shared_with[0], "acct-c");
	assert_string_equal(g.shared_with[1], "acct-d");
	assert_int_equal(meta_resource_get_visible(f->m, OTHER, r.id, &f->pool, &g, &e),
			 ERR_NOT_FOUND);
}

static void lists_by_owner(void **state)
{
	struct fixture *f = *state;
	struct meta_resource mine = make(OTHER, 240, "/o", "mine", 5000);
	create(f, &mine);
	shared_row(f, 241, META_ACCESS_TEAM, NULL);
	shared_row(f, 242, META_ACCESS_GLOBAL, NULL);
	struct meta_resource specific = shared_row(f, 243, META_ACCESS_SPECIFIC, OTHER);
	shared_row(f, 244, META_ACCESS_SPECIFIC, "acct-c");
	struct meta_query q = query(OTHER);
	struct meta_page pg = list(f, &q);
	assert_string_equal(ids_of(&pg), "240");
	q.owner = META_OWNER_SHARED;
	pg = list(f, &q);
	assert_int_equal(pg.total, 2);
	assert_string_equal(ids_of(&pg), "243,242");
	q.owner = META_OWNER_ANY;
	pg = list(f, &q);
	assert_int_equal(pg.total, 3);
	assert_string_equal(ids_of(&pg), "240,243,242");
	q.sort = META_SORT_ASC;
	q.limit = 2;
	pg = list(f, &q);
	assert_string_equal(ids_of(&pg), "242,243");
	assert_true(pg.has_more);
	q.has_cursor = true;
	q.cursor_created_us = pg.items[1].created_at_us;
	q.cursor_id = pg.items[1].id;
	pg = list(f, &q);
	assert_string_equal(ids_of(&pg), "240");
	assert_false(pg.has_more);
	/* Only one other account's: by its numeric id. */
	struct meta_query s = query(OTHER);
	s.owner = META_OWNER_SHARED;
	struct meta_resource g;
	struct err e = {0};
	assert_int_equal(meta_resource_get(f->m, ACCT, specific.id, &f->pool, &g, &e), ERR_OK);
	assert_int_equal(meta_resource_nids(f->m, &g, 1, &e), ERR_OK);
	s.owner_nid = g.account_nid;
	assert_int_equal(list(f, &s).total, 2);
	s.owner_nid = g.account_nid + 1000;
	assert_int_equal(list(f, &s).total, 0);
	/* The exact directory: the folder's own resources, not those below. */
	struct meta_resource below = make(ACCT, 245, "/shared/deeper", "b", 1);
	create(f, &below);
	struct meta_query d = query(ACCT);
	d.directory_prefix = "/shared";
	d.directory_exact = true;
	assert_int_equal(list(f, &d).total, 4);
	d.directory_exact = false;
	assert_int_equal(list(f, &d).total, 5);
}

static void test_values_count_as_key_use_and_drop_when_disabled(void **state)
{
	struct fixture *f = *state;
	struct meta_resource r = make(ACCT, 250, "/", "t", 1000);
	create(f, &r);
	struct err e = {0};
	struct meta_resource out;
	const char *old = NULL;
	struct meta_content tc = {.sha256 = SHA, .size_bytes = 3, .mime_type = "text/plain",
				  .storage_bucket = "local", .storage_key = "blobs/test/key",
				  .updated_at_us = 2000, .test_value = true};
	assert_int_equal(meta_resource_set_content(f->m, ACCT, r.id, &tc, NULL, &f->pool, &out, &old,
						   &e),
			 ERR_CONFLICT);
	struct meta_update on = {.set_test_enabled = true, .test_enabled = true, .updated_at_us = 2};
	assert_int_equal(meta_resource_update(f->m, ACCT, r.id, &on, NULL, &f->pool, &out, &e),
			 ERR_OK);
	assert_true(out.test_enabled);
	assert_string_equal(out.test.storage_key, KEY); /* a copy of the live content */
	assert_int_equal(meta_resource_set_content(f->m, ACCT, r.id, &tc, NULL, &f->pool, &out, &old,
						   &e),
			 ERR_OK);
	assert_string_equal(old, KEY);
	assert_string_equal(out.storage_key, KEY);
	assert_string_equal(out.test.storage_key, "blobs/test/key");
	assert_int_equal(out.test.size_bytes, 3);
	bool used = false;
	assert_int_equal(meta_storage_key_used(f->m, "blobs/test/key", &used, &e), ERR_OK);
	assert_true(used);
	const char *dropped = NULL;
	struct meta_update off = {.set_test_enabled = true, .test_enabled = false,
				  .updated_at_us = 3, .dropped_key = &dropped};
	assert_int_equal(meta_resource_update(f->m, ACCT, r.id, &off, NULL, &f->pool, &out, &e),
			 ERR_OK);
	assert_string_equal(dropped, "blobs/test/key");
	assert_false(out.test_enabled);
	assert_null(out.test.storage_key);
	assert_int_equal(meta_storage_key_used(f->m, "blobs/test/key", &used, &e), ERR_OK);
	assert_false(used);
	/* Enabling a pending row without bytes is a conflict. */
	struct meta_resource p = make(ACCT, 251, "/", "p", 1000);
	p.sha256[0] = '\0';
	p.status = META_STATUS_PENDING;
	create(f, &p);
	assert_int_equal(meta_resource_update(f->m, ACCT, p.id, &on, NULL, &f->pool, &out, &e),
			 ERR_CONFLICT);
}

static void folders_have_ids_and_name_their_rows(void **state)
{
	struct fixture *f = *state;
	struct meta_folder a, b, g;
	struct err e = {0};
	assert_int_equal(meta_folder_create(f->m, ACCT, "/f/b", 1, &f->pool, &b, &e), ERR_OK);
	assert_int_equal(meta_folder_create(f->m, ACCT, "/f/a", 2, &f->pool, &a, &e), ERR_OK);
	assert_true(b.id > 0 && a.id > b.id);
	assert_int_equal(meta_folder_create(f->m, ACCT, "/f/a", 3, &f->pool, &g, &e), ERR_CONFLICT);
	assert_int_equal(meta_folder_create(f->m, OTHER, "/f/a", 3, &f->pool, &g, &e), ERR_OK);
	int64_t other_a = g.id;
	assert_int_equal(meta_folder_get(f->m, ACCT, a.id, &f->pool, &g, &e), ERR_OK);
	assert_string_equal(g.path, "/f/a");
	assert_int_equal(g.created_at_us, 2);
	assert_int_equal(meta_folder_get(f->m, OTHER, a.id, &f->pool, &g, &e), ERR_NOT_FOUND);
	struct meta_folder_page pg;
	assert_int_equal(meta_folder_list(f->m, ACCT, 0, 10, &f->pool, &pg, &e), ERR_OK);
	assert_int_equal(pg.total, 2);
	assert_int_equal(pg.nitems, 2);
	assert_string_equal(pg.items[0].path, "/f/a");
	assert_int_equal(meta_folder_list(f->m, ACCT, 1, 10, &f->pool, &pg, &e), ERR_OK);
	assert_int_equal(pg.nitems, 1);
	assert_string_equal(pg.items[0].path, "/f/b");
	struct meta_resource in = make(ACCT, 260, "/f/a", "in", 1);
	struct meta_resource out = make(ACCT, 261, "/f", "o", 1);
	create(f, &in);
	create(f, &out);
	struct meta_resource r;
	assert_int_equal(meta_resource_get(f->m, ACCT, in.id, &f->pool, &r, &e), ERR_OK);
	assert_int_equal(r.folder_id, a.id);
	assert_int_equal(meta_resource_get(f->m, ACCT, out.id, &f->pool, &r, &e), ERR_OK);
	assert_int_equal(r.folder_id, 0);
	/* In a list too, each row its owner's folder: OTHER's row in /f/a shows OTHER's. A folder
	 * made after its rows names them. */
	struct meta_resource in2 = make(ACCT, 262, "/f/a", "in2", 2);
	struct meta_resource later = make(ACCT, 263, "/f/c", "later", 3);
	struct meta_resource theirs = make(OTHER, 264, "/f/a", "theirs", 4);
	theirs.read_access = META_ACCESS_GLOBAL;
	create(f, &in2);
	create(f, &later);
	create(f, &theirs);
	struct meta_query q = query(ACCT);
	q.owner = META_OWNER_ANY;
	struct meta_page p = list(f, &q);
	assert_string_equal(ids_of(&p), "264,263,262,261,260");
	assert_int_equal(p.items[0].folder_id, other_a);
	assert_int_equal(p.items[1].folder_id, 0);
	assert_int_equal(p.items[2].folder_id, a.id);
	assert_int_equal(p.items[3].folder_id, 0);
	assert_int_equal(p.items[4].folder_id, a.id);
	struct meta_folder c;
	assert_int_equal(meta_folder_create(f->m, ACCT, "/f/c", 4, &f->pool, &c, &e), ERR_OK);
	p = list(f, &q);
	assert_int_equal(p.items[1].folder_id, c.id);
	/* An account without folders: every row 0. */
	q = query("acct-c");
	struct meta_resource none = make("acct-c", 265, "/f/a", "none", 5);
	create(f, &none);
	p = list(f, &q);
	assert_int_equal(p.nitems, 1);
	assert_int_equal(p.items[0].folder_id, 0);
}

/* The tags and shares of r as "a b|c d", from a get and from a list of ACCT (which must agree). */
static const char *tags_shares(struct fixture *f, const struct meta_resource *r)
{
	static char buf[256];
	struct meta_resource g;
	struct err e = {0};
	assert_int_equal(meta_resource_get(f->m, ACCT, r->id, &f->pool, &g, &e), ERR_OK);
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < g.ntags; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", i ? " " : "", g.tags[i]);
	o += (size_t)snprintf(buf + o, sizeof(buf) - o, "|");
	for (size_t i = 0; i < g.nshared; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", i ? " " : "",
				      g.shared_with[i]);
	struct meta_query q = query(ACCT);
	struct meta_page pg = list(f, &q);
	for (size_t i = 0; i < pg.nitems; i++) {
		if (strcmp(pg.items[i].id, r->id) != 0)
			continue;
		assert_int_equal(pg.items[i].ntags, g.ntags);
		assert_int_equal(pg.items[i].nshared, g.nshared);
		for (size_t k = 0; k < g.ntags; k++)
			assert_string_equal(pg.items[i].tags[k], g.tags[k]);
		for (size_t k = 0; k < g.nshared; k++)
			assert_string_equal(pg.items[i].shared_with[k], g.shared_with[k]);
	}
	return buf;
}

/* A row's tags and shares are read with the row: every write that changes them (a batch
 * import, an update of tags, of sharing, of read_access) changes what reads show, sorted and
 * without repeats; other updates keep them; the tag filter still finds the row. */
static void tags_and_shares_stay_in_step_with_every_write(void **state)
{
	struct fixture *f = *state;
	const char *tags[] = {"zeta", "alpha", "zeta", "Mid"};
	const char *to[] = {"acct-d", "acct-c"};
	struct meta_resource rows[2] = {make(ACCT, 270, "/s", "one", 1000),
					make(ACCT, 271, "/s", "two", 1001)};
	rows[0].tags = tags;
	rows[0].ntags = 4;
	rows[0].read_access = META_ACCESS_SPECIFIC;
	rows[0].shared_with = to;
	rows[0].nshared = 2;
	enum err_code results[2];
	struct err e = {0};
	assert_int_equal(meta_resource_create_batch(f->m, rows, 2, results, &e), ERR_OK);
	assert_string_equal(tags_shares(f, &rows[0]), "Mid alpha zeta|acct-c acct-d");
	assert_string_equal(tags_shares(f, &rows[1]), "|");
	struct meta_resource out, g;
	const char *newtags[] = {"b", "a"};
	struct meta_update ut = {.set_tags = true, .tags = newtags, .ntags = 2, .updated_at_us = 2};
	assert_int_equal(meta_resource_update(f->m, ACCT, rows[1].id, &ut, NULL, &f->pool, &out,
					      &e),
			 ERR_OK);
	assert_string_equal(tags_shares(f, &rows[1]), "a b|");
	struct meta_update un = {.set_name = true, .name = "renamed", .updated_at_us = 3};
	assert_int_equal(meta_resource_update(f->m, ACCT, rows[0].id, &un, NULL, &f->pool, &out,
					      &e),
			 ERR_OK);
	assert_string_equal(tags_shares(f, &rows[0]), "Mid alpha zeta|acct-c acct-d");
	const char *one[] = {OTHER};
	struct meta_update us = {.set_shared_with = true, .shared_with = one, .nshared = 1,
				 .updated_at_us = 4};
	assert_int_equal(meta_resource_update(f->m, ACCT, rows[0].id, &us, NULL, &f->pool, &out,
					      &e),
			 ERR_OK);
	assert_string_equal(tags_shares(f, &rows[0]), "Mid alpha zeta|" OTHER);
	assert_int_equal(meta_resource_get_visible(f->m, OTHER, rows[0].id, &f->pool, &g, &e),
			 ERR_OK);
	struct meta_update ua = {.set_read_access = true, .read_access = META_ACCESS_GLOBAL,
				 .updated_at_us = 5};
	assert_int_equal(meta_resource_update(f->m, ACCT, rows[0].id, &ua, NULL, &f->pool, &out,
					      &e),
			 ERR_OK);
	assert_string_equal(tags_shares(f, &rows[0]), "Mid alpha zeta|");
	struct meta_update clear = {.set_tags = true, .updated_at_us = 6};
	assert_int_equal(meta_resource_update(f->m, ACCT, rows[0].id, &clear, NULL, &f->pool,
					      &out, &e),
			 ERR_OK);
	assert_string_equal(tags_shares(f, &rows[0]), "|");
	/* The filter reads the tag rows: in step with the column. */
	struct meta_query q = query(ACCT);
	const char *want[] = {"a"};
	q.tags = want;
	q.ntags = 1;
	struct meta_page pg = list(f, &q);
	assert_string_equal(ids_of(&pg), "271");
	want[0] = "zeta";
	assert_int_equal(list(f, &q).total, 0);
}

/* For a migration test: in m, *r with tags b, a and shared with acct-z, acct-y, and *plain with
 * neither (ids from n). */
static void create_tagged_pair(struct meta *m, unsigned n, struct meta_resource *r,
			       struct meta_resource *plain)
{
	static const char *tags[] = {"b", "a"}, *to[] = {"acct-z", "acct-y"};
	struct err e = {0};
	*r = make(ACCT, n, "/", "old", 2);
	*plain = make(ACCT, n + 1, "/", "p", 3);
	r->tags = tags;
	r->ntags = 2;
	r->read_access = META_ACCESS_SPECIFIC;
	r->shared_with = to;
	r->nshared = 2;
	assert_int_equal(meta_resource_create(m, r, &e), ERR_OK);
	assert_int_equal(meta_resource_create(m, plain, &e), ERR_OK);
}

/* What create_tagged_pair made, read back from m: tags a, b and shares acct-y, acct-z in byte
 * order, none on plain. */
static void check_tagged_pair(struct meta *m, struct pool *pool, const struct meta_resource *r,
			      const struct meta_resource *plain)
{
	struct meta_resource g;
	struct err e = {0};
	assert_int_equal(meta_resource_get(m, ACCT, r->id, pool, &g, &e), ERR_OK);
	assert_int_equal(g.ntags, 2);
	assert_string_equal(g.tags[0], "a");
	assert_string_equal(g.tags[1], "b");
	assert_int_equal(g.nshared, 2);
	assert_string_equal(g.shared_with[0], "acct-y");
	assert_string_equal(g.shared_with[1], "acct-z");
	assert_int_equal(meta_resource_get(m, ACCT, plain->id, pool, &g, &e), ERR_OK);
	assert_int_equal(g.ntags, 0);
	assert_int_equal(g.nshared, 0);
}

/* An update with content is one write: fields and bytes together, one new version, the old
 * key handed back; a failed condition or content check changes neither. */
static void update_with_content_is_one_write(void **state)
{
	struct fixture *f = *state;
	struct meta_resource r = make(ACCT, 270, "/", "both", 1000);
	create(f, &r);
	const char *sha2 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	struct meta_content c = {.sha256 = sha2, .size_bytes = 3, .mime_type = "text/x-abc",
				 .storage_bucket = "local", .storage_key = "blobs/both/new",
				 .updated_at_us = 7000};
	const char *old = NULL;
	struct meta_update u = {.set_name = true, .name = "renamed", .updated_at_us = 6000,
				.content = &c, .content_old_key = &old};
	struct meta_resource out, g;
	struct err e = {0};
	struct meta_cond stale = {.version = 2};
	assert_int_equal(meta_resource_update(f->m, ACCT, r.id, &u, &stale, &f->pool, &out, &e),
			 ERR_PRECONDITION);
	/* A test value while the test value stays off: the content check refuses the whole. */
	struct meta_content tc = c;
	tc.test_value = true;
	tc.file_name = "t.pdf";
	u.content = &tc;
	assert_int_equal(meta_resource_update(f->m, ACCT, r.id, &u, NULL, &f->pool, &out, &e),
			 ERR_CONFLICT);
	assert_int_equal(meta_resource_get(f->m, ACCT, r.id, &f->pool, &g, &e), ERR_OK);
	assert_string_equal(g.name, "both");
	assert_string_equal(g.sha256, SHA);
	assert_int_equal(g.version, 1);
	assert_null(old);
	u.content = &c;
	struct meta_cond now = {.version = 1, .sha256 = SHA};
	assert_int_equal(meta_resource_update(f->m, ACCT, r.id, &u, &now, &f->pool, &out, &e),
			 ERR_OK);
	assert_string_equal(out.name, "renamed");
	assert_string_equal(out.sha256, sha2);
	assert_string_equal(out.storage_key, "blobs/both/new");
	assert_int_equal(out.version, 2);
	assert_string_equal(old, KEY);
	/* Content alone through an update: still one version. */
	struct meta_update only = {.content = &c, .content_old_key = &old, .updated_at_us = 1};
	assert_int_equal(meta_resource_update(f->m, ACCT, r.id, &only, NULL, &f->pool, &out, &e),
			 ERR_OK);
	assert_int_equal(out.version, 3);
	/* Turning the test value on and writing it in the same update. */
	struct meta_update on = {.set_test_enabled = true, .test_enabled = true,
				 .updated_at_us = 8000, .content = &tc, .content_old_key = &old};
	tc.storage_key = "blobs/both/test";
	assert_int_equal(meta_resource_update(f->m, ACCT, r.id, &on, NULL, &f->pool, &out, &e),
			 ERR_OK);
	assert_int_equal(out.version, 4);
	assert_true(out.test_enabled);
	assert_string_equal(out.test.storage_key, "blobs/both/test");
	assert_string_equal(out.test.file_name, "t.pdf");
	assert_string_equal(out.storage_key, "blobs/both/new");
	assert_string_equal(old, "blobs/both/new"); /* the live key the test value started as */
}

/* Every case above; T wraps each with the including file's setup and teardown. */
#define META_CASES(T)                                                                          \
	T(create_then_get_returns_every_field),                                                 \
	T(nullable_fields_come_back_null_and_no_tags_is_empty),                                 \
	T(get_of_unknown_or_other_accounts_id_is_not_found),                                    \
	T(duplicate_name_in_directory_conflicts),                                               \
	T(update_changes_only_the_set_fields),                                                  \
	T(update_replaces_tags),                                                                \
	T(update_onto_taken_name_conflicts_and_changes_nothing),                                \
	T(update_of_unknown_or_other_accounts_id_is_not_found),                                 \
	T(delete_returns_row_and_key_usage),                                                    \
	T(delete_of_unknown_or_other_accounts_id_is_not_found),                                 \
	T(key_used_for_unknown_key_is_false),                                                   \
	T(list_without_filters_is_newest_first_with_total),                                     \
	T(list_sort_asc_breaks_ties_by_id_ascending),                                           \
	T(list_offset_and_limit_page_through),                                                  \
	T(list_prefix_is_a_plain_byte_prefix),                                                  \
	T(list_prefix_percent_and_underscore_are_literal),                                      \
	T(list_tags_must_all_be_present),                                                       \
	T(list_created_bounds_are_exclusive),                                                   \
	T(list_filters_combine),                                                                \
	T(list_never_shows_other_accounts),                                                     \
	T(version_starts_at_1_and_counts_updates),                                              \
	T(failed_precondition_changes_nothing),                                                 \
	T(set_content_points_at_new_bytes_and_returns_old_key),                                 \
	T(pending_rows_are_listed_only_on_request),                                             \
	T(reopen_keeps_data),                                                                   \
	T(create_batch_skips_taken_names_only),                                                 \
	T(inline_content_lives_as_long_as_a_row_refers_to_it),                                  \
	T(pending_upload_takes_bytes_once_then_confirms),                                       \
	T(list_cursor_pages_walk_ties_in_id_order),                                             \
	T(list_prefix_with_multibyte_characters),                                               \
	T(lock_keys_then_unlock),                                                               \
	T(numeric_ids_ascend_and_are_never_reused),                                           \
	T(account_and_user_numbers_are_per_name),                                             \
	T(visibility_follows_read_access),                                                    \
	T(sharing_rules_refuse_and_change_nothing),                                           \
	T(lists_by_owner),                                                                    \
	T(test_values_count_as_key_use_and_drop_when_disabled),                               \
	T(folders_have_ids_and_name_their_rows),                                              \
	T(update_with_content_is_one_write),                                                  \
	T(tags_and_shares_stay_in_step_with_every_write),                                     \
	cmocka_unit_test(open_refuses_unknown_scheme)

#endif
