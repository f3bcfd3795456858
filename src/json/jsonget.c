/* Typed access to request bodies. */
#include "json/jsonget.h"

#include <stdlib.h>
#include <string.h>

enum err_code jsonget_object(const char *body, size_t len, json_t **out, struct err *e)
{
	if (body == NULL || len == 0)
		return err_set(e, ERR_INVALID, "request body must be a JSON object");
	json_error_t je;
	json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (v == NULL)
		return err_set(e, ERR_INVALID, "malformed JSON at line %d column %d: %s", je.line,
			       je.column, je.text);
	if (!json_is_object(v)) {
		json_decref(v);
		return err_set(e, ERR_INVALID, "request body must be a JSON object");
	}
	*out = v;
	return ERR_OK;
}

enum err_code jsonget_string(json_t *obj, const char *key, bool required, bool null_is_absent,
			     const char **out, size_t *len, bool *present, struct err *e)
{
	json_t *v = json_object_get(obj, key);
	*present = false;
	if (v == NULL || (null_is_absent && json_is_null(v))) {
		if (required)
			return err_set(e, ERR_INVALID, "%s is required", key);
		return ERR_OK;
	}
	if (!json_is_string(v))
		return err_set(e, ERR_INVALID, "%s must be a string", key);
	size_t n = json_string_length(v);
	const char *s = json_string_value(v);
	if (strlen(s) != n)
		return err_set(e, ERR_INVALID, "%s must not contain NUL characters", key);
	*out = s;
	*len = n;
	*present = true;
	return ERR_OK;
}

enum err_code jsonget_string_array(json_t *obj, const char *key, struct pool *pool,
				   const char ***out, size_t *n, bool *present, struct err *e)
{
	json_t *v = json_object_get(obj, key);
	*present = false;
	*n = 0;
	*out = NULL;
	if (v == NULL)
		return ERR_OK;
	if (!json_is_array(v))
		return err_set(e, ERR_INVALID, "%s must be an array of strings", key);
	size_t count = json_array_size(v);
	const char **items = pool_alloc(pool, (count ? count : 1) * sizeof(*items));
	for (size_t i = 0; i < count; i++) {
		json_t *item = json_array_get(v, i);
		if (!json_is_string(item))
			return err_set(e, ERR_INVALID, "%s must be an array of strings", key);
		if (strlen(json_string_value(item)) != json_string_length(item))
			return err_set(e, ERR_INVALID, "%s must not contain NUL characters", key);
		items[i] = json_string_value(item);
	}
	*out = items;
	*n = count;
	*present = true;
	return ERR_OK;
}

enum err_code jsonget_object_text(json_t *obj, const char *key, size_t max_bytes,
				  struct pool *pool, const char **out, bool *present,
				  struct err *e)
{
	json_t *v = json_object_get(obj, key);
	*present = v != NULL;
	*out = NULL;
	if (v == NULL || json_is_null(v))
		return ERR_OK;
	if (!json_is_object(v))
		return err_set(e, ERR_INVALID, "%s must be a JSON object or null", key);
	char *text = json_dumps(v, JSON_COMPACT);
	if (text == NULL)
		return err_set(e, ERR_INVALID, "%s cannot be serialised", key);
	size_t len = strlen(text);
	if (len > max_bytes) {
		free(text);
		return err_set(e, ERR_INVALID, "%s is larger than %zu bytes", key, max_bytes);
	}
	*out = pool_strndup(pool, text, len);
	free(text);
	return ERR_OK;
}

enum err_code jsonget_bool(json_t *obj, const char *key, bool *out, bool *present, struct err *e)
{
	json_t *v = json_object_get(obj, key);
	*present = v != NULL;
	if (v == NULL)
		return ERR_OK;
	if (!json_is_boolean(v))
		return err_set(e, ERR_INVALID, "%s must be true or false", key);
	*out = json_is_true(v);
	return ERR_OK;
}

enum err_code jsonget_int(json_t *obj, const char *key, int64_t min, int64_t max, bool null_ok,
			  int64_t *out, bool *is_null, bool *present, struct err *e)
{
	json_t *v = json_object_get(obj, key);
	*present = v != NULL;
	*is_null = v != NULL && json_is_null(v);
	if (v == NULL || (null_ok && *is_null))
		return ERR_OK;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return err_set(e, ERR_INVALID, "%s must be an integer from %lld to %lld%s", key,
			       (long long)min, (long long)max, null_ok ? ", or null" : "");
	*out = (int64_t)json_integer_value(v);
	return ERR_OK;
}
