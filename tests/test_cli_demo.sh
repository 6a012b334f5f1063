#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cgrad demo saddle / softmax2d: the table shows adaptive methods escaping
# the saddle faster than plain GD, both SVGs are written, bad flags exit 2.
set -u
cgrad="$1/cgrad"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
bad() { echo "FAIL: $*" >&2; fail=1; }

out=$("$cgrad" demo saddle --out "$dir/saddle.svg") || bad "demo saddle exited $?"
echo "$out"
step() { echo "$out" | awk -v n="$1" '$1 == n { print ($2 == ">" ? 1e9 : $2) }'; }
gd=$(step gd); mom=$(step momentum); rms=$(step rmsprop); adam=$(step adam)
for v in "$gd" "$mom" "$rms" "$adam"; do [ -n "$v" ] || bad "missing row in table"; done
awk -v g="$gd" -v a="$adam" -v r="$rms" -v m="$mom" 'BEGIN { exit !(a < g && r < g && m < g) }' ||
  bad "adaptive methods should escape before gd (gd=$gd momentum=$mom rmsprop=$rms adam=$adam)"
adam_loss=$(echo "$out" | awk '$1 == "adam" { print $3 }')
awk -v l="$adam_loss" 'BEGIN { exit !(l < -0.249) }' || bad "adam final loss $adam_loss"
grep -q "<polyline" "$dir/saddle.svg" || bad "no trajectories in saddle.svg"
grep -q "<path" "$dir/saddle.svg" || bad "no contour lines in saddle.svg"
[ "$(grep -c '<polyline' "$dir/saddle.svg")" -eq 4 ] || bad "expected 4 trajectories"
# Plain GD's path is drawn last (on top, the thinnest), so momentum's does
# not hide it where they overlap; the flat region is shaded and named.
last=$(grep '<polyline' "$dir/saddle.svg" | tail -1 | sed 's/.*stroke="\([^"]*\)".*/\1/')
first_label=$(grep -m1 'escapes at step' "$dir/saddle.svg" | sed 's/.*fill="\([^"]*\)".*/\1/')
[ -n "$last" ] && [ "$last" = "$first_label" ] || bad "gd's path ($first_label) is not drawn last ($last)"
grep -q '<rect' "$dir/saddle.svg" && grep -q 'flat' "$dir/saddle.svg" || bad "flat region not marked"
python3 -c "import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])" "$dir/saddle.svg" ||
  bad "saddle.svg is not well-formed XML"

out=$("$cgrad" demo softmax2d --classes 4 --out "$dir/s.svg") || bad "softmax2d exited $?"
acc=$(echo "$out" | awk '/accuracy/ { print $NF }')
awk -v a="$acc" 'BEGIN { exit !(a >= 0.95) }' || bad "softmax2d accuracy $acc"
[ "$(grep -c '<circle' "$dir/s.svg")" -eq 400 ] || bad "expected 400 points in s.svg"
grep -q "<rect" "$dir/s.svg" || bad "no decision regions"

for args in "demo nosuch" "demo saddle --steps 0" "demo softmax2d --classes x" "demo saddle --bogus"; do
  "$cgrad" $args > "$dir/o" 2> "$dir/e"; rc=$?
  [ $rc -ne 0 ] || bad "'$args' should fail"
  [ -s "$dir/e" ] || bad "'$args' printed no error"
done
exit $fail
