"""Train a PFGM++ denoiser in PyTorch and write a pfgm run directory.

    python -m pfgm_torch.train --data fmnist14 --aug-dim 128 --steps 20000 --out runs/f14-D128
    torchrun --nproc_per_node=8 -m pfgm_torch.train --data cifar10.npy --arch unet ... --out DIR

--batch is the global batch: under torchrun each process takes an equal slice of it. Every process
draws the whole batch's data indices and noise from the same seeded stream and keeps its slice, so a
run's result does not depend on the number of processes (up to float summation order). Ctrl-C (or
SIGTERM) stops at the next logged step and saves; --resume DIR continues.
"""

import argparse
import fcntl
import math
import os
import signal
import sys
import time

import numpy as np
import torch
import torch.distributed as dist

from . import data as datasets
from . import devices, method, networks, rundir, tensorfile

stop_requested = False


class Failure(Exception):
    pass


def arguments(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m pfgm_torch.train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--data",
        help="fmnist, fmnist14, fmnist7, or a .npy / IDX file (pfgm data --out writes the "
        "built-ins); "
        "with --resume, where the run's data is now",
    )
    p.add_argument(
        "--aug-dim",
        help="augmented dimension D: a positive number or inf; or a range LO..HI[,inf] for one "
        "network that answers at every D in it",
    )
    p.add_argument("--steps", type=int, required=True, help="train until this step")
    p.add_argument(
        "--batch",
        type=int,
        default=512,
        help="global examples per step, split over the processes (default: %(default)s)",
    )
    p.add_argument(
        "--lr", type=float, default=1e-3, help="Adam learning rate (default: %(default)s)"
    )
    p.add_argument(
        "--warmup",
        type=int,
        default=200,
        help="steps of linear learning-rate warm-up (default: %(default)s)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed for the initial weights, data order and noise (default: %(default)s)",
    )
    p.add_argument("--out", help="run directory to create")
    p.add_argument(
        "--resume", help="continue the run in this directory (written by pfgm or by this trainer)"
    )
    p.add_argument(
        "--arch",
        choices=("mlp", "unet"),
        default="mlp",
        help="MLP-EDM or U-Net (square images) (default: %(default)s)",
    )
    p.add_argument(
        "--width", type=int, help="MLP hidden units (default 256) or U-Net channels (default 32)"
    )
    p.add_argument(
        "--depth",
        type=int,
        help="MLP blocks (default 4) or U-Net blocks per resolution and side (default 2)",
    )
    p.add_argument(
        "--ema-decay",
        type=float,
        default=0.999,
        help="decay of the weights' moving average (default: %(default)s)",
    )
    p.add_argument(
        "--kernel-quantile",
        type=float,
        default=method.DEFAULT_KERNEL_QUANTILE,
        help="draw training radii only up to this quantile of the kernel; 1: the whole kernel "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--no-ema-warmup",
        dest="ema_warmup",
        action="store_false",
        help="a plain EMA instead of the decay ramp min(decay, (1+t)/(10+t))",
    )
    p.add_argument(
        "--ema-halflife-kimg",
        type=float,
        help="EDM's EMA: a half-life of this many thousand training images (official: 500)",
    )
    p.add_argument(
        "--ema-rampup",
        type=float,
        help="with --ema-halflife-kimg: cap the half-life at images seen × this ratio "
        "(default 0.05; 0 for none)",
    )
    p.add_argument(
        "--lr-rampup-kimg",
        type=float,
        help="EDM's learning-rate ramp-up over this many thousand images (official: 10000)",
    )
    p.add_argument(
        "--dropout",
        type=float,
        help="dropout probability in training, in each residual block before its last layer "
        "(official CIFAR-10 recipe: 0.13); sampling never drops",
    )
    p.add_argument(
        "--reference-batch",
        type=int,
        metavar="R",
        help="the stable target field: each row regresses on its posterior mean over R clean "
        "points, the batch's own and R − batch more (R ≥ --batch; 0: off, the default)",
    )
    p.add_argument(
        "--log-every",
        type=int,
        default=50,
        help="steps between stats.jsonl lines (default: %(default)s)",
    )
    p.add_argument(
        "--save-every",
        type=int,
        default=1000,
        help="steps between checkpoints (default: %(default)s)",
    )
    p.add_argument(
        "--device",
        default="auto",
        help="auto, cpu, cuda (each torchrun process takes cuda:LOCAL_RANK) (default: %(default)s)",
    )
    p.add_argument("--threads", type=int, help="CPU threads per process (torch.set_num_threads)")
    a = p.parse_args(argv)
    if a.steps < 1 or a.batch < 1 or a.log_every < 1 or a.save_every < 1:
        p.error("--steps, --batch, --log-every and --save-every must be at least 1")
    if not (a.lr > 0 and math.isfinite(a.lr)):
        p.error("--lr must be a positive number")
    if a.resume is None and (a.data is None or a.aug_dim is None or a.out is None):
        p.error("--data, --aug-dim and --out are required (or --resume DIR)")
    if not 0.5 <= a.kernel_quantile <= 1:
        p.error("--kernel-quantile must be in [0.5, 1]")
    if a.ema_halflife_kimg is not None and not (
        a.ema_halflife_kimg > 0 and math.isfinite(a.ema_halflife_kimg)
    ):
        p.error("--ema-halflife-kimg must be a positive number")
    if a.ema_rampup is not None and (a.ema_halflife_kimg is None or not a.ema_rampup >= 0):
        p.error("--ema-rampup must be a number ≥ 0, with --ema-halflife-kimg")
    if a.dropout is not None and not 0 <= a.dropout < 1:
        p.error("--dropout must be in [0, 1)")
    if a.reference_batch and not a.batch <= a.reference_batch <= 65536:
        p.error("--reference-batch must be 0 (off) or from the batch to 65536")
    if a.lr_rampup_kimg is not None and not (
        a.lr_rampup_kimg >= 0 and math.isfinite(a.lr_rampup_kimg)
    ):
        p.error("--lr-rampup-kimg must be a number ≥ 0")
    if a.resume and a.out and a.out != a.resume:
        p.error("--resume continues in its own directory; drop --out")
    if a.aug_dim is not None:
        try:
            method.parse_dimensions(a.aug_dim)
        except ValueError:
            p.error(
                "--aug-dim must be a positive number, inf, or a range LO..HI[,inf] with 0 < LO < HI"
            )
    return a


class Context:
    """This process's place in the job: rank, world size, device."""

    def __init__(self, requested_device):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.device = devices.resolve(requested_device, int(os.environ.get("LOCAL_RANK", "0")))
        cuda = self.device.type == "cuda"
        if cuda:
            torch.cuda.set_device(self.device)
        if self.world > 1:
            dist.init_process_group("nccl" if cuda else "gloo")

    @property
    def main(self):
        return self.rank == 0

    def log(self, text):
        if self.main:
            print(text, file=sys.stderr, flush=True)

    def reduce(self, values):
        """Sum over processes of a small float64 vector (and max of its last entry: the stop
        flag)."""
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        if self.world > 1:
            flag = t[-1:].clone()
            dist.all_reduce(t)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            t[-1] = flag[0]
        return t.tolist()

    def barrier(self):
        if self.world > 1:
            dist.barrier()

    def close(self):
        if self.world > 1:
            dist.destroy_process_group()


class TrainingState:
    """Network, Adam, EMA and counters: what optimizer.safetensors holds."""

    def __init__(self, config, device):
        self.config = config
        self.model = networks.build(config).to(device)
        self.layout = self.model.layout()
        self.optimizer = torch.optim.Adam(
            self.model.parameters(), lr=config["learning_rate"], betas=(0.9, 0.999), eps=1e-8
        )
        self.ema = {n: p.detach().clone() for n, p in self.model.named_parameters()}
        self.step = self.adam_step = self.ema_updates = 0

    def adam_moments(self):
        params = dict(self.model.named_parameters())
        out = {}
        for n in self.layout:
            state = self.optimizer.state.get(params[n], {})
            zero = torch.zeros_like(params[n])
            out[n] = (state.get("exp_avg", zero), state.get("exp_avg_sq", zero))
        return out

    def resume(self, run):
        """From the run's optimizer file, or, without one, from the checkpoint's EMA weights with
        fresh Adam moments."""
        path = run.file("optimizer.safetensors")
        if os.path.exists(path):
            return self.restore(path)
        tensors, meta = tensorfile.read(run.file("checkpoint.safetensors"))
        try:
            self.step = int(meta["step"])
        except (KeyError, ValueError):
            raise Failure(
                f"{run.file('checkpoint.safetensors')}: metadata has no step, and there is no "
                f"optimizer file"
            ) from None
        rundir.load_tensors(self.model, tensors, run.file("checkpoint.safetensors"))
        self.ema = {n: p.detach().clone() for n, p in self.model.named_parameters()}
        self.ema_updates = self.step

    def restore(self, path):
        """From an optimizer.safetensors written by pfgm or by this trainer."""
        tensors, meta = tensorfile.read(path)
        try:
            self.step, self.adam_step, self.ema_updates = (
                int(meta[k]) for k in ("step", "adam_step", "ema_updates")
            )
        except (KeyError, ValueError):
            raise Failure(
                f"{path}: optimizer state is incomplete (needs step, adam_step and ema_updates)"
            ) from None
        if "layout" in meta and meta["layout"] != ",".join(self.layout):
            raise Failure(
                f"{path}: the parameter order differs from this model's, so the Adam moments "
                f"cannot be matched"
            )
        group = lambda prefix: {
            k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)
        }
        rundir.load_tensors(self.model, group("params."), path)
        ema = networks.build(self.config)
        rundir.load_tensors(ema, group("ema."), path)
        device = next(self.model.parameters()).device
        self.ema = {n: p.detach().to(device) for n, p in ema.named_parameters()}
        params = dict(self.model.named_parameters())
        total = sum(params[n].numel() for n in self.layout)
        m, v = tensors.get("adam.m"), tensors.get("adam.v")
        if m is None or v is None or m.size != total or v.size != total:
            raise Failure(f"{path}: adam.m and adam.v must hold {total} values each")
        offset = 0
        for n in self.layout:
            p = params[n]
            piece = lambda flat: (
                torch.from_numpy(np.ascontiguousarray(flat[offset : offset + p.numel()]))
                .reshape(p.shape)
                .to(device)
            )
            self.optimizer.state[p] = {
                "step": torch.tensor(float(self.adam_step)),
                "exp_avg": piece(m),
                "exp_avg_sq": piece(v),
            }
            offset += p.numel()

    def update_ema(self):
        self.ema_updates += 1
        d = ema_decay(self.config, self.ema_updates)
        names = list(self.ema)
        with torch.no_grad():
            params = dict(self.model.named_parameters())
            torch._foreach_mul_([self.ema[n] for n in names], d)
            torch._foreach_add_(
                [self.ema[n] for n in names], [params[n].detach() for n in names], alpha=1 - d
            )


def lock(run):
    """pfgm's run lock (an flock on DIR/.lock): no two programs write one run."""
    path = run.file(".lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.pread(fd, 31, 0).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise Failure(f"{path}: in use by another process (pid {holder}); close it first") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def prepare(a, ctx):
    """Config, data and state for a new or resumed run (every process); the main process takes the
    lock and writes the config."""
    run = rundir.RunDirectory(a.resume or a.out)
    if a.resume and not run.exists:
        raise Failure(f"{a.resume}: no run here (config.json is missing)")
    if not a.resume and run.exists:
        raise Failure(
            f"{a.out} already holds a run; continue it with --resume {a.out} or choose another "
            f"--out"
        )
    config = run.read_config() if a.resume else None
    if config is not None:
        try:
            # With --resume, --data says where the run's data is now.
            config["data"] = run.data_spec(config, a.data)
        except rundir.RunError as e:
            raise Failure(str(e)) from None
    dataset = datasets.load(a.data or config["data"])
    if config is None:
        width = a.width or (256 if a.arch == "mlp" else 32)
        depth = a.depth if a.depth is not None else (4 if a.arch == "mlp" else 2)
        config = rundir.new_config(
            a.data,
            dataset.dim,
            a.aug_dim,
            dataset.sigma_data,
            a.steps,
            architecture="mlp-edm" if a.arch == "mlp" else "unet",
            width=width,
            depth=depth,
            channels=dataset.channels,
            batch=a.batch,
            learning_rate=a.lr,
            warmup_steps=a.warmup,
            ema_decay=a.ema_decay,
            ema_warmup=a.ema_warmup,
            ema_halflife_kimg=a.ema_halflife_kimg,
            ema_rampup=None
            if a.ema_halflife_kimg is None or a.ema_rampup == 0
            else (0.05 if a.ema_rampup is None else a.ema_rampup),
            lr_rampup_kimg=a.lr_rampup_kimg,
            dropout=a.dropout or None,
            reference_batch=a.reference_batch or None,
            kernel_quantile=a.kernel_quantile,
            infinity_share=method.INFINITY_SHARE
            if ",inf" in method.format_dimensions(a.aug_dim)
            else None,
            seed=a.seed,
        )
    if dataset.dim != config["dim"]:
        raise Failure(
            f"{config['data']}: {dataset.dim} coordinates, the run's model has {config['dim']}"
        )
    if config["batch"] % ctx.world:
        raise Failure(f"batch {config['batch']} does not split evenly over {ctx.world} processes")
    torch.manual_seed(config["seed"])
    state = TrainingState(config, ctx.device)
    if a.resume:
        state.resume(run)
        if a.steps <= state.step:
            raise Failure(f"--steps {a.steps}: the run is already at step {state.step}")
        config["steps"] = a.steps
    ctx.barrier()  # every process has checked the folder before the main one writes to it
    held = None
    if ctx.main:
        os.makedirs(run.path, exist_ok=True)
        held = lock(run)
        run.write_config(config)
        run.trim_stats(state.step)
    return run, config, dataset, state, held


def training_stream_seed(seed, step):
    """Seed of the data and noise draws from `step` on: equal in every process."""
    return (seed * 0x9E3779B97F4A7C15 + step * 0xD1B54A32D192ED03 + 1) % (1 << 63)


class Batches:
    """This process's slice of each global batch: data, noise levels and perturbations drawn in full
    by every process from the same stream, so the draws do not depend on the number of processes."""

    def __init__(self, data, config, ctx):
        self.data, self.config, self.device = data, config, ctx.device
        self.dimensions = method.parse_dimensions(config["aug_dim"])
        kind, value = self.dimensions
        quantile = config.get("kernel_quantile")
        self.table = (
            method.TruncationTable(quantile, config["dim"], value)
            if kind == "range" and quantile is not None and quantile < 1
            else None
        )
        batch = config["batch"]
        self.slice = slice(ctx.rank * batch // ctx.world, (ctx.rank + 1) * batch // ctx.world)

    def draw(self):
        """(target, x = y + perturbation, σ, c_aug or None) of this process's slice; over a range
        of D, a D per row. The target is y, or with a reference batch its stable target."""
        c, part = self.config, self.slice
        rows = c.get("reference_batch") or c["batch"]
        index = torch.randint(self.data.shape[0], (rows,), device=self.device)
        sigma = method.noise_levels(c["batch"], c["p_mean"], c["p_std"], device=self.device)
        kind, value = self.dimensions
        c_aug = None
        if kind == "one":
            noise = method.perturbation(
                c["batch"], c["dim"], value, sigma, c.get("kernel_quantile")
            )
            d = torch.full_like(sigma, value, dtype=torch.float64)
        else:
            d = method.draw_dimensions(
                c["batch"],
                value,
                self.device,
                c.get("infinity_share", method.INFINITY_SHARE),
                c.get("feature_share") or 0.0,
                c["dim"],
            )
            sigma = method.shift_noise_levels(sigma, d, c["dim"], c.get("p_mean_shift") or 0.0)
            limits = self.table(d) if self.table is not None else torch.full_like(d, math.inf)
            noise = method.perturbation_per_row(c["batch"], c["dim"], d, sigma, limits)
            c_aug = method.aug_features(c["dim"], d)[part]
        if not c.get("reference_batch"):
            y = self.data[index[part]]
            return y, y + noise[part], sigma[part], c_aug
        reference = self.data[index]
        x = reference[: c["batch"]] + noise
        target = method.stable_target(x, sigma, d, reference)
        return target[part], x[part], sigma[part], c_aug


def ema_decay(config, t):
    """β of EMA update t (1 for the first): EDM's half-life in images, capped at images seen before
    the update × the ramp-up ratio, when the config has one; else min(decay, (1+t)/(10+t)) or the
    plain decay."""
    halflife = config.get("ema_halflife_kimg")
    if halflife is not None:
        images = halflife * 1000
        rampup = config.get("ema_rampup")
        if rampup is not None:
            images = min(images, (t - 1) * config["batch"] * rampup)
        return 0.5 ** (config["batch"] / max(images, 1e-8))
    decay = config["ema_decay"]
    return min(decay, (1 + t) / (10 + t)) if config.get("ema_warmup", True) else decay


def learning_rate(config, done):
    """The rate of the step after `done` steps: EDM's ramp over lr_rampup_kimg thousand images
    (0 at the first step), else the linear warm-up over warmup_steps."""
    rampup = config.get("lr_rampup_kimg")
    if rampup is not None:
        return config["learning_rate"] * min(done * config["batch"] / max(rampup * 1000, 1e-8), 1)
    return config["learning_rate"] * min(1.0, (done + 1) / max(config["warmup_steps"], 1))


def step(state, ddp, preconditioning, batches):
    """One training step: loss, backward, Adam at the warm-up learning rate, EMA. Returns the loss
    tensor."""
    c = state.config
    y, x, sigma, c_aug = batches.draw()
    loss = method.loss(ddp, preconditioning, y, x, sigma, c_aug)
    for group in state.optimizer.param_groups:
        group["lr"] = learning_rate(c, state.step)
    state.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    state.optimizer.step()
    state.adam_step += 1
    state.update_ema()
    state.step += 1
    return loss.detach()


class Window:
    """The losses since the last stats line, summed on the device (one host sync per logged
    step)."""

    def __init__(self, ctx, total_steps):
        self.ctx, self.total_steps = ctx, total_steps
        self.start = self.began = time.time()
        self.loss = torch.zeros((), dtype=torch.float64, device=ctx.device)
        self.steps = 0

    def add(self, loss):
        self.loss += loss
        self.steps += 1

    def close(self, run, step):
        """Logs the window's mean loss over every process; returns whether any process was asked to
        stop."""
        total, stop = self.ctx.reduce([self.loss.item(), 1.0 if stop_requested else 0.0])
        mean = total / self.ctx.world / self.steps
        now = time.time()
        rate = self.steps / max(now - self.began, 1e-9)
        if not math.isfinite(mean):
            raise Failure(
                f"training diverged by step {step} (loss {mean}); the last saved checkpoint is "
                f"kept; try a smaller --lr"
            )
        if self.ctx.main:
            run.append_stats(
                {"step": step, "loss": mean, "steps_per_s": rate, "elapsed_s": now - self.start}
            )
            eta = (self.total_steps - step) / rate
            self.ctx.log(
                f"step {step}/{self.total_steps}  loss {mean:.4f}  {rate:.1f} steps/s  ETA "
                f"{eta:.0f}s"
            )
        self.loss.zero_()
        self.steps, self.began = 0, now
        return bool(stop)


def train(a, ctx):
    run, config, dataset, state, held = prepare(a, ctx)
    ddp = torch.nn.parallel.DistributedDataParallel(state.model) if ctx.world > 1 else state.model
    batches = Batches(torch.from_numpy(dataset.train).to(ctx.device), config, ctx)
    preconditioning = method.Preconditioning(config["sigma_data"])
    share = batches.slice.stop - batches.slice.start
    ctx.log(
        f"training D={config['aug_dim']} on {config['data']} (N={config['dim']}, "
        f"σ_d={config['sigma_data']:.3f}) with "
        f"{config['architecture']} W={config['width']} L={config['depth']}, "
        f"{sum(p.numel() for p in state.model.parameters())} parameters, {ctx.world} process(es) "
        f"on "
        f"{ctx.device.type}, batch {config['batch']} ({share} per process) → {run.path}"
    )
    torch.manual_seed(training_stream_seed(config["seed"], state.step))
    window = Window(ctx, a.steps)
    while state.step < a.steps:
        window.add(step(state, ddp, preconditioning, batches))
        if (state.step % a.log_every == 0 or state.step == a.steps) and window.close(
            run, state.step
        ):
            save(run, state, ctx)
            launcher = f"torchrun --nproc_per_node={ctx.world} -m" if ctx.world > 1 else "python -m"
            raise Failure(
                f"stopped at step {state.step}; saved. Continue with: "
                f"{launcher} pfgm_torch.train --resume {run.path} --steps {a.steps}"
            )
        if state.step % a.save_every == 0 and state.step < a.steps:
            save(run, state, ctx)
    save(run, state, ctx)
    ctx.log(
        f"done: {state.step} steps in {time.time() - window.start:.1f} s; checkpoint "
        f"{run.file('checkpoint.safetensors')}"
    )
    if held is not None:
        os.close(held)


def save(run, state, ctx):
    if ctx.main:
        run.save(state)
    ctx.barrier()


def request_stop(signum, frame):
    global stop_requested
    stop_requested = True


def main(argv=None):
    a = arguments(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, request_stop)
    ctx = None
    try:
        ctx = Context(a.device)
        train(a, ctx)
        return 0
    except (
        Failure,
        datasets.DataError,
        devices.DeviceError,
        rundir.RunError,
        tensorfile.FormatError,
        ValueError,
    ) as e:
        if ctx is None or ctx.main:
            print(f"pfgm_torch.train: {e}", file=sys.stderr)
        return 1
    finally:
        if ctx is not None:
            ctx.close()


if __name__ == "__main__":
    sys.exit(main())
