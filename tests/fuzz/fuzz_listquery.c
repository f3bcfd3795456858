/* The query string of GET /v1/resources (api/listquery.c), decoded as libmicrohttpd decodes
 * it ('+' is a space, then %XX; the first of repeated names wins). Invariants: accepted values
 * are within their limits, tags are sorted and distinct, dates round-trip through the RFC 3339
 * form depot writes, and a cursor is canonical: the cursor depot would write for the position
 * it names is the very string given. The other way round, a cursor written from the input's
 * last bytes is read back to the same position. */
#include "fuzz.h"
#include "api/listquery.h"
#include "core/text.h"
#include "core/timefmt.h"

#include <microhttpd.h>

#define MAX_ARGS 32

struct args {
	const char *name[MAX_ARGS], *value[MAX_ARGS];
	size_t n;
};

static const char *get(void *ctx, const char *name)
{
	struct args *a = ctx;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->name[i], name) == 0)
			return a->value[i];
	return NULL;
}

static char *decode(const char *s, size_t n, struct pool *pool)
{
	char *d = pool_strndup(pool, s, n);
	for (char *p = d; *p; p++)
		if (*p == '+')
			*p = ' ';
	d[MHD_http_unescape(d)] = '\0';
	return d;
}

static void split(const char *qs, size_t len, struct pool *pool, struct args *a)
{
	const char *p = qs, *end = qs + len;
	while (p < end && a->n < MAX_ARGS) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		if (eq != NULL) {
			a->name[a->n] = decode(p, (size_t)(eq - p), pool);
			a->value[a->n++] = decode(eq + 1, (size_t)(stop - eq - 1), pool);
		}
		p = stop + 1;
	}
}

static void check_time(int64_t us)
{
	if (us == INT64_MIN || us == INT64_MAX)
		return;
	char text[TIMEFMT_LEN];
	int64_t again;
	time_format_us(us, text);
	FZ_CHECK(time_parse_iso8601(text, strlen(text), &again) && again == us,
		 "%lld is written as %s, read back as %lld", (long long)us, text, (long long)again);
}

static void check_accepted(const struct meta_query *q, int64_t page, int64_t page_size,
			   struct args *a)
{
	FZ_CHECK(page >= 1 && page <= LISTQUERY_MAX_PAGE, "page %lld", (long long)page);
	FZ_CHECK(page_size >= 1 && page_size <= test_limits.max_page_size, "page_size %lld",
		 (long long)page_size);
	FZ_CHECK(q->limit == page_size && q->offset == (page - 1) * page_size, "limit/offset");
	FZ_CHECK(q->ntags <= test_limits.max_tags, "%zu tags", q->ntags);
	for (size_t i = 1; i < q->ntags; i++)
		FZ_CHECK(strcmp(q->tags[i - 1], q->tags[i]) < 0, "tags not sorted and distinct");
	FZ_CHECK(strcmp(q->status, "uploaded") == 0 || strcmp(q->status, "pending") == 0,
		 "status %s", q->status);
	if (q->directory_prefix != NULL)
		FZ_CHECK(text_utf8_valid(q->directory_prefix, strlen(q->directory_prefix)),
			 "prefix is not UTF-8");
	check_time(q->created_after_us);
	check_time(q->created_before_us);
	if (q->has_cursor) {
		char again[LISTQUERY_CURSOR_MAX];
		FZ_CHECK(page == 1, "cursor with page %lld", (long long)page);
		FZ_CHECK(text_is_uuid(q->cursor_id) && strpbrk(q->cursor_id, "ABCDEF") == NULL,
			 "cursor id %s", q->cursor_id);
		listquery_cursor_encode(q->sort, q->cursor_created_us, q->cursor_id, again);
		FZ_CHECK(strcmp(again, get(a, "cursor")) == 0,
			 "cursor %s is read as (%lld, %s), which is written %s", get(a, "cursor"),
			 (long long)q->cursor_created_us, q->cursor_id, again);
	}
}

/* A cursor depot writes is read back to its position. */
static void check_written_cursor(const uint8_t *data, size_t size, struct pool *pool)
{
	uint8_t raw[25] = {0};
	memcpy(raw, data + (size > 25 ? size - 25 : 0), size < 25 ? size : 25);
	int64_t t = 0;
	for (int i = 0; i < 8; i++)
		t = (int64_t)((uint64_t)t << 8 | raw[i]);
	char id[37];
	text_hex(raw + 8, 16, id + 4); /* 32 hex digits, then dashes put in */
	memmove(id, id + 4, 8);
	id[8] = '-';
	memmove(id + 9, id + 12, 4);
	id[13] = '-';
	memmove(id + 14, id + 16, 4);
	id[18] = '-';
	memmove(id + 19, id + 20, 4);
	id[23] = '-';
	/* id+24..35 already hold the last 12 digits */
	id[36] = '\0';
	FZ_CHECK(text_is_uuid(id), "test uuid %s", id);
	enum meta_sort sort = raw[24] & 1 ? META_SORT_ASC : META_SORT_DESC;
	char cursor[LISTQUERY_CURSOR_MAX];
	listquery_cursor_encode(sort, t, id, cursor);
	struct args a = {.n = 2};
	a.name[0] = "cursor";
	a.value[0] = cursor;
	a.name[1] = "sort";
	a.value[1] = sort == META_SORT_ASC ? "asc" : "desc";
	struct meta_query q;
	int64_t page, page_size;
	struct err e = {0};
	FZ_CHECK(listquery_parse(get, &a, &test_limits, pool, &q, &page, &page_size, &e) == ERR_OK,
		 "written cursor %s (%lld, %s) refused: %s", cursor, (long long)t, id, e.msg);
	FZ_CHECK(q.has_cursor && q.cursor_created_us == t && strcmp(q.cursor_id, id) == 0,
		 "cursor %s read as (%lld, %s)", cursor, (long long)q.cursor_created_us,
		 q.cursor_id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pool pool;
	struct args a = {0};
	struct meta_query q;
	int64_t page, page_size;
	struct err e = {0};
	pool_init(&pool);
	split((const char *)data, size, &pool, &a);
	enum err_code rc = listquery_parse(get, &a, &test_limits, &pool, &q, &page, &page_size, &e);
	FZ_CHECK(rc == ERR_OK || (rc == ERR_INVALID && e.msg[0] != '\0'), "code %d", (int)rc);
	if (rc == ERR_OK)
		check_accepted(&q, page, page_size, &a);
	check_written_cursor(data, size, &pool);
	pool_cleanup(&pool);
	return 0;
}
