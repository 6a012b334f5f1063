#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The playground's browser test: build build/web/ (scripts/build-web.sh),
# then drive it in headless Chromium (tests/web/playground.test.js).
# Usage: run.sh PATH/TO/cgrad   (from the source root; ctest does this)
# Exit 77 (ctest: skipped) only when emcc or chromium is not installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
cgrad=${1:?usage: run.sh PATH/TO/cgrad}
chromium=${CG_CHROMIUM:-/usr/bin/chromium}
if ! command -v emcc > /dev/null || [ ! -x "$chromium" ]; then
  echo "SKIPPED: the browser test needs emcc and $chromium (scripts/install-deps.sh installs both)"
  exit 77
fi
modules=build/web-test/node_modules
if [ ! -f "$modules/puppeteer-core/package.json" ]; then
  echo "FAIL: puppeteer-core is not in $modules (run scripts/install-deps.sh)" >&2
  exit 1
fi
bash scripts/build-web.sh > build/web-test/build.log 2>&1 || {
  tail -30 build/web-test/build.log >&2
  exit 1
}
NODE_PATH=$PWD/$modules CG_CHROMIUM=$chromium node tests/web/playground.test.js \
  build/web "$cgrad" build/web-test
