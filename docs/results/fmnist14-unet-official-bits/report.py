"""The quantization study's table from results.jsonl: fd-fmnist per model, scheme and bits."""

import json
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
cells = {}
for r in rows:
    e = r["eval"]
    if e["bits"] is None:
        # Full precision: the same for both schemes.
        for scheme in ("official", "all"):
            cells[(r["model"], scheme, 32)] = e["fd_fmnist"]
    else:
        cells[(r["model"], e["quant_scheme"], e["bits"])] = e["fd_fmnist"]
floor = rows[0]["eval"]["fd_fmnist_floor"] if rows else float("nan")
models = sorted({m for m, _, _ in cells}, key=lambda m: (len(m), m))
bits = sorted({b for _, _, b in cells}, reverse=True)
print("# Weight quantization of the fmnist14 U-Net: the official scheme and `all`\n")
print("fd-fmnist of 2,000 samples, seed 0, Heun at NFE 35 (lower is better; the floor, two draws")
print(f"of the data, is {floor:.3f}). Command: `run.sh` in this folder.\n")
heads = ["32 (full)" if b == 32 else f"{b} bits" for b in bits]
print("| model | scheme | " + " | ".join(heads) + " |")
print("|---|---|" + "---|" * len(bits))
for m in models:
    for scheme in ("official", "all"):
        values = [cells.get((m, scheme, b)) for b in bits]
        if all(v is None for v in values):
            continue
        text = " | ".join("—" if v is None else f"{v:.3f}" for v in values)
        print(f"| {m} | {scheme} | {text} |")
