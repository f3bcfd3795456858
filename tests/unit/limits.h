/* depotd's default input limits (README, Configuration), for the tests of the parsers. */
#ifndef DEPOT_TEST_LIMITS_H
#define DEPOT_TEST_LIMITS_H

#include "api/validate.h"

static const struct limits test_limits = {
	.max_name_bytes = 255,
	.max_path_bytes = 1024,
	.max_tag_bytes = 64,
	.max_tags = 50,
	.max_metadata_bytes = 65536,
	.max_description_bytes = 4096,
	.max_page_size = 100,
	.max_upload_bytes = 100 * 1024 * 1024,
};

#endif
