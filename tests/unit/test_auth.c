/* Unit tests for auth: bearer-JWT verification with the algorithm pinned and the clock
 * injected. Tokens are minted here with libjwt directly, not with auth_mint_hs256, so a bug in
 * depot's own JWT code cannot hide itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tmpdir.h"

#include <ftw.h>
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"

#define SECRET "unit-test-secret-0123456789abcdef"
#define NOW 1800000000LL

static char tmpdir[64];

/* ---- token minting ---- */

static char *mint(const char *grants_json, jwt_alg_t alg, const void *key, size_t key_len)
{
	jwt_t *jwt = NULL;
	assert_int_equal(jwt_new(&jwt), 0);
	if (grants_json != NULL)
		assert_int_equal(jwt_add_grants_json(jwt, grants_json), 0);
	assert_int_equal(jwt_set_alg(jwt, alg, key, (int)key_len), 0);
	char *tok = jwt_encode_str(jwt);
	assert_non_null(tok);
	jwt_free(jwt);
	return tok;
}

static char *mint_hs(const char *grants_json)
{
	return mint(grants_json, JWT_ALG_HS256, SECRET, strlen(SECRET));
}

/* A token with typed grants built one by one, as the brief's libjwt calls do. */
static char *mint_basic(const char *account, long exp, const char *scope)
{
	jwt_t *jwt = NULL;
	assert_int_equal(jwt_new(&jwt), 0);
	if (account != NULL)
		assert_int_equal(jwt_add_grant(jwt, "account_id", account), 0);
	assert_int_equal(jwt_add_grant(jwt, "sub", "user-1"), 0);
	assert_int_equal(jwt_add_grant_int(jwt, "iat", (long)NOW - 10), 0);
	assert_int_equal(jwt_add_grant_int(jwt, "exp", exp), 0);
	if (scope != NULL)
		assert_int_equal(jwt_add_grant(jwt, "scope", scope), 0);
	assert_int_equal(
		jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)SECRET, (int)strlen(SECRET)),
		0);
	char *tok = jwt_encode_str(jwt);
	assert_non_null(tok);
	jwt_free(jwt);
	return tok;
}

static struct auth *new_hs(const char *issuer, const char *audience, int64_t leeway)
{
	struct auth_opts o = {.hs256_secret = SECRET, .issuer = issuer, .audience = audience,
			      .leeway_s = leeway};
	struct auth *a = NULL;
	struct err e = {0};
	assert_int_equal(auth_new(&o, &a, &e), ERR_OK);
	assert_non_null(a);
	return a;
}

static enum err_code verify(struct auth *a, const char *token, int64_t now,
			    struct auth_principal *p)
{
	struct err e = {0};
	enum err_code rc = auth_verify_token(a, token, now, p, &e);
	if (rc != ERR_OK)
		assert_true(e.msg[0] != '\0');
	return rc;
}

/* Verifies a token minted from grants JSON with the default HS256 auth. */
static enum err_code verify_grants(const char *grants, struct auth_principal *p)
{
	struct auth *a = new_hs(NULL, NULL, 0);
	char *tok = mint_hs(grants);
	enum err_code rc = verify(a, tok, NOW, p);
	free(tok);
	auth_free(a);
	return rc;
}

/* ---- temp files ---- */

static int setup(void **state)
{
	(void)state;
	return tmpdir_make(tmpdir, sizeof(tmpdir), "auth") ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	tmpdir_remove(tmpdir);
	return 0;
}

static void write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* ---- HS256 ---- */

static void valid_hs256_token_gives_principal(void **state)
{
	(void)state;
	struct auth *a = new_hs(NULL, NULL, 0);
	char *tok = mint_basic("acct-1", (long)NOW + 60, NULL);
	struct auth_principal p;
	memset(&p, 0x55, sizeof(p));
	assert_int_equal(verify(a, tok, NOW, &p), ERR_OK);
	assert_string_equal(p.account_id, "acct-1");
	assert_string_equal(p.sub, "user-1");
	assert_int_equal(p.scopes, AUTH_SCOPE_READ | AUTH_SCOPE_WRITE);
	free(tok);
	auth_free(a);
}

static void token_without_sub_has_empty_sub(void **state)
{
	(void)state;
	struct auth_principal p;
	memset(&p, 0x55, sizeof(p));
	assert_int_equal(verify_grants("{\"account_id\":\"a\",\"exp\":1800000100}", &p), ERR_OK);
	assert_string_equal(p.account_id, "a");
	assert_string_equal(p.sub, "");
}

static void expired_token_is_refused(void **state)
{
	(void)state;
	struct auth *a = new_hs(NULL, NULL, 0);
	char *tok = mint_basic("acct", (long)NOW - 1, NULL);
	struct auth_principal p;
	assert_int_equal(verify(a, tok, NOW, &p), ERR_UNAUTHENTICATED);
	free(tok);
	/* exp == now is already expired (the current time must be before exp). */
	tok = mint_basic("acct", (long)NOW, NULL);
	assert_int_equal(verify(a, tok, NOW, &p), ERR_UNAUTHENTICATED);
	assert_int_equal(verify(a, tok, NOW - 1, &p), ERR_OK);
	free(tok);
	auth_free(a);
}

static void token_without_exp_is_refused(void **state)
{
	(void)state;
	struct auth_principal p;
	assert_int_equal(verify_grants("{\"account_id\":\"a\"}", &p), ERR_UNAUTHENTICATED);
	assert_int_equal(verify_grants("{\"account_id\":\"a\",\"exp\":\"1800000100\"}", &p),
			 ERR_UNAUTHENTICATED);
	assert_int_equal(verify_grants("{\"account_id\":\"a\",\"exp\":null}", &p),
			 ERR_UNAUTHENTICATED);
}

static void nbf_in_future_is_refused(void **state)
{
	(void)state;
	struct auth_principal p;
	assert_int_equal(
		verify_grants("{\"account_id\":\"a\",\"exp\":1800000100,\"nbf\":1800000001}", &p),
		ERR_UNAUTHENTICATED);
	assert_int_equal(
		verify_grants("{\"account_id\":\"a\",\"exp\":1800000100,\"nbf\":1800000000}", &p),
		ERR_OK);
	assert_int_equal(
		verify_grants("{\"account_id\":\"a\",\"exp\":1800000100,\"nbf\":1700000000}", &p),
		ERR_OK);
	assert_int_equal(
		verify_grants("{\"account_id\":\"a\",\"exp\":1800000100,\"nbf\":\"soon\"}", &p),
		ERR_UNAUTHENTICATED);
}

static void iat_is_not_checked(void **state)
{
	(void)state;
	struct auth_principal p;
	assert_int_equal(
		verify_grants("{\"account_id\":\"a\",\"exp\":1800000100,\"iat\":1900000000}", &p),
		ERR_OK);
}

static void wrong_secret_is_refused(void **state)
{
	(void)state;
	struct auth *a = new_hs(NULL, NULL, 0);
	const char *other = "another-secret-0123456789abcdef!";
	char *tok = mint("{\"account_id\":\"a\",\"exp\":1800000100}", JWT_ALG_HS256, other,
			 strlen(other));
	struct auth_principal p;
	assert_int_equal(verify(a, tok, NOW, &p), ERR_UNAUTHENTICATED);
	free(tok);
	auth_free(a);
}

static void tampered_payload_is_refused(void **state)
{
	(void)state;
	struct auth *a = new_hs(NULL, NULL, 0);
	char *good = mint_hs("{\"account_id\":\"a\",\"exp\":1800000100}");
	char *evil = mint_hs("{\"account_id\":\"b\",\"exp\":1800000100}");
	/* header.payload(evil).signature(good) */
	char *d1 = strchr(good, '.'), *d2 = strrchr(good, '.');
	char *e1 = strchr(evil, '.'), *e2 = strrchr(evil, '.');
	char forged[2048];
	snprintf(forged, sizeof(forged), "%.*s%.*s%s", (int)(d1 - good), good, (int)(e2 - e1), e1,
		 d2);
	struct auth_principal p;
	assert_int_equal(verify(a, forged, NOW, &p), ERR_UNAUTHENTICATED);
	assert_int_equal(verify(a, good, NOW, &p), ERR_OK);
	free(good);
	free(evil);
	auth_free(a);
}

static void alg_none_is_refused(void **state)
{
	(void)state;
	struct auth *a = new_hs(NULL, NULL, 0);
	char *tok = mint("{\"account_id\":\"a\",\"exp\":1800000100}", JWT_ALG_NONE, NULL, 0);
	struct auth_principal p;
	assert_int_equal(verify(a, tok, NOW, &p), ERR_UNAUTHENTICATED);
	free(tok);
	/* Hand-made: {"alg":"none","typ":"JWT"}.{"account_id":"a","exp":1800000100}. */
	const char *handmade = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
			       "eyJhY2NvdW50X2lkIjoiYSIsImV4cCI6MTgwMDAwMDEwMH0.";
	assert_int_equal(verify(a, handmade, NOW, &p), ERR_UNAUTHENTICATED);
	auth_free(a);
}

/* base64url without padding of n bytes into out. */
static void b64url(const void *bytes, size_t n, char *out)
{
	int len = EVP_EncodeBlock((unsigned char *)out, bytes, (int)n);
	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (char *p = out; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
}

/* A token with a header of our own, signed HS256 with SECRET by hand (OpenSSL HMAC). */
static void mint_with_header(const char *header, const char *claims, char *tok, size_t cap)
{
	char h[512], c[512], sig[128];
	b64url(header, strlen(header), h);
	b64url(claims, strlen(claims), c);
	int n = snprintf(tok, cap, "%s.%s", h, c);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0;
	HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)tok, (size_t)n, mac,
	     &mac_len);
	b64url(mac, mac_len, sig);
	snprintf(tok + n, cap - (size_t)n, ".%s", sig);
}

/* Found by fuzz_claims: libjwt reads "alg" without regard to case, so a header "Hs256" passed
 * as HS256. Algorithm names are case-sensitive (RFC 7515, 4.1.1): only the exact name is the
 * pinned algorithm. */
static void alg_name_in_another_case_is_refused(void **state)
{
	(void)state;
	struct auth *a = new_hs(NULL, NULL, 0);
	struct auth_principal p;
	const char *claims = "{\"account_id\":\"a\",\"exp\":1800000100}";
	const char *headers[] = {"{\"alg\":\"Hs256\",\"typ\":\"JWT\"}", "{\"alg\":\"hs256\"}",
				 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"};
	for (size_t i = 0; i < 3; i++) {
		char tok[1024];
		mint_with_header(headers[i], claims, tok, sizeof(tok));
		assert_int_equal(verify(a, tok, NOW, &p), i == 2 ? ERR_OK : ERR_UNAUTHENTICATED);
	}
	auth_free(a);
}

static void other_hmac_alg_with_same_secret_is_refused(void **state)
{
	(void)state;
	struct auth *a = new_hs(NULL, NULL, 0);
	char *tok = mint("{\"account_id\":\"a\",\"exp\":1800000100}", JWT_ALG_HS512, SECRET,
			 strlen(SECRET));
	struct auth_principal p;
	assert_int_equal(verify(a, tok, NOW, &p), ERR_UNAUTHENTICATED);
	free(tok);
	auth_free(a);
}

static void missing_or_non_string_account_id_is_refused(void **state)
{
	(void)state;
	struct auth_principal p;
	assert_int_equal(verify_grants("{\"exp\":1800000100}", &p), ERR_UNAUTHENTICATED);
	assert_int_equal(verify_grants("{\"account_id\":42,\"exp\":1800000100}", &p),
			 ERR_UNAUTHENTICATED);
	assert_int_equal(verify_grants("{\"account_id\":\"\",\"exp\":1800000100}", &p),
			 ERR_UNAUTHENTICATED);
	assert_int_equal(verify_grants("{\"account_id\":null,\"exp\":1800000100}", &p),
			 ERR_UNAUTHENTICATED);
	assert_int_equal(verify_grants("{\"account_id\":[\"a\"],\"exp\":1800000100}", &p),
			 ERR_UNAUTHENTICATED);
	assert_int_equal(verify_grants("{\"account_id\":{\"id\":\"a\"},\"exp\":1800000100}", &p),
			 ERR_UNAUTHENTICATED);
}

static void account_id_length_limit_is_255_bytes(void **state)
{
	(void)state;
	char grants[600];
	char id[300];
	memset(id, 'i', 255);
	id[255] = '\0';
	snprintf(grants, sizeof(grants), "{\"account_id\":\"%s\",\"exp\":1800000100}", id);
	struct auth_principal p;
	assert_int_equal(verify_grants(grants, &p), ERR_OK);
	assert_int_equal(strlen(p.account_id), 255);
	memset(id, 'i', 256);
	id[256] = '\0';
	snprintf(grants, sizeof(grants), "{\"account_id\":\"%s\",\"exp\":1800000100}", id);
	assert_int_equal(verify_grants(grants, &p), ERR_UNAUTHENTICATED);
}

static unsigned scopes_of(const char *scope_json)
{
	char grants[256];
	snprintf(grants, sizeof(grants), "{\"account_id\":\"a\",\"exp\":1800000100,\"scope\":%s}",
		 scope_json);
	struct auth_principal p;
	memset(&p, 0, sizeof(p));
	enum err_code rc = verify_grants(grants, &p);
	if (rc != ERR_OK)
		fail_msg("scope %s refused (%d)", scope_json, rc);
	return p.scopes;
}

static void scope_string_is_parsed(void **state)
{
	(void)state;
	assert_int_equal(scopes_of("\"resources:read\""), AUTH_SCOPE_READ);
	assert_int_equal(scopes_of("\"resources:write\""), AUTH_SCOPE_WRITE);
	assert_int_equal(scopes_of("\"resources:read resources:write\""),
			 AUTH_SCOPE_READ | AUTH_SCOPE_WRITE);
	assert_int_equal(scopes_of("\"openid resources:write  profile\""), AUTH_SCOPE_WRITE);
	assert_int_equal(scopes_of("\"\""), AUTH_SCOPE_NONE);
	assert_int_equal(scopes_of("\"openid profile\""), AUTH_SCOPE_NONE);
	assert_int_equal(scopes_of("\"resources:readx resources:writ resources\""),
			 AUTH_SCOPE_NONE);
	assert_int_equal(scopes_of("\"RESOURCES:READ\""), AUTH_SCOPE_NONE);
}

static void absent_scope_means_every_scope(void **state)
{
	(void)state;
	struct auth_principal p;
	assert_int_equal(verify_grants("{\"account_id\":\"a\",\"exp\":1800000100}", &p), ERR_OK);
	assert_int_equal(p.scopes, AUTH_SCOPE_READ | AUTH_SCOPE_WRITE);
}

static void non_string_scope_is_refused(void **state)
{
	(void)state;
	struct auth_principal p;
	assert_int_equal(
		verify_grants("{\"account_id\":\"a\",\"exp\":1800000100,\"scope\":[\"resources:read\"]}",
			      &p),
		ERR_UNAUTHENTICATED);
	assert_int_equal(verify_grants("{\"account_id\":\"a\",\"exp\":1800000100,\"scope\":1}", &p),
			 ERR_UNAUTHENTICATED);
}

static void issuer_is_required_when_configured(void **state)
{
	(void)state;
	struct auth *a = new_hs("https://issuer.example", NULL, 0);
	struct auth_principal p;
	char *ok = mint_hs("{\"account_id\":\"a\",\"exp\":1800000100,\"iss\":\"https://issuer.example\"}");
	char *bad = mint_hs("{\"account_id\":\"a\",\"exp\":1800000100,\"iss\":\"https://evil.example\"}");
	char *none = mint_hs("{\"account_id\":\"a\",\"exp\":1800000100}");
	char *arr = mint_hs("{\"account_id\":\"a\",\"exp\":1800000100,\"iss\":[\"https://issuer.example\"]}");
	assert_int_equal(verify(a, ok, NOW, &p), ERR_OK);
	assert_int_equal(verify(a, bad, NOW, &p), ERR_UNAUTHENTICATED);
	assert_int_equal(verify(a, none, NOW, &p), ERR_UNAUTHENTICATED);
	assert_int_equal(verify(a, arr, NOW, &p), ERR_UNAUTHENTICATED);
	auth_free(a);
	/* Not configured (NULL or ""): any iss, or none, is fine. */
	a = new_hs("", NULL, 0);
	assert_int_equal(verify(a, bad, NOW, &p), ERR_OK);
	assert_int_equal(verify(a, none, NOW, &p), ERR_OK);
	auth_free(a);
	free(ok);
	free(bad);
	free(none);
	free(arr);
}

static void audience_is_required_when_configured(void **state)
{
	(void)state;
	struct auth *a = new_hs(NULL, "depot", 0);
	struct auth_principal p;
	char *str = mint_hs("{\"account_id\":\"a\",\"exp\":1800000100,\"aud\":\"depot\"}");
	char *arr = mint_hs("{\"account_id\":\"a\",\"exp\":1800000100,\"aud\":[\"other\",\"depot\"]}");
	char *wrong = mint_hs("{\"account_id\":\"a\",\"exp\":1800000100,\"aud\":\"depots\"}");
	char *wrong_arr = mint_hs("{\"account_id\":\"a\",\"exp\":1800000100,\"aud\":[\"other\",\"x\"]}");
	char *empty_arr = mint_hs("{\"account_id\":\"a\",\"exp\":1800000100,\"aud\":[]}");
	char *none = mint_hs("{\"account_id\":\"a\",\"exp\":1800000100}");
	assert_int_equal(verify(a, str, NOW, &p), ERR_OK);
	assert_int_equal(verify(a, arr, NOW, &p), ERR_OK);
	assert_int_equal(verify(a, wrong, NOW, &p), ERR_UNAUTHENTICATED);
	assert_int_equal(verify(a, wrong_arr, NOW, &p), ERR_UNAUTHENTICATED);
	assert_int_equal(verify(a, empty_arr, NOW, &p), ERR_UNAUTHENTICATED);
	assert_int_equal(verify(a, none, NOW, &p), ERR_UNAUTHENTICATED);
	auth_free(a);
	free(str);
	free(arr);
	free(wrong);
	free(wrong_arr);
	free(empty_arr);
	free(none);
}

static void leeway_extends_exp_and_nbf(void **state)
{
	(void)state;
	struct auth *a = new_hs(NULL, NULL, 30);
	struct auth_principal p;
	char *expired = mint_hs("{\"account_id\":\"a\",\"exp\":1799999980}"); /* now - 20 */
	char *far = mint_hs("{\"account_id\":\"a\",\"exp\":1799999960}");     /* now - 40 */
	char *early = mint_hs("{\"account_id\":\"a\",\"exp\":1800000100,\"nbf\":1800000020}");
	char *too_early = mint_hs("{\"account_id\":\"a\",\"exp\":1800000100,\"nbf\":1800000040}");
	assert_int_equal(verify(a, expired, NOW, &p), ERR_OK);
	assert_int_equal(verify(a, far, NOW, &p), ERR_UNAUTHENTICATED);
	assert_int_equal(verify(a, early, NOW, &p), ERR_OK);
	assert_int_equal(verify(a, too_early, NOW, &p), ERR_UNAUTHENTICATED);
	auth_free(a);
	/* Without leeway the first and third are refused. */
	a = new_hs(NULL, NULL, 0);
	assert_int_equal(verify(a, expired, NOW, &p), ERR_UNAUTHENTICATED);
	assert_int_equal(verify(a, early, NOW, &p), ERR_UNAUTHENTICATED);
	auth_free(a);
	free(expired);
	free(far);
	free(early);
	free(too_early);
}

static void malformed_tokens_are_refused(void **state)
{
	(void)state;
	struct auth *a = new_hs(NULL, NULL, 0);
	struct auth_principal p;
	const char *bad[] = {"", "abc", "a.b", "a.b.c", "...", "eyJhbGciOiJIUzI1NiJ9..",
			     "not a jwt at all"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(verify(a, bad[i], NOW, &p), ERR_UNAUTHENTICATED);
	auth_free(a);
}

/* ---- the Authorization header ---- */

static void bearer_prefix_is_required(void **state)
{
	(void)state;
	struct auth *a = new_hs(NULL, NULL, 0);
	char *tok = mint_basic("acct", (long)NOW + 60, NULL);
	char header[2048];
	struct auth_principal p;
	struct err e = {0};

	snprintf(header, sizeof(header), "Bearer %s", tok);
	assert_int_equal(auth_verify_bearer(a, header, NOW, &p, &e), ERR_OK);
	assert_string_equal(p.account_id, "acct");

	/* The scheme name is case-insensitive (RFC 7235). */
	snprintf(header, sizeof(header), "bearer %s", tok);
	assert_int_equal(auth_verify_bearer(a, header, NOW, &p, &e), ERR_OK);

	assert_int_equal(auth_verify_bearer(a, NULL, NOW, &p, &e), ERR_UNAUTHENTICATED);
	assert_true(e.msg[0] != '\0');
	assert_int_equal(auth_verify_bearer(a, "", NOW, &p, &e), ERR_UNAUTHENTICATED);
	assert_int_equal(auth_verify_bearer(a, tok, NOW, &p, &e), ERR_UNAUTHENTICATED);
	snprintf(header, sizeof(header), "Basic %s", tok);
	assert_int_equal(auth_verify_bearer(a, header, NOW, &p, &e), ERR_UNAUTHENTICATED);
	snprintf(header, sizeof(header), "Token %s", tok);
	assert_int_equal(auth_verify_bearer(a, header, NOW, &p, &e), ERR_UNAUTHENTICATED);
	snprintf(header, sizeof(header), "Bearer%s", tok);
	assert_int_equal(auth_verify_bearer(a, header, NOW, &p, &e), ERR_UNAUTHENTICATED);
	assert_int_equal(auth_verify_bearer(a, "Bearer ", NOW, &p, &e), ERR_UNAUTHENTICATED);
	assert_int_equal(auth_verify_bearer(a, "Bearer    ", NOW, &p, &e), ERR_UNAUTHENTICATED);
	assert_int_equal(auth_verify_bearer(a, "Bearer", NOW, &p, &e), ERR_UNAUTHENTICATED);
	free(tok);
	auth_free(a);
}

static void cli_minted_token_verifies(void **state)
{
	(void)state;
	char *tok = auth_mint_hs256(SECRET, "acct-cli", "me", "resources:read", NOW - 5, NOW + 60);
	assert_non_null(tok);
	struct auth *a = new_hs(NULL, NULL, 0);
	struct auth_principal p;
	assert_int_equal(verify(a, tok, NOW, &p), ERR_OK);
	assert_string_equal(p.account_id, "acct-cli");
	assert_string_equal(p.sub, "me");
	assert_int_equal(p.scopes, AUTH_SCOPE_READ);
	assert_int_equal(verify(a, tok, NOW + 60, &p), ERR_UNAUTHENTICATED);
	free(tok);
	auth_free(a);
}

/* ---- key loading ---- */

static void no_key_is_refused(void **state)
{
	(void)state;
	struct auth_opts o = {0};
	struct auth *a = NULL;
	struct err e = {0};
	assert_int_equal(auth_new(&o, &a, &e), ERR_INVALID);
	o.hs256_secret = "";
	o.public_key_path = "";
	assert_int_equal(auth_new(&o, &a, &e), ERR_INVALID);
}

static void unreadable_or_non_pem_key_file_is_refused(void **state)
{
	(void)state;
	char path[128];
	struct auth *a = NULL;
	struct err e = {0};
	snprintf(path, sizeof(path), "%s/missing.pem", tmpdir);
	struct auth_opts o = {.public_key_path = path, .alg = "RS256"};
	assert_int_equal(auth_new(&o, &a, &e), ERR_INVALID);
	snprintf(path, sizeof(path), "%s/junk.pem", tmpdir);
	write_file(path, "not a key\n", 10);
	assert_int_equal(auth_new(&o, &a, &e), ERR_INVALID);
	snprintf(path, sizeof(path), "%s/empty.pem", tmpdir);
	write_file(path, "", 0);
	assert_int_equal(auth_new(&o, &a, &e), ERR_INVALID);
}

/* A key file over the 64 KiB limit is refused. */
static void oversized_key_file_is_refused(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof(path), "%s/huge.pem", tmpdir);
	size_t n = 64 * 1024 + 1;
	char *buf = malloc(n);
	assert_non_null(buf);
	memset(buf, 'A', n);
	memcpy(buf, "-----BEGIN PUBLIC KEY-----\n", 27);
	write_file(path, buf, n);
	free(buf);
	struct auth_opts o = {.public_key_path = path, .alg = "RS256"};
	struct auth *a = NULL;
	struct err e = {0};
	assert_int_equal(auth_new(&o, &a, &e), ERR_INVALID);
	assert_null(a);
}

/* ---- RS256 ---- */

struct rsa_keys {
	char *priv_pem, *pub_pem;
	size_t priv_len, pub_len;
	char pub_path[128];
};

static char *bio_string(BIO *b, size_t *len)
{
	char *data = NULL;
	long n = BIO_get_mem_data(b, &data);
	assert_true(n > 0);
	char *out = malloc((size_t)n + 1);
	assert_non_null(out);
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	*len = (size_t)n;
	return out;
}

static void rsa_keys_make(struct rsa_keys *k, const char *name)
{
	EVP_PKEY *pkey = EVP_RSA_gen(2048);
	assert_non_null(pkey);
	BIO *priv = BIO_new(BIO_s_mem()), *pub = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PrivateKey(priv, pkey, NULL, NULL, 0, NULL, NULL), 1);
	assert_int_equal(PEM_write_bio_PUBKEY(pub, pkey), 1);
	k->priv_pem = bio_string(priv, &k->priv_len);
	k->pub_pem = bio_string(pub, &k->pub_len);
	BIO_free(priv);
	BIO_free(pub);
	EVP_PKEY_free(pkey);
	snprintf(k->pub_path, sizeof(k->pub_path), "%s/%s", tmpdir, name);
	write_file(k->pub_path, k->pub_pem, k->pub_len);
}

static void rsa_keys_free(struct rsa_keys *k)
{
	free(k->priv_pem);
	free(k->pub_pem);
}

static struct auth *new_rs(const char *path)
{
	struct auth_opts o = {.public_key_path = path, .alg = "RS256"};
	struct auth *a = NULL;
	struct err e = {0};
	enum err_code rc = auth_new(&o, &a, &e);
	if (rc != ERR_OK)
		fail_msg("auth_new RS256: %d %s", rc, e.msg);
	return a;
}

static void rs256_token_verifies_with_public_key(void **state)
{
	(void)state;
	struct rsa_keys k;
	rsa_keys_make(&k, "rs.pem");
	struct auth *a = new_rs(k.pub_path);
	char *tok = mint("{\"account_id\":\"rsa-acct\",\"sub\":\"u\",\"exp\":1800000100}",
			 JWT_ALG_RS256, k.priv_pem, k.priv_len);
	struct auth_principal p;
	assert_int_equal(verify(a, tok, NOW, &p), ERR_OK);
	assert_string_equal(p.account_id, "rsa-acct");
	assert_int_equal(verify(a, tok, NOW + 100, &p), ERR_UNAUTHENTICATED);
	free(tok);
	auth_free(a);
	rsa_keys_free(&k);
}

static void rs256_token_from_another_key_is_refused(void **state)
{
	(void)state;
	struct rsa_keys k1, k2;
	rsa_keys_make(&k1, "k1.pem");
	rsa_keys_make(&k2, "k2.pem");
	struct auth *a = new_rs(k1.pub_path);
	char *tok = mint("{\"account_id\":\"a\",\"exp\":1800000100}", JWT_ALG_RS256, k2.priv_pem,
			 k2.priv_len);
	struct auth_principal p;
	assert_int_equal(verify(a, tok, NOW, &p), ERR_UNAUTHENTICATED);
	free(tok);
	auth_free(a);
	rsa_keys_free(&k1);
	rsa_keys_free(&k2);
}

static void hs256_signed_with_public_pem_is_refused(void **state)
{
	(void)state;
	struct rsa_keys k;
	rsa_keys_make(&k, "confusion.pem");
	struct auth *a = new_rs(k.pub_path);
	/* The classic algorithm confusion: the public key's bytes as an HMAC secret. */
	char *tok = mint("{\"account_id\":\"a\",\"exp\":1800000100}", JWT_ALG_HS256, k.pub_pem,
			 k.pub_len);
	struct auth_principal p;
	assert_int_equal(verify(a, tok, NOW, &p), ERR_UNAUTHENTICATED);
	free(tok);
	tok = mint("{\"account_id\":\"a\",\"exp\":1800000100}", JWT_ALG_NONE, NULL, 0);
	assert_int_equal(verify(a, tok, NOW, &p), ERR_UNAUTHENTICATED);
	free(tok);
	auth_free(a);
	rsa_keys_free(&k);
}

static void private_key_file_is_refused_as_public_key(void **state)
{
	(void)state;
	struct rsa_keys k;
	rsa_keys_make(&k, "pub.pem");
	char path[160];
	snprintf(path, sizeof(path), "%s/priv.pem", tmpdir);
	write_file(path, k.priv_pem, k.priv_len);
	struct auth_opts o = {.public_key_path = path, .alg = "RS256"};
	struct auth *a = NULL;
	struct err e = {0};
	assert_int_equal(auth_new(&o, &a, &e), ERR_INVALID);
	rsa_keys_free(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_hs256_token_gives_principal),
		cmocka_unit_test(token_without_sub_has_empty_sub),
		cmocka_unit_test(expired_token_is_refused),
		cmocka_unit_test(token_without_exp_is_refused),
		cmocka_unit_test(nbf_in_future_is_refused),
		cmocka_unit_test(iat_is_not_checked),
		cmocka_unit_test(wrong_secret_is_refused),
		cmocka_unit_test(tampered_payload_is_refused),
		cmocka_unit_test(alg_none_is_refused),
		cmocka_unit_test(other_hmac_alg_with_same_secret_is_refused),
		cmocka_unit_test(alg_name_in_another_case_is_refused),
		cmocka_unit_test(missing_or_non_string_account_id_is_refused),
		cmocka_unit_test(account_id_length_limit_is_255_bytes),
		cmocka_unit_test(scope_string_is_parsed),
		cmocka_unit_test(absent_scope_means_every_scope),
		cmocka_unit_test(non_string_scope_is_refused),
		cmocka_unit_test(issuer_is_required_when_configured),
		cmocka_unit_test(audience_is_required_when_configured),
		cmocka_unit_test(leeway_extends_exp_and_nbf),
		cmocka_unit_test(malformed_tokens_are_refused),
		cmocka_unit_test(bearer_prefix_is_required),
		cmocka_unit_test(cli_minted_token_verifies),
		cmocka_unit_test(no_key_is_refused),
		cmocka_unit_test(unreadable_or_non_pem_key_file_is_refused),
		cmocka_unit_test(oversized_key_file_is_refused),
		cmocka_unit_test(rs256_token_verifies_with_public_key),
		cmocka_unit_test(rs256_token_from_another_key_is_refused),
		cmocka_unit_test(hs256_signed_with_public_pem_is_refused),
		cmocka_unit_test(private_key_file_is_refused_as_public_key),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
