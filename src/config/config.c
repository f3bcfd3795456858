/* The table of every setting: flag, environment variable, type, default and help, in one place,
 * so --help, the environment and the flags cannot drift apart. */
#include "config/config.h"
#include "core/xalloc.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum kind { K_STR, K_INT, K_BOOL };

struct setting {
	const char *flag;
	const char *env;
	enum kind kind;
	size_t offset;
	const char *def;
	int64_t min, max;
	const char *help;
};

#define OFF(f) offsetof(struct config, f)
#define MiB (1024LL * 1024)

static const struct setting settings[] = {
	{"listen", "DEPOT_LISTEN", K_STR, OFF(listen), "127.0.0.1:8080", 0, 0,
	 "address and port to listen on (IPv4 or [IPv6])"},
	{"data", "DEPOT_DATA", K_STR, OFF(data_dir), "./var", 0, 0,
	 "folder for the SQLite database and the blobs"},
	{"db", "DEPOT_DB", K_STR, OFF(db), "", 0, 0,
	 "metadata in PostgreSQL: a postgres:// or postgresql:// URL (libpq); empty: SQLite in the "
	 "data folder"},
	{"blobs", "DEPOT_BLOBS", K_STR, OFF(blobs), "", 0, 0,
	 "blob store: unset = files under --data; s3://BUCKET?endpoint=URL&region=R (keys from "
	 "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)"},
	{"s3-connect-timeout", "DEPOT_S3_CONNECT_TIMEOUT", K_INT, OFF(s3_connect_timeout_s), "10",
	 1, 300, "seconds to connect to S3"},
	{"s3-stall-timeout", "DEPOT_S3_STALL_TIMEOUT", K_INT, OFF(s3_stall_timeout_s), "30", 1,
	 3600, "seconds an S3 transfer may go without a byte before it fails"},
	{"s3-multipart-threshold", "DEPOT_S3_MULTIPART_THRESHOLD", K_INT,
	 OFF(s3_multipart_threshold), "67108864", 5 * MiB, 5 * 1024 * MiB,
	 "content larger than this goes to S3 as a multipart upload"},
	{"s3-part-size", "DEPOT_S3_PART_SIZE", K_INT, OFF(s3_part_size), "16777216", 5 * MiB,
	 5 * 1024 * MiB, "bytes per part of a multipart upload"},
	{"s3-sweep-grace", "DEPOT_S3_SWEEP_GRACE", K_INT, OFF(s3_sweep_grace_s), "3600", 0,
	 30 * 86400, "seconds: start-up cleanup keeps unreferenced S3 objects younger than this"},
	{"threads", "DEPOT_THREADS", K_INT, OFF(threads), "0", 0, 1024,
	 "HTTP event loops, which read requests and answer GET and HEAD (0: one per core with "
	 "SQLite and local files, 8 with PostgreSQL or S3, whose reads wait on the network)"},
	{"blocking-threads", "DEPOT_BLOCKING_THREADS", K_INT, OFF(blocking_threads), "8", 0, 1024,
	 "threads that run every other request (creates, updates, deletes, fetches: they wait on "
	 "the disk, the database or a remote server); 0: the event loops run them"},
	{"idle-timeout", "DEPOT_IDLE_TIMEOUT", K_INT, OFF(idle_timeout_s), "30", 1, 86400,
	 "seconds an idle connection is kept"},
	{"request-timeout", "DEPOT_REQUEST_TIMEOUT", K_INT, OFF(request_timeout_s), "30", 0, 86400,
	 "seconds a request's line and headers may take to arrive, and its body's head start; "
	 "slower is 408 and the connection closed (0: no deadline)"},
	{"min-body-rate", "DEPOT_MIN_BODY_RATE", K_INT, OFF(min_body_rate), "1024", 0, INT64_MAX / 2,
	 "bytes per second a request body must average beyond that head start (0: any rate)"},
	{"max-connections", "DEPOT_MAX_CONNECTIONS", K_INT, OFF(max_connections), "10000", 16,
	 1000000, "concurrent connections accepted (the open-files limit is raised to fit)"},
	{"shutdown-grace", "DEPOT_SHUTDOWN_GRACE", K_INT, OFF(shutdown_grace_s), "30", 0, 3600,
	 "seconds in-flight requests may take to finish after SIGTERM/SIGINT"},
	{"connection-memory", "DEPOT_CONNECTION_MEMORY", K_INT, OFF(connection_memory), "32768",
	 8192, 16 * MiB, "bytes of buffer per connection (libmicrohttpd clears it per request)"},
	{"max-upload-bytes", "DEPOT_MAX_UPLOAD_BYTES", K_INT, OFF(max_upload_bytes), "104857600", 0,
	 INT64_MAX / 2, "largest resource content, in bytes (larger is 413)"},
	{"max-body-bytes", "DEPOT_MAX_BODY_BYTES", K_INT, OFF(max_body_bytes), "0", 0, INT64_MAX / 2,
	 "largest request body; 0 derives it from max-upload-bytes (base64 plus 1 MiB)"},
	{"max-name-bytes", "DEPOT_MAX_NAME_BYTES", K_INT, OFF(max_name_bytes), "255", 1, 4096,
	 "longest resource name, in bytes"},
	{"max-path-bytes", "DEPOT_MAX_PATH_BYTES", K_INT, OFF(max_path_bytes), "1024", 1, 65536,
	 "longest directory_path, in bytes"},
	{"max-tag-bytes", "DEPOT_MAX_TAG_BYTES", K_INT, OFF(max_tag_bytes), "64", 1, 4096,
	 "longest tag, in bytes"},
	{"max-tags", "DEPOT_MAX_TAGS", K_INT, OFF(max_tags), "50", 0, 10000,
	 "most tags on one resource or in one list filter"},
	{"max-metadata-bytes", "DEPOT_MAX_METADATA_BYTES", K_INT, OFF(max_metadata_bytes), "65536",
	 2, 64 * MiB, "largest metadata object, as compact JSON"},
	{"max-description-bytes", "DEPOT_MAX_DESCRIPTION_BYTES", K_INT, OFF(max_description_bytes),
	 "4096", 0, 64 * MiB, "longest resource description, in bytes"},
	{"max-page-size", "DEPOT_MAX_PAGE_SIZE", K_INT, OFF(max_page_size), "100", 1, 10000,
	 "largest page_size of a list"},
	{"max-uri-bytes", "DEPOT_MAX_URI_BYTES", K_INT, OFF(max_uri_bytes), "2048", 16, 65536,
	 "longest uri accepted for a fetch"},
	{"max-json-bytes", "DEPOT_MAX_JSON_BYTES", K_INT, OFF(max_json_bytes), "1048576", 1024,
	 64 * MiB, "largest JSON body, not counting the streamed content"},
	{"inline-max-bytes", "DEPOT_INLINE_MAX_BYTES", K_INT, OFF(inline_max_bytes), "16384", 0,
	 262144, "content up to this size is stored inline with its row (0: always a file)"},
	{"min-free-bytes", "DEPOT_MIN_FREE_BYTES", K_INT, OFF(min_free_bytes), "33554432", 0,
	 INT64_MAX, "writes answer 507 while less than this would remain free on the data disk"},
	{"import-batch", "DEPOT_IMPORT_BATCH", K_INT, OFF(import_batch), "1000", 1, 100000,
	 "rows committed per transaction by POST /v1/resources/import"},
	{"upload-url-ttl", "DEPOT_UPLOAD_URL_TTL", K_INT, OFF(upload_url_ttl_s), "900", 1,
	 7 * 86400, "seconds a pending resource's upload URL is valid"},
	{"max-url-ttl", "DEPOT_MAX_URL_TTL", K_INT, OFF(max_url_ttl_s), "604800", 1, 366 * 86400,
	 "longest expires_in of a signed download URL, in seconds"},
	{NULL, "DEPOT_URL_SECRET", K_STR, OFF(url_secret), "", 0, 0,
	 "HMAC key of signed URLs (environment only; derived from DEPOT_JWT_SECRET when unset)"},
	{"public-url", "DEPOT_PUBLIC_URL", K_STR, OFF(public_url), "", 0, 0,
	 "base of the absolute URLs depotd hands out, e.g. https://depot.example.com"},
	{"fetch-timeout", "DEPOT_FETCH_TIMEOUT", K_INT, OFF(fetch_timeout_s), "30", 1, 86400,
	 "seconds a uri fetch may take in all"},
	{"fetch-max-redirects", "DEPOT_FETCH_MAX_REDIRECTS", K_INT, OFF(fetch_max_redirects), "5",
	 0, 50, "redirects a uri fetch may follow"},
	{"fetch-allow-private", "DEPOT_FETCH_ALLOW_PRIVATE", K_BOOL, OFF(fetch_allow_private), "0",
	 0, 1, "1 lets uri fetches reach loopback, private and link-local addresses"},
	{"fetch-allow-addrs", "DEPOT_FETCH_ALLOW_ADDRS", K_STR, OFF(fetch_allow_addrs), "", 0, 0,
	 "comma-separated IP:PORT exceptions to the address rules (an internal source)"},
	{"external-s3-endpoint", "DEPOT_EXTERNAL_S3_ENDPOINT", K_STR, OFF(external_s3_endpoint), "",
	 0, 0, "s3:// sources: an S3-compatible http(s)://HOST[:PORT] (path-style); empty: AWS"},
	{"external-s3-region", "DEPOT_EXTERNAL_S3_REGION", K_STR, OFF(external_s3_region),
	 "us-east-1", 0, 0, "s3:// sources: the region requests are signed for"},
	{NULL, "DEPOT_EXTERNAL_S3_ACCESS_KEY", K_STR, OFF(external_s3_access_key), "", 0, 0,
	 "s3:// sources: access key id (environment only; unset: AWS_ACCESS_KEY_ID, else unsigned)"},
	{NULL, "DEPOT_EXTERNAL_S3_SECRET_KEY", K_STR, OFF(external_s3_secret_key), "", 0, 0,
	 "s3:// sources: secret access key (environment only)"},
	{"external-gcs-endpoint", "DEPOT_EXTERNAL_GCS_ENDPOINT", K_STR, OFF(external_gcs_endpoint),
	 "https://storage.googleapis.com", 0, 0, "gs:// sources: the Cloud Storage XML API"},
	{NULL, "DEPOT_EXTERNAL_GCS_ACCESS_KEY", K_STR, OFF(external_gcs_access_key), "", 0, 0,
	 "gs:// sources: HMAC key id (environment only; unset: unsigned requests)"},
	{NULL, "DEPOT_EXTERNAL_GCS_SECRET_KEY", K_STR, OFF(external_gcs_secret_key), "", 0, 0,
	 "gs:// sources: HMAC secret (environment only)"},
	{"external-azure-endpoints", "DEPOT_EXTERNAL_AZURE_ENDPOINTS", K_STR,
	 OFF(external_azure_endpoints), "", 0, 0,
	 "comma-separated Azure Blob emulator endpoints (http://IP:PORT), addressed "
	 "URL/ACCOUNT/CONTAINER/BLOB"},
	{NULL, "DEPOT_JWT_SECRET", K_STR, OFF(jwt_secret), "", 0, 0,
	 "HS256 secret (environment only, so it never shows in ps)"},
	{"jwt-public-key", "DEPOT_JWT_PUBLIC_KEY", K_STR, OFF(jwt_public_key), "", 0, 0,
	 "path to a PEM public key for RS256 or ES256"},
	{"jwt-alg", "DEPOT_JWT_ALG", K_STR, OFF(jwt_alg), "RS256", 0, 0,
	 "RS256 or ES256: the algorithm of the public key"},
	{"jwt-issuer", "DEPOT_JWT_ISSUER", K_STR, OFF(jwt_issuer), "", 0, 0,
	 "required iss claim, when set"},
	{"jwt-audience", "DEPOT_JWT_AUDIENCE", K_STR, OFF(jwt_audience), "", 0, 0,
	 "required aud claim, when set"},
	{"jwt-leeway", "DEPOT_JWT_LEEWAY", K_INT, OFF(jwt_leeway_s), "0", 0, 3600,
	 "seconds of clock skew allowed on exp and nbf"},
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

static enum err_code apply(struct config *c, const struct setting *s, const char *value,
			   const char *from, struct err *e)
{
	char *base = (char *)c;
	switch (s->kind) {
	case K_STR: {
		char **dst = (char **)(base + s->offset);
		free(*dst);
		*dst = xstrdup(value);
		return ERR_OK;
	}
	case K_INT: {
		char *end;
		errno = 0;
		long long v = strtoll(value, &end, 10);
		if (errno != 0 || end == value || *end != '\0' || v < s->min || v > s->max)
			return err_set(e, ERR_INVALID, "%s: %s must be an integer from %lld to %lld",
				       from, s->env, (long long)s->min, (long long)s->max);
		*(int64_t *)(base + s->offset) = v;
		return ERR_OK;
	}
	case K_BOOL:
		if (strcmp(value, "1") == 0 || strcmp(value, "true") == 0) {
			*(bool *)(base + s->offset) = true;
		} else if (strcmp(value, "0") == 0 || strcmp(value, "false") == 0 || !*value) {
			*(bool *)(base + s->offset) = false;
		} else {
			return err_set(e, ERR_INVALID, "%s: %s must be 0 or 1", from, s->env);
		}
		return ERR_OK;
	}
	return ERR_INTERNAL;
}

static enum err_code validate(struct config *c, struct err *e)
{
	if (c->max_body_bytes == 0)
		c->max_body_bytes = c->max_upload_bytes / 3 * 4 + 4 + MiB;
	if (!*c->listen || strrchr(c->listen, ':') == NULL)
		return err_set(e, ERR_INVALID, "DEPOT_LISTEN must be HOST:PORT");
	if (!*c->data_dir)
		return err_set(e, ERR_INVALID, "DEPOT_DATA must not be empty");
	if (*c->db && strncmp(c->db, "postgres://", 11) != 0 &&
	    strncmp(c->db, "postgresql://", 13) != 0)
		return err_set(e, ERR_INVALID, "DEPOT_DB must be a postgres:// or postgresql:// URL");
	if (*c->blobs && strncmp(c->blobs, "s3://", 5) != 0)
		return err_set(e, ERR_INVALID, "DEPOT_BLOBS must be unset or s3://BUCKET?endpoint=...");
	if (!*c->jwt_secret && !*c->jwt_public_key)
		return err_set(e, ERR_INVALID,
			       "no JWT key: set DEPOT_JWT_SECRET (HS256) or DEPOT_JWT_PUBLIC_KEY");
	if (*c->jwt_secret && *c->jwt_public_key)
		return err_set(e, ERR_INVALID,
			       "set one of DEPOT_JWT_SECRET and DEPOT_JWT_PUBLIC_KEY, not both");
	if (*c->jwt_secret && strlen(c->jwt_secret) < 16)
		return err_set(e, ERR_INVALID, "DEPOT_JWT_SECRET must be at least 16 bytes");
	if (*c->public_url && strncmp(c->public_url, "http://", 7) != 0 &&
	    strncmp(c->public_url, "https://", 8) != 0)
		return err_set(e, ERR_INVALID, "DEPOT_PUBLIC_URL must start with http:// or https://");
	if (*c->url_secret && strlen(c->url_secret) < 16)
		return err_set(e, ERR_INVALID, "DEPOT_URL_SECRET must be at least 16 bytes");
	if (*c->jwt_public_key && strcmp(c->jwt_alg, "RS256") != 0 &&
	    strcmp(c->jwt_alg, "ES256") != 0)
		return err_set(e, ERR_INVALID, "DEPOT_JWT_ALG must be RS256 or ES256");
	return ERR_OK;
}

enum err_code config_load(struct config *c, int argc, char **argv, struct err *e)
{
	memset(c, 0, sizeof(*c));
	enum err_code rc;
	for (size_t i = 0; i < NSETTINGS; i++) {
		if ((rc = apply(c, &settings[i], settings[i].def, "default", e)) != ERR_OK)
			return rc;
		const char *v = getenv(settings[i].env);
		if (v != NULL && (rc = apply(c, &settings[i], v, "environment", e)) != ERR_OK)
			return rc;
	}
	for (int a = 1; a < argc; a++) {
		const char *arg = argv[a];
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			c->help = true;
			continue;
		}
		if (strcmp(arg, "--check-config") == 0 || strcmp(arg, "-n") == 0) {
			c->check_only = true;
			continue;
		}
		if (strncmp(arg, "--", 2) != 0)
			return err_set(e, ERR_INVALID, "unexpected argument '%s'", arg);
		const char *name = arg + 2, *eq = strchr(name, '=');
		size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
		const struct setting *s = NULL;
		for (size_t i = 0; i < NSETTINGS; i++)
			if (settings[i].flag && strlen(settings[i].flag) == nlen &&
			    strncmp(settings[i].flag, name, nlen) == 0)
				s = &settings[i];
		if (s == NULL)
			return err_set(e, ERR_INVALID, "unknown option '%.*s'", (int)nlen + 2, arg);
		const char *value = eq ? eq + 1 : NULL;
		if (value == NULL) {
			if (a + 1 >= argc)
				return err_set(e, ERR_INVALID, "option --%s needs a value", s->flag);
			value = argv[++a];
		}
		if ((rc = apply(c, s, value, "flag", e)) != ERR_OK)
			return rc;
	}
	if (c->help)
		return ERR_OK;
	return validate(c, e);
}

void config_cleanup(struct config *c)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (settings[i].kind == K_STR)
			free(*(char **)((char *)c + settings[i].offset));
	memset(c, 0, sizeof(*c));
}

void config_usage(FILE *out)
{
	fputs("usage: depotd [options]\n\n"
	      "Every option has an environment variable; the flag wins when both are set.\n"
	      "  --help, -h            this text\n"
	      "  --check-config, -n    validate the settings and the stores, then exit\n\n",
	      out);
	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct setting *s = &settings[i];
		char flag[40];
		if (s->flag != NULL)
			snprintf(flag, sizeof(flag), "--%s", s->flag);
		else
			snprintf(flag, sizeof(flag), "(env only)");
		fprintf(out, "  %-22s %-26s %s (default: %s)\n", flag, s->env, s->help,
			*s->def ? s->def : "unset");
	}
}
