/* The /v1/resources handlers that take no streamed body: list, get, update, delete; and the
 * common end of every create path. */
#include "api/api.h"
#include "api/listquery.h"
#include "auth/signurl.h"
#include "core/text.h"
#include "core/timefmt.h"
#include "json/jsonget.h"
#include "json/jsonw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void api_if_match(const char *h, struct pool *pool, struct meta_cond *cond)
{
	memset(cond, 0, sizeof(*cond));
	if (h == NULL)
		return;
	while (*h == ' ')
		h++;
	size_t n = strlen(h);
	while (n > 0 && h[n - 1] == ' ')
		n--;
	if (n == 1 && h[0] == '*')
		return;
	const char *t = h;
	if (n >= 2 && t[0] == 'W' && t[1] == '/') {
		t += 2;
		n -= 2;
	}
	if (n >= 2 && t[0] == '"' && t[n - 1] == '"') {
		t++;
		n -= 2;
	}
	bool digits = n > 0 && n <= 18, hex = n == 64;
	for (size_t i = 0; i < n; i++) {
		digits = digits && t[i] >= '0' && t[i] <= '9';
		hex = hex && ((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f'));
	}
	if (hex) {
		cond->sha256 = pool_strndup(pool, t, 64);
	} else if (digits) {
		cond->version = strtoll(t, NULL, 10);
		if (cond->version == 0)
			cond->version = -1;
	} else {
		cond->version = -1; /* matches nothing */
	}
}

const char *api_base_url(struct api_ctx *c)
{
	if (c->api->public_url != NULL && *c->api->public_url) {
		const char *u = c->api->public_url;
		size_t n = strlen(u);
		while (n > 0 && u[n - 1] == '/')
			n--;
		return pool_strndup(c->req->pool, u, n);
	}
	const char *host = http_req_header(c->req, "Host");
	bool ok = host != NULL && *host && strlen(host) < 256;
	for (const char *p = host; ok && *p; p++)
		ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		     (*p >= '0' && *p <= '9') || strchr(".-:[]", *p) != NULL;
	return pool_printf(c->req->pool, "http://%s", ok ? host : "localhost");
}

const char *api_signed_url(struct api_ctx *c, const char *method, const char *path,
			   int64_t expires_s)
{
	char sig[SIGNURL_SIG_LEN + 1];
	const char *acct = c->who->account_id;
	signurl_sign(c->api->url_key, c->api->url_key_len, method, path, acct, expires_s, sig);
	size_t alen = strlen(acct);
	char *pct = pool_alloc(c->req->pool, 3 * alen + 1);
	text_pct_encode(acct, alen, pct);
	return pool_printf(c->req->pool, "%s%s?acct=%s&expires=%lld&sig=%s", api_base_url(c), path,
			   pct, (long long)expires_s, sig);
}

void api_create_finish(struct api_ctx *c, const struct create_fields *f, struct blob_writer *w)
{
	struct err e = {0};
	struct meta_resource r = {0};
	r.account_id = c->who->account_id;
	r.name = f->name;
	r.directory_path = f->directory_path;
	r.tags = f->tags;
	r.ntags = f->ntags;
	r.metadata_json = f->metadata_json;
	r.mime_type = f->mime_type;
	r.original_uri = f->original_uri;
	r.created_by = c->who->sub[0] ? c->who->sub : NULL;
	r.created_at_us = r.updated_at_us = time_now_us();
	enum err_code rc = store_resource_create(c->api->store, &r, f->pending ? NULL : w,
						 c->req->pool, &e);
	if (rc != ERR_OK) {
		api_error(c, rc, e.msg);
		return;
	}
	const char *extra = NULL;
	if (f->pending) {
		const char *path = pool_printf(c->req->pool, "/v1/uploads/%s", r.id);
		int64_t expires = time_now_us() / 1000000 + c->api->upload_url_ttl_s;
		char at[TIMEFMT_LEN];
		time_format_us(expires * 1000000, at);
		struct buf x;
		buf_init(&x, 512);
		buf_adds(&x, ",\"upload_url\":");
		jsonw_str(&x, api_signed_url(c, "PUT", path, expires));
		buf_adds(&x, ",\"upload_url_expires_at\":");
		jsonw_str(&x, at);
		extra = pool_strdup(c->req->pool, x.data);
		buf_free(&x);
	}
	api_resource_respond(c, 200, &r, extra);
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
	struct buf b;
	buf_init(&b, 1024 * (result.nitems + 1));
	buf_adds(&b, "{\"items\":[");
	for (size_t i = 0; i < result.nitems; i++) {
		if (i > 0)
			buf_add(&b, ",", 1);
		api_resource_write(&b, &result.items[i], NULL);
	}
	buf_printf(&b, "],\"total\":%lld,\"page\":%lld,\"page_size\":%lld,\"next_cursor\":",
		   (long long)result.total, (long long)page, (long long)page_size);
	if (result.has_more && result.nitems > 0) {
		char cursor[LISTQUERY_CURSOR_MAX];
		const struct meta_resource *last = &result.items[result.nitems - 1];
		listquery_cursor_encode(q.sort, last->created_at_us, last->id, cursor);
		jsonw_str(&b, cursor);
	} else {
		buf_adds(&b, "null");
	}
	buf_add(&b, "}", 1);
	api_buf_respond(c, 200, &b);
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
	api_resource_respond(c, 200, &r, NULL);
}

enum err_code api_update_parse(json_t *body, const struct limits *l, struct pool *pool,
			       struct meta_update *u, struct err *e)
{
	const char *s;
	size_t len;
	bool present;
	enum err_code rc;
	memset(u, 0, sizeof(*u));
	if ((rc = jsonget_string(body, "name", false, false, &s, &len, &u->set_name, e)) != ERR_OK)
		return rc;
	if (u->set_name) {
		if ((rc = validate_name(s, len, l, e)) != ERR_OK)
			return rc;
		u->name = s;
	}
	if ((rc = jsonget_string(body, "directory_path", false, false, &s, &len,
				 &u->set_directory_path, e)) != ERR_OK)
		return rc;
	if (u->set_directory_path &&
	    (rc = validate_directory_path(s, len, l, pool, &u->directory_path, e)) != ERR_OK)
		return rc;
	const char **raw;
	size_t nraw;
	if ((rc = jsonget_string_array(body, "tags", pool, &raw, &nraw, &u->set_tags, e)) != ERR_OK)
		return rc;
	if ((rc = validate_tags(raw, nraw, l, "tags", pool, &u->tags, &u->ntags, e)) != ERR_OK)
		return rc;
	if ((rc = jsonget_object_text(body, "metadata", l->max_metadata_bytes, pool,
				      &u->metadata_json, &u->set_metadata, e)) != ERR_OK)
		return rc;
	if ((rc = jsonget_string(body, "status", false, false, &s, &len, &present, e)) != ERR_OK)
		return rc;
	if (present) {
		if (strcmp(s, META_STATUS_UPLOADED) != 0)
			return err_set(e, ERR_INVALID, "status can only be set to \"uploaded\"");
		u->confirm_upload = true;
	}
	return ERR_OK;
}

void api_resource_update(struct api_ctx *c)
{
	struct err e = {0};
	json_t *body = NULL;
	struct meta_update u;
	struct meta_cond cond;
	struct meta_resource r;
	api_if_match(http_req_header(c->req, "If-Match"), c->req->pool, &cond);
	enum err_code rc = jsonget_object(c->req->body, c->req->body_len, &body, &e);
	if (rc == ERR_OK &&
	    (rc = api_update_parse(body, &c->api->limits, c->req->pool, &u, &e)) == ERR_OK) {
		u.updated_at_us = time_now_us();
		rc = store_resource_update(c->api->store, c->who->account_id, c->req->params[0], &u,
					   &cond, c->req->pool, &r, &e);
	}
	json_decref(body);
	if (rc != ERR_OK) {
		api_error(c, rc, e.msg);
		return;
	}
	api_resource_respond(c, 200, &r, NULL);
}

void api_resource_delete(struct api_ctx *c)
{
	struct err e = {0};
	struct meta_cond cond;
	api_if_match(http_req_header(c->req, "If-Match"), c->req->pool, &cond);
	enum err_code rc = store_resource_delete(c->api->store, c->who->account_id,
						 c->req->params[0], &cond, c->req->pool, &e);
	if (rc != ERR_OK) {
		api_error(c, rc, e.msg);
		return;
	}
	c->resp->status = 204;
	c->resp->body = "";
	c->resp->body_len = 0;
}
