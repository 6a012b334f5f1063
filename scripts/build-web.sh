#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make web: the playground into build/web/ (static files only) with
# Debian's emscripten. cJSON is compiled from Debian's source of libcjson,
# unpacked by scripts/install-deps.sh into build/web-deps/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${CG_WEB_OUT:-$root/build/web}
cjson=$(ls -d "$root"/build/web-deps/cjson-*/ 2>/dev/null | head -1)
if ! command -v emcc > /dev/null; then
  echo "build-web: emcc not found (scripts/install-deps.sh installs Debian's emscripten)" >&2
  exit 1
fi
if [ -z "$cjson" ] || [ ! -f "$cjson/cJSON.c" ]; then
  echo "build-web: no cJSON source in build/web-deps/ (run scripts/install-deps.sh)" >&2
  exit 1
fi
# Debian's emcc 3.1.6 runs its JavaScript tools with node and needs this.
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}
emcmake cmake -S . -B build-wasm -DCMAKE_BUILD_TYPE=Release -DCG_WERROR=ON \
  -DCG_CJSON_SOURCE="$cjson" -DCG_WEB_OUT="$out" > /dev/null
cmake --build build-wasm -j "${JOBS:-2}"
echo "build-web: $out"
