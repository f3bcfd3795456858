/* The route table (api/routes.c through http/router.c) on any path and method. Invariants: a
 * matched route's pattern, its {x} replaced by the captured parameters, is the path itself;
 * parameters are non-empty and hold no '/'; the matched route's method is in the Allow list a
 * method no route takes gets for the same path; no route means either no pattern matched (404)
 * or the method is not allowed (405, with an Allow list). */
#include "fuzz.h"
#include "api/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum http_method methods[] = {HTTP_GET,   HTTP_HEAD,   HTTP_POST, HTTP_PUT,
						   HTTP_PATCH, HTTP_DELETE, HTTP_OTHER};
	if (size == 0)
		return 0;
	enum http_method m = methods[data[0] % (sizeof(methods) / sizeof(methods[0]))];
	struct pool pool;
	pool_init(&pool);
	const char *path = pool_strndup(&pool, (const char *)data + 1, size - 1);
	const char *params[HTTP_MAX_PARAMS] = {0};
	unsigned allowed = 99;
	const struct route *r = api_route_find(m, path, &pool, params, &allowed);
	if (r == NULL) {
		FZ_CHECK(!(allowed & m), "method %d allowed but no route", (int)m);
		pool_cleanup(&pool);
		return 0;
	}
	const char *other[HTTP_MAX_PARAMS] = {0};
	unsigned all = 0;
	FZ_CHECK(api_route_find(HTTP_OTHER, path, &pool, other, &all) == NULL && (all & m),
		 "route without its method among the allowed");
	/* Rebuild the path from the pattern and the parameters. */
	const char *pat = api_route_pattern(r);
	char rebuilt[8192];
	size_t n = 0;
	int k = 0;
	for (const char *p = pat; *p && n < sizeof(rebuilt) - 1;) {
		if (*p == '{') {
			FZ_CHECK(k < HTTP_MAX_PARAMS && params[k] != NULL, "missing parameter");
			FZ_CHECK(params[k][0] != '\0' && !strchr(params[k], '/'), "parameter %s",
				 params[k]);
			n += (size_t)snprintf(rebuilt + n, sizeof(rebuilt) - n, "%s", params[k++]);
			p = strchr(p, '}') + 1;
		} else {
			rebuilt[n++] = *p++;
		}
	}
	rebuilt[n < sizeof(rebuilt) ? n : sizeof(rebuilt) - 1] = '\0';
	FZ_CHECK(n >= sizeof(rebuilt) - 1 || strcmp(rebuilt, path) == 0, "%s rebuilt as %s",
		 path, rebuilt);
	pool_cleanup(&pool);
	return 0;
}
