"""Tables of the small-D study from run.sh's folder: python3 table.py OUT > tables.md"""

import glob
import json
import os
import sys

import numpy as np


def precision(x):
    """Share of samples on the checkerboard's squares (x/2, y/2 in [-2, 2)² with floor(x/2) ≡
    floor(y/2) mod 2)."""
    a, b = x[:, 0] / 2, x[:, 1] / 2
    inside = (a >= -2) & (a < 2) & (b >= -2) & (b < 2)
    return float(np.mean(inside & ((np.floor(a) - np.floor(b)) % 2 == 0)))


def runs(folder):
    out = {}
    for path in sorted(glob.glob(os.path.join(folder, "d*-s*"))):
        if not os.path.exists(os.path.join(path, "done")):
            continue
        d, q, ema, seed = os.path.basename(path)[1:].split("-")
        row = {}
        for kind in ("full", "own"):
            name = os.path.join(path, f"fit{kind}.jsonl")
            if os.path.exists(name):
                row[kind] = {f["sigma"]: f["median"] for f in map(json.loads, open(name))}
        own = "1" if q[1:] == "1" else "0.97"
        for prior in ("1", own):
            e = json.load(open(os.path.join(path, f"e{prior}.json")))
            row["swd" + prior] = e["swd"]
            row["prec" + prior] = precision(np.load(os.path.join(path, f"s{prior}.npy")))
        row["own"] = own
        out.setdefault((d, q[1:], ema), []).append(row)
    return out


def cell(values, fmt):
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    m = float(np.mean(values))
    return (fmt % m) + (f" ± {fmt % float(np.std(values, ddof=1))}" if len(values) > 1 else "")


def main(folder):
    data = runs(folder)
    order = lambda k: (float("inf") if k[0] == "inf" else float(k[0]), k[1], k[2])
    print(
        "| D | kernel | EMA | seeds | fit σ=0.1 | σ=0.3 | σ=1 | σ=3 | SWD, own prior | on "
        "squares, own prior | SWD, whole prior |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for key in sorted(data, key=order):
        rows = data[key]
        d, q, ema = key
        fit = lambda s: cell([r.get("full", {}).get(s) for r in rows], "%.2g")
        own = rows[0]["own"]
        print(
            f"| {d} | {'whole' if q == '1' else 'cut ' + q} | {ema} | {len(rows)} | {fit(0.1)} | "
            f"{fit(0.3)} | {fit(1)} | {fit(3)} | "
            f"{cell([r['swd' + own] for r in rows], '%.3f')} | "
            f"{cell([r['prec' + own] for r in rows], '%.3f')} | "
            f"{cell([r['swd1'] for r in rows], '%.3f')} |"
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
