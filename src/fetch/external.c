/* The external-storage readers: S3 and Cloud Storage through their S3-compatible API, signed
 * with SigV4 (blob/s3_sign.h; Cloud Storage takes AWS4-HMAC-SHA256 with HMAC keys), and Azure
 * Blob with the SAS its uri carries. Each is one GET through fetch_int.h, so the address check,
 * the limits and the streaming into the blob writer are the uri fetcher's own. */
#include "fetch/external.h"
#include "blob/s3_parse.h"
#include "blob/s3_sign.h"
#include "core/buf.h"
#include "core/text.h"
#include "core/xalloc.h"
#include "fetch/fetch_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AZURE_SUFFIX ".blob.core.windows.net"
#define AZURE_ENDPOINTS_MAX 8
#define KEY_MAX 1024 /* bytes of an S3 key or Cloud Storage object name, decoded */

/* A configured endpoint: its URL, and the address it may use whatever the rules say. */
struct endpoint {
	char url[256];     /* "http(s)://host[:port]", no trailing '/' */
	char scheme[8];
	char host[200];    /* lowercase; an IPv6 literal in brackets */
	long port;
	char allow[220];   /* "IP:PORT" when host is an IP literal, else "" */
};

struct external {
	struct endpoint s3, gcs;
	bool s3_aws;       /* no S3 endpoint configured: AWS itself, by region */
	char s3_region[64];
	char s3_sigv4[96], gcs_sigv4[96];
	char *s3_access_key, *s3_secret_key;   /* owned, NULL when unsigned; never logged */
	char *gcs_access_key, *gcs_secret_key; /* owned, NULL when unsigned; never logged */
	struct endpoint azure[AZURE_ENDPOINTS_MAX];
	size_t nazure;
	char own_bucket[64]; /* depot's own blobs: no client reads them with these keys */
};

/* Scheme, lowercase host and port of an http(s) URL, or false. */
static bool url_origin(const char *url, char *scheme, size_t scap, char *host, size_t hcap,
		       long *port)
{
	CURLU *u = curl_url();
	char *sch = NULL, *h = NULL, *p = NULL;
	bool ok = u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
		  curl_url_get(u, CURLUPART_SCHEME, &sch, 0) == CURLUE_OK &&
		  curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
		  curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) == CURLUE_OK &&
		  strlen(sch) < scap && strlen(h) < hcap;
	if (ok) {
		for (size_t i = 0; sch[i]; i++)
			scheme[i] = (char)tolower((unsigned char)sch[i]);
		scheme[strlen(sch)] = '\0';
		for (size_t i = 0; h[i]; i++)
			host[i] = (char)tolower((unsigned char)h[i]);
		host[strlen(h)] = '\0';
		*port = strtol(p, NULL, 10);
	}
	curl_free(sch);
	curl_free(h);
	curl_free(p);
	curl_url_cleanup(u);
	return ok;
}

static bool ip_literal(const char *host)
{
	unsigned char a[16];
	char v6[64];
	size_t n = strlen(host);
	if (inet_pton(AF_INET, host, a) == 1)
		return true;
	if (n < 3 || host[0] != '[' || host[n - 1] != ']' || n - 2 >= sizeof(v6))
		return false;
	memcpy(v6, host + 1, n - 2);
	v6[n - 2] = '\0';
	return inet_pton(AF_INET6, v6, a) == 1;
}

static enum err_code endpoint_set(struct endpoint *ep, const char *url, const char *setting,
				  struct err *e)
{
	if (strlen(url) >= sizeof(ep->url))
		return err_set(e, ERR_INVALID, "%s is too long", setting);
	memcpy(ep->url, url, strlen(url) + 1);
	if (!s3_endpoint_fix(ep->url) || !url_origin(ep->url, ep->scheme, sizeof(ep->scheme),
						      ep->host, sizeof(ep->host), &ep->port))
		return err_set(e, ERR_INVALID, "%s must be http(s)://HOST[:PORT] with no path",
			       setting);
	ep->allow[0] = '\0';
	if (ip_literal(ep->host))
		snprintf(ep->allow, sizeof(ep->allow), "%s:%ld", ep->host, ep->port);
	return ERR_OK;
}

static enum err_code keys_set(const char *ak, const char *sk, const char *setting, char **ak_out,
			      char **sk_out, struct err *e)
{
	if (!*ak != !*sk)
		return err_set(e, ERR_INVALID, "%s: set both keys or neither", setting);
	*ak_out = *ak ? xstrdup(ak) : NULL;
	*sk_out = *sk ? xstrdup(sk) : NULL;
	return ERR_OK;
}

static enum err_code azure_set(struct external *x, const char *list, struct err *e)
{
	while (*list) {
		size_t n = strcspn(list, ",");
		char url[256];
		if (n >= sizeof(url))
			return err_set(e, ERR_INVALID, "DEPOT_EXTERNAL_AZURE_ENDPOINTS: too long");
		if (x->nazure == AZURE_ENDPOINTS_MAX)
			return err_set(e, ERR_INVALID,
				       "DEPOT_EXTERNAL_AZURE_ENDPOINTS: at most %d endpoints",
				       AZURE_ENDPOINTS_MAX);
		memcpy(url, list, n);
		url[n] = '\0';
		enum err_code rc = endpoint_set(&x->azure[x->nazure++], url,
						"DEPOT_EXTERNAL_AZURE_ENDPOINTS", e);
		if (rc != ERR_OK)
			return rc;
		list += n;
		if (*list == ',')
			list++;
	}
	return ERR_OK;
}

static bool region_ok(const char *r)
{
	if (!*r || strlen(r) >= 64)
		return false;
	for (; *r; r++)
		if (!islower((unsigned char)*r) && !isdigit((unsigned char)*r) && *r != '-')
			return false;
	return true;
}

enum err_code external_open(const struct external_settings *s, struct external **out,
			    struct err *e)
{
	struct external *x = xcalloc(1, sizeof(*x));
	enum err_code rc = ERR_OK;
	if (!region_ok(s->s3_region))
		rc = err_set(e, ERR_INVALID, "DEPOT_EXTERNAL_S3_REGION must be a region like "
					     "us-east-1");
	if (rc == ERR_OK) {
		memcpy(x->s3_region, s->s3_region, strlen(s->s3_region) + 1);
		s3_sign_provider(x->s3_region, x->s3_sigv4, sizeof(x->s3_sigv4));
		/* Cloud Storage's interoperable mode: AWS4-HMAC-SHA256, region "auto". */
		s3_sign_provider("auto", x->gcs_sigv4, sizeof(x->gcs_sigv4));
		x->s3_aws = !*s->s3_endpoint;
		if (!x->s3_aws)
			rc = endpoint_set(&x->s3, s->s3_endpoint, "DEPOT_EXTERNAL_S3_ENDPOINT", e);
	}
	if (rc == ERR_OK)
		rc = endpoint_set(&x->gcs, s->gcs_endpoint, "DEPOT_EXTERNAL_GCS_ENDPOINT", e);
	if (rc == ERR_OK)
		rc = azure_set(x, s->azure_endpoints, e);
	if (rc == ERR_OK)
		snprintf(x->own_bucket, sizeof(x->own_bucket), "%s", s->own_bucket);
	if (rc == ERR_OK)
		rc = keys_set(s->s3_access_key, s->s3_secret_key, "DEPOT_EXTERNAL_S3_ACCESS_KEY",
			      &x->s3_access_key, &x->s3_secret_key, e);
	if (rc == ERR_OK)
		rc = keys_set(s->gcs_access_key, s->gcs_secret_key,
			      "DEPOT_EXTERNAL_GCS_ACCESS_KEY", &x->gcs_access_key,
			      &x->gcs_secret_key, e);
	if (rc != ERR_OK) {
		external_close(x);
		return rc;
	}
	*out = x;
	return ERR_OK;
}

void external_close(struct external *x)
{
	if (x == NULL)
		return;
	free(x->s3_access_key);
	free(x->s3_secret_key);
	free(x->gcs_access_key);
	free(x->gcs_secret_key);
	free(x);
}

/* ------------------------------------------------------------------ parsing */

/* A Cloud Storage bucket: 3 to 222 of a-z, 0-9, '.', '-' and '_', starting and ending with a
 * letter or digit. */
static bool gcs_bucket_valid(const char *b)
{
	size_t n = strlen(b);
	if (n < 3 || n > 222)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = b[i];
		bool alnum = islower((unsigned char)c) || isdigit((unsigned char)c);
		if (!alnum && ((c != '.' && c != '-' && c != '_') || i == 0 || i == n - 1))
			return false;
	}
	return true;
}

/* Whether the path up to its query or fragment has a segment that is, or percent-decodes to,
 * "." or "..". libcurl collapses such segments before it signs and sends, so
 * "s3://any/a/../../BUCKET/" would reach another bucket (depot's own, past the check above)
 * with our keys; a client's uri may name one object only. */
static bool dot_segment(const char *path)
{
	for (const char *p = path; *p && *p != '?' && *p != '#';) {
		size_t n = strcspn(p, "/?#");
		char seg[8];
		if (n > 0 && n < 7 && s3_pct_decode(p, n, seg, sizeof(seg)) &&
		    (strcmp(seg, ".") == 0 || strcmp(seg, "..") == 0))
			return true;
		p += n;
		if (*p == '/')
			p++;
	}
	return false;
}

/* key with each '/'-separated segment percent-encoded (all but unreserved characters), as
 * SigV4's canonical path expects. */
static const char *key_escape(const char *key, struct pool *pool)
{
	struct buf b;
	buf_init(&b, strlen(key) * 3 + 1);
	for (const char *p = key;;) {
		size_t n = strcspn(p, "/");
		char *esc = curl_easy_escape(NULL, p, (int)n);
		if (esc == NULL)
			xalloc_die();
		buf_adds(&b, esc);
		curl_free(esc);
		if (p[n] != '/')
			break;
		buf_adds(&b, "/");
		p += n + 1;
	}
	const char *out = pool_strdup(pool, b.data);
	buf_free(&b);
	return out;
}

/* s3://BUCKET/KEY or gs://BUCKET/OBJECT (uri + 5 is what follows the scheme). */
static enum err_code bucket_parse(const struct external *x, enum external_kind kind,
				  const char *uri, struct pool *pool, struct external_ref *out,
				  struct err *e)
{
	const char *scheme = kind == EXTERNAL_S3 ? "s3" : "gs";
	const char *rest = uri + 5, *slash = strchr(rest, '/');
	if (strpbrk(rest, "?#") != NULL)
		return err_set(e, ERR_INVALID, "a %s:// uri takes no query or fragment "
					       "(percent-encode '?' and '#' in object names)",
			       scheme);
	if (slash == NULL || slash[1] == '\0')
		return err_set(e, ERR_INVALID, "uri must be %s://BUCKET/%s", scheme,
			       kind == EXTERNAL_S3 ? "KEY" : "OBJECT");
	char bucket[224];
	size_t blen = (size_t)(slash - rest);
	if (blen >= sizeof(bucket))
		return err_set(e, ERR_INVALID, "uri: the bucket name is too long");
	memcpy(bucket, rest, blen);
	bucket[blen] = '\0';
	if (kind == EXTERNAL_S3 ? !s3_bucket_valid(bucket) : !gcs_bucket_valid(bucket))
		return err_set(e, ERR_INVALID, "uri: '%s' is not a valid %s bucket name", bucket,
			       kind == EXTERNAL_S3 ? "S3" : "Cloud Storage");
	if (strcmp(bucket, x->own_bucket) == 0)
		return err_set(e, ERR_FORBIDDEN, "uri: %s is depot's own bucket", bucket);
	if (dot_segment(slash + 1))
		return err_set(e, ERR_INVALID, "uri: the object name has a '.' or '..' segment");
	char *key = pool_alloc(pool, KEY_MAX + 1);
	if (!s3_pct_decode(slash + 1, strlen(slash + 1), key, KEY_MAX + 1))
		return err_set(e, ERR_INVALID, "uri: the object name has a bad %%-escape, a NUL, "
					       "or more than %d bytes", KEY_MAX);
	if (!text_utf8_valid(key, strlen(key)) || text_has_control(key, strlen(key)))
		return err_set(e, ERR_INVALID,
			       "uri: the object name must be UTF-8 without control characters");
	const char *esc = key_escape(key, pool);
	if (kind == EXTERNAL_GCS) {
		out->url = pool_printf(pool, "%s/%s/%s", x->gcs.url, bucket, esc);
		out->allow = x->gcs.allow[0] ? x->gcs.allow : NULL;
	} else if (!x->s3_aws) {
		out->url = pool_printf(pool, "%s/%s/%s", x->s3.url, bucket, esc);
		out->allow = x->s3.allow[0] ? x->s3.allow : NULL;
	} else if (strchr(bucket, '.') == NULL) {
		out->url = pool_printf(pool, "https://%s.s3.%s.amazonaws.com/%s", bucket,
				       x->s3_region, esc);
	} else { /* a dotted bucket breaks the TLS name of the virtual host: path-style */
		out->url = pool_printf(pool, "https://s3.%s.amazonaws.com/%s/%s", x->s3_region,
				       bucket, esc);
	}
	out->kind = kind;
	out->storage_type = kind == EXTERNAL_S3 ? "s3" : "gcs";
	out->public_uri = pool_strdup(pool, uri);
	return ERR_OK;
}

/* The query parameters that name content (a snapshot or version of the blob): the rest of an
 * Azure query is the SAS, and goes. */
static const char *query_kept(const char *query, struct pool *pool)
{
	static const char *const kept[] = {"snapshot", "versionid"};
	struct buf b;
	buf_init(&b, strlen(query) + 1);
	for (const char *p = query; *p;) {
		size_t n = strcspn(p, "&"), name = strcspn(p, "=&");
		for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
			if (name == strlen(kept[i]) && strncasecmp(p, kept[i], name) == 0) {
				buf_adds(&b, b.len ? "&" : "?");
				buf_add(&b, p, n);
			}
		p += n;
		if (*p == '&')
			p++;
	}
	const char *out = pool_strdup(pool, b.len ? b.data : "");
	buf_free(&b);
	return out;
}

static bool has_param(const char *query, const char *name)
{
	size_t nl = strlen(name);
	for (const char *p = query; *p;) {
		size_t n = strcspn(p, "&");
		if (n > nl && p[nl] == '=' && strncasecmp(p, name, nl) == 0)
			return true;
		p += n;
		if (*p == '&')
			p++;
	}
	return false;
}

/* The emulator endpoint uri's origin is, or NULL. */
static const struct endpoint *emulator_of(const struct external *x, const char *scheme,
					  const char *host, long port)
{
	for (size_t i = 0; i < x->nazure; i++) {
		const struct endpoint *ep = &x->azure[i];
		if (strcmp(ep->scheme, scheme) == 0 && strcmp(ep->host, host) == 0 &&
		    ep->port == port)
			return ep;
	}
	return NULL;
}

/* How many '/'-separated, non-empty segments path has, at least: "/a/b/c" has 3. */
static size_t segments(const char *path)
{
	size_t n = 0;
	for (const char *p = path; *p;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		n++;
		p += strcspn(p, "/");
	}
	return n;
}

/* An Azure Blob URL: the real service by its host name, or a configured emulator by its
 * origin; anything else is no external uri. */
static enum err_code azure_parse(const struct external *x, const char *uri, struct pool *pool,
				 struct external_ref *out, struct err *e)
{
	char scheme[8], host[256];
	long port;
	if (!url_origin(uri, scheme, sizeof(scheme), host, sizeof(host), &port))
		return ERR_OK; /* not for this reader: the uri fetcher says what is wrong */
	size_t hl = strlen(host), sl = strlen(AZURE_SUFFIX);
	bool real = hl > sl && strcmp(host + hl - sl, AZURE_SUFFIX) == 0;
	const struct endpoint *emu = real ? NULL : emulator_of(x, scheme, host, port);
	if (!real && emu == NULL)
		return ERR_OK;
	if (real && strcmp(scheme, "https") != 0)
		return err_set(e, ERR_INVALID, "an Azure Blob uri must use https");
	const char *authority = uri + strlen(scheme) + 3; /* past "SCHEME://" */
	if (dot_segment(authority + strcspn(authority, "/?#")))
		return err_set(e, ERR_INVALID, "an Azure Blob uri's path has a '.' or '..' segment");
	CURLU *u = curl_url();
	char *user = NULL, *path = NULL, *query = NULL;
	enum err_code rc = ERR_OK;
	if (u == NULL)
		xalloc_die();
	curl_url_set(u, CURLUPART_URL, uri, 0);
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK)
		rc = err_set(e, ERR_INVALID, "an Azure Blob uri takes no user name or password");
	else if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK ||
		 segments(path) < (real ? 2u : 3u))
		rc = err_set(e, ERR_INVALID, "an Azure Blob uri must name %sCONTAINER/BLOB",
			     real ? "" : "ACCOUNT/");
	if (rc == ERR_OK) {
		if (curl_url_get(u, CURLUPART_QUERY, &query, 0) != CURLUE_OK)
			query = NULL;
		const char *q = query ? query : "";
		size_t base = strcspn(uri, "?#");
		out->kind = EXTERNAL_AZURE;
		out->storage_type = "azure_blob";
		out->public_uri = pool_printf(pool, "%.*s%s", (int)base, uri,
					      query_kept(q, pool));
		out->url = pool_strndup(pool, uri, strcspn(uri, "#"));
		out->allow = emu && emu->allow[0] ? emu->allow : NULL;
		out->has_sas = has_param(q, "sig");
	}
	curl_free(user);
	curl_free(path);
	curl_free(query);
	curl_url_cleanup(u);
	return rc;
}

enum err_code external_ref_parse(const struct external *x, const char *uri,
				 int64_t max_uri_bytes, struct pool *pool,
				 struct external_ref *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	enum err_code rc = fetch_uri_chars_check(uri, max_uri_bytes, e);
	if (rc != ERR_OK)
		return rc;
	if (strncasecmp(uri, "s3://", 5) == 0)
		return bucket_parse(x, EXTERNAL_S3, uri, pool, out, e);
	if (strncasecmp(uri, "gs://", 5) == 0)
		return bucket_parse(x, EXTERNAL_GCS, uri, pool, out, e);
	if (strncasecmp(uri, "http://", 7) == 0 || strncasecmp(uri, "https://", 8) == 0)
		return azure_parse(x, uri, pool, out, e);
	return ERR_OK;
}

/* ------------------------------------------------------------------ reading */

/* An answer other than 2xx or 304, converted once: the error code the source named (S3,
 * Cloud Storage and Azure all answer <Error><Code>...), never its message or our request. */
static enum err_code source_error(const struct external_ref *ref, const struct fetch_get *g,
				  struct err *e)
{
	char code[64] = "";
	if (!s3_xml_text(g->error_body, g->error_len, "Code", code, sizeof(code)))
		snprintf(code, sizeof(code), "HTTP %ld", g->status);
	if (g->status == 404)
		return err_set(e, ERR_NOT_FOUND, "%s: no such object at the source (%s)",
			       ref->public_uri, code);
	if (g->status == 401 || g->status == 403)
		return err_set(e, ERR_FORBIDDEN, "%s: the source refused access (%s)%s",
			       ref->public_uri, code,
			       ref->kind == EXTERNAL_AZURE && !ref->has_sas
				       ? "; give the uri with a SAS token that may read it"
				       : "");
	return err_set(e, g->status >= 400 && g->status < 500 ? ERR_INVALID : ERR_UPSTREAM,
		       "%s: the source answered HTTP %ld (%s)", ref->public_uri, g->status, code);
}

/* The ETag as external_id: the quotes of a strong tag go, a weak tag stays as it is. */
static const char *etag_id(const char *etag, struct pool *pool)
{
	size_t n = strlen(etag);
	if (n == 0)
		return NULL;
	if (n >= 2 && etag[0] == '"' && etag[n - 1] == '"')
		return pool_strndup(pool, etag + 1, n - 2);
	return pool_strdup(pool, etag);
}

static void sign(const struct external *x, const struct external_ref *ref, CURL *h,
		 struct curl_slist **headers)
{
	if (ref->kind == EXTERNAL_S3 && x->s3_access_key != NULL)
		s3_sign(h, x->s3_sigv4, x->s3_access_key, x->s3_secret_key, headers);
	else if (ref->kind == EXTERNAL_GCS && x->gcs_access_key != NULL)
		s3_sign(h, x->gcs_sigv4, x->gcs_access_key, x->gcs_secret_key, headers);
}

enum err_code external_fetch(const struct external *x, const struct fetch_opts *o,
			     const struct external_ref *ref, const char *if_none_match,
			     struct blob_writer *w, struct pool *pool, struct external_object *out,
			     struct err *e)
{
	memset(out, 0, sizeof(*out));
	struct fetch_get g = {.o = o, .w = w, .also_allow = ref->allow};
	struct curl_slist *headers = NULL;
	enum err_code rc = fetch_get_init(&g, ref->url, e);
	if (rc != ERR_OK)
		return rc;
	sign(x, ref, g.curl, &headers);
	if (if_none_match != NULL) {
		bool weak = strncmp(if_none_match, "W/", 2) == 0;
		char *h = pool_printf(pool, weak ? "If-None-Match: %s" : "If-None-Match: \"%s\"",
				      if_none_match);
		headers = curl_slist_append(headers, h);
	}
	curl_easy_setopt(g.curl, CURLOPT_HTTPHEADER, headers);
	CURLcode cc = fetch_get_perform(&g);
	rc = fetch_get_failure(&g, cc, ref->public_uri, e);
	if (rc == ERR_OK && g.status == 304 && if_none_match != NULL) {
		out->unchanged = true;
		out->external_id = pool_strdup(pool, if_none_match);
	} else if (rc == ERR_OK && (g.status < 200 || g.status > 299)) {
		rc = source_error(ref, &g, e);
	} else if (rc == ERR_OK) {
		out->external_id = etag_id(g.etag, pool);
		out->mime_type = fetch_get_content_type(&g, pool);
		/* A source that ignores If-None-Match sends the same version again. */
		out->unchanged = if_none_match != NULL && out->external_id != NULL &&
				 strcmp(out->external_id, if_none_match) == 0;
	}
	fetch_get_cleanup(&g);
	curl_slist_free_all(headers);
	return rc;
}
