/* Unit tests for api/dataurl: data: URL splitting and chunked base64 decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/dataurl.h"
#include "core/pool.h"

/* ---- dataurl_parse ---- */

struct parsed {
	enum err_code rc;
	char mime[300];
	char payload[300];
	size_t payload_len;
	char msg[256];
};

static struct parsed parse(const char *s)
{
	struct parsed r;
	memset(&r, 0, sizeof(r));
	struct pool p;
	pool_init(&p);
	const char *mime = NULL, *payload = NULL;
	size_t plen = 12345;
	struct err e = {0};
	r.rc = dataurl_parse(s, strlen(s), &p, &mime, &payload, &plen, &e);
	if (r.rc == ERR_OK) {
		assert_non_null(mime);
		assert_true(strlen(mime) < sizeof(r.mime));
		memcpy(r.mime, mime, strlen(mime) + 1);
		/* The payload points into s. */
		assert_true(payload >= s && payload + plen == s + strlen(s));
		assert_true(plen < sizeof(r.payload));
		memcpy(r.payload, payload, plen);
		r.payload_len = plen;
	} else {
		memcpy(r.msg, e.msg, sizeof(r.msg));
	}
	pool_cleanup(&p);
	return r;
}

static void parse_splits_mime_and_payload(void **state)
{
	(void)state;
	struct parsed r = parse("data:text/plain;base64,aGVsbG8=");
	assert_int_equal(r.rc, ERR_OK);
	assert_string_equal(r.mime, "text/plain");
	assert_string_equal(r.payload, "aGVsbG8=");
	assert_int_equal(r.payload_len, 8);
}

static void parse_keeps_parameters_in_mime(void **state)
{
	(void)state;
	struct parsed r = parse("data:text/plain;charset=utf-8;base64,QQ");
	assert_int_equal(r.rc, ERR_OK);
	assert_string_equal(r.mime, "text/plain;charset=utf-8");
	assert_string_equal(r.payload, "QQ");
	r = parse("data:image/svg+xml;a=1;b=2;base64,");
	assert_int_equal(r.rc, ERR_OK);
	assert_string_equal(r.mime, "image/svg+xml;a=1;b=2");
	assert_int_equal(r.payload_len, 0);
}

static void parse_empty_mime_is_empty_string(void **state)
{
	(void)state;
	struct parsed r = parse("data:;base64,AAEC");
	assert_int_equal(r.rc, ERR_OK);
	assert_string_equal(r.mime, "");
	assert_string_equal(r.payload, "AAEC");
	r = parse("data:;base64,");
	assert_int_equal(r.rc, ERR_OK);
	assert_string_equal(r.mime, "");
	assert_int_equal(r.payload_len, 0);
}

static void parse_payload_starts_after_first_comma(void **state)
{
	(void)state;
	struct parsed r = parse("data:application/octet-stream;base64,QQ==,x");
	assert_int_equal(r.rc, ERR_OK);
	assert_string_equal(r.mime, "application/octet-stream");
	assert_string_equal(r.payload, "QQ==,x"); /* the decoder refuses it later */
}

static void parse_rejects_other_schemes(void **state)
{
	(void)state;
	assert_int_equal(parse("").rc, ERR_INVALID);
	assert_int_equal(parse("data").rc, ERR_INVALID);
	assert_int_equal(parse("text/plain;base64,QQ==").rc, ERR_INVALID);
	assert_int_equal(parse("http://x/;base64,QQ==").rc, ERR_INVALID);
	assert_int_equal(parse(" data:text/plain;base64,QQ==").rc, ERR_INVALID);
	assert_int_equal(parse("dat:text/plain;base64,QQ==").rc, ERR_INVALID);
}

static void parse_rejects_missing_comma(void **state)
{
	(void)state;
	assert_int_equal(parse("data:text/plain;base64").rc, ERR_INVALID);
	assert_int_equal(parse("data:").rc, ERR_INVALID);
	assert_int_equal(parse("data:;base64QQ==").rc, ERR_INVALID);
}

static void parse_rejects_data_url_without_base64(void **state)
{
	(void)state;
	struct parsed r = parse("data:text/plain,hello");
	assert_int_equal(r.rc, ERR_INVALID);
	assert_non_null(strstr(r.msg, "base64"));
	assert_int_equal(parse("data:,hello").rc, ERR_INVALID);
	assert_int_equal(parse("data:text/plain;charset=utf-8,hi").rc, ERR_INVALID);
	assert_int_equal(parse("data:text/plain;base64x,QQ==").rc, ERR_INVALID);
	assert_int_equal(parse("data:text/plain;base6,QQ==").rc, ERR_INVALID);
	assert_int_equal(parse("data:text/plain;base64;x=y,QQ==").rc, ERR_INVALID);
}

static void parse_rejects_bad_media_type(void **state)
{
	(void)state;
	assert_int_equal(parse("data:text;base64,QQ==").rc, ERR_INVALID);
	assert_int_equal(parse("data:/plain;base64,QQ==").rc, ERR_INVALID);
	assert_int_equal(parse("data:text /plain;base64,QQ==").rc, ERR_INVALID);
	assert_int_equal(parse("data:text/pl\"ain;base64,QQ==").rc, ERR_INVALID);
	assert_int_equal(parse("data:text/plain\n;base64,QQ==").rc, ERR_INVALID);
	assert_int_equal(parse("data:text/pl\xc3\xa9;base64,QQ==").rc, ERR_INVALID);
}

/* ---- base64, through the streaming decoder (depot's one base64 decoder) ---- */

static enum err_code count_sink(void *ctx, const void *buf, size_t len, struct err *e)
{
	(void)buf;
	(void)e;
	*(uint64_t *)ctx += len;
	return ERR_OK;
}

/* Decodes b64[0..len) whole as "data:;base64,<b64>" into sink; *size gets the decoded size
 * and is left untouched on failure. */
static enum err_code stream_decode(const char *b64, size_t len, base64_sink_fn sink, void *ctx,
				   uint64_t *size, struct err *e)
{
	static const char head[] = "data:;base64,";
	struct pool pool;
	struct dataurl_stream d;
	pool_init(&pool);
	dataurl_stream_init(&d, UINT64_MAX, sink, ctx);
	enum err_code rc = dataurl_stream_feed(&d, head, sizeof(head) - 1, &pool, e);
	if (rc == ERR_OK)
		rc = dataurl_stream_feed(&d, b64, len, &pool, e);
	if (rc == ERR_OK)
		rc = dataurl_stream_finish(&d, &pool, e);
	if (rc == ERR_OK)
		*size = d.decoded;
	dataurl_stream_cleanup(&d);
	pool_cleanup(&pool);
	return rc;
}

static enum err_code size_of(const char *b64, uint64_t *out)
{
	struct err e = {0};
	uint64_t counted = 0;
	*out = 0xdeadbeef;
	enum err_code rc = stream_decode(b64, strlen(b64), count_sink, &counted, out, &e);
	if (rc != ERR_OK) {
		assert_true(e.msg[0] != '\0');
		assert_int_equal(*out, 0xdeadbeef); /* untouched on failure */
	}
	return rc;
}

static void assert_size(const char *b64, uint64_t want)
{
	uint64_t got;
	enum err_code rc = size_of(b64, &got);
	if (rc != ERR_OK)
		fail_msg("\"%s\" refused (%d), want size %llu", b64, rc, (unsigned long long)want);
	if (got != want)
		fail_msg("\"%s\": size %llu, want %llu", b64, (unsigned long long)got,
			 (unsigned long long)want);
}

static void assert_size_refused(const char *b64)
{
	uint64_t got;
	enum err_code rc = size_of(b64, &got);
	if (rc != ERR_INVALID)
		fail_msg("\"%s\": rc %d size %llu, want ERR_INVALID", b64, rc,
			 (unsigned long long)got);
}

static void size_of_every_remainder_padded_and_not(void **state)
{
	(void)state;
	assert_size("", 0);
	assert_size("QQ", 1);
	assert_size("QQ==", 1);
	assert_size("QUI", 2);
	assert_size("QUI=", 2);
	assert_size("QUJD", 3);
	assert_size("QUJDRA", 4);
	assert_size("QUJDRA==", 4);
	assert_size("QUJDREU", 5);
	assert_size("QUJDREU=", 5);
	assert_size("QUJDREVG", 6);
	assert_size("+/+/", 3);
	assert_size("AAAAAAAAAAAAAAAAAAAA", 15);
}

static void size_refuses_bad_lengths(void **state)
{
	(void)state;
	assert_size_refused("Q");
	assert_size_refused("QUJDR");
	assert_size_refused("Q===");
	assert_size_refused("QQ=");
	assert_size_refused("QUJD=");
	assert_size_refused("QUJD==");
	assert_size_refused("QUI==");
	assert_size_refused("=");
	assert_size_refused("==");
	assert_size_refused("====");
	assert_size_refused("QQ===");
}

static void size_refuses_bad_characters(void **state)
{
	(void)state;
	assert_size_refused("QU J");
	assert_size_refused("QUJD\n");
	assert_size_refused("QUJD\r\nQUJD");
	assert_size_refused("QU-_");   /* the URL-safe alphabet */
	assert_size_refused("Q=QQ");   /* padding in the middle */
	assert_size_refused("QQ==QUJD");
	assert_size_refused("QUJ\x80");
	assert_size_refused("QUJ.");
	uint64_t got;
	struct err e;
	uint64_t counted = 0;
	assert_int_equal(stream_decode("QU\0J", 4, count_sink, &counted, &got, &e), ERR_INVALID);
}

/* ---- decoding ---- */

struct collect {
	unsigned char *buf;
	size_t len, cap;
	int calls;
	int fail_on_call; /* 1-based; 0 = never */
};

static enum err_code collect_sink(void *ctx, const void *buf, size_t len, struct err *e)
{
	struct collect *c = ctx;
	c->calls++;
	if (c->fail_on_call != 0 && c->calls == c->fail_on_call)
		return err_set(e, ERR_NO_SPACE, "sink is full");
	if (c->len + len > c->cap) {
		c->cap = (c->len + len) * 2 + 16;
		c->buf = realloc(c->buf, c->cap);
		assert_non_null(c->buf);
	}
	memcpy(c->buf + c->len, buf, len);
	c->len += len;
	return ERR_OK;
}

static void assert_decodes(const char *b64, const char *want, size_t want_len)
{
	struct collect c = {0};
	struct err e = {0};
	uint64_t size = 0;
	enum err_code rc = stream_decode(b64, strlen(b64), collect_sink, &c, &size, &e);
	if (rc != ERR_OK)
		fail_msg("decode \"%s\" failed: %d %s", b64, rc, e.msg);
	assert_int_equal(size, want_len);
	if (c.len != want_len || (want_len && memcmp(c.buf, want, want_len) != 0))
		fail_msg("decode \"%s\" gave %zu bytes, want %zu", b64, c.len, want_len);
	free(c.buf);
}

static void decode_rfc4648_vectors(void **state)
{
	(void)state;
	assert_decodes("", "", 0);
	assert_decodes("Zg==", "f", 1);
	assert_decodes("Zm8=", "fo", 2);
	assert_decodes("Zm9v", "foo", 3);
	assert_decodes("Zm9vYg==", "foob", 4);
	assert_decodes("Zm9vYmE=", "fooba", 5);
	assert_decodes("Zm9vYmFy", "foobar", 6);
}

static void decode_without_padding(void **state)
{
	(void)state;
	assert_decodes("Zg", "f", 1);
	assert_decodes("Zm8", "fo", 2);
	assert_decodes("Zm9vYg", "foob", 4);
	assert_decodes("Zm9vYmE", "fooba", 5);
}

static void decode_binary_bytes(void **state)
{
	(void)state;
	assert_decodes("AP8A/w==", "\x00\xff\x00\xff", 4);
	assert_decodes("+/+/", "\xfb\xff\xbf", 3);
	assert_decodes("AAAA", "\0\0\0", 3);
}

static void decode_round_trip(size_t n, bool strip_padding)
{
	unsigned char *raw = malloc(n);
	assert_non_null(raw);
	assert_int_equal(RAND_bytes(raw, (int)n), 1);
	size_t tlen = 4 * ((n + 2) / 3);
	unsigned char *text = malloc(tlen + 1);
	assert_non_null(text);
	assert_int_equal(EVP_EncodeBlock(text, raw, (int)n), (int)tlen);
	size_t len = tlen;
	if (strip_padding)
		while (len > 0 && text[len - 1] == '=')
			len--;
	uint64_t size = 0;
	struct err e = {0};
	struct collect c = {0};
	assert_int_equal(stream_decode((char *)text, len, collect_sink, &c, &size, &e), ERR_OK);
	assert_int_equal(size, n);
	assert_int_equal(c.len, n);
	assert_memory_equal(c.buf, raw, n);
	assert_true(c.calls > 1); /* 200 KB comes in more than one chunk */
	free(c.buf);
	free(text);
	free(raw);
}

static void decode_200kb_random_matches_openssl_padded(void **state)
{
	(void)state;
	decode_round_trip(200 * 1024, false);     /* n % 3 == 2: one '=' */
	decode_round_trip(200 * 1024 + 1, false); /* n % 3 == 0 */
	decode_round_trip(200 * 1024 + 2, false); /* n % 3 == 1: "==" */
}

static void decode_200kb_random_matches_openssl_unpadded(void **state)
{
	(void)state;
	decode_round_trip(200 * 1024, true);
	decode_round_trip(200 * 1024 + 1, true);
	decode_round_trip(200 * 1024 + 2, true);
}

static void decode_stops_at_the_first_sink_error(void **state)
{
	(void)state;
	size_t n = 200 * 1024;
	unsigned char *raw = calloc(1, n);
	unsigned char *text = malloc(4 * ((n + 2) / 3) + 1);
	assert_non_null(raw);
	assert_non_null(text);
	int tlen = EVP_EncodeBlock(text, raw, (int)n);
	struct collect c = {.fail_on_call = 2};
	struct err e = {0};
	uint64_t size = 0;
	assert_int_equal(stream_decode((char *)text, (size_t)tlen, collect_sink, &c, &size, &e),
			 ERR_NO_SPACE);
	assert_int_equal(c.calls, 2);
	assert_string_equal(e.msg, "sink is full");
	free(c.buf);
	free(text);
	free(raw);
}

static void decode_reports_sink_error_on_the_tail(void **state)
{
	(void)state;
	struct collect c = {.fail_on_call = 1};
	struct err e = {0};
	uint64_t size = 0;
	assert_int_equal(stream_decode("Zg", 2, collect_sink, &c, &size, &e), ERR_NO_SPACE);
	assert_int_equal(c.calls, 1);
	struct collect c2 = {.fail_on_call = 2};
	assert_int_equal(stream_decode("Zm9vYg==", 8, collect_sink, &c2, &size, &e), ERR_NO_SPACE);
	assert_int_equal(c2.calls, 2);
	free(c2.buf);
}

/* ---- dataurl_stream ---- */

/* Feeds text in pieces of varying size; returns the first error, or finish's result. */
static enum err_code stream_run(const char *text, size_t len, uint64_t max, struct collect *c,
				char mime_out[64], struct err *e)
{
	struct pool p;
	pool_init(&p);
	struct dataurl_stream d;
	dataurl_stream_init(&d, max, collect_sink, c);
	enum err_code rc = ERR_OK;
	size_t off = 0, step = 1;
	while (rc == ERR_OK && off < len) {
		size_t n = len - off < step ? len - off : step;
		rc = dataurl_stream_feed(&d, text + off, n, &p, e);
		off += n;
		step = step * 7 % 9973 + 1; /* 1, 8, 57, 400, ... irregular */
	}
	if (rc == ERR_OK)
		rc = dataurl_stream_finish(&d, &p, e);
	if (rc == ERR_OK && mime_out != NULL) {
		assert_non_null(d.mime);
		snprintf(mime_out, 64, "%s", d.mime);
		assert_int_equal(d.decoded, c->len);
	}
	dataurl_stream_cleanup(&d);
	pool_cleanup(&p);
	return rc;
}

static char *make_data_url(const char *header, const unsigned char *raw, size_t n, bool pad,
			   size_t *len)
{
	size_t hl = strlen(header);
	char *text = malloc(hl + 4 * ((n + 2) / 3) + 1);
	assert_non_null(text);
	memcpy(text, header, hl);
	int tl = EVP_EncodeBlock((unsigned char *)text + hl, raw, (int)n);
	*len = hl + (size_t)tl;
	if (!pad)
		while (*len > hl && text[*len - 1] == '=')
			(*len)--;
	return text;
}

static void stream_in_pieces_matches_the_bytes(void **state)
{
	(void)state;
	for (size_t extra = 0; extra < 3; extra++) {
		for (int pad = 0; pad < 2; pad++) {
			size_t n = 200 * 1024 + extra;
			unsigned char *raw = malloc(n);
			assert_non_null(raw);
			assert_int_equal(RAND_bytes(raw, (int)n), 1);
			size_t len;
			char *text = make_data_url("data:application/x-test;v=1;base64,", raw, n,
						   pad != 0, &len);
			struct collect c = {0};
			struct err e = {0};
			char mime[64];
			enum err_code rc = stream_run(text, len, n, &c, mime, &e);
			if (rc != ERR_OK)
				fail_msg("n=%zu pad=%d: %d %s", n, pad, rc, e.msg);
			assert_string_equal(mime, "application/x-test;v=1");
			assert_int_equal(c.len, n);
			assert_memory_equal(c.buf, raw, n);
			free(c.buf);
			free(text);
			free(raw);
		}
	}
}

static void stream_small_and_empty_payloads(void **state)
{
	(void)state;
	struct collect c = {0};
	struct err e = {0};
	char mime[64];
	const char *foob = "data:;base64,Zm9vYg==";
	assert_int_equal(stream_run(foob, strlen(foob), 100, &c, mime, &e), ERR_OK);
	assert_string_equal(mime, "");
	assert_int_equal(c.len, 4);
	assert_memory_equal(c.buf, "foob", 4);
	free(c.buf);
	struct collect c0 = {0};
	const char *empty = "data:text/plain;base64,";
	assert_int_equal(stream_run(empty, strlen(empty), 100, &c0, mime, &e), ERR_OK);
	assert_string_equal(mime, "text/plain");
	assert_int_equal(c0.len, 0);
}

static void stream_over_max_bytes_is_too_large(void **state)
{
	(void)state;
	size_t n = 150 * 1024;
	unsigned char *raw = calloc(1, n);
	assert_non_null(raw);
	size_t len;
	char *text = make_data_url("data:;base64,", raw, n, true, &len);
	struct collect c = {0};
	struct err e = {0};
	assert_int_equal(stream_run(text, len, n - 1, &c, NULL, &e), ERR_TOO_LARGE);
	assert_true(c.len <= n - 1);
	free(c.buf);
	struct collect c2 = {0};
	assert_int_equal(stream_run(text, len, n, &c2, NULL, &e), ERR_OK);
	assert_int_equal(c2.len, n);
	free(c2.buf);
	/* Crossed in the last partial quad too. */
	struct collect c3 = {0};
	assert_int_equal(stream_run("data:;base64,Zm9vYg", 19, 3, &c3, NULL, &e), ERR_TOO_LARGE);
	free(c3.buf);
	free(text);
	free(raw);
}

static enum err_code stream_rc(const char *text)
{
	struct collect c = {0};
	struct err e = {0};
	enum err_code rc = stream_run(text, strlen(text), 1 << 20, &c, NULL, &e);
	free(c.buf);
	if (rc != ERR_OK)
		assert_true(e.msg[0] != '\0');
	return rc;
}

static void stream_refuses_malformed_urls(void **state)
{
	(void)state;
	assert_int_equal(stream_rc(""), ERR_INVALID);
	assert_int_equal(stream_rc("data:text/plain;base64"), ERR_INVALID);
	assert_int_equal(stream_rc("data:text/plain,hello"), ERR_INVALID);
	assert_int_equal(stream_rc("http://x/;base64,QQ=="), ERR_INVALID);
	assert_int_equal(stream_rc("data:text;base64,QQ=="), ERR_INVALID);
	assert_int_equal(stream_rc("data:;base64,Q"), ERR_INVALID);
	assert_int_equal(stream_rc("data:;base64,QQ="), ERR_INVALID);
	assert_int_equal(stream_rc("data:;base64,QQ==QQ=="), ERR_INVALID);
	assert_int_equal(stream_rc("data:;base64,QQ==="), ERR_INVALID);
	assert_int_equal(stream_rc("data:;base64,QU J"), ERR_INVALID);
	assert_int_equal(stream_rc("data:;base64,QUJD\n"), ERR_INVALID);
	assert_int_equal(stream_rc("data:;base64,QU-_"), ERR_INVALID);
	char longhdr[700];
	memcpy(longhdr, "data:text/plain;x=", 18);
	memset(longhdr + 18, 'a', 600);
	memcpy(longhdr + 618, ";base64,QQ==", 13);
	assert_int_equal(stream_rc(longhdr), ERR_INVALID);
}

/* Found by fuzz_create_json: a header of exactly DATAURL_HEADER_MAX bytes followed by ','
 * wrote the terminating NUL one byte past the header buffer. Every length around the limit is
 * refused cleanly, in one piece and byte by byte. */
static void stream_header_at_the_limit_is_refused_in_bounds(void **state)
{
	(void)state;
	for (size_t hlen = DATAURL_HEADER_MAX - 2; hlen <= DATAURL_HEADER_MAX + 2; hlen++) {
		char text[DATAURL_HEADER_MAX + 16];
		memset(text, 'a', sizeof(text));
		memcpy(text, "data:", 5);
		memcpy(text + hlen, ",QQ==", 6);
		for (size_t step = 1; step <= sizeof(text); step += sizeof(text) - 1) {
			struct pool p;
			pool_init(&p);
			struct collect c = {0};
			struct err e = {0};
			struct dataurl_stream d;
			dataurl_stream_init(&d, 100, collect_sink, &c);
			enum err_code rc = ERR_OK;
			size_t len = strlen(text);
			for (size_t off = 0; rc == ERR_OK && off < len; off += step)
				rc = dataurl_stream_feed(&d, text + off,
							 len - off < step ? len - off : step, &p, &e);
			assert_int_equal(rc, ERR_INVALID);
			dataurl_stream_cleanup(&d);
			pool_cleanup(&p);
			free(c.buf);
		}
	}
}

static void stream_stops_at_the_first_sink_error(void **state)
{
	(void)state;
	size_t n = 200 * 1024;
	unsigned char *raw = calloc(1, n);
	assert_non_null(raw);
	size_t len;
	char *text = make_data_url("data:;base64,", raw, n, true, &len);
	struct collect c = {.fail_on_call = 2};
	struct err e = {0};
	assert_int_equal(stream_run(text, len, n, &c, NULL, &e), ERR_NO_SPACE);
	assert_int_equal(c.calls, 2);
	assert_string_equal(e.msg, "sink is full");
	free(c.buf);
	free(text);
	free(raw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_splits_mime_and_payload),
		cmocka_unit_test(parse_keeps_parameters_in_mime),
		cmocka_unit_test(parse_empty_mime_is_empty_string),
		cmocka_unit_test(parse_payload_starts_after_first_comma),
		cmocka_unit_test(parse_rejects_other_schemes),
		cmocka_unit_test(parse_rejects_missing_comma),
		cmocka_unit_test(parse_rejects_data_url_without_base64),
		cmocka_unit_test(parse_rejects_bad_media_type),
		cmocka_unit_test(size_of_every_remainder_padded_and_not),
		cmocka_unit_test(size_refuses_bad_lengths),
		cmocka_unit_test(size_refuses_bad_characters),
		cmocka_unit_test(decode_rfc4648_vectors),
		cmocka_unit_test(decode_without_padding),
		cmocka_unit_test(decode_binary_bytes),
		cmocka_unit_test(decode_200kb_random_matches_openssl_padded),
		cmocka_unit_test(decode_200kb_random_matches_openssl_unpadded),
		cmocka_unit_test(decode_stops_at_the_first_sink_error),
		cmocka_unit_test(decode_reports_sink_error_on_the_tail),
		cmocka_unit_test(stream_in_pieces_matches_the_bytes),
		cmocka_unit_test(stream_small_and_empty_payloads),
		cmocka_unit_test(stream_over_max_bytes_is_too_large),
		cmocka_unit_test(stream_refuses_malformed_urls),
		cmocka_unit_test(stream_header_at_the_limit_is_refused_in_bounds),
		cmocka_unit_test(stream_stops_at_the_first_sink_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
