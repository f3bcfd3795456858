/* The blob store as the store layer sees it: stage bytes (hashed on the way), commit them under
 * a key, read them back, delete them. Backends (local files, later S3) sit behind blob_int.h. */
#ifndef DEPOT_BLOB_H
#define DEPOT_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"

#define BLOB_KEY_MAX 128
#define BLOB_HEAD_BYTES (64 * 1024) /* bytes kept from the start of a blob, for sniffing */

struct blob_store;
struct blob_writer;

/* Bytes that arrive on demand (an object store's download), in bounded memory. */
struct blob_stream {
	/* Copies the next at most cap bytes into buf and returns how many: 0 only at the end, -1
	 * when the transfer failed (the backend logs why). May block until bytes arrive, never
	 * longer than the backend's stall timeout. */
	ssize_t (*read)(struct blob_stream *st, char *buf, size_t cap);
	void (*close)(struct blob_stream *st); /* ends the transfer and frees st */
};

/* An open blob for reading, one of: a file (fd, for sendfile), bytes held in memory (fd < 0,
 * stream NULL), or a stream of just the bytes asked for. */
struct blob_read {
	int fd;                      /* owned by the caller once returned, or -1 */
	const unsigned char *bytes;  /* with fd < 0 and no stream: the content (caller's pool) */
	struct blob_stream *stream;  /* or NULL; owned by the caller once returned */
	uint64_t size;               /* the whole blob's size */
};

/* Opens the store described by url ("file:DIR", "s3://BUCKET?endpoint=...", see blob_s3.c). */
enum err_code blob_open(const char *url, struct blob_store **out, struct err *e)
	__attribute__((warn_unused_result));

void blob_close(struct blob_store *s);

/* The bucket name to report in storage_bucket. */
const char *blob_bucket(const struct blob_store *s);

/* THE one function that derives a storage key, "blobs/<sha256(account)[:32]>/<sha256>":
 * identical bytes within an account share a key, and no byte of the account id reaches the
 * key (it is hashed). One folder per account, so a group of creates is made durable with one
 * folder fsync. out holds BLOB_KEY_MAX. */
void blob_key(const char *account_id, const char *sha256_hex, char out[BLOB_KEY_MAX]);

/* Starts staging a new blob. */
enum err_code blob_writer_new(struct blob_store *s, struct blob_writer **out, struct err *e)
	__attribute__((warn_unused_result));

/* Appends bytes to the staged blob. */
enum err_code blob_writer_write(struct blob_writer *w, const void *buf, size_t len,
				struct err *e) __attribute__((warn_unused_result));

/* Ends the bytes and reports their lowercase hex SHA-256 and size. Content of at most
 * keep_in_memory_max bytes stays in memory (blob_writer_memory) and is never staged; anything
 * larger is made durable in its staging file (fdatasync, outside any lock, so concurrent
 * uploads sync in parallel). */
enum err_code blob_writer_finish(struct blob_writer *w, char sha256_hex[65], uint64_t *size,
				 size_t keep_in_memory_max, struct err *e)
	__attribute__((warn_unused_result));

/* The bytes of a writer that finished in memory, or NULL. Valid until blob_writer_free. */
const unsigned char *blob_writer_memory(const struct blob_writer *w, size_t *len);

/* The first min(size, BLOB_HEAD_BYTES) bytes written. */
const unsigned char *blob_writer_head(const struct blob_writer *w, size_t *len);

/* Bytes written so far. */
uint64_t blob_writer_size(const struct blob_writer *w);

/* Moves the finished blob to key, durably (for files: rename, then fsync of the folder). */
enum err_code blob_writer_commit(struct blob_writer *w, const char *key, struct err *e)
	__attribute__((warn_unused_result));

/* The two halves of blob_writer_commit, so a group of blobs shares the durability step: place
 * moves the bytes to key (readable, not yet crash-safe); sync_placed makes every placed key
 * of the list durable. */
enum err_code blob_writer_place(struct blob_writer *w, const char *key, struct err *e)
	__attribute__((warn_unused_result));
enum err_code blob_sync_placed(struct blob_store *s, const char *const *keys, size_t n,
			       struct err *e) __attribute__((warn_unused_result));

/* Whether blob_writer_place may run more than once for one writer (an upload that keeps the
 * staged bytes) — then it is slow, and best done outside any lock. */
bool blob_place_repeatable(const struct blob_store *s);

/* Frees w; staged bytes that were not committed are discarded. */
void blob_writer_free(struct blob_writer *w);

/* Writes stop while less than min_free bytes would remain free on the store's disk (so the
 * metadata store keeps room for the deletes that free space). 0: until the disk is full. */
void blob_set_min_free(struct blob_store *s, uint64_t min_free);

/* ERR_NO_SPACE, with a message for the client, when writing incoming more bytes would leave
 * less than the watermark free; ERR_OK otherwise (and always for stores without a disk). */
enum err_code blob_check_space(struct blob_store *s, uint64_t incoming, struct err *e)
	__attribute__((warn_unused_result));

/* Opens the blob at key for reading the bytes [offset, offset + len). A stream delivers just
 * those (offset 0 and len 0: the whole blob); a file or memory holds the whole blob and the
 * caller seeks. ERR_NOT_FOUND when it is missing. */
enum err_code blob_read_open(struct blob_store *s, const char *key, uint64_t offset, uint64_t len,
			     struct blob_read *out, struct err *e) __attribute__((warn_unused_result));

/* Releases what blob_read_open opened (a file or a stream); memory stays with its pool. */
void blob_read_close(struct blob_read *b);

/* Whether a blob is stored at key. */
enum err_code blob_exists(struct blob_store *s, const char *key, bool *exists, struct err *e)
	__attribute__((warn_unused_result));

/* Removes the blob at key; a missing blob is not an error. */
enum err_code blob_delete(struct blob_store *s, const char *key, struct err *e)
	__attribute__((warn_unused_result));

/* Start-up cleanup: removes every staging leftover, and offers every stored blob to
 * drop(ctx, key), which removes it (with blob_delete, under whatever locks it needs) when
 * nothing refers to it and answers whether it did. Reports the counts removed. */
enum err_code blob_sweep(struct blob_store *s, bool (*drop)(void *ctx, const char *key),
			 void *ctx, uint64_t *staged_removed, uint64_t *blobs_removed,
			 struct err *e) __attribute__((warn_unused_result));

#endif
