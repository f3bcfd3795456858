/* Unit tests for config_load: defaults, environment, flags, and the refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

#define GOOD_SECRET "0123456789abcdef" /* exactly 16 bytes */

extern char **environ;

/* Every DEPOT_* variable is removed before each test, so the caller's environment cannot
 * leak in, and a good secret is set unless the test says otherwise. */
static void clear_depot_env(void)
{
	for (;;) {
		char name[128] = "";
		for (char **ep = environ; *ep; ep++) {
			if (strncmp(*ep, "DEPOT_", 6) == 0) {
				size_t n = strcspn(*ep, "=");
				if (n < sizeof(name)) {
					memcpy(name, *ep, n);
					name[n] = '\0';
				}
				break;
			}
		}
		if (!name[0])
			return;
		unsetenv(name);
	}
}

static int setup(void **state)
{
	(void)state;
	clear_depot_env();
	setenv("DEPOT_JWT_SECRET", GOOD_SECRET, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	clear_depot_env();
	return 0;
}

/* argv from a NULL-terminated list, with "depotd" in front. */
static enum err_code load(struct config *c, struct err *e, const char *const *args)
{
	char *argv[32];
	int argc = 0;
	argv[argc++] = (char *)"depotd";
	for (; args != NULL && *args != NULL; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	memset(e, 0, sizeof(*e));
	return config_load(c, argc, argv, e);
}

static void expect_invalid(const char *const *args, const char *named)
{
	struct config c;
	struct err e;
	enum err_code rc = load(&c, &e, args);
	config_cleanup(&c);
	if (rc != ERR_INVALID)
		fail_msg("rc %d, want ERR_INVALID", rc);
	if (named != NULL && strstr(e.msg, named) == NULL)
		fail_msg("message \"%s\" does not name %s", e.msg, named);
}

/* The derived body limit holds the base64 of max_upload bytes plus 1 MiB of JSON, with at
 * most one quad of slack. */
static void assert_body_limit(int64_t body, int64_t upload)
{
	int64_t b64 = (upload + 2) / 3 * 4;
	if (body < b64 + 1048576 || body > b64 + 4 + 1048576)
		fail_msg("max_body_bytes %lld for max_upload_bytes %lld, want %lld..%lld",
			 (long long)body, (long long)upload, (long long)(b64 + 1048576),
			 (long long)(b64 + 1048580));
}

static void defaults_apply_with_only_a_secret(void **state)
{
	(void)state;
	struct config c;
	struct err e;
	assert_int_equal(load(&c, &e, NULL), ERR_OK);
	assert_string_equal(c.listen, "127.0.0.1:8080");
	assert_string_equal(c.data_dir, "./var");
	assert_int_equal(c.threads, 0); /* one event loop per core, chosen at start */
	assert_int_equal(c.blocking_threads, 8);
	assert_int_equal(c.idle_timeout_s, 30);
	assert_int_equal(c.max_upload_bytes, 104857600);
	/* 0 derives the body limit from the upload limit: base64 of it plus 1 MiB. */
	assert_body_limit(c.max_body_bytes, 104857600);
	assert_int_equal(c.max_name_bytes, 255);
	assert_int_equal(c.max_path_bytes, 1024);
	assert_int_equal(c.max_tag_bytes, 64);
	assert_int_equal(c.max_tags, 50);
	assert_int_equal(c.max_metadata_bytes, 65536);
	assert_int_equal(c.max_page_size, 100);
	assert_int_equal(c.max_uri_bytes, 2048);
	assert_int_equal(c.fetch_timeout_s, 30);
	assert_int_equal(c.fetch_max_redirects, 5);
	assert_false(c.fetch_allow_private);
	assert_string_equal(c.fetch_allow_addrs, "");
	assert_string_equal(c.jwt_secret, GOOD_SECRET);
	assert_string_equal(c.jwt_public_key, "");
	assert_string_equal(c.jwt_alg, "RS256");
	assert_string_equal(c.jwt_issuer, "");
	assert_string_equal(c.jwt_audience, "");
	assert_int_equal(c.jwt_leeway_s, 0);
	assert_false(c.check_only);
	assert_false(c.help);
	assert_int_equal(c.max_json_bytes, 1048576);
	assert_int_equal(c.upload_url_ttl_s, 900);
	assert_int_equal(c.max_url_ttl_s, 604800);
	assert_string_equal(c.url_secret, "");
	assert_string_equal(c.public_url, "");
	config_cleanup(&c);
}

static void environment_sets_values(void **state)
{
	(void)state;
	setenv("DEPOT_LISTEN", "[::1]:9999", 1);
	setenv("DEPOT_DATA", "/srv/depot", 1);
	setenv("DEPOT_THREADS", "4", 1);
	setenv("DEPOT_MAX_UPLOAD_BYTES", "3000", 1);
	setenv("DEPOT_FETCH_ALLOW_PRIVATE", "1", 1);
	setenv("DEPOT_FETCH_ALLOW_ADDRS", "127.0.0.1:8080", 1);
	setenv("DEPOT_JWT_ISSUER", "https://iss", 1);
	setenv("DEPOT_JWT_AUDIENCE", "depot", 1);
	setenv("DEPOT_JWT_LEEWAY", "60", 1);
	struct config c;
	struct err e;
	assert_int_equal(load(&c, &e, NULL), ERR_OK);
	assert_string_equal(c.listen, "[::1]:9999");
	assert_string_equal(c.data_dir, "/srv/depot");
	assert_int_equal(c.threads, 4);
	assert_int_equal(c.max_upload_bytes, 3000);
	assert_body_limit(c.max_body_bytes, 3000);
	assert_true(c.fetch_allow_private);
	assert_string_equal(c.fetch_allow_addrs, "127.0.0.1:8080");
	assert_string_equal(c.jwt_issuer, "https://iss");
	assert_string_equal(c.jwt_audience, "depot");
	assert_int_equal(c.jwt_leeway_s, 60);
	config_cleanup(&c);
}

static void flags_win_over_environment(void **state)
{
	(void)state;
	setenv("DEPOT_THREADS", "4", 1);
	setenv("DEPOT_LISTEN", "0.0.0.0:1", 1);
	const char *args[] = {"--threads=2", "--listen", "127.0.0.1:7000", "--max-page-size=50",
			      "--fetch-allow-private=true", "--max-body-bytes", "5000", NULL};
	struct config c;
	struct err e;
	assert_int_equal(load(&c, &e, args), ERR_OK);
	assert_int_equal(c.threads, 2);
	assert_string_equal(c.listen, "127.0.0.1:7000");
	assert_int_equal(c.max_page_size, 50);
	assert_true(c.fetch_allow_private);
	assert_int_equal(c.max_body_bytes, 5000);
	config_cleanup(&c);
}

static void check_config_and_help_flags(void **state)
{
	(void)state;
	struct config c;
	struct err e;
	const char *check[] = {"--check-config", NULL};
	assert_int_equal(load(&c, &e, check), ERR_OK);
	assert_true(c.check_only);
	config_cleanup(&c);
	const char *n[] = {"-n", NULL};
	assert_int_equal(load(&c, &e, n), ERR_OK);
	assert_true(c.check_only);
	config_cleanup(&c);
	/* --help succeeds even without a key, so the usage can always be printed. */
	unsetenv("DEPOT_JWT_SECRET");
	const char *help[] = {"--help", NULL};
	assert_int_equal(load(&c, &e, help), ERR_OK);
	assert_true(c.help);
	config_cleanup(&c);
}

static void public_key_settings_are_accepted(void **state)
{
	(void)state;
	unsetenv("DEPOT_JWT_SECRET");
	const char *args[] = {"--jwt-public-key=/etc/depot/key.pem", "--jwt-alg=ES256", NULL};
	struct config c;
	struct err e;
	assert_int_equal(load(&c, &e, args), ERR_OK);
	assert_string_equal(c.jwt_public_key, "/etc/depot/key.pem");
	assert_string_equal(c.jwt_alg, "ES256");
	assert_string_equal(c.jwt_secret, "");
	config_cleanup(&c);
}

static void bad_integer_is_invalid_and_named(void **state)
{
	(void)state;
	const char *abc[] = {"--threads=abc", NULL};
	expect_invalid(abc, "DEPOT_THREADS");
	const char *trail[] = {"--threads=12x", NULL};
	expect_invalid(trail, "DEPOT_THREADS");
	const char *empty[] = {"--threads=", NULL};
	expect_invalid(empty, "DEPOT_THREADS");
	const char *negative[] = {"--threads=-1", NULL};
	expect_invalid(negative, "DEPOT_THREADS");
	const char *blocking[] = {"--blocking-threads=1025", NULL};
	expect_invalid(blocking, "DEPOT_BLOCKING_THREADS");
	const char *huge[] = {"--threads=99999999999999999999999", NULL};
	expect_invalid(huge, "DEPOT_THREADS");
	const char *neg[] = {"--max-upload-bytes=-1", NULL};
	expect_invalid(neg, "DEPOT_MAX_UPLOAD_BYTES");
	const char *frac[] = {"--jwt-leeway=1.5", NULL};
	expect_invalid(frac, "DEPOT_JWT_LEEWAY");
	const char *page[] = {"--max-page-size=0", NULL};
	expect_invalid(page, "DEPOT_MAX_PAGE_SIZE");
}

static void bad_integer_in_environment_is_invalid(void **state)
{
	(void)state;
	setenv("DEPOT_MAX_TAGS", "lots", 1);
	expect_invalid(NULL, "DEPOT_MAX_TAGS");
	unsetenv("DEPOT_MAX_TAGS");
	setenv("DEPOT_FETCH_TIMEOUT", "", 1);
	expect_invalid(NULL, "DEPOT_FETCH_TIMEOUT");
}

static void bad_boolean_is_invalid(void **state)
{
	(void)state;
	const char *args[] = {"--fetch-allow-private=yes", NULL};
	expect_invalid(args, "DEPOT_FETCH_ALLOW_PRIVATE");
	const char *two[] = {"--fetch-allow-private=2", NULL};
	expect_invalid(two, "DEPOT_FETCH_ALLOW_PRIVATE");
}

static void unknown_flag_and_stray_argument_are_invalid(void **state)
{
	(void)state;
	const char *unknown[] = {"--no-such-flag=1", NULL};
	expect_invalid(unknown, "no-such-flag");
	const char *stray[] = {"serve", NULL};
	expect_invalid(stray, "serve");
	const char *single[] = {"-x", NULL};
	expect_invalid(single, NULL);
	const char *prefix[] = {"--thread=2", NULL}; /* no prefix matching */
	expect_invalid(prefix, NULL);
	/* The secret is environment-only, so it never shows in ps. */
	const char *secret[] = {"--jwt-secret=" GOOD_SECRET, NULL};
	expect_invalid(secret, NULL);
}

static void flag_without_value_is_invalid(void **state)
{
	(void)state;
	const char *args[] = {"--threads", NULL};
	expect_invalid(args, "threads");
}

static void missing_jwt_key_is_refused(void **state)
{
	(void)state;
	unsetenv("DEPOT_JWT_SECRET");
	expect_invalid(NULL, "DEPOT_JWT_SECRET");
	setenv("DEPOT_JWT_SECRET", "", 1);
	expect_invalid(NULL, NULL);
}

static void both_jwt_keys_are_refused(void **state)
{
	(void)state;
	const char *args[] = {"--jwt-public-key=/etc/key.pem", NULL};
	expect_invalid(args, NULL);
	setenv("DEPOT_JWT_PUBLIC_KEY", "/etc/key.pem", 1);
	expect_invalid(NULL, NULL);
}

static void short_secret_is_refused(void **state)
{
	(void)state;
	setenv("DEPOT_JWT_SECRET", "0123456789abcde", 1); /* 15 bytes */
	expect_invalid(NULL, "DEPOT_JWT_SECRET");
	setenv("DEPOT_JWT_SECRET", "x", 1);
	expect_invalid(NULL, "DEPOT_JWT_SECRET");
}

static void unknown_public_key_alg_is_refused(void **state)
{
	(void)state;
	unsetenv("DEPOT_JWT_SECRET");
	const char *args[] = {"--jwt-public-key=/etc/key.pem", "--jwt-alg=HS256", NULL};
	expect_invalid(args, "DEPOT_JWT_ALG");
	const char *none[] = {"--jwt-public-key=/etc/key.pem", "--jwt-alg=none", NULL};
	expect_invalid(none, "DEPOT_JWT_ALG");
}

static void bad_listen_and_empty_data_are_refused(void **state)
{
	(void)state;
	const char *nocolon[] = {"--listen=localhost", NULL};
	expect_invalid(nocolon, "DEPOT_LISTEN");
	const char *empty[] = {"--listen=", NULL};
	expect_invalid(empty, "DEPOT_LISTEN");
	const char *data[] = {"--data=", NULL};
	expect_invalid(data, "DEPOT_DATA");
}

static void signed_url_settings_are_checked(void **state)
{
	(void)state;
	setenv("DEPOT_URL_SECRET", "fedcba9876543210", 1);
	const char *ok[] = {"--public-url=https://depot.example.com", "--upload-url-ttl=60",
			    "--max-url-ttl=3600", NULL};
	struct config c;
	struct err e;
	assert_int_equal(load(&c, &e, ok), ERR_OK);
	assert_string_equal(c.url_secret, "fedcba9876543210");
	assert_string_equal(c.public_url, "https://depot.example.com");
	assert_int_equal(c.upload_url_ttl_s, 60);
	assert_int_equal(c.max_url_ttl_s, 3600);
	config_cleanup(&c);
	const char *ftp[] = {"--public-url=ftp://depot.example.com", NULL};
	expect_invalid(ftp, "DEPOT_PUBLIC_URL");
	const char *ttl0[] = {"--upload-url-ttl=0", NULL};
	expect_invalid(ttl0, "DEPOT_UPLOAD_URL_TTL");
	/* The URL secret is environment-only, like the JWT secret. */
	const char *flag[] = {"--url-secret=fedcba9876543210", NULL};
	expect_invalid(flag, NULL);
	setenv("DEPOT_URL_SECRET", "short", 1);
	expect_invalid(NULL, "DEPOT_URL_SECRET");
}

static void usage_lists_every_flag(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	config_usage(f);
	fclose(f);
	assert_non_null(strstr(buf, "--listen"));
	assert_non_null(strstr(buf, "DEPOT_JWT_SECRET"));
	assert_non_null(strstr(buf, "--fetch-allow-private"));
	assert_non_null(strstr(buf, "--check-config"));
	free(buf);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(defaults_apply_with_only_a_secret),
		T(environment_sets_values),
		T(flags_win_over_environment),
		T(check_config_and_help_flags),
		T(public_key_settings_are_accepted),
		T(bad_integer_is_invalid_and_named),
		T(bad_integer_in_environment_is_invalid),
		T(bad_boolean_is_invalid),
		T(unknown_flag_and_stray_argument_are_invalid),
		T(flag_without_value_is_invalid),
		T(missing_jwt_key_is_refused),
		T(both_jwt_keys_are_refused),
		T(short_secret_is_refused),
		T(unknown_public_key_alg_is_refused),
		T(bad_listen_and_empty_data_are_refused),
		T(signed_url_settings_are_checked),
		T(usage_lists_every_flag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
