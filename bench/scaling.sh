#!/usr/bin/env bash
# Cost curves of the training step: time per step vs batch (toy and image-mlp widths) and vs width (batch 512),
# with the peak RSS of each run. Prints markdown tables. Usage: bench/scaling.sh [threads=2]
set -euo pipefail
source "$(dirname "$0")/../scripts/setup.sh"
threads=${1:-2}
need_count threads "$threads"
build_pfgm
run() { "$pfgm" bench --threads "$threads" --windows 3 --seconds 0.5 --json "$@"; }
row() { python3 -c "
import json,sys
d=json.loads(sys.argv[2]); print(f\"| {sys.argv[1]} | {1000/d['train_steps_per_s']:.2f} | {d['train_steps_per_s']:.1f} | {d['gflops']:.1f} | {d['sgemm_gflops']:.0f} | {d['peak_rss_mb']:.0f} |\")" "$1" "$2"; }
for config in toy image-mlp; do
    echo; echo "### $config: time per training step vs batch ($threads threads)"; echo
    echo "| batch | ms/step | steps/s | GFLOP/s | sgemm ceiling GFLOP/s | peak RSS MiB |"; echo "|---|---|---|---|---|---|"
    for b in 64 128 256 512 1024 2048; do row "$b" "$(run --config "$config" --batch "$b")"; done
done
echo; echo "### toy (N=2, L=4, batch 512): time per training step vs width ($threads threads)"; echo
echo "| width | ms/step | steps/s | GFLOP/s | sgemm ceiling GFLOP/s | peak RSS MiB |"; echo "|---|---|---|---|---|---|"
for w in 128 256 512 1024 2048; do row "$w" "$(run --config toy --width "$w")"; done
