#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli_watch.sh BUILD_DIR: `cgrad watch` exits 2 at once on a missing
# DIR, follows a `cgrad train --out DIR` started after it and exits 0 with
# every epoch printed when the run ends; `train --out DIR` refuses a DIR
# another process writes (exit 2, naming DIR and the holder's PID).
. "$(dirname "$0")/cli_common.sh" "$@"
holder=
trap '[ -n "$holder" ] && kill "$holder" 2>/dev/null; rm -rf "$tmp"' EXIT

# Three blobs in 4 features.
awk 'BEGIN { srand(3); print "a,b,c,d,label";
             for (i = 0; i < 300; i++) { k = i % 3;
               printf "%.3f,%.3f,%.3f,%.3f,%d\n", k + rand(), -k + rand(), rand(), k * rand(), k } }' \
    >"$tmp/train.csv"

# A missing DIR: exit 2 at once, saying so, nothing on stdout.
start=$(date +%s)
timeout 10 "$cgrad" watch "$tmp/nope" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] || fail "watch of a missing DIR: exit $rc, expected 2"
grep -q "run directory '$tmp/nope' does not exist" "$tmp/err" || fail "watch missing DIR: $(cat "$tmp/err")"
[ ! -s "$tmp/out" ] || fail "watch missing DIR wrote to stdout: $(cat "$tmp/out")"
[ $(($(date +%s) - start)) -le 8 ] || fail "watch of a missing DIR did not exit at once"

# watch started before the run: it waits, then follows the run and exits 0
# when the run ends, with one line per epoch of metrics.jsonl.
run="$tmp/run"
mkdir "$run"
timeout 120 "$cgrad" watch "$run" --interval 0.2 >"$tmp/watch.out" 2>"$tmp/watch.err" &
watcher=$!
sleep 0.5
"$cgrad" train --data "$tmp/train.csv" --hidden 16 --epochs 12 --batch 16 --threads 1 \
    --out "$run" --quiet >"$tmp/train.out" 2>"$tmp/train.err" || fail "train: $(cat "$tmp/train.err")"
wait "$watcher"
rc=$?
[ $rc -eq 0 ] || fail "watch of a run that ended: exit $rc, expected 0 ($(cat "$tmp/watch.err"))"
lines=$(wc -l <"$run/metrics.jsonl")
[ "$lines" -eq 12 ] || fail "metrics.jsonl has $lines lines, expected 12"
shown=$(($(wc -l <"$tmp/watch.out") - 1))
[ "$shown" -eq "$lines" ] || fail "watch printed $shown epochs of $lines: $(cat "$tmp/watch.out")"
tail -1 "$tmp/watch.out" | grep -q "^ *12 " || fail "watch's last line is not epoch 12: $(tail -1 "$tmp/watch.out")"

# A finished run: watch prints it and exits 0 without waiting (so does
# --once, and the metrics file's path works as DIR).
timeout 10 "$cgrad" watch "$run" >"$tmp/out" 2>"$tmp/err" || fail "watch of a finished run: $(cat "$tmp/err")"
[ "$(wc -l <"$tmp/out")" -eq 13 ] || fail "watch of a finished run: $(cat "$tmp/out")"
timeout 10 "$cgrad" watch "$run/metrics.jsonl" --once >"$tmp/out" 2>"$tmp/err" || fail "watch --once: $(cat "$tmp/err")"
[ "$(wc -l <"$tmp/out")" -eq 13 ] || fail "watch --once: $(cat "$tmp/out")"

# One writer per DIR: while another process holds DIR's lock, train
# refuses it at once (exit 2, naming DIR and the holder), leaving the
# run's files alone; --idle still bounds a watch of a run that never ends.
cp "$run/metrics.jsonl" "$tmp/metrics.before"
flock -o "$run/.lock" sleep 30 &
holder=$!
for _ in $(seq 50); do
    if ! flock -n "$run/.lock" true 2>/dev/null; then break; fi
    sleep 0.1
done
echo "$holder" >"$run/.lock"
"$cgrad" train --data "$tmp/train.csv" --hidden 16 --epochs 2 --out "$run" --quiet \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] || fail "second writer: exit $rc, expected 2"
grep -q "run directory '$run' is in use by process $holder" "$tmp/err" \
    || fail "second writer's message: $(cat "$tmp/err")"
cmp -s "$run/metrics.jsonl" "$tmp/metrics.before" || fail "the refused run touched metrics.jsonl"
timeout 20 "$cgrad" watch "$run" --interval 0.1 --idle 0.5 >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] || fail "watch --idle of a held DIR: exit $rc ($(cat "$tmp/err"))"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
holder=

finish
