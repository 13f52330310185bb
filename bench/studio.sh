#!/usr/bin/env bash
# Headless vs in-studio training speed and key-to-screen latency while training, in one run.
# Usage: bench/studio.sh [seconds-of-training] [data]   (needs tmux; builds in release first)
# With image data (fmnist14) the studio also scores fd-fmnist batches in the background, which this counts in.
set -euo pipefail
source "$(dirname "$0")/../scripts/setup.sh"
seconds=${1:-30}
need_count seconds "$seconds"
build_pfgm
data=${2:-checkerboard}
work=$(mktemp -d)
trap 'tmux -L pfgm-bench kill-server 2>/dev/null || true; rm -rf "$work"' EXIT

echo "== headless: pfgm train ($data, D=128, about ${seconds} s)"
# Steps for about that long at the studio's settings, from a short probe run.
"$pfgm" train --data "$data" --aug-dim 128 --steps 40 --log-every 20 --out "$work/probe" 2>/dev/null
rate=$(python3 -c "import json; print(max(1.0, [json.loads(l) for l in open('$work/probe/stats.jsonl')][-1]['steps_per_s']))")
steps=$(python3 -c "print(max(200, int($rate * $seconds)))")
"$pfgm" train --data "$data" --aug-dim 128 --steps "$steps" --log-every 100 --out "$work/headless" 2>/dev/null
headless=$(python3 -c "
import json,sys
rows=[json.loads(l) for l in open('$work/headless/stats.jsonl')][1:]
rates=sorted(r['steps_per_s'] for r in rows); print(rates[len(rates)//2])")
echo "headless median steps/s: $headless"

echo "== studio: same data and D, training for ${seconds} s"
tmux -L pfgm-bench new-session -d -x 120 -y 36 -s b "cd $work && $pfgm studio --data $data --runs $work/runs"
sleep 3
tmux -L pfgm-bench send-keys -t b ' '
rates=()
for _ in $(seq "$seconds"); do
    sleep 1
    r=$(tmux -L pfgm-bench capture-pane -p -t b | head -1 | grep -oE '[0-9.]+ steps/s' | cut -d' ' -f1 || true)
    [ -n "$r" ] && rates+=("$r")
done
studio=$(printf '%s\n' "${rates[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "studio median steps/s: $studio (ratio to headless: $(python3 -c "print(round($studio/$headless, 3))"))"

echo "== key-to-screen latency while training (→/← change D on screen), 20 presses"
python3 - "$work" <<'PY'
import subprocess, time, statistics
def screen():
    return subprocess.run(["tmux", "-L", "pfgm-bench", "capture-pane", "-p", "-t", "b"], capture_output=True, text=True).stdout.split("\n")[0]
lat = []
for i in range(20):
    # → leaves D=128 (for the next D of the ladder), ← comes back to it.
    key, away = ("Right", True) if i % 2 == 0 else ("Left", False)
    t0 = time.perf_counter()
    subprocess.run(["tmux", "-L", "pfgm-bench", "send-keys", "-t", "b", key])
    while ("│ D=128 │" in screen()) == away:
        if time.perf_counter() - t0 > 5: break
        time.sleep(0.002)
    lat.append((time.perf_counter() - t0) * 1000)
    time.sleep(0.3)
lat.sort()
print(f"latency ms: median {statistics.median(lat):.1f}, max {lat[-1]:.1f} (includes tmux send/capture round trips)")
PY
tmux -L pfgm-bench send-keys -t b q
sleep 2
