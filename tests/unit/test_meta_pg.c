/* Unit tests for the PostgreSQL metadata store: the cases every backend shares, on emptied
 * tables per test, and what is PostgreSQL's own (sessions, advisory locks, migrations, lost
 * connections). They need a server: DEPOT_TEST_PG_ADMIN, a postgres:// URL of an admin database
 * (scripts/test.sh starts one with scripts/pg.sh); without it they are skipped. */
#include "meta_cases.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

static char admin_url[512]; /* the cluster's admin database */
static char test_url[512];  /* this run's database */
static char test_db[40];

/* The URL u with its database replaced by db. */
static void url_with_db(char *out, size_t size, const char *u, const char *db)
{
	const char *auth = strstr(u, "://");
	const char *slash = strchr(auth ? auth + 3 : u, '/');
	size_t base = slash ? (size_t)(slash - u) : strlen(u);
	snprintf(out, size, "%.*s/%s", (int)base, u, db);
}

/* Runs sql on url; the first value of the result, or "" ("!" on failure). */
static const char *sql_on(const char *url, const char *sql)
{
	static char value[256];
	PGconn *c = PQconnectdb(url);
	snprintf(value, sizeof(value), "!");
	if (PQstatus(c) == CONNECTION_OK) {
		PGresult *r = PQexec(c, sql);
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_TUPLES_OK && PQntuples(r) > 0)
			snprintf(value, sizeof(value), "%s", PQgetvalue(r, 0, 0));
		else if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
			value[0] = '\0';
		else
			fprintf(stderr, "sql: %s", PQresultErrorMessage(r));
		PQclear(r);
	} else {
		fprintf(stderr, "connect: %s", PQerrorMessage(c));
	}
	PQfinish(c);
	return value;
}

/* A fresh database of this run named test_db + suffix, its URL into url. */
static void db_create(const char *suffix, char *url, size_t size)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s%s", test_db, suffix);
	assert_string_equal(sql_on(admin_url, sql), "");
	snprintf(sql, sizeof(sql), "%s%s", test_db, suffix);
	url_with_db(url, size, admin_url, sql);
}

static void db_drop(const char *suffix)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "DROP DATABASE %s%s WITH (FORCE)", test_db, suffix);
	sql_on(admin_url, sql);
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(test_db, sizeof(test_db), "t_unit_meta_%d", (int)getpid());
	db_create("", test_url, sizeof(test_url));
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	db_drop("");
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	snprintf(f->url, sizeof(f->url), "%s", test_url);
	struct err e = {0};
	if (meta_open(f->url, &f->m, &e) != ERR_OK) {
		fprintf(stderr, "meta_open: %s\n", e.msg);
		return -1;
	}
	/* Every test starts from empty tables and numbering, as a new SQLite file does. */
	if (strcmp(sql_on(test_url, "TRUNCATE resources, inline_blobs, resource_shares, folders,"
				    " accounts, users RESTART IDENTITY"), "") != 0)
		return -1;
	pool_init(&f->pool);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	meta_close(f->m);
	pool_cleanup(&f->pool);
	free(f);
	return 0;
}

/* The advisory locks the sessions of application depotd hold in the test database. */
static int advisory_locks_held(void)
{
	char sql[256];
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
		 " WHERE l.locktype = 'advisory' AND a.datname = '%s' AND a.application_name ="
		 " 'depotd' AND l.granted",
		 test_db);
	return (int)strtol(sql_on(admin_url, sql), NULL, 10);
}

static void terminate_sessions(void)
{
	char sql[256];
	snprintf(sql, sizeof(sql),
		 "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
		 " WHERE datname = '%s' AND application_name = 'depotd'",
		 test_db);
	sql_on(admin_url, sql);
	usleep(100 * 1000); /* the FATAL and the close reach the client */
}

/* Repeated keys and repeated calls each take one lock per distinct key, all given back. */
static void lock_keys_take_one_lock_per_distinct_key(void **state)
{
	struct fixture *f = *state;
	const char *keys[] = {"blobs/a", "blobs/b", "blobs/a"};
	struct err e = {0};
	assert_int_equal(meta_lock_keys(f->m, keys, 3, &e), ERR_OK);
	assert_int_equal(advisory_locks_held(), 2);
	meta_unlock_keys(f->m, keys, 3);
	assert_int_equal(advisory_locks_held(), 0);
}

struct locker {
	struct meta *m;
	const char *const *keys;
	size_t n;
	volatile int done;
	enum err_code rc;
};

static void *lock_in_thread(void *arg)
{
	struct locker *l = arg;
	struct err e = {0};
	l->rc = meta_lock_keys(l->m, l->keys, l->n, &e);
	l->done = 1;
	if (l->rc == ERR_OK)
		meta_unlock_keys(l->m, l->keys, l->n);
	return NULL;
}

/* Another store on the same database (as another depotd would be) waits for the keys. */
static void lock_keys_exclude_another_process(void **state)
{
	struct fixture *f = *state;
	struct meta *other = NULL;
	struct err e = {0};
	assert_int_equal(meta_open(f->url, &other, &e), ERR_OK);
	const char *mine[] = {"k2", "k1"};
	const char *theirs[] = {"k3", "k2"};
	assert_int_equal(meta_lock_keys(f->m, mine, 2, &e), ERR_OK);
	struct locker l = {.m = other, .keys = theirs, .n = 2};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, lock_in_thread, &l), 0);
	usleep(300 * 1000);
	assert_int_equal(l.done, 0);
	meta_unlock_keys(f->m, mine, 2);
	for (int i = 0; i < 500 && !l.done; i++)
		usleep(10 * 1000);
	assert_int_equal(l.done, 1);
	assert_int_equal(l.rc, ERR_OK);
	pthread_join(t, NULL);
	meta_close(other);
}

struct batcher {
	struct meta *m;
	struct meta_resource rows[60];
	enum err_code results[60];
	enum err_code rc;
	pthread_barrier_t *start;
};

static void *batch_in_thread(void *arg)
{
	struct batcher *b = arg;
	struct err e = {0};
	pthread_barrier_wait(b->start);
	b->rc = meta_resource_create_batch(b->m, b->rows, 60, b->results, &e);
	return NULL;
}

/* Two processes' batches of the same names in opposite orders, committing at once: no
 * deadlock (rows go in in name order), every name won by exactly one of them. */
static void crossing_batches_of_one_set_of_names_do_not_deadlock(void **state)
{
	struct fixture *f = *state;
	static char names[60][16];
	struct batcher b[2];
	pthread_barrier_t start;
	pthread_t t[2];
	struct err e = {0};
	pthread_barrier_init(&start, NULL, 2);
	for (int k = 0; k < 2; k++) {
		b[k] = (struct batcher){.start = &start};
		assert_int_equal(meta_open(f->url, &b[k].m, &e), ERR_OK);
		for (unsigned i = 0; i < 60; i++) {
			unsigned at = k == 0 ? i : 59 - i;
			snprintf(names[i], sizeof(names[i]), "n%02u", i);
			b[k].rows[at] = make(ACCT, 400 + 100 * (unsigned)k + i, "/x", names[i], 1000);
		}
	}
	for (int k = 0; k < 2; k++)
		assert_int_equal(pthread_create(&t[k], NULL, batch_in_thread, &b[k]), 0);
	for (int k = 0; k < 2; k++)
		pthread_join(t[k], NULL);
	assert_int_equal(b[0].rc, ERR_OK);
	assert_int_equal(b[1].rc, ERR_OK);
	for (unsigned i = 0; i < 60; i++)
		assert_int_equal((b[0].results[i] == ERR_OK) + (b[1].results[59 - i] == ERR_OK), 1);
	struct meta_query q = query(ACCT);
	assert_int_equal(list(f, &q).total, 60);
	for (int k = 0; k < 2; k++)
		meta_close(b[k].m);
	pthread_barrier_destroy(&start);
}

/* A session the server ended is replaced by the next call, prepared statements and all. */
static void lost_session_is_replaced_by_the_next_call(void **state)
{
	struct fixture *f = *state;
	struct meta_resource r = make(ACCT, 300, "/", "survivor", 1000);
	create(f, &r);
	terminate_sessions();
	struct meta_resource g;
	struct err e = {0};
	enum err_code rc = meta_resource_get(f->m, ACCT, r.id, &f->pool, &g, &e);
	if (rc != ERR_OK) /* the loss may show once, as unavailable, never as anything else */
		assert_int_equal(rc, ERR_UNAVAILABLE);
	assert_int_equal(meta_resource_get(f->m, ACCT, r.id, &f->pool, &g, &e), ERR_OK);
	assert_string_equal(g.name, "survivor");
	struct meta_resource dup = make(ACCT, 301, "/", "survivor", 1001);
	assert_int_equal(meta_resource_create(f->m, &dup, &e), ERR_CONFLICT);
}

/* Key locks die with their session: every call fails until the caller gives them back,
 * instead of carrying on unprotected on a new session. */
static void session_lost_under_key_locks_fails_until_unlocked(void **state)
{
	struct fixture *f = *state;
	const char *keys[] = {"blobs/x"};
	struct err e = {0};
	assert_int_equal(meta_lock_keys(f->m, keys, 1, &e), ERR_OK);
	terminate_sessions();
	bool used;
	assert_int_equal(meta_storage_key_used(f->m, "blobs/x", &used, &e), ERR_UNAVAILABLE);
	assert_non_null(strstr(e.msg, "metadata store unavailable"));
	assert_int_equal(meta_storage_key_used(f->m, "blobs/x", &used, &e), ERR_UNAVAILABLE);
	meta_unlock_keys(f->m, keys, 1);
	assert_int_equal(meta_storage_key_used(f->m, "blobs/x", &used, &e), ERR_OK);
	assert_false(used);
}

/* A server that stops answering mid-session (its backend stopped: the kernel still
 * acknowledges TCP) costs one call statement_timeout + 5 s, answered unavailable; the next call
 * has a new session. */
static void silent_server_is_unavailable_after_statement_timeout(void **state)
{
	struct fixture *f = *state;
	char url[700], sql[256];
	snprintf(url, sizeof(url), "%s?application_name=depotd-silent"
		 "&options=-c%%20statement_timeout%%3D1000", f->url);
	struct meta *m = NULL;
	struct err e = {0};
	bool used;
	assert_int_equal(meta_open(url, &m, &e), ERR_OK);
	snprintf(sql, sizeof(sql), "SELECT pid FROM pg_stat_activity WHERE datname = '%s'"
		 " AND application_name = 'depotd-silent'", test_db);
	pid_t pid = (pid_t)strtol(sql_on(admin_url, sql), NULL, 10);
	assert_true(pid > 0);
	if (kill(pid, SIGSTOP) != 0) {
		meta_close(m);
		skip(); /* not allowed to stop the server's process */
	}
	time_t t0 = time(NULL);
	enum err_code rc = meta_storage_key_used(m, "k", &used, &e);
	time_t waited = time(NULL) - t0;
	kill(pid, SIGCONT);
	assert_int_equal(rc, ERR_UNAVAILABLE);
	assert_non_null(strstr(e.msg, "no answer"));
	assert_true(waited >= 5 && waited <= 10);
	assert_int_equal(meta_storage_key_used(m, "k", &used, &e), ERR_OK);
	meta_close(m);
}

/* Nothing listens there: unavailable, at once, and the password is in no message. */
static void unreachable_server_is_unavailable_and_password_never_shown(void **state)
{
	(void)state;
	struct meta *m = NULL;
	struct err e = {0};
	time_t t0 = time(NULL);
	assert_int_equal(meta_open("postgres://depot:s3cret-pw@127.0.0.1:1/x", &m, &e),
			 ERR_UNAVAILABLE);
	assert_true(time(NULL) - t0 < 5);
	assert_null(m);
	assert_non_null(strstr(e.msg, "metadata store unavailable"));
	assert_null(strstr(e.msg, "s3cret-pw"));
	assert_int_equal(meta_open("postgresx://depot:s3cret-pw@127.0.0.1:1/x", &m, &e),
			 ERR_INVALID);
	assert_null(strstr(e.msg, "s3cret-pw"));
	char url[600];
	snprintf(url, sizeof(url), "%s", admin_url);
	char *pw = strchr(strstr(url, "://") + 3, ':');
	if (pw != NULL && strchr(pw, '@') != NULL) { /* the right server, a wrong password */
		char bad[700];
		snprintf(bad, sizeof(bad), "%.*s:wrong-pw%s", (int)(pw - url), url,
			 strchr(pw, '@'));
		assert_int_equal(meta_open(bad, &m, &e), ERR_UNAVAILABLE);
		assert_null(strstr(e.msg, "wrong-pw"));
	}
}

/* A database migrated by a later depotd is refused, not used half-understood. */
static void newer_schema_is_refused(void **state)
{
	(void)state;
	char url[512];
	db_create("_newer", url, sizeof(url));
	struct meta *m = NULL;
	struct err e = {0};
	assert_int_equal(meta_open(url, &m, &e), ERR_OK);
	meta_close(m);
	m = NULL;
	assert_string_equal(sql_on(url, "INSERT INTO schema_migrations VALUES (999)"), "");
	assert_int_equal(meta_open(url, &m, &e), ERR_INVALID);
	assert_non_null(strstr(e.msg, "newer than this depotd"));
	assert_null(m);
	db_drop("_newer");
}

struct opener {
	const char *url;
	enum err_code rc;
	struct meta *m;
};

static void *open_in_thread(void *arg)
{
	struct opener *o = arg;
	struct err e = {0};
	o->rc = meta_open(o->url, &o->m, &e);
	return NULL;
}

/* Stores opening a fresh database at once: one migrates, the other waits and finds it done. */
static void concurrent_opens_migrate_once(void **state)
{
	(void)state;
	char url[512];
	db_create("_race", url, sizeof(url));
	struct opener o[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		o[i] = (struct opener){.url = url};
		assert_int_equal(pthread_create(&t[i], NULL, open_in_thread, &o[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(o[i].rc, ERR_OK);
		meta_close(o[i].m);
	}
	assert_string_equal(sql_on(url, "SELECT string_agg(version::text, ',') FROM"
					" schema_migrations"),
			    "1,2,3");
	db_drop("_race");
}

/* A database of the depotd before migration 3 (its schema is this one's without the shares
 * column) gets the column filled from its share rows. */
static void migration_3_fills_shares_from_their_rows(void **state)
{
	(void)state;
	char url[512];
	struct pool pool;
	struct meta *m = NULL;
	struct meta_resource r, plain;
	struct err e = {0};
	db_create("_old", url, sizeof(url));
	assert_int_equal(meta_open(url, &m, &e), ERR_OK);
	create_tagged_pair(m, 320, &r, &plain);
	meta_close(m);
	assert_string_equal(sql_on(url, "ALTER TABLE resources DROP COLUMN shares;"
					"DELETE FROM schema_migrations WHERE version = 3"),
			    "");
	assert_int_equal(meta_open(url, &m, &e), ERR_OK);
	pool_init(&pool);
	check_tagged_pair(m, &pool, &r, &plain);
	meta_close(m);
	pool_cleanup(&pool);
	db_drop("_old");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const char *admin = getenv("DEPOT_TEST_PG_ADMIN");
	if (admin == NULL || !*admin) {
		puts("test_meta_pg: DEPOT_TEST_PG_ADMIN is unset: skipped (scripts/test.sh sets it)");
		return 0;
	}
	snprintf(admin_url, sizeof(admin_url), "%s", admin);
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
		META_CASES(T),
		T(lock_keys_take_one_lock_per_distinct_key),
		T(lock_keys_exclude_another_process),
		T(crossing_batches_of_one_set_of_names_do_not_deadlock),
		T(lost_session_is_replaced_by_the_next_call),
		T(session_lost_under_key_locks_fails_until_unlocked),
		T(silent_server_is_unavailable_after_statement_timeout),
		cmocka_unit_test(unreachable_server_is_unavailable_and_password_never_shown),
		cmocka_unit_test(newer_schema_is_refused),
		cmocka_unit_test(concurrent_opens_migrate_once),
		cmocka_unit_test(migration_3_fills_shares_from_their_rows),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
