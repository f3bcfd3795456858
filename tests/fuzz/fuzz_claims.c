/* Token claims (auth/auth.c check_claims and the verified-token cache). The input's claims are
 * signed here with the fixed HS256 key (OpenSSL HMAC, not libjwt), so every one reaches the
 * claim checks. Input: a flags byte (which configuration, which header), two 16-bit clock
 * offsets, [a header, NUL,] the claims. Invariants: at both instants the verdict and the
 * principal are those of an independent reading of the claims here (account_id, exp, nbf with
 * leeway, iss, aud, sub, scope) — the second instant after the first has filled the cache, so
 * a cached answer is checked against the same reading; a header naming anything but HS256 is
 * refused. */
#include "fuzz.h"
#include "auth/auth.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define KEY "fuzz-secret-0123456789abcdef0123"
#define NOW 1700000000
#define ISS "depot-fuzz-iss"
#define AUD "depot-fuzz-aud"
#define LEEWAY 30

static struct auth *plain, *strict;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct auth_opts p = {.hs256_secret = KEY};
	struct auth_opts s = {.hs256_secret = KEY, .issuer = ISS, .audience = AUD,
			      .leeway_s = LEEWAY};
	struct err e = {0};
	if (auth_new(&p, &plain, &e) != ERR_OK || auth_new(&s, &strict, &e) != ERR_OK)
		abort();
	return 0;
}

static bool short_string(json_t *v)
{
	return json_is_string(v) && json_string_length(v) <= AUTH_ID_MAX &&
	       strlen(json_string_value(v)) == json_string_length(v);
}

static unsigned scopes_of(const char *s)
{
	unsigned bits = 0;
	const char *p = s;
	while (*p) {
		size_t n = strcspn(p, " ");
		if (n == 14 && memcmp(p, "resources:read", 14) == 0)
			bits |= AUTH_SCOPE_READ;
		if (n == 15 && memcmp(p, "resources:write", 15) == 0)
			bits |= AUTH_SCOPE_WRITE;
		p += n + (p[n] == ' ');
	}
	return bits;
}

static bool aud_ok(json_t *aud)
{
	if (json_is_string(aud))
		return strcmp(json_string_value(aud), AUD) == 0;
	size_t i;
	json_t *v;
	json_array_foreach(aud, i, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), AUD) == 0)
			return true;
	}
	return false;
}

/* The verdict on claims at now, read here. */
static bool reference(json_t *c, int64_t now, bool is_strict, struct auth_principal *out)
{
	double leeway = is_strict ? LEEWAY : 0;
	json_t *exp = json_object_get(c, "exp"), *nbf = json_object_get(c, "nbf");
	json_t *acct = json_object_get(c, "account_id"), *sub = json_object_get(c, "sub");
	json_t *scope = json_object_get(c, "scope");
	if (!json_is_object(c) || !json_is_number(exp) ||
	    (double)now >= json_number_value(exp) + leeway)
		return false;
	if (nbf != NULL && (!json_is_number(nbf) || (double)now + leeway < json_number_value(nbf)))
		return false;
	if (is_strict && (!json_is_string(json_object_get(c, "iss")) ||
			  strcmp(json_string_value(json_object_get(c, "iss")), ISS) != 0 ||
			  !aud_ok(json_object_get(c, "aud"))))
		return false;
	if (!short_string(acct) || json_string_length(acct) == 0)
		return false;
	if (sub != NULL && !json_is_null(sub) && !short_string(sub))
		return false;
	if (scope != NULL && !json_is_string(scope))
		return false;
	memset(out, 0, sizeof(*out));
	snprintf(out->account_id, sizeof(out->account_id), "%s", json_string_value(acct));
	if (json_is_string(sub))
		snprintf(out->sub, sizeof(out->sub), "%s", json_string_value(sub));
	out->scopes = scope ? scopes_of(json_string_value(scope))
			    : AUTH_SCOPE_READ | AUTH_SCOPE_WRITE;
	return true;
}

static char *sign(const char *header, size_t hlen, const uint8_t *claims, size_t clen)
{
	char *tok = malloc(2 * (hlen + clen) + 128);
	size_t n = fz_b64url((const unsigned char *)header, hlen, tok);
	tok[n++] = '.';
	n += fz_b64url(claims, clen, tok + n);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0;
	HMAC(EVP_sha256(), KEY, (int)strlen(KEY), (const unsigned char *)tok, n, mac, &mac_len);
	tok[n++] = '.';
	fz_b64url(mac, mac_len, tok + n);
	return tok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const headers[] = {"{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
					      "{\"alg\":\"HS256\"}", "{\"alg\":\"none\"}"};
	if (plain == NULL)
		LLVMFuzzerInitialize(NULL, NULL);
	struct fz f = {data, size};
	struct pool pool;
	pool_init(&pool);
	unsigned flags = fz_byte(&f);
	int64_t t[2] = {NOW + (int16_t)fz_u64(&f, 2), NOW + (int16_t)fz_u64(&f, 2)};
	bool is_strict = flags & 1, canned = (flags >> 1) % 4 != 3;
	const char *header;
	size_t hlen;
	if (canned) {
		header = headers[(flags >> 1) % 4];
		hlen = strlen(header);
	} else {
		header = fz_cstr(&f, &pool, &hlen);
	}
	char *tok = sign(header, hlen, f.p, f.n);
	/* libjwt reads the claims as a C string: up to a NUL. */
	json_t *claims = json_loads(pool_strndup(&pool, (const char *)f.p, f.n), 0, NULL);
	json_t *h = json_loads(header, 0, NULL);
	bool hs256 = json_is_object(h) && json_is_string(json_object_get(h, "alg")) &&
		     strcmp(json_string_value(json_object_get(h, "alg")), "HS256") == 0;
	for (int i = 0; i < 2; i++) {
		struct auth_principal got, want;
		struct err e = {0};
		struct auth *a = is_strict ? strict : plain;
		enum err_code rc = auth_verify_token(a, tok, t[i], &got, &e);
		FZ_CHECK(rc == ERR_OK || (rc == ERR_UNAUTHENTICATED && e.msg[0]), "code %d",
			 (int)rc);
		if (rc == ERR_OK)
			FZ_CHECK(hs256, "accepted header %s", header);
		if (!canned && !hs256)
			continue;
		if (!canned && rc != ERR_OK)
			continue; /* libjwt may refuse a header for its own reasons */
		bool ok = hs256 && reference(claims, t[i], is_strict, &want);
		FZ_CHECK((rc == ERR_OK) == ok, "at %lld (%s): depot %d (%s), expected %s",
			 (long long)t[i], i ? "second" : "first", (int)rc, e.msg,
			 ok ? "OK" : "refused");
		if (ok)
			FZ_CHECK(memcmp(&got, &want, sizeof(got)) == 0, "principal differs");
	}
	json_decref(claims);
	json_decref(h);
	free(tok);
	pool_cleanup(&pool);
	return 0;
}
