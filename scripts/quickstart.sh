#!/usr/bin/env bash
# Set up the system packages, build in release mode, and train a SATR policy on the default task.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product satr
.build/release/satr train "$@"
