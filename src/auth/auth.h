/* Bearer-JWT verification with the algorithm pinned to the configured key. No HTTP types. */
#ifndef DEPOT_AUTH_H
#define DEPOT_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

enum auth_scope {
	AUTH_SCOPE_NONE = 0,
	AUTH_SCOPE_READ = 1,  /* resources:read */
	AUTH_SCOPE_WRITE = 2, /* resources:write */
};

#define AUTH_ID_MAX 255

/* Who a verified token speaks for. */
struct auth_principal {
	char account_id[AUTH_ID_MAX + 1]; /* the tenant; never empty */
	char sub[AUTH_ID_MAX + 1];        /* the user; empty when the token has none */
	unsigned scopes;                  /* enum auth_scope bits */
};

struct auth_opts {
	const char *hs256_secret;      /* either this ... */
	const char *public_key_path;   /* ... or a PEM public key with alg */
	const char *alg;               /* "RS256" or "ES256" with a public key */
	const char *issuer;            /* required iss, or NULL/"" */
	const char *audience;          /* required aud, or NULL/"" */
	int64_t leeway_s;
};

struct auth;

/* Loads the key. Fails when there is none or it cannot be read. */
enum err_code auth_new(const struct auth_opts *opts, struct auth **out, struct err *e)
	__attribute__((warn_unused_result));

void auth_free(struct auth *a);

/* Verifies an Authorization header value ("Bearer <jwt>") at time now_s (seconds since the
 * epoch, injected so tests control the clock). ERR_UNAUTHENTICATED with the reason in e when
 * the header is missing (NULL) or the token is bad in any way. */
enum err_code auth_verify_bearer(struct auth *a, const char *authorization, int64_t now_s,
				 struct auth_principal *out, struct err *e)
	__attribute__((warn_unused_result));

/* Verifies a bare token (no "Bearer "). */
enum err_code auth_verify_token(struct auth *a, const char *token, int64_t now_s,
				struct auth_principal *out, struct err *e)
	__attribute__((warn_unused_result));

/* Mints an HS256 token (for the CLI); returns a malloc'd string or NULL. */
char *auth_mint_hs256(const char *secret, const char *account_id, const char *sub,
		      const char *scope, int64_t iat_s, int64_t exp_s);

#endif
