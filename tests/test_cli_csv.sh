#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli_csv.sh BUILD_DIR: CSV files as people write them, through
# train, eval, predict and export (the files are tests/data/csv_*): class
# names shown everywhere, missing cells imputed with a warning, text
# columns one-hot, and each bad file refused with exit 2 naming the place.
. "$(dirname "$0")/cli_common.sh" "$@"
data=$here/data

# run ARGS...: exit 0, stdout and stderr in $tmp/all.
run() {
    "$cgrad" "$@" >"$tmp/all" 2>&1 || fail "cgrad $*: exit $?: $(tail -3 "$tmp/all")"
}

quick=(--epochs 40 --hidden 8 --lr 0.05 --val-split 0)

# Bad files: the error names file, line (and column).
expect_usage "csv_ragged.csv:3: row has 2 columns, expected 3" train --data "$data/csv_ragged.csv"
expect_usage "csv_huge_label.csv:3:3: label '16777216' is not a valid class" train --data "$data/csv_huge_label.csv"
expect_usage "column 'b' (2) has no values" train --data "$data/csv_all_missing.csv"
expect_usage "csv_missing.csv:3:1: missing value" train --data "$data/csv_missing.csv" --missing error
expect_usage "class 'unicorn' was not in the training data" train --data "$data/csv_names_train.csv" \
    --test "$data/csv_names_test.csv" "${quick[@]}"
expect_usage "--delimiter" train --data "$data/csv_names_train.csv" --delimiter '|'
expect_usage "--missing" train --data "$data/csv_names_train.csv" --missing drop
expect_usage "--unknown-category: zero is for the values of a test file" train --data "$data/csv_text.csv" \
    --unknown-category zero
# The test file's unseen category: an error by default, all zero when asked.
expect_usage "csv_text_test.csv:2:2: 'purple' is not a category of text column 'color'" \
    train --data "$data/csv_text.csv" --test "$data/csv_text_test.csv" "${quick[@]}"
run train --data "$data/csv_text.csv" --test "$data/csv_text_test.csv" --unknown-category zero "${quick[@]}"

# Class names: printed by train, kept in the checkpoint, shown by eval's
# confusion matrix, predict and the exported C code.
run train --data "$data/csv_names_train.csv" "${quick[@]}" --out "$tmp/names"
grep -q "classes (sorted names): setosa, versicolor, virginica" "$tmp/all" || fail "train: no class names: $(cat "$tmp/all")"
run eval --model "$tmp/names/last.safetensors" --data "$data/csv_names_train.csv"
grep -q "^2 virginica" "$tmp/all" || fail "eval: confusion matrix lacks names: $(cat "$tmp/all")"
expect_usage "class 'unicorn'" eval --model "$tmp/names/last.safetensors" --data "$data/csv_names_test.csv"
run predict --model "$tmp/names/last.safetensors" --input "$data/csv_names_test.csv"
[ "$(head -1 "$tmp/all" | cut -f1)" = setosa ] || fail "predict: $(cat "$tmp/all")"
run predict --model "$tmp/names/last.safetensors" --input "$data/csv_names_test.csv" --label species
expect_usage "--label: 'x1' is not the label column the model was trained with (species)" \
    predict --model "$tmp/names/last.safetensors" --input "$data/csv_names_test.csv" --label x1
run export --model "$tmp/names/last.safetensors" --c "$tmp/c"
grep -q '"versicolor"' "$tmp/c/model.c" || fail "export: class names missing from model.c"

# Missing cells: imputed with a warning counting them per column; the
# values travel with the checkpoint to predict (a gap on stdin).
run train --data "$data/csv_missing.csv" "${quick[@]}" --out "$tmp/miss"
grep -q "missing cells imputed.*'age' 2 (mean), 'color' 1 (most frequent value), 'score' 2 (mean)" "$tmp/all" ||
    fail "train: no missing-cell warning: $(cat "$tmp/all")"
printf 'age,color,score\n,blue,1\n40,red,NA\n' | "$cgrad" predict --model "$tmp/miss/last.safetensors" --input - \
    >"$tmp/out" 2>"$tmp/err" || fail "predict with gaps: $(cat "$tmp/err")"
[ "$(wc -l <"$tmp/out")" -eq 2 ] || fail "predict with gaps: $(cat "$tmp/out")"
grep -q "'age' 1 (mean), 'score' 1 (mean)" "$tmp/err" || fail "predict: no missing-cell warning: $(cat "$tmp/err")"
expect_usage "missing value" predict --model "$tmp/miss/last.safetensors" --input "$data/csv_missing.csv" --missing error
run export --model "$tmp/miss/last.safetensors" --c "$tmp/cm"
grep -q "isnan(x\[j\]) ? in_fill\[j\]" "$tmp/cm/model.c" || fail "export: no missing-value fill"

# Text columns: one-hot; an unseen category is an error, or all zero.
run train --data "$data/csv_text.csv" "${quick[@]}" --out "$tmp/text"
grep -q "3 columns\|2 columns make 4 features" "$tmp/all" || fail "train: no one-hot note: $(cat "$tmp/all")"
expect_usage "'purple' is not a category of text column 'color'" predict --model "$tmp/text/last.safetensors" \
    --input "$data/csv_text_unseen.csv"
run predict --model "$tmp/text/last.safetensors" --input "$data/csv_text_unseen.csv" --unknown-category zero
[ "$(wc -l <"$tmp/all")" -eq 2 ] || fail "predict --unknown-category zero: $(cat "$tmp/all")"

# Delimiters: detected (semicolon with a BOM and CRLF, tab, whitespace) or given.
for f in csv_semicolon csv_tab csv_space; do
    run train --data "$data/$f.csv" --epochs 1 --hidden 4 --val-split 0
done
run train --data "$data/csv_semicolon.csv" --delimiter ';' --epochs 1 --hidden 4 --val-split 0
expect_usage "csv_semicolon.csv:3:1: unexpected text after a closing quote (expected tab" \
    train --data "$data/csv_semicolon.csv" --delimiter tab

finish "test_cli_csv: ok"
