/* Time as int64 microseconds since the Unix epoch, RFC 3339 out and ISO 8601 in. */
#ifndef DEPOT_CORE_TIMEFMT_H
#define DEPOT_CORE_TIMEFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIMEFMT_LEN 28 /* "2026-11-23T12:34:56.123456Z" and NUL */

/* The wall clock now, in microseconds. */
int64_t time_now_us(void);

/* Formats us as "YYYY-MM-DDTHH:MM:SS.ffffffZ" into out[TIMEFMT_LEN]. */
void time_format_us(int64_t us, char out[TIMEFMT_LEN]);

#define TIMEFMT_HTTP_LEN 32 /* "Sun, 06 Nov 1994 08:49:37 GMT" and NUL */

/* Formats us (truncated to seconds) as an HTTP-date (RFC 9110 IMF-fixdate). */
void time_format_http(int64_t us, char out[TIMEFMT_HTTP_LEN]);

/* Parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" ('t', 'z' and, for a '+' that a query
 * string turned into a space, ' ' before the offset are accepted). Fractions past microseconds
 * are truncated. Returns false on anything else, including out-of-range fields. */
bool time_parse_iso8601(const char *s, size_t len, int64_t *out_us);

#endif
