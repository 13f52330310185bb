"""The training-knobs table from results.jsonl: fd-fmnist per recipe, seed and probe."""

import json
import statistics
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
probes = [("NFE 35", 35, 0.0), ("α = 0.2", 35, 0.2), ("NFE 13", 13, 0.0)]
cells = {}
for r in rows:
    e = r["eval"]
    cells[(r["recipe"], r["model"], e["nfe"], e["alpha"])] = e["fd_fmnist"]
floor = rows[0]["eval"]["fd_fmnist_floor"] if rows else float("nan")
recipes = sorted(dict.fromkeys(r["recipe"] for r in rows), key=lambda r: r != "default")


def text(values):
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ({min(values):.3f}–{max(values):.3f})"


print("# EDM's training knobs on the fmnist14 U-Net, D = 128\n")
print("fd-fmnist of 2,000 samples, seed 0, Heun (lower is better; the floor, two draws of the")
print(f"data, is {floor:.3f}). 5,600 steps of batch 64. Command: `run.sh` in this folder.\n")
print("| recipe | model | " + " | ".join(p for p, _, _ in probes) + " |")
print("|---|---|" + "---|" * len(probes))
for recipe in recipes:
    models = sorted({m for r, m, _, _ in cells if r == recipe})
    for m in models:
        values = [cells.get((recipe, m, nfe, a)) for _, nfe, a in probes]
        print(f"| {recipe} | {m} | " + " | ".join(text([v]) for v in values) + " |")
    means = [text([cells.get((recipe, m, nfe, a)) for m in models]) for _, nfe, a in probes]
    print(f"| {recipe} | mean (range) | " + " | ".join(means) + " |")
