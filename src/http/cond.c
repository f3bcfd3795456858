/* Parsers for conditional and partial requests: Range (one range) and entity-tag lists. Pure. */
#include "http/http.h"

#include <string.h>

static bool parse_u64(const char *s, size_t n, uint64_t *out)
{
	if (n == 0 || n > 19)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

enum http_range http_range_parse(const char *h, uint64_t size, uint64_t *start, uint64_t *len)
{
	if (h == NULL || strncmp(h, "bytes=", 6) != 0)
		return HTTP_RANGE_NONE;
	const char *spec = h + 6;
	while (*spec == ' ')
		spec++;
	size_t n = strlen(spec);
	while (n > 0 && spec[n - 1] == ' ')
		n--;
	if (memchr(spec, ',', n) != NULL)
		return HTTP_RANGE_NONE; /* several ranges: the whole content instead */
	const char *dash = memchr(spec, '-', n);
	if (dash == NULL)
		return HTTP_RANGE_NONE;
	size_t a_len = (size_t)(dash - spec), b_len = n - a_len - 1;
	uint64_t a, b;
	if (a_len == 0) { /* bytes=-N: the last N bytes */
		if (!parse_u64(dash + 1, b_len, &b))
			return HTTP_RANGE_NONE;
		if (b == 0 || size == 0)
			return HTTP_RANGE_UNSATISFIABLE;
		*len = b < size ? b : size;
		*start = size - *len;
		return HTTP_RANGE_OK;
	}
	if (!parse_u64(spec, a_len, &a))
		return HTTP_RANGE_NONE;
	if (b_len == 0) {
		b = UINT64_MAX;
	} else if (!parse_u64(dash + 1, b_len, &b) || b < a) {
		return HTTP_RANGE_NONE;
	}
	if (a >= size)
		return HTTP_RANGE_UNSATISFIABLE;
	if (b >= size)
		b = size - 1;
	*start = a;
	*len = b - a + 1;
	return HTTP_RANGE_OK;
}

bool http_etag_list_match(const char *h, const char *etag)
{
	if (h == NULL)
		return false;
	size_t elen = strlen(etag);
	const char *p = h;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		size_t n = strcspn(p, ",");
		size_t m = n;
		while (m > 0 && p[m - 1] == ' ')
			m--;
		if (m == 1 && p[0] == '*')
			return true;
		const char *t = p;
		size_t tl = m;
		if (tl >= 2 && t[0] == 'W' && t[1] == '/') { /* weak comparison */
			t += 2;
			tl -= 2;
		}
		if (tl == elen && memcmp(t, etag, elen) == 0)
			return true;
		p += n;
	}
	return false;
}
