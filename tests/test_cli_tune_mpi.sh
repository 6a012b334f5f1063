#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli_tune_mpi.sh BUILD_DIR: `mpirun -np 2 cgrad tune` spreads the
# trials over 2 ranks and gives the same results.jsonl as `--jobs 2` on one
# machine for the same seed; a second run into the same --out is refused by
# every rank without hanging. Skipped (exit 0) without mpirun or when cgrad
# was built without MPI.
command -v mpirun >/dev/null || { echo "skipped: no mpirun"; exit 0; }
. "$(dirname "$0")/cli_common.sh" "$@"
cd "$tmp" || exit 1
# OpenMPI refuses to run as root without these (CI runs as root).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
mpi=(mpirun -np 2 --oversubscribe)

# The small CSV of test_cli_tune.sh: three overlapping blobs in 4 features.
blobs_csv "$tmp" 0.6 300 150

# Two rounds, so the second round's ranges come from records both ranks
# found; lr 1e6 diverges, so diverged trials travel between ranks too.
common=(--data "$tmp/train.csv" --test "$tmp/test.csv" --param 'lr=choice:0.05,0.2,1e6'
        --param units=intlog:4:32 --param 'optimizer=choice:sgd,momentum' --trials 5
        --rounds 2 --keep 2 --seed 3 --threads 1 --epochs 2 --quiet --json
        --train-args "--batch 32")
"${mpi[@]}" "$cgrad" tune "${common[@]}" --out "$tmp/m" >"$tmp/m.out" 2>"$tmp/m.err"
rc=$?
if grep -q "built without MPI" "$tmp/m.err"; then
    echo "skipped: cgrad built without MPI"
    exit 0
fi
[ $rc -eq 0 ] || fail "mpirun tune: exit $rc: $(cat "$tmp/m.err")"
"$cgrad" tune "${common[@]}" --jobs 2 --out "$tmp/j" >"$tmp/j.out" 2>"$tmp/j.err" ||
    fail "tune --jobs 2: $(cat "$tmp/j.err")"

python3 - "$tmp/m/results.jsonl" "$tmp/j/results.jsonl" <<'PY' || fail "mpirun and --jobs 2 results differ"
import json, sys
def load(p):
    return sorted((r["id"], r["round"], r["index"], r["seed"],
                   json.dumps(r["params"], sort_keys=True), r["status"], r["val_accuracy"],
                   r["test_accuracy"]) for r in map(json.loads, open(p)))
m, j = load(sys.argv[1]), load(sys.argv[2])
assert len(m) == 10 and [r[0] for r in m] == list(range(10)), m  # each trial once
assert any(r[5] == "diverged" for r in m) and any(r[5] == "ok" for r in m), m
assert m == j, (m, j)
# Rank r ran the trials k % 2 == r of each round (all were to do), once.
for r in map(json.loads, open(sys.argv[1])):
    assert r["rank"] == r["index"] % 2, r
assert all(r["rank"] == 0 for r in map(json.loads, open(sys.argv[2])))
PY
n_dirs=$(ls -d "$tmp"/m/trials/r*-* 2>/dev/null | wc -l)
[ "$n_dirs" -eq 10 ] || fail "mpirun tune: $n_dirs trial directories, expected 10"
# Only rank 0 reports: one JSON summary line, the same best as --jobs 2.
[ "$(grep -c '^{' "$tmp/m.out")" -eq 1 ] || fail "mpirun tune: not one summary line: $(cat "$tmp/m.out")"
python3 - "$tmp/m.out" "$tmp/j.out" <<'PY' || fail "mpirun and --jobs 2 best trials differ"
import json, sys
m, j = (json.loads(open(p).read().splitlines()[-1]) for p in sys.argv[1:])
assert m["best_id"] == j["best_id"] and m["command"] == j["command"], (m, j)
PY
cmp -s "$tmp/m/tune.json" "$tmp/j/tune.json" || fail "tune.json (the rounds' ranges) differs"

# An existing --out: rank 0 refuses, and the job ends instead of hanging.
timeout 120 "${mpi[@]}" "$cgrad" tune "${common[@]}" --out "$tmp/m" >"$tmp/e.out" 2>"$tmp/e.err"
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "mpirun tune into an existing --out: exit $rc"
grep -q -- "--resume" "$tmp/e.err" || fail "mpirun tune: no --resume hint: $(cat "$tmp/e.err")"
[ "$(wc -l <"$tmp/m/results.jsonl")" -eq 10 ] || fail "the refused run changed results.jsonl"

# --resume under mpirun: rank 0 shares results.jsonl, nothing runs again.
python3 - "$tmp/m/results.jsonl" <<'PY'
import sys
p = sys.argv[1]
lines = open(p).read().splitlines(keepends=True)
keep = [l for l in lines if '"round":0' in l]
open(p, "w").writelines(keep)
PY
timeout 300 "${mpi[@]}" "$cgrad" tune "${common[@]}" --out "$tmp/m" --resume >"$tmp/r.out" 2>"$tmp/r.err" ||
    fail "mpirun tune --resume: $(cat "$tmp/r.err")"
python3 - "$tmp/m/results.jsonl" "$tmp/j/results.jsonl" <<'PY' || fail "mpirun --resume results differ"
import json, sys
def load(p):
    return sorted((r["id"], r["seed"], json.dumps(r["params"], sort_keys=True), r["status"],
                   r["val_accuracy"]) for r in map(json.loads, open(p)))
m, j = load(sys.argv[1]), load(sys.argv[2])
assert m == j, (m, j)
PY

finish
