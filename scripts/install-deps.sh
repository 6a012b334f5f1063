#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install the Debian packages cgrad needs, only those missing.
# apt-get update runs first (only when something is missing); sudo only
# when not root. Then, for the browser build (make web) and its tests, into
# the build tree only: Debian's source of cJSON (emscripten has no libcjson)
# and puppeteer-core from npm (it drives Debian's chromium; it downloads no
# browser).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential   # gcc, make, libc headers
  clang             # second compiler: CI builds warning-free with both
  libclang-rt-14-dev  # clang's sanitizer and libFuzzer runtimes (make fuzz)
  cmake             # build system and ctest
  pkg-config        # finds OpenBLAS and cJSON
  libopenblas-dev   # CBLAS sgemm/dgemm for matrix products
  libomp-dev        # OpenMP runtime for clang builds (gcc ships libgomp)
  libdnnl-dev       # oneDNN: bf16 matrix products (--precision bf16; optional)
  zlib1g-dev        # reads .gz data sets
  libcjson-dev      # JSON: metrics, checkpoint headers
  dataset-fashion-mnist  # the default data set
  python3           # tests generate fixtures and check JSON with it
  python3-numpy     # tests read checkpoints with a 20-line numpy reader
  libopenmpi-dev    # optional data-parallel training (mpirun -np N cgrad ...)
  openmpi-bin       # mpirun, for the MPI tests
  emscripten        # make web: C -> WebAssembly (emcc 3.1.6)
  chromium          # headless browser for the playground's tests
  dpkg-dev          # dpkg-source (Debian's cJSON source for make web),
                    # dpkg-shlibdeps (the .deb's Depends, make package)
  libprotobuf-c-dev   # ONNX export writes its protobuf with protobuf-c
  protobuf-c-compiler # protoc-c: C for onnx.proto, generated at build time
  python3-onnx      # onnx.proto for the build; onnx.checker in the ONNX test
  help2man          # the man page cgrad(1), from the command's help texts
)
# node and npm (the browser test's puppeteer-core, the ONNX test's
# onnxruntime-node): Debian's, unless a node with npm is already installed
# (NodeSource's nodejs package ships npm itself and conflicts with Debian's).
if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# cJSON for the WebAssembly build, from Debian's source package of the
# libcjson-dev installed above (same version, Debian's security patches
# applied by dpkg-source). apt-get source needs deb-src entries: a private
# copy of the system's sources with deb-src, so the system's apt
# configuration is left as it is; the archive's signatures are checked
# as for any apt download.
deps=build/web-deps
if ! ls -d "$deps"/cjson-*/cJSON.c > /dev/null 2>&1; then
  echo "install-deps: fetching Debian's cjson source into $deps" >&2
  mkdir -p "$deps/apt/lists/partial" "$deps/apt/cache/archives/partial" "$deps/apt/sources"
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && sed 's/^Types: deb$/Types: deb-src/' "$f" > "$deps/apt/sources/$(basename "$f")"
  done
  if [ -f /etc/apt/sources.list ]; then
    sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > "$deps/apt/sources/one-line.list"
  fi
  here=$PWD/$deps/apt
  opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$here/sources"
        -o "Dir::State::Lists=$here/lists" -o "Dir::Cache=$here/cache")
  apt-get "${opts[@]}" update -q > /dev/null
  (cd "$deps" && apt-get "${opts[@]}" source -q --download-only cjson > /dev/null &&
     dpkg-source -x cjson_*.dsc > /dev/null)
  rm -rf "$deps/apt"
fi

# puppeteer-core for the browser tests, into the build tree. 23.x runs on
# node >= 18; it never downloads a browser (executablePath: /usr/bin/chromium).
web_test=build/web-test
if [ ! -f "$web_test/node_modules/puppeteer-core/package.json" ]; then
  echo "install-deps: npm install puppeteer-core into $web_test" >&2
  mkdir -p "$web_test"
  [ -f "$web_test/package.json" ] || echo '{"private": true}' > "$web_test/package.json"
  npm install --prefix "$web_test" --no-audit --no-fund --silent puppeteer-core@23.11.1
fi
