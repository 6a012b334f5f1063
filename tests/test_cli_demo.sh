#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cgrad demo saddle / softmax2d: the table shows adaptive methods escaping
# the saddle faster than plain GD, both SVGs are written, fail flags exit 2.
. "$(dirname "$0")/cli_common.sh" "$@"

out=$("$cgrad" demo saddle --out "$tmp/saddle.svg") || fail "demo saddle exited $?"
echo "$out"
step() { echo "$out" | awk -v n="$1" '$1 == n { print ($2 == ">" ? 1e9 : $2) }'; }
gd=$(step gd); mom=$(step momentum); rms=$(step rmsprop); adam=$(step adam)
for v in "$gd" "$mom" "$rms" "$adam"; do [ -n "$v" ] || fail "missing row in table"; done
awk -v g="$gd" -v a="$adam" -v r="$rms" -v m="$mom" 'BEGIN { exit !(a < g && r < g && m < g) }' ||
  fail "adaptive methods should escape before gd (gd=$gd momentum=$mom rmsprop=$rms adam=$adam)"
adam_loss=$(echo "$out" | awk '$1 == "adam" { print $3 }')
awk -v l="$adam_loss" 'BEGIN { exit !(l < -0.249) }' || fail "adam final loss $adam_loss"
grep -q "<polyline" "$tmp/saddle.svg" || fail "no trajectories in saddle.svg"
grep -q "<path" "$tmp/saddle.svg" || fail "no contour lines in saddle.svg"
[ "$(grep -c '<polyline' "$tmp/saddle.svg")" -eq 4 ] || fail "expected 4 trajectories"
# Plain GD's path is drawn last (on top, the thinnest), so momentum's does
# not hide it where they overlap; the flat region is shaded and named.
last=$(grep '<polyline' "$tmp/saddle.svg" | tail -1 | sed 's/.*stroke="\([^"]*\)".*/\1/')
first_label=$(grep -m1 'escapes at step' "$tmp/saddle.svg" | sed 's/.*fill="\([^"]*\)".*/\1/')
[ -n "$last" ] && [ "$last" = "$first_label" ] || fail "gd's path ($first_label) is not drawn last ($last)"
grep -q '<rect' "$tmp/saddle.svg" && grep -q 'flat' "$tmp/saddle.svg" || fail "flat region not marked"
python3 -c "import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])" "$tmp/saddle.svg" ||
  fail "saddle.svg is not well-formed XML"

out=$("$cgrad" demo softmax2d --classes 4 --out "$tmp/s.svg") || fail "softmax2d exited $?"
acc=$(echo "$out" | awk '/accuracy/ { print $NF }')
awk -v a="$acc" 'BEGIN { exit !(a >= 0.95) }' || fail "softmax2d accuracy $acc"
[ "$(grep -c '<circle' "$tmp/s.svg")" -eq 400 ] || fail "expected 400 points in s.svg"
grep -q "<rect" "$tmp/s.svg" || fail "no decision regions"

for args in "demo nosuch" "demo saddle --steps 0" "demo softmax2d --classes x" "demo saddle --bogus"; do
  "$cgrad" $args > "$tmp/o" 2> "$tmp/e"; rc=$?
  [ $rc -ne 0 ] || fail "'$args' should fail"
  [ -s "$tmp/e" ] || fail "'$args' printed no error"
done
finish
