/* data: URLs and base64, as pure functions: the decoder hands bytes to a sink in chunks so a
 * large payload never needs a second full-size buffer. */
#ifndef DEPOT_API_DATAURL_H
#define DEPOT_API_DATAURL_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/pool.h"

/* Splits "data:[<mime>][;k=v]*;base64,<payload>". *mime is the media type with its parameters
 * (pool copy, "" when absent); *payload points into s. */
enum err_code dataurl_parse(const char *s, size_t len, struct pool *pool, const char **mime,
			    const char **payload, size_t *payload_len, struct err *e)
	__attribute__((warn_unused_result));

/* Validates base64 (standard alphabet, optional padding, no whitespace) and reports the
 * decoded size. */
enum err_code base64_decoded_size(const char *b64, size_t len, uint64_t *out, struct err *e)
	__attribute__((warn_unused_result));

typedef enum err_code (*base64_sink_fn)(void *ctx, const void *buf, size_t len, struct err *e);

/* Decodes b64 (already validated by base64_decoded_size) into sink, chunk by chunk. */
enum err_code base64_decode_to(const char *b64, size_t len, base64_sink_fn sink, void *ctx,
			       struct err *e) __attribute__((warn_unused_result));

#endif
