#!/usr/bin/env bash
# Sets up a fresh Debian machine, builds Blindfold and runs the main job:
# encrypted inference with a real model, the way a client and a server use it.
#   1. compile models/cnn into a plan (parameters, packing, levels, key set)
#   2. client: keys, encrypt one test image
#   3. server: run the plan on the ciphertext (no secret key)
#   4. client: decrypt, print the class
#   5. the whole flow over EVAL_IMAGES test images (default 200) with a
#      progress bar and the summary (agreement, accuracy, latency, bytes)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

JOBS=${JOBS:-$(nproc)}
EVAL_IMAGES=${EVAL_IMAGES:-200}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$JOBS"

B=./build/tools/blindfold
work=$(mktemp -d "${TMPDIR:-/tmp}/blindfold-run.XXXXXX")
trap 'rm -rf "$work"' EXIT
step() { printf '\n== %s\n+ %s\n' "$1" "${*:2}"; "${@:2}"; }

step "compile (model owner, offline)" $B compile models/cnn/cnn.onnx -o "$work/cnn.plan"
step "keygen (client)" $B keygen "$work/cnn.plan" --secret-key "$work/sk.bin" --eval-keys "$work/cnn.evk"
step "encrypt test image 17 (client)" $B encrypt "$work/cnn.plan" --secret-key "$work/sk.bin" --image 17 -o "$work/in.ct"
step "run (server: plan + evaluation keys + ciphertext, no secret key)" $B run "$work/cnn.plan" --eval-keys "$work/cnn.evk" "$work/in.ct" -o "$work/out.ct"
step "decrypt (client)" $B decrypt "$work/cnn.plan" --secret-key "$work/sk.bin" "$work/out.ct"
step "eval-enc: the whole flow on $EVAL_IMAGES test images" $B eval-enc "$work/cnn.plan" --images "$EVAL_IMAGES"
