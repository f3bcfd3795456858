/* depot: the command-line companion of depotd. `depot token` mints a development token;
 * `depot import` streams an NDJSON file of create bodies to POST /v1/resources/import. */
#include "auth/auth.h"

#include <curl/curl.h>
#include <jansson.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(FILE *out)
{
	fputs("usage: depot token --account A [--user U] [--scope S] [--ttl SECONDS]\n"
	      "  Prints an HS256 token signed with DEPOT_JWT_SECRET.\n"
	      "  --scope   space-separated scopes (resources:read resources:write); omitted\n"
	      "            means every scope\n"
	      "  --ttl     lifetime in seconds (default 3600)\n"
	      "\n"
	      "usage: depot import [--url URL] [--token T | --account A [--user U]] FILE|-\n"
	      "  Streams FILE (NDJSON, one create body per line; - for standard input) to\n"
	      "  POST /v1/resources/import and prints the result. URL defaults to DEPOT_URL or\n"
	      "  http://127.0.0.1:8080; the token to DEPOT_TOKEN, else one minted from\n"
	      "  DEPOT_JWT_SECRET for --account. Exit status 0 when every line was created, 1 when\n"
	      "  some failed, 2 on a usage or transfer error.\n",
	      out);
}

static size_t read_file(char *buf, size_t size, size_t n, void *f)
{
	return fread(buf, size, n, f);
}

struct reply {
	char *data; /* malloc'd, NUL-terminated */
	size_t len;
};

static size_t keep_reply(char *data, size_t size, size_t n, void *ctx)
{
	struct reply *r = ctx;
	size_t len = size * n;
	char *grown = realloc(r->data, r->len + len + 1);
	if (grown == NULL)
		return 0;
	memcpy(grown + r->len, data, len);
	r->data = grown;
	r->len += len;
	r->data[r->len] = '\0';
	return len;
}

static int cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{"url", required_argument, NULL, 'U'},     {"token", required_argument, NULL, 'T'},
		{"account", required_argument, NULL, 'a'}, {"user", required_argument, NULL, 'u'},
		{"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
	};
	const char *url = getenv("DEPOT_URL"), *tok = getenv("DEPOT_TOKEN");
	const char *account = NULL, *user = NULL;
	int ch;
	while ((ch = getopt_long(argc, argv, "U:T:a:u:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'U':
			url = optarg;
			break;
		case 'T':
			tok = optarg;
			break;
		case 'a':
			account = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fputs("depot import: give one FILE (or - for standard input)\n", stderr);
		return 2;
	}
	char *minted = NULL;
	if ((tok == NULL || !*tok) && account != NULL) {
		const char *secret = getenv("DEPOT_JWT_SECRET");
		if (secret == NULL || strlen(secret) < 16) {
			fputs("depot import: DEPOT_JWT_SECRET must be set to mint a token\n", stderr);
			return 2;
		}
		int64_t now = (int64_t)time(NULL);
		tok = minted = auth_mint_hs256(secret, account, user, "resources:write", now,
					      now + 86400);
	}
	if (tok == NULL || !*tok) {
		fputs("depot import: give --token (or DEPOT_TOKEN) or --account\n", stderr);
		return 2;
	}
	const char *path = argv[optind];
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "depot import: cannot open %s\n", path);
		free(minted);
		return 2;
	}
	char endpoint[2048], auth[9000];
	snprintf(endpoint, sizeof(endpoint), "%s/v1/resources/import",
		 url && *url ? url : "http://127.0.0.1:8080");
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, "Content-Type: application/x-ndjson");
	h = curl_slist_append(h, "Transfer-Encoding: chunked");
	struct reply reply = {0};
	curl_easy_setopt(c, CURLOPT_URL, endpoint);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_file);
	curl_easy_setopt(c, CURLOPT_READDATA, f);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_reply);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
	CURLcode cc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	int rc = 2;
	if (cc != CURLE_OK) {
		fprintf(stderr, "depot import: %s\n", curl_easy_strerror(cc));
	} else {
		puts(reply.data ? reply.data : "");
		json_t *body = reply.data ? json_loads(reply.data, 0, NULL) : NULL;
		json_t *failed = json_object_get(body, "failed");
		if (status == 200 && json_is_integer(failed))
			rc = json_integer_value(failed) == 0 ? 0 : 1;
		json_decref(body);
	}
	free(reply.data);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	curl_global_cleanup();
	if (f != stdin)
		fclose(f);
	free(minted);
	return rc;
}

static int cmd_token(int argc, char **argv)
{
	static const struct option opts[] = {
		{"account", required_argument, NULL, 'a'}, {"user", required_argument, NULL, 'u'},
		{"scope", required_argument, NULL, 's'},   {"ttl", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
	};
	const char *account = NULL, *user = NULL, *scope = NULL;
	long ttl = 3600;
	int ch;
	while ((ch = getopt_long(argc, argv, "a:u:s:t:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			account = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 's':
			scope = optarg;
			break;
		case 't': {
			char *end;
			ttl = strtol(optarg, &end, 10);
			if (*end != '\0' || ttl <= 0) {
				fputs("depot: --ttl must be a positive number of seconds\n", stderr);
				return 2;
			}
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	const char *secret = getenv("DEPOT_JWT_SECRET");
	if (account == NULL || !*account) {
		fputs("depot: --account is required\n", stderr);
		return 2;
	}
	if (secret == NULL || strlen(secret) < 16) {
		fputs("depot: DEPOT_JWT_SECRET must be set (at least 16 bytes)\n", stderr);
		return 2;
	}
	int64_t now = (int64_t)time(NULL);
	char *token = auth_mint_hs256(secret, account, user, scope, now, now + ttl);
	if (token == NULL) {
		fputs("depot: could not sign the token\n", stderr);
		return 1;
	}
	puts(token);
	free(token);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "token") == 0)
		return cmd_token(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "import") == 0)
		return cmd_import(argc - 1, argv + 1);
	usage(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
	return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
}
