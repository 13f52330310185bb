#!/usr/bin/env bash
P=${PFGM:-pfgm}
cd "${1:?usage: run.sh OUT (holding pts.npy)}"
T="--data pts.npy --width 128 --depth 2 --batch 256 --lr 2e-3 --threads 1"
f() { $P fit --ckpt $1 ${2:+--aug-dim $2} --kernel-quantile 1 --sigmas 0.3,1 --count 1000 --json | python3 -c 'import sys,json; print([round(json.loads(l)["median"],5) for l in sys.stdin])'; }
for s in 0 1 2; do
  for d in 1 2 8 inf; do [ -f d$d-s$s/done ] || { rm -rf d$d-s$s; $P train $T --seed $s --aug-dim $d --steps 1500 --out d$d-s$s 2>/dev/null && touch d$d-s$s/done; }; done
  [ -f one-s$s/done ] || { rm -rf one-s$s; $P train $T --seed $s --aug-dim 1..4096,inf --steps 4500 --out one-s$s 2>/dev/null && touch one-s$s/done; }
  for d in 1 2 8 inf; do echo "seed $s D=$d dedicated $(f d$d-s$s) one $(f one-s$s $d)"; done
done
