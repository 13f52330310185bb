#!/usr/bin/env python3
"""The reference work of `pfgm bench` in PyTorch on the CPU, for anyone who has torch.

Same MLP-EDM (DESIGN §6), float32, eager mode, the same PFGM++ training step (σ draw, kernel at D = 128,
preconditioned loss, backward, Adam, EMA) and denoiser evaluations at one σ. Prints one JSON object per
config with the fields of `pfgm bench --json`.

    python3 bench/torch_bench.py --config toy --threads 2 --rounds 5 --windows 8
"""
import argparse
import json
import math
import resource
import statistics
import time

import torch
from torch import nn

CONFIGS = {
    "toy": dict(dim=2, width=256, depth=4, train_batch=512, sample_batch=1000),
    "image-mlp": dict(dim=784, width=1024, depth=4, train_batch=128, sample_batch=256),
}
SIGMA_DATA, D, P_MEAN, P_STD = 0.5, 128.0, -1.2, 1.2


class MLPEDM(nn.Module):
    def __init__(self, dim, width, depth, channels=128):
        super().__init__()
        half = channels // 2
        self.register_buffer("freqs", (1 / 10000) ** (torch.arange(half) / (half - 1)))
        self.map_layer0 = nn.Linear(channels, width)
        self.map_layer1 = nn.Linear(width, width)
        self.input = nn.Linear(dim, width)
        self.norms = nn.ModuleList(nn.LayerNorm(width) for _ in range(depth))
        self.linears = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
        self.output_norm = nn.LayerNorm(width)
        self.output = nn.Linear(width, dim)

    def forward(self, x, c_noise):
        a = c_noise[:, None] * self.freqs[None, :]
        emb = self.map_layer1(torch.nn.functional.silu(self.map_layer0(torch.cat([a.cos(), a.sin()], 1))))
        h = self.input(x) + emb
        for norm, linear in zip(self.norms, self.linears):
            h = h + linear(torch.nn.functional.silu(norm(h)))
        return self.output(torch.nn.functional.silu(self.output_norm(h)))


def kernel(sigma, n):
    """PFGM++ perturbation at r = σ√D: R = r·√(g1/g2), g1 ~ Γ(N/2), g2 ~ Γ(D/2), uniform direction."""
    b = sigma.shape[0]
    g1 = torch._standard_gamma(torch.full((b,), n / 2))
    g2 = torch._standard_gamma(torch.full((b,), D / 2))
    radius = sigma * math.sqrt(D) * (g1 / g2).sqrt()
    u = torch.randn(b, n)
    return u / u.norm(dim=1, keepdim=True) * radius[:, None]


def train_step(net, ema, opt, data):
    b, n = data.shape
    sigma = (torch.randn(b) * P_STD + P_MEAN).exp()
    x = data + kernel(sigma, n)
    s2 = sigma ** 2 + SIGMA_DATA ** 2
    c_in, c_skip, c_out = 1 / s2.sqrt(), SIGMA_DATA ** 2 / s2, sigma * SIGMA_DATA / s2.sqrt()
    target = (data - c_skip[:, None] * x) / c_out[:, None]
    loss = ((net(c_in[:, None] * x, sigma.log() / 4) - target) ** 2).mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    with torch.no_grad():
        torch._foreach_lerp_(ema, list(net.parameters()), 1 - 0.999)


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
    net = MLPEDM(c["dim"], c["width"], c["depth"])
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    ema = [q.detach().clone() for q in net.parameters()]
    data = torch.rand(c["train_batch"], c["dim"]) * 2 - 1
    train = median_of_rounds(lambda: train_step(net, ema, opt, data), a.rounds, a.windows, a.seconds)
    xs = torch.randn(c["sample_batch"], c["dim"])
    sigma = torch.full((c["sample_batch"],), 1.5)

    @torch.no_grad()
    def sample():
        s2 = 1.5 ** 2 + SIGMA_DATA ** 2
        return SIGMA_DATA ** 2 / s2 * xs + 1.5 * SIGMA_DATA / math.sqrt(s2) * net(xs / math.sqrt(s2), sigma.log() / 4)

    evals = median_of_rounds(sample, a.rounds, a.windows, a.seconds) * c["sample_batch"]
    flops = 2 * 3 * c["train_batch"] * sum(m.in_features * m.out_features for m in net.modules() if isinstance(m, nn.Linear))
    print(json.dumps({
        "config": a.config, "engine": f"torch {torch.__version__}", "threads": a.threads,
        "train_steps_per_s": train, "sample_evals_per_s": evals, "gflops": train * flops / 1e9,
        "sgemm_gflops": sgemm_gflops(1.0), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }, sort_keys=True))


if __name__ == "__main__":
    main()
