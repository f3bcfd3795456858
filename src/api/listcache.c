/* A direct-mapped table of list answers, one lock per slot. */
#include "api/listcache.h"
#include "core/xalloc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	pthread_mutex_t lock;
	char *key;  /* NULL: empty */
	uint64_t gen;
	char *body;
	size_t len;
};

struct listcache {
	struct slot slots[LISTCACHE_SLOTS];
};

static struct slot *slot_of(struct listcache *lc, const char *key)
{
	uint64_t h = 1469598103934665603ull;
	for (const unsigned char *s = (const unsigned char *)key; *s; s++)
		h = (h ^ *s) * 1099511628211ull;
	return &lc->slots[h % LISTCACHE_SLOTS];
}

struct listcache *listcache_new(void)
{
	struct listcache *lc = xcalloc(1, sizeof(*lc));
	for (size_t i = 0; i < LISTCACHE_SLOTS; i++)
		pthread_mutex_init(&lc->slots[i].lock, NULL);
	return lc;
}

void listcache_free(struct listcache *lc)
{
	if (lc == NULL)
		return;
	for (size_t i = 0; i < LISTCACHE_SLOTS; i++) {
		pthread_mutex_destroy(&lc->slots[i].lock);
		free(lc->slots[i].key);
		free(lc->slots[i].body);
	}
	free(lc);
}

char *listcache_get(struct listcache *lc, const char *key, uint64_t gen, size_t *len)
{
	struct slot *s = slot_of(lc, key);
	char *copy = NULL;
	pthread_mutex_lock(&s->lock);
	if (s->key != NULL && s->gen == gen && strcmp(s->key, key) == 0) {
		copy = xmalloc(s->len + 1);
		memcpy(copy, s->body, s->len + 1);
		*len = s->len;
	}
	pthread_mutex_unlock(&s->lock);
	return copy;
}

void listcache_put(struct listcache *lc, const char *key, uint64_t gen, const char *body,
		   size_t len)
{
	if (len > LISTCACHE_MAX_BODY)
		return;
	struct slot *s = slot_of(lc, key);
	char *k = xstrdup(key), *b = xmalloc(len + 1);
	memcpy(b, body, len);
	b[len] = '\0';
	pthread_mutex_lock(&s->lock);
	char *old_key = s->key, *old_body = s->body;
	s->key = k;
	s->body = b;
	s->len = len;
	s->gen = gen;
	pthread_mutex_unlock(&s->lock);
	free(old_key);
	free(old_body);
}
