/* The input rules for resource fields, as pure functions (no I/O, no globals). */
#ifndef DEPOT_API_VALIDATE_H
#define DEPOT_API_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/pool.h"

struct limits {
	size_t max_name_bytes;
	size_t max_path_bytes;
	size_t max_tag_bytes;
	size_t max_tags;
	size_t max_metadata_bytes;
	size_t max_description_bytes;
	int64_t max_page_size;
	uint64_t max_upload_bytes;
};

/* 1..max bytes of UTF-8, no '/', no control characters, not "." or "..". */
enum err_code validate_name(const char *s, size_t len, const struct limits *l, struct err *e)
	__attribute__((warn_unused_result));

/* Normalises a directory path to "/seg/seg" ("/" for the root); see docs/API.md. */
enum err_code validate_directory_path(const char *s, size_t len, const struct limits *l,
				      struct pool *pool, const char **out, struct err *e)
	__attribute__((warn_unused_result));

/* Checks each tag (1..max bytes of UTF-8, no comma, no control characters), folds duplicates,
 * sorts bytewise, and refuses more than max_tags distinct ones. `what` names the field. */
enum err_code validate_tags(const char **in, size_t n, const struct limits *l, const char *what,
			    struct pool *pool, const char ***out, size_t *nout, struct err *e)
	__attribute__((warn_unused_result));

/* A description: at most max bytes of UTF-8 without NUL (line breaks and tabs are allowed). */
enum err_code validate_description(const char *s, size_t len, const struct limits *l,
				   struct err *e) __attribute__((warn_unused_result));

/* read_access: TEAM, GLOBAL or SPECIFIC_TEAMS. */
enum err_code validate_read_access(const char *s, struct err *e)
	__attribute__((warn_unused_result));

/* shared_team_slugs: account ids (1..255 bytes of UTF-8, no control characters), folded and
 * sorted like tags, at most max_tags of them. */
enum err_code validate_slugs(const char **in, size_t n, const struct limits *l, struct pool *pool,
			     const char ***out, size_t *nout, struct err *e)
	__attribute__((warn_unused_result));

#endif
