/* data: URLs and base64, as pure functions: the one decoder is a stream that hands bytes to a
 * sink in chunks, so a large payload never needs a second full-size buffer. */
#ifndef DEPOT_API_DATAURL_H
#define DEPOT_API_DATAURL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/pool.h"

/* Splits "data:[<mime>][;k=v]*;base64,<payload>". *mime is the media type with its parameters
 * (pool copy, "" when absent); *payload points into s. */
enum err_code dataurl_parse(const char *s, size_t len, struct pool *pool, const char **mime,
			    const char **payload, size_t *payload_len, struct err *e)
	__attribute__((warn_unused_result));

typedef enum err_code (*base64_sink_fn)(void *ctx, const void *buf, size_t len, struct err *e);

/* A data URL decoded as it streams in: the header up to ',' is collected (at most
 * DATAURL_HEADER_MAX bytes), then base64 is validated and decoded chunk by chunk into the sink,
 * refusing more than max_bytes decoded bytes with ERR_TOO_LARGE. */
#define DATAURL_HEADER_MAX 512
#define DATAURL_BATCH 65536 /* most base64 characters decoded per call */

struct dataurl_stream {
	uint64_t max_bytes;
	base64_sink_fn sink;
	void *sink_ctx;
	const char *mime;        /* set once the header is complete (pool) */
	uint64_t decoded;        /* bytes handed to the sink */
	char header[DATAURL_HEADER_MAX + 2]; /* the header, its ',' and a NUL */
	size_t header_len;
	bool in_payload;
	unsigned pad;            /* '=' seen */
	uint64_t chars;          /* base64 characters seen, padding excluded */
	char quad[4];            /* the characters of an unfinished quad */
	size_t quad_len;
	unsigned char *out;      /* DATAURL_BATCH / 4 * 3 bytes, malloc'd */
};

void dataurl_stream_init(struct dataurl_stream *d, uint64_t max_bytes, base64_sink_fn sink,
			 void *sink_ctx);
enum err_code dataurl_stream_feed(struct dataurl_stream *d, const char *data, size_t len,
				  struct pool *pool, struct err *e)
	__attribute__((warn_unused_result));
/* Decodes what is left; ERR_INVALID when the URL or its base64 is incomplete. */
enum err_code dataurl_stream_finish(struct dataurl_stream *d, struct pool *pool, struct err *e)
	__attribute__((warn_unused_result));
void dataurl_stream_cleanup(struct dataurl_stream *d);

#endif
