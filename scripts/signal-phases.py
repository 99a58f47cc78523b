#!/usr/bin/env python3
"""How much gradient signal SATR measured, phase by phase, in finished runs.

Usage:
    python3 scripts/signal-phases.py RUN_DIR [RUN_DIR ...] [--phases 2000000,10000000] [--json]

Reads each run's metrics.jsonl (SATR runs only: the opt_raw_signal field) and splits its
generations at the given env-step boundaries. Per run and phase it prints

- n: generations in the phase;
- X mean +- se: the mean of the raw signal estimate X_t (opt_raw_signal; for the `direction`
  estimator X_t = <g_t, v_{t-1}>_F, whose expectation is the signal energy S = ||G||_F^2 while the
  true direction G holds steady over the average v) and its standard error sd / sqrt(n). The
  noise of X_t comes almost entirely from its own generation's members, so successive readings have
  uncorrelated noise and the mean over a phase estimates the phase's average signal;
- X sd: the spread of one generation's X_t (its noise);
- still: the share of generations whose pooled estimate S_t = max(EMA(X)_t, 0) was 0, so that
  SATR did not move;
- KL: the mean realized KL step, and |drho|: the mean absolute change of a probability.

docs/RESULTS.md ("Where the late signal goes") reports its output for the Hopper-v5 preset.
"""
import argparse
import json
import math
import os
import statistics
import sys


def load(run):
    path = os.path.join(run, "metrics.jsonl")
    try:
        with open(path) as f:
            rows = [json.loads(line) for line in f if line.strip()]
    except OSError as error:
        sys.exit(f"signal-phases: cannot read {path}: {error.strerror}")
    except json.JSONDecodeError as error:
        sys.exit(f"signal-phases: {path} is not JSON lines: {error}")
    if not rows or "opt_raw_signal" not in rows[0]:
        sys.exit(f"signal-phases: {path} has no opt_raw_signal field (only SATR runs have one)")
    return rows


def phase_summary(rows):
    x = [r["opt_raw_signal"] for r in rows]
    sd = statistics.stdev(x) if len(x) > 1 else None  # one generation has no spread (null in --json)
    return {
        "generations": len(rows),
        "x_mean": statistics.fmean(x),
        "x_se": None if sd is None else sd / math.sqrt(len(x)),
        "x_sd": sd,
        "still_share": sum(1 for r in rows if r["opt_signal_energy"] == 0) / len(rows),
        "realized_kl_mean": statistics.fmean(r["opt_realized_kl"] for r in rows),
        "mean_absolute_change": statistics.fmean(r["opt_mean_absolute_change"] for r in rows),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR")
    parser.add_argument("--phases", default="2000000,10000000",
                        help="env-step boundaries between phases, comma-separated (default 2M,10M)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    try:
        bounds = sorted(int(float(b)) for b in args.phases.split(",") if b.strip())
    except ValueError:
        sys.exit(f"signal-phases: --phases wants env-step numbers separated by commas, got '{args.phases}'")
    edges = [0] + bounds + [math.inf]

    result = []
    for run in args.runs:
        rows = load(run)
        for lo, hi in zip(edges, edges[1:]):
            phase = [r for r in rows if lo <= r["env_steps"] < hi]
            if phase:
                result.append({"run": run, "from_env_steps": lo, "to_env_steps": None if hi == math.inf else hi,
                               **phase_summary(phase)})
    if args.json:
        print(json.dumps(result, indent=2))
        return

    def millions(v):
        return "end" if v is None else f"{v / 1e6:g}M"

    def number(v):
        return "-" if v is None else f"{v:.3f}"

    print("| run | env steps | n | X mean +- se | X sd | still | KL | abs drho |")
    print("|---|---|---|---|---|---|---|---|")
    for p in result:
        print(f"| {os.path.basename(os.path.normpath(p['run']))} | {millions(p['from_env_steps'])}-{millions(p['to_env_steps'])} "
              f"| {p['generations']} | {p['x_mean']:.3f} +- {number(p['x_se'])} | {number(p['x_sd'])} "
              f"| {p['still_share']:.2f} | {p['realized_kl_mean']:.1f} | {p['mean_absolute_change']:.4f} |")


if __name__ == "__main__":
    main()
