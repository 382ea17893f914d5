# Sourced by the top-level scripts: repository root, Python, and a configured build.
VITRUN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$VITRUN_ROOT/build}
# The python3 first on PATH may not see Debian's python3-* packages.
PYTHON=${PYTHON:-/usr/bin/python3}
export PYTHON
# Open MPI refuses root without these; CI and containers run as root.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

vitrun_build() {
  "$VITRUN_ROOT/scripts/install_deps.sh"
  cmake -S "$VITRUN_ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release \
        -DVITRUN_PYTHON="$PYTHON" >/dev/null
  cmake --build "$BUILD_DIR" -j"$(nproc)"
}
