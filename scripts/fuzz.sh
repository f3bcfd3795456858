#!/usr/bin/env bash
# `make fuzz`: runs each libFuzzer target build/fuzz/fuzz_<name> for FUZZ_SECONDS (default 600)
# on its committed corpus tests/fuzz/corpus/<name> with its dictionary tests/fuzz/<name>.dict,
# one target at a time, niced. New inputs go to build/fuzz/corpus/<name>, crashes to
# build/fuzz/artifacts/<name>/, the log to build/fuzz/<name>.log. FUZZ_MERGE=1 then adds the new
# inputs that bring new coverage to the committed corpus. Arguments pick targets (default: all).
# Prints one line per target (seconds, executions, cov/ft from libFuzzer's final line, crashes)
# and exits non-zero when any target found a crash, hang or leak.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SECS=${FUZZ_SECONDS:-600}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do
		t=${f#tests/fuzz/fuzz_}
		targets+=("${t%.c}")
	done
fi
bad=0
printf '%-12s %8s %12s %6s %7s %s\n' target seconds executions cov ft crashes
for t in "${targets[@]}"; do
	bin=$BUILD/fuzz/fuzz_$t
	work=$BUILD/fuzz/corpus/$t
	art=$BUILD/fuzz/artifacts/$t
	log=$BUILD/fuzz/$t.log
	mkdir -p "$work" "$art"
	opts=(-max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
	      -artifact_prefix="$art/")
	[ -f "tests/fuzz/$t.dict" ] && opts+=(-dict="tests/fuzz/$t.dict")
	case $t in
	create_json | dataurl | import) opts+=(-max_len=20000) ;; # past the 8 KiB buffers
	*) opts+=(-max_len=4096) ;;
	esac
	start=$(date +%s)
	nice -n 10 "$bin" "${opts[@]}" "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1
	secs=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	last=$(grep -E '^#[0-9]+[[:space:]].*cov: ' "$log" | tail -1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	crashes=$(find "$art" -type f | wc -l)
	printf '%-12s %8s %12s %6s %7s %s\n' "$t" "$secs" "${execs:-?}" "${cov:-?}" "${ft:-?}" \
		"$crashes"
	if [ "$crashes" -ne 0 ]; then
		bad=1
		grep -m3 -E 'ERROR|invariant failed|runtime error' "$log" | sed 's/^/    /'
		find "$art" -type f | sed 's/^/    input: /'
	fi
	if [ "${FUZZ_MERGE:-0}" = 1 ]; then
		nice -n 10 "$bin" -merge=1 "tests/fuzz/corpus/$t" "$work" >>"$log" 2>&1
		echo "    corpus: $(find "tests/fuzz/corpus/$t" -type f | wc -l) files"
	fi
done
exit $bad
