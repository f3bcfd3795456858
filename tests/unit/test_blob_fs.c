/* Unit tests for the local-file blob store, through blob.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tmpdir.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob/blob.h"

#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ABC_SHA "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

struct fixture {
	char dir[64];
	struct blob_store *s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	if (!tmpdir_make(f->dir, sizeof(f->dir), "blob"))
		return -1;
	char url[128];
	snprintf(url, sizeof(url), "file:%s", f->dir);
	struct err e = {0};
	if (blob_open(url, &f->s, &e) != ERR_OK) {
		fprintf(stderr, "blob_open: %s\n", e.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	blob_close(f->s);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static void sha256_hex(const void *buf, size_t len, char out[65])
{
	unsigned char d[32];
	unsigned int n = 0;
	assert_int_equal(EVP_Digest(buf, len, d, &n, EVP_sha256(), NULL), 1);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static size_t count_entries(const char *dir, const char *sub)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	DIR *d = opendir(path);
	if (d == NULL)
		return 0;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static bool file_exists(const char *dir, const char *rel)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	struct stat sb;
	return stat(path, &sb) == 0;
}

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* "blobs/<32 hex>/<64 hex>". */
static bool key_shape_ok(const char *k)
{
	return strncmp(k, "blobs/", 6) == 0 && is_hex(k + 6, 32) &&
	       k[38] == '/' && is_hex(k + 39, 64) && strlen(k) == 39 + 64;
}

/* Stages, finishes and commits buf; returns its key in key. */
static void put(struct fixture *f, const char *account, const void *buf, size_t len,
		char key[BLOB_KEY_MAX], char sha[65])
{
	struct blob_writer *w = NULL;
	struct err e = {0};
	assert_int_equal(blob_writer_new(f->s, &w, &e), ERR_OK);
	assert_int_equal(blob_writer_write(w, buf, len, &e), ERR_OK);
	uint64_t size = 0;
	assert_int_equal(blob_writer_finish(w, sha, &size, 0, &e), ERR_OK);
	assert_int_equal(size, len);
	blob_key(account, sha, key);
	enum err_code rc = blob_writer_commit(w, key, &e);
	if (rc != ERR_OK)
		fail_msg("commit %s: %d %s", key, rc, e.msg);
	blob_writer_free(w);
}

static void read_back(struct fixture *f, const char *key, const void *want, size_t len)
{
	struct blob_read rd = {.fd = -1};
	struct err e = {0};
	assert_int_equal(blob_read_open(f->s, key, 0, 0, &rd, &e), ERR_OK);
	assert_true(rd.fd >= 0);
	assert_int_equal(rd.size, len);
	unsigned char *got = malloc(len + 16);
	assert_non_null(got);
	size_t have = 0;
	ssize_t n;
	while ((n = read(rd.fd, got + have, len + 16 - have)) > 0)
		have += (size_t)n;
	assert_int_equal(n, 0);
	assert_int_equal(have, len);
	if (len)
		assert_memory_equal(got, want, len);
	free(got);
	close(rd.fd);
}

static void bucket_is_local(void **state)
{
	struct fixture *f = *state;
	assert_string_equal(blob_bucket(f->s), "local");
}

static void finish_reports_sha256_and_size(void **state)
{
	struct fixture *f = *state;
	struct blob_writer *w = NULL;
	struct err e = {0};
	assert_int_equal(blob_writer_new(f->s, &w, &e), ERR_OK);
	assert_int_equal(blob_writer_write(w, "a", 1, &e), ERR_OK);
	assert_int_equal(blob_writer_write(w, "", 0, &e), ERR_OK);
	assert_int_equal(blob_writer_write(w, "bc", 2, &e), ERR_OK);
	assert_int_equal(blob_writer_size(w), 3);
	char sha[65];
	uint64_t size = 0;
	assert_int_equal(blob_writer_finish(w, sha, &size, 0, &e), ERR_OK);
	assert_string_equal(sha, ABC_SHA);
	assert_int_equal(size, 3);
	blob_writer_free(w);
}

static void empty_blob_has_empty_sha256(void **state)
{
	struct fixture *f = *state;
	char key[BLOB_KEY_MAX], sha[65];
	put(f, "acct", "", 0, key, sha);
	assert_string_equal(sha, EMPTY_SHA);
	read_back(f, key, "", 0);
}

/* Finishes w (n bytes of buf written), checks its digest and size, commits it, reads it back,
 * and frees w and buf. */
static void finish_and_check(struct fixture *f, struct blob_writer *w, unsigned char *buf,
			     size_t n, const char *want)
{
	struct err e = {0};
	char sha[65], key[BLOB_KEY_MAX];
	uint64_t size = 0;
	assert_int_equal(blob_writer_finish(w, sha, &size, 0, &e), ERR_OK);
	assert_string_equal(sha, want);
	assert_int_equal(size, n);
	blob_key("acct", sha, key);
	assert_int_equal(blob_writer_commit(w, key, &e), ERR_OK);
	blob_writer_free(w);
	read_back(f, key, buf, n);
	free(buf);
}

static void large_blob_matches_evp_sha256_and_reads_back(void **state)
{
	struct fixture *f = *state;
	size_t n = 3 * 1024 * 1024 + 7;
	unsigned char *buf = malloc(n);
	assert_non_null(buf);
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)(i * 2654435761u >> 13);
	char want[65];
	sha256_hex(buf, n, want);

	struct blob_writer *w = NULL;
	struct err e = {0};
	assert_int_equal(blob_writer_new(f->s, &w, &e), ERR_OK);
	for (size_t off = 0; off < n;) {
		size_t chunk = n - off < 100000 ? n - off : 100000;
		assert_int_equal(blob_writer_write(w, buf + off, chunk, &e), ERR_OK);
		off += chunk;
	}
	size_t head_len = 0;
	const unsigned char *head = blob_writer_head(w, &head_len);
	assert_int_equal(head_len, BLOB_HEAD_BYTES);
	assert_memory_equal(head, buf, BLOB_HEAD_BYTES);
	finish_and_check(f, w, buf, n, want);
}

/* Pieces below, at and above the write buffer, so that bytes are hashed in line, by the helper
 * thread and on this thread while the helper holds a buffer: the digest is still one pass's. */
static void mixed_piece_sizes_hash_in_order(void **state)
{
	struct fixture *f = *state;
	static const size_t sizes[] = {100000, 1, 300000, 4095, 262144, 700000, 17};
	size_t n = 5 * 1024 * 1024 + 3;
	unsigned char *buf = malloc(n);
	assert_non_null(buf);
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)(i * 2246822519u >> 11);
	char want[65];
	sha256_hex(buf, n, want);
	struct blob_writer *w = NULL;
	struct err e = {0};
	assert_int_equal(blob_writer_new(f->s, &w, &e), ERR_OK);
	for (size_t off = 0, k = 0; off < n; k++) {
		size_t chunk = n - off < sizes[k % 7] ? n - off : sizes[k % 7];
		assert_int_equal(blob_writer_write(w, buf + off, chunk, &e), ERR_OK);
		off += chunk;
	}
	finish_and_check(f, w, buf, n, want);
}

/* A big upload that fails half-way: the writer goes while its helper may still hash. */
static void big_writer_freed_unfinished_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	size_t n = 2 * 1024 * 1024;
	unsigned char *buf = calloc(1, n);
	assert_non_null(buf);
	struct blob_writer *w = NULL;
	struct err e = {0};
	assert_int_equal(blob_writer_new(f->s, &w, &e), ERR_OK);
	for (size_t off = 0; off < n; off += 65536)
		assert_int_equal(blob_writer_write(w, buf + off, 65536, &e), ERR_OK);
	assert_int_equal(count_entries(f->dir, "staging"), 1);
	blob_writer_free(w);
	free(buf);
	assert_int_equal(count_entries(f->dir, "staging"), 0);
}

static void head_holds_the_first_bytes_of_a_small_blob(void **state)
{
	struct fixture *f = *state;
	struct blob_writer *w = NULL;
	struct err e = {0};
	assert_int_equal(blob_writer_new(f->s, &w, &e), ERR_OK);
	size_t len = 99;
	blob_writer_head(w, &len);
	assert_int_equal(len, 0);
	assert_int_equal(blob_writer_write(w, "%PDF-", 5, &e), ERR_OK);
	assert_int_equal(blob_writer_write(w, "1.7\n", 4, &e), ERR_OK);
	const unsigned char *h = blob_writer_head(w, &len);
	assert_int_equal(len, 9);
	assert_memory_equal(h, "%PDF-1.7\n", 9);
	blob_writer_free(w);
}

static void blob_key_is_deterministic_shaped_and_per_account(void **state)
{
	(void)state;
	char k1[BLOB_KEY_MAX], k2[BLOB_KEY_MAX], k3[BLOB_KEY_MAX], k4[BLOB_KEY_MAX];
	blob_key("acct-1", ABC_SHA, k1);
	blob_key("acct-1", ABC_SHA, k2);
	blob_key("acct-2", ABC_SHA, k3);
	blob_key("acct-1", EMPTY_SHA, k4);
	assert_string_equal(k1, k2);
	assert_string_not_equal(k1, k3);
	assert_string_not_equal(k1, k4);
	assert_true(key_shape_ok(k1));
	assert_true(key_shape_ok(k3));
	assert_true(key_shape_ok(k4));
	/* The key ends with the content hash, under its first two digits. */
	assert_string_equal(k1 + 39, ABC_SHA);
	/* Account part: the first 16 bytes of SHA-256(account), in hex; no byte of the id. */
	char acct_sha[65];
	sha256_hex("acct-1", 6, acct_sha);
	assert_memory_equal(k1 + 6, acct_sha, 32);
	assert_null(strstr(k1, "acct"));
	/* A hostile account id cannot steer the path. */
	char k5[BLOB_KEY_MAX];
	blob_key("../../etc", ABC_SHA, k5);
	assert_true(key_shape_ok(k5));
	assert_null(strstr(k5, ".."));
}

static void same_bytes_same_account_share_a_key(void **state)
{
	struct fixture *f = *state;
	char k1[BLOB_KEY_MAX], k2[BLOB_KEY_MAX], k3[BLOB_KEY_MAX], sha[65];
	put(f, "acct", "same bytes", 10, k1, sha);
	put(f, "acct", "same bytes", 10, k2, sha);
	put(f, "other", "same bytes", 10, k3, sha);
	assert_string_equal(k1, k2);
	assert_string_not_equal(k1, k3);
	read_back(f, k1, "same bytes", 10);
	read_back(f, k3, "same bytes", 10);
	assert_int_equal(count_entries(f->dir, "staging"), 0);
}

static void commit_moves_the_blob_under_its_key(void **state)
{
	struct fixture *f = *state;
	char key[BLOB_KEY_MAX], sha[65];
	put(f, "acct", "abc", 3, key, sha);
	assert_string_equal(sha, ABC_SHA);
	assert_true(file_exists(f->dir, key));
	assert_int_equal(count_entries(f->dir, "staging"), 0);
	read_back(f, key, "abc", 3);
}

static void freed_uncommitted_writer_leaves_no_staging_file(void **state)
{
	struct fixture *f = *state;
	struct blob_writer *w = NULL;
	struct err e = {0};
	/* The staging file is made only when bytes leave memory (here: at finish). */
	assert_int_equal(blob_writer_new(f->s, &w, &e), ERR_OK);
	assert_int_equal(count_entries(f->dir, "staging"), 0);
	assert_int_equal(blob_writer_write(w, "temp", 4, &e), ERR_OK);
	assert_int_equal(count_entries(f->dir, "staging"), 0);
	blob_writer_free(w);
	assert_int_equal(count_entries(f->dir, "staging"), 0);

	/* Also after finish but before commit. */
	assert_int_equal(blob_writer_new(f->s, &w, &e), ERR_OK);
	assert_int_equal(blob_writer_write(w, "temp", 4, &e), ERR_OK);
	char sha[65];
	uint64_t size;
	assert_int_equal(blob_writer_finish(w, sha, &size, 0, &e), ERR_OK);
	assert_int_equal(count_entries(f->dir, "staging"), 1);
	blob_writer_free(w);
	assert_int_equal(count_entries(f->dir, "staging"), 0);
	assert_int_equal(count_entries(f->dir, "blobs"), 0);

	/* Content kept in memory never makes a staging file. */
	assert_int_equal(blob_writer_new(f->s, &w, &e), ERR_OK);
	assert_int_equal(blob_writer_write(w, "temp", 4, &e), ERR_OK);
	assert_int_equal(blob_writer_finish(w, sha, &size, 16, &e), ERR_OK);
	size_t mlen = 0;
	const unsigned char *mem = blob_writer_memory(w, &mlen);
	assert_non_null(mem);
	assert_int_equal(mlen, 4);
	assert_memory_equal(mem, "temp", 4);
	assert_int_equal(count_entries(f->dir, "staging"), 0);
	blob_writer_free(w);
	blob_writer_free(NULL);
}

static void commit_before_finish_is_refused(void **state)
{
	struct fixture *f = *state;
	struct blob_writer *w = NULL;
	struct err e = {0};
	assert_int_equal(blob_writer_new(f->s, &w, &e), ERR_OK);
	assert_int_equal(blob_writer_write(w, "abc", 3, &e), ERR_OK);
	char key[BLOB_KEY_MAX];
	blob_key("acct", ABC_SHA, key);
	assert_int_not_equal(blob_writer_commit(w, key, &e), ERR_OK);
	assert_false(file_exists(f->dir, key));
	blob_writer_free(w);
}

static void malformed_keys_are_refused_everywhere(void **state)
{
	struct fixture *f = *state;
	const char *bad[] = {
		"",
		"../escape",
		"blobs/../../etc/passwd",
		"staging/x.tmp",
		"blobs/00112233445566778899aabbccddeeff/ab/" EMPTY_SHA, /* wrong 2-digit dir */
		"blobs/00112233445566778899AABBCCDDEEFF/e3/" EMPTY_SHA, /* uppercase */
		"/blobs/00112233445566778899aabbccddeeff/e3/" EMPTY_SHA,
	};
	struct blob_writer *w = NULL;
	struct err e = {0};
	assert_int_equal(blob_writer_new(f->s, &w, &e), ERR_OK);
	char sha[65];
	uint64_t size;
	assert_int_equal(blob_writer_finish(w, sha, &size, 0, &e), ERR_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct blob_read rd;
		if (blob_writer_commit(w, bad[i], &e) == ERR_OK)
			fail_msg("commit accepted key \"%s\"", bad[i]);
		if (blob_read_open(f->s, bad[i], 0, 0, &rd, &e) == ERR_OK)
			fail_msg("read_open accepted key \"%s\"", bad[i]);
		if (blob_delete(f->s, bad[i], &e) == ERR_OK)
			fail_msg("delete accepted key \"%s\"", bad[i]);
	}
	blob_writer_free(w);
}

static void read_of_missing_blob_is_not_found(void **state)
{
	struct fixture *f = *state;
	char key[BLOB_KEY_MAX];
	blob_key("acct", ABC_SHA, key);
	struct blob_read rd;
	struct err e = {0};
	assert_int_equal(blob_read_open(f->s, key, 0, 0, &rd, &e), ERR_NOT_FOUND);
}

static void delete_removes_and_missing_is_ok(void **state)
{
	struct fixture *f = *state;
	char key[BLOB_KEY_MAX], sha[65];
	struct err e = {0};
	blob_key("acct", ABC_SHA, key);
	assert_int_equal(blob_delete(f->s, key, &e), ERR_OK); /* never existed */
	put(f, "acct", "abc", 3, key, sha);
	assert_int_equal(blob_delete(f->s, key, &e), ERR_OK);
	assert_false(file_exists(f->dir, key));
	struct blob_read rd;
	assert_int_equal(blob_read_open(f->s, key, 0, 0, &rd, &e), ERR_NOT_FOUND);
	assert_int_equal(blob_delete(f->s, key, &e), ERR_OK); /* twice */
}

struct keep_set {
	struct blob_store *s;
	const char *keep;
	int calls;
};

/* Drops every blob but k->keep, as the store's sweep callback does. */
static bool keep_one(void *ctx, const char *key)
{
	struct keep_set *k = ctx;
	struct err e;
	k->calls++;
	if (strcmp(key, k->keep) == 0)
		return false;
	assert_int_equal(blob_delete(k->s, key, &e), ERR_OK);
	return true;
}

static void sweep_removes_staging_and_unreferenced_blobs(void **state)
{
	struct fixture *f = *state;
	char k1[BLOB_KEY_MAX], k2[BLOB_KEY_MAX], k3[BLOB_KEY_MAX], sha[65];
	put(f, "acct", "one", 3, k1, sha);
	put(f, "acct", "two", 3, k2, sha);
	put(f, "other", "three", 5, k3, sha);
	/* Two staging leftovers, as a crash would leave them. */
	char path[256];
	snprintf(path, sizeof(path), "%s/staging/11111111-1111-4111-8111-111111111111.tmp",
		 f->dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("partial", fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/staging/22222222-2222-4222-8222-222222222222.tmp",
		 f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(count_entries(f->dir, "staging"), 2);

	struct keep_set k = {.s = f->s, .keep = k2};
	uint64_t staged = 99, blobs = 99;
	struct err e = {0};
	assert_int_equal(blob_sweep(f->s, keep_one, &k, &staged, &blobs, &e), ERR_OK);
	assert_int_equal(staged, 2);
	assert_int_equal(blobs, 2);
	assert_int_equal(k.calls, 3);
	assert_int_equal(count_entries(f->dir, "staging"), 0);
	assert_false(file_exists(f->dir, k1));
	assert_true(file_exists(f->dir, k2));
	assert_false(file_exists(f->dir, k3));
	read_back(f, k2, "two", 3);

	/* A second sweep finds nothing more to do. */
	k.calls = 0;
	assert_int_equal(blob_sweep(f->s, keep_one, &k, &staged, &blobs, &e), ERR_OK);
	assert_int_equal(staged, 0);
	assert_int_equal(blobs, 0);
	assert_int_equal(k.calls, 1);
}

static void sweep_of_an_empty_store_removes_nothing(void **state)
{
	/* Sweep runs at start-up; on an empty store it removes nothing and asks about nothing. */
	struct fixture *f = *state;
	struct keep_set k = {.s = f->s, .keep = ""};
	uint64_t staged = 99, blobs = 99;
	struct err e = {0};
	assert_int_equal(blob_sweep(f->s, keep_one, &k, &staged, &blobs, &e), ERR_OK);
	assert_int_equal(staged, 0);
	assert_int_equal(blobs, 0);
	assert_int_equal(k.calls, 0);
}

static void reopen_keeps_committed_blobs(void **state)
{
	struct fixture *f = *state;
	char key[BLOB_KEY_MAX], sha[65];
	put(f, "acct", "durable", 7, key, sha);
	blob_close(f->s);
	f->s = NULL;
	char url[128];
	snprintf(url, sizeof(url), "file:%s", f->dir);
	struct err e = {0};
	assert_int_equal(blob_open(url, &f->s, &e), ERR_OK);
	read_back(f, key, "durable", 7);
}

static void open_refuses_unknown_scheme(void **state)
{
	(void)state;
	struct blob_store *s = NULL;
	struct err e = {0};
	assert_int_equal(blob_open("s3://bucket", &s, &e), ERR_INVALID);
	assert_int_equal(blob_open("/tmp/no-scheme", &s, &e), ERR_INVALID);
	assert_null(s);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(bucket_is_local),
		T(finish_reports_sha256_and_size),
		T(empty_blob_has_empty_sha256),
		T(large_blob_matches_evp_sha256_and_reads_back),
		T(mixed_piece_sizes_hash_in_order),
		T(big_writer_freed_unfinished_leaves_nothing),
		T(head_holds_the_first_bytes_of_a_small_blob),
		T(blob_key_is_deterministic_shaped_and_per_account),
		T(same_bytes_same_account_share_a_key),
		T(commit_moves_the_blob_under_its_key),
		T(freed_uncommitted_writer_leaves_no_staging_file),
		T(commit_before_finish_is_refused),
		T(malformed_keys_are_refused_everywhere),
		T(read_of_missing_blob_is_not_found),
		T(delete_removes_and_missing_is_ok),
		T(sweep_removes_staging_and_unreferenced_blobs),
		T(sweep_of_an_empty_store_removes_nothing),
		T(reopen_keeps_committed_blobs),
		cmocka_unit_test(open_refuses_unknown_scheme),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
