#!/bin/sh
# run_inputs.sh FUZZ_TARGET DIR... - runs a libFuzzer target once on every
# file in the folders (its seed corpus and its regression inputs); fails if
# any input makes it crash, leak or time out. Dot files (.gitkeep) are skipped.
set -eu
bin=$1
shift
n=$(find "$@" -type f ! -name '.*' 2>/dev/null | wc -l)
echo "$(basename "$bin"): $n input(s) from $*"
[ "$n" -eq 0 ] && exit 0
# libFuzzer runs file arguments once each (a folder would start fuzzing)
find "$@" -type f ! -name '.*' -print0 2>/dev/null | sort -z |
    xargs -0 "$bin" -timeout=60 -rss_limit_mb=2048
