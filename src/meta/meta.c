/* Dispatch from the meta.h calls to the backend chosen by the store URL's scheme. */
#include "meta/meta_int.h"

#include <string.h>

static const struct meta_ops *const backends[] = {&meta_sqlite_ops};

enum err_code meta_open(const char *url, struct meta **out, struct err *e)
{
	const char *colon = strchr(url, ':');
	size_t n = colon ? (size_t)(colon - url) : 0;
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (n == strlen(backends[i]->scheme) && strncmp(url, backends[i]->scheme, n) == 0)
			return backends[i]->open(colon + 1, out, e);
	return err_set(e, ERR_INVALID, "unknown metadata store '%s'", url);
}

void meta_close(struct meta *m)
{
	if (m != NULL)
		m->ops->close(m);
}

enum err_code meta_resource_create(struct meta *m, const struct meta_resource *r, struct err *e)
{
	return m->ops->create(m, r, e);
}

enum err_code meta_resource_create_batch(struct meta *m, const struct meta_resource *rows,
					 size_t n, enum err_code *results, struct err *e)
{
	return m->ops->create_batch(m, rows, n, results, e);
}

enum err_code meta_resource_get(struct meta *m, const char *account, const char *id,
				struct pool *pool, struct meta_resource *out, struct err *e)
{
	return m->ops->get(m, account, id, pool, out, e);
}

enum err_code meta_resource_get_visible(struct meta *m, const char *reader, const char *id,
					struct pool *pool, struct meta_resource *out, struct err *e)
{
	return m->ops->get_visible(m, reader, id, pool, out, e);
}

enum err_code meta_resource_get_by_nid(struct meta *m, const char *reader, int64_t nid,
				       struct pool *pool, struct meta_resource *out, struct err *e)
{
	return m->ops->get_by_nid(m, reader, nid, pool, out, e);
}

enum err_code meta_sharing_apply(const char *cur_access, const struct meta_update *u,
				 const char **access, bool *rewrite, struct err *e)
{
	if (cur_access == NULL)
		cur_access = META_ACCESS_TEAM;
	*access = u->set_read_access ? u->read_access : cur_access;
	bool specific = strcmp(*access, META_ACCESS_SPECIFIC) == 0;
	if (!specific && u->set_shared_with && u->nshared > 0)
		return err_set(e, ERR_INVALID,
			       "shared_team_slugs apply only with read_access SPECIFIC_TEAMS");
	if (specific && (u->set_shared_with ? u->nshared == 0
					    : strcmp(cur_access, META_ACCESS_SPECIFIC) != 0))
		return err_set(e, ERR_INVALID, "read_access SPECIFIC_TEAMS needs at least one "
					       "account in shared_team_slugs");
	*rewrite = u->set_shared_with || strcmp(*access, cur_access) != 0;
	return ERR_OK;
}

enum err_code meta_resource_update(struct meta *m, const char *account, const char *id,
				   const struct meta_update *u, const struct meta_cond *cond,
				   struct pool *pool, struct meta_resource *out, struct err *e)
{
	return m->ops->update(m, account, id, u, cond, pool, out, e);
}

enum err_code meta_resource_set_content(struct meta *m, const char *account, const char *id,
					const struct meta_content *c, const struct meta_cond *cond,
					struct pool *pool, struct meta_resource *out,
					const char **old_key, struct err *e)
{
	return m->ops->set_content(m, account, id, c, cond, pool, out, old_key, e);
}

enum err_code meta_resource_delete(struct meta *m, const char *account, const char *id,
				   const struct meta_cond *cond, struct pool *pool,
				   struct meta_resource *out, bool *key_still_used, struct err *e)
{
	return m->ops->del(m, account, id, cond, pool, out, key_still_used, e);
}

enum err_code meta_resource_list(struct meta *m, const struct meta_query *q, struct pool *pool,
				 struct meta_page *out, struct err *e)
{
	return m->ops->list(m, q, pool, out, e);
}

enum err_code meta_inline_get(struct meta *m, const char *storage_key, struct pool *pool,
			      const unsigned char **bytes, size_t *len, struct err *e)
{
	return m->ops->inline_get(m, storage_key, pool, bytes, len, e);
}

enum err_code meta_storage_key_used(struct meta *m, const char *storage_key, bool *used,
				    struct err *e)
{
	return m->ops->key_used(m, storage_key, used, e);
}

enum err_code meta_account_nid(struct meta *m, const char *account, int64_t *nid, struct err *e)
{
	return m->ops->account_nid(m, account, nid, e);
}

enum err_code meta_folder_create(struct meta *m, const char *account, const char *path,
				 int64_t created_at_us, struct pool *pool, struct meta_folder *out,
				 struct err *e)
{
	return m->ops->folder_create(m, account, path, created_at_us, pool, out, e);
}

enum err_code meta_folder_get(struct meta *m, const char *account, int64_t id,
			      struct pool *pool, struct meta_folder *out, struct err *e)
{
	return m->ops->folder_get(m, account, id, pool, out, e);
}

enum err_code meta_folder_list(struct meta *m, const char *account, int64_t offset,
			       int64_t limit, struct pool *pool, struct meta_folder_page *out,
			       struct err *e)
{
	return m->ops->folder_list(m, account, offset, limit, pool, out, e);
}

enum err_code meta_lock_keys(struct meta *m, const char *const *keys, size_t n, struct err *e)
{
	return m->ops->lock_keys && n > 0 ? m->ops->lock_keys(m, keys, n, e) : ERR_OK;
}

void meta_unlock_keys(struct meta *m, const char *const *keys, size_t n)
{
	if (m->ops->unlock_keys && n > 0)
		m->ops->unlock_keys(m, keys, n);
}
