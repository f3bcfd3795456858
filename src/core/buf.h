/* A growable byte buffer (malloc'd), for responses written in one pass. */
#ifndef DEPOT_CORE_BUF_H
#define DEPOT_CORE_BUF_H

#include <stddef.h>
#include <string.h>

struct buf {
	char *data; /* malloc'd; NUL-terminated after every call */
	size_t len;
	size_t cap;
};

void buf_init(struct buf *b, size_t cap);
void buf_free(struct buf *b);

/* Makes room for more bytes and the NUL after them. */
void buf_grow(struct buf *b, size_t more);

/* Inline: a response is written in many small pieces (a page of 100 resources in ~10,000), and
 * a call per piece was a tenth of a list's time; a literal's length and copy then compile to
 * a few instructions. */
static inline void buf_add(struct buf *b, const void *data, size_t len)
{
	if (b->len + len + 1 > b->cap)
		buf_grow(b, len);
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

static inline void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}
/* v in decimal, as %lld would write it, without printf's cost. */
void buf_add_i64(struct buf *b, long long v);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hands the bytes to the caller (free() them); b is empty afterwards. */
char *buf_take(struct buf *b, size_t *len);

#endif
