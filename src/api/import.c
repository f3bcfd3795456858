/* POST /v1/resources/import: NDJSON create bodies, parsed line by line as they stream in, and
 * committed in batches. Memory is bounded by one line and one batch (its own pool, emptied
 * after every commit). */
#include "api/api.h"
#include "api/dataurl.h"
#include "core/timefmt.h"
#include "core/xalloc.h"
#include "json/jsonget.h"

#include <stdlib.h>
#include <string.h>

#define MAX_REPORTED_ERRORS 100
#define BATCH_MAX_BYTES (8u * 1024 * 1024) /* content held in memory per batch */

struct import {
	struct http_req *req;
	struct api *api;
	const struct auth_principal *who;
	char *line;            /* the line being received, malloc'd */
	size_t len, cap;
	bool overlong;         /* the current line passed the limit: skip to its end */
	uint64_t lineno;
	struct pool batch;     /* rows of the batch being built */
	struct store_import_row *rows;
	uint64_t *row_lines;
	size_t nrows, batch_bytes;
	uint64_t created, failed;
	json_t *errors;
};

/* Keeps the failures of the MAX_REPORTED_ERRORS lowest line numbers, in line order: a name
 * conflict is only known when its batch commits, after parse errors of later lines. */
static void line_error(struct import *im, uint64_t lineno, enum err_code code, const char *msg)
{
	im->failed++;
	size_t n = json_array_size(im->errors), at = n;
	while (at > 0 && json_integer_value(json_object_get(json_array_get(im->errors, at - 1),
							     "line")) > (json_int_t)lineno)
		at--;
	if (at >= MAX_REPORTED_ERRORS)
		return;
	json_array_insert_new(im->errors, at,
			      json_pack("{s:I, s:i, s:s}", "line", (json_int_t)lineno, "status",
					api_status_of(code), "error",
					api_status_of(code) >= 500 ? "internal error" : msg));
	if (json_array_size(im->errors) > MAX_REPORTED_ERRORS)
		json_array_remove(im->errors, MAX_REPORTED_ERRORS);
}

static void flush(struct import *im)
{
	if (im->nrows == 0)
		return;
	struct err e = {0};
	enum err_code rc = store_import_batch(im->api->store, im->rows, im->nrows, &im->batch, &e);
	for (size_t i = 0; i < im->nrows; i++) {
		struct store_import_row *row = &im->rows[i];
		if (rc == ERR_OK && row->result == ERR_OK) {
			im->created++;
		} else if (rc == ERR_OK) {
			char msg[600];
			snprintf(msg, sizeof(msg), "a resource named '%.255s' already exists in '%.255s'",
				 row->r.name, row->r.directory_path);
			line_error(im, im->row_lines[i], row->result, msg);
		} else {
			line_error(im, im->row_lines[i], rc, e.msg);
		}
	}
	pool_cleanup(&im->batch);
	im->nrows = 0;
	im->batch_bytes = 0;
	im->rows = NULL;
	im->row_lines = NULL;
}

static enum err_code sink_to_buf(void *ctx, const void *data, size_t len, struct err *e)
{
	struct store_import_row *row = ctx;
	(void)e;
	memcpy((unsigned char *)row->bytes + row->len, data, len);
	row->len += len;
	return ERR_OK;
}

enum err_code api_import_line_parse(const char *text, size_t len, const struct limits *l,
				    struct pool *pool, struct store_import_row *row, struct err *e)
{
	json_t *body = NULL;
	const char *s, *content;
	size_t n, clen;
	bool present;
	memset(row, 0, sizeof(*row));
	enum err_code rc = jsonget_object(text, len, &body, e);
	if (rc != ERR_OK)
		return rc;
	struct meta_resource *r = &row->r;
	if ((rc = jsonget_string(body, "name", true, false, &s, &n, &present, e)) != ERR_OK ||
	    (rc = validate_name(s, n, l, e)) != ERR_OK)
		goto out;
	r->name = pool_strndup(pool, s, n);
	if ((rc = jsonget_string(body, "directory_path", true, false, &s, &n, &present, e)) !=
		    ERR_OK ||
	    (rc = validate_directory_path(s, n, l, pool, &r->directory_path, e)) != ERR_OK)
		goto out;
	const char **raw, **tags;
	size_t nraw, ntags;
	if ((rc = jsonget_string_array(body, "tags", pool, &raw, &nraw, &present, e)) != ERR_OK ||
	    (rc = validate_tags(raw, nraw, l, "tags", pool, &tags, &ntags, e)) != ERR_OK)
		goto out;
	for (size_t i = 0; i < ntags; i++)
		tags[i] = pool_strdup(pool, tags[i]); /* they pointed into body */
	r->tags = tags;
	r->ntags = ntags;
	if ((rc = jsonget_object_text(body, "metadata", l->max_metadata_bytes, pool,
				      &r->metadata_json, &present, e)) != ERR_OK)
		goto out;
	json_t *uri = json_object_get(body, "uri"), *upload = json_object_get(body, "upload");
	if ((uri != NULL && !json_is_null(uri)) || (upload != NULL && !json_is_null(upload))) {
		rc = err_set(e, ERR_INVALID, "import takes content only (no uri, no upload)");
		goto out;
	}
	if ((rc = jsonget_string(body, "content", true, false, &content, &clen, &present, e)) !=
	    ERR_OK)
		goto out;
	/* The one base64 decoder, the streaming one, over the whole string. */
	struct dataurl_stream du;
	row->bytes = pool_alloc(pool, clen / 4 * 3 + 3);
	dataurl_stream_init(&du, l->max_upload_bytes, sink_to_buf, row);
	rc = dataurl_stream_feed(&du, content, clen, pool, e);
	if (rc == ERR_OK)
		rc = dataurl_stream_finish(&du, pool, e);
	r->mime_type = du.mime;
	dataurl_stream_cleanup(&du);
out:
	json_decref(body);
	return rc;
}

static void take_line(struct import *im, const char *text, size_t len)
{
	im->lineno++;
	size_t i = 0;
	while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r'))
		i++;
	if (i == len)
		return; /* blank */
	if (im->rows == NULL) {
		size_t cap = im->api->import_batch;
		im->rows = pool_alloc(&im->batch, cap * sizeof(*im->rows));
		im->row_lines = pool_alloc(&im->batch, cap * sizeof(*im->row_lines));
	}
	struct err e = {0};
	struct store_import_row *row = &im->rows[im->nrows];
	if (api_import_line_parse(text, len, &im->api->limits, &im->batch, row, &e) != ERR_OK) {
		line_error(im, im->lineno, e.code, e.msg);
		return;
	}
	row->r.account_id = im->who->account_id;
	row->r.created_by = im->who->sub[0] ? im->who->sub : NULL;
	row->r.created_at_us = row->r.updated_at_us = time_now_us();
	im->row_lines[im->nrows++] = im->lineno;
	im->batch_bytes += row->len;
	if (im->nrows == im->api->import_batch || im->batch_bytes >= BATCH_MAX_BYTES)
		flush(im);
}

static void append(struct import *im, const char *data, size_t n)
{
	if (im->overlong)
		return;
	if (im->len + n > im->api->max_json_bytes) {
		im->overlong = true;
		return;
	}
	if (im->len + n + 1 > im->cap) {
		im->cap = (im->len + n + 1) * 2;
		im->line = xrealloc(im->line, im->cap);
	}
	memcpy(im->line + im->len, data, n);
	im->len += n;
}

static void end_line(struct import *im)
{
	if (im->overlong) {
		im->lineno++;
		char msg[96];
		snprintf(msg, sizeof(msg), "line is longer than %zu bytes", im->api->max_json_bytes);
		line_error(im, im->lineno, ERR_TOO_LARGE, msg);
	} else {
		take_line(im, im->line ? im->line : "", im->len);
	}
	im->len = 0;
	im->overlong = false;
}

static bool on_body(struct http_req *req, const char *data, size_t len)
{
	struct import *im = req->stream;
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) : len;
		append(im, data, n);
		if (nl == NULL)
			break;
		end_line(im);
		data += n + 1;
		len -= n + 1;
	}
	return true;
}

static void on_end(struct http_req *req, struct http_resp *resp)
{
	struct import *im = req->stream;
	if (resp != NULL) {
		if (im->len > 0 || im->overlong)
			end_line(im);
		flush(im);
		struct api_ctx c;
		api_ctx_of(req, resp, &c);
		api_json(&c, 200,
			 json_pack("{s:I, s:I, s:O}", "created", (json_int_t)im->created, "failed",
				   (json_int_t)im->failed, "errors", im->errors));
	}
	json_decref(im->errors);
	free(im->line);
	pool_cleanup(&im->batch);
	req->stream = NULL;
}

void api_resource_import_begin(struct api_ctx *c)
{
	struct import *im = pool_alloc(c->req->pool, sizeof(*im));
	im->req = c->req;
	im->api = c->api;
	im->who = c->who;
	im->errors = json_array();
	pool_init(&im->batch);
	c->req->stream = im;
	c->req->on_body = on_body;
	c->req->on_end = on_end;
}
