#!/usr/bin/env bash
# The main job on the built-in default: build, make a small random ViT
# (ViT-Ti/16 shape, 10 classes, 2 shard files), score synthetic images and
# show the first rows of the scores file. A trained default model replaces
# the random one in a later release.
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
"$BUILD_DIR/vitrun" --model "$MODEL" --synthetic "${IMAGES:-256}" --batch 8 --threads "$(nproc)" \
                    --topk 3 --output "$OUT/scores.csv"
echo "first rows of $OUT/scores.csv:"
head -n 4 "$OUT/scores.csv" | cut -c1-120
