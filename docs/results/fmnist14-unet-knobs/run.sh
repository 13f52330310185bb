#!/usr/bin/env bash
# EDM's training knobs against pfgm's defaults on the fmnist14 U-Net at D = 128, as in the D sweep
# (../fmnist14-unet/command.txt: 5,600 steps of batch 64). Trains, for each seed in SEEDS (default
# "0 1"), two recipes under OUT/models:
#   edm-schedule  EDM's EMA (half-life 500 kimg, ramp-up 0.05) and learning-rate ramp-up, scaled
#                 to this budget: EDM ramps over 10 of its 200 Mimg, 5%, here 18 of 358 kimg;
#   dropout       dropout 0.13 (the official CIFAR-10 recipe), the rest as the defaults.
# Then scores them and each default model given (the sweep's `SWEEP/models/D128-s0 …`): fd-fmnist
# of 2,000 samples (seed 0) at NFE 35, at α = 0.2 and at NFE 13. A run resumes where it stopped.
# Usage: run.sh OUT DEFAULT_MODEL…   Appends to results.jsonl here and rewrites report.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pfgm=${PFGM:-$here/../../../.build/release/pfgm}
out=$1
shift
threads=${THREADS:-2}
base=(--arch unet --data fmnist14 --aug-dim 128 --steps 5600 --batch 64 --threads "$threads")
declare -A recipe=(
    [edm-schedule]="--ema-halflife-kimg 500 --ema-rampup 0.05 --lr-rampup-kimg 18"
    [dropout]="--dropout 0.13"
)
train() { # NAME SEED
    local dir=$out/models/$1-D128-s$2
    [[ -e $dir/done ]] && return
    if [[ -e $dir/checkpoint.safetensors ]]; then
        "$pfgm" train --resume "$dir" --steps 5600 --threads "$threads"
    else
        # shellcheck disable=SC2086
        "$pfgm" train "${base[@]}" --seed "$2" ${recipe[$1]} --out "$dir"
    fi
    touch "$dir/done"
}
score() { # MODEL RECIPE
    local args
    for args in "" "--alpha 0.2" "--steps 7"; do
        # shellcheck disable=SC2086
        line=$("$pfgm" eval --ckpt "$1" --count 2000 --seed 0 --metric fd \
            --threads "$threads" $args)
        echo "{\"recipe\": \"$2\", \"model\": \"$(basename "$1")\", \"eval\": $line}" \
            >> "$here/results.jsonl"
    done
}
for seed in ${SEEDS-0 1}; do
    for name in edm-schedule dropout; do
        train "$name" "$seed"
    done
done
for model in "$@"; do score "$model" default; done
for seed in ${SEEDS-0 1}; do
    for name in edm-schedule dropout; do
        score "$out/models/$name-D128-s$seed" "$name"
    done
done
python3 "$here/report.py" "$here/results.jsonl" > "$here/report.md"
