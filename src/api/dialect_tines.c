/* The Tines dialect (seed 004) under /api/v1/global_resources: resources by numeric id with a
 * value (a string, a file object {name, contents, type}, or other JSON), folders by id, sharing
 * by read_access, and a test value. team_id is the owner account's numeric id, user_id the
 * creator's. Every write is the core's create or update; this file only translates. */
#include "api/api.h"
#include "api/dataurl.h"
#include "core/text.h"
#include "core/timefmt.h"
#include "json/jsonget.h"
#include "json/jsonw.h"

#include <stdlib.h>
#include <string.h>

/* What a request asks of the answer. */
struct tines_opts {
	bool typed;      /* typed_value */
	bool refs;       /* include_referencing_action_ids */
	bool test;       /* is_test: the value shown (and written) is the test value */
};

/* A numeric id, or null for 0 (none). */
static void write_nid(struct buf *b, int64_t id)
{
	if (id > 0)
		buf_printf(b, "%lld", (long long)id);
	else
		buf_adds(b, "null");
}

static enum err_code write_resource(struct api_ctx *c, struct buf *b,
				    const struct meta_resource *r, const struct tines_opts *o,
				    struct err *e)
{
	char created[TIMEFMT_LEN], updated[TIMEFMT_LEN];
	char *slug = pool_alloc(c->req->pool, strlen(r->name) + 1);
	time_format_us(r->created_at_us, created);
	time_format_us(r->updated_at_us, updated);
	text_slug(r->name, slug);
	buf_printf(b, "{\"id\":%lld,\"name\":", (long long)r->nid);
	jsonw_str(b, r->name);
	buf_adds(b, ",\"value\":");
	enum err_code rc = api_value_write(c, b, r, o->test, o->typed, e);
	if (rc != ERR_OK)
		return rc;
	buf_printf(b, ",\"team_id\":%lld,\"folder_id\":", (long long)r->account_nid);
	write_nid(b, r->folder_id);
	buf_adds(b, ",\"user_id\":");
	write_nid(b, r->user_nid);
	buf_adds(b, ",\"read_access\":");
	jsonw_str(b, r->read_access ? r->read_access : META_ACCESS_TEAM);
	buf_adds(b, ",\"shared_team_slugs\":[");
	for (size_t i = 0; i < r->nshared; i++) {
		if (i > 0)
			buf_add(b, ",", 1);
		jsonw_str(b, r->shared_with[i]);
	}
	buf_adds(b, "],\"slug\":");
	jsonw_str(b, slug);
	buf_printf(b, ",\"created_at\":\"%s\",\"updated_at\":\"%s\",\"description\":", created,
		   updated);
	jsonw_str(b, r->description ? r->description : "");
	buf_printf(b, ",\"test_resource_enabled\":%s,\"test_resource\":",
		   r->test_enabled ? "true" : "false");
	if (r->test_enabled) {
		buf_adds(b, "{\"value\":");
		if ((rc = api_value_write(c, b, r, true, o->typed, e)) != ERR_OK)
			return rc;
		buf_add(b, "}", 1);
	} else {
		buf_adds(b, "null");
	}
	if (o->refs)
		buf_adds(b, ",\"referencing_action_ids\":[]"); /* depot has no actions */
	buf_add(b, "}", 1);
	return ERR_OK;
}

static void respond(struct api_ctx *c, const struct meta_resource *r, const struct tines_opts *o)
{
	struct err e = {0};
	struct buf b;
	struct meta_resource with_nids = *r;
	buf_init(&b, 1024);
	enum err_code rc = meta_resource_nids(store_meta(c->api->store), &with_nids, 1, &e);
	if (rc == ERR_OK)
		rc = write_resource(c, &b, &with_nids, o, &e);
	if (rc != ERR_OK) {
		buf_free(&b);
		api_error(c, rc, e.msg);
		return;
	}
	api_buf_respond(c, 200, &b);
}

/* A flag from the body (true/false, or the strings "true"/"false" that form-minded clients
 * send), else the query string, else def. */
static enum err_code flag(struct api_ctx *c, json_t *body, const char *name, bool def,
			  bool *out, struct err *e)
{
	json_t *v = body ? json_object_get(body, name) : NULL;
	if (v == NULL)
		return api_query_bool(c, name, def, out, e);
	if (json_is_boolean(v))
		*out = json_is_true(v);
	else if (json_is_string(v) && (strcmp(json_string_value(v), "true") == 0 ||
				       strcmp(json_string_value(v), "false") == 0))
		*out = strcmp(json_string_value(v), "true") == 0;
	else
		return err_set(e, ERR_INVALID, "%s must be true or false", name);
	return ERR_OK;
}

static enum err_code read_opts(struct api_ctx *c, json_t *body, struct tines_opts *o,
			       struct err *e)
{
	enum err_code rc = flag(c, body, "typed_value", false, &o->typed, e);
	if (rc == ERR_OK)
		rc = flag(c, body, "include_referencing_action_ids", true, &o->refs, e);
	if (rc == ERR_OK)
		rc = flag(c, body, "is_test", false, &o->test, e);
	return rc;
}

static enum err_code sink_to_pool(void *ctx, const void *data, size_t len, struct err *e)
{
	struct api_value *v = ctx;
	(void)e;
	memcpy((unsigned char *)v->bytes + v->len, data, len);
	v->len += len;
	return ERR_OK;
}

/* Tines decodes file contents as Ruby's Base64.decode64 does: characters outside the base64
 * alphabet (line breaks, spaces, the "..." of a shortened sample) are skipped, decoding stops
 * at '=', and an incomplete last character is dropped. What is left goes through depot's one
 * decoder. */
static enum err_code decode_contents(struct api_ctx *c, const char *s, size_t len,
				     struct api_value *v, struct err *e)
{
	char *clean = pool_alloc(c->req->pool, len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len && s[i] != '='; i++)
		if ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '/')
			clean[n++] = s[i];
	if (n % 4 == 1)
		n--;
	struct dataurl_stream du;
	static const char header[] = "data:;base64,";
	v->bytes = pool_alloc(c->req->pool, n / 4 * 3 + 3);
	v->len = 0;
	dataurl_stream_init(&du, c->api->limits.max_upload_bytes, sink_to_pool, v);
	enum err_code rc = dataurl_stream_feed(&du, header, sizeof(header) - 1, c->req->pool, e);
	if (rc == ERR_OK)
		rc = dataurl_stream_feed(&du, clean, n, c->req->pool, e);
	if (rc == ERR_OK)
		rc = dataurl_stream_finish(&du, c->req->pool, e);
	dataurl_stream_cleanup(&du);
	return rc;
}

/* A file value {name, contents, type?}. */
static enum err_code read_file(struct api_ctx *c, json_t *obj, struct api_value *v,
			       struct err *e)
{
	const char *s;
	size_t len;
	bool present;
	enum err_code rc;
	if ((rc = jsonget_string(obj, "name", true, false, &s, &len, &present, e)) != ERR_OK ||
	    (rc = validate_name(s, len, &c->api->limits, e)) != ERR_OK) {
		char why[sizeof(e->msg)];
		memcpy(why, e->msg, sizeof(why));
		return err_set(e, ERR_INVALID, "value.%s", why);
	}
	v->file_name = pool_strndup(c->req->pool, s, len);
	if ((rc = jsonget_string(obj, "type", false, true, &s, &len, &present, e)) != ERR_OK)
		return err_set(e, ERR_INVALID, "value.type must be a string");
	/* An unusable type is sniffed, as every other declared type is. */
	v->mime_type = present && strlen(s) == len && text_is_media_type(s)
			       ? pool_strdup(c->req->pool, s)
			       : NULL;
	if ((rc = jsonget_string(obj, "contents", true, false, &s, &len, &present, e)) != ERR_OK)
		return err_set(e, ERR_INVALID, "value.contents must be a base64 string");
	return decode_contents(c, s, len, v, e);
}

/* value: a string (a text value), a file object, or any other JSON (kept as its JSON text). */
static enum err_code read_value(struct api_ctx *c, json_t *body, bool required,
				struct api_value *v, struct err *e)
{
	json_t *val = json_object_get(body, "value");
	memset(v, 0, sizeof(*v));
	if (val == NULL || json_is_null(val))
		return required ? err_set(e, ERR_INVALID, "value is required") : ERR_OK;
	v->present = true;
	if (json_is_object(val) && json_object_get(val, "contents") != NULL)
		return read_file(c, val, v, e);
	if (json_is_string(val)) {
		size_t len = json_string_length(val);
		if (strlen(json_string_value(val)) != len)
			return err_set(e, ERR_INVALID, "value must not contain NUL characters");
		v->bytes = (const unsigned char *)json_string_value(val);
		v->len = len;
		v->mime_type = api_value_mime(json_string_value(val), len);
		return ERR_OK;
	}
	char *text = json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY);
	if (text == NULL)
		return err_set(e, ERR_INVALID, "value cannot be serialised");
	v->bytes = (const unsigned char *)pool_strdup(c->req->pool, text);
	v->len = strlen(text);
	v->mime_type = "application/json";
	free(text);
	return ERR_OK;
}

/* Tines names the root folder with an empty folder_id: that is null here. */
static void folder_empty_is_root(json_t *body)
{
	json_t *f = json_object_get(body, "folder_id");
	if (f != NULL && json_is_string(f) && json_string_length(f) == 0)
		json_object_set_new(body, "folder_id", json_null());
}

/* team_id names the caller's own account; no other team's can be written to. */
static enum err_code check_team(struct api_ctx *c, json_t *body, struct err *e)
{
	int64_t team, own;
	bool is_null, present;
	enum err_code rc = jsonget_int(body, "team_id", 1, INT64_MAX, true, &team, &is_null,
				       &present, e);
	if (rc != ERR_OK || !present || is_null)
		return rc;
	if ((rc = meta_account_nid(store_meta(c->api->store), c->who->account_id, &own, e)) !=
	    ERR_OK)
		return rc;
	if (team != own)
		return err_set(e, ERR_FORBIDDEN,
			       "team_id %lld is not your team: your token's account is team %lld",
			       (long long)team, (long long)own);
	return ERR_OK;
}

/* The resource of the path's numeric id, as the caller may see it. */
static enum err_code find(struct api_ctx *c, struct meta_resource *r, struct err *e)
{
	return meta_resource_get_by_nid(store_meta(c->api->store), c->who->account_id,
					api_param_nid(c, 0), c->req->pool, r, e);
}

/* The body of a write, its folder_id "" made null, and the answer's options. */
static enum err_code read_body(struct api_ctx *c, json_t **body, struct tines_opts *o,
			       struct err *e)
{
	enum err_code rc = jsonget_object(c->req->body, c->req->body_len, body, e);
	if (rc != ERR_OK)
		return rc;
	folder_empty_is_root(*body);
	return read_opts(c, *body, o, e);
}

/* GET /api/v1/global_resources/{id} */
void api_tines_get(struct api_ctx *c)
{
	struct err e = {0};
	struct meta_resource r;
	struct tines_opts o;
	enum err_code rc = read_opts(c, NULL, &o, &e);
	if (rc == ERR_OK)
		rc = find(c, &r, &e);
	if (rc != ERR_OK) {
		api_error(c, rc, e.msg);
		return;
	}
	respond(c, &r, &o);
}

static enum err_code read_create(struct api_ctx *c, json_t *body, struct create_fields *f,
				 struct api_value *v, struct err *e)
{
	struct meta_update place;
	enum err_code rc;
	memset(f, 0, sizeof(*f));
	if ((rc = api_read_name(body, &c->api->limits, &f->name, e)) != ERR_OK)
		return rc;
	if (json_object_get(body, "live_resource_id") != NULL)
		return err_set(e, ERR_INVALID, "live_resource_id is not supported: give the live "
					       "resource test_resource_enabled and PUT its test "
					       "value with is_test");
	if ((rc = check_team(c, body, e)) != ERR_OK ||
	    (rc = api_create_common(body, &c->api->limits, c->req->pool, f, e)) !=
		    ERR_OK ||
	    (rc = api_update_read(c, body, UPD_FOLDER, &place, e)) != ERR_OK ||
	    (rc = read_value(c, body, true, v, e)) != ERR_OK)
		return rc;
	f->directory_path = place.set_directory_path ? place.directory_path : "/";
	f->mime_type = v->mime_type;
	f->file_name = v->file_name;
	return ERR_OK;
}

/* POST /api/v1/global_resources {name, value, team_id?, folder_id?, read_access?,
 * shared_team_slugs?, description?, test_resource_enabled?} */
void api_tines_create(struct api_ctx *c)
{
	struct err e = {0};
	json_t *body = NULL;
	struct create_fields f;
	struct api_value v;
	struct meta_resource r;
	struct tines_opts o;
	struct blob_writer *w = NULL;
	enum err_code rc = read_body(c, &body, &o, &e);
	if (rc == ERR_OK)
		rc = read_create(c, body, &f, &v, &e);
	if (rc == ERR_OK && (rc = api_value_writer(c, &v, &w, &e)) == ERR_OK)
		rc = api_create(c, &f, w, &r, &e);
	blob_writer_free(w);
	json_decref(body);
	if (rc != ERR_OK) {
		api_error(c, rc, e.msg);
		return;
	}
	respond(c, &r, &o);
}

/* PUT /api/v1/global_resources/{id}: every parameter of seed 004. */
void api_tines_update(struct api_ctx *c)
{
	struct err e = {0};
	json_t *body = NULL;
	struct meta_update u;
	struct api_value v;
	struct meta_resource r;
	struct tines_opts o;
	enum err_code rc = find(c, &r, &e);
	if (rc == ERR_OK)
		rc = read_body(c, &body, &o, &e);
	if (rc == ERR_OK)
		rc = api_update_read(c, body,
				      UPD_NAME | UPD_FOLDER | UPD_DESCRIPTION | UPD_SHARING |
					      UPD_TEST,
				      &u, &e);
	if (rc == ERR_OK)
		rc = read_value(c, body, false, &v, &e);
	if (rc == ERR_OK) {
		v.is_test = o.test;
		rc = api_resource_apply(c, pool_strdup(c->req->pool, r.id), &u, &v, NULL, &r, &e);
	}
	json_decref(body);
	if (rc != ERR_OK) {
		api_error(c, rc, e.msg);
		return;
	}
	respond(c, &r, &o);
}

/* page and per_page (clamped to DEPOT_MAX_PAGE_SIZE, as Tines clamps to its maximum). */
static enum err_code read_page(struct api_ctx *c, int64_t *page, int64_t *per_page,
			       struct err *e)
{
	const char *names[] = {"page", "per_page"};
	int64_t *outs[] = {page, per_page};
	*page = 1;
	*per_page = 20 < c->api->limits.max_page_size ? 20 : c->api->limits.max_page_size;
	for (int i = 0; i < 2; i++) {
		const char *v = http_req_query(c->req, names[i]);
		if (v == NULL)
			continue;
		char *end;
		long long n = strtoll(v, &end, 10);
		if (end == v || *end != '\0' || n < 1 || n > 1000000000LL)
			return err_set(e, ERR_INVALID, "%s must be a positive integer", names[i]);
		*outs[i] = n;
	}
	if (*per_page > c->api->limits.max_page_size)
		*per_page = c->api->limits.max_page_size;
	return ERR_OK;
}

/* team_id: the caller's team lists its own resources, another's those it shares with the
 * caller; folder_id: the caller's resources in that folder. Neither: everything the caller
 * may read. */
static enum err_code read_list_filters(struct api_ctx *c, struct meta_query *q, struct err *e)
{
	const char *v;
	char *end;
	q->owner = META_OWNER_ANY;
	if ((v = http_req_query(c->req, "team_id")) != NULL) {
		int64_t own;
		long long team = strtoll(v, &end, 10);
		if (end == v || *end != '\0' || team < 1)
			return err_set(e, ERR_INVALID, "team_id must be a team's numeric id");
		enum err_code rc = meta_account_nid(store_meta(c->api->store), q->account_id, &own,
						    e);
		if (rc != ERR_OK)
			return rc;
		q->owner = team == own ? META_OWNER_ME : META_OWNER_SHARED;
		q->owner_nid = team;
	}
	if ((v = http_req_query(c->req, "folder_id")) != NULL) {
		struct meta_folder f;
		long long id = strtoll(v, &end, 10);
		if (end == v || *end != '\0' || id < 1 ||
		    meta_folder_get(store_meta(c->api->store), q->account_id, id, c->req->pool, &f,
				    e) != ERR_OK)
			return err_set(e, ERR_INVALID, "folder_id must name a folder of your team");
		q->owner = META_OWNER_ME;
		q->directory_prefix = f.path;
		q->directory_exact = true;
	}
	return ERR_OK;
}

static void page_link(struct api_ctx *c, struct buf *b, int64_t page, int64_t per_page)
{
	jsonw_str(b, pool_printf(c->req->pool, "%s/api/v1/global_resources?page=%lld&per_page=%lld",
				 api_base_url(c), (long long)page, (long long)per_page));
}

/* GET /api/v1/global_resources: {"global_resources": [...], "meta": {...}}, oldest first. */
void api_tines_list(struct api_ctx *c)
{
	struct err e = {0};
	struct meta_query q = {0};
	struct meta_page p;
	struct tines_opts o;
	int64_t page = 1, per_page = 1;
	q.account_id = c->who->account_id;
	q.created_after_us = INT64_MIN;
	q.created_before_us = INT64_MAX;
	q.sort = META_SORT_ASC;
	q.status = META_STATUS_UPLOADED;
	enum err_code rc = read_opts(c, NULL, &o, &e);
	if (rc == ERR_OK)
		rc = read_page(c, &page, &per_page, &e);
	if (rc == ERR_OK)
		rc = read_list_filters(c, &q, &e);
	q.limit = per_page;
	q.offset = (page - 1) * per_page;
	if (rc == ERR_OK)
		rc = meta_resource_list(store_meta(c->api->store), &q, c->req->pool, &p, &e);
	if (rc == ERR_OK)
		rc = meta_resource_nids(store_meta(c->api->store), p.items, p.nitems, &e);
	struct buf b;
	buf_init(&b, 1024);
	buf_adds(&b, "{\"global_resources\":[");
	for (size_t i = 0; rc == ERR_OK && i < p.nitems; i++) {
		if (i > 0)
			buf_add(&b, ",", 1);
		rc = write_resource(c, &b, &p.items[i], &o, &e);
	}
	if (rc != ERR_OK) {
		buf_free(&b);
		api_error(c, rc, e.msg);
		return;
	}
	int64_t pages = (p.total + per_page - 1) / per_page;
	buf_adds(&b, "],\"meta\":{\"current_page\":");
	page_link(c, &b, page, per_page);
	buf_adds(&b, ",\"previous_page\":");
	if (page > 1)
		page_link(c, &b, page - 1, per_page);
	else
		buf_adds(&b, "null");
	buf_adds(&b, ",\"next_page\":");
	if (page < pages)
		page_link(c, &b, page + 1, per_page);
	else
		buf_adds(&b, "null");
	buf_adds(&b, ",\"next_page_number\":");
	write_nid(&b, page < pages ? page + 1 : 0);
	buf_printf(&b, ",\"per_page\":%lld,\"pages\":%lld,\"count\":%lld}}", (long long)per_page,
		   (long long)pages, (long long)p.total);
	api_buf_respond(c, 200, &b);
}
