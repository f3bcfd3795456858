/* Unit tests for fetch/fetch.h's pure parts: the address rules and the URI check. No network
 * traffic: sockaddrs are built by hand and handed to the functions directly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "core/pool.h"
#include "fetch/fetch.h"

static struct sockaddr_storage make_sa(const char *ip, unsigned port)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, ip, &s6->sin6_addr) != 1)
			fail_msg("bad test address %s", ip);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, ip, &s4->sin_addr) != 1)
			fail_msg("bad test address %s", ip);
	}
	return ss;
}

static bool allowed(const char *ip, unsigned port, bool allow_private, const char *list)
{
	struct sockaddr_storage ss = make_sa(ip, port);
	return fetch_addr_allowed((const struct sockaddr *)&ss, allow_private, list);
}

static void check_all(const char *const *ips, size_t n, bool want)
{
	for (size_t i = 0; i < n; i++)
		if (allowed(ips[i], 80, false, NULL) != want)
			fail_msg("%s: allowed=%d, want %d", ips[i], !want, want);
}

static const char *const v4_forbidden[] = {
	"127.0.0.1",    "127.255.255.254", "10.1.2.3",        "172.16.0.1",
	"172.31.255.255", "192.168.1.1",   "169.254.169.254", "100.64.0.1",
	"100.127.255.255", "0.0.0.0",      "0.1.2.3",         "224.0.0.1",
	"239.255.255.250", "255.255.255.255",
};
static const char *const v4_public[] = {
	"8.8.8.8", "172.32.0.1", "172.15.255.255", "1.1.1.1", "100.128.0.1", "100.63.255.255",
	"11.0.0.1", "192.169.0.1", "169.253.0.1", "126.255.255.255", "128.0.0.1",
};
static const char *const v6_forbidden[] = {
	"::1",           "::",                 "fe80::1",           "febf::1",
	"fc00::1",       "fd12::1",            "ff02::1",           "ff05::1:3",
	"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:0.0.0.0",
	"::127.0.0.1",   "64:ff9b::7f00:1",    "64:ff9b::a00:1",    "2002:7f00:1::",
	"2002:a9fe:a9fe::1", "::ffff:0:7f00:1", "::ffff:0:a00:1", "64:ff9b:1::808:808",
	"100::1",
};
static const char *const v6_public[] = {
	"2001:4860::8888", "::ffff:8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808",
	"2002:808:808::1", "::ffff:0:808:808", "100:0:0:1::1",
};

static void ipv4_private_loopback_and_special_are_refused(void **state)
{
	(void)state;
	check_all(v4_forbidden, sizeof(v4_forbidden) / sizeof(v4_forbidden[0]), false);
}

static void ipv4_public_addresses_are_allowed(void **state)
{
	(void)state;
	check_all(v4_public, sizeof(v4_public) / sizeof(v4_public[0]), true);
}

static void ipv6_loopback_local_multicast_and_embedded_v4_are_refused(void **state)
{
	(void)state;
	check_all(v6_forbidden, sizeof(v6_forbidden) / sizeof(v6_forbidden[0]), false);
}

static void ipv6_public_addresses_are_allowed(void **state)
{
	(void)state;
	check_all(v6_public, sizeof(v6_public) / sizeof(v6_public[0]), true);
}

static void allow_private_lets_everything_through(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(v4_forbidden) / sizeof(v4_forbidden[0]); i++)
		assert_true(allowed(v4_forbidden[i], 443, true, NULL));
	for (size_t i = 0; i < sizeof(v6_forbidden) / sizeof(v6_forbidden[0]); i++)
		assert_true(allowed(v6_forbidden[i], 443, true, NULL));
	assert_true(allowed("8.8.8.8", 443, true, NULL));
}

static void allow_addrs_lets_exactly_the_listed_pairs_through(void **state)
{
	(void)state;
	const char *list = "127.0.0.1:8080,[::1]:9000";
	assert_true(allowed("127.0.0.1", 8080, false, list));
	assert_true(allowed("::1", 9000, false, list));
	/* Same address, other port. */
	assert_false(allowed("127.0.0.1", 8081, false, list));
	assert_false(allowed("127.0.0.1", 80, false, list));
	assert_false(allowed("::1", 8080, false, list));
	assert_false(allowed("::1", 9001, false, list));
	/* Other address, listed port. */
	assert_false(allowed("127.0.0.2", 8080, false, list));
	assert_false(allowed("10.0.0.1", 8080, false, list));
	assert_false(allowed("::2", 9000, false, list));
	/* The v4 entry does not admit the v6-mapped form, nor the reverse. */
	assert_false(allowed("::ffff:127.0.0.1", 8080, false, list));
	/* Public addresses stay allowed with a list. */
	assert_true(allowed("8.8.8.8", 1234, false, list));
	/* An empty or malformed list admits nothing. */
	assert_false(allowed("127.0.0.1", 8080, false, ""));
	assert_false(allowed("127.0.0.1", 8080, false, "127.0.0.1"));
	assert_false(allowed("127.0.0.1", 8080, false, ",,"));
	assert_false(allowed("127.0.0.1", 8080, false, "localhost:8080"));
}

static void non_ip_families_are_refused(void **state)
{
	(void)state;
	struct sockaddr_un un;
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	memcpy(un.sun_path, "/tmp/x", 7);
	assert_false(fetch_addr_allowed((const struct sockaddr *)&un, false, NULL));
}

/* ---- fetch_uri_check ---- */

static enum err_code uri_rc(const char *uri)
{
	struct err e = {0};
	enum err_code rc = fetch_uri_check(uri, 2048, &e);
	if (rc != ERR_OK)
		assert_true(e.msg[0] != '\0');
	return rc;
}

static void assert_uri_refused(const char *uri)
{
	enum err_code rc = uri_rc(uri);
	if (rc != ERR_INVALID)
		fail_msg("uri \"%s\" gave rc %d, want ERR_INVALID", uri, rc);
}

static void uri_http_and_https_are_accepted(void **state)
{
	(void)state;
	assert_int_equal(uri_rc("http://example.com/"), ERR_OK);
	assert_int_equal(uri_rc("https://example.com/a/b?c=d#e"), ERR_OK);
	assert_int_equal(uri_rc("http://example.com"), ERR_OK);
	assert_int_equal(uri_rc("HTTPS://EXAMPLE.COM/x"), ERR_OK);
	assert_int_equal(uri_rc("http://127.0.0.1:8080/x"), ERR_OK); /* addresses are vetted later */
	assert_int_equal(uri_rc("http://[::1]:9000/"), ERR_OK);
	assert_int_equal(uri_rc("https://user:pw@example.com/"), ERR_OK);
}

static void uri_other_schemes_are_refused(void **state)
{
	(void)state;
	assert_uri_refused("ftp://example.com/file");
	assert_uri_refused("file:///etc/passwd");
	assert_uri_refused("gopher://example.com/");
	assert_uri_refused("data:text/plain;base64,QQ==");
	assert_uri_refused("javascript:alert(1)");
	assert_uri_refused("httpx://example.com/");
}

static void uri_without_scheme_or_host_is_refused(void **state)
{
	(void)state;
	assert_uri_refused("");
	assert_uri_refused("example.com/path");
	assert_uri_refused("//example.com/path");
	assert_uri_refused("/relative/path");
	assert_uri_refused("http://");
	assert_uri_refused("http:///path");
	assert_uri_refused("http:example.com");
	assert_uri_refused("https://?q=1");
}

static void uri_with_spaces_or_control_is_refused(void **state)
{
	(void)state;
	assert_uri_refused("http://example.com/a b");
	assert_uri_refused(" http://example.com/");
	assert_uri_refused("http://example.com/\n");
	assert_uri_refused("http://example.com/\t");
	assert_uri_refused("http://example.com/\x7f");
	assert_uri_refused("http://ex\xc3\xa4mple.com/");
}

static void uri_longer_than_limit_is_refused(void **state)
{
	(void)state;
	char uri[2100];
	const char *prefix = "http://example.com/";
	size_t pl = strlen(prefix);
	memcpy(uri, prefix, pl);
	memset(uri + pl, 'a', 2048 - pl);
	uri[2048] = '\0';
	struct err e;
	assert_int_equal(fetch_uri_check(uri, 2048, &e), ERR_OK);
	uri[2048] = 'a';
	uri[2049] = '\0';
	assert_int_equal(fetch_uri_check(uri, 2048, &e), ERR_INVALID);
	assert_int_equal(fetch_uri_check("http://example.com/", 10, &e), ERR_INVALID);
}

static void assert_public(const char *uri, const char *want)
{
	struct pool pool;
	pool_init(&pool);
	const char *got = fetch_uri_public(uri, &pool);
	if (strcmp(got, want) != 0)
		fail_msg("%s\n  became %s\n  wanted %s", uri, got, want);
	pool_cleanup(&pool);
}

static void uri_public_drops_credentials_only(void **state)
{
	(void)state;
	/* nothing to drop: byte for byte, odd queries included */
	assert_public("http://h/p", "http://h/p");
	assert_public("https://h:8443/a/b?x=1&&y=&z", "https://h:8443/a/b?x=1&&y=&z");
	assert_public("http://h/p?", "http://h/p?");
	assert_public("http://h/p?signed=1&sigma=2", "http://h/p?signed=1&sigma=2");
	/* an Azure SAS: the signature goes, the rest of it stays */
	assert_public("http://127.0.0.1:9/acct/c/b.txt?sv=2022-11-02&se=2030-01-01&sp=r&sig=AbC%2Bd%3D",
		      "http://127.0.0.1:9/acct/c/b.txt?sv=2022-11-02&se=2030-01-01&sp=r");
	assert_public("https://a.blob.core.windows.net./c/b?sig=s&snapshot=1#f",
		      "https://a.blob.core.windows.net./c/b?snapshot=1");
	/* S3 and Cloud Storage presigned URLs, in any case */
	assert_public("https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
		      "&X-Amz-Credential=AKIA%2F20260101&X-Amz-Date=20260101T000000Z"
		      "&X-Amz-Expires=60&X-Amz-Security-Token=tok&X-Amz-SignedHeaders=host"
		      "&X-Amz-Signature=abcdef",
		      "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
		      "&X-Amz-Date=20260101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host");
	assert_public("https://b.s3.amazonaws.com/k?AWSAccessKeyId=AKIA&Expires=1&Signature=x",
		      "https://b.s3.amazonaws.com/k?Expires=1");
	assert_public("https://storage.googleapis.com/b/o?x-goog-signature=s&X-GOOG-CREDENTIAL=c"
		      "&GoogleAccessId=g&x-goog-date=d",
		      "https://storage.googleapis.com/b/o?x-goog-date=d");
	/* percent-encoded names, a name without a value, a token, the first parameter */
	assert_public("http://h/p?%73ig=1&S%49G&access_token=t&a=1", "http://h/p?a=1");
	assert_public("http://h/p?sig=only", "http://h/p");
	assert_public("http://h/p?sig=1#sig=2", "http://h/p");
	/* the fragment, never sent, goes (an OAuth-style one holds a token) */
	assert_public("https://h:8443/a/b?x=1#access_token=t", "https://h:8443/a/b?x=1");
	/* user info goes, whatever it holds */
	assert_public("http://user:secret@h/p?q=1", "http://h/p?q=1");
	assert_public("http://a@b:c@h:80/p", "http://h:80/p");
	assert_public("http://h/p@q?r=s@t", "http://h/p@q?r=s@t");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv4_private_loopback_and_special_are_refused),
		cmocka_unit_test(ipv4_public_addresses_are_allowed),
		cmocka_unit_test(ipv6_loopback_local_multicast_and_embedded_v4_are_refused),
		cmocka_unit_test(ipv6_public_addresses_are_allowed),
		cmocka_unit_test(allow_private_lets_everything_through),
		cmocka_unit_test(allow_addrs_lets_exactly_the_listed_pairs_through),
		cmocka_unit_test(non_ip_families_are_refused),
		cmocka_unit_test(uri_http_and_https_are_accepted),
		cmocka_unit_test(uri_other_schemes_are_refused),
		cmocka_unit_test(uri_without_scheme_or_host_is_refused),
		cmocka_unit_test(uri_with_spaces_or_control_is_refused),
		cmocka_unit_test(uri_longer_than_limit_is_refused),
		cmocka_unit_test(uri_public_drops_credentials_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
