/* The Resource as JSON, written straight into the response buffer: every property of the seed
 * schema, nullable ones as null. metadata is stored as compact JSON and copied as it is. */
#include "api/api.h"
#include "core/timefmt.h"
#include "json/jsonw.h"

#include <stdlib.h>

void api_resource_write(struct buf *b, const struct meta_resource *r, const char *extra)
{
	char created[TIMEFMT_LEN], updated[TIMEFMT_LEN];
	time_format_us(r->created_at_us, created);
	time_format_us(r->updated_at_us, updated);
	buf_adds(b, "{\"id\":");
	jsonw_str(b, r->id);
	buf_adds(b, ",\"account_id\":");
	jsonw_str(b, r->account_id);
	buf_adds(b, ",\"name\":");
	jsonw_str(b, r->name);
	buf_adds(b, ",\"directory_path\":");
	jsonw_str(b, r->directory_path);
	buf_adds(b, ",\"mime_type\":");
	jsonw_str(b, r->mime_type);
	buf_adds(b, ",\"sha256\":");
	jsonw_str(b, r->sha256[0] ? r->sha256 : NULL);
	buf_adds(b, ",\"original_uri\":");
	jsonw_str(b, r->original_uri);
	buf_adds(b, ",\"external_id\":");
	jsonw_str(b, r->external_id);
	buf_adds(b, ",\"external_storage_type\":");
	jsonw_str(b, r->external_storage_type);
	buf_adds(b, ",\"storage_bucket\":");
	jsonw_str(b, r->storage_bucket);
	buf_adds(b, ",\"storage_key\":");
	jsonw_str(b, r->storage_key && *r->storage_key ? r->storage_key : NULL);
	buf_printf(b, ",\"size_bytes\":%lld,\"tags\":[", (long long)r->size_bytes);
	for (size_t i = 0; i < r->ntags; i++) {
		if (i > 0)
			buf_add(b, ",", 1);
		jsonw_str(b, r->tags[i]);
	}
	buf_adds(b, "],\"metadata\":");
	buf_adds(b, r->metadata_json ? r->metadata_json : "null");
	buf_adds(b, ",\"created_by\":");
	jsonw_str(b, r->created_by);
	buf_printf(b, ",\"created_at\":\"%s\",\"updated_at\":\"%s\",\"status\":", created,
		   updated);
	jsonw_str(b, r->status ? r->status : "uploaded");
	buf_printf(b, ",\"version\":%lld", (long long)r->version);
	if (extra != NULL)
		buf_adds(b, extra);
	buf_add(b, "}", 1);
}

void api_resource_respond(struct api_ctx *c, int status, const struct meta_resource *r,
			  const char *extra)
{
	struct buf b;
	buf_init(&b, 1024);
	api_resource_write(&b, r, extra);
	api_buf_respond(c, status, &b);
}
