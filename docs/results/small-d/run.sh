#!/usr/bin/env bash
# The small-D study on checkerboard: D × kernel truncation × seed, 3,000 steps of the MLP-EDM (W=256, L=4,
# batch 512) each; 5,000 samples (Heun, NFE 35, σ_min 1e-4) from the whole and the cut prior; the fit per σ
# against the whole kernel's oracle and the run's own. Usage: run.sh OUT [PFGM]   (about 1 min per run here)
set -u
out=${1:?usage: run.sh OUT [PFGM]}; P=${2:-$(dirname "$0")/../../../.build/release/pfgm}
P=$(cd "$(dirname "$P")" && pwd)/$(basename "$P")
mkdir -p "$out" && cd "$out" || exit 1
one() {  # D quantile ema seed
  local d=$1 q=$2 ema=$3 seed=$4 name=d$1-q$2-$3-s$4
  [ -f $name/done ] && return
  rm -rf $name
  local flag=--ema-warmup; [ $ema = plain ] && flag=--no-ema-warmup
  $P train --data checkerboard --aug-dim $d --steps 3000 --seed $seed --kernel-quantile $q $flag --out $name 2>/dev/null
  for pq in 1 0.97; do
    $P sample --ckpt $name --count 5000 --seed 3 --sigma-min 1e-4 --prior-quantile $pq --out $name/s$pq.npy 2>/dev/null
    $P eval --samples $name/s$pq.npy --data checkerboard > $name/e$pq.json
  done
  $P fit --ckpt $name --json --sigmas 0.1,0.3,1,3 --kernel-quantile 1 > $name/fitfull.jsonl
  $P fit --ckpt $name --json --sigmas 0.1,0.3,1,3 > $name/fitown.jsonl
  touch $name/done
}
for seed in 0 1 2; do for d in 1 2 8 128 inf; do for q in 1 0.97; do one $d $q warm $seed; done; done; done
for d in 2 8 128 inf; do one $d 1 plain 0; done
