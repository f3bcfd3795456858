/* Names, directory paths and tags. */
#include "api/validate.h"
#include "core/text.h"

#include <stdlib.h>
#include <string.h>

enum err_code validate_name(const char *s, size_t len, const struct limits *l, struct err *e)
{
	if (len == 0 || len > l->max_name_bytes)
		return err_set(e, ERR_INVALID, "name must be 1 to %zu bytes", l->max_name_bytes);
	if (!text_utf8_valid(s, len))
		return err_set(e, ERR_INVALID, "name must be valid UTF-8");
	if (memchr(s, '/', len) != NULL)
		return err_set(e, ERR_INVALID, "name must not contain '/'");
	if (text_has_control(s, len))
		return err_set(e, ERR_INVALID, "name must not contain control characters");
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return err_set(e, ERR_INVALID, "name must not be '.' or '..'");
	return ERR_OK;
}

enum err_code validate_directory_path(const char *s, size_t len, const struct limits *l,
				      struct pool *pool, const char **out, struct err *e)
{
	/* The limit is on the stored form (a leading '/' added, a trailing one dropped), so what
	 * depot hands out is always accepted back. */
	if (len > l->max_path_bytes + 1)
		return err_set(e, ERR_INVALID, "directory_path must be at most %zu bytes",
			       l->max_path_bytes);
	if (!text_utf8_valid(s, len))
		return err_set(e, ERR_INVALID, "directory_path must be valid UTF-8");
	if (text_has_control(s, len))
		return err_set(e, ERR_INVALID, "directory_path must not contain control characters");
	const char *p = s, *end = s + len;
	if (p < end && *p == '/')
		p++;
	if (end > p && end[-1] == '/')
		end--;
	char *norm = pool_alloc(pool, len + 2);
	size_t n = 0;
	norm[n++] = '/';
	if (p == end) {
		if (len > 1) /* "//" is an empty segment, not the root */
			return err_set(e, ERR_INVALID, "directory_path must not have empty segments");
		*out = norm;
		return ERR_OK;
	}
	while (p <= end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *seg_end = slash ? slash : end;
		size_t seg = (size_t)(seg_end - p);
		if (seg == 0)
			return err_set(e, ERR_INVALID, "directory_path must not have empty segments");
		if ((seg == 1 && p[0] == '.') || (seg == 2 && p[0] == '.' && p[1] == '.'))
			return err_set(e, ERR_INVALID,
				       "directory_path must not have '.' or '..' segments");
		if (n > 1)
			norm[n++] = '/';
		memcpy(norm + n, p, seg);
		n += seg;
		p = seg_end + 1;
	}
	norm[n] = '\0';
	if (n > l->max_path_bytes)
		return err_set(e, ERR_INVALID, "directory_path must be at most %zu bytes",
			       l->max_path_bytes);
	*out = norm;
	return ERR_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorts and folds v[0..n) in place; the distinct count. */
static size_t sort_distinct(const char **v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_str);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (k == 0 || strcmp(v[k - 1], v[i]) != 0)
			v[k++] = v[i];
	return k;
}

enum err_code validate_tags(const char **in, size_t n, const struct limits *l, const char *what,
			    struct pool *pool, const char ***out, size_t *nout, struct err *e)
{
	const char **v = pool_alloc(pool, (n ? n : 1) * sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(in[i]);
		if (len == 0 || len > l->max_tag_bytes)
			return err_set(e, ERR_INVALID, "%s: each tag must be 1 to %zu bytes", what,
				       l->max_tag_bytes);
		if (!text_utf8_valid(in[i], len))
			return err_set(e, ERR_INVALID, "%s: tags must be valid UTF-8", what);
		if (memchr(in[i], ',', len) != NULL)
			return err_set(e, ERR_INVALID, "%s: tags must not contain ','", what);
		if (text_has_control(in[i], len))
			return err_set(e, ERR_INVALID, "%s: tags must not contain control characters",
				       what);
		v[i] = in[i];
	}
	size_t k = sort_distinct(v, n);
	if (k > l->max_tags)
		return err_set(e, ERR_INVALID, "%s: at most %zu distinct tags", what, l->max_tags);
	*out = v;
	*nout = k;
	return ERR_OK;
}

enum err_code validate_description(const char *s, size_t len, const struct limits *l,
				   struct err *e)
{
	if (len > l->max_description_bytes)
		return err_set(e, ERR_INVALID, "description must be at most %zu bytes",
			       l->max_description_bytes);
	if (!text_utf8_valid(s, len) || memchr(s, '\0', len) != NULL)
		return err_set(e, ERR_INVALID, "description must be valid UTF-8 without NUL");
	return ERR_OK;
}

enum err_code validate_read_access(const char *s, struct err *e)
{
	if (strcmp(s, "TEAM") != 0 && strcmp(s, "GLOBAL") != 0 && strcmp(s, "SPECIFIC_TEAMS") != 0)
		return err_set(e, ERR_INVALID,
			       "read_access must be TEAM, GLOBAL or SPECIFIC_TEAMS");
	return ERR_OK;
}

/* The longest account id a token may carry (AUTH_ID_MAX). */
#define SLUG_MAX_BYTES 255

enum err_code validate_slugs(const char **in, size_t n, const struct limits *l, struct pool *pool,
			     const char ***out, size_t *nout, struct err *e)
{
	const char **v = pool_alloc(pool, (n ? n : 1) * sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(in[i]);
		if (len == 0 || len > SLUG_MAX_BYTES || !text_utf8_valid(in[i], len) ||
		    text_has_control(in[i], len))
			return err_set(e, ERR_INVALID,
				       "shared_team_slugs: each must be an account id of 1 to %d "
				       "bytes of UTF-8 without control characters",
				       SLUG_MAX_BYTES);
		v[i] = in[i];
	}
	size_t k = sort_distinct(v, n);
	if (k > l->max_tags)
		return err_set(e, ERR_INVALID, "shared_team_slugs: at most %zu accounts",
			       l->max_tags);
	*out = v;
	*nout = k;
	return ERR_OK;
}
