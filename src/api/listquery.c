/* tags, directory_prefix, created_after/before, sort, page, page_size. */
#include "api/listquery.h"
#include "core/text.h"
#include "core/timefmt.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	if (s == NULL || !*s || strlen(s) > 18)
		return false;
	int64_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (*p - '0');
	}
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

static enum err_code parse_tags(const char *s, const struct limits *l, struct pool *pool,
				struct meta_query *q, struct err *e)
{
	size_t n = 1;
	for (const char *p = s; *p; p++)
		n += *p == ',';
	if (n > l->max_tags * 4 + 16)
		return err_set(e, ERR_INVALID, "tags: at most %zu distinct tags", l->max_tags);
	const char **items = pool_alloc(pool, n * sizeof(*items));
	const char *p = s;
	for (size_t i = 0; i < n; i++) {
		size_t len = strcspn(p, ",");
		items[i] = pool_strndup(pool, p, len);
		p += len + (p[len] == ',');
	}
	return validate_tags(items, n, l, "tags", pool, &q->tags, &q->ntags, e);
}

static enum err_code parse_time(const char *name, const char *s, int64_t *out, struct err *e)
{
	if (!time_parse_iso8601(s, strlen(s), out))
		return err_set(e, ERR_INVALID,
			       "%s must be an ISO 8601 date-time with Z or an offset, like "
			       "2026-01-02T03:04:05Z",
			       name);
	return ERR_OK;
}

/* Cursors are base64url("c1:<a|d>:<created_us>:<id>") without padding: opaque to clients,
 * checked field by field when they come back. */
void listquery_cursor_encode(enum meta_sort sort, int64_t created_us, const char *id,
			     char out[LISTQUERY_CURSOR_MAX])
{
	char plain[80];
	int n = snprintf(plain, sizeof(plain), "c1:%c:%lld:%.36s", sort == META_SORT_ASC ? 'a' : 'd',
			 (long long)created_us, id);
	unsigned char b64[LISTQUERY_CURSOR_MAX];
	int m = EVP_EncodeBlock(b64, (const unsigned char *)plain, n);
	int k = 0;
	for (int i = 0; i < m && b64[i] != '='; i++)
		out[k++] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char)b64[i];
	out[k] = '\0';
}

static enum err_code parse_cursor(const char *v, struct pool *pool, struct meta_query *q,
				  struct err *e)
{
	size_t n = strlen(v);
	char b64[LISTQUERY_CURSOR_MAX + 4];
	unsigned char plain[LISTQUERY_CURSOR_MAX];
	if (n == 0 || n > LISTQUERY_CURSOR_MAX - 4 || n % 4 == 1)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			goto bad;
		b64[i] = c == '-' ? '+' : c == '_' ? '/' : c;
	}
	size_t len = n;
	while (len % 4)
		b64[len++] = '=';
	int got = EVP_DecodeBlock(plain, (const unsigned char *)b64, (int)len);
	if (got < 0)
		goto bad;
	got -= (int)(len - n); /* padding decodes to zero bytes */
	plain[got] = '\0';
	/* c1:<a|d>:<digits>:<uuid>, the shortest being 43 bytes */
	const char *p = (const char *)plain;
	if (got < 43 || strncmp(p, "c1:", 3) != 0 || (p[3] != 'a' && p[3] != 'd') || p[4] != ':')
		goto bad;
	char *end;
	errno = 0;
	long long t = strtoll(p + 5, &end, 10);
	if (end == p + 5 || errno != 0 || *end != ':' || strlen(end + 1) != 36 ||
	    !text_is_uuid(end + 1) || strpbrk(end + 1, "ABCDEF") != NULL)
		goto bad;
	/* Only the spelling depot writes: no leading zeros, signs, spaces, uppercase ids or stray
	 * base64 bits naming the same position another way. */
	char again[LISTQUERY_CURSOR_MAX];
	listquery_cursor_encode(p[3] == 'a' ? META_SORT_ASC : META_SORT_DESC, t, end + 1, again);
	if (strcmp(again, v) != 0)
		goto bad;
	if ((p[3] == 'a') != (q->sort == META_SORT_ASC))
		return err_set(e, ERR_INVALID, "cursor was made for the other sort order");
	q->has_cursor = true;
	q->cursor_created_us = t;
	q->cursor_id = pool_strdup(pool, end + 1);
	return ERR_OK;
bad:
	return err_set(e, ERR_INVALID, "cursor is malformed");
}

enum err_code listquery_parse(listquery_get_fn get, void *ctx, const struct limits *l,
			      struct pool *pool, struct meta_query *q, int64_t *page,
			      int64_t *page_size, struct err *e)
{
	enum err_code rc;
	const char *v;
	q->created_after_us = INT64_MIN;
	q->created_before_us = INT64_MAX;
	q->sort = META_SORT_DESC;
	q->directory_prefix = NULL;
	q->tags = NULL;
	q->ntags = 0;
	q->status = "uploaded";
	q->has_cursor = false;
	*page = 1;
	*page_size = 20 < l->max_page_size ? 20 : l->max_page_size;

	if ((v = get(ctx, "tags")) != NULL && (rc = parse_tags(v, l, pool, q, e)) != ERR_OK)
		return rc;
	if ((v = get(ctx, "directory_prefix")) != NULL) {
		size_t len = strlen(v);
		if (len > l->max_path_bytes + 1 || !text_utf8_valid(v, len))
			return err_set(e, ERR_INVALID,
				       "directory_prefix must be valid UTF-8 of at most %zu bytes",
				       l->max_path_bytes + 1);
		if (len > 0)
			q->directory_prefix = v;
	}
	if ((v = get(ctx, "created_after")) != NULL &&
	    (rc = parse_time("created_after", v, &q->created_after_us, e)) != ERR_OK)
		return rc;
	if ((v = get(ctx, "created_before")) != NULL &&
	    (rc = parse_time("created_before", v, &q->created_before_us, e)) != ERR_OK)
		return rc;
	if ((v = get(ctx, "sort")) != NULL) {
		if (strcmp(v, "asc") == 0)
			q->sort = META_SORT_ASC;
		else if (strcmp(v, "desc") != 0)
			return err_set(e, ERR_INVALID, "sort must be asc or desc");
	}
	if ((v = get(ctx, "page")) != NULL && !parse_int(v, 1, LISTQUERY_MAX_PAGE, page))
		return err_set(e, ERR_INVALID, "page must be an integer from 1 to %lld",
			       LISTQUERY_MAX_PAGE);
	if ((v = get(ctx, "page_size")) != NULL && !parse_int(v, 1, l->max_page_size, page_size))
		return err_set(e, ERR_INVALID, "page_size must be an integer from 1 to %lld",
			       (long long)l->max_page_size);
	if ((v = get(ctx, "status")) != NULL) {
		if (strcmp(v, "uploaded") != 0 && strcmp(v, "pending") != 0)
			return err_set(e, ERR_INVALID, "status must be uploaded or pending");
		q->status = v;
	}
	if ((v = get(ctx, "cursor")) != NULL) {
		if (*page != 1)
			return err_set(e, ERR_INVALID, "give either cursor or page, not both");
		if ((rc = parse_cursor(v, pool, q, e)) != ERR_OK)
			return rc;
	}
	q->limit = *page_size;
	q->offset = (*page - 1) * *page_size;
	return ERR_OK;
}
