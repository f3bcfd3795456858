/* The JSON create body as upload.c reads it: jsonscan, fed in random-sized pieces, streams the
 * content string into the data-URL decoder; jansson reads what is left; then the field rules.
 * Invariants: the outcome does not depend on how the body was split; an accepted create was a
 * valid JSON object with exactly one source (or pending), whose content, as jansson reads it,
 * is exactly what was streamed, and whose decoded bytes are OpenSSL's one-shot decode of it; a
 * text value is the body's bytes; description, read_access, shared_team_slugs and
 * test_resource_enabled are the body's (the slugs sorted and distinct, and there only with
 * SPECIFIC_TEAMS). */
#include "fuzz.h"
#include "api/api.h"
#include "api/dataurl.h"
#include "api/jsonscan.h"
#include "fetch/fetch.h"
#include "json/jsonget.h"
#include "meta/meta.h"

#include <openssl/evp.h>

#define REST_MAX 2048
#define UPLOAD_MAX 1024

struct run {
	enum err_code rc;
	struct fz_buf captured; /* what jsonscan streamed */
	struct fz_buf decoded;  /* what the decoder produced */
	struct fz_buf rest;
	struct dataurl_stream du;
	struct pool pool;
	json_t *body;
	struct create_fields f;
	struct create_source src;
};

static enum err_code du_sink(void *ctx, const void *data, size_t len, struct err *e)
{
	struct run *r = ctx;
	(void)e;
	fz_buf_add(&r->decoded, data, len);
	return ERR_OK;
}

static enum err_code scan_sink(void *ctx, const char *data, size_t len, struct err *e)
{
	struct run *r = ctx;
	fz_buf_add(&r->captured, data, len);
	return dataurl_stream_feed(&r->du, data, len, &r->pool, e);
}

/* seed 0: the body in one piece. */
static void run(const uint8_t *data, size_t size, uint64_t seed, struct run *r)
{
	struct err e = {0};
	struct jsonscan s;
	memset(r, 0, sizeof(*r));
	pool_init(&r->pool);
	jsonscan_init(&s, "content", REST_MAX, scan_sink, r);
	dataurl_stream_init(&r->du, UPLOAD_MAX, du_sink, r);
	enum err_code rc = ERR_OK;
	for (size_t off = 0; off < size && rc == ERR_OK;) {
		size_t n = seed ? fz_piece(&seed, size - off) : size;
		rc = jsonscan_feed(&s, (const char *)data + off, n, &e);
		off += n;
	}
	if (rc == ERR_OK)
		rc = jsonscan_finish(&s, &e);
	if (rc == ERR_OK)
		fz_buf_add(&r->rest, s.rest, s.rest_len);
	if (rc == ERR_OK)
		rc = jsonget_object(s.rest, s.rest_len, &r->body, &e);
	if (rc == ERR_OK)
		rc = api_create_json_fields(r->body, s.captured, &test_limits, &r->pool, &r->f,
					    &r->src, &e);
	if (rc == ERR_OK && r->src.has_content) {
		if (r->src.content != NULL)
			rc = dataurl_stream_feed(&r->du, r->src.content, r->src.content_len,
						 &r->pool, &e);
		if (rc == ERR_OK)
			rc = dataurl_stream_finish(&r->du, &r->pool, &e);
	} else if (rc == ERR_OK && r->src.has_uri) {
		rc = fetch_uri_check(r->src.uri, 2048, &e);
	}
	FZ_CHECK(rc == ERR_OK || e.msg[0] != '\0', "error %d without a message", (int)rc);
	r->rc = rc;
	jsonscan_cleanup(&s);
}

static void run_free(struct run *r)
{
	dataurl_stream_cleanup(&r->du);
	json_decref(r->body);
	pool_cleanup(&r->pool);
	free(r->captured.data);
	free(r->decoded.data);
	free(r->rest.data);
}

/* OpenSSL's one-shot decode of a data URL's payload (padding restored), or false. */
static bool reference_decode(const char *url, size_t len, struct fz_buf *out)
{
	const char *comma = memchr(url, ',', len);
	if (comma == NULL)
		return false;
	const char *p = comma + 1;
	size_t n = len - (size_t)(p - url), pad = 0;
	while (n > 0 && p[n - 1] == '=') {
		n--;
		pad++;
	}
	size_t padded = (n + 3) / 4 * 4;
	unsigned char *in = malloc(padded + 1), *dec = malloc(padded / 4 * 3 + 1);
	memcpy(in, p, n);
	memset(in + n, '=', padded - n);
	int got = EVP_DecodeBlock(dec, in, (int)padded);
	bool ok = got >= 0 && pad <= 2;
	if (ok)
		fz_buf_add(out, dec, (size_t)got - (padded - n));
	free(in);
	free(dec);
	return ok;
}

static bool same_string(json_t *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	       (json_is_string(a) && b != NULL && strcmp(json_string_value(a), b) == 0);
}

/* The fields every create shares, against the body. */
static void check_capabilities(json_t *orig, const struct create_fields *f)
{
	json_t *d = json_object_get(orig, "description");
	FZ_CHECK(json_is_string(d) ? same_string(d, f->description) : f->description == NULL,
		 "description differs");
	const char *access = f->read_access ? f->read_access : META_ACCESS_TEAM;
	FZ_CHECK(same_string(json_object_get(orig, "read_access"), f->read_access) ||
			 (json_object_get(orig, "read_access") == NULL &&
			  strcmp(access, META_ACCESS_TEAM) == 0),
		 "read_access %s", access);
	FZ_CHECK((f->nshared > 0) == (strcmp(access, META_ACCESS_SPECIFIC) == 0),
		 "%zu slugs with %s", f->nshared, access);
	for (size_t i = 1; i < f->nshared; i++)
		FZ_CHECK(strcmp(f->shared_with[i - 1], f->shared_with[i]) < 0, "slugs unsorted");
	FZ_CHECK(f->test_enabled == json_is_true(json_object_get(orig, "test_resource_enabled")),
		 "test flag");
}

/* An accepted create: the body itself is what jansson would have read. */
static void check_accepted(const uint8_t *data, size_t size, const struct run *r)
{
	json_error_t je;
	json_t *orig = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
	FZ_CHECK(json_is_object(orig), "accepted a body jansson refuses: %s", je.text);
	FZ_CHECK(same_string(json_object_get(orig, "name"), r->f.name), "name differs");
	FZ_CHECK(r->f.pending + r->src.has_content + r->src.has_uri + r->src.has_value == 1,
		 "not one source");
	check_capabilities(orig, &r->f);
	if (r->src.has_value) {
		json_t *v = json_object_get(orig, "value");
		FZ_CHECK(json_is_string(v) && json_string_length(v) == r->src.value_len &&
				 memcmp(json_string_value(v), r->src.value, r->src.value_len) == 0,
			 "value differs");
	}
	if (r->src.has_content) {
		json_t *c = json_object_get(orig, "content");
		FZ_CHECK(json_is_string(c), "content is not a string in the body");
		const char *v = json_string_value(c);
		size_t vlen = json_string_length(c);
		if (r->src.content == NULL) /* streamed */
			FZ_CHECK(r->captured.len == vlen && memcmp(r->captured.data, v, vlen) == 0,
				 "streamed content differs from jansson's (%zu vs %zu bytes)",
				 r->captured.len, vlen);
		struct fz_buf ref = {0};
		FZ_CHECK(reference_decode(v, vlen, &ref), "OpenSSL refuses accepted base64");
		FZ_CHECK(fz_buf_eq(&ref, &r->decoded), "decoded %zu bytes, OpenSSL %zu",
			 r->decoded.len, ref.len);
		free(ref.data);
	}
	json_decref(orig);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run one, many;
	run(data, size, 0, &one);
	run(data, size, fz_seed(data, size) | 1, &many);
	FZ_CHECK(one.rc == many.rc, "one piece: %d, pieces: %d", (int)one.rc, (int)many.rc);
	if (one.rc == ERR_OK) {
		FZ_CHECK(fz_buf_eq(&one.captured, &many.captured), "streamed bytes differ");
		FZ_CHECK(fz_buf_eq(&one.rest, &many.rest), "the rest differs");
		FZ_CHECK(fz_buf_eq(&one.decoded, &many.decoded), "decoded bytes differ");
		check_accepted(data, size, &one);
	}
	run_free(&one);
	run_free(&many);
	return 0;
}
