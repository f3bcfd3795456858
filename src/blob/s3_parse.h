/* The pure parts of the S3 blob store: its settings URL and the few tags it reads from S3's XML
 * answers. No I/O, no globals, so the unit tests call them directly. */
#ifndef DEPOT_BLOB_S3_PARSE_H
#define DEPOT_BLOB_S3_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define S3_MIN_PART_BYTES (5ULL * 1024 * 1024) /* S3's smallest part but the last */
#define S3_MAX_PARTS 10000

struct s3_config {
	char bucket[64];             /* 3..63 of [a-z0-9.-], as S3 names buckets */
	char endpoint[256];          /* "http://host[:port]" or https, without a trailing '/' */
	char region[64];             /* signs the requests: "aws:amz:<region>:s3" */
	char spool_dir[1024];        /* staged uploads wait here; "" = $TMPDIR or /tmp */
	int64_t connect_timeout_s;   /* to open a connection to S3 */
	int64_t stall_timeout_s;     /* a transfer with no byte for this long fails */
	uint64_t multipart_threshold_bytes; /* larger content goes up in parts */
	uint64_t part_size_bytes;    /* size of each part but the last */
	int64_t sweep_grace_s;       /* start-up cleanup spares objects younger than this */
};

/* Parses what follows "s3:" in a blob URL:
 *   //BUCKET?endpoint=URL&region=R[&connect_timeout=S][&stall_timeout=S]
 *   [&multipart_threshold=BYTES][&part_size=BYTES][&sweep_grace=S][&spool=DIR]
 * Values may be percent-encoded; a key given twice or unknown is refused. Unset tunables get
 * their defaults (10 s, 30 s, 64 MiB, 16 MiB, 3600 s). ERR_INVALID names what is wrong. */
enum err_code s3_config_parse(const char *rest, struct s3_config *out, struct err *e)
	__attribute__((warn_unused_result));

/* Percent-decodes s[0..len) into out[cap]; false on a bad escape, an encoded NUL or no room. */
bool s3_pct_decode(const char *s, size_t len, char *out, size_t cap);

/* An S3 bucket name: 3 to 63 of a-z, 0-9, '.' and '-', starting and ending with a letter or
 * digit. */
bool s3_bucket_valid(const char *b);

/* Checks an endpoint in place: http(s)://host[:port] with at most a trailing '/', which goes
 * (requests append "/bucket/key"). No user info (credentials come from elsewhere), path or
 * query. */
bool s3_endpoint_fix(char *url);

/* The value of header name (case-insensitive) when the header line line[0..len) is that
 * header: blanks and CRLF trimmed, into out[cap]. False for another header, or no room. */
bool s3_header_value(const char *line, size_t len, const char *name, char *out, size_t cap);

/* Copies the text of the first <tag>...</tag> of xml[0..len), entities decoded, into out (cap
 * bytes with the NUL). False when the tag is missing or its text does not fit. */
bool s3_xml_text(const char *xml, size_t len, const char *tag, char *out, size_t cap);

/* One object of a ListObjectsV2 page. */
typedef void (*s3_list_fn)(void *ctx, const char *key, int64_t last_modified_us);

/* Calls fn for each <Contents> of a ListObjectsV2 answer with a key that fits 512 bytes and a
 * LastModified that parses, and reports whether the listing goes on (IsTruncated) and from where
 * (NextContinuationToken, into token[token_cap]). False when the answer is not a
 * ListBucketResult, or is truncated without a token. */
bool s3_list_parse(const char *xml, size_t len, s3_list_fn fn, void *ctx, bool *truncated,
		   char *token, size_t token_cap);

#endif
