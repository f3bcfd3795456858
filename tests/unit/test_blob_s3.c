/* Unit tests for the S3 blob store without a server: its settings URL, the ListObjectsV2
 * reader, opening, and the key checks before any request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob/blob.h"
#include "blob/s3_parse.h"

#define MiB (1024ULL * 1024)

static enum err_code parse(const char *rest, struct s3_config *c, struct err *e)
{
	memset(e, 0, sizeof(*e));
	return s3_config_parse(rest, c, e);
}

static void config_minimal_gets_defaults(void **state)
{
	(void)state;
	struct s3_config c;
	struct err e;
	assert_int_equal(parse("//my-bucket.1?endpoint=http://127.0.0.1:9000/&region=eu-west-3",
			       &c, &e),
			 ERR_OK);
	assert_string_equal(c.bucket, "my-bucket.1");
	assert_string_equal(c.endpoint, "http://127.0.0.1:9000"); /* the trailing '/' goes */
	assert_string_equal(c.region, "eu-west-3");
	assert_string_equal(c.spool_dir, "");
	assert_int_equal(c.connect_timeout_s, 10);
	assert_int_equal(c.stall_timeout_s, 30);
	assert_int_equal(c.multipart_threshold_bytes, 64 * MiB);
	assert_int_equal(c.part_size_bytes, 16 * MiB);
	assert_int_equal(c.sweep_grace_s, 3600);
}

static void config_takes_every_tunable_and_decodes_values(void **state)
{
	(void)state;
	struct s3_config c;
	struct err e;
	assert_int_equal(parse("//bkt?region=us-east-1&endpoint=https%3A%2F%2Fs3.example.com"
			       "&connect_timeout=3&stall_timeout=7&multipart_threshold=5242880"
			       "&part_size=6291456&sweep_grace=0&spool=%2Fvar%2Fdepot%20x%26y%2Fspool",
			       &c, &e),
			 ERR_OK);
	assert_string_equal(c.endpoint, "https://s3.example.com");
	assert_string_equal(c.spool_dir, "/var/depot x&y/spool");
	assert_int_equal(c.connect_timeout_s, 3);
	assert_int_equal(c.stall_timeout_s, 7);
	assert_int_equal(c.multipart_threshold_bytes, 5 * MiB);
	assert_int_equal(c.part_size_bytes, 6 * MiB);
	assert_int_equal(c.sweep_grace_s, 0);
}

static void config_refuses_bad_urls(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"bkt?endpoint=http://h&region=r",                   /* no // */
		"//bkt",                                              /* no endpoint, no region */
		"//bkt?endpoint=http://h",                            /* no region */
		"//bkt?region=r",                                     /* no endpoint */
		"//BKT?endpoint=http://h&region=r",                   /* upper case */
		"//ab?endpoint=http://h&region=r",                    /* too short */
		"//-bkt?endpoint=http://h&region=r",                  /* starts with '-' */
		"//bkt.?endpoint=http://h&region=r",                  /* ends with '.' */
		"//b_kt?endpoint=http://h&region=r",
		"//bkt?endpoint=ftp://h&region=r",                    /* not http(s) */
		"//bkt?endpoint=http://&region=r",                    /* no host */
		"//bkt?endpoint=http://h/path&region=r",              /* a path */
		"//bkt?endpoint=http://u:p@h&region=r",               /* credentials in the URL */
		"//bkt?endpoint=http://h?x&region=r",
		"//bkt?endpoint=http://h&region=a:b",                 /* would break the signing */
		"//bkt?endpoint=http://h&region=",
		"//bkt?endpoint=http://h&region=r&region=s",          /* given twice */
		"//bkt?endpoint=http://h&region=r&colour=blue",       /* unknown */
		"//bkt?endpoint=http://h&region=r&novalue",
		"//bkt?endpoint=http://h&region=r&part_size=5242879", /* under S3's 5 MiB */
		"//bkt?endpoint=http://h&region=r&connect_timeout=0",
		"//bkt?endpoint=http://h&region=r&sweep_grace=-1",
		"//bkt?endpoint=http://h&region=r&stall_timeout=1x",
		"//bkt?endpoint=http%3&region=r",                     /* a broken escape */
		"//bkt?endpoint=http://h%00&region=r",                /* a NUL */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct s3_config c;
		struct err e;
		if (parse(bad[i], &c, &e) != ERR_INVALID)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(strstr(e.msg, "s3 blob store"));
	}
}

static void xml_text_decodes_entities(void **state)
{
	(void)state;
	const char *x = "<a><Code>Access&amp;&lt;Denied&gt;&quot;&apos;</Code><E></E></a>";
	char out[64];
	assert_true(s3_xml_text(x, strlen(x), "Code", out, sizeof(out)));
	assert_string_equal(out, "Access&<Denied>\"'");
	assert_true(s3_xml_text(x, strlen(x), "E", out, sizeof(out)));
	assert_string_equal(out, "");
	assert_false(s3_xml_text(x, strlen(x), "Missing", out, sizeof(out)));
	assert_false(s3_xml_text(x, strlen(x), "Code", out, 5)); /* does not fit */
	const char *odd = "<Code>a&#65;</Code><Open>no end";
	assert_false(s3_xml_text(odd, strlen(odd), "Code", out, sizeof(out)));
	assert_false(s3_xml_text(odd, strlen(odd), "Open", out, sizeof(out)));
}

struct seen {
	char keys[4][600];
	int64_t when[4];
	int n;
};

static void collect(void *ctx, const char *key, int64_t us)
{
	struct seen *s = ctx;
	if (s->n < 4) {
		snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", key);
		s->when[s->n] = us;
	}
	s->n++;
}

static const char page[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name>"
	"<Prefix>blobs/</Prefix><KeyCount>3</KeyCount><MaxKeys>1000</MaxKeys>"
	"<IsTruncated>true</IsTruncated>"
	"<Contents><Key>blobs/a/1</Key><LastModified>2026-11-23T15:39:54.000Z</LastModified>"
	"<ETag>&quot;x&quot;</ETag><Size>3</Size></Contents>"
	"<Contents><Key>blobs/a&amp;b</Key><LastModified>not a time</LastModified></Contents>"
	"<Contents><Key>blobs/c</Key><LastModified>1970-01-01T00:00:01.5Z</LastModified>"
	"</Contents>"
	"<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
	"</ListBucketResult>";

static void list_reads_keys_times_and_the_token(void **state)
{
	(void)state;
	struct seen s = {0};
	bool more = false;
	char token[128];
	assert_true(s3_list_parse(page, strlen(page), collect, &s, &more, token, sizeof(token)));
	assert_int_equal(s.n, 2); /* the one with an unreadable time is skipped */
	assert_string_equal(s.keys[0], "blobs/a/1");
	assert_int_equal(s.when[0], 1795448394000000LL);
	assert_string_equal(s.keys[1], "blobs/c");
	assert_int_equal(s.when[1], 1500000);
	assert_true(more);
	assert_string_equal(token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

static void list_last_page_and_empty_page(void **state)
{
	(void)state;
	const char *last = "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k"
			   "</Key><LastModified>2026-01-01T00:00:00Z</LastModified></Contents>"
			   "</ListBucketResult>";
	const char *empty = "<ListBucketResult><KeyCount>0</KeyCount></ListBucketResult>";
	struct seen s = {0};
	bool more = true;
	char token[16] = "stale";
	assert_true(s3_list_parse(last, strlen(last), collect, &s, &more, token, sizeof(token)));
	assert_int_equal(s.n, 1);
	assert_false(more);
	assert_string_equal(token, "");
	s.n = 0;
	assert_true(s3_list_parse(empty, strlen(empty), collect, &s, &more, token, sizeof(token)));
	assert_int_equal(s.n, 0);
	assert_false(more);
}

static void list_refuses_what_cannot_go_on(void **state)
{
	(void)state;
	const char *error = "<Error><Code>AccessDenied</Code></Error>";
	const char *no_token = "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>";
	struct seen s = {0};
	bool more;
	char token[8];
	assert_false(s3_list_parse(error, strlen(error), collect, &s, &more, token, sizeof(token)));
	assert_false(s3_list_parse(no_token, strlen(no_token), collect, &s, &more, token,
				   sizeof(token)));
	/* a token that does not fit is no token */
	assert_false(s3_list_parse(page, strlen(page), collect, &s, &more, token, sizeof(token)));
}

/* Opening connects to nothing: the settings and the credentials are checked here, S3 is first
 * asked at the start-up sweep. */
static void store_open_needs_both_credentials(void **state)
{
	(void)state;
	const char *url = "s3://bkt?endpoint=http://127.0.0.1:1&region=r&spool=/tmp";
	struct blob_store *s = NULL;
	struct err e = {0};
	unsetenv("AWS_ACCESS_KEY_ID");
	setenv("AWS_SECRET_ACCESS_KEY", "a-secret", 1);
	assert_int_equal(blob_open(url, &s, &e), ERR_INVALID);
	assert_non_null(strstr(e.msg, "AWS_ACCESS_KEY_ID"));
	assert_null(strstr(e.msg, "a-secret"));
	setenv("AWS_ACCESS_KEY_ID", "an-id", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "", 1);
	assert_int_equal(blob_open(url, &s, &e), ERR_INVALID);
	setenv("AWS_SECRET_ACCESS_KEY", "a-secret", 1);
	assert_int_equal(blob_open(url, &s, &e), ERR_OK);
	assert_string_equal(blob_bucket(s), "bkt");
	assert_true(blob_place_repeatable(s));
	blob_close(s);
	assert_int_equal(blob_open("s3://BAD?endpoint=http://h&region=r", &s, &e), ERR_INVALID);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
}

/* Keys reach URLs only when they have blob_key's shape, whatever the backend. */
static void store_refuses_malformed_keys_before_any_request(void **state)
{
	(void)state;
	setenv("AWS_ACCESS_KEY_ID", "an-id", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "a-secret", 1);
	struct blob_store *s = NULL;
	struct err e = {0};
	/* port 1 on loopback: a request that got out would fail as unavailable, not internal */
	assert_int_equal(blob_open("s3://bkt?endpoint=http://127.0.0.1:1&region=r", &s, &e),
			 ERR_OK);
	static const char *const bad[] = {"blobs/../x", "blobs/a/b?acl", "", "inline/x",
					  "blobs/0123456789abcdef0123456789abcdef/%2e%2e"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct blob_read rd;
		bool exists;
		assert_int_equal(blob_read_open(s, bad[i], 0, 0, &rd, &e), ERR_INTERNAL);
		assert_int_equal(blob_exists(s, bad[i], &exists, &e), ERR_INTERNAL);
		assert_int_equal(blob_delete(s, bad[i], &e), ERR_INTERNAL);
	}
	char key[BLOB_KEY_MAX];
	bool exists = true;
	blob_key("acct", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", key);
	assert_int_equal(blob_exists(s, key, &exists, &e), ERR_UNAVAILABLE);
	assert_null(strstr(e.msg, "a-secret"));
	blob_close(s);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config_minimal_gets_defaults),
		cmocka_unit_test(config_takes_every_tunable_and_decodes_values),
		cmocka_unit_test(config_refuses_bad_urls),
		cmocka_unit_test(xml_text_decodes_entities),
		cmocka_unit_test(list_reads_keys_times_and_the_token),
		cmocka_unit_test(list_last_page_and_empty_page),
		cmocka_unit_test(list_refuses_what_cannot_go_on),
		cmocka_unit_test(store_open_needs_both_credentials),
		cmocka_unit_test(store_refuses_malformed_keys_before_any_request),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
