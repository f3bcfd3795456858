/* data: URLs and the streaming base64 decoder (api/dataurl.c), fed in random-sized pieces.
 * The first byte picks the size limit. Invariants: the stream accepts exactly the strict base64
 * this file defines on its own (alphabet, at most two '=' only at the end, a length that is not
 * 1 mod 4, padding only to a multiple of 4), its bytes are OpenSSL's one-shot decode, a decode
 * over the limit is ERR_TOO_LARGE, and the media type is the one dataurl_parse reads from the
 * whole URL. */
#include "fuzz.h"
#include "api/dataurl.h"

#include <openssl/evp.h>

static enum err_code sink(void *ctx, const void *data, size_t len, struct err *e)
{
	(void)e;
	fz_buf_add(ctx, data, len);
	return ERR_OK;
}

static bool b64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/* The decode this file expects, or false when the payload is not strict base64. */
static bool reference(const char *p, size_t n, struct fz_buf *out)
{
	size_t pad = 0;
	while (n > 0 && p[n - 1] == '=' && pad < 3) {
		n--;
		pad++;
	}
	for (size_t i = 0; i < n; i++)
		if (!b64_char((unsigned char)p[i]))
			return false;
	if (pad > 2 || n % 4 == 1 || (pad > 0 && (n + pad) % 4 != 0))
		return false;
	size_t padded = (n + 3) / 4 * 4;
	unsigned char *in = malloc(padded + 1), *dec = malloc(padded / 4 * 3 + 1);
	memcpy(in, p, n);
	memset(in + n, '=', padded - n);
	int got = EVP_DecodeBlock(dec, in, (int)padded);
	FZ_CHECK(got >= 0, "OpenSSL refuses strict base64");
	fz_buf_add(out, dec, (size_t)got - (padded - n));
	free(in);
	free(dec);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t limits[] = {0, 1, 2, 3, 4, 5, 6, 100, 1 << 20};
	if (size == 0)
		return 0;
	uint64_t max = limits[data[0] % (sizeof(limits) / sizeof(limits[0]))];
	const char *url = (const char *)data + 1;
	size_t len = size - 1;
	uint64_t seed = fz_seed(data, size) | 1;
	struct pool pool;
	struct err e = {0};
	struct fz_buf got = {0}, want = {0};
	struct dataurl_stream d;
	pool_init(&pool);
	dataurl_stream_init(&d, max, sink, &got);
	enum err_code rc = ERR_OK;
	for (size_t off = 0; off < len && rc == ERR_OK;) {
		size_t n = fz_piece(&seed, len - off);
		rc = dataurl_stream_feed(&d, url + off, n, &pool, &e);
		off += n;
	}
	if (rc == ERR_OK)
		rc = dataurl_stream_finish(&d, &pool, &e);
	FZ_CHECK(rc == ERR_OK || e.msg[0] != '\0', "error without a message");
	FZ_CHECK(rc == ERR_OK || rc == ERR_INVALID || rc == ERR_TOO_LARGE, "code %d", (int)rc);

	const char *mime = NULL, *payload = NULL;
	size_t plen = 0;
	struct err pe = {0};
	bool header_ok = dataurl_parse(url, len, &pool, &mime, &payload, &plen, &pe) == ERR_OK;
	bool valid = header_ok && reference(payload, plen, &want);
	if (!valid) {
		FZ_CHECK(rc != ERR_OK, "accepted what is not a strict base64 data URL");
	} else if (want.len > max) {
		FZ_CHECK(rc == ERR_TOO_LARGE, "%zu bytes over a limit of %llu: code %d", want.len,
			 (unsigned long long)max, (int)rc);
	} else {
		FZ_CHECK(rc == ERR_OK, "refused a valid data URL: %s", e.msg);
		FZ_CHECK(fz_buf_eq(&got, &want), "decoded %zu bytes, OpenSSL %zu", got.len,
			 want.len);
		FZ_CHECK(d.decoded == got.len, "decoded count %llu", (unsigned long long)d.decoded);
		FZ_CHECK(d.mime != NULL && strcmp(d.mime, mime) == 0, "media type differs");
		FZ_CHECK(d.mime[0] == '\0' || strchr(d.mime, '/') != NULL, "media type %s",
			 d.mime);
	}
	dataurl_stream_cleanup(&d);
	pool_cleanup(&pool);
	free(got.data);
	free(want.data);
	return 0;
}
