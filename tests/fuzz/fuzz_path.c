/* Names, directory paths and tags (api/validate.c) on arbitrary bytes. The first byte picks the
 * rule. Invariants: an accepted name is valid UTF-8 without '/', control characters, "." or
 * ".."; a normalised path starts with '/', has no empty, "." or ".." segment, no trailing '/'
 * (but the root), equals the input up to one leading and one trailing '/', and normalises to
 * itself; tags come out sorted and distinct, each one of the inputs. */
#include "fuzz.h"
#include "core/text.h"

static void check_name(const char *s, size_t len)
{
	struct err e = {0};
	if (validate_name(s, len, &test_limits, &e) != ERR_OK) {
		FZ_CHECK(e.msg[0] != '\0', "no message");
		return;
	}
	FZ_CHECK(len >= 1 && len <= test_limits.max_name_bytes, "length %zu", len);
	FZ_CHECK(text_utf8_valid(s, len) && !text_has_control(s, len), "bad bytes accepted");
	FZ_CHECK(memchr(s, '/', len) == NULL, "'/' accepted");
	FZ_CHECK(!(len == 1 && s[0] == '.') && !(len == 2 && s[0] == '.' && s[1] == '.'),
		 "dot name accepted");
}

static void check_path(const char *s, size_t len, struct pool *pool)
{
	struct err e = {0};
	const char *norm = NULL, *again = NULL;
	if (validate_directory_path(s, len, &test_limits, pool, &norm, &e) != ERR_OK) {
		FZ_CHECK(e.msg[0] != '\0', "no message");
		return;
	}
	size_t n = strlen(norm);
	FZ_CHECK(norm[0] == '/', "%s", norm);
	FZ_CHECK(n == 1 || norm[n - 1] != '/', "trailing slash in %s", norm);
	FZ_CHECK(strstr(norm, "//") == NULL, "empty segment in %s", norm);
	FZ_CHECK(strstr(norm, "/./") == NULL && strstr(norm, "/../") == NULL, "dot segment");
	FZ_CHECK(strcmp(norm, "/.") != 0 && strcmp(norm, "/..") != 0, "dot segment");
	FZ_CHECK(n < 2 || strcmp(norm + n - 2, "/.") != 0, "dot segment at the end");
	FZ_CHECK(n < 3 || strcmp(norm + n - 3, "/..") != 0, "dot segment at the end");
	FZ_CHECK(n <= len + 1, "normalised %s is longer than the input", norm);
	/* The input is the normalised path up to one leading and one trailing slash. */
	const char *p = s;
	size_t m = len;
	if (m > 0 && p[0] == '/') {
		p++;
		m--;
	}
	if (m > 0 && p[m - 1] == '/')
		m--;
	FZ_CHECK(m == n - 1 && memcmp(p, norm + 1, m) == 0, "input and %s differ", norm);
	FZ_CHECK(validate_directory_path(norm, n, &test_limits, pool, &again, &e) == ERR_OK &&
			 strcmp(again, norm) == 0,
		 "%s does not normalise to itself", norm);
}

static void check_tags(const char *s, size_t len, struct pool *pool)
{
	const char *in[64];
	size_t n = 0;
	struct fz f = {(const uint8_t *)s, len};
	while (f.n > 0 && n < 64)
		in[n++] = fz_cstr(&f, pool, NULL);
	const char **out;
	size_t nout;
	struct err e = {0};
	if (validate_tags(in, n, &test_limits, "tags", pool, &out, &nout, &e) != ERR_OK) {
		FZ_CHECK(e.msg[0] != '\0', "no message");
		return;
	}
	FZ_CHECK(nout <= n && nout <= test_limits.max_tags, "%zu tags out of %zu", nout, n);
	for (size_t i = 0; i < nout; i++) {
		FZ_CHECK(i == 0 || strcmp(out[i - 1], out[i]) < 0, "not sorted and distinct");
		bool found = false;
		for (size_t k = 0; k < n && !found; k++)
			found = strcmp(in[k], out[i]) == 0;
		FZ_CHECK(found, "tag %s is not one of the inputs", out[i]);
		FZ_CHECK(strchr(out[i], ',') == NULL, "comma in a tag");
	}
	for (size_t k = 0; k < n; k++) {
		bool found = false;
		for (size_t i = 0; i < nout && !found; i++)
			found = strcmp(in[k], out[i]) == 0;
		FZ_CHECK(found, "input tag %s was lost", in[k]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	struct pool pool;
	pool_init(&pool);
	const char *s = (const char *)data + 1;
	size_t len = size - 1;
	switch (data[0] % 3) {
	case 0:
		check_name(s, len);
		break;
	case 1:
		check_path(s, len, &pool);
		break;
	default:
		check_tags(s, len, &pool);
		break;
	}
	pool_cleanup(&pool);
	return 0;
}
