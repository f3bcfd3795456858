/* The multipart create as depot handles it after libmicrohttpd's post processor has split the
 * body: the parts' pieces go through the same dispatch as upload.c's on_form_piece into
 * api_form_file_begin / api_form_text_piece, then api_form_fields. The post processor itself is
 * libmicrohttpd's (a Debian library, exercised by its own fuzzing); it needs a live connection,
 * so this target feeds the piece sequences it produces instead: a part's first piece has offset
 * 0, later ones continue it. Input records: a kind byte, a field (one of the form's names, or
 * the bytes up to NUL), for the file a filename and content type, a length byte and the data.
 * Invariants: an accepted form's name is the whole name part (or the filename), its directory
 * path canonical, its tags sorted, distinct and each a comma-separated item of a tags part, its
 * metadata a compact JSON object within its limit, its description the description part, its
 * shared team slugs sorted, distinct and each an item of a shared_team_slugs part, and only with
 * read_access SPECIFIC_TEAMS; text stays within max_bytes. */
#include "fuzz.h"
#include "api/api.h"
#include "meta/meta.h"

#define MAX_TEXT 4096

static const char *field_of(struct fz *f, struct pool *pool)
{
	static const char *const names[] = {"name",        "directory_path", "tags",
					    "metadata",    "file",           "other",
					    "description", "read_access",    "shared_team_slugs"};
	unsigned k = fz_byte(f);
	if (k < 9 * 26)
		return names[k % 9];
	return fz_cstr(f, pool, NULL);
}

static bool is_item(const struct form_parts *fp, const char *field, const char *tag)
{
	size_t n = strlen(tag);
	for (size_t i = 0; i < fp->nparts; i++) {
		if (strcmp(fp->parts[i].field, field) != 0 || fp->parts[i].data == NULL)
			continue;
		const char *p = fp->parts[i].data;
		while (*p) {
			size_t m = strcspn(p, ",");
			if (m == n && memcmp(p, tag, n) == 0)
				return true;
			p += m + (p[m] == ',');
		}
	}
	return false;
}

static const struct form_part *part(const struct form_parts *fp, const char *field)
{
	for (size_t i = 0; i < fp->nparts; i++)
		if (strcmp(fp->parts[i].field, field) == 0)
			return &fp->parts[i];
	return NULL;
}

static void check_capabilities(const struct form_parts *fp, const struct create_fields *f)
{
	const struct form_part *d = part(fp, "description");
	FZ_CHECK(d == NULL ? f->description == NULL
			   : strcmp(f->description, d->data ? d->data : "") == 0,
		 "description is not the description part");
	bool specific = f->read_access != NULL && strcmp(f->read_access, META_ACCESS_SPECIFIC) == 0;
	FZ_CHECK((f->nshared > 0) == specific, "%zu slugs", f->nshared);
	for (size_t i = 0; i < f->nshared; i++) {
		FZ_CHECK(i == 0 || strcmp(f->shared_with[i - 1], f->shared_with[i]) < 0,
			 "slugs unsorted");
		FZ_CHECK(is_item(fp, "shared_team_slugs", f->shared_with[i]),
			 "slug %s is not in a shared_team_slugs part", f->shared_with[i]);
	}
}

static void check_accepted(const struct form_parts *fp, const struct create_fields *f)
{
	check_capabilities(fp, f);
	const struct form_part *name = part(fp, "name");
	if (name != NULL && name->len > 0)
		FZ_CHECK(strlen(f->name) == name->len &&
				 memcmp(f->name, name->data, name->len) == 0,
			 "name %s is not the %zu bytes of the name part", f->name, name->len);
	else
		FZ_CHECK(fp->filename != NULL && strcmp(f->name, fp->filename) == 0, "name %s",
			 f->name);
	FZ_CHECK(f->directory_path[0] == '/', "path");
	const struct form_part *dir = part(fp, "directory_path");
	FZ_CHECK(dir != NULL && strlen(dir->data ? dir->data : "") == dir->len,
		 "directory_path part with NUL accepted");
	for (size_t i = 0; i < f->ntags; i++) {
		FZ_CHECK(i == 0 || strcmp(f->tags[i - 1], f->tags[i]) < 0, "tags unsorted");
		FZ_CHECK(is_item(fp, "tags", f->tags[i]), "tag %s is not in a tags part", f->tags[i]);
	}
	if (f->metadata_json != NULL) {
		FZ_CHECK(strlen(f->metadata_json) <= test_limits.max_metadata_bytes, "metadata size");
		json_t *m = json_loads(f->metadata_json, 0, NULL);
		FZ_CHECK(json_is_object(m), "metadata %s", f->metadata_json);
		json_decref(m);
		const struct form_part *mp = part(fp, "metadata");
		FZ_CHECK(mp != NULL && strlen(mp->data) == mp->len, "metadata part with a NUL");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	struct pool pool;
	struct form_parts fp;
	struct err e = {0};
	enum err_code rc = ERR_OK;
	const char *last = NULL; /* the field of the part being continued */
	uint64_t off = 0;
	memset(&fp, 0, sizeof(fp));
	pool_init(&pool);
	while (f.n > 0 && rc == ERR_OK) {
		unsigned kind = fz_byte(&f);
		bool more = (kind & 1) && last != NULL; /* the next piece of the same part */
		const char *field = more ? last : field_of(&f, &pool);
		const char *filename = NULL, *ctype = NULL;
		if (!more)
			off = 0;
		if (strcmp(field, "file") == 0 && off == 0) {
			filename = (kind & 2) ? fz_cstr(&f, &pool, NULL) : NULL;
			ctype = (kind & 4) ? fz_cstr(&f, &pool, NULL) : NULL;
		}
		size_t len = fz_byte(&f);
		len = len < f.n ? len : f.n;
		const char *piece = (const char *)f.p;
		f.p += len;
		f.n -= len;
		/* upload.c's on_form_piece: the file part's bytes go to the blob writer. */
		if (strcmp(field, "file") == 0) {
			if (off == 0)
				rc = api_form_file_begin(&fp, filename, ctype, &pool, &e);
		} else {
			rc = api_form_text_piece(&fp, field, piece, off, len, MAX_TEXT, &e);
		}
		last = field;
		off += len;
	}
	FZ_CHECK(fp.text_bytes <= MAX_TEXT || rc == ERR_TOO_LARGE, "text over the limit");
	struct create_fields cf;
	if (rc == ERR_OK)
		rc = api_form_fields(&fp, &test_limits, &pool, &cf, &e);
	FZ_CHECK(rc == ERR_OK || ((rc == ERR_INVALID || rc == ERR_TOO_LARGE) && e.msg[0]),
		 "code %d", (int)rc);
	if (rc == ERR_OK)
		check_accepted(&fp, &cf);
	api_form_parts_cleanup(&fp);
	pool_cleanup(&pool);
	return 0;
}
