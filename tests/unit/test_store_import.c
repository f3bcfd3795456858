/* Unit tests for store_import_batch: many rows and their blobs written together, a taken name
 * failing only its own row, identical bytes stored once, and no blob left behind by a row that
 * did not land. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tmpdir.h"

#include <ftw.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/pool.h"
#include "store/store.h"

#define ACCT "acct-import-1"
#define ACCT2 "acct-import-2"

struct fixture {
	char dir[64];
	struct store *s;
	struct pool pool;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	if (!tmpdir_make(f->dir, sizeof(f->dir), "import"))
		return -1;
	char meta_url[128], blob_url[128];
	snprintf(meta_url, sizeof(meta_url), "sqlite:%s/t.db", f->dir);
	snprintf(blob_url, sizeof(blob_url), "file:%s", f->dir);
	struct err e = {0};
	if (store_open(meta_url, blob_url, &f->s, &e) != ERR_OK) {
		fprintf(stderr, "store_open: %s\n", e.msg);
		return -1;
	}
	pool_init(&f->pool);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	store_close(f->s);
	pool_cleanup(&f->pool);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

/* ---- helpers ---- */

static size_t nfiles;

static int count_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)path;
	(void)sb;
	(void)ftw;
	if (flag == FTW_F)
		nfiles++;
	return 0;
}

/* Regular files under <dir>/blobs. */
static size_t count_blobs(struct fixture *f)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/blobs", f->dir);
	nfiles = 0;
	struct stat st;
	if (stat(path, &st) != 0)
		return 0;
	nftw(path, count_entry, 16, FTW_PHYS);
	return nfiles;
}

static bool blob_file_exists(struct fixture *f, const char *key)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", f->dir, key);
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void sha_hex(const void *data, size_t len, char out[65])
{
	unsigned char d[32];
	unsigned int dl = 0;
	EVP_Digest(data, len, d, &dl, EVP_sha256(), NULL);
	for (size_t i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static struct store_import_row row(const char *account, const char *dir, const char *name,
				   const char *mime, const void *bytes, size_t len)
{
	struct store_import_row r;
	memset(&r, 0, sizeof(r));
	r.r.account_id = account;
	r.r.directory_path = dir;
	r.r.name = name;
	r.r.mime_type = mime;
	r.r.created_by = "tester";
	r.r.created_at_us = 1700000000000000;
	r.r.updated_at_us = 1700000000000000;
	r.bytes = bytes;
	r.len = len;
	r.result = (enum err_code)-1;
	return r;
}

static void import(struct fixture *f, struct store_import_row *rows, size_t n)
{
	struct err e = {0};
	enum err_code rc = store_import_batch(f->s, rows, n, &f->pool, &e);
	if (rc != ERR_OK)
		fail_msg("store_import_batch: %d %s", rc, e.msg);
}

/* Reads r back and checks it against what was imported. */
static void check_row(struct fixture *f, const struct store_import_row *in)
{
	struct meta_resource out;
	struct err e = {0};
	enum err_code rc = meta_resource_get(store_meta(f->s), in->r.account_id, in->r.id,
					     &f->pool, &out, &e);
	if (rc != ERR_OK)
		fail_msg("get %s (%s): %d %s", in->r.id, in->r.name, rc, e.msg);
	char want_sha[65];
	sha_hex(in->bytes, in->len, want_sha);
	assert_string_equal(out.sha256, want_sha);
	assert_string_equal(in->r.sha256, want_sha);
	assert_int_equal(out.size_bytes, (int64_t)in->len);
	char key[BLOB_KEY_MAX];
	blob_key(in->r.account_id, want_sha, key);
	assert_string_equal(out.storage_key, key);
	assert_string_equal(out.account_id, in->r.account_id);
	assert_string_equal(out.name, in->r.name);
	assert_string_equal(out.directory_path, in->r.directory_path);
	assert_string_equal(out.status, META_STATUS_UPLOADED);
	assert_int_equal(out.version, 1);
	assert_non_null(out.mime_type);
	assert_true(blob_file_exists(f, key));
	/* The bytes read back are the bytes imported. */
	struct blob_read b;
	struct pool rp;
	pool_init(&rp);
	assert_int_equal(store_content_open(f->s, &out, 0, 0, &rp, &b, &e), ERR_OK);
	assert_true(b.fd >= 0); /* inline storage is off in this store: a file */
	assert_int_equal(b.size, in->len);
	unsigned char *buf = malloc(in->len + 1);
	assert_non_null(buf);
	ssize_t got = in->len ? read(b.fd, buf, in->len) : 0;
	close(b.fd);
	assert_int_equal(got, (ssize_t)in->len);
	if (in->len)
		assert_memory_equal(buf, in->bytes, in->len);
	free(buf);
	pool_cleanup(&rp);
}

static void assert_not_found(struct fixture *f, const char *account, const char *id)
{
	struct meta_resource out;
	struct err e = {0};
	assert_int_equal(meta_resource_get(store_meta(f->s), account, id, &f->pool, &out, &e),
			 ERR_NOT_FOUND);
}

static const unsigned char PNG[] = {
	0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
	0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90,
	0x77, 0x53, 0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8,
	0xcf, 0xc0, 0x00, 0x00, 0x03, 0x01, 0x01, 0x00, 0xc9, 0xfe, 0x92, 0xef, 0x00, 0x00, 0x00,
	0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

/* ---- tests ---- */

static void batch_creates_rows_readable_with_right_fields(void **state)
{
	struct fixture *f = *state;
	static const char b1[] = "first batch bytes";
	struct store_import_row first[] = {row(ACCT, "/d", "taken", "text/plain", b1, 17)};
	import(f, first, 1);
	assert_int_equal(first[0].result, ERR_OK);
	check_row(f, &first[0]);
	assert_int_equal(count_blobs(f), 1);

	static const char shared[] = "shared bytes";
	static const char uniq_conflict[] = "unique bytes of a conflicting row";
	static const char dup_in_batch[] = "unique bytes of an in-batch duplicate";
	const char *tags[] = {"a", "b"};
	struct store_import_row rows[] = {
		row(ACCT, "/", "a.txt", "text/plain", shared, strlen(shared)),
		row(ACCT, "/", "b.txt", NULL, shared, strlen(shared)),
		row(ACCT, "/d", "taken", "text/plain", uniq_conflict, strlen(uniq_conflict)),
		row(ACCT, "/img", "c.png", NULL, PNG, sizeof(PNG)),
		row(ACCT, "/", "same-as-first", "text/plain", b1, 17),
		row(ACCT, "/d", "a.txt", "text/plain", shared, strlen(shared)),
		row(ACCT, "/", "a.txt", "text/plain", dup_in_batch, strlen(dup_in_batch)),
		row(ACCT, "/", "empty", NULL, "", 0),
		row(ACCT2, "/", "a.txt", "text/plain", shared, strlen(shared)),
	};
	rows[0].r.tags = tags;
	rows[0].r.ntags = 2;
	rows[0].r.metadata_json = "{\"k\":1}";
	size_t n = sizeof(rows) / sizeof(rows[0]);
	import(f, rows, n);

	for (size_t i = 0; i < n; i++) {
		if (i == 2 || i == 6) {
			if (rows[i].result != ERR_CONFLICT)
				fail_msg("row %zu: result %d, want ERR_CONFLICT", i, rows[i].result);
			assert_not_found(f, rows[i].r.account_id, rows[i].r.id);
		} else {
			if (rows[i].result != ERR_OK)
				fail_msg("row %zu: result %d, want ERR_OK", i, rows[i].result);
			check_row(f, &rows[i]);
		}
	}

	/* Tags and metadata land as given. */
	struct meta_resource out;
	struct err e = {0};
	assert_int_equal(meta_resource_get(store_meta(f->s), ACCT, rows[0].r.id, &f->pool, &out,
					   &e),
			 ERR_OK);
	assert_int_equal(out.ntags, 2);
	assert_string_equal(out.tags[0], "a");
	assert_string_equal(out.tags[1], "b");
	assert_string_equal(out.metadata_json, "{\"k\":1}");
	assert_string_equal(out.created_by, "tester");
	assert_int_equal(out.created_at_us, 1700000000000000);
	assert_string_equal(out.mime_type, "text/plain");

	/* The earlier batch's row is untouched. */
	check_row(f, &first[0]);

	/* Distinct ids. */
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			assert_string_not_equal(rows[i].r.id, rows[j].r.id);
}

static void identical_bytes_share_one_blob_and_conflicts_leave_none(void **state)
{
	struct fixture *f = *state;
	static const char b1[] = "first batch bytes";
	struct store_import_row first[] = {row(ACCT, "/d", "taken", "text/plain", b1, 17)};
	import(f, first, 1);
	assert_int_equal(count_blobs(f), 1);

	static const char shared[] = "shared bytes";
	static const char uniq_conflict[] = "unique bytes of a conflicting row";
	static const char dup_in_batch[] = "unique bytes of an in-batch duplicate";
	struct store_import_row rows[] = {
		row(ACCT, "/", "a.txt", "text/plain", shared, strlen(shared)),
		row(ACCT, "/", "b.txt", NULL, shared, strlen(shared)),
		row(ACCT, "/", "c.txt", NULL, shared, strlen(shared)),
		row(ACCT, "/d", "taken", "text/plain", uniq_conflict, strlen(uniq_conflict)),
		row(ACCT, "/", "a.txt", "text/plain", dup_in_batch, strlen(dup_in_batch)),
		row(ACCT, "/", "same-as-first", "text/plain", b1, 17),
	};
	size_t n = sizeof(rows) / sizeof(rows[0]);
	import(f, rows, n);
	assert_int_equal(rows[3].result, ERR_CONFLICT);
	assert_int_equal(rows[4].result, ERR_CONFLICT);
	/* b1 (shared with the first batch) and `shared`: two files, nothing for the conflicts. */
	assert_int_equal(count_blobs(f), 2);
	char key[BLOB_KEY_MAX], sha[65];
	sha_hex(uniq_conflict, strlen(uniq_conflict), sha);
	blob_key(ACCT, sha, key);
	assert_false(blob_file_exists(f, key));
	sha_hex(dup_in_batch, strlen(dup_in_batch), sha);
	blob_key(ACCT, sha, key);
	assert_false(blob_file_exists(f, key));
	/* The three rows sharing bytes share a key. */
	assert_string_equal(rows[0].r.storage_key, rows[1].r.storage_key);
	assert_string_equal(rows[0].r.storage_key, rows[2].r.storage_key);
	for (size_t i = 0; i < 3; i++)
		check_row(f, &rows[i]);
}

static void conflicting_row_with_bytes_of_an_existing_row_keeps_the_blob(void **state)
{
	struct fixture *f = *state;
	static const char b1[] = "first batch bytes";
	struct store_import_row first[] = {row(ACCT, "/d", "taken", "text/plain", b1, 17)};
	import(f, first, 1);
	/* The same name and the same bytes again: the row fails, the blob stays for the first. */
	struct store_import_row again[] = {row(ACCT, "/d", "taken", "text/plain", b1, 17)};
	import(f, again, 1);
	assert_int_equal(again[0].result, ERR_CONFLICT);
	assert_int_equal(count_blobs(f), 1);
	check_row(f, &first[0]);
}

static void conflicting_row_sharing_bytes_with_a_later_good_row(void **state)
{
	struct fixture *f = *state;
	static const char b1[] = "first batch bytes";
	struct store_import_row first[] = {row(ACCT, "/d", "taken", "text/plain", b1, 17)};
	import(f, first, 1);
	/* The conflicting row comes first, so it is the one whose blob write is done. */
	static const char later[] = "bytes shared by a conflict and a good row";
	struct store_import_row rows[] = {
		row(ACCT, "/d", "taken", "text/plain", later, strlen(later)),
		row(ACCT, "/d", "fresh", "text/plain", later, strlen(later)),
	};
	import(f, rows, 2);
	assert_int_equal(rows[0].result, ERR_CONFLICT);
	assert_int_equal(rows[1].result, ERR_OK);
	check_row(f, &rows[1]);
	assert_int_equal(count_blobs(f), 2);
}

static void all_rows_conflicting_leaves_no_new_blob(void **state)
{
	struct fixture *f = *state;
	static const char b1[] = "first batch bytes";
	struct store_import_row first[] = {
		row(ACCT, "/", "x", "text/plain", b1, 17),
		row(ACCT, "/", "y", "text/plain", b1, 17),
	};
	import(f, first, 2);
	assert_int_equal(count_blobs(f), 1);
	static const char n1[] = "new one", n2[] = "new two";
	struct store_import_row rows[] = {
		row(ACCT, "/", "x", "text/plain", n1, strlen(n1)),
		row(ACCT, "/", "y", "text/plain", n2, strlen(n2)),
	};
	import(f, rows, 2);
	assert_int_equal(rows[0].result, ERR_CONFLICT);
	assert_int_equal(rows[1].result, ERR_CONFLICT);
	assert_int_equal(count_blobs(f), 1);
}

static void mime_is_sniffed_when_null(void **state)
{
	struct fixture *f = *state;
	static const char text[] = "just some plain text\n";
	struct store_import_row rows[] = {
		row(ACCT, "/", "p", NULL, PNG, sizeof(PNG)),
		row(ACCT, "/", "t", NULL, text, strlen(text)),
		row(ACCT, "/", "o", "application/octet-stream", PNG, sizeof(PNG)),
		row(ACCT, "/", "given", "application/x-custom;v=1", PNG, sizeof(PNG)),
	};
	import(f, rows, 4);
	const char *want[] = {"image/png", "text/plain", "image/png", "application/x-custom;v=1"};
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(rows[i].result, ERR_OK);
		struct meta_resource out;
		struct err e = {0};
		assert_int_equal(meta_resource_get(store_meta(f->s), ACCT, rows[i].r.id, &f->pool,
						   &out, &e),
				 ERR_OK);
		/* Sniffers may add parameters (charset); the media type must match. */
		if (strncmp(out.mime_type, want[i], strlen(want[i])) != 0)
			fail_msg("row %zu: mime %s, want %s", i, out.mime_type, want[i]);
	}
}

static void empty_batch_is_fine(void **state)
{
	struct fixture *f = *state;
	struct err e = {0};
	assert_int_equal(store_import_batch(f->s, NULL, 0, &f->pool, &e), ERR_OK);
	assert_int_equal(count_blobs(f), 0);
}

static void rows_survive_reopening_the_store(void **state)
{
	struct fixture *f = *state;
	static const char b[] = "durable bytes";
	struct store_import_row rows[] = {
		row(ACCT, "/", "one", "text/plain", b, strlen(b)),
		row(ACCT, "/x", "two", "text/plain", b, strlen(b)),
	};
	import(f, rows, 2);
	store_close(f->s);
	char meta_url[128], blob_url[128];
	snprintf(meta_url, sizeof(meta_url), "sqlite:%s/t.db", f->dir);
	snprintf(blob_url, sizeof(blob_url), "file:%s", f->dir);
	struct err e = {0};
	assert_int_equal(store_open(meta_url, blob_url, &f->s, &e), ERR_OK);
	/* The start-up sweep keeps blobs that rows refer to. */
	assert_int_equal(count_blobs(f), 1);
	check_row(f, &rows[0]);
	check_row(f, &rows[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(batch_creates_rows_readable_with_right_fields, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			identical_bytes_share_one_blob_and_conflicts_leave_none, setup, teardown),
		cmocka_unit_test_setup_teardown(
			conflicting_row_with_bytes_of_an_existing_row_keeps_the_blob, setup,
			teardown),
		cmocka_unit_test_setup_teardown(conflicting_row_sharing_bytes_with_a_later_good_row,
						setup, teardown),
		cmocka_unit_test_setup_teardown(all_rows_conflicting_leaves_no_new_blob, setup,
						teardown),
		cmocka_unit_test_setup_teardown(mime_is_sniffed_when_null, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_batch_is_fine, setup, teardown),
		cmocka_unit_test_setup_teardown(rows_survive_reopening_the_store, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
