/* HMAC-SHA256 signed URLs on OpenSSL. Fields are joined with '\n', which none of them may hold
 * (paths and accounts carrying one are refused), so no two requests share a message. */
#include "auth/signurl.h"
#include "core/text.h"
#include "core/xalloc.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void signurl_sign(const unsigned char *key, size_t key_len, const char *method,
		  const char *path, const char *account, int64_t expires_s, char *sig)
{
	char exp[32];
	snprintf(exp, sizeof(exp), "%lld", (long long)expires_s);
	const char *parts[] = {"depot-url-v1", method, path, account, exp};
	size_t len = 0;
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		len += strlen(parts[i]) + 1;
	unsigned char *msg = xmalloc(len), *p = msg;
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		size_t n = strlen(parts[i]);
		memcpy(p, parts[i], n);
		p[n] = '\n';
		p += n + 1;
	}
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	HMAC(EVP_sha256(), key, (int)key_len, msg, len, mac, &mac_len);
	free(msg);
	text_hex(mac, 32, sig);
}

enum err_code signurl_verify(const unsigned char *key, size_t key_len, const char *method,
			     const char *path, const char *account, const char *expires,
			     const char *sig, int64_t now_s, int64_t *expires_s, struct err *e)
{
	if (account == NULL || expires == NULL || sig == NULL)
		return err_set(e, ERR_FORBIDDEN, "signed URL lacks acct, expires or sig");
	if (strchr(path, '\n') || strchr(account, '\n') || strlen(sig) != SIGNURL_SIG_LEN)
		return err_set(e, ERR_FORBIDDEN, "signed URL signature is invalid");
	int64_t exp = 0;
	size_t n = strlen(expires);
	if (n == 0 || n > 12 || (expires[0] == '0' && n > 1))
		return err_set(e, ERR_FORBIDDEN, "signed URL expiry is invalid");
	for (size_t i = 0; i < n; i++) {
		if (expires[i] < '0' || expires[i] > '9')
			return err_set(e, ERR_FORBIDDEN, "signed URL expiry is invalid");
		exp = exp * 10 + (expires[i] - '0');
	}
	char want[SIGNURL_SIG_LEN + 1];
	signurl_sign(key, key_len, method, path, account, exp, want);
	if (CRYPTO_memcmp(want, sig, SIGNURL_SIG_LEN) != 0)
		return err_set(e, ERR_FORBIDDEN, "signed URL signature is invalid");
	if (now_s >= exp)
		return err_set(e, ERR_FORBIDDEN, "signed URL has expired");
	*expires_s = exp;
	return ERR_OK;
}
