/* stderr logger with escaping, one write(2) per line so concurrent lines do not interleave.
 * Access lines (log_buffered) are gathered per thread and written a buffer at a time: a write(2)
 * per request was ~5 % of a GET's CPU. A flusher thread writes what waits every
 * FLUSH_INTERVAL_MS, a full buffer is written at once, and log_flush writes the rest at a clean
 * shutdown. */
#include "core/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FLUSH_INTERVAL_MS 50
#define THREAD_BUFFER 8192

static enum log_level min_level = LOG_INFO;

/* One thread's waiting lines; buffers live until log_flush. */
struct logbuf {
	pthread_mutex_t lock;
	struct logbuf *next;
	size_t len;
	char buf[THREAD_BUFFER];
};

static struct {
	pthread_mutex_t lock; /* guards head, running, stop */
	pthread_cond_t wake;
	struct logbuf *head;
	pthread_key_t key;
	pthread_t flusher;
	bool running, stop;
} bufs = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static __thread struct logbuf *mine;

void log_set_level(enum log_level level)
{
	min_level = level;
}

static void write_out(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, p, n);
		if (w <= 0)
			return; /* nowhere to report it */
		p += w;
		n -= (size_t)w;
	}
}

/* Under b->lock. */
static void drain(struct logbuf *b)
{
	write_out(b->buf, b->len);
	b->len = 0;
}

static void drain_all(void)
{
	for (struct logbuf *b = bufs.head; b != NULL; b = b->next) {
		pthread_mutex_lock(&b->lock);
		drain(b);
		pthread_mutex_unlock(&b->lock);
	}
}

static void *flusher(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&bufs.lock);
	while (!bufs.stop) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += FLUSH_INTERVAL_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&bufs.wake, &bufs.lock, &until);
		drain_all();
	}
	pthread_mutex_unlock(&bufs.lock);
	return NULL;
}

/* A thread's buffer is written when the thread ends, then leaves the flusher's list. */
static void thread_gone(void *arg)
{
	struct logbuf *b = arg;
	pthread_mutex_lock(&bufs.lock);
	for (struct logbuf **p = &bufs.head; *p != NULL; p = &(*p)->next)
		if (*p == b) {
			*p = b->next;
			break;
		}
	pthread_mutex_unlock(&bufs.lock);
	pthread_mutex_lock(&b->lock);
	drain(b);
	pthread_mutex_unlock(&b->lock);
	pthread_mutex_destroy(&b->lock);
	free(b);
	mine = NULL;
}

static void make_key(void)
{
	pthread_key_create(&bufs.key, thread_gone);
}

/* This thread's buffer, made (and the flusher started) on first use; NULL: write directly. */
static struct logbuf *my_buffer(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	if (mine != NULL)
		return mine;
	pthread_once(&once, make_key);
	struct logbuf *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return NULL;
	pthread_mutex_init(&b->lock, NULL);
	pthread_mutex_lock(&bufs.lock);
	if (!bufs.running && !bufs.stop)
		bufs.running = pthread_create(&bufs.flusher, NULL, flusher, NULL) == 0;
	if (!bufs.running) {
		pthread_mutex_unlock(&bufs.lock);
		pthread_mutex_destroy(&b->lock);
		free(b);
		return NULL;
	}
	b->next = bufs.head;
	bufs.head = b;
	pthread_mutex_unlock(&bufs.lock);
	pthread_setspecific(bufs.key, b);
	mine = b;
	return b;
}

/* "YYYY-mm-ddTHH:MM:SS" of the second this thread last logged in: gmtime_r and strftime once
 * per second and thread, not once per line. */
static __thread struct {
	time_t sec;
	char text[24];
	size_t len;
} stamp = {.sec = -1};

/* "<time> <level> <message>\n" into line[cap], escaped; returns its length. */
static size_t format_line(char *line, size_t cap, enum log_level level, const char *fmt,
			  va_list ap)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	static const char hex[] = "0123456789abcdef";
	char raw[1024];
	vsnprintf(raw, sizeof(raw), fmt, ap);

	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != stamp.sec) {
		struct tm tm;
		gmtime_r(&ts.tv_sec, &tm);
		stamp.len = strftime(stamp.text, sizeof(stamp.text), "%Y-%m-%dT%H:%M:%S", &tm);
		stamp.sec = ts.tv_sec;
	}
	long ms = ts.tv_nsec / 1000000;
	size_t n = stamp.len;
	memcpy(line, stamp.text, n);
	line[n++] = '.';
	line[n++] = (char)('0' + ms / 100);
	line[n++] = (char)('0' + ms / 10 % 10);
	line[n++] = (char)('0' + ms % 10);
	line[n++] = 'Z';
	line[n++] = ' ';
	size_t nl = strlen(names[level]);
	memcpy(line + n, names[level], nl);
	n += nl;
	line[n++] = ' ';
	for (const unsigned char *s = (const unsigned char *)raw; *s && n < cap - 6; s++) {
		if (*s < 0x20 || *s == 0x7f || *s == '\\') {
			line[n++] = '\\';
			line[n++] = 'x';
			line[n++] = hex[*s >> 4];
			line[n++] = hex[*s & 15];
		} else {
			line[n++] = (char)*s;
		}
	}
	line[n++] = '\n';
	return n;
}

/* Appends line to this thread's buffer, writing what waits when it would not fit. */
static void add_line(struct logbuf *b, const char *line, size_t n)
{
	pthread_mutex_lock(&b->lock);
	if (b->len + n > sizeof(b->buf))
		drain(b);
	memcpy(b->buf + b->len, line, n);
	b->len += n;
	pthread_mutex_unlock(&b->lock);
}

/* Writes the line now, after this thread's waiting lines. */
static void write_line(const char *line, size_t n)
{
	struct logbuf *b = mine;
	if (b == NULL) {
		write_out(line, n);
		return;
	}
	pthread_mutex_lock(&b->lock);
	drain(b);
	write_out(line, n);
	pthread_mutex_unlock(&b->lock);
}

static void vlog(enum log_level level, bool buffered, const char *fmt, va_list ap)
{
	if (level < min_level)
		return;
	char line[4200];
	size_t n = format_line(line, sizeof(line), level, fmt, ap);
	struct logbuf *b = buffered ? my_buffer() : NULL;
	if (b != NULL)
		add_line(b, line, n);
	else
		write_line(line, n);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(level, false, fmt, ap);
	va_end(ap);
}

void log_buffered(enum log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(level, true, fmt, ap);
	va_end(ap);
}

void log_flush(void)
{
	pthread_mutex_lock(&bufs.lock);
	bool joined = bufs.running;
	bufs.stop = true;
	pthread_cond_signal(&bufs.wake);
	pthread_mutex_unlock(&bufs.lock);
	if (joined)
		pthread_join(bufs.flusher, NULL);
	pthread_mutex_lock(&bufs.lock);
	bufs.running = false;
	drain_all();
	pthread_mutex_unlock(&bufs.lock);
}
