/* Resources from external object storage: s3://BUCKET/KEY, gs://BUCKET/OBJECT and Azure Blob
 * URLs carrying a SAS token, read under the uri fetcher's rules (address check, time and size
 * limits) into a blob writer. Credentials for S3 and Cloud Storage come from the operator's
 * configuration, never from the uri; an Azure SAS comes with the uri and is never kept. */
#ifndef DEPOT_FETCH_EXTERNAL_H
#define DEPOT_FETCH_EXTERNAL_H

#include <stdbool.h>

#include "blob/blob.h"
#include "core/err.h"
#include "core/pool.h"
#include "fetch/fetch.h"

/* The operator's settings (strings borrowed for external_open only). */
struct external_settings {
	const char *s3_endpoint;     /* http(s)://HOST[:PORT], path-style; "" = AWS itself */
	const char *s3_region;       /* signs the requests */
	const char *s3_access_key;   /* "" = unsigned requests (public buckets only) */
	const char *s3_secret_key;
	const char *gcs_endpoint;    /* the XML API: http(s)://HOST[:PORT], path-style */
	const char *gcs_access_key;  /* an HMAC key id; "" = unsigned requests */
	const char *gcs_secret_key;
	const char *azure_endpoints; /* "URL,URL": emulators, as URL/ACCOUNT/CONTAINER/BLOB */
	const char *own_bucket;      /* the S3 bucket of depot's own blobs (no source), or "" */
};

struct external;

/* Checks s and keeps what the readers need. A configured endpoint whose host is an IP literal
 * is exempt from the address rules (the operator chose it; a client cannot point it elsewhere);
 * one named by a host name is not, and its addresses go in DEPOT_FETCH_ALLOW_ADDRS when they
 * are private. ERR_INVALID names the bad setting. */
enum err_code external_open(const struct external_settings *s, struct external **out,
			    struct err *e) __attribute__((warn_unused_result));

void external_close(struct external *x);

enum external_kind {
	EXTERNAL_NONE,  /* not an external uri: an ordinary http(s) one, or a bad one */
	EXTERNAL_S3,
	EXTERNAL_GCS,
	EXTERNAL_AZURE,
};

/* A parsed external uri. */
struct external_ref {
	enum external_kind kind;
	const char *storage_type; /* "s3", "gcs", "azure_blob" */
	const char *public_uri;   /* the uri without its SAS: what is recorded and shown */
	const char *url;          /* what is requested: may carry a SAS, so never shown or logged */
	const char *allow;        /* "IP:PORT" of a configured endpoint, or NULL */
	bool has_sas;             /* an Azure uri that carries a signature */
};

/* Parses uri (at most max_uri_bytes): s3:// and gs:// (the key percent-decoded, then encoded
 * for the request), https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB[?SAS], or a configured
 * emulator's URL/ACCOUNT/CONTAINER/BLOB[?SAS]. The public uri keeps of a query only snapshot
 * and versionid. kind EXTERNAL_NONE for any other uri. ERR_INVALID for a malformed external
 * uri (a message without the uri's query). No I/O. */
enum err_code external_ref_parse(const struct external *x, const char *uri,
				 int64_t max_uri_bytes, struct pool *pool,
				 struct external_ref *out, struct err *e)
	__attribute__((warn_unused_result));

/* What the source said about the object it sent. */
struct external_object {
	const char *external_id;  /* its ETag without quotes (pool), or NULL when it sent none */
	const char *mime_type;    /* its Content-Type when usable as one (pool), or NULL */
	bool unchanged;           /* its ETag is still if_none_match: nothing new in w */
};

/* Reads the object of ref into w (o's limits and address rules, no redirects). With
 * if_none_match (a previous external_id) asks for it only if it changed (If-None-Match).
 * Errors name ref's public uri: ERR_NOT_FOUND (no such bucket or object), ERR_FORBIDDEN (the
 * source refused access), ERR_INVALID (another 4xx, a forbidden address), ERR_TOO_LARGE,
 * ERR_TIMEOUT, ERR_UPSTREAM (unreachable, 5xx), and the writer's own errors. */
enum err_code external_fetch(const struct external *x, const struct fetch_opts *o,
			     const struct external_ref *ref, const char *if_none_match,
			     struct blob_writer *w, struct pool *pool, struct external_object *out,
			     struct err *e) __attribute__((warn_unused_result));

#endif
