/* Writing JSON straight into a buffer: strings escaped (invalid UTF-8 replaced with U+FFFD, so
 * the output is always valid JSON), no intermediate tree. */
#ifndef DEPOT_JSONW_H
#define DEPOT_JSONW_H

#include <stddef.h>

#include "core/buf.h"

/* Appends s as a JSON string (quotes included), or null when s is NULL. */
void jsonw_str(struct buf *b, const char *s);

/* Appends "key": */
void jsonw_key(struct buf *b, const char *key);

#endif
