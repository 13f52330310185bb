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


INFINITY_SHARE = (
    0.25  # of a range's training draws at D = ∞ in new runs, as pfgm (recorded as infinity_share)
)


def parse_range(text):
    """(lo, hi, includes_inf) of a one-network range 'LO..HI[,inf]' (0 < LO < HI finite); raises
    ValueError."""
    parts = str(text).strip().lower().split(",")
    if len(parts) > 2 or (len(parts) == 2 and not math.isinf(parse_aug_dim(parts[1]))):
        raise ValueError(f"'{text}' is not a range LO..HI[,inf]")
    ends = parts[0].split("..")
    if len(ends) != 2:
        raise ValueError(f"'{text}' is not a range LO..HI[,inf]")
    lo, hi = parse_aug_dim(ends[0]), parse_aug_dim(ends[1])
    if not (math.isfinite(hi) and lo < hi):
        raise ValueError(f"'{text}' is not a range LO..HI[,inf] with LO < HI finite")
    return lo, hi, len(parts) == 2


def parse_dimensions(text):
    """A run's aug_dim: ('one', D) or ('range', (lo, hi, includes_inf)); raises ValueError."""
    if ".." in str(text):
        return "range", parse_range(text)
    return "one", parse_aug_dim(text)


def format_dimensions(text):
    """aug_dim as pfgm writes it: 'inf', '8', or '1..4096,inf'."""
    return describe(parse_dimensions(text))


def resolve_dimension(dimensions, requested, where):
    """The D to answer at: `requested` (or the run's default) when the run answers there; raises
    ValueError."""
    d = default_dimension(dimensions) if requested is None else parse_aug_dim(requested)
    if not in_dimensions(dimensions, d):
        kind, _ = dimensions
        what = (
            "the one network in {} answers for D in {} only"
            if kind == "range"
            else "the model in {} was trained at D={}"
        )
        raise ValueError(
            f"--aug-dim {format_aug_dim(d)}: " + what.format(where, describe(dimensions))
        )
    return d


def describe(dimensions):
    kind, value = dimensions
    if kind == "one":
        return format_aug_dim(value)
    lo, hi, inf = value
    return f"{format_aug_dim(lo)}..{format_aug_dim(hi)}" + (",inf" if inf else "")


def in_dimensions(dimensions, d):
    kind, value = dimensions
    if kind == "one":
        return d == value
    lo, hi, inf = value
    return (math.isinf(d) and inf) or lo <= d <= hi


def default_dimension(dimensions):
    kind, value = dimensions
    if kind == "one":
        return value
    lo, hi, inf = value
    return math.inf if inf else hi


def aug_features(n, d):
    """The network's input for each D of a float64 tensor: 8·N/(N + D), 0 at D = ∞ (float32, as
    pfgm)."""
    return torch.where(torch.isinf(d), torch.zeros_like(d), 8 * n / (n + d)).float()


def aug_feature(n, d):
    """The same for one D, as a float."""
    return float(aug_features(n, torch.tensor([float(d)], dtype=torch.float64))[0])


def draw_dimensions(
    rows, value, device="cpu", infinity_share=INFINITY_SHARE, feature_share=0.0, n=1
):
    """D per row over a range: ∞ with `infinity_share` when included; else, with `feature_share`,
    uniform in b = N/(N + D) over the range, and log-uniform on [lo, hi] otherwise (float64)."""
    lo, hi, inf = value
    u = torch.rand(rows, dtype=torch.float64, device=device)
    d = torch.exp(
        math.log(lo)
        + torch.rand(rows, dtype=torch.float64, device=device) * (math.log(hi) - math.log(lo))
    )
    if feature_share > 0:
        b_hi, b_lo = n / (n + lo), n / (n + hi)
        b = b_lo + torch.rand(rows, dtype=torch.float64, device=device) * (b_hi - b_lo)
        by_share = (n / b - n).clamp(lo, hi)
        v = torch.rand(rows, dtype=torch.float64, device=device)
        d = torch.where(v < feature_share, by_share, d)
    return torch.where(u < infinity_share, torch.full_like(d, math.inf), d) if inf else d


def shift_noise_levels(sigma, d, n, shift):
    """σ with ln σ raised by shift·N/(N + D) at each finite D (pfgm's --p-mean-shift)."""
    if shift == 0:
        return sigma
    b = torch.where(torch.isinf(d), torch.zeros_like(d), n / (n + d))
    return sigma * torch.exp(shift * b).to(sigma.dtype)


def format_aug_dim(d):
    """As pfgm writes D: 'inf', an integer without a point, or the shortest float."""
    if math.isinf(d):
        return "inf"
    return str(int(d)) if d == round(d) and abs(d) < 1e15 else repr(float(d))


def perturbation(rows, n, d, sigma, quantile=None):
    """One draw of the kernel per row, row r at noise level sigma[r]: N(0, σ²I) for D = ∞, else R·u;
    with a quantile below 1, radii beyond the kernel's quantile are drawn again (see
    truncation_log_limit)."""
    limit = truncation_log_limit(quantile, n, d)
    if math.isinf(d) and math.isinf(limit):
        return torch.randn(rows, n, device=sigma.device) * sigma.reshape(-1, 1)
    full = lambda v: torch.full((rows,), v, dtype=torch.float64, device=sigma.device)
    return perturbation_per_row(rows, n, full(d), sigma, full(limit))


def perturbation_per_row(rows, n, d, sigma, limits):
    """One draw per row at D = d[r] (float64 tensor, inf allowed) and noise level sigma[r], radii
    redrawn while log(R²/σ²) > limits[r] (float64 tensor; inf: no cut)."""
    z = torch.randn(rows, n, device=sigma.device)
    norm = z.double().norm(dim=1).clamp(min=np.finfo(np.float64).tiny)
    gaussian = torch.isinf(d)

    def draw(index):
        dv = d[index]
        finite = ~torch.isinf(dv)
        out = torch.empty(index.numel(), dtype=torch.float64, device=sigma.device)
        if bool(finite.any()):
            shapes = dv[finite]
            g1 = torch.distributions.Gamma(torch.full_like(shapes, n / 2), 1.0).sample()
            g2 = torch.distributions.Gamma(shapes / 2, 1.0).sample()
            out[finite] = shapes.log() + g1.log() - g2.log()
        if bool((~finite).any()):
            count = int((~finite).sum())
            out[~finite] = (
                math.log(2)
                + torch.distributions.Gamma(
                    torch.full((count,), n / 2, dtype=torch.float64, device=sigma.device), 1.0
                )
                .sample()
                .log()
            )
        return out

    logs = torch.where(gaussian, 2 * norm.log(), torch.zeros_like(norm))
    finite_rows = torch.nonzero(~gaussian).reshape(-1)
    if finite_rows.numel():
        logs[finite_rows] = draw(finite_rows)
    while bool((logs > limits).any()):
        redo = torch.nonzero(logs > limits).reshape(-1)
        logs[redo] = draw(redo)
    radius = (sigma.double() * torch.exp(0.5 * logs)).clamp(max=MAXIMUM_RADIUS)
    return z * (radius / norm).float().reshape(-1, 1)


class TruncationTable:
    """log(R²/σ²) limits over a range of D on 129 log-spaced points and D = 2 (where the limit
    has a kink), interpolated (as pfgm), and D = ∞'s."""

    POINTS = 129

    def __init__(self, quantile, n, value):
        lo, hi, _ = value
        lo, hi = math.log(lo), math.log(hi)
        knots = [lo + (hi - lo) * i / (self.POINTS - 1) for i in range(self.POINTS)]
        if lo < math.log(2) < hi:
            knots = sorted(knots + [math.log(2)])
        self.knots = torch.tensor(knots, dtype=torch.float64)
        self.limits = torch.tensor(
            [truncation_log_limit(quantile, n, math.exp(k)) for k in knots], dtype=torch.float64
        )
        self.infinite = truncation_log_limit(quantile, n, math.inf)

    def __call__(self, d):
        knots, limits = self.knots.to(d.device), self.limits.to(d.device)
        x = torch.where(torch.isinf(d), knots[0], d.log()).clamp(knots[0], knots[-1])
        i = (torch.searchsorted(knots, x, right=True) - 1).clamp(0, len(knots) - 2)
        f = (x - knots[i]) / (knots[i + 1] - knots[i])
        value = limits[i] * (1 - f) + limits[i + 1] * f
        return torch.where(torch.isinf(d), torch.full_like(value, self.infinite), value)


def prior(count, n, d, sigma_max, device="cpu", quantile=None):
    """K draws of the kernel at σ_max around the origin."""
    return perturbation(
        count, n, d, torch.full((count,), float(sigma_max), device=device), quantile
    )


GAUSSIAN_BEYOND = 1e6
DEFAULT_KERNEL_QUANTILE = 0.97  # what new runs train with, as in pfgm


GAUSSIAN_QUANTILE = 1 - 1e-4


def truncation_log_limit(quantile, n, d):
    """log of the largest R²/σ² kept, as pfgm's KernelTruncation: the q-quantile of R²/σ² (below D =
    2 with the ratio held to D = 2's q-quantile), but never below the D = ∞ kernel's (1 −
    10⁻⁴)-quantile; +∞ without truncation (q absent or 1)."""
    if quantile is None or quantile >= 1:
        return math.inf
    limit = squared_ratio_log_quantile(quantile, n, d)
    if d < 2:
        limit = min(limit, math.log(d) + squared_ratio_log_quantile(quantile, n, 2.0) - math.log(2))
    return max(limit, squared_ratio_log_quantile(GAUSSIAN_QUANTILE, n, math.inf))


def squared_ratio_log_quantile(quantile, n, d):
    """log of the q-quantile of R²/σ²: log(D·b/(1 − b)) for b the q-quantile of Beta(N/2, D/2), or
    of χ²_N for D = ∞ (also beyond D = 10⁶, where the two agree to ~N/D)."""
    a = n / 2
    if math.isfinite(d) and d <= GAUSSIAN_BEYOND:
        return math.log(d) + invert(quantile, math.log(n / d), lambda s: beta_cdf(s, a, d / 2))
    return math.log(2) + invert(quantile, math.log(a), lambda t: gamma_cdf(math.exp(t), a))


def invert(p, start, f):
    """The t with f(t) = p for f increasing from 0 to 1, by bisection after bracketing."""
    lo, hi = start - 1, start + 1
    while f(lo) > p and lo > -1e4:
        lo = start - 2 * (start - lo)
    while f(hi) < p and hi < 1e4:
        hi = start + 2 * (hi - start)
    for _ in range(200):
        if hi - lo <= 1e-12 * max(1, abs(lo)):
            break
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if f(mid) < p else (lo, mid)
    return (lo + hi) / 2


def _log1p_exp(s):
    return s + math.log1p(math.exp(-s)) if s > 0 else math.log1p(math.exp(s))


def beta_cdf(s, a, b):
    """P(B ≤ x), B ~ Beta(a, b), x = 1/(1 + e^(−s)) given by its log-odds s; Lentz's continued
    fraction."""
    log_x, log_1mx = -_log1p_exp(-s), -_log1p_exp(s)
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * log_x + b * log_1mx)
    x = math.exp(log_x)
    if x < (a + 1) / (a + b + 2):
        return front * _beta_fraction(x, a, b) / a
    return 1 - front * _beta_fraction(math.exp(log_1mx), b, a) / b


def _beta_fraction(x, a, b):
    tiny = 1e-300
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (tiny if abs(d) < tiny else d)
    h = d
    for m in range(1, 200_001):
        m2 = 2 * m
        for num in (
            m * (b - m) * x / ((a + m2 - 1) * (a + m2)),
            -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1)),
        ):
            d = 1 + num * d
            d = 1 / (tiny if abs(d) < tiny else d)
            c = 1 + num / c
            c = tiny if abs(c) < tiny else c
            h *= d * c
        if abs(d * c - 1) < 1e-15:
            break
    return h


def gamma_cdf(x, a):
    """P(G ≤ x), G ~ Gamma(a, 1): the series below a + 1, the continued fraction above."""
    if x <= 0:
        return 0.0
    if math.isinf(x):
        return 1.0
    front = math.exp(a * math.log(x) - x - math.lgamma(a))
    if x < a + 1:
        term = total = 1 / a
        k = a
        for _ in range(100_000):
            k += 1
            term *= x / k
            total += term
            if abs(term) < abs(total) * 1e-16:
                break
        return min(1.0, front * total)
    tiny = 1e-300
    b = x + 1 - a
    c, d = 1 / tiny, 1 / b
    h = d
    for i in range(1, 200_001):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = 1 / (tiny if abs(d) < tiny else d)
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        h *= d * c
        if abs(d * c - 1) < 1e-15:
            break
    return max(0.0, 1 - front * h)


class Preconditioning:
    """D_θ(x, σ) = c_skip·x + c_out·F_θ(c_in·x, c_noise); each coefficient from float64 σ, then
    float32."""

    def __init__(self, sigma_data):
        self.sigma_data = float(sigma_data)

    def coefficients(self, sigma):
        s = sigma.double().reshape(-1, 1)
        sd2 = self.sigma_data**2
        c_skip = sd2 / (s * s + sd2)
        c_out = s * self.sigma_data / (s * s + sd2).sqrt()
        c_in = 1 / (s * s + sd2).sqrt()
        c_noise = s.log().reshape(-1) / 4
        return c_skip.float(), c_out.float(), c_in.float(), c_noise.float()

    def denoise(self, net, x, sigma, c_aug=None):
        c_skip, c_out, c_in, c_noise = self.coefficients(sigma)
        out = net(c_in * x, c_noise) if c_aug is None else net(c_in * x, c_noise, c_aug)
        return c_skip * x + c_out * out


def noise_levels(rows, p_mean=-1.2, p_std=1.2, device="cpu"):
    """ln σ ~ N(P_mean, P_std²), kept as float32 like pfgm's batches."""
    return torch.exp(p_mean + p_std * torch.randn(rows, dtype=torch.float64, device=device)).float()


def loss(net, preconditioning, y, x, sigma, c_aug=None):
    """Mean over rows and coordinates of (F_θ(c_in·x, c_noise[, c_aug]) − (y − c_skip·x)/c_out)²,
    which is λ(σ)·‖D_θ(x, σ) − y‖² / N with λ = (σ² + σ_d²)/(σ·σ_d)²."""
    c_skip, c_out, c_in, c_noise = preconditioning.coefficients(sigma)
    target = (y - c_skip * x) / c_out
    out = net(c_in * x, c_noise) if c_aug is None else net(c_in * x, c_noise, c_aug)
    return (out - target).square().mean()


@torch.no_grad()
def stable_target(x, sigma, d, reference):
    """The stable target field (pfgm's --reference-batch): each row's posterior mean over the
    reference points, Σ_k w_k y_k with w_k ∝ the whole kernel at the row's own σ and D (per-row
    tensors; D = inf for the Gaussian), in float64 log-weights as pfgm's oracle."""
    n = x.shape[1]
    x64, y64 = x.double(), reference.double()
    d2 = (x64.square().sum(1, keepdim=True) + y64.square().sum(1) - 2 * x64 @ y64.T).clamp_min(0)
    s2 = sigma.double().reshape(-1, 1).square()
    d = d.double().reshape(-1, 1).expand_as(s2)
    finite = torch.where(torch.isinf(d), torch.ones_like(d), d)
    log_w = torch.where(
        torch.isinf(d), -d2 / (2 * s2), -(n + finite) / 2 * torch.log1p(d2 / (s2 * finite))
    )
    return (torch.softmax(log_w, dim=1) @ y64).to(x.dtype)


def schedule(steps, sigma_min=0.002, sigma_max=80.0, rho=7.0):
    """σ_i = (σ_max^(1/ρ) + i/(n−1)·(σ_min^(1/ρ) − σ_max^(1/ρ)))^ρ for i < n, then σ_n = 0
    (float64)."""
    if steps <= 1:
        return [float(sigma_max), 0.0]
    a, b = sigma_max ** (1 / rho), sigma_min ** (1 / rho)
    return [(a + i / (steps - 1) * (b - a)) ** rho for i in range(steps)] + [0.0]


def f32(value):
    return float(np.float32(value))


@torch.no_grad()
def solve(denoise, x, sigmas, solver="heun", alpha=0.0):
    """Integrates dx/dσ = (x − D(x, σ))/σ along `sigmas` (Heun without a correction on the last
    step, or Euler); with α > 0, x ← x + α·σ_i·ε at the start of each step. Same arithmetic as
    pfgm's sampler."""
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
