#!/usr/bin/env bash
# The training settings the README's "Accuracy" section says were tried, each
# cross-validated on the same artist-grouped folds as `just evaluate-default`
# (5 folds x 4 repeats, per-file decisions), with `evaluate --cv`.
#
# Usage: scripts/cv_sweep.sh AUDIO_DIR   (run by `just cv-sweep`)
#
# Writes the 3-, 5- and 10-s window tables to target/ (reused when present) and each
# setting's full report to target/cv-sweep/N.json, and prints one Markdown table row per
# setting. Every setting is the bundled model's recipe (5-s windows every 2.5 s, ensemble
# of 5, compressed inputs, 10 epochs) with one change. Training is seeded, so a rerun
# prints the same table. Takes about 12 minutes on one core.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?usage: scripts/cv_sweep.sh AUDIO_DIR}

cargo build --release --locked --bins --quiet

table() { # seconds hop -> path of the table of windows
    local path="target/emotify-dev-w$1.csv"
    if [ ! -f "$path" ]; then
        ./target/release/features --quiet --segment "$1" --segment-hop "$2" "$data" "$path" >&2
    fi
    echo "$path"
}
w3=$(table 3 1.5)
w5=$(table 5 2.5)
w10=$(table 10 5)

recipe="--cv 5 --repeats 4 --no-baseline" # the training options' defaults are the recipe
out=target/cv-sweep
mkdir -p "$out"
settings=()
run() { # name table flags...: the full report goes to $out/N.json
    local name=$1 path=$2
    shift 2
    settings+=("$name")
    # shellcheck disable=SC2086 # $recipe is a list of words
    ./target/release/evaluate $recipe "$@" --json "$out/${#settings[@]}.json" "$path" >/dev/null 2>&1
}
run "the bundled model's recipe" "$w5"
run "3-s windows every 1.5 s" "$w3"
run "10-s windows every 5 s" "$w10"
run "20 epochs" "$w5" --epochs 20
run "30 epochs" "$w5" --epochs 30
run "weight decay 1e-4" "$w5" --weight-decay 1e-4
run "weight decay 1e-3" "$w5" --weight-decay 1e-3
run "30 epochs, weight decay 1e-3" "$w5" --epochs 30 --weight-decay 1e-3
run "label smoothing 0.1" "$w5" --label-smoothing 0.1
run "learning rate 3e-4" "$w5" --lr 3e-4
run "learning rate 3e-3" "$w5" --lr 3e-3
run "batch 64" "$w5" --batch-size 64
run "a validation split per member" "$w5" --split-per-member
run "no input compression" "$w5" --no-compress

# One row per setting; the difference from the recipe is paired over the same 20 test
# folds (mean ± its standard error; folds better / worse).
python3 - "$out" "${settings[@]}" <<'PY'
import json, statistics, sys

out, names = sys.argv[1], sys.argv[2:]
folds = [json.load(open(f"{out}/{i + 1}.json"))["folds"] for i in range(len(names))]
acc = [[f["mlp"]["accuracy"] for f in run] for run in folds]
print("| setting | accuracy (mean ± std over 20 folds) | paired difference from the recipe | folds better / worse |")
print("|---|---:|---:|---:|")
for name, run, a in zip(names, folds, acc):
    cell = f"{statistics.mean(a):.3f} ± {statistics.stdev(a):.3f}"
    if run is folds[0]:
        print(f"| {name} | {cell} | | |")
        continue
    assert [f["test_files"] for f in run] == [f["test_files"] for f in folds[0]], name
    d = [x - y for x, y in zip(a, acc[0])]
    se = statistics.stdev(d) / len(d) ** 0.5
    better, worse = sum(x > 0 for x in d), sum(x < 0 for x in d)
    print(f"| {name} | {cell} | {statistics.mean(d):+.3f} ± {se:.3f} | {better} / {worse} |")
PY
