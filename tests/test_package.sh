#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_package.sh BUILD_DIR: `make package` (CPack) makes a .deb whose
# control fields and contents are what a Debian user needs: the shared
# library with its soname link, the static library, cgrad.h, cgrad.pc, the
# CMake package, the cgrad command, its man page, the licence; Depends
# worked out from the binaries; the command in the package runs and
# reports the version of cgrad.h.
set -u
build=${1:?usage: test_package.sh BUILD_DIR}
build=$(cd "$build" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
command -v dpkg-deb >/dev/null || { echo "no dpkg-deb" >&2; exit 1; }
version=$(sed -n 's/^#define CG_VERSION "\([0-9.]*\)"$/\1/p' "$src/include/cgrad.h")
minor=${version#*.}; minor=${minor%%.*}
soversion=${version%%.*}; [ "$soversion" = 0 ] && soversion=0.$minor
arch=$(dpkg --print-architecture)

cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/out" >"$tmp/cpack.log" 2>&1 ||
    { echo "cpack failed: $(tail -20 "$tmp/cpack.log")" >&2; exit 1; }
deb=$tmp/out/cgrad_${version}_$arch.deb
[ -f "$deb" ] || { echo "no $deb: $(ls "$tmp/out")" >&2; exit 1; }

# --- control fields ---
dpkg-deb -I "$deb" >"$tmp/info" || fail "dpkg-deb -I"
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = cgrad ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version), cgrad.h says $version"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture: $(field Architecture)"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
# What the binaries link depends on the build's options (the portable
# build has no OpenBLAS and no OpenMP): read them from its cache.
opt() { sed -n "s/^$1:BOOL=//p" "$build/CMakeCache.txt"; }
deps=(libcjson libc6)
if [ "$(opt CG_BLAS)" = OFF ]; then
    ! field Depends | grep -q libopenblas || fail "portable build depends on OpenBLAS: $(field Depends)"
else
    deps+=(libopenblas)
fi
# OpenMP's runtime: gcc's libgomp, or clang's libomp.
[ "$(opt CG_OPENMP)" != OFF ] && deps+=("libgomp\|libomp")
[ "$(opt CG_ZLIB)" != OFF ] && deps+=(zlib1g)
for dep in "${deps[@]}"; do
    field Depends | grep -q "$dep" || fail "Depends lacks $dep: $(field Depends)"
done

# --- contents ---
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./||' >"$tmp/files"
want=(
    usr/bin/cgrad
    "usr/lib/.*libcgrad\.so\.$version"
    "usr/lib/.*libcgrad\.so\.$soversion"
    "usr/lib/.*libcgrad\.so"
    "usr/lib/.*libcgrad\.a"
    usr/include/cgrad.h
    "usr/lib/.*pkgconfig/cgrad\.pc"
    "usr/lib/.*cmake/cgrad/cgradConfig\.cmake"
    "usr/lib/.*cmake/cgrad/cgradConfigVersion\.cmake"
    "usr/lib/.*cmake/cgrad/cgradTargets\.cmake"
    usr/share/man/man1/cgrad.1.gz
    usr/share/doc/cgrad/copyright
    usr/share/doc/cgrad/CHANGELOG.md
)
for w in "${want[@]}"; do
    grep -qx "$w" "$tmp/files" || fail "the .deb lacks $w"
done
! grep -q "cgrad_double\|/tests\?/\|\.o$" "$tmp/files" || fail "the .deb holds build or test files"
! grep -q "^usr/local" "$tmp/files" || fail "files under usr/local"

# --- what is inside works ---
dpkg-deb -x "$deb" "$tmp/root" || fail "dpkg-deb -x"
[ "$("$tmp/root/usr/bin/cgrad" --version)" = "cgrad $version" ] ||
    fail "packaged cgrad --version: $("$tmp/root/usr/bin/cgrad" --version 2>&1)"
cmp -s "$tmp/root/usr/share/doc/cgrad/copyright" "$src/LICENSE" || fail "copyright != LICENSE"
man=$(zcat "$tmp/root/usr/share/man/man1/cgrad.1.gz") || fail "man page is not gzip"
for s in ".TH CGRAD \"1\"" "cgrad $version" ".SS cgrad train" ".SS cgrad export" "--onnx"; do
    grep -qF -- "$s" <<<"$man" || fail "man page lacks '$s'"
done
if command -v man >/dev/null; then
    man -l "$tmp/root/usr/share/man/man1/cgrad.1.gz" 2>/dev/null | grep -q "hidden layer widths" ||
        fail "man -l does not render the train flags"
fi
pc=$(find "$tmp/root" -name cgrad.pc)
PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --modversion cgrad | grep -qx "$version" ||
    fail "packaged cgrad.pc: $(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --modversion cgrad 2>&1)"
PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --libs-only-L cgrad | grep -q "$tmp/root/usr/lib" ||
    fail "packaged cgrad.pc does not find its own prefix"

[ $fails -eq 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
echo "ok"
