#!/usr/bin/env bash
# The paper's table (docs/results/paper_table.md) from a clean checkout, in one command:
# installs the dependencies, builds `blindfold`, runs `blindfold bench` over
# every shipped model (baseline, optimized, each optimization off alone;
# threads 1 and 2) and writes docs/results/paper_table.json, paper_table.md
# and the plots paper_speedup.png, paper_memory.png, paper_ablations.png.
# About 30 minutes on two cores; run it when nothing else loads the machine.
#   PAPER_ARGS  extra bench flags, e.g. "--models cnn --images 50"
#   PAPER_SLOW  1: also measure, in a second run, the one configuration the
#               table skips for time (cnn-deep's baseline: one image, two
#               threads, 10-20 more minutes), into paper_table_slow.json
#   OUT         output directory (default docs/results)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

JOBS=${JOBS:-$(nproc)}
OUT=${OUT:-docs/results}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$JOBS" --target blindfold
mkdir -p "$OUT"

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain 2>/dev/null | grep -qv '^??' && echo "+changes" || true)
# bench NAME COMMAND...: runs a bench into $OUT/NAME.json with the command
# and the commit recorded beside the measurements.
bench() {
  local name=$1; shift
  echo "paper_table.sh: $* (kernel path: ${BLINDFOLD_KERNEL:-the best the CPU has})"
  "$@" > "$OUT/$name.json.partial"
  /usr/bin/python3 - "$OUT/$name.json.partial" "$OUT/$name.json" "$*" "$commit$dirty" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
data["command"] = sys.argv[3]
data["commit"] = sys.argv[4]
json.dump(data, open(sys.argv[2], "w"), indent=1)
PY
  rm -f "$OUT/$name.json.partial"
}

B=./build/tools/blindfold
# shellcheck disable=SC2086
bench paper_table $B bench --json ${PAPER_ARGS:-}
extra=()
if [ "${PAPER_SLOW:-0}" = 1 ]; then
  bench paper_table_slow $B bench --json --models cnn-deep --configs baseline \
    --threads 2 --images 1 --max-predicted-s 100000
  extra=(--extra "$OUT/paper_table_slow.json")
fi
/usr/bin/python3 scripts/paper_table.py "$OUT/paper_table.json" "${extra[@]}" \
  --md "$OUT/paper_table.md" --plots "$OUT"
echo "paper_table.sh: wrote $OUT/paper_table.json, $OUT/paper_table.md and plots"
