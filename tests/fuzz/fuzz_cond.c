/* Conditional and partial request headers: Range (http_range_parse), If-None-Match / If-Range
 * entity-tag lists (http_etag_list_match) and If-Match (api_if_match). Input: 8 bytes of size
 * (reduced to small sizes mostly), then NUL-separated Range, tag list and If-Match values.
 * Invariants: a satisfiable range lies inside the body and is not empty; "bytes=A-B" written
 * from numbers is understood exactly; a tag list matches exactly when one of its elements is
 * "*" or the tag (W/ ignored); If-Match yields a lowercase sha256, a positive version or
 * "matches nothing". */
#include "fuzz.h"
#include "api/api.h"
#include "http/http.h"

#include <inttypes.h>

static uint64_t pick_size(uint64_t raw)
{
	switch (raw & 3) {
	case 0:
		return 0;
	case 1:
		return (raw >> 2) % 16;
	case 2:
		return (raw >> 2) % 100000;
	default:
		return raw >> 2;
	}
}

static void check_range(const char *h, uint64_t size)
{
	uint64_t start = 7, len = 7;
	enum http_range r = http_range_parse(h, size, &start, &len);
	if (r == HTTP_RANGE_OK) {
		FZ_CHECK(len >= 1 && start < size && len <= size - start,
			 "%s on %" PRIu64 ": start %" PRIu64 " len %" PRIu64, h, size, start, len);
	} else if (r == HTTP_RANGE_UNSATISFIABLE) {
		FZ_CHECK(strncmp(h, "bytes=", 6) == 0, "%s unsatisfiable", h);
	}
}

/* "bytes=A-B", "bytes=A-" and "bytes=-N" from numbers: the answer RFC 9110 gives. */
static void check_written_range(uint64_t a, uint64_t b, uint64_t size, unsigned form)
{
	char h[80];
	uint64_t start = 7, len = 7;
	enum http_range r;
	if (form % 3 == 0 && a <= b) {
		snprintf(h, sizeof(h), "bytes=%" PRIu64 "-%" PRIu64, a, b);
		r = http_range_parse(h, size, &start, &len);
		if (a >= size) {
			FZ_CHECK(r == HTTP_RANGE_UNSATISFIABLE, "%s on %" PRIu64, h, size);
		} else {
			uint64_t last = b < size ? b : size - 1;
			FZ_CHECK(r == HTTP_RANGE_OK && start == a && len == last - a + 1,
				 "%s on %" PRIu64, h, size);
		}
	} else if (form % 3 == 1) {
		snprintf(h, sizeof(h), "bytes=%" PRIu64 "-", a);
		r = http_range_parse(h, size, &start, &len);
		if (a >= size)
			FZ_CHECK(r == HTTP_RANGE_UNSATISFIABLE, "%s on %" PRIu64, h, size);
		else
			FZ_CHECK(r == HTTP_RANGE_OK && start == a && len == size - a, "%s", h);
	} else {
		snprintf(h, sizeof(h), "bytes=-%" PRIu64, b);
		r = http_range_parse(h, size, &start, &len);
		if (b == 0 || size == 0) {
			FZ_CHECK(r == HTTP_RANGE_UNSATISFIABLE, "%s on %" PRIu64, h, size);
		} else {
			uint64_t n = b < size ? b : size;
			FZ_CHECK(r == HTTP_RANGE_OK && start == size - n && len == n, "%s", h);
		}
	}
}

/* The list's elements, split on ',' and trimmed of spaces, compared as the RFC says. */
static bool reference_match(const char *list, const char *etag)
{
	const char *p = list;
	while (*p) {
		size_t n = strcspn(p, ",");
		size_t a = 0, b = n;
		while (a < b && p[a] == ' ')
			a++;
		while (b > a && p[b - 1] == ' ')
			b--;
		const char *t = p + a;
		size_t tl = b - a;
		if (tl == 1 && *t == '*')
			return true;
		if (tl >= 2 && t[0] == 'W' && t[1] == '/') {
			t += 2;
			tl -= 2;
		}
		if (tl == strlen(etag) && memcmp(t, etag, tl) == 0)
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

static void check_if_match(const char *h, struct pool *pool)
{
	struct meta_cond c;
	api_if_match(h, pool, &c);
	if (c.sha256 != NULL) {
		FZ_CHECK(strlen(c.sha256) == 64 && strspn(c.sha256, "0123456789abcdef") == 64,
			 "sha256 %s", c.sha256);
		FZ_CHECK(c.version == 0, "both a version and a sha256");
	} else {
		FZ_CHECK(c.version == 0 || c.version == -1 || c.version > 0, "version");
	}
	/* A quoted version and a quoted sha256 are read exactly. */
	char q[80];
	snprintf(q, sizeof(q), "\"%" PRIu64 "\"", (uint64_t)strlen(h) + 1);
	api_if_match(q, pool, &c);
	FZ_CHECK(c.version == (int64_t)strlen(h) + 1 && c.sha256 == NULL, "%s", q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	struct pool pool;
	pool_init(&pool);
	uint64_t raw = fz_u64(&f, 8);
	uint64_t sz = pick_size(raw);
	const char *range = fz_cstr(&f, &pool, NULL);
	const char *list = fz_cstr(&f, &pool, NULL);
	const char *if_match = fz_cstr(&f, &pool, NULL);
	check_range(range, sz);
	uint64_t a = fz_u64(&f, 3), b = fz_u64(&f, 3);
	check_written_range(a, b, sz, (unsigned)(raw >> 61));
	static const char etag[] =
		"\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"";
	FZ_CHECK(http_etag_list_match(list, etag) == reference_match(list, etag), "list %s", list);
	FZ_CHECK(http_etag_list_match(etag, etag), "a tag matches itself");
	check_if_match(if_match, &pool);
	pool_cleanup(&pool);
	return 0;
}
