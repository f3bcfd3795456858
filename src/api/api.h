/* REST semantics of depot: the route table, the handlers and their JSON. No MHD, no SQL, no
 * file paths here: requests arrive as struct http_req, storage goes through store.h. */
#ifndef DEPOT_API_H
#define DEPOT_API_H

#include <jansson.h>
#include <stddef.h>

#include "api/validate.h"
#include "core/buf.h"
#include "auth/auth.h"
#include "fetch/fetch.h"
#include "http/http.h"
#include "store/store.h"

struct api {
	struct auth *auth;
	struct store *store;
	struct limits limits;
	struct fetch_opts fetch;
	size_t max_json_bytes;          /* a JSON body besides its streamed content */
	uint64_t max_body_bytes;        /* any request body, streamed or not (not raw PUTs) */
	const unsigned char *url_key;   /* HMAC key of signed URLs */
	size_t url_key_len;
	const char *public_url;         /* "" for http://<Host> */
	size_t import_batch;            /* rows per import transaction */
	int64_t upload_url_ttl_s;
	int64_t max_url_ttl_s;
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

/* Handlers (resources.c, upload.c, download.c). */
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

/* Writes the Resource JSON of r to b; extra (or NULL) is inserted before the closing brace
 * (",\"k\":v" pairs). */
void api_resource_write(struct buf *b, const struct meta_resource *r, const char *extra);

/* Answers status with the Resource JSON of r. */
void api_resource_respond(struct api_ctx *c, int status, const struct meta_resource *r,
			  const char *extra);

/* Answers status with the JSON text in b (taken over). */
void api_buf_respond(struct api_ctx *c, int status, struct buf *b);

/* Creates a resource from a validated request once its bytes (if any) are staged in w: the
 * common end of every create path (resources.c). Consumes nothing; answers c. */
struct create_fields {
	const char *name;
	const char *directory_path;    /* normalised */
	const char **tags;
	size_t ntags;
	const char *metadata_json;
	const char *mime_type;         /* declared, or NULL */
	const char *original_uri;      /* for uri creates */
	bool pending;                  /* "upload": "pending" */
};
void api_create_finish(struct api_ctx *c, const struct create_fields *f, struct blob_writer *w);

/* ---- the pure parsers of request bodies (no I/O, no clock; tests/fuzz calls them) ---- */

/* Where the bytes of a JSON create come from. */
struct create_source {
	bool has_content, has_uri;
	const char *content;   /* content that was not streamed (an escaped key), or NULL */
	size_t content_len;
	const char *uri;
};

/* Reads and validates the fields of a JSON create body (the text jsonscan left, where a streamed
 * content is ""); content_streamed says jsonscan captured content. Strings borrow from body. */
enum err_code api_create_json_fields(json_t *body, bool content_streamed,
				    const struct limits *l, struct pool *pool,
				    struct create_fields *f, struct create_source *src,
				    struct err *e) __attribute__((warn_unused_result));

/* Reads and validates an update body (PUT/PATCH) into u; strings borrow from body. */
enum err_code api_update_parse(json_t *body, const struct limits *l, struct pool *pool,
			       struct meta_update *u, struct err *e)
	__attribute__((warn_unused_result));

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
 * params, pool copies), or NULL; *allowed gets the methods of every route whose pattern matches
 * the path (for 405 and Allow). */
struct route;
const struct route *api_route_find(enum http_method method, const char *path,
				   struct pool *pool, const char *params[HTTP_MAX_PARAMS],
				   unsigned *allowed);

/* The pattern of a route ("/v1/resources/{id}"). */
const char *api_route_pattern(const struct route *r);

#endif
