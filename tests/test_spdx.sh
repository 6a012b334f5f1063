#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_spdx.sh BUILD_DIR: every tracked source file carries the licence
# line (scripts/spdx.sh adds it to new files).
set -u
exec bash "$(dirname "$0")/../scripts/spdx.sh" --check
