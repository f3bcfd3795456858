/* The /v1/resources handlers: validate the input, call the store, answer with the Resource. */
#include "api/api.h"
#include "api/dataurl.h"
#include "api/listquery.h"
#include "core/text.h"
#include "core/timefmt.h"
#include "json/jsonget.h"

#include <stdio.h>
#include <string.h>

/* Fields of a create or update body, validated. */
struct fields {
	bool has_name, has_path, has_tags, has_metadata;
	const char *name;
	const char *path;             /* normalised */
	const char **tags;
	size_t ntags;
	const char *metadata_json;    /* NULL for null */
};

static enum err_code read_fields(struct api_ctx *c, json_t *body, bool create, struct fields *f,
				 struct err *e)
{
	const struct limits *l = &c->api->limits;
	struct pool *pool = c->req->pool;
	const char *s;
	size_t len;
	enum err_code rc;
	memset(f, 0, sizeof(*f));
	if ((rc = jsonget_string(body, "name", create, false, &s, &len, &f->has_name, e)) != ERR_OK)
		return rc;
	if (f->has_name) {
		if ((rc = validate_name(s, len, l, e)) != ERR_OK)
			return rc;
		f->name = s;
	}
	if ((rc = jsonget_string(body, "directory_path", create, false, &s, &len, &f->has_path, e)) !=
	    ERR_OK)
		return rc;
	if (f->has_path && (rc = validate_directory_path(s, len, l, pool, &f->path, e)) != ERR_OK)
		return rc;
	const char **raw;
	size_t nraw;
	if ((rc = jsonget_string_array(body, "tags", pool, &raw, &nraw, &f->has_tags, e)) != ERR_OK)
		return rc;
	if ((rc = validate_tags(raw, nraw, l, "tags", pool, &f->tags, &f->ntags, e)) != ERR_OK)
		return rc;
	return jsonget_object_text(body, "metadata", l->max_metadata_bytes, pool,
				   &f->metadata_json, &f->has_metadata, e);
}

static enum err_code sink_to_writer(void *ctx, const void *buf, size_t len, struct err *e)
{
	return blob_writer_write(ctx, buf, len, e);
}

/* Decodes a data URL into w; *mime receives its media type. */
static enum err_code stage_content(struct api_ctx *c, const char *content, size_t len,
				   struct blob_writer *w, const char **mime, struct err *e)
{
	const char *payload;
	size_t plen;
	uint64_t size;
	enum err_code rc = dataurl_parse(content, len, c->req->pool, mime, &payload, &plen, e);
	if (rc != ERR_OK || (rc = base64_decoded_size(payload, plen, &size, e)) != ERR_OK)
		return rc;
	if (size > c->api->limits.max_upload_bytes)
		return err_set(e, ERR_TOO_LARGE, "content is %llu bytes; the limit is %llu",
			       (unsigned long long)size,
			       (unsigned long long)c->api->limits.max_upload_bytes);
	return base64_decode_to(payload, plen, sink_to_writer, w, e);
}

void api_resource_create(struct api_ctx *c)
{
	struct err e = {0};
	json_t *body = NULL;
	struct blob_writer *w = NULL;
	struct fields f;
	const char *content = NULL, *uri = NULL;
	size_t content_len = 0, uri_len = 0;
	bool has_content, has_uri;
	enum err_code rc = jsonget_object(c->req->body, c->req->body_len, &body, &e);
	if (rc != ERR_OK)
		goto fail;
	if ((rc = read_fields(c, body, true, &f, &e)) != ERR_OK ||
	    (rc = jsonget_string(body, "content", false, true, &content, &content_len, &has_content,
				 &e)) != ERR_OK ||
	    (rc = jsonget_string(body, "uri", false, true, &uri, &uri_len, &has_uri, &e)) != ERR_OK)
		goto fail;
	if (has_content == has_uri) {
		rc = err_set(&e, ERR_INVALID, "give exactly one of content and uri");
		goto fail;
	}
	if (has_uri && (rc = fetch_uri_check(uri, c->api->fetch.max_uri_bytes, &e)) != ERR_OK)
		goto fail;
	if ((rc = store_writer_new(c->api->store, &w, &e)) != ERR_OK)
		goto fail;

	struct meta_resource r = {0};
	if (has_content)
		rc = stage_content(c, content, content_len, w, &r.mime_type, &e);
	else
		rc = fetch_uri(&c->api->fetch, uri, w, c->req->pool, &r.mime_type, &e);
	if (rc != ERR_OK)
		goto fail;
	r.account_id = c->who->account_id;
	r.name = f.name;
	r.directory_path = f.path;
	r.tags = f.tags;
	r.ntags = f.ntags;
	r.metadata_json = f.metadata_json;
	r.original_uri = has_uri ? pool_strdup(c->req->pool, uri) : NULL;
	r.created_by = c->who->sub[0] ? c->who->sub : NULL;
	r.created_at_us = r.updated_at_us = time_now_us();
	if ((rc = store_resource_create(c->api->store, &r, w, c->req->pool, &e)) != ERR_OK)
		goto fail;
	blob_writer_free(w);
	api_json(c, 200, api_resource_json(&r)); /* before the body goes: r borrows from it */
	json_decref(body);
	return;
fail:
	blob_writer_free(w);
	json_decref(body);
	api_error(c, rc, e.msg);
}

static const char *query_get(void *ctx, const char *name)
{
	return http_req_query(ctx, name);
}

void api_resource_list(struct api_ctx *c)
{
	struct err e = {0};
	struct meta_query q = {0};
	int64_t page, page_size;
	enum err_code rc = listquery_parse(query_get, c->req, &c->api->limits, c->req->pool, &q,
					   &page, &page_size, &e);
	if (rc != ERR_OK) {
		api_error(c, rc, e.msg);
		return;
	}
	q.account_id = c->who->account_id;
	struct meta_page result;
	rc = meta_resource_list(store_meta(c->api->store), &q, c->req->pool, &result, &e);
	if (rc != ERR_OK) {
		api_error(c, rc, e.msg);
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < result.nitems; i++)
		json_array_append_new(items, api_resource_json(&result.items[i]));
	api_json(c, 200,
		 json_pack("{s:o, s:I, s:I, s:I}", "items", items, "total",
			   (json_int_t)result.total, "page", (json_int_t)page, "page_size",
			   (json_int_t)page_size));
}

void api_resource_get(struct api_ctx *c)
{
	struct err e = {0};
	struct meta_resource r;
	enum err_code rc = meta_resource_get(store_meta(c->api->store), c->who->account_id,
					     c->req->params[0], c->req->pool, &r, &e);
	if (rc != ERR_OK) {
		api_error(c, rc, e.msg);
		return;
	}
	api_json(c, 200, api_resource_json(&r));
}

void api_resource_update(struct api_ctx *c)
{
	struct err e = {0};
	json_t *body = NULL;
	struct fields f;
	struct meta_resource r;
	enum err_code rc = jsonget_object(c->req->body, c->req->body_len, &body, &e);
	if (rc == ERR_OK && (rc = read_fields(c, body, false, &f, &e)) == ERR_OK) {
		struct meta_update u = {
			.set_name = f.has_name,
			.name = f.name,
			.set_directory_path = f.has_path,
			.directory_path = f.path,
			.set_metadata = f.has_metadata,
			.metadata_json = f.metadata_json,
			.set_tags = f.has_tags,
			.tags = f.tags,
			.ntags = f.ntags,
			.updated_at_us = time_now_us(),
		};
		rc = meta_resource_update(store_meta(c->api->store), c->who->account_id,
					  c->req->params[0], &u, c->req->pool, &r, &e);
	}
	json_decref(body);
	if (rc != ERR_OK) {
		api_error(c, rc, e.msg);
		return;
	}
	api_json(c, 200, api_resource_json(&r));
}

void api_resource_delete(struct api_ctx *c)
{
	struct err e = {0};
	enum err_code rc = store_resource_delete(c->api->store, c->who->account_id,
						 c->req->params[0], c->req->pool, &e);
	if (rc != ERR_OK) {
		api_error(c, rc, e.msg);
		return;
	}
	c->resp->status = 204;
	c->resp->body = "";
	c->resp->body_len = 0;
}

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

void api_resource_content(struct api_ctx *c)
{
	struct err e = {0};
	struct meta_resource r;
	struct blob_read b;
	enum err_code rc = meta_resource_get(store_meta(c->api->store), c->who->account_id,
					     c->req->params[0], c->req->pool, &r, &e);
	if (rc == ERR_OK)
		rc = store_content_open(c->api->store, &r, &b, &e);
	if (rc != ERR_OK) {
		api_error(c, rc, e.msg);
		return;
	}
	struct pool *pool = c->req->pool;
	c->resp->status = 200;
	c->resp->content_type = r.mime_type;
	c->resp->kind = HTTP_BODY_FD;
	c->resp->fd = b.fd;
	c->resp->fd_offset = 0;
	c->resp->fd_len = b.size;
	http_resp_header(c->resp, "ETag", pool_printf(pool, "\"%s\"", r.sha256));
	http_resp_header(c->resp, "Content-Disposition", content_disposition(r.name, pool));
	http_resp_header(c->resp, "X-Content-Type-Options", "nosniff");
}
