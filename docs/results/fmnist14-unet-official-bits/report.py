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
print("fd-fmnist of 2,000 samples (sampling seed 0), Heun at NFE 35 (lower is better; the floor,")
print(f"two draws of the data, is {floor:.3f}). Command: `run.sh` in this folder.\n")
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

# The change from full precision per D and scheme, over the seeds that have it.
by_d = {}
for m in models:
    by_d.setdefault(m.rpartition("-s")[0], []).append(m)


def change(ms, scheme, b):
    """Mean change from full precision over the models `ms`, the count and the range."""
    deltas = [
        cells[(m, scheme, b)] - cells[(m, scheme, 32)]
        for m in ms
        if (m, scheme, b) in cells and (m, scheme, 32) in cells
    ]
    if not deltas:
        return "—"
    mean = sum(deltas) / len(deltas)
    spread = f" ({min(deltas):+.2f}…{max(deltas):+.2f})" if len(deltas) > 1 else ""
    return f"{mean:+.2f} [{len(deltas)}]{spread}"


print("\nChange from full precision (fd at B bits − fd at 32), mean over the seeds (count in")
print("brackets), then the range:\n")
quantized = [b for b in bits if b != 32]
print("| D | scheme | " + " | ".join(f"{b} bits" for b in quantized) + " |")
print("|---|---|" + "---|" * len(quantized))
for d in sorted(by_d, key=lambda d: float(d[1:])):
    for scheme in ("official", "all"):
        texts = [change(by_d[d], scheme, b) for b in quantized]
        print(f"| {d} | {scheme} | " + " | ".join(texts) + " |")
