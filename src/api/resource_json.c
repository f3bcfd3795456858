/* The Resource as JSON, written straight into the response buffer: every property of the seed
 * schema, nullable ones as null, and depot's own (numeric id, sharing, folder, test value).
 * metadata is stored as compact JSON and copied as it is. */
#include "api/api.h"
#include "core/text.h"
#include "core/xalloc.h"
#include "core/timefmt.h"
#include "json/jsonw.h"

#include <stdlib.h>
#include <string.h>

static void write_strings(struct buf *b, const char **v, size_t n)
{
	buf_add(b, "[", 1);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_add(b, ",", 1);
		jsonw_str(b, v[i]);
	}
	buf_add(b, "]", 1);
}

/* numeric_id, description, sharing, folder, slug and test value. */
static void write_capabilities(struct buf *b, const struct meta_resource *r, const char *reader)
{
	/* A slug is [a-z0-9_] only: no escaping, and no allocation for a name of usual size. */
	size_t len = strlen(r->name);
	char stack[256], *slug = len < sizeof(stack) ? stack : xmalloc(len + 1);
	text_slug(r->name, slug);
	buf_adds(b, ",\"numeric_id\":");
	buf_add_i64(b, r->nid);
	buf_adds(b, ",\"slug\":\"");
	buf_adds(b, slug);
	buf_add(b, "\"", 1);
	if (slug != stack)
		free(slug);
	buf_adds(b, ",\"description\":");
	jsonw_str(b, r->description);
	buf_adds(b, ",\"read_access\":");
	jsonw_str(b, r->read_access ? r->read_access : META_ACCESS_TEAM);
	buf_adds(b, ",\"shared_team_slugs\":");
	write_strings(b, r->shared_with, r->nshared);
	buf_adds(b, reader != NULL && strcmp(reader, r->account_id) != 0
			    ? ",\"shared\":true,\"folder_id\":"
			    : ",\"shared\":false,\"folder_id\":");
	if (r->folder_id > 0)
		buf_add_i64(b, r->folder_id);
	else
		buf_adds(b, "null");
	buf_adds(b, r->test_enabled ? ",\"test_resource_enabled\":true,\"test_resource\":"
				    : ",\"test_resource_enabled\":false,\"test_resource\":");
	if (!r->test_enabled) {
		buf_adds(b, "null");
		return;
	}
	buf_adds(b, "{\"sha256\":");
	jsonw_str(b, r->test.sha256[0] ? r->test.sha256 : NULL);
	buf_adds(b, ",\"size_bytes\":");
	buf_add_i64(b, r->test.size_bytes);
	buf_adds(b, ",\"mime_type\":");
	jsonw_str(b, r->test.mime_type);
	buf_adds(b, ",\"storage_bucket\":");
	jsonw_str(b, r->test.storage_bucket);
	buf_adds(b, ",\"storage_key\":");
	jsonw_str(b, r->test.storage_key);
	buf_adds(b, "}");
}

void api_resource_write(struct buf *b, const struct meta_resource *r, const char *reader,
			const char *extra)
{
	char created[TIMEFMT_LEN], updated[TIMEFMT_LEN];
	time_format_us(r->created_at_us, created);
	if (r->updated_at_us == r->created_at_us) /* a row never changed: most of a list */
		memcpy(updated, created, TIMEFMT_LEN);
	else
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
	buf_adds(b, ",\"size_bytes\":");
	buf_add_i64(b, r->size_bytes);
	buf_adds(b, ",\"tags\":");
	write_strings(b, r->tags, r->ntags);
	buf_adds(b, ",\"metadata\":");
	buf_adds(b, r->metadata_json ? r->metadata_json : "null");
	buf_adds(b, ",\"created_by\":");
	jsonw_str(b, r->created_by);
	buf_adds(b, ",\"created_at\":\"");
	buf_add(b, created, TIMEFMT_LEN - 1);
	buf_adds(b, "\",\"updated_at\":\"");
	buf_add(b, updated, TIMEFMT_LEN - 1);
	buf_adds(b, "\",\"status\":");
	jsonw_str(b, r->status ? r->status : "uploaded");
	buf_adds(b, ",\"version\":");
	buf_add_i64(b, r->version);
	write_capabilities(b, r, reader);
	if (extra != NULL)
		buf_adds(b, extra);
	buf_add(b, "}", 1);
}

void api_resource_respond(struct api_ctx *c, int status, const struct meta_resource *r,
			  const char *extra)
{
	struct buf b;
	buf_init(&b, 1024);
	api_resource_write(&b, r, c->who ? c->who->account_id : NULL, extra);
	api_buf_respond(c, status, &b);
}
