/* Logging to stderr, one line per event; control characters in values are escaped. */
#ifndef DEPOT_CORE_LOG_H
#define DEPOT_CORE_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Lines below `level` are dropped. Call before threads start. */
void log_set_level(enum log_level level);

/* Writes one line "<time> <level> <message>". The message is formatted and then every byte
 * below 0x20 or equal to 0x7f is written as \xNN, so a client string cannot forge a line. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The same line, gathered in a per-thread buffer and written within ~50 ms, when the buffer
 * fills, or at log_flush (for the per-request access line). A log_msg from the same thread
 * writes that thread's waiting lines first. */
void log_buffered(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Writes every waiting line and stops the flusher; later buffered lines wait for their
 * thread's end. Call at a clean shutdown, after the threads that log have stopped. */
void log_flush(void);

#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
