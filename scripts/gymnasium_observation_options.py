#!/usr/bin/env python3
"""Check the observation options against the real Gymnasium (docs/TASKS.md, "Options").

    .venv-gym/bin/python scripts/gymnasium_observation_options.py [--satr .build/release/satr]

For every combination of Humanoid-v5's four and Ant-v5's one `include_*_in_observation` option,
replays the actions of the task's Gymnasium fixture (Tests/EnvironmentsTests/Fixtures/gymnasium,
reset_noise_scale 0) in `gymnasium.make(task, **options)` and in `satr rollout --env-option ...`,
and prints the observation size and the largest differences of observations and rewards.
It exits 1 if a size or an episode length differs, or a difference exceeds --tolerance.
The virtual environment of scripts/gymnasium-check.sh has what it needs (gymnasium, mujoco, numpy).
"""

import argparse
import itertools
import json
import os
import subprocess
import sys

import gymnasium
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "EnvironmentsTests", "Fixtures", "gymnasium")
OPTIONS = {
    "Humanoid-v5": ["include_cinert_in_observation", "include_cvel_in_observation",
                    "include_qfrc_actuator_in_observation", "include_cfrc_ext_in_observation"],
    "Ant-v5": ["include_cfrc_ext_in_observation"],
}


def gymnasium_episode(task, actions, options):
    env = gymnasium.make(task, reset_noise_scale=0.0, **options)
    obs, _ = env.reset(seed=0)
    observations, rewards = [obs], []
    for action in actions:
        obs, reward, terminated, truncated, _ = env.step(np.array(action))
        observations.append(obs)
        rewards.append(reward)
        if terminated or truncated:
            break
    return observations, rewards


def satr_episode(satr, fixture, task, options):
    args = [satr, "rollout", "--env", task, "--actions", fixture, "--reset-noise-scale", "0"]
    for name, value in options.items():
        args += ["--env-option", f"{name}={str(value).lower()}"]
    lines = subprocess.run(args, capture_output=True, text=True, check=True).stdout.splitlines()
    trace = [json.loads(line) for line in lines[1:]]
    return [t["obs"] for t in trace], [t["reward"] for t in trace[1:]]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--satr", default=os.path.join(ROOT, ".build", "release", "satr"))
    parser.add_argument("--tolerance", type=float, default=1e-8)
    args = parser.parse_args()
    failed = False
    for task, names in OPTIONS.items():
        fixture = os.path.join(FIXTURES, task + ".jsonl")
        with open(fixture) as f:
            actions = [line["action"] for line in map(json.loads, f) if "action" in line]
        for values in itertools.product([True, False], repeat=len(names)):
            options = dict(zip(names, values))
            g_obs, g_rew = gymnasium_episode(task, actions, options)
            s_obs, s_rew = satr_episode(args.satr, fixture, task, options)
            same_shape = len(g_obs) == len(s_obs) and all(len(a) == len(b) for a, b in zip(g_obs, s_obs))
            obs_diff = max(float(np.max(np.abs(np.array(s) - g))) for s, g in zip(s_obs, g_obs)) if same_shape else float("inf")
            rew_diff = max(abs(a - b) for a, b in zip(s_rew, g_rew)) if same_shape else float("inf")
            ok = same_shape and obs_diff <= args.tolerance and rew_diff <= args.tolerance
            failed |= not ok
            off = [n for n, v in options.items() if not v]
            print(f"{task} without {', '.join(off) or 'nothing'}: obs {len(g_obs[0])}, {len(g_rew)} steps, "
                  f"max |obs diff| {obs_diff:.2e}, max |reward diff| {rew_diff:.2e}{'' if ok else '  FAILED'}")
    print(f"gymnasium {gymnasium.__version__}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
