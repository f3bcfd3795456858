/* The per-request arena: bump allocation in chunks, large requests get a chunk of their own. */
#include "core/pool.h"
#include "core/xalloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_BYTES 8192
#define ALIGN 16

struct pool_chunk {
	struct pool_chunk *next;
	size_t used; /* bytes handed out from data */
	size_t cap;  /* bytes in data */
	_Alignas(ALIGN) unsigned char data[];
};

void pool_init(struct pool *p)
{
	p->head = NULL;
}

void pool_cleanup(struct pool *p)
{
	struct pool_chunk *c = p->head;
	while (c != NULL) {
		struct pool_chunk *next = c->next;
		free(c);
		c = next;
	}
	p->head = NULL;
}

void *pool_alloc(struct pool *p, size_t n)
{
	size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (need < n)
		xalloc_die();
	struct pool_chunk *c = p->head;
	if (c == NULL || c->cap - c->used < need) {
		size_t cap = need > CHUNK_BYTES / 2 ? need : CHUNK_BYTES;
		c = xmalloc(sizeof(*c) + cap);
		c->used = 0;
		c->cap = cap;
		/* A one-off large chunk goes behind the current one, so the current keeps serving. */
		if (need > CHUNK_BYTES / 2 && p->head != NULL) {
			c->next = p->head->next;
			p->head->next = c;
		} else {
			c->next = p->head;
			p->head = c;
		}
	}
	void *out = c->data + c->used;
	c->used += need;
	memset(out, 0, n);
	return out;
}

char *pool_strndup(struct pool *p, const char *s, size_t n)
{
	char *d = pool_alloc(p, n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *pool_strdup(struct pool *p, const char *s)
{
	return s == NULL ? NULL : pool_strndup(p, s, strlen(s));
}

char *pool_printf(struct pool *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		xalloc_die();
	char *d = pool_alloc(p, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(d, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return d;
}
