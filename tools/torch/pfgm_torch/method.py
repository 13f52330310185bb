"""The PFGM++ method: augmented dimension D, perturbation kernel, EDM preconditioning and loss,
noise schedule and probability-flow ODE solvers. Float32 tensors; coefficients in float64 first."""

import math

import numpy as np
import torch

MAXIMUM_RADIUS = 1e30


def parse_aug_dim(text):
    """A positive number or inf (also infinity, ∞); raises ValueError otherwise."""
    t = str(text).strip().lower()
    if t in ("inf", "infinity", "∞", "+inf"):
        return math.inf
    value = float(t)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"D must be a positive number or inf, got '{text}'")
    return value


def format_aug_dim(d):
    """As pfgm writes D: 'inf', an integer without a point, or the shortest float."""
    if math.isinf(d):
        return "inf"
    return str(int(d)) if d == round(d) and abs(d) < 1e15 else repr(float(d))


def radii(rows, n, d, sigma):
    """R = r·√(g₁/g₂), r = σ√D, g₁ ~ Gamma(N/2), g₂ ~ Gamma(D/2): float64, from the default generator."""
    sigma = sigma.double()
    g1 = torch.distributions.Gamma(torch.full((rows,), n / 2, dtype=torch.float64, device=sigma.device), 1.0).sample()
    g2 = torch.distributions.Gamma(torch.full((rows,), d / 2, dtype=torch.float64, device=sigma.device), 1.0).sample()
    ratio = torch.exp(0.5 * (g1.log() - g2.log()))
    return (sigma * math.sqrt(d) * ratio).clamp(max=MAXIMUM_RADIUS)


def perturbation(rows, n, d, sigma):
    """One draw of the kernel per row, row r at noise level sigma[r]: N(0, σ²I) for D = ∞, else R·u."""
    z = torch.randn(rows, n, device=sigma.device)
    if math.isinf(d):
        return z * sigma.reshape(-1, 1)
    norm = z.double().norm(dim=1).clamp(min=np.finfo(np.float64).tiny)
    return z * (radii(rows, n, d, sigma) / norm).float().reshape(-1, 1)


def prior(count, n, d, sigma_max, device="cpu"):
    """K draws of the kernel at σ_max around the origin."""
    return perturbation(count, n, d, torch.full((count,), float(sigma_max), device=device))


class Preconditioning:
    """D_θ(x, σ) = c_skip·x + c_out·F_θ(c_in·x, c_noise); each coefficient from float64 σ, then float32."""

    def __init__(self, sigma_data):
        self.sigma_data = float(sigma_data)

    def coefficients(self, sigma):
        s = sigma.double().reshape(-1, 1)
        sd2 = self.sigma_data ** 2
        c_skip = sd2 / (s * s + sd2)
        c_out = s * self.sigma_data / (s * s + sd2).sqrt()
        c_in = 1 / (s * s + sd2).sqrt()
        c_noise = s.log().reshape(-1) / 4
        return c_skip.float(), c_out.float(), c_in.float(), c_noise.float()

    def denoise(self, net, x, sigma):
        c_skip, c_out, c_in, c_noise = self.coefficients(sigma)
        return c_skip * x + c_out * net(c_in * x, c_noise)


def noise_levels(rows, p_mean=-1.2, p_std=1.2, device="cpu"):
    """ln σ ~ N(P_mean, P_std²), kept as float32 like pfgm's batches."""
    return torch.exp(p_mean + p_std * torch.randn(rows, dtype=torch.float64, device=device)).float()


def loss(net, preconditioning, y, x, sigma):
    """Mean over rows and coordinates of (F_θ(c_in·x, c_noise) − (y − c_skip·x)/c_out)², which is
    λ(σ)·‖D_θ(x, σ) − y‖² / N with λ = (σ² + σ_d²)/(σ·σ_d)²."""
    c_skip, c_out, c_in, c_noise = preconditioning.coefficients(sigma)
    target = (y - c_skip * x) / c_out
    return (net(c_in * x, c_noise) - target).square().mean()


def schedule(steps, sigma_min=0.002, sigma_max=80.0, rho=7.0):
    """σ_i = (σ_max^(1/ρ) + i/(n−1)·(σ_min^(1/ρ) − σ_max^(1/ρ)))^ρ for i < n, then σ_n = 0 (float64)."""
    if steps <= 1:
        return [float(sigma_max), 0.0]
    a, b = sigma_max ** (1 / rho), sigma_min ** (1 / rho)
    return [(a + i / (steps - 1) * (b - a)) ** rho for i in range(steps)] + [0.0]


def f32(value):
    return float(np.float32(value))


@torch.no_grad()
def solve(denoise, x, sigmas, solver="heun", alpha=0.0):
    """Integrates dx/dσ = (x − D(x, σ))/σ along `sigmas` (Heun without a correction on the last step,
    or Euler); with α > 0, x ← x + α·σ_i·ε at the start of each step. Same arithmetic as pfgm's sampler."""
    rows = x.shape[0]

    def slope(x, sigma):
        return (x - denoise(x, torch.full((rows,), f32(sigma), device=x.device))) * f32(1 / sigma)

    for sigma, sigma_next in zip(sigmas[:-1], sigmas[1:]):
        if alpha > 0:
            x = x + f32(alpha * sigma) * torch.randn_like(x)
        d = slope(x, sigma)
        h = f32(sigma_next - sigma)
        x_next = x + h * d
        if solver == "heun" and sigma_next > 0:
            x_next = x + (h * 0.5) * (d + slope(x_next, sigma_next))
        x = x_next
    return x
