#!/usr/bin/env bash
# Performance benchmark: vitrun (one rank, pp, tp) side by side with ONNX
# Runtime and tuned PyTorch on ViT-B/16, alternating rounds; prints medians,
# min/max and ratios, writes CSVs to out/bench. Arguments go to bench/bench.py
# (--rounds, --threads, --batches, --engines, ...). See docs/PERFORMANCE.md.
# int8 against ORT's and PyTorch's dynamic quantization (issue 19):
#   scripts/bench.sh --engines vitrun,vitrun-int8,vitrun-int8-pp,vitrun-int8-tp,ort-int8,torch-int8
set -euo pipefail
source "$(dirname "$0")/common.sh"
vitrun_build >/dev/null
if ! command -v npm >/dev/null; then
  echo "bench.sh: ONNX Runtime runs under Node.js: install npm (apt-get install npm)" >&2
  exit 2
fi
exec "$PYTHON" "$VITRUN_ROOT/bench/bench.py" "$@"
