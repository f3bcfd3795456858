/* Allocation that aborts on failure: out of memory is not a state depot tries to serve in. */
#ifndef DEPOT_CORE_XALLOC_H
#define DEPOT_CORE_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
_Noreturn void xalloc_die(void);

#endif
