#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build the libFuzzer targets in fuzz/ with clang (ASan + UBSan) and run
# each for a bounded time on its corpus; non-zero if any target crashes.
#
#   scripts/fuzz.sh [target...]     default: every fuzz/fuzz_*.c
#
# Environment:
#   FUZZ_SECONDS  total time over all targets (default 100, split evenly:
#                 each of the six targets gets about 16 s)
#   FUZZ_OUT      build and scratch directory (default build-fuzz)
#   FUZZ_JOBS     parallel compile jobs (default: nproc)
#   CC            compiler (default clang; needs libclang-rt-14-dev)
#   FUZZ_MERGE    1: afterwards, merge what the run found into
#                 fuzz/corpus/<target>/ (libFuzzer -merge=1 keeps only
#                 inputs that add coverage), to be committed. CI leaves it
#                 unset, so a CI run never changes the repository.
#
# The library is compiled here directly, not through CMake, so the CI
# builds stay untouched. fuzz/corpus/<target>/ (in the repository) is only
# read: new inputs go to a scratch corpus under $FUZZ_OUT, which libFuzzer
# writes to because it comes first on the command line. A crashing input is
# left as $FUZZ_OUT/<target>-crash-*; once the loader is fixed, copy it to
# fuzz/regressions/<target>/ so the ordinary suite replays it.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${FUZZ_OUT:-build-fuzz}
seconds=${FUZZ_SECONDS:-100}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
cc=${CC:-clang}

if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for f in fuzz/fuzz_*.c; do
        t=$(basename "$f" .c)
        targets+=("${t#fuzz_}")
    done
fi

# The safetensors target needs src/io/safetensors.c, written separately.
runnable=()
for t in "${targets[@]}"; do
    [ -f "fuzz/fuzz_$t.c" ] || { echo "fuzz.sh: no target fuzz/fuzz_$t.c" >&2; exit 2; }
    if [ "$t" = safetensors ] && [ ! -f src/io/safetensors.c ]; then
        echo "fuzz.sh: skipping safetensors (src/io/safetensors.c not written yet)" >&2
        continue
    fi
    runnable+=("$t")
done
[ ${#runnable[@]} -gt 0 ] || { echo "fuzz.sh: nothing to run" >&2; exit 2; }

# --- Build ---
mkdir -p "$out/obj"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
cflags="-std=c11 -g -O1 -fno-omit-frame-pointer -Wall -Wextra $san
        -Iinclude -Isrc -Isrc/core -DCG_HAVE_BLAS -DCG_HAVE_ZLIB
        $(pkg-config --cflags openblas libcjson) -fopenmp"
libs="$(pkg-config --libs openblas libcjson) -lz -lm -fopenmp"

# What the loaders, the safetensors parser and the checkpoint's metadata
# readers (model spec: src/nn; run configuration: src/train, src/optim) are
# built from; the linker takes from the archive only the objects a target
# needs.
sources=$(ls src/core/*.c src/ops/*.c src/data/*.c src/io/*.c src/nn/*.c src/optim/*.c \
    src/train/*.c src/dist/*.c 2>/dev/null || true)
# fuzzer-no-link: coverage instrumentation in the library, libFuzzer's
# main() only in the targets.
echo "fuzz.sh: compiling the library with $cc ($(echo "$sources" | wc -l) files)" >&2
rm -f "$out"/obj/*.o
export FZ_CC="$cc" FZ_CFLAGS="$(echo $cflags) -fsanitize=fuzzer-no-link" FZ_OBJ="$out/obj"
# shellcheck disable=SC2016,SC2086
printf '%s\n' $sources | xargs -P "$jobs" -n 1 bash -c \
    'o="$FZ_OBJ/${0//\//_}"; $FZ_CC $FZ_CFLAGS -c "$0" -o "${o%.c}.o"'
rm -f "$out/libcgrad-fuzz.a"
ar rcs "$out/libcgrad-fuzz.a" "$out"/obj/*.o
for t in "${runnable[@]}"; do
    # shellcheck disable=SC2086
    $cc $cflags -fsanitize=fuzzer "fuzz/fuzz_$t.c" "$out/libcgrad-fuzz.a" $libs \
        -o "$out/fuzz_$t"
done

# --- Run ---
per=$(( seconds / ${#runnable[@]} ))
[ "$per" -ge 1 ] || per=1
failed=()
for t in "${runnable[@]}"; do
    scratch="$out/corpus/$t"
    mkdir -p "$scratch" "fuzz/corpus/$t"
    dict=()
    [ -f "fuzz/$t.dict" ] && dict=("-dict=fuzz/$t.dict")
    echo "fuzz.sh: fuzz_$t for ${per}s" >&2
    # One thread per loader call keeps runs reproducible and cheap.
    if ! OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
        "$out/fuzz_$t" "$scratch" "fuzz/corpus/$t" "${dict[@]}" \
            -max_total_time="$per" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
            -print_final_stats=1 -artifact_prefix="$out/$t-" \
            > "$out/fuzz_$t.log" 2>&1; then
        failed+=("$t")
        tail -n 40 "$out/fuzz_$t.log" >&2
    fi
    grep -E "stat::number_of_executed_units|stat::new_units_added" "$out/fuzz_$t.log" \
        | sed "s/^/fuzz.sh: $t /" >&2 || true
    if [ "${FUZZ_MERGE:-0}" = 1 ]; then
        before=$(ls "fuzz/corpus/$t" | wc -l)
        OMP_NUM_THREADS=1 "$out/fuzz_$t" -merge=1 "fuzz/corpus/$t" "$scratch" \
            > "$out/merge_$t.log" 2>&1 || echo "fuzz.sh: merge of $t failed" >&2
        echo "fuzz.sh: $t corpus $before -> $(ls "fuzz/corpus/$t" | wc -l) files" >&2
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz.sh: FAILED: ${failed[*]} (inputs in $out/<target>-crash-*; logs $out/fuzz_*.log)" >&2
    exit 1
fi
echo "fuzz.sh: all targets ran ${per}s without a crash" >&2
