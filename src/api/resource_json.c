/* The Resource as JSON: every property of the seed schema, nullable ones as null. */
#include "api/api.h"
#include "core/timefmt.h"

static json_t *str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

json_t *api_resource_json(const struct meta_resource *r)
{
	char created[TIMEFMT_LEN], updated[TIMEFMT_LEN];
	time_format_us(r->created_at_us, created);
	time_format_us(r->updated_at_us, updated);
	json_t *tags = json_array();
	for (size_t i = 0; i < r->ntags; i++)
		json_array_append_new(tags, json_string(r->tags[i]));
	json_t *metadata = r->metadata_json ? json_loads(r->metadata_json, 0, NULL) : NULL;
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(r->id));
	json_object_set_new(o, "account_id", json_string(r->account_id));
	json_object_set_new(o, "name", json_string(r->name));
	json_object_set_new(o, "directory_path", json_string(r->directory_path));
	json_object_set_new(o, "mime_type", json_string(r->mime_type));
	json_object_set_new(o, "sha256", r->sha256[0] ? json_string(r->sha256) : json_null());
	json_object_set_new(o, "original_uri", str_or_null(r->original_uri));
	json_object_set_new(o, "external_id", str_or_null(r->external_id));
	json_object_set_new(o, "external_storage_type", str_or_null(r->external_storage_type));
	json_object_set_new(o, "storage_bucket", json_string(r->storage_bucket));
	json_object_set_new(o, "storage_key",
			    r->storage_key && *r->storage_key ? json_string(r->storage_key) : json_null());
	json_object_set_new(o, "size_bytes", json_integer(r->size_bytes));
	json_object_set_new(o, "tags", tags);
	json_object_set_new(o, "metadata", metadata ? metadata : json_null());
	json_object_set_new(o, "created_by", str_or_null(r->created_by));
	json_object_set_new(o, "created_at", json_string(created));
	json_object_set_new(o, "updated_at", json_string(updated));
	json_object_set_new(o, "status", json_string(r->status ? r->status : "uploaded"));
	json_object_set_new(o, "version", json_integer(r->version));
	return o;
}
