/* The Authorization header (auth_verify_bearer) with a fixed HS256 key: whatever the bytes,
 * the answer is ERR_OK or ERR_UNAUTHENTICATED with a reason, the same answer twice (the second
 * may come from the verified-token cache), and OK only for a token whose third part is exactly
 * the unpadded base64url HMAC-SHA256, under the key, of what precedes it (computed here with
 * OpenSSL, not libjwt). The seeds hold valid tokens, so mutations start from accepted ones. */
#include "fuzz.h"
#include "auth/auth.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#define KEY "fuzz-secret-0123456789abcdef0123"
#define NOW 1700000000

static struct auth *a;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct auth_opts o = {.hs256_secret = KEY};
	struct err e = {0};
	if (auth_new(&o, &a, &e) != ERR_OK)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (a == NULL)
		LLVMFuzzerInitialize(NULL, NULL);
	char *h = malloc(size + 1);
	memcpy(h, data, size);
	h[size] = '\0';
	struct auth_principal p1, p2;
	struct err e1 = {0}, e2 = {0};
	enum err_code r1 = auth_verify_bearer(a, h, NOW, &p1, &e1);
	enum err_code r2 = auth_verify_bearer(a, h, NOW, &p2, &e2);
	FZ_CHECK(r1 == ERR_OK || (r1 == ERR_UNAUTHENTICATED && e1.msg[0]), "code %d", (int)r1);
	FZ_CHECK(r1 == r2, "first %d, then %d", (int)r1, (int)r2);
	if (r1 == ERR_OK) {
		FZ_CHECK(memcmp(&p1, &p2, sizeof(p1)) == 0, "the cache changed the principal");
		FZ_CHECK(p1.account_id[0] != '\0', "empty account");
		FZ_CHECK(strlen(p1.account_id) <= AUTH_ID_MAX && strlen(p1.sub) <= AUTH_ID_MAX,
			 "long ids");
		const char *tok = h + 7;
		while (*tok == ' ')
			tok++;
		const char *dot = strrchr(tok, '.');
		FZ_CHECK(dot != NULL, "accepted a token without a signature part");
		unsigned char mac[EVP_MAX_MD_SIZE];
		unsigned mac_len = 0;
		char want[64];
		HMAC(EVP_sha256(), KEY, (int)strlen(KEY), (const unsigned char *)tok,
		     (size_t)(dot - tok), mac, &mac_len);
		fz_b64url(mac, mac_len, want);
		FZ_CHECK(strcmp(dot + 1, want) == 0, "accepted signature %s, HMAC is %s", dot + 1,
			 want);
	}
	free(h);
	return 0;
}
