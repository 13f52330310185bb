#!/usr/bin/env python3
"""The reference work of `pfgm bench` in PyTorch on the CPU, for anyone who has torch.

The MLP-EDM and training step of tools/torch (DESIGN §6; σ draw, kernel at D = 128, preconditioned loss,
backward, Adam, EMA), float32, eager mode, and denoiser evaluations at one σ. Prints one JSON object per
config with the fields of `pfgm bench --json`.

    python3 bench/torch_bench.py --config toy --threads 2 --rounds 5 --windows 8
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "torch"))
from pfgm_torch import method, networks  # noqa: E402

CONFIGS = {
    "toy": dict(dim=2, width=256, depth=4, train_batch=512, sample_batch=1000),
    "image-mlp": dict(dim=784, width=1024, depth=4, train_batch=128, sample_batch=256),
}
SIGMA_DATA, D = 0.5, 128.0
PRECONDITIONING = method.Preconditioning(SIGMA_DATA)


def train_step(net, ema, opt, data):
    """What pfgm_torch.train does per step (one process)."""
    b, n = data.shape
    sigma = method.noise_levels(b)
    loss = method.loss(net, PRECONDITIONING, data, data + method.perturbation(b, n, D, sigma), sigma)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    with torch.no_grad():
        torch._foreach_mul_(ema, 0.999)
        torch._foreach_add_(ema, list(net.parameters()), alpha=1 - 0.999)


def rate(body, seconds):
    body()
    start, calls = time.perf_counter(), 0
    while True:
        body()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls / elapsed


def median_of_rounds(body, rounds, windows, seconds):
    """Median over rounds of the median window, as the figures in the performance issue were taken."""
    return statistics.median(statistics.median(rate(body, seconds) for _ in range(windows)) for _ in range(rounds))


def sgemm_gflops(seconds):
    a = torch.rand(1024, 1024)
    return rate(lambda: a @ a, seconds) * 2 * 1024 ** 3 / 1e9


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", choices=sorted(CONFIGS), default="toy")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--windows", type=int, default=8)
    p.add_argument("--seconds", type=float, default=1.0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    c = CONFIGS[a.config]
    net = networks.MLPEDM(c["dim"], c["width"], c["depth"])
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    ema = [q.detach().clone() for q in net.parameters()]
    data = torch.rand(c["train_batch"], c["dim"]) * 2 - 1
    train = median_of_rounds(lambda: train_step(net, ema, opt, data), a.rounds, a.windows, a.seconds)
    xs = torch.randn(c["sample_batch"], c["dim"])
    sigma = torch.full((c["sample_batch"],), 1.5)

    @torch.no_grad()
    def sample():
        return PRECONDITIONING.denoise(net, xs, sigma)

    evals = median_of_rounds(sample, a.rounds, a.windows, a.seconds) * c["sample_batch"]
    flops = 2 * 3 * c["train_batch"] * sum(m.in_features * m.out_features for m in net.modules() if isinstance(m, nn.Linear))
    print(json.dumps({
        "config": a.config, "engine": f"torch {torch.__version__}", "threads": a.threads,
        "train_steps_per_s": train, "sample_evals_per_s": evals, "gflops": train * flops / 1e9,
        "sgemm_gflops": sgemm_gflops(1.0), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }, sort_keys=True))


if __name__ == "__main__":
    main()
