/* REST semantics of depot: the route table, the handlers and their JSON. No MHD, no SQL, no
 * file paths here: requests arrive as struct http_req, storage goes through store.h. */
#ifndef DEPOT_API_H
#define DEPOT_API_H

#include <jansson.h>
#include <stddef.h>

#include "api/validate.h"
#include "auth/auth.h"
#include "fetch/fetch.h"
#include "http/http.h"
#include "store/store.h"

struct api {
	struct auth *auth;
	struct store *store;
	struct limits limits;
	struct fetch_opts fetch;
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

/* Answers with {"error": msg} and the status of code. For 5xx codes the message is logged
 * and the client gets a generic one. */
void api_error(struct api_ctx *c, enum err_code code, const char *msg);

/* Answers status with the JSON text of v (which is consumed). */
void api_json(struct api_ctx *c, int status, json_t *v);

/* The HTTP status of an error code. */
int api_status_of(enum err_code code);

/* The OpenAPI document, embedded at build time. */
extern const char openapi_json[];

/* Handlers, one per route (resources.c). */
void api_resource_create(struct api_ctx *c);
void api_resource_list(struct api_ctx *c);
void api_resource_get(struct api_ctx *c);
void api_resource_update(struct api_ctx *c);
void api_resource_delete(struct api_ctx *c);
void api_resource_content(struct api_ctx *c);

/* The Resource JSON of r (resource_json.c). */
json_t *api_resource_json(const struct meta_resource *r);

#endif
