/* The only file that knows libmicrohttpd: it reads requests (headers, query, a size-capped body),
 * hands them to one handler, turns its struct http_resp into an MHD response, and writes the
 * access log line when a request completes. It also refuses ambiguous framing before a body is
 * read, and cuts off requests that arrive too slowly (a watchdog thread). */
#include "http/http.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

struct watch;

struct http_server {
	struct MHD_Daemon *daemon;
	http_handler_fn handler;
	void *app;
	uint64_t max_body_bytes;
	int port;
	atomic_int active; /* requests between their first byte and their completion */
	/* the request deadlines (see "slow clients" below) */
	int64_t request_timeout_ms; /* 0: no watchdog */
	uint64_t min_body_rate;     /* bytes/s */
	pthread_mutex_t watch_lock;
	pthread_cond_t watch_cond;
	struct watch *watches;      /* every open connection, under watch_lock */
	bool watch_stop;
	bool watchdog_running;
	pthread_t watchdog;
	/* writes run on threads of their own: see "blocking work" below */
	pthread_mutex_t jobs_lock;
	pthread_cond_t jobs_wake;
	struct request *jobs_head, *jobs_tail;
	bool jobs_stop;
	int nworkers;
	pthread_t *workers;
	/* the listening socket is ours: see "accepting" below */
	int listen_fd;
	unsigned max_connections;
	atomic_uint open_conns;  /* connections libmicrohttpd announced and has not closed */
	atomic_uint handed;      /* handed over, not yet announced */
	atomic_bool accept_stop;
	bool acceptor_running;
	pthread_t acceptor;
};

/* Per-request state, from the first call of the access handler to the completion callback. */
struct request {
	struct http_req req;
	struct pool pool;
	struct http_server *srv;
	struct timespec started;
	char *body;           /* malloc'd; grows up to max_body_bytes */
	size_t body_len, body_cap;
	bool responded;       /* a response is queued (maybe early, like a 413) */
	bool answered_raw;    /* an answer was written to the socket mid-body (see answer_now) */
	bool held;            /* an answer decided at the headers, queued at the final call */
	struct http_resp answer; /* that answer */
	uint64_t discarded;   /* body bytes read after that */
	int status;
	uint64_t bytes_out;
	struct watch *watch;  /* its connection's deadline, or NULL */
	bool deferred;        /* a body-less write: its handler runs whole on a blocking thread */
	/* Set by a blocking thread before it resumes the connection; libmicrohttpd's resume
	 * (a mutex) orders it before the loop's next call. */
	bool job_done;        /* its handler ran on a blocking thread: job_resp is the answer */
	struct http_resp job_resp;
	struct request *job_next;
};

/* ---- slow clients ----
 * libmicrohttpd's connection timeout counts idle time only, so a client that sends one byte a
 * second keeps a connection (and its memory) forever. Every connection is watched from
 * libmicrohttpd's STARTED notification to CLOSED, which comes before the socket is closed: a
 * request's line and headers must arrive within request_timeout of the connection's start or of
 * its previous response, and its body must then average min_body_rate beyond that head start.
 * The watchdog thread answers a late request 408, shuts its socket down, and libmicrohttpd then
 * closes the connection in its own thread. A phase moves by compare-and-swap, so the watchdog
 * and a response never both answer one request. */
enum watch_phase {
	WATCH_HEADERS,  /* waiting for a request's line and headers */
	WATCH_BODY,     /* headers in, the body arriving */
	WATCH_ANSWER,   /* the request is in (handled, answered): no deadline of ours */
	WATCH_DRAIN,    /* answered mid-body (answer_now): the rest is read and dropped */
	WATCH_EXPIRED,  /* the watchdog cut it off */
};

struct watch {
	struct watch *prev, *next;  /* srv->watches, under srv->watch_lock */
	int fd;
	atomic_int phase;           /* enum watch_phase */
	_Atomic int64_t since_ms;   /* when the phase began (monotonic) */
	_Atomic uint64_t body_bytes;
	atomic_bool request_line;   /* a request line arrived since the last response */
	atomic_bool served;         /* the connection has answered a request */
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct watch *watch_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

/* Moves r's connection from phase `from` to `to`; false when the watchdog was first. */
static bool watch_move(struct request *r, int from, int to)
{
	if (r->watch == NULL)
		return true;
	int expect = from;
	if (!atomic_compare_exchange_strong(&r->watch->phase, &expect, to))
		return expect == to;
	atomic_store(&r->watch->since_ms, now_ms());
	return true;
}

static bool watch_expired(const struct request *r)
{
	return r->watch != NULL && atomic_load(&r->watch->phase) == WATCH_EXPIRED;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *srv = cls;
	struct watch *w = *socket_context;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		atomic_fetch_add(&srv->open_conns, 1);
		atomic_fetch_sub(&srv->handed, 1);
	} else {
		atomic_fetch_sub(&srv->open_conns, 1);
	}
	pthread_mutex_lock(&srv->watch_lock);
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		w = xcalloc(1, sizeof(*w));
		w->fd = ci != NULL ? ci->connect_fd : -1;
		atomic_init(&w->phase, WATCH_HEADERS);
		atomic_init(&w->since_ms, now_ms());
		w->next = srv->watches;
		if (srv->watches != NULL)
			srv->watches->prev = w;
		srv->watches = w;
		*socket_context = w;
	} else if (w != NULL) {
		if (w->prev != NULL)
			w->prev->next = w->next;
		else
			srv->watches = w->next;
		if (w->next != NULL)
			w->next->prev = w->prev;
		free(w);
		*socket_context = NULL;
	}
	pthread_mutex_unlock(&srv->watch_lock);
}

/* libmicrohttpd calls this when a request line is complete; what it returns becomes the
 * request's first *con_cls, so NULL. */
static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *conn)
{
	(void)cls;
	(void)uri;
	struct watch *w = watch_of(conn);
	if (w != NULL)
		atomic_store(&w->request_line, true);
	return NULL;
}

static const char timeout_answer[] =
	"HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\n"
	"Content-Length: 50\r\nConnection: close\r\n\r\n"
	"{\"error\": \"the request did not arrive in time\"}\n";

/* Cuts w off when its phase is past its deadline. Under srv->watch_lock, so w->fd is open. */
static void expire(struct http_server *srv, struct watch *w, int64_t now)
{
	int phase = atomic_load(&w->phase);
	int64_t limit = srv->request_timeout_ms;
	if (phase == WATCH_BODY || phase == WATCH_DRAIN) {
		if (srv->min_body_rate == 0)
			return;
		limit += (int64_t)(atomic_load(&w->body_bytes) * 1000 / srv->min_body_rate);
	} else if (phase != WATCH_HEADERS) {
		return;
	}
	if (now - atomic_load(&w->since_ms) <= limit ||
	    !atomic_compare_exchange_strong(&w->phase, &phase, WATCH_EXPIRED))
		return;
	/* A connection idle since its last response is closed quietly, as an idle timeout would. */
	bool started = phase == WATCH_BODY || atomic_load(&w->request_line) ||
		       (phase == WATCH_HEADERS && !atomic_load(&w->served));
	if (started && phase != WATCH_DRAIN) {
		ssize_t n = send(w->fd, timeout_answer, sizeof(timeout_answer) - 1,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)n;
	}
	shutdown(w->fd, SHUT_RDWR);
	if (phase == WATCH_HEADERS && started)
		log_info("- - 408 0 %lldms account=- (request headers not in after %llds)",
			 (long long)(now - atomic_load(&w->since_ms)),
			 (long long)(srv->request_timeout_ms / 1000));
}

static void *watchdog(void *arg)
{
	struct http_server *srv = arg;
	pthread_mutex_lock(&srv->watch_lock);
	while (!srv->watch_stop) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 200 * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&srv->watch_cond, &srv->watch_lock, &until);
		int64_t now = now_ms();
		for (struct watch *w = srv->watches; w != NULL; w = w->next)
			expire(srv, w, now);
	}
	pthread_mutex_unlock(&srv->watch_lock);
	return NULL;
}

/* ---- framing ----
 * What RFC 9112 says a server must refuse before it reads a body: both Content-Length and
 * Transfer-Encoding (6.1), a transfer coding other than a final chunked (6.1: 501 for a coding
 * depot does not know, else 400), Content-Length values that disagree (6.3), whitespace before
 * a header's colon (5.1), a missing or repeated Host (3.2). libmicrohttpd 0.9.75 takes the first
 * Content-Length, lets Transfer-Encoding win but keeps the connection open, ignores a space
 * before the colon, and reads a body of another coding until the connection ends: each a way to
 * frame a request differently from a proxy in front, and so to smuggle one past it. The answer
 * closes the connection. */
struct framing {
	int content_lengths, transfer_encodings, hosts;
	const char *content_length;
	bool lengths_differ, space_in_name;
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	struct framing *f = cls;
	(void)kind;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		if (f->content_lengths++ == 0)
			f->content_length = value;
		else if (strcmp(f->content_length, value) != 0)
			f->lengths_differ = true;
	}
	f->transfer_encodings += strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0;
	f->hosts += strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0;
	f->space_in_name = f->space_in_name || strpbrk(key, " \t") != NULL;
	return MHD_YES;
}

/* True when a Transfer-Encoding list names chunked once, last (RFC 9112 6.1). */
static bool chunked_once_last(const char *te)
{
	bool last = false;
	int chunked = 0;
	for (const char *p = te + strspn(te, " \t,"); *p; p += strspn(p, " \t,")) {
		size_t n = strcspn(p, ","), m = n;
		while (m > 0 && (p[m - 1] == ' ' || p[m - 1] == '\t'))
			m--;
		last = m == 7 && strncasecmp(p, "chunked", 7) == 0;
		chunked += last;
		p += n;
	}
	return last && chunked == 1;
}

/* The JSON answer to a request framed ambiguously, or NULL. */
static const char *framing_error(struct MHD_Connection *conn, const char *version, int *status)
{
	struct framing f = {0};
	MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, &f);
	const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_TRANSFER_ENCODING);
	*status = 400;
	if (f.space_in_name)
		return "{\"error\": \"a header name holds whitespace\"}";
	if (f.hosts > 1 || (f.hosts == 0 && strcmp(version, MHD_HTTP_VERSION_1_1) == 0))
		return "{\"error\": \"an HTTP/1.1 request needs exactly one Host header\"}";
	if (f.lengths_differ)
		return "{\"error\": \"Content-Length headers disagree\"}";
	if (te == NULL)
		return NULL;
	if (f.content_lengths > 0)
		return "{\"error\": \"a request cannot have both Content-Length and "
		       "Transfer-Encoding\"}";
	if (strcmp(version, MHD_HTTP_VERSION_1_1) != 0)
		return "{\"error\": \"Transfer-Encoding needs HTTP/1.1\"}";
	if (f.transfer_encodings > 1 || !chunked_once_last(te))
		return "{\"error\": \"Transfer-Encoding must end with chunked, given once\"}";
	if (strcasecmp(te, "chunked") != 0) {
		*status = 501;
		return "{\"error\": \"only the chunked transfer coding is supported\"}";
	}
	return NULL;
}

const char *http_req_header(const struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->impl, MHD_HEADER_KIND, name);
}

const char *http_req_query(const struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->impl, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
			       const char *value)
{
	struct buf *b = cls;
	(void)kind;
	buf_printf(b, "%zu:%s", strlen(key), key);
	if (value != NULL)
		buf_printf(b, "%zu:%s", strlen(value), value);
	else
		buf_adds(b, "-:");
	return MHD_YES;
}

const char *http_req_query_key(const struct http_req *req, struct pool *pool)
{
	struct buf b;
	buf_init(&b, 256);
	MHD_get_connection_values(req->impl, MHD_GET_ARGUMENT_KIND, add_arg, &b);
	const char *key = pool_strdup(pool, b.data);
	buf_free(&b);
	return key;
}

void http_resp_header(struct http_resp *resp, const char *name, const char *value)
{
	if (resp->nheaders < HTTP_MAX_HEADERS) {
		resp->headers[resp->nheaders].name = name;
		resp->headers[resp->nheaders].value = value;
		resp->nheaders++;
	}
}

static enum http_method method_of(const char *m)
{
	static const struct {
		const char *name;
		enum http_method method;
	} methods[] = {
		{"GET", HTTP_GET},     {"HEAD", HTTP_HEAD},     {"POST", HTTP_POST},
		{"PUT", HTTP_PUT},     {"PATCH", HTTP_PATCH},   {"DELETE", HTTP_DELETE},
	};
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(m, methods[i].name) == 0)
			return methods[i].method;
	return HTTP_OTHER;
}

/* An answer that will not be sent: what it owns goes. */
static void resp_discard(const struct http_resp *resp)
{
	if (resp->kind == HTTP_BODY_FD)
		close(resp->fd);
	else if (resp->kind == HTTP_BODY_STREAM)
		resp->stream.close(resp->stream.ctx);
	else if (resp->body_owned)
		free((void *)resp->body);
}

/* A stream body as libmicrohttpd pulls it: on the connection's worker thread, as the socket
 * takes bytes. */
struct stream_body {
	struct http_body_stream s;
	uint64_t left;
};

static ssize_t on_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream_body *sb = cls;
	(void)pos;
	if (sb->left == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (max > sb->left)
		max = (size_t)sb->left;
	ssize_t n = sb->s.read(sb->s.ctx, buf, max);
	if (n <= 0) /* failed, or ended short of its length: closing tells the client */
		return MHD_CONTENT_READER_END_WITH_ERROR;
	sb->left -= (uint64_t)n;
	return n;
}

static void on_stream_free(void *cls)
{
	struct stream_body *sb = cls;
	sb->s.close(sb->s.ctx);
	free(sb);
}

static struct MHD_Response *stream_response(const struct http_body_stream *stream)
{
	struct stream_body *sb = xcalloc(1, sizeof(*sb));
	sb->s = *stream;
	sb->left = stream->len;
	struct MHD_Response *mr = MHD_create_response_from_callback(stream->len, 64 * 1024,
								    on_stream_read, sb,
								    on_stream_free);
	if (mr == NULL)
		on_stream_free(sb);
	return mr;
}

static enum MHD_Result queue(struct request *r, struct MHD_Connection *conn,
			     struct http_resp *resp)
{
	struct MHD_Response *mr;
	if (!watch_move(r, WATCH_BODY, WATCH_ANSWER)) { /* the watchdog answered 408 */
		resp_discard(resp);
		return MHD_NO;
	}
	if (resp->kind == HTTP_BODY_STREAM) {
		mr = stream_response(&resp->stream);
		r->bytes_out = resp->stream.len;
	} else if (resp->kind == HTTP_BODY_FD) {
		mr = MHD_create_response_from_fd_at_offset64(resp->fd_len, resp->fd,
							     resp->fd_offset);
		if (mr == NULL)
			close(resp->fd);
		r->bytes_out = resp->fd_len;
	} else {
		mr = MHD_create_response_from_buffer(resp->body_len, (void *)resp->body,
						     resp->body_owned ? MHD_RESPMEM_MUST_FREE
								      : MHD_RESPMEM_MUST_COPY);
		if (mr == NULL && resp->body_owned)
			free((void *)resp->body);
		r->bytes_out = resp->body_len;
	}
	if (mr == NULL)
		return MHD_NO;
	if (resp->content_type != NULL)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
	for (int i = 0; i < resp->nheaders; i++)
		MHD_add_response_header(mr, resp->headers[i].name, resp->headers[i].value);
	r->status = resp->status;
	r->responded = true;
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned)resp->status, mr);
	MHD_destroy_response(mr);
	return ret;
}

static enum MHD_Result queue_error(struct request *r, struct MHD_Connection *conn, int status,
				   const char *json)
{
	struct http_resp resp = {.status = status,
				 .content_type = "application/json",
				 .kind = HTTP_BODY_MEM,
				 .body = json,
				 .body_len = strlen(json)};
	return queue(r, conn, &resp);
}

static const char too_large_json[] = "{\"error\": \"request body is larger than the limit\"}";

int64_t http_req_content_length(const struct http_req *req)
{
	const char *cl = MHD_lookup_connection_value(req->impl, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl == NULL || *cl < '0' || *cl > '9')
		return -1;
	return (int64_t)strtoull(cl, NULL, 10);
}

/* Calls the streaming handler's on_end once, with resp (NULL when the client went away). */
static void end_stream(struct request *r, struct http_resp *resp)
{
	void (*on_end)(struct http_req *, struct http_resp *) = r->req.on_end;
	r->req.on_end = NULL;
	r->req.on_body = NULL;
	if (on_end != NULL)
		on_end(&r->req, resp);
}

/* libmicrohttpd queues a response only right after the headers or after the whole body. An
 * answer decided in between (a limit crossed, bad bytes) is written to the socket at once; the
 * rest of the body is read and dropped (so a client that sends everything before it reads still
 * gets the answer), and the connection is closed when the body ends or when the client has sent
 * DISCARD_MAX_BYTES more. */
#define DISCARD_MAX_BYTES (16u * 1024 * 1024)

static const char *reason_of(int status)
{
	switch (status) {
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 409:
		return "Conflict";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Content Too Large";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 507:
		return "Insufficient Storage";
	default:
		return status < 500 ? "Client Error" : "Server Error";
	}
}

static enum MHD_Result answer_now(struct request *r, struct MHD_Connection *conn,
				  const struct http_resp *resp)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	size_t len = resp->kind == HTTP_BODY_MEM ? resp->body_len : 0;
	char head[512];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 resp->status, reason_of(resp->status),
			 resp->content_type ? resp->content_type : "application/json", len);
	if (resp->kind != HTTP_BODY_MEM)
		resp_discard(resp);
	free(r->body);
	r->body = NULL;
	r->answered_raw = true;
	r->status = resp->status;
	r->bytes_out = len;
	bool sent = watch_move(r, WATCH_BODY, WATCH_DRAIN) && ci != NULL && n > 0 &&
		    (size_t)n < sizeof(head) &&
		    send(ci->connect_fd, head, (size_t)n, MSG_NOSIGNAL) == n &&
		    (len == 0 || send(ci->connect_fd, resp->body, len, MSG_NOSIGNAL) == (ssize_t)len);
	if (resp->body_owned)
		free((void *)resp->body);
	return sent ? MHD_YES : MHD_NO;
}

static enum MHD_Result answer_error_now(struct request *r, struct MHD_Connection *conn,
					int status, const char *json)
{
	struct http_resp resp = {.status = status,
				 .content_type = "application/json",
				 .kind = HTTP_BODY_MEM,
				 .body = json,
				 .body_len = strlen(json)};
	return answer_now(r, conn, &resp);
}

/* ---- blocking work ----
 * A write's handler waits on the disk (the group commit's fsync), the database or a remote
 * server. Run on an event loop, it stalls every other connection of that loop, and enough
 * loops to hide that (8 on a 2-core machine) leave more runnable threads than cores under a
 * read load, which is what the GET tail measured. So a request other than GET and HEAD is
 * suspended when its handler would run and handed to a small pool of blocking threads; the
 * loop resumes it with the answer. Reads stay on the loops. */
static bool is_write(const struct request *r)
{
	return r->req.method != HTTP_GET && r->req.method != HTTP_HEAD;
}

/* What the final call runs: the whole handler of a deferred request, the end of a streamed
 * body, or the handler over a buffered body. */
static void run_handler(struct http_server *srv, struct request *r, struct http_resp *resp)
{
	if (r->deferred) {
		struct http_resp first = {.kind = HTTP_BODY_MEM, .fd = -1};
		r->req.phase = HTTP_PHASE_HEADERS;
		srv->handler(srv->app, &r->req, &first);
		if (first.status != 0) {
			*resp = first;
			return;
		}
	}
	if (r->req.on_end != NULL) {
		end_stream(r, resp);
		return;
	}
	if (r->body != NULL) {
		r->body[r->body_len] = '\0';
		r->req.body = r->body;
		r->req.body_len = r->body_len;
	}
	r->req.phase = HTTP_PHASE_COMPLETE;
	srv->handler(srv->app, &r->req, resp);
	/* The body is no longer needed once the handler has run; release it before sending. */
	free(r->body);
	r->body = NULL;
	r->req.body = NULL;
}

static void *blocking_worker(void *arg)
{
	struct http_server *srv = arg;
	pthread_mutex_lock(&srv->jobs_lock);
	for (;;) {
		struct request *r = srv->jobs_head;
		if (r == NULL) {
			if (srv->jobs_stop)
				break;
			pthread_cond_wait(&srv->jobs_wake, &srv->jobs_lock);
			continue;
		}
		srv->jobs_head = r->job_next;
		if (srv->jobs_head == NULL)
			srv->jobs_tail = NULL;
		pthread_mutex_unlock(&srv->jobs_lock);
		r->job_resp = (struct http_resp){.status = 500, .kind = HTTP_BODY_MEM, .fd = -1};
		run_handler(srv, r, &r->job_resp);
		r->job_done = true;
		MHD_resume_connection(r->req.impl);
		pthread_mutex_lock(&srv->jobs_lock);
	}
	pthread_mutex_unlock(&srv->jobs_lock);
	return NULL;
}

/* Suspends the connection and queues its handler; false when the pool is stopping (the
 * caller then runs it on the loop). */
static bool submit(struct http_server *srv, struct request *r, struct MHD_Connection *conn)
{
	pthread_mutex_lock(&srv->jobs_lock);
	bool ok = !srv->jobs_stop && srv->nworkers > 0;
	if (ok) {
		MHD_suspend_connection(conn);
		r->job_next = NULL;
		if (srv->jobs_tail != NULL)
			srv->jobs_tail->job_next = r;
		else
			srv->jobs_head = r;
		srv->jobs_tail = r;
		pthread_cond_signal(&srv->jobs_wake);
	}
	pthread_mutex_unlock(&srv->jobs_lock);
	return ok;
}

static void workers_stop(struct http_server *srv)
{
	pthread_mutex_lock(&srv->jobs_lock);
	srv->jobs_stop = true;
	pthread_cond_broadcast(&srv->jobs_wake);
	pthread_mutex_unlock(&srv->jobs_lock);
	for (int i = 0; i < srv->nworkers; i++)
		pthread_join(srv->workers[i], NULL);
	free(srv->workers);
	srv->workers = NULL;
	srv->nworkers = 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct request *r = *con_cls;

	if (r == NULL) {
		r = xcalloc(1, sizeof(*r));
		pool_init(&r->pool);
		clock_gettime(CLOCK_MONOTONIC, &r->started);
		r->srv = srv;
		r->req.pool = &r->pool;
		r->req.impl = conn;
		r->req.method = method_of(method);
		r->req.method_name = pool_strdup(&r->pool, method);
		r->req.path = pool_strdup(&r->pool, url);
		*con_cls = r;
		atomic_fetch_add(&srv->active, 1);
		r->watch = watch_of(conn);
		if (!watch_move(r, WATCH_HEADERS, WATCH_BODY))
			return MHD_NO; /* too late: the watchdog has answered */
		int status;
		const char *framing = framing_error(conn, version, &status);
		if (framing != NULL) {
			struct http_resp bad = {.status = status,
						.content_type = "application/json",
						.kind = HTTP_BODY_MEM,
						.body = framing,
						.body_len = strlen(framing)};
			http_resp_header(&bad, MHD_HTTP_HEADER_CONNECTION, "close");
			return queue(r, conn, &bad);
		}
		/* Without a body the request is all in: a slow handler (a GET reading from S3, a
		 * DELETE waiting for a lock) is depot's time, not the client's. */
		bool bodyless = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							    MHD_HTTP_HEADER_TRANSFER_ENCODING) ==
					NULL &&
				http_req_content_length(&r->req) <= 0;
		if (bodyless && !watch_move(r, WATCH_BODY, WATCH_ANSWER))
			return MHD_NO;
		if (bodyless && is_write(r) && srv->nworkers > 0) {
			r->deferred = true; /* the final call follows at once */
			return MHD_YES;
		}
		struct http_resp resp = {.kind = HTTP_BODY_MEM, .fd = -1};
		r->req.phase = HTTP_PHASE_HEADERS;
		srv->handler(srv->app, &r->req, &resp);
		if (resp.status != 0) {
			/* Queued in this first call, libmicrohttpd would close the connection (it
			 * cannot know the body is empty yet). A request without a body gets its answer
			 * at the final call, which follows at once, and keeps its connection. One that
			 * announced a body we refuse is answered now, before the body is sent. */
			if (bodyless) {
				r->answer = resp;
				r->held = true;
				return MHD_YES;
			}
			return queue(r, conn, &resp);
		}
		/* A streaming handler sets its own limit; a buffered body has max_body_bytes. */
		if (r->req.on_body == NULL &&
		    http_req_content_length(&r->req) > (int64_t)srv->max_body_bytes)
			return queue_error(r, conn, 413, too_large_json);
		return MHD_YES;
	}

	if (watch_expired(r))
		return MHD_NO;
	if (*upload_data_size != 0) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (r->watch != NULL)
			atomic_fetch_add(&r->watch->body_bytes, n);
		if (r->responded)
			return MHD_YES;
		if (r->answered_raw || r->held) {
			r->discarded += n;
			return r->discarded > DISCARD_MAX_BYTES ? MHD_NO : MHD_YES;
		}
		if (r->req.on_body != NULL) {
			if (!r->req.on_body(&r->req, upload_data, n)) {
				struct http_resp resp = {.status = 500, .kind = HTTP_BODY_MEM, .fd = -1};
				end_stream(r, &resp);
				return answer_now(r, conn, &resp);
			}
			return MHD_YES;
		}
		if (r->body_len + n > srv->max_body_bytes)
			return answer_error_now(r, conn, 413, too_large_json);
		if (r->body_len + n + 1 > r->body_cap) {
			size_t cap = r->body_cap ? r->body_cap : 4096;
			while (cap < r->body_len + n + 1)
				cap *= 2;
			r->body = xrealloc(r->body, cap);
			r->body_cap = cap;
		}
		memcpy(r->body + r->body_len, upload_data, n);
		r->body_len += n;
		return MHD_YES;
	}

	if (r->responded)
		return MHD_YES;
	if (r->answered_raw)
		return MHD_NO; /* the answer is out; closing ends the connection */
	/* The whole request is in: the time the handler takes is depot's, not the client's (a
	 * bodyless request moved at its first call; the move then just confirms it). */
	if (!watch_move(r, WATCH_BODY, WATCH_ANSWER))
		return MHD_NO;
	if (r->held)
		return queue(r, conn, &r->answer);
	if (r->job_done) /* resumed with the answer (a suspended request gets no call) */
		return queue(r, conn, &r->job_resp);
	if (is_write(r) && submit(srv, r, conn))
		return MHD_YES;
	struct http_resp resp = {.status = 500, .kind = HTTP_BODY_MEM, .fd = -1};
	run_handler(srv, r, &resp);
	return queue(r, conn, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;
	struct request *r = *con_cls;
	(void)conn;
	if (r == NULL)
		return;
	end_stream(r, NULL);
	if (r->held && !r->responded) /* the client went away before the answer was queued */
		resp_discard(&r->answer);
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long long us = (long long)(now.tv_sec - r->started.tv_sec) * 1000000 +
		       (now.tv_nsec - r->started.tv_nsec) / 1000;
	bool late = watch_expired(r);
	const char *how = late ? " (body too slow)" : "";
	if (!late && toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && !r->answered_raw)
		how = " aborted";
	log_buffered(LOG_INFO, "%s %s %d %llu %lld.%03lldms account=%s%s", r->req.method_name,
		     r->req.path, late ? 408 : r->responded || r->answered_raw ? r->status : 0,
		     (unsigned long long)r->bytes_out, us / 1000, us % 1000,
		     r->req.log_account ? r->req.log_account : "-", how);
	if (r->watch != NULL && !late) { /* the next request's headers: a new deadline */
		atomic_store(&r->watch->served, true);
		atomic_store(&r->watch->request_line, false);
		atomic_store(&r->watch->body_bytes, 0);
		atomic_store(&r->watch->since_ms, now_ms());
		atomic_store(&r->watch->phase, WATCH_HEADERS);
	}
	free(r->body);
	pool_cleanup(&r->pool);
	free(r);
	*con_cls = NULL;
	atomic_fetch_sub(&srv->active, 1);
}

struct http_form {
	struct MHD_PostProcessor *pp;
	http_form_fn fn;
	void *ctx;
	bool stopped;
};

static enum MHD_Result on_form_piece(void *cls, enum MHD_ValueKind kind, const char *key,
				     const char *filename, const char *content_type,
				     const char *transfer_encoding, const char *data, uint64_t off,
				     size_t size)
{
	struct http_form *f = cls;
	(void)kind;
	(void)transfer_encoding;
	if (!f->fn(f->ctx, key, filename, content_type, data, off, size)) {
		f->stopped = true;
		return MHD_NO;
	}
	return MHD_YES;
}

struct http_form *http_form_new(struct http_req *req, http_form_fn fn, void *ctx)
{
	const char *ct = http_req_header(req, "Content-Type");
	if (ct == NULL || strncasecmp(ct, "multipart/form-data", 19) != 0)
		return NULL;
	struct http_form *f = xcalloc(1, sizeof(*f));
	f->fn = fn;
	f->ctx = ctx;
	f->pp = MHD_create_post_processor(req->impl, 64 * 1024, on_form_piece, f);
	if (f->pp == NULL) {
		free(f);
		return NULL;
	}
	return f;
}

bool http_form_feed(struct http_form *f, const char *data, size_t len)
{
	return MHD_post_process(f->pp, data, len) == MHD_YES && !f->stopped;
}

bool http_form_free(struct http_form *f)
{
	if (f == NULL)
		return false;
	bool ok = MHD_destroy_post_processor(f->pp) == MHD_YES && !f->stopped;
	free(f);
	return ok;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	size_t n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	log_warn("http: %s", line);
}

static enum err_code parse_listen(const char *listen, struct sockaddr_storage *ss, bool *v6,
				  struct err *e)
{
	const char *colon = strrchr(listen, ':');
	char host[128];
	size_t hlen = (size_t)(colon - listen);
	if (colon == NULL || hlen == 0 || hlen >= sizeof(host))
		return err_set(e, ERR_INVALID, "listen address '%s' is not HOST:PORT", listen);
	memcpy(host, listen, hlen);
	host[hlen] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || end == colon + 1 || port < 0 || port > 65535)
		return err_set(e, ERR_INVALID, "listen port in '%s' is not 0..65535", listen);
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[hlen - 1] == ']') {
		struct sockaddr_in6 *sa = (struct sockaddr_in6 *)ss;
		host[hlen - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &sa->sin6_addr) != 1)
			return err_set(e, ERR_INVALID, "listen address '%s' is not IPv6", listen);
		sa->sin6_family = AF_INET6;
		sa->sin6_port = htons((uint16_t)port);
		*v6 = true;
		return ERR_OK;
	}
	struct sockaddr_in *sa = (struct sockaddr_in *)ss;
	if (inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" : host,
		      &sa->sin_addr) != 1)
		return err_set(e, ERR_INVALID, "listen address '%s' is not an IPv4 literal", listen);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	*v6 = false;
	return ERR_OK;
}

/* ---- accepting ----
 * libmicrohttpd's own accept in a thread pool lets every worker race for each new connection,
 * and the first to wake takes it: 256 connections from one client landed 86 on one of 8 workers
 * and 5 on another, so the busiest worker's clients waited several times longer than the rest
 * (the GET p99). Connections are accepted here instead and handed over with
 * MHD_add_connection, which places each on the worker (fd mod pool size) with room.
 * The connection limit is kept here too: nothing is accepted while max_connections are open or
 * on their way, so a client over it waits in the listen backlog. libmicrohttpd's own limit is
 * set out of reach: a worker takes a handed-over connection later, on its own thread, and one
 * that finds itself full then drops it. */
static int listen_on(const struct sockaddr_storage *ss, bool v6)
{
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int on = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (v6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	socklen_t len = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	if (bind(fd, (const struct sockaddr *)ss, len) != 0 || listen(fd, SOMAXCONN) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool full(struct http_server *srv)
{
	return atomic_load(&srv->open_conns) + atomic_load(&srv->handed) >= srv->max_connections;
}

static void *acceptor(void *arg)
{
	struct http_server *srv = arg;
	while (!atomic_load(&srv->accept_stop)) {
		if (full(srv)) {
			usleep(5 * 1000);
			continue;
		}
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		int fd = accept4(srv->listen_fd, (struct sockaddr *)&peer, &len,
				 SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd >= 0) {
			atomic_fetch_add(&srv->handed, 1);
			/* on failure libmicrohttpd has closed the socket and announces nothing */
			if (MHD_add_connection(srv->daemon, fd, (struct sockaddr *)&peer, len) !=
			    MHD_YES)
				atomic_fetch_sub(&srv->handed, 1);
		} else if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			   errno == ENOMEM) {
			usleep(10 * 1000); /* out of descriptors: let connections close first */
		} else if (errno != EINTR && errno != ECONNABORTED && errno != EAGAIN &&
			   !atomic_load(&srv->accept_stop)) {
			log_warn("http: accept: %s", strerror(errno));
			usleep(10 * 1000);
		}
	}
	return NULL;
}

static void acceptor_stop(struct http_server *srv)
{
	if (srv->listen_fd < 0)
		return;
	atomic_store(&srv->accept_stop, true);
	shutdown(srv->listen_fd, SHUT_RDWR); /* wakes the blocked accept4 */
	if (srv->acceptor_running)
		pthread_join(srv->acceptor, NULL);
	srv->acceptor_running = false;
	close(srv->listen_fd);
	srv->listen_fd = -1;
}

static int bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* Every worker may hold all of max_connections, so none is ever full before depotd's limit. */
static unsigned mhd_limit(const struct http_server_opts *opts)
{
	uint64_t n = (uint64_t)opts->max_connections * (uint64_t)(opts->threads + 1);
	return n > 0x7fffffffu ? 0x7fffffffu : (unsigned)n;
}

enum err_code http_server_start(const struct http_server_opts *opts, http_handler_fn handler,
				void *app, struct http_server **out, struct err *e)
{
	struct sockaddr_storage ss;
	bool v6 = false;
	enum err_code rc = parse_listen(opts->listen, &ss, &v6, e);
	if (rc != ERR_OK)
		return rc;
	int lfd = listen_on(&ss, v6);
	if (lfd < 0)
		return err_set(e, ERR_INTERNAL, "cannot listen on %s: %s", opts->listen,
			       strerror(errno));
	struct http_server *srv = xcalloc(1, sizeof(*srv));
	srv->handler = handler;
	srv->app = app;
	srv->max_body_bytes = opts->max_body_bytes;
	srv->request_timeout_ms = (int64_t)opts->request_timeout_s * 1000;
	srv->min_body_rate = opts->min_body_rate;
	srv->listen_fd = lfd;
	srv->max_connections = opts->max_connections;
	pthread_mutex_init(&srv->watch_lock, NULL);
	pthread_cond_init(&srv->watch_cond, NULL);
	pthread_mutex_init(&srv->jobs_lock, NULL);
	pthread_cond_init(&srv->jobs_wake, NULL);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC |
			 MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET | MHD_ALLOW_SUSPEND_RESUME;
	srv->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)opts->threads,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)opts->idle_timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, opts->connection_memory_bytes,
		MHD_OPTION_CONNECTION_LIMIT, mhd_limit(opts),
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
		MHD_OPTION_URI_LOG_CALLBACK, on_request_line, srv, MHD_OPTION_END);
	if (srv->daemon != NULL && srv->request_timeout_ms > 0) {
		srv->watchdog_running = pthread_create(&srv->watchdog, NULL, watchdog, srv) == 0;
		if (!srv->watchdog_running) {
			MHD_stop_daemon(srv->daemon);
			srv->daemon = NULL;
		}
	}
	if (srv->daemon != NULL && opts->blocking_threads > 0) {
		srv->workers = xcalloc((size_t)opts->blocking_threads, sizeof(pthread_t));
		while (srv->nworkers < opts->blocking_threads &&
		       pthread_create(&srv->workers[srv->nworkers], NULL, blocking_worker, srv) == 0)
			srv->nworkers++;
		if (srv->nworkers < opts->blocking_threads) {
			http_server_stop(srv, 0);
			return err_set(e, ERR_INTERNAL, "cannot start the blocking threads");
		}
	}
	if (srv->daemon != NULL) {
		srv->acceptor_running = pthread_create(&srv->acceptor, NULL, acceptor, srv) == 0;
		if (!srv->acceptor_running) {
			http_server_stop(srv, 0);
			return err_set(e, ERR_INTERNAL, "cannot start the accepting thread");
		}
	}
	if (srv->daemon == NULL) {
		close(lfd);
		pthread_cond_destroy(&srv->jobs_wake);
		pthread_mutex_destroy(&srv->jobs_lock);
		pthread_cond_destroy(&srv->watch_cond);
		pthread_mutex_destroy(&srv->watch_lock);
		free(srv);
		return err_set(e, ERR_INTERNAL, "cannot listen on %s", opts->listen);
	}
	srv->port = bound_port(lfd);
	*out = srv;
	return ERR_OK;
}

int http_server_port(const struct http_server *srv)
{
	return srv->port;
}

void http_server_stop(struct http_server *srv, int grace_ms)
{
	if (srv == NULL)
		return;
	acceptor_stop(srv);
	for (int waited = 0; atomic_load(&srv->active) > 0 && waited < grace_ms; waited += 10)
		usleep(10 * 1000);
	if (srv->watchdog_running) {
		pthread_mutex_lock(&srv->watch_lock);
		srv->watch_stop = true;
		pthread_cond_signal(&srv->watch_cond);
		pthread_mutex_unlock(&srv->watch_lock);
		pthread_join(srv->watchdog, NULL);
	}
	workers_stop(srv); /* the queued writes finish and their connections resume */
	MHD_stop_daemon(srv->daemon);
	pthread_cond_destroy(&srv->jobs_wake);
	pthread_mutex_destroy(&srv->jobs_lock);
	pthread_cond_destroy(&srv->watch_cond);
	pthread_mutex_destroy(&srv->watch_lock);
	free(srv);
}
