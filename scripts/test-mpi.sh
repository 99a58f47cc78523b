#!/usr/bin/env bash
# Builds the opt-in MPI variant of SATR (package trait "MPI") and runs the distributed tests with
# mpirun on this machine (localhost, --oversubscribe, so any core count works):
#
#   1. MPISelfTest on 1, 2 and 3 ranks: every collective the Cluster module uses, bit for bit,
#      point-to-point messages and the dynamic work hand-out (every position exactly once), plus
#      MPI_ERRORS_RETURN (failures come back as errors, not library aborts).
#   2. A rank that dies (SIGKILL) while the others wait in a collective, or while rank 0 hands out
#      work (dynamic sharing, point to point), ends the job: non-zero status within seconds, no hang.
#      A `satr train` rank that exits before initializing MPI ends the job with a message.
#   3. Equivalence: `satr train` on a tiny InvertedPendulum-v5 configuration, threaded in one
#      process and under `mpirun -np 1`, `-np 2`, `-np 3` (SATR; EC, ES, SATR with a frozen
#      recurrent layer and block-wise regions, and EC with a population schedule with -np 2):
#      metrics.jsonl and evaluation.json (without the wall_* fields), the checkpoint (without
#      wall_seconds) and policy.json must be byte-identical.
#   4. Failure and resume: rank 1 of a 2-rank run is killed (SIGKILL) after a checkpoint was
#      written; the run must stop with a non-zero status and a message, the checkpoint must still
#      load, and `--resume` (on 3 processes) must finish the run bit-identically to the
#      uninterrupted one.
#
# Usage: scripts/test-mpi.sh            (CI runs it after the README's test command)
# Env:   SATR_MPI_SCRATCH  build directory (default .build-mpi); SATR_MPI_KEEP=1 keeps the run dirs.
set -euo pipefail
cd "$(dirname "$0")/.."

scratch=${SATR_MPI_SCRATCH:-.build-mpi}
if ! command -v mpirun >/dev/null 2>&1 || ! pkg-config --exists ompi-c 2>/dev/null; then
    echo "test-mpi.sh: Open MPI is missing (mpirun, pkg-config ompi-c); run: bash scripts/setup.sh --with-mpi" >&2
    exit 1
fi

# --allow-run-as-root: CI runs as root. --bind-to none: each rank runs several threads, and Open
# MPI would otherwise pin each rank to one core.
mpirun_cmd=(mpirun --oversubscribe --allow-run-as-root --bind-to none)

echo "== building the MPI variant (swift build --traits MPI) in $scratch"
swift build --scratch-path "$scratch" -c release --traits MPI --product MPISelfTest
swift build --scratch-path "$scratch" -c release --traits MPI --product satr
bin=$(swift build --scratch-path "$scratch" -c release --traits MPI --show-bin-path)

failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

work=$(mktemp -d "${TMPDIR:-/tmp}/satr-mpi-test.XXXXXX")
cleanup() {
    if [ "${SATR_MPI_KEEP:-0}" = 1 ]; then echo "run directories kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

echo "== 1. MPISelfTest on 1, 2, 3 ranks"
for np in 1 2 3; do
    if timeout 300 "${mpirun_cmd[@]}" -np "$np" "$bin/MPISelfTest"; then
        pass "self-test on $np rank(s)"
    else
        fail "self-test on $np rank(s)"
    fi
done

echo "== 2. a rank killed inside a collective ends the job"
set +e
start=$(date +%s)
timeout 120 "${mpirun_cmd[@]}" -np 3 "$bin/MPISelfTest" --die-rank 1 >"$work/die.out" 2>&1
status=$?
elapsed=$(( $(date +%s) - start ))
set -e
if [ "$status" -ne 0 ] && [ "$status" -ne 124 ]; then
    pass "job ended with status $status after ${elapsed}s"
else
    fail "job with a dead rank: status $status (124 = hung until the timeout)"; cat "$work/die.out" >&2
fi

echo "== 2a. a rank killed while rank 0 hands out work (point to point) ends the job"
set +e
start=$(date +%s)
timeout 120 "${mpirun_cmd[@]}" -np 3 "$bin/MPISelfTest" --die-rank 2 --in-work >"$work/die-work.out" 2>&1
status=$?
elapsed=$(( $(date +%s) - start ))
set -e
if [ "$status" -ne 0 ] && [ "$status" -ne 124 ] && grep -q "while sharing work" "$work/die-work.out"; then
    pass "job ended with status $status after ${elapsed}s"
else
    fail "job with a rank dead during the work hand-out: status $status (124 = hung until the timeout)"; cat "$work/die-work.out" >&2
fi

echo "== 2b. a satr train rank that cannot start ends the job with a message"
set +e
timeout 120 "${mpirun_cmd[@]}" -np 2 sh -c \
    'if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then exit 3; fi; exec "$0" train --env InvertedPendulum-v5 --population 8 --generations 50 --neurons 64 --out "$1"' \
    "$bin/satr" "$work/nostart" >"$work/nostart.log" 2>&1
status=$?
set -e
if [ "$status" -ne 0 ] && [ "$status" -ne 124 ] && grep -q "MPI rank 0 of 2" "$work/nostart.log"; then
    pass "a rank that exits before MPI_Init stops the run (status $status) with a message"
else
    fail "a rank that cannot start: status $status"; cat "$work/nostart.log" >&2
fi

# ---------------------------------------------------------------------------------------------
# Training runs. A tiny configuration: what matters is identity, not learning.
train_args=(--env InvertedPendulum-v5 --algo satr --population 12 --generations 6 --seed 7
            --neurons 64 --eval-every 3 --eval-episodes 2 --checkpoint-every 2)

# Prints a JSON-lines file without the wall-clock fields (all named wall_*).
strip_wall() { sed -E 's/,?"wall_[A-Za-z0-9_]*":[^,}]*//g' "$1"; }

# Prints a checkpoint's JSON payload without its one wall-clock field (wall_seconds). The file is a
# 28-byte container header (magic "SATRCKPT", version, length, FNV-1a hash of the payload: the hash
# covers wall_seconds, so it differs between any two runs) followed by the payload.
checkpoint_payload() {
    if [ "$(head -c 8 "$1")" != "SATRCKPT" ] || [ "$(tail -c +29 "$1" | head -c 1)" != "{" ]; then
        echo "not a checkpoint: $1"
        return
    fi
    tail -c +29 "$1" | sed -E 's/,?"wall_seconds":[^,}]*//g'
}

# compare_runs A B WHAT: metrics.jsonl and evaluation.json without wall_* fields, the checkpoint
# without wall_seconds, and policy.json byte for byte.
compare_runs() {
    local a=$1 b=$2 what=$3 ok=1 f
    for f in metrics.jsonl evaluation.json; do
        if [ ! -f "$a/$f" ] || ! cmp -s <(strip_wall "$a/$f") <(strip_wall "$b/$f"); then
            echo "  $f differs ($what):" >&2
            diff <(strip_wall "$a/$f") <(strip_wall "$b/$f") 2>&1 | head -5 >&2 || true
            ok=0
        fi
    done
    if [ ! -f "$a/checkpoint.satr" ] || ! cmp -s <(checkpoint_payload "$a/checkpoint.satr") <(checkpoint_payload "$b/checkpoint.satr"); then
        echo "  checkpoint.satr differs ($what)" >&2
        ok=0
    fi
    if [ ! -f "$a/policy.json" ] || ! cmp -s "$a/policy.json" "$b/policy.json"; then
        echo "  policy.json differs ($what)" >&2
        ok=0
    fi
    [ "$ok" = 1 ]
}

echo "== 3. equivalence: threaded single process vs mpirun -np 1, 2, 3"
"$bin/satr" train "${train_args[@]}" --threads 2 --out "$work/threaded" >"$work/threaded.log" 2>&1 \
    || { cat "$work/threaded.log" >&2; fail "threaded single-process run"; }
for np in 1 2 3; do
    if timeout 600 "${mpirun_cmd[@]}" -np "$np" "$bin/satr" train "${train_args[@]}" --threads 1 \
        --out "$work/np$np" >"$work/np$np.log" 2>&1; then
        if compare_runs "$work/threaded" "$work/np$np" "threaded vs -np $np"; then
            pass "mpirun -np $np equals the threaded single-process run"
        else
            fail "mpirun -np $np differs from the threaded single-process run"
        fi
    else
        cat "$work/np$np.log" >&2; fail "mpirun -np $np train"
    fi
done

# EC (also reduces exact integer statistics across ranks), Gaussian ES (every rank computes its
# own update), SATR with a frozen recurrent layer and block-wise trust regions (every rank
# draws the same K_h and steps the same blocks), and mirrored EC with a population schedule
# (every rank sets the same M from the same env-step count) on 2 ranks.
for algo in ec es satr-frozen-blockwise ec-population-schedule; do
    case "$algo" in
        satr-frozen-blockwise) variant=(--algo satr --frozen-recurrent true --blockwise true) ;;
        ec-population-schedule) variant=(--algo ec --mirrored true --population-start 4 --population-growth-steps 300) ;;
        *) variant=(--algo "$algo") ;;
    esac
    algo_args=(--env InvertedPendulum-v5 "${variant[@]}" --population 12 --generations 4 --seed 3
               --neurons 64 --eval-every 2 --eval-episodes 2 --checkpoint-every 2)
    "$bin/satr" train "${algo_args[@]}" --threads 2 --out "$work/$algo-threaded" >"$work/$algo-threaded.log" 2>&1 \
        || { cat "$work/$algo-threaded.log" >&2; fail "threaded $algo run"; }
    if timeout 600 "${mpirun_cmd[@]}" -np 2 "$bin/satr" train "${algo_args[@]}" --threads 1 \
        --out "$work/$algo-np2" >"$work/$algo-np2.log" 2>&1 \
        && compare_runs "$work/$algo-threaded" "$work/$algo-np2" "$algo: threaded vs -np 2"; then
        pass "$algo: mpirun -np 2 equals the threaded single-process run"
    else
        cat "$work/$algo-np2.log" >&2; fail "$algo: mpirun -np 2 differs from (or failed unlike) the threaded run"
    fi
done

echo "== 4. a rank killed mid-run: clean stop, intact checkpoint, bit-identical resume"
long_args=(--env InvertedPendulum-v5 --algo satr --population 12 --generations 60 --seed 7
           --neurons 64 --eval-every 0 --eval-episodes 2 --checkpoint-every 2)
"$bin/satr" train "${long_args[@]}" --threads 2 --out "$work/long-ref" >"$work/long-ref.log" 2>&1 \
    || { cat "$work/long-ref.log" >&2; fail "uninterrupted reference run"; }
set +e
# The marker (exported to the ranks with -x) identifies this run's processes in /proc.
SATR_MPI_TEST_MARKER="$work" timeout 600 "${mpirun_cmd[@]}" -x SATR_MPI_TEST_MARKER -np 2 "$bin/satr" train \
    "${long_args[@]}" --threads 1 --out "$work/killed" >"$work/killed.log" 2>&1 &
launcher=$!
# Wait for the fourth metrics line (generation 4: a checkpoint exists), then kill rank 1.
victim=""
for _ in $(seq 1 3000); do
    if [ -f "$work/killed/metrics.jsonl" ] && [ "$(wc -l <"$work/killed/metrics.jsonl")" -ge 4 ]; then
        # NUL-separated environments: -z makes each variable one record, -x matches it whole.
        marked=$(grep -lzx "SATR_MPI_TEST_MARKER=$work" /proc/[0-9]*/environ 2>/dev/null || true)
        for environ in $marked; do
            if grep -qzx 'OMPI_COMM_WORLD_RANK=1' "$environ" 2>/dev/null; then
                pid=${environ#/proc/}; victim=${pid%/environ}
            fi
        done
        break
    fi
    sleep 0.02
done
if [ -n "$victim" ]; then kill -KILL "$victim"; fi
wait "$launcher"
status=$?
set -e
lines=$(wc -l <"$work/killed/metrics.jsonl" 2>/dev/null || echo 0)
if [ -z "$victim" ]; then
    fail "could not find rank 1 to kill (the run finished with status $status)"; cat "$work/killed.log" >&2
elif [ "$status" -eq 0 ] || [ "$status" -eq 124 ] || [ "$lines" -ge 60 ]; then
    fail "after killing rank 1 the run ended with status $status after $lines generations"; cat "$work/killed.log" >&2
else
    pass "killing rank 1 stopped the run (status $status, $lines generations written); message:"
    grep -iE "rank|checkpoint|resume" "$work/killed.log" | head -6 | sed 's/^/    /'
    # Resume with 3 processes: nothing in a checkpoint depends on the process count.
    if timeout 600 "${mpirun_cmd[@]}" -np 3 "$bin/satr" train --resume "$work/killed" --generations 60 \
        >"$work/resumed.log" 2>&1; then
        if compare_runs "$work/long-ref" "$work/killed" "killed + resumed vs uninterrupted"; then
            pass "--resume (on 3 processes) after the failure equals the uninterrupted run"
        else
            fail "--resume after the failure differs from the uninterrupted run"
        fi
    else
        cat "$work/resumed.log" >&2; fail "--resume after the failure"
    fi
fi

if [ "$failures" -ne 0 ]; then
    echo "test-mpi.sh: $failures check(s) FAILED" >&2
    exit 1
fi
echo "test-mpi.sh: all MPI checks passed"
