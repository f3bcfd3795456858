/* Streaming uploads: JSON creates (the base64 content decoded and hashed as it arrives),
 * multipart creates, the raw PUT of new content, and the signed one-time upload of a pending
 * resource. Memory stays bounded: bytes go to a blob writer as they come. */
#include "api/api.h"
#include "api/dataurl.h"
#include "api/jsonscan.h"
#include "core/text.h"
#include "core/xalloc.h"
#include "json/jsonget.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum upload_kind { UP_JSON, UP_FORM, UP_RAW };

struct upload {
	enum upload_kind kind;
	struct http_req *req;
	struct api *api;
	enum err_code rc; /* the first failure, answered at the end */
	struct err e;
	struct blob_writer *w;
	uint64_t body_bytes; /* of the request body so far */
	/* JSON */
	struct jsonscan scan;
	struct dataurl_stream du;
	/* form */
	struct http_form *form;
	struct form_parts fp;
	/* raw */
	const char *id;
	struct meta_cond cond;
	enum store_put_mode mode;
	const char *mime;
	void (*respond)(struct api_ctx *c, const struct meta_resource *r); /* NULL: /v1 */
};

static void upload_free(struct upload *u)
{
	blob_writer_free(u->w);
	u->w = NULL;
	jsonscan_cleanup(&u->scan);
	dataurl_stream_cleanup(&u->du);
	if (u->form != NULL)
		http_form_free(u->form);
	u->form = NULL;
	api_form_parts_cleanup(&u->fp);
}

static bool fail(struct upload *u, enum err_code rc)
{
	if (u->rc == ERR_OK)
		u->rc = rc;
	return false;
}

/* Appends file bytes to the blob writer, made on first use, within the upload limit. */
static enum err_code write_bytes(struct upload *u, const void *data, size_t len, struct err *e)
{
	if (u->w == NULL) {
		enum err_code rc = store_writer_new(u->api->store, &u->w, e);
		if (rc != ERR_OK)
			return rc;
	}
	if (blob_writer_size(u->w) + len > u->api->limits.max_upload_bytes)
		return err_set(e, ERR_TOO_LARGE, "content is larger than %llu bytes",
			       (unsigned long long)u->api->limits.max_upload_bytes);
	return blob_writer_write(u->w, data, len, e);
}

static enum err_code du_sink(void *ctx, const void *data, size_t len, struct err *e)
{
	return write_bytes(ctx, data, len, e);
}

static enum err_code scan_sink(void *ctx, const char *data, size_t len, struct err *e)
{
	struct upload *u = ctx;
	return dataurl_stream_feed(&u->du, data, len, u->req->pool, e);
}

static bool on_form_piece(void *ctx, const char *field, const char *filename,
			  const char *content_type, const char *data, uint64_t off, size_t len)
{
	struct upload *u = ctx;
	enum err_code rc;
	if (field == NULL)
		return true;
	if (strcmp(field, "file") != 0) {
		rc = api_form_text_piece(&u->fp, field, data, off, len, u->api->max_json_bytes,
					 &u->e);
		return rc == ERR_OK ? true : fail(u, rc);
	}
	if (off == 0) {
		rc = api_form_file_begin(&u->fp, filename, content_type, u->req->pool, &u->e);
		if (rc == ERR_OK && u->w == NULL)
			rc = store_writer_new(u->api->store, &u->w, &u->e);
		if (rc != ERR_OK)
			return fail(u, rc);
	}
	rc = write_bytes(u, data, len, &u->e);
	return rc == ERR_OK ? true : fail(u, rc);
}

/* ---- the fields of a multipart create (pure) ---- */

void api_form_parts_cleanup(struct form_parts *fp)
{
	for (size_t i = 0; i < fp->nparts; i++) {
		free(fp->parts[i].field);
		free(fp->parts[i].data);
	}
	fp->nparts = 0;
}

enum err_code api_form_file_begin(struct form_parts *fp, const char *filename,
				  const char *content_type, struct pool *pool, struct err *e)
{
	if (fp->file_seen)
		return err_set(e, ERR_INVALID, "give one file part only");
	fp->file_seen = true;
	fp->filename = filename ? pool_strdup(pool, filename) : NULL;
	fp->file_type = text_is_media_type(content_type) ? pool_strdup(pool, content_type) : NULL;
	return ERR_OK;
}

enum err_code api_form_text_piece(struct form_parts *fp, const char *field, const char *data,
				  uint64_t off, size_t len, size_t max_bytes, struct err *e)
{
	if (off == 0 || fp->nparts == 0) {
		if (fp->nparts == API_FORM_MAX_PARTS)
			return err_set(e, ERR_INVALID, "more than %d form parts", API_FORM_MAX_PARTS);
		fp->parts[fp->nparts++].field = xstrdup(field);
	}
	struct form_part *p = &fp->parts[fp->nparts - 1];
	fp->text_bytes += len;
	if (fp->text_bytes > max_bytes)
		return err_set(e, ERR_TOO_LARGE, "form fields besides file exceed %zu bytes",
			       max_bytes);
	if (p->len + len + 1 > p->cap) {
		p->cap = (p->len + len + 1) * 2;
		p->data = xrealloc(p->data, p->cap);
	}
	memcpy(p->data + p->len, data, len);
	p->len += len;
	p->data[p->len] = '\0';
	return ERR_OK;
}

static bool on_body(struct http_req *req, const char *data, size_t len)
{
	struct upload *u = req->stream;
	if (u->rc != ERR_OK)
		return false;
	enum err_code rc = ERR_OK;
	u->body_bytes += len;
	if (u->kind != UP_RAW && u->body_bytes > u->api->max_body_bytes) {
		err_set(&u->e, ERR_TOO_LARGE, "request body is larger than %llu bytes",
			(unsigned long long)u->api->max_body_bytes);
		return fail(u, ERR_TOO_LARGE);
	}
	switch (u->kind) {
	case UP_JSON:
		rc = jsonscan_feed(&u->scan, data, len, &u->e);
		break;
	case UP_FORM:
		if (!http_form_feed(u->form, data, len) && u->rc == ERR_OK)
			rc = err_set(&u->e, ERR_INVALID, "malformed multipart/form-data body");
		rc = u->rc != ERR_OK ? u->rc : rc;
		break;
	case UP_RAW:
		rc = write_bytes(u, data, len, &u->e);
		break;
	}
	return rc == ERR_OK ? true : fail(u, rc);
}

/* ---- the end of a JSON create ---- */

enum err_code api_create_json_fields(json_t *body, bool content_streamed,
				    const struct limits *l, struct pool *pool,
				    struct create_fields *f, struct create_source *src,
				    struct err *e)
{
	const char *s, *upload;
	size_t len, ulen;
	bool present, has_upload;
	enum err_code rc;
	memset(f, 0, sizeof(*f));
	memset(src, 0, sizeof(*src));
	if ((rc = jsonget_string(body, "name", true, false, &s, &len, &present, e)) != ERR_OK ||
	    (rc = validate_name(s, len, l, e)) != ERR_OK)
		return rc;
	f->name = s;
	if ((rc = jsonget_string(body, "directory_path", true, false, &s, &len, &present, e)) !=
		    ERR_OK ||
	    (rc = validate_directory_path(s, len, l, pool, &f->directory_path, e)) != ERR_OK)
		return rc;
	const char **raw;
	size_t nraw;
	if ((rc = jsonget_string_array(body, "tags", pool, &raw, &nraw, &present, e)) != ERR_OK ||
	    (rc = validate_tags(raw, nraw, l, "tags", pool, &f->tags, &f->ntags, e)) != ERR_OK)
		return rc;
	if ((rc = jsonget_object_text(body, "metadata", l->max_metadata_bytes, pool,
				      &f->metadata_json, &present, e)) != ERR_OK ||
	    (rc = api_create_common(body, l, pool, f, e)) != ERR_OK)
		return rc;
	if ((rc = jsonget_string(body, "content", false, true, &src->content, &src->content_len,
				 &src->has_content, e)) != ERR_OK ||
	    (rc = jsonget_string(body, "uri", false, true, &src->uri, &ulen, &src->has_uri, e)) !=
		    ERR_OK ||
	    (rc = jsonget_string(body, "value", false, true, &src->value, &src->value_len,
				 &src->has_value, e)) != ERR_OK ||
	    (rc = jsonget_string(body, "upload", false, true, &upload, &len, &has_upload, e)) !=
		    ERR_OK)
		return rc;
	if (content_streamed) {
		/* The text left for jansson holds "" where the streamed value was. */
		src->has_content = true;
		src->content = NULL;
		src->content_len = 0;
	}
	if (has_upload) {
		if (strcmp(upload, "pending") != 0)
			return err_set(e, ERR_INVALID, "upload must be \"pending\"");
		if (src->has_content || src->has_uri || src->has_value)
			return err_set(e, ERR_INVALID,
				       "upload: \"pending\" takes neither content, uri nor value");
		/* Only a pending create declares its type; the others take it from the bytes. */
		if ((rc = jsonget_string(body, "mime_type", false, true, &s, &len, &present, e)) !=
		    ERR_OK)
			return rc;
		if (present) {
			if (strlen(s) != len || !text_is_media_type(s))
				return err_set(e, ERR_INVALID,
					       "mime_type must be a media type like text/plain");
			f->mime_type = s;
		}
		f->pending = true;
		return ERR_OK;
	}
	if (src->has_content + src->has_uri + src->has_value != 1)
		return err_set(e, ERR_INVALID, "give exactly one of content, uri and value (or "
					       "\"upload\": \"pending\")");
	return ERR_OK;
}

static void finish_json(struct api_ctx *c, struct upload *u)
{
	struct err *e = &u->e;
	json_t *body = NULL;
	struct create_fields f;
	struct create_source src;
	enum err_code rc = jsonscan_finish(&u->scan, e);
	if (rc == ERR_OK)
		rc = jsonget_object(u->scan.rest, u->scan.rest_len, &body, e);
	if (rc == ERR_OK)
		rc = api_create_json_fields(body, u->scan.captured, &c->api->limits, c->req->pool,
					    &f, &src, e);
	if (rc == ERR_OK && src.has_content) {
		/* content under an escaped key was not streamed: decode its copy in the (bounded)
		 * rest. */
		if (src.content != NULL)
			rc = dataurl_stream_feed(&u->du, src.content, src.content_len, c->req->pool,
						 e);
		if (rc == ERR_OK)
			rc = dataurl_stream_finish(&u->du, c->req->pool, e);
		f.mime_type = u->du.mime;
		if (rc == ERR_OK && u->w == NULL)
			rc = store_writer_new(c->api->store, &u->w, e);
	} else if (rc == ERR_OK && src.has_uri) {
		rc = api_uri_read(c, src.uri, &u->w, &f, e);
	} else if (rc == ERR_OK && src.has_value) {
		/* A text value: its bytes as given, typed by whether they parse as JSON. */
		f.mime_type = api_value_mime(src.value, src.value_len);
		rc = write_bytes(u, src.value, src.value_len, e);
		if (rc == ERR_OK && u->w == NULL)
			rc = store_writer_new(c->api->store, &u->w, e);
	}
	if (rc == ERR_OK)
		api_create_finish(c, &f, u->w);
	else
		api_error(c, rc, e->msg);
	json_decref(body);
}

/* ---- the end of a multipart create ---- */

/* The text of the first part named field, or NULL. A NUL in any part of that name would cut
 * it short: refused. */
static enum err_code part_text(const struct form_parts *fp, const char *field, const char **out,
			       struct err *e)
{
	*out = NULL;
	for (size_t i = 0; i < fp->nparts; i++) {
		const struct form_part *p = &fp->parts[i];
		if (strcmp(p->field, field) != 0)
			continue;
		if (*out == NULL)
			*out = p->data ? p->data : "";
		if (p->data != NULL && strlen(p->data) != p->len)
			return err_set(e, ERR_INVALID, "%s must not contain NUL characters", field);
	}
	return ERR_OK;
}

/* description, read_access and shared_team_slugs (comma-separated) as text parts, read by the
 * JSON create's rules. */
static enum err_code form_capabilities(const struct form_parts *fp, const struct limits *l,
				       struct pool *pool, struct create_fields *f, struct err *e)
{
	static const char *const names[] = {"description", "read_access", "shared_team_slugs"};
	json_t *body = json_object();
	enum err_code rc = ERR_OK;
	for (size_t i = 0; rc == ERR_OK && i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v;
		if ((rc = part_text(fp, names[i], &v, e)) != ERR_OK || v == NULL)
			continue;
		if (!text_utf8_valid(v, strlen(v))) {
			rc = err_set(e, ERR_INVALID, "%s must be valid UTF-8", names[i]);
			continue;
		}
		if (i < 2) {
			json_object_set_new(body, names[i], json_string(v));
			continue;
		}
		json_t *arr = json_array();
		while (*v) {
			size_t n = strcspn(v, ",");
			json_array_append_new(arr, json_stringn(v, n));
			v += n + (v[n] == ',');
		}
		json_object_set_new(body, names[i], arr);
	}
	if (rc == ERR_OK)
		rc = api_create_common(body, l, pool, f, e);
	/* The fields point into body: keep copies in the pool. */
	if (rc == ERR_OK && f->description != NULL)
		f->description = pool_strdup(pool, f->description);
	if (rc == ERR_OK && f->read_access != NULL)
		f->read_access = pool_strdup(pool, f->read_access);
	for (size_t i = 0; rc == ERR_OK && i < f->nshared; i++)
		f->shared_with[i] = pool_strdup(pool, f->shared_with[i]);
	json_decref(body);
	return rc;
}

enum err_code api_form_fields(const struct form_parts *fp, const struct limits *l,
			      struct pool *pool, struct create_fields *f, struct err *e)
{
	enum err_code rc;
	memset(f, 0, sizeof(*f));
	if (!fp->file_seen)
		return err_set(e, ERR_INVALID, "multipart create needs a file part");
	const char *name, *dir, *tags_text, *meta;
	if ((rc = part_text(fp, "name", &name, e)) != ERR_OK ||
	    (rc = part_text(fp, "directory_path", &dir, e)) != ERR_OK ||
	    (rc = part_text(fp, "tags", &tags_text, e)) != ERR_OK ||
	    (rc = part_text(fp, "metadata", &meta, e)) != ERR_OK)
		return rc;
	if (name == NULL || !*name)
		name = fp->filename;
	if (name == NULL)
		return err_set(e, ERR_INVALID, "name is required (or a filename on the file part)");
	if ((rc = validate_name(name, strlen(name), l, e)) != ERR_OK)
		return rc;
	f->name = name;
	if (dir == NULL)
		return err_set(e, ERR_INVALID, "directory_path is required");
	if ((rc = validate_directory_path(dir, strlen(dir), l, pool, &f->directory_path, e)) !=
	    ERR_OK)
		return rc;
	/* tags: every tags part, each comma-separated */
	size_t ntags = 0, cap = 8;
	const char **tags = pool_alloc(pool, cap * sizeof(*tags));
	for (size_t i = 0; i < fp->nparts; i++) {
		if (strcmp(fp->parts[i].field, "tags") != 0 || fp->parts[i].data == NULL)
			continue;
		const char *p = fp->parts[i].data;
		while (*p) {
			size_t n = strcspn(p, ",");
			if (ntags == cap) {
				const char **more = pool_alloc(pool, 2 * cap * sizeof(*more));
				memcpy(more, tags, cap * sizeof(*tags));
				tags = more;
				cap *= 2;
			}
			tags[ntags++] = pool_strndup(pool, p, n);
			p += n + (p[n] == ',');
		}
	}
	if ((rc = validate_tags(tags, ntags, l, "tags", pool, &f->tags, &f->ntags, e)) != ERR_OK)
		return rc;
	if (meta != NULL && *meta) {
		json_t *wrap = json_object();
		json_error_t je;
		json_t *m = json_loads(meta, JSON_REJECT_DUPLICATES, &je);
		json_object_set_new(wrap, "metadata", m ? m : json_null());
		if (m == NULL || !json_is_object(m))
			rc = err_set(e, ERR_INVALID, "metadata must be a JSON object");
		else {
			bool present;
			rc = jsonget_object_text(wrap, "metadata", l->max_metadata_bytes, pool,
						 &f->metadata_json, &present, e);
		}
		json_decref(wrap);
		if (rc != ERR_OK)
			return rc;
	}
	f->mime_type = fp->file_type;
	return form_capabilities(fp, l, pool, f, e);
}

static void finish_form(struct api_ctx *c, struct upload *u)
{
	struct create_fields f;
	bool well_formed = http_form_free(u->form);
	u->form = NULL;
	enum err_code rc = ERR_OK;
	if (!well_formed)
		rc = err_set(&u->e, ERR_INVALID, "malformed multipart/form-data body");
	if (rc == ERR_OK)
		rc = api_form_fields(&u->fp, &c->api->limits, c->req->pool, &f, &u->e);
	if (rc == ERR_OK)
		api_create_finish(c, &f, u->w);
	else
		api_error(c, rc, u->e.msg);
}

/* ---- the end of a raw PUT ---- */

static void finish_raw(struct api_ctx *c, struct upload *u)
{
	struct meta_resource r;
	enum err_code rc = ERR_OK;
	struct store_put put = {.mode = u->mode, .mime_type = u->mime, .cond = &u->cond};
	if (u->w == NULL)
		rc = store_writer_new(c->api->store, &u->w, &u->e);
	if (rc == ERR_OK)
		rc = store_resource_put_content(c->api->store, c->who->account_id, u->id, u->w,
						&put, c->req->pool, &r, &u->e);
	if (rc != ERR_OK) {
		api_error(c, rc, u->e.msg);
		return;
	}
	if (u->respond != NULL)
		u->respond(c, &r);
	else
		api_resource_respond(c, 200, &r, NULL);
}

static void on_end(struct http_req *req, struct http_resp *resp)
{
	struct upload *u = req->stream;
	if (resp != NULL) {
		struct api_ctx c;
		api_ctx_of(req, resp, &c);
		if (u->rc != ERR_OK)
			api_error(&c, u->rc, u->e.msg);
		else if (u->kind == UP_JSON)
			finish_json(&c, u);
		else if (u->kind == UP_FORM)
			finish_form(&c, u);
		else
			finish_raw(&c, u);
	}
	upload_free(u);
	req->stream = NULL;
}

static struct upload *upload_new(struct api_ctx *c, enum upload_kind kind)
{
	struct upload *u = pool_alloc(c->req->pool, sizeof(*u));
	u->kind = kind;
	u->req = c->req;
	u->api = c->api;
	c->req->stream = u;
	c->req->on_body = on_body;
	c->req->on_end = on_end;
	return u;
}

static bool too_long(struct api_ctx *c, uint64_t limit)
{
	if (!(c->req->method & HTTP_PUT) && limit > c->api->max_body_bytes)
		limit = c->api->max_body_bytes;
	int64_t cl = http_req_content_length(c->req);
	if (cl >= 0 && (uint64_t)cl > limit) {
		api_error(c, ERR_TOO_LARGE, "request body is larger than the limit");
		return true;
	}
	return false;
}

void api_resource_create_begin(struct api_ctx *c)
{
	uint64_t upload = c->api->limits.max_upload_bytes;
	const char *ct = http_req_header(c->req, "Content-Type");
	if (ct != NULL && strncasecmp(ct, "multipart/form-data", 19) == 0) {
		if (too_long(c, upload + c->api->max_json_bytes + 64 * 1024))
			return;
		struct upload *u = upload_new(c, UP_FORM);
		u->form = http_form_new(c->req, on_form_piece, u);
		if (u->form == NULL) {
			c->req->on_body = NULL;
			c->req->on_end = NULL;
			api_error(c, ERR_INVALID, "multipart/form-data needs a boundary");
		}
		return;
	}
	/* Anything else is read as JSON (curl -d sends no JSON content type). */
	if (too_long(c, upload / 3 * 4 + 8 + c->api->max_json_bytes + DATAURL_HEADER_MAX))
		return;
	struct upload *u = upload_new(c, UP_JSON);
	jsonscan_init(&u->scan, "content", c->api->max_json_bytes, scan_sink, u);
	dataurl_stream_init(&u->du, upload, du_sink, u);
}

void api_raw_put_begin(struct api_ctx *c, enum store_put_mode mode,
		       void (*respond)(struct api_ctx *c, const struct meta_resource *r))
{
	struct err e = {0};
	struct meta_resource r;
	bool pending_only = mode == STORE_PUT_PENDING_UPLOAD;
	if (too_long(c, c->api->limits.max_upload_bytes))
		return;
	/* Refuse before the body is read (and before a 100 Continue): unknown id, wrong state. */
	enum err_code rc = store_resource_get_own(c->api->store, c->who->account_id,
						  c->req->params[0], c->req->pool, &r, &e);
	if (rc == ERR_OK && pending_only &&
	    (strcmp(r.status, META_STATUS_PENDING) != 0 || META_HAS_BYTES(&r)))
		rc = err_set(&e, ERR_CONFLICT, "the bytes of this resource were already uploaded");
	if (rc == ERR_OK && mode == STORE_PUT_TEST && !r.test_enabled)
		rc = err_set(&e, ERR_CONFLICT, "test_resource_enabled is false: enable the test "
					       "value before writing it");
	if (rc != ERR_OK) {
		api_error(c, rc, e.msg);
		return;
	}
	struct upload *u = upload_new(c, UP_RAW);
	u->id = c->req->params[0];
	u->mode = mode;
	u->respond = respond;
	if (!pending_only)
		api_if_match(http_req_header(c->req, "If-Match"), c->req->pool, &u->cond);
	/* A raw body's Content-Type is its MIME type; none, or the form type that `curl
	 * --data-binary` sends by default, leaves it to the declared type or to sniffing. */
	const char *ct = http_req_header(c->req, "Content-Type");
	bool usable = text_is_media_type(ct) &&
		      strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0;
	u->mime = usable ? pool_strdup(c->req->pool, ct) : (pending_only ? r.mime_type : NULL);
}

/* PUT /v1/resources/{id}/content[?is_test=true] */
void api_resource_put_content_begin(struct api_ctx *c)
{
	struct err e = {0};
	bool test;
	if (api_query_bool(c, "is_test", false, &test, &e) != ERR_OK) {
		api_error(c, ERR_INVALID, e.msg);
		return;
	}
	api_raw_put_begin(c, test ? STORE_PUT_TEST : STORE_PUT_LIVE, NULL);
}

void api_upload_put_begin(struct api_ctx *c)
{
	api_raw_put_begin(c, STORE_PUT_PENDING_UPLOAD, NULL);
}
