#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run.sh: `make bench`. cgrad against PyTorch (CPU) and against the GEMM
# roofline on configurations A-E and inference; prints a table and writes
# bench/RESULTS.md. Never part of the test suite.
#
#   bash bench/run.sh [BUILD_DIR]      (default: build-bench)
# Environment: BENCH_SCALE scales step counts (default 1); BENCH_THREADS the
# threads cgrad uses (default 2); BENCH_CONFIGS the list (default all).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build-bench}
case $build in /*) ;; *) build="$root/$build" ;; esac
threads=${BENCH_THREADS:-2}
configs=${BENCH_CONFIGS:-"A B C D E infer1 infer1000"}
py=/usr/bin/python3 # Debian's python3-torch is installed for this one

# The library, the CLI and the bench programs, in one Release build.
cmake -S "$root/bench" -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$build" -j "$(nproc)" > /dev/null
out="$build"
cli="$build/cgrad/cgrad"

# PyTorch: Debian's python3-torch, installed if missing (sudo only when not
# root); without it the comparison is skipped, the rest still runs.
have_torch=0
if "$py" -c "import torch" 2> /dev/null; then
  have_torch=1
else
  echo "bench: python3-torch missing, installing it (apt-get)" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo -n"; fi
  if $sudo apt-get update -q > /dev/null 2>&1 &&
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
      python3-torch python3-numpy > /dev/null 2>&1 &&
    "$py" -c "import torch" 2> /dev/null; then
    have_torch=1
  else
    echo "bench: python3-torch could not be installed: skipping the PyTorch comparison" >&2
  fi
fi

field() { # field "LINE" KEY -> value of KEY=value in LINE
  sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<< "$1"
}

# Median of 3 processes (by examples/s): a process whose threads the OS
# happened to place badly is outvoted. Each process is itself the median of
# 3 timed repetitions.
median3() {
  local runs=() line
  for _ in 1 2 3; do
    line=$("$@")
    runs+=("$(field "$line" ex_per_s) $line")
  done
  printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p | cut -d' ' -f2-
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
rows=()
# cgrad and the roofline alternate, 3 rounds: on a shared machine the speed
# of both drifts with the neighbours' load, by tens of percent within
# seconds to minutes. Each round times the roofline just before and just
# after cgrad, and its ratio is cgrad's against the mean of the two.
# Reported: cgrad's median process, the roofline's median of its 6 runs,
# and the median of the 3 ratios.
paired3() { # paired3 CONFIG -> "CGRAD_LINE|ROOFLINE_LINE|FRACTION"
  local cgs=() rls=() fracs=() a b c
  for _ in 1 2 3; do
    b=$("$out/roofline" "$1" "$threads")
    a=$("$out/bench_train" "$1" "$threads")
    c=$("$out/roofline" "$1" "$threads")
    cgs+=("$(field "$a" ex_per_s) $a")
    rls+=("$(field "$b" ex_per_s) $b" "$(field "$c" ex_per_s) $c")
    fracs+=("$(awk -v x="$(field "$a" ex_per_s)" -v y="$(field "$b" ex_per_s)" \
      -v z="$(field "$c" ex_per_s)" 'BEGIN { printf "%.2f", 2 * x / (y + z) }')")
  done
  printf '%s|%s|%s\n' "$(printf '%s\n' "${cgs[@]}" | sort -n | sed -n 2p | cut -d' ' -f2-)" \
    "$(printf '%s\n' "${rls[@]}" | sort -n | sed -n 3p | cut -d' ' -f2-)" \
    "$(printf '%s\n' "${fracs[@]}" | sort -n | sed -n 2p)"
}

for c in $configs; do
  echo "bench: $c ..." >&2
  pair=$(paired3 "$c")
  cg=${pair%%|*}
  rest=${pair#*|}
  rl=${rest%%|*}
  frac=${rest#*|}
  cg_eps=$(field "$cg" ex_per_s)
  cg_us=$(field "$cg" us_per_step)
  cg_rss=$(($(field "$cg" rss_kib) / 1024))
  cg_ovh=$(field "$cg" overhead_us)
  [ -n "$cg_ovh" ] || cg_ovh="-"
  rl_eps=$(field "$rl" ex_per_s)
  t_eps="-" t_us="-" t_thr="-" t_rss="-" ratio="-"
  if [ $have_torch = 1 ]; then
    for t in 1 2; do
      line=$(median3 "$py" "$root/bench/torch_bench.py" "$c" "$t")
      e=$(field "$line" ex_per_s)
      if [ "$t_eps" = "-" ] || [ "$e" -gt "$t_eps" ]; then
        t_eps=$e t_us=$(field "$line" us_per_step) t_thr=$t
        t_rss=$(($(field "$line" rss_kib) / 1024))
      fi
    done
    ratio=$(awk -v a="$cg_eps" -v b="$t_eps" 'BEGIN { printf "%.2f", a / b }')
  fi
  rows+=("| $c | $cg_eps | $cg_us | $cg_ovh | $t_eps ($t_thr) | $t_us | $ratio | $rl_eps | $frac | $cg_rss | $t_rss |")
done

# Peak RSS of the CLI training config A for one epoch on Fashion-MNIST.
train_rss="- (no Fashion-MNIST)"
if [ -d /usr/share/datasets/fashion-mnist ] && [ -x "$cli" ]; then
  echo "bench: cgrad train (config A, 1 epoch) ..." >&2
  tv=$( { /usr/bin/time -v "$cli" train --hidden 512,512 --epochs 1 --batch 128 \
    --threads "$threads" --quiet > /dev/null; } 2>&1)
  kib=$(sed -n 's/.*Maximum resident set size (kbytes): //p' <<< "$tv")
  wall=$(sed -n 's/.*Elapsed (wall clock) time.*: //p' <<< "$tv")
  train_rss="$((kib / 1024)) MiB (wall $wall)"
fi

header="| config | cgrad ex/s | cgrad µs/step | cgrad overhead µs/step | torch ex/s (threads) | torch µs/step | cgrad/torch | roofline ex/s | fraction of roofline | cgrad RSS MiB | torch RSS MiB |
|---|---|---|---|---|---|---|---|---|---|---|"
table=$(printf '%s\n' "$header" "${rows[@]}")
echo "$table"
echo "cgrad train --hidden 512,512 --epochs 1 --batch 128: peak RSS $train_rss"

{
  echo "# Benchmark results"
  echo
  echo "Generated by \`make bench\` (bench/run.sh); see bench/README.md for what is measured"
  echo "and bench/OPTIMIZATIONS.md for what each optimisation bought."
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores"
  echo "- load average (1, 5, 15 min) at the start: $load_start; at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- cgrad threads: $threads; BENCH_SCALE=${BENCH_SCALE:-1}"
  echo "- PyTorch: $([ $have_torch = 1 ] && "$py" -c 'import torch; print(torch.__version__)' || echo 'not available')"
  echo "- commands: \`$out/bench_train CONFIG $threads\`, \`$out/roofline CONFIG $threads\`,"
  echo "  \`$py bench/torch_bench.py CONFIG 1|2\` (best of the two thread counts)"
  echo
  echo "Training configs: examples/s of whole steps (forward, backward, optimizer"
  echo "update). infer1: batch-1 forward to probabilities (µs/step is the latency);"
  echo "infer1000: batch-1000 forward. Each figure: the median of 3 processes, each"
  echo "the median of 3 timed repetitions; peak RSS from the median process."
  echo "cgrad and the roofline run alternately, 3 rounds, the roofline just"
  echo "before and just after cgrad in each; a round's ratio is cgrad's against"
  echo "the mean of those two, and the fraction of the roofline is the median"
  echo "of the 3 ratios (the roofline column: the median of its 6 runs). Overhead: the"
  echo "framework's own time per step outside its ops (graph walk, marks,"
  echo "checks), from a repetition run with the graph profiler on."
  echo
  echo "$table"
  echo
  echo "Peak RSS of \`cgrad train --hidden 512,512 --epochs 1 --batch 128\`: $train_rss"
} > "$root/bench/RESULTS.md"
echo "bench: wrote bench/RESULTS.md" >&2
