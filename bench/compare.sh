#!/usr/bin/env bash
# pfgm bench beside the PyTorch reference (bench/torch_bench.py) in one run, rounds interleaved so that a
# neighbour's load falls on both. Prints each round and a table of medians and ratios.
# Usage: bench/compare.sh [rounds=5] [windows=8] [configs="toy image-mlp unet14 unet28"]
#   PYTHON=/path/to/python-with-torch bench/compare.sh      (default: python3, else Debian's /usr/bin/python3)
set -euo pipefail
source "$(dirname "$0")/../scripts/setup.sh"
rounds=${1:-5}
windows=${2:-8}
need_count rounds "$rounds"; need_count windows "$windows"
build_pfgm
configs=${3:-toy image-mlp unet14 unet28}
python=${PYTHON:-python3}
if [ -z "${PYTHON:-}" ] && ! "$python" -c "import torch" 2>/dev/null; then
    python=/usr/bin/python3   # Debian's python3-torch, which ./scripts/test installs
fi
if ! "$python" -c "import torch" 2>/dev/null; then
    echo "compare: $python cannot import torch; set PYTHON to an interpreter that has it" >&2
    exit 2
fi
log=$(mktemp)
for config in $configs; do
    for round in $(seq "$rounds"); do
        echo "{\"engine\": \"pfgm\", \"round\": $round, \"result\": $("$pfgm" bench --config "$config" --windows "$windows" --json)}" | tee -a "$log"
        echo "{\"engine\": \"torch\", \"round\": $round, \"result\": $("$python" "$pfgm_root/bench/torch_bench.py" --config "$config" --rounds 1 --windows "$windows")}" | tee -a "$log"
    done
done
python3 - "$log" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("\n| config | figure | pfgm | torch | ratio |\n|---|---|---|---|---|")
for config in dict.fromkeys(r["result"]["config"] for r in rows):
    for key, unit in [("train_steps_per_s", "train steps/s"), ("sample_evals_per_s", "sample evals/s"),
                      ("sgemm_gflops", "sgemm GFLOP/s (ceiling)"), ("peak_rss_mb", "peak RSS MiB")]:
        med = {e: statistics.median(r["result"][key] for r in rows if r["engine"] == e and r["result"]["config"] == config)
               for e in ("pfgm", "torch")}
        print(f"| {config} | {unit} | {med['pfgm']:,.1f} | {med['torch']:,.1f} | {med['pfgm'] / med['torch']:.2f}× |")
    peaks = [r["result"]["fma_peak_gflops"] for r in rows
             if r["engine"] == "pfgm" and r["result"]["config"] == config and "fma_peak_gflops" in r["result"]]
    if peaks:
        peak = statistics.median(peaks)
        share = {e: statistics.median(r["result"]["gflops"] for r in rows if r["engine"] == e
                                      and r["result"]["config"] == config) / peak for e in ("pfgm", "torch")}
        print(f"| {config} | training GFLOP/s as a share of the {peak:,.0f} GFLOP/s multiply-add peak "
              f"({rows[0]['result'].get('kernels', '?')} kernels) | {100 * share['pfgm']:.0f}% | "
              f"{100 * share['torch']:.0f}% | |")
PY
rm -f "$log"
