"""One network against dedicated models, from two `pfgm sweep` folders' results.csv (the settings
both scored), or any two sweeps with their column names:
python3 compare.py DEDICATED_DIR ONE_DIR [NAME_A NAME_B] > table.md"""

import csv
import statistics
import sys


def load(folder):
    cells = {}
    with open(f"{folder}/results.csv") as f:
        for row in csv.DictReader(f):
            if row["value"] in ("", "nan"):
                continue
            key = (row["aug_dim"], float(row["alpha"]), int(row["bits"]), int(row["nfe"]))
            cells.setdefault(key, []).append(float(row["value"]))
    return cells


def cell(values):
    if not values:
        return "–"
    m = statistics.mean(values)
    return f"{m:.4g} ± {statistics.stdev(values):.2g}" if len(values) > 1 else f"{m:.4g}"


def order(d):
    return float("inf") if d == "inf" else float(d)


def main(dedicated, one, names=("dedicated", "one network")):
    a, b = load(dedicated), load(one)
    settings = sorted(
        {k[1:] for k in a} & {k[1:] for k in b},
        key=lambda s: (s[0] != 0 or s[1] != 32, s[0], -s[1], -s[2]),
    )
    dims = sorted({k[0] for k in a}, key=order)
    short = [n.split()[0] for n in names]
    print(f"| setting | D | {names[0]} | {names[1]} | {short[1]} / {short[0]} |")
    print("|---|---|---|---|---|")
    for s in settings:
        name = f"α={s[0]}, bits={s[1]}, NFE {s[2]}"
        for d in dims:
            x, y = a.get((d, *s), []), b.get((d, *s), [])
            ratio = f"{statistics.mean(y) / statistics.mean(x):.2f}" if x and y else "–"
            print(f"| {name} | {d} | {cell(x)} | {cell(y)} | {ratio} |")


if __name__ == "__main__":
    if len(sys.argv) not in (3, 5):
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], *([tuple(sys.argv[3:5])] if len(sys.argv) == 5 else []))
