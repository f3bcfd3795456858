/* Text values: a resource's content read and written as a JSON value. A string is stored as
 * text/plain bytes, or application/json when it parses as JSON; it reads back as that string,
 * or typed (its JSON) when asked. Other content reads as a file object. */
#include "api/api.h"
#include "core/text.h"
#include "json/jsonw.h"

#include <openssl/evp.h>
#include <string.h>
#include <strings.h>

const char *api_value_mime(const char *text, size_t len)
{
	json_error_t je;
	json_t *v = json_loadb(text, len, JSON_DECODE_ANY, &je);
	if (v == NULL)
		return "text/plain";
	json_decref(v);
	return "application/json";
}

/* True when mime's media type (parameters aside) is type. */
static bool media_is(const char *mime, const char *type)
{
	size_t n = strlen(type);
	return mime != NULL && strncasecmp(mime, type, n) == 0 &&
	       (mime[n] == '\0' || mime[n] == ';' || mime[n] == ' ');
}

/* {"name": ..., "contents": base64 or null, "type": ...} */
static void write_file(struct buf *b, const struct meta_resource *v, const unsigned char *bytes,
		       size_t len)
{
	buf_adds(b, "{\"name\":");
	jsonw_str(b, v->file_name ? v->file_name : v->name);
	buf_adds(b, ",\"contents\":");
	if (bytes == NULL) {
		buf_adds(b, "null");
	} else {
		/* EVP_EncodeBlock writes 4 characters per 3 bytes and a NUL, in pieces so no
		 * second full-size buffer is needed. */
		unsigned char out[4 * 1024 + 1];
		buf_add(b, "\"", 1);
		for (size_t off = 0; off < len; off += 3 * 1024) {
			size_t n = len - off < 3 * 1024 ? len - off : 3 * 1024;
			int m = EVP_EncodeBlock(out, bytes + off, (int)n);
			buf_add(b, out, (size_t)m);
		}
		buf_add(b, "\"", 1);
	}
	buf_adds(b, ",\"type\":");
	jsonw_str(b, v->mime_type);
	buf_add(b, "}", 1);
}

enum err_code api_value_write(struct api_ctx *c, struct buf *b, const struct meta_resource *r,
			      bool test, bool typed, struct err *e)
{
	struct meta_resource v = test ? store_test_view(r) : *r;
	const unsigned char *bytes;
	size_t len;
	if (!META_HAS_BYTES(&v)) {
		buf_adds(b, "null");
		return ERR_OK;
	}
	enum err_code rc = store_content_read(c->api->store, &v, false, c->api->max_json_bytes,
					      c->req->pool, &bytes, &len, e);
	if (rc == ERR_TOO_LARGE) {
		write_file(b, &v, NULL, 0);
		return ERR_OK;
	}
	if (rc != ERR_OK)
		return rc;
	bool json = media_is(v.mime_type, "application/json");
	bool text = (json || media_is(v.mime_type, "text/plain")) &&
		    text_utf8_valid((const char *)bytes, len) && memchr(bytes, '\0', len) == NULL;
	if (!text) {
		write_file(b, &v, bytes, len);
		return ERR_OK;
	}
	char *s = pool_strndup(c->req->pool, (const char *)bytes, len);
	json_error_t je;
	json_t *parsed = typed && json ? json_loadb(s, len, JSON_DECODE_ANY, &je) : NULL;
	if (parsed != NULL)
		buf_add(b, s, len); /* it parsed: valid JSON as it is */
	else
		jsonw_str(b, s);
	json_decref(parsed);
	return ERR_OK;
}

/* GET /v1/resources/{id}/value?typed_value=&is_test= */
void api_resource_value(struct api_ctx *c)
{
	struct err e = {0};
	struct meta_resource r;
	bool typed, test;
	enum err_code rc = api_query_bool(c, "typed_value", false, &typed, &e);
	if (rc == ERR_OK)
		rc = api_query_bool(c, "is_test", false, &test, &e);
	if (rc == ERR_OK)
		rc = meta_resource_get_visible(store_meta(c->api->store), c->who->account_id,
					       c->req->params[0], c->req->pool, &r, &e);
	struct buf b;
	buf_init(&b, 256);
	buf_adds(&b, "{\"value\":");
	if (rc == ERR_OK)
		rc = api_value_write(c, &b, &r, test, typed, &e);
	if (rc != ERR_OK) {
		buf_free(&b);
		api_error(c, rc, e.msg);
		return;
	}
	buf_add(&b, "}", 1);
	api_buf_respond(c, 200, &b);
}
