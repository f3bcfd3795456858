/* The backend-independent half of the blob store: key derivation, hashing and head capture on
 * the way in, and dispatch to the backend chosen by the URL's scheme. */
#include "blob/blob_int.h"
#include "core/text.h"
#include "core/xalloc.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct blob_ops *const backends[] = {&blob_fs_ops, &blob_s3_ops};

/* SHA-256 beside the writes. Once content fills one write buffer, a helper thread hashes each
 * full buffer while the receiving thread writes it out and fills the other one: SHA-256
 * (~1.7 GB/s here) was 37 % of a 1 GiB upload's CPU on the one thread that also receives and
 * writes. One job at a time, in order; the digest context is only touched by whichever thread
 * holds the turn (the mutex hands it over). */
struct hasher {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	EVP_MD_CTX *sha;
	const unsigned char *job; /* NULL: idle */
	size_t job_len;
	bool stop;
};

struct blob_writer {
	struct blob_store *store;
	struct blob_stage *stage;
	EVP_MD_CTX *sha;
	uint64_t size;
	unsigned char *head; /* BLOB_HEAD_BYTES */
	size_t head_len;
	unsigned char *pend; /* WRITE_BUFFER bytes gathered before one backend write */
	size_t pend_len;
	bool finished;
	bool in_memory;      /* finished with every byte still in pend, no staging file */
	struct hasher *hasher; /* NULL: bytes are hashed as they come */
	bool hasher_tried;
	unsigned char *spare;  /* the other WRITE_BUFFER, being hashed */
};

/* Small pieces (libmicrohttpd hands bodies over in a few KiB) are gathered into one write. */
#define WRITE_BUFFER (256 * 1024)

static void *hasher_main(void *arg)
{
	struct hasher *h = arg;
	pthread_mutex_lock(&h->lock);
	for (;;) {
		while (h->job == NULL && !h->stop)
			pthread_cond_wait(&h->cond, &h->lock);
		if (h->job == NULL)
			break;
		const unsigned char *job = h->job;
		size_t len = h->job_len;
		pthread_mutex_unlock(&h->lock);
		EVP_DigestUpdate(h->sha, job, len);
		pthread_mutex_lock(&h->lock);
		h->job = NULL;
		pthread_cond_broadcast(&h->cond);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* Waits until the helper has hashed everything handed to it. */
static void hasher_wait(struct hasher *h)
{
	pthread_mutex_lock(&h->lock);
	while (h->job != NULL)
		pthread_cond_wait(&h->cond, &h->lock);
	pthread_mutex_unlock(&h->lock);
}

static void hasher_post(struct hasher *h, const unsigned char *buf, size_t len)
{
	pthread_mutex_lock(&h->lock);
	while (h->job != NULL)
		pthread_cond_wait(&h->cond, &h->lock);
	h->job = buf;
	h->job_len = len;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

/* A helper hashing into sha, or NULL (then the writer goes on hashing in line). */
static struct hasher *hasher_start(EVP_MD_CTX *sha)
{
	struct hasher *h = xcalloc(1, sizeof(*h));
	pthread_attr_t attr;
	h->sha = sha;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	bool ok = pthread_create(&h->thread, &attr, hasher_main, h) == 0;
	pthread_attr_destroy(&attr);
	if (ok) {
		pthread_setname_np(h->thread, "blob-hash");
		return h;
	}
	pthread_cond_destroy(&h->cond);
	pthread_mutex_destroy(&h->lock);
	free(h);
	return NULL;
}

static void hasher_stop(struct hasher *h)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&h->lock);
	h->stop = true;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->thread, NULL); /* it finishes the job it holds first */
	pthread_cond_destroy(&h->cond);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

/* Bytes hashed on this thread: after whatever the helper still holds. */
static void hash_here(struct blob_writer *w, const void *buf, size_t len)
{
	if (w->hasher != NULL)
		hasher_wait(w->hasher);
	EVP_DigestUpdate(w->sha, buf, len);
}

/* The staging file is made when bytes first leave memory: small content that ends in memory
 * never touches the disk here. */
static enum err_code ensure_stage(struct blob_writer *w, struct err *e)
{
	return w->stage != NULL ? ERR_OK : w->store->ops->stage_new(w->store, &w->stage, e);
}

static enum err_code flush_pending(struct blob_writer *w, struct err *e)
{
	if (w->pend_len == 0)
		return ERR_OK;
	enum err_code rc = ensure_stage(w, e);
	if (rc == ERR_OK)
		rc = blob_check_space(w->store, w->pend_len, e);
	if (rc != ERR_OK)
		return rc;
	if (w->hasher != NULL) /* hashed there while written here; then the other buffer */
		hasher_post(w->hasher, w->pend, w->pend_len);
	rc = w->store->ops->stage_write(w->stage, w->pend, w->pend_len, e);
	w->pend_len = 0;
	if (w->hasher != NULL) {
		unsigned char *t = w->pend;
		w->pend = w->spare;
		w->spare = t;
	}
	return rc;
}

enum err_code blob_open(const char *url, struct blob_store **out, struct err *e)
{
	const char *colon = strchr(url, ':');
	size_t n = colon ? (size_t)(colon - url) : 0;
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (n == strlen(backends[i]->scheme) && strncmp(url, backends[i]->scheme, n) == 0)
			return backends[i]->open(colon + 1, out, e);
	return err_set(e, ERR_INVALID, "unknown blob store '%s'", url);
}

void blob_close(struct blob_store *s)
{
	if (s != NULL)
		s->ops->close(s);
}

const char *blob_bucket(const struct blob_store *s)
{
	return s->bucket;
}

void blob_set_min_free(struct blob_store *s, uint64_t min_free)
{
	s->min_free = min_free;
}

enum err_code blob_check_space(struct blob_store *s, uint64_t incoming, struct err *e)
{
	uint64_t left;
	if (s->ops->space_left == NULL)
		return ERR_OK;
	enum err_code rc = s->ops->space_left(s, &left, e);
	if (rc != ERR_OK)
		return rc;
	if (left < incoming || left - incoming < s->min_free)
		return err_set(e, ERR_NO_SPACE,
			       "the disk is full: writing would leave less than %llu bytes free",
			       (unsigned long long)s->min_free);
	return ERR_OK;
}

int blob_fd_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

bool blob_place_repeatable(const struct blob_store *s)
{
	return s->ops->place_repeatable;
}

void blob_key(const char *account_id, const char *sha256_hex, char out[BLOB_KEY_MAX])
{
	unsigned char digest[32];
	char hex[65];
	unsigned int len = 0;
	EVP_Digest(account_id, strlen(account_id), digest, &len, EVP_sha256(), NULL);
	text_hex(digest, 16, hex);
	snprintf(out, BLOB_KEY_MAX, "blobs/%.32s/%.64s", hex, sha256_hex);
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool blob_key_valid(const char *key)
{
	/* blobs/ + 32 + / + 64 */
	return strlen(key) == 6 + 32 + 1 + 64 && strncmp(key, "blobs/", 6) == 0 &&
	       all_hex(key + 6, 32) && key[38] == '/' && all_hex(key + 39, 64);
}

enum err_code blob_writer_new(struct blob_store *s, struct blob_writer **out, struct err *e)
{
	struct blob_writer *w = xcalloc(1, sizeof(*w));
	(void)e;
	w->store = s;
	w->sha = EVP_MD_CTX_new();
	if (w->sha == NULL || EVP_DigestInit_ex(w->sha, EVP_sha256(), NULL) != 1)
		xalloc_die();
	w->head = xmalloc(BLOB_HEAD_BYTES);
	w->pend = xmalloc(WRITE_BUFFER);
	*out = w;
	return ERR_OK;
}

enum err_code blob_writer_write(struct blob_writer *w, const void *buf, size_t len, struct err *e)
{
	if (len == 0)
		return ERR_OK;
	if (w->head_len < BLOB_HEAD_BYTES) {
		size_t n = BLOB_HEAD_BYTES - w->head_len < len ? BLOB_HEAD_BYTES - w->head_len : len;
		memcpy(w->head + w->head_len, buf, n);
		w->head_len += n;
	}
	w->size += len;
	/* pend holds bytes already hashed while there is no helper, bytes still to hash when
	 * there is one; it is empty when the helper starts. */
	if (w->pend_len + len > WRITE_BUFFER) {
		enum err_code rc = flush_pending(w, e);
		if (rc != ERR_OK)
			return rc;
		if (!w->hasher_tried) { /* big content: the rest is hashed beside the writes */
			w->hasher_tried = true;
			w->spare = xmalloc(WRITE_BUFFER);
			w->hasher = hasher_start(w->sha);
		}
		if (len >= WRITE_BUFFER) {
			hash_here(w, buf, len);
			return (rc = ensure_stage(w, e)) != ERR_OK
				       ? rc
				       : w->store->ops->stage_write(w->stage, buf, len, e);
		}
	}
	if (w->hasher == NULL)
		EVP_DigestUpdate(w->sha, buf, len);
	memcpy(w->pend + w->pend_len, buf, len);
	w->pend_len += len;
	return ERR_OK;
}

enum err_code blob_writer_finish(struct blob_writer *w, char sha256_hex[65], uint64_t *size,
				 size_t keep_in_memory_max, struct err *e)
{
	unsigned char digest[32];
	unsigned int len = 0;
	w->in_memory = keep_in_memory_max > 0 && w->stage == NULL && w->size <= keep_in_memory_max;
	if (!w->in_memory) {
		enum err_code rc = flush_pending(w, e);
		if (rc == ERR_OK) /* zero bytes, yet a file is wanted */
			rc = ensure_stage(w, e);
		if (rc == ERR_OK)
			rc = w->store->ops->stage_sync(w->stage, e);
		if (rc != ERR_OK)
			return rc;
	}
	if (w->hasher != NULL)
		hasher_wait(w->hasher);
	EVP_DigestFinal_ex(w->sha, digest, &len);
	text_hex(digest, 32, sha256_hex);
	*size = w->size;
	w->finished = true;
	return ERR_OK;
}

const unsigned char *blob_writer_memory(const struct blob_writer *w, size_t *len)
{
	if (!w->finished || !w->in_memory)
		return NULL;
	*len = w->pend_len;
	return w->pend;
}

const unsigned char *blob_writer_head(const struct blob_writer *w, size_t *len)
{
	*len = w->head_len;
	return w->head;
}

uint64_t blob_writer_size(const struct blob_writer *w)
{
	return w->size;
}

enum err_code blob_writer_place(struct blob_writer *w, const char *key, struct err *e)
{
	if (!w->finished || w->in_memory)
		return err_set(e, ERR_INTERNAL, "blob placed before it was finished to a file");
	if (!blob_key_valid(key))
		return err_set(e, ERR_INTERNAL, "refusing malformed blob key");
	return w->store->ops->stage_place(w->stage, key, e);
}

enum err_code blob_sync_placed(struct blob_store *s, const char *const *keys, size_t n,
			       struct err *e)
{
	return n == 0 ? ERR_OK : s->ops->sync_placed(s, keys, n, e);
}

enum err_code blob_writer_commit(struct blob_writer *w, const char *key, struct err *e)
{
	enum err_code rc = blob_writer_place(w, key, e);
	return rc != ERR_OK ? rc : blob_sync_placed(w->store, &key, 1, e);
}

void blob_writer_free(struct blob_writer *w)
{
	if (w == NULL)
		return;
	hasher_stop(w->hasher);
	if (w->stage != NULL)
		w->store->ops->stage_free(w->stage);
	EVP_MD_CTX_free(w->sha);
	free(w->spare);
	free(w->head);
	free(w->pend);
	free(w);
}

enum err_code blob_read_open(struct blob_store *s, const char *key, uint64_t offset, uint64_t len,
			     struct blob_read *out, struct err *e)
{
	if (!blob_key_valid(key))
		return err_set(e, ERR_INTERNAL, "refusing malformed blob key");
	*out = (struct blob_read){.fd = -1};
	return s->ops->read_open(s, key, offset, len, out, e);
}

void blob_read_close(struct blob_read *b)
{
	if (b->fd >= 0)
		close(b->fd);
	if (b->stream != NULL)
		b->stream->close(b->stream);
	b->fd = -1;
	b->stream = NULL;
}

enum err_code blob_exists(struct blob_store *s, const char *key, bool *exists, struct err *e)
{
	if (!blob_key_valid(key))
		return err_set(e, ERR_INTERNAL, "refusing malformed blob key");
	return s->ops->exists(s, key, exists, e);
}

enum err_code blob_delete(struct blob_store *s, const char *key, struct err *e)
{
	if (!blob_key_valid(key))
		return err_set(e, ERR_INTERNAL, "refusing malformed blob key");
	return s->ops->remove(s, key, e);
}

enum err_code blob_sweep(struct blob_store *s, bool (*drop)(void *ctx, const char *key),
			 void *ctx, uint64_t *staged_removed, uint64_t *blobs_removed,
			 struct err *e)
{
	*staged_removed = *blobs_removed = 0;
	return s->ops->sweep(s, drop, ctx, staged_removed, blobs_removed, e);
}
