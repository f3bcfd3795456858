/* A push scanner over a JSON object body that streams the value of one top-level string field
 * (the base64 `content`) to a sink as it arrives, unescaped, and keeps the rest of the text —
 * with that value replaced by "" — for jansson. Memory stays bounded by rest_max whatever the
 * size of the streamed field. Pure: no I/O, no globals. */
#ifndef DEPOT_API_JSONSCAN_H
#define DEPOT_API_JSONSCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

typedef enum err_code (*jsonscan_sink_fn)(void *ctx, const char *data, size_t len,
					  struct err *e);

struct jsonscan {
	/* settings */
	const char *field;        /* the top-level key whose string value is streamed */
	size_t rest_max;          /* most bytes of everything else; more is ERR_TOO_LARGE */
	jsonscan_sink_fn sink;
	void *sink_ctx;
	/* results */
	char *rest;               /* malloc'd, NUL-terminated; owned until jsonscan_cleanup */
	size_t rest_len;
	bool captured;            /* the field was present as a string and was streamed */
	/* state */
	size_t rest_cap;
	int depth;
	bool in_string, escape, string_is_key, capturing, expect_key, value_is_field;
	int uhex;                 /* hex digits of a \u escape still to read, while capturing */
	unsigned ucode;
	char key[16];
	size_t key_len;
	bool key_odd;             /* the key had an escape or was longer than key[] */
	char out[8192];           /* unescaped field bytes waiting for the sink */
	size_t out_len;
};

/* Prepares s; field, rest_max, sink and sink_ctx must be set by the caller before or after. */
void jsonscan_init(struct jsonscan *s, const char *field, size_t rest_max,
		   jsonscan_sink_fn sink, void *sink_ctx);

/* Scans the next bytes of the body. Sink errors are returned as they are. */
enum err_code jsonscan_feed(struct jsonscan *s, const char *data, size_t len, struct err *e)
	__attribute__((warn_unused_result));

/* Flushes the sink at the end of the body. ERR_INVALID when the streamed string is unfinished. */
enum err_code jsonscan_finish(struct jsonscan *s, struct err *e)
	__attribute__((warn_unused_result));

void jsonscan_cleanup(struct jsonscan *s);

#endif
