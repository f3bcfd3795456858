/* The /v1/resources handlers that take no streamed body: list, get, update, delete; and the
 * common end of every create path. */
#include "api/api.h"
#include "api/listcache.h"
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

enum err_code api_read_name(json_t *body, const struct limits *l, const char **out,
			    struct err *e)
{
	const char *s;
	size_t len;
	bool present;
	enum err_code rc = jsonget_string(body, "name", true, false, &s, &len, &present, e);
	if (rc == ERR_OK)
		rc = validate_name(s, len, l, e);
	*out = rc == ERR_OK ? s : NULL;
	return rc;
}

enum err_code api_read_description(json_t *body, const struct limits *l, const char **out,
				   struct err *e)
{
	const char *s;
	size_t len;
	bool present;
	enum err_code rc = jsonget_string(body, "description", false, true, &s, &len, &present, e);
	if (rc == ERR_OK && present)
		rc = validate_description(s, len, l, e);
	*out = rc == ERR_OK && present ? s : NULL;
	return rc;
}

enum err_code api_create_common(json_t *body, const struct limits *l, struct pool *pool,
				struct create_fields *f, struct err *e)
{
	struct meta_update sharing = {0};
	int64_t no_folder;
	const char *access;
	bool present, rewrite;
	enum err_code rc;
	if ((rc = api_read_description(body, l, &f->description, e)) != ERR_OK ||
	    (rc = api_update_parse(body, UPD_SHARING, l, pool, &sharing, &no_folder, e)) !=
		    ERR_OK ||
	    (rc = meta_sharing_apply(META_ACCESS_TEAM, &sharing, &access, &rewrite, e)) != ERR_OK)
		return rc;
	f->read_access = access;
	f->shared_with = sharing.shared_with;
	f->nshared = sharing.nshared;
	return jsonget_bool(body, "test_resource_enabled", &f->test_enabled, &present, e);
}

enum err_code api_create(struct api_ctx *c, const struct create_fields *f, struct blob_writer *w,
			 struct meta_resource *out, struct err *e)
{
	struct meta_resource r = {0};
	r.account_id = c->who->account_id;
	r.name = f->name;
	r.directory_path = f->directory_path;
	r.tags = f->tags;
	r.ntags = f->ntags;
	r.metadata_json = f->metadata_json;
	r.mime_type = f->mime_type;
	r.original_uri = f->original_uri;
	r.external_id = f->external_id;
	r.external_storage_type = f->external_storage_type;
	r.created_by = c->who->sub[0] ? c->who->sub : NULL;
	r.created_at_us = r.updated_at_us = time_now_us();
	r.description = f->description;
	r.read_access = f->read_access;
	r.shared_with = f->shared_with;
	r.nshared = f->nshared;
	r.test_enabled = f->test_enabled;
	r.file_name = f->file_name;
	if (f->pending && f->test_enabled)
		return err_set(e, ERR_INVALID, "a pending resource cannot start with a test value");
	enum err_code rc = store_resource_create(c->api->store, &r, f->pending ? NULL : w,
						 c->req->pool, e);
	if (rc != ERR_OK)
		return rc;
	/* Read back: the numeric ids and the folder are the store's. */
	return meta_resource_get(store_meta(c->api->store), r.account_id, r.id, c->req->pool, out,
				 e);
}

const char *api_upload_url(struct api_ctx *c, const char *path, const char **expires_at)
{
	int64_t expires = time_now_us() / 1000000 + c->api->upload_url_ttl_s;
	char at[TIMEFMT_LEN];
	time_format_us(expires * 1000000, at);
	*expires_at = pool_strdup(c->req->pool, at);
	return api_signed_url(c, "PUT", path, expires);
}

void api_create_finish(struct api_ctx *c, const struct create_fields *f, struct blob_writer *w)
{
	struct err e = {0};
	struct meta_resource r;
	enum err_code rc = api_create(c, f, w, &r, &e);
	if (rc != ERR_OK) {
		api_error(c, rc, e.msg);
		return;
	}
	const char *extra = NULL;
	if (f->pending) {
		const char *at;
		const char *url =
			api_upload_url(c, pool_printf(c->req->pool, "/v1/uploads/%s", r.id), &at);
		struct buf x;
		buf_init(&x, 512);
		buf_adds(&x, ",\"upload_url\":");
		jsonw_str(&x, url);
		buf_adds(&x, ",\"upload_url_expires_at\":");
		jsonw_str(&x, at);
		extra = pool_strdup(c->req->pool, x.data);
		buf_free(&x);
	}
	api_resource_respond(c, 200, &r, extra);
}

enum err_code api_query_bool(struct api_ctx *c, const char *name, bool def, bool *out,
			     struct err *e)
{
	const char *v = http_req_query(c->req, name);
	*out = def;
	if (v == NULL)
		return ERR_OK;
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = true;
	else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*out = false;
	else
		return err_set(e, ERR_INVALID, "%s must be true or false", name);
	return ERR_OK;
}

int64_t api_param_nid(struct api_ctx *c, int i)
{
	return strtoll(c->req->params[i], NULL, 10);
}

static const char *query_get(void *ctx, const char *name)
{
	return http_req_query(ctx, name);
}

/* owner=me|shared|any and folder_id=N, beside the filters listquery parses. */
static enum err_code list_scope(struct api_ctx *c, struct meta_query *q, struct err *e)
{
	const char *v = http_req_query(c->req, "owner");
	if (v != NULL && strcmp(v, "shared") == 0)
		q->owner = META_OWNER_SHARED;
	else if (v != NULL && strcmp(v, "any") == 0)
		q->owner = META_OWNER_ANY;
	else if (v != NULL && strcmp(v, "me") != 0)
		return err_set(e, ERR_INVALID, "owner must be me, shared or any");
	if ((v = http_req_query(c->req, "folder_id")) == NULL)
		return ERR_OK;
	char *end;
	long long id = strtoll(v, &end, 10);
	struct meta_folder f;
	if (end == v || *end != '\0' || id < 1)
		return err_set(e, ERR_INVALID, "folder_id must be a folder's numeric id");
	if (meta_folder_get(store_meta(c->api->store), c->who->account_id, id, c->req->pool, &f,
			    e) != ERR_OK)
		return err_set(e, ERR_INVALID, "folder_id %lld names no folder of this account",
			       id);
	if (q->directory_prefix != NULL)
		return err_set(e, ERR_INVALID, "give either folder_id or directory_prefix");
	q->directory_prefix = f.path;
	q->directory_exact = true;
	return ERR_OK;
}

void api_resource_list(struct api_ctx *c)
{
	struct err e = {0};
	struct meta_query q = {0};
	int64_t page, page_size;
	enum err_code rc = listquery_parse(query_get, c->req, &c->api->limits, c->req->pool, &q,
					   &page, &page_size, &e);
	if (rc == ERR_OK)
		rc = list_scope(c, &q, &e);
	if (rc != ERR_OK) {
		api_error(c, rc, e.msg);
		return;
	}
	q.account_id = c->who->account_id;
	/* Only the account's own rows: its generation covers every write they can show. */
	struct meta *meta = store_meta(c->api->store);
	uint64_t gen;
	const char *key = NULL;
	if (c->api->lists != NULL && q.owner == META_OWNER_ME &&
	    meta_list_generation(meta, q.account_id, &gen)) {
		key = pool_printf(c->req->pool, "%s\x1f%s", q.account_id,
				  http_req_query_key(c->req, c->req->pool));
		size_t len;
		char *body = listcache_get(c->api->lists, key, gen, &len);
		if (body != NULL) {
			api_body_respond(c, 200, body, len);
			return;
		}
	}
	struct meta_page result;
	rc = meta_resource_list(meta, &q, c->req->pool, &result, &e);
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
		api_resource_write(&b, &result.items[i], c->who->account_id, NULL);
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
	if (key != NULL)
		listcache_put(c->api->lists, key, gen, b.data, b.len);
	api_buf_respond(c, 200, &b);
}

void api_resource_get(struct api_ctx *c)
{
	struct err e = {0};
	struct meta_resource r;
	enum err_code rc = meta_resource_get_visible(store_meta(c->api->store), c->who->account_id,
						     c->req->params[0], c->req->pool, &r, &e);
	if (rc != ERR_OK) {
		api_error(c, rc, e.msg);
		return;
	}
	api_resource_respond(c, 200, &r, NULL);
}

/* folder_id: recorded for the handler to resolve (api_update_read); null is the root. */
static enum err_code read_folder(json_t *body, struct meta_update *u, int64_t *folder_id,
				 struct err *e)
{
	int64_t id = 0;
	bool is_null, present;
	enum err_code rc = jsonget_int(body, "folder_id", 1, INT64_MAX, true, &id, &is_null,
				       &present, e);
	if (rc != ERR_OK || !present)
		return rc;
	if (u->set_directory_path)
		return err_set(e, ERR_INVALID, "give either folder_id or directory_path");
	u->set_directory_path = true;
	u->directory_path = "/";
	*folder_id = is_null ? 0 : id;
	return ERR_OK;
}

static enum err_code read_sharing(json_t *body, const struct limits *l, struct pool *pool,
				  struct meta_update *u, struct err *e)
{
	const char *s;
	size_t len;
	const char **raw;
	size_t nraw;
	enum err_code rc;
	if ((rc = jsonget_string(body, "read_access", false, false, &s, &len, &u->set_read_access,
				 e)) != ERR_OK)
		return rc;
	if (u->set_read_access && (rc = validate_read_access(s, e)) != ERR_OK)
		return rc;
	u->read_access = s;
	if ((rc = jsonget_string_array(body, "shared_team_slugs", pool, &raw, &nraw,
				       &u->set_shared_with, e)) != ERR_OK)
		return rc;
	return validate_slugs(raw, nraw, l, pool, &u->shared_with, &u->nshared, e);
}

enum err_code api_update_parse(json_t *body, unsigned fields, const struct limits *l,
			       struct pool *pool, struct meta_update *u, int64_t *folder_id,
			       struct err *e)
{
	const char *s;
	size_t len;
	bool present;
	enum err_code rc;
	memset(u, 0, sizeof(*u));
	*folder_id = 0;
	if ((fields & UPD_NAME) &&
	    (rc = jsonget_string(body, "name", false, false, &s, &len, &u->set_name, e)) != ERR_OK)
		return rc;
	if (u->set_name) {
		if ((rc = validate_name(s, len, l, e)) != ERR_OK)
			return rc;
		u->name = s;
	}
	if (fields & UPD_DIRECTORY) {
		if ((rc = jsonget_string(body, "directory_path", false, false, &s, &len,
					 &u->set_directory_path, e)) != ERR_OK)
			return rc;
		if (u->set_directory_path &&
		    (rc = validate_directory_path(s, len, l, pool, &u->directory_path, e)) !=
			    ERR_OK)
			return rc;
	}
	if ((fields & UPD_FOLDER) && (rc = read_folder(body, u, folder_id, e)) != ERR_OK)
		return rc;
	const char **raw;
	size_t nraw;
	if ((fields & UPD_TAGS) &&
	    ((rc = jsonget_string_array(body, "tags", pool, &raw, &nraw, &u->set_tags, e)) !=
		     ERR_OK ||
	     (rc = validate_tags(raw, nraw, l, "tags", pool, &u->tags, &u->ntags, e)) != ERR_OK))
		return rc;
	if ((fields & UPD_METADATA) &&
	    (rc = jsonget_object_text(body, "metadata", l->max_metadata_bytes, pool,
				      &u->metadata_json, &u->set_metadata, e)) != ERR_OK)
		return rc;
	if (fields & UPD_STATUS) {
		if ((rc = jsonget_string(body, "status", false, false, &s, &len, &present, e)) !=
		    ERR_OK)
			return rc;
		if (present && strcmp(s, META_STATUS_UPLOADED) != 0)
			return err_set(e, ERR_INVALID, "status can only be set to \"uploaded\"");
		u->confirm_upload = present;
	}
	if (fields & UPD_DESCRIPTION) {
		if ((rc = api_read_description(body, l, &u->description, e)) != ERR_OK)
			return rc;
		/* null clears it, like an absent description at creation */
		u->set_description = json_object_get(body, "description") != NULL;
	}
	if ((fields & UPD_SHARING) && (rc = read_sharing(body, l, pool, u, e)) != ERR_OK)
		return rc;
	if (fields & UPD_TEST)
		return jsonget_bool(body, "test_resource_enabled", &u->test_enabled,
				    &u->set_test_enabled, e);
	return ERR_OK;
}

enum err_code api_update_read(struct api_ctx *c, json_t *body, unsigned fields,
			      struct meta_update *u, struct err *e)
{
	int64_t folder_id;
	struct meta_folder f;
	enum err_code rc = api_update_parse(body, fields, &c->api->limits, c->req->pool, u,
					    &folder_id, e);
	if (rc != ERR_OK)
		return rc;
	u->updated_at_us = time_now_us();
	if (folder_id == 0)
		return ERR_OK;
	if (meta_folder_get(store_meta(c->api->store), c->who->account_id, folder_id,
			    c->req->pool, &f, e) != ERR_OK)
		return err_set(e, ERR_INVALID, "folder_id %lld names no folder of this account",
			       (long long)folder_id);
	u->directory_path = f.path;
	return ERR_OK;
}

enum err_code api_value_writer(struct api_ctx *c, const struct api_value *v,
			       struct blob_writer **w, struct err *e)
{
	*w = NULL;
	if (v->len > c->api->limits.max_upload_bytes)
		return err_set(e, ERR_TOO_LARGE, "the value is larger than %llu bytes",
			       (unsigned long long)c->api->limits.max_upload_bytes);
	enum err_code rc = store_writer_new(c->api->store, w, e);
	return rc != ERR_OK ? rc : blob_writer_write(*w, v->bytes, v->len, e);
}

static bool update_sets_anything(const struct meta_update *u)
{
	return u->set_name || u->set_directory_path || u->set_tags || u->set_metadata ||
	       u->confirm_upload || u->set_description || u->set_read_access ||
	       u->set_shared_with || u->set_test_enabled;
}

enum err_code api_resource_apply(struct api_ctx *c, const char *id, const struct meta_update *u,
				 const struct api_value *v, const struct meta_cond *cond,
				 struct meta_resource *out, struct err *e)
{
	struct store *s = c->api->store;
	const char *account = c->who->account_id;
	if (v == NULL || !v->present)
		return store_resource_update(s, account, id, u, cond, c->req->pool, out, e);
	struct blob_writer *w = NULL;
	enum err_code rc = api_value_writer(c, v, &w, e);
	struct store_put put = {.mode = v->is_test ? STORE_PUT_TEST : STORE_PUT_LIVE,
				.mime_type = v->mime_type,
				.file_name = v->file_name,
				.cond = cond,
				.fields = update_sets_anything(u) ? u : NULL};
	if (rc == ERR_OK)
		rc = store_resource_put_content(s, account, id, w, &put, c->req->pool, out, e);
	blob_writer_free(w);
	return rc;
}

/* The /v1 update's value: a string, with is_test naming the test value. */
static enum err_code read_value(json_t *body, struct api_value *v, struct err *e)
{
	const char *s;
	size_t len;
	bool present;
	enum err_code rc = jsonget_string(body, "value", false, false, &s, &len, &v->present, e);
	if (rc == ERR_OK)
		rc = jsonget_bool(body, "is_test", &v->is_test, &present, e);
	if (rc != ERR_OK)
		return rc;
	if (v->is_test && !v->present)
		return err_set(e, ERR_INVALID, "is_test names the value to write: give value too");
	v->bytes = (const unsigned char *)s;
	v->len = len;
	v->mime_type = v->present ? api_value_mime(s, len) : NULL;
	return ERR_OK;
}

void api_resource_update(struct api_ctx *c)
{
	struct err e = {0};
	json_t *body = NULL;
	struct meta_update u;
	struct meta_cond cond;
	struct meta_resource r;
	struct api_value v = {0};
	api_if_match(http_req_header(c->req, "If-Match"), c->req->pool, &cond);
	enum err_code rc = jsonget_object(c->req->body, c->req->body_len, &body, &e);
	if (rc == ERR_OK && (rc = api_update_read(c, body, UPD_ALL, &u, &e)) == ERR_OK &&
	    (rc = read_value(body, &v, &e)) == ERR_OK)
		rc = api_resource_apply(c, c->req->params[0], &u, &v, &cond, &r, &e);
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
