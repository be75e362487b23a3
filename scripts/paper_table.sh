#!/usr/bin/env bash
# The paper's table (docs/results.md) from a clean checkout, in one command:
# installs the dependencies, builds `blindfold`, runs `blindfold bench` over
# every shipped model (baseline, optimized, each optimization off alone;
# threads 1 and 2) and writes docs/results/paper_table.json, paper_table.md
# and the plots paper_speedup.png, paper_memory.png, paper_ablations.png.
# About 30 minutes on two cores; run it when nothing else loads the machine.
#   PAPER_ARGS  extra bench flags, e.g. "--models cnn --images 50"
#   OUT         output directory (default docs/results)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

JOBS=${JOBS:-$(nproc)}
OUT=${OUT:-docs/results}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$JOBS" --target blindfold
mkdir -p "$OUT"

cmd="./build/tools/blindfold bench --json ${PAPER_ARGS:-}"
echo "paper_table.sh: $cmd (kernel path: ${BLINDFOLD_KERNEL:-the best the CPU has})"
# shellcheck disable=SC2086
$cmd > "$OUT/paper_table.json.partial"
# Record the command and the commit beside the measurements.
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain 2>/dev/null | grep -qv '^??' && echo "+changes" || true)
/usr/bin/python3 - "$OUT/paper_table.json.partial" "$OUT/paper_table.json" "$cmd" "$commit$dirty" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
data["command"] = "bash scripts/paper_table.sh  # runs: " + sys.argv[3]
data["commit"] = sys.argv[4]
json.dump(data, open(sys.argv[2], "w"), indent=1)
PY
rm -f "$OUT/paper_table.json.partial"
/usr/bin/python3 scripts/paper_table.py "$OUT/paper_table.json" \
  --md "$OUT/paper_table.md" --plots "$OUT"
echo "paper_table.sh: wrote $OUT/paper_table.json, $OUT/paper_table.md and plots"
