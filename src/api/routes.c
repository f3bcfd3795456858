/* The route table: methods, pattern, handler and the access it needs. Authentication (JWT or a
 * signed URL) and the scope check happen here, before any handler runs, so no handler can
 * forget them. Routes that take a body either stream it (begin) or get it buffered (handler). */
#include "api/api.h"
#include "auth/signurl.h"
#include "core/text.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum route_auth {
	NO_AUTH,
	NEED_READ,   /* JWT with resources:read */
	NEED_WRITE,  /* JWT with resources:write */
	SIGNED_GET,  /* a signed URL for GET (HEAD too) */
	SIGNED_PUT,  /* a signed URL for PUT */
};

struct route {
	unsigned methods; /* enum http_method bits */
	const char *pattern;
	void (*handler)(struct api_ctx *c); /* with the body buffered, if any */
	void (*begin)(struct api_ctx *c);   /* or: streams the body itself */
	enum route_auth auth;
};

/* Kept in the request's pool from HTTP_PHASE_HEADERS to the end. */
struct api_state {
	struct api *api;
	const struct route *route;
	struct auth_principal who;
	bool authed;
};

static void health(struct api_ctx *c)
{
	api_json(c, 200, json_pack("{s:s}", "status", "ok"));
}

static void openapi(struct api_ctx *c)
{
	c->resp->status = 200;
	c->resp->content_type = "application/json";
	c->resp->body = openapi_json;
	c->resp->body_len = strlen(openapi_json);
}

#define GETS (HTTP_GET | HTTP_HEAD)
#define EDITS (HTTP_PUT | HTTP_PATCH)

static const struct route routes[] = {
	{GETS, "/healthz", health, NULL, NO_AUTH},
	{GETS, "/openapi.json", openapi, NULL, NO_AUTH},
	{HTTP_POST, "/v1/resources", NULL, api_resource_create_begin, NEED_WRITE},
	{HTTP_POST, "/v1/resources/import", NULL, api_resource_import_begin, NEED_WRITE},
	{GETS, "/v1/resources", api_resource_list, NULL, NEED_READ},
	{GETS, "/v1/resources/{id}", api_resource_get, NULL, NEED_READ},
	{EDITS, "/v1/resources/{id}", api_resource_update, NULL, NEED_WRITE},
	{HTTP_DELETE, "/v1/resources/{id}", api_resource_delete, NULL, NEED_WRITE},
	{GETS, "/v1/resources/{id}/content", api_resource_content, NULL, NEED_READ},
	{HTTP_PUT, "/v1/resources/{id}/content", NULL, api_resource_put_content_begin, NEED_WRITE},
	{GETS, "/v1/resources/{id}/url", api_resource_url, NULL, NEED_READ},
	/* The seed's singular path, kept as an alias. */
	{GETS, "/v1/resource/{id}", api_resource_get, NULL, NEED_READ},
	{EDITS, "/v1/resource/{id}", api_resource_update, NULL, NEED_WRITE},
	{HTTP_DELETE, "/v1/resource/{id}", api_resource_delete, NULL, NEED_WRITE},
	/* Signed URLs: no JWT, the signature grants this one access. */
	{HTTP_PUT, "/v1/uploads/{id}", NULL, api_upload_put_begin, SIGNED_PUT},
	{GETS, "/v1/signed/{id}/content", api_resource_content, NULL, SIGNED_GET},
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static const char *allow_header(unsigned methods, struct pool *pool)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {{HTTP_GET, "GET"},     {HTTP_HEAD, "HEAD"},   {HTTP_POST, "POST"},
		     {HTTP_PUT, "PUT"},     {HTTP_PATCH, "PATCH"}, {HTTP_DELETE, "DELETE"}};
	char buf[64];
	size_t n = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (methods & names[i].bit)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? ", " : "",
					      names[i].name);
	buf[n] = '\0';
	return pool_strdup(pool, buf);
}

/* Path {id}s are UUIDs; anything else names no resource. Stored lowercase. */
static bool normalise_id(struct http_req *req)
{
	for (int i = 0; i < HTTP_MAX_PARAMS && req->params[i]; i++) {
		if (!text_is_uuid(req->params[i]))
			return false;
		char *p = (char *)req->params[i];
		for (; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	return true;
}

void api_ctx_of(struct http_req *req, struct http_resp *resp, struct api_ctx *out)
{
	struct api_state *st = req->app_state;
	out->api = st->api;
	out->req = req;
	out->resp = resp;
	out->who = st->authed ? &st->who : NULL;
}

static enum err_code authenticate(struct api_ctx *c, struct api_state *st, struct err *e)
{
	const struct route *r = st->route;
	struct http_req *req = c->req;
	if (r->auth == NO_AUTH)
		return ERR_OK;
	if (r->auth == SIGNED_GET || r->auth == SIGNED_PUT) {
		int64_t expires;
		const char *acct = http_req_query(req, "acct");
		enum err_code rc = signurl_verify(
			c->api->url_key, c->api->url_key_len, r->auth == SIGNED_GET ? "GET" : "PUT",
			req->path, acct, http_req_query(req, "expires"), http_req_query(req, "sig"),
			(int64_t)time(NULL), &expires, e);
		if (rc != ERR_OK)
			return rc;
		if (!*acct || strlen(acct) > AUTH_ID_MAX)
			return err_set(e, ERR_FORBIDDEN, "signed URL account is invalid");
		memset(&st->who, 0, sizeof(st->who));
		memcpy(st->who.account_id, acct, strlen(acct));
		st->who.scopes = r->auth == SIGNED_GET ? AUTH_SCOPE_READ : AUTH_SCOPE_WRITE;
	} else {
		enum err_code rc = auth_verify_bearer(c->api->auth,
						      http_req_header(req, "Authorization"),
						      (int64_t)time(NULL), &st->who, e);
		if (rc != ERR_OK) {
			http_resp_header(c->resp, "WWW-Authenticate",
					 "Bearer realm=\"depot\", error=\"invalid_token\"");
			return rc;
		}
		req->log_account = pool_strdup(req->pool, st->who.account_id);
		unsigned need = r->auth == NEED_READ ? AUTH_SCOPE_READ : AUTH_SCOPE_WRITE;
		if ((st->who.scopes & need) == 0)
			return err_set(e, ERR_FORBIDDEN, "token lacks the scope %s",
				       need == AUTH_SCOPE_READ ? "resources:read"
							       : "resources:write");
	}
	req->log_account = pool_strdup(req->pool, st->who.account_id);
	st->authed = true;
	c->who = &st->who;
	return ERR_OK;
}

const struct route *api_route_find(enum http_method method, const char *path,
				   struct pool *pool, const char *params[HTTP_MAX_PARAMS],
				   unsigned *allowed)
{
	const struct route *hit = NULL;
	*allowed = 0;
	for (size_t i = 0; i < NROUTES; i++) {
		const char *p[HTTP_MAX_PARAMS] = {0};
		if (!http_route_match(routes[i].pattern, path, pool, p))
			continue;
		*allowed |= routes[i].methods;
		if (hit == NULL && (routes[i].methods & method)) {
			hit = &routes[i];
			memcpy(params, p, sizeof(p));
		}
	}
	return hit;
}

const char *api_route_pattern(const struct route *r)
{
	return r->pattern;
}

static void route_headers(struct api *api, struct http_req *req, struct http_resp *resp)
{
	struct api_ctx c = {.api = api, .req = req, .resp = resp};
	unsigned allowed;
	const struct route *hit = api_route_find(req->method, req->path, req->pool, req->params,
						 &allowed);
	if (hit == NULL) {
		if (allowed) {
			http_resp_header(resp, "Allow", allow_header(allowed, req->pool));
			api_json(&c, 405, json_pack("{s:s}", "error", "method not allowed"));
			return;
		}
		api_error(&c, ERR_NOT_FOUND, "no such route");
		return;
	}
	struct api_state *st = pool_alloc(req->pool, sizeof(*st));
	st->api = api;
	st->route = hit;
	req->app_state = st;
	struct err e = {0};
	enum err_code rc = authenticate(&c, st, &e);
	if (rc != ERR_OK) {
		api_error(&c, rc, e.msg);
		return;
	}
	if (!normalise_id(req)) {
		api_error(&c, ERR_NOT_FOUND, "resource not found");
		return;
	}
	if (hit->begin != NULL) {
		hit->begin(&c);
		return;
	}
	/* Without a body the handler can answer now; with one, http buffers it first. */
	if (!(req->method & (HTTP_POST | HTTP_PUT | HTTP_PATCH)))
		hit->handler(&c);
}

void api_handle(void *app, struct http_req *req, struct http_resp *resp)
{
	if (req->phase == HTTP_PHASE_HEADERS) {
		route_headers(app, req, resp);
		return;
	}
	struct api_ctx c;
	api_ctx_of(req, resp, &c);
	struct api_state *st = req->app_state;
	st->route->handler(&c);
}
