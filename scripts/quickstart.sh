#!/usr/bin/env bash
# The README's first command: install the system packages, build in release mode, and train a SATR
# spiking policy on the default task (InvertedPendulum-v5, population 128, N = 256, 50 generations;
# see docs/RESULTS.md for what it reaches and how fast). It prints the evaluated return of the
# deterministic policy and where the policy, the metrics and the learning-curve plot are.
# Arguments go to `satr train`, e.g.:  bash scripts/quickstart.sh --env Hopper-v5 --population 256
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product satr
exec .build/release/satr train "$@"
