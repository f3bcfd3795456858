/* A temporary folder per test fixture: made under /tmp, removed with everything in it. */
#ifndef DEPOT_TESTS_TMPDIR_H
#define DEPOT_TESTS_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

static int tmpdir_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Makes /tmp/depot-<tag>-XXXXXX into dir (size bytes); false on failure. */
static inline int tmpdir_make(char *dir, size_t size, const char *tag)
{
	snprintf(dir, size, "/tmp/depot-%s-XXXXXX", tag);
	return mkdtemp(dir) != NULL;
}

static inline void tmpdir_remove(const char *dir)
{
	nftw(dir, tmpdir_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
