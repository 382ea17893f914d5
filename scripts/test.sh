#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine: install what is missing
# (as root), configure, build, run every test. Extra arguments go to ctest.
set -euo pipefail
source "$(dirname "$0")/common.sh"
vitrun_build
cd "$BUILD_DIR"
ctest --output-on-failure --timeout 900 "$@"
