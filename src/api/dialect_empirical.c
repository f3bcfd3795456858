/* The empirical.run dialect (seed 003) under /api/resources: resources by numeric id, answered
 * as {"data": {"resource": {...}}} with exactly the seed's fields; project_id is the account's
 * numeric id. Create is the pending-upload flow: POST makes a pending resource and its upload
 * URL, PUT to that URL sends the bytes, PATCH {"status": "uploaded"} confirms. Every step is
 * the core's; this file only translates. */
#include "api/api.h"
#include "core/text.h"
#include "core/timefmt.h"
#include "json/jsonget.h"
#include "json/jsonw.h"

#include <string.h>

/* How long the download URL of GET /api/resources/{id} lives, as empirical.run's does. */
#define DOWNLOAD_URL_TTL_S 3600

static void write_resource(struct buf *b, const struct meta_resource *r, const char *extra)
{
	char created[TIMEFMT_LEN], updated[TIMEFMT_LEN];
	time_format_us(r->created_at_us, created);
	time_format_us(r->updated_at_us, updated);
	buf_printf(b, "{\"data\":{\"resource\":{\"id\":%lld,\"project_id\":%lld,\"name\":",
		   (long long)r->nid, (long long)r->account_nid);
	jsonw_str(b, r->name);
	buf_adds(b, ",\"description\":");
	jsonw_str(b, r->description);
	buf_adds(b, ",\"status\":");
	jsonw_str(b, r->status);
	buf_adds(b, ",\"mime_type\":");
	jsonw_str(b, r->mime_type);
	buf_printf(b, ",\"size_bytes\":%lld,\"created_by\":", (long long)r->size_bytes);
	jsonw_str(b, r->created_by);
	buf_printf(b, ",\"created_at\":\"%s\",\"updated_at\":\"%s\"", created, updated);
	if (extra != NULL)
		buf_adds(b, extra);
	buf_adds(b, "}}}");
}

static void respond(struct api_ctx *c, const struct meta_resource *r, const char *extra)
{
	struct err e = {0};
	struct buf b;
	struct meta_resource with_nids = *r;
	if (meta_resource_nids(store_meta(c->api->store), &with_nids, 1, &e) != ERR_OK) {
		api_error(c, e.code, e.msg);
		return;
	}
	buf_init(&b, 512);
	write_resource(&b, &with_nids, extra);
	api_buf_respond(c, 200, &b);
}

static void respond_plain(struct api_ctx *c, const struct meta_resource *r)
{
	respond(c, r, NULL);
}

/* ",\"key\":\"url\"" (pool), or ",\"key\":null". */
static const char *url_field(struct api_ctx *c, const char *key, const char *url)
{
	struct buf x;
	buf_init(&x, 256);
	buf_printf(&x, ",\"%s\":", key);
	jsonw_str(&x, url);
	const char *out = pool_strdup(c->req->pool, x.data);
	buf_free(&x);
	return out;
}

/* The resource of the path's numeric id, as the caller may see it; false when it answered
 * that there is none. */
static bool find(struct api_ctx *c, struct meta_resource *r)
{
	struct err e = {0};
	enum err_code rc = meta_resource_get_by_nid(store_meta(c->api->store), c->who->account_id,
						    api_param_nid(c, 0), c->req->pool, r, &e);
	if (rc != ERR_OK)
		api_error(c, rc, e.msg);
	return rc == ERR_OK;
}

static enum err_code read_create(struct api_ctx *c, json_t *body, struct create_fields *f,
				 struct err *e)
{
	const char *s;
	size_t len;
	bool present, is_null;
	int64_t size;
	enum err_code rc;
	memset(f, 0, sizeof(*f));
	if ((rc = api_read_name(body, &c->api->limits, &f->name, e)) != ERR_OK)
		return rc;
	f->directory_path = "/";
	f->pending = true;
	if ((rc = jsonget_string(body, "mime_type", false, true, &s, &len, &present, e)) != ERR_OK)
		return rc;
	if (present && (strlen(s) != len || !text_is_media_type(s)))
		return err_set(e, ERR_INVALID, "mime_type must be a media type like text/plain");
	f->mime_type = present ? s : NULL;
	/* The declared size is accepted and not kept: size_bytes is what the upload holds. */
	if ((rc = jsonget_int(body, "size_bytes", 0, INT64_MAX, true, &size, &is_null, &present,
			      e)) != ERR_OK)
		return rc;
	if ((rc = jsonget_string(body, "url", false, true, &s, &len, &present, e)) != ERR_OK)
		return rc;
	if (present)
		return err_set(e, ERR_INVALID, "url (a link-type resource) is not supported by "
					       "depot: create it without url and upload the bytes");
	return api_read_description(body, &c->api->limits, &f->description, e);
}

/* POST /api/resources {name, mime_type?, size_bytes?, description?} */
void api_empirical_create(struct api_ctx *c)
{
	struct err e = {0};
	json_t *body = NULL;
	struct create_fields f;
	struct meta_resource r;
	enum err_code rc = jsonget_object(c->req->body, c->req->body_len, &body, &e);
	if (rc == ERR_OK && (rc = read_create(c, body, &f, &e)) == ERR_OK)
		rc = api_create(c, &f, NULL, &r, &e);
	json_decref(body);
	if (rc != ERR_OK) {
		api_error(c, rc, e.msg);
		return;
	}
	const char *at;
	const char *path =
		pool_printf(c->req->pool, "/api/resources/%lld/upload", (long long)r.nid);
	respond(c, &r, url_field(c, "upload_url", api_upload_url(c, path, &at)));
}

/* GET /api/resources/{id}: the resource and a signed download URL (null while pending). */
void api_empirical_get(struct api_ctx *c)
{
	struct meta_resource r;
	if (!find(c, &r))
		return;
	const char *url = NULL;
	if (strcmp(r.status, META_STATUS_UPLOADED) == 0)
		url = api_signed_url(c, "GET",
				     pool_printf(c->req->pool, "/v1/signed/%s/content", r.id),
				     time_now_us() / 1000000 + DOWNLOAD_URL_TTL_S);
	respond(c, &r, url_field(c, "url", url));
}

/* PATCH /api/resources/{id} {name?, description?, status?} */
void api_empirical_update(struct api_ctx *c)
{
	struct err e = {0};
	json_t *body = NULL;
	struct meta_update u;
	struct meta_resource r;
	if (!find(c, &r))
		return;
	enum err_code rc = jsonget_object(c->req->body, c->req->body_len, &body, &e);
	if (rc == ERR_OK)
		rc = api_update_read(c, body, UPD_NAME | UPD_DESCRIPTION | UPD_STATUS, &u, &e);
	if (rc == ERR_OK)
		rc = api_resource_apply(c, pool_strdup(c->req->pool, r.id), &u, NULL, NULL, &r, &e);
	json_decref(body);
	if (rc != ERR_OK) {
		api_error(c, rc, e.msg);
		return;
	}
	respond(c, &r, NULL);
}

/* PUT <upload_url>: the bytes of a pending resource (a signed URL, no token). */
void api_empirical_upload_begin(struct api_ctx *c)
{
	struct meta_resource r;
	if (!find(c, &r))
		return;
	c->req->params[0] = pool_strdup(c->req->pool, r.id);
	api_raw_put_begin(c, STORE_PUT_PENDING_UPLOAD, respond_plain);
}
