/* What a metadata backend implements. Only meta.c and the backends include this. */
#ifndef DEPOT_META_INT_H
#define DEPOT_META_INT_H

#include "meta/meta.h"

#include <pthread.h>

struct meta_ops {
	const char *scheme; /* "sqlite" */
	const char *alias;  /* another scheme meaning the same, or NULL ("postgres") */
	enum err_code (*open)(const char *rest, struct meta **out, struct err *e);
	void (*close)(struct meta *m);
	enum err_code (*create)(struct meta *m, const struct meta_resource *r, struct err *e);
	enum err_code (*create_batch)(struct meta *m, const struct meta_resource *rows, size_t n,
				      enum err_code *results, struct err *e);
	enum err_code (*get)(struct meta *m, const char *account, const char *id, struct pool *pool,
			     struct meta_resource *out, struct err *e);
	enum err_code (*get_visible)(struct meta *m, const char *reader, const char *id,
				     struct pool *pool, struct meta_resource *out, struct err *e);
	enum err_code (*get_by_nid)(struct meta *m, const char *reader, int64_t nid,
				    struct pool *pool, struct meta_resource *out, struct err *e);
	enum err_code (*update)(struct meta *m, const char *account, const char *id,
				const struct meta_update *u, const struct meta_cond *cond,
				struct pool *pool, struct meta_resource *out, struct err *e);
	enum err_code (*set_content)(struct meta *m, const char *account, const char *id,
				     const struct meta_content *c, const struct meta_cond *cond,
				     struct pool *pool, struct meta_resource *out,
				     const char **old_key, struct err *e);
	enum err_code (*del)(struct meta *m, const char *account, const char *id,
			     const struct meta_cond *cond, struct pool *pool,
			     struct meta_resource *out, bool *key_still_used, struct err *e);
	enum err_code (*list)(struct meta *m, const struct meta_query *q, struct pool *pool,
			      struct meta_page *out, struct err *e);
	/* See meta_list_generation. NULL when another process may write the store (PostgreSQL),
	 * so no answer can be known to be current. */
	bool (*list_generation)(struct meta *m, const char *account, uint64_t *gen);
	enum err_code (*inline_get)(struct meta *m, const char *storage_key, struct pool *pool,
				    const unsigned char **bytes, size_t *len, struct err *e);
	enum err_code (*key_used)(struct meta *m, const char *storage_key, bool *used,
				  struct err *e);
	enum err_code (*account_nid)(struct meta *m, const char *account, int64_t *nid,
				     struct err *e);
	/* The numbers of account and of user (NULL: none), 0 for a name without one; makes
	 * none. */
	enum err_code (*nids)(struct meta *m, const char *account, const char *user,
			      int64_t *account_nid, int64_t *user_nid, struct err *e);
	enum err_code (*folder_create)(struct meta *m, const char *account, const char *path,
				       int64_t created_at_us, struct pool *pool,
				       struct meta_folder *out, struct err *e);
	enum err_code (*folder_get)(struct meta *m, const char *account, int64_t id,
				    struct pool *pool, struct meta_folder *out, struct err *e);
	enum err_code (*folder_list)(struct meta *m, const char *account, int64_t offset,
				     int64_t limit, struct pool *pool, struct meta_folder_page *out,
				     struct err *e);
	/* Cross-process exclusion of blob keys (see meta_lock_keys). NULL when one process owns
	 * the store (SQLite: one depotd per database file), where the store's own locks do. */
	enum err_code (*lock_keys)(struct meta *m, const char *const *keys, size_t n,
				   struct err *e);
	void (*unlock_keys)(struct meta *m, const char *const *keys, size_t n);
	/* See meta_settle. NULL when no other process writes (SQLite). */
	bool (*settle)(struct meta *m, int max_ms);
};

/* Every backend's struct meta starts with this. */
struct meta {
	const struct meta_ops *ops;
};

/* Connections a backend keeps one per thread: made on a thread's first call, closed when the
 * thread exits or the store closes. A backend's connection struct starts with a meta_conn. */
struct meta_conn {
	struct meta_conn *next;     /* in meta_conns.head */
	struct meta_conns *owner;
};

struct meta_conns {
	pthread_key_t key;          /* this thread's connection */
	pthread_mutex_t lock;       /* guards head */
	struct meta_conn *head;
	void (*close)(struct meta_conn *c); /* closes and frees one connection */
};

/* Prepares cs; false when no thread key is left. */
bool meta_conns_init(struct meta_conns *cs, void (*close)(struct meta_conn *c));

/* This thread's connection, or NULL before its first. */
struct meta_conn *meta_conns_mine(struct meta_conns *cs);

/* Makes c this thread's connection. */
void meta_conns_adopt(struct meta_conns *cs, struct meta_conn *c);

/* Closes every connection left; no thread may use cs any more. */
void meta_conns_cleanup(struct meta_conns *cs);

/* A meta_update against the row as it is: ERR_CONFLICT when it confirms an upload that has no
 * bytes, or turns the test value on for a row without bytes; *noop when it changes nothing (an
 * empty update, or confirming what is confirmed), which then makes no new version; then the
 * sharing rules of meta_sharing_apply, whose *access and *rewrite_shares it passes on. */
enum err_code meta_update_check(const struct meta_resource *cur, const struct meta_update *u,
				bool *noop, const char **access, bool *rewrite_shares,
				struct err *e) __attribute__((warn_unused_result));

/* New content against the row as it is: ERR_CONFLICT when it comes through the upload URL
 * (pending_upload_only) and the row is not pending or already has bytes, or when it is a test
 * value and the row's test value is off. */
enum err_code meta_content_check(const struct meta_resource *cur, const struct meta_content *c,
				 struct err *e) __attribute__((warn_unused_result));

/* The content of an update (u->content) against the row as the update's fields leave it (the
 * test value turned on or off): meta_content_check's answer, and *before, the storage key that
 * content has until it is written (NULL or "" when none). */
enum err_code meta_update_content_check(const struct meta_resource *cur,
					const struct meta_update *u, const char **before,
					struct err *e) __attribute__((warn_unused_result));

/* The tags (or share accounts) of a row as one string, joined by this byte (none of them holds
 * a control character). */
#define META_TAG_SEP '\x1f'

/* Sets *out and *n from joined (NULL or "": none); the strings are copies in pool. */
void meta_split(const char *joined, struct pool *pool, const char ***out, size_t *n);

/* What meta_split reads back as v[0..n): v sorted in byte order, without repeats, joined by
 * META_TAG_SEP (pool); NULL when n is 0. A backend keeps a row's tags and shares so, beside
 * the rows that index them, to read them with the row. */
const char *meta_join(const char *const *v, size_t n, struct pool *pool);

/* ERR_PRECONDITION ("resource has changed (If-Match)") when cond, which may be NULL, does not
 * hold for the row cur. */
enum err_code meta_cond_check(const struct meta_resource *cur, const struct meta_cond *cond,
			      struct err *e) __attribute__((warn_unused_result));

/* The 16 variants of one kind of list statement L(prefix, tags, cursor, order), in the order of
 * a backend's variant bits (1 prefix, 2 tags, 4 cursor, 8 ascending), from its own W_PREFIX,
 * W_TAGS, W_AFTER_DESC and W_AFTER_ASC. */
#define META_LIST16(L)                                                                         \
	L("", "", "", DESC), L(W_PREFIX, "", "", DESC), L("", W_TAGS, "", DESC),               \
	L(W_PREFIX, W_TAGS, "", DESC), L("", "", W_AFTER_DESC, DESC),                          \
	L(W_PREFIX, "", W_AFTER_DESC, DESC), L("", W_TAGS, W_AFTER_DESC, DESC),                \
	L(W_PREFIX, W_TAGS, W_AFTER_DESC, DESC), L("", "", "", ASC), L(W_PREFIX, "", "", ASC), \
	L("", W_TAGS, "", ASC), L(W_PREFIX, W_TAGS, "", ASC), L("", "", W_AFTER_ASC, ASC),     \
	L(W_PREFIX, "", W_AFTER_ASC, ASC), L("", W_TAGS, W_AFTER_ASC, ASC),                    \
	L(W_PREFIX, W_TAGS, W_AFTER_ASC, ASC)

extern const struct meta_ops meta_sqlite_ops;
extern const struct meta_ops meta_pg_ops;

#endif
