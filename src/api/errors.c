/* The one table from error code to HTTP status, and the error body. */
#include "api/api.h"
#include "core/log.h"

#include <stdlib.h>
#include <string.h>

static const int status_of[] = {
	[ERR_OK] = 200,
	[ERR_INVALID] = 400,
	[ERR_UNAUTHENTICATED] = 401,
	[ERR_FORBIDDEN] = 403,
	[ERR_NOT_FOUND] = 404,
	[ERR_CONFLICT] = 409,
	[ERR_PRECONDITION] = 412,
	[ERR_TOO_LARGE] = 413,
	[ERR_UPSTREAM] = 502,
	[ERR_UNAVAILABLE] = 503,
	[ERR_TIMEOUT] = 504,
	[ERR_NO_SPACE] = 507,
	[ERR_INTERNAL] = 500,
};

int api_status_of(enum err_code code)
{
	if ((unsigned)code < sizeof(status_of) / sizeof(status_of[0]) && status_of[code] != 0)
		return status_of[code];
	return 500;
}

void api_json(struct api_ctx *c, int status, json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT);
	json_decref(v);
	if (text == NULL) {
		c->resp->status = 500;
		c->resp->content_type = "application/json";
		c->resp->body = "{\"error\": \"internal error\"}";
		c->resp->body_len = strlen(c->resp->body);
		return;
	}
	size_t len = strlen(text);
	c->resp->status = status;
	c->resp->content_type = "application/json";
	c->resp->kind = HTTP_BODY_MEM;
	c->resp->body = pool_strndup(c->req->pool, text, len);
	c->resp->body_len = len;
	free(text);
}

void api_body_respond(struct api_ctx *c, int status, char *body, size_t len)
{
	c->resp->status = status;
	c->resp->content_type = "application/json";
	c->resp->kind = HTTP_BODY_MEM;
	c->resp->body = body;
	c->resp->body_len = len;
	c->resp->body_owned = true;
}

void api_buf_respond(struct api_ctx *c, int status, struct buf *b)
{
	size_t len;
	char *body = buf_take(b, &len);
	api_body_respond(c, status, body, len);
}

void api_error(struct api_ctx *c, enum err_code code, const char *msg)
{
	int status = api_status_of(code);
	const char *shown = msg;
	if (status == 500) {
		log_error("%s %s: %s", c->req->method_name, c->req->path, msg);
		shown = "internal error";
	} else if (status >= 502) {
		log_warn("%s %s: %s", c->req->method_name, c->req->path, msg);
		if (code == ERR_UNAVAILABLE)
			shown = "service temporarily unavailable, try again";
		else if (code == ERR_NO_SPACE)
			shown = msg; /* says what is full, nothing secret */
	}
	api_json(c, status, json_pack("{s:s}", "error", shown));
}
