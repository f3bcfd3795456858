/* The update body (PUT/PATCH /v1/resources/{id}, and the dialects') as resources.c reads it:
 * jansson, then the field rules, every field asked for (UPD_ALL). Invariants: what is accepted
 * is normalised — the name is what the body said, the directory path is canonical (validating
 * it again gives it back), tags and shared team slugs are sorted and distinct, metadata is a
 * compact JSON object within its limit, read_access is one of the three modes, the description
 * is the body's (within its limit), a folder_id is recorded as given and only without a
 * directory_path, test_resource_enabled is the body's boolean. */
#include "fuzz.h"
#include "api/api.h"
#include "json/jsonget.h"
#include "meta/meta.h"

static void check_path(const char *path)
{
	struct pool pool;
	pool_init(&pool);
	struct err e = {0};
	const char *again = NULL;
	FZ_CHECK(path[0] == '/', "path %s", path);
	FZ_CHECK(validate_directory_path(path, strlen(path), &test_limits, &pool, &again, &e) ==
			 ERR_OK,
		 "normalised path %s refused: %s", path, e.msg);
	FZ_CHECK(strcmp(again, path) == 0, "normalising %s gives %s", path, again);
	pool_cleanup(&pool);
}

static void check_sorted(const char **tags, size_t n)
{
	for (size_t i = 1; i < n; i++)
		FZ_CHECK(strcmp(tags[i - 1], tags[i]) < 0, "%s not sorted and distinct", tags[i]);
}

/* description, sharing, folder and test flag: the fields the dialects brought. */
static void check_capabilities(json_t *body, const struct meta_update *u, int64_t folder_id)
{
	json_t *d = json_object_get(body, "description");
	FZ_CHECK(u->set_description == (d != NULL), "set_description");
	if (u->description != NULL)
		FZ_CHECK(json_is_string(d) && strcmp(json_string_value(d), u->description) == 0 &&
				 json_string_length(d) <= test_limits.max_description_bytes,
			 "description differs or is too long");
	if (u->set_read_access)
		FZ_CHECK(strcmp(u->read_access, META_ACCESS_TEAM) == 0 ||
				 strcmp(u->read_access, META_ACCESS_GLOBAL) == 0 ||
				 strcmp(u->read_access, META_ACCESS_SPECIFIC) == 0,
			 "read_access %s", u->read_access);
	if (u->set_shared_with)
		check_sorted(u->shared_with, u->nshared);
	json_t *fid = json_object_get(body, "folder_id");
	if (fid != NULL) {
		FZ_CHECK(json_object_get(body, "directory_path") == NULL,
			 "folder_id and directory_path both accepted");
		FZ_CHECK(u->set_directory_path, "folder_id without a place");
		FZ_CHECK(json_is_null(fid) ? folder_id == 0 && strcmp(u->directory_path, "/") == 0
					   : folder_id == json_integer_value(fid) && folder_id > 0,
			 "folder_id %lld recorded as %lld", (long long)json_integer_value(fid),
			 (long long)folder_id);
	} else {
		FZ_CHECK(folder_id == 0, "a folder without folder_id");
	}
	json_t *t = json_object_get(body, "test_resource_enabled");
	FZ_CHECK(u->set_test_enabled == (t != NULL), "set_test_enabled");
	if (t != NULL)
		FZ_CHECK(json_is_boolean(t) && u->test_enabled == json_is_true(t), "test flag");
}

static void check_metadata(const char *text)
{
	if (text == NULL)
		return;
	FZ_CHECK(strlen(text) <= test_limits.max_metadata_bytes, "metadata too large");
	json_t *m = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	FZ_CHECK(json_is_object(m), "metadata is not an object: %s", text);
	char *again = json_dumps(m, JSON_COMPACT);
	FZ_CHECK(again != NULL && strcmp(again, text) == 0, "metadata is not compact: %s", text);
	free(again);
	json_decref(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pool pool;
	struct err e = {0};
	json_t *body = NULL;
	struct meta_update u;
	int64_t folder_id;
	pool_init(&pool);
	enum err_code rc = jsonget_object((const char *)data, size, &body, &e);
	if (rc == ERR_OK)
		rc = api_update_parse(body, UPD_ALL, &test_limits, &pool, &u, &folder_id, &e);
	FZ_CHECK(rc == ERR_OK || rc == ERR_INVALID, "code %d", (int)rc);
	FZ_CHECK(rc == ERR_OK || e.msg[0] != '\0', "error without a message");
	if (rc == ERR_OK) {
		if (u.set_name) {
			json_t *n = json_object_get(body, "name");
			FZ_CHECK(strcmp(json_string_value(n), u.name) == 0, "name differs");
			FZ_CHECK(strlen(u.name) == json_string_length(n), "name truncated");
		}
		if (u.set_directory_path)
			check_path(u.directory_path);
		if (u.set_tags) {
			FZ_CHECK(u.ntags <= test_limits.max_tags, "%zu tags", u.ntags);
			check_sorted(u.tags, u.ntags);
		}
		if (u.set_metadata)
			check_metadata(u.metadata_json);
		check_capabilities(body, &u, folder_id);
	}
	json_decref(body);
	pool_cleanup(&pool);
	return 0;
}
