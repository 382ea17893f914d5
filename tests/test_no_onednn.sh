#!/usr/bin/env bash
# A build without oneDNN (what a machine without libdnnl-dev gets): vitrun's
# own pthreads pool instead of OpenMP's team, OpenBLAS for every GEMM. Builds
# it beside the main build, runs the kernel checks (pool, attention, on the
# AVX-512 and the AVX2 paths) and the numpy reference on it.
# Usage: test_no_onednn.sh SOURCE_DIR BUILD_DIR PYTHON
set -euo pipefail
src=$1 build=$2 py=$3
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DVITRUN_ONEDNN=OFF \
      -DVITRUN_PYTHON="$py" >/dev/null
cmake --build "$build" -j"$(nproc)" --target vitrun test_kernels >/dev/null
version=$("$build/vitrun" --version)
echo "$version"
if ! grep -q "oneDNN: none" <<<"$version"; then
  echo "FAIL: the build without oneDNN reports oneDNN" >&2
  exit 1
fi
"$build/tests/test_kernels"
VITRUN_MAX_ISA=avx2 "$build/tests/test_kernels"
for isa in avx512 avx2; do
  VITRUN_MAX_ISA=$isa "$py" "$src/tests/test_reference.py" --vitrun "$build/vitrun" \
    --scripts "$src/scripts" --scheme torchvision --head-dim 16
done
