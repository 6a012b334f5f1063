#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli_tune.sh BUILD_DIR: `cgrad tune` end to end on a small CSV:
# usage errors, two rounds with --jobs 2, a diverging trial recorded as
# diverged (never the best), the same results with --jobs 1, the best
# command reproducing its accuracy, --resume after Ctrl-C running only unfinished trials, plots and
# `cgrad watch`.
. "$(dirname "$0")/cli_common.sh" "$@"
cd "$tmp" || exit 1 # tune's default --out is ./tune-out: keep it in here

# Three overlapping gaussian blobs in 4 features (so accuracy varies with
# the hyperparameters), train and test CSVs.
blobs_csv "$tmp" 0.6 300 150
data=(--data "$tmp/train.csv" --test "$tmp/test.csv")

# No space given: the default space around the base, printed at start.
"$cgrad" tune "${data[@]}" --trials 2 --jobs 1 --out "$tmp/default" --json -- --hidden 16 \
    >"$tmp/out" 2>"$tmp/err" || fail "tune with the default space: $(cat "$tmp/err")"
for p in "lr=loguniform:0.0001:0.01" "batch=choice:32|64|128|256" "weight_decay=" \
    "units=intlog:4:32" "layers=choice:1" "dropout=uniform:0:0.5"; do
    grep -qF -- "$p" "$tmp/err" || fail "default space lacks $p: $(cat "$tmp/err")"
done
[ "$(wc -l <"$tmp/default/results.jsonl")" = 2 ] || fail "default space: not 2 trials"
expect_usage "unknown parameter 'speed'" tune "${data[@]}" --param speed=uniform:0:1
expect_usage "unknown distribution 'normal'" tune "${data[@]}" --param lr=normal:0:1
expect_usage "below" tune "${data[@]}" --param lr=loguniform:1:1e-3
expect_usage "positive" tune "${data[@]}" --param lr=loguniform:0:1
expect_usage "outside" tune "${data[@]}" --param beta1=uniform:0.5:1
expect_usage "--bogus" tune "${data[@]}" --param lr=loguniform:1e-3:1 --bogus
expect_usage "--jobs" tune "${data[@]}" --param lr=loguniform:1e-3:1 --jobs 0
expect_usage "--val-split" tune "${data[@]}" --param lr=loguniform:1e-3:1 --val-split 0
echo '{"lr": "loguniform:1e-3:1", "optimizer": ["adam", "nope"]}' >"$tmp/bad.json"
expect_usage "nope" tune "${data[@]}" --space "$tmp/bad.json"
expect_usage "cannot read" tune "${data[@]}" --space "$tmp/missing.json"
expect_usage "arch: layer 2 'maxpol2' is not a layer" tune "${data[@]}" --param 'arch=choice:dense8,maxpol2|dense4'
expect_usage "arch and units cannot both be searched" tune "${data[@]}" --param 'arch=choice:dense8|dense4' \
    --param units=int:2:8
[ ! -e tune-out ] || fail "a usage error created tune-out"
"$cgrad" tune --help | grep -q "one_minus_log" || fail "tune --help lacks the spec format"

# Architectures from a list: each trial trains one; the best's command
# line gives it as --arch.
"$cgrad" tune "${data[@]}" --param 'arch=choice:dense8|dense16,bn,dense8' --trials 3 --epochs 2 \
    --threads 1 --out "$tmp/arch" >"$tmp/arch.out" 2>"$tmp/arch.err" || fail "tune arch: $(cat "$tmp/arch.err")"
grep -q -- "cgrad train .*--arch dense" "$tmp/arch.out" || fail "tune arch: no --arch in the best command"
python3 - "$tmp/arch/results.jsonl" <<'PY' || fail "tune arch: results"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 3 and all(r["status"] == "ok" for r in rows), rows
assert all(r["params"]["arch"] in ("dense8", "dense16,bn,dense8") for r in rows), rows
PY

# A space from a file and flags; lr 1e6 diverges, so some trials are diverged.
cat >"$tmp/space.json" <<'EOF'
{"lr": {"choice": [0.05, 0.2, 1e6]}, "units": "intlog:4:32"}
EOF
common=("${data[@]}" --space "$tmp/space.json" --param 'optimizer=choice:sgd,momentum'
        --trials 5 --rounds 2 --keep 2 --seed 3 --threads 1 --epochs 2 --quiet --json
        --train-args "--batch 32")
"$cgrad" tune "${common[@]}" --jobs 2 --out "$tmp/a" >"$tmp/a.out" 2>"$tmp/a.err"
rc=$?
[ $rc -eq 0 ] || fail "tune --jobs 2: exit $rc: $(cat "$tmp/a.err")"
python3 - "$tmp/a" "$tmp/a.out" <<'PY' || fail "results.jsonl checks"
import json, sys
d = sys.argv[1]
rows = [json.loads(l) for l in open(f"{d}/results.jsonl")]
assert len(rows) == 10, len(rows)
assert sorted(r["id"] for r in rows) == list(range(10)), [r["id"] for r in rows]
for r in rows:
    for k in ("id", "round", "index", "seed", "params", "status", "reason", "val_accuracy",
              "test_accuracy", "seconds", "epochs", "config"):
        assert k in r, (k, r)
    assert set(r["params"]) == {"lr", "units", "optimizer"}, r["params"]
    assert r["round"] == r["id"] // 5 and r["index"] == r["id"] % 5, r
    assert 4 <= r["params"]["units"] <= 32, r
    if r["status"] == "ok":
        assert len(r["epochs"]) == 2 and r["epochs"][1]["epoch"] == 2, r["epochs"]
        assert 0 <= r["val_accuracy"] <= 1 and r["seconds"] > 0, r
        assert r["reason"] is None, r
    else:
        assert r["status"] == "diverged" and "diverged" in r["reason"], r
        assert "lower learning rate" in r["reason"], r
diverged = [r for r in rows if r["status"] == "diverged"]
# A choice is recorded as its string, as given.
assert diverged and all(float(r["params"]["lr"]) == 1e6 for r in diverged), diverged
# The summary counts them and never names one as the best.
summary = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
assert summary["diverged"] == len(diverged) and summary["failed"] == 0, summary
assert summary["best_id"] not in {r["id"] for r in diverged}, summary
assert all(r["status"] == "ok" for r in rows if float(r["params"]["lr"]) != 1e6)
# Round 1 samples only among the choices the best of round 0 used.
best = sorted((r for r in rows if r["round"] == 0 and r["status"] == "ok"),
              key=lambda r: (-r["val_accuracy"], r["id"]))[:2]
for r in rows:
    if r["round"] == 1:
        assert r["params"]["lr"] in {b["params"]["lr"] for b in best}, (r, best)
        assert r["params"]["optimizer"] in {b["params"]["optimizer"] for b in best}, (r, best)
t = json.load(open(f"{d}/tune.json"))
assert len(t["rounds"]) == 2 and t["scale"]["units"] == "log", t
lo, hi = map(float, t["rounds"][1]["units"].split(":")[1:])
assert 4 <= lo and hi <= 32 and hi - lo < 28, t["rounds"][1]
assert all(lo <= b["params"]["units"] <= hi for b in best), (lo, hi, best)
PY

# The same seed gives the same trials, one job at a time.
"$cgrad" tune "${common[@]}" --jobs 1 --out "$tmp/b" >"$tmp/b.out" 2>"$tmp/b.err" ||
    fail "tune --jobs 1: $(cat "$tmp/b.err")"
python3 - "$tmp/a/results.jsonl" "$tmp/b/results.jsonl" <<'PY' || fail "--jobs 1 and --jobs 2 differ"
import json, sys
def load(p):
    return sorted((r["id"], r["seed"], json.dumps(r["params"], sort_keys=True), r["status"],
                   r["val_accuracy"]) for r in map(json.loads, open(p)))
a, b = load(sys.argv[1]), load(sys.argv[2])
assert a == b, (a, b)
PY

# The best command line, run again, gives the recorded val accuracy.
tail -n 1 "$tmp/a.out" >"$tmp/best.json"
cmd=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["command"])' "$tmp/best.json") ||
    fail "no JSON summary line: $(cat "$tmp/a.out")"
case "$cmd" in "cgrad train "*) ;; *) fail "best command: '$cmd'" ;; esac
eval "\"$cgrad\" ${cmd#cgrad } --threads 1 --json --quiet" >"$tmp/rerun" 2>"$tmp/err" ||
    fail "best command failed: $cmd: $(cat "$tmp/err")"
python3 - "$tmp/best.json" "$tmp/rerun" <<'PY' || fail "best command does not reproduce its val accuracy"
import json, sys
best = json.load(open(sys.argv[1]))
rerun = json.loads(open(sys.argv[2]).read().splitlines()[-1])
assert abs(best["val_accuracy"] - rerun["val_accuracy"]) < 1e-9, (best, rerun)
PY

# An existing search is not overwritten; --resume with another seed refuses.
expect_usage "--resume" tune "${common[@]}" --out "$tmp/a"
cp -r "$tmp/a" "$tmp/c"
seed4=("${common[@]}")
for i in "${!seed4[@]}"; do [ "${seed4[i]}" = --seed ] && seed4[i+1]=4; done
expect_usage "other parameters" tune "${seed4[@]}" --out "$tmp/c" --resume

# Ctrl-C: the running trial stops, finished ones stay; --resume runs only
# the rest. Trials of 100 epochs (a checkpoint each) last long enough to be
# interrupted: Ctrl-C comes as soon as the first has finished.
slow=("${data[@]}" --param 'lr=loguniform:1e-3:1e-1' --trials 3 --threads 1 --epochs 100
      --out "$tmp/s" --quiet)
"$cgrad" tune "${slow[@]}" >"$tmp/s.out" 2>"$tmp/s.err" &
pid=$!
for _ in $(seq 1200); do
    [ -s "$tmp/s/results.jsonl" ] && break
    sleep 0.05
done
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 130 ] || fail "interrupted tune: exit $rc, expected 130"
grep -q "resume" "$tmp/s.err" || fail "interrupted tune: no hint to --resume: $(cat "$tmp/s.err")"
done_n=$(wc -l <"$tmp/s/results.jsonl")
if [ "$done_n" -ge 1 ] && [ "$done_n" -lt 3 ]; then
    # Mark the finished trials' output: a rerun would overwrite it.
    for f in "$tmp"/s/trials/*/stdout.txt; do echo MARK >"$f"; done
    marked=$(python3 -c 'import json,sys; print(" ".join("r%d-%04d" % (r["round"], r["index"]) for r in map(json.loads, open(sys.argv[1]))))' "$tmp/s/results.jsonl")
    "$cgrad" tune "${slow[@]}" --resume >"$tmp/s2.out" 2>"$tmp/s2.err" ||
        fail "--resume: $(cat "$tmp/s2.err")"
    [ "$(wc -l <"$tmp/s/results.jsonl")" -eq 3 ] || fail "--resume: not 3 results"
    python3 -c 'import json,sys; ids=[json.loads(l)["id"] for l in open(sys.argv[1])]; assert sorted(ids)==[0,1,2], ids' \
        "$tmp/s/results.jsonl" || fail "--resume: ids repeated or missing"
    for t in $marked; do
        grep -q MARK "$tmp/s/trials/$t/stdout.txt" || fail "--resume reran finished trial $t"
    done
    for f in "$tmp"/s/trials/*/stdout.txt; do
        case " $marked " in *" $(basename "$(dirname "$f")") "*) continue ;; esac
        grep -q MARK "$f" && fail "--resume did not run $(dirname "$f")"
    done
else
    fail "interrupt came at a bad time: $done_n finished trials"
fi

# Grid search: 2 learning rates (the ends, on the log scale) x 2 optimizers,
# with --plot.
"$cgrad" tune "${data[@]}" --param lr=loguniform:1e-2:1e-1 --param optimizer=choice:sgd,adam \
    --grid 2 --threads 1 --quiet --plot --out "$tmp/g" >"$tmp/out" 2>"$tmp/err" ||
    fail "--grid: $(cat "$tmp/err")"
python3 - "$tmp/g/results.jsonl" <<'PY' || fail "--grid points"
import json, sys
pts = sorted((r["params"]["lr"], r["params"]["optimizer"]) for r in map(json.loads, open(sys.argv[1])))
assert pts == [(0.01, "adam"), (0.01, "sgd"), (0.1, "adam"), (0.1, "sgd")], pts
PY
[ -s "$tmp/g/val_vs_lr.svg" ] || fail "--plot wrote no val_vs_lr.svg"

# Median stopping: with lr 1e-5 (barely learning) among lr 0.1 trials, some
# trial falls below the median of the finished ones and is stopped.
"$cgrad" tune "${data[@]}" --param lr=choice:0.1,1e-5 --param optimizer=choice:sgd \
    --trials 8 --seed 2 --epochs 40 --early-stop median --threads 1 --quiet --out "$tmp/m" \
    >"$tmp/out" 2>"$tmp/err" || fail "--early-stop median: $(cat "$tmp/err")"
python3 - "$tmp/m/results.jsonl" <<'PY' || fail "--early-stop median"
import json, sys
rows = list(map(json.loads, open(sys.argv[1])))
stopped = [r for r in rows if r["status"] == "stopped"]
assert stopped, [(r["params"], r["status"]) for r in rows]
for r in stopped:
    assert "median stopping" in r["reason"] and len(r["epochs"]) < 40, r
assert any(r["params"]["lr"] == "1e-5" for r in stopped), stopped
PY

# Plots and watching a run.
"$cgrad" plot "$tmp/a" >"$tmp/out" 2>"$tmp/err" || fail "plot: $(cat "$tmp/err")"
for f in val_vs_units.svg curves.svg; do
    head -c 4 "$tmp/a/$f" 2>/dev/null | grep -q "<svg" || fail "plot: no $f"
done
grep -q "log scale" "$tmp/a/val_vs_units.svg" || fail "plot: units not on a log axis"
"$cgrad" plot "$tmp/missing" >/dev/null 2>&1 && fail "plot of a missing dir succeeded"
trial=$tmp/a/trials/$(python3 -c 'import json,sys; r=[r for r in map(json.loads, open(sys.argv[1])) if r["status"]=="ok"][0]; print("r%d-%04d" % (r["round"], r["index"]))' "$tmp/a/results.jsonl")
"$cgrad" watch "$trial" --once >"$tmp/out" 2>"$tmp/err" || fail "watch: $(cat "$tmp/err")"
[ "$(wc -l <"$tmp/out")" -ge 2 ] || fail "watch printed no epochs: $(cat "$tmp/out")"

finish
