# SPDX-License-Identifier: MIT
# lib.sh: what the benchmark scripts share. Source it after setting root
# (the repository's top directory):  . "$root/bench/lib.sh"

# bench_dir DIR: DIR, made absolute against the repository's top.
bench_dir() { case $1 in /*) echo "$1" ;; *) echo "$root/$1" ;; esac; }

# The median of the numbers on stdin (any whitespace between them; the
# mean of the middle two for an even count). Medians, not means: this
# machine has slow phases, and one slow run must not move the figure.
median() {
  tr -s ' \t' '\n' | grep . | sort -g |
    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Examples per second from bench_train's or cnn_bench's line (ex_per_s=...).
ex_per_s() { sed -n 's/.*ex_per_s=\([0-9.]*\).*/\1/p' | head -n 1; }

# ratio A B [FORMAT]: A / B (default %.2f), or "-" when B is not positive.
ratio() { awk -v a="$1" -v b="$2" -v f="${3:-%.2f}" 'BEGIN { if (b > 0) printf f, a / b; else printf "-" }'; }
