/* The S3 store's settings URL and a reader for the few tags of S3's XML answers it needs:
 * a dedicated scanner, because the answers are small, flat and produced by S3 itself. */
#include "blob/s3_parse.h"
#include "core/text.h"
#include "core/timefmt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MiB (1024ULL * 1024)
#define GiB (1024 * MiB)

/* The tunables of the URL: name, where it goes, bounds, default. */
struct tunable {
	const char *name;
	size_t offset;
	int64_t min, max, def;
};

static const struct tunable tunables[] = {
	{"connect_timeout", offsetof(struct s3_config, connect_timeout_s), 1, 300, 10},
	{"stall_timeout", offsetof(struct s3_config, stall_timeout_s), 1, 3600, 30},
	{"multipart_threshold", offsetof(struct s3_config, multipart_threshold_bytes),
	 (int64_t)S3_MIN_PART_BYTES, (int64_t)(5 * GiB), (int64_t)(64 * MiB)},
	{"part_size", offsetof(struct s3_config, part_size_bytes), (int64_t)S3_MIN_PART_BYTES,
	 (int64_t)(5 * GiB), (int64_t)(16 * MiB)},
	{"sweep_grace", offsetof(struct s3_config, sweep_grace_s), 0, 30 * 86400, 3600},
};

#define NTUNABLES (sizeof(tunables) / sizeof(tunables[0]))

bool s3_pct_decode(const char *s, size_t len, char *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '%') {
			if (i + 2 >= len)
				return false;
			int hi = text_hex_digit(s[i + 1]), lo = text_hex_digit(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return false;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (n + 1 >= cap)
			return false;
		out[n++] = c;
	}
	out[n] = '\0';
	return true;
}

bool s3_bucket_valid(const char *b)
{
	size_t n = strlen(b);
	if (n < 3 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = b[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && ((c != '.' && c != '-') || i == 0 || i == n - 1))
			return false;
	}
	return true;
}

static bool region_valid(const char *r)
{
	if (!*r)
		return false;
	for (; *r; r++)
		if (!((*r >= 'a' && *r <= 'z') || (*r >= '0' && *r <= '9') || *r == '-'))
			return false;
	return true;
}

bool s3_endpoint_fix(char *url)
{
	const char *host;
	if (strncmp(url, "http://", 7) == 0)
		host = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		host = url + 8;
	else
		return false;
	size_t n = strlen(url);
	if (n > 0 && url[n - 1] == '/')
		url[--n] = '\0';
	if (!*host)
		return false;
	for (const char *p = host; *p; p++)
		if (*p <= ' ' || *p == '/' || *p == '?' || *p == '#' || *p == '@' || *p == '\\' ||
		    *p == 0x7f)
			return false;
	return true;
}

static enum err_code set_tunable(struct s3_config *c, const struct tunable *t, const char *v,
				 struct err *e)
{
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < t->min || n > t->max)
		return err_set(e, ERR_INVALID, "s3 blob store: %s must be an integer from %lld to %lld",
			       t->name, (long long)t->min, (long long)t->max);
	*(int64_t *)((char *)c + t->offset) = n;
	return ERR_OK;
}

static enum err_code set_param(struct s3_config *c, const char *key, const char *value,
			       unsigned *seen, struct err *e)
{
	static const char *const strings[] = {"endpoint", "region", "spool"};
	char *dst[] = {c->endpoint, c->region, c->spool_dir};
	size_t caps[] = {sizeof(c->endpoint), sizeof(c->region), sizeof(c->spool_dir)};
	for (unsigned i = 0; i < 3 + NTUNABLES; i++) {
		const char *name = i < 3 ? strings[i] : tunables[i - 3].name;
		if (strcmp(key, name) != 0)
			continue;
		if (*seen & (1u << i))
			return err_set(e, ERR_INVALID, "s3 blob store: %s is given twice", key);
		*seen |= 1u << i;
		if (i >= 3)
			return set_tunable(c, &tunables[i - 3], value, e);
		if (strlen(value) >= caps[i])
			return err_set(e, ERR_INVALID, "s3 blob store: %s is too long", key);
		memcpy(dst[i], value, strlen(value) + 1);
		return ERR_OK;
	}
	return err_set(e, ERR_INVALID, "s3 blob store: unknown setting '%.40s'", key);
}

static enum err_code parse_query(const char *q, struct s3_config *c, struct err *e)
{
	unsigned seen = 0;
	while (*q) {
		const char *amp = strchr(q, '&'), *end = amp ? amp : q + strlen(q);
		const char *eq = memchr(q, '=', (size_t)(end - q));
		char key[32], value[1024];
		if (eq == NULL || !s3_pct_decode(q, (size_t)(eq - q), key, sizeof(key)) ||
		    !s3_pct_decode(eq + 1, (size_t)(end - eq - 1), value, sizeof(value)))
			return err_set(e, ERR_INVALID,
				       "s3 blob store: settings must be key=value pairs joined by &");
		enum err_code rc = set_param(c, key, value, &seen, e);
		if (rc != ERR_OK)
			return rc;
		q = amp ? amp + 1 : end;
	}
	return ERR_OK;
}

enum err_code s3_config_parse(const char *rest, struct s3_config *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < NTUNABLES; i++)
		*(int64_t *)((char *)out + tunables[i].offset) = tunables[i].def;
	if (strncmp(rest, "//", 2) != 0)
		return err_set(e, ERR_INVALID, "s3 blob store: expected s3://BUCKET?endpoint=...");
	rest += 2;
	const char *q = strchr(rest, '?');
	size_t blen = q ? (size_t)(q - rest) : strlen(rest);
	if (blen >= sizeof(out->bucket))
		return err_set(e, ERR_INVALID, "s3 blob store: bucket name is too long");
	memcpy(out->bucket, rest, blen);
	out->bucket[blen] = '\0';
	if (!s3_bucket_valid(out->bucket))
		return err_set(e, ERR_INVALID,
			       "s3 blob store: bucket must be 3 to 63 of a-z, 0-9, '.' and '-'");
	enum err_code rc = q ? parse_query(q + 1, out, e) : ERR_OK;
	if (rc != ERR_OK)
		return rc;
	if (!*out->endpoint || !s3_endpoint_fix(out->endpoint))
		return err_set(e, ERR_INVALID,
			       "s3 blob store: endpoint must be http(s)://HOST[:PORT] with no path");
	if (!region_valid(out->region))
		return err_set(e, ERR_INVALID, "s3 blob store: region must be set (a-z, 0-9, '-')");
	return ERR_OK;
}

/* Decodes the five predefined entities and numeric ASCII references of s[0..len) into
 * out[cap]. */
static bool xml_unescape(const char *s, size_t len, char *out, size_t cap)
{
	static const struct {
		const char *name;
		char c;
	} ents[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}};
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '&') {
			size_t j = 0;
			for (; j < sizeof(ents) / sizeof(ents[0]); j++) {
				size_t el = strlen(ents[j].name);
				if (len - i - 1 >= el && memcmp(s + i + 1, ents[j].name, el) == 0)
					break;
			}
			if (j == sizeof(ents) / sizeof(ents[0]))
				return false; /* numeric or unknown: not in what depot reads */
			c = ents[j].c;
			i += strlen(ents[j].name);
		}
		if (n + 1 >= cap)
			return false;
		out[n++] = c;
	}
	out[n] = '\0';
	return true;
}

/* The text between <tag> and </tag> in xml[0..len): start and length, or false. */
static bool find_tag(const char *xml, size_t len, const char *tag, const char **text,
		     size_t *tlen)
{
	char open[64], close[64];
	size_t ol = (size_t)snprintf(open, sizeof(open), "<%s>", tag);
	size_t cl = (size_t)snprintf(close, sizeof(close), "</%s>", tag);
	const char *p = memmem(xml, len, open, ol);
	if (p == NULL)
		return false;
	p += ol;
	const char *q = memmem(p, len - (size_t)(p - xml), close, cl);
	if (q == NULL)
		return false;
	*text = p;
	*tlen = (size_t)(q - p);
	return true;
}

bool s3_xml_text(const char *xml, size_t len, const char *tag, char *out, size_t cap)
{
	const char *t;
	size_t tl;
	return find_tag(xml, len, tag, &t, &tl) && xml_unescape(t, tl, out, cap);
}

bool s3_header_value(const char *line, size_t len, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	if (len <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0)
		return false;
	size_t i = nl + 1, j = len;
	while (i < j && (line[i] == ' ' || line[i] == '\t'))
		i++;
	while (j > i && (line[j - 1] == '\r' || line[j - 1] == '\n' || line[j - 1] == ' ' ||
			 line[j - 1] == '\t'))
		j--;
	if (j - i >= cap)
		return false;
	memcpy(out, line + i, j - i);
	out[j - i] = '\0';
	return true;
}

bool s3_list_parse(const char *xml, size_t len, s3_list_fn fn, void *ctx, bool *truncated,
		   char *token, size_t token_cap)
{
	const char *t;
	size_t tl;
	if (memmem(xml, len, "<ListBucketResult", 17) == NULL)
		return false;
	/* Contents come after IsTruncated in S3's answers, but nothing below relies on it. */
	const char *p = xml, *end = xml + len;
	while (find_tag(p, (size_t)(end - p), "Contents", &t, &tl)) {
		char key[513], when[64];
		int64_t us;
		if (s3_xml_text(t, tl, "Key", key, sizeof(key)) &&
		    s3_xml_text(t, tl, "LastModified", when, sizeof(when)) &&
		    time_parse_iso8601(when, strlen(when), &us))
			fn(ctx, key, us);
		p = t + tl;
	}
	char flag[8];
	*truncated = s3_xml_text(xml, len, "IsTruncated", flag, sizeof(flag)) &&
		     strcmp(flag, "true") == 0;
	token[0] = '\0';
	if (*truncated)
		return s3_xml_text(xml, len, "NextContinuationToken", token, token_cap) &&
		       token[0] != '\0';
	return true;
}
