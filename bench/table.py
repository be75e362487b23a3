#!/usr/bin/python3
"""Turns engine_bench JSON output into the Markdown tables of docs/benchmarks.md.

Usage:
  ./build/bench/engine_bench --benchmark_repetitions=3 \\
      --benchmark_report_aggregates_only=true \\
      --benchmark_out=ifma.json --benchmark_out_format=json
  /usr/bin/python3 bench/table.py ifma.json [portable.json ...]

One table per input file: a row per op, a column per parameter set
(logN/L/dnum), each cell the median wall time of the repetitions. Hoisted
rotations and BSGS giant steps (bsgs_single, bsgs_double) also show the cost
of each rotation after the first, and its share of a rotation.

  /usr/bin/python3 bench/table.py --compare [--cpu] portable.json avx2.json ifma.json

One table per parameter set instead: a row per op, a column per input file
(its kernel and thread count), and the ratio of the first file's time to
each other's (the speed-up over the first).
--cpu uses the CPU time of the benchmark thread instead of wall time (for a
machine that other processes keep busy; not meaningful with threads > 1).
"""

import json
import re
import sys


def fmt(ns):
    if ns < 1e3:
        return f"{ns:.0f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.1f} µs"
    if ns < 1e9:
        return f"{ns / 1e6:.2f} ms"
    return f"{ns / 1e9:.2f} s"


UNIT = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}


def table(path):
    rows, cols, cells, label = load(path, "real_time")
    kernel, threads = label.split(", ")
    threads = threads.split()[0]
    print(f"\n{path}: kernel {kernel}, threads {threads} "
          f"(median of the repetitions, wall time)\n")
    print("| op | " + " | ".join(c.replace("/", " ") for c in cols) + " |")
    print("|---|" + "---|" * len(cols))
    for op in rows:
        line = []
        for c in cols:
            t = cells.get((op, c))
            if t is None:
                line.append("—")
                continue
            text = fmt(t)
            k = re.match(r"(rotate_hoisted|bsgs_single|bsgs_double)/k:(\d+)", op)
            one = cells.get((f"{k.group(1)}/k:1", c)) if k else None
            if k and int(k.group(2)) > 1 and one is not None:
                extra = (t - one) / (int(k.group(2)) - 1)
                text += f" (+{fmt(extra)} each after the first"
                rotate = cells.get(("rotate", c))
                if rotate:
                    text += f", {100 * extra / rotate:.0f} % of a rotation"
                text += ")"
            line.append(text)
        print(f"| {op} | " + " | ".join(line) + " |")


def load(path, key):
    data = json.load(open(path))
    cells, rows, cols = {}, [], []
    kernel = threads = None
    for b in data["benchmarks"]:
        if b.get("aggregate_name", "median") != "median" or b.get("error_occurred"):
            continue
        m = re.match(r"(.+?)/(logN:\d+/L:\d+/dnum:\d+)/threads:(\d+)/(\w+)", b["name"])
        if not m:
            continue
        op, col, threads, kernel = m.group(1), m.group(2), m.group(3), m.group(4)
        if op not in rows:
            rows.append(op)
        if col not in cols:
            cols.append(col)
        cells[(op, col)] = b[key] * UNIT[b["time_unit"]]
    return rows, cols, cells, f"{kernel}, {threads} thr"


def compare(paths, key):
    runs = [load(p, key) for p in paths]
    rows, cols = runs[0][0], runs[0][1]
    what = "CPU time" if key == "cpu_time" else "wall time"
    for col in cols:
        print(f"\n{col.replace('/', ' ')} (median of the repetitions, {what})\n")
        heads = [r[3] for r in runs]
        ratios = [f"{heads[0].split(',')[0]} / {h.split(',')[0]}" for h in heads[1:]]
        print("| op | " + " | ".join(heads + ratios) + " |")
        print("|---|" + "---|" * (2 * len(runs) - 1))
        for op in rows:
            vals = [r[2].get((op, col)) for r in runs]
            line = [fmt(v) if v is not None else "—" for v in vals]
            for v in vals[1:]:
                line.append(f"{vals[0] / v:.2f}x" if vals[0] and v else "—")
            print(f"| {op} | " + " | ".join(line) + " |")


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    if args[0] == "--compare":
        args = args[1:]
        key = "real_time"
        if args and args[0] == "--cpu":
            key, args = "cpu_time", args[1:]
        compare(args, key)
        return
    for path in args:
        table(path)


if __name__ == "__main__":
    main()
