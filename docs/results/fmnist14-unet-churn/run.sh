#!/usr/bin/env bash
# EDM's stochastic sampler on the fmnist14 U-Net: fd-fmnist of 2,000 samples (seed 0) at NFE 13 and
# 35 (7 and 18 Heun steps), S_churn 0, 10 and 40 (S_min 0, S_max ∞, S_noise 1; CHURNS="2 5" runs
# other values), for each model folder given, e.g. the D sweep's models: `run.sh
# SWEEP/models/D128-s0 SWEEP/models/Dinf-s0`. Appends one line per evaluation to results.jsonl
# (eval's JSON with the folder) and rewrites report.md. Models are those of `pfgm sweep --arch unet
# --data fmnist14 --aug-dims 8,128,2048,inf --steps 5600 --batch 64 --seeds 3 --count 2000`
# (../fmnist14-unet/command.txt).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pfgm=${PFGM:-$here/../../../.build/release/pfgm}
for model in "$@"; do
    for steps in 7 18; do
        for churn in ${CHURNS:-0 10 40}; do
            line=$("$pfgm" eval --ckpt "$model" --count 2000 --steps "$steps" --s-churn "$churn" \
                --seed 0 --metric fd)
            echo "{\"model\": \"$(basename "$model")\", \"eval\": $line}" >> "$here/results.jsonl"
        done
    done
done
python3 "$here/report.py" "$here/results.jsonl" > "$here/report.md"
