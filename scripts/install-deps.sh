#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install the Debian packages cgrad needs, only those missing.
# apt-get update runs first (only when something is missing); sudo only
# when not root.
set -euo pipefail

packages=(
  build-essential   # gcc, make, libc headers
  clang             # second compiler: CI builds warning-free with both
  libclang-rt-14-dev  # clang's sanitizer and libFuzzer runtimes (make fuzz)
  cmake             # build system and ctest
  pkg-config        # finds OpenBLAS and cJSON
  libopenblas-dev   # CBLAS sgemm/dgemm for matrix products
  libomp-dev        # OpenMP runtime for clang builds (gcc ships libgomp)
  zlib1g-dev        # reads .gz data sets
  libcjson-dev      # JSON: metrics, checkpoint headers
  dataset-fashion-mnist  # the default data set
  python3           # tests generate fixtures and check JSON with it
  python3-numpy     # tests read checkpoints with a 20-line numpy reader
  libopenmpi-dev    # optional data-parallel training (mpirun -np N cgrad ...)
  openmpi-bin       # mpirun, for the MPI tests
  libprotobuf-c-dev   # ONNX export writes its protobuf with protobuf-c
  protobuf-c-compiler # protoc-c: C for onnx.proto, generated at build time
  python3-onnx      # onnx.proto for the build; onnx.checker in the ONNX test
  help2man          # the man page cgrad(1), from the command's help texts
  dpkg-dev          # dpkg-shlibdeps: the .deb's Depends (make package)
)
# The ONNX test runs the model in ONNX Runtime through npm's
# onnxruntime-node: Debian's nodejs and npm, unless a node with npm is
# already installed (another nodejs package would conflict).
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
