/* Signing requests to S3 (and S3-compatible APIs) with libcurl's SigV4: what the S3 blob store
 * and the external-storage reader (fetch/external.c) share. */
#ifndef DEPOT_BLOB_S3_SIGN_H
#define DEPOT_BLOB_S3_SIGN_H

#include <curl/curl.h>

/* The provider string of CURLOPT_AWS_SIGV4 for region: "aws:amz:<region>:s3" into out[cap]. */
void s3_sign_provider(const char *region, char *out, size_t cap);

/* Signs every request of h with provider (s3_sign_provider) and the keys, which h borrows until
 * it is reset, and appends to *headers the payload-hash header the signature covers: curl 7.88
 * signs x-amz-content-sha256 when it is set but does not add it itself. The body goes unsigned
 * (UNSIGNED-PAYLOAD); TLS protects it. The caller passes *headers to CURLOPT_HTTPHEADER. */
void s3_sign(CURL *h, const char *provider, const char *access_key, const char *secret_key,
	     struct curl_slist **headers);

#endif
