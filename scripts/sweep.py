#!/usr/bin/env python3
"""Run settings x seeds of `satr train` under a fixed env-step budget, resumably.

Usage:
    python3 scripts/sweep.py SWEEP.json [--satr PATH] [--parallel K] [--env-steps N] [--summary-only] [--dry-run]

SWEEP.json (see scripts/sweeps/ for the ones docs/RESULTS.md reports):
    {
      "out": "runs/sweep-hopper",            # run directories go to OUT/<setting>-s<seed>
      "env_steps": 3000000,                  # the budget of every run (--max-env-steps)
      "seeds": [0, 1, 2],
      "parallel": 2,                         # runs at a time, one thread each
      "thresholds": [1000, 2000, 3000],      # eval returns for the "steps/wall to reach" columns
      "common": ["--env", "Hopper-v5", "--population", "256"],
      "settings": {"satr": ["--algo", "satr"], "ec": ["--algo", "ec"]}
    }

A file may start from another: {"base": "hopper.json", "seeds": [3, 4], "out": "runs/hopper-check"}
takes every key of hopper.json (a path relative to this file; bases may chain) and replaces the
ones it names, so a re-check on more seeds or a variant with other settings states only what
differs. --dry-run prints the resolved file and the commands a sweep would start, and runs nothing.

A run that already finished its budget is skipped; one with a checkpoint is resumed
(`satr train --resume DIR --max-env-steps N`), so the sweep continues after an interruption where
it stopped and gives the same numbers as an uninterrupted one. Every run's command is written to
DIR.cmd and its output to DIR.log. At the end (and with --summary-only) it writes OUT/summary.md
and OUT/summary.json (per run and per setting: median and worst seed of the best and final eval
return, env steps and wall seconds to each threshold) and, with `satr plot`, OUT/curves.svg (mean
and min-max band across seeds, against env steps and wall time).

Only the standard library: it runs wherever `satr` runs.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def load_sweep(path, chain=()):
    """The sweep file at `path` with its "base" files' keys merged in (its own keys win)."""
    path = os.path.abspath(path)
    if path in chain:
        raise ValueError(f"the 'base' chain comes back to {path}")
    with open(path) as f:
        spec = json.load(f)
    if not isinstance(spec, dict):
        raise ValueError(f"{path} is not a JSON object")
    base = spec.pop("base", None)
    if base is None:
        return spec
    if not isinstance(base, str):
        raise ValueError(f"'base' in {path} must be a file path")
    resolved = load_sweep(os.path.join(os.path.dirname(path), base), chain + (path,))
    resolved.update(spec)
    return resolved


def load_rows(path):
    rows = []
    if not os.path.exists(path):
        return rows
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    break  # a partial last line of an interrupted run
    return rows


def run_state(directory, budget):
    """'done', 'resume' or 'fresh'."""
    if not os.path.exists(os.path.join(directory, "checkpoint.satr")):
        return "fresh"
    rows = load_rows(os.path.join(directory, "metrics.jsonl"))
    finished = os.path.exists(os.path.join(directory, "evaluation.json"))
    if finished and rows and rows[-1].get("env_steps", 0) >= budget:
        return "done"
    return "resume"


def run_directory(sweep, name, seed):
    return os.path.join(sweep["out"], f"{name}-s{seed}")


def planned_runs(sweep):
    """(setting, seed, run directory) of every run, seed-major: every setting's seed 0 first, so a
    partial sweep compares settings fairly."""
    return [(name, seed, run_directory(sweep, name, seed)) for seed in sweep["seeds"] for name in sweep["settings"]]


def command(satr, sweep, name, seed, directory):
    budget = str(sweep["env_steps"])
    if run_state(directory, sweep["env_steps"]) == "resume":
        return [satr, "train", "--resume", directory, "--max-env-steps", budget, "--threads", "1", "--quiet"]
    return ([satr, "train"] + sweep.get("common", []) + sweep["settings"][name]
            + ["--seed", str(seed), "--max-env-steps", budget, "--threads", "1", "--quiet", "--out", directory])


def fresh_evaluation(satr, directory, episodes, seed=1000):
    """`satr eval` of the run's best policy on fresh episodes (seeds the run never used)."""
    policy = os.path.join(directory, "policy_best.json")
    if episodes <= 0 or not os.path.exists(policy):
        return None
    r = subprocess.run([satr, "eval", policy, "--episodes", str(episodes), "--seed", str(seed), "--json"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None
    e = json.loads(r.stdout)
    return {"mean": e["return_mean"], "min": e["return_min"], "episodes": episodes, "seed": seed}


def summarize_run(directory, thresholds, budget):
    """Best/final eval and thresholds of the run cut at `budget` env steps (a longer run's first
    generations are bit-identical to a shorter run's, so the cut gives the shorter run's numbers,
    apart from the final evaluation a run makes when it ends off the evaluation schedule)."""
    rows = load_rows(os.path.join(directory, "metrics.jsonl"))
    cut = next((i for i, r in enumerate(rows) if r.get("env_steps", 0) >= budget), len(rows) - 1)
    longer = cut < len(rows) - 1
    rows = rows[:cut + 1]
    evals = [(r["env_steps"], r.get("wall_s", 0.0), r["eval_return_mean"]) for r in rows if "eval_return_mean" in r]
    final_path = os.path.join(directory, "evaluation.json")
    if os.path.exists(final_path) and not longer:
        final = load_rows(final_path)
        if final and "eval_return_mean" in final[0] and (not evals or final[0]["env_steps"] > evals[-1][0]):
            evals.append((final[0]["env_steps"], final[0].get("wall_s", 0.0), final[0]["eval_return_mean"]))
    out = {"directory": directory, "env_steps": rows[-1]["env_steps"] if rows else 0,
           "wall_s": rows[-1].get("wall_s") if rows else None,
           "best_eval": max((e[2] for e in evals), default=None),
           "final_eval": evals[-1][2] if evals else None, "reach": {}, "cut_at_budget": longer}
    for t in thresholds:
        hit = next((e for e in evals if e[2] >= t), None)
        out["reach"][str(t)] = {"env_steps": hit[0], "wall_s": hit[1]} if hit else None
    return out


def fmt(v, digits=0):
    if v is None:
        return "-"
    if isinstance(v, float) and digits == 0:
        return f"{v:.0f}"
    return f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def summarize(sweep, satr, plot=True, fresh_episodes=0):
    out_dir = sweep["out"]
    thresholds = sweep.get("thresholds", [])
    per_setting = {}
    for name in sweep["settings"]:
        runs = [summarize_run(run_directory(sweep, name, seed), thresholds, sweep["env_steps"]) for seed in sweep["seeds"]]
        runs = [r for r in runs if r["env_steps"] > 0]
        for r in runs:
            # policy_best.json of a run longer than the budget may come from beyond it: not used.
            r["fresh_eval"] = None if r["cut_at_budget"] else fresh_evaluation(satr, r["directory"], fresh_episodes)
        def agg(values):
            values = [v for v in values if v is not None]
            return (statistics.median(values), min(values)) if values else (None, None)
        entry = {"runs": runs, "best_eval_median_worst": agg([r["best_eval"] for r in runs]),
                 "final_eval_median_worst": agg([r["final_eval"] for r in runs]),
                 "fresh_eval_median_worst": agg([r["fresh_eval"]["mean"] if r["fresh_eval"] else None for r in runs]),
                 "reach": {}}
        for t in thresholds:
            hits = [r["reach"][str(t)] for r in runs]
            steps = [h["env_steps"] if h else float("inf") for h in hits]
            entry["reach"][str(t)] = {"seeds_reached": sum(h is not None for h in hits), "of": len(hits),
                                      "env_steps_median": statistics.median(steps) if steps else None}
        per_setting[name] = entry
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump({"sweep": sweep, "settings": per_setting}, f, indent=2, sort_keys=True, default=str)
    lines = [f"Budget {sweep['env_steps']:,} env steps per run; seeds {sweep['seeds']}; common flags: `{' '.join(sweep.get('common', []))}`", "",
             "| setting | flags | seeds | best eval (median / worst) | final eval (median / worst) | best policy, fresh episodes (median / worst) | "
             + " | ".join(f"reach {t}: seeds, median steps" for t in thresholds) + " |",
             "|---|---|---|---|---|---|" + "---|" * len(thresholds)]
    for name, e in per_setting.items():
        b, fl, fr = e["best_eval_median_worst"], e["final_eval_median_worst"], e["fresh_eval_median_worst"]
        reach = []
        for t in thresholds:
            r = e["reach"][str(t)]
            m = r["env_steps_median"]
            reach.append(f"{r['seeds_reached']}/{r['of']}, " + ("-" if m in (None, float("inf")) else f"{m / 1e6:.2f}M"))
        lines.append(f"| {name} | `{' '.join(sweep['settings'][name])}` | {len(e['runs'])} | {fmt(b[0])} / {fmt(b[1])} | "
                     f"{fmt(fl[0])} / {fmt(fl[1])} | {fmt(fr[0])} / {fmt(fr[1])} | " + " | ".join(reach) + " |")
    lines += ["", "| run | env steps | wall s | best eval | final eval | best policy, fresh episodes: mean (min) |", "|---|---|---|---|---|---|"]
    for name, e in per_setting.items():
        for r in e["runs"]:
            fe = r["fresh_eval"]
            fresh = f"{fmt(fe['mean'])} ({fmt(fe['min'])})" if fe else "-"
            lines.append(f"| {os.path.basename(r['directory'])} | {r['env_steps']:,} | {fmt(r['wall_s'])} | {fmt(r['best_eval'])} | {fmt(r['final_eval'])} | {fresh} |")
    with open(os.path.join(out_dir, "summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    if plot:
        args = [f"{name}={r['directory']}" for name, e in per_setting.items() for r in e["runs"]]
        if args:
            subprocess.run([satr, "plot"] + args + ["--out", os.path.join(out_dir, "curves.svg")], check=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sweep")
    parser.add_argument("--satr", default=os.environ.get("SATR", ".build/release/satr"))
    parser.add_argument("--parallel", type=int)
    parser.add_argument("--summary-only", action="store_true")
    parser.add_argument("--env-steps", type=int,
                        help="override the file's budget (e.g. a shorter first pass; rerunning with the file's budget resumes every run)")
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--fresh-episodes", type=int, default=10,
                        help="evaluate each run's policy_best.json on this many fresh episodes (seed 1000) in the summary; 0 = skip")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the resolved sweep file and the commands of the runs not yet done; run nothing")
    a = parser.parse_args()
    try:
        sweep = load_sweep(a.sweep)
        for key in ("out", "env_steps", "seeds", "settings"):
            if key not in sweep:
                raise ValueError(f"missing key '{key}'")
    except (OSError, ValueError) as e:
        sys.exit(f"sweep.py: cannot read {a.sweep}: {e}")
    if a.env_steps:
        sweep["env_steps"] = a.env_steps
    if a.dry_run:
        print(json.dumps(sweep, indent=2))
        for name, seed, directory in planned_runs(sweep):
            if run_state(directory, sweep["env_steps"]) != "done":
                print(" ".join(command(a.satr, sweep, name, seed, directory)))
        return
    if not os.path.exists(a.satr):
        sys.exit(f"sweep.py: no satr binary at {a.satr}; build it (swift build -c release --product satr) or pass --satr PATH")
    os.makedirs(sweep["out"], exist_ok=True)
    if not a.summary_only:
        parallel = a.parallel or sweep.get("parallel", 1)
        queue = planned_runs(sweep)
        running = []
        while queue or running:
            while queue and len(running) < parallel:
                name, seed, directory = queue.pop(0)
                if run_state(directory, sweep["env_steps"]) == "done":
                    continue
                cmd = command(a.satr, sweep, name, seed, directory)
                with open(directory + ".cmd", "a") as f:
                    f.write(" ".join(cmd) + "\n")
                log = open(directory + ".log", "a")
                print(f"start {name} seed {seed}: {' '.join(cmd)}", flush=True)
                running.append((name, seed, subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT), log))
            time.sleep(0.2)
            for item in list(running):
                name, seed, proc, log = item
                if proc.poll() is not None:
                    log.close()
                    running.remove(item)
                    status = "done" if proc.returncode == 0 else f"FAILED (exit {proc.returncode}; see its .log)"
                    print(f"{status}: {name} seed {seed}", flush=True)
    summarize(sweep, a.satr, plot=not a.no_plot, fresh_episodes=a.fresh_episodes)


if __name__ == "__main__":
    main()
