/* Fault injection: every store operation (create to a file, create inline, rename, content
 * replace, delete) is run once for every N with the Nth call of one kind failing — write,
 * fdatasync/fsync and rename of the blob store (ENOSPC and EIO, through the linker's --wrap),
 * SQLite's own writes, syncs and locks (SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY, through a
 * VFS shim), the store's cross-process key locks (meta_lock_keys, --wrap; also after an
 * object-store-style early upload), and, when DEPOT_TEST_PG_ADMIN names a PostgreSQL server, the metadata store's
 * connection dropped (its socket shut down) just before the Nth statement is sent. Each run must answer the status the fault deserves or succeed, leave the rows
 * exactly as before (failure) or as after (success), leave no staging file, keep the store
 * usable, and after a reopen (start-up cleanup) hold no row without its blob and no blob without
 * its row. LeakSanitizer checks that no failure path leaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tmpdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/pool.h"
#include "store/store.h"

/* Each fixture has an account of its own, so that the PostgreSQL runs can share a database. */
static char ACCT[48];
static unsigned fixtures_made;

/* The PostgreSQL database of this run ("" when the runs are on SQLite only). */
static char pg_admin[512], pg_url[512], pg_db[40];
static bool on_pg;

/* ---- the fault switch ---- */

enum fault_kind {
	F_NONE, F_WRITE, F_SYNC, F_RENAME, F_SQL_WRITE, F_SQL_SYNC, F_SQL_LOCK, F_PG_DROP,
	F_KEY_LOCK
};

static enum fault_kind armed;
static long countdown;   /* the call that fails: 1 = the next one; 0 = none (counting) */
static long counted;     /* calls of the armed kind seen */
static int fault_errno;  /* for the system calls */
static int fault_sqlite; /* for the VFS */
static bool fired;

/* True when this call of kind k is the one to fail. */
static bool hit(enum fault_kind k)
{
	if (armed != k)
		return false;
	counted++;
	if (countdown > 0 && --countdown == 0) {
		fired = true;
		return true;
	}
	return false;
}

ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	if (fd > 2 && hit(F_WRITE)) {
		errno = fault_errno;
		return -1;
	}
	return __real_write(fd, buf, n);
}

int __real_fdatasync(int fd);
int __wrap_fdatasync(int fd);
int __wrap_fdatasync(int fd)
{
	if (hit(F_SYNC)) {
		errno = EIO;
		return -1;
	}
	return __real_fdatasync(fd);
}

int __real_fsync(int fd);
int __wrap_fsync(int fd);
int __wrap_fsync(int fd)
{
	if (hit(F_SYNC)) {
		errno = EIO;
		return -1;
	}
	return __real_fsync(fd);
}

int __real_renameat(int ofd, const char *o, int nfd, const char *n);
int __wrap_renameat(int ofd, const char *o, int nfd, const char *n);
int __wrap_renameat(int ofd, const char *o, int nfd, const char *n)
{
	if (hit(F_RENAME)) {
		errno = fault_errno;
		return -1;
	}
	return __real_renameat(ofd, o, nfd, n);
}

/* ---- the store's cross-process key locks refused (PostgreSQL's, when its session fails) ---- */

enum err_code __real_meta_lock_keys(struct meta *m, const char *const *keys, size_t n,
				    struct err *e);
enum err_code __wrap_meta_lock_keys(struct meta *m, const char *const *keys, size_t n,
				    struct err *e);
enum err_code __wrap_meta_lock_keys(struct meta *m, const char *const *keys, size_t n,
				    struct err *e)
{
	if (hit(F_KEY_LOCK))
		return err_set(e, ERR_UNAVAILABLE, "metadata store unavailable (injected: lock keys)");
	return __real_meta_lock_keys(m, keys, n, e);
}

/* The local file store made to look like an object store, whose place is an upload run before
 * the locks (blob_place_repeatable): the store's early-upload path, without an S3 server. */
static bool places_early;

bool __real_blob_place_repeatable(const struct blob_store *s);
bool __wrap_blob_place_repeatable(const struct blob_store *s);
bool __wrap_blob_place_repeatable(const struct blob_store *s)
{
	return places_early || __real_blob_place_repeatable(s);
}

/* ---- a PostgreSQL session lost just before a statement goes out ---- */

/* The server sees the connection close (and rolls back what was open), libpq sees its sends
 * fail: as when the network or the server goes away between two statements. */
static void maybe_drop(PGconn *c)
{
	if (hit(F_PG_DROP))
		shutdown(PQsocket(c), SHUT_RDWR);
}

int __real_PQsendQuery(PGconn *c, const char *q);
int __wrap_PQsendQuery(PGconn *c, const char *q);
int __wrap_PQsendQuery(PGconn *c, const char *q)
{
	maybe_drop(c);
	return __real_PQsendQuery(c, q);
}

int __real_PQsendPrepare(PGconn *c, const char *name, const char *q, int n, const Oid *types);
int __wrap_PQsendPrepare(PGconn *c, const char *name, const char *q, int n, const Oid *types);
int __wrap_PQsendPrepare(PGconn *c, const char *name, const char *q, int n, const Oid *types)
{
	maybe_drop(c);
	return __real_PQsendPrepare(c, name, q, n, types);
}

int __real_PQsendQueryPrepared(PGconn *c, const char *name, int n, const char *const *v,
			       const int *len, const int *fmt, int rfmt);
int __wrap_PQsendQueryPrepared(PGconn *c, const char *name, int n, const char *const *v,
			       const int *len, const int *fmt, int rfmt);
int __wrap_PQsendQueryPrepared(PGconn *c, const char *name, int n, const char *const *v,
			       const int *len, const int *fmt, int rfmt)
{
	maybe_drop(c);
	return __real_PQsendQueryPrepared(c, name, n, v, len, fmt, rfmt);
}

int __real_PQsendQueryParams(PGconn *c, const char *q, int n, const Oid *types,
			     const char *const *v, const int *len, const int *fmt, int rfmt);
int __wrap_PQsendQueryParams(PGconn *c, const char *q, int n, const Oid *types,
			     const char *const *v, const int *len, const int *fmt, int rfmt);
int __wrap_PQsendQueryParams(PGconn *c, const char *q, int n, const Oid *types,
			     const char *const *v, const int *len, const int *fmt, int rfmt)
{
	maybe_drop(c);
	return __real_PQsendQueryParams(c, q, n, types, v, len, fmt, rfmt);
}

/* ---- a SQLite VFS that delegates to the default one and fails where armed ---- */

struct shim_file {
	sqlite3_file base;
	sqlite3_file *real; /* follows this struct in the same allocation */
};

static sqlite3_vfs *real_vfs;
static sqlite3_vfs shim_vfs;

#define REAL(f) (((struct shim_file *)(f))->real)
#define CALL(f, m, ...) REAL(f)->pMethods->m(REAL(f), __VA_ARGS__)

static int shim_close(sqlite3_file *f)
{
	return REAL(f)->pMethods->xClose(REAL(f));
}
static int shim_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o)
{
	return CALL(f, xRead, b, n, o);
}
static int shim_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{
	return hit(F_SQL_WRITE) ? fault_sqlite : CALL(f, xWrite, b, n, o);
}
static int shim_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	return CALL(f, xTruncate, size);
}
static int shim_sync(sqlite3_file *f, int flags)
{
	return hit(F_SQL_SYNC) ? SQLITE_IOERR_FSYNC : CALL(f, xSync, flags);
}
static int shim_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return CALL(f, xFileSize, size);
}
static int shim_lock(sqlite3_file *f, int level)
{
	return hit(F_SQL_LOCK) ? SQLITE_BUSY : CALL(f, xLock, level);
}
static int shim_unlock(sqlite3_file *f, int level)
{
	return CALL(f, xUnlock, level);
}
static int shim_reserved(sqlite3_file *f, int *out)
{
	return CALL(f, xCheckReservedLock, out);
}
static int shim_control(sqlite3_file *f, int op, void *arg)
{
	return CALL(f, xFileControl, op, arg);
}
static int shim_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int shim_device(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int shim_shm_map(sqlite3_file *f, int pg, int sz, int extend, void volatile **out)
{
	return CALL(f, xShmMap, pg, sz, extend, out);
}
/* In WAL mode the write lock is a shared-memory lock: an exclusive one is where BUSY comes. */
static int shim_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	if ((flags & SQLITE_SHM_LOCK) && (flags & SQLITE_SHM_EXCLUSIVE) && hit(F_SQL_LOCK))
		return SQLITE_BUSY;
	return CALL(f, xShmLock, off, n, flags);
}
static void shim_shm_barrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int shim_shm_unmap(sqlite3_file *f, int del)
{
	return CALL(f, xShmUnmap, del);
}
static int shim_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **out)
{
	return CALL(f, xFetch, off, n, out);
}
static int shim_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return CALL(f, xUnfetch, off, p);
}

static const sqlite3_io_methods shim_io = {
	3, shim_close, shim_read, shim_write, shim_truncate, shim_sync, shim_size, shim_lock,
	shim_unlock, shim_reserved, shim_control, shim_sector, shim_device, shim_shm_map,
	shim_shm_lock, shim_shm_barrier, shim_shm_unmap, shim_fetch, shim_unfetch,
};

static int shim_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags, int *out)
{
	(void)v;
	struct shim_file *sf = (struct shim_file *)f;
	sf->real = (sqlite3_file *)(sf + 1);
	int rc = real_vfs->xOpen(real_vfs, name, sf->real, flags, out);
	f->pMethods = sf->real->pMethods != NULL ? &shim_io : NULL;
	return rc;
}

static void shim_install(void)
{
	real_vfs = sqlite3_vfs_find(NULL);
	shim_vfs = *real_vfs;
	shim_vfs.zName = "depot-faults";
	shim_vfs.szOsFile = (int)sizeof(struct shim_file) + real_vfs->szOsFile;
	shim_vfs.xOpen = shim_open;
	sqlite3_vfs_register(&shim_vfs, 1);
}

/* ---- fixture: a store with two resources, a file-backed one and an inline one ---- */

struct fixture {
	char dir[64];
	struct store *s;
	struct pool pool;
	char file_id[37], inline_id[37];
};

static void open_store(struct fixture *f)
{
	char meta_url[600], blob_url[128];
	if (on_pg)
		snprintf(meta_url, sizeof(meta_url), "%s", pg_url);
	else
		snprintf(meta_url, sizeof(meta_url), "sqlite:%s/t.db", f->dir);
	snprintf(blob_url, sizeof(blob_url), "file:%s", f->dir);
	struct err e = {0};
	if (store_open(meta_url, blob_url, &f->s, &e) != ERR_OK)
		fail_msg("store_open: %s", e.msg);
	store_set_inline_max(f->s, 16384);
}

static void fill(unsigned char *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)((i * 131 + seed * 7919) >> 3);
}

static struct blob_writer *writer_of(struct fixture *f, size_t n, unsigned seed,
				     enum err_code *rc, struct err *e)
{
	struct blob_writer *w = NULL;
	unsigned char *b = malloc(n);
	fill(b, n, seed);
	*rc = store_writer_new(f->s, &w, e);
	if (*rc == ERR_OK)
		*rc = blob_writer_write(w, b, n, e);
	free(b);
	return w;
}

static enum err_code create(struct fixture *f, const char *name, size_t n, unsigned seed,
			    char id[37], struct err *e)
{
	enum err_code rc;
	struct blob_writer *w = writer_of(f, n, seed, &rc, e);
	struct meta_resource r = {.account_id = ACCT, .name = name, .directory_path = "/f/",
				  .mime_type = "application/octet-stream",
				  .created_at_us = 1000 + seed, .updated_at_us = 1000};
	if (rc == ERR_OK)
		rc = store_resource_create(f->s, &r, w, &f->pool, e);
	blob_writer_free(w);
	if (rc == ERR_OK && id != NULL)
		memcpy(id, r.id, 37);
	return rc;
}

static struct fixture *fixture_new(void)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(ACCT, sizeof(ACCT), "acct-faults-%u", ++fixtures_made);
	assert_true(tmpdir_make(f->dir, sizeof(f->dir), "faults"));
	pool_init(&f->pool);
	open_store(f);
	struct err e;
	assert_int_equal(create(f, "file", 100000, 1, f->file_id, &e), ERR_OK);
	assert_int_equal(create(f, "small", 2000, 2, f->inline_id, &e), ERR_OK);
	return f;
}

static void fixture_free(struct fixture *f)
{
	store_close(f->s);
	pool_cleanup(&f->pool);
	tmpdir_remove(f->dir);
	free(f);
}

/* The account's rows as one comparable string (ids as F, S or new: they differ per fixture). */
static char *rows_of(struct fixture *f)
{
	struct meta_query q = {.account_id = ACCT, .created_after_us = INT64_MIN,
			       .created_before_us = INT64_MAX, .status = META_STATUS_UPLOADED,
			       .limit = 100};
	struct meta_page p;
	struct err e;
	assert_int_equal(meta_resource_list(store_meta(f->s), &q, &f->pool, &p, &e), ERR_OK);
	struct buf b;
	buf_init(&b, 256);
	for (size_t i = 0; i < p.nitems; i++) {
		struct meta_resource *r = &p.items[i];
		const char *who = strcmp(r->id, f->file_id) == 0     ? "F"
				  : strcmp(r->id, f->inline_id) == 0 ? "S"
								     : "new";
		/* The key without its account part (kind/account/sha256): accounts differ. */
		const char *slash = strchr(r->storage_key, '/');
		const char *last = strrchr(r->storage_key, '/');
		buf_printf(&b, "%s %s %s %lld %.*s%s\n", who, r->name, r->sha256,
			   (long long)r->version,
			   slash != NULL ? (int)(slash - r->storage_key) : 0, r->storage_key,
			   last != NULL ? last : r->storage_key);
	}
	size_t len;
	return buf_take(&b, &len);
}

static int count_files(const char *dir, const char *sub)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	DIR *d = opendir(path);
	int n = 0;
	if (d == NULL)
		return 0;
	for (struct dirent *de; (de = readdir(d)) != NULL;) {
		if (de->d_name[0] == '.')
			continue;
		char child[300];
		snprintf(child, sizeof(child), "%s/%s", sub, de->d_name);
		n += de->d_type == DT_DIR ? count_files(dir, child) : 1;
	}
	closedir(d);
	return n;
}

/* After a reopen: every row's blob is there, and nothing else is. */
static void assert_blobs_match_rows(struct fixture *f)
{
	struct meta_query q = {.account_id = ACCT, .created_after_us = INT64_MIN,
			       .created_before_us = INT64_MAX, .status = META_STATUS_UPLOADED,
			       .limit = 100};
	struct meta_page p;
	struct err e;
	assert_int_equal(meta_resource_list(store_meta(f->s), &q, &f->pool, &p, &e), ERR_OK);
	int files = 0;
	for (size_t i = 0; i < p.nitems; i++) {
		struct blob_read rd;
		assert_int_equal(store_content_open(f->s, &p.items[i], 0, 0, &f->pool, &rd, &e),
				 ERR_OK);
		assert_int_equal((int64_t)rd.size, p.items[i].size_bytes);
		bool file = rd.fd >= 0;
		blob_read_close(&rd);
		if (file) {
			bool dup = false;
			for (size_t j = 0; j < i; j++)
				dup |= strcmp(p.items[j].storage_key, p.items[i].storage_key) == 0;
			files += !dup;
		}
	}
	assert_int_equal(count_files(f->dir, "blobs"), files);
	assert_int_equal(count_files(f->dir, "staging"), 0);
}

/* ---- the operations ---- */

typedef enum err_code (*op_fn)(struct fixture *f, struct err *e);

static enum err_code op_create_file(struct fixture *f, struct err *e)
{
	return create(f, "new-file", 120000, 3, NULL, e);
}

static enum err_code op_create_inline(struct fixture *f, struct err *e)
{
	return create(f, "new-small", 3000, 4, NULL, e);
}

static enum err_code op_rename(struct fixture *f, struct err *e)
{
	struct meta_update u = {.set_name = true, .name = "renamed", .updated_at_us = 2000};
	struct meta_cond cond = {0};
	struct meta_resource out;
	return store_resource_update(f->s, ACCT, f->file_id, &u, &cond, &f->pool, &out, e);
}

static enum err_code replace(struct fixture *f, const char *id, size_t n, struct err *e)
{
	enum err_code rc;
	struct blob_writer *w = writer_of(f, n, 5, &rc, e);
	struct meta_cond cond = {0};
	struct store_put put = {.mime_type = "application/octet-stream", .cond = &cond};
	struct meta_resource out;
	if (rc == ERR_OK)
		rc = store_resource_put_content(f->s, ACCT, id, w, &put, &f->pool, &out, e);
	blob_writer_free(w);
	return rc;
}

/* Fields and content in one write: every fault leaves both old or both new. */
static enum err_code op_rename_and_replace(struct fixture *f, struct err *e)
{
	enum err_code rc;
	struct blob_writer *w = writer_of(f, 80000, 6, &rc, e);
	struct meta_update u = {.set_name = true, .name = "renamed", .updated_at_us = 2000};
	struct meta_cond cond = {.version = 1};
	struct store_put put = {.mime_type = "application/octet-stream", .cond = &cond,
				.fields = &u};
	struct meta_resource out;
	if (rc == ERR_OK)
		rc = store_resource_put_content(f->s, ACCT, f->file_id, w, &put, &f->pool, &out, e);
	blob_writer_free(w);
	return rc;
}

static enum err_code op_replace_file(struct fixture *f, struct err *e)
{
	return replace(f, f->file_id, 90000, e);
}

static enum err_code op_replace_inline_by_file(struct fixture *f, struct err *e)
{
	return replace(f, f->inline_id, 70000, e);
}

static enum err_code op_delete(struct fixture *f, struct err *e)
{
	struct meta_cond cond = {0};
	return store_resource_delete(f->s, ACCT, f->file_id, &cond, &f->pool, e);
}

/* ---- the driver ---- */

struct fault {
	const char *name;
	enum fault_kind kind;
	int err_no, sqlite_rc;
	enum err_code expect; /* the failure it must be reported as */
};

static const struct fault faults[] = {
	{"write ENOSPC", F_WRITE, ENOSPC, 0, ERR_NO_SPACE},
	{"write EIO", F_WRITE, EIO, 0, ERR_INTERNAL},
	{"fsync EIO", F_SYNC, EIO, 0, ERR_INTERNAL},
	{"rename EIO", F_RENAME, EIO, 0, ERR_INTERNAL},
	{"rename ENOSPC", F_RENAME, ENOSPC, 0, ERR_NO_SPACE},
	{"sqlite write FULL", F_SQL_WRITE, 0, SQLITE_FULL, ERR_NO_SPACE},
	{"sqlite write IOERR", F_SQL_WRITE, 0, SQLITE_IOERR_WRITE, ERR_INTERNAL},
	{"sqlite sync IOERR", F_SQL_SYNC, 0, 0, ERR_INTERNAL},
	{"sqlite lock BUSY", F_SQL_LOCK, 0, 0, ERR_UNAVAILABLE},
	{"key locks unavailable", F_KEY_LOCK, 0, 0, ERR_UNAVAILABLE},
};

static const struct fault pg_faults[] = {
	{"postgres connection dropped", F_PG_DROP, 0, 0, ERR_UNAVAILABLE},
};

static void arm(const struct fault *ft, long at)
{
	armed = ft->kind;
	countdown = at;
	counted = 0;
	fault_errno = ft->err_no;
	fault_sqlite = ft->sqlite_rc;
	fired = false;
}

static long runs, failures_seen;

/* Runs op under fault ft at every call N it makes, checking each outcome. */
static void every_n(const char *op_name, op_fn op, const struct fault *ft)
{
	/* The rows before and after a clean run, and how many calls of this kind it makes. */
	struct fixture *f = fixture_new();
	char *before = rows_of(f);
	struct err e = {0};
	arm(ft, 0);
	assert_int_equal(op(f, &e), ERR_OK);
	long calls = counted;
	armed = F_NONE;
	if (ft->kind >= F_SQL_WRITE && ft->kind <= F_PG_DROP && calls == 0)
		fail_msg("%s made no metadata call of the kind '%s': the shim is not in the path",
			 op_name, ft->name);
	char *after = rows_of(f);
	fixture_free(f);

	for (long n = 1; n <= calls; n++) {
		f = fixture_new();
		arm(ft, n);
		enum err_code rc = op(f, &e);
		armed = F_NONE;
		runs++;
		char *now = rows_of(f);
		if (rc != ERR_OK && rc != ft->expect)
			fail_msg("%s with %s at call %ld: answered %d (%s), expected %d", op_name,
				 ft->name, n, rc, e.msg, ft->expect);
		const char *want = rc == ERR_OK ? after : before;
		if (strcmp(now, want) != 0)
			fail_msg("%s with %s at call %ld (rc %d): rows\n%s\nexpected\n%s", op_name,
				 ft->name, n, rc, now, want);
		failures_seen += rc != ERR_OK;
		if (count_files(f->dir, "staging") != 0)
			fail_msg("%s with %s at call %ld: staging file left", op_name, ft->name, n);
		/* Still usable, and consistent after start-up cleanup. */
		assert_int_equal(create(f, "probe", 50000, 9, NULL, &e), ERR_OK);
		store_close(f->s);
		open_store(f);
		assert_blobs_match_rows(f);
		free(now);
		fixture_free(f);
	}
	free(before);
	free(after);
}

static const struct {
	const char *name;
	op_fn fn;
} ops[] = {
	{"create (file)", op_create_file},
	{"create (inline)", op_create_inline},
	{"rename", op_rename},
	{"content replace", op_replace_file},
	{"content replace (inline to file)", op_replace_inline_by_file},
	{"rename and content replace", op_rename_and_replace},
	{"delete", op_delete},
};

static void each_fault_at_every_call(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		for (size_t j = 0; j < sizeof(faults) / sizeof(faults[0]); j++)
			every_n(ops[i].name, ops[i].fn, &faults[j]);
	printf("fault runs: %ld, of which answered with an error: %ld\n", runs, failures_seen);
	assert_true(runs > 50);
	assert_true(failures_seen > 20);
}

/* A create whose blob was uploaded before the locks (an object store's early place), then
 * the key locks failed: the upload is released at once, as a content change releases its own
 * (commit_with), not left to the next start-up sweep. */
static void lock_failure_after_early_upload_releases_it(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	char *before = rows_of(f);
	int blobs = count_files(f->dir, "blobs");
	struct err e = {0};
	places_early = true;
	op_fn ops_early[] = {op_create_file, op_replace_file, op_rename_and_replace};
	for (size_t i = 0; i < sizeof(ops_early) / sizeof(ops_early[0]); i++) {
		armed = F_KEY_LOCK;
		countdown = 1;
		fired = false;
		assert_int_equal(ops_early[i](f, &e), ERR_UNAVAILABLE);
		assert_true(fired);
		armed = F_NONE;
		char *now = rows_of(f);
		assert_string_equal(now, before);
		free(now);
		assert_int_equal(count_files(f->dir, "blobs"), blobs);
		assert_int_equal(count_files(f->dir, "staging"), 0);
	}
	/* The same store still creates (early upload, then the row) once the locks work. */
	assert_int_equal(op_create_file(f, &e), ERR_OK);
	assert_int_equal(count_files(f->dir, "blobs"), blobs + 1);
	places_early = false;
	free(before);
	fixture_free(f);
}

/* Runs sql on the admin database; whether it worked. */
static bool pg_admin_exec(const char *sql)
{
	PGconn *c = PQconnectdb(pg_admin);
	bool ok = PQstatus(c) == CONNECTION_OK;
	if (ok) {
		PGresult *r = PQexec(c, sql);
		ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		if (!ok)
			fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(r));
		PQclear(r);
	} else {
		fprintf(stderr, "connect: %s", PQerrorMessage(c));
	}
	PQfinish(c);
	return ok;
}

/* The same operations on PostgreSQL metadata (blobs on local files), the connection dropped
 * before each of their statements in turn. */
static void postgres_connection_dropped_at_every_call(void **state)
{
	(void)state;
	const char *admin = getenv("DEPOT_TEST_PG_ADMIN");
	if (admin == NULL || !*admin) {
		puts("DEPOT_TEST_PG_ADMIN is unset: the PostgreSQL runs are skipped");
		skip();
	}
	snprintf(pg_admin, sizeof(pg_admin), "%s", admin);
	snprintf(pg_db, sizeof(pg_db), "t_unit_faults_%d", (int)getpid());
	const char *auth = strstr(admin, "://");
	const char *slash = strchr(auth != NULL ? auth + 3 : admin, '/');
	int base = slash != NULL ? (int)(slash - admin) : (int)strlen(admin);
	snprintf(pg_url, sizeof(pg_url), "%.*s/%s", base, admin, pg_db);
	char sql[96];
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", pg_db);
	assert_true(pg_admin_exec(sql));
	on_pg = true;
	runs = failures_seen = 0;
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		every_n(ops[i].name, ops[i].fn, &pg_faults[0]);
	on_pg = false;
	snprintf(sql, sizeof(sql), "DROP DATABASE %s WITH (FORCE)", pg_db);
	pg_admin_exec(sql);
	printf("postgres runs: %ld, of which answered with an error: %ld\n", runs,
	       failures_seen);
	assert_true(runs > 20);
	assert_true(failures_seen > 10);
}

int main(void)
{
	shim_install();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_fault_at_every_call),
		cmocka_unit_test(lock_failure_after_early_upload_releases_it),
		cmocka_unit_test(postgres_connection_dropped_at_every_call),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
