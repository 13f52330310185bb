#!/usr/bin/env bash
# Telling D apart: on the small point set (pts.npy beside this script), one network over
# 1..4096,inf with the default draws and with the sharp shares (--feature-share 0.75
# --infinity-share 0.4), 4,500 steps, seeds 0–7; dedicated models at D = 1, 2, 4, ∞, 1,500 steps,
# seeds 0–2 (the small MLP of run.sh). Then `pfgm fit --against-aug-dim 8` at D = 1, 2, 4, ∞ and
# the fit at D = 8, 128, 2048, ∞, one JSON line each in OUT/results.jsonl, and report.py's table.
# About 5 minutes on 2 cores.
# Usage: [PFGM=path/to/pfgm] [SEEDS="0 … 7"] [SHARP="…"] [FLAGS="…"] separation.sh OUT
#   OUT is made if missing; a model already trained (NAME/done) is kept, results.jsonl remade.
#   SEEDS: the one networks' seeds; SHARP: the flags of the second one network (the sharp
#   shares' by default); FLAGS: more flags for every model. The stable target's study:
#   FLAGS="--reference-batch 256" SHARP="--sharp-draws" SEEDS="$(seq 0 15)" separation.sh OUT
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 1 ] || { echo "usage: separation.sh OUT" >&2; exit 2; }
P=${PFGM:-$here/../../../.build/release/pfgm}
case $P in
    */*) P=$(cd "$(dirname "$P")" && pwd)/$(basename "$P") ;;
    *) P=$(command -v "$P" || true) ;;
esac
if [ ! -x "$P" ]; then
    echo "separation.sh: no pfgm at '${PFGM:-$P}';" \
        "build it (swift build -c release) or set PFGM" >&2
    exit 2
fi
mkdir -p "$1"
cd "$1"
[ -f pts.npy ] || cp "$here/pts.npy" pts.npy
train() {  # NAME STEPS AUG_DIM SEED [FLAGS...]
    local name=$1 steps=$2 d=$3 seed=$4
    shift 4
    [ -f "$name/done" ] && return
    rm -rf "$name"
    "$P" train --data pts.npy --width 128 --depth 2 --batch 256 --lr 2e-3 --threads 1 \
        --seed "$seed" --aug-dim "$d" --steps "$steps" --out "$name" "$@" 2> "$name.log"
    touch "$name/done"
}
export -f train
export P
seeds=${SEEDS:-0 1 2 3 4 5 6 7}
sharp=${SHARP:---feature-share 0.75 --infinity-share 0.4}
flags=${FLAGS:-}
{
    for s in 0 1 2; do for d in 1 2 4 inf; do echo "train ded-d$d-s$s 1500 $d $s $flags"; done; done
    for s in $seeds; do
        echo "train default-s$s 4500 1..4096,inf $s $flags"
        echo "train sharp-s$s 4500 1..4096,inf $s $sharp $flags"
    done
} | xargs -P 2 -I{} bash -c '{}'
measure() {  # RUN D KIND SEED
    local tag="\"model\": \"$1\", \"kind\": \"$3\", \"seed\": $4, "
    local dflag=()
    [[ $1 == ded-* ]] || dflag=(--aug-dim "$2")
    if [ "$2" != 8 ]; then
        "$P" fit --ckpt "$1" "${dflag[@]}" --against-aug-dim 8 --kernel-quantile 1 \
            --sigmas 0.6,1,1.5 --count 1000 --json --threads 1 | sed "s/^{/{$tag/"
    fi
    case $2 in 8 | 128 | 2048 | inf) if [[ $1 != ded-* ]]; then
        "$P" fit --ckpt "$1" "${dflag[@]}" --kernel-quantile 1 --sigmas 0.3,0.6,1,1.5 \
            --count 1000 --json --threads 1 | sed "s/^{/{$tag\"aug_dim\": \"$2\", /"
    fi ;; esac
}
export -f measure
{
    for s in 0 1 2; do for d in 1 2 4 inf; do echo "measure ded-d$d-s$s $d dedicated $s"; done; done
    for s in $seeds; do for k in default sharp; do
        for d in 1 2 4 8 128 2048 inf; do echo "measure $k-s$s $d $k $s"; done
    done; done
} | xargs -P 2 -I{} bash -c '{}' > results.jsonl
python3 "$here/separation-report.py" results.jsonl > report.md
cat report.md
