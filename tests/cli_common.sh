# SPDX-License-Identifier: MIT
# cli_common.sh: what the command-line tests (test_cli_*.sh) share. A test
# sources it with its arguments, `. "$(dirname "$0")/cli_common.sh" "$@"`,
# and gets: build (its BUILD_DIR argument), cgrad, here (the tests/
# folder), py, a scratch directory tmp removed at exit, and fail,
# expect_usage, blobs_csv and finish.
set -u
build=${1:?usage: $(basename "$0") BUILD_DIR}
cgrad=$build/cgrad
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

# fail MESSAGE: count a failed check (the test goes on).
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# expect_usage NEEDLE ARGS...: `cgrad ARGS` exits 2 with NEEDLE (a fixed
# string) on stderr, in one line, and writes nothing to stdout.
expect_usage() {
    local needle=$1; shift
    "$cgrad" "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    [ $rc -eq 2 ] || fail "cgrad $*: exit $rc, expected 2"
    grep -qF -- "$needle" "$tmp/err" || fail "cgrad $*: stderr lacks '$needle': $(cat "$tmp/err")"
    [ ! -s "$tmp/out" ] || fail "cgrad $*: wrote to stdout: $(head -c 200 "$tmp/out")"
    [ "$(wc -l <"$tmp/err")" -le 1 ] || fail "cgrad $*: more than one line on stderr"
}

# blobs_csv DIR NOISE N_TRAIN N_TEST [SCALE OFFSET]: DIR/train.csv and
# DIR/test.csv, three Gaussian blobs in 4 features (columns a,b,c,d,label;
# seed 1), each value SCALE * (centre + NOISE * gauss) + OFFSET.
blobs_csv() {
    "$py" - "$@" <<'PY'
import random, sys
d, noise, n_train, n_test = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
scale, offset = (float(sys.argv[5]), float(sys.argv[6])) if len(sys.argv) > 6 else (1, 0)
random.seed(1)
centres = [(-1, 0, 1, 0), (1, 1, 0, -1), (0, -1, -1, 1)]
for name, n in (("train.csv", n_train), ("test.csv", n_test)):
    with open(f"{d}/{name}", "w") as f:
        f.write("a,b,c,d,label\n")
        for i in range(n):
            k = i % 3
            xs = [scale * (c + noise * random.gauss(0, 1)) + offset for c in centres[k]]
            f.write(",".join(f"{x:.3f}" for x in xs) + f",{k}\n")
PY
    [ -s "$1/train.csv" ] || { echo "cannot generate CSV data" >&2; exit 1; }
}

# finish [MESSAGE]: exit 1 if a check failed, else print MESSAGE (ok).
finish() {
    [ "$fails" -eq 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
    echo "${1:-ok}"
}
