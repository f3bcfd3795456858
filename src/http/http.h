/* The HTTP layer as the rest of depot sees it: a parsed request in, a response out. Nothing
 * here names libmicrohttpd; server.c is the only file that includes it. */
#ifndef DEPOT_HTTP_H
#define DEPOT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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

/* When the handler is called. */
enum http_phase {
	HTTP_PHASE_HEADERS,  /* headers read, no body yet: answer now, stream, or let http buffer */
	HTTP_PHASE_COMPLETE, /* the buffered body (if any) is in req->body */
};

struct http_resp;

struct http_req {
	enum http_phase phase;
	enum http_method method;
	const char *method_name;         /* as sent, for logs */
	const char *path;                /* percent-decoded, without the query */
	const char *body;                /* NUL-terminated copy of the body, or NULL */
	size_t body_len;
	struct pool *pool;               /* the request's arena */
	const char *params[HTTP_MAX_PARAMS]; /* path parameters, set by http_route_match */
	const char *log_account;         /* set by the handler for the access log */
	void *app_state;                 /* the handler's, from HEADERS to COMPLETE (pool memory) */
	/* Set at HTTP_PHASE_HEADERS to take the body as it arrives instead of buffered:
	 * on_body gets each chunk and returns false to stop (its error answer comes from on_end);
	 * on_end is called exactly once: with resp to answer (body complete, or on_body said stop),
	 * or with resp == NULL when the client went away, to release what the stream holds. */
	bool (*on_body)(struct http_req *req, const char *data, size_t len);
	void (*on_end)(struct http_req *req, struct http_resp *resp);
	void *stream;                    /* the streaming handler's state */
	void *impl;                      /* server.c's connection */
};

/* Where a response's body comes from. */
enum http_body_kind { HTTP_BODY_MEM, HTTP_BODY_FD, HTTP_BODY_STREAM };

/* A body produced on demand (HTTP_BODY_STREAM), read on the connection's worker thread as the
 * client takes it. */
struct http_body_stream {
	/* Copies the next at most cap bytes into buf: how many, 0 at the end, -1 on a failure
	 * (the connection is then closed: the status line is already out). May block. */
	ssize_t (*read)(void *ctx, char *buf, size_t cap);
	void (*close)(void *ctx); /* called exactly once, whether the body was sent or not */
	void *ctx;
	uint64_t len;             /* bytes the body has (Content-Length) */
};

struct http_resp {
	int status;
	const char *content_type;        /* NULL for none */
	enum http_body_kind kind;
	const char *body;                /* HTTP_BODY_MEM: bytes valid until the request ends */
	size_t body_len;
	bool body_owned;                 /* body is malloc'd and http frees it */
	int fd;                          /* HTTP_BODY_FD: owned by the response, closed by http */
	uint64_t fd_offset, fd_len;
	struct http_body_stream stream;  /* HTTP_BODY_STREAM: owned by the response, closed by http */
	struct {
		const char *name, *value;    /* valid until the request ends */
	} headers[HTTP_MAX_HEADERS];
	int nheaders;
};

/* One request handler, called at HTTP_PHASE_HEADERS and, unless it answered or set on_body
 * then, again at HTTP_PHASE_COMPLETE. An answer is a resp with a non-zero status. It runs on a
 * worker thread and may block. */
typedef void (*http_handler_fn)(void *app, struct http_req *req, struct http_resp *resp);

/* Header value by case-insensitive name, or NULL. */
const char *http_req_header(const struct http_req *req, const char *name);

/* The request's Content-Length, or -1 when it has none (chunked or no body). */
int64_t http_req_content_length(const struct http_req *req);

/* Decoded query argument by name, or NULL. */
const char *http_req_query(const struct http_req *req, const char *name);

/* Every query argument in order, as "<len>:<name><len>:<value>" pairs (unambiguous whatever
 * the bytes), in pool: two requests with the same text have the same key. */
const char *http_req_query_key(const struct http_req *req, struct pool *pool);

/* Adds a response header; name and value must live until the request ends. */
void http_resp_header(struct http_resp *resp, const char *name, const char *value);

/* Matches path against a pattern such as "/v1/resources/{id}/content", storing each {x}
 * segment in params (pool copies). Returns true on a match. */
bool http_route_match(const char *pattern, const char *path, struct pool *pool,
		      const char *params[HTTP_MAX_PARAMS]);

enum http_range {
	HTTP_RANGE_NONE,           /* no usable Range: send everything */
	HTTP_RANGE_OK,             /* one satisfiable range in *start, *len */
	HTTP_RANGE_UNSATISFIABLE,  /* 416 */
};

/* Parses a Range header value against a body of size bytes. Several ranges, a malformed value
 * or another unit give HTTP_RANGE_NONE. Pure. */
enum http_range http_range_parse(const char *header, uint64_t size, uint64_t *start,
				 uint64_t *len);

/* True when an If-None-Match / If-Match style list holds "*" or etag (a quoted tag, compared
 * weakly: W/ prefixes are ignored). Pure. */
bool http_etag_list_match(const char *header, const char *etag);

/* A streaming multipart/form-data reader. fn gets each piece of each part in order (a part may
 * come in several pieces; off is the offset of data within its part) and returns false to
 * stop. */
typedef bool (*http_form_fn)(void *ctx, const char *field, const char *filename,
			     const char *content_type, const char *data, uint64_t off,
			     size_t len);

struct http_form;

/* NULL when the request is not multipart/form-data (or has no boundary). */
struct http_form *http_form_new(struct http_req *req, http_form_fn fn, void *ctx);

/* Feeds body bytes; false on a malformed body or when fn stopped. */
bool http_form_feed(struct http_form *f, const char *data, size_t len);

/* Frees f; returns true when the body was a complete, well-formed form. */
bool http_form_free(struct http_form *f);

struct http_server_opts {
	const char *listen;        /* "HOST:PORT" or "[V6]:PORT" */
	int threads;               /* event loops: they read requests and run GET and HEAD */
	int blocking_threads;      /* run every other request's handler (0: the loops do) */
	int idle_timeout_s;
	int request_timeout_s;     /* headers within this (from the connection's start or its
				    * previous response), else 408 and close; 0 = no deadline */
	uint64_t min_body_rate;    /* bytes/s a body must average beyond request_timeout_s */
	unsigned max_connections;  /* concurrent connections accepted */
	uint64_t max_body_bytes;   /* larger bodies are answered 413 */
	size_t connection_memory_bytes; /* libmicrohttpd's pool per connection (zeroed per request) */
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
