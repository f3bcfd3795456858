/* Downloads: the content route (JWT or signed URL) with ETag, If-None-Match, single ranges and
 * If-Range, streamed from the blob store; and the minting of signed download URLs. */
#include "api/api.h"
#include "core/text.h"
#include "core/timefmt.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded> (RFC 6266). */
static const char *content_disposition(const char *name, struct pool *pool)
{
	size_t len = strlen(name);
	char *ascii = pool_alloc(pool, len + 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];
		ascii[i] = (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\') ? '_' : (char)ch;
	}
	char *pct = pool_alloc(pool, 3 * len + 1);
	text_pct_encode(name, len, pct);
	return pool_printf(pool, "attachment; filename=\"%s\"; filename*=UTF-8''%s", ascii, pct);
}

/* A blob store's stream as the HTTP layer reads it. */
static ssize_t stream_read(void *ctx, char *buf, size_t cap)
{
	struct blob_stream *st = ctx;
	return st->read(st, buf, cap);
}

static void stream_close(void *ctx)
{
	struct blob_stream *st = ctx;
	st->close(st);
}

void api_resource_content(struct api_ctx *c)
{
	struct err e = {0};
	struct meta_resource r;
	struct pool *pool = c->req->pool;
	bool test;
	enum err_code rc = api_query_bool(c, "is_test", false, &test, &e);
	if (rc == ERR_OK)
		rc = meta_resource_get_visible(store_meta(c->api->store), c->who->account_id,
					       c->req->params[0], pool, &r, &e);
	if (rc == ERR_OK && strcmp(r.status, META_STATUS_PENDING) == 0)
		rc = err_set(&e, ERR_CONFLICT, "resource is pending: its upload is not confirmed");
	if (rc != ERR_OK) {
		api_error(c, rc, e.msg);
		return;
	}
	if (test) /* the test value when there is one, else the live content */
		r = store_test_view(&r);
	const char *etag = pool_printf(pool, "\"%s\"", r.sha256);
	char modified[TIMEFMT_HTTP_LEN];
	time_format_http(r.updated_at_us, modified);
	http_resp_header(c->resp, "ETag", etag);
	http_resp_header(c->resp, "Last-Modified", pool_strdup(pool, modified));
	http_resp_header(c->resp, "Accept-Ranges", "bytes");
	http_resp_header(c->resp, "Cache-Control", "private, no-cache");
	if (http_etag_list_match(http_req_header(c->req, "If-None-Match"), etag)) {
		c->resp->status = 304;
		c->resp->body = "";
		c->resp->body_len = 0;
		return;
	}
	/* The range is decided on the row's size, before the blob is opened: an object store is
	 * then asked for just those bytes. */
	uint64_t size = (uint64_t)r.size_bytes, start = 0, len = size;
	const char *range = http_req_header(c->req, "Range");
	const char *if_range = http_req_header(c->req, "If-Range");
	if (if_range != NULL && !http_etag_list_match(if_range, etag))
		range = NULL; /* the client's copy is stale: send it all */
	enum http_range kind = http_range_parse(range, size, &start, &len);
	if (kind == HTTP_RANGE_UNSATISFIABLE) {
		http_resp_header(c->resp, "Content-Range",
				 pool_printf(pool, "bytes */%llu", (unsigned long long)size));
		api_json(c, 416, json_pack("{s:s}", "error", "range not satisfiable"));
		return;
	}
	if (kind == HTTP_RANGE_NONE) {
		start = 0;
		len = size;
	}
	struct blob_read b;
	if ((rc = store_content_open(c->api->store, &r, kind == HTTP_RANGE_OK ? start : 0,
				     kind == HTTP_RANGE_OK ? len : 0, pool, &b, &e)) == ERR_OK &&
	    b.size != size) {
		blob_read_close(&b);
		rc = err_set(&e, ERR_INTERNAL, "blob of resource %s has %llu bytes, its row %llu",
			     r.id, (unsigned long long)b.size, (unsigned long long)size);
	}
	if (rc != ERR_OK) {
		api_error(c, rc, e.msg);
		return;
	}
	c->resp->status = kind == HTTP_RANGE_OK ? 206 : 200;
	if (kind == HTTP_RANGE_OK)
		http_resp_header(c->resp, "Content-Range",
				 pool_printf(pool, "bytes %llu-%llu/%llu", (unsigned long long)start,
					     (unsigned long long)(start + len - 1),
					     (unsigned long long)size));
	c->resp->content_type = r.mime_type;
	if (b.stream != NULL) {
		c->resp->kind = HTTP_BODY_STREAM;
		c->resp->stream = (struct http_body_stream){.read = stream_read,
							    .close = stream_close,
							    .ctx = b.stream,
							    .len = len};
	} else if (b.fd >= 0) {
		c->resp->kind = HTTP_BODY_FD;
		c->resp->fd = b.fd;
		c->resp->fd_offset = start;
		c->resp->fd_len = len;
	} else {
		c->resp->kind = HTTP_BODY_MEM;
		c->resp->body = (const char *)b.bytes + start;
		c->resp->body_len = len;
	}
	http_resp_header(c->resp, "Content-Disposition", content_disposition(r.name, pool));
	http_resp_header(c->resp, "X-Content-Type-Options", "nosniff");
}

void api_resource_url(struct api_ctx *c)
{
	struct err e = {0};
	struct meta_resource r;
	int64_t ttl = 3600;
	const char *v = http_req_query(c->req, "expires_in");
	if (v != NULL) {
		char *end;
		long long n = strtoll(v, &end, 10);
		if (end == v || *end != '\0' || n < 1 || n > c->api->max_url_ttl_s) {
			api_error(c, ERR_INVALID,
				  pool_printf(c->req->pool,
					      "expires_in must be an integer from 1 to %lld",
					      (long long)c->api->max_url_ttl_s));
			return;
		}
		ttl = n;
	}
	enum err_code rc = meta_resource_get_visible(store_meta(c->api->store), c->who->account_id,
						     c->req->params[0], c->req->pool, &r, &e);
	if (rc != ERR_OK) {
		api_error(c, rc, e.msg);
		return;
	}
	int64_t expires = time_now_us() / 1000000 + ttl;
	char at[TIMEFMT_LEN];
	time_format_us(expires * 1000000, at);
	const char *path = pool_printf(c->req->pool, "/v1/signed/%s/content", r.id);
	api_json(c, 200,
		 json_pack("{s:s, s:s}", "url", api_signed_url(c, "GET", path, expires),
			   "expires_at", at));
}
