#!/usr/bin/python3
"""The paper's table from `blindfold bench --json` output: a markdown table
and PNG plots (speed-up and memory per model, ablation bars).

    /usr/bin/python3 scripts/paper_table.py docs/results/paper_table.json \
        --md docs/results/paper_table.md --plots docs/results [--command "..."]

Reads only the JSON; every figure printed is one the bench measured, except
lines marked "estimate", which multiply a plan's exact key-switch count by the
time per key switch the bench measured for the baseline on the same
parameters (the baseline's plans all share them).
"""
import argparse
import json
import math
import os
import sys

CONFIG_ORDER = ["baseline", "optimized", "no-fusion", "no-input-layout",
                "no-level-planning", "no-bsgs", "no-param-selection",
                "no-minimal-keys"]
ABLATIONS = CONFIG_ORDER[2:]


def mb(b):
    return b / (1 << 20)


def fmt_ms(v):
    if v is None:
        return "—"
    if v >= 10000:
        return f"{v / 1000:,.1f} s"
    if v >= 100:
        return f"{v:,.0f} ms"
    return f"{v:.1f} ms"


def fmt_mb(v):
    if v is None:
        return "—"
    if v >= 1024:
        return f"{v / 1024:.2f} GB"
    return f"{v:,.0f} MB"


def fmt_bytes(b):
    return fmt_mb(mb(b)) if b >= (1 << 20) else f"{b / 1024:,.0f} KB"


def measured(row):
    return row is not None and "latency_ms" in row


def p50(row, threads=None):
    if not measured(row):
        return None
    if threads is not None:
        t = row.get("by_threads", {}).get(str(threads))
        return t["latency_ms"]["p50"] if t else None
    return row["latency_ms"]["p50"]


def ms_per_key_switch(models, threads):
    """The baseline's measured server time per key switch (all its plans
    share one parameter set), from the model whose baseline did the most."""
    best = None
    for rows in models.values():
        r = rows.get("baseline")
        t = p50(r, threads)
        if t is None:
            continue
        ks = r["plan"]["key_switches"]
        if best is None or ks > best[1]:
            best = (t / ks, ks)
    return best[0] if best else None


def headline(data):
    lines = ["| model | threads | baseline p50 | optimized p50 | speed-up | "
             "baseline peak RSS | optimized peak RSS | memory saved | "
             "eval keys (baseline / optimized) | agreement baseline | "
             "agreement optimized | max \\|logit error\\| (optimized) |",
             "|---" * 12 + "|"]
    models = data["models"]
    for model, rows in models.items():
        base, opt = rows.get("baseline"), rows.get("optimized")
        for t in data["threads"]:
            b, o = p50(base, t), p50(opt, t)
            if o is None:
                continue
            if b is None:
                ks_ms = ms_per_key_switch(models, t)
                reason = base.get("skipped", base.get("error", "not run")) if base else "not run"
                est = ""
                if ks_ms and base and "plan" in base:
                    ks = base["plan"]["key_switches"]
                    est = (f" (rough estimate, not a measurement: {ks:,} key switches × "
                           f"{ks_ms:.1f} ms, the baseline's measured server time per key "
                           f"switch on the same parameters ≈ {fmt_ms(ks * ks_ms)}, "
                           f"≈ {ks * ks_ms / o:,.0f}× the optimized plan)")
                lines.append(f"| {model} | {t} | {reason}{est} | {fmt_ms(o)} | — | — | "
                             f"{fmt_mb(opt['peak_rss_mb'])} | — | — / "
                             f"{fmt_bytes(opt['eval_key_bytes'])} | — | "
                             f"{opt['agreement'] * 100:.2f} % ({opt['agreement_images']}) | "
                             f"{opt['max_logit_error']:.1e} |")
                continue
            bt = base["by_threads"].get(str(t))
            ot = opt["by_threads"][str(t)]
            if bt is None:
                continue
            note = " ¹" if base.get("separately") else ""
            saved = 1 - ot["peak_rss_mb"] / bt["peak_rss_mb"]
            lines.append(
                f"| {model} | {t} | {fmt_ms(b)}{note} | {fmt_ms(o)} | **{b / o:,.0f}×** | "
                f"{fmt_mb(bt['peak_rss_mb'])} | {fmt_mb(ot['peak_rss_mb'])} | "
                f"**{saved * 100:.1f} %** | {fmt_bytes(base['eval_key_bytes'])} / "
                f"{fmt_bytes(opt['eval_key_bytes'])} | "
                f"{base['agreement'] * 100:.2f} % ({base['agreement_images']}) | "
                f"{opt['agreement'] * 100:.2f} % ({opt['agreement_images']}) | "
                f"{opt['max_logit_error']:.1e} |")
    for model, rows in models.items():
        base = rows.get("baseline")
        if base and base.get("separately"):
            lines.append("")
            lines.append(f"¹ {model}'s baseline was measured outside the table's run "
                         f"({base['separately']}; {base['agreement_images']} image(s)); in "
                         f"the table's run it was not run: {base['not_in_table_because']}")
    return "\n".join(lines)


def decomposition(data):
    """Latency = key switches x time per key switch (+ the rest): the plans'
    exact key-switch counts against the measured time each one costs."""
    t = data["threads"][0]
    lines = [f"Server time per image ({t} thread{'s' if t > 1 else ''}) = key switches "
             "per image (exact, from the plan) × measured time per key switch (which "
             "also carries the encodings, products and rescales around it).",
             "",
             "| model | key switches: baseline / optimized | ratio | ms per key switch: "
             "baseline / optimized | ratio | N, Q primes, dnum: baseline / optimized |",
             "|---|---|---|---|---|---|"]
    for model, rows in data["models"].items():
        base, opt = rows.get("baseline"), rows.get("optimized")
        b, o = p50(base, t), p50(opt, t)
        if b is None or o is None:
            continue
        kb, ko = base["plan"]["key_switches"], opt["plan"]["key_switches"]
        pb, po = base["plan"], opt["plan"]
        lines.append(
            f"| {model} | {kb:,} / {ko:,} | {kb / ko:.0f}× | {b / kb:.2f} / {o / ko:.2f} | "
            f"{(b / kb) / (o / ko):.0f}× | 2^{pb['log_n']}, {pb['q_primes']}, {pb['dnum']} / "
            f"2^{po['log_n']}, {po['q_primes']}, {po['dnum']} |")
    return "\n".join(lines)


def detail(data, model):
    rows = data["models"][model]
    threads = data["threads"]
    opt = rows.get("optimized")
    head = ["configuration"]
    for t in threads:
        head += [f"p50 ({t} thr)", f"p90 ({t} thr)"]
    head += [f"server CPU p50 ({threads[0]} thr)", "× optimized", "encrypt", "decrypt", "peak RSS", "eval keys", "input",
             "output", "agreement (images)", "max \\|err\\|", "N", "levels",
             "key switches", "rotation keys"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for config in CONFIG_ORDER:
        r = rows.get(config)
        if r is None:
            continue
        plan = r.get("plan", {})
        facts = [f"2^{plan['log_n']}" if plan else "—",
                 str(plan.get("levels_used", "—")),
                 f"{plan['key_switches']:,}" if plan else "—",
                 str(plan.get("rotation_keys", "—"))]
        name = config + (" (= optimized)" if r.get("same_as") else "") + \
            (" (measured separately, see above)" if r.get("separately") else "")
        if not measured(r):
            why = r.get("skipped", r.get("error", "not run"))
            est = ""
            if plan:
                est = f"; keys ≈ {fmt_bytes(plan['eval_key_bytes_estimate'])} (seeded)"
            cells = [name, why + est] + [""] * (len(head) - 6) + facts
            lines.append("| " + " | ".join(cells) + " |")
            continue
        cells = [name]
        for t in threads:
            bt = r["by_threads"].get(str(t))
            cells += [fmt_ms(bt["latency_ms"]["p50"]), fmt_ms(bt["latency_ms"]["p90"])] \
                if bt else ["—", "—"]
        b0 = r["by_threads"].get(str(threads[0]), {})
        cells.append(fmt_ms(b0["server_cpu_ms"]["p50"]) if "server_cpu_ms" in b0 else "—")
        # Against the optimized plan at the same thread count.
        t0 = next(iter(r["by_threads"]))
        o0 = p50(opt, t0) if measured(opt) else None
        ratio = p50(r, t0) / o0 if o0 else None
        cells += [f"{ratio:,.2f}×" if ratio else "—",
                  fmt_ms(r["encrypt_ms"]), fmt_ms(r["decrypt_ms"]),
                  fmt_mb(r["peak_rss_mb"]), fmt_bytes(r["eval_key_bytes"]),
                  fmt_bytes(r["input_bytes"]), fmt_bytes(r["output_bytes"]),
                  f"{r['agreement'] * 100:.2f} % ({r['agreement_images']})",
                  f"{r['max_logit_error']:.1e}"] + facts
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown(data, command):
    out = ["# The paper's table, measured",
           "",
           "Generated by `scripts/paper_table.py` from `paper_table.json`; the "
           "discussion is in `docs/results.md`, the baseline's definition in "
           "`docs/design/baseline.md`.",
           "",
           "- reproduce: `bash scripts/paper_table.sh` (add `PAPER_SLOW=1` for the row "
           "the table skips for time)" +
           (f"; it ran `{command}`" if command else ""),
           f"- date: {data['date']}; wall time {data['wall_s'] / 60:.1f} min; "
           f"commit {data.get('commit', 'not recorded')}",
           f"- CPU: {data['cpu']}, {data['cores']} cores; kernel path `{data['kernel']}` "
           "(BLINDFOLD_KERNEL)",
           f"- threads (server and client): baseline and optimized at "
           f"{', '.join(str(t) for t in data['threads'])}; each optimization off at "
           f"{', '.join(str(t) for t in data.get('ablation_threads', data['threads']))}; "
           f"per run at most {data['images']} images and no new image after "
           f"{data['budget_s']:.0f} s (one always runs)",
           f"- load average at start {data['load_average_start']}, at end "
           f"{data['load_average_end']} (other processes share the cores)",
           "- latency: server time per image (median, p90) in its own process; "
           "peak RSS: that process's VmHWM (plan, keys, 256 MiB diagonal cache, work); "
           "encrypt/decrypt: client medians; agreement: top-1 against the same plan "
           "in float64, over the images of every run of the configuration",
           "",
           "## Baseline vs optimized",
           "",
           headline(data),
           "",
           "## Where the speed-up comes from",
           "",
           decomposition(data),
           ""]
    for model in data["models"]:
        out += [f"## {model}", "", detail(data, model), ""]
    return "\n".join(out)


def plots(data, outdir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = [m for m in data["models"] if measured(data["models"][m].get("optimized"))]
    threads = data["threads"]
    # Speed-up per model and thread count.
    fig, ax = plt.subplots(figsize=(8, 4.2))
    width = 0.8 / max(1, len(threads))
    for i, t in enumerate(threads):
        xs, ys = [], []
        for j, m in enumerate(models):
            b, o = p50(data["models"][m].get("baseline"), t), p50(data["models"][m]["optimized"], t)
            if b and o:
                xs.append(j + i * width)
                ys.append(b / o)
        bars = ax.bar(xs, ys, width, label=f"{t} thread{'s' if t > 1 else ''}")
        ax.bar_label(bars, labels=[f"{y:,.0f}×" for y in ys], fontsize=8)
    ax.axhline(3.2, color="red", linestyle="--", label="paper: 3.2×")
    ax.set_yscale("log")
    ax.set_xticks([j + width * (len(threads) - 1) / 2 for j in range(len(models))], models)
    ax.set_ylabel("baseline latency / optimized latency")
    ax.set_title("Speed-up over the conventional baseline (server, p50)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "paper_speedup.png"), dpi=120)
    plt.close(fig)

    # Peak server memory, baseline vs optimized.
    fig, ax = plt.subplots(figsize=(8, 4.2))
    xs = range(len(models))
    for k, (config, color) in enumerate([("baseline", "tab:gray"), ("optimized", "tab:blue")]):
        ys = [data["models"][m].get(config, {}).get("peak_rss_mb", 0) or 0 for m in models]
        bars = ax.bar([x + 0.4 * k for x in xs], ys, 0.4, label=config, color=color)
        ax.bar_label(bars, labels=[fmt_mb(y) if y else "not run" for y in ys], fontsize=7)
    ax.set_yscale("log")
    ax.set_xticks([x + 0.2 for x in xs], models)
    ax.set_ylabel("server peak RSS (MB)")
    ax.set_title("Server memory (paper: 40 % less than conventional)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "paper_memory.png"), dpi=120)
    plt.close(fig)

    # Ablations: each optimization off alone, latency and memory relative to
    # the optimized plan.
    fig, axes = plt.subplots(2, 1, figsize=(9, 7), sharex=True)
    width = 0.8 / len(ABLATIONS)
    for k, config in enumerate(ABLATIONS):
        lat, mem, xs = [], [], []
        for j, m in enumerate(models):
            r, o = data["models"][m].get(config), data["models"][m]["optimized"]
            t0 = next(iter(r["by_threads"])) if measured(r) else None
            if measured(r) and p50(o, t0):
                xs.append(j + k * width)
                lat.append(p50(r, t0) / p50(o, t0))
                mem.append(r["peak_rss_mb"] / o["peak_rss_mb"])
        axes[0].bar(xs, lat, width, label=config)
        axes[1].bar(xs, mem, width, label=config)
    for ax, what in zip(axes, ["latency", "peak RSS"]):
        ax.axhline(1, color="black", linewidth=0.8)
        ax.set_yscale("log")
        ax.set_ylabel(f"{what} / optimized")
    at = data.get("ablation_threads", threads)[0]
    axes[0].set_title(f"Each optimization off alone ({at} thread"
                      f"{'s' if at > 1 else ''}); missing bars: not run")
    axes[1].set_xticks([j + width * (len(ABLATIONS) - 1) / 2 for j in range(len(models))], models)
    axes[0].legend(fontsize=7, ncol=3)
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "paper_ablations.png"), dpi=120)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("json")
    ap.add_argument("--md", required=True)
    ap.add_argument("--plots", help="directory for the PNG files")
    ap.add_argument("--command", default="")
    ap.add_argument("--extra", action="append", default=[],
                    help="bench JSON of configurations run separately (e.g. one too slow "
                         "for the table's time limit); each fills a row the main run "
                         "did not measure, marked as such")
    a = ap.parse_args()
    with open(a.json) as f:
        data = json.load(f)
    for path in a.extra:
        with open(path) as f:
            extra = json.load(f)
        for model, rows in extra["models"].items():
            for config, row in rows.items():
                main = data["models"].get(model, {}).get(config)
                if measured(row) and main is not None and not measured(main):
                    row["separately"] = (f"{extra.get('command', 'a separate run')}, "
                                         f"{extra['date']}, load average at start "
                                         f"{extra['load_average_start']}")
                    row["not_in_table_because"] = main.get("skipped", "")
                    data["models"][model][config] = row
    command = a.command or data.get("command", "")
    with open(a.md, "w") as f:
        f.write(markdown(data, command))
    if a.plots:
        plots(data, a.plots)
    return 0


if __name__ == "__main__":
    sys.exit(main())
