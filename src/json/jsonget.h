/* Strict typed getters over jansson objects: a wrong type or an embedded NUL is an error that
 * names the field. */
#ifndef DEPOT_JSONGET_H
#define DEPOT_JSONGET_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/pool.h"

/* Parses body as a JSON object (duplicate keys refused). ERR_INVALID naming the problem. */
enum err_code jsonget_object(const char *body, size_t len, json_t **out, struct err *e)
	__attribute__((warn_unused_result));

/* Field `key` of obj as a string. Absent (or null, when null_is_absent): *present = false and
 * ERR_OK, or ERR_INVALID when required. null otherwise is ERR_INVALID. */
enum err_code jsonget_string(json_t *obj, const char *key, bool required, bool null_is_absent,
			     const char **out, size_t *len, bool *present, struct err *e)
	__attribute__((warn_unused_result));

/* Field `key` as an array of strings; strings are borrowed from obj. null is ERR_INVALID. */
enum err_code jsonget_string_array(json_t *obj, const char *key, struct pool *pool,
				   const char ***out, size_t *n, bool *present, struct err *e)
	__attribute__((warn_unused_result));

/* Field `key` as an object or null, returned as compact JSON text (pool) or NULL for null, and
 * at most max_bytes long. */
enum err_code jsonget_object_text(json_t *obj, const char *key, size_t max_bytes,
				  struct pool *pool, const char **out, bool *present,
				  struct err *e) __attribute__((warn_unused_result));

/* Field `key` as a boolean. Absent: *present = false. null or another type is ERR_INVALID. */
enum err_code jsonget_bool(json_t *obj, const char *key, bool *out, bool *present, struct err *e)
	__attribute__((warn_unused_result));

/* Field `key` as an integer from min to max. Absent: *present = false; with null_ok, null is
 * present with *is_null set; anything else is ERR_INVALID. */
enum err_code jsonget_int(json_t *obj, const char *key, int64_t min, int64_t max, bool null_ok,
			  int64_t *out, bool *is_null, bool *present, struct err *e)
	__attribute__((warn_unused_result));

#endif
