"""Sample a run directory's model (written by pfgm or by pfgm_torch.train) in PyTorch.

    python -m pfgm_torch.sample --ckpt DIR --count 1000 --steps 18 --out samples.npy
    python -m pfgm_torch.sample --ckpt DIR --latents x0.npy --out samples.npy

The same solver as `pfgm sample`: from --latents (already at σ_max scale) both give the same
samples.
"""

import argparse
import io
import math
import sys

import numpy as np
import torch

from . import devices, method, rundir, tensorfile


def arguments(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m pfgm_torch.sample",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--ckpt", required=True, help="run directory")
    p.add_argument("--count", type=int, help="number of samples (implied by --latents)")
    p.add_argument("--latents", help="start from these prior draws (.npy, (K, N))")
    p.add_argument(
        "--steps",
        type=int,
        default=18,
        help="solver steps n (Heun: 2n − 1 evaluations) (default: %(default)s)",
    )
    p.add_argument(
        "--solver",
        choices=("heun", "euler"),
        default="heun",
        help="second or first order (default: %(default)s)",
    )
    p.add_argument(
        "--alpha", type=float, default=0.0, help="noise injection α (default: %(default)s)"
    )
    p.add_argument(
        "--sigma-min", type=float, default=0.002, help="smallest noise level (default: %(default)s)"
    )
    p.add_argument(
        "--sigma-max",
        type=float,
        default=80.0,
        help="largest noise level, where the prior is drawn (default: %(default)s)",
    )
    p.add_argument(
        "--rho", type=float, default=7.0, help="schedule exponent ρ (default: %(default)s)"
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the prior draws and injected noise (default: %(default)s)",
    )
    p.add_argument(
        "--aug-dim",
        help="D to sample at (the run's own; any D of a one-network run's range, its top by "
        "default)",
    )
    p.add_argument(
        "--prior-quantile",
        type=float,
        help="draw the prior only up to this quantile of the kernel (default: the run's kernel "
        "quantile; 1: all)",
    )
    p.add_argument(
        "--batch", type=int, default=4096, help="samples per solver pass (default: %(default)s)"
    )
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default: %(default)s)")
    p.add_argument("--out", required=True, help="output .npy (K, N)")
    a = p.parse_args(argv)
    if (a.count is None) == (a.latents is None):
        p.error("give exactly one of --count K or --latents FILE")
    if a.steps < 1 or (a.count is not None and a.count < 1) or a.batch < 1:
        p.error("--steps, --count and --batch must be at least 1")
    if not (
        0 < a.sigma_min < a.sigma_max and math.isfinite(a.sigma_max) and a.rho > 0 and a.alpha >= 0
    ):
        p.error("need 0 < --sigma-min < --sigma-max, --rho > 0 and --alpha ≥ 0")
    return a


def denoiser(net, sigma_data, c_aug=None):
    """D_θ(x, σ) of the run's network; `c_aug` (a float) for a network over a range of D."""
    preconditioning = method.Preconditioning(sigma_data)
    if c_aug is None:
        return lambda x, sigma: preconditioning.denoise(net, x, sigma)
    return lambda x, sigma: preconditioning.denoise(
        net, x, sigma, torch.full((x.shape[0],), c_aug, device=x.device)
    )


def main(argv=None):
    a = arguments(argv)
    try:
        device = devices.resolve(a.device)
        net, config, _ = rundir.RunDirectory(a.ckpt).load_model(device)
        dimensions = method.parse_dimensions(config["aug_dim"])
        n, d = config["dim"], method.resolve_dimension(dimensions, a.aug_dim, a.ckpt)
        torch.manual_seed(a.seed)
        if a.latents:
            x = np.load(a.latents, allow_pickle=False).astype(np.float32)
            if x.ndim != 2 or x.shape[1] != n:
                raise ValueError(f"{a.latents}: shape {list(x.shape)}, the model needs (K, {n})")
            x = torch.from_numpy(x).to(device)
        else:
            quantile = (
                a.prior_quantile if a.prior_quantile is not None else config.get("kernel_quantile")
            )
            x = method.prior(a.count, n, d, a.sigma_max, device, quantile)
        sigmas = method.schedule(a.steps, a.sigma_min, a.sigma_max, a.rho)
        run = denoiser(
            net,
            config["sigma_data"],
            method.aug_feature(n, d) if dimensions[0] == "range" else None,
        )
        parts = [method.solve(run, part, sigmas, a.solver, a.alpha) for part in x.split(a.batch)]
        samples = torch.cat(parts).cpu().numpy()
        save_npy(a.out, samples)
        nfe = 2 * a.steps - 1 if a.solver == "heun" else a.steps
        print(
            f"sampled {samples.shape[0]} points, D={method.format_aug_dim(d)}, {a.solver} with "
            f"{a.steps} steps: NFE {nfe} → {a.out}",
            file=sys.stderr,
        )
        return 0
    except (rundir.RunError, tensorfile.FormatError, ValueError, OSError) as e:
        print(f"pfgm_torch.sample: {e}", file=sys.stderr)
        return 1


def save_npy(path, array):
    """np.save into a temporary file, renamed over `path`."""
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array, dtype=np.float32))
    tensorfile.write_atomically(path, buffer.getvalue())


if __name__ == "__main__":
    sys.exit(main())
