/* JWT verification on libjwt. libjwt 1.10 verifies whatever algorithm the token names with the
 * key it is given, so the token's alg is compared with the configured one, and the time claims
 * (which libjwt ignores) are checked here. Claims are read as JSON so their types are exact. */
#include "auth/auth.h"
#include "core/xalloc.h"

#include <errno.h>
#include <jansson.h>
#include <jwt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TOKEN_BYTES 8192
#define MAX_KEY_BYTES (64 * 1024)

/* Verified tokens, kept until their exp so a busy client's token is decoded once: decoding costs
 * microseconds with HS256 and hundreds with RS256/ES256 (libjwt parses the PEM every time). The
 * cache is direct-mapped and sharded; a hit needs the byte-identical token. */
#define CACHE_SLOTS 4096
#define CACHE_SHARDS 16

struct cached {
	uint64_t hash;
	char *token;            /* malloc'd copy; NULL when the slot is empty */
	int64_t exp_s, nbf_s;   /* the claims' times, leeway already applied */
	struct auth_principal who;
};

struct auth {
	pthread_mutex_t shards[CACHE_SHARDS];
	struct cached slots[CACHE_SLOTS];
	jwt_alg_t alg;
	unsigned char *key; /* secret or PEM, owned */
	size_t key_len;
	char *issuer, *audience; /* NULL when not required */
	int64_t leeway_s;
};

static char *dup_or_null(const char *s)
{
	return s != NULL && *s ? xstrdup(s) : NULL;
}

enum err_code auth_new(const struct auth_opts *opts, struct auth **out, struct err *e)
{
	struct auth *a = xcalloc(1, sizeof(*a));
	if (opts->hs256_secret != NULL && *opts->hs256_secret) {
		a->alg = JWT_ALG_HS256;
		a->key_len = strlen(opts->hs256_secret);
		a->key = (unsigned char *)xstrdup(opts->hs256_secret);
	} else if (opts->public_key_path != NULL && *opts->public_key_path) {
		a->alg = strcmp(opts->alg, "ES256") == 0 ? JWT_ALG_ES256 : JWT_ALG_RS256;
		FILE *f = fopen(opts->public_key_path, "rb");
		if (f == NULL) {
			free(a);
			return err_set(e, ERR_INVALID, "cannot open DEPOT_JWT_PUBLIC_KEY %s: %s",
				       opts->public_key_path, strerror(errno));
		}
		a->key = xmalloc(MAX_KEY_BYTES + 1);
		a->key_len = fread(a->key, 1, MAX_KEY_BYTES + 1, f);
		fclose(f);
		if (a->key_len == 0 || a->key_len > MAX_KEY_BYTES ||
		    memmem(a->key, a->key_len, "PRIVATE KEY", 11) != NULL ||
		    memmem(a->key, a->key_len, "-----BEGIN ", 11) == NULL) {
			free(a->key);
			free(a);
			return err_set(e, ERR_INVALID,
				       "DEPOT_JWT_PUBLIC_KEY must be a PEM public key");
		}
		a->key[a->key_len] = '\0';
	} else {
		free(a);
		return err_set(e, ERR_INVALID, "no JWT key configured");
	}
	for (int i = 0; i < CACHE_SHARDS; i++)
		pthread_mutex_init(&a->shards[i], NULL);
	a->issuer = dup_or_null(opts->issuer);
	a->audience = dup_or_null(opts->audience);
	a->leeway_s = opts->leeway_s;
	*out = a;
	return ERR_OK;
}

void auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	for (int i = 0; i < CACHE_SLOTS; i++)
		free(a->slots[i].token);
	for (int i = 0; i < CACHE_SHARDS; i++)
		pthread_mutex_destroy(&a->shards[i]);
	free(a->key);
	free(a->issuer);
	free(a->audience);
	free(a);
}

static uint64_t hash_token(const char *t)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *t; t++)
		h = (h ^ (unsigned char)*t) * 1099511628211ull;
	return h;
}

static bool cache_get(struct auth *a, const char *token, uint64_t h, int64_t now_s,
		      struct auth_principal *out)
{
	struct cached *c = &a->slots[h % CACHE_SLOTS];
	pthread_mutex_t *m = &a->shards[h % CACHE_SHARDS];
	bool hit = false;
	pthread_mutex_lock(m);
	if (c->token != NULL && c->hash == h && now_s < c->exp_s && now_s >= c->nbf_s &&
	    strcmp(c->token, token) == 0) {
		*out = c->who;
		hit = true;
	}
	pthread_mutex_unlock(m);
	return hit;
}

static void cache_put(struct auth *a, const char *token, uint64_t h, int64_t exp_s,
		      int64_t nbf_s, const struct auth_principal *who)
{
	struct cached *c = &a->slots[h % CACHE_SLOTS];
	pthread_mutex_t *m = &a->shards[h % CACHE_SHARDS];
	char *copy = xstrdup(token);
	pthread_mutex_lock(m);
	free(c->token);
	c->token = copy;
	c->hash = h;
	c->exp_s = exp_s;
	c->nbf_s = nbf_s;
	c->who = *who;
	pthread_mutex_unlock(m);
}

static bool audience_matches(json_t *aud, const char *want)
{
	if (json_is_string(aud))
		return strcmp(json_string_value(aud), want) == 0;
	if (json_is_array(aud)) {
		size_t i;
		json_t *v;
		json_array_foreach(aud, i, v)
		{
			if (json_is_string(v) && strcmp(json_string_value(v), want) == 0)
				return true;
		}
	}
	return false;
}

static unsigned parse_scopes(const char *s)
{
	unsigned scopes = 0;
	while (*s) {
		while (*s == ' ')
			s++;
		size_t n = strcspn(s, " ");
		if (n == 14 && strncmp(s, "resources:read", n) == 0)
			scopes |= AUTH_SCOPE_READ;
		else if (n == 15 && strncmp(s, "resources:write", n) == 0)
			scopes |= AUTH_SCOPE_WRITE;
		s += n;
	}
	return scopes;
}

static enum err_code check_claims(struct auth *a, json_t *claims, int64_t now_s,
				  struct auth_principal *out, int64_t *exp_s, int64_t *nbf_s,
				  struct err *e)
{
	json_t *exp = json_object_get(claims, "exp");
	if (!json_is_number(exp))
		return err_set(e, ERR_UNAUTHENTICATED, "token has no exp claim");
	if ((double)now_s >= json_number_value(exp) + (double)a->leeway_s)
		return err_set(e, ERR_UNAUTHENTICATED, "token has expired");
	/* The cache keeps the token while now < exp + leeway, as this check does. */
	double until = json_number_value(exp) + (double)a->leeway_s;
	*exp_s = until > 4e18 ? INT64_MAX : (int64_t)until;
	*nbf_s = INT64_MIN;
	json_t *nbf = json_object_get(claims, "nbf");
	if (nbf != NULL) {
		if (!json_is_number(nbf))
			return err_set(e, ERR_UNAUTHENTICATED, "token nbf is not a number");
		if ((double)now_s + (double)a->leeway_s < json_number_value(nbf))
			return err_set(e, ERR_UNAUTHENTICATED, "token is not valid yet");
		double from = json_number_value(nbf) - (double)a->leeway_s;
		*nbf_s = from < -4e18 ? INT64_MIN : (int64_t)from + (from > (int64_t)from);
	}
	if (a->issuer != NULL) {
		json_t *iss = json_object_get(claims, "iss");
		if (!json_is_string(iss) || strcmp(json_string_value(iss), a->issuer) != 0)
			return err_set(e, ERR_UNAUTHENTICATED, "token issuer is not accepted");
	}
	if (a->audience != NULL && !audience_matches(json_object_get(claims, "aud"), a->audience))
		return err_set(e, ERR_UNAUTHENTICATED, "token audience is not accepted");

	json_t *account = json_object_get(claims, "account_id");
	if (!json_is_string(account) || json_string_length(account) == 0 ||
	    json_string_length(account) > AUTH_ID_MAX ||
	    strlen(json_string_value(account)) != json_string_length(account))
		return err_set(e, ERR_UNAUTHENTICATED,
			       "token account_id claim must be a string of 1 to %d bytes",
			       AUTH_ID_MAX);
	json_t *sub = json_object_get(claims, "sub");
	if (sub != NULL && !json_is_null(sub) &&
	    (!json_is_string(sub) || json_string_length(sub) > AUTH_ID_MAX ||
	     strlen(json_string_value(sub)) != json_string_length(sub)))
		return err_set(e, ERR_UNAUTHENTICATED, "token sub claim must be a short string");
	json_t *scope = json_object_get(claims, "scope");
	if (scope != NULL && !json_is_string(scope))
		return err_set(e, ERR_UNAUTHENTICATED, "token scope claim must be a string");

	memset(out, 0, sizeof(*out));
	memcpy(out->account_id, json_string_value(account), json_string_length(account));
	if (json_is_string(sub))
		memcpy(out->sub, json_string_value(sub), json_string_length(sub));
	out->scopes = scope == NULL ? (AUTH_SCOPE_READ | AUTH_SCOPE_WRITE)
				    : parse_scopes(json_string_value(scope));
	return ERR_OK;
}

enum err_code auth_verify_token(struct auth *a, const char *token, int64_t now_s,
				struct auth_principal *out, struct err *e)
{
	if (strlen(token) > MAX_TOKEN_BYTES)
		return err_set(e, ERR_UNAUTHENTICATED, "token is too long");
	uint64_t h = hash_token(token);
	if (cache_get(a, token, h, now_s, out))
		return ERR_OK;
	int64_t exp_s = 0, nbf_s = 0;
	jwt_t *jwt = NULL;
	if (jwt_decode(&jwt, token, a->key, (int)a->key_len) != 0 || jwt == NULL)
		return err_set(e, ERR_UNAUTHENTICATED, "token is malformed or its signature is wrong");
	enum err_code rc;
	/* libjwt reads "alg" without regard to case; names are case-sensitive (RFC 7515). */
	const char *alg = jwt_get_header(jwt, "alg");
	if (jwt_get_alg(jwt) != a->alg || alg == NULL || strcmp(alg, jwt_alg_str(a->alg)) != 0) {
		rc = err_set(e, ERR_UNAUTHENTICATED, "token algorithm %.32s is not the configured %s",
			     alg != NULL ? alg : "(none)", jwt_alg_str(a->alg));
		goto fail;
	}
	char *grants = jwt_get_grants_json(jwt, NULL);
	json_t *claims = grants ? json_loads(grants, 0, NULL) : NULL;
	free(grants);
	if (!json_is_object(claims)) {
		json_decref(claims);
		rc = err_set(e, ERR_UNAUTHENTICATED, "token claims are not a JSON object");
		goto fail;
	}
	rc = check_claims(a, claims, now_s, out, &exp_s, &nbf_s, e);
	json_decref(claims);
	if (rc == ERR_OK)
		cache_put(a, token, h, exp_s, nbf_s, out);
fail:
	jwt_free(jwt);
	return rc;
}

enum err_code auth_verify_bearer(struct auth *a, const char *authorization, int64_t now_s,
				 struct auth_principal *out, struct err *e)
{
	if (authorization == NULL)
		return err_set(e, ERR_UNAUTHENTICATED, "missing Authorization: Bearer token");
	if (strncasecmp(authorization, "Bearer ", 7) != 0)
		return err_set(e, ERR_UNAUTHENTICATED, "Authorization must use the Bearer scheme");
	const char *token = authorization + 7;
	while (*token == ' ')
		token++;
	if (!*token)
		return err_set(e, ERR_UNAUTHENTICATED, "empty Bearer token");
	return auth_verify_token(a, token, now_s, out, e);
}

char *auth_mint_hs256(const char *secret, const char *account_id, const char *sub,
		      const char *scope, int64_t iat_s, int64_t exp_s)
{
	jwt_t *jwt = NULL;
	char *out = NULL;
	if (jwt_new(&jwt) != 0)
		return NULL;
	if (jwt_add_grant(jwt, "account_id", account_id) == 0 &&
	    (sub == NULL || jwt_add_grant(jwt, "sub", sub) == 0) &&
	    (scope == NULL || jwt_add_grant(jwt, "scope", scope) == 0) &&
	    jwt_add_grant_int(jwt, "iat", (long)iat_s) == 0 &&
	    jwt_add_grant_int(jwt, "exp", (long)exp_s) == 0 &&
	    jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)strlen(secret)) == 0)
		out = jwt_encode_str(jwt);
	jwt_free(jwt);
	return out;
}
