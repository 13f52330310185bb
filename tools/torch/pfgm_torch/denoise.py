"""Evaluate a run's denoiser D_θ(x, σ) on given points in PyTorch (the counterpart of `pfgm
denoise`).

python -m pfgm_torch.denoise --ckpt DIR --input x.npy --sigma 0.5 --out d.npy
"""

import argparse
import sys

import numpy as np
import torch

from . import devices, method, rundir, tensorfile
from .sample import save_npy


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m pfgm_torch.denoise", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--ckpt", required=True, help="run directory")
    p.add_argument("--input", required=True, help="noisy points (.npy, K rows of N values)")
    p.add_argument("--sigma", type=float, required=True, help="noise level of every row")
    p.add_argument(
        "--aug-dim", help="D to answer at (the run's own; any D of a one-network run's range)"
    )
    p.add_argument("--device", default="cpu", help="auto, cpu or cuda (default: cpu)")
    p.add_argument("--out", required=True, help="output .npy (K, N)")
    a = p.parse_args(argv)
    if not a.sigma > 0:
        p.error("--sigma must be a positive number")
    try:
        device = devices.resolve(a.device)
        net, config, _ = rundir.RunDirectory(a.ckpt).load_model(device)
        x = np.load(a.input, allow_pickle=False).astype(np.float32)
        x = x.reshape(x.shape[0], -1) if x.ndim >= 2 else x
        if x.ndim != 2 or x.shape[1] != config["dim"]:
            raise ValueError(
                f"{a.input}: shape {list(x.shape)} is not K rows of the model's {config['dim']} "
                f"coordinates"
            )
        with torch.no_grad():
            xs = torch.from_numpy(x).to(device)
            sigma = torch.full((xs.shape[0],), float(np.float32(a.sigma)), device=device)
            dimensions = method.parse_dimensions(config["aug_dim"])
            d = method.resolve_dimension(dimensions, a.aug_dim, a.ckpt)
            c_aug = (
                torch.full((xs.shape[0],), method.aug_feature(config["dim"], d), device=device)
                if dimensions[0] == "range"
                else None
            )
            out = method.Preconditioning(config["sigma_data"]).denoise(net, xs, sigma, c_aug)
        save_npy(a.out, out.cpu().numpy())
        return 0
    except (rundir.RunError, tensorfile.FormatError, ValueError, OSError) as e:
        print(f"pfgm_torch.denoise: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
