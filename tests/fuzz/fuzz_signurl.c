/* Signed-URL verification (auth/signurl.c) on the query values a client controls. Input: a
 * clock offset byte, then NUL-separated method, path, acct, expires and sig. Invariants: a
 * verified URL carries exactly the signature depot computes for its fields, a decimal expiry
 * without leading zeros in the future, and no '\n' in path or account; a URL depot signs for
 * those fields verifies (until it expires) and stops verifying when any one character of its
 * signature changes. */
#include "fuzz.h"
#include "auth/signurl.h"

#define KEY "fuzz-url-key-0123456789abcdef012"
#define NOW 1700000000

static bool verify(const char *m, const char *path, const char *acct, const char *exp,
		   const char *sig, int64_t now, int64_t *expires)
{
	struct err e = {0};
	enum err_code rc = signurl_verify((const unsigned char *)KEY, strlen(KEY), m, path, acct,
					  exp, sig, now, expires, &e);
	FZ_CHECK(rc == ERR_OK || (rc == ERR_FORBIDDEN && e.msg[0]), "code %d", (int)rc);
	return rc == ERR_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	struct pool pool;
	pool_init(&pool);
	int64_t now = NOW + (int8_t)fz_byte(&f) * 1000;
	const char *m = fz_cstr(&f, &pool, NULL);
	const char *path = fz_cstr(&f, &pool, NULL);
	const char *acct = f.n ? fz_cstr(&f, &pool, NULL) : NULL;
	const char *exp = f.n ? fz_cstr(&f, &pool, NULL) : NULL;
	const char *sig = f.n ? fz_cstr(&f, &pool, NULL) : NULL;
	int64_t expires = 0;
	if (verify(m, path, acct, exp, sig, now, &expires)) {
		char want[SIGNURL_SIG_LEN + 1], text[32];
		signurl_sign((const unsigned char *)KEY, strlen(KEY), m, path, acct, expires, want);
		FZ_CHECK(strcmp(sig, want) == 0, "accepted sig %s, want %s", sig, want);
		snprintf(text, sizeof(text), "%lld", (long long)expires);
		FZ_CHECK(strcmp(text, exp) == 0, "expiry %s read as %s", exp, text);
		FZ_CHECK(expires > now, "expired");
		FZ_CHECK(!strchr(path, '\n') && !strchr(acct, '\n'), "newline");
	}
	/* Sign the fuzzed fields, then verify, then spoil one character. */
	if (acct != NULL && !strchr(path, '\n') && !strchr(acct, '\n')) {
		int64_t at = NOW + (int64_t)(strlen(path) % 5) * 400 - 800;
		char sig2[SIGNURL_SIG_LEN + 1], text[32];
		signurl_sign((const unsigned char *)KEY, strlen(KEY), m, path, acct, at, sig2);
		snprintf(text, sizeof(text), "%lld", (long long)at);
		FZ_CHECK(verify(m, path, acct, text, sig2, now, &expires) == (now < at),
			 "own signature at %lld, now %lld", (long long)at, (long long)now);
		size_t i = strlen(m) % SIGNURL_SIG_LEN;
		sig2[i] = sig2[i] == '0' ? '1' : '0';
		FZ_CHECK(!verify(m, path, acct, text, sig2, now, &expires), "spoiled signature");
	}
	pool_cleanup(&pool);
	return 0;
}
