/* External-storage uris (fetch/external.c) on arbitrary bytes. Invariants: a refusal has a
 * message that repeats nothing of the uri's query (where a SAS travels); an accepted s3:// or
 * gs:// uri is recorded as given and requested from its configured endpoint; an accepted Azure
 * uri is recorded without any query parameter but snapshot and versionid, and requested as
 * given (up to a fragment); nothing else is claimed by these readers. */
#include "fuzz.h"
#include "fetch/external.h"

#include <strings.h>

static const struct external_settings settings = {
	.s3_endpoint = "http://127.0.0.1:9000",
	.s3_region = "us-east-1",
	.s3_access_key = "AK",
	.s3_secret_key = "SK",
	.gcs_endpoint = "https://storage.googleapis.com",
	.gcs_access_key = "",
	.gcs_secret_key = "",
	.azure_endpoints = "http://127.0.0.1:10000",
	.own_bucket = "depot-own",
};

static bool only_kept_params(const char *uri)
{
	const char *q = strchr(uri, '?');
	if (q == NULL)
		return true;
	for (const char *p = q + 1; *p;) {
		size_t n = strcspn(p, "&"), name = strcspn(p, "=&");
		if (!(name == 8 && strncasecmp(p, "snapshot", 8) == 0) &&
		    !(name == 9 && strncasecmp(p, "versionid", 9) == 0))
			return false;
		p += n + (p[n] == '&');
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct external *x;
	struct err e = {0};
	if (x == NULL)
		FZ_CHECK(external_open(&settings, &x, &e) == ERR_OK, "%s", e.msg);
	struct pool pool;
	pool_init(&pool);
	struct fz f = {data, size};
	size_t len;
	const char *uri = fz_cstr(&f, &pool, &len);
	struct external_ref r;
	enum err_code rc = external_ref_parse(x, uri, 2048, &pool, &r, &e);
	const char *q = strchr(uri, '?');
	if (rc != ERR_OK) {
		FZ_CHECK(rc == ERR_INVALID || rc == ERR_FORBIDDEN, "code %d", rc);
		FZ_CHECK(e.msg[0] != '\0', "no message");
		FZ_CHECK(q == NULL || strlen(q + 1) < 6 || strstr(e.msg, q + 1) == NULL,
			 "the query is in the message: %s", e.msg);
	} else if (r.kind == EXTERNAL_S3 || r.kind == EXTERNAL_GCS) {
		FZ_CHECK(strcmp(r.public_uri, uri) == 0, "recorded %s", r.public_uri);
		FZ_CHECK(q == NULL && strchr(uri, '#') == NULL, "query or fragment accepted");
		const char *ep = r.kind == EXTERNAL_S3 ? settings.s3_endpoint
						       : settings.gcs_endpoint;
		FZ_CHECK(strncmp(r.url, ep, strlen(ep)) == 0 && r.url[strlen(ep)] == '/',
			 "requested %s", r.url);
		FZ_CHECK(strcspn(r.url, " \t\r\n?#") == strlen(r.url), "requested %s", r.url);
	} else if (r.kind == EXTERNAL_AZURE) {
		FZ_CHECK(strcmp(r.storage_type, "azure_blob") == 0, "type");
		FZ_CHECK(only_kept_params(r.public_uri), "recorded %s", r.public_uri);
		size_t base = strcspn(uri, "?#");
		FZ_CHECK(strncmp(r.public_uri, uri, base) == 0, "recorded %s", r.public_uri);
		FZ_CHECK(strncmp(r.url, uri, strcspn(uri, "#")) == 0, "requested %s", r.url);
	} else {
		FZ_CHECK(r.kind == EXTERNAL_NONE, "kind %d", r.kind);
		FZ_CHECK(strncasecmp(uri, "s3://", 5) != 0 && strncasecmp(uri, "gs://", 5) != 0,
			 "an s3:// or gs:// uri left to the uri fetcher");
	}
	pool_cleanup(&pool);
	return 0;
}
