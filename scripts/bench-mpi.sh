#!/usr/bin/env bash
# Measures one process with T threads against P processes with T/P threads each (the MPI build,
# mpirun on this machine) on the same training configuration, alternating the two for ROUNDS
# rounds, and prints one table row per run: wall seconds per generation, env steps/s, and for the
# MPI runs the communication per generation (outcome gather + statistics all-reduce), the wait
# for the slowest rank, the bytes each rank receives per generation, and the communication and
# wait shares of the generation's wall time (rank 0's communication.jsonl: wait = the barriers
# before the outcome gather and before the statistics all-reduce). The results are bit-identical;
# only the times differ.
#
# Usage: scripts/bench-mpi.sh [ROUNDS=2] [GENERATIONS=4] [ENV=Hopper-v5] [POPULATION=256] [CORES=2]
# Needs: the MPI build (scripts/test-mpi.sh builds it into .build-mpi) and jq.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}; generations=${2:-4}; env=${3:-Hopper-v5}; population=${4:-256}; cores=${5:-2}
scratch=${SATR_MPI_SCRATCH:-.build-mpi}
command -v jq >/dev/null || { echo "bench-mpi.sh needs jq" >&2; exit 1; }
swift build --scratch-path "$scratch" -c release --traits MPI --product satr >/dev/null
bin=$(swift build --scratch-path "$scratch" -c release --traits MPI --show-bin-path)
work=$(mktemp -d "${TMPDIR:-/tmp}/satr-mpi-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
args=(--env "$env" --algo satr --population "$population" --neurons 256 --generations "$generations" --seed 1
      --eval-every 0 --eval-episodes 2 --checkpoint-every 1000 --quiet)

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| run | processes x threads | s / generation | env steps/s | communication s / gen | wait s / gen | bytes received / gen / rank | communication share | wait share |"
echo "|---|---|---|---|---|---|---|---|---|"
row() {  # row NAME LABEL DIR
    local dir=$3 last wall steps
    last=$(tail -1 "$dir/metrics.jsonl")
    wall=$(jq -r '.wall_s' <<<"$last"); steps=$(jq -r '.env_steps' <<<"$last")
    if [ -f "$dir/communication.jsonl" ]; then
        jq -rs --arg name "$1" --arg lab "$2" --argjson wall "$wall" --argjson steps "$steps" --argjson g "$generations" '
            map(select(.purpose == "population")) as $p
            | ($p | map(.wall_gather_s + .wall_reduce_s) | add) as $comm
            | ($p | map(.wall_wait_s) | add) as $wait
            | ($p | map(.bytes_received + .bytes_reduced) | add) as $bytes
            | "| \($name) | \($lab) | \($wall / $g * 100 | round / 100) | \($steps / $wall | round) | \($comm / $g * 1000 | round / 1000) | \($wait / $g * 100 | round / 100) | \($bytes / $g | round) | \($comm / $wall * 1000 | round / 10) % | \($wait / $wall * 1000 | round / 10) % |"' \
            "$dir/communication.jsonl"
    else
        echo "| $1 | $2 | $(jq -n "$wall / $generations * 100 | round / 100") | $(jq -n "$steps / $wall | round") | - | - | - | - | - |"
    fi
}
for r in $(seq 1 "$rounds"); do
    "$bin/satr" train "${args[@]}" --threads "$cores" --out "$work/single-$r" >/dev/null
    row "round $r" "1 x $cores" "$work/single-$r"
    mpirun --oversubscribe --allow-run-as-root --bind-to none -np "$cores" "$bin/satr" train "${args[@]}" \
        --threads 1 --out "$work/mpi-$r" >/dev/null
    row "round $r" "$cores x 1 (mpirun)" "$work/mpi-$r"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
