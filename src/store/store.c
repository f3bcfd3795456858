/* Create: stage and fsync the bytes, then under the key's stripe lock rename them into place and
 * commit the row. Delete: commit the row's removal, then under the same lock remove the blob if
 * no row refers to it any more. The stripe lock makes "rename + insert" and "check + unlink" of
 * one key exclusive, so a concurrent create of identical bytes never loses its blob.
 *
 * Several depotd may share one metadata store and one object store (PostgreSQL + S3): then the
 * stripe lock is backed by meta_lock_keys, a lock every process sees. An object store's place
 * is an upload, slow and repeatable: it runs before the locks, and under them the store only
 * checks the object is still there (a racing delete may have removed it) and uploads again if
 * not. */
#include "store/store.h"
#include "core/log.h"
#include "core/text.h"
#include "core/xalloc.h"
#include "core/timefmt.h"
#include "core/xalloc.h"

#include <magic.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <unistd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#define STRIPES 64

/* One resource on its way into the store through commit_group. */
struct group_item {
	struct meta_resource *r;      /* complete but for the commit */
	struct blob_writer *w;        /* its staged, finished bytes; or NULL and: */
	const unsigned char *bytes;   /* its bytes in memory (imports) */
	size_t len;
	enum err_code result;         /* ERR_OK, ERR_CONFLICT, or the group's error */
	struct err err;
	bool placed;                  /* this create put the blob in place */
	bool preplaced;               /* uploaded before the locks (repeatable place) */
	bool done;
	struct group_item *next;      /* in the group-commit queue */
};

#define GROUP_MAX 256
/* How long start-up waits for the writes other sessions had in flight (meta_settle). */
#define SETTLE_MS 10000

struct store {
	struct meta *meta;
	struct blob_store *blobs;
	pthread_mutex_t stripes[STRIPES];
	/* Group commit: creates that arrive while one group commits form the next group. */
	pthread_mutex_t queue_lock;
	pthread_cond_t queue_cond;
	struct group_item *queue_head, *queue_tail;
	bool committing;
	size_t inline_max; /* content up to this size is kept inline in the metadata store */
};

static pthread_mutex_t *stripe_of(struct store *s, const char *key)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 16777619u;
	return &s->stripes[h % STRIPES];
}


static bool sweep_drop(void *ctx, const char *key);

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
	pthread_mutex_init(&s->queue_lock, NULL);
	pthread_cond_init(&s->queue_cond, NULL);
	uint64_t staged, orphans;
	/* A process that died committing (another depotd's COMMIT still on its way to PostgreSQL)
	 * may yet remove a row or point it at another blob: let that land first. */
	(void)meta_settle(s->meta, SETTLE_MS);
	if ((rc = blob_sweep(s->blobs, sweep_drop, s, &staged, &orphans, e)) != ERR_OK) {
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
	pthread_mutex_destroy(&s->queue_lock);
	pthread_cond_destroy(&s->queue_cond);
	free(s);
}

void store_set_inline_max(struct store *s, size_t max_bytes)
{
	s->inline_max = max_bytes;
}

void store_set_min_free(struct store *s, uint64_t bytes)
{
	blob_set_min_free(s->blobs, bytes);
}

struct meta *store_meta(struct store *s)
{
	return s->meta;
}

enum err_code store_writer_new(struct store *s, struct blob_writer **out, struct err *e)
{
	return blob_writer_new(s->blobs, out, e);
}

/* A magic_t is not thread-safe, and each maps the whole compiled database (~6 MiB of RSS per
 * handle; one per worker thread made a 1 GiB upload's peak RSS 34 MiB). Idle handles wait in a
 * free list, so there are as many as sniffs run at once. */
#define MAGIC_IDLE_MAX 16
static pthread_mutex_t magic_lock = PTHREAD_MUTEX_INITIALIZER;
static magic_t magic_idle[MAGIC_IDLE_MAX];
static size_t magic_nidle;

static magic_t magic_take(void)
{
	magic_t m = NULL;
	pthread_mutex_lock(&magic_lock);
	if (magic_nidle > 0)
		m = magic_idle[--magic_nidle];
	pthread_mutex_unlock(&magic_lock);
	if (m != NULL)
		return m;
	m = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
	if (m != NULL && magic_load(m, NULL) != 0) {
		log_error("store: libmagic database did not load: %s", magic_error(m));
		magic_close(m);
		m = NULL;
	}
	return m;
}

static void magic_give(magic_t m)
{
	pthread_mutex_lock(&magic_lock);
	if (magic_nidle < MAGIC_IDLE_MAX) {
		magic_idle[magic_nidle++] = m;
		m = NULL;
	}
	pthread_mutex_unlock(&magic_lock);
	if (m != NULL)
		magic_close(m);
}

const char *store_sniff_mime(const unsigned char *head, size_t len, struct pool *pool)
{
	magic_t cookie = len > 0 ? magic_take() : NULL;
	const char *m = NULL;
	if (cookie != NULL)
		m = magic_buffer(cookie, head, len);
	/* m belongs to the handle: copied before the handle goes back */
	const char *mime = pool_strdup(pool, m != NULL ? m : "application/octet-stream");
	if (cookie != NULL)
		magic_give(cookie);
	return mime;
}

static bool needs_sniff(const char *mime)
{
	return mime == NULL || !*mime || strcmp(mime, "application/octet-stream") == 0;
}

/* The key of inline content: blob_key's, under "inline/" instead of "blobs/". */
static const char *inline_key(const char *account, const char *sha, struct pool *pool)
{
	char key[BLOB_KEY_MAX];
	blob_key(account, sha, key);
	return pool_printf(pool, "inline/%s", key + strlen("blobs/"));
}

/* Finishes w and fills the content fields: sha256, size, mime (sniffed when needed), and
 * where the bytes go — inline in the metadata store when small, else a blob key. */
static enum err_code finish_bytes(struct store *s, const char *account, struct blob_writer *w,
				  const char *mime, struct pool *pool, struct meta_content *out,
				  struct err *e)
{
	uint64_t size;
	char *sha = pool_alloc(pool, 65);
	enum err_code rc = blob_writer_finish(w, sha, &size, s->inline_max, e);
	if (rc != ERR_OK)
		return rc;
	if (needs_sniff(mime)) {
		size_t hlen;
		const unsigned char *head = blob_writer_head(w, &hlen);
		mime = store_sniff_mime(head, hlen, pool);
	}
	out->sha256 = sha;
	out->size_bytes = (int64_t)size;
	out->mime_type = mime;
	size_t mlen;
	const unsigned char *mem = blob_writer_memory(w, &mlen);
	if (mem != NULL) {
		/* Inline bytes go to the metadata store, on the same disk by default. */
		if ((rc = blob_check_space(s->blobs, mlen, e)) != ERR_OK)
			return rc;
		out->inline_bytes = mem;
		out->inline_len = mlen;
		out->storage_bucket = META_INLINE_BUCKET;
		out->storage_key = inline_key(account, sha, pool);
		return ERR_OK;
	}
	char *key = pool_alloc(pool, BLOB_KEY_MAX);
	blob_key(account, sha, key);
	out->storage_bucket = blob_bucket(s->blobs);
	out->storage_key = key;
	return ERR_OK;
}

/* Removes the blob at key unless a row refers to it; the caller holds the key's stripe lock
 * (or every stripe). A failed check keeps the blob: start-up cleanup removes what is left. */
static bool drop_if_unused(struct store *s, const char *key)
{
	bool used = true;
	struct err e;
	if (meta_storage_key_used(s->meta, key, &used, &e) != ERR_OK)
		log_warn("store: blob use check failed, blob kept: %s", e.msg);
	else if (!used && blob_delete(s->blobs, key, &e) != ERR_OK)
		log_warn("store: could not remove blob (start-up cleanup will): %s", e.msg);
	else
		return !used;
	return false;
}

/* drop_if_unused under the key's locks, which the caller must not hold; whether it removed. */
static bool release_key(struct store *s, const char *key)
{
	if (key == NULL || strncmp(key, "blobs/", 6) != 0)
		return false; /* none, or inline content: the metadata store removes it with its row */
	pthread_mutex_t *lock = stripe_of(s, key);
	struct err e;
	bool dropped = false;
	pthread_mutex_lock(lock);
	if (meta_lock_keys(s->meta, &key, 1, &e) != ERR_OK) {
		log_warn("store: blob kept, its lock failed (start-up cleanup will remove it): %s",
			 e.msg);
	} else {
		dropped = drop_if_unused(s, key);
		meta_unlock_keys(s->meta, &key, 1);
	}
	pthread_mutex_unlock(lock);
	return dropped;
}

/* The start-up sweep's question for each stored blob, asked under the key's locks: another
 * depotd sharing the stores may be committing a row for it at this moment. */
static bool sweep_drop(void *ctx, const char *key)
{
	return release_key(ctx, key);
}

/* Puts w's blob at key (known to be missing). After a failure, *placed says whether an
 * object may be there (our earlier upload, in part): the caller drops it if unused. */
static enum err_code place_missing(struct blob_writer *w, const char *key, bool preplaced,
				   bool *placed, struct err *e)
{
	enum err_code rc = blob_writer_place(w, key, e);
	if (rc == ERR_OK || preplaced)
		*placed = true;
	return rc;
}

/* Makes sure the blob of w is at key, under the key's locks: a place done before them may have
 * been undone by a racing delete since, so its object is checked and uploaded again if gone. */
static enum err_code ensure_placed(struct store *s, struct blob_writer *w, const char *key,
				   bool preplaced, bool *placed, struct err *e)
{
	bool exists = false;
	enum err_code rc = blob_exists(s->blobs, key, &exists, e);
	if (rc != ERR_OK || exists)
		return rc;
	return place_missing(w, key, preplaced, placed, e);
}

/* The writer of its blob: its own, or for an import (bytes in memory) a new one holding
 * them, which the caller frees (it differs from it->w). */
static enum err_code item_writer(struct store *s, const struct group_item *it,
				 struct blob_writer **w, struct err *e)
{
	char sha[65];
	uint64_t size;
	enum err_code rc = ERR_OK;
	if ((*w = it->w) == NULL && (rc = blob_writer_new(s->blobs, w, e)) == ERR_OK &&
	    (rc = blob_writer_write(*w, it->bytes, it->len, e)) == ERR_OK)
		rc = blob_writer_finish(*w, sha, &size, 0, e);
	return rc;
}

/* For an object store, uploads the blob of w to key before any lock is taken (unless it is
 * already there): the upload is the slow part of a create, and runs in parallel this way. */
static enum err_code preplace(struct store *s, struct blob_writer *w, const char *key,
			      bool *placed, struct err *e)
{
	if (!blob_place_repeatable(s->blobs))
		return ERR_OK;
	return ensure_placed(s, w, key, false, placed, e);
}


/* Whether an item before items[i] (one uploaded early, when early_only) has its key. */
static bool key_before(struct group_item **items, size_t i, bool early_only)
{
	for (size_t j = 0; j < i; j++)
		if ((!early_only || items[j]->preplaced) &&
		    strcmp(items[j]->r->storage_key, items[i]->r->storage_key) == 0)
			return true;
	return false;
}

/* Commits items[0..n) together: under every stripe lock (in order, so no create or delete of
 * any key runs in between), each blob not yet stored is put in place, the placed ones are made
 * durable with one fsync per folder, and all rows go in one transaction — one set of fsyncs
 * for the whole group. A taken name fails only its item; its blob goes again unless a row
 * holds it. */
static void commit_group(struct store *s, struct group_item **items, size_t n)
{
	struct err e = {0};
	const char **placed = xcalloc(n ? n : 1, sizeof(*placed));
	const char **keys = xcalloc(n ? n : 1, sizeof(*keys));
	struct meta_resource *metas = xcalloc(n ? n : 1, sizeof(*metas));
	enum err_code *results = xcalloc(n ? n : 1, sizeof(*results));
	size_t nplaced = 0, nkeys = 0;
	for (size_t i = 0; i < n; i++)
		if (items[i]->r->inline_bytes == NULL)
			keys[nkeys++] = items[i]->r->storage_key;
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_lock(&s->stripes[i]);
	enum err_code rc = meta_lock_keys(s->meta, keys, nkeys, &e);
	bool locked = rc == ERR_OK;
	for (size_t i = 0; i < n && rc == ERR_OK; i++) {
		struct group_item *it = items[i];
		const char *key = it->r->storage_key;
		if (it->r->inline_bytes != NULL)
			continue; /* goes into the metadata store with its row */
		if (key_before(items, i, false))
			continue;
		/* Stored already (identical bytes, or our early upload): an import's bytes need
		 * no staging file then. */
		bool exists = false;
		if ((rc = blob_exists(s->blobs, key, &exists, &e)) != ERR_OK || exists)
			continue;
		struct blob_writer *w;
		bool was_placed = it->placed;
		if ((rc = item_writer(s, it, &w, &e)) == ERR_OK)
			rc = place_missing(w, key, it->preplaced, &it->placed, &e);
		if (it->placed && !was_placed)
			placed[nplaced++] = key;
		if (w != it->w)
			blob_writer_free(w);
	}
	if (rc == ERR_OK)
		rc = blob_sync_placed(s->blobs, placed, nplaced, &e);
	for (size_t i = 0; i < n; i++)
		metas[i] = *items[i]->r;
	if (rc == ERR_OK)
		rc = meta_resource_create_batch(s->meta, metas, n, results, &e);
	for (size_t i = 0; i < n; i++) {
		struct group_item *it = items[i];
		it->result = rc == ERR_OK ? results[i] : rc;
		if (rc != ERR_OK)
			it->err = e;
		if ((it->placed || it->preplaced) && it->result != ERR_OK && locked)
			drop_if_unused(s, it->r->storage_key);
	}
	if (locked)
		meta_unlock_keys(s->meta, keys, nkeys);
	for (int i = STRIPES - 1; i >= 0; i--)
		pthread_mutex_unlock(&s->stripes[i]);
	/* Uploaded early, then the locks failed: drop what no row holds, as commit_with does. */
	for (size_t i = 0; i < n && !locked; i++)
		if (items[i]->preplaced && !key_before(items, i, true))
			release_key(s, items[i]->r->storage_key);
	free(placed);
	free(keys);
	free(metas);
	free(results);
}

/* With a store whose place is an upload (blob_place_repeatable), the upload of an item's blob
 * (unless the object is there already) runs here, before any lock, so slow uploads overlap;
 * under the locks commit_group then only checks that the object is still there (a concurrent
 * delete of identical bytes may have removed it) and places again if not. */
static enum err_code place_early(struct store *s, struct group_item *it, struct err *e)
{
	if (!blob_place_repeatable(s->blobs) || it->r->inline_bytes != NULL)
		return ERR_OK;
	struct blob_writer *w;
	enum err_code rc = item_writer(s, it, &w, e);
	if (rc == ERR_OK)
		rc = preplace(s, w, it->r->storage_key, &it->preplaced, e);
	if (w != it->w)
		blob_writer_free(w);
	return rc;
}

/* Queues it and returns once its group has committed. The first thread to find no group
 * committing commits everything queued (itself included); the others wait, and one of them
 * leads the next group. With N concurrent creates, a group costs the fsyncs of one. */
static void group_commit(struct store *s, struct group_item *it)
{
	pthread_mutex_lock(&s->queue_lock);
	if (s->queue_tail)
		s->queue_tail->next = it;
	else
		s->queue_head = it;
	s->queue_tail = it;
	while (!it->done) {
		if (s->committing) {
			pthread_cond_wait(&s->queue_cond, &s->queue_lock);
			continue;
		}
		s->committing = true;
		struct group_item *group[GROUP_MAX];
		size_t n = 0;
		while (s->queue_head != NULL && n < GROUP_MAX) {
			group[n++] = s->queue_head;
			s->queue_head = s->queue_head->next;
		}
		if (s->queue_head == NULL)
			s->queue_tail = NULL;
		pthread_mutex_unlock(&s->queue_lock);
		commit_group(s, group, n);
		pthread_mutex_lock(&s->queue_lock);
		for (size_t i = 0; i < n; i++)
			group[i]->done = true;
		s->committing = false;
		pthread_cond_broadcast(&s->queue_cond);
	}
	pthread_mutex_unlock(&s->queue_lock);
}

enum err_code store_resource_create(struct store *s, struct meta_resource *r,
				    struct blob_writer *w, struct pool *pool, struct err *e)
{
	uuid_t u;
	uuid_generate_random(u);
	uuid_unparse_lower(u, r->id);
	r->version = 1;
	enum err_code rc;
	if (w == NULL && r->test_enabled)
		return err_set(e, ERR_INVALID, "a test value needs content to start from");
	if (w == NULL) {
		r->status = META_STATUS_PENDING;
		r->sha256[0] = '\0';
		r->size_bytes = 0;
		r->storage_bucket = blob_bucket(s->blobs);
		r->storage_key = "";
		if (r->mime_type == NULL || !*r->mime_type)
			r->mime_type = "application/octet-stream";
		rc = meta_resource_create(s->meta, r, e);
	} else {
		struct meta_content c = {0};
		if ((rc = finish_bytes(s, r->account_id, w, r->mime_type, pool, &c, e)) != ERR_OK)
			return rc;
		r->status = META_STATUS_UPLOADED;
		snprintf(r->sha256, sizeof(r->sha256), "%s", c.sha256);
		r->size_bytes = c.size_bytes;
		r->mime_type = c.mime_type;
		r->storage_bucket = c.storage_bucket;
		r->storage_key = c.storage_key;
		r->inline_bytes = c.inline_bytes;
		r->inline_len = c.inline_len;
		if (r->test_enabled) /* the same bytes, under the same key */
			r->test = (struct meta_test){.size_bytes = r->size_bytes,
						     .mime_type = r->mime_type,
						     .storage_bucket = r->storage_bucket,
						     .storage_key = r->storage_key,
						     .file_name = r->file_name};
		if (r->test_enabled)
			memcpy(r->test.sha256, r->sha256, sizeof(r->sha256));
		struct group_item it = {.r = r, .w = w};
		if ((rc = place_early(s, &it, e)) != ERR_OK)
			return rc; /* nothing refers to the blob: the sweep removes what is left */
		group_commit(s, &it);
		rc = it.result;
		if (rc != ERR_OK && rc != ERR_CONFLICT)
			*e = it.err;
	}
	if (rc == ERR_CONFLICT)
		err_set(e, ERR_CONFLICT, "a resource named '%s' already exists in '%s'", r->name,
			r->directory_path);
	return rc;
}

/* Puts the staged bytes at c->storage_key and runs write() while holding the key's locks; when
 * write() fails the blob goes again unless another row holds it. */
static enum err_code commit_with(struct store *s, struct blob_writer *w,
				 const struct meta_content *c,
				 enum err_code (*write)(void *ctx, struct err *e), void *ctx,
				 struct err *e)
{
	const char *key = c->storage_key;
	bool placed = false;
	enum err_code rc = preplace(s, w, key, &placed, e);
	bool pre = blob_place_repeatable(s->blobs);
	pthread_mutex_t *lock = stripe_of(s, key);
	pthread_mutex_lock(lock);
	bool locked = rc == ERR_OK && (rc = meta_lock_keys(s->meta, &key, 1, e)) == ERR_OK;
	if (locked && pre)
		rc = ensure_placed(s, w, key, true, &placed, e);
	else if (locked && (rc = blob_writer_commit(w, key, e)) == ERR_OK)
		placed = true;
	if (rc == ERR_OK)
		rc = write(ctx, e);
	if (rc != ERR_OK && placed && locked)
		drop_if_unused(s, key);
	if (locked)
		meta_unlock_keys(s->meta, &key, 1);
	pthread_mutex_unlock(lock);
	if (rc != ERR_OK && placed && !locked)
		release_key(s, key); /* uploaded, then the lock failed: drop it if unused */
	return rc;
}

struct put_ctx {
	struct store *s;
	const char *account, *id;
	const struct meta_content *c;
	const struct meta_cond *cond;
	const struct meta_update *fields; /* or NULL */
	struct pool *pool;
	struct meta_resource *out;
	const char *old_key;
	const char *dropped;              /* a test value the fields turned off */
};

/* The row's one write: the content, or the fields and the content together. */
static enum err_code do_put(void *arg, struct err *e)
{
	struct put_ctx *p = arg;
	if (p->fields == NULL)
		return meta_resource_set_content(p->s->meta, p->account, p->id, p->c, p->cond,
						 p->pool, p->out, &p->old_key, e);
	struct meta_update u = *p->fields;
	u.dropped_key = &p->dropped;
	u.content = p->c;
	u.content_old_key = &p->old_key;
	return meta_resource_update(p->s->meta, p->account, p->id, &u, p->cond, p->pool, p->out,
				    e);
}

/* Turns "not found" for a write into "forbidden" when account can read the resource: it is
 * another account's, shared with account read-only. */
static enum err_code not_owner(struct store *s, const char *account, const char *id,
			       enum err_code rc, struct err *e)
{
	struct pool pool;
	struct meta_resource r;
	struct err ignored;
	if (rc != ERR_NOT_FOUND)
		return rc;
	pool_init(&pool);
	if (meta_resource_get_visible(s->meta, account, id, &pool, &r, &ignored) == ERR_OK)
		rc = err_set(e, ERR_FORBIDDEN, "this resource is shared with your account "
					       "read-only: only its owner account can change it");
	pool_cleanup(&pool);
	return rc;
}

enum err_code store_resource_get_own(struct store *s, const char *account, const char *id,
				     struct pool *pool, struct meta_resource *out, struct err *e)
{
	enum err_code rc = meta_resource_get(s->meta, account, id, pool, out, e);
	return not_owner(s, account, id, rc, e);
}

/* Before an upload is confirmed: its bytes must really be there, whole. */
static enum err_code confirm_check(struct store *s, const char *account, const char *id,
				   struct pool *pool, struct err *e)
{
	struct meta_resource cur;
	struct blob_read b;
	enum err_code rc = store_resource_get_own(s, account, id, pool, &cur, e);
	if (rc != ERR_OK || !META_HAS_BYTES(&cur))
		return rc;
	if ((rc = store_content_open(s, &cur, 0, 0, pool, &b, e)) != ERR_OK)
		return rc == ERR_INTERNAL ? err_set(e, ERR_CONFLICT, "the uploaded bytes are missing")
					  : rc;
	blob_read_close(&b);
	if ((int64_t)b.size != cur.size_bytes)
		return err_set(e, ERR_CONFLICT, "the uploaded bytes are incomplete");
	return ERR_OK;
}

enum err_code store_resource_put_content(struct store *s, const char *account, const char *id,
					 struct blob_writer *w, const struct store_put *put,
					 struct pool *pool, struct meta_resource *out,
					 struct err *e)
{
	struct meta_content c = {.pending_upload_only = put->mode == STORE_PUT_PENDING_UPLOAD,
				 .test_value = put->mode == STORE_PUT_TEST,
				 .file_name = put->file_name,
				 .external_id = put->external_id,
				 .updated_at_us = time_now_us()};
	enum err_code rc = finish_bytes(s, account, w, put->mime_type, pool, &c, e);
	if (rc != ERR_OK)
		return rc;
	if (put->fields != NULL && put->fields->confirm_upload &&
	    (rc = confirm_check(s, account, id, pool, e)) != ERR_OK)
		return rc;
	struct put_ctx p = {.s = s, .account = account, .id = id, .c = &c, .cond = put->cond,
			    .fields = put->fields, .pool = pool, .out = out};
	if (c.inline_bytes != NULL)
		rc = do_put(&p, e); /* bytes and row in one transaction: no blob to order */
	else
		rc = commit_with(s, w, &c, do_put, &p, e);
	if (rc != ERR_OK)
		return not_owner(s, account, id, rc, e);
	if (p.old_key != NULL && strcmp(p.old_key, c.storage_key) != 0)
		release_key(s, p.old_key);
	if (p.dropped != NULL)
		release_key(s, p.dropped); /* a disabled test value */
	return ERR_OK;
}

enum err_code store_import_batch(struct store *s, struct store_import_row *rows, size_t n,
				 struct pool *pool, struct err *e)
{
	struct group_item *items = pool_alloc(pool, (n ? n : 1) * sizeof(*items));
	struct group_item **group = pool_alloc(pool, (n ? n : 1) * sizeof(*group));
	for (size_t i = 0; i < n; i++) {
		struct meta_resource *r = &rows[i].r;
		unsigned char digest[32];
		unsigned int dlen = 0;
		EVP_Digest(rows[i].bytes, rows[i].len, digest, &dlen, EVP_sha256(), NULL);
		text_hex(digest, 32, r->sha256);
		if (s->inline_max > 0 && rows[i].len <= s->inline_max) {
			r->storage_key = inline_key(r->account_id, r->sha256, pool);
			r->storage_bucket = META_INLINE_BUCKET;
			r->inline_bytes = rows[i].bytes;
			r->inline_len = rows[i].len;
		} else {
			char *key = pool_alloc(pool, BLOB_KEY_MAX);
			blob_key(r->account_id, r->sha256, key);
			r->storage_key = key;
			r->storage_bucket = blob_bucket(s->blobs);
		}
		r->size_bytes = (int64_t)rows[i].len;
		if (needs_sniff(r->mime_type))
			r->mime_type = store_sniff_mime(rows[i].bytes, rows[i].len < BLOB_HEAD_BYTES
										? rows[i].len
										: BLOB_HEAD_BYTES,
							pool);
		uuid_t u;
		uuid_generate_random(u);
		uuid_unparse_lower(u, r->id);
		r->status = META_STATUS_UPLOADED;
		r->version = 1;
		items[i] = (struct group_item){.r = r, .bytes = rows[i].bytes, .len = rows[i].len};
		group[i] = &items[i];
	}
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += rows[i].len;
	enum err_code rc = blob_check_space(s->blobs, total, e);
	if (rc != ERR_OK)
		return rc;
	enum err_code early = ERR_OK;
	for (size_t i = 0; i < n && early == ERR_OK; i++)
		early = place_early(s, &items[i], e);
	if (early != ERR_OK) {
		for (size_t i = 0; i < n; i++)
			if (items[i].preplaced)
				release_key(s, items[i].r->storage_key);
		return early;
	}
	commit_group(s, group, n);
	for (size_t i = 0; i < n; i++) {
		rows[i].result = items[i].result;
		if (items[i].result != ERR_OK && items[i].result != ERR_CONFLICT && rc == ERR_OK) {
			rc = items[i].result;
			*e = items[i].err;
		}
	}
	return rc;
}

enum err_code store_resource_update(struct store *s, const char *account, const char *id,
				    const struct meta_update *u, const struct meta_cond *cond,
				    struct pool *pool, struct meta_resource *out, struct err *e)
{
	if (u->confirm_upload) {
		enum err_code rc = confirm_check(s, account, id, pool, e);
		if (rc != ERR_OK)
			return rc;
	}
	struct meta_update mu = *u;
	const char *dropped = NULL;
	mu.dropped_key = &dropped;
	enum err_code rc = meta_resource_update(s->meta, account, id, &mu, cond, pool, out, e);
	if (rc != ERR_OK)
		return not_owner(s, account, id, rc, e);
	if (dropped != NULL)
		release_key(s, dropped); /* a disabled test value */
	return ERR_OK;
}

enum err_code store_resource_delete(struct store *s, const char *account, const char *id,
				    const struct meta_cond *cond, struct pool *pool, struct err *e)
{
	struct meta_resource old;
	bool used = true;
	enum err_code rc = meta_resource_delete(s->meta, account, id, cond, pool, &old, &used, e);
	if (rc != ERR_OK)
		return not_owner(s, account, id, rc, e);
	/* Re-checked under the stripe lock: a create of identical bytes may have landed since. */
	if (!used)
		release_key(s, old.storage_key);
	if (old.test.storage_key != NULL && strcmp(old.test.storage_key, old.storage_key) != 0)
		release_key(s, old.test.storage_key);
	return ERR_OK;
}

struct meta_resource store_test_view(const struct meta_resource *r)
{
	struct meta_resource v = *r;
	if (!r->test_enabled)
		return v;
	memcpy(v.sha256, r->test.sha256, sizeof(v.sha256));
	v.size_bytes = r->test.size_bytes;
	v.mime_type = r->test.mime_type ? r->test.mime_type : r->mime_type;
	v.storage_bucket = r->test.storage_bucket ? r->test.storage_bucket : r->storage_bucket;
	v.storage_key = r->test.storage_key ? r->test.storage_key : "";
	v.file_name = r->test.file_name;
	return v;
}

enum err_code store_content_read(struct store *s, const struct meta_resource *r, bool test,
				 uint64_t max_bytes, struct pool *pool, const unsigned char **bytes,
				 size_t *len, struct err *e)
{
	struct meta_resource v = test ? store_test_view(r) : *r;
	struct blob_read b;
	if ((uint64_t)v.size_bytes > max_bytes)
		return err_set(e, ERR_TOO_LARGE, "the content is larger than %llu bytes",
			       (unsigned long long)max_bytes);
	enum err_code rc = store_content_open(s, &v, 0, 0, pool, &b, e);
	if (rc != ERR_OK)
		return rc;
	if (b.fd < 0 && b.stream == NULL) {
		*bytes = b.bytes;
		*len = (size_t)b.size;
		return ERR_OK;
	}
	/* A file or a stream: the row said how many bytes; more than that is not read. */
	unsigned char *buf = pool_alloc(pool, (size_t)v.size_bytes + 1);
	size_t got = 0;
	ssize_t n = 1;
	while (got < (size_t)v.size_bytes && n > 0) {
		size_t want = (size_t)v.size_bytes - got;
		n = b.stream ? b.stream->read(b.stream, (char *)buf + got, want)
			     : pread(b.fd, buf + got, want, (off_t)got);
		got += n > 0 ? (size_t)n : 0;
	}
	blob_read_close(&b);
	if (got != (size_t)v.size_bytes)
		return err_set(e, ERR_INTERNAL, "reading the blob of resource %s failed", r->id);
	*bytes = buf;
	*len = got;
	return ERR_OK;
}

enum err_code store_content_open(struct store *s, const struct meta_resource *r,
				 uint64_t offset, uint64_t len, struct pool *pool,
				 struct blob_read *out, struct err *e)
{
	if (strcmp(r->storage_bucket, META_INLINE_BUCKET) == 0) {
		size_t ilen = 0;
		*out = (struct blob_read){.fd = -1};
		enum err_code rc = meta_inline_get(s->meta, r->storage_key, pool, &out->bytes, &ilen,
						   e);
		out->size = ilen;
		if (rc == ERR_NOT_FOUND)
			return err_set(e, ERR_INTERNAL, "inline content of resource %s is missing",
				       r->id);
		return rc;
	}
	enum err_code rc = blob_read_open(s->blobs, r->storage_key, offset, len, out, e);
	if (rc == ERR_NOT_FOUND)
		return err_set(e, ERR_INTERNAL, "blob of resource %s is missing", r->id);
	return rc;
}
