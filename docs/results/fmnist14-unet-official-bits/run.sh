#!/usr/bin/env bash
# Weight quantization of the fmnist14 U-Net under both schemes: fd-fmnist of 2,000 samples (seed 0,
# Heun, NFE 35) in full precision, and at 9, 8, 7, 6 and 5 bits with `--quant-scheme official`
# (the official PFGM++ evaluation's) and `all` (every weight tensor), for each model folder given,
# e.g. the D sweep's `SWEEP/models/D8-s0 …` (../fmnist14-unet/command.txt). Appends one line per
# evaluation to results.jsonl and rewrites report.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pfgm=${PFGM:-$here/../../../.build/release/pfgm}
for model in "$@"; do
    line=$("$pfgm" eval --ckpt "$model" --count 2000 --seed 0 --metric fd)
    echo "{\"model\": \"$(basename "$model")\", \"eval\": $line}" >> "$here/results.jsonl"
    for scheme in official all; do
        for bits in 9 8 7 6 5; do
            line=$("$pfgm" eval --ckpt "$model" --count 2000 --bits "$bits" \
                --quant-scheme "$scheme" --seed 0 --metric fd)
            echo "{\"model\": \"$(basename "$model")\", \"eval\": $line}" >> "$here/results.jsonl"
        done
    done
done
python3 "$here/report.py" "$here/results.jsonl" > "$here/report.md"
