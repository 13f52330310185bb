#!/usr/bin/env python3
"""The reference work of `pfgm bench` in PyTorch on the CPU, for anyone who has torch.

The MLP-EDM or U-Net and the training step of tools/torch (DESIGN §6; σ draw, kernel at D = 128,
preconditioned loss, backward, Adam, EMA), float32, eager mode, and denoiser evaluations at one σ.
Prints one JSON object per config with the fields of `pfgm bench --json`; GFLOP/s counts the
products and convolutions (3× the forward's multiply-adds ×2).

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
    "unet14": dict(dim=196, width=32, depth=2, train_batch=64, sample_batch=256, unet=True),
    "unet28": dict(dim=784, width=32, depth=2, train_batch=32, sample_batch=64, unet=True),
}
SIGMA_DATA, D = 0.5, 128.0
PRECONDITIONING = method.Preconditioning(SIGMA_DATA)


def train_step(net, ema, opt, data):
    """What pfgm_torch.train does per step (one process)."""
    b, n = data.shape
    sigma = method.noise_levels(b)
    loss = method.loss(
        net, PRECONDITIONING, data, data + method.perturbation(b, n, D, sigma), sigma
    )
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
    """Median over rounds of the median window, as the figures in the performance issue were
    taken."""
    return statistics.median(
        statistics.median(rate(body, seconds) for _ in range(windows)) for _ in range(rounds)
    )


def forward_flops(net, dim):
    """Multiply-adds ×2 of the linear layers and convolutions in one example's forward pass."""
    total = [0]

    def count(module, _, out):
        if isinstance(module, nn.Linear):
            total[0] += 2 * module.in_features * module.out_features
        elif isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            total[0] += (
                2
                * k
                * module.in_channels
                // module.groups
                * module.out_channels
                * out.shape[-1]
                * out.shape[-2]
            )

    hooks = [
        m.register_forward_hook(count)
        for m in net.modules()
        if isinstance(m, (nn.Linear, nn.Conv2d))
    ]
    with torch.no_grad():
        PRECONDITIONING.denoise(net, torch.zeros(1, dim), torch.ones(1))
    for h in hooks:
        h.remove()
    return total[0]


def sgemm_gflops(seconds):
    a = torch.rand(1024, 1024)
    return rate(lambda: a @ a, seconds) * 2 * 1024**3 / 1e9


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
    if c.get("unet"):
        net = networks.UNet(int(round(c["dim"] ** 0.5)), 1, c["width"], c["depth"])
    else:
        net = networks.MLPEDM(c["dim"], c["width"], c["depth"])
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    ema = [q.detach().clone() for q in net.parameters()]
    data = torch.rand(c["train_batch"], c["dim"]) * 2 - 1
    train = median_of_rounds(
        lambda: train_step(net, ema, opt, data), a.rounds, a.windows, a.seconds
    )
    xs = torch.randn(c["sample_batch"], c["dim"])
    sigma = torch.full((c["sample_batch"],), 1.5)

    @torch.no_grad()
    def sample():
        return PRECONDITIONING.denoise(net, xs, sigma)

    evals = median_of_rounds(sample, a.rounds, a.windows, a.seconds) * c["sample_batch"]
    flops = 3 * c["train_batch"] * forward_flops(net, c["dim"])
    print(
        json.dumps(
            {
                "config": a.config,
                "engine": f"torch {torch.__version__}",
                "threads": a.threads,
                "train_steps_per_s": train,
                "sample_evals_per_s": evals,
                "gflops": train * flops / 1e9,
                "sgemm_gflops": sgemm_gflops(1.0),
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            },
            sort_keys=True,
        )
    )


if __name__ == "__main__":
    main()
