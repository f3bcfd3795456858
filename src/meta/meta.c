/* Dispatch from the meta.h calls to the backend chosen by the store URL's scheme. */
#include "meta/meta_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const struct meta_ops *const backends[] = {&meta_sqlite_ops, &meta_pg_ops};

static bool is_scheme(const char *url, size_t n, const char *scheme)
{
	return scheme != NULL && n == strlen(scheme) && strncmp(url, scheme, n) == 0;
}

enum err_code meta_open(const char *url, struct meta **out, struct err *e)
{
	const char *colon = strchr(url, ':');
	size_t n = colon ? (size_t)(colon - url) : 0;
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (is_scheme(url, n, backends[i]->scheme) || is_scheme(url, n, backends[i]->alias))
			return backends[i]->open(colon + 1, out, e);
	/* Only a scheme is named: the rest of a URL (or a libpq "key=value" string, which has no
	 * scheme) may hold a password. */
	bool named = n > 0 && n <= 16;
	for (size_t i = 0; named && i < n; i++)
		named = isalnum((unsigned char)url[i]) || strchr("+-.", url[i]) != NULL;
	if (!named)
		return err_set(e, ERR_INVALID, "the metadata store must be a URL: sqlite:PATH or "
					       "postgres://...");
	return err_set(e, ERR_INVALID, "unknown metadata store scheme '%.*s'", (int)n, url);
}

static void conn_unlink(struct meta_conns *cs, struct meta_conn *c)
{
	pthread_mutex_lock(&cs->lock);
	for (struct meta_conn **p = &cs->head; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	pthread_mutex_unlock(&cs->lock);
}

/* Runs when a thread that has a connection exits. */
static void conn_thread_exit(void *arg)
{
	struct meta_conn *c = arg;
	struct meta_conns *cs = c->owner;
	conn_unlink(cs, c);
	cs->close(c);
}

bool meta_conns_init(struct meta_conns *cs, void (*close)(struct meta_conn *c))
{
	cs->head = NULL;
	cs->close = close;
	if (pthread_key_create(&cs->key, conn_thread_exit) != 0)
		return false;
	pthread_mutex_init(&cs->lock, NULL);
	return true;
}

struct meta_conn *meta_conns_mine(struct meta_conns *cs)
{
	return pthread_getspecific(cs->key);
}

void meta_conns_adopt(struct meta_conns *cs, struct meta_conn *c)
{
	c->owner = cs;
	pthread_mutex_lock(&cs->lock);
	c->next = cs->head;
	cs->head = c;
	pthread_mutex_unlock(&cs->lock);
	pthread_setspecific(cs->key, c);
}

void meta_conns_cleanup(struct meta_conns *cs)
{
	pthread_key_delete(cs->key);
	while (cs->head) {
		struct meta_conn *c = cs->head;
		cs->head = c->next;
		cs->close(c);
	}
	pthread_mutex_destroy(&cs->lock);
}

enum err_code meta_update_check(const struct meta_resource *cur, const struct meta_update *u,
				bool *noop, const char **access, bool *rewrite_shares,
				struct err *e)
{
	if (u->confirm_upload && !META_HAS_BYTES(cur))
		return err_set(e, ERR_CONFLICT, "no bytes were uploaded for this resource yet");
	if (u->set_test_enabled && u->test_enabled && !cur->test_enabled && !META_HAS_BYTES(cur))
		return err_set(e, ERR_CONFLICT, "the resource has no content to start its test "
						"value from yet");
	enum err_code rc = meta_sharing_apply(cur->read_access, u, access, rewrite_shares, e);
	if (rc != ERR_OK)
		return rc;
	*noop = !u->set_name && !u->set_directory_path && !u->set_metadata && !u->set_tags &&
		!u->set_description && !u->set_read_access && !u->set_shared_with &&
		!u->set_test_enabled && u->content == NULL &&
		(!u->confirm_upload || strcmp(cur->status, META_STATUS_UPLOADED) == 0);
	return ERR_OK;
}

enum err_code meta_content_check(const struct meta_resource *cur, const struct meta_content *c,
				 struct err *e)
{
	if (c->pending_upload_only &&
	    (strcmp(cur->status, META_STATUS_PENDING) != 0 || META_HAS_BYTES(cur)))
		return err_set(e, ERR_CONFLICT, "the bytes of this resource were already uploaded");
	if (c->test_value && !cur->test_enabled)
		return err_set(e, ERR_CONFLICT, "test_resource_enabled is false: enable the test "
						"value before writing it");
	return ERR_OK;
}

enum err_code meta_update_content_check(const struct meta_resource *cur,
					const struct meta_update *u, const char **before,
					struct err *e)
{
	struct meta_resource after = *cur;
	if (u->set_test_enabled && u->test_enabled != cur->test_enabled) {
		/* turned on, the test value starts as the live content */
		after.test_enabled = u->test_enabled;
		after.test.storage_key = u->test_enabled ? cur->storage_key : NULL;
	}
	*before = u->content->test_value ? after.test.storage_key : after.storage_key;
	return meta_content_check(&after, u->content, e);
}

void meta_split(const char *joined, struct pool *pool, const char ***out, size_t *n)
{
	*n = 0;
	*out = NULL;
	if (joined == NULL || !*joined)
		return;
	size_t count = 1;
	for (const char *p = joined; *p; p++)
		count += *p == META_TAG_SEP;
	const char **items = pool_alloc(pool, count * sizeof(*items));
	char *copy = pool_strdup(pool, joined), *p = copy;
	for (size_t i = 0; i < count; i++) {
		char *sep = strchr(p, META_TAG_SEP);
		if (sep)
			*sep = '\0';
		items[(*n)++] = p;
		p = sep ? sep + 1 : p + strlen(p);
	}
	*out = items;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char *meta_join(const char *const *v, size_t n, struct pool *pool)
{
	if (n == 0)
		return NULL;
	const char **sorted = pool_alloc(pool, n * sizeof(*sorted));
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	memcpy(sorted, v, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_str);
	char *out = pool_alloc(pool, len), *o = out;
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(sorted[i], sorted[i - 1]) == 0)
			continue;
		if (o > out)
			*o++ = META_TAG_SEP;
		size_t k = strlen(sorted[i]);
		memcpy(o, sorted[i], k);
		o += k;
	}
	*o = '\0';
	return out;
}

enum err_code meta_cond_check(const struct meta_resource *cur, const struct meta_cond *cond,
			      struct err *e)
{
	if (cond != NULL && ((cond->version != 0 && cond->version != cur->version) ||
			     (cond->sha256 != NULL && strcmp(cond->sha256, cur->sha256) != 0)))
		return err_set(e, ERR_PRECONDITION, "resource has changed (If-Match)");
	return ERR_OK;
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

bool meta_list_generation(struct meta *m, const char *account, uint64_t *gen)
{
	return m->ops->list_generation != NULL && m->ops->list_generation(m, account, gen);
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

static bool same_str(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

enum err_code meta_resource_nids(struct meta *m, struct meta_resource *rows, size_t n,
				 struct err *e)
{
	for (size_t i = 0; i < n; i++) {
		struct meta_resource *r = &rows[i], *prev = i > 0 ? &rows[i - 1] : NULL;
		if (prev != NULL && same_str(prev->account_id, r->account_id) &&
		    same_str(prev->created_by, r->created_by)) {
			r->account_nid = prev->account_nid;
			r->user_nid = prev->user_nid;
			continue;
		}
		enum err_code rc = m->ops->nids(m, r->account_id, r->created_by, &r->account_nid,
						&r->user_nid, e);
		if (rc != ERR_OK)
			return rc;
	}
	return ERR_OK;
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

bool meta_settle(struct meta *m, int max_ms)
{
	return m->ops->settle == NULL || m->ops->settle(m, max_ms);
}

void meta_unlock_keys(struct meta *m, const char *const *keys, size_t n)
{
	if (m->ops->unlock_keys && n > 0)
		m->ops->unlock_keys(m, keys, n);
}
