/* What a metadata backend implements. Only meta.c and the backends include this. */
#ifndef DEPOT_META_INT_H
#define DEPOT_META_INT_H

#include "meta/meta.h"

struct meta_ops {
	const char *scheme; /* "sqlite" */
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
	enum err_code (*inline_get)(struct meta *m, const char *storage_key, struct pool *pool,
				    const unsigned char **bytes, size_t *len, struct err *e);
	enum err_code (*key_used)(struct meta *m, const char *storage_key, bool *used,
				  struct err *e);
	enum err_code (*account_nid)(struct meta *m, const char *account, int64_t *nid,
				     struct err *e);
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
};

/* Every backend's struct meta starts with this. */
struct meta {
	const struct meta_ops *ops;
};

extern const struct meta_ops meta_sqlite_ops;

#endif
