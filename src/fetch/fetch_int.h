/* What the uri fetcher shares with the external-storage readers (fetch/ only): one GET through
 * the address rules, its body streamed into a blob writer, and what came back. */
#ifndef DEPOT_FETCH_INT_H
#define DEPOT_FETCH_INT_H

#include <curl/curl.h>

#include "fetch/fetch.h"

#define FETCH_ERROR_BODY_MAX 4096 /* of an answer other than 2xx: kept for its error code */

struct fetch_get {
	/* set by the caller before fetch_get_init */
	const struct fetch_opts *o;
	const char *also_allow;       /* "IP:PORT,...": allowed for this transfer too, or NULL */
	struct blob_writer *w;        /* where a 2xx body goes */
	/* filled by the transfer */
	CURL *curl;
	long status;                  /* of the last answer */
	char etag[256];               /* its ETag header as sent, or "" */
	char error_body[FETCH_ERROR_BODY_MAX]; /* the start of a body other than 2xx */
	size_t error_len;
	uint64_t received;            /* 2xx body bytes */
	bool refused;                 /* a connection was refused by the address rules */
	bool too_large;
	enum err_code write_rc;
	struct err write_err;
};

/* The length and characters every uri must have (at most max_uri_bytes, printable ASCII, no
 * space), whatever its scheme. ERR_INVALID otherwise. */
enum err_code fetch_uri_chars_check(const char *uri, int64_t max_uri_bytes, struct err *e)
	__attribute__((warn_unused_result));

/* Makes g's handle for a GET of url: http/https only, no proxy from the environment, no
 * redirects (the caller may allow some), o's time and size limits, the address check on every
 * connection, 2xx bodies into w and other bodies into error_body. ERR_INTERNAL when curl
 * cannot start. */
enum err_code fetch_get_init(struct fetch_get *g, const char *url, struct err *e)
	__attribute__((warn_unused_result));

/* Runs the transfer; status is that of the last answer. */
CURLcode fetch_get_perform(struct fetch_get *g);

/* The failures every fetch shares, named after what (a uri without credentials, or "uri"):
 * a refused address (ERR_INVALID), the size limit (ERR_TOO_LARGE), the writer's own error, a
 * timeout (ERR_TIMEOUT), an unreachable or failing source (ERR_UPSTREAM). ERR_OK when an
 * answer arrived whole: its status is the caller's to judge. */
enum err_code fetch_get_failure(const struct fetch_get *g, CURLcode cc, const char *what,
				struct err *e) __attribute__((warn_unused_result));

/* The answer's Content-Type when it can be stored as a MIME type (pool copy), else NULL. */
const char *fetch_get_content_type(const struct fetch_get *g, struct pool *pool);

void fetch_get_cleanup(struct fetch_get *g);

#endif
