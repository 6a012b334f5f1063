#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli_kill.sh BUILD_DIR: a run directory survives SIGKILL at any
# instant. A run is killed at many points and resumed each time; after
# every kill the metrics log holds whole lines of epochs 1..k in order and
# last.safetensors is not ahead of it; after the last resume the log has
# exactly one line per epoch, no temporary file is left, and the weights
# are bit-identical to a run that was never interrupted.
. "$(dirname "$0")/cli_common.sh" "$@"

"$py" - "$tmp/d.csv" <<'PY'
import random, sys
random.seed(9)
with open(sys.argv[1], "w") as f:
    f.write("a,b,c,label\n")
    for i in range(600):
        k = i % 3
        f.write(",".join(f"{(j == k) + 0.5 * random.gauss(0, 1):.4f}" for j in range(3)) + f",{k}\n")
PY
epochs=40
run=(train --data "$tmp/d.csv" --hidden 16 --bn --dropout 0.1 --batch 16 --epochs $epochs
     --patience 30 --seed 2 --threads 1 --quiet)
"$cgrad" "${run[@]}" --out "$tmp/straight" || fail "straight run"

check_dir() { # the invariants a kill must not break
    "$py" - "$here/safetensors_read.py" "$1" "$2" "$tmp/straight/metrics.jsonl" <<'PY'
import json, os, runpy, sys
read = runpy.run_path(sys.argv[1])["read"]
d, final = sys.argv[2], sys.argv[3] == "final"
straight = len(open(sys.argv[4]).read().splitlines())  # patience may stop it before 40
lines = open(f"{d}/metrics.jsonl").read().split("\n") if os.path.exists(f"{d}/metrics.jsonl") else []
whole = []
for i, l in enumerate(lines):
    if not l:
        continue
    try:
        whole.append(json.loads(l)["epoch"])
    except ValueError:
        assert i == len(lines) - 1, f"a broken line before the last: {l!r}"
assert whole == list(range(1, len(whole) + 1)), whole
if os.path.exists(f"{d}/last.safetensors"):
    last = int(read(f"{d}/last.safetensors")[1]["epoch"])
    assert last <= len(whole), (last, len(whole))
    if os.path.exists(f"{d}/best.safetensors"):
        assert int(read(f"{d}/best.safetensors")[1]["epoch"]) <= last + 1
if final:
    assert len(whole) == straight and lines[-1] == "", (whole, straight)
    left = [f for f in os.listdir(d) if ".tmp." in f]
    assert not left, left
PY
}

# Kill at growing delays; resume from last.safetensors when there is one.
for delay in 0.05 0.1 0.15 0.2 0.25 0.3 0.35 0.4 0.5 0.6 0.7 0.8; do
    if [ -f "$tmp/k/last.safetensors" ]; then
        # (a run that has finished, or that patience stopped, resumes to no more epochs)
        timeout -s KILL "$delay" "$cgrad" train --resume "$tmp/k/last.safetensors" --threads 1 --quiet \
            2>"$tmp/err" || grep -q "trained $epochs epochs already" "$tmp/err" || [ ! -s "$tmp/err" ] ||
            fail "resume: $(cat "$tmp/err")"
    else
        timeout -s KILL "$delay" "$cgrad" "${run[@]}" --out "$tmp/k"
    fi
    check_dir "$tmp/k" kill || fail "after a kill at ${delay}s"
done
if [ -f "$tmp/k/last.safetensors" ]; then
    e=$("$py" -c 'import runpy,sys; print(runpy.run_path(sys.argv[1])["read"](sys.argv[2])[1]["epoch"])' \
        "$here/safetensors_read.py" "$tmp/k/last.safetensors")
    if [ "$e" -lt $epochs ]; then
        "$cgrad" train --resume "$tmp/k/last.safetensors" --threads 1 --quiet || fail "final resume"
    else # done: the refused resume still clears what killed writers left
        "$cgrad" train --resume "$tmp/k/last.safetensors" --threads 1 --quiet 2>"$tmp/err"
        grep -q "trained $epochs epochs already" "$tmp/err" || fail "resume of a finished run: $(cat "$tmp/err")"
    fi
else
    "$cgrad" "${run[@]}" --out "$tmp/k" || fail "final run"
fi
check_dir "$tmp/k" final || fail "after the last resume"
"$py" - "$here/safetensors_read.py" "$tmp/straight/last.safetensors" "$tmp/k/last.safetensors" <<'PY' ||
import runpy, sys
read = runpy.run_path(sys.argv[1])["read"]
a, b = read(sys.argv[2])[0], read(sys.argv[3])[0]
bad = [k for k in a if a[k].tobytes() != b[k].tobytes()]
assert sorted(a) == sorted(b) and not bad, bad
PY
    fail "killed and resumed weights differ from the straight run"
cmp -s <(cut -d, -f1-5 "$tmp/straight/metrics.jsonl") <(cut -d, -f1-5 "$tmp/k/metrics.jsonl") ||
    fail "killed and resumed metrics differ from the straight run"

finish "kill and resume: all checks passed"
