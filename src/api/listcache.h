/* Answers of GET /v1/resources kept while nothing they show can have changed: each is filed
 * with the metadata store's list generation of its account (meta_list_generation), read before
 * the list ran, and is served only while that generation is still current. A list repeated
 * between writes (a polling client, a busy folder view) then costs a copy instead of ~100 row
 * reads with their tag, share and folder look-ups and the JSON of each. Bounded: LISTCACHE_SLOTS
 * answers of at most LISTCACHE_MAX_BODY bytes. Thread-safe. */
#ifndef DEPOT_API_LISTCACHE_H
#define DEPOT_API_LISTCACHE_H

#include <stddef.h>
#include <stdint.h>

#define LISTCACHE_SLOTS 32
#define LISTCACHE_MAX_BODY (128u * 1024)

struct listcache;

struct listcache *listcache_new(void);
void listcache_free(struct listcache *lc);

/* A malloc'd copy of the answer filed under key with generation gen, or NULL. */
char *listcache_get(struct listcache *lc, const char *key, uint64_t gen, size_t *len);

/* Files body (len bytes, copied) under key and gen, replacing what shared its slot. */
void listcache_put(struct listcache *lc, const char *key, uint64_t gen, const char *body,
		   size_t len);

#endif
