/* What a blob backend implements. Only blob.c and the backends include this. */
#ifndef DEPOT_BLOB_INT_H
#define DEPOT_BLOB_INT_H

#include "blob/blob.h"

struct blob_stage; /* a backend's staged upload */

struct blob_ops {
	const char *scheme; /* "file", "s3" */
	/* stage_place copies the staged bytes to key and keeps them staged, so it may run again
	 * (object stores: the upload). The store then places before taking its locks, and under
	 * them only checks the object is still there. false: place moves the bytes (files). */
	bool place_repeatable;
	enum err_code (*open)(const char *rest, struct blob_store **out, struct err *e);
	void (*close)(struct blob_store *s);
	enum err_code (*stage_new)(struct blob_store *s, struct blob_stage **out, struct err *e);
	enum err_code (*stage_write)(struct blob_stage *st, const void *buf, size_t len,
				     struct err *e);
	enum err_code (*stage_sync)(struct blob_stage *st, struct err *e);
	/* Moves the synced staged bytes to key; the new name is durable after sync_placed. */
	enum err_code (*stage_place)(struct blob_stage *st, const char *key, struct err *e);
	enum err_code (*sync_placed)(struct blob_store *s, const char *const *keys, size_t n,
				     struct err *e);
	void (*stage_free)(struct blob_stage *st); /* discards when not committed */
	enum err_code (*read_open)(struct blob_store *s, const char *key, uint64_t offset,
				   uint64_t len, struct blob_read *out, struct err *e);
	enum err_code (*remove)(struct blob_store *s, const char *key, struct err *e);
	enum err_code (*exists)(struct blob_store *s, const char *key, bool *exists,
				struct err *e);
	/* Bytes free where the store writes, or NULL when the backend has no such bound. */
	enum err_code (*space_left)(struct blob_store *s, uint64_t *bytes, struct err *e);
	enum err_code (*sweep)(struct blob_store *s, bool (*drop)(void *, const char *), void *ctx,
			       uint64_t *staged_removed, uint64_t *blobs_removed, struct err *e);
};

/* Every backend's struct blob_store starts with this. */
struct blob_store {
	const struct blob_ops *ops;
	const char *bucket;
	uint64_t min_free; /* blob_check_space's watermark */
};

/* True when key has the shape blob_key makes: "blobs/<32 hex>/<2 hex>/<64 hex>". Backends
 * check every key before it reaches a path or a request. */
bool blob_key_valid(const char *key);

/* Writes all of buf to fd (retrying short writes and EINTR); 0, or the errno that stopped it. */
int blob_fd_write_all(int fd, const void *buf, size_t len);

extern const struct blob_ops blob_fs_ops;
extern const struct blob_ops blob_s3_ops;

#endif
