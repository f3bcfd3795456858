/* The route table: method, pattern, handler and the scope it needs. Authentication and the
 * scope check happen here, before any handler runs, so no handler can forget them. */
#include "api/api.h"
#include "core/text.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum route_auth { NO_AUTH, NEED_READ, NEED_WRITE };

struct route {
	unsigned methods; /* enum http_method bits */
	const char *pattern;
	void (*handler)(struct api_ctx *c);
	enum route_auth auth;
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
	{GETS, "/healthz", health, NO_AUTH},
	{GETS, "/openapi.json", openapi, NO_AUTH},
	{HTTP_POST, "/v1/resources", api_resource_create, NEED_WRITE},
	{GETS, "/v1/resources", api_resource_list, NEED_READ},
	{GETS, "/v1/resources/{id}", api_resource_get, NEED_READ},
	{EDITS, "/v1/resources/{id}", api_resource_update, NEED_WRITE},
	{HTTP_DELETE, "/v1/resources/{id}", api_resource_delete, NEED_WRITE},
	{GETS, "/v1/resources/{id}/content", api_resource_content, NEED_READ},
	/* The seed's singular path, kept as an alias. */
	{GETS, "/v1/resource/{id}", api_resource_get, NEED_READ},
	{EDITS, "/v1/resource/{id}", api_resource_update, NEED_WRITE},
	{HTTP_DELETE, "/v1/resource/{id}", api_resource_delete, NEED_WRITE},
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

void api_handle(void *app, struct http_req *req, struct http_resp *resp)
{
	struct api_ctx c = {.api = app, .req = req, .resp = resp};
	const struct route *hit = NULL;
	unsigned allowed = 0;
	for (size_t i = 0; i < NROUTES && hit == NULL; i++) {
		const char *params[HTTP_MAX_PARAMS] = {0};
		if (!http_route_match(routes[i].pattern, req->path, req->pool, params))
			continue;
		allowed |= routes[i].methods;
		if (routes[i].methods & req->method) {
			hit = &routes[i];
			memcpy(req->params, params, sizeof(params));
		}
	}
	if (hit == NULL) {
		if (allowed) {
			/* Collect every method of every route sharing this path. */
			for (size_t i = 0; i < NROUTES; i++) {
				const char *params[HTTP_MAX_PARAMS] = {0};
				if (http_route_match(routes[i].pattern, req->path, req->pool, params))
					allowed |= routes[i].methods;
			}
			http_resp_header(resp, "Allow", allow_header(allowed, req->pool));
			api_json(&c, 405, json_pack("{s:s}", "error", "method not allowed"));
			return;
		}
		api_error(&c, ERR_NOT_FOUND, "no such route");
		return;
	}

	struct auth_principal who;
	if (hit->auth != NO_AUTH) {
		struct err e;
		if (auth_verify_bearer(c.api->auth, http_req_header(req, "Authorization"),
				       (int64_t)time(NULL), &who, &e) != ERR_OK) {
			http_resp_header(resp, "WWW-Authenticate",
					 "Bearer realm=\"depot\", error=\"invalid_token\"");
			api_error(&c, ERR_UNAUTHENTICATED, e.msg);
			return;
		}
		req->log_account = pool_strdup(req->pool, who.account_id);
		unsigned need = hit->auth == NEED_READ ? AUTH_SCOPE_READ : AUTH_SCOPE_WRITE;
		if ((who.scopes & need) == 0) {
			api_error(&c, ERR_FORBIDDEN,
				  need == AUTH_SCOPE_READ ? "token lacks the scope resources:read"
							  : "token lacks the scope resources:write");
			return;
		}
		c.who = &who;
	}
	if (!normalise_id(req)) {
		api_error(&c, ERR_NOT_FOUND, "resource not found");
		return;
	}
	hit->handler(&c);
}
