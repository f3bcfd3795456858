# depot — `make` builds build/depotd and build/depot; `make run` and `make test` first install
# what is missing (Debian packages) via scripts/deps.sh.

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral -Wvla -fno-common
# libpq's header lives in its own folder; ask pkg-config, with Debian's paths as a fallback.
PQ_CFLAGS := $(shell pkg-config --cflags libpq 2>/dev/null || echo -I/usr/include/postgresql)
PQ_LIBS   := $(shell pkg-config --libs libpq 2>/dev/null || echo -lpq)
INC     := -Isrc $(PQ_CFLAGS)
LIBS    := -lmicrohttpd -ljansson -ljwt -lcrypto -lmagic -luuid -lcurl -lsqlite3 $(PQ_LIBS) \
           -lpthread

BUILD   ?= build
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

LIB_SRC := $(wildcard src/core/*.c src/config/*.c src/http/*.c src/api/*.c src/auth/*.c \
             src/json/*.c src/meta/*.c src/blob/*.c src/fetch/*.c src/store/*.c)
DEPOTD_SRC := src/main.c $(LIB_SRC)
DEPOT_SRC  := src/cli/depot.c src/auth/auth.c src/core/xalloc.c src/core/err.c

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))

# Fuzzing: one libFuzzer target per parser (tests/fuzz/fuzz_*.c), built with clang into
# build/fuzz/ for `make fuzz`; the same targets linked with a replay main and gcc's ASan+UBSan
# into build/fuzz-replay/, which `make test` runs over the committed corpora.
FUZZ_CC      ?= clang-14
FUZZ_SECONDS ?= 600
FUZZ_SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN     := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
REPLAY_BIN   := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz-replay/%,$(FUZZ_SRC))

.PHONY: all deps run test test-unit test-http test-asan test-crash soak clean style check-config \
	bench bench-quick fuzz fuzz-build
all: $(BUILD)/depotd $(BUILD)/depot

V ?= 0
Q := $(if $(filter 1,$(V)),,@)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) $(WARN) $(INC) -MMD -MP -c $< -o $@

$(BUILD)/asan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC asan $<")
	$(Q)$(CC) -O1 -g $(SAN) $(WARN) $(INC) -MMD -MP -c $< -o $@

# The OpenAPI document is linked in with .incbin: rebuild its object when it changes.
$(BUILD)/obj/src/api/openapi_embed.o $(BUILD)/asan/obj/src/api/openapi_embed.o: openapi/openapi.json

$(BUILD)/depotd: $(patsubst %.c,$(BUILD)/obj/%.o,$(DEPOTD_SRC))
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/depot: $(patsubst %.c,$(BUILD)/obj/%.o,$(DEPOT_SRC))
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/asan/depotd: $(patsubst %.c,$(BUILD)/asan/obj/%.o,$(DEPOTD_SRC))
	@$(if $(Q),echo "  LD asan $@")
	$(Q)$(CC) $(SAN) -o $@ $^ $(LIBS)

$(BUILD)/unit/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(patsubst %.c,$(BUILD)/asan/obj/%.o,$(LIB_SRC))
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD unit $@")
	$(Q)$(CC) -O1 -g $(SAN) $(WARN) $(INC) -o $@ $(filter-out %.h,$^) $(LIBS) -lcmocka \
		$(UNIT_LDFLAGS)

# The fault-injection test wraps the blob store's system calls, libpq's sends, and the store's
# calls of meta_lock_keys and blob_place_repeatable.
$(BUILD)/unit/test_faults: UNIT_LDFLAGS := -Wl,--wrap=write,--wrap=fdatasync,--wrap=fsync,--wrap=renameat \
	-Wl,--wrap=PQsendQuery,--wrap=PQsendPrepare,--wrap=PQsendQueryPrepared,--wrap=PQsendQueryParams \
	-Wl,--wrap=meta_lock_keys,--wrap=blob_place_repeatable

$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC fuzz $<")
	$(Q)$(FUZZ_CC) -O1 -g -fsanitize=fuzzer-no-link $(FUZZ_SAN) $(WARN) $(INC) -MMD -MP -c $< -o $@

$(BUILD)/fuzz/fuzz_%: $(BUILD)/fuzz/obj/tests/fuzz/fuzz_%.o \
		$(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(LIB_SRC))
	@$(if $(Q),echo "  LD fuzz $@")
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(LIBS)

$(BUILD)/fuzz-replay/fuzz_%: $(BUILD)/asan/obj/tests/fuzz/fuzz_%.o \
		$(BUILD)/asan/obj/tests/fuzz/replay.o $(patsubst %.c,$(BUILD)/asan/obj/%.o,$(LIB_SRC))
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD replay $@")
	$(Q)$(CC) $(SAN) -o $@ $^ $(LIBS)

# Objects made through pattern chains (the fuzz targets') are kept, not deleted as intermediate.
.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

deps:
	@scripts/deps.sh

# Starts depotd on the embedded default (SQLite + local files under DEPOT_DATA, ./var).
run: deps all
	@scripts/run.sh

test: deps
	@$(MAKE) --no-print-directory all $(BUILD)/asan/depotd $(UNIT_BIN) $(REPLAY_BIN)
	@scripts/test.sh

# `make fuzz` runs every target for FUZZ_SECONDS (FUZZ_TARGETS="a b" picks some) with its
# corpus and dictionary; scripts/fuzz.sh says what each found.
fuzz-build:
	@scripts/deps.sh fuzz
	@$(MAKE) --no-print-directory $(FUZZ_BIN)

fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) BUILD=$(BUILD) scripts/fuzz.sh $(FUZZ_TARGETS)

# kill -9 at random instants under load, restart, verify every acknowledged write (RELIABILITY.md).
# CRASH_STORES=postgres+s3 runs it against a throwaway PostgreSQL and s3rver.
CRASH_CYCLES ?= 200
CRASH_STORES ?= local
test-crash: deps all
	scripts/with-stores.sh $(CRASH_STORES) \
		/usr/bin/python3 tests/crash/crashcheck.py --cycles $(CRASH_CYCLES)

# A mixed workload for SOAK_SECONDS, sampling RSS and descriptors (RELIABILITY.md).
SOAK_SECONDS ?= 600
SOAK_STORES ?= local
soak: deps all
	scripts/with-stores.sh $(SOAK_STORES) \
		/usr/bin/python3 tests/soak/soak.py --seconds $(SOAK_SECONDS)

# Benchmarks against nginx and the disk, in the same run (never part of make test).
bench: all
	/usr/bin/python3 scripts/bench.py

bench-quick: all
	/usr/bin/python3 scripts/bench.py --quick

check-config: all
	@DEPOT_JWT_SECRET=$${DEPOT_JWT_SECRET:-development-secret-change-me} $(BUILD)/depotd --check-config

style:
	@scripts/style.sh

clean:
	rm -rf $(BUILD)
