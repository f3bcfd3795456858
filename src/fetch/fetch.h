/* Fetching a client-given http(s) URI into a blob, refusing every connection to an address the
 * client must not reach (checked after resolution, on every hop). */
#ifndef DEPOT_FETCH_H
#define DEPOT_FETCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "blob/blob.h"
#include "core/err.h"
#include "core/pool.h"

struct fetch_opts {
	int64_t timeout_s;       /* the whole transfer */
	int64_t max_redirects;
	uint64_t max_bytes;      /* more received is ERR_TOO_LARGE */
	int64_t max_uri_bytes;
	bool allow_private;      /* operator's choice: let loopback/private addresses through */
	const char *allow_addrs; /* "IP:PORT,[V6]:PORT": exceptions, or NULL */
};

/* True when a connection to sa may be made: not loopback, private, link-local, unspecified,
 * multicast, broadcast or reserved, nor an IPv6 form embedding such an IPv4 address — unless
 * allow_private, or sa's address and port are listed in allow_addrs. Pure. */
bool fetch_addr_allowed(const struct sockaddr *sa, bool allow_private, const char *allow_addrs);

/* Checks that uri is an absolute http/https URL of acceptable length. ERR_INVALID otherwise. */
enum err_code fetch_uri_check(const char *uri, int64_t max_uri_bytes, struct err *e)
	__attribute__((warn_unused_result));

/* uri as it may be recorded and shown (original_uri): without user info (user:password@) and
 * without the query parameters that carry a credential — sig and signature (Azure SAS, others),
 * X-Amz-Signature, X-Amz-Credential, X-Amz-Security-Token and AWSAccessKeyId (S3 presigned),
 * X-Goog-Signature, X-Goog-Credential and GoogleAccessId (Cloud Storage signed), access_token —
 * named in any case or percent-encoding — and without its fragment (never sent; an OAuth-style
 * one carries a token). Everything else is kept byte for byte. The fetch
 * itself uses the whole uri. Pure; the result is in pool. */
const char *fetch_uri_public(const char *uri, struct pool *pool);

/* Downloads uri into w. *content_type receives the response's Content-Type (pool copy) or
 * NULL. Errors: ERR_INVALID (bad URI, refused address, scheme change, too many redirects, the
 * source answered 4xx), ERR_TOO_LARGE, ERR_UPSTREAM (unreachable, 5xx), ERR_TIMEOUT, and the
 * blob writer's own errors. */
enum err_code fetch_uri(const struct fetch_opts *o, const char *uri, struct blob_writer *w,
			struct pool *pool, const char **content_type, struct err *e)
	__attribute__((warn_unused_result));

#endif
