/* depotd: settings → stores → auth → HTTP; then wait for SIGTERM/SIGINT and tear down in the
 * reverse order. Wiring only. */
#include "api/api.h"
#include "api/listcache.h"
#include "blob/s3_parse.h"
#include "config/config.h"
#include "core/log.h"
#include "core/text.h"
#include "core/xalloc.h"

#include <curl/curl.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <string.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* DEPOT_THREADS, or its default: a loop per core when reads touch only this machine (SQLite,
 * local files), 8 when a read waits on the network (PostgreSQL, S3) and a loop would idle. */
static int event_loops(const struct config *cfg)
{
	if (cfg->threads > 0)
		return (int)cfg->threads;
	if (*cfg->db || *cfg->blobs)
		return 8;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	return cores < 2 ? 2 : cores > 64 ? 64 : (int)cores;
}

/* Room for want connections besides the stores' own descriptors: the soft open-files limit is
 * raised towards the hard one (a slow-client flood must not leave connections in the listen
 * backlog while depotd idles). Returns the connections that fit. */
static unsigned fit_connections(int64_t want)
{
	const rlim_t spare = 256;
	rlim_t need = (rlim_t)want + spare;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return (unsigned)want;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need ? rl.rlim_max : need;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || getrlimit(RLIMIT_NOFILE, &rl) != 0)
			return (unsigned)want;
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
		return (unsigned)want;
	unsigned fit = rl.rlim_cur > spare + 16 ? (unsigned)(rl.rlim_cur - spare) : 16;
	log_warn("open-files limit %llu: accepting %u connections, not DEPOT_MAX_CONNECTIONS %lld",
		 (unsigned long long)rl.rlim_cur, fit, (long long)want);
	return fit;
}

/* The blob store's URL: files under the data folder, or the configured S3 bucket with the S3
 * settings and a spool folder in the data folder added. False when it does not fit. */
static bool blob_url_of(const struct config *cfg, char *out, size_t cap)
{
	if (!*cfg->blobs)
		return (size_t)snprintf(out, cap, "file:%s", cfg->data_dir) < cap;
	size_t dlen = strlen(cfg->data_dir) + 6;
	char *dir = xmalloc(dlen + 1), *spool = xmalloc(3 * dlen + 1);
	snprintf(dir, dlen + 1, "%s/spool", cfg->data_dir);
	text_pct_encode(dir, strlen(dir), spool);
	int n = snprintf(out, cap,
			 "%s%sconnect_timeout=%lld&stall_timeout=%lld&multipart_threshold=%lld"
			 "&part_size=%lld&sweep_grace=%lld&spool=%s",
			 cfg->blobs, strchr(cfg->blobs, '?') ? "&" : "?",
			 (long long)cfg->s3_connect_timeout_s, (long long)cfg->s3_stall_timeout_s,
			 (long long)cfg->s3_multipart_threshold, (long long)cfg->s3_part_size,
			 (long long)cfg->s3_sweep_grace_s, spool);
	free(dir);
	free(spool);
	return n > 0 && (size_t)n < cap;
}

/* The external sources (s3://, gs://, Azure Blob). Depot's own S3 bucket is never one: the
 * operator may have given both the same keys. */
static enum err_code external_of(const struct config *cfg, struct external **out, struct err *e)
{
	struct s3_config own = {0};
	if (*cfg->blobs && s3_config_parse(cfg->blobs + 3, &own, e) != ERR_OK)
		return ERR_INVALID;
	/* s3:// sources use keys of their own when given, else the usual AWS_* pair (depot's own
	 * bucket is refused as a source either way, so sharing the keys exposes no tenant). */
	const char *ak = cfg->external_s3_access_key, *sk = cfg->external_s3_secret_key;
	if (!*ak && !*sk && getenv("AWS_ACCESS_KEY_ID") && getenv("AWS_SECRET_ACCESS_KEY")) {
		ak = getenv("AWS_ACCESS_KEY_ID");
		sk = getenv("AWS_SECRET_ACCESS_KEY");
	}
	struct external_settings s = {
		.s3_endpoint = cfg->external_s3_endpoint,
		.s3_region = cfg->external_s3_region,
		.s3_access_key = ak,
		.s3_secret_key = sk,
		.gcs_endpoint = cfg->external_gcs_endpoint,
		.gcs_access_key = cfg->external_gcs_access_key,
		.gcs_secret_key = cfg->external_gcs_secret_key,
		.azure_endpoints = cfg->external_azure_endpoints,
		.own_bucket = own.bucket,
	};
	return external_open(&s, out, e);
}

static int run(const struct config *cfg)
{
	struct err e = {0};
	struct store *store = NULL;
	struct auth *auth = NULL;
	struct http_server *srv = NULL;
	struct external *external = NULL;
	struct listcache *lists = NULL;
	int status = 1;

	if (mkdir(cfg->data_dir, 0700) != 0 && errno != EEXIST) {
		log_error("cannot create data folder %s", cfg->data_dir);
		return 1;
	}
	char meta_url[4200], blob_url[4200];
	snprintf(meta_url, sizeof(meta_url), "sqlite:%s/depot.db", cfg->data_dir);
	if (!blob_url_of(cfg, blob_url, sizeof(blob_url))) {
		log_error("DEPOT_BLOBS with the data folder is too long");
		return 1;
	}
	struct auth_opts ao = {
		.hs256_secret = cfg->jwt_secret,
		.public_key_path = cfg->jwt_public_key,
		.alg = cfg->jwt_alg,
		.issuer = cfg->jwt_issuer,
		.audience = cfg->jwt_audience,
		.leeway_s = cfg->jwt_leeway_s,
	};
	/* DEPOT_DB (a PostgreSQL URL, checked by config.c) or SQLite in the data folder. */
	const char *meta = *cfg->db ? cfg->db : meta_url;
	if (auth_new(&ao, &auth, &e) != ERR_OK || store_open(meta, blob_url, &store, &e) != ERR_OK) {
		log_error("%s", e.msg);
		goto out;
	}
	if (external_of(cfg, &external, &e) != ERR_OK) {
		log_error("%s", e.msg);
		goto out;
	}
	store_set_inline_max(store, (size_t)cfg->inline_max_bytes);
	store_set_min_free(store, (uint64_t)cfg->min_free_bytes);
	/* The key of signed URLs: configured, else derived from the JWT secret, else random. */
	unsigned char url_key[32];
	size_t url_key_len = sizeof(url_key);
	if (*cfg->url_secret) {
		SHA256((const unsigned char *)cfg->url_secret, strlen(cfg->url_secret), url_key);
	} else if (*cfg->jwt_secret) {
		unsigned int n = 0;
		HMAC(EVP_sha256(), cfg->jwt_secret, (int)strlen(cfg->jwt_secret),
		     (const unsigned char *)"depot signed URLs", 17, url_key, &n);
	} else {
		if (RAND_bytes(url_key, sizeof(url_key)) != 1) {
			log_error("cannot make a random signed-URL key");
			goto out;
		}
		log_warn("DEPOT_URL_SECRET is unset: signed URLs last only as long as this process");
	}
	if (cfg->check_only) {
		fprintf(stdout, "configuration ok\n");
		status = 0;
		goto out;
	}
	lists = listcache_new();
	struct api api = {
		.auth = auth,
		.store = store,
		.limits = {
			.max_name_bytes = (size_t)cfg->max_name_bytes,
			.max_path_bytes = (size_t)cfg->max_path_bytes,
			.max_tag_bytes = (size_t)cfg->max_tag_bytes,
			.max_tags = (size_t)cfg->max_tags,
			.max_metadata_bytes = (size_t)cfg->max_metadata_bytes,
			.max_description_bytes = (size_t)cfg->max_description_bytes,
			.max_page_size = cfg->max_page_size,
			.max_upload_bytes = (uint64_t)cfg->max_upload_bytes,
		},
		.max_json_bytes = (size_t)cfg->max_json_bytes,
		.max_body_bytes = (uint64_t)cfg->max_body_bytes,
		.url_key = url_key,
		.url_key_len = url_key_len,
		.public_url = cfg->public_url,
		.import_batch = (size_t)cfg->import_batch,
		.upload_url_ttl_s = cfg->upload_url_ttl_s,
		.max_url_ttl_s = cfg->max_url_ttl_s,
		.external = external,
		.lists = lists,
		.fetch = {
			.timeout_s = cfg->fetch_timeout_s,
			.max_redirects = cfg->fetch_max_redirects,
			.max_bytes = (uint64_t)cfg->max_upload_bytes,
			.max_uri_bytes = cfg->max_uri_bytes,
			.allow_private = cfg->fetch_allow_private,
			.allow_addrs = cfg->fetch_allow_addrs,
		},
	};

	/* Block the stop signals in every thread; this one waits for them below. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct http_server_opts ho = {
		.listen = cfg->listen,
		.threads = event_loops(cfg),
		.blocking_threads = (int)cfg->blocking_threads,
		.idle_timeout_s = (int)cfg->idle_timeout_s,
		.request_timeout_s = (int)cfg->request_timeout_s,
		.min_body_rate = (uint64_t)cfg->min_body_rate,
		.max_connections = fit_connections(cfg->max_connections),
		.max_body_bytes = (uint64_t)cfg->max_body_bytes,
		.connection_memory_bytes = (size_t)cfg->connection_memory,
	};
	if (http_server_start(&ho, api_handle, &api, &srv, &e) != ERR_OK) {
		log_error("%s", e.msg);
		goto out;
	}
	log_info("depotd listening on %s (port %d), data in %s, %d event loops, %d blocking "
		 "threads", cfg->listen, http_server_port(srv), cfg->data_dir, ho.threads,
		 ho.blocking_threads);
	int sig = 0;
	sigwait(&stop, &sig);
	log_info("signal %d: finishing in-flight requests", sig);
	http_server_stop(srv, (int)cfg->shutdown_grace_s * 1000);
	log_info("depotd stopped");
	log_flush();
	status = 0;
out:
	listcache_free(lists);
	store_close(store);
	external_close(external);
	auth_free(auth);
	return status;
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct err e = {0};
	if (config_load(&cfg, argc, argv, &e) != ERR_OK) {
		fprintf(stderr, "depotd: %s\n(depotd --help lists the settings)\n", e.msg);
		config_cleanup(&cfg);
		return 2;
	}
	if (cfg.help) {
		config_usage(stdout);
		config_cleanup(&cfg);
		return 0;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int status = run(&cfg);
	curl_global_cleanup();
	config_cleanup(&cfg);
	return status;
}
