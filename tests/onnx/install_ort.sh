#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# install_ort.sh BUILD_DIR: npm's onnxruntime-node (a pinned version) in
# BUILD_DIR/onnxruntime, installed once and then reused; prints its
# node_modules directory. --ignore-scripts: the package's install script
# would download from elsewhere, and the CPU library ships in the package.
# A lock keeps two tests from installing at once.
set -euo pipefail
build=${1:?usage: install_ort.sh BUILD_DIR}
version=1.31.1
dir=$(cd "$build" && pwd)/onnxruntime
pkg=$dir/node_modules/onnxruntime-node/package.json
command -v npm >/dev/null || { echo "install_ort.sh: no npm (scripts/install-deps.sh)" >&2; exit 1; }
mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
if [ ! -f "$pkg" ] || ! grep -q "\"version\": \"$version\"" "$pkg"; then
    (cd "$dir" && npm install --ignore-scripts --no-audit --no-fund --no-save \
        "onnxruntime-node@$version" >"$dir/npm.log" 2>&1) ||
        { echo "install_ort.sh: npm install failed: $(tail -5 "$dir/npm.log")" >&2; exit 1; }
fi
NODE_PATH=$dir/node_modules node -e "require('onnxruntime-node')" ||
    { echo "install_ort.sh: onnxruntime-node does not load" >&2; exit 1; }
echo "$dir/node_modules"
