#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every source file of the project starts with its licence line
# (SPDX-License-Identifier: MIT): C, shell, Python, JavaScript, CMake.
#   scripts/spdx.sh          add the line where it is missing
#   scripts/spdx.sh --check  list the files without it; exit 1 if any
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
[ "${1:-}" = "--check" ] && check=1
tag="SPDX-License-Identifier: MIT"
missing=0
while IFS= read -r f; do
  head -n 3 "$f" | grep -q "$tag" && continue
  missing=$((missing + 1))
  if [ $check -eq 1 ]; then echo "no licence line: $f"; continue; fi
  case "$f" in
    *.c | *.h) line="/* $tag */" ;;
    *.js) line="// $tag" ;;
    *) line="# $tag" ;;
  esac
  if head -n 1 "$f" | grep -q '^#!'; then
    { head -n 1 "$f"; echo "$line"; tail -n +2 "$f"; } > "$f.spdx"
  else
    { echo "$line"; cat "$f"; } > "$f.spdx"
  fi
  chmod --reference="$f" "$f.spdx"
  mv "$f.spdx" "$f"
done < <(git ls-files -- '*.c' '*.h' '*.sh' '*.py' '*.js' '*.cmake' 'CMakeLists.txt' '*/CMakeLists.txt' \
           ':!:fuzz/corpus/*' ':!:fuzz/regressions/*' ':!:tests/data/*')
if [ $check -eq 1 ] && [ $missing -gt 0 ]; then
  echo "$missing file(s) lack the licence line: run scripts/spdx.sh" >&2
  exit 1
fi
exit 0
