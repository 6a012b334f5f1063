#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/web: training steps per second of cgrad (the playground's
# WebAssembly module) against TensorFlow.js with its WASM backend, on the
# same data, network, optimizer and batch, in one headless Chromium session.
# npm's @tensorflow/tfjs and @tensorflow/tfjs-backend-wasm go into
# build/web-bench/ and are served from there (nothing from the network).
# Writes build/web-bench/result.json. Not a test.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/install-deps.sh
bash scripts/build-web.sh > /dev/null
out=build/web-bench
site=$out/site
mkdir -p "$site"
if [ ! -f "$out/node_modules/@tensorflow/tfjs-backend-wasm/package.json" ]; then
  [ -f "$out/package.json" ] || echo '{"private": true}' > "$out/package.json"
  npm install --prefix "$out" --no-audit --no-fund --silent \
    @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0
fi
tfjs=$out/node_modules/@tensorflow
cp build/web/playground.js build/web/playground.wasm web/datasets.js bench/web/bench.html \
  bench/web/cgrad-worker.js bench/web/tfjs-worker.js "$tfjs/tfjs/dist/tf.min.js" \
  "$tfjs/tfjs-backend-wasm/dist/tf-backend-wasm.min.js" "$tfjs"/tfjs-backend-wasm/dist/*.wasm "$site/"
NODE_PATH=$PWD/build/web-test/node_modules node bench/web/run.js "$site" "${STEPS:-2000}" |
  tee "$out/result.json"
