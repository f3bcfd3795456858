/* The PostgreSQL metadata store: one libpq connection per thread (opened on first use, reopened
 * by the next call after it broke), every statement from the fixed table below prepared once per
 * connection, numbered migrations applied at open under an advisory lock so that several depotd
 * may start at once. libpq's errors are turned into err codes here and nowhere else. The URL
 * may hold a password: it is handed to libpq and never written anywhere else. */
#include "meta/meta_int.h"
#include "core/log.h"
#include "core/xalloc.h"

#include <errno.h>
#include <limits.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the schema, one migration per entry; schema_migrations lists the applied ones ---- */

/* Text that is compared or sorted is COLLATE "C": byte order, as SQLite's BINARY, whatever the
 * database's locale. Tags are a sorted array on the row (one GIN index answers "has all these
 * tags"); times are microseconds since the epoch, as in SQLite. */
static const char *const migrations[] = {
	/* 1: what SQLite's migrations 1-4 built: resources with status and version, the list
	 * index, inline content */
	"CREATE TABLE resources ("
	"  id text COLLATE \"C\" PRIMARY KEY,"
	"  account_id text COLLATE \"C\" NOT NULL,"
	"  name text COLLATE \"C\" NOT NULL,"
	"  directory_path text COLLATE \"C\" NOT NULL,"
	"  mime_type text NOT NULL,"
	"  sha256 text NOT NULL,"
	"  size_bytes bigint NOT NULL,"
	"  original_uri text,"
	"  external_id text,"
	"  external_storage_type text,"
	"  storage_bucket text NOT NULL,"
	"  storage_key text COLLATE \"C\" NOT NULL,"
	"  metadata text,"
	"  created_by text,"
	"  created_at bigint NOT NULL,"
	"  updated_at bigint NOT NULL,"
	"  status text COLLATE \"C\" NOT NULL DEFAULT 'uploaded',"
	"  version bigint NOT NULL DEFAULT 1,"
	"  tags text[] COLLATE \"C\" NOT NULL DEFAULT '{}');"
	/* Names are unique per directory; the same index serves directory_prefix ranges, and its
	 * included columns let a prefix count be answered from the index alone. */
	"CREATE UNIQUE INDEX resources_name ON resources (account_id, directory_path, name)"
	"  INCLUDE (status, created_at);"
	"CREATE INDEX resources_list ON resources (account_id, status, created_at, id);"
	"CREATE INDEX resources_storage_key ON resources (storage_key);"
	"CREATE INDEX resources_tags ON resources USING gin (tags);"
	"CREATE TABLE inline_blobs ("
	"  storage_key text COLLATE \"C\" PRIMARY KEY,"
	"  bytes bytea NOT NULL);",
	/* 2: what SQLite's migration 5 built: numeric ids of resources (nid, from a sequence,
	 * which never goes back), of accounts and of users; descriptions, sharing, test values,
	 * folders. Existing rows are numbered in creation order. */
	"CREATE SEQUENCE resource_nid_seq;"
	"ALTER TABLE resources ADD COLUMN nid bigint,"
	"  ADD COLUMN description text,"
	"  ADD COLUMN read_access text COLLATE \"C\" NOT NULL DEFAULT 'TEAM',"
	"  ADD COLUMN file_name text,"
	"  ADD COLUMN test_enabled boolean NOT NULL DEFAULT false,"
	"  ADD COLUMN test_sha256 text,"
	"  ADD COLUMN test_size_bytes bigint,"
	"  ADD COLUMN test_mime_type text,"
	"  ADD COLUMN test_storage_bucket text,"
	"  ADD COLUMN test_storage_key text COLLATE \"C\","
	"  ADD COLUMN test_file_name text;"
	"UPDATE resources r SET nid = o.n FROM (SELECT id,"
	"  row_number() OVER (ORDER BY created_at, id) AS n FROM resources) o WHERE r.id = o.id;"
	"SELECT setval('resource_nid_seq', coalesce(max(nid), 0) + 1, false) FROM resources;"
	"ALTER SEQUENCE resource_nid_seq OWNED BY resources.nid;"
	"ALTER TABLE resources ALTER COLUMN nid SET NOT NULL,"
	"  ALTER COLUMN nid SET DEFAULT nextval('resource_nid_seq'),"
	"  ADD CONSTRAINT resources_nid UNIQUE (nid);"
	"CREATE INDEX resources_test_storage_key ON resources (test_storage_key);"
	"CREATE INDEX resources_global ON resources (read_access, status, created_at, id)"
	"  WHERE read_access = 'GLOBAL';"
	"CREATE TABLE resource_shares ("
	"  account_id text COLLATE \"C\" NOT NULL,"
	"  rid bigint NOT NULL REFERENCES resources (nid) ON DELETE CASCADE,"
	"  PRIMARY KEY (account_id, rid));"
	"CREATE INDEX resource_shares_rid ON resource_shares (rid);"
	"CREATE TABLE folders ("
	"  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	"  account_id text COLLATE \"C\" NOT NULL,"
	"  path text COLLATE \"C\" NOT NULL,"
	"  created_at bigint NOT NULL,"
	"  UNIQUE (account_id, path));"
	"CREATE TABLE accounts ("
	"  nid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	"  account_id text COLLATE \"C\" NOT NULL UNIQUE);"
	"CREATE TABLE users ("
	"  nid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	"  sub text COLLATE \"C\" NOT NULL UNIQUE);"
	"INSERT INTO accounts (account_id)"
	"  SELECT account_id FROM resources GROUP BY account_id ORDER BY min(nid);"
	"INSERT INTO users (sub) SELECT created_by FROM resources WHERE created_by IS NOT NULL"
	"  GROUP BY created_by ORDER BY min(nid);",
	/* 3: SQLite's migration 6: a row's shares also on the row, sorted as its tags are, so a
	 * read takes them from the row; resource_shares stays the index of the SPECIFIC_TEAMS
	 * lists */
	"ALTER TABLE resources ADD COLUMN shares text[] COLLATE \"C\" NOT NULL DEFAULT '{}';"
	"UPDATE resources r SET shares = s.a FROM (SELECT rid,"
	"  array_agg(account_id ORDER BY account_id) AS a FROM resource_shares GROUP BY rid) s"
	"  WHERE r.nid = s.rid;",
};
#define NMIGRATIONS (int)(sizeof(migrations) / sizeof(migrations[0]))

/* pg_advisory_xact_lock(MIGRATE_LOCK): the two-int key space, apart from lock_keys' bigints. */
#define MIGRATE_LOCK "1684369524, 1"

/* ---- every statement depot runs, fixed at compile time ---- */
/* The row and its folder's id (an index probe here costs less than a round trip after); the
 * numeric ids of account and creator only on request (pg_nids). */
#define COLS                                                                                   \
	"r.id, r.account_id, r.name, r.directory_path, r.mime_type, r.sha256, r.size_bytes,"   \
	" r.original_uri, r.external_id, r.external_storage_type, r.storage_bucket,"           \
	" r.storage_key, r.metadata, r.created_by, r.created_at, r.updated_at,"                \
	" array_to_string(r.tags, chr(31)), r.status, r.version, r.nid, r.description,"        \
	" r.read_access, array_to_string(r.shares, chr(31)),"                                   \
	" r.file_name, r.test_enabled, r.test_sha256, r.test_size_bytes, r.test_mime_type,"    \
	" r.test_storage_bucket, r.test_storage_key, r.test_file_name,"                        \
	" coalesce((SELECT f.id FROM folders f WHERE f.account_id = r.account_id"              \
	"   AND f.path = r.directory_path), 0) "

/* What another account ($1) may read: GLOBAL, or SPECIFIC_TEAMS naming it. */
#define SHARED_WITH_1                                                                          \
	"(r.read_access = 'GLOBAL' OR (r.read_access = 'SPECIFIC_TEAMS' AND EXISTS"             \
	" (SELECT 1 FROM resource_shares s WHERE s.account_id = $1 AND s.rid = r.nid)))"

/* A text[] parameter as a sorted array without duplicates, in byte order. */
#define SORTED_TAGS(n)                                                                         \
	"ARRAY(SELECT DISTINCT t COLLATE \"C\" FROM unnest(" n ") AS u(t) ORDER BY 1)"

/* A row and, in the same statement, its inline content ($19, NULL for none), its shares ($31)
 * and the numeric ids of its account and creator when they are new. Its nid is $20, or the
 * sequence's next when NULL. Taking the content's row lock (DO UPDATE) even when identical
 * bytes are there already makes a delete of the last other user wait for this transaction, so
 * it sees this row and keeps the bytes. An account or user seen before takes no number from
 * its sequence (NOT EXISTS): only a race of two first uses leaves a gap. */
#define INSERT_ROW(on_conflict)                                                                \
	"WITH ins AS (INSERT INTO resources (id, account_id, name, directory_path, mime_type,"  \
	" sha256, size_bytes, original_uri, external_id, external_storage_type, storage_bucket," \
	" storage_key, metadata, created_by, created_at, updated_at, status, version, tags, nid," \
	" description, read_access, file_name, test_enabled, test_sha256, test_size_bytes,"    \
	" test_mime_type, test_storage_bucket, test_storage_key, test_file_name, shares)"      \
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 1," \
	" " SORTED_TAGS("$18") ", coalesce($20, nextval('resource_nid_seq')), $21, $22, $23,"   \
	" $24, $25, $26, $27, $28, $29, $30, " SORTED_TAGS("$31") ")" on_conflict              \
	" RETURNING storage_key, nid, account_id, created_by),"                                 \
	" blob AS (INSERT INTO inline_blobs (storage_key, bytes) SELECT storage_key, $19 FROM ins" \
	" WHERE $19 IS NOT NULL"                                                                \
	" ON CONFLICT (storage_key) DO UPDATE SET bytes = inline_blobs.bytes),"                 \
	" shr AS (INSERT INTO resource_shares (account_id, rid)"                                \
	" SELECT DISTINCT u.a, ins.nid FROM ins, unnest($31) AS u(a)),"                         \
	" acc AS (INSERT INTO accounts (account_id) SELECT account_id FROM ins WHERE NOT EXISTS" \
	" (SELECT 1 FROM accounts a WHERE a.account_id = ins.account_id)"                      \
	" ON CONFLICT (account_id) DO NOTHING),"                                                \
	" usr AS (INSERT INTO users (sub) SELECT created_by FROM ins WHERE created_by IS NOT NULL" \
	" AND NOT EXISTS (SELECT 1 FROM users u WHERE u.sub = ins.created_by)"                  \
	" ON CONFLICT (sub) DO NOTHING)"                                                        \
	" SELECT count(*) FROM ins"
#define ROW_TYPES "ttttttitttttttiitaxitttbtitttta"

/* List filters: $1 account (the reader), $2 after, $3 before, $4/$5 prefix range, $6 tags,
 * $7 limit, $8 offset, $9 status, $10/$11 the cursor's (created_at, id), $12 the owner's nid
 * of shared rows (0: any). Each arm of a list is one kind of row the reader may see: its own
 * (the indexed path), GLOBAL ones of other accounts (a partial index), SPECIFIC_TEAMS ones
 * naming it (its share rows). */
#define A_OWN                                                                                  \
	" FROM resources r WHERE r.account_id = $1 AND r.created_at > $2 AND r.created_at < $3" \
	" AND r.status = $9"
#define W_OWNER                                                                                \
	" AND ($12 = 0 OR r.account_id = (SELECT a.account_id FROM accounts a WHERE a.nid = $12))"
#define A_GLOBAL                                                                               \
	" FROM resources r WHERE r.read_access = 'GLOBAL' AND r.status = $9"                    \
	" AND r.created_at > $2 AND r.created_at < $3 AND r.account_id <> $1" W_OWNER
#define A_SPECIFIC                                                                             \
	" FROM resources r WHERE r.nid IN (SELECT s.rid FROM resource_shares s"                 \
	" WHERE s.account_id = $1) AND r.read_access = 'SPECIFIC_TEAMS' AND r.status = $9"      \
	" AND r.created_at > $2 AND r.created_at < $3 AND r.account_id <> $1" W_OWNER
#define W_PREFIX " AND r.directory_path >= $4 AND r.directory_path < $5"
#define W_TAGS " AND r.tags @> $6"
#define W_AFTER_DESC " AND (r.created_at, r.id) < ($10, $11)"
#define W_AFTER_ASC " AND (r.created_at, r.id) > ($10, $11)"
#define O_DESC " ORDER BY r.created_at DESC, r.id DESC LIMIT $7 OFFSET $8"
#define O_ASC " ORDER BY r.created_at ASC, r.id ASC LIMIT $7 OFFSET $8"
/* A compound list orders by result columns: 15 is created_at, 1 is id. */
#define OC_DESC " ORDER BY 15 DESC, 1 DESC LIMIT $7 OFFSET $8"
#define OC_ASC " ORDER BY 15 ASC, 1 ASC LIMIT $7 OFFSET $8"
#define ARM(a, pfx, tags, cur) "SELECT " COLS a pfx tags cur
#define LIST_ME(pfx, tags, cur, o) {"list", ARM(A_OWN, pfx, tags, cur) O_##o, LIST_TYPES}
#define LIST_SHARED(pfx, tags, cur, o)                                                         \
	{"list", ARM(A_GLOBAL, pfx, tags, cur) " UNION ALL " ARM(A_SPECIFIC, pfx, tags, cur)   \
	 OC_##o, LIST_TYPES}
#define LIST_ANY(pfx, tags, cur, o)                                                            \
	{"list", ARM(A_OWN, pfx, tags, cur) " UNION ALL " ARM(A_GLOBAL, pfx, tags, cur)        \
	 " UNION ALL " ARM(A_SPECIFIC, pfx, tags, cur) OC_##o, LIST_TYPES}
#define COUNT(where) {"count", "SELECT count(*)" A_OWN where, LIST_TYPES}
#define COUNT_SHARED(where)                                                                    \
	{"count", "SELECT (SELECT count(*)" A_GLOBAL where ") + (SELECT count(*)" A_SPECIFIC   \
	 where ")", LIST_TYPES}
#define LIST_TYPES "tiittaiititi"

/* One hash per distinct key, locked in ascending order (the sort runs before the locking
 * function, which is volatile), so two lockers of overlapping sets never deadlock. */
#define KEY_HASHES "(SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest($1) AS u(k)) s"

/* Variant bits of the list statements; the owner mode (enum meta_owner) picks a block of 16. */
enum { V_PREFIX = 1, V_TAGS = 2, V_CURSOR = 4, V_ASC = 8, V_MODE = 16 };

enum stmt {
	S_BEGIN,
	S_BEGIN_READ,
	S_COMMIT,
	S_ROLLBACK,
	S_INSERT,
	S_INSERT_NEW,
	S_GET,
	S_GET_LOCKED,
	S_GET_VISIBLE,
	S_GET_NID,
	S_UPDATE,
	S_DELETE_SHARES,
	S_INSERT_SHARES,
	S_TEST_ENABLE,
	S_TEST_DISABLE,
	S_SET_CONTENT,
	S_SET_TEST_CONTENT,
	S_DELETE,
	S_NIDS_NEXT,
	S_ACCOUNT_NID,
	S_NIDS,
	S_FOLDER_INSERT,
	S_FOLDER_GET,
	S_FOLDER_LIST,
	S_FOLDER_COUNT,
	S_KEY_USED,
	S_INLINE_PUT,
	S_INLINE_LOCK,
	S_INLINE_DROP_UNUSED,
	S_INLINE_GET,
	S_LOCK_KEYS,
	S_OLD_XACTS,
	S_UNLOCK_KEYS,
	S_LIST,                        /* + mode * V_MODE + V_* bits */
	S_COUNT = S_LIST + 3 * V_MODE, /* + V_PREFIX | V_TAGS: own rows */
	S_COUNT_SHARED = S_COUNT + 4,  /* + V_PREFIX | V_TAGS: rows shared with the reader */
	S_NSTMTS = S_COUNT_SHARED + 4,
};

struct stmt_def {
	const char *what; /* for messages */
	const char *sql;
	const char *types; /* one letter per $n: t text, i bigint, b boolean, a text[], x bytea */
};

static const struct stmt_def stmts[S_NSTMTS] = {
	/* Explicit, whatever the database's default: a locked row is re-read as committed. */
	[S_BEGIN] = {"begin", "BEGIN ISOLATION LEVEL READ COMMITTED", ""},
	/* Count and page of a list see one snapshot. */
	[S_BEGIN_READ] = {"begin", "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", ""},
	[S_COMMIT] = {"commit", "COMMIT", ""},
	[S_ROLLBACK] = {"rollback", "ROLLBACK", ""},
	[S_INSERT] = {"insert", INSERT_ROW(""), ROW_TYPES},
	[S_INSERT_NEW] = {"insert",
			  INSERT_ROW(" ON CONFLICT (account_id, directory_path, name) DO NOTHING"),
			  ROW_TYPES},
	[S_GET] = {"get", "SELECT " COLS "FROM resources r WHERE r.account_id = $1 AND r.id = $2",
		   "tt"},
	/* The row, locked until the transaction ends: the start of every conditional write. */
	[S_GET_LOCKED] = {"get", "SELECT " COLS "FROM resources r WHERE r.account_id = $1"
				 " AND r.id = $2 FOR UPDATE", "tt"},
	[S_GET_VISIBLE] = {"get", "SELECT " COLS "FROM resources r WHERE r.id = $2"
				  " AND (r.account_id = $1 OR " SHARED_WITH_1 ")", "tt"},
	[S_GET_NID] = {"get", "SELECT " COLS "FROM resources r WHERE r.nid = $2"
			      " AND (r.account_id = $1 OR " SHARED_WITH_1 ")", "ti"},
	/* The row is read back afterwards: its shares and test value may change after this. */
	[S_UPDATE] = {"update",
		      "UPDATE resources r SET"
		      " name = CASE WHEN $1 THEN $2 ELSE name END,"
		      " directory_path = CASE WHEN $3 THEN $4 ELSE directory_path END,"
		      " metadata = CASE WHEN $5 THEN $6 ELSE metadata END,"
		      " status = CASE WHEN $10 THEN 'uploaded' ELSE status END,"
		      " tags = CASE WHEN $11 THEN " SORTED_TAGS("$12") " ELSE tags END,"
		      " description = CASE WHEN $13 THEN $14 ELSE description END,"
		      " read_access = $15,"
		      " shares = CASE WHEN $16 THEN " SORTED_TAGS("$17") " ELSE shares END,"
		      " updated_at = $7, version = version + 1"
		      " WHERE account_id = $8 AND id = $9",
		      "btbtbtittbbabttba"},
	[S_DELETE_SHARES] = {"delete shares", "DELETE FROM resource_shares WHERE rid = $1", "i"},
	[S_INSERT_SHARES] = {"insert shares",
			     "INSERT INTO resource_shares (account_id, rid)"
			     " SELECT DISTINCT u.a, $1 FROM unnest($2) AS u(a)"
			     " ON CONFLICT DO NOTHING", "ia"},
	/* The test value starts as the live content (sharing its blob), and goes with the flag. */
	[S_TEST_ENABLE] = {"test value",
			   "UPDATE resources SET test_enabled = true, test_sha256 = sha256,"
			   " test_size_bytes = size_bytes, test_mime_type = mime_type,"
			   " test_storage_bucket = storage_bucket, test_storage_key = storage_key,"
			   " test_file_name = file_name WHERE nid = $1", "i"},
	[S_TEST_DISABLE] = {"test value",
			    "UPDATE resources SET test_enabled = false, test_sha256 = NULL,"
			    " test_size_bytes = NULL, test_mime_type = NULL,"
			    " test_storage_bucket = NULL, test_storage_key = NULL,"
			    " test_file_name = NULL WHERE nid = $1", "i"},
	[S_SET_CONTENT] = {"set content",
			   "UPDATE resources r SET sha256 = $1, size_bytes = $2, mime_type = $3,"
			   " storage_bucket = $4, storage_key = $5, file_name = $9, updated_at = $6,"
			   " external_id = COALESCE($10, external_id),"
			   " version = version + $11 WHERE account_id = $7 AND id = $8"
			   " RETURNING " COLS,
			   "titttitttti"},
	[S_SET_TEST_CONTENT] = {"set content",
				"UPDATE resources r SET test_sha256 = $1, test_size_bytes = $2,"
				" test_mime_type = $3, test_storage_bucket = $4,"
				" test_storage_key = $5, test_file_name = $9, updated_at = $6,"
				" version = version + $10 WHERE account_id = $7 AND id = $8"
				" RETURNING " COLS,
				"titttittti"},
	[S_DELETE] = {"delete", "DELETE FROM resources WHERE account_id = $1 AND id = $2", "tt"},
	[S_KEY_USED] = {"key used",
			"SELECT 1 FROM resources WHERE storage_key = $1"
			" UNION ALL SELECT 1 FROM resources WHERE test_storage_key = $1 LIMIT 1",
			"t"},
	/* $1 numbers at once, ascending, for the rows of a batch in batch order. */
	[S_NIDS_NEXT] = {"next id", "SELECT nextval('resource_nid_seq') FROM generate_series(1, $1)"
				    " ORDER BY 1", "i"},
	/* Made on first use; a concurrent first use may leave this statement without a row (its
	 * snapshot predates the other's insert), and a second run then finds it. */
	[S_ACCOUNT_NID] = {"account id",
			   "WITH ins AS (INSERT INTO accounts (account_id) SELECT $1 WHERE NOT EXISTS"
			   " (SELECT 1 FROM accounts WHERE account_id = $1)"
			   " ON CONFLICT (account_id) DO NOTHING RETURNING nid)"
			   " SELECT nid FROM ins UNION ALL"
			   " SELECT nid FROM accounts WHERE account_id = $1", "t"},
	[S_NIDS] = {"numeric ids",
		    "SELECT coalesce((SELECT nid FROM accounts WHERE account_id = $1), 0),"
		    " coalesce((SELECT nid FROM users WHERE sub = $2), 0)", "tt"},
	[S_FOLDER_INSERT] = {"folder insert",
			     "INSERT INTO folders (account_id, path, created_at)"
			     " SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM folders"
			     " WHERE account_id = $1 AND path = $2)"
			     " ON CONFLICT (account_id, path) DO NOTHING"
			     " RETURNING id, account_id, path, created_at", "tti"},
	[S_FOLDER_GET] = {"folder get", "SELECT id, account_id, path, created_at FROM folders"
					" WHERE account_id = $1 AND id = $2", "ti"},
	[S_FOLDER_LIST] = {"folder list", "SELECT id, account_id, path, created_at FROM folders"
					  " WHERE account_id = $1 ORDER BY path LIMIT $2 OFFSET $3",
			   "tii"},
	/* The parameters of S_FOLDER_LIST, of which it needs the first. */
	[S_FOLDER_COUNT] = {"folder count", "SELECT count(*) FROM folders WHERE account_id = $1",
			    "tii"},
	[S_INLINE_PUT] = {"inline put",
			  "INSERT INTO inline_blobs (storage_key, bytes) VALUES ($1, $2)"
			  " ON CONFLICT (storage_key) DO UPDATE SET bytes = inline_blobs.bytes",
			  "tx"},
	/* Waits for any transaction that is adding a user of the content (see INSERT_ROW), so the
	 * check that follows, a statement of its own, sees that user. */
	[S_INLINE_LOCK] = {"inline lock",
			   "SELECT 1 FROM inline_blobs WHERE storage_key = $1 FOR UPDATE", "t"},
	[S_INLINE_DROP_UNUSED] = {"inline drop",
				  "DELETE FROM inline_blobs WHERE storage_key = $1 AND NOT EXISTS"
				  " (SELECT 1 FROM resources WHERE storage_key = $1) AND NOT EXISTS"
				  " (SELECT 1 FROM resources WHERE test_storage_key = $1)",
				  "t"},
	[S_INLINE_GET] = {"inline get", "SELECT bytes FROM inline_blobs WHERE storage_key = $1",
			  "t"},
	[S_LOCK_KEYS] = {"lock keys", "SELECT pg_advisory_lock(h) FROM " KEY_HASHES " ORDER BY h",
			 "a"},
	[S_UNLOCK_KEYS] = {"unlock keys", "SELECT pg_advisory_unlock(h) FROM " KEY_HASHES, "a"},
	/* Other client sessions of this database (not autovacuum) in a transaction begun before
	 * $1 (microseconds since the Unix epoch), and the server's time now (same unit). */
	[S_OLD_XACTS] = {"settle",
			 "SELECT count(*) FILTER (WHERE pid <> pg_backend_pid()"
			 " AND xact_start < to_timestamp($1::bigint / 1e6)),"
			 " (extract(epoch FROM clock_timestamp()) * 1e6)::bigint"
			 " FROM pg_stat_activity WHERE datname = current_database()"
			 " AND backend_type = 'client backend'",
			 "i"},
	[S_LIST] = META_LIST16(LIST_ME), META_LIST16(LIST_SHARED), META_LIST16(LIST_ANY),
	[S_COUNT] = COUNT(""),
	COUNT(W_PREFIX),
	COUNT(W_TAGS),
	COUNT(W_PREFIX W_TAGS),
	[S_COUNT_SHARED] = COUNT_SHARED(""),
	COUNT_SHARED(W_PREFIX),
	COUNT_SHARED(W_TAGS),
	COUNT_SHARED(W_PREFIX W_TAGS),
};

#define MAX_PARAMS 32

/* How much longer than the session's statement_timeout depotd waits for a word from the
 * server: enough for the server to report the timeout itself, and a bound on a server that
 * stopped answering (a frozen host's kernel still acknowledges TCP, so neither keepalives nor
 * tcp_user_timeout notice). */
#define ANSWER_GRACE_MS 5000

/* The wait for the first answer of a new session (connect_timeout's default). */
#define CONNECT_ANSWER_MS 5000

/* The parameters of one statement, in order; numbers are written into num. */
struct params {
	int n;
	const char *v[MAX_PARAMS];
	int len[MAX_PARAMS];
	int fmt[MAX_PARAMS]; /* 0 text, 1 binary (bytea) */
	char num[MAX_PARAMS][24];
};

struct conn {
	struct meta_conn base;     /* in meta_pg.conns */
	PGconn *pg;                /* NULL until connected */
	bool prepared[S_NSTMTS];
	bool broken;               /* the session is gone: reconnect before the next use */
	bool deadlocked;           /* the last failure was a deadlock or serialization failure */
	int answer_timeout_ms;     /* statement_timeout + ANSWER_GRACE_MS; -1: none */
	unsigned locks_held;       /* lock_keys calls not yet undone on this session */
};

struct meta_pg {
	struct meta base;
	char *url;             /* owned; may hold a password: given to libpq only */
	struct meta_conns conns;
};

/* ---- errors ---- */

/* The first line of a libpq message, without its "ERROR:  " or "FATAL:  " label. */
static const char *first_line(const char *msg, char *buf, size_t size)
{
	if (msg == NULL || !*msg)
		return "no detail";
	const char *colon = strstr(msg, ":  ");
	if (colon != NULL && colon - msg < 10)
		msg = colon + 3;
	size_t n = strcspn(msg, "\n");
	snprintf(buf, size, "%.*s", (int)(n < size ? n : size - 1), msg);
	return buf;
}

static bool state_is(const char *state, const char *prefix)
{
	return strncmp(state, prefix, strlen(prefix)) == 0;
}

/* Turns a failed result (or a failure without one) into an err code, deliberately per
 * SQLSTATE: nothing PostgreSQL says about contention or its own availability becomes a 500. */
static enum err_code pg_fail(struct conn *c, const PGresult *res, const char *what,
			     struct err *e)
{
	char buf[200];
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = first_line(res ? PQresultErrorMessage(res) : NULL, buf, sizeof(buf));
	if (res == NULL || !*PQresultErrorMessage(res))
		msg = first_line(c->pg ? PQerrorMessage(c->pg) : NULL, buf, sizeof(buf));
	if (c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK)
		c->broken = true;
	if (state == NULL)
		state = "";
	if (strcmp(state, "23505") == 0)
		return err_set(e, ERR_CONFLICT,
			       "a resource with this name already exists in this directory");
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0) {
		c->deadlocked = true;
		return err_set(e, ERR_UNAVAILABLE, "metadata store is busy (%s): %s", what, msg);
	}
	if (strcmp(state, "53100") == 0)
		return err_set(e, ERR_NO_SPACE, "metadata store: the disk is full (%s)", what);
	if (strcmp(state, "57014") == 0 || strcmp(state, "55P03") == 0)
		return err_set(e, ERR_UNAVAILABLE, "metadata store timed out (%s): %s", what, msg);
	if (c->broken || !*state || state_is(state, "08") || state_is(state, "53") ||
	    state_is(state, "57P") || state_is(state, "58"))
		return err_set(e, ERR_UNAVAILABLE, "metadata store unavailable (%s): %s", what,
			       msg);
	if (state_is(state, "22"))
		return err_set(e, ERR_INVALID, "the metadata store refused a value: %s", msg);
	return err_set(e, ERR_INTERNAL, "postgres %s: %s [%s]", what, msg, state);
}

/* Whether a transaction that failed with rc should run once more: PostgreSQL aborted it as a
 * deadlock victim or for a serialization failure, and this is its first retry. */
static bool again(struct conn *c, enum err_code rc, int *tries)
{
	bool retry = rc != ERR_OK && c->deadlocked && !c->broken && (*tries)++ == 0;
	c->deadlocked = false;
	return retry;
}

/* ---- connections ---- */

static void notice_log(void *arg, const char *message)
{
	char buf[200];
	(void)arg;
	log_warn("meta: postgres says: %s", first_line(message, buf, sizeof(buf)));
}

static void conn_drop(struct conn *c)
{
	PQfinish(c->pg); /* the server releases the session's advisory locks */
	c->pg = NULL;
	memset(c->prepared, 0, sizeof(c->prepared));
}

/* The outcome of what was just sent (sent: whether sending worked): the last result, waiting at
 * most timeout_ms (-1: no limit) for each word from the server. A server silent for that long
 * costs the session. On success *out, when given, receives the result (the caller PQclears it). */
static enum err_code finish(struct conn *c, bool sent, int timeout_ms, const char *what,
			    PGresult **out, struct err *e)
{
	PGresult *last = NULL, *res;
	if (!sent)
		return pg_fail(c, NULL, what, e);
	for (;;) {
		if (PQisBusy(c->pg)) { /* false too once the connection failed */
			struct pollfd p = {.fd = PQsocket(c->pg), .events = POLLIN};
			int n = poll(&p, 1, timeout_ms);
			if (n == 0 || (n < 0 && errno != EINTR)) {
				PQclear(last);
				conn_drop(c);
				c->broken = true;
				return err_set(e, ERR_UNAVAILABLE,
					       "metadata store unavailable (%s): no answer in %d ms",
					       what, timeout_ms);
			}
			if (n > 0)
				(void)PQconsumeInput(c->pg);
			continue;
		}
		if ((res = PQgetResult(c->pg)) == NULL)
			break;
		PQclear(last);
		last = res;
	}
	ExecStatusType st = PQresultStatus(last);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		enum err_code rc = pg_fail(c, last, what, e);
		PQclear(last);
		return rc;
	}
	if (out != NULL)
		*out = last;
	else
		PQclear(last);
	return ERR_OK;
}

/* Opens the session. Our defaults come first so that settings in the URL win over them; the
 * encoding comes last because every string depot hands over is UTF-8. */
static enum err_code conn_connect(struct meta_pg *m, struct conn *c, struct err *e)
{
	static const char *const keys[] = {
		"connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
		"keepalives_count", "tcp_user_timeout", "application_name", "options", "dbname",
		"client_encoding", NULL,
	};
	const char *values[] = {
		"5", "1", "30", "10", "3", "30000", "depotd",
		"-c statement_timeout=30000 -c client_min_messages=warning", m->url, "UTF8",
		NULL,
	};
	conn_drop(c);
	c->pg = PQconnectdbParams(keys, values, 1);
	if (c->pg == NULL)
		xalloc_die();
	if (PQstatus(c->pg) != CONNECTION_OK) {
		char buf[200];
		err_set(e, ERR_UNAVAILABLE, "metadata store unavailable: %s",
			first_line(PQerrorMessage(c->pg), buf, sizeof(buf)));
		conn_drop(c);
		return ERR_UNAVAILABLE;
	}
	PQsetNoticeProcessor(c->pg, notice_log, NULL);
	/* The session's statement_timeout, for answer_timeout_ms. And a write is answered only
	 * once it is durable: synchronous_commit=off (the server's, the role's) is brought back to
	 * on; stronger settings stay as they are. */
	PGresult *res;
	bool sent = PQsendQuery(c->pg, "SELECT extract(epoch FROM"
				       " current_setting('statement_timeout')::interval) * 1000,"
				       " CASE WHEN current_setting('synchronous_commit') = 'off'"
				       " THEN set_config('synchronous_commit', 'on', false) END") == 1;
	enum err_code rc = finish(c, sent, CONNECT_ANSWER_MS, "connect", &res, e);
	if (rc != ERR_OK) {
		conn_drop(c);
		return rc;
	}
	double ms = strtod(PQgetvalue(res, 0, 0), NULL);
	PQclear(res);
	c->answer_timeout_ms = ms <= 0 ? -1 : ms > INT_MAX - ANSWER_GRACE_MS ? INT_MAX
						 : (int)ms + ANSWER_GRACE_MS;
	c->broken = false;
	return ERR_OK;
}

/* Whether an idle session is still there. Nothing is due from the server between statements,
 * so a readable socket means a FATAL before the server closed it, or the close itself: read
 * what is there (without blocking) and let libpq tell. */
static bool conn_alive(struct conn *c)
{
	if (c->pg == NULL || c->broken || PQstatus(c->pg) != CONNECTION_OK)
		return false;
	struct pollfd p = {.fd = PQsocket(c->pg), .events = POLLIN};
	for (int i = 0; i < 4 && poll(&p, 1, 0) == 1; i++)
		if (PQconsumeInput(c->pg) == 0)
			return false;
	return PQstatus(c->pg) == CONNECTION_OK;
}

static void conn_close(struct meta_conn *mc)
{
	struct conn *c = (struct conn *)mc;
	conn_drop(c);
	free(c);
}

/* This thread's connection, live: opened on first use and reopened when the last one broke.
 * A session that died holding key locks is not silently replaced: the caller's exclusion is
 * gone, so every call fails until the locks are given back. */
static enum err_code conn_get(struct meta_pg *m, struct conn **out, struct err *e)
{
	struct conn *c = (struct conn *)meta_conns_mine(&m->conns);
	if (c == NULL) {
		c = xcalloc(1, sizeof(*c));
		meta_conns_adopt(&m->conns, &c->base);
	}
	*out = c;
	c->deadlocked = false;
	if (conn_alive(c))
		return ERR_OK;
	if (c->locks_held > 0) {
		c->broken = true;
		return err_set(e, ERR_UNAVAILABLE, "metadata store unavailable: %s",
			       "the session holding key locks was lost");
	}
	if (c->pg != NULL)
		log_warn("meta: connection to postgres lost; reconnecting");
	return conn_connect(m, c, e);
}

/* ---- statements ---- */

static void p_text(struct params *p, const char *s)
{
	p->v[p->n] = s;
	p->len[p->n] = 0;
	p->fmt[p->n++] = 0;
}

static void p_int(struct params *p, int64_t v)
{
	snprintf(p->num[p->n], sizeof(p->num[0]), "%lld", (long long)v);
	p_text(p, p->num[p->n]);
}

static void p_bool(struct params *p, bool v)
{
	p_text(p, v ? "t" : "f");
}

/* Binary: the bytes as they are. NULL bytes is SQL NULL; zero bytes is an empty value. */
static void p_bytes(struct params *p, const unsigned char *b, size_t n)
{
	p->v[p->n] = b == NULL ? NULL : n ? (const char *)b : "";
	p->len[p->n] = (int)n;
	p->fmt[p->n++] = 1;
}

/* v[0..n) as a text[] literal: {"a","b"}, with " and \ escaped. */
static const char *array_literal(struct pool *pool, const char *const *v, size_t n)
{
	size_t len = 3;
	for (size_t i = 0; i < n; i++)
		len += 3 + 2 * strlen(v[i]);
	char *out = pool_alloc(pool, len), *o = out;
	*o++ = '{';
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			*o++ = ',';
		*o++ = '"';
		for (const char *s = v[i]; *s; s++) {
			if (*s == '"' || *s == '\\')
				*o++ = '\\';
			*o++ = *s;
		}
		*o++ = '"';
	}
	*o++ = '}';
	*o = '\0';
	return out;
}

static Oid type_oid(char t)
{
	switch (t) {
	case 'i':
		return 20; /* int8 */
	case 'b':
		return 16; /* bool */
	case 'a':
		return 1009; /* text[] */
	case 'x':
		return 17; /* bytea */
	default:
		return 25; /* text */
	}
}

static enum err_code prepare(struct conn *c, enum stmt s, struct err *e)
{
	Oid types[MAX_PARAMS];
	int n = (int)strlen(stmts[s].types);
	for (int i = 0; i < n; i++)
		types[i] = type_oid(stmts[s].types[i]);
	char name[16];
	snprintf(name, sizeof(name), "s%d", (int)s);
	enum err_code rc = finish(c, PQsendPrepare(c->pg, name, stmts[s].sql, n, types) == 1,
				  c->answer_timeout_ms, "prepare", NULL, e);
	c->prepared[s] = rc == ERR_OK;
	return rc;
}

/* Runs statement s with p (NULL: none). On success *out, when given, receives the result (the
 * caller PQclears it); binary asks for binary result columns. */
static enum err_code run(struct conn *c, enum stmt s, const struct params *p, int binary,
			 PGresult **out, struct err *e)
{
	enum err_code rc;
	if (!c->prepared[s] && (rc = prepare(c, s, e)) != ERR_OK)
		return rc;
	char name[16];
	snprintf(name, sizeof(name), "s%d", (int)s);
	bool sent = PQsendQueryPrepared(c->pg, name, p ? p->n : 0, p ? p->v : NULL,
					p ? p->len : NULL, p ? p->fmt : NULL, binary) == 1;
	return finish(c, sent, c->answer_timeout_ms, stmts[s].what, out, e);
}

static void rollback(struct conn *c)
{
	if (c->pg != NULL && PQtransactionStatus(c->pg) != PQTRANS_IDLE &&
	    PQstatus(c->pg) == CONNECTION_OK)
		(void)run(c, S_ROLLBACK, NULL, 0, NULL, NULL);
}

static const char *col_text(const PGresult *res, int row, int col, struct pool *pool)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return pool_strndup(pool, PQgetvalue(res, row, col), (size_t)PQgetlength(res, row, col));
}

static int64_t col_int(const PGresult *res, int row, int col)
{
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static void read_row(const PGresult *res, int row, struct pool *pool, struct meta_resource *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", PQgetvalue(res, row, 0));
	snprintf(r->sha256, sizeof(r->sha256), "%s", PQgetvalue(res, row, 5));
	r->account_id = col_text(res, row, 1, pool);
	r->name = col_text(res, row, 2, pool);
	r->directory_path = col_text(res, row, 3, pool);
	r->mime_type = col_text(res, row, 4, pool);
	r->size_bytes = col_int(res, row, 6);
	r->original_uri = col_text(res, row, 7, pool);
	r->external_id = col_text(res, row, 8, pool);
	r->external_storage_type = col_text(res, row, 9, pool);
	r->storage_bucket = col_text(res, row, 10, pool);
	r->storage_key = col_text(res, row, 11, pool);
	r->metadata_json = col_text(res, row, 12, pool);
	r->created_by = col_text(res, row, 13, pool);
	r->created_at_us = col_int(res, row, 14);
	r->updated_at_us = col_int(res, row, 15);
	meta_split(PQgetvalue(res, row, 16), pool, &r->tags, &r->ntags);
	r->status = col_text(res, row, 17, pool);
	r->version = col_int(res, row, 18);
	r->nid = col_int(res, row, 19);
	r->description = col_text(res, row, 20, pool);
	r->read_access = col_text(res, row, 21, pool);
	meta_split(PQgetvalue(res, row, 22), pool, &r->shared_with, &r->nshared);
	r->file_name = col_text(res, row, 23, pool);
	r->test_enabled = PQgetvalue(res, row, 24)[0] == 't';
	snprintf(r->test.sha256, sizeof(r->test.sha256), "%s", PQgetvalue(res, row, 25));
	r->test.size_bytes = col_int(res, row, 26);
	r->test.mime_type = col_text(res, row, 27, pool);
	r->test.storage_bucket = col_text(res, row, 28, pool);
	r->test.storage_key = col_text(res, row, 29, pool);
	r->test.file_name = col_text(res, row, 30, pool);
	r->folder_id = col_int(res, row, 31);
}

/* ---- operations ---- */

/* The parameters of INSERT_ROW; tags, shares and inline bytes as the row has them; nid 0
 * takes the sequence's next. */
static void bind_row(struct params *p, const struct meta_resource *r, int64_t nid,
		     struct pool *pool)
{
	bool t = r->test_enabled;

	p->n = 0;
	p_text(p, r->id);
	p_text(p, r->account_id);
	p_text(p, r->name);
	p_text(p, r->directory_path);
	p_text(p, r->mime_type);
	p_text(p, r->sha256);
	p_int(p, r->size_bytes);
	p_text(p, r->original_uri);
	p_text(p, r->external_id);
	p_text(p, r->external_storage_type);
	p_text(p, r->storage_bucket);
	p_text(p, r->storage_key);
	p_text(p, r->metadata_json);
	p_text(p, r->created_by);
	p_int(p, r->created_at_us);
	p_int(p, r->updated_at_us);
	p_text(p, r->status ? r->status : META_STATUS_UPLOADED);
	p_text(p, array_literal(pool, (const char *const *)r->tags, r->ntags));
	p_bytes(p, r->inline_bytes, r->inline_len);
	if (nid != 0)
		p_int(p, nid);
	else
		p_text(p, NULL);
	p_text(p, r->description);
	p_text(p, r->read_access ? r->read_access : META_ACCESS_TEAM);
	p_text(p, r->file_name);
	p_bool(p, t);
	p_text(p, t && r->test.sha256[0] ? r->test.sha256 : NULL);
	if (t)
		p_int(p, r->test.size_bytes);
	else
		p_text(p, NULL);
	p_text(p, t ? r->test.mime_type : NULL);
	p_text(p, t ? r->test.storage_bucket : NULL);
	p_text(p, t ? r->test.storage_key : NULL);
	p_text(p, t ? r->test.file_name : NULL);
	p_text(p, array_literal(pool, (const char *const *)r->shared_with, r->nshared));
}

/* One statement, so one transaction: the row, its tags and its inline content. */
static enum err_code pg_create(struct meta *base, const struct meta_resource *r, struct err *e)
{
	struct conn *c;
	struct params p;
	struct pool pool;
	enum err_code rc = conn_get((struct meta_pg *)base, &c, e);
	if (rc != ERR_OK)
		return rc;
	pool_init(&pool);
	bind_row(&p, r, 0, &pool);
	int tries = 0;
	do
		rc = run(c, S_INSERT, &p, 0, NULL, e);
	while (again(c, rc, &tries));
	pool_cleanup(&pool);
	return rc;
}

/* Rows by (account, directory, name) in byte order, then by their place in the batch. */
static int cmp_row_name(const void *a, const void *b)
{
	const struct meta_resource *x = *(const struct meta_resource *const *)a;
	const struct meta_resource *y = *(const struct meta_resource *const *)b;
	int d = strcmp(x->account_id, y->account_id);
	if (d == 0)
		d = strcmp(x->directory_path, y->directory_path);
	if (d == 0)
		d = strcmp(x->name, y->name);
	return d != 0 ? d : (x > y) - (x < y);
}

/* The rows go in in name order, so that batches committing at once (from any process) wait
 * for each other's names in one order and never deadlock; of two rows with one name the
 * earlier in the batch wins, as it would in batch order. */
static enum err_code create_batch_on(struct conn *c, const struct meta_resource *rows, size_t n,
				     enum err_code *results, struct pool *pool, struct err *e)
{
	struct params p;
	const struct meta_resource **order = pool_alloc(pool, (n ? n : 1) * sizeof(*order));
	for (size_t i = 0; i < n; i++)
		order[i] = &rows[i];
	qsort(order, n, sizeof(*order), cmp_row_name);
	enum err_code rc = run(c, S_BEGIN, NULL, 0, NULL, e);
	if (rc != ERR_OK)
		return rc;
	/* Row i gets the i-th number, whatever order the rows go in; a taken name leaves a gap,
	 * as a rollback would. */
	int64_t *nids = pool_alloc(pool, (n ? n : 1) * sizeof(*nids));
	if (n > 0) {
		PGresult *res;
		struct params np = {0};
		p_int(&np, (int64_t)n);
		if ((rc = run(c, S_NIDS_NEXT, &np, 0, &res, e)) != ERR_OK)
			goto fail;
		for (size_t i = 0; i < n; i++)
			nids[i] = col_int(res, (int)i, 0);
		PQclear(res);
	}
	for (size_t k = 0; k < n; k++) {
		PGresult *res;
		size_t i = (size_t)(order[k] - rows);
		bind_row(&p, &rows[i], nids[i], pool);
		if ((rc = run(c, S_INSERT_NEW, &p, 0, &res, e)) != ERR_OK)
			goto fail;
		results[i] = col_int(res, 0, 0) == 1 ? ERR_OK : ERR_CONFLICT;
		PQclear(res);
	}
	if ((rc = run(c, S_COMMIT, NULL, 0, NULL, e)) == ERR_OK)
		return ERR_OK;
fail:
	rollback(c);
	return rc;
}

static enum err_code pg_create_batch(struct meta *base, const struct meta_resource *rows,
				     size_t n, enum err_code *results, struct err *e)
{
	struct conn *c;
	struct pool pool;
	enum err_code rc = conn_get((struct meta_pg *)base, &c, e);
	if (rc != ERR_OK)
		return rc;
	pool_init(&pool);
	int tries = 0;
	do
		rc = create_batch_on(c, rows, n, results, &pool, e);
	while (again(c, rc, &tries));
	pool_cleanup(&pool);
	return rc;
}

/* Runs s, which answers one row or none: the row in *res (the caller PQclears it), or
 * ERR_NOT_FOUND "<thing> not found". */
static enum err_code run_one(struct conn *c, enum stmt s, const struct params *p,
			     const char *thing, PGresult **res, struct err *e)
{
	enum err_code rc = run(c, s, p, 0, res, e);
	if (rc != ERR_OK || PQntuples(*res) == 1)
		return rc;
	PQclear(*res);
	return err_set(e, ERR_NOT_FOUND, "%s not found", thing);
}

/* Runs s, which returns one resource row (none: ERR_NOT_FOUND), into out. */
static enum err_code run_row(struct conn *c, enum stmt s, const struct params *p,
			     struct pool *pool, struct meta_resource *out, struct err *e)
{
	PGresult *res;
	enum err_code rc = run_one(c, s, p, "resource", &res, e);
	if (rc == ERR_OK) {
		read_row(res, 0, pool, out);
		PQclear(res);
	}
	return rc;
}

/* Reads one row (s: S_GET, S_GET_VISIBLE, S_GET_NID with id the nid in decimal, or
 * S_GET_LOCKED within a transaction). */
static enum err_code get_on(struct conn *c, enum stmt s, const char *account, const char *id,
			    struct pool *pool, struct meta_resource *out, struct err *e)
{
	struct params p = {0};
	p_text(&p, account);
	p_text(&p, id);
	return run_row(c, s, &p, pool, out, e);
}

static enum err_code pg_get(struct meta *base, const char *account, const char *id,
			    struct pool *pool, struct meta_resource *out, struct err *e)
{
	struct conn *c;
	enum err_code rc = conn_get((struct meta_pg *)base, &c, e);
	return rc != ERR_OK ? rc : get_on(c, S_GET, account, id, pool, out, e);
}

static enum err_code pg_get_visible(struct meta *base, const char *reader, const char *id,
				    struct pool *pool, struct meta_resource *out, struct err *e)
{
	struct conn *c;
	enum err_code rc = conn_get((struct meta_pg *)base, &c, e);
	return rc != ERR_OK ? rc : get_on(c, S_GET_VISIBLE, reader, id, pool, out, e);
}

static enum err_code pg_get_by_nid(struct meta *base, const char *reader, int64_t nid,
				   struct pool *pool, struct meta_resource *out, struct err *e)
{
	struct conn *c;
	char num[24];
	enum err_code rc = conn_get((struct meta_pg *)base, &c, e);
	snprintf(num, sizeof(num), "%lld", (long long)nid);
	return rc != ERR_OK ? rc : get_on(c, S_GET_NID, reader, num, pool, out, e);
}

/* The start of every conditional write: a transaction, the row locked as it is, and its
 * If-Match condition. On failure nothing is left open. */
static enum err_code begin_checked(struct conn *c, const char *account, const char *id,
				   const struct meta_cond *cond, struct pool *pool,
				   struct meta_resource *cur, struct err *e)
{
	enum err_code rc = run(c, S_BEGIN, NULL, 0, NULL, e);
	if (rc != ERR_OK)
		return rc;
	if ((rc = get_on(c, S_GET_LOCKED, account, id, pool, cur, e)) != ERR_OK ||
	    (rc = meta_cond_check(cur, cond, e)) != ERR_OK)
		rollback(c);
	return rc;
}

/* Drops the inline content under key when no row refers to it any more. The lock comes first,
 * in a statement of its own, so that the check runs on a snapshot taken after any transaction
 * adding a user of the content has committed. */
static enum err_code inline_drop_unused(struct conn *c, const char *key, struct err *e)
{
	if (key == NULL || strncmp(key, "inline/", 7) != 0)
		return ERR_OK;
	struct params p = {0};
	p_text(&p, key);
	enum err_code rc = run(c, S_INLINE_LOCK, &p, 0, NULL, e);
	return rc != ERR_OK ? rc : run(c, S_INLINE_DROP_UNUSED, &p, 0, NULL, e);
}

/* Runs s, whose parameters are a nid ($1) and, when accounts is given, a text[] ($2). */
static enum err_code run_nid(struct conn *c, enum stmt s, int64_t nid, const char **accounts,
			     size_t n, struct pool *pool, struct err *e)
{
	struct params p = {0};
	p_int(&p, nid);
	if (accounts != NULL)
		p_text(&p, array_literal(pool, (const char *const *)accounts, n));
	return run(c, s, &p, 0, NULL, e);
}

/* Turns the test value on (from the live content) or off, when that changes anything. */
static enum err_code toggle_test(struct conn *c, const struct meta_update *u,
				 const struct meta_resource *cur, struct pool *pool,
				 struct err *e)
{
	if (!u->set_test_enabled || u->test_enabled == cur->test_enabled)
		return ERR_OK;
	enum err_code rc = run_nid(c, u->test_enabled ? S_TEST_ENABLE : S_TEST_DISABLE, cur->nid,
				   NULL, 0, pool, e);
	if (rc != ERR_OK || u->test_enabled)
		return rc;
	if (u->dropped_key != NULL)
		*u->dropped_key = cur->test.storage_key;
	return inline_drop_unused(c, cur->test.storage_key, e);
}

/* Points the row (or its test value) at nc, whose content was at before until now; the version
 * goes up by step (0 when an update's own statement counts this write). */
static enum err_code content_write(struct conn *c, const char *account, const char *id,
				   const struct meta_content *nc, const char *before, int step,
				   struct pool *pool, struct meta_resource *out, struct err *e)
{
	struct params p = {0};
	p_text(&p, nc->sha256);
	p_int(&p, nc->size_bytes);
	p_text(&p, nc->mime_type);
	p_text(&p, nc->storage_bucket);
	p_text(&p, nc->storage_key);
	p_int(&p, nc->updated_at_us);
	p_text(&p, account);
	p_text(&p, id);
	p_text(&p, nc->file_name);
	if (!nc->test_value)
		p_text(&p, nc->external_id);
	p_int(&p, step);
	enum err_code rc = run_row(c, nc->test_value ? S_SET_TEST_CONTENT : S_SET_CONTENT, &p,
				   pool, out, e);
	if (rc == ERR_OK && nc->inline_bytes != NULL) {
		struct params ip = {0};
		p_text(&ip, nc->storage_key);
		p_bytes(&ip, nc->inline_bytes, nc->inline_len);
		rc = run(c, S_INLINE_PUT, &ip, 0, NULL, e);
	}
	return rc != ERR_OK ? rc : inline_drop_unused(c, before, e);
}

/* The writes of a checked update: the row's fields, then its shares and test value. */
static enum err_code update_write(struct conn *c, const char *account, const char *id,
				  const struct meta_update *u, const struct meta_resource *cur,
				  const char *access, bool rewrite_shares, struct pool *pool,
				  struct err *e)
{
	struct params p = {0};
	p_bool(&p, u->set_name);
	p_text(&p, u->name);
	p_bool(&p, u->set_directory_path);
	p_text(&p, u->directory_path);
	p_bool(&p, u->set_metadata);
	p_text(&p, u->metadata_json);
	p_int(&p, u->updated_at_us);
	p_text(&p, account);
	p_text(&p, id);
	p_bool(&p, u->confirm_upload);
	p_bool(&p, u->set_tags);
	p_text(&p, u->set_tags ? array_literal(pool, (const char *const *)u->tags, u->ntags)
			       : NULL);
	p_bool(&p, u->set_description);
	p_text(&p, u->description);
	p_text(&p, access);
	p_bool(&p, rewrite_shares);
	p_text(&p, rewrite_shares && u->set_shared_with
			   ? array_literal(pool, (const char *const *)u->shared_with, u->nshared)
			   : "{}");
	enum err_code rc = run(c, S_UPDATE, &p, 0, NULL, e);
	if (rc == ERR_OK && rewrite_shares) {
		rc = run_nid(c, S_DELETE_SHARES, cur->nid, NULL, 0, pool, e);
		if (rc == ERR_OK && u->set_shared_with && u->nshared > 0)
			rc = run_nid(c, S_INSERT_SHARES, cur->nid, u->shared_with, u->nshared,
				     pool, e);
	}
	return rc != ERR_OK ? rc : toggle_test(c, u, cur, pool, e);
}

static enum err_code update_on(struct conn *c, const char *account, const char *id,
			       const struct meta_update *u, const struct meta_cond *cond,
			       struct pool *pool, struct meta_resource *out, struct err *e)
{
	struct meta_resource cur;
	const char *access, *before = NULL;
	bool noop, rewrite_shares;
	if (u->dropped_key != NULL)
		*u->dropped_key = NULL;
	enum err_code rc = begin_checked(c, account, id, cond, pool, &cur, e);
	if (rc != ERR_OK)
		return rc;
	if ((rc = meta_update_check(&cur, u, &noop, &access, &rewrite_shares, e)) != ERR_OK ||
	    (u->content != NULL &&
	     (rc = meta_update_content_check(&cur, u, &before, e)) != ERR_OK))
		goto fail;
	if (noop) {
		*out = cur;
		if ((rc = run(c, S_COMMIT, NULL, 0, NULL, e)) != ERR_OK)
			goto fail;
		return ERR_OK;
	}
	/* The content's statement returns the row as both writes leave it; without content the
	 * row is read back. */
	if ((rc = update_write(c, account, id, u, &cur, access, rewrite_shares, pool, e)) !=
		    ERR_OK ||
	    (rc = u->content != NULL
			  ? content_write(c, account, id, u->content, before, 0, pool, out, e)
			  : get_on(c, S_GET, account, id, pool, out, e)) != ERR_OK ||
	    (rc = run(c, S_COMMIT, NULL, 0, NULL, e)) != ERR_OK)
		goto fail;
	if (u->content != NULL)
		*u->content_old_key = before;
	return ERR_OK;
fail:
	if (u->dropped_key != NULL)
		*u->dropped_key = NULL;
	rollback(c);
	return rc;
}

static enum err_code pg_update(struct meta *base, const char *account, const char *id,
			       const struct meta_update *u, const struct meta_cond *cond,
			       struct pool *pool, struct meta_resource *out, struct err *e)
{
	struct conn *c;
	enum err_code rc = conn_get((struct meta_pg *)base, &c, e);
	int tries = 0;
	if (rc == ERR_OK)
		do
			rc = update_on(c, account, id, u, cond, pool, out, e);
		while (again(c, rc, &tries));
	return rc;
}

static enum err_code set_content_on(struct conn *c, const char *account, const char *id,
				    const struct meta_content *nc, const struct meta_cond *cond,
				    struct pool *pool, struct meta_resource *out,
				    const char **old_key, struct err *e)
{
	struct meta_resource cur;
	enum err_code rc = begin_checked(c, account, id, cond, pool, &cur, e);
	if (rc != ERR_OK)
		return rc;
	const char *before = nc->test_value ? cur.test.storage_key : cur.storage_key;
	if ((rc = meta_content_check(&cur, nc, e)) != ERR_OK ||
	    (rc = content_write(c, account, id, nc, before, 1, pool, out, e)) != ERR_OK ||
	    (rc = run(c, S_COMMIT, NULL, 0, NULL, e)) != ERR_OK)
		goto fail;
	*old_key = before;
	return ERR_OK;
fail:
	rollback(c);
	return rc;
}

static enum err_code pg_set_content(struct meta *base, const char *account, const char *id,
				    const struct meta_content *nc, const struct meta_cond *cond,
				    struct pool *pool, struct meta_resource *out,
				    const char **old_key, struct err *e)
{
	struct conn *c;
	enum err_code rc = conn_get((struct meta_pg *)base, &c, e);
	int tries = 0;
	if (rc == ERR_OK)
		do
			rc = set_content_on(c, account, id, nc, cond, pool, out, old_key, e);
		while (again(c, rc, &tries));
	return rc;
}

static enum err_code key_used_on(struct conn *c, const char *key, bool *used, struct err *e)
{
	struct params p = {0};
	PGresult *res;
	p_text(&p, key);
	enum err_code rc = run(c, S_KEY_USED, &p, 0, &res, e);
	if (rc != ERR_OK)
		return rc;
	*used = PQntuples(res) > 0;
	PQclear(res);
	return ERR_OK;
}

static enum err_code delete_on(struct conn *c, const char *account, const char *id,
			       const struct meta_cond *cond, struct pool *pool,
			       struct meta_resource *out, bool *key_still_used, struct err *e)
{
	enum err_code rc = begin_checked(c, account, id, cond, pool, out, e);
	if (rc != ERR_OK)
		return rc;
	struct params p = {0};
	p_text(&p, account);
	p_text(&p, id);
	if ((rc = run(c, S_DELETE, &p, 0, NULL, e)) != ERR_OK ||
	    (rc = key_used_on(c, out->storage_key, key_still_used, e)) != ERR_OK ||
	    (rc = inline_drop_unused(c, out->storage_key, e)) != ERR_OK ||
	    (rc = inline_drop_unused(c, out->test.storage_key, e)) != ERR_OK ||
	    (rc = run(c, S_COMMIT, NULL, 0, NULL, e)) != ERR_OK)
		goto fail;
	return ERR_OK;
fail:
	rollback(c);
	return rc;
}

static enum err_code pg_delete(struct meta *base, const char *account, const char *id,
			       const struct meta_cond *cond, struct pool *pool,
			       struct meta_resource *out, bool *key_still_used, struct err *e)
{
	struct conn *c;
	enum err_code rc = conn_get((struct meta_pg *)base, &c, e);
	int tries = 0;
	if (rc == ERR_OK)
		do
			rc = delete_on(c, account, id, cond, pool, out, key_still_used, e);
		while (again(c, rc, &tries));
	return rc;
}

/* The code point of the UTF-8 character s[0..len). */
static uint32_t utf8_decode(const unsigned char *s, size_t len)
{
	uint32_t cp = len == 1 ? s[0] : s[0] & (0x7fu >> len);
	for (size_t i = 1; i < len; i++)
		cp = cp << 6 | (s[i] & 0x3fu);
	return cp;
}

/* Writes cp as UTF-8 at o; returns its length. */
static size_t utf8_encode(uint32_t cp, unsigned char *o)
{
	static const unsigned char lead[] = {0, 0, 0xc0, 0xe0, 0xf0};
	size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
	for (size_t i = n - 1; i > 0; i--, cp >>= 6)
		o[i] = (unsigned char)(0x80 | (cp & 0x3f));
	o[0] = (unsigned char)(lead[n] | cp);
	return n;
}

/* The least string above every string that starts with prefix, in byte order (which is code
 * point order in UTF-8): its last character that is not U+10FFFF, plus one, ends it. NULL when
 * there is none (prefix is all U+10FFFF). */
static char *prefix_next(const char *prefix, struct pool *pool)
{
	size_t n = strlen(prefix);
	char *out = pool_alloc(pool, n + 5);
	memcpy(out, prefix, n);
	while (n > 0) {
		size_t start = n - 1;
		while (start > 0 && ((unsigned char)out[start] & 0xc0) == 0x80)
			start--;
		uint32_t cp = utf8_decode((const unsigned char *)out + start, n - start);
		n = start;
		if (cp >= 0x10ffff)
			continue;
		cp = cp + 1 == 0xd800 ? 0xe000 : cp + 1; /* surrogates are not characters */
		n += utf8_encode(cp, (unsigned char *)out + n);
		out[n] = '\0';
		return out;
	}
	return NULL;
}

static void bind_filters(struct params *p, const struct meta_query *q, struct pool *pool)
{
	p->n = 0;
	p_text(p, q->account_id);
	p_int(p, q->created_after_us);
	p_int(p, q->created_before_us);
	p_text(p, q->directory_prefix);
	const char *upper = NULL;
	/* No directory_path holds a control character, so path + 0x01 bounds the path alone. */
	if (q->directory_prefix != NULL && q->directory_exact) {
		upper = pool_printf(pool, "%s\x01", q->directory_prefix);
	} else if (q->directory_prefix != NULL) {
		upper = prefix_next(q->directory_prefix, pool);
		/* No successor: only strings starting with the prefix sort after it, and none can
		 * match, as every directory_path starts with "/". */
		if (upper == NULL)
			upper = q->directory_prefix;
	}
	p_text(p, upper);
	p_text(p, q->ntags ? array_literal(pool, (const char *const *)q->tags, q->ntags) : NULL);
	p_int(p, q->limit + 1); /* one more, to know whether a next page exists */
	p_int(p, q->has_cursor ? 0 : q->offset);
	p_text(p, q->status ? q->status : META_STATUS_UPLOADED);
	p_int(p, q->has_cursor ? q->cursor_created_us : 0);
	p_text(p, q->has_cursor ? q->cursor_id : NULL);
	p_int(p, q->owner != META_OWNER_ME ? q->owner_nid : 0);
}

/* The total of q: its own rows and the rows other accounts share with the reader. */
static enum err_code list_total(struct conn *c, const struct meta_query *q, int variant,
				const struct params *p, int64_t *total, struct err *e)
{
	PGresult *res;
	enum err_code rc;
	*total = 0;
	if (q->owner != META_OWNER_SHARED) {
		if ((rc = run(c, S_COUNT + variant, p, 0, &res, e)) != ERR_OK)
			return rc;
		*total += col_int(res, 0, 0);
		PQclear(res);
	}
	if (q->owner != META_OWNER_ME) {
		if ((rc = run(c, S_COUNT_SHARED + variant, p, 0, &res, e)) != ERR_OK)
			return rc;
		*total += col_int(res, 0, 0);
		PQclear(res);
	}
	return ERR_OK;
}

static enum err_code list_on(struct conn *c, const struct meta_query *q, struct pool *pool,
			     struct meta_page *out, struct err *e)
{
	struct params p;
	PGresult *res;
	bind_filters(&p, q, pool);
	int variant = (q->directory_prefix ? V_PREFIX : 0) | (q->ntags ? V_TAGS : 0);
	enum err_code rc = run(c, S_BEGIN_READ, NULL, 0, NULL, e);
	if (rc != ERR_OK)
		return rc;
	int page = variant | (q->has_cursor ? V_CURSOR : 0) |
		   (q->sort == META_SORT_ASC ? V_ASC : 0);
	if ((rc = run(c, S_LIST + (int)q->owner * V_MODE + page, &p, 0, &res, e)) != ERR_OK)
		goto fail;
	int rows = PQntuples(res);
	out->has_more = rows > q->limit;
	out->nitems = (size_t)(rows > q->limit ? q->limit : rows);
	out->items = pool_alloc(pool, (out->nitems ? out->nitems : 1) * sizeof(*out->items));
	for (size_t i = 0; i < out->nitems; i++)
		read_row(res, (int)i, pool, &out->items[i]);
	PQclear(res);
	/* The exact total, in the page's snapshot: with several depotd on one database, no
	 * process can tell when another one's write made a cached count stale. A first page that
	 * holds every match is its own count. */
	if (!q->has_cursor && q->offset == 0 && !out->has_more) {
		out->total = (int64_t)out->nitems;
	} else if ((rc = list_total(c, q, variant, &p, &out->total, e)) != ERR_OK) {
		goto fail;
	}
	if ((rc = run(c, S_COMMIT, NULL, 0, NULL, e)) == ERR_OK)
		return ERR_OK;
fail:
	rollback(c);
	return rc;
}

static enum err_code pg_list(struct meta *base, const struct meta_query *q, struct pool *pool,
			     struct meta_page *out, struct err *e)
{
	struct conn *c;
	enum err_code rc = conn_get((struct meta_pg *)base, &c, e);
	return rc != ERR_OK ? rc : list_on(c, q, pool, out, e);
}

static enum err_code pg_inline_get(struct meta *base, const char *key, struct pool *pool,
				   const unsigned char **bytes, size_t *len, struct err *e)
{
	struct conn *c;
	struct params p = {0};
	PGresult *res;
	enum err_code rc = conn_get((struct meta_pg *)base, &c, e);
	if (rc != ERR_OK)
		return rc;
	p_text(&p, key);
	if ((rc = run(c, S_INLINE_GET, &p, 1, &res, e)) != ERR_OK)
		return rc;
	if (PQntuples(res) == 1) {
		*len = (size_t)PQgetlength(res, 0, 0);
		unsigned char *copy = pool_alloc(pool, *len ? *len : 1);
		memcpy(copy, PQgetvalue(res, 0, 0), *len);
		*bytes = copy;
	} else {
		rc = err_set(e, ERR_NOT_FOUND, "inline content is missing");
	}
	PQclear(res);
	return rc;
}

static enum err_code pg_key_used(struct meta *base, const char *key, bool *used, struct err *e)
{
	struct conn *c;
	enum err_code rc = conn_get((struct meta_pg *)base, &c, e);
	return rc != ERR_OK ? rc : key_used_on(c, key, used, e);
}

static enum err_code pg_account_nid(struct meta *base, const char *account, int64_t *nid,
				    struct err *e)
{
	struct conn *c;
	struct params p = {0};
	PGresult *res;
	enum err_code rc = conn_get((struct meta_pg *)base, &c, e);
	if (rc != ERR_OK)
		return rc;
	p_text(&p, account);
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((rc = run(c, S_ACCOUNT_NID, &p, 0, &res, e)) != ERR_OK)
			return rc;
		bool found = PQntuples(res) > 0;
		*nid = found ? col_int(res, 0, 0) : 0;
		PQclear(res);
		if (found)
			return ERR_OK;
	}
	return err_set(e, ERR_INTERNAL, "account id of %s was not recorded", account);
}

static enum err_code pg_nids(struct meta *base, const char *account, const char *user,
			     int64_t *account_nid, int64_t *user_nid, struct err *e)
{
	struct conn *c;
	struct params p = {0};
	PGresult *res;
	enum err_code rc = conn_get((struct meta_pg *)base, &c, e);
	if (rc != ERR_OK)
		return rc;
	p_text(&p, account);
	p_text(&p, user);
	if ((rc = run(c, S_NIDS, &p, 0, &res, e)) != ERR_OK)
		return rc;
	*account_nid = col_int(res, 0, 0);
	*user_nid = col_int(res, 0, 1);
	PQclear(res);
	return ERR_OK;
}

static void read_folder(const PGresult *res, int row, struct pool *pool, struct meta_folder *f)
{
	f->id = col_int(res, row, 0);
	f->account_id = col_text(res, row, 1, pool);
	f->path = col_text(res, row, 2, pool);
	f->created_at_us = col_int(res, row, 3);
}

/* Runs folder statement s, whose one row (if any) goes to out; none is ERR_NOT_FOUND. */
static enum err_code folder_one(struct conn *c, enum stmt s, const struct params *p,
				struct pool *pool, struct meta_folder *out, struct err *e)
{
	PGresult *res;
	enum err_code rc = run_one(c, s, p, "folder", &res, e);
	if (rc == ERR_OK) {
		read_folder(res, 0, pool, out);
		PQclear(res);
	}
	return rc;
}

static enum err_code pg_folder_get(struct meta *base, const char *account, int64_t id,
				   struct pool *pool, struct meta_folder *out, struct err *e)
{
	struct conn *c;
	struct params p = {0};
	enum err_code rc = conn_get((struct meta_pg *)base, &c, e);
	if (rc != ERR_OK)
		return rc;
	p_text(&p, account);
	p_int(&p, id);
	return folder_one(c, S_FOLDER_GET, &p, pool, out, e);
}

static enum err_code pg_folder_create(struct meta *base, const char *account, const char *path,
				      int64_t created_at_us, struct pool *pool,
				      struct meta_folder *out, struct err *e)
{
	struct conn *c;
	struct params p = {0};
	enum err_code rc = conn_get((struct meta_pg *)base, &c, e);
	if (rc != ERR_OK)
		return rc;
	p_text(&p, account);
	p_text(&p, path);
	p_int(&p, created_at_us);
	/* No row back: the account has a folder at path. */
	if ((rc = folder_one(c, S_FOLDER_INSERT, &p, pool, out, e)) == ERR_NOT_FOUND)
		return err_set(e, ERR_CONFLICT, "a folder at '%s' already exists", path);
	return rc;
}

static enum err_code folder_list_on(struct conn *c, const char *account, int64_t offset,
				    int64_t limit, struct pool *pool,
				    struct meta_folder_page *out, struct err *e)
{
	struct params p = {0};
	PGresult *res;
	p_text(&p, account);
	p_int(&p, limit);
	p_int(&p, offset);
	enum err_code rc = run(c, S_BEGIN_READ, NULL, 0, NULL, e);
	if (rc != ERR_OK)
		return rc;
	if ((rc = run(c, S_FOLDER_COUNT, &p, 0, &res, e)) != ERR_OK)
		goto fail;
	out->total = col_int(res, 0, 0);
	PQclear(res);
	if ((rc = run(c, S_FOLDER_LIST, &p, 0, &res, e)) != ERR_OK)
		goto fail;
	out->nitems = (size_t)PQntuples(res);
	out->items = pool_alloc(pool, (out->nitems ? out->nitems : 1) * sizeof(*out->items));
	for (size_t i = 0; i < out->nitems; i++)
		read_folder(res, (int)i, pool, &out->items[i]);
	PQclear(res);
	if ((rc = run(c, S_COMMIT, NULL, 0, NULL, e)) == ERR_OK)
		return ERR_OK;
fail:
	rollback(c);
	return rc;
}

static enum err_code pg_folder_list(struct meta *base, const char *account, int64_t offset,
				    int64_t limit, struct pool *pool, struct meta_folder_page *out,
				    struct err *e)
{
	struct conn *c;
	enum err_code rc = conn_get((struct meta_pg *)base, &c, e);
	return rc != ERR_OK ? rc : folder_list_on(c, account, offset, limit, pool, out, e);
}

/* Session-level advisory locks, all in one statement. They outlive transactions, so a call that
 * fails after taking some of them cannot leave those behind: the session is closed instead,
 * which releases every lock it held. */
static enum err_code pg_lock_keys(struct meta *base, const char *const *keys, size_t n,
				  struct err *e)
{
	struct conn *c;
	struct params p = {0};
	struct pool pool;
	enum err_code rc = conn_get((struct meta_pg *)base, &c, e);
	if (rc != ERR_OK)
		return rc;
	pool_init(&pool);
	p_text(&p, array_literal(&pool, keys, n));
	rc = run(c, S_LOCK_KEYS, &p, 0, NULL, e);
	pool_cleanup(&pool);
	if (rc == ERR_OK) {
		c->locks_held++;
	} else {
		conn_drop(c);
		c->broken = true;
	}
	return rc;
}

static void pg_unlock_keys(struct meta *base, const char *const *keys, size_t n)
{
	struct conn *c = (struct conn *)meta_conns_mine(&((struct meta_pg *)base)->conns);
	if (c == NULL || c->locks_held == 0)
		return;
	c->locks_held--;
	if (c->pg == NULL || c->broken || PQstatus(c->pg) != CONNECTION_OK)
		return; /* the session, and its locks with it, are gone */
	struct params p = {0};
	struct pool pool;
	struct err e = {0};
	pool_init(&pool);
	p_text(&p, array_literal(&pool, keys, n));
	if (run(c, S_UNLOCK_KEYS, &p, 0, NULL, &e) != ERR_OK) {
		/* Closing the session is what surely releases them. */
		log_warn("meta: releasing key locks failed (%s); closing the session", e.msg);
		conn_drop(c);
		c->broken = true;
	}
	pool_cleanup(&pool);
}

/* Fixed text without parameters, possibly several statements (migrations: they may wait
 * for another depotd's and take long, so without a time limit). */
static enum err_code exec_fixed(struct conn *c, const char *sql, const char *what,
				PGresult **out, struct err *e)
{
	return finish(c, PQsendQuery(c->pg, sql) == 1, -1, what, out, e);
}

/* Applies the missing migrations in one transaction, holding an advisory lock for it, so that
 * of several depotd starting at once one migrates and the others then find the work done. */
static enum err_code migrate(struct conn *c, struct err *e)
{
	PGresult *res = NULL;
	enum err_code rc = exec_fixed(c,
				      "BEGIN;"
				      "SET LOCAL statement_timeout = 0;"
				      "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ");"
				      "CREATE TABLE IF NOT EXISTS schema_migrations ("
				      "  version integer PRIMARY KEY,"
				      "  applied_at timestamptz NOT NULL DEFAULT now())",
				      "migrate", NULL, e);
	if (rc != ERR_OK ||
	    (rc = exec_fixed(c, "SELECT coalesce(max(version), 0) FROM schema_migrations",
			     "migrate", &res, e)) != ERR_OK)
		goto fail;
	int version = (int)col_int(res, 0, 0);
	PQclear(res);
	if (version > NMIGRATIONS) {
		rc = err_set(e, ERR_INVALID,
			     "database schema version %d is newer than this depotd (%d)", version,
			     NMIGRATIONS);
		goto fail;
	}
	for (int v = version; v < NMIGRATIONS; v++) {
		char num[16];
		snprintf(num, sizeof(num), "%d", v + 1);
		const char *values[] = {num};
		if ((rc = exec_fixed(c, migrations[v], "migration", NULL, e)) != ERR_OK)
			goto fail;
		bool sent = PQsendQueryParams(c->pg, "INSERT INTO schema_migrations (version)"
					      " VALUES ($1::int)", 1, NULL, values, NULL, NULL, 0);
		if ((rc = finish(c, sent, -1, "migration", NULL, e)) != ERR_OK)
			goto fail;
		log_info("meta: applied postgres migration %d", v + 1);
	}
	if ((rc = exec_fixed(c, "COMMIT", "migrate", NULL, e)) == ERR_OK)
		return ERR_OK;
fail:
	rollback(c);
	return rc;
}

/* Waits until every transaction open in another session at the call has ended: committed,
 * rolled back, or aborted because its client is gone. A depotd killed just after sending a
 * COMMIT leaves a session that commits a moment later; the start-up sweep must not decide which
 * blobs are unused before that change is visible. Bounded by max_ms (a session idle in a
 * transaction, e.g. an operator's psql, would otherwise hold start-up). Whether it settled. */
static bool pg_settle(struct meta *base, int max_ms)
{
	struct conn *c;
	struct err e = {0};
	if (conn_get((struct meta_pg *)base, &c, &e) != ERR_OK)
		return false;
	int64_t since = -1, waited_us = 0;
	for (;;) {
		struct params p = {0};
		p_int(&p, since);
		PGresult *res = NULL;
		if (run(c, S_OLD_XACTS, &p, 0, &res, &e) != ERR_OK) {
			log_warn("meta: could not wait for open transactions: %s", e.msg);
			return false;
		}
		int64_t open = col_int(res, 0, 0), now = col_int(res, 0, 1);
		PQclear(res);
		if (since < 0) {
			since = now; /* the first round only reads the server's clock */
			continue;
		}
		if (open == 0)
			return true;
		if (waited_us >= (int64_t)max_ms * 1000) {
			log_warn("meta: %lld transactions of other sessions still open after %d ms",
				 (long long)open, max_ms);
			return false;
		}
		usleep(10000);
		waited_us += 10000;
	}
}

static void pg_close(struct meta *base)
{
	struct meta_pg *m = (struct meta_pg *)base;
	meta_conns_cleanup(&m->conns);
	free(m->url);
	free(m);
}

/* rest is the URL after "postgres:" or "postgresql:"; libpq takes either scheme. */
static enum err_code pg_open(const char *rest, struct meta **out, struct err *e)
{
	struct meta_pg *m = xcalloc(1, sizeof(*m));
	m->base.ops = &meta_pg_ops;
	if (!meta_conns_init(&m->conns, conn_close)) {
		free(m);
		return err_set(e, ERR_INTERNAL, "pthread_key_create failed");
	}
	size_t len = strlen("postgresql:") + strlen(rest) + 1;
	m->url = xmalloc(len);
	snprintf(m->url, len, "postgresql:%s", rest);
	struct conn *c;
	enum err_code rc = conn_get(m, &c, e);
	if (rc == ERR_OK)
		rc = migrate(c, e);
	if (rc != ERR_OK) {
		pg_close(&m->base);
		return rc;
	}
	*out = &m->base;
	return ERR_OK;
}

const struct meta_ops meta_pg_ops = {
	.scheme = "postgresql",
	.alias = "postgres",
	.open = pg_open,
	.close = pg_close,
	.create = pg_create,
	.create_batch = pg_create_batch,
	.get = pg_get,
	.get_visible = pg_get_visible,
	.get_by_nid = pg_get_by_nid,
	.update = pg_update,
	.set_content = pg_set_content,
	.del = pg_delete,
	.list = pg_list,
	.inline_get = pg_inline_get,
	.key_used = pg_key_used,
	.account_nid = pg_account_nid,
	.nids = pg_nids,
	.folder_create = pg_folder_create,
	.folder_get = pg_folder_get,
	.folder_list = pg_folder_list,
	.lock_keys = pg_lock_keys,
	.unlock_keys = pg_unlock_keys,
	.settle = pg_settle,
};
