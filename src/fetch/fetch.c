/* The uri fetcher on libcurl. A URL string cannot be vetted (curl reaches loopback through
 * 2130706433, 0x7f000001, 127.1, [::ffff:127.0.0.1] ...), so every socket curl asks for is
 * checked in CURLOPT_OPENSOCKETFUNCTION against the resolved address; protocols are pinned for
 * redirects too, proxies from the environment are ignored, and the size limit is enforced on
 * the bytes actually received. */
#include "fetch/fetch_int.h"
#include "blob/s3_parse.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/text.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool v4_forbidden(uint32_t a)
{
	static const struct {
		uint32_t net, mask;
	} nets[] = {
		{0x00000000, 0xff000000}, /* 0/8 "this network" */
		{0x0a000000, 0xff000000}, /* 10/8 */
		{0x64400000, 0xffc00000}, /* 100.64/10 shared address space */
		{0x7f000000, 0xff000000}, /* 127/8 loopback */
		{0xa9fe0000, 0xffff0000}, /* 169.254/16 link-local */
		{0xac100000, 0xfff00000}, /* 172.16/12 */
		{0xc0000000, 0xffffff00}, /* 192.0.0/24 protocol assignments */
		{0xc0a80000, 0xffff0000}, /* 192.168/16 */
		{0xc6120000, 0xfffe0000}, /* 198.18/15 benchmarking */
		{0xe0000000, 0xf0000000}, /* 224/4 multicast */
		{0xf0000000, 0xf0000000}, /* 240/4 reserved, and broadcast */
	};
	for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++)
		if ((a & nets[i].mask) == nets[i].net)
			return true;
	return false;
}

static uint32_t v4_at(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static bool v6_forbidden(const unsigned char *b)
{
	static const unsigned char zero[16];
	if (memcmp(b, zero, 15) == 0 && (b[15] == 0 || b[15] == 1))
		return true; /* :: and ::1 */
	if (b[0] == 0xff)
		return true; /* multicast */
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return true; /* fe80::/10 link-local */
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
		return true; /* fec0::/10 old site-local */
	if ((b[0] & 0xfe) == 0xfc)
		return true; /* fc00::/7 unique local */
	if (memcmp(b, zero, 10) == 0 && b[10] == 0xff && b[11] == 0xff)
		return v4_forbidden(v4_at(b + 12)); /* ::ffff:a.b.c.d mapped */
	if (memcmp(b, zero, 12) == 0)
		return true; /* ::a.b.c.d compatible (deprecated; never needed) */
	if (memcmp(b, zero, 8) == 0 && b[8] == 0xff && b[9] == 0xff && b[10] == 0 && b[11] == 0)
		return v4_forbidden(v4_at(b + 12)); /* ::ffff:0:a.b.c.d translated (SIIT) */
	static const unsigned char nat64_local[6] = {0, 0x64, 0xff, 0x9b, 0, 1};
	if (memcmp(b, nat64_local, 6) == 0)
		return true; /* 64:ff9b:1::/48 local-use translation: a private network */
	static const unsigned char discard[8] = {0x01, 0x00};
	if (memcmp(b, discard, 8) == 0)
		return true; /* 100::/64 discard-only */
	static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
	if (memcmp(b, nat64, 12) == 0)
		return v4_forbidden(v4_at(b + 12)); /* 64:ff9b::/96 */
	if (b[0] == 0x20 && b[1] == 0x02)
		return v4_forbidden(v4_at(b + 2)); /* 2002::/16 6to4 */
	return false;
}

/* True when sa's address and port appear in the "IP:PORT,[V6]:PORT" list. */
static bool listed(const struct sockaddr *sa, const char *list)
{
	if (list == NULL)
		return false;
	while (*list) {
		size_t n = strcspn(list, ",");
		char item[80];
		if (n > 0 && n < sizeof(item)) {
			memcpy(item, list, n);
			item[n] = '\0';
			char *colon = strrchr(item, ':');
			if (colon != NULL) {
				*colon = '\0';
				long port = strtol(colon + 1, NULL, 10);
				char *host = item;
				size_t hl = strlen(host);
				if (hl > 1 && host[0] == '[' && host[hl - 1] == ']') {
					host[hl - 1] = '\0';
					host++;
				}
				struct in_addr a4;
				struct in6_addr a6;
				if (sa->sa_family == AF_INET && inet_pton(AF_INET, host, &a4) == 1) {
					const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
					if (s4->sin_addr.s_addr == a4.s_addr &&
					    ntohs(s4->sin_port) == port)
						return true;
				} else if (sa->sa_family == AF_INET6 &&
					   inet_pton(AF_INET6, host, &a6) == 1) {
					const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
					if (memcmp(&s6->sin6_addr, &a6, 16) == 0 &&
					    ntohs(s6->sin6_port) == port)
						return true;
				}
			}
		}
		list += n;
		if (*list == ',')
			list++;
	}
	return false;
}

bool fetch_addr_allowed(const struct sockaddr *sa, bool allow_private, const char *allow_addrs)
{
	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return false;
	if (allow_private || listed(sa, allow_addrs))
		return true;
	if (sa->sa_family == AF_INET)
		return !v4_forbidden(ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
	return !v6_forbidden(((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr);
}

enum err_code fetch_uri_chars_check(const char *uri, int64_t max_uri_bytes, struct err *e)
{
	if ((int64_t)strlen(uri) > max_uri_bytes)
		return err_set(e, ERR_INVALID, "uri is longer than %lld bytes",
			       (long long)max_uri_bytes);
	for (const unsigned char *p = (const unsigned char *)uri; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return err_set(e, ERR_INVALID,
				       "uri must not contain spaces, control or non-ASCII characters");
	return ERR_OK;
}

enum err_code fetch_uri_check(const char *uri, int64_t max_uri_bytes, struct err *e)
{
	enum err_code rc = fetch_uri_chars_check(uri, max_uri_bytes, e);
	if (rc != ERR_OK)
		return rc;
	const char *sep = strstr(uri, "://");
	if (sep == NULL || strcspn(uri, ":/?#") != (size_t)(sep - uri) || sep[3] == '/' ||
	    sep[3] == '\0')
		return err_set(e, ERR_INVALID, "uri is not an absolute http or https URL");
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	if (u == NULL)
		return err_set(e, ERR_INTERNAL, "curl_url failed");
	if (curl_url_set(u, CURLUPART_URL, uri, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host == NULL || !*host)
		rc = err_set(e, ERR_INVALID, "uri is not an absolute http or https URL");
	else if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)
		rc = err_set(e, ERR_INVALID, "uri scheme must be http or https");
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

/* Whether the query parameter name[0..len) (percent-encoded as sent) names a credential. */
static bool credential_param(const char *name, size_t len)
{
	static const char *const secret[] = {
		"sig", "signature", "x-amz-signature", "x-amz-credential", "x-amz-security-token",
		"awsaccesskeyid", "x-goog-signature", "x-goog-credential", "googleaccessid",
		"access_token",
	};
	char plain[32];
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		int hi = -1, lo = -1;
		if (n + 1 >= sizeof(plain))
			return false; /* longer than any of them */
		if (name[i] == '%' && i + 2 < len) {
			hi = text_hex_digit(name[i + 1]);
			lo = text_hex_digit(name[i + 2]);
		}
		if (hi >= 0 && lo >= 0) {
			plain[n++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			plain[n++] = name[i];
		}
	}
	plain[n] = '\0';
	for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
		if (strcasecmp(plain, secret[i]) == 0)
			return true;
	return false;
}

const char *fetch_uri_public(const char *uri, struct pool *pool)
{
	const char *sep = strstr(uri, "://");
	const char *auth = sep != NULL ? sep + 3 : uri, *rest = auth;
	size_t alen = strcspn(auth, "/?#");
	for (size_t i = 0; i < alen; i++)
		if (auth[i] == '@')
			rest = auth + i + 1; /* the last '@' of the authority ends the user info */
	bool dropped = rest != auth;
	struct buf b;
	buf_init(&b, strlen(uri) + 1);
	buf_add(&b, uri, (size_t)(auth - uri));
	size_t path = strcspn(rest, "?#");
	buf_add(&b, rest, path);
	rest += path;
	if (*rest == '?') {
		const char *q = rest + 1, *end = q + strcspn(q, "#");
		char lead = '?';
		while (q < end) {
			const char *amp = memchr(q, '&', (size_t)(end - q));
			size_t n = amp != NULL ? (size_t)(amp - q) : (size_t)(end - q);
			const char *eq = memchr(q, '=', n);
			if (credential_param(q, eq != NULL ? (size_t)(eq - q) : n)) {
				dropped = true;
			} else {
				buf_add(&b, &lead, 1);
				buf_add(&b, q, n);
				lead = '&';
			}
			q += n + (amp != NULL);
		}
		rest = end;
	}
	/* The fragment is never sent, and an OAuth-style one carries a token: it goes too. */
	dropped = dropped || *rest == '#';
	const char *out = pool_strdup(pool, dropped ? b.data : uri);
	buf_free(&b);
	return out;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct fetch_get *g = arg;
	size_t len = size * n;
	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0)
		g->etag[0] = '\0'; /* a new answer: a redirect's ETag is not the object's */
	else
		s3_header_value(p, len, "etag", g->etag, sizeof(g->etag));
	return len;
}

static curl_socket_t on_open_socket(void *clientp, curlsocktype purpose,
				    struct curl_sockaddr *addr)
{
	struct fetch_get *g = clientp;
	(void)purpose;
	if (!fetch_addr_allowed(&addr->addr, g->o->allow_private, g->o->allow_addrs) &&
	    !listed(&addr->addr, g->also_allow)) {
		g->refused = true;
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype, addr->protocol);
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userp)
{
	struct fetch_get *g = userp;
	size_t n = size * nmemb;
	if (g->status == 0)
		curl_easy_getinfo(g->curl, CURLINFO_RESPONSE_CODE, &g->status);
	if (g->status < 200 || g->status > 299) {
		/* An error's body: only its start is kept, for the code it names. */
		size_t room = sizeof(g->error_body) - 1 - g->error_len;
		size_t take = n < room ? n : room;
		memcpy(g->error_body + g->error_len, data, take);
		g->error_len += take;
		g->error_body[g->error_len] = '\0';
		return take == n ? n : 0;
	}
	if (g->received + n > g->o->max_bytes) {
		g->too_large = true;
		return 0;
	}
	g->received += n;
	g->write_rc = blob_writer_write(g->w, data, n, &g->write_err);
	return g->write_rc == ERR_OK ? n : 0;
}

enum err_code fetch_get_init(struct fetch_get *g, const char *url, struct err *e)
{
	g->curl = curl_easy_init();
	if (g->curl == NULL)
		return err_set(e, ERR_INTERNAL, "curl_easy_init failed");
	CURL *c = g->curl;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(g->o->timeout_s * 1000));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)g->o->max_bytes);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, g);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, g);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, g);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "depot/1.0");
	curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	return ERR_OK;
}

CURLcode fetch_get_perform(struct fetch_get *g)
{
	CURLcode cc = curl_easy_perform(g->curl);
	curl_easy_getinfo(g->curl, CURLINFO_RESPONSE_CODE, &g->status);
	return cc;
}

enum err_code fetch_get_failure(const struct fetch_get *g, CURLcode cc, const char *what,
				struct err *e)
{
	bool answered = g->status != 0 && (g->status < 200 || g->status > 299);
	if (g->refused)
		return err_set(e, ERR_INVALID, "%s resolves to a forbidden address", what);
	if (g->too_large || (cc == CURLE_FILESIZE_EXCEEDED && !answered))
		return err_set(e, ERR_TOO_LARGE, "%s content is larger than %llu bytes", what,
			       (unsigned long long)g->o->max_bytes);
	if (g->write_rc != ERR_OK)
		return err_set(e, g->write_rc, "%s", g->write_err.msg);
	if (cc == CURLE_OK ||
	    (answered && (cc == CURLE_WRITE_ERROR || cc == CURLE_FILESIZE_EXCEEDED)))
		return ERR_OK; /* an error answer, its long body cut short: the caller judges */
	if (cc == CURLE_OPERATION_TIMEDOUT)
		return err_set(e, ERR_TIMEOUT, "fetching %s timed out after %lld s", what,
			       (long long)g->o->timeout_s);
	if (cc == CURLE_TOO_MANY_REDIRECTS)
		return err_set(e, ERR_INVALID, "%s redirected more than %lld times", what,
			       (long long)g->o->max_redirects);
	if (cc == CURLE_UNSUPPORTED_PROTOCOL || cc == CURLE_URL_MALFORMAT)
		return err_set(e, ERR_INVALID, "%s (or a redirect) is not an http or https URL",
			       what);
	if (cc == CURLE_COULDNT_RESOLVE_HOST)
		return err_set(e, ERR_UPSTREAM, "%s host could not be resolved", what);
	return err_set(e, ERR_UPSTREAM, "fetching %s failed: %s", what, curl_easy_strerror(cc));
}

const char *fetch_get_content_type(const struct fetch_get *g, struct pool *pool)
{
	char *ct = NULL;
	curl_easy_getinfo(g->curl, CURLINFO_CONTENT_TYPE, &ct);
	return text_is_media_type(ct) ? pool_strdup(pool, ct) : NULL;
}

void fetch_get_cleanup(struct fetch_get *g)
{
	curl_easy_cleanup(g->curl);
	g->curl = NULL;
}

enum err_code fetch_uri(const struct fetch_opts *o, const char *uri, struct blob_writer *w,
			struct pool *pool, const char **content_type, struct err *e)
{
	enum err_code rc = fetch_uri_check(uri, o->max_uri_bytes, e);
	if (rc != ERR_OK)
		return rc;
	struct fetch_get g = {.o = o, .w = w};
	if ((rc = fetch_get_init(&g, uri, e)) != ERR_OK)
		return rc;
	curl_easy_setopt(g.curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(g.curl, CURLOPT_MAXREDIRS, (long)o->max_redirects);
	CURLcode cc = fetch_get_perform(&g);
	rc = fetch_get_failure(&g, cc, "uri", e);
	if (rc == ERR_OK && (g.status < 200 || g.status > 299))
		rc = err_set(e, g.status < 500 ? ERR_INVALID : ERR_UPSTREAM,
			     "uri answered HTTP %ld", g.status);
	if (rc == ERR_OK)
		*content_type = fetch_get_content_type(&g, pool);
	fetch_get_cleanup(&g);
	return rc;
}
