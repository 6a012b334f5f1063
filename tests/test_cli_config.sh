#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli_config.sh BUILD_DIR: every flag means what it says (issue 19):
# flags a run would not use and conflicting flags are usage errors; adamw's
# --weight-decay is decoupled; --warmup and --clip-value reach the
# optimizer; --resume continues the stored configuration, accepts only what
# may change, refuses to train past the end of a schedule and starts a new
# schedule phase on request; --json leaves stdout pure JSON and --quiet
# prints nothing; eval of a run without a test set scores its validation
# rows.
. "$(dirname "$0")/cli_common.sh" "$@"

"$py" - "$tmp" <<'PY'
import random, sys
random.seed(4)
centres = [(-1, 0, 1), (1, 1, 0), (0, -1, -1)]
with open(f"{sys.argv[1]}/d.csv", "w") as f:
    f.write("a,b,c,label\n")
    for i in range(300):
        k = i % 3
        f.write(",".join(f"{c + 0.3 * random.gauss(0, 1):.4f}" for c in centres[k]) + f",{k}\n")
PY
d=$tmp/d.csv
meta() { # meta CKPT KEY: a metadata string of a checkpoint
    "$py" - "$here/safetensors_read.py" "$1" "$2" <<'PY'
import runpy, sys
print(runpy.run_path(sys.argv[1])["read"](sys.argv[2])[1][sys.argv[3]])
PY
}

# Settings without hidden layers to act on, and conflicting flags.
expect_usage "--dropout: the model has no hidden layers" train --data "$d" --hidden none --dropout 0.5
expect_usage "--bn: the model has no hidden layers" train --data "$d" --hidden none --bn
expect_usage "--activation: the model has no hidden layers" train --data "$d" --hidden none --activation tanh
expect_usage "cannot be given together" train --data "$d" --weight-decay 0.1 --decoupled-weight-decay 0.1
expect_usage "cannot be given together" train --data "$d" --standardize --no-standardize
expect_usage "--label: fashion-mnist is not a .csv" train --label 3
expect_usage "--patience: early stopping needs a validation split" train --data "$d" --val-split 0 --patience 2

# adamw's --weight-decay is its decoupled decay, 0 means 0; adam's is L2.
common=(--data "$d" --hidden 8 --epochs 2 --batch 32)
"$cgrad" train "${common[@]}" --quiet --optimizer adamw --weight-decay 0.1 --out "$tmp/aw" || fail "adamw run"
"$cgrad" train "${common[@]}" --quiet --optimizer adamw --weight-decay 0 --out "$tmp/aw0" || fail "adamw wd 0"
"$cgrad" train "${common[@]}" --quiet --optimizer adam --weight-decay 0.1 --warmup 5 --clip-value 0.5 \
    --out "$tmp/a" || fail "adam run"
"$py" - "$(meta "$tmp/aw/last.safetensors" optimizer)" "$(meta "$tmp/aw0/last.safetensors" optimizer)" \
    "$(meta "$tmp/a/last.safetensors" optimizer)" <<'PY' || fail "weight decay / warmup / clip-value in the checkpoint"
import json, sys
aw, aw0, a = (json.loads(s) for s in sys.argv[1:4])
assert aw["config"]["name"] == "adamw" and aw["config"]["decoupled"] is True, aw
assert abs(aw["config"]["weight_decay"] - 0.1) < 1e-12, aw
assert aw0["config"]["name"] == "adamw" and aw0["config"]["weight_decay"] == 0, aw0
assert a["config"]["name"] == "adam" and a["config"]["decoupled"] is False, a
assert abs(a["config"]["weight_decay"] - 0.1) < 1e-12 and a["config"]["clip_value"] == 0.5, a
assert a["schedule"]["warmup"] == 5, a
PY

# The checkpoint stores the run configuration (not argv).
"$py" - "$(meta "$tmp/a/last.safetensors" config)" <<'PY' || fail "config metadata"
import json, sys
c = json.loads(sys.argv[1])
assert set(c) == {"model", "optim", "schedule", "loop", "data"}, c
assert c["model"]["hidden"] == [8] and c["loop"]["epochs"] == 2 and c["data"]["source"].endswith("d.csv"), c
assert c["schedule"]["kind"] == "cosine" and c["schedule"]["params"][0] == 2, c
PY

# Resume: only what may change mid-run; never past the schedule's end.
"$cgrad" train "${common[@]}" --quiet --out "$tmp/r" || fail "run to resume"
expect_usage "--hidden: the checkpoint fixes" train --resume "$tmp/r/last.safetensors" --hidden 16 --epochs 4
expect_usage "--optimizer: the checkpoint fixes" train --resume "$tmp/r/last.safetensors" --optimizer sgd --epochs 4
expect_usage "reaches 0 at epoch 2" train --resume "$tmp/r/last.safetensors" --epochs 4
"$cgrad" train --resume "$tmp/r/last.safetensors" --epochs 4 --lr 0.0005 >"$tmp/out" 2>"$tmp/err" ||
    fail "resume with a new phase: $(cat "$tmp/err")"
grep -q "new schedule phase from epoch 3: lr 0.0005, cosine:2" "$tmp/out" || fail "new phase not printed: $(cat "$tmp/out")"
[ "$(wc -l <"$tmp/r/metrics.jsonl")" -eq 4 ] || fail "resume wrote beside the checkpoint: $(wc -l <"$tmp/r/metrics.jsonl") lines"
"$py" - "$(meta "$tmp/r/last.safetensors" config)" "$tmp/r/metrics.jsonl" <<'PY' || fail "new phase recorded"
import json, sys
c = json.loads(sys.argv[1])
assert c["loop"]["epochs"] == 4 and c["schedule"]["start_epoch"] == 2 and c["optim"]["lr"] == 0.0005, c
lr = [json.loads(l)["lr"] for l in open(sys.argv[2])]
assert lr[2] == 0.0005 and 0 < lr[3] < 0.0005, lr
PY

# --json: stdout is JSON only, one object, the result; --quiet: silence.
"$cgrad" train "${common[@]}" --json >"$tmp/out" 2>"$tmp/err" || fail "--json run"
"$py" -c 'import json,sys; l=open(sys.argv[1]).read().splitlines(); assert len(l)==1 and "epochs" in json.loads(l[0]), l' \
    "$tmp/out" || fail "--json: stdout is not one JSON line: $(head -c 300 "$tmp/out")"
grep -q "Epoch 1/2" "$tmp/err" || fail "--json: the progress is not on stderr"
"$cgrad" train "${common[@]}" --quiet >"$tmp/out" 2>"$tmp/err" || fail "--quiet run"
[ ! -s "$tmp/out" ] && [ ! -s "$tmp/err" ] || fail "--quiet printed: $(cat "$tmp/out" "$tmp/err")"

# eval of a CSV run without --test: its validation rows, named so.
"$cgrad" eval --model "$tmp/a/last.safetensors" --json >"$tmp/eval" || fail "eval without a test set"
"$py" -c 'import json,sys; e=json.load(open(sys.argv[1])); assert e["split"]=="validation" and e["examples"]==30, e' \
    "$tmp/eval" || fail "eval: not the 30 validation rows: $(cat "$tmp/eval")"
"$cgrad" eval --model "$tmp/a/last.safetensors" --split train --json >"$tmp/eval" || fail "eval --split train"
"$py" -c 'import json,sys; e=json.load(open(sys.argv[1])); assert e["split"]=="train" and e["examples"]==270, e' \
    "$tmp/eval" || fail "eval --split train: $(cat "$tmp/eval")"
"$cgrad" train "${common[@]}" --quiet --val-split 0 --out "$tmp/nv" || fail "run without validation"
expect_usage "no held-out rows" eval --model "$tmp/nv/last.safetensors"

finish "configuration CLI: all checks passed"
