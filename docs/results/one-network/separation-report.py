"""separation-report.py results.jsonl: the tables of separation.sh, as markdown."""
import collections
import json
import statistics
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
KINDS = ("dedicated", "default", "sharp")
SEEDS = {k: len({r["seed"] for r in rows if r["kind"] == k}) for k in KINDS}


def collect(field, against):
    """(kind, D, σ) → values over seeds."""
    found = collections.defaultdict(list)
    for r in rows:
        if ("against_aug_dim" in r) == against:
            found[(r["kind"], r["aug_dim"], r["sigma"])].append(r[field])
    return found


def cell(values):
    if not values:
        return "–"
    m = statistics.mean(values)
    if len(values) < 2:
        return f"{m:.3g}"
    return f"{m:.3g} ± {statistics.stdev(values) / len(values) ** 0.5:.2g}"


def table(title, found, dims, sigmas, kinds, note):
    print(f"### {title}\n\n{note}\n")
    print("| D | σ | " + " | ".join(kinds) + " |")
    print("|---|---|" + "---|" * len(kinds))
    for d in dims:
        for s in sigmas:
            print(f"| {d} | {s:g} | " + " | ".join(cell(found[(k, d, s)]) for k in kinds) + " |")
    print()


lean = collect("lean", True)
table(
    "Lean toward D = 8's posterior mean",
    lean,
    ["1", "2", "4", "inf"],
    [0.6, 1, 1.5],
    KINDS,
    "Median over points of ⟨D_θ − D*_D, D*_8 − D*_D⟩/‖D*_8 − D*_D‖² (0: answers as at D, 1: as at\n"
    f"D = 8); mean ± s.d. of the mean over seeds (dedicated {SEEDS['dedicated']}, one networks "
    f"{SEEDS['default']}).",
)
table(
    "Error to its own D's posterior mean",
    collect("median", True),
    ["1", "2", "4", "inf"],
    [0.6, 1, 1.5],
    KINDS,
    "Median ‖D_θ − D*_D‖² on the same points.",
)
table(
    "Fit at D ≥ 8 (one networks)",
    collect("median", False),
    ["8", "128", "2048", "inf"],
    [0.3, 0.6, 1, 1.5],
    KINDS[1:],
    "Median ‖D_θ − D*_D‖², points perturbed at D.",
)
