/* depot: the command-line companion of depotd. `depot token` mints a development token. */
#include "auth/auth.h"

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
	      "  --ttl     lifetime in seconds (default 3600)\n",
	      out);
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
	usage(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
	return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
}
