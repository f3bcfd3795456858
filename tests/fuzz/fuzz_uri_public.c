/* fetch_uri_public (fetch/fetch.c), what a uri create stores as original_uri, on arbitrary
 * bytes. Invariants: nothing is added (the result is never longer, and the same string when
 * nothing was taken out); the scheme and path survive; no user info is left in the authority;
 * no query parameter left names a credential (decoded independently here), and no fragment is
 * left; and a second pass changes nothing. */
#include "fuzz.h"
#include "fetch/fetch.h"

#include <ctype.h>
#include <strings.h>

static int hexval(char c)
{
	return isxdigit((unsigned char)c) ? (isdigit((unsigned char)c) ? c - '0'
								 : (c | 0x20) - 'a' + 10)
					  : -1;
}

static bool names_credential(const char *p, size_t n)
{
	static const char *const names[] = {
		"sig", "signature", "x-amz-signature", "x-amz-credential", "x-amz-security-token",
		"awsaccesskeyid", "x-goog-signature", "x-goog-credential", "googleaccessid",
		"access_token",
	};
	char plain[64];
	size_t k = 0;
	for (size_t i = 0; i < n && k + 1 < sizeof(plain); i++) {
		if (p[i] == '%' && i + 2 < n && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
			plain[k++] = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
			i += 2;
		} else {
			plain[k++] = p[i];
		}
	}
	plain[k] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(plain, names[i]) == 0)
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pool pool;
	pool_init(&pool);
	struct fz f = {data, size};
	size_t len;
	const char *uri = fz_cstr(&f, &pool, &len);
	const char *out = fetch_uri_public(uri, &pool);
	FZ_CHECK(out != NULL && strlen(out) <= len, "grew: %s", out);

	const char *sep = strstr(uri, "://");
	size_t head = sep != NULL ? (size_t)(sep + 3 - uri) : 0;
	FZ_CHECK(strncmp(out, uri, head) == 0, "scheme changed: %s", out);
	const char *auth = out + head;
	size_t alen = strcspn(auth, "/?#");
	FZ_CHECK(memchr(auth, '@', alen) == NULL, "user info kept: %s", out);

	FZ_CHECK(strchr(auth, '#') == NULL, "fragment kept: %s", out);
	const char *q = strchr(auth, '?'), *hash = strchr(auth, '#');
	if (q != NULL && (hash == NULL || q < hash)) {
		const char *end = q + 1 + strcspn(q + 1, "#");
		for (const char *p = q + 1; p < end;) {
			size_t n = (size_t)(end - p), amp = strcspn(p, "&");
			if (amp < n)
				n = amp;
			size_t name = strcspn(p, "=&");
			FZ_CHECK(!names_credential(p, name < n ? name : n), "kept: %s", out);
			p += n + 1;
		}
	}
	if (strcmp(out, uri) != 0)
		FZ_CHECK(strlen(out) < len, "changed but not shorter: %s", out);
	FZ_CHECK(strcmp(fetch_uri_public(out, &pool), out) == 0, "second pass changed %s", out);
	pool_cleanup(&pool);
	return 0;
}
