/* Resources whose bytes come from a uri: a create's uri (an external object or any http(s)
 * uri), and POST /v1/resources/{id}/refresh, which reads an external source again and copies
 * its bytes only when its version changed. The readers live in fetch/. */
#include "api/api.h"
#include "json/jsonget.h"

#include <string.h>

enum err_code api_uri_read(struct api_ctx *c, const char *uri, struct blob_writer **w,
			   struct create_fields *f, struct err *e)
{
	struct api *a = c->api;
	struct pool *pool = c->req->pool;
	struct external_ref ref = {.kind = EXTERNAL_NONE};
	enum err_code rc = ERR_OK;
	if (a->external != NULL)
		rc = external_ref_parse(a->external, uri, a->fetch.max_uri_bytes, pool, &ref, e);
	if (rc == ERR_OK && ref.kind == EXTERNAL_NONE)
		rc = fetch_uri_check(uri, a->fetch.max_uri_bytes, e);
	if (rc == ERR_OK)
		rc = store_writer_new(a->store, w, e);
	if (rc != ERR_OK)
		return rc;
	if (ref.kind == EXTERNAL_NONE) {
		/* A signed URL's signature is a secret: the row and every answer go without it. */
		f->original_uri = fetch_uri_public(uri, pool);
		return fetch_uri(&a->fetch, uri, *w, pool, &f->mime_type, e);
	}
	struct external_object obj;
	rc = external_fetch(a->external, &a->fetch, &ref, NULL, *w, pool, &obj, e);
	f->original_uri = ref.public_uri;
	f->external_storage_type = ref.storage_type;
	f->external_id = obj.external_id;
	f->mime_type = obj.mime_type;
	return rc;
}

/* The optional body of a refresh: {"uri": "..."}, the source again with fresh credentials (an
 * Azure SAS, which depot does not keep). */
static enum err_code refresh_body(struct api_ctx *c, const char **uri, struct err *e)
{
	*uri = NULL;
	if (c->req->body == NULL || c->req->body_len == 0)
		return ERR_OK;
	json_t *body = NULL;
	size_t len;
	bool present;
	enum err_code rc = jsonget_object(c->req->body, c->req->body_len, &body, e);
	if (rc == ERR_OK)
		rc = jsonget_string(body, "uri", false, true, uri, &len, &present, e);
	if (rc == ERR_OK && present && strlen(*uri) != len)
		rc = err_set(e, ERR_INVALID, "uri must not contain NUL characters");
	if (rc == ERR_OK && present)
		*uri = pool_strdup(c->req->pool, *uri);
	else
		*uri = NULL;
	json_decref(body);
	return rc;
}

/* Where r's bytes came from, read with uri's credentials when given (it must name the same
 * source). */
static enum err_code refresh_source(struct api_ctx *c, const struct meta_resource *r,
				    const char *uri, struct external_ref *ref, struct err *e)
{
	struct api *a = c->api;
	if (r->external_storage_type == NULL && r->original_uri != NULL)
		return err_set(e, ERR_CONFLICT, "this resource was fetched from an http(s) uri, "
						"which is not refreshed (a signature in it was not "
						"kept): create it again from the uri");
	if (r->external_storage_type == NULL || r->original_uri == NULL || a->external == NULL)
		return err_set(e, ERR_CONFLICT, "this resource was not created from external "
						"storage (s3://, gs:// or an Azure Blob uri)");
	enum err_code rc = external_ref_parse(a->external, uri ? uri : r->original_uri,
					      a->fetch.max_uri_bytes, c->req->pool, ref, e);
	if (rc != ERR_OK)
		return rc;
	if (uri != NULL && (ref->kind == EXTERNAL_NONE ||
			    strcmp(ref->public_uri, r->original_uri) != 0))
		return err_set(e, ERR_INVALID, "uri must name this resource's source, %s",
			       r->original_uri);
	if (ref->kind == EXTERNAL_NONE || strcmp(ref->storage_type, r->external_storage_type) != 0)
		return err_set(e, ERR_CONFLICT, "%s is not a configured external source any more",
			       r->original_uri);
	return ERR_OK;
}

/* POST /v1/resources/{id}/refresh: the source's bytes when its version (external_id) changed,
 * nothing otherwise; "source_changed" says which. If-Match guards the write. */
void api_resource_refresh(struct api_ctx *c)
{
	struct err e = {0};
	struct api *a = c->api;
	struct meta_resource cur, out;
	struct meta_cond cond;
	struct external_ref ref;
	struct external_object obj = {0};
	struct blob_writer *w = NULL;
	const char *uri;
	api_if_match(http_req_header(c->req, "If-Match"), c->req->pool, &cond);
	enum err_code rc = refresh_body(c, &uri, &e);
	if (rc == ERR_OK)
		rc = store_resource_get_own(a->store, c->who->account_id, c->req->params[0],
					    c->req->pool, &cur, &e);
	if (rc == ERR_OK)
		rc = refresh_source(c, &cur, uri, &ref, &e);
	if (rc == ERR_OK)
		rc = store_writer_new(a->store, &w, &e);
	if (rc == ERR_OK)
		rc = external_fetch(a->external, &a->fetch, &ref, cur.external_id, w, c->req->pool,
				    &obj, &e);
	if (rc == ERR_OK && !obj.unchanged) {
		struct store_put put = {.mode = STORE_PUT_LIVE, .mime_type = obj.mime_type,
					.cond = &cond, .external_id = obj.external_id};
		rc = store_resource_put_content(a->store, c->who->account_id, cur.id, w, &put,
						c->req->pool, &out, &e);
	}
	blob_writer_free(w);
	if (rc != ERR_OK) {
		api_error(c, rc, e.msg);
		return;
	}
	if (obj.unchanged)
		api_resource_respond(c, 200, &cur, ",\"source_changed\":false");
	else
		api_resource_respond(c, 200, &out, ",\"source_changed\":true");
}
