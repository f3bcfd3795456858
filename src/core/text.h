/* Byte-string helpers: UTF-8 validation, hex, percent-encoding. Pure functions. */
#ifndef DEPOT_CORE_TEXT_H
#define DEPOT_CORE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..len) is well-formed UTF-8 (no overlongs, surrogates or code points past
 * U+10FFFF). */
bool text_utf8_valid(const char *s, size_t len);

/* True when s[0..len), assumed valid UTF-8, holds a control character: U+0000..U+001F,
 * U+007F..U+009F. */
bool text_has_control(const char *s, size_t len);

/* Writes 2*len lowercase hex digits and a NUL to out (which holds 2*len+1 bytes). */
void text_hex(const unsigned char *bytes, size_t len, char *out);

/* The value of one hex digit (either case), or -1. */
int text_hex_digit(char c);

/* Percent-encodes s as RFC 5987 attr-char (for filename*=UTF-8''...). out holds 3*len+1 bytes. */
void text_pct_encode(const char *s, size_t len, char *out);

/* True when s can be stored and sent back as a MIME type: 3..255 printable ASCII bytes with a
 * '/' after the first, no quote or backslash. Client and upstream Content-Types that fail this
 * are sniffed instead. */
bool text_is_media_type(const char *s);

/* True when s is a UUID in 8-4-4-4-12 hex form (any case). */
bool text_is_uuid(const char *s);

/* The slug of a name: each ASCII letter or digit lower-cased, every other character (a UTF-8
 * sequence counts as one) '_'. out holds strlen(name) + 1 bytes. */
void text_slug(const char *name, char *out);

#endif
