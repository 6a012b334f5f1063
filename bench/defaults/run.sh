#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/defaults/run.sh [BUILD_DIR]: default-flag accuracy of cgrad next to
# scikit-learn's default LogisticRegression and MLPClassifier on seven
# tables (see compare.py). Installs python3-sklearn if missing. Not a test.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
if ! /usr/bin/python3 -c 'import sklearn' 2>/dev/null; then
    sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -q && $sudo apt-get install -y -q python3-sklearn
fi
exec /usr/bin/python3 "$here/compare.py" "$build/cgrad"
