#!/usr/bin/env bash
# The CUDA path, checked on a machine with an NVIDIA GPU that has no Rust toolchain and no network
# (issue 15, part 3). Two steps:
#
#   scripts/gpu-check.sh build       here, with cargo: release binaries with --features cuda,
#                                    copied to target/gpu-check/bin (carry that folder over)
#   scripts/gpu-check.sh run [DIR]   there, from the repository root: every check below, each
#                                    under its own time limit (570 s in all at the most, so one
#                                    10-minute device call holds it); the outputs and summary.txt
#                                    go to DIR (default: $OUT, else target/gpu-check/report)
#
# A dry run of the script itself on a CPU: `scripts/gpu-check.sh build-cpu`, then
# GPU_CHECK_DEVICE=cpu GPU_CHECK_ROUNDS=100 GPU_CHECK_CONFIG=configs/tiny.ron scripts/gpu-check.sh run
# (GPU_CHECK_ROUNDS: rounds of the medium self-play bench, half that for heavy; GPU_CHECK_CONFIG:
# the training run's preset).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=target/gpu-check/bin

build() {
    local features=("$@")
    mkdir -p "$bin"
    # One cargo invocation, so Burn is built once for all four targets (the example and the test
    # bring the dev-dependency features in, and a second feature set would mean a second Burn).
    local json
    json=$(cargo build --release --locked "${features[@]}" -p train -p blobnet \
        --bin blob --bin train --example infer_bench --test cuda --message-format=json-render-diagnostics)
    local executables
    executables=$(printf '%s\n' "$json" | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p')
    for name in blob train infer_bench; do
        cp "$(printf '%s\n' "$executables" | grep "/$name\$" | head -n 1)" "$bin/$name"
    done
    cp "$(printf '%s\n' "$executables" | grep '/cuda-[0-9a-f]*$' | head -n 1)" "$bin/cuda-test"
    echo "binaries in $bin: $(ls "$bin" | tr '\n' ' ')"
}

# Run one check: name, time limit in seconds, command. Its output goes to DIR/name.txt; a failure
# or a timeout is recorded in the summary and the next check still runs.
check() {
    local name=$1 limit=$2
    shift 2
    local start=$SECONDS status=0
    echo "== $name: $*" | tee -a "$report/summary.txt"
    timeout "$limit" "$@" >"$report/$name.txt" 2>&1 || status=$?
    local took=$((SECONDS - start))
    if [ "$status" -eq 0 ]; then
        echo "   ok in ${took} s" | tee -a "$report/summary.txt"
    elif [ "$status" -eq 124 ]; then
        echo "   TIMED OUT after ${limit} s (output so far in $name.txt)" | tee -a "$report/summary.txt"
    else
        echo "   FAILED (exit $status) in ${took} s; last lines:" | tee -a "$report/summary.txt"
        tail -n 15 "$report/$name.txt" | sed 's/^/     /' | tee -a "$report/summary.txt"
    fi
}

# A `name: number` field of a bench report.
field() { sed -n "s|^$2: ||p" "$report/$1.txt" | head -n 1; }

# target: report "label", value, comparison (ge), threshold.
target() {
    local label=$1 value=$2 threshold=$3
    if [ -z "$value" ]; then
        echo "   $label: no figure (see the check's output)" | tee -a "$report/summary.txt"
    elif awk -v v="$value" -v t="$threshold" 'BEGIN { exit !(v >= t) }'; then
        echo "   $label: $value (target >= $threshold): met" | tee -a "$report/summary.txt"
    else
        echo "   $label: $value (target >= $threshold): MISSED" | tee -a "$report/summary.txt"
    fi
}

run() {
    report=${1:-${OUT:-target/gpu-check/report}}
    mkdir -p "$report"
    : >"$report/summary.txt"
    local device=${GPU_CHECK_DEVICE:-cuda} rounds=${GPU_CHECK_ROUNDS:-4000} config=${GPU_CHECK_CONFIG:-configs/medium.ron}
    for name in blob train infer_bench cuda-test; do
        [ -x "$bin/$name" ] || { echo "missing $bin/$name: run '$0 build' on a machine with cargo" >&2; exit 1; }
    done
    {
        echo "gpu-check on $(hostname) at $(date -u +%FT%TZ), device $device, $(nproc) cores"
        if command -v nvidia-smi >/dev/null; then
            nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
        fi
    } | tee -a "$report/summary.txt"

    if [ "$device" = cuda ]; then
        check cuda-tests 60 "$bin/cuda-test" --ignored --nocapture
    fi
    check inference 120 "$bin/infer_bench" "$device" medium
    check selfplay-medium 90 "$bin/blob" bench selfplay --device "$device" --search medium \
        --rounds "$rounds" --concurrent 1024 --max-batch 8192
    check selfplay-heavy 90 "$bin/blob" bench selfplay --device "$device" --search heavy \
        --rounds $((rounds / 2)) --concurrent 1024 --max-batch 8192
    check host-ceiling 30 "$bin/blob" bench selfplay --no-network --rounds "$rounds" --concurrent 1024 --max-batch 8192
    check train-step 30 "$bin/blob" bench train --device "$device" --batch 1024 --steps 20
    check medium-run 150 "$bin/train" --config "$config" --device "$device" \
        --run-dir "$report/medium-run" --fresh --stop-after 2

    echo "== targets (issue 15)" | tee -a "$report/summary.txt"
    target "medium self-play rounds/min" "$(field selfplay-medium 'rounds/min')" 20000
    target "medium self-play mean batch" "$(field selfplay-medium 'nn batch mean')" 2048
    target "medium self-play evaluator busy %" "$(field selfplay-medium 'evaluator busy %')" 80
    target "host ceiling, evaluations/s per core" "$(field host-ceiling 'evals/s per core')" 300000
    echo "   per-call time at batch 1 (ms): $(awk '$1 == 1 { print $3 }' "$report/inference.txt")" | tee -a "$report/summary.txt"
    echo "   selection busy % (host side of self-play, medium): $(field selfplay-medium 'selection busy %')" | tee -a "$report/summary.txt"
}

case ${1:-} in
build) build --features train/cuda,blobnet/cuda ;;
build-cpu) build ;;
run) shift; run "$@" ;;
*) echo "usage: $0 build | build-cpu | run [DIR]" >&2; exit 2 ;;
esac
