/* Unit tests for the SQLite metadata store: the cases every backend shares (meta_cases.h), and
 * what is SQLite's own (its file, its migrations). */
#include "meta_cases.h"

#include "tmpdir.h"

#include <ftw.h>

#include <sqlite3.h>

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

/* What migrations 1 to 4 made: a database of an older depotd. */
static const char *const v4_schema =
	"CREATE TABLE resources (rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
	" account_id TEXT NOT NULL, name TEXT NOT NULL, directory_path TEXT NOT NULL,"
	" mime_type TEXT NOT NULL, sha256 TEXT NOT NULL, size_bytes INTEGER NOT NULL,"
	" original_uri TEXT, external_id TEXT, external_storage_type TEXT,"
	" storage_bucket TEXT NOT NULL, storage_key TEXT NOT NULL, metadata TEXT, created_by TEXT,"
	" created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
	"CREATE UNIQUE INDEX resources_name ON resources(account_id, directory_path, name);"
	"CREATE INDEX resources_storage_key ON resources(storage_key);"
	"CREATE TABLE resource_tags (rid INTEGER NOT NULL REFERENCES resources(rid) ON DELETE"
	" CASCADE, tag TEXT NOT NULL, PRIMARY KEY (rid, tag)) WITHOUT ROWID;"
	"CREATE INDEX resource_tags_tag ON resource_tags(tag, rid);"
	"ALTER TABLE resources ADD COLUMN status TEXT NOT NULL DEFAULT 'uploaded';"
	"ALTER TABLE resources ADD COLUMN version INTEGER NOT NULL DEFAULT 1;"
	"CREATE TABLE inline_blobs (storage_key TEXT PRIMARY KEY, bytes BLOB NOT NULL);"
	"CREATE INDEX resources_list ON resources(account_id, status, created_at, id,"
	" directory_path);"
	"INSERT INTO resources VALUES (7, '00000000-0000-4000-8000-000000000007', 'acct-a', 'old',"
	" '/', 'text/plain', 'ab', 2, NULL, NULL, NULL, 'local', 'blobs/k', NULL, 'alice', 1, 1,"
	" 'uploaded', 3);"
	"INSERT INTO resources VALUES (9, '00000000-0000-4000-8000-000000000009', 'acct-b', 'old',"
	" '/', 'text/plain', 'ab', 2, NULL, NULL, NULL, 'local', 'blobs/k2', NULL, NULL, 1, 1,"
	" 'uploaded', 1);"
	"PRAGMA user_version = 4;";

static void migration_5_upgrades_an_older_database(void **state)
{
	struct fixture *f = *state;
	char url[160], path[128];
	snprintf(path, sizeof(path), "%s/v4.db", f->dir);
	snprintf(url, sizeof(url), "sqlite:%s", path);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, v4_schema, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	struct meta *m;
	struct err e = {0};
	assert_int_equal(meta_open(url, &m, &e), ERR_OK);
	struct meta_resource g;
	assert_int_equal(meta_resource_get(m, "acct-a", "00000000-0000-4000-8000-000000000007",
					   &f->pool, &g, &e),
			 ERR_OK);
	/* The row keeps its id as its numeric id, and gets the defaults. */
	assert_int_equal(g.nid, 7);
	assert_int_equal(g.version, 3);
	assert_string_equal(g.read_access, META_ACCESS_TEAM);
	assert_null(g.description);
	assert_false(g.test_enabled);
	assert_int_equal(meta_resource_nids(m, &g, 1, &e), ERR_OK);
	assert_true(g.account_nid > 0 && g.user_nid > 0);
	/* New rows number after the highest old one. */
	struct meta_resource r = make("acct-a", 300, "/", "new", 2);
	assert_int_equal(meta_resource_create(m, &r, &e), ERR_OK);
	assert_int_equal(meta_resource_get(m, "acct-a", r.id, &f->pool, &g, &e), ERR_OK);
	assert_int_equal(g.nid, 10);
	meta_close(m);
}

/* Runs sql on the database file at path. */
static void sql_on(const char *path, const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	sqlite3_close(db);
}

/* A database of the depotd before migration 6 (its schema is this one's without the tags and
 * shares columns) gets them filled from its tag and share rows. */
static void migration_6_fills_tags_and_shares_from_their_rows(void **state)
{
	struct fixture *f = *state;
	char url[160], path[128];
	snprintf(path, sizeof(path), "%s/v5.db", f->dir);
	snprintf(url, sizeof(url), "sqlite:%s", path);
	struct meta *m;
	struct meta_resource r, plain;
	struct err e = {0};
	assert_int_equal(meta_open(url, &m, &e), ERR_OK);
	create_tagged_pair(m, 310, &r, &plain);
	meta_close(m);
	sql_on(path, "ALTER TABLE resources DROP COLUMN tags;"
		     "ALTER TABLE resources DROP COLUMN shares;"
		     "PRAGMA user_version = 5;");
	assert_int_equal(meta_open(url, &m, &e), ERR_OK);
	check_tagged_pair(m, &f->pool, &r, &plain);
	meta_close(m);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	log_set_level(LOG_WARN);
	const struct CMUnitTest tests[] = {
		META_CASES(T),
		T(migration_5_upgrades_an_older_database),
		T(migration_6_fills_tags_and_shares_from_their_rows),
		cmocka_unit_test(open_fails_on_unwritable_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
