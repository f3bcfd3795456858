/* The scanner tracks only what it needs to find the top-level field: the nesting depth, whether
 * it is inside a string, and at depth 1 whether the next string is a key. Everything it does not
 * stream is copied verbatim, so jansson still validates the whole document. */
#include "api/jsonscan.h"
#include "core/text.h"
#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

void jsonscan_init(struct jsonscan *s, const char *field, size_t rest_max,
		   jsonscan_sink_fn sink, void *sink_ctx)
{
	memset(s, 0, sizeof(*s));
	s->field = field;
	s->rest_max = rest_max;
	s->sink = sink;
	s->sink_ctx = sink_ctx;
}

void jsonscan_cleanup(struct jsonscan *s)
{
	free(s->rest);
	s->rest = NULL;
}

static enum err_code rest_add(struct jsonscan *s, const char *p, size_t n, struct err *e)
{
	if (s->rest_len + n > s->rest_max)
		return err_set(e, ERR_TOO_LARGE, "JSON fields besides content exceed %zu bytes",
			       s->rest_max);
	if (s->rest_len + n + 1 > s->rest_cap) {
		size_t cap = s->rest_cap ? s->rest_cap : 1024;
		while (cap < s->rest_len + n + 1)
			cap *= 2;
		s->rest = xrealloc(s->rest, cap);
		s->rest_cap = cap;
	}
	memcpy(s->rest + s->rest_len, p, n);
	s->rest_len += n;
	s->rest[s->rest_len] = '\0';
	return ERR_OK;
}

static enum err_code flush(struct jsonscan *s, struct err *e)
{
	enum err_code rc = ERR_OK;
	if (s->out_len > 0)
		rc = s->sink(s->sink_ctx, s->out, s->out_len, e);
	s->out_len = 0;
	return rc;
}

/* Runs shorter than this are copied into out rather than handed to the sink apart. */
#define PASS_MIN 512

static enum err_code emit(struct jsonscan *s, const char *p, size_t n, struct err *e)
{
	if (s->out_len + n > sizeof(s->out)) {
		enum err_code rc = flush(s, e);
		if (rc != ERR_OK)
			return rc;
		if (n > sizeof(s->out))
			return s->sink(s->sink_ctx, p, n, e);
	}
	memcpy(s->out + s->out_len, p, n);
	s->out_len += n;
	return ERR_OK;
}

/* A run of plain bytes: a long one goes to the sink as it is, after what out holds, rather
 * than through out (one copy fewer per byte of a big content); short ones are gathered. */
static enum err_code pass(struct jsonscan *s, const char *p, size_t n, struct err *e)
{
	if (n < PASS_MIN)
		return emit(s, p, n, e);
	enum err_code rc = flush(s, e);
	return rc != ERR_OK ? rc : s->sink(s->sink_ctx, p, n, e);
}

/* Consumes bytes of the streamed string; returns how many. */
static size_t capture(struct jsonscan *s, const char *p, size_t n, enum err_code *rc,
		      struct err *e)
{
	size_t i = 0;
	while (i < n && *rc == ERR_OK) {
		if (s->uhex > 0) {
			int v = text_hex_digit(p[i++]);
			if (v < 0) {
				*rc = err_set(e, ERR_INVALID, "malformed \\u escape in content");
				break;
			}
			s->ucode = s->ucode << 4 | (unsigned)v;
			if (--s->uhex == 0) {
				/* A data URL is ASCII. Refused here: no stand-in byte could mean what
				 * jansson reads there. */
				if (s->ucode >= 0x80) {
					*rc = err_set(e, ERR_INVALID,
						      "content must be ASCII (a data URL)");
					break;
				}
				char ch = (char)s->ucode;
				*rc = emit(s, &ch, 1, e);
			}
			continue;
		}
		if (s->escape) {
			static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
			const char *k = strchr(from, p[i]);
			s->escape = false;
			if (p[i] == 'u') {
				s->uhex = 4;
				s->ucode = 0;
			} else if (k != NULL && p[i] != '\0') {
				*rc = emit(s, &to[k - from], 1, e);
			} else {
				*rc = err_set(e, ERR_INVALID, "malformed escape in content");
			}
			i++;
			continue;
		}
		/* The common case: a run of plain characters, found with memchr (the run is
		 * usually the whole piece: a data URL has no escapes), goes to the sink. */
		const char *q = memchr(p + i, '"', n - i);
		size_t end = q != NULL ? (size_t)(q - p) : n;
		const char *b = memchr(p + i, '\\', end - i);
		size_t j = b != NULL ? (size_t)(b - p) : end;
		if (j > i && (*rc = pass(s, p + i, j - i, e)) != ERR_OK)
			break;
		i = j;
		if (i == n)
			break;
		if (p[i] == '\\') {
			s->escape = true;
			i++;
			continue;
		}
		/* The closing quote. */
		*rc = flush(s, e);
		if (*rc == ERR_OK)
			*rc = rest_add(s, "\"", 1, e);
		s->capturing = false;
		s->in_string = false;
		s->captured = true;
		s->value_is_field = false;
		return i + 1;
	}
	return i;
}

enum err_code jsonscan_feed(struct jsonscan *s, const char *p, size_t n, struct err *e)
{
	enum err_code rc = ERR_OK;
	size_t i = 0;
	while (i < n && rc == ERR_OK) {
		if (s->capturing) {
			i += capture(s, p + i, n - i, &rc, e);
			continue;
		}
		char c = p[i];
		if (s->in_string) {
			if (s->string_is_key && !s->escape && c != '"' && c != '\\') {
				if (s->key_len < sizeof(s->key))
					s->key[s->key_len++] = c;
				else
					s->key_odd = true;
			}
			if (s->escape) {
				s->escape = false;
			} else if (c == '\\') {
				s->escape = true;
				s->key_odd = s->key_odd || s->string_is_key;
			} else if (c == '"') {
				s->in_string = false;
				if (s->string_is_key)
					s->value_is_field = !s->key_odd &&
							    s->key_len == strlen(s->field) &&
							    memcmp(s->key, s->field, s->key_len) == 0;
			}
			rc = rest_add(s, &c, 1, e);
			i++;
			continue;
		}
		switch (c) {
		case '"':
			s->in_string = true;
			s->string_is_key = s->depth == 1 && s->expect_key;
			s->key_len = 0;
			s->key_odd = false;
			if (s->depth == 1 && !s->expect_key && s->value_is_field)
				s->capturing = true;
			break;
		case '{':
		case '[':
			s->depth++;
			s->expect_key = s->depth == 1 && c == '{';
			s->value_is_field = false;
			break;
		case '}':
		case ']':
			s->depth--;
			break;
		case ',':
			if (s->depth == 1)
				s->expect_key = true;
			break;
		case ':':
			if (s->depth == 1)
				s->expect_key = false;
			break;
		case ' ':
		case '\t':
		case '\r':
		case '\n':
			break;
		default:
			if (s->depth == 1 && !s->expect_key)
				s->value_is_field = false; /* a non-string value */
			break;
		}
		rc = rest_add(s, &c, 1, e);
		i++;
	}
	return rc;
}

enum err_code jsonscan_finish(struct jsonscan *s, struct err *e)
{
	if (s->capturing)
		return err_set(e, ERR_INVALID, "malformed JSON: content string is not terminated");
	return flush(s, e);
}
