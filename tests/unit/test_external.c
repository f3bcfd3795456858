/* Unit tests for fetch/external.h's pure parts: the settings, and how each external uri becomes
 * the URL that is requested and the uri that is recorded. No network traffic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "blob/s3_parse.h"
#include "core/pool.h"
#include "fetch/external.h"

#define MAX_URI 2048

static const struct external_settings base = {
	.s3_endpoint = "http://127.0.0.1:9000/",
	.s3_region = "eu-west-1",
	.s3_access_key = "AK",
	.s3_secret_key = "SK",
	.gcs_endpoint = "https://storage.googleapis.com",
	.gcs_access_key = "",
	.gcs_secret_key = "",
	.azure_endpoints = "http://127.0.0.1:10000,http://[::1]:10001",
	.own_bucket = "depot-own",
};

struct fx {
	struct pool pool;
	struct external *x;
};

static struct fx *open_with(const struct external_settings *s)
{
	struct fx *f = test_malloc(sizeof(*f));
	struct err e = {0};
	pool_init(&f->pool);
	assert_int_equal(external_open(s, &f->x, &e), ERR_OK);
	return f;
}

static void fx_free(struct fx *f)
{
	external_close(f->x);
	pool_cleanup(&f->pool);
	test_free(f);
}

static enum err_code parse(struct fx *f, const char *uri, struct external_ref *ref,
			   struct err *e)
{
	return external_ref_parse(f->x, uri, MAX_URI, &f->pool, ref, e);
}

static void settings_are_checked(void **state)
{
	(void)state;
	struct external *x = NULL;
	struct err e = {0};
	struct external_settings s = base;
	s.s3_endpoint = "ftp://host";
	assert_int_equal(external_open(&s, &x, &e), ERR_INVALID);
	assert_non_null(strstr(e.msg, "DEPOT_EXTERNAL_S3_ENDPOINT"));
	s = base;
	s.gcs_endpoint = "https://user:pw@host";
	assert_int_equal(external_open(&s, &x, &e), ERR_INVALID);
	s = base;
	s.azure_endpoints = "http://127.0.0.1:10000/path";
	assert_int_equal(external_open(&s, &x, &e), ERR_INVALID);
	s = base;
	s.s3_secret_key = "";
	assert_int_equal(external_open(&s, &x, &e), ERR_INVALID);
	assert_non_null(strstr(e.msg, "both"));
	s = base;
	s.s3_region = "EU WEST";
	assert_int_equal(external_open(&s, &x, &e), ERR_INVALID);
	assert_null(x);
}

static void s3_uri_goes_to_the_configured_endpoint_path_style(void **state)
{
	(void)state;
	struct fx *f = open_with(&base);
	struct external_ref r;
	struct err e = {0};
	assert_int_equal(parse(f, "s3://my-bucket/dir/a.txt", &r, &e), ERR_OK);
	assert_int_equal(r.kind, EXTERNAL_S3);
	assert_string_equal(r.storage_type, "s3");
	assert_string_equal(r.url, "http://127.0.0.1:9000/my-bucket/dir/a.txt");
	assert_string_equal(r.public_uri, "s3://my-bucket/dir/a.txt");
	assert_string_equal(r.allow, "127.0.0.1:9000");
	fx_free(f);
}

static void s3_key_is_decoded_then_encoded_for_sigv4(void **state)
{
	(void)state;
	struct fx *f = open_with(&base);
	struct external_ref r;
	struct err e = {0};
	assert_int_equal(parse(f, "s3://bkt/a%20b+c/(1)~x_y.z/%C3%A9", &r, &e), ERR_OK);
	assert_string_equal(r.url, "http://127.0.0.1:9000/bkt/a%20b%2Bc/%281%29~x_y.z/%C3%A9");
	assert_int_equal(parse(f, "s3://bkt/a%00b", &r, &e), ERR_INVALID);
	assert_int_equal(parse(f, "s3://bkt/a%0Ab", &r, &e), ERR_INVALID);
	assert_int_equal(parse(f, "s3://bkt/a%ZZ", &r, &e), ERR_INVALID);
	assert_int_equal(parse(f, "s3://bkt/%FF", &r, &e), ERR_INVALID);
	fx_free(f);
}

/* libcurl collapses dot segments before it signs: "a/../../OWN/" would leave the bucket. */
static void dot_segments_are_refused(void **state)
{
	(void)state;
	struct fx *f = open_with(&base);
	struct external_ref r;
	struct err e = {0};
	static const char *const bad[] = {
		"s3://bkt/a/../../depot-own/", "s3://bkt/../", "s3://bkt/./x", "s3://bkt/x/..",
		"s3://bkt/%2e%2e/depot-own/blobs/x", "s3://bkt/a/%2E/b", "gs://bkt/a/../../other/x",
		"gs://bkt/.%2e/x", "http://127.0.0.1:10000/acct/c/../../other/c/b?sig=x",
		"https://a.blob.core.windows.net/c/%2e%2e/d/b?sig=x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(f, bad[i], &r, &e) != ERR_INVALID)
			fail_msg("%s was not refused", bad[i]);
		assert_non_null(strstr(e.msg, "'..' segment"));
	}
	/* dots inside a segment name an object */
	assert_int_equal(parse(f, "s3://bkt/a/..b/.c/...", &r, &e), ERR_OK);
	assert_string_equal(r.url, "http://127.0.0.1:9000/bkt/a/..b/.c/...");
	fx_free(f);
}

static void s3_without_endpoint_is_aws_by_virtual_host_or_path_if_dotted(void **state)
{
	(void)state;
	struct external_settings s = base;
	s.s3_endpoint = "";
	struct fx *f = open_with(&s);
	struct external_ref r;
	struct err e = {0};
	assert_int_equal(parse(f, "s3://plain/k", &r, &e), ERR_OK);
	assert_string_equal(r.url, "https://plain.s3.eu-west-1.amazonaws.com/k");
	assert_null(r.allow);
	assert_int_equal(parse(f, "s3://with.dots/k", &r, &e), ERR_OK);
	assert_string_equal(r.url, "https://s3.eu-west-1.amazonaws.com/with.dots/k");
	fx_free(f);
}

static void bad_bucket_uris_are_refused(void **state)
{
	(void)state;
	struct fx *f = open_with(&base);
	struct external_ref r;
	struct err e = {0};
	static const char *const bad[] = {
		"s3://bkt",           "s3://bkt/",         "s3://Upper/k",   "s3://ab/k",
		"s3://bkt/k?versionId=1", "s3://bkt/k#frag", "s3://u:p@bkt/k", "s3://under_score/k",
		"gs://bkt",           "gs://-bkt/k",       "s3://bkt/a b",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(f, bad[i], &r, &e), ERR_INVALID);
	fx_free(f);
}

static void own_bucket_is_never_a_source(void **state)
{
	(void)state;
	struct fx *f = open_with(&base);
	struct external_ref r;
	struct err e = {0};
	assert_int_equal(parse(f, "s3://depot-own/blobs/x", &r, &e), ERR_FORBIDDEN);
	assert_int_equal(parse(f, "gs://depot-own/blobs/x", &r, &e), ERR_FORBIDDEN);
	fx_free(f);
}

static void gs_uri_goes_to_the_gcs_endpoint(void **state)
{
	(void)state;
	struct fx *f = open_with(&base);
	struct external_ref r;
	struct err e = {0};
	assert_int_equal(parse(f, "gs://under_score.bkt/obj/x.pdf", &r, &e), ERR_OK);
	assert_int_equal(r.kind, EXTERNAL_GCS);
	assert_string_equal(r.storage_type, "gcs");
	assert_string_equal(r.url, "https://storage.googleapis.com/under_score.bkt/obj/x.pdf");
	assert_null(r.allow); /* a host name: the address rules apply */
	fx_free(f);
}

static void azure_uri_drops_its_sas_and_keeps_what_names_content(void **state)
{
	(void)state;
	struct fx *f = open_with(&base);
	struct external_ref r;
	struct err e = {0};
	const char *uri = "https://acct1.blob.core.windows.net/cont/dir/b.txt?sv=2021-08-06&"
			  "snapshot=2024-01-01T00%3A00%3A00Z&sp=r&se=2099-01-01&sig=SECRET%3D";
	assert_int_equal(parse(f, uri, &r, &e), ERR_OK);
	assert_int_equal(r.kind, EXTERNAL_AZURE);
	assert_string_equal(r.storage_type, "azure_blob");
	assert_string_equal(r.public_uri, "https://acct1.blob.core.windows.net/cont/dir/b.txt"
					  "?snapshot=2024-01-01T00%3A00%3A00Z");
	assert_string_equal(r.url, uri);
	assert_true(r.has_sas);
	assert_null(r.allow);
	assert_int_equal(parse(f, "https://ACCT1.Blob.Core.Windows.Net/c/b", &r, &e), ERR_OK);
	assert_int_equal(r.kind, EXTERNAL_AZURE);
	assert_false(r.has_sas);
	assert_string_equal(r.public_uri, "https://ACCT1.Blob.Core.Windows.Net/c/b");
	fx_free(f);
}

static void azure_uri_rules(void **state)
{
	(void)state;
	struct fx *f = open_with(&base);
	struct external_ref r;
	struct err e = {0};
	assert_int_equal(parse(f, "http://a.blob.core.windows.net/c/b?sig=x", &r, &e), ERR_INVALID);
	assert_null(strstr(e.msg, "sig"));
	assert_int_equal(parse(f, "https://a.blob.core.windows.net/c", &r, &e), ERR_INVALID);
	assert_int_equal(parse(f, "https://u:p@a.blob.core.windows.net/c/b", &r, &e), ERR_INVALID);
	/* Look-alike hosts are ordinary uris, for the uri fetcher's rules. */
	assert_int_equal(parse(f, "https://a.blob.core.windows.net.evil.example/c/b", &r, &e),
			 ERR_OK);
	assert_int_equal(r.kind, EXTERNAL_NONE);
	fx_free(f);
}

static void emulator_is_matched_by_its_whole_origin(void **state)
{
	(void)state;
	struct fx *f = open_with(&base);
	struct external_ref r;
	struct err e = {0};
	assert_int_equal(parse(f, "http://127.0.0.1:10000/devstoreaccount1/c/b.txt?sv=1&sig=S",
			       &r, &e), ERR_OK);
	assert_int_equal(r.kind, EXTERNAL_AZURE);
	assert_string_equal(r.public_uri, "http://127.0.0.1:10000/devstoreaccount1/c/b.txt");
	assert_string_equal(r.allow, "127.0.0.1:10000");
	assert_int_equal(parse(f, "http://[::1]:10001/acct/c/b", &r, &e), ERR_OK);
	assert_string_equal(r.allow, "[::1]:10001");
	/* Another port, another scheme, or too short a path: not the emulator. */
	assert_int_equal(parse(f, "http://127.0.0.1:10002/acct/c/b?sig=S", &r, &e), ERR_OK);
	assert_int_equal(r.kind, EXTERNAL_NONE);
	assert_int_equal(parse(f, "https://127.0.0.1:10000/acct/c/b?sig=S", &r, &e), ERR_OK);
	assert_int_equal(r.kind, EXTERNAL_NONE);
	assert_int_equal(parse(f, "http://127.0.0.1:10000/acct/c", &r, &e), ERR_INVALID);
	fx_free(f);
}

static void other_uris_are_no_external_ones(void **state)
{
	(void)state;
	struct fx *f = open_with(&base);
	struct external_ref r;
	struct err e = {0};
	static const char *const other[] = {"https://example.com/a", "ftp://x/y", "file:///etc",
					     "data:,x"};
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		assert_int_equal(parse(f, other[i], &r, &e), ERR_OK);
		assert_int_equal(r.kind, EXTERNAL_NONE);
	}
	assert_int_equal(external_ref_parse(f->x, "s3://bkt/0123456789", 12, &f->pool, &r, &e),
			 ERR_INVALID);
	fx_free(f);
}

static void header_values_are_trimmed_and_bounded(void **state)
{
	(void)state;
	char out[8];
	const char *line = "ETag:  \"abc\" \r\n";
	assert_true(s3_header_value(line, strlen(line), "etag", out, sizeof(out)));
	assert_string_equal(out, "\"abc\"");
	assert_false(s3_header_value(line, strlen(line), "etags", out, sizeof(out)));
	const char *other = "X-ETag: 1\r\n";
	assert_false(s3_header_value(other, strlen(other), "etag", out, sizeof(out)));
	const char *long_one = "etag: 0123456789\r\n";
	assert_false(s3_header_value(long_one, strlen(long_one), "etag", out, sizeof(out)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(settings_are_checked),
		cmocka_unit_test(s3_uri_goes_to_the_configured_endpoint_path_style),
		cmocka_unit_test(s3_key_is_decoded_then_encoded_for_sigv4),
		cmocka_unit_test(s3_without_endpoint_is_aws_by_virtual_host_or_path_if_dotted),
		cmocka_unit_test(bad_bucket_uris_are_refused),
		cmocka_unit_test(dot_segments_are_refused),
		cmocka_unit_test(own_bucket_is_never_a_source),
		cmocka_unit_test(gs_uri_goes_to_the_gcs_endpoint),
		cmocka_unit_test(azure_uri_drops_its_sas_and_keeps_what_names_content),
		cmocka_unit_test(azure_uri_rules),
		cmocka_unit_test(emulator_is_matched_by_its_whole_origin),
		cmocka_unit_test(other_uris_are_no_external_ones),
		cmocka_unit_test(header_values_are_trimmed_and_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
