#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make-man.sh CGRAD OUT.1.gz: the man page cgrad(1), made by help2man from
# the command's own texts: `cgrad --help` and `cgrad --version` for the
# synopsis, description and version, and `cgrad help CMD` of every command
# that `cgrad --help` lists, one subsection each under COMMANDS. The page
# therefore says what the flag tables say, at build time.
set -euo pipefail
cgrad=${1:?usage: make-man.sh CGRAD OUT.1.gz}
out=${2:?usage: make-man.sh CGRAD OUT.1.gz}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

commands=$("$cgrad" --help | awk '/^commands:/ {on = 1; next} /^$/ {on = 0} on && $1 != "help" {print $1}')
[ -n "$commands" ] || { echo "make-man.sh: '$cgrad --help' lists no commands" >&2; exit 1; }
{
    echo "[COMMANDS]"
    for c in $commands; do
        echo ".SS cgrad $c"
        echo ".nf"
        # Help text as literal lines: escape backslashes, protect a leading
        # dot or quote from roff.
        "$cgrad" help "$c" | sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"
        echo ".fi"
    done
    echo "[SEE ALSO]"
    echo "The README of cgrad, and docs/deploy.md for linking the library, the generated C"
    echo "and ONNX export."
} >"$tmp/include"
help2man --no-info --section=1 --include="$tmp/include" \
    --name="deep-learning framework in C: train, tune, evaluate and export neural networks" \
    "$cgrad" >"$tmp/cgrad.1"
gzip -9n -c "$tmp/cgrad.1" >"$out"
