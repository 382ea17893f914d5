#!/usr/bin/env bash
# The main job on the built-in default: installs what is missing, builds,
# writes the 10,000 Fashion-MNIST test images (Debian's dataset-fashion-mnist)
# as JPEG files, and scores them with the committed default model
# (models/fashion-vit.h5, made by scripts/train_default.py) under mpirun on
# 4 ranks: a 2-stage pipeline whose stages are 2 tensor-parallel ranks each.
# vitrun prints the top-1/top-5 accuracy against the dataset's labels, the
# throughput and where the scores are.
#
# Settings (environment): OUT (default out/), RANKS/PP/TP (4/2/2), BATCH (64),
# THREADS (BLAS threads per rank, 1), COUNT (images, 10000).
set -euo pipefail
source "$(dirname "$0")/common.sh"
vitrun_build >/dev/null
OUT=${OUT:-$VITRUN_ROOT/out}
PP=${PP:-2} TP=${TP:-2}
RANKS=${RANKS:-$((PP * TP))}
COUNT=${COUNT:-10000}
MODEL=$VITRUN_ROOT/models/fashion-vit.h5
DATA=$OUT/fashion-mnist-test-$COUNT
mkdir -p "$OUT"
if [ ! -f "$DATA/labels.txt" ]; then
  "$PYTHON" "$VITRUN_ROOT/scripts/fashion_mnist.py" "$DATA" --count "$COUNT"
fi
SCORES=$OUT/fashion-scores.csv
# a finished earlier demo leaves its scores: start this one afresh
rm -f "$SCORES" "$SCORES.part" "$SCORES.journal" "$SCORES.inputs"
echo "scoring $COUNT JPEG files in $DATA/images on $RANKS ranks (pp $PP x tp $TP)"
# yield_when_idle: with more ranks than cores, a rank waiting for a message
# gives its core away instead of spinning (10x faster on 2 cores)
mpirun -np "$RANKS" --oversubscribe --mca btl_vader_single_copy_mechanism none \
  --mca mpi_yield_when_idle 1 \
  "$BUILD_DIR/vitrun" --model "$MODEL" --input "$DATA/images" --labels "$DATA/labels.txt" \
                      --pp "$PP" --tp "$TP" --batch "${BATCH:-64}" --threads "${THREADS:-1}" \
                      --topk 5 --output "$SCORES" --report "$OUT/fashion-report.json"
echo "per-rank timing: $OUT/fashion-report.json"
echo "scores: $SCORES; its first rows:"
head -n 4 "$SCORES" | cut -d, -f1-6
