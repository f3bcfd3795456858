/* Path pattern matching for the route table. */
#include "http/http.h"

#include <string.h>

bool http_route_match(const char *pattern, const char *path, struct pool *pool,
		      const char *params[HTTP_MAX_PARAMS])
{
	int n = 0;
	const char *p = pattern, *s = path;
	while (*p && *s) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			const char *end = strchr(s, '/');
			size_t len = end ? (size_t)(end - s) : strlen(s);
			if (close == NULL || len == 0 || n == HTTP_MAX_PARAMS)
				return false;
			params[n++] = pool_strndup(pool, s, len);
			p = close + 1;
			s += len;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	return *p == '\0' && *s == '\0';
}
