#!/usr/bin/env bash
# The main job on the built-in default: build, make a small random ViT
# (ViT-Ti/16 shape, 10 classes, 2 shard files), score synthetic images with
# mpirun on a 2-stage pipeline (RANKS=1 for one process), and show the first
# rows of the scores file. A trained default model replaces the random one in
# a later release.
set -euo pipefail
source "$(dirname "$0")/common.sh"
vitrun_build >/dev/null
OUT=${OUT:-$VITRUN_ROOT/out}
mkdir -p "$OUT"
MODEL=$OUT/default-vit-ti16.h5
if [ ! -f "$MODEL" ]; then
  "$PYTHON" "$VITRUN_ROOT/scripts/make_model.py" --preset vit-ti16 --classes 10 --labels \
            --shards 2 --seed 0 "$MODEL"
fi
RANKS=${RANKS:-2}
mpirun -np "$RANKS" --oversubscribe --mca btl_vader_single_copy_mechanism none \
  "$BUILD_DIR/vitrun" --model "$MODEL" --synthetic "${IMAGES:-256}" --batch 8 --threads 1 \
                      --pp "$RANKS" --topk 3 --output "$OUT/scores.csv" --report "$OUT/report.json"
echo "timing per rank: $OUT/report.json; first rows of $OUT/scores.csv:"
head -n 4 "$OUT/scores.csv" | cut -c1-120
