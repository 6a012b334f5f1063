#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_quadratic.sh BUILD_DIR: the quadratic example converges. Line 1 is w
# after one step (0.1 exactly), line 2 after 1000 steps (the minimum, 5),
# lines 3 and 4 with coefficients fed through a placeholder (minima 5, 10).
set -u
bin="${1:?usage: test_quadratic.sh BUILD_DIR}/quadratic"
out=$("$bin") || { echo "quadratic failed (exit $?)" >&2; exit 1; }
printf '%s\n' "$out"
printf '%s\n' "$out" | awk '
function near(v, want, tol) { return v - want <= tol && want - v <= tol }
{ n++ }
n == 1 && $0 != "w = 0.100000" { print "line 1: " $0 " != w = 0.100000"; bad = 1 }
n == 2 && !($1 == "w" && near($3, 5, 1e-4)) { print "line 2: " $0 " not within 1e-4 of 5"; bad = 1 }
n == 3 && !($1 == "w" && near($3, 5, 1e-3)) { print "line 3: " $0 " not within 1e-3 of 5"; bad = 1 }
n == 4 && !($1 == "w" && near($3, 10, 1e-3)) { print "line 4: " $0 " not within 1e-3 of 10"; bad = 1 }
END {
    if (n != 4) { print "expected 4 lines, got " n; bad = 1 }
    exit bad
}' >&2
