#!/usr/bin/env bash
# One network against dedicated models on a small point set (pts.npy beside this script): for
# seeds 0–2, dedicated models at D = 1, 2, 8, ∞ (1,500 steps each) and one network over
# 1..4096,inf (4,500 steps), then the median fit against the oracle's exact posterior mean at
# σ = 0.3 and 1. About 3 minutes on 2 cores.
# Usage: [PFGM=path/to/pfgm] run.sh OUT
#   OUT is made if missing; pfgm defaults to this checkout's release build.
# Each model's log is OUT/NAME.log; a model already trained (NAME/done) is kept.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 1 ] || { echo "usage: run.sh OUT" >&2; exit 2; }
P=${PFGM:-$here/../../../.build/release/pfgm}
case $P in
    */*) P=$(cd "$(dirname "$P")" && pwd)/$(basename "$P") ;;
    *) P=$(command -v "$P" || true) ;;
esac
if [ ! -x "$P" ]; then
    echo "run.sh: no pfgm at '${PFGM:-$P}'; build it (swift build -c release) or set PFGM" >&2
    exit 2
fi
mkdir -p "$1"
cd "$1"
[ -f pts.npy ] || cp "$here/pts.npy" pts.npy
T=(--data pts.npy --width 128 --depth 2 --batch 256 --lr 2e-3 --threads 1)
train() {  # NAME STEPS AUG_DIM SEED
    [ -f "$1/done" ] && return
    rm -rf "$1"
    "$P" train "${T[@]}" --seed "$4" --aug-dim "$3" --steps "$2" --out "$1" 2> "$1.log"
    touch "$1/done"
}
fit() {  # RUN [D]
    "$P" fit --ckpt "$1" ${2:+--aug-dim "$2"} --kernel-quantile 1 --sigmas 0.3,1 --count 1000 \
        --json | python3 -c 'import sys, json
print([round(json.loads(l)["median"], 5) for l in sys.stdin])'
}
for s in 0 1 2; do
    for d in 1 2 8 inf; do train "d$d-s$s" 1500 "$d" "$s"; done
    train "one-s$s" 4500 1..4096,inf "$s"
    for d in 1 2 8 inf; do
        dedicated=$(fit "d$d-s$s")
        one=$(fit "one-s$s" "$d")
        echo "seed $s D=$d dedicated $dedicated one $one"
    done
done
