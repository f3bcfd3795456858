/* Folders: a directory_path of an account with a numeric id, so resources can be listed in
 * and moved into one by id (the Tines dialect's folder_id). */
#include "api/api.h"
#include "core/timefmt.h"
#include "json/jsonget.h"
#include "json/jsonw.h"

#include <stdlib.h>
#include <string.h>

static void write_folder(struct buf *b, const struct meta_folder *f)
{
	char created[TIMEFMT_LEN];
	time_format_us(f->created_at_us, created);
	const char *slash = strrchr(f->path, '/');
	buf_printf(b, "{\"id\":%lld,\"account_id\":", (long long)f->id);
	jsonw_str(b, f->account_id);
	buf_adds(b, ",\"name\":");
	jsonw_str(b, slash ? slash + 1 : f->path);
	buf_adds(b, ",\"directory_path\":");
	jsonw_str(b, f->path);
	buf_printf(b, ",\"created_at\":\"%s\"}", created);
}

static void respond_folder(struct api_ctx *c, const struct meta_folder *f)
{
	struct buf b;
	buf_init(&b, 256);
	write_folder(&b, f);
	api_buf_respond(c, 200, &b);
}

/* POST /v1/folders {"directory_path": "/a/b"} */
void api_folder_create(struct api_ctx *c)
{
	struct err e = {0};
	json_t *body = NULL;
	const char *s, *path = NULL;
	size_t len;
	bool present;
	struct meta_folder f;
	enum err_code rc = jsonget_object(c->req->body, c->req->body_len, &body, &e);
	if (rc == ERR_OK)
		rc = jsonget_string(body, "directory_path", true, false, &s, &len, &present, &e);
	if (rc == ERR_OK)
		rc = validate_directory_path(s, len, &c->api->limits, c->req->pool, &path, &e);
	if (rc == ERR_OK && strcmp(path, "/") == 0)
		rc = err_set(&e, ERR_INVALID,
			     "directory_path: the root is no folder (folder_id null)");
	if (rc == ERR_OK)
		rc = meta_folder_create(store_meta(c->api->store), c->who->account_id, path,
					time_now_us(), c->req->pool, &f, &e);
	json_decref(body);
	if (rc != ERR_OK) {
		api_error(c, rc, e.msg);
		return;
	}
	respond_folder(c, &f);
}

/* GET /v1/folders/{id} */
void api_folder_get(struct api_ctx *c)
{
	struct err e = {0};
	struct meta_folder f;
	enum err_code rc = meta_folder_get(store_meta(c->api->store), c->who->account_id,
					   api_param_nid(c, 0), c->req->pool, &f, &e);
	if (rc != ERR_OK) {
		api_error(c, rc, e.msg);
		return;
	}
	respond_folder(c, &f);
}

static bool query_int(struct api_ctx *c, const char *name, int64_t max, int64_t *out)
{
	const char *v = http_req_query(c->req, name);
	if (v == NULL)
		return true;
	char *end;
	long long n = strtoll(v, &end, 10);
	if (end == v || *end != '\0' || n < 1 || n > max)
		return false;
	*out = n;
	return true;
}

/* GET /v1/folders?page=&page_size= */
void api_folder_list(struct api_ctx *c)
{
	struct err e = {0};
	int64_t max = c->api->limits.max_page_size, page = 1, size = 20 < max ? 20 : max;
	struct meta_folder_page p;
	if (!query_int(c, "page", 1000000000LL, &page) ||
	    !query_int(c, "page_size", max, &size)) {
		api_error(c, ERR_INVALID,
			  pool_printf(c->req->pool,
				      "page must be an integer from 1 and page_size one from 1 "
				      "to %lld",
				      (long long)max));
		return;
	}
	enum err_code rc = meta_folder_list(store_meta(c->api->store), c->who->account_id,
					    (page - 1) * size, size, c->req->pool, &p, &e);
	if (rc != ERR_OK) {
		api_error(c, rc, e.msg);
		return;
	}
	struct buf b;
	buf_init(&b, 256 * (p.nitems + 1));
	buf_adds(&b, "{\"items\":[");
	for (size_t i = 0; i < p.nitems; i++) {
		if (i > 0)
			buf_add(&b, ",", 1);
		write_folder(&b, &p.items[i]);
	}
	buf_printf(&b, "],\"total\":%lld,\"page\":%lld,\"page_size\":%lld}", (long long)p.total,
		   (long long)page, (long long)size);
	api_buf_respond(c, 200, &b);
}
