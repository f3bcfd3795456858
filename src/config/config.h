/* depotd's settings: parsed and validated once at start, read-only afterwards. */
#ifndef DEPOT_CONFIG_H
#define DEPOT_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"

struct config {
	char *listen;               /* "HOST:PORT", owned */
	char *data_dir;             /* owned */
	char *db;                   /* metadata store URL (postgres://...), or "" for SQLite in
				     * data_dir; owned; may hold a password: never logged */
	char *blobs;                /* blob store URL, owned; "" = files under data_dir */
	int64_t s3_connect_timeout_s;
	int64_t s3_stall_timeout_s;     /* an S3 transfer with no byte this long fails */
	int64_t s3_multipart_threshold; /* bytes; larger content is uploaded in parts */
	int64_t s3_part_size;           /* bytes of each part */
	int64_t s3_sweep_grace_s;       /* start-up cleanup spares younger objects */
	int64_t threads;            /* HTTP event loops (0: chosen at start) */
	int64_t blocking_threads;   /* threads running writes off the loops */
	int64_t idle_timeout_s;     /* a connection idle this long is closed */
	int64_t request_timeout_s;  /* a request's headers must arrive within this; 0 = no deadline */
	int64_t min_body_rate;      /* bytes/s a body must average after request_timeout_s; 0 = any */
	int64_t max_connections;    /* concurrent connections accepted */
	int64_t shutdown_grace_s;   /* after SIGTERM, how long in-flight requests may finish */
	int64_t connection_memory;  /* bytes of libmicrohttpd's pool per connection */
	int64_t max_upload_bytes;   /* decoded content of one resource */
	int64_t max_body_bytes;     /* one request body; 0 = derived from max_upload_bytes */
	int64_t max_name_bytes;
	int64_t max_path_bytes;
	int64_t max_tag_bytes;
	int64_t max_tags;
	int64_t max_metadata_bytes;
	int64_t max_description_bytes;
	int64_t max_page_size;
	int64_t max_uri_bytes;
	int64_t max_json_bytes;     /* a JSON body besides its streamed content */
	int64_t import_batch;       /* rows per import transaction */
	int64_t min_free_bytes;     /* the data disk's free-space watermark for writes */
	int64_t inline_max_bytes;   /* content up to this size lives inline in the metadata store */
	int64_t upload_url_ttl_s;   /* lifetime of a pending resource's upload URL */
	int64_t max_url_ttl_s;      /* longest expires_in of a signed download URL */
	char *url_secret;           /* HMAC key of signed URLs, owned; never logged */
	char *public_url;           /* base of absolute URLs, or "" for http://<Host> */
	int64_t fetch_timeout_s;
	int64_t fetch_max_redirects;
	bool fetch_allow_private;
	char *fetch_allow_addrs;    /* "IP:PORT,..." exceptions to the address rules, owned */
	char *external_s3_endpoint; /* s3:// sources; "" = AWS, owned */
	char *external_s3_region;
	char *external_s3_access_key; /* owned; never logged */
	char *external_s3_secret_key; /* owned; never logged */
	char *external_gcs_endpoint;  /* gs:// sources (the XML API), owned */
	char *external_gcs_access_key; /* HMAC key id, owned; never logged */
	char *external_gcs_secret_key; /* owned; never logged */
	char *external_azure_endpoints; /* "URL,..." Azure Blob emulators, owned */
	char *jwt_secret;           /* HS256 key, owned; never logged */
	char *jwt_public_key;       /* path to a PEM public key, owned */
	char *jwt_alg;              /* RS256 or ES256 with a public key */
	char *jwt_issuer;
	char *jwt_audience;
	int64_t jwt_leeway_s;
	bool check_only;            /* --check-config */
	bool help;                  /* --help */
};

/* Fills c from defaults, then the environment, then argv (flags win). On a bad value returns
 * ERR_INVALID with the setting named in e. */
enum err_code config_load(struct config *c, int argc, char **argv, struct err *e)
	__attribute__((warn_unused_result));

/* Frees what config_load allocated. */
void config_cleanup(struct config *c);

/* Prints every flag, its variable and default. */
void config_usage(FILE *out);

#endif
