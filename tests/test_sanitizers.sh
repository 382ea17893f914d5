#!/usr/bin/env bash
# test_sanitizers.sh SOURCE_DIR BUILD_DIR PYTHON - the `sanitize` test
# (docs/FUZZING.md): vitrun under AddressSanitizer and UBSan, and its fuzz
# targets.
#   a) builds BUILD_DIR with clang, -DVITRUN_SANITIZE=ON -DVITRUN_FUZZ=ON;
#   b) runs there the unit tests and the single-process Python tests;
#   c) runs every seed and regression input once through its fuzz target;
#   d) fuzzes each target for FUZZ_SECONDS (30) from its committed corpus.
# Fails if anything fails: a test, a sanitizer report, a fuzz finding.
# Exits 77 (skipped) only when clang or libFuzzer is not installed
# (scripts/install_deps.sh installs them: clang libclang-rt-14-dev).
set -euo pipefail
src=$1 build=$2 python=$3
seconds=${FUZZ_SECONDS:-30}
jobs=${JOBS:-2}
t0=$SECONDS
step() { echo "== $(( SECONDS - t0 )) s: $*"; }

mkdir -p "$build"
# LLVM's OpenMP runtime (clang builds) registers each process in /dev/shm; a
# process killed by a test leaves its file: removed at the end if its
# process is gone
shm_before=$(ls /dev/shm 2>/dev/null | grep '^__KMP_REGISTERED_LIB_' || true)
cleanup_shm() {
  for f in $(ls /dev/shm 2>/dev/null | grep '^__KMP_REGISTERED_LIB_[0-9]*_0$'); do
    grep -qx "$f" <<<"$shm_before" && continue
    pid=${f#__KMP_REGISTERED_LIB_}
    kill -0 "${pid%_0}" 2>/dev/null || rm -f "/dev/shm/$f"
  done
}
trap cleanup_shm EXIT
if ! command -v clang >/dev/null; then
  echo "SKIP: no clang (install clang libclang-rt-14-dev)"
  exit 77
fi
probe=$build/libfuzzer-probe
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return 0; }\n' \
  >"$probe.c"
if ! clang -fsanitize=fuzzer,address,undefined "$probe.c" -o "$probe" 2>"$probe.log"; then
  cat "$probe.log"
  echo "SKIP: clang cannot build a libFuzzer target with ASan and UBSan (install libclang-rt-14-dev)"
  exit 77
fi

step "configure and build $build (clang, ASan + UBSan, libFuzzer targets)"
CC=clang cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVITRUN_SANITIZE=ON \
  -DVITRUN_FUZZ=ON -DVITRUN_PYTHON="$python" >"$build/configure.log"
cmake --build "$build" -j"$jobs" >"$build/build.log" 2>&1 || { tail -40 "$build/build.log"; exit 1; }

cd "$build"
export UBSAN_OPTIONS=print_stacktrace=1
status=0
step "unit tests (leaks checked)"
ctest -L unit --output-on-failure || status=1

# The single-process tests drive vitrun from Python. Leaks are not checked
# there: Open MPI's plugins leak at exit and are unloaded before LSan can
# name them (the unit tests and fuzz targets check vitrun's own code). An
# ASan report ends in abort(), so that a child process that libhdf5 crashes
# (io/h5util.c reads some HDF5 strings in one) dies by a signal, as the
# tests expect, even when ASan sees the bad access before the crash. The
# tar-shard tests run their MPI jobs with the sanitized binary too (the
# queue, claims and per-shard writers; dp 2 x pp 2, killed jobs).
step "single-process and shard tests under ASan + UBSan"
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
  ctest --output-on-failure \
  -R '^(reference_.*|torchvision_small|blas_kernels|malformed_models|preprocess_vs_pillow|image_formats|shards|shard_queue|int8)$' ||
  status=1

step "seed and regression inputs, once each"
ctest -L fuzz --output-on-failure || status=1

step "each fuzz target for $seconds s"
for c in "$src"/tests/fuzz/fuzz_*.c; do
  t=$(basename "$c" .c)
  [ "$t" != fuzz_util ] || continue
  work=$build/fuzz-corpus/$t findings=$build/findings/$t
  rm -rf "$work" "$findings"
  mkdir -p "$work" "$findings"
  if "$build/tests/fuzz/$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
      -close_fd_mask=2 -print_final_stats=1 -artifact_prefix="$findings/" \
      "$work" "$src/tests/fuzz/corpus/$t" >"$build/$t.log" 2>&1; then
    echo "$t: $(sed -n 's/^stat::number_of_executed_units: *//p' "$build/$t.log") runs, ok"
    n=$(find "$findings" -type f | wc -l)
    [ "$n" -eq 0 ] || echo "  ($n input(s) killed a child process the target forked: $findings)"
  else
    status=1
    echo "$t: FAILED; input in $findings, report in $build/$t.log:"
    grep -E 'ERROR|SUMMARY|invariant|runtime error|Test unit written' "$build/$t.log" | head -20
  fi
done
step "done (status $status)"
exit $status
