#!/usr/bin/env bash
# Encrypted vs plaintext on the whole Fashion-MNIST test set for every
# shipped model: throughput mode (batches of N/2 images) over all 10,000
# images, latency mode over LATENCY_IMAGES (default 1000); the breast-cancer
# models (bc-*) over their whole 142-patient test split in both modes. Writes
# one JSON line per run to docs/results/eval_all.jsonl and prints them.
# cnn-deep takes the longest: ~7 minutes for its 10,000 (12 GB of RAM) and
# ~17 for 1,000 in latency mode on a 2-vCPU machine.
#   bash scripts/eval_all.sh [model ...]     (after building: scripts/test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
B=./build/tools/blindfold
[ -x "$B" ] || { echo "eval_all.sh: build first (cmake --build build)" >&2; exit 1; }
LATENCY_IMAGES=${LATENCY_IMAGES:-1000}
THROUGHPUT_IMAGES=${THROUGHPUT_IMAGES:-10000}
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(logreg mlp cnn-small cnn mlp-relu cnn-deep bc-logreg bc-mlp)
mkdir -p docs/results
out=docs/results/eval_all.jsonl
work=$(mktemp -d "${TMPDIR:-/tmp}/blindfold-eval.XXXXXX")
trap 'rm -rf "$work"' EXIT
for m in "${models[@]}"; do
  for mode in throughput latency; do
    n=$THROUGHPUT_IMAGES
    [ "$mode" = latency ] && n=$LATENCY_IMAGES
    [ "$n" -gt 0 ] || continue
    count=(--images "$n")
    case "$m" in bc-*) count=() ;; esac  # the whole test split
    $B compile "models/$m/$m.onnx" -o "$work/$m-$mode.plan" --mode "$mode" >&2
    line=$($B eval-enc "$work/$m-$mode.plan" "${count[@]}" --json)
    echo "$line" | tee -a "$out"
  done
done
