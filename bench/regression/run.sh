#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/regression/run.sh [BUILD_DIR]: default-flag test R2 of `cgrad train
# --task regression` next to scikit-learn's Ridge and MLPRegressor defaults
# and a PyTorch model of cgrad's architecture and optimizer, on the same
# splits of small tables (see compare.py). Installs python3-sklearn and
# python3-torch if missing. Not a test: it takes minutes.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
if ! /usr/bin/python3 -c 'import sklearn, torch' 2>/dev/null; then
    sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -q && $sudo apt-get install -y -q python3-sklearn python3-torch
fi
exec /usr/bin/python3 "$here/compare.py" "$build/cgrad"
