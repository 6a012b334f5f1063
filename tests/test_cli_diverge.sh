#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli_diverge.sh BUILD_DIR: a run that diverges fails (not exit 0)
# with a message suggesting a lower learning rate, writing no checkpoint of
# the diverged epoch; features that overflow are refused naming row and
# column. (The exit code of divergence is the CLI's; here only "not 0".)
. "$(dirname "$0")/cli_common.sh" "$@"

# --lr 1e6 on a Fashion-MNIST subset: Adam keeps every value finite and
# accuracy at chance; the epoch's loss is far above chance's: diverged.
"$cgrad" train --subset 2000 --epochs 3 --lr 1e6 --threads 2 --out "$tmp/run" \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -ne 0 ] || fail "--lr 1e6 exited 0"
grep -q "diverged" "$tmp/err" || fail "--lr 1e6: no 'diverged' in: $(cat "$tmp/err")"
grep -q "try a lower learning rate" "$tmp/err" || fail "--lr 1e6: no advice in: $(cat "$tmp/err")"
[ ! -e "$tmp/run/last.safetensors" ] || fail "--lr 1e6 saved the diverged epoch"
[ ! -s "$tmp/run/metrics.jsonl" ] || fail "--lr 1e6 logged the diverged epoch"

# Values near FLT_MAX without standardisation overflow: refused up front.
awk 'BEGIN { print "a,b,label"; for (i = 0; i < 60; i++) printf "%g,%g,%d\n", (i % 2 ? 3e38 : -3e38), i, i % 2 }' \
    >"$tmp/big.csv"
"$cgrad" train --data "$tmp/big.csv" --no-standardize --epochs 1 --val-split 0 >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -ne 0 ] || fail "3e38 features without standardisation exited 0"
grep -q "row 0, feature column 0 (0-based) is -3e+38 after normalisation" "$tmp/err" ||
    fail "3e38 features: $(cat "$tmp/err")"
# Standardised, the same data train.
"$cgrad" train --data "$tmp/big.csv" --epochs 1 --val-split 0 --quiet >"$tmp/out" 2>"$tmp/err" ||
    fail "3e38 features standardised: $(cat "$tmp/err")"

finish
