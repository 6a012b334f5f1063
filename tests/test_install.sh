#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_install.sh BUILD_DIR: what `make install` installs works for a user.
#  1. The files: shared library with its soname links, static library,
#     header, cgrad.pc, CMake package, command, man page.
#  2. The shared library exports exactly the functions cgrad.h declares.
#  3. examples/softmax_regression.c built against the installed tree three
#     ways: pkg-config (shared), pkg-config --static (libcgrad.a and its
#     private dependencies only), CMake find_package(cgrad CONFIG); each
#     runs and prints the same result as the in-tree build.
#  4. The version is the one of cgrad.h everywhere.
set -u
build=${1:?usage: test_install.sh BUILD_DIR}
build=$(cd "$build" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
    { echo "cmake --install failed: $(tail -5 "$tmp/install.log")" >&2; exit 1; }

version=$(sed -n 's/^#define CG_VERSION "\([0-9.]*\)"$/\1/p' "$src/include/cgrad.h")
[ -n "$version" ] || { echo "no CG_VERSION in cgrad.h" >&2; exit 1; }
major=${version%%.*}
minor=${version#*.}; minor=${minor%%.*}
if [ "$major" = 0 ]; then soversion=0.$minor; else soversion=$major; fi
# A sanitizer build's library needs its runtime in whatever links it.
cflags=()
grep -q "^CG_SANITIZE:BOOL=ON" "$build/CMakeCache.txt" && cflags=(-fsanitize=address,undefined)

# --- 1. files ---
lib=$(cd "$prefix" && ls -d lib*/libcgrad.a 2>/dev/null | head -1)
[ -n "$lib" ] || { echo "no libcgrad.a installed under $prefix" >&2; exit 1; }
libdir=$prefix/$(dirname "$lib")
for f in "$libdir/libcgrad.so.$version" "$libdir/pkgconfig/cgrad.pc" \
    "$libdir/cmake/cgrad/cgradConfig.cmake" "$libdir/cmake/cgrad/cgradConfigVersion.cmake" \
    "$prefix/include/cgrad.h" "$prefix/bin/cgrad" "$prefix/share/man/man1/cgrad.1.gz" \
    "$prefix/share/doc/cgrad/copyright"; do
    [ -f "$f" ] || fail "not installed: ${f#"$prefix"/}"
done
[ "$(readlink "$libdir/libcgrad.so.$soversion")" = "libcgrad.so.$version" ] ||
    fail "libcgrad.so.$soversion does not link to libcgrad.so.$version"
[ "$(readlink "$libdir/libcgrad.so")" = "libcgrad.so.$soversion" ] ||
    fail "libcgrad.so does not link to libcgrad.so.$soversion"
soname=$(objdump -p "$libdir/libcgrad.so.$version" | awk '$1 == "SONAME" {print $2}')
[ "$soname" = "libcgrad.so.$soversion" ] || fail "soname '$soname', expected libcgrad.so.$soversion"
cmp -s "$src/include/cgrad.h" "$prefix/include/cgrad.h" || fail "installed cgrad.h differs"
[ "$("$prefix/bin/cgrad" --version)" = "cgrad $version" ] || fail "cgrad --version: $("$prefix/bin/cgrad" --version)"
grep -q "^Version: $version$" "$libdir/pkgconfig/cgrad.pc" || fail "cgrad.pc: Version is not $version"
zcat "$prefix/share/man/man1/cgrad.1.gz" | grep -q "cgrad $version" || fail "man page: no version"

# --- 2. exported symbols = functions declared in cgrad.h ---
# The header's declarations read independently of the build's version
# script: comments dropped, then every "cg_name(" that is not a call.
"${PYTHON:-python3}" - "$src/include/cgrad.h" >"$tmp/declared" <<'PY'
import re, sys
text = re.sub(r"/\*.*?\*/", " ", open(sys.argv[1]).read(), flags=re.S)
names = set(re.findall(r"[\w\s\*]\b(cg_[a-z0-9_]+)\s*\(", text))
print("\n".join(sorted(names)))
PY
nm -D --defined-only "$libdir/libcgrad.so.$version" | awk '$2 ~ /^[TtDdBbRrVvWwiu]$/ {print $3}' |
    sed 's/@.*//' | sort -u >"$tmp/exported"
if ! cmp -s "$tmp/declared" "$tmp/exported"; then
    fail "exported symbols != functions of cgrad.h: $(diff "$tmp/declared" "$tmp/exported" | grep '^[<>]' | head -10 | tr '\n' ' ')"
fi
[ "$(wc -l <"$tmp/declared")" -gt 100 ] || fail "only $(wc -l <"$tmp/declared") declarations found"
# Internal symbols (the CLI's, the safetensors reader's) stay hidden.
! grep -q "^st_load$" "$tmp/exported" || fail "internal st_load exported"

# --- 3. an example built three ways ---
cp "$src/examples/softmax_regression.c" "$tmp/app.c"
export PKG_CONFIG_PATH=$libdir/pkgconfig
run_app() { # NAME BINARY [env...]: runs it, output to $tmp/NAME.out
    local name=$1 bin=$2; shift 2
    mkdir -p "$tmp/run_$name"
    (cd "$tmp/run_$name" && env "$@" "$bin" 3 0 out.svg) >"$tmp/$name.out" 2>"$tmp/$name.err" ||
        { fail "$name: exit $?: $(head -c 500 "$tmp/$name.err")"; return 1; }
    grep -q "accuracy" "$tmp/$name.out" || fail "$name: output $(head -c 300 "$tmp/$name.out")"
}
cc=${CC:-cc}
# pkg-config, shared: no private dependency on the command line.
read -r -a pc_shared <<<"$(pkg-config --cflags --libs cgrad)"
if "$cc" "${cflags[@]}" "$tmp/app.c" -o "$tmp/app_shared" "${pc_shared[@]}" 2>"$tmp/err"; then
    LD_LIBRARY_PATH=$libdir ldd "$tmp/app_shared" | grep -q "libcgrad.so.$soversion => $libdir/" ||
        fail "app_shared does not load the installed libcgrad.so"
    run_app shared "$tmp/app_shared" LD_LIBRARY_PATH="$libdir"
else
    fail "pkg-config shared build: $(head -c 1000 "$tmp/err")"
fi
# pkg-config --static: libcgrad.a, linked with only what cgrad.pc lists.
read -r -a pc_static <<<"$(pkg-config --static --cflags --libs cgrad | sed 's/-lcgrad\b/-l:libcgrad.a/')"
if "$cc" "${cflags[@]}" "$tmp/app.c" -o "$tmp/app_static" "${pc_static[@]}" 2>"$tmp/err"; then
    ! ldd "$tmp/app_static" | grep -q libcgrad || fail "app_static loads libcgrad.so"
    run_app static "$tmp/app_static"
else
    fail "pkg-config --static build: $(head -c 1000 "$tmp/err")"
fi
# CMake: the shared target and the static one.
mkdir -p "$tmp/cm"
cat >"$tmp/cm/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.25)
project(app C)
find_package(cgrad $version CONFIG REQUIRED)
add_executable(app_cmake $tmp/app.c)
target_link_libraries(app_cmake PRIVATE cgrad::cgrad)
add_executable(app_cmake_static $tmp/app.c)
target_link_libraries(app_cmake_static PRIVATE cgrad::cgrad_static)
CM
if cmake -S "$tmp/cm" -B "$tmp/cm/build" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_FLAGS="${cflags[*]}" >"$tmp/cm.log" 2>&1 &&
    cmake --build "$tmp/cm/build" >>"$tmp/cm.log" 2>&1; then
    # No LD_LIBRARY_PATH: CMake's build rpath finds the installed library.
    ldd "$tmp/cm/build/app_cmake" | grep -q "libcgrad.so.$soversion => $libdir/" ||
        fail "app_cmake does not load the installed libcgrad.so"
    run_app cmake "$tmp/cm/build/app_cmake"
    run_app cmake_static "$tmp/cm/build/app_cmake_static"
else
    fail "CMake build against the package: $(tail -20 "$tmp/cm.log")"
fi
# Every build gives the in-tree example's answer.
if [ -x "$build/softmax_regression" ]; then
    mkdir -p "$tmp/run_ref"
    (cd "$tmp/run_ref" && "$build/softmax_regression" 3 0 out.svg) >"$tmp/ref.out" 2>/dev/null
    for n in shared static cmake cmake_static; do
        [ -f "$tmp/$n.out" ] && ! cmp -s "$tmp/ref.out" "$tmp/$n.out" &&
            fail "$n: output differs from the in-tree build: $(cat "$tmp/$n.out")"
    done
fi

[ $fails -eq 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
echo "ok"
