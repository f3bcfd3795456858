/* Signed URLs: an HMAC-SHA256 over the method, the path, the account and the expiry, so a URL
 * grants exactly one kind of access to one resource until a time. Pure functions. */
#ifndef DEPOT_AUTH_SIGNURL_H
#define DEPOT_AUTH_SIGNURL_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define SIGNURL_SIG_LEN 64 /* hex characters */

/* Writes the lowercase hex signature of (method, path, account, expires_s) under key to
 * sig[SIGNURL_SIG_LEN + 1]. */
void signurl_sign(const unsigned char *key, size_t key_len, const char *method,
		  const char *path, const char *account, int64_t expires_s, char *sig);

/* Checks a signature in constant time, and the expiry against now_s. ERR_FORBIDDEN with the
 * reason when expired, malformed or not matching. */
enum err_code signurl_verify(const unsigned char *key, size_t key_len, const char *method,
			     const char *path, const char *account, const char *expires,
			     const char *sig, int64_t now_s, int64_t *expires_s, struct err *e)
	__attribute__((warn_unused_result));

#endif
