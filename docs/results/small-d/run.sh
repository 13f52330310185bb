#!/usr/bin/env bash
# The small-D study on checkerboard: D × kernel truncation × seed, 3,000 steps of the MLP-EDM (W=256, L=4,
# batch 512) each; 5,000 samples (Heun, NFE 35, σ_min 1e-4) from the whole and the cut prior; the fit per σ
# against the whole kernel's oracle and the run's own. About a minute per run on 2 cores, 35 runs.
# Usage: run.sh OUT [PFGM]   (OUT is made if missing; pfgm defaults to this checkout's build)
# Each model's training log is OUT/NAME.log; a model already done (NAME/done) is kept.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: run.sh OUT [PFGM]" >&2; exit 2; }
out=$1
P=${2:-$here/../../../.build/release/pfgm}
case $P in
    */*) P=$(cd "$(dirname "$P")" && pwd)/$(basename "$P") ;;
    *) P=$(command -v "$P" || true) ;;
esac
if [ ! -x "$P" ]; then
    echo "run.sh: no pfgm at '${2:-$P}'; build it (swift build -c release) or name it" >&2
    exit 2
fi
mkdir -p "$out"
cd "$out"
one() {  # D quantile ema seed
  local d=$1 q=$2 ema=$3 seed=$4 name=d$1-q$2-$3-s$4
  [ -f "$name/done" ] && return
  rm -rf "$name"
  local flag=--ema-warmup; [ "$ema" = plain ] && flag=--no-ema-warmup
  "$P" train --data checkerboard --aug-dim "$d" --steps 3000 --seed "$seed" \
      --kernel-quantile "$q" $flag --out "$name" 2> "$name.log"
  for pq in 1 0.97; do
    "$P" sample --ckpt "$name" --count 5000 --seed 3 --sigma-min 1e-4 --prior-quantile "$pq" \
        --out "$name/s$pq.npy" 2>> "$name.log"
    "$P" eval --samples "$name/s$pq.npy" --data checkerboard > "$name/e$pq.json"
  done
  "$P" fit --ckpt "$name" --json --sigmas 0.1,0.3,1,3 --kernel-quantile 1 > "$name/fitfull.jsonl"
  "$P" fit --ckpt "$name" --json --sigmas 0.1,0.3,1,3 > "$name/fitown.jsonl"
  touch "$name/done"
}
for seed in 0 1 2; do for d in 1 2 8 128 inf; do for q in 1 0.97; do one $d $q warm $seed; done; done; done
for d in 2 8 128 inf; do one $d 1 plain 0; done
