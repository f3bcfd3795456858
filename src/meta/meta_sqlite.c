/* The SQLite metadata store: one connection per thread (opened on first use), every statement
 * from the fixed table below prepared once per connection, numbered migrations applied at open.
 * SQLite's errors are turned into err codes here and nowhere else. */
#include "meta/meta_int.h"
#include "core/log.h"
#include "core/xalloc.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define BUSY_TIMEOUT_MS 10000

/* ---- the schema, one migration per entry; user_version counts the applied ones ---- */
static const char *const migrations[] = {
	/* 1: resources and their tags */
	"CREATE TABLE resources ("
	"  rid INTEGER PRIMARY KEY,"
	"  id TEXT NOT NULL UNIQUE,"
	"  account_id TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  directory_path TEXT NOT NULL,"
	"  mime_type TEXT NOT NULL,"
	"  sha256 TEXT NOT NULL,"
	"  size_bytes INTEGER NOT NULL,"
	"  original_uri TEXT,"
	"  external_id TEXT,"
	"  external_storage_type TEXT,"
	"  storage_bucket TEXT NOT NULL,"
	"  storage_key TEXT NOT NULL,"
	"  metadata TEXT,"
	"  created_by TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE UNIQUE INDEX resources_name ON resources(account_id, directory_path, name);"
	"CREATE INDEX resources_created ON resources(account_id, created_at, id);"
	"CREATE INDEX resources_storage_key ON resources(storage_key);"
	"CREATE TABLE resource_tags ("
	"  rid INTEGER NOT NULL REFERENCES resources(rid) ON DELETE CASCADE,"
	"  tag TEXT NOT NULL,"
	"  PRIMARY KEY (rid, tag)) WITHOUT ROWID;"
	"CREATE INDEX resource_tags_tag ON resource_tags(tag, rid);",
	/* 2: the pending-upload flow and optimistic concurrency */
	"ALTER TABLE resources ADD COLUMN status TEXT NOT NULL DEFAULT 'uploaded';"
	"ALTER TABLE resources ADD COLUMN version INTEGER NOT NULL DEFAULT 1;",
	/* 3: small content inline, written in the row's own transaction */
	"CREATE TABLE inline_blobs ("
	"  storage_key TEXT PRIMARY KEY,"
	"  bytes BLOB NOT NULL);",
	/* 4: lists walk (account, status, created_at, id) and test directory_path from the index
	 * itself, fetching only the rows that match */
	"CREATE INDEX resources_list ON resources(account_id, status, created_at, id, directory_path);"
	"DROP INDEX resources_created;",
	/* 5: numeric ids (rid, from a counter so a deleted row's id never comes back), numeric ids
	 * of accounts and users, descriptions, sharing, test values, folders */
	"CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"INSERT INTO counters VALUES ('resource_nid',"
	"  (SELECT coalesce(max(rid), 0) FROM resources));"
	"ALTER TABLE resources ADD COLUMN description TEXT;"
	"ALTER TABLE resources ADD COLUMN read_access TEXT NOT NULL DEFAULT 'TEAM';"
	"ALTER TABLE resources ADD COLUMN file_name TEXT;"
	"ALTER TABLE resources ADD COLUMN test_enabled INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE resources ADD COLUMN test_sha256 TEXT;"
	"ALTER TABLE resources ADD COLUMN test_size_bytes INTEGER;"
	"ALTER TABLE resources ADD COLUMN test_mime_type TEXT;"
	"ALTER TABLE resources ADD COLUMN test_storage_bucket TEXT;"
	"ALTER TABLE resources ADD COLUMN test_storage_key TEXT;"
	"ALTER TABLE resources ADD COLUMN test_file_name TEXT;"
	"CREATE INDEX resources_test_storage_key ON resources(test_storage_key);"
	"CREATE INDEX resources_global ON resources(read_access, status, created_at, id)"
	"  WHERE read_access = 'GLOBAL';"
	"CREATE TABLE resource_shares ("
	"  account_id TEXT NOT NULL,"
	"  rid INTEGER NOT NULL REFERENCES resources(rid) ON DELETE CASCADE,"
	"  PRIMARY KEY (account_id, rid)) WITHOUT ROWID;"
	"CREATE INDEX resource_shares_rid ON resource_shares(rid);"
	"CREATE TABLE folders ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  account_id TEXT NOT NULL,"
	"  path TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL);"
	"CREATE UNIQUE INDEX folders_path ON folders(account_id, path);"
	"CREATE TABLE accounts ("
	"  nid INTEGER PRIMARY KEY AUTOINCREMENT, account_id TEXT NOT NULL UNIQUE);"
	"CREATE TABLE users (nid INTEGER PRIMARY KEY AUTOINCREMENT, sub TEXT NOT NULL UNIQUE);"
	"INSERT INTO accounts (account_id)"
	"  SELECT account_id FROM resources GROUP BY account_id ORDER BY min(rid);"
	"INSERT INTO users (sub) SELECT created_by FROM resources WHERE created_by IS NOT NULL"
	"  GROUP BY created_by ORDER BY min(rid);",
	/* 6: a row's tags and shares also on the row, joined as meta_join does (what
	 * group_concat over their rows made on every read); resource_tags and resource_shares
	 * stay the indexes the list filters use */
	"ALTER TABLE resources ADD COLUMN tags TEXT;"
	"ALTER TABLE resources ADD COLUMN shares TEXT;"
	"UPDATE resources SET tags = (SELECT group_concat(tag, char(31)) FROM"
	"  (SELECT tag FROM resource_tags t WHERE t.rid = resources.rid ORDER BY tag))"
	"  WHERE rid IN (SELECT rid FROM resource_tags);"
	"UPDATE resources SET shares = (SELECT group_concat(account_id, char(31)) FROM"
	"  (SELECT account_id FROM resource_shares s WHERE s.rid = resources.rid"
	"   ORDER BY account_id))"
	"  WHERE rid IN (SELECT rid FROM resource_shares);",
};
#define NMIGRATIONS (int)(sizeof(migrations) / sizeof(migrations[0]))

/* ---- every statement depot runs, fixed at compile time ---- */
/* The row alone, no lookup per row: a list fills folder_id after (fill_folders), a single
 * read takes it with the row (COLS_ONE); the numeric ids of account and creator come only on
 * request (sq_nids). */
#define COLS                                                                                   \
	"r.id, r.account_id, r.name, r.directory_path, r.mime_type, r.sha256, r.size_bytes,"   \
	" r.original_uri, r.external_id, r.external_storage_type, r.storage_bucket,"           \
	" r.storage_key, r.metadata, r.created_by, r.created_at, r.updated_at, r.tags,"        \
	" r.status, r.version, r.rid, r.description, r.read_access, r.shares,"                 \
	" r.file_name, r.test_enabled, r.test_sha256, r.test_size_bytes, r.test_mime_type,"    \
	" r.test_storage_bucket, r.test_storage_key, r.test_file_name "

/* A single row's read also takes its folder's id (column 31) in the same statement: a second
 * statement would be a second read transaction, with its WAL lock, on every GET. */
#define COLS_ONE                                                                               \
	COLS ", (SELECT f.id FROM folders f WHERE f.account_id = r.account_id"                 \
	"   AND f.path = r.directory_path) "

/* What another account may read: GLOBAL, or SPECIFIC_TEAMS naming it (?1). */
#define SHARED_WITH_1                                                                          \
	"(r.read_access = 'GLOBAL' OR (r.read_access = 'SPECIFIC_TEAMS' AND EXISTS"             \
	" (SELECT 1 FROM resource_shares s WHERE s.account_id = ?1 AND s.rid = r.rid)))"

/* List filters: ?1 account, ?2 after, ?3 before, ?4/?5 prefix range, ?6 tags JSON, ?7 their
 * count, ?8 limit, ?9 offset, ?10 status, ?11/?12 the cursor's (created_at, id), ?13 the
 * owner's nid of shared rows (0: any), ?14 the tags joined as meta_join does. Each arm of a list is one kind of row the reader may
 * see: its own (the indexed path), GLOBAL ones of other accounts, SPECIFIC_TEAMS ones naming
 * it. */
#define A_OWN                                                                                  \
	" FROM resources r WHERE r.account_id = ?1 AND r.created_at > ?2 AND r.created_at < ?3" \
	" AND r.status = ?10"
#define W_OWNER                                                                                \
	" AND (?13 = 0 OR r.account_id = (SELECT a.account_id FROM accounts a WHERE a.nid = ?13))"
#define A_GLOBAL                                                                               \
	" FROM resources r WHERE r.read_access = 'GLOBAL' AND r.status = ?10"                   \
	" AND r.created_at > ?2 AND r.created_at < ?3 AND r.account_id <> ?1" W_OWNER
#define A_SPECIFIC                                                                             \
	" FROM resources r WHERE r.rid IN (SELECT s.rid FROM resource_shares s"                 \
	" WHERE s.account_id = ?1) AND r.read_access = 'SPECIFIC_TEAMS' AND r.status = ?10"     \
	" AND r.created_at > ?2 AND r.created_at < ?3 AND r.account_id <> ?1" W_OWNER
#define W_PREFIX " AND r.directory_path >= ?4 AND r.directory_path < ?5"
/* A page tests the tags of the rows it reads anyway (a probe of resource_tags per row cost a
 * sixth of a page); a count tests them on resource_tags, reading no row. */
#define W_TAGS " AND depot_has_tags(r.tags, ?14)"
#define W_TAGS_COUNT                                                                           \
	" AND (SELECT count(*) FROM resource_tags t WHERE t.rid = r.rid"                        \
	"      AND t.tag IN (SELECT value FROM json_each(?6))) = ?7"
#define W_AFTER_DESC " AND (r.created_at, r.id) < (?11, ?12)"
#define W_AFTER_ASC " AND (r.created_at, r.id) > (?11, ?12)"
#define O_DESC " ORDER BY r.created_at DESC, r.id DESC LIMIT ?8 OFFSET ?9"
#define O_ASC " ORDER BY r.created_at ASC, r.id ASC LIMIT ?8 OFFSET ?9"
/* A compound list orders by result columns: 15 is created_at, 1 is id. */
#define OC_DESC " ORDER BY 15 DESC, 1 DESC LIMIT ?8 OFFSET ?9"
#define OC_ASC " ORDER BY 15 ASC, 1 ASC LIMIT ?8 OFFSET ?9"
#define ARM(a, pfx, tags, cur) "SELECT " COLS a pfx tags cur
#define LIST_ME(pfx, tags, cur, o) ARM(A_OWN, pfx, tags, cur) O_##o
#define LIST_SHARED(pfx, tags, cur, o)                                                         \
	ARM(A_GLOBAL, pfx, tags, cur) " UNION ALL " ARM(A_SPECIFIC, pfx, tags, cur) OC_##o
#define LIST_ANY(pfx, tags, cur, o)                                                            \
	ARM(A_OWN, pfx, tags, cur) " UNION ALL " ARM(A_GLOBAL, pfx, tags, cur)                 \
	" UNION ALL " ARM(A_SPECIFIC, pfx, tags, cur) OC_##o
#define COUNT_SHARED(pfx, tags)                                                                \
	"SELECT (SELECT count(*)" A_GLOBAL pfx tags ") + (SELECT count(*)" A_SPECIFIC pfx tags ")"

/* Variant bits of the list statements; the owner mode (enum meta_owner) picks a block of 16. */
enum { V_PREFIX = 1, V_TAGS = 2, V_CURSOR = 4, V_ASC = 8, V_MODE = 16 };

#define INSERT_COLS                                                                            \
	"INSERT INTO resources (id, account_id, name, directory_path, mime_type, sha256,"      \
	" size_bytes, original_uri, external_id, external_storage_type, storage_bucket,"       \
	" storage_key, metadata, created_by, created_at, updated_at, status, version, rid,"    \
	" description, read_access, file_name, test_enabled, test_sha256, test_size_bytes,"    \
	" test_mime_type, test_storage_bucket, test_storage_key, test_file_name, tags, shares)" \
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, 1," \
	" ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30)"

enum stmt {
	S_BEGIN,
	S_BEGIN_READ,
	S_COMMIT,
	S_ROLLBACK,
	S_INSERT,
	S_INSERT_NEW,
	S_INSERT_TAG,
	S_DELETE_TAGS,
	S_INSERT_SHARE,
	S_DELETE_SHARES,
	S_NID_NEXT,
	S_ENSURE_ACCOUNT,
	S_ENSURE_USER,
	S_ACCOUNT_NID,
	S_NIDS,
	S_GET,
	S_GET_VISIBLE,
	S_GET_NID,
	S_UPDATE,
	S_TEST_ENABLE,
	S_TEST_DISABLE,
	S_SET_CONTENT,
	S_SET_TEST_CONTENT,
	S_DELETE,
	S_KEY_USED,
	S_INLINE_PUT,
	S_INLINE_GET,
	S_INLINE_DROP_UNUSED,
	S_FOLDER_INSERT,
	S_FOLDER_GET,
	S_FOLDER_LIST,
	S_FOLDER_COUNT,
	S_FOLDER_ANY,
	S_FOLDER_OF,
	S_LIST,                        /* + mode * V_MODE + V_* bits */
	S_COUNT = S_LIST + 3 * V_MODE, /* + V_PREFIX | V_TAGS: own rows */
	S_COUNT_SHARED = S_COUNT + 4,  /* + V_PREFIX | V_TAGS: rows shared with the reader */
	S_NSTMTS = S_COUNT_SHARED + 4,
};

static const char *const sql[S_NSTMTS] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_BEGIN_READ] = "BEGIN", /* a snapshot, taking no write lock */
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_INSERT] = INSERT_COLS,
	[S_INSERT_NEW] = INSERT_COLS " ON CONFLICT (account_id, directory_path, name) DO NOTHING",
	[S_INSERT_TAG] = "INSERT OR IGNORE INTO resource_tags (rid, tag) VALUES (?1, ?2)",
	[S_DELETE_TAGS] = "DELETE FROM resource_tags WHERE rid = ?1",
	[S_INSERT_SHARE] = "INSERT OR IGNORE INTO resource_shares (rid, account_id)"
			   " VALUES (?1, ?2)",
	[S_DELETE_SHARES] = "DELETE FROM resource_shares WHERE rid = ?1",
	/* ?1 ids at once; answers the last of them */
	[S_NID_NEXT] = "UPDATE counters SET value = value + ?1 WHERE name = 'resource_nid'"
		       " RETURNING value",
	[S_ENSURE_ACCOUNT] = "INSERT INTO accounts (account_id) VALUES (?1)"
			     " ON CONFLICT (account_id) DO NOTHING",
	[S_ENSURE_USER] = "INSERT INTO users (sub) VALUES (?1) ON CONFLICT (sub) DO NOTHING",
	[S_ACCOUNT_NID] = "SELECT nid FROM accounts WHERE account_id = ?1",
	[S_NIDS] = "SELECT (SELECT nid FROM accounts WHERE account_id = ?1),"
		   " (SELECT nid FROM users WHERE sub = ?2)",
	[S_GET] = "SELECT " COLS_ONE " FROM resources r WHERE r.account_id = ?1 AND r.id = ?2",
	[S_GET_VISIBLE] = "SELECT " COLS_ONE " FROM resources r WHERE r.id = ?2"
			  " AND (r.account_id = ?1 OR " SHARED_WITH_1 ")",
	[S_GET_NID] = "SELECT " COLS_ONE " FROM resources r WHERE r.rid = ?2"
		      " AND (r.account_id = ?1 OR " SHARED_WITH_1 ")",
	[S_UPDATE] = "UPDATE resources SET"
		     " name = CASE WHEN ?1 THEN ?2 ELSE name END,"
		     " directory_path = CASE WHEN ?3 THEN ?4 ELSE directory_path END,"
		     " metadata = CASE WHEN ?5 THEN ?6 ELSE metadata END,"
		     " status = CASE WHEN ?10 THEN 'uploaded' ELSE status END,"
		     " description = CASE WHEN ?11 THEN ?12 ELSE description END,"
		     " read_access = ?13,"
		     " tags = CASE WHEN ?14 THEN ?15 ELSE tags END,"
		     " shares = CASE WHEN ?16 THEN ?17 ELSE shares END,"
		     " updated_at = ?7, version = version + 1"
		     " WHERE account_id = ?8 AND id = ?9",
	/* The test value starts as the live content (sharing its blob), and goes with the flag. */
	[S_TEST_ENABLE] = "UPDATE resources SET test_enabled = 1, test_sha256 = sha256,"
			  " test_size_bytes = size_bytes, test_mime_type = mime_type,"
			  " test_storage_bucket = storage_bucket, test_storage_key = storage_key,"
			  " test_file_name = file_name WHERE rid = ?1",
	[S_TEST_DISABLE] = "UPDATE resources SET test_enabled = 0, test_sha256 = NULL,"
			   " test_size_bytes = NULL, test_mime_type = NULL,"
			   " test_storage_bucket = NULL, test_storage_key = NULL,"
			   " test_file_name = NULL WHERE rid = ?1",
	[S_SET_CONTENT] = "UPDATE resources SET sha256 = ?1, size_bytes = ?2, mime_type = ?3,"
			  " storage_bucket = ?4, storage_key = ?5, file_name = ?9, updated_at = ?6,"
			  " external_id = COALESCE(?10, external_id),"
			  " version = version + ?11 WHERE account_id = ?7 AND id = ?8",
	[S_SET_TEST_CONTENT] = "UPDATE resources SET test_sha256 = ?1, test_size_bytes = ?2,"
			       " test_mime_type = ?3, test_storage_bucket = ?4,"
			       " test_storage_key = ?5, test_file_name = ?9, updated_at = ?6,"
			       " version = version + ?11 WHERE account_id = ?7 AND id = ?8",
	[S_DELETE] = "DELETE FROM resources WHERE account_id = ?1 AND id = ?2",
	[S_KEY_USED] = "SELECT 1 FROM resources WHERE storage_key = ?1"
		       " UNION ALL SELECT 1 FROM resources WHERE test_storage_key = ?1 LIMIT 1",
	[S_INLINE_PUT] = "INSERT OR IGNORE INTO inline_blobs (storage_key, bytes) VALUES (?1, ?2)",
	[S_INLINE_GET] = "SELECT bytes FROM inline_blobs WHERE storage_key = ?1",
	[S_INLINE_DROP_UNUSED] = "DELETE FROM inline_blobs WHERE storage_key = ?1 AND NOT EXISTS"
				 " (SELECT 1 FROM resources WHERE storage_key = ?1) AND NOT EXISTS"
				 " (SELECT 1 FROM resources WHERE test_storage_key = ?1)",
	[S_FOLDER_INSERT] = "INSERT INTO folders (account_id, path, created_at)"
			    " VALUES (?1, ?2, ?3)",
	[S_FOLDER_GET] = "SELECT id, account_id, path, created_at FROM folders"
			 " WHERE account_id = ?1 AND id = ?2",
	[S_FOLDER_LIST] = "SELECT id, account_id, path, created_at FROM folders"
			  " WHERE account_id = ?1 ORDER BY path LIMIT ?2 OFFSET ?3",
	[S_FOLDER_COUNT] = "SELECT count(*) FROM folders WHERE account_id = ?1",
	[S_FOLDER_ANY] = "SELECT 1 FROM folders WHERE account_id = ?1 LIMIT 1",
	[S_FOLDER_OF] = "SELECT id FROM folders WHERE account_id = ?1 AND path = ?2",
	[S_LIST] = META_LIST16(LIST_ME), META_LIST16(LIST_SHARED), META_LIST16(LIST_ANY),
	[S_COUNT] = "SELECT count(*)" A_OWN,
	"SELECT count(*)" A_OWN W_PREFIX,
	"SELECT count(*)" A_OWN W_TAGS_COUNT,
	"SELECT count(*)" A_OWN W_PREFIX W_TAGS_COUNT,
	[S_COUNT_SHARED] = COUNT_SHARED("", ""),
	COUNT_SHARED(W_PREFIX, ""),
	COUNT_SHARED("", W_TAGS_COUNT),
	COUNT_SHARED(W_PREFIX, W_TAGS_COUNT),
};

struct conn {
	sqlite3 *db;
	sqlite3_stmt *stmts[S_NSTMTS];
	struct conn *next; /* in meta_sqlite.conns */
	struct meta_sqlite *owner;
};

/* Exact list totals cost a scan of every matching row, so they are cached per account and
 * filter until the account's next write. Each account hashes to a generation counter that
 * every committed write of it bumps (after its commit); an entry counts only while its
 * generation is current. This assumes one depotd per database file, as SQLite mode does. */
#define GEN_SLOTS 4096
#define COUNT_SLOTS 1024

struct count_entry {
	char *key;        /* account and filters, malloc'd; NULL when empty */
	uint64_t gen;
	int64_t total;
};

struct meta_sqlite {
	struct meta base;
	char *path;
	_Atomic uint64_t gens[GEN_SLOTS];
	pthread_mutex_t count_lock;
	struct count_entry counts[COUNT_SLOTS];
	pthread_key_t key;     /* this thread's struct conn */
	pthread_mutex_t lock;  /* guards conns */
	struct conn *conns;
};

static uint64_t hash_str(const char *s, uint64_t h)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static _Atomic uint64_t *gen_of(struct meta_sqlite *m, const char *account)
{
	return &m->gens[hash_str(account, 1469598103934665603ull) % GEN_SLOTS];
}

/* Called after every committed write of account. */
static void bump(struct meta *base, const char *account)
{
	atomic_fetch_add(gen_of((struct meta_sqlite *)base, account), 1);
}

static bool sq_list_generation(struct meta *base, const char *account, uint64_t *gen)
{
	*gen = atomic_load(gen_of((struct meta_sqlite *)base, account));
	return true;
}

static bool count_get(struct meta_sqlite *m, const char *key, uint64_t gen, int64_t *total)
{
	struct count_entry *c = &m->counts[hash_str(key, 1469598103934665603ull) % COUNT_SLOTS];
	bool hit = false;
	pthread_mutex_lock(&m->count_lock);
	if (c->key != NULL && c->gen == gen && strcmp(c->key, key) == 0) {
		*total = c->total;
		hit = true;
	}
	pthread_mutex_unlock(&m->count_lock);
	return hit;
}

static void count_put(struct meta_sqlite *m, const char *key, uint64_t gen, int64_t total)
{
	struct count_entry *c = &m->counts[hash_str(key, 1469598103934665603ull) % COUNT_SLOTS];
	char *copy = xstrdup(key);
	pthread_mutex_lock(&m->count_lock);
	free(c->key);
	c->key = copy;
	c->gen = gen;
	c->total = total;
	pthread_mutex_unlock(&m->count_lock);
}

static enum err_code db_err(sqlite3 *db, int rc, const char *what, struct err *e)
{
	int primary = rc & 0xff;
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return err_set(e, ERR_CONFLICT,
			       "a resource with this name already exists in this directory");
	if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
		return err_set(e, ERR_UNAVAILABLE, "metadata store is busy (%s)", what);
	if (primary == SQLITE_FULL)
		return err_set(e, ERR_NO_SPACE, "metadata store: the disk is full (%s)", what);
	return err_set(e, ERR_INTERNAL, "sqlite %s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

static void conn_free(struct conn *c)
{
	for (int i = 0; i < S_NSTMTS; i++)
		sqlite3_finalize(c->stmts[i]);
	sqlite3_close(c->db);
	free(c);
}

static void conn_unlink(struct meta_sqlite *m, struct conn *c)
{
	pthread_mutex_lock(&m->lock);
	for (struct conn **p = &m->conns; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	pthread_mutex_unlock(&m->lock);
}

/* Runs when a worker thread exits. */
static void conn_destroy(void *arg)
{
	struct conn *c = arg;
	conn_unlink(c->owner, c);
	conn_free(c);
}

/* Whether the joined list[0..len) holds the item s[0..n). */
static bool joined_has(const char *list, size_t len, const char *s, size_t n)
{
	const char *p = list, *end = list + len;
	for (;;) {
		const char *sep = memchr(p, META_TAG_SEP, (size_t)(end - p));
		const char *stop = sep ? sep : end;
		if ((size_t)(stop - p) == n && memcmp(p, s, n) == 0)
			return true;
		if (sep == NULL)
			return false;
		p = sep + 1;
	}
}

/* depot_has_tags(row_tags, wanted): 1 when the row's tags (a tags column) hold every one of
 * wanted (joined the same way), else 0. */
static void has_tags(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const char *row = (const char *)sqlite3_value_text(argv[0]);
	const char *want = (const char *)sqlite3_value_text(argv[1]);
	size_t rlen = (size_t)sqlite3_value_bytes(argv[0]), wlen = (size_t)sqlite3_value_bytes(argv[1]);
	int all = want != NULL;
	for (const char *w = want, *end = want + wlen; all && w != NULL && w <= end;) {
		const char *sep = memchr(w, META_TAG_SEP, (size_t)(end - w));
		size_t n = (size_t)((sep ? sep : end) - w);
		all = row != NULL && joined_has(row, rlen, w, n);
		w = sep ? sep + 1 : NULL;
	}
	sqlite3_result_int(ctx, all);
}

static enum err_code conn_open(struct meta_sqlite *m, struct conn **out, struct err *e)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	c->owner = m;
	int rc = sqlite3_open_v2(m->path, &c->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	if (rc != SQLITE_OK) {
		enum err_code code = db_err(c->db, rc, "open", e);
		conn_free(c);
		return code;
	}
	sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(c->db, 1);
	rc = sqlite3_exec(c->db,
			  "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
			  NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function_v2(c->db, "depot_has_tags", 2,
						SQLITE_UTF8 | SQLITE_DETERMINISTIC |
							SQLITE_INNOCUOUS,
						NULL, has_tags, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		enum err_code code = db_err(c->db, rc, "pragma", e);
		conn_free(c);
		return code;
	}
	*out = c;
	return ERR_OK;
}

/* This thread's connection, opened on first use. */
static enum err_code conn_get(struct meta_sqlite *m, struct conn **out, struct err *e)
{
	struct conn *c = pthread_getspecific(m->key);
	if (c == NULL) {
		enum err_code rc = conn_open(m, &c, e);
		if (rc != ERR_OK)
			return rc;
		pthread_mutex_lock(&m->lock);
		c->next = m->conns;
		m->conns = c;
		pthread_mutex_unlock(&m->lock);
		pthread_setspecific(m->key, c);
	}
	*out = c;
	return ERR_OK;
}

/* The prepared statement s, reset and with its bindings cleared. */
static enum err_code stmt(struct conn *c, enum stmt s, sqlite3_stmt **out, struct err *e)
{
	if (c->stmts[s] == NULL) {
		int rc = sqlite3_prepare_v3(c->db, sql[s], -1, SQLITE_PREPARE_PERSISTENT,
					    &c->stmts[s], NULL);
		if (rc != SQLITE_OK)
			return db_err(c->db, rc, "prepare", e);
	}
	sqlite3_reset(c->stmts[s]);
	sqlite3_clear_bindings(c->stmts[s]);
	*out = c->stmts[s];
	return ERR_OK;
}

/* Runs a statement that returns no rows. */
static enum err_code exec_done(struct conn *c, sqlite3_stmt *st, const char *what, struct err *e)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_err(c->db, rc, what, e);
	return ERR_OK;
}

static enum err_code exec_simple(struct conn *c, enum stmt s, struct err *e)
{
	sqlite3_stmt *st;
	enum err_code rc = stmt(c, s, &st, e);
	return rc != ERR_OK ? rc : exec_done(c, st, sql[s], e);
}

static void rollback(struct conn *c)
{
	if (!sqlite3_get_autocommit(c->db))
		(void)exec_simple(c, S_ROLLBACK, NULL);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static const char *col_text(sqlite3_stmt *st, int i, struct pool *pool)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	if (s == NULL)
		return NULL;
	return pool_strndup(pool, (const char *)s, (size_t)sqlite3_column_bytes(st, i));
}

/* What snprintf(out, cap, "%s", s ? s : "") writes, without its cost (three per listed row). */
static void copy_col(char *out, size_t cap, const char *s)
{
	size_t n = 0;
	if (s != NULL) {
		n = strnlen(s, cap - 1);
		memcpy(out, s, n);
	}
	out[n] = '\0';
}

static void read_row(sqlite3_stmt *st, struct pool *pool, struct meta_resource *r)
{
	memset(r, 0, sizeof(*r));
	const char *id = (const char *)sqlite3_column_text(st, 0);
	const char *sha = (const char *)sqlite3_column_text(st, 5);
	copy_col(r->id, sizeof(r->id), id);
	copy_col(r->sha256, sizeof(r->sha256), sha);
	r->account_id = col_text(st, 1, pool);
	r->name = col_text(st, 2, pool);
	r->directory_path = col_text(st, 3, pool);
	r->mime_type = col_text(st, 4, pool);
	r->size_bytes = sqlite3_column_int64(st, 6);
	r->original_uri = col_text(st, 7, pool);
	r->external_id = col_text(st, 8, pool);
	r->external_storage_type = col_text(st, 9, pool);
	r->storage_bucket = col_text(st, 10, pool);
	r->storage_key = col_text(st, 11, pool);
	r->metadata_json = col_text(st, 12, pool);
	r->created_by = col_text(st, 13, pool);
	r->created_at_us = sqlite3_column_int64(st, 14);
	r->updated_at_us = sqlite3_column_int64(st, 15);
	meta_split((const char *)sqlite3_column_text(st, 16), pool, &r->tags, &r->ntags);
	r->status = col_text(st, 17, pool);
	r->version = sqlite3_column_int64(st, 18);
	r->nid = sqlite3_column_int64(st, 19);
	r->description = col_text(st, 20, pool);
	r->read_access = col_text(st, 21, pool);
	meta_split((const char *)sqlite3_column_text(st, 22), pool, &r->shared_with,
		     &r->nshared);
	r->file_name = col_text(st, 23, pool);
	r->test_enabled = sqlite3_column_int(st, 24) != 0;
	const char *tsha = (const char *)sqlite3_column_text(st, 25);
	copy_col(r->test.sha256, sizeof(r->test.sha256), tsha);
	r->test.size_bytes = sqlite3_column_int64(st, 26);
	r->test.mime_type = col_text(st, 27, pool);
	r->test.storage_bucket = col_text(st, 28, pool);
	r->test.storage_key = col_text(st, 29, pool);
	r->test.file_name = col_text(st, 30, pool);
}

/* Runs statement s (?1 a, ?2 b unless NULL), which answers one integer or no row: *v gets it,
 * or 0. */
static enum err_code query_int(struct conn *c, enum stmt s, const char *a, const char *b,
			       int64_t *v, struct err *e)
{
	sqlite3_stmt *st;
	enum err_code rc = stmt(c, s, &st, e);
	if (rc != ERR_OK)
		return rc;
	bind_text(st, 1, a);
	if (b != NULL)
		bind_text(st, 2, b);
	int step = sqlite3_step(st);
	*v = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return step == SQLITE_ROW || step == SQLITE_DONE ? ERR_OK : db_err(c->db, step, "folder", e);
}

/* What fill_folders knows: the folder id at (account, path), or with path NULL whether the
 * account has any folder (id 1) or none (0). */
struct folder_memo {
	const char *account;          /* NULL: a free slot */
	const char *path;
	int64_t id;
};

static struct folder_memo *memo_slot(struct folder_memo *t, size_t mask, const char *account,
				     const char *path)
{
	uint64_t h = hash_str(path ? path : "", hash_str(account, 1469598103934665603ull));
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct folder_memo *m = &t[i];
		if (m->account == NULL ||
		    (strcmp(m->account, account) == 0 &&
		     (m->path == path || (m->path && path && strcmp(m->path, path) == 0))))
			return m;
	}
}

/* The memo's entry for (account, path), looked up with statement s when new. */
static enum err_code memo_get(struct conn *c, struct folder_memo *t, size_t mask, enum stmt s,
			      const char *account, const char *path, int64_t *id, struct err *e)
{
	struct folder_memo *m = memo_slot(t, mask, account, path);
	if (m->account == NULL) {
		enum err_code rc = query_int(c, s, account, path, &m->id, e);
		if (rc != ERR_OK)
			return rc;
		m->account = account;
		m->path = path;
	}
	*id = m->id;
	return ERR_OK;
}

/* Sets folder_id of a list's rows[0..n): the owner's folder at the row's directory. Rather
 * than a lookup per row: none for an account without folders, one per directory of a page. */
static enum err_code fill_folders(struct conn *c, struct meta_resource *rows, size_t n,
				  struct pool *pool, struct err *e)
{
	size_t cap = 8;
	while (cap < 4 * n) /* an entry per row and one per account at most: half full */
		cap <<= 1;
	struct folder_memo *t = pool_alloc(pool, cap * sizeof(*t));
	for (size_t i = 0; i < n; i++) {
		struct meta_resource *r = &rows[i];
		int64_t any;
		enum err_code rc = memo_get(c, t, cap - 1, S_FOLDER_ANY, r->account_id, NULL, &any, e);
		if (rc == ERR_OK && any)
			rc = memo_get(c, t, cap - 1, S_FOLDER_OF, r->account_id, r->directory_path,
				      &r->folder_id, e);
		if (rc != ERR_OK)
			return rc;
	}
	return ERR_OK;
}

/* Runs statement s (?1 rid, ?2 one of strs) for each of strs[0..n): a row's tags or shares.
 * what names it in errors (which clients see: never the SQL). */
static enum err_code insert_each(struct conn *c, enum stmt s, const char *what,
				 sqlite3_int64 rid, const char **strs, size_t n, struct err *e)
{
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st;
		enum err_code rc = stmt(c, s, &st, e);
		if (rc != ERR_OK)
			return rc;
		sqlite3_bind_int64(st, 1, rid);
		bind_text(st, 2, strs[i]);
		if ((rc = exec_done(c, st, what, e)) != ERR_OK)
			return rc;
	}
	return ERR_OK;
}

static enum err_code insert_tags(struct conn *c, sqlite3_int64 rid, const char **tags,
				 size_t ntags, struct err *e)
{
	return insert_each(c, S_INSERT_TAG, "insert tags", rid, tags, ntags, e);
}

/* Stores inline content under key (once: identical bytes share it). */
static enum err_code inline_put(struct conn *c, const char *key, const unsigned char *bytes,
				size_t len, struct err *e)
{
	sqlite3_stmt *st;
	enum err_code rc = stmt(c, S_INLINE_PUT, &st, e);
	if (rc != ERR_OK)
		return rc;
	bind_text(st, 1, key);
	sqlite3_bind_blob64(st, 2, len ? (const void *)bytes : "", len, SQLITE_STATIC);
	return exec_done(c, st, "inline put", e);
}

/* Drops the inline content under key when no row refers to it any more. */
static enum err_code inline_drop_unused(struct conn *c, const char *key, struct err *e)
{
	sqlite3_stmt *st;
	if (key == NULL || strncmp(key, "inline/", 7) != 0)
		return ERR_OK;
	enum err_code rc = stmt(c, S_INLINE_DROP_UNUSED, &st, e);
	if (rc != ERR_OK)
		return rc;
	bind_text(st, 1, key);
	return exec_done(c, st, "inline drop", e);
}

static void bind_row(sqlite3_stmt *st, const struct meta_resource *r, sqlite3_int64 rid,
		     struct pool *pool)
{
	bind_text(st, 1, r->id);
	bind_text(st, 2, r->account_id);
	bind_text(st, 3, r->name);
	bind_text(st, 4, r->directory_path);
	bind_text(st, 5, r->mime_type);
	bind_text(st, 6, r->sha256);
	sqlite3_bind_int64(st, 7, r->size_bytes);
	bind_text(st, 8, r->original_uri);
	bind_text(st, 9, r->external_id);
	bind_text(st, 10, r->external_storage_type);
	bind_text(st, 11, r->storage_bucket);
	bind_text(st, 12, r->storage_key);
	bind_text(st, 13, r->metadata_json);
	bind_text(st, 14, r->created_by);
	sqlite3_bind_int64(st, 15, r->created_at_us);
	sqlite3_bind_int64(st, 16, r->updated_at_us);
	bind_text(st, 17, r->status ? r->status : META_STATUS_UPLOADED);
	sqlite3_bind_int64(st, 18, rid);
	bind_text(st, 19, r->description);
	bind_text(st, 20, r->read_access ? r->read_access : META_ACCESS_TEAM);
	bind_text(st, 21, r->file_name);
	sqlite3_bind_int(st, 22, r->test_enabled);
	if (r->test_enabled) {
		bind_text(st, 23, r->test.sha256[0] ? r->test.sha256 : NULL);
		sqlite3_bind_int64(st, 24, r->test.size_bytes);
		bind_text(st, 25, r->test.mime_type);
		bind_text(st, 26, r->test.storage_bucket);
		bind_text(st, 27, r->test.storage_key);
		bind_text(st, 28, r->test.file_name);
	}
	bind_text(st, 29, meta_join(r->tags, r->ntags, pool));
	bind_text(st, 30, meta_join(r->shared_with, r->nshared, pool));
}

/* Reserves n numeric ids; *first is the first of them. */
static enum err_code nids_next(struct conn *c, size_t n, sqlite3_int64 *first, struct err *e)
{
	sqlite3_stmt *st;
	enum err_code rc = stmt(c, S_NID_NEXT, &st, e);
	if (rc != ERR_OK)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)n);
	int s = sqlite3_step(st);
	sqlite3_int64 last = s == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	if (s == SQLITE_ROW)
		s = sqlite3_step(st);
	sqlite3_reset(st);
	if (s != SQLITE_DONE)
		return db_err(c->db, s, "next id", e);
	*first = last - (sqlite3_int64)n + 1;
	return ERR_OK;
}

/* Runs statement s with one text parameter; what names it in errors. */
static enum err_code exec_text(struct conn *c, enum stmt s, const char *what, const char *text,
			       struct err *e)
{
	sqlite3_stmt *st;
	enum err_code rc = stmt(c, s, &st, e);
	if (rc != ERR_OK)
		return rc;
	bind_text(st, 1, text);
	return exec_done(c, st, what, e);
}

/* Replaces the share rows of rid with accounts[0..n). */
static enum err_code write_shares(struct conn *c, sqlite3_int64 rid, const char **accounts,
				  size_t n, bool replace, struct err *e)
{
	sqlite3_stmt *st;
	enum err_code rc;
	if (replace) {
		if ((rc = stmt(c, S_DELETE_SHARES, &st, e)) != ERR_OK)
			return rc;
		sqlite3_bind_int64(st, 1, rid);
		if ((rc = exec_done(c, st, "delete shares", e)) != ERR_OK)
			return rc;
	}
	return insert_each(c, S_INSERT_SHARE, "insert shares", rid, accounts, n, e);
}

/* Inserts row r with numeric id rid; *inserted is false when its name was taken and
 * on_conflict_skip was asked for. The account's and creator's numeric ids are made when new:
 * prev (or NULL) is the row inserted just before, whose ones exist already. */
static enum err_code insert_row(struct conn *c, const struct meta_resource *r,
				const struct meta_resource *prev, sqlite3_int64 rid,
				bool on_conflict_skip, bool *inserted, struct pool *pool,
				struct err *e)
{
	sqlite3_stmt *st;
	enum err_code rc = stmt(c, on_conflict_skip ? S_INSERT_NEW : S_INSERT, &st, e);
	if (rc != ERR_OK)
		return rc;
	bind_row(st, r, rid, pool);
	if ((rc = exec_done(c, st, "insert", e)) != ERR_OK)
		return rc;
	*inserted = sqlite3_changes(c->db) > 0;
	if (!*inserted)
		return ERR_OK;
	if ((prev == NULL || strcmp(prev->account_id, r->account_id) != 0) &&
	    (rc = exec_text(c, S_ENSURE_ACCOUNT, "account", r->account_id, e)) != ERR_OK)
		return rc;
	if (r->created_by != NULL &&
	    (prev == NULL || prev->created_by == NULL || strcmp(prev->created_by, r->created_by)) &&
	    (rc = exec_text(c, S_ENSURE_USER, "user", r->created_by, e)) != ERR_OK)
		return rc;
	if ((rc = insert_tags(c, rid, r->tags, r->ntags, e)) != ERR_OK ||
	    (rc = write_shares(c, rid, r->shared_with, r->nshared, false, e)) != ERR_OK)
		return rc;
	if (r->inline_bytes != NULL)
		rc = inline_put(c, r->storage_key, r->inline_bytes, r->inline_len, e);
	return rc;
}

static enum err_code sq_create(struct meta *base, const struct meta_resource *r, struct err *e)
{
	struct meta_sqlite *m = (struct meta_sqlite *)base;
	struct conn *c;
	struct pool pool;
	sqlite3_int64 rid;
	bool inserted;
	enum err_code rc = conn_get(m, &c, e);
	if (rc != ERR_OK || (rc = exec_simple(c, S_BEGIN, e)) != ERR_OK)
		return rc;
	pool_init(&pool);
	if ((rc = nids_next(c, 1, &rid, e)) != ERR_OK ||
	    (rc = insert_row(c, r, NULL, rid, false, &inserted, &pool, e)) != ERR_OK ||
	    (rc = exec_simple(c, S_COMMIT, e)) != ERR_OK)
		rollback(c);
	else
		bump(base, r->account_id);
	pool_cleanup(&pool);
	return rc;
}

static enum err_code sq_create_batch(struct meta *base, const struct meta_resource *rows,
				     size_t n, enum err_code *results, struct err *e)
{
	struct conn *c;
	struct pool pool;
	sqlite3_int64 rid = 0;
	const struct meta_resource *prev = NULL;
	enum err_code rc = conn_get((struct meta_sqlite *)base, &c, e);
	if (rc != ERR_OK || (rc = exec_simple(c, S_BEGIN, e)) != ERR_OK)
		return rc;
	pool_init(&pool);
	/* One counter step for the batch; a taken name leaves a gap, as a rollback would. */
	if (n > 0 && (rc = nids_next(c, n, &rid, e)) != ERR_OK)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		bool inserted;
		if ((rc = insert_row(c, &rows[i], prev, rid + (sqlite3_int64)i, true, &inserted,
				     &pool, e)) != ERR_OK)
			goto fail;
		results[i] = inserted ? ERR_OK : ERR_CONFLICT;
		if (inserted)
			prev = &rows[i];
	}
	if ((rc = exec_simple(c, S_COMMIT, e)) != ERR_OK)
		goto fail;
	pool_cleanup(&pool);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(rows[i].account_id, rows[i - 1].account_id) != 0)
			bump(base, rows[i].account_id);
	return ERR_OK;
fail:
	pool_cleanup(&pool);
	rollback(c);
	return rc;
}

/* Reads the one row of statement s (?1 an account, ?2 an id or a nid) within whatever
 * transaction c is in. */
static enum err_code get_row(struct conn *c, enum stmt s, const char *account, const char *id,
			     sqlite3_int64 nid, struct pool *pool, struct meta_resource *out,
			     struct err *e)
{
	sqlite3_stmt *st;
	enum err_code rc = stmt(c, s, &st, e);
	if (rc != ERR_OK)
		return rc;
	bind_text(st, 1, account);
	if (id != NULL)
		bind_text(st, 2, id);
	else
		sqlite3_bind_int64(st, 2, nid);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		read_row(st, pool, out);
		out->folder_id = sqlite3_column_int64(st, 31);
		sqlite3_reset(st);
		return ERR_OK;
	}
	sqlite3_reset(st);
	if (step == SQLITE_DONE)
		return err_set(e, ERR_NOT_FOUND, "resource not found");
	return db_err(c->db, step, "get", e);
}

static enum err_code get_on(struct conn *c, const char *account, const char *id,
			    struct pool *pool, struct meta_resource *out, struct err *e)
{
	return get_row(c, S_GET, account, id, 0, pool, out, e);
}

static enum err_code sq_get(struct meta *base, const char *account, const char *id,
			    struct pool *pool, struct meta_resource *out, struct err *e)
{
	struct conn *c;
	enum err_code rc = conn_get((struct meta_sqlite *)base, &c, e);
	return rc != ERR_OK ? rc : get_on(c, account, id, pool, out, e);
}

static enum err_code sq_get_visible(struct meta *base, const char *reader, const char *id,
				    struct pool *pool, struct meta_resource *out, struct err *e)
{
	struct conn *c;
	enum err_code rc = conn_get((struct meta_sqlite *)base, &c, e);
	return rc != ERR_OK ? rc : get_row(c, S_GET_VISIBLE, reader, id, 0, pool, out, e);
}

static enum err_code sq_get_by_nid(struct meta *base, const char *reader, int64_t nid,
				   struct pool *pool, struct meta_resource *out, struct err *e)
{
	struct conn *c;
	enum err_code rc = conn_get((struct meta_sqlite *)base, &c, e);
	return rc != ERR_OK ? rc : get_row(c, S_GET_NID, reader, NULL, nid, pool, out, e);
}

/* The start of every conditional write: this thread's connection, the write lock (BEGIN
 * IMMEDIATE), the row as it is, and its If-Match condition. On failure nothing is left open. */
static enum err_code begin_checked(struct meta *base, const char *account, const char *id,
				   const struct meta_cond *cond, struct pool *pool,
				   struct conn **c, struct meta_resource *cur, struct err *e)
{
	enum err_code rc = conn_get((struct meta_sqlite *)base, c, e);
	if (rc != ERR_OK || (rc = exec_simple(*c, S_BEGIN, e)) != ERR_OK)
		return rc;
	if ((rc = get_on(*c, account, id, pool, cur, e)) != ERR_OK ||
	    (rc = meta_cond_check(cur, cond, e)) != ERR_OK)
		rollback(*c);
	return rc;
}

/* Turns the test value on (from the live content) or off, when that changes anything. */
static enum err_code toggle_test(struct conn *c, const struct meta_update *u,
				 const struct meta_resource *cur, struct err *e)
{
	sqlite3_stmt *st;
	if (!u->set_test_enabled || u->test_enabled == cur->test_enabled)
		return ERR_OK;
	enum err_code rc = stmt(c, u->test_enabled ? S_TEST_ENABLE : S_TEST_DISABLE, &st, e);
	if (rc != ERR_OK)
		return rc;
	sqlite3_bind_int64(st, 1, cur->nid);
	if ((rc = exec_done(c, st, "test value", e)) != ERR_OK || u->test_enabled)
		return rc;
	if (u->dropped_key != NULL)
		*u->dropped_key = cur->test.storage_key;
	return inline_drop_unused(c, cur->test.storage_key, e);
}

/* Points the row (or its test value) at nc, whose content was at before until now; the version
 * goes up by step (0 when an update's own statement counts this write). */
static enum err_code content_write(struct conn *c, const char *account, const char *id,
				   const struct meta_content *nc, const char *before, int step,
				   struct err *e)
{
	sqlite3_stmt *st;
	enum err_code rc = stmt(c, nc->test_value ? S_SET_TEST_CONTENT : S_SET_CONTENT, &st, e);
	if (rc != ERR_OK)
		return rc;
	bind_text(st, 1, nc->sha256);
	sqlite3_bind_int64(st, 2, nc->size_bytes);
	bind_text(st, 3, nc->mime_type);
	bind_text(st, 4, nc->storage_bucket);
	bind_text(st, 5, nc->storage_key);
	sqlite3_bind_int64(st, 6, nc->updated_at_us);
	bind_text(st, 7, account);
	bind_text(st, 8, id);
	bind_text(st, 9, nc->file_name);
	if (!nc->test_value)
		bind_text(st, 10, nc->external_id);
	sqlite3_bind_int(st, 11, step);
	if ((rc = exec_done(c, st, "set content", e)) != ERR_OK)
		return rc;
	if (nc->inline_bytes != NULL &&
	    (rc = inline_put(c, nc->storage_key, nc->inline_bytes, nc->inline_len, e)) != ERR_OK)
		return rc;
	return inline_drop_unused(c, before, e);
}

static enum err_code sq_update(struct meta *base, const char *account, const char *id,
			       const struct meta_update *u, const struct meta_cond *cond,
			       struct pool *pool, struct meta_resource *out, struct err *e)
{
	struct conn *c;
	sqlite3_stmt *st;
	struct meta_resource cur;
	const char *access, *before = NULL;
	bool noop, rewrite_shares;
	if (u->dropped_key != NULL)
		*u->dropped_key = NULL;
	enum err_code rc = begin_checked(base, account, id, cond, pool, &c, &cur, e);
	if (rc != ERR_OK)
		return rc;
	if ((rc = meta_update_check(&cur, u, &noop, &access, &rewrite_shares, e)) != ERR_OK ||
	    (u->content != NULL &&
	     (rc = meta_update_content_check(&cur, u, &before, e)) != ERR_OK))
		goto fail;
	/* Nothing to change (an empty body, or confirming what is confirmed): no new version. */
	if (noop) {
		*out = cur;
		return exec_simple(c, S_COMMIT, e);
	}
	if ((rc = stmt(c, S_UPDATE, &st, e)) != ERR_OK)
		goto fail;
	sqlite3_bind_int(st, 1, u->set_name);
	bind_text(st, 2, u->name);
	sqlite3_bind_int(st, 3, u->set_directory_path);
	bind_text(st, 4, u->directory_path);
	sqlite3_bind_int(st, 5, u->set_metadata);
	bind_text(st, 6, u->metadata_json);
	sqlite3_bind_int64(st, 7, u->updated_at_us);
	bind_text(st, 8, account);
	bind_text(st, 9, id);
	sqlite3_bind_int(st, 10, u->confirm_upload);
	sqlite3_bind_int(st, 11, u->set_description);
	bind_text(st, 12, u->description);
	bind_text(st, 13, access);
	sqlite3_bind_int(st, 14, u->set_tags);
	if (u->set_tags)
		bind_text(st, 15, meta_join(u->tags, u->ntags, pool));
	sqlite3_bind_int(st, 16, rewrite_shares);
	if (rewrite_shares && u->set_shared_with)
		bind_text(st, 17, meta_join(u->shared_with, u->nshared, pool));
	if ((rc = exec_done(c, st, "update", e)) != ERR_OK)
		goto fail;
	if (u->set_tags) {
		if ((rc = stmt(c, S_DELETE_TAGS, &st, e)) != ERR_OK)
			goto fail;
		sqlite3_bind_int64(st, 1, cur.nid);
		if ((rc = exec_done(c, st, "delete tags", e)) != ERR_OK ||
		    (rc = insert_tags(c, cur.nid, u->tags, u->ntags, e)) != ERR_OK)
			goto fail;
	}
	if (rewrite_shares &&
	    (rc = write_shares(c, cur.nid, u->set_shared_with ? u->shared_with : NULL,
			       u->set_shared_with ? u->nshared : 0, true, e)) != ERR_OK)
		goto fail;
	if ((rc = toggle_test(c, u, &cur, e)) != ERR_OK ||
	    (u->content != NULL &&
	     (rc = content_write(c, account, id, u->content, before, 0, e)) != ERR_OK) ||
	    (rc = get_on(c, account, id, pool, out, e)) != ERR_OK ||
	    (rc = exec_simple(c, S_COMMIT, e)) != ERR_OK)
		goto fail;
	bump(base, account);
	if (u->content != NULL)
		*u->content_old_key = before;
	return ERR_OK;
fail:
	if (u->dropped_key != NULL)
		*u->dropped_key = NULL;
	rollback(c);
	return rc;
}

static enum err_code sq_set_content(struct meta *base, const char *account, const char *id,
				    const struct meta_content *nc, const struct meta_cond *cond,
				    struct pool *pool, struct meta_resource *out,
				    const char **old_key, struct err *e)
{
	struct conn *c;
	struct meta_resource cur;
	enum err_code rc = begin_checked(base, account, id, cond, pool, &c, &cur, e);
	if (rc != ERR_OK)
		return rc;
	const char *before = nc->test_value ? cur.test.storage_key : cur.storage_key;
	if ((rc = meta_content_check(&cur, nc, e)) != ERR_OK ||
	    (rc = content_write(c, account, id, nc, before, 1, e)) != ERR_OK ||
	    (rc = get_on(c, account, id, pool, out, e)) != ERR_OK ||
	    (rc = exec_simple(c, S_COMMIT, e)) != ERR_OK)
		goto fail;
	bump(base, account);
	*old_key = before;
	return ERR_OK;
fail:
	rollback(c);
	return rc;
}

static enum err_code key_used_on(struct conn *c, const char *key, bool *used, struct err *e)
{
	sqlite3_stmt *st;
	enum err_code rc = stmt(c, S_KEY_USED, &st, e);
	if (rc != ERR_OK)
		return rc;
	bind_text(st, 1, key);
	int s = sqlite3_step(st);
	sqlite3_reset(st);
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		return db_err(c->db, s, "key used", e);
	*used = s == SQLITE_ROW;
	return ERR_OK;
}

static enum err_code sq_delete(struct meta *base, const char *account, const char *id,
			       const struct meta_cond *cond, struct pool *pool,
			       struct meta_resource *out, bool *key_still_used, struct err *e)
{
	struct conn *c;
	sqlite3_stmt *st;
	enum err_code rc = begin_checked(base, account, id, cond, pool, &c, out, e);
	if (rc != ERR_OK)
		return rc;
	if ((rc = stmt(c, S_DELETE, &st, e)) != ERR_OK)
		goto fail;
	bind_text(st, 1, account);
	bind_text(st, 2, id);
	if ((rc = exec_done(c, st, "delete", e)) != ERR_OK)
		goto fail;
	if ((rc = key_used_on(c, out->storage_key, key_still_used, e)) != ERR_OK ||
	    (rc = inline_drop_unused(c, out->storage_key, e)) != ERR_OK ||
	    (rc = inline_drop_unused(c, out->test.storage_key, e)) != ERR_OK)
		goto fail;
	if ((rc = exec_simple(c, S_COMMIT, e)) != ERR_OK)
		goto fail;
	bump(base, account);
	return ERR_OK;
fail:
	rollback(c);
	return rc;
}

static void bind_filters(sqlite3_stmt *st, const struct meta_query *q, char *upper,
			 char *tags_json)
{
	bind_text(st, 1, q->account_id);
	sqlite3_bind_int64(st, 2, q->created_after_us);
	sqlite3_bind_int64(st, 3, q->created_before_us);
	if (q->directory_prefix != NULL) {
		bind_text(st, 4, q->directory_prefix);
		sqlite3_bind_text(st, 5, upper, -1, SQLITE_STATIC);
	}
	if (q->ntags > 0) {
		bind_text(st, 6, tags_json);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)q->ntags);
	}
	bind_text(st, 10, q->status ? q->status : META_STATUS_UPLOADED);
	if (q->owner != META_OWNER_ME)
		sqlite3_bind_int64(st, 13, q->owner_nid);
}

/* Runs a count statement of the list filters into *n. */
static enum err_code count_rows(struct conn *c, enum stmt s, const struct meta_query *q,
				char *upper, char *tags_json, int64_t *n, struct err *e)
{
	sqlite3_stmt *st;
	enum err_code rc = stmt(c, s, &st, e);
	if (rc != ERR_OK)
		return rc;
	bind_filters(st, q, upper, tags_json);
	int step = sqlite3_step(st);
	*n = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return step == SQLITE_ROW ? ERR_OK : db_err(c->db, step, "count", e);
}

/* The total of q. The own rows' count is cached until the account's next write; rows other
 * accounts share change with their writes, so their count is never cached. */
static enum err_code list_total(struct meta_sqlite *m, struct conn *c, const struct meta_query *q,
				int variant, char *upper, char *tags_json, const char *count_key,
				uint64_t gen, int64_t *total, struct err *e)
{
	int64_t own = 0, shared = 0;
	enum err_code rc = ERR_OK;
	if (q->owner != META_OWNER_SHARED && !count_get(m, count_key, gen, &own)) {
		if ((rc = count_rows(c, S_COUNT + variant, q, upper, tags_json, &own, e)) != ERR_OK)
			return rc;
		count_put(m, count_key, gen, own);
	}
	if (q->owner != META_OWNER_ME)
		rc = count_rows(c, S_COUNT_SHARED + variant, q, upper, tags_json, &shared, e);
	*total = own + shared;
	return rc;
}

static enum err_code sq_list(struct meta *base, const struct meta_query *q, struct pool *pool,
			     struct meta_page *out, struct err *e)
{
	struct conn *c;
	sqlite3_stmt *st;
	enum err_code rc = conn_get((struct meta_sqlite *)base, &c, e);
	if (rc != ERR_OK)
		return rc;
	/* No UTF-8 text holds the byte 0xff, so prefix + 0xff bounds every extension; no
	 * directory_path holds a control character, so path + 0x01 bounds the path alone. */
	char *upper = q->directory_prefix ? pool_printf(pool, "%s%s", q->directory_prefix,
							q->directory_exact ? "\x01" : "\xff")
					  : NULL;
	char *tags_json = NULL;
	if (q->ntags > 0) {
		json_t *arr = json_array();
		for (size_t i = 0; i < q->ntags; i++)
			json_array_append_new(arr, json_string(q->tags[i]));
		char *s = json_dumps(arr, JSON_COMPACT);
		json_decref(arr);
		if (s == NULL)
			xalloc_die();
		tags_json = pool_strdup(pool, s);
		free(s);
	}
	int variant = (q->directory_prefix ? V_PREFIX : 0) | (q->ntags ? V_TAGS : 0);

	struct meta_sqlite *m = (struct meta_sqlite *)base;
	const char *count_key = pool_printf(
		pool, "%s\x1f%s%s\x1f%s\x1f%lld\x1f%lld\x1f%s", q->account_id,
		q->directory_prefix ? q->directory_prefix : "\x1e",
		q->directory_exact ? "\x1d" : "",
		tags_json ? tags_json : "", (long long)q->created_after_us,
		(long long)q->created_before_us, q->status ? q->status : META_STATUS_UPLOADED);
	/* Read before the snapshot: a write that lands meanwhile makes this entry stale at once. */
	uint64_t gen = atomic_load(gen_of(m, q->account_id));
	int s;

	/* Count and page in one read snapshot, so total and items agree. */
	if ((rc = exec_simple(c, S_BEGIN_READ, e)) != ERR_OK)
		return rc;
	if ((rc = list_total(m, c, q, variant, upper, tags_json, count_key, gen, &out->total,
			     e)) != ERR_OK)
		goto done;

	out->nitems = 0;
	out->items = pool_alloc(pool, (size_t)(q->limit > 0 ? q->limit : 1) * sizeof(*out->items));
	variant |= (q->has_cursor ? V_CURSOR : 0) | (q->sort == META_SORT_ASC ? V_ASC : 0);
	if ((rc = stmt(c, S_LIST + (int)q->owner * V_MODE + variant, &st, e)) != ERR_OK)
		goto done;
	bind_filters(st, q, upper, tags_json);
	if (q->ntags > 0)
		bind_text(st, 14, meta_join(q->tags, q->ntags, pool));
	if (q->has_cursor) {
		/* SQLite does not seek on the row value (created_at, id) < (?, ?): narrowing the plain
		 * created_at range to the cursor's time lets the index start at the cursor, so a deep
		 * page costs what page 1 costs. The row value still settles ties. */
		if (q->sort == META_SORT_DESC && q->cursor_created_us < INT64_MAX &&
		    q->cursor_created_us + 1 < q->created_before_us)
			sqlite3_bind_int64(st, 3, q->cursor_created_us + 1);
		if (q->sort == META_SORT_ASC && q->cursor_created_us > INT64_MIN &&
		    q->cursor_created_us - 1 > q->created_after_us)
			sqlite3_bind_int64(st, 2, q->cursor_created_us - 1);
	}
	sqlite3_bind_int64(st, 8, q->limit + 1); /* one more, to know whether a next page exists */
	sqlite3_bind_int64(st, 9, q->has_cursor ? 0 : q->offset);
	if (q->has_cursor) {
		sqlite3_bind_int64(st, 11, q->cursor_created_us);
		bind_text(st, 12, q->cursor_id);
	}
	out->has_more = false;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (out->nitems == (size_t)q->limit) {
			out->has_more = true;
			break;
		}
		read_row(st, pool, &out->items[out->nitems++]);
	}
	sqlite3_reset(st);
	if (s != SQLITE_DONE && s != SQLITE_ROW)
		rc = db_err(c->db, s, "list", e);
	else
		rc = fill_folders(c, out->items, out->nitems, pool, e);
done:
	if (rc == ERR_OK)
		rc = exec_simple(c, S_COMMIT, e);
	if (rc != ERR_OK)
		rollback(c);
	return rc;
}

static enum err_code sq_inline_get(struct meta *base, const char *key, struct pool *pool,
				   const unsigned char **bytes, size_t *len, struct err *e)
{
	struct conn *c;
	sqlite3_stmt *st;
	enum err_code rc = conn_get((struct meta_sqlite *)base, &c, e);
	if (rc != ERR_OK || (rc = stmt(c, S_INLINE_GET, &st, e)) != ERR_OK)
		return rc;
	bind_text(st, 1, key);
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		*len = (size_t)sqlite3_column_bytes(st, 0);
		unsigned char *copy = pool_alloc(pool, *len ? *len : 1);
		if (*len)
			memcpy(copy, sqlite3_column_blob(st, 0), *len);
		*bytes = copy;
	}
	sqlite3_reset(st);
	if (s == SQLITE_ROW)
		return ERR_OK;
	return s == SQLITE_DONE ? err_set(e, ERR_NOT_FOUND, "inline content is missing")
				: db_err(c->db, s, "inline get", e);
}

static enum err_code sq_key_used(struct meta *base, const char *key, bool *used, struct err *e)
{
	struct conn *c;
	enum err_code rc = conn_get((struct meta_sqlite *)base, &c, e);
	return rc != ERR_OK ? rc : key_used_on(c, key, used, e);
}

static enum err_code sq_account_nid(struct meta *base, const char *account, int64_t *nid,
				    struct err *e)
{
	struct conn *c;
	sqlite3_stmt *st;
	enum err_code rc = conn_get((struct meta_sqlite *)base, &c, e);
	if (rc != ERR_OK || (rc = stmt(c, S_ACCOUNT_NID, &st, e)) != ERR_OK)
		return rc;
	for (int attempt = 0; attempt < 2; attempt++) {
		bind_text(st, 1, account);
		int s = sqlite3_step(st);
		*nid = s == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
		sqlite3_reset(st);
		if (s == SQLITE_ROW)
			return ERR_OK;
		if (s != SQLITE_DONE)
			return db_err(c->db, s, "account id", e);
		/* First use: one insert in its own transaction, then read it back. */
		if (attempt == 0 && (rc = exec_text(c, S_ENSURE_ACCOUNT, "account", account, e)) != ERR_OK)
			return rc;
	}
	return err_set(e, ERR_INTERNAL, "account id of %s was not recorded", account);
}

static enum err_code sq_nids(struct meta *base, const char *account, const char *user,
			     int64_t *account_nid, int64_t *user_nid, struct err *e)
{
	struct conn *c;
	sqlite3_stmt *st;
	enum err_code rc = conn_get((struct meta_sqlite *)base, &c, e);
	if (rc != ERR_OK || (rc = stmt(c, S_NIDS, &st, e)) != ERR_OK)
		return rc;
	bind_text(st, 1, account);
	bind_text(st, 2, user);
	int s = sqlite3_step(st);
	*account_nid = s == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	*user_nid = s == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
	sqlite3_reset(st);
	return s == SQLITE_ROW ? ERR_OK : db_err(c->db, s, "numeric ids", e);
}

static void read_folder(sqlite3_stmt *st, struct pool *pool, struct meta_folder *f)
{
	f->id = sqlite3_column_int64(st, 0);
	f->account_id = col_text(st, 1, pool);
	f->path = col_text(st, 2, pool);
	f->created_at_us = sqlite3_column_int64(st, 3);
}

static enum err_code sq_folder_get(struct meta *base, const char *account, int64_t id,
				   struct pool *pool, struct meta_folder *out, struct err *e)
{
	struct conn *c;
	sqlite3_stmt *st;
	enum err_code rc = conn_get((struct meta_sqlite *)base, &c, e);
	if (rc != ERR_OK || (rc = stmt(c, S_FOLDER_GET, &st, e)) != ERR_OK)
		return rc;
	bind_text(st, 1, account);
	sqlite3_bind_int64(st, 2, id);
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW)
		read_folder(st, pool, out);
	sqlite3_reset(st);
	if (s == SQLITE_ROW)
		return ERR_OK;
	return s == SQLITE_DONE ? err_set(e, ERR_NOT_FOUND, "folder not found")
				: db_err(c->db, s, "folder get", e);
}

static enum err_code sq_folder_create(struct meta *base, const char *account, const char *path,
				      int64_t created_at_us, struct pool *pool,
				      struct meta_folder *out, struct err *e)
{
	struct conn *c;
	sqlite3_stmt *st;
	enum err_code rc = conn_get((struct meta_sqlite *)base, &c, e);
	if (rc != ERR_OK || (rc = stmt(c, S_FOLDER_INSERT, &st, e)) != ERR_OK)
		return rc;
	bind_text(st, 1, account);
	bind_text(st, 2, path);
	sqlite3_bind_int64(st, 3, created_at_us);
	if ((rc = exec_done(c, st, "folder insert", e)) == ERR_CONFLICT)
		return err_set(e, ERR_CONFLICT, "a folder at '%s' already exists", path);
	if (rc != ERR_OK)
		return rc;
	bump(base, account); /* a listed row shows its folder's id */
	return sq_folder_get(base, account, sqlite3_last_insert_rowid(c->db), pool, out, e);
}

static enum err_code sq_folder_list(struct meta *base, const char *account, int64_t offset,
				    int64_t limit, struct pool *pool, struct meta_folder_page *out,
				    struct err *e)
{
	struct conn *c;
	sqlite3_stmt *st;
	int s;
	enum err_code rc = conn_get((struct meta_sqlite *)base, &c, e);
	if (rc != ERR_OK || (rc = exec_simple(c, S_BEGIN_READ, e)) != ERR_OK)
		return rc;
	if ((rc = stmt(c, S_FOLDER_COUNT, &st, e)) != ERR_OK)
		goto done;
	bind_text(st, 1, account);
	s = sqlite3_step(st);
	out->total = s == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (s != SQLITE_ROW) {
		rc = db_err(c->db, s, "folder count", e);
		goto done;
	}
	if ((rc = stmt(c, S_FOLDER_LIST, &st, e)) != ERR_OK)
		goto done;
	bind_text(st, 1, account);
	sqlite3_bind_int64(st, 2, limit);
	sqlite3_bind_int64(st, 3, offset);
	out->nitems = 0;
	out->items = pool_alloc(pool, (size_t)(limit > 0 ? limit : 1) * sizeof(*out->items));
	while (out->nitems < (size_t)limit && (s = sqlite3_step(st)) == SQLITE_ROW)
		read_folder(st, pool, &out->items[out->nitems++]);
	sqlite3_reset(st);
	if (out->nitems < (size_t)limit && s != SQLITE_DONE)
		rc = db_err(c->db, s, "folder list", e);
done:
	if (rc == ERR_OK)
		rc = exec_simple(c, S_COMMIT, e);
	if (rc != ERR_OK)
		rollback(c);
	return rc;
}

static enum err_code migrate(struct conn *c, struct err *e)
{
	enum err_code rc = exec_simple(c, S_BEGIN, e);
	if (rc != ERR_OK)
		return rc;
	sqlite3_stmt *st;
	int version = 0;
	if (sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			version = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	if (version > NMIGRATIONS) {
		rollback(c);
		return err_set(e, ERR_INVALID,
			       "database schema version %d is newer than this depotd (%d)",
			       version, NMIGRATIONS);
	}
	for (int v = version; v < NMIGRATIONS; v++) {
		char *msg = NULL;
		int s = sqlite3_exec(c->db, migrations[v], NULL, NULL, &msg);
		if (s != SQLITE_OK) {
			err_set(e, ERR_INTERNAL, "migration %d: %s", v + 1, msg ? msg : "?");
			sqlite3_free(msg);
			rollback(c);
			return ERR_INTERNAL;
		}
		char pragma[64];
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
		sqlite3_exec(c->db, pragma, NULL, NULL, NULL);
		log_info("meta: applied migration %d", v + 1);
	}
	return exec_simple(c, S_COMMIT, e);
}

static void sq_close(struct meta *base)
{
	struct meta_sqlite *m = (struct meta_sqlite *)base;
	pthread_key_delete(m->key);
	for (int i = 0; i < COUNT_SLOTS; i++)
		free(m->counts[i].key);
	pthread_mutex_destroy(&m->count_lock);
	while (m->conns) {
		struct conn *c = m->conns;
		m->conns = c->next;
		conn_free(c);
	}
	pthread_mutex_destroy(&m->lock);
	free(m->path);
	free(m);
}

/* SQLite keeps allocation statistics behind one process-wide mutex that every sqlite3_malloc
 * takes: with a connection per worker thread, GET by id spent most of its futex calls there.
 * Nothing in depot reads those statistics. Only possible before SQLite initialises. */
static void no_memstatus(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static enum err_code sq_open(const char *path, struct meta **out, struct err *e)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, no_memstatus);
	if (sqlite3_threadsafe() == 0)
		return err_set(e, ERR_INTERNAL, "sqlite was built without thread support");
	struct meta_sqlite *m = xcalloc(1, sizeof(*m));
	m->base.ops = &meta_sqlite_ops;
	m->path = xstrdup(path);
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->count_lock, NULL);
	if (pthread_key_create(&m->key, conn_destroy) != 0) {
		free(m->path);
		free(m);
		return err_set(e, ERR_INTERNAL, "pthread_key_create failed");
	}
	struct conn *c;
	enum err_code rc = conn_get(m, &c, e);
	if (rc == ERR_OK)
		rc = migrate(c, e);
	if (rc != ERR_OK) {
		sq_close(&m->base);
		return rc;
	}
	*out = &m->base;
	return ERR_OK;
}

const struct meta_ops meta_sqlite_ops = {
	.scheme = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.create = sq_create,
	.create_batch = sq_create_batch,
	.get = sq_get,
	.get_visible = sq_get_visible,
	.get_by_nid = sq_get_by_nid,
	.update = sq_update,
	.set_content = sq_set_content,
	.del = sq_delete,
	.list = sq_list,
	.list_generation = sq_list_generation,
	.inline_get = sq_inline_get,
	.key_used = sq_key_used,
	.account_nid = sq_account_nid,
	.nids = sq_nids,
	.folder_create = sq_folder_create,
	.folder_get = sq_folder_get,
	.folder_list = sq_folder_list,
};
