#!/usr/bin/env bash
# `make test`: the C unit tests (built with ASan+UBSan), every fuzz corpus replayed through its
# target (ASan+UBSan, one count per target), the black-box suite against the release build and
# again against the ASan+UBSan build, then the kill -9 checker and a short soak. Ends with one
# line "N passed, N failed" that CI reads.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PY=/usr/bin/python3
passed=0
failed=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

echo "== unit tests (ASan+UBSan)"
for t in "$BUILD"/unit/test_*; do
	[ -x "$t" ] || continue
	out="$log/$(basename "$t").out"
	timeout 120 "$t" >"$out" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
	p=${p:-0}
	f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p))
	failed=$((failed + f))
	printf '%-40s %s passed, %s failed\n' "$(basename "$t")" "$p" "$f"
	[ "$f" -ne 0 ] && cat "$out"
done

run_check() { # label, command...: one more test, passed when the command exits 0
	local label=$1
	shift
	echo "== $label"
	local out="$log/check-$(echo "$label" | tr -c 'a-z0-9' '_').out"
	if "$@" >"$out" 2>&1; then
		passed=$((passed + 1))
		tail -3 "$out"
	else
		failed=$((failed + 1))
		tail -40 "$out"
	fi
}

for t in "$BUILD"/fuzz-replay/fuzz_*; do
	[ -x "$t" ] || continue
	run_check "fuzz corpus ${t##*/fuzz_} replayed (ASan+UBSan)" \
		timeout 60 "$t" "tests/fuzz/corpus/${t##*/fuzz_}"
done

run_pytest() { # label, binary
	echo "== black-box suite: $1"
	local out="$log/pytest-$1.out"
	DEPOTD="$2" timeout 900 "$PY" -m pytest -q -p no:cacheprovider tests/http 2>&1 | tee "$out" | tail -40
	local line
	line=$(grep -E '^(=+ )?[0-9]+ (passed|failed|errors?|skipped).* in [0-9.]+s' "$out" | tail -1)
	local p f e
	p=$(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')
	f=$(echo "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')
	e=$(echo "$line" | grep -oE '[0-9]+ error' | grep -oE '[0-9]+')
	p=${p:-0}
	f=$(( ${f:-0} + ${e:-0} ))
	if [ -z "$line" ]; then f=$((f + 1)); fi
	passed=$((passed + p))
	failed=$((failed + f))
}

run_pytest release "$BUILD/depotd"
run_pytest asan "$BUILD/asan/depotd"
run_check "kill -9 checker, 20 cycles (release)" env DEPOTD="$BUILD/depotd" \
	timeout 300 "$PY" tests/crash/crashcheck.py --cycles 20
run_check "soak, 20 s (ASan+UBSan)" env DEPOTD="$BUILD/asan/depotd" \
	timeout 300 "$PY" tests/soak/soak.py --seconds 20 --warmup 8 --max-growth-mb 64

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
