#!/usr/bin/env bash
# Soak: the studio training in tmux for N minutes (default 30), RSS sampled every 10 s.
# Prints the RSS curve's start (after a 60 s warm-up), peak and end, and writes ./soak.csv.
# Usage: bench/soak.sh [minutes] [data]   (not a CI test)
set -euo pipefail
source "$(dirname "$0")/../scripts/setup.sh"
minutes=${1:-30}
need_count minutes "$minutes"
build_pfgm
data=${2:-checkerboard}
work=$(mktemp -d)
out="$PWD/soak.csv"
trap 'tmux -L pfgm-soak kill-server 2>/dev/null || true' EXIT
tmux -L pfgm-soak new-session -d -x 120 -y 36 -s soak "cd $work && $pfgm studio --data $data --runs $work/runs"
sleep 3
pid=$(pgrep -f "^$pfgm studio --data $data --runs $work/runs" | head -1)
tmux -L pfgm-soak send-keys -t soak ' '
echo "seconds,rss_mb,step" > "$out"
end=$(( $(date +%s) + minutes * 60 ))
start=$(date +%s)
while [ "$(date +%s)" -lt "$end" ]; do
    rss=$(awk '/VmRSS/ {print $2/1024}' "/proc/$pid/status")
    step=$(tmux -L pfgm-soak capture-pane -p -t soak | head -1 | grep -oE 'step [0-9]+' | cut -d' ' -f2 || echo "")
    echo "$(( $(date +%s) - start )),$rss,$step" >> "$out"
    # Resample now and then, as a user would.
    tmux -L pfgm-soak send-keys -t soak r
    sleep 10
done
tmux -L pfgm-soak send-keys -t soak q
sleep 5
python3 - "$out" <<'PY'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1]))]
warm = [r for r in rows if int(r["seconds"]) >= 60] or rows
rss = [float(r["rss_mb"]) for r in warm]
print(f"samples {len(rows)}; RSS after warm-up {rss[0]:.1f} MiB, peak {max(rss):.1f} MiB, end {rss[-1]:.1f} MiB; last step {rows[-1]['step']}")
PY
