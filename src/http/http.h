/* The HTTP layer as the rest of depot sees it: a parsed request in, a response out. Nothing
 * here names libmicrohttpd; server.c is the only file that includes it. */
#ifndef DEPOT_HTTP_H
#define DEPOT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/pool.h"

enum http_method {
	HTTP_GET = 1,
	HTTP_HEAD = 2,
	HTTP_POST = 4,
	HTTP_PUT = 8,
	HTTP_PATCH = 16,
	HTTP_DELETE = 32,
	HTTP_OTHER = 64,
};

#define HTTP_MAX_PARAMS 4
#define HTTP_MAX_HEADERS 8

struct http_req {
	enum http_method method;
	const char *method_name;         /* as sent, for logs */
	const char *path;                /* percent-decoded, without the query */
	const char *body;                /* NUL-terminated copy of the body, or NULL */
	size_t body_len;
	struct pool *pool;               /* the request's arena */
	const char *params[HTTP_MAX_PARAMS]; /* path parameters, set by http_route_match */
	const char *log_account;         /* set by the handler for the access log */
	void *impl;                      /* server.c's connection */
};

/* Where a response's body comes from. */
enum http_body_kind { HTTP_BODY_MEM, HTTP_BODY_FD };

struct http_resp {
	int status;
	const char *content_type;        /* NULL for none */
	enum http_body_kind kind;
	const char *body;                /* HTTP_BODY_MEM: bytes valid until the request ends */
	size_t body_len;
	int fd;                          /* HTTP_BODY_FD: owned by the response, closed by http */
	uint64_t fd_offset, fd_len;
	struct {
		const char *name, *value;    /* valid until the request ends */
	} headers[HTTP_MAX_HEADERS];
	int nheaders;
};

/* One request handler: fills resp from req. It runs on a worker thread and may block. */
typedef void (*http_handler_fn)(void *app, struct http_req *req, struct http_resp *resp);

/* Header value by case-insensitive name, or NULL. */
const char *http_req_header(const struct http_req *req, const char *name);

/* Decoded query argument by name, or NULL. */
const char *http_req_query(const struct http_req *req, const char *name);

/* Adds a response header; name and value must live until the request ends. */
void http_resp_header(struct http_resp *resp, const char *name, const char *value);

/* Matches path against a pattern such as "/v1/resources/{id}/content", storing each {x}
 * segment in params (pool copies). Returns true on a match. */
bool http_route_match(const char *pattern, const char *path, struct pool *pool,
		      const char *params[HTTP_MAX_PARAMS]);

struct http_server_opts {
	const char *listen;        /* "HOST:PORT" or "[V6]:PORT" */
	int threads;
	int idle_timeout_s;
	uint64_t max_body_bytes;   /* larger bodies are answered 413 */
};

struct http_server;

/* Starts listening and serving on worker threads; every request goes to handler(app, ...). */
enum err_code http_server_start(const struct http_server_opts *opts, http_handler_fn handler,
				void *app, struct http_server **out, struct err *e)
	__attribute__((warn_unused_result));

/* The port actually bound (useful with port 0). */
int http_server_port(const struct http_server *srv);

/* Stops accepting, waits up to grace_ms for in-flight requests, then stops and frees. */
void http_server_stop(struct http_server *srv, int grace_ms);

#endif
