/* The error record shared by every module. */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>

enum err_code err_set(struct err *e, enum err_code code, const char *fmt, ...)
{
	if (e != NULL) {
		va_list ap;
		e->code = code;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

const char *err_code_name(enum err_code code)
{
	static const char *const names[] = {
		[ERR_OK] = "ok",
		[ERR_INVALID] = "invalid",
		[ERR_UNAUTHENTICATED] = "unauthenticated",
		[ERR_FORBIDDEN] = "forbidden",
		[ERR_NOT_FOUND] = "not_found",
		[ERR_CONFLICT] = "conflict",
		[ERR_PRECONDITION] = "precondition",
		[ERR_TOO_LARGE] = "too_large",
		[ERR_UPSTREAM] = "upstream",
		[ERR_UNAVAILABLE] = "unavailable",
		[ERR_TIMEOUT] = "timeout",
		[ERR_NO_SPACE] = "no_space",
		[ERR_INTERNAL] = "internal",
	};
	if ((unsigned)code < sizeof(names) / sizeof(names[0]) && names[code] != NULL)
		return names[code];
	return "unknown";
}
