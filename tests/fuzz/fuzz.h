/* What every fuzz target shares: an input reader, deterministic piece sizes for streaming
 * parsers, the default limits, and FZ_CHECK, which aborts (a crash libFuzzer reports) when an
 * invariant fails. Header-only: each target is one translation unit. */
#ifndef DEPOT_FUZZ_H
#define DEPOT_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/limits.h"
#include "api/validate.h"
#include "core/pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_CHECK(cond, ...)                                                                 \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__, __LINE__, \
				#cond);                                                     \
			fprintf(stderr, __VA_ARGS__);                                       \
			fputc('\n', stderr);                                                \
			abort();                                                            \
		}                                                                           \
	} while (0)


/* A cursor over the input. */
struct fz {
	const uint8_t *p;
	size_t n;
};

static inline unsigned fz_byte(struct fz *f)
{
	if (f->n == 0)
		return 0;
	f->n--;
	return *f->p++;
}

static inline uint64_t fz_u64(struct fz *f, int bytes)
{
	uint64_t v = 0;
	for (int i = 0; i < bytes; i++)
		v = v << 8 | fz_byte(f);
	return v;
}

/* The bytes up to the next NUL (or the end) as a NUL-terminated pool copy. */
static inline char *fz_cstr(struct fz *f, struct pool *pool, size_t *len)
{
	const uint8_t *nul = memchr(f->p, 0, f->n);
	size_t n = nul ? (size_t)(nul - f->p) : f->n;
	char *s = pool_strndup(pool, (const char *)f->p, n);
	f->p += n + (nul != NULL);
	f->n -= n + (nul != NULL);
	if (len)
		*len = n;
	return s;
}

/* A small deterministic generator (splitmix64) seeded from the input, so a crash replays. */
static inline uint64_t fz_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t fz_seed(const uint8_t *data, size_t size)
{
	uint64_t h = 1469598103934665603ull ^ size;
	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 1099511628211ull;
	return h;
}

/* The size of the next piece of a stream: mostly tiny (the edges of every state), sometimes
 * large, never 0. */
static inline size_t fz_piece(uint64_t *state, size_t left)
{
	uint64_t r = fz_next(state);
	size_t n;
	switch (r & 3) {
	case 0:
		n = 1;
		break;
	case 1:
		n = 1 + (size_t)(r >> 8) % 4;
		break;
	case 2:
		n = 1 + (size_t)(r >> 8) % 64;
		break;
	default:
		n = 1 + (size_t)(r >> 8) % 4096;
		break;
	}
	return n < left ? n : left;
}

/* A growable byte buffer for what sinks receive. */
struct fz_buf {
	unsigned char *data;
	size_t len, cap;
};

static inline void fz_buf_add(struct fz_buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->data = realloc(b->data, b->cap);
		if (b->data == NULL)
			abort();
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

static inline bool fz_buf_eq(const struct fz_buf *a, const struct fz_buf *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* base64url without padding of in[0..n) into out (which holds 4 * n / 3 + 4 bytes). */
static inline size_t fz_b64url(const unsigned char *in, size_t n, char *out)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = abc[v >> 18];
		out[o++] = abc[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = abc[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = abc[v & 63];
	}
	out[o] = '\0';
	return o;
}

#endif
