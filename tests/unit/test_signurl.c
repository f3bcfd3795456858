/* Unit tests for auth/signurl: HMAC-SHA256 signed URLs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "auth/signurl.h"

static const unsigned char KEY[] = "signing-key-0123456789abcdef";
#define KEY_LEN (sizeof(KEY) - 1)
#define METHOD "GET"
#define PATH "/v1/signed/0b8e5a0e-5f6c-4f7e-9a51-1d2c3b4a5f60/content"
#define ACCT "acct-1"
#define EXPIRES 1900000000
#define NOW 1800000000

static void sign(const char *method, const char *path, const char *account, int64_t expires,
		 char sig[SIGNURL_SIG_LEN + 1])
{
	memset(sig, 'Z', SIGNURL_SIG_LEN + 1);
	signurl_sign(KEY, KEY_LEN, method, path, account, expires, sig);
}

static enum err_code verify_with(const unsigned char *key, size_t key_len, const char *method,
				 const char *path, const char *account, const char *expires,
				 const char *sig, int64_t now, int64_t *exp_out)
{
	struct err e = {0};
	int64_t exp = -1;
	enum err_code rc = signurl_verify(key, key_len, method, path, account, expires, sig, now,
					  &exp, &e);
	if (rc != ERR_OK)
		assert_true(e.msg[0] != '\0');
	if (exp_out != NULL)
		*exp_out = exp;
	return rc;
}

static enum err_code verify(const char *method, const char *path, const char *account,
			    const char *expires, const char *sig, int64_t now)
{
	return verify_with(KEY, KEY_LEN, method, path, account, expires, sig, now, NULL);
}

static void signature_is_64_lowercase_hex(void **state)
{
	(void)state;
	char sig[SIGNURL_SIG_LEN + 1];
	sign(METHOD, PATH, ACCT, EXPIRES, sig);
	assert_int_equal(strlen(sig), SIGNURL_SIG_LEN);
	for (size_t i = 0; i < SIGNURL_SIG_LEN; i++)
		assert_true((sig[i] >= '0' && sig[i] <= '9') || (sig[i] >= 'a' && sig[i] <= 'f'));
	/* Deterministic. */
	char again[SIGNURL_SIG_LEN + 1];
	sign(METHOD, PATH, ACCT, EXPIRES, again);
	assert_string_equal(sig, again);
}

static void round_trip_verifies(void **state)
{
	(void)state;
	char sig[SIGNURL_SIG_LEN + 1];
	sign(METHOD, PATH, ACCT, EXPIRES, sig);
	int64_t exp = 0;
	assert_int_equal(verify_with(KEY, KEY_LEN, METHOD, PATH, ACCT, "1900000000", sig, NOW,
				     &exp),
			 ERR_OK);
	assert_int_equal(exp, EXPIRES);
	/* One second before expiry is still valid. */
	assert_int_equal(verify(METHOD, PATH, ACCT, "1900000000", sig, EXPIRES - 1), ERR_OK);
}

static void altered_fields_are_forbidden(void **state)
{
	(void)state;
	char sig[SIGNURL_SIG_LEN + 1];
	sign(METHOD, PATH, ACCT, EXPIRES, sig);
	assert_int_equal(verify("PUT", PATH, ACCT, "1900000000", sig, NOW), ERR_FORBIDDEN);
	assert_int_equal(verify("HEAD", PATH, ACCT, "1900000000", sig, NOW), ERR_FORBIDDEN);
	assert_int_equal(verify(METHOD, PATH "x", ACCT, "1900000000", sig, NOW), ERR_FORBIDDEN);
	assert_int_equal(verify(METHOD, "/v1/signed/0b8e5a0e-5f6c-4f7e-9a51-1d2c3b4a5f61/content",
				ACCT, "1900000000", sig, NOW),
			 ERR_FORBIDDEN);
	assert_int_equal(verify(METHOD, PATH, "acct-2", "1900000000", sig, NOW), ERR_FORBIDDEN);
	assert_int_equal(verify(METHOD, PATH, "", "1900000000", sig, NOW), ERR_FORBIDDEN);
	assert_int_equal(verify(METHOD, PATH, ACCT, "1900000001", sig, NOW), ERR_FORBIDDEN);
	assert_int_equal(verify(METHOD, PATH, ACCT, "2900000000", sig, NOW), ERR_FORBIDDEN);
	static const unsigned char other[] = "signing-key-0123456789abcdeX";
	assert_int_equal(verify_with(other, sizeof(other) - 1, METHOD, PATH, ACCT, "1900000000",
				     sig, NOW, NULL),
			 ERR_FORBIDDEN);
	assert_int_equal(verify_with(KEY, KEY_LEN - 1, METHOD, PATH, ACCT, "1900000000", sig, NOW,
				     NULL),
			 ERR_FORBIDDEN);
	/* Each hex digit of the signature counts. */
	for (size_t i = 0; i < SIGNURL_SIG_LEN; i++) {
		char bad[SIGNURL_SIG_LEN + 1];
		memcpy(bad, sig, sizeof(bad));
		bad[i] = bad[i] == '0' ? '1' : '0';
		assert_int_equal(verify(METHOD, PATH, ACCT, "1900000000", bad, NOW), ERR_FORBIDDEN);
	}
}

static void field_boundaries_are_not_ambiguous(void **state)
{
	(void)state;
	/* Moving bytes between path and account changes the signature. */
	char a[SIGNURL_SIG_LEN + 1], b[SIGNURL_SIG_LEN + 1];
	sign(METHOD, "/p/a", "bc", EXPIRES, a);
	sign(METHOD, "/p/ab", "c", EXPIRES, b);
	assert_string_not_equal(a, b);
	assert_int_equal(verify(METHOD, "/p/ab", "c", "1900000000", a, NOW), ERR_FORBIDDEN);
}

static void expired_is_forbidden(void **state)
{
	(void)state;
	char sig[SIGNURL_SIG_LEN + 1];
	sign(METHOD, PATH, ACCT, EXPIRES, sig);
	assert_int_equal(verify(METHOD, PATH, ACCT, "1900000000", sig, EXPIRES), ERR_FORBIDDEN);
	assert_int_equal(verify(METHOD, PATH, ACCT, "1900000000", sig, EXPIRES + 1),
			 ERR_FORBIDDEN);
	assert_int_equal(verify(METHOD, PATH, ACCT, "1900000000", sig, INT64_MAX), ERR_FORBIDDEN);
	sign(METHOD, PATH, ACCT, 0, sig);
	assert_int_equal(verify(METHOD, PATH, ACCT, "0", sig, NOW), ERR_FORBIDDEN);
}

static void malformed_expires_is_forbidden(void **state)
{
	(void)state;
	char sig[SIGNURL_SIG_LEN + 1];
	sign(METHOD, PATH, ACCT, EXPIRES, sig);
	const char *bad[] = {"", "abc", "19000000x0", "1900000000 ", " 1900000000", "+1900000000",
			     "-1900000000", "1.9e9", "0x71c71c00", "1900000000000",
			     "0001900000000", "99999999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (verify(METHOD, PATH, ACCT, bad[i], sig, NOW) != ERR_FORBIDDEN)
			fail_msg("expires '%s' was accepted", bad[i]);
	}
	assert_int_equal(verify(METHOD, PATH, ACCT, NULL, sig, NOW), ERR_FORBIDDEN);
	/* 13 digits, even when correctly signed. */
	sign(METHOD, PATH, ACCT, INT64_C(1000000000000), sig);
	assert_int_equal(verify(METHOD, PATH, ACCT, "1000000000000", sig, NOW), ERR_FORBIDDEN);
}

static void malformed_sig_is_forbidden(void **state)
{
	(void)state;
	char sig[SIGNURL_SIG_LEN + 1];
	sign(METHOD, PATH, ACCT, EXPIRES, sig);
	char longer[SIGNURL_SIG_LEN + 2];
	memcpy(longer, sig, SIGNURL_SIG_LEN);
	longer[SIGNURL_SIG_LEN] = '0';
	longer[SIGNURL_SIG_LEN + 1] = '\0';
	char shorter[SIGNURL_SIG_LEN + 1];
	memcpy(shorter, sig, sizeof(shorter));
	shorter[SIGNURL_SIG_LEN - 1] = '\0';
	char upper[SIGNURL_SIG_LEN + 1];
	memcpy(upper, sig, sizeof(upper));
	bool changed = false;
	for (size_t i = 0; i < SIGNURL_SIG_LEN; i++) {
		if (upper[i] >= 'a' && upper[i] <= 'f') {
			upper[i] = (char)(upper[i] - 'a' + 'A');
			changed = true;
		}
	}
	assert_int_equal(verify(METHOD, PATH, ACCT, "1900000000", longer, NOW), ERR_FORBIDDEN);
	assert_int_equal(verify(METHOD, PATH, ACCT, "1900000000", shorter, NOW), ERR_FORBIDDEN);
	assert_int_equal(verify(METHOD, PATH, ACCT, "1900000000", "", NOW), ERR_FORBIDDEN);
	assert_int_equal(verify(METHOD, PATH, ACCT, "1900000000", NULL, NOW), ERR_FORBIDDEN);
	if (changed)
		assert_int_equal(verify(METHOD, PATH, ACCT, "1900000000", upper, NOW),
				 ERR_FORBIDDEN);
	assert_int_equal(verify(METHOD, PATH, NULL, "1900000000", sig, NOW), ERR_FORBIDDEN);
}

static void newline_in_path_or_account_is_refused(void **state)
{
	(void)state;
	char sig[SIGNURL_SIG_LEN + 1];
	sign(METHOD, "/a\nb", ACCT, EXPIRES, sig);
	assert_int_equal(verify(METHOD, "/a\nb", ACCT, "1900000000", sig, NOW), ERR_FORBIDDEN);
	sign(METHOD, PATH, "ac\nct", EXPIRES, sig);
	assert_int_equal(verify(METHOD, PATH, "ac\nct", "1900000000", sig, NOW), ERR_FORBIDDEN);
	sign(METHOD, PATH, "acct\n", EXPIRES, sig);
	assert_int_equal(verify(METHOD, PATH, "acct\n", "1900000000", sig, NOW), ERR_FORBIDDEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(signature_is_64_lowercase_hex),
		cmocka_unit_test(round_trip_verifies),
		cmocka_unit_test(altered_fields_are_forbidden),
		cmocka_unit_test(field_boundaries_are_not_ambiguous),
		cmocka_unit_test(expired_is_forbidden),
		cmocka_unit_test(malformed_expires_is_forbidden),
		cmocka_unit_test(malformed_sig_is_forbidden),
		cmocka_unit_test(newline_in_path_or_account_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
