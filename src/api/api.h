/* REST semantics of depot: the route table, the handlers and their JSON. No MHD, no SQL, no
 * file paths here: requests arrive as struct http_req, storage goes through store.h. */
#ifndef DEPOT_API_H
#define DEPOT_API_H

#include <jansson.h>
#include <stddef.h>

#include "api/validate.h"
#include "core/buf.h"
#include "auth/auth.h"
#include "fetch/external.h"
#include "fetch/fetch.h"
#include "http/http.h"
#include "store/store.h"

struct listcache;

struct api {
	struct auth *auth;
	struct store *store;
	struct limits limits;
	struct fetch_opts fetch;
	const struct external *external; /* s3://, gs:// and Azure Blob sources */
	size_t max_json_bytes;          /* a JSON body besides its streamed content */
	uint64_t max_body_bytes;        /* any request body, streamed or not (not raw PUTs) */
	const unsigned char *url_key;   /* HMAC key of signed URLs */
	size_t url_key_len;
	const char *public_url;         /* "" for http://<Host> */
	size_t import_batch;            /* rows per import transaction */
	int64_t upload_url_ttl_s;
	int64_t max_url_ttl_s;
	struct listcache *lists;        /* answers of own-row lists; NULL: none kept */
};

/* The one entry point from the HTTP layer (an http_handler_fn with app = struct api). */
void api_handle(void *app, struct http_req *req, struct http_resp *resp);

/* ---- shared by the api files ---- */

/* What a handler gets: the request, who is asking, and the app. */
struct api_ctx {
	struct api *api;
	struct http_req *req;
	struct http_resp *resp;
	const struct auth_principal *who; /* NULL on routes without auth */
};

/* Rebuilds the context of a request whose route was matched at HTTP_PHASE_HEADERS (for
 * streaming callbacks). */
void api_ctx_of(struct http_req *req, struct http_resp *resp, struct api_ctx *out);

/* Answers with {"error": msg} and the status of code. For 5xx codes the message is logged
 * and the client gets a generic one. */
void api_error(struct api_ctx *c, enum err_code code, const char *msg);

/* Answers status with the JSON text of v (which is consumed). */
void api_json(struct api_ctx *c, int status, json_t *v);

/* The HTTP status of an error code. */
int api_status_of(enum err_code code);

/* The OpenAPI document, embedded at build time. */
extern const char openapi_json[];

/* Parses an If-Match header into cond (false: malformed, which matches nothing). NULL header
 * leaves cond empty. */
void api_if_match(const char *header, struct pool *pool, struct meta_cond *cond);

/* "http(s)://host[:port]" for absolute URLs (pool). */
const char *api_base_url(struct api_ctx *c);

/* A signed URL for method on path, valid until expires_s (pool). */
const char *api_signed_url(struct api_ctx *c, const char *method, const char *path,
			   int64_t expires_s);

/* Handlers (resources.c, upload.c, download.c, value.c, folders.c). */
void api_resource_create_begin(struct api_ctx *c);
void api_resource_list(struct api_ctx *c);
void api_resource_get(struct api_ctx *c);
void api_resource_update(struct api_ctx *c);
void api_resource_delete(struct api_ctx *c);
void api_resource_content(struct api_ctx *c);
void api_resource_put_content_begin(struct api_ctx *c);
void api_upload_put_begin(struct api_ctx *c);
void api_resource_url(struct api_ctx *c);
void api_resource_import_begin(struct api_ctx *c);
void api_resource_value(struct api_ctx *c);
void api_resource_refresh(struct api_ctx *c);
void api_folder_create(struct api_ctx *c);
void api_folder_list(struct api_ctx *c);
void api_folder_get(struct api_ctx *c);

/* The dialects (dialect_empirical.c, dialect_tines.c): thin translators onto the same core. */
void api_empirical_create(struct api_ctx *c);
void api_empirical_get(struct api_ctx *c);
void api_empirical_update(struct api_ctx *c);
void api_empirical_upload_begin(struct api_ctx *c);
void api_tines_list(struct api_ctx *c);
void api_tines_create(struct api_ctx *c);
void api_tines_get(struct api_ctx *c);
void api_tines_update(struct api_ctx *c);

/* Writes the Resource JSON of r, as reader sees it, to b; extra (or NULL) is inserted before
 * the closing brace (",\"k\":v" pairs). */
void api_resource_write(struct buf *b, const struct meta_resource *r, const char *reader,
			const char *extra);

/* Answers status with the Resource JSON of r, as the caller sees it. */
void api_resource_respond(struct api_ctx *c, int status, const struct meta_resource *r,
			  const char *extra);

/* Answers status with the JSON text in b (taken over). */
void api_buf_respond(struct api_ctx *c, int status, struct buf *b);
/* The same for a malloc'd JSON body of len bytes, which the response then owns. */
void api_body_respond(struct api_ctx *c, int status, char *body, size_t len);

/* A validated create request. */
struct create_fields {
	const char *name;
	const char *directory_path;    /* normalised */
	const char **tags;
	size_t ntags;
	const char *metadata_json;
	const char *mime_type;         /* declared, or NULL */
	const char *original_uri;      /* for uri creates, without credentials */
	const char *external_id;       /* an external source's version of the bytes, or NULL */
	const char *external_storage_type; /* "s3", "gcs", "azure_blob", or NULL */
	bool pending;                  /* "upload": "pending" */
	const char *description;       /* or NULL */
	const char *read_access;       /* META_ACCESS_*, or NULL for TEAM */
	const char **shared_with;      /* validated, sorted */
	size_t nshared;
	bool test_enabled;             /* the test value starts as the content */
	const char *file_name;         /* the name of a file value, or NULL */
};

/* name: required, validated. Pure, like the two below. */
enum err_code api_read_name(json_t *body, const struct limits *l, const char **out,
			    struct err *e) __attribute__((warn_unused_result));

/* description: a string (validated), or absent or null (*out NULL). */
enum err_code api_read_description(json_t *body, const struct limits *l, const char **out,
				   struct err *e) __attribute__((warn_unused_result));

/* The create fields every create body shares (description, read_access, shared_team_slugs,
 * test_resource_enabled), read from a JSON body into f (strings borrow from body or pool). */
enum err_code api_create_common(json_t *body, const struct limits *l, struct pool *pool,
				struct create_fields *f, struct err *e)
	__attribute__((warn_unused_result));

/* Creates a resource from f and the bytes staged in w (NULL for a pending one), and reads the
 * new row back into out (numeric ids and all): the one create every path and dialect uses. */
enum err_code api_create(struct api_ctx *c, const struct create_fields *f, struct blob_writer *w,
			 struct meta_resource *out, struct err *e)
	__attribute__((warn_unused_result));

/* api_create, answered with the /v1 Resource (and the upload URL of a pending one). */
void api_create_finish(struct api_ctx *c, const struct create_fields *f, struct blob_writer *w);

/* Reads the bytes of a create's uri into a new staging writer *w (the caller's to free, also on
 * failure): an external object (s3://, gs://, an Azure Blob URL) or any other http(s) uri.
 * Sets f's original_uri (without credentials), mime_type and external fields. */
enum err_code api_uri_read(struct api_ctx *c, const char *uri, struct blob_writer **w,
			   struct create_fields *f, struct err *e)
	__attribute__((warn_unused_result));

/* ---- the pure parsers of request bodies (no I/O, no clock; tests/fuzz calls them) ---- */

/* Where the bytes of a JSON create come from. */
struct create_source {
	bool has_content, has_uri, has_value;
	const char *content;   /* content that was not streamed (an escaped key), or NULL */
	size_t content_len;
	const char *uri;
	const char *value;     /* a text value, its bytes as given */
	size_t value_len;
};

/* Reads and validates the fields of a JSON create body (the text jsonscan left, where a streamed
 * content is ""); content_streamed says jsonscan captured content. Strings borrow from body. */
enum err_code api_create_json_fields(json_t *body, bool content_streamed,
				    const struct limits *l, struct pool *pool,
				    struct create_fields *f, struct create_source *src,
				    struct err *e) __attribute__((warn_unused_result));


/* The text parts of a multipart create, and what its file part said about itself, collected
 * piece by piece as the form reader delivers them. */
#define API_FORM_MAX_PARTS 64
struct form_part {
	char *field;           /* malloc'd */
	char *data;            /* malloc'd, NUL-terminated; NULL while empty */
	size_t len, cap;
};
struct form_parts {
	struct form_part parts[API_FORM_MAX_PARTS];
	size_t nparts, text_bytes;
	bool file_seen;
	const char *filename, *file_type; /* pool; NULL when absent or unusable */
};

/* The first piece of the file part (off 0): only one is allowed. */
enum err_code api_form_file_begin(struct form_parts *fp, const char *filename,
				  const char *content_type, struct pool *pool, struct err *e)
	__attribute__((warn_unused_result));

/* A piece of a text part; every text part together stays within max_bytes. */
enum err_code api_form_text_piece(struct form_parts *fp, const char *field, const char *data,
				  uint64_t off, size_t len, size_t max_bytes, struct err *e)
	__attribute__((warn_unused_result));

/* The create fields of a complete form (name falls back to the file's filename). Strings live in
 * fp or pool. */
enum err_code api_form_fields(const struct form_parts *fp, const struct limits *l,
			      struct pool *pool, struct create_fields *f, struct err *e)
	__attribute__((warn_unused_result));

void api_form_parts_cleanup(struct form_parts *fp);

/* Parses one NDJSON line of an import into row (strings and bytes in pool): names, tags,
 * metadata and the decoded content. Account, creator and times are the caller's. */
enum err_code api_import_line_parse(const char *text, size_t len, const struct limits *l,
				    struct pool *pool, struct store_import_row *row,
				    struct err *e) __attribute__((warn_unused_result));

/* The route for method on path: the first whose pattern and method match (path parameters in
 * params, pool copies), or NULL and *allowed the methods of every route whose pattern matches
 * the path (for 405 and Allow). */
struct route;
const struct route *api_route_find(enum http_method method, const char *path,
				   struct pool *pool, const char *params[HTTP_MAX_PARAMS],
				   unsigned *allowed);

/* The pattern of a route ("/v1/resources/{id}"). */
const char *api_route_pattern(const struct route *r);

/* The signed URL that takes the bytes of a pending resource at path (pool), and when it ends
 * (RFC 3339, pool). */
const char *api_upload_url(struct api_ctx *c, const char *path, const char **expires_at);

/* The fields an update body may carry; each caller names the ones its dialect has. */
enum api_update_field {
	UPD_NAME = 1,
	UPD_DIRECTORY = 2,          /* directory_path */
	UPD_FOLDER = 4,             /* folder_id: a folder's path, or null for the root */
	UPD_TAGS = 8,
	UPD_METADATA = 16,
	UPD_STATUS = 32,            /* "uploaded" confirms a pending upload */
	UPD_DESCRIPTION = 64,
	UPD_SHARING = 128,          /* read_access, shared_team_slugs */
	UPD_TEST = 256,             /* test_resource_enabled */
	UPD_ALL = 511,
};

/* Reads and validates the named fields of an update body (PUT/PATCH, and the dialects') into
 * u; other fields are ignored. Pure: strings borrow from body or pool, no updated_at_us; a
 * folder_id is recorded in *folder_id (0: none, or null, which sets directory_path "/") for
 * the caller to resolve. */
enum err_code api_update_parse(json_t *body, unsigned fields, const struct limits *l,
			       struct pool *pool, struct meta_update *u, int64_t *folder_id,
			       struct err *e) __attribute__((warn_unused_result));

/* api_update_parse for a request: folder_id resolved to its folder's path (ERR_INVALID when
 * the account has no such folder), updated_at_us now. */
enum err_code api_update_read(struct api_ctx *c, json_t *body, unsigned fields,
			      struct meta_update *u, struct err *e)
	__attribute__((warn_unused_result));

/* A new value for a resource's content, in memory. */
struct api_value {
	bool present;
	const unsigned char *bytes;
	size_t len;
	const char *mime_type;         /* NULL: sniffed */
	const char *file_name;         /* a file value's name, or NULL */
	bool is_test;                  /* the test value, not the live one */
};

/* The MIME type a text value is stored with: application/json when it parses as JSON, else
 * text/plain. */
const char *api_value_mime(const char *text, size_t len);

/* A blob writer holding v's bytes (ERR_TOO_LARGE over DEPOT_MAX_UPLOAD_BYTES); *w is the
 * caller's to free, also on failure. */
enum err_code api_value_writer(struct api_ctx *c, const struct api_value *v,
			       struct blob_writer **w, struct err *e)
	__attribute__((warn_unused_result));

/* Applies an update and (when v->present) writes the value, as one request of any dialect:
 * one metadata transaction and one new version, the fields first (so test_resource_enabled
 * can precede an is_test value), cond guarding the whole; on any error nothing changed. out
 * receives the row after both. */
enum err_code api_resource_apply(struct api_ctx *c, const char *id, const struct meta_update *u,
				 const struct api_value *v, const struct meta_cond *cond,
				 struct meta_resource *out, struct err *e)
	__attribute__((warn_unused_result));

/* Writes the value of r (its test value with test) to b: a text value (text/plain or
 * application/json, valid UTF-8) as a string — typed, application/json as its JSON —, other
 * content as a file object {"name", "contents" (base64), "type"}; null without bytes. Content
 * over DEPOT_MAX_JSON_BYTES is a file object with "contents": null. */
enum err_code api_value_write(struct api_ctx *c, struct buf *b, const struct meta_resource *r,
			      bool test, bool typed, struct err *e)
	__attribute__((warn_unused_result));

/* A boolean query parameter: absent → def; "true"/"1" or "false"/"0", else ERR_INVALID. */
enum err_code api_query_bool(struct api_ctx *c, const char *name, bool def, bool *out,
			     struct err *e) __attribute__((warn_unused_result));

/* The numeric path parameter i (routes with numeric ids check its digits). */
int64_t api_param_nid(struct api_ctx *c, int i);

/* Starts a raw PUT of new bytes for the resource in params[0] (a UUID): mode as in
 * store_put; respond (NULL: the /v1 Resource) answers with the row after. */
void api_raw_put_begin(struct api_ctx *c, enum store_put_mode mode,
		       void (*respond)(struct api_ctx *c, const struct meta_resource *r));

#endif
