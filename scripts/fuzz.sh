#!/usr/bin/env bash
# fuzz.sh TARGET|all SECONDS [libFuzzer args...] - runs the libFuzzer targets
# of tests/fuzz (docs/FUZZING.md).
#
# Configures and builds build-fuzz (clang, -DVITRUN_FUZZ=ON) when needed, then
# runs TARGET (fuzz_jpeg or just jpeg; `all`: every target, one after the
# other) for SECONDS. The committed seeds (tests/fuzz/corpus/TARGET) are read,
# never written: new inputs go to build-fuzz/corpus/TARGET, crashes, leaks and
# timeouts to build-fuzz/findings/TARGET, the log to build-fuzz/logs/TARGET.log.
# Prints executions, coverage (cov/ft, libFuzzer's) and findings per target
# (and apart, inputs that killed a child process the target forked, or took
# over 10 s); exits 1 if a target crashed. FUZZ_BUILD_DIR, JOBS (2) and CC (clang) change
# the build.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
TARGETS=(fuzz_jpeg fuzz_image fuzz_model fuzz_journal fuzz_input_h5 fuzz_listing fuzz_labels fuzz_cli
         fuzz_heads fuzz_tar fuzz_pattern fuzz_claims)

usage() {
  echo "usage: $0 TARGET|all SECONDS [libFuzzer args...]" >&2
  echo "targets: ${TARGETS[*]}" >&2
  exit 2
}
[ $# -ge 2 ] || usage
what=$1 seconds=$2
shift 2
[[ $seconds =~ ^[0-9]+$ ]] || usage
if [ "$what" = all ]; then
  run=("${TARGETS[@]}")
else
  [[ $what == fuzz_* ]] || what=fuzz_$what
  [[ " ${TARGETS[*]} " == *" $what "* ]] || usage
  run=("$what")
fi

if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  CC=${CC:-clang} cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DVITRUN_FUZZ=ON -DVITRUN_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$BUILD" -j"${JOBS:-2}" --target "${run[@]}" >/dev/null

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
status=0
for t in "${run[@]}"; do
  corpus=$BUILD/corpus/$t findings=$BUILD/findings/$t log=$BUILD/logs/$t.log
  mkdir -p "$corpus" "$findings" "$BUILD/logs"
  # crashes, leaks, timeouts and out-of-memory; slow-unit-* files are inputs
  # slower than 10 s, listed apart
  count() { find "$findings" -type f ! -name 'slow-unit-*' | wc -l; }
  before=$(count) slow_before=$(find "$findings" -name 'slow-unit-*' | wc -l)
  # the working corpus first: libFuzzer writes new inputs into the first folder
  rc=0
  "$BUILD/tests/fuzz/$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
    -close_fd_mask=2 -print_final_stats=1 -artifact_prefix="$findings/" "$@" \
    "$corpus" "$ROOT/tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  covline=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
  cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$covline")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$covline")
  # A crash, leak or timeout of the target ends the run (exit != 0). Any other
  # file is from a child process forked by the code under test (io/h5util.c
  # reads HDF5 strings in one) that inherited libFuzzer's out-of-memory hook:
  # the target handled the child's death and went on.
  new=$(( $(count) - before ))
  own=$(( rc != 0 && new > 0 ? 1 : 0 ))
  child=$(( new - own ))
  slow=$(( $(find "$findings" -name 'slow-unit-*' | wc -l) - slow_before ))
  notes=""
  [ "$child" -gt 0 ] && notes+=", $child input(s) killed a forked child"
  [ "$slow" -gt 0 ] && notes+=", $slow input(s) over 10 s"
  printf '%-14s %9s executions in %ss  cov %-5s ft %-5s corpus %4s files  %d finding(s)%s\n' \
    "$t" "${execs:-?}" "$seconds" "${cov:-?}" "${ft:-?}" "$(find "$corpus" -type f | wc -l)" \
    "$own" "$notes"
  if [ "$rc" -ne 0 ]; then
    status=1
    echo "  $t CRASHED (exit $rc); the input is in $findings, the report in $log:" >&2
    grep -E 'ERROR|SUMMARY|invariant|Test unit written' "$log" | head -8 | sed 's/^/    /' >&2
  fi
done
exit $status
