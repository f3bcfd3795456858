/* One error convention for the whole of depot: an enum err_code and a message for the log. */
#ifndef DEPOT_CORE_ERR_H
#define DEPOT_CORE_ERR_H

#include <stddef.h>

enum err_code {
	ERR_OK = 0,
	ERR_INVALID,         /* the client's input is wrong (400) */
	ERR_UNAUTHENTICATED, /* no or bad credentials (401) */
	ERR_FORBIDDEN,       /* credentials lack the right (403) */
	ERR_NOT_FOUND,       /* no such thing for this tenant (404) */
	ERR_CONFLICT,        /* uniqueness or state conflict (409) */
	ERR_PRECONDITION,    /* an If-Match did not match (412) */
	ERR_TOO_LARGE,       /* a size limit was crossed (413) */
	ERR_UPSTREAM,        /* a server we depend on failed (502) */
	ERR_UNAVAILABLE,     /* a store is down or busy; try again (503) */
	ERR_TIMEOUT,         /* an upstream took too long (504) */
	ERR_NO_SPACE,        /* the disk is full (507) */
	ERR_INTERNAL,        /* a bug or an unexpected system failure (500) */
};

/* The detail of a failure. `msg` is safe to show to the client for 4xx codes; for 5xx codes it
 * goes to the log only. */
struct err {
	enum err_code code;
	char msg[256];
};

/* Records code and a printf-style message in e (which may be NULL) and returns code. */
enum err_code err_set(struct err *e, enum err_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A short stable name for a code, for logs. */
const char *err_code_name(enum err_code code);

#endif
