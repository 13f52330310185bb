"""pfgm's run directory:
    config.json              the training config (snake_case keys)
    checkpoint.safetensors   EMA weights; metadata step, aug_dim, sigma_data, architecture
    optimizer.safetensors    params.*, ema.*, adam.m, adam.v (flat, in the order `layout` names);
                             metadata step, adam_step, ema_updates, layout
    stats.jsonl              one JSON object per logged step: step, loss, steps_per_s, elapsed_s
Every file is replaced atomically; the optimizer file is written before the checkpoint."""

import json
import os

import numpy as np
import torch

from . import data, networks, tensorfile
from .method import format_dimensions, parse_dimensions

CONFIG_DEFAULTS = {
    "architecture": "mlp-edm",
    "width": 256,
    "depth": 4,
    "embedding_channels": 128,
    "batch": 512,
    "learning_rate": 1e-3,
    "warmup_steps": 200,
    "ema_decay": 0.999,
    "p_mean": -1.2,
    "p_std": 1.2,
    "seed": 0,
}
REQUIRED = ("data", "dim", "aug_dim", "sigma_data", "steps")


class RunError(ValueError):
    pass


class RunDirectory:
    def __init__(self, path):
        self.path = path

    def file(self, name):
        return os.path.join(self.path, name)

    @property
    def exists(self):
        return os.path.exists(self.file("config.json"))

    def read_config(self):
        path = self.file("config.json")
        try:
            with open(path) as f:
                config = json.load(f)
        except OSError as e:
            raise RunError(f"{path}: cannot read ({e.strerror})") from None
        except ValueError:
            raise RunError(f"{path}: not valid JSON") from None
        missing = [k for k in REQUIRED if k not in config]
        if missing:
            raise RunError(f"{path}: not a valid run config (missing '{missing[0]}')")
        try:
            parse_dimensions(config["aug_dim"])
        except ValueError:
            raise RunError(
                f"{path}: aug_dim '{config['aug_dim']}' is not a positive number, inf, or a range "
                f"LO..HI[,inf]"
            ) from None
        return {**CONFIG_DEFAULTS, **config}

    def write_config(self, config):
        """Writes config.json with a data file recorded twice, as pfgm does: its absolute path, and
        its path from the run folder (`data_from_run`), so that the run finds its data from any
        folder."""
        os.makedirs(self.path, exist_ok=True)
        config = dict(config)
        if is_data_file(config["data"]):
            config["data"] = os.path.normpath(os.path.abspath(config["data"]))
            config["data_from_run"] = os.path.relpath(config["data"], os.path.abspath(self.path))
        text = json.dumps(config, indent=2, sort_keys=True) + "\n"
        tensorfile.write_atomically(self.file("config.json"), text.encode())

    def data_spec(self, config, override=None):
        """The run's data: `override` (--data), a built-in name, or the first recorded place of its
        file that exists."""
        if override:
            return override
        if not is_data_file(config["data"]):
            return config["data"]
        places = [config["data"]]
        if config.get("data_from_run"):
            places.append(os.path.join(os.path.abspath(self.path), config["data_from_run"]))
        for place in places:
            if os.path.exists(place):
                return place
        also = f" nor at {os.path.normpath(places[1])}" if len(places) > 1 else ""
        raise RunError(
            f"{config['data']}: the data of the run in {self.path} is not there{also}; "
            "when it has moved, point at it with --data PATH"
        )

    def load_model(self, device="cpu"):
        """The EMA network of the checkpoint, its config and the checkpoint's metadata."""
        config = self.read_config()
        net = networks.build(config)
        tensors, metadata = tensorfile.read(self.file("checkpoint.safetensors"))
        load_tensors(net, tensors, self.file("checkpoint.safetensors"))
        return net.to(device).eval(), config, metadata

    def save(self, state):
        """Writes the optimizer file, then the checkpoint, from a TrainingState."""
        if not all(torch.isfinite(p).all() for p in state.ema.values()):
            raise RunError(
                f"{self.path}: weights at step {state.step} are NaN or infinite; the last saved "
                f"checkpoint is kept"
            )
        layout = state.layout
        params = dict(state.model.named_parameters())
        tensors = {f"params.{n}": to_numpy(params[n]) for n in layout}
        tensors.update({f"ema.{n}": to_numpy(state.ema[n]) for n in layout})
        moments = state.adam_moments()
        tensors["adam.m"] = np.concatenate([to_numpy(moments[n][0]).ravel() for n in layout])
        tensors["adam.v"] = np.concatenate([to_numpy(moments[n][1]).ravel() for n in layout])
        tensorfile.write(
            self.file("optimizer.safetensors"),
            tensors,
            {
                "step": state.step,
                "adam_step": state.adam_step,
                "ema_updates": state.ema_updates,
                "layout": ",".join(layout),
            },
        )
        config = state.config
        tensorfile.write(
            self.file("checkpoint.safetensors"),
            {n: to_numpy(state.ema[n]) for n in layout},
            {
                "step": state.step,
                "aug_dim": config["aug_dim"],
                "sigma_data": repr(float(config["sigma_data"])),
                "architecture": config["architecture"],
            },
        )

    def append_stats(self, fields):
        line = json.dumps(fields) + "\n"
        with open(self.file("stats.jsonl"), "a") as f:
            f.write(line)

    def trim_stats(self, step):
        """Keeps the stats lines with step ≤ `step` (and drops a torn last line)."""
        path = self.file("stats.jsonl")
        if not os.path.exists(path):
            return
        kept = []
        with open(path) as f:
            for line in f:
                try:
                    if json.loads(line)["step"] <= step:
                        kept.append(line if line.endswith("\n") else line + "\n")
                except (ValueError, KeyError, TypeError):
                    pass
        tensorfile.write_atomically(path, "".join(kept).encode())


def to_numpy(t):
    return t.detach().float().cpu().numpy()


def load_tensors(net, tensors, path):
    """Copies named tensors into the network; every parameter exactly once, shapes equal."""
    params = dict(net.named_parameters())
    for name, p in params.items():
        if name not in tensors:
            raise RunError(f"{path}: tensor '{name}' is missing")
        if list(tensors[name].shape) != list(p.shape):
            raise RunError(
                f"{path}: tensor '{name}' has shape {list(tensors[name].shape)}, the model needs "
                f"{list(p.shape)}"
            )
    extra = sorted(set(tensors) - set(params))
    if extra:
        raise RunError(f"{path}: tensor '{extra[0]}' is not part of this model")
    with torch.no_grad():
        for name, p in params.items():
            p.copy_(torch.from_numpy(np.ascontiguousarray(tensors[name])))
    if not all(torch.isfinite(p).all() for p in params.values()):
        raise RunError(f"{path}: weights contain NaN or infinite values")


def is_data_file(spec):
    return spec not in data.FASHION_MNIST and spec not in data.GENERATED


def new_config(data, dim, aug_dim, sigma_data, steps, **settings):
    config = {**CONFIG_DEFAULTS, **{k: v for k, v in settings.items() if v is not None}}
    config.update(
        data=data,
        dim=int(dim),
        aug_dim=format_dimensions(aug_dim),
        sigma_data=float(sigma_data),
        steps=int(steps),
    )
    return config
