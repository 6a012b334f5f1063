#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The thread count never changes a run's results: every product, batch of
# convolution images and sum is cut into parts fixed by the shape and the
# machine (cg_thread_parts), not by the threads running now. Trains the
# same runs at --threads 1 and 2 and compares the checkpoints byte for
# byte: an MLP with batch norm, dropout, gradient clipping and Adam at a
# batch that splits unevenly, and two CNNs (batch norm over channels,
# strided, pooled, grouped images over threads), and the MLP in bf16 where
# it can run. The default (adaptive)
# thread count depends on this to change threads between steps.
. "$(dirname "$0")/cli_common.sh" "$@"

same_bits() {
    local name=$1
    shift
    for t in 1 2; do
        "$cgrad" train --seed 3 --threads "$t" --out "$tmp/$name$t" --quiet --json "$@" \
            >"$tmp/$name$t.json" 2>"$tmp/err" || fail "$name at $t threads: $(cat "$tmp/err")"
    done
    cmp -s "$tmp/${name}1/last.safetensors" "$tmp/${name}2/last.safetensors" ||
        fail "$name: the checkpoints at 1 and 2 threads differ"
    # The reported losses too (all but the timings).
    diff <(sed 's/,"train_seconds.*//' "$tmp/${name}1.json") \
        <(sed 's/,"train_seconds.*//' "$tmp/${name}2.json") >/dev/null ||
        fail "$name: the results at 1 and 2 threads differ"
}

same_bits mlp --subset 4000 --epochs 2 --hidden 300,100 --bn --dropout 0.2 --clip-norm 1 \
    --batch 100 --optimizer adam
same_bits cnn --subset 600 --epochs 1 --arch conv8x3,bn,maxpool2,conv16x3s2,gap,dense32 --batch 50
same_bits cnn_odd --subset 300 --epochs 1 --arch conv6x5p0,avgpool2,dropout0.1,dense16 --batch 37
# bf16 too: at one thread a product runs as one call where that gives its
# parts' bits (matmul.c checks each shape), so both counts must agree.
if "$cgrad" train --subset 100 --epochs 1 --hidden 8 --precision bf16 \
    --quiet --out "$tmp/probe" >/dev/null 2>"$tmp/err"; then
    same_bits mlp_bf16 --subset 4000 --epochs 2 --hidden 512,512 --batch 128 --optimizer adam \
        --precision bf16
else
    echo "note: no bf16 here ($(cat "$tmp/err")); skipping the bf16 run" >&2
fi
finish "test_cli_threads: ok"
