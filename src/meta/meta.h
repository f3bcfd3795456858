/* The metadata store as handlers and the store layer see it: resources, their tags, shares and
 * folders, scoped to an account on every call (a reader sees another account's resource only
 * when its read_access allows). Backends (SQLite, later PostgreSQL) sit behind meta_int.h. */
#ifndef DEPOT_META_H
#define DEPOT_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/pool.h"

/* The test value of a resource: a second content, beside the live one. */
struct meta_test {
	char sha256[65];              /* lowercase hex; "" when there is none */
	int64_t size_bytes;
	const char *mime_type;
	const char *storage_bucket;
	const char *storage_key;      /* NULL when there is none */
	const char *file_name;        /* nullable: the name a file value was given */
};

/* One resource row with its tags. Strings are NUL-terminated; in results they live in the
 * caller's pool. Nullable fields are NULL when unset. */
struct meta_resource {
	char id[37];                  /* lowercase UUID */
	const char *account_id;
	const char *name;
	const char *directory_path;   /* normalised */
	const char *mime_type;
	char sha256[65];              /* lowercase hex */
	int64_t size_bytes;
	const char *original_uri;     /* nullable */
	const char *external_id;      /* nullable */
	const char *external_storage_type; /* nullable */
	const char *storage_bucket;
	const char *storage_key;
	const char *metadata_json;    /* nullable; compact JSON object text */
	const char *created_by;       /* nullable */
	int64_t created_at_us;
	int64_t updated_at_us;
	const char **tags;            /* sorted, distinct */
	size_t ntags;
	const char *status;           /* META_STATUS_UPLOADED or META_STATUS_PENDING */
	int64_t version;              /* 1 at creation, +1 per change */
	/* On insert: small content kept in the metadata store itself, under storage_key, in the
	 * same transaction as the row (storage_bucket META_INLINE_BUCKET); NULL otherwise. */
	const unsigned char *inline_bytes;
	size_t inline_len;
	/* Numeric id: server-wide, ascending, never reused; assigned by create (0 on insert). */
	int64_t nid;
	const char *description;      /* nullable */
	const char *read_access;      /* META_ACCESS_*; NULL on insert means TEAM */
	const char **shared_with;     /* SPECIFIC_TEAMS: the accounts that may read; sorted */
	size_t nshared;
	const char *file_name;        /* nullable: the name a file value was given */
	bool test_enabled;            /* test_resource_enabled */
	struct meta_test test;        /* the test value (test_enabled only) */
	/* Read only, filled by reads: */
	int64_t folder_id;            /* the owner's folder whose path is directory_path; 0: none */
	/* Read only, filled by meta_resource_nids alone (reads leave them 0: only the dialects
	 * show them, and a list or a get of /v1 should not pay two lookups per row for them): */
	int64_t account_nid;          /* numeric id of account_id */
	int64_t user_nid;             /* numeric id of created_by; 0 when created_by is NULL */
};

/* Who may read a resource besides its owner account. */
#define META_ACCESS_TEAM "TEAM"                   /* nobody */
#define META_ACCESS_GLOBAL "GLOBAL"               /* every account of this server */
#define META_ACCESS_SPECIFIC "SPECIFIC_TEAMS"     /* the accounts in shared_with */

/* The bucket of content held inline in the metadata store. Its keys start with "inline/". */
#define META_INLINE_BUCKET "inline"

#define META_STATUS_UPLOADED "uploaded"
#define META_STATUS_PENDING "pending"

/* True when r holds bytes: an uploaded resource, or a pending one whose bytes were PUT. */
#define META_HAS_BYTES(r) ((r)->sha256[0] != '\0')

/* An If-Match precondition: the write happens only when every set field matches. */
struct meta_cond {
	int64_t version;              /* 0: any */
	const char *sha256;           /* NULL: any */
};

/* New content for a resource. */
struct meta_content {
	const char *sha256;
	int64_t size_bytes;
	const char *mime_type;
	const char *storage_bucket;
	const char *storage_key;
	int64_t updated_at_us;
	bool pending_upload_only;     /* the signed upload URL: only a pending row without bytes */
	const unsigned char *inline_bytes; /* small content held inline, or NULL */
	size_t inline_len;
	bool test_value;              /* replaces the test value (ERR_CONFLICT without one) */
	const char *file_name;        /* nullable: the name of a file value */
	const char *external_id;      /* the live content's new source version, or NULL: kept */
};

/* A partial update: only fields with their set_ flag change. */
struct meta_update {
	bool set_name, set_directory_path, set_metadata, set_tags;
	const char *name;
	const char *directory_path;
	const char *metadata_json;    /* NULL clears */
	const char **tags;            /* sorted, distinct */
	size_t ntags;
	bool confirm_upload;          /* pending → uploaded; ERR_CONFLICT without bytes */
	int64_t updated_at_us;
	bool set_description;
	const char *description;      /* NULL clears */
	bool set_read_access;
	const char *read_access;      /* META_ACCESS_* */
	bool set_shared_with;
	const char **shared_with;     /* sorted, distinct */
	size_t nshared;
	/* false → true: the test value starts as a copy of the live content (ERR_CONFLICT when
	 * there is none); true → false: the test value is dropped. */
	bool set_test_enabled, test_enabled;
	/* Optional out: the storage key of a test value this update dropped (pool), else NULL.
	 * The caller releases its blob when nothing else refers to it. */
	const char **dropped_key;
	/* NULL, or new content (content->test_value: the test value) written after the fields
	 * in the same transaction, the version going up once for both; the test value the
	 * fields turn on may be written so. content_old_key (required with content) receives
	 * what meta_resource_set_content's old_key would. */
	const struct meta_content *content;
	const char **content_old_key;
};

/* The sharing rules of an update, given the row's current read_access and share count:
 * SPECIFIC_TEAMS needs at least one account, the other modes none; a change of read_access
 * away from SPECIFIC_TEAMS clears the shares. *rewrite tells whether the share rows change and
 * *access what read_access becomes. ERR_INVALID naming the rule broken. Backend-neutral. */
enum err_code meta_sharing_apply(const char *cur_access, const struct meta_update *u,
				 const char **access, bool *rewrite, struct err *e)
	__attribute__((warn_unused_result));

enum meta_sort { META_SORT_DESC = 0, META_SORT_ASC = 1 };

/* Whose resources a list shows: the reader's own (the indexed path), those other accounts
 * share with the reader (GLOBAL, or SPECIFIC_TEAMS naming it), or both. */
enum meta_owner { META_OWNER_ME = 0, META_OWNER_SHARED = 1, META_OWNER_ANY = 2 };

struct meta_query {
	const char *account_id;
	const char *directory_prefix; /* NULL for none; a plain byte prefix */
	bool directory_exact;         /* directory_prefix must equal the whole directory_path */
	enum meta_owner owner;
	int64_t owner_nid;            /* 0, or: shared rows only of the account with this nid */
	const char **tags;            /* every one must be present; distinct */
	size_t ntags;
	int64_t created_after_us;     /* exclusive; INT64_MIN for none */
	int64_t created_before_us;    /* exclusive; INT64_MAX for none */
	enum meta_sort sort;
	const char *status;           /* only rows with this status */
	bool has_cursor;              /* keyset: rows strictly after (cursor_created_us, cursor_id) */
	int64_t cursor_created_us;
	const char *cursor_id;
	int64_t offset;               /* ignored with a cursor */
	int64_t limit;
};

struct meta_page {
	struct meta_resource *items;  /* in the pool */
	size_t nitems;
	int64_t total;                /* all rows matching the filters */
	bool has_more;                /* rows follow this page */
};

/* A folder: a directory_path of an account with a numeric id. */
struct meta_folder {
	int64_t id;                   /* server-wide, ascending, never reused */
	const char *account_id;
	const char *path;             /* normalised directory_path, never "/" */
	int64_t created_at_us;
};

struct meta_folder_page {
	struct meta_folder *items;    /* in the pool, ordered by path */
	size_t nitems;
	int64_t total;
};

struct meta;

/* Opens the store described by url ("sqlite:PATH") and applies its migrations. */
enum err_code meta_open(const char *url, struct meta **out, struct err *e)
	__attribute__((warn_unused_result));

void meta_close(struct meta *m);

/* Inserts r (with its shares and, when test_enabled, its test value), assigning its nid, and
 * records numeric ids for its account and created_by. ERR_CONFLICT when (account_id,
 * directory_path, name) is taken. */
enum err_code meta_resource_create(struct meta *m, const struct meta_resource *r, struct err *e)
	__attribute__((warn_unused_result));

/* Inserts rows[0..n) in one transaction. A row whose name is taken gets results[i] =
 * ERR_CONFLICT and is skipped; the others get ERR_OK. A failure of the transaction itself is
 * returned (and no row is kept). */
enum err_code meta_resource_create_batch(struct meta *m, const struct meta_resource *rows,
					 size_t n, enum err_code *results, struct err *e)
	__attribute__((warn_unused_result));

/* Reads one resource of account into out (strings in pool). ERR_NOT_FOUND when absent. */
enum err_code meta_resource_get(struct meta *m, const char *account, const char *id,
				struct pool *pool, struct meta_resource *out, struct err *e)
	__attribute__((warn_unused_result));

/* Reads one resource that reader may read: its own, or another account's whose read_access is
 * GLOBAL or SPECIFIC_TEAMS naming reader. ERR_NOT_FOUND otherwise. */
enum err_code meta_resource_get_visible(struct meta *m, const char *reader, const char *id,
					struct pool *pool, struct meta_resource *out,
					struct err *e) __attribute__((warn_unused_result));

/* As meta_resource_get_visible, by numeric id. */
enum err_code meta_resource_get_by_nid(struct meta *m, const char *reader, int64_t nid,
				       struct pool *pool, struct meta_resource *out,
				       struct err *e) __attribute__((warn_unused_result));

/* Applies u (and its content, when given) when cond holds (ERR_PRECONDITION otherwise), bumps
 * the version once, and reads the result back into out. ERR_NOT_FOUND, ERR_CONFLICT (also
 * those of meta_resource_set_content for the content); on any error nothing changed. */
enum err_code meta_resource_update(struct meta *m, const char *account, const char *id,
				   const struct meta_update *u, const struct meta_cond *cond,
				   struct pool *pool, struct meta_resource *out, struct err *e)
	__attribute__((warn_unused_result));

/* Points the resource (or, with c->test_value, its test value) at new content when cond holds,
 * bumps the version, and returns the row after (out) and the storage key that content had
 * before (*old_key, pool copy, "" or NULL when none). ERR_NOT_FOUND, ERR_PRECONDITION,
 * ERR_CONFLICT (pending_upload_only and not pending without bytes; test_value and not
 * test_enabled). */
enum err_code meta_resource_set_content(struct meta *m, const char *account, const char *id,
					const struct meta_content *c, const struct meta_cond *cond,
					struct pool *pool, struct meta_resource *out,
					const char **old_key, struct err *e)
	__attribute__((warn_unused_result));

/* Deletes one resource when cond holds; out receives the deleted row (its storage_key is what
 * the caller may need to release) and *key_still_used whether another resource refers to the
 * same key. */
enum err_code meta_resource_delete(struct meta *m, const char *account, const char *id,
				   const struct meta_cond *cond, struct pool *pool,
				   struct meta_resource *out, bool *key_still_used, struct err *e)
	__attribute__((warn_unused_result));

/* A number that changes with every committed write of account's resources or folders (and,
 * rarely, of another account's): an answer about the account's own rows computed after reading
 * it stays right while it is unchanged. false: the backend cannot tell (no caching). */
bool meta_list_generation(struct meta *m, const char *account, uint64_t *gen);

/* One page of resources matching q, and the total count. */
enum err_code meta_resource_list(struct meta *m, const struct meta_query *q, struct pool *pool,
				 struct meta_page *out, struct err *e)
	__attribute__((warn_unused_result));

/* The inline content stored under storage_key (pool copy). ERR_NOT_FOUND when absent. */
enum err_code meta_inline_get(struct meta *m, const char *storage_key, struct pool *pool,
			      const unsigned char **bytes, size_t *len, struct err *e)
	__attribute__((warn_unused_result));

/* Whether any resource (of any account) refers to the blob at storage_key, as its content or
 * as its test value. */
enum err_code meta_storage_key_used(struct meta *m, const char *storage_key, bool *used,
				    struct err *e) __attribute__((warn_unused_result));

/* The numeric id of account, made on first use. */
enum err_code meta_account_nid(struct meta *m, const char *account, int64_t *nid, struct err *e)
	__attribute__((warn_unused_result));

/* Fills account_nid and user_nid of rows[0..n) (as read: their account_id and created_by);
 * 0 for an id without a number. Consecutive rows of one account and creator cost one lookup. */
enum err_code meta_resource_nids(struct meta *m, struct meta_resource *rows, size_t n,
				 struct err *e) __attribute__((warn_unused_result));

/* Makes a folder of account at path (normalised, not "/"); out gets it (pool). ERR_CONFLICT
 * when the account has a folder at path. */
enum err_code meta_folder_create(struct meta *m, const char *account, const char *path,
				 int64_t created_at_us, struct pool *pool, struct meta_folder *out,
				 struct err *e) __attribute__((warn_unused_result));

/* One folder of account. ERR_NOT_FOUND when account has no folder with this id. */
enum err_code meta_folder_get(struct meta *m, const char *account, int64_t id,
			      struct pool *pool, struct meta_folder *out, struct err *e)
	__attribute__((warn_unused_result));

/* The folders of account ordered by path: limit from offset, and the total. */
enum err_code meta_folder_list(struct meta *m, const char *account, int64_t offset,
			       int64_t limit, struct pool *pool, struct meta_folder_page *out,
			       struct err *e) __attribute__((warn_unused_result));

/* Takes, for the calling thread, an exclusive lock on each of keys[0..n) shared by every
 * process using this metadata store, so "place blob + insert row" and "check unused + remove
 * blob" of one key never interleave across depotd processes. Keys may repeat; locks are taken
 * in one global order, so two lockers never deadlock. A no-op for a single-process store. */
enum err_code meta_lock_keys(struct meta *m, const char *const *keys, size_t n, struct err *e)
	__attribute__((warn_unused_result));

/* Releases what meta_lock_keys took (same keys, same thread). */
void meta_unlock_keys(struct meta *m, const char *const *keys, size_t n);

/* Waits (at most max_ms) until the writes other processes had in flight at the call are
 * committed or gone, so that what this process reads next includes them; the start-up sweep
 * asks this before it judges a blob unused. Whether everything settled (always true for a
 * single-process store). */
bool meta_settle(struct meta *m, int max_ms);

#endif
