#!/usr/bin/env bash
# NIR export cross-check (docs/NIR.md): trains two small policies with the built `satr`, exports
# each as a NIR graph (HDF5), records one evaluation episode's observations, spikes and actions
# (`satr raster --json`), and runs Tests/nir/test_nir.py in a virtual environment with the `nir`
# package from PyPI: the file must load with the expected nodes, shapes and edges, and an
# independent numpy simulator of the graph must reproduce the project's spikes and actions.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${SATR_NIR_VENV:-.build/nir-venv}"
if [ ! -x "$venv/bin/python" ]; then
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        echo "test-nir.sh: 'python3 -m venv' failed; install python3-venv (apt-get install -y python3-venv)" >&2
        exit 1
    fi
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check nir numpy

swift build -c release --product satr
satr=.build/release/satr
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Strict NIR semantics filter the input current through the synapse (the project injects it into
# the membrane directly); docs/NIR.md states the measured action error and this bound.
tolerance=0.15
for spec in "InvertedPendulum-v5 64 30" "Hopper-v5 128 30"; do
    read -r env neurons generations <<<"$spec"
    run="$work/$env"
    "$satr" train --env "$env" --neurons "$neurons" --population 32 --generations "$generations" \
        --eval-every "$generations" --eval-episodes 1 --seed 1 --threads 2 --out "$run" >/dev/null
    "$satr" export "$run" --format nir --out "$run/policy.nir"
    "$satr" raster "$run" --steps 150 --out "$run/raster.svg" --json "$run/trace.json"
    echo "== $env (N=$neurons)"
    "$venv/bin/python" Tests/nir/test_nir.py --nir "$run/policy.nir" --trace "$run/trace.json" \
        --strict-action-tolerance "$tolerance"
done
