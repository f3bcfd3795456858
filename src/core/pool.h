/* A per-request arena: many small allocations, freed together in one place. */
#ifndef DEPOT_CORE_POOL_H
#define DEPOT_CORE_POOL_H

#include <stddef.h>

struct pool_chunk;

struct pool {
	struct pool_chunk *head; /* owned; newest chunk first */
};

/* Prepares an empty pool. No allocation happens until the first pool_alloc. */
void pool_init(struct pool *p);

/* Frees every allocation made from p; p may be reused afterwards. */
void pool_cleanup(struct pool *p);

/* Returns n zeroed bytes aligned for any type, valid until pool_cleanup. Aborts when out of
 * memory, as every allocation in depot does. */
void *pool_alloc(struct pool *p, size_t n);

/* Copies the NUL-terminated s (or NULL, returning NULL). */
char *pool_strdup(struct pool *p, const char *s);

/* Copies n bytes of s and terminates them. */
char *pool_strndup(struct pool *p, const char *s, size_t n);

/* printf into the pool. */
char *pool_printf(struct pool *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
