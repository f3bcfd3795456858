/* The one place where a blob and its row are written and removed together, in the order that
 * keeps "no row without its blob" true at every instant. Handlers call this, never the
 * backends' order of operations. */
#ifndef DEPOT_STORE_H
#define DEPOT_STORE_H

#include "blob/blob.h"
#include "core/err.h"
#include "core/pool.h"
#include "meta/meta.h"

struct store;

/* Opens the metadata store (meta_url) and blob store (blob_url), then removes staging
 * leftovers and blobs no row refers to. */
enum err_code store_open(const char *meta_url, const char *blob_url, struct store **out,
			 struct err *e) __attribute__((warn_unused_result));

void store_close(struct store *s);

/* Content of at most max_bytes (≤ 256 KiB) is kept inline in the metadata store, in its row's
 * own transaction, instead of a file of its own: one fsync per group of creates instead of
 * three. 0 (the default) turns it off. Call before serving. */
void store_set_inline_max(struct store *s, size_t max_bytes);

/* Creates and content writes answer ERR_NO_SPACE while less than bytes would remain free on
 * the data disk, so deletes (which free space) still find room. Call before serving. */
void store_set_min_free(struct store *s, uint64_t bytes);

/* A new staging writer for the bytes of a resource about to be created. */
enum err_code store_writer_new(struct store *s, struct blob_writer **out, struct err *e)
	__attribute__((warn_unused_result));

/* Creates a resource from r (account, names, tags, metadata, description, sharing,
 * original_uri, created_by, timestamps; mime_type may be NULL or "application/octet-stream" to
 * sniff) and the bytes staged in w — or, with w NULL, a pending resource without bytes. With
 * r->test_enabled the test value starts as the same bytes (ERR_INVALID without bytes). Fills
 * id, sha256, size, mime_type, storage_*, status, version and test in r. The answer comes only
 * after blob and row are durable. ERR_CONFLICT on a taken name. */
enum err_code store_resource_create(struct store *s, struct meta_resource *r,
				    struct blob_writer *w, struct pool *pool, struct err *e)
	__attribute__((warn_unused_result));

/* Which content of a resource a put replaces. */
enum store_put_mode {
	STORE_PUT_LIVE,           /* the content */
	STORE_PUT_PENDING_UPLOAD, /* the one upload of a pending resource (else ERR_CONFLICT) */
	STORE_PUT_TEST,           /* the test value (ERR_CONFLICT unless test_enabled) */
};

struct store_put {
	enum store_put_mode mode;
	const char *mime_type;         /* NULL or application/octet-stream: sniffed */
	const char *file_name;         /* the name of a file value, or NULL */
	const struct meta_cond *cond;  /* If-Match, or NULL */
	const char *external_id;       /* a refresh (live content): the source's version, or NULL */
	/* NULL, or field changes (as store_resource_update takes them; LIVE and TEST modes only)
	 * committed with the content in one metadata transaction under one new version, the
	 * fields first (test_resource_enabled may precede an is_test value); cond guards both. */
	const struct meta_update *fields;
};

/* Replaces the bytes of a resource (or its test value) with those staged in w. The blob is
 * durable before the row points at it; any failure changes nothing. The old blob goes when
 * nothing refers to it. ERR_FORBIDDEN when account may only read the resource. */
enum err_code store_resource_put_content(struct store *s, const char *account, const char *id,
					 struct blob_writer *w, const struct store_put *put,
					 struct pool *pool, struct meta_resource *out,
					 struct err *e) __attribute__((warn_unused_result));

/* The row of a resource account owns, for a write. ERR_FORBIDDEN when it is another account's
 * that account may only read (shared with it), ERR_NOT_FOUND when account cannot see it. */
enum err_code store_resource_get_own(struct store *s, const char *account, const char *id,
				     struct pool *pool, struct meta_resource *out, struct err *e)
	__attribute__((warn_unused_result));

/* Reads the whole content of r (or, with test and r->test_enabled, its test value) into pool
 * memory. ERR_TOO_LARGE when it is larger than max_bytes. */
enum err_code store_content_read(struct store *s, const struct meta_resource *r, bool test,
				 uint64_t max_bytes, struct pool *pool, const unsigned char **bytes,
				 size_t *len, struct err *e) __attribute__((warn_unused_result));

/* r as it reads with the test flag: its test value in place of its content when
 * test_enabled, else r itself. */
struct meta_resource store_test_view(const struct meta_resource *r);

/* Applies u; a confirm_upload first checks that the uploaded bytes are in the blob store. A test
 * value dropped by u is released. ERR_FORBIDDEN when account may only read the resource. */
enum err_code store_resource_update(struct store *s, const char *account, const char *id,
				    const struct meta_update *u, const struct meta_cond *cond,
				    struct pool *pool, struct meta_resource *out, struct err *e)
	__attribute__((warn_unused_result));

/* One resource of a bulk import: its row (account, names, tags, metadata, created_by,
 * timestamps; mime_type NULL to sniff) and its bytes, held in memory. */
struct store_import_row {
	struct meta_resource r;
	const unsigned char *bytes;
	size_t len;
	enum err_code result;   /* set by store_import_batch: ERR_OK or ERR_CONFLICT */
};

/* Creates rows[0..n) together: every new blob is written and fsynced, then the rows commit in
 * one transaction. A taken name fails only its own row. An error returned fails them all. */
enum err_code store_import_batch(struct store *s, struct store_import_row *rows, size_t n,
				 struct pool *pool, struct err *e) __attribute__((warn_unused_result));

/* Deletes a resource (when cond holds), and its blobs (content and test value) when no other
 * resource refers to them. ERR_FORBIDDEN when account may only read the resource. */
enum err_code store_resource_delete(struct store *s, const char *account, const char *id,
				    const struct meta_cond *cond, struct pool *pool,
				    struct err *e) __attribute__((warn_unused_result));

/* Opens the bytes [offset, offset + len) of a resource row for reading (0, 0: all of them):
 * a file or a stream of just those bytes from the blob store (see blob_read_open), or inline
 * bytes copied into pool. Release with blob_read_close. */
enum err_code store_content_open(struct store *s, const struct meta_resource *r,
				 uint64_t offset, uint64_t len, struct pool *pool,
				 struct blob_read *out, struct err *e) __attribute__((warn_unused_result));

/* The metadata store, for reads and updates that touch no blob. */
struct meta *store_meta(struct store *s);

/* Sniffs a MIME type from the first bytes of content with libmagic ("application/octet-stream"
 * when nothing is recognised). Thread-safe. */
const char *store_sniff_mime(const unsigned char *head, size_t len, struct pool *pool);

#endif
