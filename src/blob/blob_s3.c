/* The S3 blob store (AWS or any S3-compatible server), on libcurl alone: every request signed
 * with CURLOPT_AWS_SIGV4, path-style URLs (endpoint/bucket/key), http and https only, no
 * redirects, a connect timeout and a stall timeout so a dead S3 never hangs a request.
 * Bytes are staged in an unlinked spool file (bounded memory whatever the size) and uploaded
 * by stage_place — one PUT, or a multipart upload above a threshold — which keeps the spool so
 * the store may place again. Downloads stream through struct s3_stream. Credentials come from
 * AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY and appear in no message. */
#include "blob/blob_int.h"
#include "blob/s3_parse.h"
#include "blob/s3_sign.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "core/xalloc.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uuid/uuid.h>

#define URL_MAX 2048
#define ERROR_BODY_MAX 4096          /* of an error answer, kept for its <Code> */
#define LIST_BODY_MAX (8u << 20)     /* one ListObjectsV2 page (1000 keys) is ~300 KiB */
#define STREAM_BUFFER (128u * 1024)  /* per download: what S3 sent and the client has not taken */

struct s3_store {
	struct blob_store base;
	struct s3_config cfg;
	char sigv4[96];   /* "aws:amz:<region>:s3" */
	char *access_key; /* owned; never logged */
	char *secret_key; /* owned; never logged */
};

struct blob_stage {
	struct s3_store *store;
	int fd;           /* the spool: unlinked, so nothing is left behind by a crash */
	uint64_t size;
};

/* One request to S3 and what came back. */
struct call {
	const char *op;             /* "upload", "delete", ... for messages */
	const char *key;            /* or the bucket, for messages */
	char url[URL_MAX];
	int fd;                     /* request body from the spool: [off, off + len), or -1 */
	uint64_t off, len, pos;
	const char *body;           /* or from memory (POST), body_len bytes */
	size_t body_len;
	const char *header;         /* one more request header ("Content-Type: ..."), or NULL */
	long status;
	struct buf resp;            /* the answer's body, up to resp_max bytes */
	size_t resp_max;
	bool resp_cut;              /* it had more */
	char etag[128];
};

static struct s3_store *store_of(struct blob_store *b)
{
	return (struct s3_store *)b;
}

static void url_of(const struct s3_store *s, const char *key, const char *query, char *out)
{
	snprintf(out, URL_MAX, "%s/%s/%s%s%s", s->cfg.endpoint, s->cfg.bucket, key ? key : "",
		 query && *query ? "?" : "", query ? query : "");
}

static size_t on_resp_body(char *p, size_t size, size_t n, void *arg)
{
	struct call *c = arg;
	size_t len = size * n;
	size_t room = c->resp.len < c->resp_max ? c->resp_max - c->resp.len : 0;
	buf_add(&c->resp, p, len < room ? len : room);
	if (len > room)
		c->resp_cut = true;
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct call *c = arg;
	size_t len = size * n;
	s3_header_value(p, len, "etag", c->etag, sizeof(c->etag));
	return len;
}

static size_t on_spool_read(char *buf, size_t size, size_t n, void *arg)
{
	struct call *c = arg;
	size_t want = size * n;
	if (want > c->len - c->pos)
		want = (size_t)(c->len - c->pos);
	if (want == 0)
		return 0;
	ssize_t got;
	do
		got = pread(c->fd, buf, want, (off_t)(c->off + c->pos));
	while (got < 0 && errno == EINTR);
	if (got <= 0)
		return CURL_READFUNC_ABORT; /* the spool is shorter than it was: never send less */
	c->pos += (uint64_t)got;
	return (size_t)got;
}

/* Rewinds a request body (spool or memory: len bytes) when curl must send it again. */
static int on_body_seek(void *arg, curl_off_t offset, int origin)
{
	struct call *c = arg;
	if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > c->len)
		return CURL_SEEKFUNC_CANTSEEK;
	c->pos = (uint64_t)offset;
	return CURL_SEEKFUNC_OK;
}

static size_t on_mem_read(char *buf, size_t size, size_t n, void *arg)
{
	struct call *c = arg;
	size_t want = size * n, left = c->body_len - (size_t)c->pos;
	if (want > left)
		want = left;
	memcpy(buf, c->body + c->pos, want);
	c->pos += want;
	return want;
}

/* Each thread keeps one handle for its plain requests, so its connection to S3 (a TLS
 * handshake with a real S3) is reused: the existence check under the store's locks, the parts
 * of an upload. curl reconnects when a kept connection has died. */
static pthread_key_t easy_key;
static pthread_once_t easy_once = PTHREAD_ONCE_INIT;

static void easy_key_free(void *h)
{
	curl_easy_cleanup(h);
}

static void easy_key_make(void)
{
	pthread_key_create(&easy_key, easy_key_free);
}

static CURL *thread_easy(void)
{
	pthread_once(&easy_once, easy_key_make);
	CURL *h = pthread_getspecific(easy_key);
	if (h == NULL) {
		if ((h = curl_easy_init()) == NULL)
			xalloc_die();
		pthread_setspecific(easy_key, h);
	}
	return h;
}

/* What every request shares: signing (headers gets the payload-hash header it covers), the
 * pinned protocols, no redirects, no proxy from the environment, and the timeouts. */
static void easy_setup(CURL *h, const struct s3_store *s, const char *url, const char *header,
		       struct curl_slist **headers)
{
	*headers = NULL;
	s3_sign(h, s->sigv4, s->access_key, s->secret_key, headers);
	if (header != NULL)
		*headers = curl_slist_append(*headers, header);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)s->cfg.connect_timeout_s);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)s->cfg.stall_timeout_s);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, *headers);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "depot/1.0");
}

/* Failures of the transfer itself: S3 could not be reached or went silent. curl's message
 * names the address, so only its generic text is used. */
static enum err_code transfer_error(const struct call *c, CURLcode rc, struct err *e)
{
	if (rc == CURLE_ABORTED_BY_CALLBACK || rc == CURLE_READ_ERROR)
		return err_set(e, ERR_INTERNAL, "S3 %s of %s: the spool file could not be read",
			       c->op, c->key);
	return err_set(e, ERR_UNAVAILABLE, "S3 %s of %s failed: %s", c->op, c->key,
		       curl_easy_strerror(rc));
}

/* An answer other than 2xx, converted once: 403 is access denied, 503 and timeouts mean
 * "try again", anything else is a failed upstream. */
static enum err_code status_error(const struct call *c, struct err *e)
{
	char code[64] = "";
	if (c->resp.data != NULL)
		s3_xml_text(c->resp.data, c->resp.len, "Code", code, sizeof(code));
	if (c->status == 403)
		return err_set(e, ERR_UPSTREAM, "S3 %s of %s: access denied (403 %s)", c->op,
			       c->key, code);
	if (c->status == 503 || c->status == 500)
		return err_set(e, ERR_UNAVAILABLE, "S3 %s of %s: S3 is unavailable (%ld %s)", c->op,
			       c->key, c->status, code);
	return err_set(e, ERR_UPSTREAM, "S3 %s of %s: S3 answered %ld %s", c->op, c->key,
		       c->status, code);
}

/* Runs c with method ("GET", "HEAD", "PUT", "POST", "DELETE"); fills status, resp, etag.
 * ERR_OK means S3 answered, whatever the status. */
static enum err_code perform(struct s3_store *s, struct call *c, const char *method,
			     struct err *e)
{
	struct curl_slist *headers;
	CURL *h = thread_easy();
	easy_setup(h, s, c->url, c->header, &headers);
	buf_init(&c->resp, 256);
	if (c->resp_max == 0)
		c->resp_max = ERROR_BODY_MAX;
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_resp_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "PUT") == 0 && c->fd >= 0) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_spool_read);
		curl_easy_setopt(h, CURLOPT_READDATA, c);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_body_seek);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, c);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)c->len);
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_mem_read);
		curl_easy_setopt(h, CURLOPT_READDATA, c);
		c->len = c->body_len;
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_body_seek);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, c);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body_len);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	}
	CURLcode rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
	curl_easy_reset(h); /* keeps the connection; drops every pointer into c and headers */
	curl_slist_free_all(headers);
	return rc == CURLE_OK ? ERR_OK : transfer_error(c, rc, e);
}

static void call_done(struct call *c)
{
	buf_free(&c->resp);
}

/* ------------------------------------------------------------------ the store */

static enum err_code s3_open(const char *rest, struct blob_store **out, struct err *e)
{
	struct s3_config cfg;
	enum err_code rc = s3_config_parse(rest, &cfg, e);
	if (rc != ERR_OK)
		return rc;
	const char *ak = getenv("AWS_ACCESS_KEY_ID"), *sk = getenv("AWS_SECRET_ACCESS_KEY");
	if (ak == NULL || !*ak || sk == NULL || !*sk)
		return err_set(e, ERR_INVALID, "s3 blob store: set AWS_ACCESS_KEY_ID and "
					       "AWS_SECRET_ACCESS_KEY in the environment");
	if (*cfg.spool_dir && mkdir(cfg.spool_dir, 0700) != 0 && errno != EEXIST)
		return err_set(e, ERR_INVALID, "s3 blob store: cannot make spool folder: %s",
			       strerror(errno));
	if (!*cfg.spool_dir) {
		const char *tmp = getenv("TMPDIR");
		snprintf(cfg.spool_dir, sizeof(cfg.spool_dir), "%s", tmp && *tmp ? tmp : "/tmp");
	}
	struct s3_store *s = xcalloc(1, sizeof(*s));
	s->cfg = cfg;
	s->base.ops = &blob_s3_ops;
	s->base.bucket = s->cfg.bucket;
	s3_sign_provider(cfg.region, s->sigv4, sizeof(s->sigv4));
	s->access_key = xstrdup(ak);
	s->secret_key = xstrdup(sk);
	*out = &s->base;
	return ERR_OK;
}

static void s3_close(struct blob_store *base)
{
	struct s3_store *s = store_of(base);
	pthread_once(&easy_once, easy_key_make);
	CURL *h = pthread_getspecific(easy_key); /* the closing thread's; workers free theirs */
	if (h != NULL) {
		pthread_setspecific(easy_key, NULL);
		curl_easy_cleanup(h);
	}
	free(s->access_key);
	free(s->secret_key);
	free(s);
}

/* An unlinked file in the spool folder: O_TMPFILE, or where the file system lacks it a named
 * file removed at once. Either way a crash leaves nothing to clean. */
static int spool_open(const char *dir)
{
	int fd = open(dir, O_RDWR | O_TMPFILE | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd;
	char path[sizeof(((struct s3_config *)0)->spool_dir) + 48], name[37];
	uuid_t u;
	uuid_generate_random(u);
	uuid_unparse_lower(u, name);
	snprintf(path, sizeof(path), "%s/spool-%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0)
		unlink(path);
	return fd;
}

static enum err_code spool_error(int errnum, const char *what, struct err *e)
{
	if (errnum == ENOSPC || errnum == EDQUOT)
		return err_set(e, ERR_NO_SPACE, "s3 blob store: no space left for the spool");
	return err_set(e, ERR_INTERNAL, "s3 blob store: spool %s: %s", what, strerror(errnum));
}

static enum err_code s3_stage_new(struct blob_store *base, struct blob_stage **out,
				  struct err *e)
{
	struct s3_store *s = store_of(base);
	int fd = spool_open(s->cfg.spool_dir);
	if (fd < 0)
		return spool_error(errno, "create", e);
	struct blob_stage *st = xcalloc(1, sizeof(*st));
	st->store = s;
	st->fd = fd;
	*out = st;
	return ERR_OK;
}

static enum err_code s3_stage_write(struct blob_stage *st, const void *buf, size_t len,
				    struct err *e)
{
	int errnum = blob_fd_write_all(st->fd, buf, len);
	if (errnum != 0)
		return spool_error(errnum, "write", e);
	st->size += len;
	return ERR_OK;
}

/* The spool needs no durability: the bytes are safe once S3 has answered the upload, and that
 * happens before any row refers to them. */
static enum err_code s3_stage_sync(struct blob_stage *st, struct err *e)
{
	(void)st;
	(void)e;
	return ERR_OK;
}

static enum err_code put_single(struct blob_stage *st, const char *key, struct err *e)
{
	struct call c = {.op = "upload", .key = key, .fd = st->fd, .len = st->size};
	url_of(st->store, key, NULL, c.url);
	enum err_code rc = perform(st->store, &c, "PUT", e);
	if (rc == ERR_OK && (c.status < 200 || c.status > 299))
		rc = status_error(&c, e);
	call_done(&c);
	return rc;
}

/* POST ?uploads: the upload id, URL-escaped for the requests that follow. */
static enum err_code mpu_create(struct s3_store *s, const char *key, char *id, size_t cap,
				struct err *e)
{
	struct call c = {.op = "multipart upload start", .key = key, .fd = -1, .body = "",
			 .header = "Content-Type: application/octet-stream"};
	url_of(s, key, "uploads", c.url);
	enum err_code rc = perform(s, &c, "POST", e);
	char raw[512];
	if (rc == ERR_OK && c.status != 200)
		rc = status_error(&c, e);
	else if (rc == ERR_OK && !s3_xml_text(c.resp.data, c.resp.len, "UploadId", raw, sizeof(raw)))
		rc = err_set(e, ERR_UPSTREAM, "S3 multipart upload start of %s: no UploadId", key);
	call_done(&c);
	if (rc != ERR_OK)
		return rc;
	char *esc = curl_easy_escape(NULL, raw, 0);
	if (esc == NULL || strlen(esc) >= cap) {
		curl_free(esc);
		return err_set(e, ERR_UPSTREAM, "S3 multipart upload of %s: upload id too long", key);
	}
	memcpy(id, esc, strlen(esc) + 1);
	curl_free(esc);
	return ERR_OK;
}

static enum err_code mpu_part(struct blob_stage *st, const char *key, const char *id, int n,
			      uint64_t off, uint64_t len, struct buf *xml, struct err *e)
{
	struct call c = {.op = "part upload", .key = key, .fd = st->fd, .off = off, .len = len};
	char q[700];
	snprintf(q, sizeof(q), "partNumber=%d&uploadId=%s", n, id);
	url_of(st->store, key, q, c.url);
	enum err_code rc = perform(st->store, &c, "PUT", e);
	if (rc == ERR_OK && c.status != 200)
		rc = status_error(&c, e);
	else if (rc == ERR_OK && (!c.etag[0] || strpbrk(c.etag, "<>&") != NULL))
		rc = err_set(e, ERR_UPSTREAM, "S3 part upload of %s: no usable ETag", key);
	if (rc == ERR_OK)
		buf_printf(xml, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", n,
			   c.etag);
	call_done(&c);
	return rc;
}

/* POST ?uploadId=: S3 may answer 200 and still fail, with an <Error> in the body. */
static enum err_code mpu_complete(struct s3_store *s, const char *key, const char *id,
				  const struct buf *xml, struct err *e)
{
	struct call c = {.op = "multipart upload completion", .key = key, .fd = -1,
			 .body = xml->data, .body_len = xml->len,
			 .header = "Content-Type: application/xml"};
	char q[640];
	snprintf(q, sizeof(q), "uploadId=%s", id);
	url_of(s, key, q, c.url);
	enum err_code rc = perform(s, &c, "POST", e);
	if (rc == ERR_OK && (c.status != 200 ||
			     memmem(c.resp.data, c.resp.len, "<Error>", 7) != NULL)) {
		if (c.status == 200)
			c.status = 500;
		rc = status_error(&c, e);
	}
	call_done(&c);
	return rc;
}

/* DELETE ?uploadId=, so S3 drops the parts. Best effort: some servers lack it, and S3's own
 * lifecycle rules can expire what is left. */
static void mpu_abort(struct s3_store *s, const char *key, const char *id)
{
	struct call c = {.op = "multipart upload abort", .key = key, .fd = -1};
	char q[640];
	struct err e;
	snprintf(q, sizeof(q), "uploadId=%s", id);
	url_of(s, key, q, c.url);
	if (perform(s, &c, "DELETE", &e) != ERR_OK)
		log_warn("s3: %s", e.msg);
	else if (c.status != 204 && c.status != 200 && c.status != 404)
		log_warn("s3: multipart upload abort of %s answered %ld", key, c.status);
	call_done(&c);
}

/* Parts of part_size bytes (more when the content needs over 10000 of them), each read from
 * the spool at its offset. */
static enum err_code put_multipart(struct blob_stage *st, const char *key, struct err *e)
{
	struct s3_store *s = st->store;
	uint64_t part = s->cfg.part_size_bytes;
	if (st->size / part >= S3_MAX_PARTS)
		part = st->size / (S3_MAX_PARTS - 1);
	char id[600];
	enum err_code rc = mpu_create(s, key, id, sizeof(id), e);
	if (rc != ERR_OK)
		return rc;
	struct buf xml;
	buf_init(&xml, 4096);
	buf_adds(&xml, "<CompleteMultipartUpload>");
	int n = 1;
	for (uint64_t off = 0; rc == ERR_OK && off < st->size; off += part, n++)
		rc = mpu_part(st, key, id, n, off, st->size - off < part ? st->size - off : part,
			      &xml, e);
	buf_adds(&xml, "</CompleteMultipartUpload>");
	if (rc == ERR_OK)
		rc = mpu_complete(s, key, id, &xml, e);
	if (rc != ERR_OK)
		mpu_abort(s, key, id);
	else
		log_info("s3: uploaded %s in %d parts", key, n - 1);
	buf_free(&xml);
	return rc;
}

/* Uploads the spool to key and keeps it, so it may run again (place_repeatable). */
static enum err_code s3_stage_place(struct blob_stage *st, const char *key, struct err *e)
{
	if (st->size > st->store->cfg.multipart_threshold_bytes)
		return put_multipart(st, key, e);
	return put_single(st, key, e);
}

/* An object S3 has answered 200 for is durable. */
static enum err_code s3_sync_placed(struct blob_store *s, const char *const *keys, size_t n,
				    struct err *e)
{
	(void)s;
	(void)keys;
	(void)n;
	(void)e;
	return ERR_OK;
}

static void s3_stage_free(struct blob_stage *st)
{
	if (st == NULL)
		return;
	close(st->fd);
	free(st);
}

static enum err_code s3_remove(struct blob_store *base, const char *key, struct err *e)
{
	struct call c = {.op = "delete", .key = key, .fd = -1};
	url_of(store_of(base), key, NULL, c.url);
	enum err_code rc = perform(store_of(base), &c, "DELETE", e);
	if (rc == ERR_OK && c.status != 204 && c.status != 200 && c.status != 404)
		rc = status_error(&c, e);
	call_done(&c);
	return rc;
}

static enum err_code s3_exists(struct blob_store *base, const char *key, bool *exists,
			       struct err *e)
{
	struct call c = {.op = "existence check", .key = key, .fd = -1};
	url_of(store_of(base), key, NULL, c.url);
	enum err_code rc = perform(store_of(base), &c, "HEAD", e);
	if (rc == ERR_OK && c.status != 200 && c.status != 404)
		rc = status_error(&c, e);
	*exists = c.status == 200;
	call_done(&c);
	return rc;
}

/* ------------------------------------------------------------------ start-up sweep */

struct sweep {
	struct s3_store *s;
	bool (*drop)(void *, const char *);
	void *ctx;
	int64_t before_us; /* only objects last modified before this may go */
	uint64_t removed;
	enum err_code rc;
	struct err *e;
};

/* Several depotd may share a bucket: an object younger than the grace period may be another
 * process's create whose row is not committed yet, so it stays. Older ones are offered to
 * drop(), which removes them under the store's locks when no row refers to them. */
static void sweep_one(void *arg, const char *key, int64_t modified_us)
{
	struct sweep *sw = arg;
	if (sw->rc != ERR_OK || !blob_key_valid(key) || modified_us >= sw->before_us)
		return;
	if (sw->drop(sw->ctx, key))
		sw->removed++;
}

static enum err_code list_page(struct sweep *sw, char *token, size_t token_cap, bool *more,
			       struct err *e)
{
	char q[1200];
	int n = snprintf(q, sizeof(q), "list-type=2&prefix=blobs%%2F");
	if (*token) {
		char *esc = curl_easy_escape(NULL, token, 0);
		if (esc == NULL || strlen(esc) + (size_t)n + 24 >= sizeof(q)) {
			curl_free(esc);
			return err_set(e, ERR_UPSTREAM, "S3 listing: continuation token too long");
		}
		snprintf(q + n, sizeof(q) - (size_t)n, "&continuation-token=%s", esc);
		curl_free(esc);
	}
	struct call c = {.op = "listing", .key = sw->s->cfg.bucket, .fd = -1,
			 .resp_max = LIST_BODY_MAX};
	url_of(sw->s, NULL, q, c.url);
	enum err_code rc = perform(sw->s, &c, "GET", e);
	if (rc == ERR_OK && c.status != 200)
		rc = status_error(&c, e);
	else if (rc == ERR_OK && (c.resp_cut || !s3_list_parse(c.resp.data, c.resp.len, sweep_one,
								 sw, more, token, token_cap)))
		rc = err_set(e, ERR_UPSTREAM, "S3 listing of %s: unreadable answer", c.key);
	call_done(&c);
	return rc != ERR_OK ? rc : sw->rc;
}

/* Spool files are unlinked from birth, so only objects can be left over. */
static enum err_code s3_sweep(struct blob_store *base, bool (*drop)(void *, const char *),
			      void *ctx, uint64_t *staged_removed, uint64_t *blobs_removed,
			      struct err *e)
{
	struct s3_store *s = store_of(base);
	struct sweep sw = {.s = s, .drop = drop, .ctx = ctx, .e = e,
			   .before_us = time_now_us() - s->cfg.sweep_grace_s * 1000000};
	char token[1024] = "";
	bool more = true;
	enum err_code rc = ERR_OK;
	while (rc == ERR_OK && more)
		rc = list_page(&sw, token, sizeof(token), &more, e);
	*staged_removed = 0;
	*blobs_removed = sw.removed;
	return rc;
}

/* ------------------------------------------------------------------ streamed downloads */

/* A download pulled by its reader. The reader (libmicrohttpd's content callback, on the worker
 * thread that owns the connection) drives curl's multi interface itself: curl's write callback
 * fills a bounded buffer and pauses the transfer when it is full; a read takes bytes out,
 * resumes the transfer, and only when the buffer is empty waits on the socket (curl_multi_poll)
 * for more. One thread, one transfer, no queue between threads: memory stays at STREAM_BUFFER
 * per download and nothing can deadlock. A stalled S3 ends the transfer after the stall
 * timeout; a slow client just keeps the transfer paused (a paused transfer is not timed). */
struct s3_stream {
	struct blob_stream base;
	CURLM *multi;
	CURL *easy;
	struct curl_slist *headers;
	struct call c;              /* op, key, status, error body */
	char *buf;                  /* STREAM_BUFFER: bytes [rd, wr) not yet read */
	size_t rd, wr;
	bool paused, headers_done, done;
	CURLcode result;
	uint64_t skip;              /* bytes to drop first (a server that ignored Range) */
	uint64_t left;              /* bytes still owed to the reader */
	uint64_t length;            /* Content-Length of the answer */
	uint64_t total;             /* the object's size: from Content-Range, or the length */
	bool have_length, have_total;
};

static size_t on_stream_header(char *p, size_t size, size_t n, void *arg)
{
	struct s3_stream *st = arg;
	size_t len = size * n;
	unsigned long long a, b, t;
	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0)
		st->headers_done = false; /* a new answer (after a 100 Continue) */
	else if (len <= 2 && (p[0] == '\r' || p[0] == '\n'))
		st->headers_done = true;
	else if (len > 15 && strncasecmp(p, "content-length:", 15) == 0 &&
		 sscanf(p + 15, " %llu", &a) == 1) {
		st->length = a;
		st->have_length = true;
	} else if (len > 14 && strncasecmp(p, "content-range:", 14) == 0 &&
		   sscanf(p + 14, " bytes %llu-%llu/%llu", &a, &b, &t) == 3) {
		st->total = t;
		st->have_total = true;
	}
	return len;
}

static size_t on_stream_body(char *p, size_t size, size_t n, void *arg)
{
	struct s3_stream *st = arg;
	size_t len = size * n;
	if (st->c.status == 0)
		curl_easy_getinfo(st->easy, CURLINFO_RESPONSE_CODE, &st->c.status);
	if (st->c.status < 200 || st->c.status > 299)
		return on_resp_body(p, size, n, &st->c);
	if (st->c.status == 206)
		st->skip = 0; /* S3 honoured the Range */
	size_t drop = st->skip < len ? (size_t)st->skip : len, keep = len - drop;
	if (keep > STREAM_BUFFER - st->wr && st->rd > 0) {
		memmove(st->buf, st->buf + st->rd, st->wr - st->rd);
		st->wr -= st->rd;
		st->rd = 0;
	}
	if (keep > STREAM_BUFFER - st->wr) {
		if (st->wr == 0) /* curl hands over at most CURL_MAX_WRITE_SIZE; never here */
			return 0;
		/* Nothing of this chunk is taken: curl hands all of it over again on resume. */
		st->paused = true;
		return CURL_WRITEFUNC_PAUSE;
	}
	st->skip -= drop;
	memcpy(st->buf + st->wr, p + drop, keep);
	st->wr += keep;
	return len;
}

/* Lets curl work until until() holds or the transfer ends, waiting on its sockets in between. */
static void drive(struct s3_stream *st, bool (*until)(const struct s3_stream *))
{
	while (!st->done && !until(st)) {
		int running = 0;
		CURLMcode mc = curl_multi_perform(st->multi, &running);
		CURLMsg *m;
		int queued;
		while ((m = curl_multi_info_read(st->multi, &queued)) != NULL)
			if (m->msg == CURLMSG_DONE) {
				st->done = true;
				st->result = m->data.result;
			}
		if (mc != CURLM_OK) {
			st->done = true;
			st->result = CURLE_RECV_ERROR;
		}
		if (st->done || until(st))
			break;
		curl_multi_poll(st->multi, NULL, 0, 1000, NULL);
	}
}

static bool headers_in(const struct s3_stream *st)
{
	return st->headers_done;
}

static bool bytes_in(const struct s3_stream *st)
{
	return st->wr > st->rd;
}

static bool never(const struct s3_stream *st)
{
	(void)st;
	return false;
}

static void stream_free(struct s3_stream *st)
{
	curl_multi_remove_handle(st->multi, st->easy);
	curl_easy_cleanup(st->easy);
	curl_multi_cleanup(st->multi);
	curl_slist_free_all(st->headers);
	call_done(&st->c);
	free(st->buf);
	free(st);
}

static void s3_stream_close(struct blob_stream *bs)
{
	stream_free((struct s3_stream *)bs);
}

static ssize_t s3_stream_read(struct blob_stream *bs, char *out, size_t cap)
{
	struct s3_stream *st = (struct s3_stream *)bs;
	if (st->left == 0)
		return 0;
	if (!bytes_in(st)) {
		if (st->paused) {
			st->paused = false;
			curl_easy_pause(st->easy, CURLPAUSE_CONT);
		}
		drive(st, bytes_in);
	}
	if (!bytes_in(st)) {
		struct err e;
		if (st->result != CURLE_OK)
			transfer_error(&st->c, st->result, &e);
		else
			err_set(&e, ERR_UPSTREAM, "S3 download of %s ended %llu bytes early",
				st->c.key, (unsigned long long)st->left);
		log_warn("s3: %s", e.msg);
		return -1;
	}
	size_t n = st->wr - st->rd;
	if (n > cap)
		n = cap;
	if (n > st->left)
		n = (size_t)st->left;
	memcpy(out, st->buf + st->rd, n);
	st->rd += n;
	st->left -= n;
	/* Resume early, so the next read finds bytes waiting. Resuming may call on_stream_body. */
	if (st->paused && st->wr - st->rd < STREAM_BUFFER / 2) {
		st->paused = false;
		curl_easy_pause(st->easy, CURLPAUSE_CONT);
	}
	return (ssize_t)n;
}

/* The answer's status, once its headers are in: the object's size, or the error. */
static enum err_code stream_check(struct s3_stream *st, struct err *e)
{
	if (!st->headers_done)
		return transfer_error(&st->c, st->result != CURLE_OK ? st->result
								     : CURLE_GOT_NOTHING, e);
	curl_easy_getinfo(st->easy, CURLINFO_RESPONSE_CODE, &st->c.status);
	if (st->c.status == 404)
		return err_set(e, ERR_NOT_FOUND, "blob is missing");
	if (st->c.status != 200 && st->c.status != 206) {
		drive(st, never); /* to the end of the (short, capped) error body */
		return status_error(&st->c, e);
	}
	if (!st->have_length)
		return err_set(e, ERR_UPSTREAM, "S3 download of %s: no Content-Length", st->c.key);
	if (st->c.status == 200) {
		st->total = st->length;
		st->have_total = true;
	}
	if (!st->have_total)
		return err_set(e, ERR_UPSTREAM, "S3 download of %s: no Content-Range", st->c.key);
	return ERR_OK;
}

static enum err_code s3_read_open(struct blob_store *base, const char *key, uint64_t offset,
				  uint64_t len, struct blob_read *out, struct err *e)
{
	struct s3_store *s = store_of(base);
	struct s3_stream *st = xcalloc(1, sizeof(*st));
	char range[80];
	bool ranged = offset > 0 || len > 0;
	int n = snprintf(range, sizeof(range), "Range: bytes=%llu-", (unsigned long long)offset);
	if (len > 0)
		snprintf(range + n, sizeof(range) - (size_t)n, "%llu",
			 (unsigned long long)(offset + len - 1));
	st->base.read = s3_stream_read;
	st->base.close = s3_stream_close;
	st->c = (struct call){.op = "download", .key = key, .fd = -1, .resp_max = ERROR_BODY_MAX};
	buf_init(&st->c.resp, 256);
	st->buf = xmalloc(STREAM_BUFFER);
	st->skip = offset; /* until an answer shows S3 honoured the Range */
	url_of(s, key, NULL, st->c.url);
	if ((st->easy = curl_easy_init()) == NULL)
		xalloc_die();
	easy_setup(st->easy, s, st->c.url, ranged ? range : NULL, &st->headers);
	curl_easy_setopt(st->easy, CURLOPT_WRITEFUNCTION, on_stream_body);
	curl_easy_setopt(st->easy, CURLOPT_WRITEDATA, st);
	curl_easy_setopt(st->easy, CURLOPT_HEADERFUNCTION, on_stream_header);
	curl_easy_setopt(st->easy, CURLOPT_HEADERDATA, st);
	st->multi = curl_multi_init();
	if (st->multi == NULL)
		xalloc_die();
	curl_multi_add_handle(st->multi, st->easy);
	drive(st, headers_in);
	enum err_code rc = stream_check(st, e);
	if (rc != ERR_OK) {
		stream_free(st);
		return rc;
	}
	uint64_t avail = st->total > offset ? st->total - offset : 0;
	st->left = len > 0 && len < avail ? len : avail;
	out->stream = &st->base;
	out->size = st->total;
	return ERR_OK;
}

const struct blob_ops blob_s3_ops = {
	.scheme = "s3",
	.place_repeatable = true,
	.open = s3_open,
	.close = s3_close,
	.stage_new = s3_stage_new,
	.stage_write = s3_stage_write,
	.stage_sync = s3_stage_sync,
	.stage_place = s3_stage_place,
	.sync_placed = s3_sync_placed,
	.stage_free = s3_stage_free,
	.read_open = s3_read_open,
	.remove = s3_remove,
	.exists = s3_exists,
	.sweep = s3_sweep,
};
