#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# mpi.sh: data-parallel scaling of `cgrad train` on this machine: examples
# per second for N = 1 and N = 2 ranks (configuration A of bench/run.sh:
# 784-512-512-10 ReLU, Adam, global batch 128, one epoch of Fashion-MNIST),
# median of 3 runs, and the scaling efficiency
#   E = rate(N = 2, 1 thread each) / (2 * rate(N = 1, 1 thread)).
# N = 1 with all cores is shown too: on one machine, threads inside GEMM
# compete with ranks for the same cores. Writes bench/RESULTS-mpi.md.
#
#   bash bench/mpi.sh [BUILD_DIR]      (default: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
build=$(bench_dir "${1:-build}")
cgrad=$build/cgrad
runs=${BENCH_RUNS:-3}
[ -x "$cgrad" ] || { echo "mpi.sh: build cgrad first ($cgrad missing)" >&2; exit 1; }
command -v mpirun > /dev/null || { echo "mpi.sh: mpirun missing (apt-get install openmpi-bin)" >&2; exit 1; }
# OpenMPI refuses root without these; harmless otherwise.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
args=(train --hidden 512,512 --optimizer adam --batch 128 --epochs 1 --val-split 0 --quiet --json)

rate() { # prints examples/s of one run
    "$@" 2> /dev/null | grep '^{' | tail -n 1 |
        /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["examples_per_second"])'
}
measure() { for _ in $(seq "$runs"); do rate "$@"; done | median; }

cores=$(nproc)
r1=$(measure "$cgrad" "${args[@]}" --threads 1)
r1all=$(measure "$cgrad" "${args[@]}" --threads "$cores")
r2=$(measure mpirun -np 2 --oversubscribe "$cgrad" "${args[@]}" --threads 1)
eff=$(awk -v a="$r2" -v b="$r1" 'BEGIN {printf "%.2f", a / (2 * b)}')

{
    echo "## Data-parallel scaling (bench/mpi.sh)"
    echo
    echo "$(date -u +%Y-%m-%d), $(lscpu | sed -n 's/^Model name: *//p'), $cores cores; median of $runs runs;"
    echo "784-512-512-10 ReLU, Adam, global batch 128, 1 epoch of Fashion-MNIST (60,000 images)."
    echo
    echo "| ranks × threads | examples/s |"
    echo "|---|---|"
    printf '| 1 × 1 | %.0f |\n' "$r1"
    printf '| 1 × %d | %.0f |\n' "$cores" "$r1all"
    printf '| 2 × 1 | %.0f |\n' "$r2"
    echo
    echo "Scaling efficiency 2 ranks vs 1 (1 thread each): $eff"
} | tee "$root/bench/RESULTS-mpi.md"
