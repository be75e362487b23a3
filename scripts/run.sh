#!/usr/bin/env bash
# Sets up a fresh Debian machine, builds Blindfold and runs the main job:
# the CKKS engine demo (encrypt, compute, decrypt at 128-bit security)
# followed by the engine benchmark summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

JOBS=${JOBS:-$(nproc)}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$JOBS"
./build/examples/1_ckks_basics
./build/bench/engine_bench --summary
