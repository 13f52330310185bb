"""The denoiser networks F_θ(x_in, c_noise[, c_aug]), with pfgm's parameter names and layouts.

Every tensor has the name and shape pfgm uses (Linear weights [out, in], convolutions [out, in, 3,
3]), so a state_dict is a pfgm checkpoint and back. `layout()` lists the names in pfgm's storage
order, which the flat Adam moments of optimizer.safetensors follow.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

ARCHITECTURES = ("mlp-edm", "unet")


class SinusoidalEmbedding(nn.Module):
    """[cos(c·f_j), sin(c·f_j)] with f_j = (1/10000)^(j/(C/2 − 1)); no parameters."""

    def __init__(self, channels, max_positions=10_000):
        super().__init__()
        if channels < 4 or channels % 2:
            raise ValueError("embedding channels must be even and at least 4")
        half = channels // 2
        frequencies = [(1 / max_positions) ** (j / (half - 1)) for j in range(half)]
        self.register_buffer(
            "frequencies", torch.tensor(frequencies, dtype=torch.float64).float(), persistent=False
        )

    def forward(self, c_noise):
        a = c_noise.reshape(-1, 1).float() * self.frequencies.reshape(1, -1)
        return torch.cat([a.cos(), a.sin()], dim=1)


def _conditions(module, c_noise, c_aug):
    """The sinusoid the mapping layers read: of c_noise, plus, for one network over a range of D,
    the D embedding map_aug(sinusoidal(c_aug)) with c_aug = 8·N/(N + D), 0 at D = ∞
    (method.aug_feature)."""
    e = module.embedding(c_noise)
    if module.map_aug is not None:
        if c_aug is None:
            raise ValueError("this network conditions on D: c_aug is required")
        e = e + module.map_aug(module.embedding(c_aug))
    return e


class MLPBlock(nn.Module):
    def __init__(self, width, dropout=0.0):
        super().__init__()
        self.norm = nn.LayerNorm(width, eps=1e-5)
        self.linear = nn.Linear(width, width)
        self.dropout = dropout

    def forward(self, h):
        return h + self.linear(F.dropout(F.silu(self.norm(h)), self.dropout, self.training))


class MLPEDM(nn.Module):
    """emb = Linear(W→W)(SiLU(Linear(C→W)(sinusoidal(c_noise)))); h = Linear(N→W)(x) + emb;
    h ← h + Linear(SiLU(LayerNorm(h))) L times; F = Linear(W→N)(SiLU(LayerNorm(h)))."""

    def __init__(
        self, dim, width=256, depth=4, embedding_channels=128, conditions_on_d=False, dropout=0.0
    ):
        super().__init__()
        self.dim = dim
        self.embedding = SinusoidalEmbedding(embedding_channels)
        self.map_layer0 = nn.Linear(embedding_channels, width)
        self.map_layer1 = nn.Linear(width, width)
        self.input = nn.Linear(dim, width)
        self.blocks = nn.ModuleList(MLPBlock(width, dropout) for _ in range(depth))
        self.output_norm = nn.LayerNorm(width, eps=1e-5)
        self.output = nn.Linear(width, dim)
        self.map_aug = (
            nn.Linear(embedding_channels, embedding_channels) if conditions_on_d else None
        )

    def forward(self, x, c_noise, c_aug=None):
        h = self.map_layer1(
            F.silu(self.map_layer0(_conditions(self, c_noise, c_aug)))
        ) + self.input(x)
        for block in self.blocks:
            h = block(h)
        return self.output(F.silu(self.output_norm(h)))

    def layout(self):
        return [name for name, _ in self.named_parameters()]


def group_count(channels):
    """Up to 32 groups of at least 4 channels, dividing the channels."""
    g = max(1, min(32, channels // 4))
    while channels % g:
        g -= 1
    return g


def unet_levels(side):
    """Resolutions: halve while the side is even and stays at least 4, at most four levels."""
    n, s = 1, side
    while n < 4 and s % 2 == 0 and s // 2 >= 4:
        s //= 2
        n += 1
    return n


def _scale_(layer, gain):
    with torch.no_grad():
        layer.weight.mul_(gain)
        layer.bias.mul_(gain)
    return layer


class ResidualBlock(nn.Module):
    """t = conv₀(SiLU(GN₀(h))) + A·emb; t = conv₁(dropout(SiLU(GN₁(t)))); h ← (h + t)/√2."""

    def __init__(self, width, embedding_width, dropout=0.0):
        super().__init__()
        self.dropout = dropout
        groups = group_count(width)
        self.norm0 = nn.GroupNorm(groups, width, eps=1e-5)
        self.conv0 = nn.Conv2d(width, width, 3, padding=1)
        self.affine = nn.Linear(embedding_width, width)
        self.norm1 = nn.GroupNorm(groups, width, eps=1e-5)
        self.conv1 = _scale_(nn.Conv2d(width, width, 3, padding=1), 1e-5)

    def forward(self, h, emb):
        t = self.conv0(F.silu(self.norm0(h))) + self.affine(emb)[:, :, None, None]
        t = self.conv1(F.dropout(F.silu(self.norm1(t)), self.dropout, self.training))
        return (h + t) * math.sqrt(0.5)


class UNet(nn.Module):
    """emb = SiLU(Linear(SiLU(Linear(sinusoidal(c_noise))))); h = conv(x); per resolution `depth`
    blocks, keep h as the skip, average-pool 2×2; back up: nearest 2× upsampling, h ← (h + skip)/√2,
    `depth` blocks; F = conv(SiLU(GN(h))). Rows hold C·H·W values, as data files do."""

    def __init__(
        self,
        side,
        channels=1,
        width=32,
        depth=2,
        embedding_channels=128,
        conditions_on_d=False,
        dropout=0.0,
    ):
        super().__init__()
        self.side, self.channels = side, channels
        self.dim = side * side * channels
        self.levels = unet_levels(side)
        e = 4 * width
        self.embedding = SinusoidalEmbedding(embedding_channels)
        self.map_layer0 = nn.Linear(embedding_channels, e)
        self.map_layer1 = nn.Linear(e, e)
        self.input = nn.Conv2d(channels, width, 3, padding=1)
        self.enc = nn.ModuleList(
            nn.ModuleList(ResidualBlock(width, e, dropout) for _ in range(depth))
            for _ in range(self.levels)
        )
        self.dec = nn.ModuleList(
            nn.ModuleList(ResidualBlock(width, e, dropout) for _ in range(depth))
            for _ in range(self.levels)
        )
        self.output_norm = nn.GroupNorm(group_count(width), width, eps=1e-5)
        self.output = _scale_(nn.Conv2d(width, channels, 3, padding=1), 1e-5)
        self.map_aug = (
            nn.Linear(embedding_channels, embedding_channels) if conditions_on_d else None
        )

    def forward(self, x, c_noise, c_aug=None):
        rows = x.shape[0]
        emb = F.silu(self.map_layer1(F.silu(self.map_layer0(_conditions(self, c_noise, c_aug)))))
        h = self.input(x.reshape(rows, self.channels, self.side, self.side))
        skips = []
        for level in range(self.levels):
            for block in self.enc[level]:
                h = block(h, emb)
            skips.append(h)
            if level < self.levels - 1:
                h = F.avg_pool2d(h, 2)
        for level in reversed(range(self.levels)):
            if level < self.levels - 1:
                h = (skips[level] + F.interpolate(h, scale_factor=2.0, mode="nearest")) * math.sqrt(
                    0.5
                )
            for block in self.dec[level]:
                h = block(h, emb)
        return self.output(F.silu(self.output_norm(h))).reshape(rows, self.dim)

    def layout(self):
        """pfgm's order: embedding maps, input, encoder levels upward, decoder levels downward,
        output."""
        names = [n for n, _ in self.named_parameters()]
        head = [n for n in names if n.split(".")[0] in ("map_layer0", "map_layer1", "input")]
        enc = [n for n in names if n.startswith("enc.")]
        dec = [
            n
            for level in reversed(range(self.levels))
            for n in names
            if n.startswith(f"dec.{level}.")
        ]
        tail = [n for n in names if n.split(".")[0] in ("output_norm", "output", "map_aug")]
        return head + enc + dec + tail


def unet_side(dim, channels):
    """The side of square images with `channels` channels and `dim` values, or None."""
    if channels < 1 or dim % channels:
        return None
    side = round(math.sqrt(dim // channels))
    return side if side * side * channels == dim and side >= 4 else None


def build(config):
    """A freshly initialised network for a run config (pfgm's config.json keys)."""
    arch = config.get("architecture", "mlp-edm")
    width, depth = int(config.get("width", 256)), int(config.get("depth", 4))
    embedding = int(config.get("embedding_channels", 128))
    dim = int(config["dim"])
    conditioned = ".." in str(config.get("aug_dim", ""))
    dropout = float(config.get("dropout") or 0)
    if arch == "mlp-edm":
        return MLPEDM(dim, width, depth, embedding, conditioned, dropout)
    if arch == "unet":
        channels = int(config.get("channels") or 1)
        side = unet_side(dim, channels)
        if side is None:
            raise ValueError(
                f"the U-Net needs square images: {dim} values are not side² × {channels} channels"
            )
        return UNet(side, channels, width, depth, embedding, conditioned, dropout)
    raise ValueError(f"architecture '{arch}' is not known (expected mlp-edm or unet)")
