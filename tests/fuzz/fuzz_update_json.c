/* The update body (PUT/PATCH /v1/resources/{id}) as resources.c reads it: jansson, then the
 * field rules. Invariants: what is accepted is normalised — the name is what the body said, the
 * directory path is canonical (validating it again gives it back), tags are sorted and distinct,
 * metadata is a compact JSON object within its limit. */
#include "fuzz.h"
#include "api/api.h"
#include "json/jsonget.h"

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

static void check_tags(const char **tags, size_t n)
{
	FZ_CHECK(n <= test_limits.max_tags, "%zu tags", n);
	for (size_t i = 1; i < n; i++)
		FZ_CHECK(strcmp(tags[i - 1], tags[i]) < 0, "tags not sorted and distinct");
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
	pool_init(&pool);
	enum err_code rc = jsonget_object((const char *)data, size, &body, &e);
	if (rc == ERR_OK)
		rc = api_update_parse(body, &test_limits, &pool, &u, &e);
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
		if (u.set_tags)
			check_tags(u.tags, u.ntags);
		if (u.set_metadata)
			check_metadata(u.metadata_json);
	}
	json_decref(body);
	pool_cleanup(&pool);
	return 0;
}
