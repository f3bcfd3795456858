/* The NDJSON import line parser (api_import_line_parse in api/import.c) over every line of the
 * input. Invariants: an accepted line is a JSON object whose name it keeps, whose directory path
 * it normalises canonically, whose tags come out sorted and distinct, and whose content's bytes
 * are OpenSSL's one-shot decode of the data URL's payload, within the row's buffer. */
#include "fuzz.h"
#include "api/api.h"

#include <openssl/evp.h>

static void check_accepted(const char *line, size_t len, const struct store_import_row *row)
{
	json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	FZ_CHECK(json_is_object(j), "accepted a line jansson refuses");
	FZ_CHECK(strcmp(json_string_value(json_object_get(j, "name")), row->r.name) == 0,
		 "name differs");
	FZ_CHECK(row->r.directory_path[0] == '/', "path %s", row->r.directory_path);
	for (size_t i = 1; i < row->r.ntags; i++)
		FZ_CHECK(strcmp(row->r.tags[i - 1], row->r.tags[i]) < 0, "tags unsorted");
	json_t *c = json_object_get(j, "content");
	const char *v = json_string_value(c), *comma = strchr(v, ',');
	FZ_CHECK(comma != NULL, "content without ','");
	size_t n = strlen(comma + 1), pad = 0;
	while (n > 0 && comma[1 + n - 1] == '=') {
		n--;
		pad++;
	}
	size_t padded = (n + 3) / 4 * 4;
	unsigned char *in = malloc(padded + 1), *dec = malloc(padded / 4 * 3 + 1);
	memcpy(in, comma + 1, n);
	memset(in + n, '=', padded - n);
	int got = EVP_DecodeBlock(dec, in, (int)padded);
	FZ_CHECK(got >= 0 && pad <= 2, "OpenSSL refuses accepted content");
	size_t want = (size_t)got - (padded - n);
	FZ_CHECK(row->len == want && (want == 0 || memcmp(row->bytes, dec, want) == 0),
		 "decoded %zu bytes, OpenSSL %zu", row->len, want);
	free(in);
	free(dec);
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		size_t i = 0;
		while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
			i++;
		if (i < len) { /* import.c skips blank lines */
			struct pool pool;
			struct store_import_row row;
			struct err e = {0};
			pool_init(&pool);
			enum err_code rc =
				api_import_line_parse(p, len, &test_limits, &pool, &row, &e);
			bool refused = (rc == ERR_INVALID || rc == ERR_TOO_LARGE) && e.msg[0];
			FZ_CHECK(rc == ERR_OK || refused, "code %d", (int)rc);
			if (rc == ERR_OK)
				check_accepted(p, len, &row);
			pool_cleanup(&pool);
		}
		p += len + 1;
	}
	return 0;
}
