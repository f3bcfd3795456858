/* SigV4 signing on libcurl (CURLOPT_AWS_SIGV4): the keys never leave this call's arguments and
 * curl's handle, and appear in no message. */
#include "blob/s3_sign.h"

#include <stdio.h>

void s3_sign_provider(const char *region, char *out, size_t cap)
{
	snprintf(out, cap, "aws:amz:%s:s3", region);
}

void s3_sign(CURL *h, const char *provider, const char *access_key, const char *secret_key,
	     struct curl_slist **headers)
{
	*headers = curl_slist_append(*headers, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
	curl_easy_setopt(h, CURLOPT_AWS_SIGV4, provider);
	curl_easy_setopt(h, CURLOPT_USERNAME, access_key);
	curl_easy_setopt(h, CURLOPT_PASSWORD, secret_key);
}
