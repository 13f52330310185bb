#!/usr/bin/env bash
# The trainer's speed with and without a studio following it (pfgm studio --follow), rounds interleaved.
# Usage: bench/follow.sh [rounds] [steps]   (needs tmux; builds in release first)
# Each round trains the same run twice from scratch (fmnist14, U-Net, D=128, 2 threads): once alone,
# once with a studio following it in tmux; prints the median steps/s of each after the first window.
set -euo pipefail
source "$(dirname "$0")/../scripts/setup.sh"
rounds=${1:-3}
steps=${2:-600}
need_count rounds "$rounds"; need_count steps "$steps"
build_pfgm
work=$(mktemp -d)
trap 'tmux -L pfgm-follow kill-server 2>/dev/null || true; rm -rf "$work"' EXIT
train() {
    "$pfgm" train --data fmnist14 --arch unet --aug-dim 128 --steps "$steps" --batch 64 --threads 2 \
        --log-every 20 --save-every 100 --out "$1" 2>/dev/null
}
median() {
    python3 -c "
import json
rows = [json.loads(l) for l in open('$1/stats.jsonl')][1:]
rates = sorted(r['steps_per_s'] for r in rows)
print(f'{rates[len(rates) // 2]:.2f}')"
}
alone=() followed=()
for r in $(seq "$rounds"); do
    train "$work/alone-$r"
    alone+=("$(median "$work/alone-$r")")
    # The studio needs the run's config: start the trainer, then follow it.
    train "$work/followed-$r" &
    trainer=$!
    while [ ! -f "$work/followed-$r/config.json" ]; do sleep 0.05; done
    tmux -L pfgm-follow new-session -d -x 160 -y 48 -s f "$pfgm studio --follow $work/followed-$r --threads 1"
    wait "$trainer"
    tmux -L pfgm-follow capture-pane -p -t f | head -1
    tmux -L pfgm-follow send-keys -t f q
    sleep 1
    tmux -L pfgm-follow kill-server 2>/dev/null || true
    followed+=("$(median "$work/followed-$r")")
    echo "round $r: alone ${alone[-1]} steps/s, followed ${followed[-1]} steps/s"
done
python3 - "${alone[*]}" "${followed[*]}" <<'PY'
import statistics, sys
a = [float(x) for x in sys.argv[1].split()]
f = [float(x) for x in sys.argv[2].split()]
print(f"median of rounds: alone {statistics.median(a):.2f}, followed {statistics.median(f):.2f} steps/s, "
      f"ratio {statistics.median(f) / statistics.median(a):.3f}")
PY
