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

/* Route flags. Path {id}s are UUIDs (the /v1 ids) unless a flag says they are numeric. */
enum route_flag {
	NUMERIC_ID = 1,  /* a resource's numeric id (the dialects) */
	FOLDER_ID = 2,   /* a folder's numeric id */
	/* Tines' other credential header, X-User-Token: accepted when Authorization is absent,
	 * and verified as the same depot JWT (never anything weaker). */
	USER_TOKEN = 4,
};

struct route {
	unsigned methods; /* enum http_method bits */
	const char *pattern;
	void (*handler)(struct api_ctx *c); /* with the body buffered, if any */
	void (*begin)(struct api_ctx *c);   /* or: streams the body itself */
	enum route_auth auth;
	unsigned flags;  /* enum route_flag bits */
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
	{GETS, "/healthz", health, NULL, NO_AUTH, 0},
	{GETS, "/openapi.json", openapi, NULL, NO_AUTH, 0},
	{HTTP_POST, "/v1/resources", NULL, api_resource_create_begin, NEED_WRITE, 0},
	{HTTP_POST, "/v1/resources/import", NULL, api_resource_import_begin, NEED_WRITE, 0},
	{GETS, "/v1/resources", api_resource_list, NULL, NEED_READ, 0},
	{GETS, "/v1/resources/{id}", api_resource_get, NULL, NEED_READ, 0},
	{EDITS, "/v1/resources/{id}", api_resource_update, NULL, NEED_WRITE, 0},
	{HTTP_DELETE, "/v1/resources/{id}", api_resource_delete, NULL, NEED_WRITE, 0},
	{GETS, "/v1/resources/{id}/content", api_resource_content, NULL, NEED_READ, 0},
	{HTTP_PUT, "/v1/resources/{id}/content", NULL, api_resource_put_content_begin, NEED_WRITE,
	 0},
	{GETS, "/v1/resources/{id}/url", api_resource_url, NULL, NEED_READ, 0},
	{HTTP_POST, "/v1/resources/{id}/refresh", api_resource_refresh, NULL, NEED_WRITE, 0},
	/* The seed's singular path, kept as an alias. */
	{GETS, "/v1/resource/{id}", api_resource_get, NULL, NEED_READ, 0},
	{EDITS, "/v1/resource/{id}", api_resource_update, NULL, NEED_WRITE, 0},
	{HTTP_DELETE, "/v1/resource/{id}", api_resource_delete, NULL, NEED_WRITE, 0},
	{GETS, "/v1/resources/{id}/value", api_resource_value, NULL, NEED_READ, 0},
	{HTTP_POST, "/v1/folders", api_folder_create, NULL, NEED_WRITE, 0},
	{GETS, "/v1/folders", api_folder_list, NULL, NEED_READ, 0},
	{GETS, "/v1/folders/{id}", api_folder_get, NULL, NEED_READ, FOLDER_ID},
	/* Signed URLs: no JWT, the signature grants this one access. */
	{HTTP_PUT, "/v1/uploads/{id}", NULL, api_upload_put_begin, SIGNED_PUT, 0},
	{GETS, "/v1/signed/{id}/content", api_resource_content, NULL, SIGNED_GET, 0},
	/* The empirical.run dialect (seed 003): numeric ids, {"data": {"resource": ...}}. */
	{HTTP_POST, "/api/resources", api_empirical_create, NULL, NEED_WRITE, 0},
	{GETS, "/api/resources/{id}", api_empirical_get, NULL, NEED_READ, NUMERIC_ID},
	{HTTP_PATCH, "/api/resources/{id}", api_empirical_update, NULL, NEED_WRITE, NUMERIC_ID},
	{HTTP_PUT, "/api/resources/{id}/upload", NULL, api_empirical_upload_begin, SIGNED_PUT,
	 NUMERIC_ID},
	/* The Tines dialect (seed 004). */
	{GETS, "/api/v1/global_resources", api_tines_list, NULL, NEED_READ, USER_TOKEN},
	{HTTP_POST, "/api/v1/global_resources", api_tines_create, NULL, NEED_WRITE, USER_TOKEN},
	{GETS, "/api/v1/global_resources/{id}", api_tines_get, NULL, NEED_READ,
	 NUMERIC_ID | USER_TOKEN},
	{HTTP_PUT, "/api/v1/global_resources/{id}", api_tines_update, NULL, NEED_WRITE,
	 NUMERIC_ID | USER_TOKEN},
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

/* A numeric id: 1 to 18 digits, no leading zero (so it fits an int64 and has one spelling). */
static bool is_numeric_id(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 18 || s[0] == '0')
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* Path {id}s are UUIDs (stored lowercase) or numeric ids, as the route says; anything else
 * names nothing. */
static bool normalise_id(struct http_req *req, unsigned flags)
{
	for (int i = 0; i < HTTP_MAX_PARAMS && req->params[i]; i++) {
		if (flags & (NUMERIC_ID | FOLDER_ID)) {
			if (!is_numeric_id(req->params[i]))
				return false;
			continue;
		}
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
		const char *authz = http_req_header(req, "Authorization");
		const char *alt = r->flags & USER_TOKEN ? http_req_header(req, "X-User-Token")
							: NULL;
		int64_t now = (int64_t)time(NULL);
		enum err_code rc;
		if (authz == NULL && alt != NULL)
			rc = auth_verify_token(c->api->auth, alt, now, &st->who, e);
		else
			rc = auth_verify_bearer(c->api->auth, authz, now, &st->who, e);
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
	*allowed = 0;
	for (size_t i = 0; i < NROUTES; i++) {
		const char *p[HTTP_MAX_PARAMS] = {0};
		if (!http_route_match(routes[i].pattern, path, pool, p))
			continue;
		if (routes[i].methods & method) {
			memcpy(params, p, sizeof(p));
			return &routes[i];
		}
		*allowed |= routes[i].methods;
	}
	return NULL;
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
	if (!normalise_id(req, hit->flags)) {
		api_error(&c, ERR_NOT_FOUND,
			  hit->flags & FOLDER_ID ? "folder not found" : "resource not found");
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
