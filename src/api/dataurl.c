/* data: URL splitting and streaming base64 decoding on OpenSSL's EVP_DecodeBlock, whole quads
 * at a time. */
#include "api/dataurl.h"

#include "core/xalloc.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


enum err_code dataurl_parse(const char *s, size_t len, struct pool *pool, const char **mime,
			    const char **payload, size_t *payload_len, struct err *e)
{
	if (len < 5 || strncasecmp(s, "data:", 5) != 0)
		return err_set(e, ERR_INVALID, "content must be a data URL (data:<mime>;base64,...)");
	const char *comma = memchr(s, ',', len);
	if (comma == NULL)
		return err_set(e, ERR_INVALID, "content data URL has no ',' before its payload");
	const char *hdr = s + 5;
	size_t hlen = (size_t)(comma - hdr);
	if (hlen < 7 || strncasecmp(comma - 7, ";base64", 7) != 0)
		return err_set(e, ERR_INVALID, "content data URL must be base64 (;base64,)");
	size_t mlen = hlen - 7;
	for (size_t i = 0; i < mlen; i++) {
		unsigned char c = (unsigned char)hdr[i];
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\')
			return err_set(e, ERR_INVALID, "content data URL has an invalid media type");
	}
	if (mlen > 255)
		return err_set(e, ERR_INVALID, "content data URL media type is too long");
	/* Parameters without a type ("data:;charset=utf-8;base64,") leave the type to sniffing. */
	if (mlen > 0 && hdr[0] == ';')
		mlen = 0;
	if (mlen > 0 && (memchr(hdr, '/', mlen) == NULL || hdr[0] == '/'))
		return err_set(e, ERR_INVALID, "content data URL media type must be type/subtype");
	*mime = pool_strndup(pool, hdr, mlen);
	*payload = comma + 1;
	*payload_len = len - (size_t)(comma + 1 - s);
	return ERR_OK;
}

void dataurl_stream_init(struct dataurl_stream *d, uint64_t max_bytes, base64_sink_fn sink,
			 void *sink_ctx)
{
	memset(d, 0, sizeof(*d));
	d->max_bytes = max_bytes;
	d->sink = sink;
	d->sink_ctx = sink_ctx;
}

void dataurl_stream_cleanup(struct dataurl_stream *d)
{
	free(d->batch);
	free(d->out);
	d->batch = NULL;
	d->out = NULL;
}

/* Decodes the whole quads of the batch, keeping the 0..3 characters after them. */
static enum err_code decode_batch(struct dataurl_stream *d, struct err *e)
{
	size_t full = d->batch_len / 4 * 4;
	if (full == 0)
		return ERR_OK;
	int got = EVP_DecodeBlock(d->out, (const unsigned char *)d->batch, (int)full);
	if (got < 0)
		return err_set(e, ERR_INVALID, "content is not valid base64");
	if (d->decoded + (uint64_t)got > d->max_bytes)
		return err_set(e, ERR_TOO_LARGE, "content is larger than %llu bytes",
			       (unsigned long long)d->max_bytes);
	d->decoded += (uint64_t)got;
	enum err_code rc = d->sink(d->sink_ctx, d->out, (size_t)got, e);
	memmove(d->batch, d->batch + full, d->batch_len - full);
	d->batch_len -= full;
	return rc;
}

enum err_code dataurl_stream_feed(struct dataurl_stream *d, const char *p, size_t n,
				  struct pool *pool, struct err *e)
{
	size_t i = 0;
	if (!d->in_payload) {
		while (i < n && p[i] != ',' && d->header_len < DATAURL_HEADER_MAX)
			d->header[d->header_len++] = p[i++];
		if (i == n)
			return ERR_OK;
		if (p[i] != ',')
			return err_set(e, ERR_INVALID, "content data URL header is too long");
		d->header[d->header_len++] = p[i++];
		d->header[d->header_len] = '\0';
		const char *payload;
		size_t plen;
		enum err_code rc = dataurl_parse(d->header, d->header_len, pool, &d->mime, &payload,
						 &plen, e);
		if (rc != ERR_OK)
			return rc;
		d->in_payload = true;
		d->batch = xmalloc(DATAURL_BATCH);
		d->out = xmalloc(DATAURL_BATCH / 4 * 3);
	}
	/* 1 for the base64 alphabet, 0 for anything else ('=' handled apart). */
	static const unsigned char alphabet[256] = {
		['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1,
		['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
		['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1,
		['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1,
		['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
		['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
		['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1,
		['x'] = 1, ['y'] = 1, ['z'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1,
		['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['+'] = 1,
		['/'] = 1,
	};
	while (i < n) {
		/* A run of alphabet characters goes into the batch in one copy. */
		size_t j = i, room = DATAURL_BATCH - d->batch_len;
		while (j < n && j - i < room && alphabet[(unsigned char)p[j]])
			j++;
		if (j > i) {
			if (d->pad > 0)
				return err_set(e, ERR_INVALID,
					       "content is not valid base64 (data after padding)");
			memcpy(d->batch + d->batch_len, p + i, j - i);
			d->batch_len += j - i;
			d->chars += j - i;
			i = j;
			if (d->batch_len == DATAURL_BATCH) {
				enum err_code rc = decode_batch(d, e);
				if (rc != ERR_OK)
					return rc;
			}
			continue;
		}
		if (p[i] != '=')
			return err_set(e, ERR_INVALID,
				       "content is not valid base64 (bad character at offset %llu)",
				       (unsigned long long)(d->chars + d->pad));
		if (++d->pad > 2)
			return err_set(e, ERR_INVALID, "content is not valid base64 (padding)");
		i++;
	}
	return ERR_OK;
}

enum err_code dataurl_stream_finish(struct dataurl_stream *d, struct pool *pool, struct err *e)
{
	(void)pool;
	if (!d->in_payload)
		return err_set(e, ERR_INVALID, "content must be a data URL (data:<mime>;base64,...)");
	size_t rem = d->chars % 4;
	if (rem == 1 || (d->pad > 0 && (d->chars + d->pad) % 4 != 0))
		return err_set(e, ERR_INVALID, "content is not valid base64 (bad length)");
	enum err_code rc = decode_batch(d, e);
	if (rc != ERR_OK || rem < 2)
		return rc;
	unsigned char quad[4] = {'=', '=', '=', '='};
	memcpy(quad, d->batch, rem);
	if (EVP_DecodeBlock(d->out, quad, 4) < 0)
		return err_set(e, ERR_INVALID, "content is not valid base64");
	if (d->decoded + rem - 1 > d->max_bytes)
		return err_set(e, ERR_TOO_LARGE, "content is larger than %llu bytes",
			       (unsigned long long)d->max_bytes);
	d->decoded += rem - 1;
	return d->sink(d->sink_ctx, d->out, rem - 1, e);
}
