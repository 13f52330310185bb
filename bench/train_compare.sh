#!/usr/bin/env bash
# The real training loops side by side: `pfgm train` against `python -m pfgm_torch.train` with the same flags,
# rounds interleaved; each figure is the median steps/s of the logged windows after the first (stats.jsonl).
# Usage: bench/train_compare.sh [rounds=2] [steps=600] [cases="fmnist14:64 fmnist:32"] [threads=2]
#   PYTHON=/path/to/python-with-torch   (default python3);  extra `pfgm train` flags in PFGM_FLAGS
#   ATEN_CPU_CAPABILITY=avx2 … and PFGM_CPU=avx2 hold both sides to AVX2 (the environment passes through)
set -euo pipefail
source "$(dirname "$0")/../scripts/setup.sh"
rounds=${1:-2}
steps=${2:-600}
cases=${3:-fmnist14:64 fmnist:32}
threads=${4:-2}
need_count rounds "$rounds"; need_count steps "$steps"; need_count threads "$threads"
build_pfgm
python=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
median_rate() {   # the median steps_per_s of stats.jsonl's lines after the first
    python3 -c 'import json, statistics, sys
rates = [json.loads(l)["steps_per_s"] for l in open(sys.argv[1]) if l.strip()][1:]
print(statistics.median(rates))' "$1/stats.jsonl"
}
echo "| data | batch | round | pfgm steps/s | torch steps/s | ratio |"
echo "|---|---|---|---|---|---|"
for case in $cases; do
    data=${case%%:*} batch=${case##*:}
    flags=(--data "$data" --arch unet --width 32 --depth 2 --aug-dim 128 --batch "$batch" --steps "$steps"
           --log-every 50 --save-every 100000 --threads "$threads")
    for round in $(seq "$rounds"); do
        "$pfgm" train "${flags[@]}" ${PFGM_FLAGS:-} --out "$work/p$round-$data" 2> /dev/null
        PYTHONPATH="$pfgm_root/tools/torch" "$python" -m pfgm_torch.train "${flags[@]}" --out "$work/t$round-$data" 2> /dev/null \
            > /dev/null
        p=$(median_rate "$work/p$round-$data") t=$(median_rate "$work/t$round-$data")
        python3 -c "import sys; p, t = map(float, sys.argv[1:]); print(f'| $data | $batch | $round | {p:.1f} | {t:.1f} | {p / t:.2f}× |')" "$p" "$t"
    done
done
