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

# need_python MODULE PACKAGE...: 0 when /usr/bin/python3 imports MODULE,
# after installing the Debian PACKAGEs (apt-get; sudo only when not root)
# if it did not; else 1, with a line on stderr. A peer that cannot be
# installed costs its column, not the whole benchmark.
need_python() {
  local module=$1
  shift
  /usr/bin/python3 -c "import $module" 2> /dev/null && return 0
  echo "bench: python3 lacks $module, installing $* (apt-get)" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  if $sudo apt-get update -q > /dev/null 2>&1 &&
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "$@" \
      > /dev/null 2>&1 && /usr/bin/python3 -c "import $module" 2> /dev/null; then
    return 0
  fi
  echo "bench: $* could not be installed: the $module column is skipped" >&2
  return 1
}
