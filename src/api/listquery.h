/* The query string of GET /v1/resources, parsed into a meta_query. Pure: the query arguments
 * come through a getter so tests and fuzzers call it directly. */
#ifndef DEPOT_API_LISTQUERY_H
#define DEPOT_API_LISTQUERY_H

#include "api/validate.h"
#include "core/err.h"
#include "core/pool.h"
#include "meta/meta.h"

typedef const char *(*listquery_get_fn)(void *ctx, const char *name);

#define LISTQUERY_MAX_PAGE 1000000000LL
#define LISTQUERY_CURSOR_MAX 128

/* Writes the opaque cursor that continues after (created_us, id) in sort order. */
void listquery_cursor_encode(enum meta_sort sort, int64_t created_us, const char *id,
			     char out[LISTQUERY_CURSOR_MAX]);

/* Fills q (all but account_id) and *page / *page_size from the arguments, status and cursor
 * included. ERR_INVALID naming
 * the parameter on any malformed or out-of-range value. */
enum err_code listquery_parse(listquery_get_fn get, void *ctx, const struct limits *l,
			      struct pool *pool, struct meta_query *q, int64_t *page,
			      int64_t *page_size, struct err *e) __attribute__((warn_unused_result));

#endif
