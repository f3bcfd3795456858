/* A growable byte buffer (malloc'd), for responses written in one pass. */
#ifndef DEPOT_CORE_BUF_H
#define DEPOT_CORE_BUF_H

#include <stddef.h>

struct buf {
	char *data; /* malloc'd; NUL-terminated after every call */
	size_t len;
	size_t cap;
};

void buf_init(struct buf *b, size_t cap);
void buf_free(struct buf *b);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_adds(struct buf *b, const char *s);
/* v in decimal, as %lld would write it, without printf's cost. */
void buf_add_i64(struct buf *b, long long v);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hands the bytes to the caller (free() them); b is empty afterwards. */
char *buf_take(struct buf *b, size_t *len);

#endif
