#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/contention/run.sh [BUILD_DIR]: cgrad's default thread count on a
# busy machine, against --threads 1 and against PyTorch's better of 1 and 2
# threads in the same contention. Not a test: it prints a Markdown table.
#
# Scenarios: idle; one busy process beside the run (a shell loop this
# script starts and stops by its PID); two runs side by side (two
# experiments, or `tune --jobs 2`: each run's speed, the mean of the two).
# Models (issue 22): small 784-64-10, SGD, batch 32; large 784-512-512-10,
# Adam, batch 128; 12,000 Fashion-MNIST images, speed = training examples
# per second as `cgrad train --json` reports it. PyTorch runs the same
# models on data in memory (bench/torch_bench.py, configs C and A).
#
# A second table finds the cause: the small model, two runs side by side,
# at a fixed 2 threads with libgomp's default wait (spin, then sleep),
# with passive waiting (OMP_WAIT_POLICY=passive: sleep at once), and at 1
# thread.
#
# Environment: CONTENTION_SMALL_EPOCHS (default 20), CONTENTION_LARGE_EPOCHS
# (default 3), CONTENTION_TORCH_SCALE (BENCH_SCALE of torch_bench.py,
# default 0.3), CONTENTION_SCENARIOS (default "idle busy pair"),
# CONTENTION_CAUSE (default 1; 0 skips the second table), CONTENTION_REPS
# (default 3: cgrad's default and --threads 1 each run that many times,
# alternately, and the median of each is reported).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/bench/lib.sh"
build=$(bench_dir "${1:-build}")
cgrad=$build/cgrad
py=/usr/bin/python3
[ -x "$cgrad" ] || { echo "contention: no $cgrad (build first: make)" >&2; exit 2; }
small_epochs=${CONTENTION_SMALL_EPOCHS:-20}
large_epochs=${CONTENTION_LARGE_EPOCHS:-3}
torch_scale=${CONTENTION_TORCH_SCALE:-0.3}
reps=${CONTENTION_REPS:-3}
tmp=$(mktemp -d)
busy=""
cleanup() {
    [ -z "$busy" ] || kill "$busy" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

have_torch=0
need_python torch python3-torch python3-numpy && have_torch=1

busy_start() {
    bash -c 'while :; do :; done' &
    busy=$!
}
busy_stop() {
    kill "$busy"
    wait "$busy" 2>/dev/null || true
    busy=""
}

model_flags() { # small|large
    case $1 in
    small) echo "--hidden 64 --optimizer sgd --lr 0.1 --batch 32 --epochs $small_epochs" ;;
    large) echo "--hidden 512,512 --optimizer adam --lr 1e-3 --batch 128 --epochs $large_epochs" ;;
    esac
}
torch_config() { case $1 in small) echo C ;; large) echo A ;; esac; }

# cg MODEL THREADS TAG: starts one training run in the background; its
# examples per second land in $tmp/TAG.
cg() {
    local threads=()
    [ "$2" = default ] || threads=(--threads "$2")
    # shellcheck disable=SC2046
    "$cgrad" train --subset 12000 --val-split 0 --patience 0 $(model_flags "$1") --seed 1 \
        "${threads[@]}" --out "$tmp/run-$3" --quiet --json 2>"$tmp/$3.err" |
        "$py" -c 'import json,sys; print(json.load(sys.stdin)["examples_per_second"])' >"$tmp/$3" &
}
th() { # th MODEL THREADS TAG: PyTorch, as cg
    BENCH_SCALE=$torch_scale "$py" "$root/bench/torch_bench.py" "$(torch_config "$1")" "$2" 2>"$tmp/$3.err" |
        sed -n 's/.* ex_per_s=\([^ ]*\).*/\1/p' >"$tmp/$3" &
}
# speed KIND MODEL THREADS PAIR: examples/s of one run (PAIR=1) or the mean
# of two side by side (PAIR=2).
speed() {
    local kind=$1 model=$2 t=$3 pair=$4 i
    for i in $(seq "$pair"); do "$kind" "$model" "$t" "$kind$i"; done
    wait
    for i in $(seq "$pair"); do
        [ -s "$tmp/$kind$i" ] || { echo "contention: $kind $model $t failed: $(cat "$tmp/$kind$i.err")" >&2; exit 1; }
    done
    cat "$tmp/$kind"[1-9] | awk '{ s += $1 } END { printf "%.0f", s / NR }'
}

echo "| scenario | model | default | --threads 1 | default / threads 1 | PyTorch best of 1, 2 | default / PyTorch |"
echo "|---|---|---|---|---|---|---|"
for scenario in ${CONTENTION_SCENARIOS:-idle busy pair}; do
    pair=1
    [ "$scenario" = pair ] && pair=2
    [ "$scenario" = busy ] && busy_start
    for model in small large; do
        # The default and one thread alternate, REPS times each, and each
        # column is the median: this machine has slow phases (both
        # settings at a third of their speed for a minute) that one
        # sample of each would put into the ratio.
        ds="" ones=""
        for _ in $(seq "$reps"); do
            ds="$ds $(speed cg "$model" default "$pair")"
            ones="$ones $(speed cg "$model" 1 "$pair")"
        done
        d=$(echo "$ds" | median)
        one=$(echo "$ones" | median)
        tb="-"
        if [ "$have_torch" = 1 ]; then
            t1=$(speed th "$model" 1 "$pair")
            t2=$(speed th "$model" 2 "$pair")
            tb=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.0f", (a + 0 > b + 0 ? a : b) }')
        fi
        echo "| $scenario | $model | $d | $one | $(ratio "$d" "$one") | $tb | $(ratio "$d" "$tb") |"
    done
    [ "$scenario" = busy ] && busy_stop
done
if [ "${CONTENTION_CAUSE:-1}" = 1 ]; then
    echo
    echo "| two small runs side by side | examples/s each |"
    echo "|---|---|"
    echo "| --threads 2, libgomp's default wait | $(speed cg small 2 2) |"
    echo "| --threads 2, OMP_WAIT_POLICY=passive | $(OMP_WAIT_POLICY=passive speed cg small 2 2) |"
    echo "| --threads 1 | $(speed cg small 1 2) |"
    echo "| default (adaptive) | $(speed cg small default 2) |"
fi
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
