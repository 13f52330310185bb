"""Which torch device a --device flag means."""

import torch


class DeviceError(ValueError):
    pass


def resolve(name, index=0):
    """auto (CUDA when visible, else the CPU), cpu, or cuda (device `index`, e.g. a process's
    LOCAL_RANK)."""
    if name not in ("auto", "cpu", "cuda"):
        raise DeviceError(f"--device {name}: expected auto, cpu or cuda")
    if name == "cuda" and not torch.cuda.is_available():
        raise DeviceError("--device cuda: no CUDA device is visible")
    if name == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device(f"cuda:{index}")
