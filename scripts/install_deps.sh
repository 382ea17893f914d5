#!/usr/bin/env bash
# Installs the Debian 12 packages vitrun builds and tests with, if any is missing.
# As root it runs apt-get; otherwise it prints the command to run and fails.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libopenmpi-dev openmpi-bin
  libopenblas-dev libhdf5-dev libturbojpeg0-dev
  libspng-dev libwebp-dev zlib1g-dev   # PNG and WebP inputs (io/png.c, io/webp.c)
  libarchive-dev   # webdataset tar shards (io/tarshard.c)
  libdnnl-dev   # oneDNN: packed float32 and bfloat16 GEMMs (optional at build time)
  python3 python3-numpy python3-h5py
  python3-torch python3-torchvision
  python3-pil python-matplotlib-data python3-sklearn   # photographs for the JPEG tests
  dataset-fashion-mnist python3-matplotlib   # the default model's data; scaling plots
  slurmctld slurmd slurm-client munge   # the real-Slurm tests (daemons started by hand)
  iproute2   # network namespaces: the several-hosts test
  clang libclang-rt-14-dev   # ASan+UBSan build and libFuzzer targets (test sanitize)
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "vitrun: missing Debian packages: ${missing[*]}" >&2
  echo "        install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "vitrun: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
