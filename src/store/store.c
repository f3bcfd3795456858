/* Create: stage and fsync the bytes, then under the key's stripe lock rename them into place and
 * commit the row. Delete: commit the row's removal, then under the same lock remove the blob if
 * no row refers to it any more. The stripe lock makes "rename + insert" and "check + unlink" of
 * one key exclusive, so a concurrent create of identical bytes never loses its blob. */
#include "store/store.h"
#include "core/log.h"
#include "core/xalloc.h"

#include <magic.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#define STRIPES 64

struct store {
	struct meta *meta;
	struct blob_store *blobs;
	pthread_mutex_t stripes[STRIPES];
};

static pthread_mutex_t *stripe_of(struct store *s, const char *key)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 16777619u;
	return &s->stripes[h % STRIPES];
}

static bool key_in_use(void *ctx, const char *key)
{
	struct store *s = ctx;
	bool used = true; /* on a read error, keep the blob */
	struct err e;
	if (meta_storage_key_used(s->meta, key, &used, &e) != ERR_OK)
		log_error("store: sweep check failed: %s", e.msg);
	return used;
}

enum err_code store_open(const char *meta_url, const char *blob_url, struct store **out,
			 struct err *e)
{
	struct store *s = xcalloc(1, sizeof(*s));
	enum err_code rc = meta_open(meta_url, &s->meta, e);
	if (rc != ERR_OK) {
		free(s);
		return rc;
	}
	if ((rc = blob_open(blob_url, &s->blobs, e)) != ERR_OK) {
		meta_close(s->meta);
		free(s);
		return rc;
	}
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_init(&s->stripes[i], NULL);
	uint64_t staged, orphans;
	if ((rc = blob_sweep(s->blobs, key_in_use, s, &staged, &orphans, e)) != ERR_OK) {
		store_close(s);
		return rc;
	}
	if (staged || orphans)
		log_info("store: start-up cleanup removed %llu staging files and %llu orphan blobs",
			 (unsigned long long)staged, (unsigned long long)orphans);
	*out = s;
	return ERR_OK;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	meta_close(s->meta);
	blob_close(s->blobs);
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_destroy(&s->stripes[i]);
	free(s);
}

struct meta *store_meta(struct store *s)
{
	return s->meta;
}

enum err_code store_writer_new(struct store *s, struct blob_writer **out, struct err *e)
{
	return blob_writer_new(s->blobs, out, e);
}

static pthread_key_t magic_key;
static pthread_once_t magic_once = PTHREAD_ONCE_INIT;

static void magic_destroy(void *cookie)
{
	magic_close(cookie);
}

static void magic_key_make(void)
{
	pthread_key_create(&magic_key, magic_destroy);
}

/* A magic_t is not thread-safe; each thread keeps its own, closed when the thread exits. */
static magic_t thread_magic(void)
{
	pthread_once(&magic_once, magic_key_make);
	magic_t m = pthread_getspecific(magic_key);
	if (m == NULL) {
		m = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
		if (m != NULL && magic_load(m, NULL) != 0) {
			log_error("store: libmagic database did not load: %s", magic_error(m));
			magic_close(m);
			m = NULL;
		}
		if (m != NULL)
			pthread_setspecific(magic_key, m);
	}
	return m;
}

const char *store_sniff_mime(const unsigned char *head, size_t len, struct pool *pool)
{
	magic_t cookie = len > 0 ? thread_magic() : NULL;
	const char *m = NULL;
	if (cookie != NULL)
		m = magic_buffer(cookie, head, len);
	return pool_strdup(pool, m != NULL ? m : "application/octet-stream");
}

static bool needs_sniff(const char *mime)
{
	return mime == NULL || !*mime || strcmp(mime, "application/octet-stream") == 0;
}

enum err_code store_resource_create(struct store *s, struct meta_resource *r,
				    struct blob_writer *w, struct pool *pool, struct err *e)
{
	uint64_t size;
	enum err_code rc = blob_writer_finish(w, r->sha256, &size, e);
	if (rc != ERR_OK)
		return rc;
	r->size_bytes = (int64_t)size;
	if (needs_sniff(r->mime_type)) {
		size_t hlen;
		const unsigned char *head = blob_writer_head(w, &hlen);
		r->mime_type = store_sniff_mime(head, hlen, pool);
	}
	uuid_t u;
	uuid_generate_random(u);
	uuid_unparse_lower(u, r->id);
	char *key = pool_alloc(pool, BLOB_KEY_MAX);
	blob_key(r->account_id, r->sha256, key);
	r->storage_key = key;
	r->storage_bucket = blob_bucket(s->blobs);

	pthread_mutex_t *lock = stripe_of(s, key);
	pthread_mutex_lock(lock);
	rc = blob_writer_commit(w, key, e);
	if (rc == ERR_OK) {
		rc = meta_resource_create(s->meta, r, e);
		if (rc != ERR_OK) {
			/* The row did not land: the blob goes unless another row holds it. */
			bool used = true;
			struct err e2;
			if (meta_storage_key_used(s->meta, key, &used, &e2) == ERR_OK && !used &&
			    blob_delete(s->blobs, key, &e2) != ERR_OK)
				log_warn("store: could not remove unreferenced blob: %s", e2.msg);
		}
	}
	pthread_mutex_unlock(lock);
	if (rc == ERR_CONFLICT)
		err_set(e, ERR_CONFLICT, "a resource named '%s' already exists in '%s'", r->name,
			r->directory_path);
	return rc;
}

enum err_code store_resource_delete(struct store *s, const char *account, const char *id,
				    struct pool *pool, struct err *e)
{
	struct meta_resource old;
	bool used = true;
	enum err_code rc = meta_resource_delete(s->meta, account, id, pool, &old, &used, e);
	if (rc != ERR_OK || used)
		return rc;
	/* Re-checked under the stripe lock: a create of identical bytes may have landed since. */
	pthread_mutex_t *lock = stripe_of(s, old.storage_key);
	pthread_mutex_lock(lock);
	struct err e2;
	if (meta_storage_key_used(s->meta, old.storage_key, &used, &e2) != ERR_OK)
		log_warn("store: blob use check failed, blob kept: %s", e2.msg);
	else if (!used && blob_delete(s->blobs, old.storage_key, &e2) != ERR_OK)
		log_warn("store: could not remove blob (start-up cleanup will): %s", e2.msg);
	pthread_mutex_unlock(lock);
	return ERR_OK;
}

enum err_code store_content_open(struct store *s, const struct meta_resource *r,
				 struct blob_read *out, struct err *e)
{
	enum err_code rc = blob_read_open(s->blobs, r->storage_key, out, e);
	if (rc == ERR_NOT_FOUND)
		return err_set(e, ERR_INTERNAL, "blob of resource %s is missing", r->id);
	return rc;
}
